//! One run lifecycle for every door, tried where it can break: a store that cannot be opened
//! or locked, what templates may read per door, what the store keeps of a webhook, bodies that
//! cannot be read back, a listener that dies beside another, and a signature from the edge of
//! time.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use hmac::{KeyInit as _, Mac as _};
use nix::sys::signal::Signal;

use crate::serve_hook::{Listener, wait_for_lines};
use crate::support::Test;

/// An integration with a webhook anyone may call (`/hooks/NAME`), whose one step runs
/// `script` with `sh -c`.
fn open_hook(name: &str, script: &str) -> String {
    format!(
        "[integration.{name}]\n[integration.{name}.webhook]\npath = \"{name}\"\nauth.none = true\n\
         [[integration.{name}.steps]]\ncommand.argv = [\"sh\", \"-c\", {script:?}]\n"
    )
}

const MARKED: &str = r#"
[integration.marked]
[[integration.marked.steps]]
command.argv = ["sh", "-c", "echo ran >> ran.txt"]
"#;

/// Every file of the state directory, as bytes: the database, its WAL and shared memory, locks.
fn state_bytes(test: &Test) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![test.state_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

fn assert_nowhere_in_state(test: &Test, needles: &[&str]) {
    for (path, bytes) in state_bytes(test) {
        for needle in needles {
            assert!(
                !bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes()),
                "`{needle}` is in {path}"
            );
        }
    }
}

#[test]
fn a_store_that_cannot_be_opened_has_its_own_exit_code() {
    let test = Test::new()
        .config(MARKED)
        .write("state", "a file, not a directory");
    let out = test.run(&["run", "marked"]);
    out.code(74)
        .stderr_has("failed to create the state directory");
    assert!(!test.state_dir().with_file_name("ran.txt").exists());
    test.run(&["history"]).code(74);
}

#[test]
fn a_run_never_goes_ahead_without_its_slot() {
    let test = Test::new().config(MARKED);
    test.run(&["run", "marked"]).success();
    // The slot's lock file cannot be opened (here: a directory stands in its place).
    let lock = test.state_dir().join("locks").join("marked.lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    test.run(&["run", "marked"])
        .code(74)
        .stderr_has("failed to open the lock");
    assert_eq!(test.read("ran.txt"), "ran\n", "the second run did not run");
}

#[test]
fn what_trigger_holds_is_checked_per_door() {
    let test = Test::new().config(
        r#"
[integration.by-hand]
[[integration.by-hand.steps]]
command.argv = ["echo", "{{ trigger.kind }} {{ trigger.body.id }}"]

[integration.hooked]
[integration.hooked.webhook]
path = "hooked"
auth.none = true
[[integration.hooked.steps]]
command.argv = ["echo", "{{ trigger.kind }} {{ trigger.body.id }} {{ trigger.bdy.id }}"]
"#,
    );
    let out = test.run(&["check"]);
    out.code(2)
        .stderr_has("unknown trigger field `body` in template")
        .stderr_has("exists only in runs started by a webhook")
        .stderr_has("unknown trigger field `bdy` in template")
        .stderr_has("did you mean `body`?");
    assert_eq!(
        out.stderr.matches("unknown trigger field").count(),
        2,
        "`trigger.kind` everywhere and `trigger.body` with a webhook are fine:\n{}",
        out.stderr
    );
}

const HOOKED: &str = r#"
[secrets]
token = { env = "HOOK_TOKEN" }

[integration.hooked]
params.p = { type = "string" }
[integration.hooked.webhook]
path = "hooked"
auth.token = { header = "X-Hook-Token", secret = "{{ secrets.token }}" }
params.p = "{{ secrets.token }}-{{ trigger.body.id }}"
[[integration.hooked.steps]]
command.argv = ["sh", "-c", "echo \"$0\" >> seen.txt; echo \"$1\" >> ran.txt", "{{ params.p }}", "{{ trigger.headers | tojson }}"]
"#;

#[test]
fn the_store_keeps_no_credential_and_no_secret_of_a_webhook() {
    let test = Test::new().config(HOOKED).env("HOOK_TOKEN", "t0ken-Xy");
    let listener = Listener::start(&test, &[]);
    let (status, answer) = listener.post(
        "/hooks/hooked",
        &[
            ("X-Hook-Token", "t0ken-Xy"),
            ("Authorization", "Bearer other-cred-1"),
            ("Cookie", "session=other-cred-2"),
            ("Proxy-Authorization", "Basic b3RoZXItY3JlZC0z"),
            ("X-Delivery", "d-1"),
        ],
        r#"{"id": 42}"#,
    );
    assert_eq!(status, 202, "{answer}");
    // The run has its real param value, mapped from the secret …
    assert_eq!(wait_for_lines(&test, "seen.txt", 1), ["t0ken-Xy-42"]);
    // … and sees the request without its credentials.
    let headers: serde_json::Value =
        serde_json::from_str(&wait_for_lines(&test, "ran.txt", 1)[0]).unwrap();
    assert_eq!(headers["x-delivery"], "d-1");
    for gone in [
        "x-hook-token",
        "authorization",
        "cookie",
        "proxy-authorization",
    ] {
        assert!(
            headers.get(gone).is_none(),
            "{gone} reached the run: {headers}"
        );
    }
    // History shows the param with the secret hidden.
    assert_eq!(
        test.wait_for_newest_run("succeeded")["params"]["p"],
        "***-42"
    );
    drop(listener);
    assert_nowhere_in_state(
        &test,
        &[
            "t0ken-Xy",
            "other-cred-1",
            "other-cred-2",
            "b3RoZXItY3JlZC0z",
        ],
    );
}

#[test]
fn a_body_too_deep_to_read_back_is_refused_not_accepted() {
    let test = Test::new().config(&open_hook("deep", "echo ran >> ran.txt"));
    let listener = Listener::start(&test, &[]);
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let (status, answer) = listener.post("/hooks/deep", &[], &nested(127));
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("nests deeper than 64")
    );
    let (status, _) = listener.post("/hooks/deep", &[], &nested(64));
    assert_eq!(status, 202);
    assert_eq!(wait_for_lines(&test, "ran.txt", 1), ["ran"]);
    let history = test.history();
    assert_eq!(history.len(), 1, "the refused one was never stored");
}

