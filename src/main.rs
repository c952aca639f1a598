//! The `integ` binary: everything lives in the library so tests can reach it.

// Loading a large integrations file is allocation-heavy (TOML values, template checks);
// mimalloc does it markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    integ::run(std::env::args_os()).into()
}
