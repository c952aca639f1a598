//! A payload is data, never structure: hostile values from the command line, webhooks and API
//! responses stay one URL segment, one query value, one file name; they never pick another
//! host, another directory or a program's option, and constrained params refuse them early.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http_server::{Reply, Server};
use crate::serve_hook::{Listener, request};
use crate::support::{Output, Test};

/// The test's directory, where `integ` runs.
fn root(test: &Test) -> PathBuf {
    test.state_dir().parent().unwrap().to_owned()
}

/// The test's config with `SERVER` replaced by the server's base URL.
fn config(server: &Server, toml: &str) -> Test {
    Test::new().config(&toml.replace("SERVER", &server.url("")))
}

const COMPANY: &str = r#"
[integration.company]
params.code = { type = "string" }
[[integration.company.steps]]
id = "company"
http.get = "SERVER/crm/company/{{ params.code }}/"
"#;

#[test]
fn a_value_in_a_url_path_is_exactly_one_segment() {
    let server = Server::start(|_, _| Reply::json(json!({"ok": true})));
    let test = config(&server, COMPANY);
    let cases = [
        (
            "../../accounting/invoices?all=1&x=",
            "/crm/company/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D/",
        ),
        (
            "%2e%2e/%2e%2e/admin",
            "/crm/company/%252e%252e%2F%252e%252e%2Fadmin/",
        ),
        ("a b#c\\d", "/crm/company/a%20b%23c%5Cd/"),
        ("ACME-7", "/crm/company/ACME-7/"),
    ];
    for (code, _) in cases {
        test.run(&["run", "company", "-p", &format!("code={code}")])
            .success();
    }
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    let expected: Vec<&str> = cases.iter().map(|(_, path)| *path).collect();
    assert_eq!(paths, expected);
    assert!(requests.iter().all(|r| r.query.is_empty()), "{requests:?}");
}

