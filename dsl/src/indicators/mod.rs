//! Indicators computed in Rust over whole series.
