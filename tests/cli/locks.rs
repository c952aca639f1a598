//! Overlap: one run of an integration at a time across processes, by policy.

use std::time::Duration;

use crate::support::{Test, finish, wait_until_gone};

fn config(policy: &str) -> String {
    format!(
        r#"
[integration.long]
overlap = "{policy}"
[[integration.long.steps]]
command.argv = ["sh", "-c", "echo $$ >> started; sleep 1.5; echo done >> finished"]
"#
    )
}

#[test]
fn skip_policy_skips_with_its_own_exit_code() {
    let test = Test::new().config(&config("skip"));
    let first = test.spawn(&["run", "long"]);
    test.wait_for_file("started");
    let second = test.run(&["run", "long"]);
    second
        .code(75)
        .stderr_has("skipped: `long` is already running (run ");
    // Quiet under cron: a skip is not a failure worth a mail.
    let quiet = test.run(&["run", "long", "-q"]);
    quiet.code(75);
    assert_eq!(quiet.stderr, "");
    finish(first).success();
    assert_eq!(test.read("started").lines().count(), 1, "only one copy ran");
    let statuses: Vec<_> = test
        .history()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["skipped", "skipped", "succeeded"]);
}

#[test]
fn fail_policy_is_an_error_even_when_quiet() {
    let test = Test::new().config(&config("fail"));
    let first = test.spawn(&["run", "long"]);
    test.wait_for_file("started");
    test.run(&["run", "long", "-q"])
        .code(75)
        .stderr_has("error: `long` is already running");
    finish(first).success();
}

#[test]
fn wait_policy_and_wait_flag_queue_behind_the_running_copy() {
    for (policy, extra) in [("wait", None), ("skip", Some("--wait"))] {
        let test = Test::new().config(&config(policy));
        let first = test.spawn(&["run", "long"]);
        test.wait_for_file("started");
        let mut args = vec!["run", "long"];
        args.extend(extra);
        let second = test.spawn(&args);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            test.read("started").lines().count(),
            1,
            "the second waits ({policy})"
        );
        finish(first).success();
        finish(second).success();
        assert_eq!(test.read("finished").lines().count(), 2);
    }
}

#[test]
fn a_killed_holder_releases_the_lock() {
    let test = Test::new().config(&config("skip"));
    let mut first = test.spawn(&["run", "long"]);
    test.wait_for_file("started");
    first.kill().unwrap();
    first.wait().unwrap();
    // The step's process holds the lock too (tests/cli/processes.rs); it ends on its own.
    let step: i32 = test.read("started").trim().parse().unwrap();
    assert!(
        wait_until_gone(step),
        "the step's process {step} never ended"
    );
    // No stale lock: the kernel dropped it with the processes.
    test.run(&["run", "long"]).success();
}

/// `integ` in `project` (a directory of the test's) with the default state directory: each
/// integrations file keeps its own state under the one `$XDG_STATE_HOME`.
fn in_project(test: &Test, project: &str, args: &[&str]) -> std::process::Command {
    let mut command = test.command(args);
    command
        .current_dir(test.state_dir().with_file_name(project))
        .env_remove("INTEG_STATE_DIR");
    command
}

