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
