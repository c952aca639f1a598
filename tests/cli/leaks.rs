//! No secret leaves integ: every byte integ writes — stdout, stderr, the listener's log, its
//! HTTP answers, the state directory (database, WAL, shared memory), output files — is scanned
//! for every secret of the file in every form it could take on the way: raw, URL-encoded (`%20`
//! and `+`), JSON-escaped, base64 (also of HTTP Basic's `user:secret`).

use std::path::Path;

use base64::Engine as _;
use nix::sys::signal::Signal;

use crate::http_server::{Reply, Server};
use crate::serve_hook::{Listener, request};
use crate::support::{Output, Test};

const SECRETS: &[(&str, &str)] = &[
    ("API_KEY", "q\"S3cret\\Key +/=&%"),
    ("HOOK_TOKEN", "h00k T0ken/+"),
    ("UNUSED_KEY", "unused-S3cret-99"),
];
const PASSWORD: &str = "pa ss+w/rd:é";

const CONFIG: &str = r#"
[secrets]
api = { env = "API_KEY" }
pw = { file = "pw.txt" }
hook = { env = "HOOK_TOKEN" }
unused = { env = "UNUSED_KEY" }

[integration.basic-denied]
[[integration.basic-denied.steps]]
http.get = "SERVER/echo-auth"
http.auth.basic = { user = "integ", password = "{{ secrets.pw }}" }
http.retries = 0

[integration.query-denied]
[[integration.query-denied.steps]]
http.get = "SERVER/echo-query/{{ secrets.api }}"
http.query = { key = "{{ secrets.api }}", again = "{{ secrets.api | urlencode }}" }
http.retries = 0

[integration.json-denied]
[[integration.json-denied.steps]]
http.post = "SERVER/echo-body"
http.json = { key = "{{ secrets.api }}", pw = "{{ secrets.pw }}" }

[integration.report]
params.label = { type = "string", default = "{{ env.API_KEY }}" }
[[integration.report.steps]]
command.shell = 'echo "env: [$UNUSED_KEY] [$API_KEY] [$HOOK_TOKEN]"; printenv; echo "$PARAM_LABEL"'
[[integration.report.steps]]
command.argv = ["sh", "-c", "echo \"$1\"; echo \"$1\" >&2; exit 0", "-", "{{ secrets.api }} {{ secrets.api | urlencode }} {{ secrets.hook | tojson }} {{ params.label }}"]
[[integration.report.steps]]
output = { format = "text", template = "report {{ secrets.api }} {{ secrets.pw | urlencode }} {{ params.label | tojson }}\n" }
[[integration.report.steps]]
output = { format = "text", template = "file {{ secrets.api }} {{ secrets.hook }}\n", to = "out/report.txt" }
[[integration.report.steps]]
command.argv = ["sh", "-c", "echo \"$0\"; exit 3", "{{ secrets.pw }}"]

[integration.hooked]
[integration.hooked.webhook]
path = "h"
auth.bearer = { secret = "{{ secrets.hook }}" }
respond = "output"
[[integration.hooked.steps]]
output = { format = "text", template = "answer {{ secrets.api }} {{ trigger.body.echo }}\n" }

[integration.linked]
[integration.linked.link]
auth.token = { query = "k", secret = "{{ secrets.hook }}" }
[[integration.linked.steps]]
output = { format = "text", template = "linked {{ secrets.api }}\n" }

[integration.hooked-fail]
[integration.hooked-fail.webhook]
path = "f"
auth.token = { header = "X-Token", secret = "{{ secrets.hook }}" }
respond = "output"
retries = 0
[[integration.hooked-fail.steps]]
http.get = "SERVER/echo-auth"
http.auth.basic = { user = "integ", password = "{{ secrets.pw }}" }
http.retries = 0
"#;

/// Every form a secret could take on its way out.
fn forms(secret: &str) -> Vec<String> {
    let b64 = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut forms = vec![secret.to_owned()];
    let json = serde_json::to_string(secret).unwrap();
    forms.push(json.trim_matches('"').to_owned());
    let mut percent = String::new();
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            percent.push(byte as char);
        } else {
            percent.push_str(&format!("%{byte:02X}"));
        }
    }
    forms.push(percent.clone());
    forms.push(percent.to_lowercase_hex());
    forms.push(percent.replace("%20", "+"));
    for engine in b64 {
        forms.push(engine.encode(secret));
        forms.push(engine.encode(format!("integ:{secret}")));
    }
    forms.sort();
    forms.dedup();
    forms
}

trait LowerHex {
    fn to_lowercase_hex(&self) -> String;
}

impl LowerHex for String {
    /// `%2F` as `%2f`, the rest as it is.
    fn to_lowercase_hex(&self) -> String {
        let mut out = String::new();
        let mut chars = self.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '%' {
                for _ in 0..2 {
                    if let Some(h) = chars.next() {
                        out.push(h.to_ascii_lowercase());
                    }
                }
            }
        }
        out
    }
}

fn all_forms() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (name, value) in SECRETS.iter().copied().chain([("pw.txt", PASSWORD)]) {
        for form in forms(value) {
            all.push((name.to_owned(), form));
        }
    }
    all
}

/// Fails naming the secret, its form and where it was found.
#[track_caller]
fn assert_clean(place: &str, bytes: &[u8]) {
    for (name, form) in all_forms() {
        let found = bytes
            .windows(form.len())
            .position(|window| window == form.as_bytes());
        if let Some(at) = found {
            let from = at.saturating_sub(60);
            let to = (at + form.len() + 60).min(bytes.len());
            panic!(
                "secret {name} leaks as {form:?} in {place}: …{}…",
                String::from_utf8_lossy(&bytes[from..to])
            );
        }
    }
}

