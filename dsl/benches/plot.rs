//! Benchmark (rerun with `cargo bench -p stratbook-dsl --bench plot`).
fn main() {}
