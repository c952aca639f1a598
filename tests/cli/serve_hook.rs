//! `integ serve-hook` as a real process on a free port, with real (signed) requests.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hmac::{KeyInit as _, Mac as _};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::Test;

const HOOKS: &str = r#"
[secrets]
raynet = { env = "RAYNET_TOKEN" }
gh = { env = "GH_SECRET" }
gh_old = { env = "GH_OLD_SECRET" }

[integration.deal-won]
params.deal_id = { type = "integer" }
[integration.deal-won.webhook]
path = "raynet/deal"
auth.token = { header = "X-RAYNETCRM-Token", secret = "{{ secrets.raynet }}" }
params.deal_id = "{{ trigger.body.data.entityId }}"
dedupe = "{{ trigger.body.eventId }}"
when = "trigger.body.source.name != 'api'"
[[integration.deal-won.steps]]
command.argv = ["sh", "-c", "sleep \"$1\"; echo \"$0 $2\" >> ran.txt", "{{ params.deal_id }}", "{{ env.STEP_SLEEP | default('0') }}", "{{ run.id }}"]

[integration.deploy]
[integration.deploy.webhook]
path = "github"
auth.hmac = { header = "X-Hub-Signature-256", prefix = "sha256=", secrets = ["{{ secrets.gh }}", "{{ secrets.gh_old }}"] }
[[integration.deploy.steps]]
command.argv = ["sh", "-c", "echo deploy >> deployed.txt"]
"#;

pub(crate) struct Listener {
    child: Child,
    pub(crate) addr: String,
}

impl Listener {
    pub(crate) fn start(test: &Test, extra: &[&str]) -> Listener {
        Listener::start_with(test, extra, |args| test.command(args))
    }

    /// A listener whose clock starts at `at` (see `Test::run_at`).
    pub(crate) fn start_at(test: &Test, at: &str, extra: &[&str]) -> Listener {
        Listener::start_with(test, extra, |args| test.command_at(at, args))
    }

    fn start_with(
        test: &Test,
        extra: &[&str],
        command: impl FnOnce(&[&str]) -> std::process::Command,
    ) -> Listener {
        let log = std::fs::File::create(test.state_dir().with_extension("log")).unwrap();
        let mut args = vec!["serve-hook", "--listen", "127.0.0.1:0"];
        if !extra.contains(&"--workers") {
            args.extend(["--workers", "2"]);
        }
        args.extend_from_slice(extra);
        // In a process group of its own, so that dropping it ends the listener even when a
        // wrapper (`faketime`) started it.
        let mut child = command(&args)
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("integ serve-hook listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Listener { child, addr }
    }

    pub(crate) fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, serde_json::Value) {
        request(&self.addr, "POST", path, headers, body.as_bytes())
    }

    pub(crate) fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection; the status and the JSON answer.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let (status, _, answer) = exchange(addr, method, path, headers, body);
    (status, answer)
}

/// Like [`request`], with the answer's headers (names lowercased) too.
pub(crate) fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (
        status,
        headers,
        serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_owned())),
    )
}

fn raynet_event(event_id: &str, deal: i64, source: &str) -> String {
    serde_json::json!({
        "eventId": event_id,
        "type": "record.updated",
        "source": {"name": source, "description": "integ"},
        "data": {"entityName": "BusinessCase", "entityId": deal},
    })
    .to_string()
}

const TOKEN: (&str, &str) = ("X-RAYNETCRM-Token", "raynet-secret");

fn hooks() -> Test {
    Test::new()
        .config(HOOKS)
        .env("RAYNET_TOKEN", "raynet-secret")
        .env("GH_SECRET", "gh-new")
        .env("GH_OLD_SECRET", "gh-old")
}

