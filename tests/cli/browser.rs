//! A real headless browser for the tests: Debian's chromium, driven by npm's playwright-core
//! through `tests/tools/browse.mjs`, one launch per list of steps.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use serde_json::{Value, json};

use crate::http_server::{Reply, Server};

/// One thing the browser does, serialised for the script as `{"open": URL}`, `"text"`, ….
/// Each step answers one JSON object (see each variant); a step that fails panics the test
/// with the step, the error, the page's URL and its text.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    /// Go to a URL: `{"url", "status", "headers"}` of the document that loaded.
    Open(String),
    /// The page's visible text: `{"text"}`.
    Text,
    /// The page's HTML as the browser holds it now: `{"html"}`.
    Html,
    /// Wait until a text shows on the page (a streamed answer): `{"url"}`.
    WaitForText(String),
    /// Type into the field with this label, else with this `name`: `{}`.
    Fill { field: String, value: String },
    /// Choose options (by value or by label) of a select: `{"selected": [values]}`.
    Select { field: String, values: Vec<String> },
    /// Tick or clear a checkbox: `{}`.
    Check { field: String, checked: bool },
    /// Click a button or link by its name and wait for the page it leads to: `{"url",
    /// "status", "headers"}` of that page, or `{"url", "status": null}` when it led nowhere.
    Click(String),
    /// Start a download and wait for it: `{"filename", "content", "path", "url"}`, the file
    /// saved as its suggested name in [`Browser::dir`].
    Download(Via),
    /// A full-page PNG in [`Browser::dir`] under this name, copied for people into
    /// `target/test-screenshots/`: `{"path", "copy"}`.
    Screenshot(String),
    /// `fetch()` run inside the page, so under its origin's CORS rules: `{"status",
    /// "headers", "body"}`, or `{"blocked": "TypeError: Failed to fetch"}` when the browser
    /// withheld the answer.
    Fetch {
        url: String,
        method: String,
        headers: BTreeMap<String, String>,
        body: Option<String>,
    },
}

/// What starts a download.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Via {
    /// Clicking the button or link with this name (a form's submit).
    Click(String),
    /// Going to this URL.
    Open(String),
}

impl Step {
    pub(crate) fn open(url: &str) -> Step {
        Step::Open(url.to_owned())
    }

    pub(crate) fn wait_for_text(text: &str) -> Step {
        Step::WaitForText(text.to_owned())
    }

    pub(crate) fn fill(field: &str, value: &str) -> Step {
        Step::Fill {
            field: field.to_owned(),
            value: value.to_owned(),
        }
    }

    pub(crate) fn select(field: &str, values: &[&str]) -> Step {
        Step::Select {
            field: field.to_owned(),
            values: values.iter().map(|&value| value.to_owned()).collect(),
        }
    }

    pub(crate) fn check(field: &str, checked: bool) -> Step {
        Step::Check {
            field: field.to_owned(),
            checked,
        }
    }

    pub(crate) fn click(name: &str) -> Step {
        Step::Click(name.to_owned())
    }

    pub(crate) fn download_click(name: &str) -> Step {
        Step::Download(Via::Click(name.to_owned()))
    }

    pub(crate) fn download_open(url: &str) -> Step {
        Step::Download(Via::Open(url.to_owned()))
    }

    pub(crate) fn screenshot(name: &str) -> Step {
        Step::Screenshot(name.to_owned())
    }

    /// A `GET` from the page.
    pub(crate) fn fetch(url: &str) -> Step {
        Step::fetch_with("GET", url, &[], None)
    }

