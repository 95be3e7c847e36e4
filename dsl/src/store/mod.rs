//! The SQLite store: backtest runs and signals.
