//! The schedule door's windows, with the clock set by Debian's `faketime`: each scheduled run
//! covers `[W, E)` from the watermark to the latest tick, success moves `W`, failure leaves
//! it, missed ticks are caught up as `catch_up` says, and a DST night is as long as it is.
//! Times given to `run_at` are UTC; the schedules below read theirs in Europe/Prague
//! (UTC+1 in November, UTC+2 in summer).

use serde_json::json;

use crate::support::{Test, finish};

/// An integration that appends each window it covers to `covered.txt` (and fails while
/// `fail` exists).
fn nightly(schedule: &str) -> Test {
    Test::new().config(&format!(
        r#"
[integration.sync.schedule]
timezone = "Europe/Prague"
{schedule}
[[integration.sync.steps]]
command.argv = ["sh", "-c", "test ! -e fail && echo \"$1 $2\" >> covered.txt", "sh", "{{{{ window.start }}}}", "{{{{ window.end }}}}"]
"#
    ))
}

fn covered(test: &Test) -> Vec<String> {
    std::fs::read_to_string(test.state_dir().with_file_name("covered.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn statuses(test: &Test) -> Vec<String> {
    test.history()
        .iter()
        .rev()
        .map(|run| run["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_first_run_covers_one_interval_and_each_next_tick_the_one_since() {
    let test = nightly(r#"cron = "0 2 * * *""#);
    let out = test.run_at("2026-11-03 01:05:00", &["run", "sync", "--scheduled", "-q"]);
    out.success();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", ""),
        "quiet"
    );
    test.run_at("2026-11-04 01:01:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&test),
        [
            "2026-11-02T02:00:00+01:00 2026-11-03T02:00:00+01:00",
            "2026-11-03T02:00:00+01:00 2026-11-04T02:00:00+01:00",
        ]
    );
    let runs = test.history();
    assert_eq!(
        runs[0]["window"],
        json!({"start": "2026-11-03T01:00:00.000Z", "end": "2026-11-04T01:00:00.000Z"})
    );
    assert_eq!(runs[0]["trigger"], "schedule");
    test.run(&["logs", runs[0]["id"].as_str().unwrap()])
        .success()
        .stdout_has(
            "run > covers [2026-11-03 02:00 +01:00, 2026-11-04 02:00 +01:00) (zone Europe/Prague)",
        );
}

#[test]
fn the_same_tick_twice_covers_nothing_the_second_time_and_says_so() {
    let test = nightly(r#"cron = "0 2 * * *""#);
    test.run_at("2026-11-03 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    let again = test.run_at("2026-11-03 01:30:00", &["run", "sync", "--scheduled"]);
    again.success();
    assert_eq!(again.stderr, "", "nothing to mail");
    assert_eq!(covered(&test).len(), 1, "nothing ran the second time");
    let runs = test.history();
    assert_eq!(runs[0]["status"], "skipped");
    assert_eq!(
        runs[0]["error"],
        "nothing to cover: `sync` is covered until 2026-11-03 02:00 +01:00"
    );
}

#[test]
fn a_failure_leaves_the_watermark_and_the_next_success_covers_both_periods() {
    let test = nightly(r#"cron = "0 2 * * *""#);
    test.run_at("2026-11-03 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    std::fs::write(test.state_dir().with_file_name("fail"), "").unwrap();
    test.run_at("2026-11-04 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .code(1);
    std::fs::remove_file(test.state_dir().with_file_name("fail")).unwrap();
    test.run_at("2026-11-05 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&test)[1],
        "2026-11-03T02:00:00+01:00 2026-11-05T02:00:00+01:00",
        "the failed night and the next, in one window"
    );
    assert_eq!(statuses(&test), ["succeeded", "failed", "succeeded"]);
}

#[test]
fn three_missed_nights_are_merged_covered_each_or_the_latest_only() {
    let first = "2026-11-01 01:05:00";
    let back = "2026-11-04 06:00:00";
    let merge = nightly(r#"cron = "0 2 * * *""#);
    merge
        .run_at(first, &["run", "sync", "--scheduled", "-q"])
        .success();
    merge
        .run_at(back, &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&merge)[1..],
        ["2026-11-01T02:00:00+01:00 2026-11-04T02:00:00+01:00"]
    );

    let each = nightly("cron = \"0 2 * * *\"\ncatch_up = \"each\"");
    each.run_at(first, &["run", "sync", "--scheduled", "-q"])
        .success();
    each.run_at(back, &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&each)[1..],
        [
            "2026-11-01T02:00:00+01:00 2026-11-02T02:00:00+01:00",
            "2026-11-02T02:00:00+01:00 2026-11-03T02:00:00+01:00",
            "2026-11-03T02:00:00+01:00 2026-11-04T02:00:00+01:00",
        ]
    );

    let latest = nightly("cron = \"0 2 * * *\"\ncatch_up = \"latest\"");
    latest
        .run_at(first, &["run", "sync", "--scheduled", "-q"])
        .success();
    latest
        .run_at(back, &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&latest)[1..],
        ["2026-11-03T02:00:00+01:00 2026-11-04T02:00:00+01:00"]
    );
    let runs = latest.history();
    assert_eq!(
        runs[1]["status"], "skipped",
        "the range left out is recorded"
    );
    assert_eq!(
        runs[1]["window"],
        json!({"start": "2026-11-01T01:00:00.000Z", "end": "2026-11-03T01:00:00.000Z"})
    );
    // Covered through the latest tick: the next one has only its own night to cover.
    latest
        .run_at("2026-11-05 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&latest).last().unwrap(),
        "2026-11-04T02:00:00+01:00 2026-11-05T02:00:00+01:00"
    );
}

#[test]
fn more_owed_intervals_than_max_catch_up_fail_naming_the_backfill() {
    let test = nightly("cron = \"0 2 * * *\"\ncatch_up = \"each\"\nmax_catch_up = 2");
    test.run_at("2026-11-01 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    test.run_at("2026-11-04 06:00:00", &["run", "sync", "--scheduled", "-q"])
        .code(1)
        .stderr_has("error: `sync` owes 3 intervals since 2026-11-01 02:00 +01:00, more than `max_catch_up = 2`")
        .stderr_has("hint: cover them with `integ run sync --from '2026-11-01T02:00:00+01:00' --to '2026-11-04T02:00:00+01:00' --each`");
    assert_eq!(covered(&test).len(), 1, "nothing more ran");
    assert_eq!(test.history()[0]["status"], "failed");
    // The named backfill covers them, each moving the watermark; then nothing is owed.
    test.run_at(
        "2026-11-04 06:01:00",
        &[
            "run",
            "sync",
            "-q",
            "--from",
            "2026-11-01T02:00:00+01:00",
            "--to",
            "2026-11-04T02:00:00+01:00",
            "--each",
        ],
    )
    .success();
    assert_eq!(covered(&test).len(), 4);
    test.run_at("2026-11-04 06:02:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(test.history()[0]["status"], "skipped", "nothing owed");
}

#[test]
fn a_long_window_is_covered_in_parts_and_a_crash_keeps_the_parts_done() {
    // The third part's command kills integ (SIGKILL) as it runs: a crash mid-way.
    let test = Test::new().config(
        r#"
[integration.sync.schedule]
cron = "0 2 * * *"
timezone = "Europe/Prague"
first_window = "4d"
max_window = "1d"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "echo \"$1\" >> covered.txt; if [ $(wc -l < covered.txt) -eq 3 ] && [ ! -e crashed ]; then touch crashed; kill -9 $PPID; fi", "sh", "{{ window.start }}"]
"#,
    );
    let crashed = test.run_at("2026-11-05 01:05:00", &["run", "sync", "--scheduled", "-q"]);
    // faketime reports its child's death as exit 1.
    assert_ne!(crashed.code, 0, "killed: {crashed:?}");
    assert!(test.state_dir().with_file_name("crashed").exists());
    test.run_at("2026-11-05 01:10:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&test),
        [
            "2026-11-01T02:00:00+01:00",
            "2026-11-02T02:00:00+01:00",
            "2026-11-03T02:00:00+01:00",
            "2026-11-03T02:00:00+01:00",
            "2026-11-04T02:00:00+01:00",
        ],
        "two parts kept; the third is covered again, then the fourth"
    );
}

#[test]
fn a_backfill_moves_the_watermark_only_when_it_continues_what_is_covered() {
    let test = nightly(r#"cron = "0 2 * * *""#);
    test.run_at("2026-11-03 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    // Not contiguous (after a gap): covered, the watermark stays.
    test.run_at(
        "2026-11-03 02:00:00",
        &[
            "run",
            "sync",
            "-q",
            "--from",
            "2026-11-10",
            "--to",
            "2026-11-11",
        ],
    )
    .success();
    let plan = test.run_at(
        "2026-11-03 02:00:00",
        &["run", "sync", "--plan", "--scheduled"],
    );
    plan.success()
        .stdout_has("covered until 2026-11-03 02:00 +01:00 (zone Europe/Prague)")
        .stdout_has("nothing to cover now");
    // Contiguous: from ≤ W < to, so the watermark moves to its end.
    test.run_at(
        "2026-11-03 02:01:00",
        &[
            "run",
            "sync",
            "-q",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-05 02:00",
        ],
    )
    .success();
    test.run_at(
        "2026-11-04 01:05:00",
        &["run", "sync", "--plan", "--scheduled"],
    )
    .success()
    .stdout_has("covered until 2026-11-05 02:00 +01:00")
    .stdout_has("nothing to cover now");
    assert_eq!(
        covered(&test)[1..],
        [
            "2026-11-10T00:00:00+01:00 2026-11-11T00:00:00+01:00",
            "2026-11-01T00:00:00+01:00 2026-11-05T02:00:00+01:00",
        ]
    );
    // Bad input is refused before anything runs.
    test.run(&["run", "sync", "--from", "soon", "--to", "2026-11-05"])
        .code(2)
        .stderr_has("invalid `--from` value `soon`: expected a date (`2026-10-01`), a local time (`2026-10-01 06:00`) or an RFC 3339 time");
    test.run(&["run", "sync", "--from", "2026-11-05", "--to", "2026-11-01"])
        .code(2)
        .stderr_has("is not before `--to 2026-11-01`");
}

#[test]
fn the_autumn_dst_night_in_prague_is_covered_as_25_hours() {
    let test = nightly("cron = \"0 0 * * *\"\ncatch_up = \"each\"");
    // Midnight in Prague is 22:00 UTC the evening before in summer, 23:00 in winter.
    test.run_at("2026-10-23 22:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    test.run_at("2026-10-26 00:00:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    assert_eq!(
        covered(&test)[1..],
        [
            "2026-10-24T00:00:00+02:00 2026-10-25T00:00:00+02:00",
            "2026-10-25T00:00:00+02:00 2026-10-26T00:00:00+01:00",
        ]
    );
    let windows: Vec<serde_json::Value> = test
        .history()
        .iter()
        .take(2)
        .map(|run| run["window"].clone())
        .collect();
    assert_eq!(
        windows,
        [
            json!({"start": "2026-10-24T22:00:00.000Z", "end": "2026-10-25T23:00:00.000Z"}),
            json!({"start": "2026-10-23T22:00:00.000Z", "end": "2026-10-24T22:00:00.000Z"}),
        ],
        "25 hours, no hour lost or doubled"
    );
}

#[test]
fn a_skip_under_the_scheduler_prints_nothing_and_is_recorded() {
    let test = Test::new().config(
        r#"
[integration.sync]
schedule = "* * * * *"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "touch started; sleep 3"]
"#,
    );
    let holder = test.spawn(&["run", "sync"]);
    test.wait_for_file("started");
    let out = test.run(&["run", "sync", "--scheduled"]);
    out.code(75);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    finish(holder).success();
    let runs = test.history();
    assert!(
        runs.iter().any(|run| run["status"] == "skipped"
            && run["trigger"] == "schedule"
            && run["error"]
                .as_str()
                .unwrap()
                .contains("is already running")),
        "{runs:?}"
    );
}

#[test]
fn a_run_by_hand_covers_up_to_now_and_window_exists_only_with_a_schedule() {
    let test = nightly(r#"cron = "0 2 * * *""#);
    test.run_at("2026-11-03 01:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    test.run_at("2026-11-03 09:30:00", &["run", "sync", "-q"])
        .success();
    assert!(
        covered(&test)[1].starts_with("2026-11-03T02:00:00+01:00 2026-11-03T10:30:0"),
        "{:?}",
        covered(&test)
    );
    test.run_at(
        "2026-11-04 01:05:00",
        &["run", "sync", "--plan", "--scheduled"],
    )
    .success()
    .stdout_has("would cover [2026-11-03 10:30 +01:00, 2026-11-04 02:00 +01:00)");

    let unscheduled = Test::new().config(
        r#"
[integration.once]
[[integration.once.steps]]
command.argv = ["echo", "{{ window.start }}"]

[integration.typo]
schedule = "0 2 * * *"
[[integration.typo.steps]]
command.argv = ["echo", "{{ window.begin }}"]
"#,
    );
    unscheduled
        .run(&["check"])
        .code(2)
        .stderr_has("error: unknown name `window` in template")
        .stderr_has("hint: `window` (the period a scheduled run covers) exists only in an integration with a `schedule`")
        .stderr_has("error: unknown window field `begin` in template");
}

#[test]
fn the_changed_since_example_catches_up_after_missed_nights_against_the_demo_server() {
    let server = crate::examples::DemoServer::start();
    let test = crate::examples::example("changed-companies.toml", &server);
    let run = |at: &str| {
        test.run_at(at, &["run", "changed-companies", "--scheduled", "-q"])
            .success();
    };
    // The first night reaches `first_window` (7 days) back; the demo CRM changes 2,500
    // companies over 28 days, each at 10:00 on day `1 + id % 28`.
    run("2026-11-08 02:10:00");
    let first = test.read("exports/changed-2026-11-08.csv");
    let days = |csv: &str| {
        let mut days: Vec<String> = csv
            .lines()
            .skip(1)
            .map(|line| line.rsplit(',').next().unwrap()[..10].to_owned())
            .collect();
        days.sort();
        days.dedup();
        days
    };
    assert_eq!(
        days(&first),
        (1..=7)
            .map(|d| format!("2026-11-{d:02}"))
            .collect::<Vec<_>>()
    );
    // Off for two nights: the next run covers all three.
    run("2026-11-11 02:10:00");
    let caught_up = test.read("exports/changed-2026-11-11.csv");
    assert_eq!(days(&caught_up), ["2026-11-08", "2026-11-09", "2026-11-10"]);
    assert!(
        !test
            .state_dir()
            .with_file_name("exports/changed-2026-11-09.csv")
            .exists(),
        "one run for the missed nights"
    );
    assert_eq!(
        (first.lines().count() - 1) + (caught_up.lines().count() - 1),
        (0..2500).filter(|id| id % 28 < 10).count(),
        "ten days, each company changed in them once"
    );
}

#[test]
fn a_run_that_waited_for_the_lock_covers_only_what_the_run_before_it_left() {
    let test = Test::new().config(
        r#"
[integration.sync]
overlap = "wait"
schedule = "0 2 * * *"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "touch started; sleep 1; echo \"$1 $2\" >> covered.txt", "sh", "{{ window.start }}", "{{ window.end }}"]
"#,
    );
    let at = "2026-11-03 02:05:00";
    test.run_at("2026-11-02 02:05:00", &["run", "sync", "--scheduled", "-q"])
        .success();
    std::fs::remove_file(test.state_dir().with_file_name("started")).unwrap();
    // Two copies for one tick, say cron and a person: the second waits for the first.
    let first = test
        .command_at(at, &["run", "sync", "--scheduled", "-q"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    test.wait_for_file("started");
    let second = test.run_at(at, &["run", "sync", "--scheduled", "-q"]);
    assert_eq!(
        (second.code, second.stdout.as_str(), second.stderr.as_str()),
        (0, "", ""),
        "nothing owed is no failure, and quiet"
    );
    finish(first).success();
    assert_eq!(
        covered(&test),
        [
            "2026-11-01T02:00:00+00:00 2026-11-02T02:00:00+00:00",
            "2026-11-02T02:00:00+00:00 2026-11-03T02:00:00+00:00",
        ],
        "the window once"
    );
    let newest = &test.history()[0];
    assert_eq!(newest["status"], "skipped");
    assert_eq!(
        newest["error"],
        "nothing to cover: the run it waited for covered `sync` until 2026-11-03 02:00 +00:00"
    );
}
