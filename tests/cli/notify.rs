//! Failure notification and dead-man pings: `on_failure` steps and healthchecks.io-style pings,
//! against real servers on 127.0.0.1 that record what they receive.

use crate::http_server::{Recorded, Reply, Server};
use crate::leaks::files_under;
use crate::serve_hook::{Listener, wait_for_lines};
use crate::support::{Test, finish};

const UUID: &str = "5f1e0c1a-7d2b-4e51-9a3c-0b8d6e2f4a17";

/// The newest run's id.
fn newest_id(test: &Test) -> String {
    test.history()[0]["id"].as_str().unwrap().to_owned()
}

/// The requests to paths under `/UUID`, as `path?query` with the UUID left out.
fn pings(server: &Server) -> Vec<(String, Recorded)> {
    server
        .requests()
        .into_iter()
        .filter_map(|r| {
            let rest = r.uri.strip_prefix(&format!("/{UUID}"))?.to_owned();
            Some((rest, r))
        })
        .collect()
}

#[test]
fn a_failed_run_posts_its_error_to_a_chat_webhook_and_runs_a_command() {
    let chat = Server::start(|_, _| Reply::json(serde_json::json!({"ok": true})));
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
[[integration.sync.steps]]
command.argv = ["sh", "-c", "echo fetching; test ! -f broken || exit 3"]
[[integration.sync.on_failure]]
http.post = "{chat}"
http.json = {{ text = "run {{{{ run.id }}}} failed: {{{{ run.error }}}}", tail = "{{{{ run.log_tail }}}}" }}
[[integration.sync.on_failure]]
command.argv = ["sh", "-c", "echo \"$0\" > mail.txt", "{{{{ run.trigger }}}}: {{{{ run.error }}}}"]
"#,
        chat = chat.url("/chat"),
    ));
    test.run(&["run", "sync"]).success();
    assert!(chat.requests().is_empty(), "a success notifies nobody");
    assert!(!test.state_dir().parent().unwrap().join("mail.txt").exists());

    std::fs::write(test.state_dir().parent().unwrap().join("broken"), "").unwrap();
    let out = test.run(&["run", "sync"]);
    out.code(1);
    let run = &test.history()[0];
    let id = run["id"].as_str().unwrap();
    let error = run["error"].as_str().unwrap();
    assert_eq!(run["status"], "failed");
    assert!(error.starts_with("step 1 failed"), "{error}");
    let sent = chat.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body = sent[0].json();
    assert_eq!(body["text"], format!("run {id} failed: {error}"));
    let tail = body["tail"].as_str().unwrap();
    assert!(tail.contains("step 1 | fetching"), "{tail}");
    assert!(tail.contains(&format!("failed: {error}")), "{tail}");
    assert_eq!(test.read("mail.txt"), format!("manual: {error}\n"));
    // Their lines are in the run's stored log, after the run's own.
    let log = test.run(&["logs", id]).success().stdout.clone();
    let failed_at = log
        .find("run > failed:")
        .expect("the run's failure is logged");
    let notified_at = log.find("on_failure step 1").expect("on_failure is logged");
    assert!(failed_at < notified_at, "{log}");
}

#[test]
fn an_on_failure_step_that_fails_is_logged_and_the_run_keeps_its_own_error() {
    let test = Test::new().config(
        r#"
[integration.sync]
[[integration.sync.steps]]
command.argv = ["sh", "-c", "exit 3"]
[[integration.sync.on_failure]]
command.argv = ["sh", "-c", "echo mail is down >&2; exit 9"]
[[integration.sync.on_failure]]
command.argv = ["touch", "after"]
"#,
    );
    let out = test.run(&["run", "sync"]);
    out.code(1);
    let run = &test.history()[0];
    assert_eq!(run["status"], "failed");
    let error = run["error"].as_str().unwrap();
    assert!(error.starts_with("step 1 failed"), "{error}");
    assert!(error.contains("code 3"), "{error}");
    assert!(!error.contains("on_failure"), "{error}");
    let log = test
        .run(&["logs", run["id"].as_str().unwrap()])
        .success()
        .stdout
        .clone();
    assert!(log.contains("mail is down"), "{log}");
    assert!(
        log.contains("run > warning: on_failure step 1 failed:"),
        "{log}"
    );
    // Like a run's steps, they stop at the first that fails.
    assert!(!test.state_dir().parent().unwrap().join("after").exists());
}

