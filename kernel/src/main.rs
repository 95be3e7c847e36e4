//! The `stratbook` command: see the library for the subcommands.

/// Counts the bytes the process holds, so a cell can be stopped when it passes the memory budget
/// (`dsl::memory`); the limit stays at the maximum, the budget is checked between operations.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

fn main() -> std::process::ExitCode {
    // Before anything else: evcxr re-runs this binary as its child process and rustc wrapper.
    stratbook::rust_cells::runtime_hook();
    dsl::memory::set_probe(|| ALLOCATOR.allocated());
    stratbook::main()
}