#[test]
fn a_value_that_would_be_a_dot_segment_or_an_empty_one_is_refused() {
    let server = Server::start(|_, _| Reply::json(json!({"ok": true})));
    let test = config(&server, COMPANY);
    for (code, message) in [
        ("..", "value `..` would make the URL path segment `..`"),
        (".", "value `.` would make the URL path segment `.`"),
        ("", "an empty value would leave a URL path segment empty"),
    ] {
        test.run(&["run", "company", "-p", &format!("code={code}")])
            .code(1)
            .stderr_has(
                "step `company` failed: failed to render `integration.company.steps[0].http.get`",
            )
            .stderr_has(message);
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn a_value_in_the_query_is_exactly_one_value() {
    let server = Server::start(|_, _| Reply::json(json!({"ok": true})));
    let test = config(
        &server,
        r#"
[integration.search]
params.q = { type = "string" }
[[integration.search.steps]]
http.get = "SERVER/search?q={{ params.q }}&limit=5#{{ params.q }}"

[[integration.search.steps]]
http.get = "SERVER/pairs"
http.query = { q = "{{ params.q }}", limit = "5" }
"#,
    );
    test.run(&["run", "search", "-p", "q=a&admin=1#x y+z"])
        .success();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/search");
    let query: Vec<(&str, &str)> = requests[0]
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(query, [("limit", "5"), ("q", "a%26admin%3D1%23x%20y%2Bz")]);
    // `http.query` pairs go to the HTTP client as single values (form-encoded).
    assert_eq!(requests[1].path, "/pairs");
    let query: Vec<(&str, &str)> = requests[1]
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(query, [("limit", "5"), ("q", "a%26admin%3D1%23x+y%2Bz")]);
}

#[test]
fn a_value_never_sets_the_scheme_host_or_port() {
    let victim = Server::start(|_, _| Reply::json(json!({"stolen": true})));
    let test = Test::new()
        .config(
            r#"
[integration.fetch]
params.host = { type = "string" }
[[integration.fetch.steps]]
id = "fetch"
http.get = "{{ env.SCHEME | safe }}://{{ params.host }}/x"
"#,
        )
        .env("SCHEME", "http");
    test.run(&["run", "fetch", "-p", &format!("host={}", victim.addr)])
        .code(1)
        .stderr_has(&format!(
            "step `fetch` failed: failed to render `integration.fetch.steps[0].http.get`: value `{}` would set the URL's scheme, host or port (after `http://`)",
            victim.addr
        ));
    assert!(victim.requests().is_empty());
}

#[test]
fn check_refuses_a_url_whose_host_comes_from_a_value_and_safe_opts_out() {
    let test = Test::new().config(
        r#"
[integration.fetch]
params.base = { type = "string", default = "http://127.0.0.1:9" }
[[integration.fetch.steps]]
http.get = "{{ params.base }}/api/{{ params.base }}"
"#,
    );
    test.run(&["check"])
        .code(2)
        .stderr_has("error: the URL's scheme and host would come from a value, `{{ params.base }}`")
        .stderr_has("integrations.toml:5:13")
        .stderr_has("  |             ^^^^^^^^^^^^^^^^^\n")
        .stderr_has(
            "hint: values in a URL are data, refused there; write the start of the URL in the file, or mark a value that is a whole base URL `| safe`: `{{ params.base | safe }}`",
        );

    // The whole URL as one value is a value too, until it is marked safe.
    let server = Server::start(|_, _| Reply::json(json!({"ok": true})));
    for (url, code) in [("{{ env.BASE }}", 2), ("{{ env.BASE | safe }}", 0)] {
        let test = Test::new()
            .config(&format!(
                "[integration.fetch]\n[[integration.fetch.steps]]\nhttp.get = \"{url}\"\n"
            ))
            .env("BASE", &server.url("/whole/url?x=1"));
        test.run(&["check"]).code(code);
    }
    let test = Test::new()
        .config("[integration.fetch]\n[[integration.fetch.steps]]\nhttp.get = \"{{ env.BASE | safe }}\"\n")
        .env("BASE", &server.url("/whole/url?x=1"));
    test.run(&["run", "fetch"]).success();
    let requests = server.requests();
    assert_eq!(
        (requests[0].path.as_str(), requests[0].query["x"].as_str()),
        ("/whole/url", "1")
    );
}

#[test]
fn a_next_page_link_must_stay_on_the_first_requests_host() {
    let elsewhere = Server::start(|_, _| Reply::json(json!({"data": []})));
    let steal = elsewhere.url("/steal");
    for paginate in [
        r#"{ next_link = "{{ body.next }}" }"#,
        "{ link_header = true }",
    ] {
        let link = steal.clone();
        let server = Server::start(move |_, _| {
            Reply::json(json!({"data": [{"id": 1}], "next": link}))
                .header("link", &format!("<{link}>; rel=\"next\""))
        });
        let test = config(
            &server,
            &format!(
                r#"
[secrets]
key = {{ env = "KEY" }}
[integration.sync]
[[integration.sync.steps]]
id = "fetch"
http.get = "SERVER/items"
http.auth.bearer = "{{{{ secrets.key }}}}"
http.records = "{{{{ body.data }}}}"
http.paginate = {paginate}
"#
            ),
        )
        .env("KEY", "s3cret");
        test.run(&["run", "sync"])
            .code(1)
            .stderr_has(&format!(
                "step `fetch` failed: the next-page link `{steal}` leads to `{}`, not to `{}` where the step's first request went",
                elsewhere.url(""),
                server.url("")
            ));
        assert_eq!(server.requests().len(), 1, "{paginate}");
    }
    assert!(
        elsewhere.requests().is_empty(),
        "the credentials stayed home"
    );
}

const EXPORT: &str = r#"
[integration.export]
params.name = { type = "string" }
[[integration.export.steps]]
id = "write"
output = { format = "json", value = "{{ params }}", to = "exports/{{ params.name }}.json" }
"#;

#[test]
fn a_value_in_an_output_path_is_one_file_name() {
    let test = Test::new().config(EXPORT);
    test.run(&["run", "export", "-p", "name=acme"]).success();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&test.read("exports/acme.json")).unwrap(),
        json!({"name": "acme"})
    );
    for (name, message) in [
        ("../../pwned", "value `../../pwned` contains `/`"),
        ("/tmp/pwned", "value `/tmp/pwned` contains `/`"),
        ("..", "value `..` is not a file or directory name"),
    ] {
        test.run(&["run", "export", "-p", &format!("name={name}")])
            .code(1)
            .stderr_has(&format!(
                "step `write` failed: failed to render `integration.export.steps[0].output.to`: {message}; a value in a file path is one file or directory name"
            ));
    }
    let root = root(&test);
    assert!(!root.parent().unwrap().join("pwned.json").exists());
    assert!(!root.join("pwned.json").exists());
    let exports: Vec<_> = std::fs::read_dir(root.join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(exports, ["acme.json"]);
}

#[test]
fn a_value_in_a_command_dir_is_one_directory_name() {
    let test = Test::new()
        .config(
            r#"
[integration.where]
params.sub = { type = "string" }
[[integration.where.steps]]
command = { argv = ["pwd"], dir = "work/{{ params.sub }}" }
"#,
        )
        .write("work/a/.keep", "");
    let out = test.run(&["run", "where", "-p", "sub=a"]);
    out.success();
    assert!(out.stdout.trim_end().ends_with("/work/a"), "{}", out.stdout);
    for sub in ["..", "../..", "a/../.."] {
        test.run(&["run", "where", "-p", &format!("sub={sub}")])
            .code(1)
            .stderr_has("failed to render `integration.where.steps[0].command.dir`");
    }
}

/// Runs `integ` under a given umask (through `sh`, which sets it and execs the binary).
fn run_with_umask(test: &Test, umask: &str, args: &[&str]) -> Output {
    let integ = test.command(args);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(integ.get_program())
        .args(integ.get_args())
        .env_clear()
        .stdin(Stdio::null());
    for (name, value) in integ.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    if let Some(dir) = integ.get_current_dir() {
        command.current_dir(dir);
    }
    Output::of(command.output().expect("sh starts"))
}

#[test]
fn output_files_get_an_ordinary_files_mode_under_the_umask() {
    let test = Test::new().config(EXPORT);
    for (umask, name, mode) in [
        ("022", "a", 0o644),
        ("027", "b", 0o640),
        ("002", "c", 0o664),
    ] {
        run_with_umask(
            &test,
            umask,
            &["run", "export", "-p", &format!("name={name}")],
        )
        .success();
        let path = root(&test).join(format!("exports/{name}.json"));
        let found = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(found, mode, "umask {umask}: {found:o}");
    }
}

const HOOKED: &str = r#"
[integration.hooked]
params.code = { type = "string" }
[integration.hooked.webhook]
path = "hooked"
auth.none = true
params.code = "{{ trigger.body.code }}"
retries = 0
[[integration.hooked.steps]]
id = "company"
http.get = "SERVER/crm/company/{{ params.code }}/"
[[integration.hooked.steps]]
id = "save"
output = { format = "json", value = "{{ steps.company.body }}", to = "exports/{{ params.code }}.json" }
"#;

/// Waits until the newest run has ended; returns it.
fn finished_run(test: &Test, runs: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let history = test.history();
        if history.len() >= runs
            && history[0]["status"] != "running"
            && history[0]["status"] != "queued"
        {
            return history[0].clone();
        }
        assert!(Instant::now() < deadline, "{history:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_webhook_payload_stays_one_segment_and_one_file_name() {
    let server = Server::start(|_, _| Reply::json(json!({"name": "ACME"})));
    let test = config(&server, HOOKED);
    let listener = Listener::start(&test, &[]);
    let post = |code: &str| {
        let body = json!({ "code": code }).to_string();
        request(
            &listener.addr,
            "POST",
            "/hooks/hooked",
            &[],
            body.as_bytes(),
        )
    };

    // The hostile code reaches the CRM as one segment; the file it names is refused.
    assert_eq!(post("../../accounting/invoices?all=1&x=").0, 202);
    let run = finished_run(&test, 1);
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("step `save` failed")
            && error.contains("value `../../accounting/invoices?all=1&x=` contains `/`"),
        "{error}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].path,
        "/crm/company/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D/"
    );

    // A dot segment is refused before any request.
    assert_eq!(post("..").0, 202);
    let run = finished_run(&test, 2);
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("step `company` failed")
            && error.contains("value `..` would make the URL path segment `..`"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1);

    // An ordinary code goes through.
    assert_eq!(post("ACME-7").0, 202);
    let run = finished_run(&test, 3);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(server.requests()[1].path, "/crm/company/ACME-7/");
    assert!(root(&test).join("exports/ACME-7.json").exists());
    assert!(!root(&test).parent().unwrap().join("accounting").exists());
}

const CONSTRAINED: &str = r#"
[integration.invoice]
params.code = { type = "string", pattern = "^[A-Z0-9-]+$", max_length = 8 }
params.ref = { type = "string", pattern = "[a-z]+", default = "abc" }
params.ids = { type = "list", pattern = "[0-9]+", default = "1" }
[integration.invoice.webhook]
path = "invoice"
auth.none = true
params.code = "{{ trigger.body.code }}"
[[integration.invoice.steps]]
command.argv = ["sh", "-c", "echo \"$0 $1 $2\" >> ran.txt", "{{ params.code }}", "{{ params.ref }}", "{{ params.ids | join('+') }}"]
"#;

#[test]
fn a_value_that_breaks_a_constraint_is_refused_before_anything_runs() {
    let test = Test::new().config(CONSTRAINED);
    let refused = [
        (
            vec!["code=../x"],
            "error: invalid value `../x` for param `code`: it does not match its `pattern` `^[A-Z0-9-]+$`",
        ),
        (
            vec!["code=-o/tmp/x"],
            "error: invalid value `-o/tmp/x` for param `code`: it does not match its `pattern` `^[A-Z0-9-]+$`",
        ),
        (
            vec!["code=ABCDEFGHI"],
            "error: invalid value `ABCDEFGHI` for param `code`: 9 characters, more than its `max_length` of 8",
        ),
        // A pattern matches the whole value, anchored or not.
        (
            vec!["code=A", "ref=abc1"],
            "error: invalid value `abc1` for param `ref`: it does not match its `pattern` `[a-z]+`",
        ),
        // Each item of a list.
        (
            vec!["code=A", "ids=1,x2,3"],
            "error: invalid value `x2` for param `ids`: it does not match its `pattern` `[0-9]+`",
        ),
    ];
    for (params, message) in refused {
        let mut args = vec!["run", "invoice"];
        for param in &params {
            args.extend(["-p", param]);
        }
        test.run(&args).code(2).stderr_has(message);
    }
    assert!(!root(&test).join("ran.txt").exists(), "nothing ran");
    test.run(&["run", "invoice", "-p", "code=INV-7", "-p", "ids=4,5"])
        .success();
    assert_eq!(test.read("ran.txt"), "INV-7 abc 4+5\n");
}

#[test]
fn a_webhook_value_that_breaks_a_constraint_is_answered_422() {
    let test = Test::new().config(CONSTRAINED);
    let listener = Listener::start(&test, &[]);
    let body = json!({"code": "../etc"}).to_string();
    let (status, answer) = request(
        &listener.addr,
        "POST",
        "/hooks/invoice",
        &[],
        body.as_bytes(),
    );
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["error"],
        "invalid value `../etc` for param `code`: it does not match its `pattern` `^[A-Z0-9-]+$`"
    );
    let body = json!({"code": "X".repeat(500)}).to_string();
    let (status, answer) = request(
        &listener.addr,
        "POST",
        "/hooks/invoice",
        &[],
        body.as_bytes(),
    );
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["error"],
        format!(
            "invalid value `{}…` for param `code`: 500 characters, more than its `max_length` of 8",
            "X".repeat(60)
        )
    );
    assert!(test.history().is_empty(), "nothing was accepted");
    let body = json!({"code": "INV-8"}).to_string();
    let (status, answer) = request(
        &listener.addr,
        "POST",
        "/hooks/invoice",
        &[],
        body.as_bytes(),
    );
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        crate::serve_hook::wait_for_lines(&test, "ran.txt", 1),
        ["INV-8 abc 1"]
    );
}