#[test]
fn a_run_pings_its_start_with_its_id_then_its_success() {
    let monitor = Server::start(|_, _| Reply::status(200, "OK"));
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
ping = "{url}"
[[integration.sync.steps]]
command.argv = ["true"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    test.run(&["run", "sync"]).success().stdout_is("");
    let id = newest_id(&test);
    let pings = pings(&monitor);
    let paths: Vec<&str> = pings.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [format!("/start?rid={id}"), format!("?rid={id}")],
        "{pings:?}"
    );
    assert!(pings.iter().all(|(_, r)| r.method == "POST"));
}

#[test]
fn a_failed_run_pings_its_exit_code_with_the_end_of_its_log_within_the_body_limit() {
    let monitor = Server::start(|request, _| {
        let reply = Reply::status(200, "OK");
        if request.path.ends_with("/start") {
            reply.header("Ping-Body-Limit", "300")
        } else {
            reply
        }
    });
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
ping = "{url}/"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "for i in $(seq 1 100); do echo line $i; done; exit 3"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    test.run(&["run", "sync"]).code(1);
    let id = newest_id(&test);
    let pings = pings(&monitor);
    assert_eq!(pings.len(), 2, "{pings:?}");
    let (path, failure) = &pings[1];
    assert_eq!(path, &format!("/1?rid={id}"));
    let body = &failure.body;
    assert!(body.len() <= 300, "{} bytes: {body}", body.len());
    assert!(body.contains("step 1 | line 100\n"), "{body}");
    assert!(body.contains("run > failed: step 1 failed"), "{body}");
    assert!(!body.contains("line 50\n"), "{body}");
    let log = test.run(&["logs", &id]).success().stdout.clone();
    assert!(log.ends_with(body.as_str()), "the body is the log's end");
}

#[test]
fn a_run_skipped_for_overlap_pings_log_with_the_reason() {
    let monitor = Server::start(|_, _| Reply::status(200, "OK"));
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
ping = "{url}"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "touch started; while [ ! -f go ]; do sleep 0.05; done"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    let first = test.spawn(&["run", "sync"]);
    test.wait_for_file("started");
    test.run(&["run", "sync", "--scheduled"])
        .code(75)
        .stdout_is("");
    let skipped = newest_id(&test);
    std::fs::write(test.state_dir().parent().unwrap().join("go"), "").unwrap();
    finish(first).success();
    let pings = pings(&monitor);
    let logs: Vec<_> = pings
        .iter()
        .filter(|(path, _)| path.starts_with("/log"))
        .collect();
    assert_eq!(logs.len(), 1, "{pings:?}");
    assert_eq!(logs[0].0, format!("/log?rid={skipped}"));
    assert!(
        logs[0].1.body.contains("`sync` is already running"),
        "{}",
        logs[0].1.body
    );
    // The skipped run neither started nor ended: only the first run's start and success.
    assert_eq!(pings.len(), 3, "{pings:?}");
}