#[test]
fn a_listener_runs_again_what_a_dead_listener_beside_it_had_taken() {
    let test = Test::new().config(&open_hook(
        "slow",
        "echo start >> started.txt; sleep 1; echo done >> ran.txt",
    ));
    let first = Listener::start(&test, &[]);
    let (status, _) = first.post("/hooks/slow", &[], "{}");
    assert_eq!(status, 202);
    wait_for_lines(&test, "started.txt", 1);
    // A second listener on the same state dir, up while the first one's run is alive: it
    // must not take that run at its start.
    let second = Listener::start(&test, &[]);
    std::thread::sleep(Duration::from_millis(300));
    first.signal(Signal::SIGKILL);
    drop(first);
    // Without anyone running `integ list` or restarting: the second listener finds the
    // dead one's run and runs it again.
    let started = wait_for_lines(&test, "started.txt", 2);
    assert_eq!(started.len(), 2);
    wait_for_lines(&test, "ran.txt", 1);
    drop(second);
}

fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn a_validly_signed_timestamp_from_the_edge_of_time_is_refused() {
    let test = Test::new()
        .config(
            r#"
[secrets]
stripe = { env = "STRIPE_SECRET" }
[integration.stripe]
[integration.stripe.webhook]
path = "stripe"
auth.signed = { style = "stripe", secret = "{{ secrets.stripe }}" }
[[integration.stripe.steps]]
command.argv = ["sh", "-c", "echo ran >> ran.txt"]
"#,
        )
        .env("STRIPE_SECRET", "whsec_edge");
    let listener = Listener::start(&test, &[]);
    let body = r#"{"id": "evt_1"}"#;
    let now = chrono::Utc::now().timestamp();
    // `now − 2^63`: the age `now − t` overflows an i64.
    for t in [now.wrapping_add(i64::MIN), i64::MIN, i64::MAX] {
        let signature = stripe_signature("whsec_edge", t, body);
        let (status, _) = listener.post("/hooks/stripe", &[("Stripe-Signature", &signature)], body);
        assert_eq!(status, 401, "t = {t}");
    }
    let signature = stripe_signature("whsec_edge", now, body);
    let (status, _) = listener.post("/hooks/stripe", &[("Stripe-Signature", &signature)], body);
    assert_eq!(status, 202, "a fresh one is still accepted");
    assert_eq!(test.history().len(), 1);
}

