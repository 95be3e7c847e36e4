//! Market data: the AVE Cloud client, the SQLite cache, the demo feed and frame I/O.

pub mod config;
