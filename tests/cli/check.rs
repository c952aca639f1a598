//! `integ check` and loading the file: every problem at once, each at its place; the same
//! failure from every command that loads the file; where the file is looked for.

use crate::support::Test;

fn check_output(toml: &str) -> String {
    let test = Test::new().config(toml);
    let out = test.run(&["check"]);
    out.code(2);
    assert_eq!(out.stdout, "");
    out.stderr
}

#[test]
fn broken_toml_points_at_the_syntax_error() {
    let stderr = check_output(
        r#"
[integration.a]
description = "unterminated
"#,
    );
    assert!(stderr.contains("--> integrations.toml:3:28"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_key_is_reported_with_line_column_and_expected_keys() {
    let stderr = check_output(
        r#"[integration.a]
[[integration.a.steps]]
command = { argv = ["echo"], timout = "5s" }
"#,
    );
    assert!(
        stderr.contains("error: unknown field `timout`, expected one of `argv`, `shell`"),
        "{stderr}"
    );
    assert!(stderr.contains("--> integrations.toml:3:30"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn every_problem_is_reported_at_once() {
    let stderr = check_output(
        r#"
[secrets]
crm = { env = "INTEG_TEST_UNSET_SECRET" }
both = { env = "A", file = "b" }

[integration.a]
descripton = "typo"
params.n = { type = "integr" }
params.when = { type = "date", default = "tomorrow" }
schedule = "61 * * * *"
timeout = "soon"

[[integration.a.steps]]
id = "first"
command.argv = ["echo", "{{ steps.second.stdout }} {{ parms.x }} {{ params.nn }} {{ secrets.nope }}"]

[[integration.a.steps]]
id = "second"
htp = { url = "x" }

[[integration.a.steps]]
command.shell = "echo {{ params.when }}"

[[integration.a.steps]]
command.argv = ["echo", "{{ params.when | }}"]

[integration.b]
description = "no steps"
"#,
    );
    assert!(
        stderr.ends_with("error: `integrations.toml` has 15 problems\n"),
        "{stderr}"
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_valid_file_passes() {
    let test = Test::new().config(
        r#"
[integration.ok]
schedule = "*/15 * * * *"
[[integration.ok.steps]]
command.argv = ["true"]
"#,
    );
    let out = test.run(&["check"]);
    out.success()
        .stderr_has("`integrations.toml` is valid: 1 integration");
}

#[test]
fn check_reports_unreadable_secrets_and_run_passes_them_when_set() {
    let test = Test::new().config(
        r#"
[secrets]
key = { env = "INTEG_TEST_KEY" }
file_key = { file = "missing.key" }
[integration.ok]
[[integration.ok.steps]]
command.argv = ["echo", "{{ secrets.key | length }}"]
"#,
    );
    test.run(&["check"])
        .code(2)
        .stderr_has("secret `key` is missing: environment variable `INTEG_TEST_KEY` is not set")
        .stderr_has("--> integrations.toml:3:1")
        .stderr_has("secret `file_key` cannot be read from `")
        .stderr_has("missing.key`: No such file or directory")
        .stderr_has("has 2 problems");
}

#[test]
fn every_command_that_loads_the_file_fails_the_same_way() {
    let test = Test::new().config("[integration.a\n");
    let check = test.run(&["check"]);
    check.code(2).stderr_has("--> integrations.toml:1:");
    for args in [&["run", "a"][..], &["list"], &["list", "--json"]] {
        let out = test.run(args);
        out.code(2);
        assert_eq!(out.stderr, check.stderr, "{args:?}");
    }
}

#[test]
fn the_file_is_found_by_flag_env_cwd_then_xdg() {
    let test = Test::new()
        .write(
            "elsewhere/flag.toml",
            "[integration.from_flag]\n[[integration.from_flag.steps]]\ncommand.argv = [\"true\"]\n",
        )
        .write(
            "elsewhere/env.toml",
            "[integration.from_env]\n[[integration.from_env.steps]]\ncommand.argv = [\"true\"]\n",
        )
        .write(
            "xdg-config/integ/integrations.toml",
            "[integration.from_xdg]\n[[integration.from_xdg.steps]]\ncommand.argv = [\"true\"]\n",
        );
    let names = |out: &crate::support::Output| -> Vec<String> {
        out.success();
        out.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&test.run(&["list", "--json"])), ["from_xdg"]);
    let test = test.write(
        "integrations.toml",
        "[integration.from_cwd]\n[[integration.from_cwd.steps]]\ncommand.argv = [\"true\"]\n",
    );
    assert_eq!(names(&test.run(&["list", "--json"])), ["from_cwd"]);
    let test = test.env("INTEG_CONFIG", "elsewhere/env.toml");
    assert_eq!(names(&test.run(&["list", "--json"])), ["from_env"]);
    assert_eq!(
        names(&test.run(&["list", "--json", "--config", "elsewhere/flag.toml"])),
        ["from_flag"]
    );
}

#[test]
fn no_file_anywhere_is_a_usage_error() {
    let test = Test::new();
    test.run(&["list"])
        .code(2)
        .stderr_has("error: no `integrations.toml` found")
        .stderr_has("hint: pass `--config PATH` or set `INTEG_CONFIG`");
    test.run(&["check", "--config", "nope.toml"])
        .code(2)
        .stderr_has("failed to read `nope.toml`");
}

#[test]
fn bad_command_lines_exit_2_and_help_exits_0() {
    let test = Test::new();
    test.run(&["run"]).code(2).stderr_has("required");
    test.run(&["frobnicate"]).code(2);
    test.run(&["--help"]).success().stdout_has("Exit codes:");
    let version = test.run(&["--version"]);
    version.success();
    assert!(version.stdout.starts_with("integ "), "{}", version.stdout);
}

#[test]
fn webhook_mistakes_are_reported_at_once() {
    let stderr = check_output(
        r#"
[integration.a]
[integration.a.webhook]
path = "has space"
params.missing = "{{ trigger.body.id }}"
dedupe_for = "7d"
[[integration.a.steps]]
command.argv = ["true"]

[integration.b]
[integration.b.webhook]
path = "b"
auth.none = true
dedupe = "{{ trigger.body.id }}"
dedupe_for = "a week"
[[integration.b.steps]]
command.argv = ["true"]
"#,
    );
    for expected in [
        "invalid webhook path `has space`",
        "webhook of `a` has no `auth`",
        "webhook maps param `missing`, which `a` does not declare",
        "`dedupe_for` has no `dedupe` key to keep",
        "invalid duration `a week`",
    ] {
        assert!(stderr.contains(expected), "lacks {expected:?}:\n{stderr}");
    }
}

#[test]
fn check_computes_defaults_that_need_no_environment() {
    let stderr = check_output(
        r#"
[integration.a]
params.day = { type = "date", default = "{{ now }}" }
params.since = { type = "datetime", default = "{{ today | add_days(-1) }}" }
params.n = { type = "integer", default = "{{ today | add_hours(1) }}" }
params.code = { type = "string", default = "{{ today }}", pattern = "[A-Z]+" }
params.when = { type = "date", default = "abc" }
params.ok = { type = "datetime", default = "{{ now | add_days(-1) }}" }
params.ok_day = { type = "date", default = "{{ today | start_of_month }}" }
params.later = { type = "integer", default = "{{ env.DAYS }}" }
[[integration.a.steps]]
command.argv = ["true"]
"#,
    );
    // The values depend on the day; what is wrong with them does not.
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\d(T[0-9:.]+[+-]\d\d:\d\d)?", "[date]"),
    ]}, {
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn a_wrong_expect_type_does_not_hide_an_unknown_secret() {
    let stderr = check_output(
        r#"
[integration.a]
[[integration.a.steps]]
http.get = "http://127.0.0.1:9/items"
http.expect = "200"
http.headers = { Authorization = "Bearer {{ secrets.x }}", X-Key = "{{ secret.x }}" }
"#,
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_bad_paginate_key_does_not_also_claim_the_step_has_no_records() {
    let stderr = check_output(
        r#"
[integration.a]
[[integration.a.steps]]
id = "fetch"
http.get = "http://127.0.0.1:9/items"
http.records = "{{ body.items }}"
http.paginate = { offest = { limit = 100 } }

[[integration.a.steps]]
output = { format = "jsonl", records_of = "fetch" }
"#,
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_second_integration_table_points_at_the_first() {
    let stderr = check_output(
        r#"[integration.report]
description = "monthly"
[[integration.report.steps]]
command.argv = ["true"]

[integration.other]
[[integration.other.steps]]
command.argv = ["true"]

[integration.report]
description = "weekly"
schedule = "0 6 * * 1"
"#,
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_quoted_status_code_asks_for_a_status_code() {
    let stderr = check_output(
        r#"
[integration.a]
[[integration.a.steps]]
http = { post = "http://127.0.0.1:9/invoices", expect = ["201"] }

[[integration.a.steps]]
http = { get = "http://127.0.0.1:9/invoices", expect = [200, 1000] }
"#,
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_wrong_value_brings_no_follow_on_errors() {
    let stderr = check_output(
        r#"
[integration.a]
params.day = { type = 5, default = "{{ today }}" }
params.n = { type = "integer", default = "x", max_length = "long" }

[[integration.a.steps]]
http = { get = 5 }

[[integration.a.steps]]
command = { argv = "echo", timeout = "soon" }

[[integration.a.steps]]
for_each = { items = 5 }
command.argv = ["echo", "{{ item }}", "{{ params.day }}", "{{ secrets.y }}"]

[[integration.a.steps]]
output = { format = "xml", value = "{{ secrets.z }}" }

[[integration.a.steps]]
id = "fetch"
http = { get = "http://127.0.0.1:9/{{ params.nope }}", records = "{{ body }}" }

[[integration.a.steps]]
for_each = { records_of = "fetch" }
command.argv = ["echo", "{{ item }}"]

[[integration.a.steps]]
comand.argv = ["echo"]
"#,
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_key_given_twice_in_one_table_is_named() {
    let stderr = check_output(
        r#"[integration.a]
description = "one"
description = "two"
[[integration.a.steps]]
command.argv = ["true"]
"#,
    );
    assert!(
        stderr.starts_with("error: duplicate key `description`\n --> integrations.toml:3:1\n"),
        "{stderr}"
    );
    assert!(stderr.ends_with("has 1 problem\n"), "{stderr}");
}