#[test]
fn check_reports_constraints_that_cannot_work() {
    let test = Test::new().config(
        r#"
[integration.bad]
params.code = { type = "string", pattern = "^[A-Z" }
params.n = { type = "integer", pattern = "[0-9]+" }
params.kind = { type = "choice", values = ["a", "b"], max_length = 3 }
params.short = { type = "string", max_length = 0 }
params.ref = { type = "string", pattern = "[a-z]+", default = "ABC" }
[[integration.bad.steps]]
command.argv = ["true"]
"#,
    );
    test.run(&["check"])
        .code(2)
        .stderr_has("error: invalid `pattern` for param `code`: unclosed character class\n --> integrations.toml:3:44")
        .stderr_has("error: `pattern` only goes with `type = \"string\"` or `\"list\"`, and param `n` is an integer\n --> integrations.toml:4:42")
        .stderr_has("error: `max_length` only goes with `type = \"string\"` or `\"list\"`, and param `kind` is a choice\n --> integrations.toml:5:68")
        .stderr_has("error: `max_length` must be at least 1\n --> integrations.toml:6:48")
        .stderr_has("error: invalid default `ABC` for param `ref`: it does not match its `pattern` `[a-z]+`\n --> integrations.toml:7:63")
        .stderr_has("has 5 problems");
}

