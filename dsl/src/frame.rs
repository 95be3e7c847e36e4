//! `Frame`: a table of named columns (trades, sweeps), backed by polars.
