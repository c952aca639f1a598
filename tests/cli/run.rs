//! `integ run`: command steps, output, exit codes, timeouts, signals, secrets.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{Test, finish, wait_until_gone};

const HELLO: &str = r#"
[integration.hello]
description = "Greet someone"
params.name = { type = "string", default = "world" }

[[integration.hello.steps]]
command.argv = ["echo", "Hello, {{ params.name }}!"]
"#;

#[test]
fn runs_the_sample_with_defaults_and_params() {
    let test = Test::new().config(HELLO);
    test.run(&["run", "hello"])
        .success()
        .stdout_is("Hello, world!\n");
    test.run(&["run", "hello", "-p", "name=Ada"])
        .success()
        .stdout_is("Hello, Ada!\n");
    let history = test.history();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["status"], "succeeded");
    assert_eq!(history[0]["params"]["name"], "Ada");
    assert_eq!(history[0]["trigger"], "manual");
}

#[test]
fn argv_elements_are_never_split_by_a_shell() {
    let test = Test::new().config(
        r#"
[integration.quote]
params.text = { type = "string" }
[[integration.quote.steps]]
command.argv = ["printf", "[%s]\n", "{{ params.text }}"]
"#,
    );
    test.run(&["run", "quote", "-p", "text=a b; echo injected $(id)"])
        .success()
        .stdout_is("[a b; echo injected $(id)]\n");
}

#[test]
fn shell_scripts_get_params_as_environment_variables() {
    let test = Test::new().config(
        r#"
[integration.sh]
params.from-date = { type = "date", default = "2026-10-01" }
params.ids = { type = "list", default = ["1", "2"] }
[[integration.sh.steps]]
command.shell = 'echo "$PARAM_FROM_DATE $PARAM_IDS"'
"#,
    );
    // A param name with `-` is not a template identifier, so it is refused; check that first.
    let out = test.run(&["check"]);
    out.code(2).stderr_has("invalid param name `from-date`");

    let test = Test::new().config(
        r#"
[integration.sh]
params.from_date = { type = "date", default = "2026-10-01" }
params.ids = { type = "list", default = ["1", "2"] }
[[integration.sh.steps]]
command.shell = 'echo "$PARAM_FROM_DATE $PARAM_IDS"'
"#,
    );
    test.run(&["run", "sh", "-p", "ids=7,8", "-p", "ids=9"])
        .success()
        .stdout_is("2026-10-01 7,8,9\n");
}

#[test]
fn env_stdin_and_dir_reach_the_command() {
    let test = Test::new()
        .write("work/marker.txt", "here\n")
        .config(
            r#"
[integration.io]
params.who = { type = "string", default = "Ada" }
[[integration.io.steps]]
command = { argv = ["sh", "-c", "cat marker.txt; echo $GREETING; cat"], dir = "work", env = { GREETING = "hi {{ params.who }}" }, stdin = "from stdin {{ params.who }}\n" }
"#,
        );
    test.run(&["run", "io"])
        .success()
        .stdout_is("here\nhi Ada\nfrom stdin Ada\n");
}

#[test]
fn json_stdout_feeds_later_steps_with_types_kept() {
    let test = Test::new().config(
        r#"
[integration.chain]
[[integration.chain.steps]]
id = "data"
command.argv = ["echo", '{"total": 41, "customer": {"name": "ACME"}}']
command.stdout = "json"

[[integration.chain.steps]]
id = "sum"
command.argv = ["echo", "{{ steps.data.stdout.customer.name }} owes {{ steps.data.stdout.total + 1 }}"]

[[integration.chain.steps]]
command.argv = ["echo", "{{ steps.sum.stdout | trim | upper }} (exit {{ steps.sum.exit_code }})"]
"#,
    );
    // The JSON step is data, not output: only the two text steps print.
    test.run(&["run", "chain"])
        .success()
        .stdout_is("ACME owes 42\nACME OWES 42 (exit 0)\n");
}

#[test]
fn invalid_json_on_a_json_step_fails_clearly() {
    let test = Test::new().config(
        r#"
[integration.bad]
[[integration.bad.steps]]
id = "data"
command.argv = ["echo", "not json"]
command.stdout = "json"
"#,
    );
    test.run(&["run", "bad"])
        .code(1)
        .stderr_has("step `data` failed: `echo 'not json'` did not print valid JSON on stdout");
}