#[test]
fn a_ping_server_that_answers_500_is_tried_again_and_never_fails_the_run() {
    let monitor = Server::start(|_, _| Reply::status(500, "down for maintenance"));
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
ping = "{url}"
[[integration.sync.steps]]
command.argv = ["true"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    let out = test.run(&["run", "sync"]);
    out.success()
        .stderr_has("failed to send the start ping to *** (4 attempts): it answered 500");
    assert_eq!(test.history()[0]["status"], "succeeded");
    let pings = pings(&monitor);
    let starts = pings
        .iter()
        .filter(|(p, _)| p.starts_with("/start"))
        .count();
    assert_eq!(starts, 4, "one try and three retries: {pings:?}");
    assert_eq!(pings.len(), 8, "{pings:?}");
    let log = test
        .run(&["logs", &newest_id(&test)])
        .success()
        .stdout
        .clone();
    assert!(
        log.contains("ping > warning: failed to send the success ping"),
        "{log}"
    );
}

#[test]
fn a_ping_server_that_is_down_never_fails_the_run() {
    // A port that was just free, and is closed again: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
ping = "http://127.0.0.1:{port}/{UUID}"
[[integration.sync.steps]]
command.argv = ["true"]
"#
    ));
    test.run(&["run", "sync"])
        .success()
        .stderr_has("failed to send the start ping")
        .stderr_has("failed to send the success ping");
    assert_eq!(test.history()[0]["status"], "succeeded");
}

#[test]
fn a_ping_uuid_from_a_secret_never_shows_in_output_history_logs_or_the_state_dir() {
    // The start ping fails (its warning names the URL); the others are answered.
    let monitor = Server::start(|request, _| {
        if request.path.ends_with("/start") {
            Reply::status(503, "busy")
        } else {
            Reply::status(200, "OK")
        }
    });
    let test = Test::new().env("HC_UUID", UUID).config(&format!(
        r#"
[secrets]
hc = {{ env = "HC_UUID" }}

[integration.sync]
ping = "{url}/{{{{ secrets.hc }}}}"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "exit 3"]
[[integration.sync.on_failure]]
command.argv = ["sh", "-c", "echo notified"]
"#,
        url = monitor.url(""),
    ));
    let mut outputs = vec![test.run(&["run", "sync", "-vv"])];
    outputs[0].code(1);
    let id = newest_id(&test);
    outputs.push(test.run(&["logs", &id]));
    outputs.push(test.run(&["history", "--json"]));
    outputs.push(test.run(&["history"]));
    outputs.push(test.run(&["list", "--json"]));
    assert!(
        outputs[1]
            .stdout
            .contains("failed to send the start ping to ***"),
        "the warning is there, its URL hidden: {}",
        outputs[1].stdout
    );
    for out in &outputs {
        assert!(!out.stdout.contains(UUID), "stdout: {}", out.stdout);
        assert!(!out.stderr.contains(UUID), "stderr: {}", out.stderr);
    }
    let mut files = Vec::new();
    files_under(&test.state_dir(), &[], &mut files);
    assert!(!files.is_empty());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(UUID.len()).any(|w| w == UUID.as_bytes()),
            "{} holds the ping's uuid",
            file.display()
        );
    }
    // The pings did go to the uuid's URL.
    assert!(pings(&monitor).iter().any(|(p, _)| p.starts_with("/1?")));
}

