//! `concurrency`: how many runs of an integration go at once, for `integ run` and for the
//! listener alike, across processes.

use crate::serve_hook::{Listener, request, wait_for_lines};
use crate::support::{Test, finish};

/// Each run writes `start` then `end` to `events` (appends of a few bytes are atomic): the
/// most runs between a start and its end is the concurrency that really happened.
fn most_at_once(events: &[String]) -> usize {
    let (mut now, mut most) = (0usize, 0usize);
    for event in events {
        match event.as_str() {
            "start" => now += 1,
            "end" => now -= 1,
            other => panic!("unexpected line {other:?}"),
        }
        most = most.max(now);
    }
    most
}

const STEP: &str =
    r#"command.argv = ["sh", "-c", "echo start >> events; sleep 1; echo end >> events"]"#;

#[test]
fn integ_run_takes_one_of_the_slots_and_skips_when_all_are_held() {
    // The runs hold their slots until told to end: however slowly a loaded machine starts
    // the third, both are still running when it looks.
    let held = r#"command.argv = ["sh", "-c", "echo start >> events; while [ ! -e release ]; do sleep 0.05; done; echo end >> events"]"#;
    let test = Test::new().config(&format!(
        "[integration.sync]\nconcurrency = 2\n[[integration.sync.steps]]\n{held}\n"
    ));
    let first = test.spawn(&["run", "sync"]);
    let second = test.spawn(&["run", "sync"]);
    wait_for_lines(&test, "events", 2);
    test.run(&["run", "sync"])
        .code(75)
        .stderr_has("skipped: `sync` is already running");
    std::fs::write(test.state_dir().with_file_name("release"), "").unwrap();
    finish(first).success();
    finish(second).success();
    let events = wait_for_lines(&test, "events", 4);
    assert_eq!(most_at_once(&events), 2, "{events:?}");
}

#[test]
fn the_listener_keeps_each_integrations_concurrency_and_a_busy_one_stalls_no_other() {
    let test = Test::new().config(&format!(
        r#"
[integration.slow]
concurrency = 2
[integration.slow.webhook]
path = "slow"
auth.none = true
[[integration.slow.steps]]
{STEP}

[integration.fast]
[integration.fast.webhook]
path = "fast"
auth.none = true
[[integration.fast.steps]]
command.argv = ["sh", "-c", "cat events > seen-by-fast; echo fast >> seen-by-fast"]
"#
    ));
    let listener = Listener::start(&test, &["--workers", "4"]);
    for _ in 0..5 {
        let (status, _) = request(&listener.addr, "POST", "/hooks/slow", &[], b"{}");
        assert_eq!(status, 202);
    }
    let (status, _) = request(&listener.addr, "POST", "/hooks/fast", &[], b"{}");
    assert_eq!(status, 202);
    // Two workers are left for the three waiting slow events, yet only two slow runs go at
    // once; the fast event runs at once rather than behind them.
    let seen_by_fast = wait_for_lines(&test, "seen-by-fast", 1);
    let seen_by_fast = &seen_by_fast[..seen_by_fast.len() - 1];
    assert!(
        !seen_by_fast.contains(&"end".to_owned()),
        "fast ran only after a slow run had ended: {seen_by_fast:?}"
    );
    let events = wait_for_lines(&test, "events", 10);
    assert_eq!(most_at_once(&events), 2, "{events:?}");
}

#[test]
fn a_queued_event_waits_for_the_slot_a_cron_run_holds() {
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
[integration.sync.webhook]
path = "sync"
auth.none = true
[[integration.sync.steps]]
{STEP}
"#
    ));
    let listener = Listener::start(&test, &[]);
    let cron = test.spawn(&["run", "sync"]);
    wait_for_lines(&test, "events", 1);
    let (status, _) = request(&listener.addr, "POST", "/hooks/sync", &[], b"{}");
    assert_eq!(status, 202);
    finish(cron).success();
    let events = wait_for_lines(&test, "events", 4);
    assert_eq!(events, ["start", "end", "start", "end"], "one at a time");
}

#[test]
fn a_concurrency_of_zero_is_refused() {
    let test = Test::new().config(
        "[integration.sync]\nconcurrency = 0\n[[integration.sync.steps]]\ncommand.argv = [\"true\"]\n",
    );
    test.run(&["check"])
        .code(2)
        .stderr_has("`concurrency` must be at least 1");
}
