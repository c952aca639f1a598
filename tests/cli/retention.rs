//! History retention: `retention` in the file and per integration, `integ prune`, and the lazy
//! prunes of `integ run` and the listener, with the clock set by Debian's `faketime`.

use std::time::{Duration, Instant};

use crate::serve_hook::{Listener, request, wait_for_log_line};
use crate::support::Test;

/// The runs stored, oldest first, as `(integration, started_at)` with the time to the minute.
fn runs(test: &Test) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String)> = test
        .history()
        .iter()
        .map(|run| {
            let started = run["started_at"].as_str().unwrap();
            (
                run["integration"].as_str().unwrap().to_owned(),
                started[..16].to_owned(),
            )
        })
        .collect();
    runs.reverse();
    runs
}

fn owned(runs: &[(&str, &str)]) -> Vec<(String, String)> {
    runs.iter()
        .map(|(name, at)| (name.to_string(), at.to_string()))
        .collect()
}

#[test]
fn prune_deletes_each_integrations_runs_past_its_retention_and_keeps_its_newest() {
    let integrations = r#"
[integration.daily]
[[integration.daily.steps]]
command.argv = ["true"]

[integration.weekly]
[[integration.weekly.steps]]
command.argv = ["true"]

[integration.removed]
[[integration.removed.steps]]
command.argv = ["true"]
"#;
    let test = Test::new().config(&format!("retention = \"forever\"\n{integrations}"));
    for (name, at) in [
        ("daily", "2026-11-01 02:00:00"),
        ("removed", "2026-11-01 03:00:00"),
        ("removed", "2026-11-02 03:00:00"),
        ("daily", "2026-11-10 02:00:00"),
        ("weekly", "2026-11-14 04:00:00"),
        ("daily", "2026-11-20 02:00:00"),
        ("weekly", "2026-11-21 04:00:00"),
    ] {
        test.run_at(at, &["run", name, "-q"]).success();
    }
    assert_eq!(runs(&test).len(), 7, "kept forever meanwhile");
    let test = test.config(
        r#"
retention = "30d"

[integration.daily]
retention = "7d"
[[integration.daily.steps]]
command.argv = ["true"]

[integration.weekly]
retention = "forever"
[[integration.weekly.steps]]
command.argv = ["true"]
"#,
    );
    let at = "2026-12-05 12:00:00";
    let dry = test.run_at(at, &["prune", "--dry-run"]);
    dry.success()
        .stderr_has("would delete 3 runs and free 0 dedupe keys (a dry run: nothing changed)");
    let table: Vec<Vec<&str>> = dry
        .stdout
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        table,
        [
            vec!["INTEGRATION", "RETENTION", "RUNS", "KEYS"],
            vec!["daily", "7d", "2", "0"],
            vec!["removed", "30d", "(not", "in", "the", "file)", "1", "0"],
        ]
    );
    assert_eq!(runs(&test).len(), 7, "a dry run deletes nothing");
    let deleted = test.history()[6]["id"].as_str().unwrap().to_owned();

    test.run_at(at, &["prune"])
        .success()
        .stderr_has("deleted 3 runs and freed 0 dedupe keys");
    // Daily's run of 11-20 is older than 7 days, and stays: it is daily's newest, which
    // `list` shows. Weekly keeps all; removed keeps its newest under the file's 30 days.
    assert_eq!(
        runs(&test),
        owned(&[
            ("removed", "2026-11-02T03:00"),
            ("weekly", "2026-11-14T04:00"),
            ("daily", "2026-11-20T02:00"),
            ("weekly", "2026-11-21T04:00"),
        ])
    );
    test.run(&["logs", &deleted])
        .code(2)
        .stderr_has(&format!("no run with id `{deleted}`"));
    let again = test.run_at(at, &["prune", "--json"]);
    again.success();
    assert_eq!(
        again.json(),
        serde_json::json!({"dry_run": false, "runs": 0, "keys": 0, "integrations": {}})
    );
    test.run_at(at, &["prune"])
        .success()
        .stderr_has("nothing to prune: every run is within its retention");

    // `--older-than` applies to every integration, and still keeps each one's newest.
    let all = test.run_at(at, &["prune", "--older-than", "1d", "--json"]);
    all.success();
    assert_eq!(
        all.json()["integrations"],
        serde_json::json!({"weekly": {"runs": 1, "keys": 0}})
    );
    assert_eq!(runs(&test).len(), 3);
}

#[test]
fn prune_refuses_bad_input_with_its_exit_code() {
    let test =
        Test::new().config("[integration.a]\n[[integration.a.steps]]\ncommand.argv = [\"true\"]\n");
    test.run(&["prune", "--older-than", "soon"])
        .code(2)
        .stderr_has("invalid value 'soon' for '--older-than <DURATION>'");
    test.run(&["prune", "--keep", "1d"])
        .code(2)
        .stderr_has("unexpected argument '--keep'");
    let broken = Test::new().config("retention = \"1x\"\n");
    broken
        .run(&["prune"])
        .code(2)
        .stderr_has("invalid retention `1x`");
}