#[test]
fn a_queued_webhook_run_that_fails_for_good_notifies_once_not_per_attempt() {
    let monitor = Server::start(|_, _| Reply::status(200, "OK"));
    let test = Test::new().config(&format!(
        r#"
[integration.flaky]
ping = "{url}"
[integration.flaky.webhook]
path = "flaky"
auth.none = true
retries = 2
backoff = "50ms"
[[integration.flaky.steps]]
command.argv = ["sh", "-c", "echo try >> tries.txt; exit 3"]
[[integration.flaky.on_failure]]
command.argv = ["sh", "-c", "echo \"$0\" >> notified.txt", "{{{{ run.trigger }}}} {{{{ run.id }}}}"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    let listener = Listener::start(&test, &[]);
    let (status, answer) = listener.post("/hooks/flaky", &[], "{}");
    assert_eq!(status, 202);
    let id = answer["run_id"].as_str().unwrap().to_owned();
    test.wait_for_newest_run("failed");
    assert_eq!(wait_for_lines(&test, "tries.txt", 3).len(), 3);
    drop(listener);
    assert_eq!(test.read("notified.txt"), format!("webhook {id}\n"));
    let pings = pings(&monitor);
    let paths: Vec<&str> = pings.iter().map(|(p, _)| p.as_str()).collect();
    let start = format!("/start?rid={id}");
    let failure = format!("/1?rid={id}");
    assert_eq!(
        paths,
        [
            start.as_str(),
            start.as_str(),
            start.as_str(),
            failure.as_str()
        ],
        "each attempt starts; only the last one's failure is pinged"
    );
}

#[test]
fn check_rejects_failure_fields_outside_on_failure_and_a_ping_that_reads_a_run() {
    let test = Test::new().config(
        r#"
[integration.sync]
ping = "https://hc-ping.com/{{ params.uuid }}"
params.uuid = { type = "string", default = "x" }
[[integration.sync.steps]]
command.argv = ["echo", "{{ run.error }}"]
[[integration.sync.on_failure]]
command.argv = ["echo", "{{ run.log_tail }} {{ run.eror }}"]
[[integration.sync.on_failure]]
htp.post = "https://chat.example/hook"

[integration.other]
ping = "hc-ping.com/abc"
on_failure = "mail me"
[[integration.other.steps]]
command.argv = ["true"]
"#,
    );
    let out = test.run(&["check"]);
    out.code(2)
        .stderr_has("unknown name `params` in template, expected one of `secrets`, `env`")
        .stderr_has("unknown run field `error` in template")
        .stderr_has("hint: `run.error` exists only in `on_failure` steps")
        .stderr_has("unknown run field `eror` in template")
        .stderr_has("hint: did you mean `error`?")
        .stderr_has("unknown field `htp`")
        .stderr_has("invalid `ping` URL `hc-ping.com/abc`")
        .stderr_has("`on_failure` of `other` must be an array of tables, found string");
    assert!(
        !out.stderr.contains("`log_tail`"),
        "`run.log_tail` is fine in `on_failure`: {}",
        out.stderr
    );
}

#[test]
fn the_steps_do_not_wait_for_the_start_ping() {
    let test = Test::new();
    let marker = test.state_dir().parent().unwrap().join("step-ran");
    // The start ping is answered only once the step has run: were the steps held up until it
    // was answered, it would time out and be tried again, and fail.
    let monitor = Server::start(move |request, _| {
        if !request.path.ends_with("/start") {
            return Reply::status(200, "OK");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !marker.exists() {
            if std::time::Instant::now() > deadline {
                return Reply::status(500, "the step never ran");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Reply::status(200, "OK")
    });
    let test = test.config(&format!(
        r#"
[integration.sync]
ping = "{url}"
[[integration.sync.steps]]
command.argv = ["touch", "step-ran"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    let out = test.run(&["run", "sync"]);
    out.success();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let id = newest_id(&test);
    let paths: Vec<String> = pings(&monitor).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, [format!("/start?rid={id}"), format!("?rid={id}")]);
}

#[test]
fn an_interrupted_run_pings_130_and_runs_no_on_failure() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let monitor = Server::start(|_, _| Reply::status(200, "OK"));
    let test = Test::new().config(&format!(
        r#"
[integration.slow]
ping = "{url}"
[[integration.slow.steps]]
command.argv = ["sh", "-c", "echo waiting; touch started; sleep 300"]
[[integration.slow.on_failure]]
command.argv = ["touch", "notified"]
"#,
        url = monitor.url(&format!("/{UUID}")),
    ));
    let child = test.spawn(&["run", "slow"]);
    test.wait_for_file("started");
    // As in `run.rs`: integ hears signals once its run has started.
    std::thread::sleep(std::time::Duration::from_millis(100));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    finish(child).code(130);
    let id = newest_id(&test);
    let pings = pings(&monitor);
    let paths: Vec<&str> = pings.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [format!("/start?rid={id}"), format!("/130?rid={id}")]
    );
    assert!(pings[1].1.body.contains("step 1 | waiting"), "{pings:?}");
    assert!(!test.state_dir().parent().unwrap().join("notified").exists());
}
