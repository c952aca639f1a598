//! What an output step writes is the run's product: on stdout whatever `-q` says, kept with the
//! run (bounded) for `integ output`, the same a waiting webhook request gets, and nothing at
//! all for no records when `if_empty = "skip"`.

use serde_json::json;

use crate::http_server::{Reply, Server};
use crate::serve_hook::Listener;
use crate::support::Test;

const REPORT: &str = r#"
[integration.report]
[[integration.report.steps]]
id = "contacts"
http.get = "SERVER/contacts"
http.records = "{{ body.data }}"

[[integration.report.steps]]
output = { format = "csv", records_of = "contacts", columns = ["id", "name"] }
"#;

fn contacts(records: serde_json::Value) -> Server {
    Server::start(move |_, _| Reply::json(json!({ "data": records.clone() })))
}

#[test]
fn quiet_never_holds_back_what_an_output_step_writes_and_the_run_keeps_it() {
    let server = contacts(json!([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace, B."}]));
    let test = Test::new().config(&REPORT.replace("SERVER", &server.url("")));
    let csv = "id,name\n1,Ada\n2,\"Grace, B.\"\n";
    let out = test.run(&["run", "report", "-q"]);
    out.success().stdout_is(csv);
    assert_eq!(out.stderr, "", "quiet on success");
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    test.run(&["output", &id]).success().stdout_is(csv);
    // A command's shown lines are part of the output as well; under `-q` they are not shown.
    let hello = Test::new().config(
        "[integration.hello]\n[[integration.hello.steps]]\ncommand.argv = [\"echo\", \"Hello\"]\n",
    );
    hello.run(&["run", "hello", "-q"]).success().stdout_is("");
    let id = hello.history()[0]["id"].as_str().unwrap().to_owned();
    hello.run(&["output", &id]).success().stdout_is("Hello\n");
}

#[test]
fn an_output_over_its_limit_is_kept_cut_and_says_so() {
    let test = Test::new().config(
        r#"
[integration.big]
[[integration.big.steps]]
output = { format = "text", template = "{% for i in range(400) %}{% for j in range(1000) %}line {{ i }} {{ j }}\n{% endfor %}{% endfor %}" }
"#,
    );
    let out = test.run(&["run", "big", "-q"]);
    out.success();
    let written = out.stdout.len();
    assert!(
        written > 2 << 20,
        "the whole output reached stdout: {written}"
    );
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    let kept = test.run(&["output", &id]);
    kept.success().stderr_has(&format!(
        "warning: the output of run `{id}` was cut: {} more bytes were not kept",
        written - (1 << 20)
    ));
    assert_eq!(kept.stdout.len(), 1 << 20);
    assert!(out.stdout.starts_with(&kept.stdout));
    test.run(&["logs", &id]).success().stdout_has(&format!(
        "output:      1048576 bytes kept, {} more cut",
        written - (1 << 20)
    ));
}

#[test]
fn an_output_with_no_records_writes_nothing_when_told_to() {
    let server = contacts(json!([]));
    let toml = format!(
        r#"
[integration.export]
[[integration.export.steps]]
id = "changed"
http.get = "{url}/contacts"
http.records = "{{{{ body.data }}}}"
[[integration.export.steps]]
output = {{ format = "csv", records_of = "changed", columns = ["id"], to = "changed.csv", if_empty = "skip" }}

[integration.shown]
[[integration.shown.steps]]
id = "changed"
http.get = "{url}/contacts"
http.records = "{{{{ body.data }}}}"
[[integration.shown.steps]]
output = {{ format = "csv", records_of = "changed", columns = ["id"], if_empty = "skip" }}

[integration.always]
[[integration.always.steps]]
id = "changed"
http.get = "{url}/contacts"
http.records = "{{{{ body.data }}}}"
[[integration.always.steps]]
output = {{ format = "csv", records_of = "changed", columns = ["id"], to = "always.csv" }}
"#,
        url = server.url("")
    );
    let test = Test::new().config(&toml);
    test.run(&["run", "export"]).success();
    let dir = test.state_dir().parent().unwrap().to_owned();
    assert!(!dir.join("changed.csv").exists(), "no file for no records");
    // Yesterday's export stays as it was.
    std::fs::write(dir.join("changed.csv"), "id\n7\n").unwrap();
    test.run(&["run", "export"]).success();
    assert_eq!(test.read("changed.csv"), "id\n7\n");
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    test.run(&["logs", &id])
        .success()
        .stdout_has("no records: nothing written to `")
        .stdout_has("changed.csv` (`if_empty = \"skip\"`)");
    test.run(&["run", "shown"]).success().stdout_is("");
    // Without it, the header is written as before.
    test.run(&["run", "always"]).success();
    assert_eq!(test.read("always.csv"), "id\n");
}

#[test]
fn if_empty_is_checked() {
    let test = Test::new().config(
        r#"
[integration.x]
[[integration.x.steps]]
output = { format = "text", template = "hi", if_empty = "skip" }

[integration.y]
[[integration.y.steps]]
output = { format = "json", value = "[]", if_empty = "never" }
"#,
    );
    test.run(&["check"])
        .code(2)
        .stderr_has("error: `if_empty` is for an output of records (`records_of` or `value`); this one writes its `template` once")
        .stderr_has("error: unknown variant `never`, expected `write` or `skip`");
}

#[test]
fn a_respond_output_run_slower_than_its_timeout_keeps_its_output_for_later() {
    let test = Test::new().config(
        r#"
[integration.slow]
[integration.slow.webhook]
path = "slow"
auth.none = true
respond = "output"
respond_timeout = "200ms"
[[integration.slow.steps]]
command.argv = ["sh", "-c", "sleep 1; echo late report"]
"#,
    );
    let listener = Listener::start(&test, &[]);
    let (status, answer) = listener.post("/hooks/slow", &[], "{}");
    assert_eq!(status, 202, "{answer}");
    let id = answer["run_id"].as_str().unwrap().to_owned();
    assert_eq!(answer["output"], json!(format!("integ output {id}")));
    test.wait_for_newest_run("succeeded");
    test.run(&["output", &id])
        .success()
        .stdout_is("late report\n");
}

#[test]
fn a_runs_start_reads_in_the_json_form_and_now_to_the_millisecond() {
    let test = Test::new().config(
        r#"
[integration.when]
[[integration.when.steps]]
output = { format = "json", value = "{{ {'started_at': run.started_at, 'now': now} }}" }
"#,
    );
    let out = test.run(&["run", "when"]);
    let times = out.success().json();
    let started = times["started_at"].as_str().unwrap();
    let now = times["now"].as_str().unwrap();
    let utc = regex_like(started, "dddd-dd-ddTdd:dd:dd.dddZ");
    assert!(utc, "{started}");
    assert!(regex_like(&now[..23], "dddd-dd-ddTdd:dd:dd.ddd"), "{now}");
    assert!(
        matches!(&now[23..24], "+" | "-" | "Z"),
        "{now}: local, with its offset"
    );
    assert_eq!(test.history()[0]["started_at"].as_str(), Some(started));
}

/// Whether `text` has the shape of `pattern`, where `d` is any digit.
fn regex_like(text: &str, pattern: &str) -> bool {
    text.len() == pattern.len()
        && text
            .chars()
            .zip(pattern.chars())
            .all(|(c, p)| if p == 'd' { c.is_ascii_digit() } else { c == p })
}
