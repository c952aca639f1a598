//! Link-time settings for the `integ` binary.

fn main() {
    // Only this file decides what it prints: without this line cargo runs it again (and links
    // integ again) after a change to any file of the package, the README included.
    println!("cargo:rerun-if-changed=build.rs");
    // A position-independent executable is relocated at every start: with `integ`'s 24,000
    // relative relocations, reading their table alone costs ~140 page faults per run (in a VM,
    // a noticeable share of a cron run's few milliseconds). Packed (RELR) they take a few
    // kilobytes. GNU ld ≥ 2.38 and lld know the option; older linkers warn and go on.
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
