//! SVG charts with plotters.