#[test]
fn a_sender_that_half_closes_after_its_request_is_answered() {
    let test = Test::new().config(&open_hook("hooked", "true"));
    let listener = Listener::start(&test, &[]);
    let mut stream = TcpStream::connect(&listener.addr).unwrap();
    let body = "{}";
    write!(
        stream,
        "POST /hooks/hooked HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer:?}");
}

#[test]
fn a_run_whose_end_cannot_be_recorded_at_once_is_recorded_when_the_store_is_free_again() {
    let test = Test::new().config(
        r#"
[integration.held]
[[integration.held.steps]]
command.argv = ["sh", "-c", "touch started; while [ ! -e locked ]; do sleep 0.05; done"]
"#,
    );
    let run = test.spawn(&["run", "held"]);
    test.wait_for_file("started");
    // Another process holds the store's write lock longer than integ waits for it (10 s):
    // the first attempts to record the run's end fail.
    let db = test.state_dir().join("integ.db");
    let holder = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys, time\n\
             db = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             db.execute('BEGIN EXCLUSIVE')\n\
             open(sys.argv[2], 'w').close()\n\
             time.sleep(12)\n\
             db.execute('COMMIT')\n",
        )
        .arg(&db)
        .arg(test.state_dir().with_file_name("locked"))
        .spawn()
        .unwrap();
    let out = crate::support::finish(run);
    let mut holder = holder;
    assert!(holder.wait().unwrap().success());
    out.success()
        .stderr_has("failed to record its end (trying again in");
    let history = test.history();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["status"], "succeeded", "{history:?}");
}

#[test]
fn a_run_waiting_for_its_slot_stops_at_sigint_and_records_nothing() {
    let test = Test::new().config(
        r#"
[integration.held]
[[integration.held.steps]]
command.argv = ["sh", "-c", "touch started; while [ ! -e release ]; do sleep 0.05; done"]
"#,
    );
    let first = test.spawn(&["run", "held"]);
    test.wait_for_file("started");
    let waiting = test.spawn(&["run", "held", "--wait"]);
    // Signalled once one of its threads waits for the lock (the kernel says where each
    // thread sleeps).
    let tasks = format!("/proc/{}/task", waiting.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_dir(&tasks).unwrap().flatten().any(|task| {
        std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w.contains("lock"))
    }) {
        assert!(Instant::now() < deadline, "never waited for the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(waiting.id() as i32),
        Signal::SIGINT,
    )
    .unwrap();
    crate::support::finish(waiting)
        .code(130)
        .stderr_has("`held` did not start: SIGINT while it waited for its turn");
    std::fs::write(test.state_dir().with_file_name("release"), "").unwrap();
    crate::support::finish(first).success();
    let history = test.history();
    assert_eq!(
        history.len(),
        1,
        "the stopped one left no record: {history:?}"
    );
}

#[test]
fn a_queued_run_that_can_no_longer_map_its_params_fails_with_its_secrets_hidden() {
    let hook = |kind: &str| {
        format!(
            r#"
[secrets]
token = {{ env = "HOOK_TOKEN" }}
[integration.hooked]
params.p = {{ type = "{kind}" }}
[integration.hooked.webhook]
path = "hooked"
auth.none = true
params.p = "{{{{ secrets.token }}}}"
retries = 0
[[integration.hooked.steps]]
command.argv = ["true"]
"#
        )
    };
    let test = Test::new()
        .config(&hook("string"))
        .env("HOOK_TOKEN", "s3cret-Tok");
    let storing = Listener::start(&test, &["--workers", "0"]);
    assert_eq!(storing.post("/hooks/hooked", &[], "{}").0, 202);
    drop(storing);
    // The file changes while the event waits: its param can no longer take the value.
    let test = test.config(&hook("integer"));
    let _running = Listener::start(&test, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let run = loop {
        let history = test.history();
        if history[0]["status"] == "failed" {
            break history[0].clone();
        }
        assert!(Instant::now() < deadline, "{history:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("param `p`") && error.contains("***"),
        "{error}"
    );
    assert!(!error.contains("s3cret-Tok"), "{error}");
    let log = std::fs::read_to_string(test.state_dir().with_extension("log")).unwrap();
    assert!(!log.contains("s3cret-Tok"), "{log}");
}