#[test]
fn a_failing_command_fails_the_run_naming_step_and_code() {
    let test = Test::new().config(
        r#"
[integration.fail]
[[integration.fail.steps]]
command.argv = ["echo", "first"]
[[integration.fail.steps]]
id = "boom"
command.argv = ["sh", "-c", "echo partial; echo oops >&2; exit 3"]
[[integration.fail.steps]]
command.argv = ["echo", "never"]
"#,
    );
    let out = test.run(&["run", "fail"]);
    out.code(1)
        .stdout_is("first\npartial\n")
        .stderr_has("oops")
        .stderr_has(
            "step `boom` failed: `sh -c 'echo partial; echo oops >&2; exit 3'` exited with code 3",
        );
    let run = &test.history()[0];
    assert_eq!(run["status"], "failed");
    let id = run["id"].as_str().unwrap();
    let log = test.run(&["logs", id]);
    log.success()
        .stdout_has("step `boom` | partial")
        .stdout_has("step `boom` ! oops");
    assert!(!log.stdout.contains("never"));
}

#[test]
fn unknown_program_is_a_failed_run() {
    let test = Test::new().config(
        r#"
[integration.nope]
[[integration.nope.steps]]
command.argv = ["definitely-not-a-program-integ"]
"#,
    );
    test.run(&["run", "nope"])
        .code(1)
        .stderr_has("failed to start `definitely-not-a-program-integ`");
}

#[test]
fn quiet_prints_nothing_on_success_and_the_log_on_failure() {
    let test = Test::new().config(
        r#"
[integration.ok]
[[integration.ok.steps]]
command.argv = ["echo", "fine"]

[integration.bad]
[[integration.bad.steps]]
command.argv = ["sh", "-c", "echo some context; exit 4"]
"#,
    );
    test.run(&["run", "ok", "-q"]).success().stdout_is("");
    assert_eq!(test.run(&["run", "ok", "-q"]).stderr, "");

    let out = test.run(&["run", "bad", "-q"]);
    out.code(1)
        .stdout_is("")
        .stderr_has("| some context")
        .stderr_has("exited with code 4");
}

#[test]
fn step_timeout_kills_the_whole_process_group() {
    let test = Test::new().config(
        r#"
[integration.slow]
[[integration.slow.steps]]
command = { argv = ["sh", "-c", "sleep 300 & echo $! > child.pid; sleep 300"], timeout = "1s" }
"#,
    );
    let out = test.run(&["run", "slow"]);
    out.code(1).stderr_has("step 1 failed: timed out after 1s");
    let child: i32 = test.read("child.pid").trim().parse().unwrap();
    assert!(
        wait_until_gone(child),
        "the step's background child {child} survived the timeout"
    );
}

#[test]
fn integration_timeout_stops_the_run() {
    let test = Test::new().config(
        r#"
[integration.slow]
timeout = "1s"
[[integration.slow.steps]]
command.argv = ["sh", "-c", "echo $$ > child.pid; sleep 300"]
"#,
    );
    test.run(&["run", "slow"])
        .code(1)
        .stderr_has("timed out after 1s");
    let child: i32 = test.read("child.pid").trim().parse().unwrap();
    assert!(
        wait_until_gone(child),
        "the step's process {child} survived the run's timeout"
    );
}

#[test]
fn sigint_and_sigterm_interrupt_the_run_and_its_processes() {
    for (signal, name) in [(Signal::SIGINT, "SIGINT"), (Signal::SIGTERM, "SIGTERM")] {
        let test = Test::new().config(
            r#"
[integration.slow]
[[integration.slow.steps]]
command.argv = ["sh", "-c", "echo $$ > child.pid; sleep 300"]
"#,
        );
        let child = test.spawn(&["run", "slow"]);
        test.wait_for_file("child.pid");
        std::thread::sleep(Duration::from_millis(100));
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
        let out = finish(child);
        out.code(130).stderr_has(&format!("interrupted by {name}"));
        let step: i32 = test.read("child.pid").trim().parse().unwrap();
        assert!(wait_until_gone(step), "the step's process survived {name}");
        assert_eq!(test.history()[0]["status"], "interrupted");
    }
}

