//! The `stratbook` command: see the library for the subcommands.

fn main() -> std::process::ExitCode {
    // Before anything else: evcxr re-runs this binary as its child process and rustc wrapper.
    stratbook::rust_cells::runtime_hook();
    stratbook::main()
}
