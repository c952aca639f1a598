//! `integ list`: the table for people, JSON for scripts, with the last run of each.

use crate::support::Test;

const FILE: &str = r#"
[integration.hello]
description = "Greet someone"
params.name = { type = "string", default = "world", help = "who to greet" }
[[integration.hello.steps]]
command.argv = ["echo", "Hello, {{ params.name }}!"]

[integration.nightly-export]
description = "Changed contacts to CSV"
schedule = "30 2 * * *"
overlap = "fail"
timeout = "10m"
params.format = { type = "choice", values = ["csv", "json"], default = "csv" }
params.since = { type = "date" }
[[integration.nightly-export.steps]]
command.argv = ["false"]
"#;

fn filters() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "[TIME]");
    settings.add_filter(r"\(\d+(\.\d+)?m?s\)", "([DURATION])");
    settings.add_filter(r"state: .*", "state: [STATE]");
    settings
}

#[test]
fn list_shows_params_triggers_and_last_run() {
    let test = Test::new().config(FILE);
    test.run(&["run", "hello"]).success();
    test.run(&["run", "nightly-export", "-p", "since=2026-01-01"])
        .code(1);
    let out = test.run(&["list"]);
    out.success();
    assert_eq!(out.stderr, "");
    assert!(
        out.stdout
            .ends_with(&format!("\n\nstate: {}\n", test.state_dir().display())),
        "{}",
        out.stdout
    );
    filters().bind(|| insta::assert_snapshot!(out.stdout));
}

#[test]
fn list_json_is_for_scripts() {
    let test = Test::new().config(FILE);
    let out = test.run(&["list", "--json"]);
    out.success();
    let items = out.json();
    let hello = &items[0];
    assert_eq!(hello["name"], "hello");
    assert_eq!(hello["params"][0]["default"], "world");
    assert_eq!(hello["params"][0]["required"], false);
    assert_eq!(hello["last_run"], serde_json::Value::Null);
    let export = &items[1];
    assert_eq!(export["triggers"]["schedule"]["cron"], "30 2 * * *");
    let next_run = export["triggers"]["schedule"]["next_run"].as_str().unwrap();
    let next_run = chrono::DateTime::parse_from_rfc3339(next_run).unwrap();
    assert_eq!(
        next_run
            .with_timezone(&chrono::Local)
            .format("%H:%M")
            .to_string(),
        "02:30"
    );
    assert_eq!(export["params"][1]["required"], true);
    assert_eq!(
        export["params"][0]["values"],
        serde_json::json!(["csv", "json"])
    );
    assert_eq!(export["overlap"], "fail");
    assert_eq!(export["timeout_secs"], 600.0);

    test.run(&["run", "hello"]).success();
    let after = test.run(&["list", "--json"]).json();
    assert_eq!(after[0]["last_run"]["status"], "succeeded");
    assert!(after[0]["last_run"]["duration_ms"].as_i64().is_some());
}
