//! The `stratbook` command: see the library for the subcommands.

fn main() -> std::process::ExitCode {
    stratbook::main()
}
