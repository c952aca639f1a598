//! The sample file and the README's TOML stay valid.

use crate::support::Test;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_root_sample_passes_check_and_runs_offline() {
    let test = Test::new().config(&repo_file("integrations.toml"));
    test.run(&["check"]).success();
    test.run(&["run", "hello"])
        .success()
        .stdout_is("Hello, world!\n");
    test.run(&[
        "run",
        "monthly-report",
        "-p",
        "from=2026-10-01",
        "-p",
        "to=2026-10-31",
    ])
    .success()
    .stdout_has("2026-10-01 to 2026-10-31");
}

#[test]
fn every_toml_block_in_the_readme_passes_check() {
    let readme = repo_file("README.md");
    let mut blocks = 0;
    for block in readme.split("```toml\n").skip(1) {
        let toml = block.split("```").next().unwrap();
        let test = Test::new()
            .config(toml)
            .env("CRM_API_KEY", "test-key")
            .write("accounting.key", "test-key\n");
        let out = test.run(&["check"]);
        assert_eq!(
            out.code, 0,
            "README block does not pass check:\n{toml}\n{}",
            out.stderr
        );
        blocks += 1;
    }
    assert!(blocks > 0, "the README has TOML examples");
}