/// A webhook that fills `x` from the request, and a step that runs `argv` with it.
fn hook_into_argv(param: &str, mapping: &str, argv: &str) -> String {
    format!(
        r#"[integration.sorter]
params.x = {param}
[integration.sorter.webhook]
path = "sort"
auth.none = true
params.x = "{mapping}"
[[integration.sorter.steps]]
command.argv = {argv}
"#
    )
}

#[test]
fn check_warns_when_a_webhook_value_may_begin_a_programs_argument() {
    let test = Test::new().config(&hook_into_argv(
        r#"{ type = "string" }"#,
        "{{ trigger.body.x }}",
        r#"["sort", "-r", "{{ params.x }}"]"#,
    ));
    let out = test.run(&["check"]);
    out.success();
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn no_warning_when_the_value_cannot_be_an_option_or_is_constrained() {
    let quiet = [
        (
            r#"{ type = "string", pattern = "[0-9]+" }"#,
            "{{ trigger.body.x }}",
            r#"["sort", "{{ params.x }}"]"#,
        ),
        (
            r#"{ type = "string", max_length = 8 }"#,
            "{{ trigger.body.x }}",
            r#"["sort", "{{ params.x }}"]"#,
        ),
        (
            r#"{ type = "choice", values = ["a", "b"] }"#,
            "{{ trigger.body.x }}",
            r#"["sort", "{{ params.x }}"]"#,
        ),
        (
            r#"{ type = "integer" }"#,
            "{{ trigger.body.x }}",
            r#"["sort", "{{ params.x }}"]"#,
        ),
        (
            r#"{ type = "string" }"#,
            "{{ trigger.body.x }}",
            r#"["sort", "--", "{{ params.x }}"]"#,
        ),
        (
            r#"{ type = "string" }"#,
            "{{ trigger.body.x }}",
            r#"["sort", "--key={{ params.x }}"]"#,
        ),
        (
            r#"{ type = "string" }"#,
            "{{ trigger.body.x }}",
            r#"["echo", "x {{ params.x }}"]"#,
        ),
        (
            r#"{ type = "string" }"#,
            "fixed",
            r#"["sort", "{{ params.x }}"]"#,
        ),
        (
            r#"{ type = "string" }"#,
            "{{ trigger.body.x }}",
            r#"["sort"]"#,
        ),
    ];
    for (param, mapping, argv) in quiet {
        let toml = hook_into_argv(param, mapping, argv);
        let out = Test::new().config(&toml).run(&["check"]);
        out.success();
        assert!(!out.stderr.contains("warning"), "{toml}\n{}", out.stderr);
    }
    // Read after another value, at the start, it may still begin the argument.
    let toml = hook_into_argv(
        r#"{ type = "string" }"#,
        "{{ trigger.body.x }}",
        r#"["sort", "{{ params.y }}{{ params.x }}"]"#,
    )
    .replace(
        "params.x = {",
        "params.y = { type = \"string\", default = \"\" }\nparams.x = {",
    );
    Test::new()
        .config(&toml)
        .run(&["check"])
        .success()
        .stderr_has("warning: param `x` comes from a webhook's request");
}

#[test]
fn warnings_are_counted_beside_errors() {
    let toml = hook_into_argv(
        r#"{ type = "string" }"#,
        "{{ trigger.body.x }}",
        r#"["sort", "{{ params.x }}"]"#,
    ) + "[integration.other]\n";
    Test::new()
        .config(&toml)
        .run(&["check"])
        .code(2)
        .stderr_has("warning: param `x` comes from a webhook's request")
        .stderr_has("error: integration `other` has no steps")
        .stderr_has("error: `integrations.toml` has 1 problem and 1 warning");
}

#[test]
fn a_secret_encoded_into_a_url_is_still_redacted() {
    let server = Server::start(|_, _| Reply::status(500, "no"));
    let test = config(
        &server,
        r#"
[secrets]
token = { env = "TOKEN" }
[integration.push]
[[integration.push.steps]]
http.get = "SERVER/items/{{ secrets.token }}?key={{ secrets.token }}"
http.retries = 0
"#,
    )
    .env("TOKEN", "a/b+c=d");
    test.run(&["run", "push"]).code(1).stderr_has(&format!(
        "GET {}/items/***?key=*** answered 500 Internal Server Error",
        server.url("")
    ));
    let requests = server.requests();
    assert_eq!(requests[0].path, "/items/a%2Fb%2Bc%3Dd");
    let run = &test.history()[0];
    assert!(
        !run.to_string().contains("a%2Fb") && !run.to_string().contains("a/b+c"),
        "{run}"
    );
}