    pub(crate) fn fetch_with(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Step {
        Step::Fetch {
            url: url.to_owned(),
            method: method.to_owned(),
            headers: headers
                .iter()
                .map(|&(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            body: body.map(str::to_owned),
        }
    }
}

/// Where a test's downloads and screenshots land; each [`Browser::run`] is a fresh browser.
pub(crate) struct Browser {
    dir: tempfile::TempDir,
    basic: Option<(String, String)>,
}

impl Browser {
    pub(crate) fn new() -> Browser {
        Browser {
            dir: tempfile::tempdir().expect("temp dir"),
            basic: None,
        }
    }

    /// Answers a server's Basic challenge (a 401 with `WWW-Authenticate: Basic`) with these,
    /// as a person typing them into the browser's prompt would.
    pub(crate) fn basic_auth(mut self, user: &str, password: &str) -> Browser {
        self.basic = Some((user.to_owned(), password.to_owned()));
        self
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Launches chromium, runs the steps in one page, and answers one result per step.
    #[track_caller]
    pub(crate) fn run(&self, steps: &[Step]) -> Vec<Value> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let modules = crate::http_server::test_tools().join("node/node_modules");
        let chromium = std::env::var_os("INTEG_TEST_CHROMIUM")
            .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        assert!(
            chromium.exists(),
            "the browser tests need chromium at `{}` (Debian: `apt-get install chromium`, which \
             .ci/run does; INTEG_TEST_CHROMIUM points elsewhere)",
            chromium.display()
        );
        let basic = self
            .basic
            .as_ref()
            .map(|(username, password)| json!({ "username": username, "password": password }));
        let input = json!({
            "out": self.dir(),
            "chromium": chromium,
            "basic": basic,
            "steps": steps,
        });
        let mut child = Command::new("node")
            .arg(root.join("tests/tools/browse.mjs"))
            .env("INTEG_BROWSER_MODULES", &modules)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node runs tests/tools/browse.mjs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let answer: Value = serde_json::from_str(&stdout).unwrap_or_else(|err| {
            panic!(
                "tests/tools/browse.mjs answered no JSON ({err}, {})\nstdout:\n{stdout}\n\
                 stderr:\n{stderr}",
                output.status
            )
        });
        let mut results = match answer.get("results") {
            Some(Value::Array(results)) if results.len() <= steps.len() => results.clone(),
            _ => panic!("tests/tools/browse.mjs answered not one result per step: {answer}"),
        };
        // Kept before any panic: the pages before a failure tell what led to it.
        for (step, result) in steps.iter().zip(&mut results) {
            if let Step::Screenshot(name) = step {
                let copy = keep_for_people(Path::new(result["path"].as_str().unwrap()), name);
                result["copy"] = json!(copy);
            }
        }
        if let Some(failed) = answer.get("failed") {
            let step = failed["step"]
                .as_u64()
                .and_then(|index| steps.get(usize::try_from(index).ok()?));
            let screenshot = failed["screenshot"]
                .as_str()
                .map_or_else(String::new, |path| {
                    keep_for_people(Path::new(path), "failure.png")
                        .display()
                        .to_string()
                });
            panic!(
                "the browser failed at step {} {}: {}
page: {}
screenshot: {screenshot}
                 page text:
{}
stderr:
{stderr}",
                failed["step"],
                step.map_or_else(String::new, |step| json!(step).to_string()),
                failed["error"].as_str().unwrap_or_default(),
                failed["url"].as_str().unwrap_or_default(),
                failed["text"].as_str().unwrap_or_default(),
            );
        }
        assert!(
            output.status.success() && results.len() == steps.len(),
            "tests/tools/browse.mjs exited with {} after {} of {} steps\nstderr:\n{stderr}",
            output.status,
            results.len(),
            steps.len()
        );
        results
    }
}

/// Copies a screenshot to `target/test-screenshots/`, named after the test that took it, so it
/// outlives the test's temp dir.
fn keep_for_people(path: &Path, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    // libtest runs each test on a thread named after it.
    let test = std::thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-");
    let copy = dir.join(format!("{test}-{name}"));
    std::fs::copy(path, &copy)
        .unwrap_or_else(|err| panic!("failed to copy `{}`: {err}", path.display()));
    copy
}

fn html(body: &str) -> Reply {
    Reply::status(
        200,
        &format!("<!doctype html><html><head><title>test</title></head><body>{body}</body></html>"),
    )
    .header("content-type", "text/html; charset=utf-8")
}

const FORM: &str = r#"<form method="post" action="/submit">
<label for="month">Month</label> <input id="month" name="month" type="month">
<label>Region <select name="region"><option>north</option><option value="s">south</option></select></label>
<label><input type="checkbox" name="drafts"> Include drafts</label>
<input type="text" name="note">
<button>Run</button>
</form>"#;

#[test]
fn the_browser_fills_and_submits_a_form_and_the_server_receives_its_fields() {
    let server = Server::start(|request, _| match request.path.as_str() {
        "/form" => html(FORM),
        "/submit" => html("<p>Received</p>"),
        _ => Reply::status(404, "no such page"),
    });
    let results = Browser::new().run(&[
        Step::open(&server.url("/form")),
        Step::fill("Month", "2026-10"),
        Step::select("Region", &["south"]),
        Step::check("Include drafts", true),
        Step::fill("note", "a & b"),
        Step::click("Run"),
        Step::Text,
    ]);
    assert_eq!(results[0]["status"], 200, "{}", results[0]);
    assert_eq!(
        results[0]["headers"]["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(results[2]["selected"], json!(["s"]));
    assert_eq!(results[5]["url"], server.url("/submit"));
    assert_eq!(results[5]["status"], 200);
    assert_eq!(results[6]["text"], "Received");
    let requests = server.requests();
    let submitted: Vec<_> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(submitted.len(), 1, "{requests:#?}");
    assert_eq!(submitted[0].path, "/submit");
    assert_eq!(
        submitted[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        submitted[0].body,
        "month=2026-10&region=s&drafts=on&note=a+%26+b"
    );
}

#[test]
fn a_page_reads_as_text_and_html_and_waits_for_text() {
    let server = Server::start(|_, _| html("<h1>Report</h1><pre>a &lt;b&gt;</pre><p>done</p>"));
    let results = Browser::new().run(&[
        Step::open(&server.url("/")),
        Step::wait_for_text("done"),
        Step::Text,
        Step::Html,
    ]);
    assert_eq!(results[2]["text"], "Report\na <b>\n\ndone");
    let page = results[3]["html"].as_str().unwrap();
    assert!(page.contains("<pre>a &lt;b&gt;</pre>"), "{page}");
}

#[test]
fn an_attachment_lands_as_a_download_with_its_file_name_and_content() {
    let server = Server::start(|request, _| match request.path.as_str() {
        "/form" => html(
            r#"<form method="post" action="/export"><input name="month" value="2026-10"><button>Download</button></form>"#,
        ),
        "/export" => Reply::status(200, &format!("month,total\n{},42\n", request.body))
            .header("content-type", "text/csv")
            .header("content-disposition", r#"attachment; filename="x.csv""#),
        "/direct" => Reply::status(200, "{\"a\":1}")
            .header("content-type", "application/json")
            .header(
                "content-disposition",
                r#"attachment; filename="direct.json""#,
            ),
        _ => Reply::status(404, "no such page"),
    });
    let browser = Browser::new();
    let results = browser.run(&[
        Step::open(&server.url("/form")),
        Step::download_click("Download"),
        Step::download_open(&server.url("/direct")),
    ]);
    assert_eq!(results[1]["filename"], "x.csv");
    assert_eq!(results[1]["content"], "month,total\nmonth=2026-10,42\n");
    assert_eq!(results[1]["url"], server.url("/export"));
    let saved = browser.dir().join("x.csv");
    assert_eq!(results[1]["path"], json!(saved));
    assert_eq!(
        std::fs::read_to_string(saved).unwrap(),
        "month,total\nmonth=2026-10,42\n"
    );
    assert_eq!(results[2]["filename"], "direct.json");
    assert_eq!(results[2]["content"], "{\"a\":1}");
}

#[test]
fn a_screenshot_lands_in_the_test_dir_and_a_copy_in_target_test_screenshots() {
    let server = Server::start(|_, _| html(FORM));
    let browser = Browser::new();
    let results = browser.run(&[
        Step::open(&server.url("/form")),
        Step::screenshot("form.png"),
    ]);
    let path = browser.dir().join("form.png");
    assert_eq!(results[1]["path"], json!(path));
    let png = std::fs::read(&path).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let copy = PathBuf::from(results[1]["copy"].as_str().unwrap());
    assert_eq!(
        copy,
        Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "target/test-screenshots/\
             browser-a_screenshot_lands_in_the_test_dir_and_a_copy_in_target_test_screenshots-form.png"
        )
    );
    assert_eq!(std::fs::read(copy).unwrap(), png);
}

#[test]
fn a_fetch_to_another_origin_gets_the_answer_only_with_cors_headers() {
    let page = Server::start(|_, _| html("<p>a CRM page</p>"));
    let origin = page.url("");
    let api = Server::start(move |request, _| {
        let reply = Reply::json(json!({ "success": true }));
        match request.path.as_str() {
            "/cors" => reply.header("access-control-allow-origin", &origin),
            _ => reply,
        }
    });
    let localhost = format!("http://localhost:{}/cors", api.addr.port());
    let results = Browser::new().run(&[
        Step::open(&page.url("/")),
        Step::fetch(&api.url("/cors")),
        Step::fetch(&api.url("/plain")),
        Step::fetch_with(
            "POST",
            &api.url("/cors"),
            &[("content-type", "text/plain")],
            Some("hello"),
        ),
        Step::fetch(&localhost),
        // Not a "simple" request: the browser asks first, and this answer allows no headers.
        Step::fetch_with(
            "POST",
            &api.url("/cors"),
            &[("content-type", "application/json")],
            Some("{}"),
        ),
    ]);
    assert_eq!(results[1]["status"], 200, "{}", results[1]);
    assert_eq!(results[1]["body"], r#"{"success":true}"#);
    assert_eq!(results[1]["headers"]["content-type"], "application/json");
    let blocked = json!({ "blocked": "TypeError: Failed to fetch" });
    assert_eq!(results[2], blocked);
    assert_eq!(results[3]["status"], 200, "{}", results[3]);
    assert_eq!(results[4]["body"], r#"{"success":true}"#, "{}", results[4]);
    assert_eq!(results[5], blocked);
    let requests = api.requests();
    let seen: Vec<_> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.body.as_str()))
        .collect();
    // The browser sent the simple request it hid the answer to (CORS guards reading, not
    // sending), and only the preflight of the other.
    assert_eq!(
        seen,
        [
            ("GET", "/cors", ""),
            ("GET", "/plain", ""),
            ("POST", "/cors", "hello"),
            ("GET", "/cors", ""),
            ("OPTIONS", "/cors", ""),
        ]
    );
    assert_eq!(requests[0].headers["origin"], page.url(""));
    assert_eq!(
        requests[3].headers["host"],
        format!("localhost:{}", api.addr.port())
    );
    assert_eq!(
        requests[4].headers["access-control-request-headers"],
        "content-type"
    );
}

#[test]
fn a_page_that_loads_instead_of_a_download_fails_the_download_step() {
    let server = Server::start(|request, _| match request.path.as_str() {
        "/form" => html(r#"<form method="post" action="/export"><button>Download</button></form>"#),
        _ => html("<p>the export failed</p>"),
    });
    let browser = Browser::new();
    let step = std::panic::catch_unwind(|| {
        browser.run(&[
            Step::open(&server.url("/form")),
            Step::download_click("Download"),
        ])
    });
    let message = *step.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains(&format!(
            "a page loaded, not a download: {}",
            server.url("/export")
        )),
        "{message}"
    );
    assert!(message.contains("the export failed"), "{message}");
}

#[test]
fn a_page_under_a_script_free_csp_is_filled_read_and_submitted() {
    // The headers the link door's pages send: the harness works through CDP, not page script.
    let strict = |reply: Reply| {
        reply
            .header(
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            )
            .header("referrer-policy", "no-referrer")
            .header("x-frame-options", "DENY")
    };
    let server = Server::start(move |request, _| match request.path.as_str() {
        "/form" => strict(html(FORM)),
        _ => strict(html("<p>Received</p>")),
    });
    let results = Browser::new().run(&[
        Step::open(&server.url("/form")),
        Step::fill("Month", "2026-11"),
        Step::screenshot("strict.png"),
        Step::click("Run"),
        Step::Text,
    ]);
    assert_eq!(results[4]["text"], "Received");
    let submitted = &server.requests()[1];
    assert_eq!(submitted.body, "month=2026-11&region=north&note=");
}

#[test]
fn basic_credentials_answer_the_servers_challenge() {
    let server = Server::start(|request, _| {
        match request.headers.get("authorization").map(String::as_str) {
            // `crm:pw`
            Some("Basic Y3JtOnB3") => html("<p>in</p>"),
            _ => Reply::status(401, "who are you")
                .header("www-authenticate", "Basic realm=\"integ\""),
        }
    });
    let results = Browser::new()
        .basic_auth("crm", "pw")
        .run(&[Step::open(&server.url("/report")), Step::Text]);
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[1]["text"], "in");
    let asked = server.requests();
    assert_eq!(
        asked.last().unwrap().headers["authorization"],
        "Basic Y3JtOnB3"
    );
}

#[test]
fn a_step_that_fails_panics_with_the_step_the_page_and_its_screenshot() {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-screenshots");
    let test = "browser-a_step_that_fails_panics_with_the_step_the_page_and_its_screenshot";
    // Those of an earlier run must not pass for this run's.
    for shot in ["failure", "before"] {
        let _ = std::fs::remove_file(shots.join(format!("{test}-{shot}.png")));
    }
    let server = Server::start(|_, _| html(FORM));
    let browser = Browser::new();
    let run = std::panic::catch_unwind(|| {
        browser.run(&[
            Step::open(&server.url("/form")),
            Step::screenshot("before.png"),
            Step::fill("Nope", "x"),
            Step::Text,
        ])
    });
    let message = *run.unwrap_err().downcast::<String>().unwrap();
    let expected = format!(
        "the browser failed at step 2 {{\"fill\":{{\"field\":\"Nope\",\"value\":\"x\"}}}}: \
         no field labelled or named `Nope`\npage: {}\n",
        server.url("/form")
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("Include drafts"), "{message}");
    let failure = shots.join(format!("{test}-failure.png"));
    assert!(
        message.contains(&format!("screenshot: {}\n", failure.display())),
        "{message}"
    );
    assert!(std::fs::read(failure).unwrap().starts_with(b"\x89PNG"));
    // The step before the failure kept its screenshot too.
    assert!(shots.join(format!("{test}-before.png")).exists());
}

#[test]
#[should_panic(expected = "no button or link named `Send`")]
fn a_click_on_a_missing_button_names_it() {
    let server = Server::start(|_, _| html(FORM));
    Browser::new().run(&[Step::open(&server.url("/form")), Step::click("Send")]);
}
