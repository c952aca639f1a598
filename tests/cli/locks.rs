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
