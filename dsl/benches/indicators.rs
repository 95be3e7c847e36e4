//! Benchmark (rerun with `cargo bench -p stratbook-dsl --bench indicators`).
fn main() {}
