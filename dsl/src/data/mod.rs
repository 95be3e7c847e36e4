//! Market data: the AVE Cloud client, the SQLite kline cache, the demo feed, timeframes and file
//! I/O. Scripts reach it through [`service::DataService`] (see `script/data_api.rs`).
//!
//! - `ids`: `<address>-<chain>` and `demo:<NAME>` ids.
//! - `client` + `wire`: HTTP to AVE (auth, rate limit, retries) and tolerant parsing.
//! - `cache`: klines and fetched-range coverage in SQLite.
//! - `service`: routing, paging, cache-first fetching, offline mode; prices, search, chains.
//! - `demo`: the deterministic synthetic feed (also feeds the mock AVE server).
//! - `resample`: buckets, `Bars::resample`, higher-timeframe alignment without look-ahead.
//! - `files`: CSV and Parquet through polars.
//! - `render`: how `Bars` displays.

pub mod cache;
pub mod client;
pub mod config;
pub mod demo;
pub mod files;
pub mod ids;
pub mod market;
pub mod render;
pub mod resample;
pub mod service;
pub mod wire;

pub use config::{ClientOptions, Config};
pub use ids::Kind;
pub use service::{DataService, Hooks, KlineQuery};