fn output(command: &mut std::process::Command) -> crate::support::Output {
    let out = command.output().expect("integ starts");
    crate::support::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn state_line(out: &crate::support::Output) -> String {
    out.stdout
        .lines()
        .find_map(|line| line.strip_prefix("state: "))
        .unwrap_or_else(|| panic!("`list` shows no state dir:\n{}", out.stdout))
        .to_owned()
}

/// `long`, held until the test creates `release` beside the projects.
const HELD: &str = r#"
[integration.long]
overlap = "skip"
[[integration.long.steps]]
command.argv = ["sh", "-c", "echo $$ >> started; while [ ! -e ../release ]; do sleep 0.05; done"]
"#;

/// Regression: project B's `long` was skipped with 75 (and `list` showed A's run) because
/// project A's `long` was running: both used one state directory.
#[test]
fn two_files_with_one_integration_name_share_no_lock_or_history() {
    let test = Test::new()
        .write("a/integrations.toml", HELD)
        .write("b/integrations.toml", &config("skip"));
    let first = in_project(&test, "a", &["run", "long"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    test.wait_for_file("a/started");

    // Another file's `long` is another integration: it runs while A's holds its lock.
    output(&mut in_project(&test, "b", &["run", "long", "-q"])).success();
    assert_eq!(test.read("b/finished").lines().count(), 1);
    // The same file by another path (relative, through a symlink) is the same project.
    std::os::unix::fs::symlink(
        test.state_dir().with_file_name("a"),
        test.state_dir().with_file_name("a-link"),
    )
    .unwrap();
    output(&mut in_project(
        &test,
        "b",
        &["-c", "../a-link/integrations.toml", "run", "long", "-q"],
    ))
    .code(75);
    std::fs::write(test.state_dir().with_file_name("release"), "").unwrap();
    finish(first).success();

    let history = |project: &str| -> Vec<String> {
        let out = output(&mut in_project(&test, project, &["history", "--json"]));
        out.success();
        out.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|run| run["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(history("a"), ["skipped", "succeeded"]);
    assert_eq!(history("b"), ["succeeded"]);

    let list_a = output(&mut in_project(&test, "a", &["list"]));
    let list_b = output(&mut in_project(&test, "b", &["list"]));
    let (state_a, state_b) = (state_line(list_a.success()), state_line(list_b.success()));
    assert_ne!(state_a, state_b);
    let root = test.state_dir().with_file_name("xdg-state").join("integ");
    for state in [&state_a, &state_b] {
        assert!(
            std::path::Path::new(state).starts_with(root.join("projects")),
            "{state} is not under {}",
            root.display()
        );
        assert!(std::path::Path::new(state).join("integ.db").is_file());
    }
    // Each list shows its own file's last run.
    assert!(list_b.stdout.contains("succeeded"), "{}", list_b.stdout);
}

#[test]
fn state_dir_override_makes_files_share_state_again() {
    let test = Test::new()
        .write("a/integrations.toml", HELD)
        .write("b/integrations.toml", &config("skip"));
    let shared = test.state_dir().with_file_name("shared");
    let first = in_project(&test, "a", &["run", "long"])
        .env("INTEG_STATE_DIR", &shared)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    test.wait_for_file("a/started");
    let mut second = in_project(&test, "b", &["--state-dir"]);
    second.arg(&shared).args(["run", "long", "-q"]);
    output(&mut second).code(75);
    std::fs::write(test.state_dir().with_file_name("release"), "").unwrap();
    finish(first).success();
    let list = output(in_project(&test, "b", &["list"]).env("INTEG_STATE_DIR", &shared));
    assert_eq!(state_line(list.success()), shared.display().to_string());
}

#[test]
fn list_points_at_the_shared_state_of_earlier_versions() {
    let test = Test::new().write("a/integrations.toml", &config("skip"));
    let old = test.state_dir().with_file_name("xdg-state").join("integ");
    std::fs::create_dir_all(&old).unwrap();
    let list = output(&mut in_project(&test, "a", &["list"]));
    assert!(!list.success().stdout.contains("note:"), "{}", list.stdout);
    std::fs::write(old.join("integ.db"), "").unwrap();
    let list = output(&mut in_project(&test, "a", &["list"]));
    list.success().stdout_has(&format!(
        "note: runs recorded before state was kept per file are in `{0}`; see them with `--state-dir {0}`",
        old.display()
    ));
}

/// The listener started in the project's directory and a cron line naming the file by its
/// absolute path from elsewhere are one project: one history (and so one set of locks).
#[test]
fn the_listener_and_cron_share_the_state_of_their_file() {
    use std::io::BufRead as _;

    let test = Test::new()
        .write(
            "a/integrations.toml",
            r#"
[secrets]
token = { env = "HOOK_TOKEN" }
[integration.sync]
[integration.sync.webhook]
path = "sync"
auth.token = { header = "X-Token", secret = "{{ secrets.token }}" }
[[integration.sync.steps]]
command.argv = ["sh", "-c", "echo ran >> ran.txt"]
"#,
        )
        .env("HOOK_TOKEN", "t0ken")
        .write("b-elsewhere/notes.txt", "");
    let mut listener = in_project(&test, "a", &["serve-hook", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(listener.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("integ serve-hook listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    let (status, _) =
        crate::serve_hook::request(&addr, "POST", "/hooks/sync", &[("X-Token", "t0ken")], b"{}");
    assert_eq!(status, 202);
    test.wait_for_file("a/ran.txt");

    let file = test
        .state_dir()
        .with_file_name("a")
        .join("integrations.toml");
    let file = file.to_str().unwrap();
    output(&mut in_project(
        &test,
        "b-elsewhere",
        &["-c", file, "run", "sync", "-q", "--scheduled"],
    ))
    .success();
    let history = output(&mut in_project(
        &test,
        "b-elsewhere",
        &["-c", file, "history", "--json"],
    ));
    let triggers: Vec<String> = history
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["trigger"].as_str().unwrap().to_owned())
        .collect();
    assert!(triggers.contains(&"webhook".to_owned()), "{triggers:?}");
    assert!(triggers.contains(&"schedule".to_owned()), "{triggers:?}");
    let _ = listener.kill();
    let _ = listener.wait();
}

#[test]
fn an_empty_history_points_at_the_shared_state_of_earlier_versions() {
    let test = Test::new().write("a/integrations.toml", &config("skip"));
    let history = output(&mut in_project(&test, "a", &["history"]));
    assert_eq!(history.success().stderr.trim(), "no runs yet");
    let old = test.state_dir().with_file_name("xdg-state").join("integ");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("integ.db"), "").unwrap();
    output(&mut in_project(&test, "a", &["history"]))
        .success()
        .stderr_has(&format!(
            "runs recorded before state was kept per file are in `{0}`; see them with `--state-dir {0}`",
            old.display()
        ));
}

/// Events an earlier version accepted into the shared state directory are not run by a
/// listener on the file's own directory: it says so, and how to run them.
#[test]
fn a_listener_warns_of_events_queued_in_the_shared_state_of_earlier_versions() {
    use std::io::{BufRead as _, Read as _};

    let test = Test::new().write(
        "a/integrations.toml",
        r#"
[integration.sync]
[integration.sync.webhook]
path = "sync"
auth.token = { header = "X-Token", secret = "t0ken" }
[[integration.sync.steps]]
command.argv = ["true"]
"#,
    );
    let old = test.state_dir().with_file_name("xdg-state").join("integ");
    let start = |extra: &[&str]| {
        let mut args = vec!["serve-hook", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = in_project(&test, "a", &args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("integ serve-hook listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        (child, addr)
    };
    let stop = |mut child: std::process::Child| {
        child.kill().unwrap();
        child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        stderr
    };

    // As an earlier version did: events accepted into the shared directory, none run yet.
    let (earlier, addr) = start(&["--state-dir", old.to_str().unwrap(), "--workers", "0"]);
    for _ in 0..2 {
        let (status, _) = crate::serve_hook::request(
            &addr,
            "POST",
            "/hooks/sync",
            &[("X-Token", "t0ken")],
            b"{}",
        );
        assert_eq!(status, 202);
    }
    stop(earlier);

    let (now, _) = start(&[]);
    let stderr = stop(now);
    assert!(
        stderr.contains(&format!(
            "2 webhook events wait in `{0}`, the state directory earlier versions shared, and this listener does not run them: run them with `integ --state-dir {0} serve-hook`",
            old.display()
        )),
        "{stderr}"
    );
    // Once they have run there, nothing is left behind and nothing is said.
    let (drain, _) = start(&["--state-dir", old.to_str().unwrap()]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut history = in_project(
            &test,
            "a",
            &["--state-dir", old.to_str().unwrap(), "history", "--json"],
        );
        let runs = output(&mut history).json();
        if runs
            .as_array()
            .unwrap()
            .iter()
            .all(|run| run["status"] == "succeeded")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the events never ran: {runs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(drain);
    let (after, _) = start(&[]);
    let stderr = stop(after);
    assert!(!stderr.contains("webhook events wait"), "{stderr}");
}
