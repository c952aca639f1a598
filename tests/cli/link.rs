//! The link door over real sockets: `GET`/`POST /run/NAME` on a real `serve-hook` process —
//! the generated form, each answer kind, each refusal, a wrong value, a slow run, escaping.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use serde_json::json;

use crate::serve_hook::Listener;
use crate::support::Test;

/// One HTTP/1.1 request; the status, the headers (lowercase names) and the body as text.
fn http(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    let body = match header(&headers, "transfer-encoding") {
        Some("chunked") => dechunked(body),
        _ => body.to_owned(),
    };
    (status, headers, body)
}

/// A chunked body's content (a streamed page).
fn dechunked(mut body: &str) -> String {
    let mut content = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        content.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    content
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

const REPORT: &str = r#"
[secrets]
button = { env = "BUTTON_KEY" }
report_pw = { env = "REPORT_PW" }

[integration.sales-report]
description = "Sales of a month <b>by region</b>"
params.month = { type = "string", pattern = "[0-9]{4}-[0-9]{2}", help = "YYYY-MM, e.g. <script>alert(1)</script>" }
params.region = { type = "choice", values = ["eu", "us"], default = "eu" }
params.from = { type = "date", default = "{{ today | start_of_month }}" }
params.at = { type = "datetime", default = "2026-11-01 08:00" }
params.rows = { type = "integer", default = 10 }
params.draft = { type = "boolean", default = false }
params.ids = { type = "list", default = ["a", "b"] }
[integration.sales-report.link]
auth.token = { query = "k", secret = "{{ secrets.button }}" }
answer = "download"
filename = "sales-{{ params.month }}.csv"
[[integration.sales-report.steps]]
output = { format = "csv", value = "{{ [{'month': params.month, 'region': params.region}] }}", columns = ["month", "region"] }

[integration.sheet]
params.deal = { type = "integer" }
[integration.sheet.link]
auth.basic = { user = "crm", password = "{{ secrets.report_pw }}" }
[[integration.sheet.steps]]
command.argv = ["echo", "Deal <{{ params.deal }}> & co"]

[integration.sync-now]
params.id = { type = "integer" }
[integration.sync-now.link]
auth.none = true
answer = "ajax"
[[integration.sync-now.steps]]
command.argv = ["sh", "-c", "test \"$1\" != 13", "sh", "{{ params.id }}"]

[integration.slow]
[integration.slow.link]
auth.none = true
[[integration.slow.steps]]
command.argv = ["sh", "-c", "echo 'first <line>'; while [ ! -e go ]; do sleep 0.05; done; echo second"]
"#;

fn report() -> (Test, Listener) {
    let test = Test::new()
        .config(REPORT)
        .env("BUTTON_KEY", "b7tt0n-k3y")
        .env("REPORT_PW", "pa55word");
    let listener = Listener::start(&test, &[]);
    (test, listener)
}

#[test]
fn without_its_required_params_a_link_shows_a_form_generated_from_their_types() {
    let (_test, listener) = report();
    let (status, headers, body) = http(
        &listener.addr,
        "GET",
        "/run/sales-report?k=b7tt0n-k3y",
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(header(&headers, name), Some(value), "{name}");
    }
    for field in [
        r#"<input id="p-month" type="text" name="month" value="" required>"#,
        r#"<option value="eu" selected>eu</option><option value="us">us</option>"#,
        r#"type="date" name="from" value="20"#,
        r#"type="datetime-local" name="at""#,
        "at <span class=\"help\">(time in ",
        r#"type="number" name="rows" value="10" step="1""#,
        r#"<input id="p-draft" type="checkbox" name="draft" value="true">"#,
        "<textarea id=\"p-ids\" name=\"ids\" rows=\"4\">a\nb</textarea>",
        "<label for=\"p-month\">month *",
    ] {
        assert!(body.contains(field), "no `{field}` in\n{body}");
    }
    assert!(
        !body.contains("<script>"),
        "markup from the file is text: {body}"
    );
    assert!(body.contains("e.g. &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(body.contains("Sales of a month &lt;b&gt;by region&lt;/b&gt;"));
}

#[test]
fn a_download_link_runs_and_answers_the_file_with_its_name_and_type() {
    let (test, listener) = report();
    let (status, headers, body) = http(
        &listener.addr,
        "POST",
        "/run/sales-report?k=b7tt0n-k3y",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "month=2026-11&region=us",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        header(&headers, "content-disposition"),
        Some("attachment; filename=\"sales-2026-11.csv\"; filename*=UTF-8''sales-2026-11.csv")
    );
    assert_eq!(body, "month,region\n2026-11,us\n");
    let run = &test.history()[0];
    assert_eq!(
        (run["trigger"].as_str(), run["status"].as_str()),
        (Some("link"), Some("succeeded"))
    );
    assert_eq!(run["params"]["month"], "2026-11");
    // The key in the URL is the link's credential: nowhere in what integ stored.
    drop(listener);
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(test.state_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    let key = b"b7tt0n-k3y";
    assert!(
        !stored.windows(key.len()).any(|w| w == key),
        "the key is in the state dir"
    );
    let logs = test.run(&["logs", run["id"].as_str().unwrap()]);
    assert!(!logs.stdout.contains("b7tt0n-k3y"));
}

#[test]
fn a_list_param_given_twice_in_the_query_runs_with_both_values() {
    let (test, listener) = report();
    let (status, _, body) = http(
        &listener.addr,
        "GET",
        "/run/sales-report?k=b7tt0n-k3y&month=2026-11&ids=x&ids=y",
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    // The run is made from the stored request, which keeps each value.
    assert_eq!(
        test.history()[0]["params"]["ids"],
        serde_json::json!(["x", "y"])
    );
}

#[test]
fn a_wrong_value_shows_the_form_again_with_the_reason_beside_its_field() {
    let (test, listener) = report();
    let (status, _, body) = http(
        &listener.addr,
        "POST",
        "/run/sales-report?k=b7tt0n-k3y",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "month=11%2F2026&region=eu",
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("invalid value `11/2026` for param `month`: it does not match its `pattern`"),
        "{body}"
    );
    assert!(
        body.contains(r#"name="month" value="11/2026""#),
        "the value given is kept: {body}"
    );
    assert!(test.history().is_empty(), "nothing ran");
}

#[test]
fn a_page_answer_shows_the_output_escaped_and_basic_auth_is_asked_for() {
    let (_test, listener) = report();
    let (status, headers, body) = http(&listener.addr, "GET", "/run/sheet?deal=7", &[], "");
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some("Basic realm=\"integ\", charset=\"UTF-8\"")
    );
    // crm:pa55word
    let (status, headers, body) = http(
        &listener.addr,
        "GET",
        "/run/sheet?deal=7",
        &[("Authorization", "Basic Y3JtOnBhNTV3b3Jk")],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(body.contains("<strong>succeeded</strong>"), "{body}");
    assert!(
        body.contains("<pre>Deal &lt;7&gt; &amp; co\n</pre>"),
        "{body}"
    );
}

#[test]
fn an_ajax_link_always_answers_200_with_raynets_json_contract() {
    let (_test, listener) = report();
    let ajax = |target: &str| {
        let (status, headers, body) = http(&listener.addr, "GET", target, &[], "");
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    assert_eq!(ajax("/run/sync-now?id=7"), json!({"success": true}));
    let failed = ajax("/run/sync-now?id=13");
    assert_eq!(failed["success"], json!(false));
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("exited with code 1"),
        "{failed}"
    );
    let refused = ajax("/run/sync-now?id=seven");
    assert_eq!(refused["success"], json!(false));
    assert!(
        refused["message"].as_str().unwrap().contains("param `id`"),
        "{refused}"
    );
    let missing = ajax("/run/sync-now");
    assert_eq!(missing["success"], json!(false), "{missing}");
}

#[test]
fn a_page_shows_a_long_runs_output_as_it_comes_then_how_it_ended() {
    let (test, listener) = report();
    let mut stream = TcpStream::connect(&listener.addr).unwrap();
    write!(
        stream,
        "GET /run/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // The first line shows while the run still waits for `go`.
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("first &lt;line&gt;") {
        let n = stream.read(&mut buffer).unwrap();
        assert!(
            n > 0,
            "the answer ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buffer[..n]);
    }
    let so_far = String::from_utf8_lossy(&seen).into_owned();
    assert!(so_far.starts_with("HTTP/1.1 200"), "{so_far}");
    assert!(!so_far.contains("second"), "{so_far}");
    std::fs::write(test.state_dir().with_file_name("go"), "").unwrap();
    stream.read_to_end(&mut seen).unwrap();
    let page = String::from_utf8_lossy(&seen).into_owned();
    assert!(page.contains("second"), "{page}");
    assert!(page.contains("It <strong>succeeded</strong>."), "{page}");
    let run = test.wait_for_newest_run("succeeded");
    test.run(&["output", run["id"].as_str().unwrap()])
        .success()
        .stdout_is("first <line>\nsecond\n");
    let (status, _, _) = http(&listener.addr, "GET", "/runs/not-a-run", &[], "");
    assert_eq!(status, 404);
}

#[test]
fn a_signed_links_slow_run_is_shown_later_by_a_signed_status_url() {
    let test = Test::new()
        .config(
            r#"
[secrets]
link_key = { env = "LINK_KEY" }
[integration.export]
[integration.export.link]
auth.signed = { secret = "{{ secrets.link_key }}" }
answer = "download"
filename = "export.csv"
answer_within = "200ms"
[[integration.export.steps]]
command.argv = ["sh", "-c", "sleep 1"]
[[integration.export.steps]]
output = { format = "csv", value = "{{ [{'a': 1}] }}", columns = ["a"] }
"#,
        )
        .env("LINK_KEY", "l1nk-k3y");
    let listener = Listener::start(&test, &[]);
    let link = made(&test, &["export"], &listener.addr);
    let (status, _, body) = http(&listener.addr, "GET", &link, &[], "");
    assert_eq!(status, 202, "{body}");
    let later = body.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(
        later.starts_with("/runs/") && later.contains("&sig="),
        "{body}"
    );
    test.wait_for_newest_run("succeeded");
    let (status, headers, file) = http(&listener.addr, "GET", &later, &[], "");
    assert_eq!((status, file.as_str()), (200, "a\n1\n"));
    assert!(
        header(&headers, "content-disposition")
            .unwrap()
            .contains("export.csv")
    );
    let unsigned = later.split('?').next().unwrap();
    let (status, _, _) = http(&listener.addr, "GET", unsigned, &[], "");
    assert_eq!(
        status, 403,
        "the status of a signed link's run is signed too"
    );
}

#[test]
fn refusals_say_why_run_nothing_and_are_counted() {
    let (test, listener) = report();
    for (method, target, status) in [
        ("GET", "/run/sales-report?month=2026-11", 401),
        ("GET", "/run/sales-report?k=wrong&month=2026-11", 401),
        ("GET", "/run/nobody", 404),
        ("DELETE", "/run/sync-now?id=1", 405),
    ] {
        let (got, headers, body) = http(&listener.addr, method, target, &[], "");
        assert_eq!(got, status, "{method} {target}: {body}");
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"));
    }
    assert!(test.history().is_empty(), "nothing ran");
    let (_, _, metrics) = http(&listener.addr, "GET", "/metrics", &[], "");
    assert!(
        metrics.contains("integ_webhook_link_refusals_total 4"),
        "{metrics}"
    );
}

#[test]
fn check_knows_what_a_link_needs() {
    let test = Test::new().config(
        r#"
[integration.a]
params.k = { type = "string" }
[integration.a.link]
auth.token = { query = "k", secret = "x" }
[[integration.a.steps]]
command.argv = ["true"]

[integration.b]
[integration.b.link]
answer = "pdf"
[[integration.b.steps]]
command.argv = ["true"]

[integration.c]
[integration.c.link]
[[integration.c.steps]]
command.argv = ["true"]

[integration.d]
[integration.d.link]
auth.none = true
cors_origins = ["https://app.raynet.cz", "app.raynet.cz", "https://app.raynet.cz/page"]
[[integration.d.steps]]
command.argv = ["true"]
"#,
    );
    let out = test.run(&["check"]);
    out.code(2)
        .stderr_has(
            "error: `auth.token.query` must name a query parameter that is not a param: `k`",
        )
        .stderr_has("unknown variant `pdf`, expected one of `page`, `download`, `ajax`")
        .stderr_has("error: link of `c` has no `auth`")
        .stderr_has("error: `app.raynet.cz` is not an origin")
        .stderr_has("error: `https://app.raynet.cz/page` is not an origin");
    assert!(
        !out.stderr.contains("`https://app.raynet.cz` is not"),
        "{}",
        out.stderr
    );
}

const SIGNED: &str = r#"
[secrets]
link_key = { env = "LINK_KEY" }
old_key = { env = "OLD_LINK_KEY" }

[integration.report]
params.month = { type = "string", pattern = "[0-9]{4}-[0-9]{2}" }
params.region = { type = "choice", values = ["eu", "us"], default = "eu" }
[integration.report.link]
auth.signed = { secret = "{{ secrets.link_key }}", key_id = "2026-12", previous = { "2026-06" = "{{ secrets.old_key }}" } }
[[integration.report.steps]]
command.argv = ["echo", "report {{ params.month }} {{ params.region }}"]

[integration.other]
params.month = { type = "string" }
[integration.other.link]
auth.signed = { secret = "{{ secrets.link_key }}", key_id = "2026-12" }
[[integration.other.steps]]
command.argv = ["echo", "other"]
"#;

fn signed() -> Test {
    Test::new()
        .config(SIGNED)
        .env("LINK_KEY", "l1nk-k3y")
        .env("OLD_LINK_KEY", "0ld-k3y")
}

/// The path and query of the link `integ link` prints, for the listener at `addr`.
fn made(test: &Test, args: &[&str], addr: &str) -> String {
    let base = format!("http://{addr}");
    let mut all = vec!["link"];
    all.extend_from_slice(args);
    all.extend(["--base-url", &base]);
    let out = test.run(&all);
    out.success();
    out.stdout.trim().strip_prefix(&base).unwrap().to_owned()
}

#[test]
fn a_signed_link_runs_with_its_fixed_params_and_refuses_any_change() {
    let test = signed();
    let listener = Listener::start(&test, &[]);
    let addr = listener.addr.clone();
    let link = made(
        &test,
        &["report", "-p", "month=2026-11", "-p", "region=us"],
        &addr,
    );
    assert!(
        link.starts_with("/run/report?month=2026-11&region=us&exp="),
        "{link}"
    );
    assert!(link.contains("&kid=2026-12&sig="), "{link}");
    let (status, _, body) = http(&addr, "GET", &link, &[], "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("report 2026-11 us"), "{body}");
    assert_eq!(test.history()[0]["trigger"], "link");
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    test.run(&["logs", &id])
        .success()
        .stdout_has("run > started by a link from 127.0.0.1:")
        .stdout_has(", signed with key `2026-12`");
    test.run(&["list"])
        .success()
        .stdout_has("link /run/report (signed)");
    let list = test.run(&["list", "--json"]).json();
    assert_eq!(
        list[0]["triggers"]["link"],
        json!({"path": "/run/report", "auth": "signed"})
    );

    // A changed param, another integration's path, a changed expiry: refused, nothing runs.
    let runs = test.history().len();
    for (tampered, what) in [
        (link.replace("region=us", "region=eu"), "a param"),
        (link.replace("/run/report", "/run/other"), "the path"),
        (link.replace("&exp=", "&exp=9"), "the expiry"),
    ] {
        let (status, headers, body) = http(&addr, "GET", &tampered, &[], "");
        assert_eq!(status, 403, "{what}: {body}");
        assert!(
            body.contains("this link was changed after it was signed"),
            "{what}: {body}"
        );
        assert_eq!(header(&headers, "referrer-policy"), Some("no-referrer"));
    }
    let (status, _, body) = http(&addr, "GET", "/run/report?month=2026-11", &[], "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("this link is not signed"), "{body}");
    assert_eq!(test.history().len(), runs, "nothing ran");

    // What the signature fixes, the form cannot change.
    let partial = made(&test, &["report", "-p", "month=2026-11"], &addr);
    let (status, _, body) = http(&addr, "GET", &partial, &[], "");
    assert_eq!(status, 200);
    assert!(
        body.contains("report 2026-11 eu"),
        "the default fills in: {body}"
    );
    let (status, _, body) = http(
        &addr,
        "POST",
        &partial,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "month=2027-01",
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("param `month` is fixed by the signed link"),
        "{body}"
    );
    // The key never reaches the state dir or the log.
    drop(listener);
    for entry in std::fs::read_dir(test.state_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(8).any(|w| w == b"l1nk-k3y"),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn an_expired_link_or_one_of_a_dropped_key_is_refused_saying_which() {
    let test = signed();
    let listener = Listener::start(&test, &[]);
    let addr = listener.addr.clone();
    // Made eight days ago, for seven: expired a day ago.
    let out = test.run_at(
        &(utc_days_ago(8)),
        &[
            "link",
            "report",
            "-p",
            "month=2026-11",
            "--base-url",
            "http://x",
        ],
    );
    out.success();
    let old = out
        .stdout
        .trim()
        .strip_prefix("http://x")
        .unwrap()
        .to_owned();
    let (status, _, body) = http(&addr, "GET", &old, &[], "");
    assert_eq!(status, 410, "{body}");
    assert!(body.contains("this link expired at"), "{body}");
    // Signed with a key the file no longer lists.
    let dropped = made(&test, &["other", "-p", "month=2026-11"], &addr)
        .replace("/run/other", "/run/report")
        .replace("kid=2026-12", "kid=2025-01");
    let (status, _, body) = http(&addr, "GET", &dropped, &[], "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("signed with key `2025-01`"), "{body}");
    // Bad input to `integ link`.
    test.run(&["link", "report", "--expires", "30d"])
        .code(2)
        .stderr_has("is not between a second and 7d");
    test.run(&["link", "report", "-p", "month=November"])
        .code(2)
        .stderr_has("invalid value `November` for param `month`");
    test.run(&["link", "report", "-p", "nope=1"]).code(2);
    Test::new()
        .config(REPORT)
        .env("BUTTON_KEY", "k")
        .env("REPORT_PW", "p")
        .run(&["link", "sheet"])
        .code(2)
        .stderr_has("`sheet` has no signed link to make");
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) some days before now, for faketime.
fn utc_days_ago(days: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let then = now - days * 86_400;
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{then}"), "+%Y-%m-%d %H:%M:%S"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_raynet_button_maps_its_placeholders_into_params() {
    let test = Test::new()
        .config(
            r#"
[secrets]
button = { env = "BUTTON_KEY" }

[integration.deal-sheet]
params.deal_id = { type = "integer" }
params.entity = { type = "string", default = "BusinessCase" }
[integration.deal-sheet.link]
auth.token = { query = "k", secret = "{{ secrets.button }}" }
answer = "ajax"
params.deal_id = "{{ trigger.query.entityId }}"
params.entity = "{{ trigger.query.entityName }}"
[[integration.deal-sheet.steps]]
command.argv = ["sh", "-c", "echo \"$1 $2\" > sheet.txt", "sh", "{{ params.entity }}", "{{ params.deal_id }}"]
"#,
        )
        .env("BUTTON_KEY", "b7n");
    let listener = Listener::start(&test, &[]);
    // The URL template a Raynet button is given, with its placeholders filled in.
    let (status, _, body) = http(
        &listener.addr,
        "GET",
        "/run/deal-sheet?k=b7n&entityId=42&entityName=BusinessCase&token=0a1b&personId=7",
        &[],
        "",
    );
    assert_eq!((status, body.as_str()), (200, r#"{"success":true}"#));
    assert_eq!(test.read("sheet.txt"), "BusinessCase 42\n");
    assert_eq!(
        test.history()[0]["params"],
        json!({"deal_id": 42, "entity": "BusinessCase"})
    );
    let (_, _, body) = http(
        &listener.addr,
        "GET",
        "/run/deal-sheet?k=b7n&entityId=x",
        &[],
        "",
    );
    assert!(
        body.contains(r#""success":false"#) && body.contains("deal_id"),
        "{body}"
    );
}

/// In a real browser (Debian's chromium): a signed link's generated form, filled in and
/// submitted, downloads the report; a page answer shows the output; a page on another local
/// origin calls an AJAX link from its script and gets Raynet's JSON.
#[test]
fn in_a_real_browser_a_link_shows_its_form_downloads_the_report_and_answers_ajax() {
    use crate::browser::{Browser, Step};
    use crate::http_server::{Reply, Server};

    // A page of "the CRM", on an origin of its own.
    let crm = Server::start(|_, _| {
        Reply::status(200, "<!doctype html><title>CRM</title><p>deal 42</p>")
            .header("content-type", "text/html")
    });
    let crm_origin = crm.url("").trim_end_matches('/').to_owned();
    let test = Test::new()
        .config(&format!(
            r#"
[secrets]
link_key = {{ env = "LINK_KEY" }}

[integration.report]
description = "Sales by month"
params.month = {{ type = "string", pattern = "[0-9]{{4}}-[0-9]{{2}}", help = "YYYY-MM" }}
params.region = {{ type = "choice", values = ["eu", "us"], default = "eu" }}
[integration.report.link]
auth.signed = {{ secret = "{{{{ secrets.link_key }}}}" }}
answer = "download"
filename = "sales-{{{{ params.month }}}}-{{{{ params.region }}}}.csv"
[[integration.report.steps]]
output = {{ format = "csv", value = "{{{{ [{{'month': params.month, 'region': params.region, 'total': 6754}}] }}}}", columns = ["month", "region", "total"] }}

[integration.summary]
params.n = {{ type = "integer", default = 3 }}
[integration.summary.link]
auth.none = true
[[integration.summary.steps]]
command.argv = ["echo", "{{{{ params.n }}}} deals <won>"]

[integration.touch]
params.id = {{ type = "integer" }}
[integration.touch.link]
auth.none = true
answer = "ajax"
cors_origins = ["{crm_origin}"]
[[integration.touch.steps]]
command.argv = ["true"]

[integration.private]
[integration.private.link]
auth.none = true
answer = "ajax"
[[integration.private.steps]]
command.argv = ["true"]
"#
        ))
        .env("LINK_KEY", "l1nk-k3y");
    let listener = Listener::start(&test, &[]);
    let base = format!("http://{}", listener.addr);
    let out = test.run(&["link", "report", "--base-url", &base]);
    out.success();
    let link = out.stdout.trim().to_owned();

    let browser = Browser::new();
    let results = browser.run(&[
        Step::open(&link),
        Step::screenshot("link-form.png"),
        Step::fill("month", "2026-11"),
        Step::select("region", &["us"]),
        Step::download_click("Run"),
    ]);
    assert_eq!(results[0]["status"], json!(200), "{:?}", results[0]);
    let download = &results[4];
    assert_eq!(
        download["filename"],
        json!("sales-2026-11-us.csv"),
        "{download}"
    );
    assert_eq!(
        download["content"],
        json!("month,region,total\n2026-11,us,6754\n")
    );
    assert!(std::path::Path::new(results[1]["path"].as_str().unwrap()).exists());

    let page = browser.run(&[Step::open(&format!("{base}/run/summary?n=5")), Step::Text]);
    let text = page[1]["text"].as_str().unwrap();
    assert!(
        text.contains("succeeded") && text.contains("5 deals <won>"),
        "{text}"
    );

    let calls = browser.run(&[
        Step::open(&crm.url("/deal/42")),
        Step::fetch(&format!("{base}/run/touch?id=42")),
        Step::fetch(&format!("{base}/run/private")),
    ]);
    assert_eq!(calls[1]["status"], json!(200), "{:?}", calls[1]);
    assert_eq!(calls[1]["body"], json!(r#"{"success":true}"#));
    assert!(
        calls[2]["blocked"].is_string(),
        "no CORS for an origin not listed: {:?}",
        calls[2]
    );
    let runs = test.history();
    assert!(
        !runs.is_empty() && runs.iter().all(|run| run["trigger"] == "link"),
        "{runs:?}"
    );
}

/// The demo CRM's deal page has a custom button made from the URL template a Raynet button is
/// given; clicking it in a real browser downloads the deal's sheet through the link door.
#[test]
fn the_demo_crms_button_downloads_a_deal_sheet_in_a_real_browser() {
    use crate::browser::{Browser, Step};

    let crm = crate::examples::DemoServer::start();
    let test = crate::examples::example("deal-sheet.toml", &crm).env("BUTTON_KEY", "demo-button");
    let listener = Listener::start(&test, &[]);
    let template = format!(
        "http://{}/run/deal-sheet?k=demo-button&entityId={{entityId}}&entityName={{entityName}}",
        listener.addr
    );
    let page = crate::support::percent_encoded(&template);
    let results = Browser::new().run(&[
        Step::open(&format!("{}/crm/deal/42?button={page}", crm.url)),
        Step::download_click("Deal sheet"),
    ]);
    let download = &results[1];
    assert_eq!(download["filename"], json!("deal-42.csv"), "{download}");
    assert_eq!(
        download["content"],
        json!(
            "id,name,company.name,totalAmount,currency\n42,Deal 42,Company 0042 s.r.o.,6754,CZK\n"
        )
    );
    let run = &test.history()[0];
    assert_eq!(
        (run["trigger"].as_str(), run["params"]["deal_id"].as_i64()),
        (Some("link"), Some(42))
    );
}

/// A Raynet button's `{token}` is confirmed with Raynet's `checktoken` call (a local
/// Raynet-shaped server here) before anything runs; the token is never stored.
#[test]
fn a_raynet_buttons_token_is_confirmed_with_raynet_before_it_runs() {
    use crate::http_server::{Reply, Server};

    let raynet = Server::start(|request, _| {
        if request.path == "/api/v2/security/checktoken/g00d-t0ken/7/" {
            Reply::json(json!({"data": true, "success": "true"}))
        } else {
            Reply::status(
                403,
                r#"{"message": "AccessTokenNotFoundException: Access token not found"}"#,
            )
        }
    });
    let test = Test::new()
        .config(&format!(
            r#"
[secrets]
button = {{ env = "BUTTON_KEY" }}
raynet = {{ env = "RAYNET_API_KEY" }}

[integration.deal-sheet]
params.deal_id = {{ type = "integer" }}
[integration.deal-sheet.link]
auth.token = {{ query = "k", secret = "{{{{ secrets.button }}}}" }}
answer = "ajax"
params.deal_id = "{{{{ trigger.query.entityId }}}}"
raynet_checktoken = {{ api = "{api}", user = "integ@acme.cz", key = "{{{{ secrets.raynet }}}}", instance = "acme" }}
[[integration.deal-sheet.steps]]
command.argv = ["true"]
"#,
            api = raynet.url("/api/v2")
        ))
        .env("BUTTON_KEY", "b7n")
        .env("RAYNET_API_KEY", "r4ynet-k3y");
    let listener = Listener::start(&test, &[]);
    let click = |token: &str| {
        http(
            &listener.addr,
            "GET",
            &format!("/run/deal-sheet?k=b7n&entityId=42&token={token}&personId=7"),
            &[],
            "",
        )
    };
    let (status, _, body) = click("g00d-t0ken");
    assert_eq!((status, body.as_str()), (200, r#"{"success":true}"#));
    let asked = &raynet.requests()[0];
    assert_eq!(
        asked.headers.get("x-instance-name").map(String::as_str),
        Some("acme")
    );
    // integ@acme.cz:r4ynet-k3y
    assert_eq!(
        asked.headers.get("authorization").map(String::as_str),
        Some("Basic aW50ZWdAYWNtZS5jejpyNHluZXQtazN5")
    );
    // A token Raynet does not know, or one that would steer the path: refused, nothing runs.
    let (status, _, body) = click("stale");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Raynet did not confirm the button"), "{body}");
    for hostile in ["..", "..%2F..%2Fdeal%2F1", "a%3Fb"] {
        let (status, _, body) = click(hostile);
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("is not one Raynet issues"), "{body}");
    }
    assert_eq!(
        raynet.requests().len(),
        2,
        "a value that is not a token is never sent"
    );
    let runs = test.history();
    assert_eq!(runs.len(), 1, "only the confirmed click ran");
    drop(listener);
    for entry in std::fs::read_dir(test.state_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(10).any(|w| w == b"g00d-t0ken"),
                "{}",
                path.display()
            );
        }
    }
}

/// A token link's slow run names a status URL signed with the link's key, never the key.
#[test]
fn a_token_links_status_url_is_signed_and_never_holds_its_key() {
    let test = Test::new()
        .config(
            r#"
[secrets]
button = { env = "BUTTON_KEY" }
[integration.sync]
[integration.sync.link]
auth.token = { query = "k", secret = "{{ secrets.button }}" }
answer = "ajax"
answer_within = "200ms"
[[integration.sync.steps]]
command.argv = ["sh", "-c", "sleep 1"]
"#,
        )
        .env("BUTTON_KEY", "b7n-s3cret");
    let listener = Listener::start(&test, &[]);
    let (status, _, body) = http(&listener.addr, "GET", "/run/sync?k=b7n-s3cret", &[], "");
    assert_eq!(status, 200, "{body}");
    assert!(
        !body.contains("b7n-s3cret"),
        "the answer holds the key: {body}"
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let later = answer["status"].as_str().unwrap().to_owned();
    assert!(later.contains("&sig="), "{later}");
    test.wait_for_newest_run("succeeded");
    let (status, _, body) = http(&listener.addr, "GET", &later, &[], "");
    assert_eq!((status, body.as_str()), (200, r#"{"success":true}"#));
    let id = later.split('?').next().unwrap();
    let (status, _, _) = http(
        &listener.addr,
        "GET",
        &format!("{id}?k=b7n-s3cret"),
        &[],
        "",
    );
    assert_eq!(
        status, 403,
        "the status URL takes its signature, not the key"
    );
}
