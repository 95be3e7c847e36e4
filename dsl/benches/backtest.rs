//! Benchmark (rerun with `cargo bench -p stratbook-dsl --bench backtest`).
fn main() {}
