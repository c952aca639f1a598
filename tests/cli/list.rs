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

const COMPUTED: &str = r#"
[integration.monthly-report]
description = "Sales of a month, to the screen, with a description long enough to wrap"
params.from = { type = "date", default = "{{ today | start_of_month }}" }
params.region = { type = "string", default = "{{ env.REGION }}" }
params.broken = { type = "integer", default = "{{ env.REGION }}" }
[[integration.monthly-report.steps]]
command.argv = ["echo", "{{ params.from }}"]

[integration.nightly-export]
description = "Changed contacts since the last run, as CSV"
schedule = "30 2 * * *"
[[integration.nightly-export.steps]]
command.argv = ["echo", "x"]
"#;

#[test]
fn list_shows_computed_defaults_as_a_run_now_gets_them() {
    let test = Test::new().config(COMPUTED).env("REGION", "eu-west");
    let out = test.run(&["list"]);
    out.success();
    let from =
        regex::Regex::new(r"from: date = \d{4}-\d{2}-01 \(\{\{ today \| start_of_month \}\}\)")
            .unwrap();
    assert!(from.is_match(&out.stdout), "{}", out.stdout);
    out.stdout_has("region: string = eu-west ({{ env.REGION }})");
    // A default that cannot be computed says so instead of failing the whole list.
    out.stdout_has("broken: integer = {{ env.REGION }} (error: the default of param `broken`");

    let json = test.run(&["list", "--json"]).json();
    let params = &json[0]["params"];
    assert!(
        regex::Regex::new(r"^\d{4}-\d{2}-01$")
            .unwrap()
            .is_match(params[0]["default"].as_str().unwrap()),
        "{params}"
    );
    assert_eq!(
        params[0]["default_template"],
        "{{ today | start_of_month }}"
    );
    assert_eq!(params[1]["default"], "eu-west");
    assert_eq!(params[2]["default"], serde_json::Value::Null);
    assert!(
        params[2]["default_error"]
            .as_str()
            .unwrap()
            .contains("expected an integer"),
        "{params}"
    );
}

#[test]
fn list_fits_the_width_in_columns() {
    let test = Test::new().config(COMPUTED).env("REGION", "eu-west");
    let out = test.run(&["list"]).success().stdout.clone();
    // Piped without `COLUMNS`, each row keeps to one line for `grep`.
    assert!(
        out.lines()
            .any(|line| line.contains("monthly-report") && line.contains("long enough to wrap")),
        "{out}"
    );
    let test = test.env("COLUMNS", "60");
    let narrow = test.run(&["list"]);
    narrow.success();
    // The state line is a path; the table is what must fit.
    let table = narrow.stdout.split("\n\nstate: ").next().unwrap();
    for line in table.lines() {
        assert!(
            line.chars().count() <= 60,
            "{} columns: {line:?}",
            line.chars().count()
        );
    }
    // Names are never cut in two; every param and trigger is still there.
    for needle in ["monthly-report", "nightly-export", "eu-west", "schedule"] {
        narrow.stdout_has(needle);
    }
    let table = regex::Regex::new(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?")
        .unwrap()
        .replace_all(table, "[TIME]");
    insta::assert_snapshot!(table);
}

#[test]
fn a_columns_value_that_is_no_width_is_ignored() {
    let test = Test::new().config(COMPUTED).env("REGION", "eu-west");
    for columns in ["", "wide", "0", "-3"] {
        let out = test
            .command(&["list"])
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout
                .lines()
                .any(|line| line.contains("long enough to wrap")),
            "COLUMNS={columns:?}:\n{stdout}"
        );
    }
}

#[test]
fn one_template_shared_by_several_params_is_checked_for_each() {
    let test = Test::new()
        .config(
            r#"
[integration.a]
params.code = { type = "string", default = "{{ env.REGION }}" }
[[integration.a.steps]]
command.argv = ["true"]
[integration.b]
params.code = { type = "string", default = "{{ env.REGION }}", pattern = "[0-9]+" }
[[integration.b.steps]]
command.argv = ["true"]
[integration.c]
params.code = { type = "integer", default = "{{ env.REGION }}" }
[[integration.c.steps]]
command.argv = ["true"]
[integration.d]
params.code = { type = "string", default = "{{ env.REGION }}" }
[[integration.d.steps]]
command.argv = ["true"]
"#,
        )
        .env("REGION", "eu-west");
    let json = test.run(&["list", "--json"]).json();
    let defaults: Vec<&serde_json::Value> =
        (0..4).map(|i| &json[i]["params"][0]["default"]).collect();
    assert_eq!(defaults[0], "eu-west");
    assert_eq!(
        defaults[1],
        &serde_json::Value::Null,
        "its pattern refuses it"
    );
    assert_eq!(defaults[2], &serde_json::Value::Null, "not an integer");
    assert_eq!(defaults[3], "eu-west");
}

/// A default may read the environment variable a secret comes from: `list` hides the value
/// as a run's record does, in the value and in the error of a default that does not fit.
#[test]
fn computed_defaults_hide_secret_values() {
    let test = Test::new()
        .config(
            r#"
[secrets]
key = { env = "CRM_KEY" }
[integration.a]
params.label = { type = "string", default = "{{ env.CRM_KEY }}" }
params.count = { type = "integer", default = "{{ env.CRM_KEY }}" }
[[integration.a.steps]]
command.argv = ["true"]
"#,
        )
        .env("CRM_KEY", "hush-hush-1234");
    for args in [&["list"][..], &["list", "--json"]] {
        let out = test.run(args);
        out.success();
        assert!(!out.stdout.contains("hush-hush-1234"), "{}", out.stdout);
        out.stdout_has("expected an integer");
    }
}