/// Waits until `path` has `lines` lines; returns them.
pub(crate) fn wait_for_lines(test: &Test, path: &str, lines: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(test.state_dir().parent().unwrap().join(path))
            .unwrap_or_default();
        let found: Vec<String> = text.lines().map(str::to_owned).collect();
        if found.len() >= lines {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{path} has {} lines, expected {lines}",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_authenticated_event_is_stored_answered_202_and_run() {
    let test = hooks();
    let listener = Listener::start(&test, &[]);
    let (status, answer) = listener.post(
        "/hooks/raynet/deal",
        &[TOKEN],
        &raynet_event("e-1", 77, "web"),
    );
    assert_eq!(status, 202, "{answer}");
    let run_id = answer["run_id"].as_str().unwrap().to_owned();
    let lines = wait_for_lines(&test, "ran.txt", 1);
    assert_eq!(lines, [format!("77 {run_id}")]);
    // The run is recorded like any other, as started by a webhook.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let history = test.history();
        if history[0]["status"] == "succeeded" {
            assert_eq!(history[0]["trigger"], "webhook");
            assert_eq!(history[0]["params"]["deal_id"], 77);
            let id = history[0]["id"].as_str().unwrap();
            let log = std::fs::read_to_string(test.state_dir().with_extension("log")).unwrap();
            assert!(
                log.contains(&format!("run {id} of `deal-won` started")),
                "{log}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{history:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_wrong_or_missing_token_is_refused_and_nothing_runs() {
    let test = hooks();
    let listener = Listener::start(&test, &[]);
    let body = raynet_event("e-1", 1, "web");
    let (status, answer) = listener.post(
        "/hooks/raynet/deal",
        &[("X-RAYNETCRM-Token", "guess")],
        &body,
    );
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(listener.post("/hooks/raynet/deal", &[], &body).0, 401);
    assert!(test.history().is_empty(), "nothing was accepted");
    let list = test.run(&["list", "--json"]).json();
    assert_eq!(list[0]["triggers"]["webhook"]["path"], "/hooks/raynet/deal");
    test.run(&["list"])
        .success()
        .stdout_has("webhook POST /hooks/raynet/deal");
    let log = std::fs::read_to_string(test.state_dir().with_extension("log")).unwrap();
    assert!(
        log.contains("wrong token") && !log.contains("raynet-secret"),
        "{log}"
    );
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn hmac_signatures_are_checked_with_every_rotated_secret() {
    let test = hooks();
    let listener = Listener::start(&test, &[]);
    let body = r#"{"ref": "refs/heads/main"}"#;
    for secret in ["gh-new", "gh-old"] {
        let signature = sign(secret, body);
        let (status, answer) = listener.post(
            "/hooks/github",
            &[("X-Hub-Signature-256", &signature)],
            body,
        );
        assert_eq!(status, 202, "{secret}: {answer}");
    }
    let forged = sign("gh-wrong", body);
    assert_eq!(
        listener
            .post("/hooks/github", &[("X-Hub-Signature-256", &forged)], body)
            .0,
        401
    );
    let tampered = sign("gh-new", body);
    assert_eq!(
        listener
            .post(
                "/hooks/github",
                &[("X-Hub-Signature-256", &tampered)],
                r#"{"ref": "evil"}"#
            )
            .0,
        401
    );
    assert_eq!(listener.post("/hooks/github", &[], body).0, 401);
    assert_eq!(
        listener
            .post(
                "/hooks/github",
                &[("X-Hub-Signature-256", "sha256=zz")],
                body
            )
            .0,
        401
    );
    assert_eq!(wait_for_lines(&test, "deployed.txt", 2).len(), 2);
}

#[test]
fn bad_requests_get_their_own_statuses() {
    let test = hooks();
    let listener = Listener::start(&test, &["--max-body", "200"]);
    assert_eq!(listener.post("/hooks/nowhere", &[TOKEN], "{}").0, 404);
    assert_eq!(
        request(&listener.addr, "GET", "/hooks/raynet/deal", &[TOKEN], b"").0,
        405
    );
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(300));
    assert_eq!(listener.post("/hooks/raynet/deal", &[TOKEN], &big).0, 413);
    let (status, answer) = listener.post("/hooks/raynet/deal", &[TOKEN], "{not json");
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"),
        "{answer}"
    );
    let wrong_type = serde_json::json!({"eventId": "e-2", "source": {"name": "web"}, "data": {"entityId": "abc"}}).to_string();
    let (status, answer) = listener.post("/hooks/raynet/deal", &[TOKEN], &wrong_type);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("param `deal_id`"),
        "{answer}"
    );
    // Our own echo: dropped with a reason.
    let (status, answer) = listener.post(
        "/hooks/raynet/deal",
        &[TOKEN],
        &raynet_event("e-3", 5, "api"),
    );
    assert_eq!((status, answer["status"].as_str()), (200, Some("ignored")));
    assert_eq!(request(&listener.addr, "GET", "/healthz", &[], b"").0, 200);
    assert!(test.history().is_empty(), "none of these was accepted");
    let (status, metrics) = request(&listener.addr, "GET", "/metrics", &[], b"");
    let metrics = metrics.as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 200);
    for line in [
        r#"integ_webhook_events_rejected_total{reason="unknown_path"} 1"#,
        r#"integ_webhook_events_rejected_total{reason="method"} 1"#,
        r#"integ_webhook_events_rejected_total{reason="malformed"} 1"#,
        r#"integ_webhook_events_rejected_total{reason="invalid"} 1"#,
        r#"integ_webhook_events_rejected_total{reason="too_large"} 1"#,
        "integ_webhook_events_ignored_total 1",
        "integ_webhook_events_accepted_total 0",
        "integ_webhook_runs_queued 0",
    ] {
        assert!(
            metrics.contains(line),
            "/metrics lacks {line:?}:\n{metrics}"
        );
    } // Each refusal is in the log with its reason, for whoever runs the listener.
    let log = std::fs::read_to_string(test.state_dir().with_extension("log")).unwrap();
    for line in [
        "refused a request to /hooks/nowhere (404 Not Found): no webhook at /hooks/nowhere",
        "refused a request to /hooks/raynet/deal (400 Bad Request): malformed JSON",
    ] {
        assert!(log.contains(line), "the log lacks {line:?}:\n{log}");
    }
}