/// Every file below `dir`, but for the files and folders named in `skip`.
pub(crate) fn files_under(dir: &Path, skip: &[&str], found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            files_under(&path, skip, found);
        } else {
            found.push(path);
        }
    }
}

fn record(outputs: &mut Vec<(String, Output)>, what: &str, out: Output) {
    outputs.push((what.to_owned(), out));
}

#[test]
fn nothing_integ_writes_holds_a_secret_in_any_form() {
    let server = Server::start(|request, _| match request.path.as_str() {
        // Servers echo what they were sent into their error bodies, which integ shows.
        "/echo-auth" => Reply::status(
            401,
            &format!(
                "denied: {}",
                request
                    .headers
                    .get("authorization")
                    .cloned()
                    .unwrap_or_default()
            ),
        ),
        path if path.starts_with("/echo-query") => Reply::status(
            500,
            &format!("bad path {path} and query {:?}", request.query),
        ),
        "/echo-body" => Reply::status(400, &format!("bad body: {}", request.body)),
        _ => Reply::json(serde_json::json!({"ok": true})),
    });
    let mut test = Test::new()
        .config(&CONFIG.replace("SERVER", &server.url("")))
        .write("pw.txt", &format!("{PASSWORD}\n"));
    for (name, value) in SECRETS {
        test = test.env(name, value);
    }
    let mut outputs: Vec<(String, Output)> = Vec::new();

    for name in ["basic-denied", "query-denied", "json-denied", "report"] {
        let out = test.run(&["run", name]);
        assert_eq!(out.code, 1, "`{name}` fails as planned:\n{}", out.stderr);
        record(&mut outputs, &format!("run {name}"), out);
        record(
            &mut outputs,
            &format!("run {name} -q"),
            test.run(&["run", name, "-q"]),
        );
        record(
            &mut outputs,
            &format!("run {name} --dry-run"),
            test.run(&["run", name, "--dry-run"]),
        );
    }
    // The failures name what the servers echoed, hidden.
    let denied = &outputs[0].1;
    denied.stderr_has("401");

    let listener = Listener::start(&test, &[]);
    let bearer = format!("Bearer {}", SECRETS[1].1);
    let (status, answer) = request(
        &listener.addr,
        "POST",
        "/hooks/h",
        &[("Authorization", &bearer)],
        br#"{"echo": "fine"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    let mut answers = vec![answer.to_string()];
    let (status, answer) = request(
        &listener.addr,
        "POST",
        "/hooks/f",
        &[("X-Token", SECRETS[1].1)],
        b"{}",
    );
    assert_eq!(status, 500, "{answer}");
    answers.push(answer.to_string());
    for wrong in [("Authorization", "Bearer guess"), ("X-Token", "guess")] {
        let (status, answer) = request(&listener.addr, "POST", "/hooks/h", &[wrong], b"{}");
        assert_eq!(status, 401);
        answers.push(answer.to_string());
    }
    // A link's key rides in its URL: the answer, the log and the store never hold it.
    let key = crate::support::percent_encoded(SECRETS[1].1);
    for (target, expected) in [
        (format!("/run/linked?k={key}"), 200),
        ("/run/linked?k=guess".to_owned(), 401),
    ] {
        let (status, _, answer) =
            crate::serve_hook::exchange(&listener.addr, "GET", &target, &[], b"");
        assert_eq!(status, expected, "{target}: {answer}");
        answers.push(answer.to_string());
    }
    let (_, metrics) = request(&listener.addr, "GET", "/metrics", &[], b"");
    answers.push(metrics.to_string());
    listener.signal(Signal::SIGTERM);
    drop(listener);

    let history = test.run(&["history", "--json", "-n", "100"]);
    let runs = history.json();
    for run in runs.as_array().unwrap() {
        let id = run["id"].as_str().unwrap();
        record(&mut outputs, &format!("logs {id}"), test.run(&["logs", id]));
    }
    record(&mut outputs, "history --json", history);
    record(&mut outputs, "history", test.run(&["history"]));
    record(&mut outputs, "list --json", test.run(&["list", "--json"]));
    record(&mut outputs, "list", test.run(&["list"]));
    record(&mut outputs, "check", test.run(&["check"]));

    for (what, out) in &outputs {
        assert_clean(
            &format!("the stdout of `integ {what}`"),
            out.stdout.as_bytes(),
        );
        assert_clean(
            &format!("the stderr of `integ {what}`"),
            out.stderr.as_bytes(),
        );
    }
    for (n, answer) in answers.iter().enumerate() {
        assert_clean(&format!("HTTP answer #{n}"), answer.as_bytes());
    }
    let mut files = Vec::new();
    files_under(
        test.state_dir().parent().unwrap(),
        &["pw.txt", "integrations.toml"],
        &mut files,
    );
    assert!(
        files.iter().any(|f| f.ends_with("integ.db")),
        "the store is scanned: {files:?}"
    );
    assert!(files.iter().any(|f| f.ends_with("out/report.txt")));
    for file in files {
        assert_clean(&file.display().to_string(), &std::fs::read(&file).unwrap());
    }
    // The scan itself can fail: the server saw the secrets.
    let seen = server.requests();
    assert!(
        seen.iter().any(|r| r.body.contains("S3cret")),
        "the secret was really sent"
    );
}
