//! The generated files the repository ships — each shell's completion script in
//! `completions/`, the manual in `man/integ.1` — are what `integ` generates now, and the
//! manual renders without warnings. `INTEG_UPDATE_GENERATED=1` writes them afresh instead.

use std::path::Path;

use crate::support::Test;

fn regenerated(file: &str, args: &[&str]) {
    let out = Test::new().run(args);
    out.success();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    if std::env::var_os("INTEG_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
        return;
    }
    let committed =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    assert!(
        committed == out.stdout,
        "`{file}` is stale: regenerate it with `INTEG_UPDATE_GENERATED=1 cargo nextest run generated`"
    );
}

#[test]
fn the_completion_scripts_are_what_integ_generates() {
    for (shell, file) in [
        ("bash", "completions/integ.bash"),
        ("zsh", "completions/_integ"),
        ("fish", "completions/integ.fish"),
        ("elvish", "completions/integ.elv"),
        ("powershell", "completions/_integ.ps1"),
    ] {
        regenerated(file, &["completions", shell]);
    }
    let bash = Test::new().run(&["completions", "bash"]);
    for command in [
        "run",
        "schedule",
        "link",
        "serve-hook",
        "completions",
        "man",
        "init",
        "prune",
    ] {
        // The subcommand's own case, not a word that happens to be in the script.
        let case = format!("integ,{command})");
        assert!(bash.stdout.contains(&case), "bash completes `{command}`");
    }
    Test::new()
        .run(&["completions", "tcsh"])
        .code(2)
        .stderr_has("invalid value 'tcsh'");
}

#[test]
fn the_manual_is_what_integ_generates_and_renders_without_warnings() {
    regenerated("man/integ.1", &["man"]);
    let page = Test::new().run(&["man"]);
    for section in [
        ".SH \"EXIT STATUS\"",
        ".SH \"ENVIRONMENT\"",
        ".SH \"FILES\"",
        ".SH \"EXAMPLES\"",
    ] {
        assert!(page.stdout.contains(section), "no {section}");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/integ.1");
    let rendered = std::process::Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&path)
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .expect("man runs (Debian: apt-get install man-db)");
    assert!(rendered.status.success());
    assert_eq!(String::from_utf8_lossy(&rendered.stderr), "", "man warns");
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        text.contains("75") && text.contains("skipped: another run"),
        "{text}"
    );
}

/// `--help` of integ and of each command, as a person (or cron's author) reads it.
#[test]
fn help_texts_stay_as_reviewed() {
    let test = Test::new().env("COLUMNS", "100");
    let top = test.run(&["--help"]);
    top.success();
    insta::assert_snapshot!("help", top.stdout);
    for command in [
        "run",
        "list",
        "check",
        "history",
        "logs",
        "output",
        "serve-hook",
        "retry",
        "prune",
        "link",
        "schedule",
        "completions",
        "man",
        "init",
    ] {
        let out = test.run(&[command, "--help"]);
        out.success();
        insta::assert_snapshot!(format!("help-{command}"), out.stdout);
    }
    // What cron users read: how a run ends.
    let run = test.run(&["run", "--help"]);
    run.stdout_has("Exit codes:")
        .stdout_has("75  skipped: another run of the integration holds its lock");
}

#[test]
fn init_writes_a_starter_that_passes_check_and_never_overwrites() {
    let test = Test::new();
    let out = test.run(&["init", "project"]);
    out.success();
    let written = test.read("project/integrations.toml");
    let config = ["--config", "project/integrations.toml"];
    test.run(&[&config[..], &["check"]].concat()).success();
    test.run(&[&config[..], &["run", "hello", "-p", "name=Ada"]].concat())
        .success()
        .stdout_is("Hello, Ada!\n");
    // Uncommented, the examples pass `check` too.
    let uncommented: String = written
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.starts_with(['[', ' ']) || rest.contains(" = ") => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        uncommented.contains("[integration.report.link]"),
        "{uncommented}"
    );
    let full = Test::new()
        .config(&uncommented)
        .env("CRM_API_KEY", "k")
        .env("CRM_HOOK_TOKEN", "t")
        .write("link.key", "l\n");
    let checked = full.run(&["check"]);
    assert_eq!(checked.code, 0, "{}\n{uncommented}", checked.stderr);
    // Never over a file that exists.
    let again = test.run(&["init", "project"]);
    again
        .code(2)
        .stderr_has("exists already: integ init never overwrites a file");
    assert_eq!(test.read("project/integrations.toml"), written);
}
