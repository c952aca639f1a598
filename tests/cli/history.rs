//! `integ history` and `integ logs`, and the store under several writers at once.

use crate::support::{Test, finish};

const FILE: &str = r#"
[integration.ok]
[[integration.ok.steps]]
command.argv = ["echo", "fine"]

[integration.bad]
[[integration.bad.steps]]
command.argv = ["sh", "-c", "echo broken >&2; exit 1"]

[integration.parallel]
overlap = "wait"
params.n = { type = "integer" }
[[integration.parallel.steps]]
command.argv = ["echo", "{{ params.n }}"]
"#;

#[test]
fn history_filters_by_name_and_failure() {
    let test = Test::new().config(FILE);
    test.run(&["history"]).success().stderr_has("no runs yet");
    test.run(&["run", "ok"]).success();
    test.run(&["run", "bad"]).code(1);
    test.run(&["run", "ok"]).success();

    let table = test.run(&["history"]);
    table.success();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", table.stdout);
    assert!(
        lines[0].starts_with("RUN") && lines[0].contains("STATUS"),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].contains("bad")
            && lines[2].contains("failed")
            && lines[2].contains("exited with code 1")
    );

    assert_eq!(
        test.run(&["history", "ok", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let failed = test.run(&["history", "--failed", "--json"]).json();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["integration"], "bad");
    assert_eq!(
        test.run(&["history", "-n", "1", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn logs_by_id_prefix_and_errors_for_unknown_ids() {
    let test = Test::new().config(FILE);
    test.run(&["run", "bad"]).code(1);
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    test.run(&["logs", &id]).success().stdout_has("! broken");
    test.run(&["logs", &id[..18]])
        .success()
        .stdout_has("! broken");
    test.run(&["logs", "ffffffff-0000"])
        .code(2)
        .stderr_has("no run with id `ffffffff-0000`");
}

#[test]
fn many_processes_write_the_store_at_once() {
    let test = Test::new().config(FILE);
    let children: Vec<_> = (0..12)
        .map(|n| test.spawn(&["run", "parallel", "-p", &format!("n={n}")]))
        .collect();
    for child in children {
        finish(child).success();
    }
    let history = test.history();
    assert_eq!(history.len(), 12);
    assert!(
        history.iter().all(|run| run["status"] == "succeeded"),
        "{history:?}"
    );
    let mut ns: Vec<i64> = history
        .iter()
        .map(|run| run["params"]["n"].as_i64().unwrap())
        .collect();
    ns.sort();
    assert_eq!(ns, (0..12).collect::<Vec<_>>());
}

/// Every string in `value` that starts like a time, with where it is.
fn times(value: &serde_json::Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::String(text)
            if regex::Regex::new(r"^\d{4}-\d{2}-\d{2}[T ]\d")
                .unwrap()
                .is_match(text) =>
        {
            found.push((at.to_owned(), text.clone()));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                times(item, &format!("{at}[{i}]"), found);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                times(item, &format!("{at}.{key}"), found);
            }
        }
        _ => {}
    }
}

/// Regression: `history --json` printed `…944143Z`, `list --json` `…+00:00`.
#[test]
fn every_time_in_every_json_output_has_one_form() {
    let test = Test::new().config(&format!(
        "{FILE}\n[integration.nightly]\nschedule = \"30 2 * * *\"\n[[integration.nightly.steps]]\ncommand.argv = [\"true\"]\n"
    ));
    test.run(&["run", "ok"]).success();
    test.run(&["run", "bad"]).code(1);
    test.run(&["run", "nightly", "--scheduled"]).success();
    let one_form = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    for args in [
        &["history", "--json"][..],
        &["history", "--failed", "--json"],
        &["list", "--json"],
    ] {
        let out = test.run(args);
        out.success();
        let mut found = Vec::new();
        times(&out.json(), "", &mut found);
        let keys: Vec<&str> = found
            .iter()
            .map(|(at, _)| at.rsplit('.').next().unwrap())
            .collect();
        // Not vacuous: each output has its times, of each kind it holds.
        let expected: &[&str] = if args[0] == "list" {
            &["started_at", "ended_at", "next_run"]
        } else {
            &["started_at", "ended_at"]
        };
        for key in expected {
            assert!(
                keys.contains(key),
                "`{}` has no `{key}`: {found:?}",
                args.join(" ")
            );
        }
        for (at, time) in &found {
            assert!(
                one_form.is_match(time),
                "`{}` {at} = {time:?} is not RFC 3339 UTC to the millisecond",
                args.join(" ")
            );
        }
    }
}

const SECRET: &str = r#"
[secrets]
present = { env = "PRESENT_TOKEN" }
absent = { env = "ABSENT_TOKEN" }

[integration.nightly]
schedule = "30 2 * * *"
[[integration.nightly.steps]]
command.argv = ["echo", "{{ secrets.present }} {{ secrets.absent }}"]
"#;

/// A scheduled run that cannot start is in `history --failed` and `list`: cron's mail is
/// otherwise the only trace, and a machine without a mail transfer agent loses even that.
#[test]
fn a_scheduled_run_of_a_broken_file_is_recorded() {
    let test = Test::new().config("[integration.nightly\n");
    test.run(&["run", "nightly", "--scheduled", "-q"])
        .code(2)
        .stderr_has("unclosed table");
    let failed = test.run(&["history", "--failed", "--json"]).json();
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["integration"], "nightly");
    assert_eq!(failed[0]["trigger"], "schedule");
    assert_eq!(failed[0]["status"], "failed");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("did not start: integrations.toml:1:")
            && error.contains("unclosed table"),
        "{error}"
    );
    let id = failed[0]["id"].as_str().unwrap();
    test.run(&["logs", id])
        .success()
        .stdout_has("unclosed table");

    // Once the file is fixed, `list` shows the failure as the last run.
    let test = test
        .config(SECRET)
        .env("PRESENT_TOKEN", "p")
        .env("ABSENT_TOKEN", "a");
    let list = test.run(&["list"]);
    let row = list
        .success()
        .stdout
        .lines()
        .find(|l| l.starts_with("nightly"))
        .unwrap();
    assert!(row.contains("failed"), "{}", list.stdout);
}

#[test]
fn a_scheduled_run_missing_a_secret_is_recorded_without_secret_values() {
    let test = Test::new()
        .config(SECRET)
        .env("PRESENT_TOKEN", "s3cr3t-present-value");
    test.run(&["run", "nightly", "--scheduled", "-q"])
        .code(2)
        .stderr_has("cannot run `nightly`");
    let failed = test.run(&["history", "--failed", "--json"]);
    let runs = failed.json();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    let error = runs[0]["error"].as_str().unwrap();
    assert!(
        error.contains("cannot run `nightly`") && error.contains("absent"),
        "{error}"
    );
    let id = runs[0]["id"].as_str().unwrap();
    let log = test.run(&["logs", id]);
    for shown in [
        &failed.stdout,
        &log.success().stdout,
        &test.run(&["history"]).stdout,
    ] {
        assert!(!shown.contains("s3cr3t-present-value"), "{shown}");
    }
    let list = test.run(&["list"]);
    let row = list
        .success()
        .stdout
        .lines()
        .find(|l| l.starts_with("nightly"))
        .unwrap();
    assert!(row.contains("failed"), "{}", list.stdout);
}

#[test]
fn a_manual_run_that_cannot_start_leaves_no_record() {
    // A person at a terminal sees the error; only an unattended run needs the record.
    let test = Test::new().config(SECRET);
    test.run(&["run", "nightly"]).code(2);
    test.run(&["run", "nightly", "-p", "nope"]).code(2);
    assert_eq!(test.history().len(), 0);
}

#[test]
fn a_scheduled_run_of_an_unknown_integration_is_recorded_under_the_name_given() {
    // A typo in a crontab line fails every night; the record says so.
    let test = Test::new().config(FILE);
    test.run(&["run", "nightlly", "--scheduled", "-q"]).code(2);
    let runs = test.history();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["integration"], "nightlly");
    assert!(
        runs[0]["error"].as_str().unwrap().contains("nightlly"),
        "{runs:?}"
    );
}

#[test]
fn a_scheduled_run_without_a_file_is_recorded_only_where_a_state_dir_is_named() {
    let test = Test::new();
    test.run(&["run", "nightly", "--scheduled", "-q"])
        .code(2)
        .stderr_has("no `integrations.toml` found");
    // `INTEG_STATE_DIR` names where this machine's runs go: the failure is kept there.
    let runs = test.history();
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0]["error"]
            .as_str()
            .unwrap()
            .contains("no `integrations.toml` found")
    );

    // Without it there is no file, so no project and no state dir of one: nothing is created.
    let out = test
        .command(&["run", "nightly", "--scheduled", "-q"])
        .env_remove("INTEG_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("failed to record"), "{stderr}");
    assert!(!test.state_dir().with_file_name("xdg-state").exists());
}