#[test]
fn retention_is_checked_in_the_file_and_each_integration() {
    let test = Test::new().config(
        r#"retention = "three months"

[integration.a]
retention = 90
[[integration.a.steps]]
command.argv = ["true"]

[integration.b]
retention = "0s"
[[integration.b.steps]]
command.argv = ["true"]
"#,
    );
    let out = test.run(&["check"]);
    out.code(2)
        .stderr_has("invalid retention `three months`: expected how long runs are kept, e.g. `90d`, `12w` or `48h`, or `forever`")
        .stderr_has("integrations.toml:1:13")
        .stderr_has("integrations.toml:4:13")
        .stderr_has("invalid retention `0s`")
        .stderr_has("integrations.toml:9:13")
        .stderr_has("has 3 problems");
    let typo = Test::new().config("retenton = \"90d\"\n");
    typo.run(&["check"])
        .code(2)
        .stderr_has(
            "unknown top-level key `retenton`, expected `retention`, `secrets` or `integration`",
        )
        .stderr_has("did you mean `retention`?");
    let fine = Test::new().config(
        "retention = \"12w\"\n[integration.a]\nretention = \"forever\"\n[[integration.a.steps]]\ncommand.argv = [\"true\"]\n",
    );
    fine.run(&["check"]).success();
}

#[test]
fn a_run_prunes_the_history_after_it_ends_and_a_dry_run_never_does() {
    let test = Test::new().config(
        r#"
[integration.sync]
retention = "2d"
[[integration.sync.steps]]
command.argv = ["true"]
"#,
    );
    test.run_at("2026-11-01 02:00:00", &["run", "sync", "-q"])
        .success();
    test.run_at("2026-11-02 02:00:00", &["run", "sync", "-q"])
        .success();
    test.run_at("2026-11-10 02:00:00", &["run", "sync", "--dry-run", "-q"])
        .success();
    assert_eq!(runs(&test).len(), 3, "a dry run prunes nothing");
    let out = test.run_at("2026-11-10 03:00:00", &["run", "sync", "-q"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", ""),
        "quiet"
    );
    assert_eq!(
        runs(&test),
        owned(&[("sync", "2026-11-10T02:00"), ("sync", "2026-11-10T03:00")])
    );
    let verbose = test.run_at("2026-11-20 03:00:00", &["run", "sync", "-v"]);
    verbose
        .success()
        .stderr_has("pruned the history: 2 runs past their retention deleted, 0 dedupe keys past `dedupe_for` freed");
    assert_eq!(runs(&test), owned(&[("sync", "2026-11-20T03:00")]));
}

/// Reads the dedupe keys the store holds, straight from the database.
fn dedupe_keys(test: &Test) -> Vec<Option<String>> {
    let db = rusqlite::Connection::open(test.state_dir().join("integ.db")).unwrap();
    let mut statement = db
        .prepare("SELECT dedupe_key FROM runs WHERE integration = 'hook' ORDER BY started_at")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_listener_prunes_past_retention_and_frees_dedupe_keys_past_dedupe_for() {
    let test = Test::new().config(
        r#"
[integration.hook]
retention = "1d"
[integration.hook.webhook]
path = "hook"
auth.none = true
dedupe = "{{ trigger.body.id }}"
dedupe_for = "2d"
[[integration.hook.steps]]
command.argv = ["true"]

[integration.nightly]
retention = "1d"
[[integration.nightly.steps]]
command.argv = ["true"]
"#,
    );
    {
        let listener = Listener::start_at(&test, "2026-11-01 12:00:00", &[]);
        for id in ["a", "b"] {
            let body = format!(r#"{{"id": "{id}"}}"#);
            let (status, _) = request(&listener.addr, "POST", "/hooks/hook", &[], body.as_bytes());
            assert_eq!(status, 202);
            test.wait_for_newest_run("succeeded");
        }
    }
    test.run_at("2026-11-01 13:00:00", &["run", "nightly", "-q"])
        .success();
    test.run_at("2026-11-01 14:00:00", &["run", "nightly", "-q"])
        .success();
    assert_eq!(runs(&test).len(), 4);
    assert_eq!(dedupe_keys(&test), [Some("a".into()), Some("b".into())]);

    // A month on, the listener prunes as it starts: each integration keeps its newest run,
    // and `b` keeps its run but not its key, older than `dedupe_for`.
    let _listener = Listener::start(&test, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while runs(&test).len() > 2 {
        assert!(Instant::now() < deadline, "never pruned: {:?}", runs(&test));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        runs(&test),
        owned(&[
            ("hook", "2026-11-01T12:00"),
            ("nightly", "2026-11-01T14:00")
        ])
    );
    assert_eq!(dedupe_keys(&test), [None]);
    wait_for_log_line(
        &test,
        "pruned the history: 2 runs past their retention deleted, 1 dedupe keys past `dedupe_for` freed",
    );
}
