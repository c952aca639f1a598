//! The `integ` binary: everything lives in the library so tests can reach it.

fn main() -> std::process::ExitCode {
    integ::run(std::env::args_os()).into()
}