#[test]
fn a_sigkilled_run_is_seen_as_interrupted() {
    let test = Test::new().config(
        r#"
[integration.slow]
[[integration.slow.steps]]
command.argv = ["sh", "-c", "echo $$ > child.pid; exec sleep 300"]
"#,
    );
    let mut child = test.spawn(&["run", "slow"]);
    test.wait_for_file("child.pid");
    assert_eq!(
        test.history()[0]["status"],
        "running",
        "a live run is running"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The killed `integ` could not clean up; do it here. Until then the step's process holds
    // the run's lock, and the run is still going (tests/cli/processes.rs).
    let step: i32 = test.read("child.pid").trim().parse().unwrap();
    let _ = kill(Pid::from_raw(step), Signal::SIGKILL);
    assert!(wait_until_gone(step));
    let run = &test.history()[0];
    assert_eq!(run["status"], "interrupted");
    assert!(
        run["error"].as_str().unwrap().contains("killed or crashed"),
        "{run}"
    );
}

#[test]
fn secrets_never_reach_output_logs_history_or_errors() {
    let test = Test::new()
        .env("CRM_KEY", "s3cr3t-value")
        .write("key.txt", "file-s3cr3t\n")
        .config(
            r#"
[secrets]
crm = { env = "CRM_KEY" }
file_key = { file = "key.txt" }

[integration.leak]
params.note = { type = "string", default = "none" }
[[integration.leak.steps]]
command.argv = ["echo", "key={{ secrets.crm }} file={{ secrets.file_key }} note={{ params.note }}"]
[[integration.leak.steps]]
command.argv = ["sh", "-c", "echo {{ secrets.crm }} >&2; exit 1"]
"#,
        );
    let out = test.run(&["run", "leak", "-p", "note=s3cr3t-value"]);
    out.code(1);
    let run = &test.history()[0];
    let log = test.run(&["logs", run["id"].as_str().unwrap()]);
    for text in [&out.stdout, &out.stderr, &log.stdout, &run.to_string()] {
        assert!(!text.contains("s3cr3t"), "a secret leaked:\n{text}");
    }
    out.stdout_is("key=*** file=*** note=***\n");
    out.stderr_has("`sh -c 'echo *** >&2; exit 1'` exited with code 1");
}

#[test]
fn a_missing_secret_stops_the_run_before_it_starts() {
    let test = Test::new().config(
        r#"
[secrets]
crm = { env = "CRM_KEY_UNSET" }
[integration.uses]
[[integration.uses.steps]]
command.argv = ["touch", "ran-{{ secrets.crm }}"]

[integration.other]
[[integration.other.steps]]
command.argv = ["echo", "does not need the secret"]
"#,
    );
    test.run(&["run", "uses"])
        .code(2)
        .stderr_has("secret `crm` is missing: environment variable `CRM_KEY_UNSET` is not set");
    assert!(
        test.history().is_empty(),
        "nothing ran, nothing is recorded"
    );
    // Integrations that do not read it are not held hostage.
    test.run(&["run", "other"]).success();
}

#[test]
fn unknown_integration_gets_did_you_mean() {
    let test = Test::new().config(HELLO);
    test.run(&["run", "helo"])
        .code(2)
        .stderr_has("error: no integration named `helo`")
        .stderr_has("hint: did you mean `hello`?");
}

#[test]
fn scheduled_runs_are_recorded_as_such() {
    let test = Test::new().config(HELLO);
    test.run(&["run", "hello", "--scheduled", "-q"])
        .success()
        .stdout_is("");
    assert_eq!(test.history()[0]["trigger"], "schedule");
}

#[test]
fn run_context_is_available_to_templates() {
    let test = Test::new()
        .config(
            r#"
[integration.ctx]
[[integration.ctx.steps]]
command.argv = ["echo", "{{ run.trigger }} {{ run.id | length }} {{ env.GREETING }}"]
"#,
        )
        .env("GREETING", "hey");
    test.run(&["run", "ctx"])
        .success()
        .stdout_is("manual 36 hey\n");
}

#[test]
fn undefined_values_at_run_time_are_errors_not_empty_strings() {
    let test = Test::new().config(
        r#"
[integration.undefined]
[[integration.undefined.steps]]
id = "data"
command.argv = ["echo", '{"a": 1}']
command.stdout = "json"
[[integration.undefined.steps]]
command.argv = ["echo", "[{{ steps.data.stdout.missing }}]"]
"#,
    );
    test.run(&["run", "undefined"])
        .code(1)
        .stderr_has("undefined value");
}

#[test]
fn verbose_and_json_logs_go_to_stderr() {
    let test = Test::new().config(HELLO);
    let out = test.run(&["run", "hello", "-v", "--log-format", "json"]);
    out.success().stdout_is("Hello, world!\n");
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("echo 'Hello"))),
        "{}",
        out.stderr
    );
}

