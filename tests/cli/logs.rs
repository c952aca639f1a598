//! `integ logs RUN`: a header (integration, trigger, params with secrets hidden, status, start,
//! duration, attempts, a queued run's wait), then every attempt's log.

use serde_json::json;

use crate::serve_hook::Listener;
use crate::support::{Test, finish};

#[test]
fn logs_start_with_a_header_that_says_what_ran_and_how() {
    let test = Test::new()
        .config(
            r#"
[secrets]
token = { env = "TOKEN" }

[integration.greet]
params.name = { type = "string" }
params.times = { type = "integer", default = 2 }
[[integration.greet.steps]]
command.argv = ["echo", "hi {{ params.name }}"]
[[integration.greet.steps]]
command.argv = ["sh", "-c", "exit 4"]
"#,
        )
        .env("TOKEN", "t0ps3cret");
    test.run(&["run", "greet", "-p", "name=t0ps3cret"]).code(1);
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    let out = test.run(&["logs", &id]);
    out.success();
    let header: Vec<&str> = out.stdout.lines().take(9).collect();
    let field = |name: &str| {
        header
            .iter()
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no `{name}` in\n{}", out.stdout))
            .to_owned()
    };
    assert_eq!(field("run"), id);
    assert_eq!(field("integration"), "greet");
    assert_eq!(field("trigger"), "manual");
    assert_eq!(field("params"), r#"{"name":"***","times":2}"#);
    assert_eq!(field("status"), "failed");
    assert!(field("started").starts_with("20"), "{}", field("started"));
    assert!(field("duration").ends_with('s'), "{}", field("duration"));
    assert_eq!(field("attempts"), "1");
    assert!(field("error").contains("exited with code 4"));
    assert!(
        !out.stdout.contains("queued:"),
        "a run by hand waits in no queue"
    );
    assert!(
        out.stdout.contains("step 1 > run `echo 'hi ***'`"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("t0ps3cret"));
}

#[test]
fn a_queued_run_shows_its_wait_apart_and_keeps_the_log_of_every_attempt() {
    let test = Test::new().config(
        r#"
[integration.flaky]
[integration.flaky.webhook]
path = "flaky"
auth.none = true
retries = 2
backoff = "100ms"
[[integration.flaky.steps]]
command.argv = ["sh", "-c", "echo try >> tries; test $(wc -l < tries) -ge 3 || { echo not yet; exit 1; }; echo done"]
"#,
    );
    let listener = Listener::start(&test, &["--workers", "1"]);
    let (status, answer) = listener.post("/hooks/flaky", &[], "{}");
    assert_eq!(status, 202, "{answer}");
    let id = answer["run_id"].as_str().unwrap().to_owned();
    test.wait_for_newest_run("succeeded");
    let out = test.run(&["logs", &id]);
    out.success()
        .stdout_has("trigger:     webhook")
        .stdout_has("queued:      ")
        .stdout_has("attempts:    3")
        .stdout_has("--- attempt 1 of 3: failed after ")
        .stdout_has("--- attempt 2 of 3: failed after ")
        .stdout_has("--- attempt 3 of 3: succeeded");
    assert_eq!(out.stdout.matches("| not yet").count(), 2, "{}", out.stdout);
    assert_eq!(out.stdout.matches("| done").count(), 1, "{}", out.stdout);
}

#[test]
fn a_run_that_waited_for_the_lock_starts_when_it_has_it() {
    let test = Test::new().config(
        r#"
[integration.sync]
params.pause = { type = "string", default = "0" }
[[integration.sync.steps]]
command.argv = ["sh", "-c", "touch started; sleep {{ params.pause }}"]
"#,
    );
    let holder = test.spawn(&["run", "sync", "-p", "pause=1.5"]);
    test.wait_for_file("started");
    let waiter = test.spawn(&["run", "sync", "--wait"]);
    let (holder, waiter) = (finish(holder), finish(waiter));
    holder.success();
    waiter.success();
    let runs = test.history();
    let (second, first) = (&runs[0], &runs[1]);
    assert_eq!(first["params"], json!({"pause": "1.5"}));
    let (first_end, second_start) = (
        nanos(first["ended_at"].as_str().unwrap()),
        nanos(second["started_at"].as_str().unwrap()),
    );
    assert!(
        second_start >= first_end,
        "the waiting run's record starts after the holder ended: {second_start} < {first_end}"
    );
}

/// An RFC 3339 UTC time (`2026-12-01T19:24:27.076Z`) with its fraction to nine digits, so that
/// text order is time order whatever precision it was printed with.
fn nanos(time: &str) -> String {
    let time = time.trim_end_matches('Z');
    let (seconds, fraction) = time.split_once('.').unwrap_or((time, ""));
    format!("{seconds}.{fraction:0<9}Z")
}

/// Runs `integ run greet` on a pseudo-terminal, answers its prompt for `name`, and prints the
/// UTC time just before the answer was typed.
const PROMPTED: &str = r#"
import datetime, os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
while b"name (" not in seen:
    seen += os.read(fd, 1024)
typed = datetime.datetime.now(datetime.timezone.utc)
os.write(fd, b"Ada\n")
while True:
    try:
        if not os.read(fd, 1024):
            break
    except OSError:
        break
_, status = os.waitpid(pid, 0)
print(typed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), os.waitstatus_to_exitcode(status))
"#;

#[test]
fn a_prompted_run_starts_when_its_answer_is_given() {
    let test = Test::new().config(
        r#"
[integration.greet]
params.name = { type = "string", help = "who to greet" }
[[integration.greet.steps]]
command.argv = ["echo", "Hello, {{ params.name }}"]
"#,
    );
    // The test's clean environment, for python and the integ it starts.
    let integ = test.command(&[]);
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(PROMPTED)
        .arg(integ.get_program())
        .args(["run", "greet"])
        .current_dir(test.state_dir().parent().unwrap())
        .env_clear()
        .envs(
            integ
                .get_envs()
                .filter_map(|(name, value)| Some((name, value?))),
        )
        .env("TERM", "dumb")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    let (typed, code) = printed.trim().split_once(' ').expect("time and code");
    assert_eq!(code, "0", "{printed}");
    let run = &test.history()[0];
    assert_eq!(run["params"], json!({"name": "Ada"}));
    let started = nanos(run["started_at"].as_str().unwrap());
    assert!(
        started >= nanos(typed),
        "the run's start ({started}) is after the answer was typed ({typed})"
    );
}