#[test]
fn a_redelivered_event_is_a_duplicate_and_runs_once() {
    let test = hooks();
    let listener = Listener::start(&test, &[]);
    let body = raynet_event("e-same", 9, "web");
    let (first, accepted) = listener.post("/hooks/raynet/deal", &[TOKEN], &body);
    let (again, duplicate) = listener.post("/hooks/raynet/deal", &[TOKEN], &body);
    assert_eq!((first, again), (202, 200));
    assert_eq!(duplicate["status"], "duplicate");
    assert_eq!(duplicate["run_id"], accepted["run_id"]);
    let (_, metrics) = request(&listener.addr, "GET", "/metrics", &[], b"");
    let metrics = metrics.as_str().unwrap_or_default().to_owned();
    assert!(
        metrics.contains("integ_webhook_events_deduplicated_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("integ_webhook_events_accepted_total 1"),
        "{metrics}"
    );
    wait_for_lines(&test, "ran.txt", 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(wait_for_lines(&test, "ran.txt", 1).len(), 1, "ran once");
}

#[test]
fn a_dedupe_key_is_kept_for_dedupe_for_then_the_event_runs_again() {
    let test = Test::new().config(
        r#"
[integration.hook]
[integration.hook.webhook]
path = "hook"
auth.none = true
dedupe = "{{ trigger.body.id }}"
dedupe_for = "1s"
[[integration.hook.steps]]
command.argv = ["sh", "-c", "echo ran >> ran.txt"]
"#,
    );
    let listener = Listener::start(&test, &[]);
    let post = || {
        request(
            &listener.addr,
            "POST",
            "/hooks/hook",
            &[],
            br#"{"id": "e-1"}"#,
        )
    };
    let (first, accepted) = post();
    let (again, duplicate) = post();
    assert_eq!((first, again), (202, 200));
    assert_eq!(duplicate["run_id"], accepted["run_id"]);
    std::thread::sleep(Duration::from_millis(1100));
    let (later, new_run) = post();
    assert_eq!(later, 202, "{new_run}");
    assert_ne!(new_run["run_id"], accepted["run_id"]);
    assert_eq!(wait_for_lines(&test, "ran.txt", 2).len(), 2);
}

#[test]
fn sigkill_with_queued_events_loses_nothing() {
    let test = hooks().env("STEP_SLEEP", "0.3");
    let listener = Listener::start(&test, &[]);
    let mut accepted = Vec::new();
    for n in 0..8 {
        let (status, answer) = listener.post(
            "/hooks/raynet/deal",
            &[TOKEN],
            &raynet_event(&format!("k-{n}"), n, "web"),
        );
        assert_eq!(status, 202);
        accepted.push(answer["run_id"].as_str().unwrap().to_owned());
    }
    listener.signal(Signal::SIGKILL);
    drop(listener);
    let _restarted = Listener::start(&test, &[]);
    accepted.sort();
    // At least once: a run killed after its step wrote may write again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = wait_for_lines(&test, "ran.txt", 1);
        let mut ran: Vec<String> = lines
            .iter()
            .map(|l| l.split(' ').nth(1).unwrap().to_owned())
            .collect();
        ran.sort();
        ran.dedup();
        if ran == accepted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ran {ran:?}, accepted {accepted:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_lets_the_running_event_finish_and_exits_0() {
    let test = hooks().env("STEP_SLEEP", "1");
    let mut listener = Listener::start(&test, &[]);
    let (status, _) = listener.post(
        "/hooks/raynet/deal",
        &[TOKEN],
        &raynet_event("t-1", 3, "web"),
    );
    assert_eq!(status, 202);
    std::thread::sleep(Duration::from_millis(300));
    listener.signal(Signal::SIGTERM);
    let exit = listener.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    assert_eq!(
        wait_for_lines(&test, "ran.txt", 1).len(),
        1,
        "the running event finished"
    );
    assert_eq!(test.history()[0]["status"], "succeeded");
}

#[test]
fn sigterm_leaves_waiting_events_queued_for_the_next_start() {
    let test = hooks().env("STEP_SLEEP", "1");
    let mut listener = Listener::start(&test, &[]);
    for event in ["q-1", "q-2"] {
        let (status, _) = listener.post(
            "/hooks/raynet/deal",
            &[TOKEN],
            &raynet_event(event, 4, "web"),
        );
        assert_eq!(status, 202);
    }
    // One run of `deal-won` at a time: the second waits while the first runs.
    std::thread::sleep(Duration::from_millis(300));
    listener.signal(Signal::SIGTERM);
    assert_eq!(listener.child.wait().unwrap().code(), Some(0));
    let statuses = |test: &Test| -> Vec<String> {
        let mut statuses: Vec<String> = test
            .history()
            .iter()
            .map(|run| run["status"].as_str().unwrap().to_owned())
            .collect();
        statuses.sort();
        statuses
    };
    assert_eq!(statuses(&test), ["queued", "succeeded"]);
    // `--workers 0` stores and runs nothing; a start with workers runs what waits.
    let storing = Listener::start(&test, &["--workers", "0"]);
    let (status, _) = storing.post(
        "/hooks/raynet/deal",
        &[TOKEN],
        &raynet_event("q-3", 4, "web"),
    );
    assert_eq!(status, 202);
    std::thread::sleep(Duration::from_millis(300));
    drop(storing);
    assert_eq!(statuses(&test), ["queued", "queued", "succeeded"]);
    let _running = Listener::start(&test, &[]);
    assert_eq!(wait_for_lines(&test, "ran.txt", 3).len(), 3);
}

#[test]
fn systemd_hears_ready_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let test = hooks().env("NOTIFY_SOCKET", path.to_str().unwrap());
    let mut listener = Listener::start(&test, &[]);
    let mut message = [0u8; 256];
    let read = |socket: &std::os::unix::net::UnixDatagram, message: &mut [u8]| {
        let n = socket.recv(message).expect("a notification");
        String::from_utf8_lossy(&message[..n]).into_owned()
    };
    assert!(read(&socket, &mut message).contains("READY=1"));
    listener.signal(Signal::SIGTERM);
    assert!(read(&socket, &mut message).contains("STOPPING=1"));
    assert_eq!(listener.child.wait().unwrap().code(), Some(0));
}

#[test]
fn failed_runs_are_retried_then_kept_failed_until_integ_retry() {
    let test = Test::new().config(
        r#"
[integration.flaky]
[integration.flaky.webhook]
path = "flaky"
auth.none = true
retries = 2
backoff = "50ms"
[[integration.flaky.steps]]
command.argv = ["sh", "-c", "echo try >> tries.txt; test -f ok"]

[integration.manual]
[[integration.manual.steps]]
command.argv = ["true"]
"#,
    );
    let listener = Listener::start(&test, &[]);
    let (status, answer) = listener.post("/hooks/flaky", &[], "{}");
    assert_eq!(status, 202);
    let id = answer["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        wait_for_lines(&test, "tries.txt", 3).len(),
        3,
        "the first try and two retries"
    );
    let status_of = |test: &Test| -> String {
        let failed = test.run(&["history", "--json"]).json();
        failed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&test) != "failed" {
        assert!(
            Instant::now() < deadline,
            "never failed: {}",
            status_of(&test)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        wait_for_lines(&test, "tries.txt", 3).len(),
        3,
        "no fourth try on its own"
    );

    std::fs::write(test.state_dir().parent().unwrap().join("ok"), "").unwrap();
    test.run(&["retry", &id[..18]])
        .success()
        .stderr_has("queued run");
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&test) != "succeeded" {
        assert!(
            Instant::now() < deadline,
            "the retried run did not succeed: {}",
            status_of(&test)
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    test.run(&["run", "manual"]).success();
    let manual = test.history()[0]["id"].as_str().unwrap().to_owned();
    test.run(&["retry", &manual])
        .code(2)
        .stderr_has("only failed webhook runs are queued again");
    test.run(&["retry", "--all-failed", "flaky"])
        .success()
        .stderr_has("queued 0 failed runs");
}

#[test]
fn a_slow_sender_is_cut_off() {
    let test = hooks();
    let listener = Listener::start(&test, &["--read-timeout", "300ms"]);
    let slow = |sent: &str| {
        let mut stream = TcpStream::connect(&listener.addr).unwrap();
        stream.write_all(sent.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut response = String::new();
        // The listener ends the connection: no wait for the client's own timeout.
        stream
            .read_to_string(&mut response)
            .expect("the listener closes the connection");
        response
    };
    // Promises 100 bytes of body, sends 10, then nothing: 408.
    let response = slow(
        "POST /hooks/raynet/deal HTTP/1.1\r\nHost: x\r\nX-RAYNETCRM-Token: raynet-secret\r\nContent-Length: 100\r\n\r\n{\"eventId\"",
    );
    assert!(response.starts_with("HTTP/1.1 408"), "{response:?}");
    // Half the headers, then nothing; or nothing at all: closed.
    assert_eq!(slow("POST /hooks/raynet/deal HTTP/1.1\r\nHost: x\r\n"), "");
    assert_eq!(slow(""), "");
    // An idle keep-alive connection after a request: closed too.
    let body = raynet_event("s-0", 1, "web");
    let answered = slow(&format!(
        "POST /hooks/raynet/deal HTTP/1.1\r\nHost: x\r\nX-RAYNETCRM-Token: raynet-secret\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert!(answered.starts_with("HTTP/1.1 202"), "{answered:?}");
    // The listener still serves others.
    let (status, _) = listener.post(
        "/hooks/raynet/deal",
        &[TOKEN],
        &raynet_event("s-1", 1, "web"),
    );
    assert_eq!(status, 202);
}

#[test]
fn connections_over_the_cap_wait_until_one_closes() {
    let test = hooks();
    let listener = Listener::start(&test, &["--max-connections", "2"]);
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(&listener.addr).unwrap())
        .collect();
    let mut third = TcpStream::connect(&listener.addr).unwrap();
    let body = raynet_event("cap-1", 1, "web");
    let head = format!(
        "POST /hooks/raynet/deal HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-RAYNETCRM-Token: raynet-secret\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    third.write_all(head.as_bytes()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = third.read(&mut byte);
    assert!(
        early
            .as_ref()
            .is_err_and(|err| err.kind() == std::io::ErrorKind::WouldBlock),
        "the third connection was served while two were open: {early:?}"
    );
    drop(idle);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    third.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 202"), "{response:?}");
}

#[test]
fn sighup_reloads_the_file_and_a_broken_one_keeps_the_old_serving() {
    let test = hooks();
    let listener = Listener::start(&test, &[]);
    let config_path = test.state_dir().parent().unwrap().join("integrations.toml");

    std::fs::write(&config_path, "[integration.broken\n").unwrap();
    listener.signal(Signal::SIGHUP);
    std::thread::sleep(Duration::from_millis(300));
    let (status, _) = listener.post(
        "/hooks/raynet/deal",
        &[TOKEN],
        &raynet_event("h-1", 1, "web"),
    );
    assert_eq!(status, 202, "the old file still serves");
    let log = std::fs::read_to_string(test.state_dir().with_extension("log")).unwrap();
    assert!(log.contains("refused to reload"), "{log}");

    let added = format!(
        "{HOOKS}\n[integration.new]\n[integration.new.webhook]\npath = \"new\"\nauth.none = true\n[[integration.new.steps]]\ncommand.argv = [\"true\"]\n"
    );
    std::fs::write(&config_path, added).unwrap();
    listener.signal(Signal::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while listener.post("/hooks/new", &[], "{}").0 != 202 {
        assert!(Instant::now() < deadline, "the new hook never appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn hmac_sha256(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn timestamped_signatures_refuse_wrong_missing_and_replayed_requests() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b"standard-key-bytes";
    let test = Test::new()
        .config(
            r#"
[secrets]
stripe = { env = "STRIPE_SECRET" }
slack = { env = "SLACK_SECRET" }
standard = { env = "STANDARD_SECRET" }

[integration.stripe]
[integration.stripe.webhook]
path = "stripe"
auth.signed = { style = "stripe", secret = "{{ secrets.stripe }}" }
[[integration.stripe.steps]]
command.argv = ["true"]

[integration.slack]
[integration.slack.webhook]
path = "slack"
auth.signed = { style = "slack", secret = "{{ secrets.slack }}", tolerance = "2m" }
[[integration.slack.steps]]
command.argv = ["true"]

[integration.standard]
[integration.standard.webhook]
path = "standard"
auth.signed = { style = "standard", secret = "{{ secrets.standard }}" }
[[integration.standard.steps]]
command.argv = ["true"]
"#,
        )
        .env("STRIPE_SECRET", "whsec_stripe")
        .env("SLACK_SECRET", "slack-secret")
        .env("STANDARD_SECRET", &format!("whsec_{}", b64.encode(key)));
    let listener = Listener::start(&test, &[]);
    let body = r#"{"id": "evt_1"}"#;
    let now = chrono::Utc::now().timestamp();
    let stale = now - 600;

    let stripe = |t: i64, secret: &str| {
        format!(
            "t={t},v1={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &format!("{t}.{body}")))
        )
    };
    let post = |path: &str, headers: &[(&str, &str)]| listener.post(path, headers, body).0;
    assert_eq!(
        post(
            "/hooks/stripe",
            &[("Stripe-Signature", &stripe(now, "whsec_stripe"))]
        ),
        202
    );
    assert_eq!(
        post(
            "/hooks/stripe",
            &[("Stripe-Signature", &stripe(now, "whsec_other"))]
        ),
        401
    );
    assert_eq!(post("/hooks/stripe", &[]), 401);
    assert_eq!(
        post(
            "/hooks/stripe",
            &[("Stripe-Signature", &stripe(stale, "whsec_stripe"))]
        ),
        401,
        "replayed"
    );

    let slack = |t: i64, secret: &str| {
        format!(
            "v0={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &format!("v0:{t}:{body}")))
        )
    };
    let (ts_now, ts_stale) = (now.to_string(), stale.to_string());
    assert_eq!(
        post(
            "/hooks/slack",
            &[
                ("X-Slack-Request-Timestamp", &ts_now),
                ("X-Slack-Signature", &slack(now, "slack-secret"))
            ]
        ),
        202
    );
    assert_eq!(
        post(
            "/hooks/slack",
            &[
                ("X-Slack-Request-Timestamp", &ts_now),
                ("X-Slack-Signature", &slack(now, "wrong"))
            ]
        ),
        401
    );
    assert_eq!(
        post("/hooks/slack", &[("X-Slack-Request-Timestamp", &ts_now)]),
        401
    );
    assert_eq!(
        post(
            "/hooks/slack",
            &[
                ("X-Slack-Request-Timestamp", &ts_stale),
                ("X-Slack-Signature", &slack(stale, "slack-secret"))
            ]
        ),
        401,
        "replayed"
    );

    let standard = |t: i64, key: &[u8]| {
        format!(
            "v1,{}",
            b64.encode(hmac_sha256(key, &format!("msg_1.{t}.{body}")))
        )
    };
    let headers = |t: &str, signature: &str| -> Vec<(String, String)> {
        vec![
            ("webhook-id".into(), "msg_1".into()),
            ("webhook-timestamp".into(), t.into()),
            ("webhook-signature".into(), signature.into()),
        ]
    };
    let post_owned = |headers: Vec<(String, String)>| {
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        listener.post("/hooks/standard", &borrowed, body).0
    };
    assert_eq!(post_owned(headers(&ts_now, &standard(now, key))), 202);
    assert_eq!(post_owned(headers(&ts_now, &standard(now, b"other"))), 401);
    assert_eq!(post_owned(vec![]), 401);
    assert_eq!(
        post_owned(headers(&ts_stale, &standard(stale, key))),
        401,
        "replayed"
    );
}

#[test]
fn respond_output_answers_with_the_runs_output_or_202_when_slow() {
    let test = Test::new().config(
        r#"
[integration.quote]
params.n = { type = "integer" }
[integration.quote.webhook]
path = "quote"
auth.none = true
respond = "output"
params.n = "{{ trigger.body.n }}"
[[integration.quote.steps]]
output = { format = "json", value = "{{ {'n': params.n, 'double': params.n * 2} }}" }

[integration.slow]
[integration.slow.webhook]
path = "slow"
auth.none = true
respond = "output"
respond_timeout = "200ms"
[[integration.slow.steps]]
command.argv = ["sh", "-c", "sleep 1; echo late"]

[integration.broken]
[integration.broken.webhook]
path = "broken"
auth.none = true
respond = "output"
[[integration.broken.steps]]
command.argv = ["sh", "-c", "exit 3"]

[integration.patient]
[integration.patient.webhook]
path = "patient"
auth.none = true
respond = "output"
respond_timeout = "10s"
[[integration.patient.steps]]
command.argv = ["sh", "-c", "sleep 0.6; echo done"]
"#,
    );
    // The read timeout bounds the request's arrival, not the wait for the run.
    let listener = Listener::start(&test, &["--read-timeout", "300ms"]);
    let (status, answer) = listener.post("/hooks/patient", &[], "{}");
    assert_eq!((status, answer), (200, serde_json::json!("done\n")));
    let (status, answer) = listener.post("/hooks/quote", &[], r#"{"n": 21}"#);
    assert_eq!(
        (status, answer),
        (200, serde_json::json!({"n": 21, "double": 42}))
    );
    let (status, answer) = listener.post("/hooks/slow", &[], "{}");
    assert_eq!(
        (status, answer["status"].as_str()),
        (202, Some("running")),
        "{answer}"
    );
    let (status, answer) = listener.post("/hooks/broken", &[], "{}");
    assert_eq!(status, 500, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{answer}"
    );
    // Each is in the log with what became of it.
    let log = listener_log(&test);
    for end in [
        "of `quote`: answered with its output",
        "of `slow`: it did not finish in time and goes on",
        "of `broken`: it failed",
    ] {
        assert!(log.contains(end), "the log lacks {end:?}:\n{log}");
    }
}

#[test]
fn retry_all_failed_with_an_unknown_name_is_a_usage_error_with_a_suggestion() {
    let test = hooks();
    test.run(&["retry", "--all-failed", "deal-wno"])
        .code(2)
        .stderr_has("no integration named `deal-wno`")
        .stderr_has("did you mean `deal-won`?");
    test.run(&["retry", "--all-failed", "deal-won"])
        .success()
        .stderr_has("queued 0 failed runs of `deal-won` again");
}

#[test]
fn a_listener_that_cannot_bind_its_address_exits_69() {
    let test = hooks();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    test.run(&["serve-hook", "--listen", &addr])
        .code(69)
        .stderr_has(&format!("failed to listen on {addr}"))
        .stderr_has("--listen");
}

#[test]
fn check_reports_two_webhooks_on_one_path_naming_both_places() {
    let test = Test::new().config(
        r#"
[integration.first]
[integration.first.webhook]
path = "crm/deal"
auth.none = true
[[integration.first.steps]]
command.argv = ["true"]

[integration.second]
[integration.second.webhook]
path = "/crm/deal/"
auth.none = true
[[integration.second.steps]]
command.argv = ["true"]

[integration.third]
[integration.third.webhook]
path = "crm/deals"
auth.none = true
[[integration.third.steps]]
command.argv = ["true"]
"#,
    );
    let out = test.run(&["check"]);
    out.code(2);
    insta::assert_snapshot!(out.stderr);
    // The listener refuses the file too, rather than let one of them win.
    test.run(&["serve-hook", "--listen", "127.0.0.1:0"])
        .code(2)
        .stderr_has("is already the path of `first`");
}

/// Runs `script` with python3 and the signers `tests/tools/install.sh` installs; its stdout.
fn python(script: &str, args: &[&str], stdin: &str) -> String {
    let tools = crate::http_server::test_tools().join("python");
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .env("PYTHONPATH", &tools)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the signer failed (are slack_sdk and standardwebhooks installed in `{}`? see tests/tools/install.sh):\n{}",
        tools.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Slack's own SDK signs `body` now: the timestamp and signature headers.
fn slack_signed(secret: &str, body: &str) -> (String, String) {
    let out = python(
        "import sys, time\n\
         from slack_sdk.signature import SignatureVerifier\n\
         ts = str(int(time.time()))\n\
         print(ts)\n\
         print(SignatureVerifier(signing_secret=sys.argv[1]).generate_signature(timestamp=ts, body=sys.stdin.read()))",
        &[secret],
        body,
    );
    let (timestamp, signature) = out.trim().split_once('\n').unwrap();
    (timestamp.to_owned(), signature.to_owned())
}

#[test]
fn a_slack_slash_command_signed_by_slacks_sdk_is_parsed_from_its_form() {
    let test = Test::new()
        .config(
            r#"
[secrets]
slack = { env = "SLACK_SIGNING_SECRET" }

[integration.weather]
params.city = { type = "string" }
params.user = { type = "string" }
[integration.weather.webhook]
path = "slack/weather"
auth.signed = { style = "slack", secret = "{{ secrets.slack }}" }
params.city = "{{ trigger.body.text }}"
params.user = "{{ trigger.body.user_name }}"
[[integration.weather.steps]]
command.argv = ["sh", "-c", "echo \"$0 for $1 via $2\" >> ran.txt", "{{ params.city }}", "{{ params.user }}", "{{ trigger.body.command }}"]
"#,
        )
        .env("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5");
    let listener = Listener::start(&test, &[]);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let post = |secret: &str, body: &str| {
        let (timestamp, signature) = slack_signed(secret, body);
        let headers = [
            form[0],
            ("X-Slack-Request-Timestamp", timestamp.as_str()),
            ("X-Slack-Signature", signature.as_str()),
        ];
        listener.post("/hooks/slack/weather", &headers, body)
    };
    // The shape Slack documents for a slash command.
    let body = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705\
                &channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fweather\
                &text=Brno+%C4%8Cern%C3%A1+Pole&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678\
                &trigger_id=13345224609.738474920.8088930838d88f008e0";
    let (status, answer) = post("8f742231b10e8888abcd99yyyzzz85a5", body);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        wait_for_lines(&test, "ran.txt", 1),
        ["Brno Černá Pole for Steve via /weather"]
    );

    let (status, answer) = post("not-the-secret", body);
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("unauthorized"))
    );

    // Validly signed, but not a form a run can read: 400 with the reason.
    let (status, answer) = post(
        "8f742231b10e8888abcd99yyyzzz85a5",
        "user_name=Steve&text=Brno&text=Praha",
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"],
        "malformed form body: the field `text` is given more than once"
    );
    let (status, answer) = post(
        "8f742231b10e8888abcd99yyyzzz85a5",
        "user_name=Steve&text=%FF",
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"],
        "malformed form body: the field `text` is not UTF-8"
    );
    assert_eq!(test.history().len(), 1, "only the good one was accepted");
}

/// The Standard Webhooks SDK signs `body` now as message `id`: the timestamp and signature.
fn standard_signed(secret: &str, id: &str, body: &str) -> (String, String) {
    let out = python(
        "import sys, datetime\n\
         from standardwebhooks.webhooks import Webhook\n\
         now = datetime.datetime.now(tz=datetime.timezone.utc)\n\
         print(int(now.timestamp()))\n\
         print(Webhook(sys.argv[1]).sign(sys.argv[2], now, sys.stdin.read()))",
        &[secret, id],
        body,
    );
    let (timestamp, signature) = out.trim().split_once('\n').unwrap();
    (timestamp.to_owned(), signature.to_owned())
}

#[test]
fn standard_webhooks_deliveries_are_deduplicated_on_their_webhook_id() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let test = Test::new()
        .config(
            r#"
[secrets]
standard = { env = "STANDARD_SECRET" }

[integration.keyed]
[integration.keyed.webhook]
path = "keyed"
auth.signed = { style = "standard", secret = "{{ secrets.standard }}" }
[[integration.keyed.steps]]
command.argv = ["sh", "-c", "echo keyed >> ran.txt"]

[integration.every]
[integration.every.webhook]
path = "every"
auth.signed = { style = "standard", secret = "{{ secrets.standard }}" }
dedupe = ""
[[integration.every.steps]]
command.argv = ["sh", "-c", "echo every >> every.txt"]
"#,
        )
        .env("STANDARD_SECRET", secret);
    let listener = Listener::start(&test, &[]);
    let body = r#"{"type": "invoice.paid", "data": {"id": 7}}"#;
    let deliver = |path: &str, id: &str| {
        let (timestamp, signature) = standard_signed(secret, id, body);
        let headers = [
            ("webhook-id", id),
            ("webhook-timestamp", timestamp.as_str()),
            ("webhook-signature", signature.as_str()),
        ];
        listener.post(path, &headers, body)
    };
    let (first, accepted) = deliver("/hooks/keyed", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    assert_eq!(first, 202, "{accepted}");
    let (again, duplicate) = deliver("/hooks/keyed", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    assert_eq!(
        (again, duplicate["status"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(duplicate["run_id"], accepted["run_id"]);
    assert_eq!(deliver("/hooks/keyed", "msg_other").0, 202);
    // `dedupe = ""`: every delivery runs.
    assert_eq!(deliver("/hooks/every", "msg_same").0, 202);
    assert_eq!(deliver("/hooks/every", "msg_same").0, 202);
    assert_eq!(wait_for_lines(&test, "ran.txt", 2).len(), 2);
    assert_eq!(wait_for_lines(&test, "every.txt", 2).len(), 2);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        wait_for_lines(&test, "ran.txt", 2).len(),
        2,
        "the re-delivery ran nothing"
    );
}

#[test]
fn a_refused_basic_or_bearer_sender_is_told_the_scheme() {
    let test = Test::new().config(
        r#"
[integration.basic]
[integration.basic.webhook]
path = "basic"
auth.basic = { user = "crm", password = "pw" }
[[integration.basic.steps]]
command.argv = ["true"]

[integration.bearer]
[integration.bearer.webhook]
path = "bearer"
auth.bearer = { secret = "tok" }
[[integration.bearer.steps]]
command.argv = ["true"]

[integration.token]
[integration.token.webhook]
path = "token"
auth.token = { header = "X-Token", secret = "tok" }
[[integration.token.steps]]
command.argv = ["true"]
"#,
    );
    let listener = Listener::start(&test, &[]);
    let challenge = |path: &str, headers: &[(&str, &str)]| {
        let (status, headers, _) = exchange(&listener.addr, "POST", path, headers, b"{}");
        let found = headers
            .into_iter()
            .find(|(name, _)| name == "www-authenticate")
            .map(|(_, value)| value);
        (status, found)
    };
    let basic = Some(r#"Basic realm="integ", charset="UTF-8""#.to_owned());
    assert_eq!(challenge("/hooks/basic", &[]), (401, basic.clone()));
    // "crm:wrong"
    assert_eq!(
        challenge("/hooks/basic", &[("Authorization", "Basic Y3JtOndyb25n")]),
        (401, basic)
    );
    // "crm:pw"
    assert_eq!(
        challenge("/hooks/basic", &[("Authorization", "Basic Y3JtOnB3")]),
        (202, None)
    );
    assert_eq!(
        challenge("/hooks/bearer", &[("Authorization", "Bearer nope")]),
        (401, Some(r#"Bearer realm="integ""#.to_owned()))
    );
    assert_eq!(challenge("/hooks/token", &[]), (401, None));
}

#[test]
fn a_mapped_param_missing_from_the_request_takes_its_default_or_is_named_in_the_422() {
    let test = Test::new().config(
        r#"
[integration.deal]
params.deal_id = { type = "integer" }
params.entity = { type = "string", default = "BusinessCase" }
[integration.deal.webhook]
path = "deal"
auth.none = true
params.deal_id = "{{ trigger.body.data.entityId }}"
params.entity = "{{ trigger.body.data.entityName }}"
[[integration.deal.steps]]
command.argv = ["sh", "-c", "echo \"$0 $1\" >> ran.txt", "{{ params.entity }}", "{{ params.deal_id }}"]
"#,
    );
    let listener = Listener::start(&test, &[]);
    let (status, answer) = listener.post("/hooks/deal", &[], r#"{"data": {"entityId": 5}}"#);
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = listener.post(
        "/hooks/deal",
        &[],
        r#"{"data": {"entityId": 6, "entityName": "Company"}}"#,
    );
    assert_eq!(status, 202, "{answer}");
    let mut lines = wait_for_lines(&test, "ran.txt", 2);
    lines.sort();
    assert_eq!(lines, ["BusinessCase 5", "Company 6"]);
    for body in [
        r#"{"data": {"entityName": "Company"}}"#,
        r#"{"data": 1}"#,
        "{}",
    ] {
        let (status, answer) = listener.post("/hooks/deal", &[], body);
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(
            answer["error"],
            "param `deal_id` cannot be taken from the request: it has no `trigger.body.data.entityId`",
            "{body}"
        );
    }
}

/// The listener's log so far.
fn listener_log(test: &Test) -> String {
    std::fs::read_to_string(test.state_dir().with_extension("log")).unwrap()
}

/// The line of the listener's log that has `needle`, once it is there.
pub(crate) fn wait_for_log_line(test: &Test, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(line) = listener_log(test)
            .lines()
            .find(|line| line.contains(needle))
        {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the log never had {needle:?}:\n{}",
            listener_log(test)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_listener_logs_every_event_a_reload_at_info_and_its_shutdown() {
    let test = hooks();
    let mut listener = Listener::start(&test, &[]);
    let body = raynet_event("l-1", 3, "web");
    let (status, accepted) = listener.post("/hooks/raynet/deal", &[TOKEN], &body);
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["run_id"].as_str().unwrap().to_owned();
    assert_eq!(listener.post("/hooks/raynet/deal", &[TOKEN], &body).0, 200);
    let echo = raynet_event("l-2", 3, "api");
    assert_eq!(listener.post("/hooks/raynet/deal", &[TOKEN], &echo).0, 200);
    wait_for_lines(&test, "ran.txt", 1);
    let log = listener_log(&test);
    for line in [
        format!(
            "took a request to /hooks/raynet/deal (202 Accepted): queued as run {id} of `deal-won`"
        ),
        format!(
            "took a request to /hooks/raynet/deal (200 OK): a duplicate of run {id} of `deal-won` (its dedupe key was seen before): nothing new runs"
        ),
        "took a request to /hooks/raynet/deal (200 OK): ignored for `deal-won`: `when` is false"
            .to_owned(),
    ] {
        assert!(log.contains(&line), "the log lacks {line:?}:\n{log}");
    }

    listener.signal(Signal::SIGHUP);
    let reloaded = wait_for_log_line(&test, "reloaded `");
    assert!(reloaded.contains(" INFO "), "{reloaded}");
    assert!(
        !listener_log(&test).contains(" WARN "),
        "nothing here is worth a warning:\n{}",
        listener_log(&test)
    );

    listener.signal(Signal::SIGTERM);
    assert_eq!(listener.child.wait().unwrap().code(), Some(0));
    let log = listener_log(&test);
    let start = log.find("shutting down: no new requests; running runs have 30s to finish");
    let end = log.find("shut down: 0 queued events wait for the next start");
    assert!(
        start.is_some() && end.is_some() && start < end,
        "the shutdown's start and end, in order:\n{log}"
    );
}

#[test]
fn a_newline_in_a_requested_path_cannot_forge_a_log_line() {
    let test = hooks();
    let listener = Listener::start(&test, &[]);
    for path in [
        "/hooks/raynet%0Aforged%20line",
        "/run/report%0D%0Aforged%20line",
    ] {
        let (status, _) = request(&listener.addr, "POST", path, &[], b"{}");
        assert_eq!(status, 404, "{path}");
    }
    // Both refusals are logged, the newline escaped within their own line.
    wait_for_log_line(&test, "/hooks/raynet\\nforged line");
    wait_for_log_line(&test, "/run/report\\r\\nforged line");
    let log = listener_log(&test);
    assert!(!log.lines().any(|line| line.starts_with("forged")), "{log}");
}