#[test]
fn color_always_paints_errors_and_never_does_not() {
    let test = Test::new().config(HELLO);
    test.run(&["run", "nope", "--color", "always"])
        .code(2)
        .stderr_has("\u{1b}[");
    let out = test.run(&["run", "nope", "--color", "never"]);
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
}

#[test]
fn a_program_that_is_not_found_names_the_path_that_was_searched() {
    let test = Test::new()
        .config(
            r#"
[integration.missing]
[[integration.missing.steps]]
command.argv = ["integ-test-no-such-program", "x"]

[integration.own_path]
[[integration.own_path.steps]]
command = { argv = ["integ-test-no-such-program"], env = { PATH = "/nonexistent/bin:/also/not" } }

[integration.relative]
[[integration.relative.steps]]
command.argv = ["./bin/tool.sh"]

[integration.interpreter]
[[integration.interpreter.steps]]
command.argv = ["./bin/old.sh"]

[integration.no_dir]
[[integration.no_dir.steps]]
command = { argv = ["true"], dir = "gone" }
"#,
        )
        .write("bin/old.sh", "#!/nonexistent/interpreter\necho hi\n");
    // The state directory is inside the test's directory, where the file is.
    let old = test.state_dir().parent().unwrap().join("bin/old.sh");
    std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap();
    test.run(&["run", "missing"]).code(1).stderr_has(&format!(
        "failed to start `integ-test-no-such-program x`: `integ-test-no-such-program` was not found in the command's `PATH` ({path})"
    ));
    test.run(&["run", "own_path"]).code(1).stderr_has(
        "`integ-test-no-such-program` was not found in the command's `PATH` (/nonexistent/bin:/also/not)",
    );
    test.run(&["run", "relative"])
        .code(1)
        .stderr_has("failed to start `./bin/tool.sh`: `")
        .stderr_has("/bin/tool.sh` does not exist");
    test.run(&["run", "interpreter"])
        .code(1)
        .stderr_has("/bin/old.sh` exists, but the interpreter its `#!` line names was not found");
    test.run(&["run", "no_dir"])
        .code(1)
        .stderr_has("failed to start `true`: directory `")
        .stderr_has("/gone` does not exist");
}

#[test]
fn integ_log_is_a_filter_that_shows_what_it_names() {
    let debug_line = "DEBUG loaded `integrations.toml`: 1 integration in ";
    let step_line = "INFO step 1: run `echo 'Hello, world!'`";
    for filter in [
        "debug",
        "integ=debug",
        "warn,integ::config=debug,integ=info",
    ] {
        let test = Test::new().config(HELLO).env("INTEG_LOG", filter);
        let out = test.run(&["run", "hello"]);
        out.success()
            .stdout_is("Hello, world!\n")
            .stderr_has(debug_line)
            .stderr_has(step_line);
        assert!(!out.stderr.contains("WARN"), "{filter}: {}", out.stderr);
    }
    // `info` shows the steps as `-v` does, and no debug lines.
    let out = Test::new()
        .config(HELLO)
        .env("INTEG_LOG", "info")
        .run(&["run", "hello"]);
    out.success().stderr_has(step_line);
    assert!(!out.stderr.contains("DEBUG"), "{}", out.stderr);
    // A filter that leaves integ's info lines out leaves the run quiet, as without one.
    let out = Test::new()
        .config(HELLO)
        .env("INTEG_LOG", "warn")
        .run(&["run", "hello"]);
    out.success().stdout_is("Hello, world!\n");
    assert_eq!(out.stderr, "");
    // -vv shows the same debug lines; -v the steps only.
    let test = Test::new().config(HELLO);
    test.run(&["run", "hello", "-vv"])
        .success()
        .stderr_has(debug_line)
        .stderr_has("DEBUG param `name` = \"world\" (its default)");
    let out = test.run(&["run", "hello", "-v"]);
    out.success().stderr_has(step_line);
    assert!(!out.stderr.contains("DEBUG"), "{}", out.stderr);
}

#[test]
fn an_integ_log_that_is_not_a_filter_is_ignored_with_a_warning() {
    let test = Test::new().config(HELLO).env("INTEG_LOG", "integ=loud");
    let out = test.run(&["run", "hello"]);
    out.success()
        .stdout_is("Hello, world!\n")
        .stderr_has("WARN ignoring `INTEG_LOG=integ=loud`, which is not a filter: ");
    assert!(!out.stderr.contains("INFO"), "{}", out.stderr);
}
