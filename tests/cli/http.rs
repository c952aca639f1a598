//! `http`, `for_each` and `output` steps against real HTTP servers on 127.0.0.1.

use std::time::Duration;

use serde_json::json;

use crate::http_server::{JsonServer, Reply, Server};
use crate::support::Test;

/// The test's config with `SERVER` replaced by the server's base URL.
fn config(server: &Server, toml: &str) -> Test {
    Test::new().config(&toml.replace("SERVER", &server.url("")))
}

#[test]
fn get_sends_query_headers_and_auth_and_reads_json() {
    let server = Server::start(|_, _| {
        Reply::json(json!({"data": {"company": {"name": "ACME"}, "total": 41}}))
    });
    let test = config(
        &server,
        r#"
[secrets]
crm_key = { env = "CRM_KEY" }

[integration.deal]
params.deal_id = { type = "integer" }
[[integration.deal.steps]]
id = "deal"
http.get = "SERVER/api/v2/businessCase/{{ params.deal_id }}/"
http.query = { fields = "company,total", limit = "{{ params.deal_id * 2 }}" }
http.headers = { X-Instance-Name = "acme" }
http.auth.basic = { user = "integ", password = "{{ secrets.crm_key }}" }

[[integration.deal.steps]]
command.argv = ["echo", "{{ steps.deal.status }} {{ steps.deal.body.data.company.name }} {{ steps.deal.body.data.total + 1 }}"]
"#,
    )
    .env("CRM_KEY", "s3cret");
    test.run(&["run", "deal", "-p", "deal_id=21"])
        .success()
        .stdout_is("200 ACME 42\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/api/v2/businessCase/21/")
    );
    assert_eq!(request.query["fields"], "company%2Ctotal");
    assert_eq!(request.query["limit"], "42");
    assert_eq!(request.headers["x-instance-name"], "acme");
    // "integ:s3cret" in base64.
    assert_eq!(request.headers["authorization"], "Basic aW50ZWc6czNjcmV0");
    assert!(
        request.headers["user-agent"].starts_with("integ/"),
        "{:?}",
        request.headers
    );
}

#[test]
fn json_bodies_keep_their_types_and_form_and_raw_bodies_are_sent() {
    let server = Server::start(|_, _| Reply::json(json!({"ok": true})));
    let test = config(
        &server,
        r#"
[integration.push]
params.amount = { type = "number", default = 12.5 }
params.name = { type = "string", default = "ACME s.r.o." }
[[integration.push.steps]]
http.post = "SERVER/invoices"
http.json = { customer = "{{ params.name }}", amount = "{{ params.amount }}", note = "total {{ params.amount }}", lines = [1, "{{ params.amount * 2 }}"], paid = false }
http.auth.bearer = "token-1"

[[integration.push.steps]]
http.put = "SERVER/form"
http.form = { name = "{{ params.name }}", n = "3" }

[[integration.push.steps]]
http.patch = "SERVER/raw"
http.body = "name={{ params.name }}"
http.headers = { Content-Type = "text/plain" }
"#,
    );
    test.run(&["run", "push"]).success();
    let requests = server.requests();
    assert_eq!(
        requests[0].json(),
        json!({"customer": "ACME s.r.o.", "amount": 12.5, "note": "total 12.5", "lines": [1, 25.0], "paid": false})
    );
    assert_eq!(requests[0].headers["authorization"], "Bearer token-1");
    assert_eq!(requests[1].method, "PUT");
    assert_eq!(requests[1].body, "name=ACME+s.r.o.&n=3");
    assert_eq!(requests[2].method, "PATCH");
    assert_eq!(requests[2].body, "name=ACME s.r.o.");
}

#[test]
fn an_unexpected_status_fails_with_method_url_status_and_body_with_secrets_redacted() {
    let server = Server::start(|_, _| {
        Reply::status(422, "invalid customer: token tok-123 is not allowed here")
    });
    let test = config(
        &server,
        r#"
[secrets]
token = { env = "TOKEN" }
[integration.push]
[[integration.push.steps]]
http.post = "SERVER/invoices?key={{ secrets.token }}"
"#,
    )
    .env("TOKEN", "tok-123");
    let out = test.run(&["run", "push"]);
    out.code(1).stderr_has(&format!(
        "POST {}/invoices?key=*** answered 422 Unprocessable Entity: invalid customer: token *** is not allowed here",
        server.url("")
    ));
    let run = &test.history()[0];
    let log = test.run(&["logs", run["id"].as_str().unwrap()]);
    for text in [&out.stdout, &out.stderr, &log.stdout, &run.to_string()] {
        assert!(!text.contains("tok-123"), "the secret leaked:\n{text}");
    }
}

#[test]
fn expect_accepts_the_listed_statuses() {
    let server = Server::start(|_, _| Reply::status(404, "not here"));
    let test = config(
        &server,
        r#"
[integration.probe]
[[integration.probe.steps]]
id = "probe"
http.get = "SERVER/maybe"
http.expect = [200, 404]
[[integration.probe.steps]]
command.argv = ["echo", "{{ steps.probe.status }} {{ steps.probe.body }}"]
"#,
    );
    test.run(&["run", "probe"])
        .success()
        .stdout_is("404 not here\n");
}

#[test]
fn a_429_is_retried_after_its_retry_after() {
    let server = Server::start(|_, n| match n {
        0 => Reply::status(429, "slow down").header("retry-after", "1"),
        _ => Reply::json(json!({"ok": true})),
    });
    let test = config(
        &server,
        r#"
[integration.limited]
[[integration.limited.steps]]
http.post = "SERVER/items"
http.backoff = "10ms"
"#,
    );
    test.run(&["run", "limited"]).success();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one 429, one success");
    let waited = requests[1].at - requests[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured ({waited:?})"
    );
}

#[test]
fn a_503_storm_exhausts_the_retries() {
    let server = Server::start(|_, _| Reply::status(503, "down for maintenance"));
    let test = config(
        &server,
        r#"
[integration.down]
[[integration.down.steps]]
http.get = "SERVER/items"
http.retries = 2
http.backoff = "10ms"
"#,
    );
    let out = test.run(&["run", "down"]);
    out.code(1)
        .stderr_has("/items answered 503 Service Unavailable: down for maintenance");
    assert_eq!(server.requests().len(), 3, "the first try and two retries");
    let log = test.run(&["logs", test.history()[0]["id"].as_str().unwrap()]);
    log.stdout_has("(retry 2)")
        .stdout_has("run > 3 requests (2 retries)");
}

#[test]
fn writes_are_retried_only_when_the_step_says_so() {
    let server = Server::start(|_, _| Reply::status(502, "bad gateway"));
    let test = config(
        &server,
        r#"
[integration.once]
[[integration.once.steps]]
http.post = "SERVER/invoices"
http.backoff = "10ms"

[integration.again]
[[integration.again.steps]]
http.post = "SERVER/invoices"
http.backoff = "10ms"
http.retries = 1
http.retry_writes = true
"#,
    );
    test.run(&["run", "once"]).code(1);
    assert_eq!(
        server.requests().len(),
        1,
        "a POST is not repeated by default"
    );
    test.run(&["run", "again"]).code(1);
    assert_eq!(server.requests().len(), 3, "with retry_writes it is");
}

#[test]
fn a_slow_server_times_out() {
    let server = Server::start(|_, _| Reply::json(json!({})).after(Duration::from_secs(5)));
    let test = config(
        &server,
        r#"
[integration.slow]
[[integration.slow.steps]]
http.get = "SERVER/slow"
http.timeout = "300ms"
http.retries = 0
"#,
    );
    test.run(&["run", "slow"])
        .code(1)
        .stderr_has("/slow failed: timed out");
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let test = Test::new().config(&format!(
        r#"
[integration.nobody]
[[integration.nobody.steps]]
http.get = "http://127.0.0.1:{port}/items"
http.retries = 1
http.backoff = "10ms"
"#
    ));
    test.run(&["run", "nobody"])
        .code(1)
        .stderr_has("/items failed after 2 attempts: could not connect");
}

#[test]
fn a_non_json_response_where_records_are_expected_is_a_clear_error() {
    let server = Server::start(|_, _| {
        Reply::status(200, "<html>login page</html>").header("content-type", "text/html")
    });
    let test = config(
        &server,
        r#"
[integration.html]
[[integration.html.steps]]
http.get = "SERVER/items"
http.records = "{{ body.data }}"
"#,
    );
    test.run(&["run", "html"])
        .code(1)
        .stderr_has("expected a JSON response to GET")
        .stderr_has("got `text/html`: <html>login page</html>");

    let server = Server::start(|_, _| {
        Reply::status(200, "{not json").header("content-type", "application/json")
    });
    let test = config(
        &server,
        r#"
[integration.broken]
[[integration.broken.steps]]
http.get = "SERVER/items"
"#,
    );
    test.run(&["run", "broken"])
        .code(1)
        .stderr_has("/items answered with invalid JSON: {not json");
}

/// 7 records `{id, name}` in pages of 3, whichever way the page is asked for.
fn page_of(start: usize) -> Vec<serde_json::Value> {
    (start..(start + 3).min(7))
        .map(|i| json!({"id": i, "name": format!("n{i}")}))
        .collect()
}

fn paging_test(paginate: &str, server: &Server, expected_requests: usize) -> Test {
    let test = config(
        server,
        &format!(
            r#"
[integration.sync]
[[integration.sync.steps]]
id = "fetch"
http.get = "SERVER/items"
http.records = "{{{{ body.data }}}}"
http.paginate = {paginate}

[[integration.sync.steps]]
output = {{ format = "jsonl", records_of = "fetch", to = "out/items.jsonl" }}

[[integration.sync.steps]]
command.argv = ["echo", "{{{{ steps.fetch.pages }}}} pages, {{{{ steps.fetch.records }}}} records"]
"#
        ),
    );
    test.run(&["run", "sync"]).success().stdout_has("records");
    let lines: Vec<serde_json::Value> = test
        .read("out/items.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<i64> = lines.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5, 6], "{paginate}");
    assert_eq!(server.requests().len(), expected_requests, "{paginate}");
    test
}

#[test]
fn paging_by_next_link_in_the_body() {
    let server = Server::start(|request, _| {
        let start: usize = request.query.get("from").map_or(0, |f| f.parse().unwrap());
        let next = (start + 3 < 7).then(|| format!("/items?from={}", start + 3));
        Reply::json(json!({"data": page_of(start), "next": next}))
    });
    paging_test(r#"{ next_link = "{{ body.next }}" }"#, &server, 3);
}

#[test]
fn paging_by_link_header() {
    let server = Server::start(|request, _| {
        let start: usize = request.query.get("from").map_or(0, |f| f.parse().unwrap());
        let reply = Reply::json(json!({"data": page_of(start)}));
        if start + 3 < 7 {
            reply.header(
                "link",
                &format!("</items?from={}>; rel=\"next\"", start + 3),
            )
        } else {
            reply
        }
    });
    paging_test("{ link_header = true }", &server, 3);
}

#[test]
fn paging_by_offset_and_limit() {
    let server = Server::start(|request, _| {
        assert_eq!(request.query["limit"], "3");
        let start: usize = request.query["offset"].parse().unwrap();
        Reply::json(json!({"data": page_of(start)}))
    });
    // The third page is short (1 record), so no fourth request is made.
    paging_test("{ offset = { limit = 3 } }", &server, 3);
}

#[test]
fn paging_by_page_number() {
    let server = Server::start(|request, _| {
        let page: usize = request.query["p"].parse().unwrap();
        let records = if page <= 3 {
            page_of((page - 1) * 3)
        } else {
            Vec::new()
        };
        Reply::json(json!({"data": records}))
    });
    // Pages 1-3 have records, page 4 is empty and ends it.
    paging_test(r#"{ page = { param = "p", start = 1 } }"#, &server, 4);
}

#[test]
fn paging_by_cursor() {
    let server = Server::start(|request, _| {
        let start: usize = request
            .query
            .get("cursor")
            .map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
        let next = if start + 3 < 7 {
            json!(format!("c{}", start + 3))
        } else {
            json!(null)
        };
        Reply::json(json!({"data": page_of(start), "next_cursor": next}))
    });
    paging_test(
        r#"{ cursor = { param = "cursor", next = "{{ body.next_cursor }}" } }"#,
        &server,
        3,
    );
}

/// The log of the newest run, as `integ logs` shows it.
fn last_log(test: &Test) -> String {
    let id = test.history()[0]["id"].as_str().unwrap().to_owned();
    let out = test.run(&["logs", &id]);
    out.success();
    out.stdout.clone()
}

#[test]
fn a_next_link_is_followed_as_given_without_the_steps_query_again() {
    // The links carry the whole query, as json-server's and GitHub's do; the secret is in it.
    let key = "s3 cr/t";
    let server = Server::start(|request, _| {
        // Like json-server: a name given twice is an error, not a page.
        let names: Vec<&str> = request
            .uri
            .split(['?', '&'])
            .skip(1)
            .map(|pair| pair.split('=').next().unwrap())
            .collect();
        if (1..names.len()).any(|i| names[..i].contains(&names[i])) {
            return Reply::status(500, "a query name is repeated");
        }
        let page: usize = request.query.get("_page").map_or(1, |p| p.parse().unwrap());
        let link = |page: usize| format!("/items?_page={page}&_limit=3&key=s3+cr%2Ft");
        let mut body = json!({"data": page_of((page - 1) * 3), "next": null});
        let mut reply = Reply::json(json!({}));
        if page < 3 {
            body["next"] = json!(link(page + 1));
            reply = reply.header("link", &format!("<{}>; rel=\"next\"", link(page + 1)));
        }
        reply.body = body.to_string();
        reply
    });
    for paginate in [
        r#"{ link_header = true }"#,
        r#"{ next_link = "{{ body.next }}" }"#,
    ] {
        let test = config(
            &server,
            &format!(
                r#"
[secrets]
key = {{ env = "API_KEY" }}

[integration.sync]
[[integration.sync.steps]]
id = "fetch"
http.get = "SERVER/items"
http.query = {{ _page = "1", _limit = "3", key = "{{{{ secrets.key }}}}" }}
http.records = "{{{{ body.data }}}}"
http.paginate = {paginate}

[[integration.sync.steps]]
command.argv = ["echo", "{{{{ steps.fetch.pages }}}} pages, {{{{ steps.fetch.records | length }}}} records"]
"#
            ),
        )
        .env("API_KEY", key);
        test.run(&["run", "sync"])
            .success()
            .stdout_is("3 pages, 7 records\n");
        let uris: Vec<String> = server.requests().into_iter().map(|r| r.uri).collect();
        assert_eq!(
            uris[uris.len() - 3..],
            [
                "/items?_page=1&_limit=3&key=s3+cr%2Ft",
                "/items?_page=2&_limit=3&key=s3+cr%2Ft",
                "/items?_page=3&_limit=3&key=s3+cr%2Ft",
            ],
            "{paginate}"
        );
        // Each page is logged as it was asked for, the secret hidden in every one.
        let log = last_log(&test);
        for page in 1..=3 {
            let line = format!("GET {}/items?_page={page}&_limit=3&key=***", server.url(""));
            assert!(
                log.contains(&line),
                "{paginate}: the log lacks {line:?}:\n{log}"
            );
        }
        assert!(!log.contains("s3+cr") && !log.contains("cr%2F"), "{log}");
    }
}

#[test]
fn each_page_by_offset_is_logged_with_its_query() {
    let server = Server::start(|request, _| {
        let start: usize = request.query["offset"].parse().unwrap();
        Reply::json(json!({"data": page_of(start)}))
    });
    let test = paging_test("{ offset = { limit = 3 } }", &server, 3);
    let uris: Vec<String> = server.requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(
        uris,
        [
            "/items?limit=3&offset=0",
            "/items?limit=3&offset=3",
            "/items?limit=3&offset=6"
        ]
    );
    let log = last_log(&test);
    for offset in [0, 3, 6] {
        let line = format!("GET {}/items?limit=3&offset={offset}\n", server.url(""));
        assert!(log.contains(&line), "the log lacks {line:?}:\n{log}");
    }
}

#[test]
fn paging_by_link_header_against_json_server() {
    let items: Vec<serde_json::Value> = (1..=7)
        .map(|id| json!({"id": id, "name": format!("n{id}")}))
        .collect();
    let server = JsonServer::start(&json!({ "items": items }));
    let test = Test::new().config(&format!(
        r#"
[integration.sync]
[[integration.sync.steps]]
id = "fetch"
http.get = "{}/items"
http.query = {{ _page = "1", _limit = "3" }}
http.records = "{{{{ body }}}}"
http.paginate = {{ link_header = true }}

[[integration.sync.steps]]
output = {{ format = "jsonl", records_of = "fetch", to = "out/items.jsonl" }}
"#,
        server.url("")
    ));
    test.run(&["run", "sync"]).success();
    let ids: Vec<i64> = test
        .read("out/items.jsonl")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7]);
    // json-server was asked for each page once, by the link it gave.
    assert_eq!(
        server.requests(3),
        [
            "GET /items?_page=1&_limit=3",
            "GET /items?_page=2&_limit=3",
            "GET /items?_page=3&_limit=3"
        ]
    );
    let log = last_log(&test);
    for page in 1..=3 {
        let line = format!("GET {}/items?_page={page}&_limit=3", server.url(""));
        assert!(log.contains(&line), "the log lacks {line:?}:\n{log}");
    }
}

#[test]
fn for_each_never_exceeds_its_concurrency_and_keeps_order() {
    let server = Server::start(|request, _| {
        let n = request.json()["n"].as_i64().unwrap();
        // Later items answer sooner, so finishing order differs from item order.
        Reply::json(json!({"n": n})).after(Duration::from_millis(20 + (30 - n as u64 % 30)))
    });
    let test = config(
        &server,
        r#"
[integration.fan]
params.ids = { type = "list", default = [] }
[[integration.fan.steps]]
id = "post"
for_each = { items = "{{ range(30) | list }}", concurrency = 4 }
http.post = "SERVER/items"
http.json = { n = "{{ item }}" }

[[integration.fan.steps]]
command.argv = ["echo", "{{ steps.post | map(attribute='body') | map(attribute='n') | join(',') }}"]
"#,
    );
    let expected: Vec<String> = (0..30).map(|n| n.to_string()).collect();
    test.run(&["run", "fan"])
        .success()
        .stdout_is(&format!("{}\n", expected.join(",")));
    assert_eq!(server.requests().len(), 30);
    let max = server.max_in_flight();
    assert!(
        max <= 4,
        "{max} requests were in flight at once, the limit is 4"
    );
    assert!(max >= 2, "the items did not run concurrently");
}

#[test]
fn for_each_over_records_with_continue_names_the_failed_items() {
    let server = Server::start(|request, _| {
        if request.method == "GET" {
            return Reply::json(
                json!({"data": (0..10).map(|i| json!({"id": i})).collect::<Vec<_>>()}),
            );
        }
        match request.json()["id"].as_i64().unwrap() {
            3 | 7 => Reply::status(500, "cannot book this one"),
            _ => Reply::json(json!({"ok": true})),
        }
    });
    // The same booking, with `for_each` set as each case needs.
    let booking = |for_each: &str| {
        config(
            &server,
            &format!(
                r#"
[integration.book]
[[integration.book.steps]]
id = "deals"
http.get = "SERVER/deals"
http.records = "{{{{ body.data }}}}"

[[integration.book.steps]]
for_each = {for_each}
http.post = "SERVER/invoices"
http.json = {{ id = "{{{{ item.id }}}}" }}
http.retries = 0
"#
            ),
        )
    };
    let test = booking(r#"{ records_of = "deals", concurrency = 3, on_error = "continue" }"#);
    test.run(&["run", "book"])
        .code(1)
        .stderr_has("2 of 10 items failed: #3: POST")
        .stderr_has("#7: POST");
    assert_eq!(
        server.requests().len(),
        11,
        "every item ran despite the failures"
    );

    let stop = booking(r#"{ records_of = "deals" }"#);
    stop.run(&["run", "book"])
        .code(1)
        .stderr_has("item #3 failed");
    assert_eq!(
        server.requests().len(),
        11 + 5,
        "stopped at the first failure"
    );
}

#[test]
fn when_skips_steps_and_items() {
    let server = Server::start(|_, _| Reply::json(json!({"ok": true})));
    let test = config(
        &server,
        r#"
[integration.cond]
params.send = { type = "boolean", default = false }
[[integration.cond.steps]]
http.post = "SERVER/never"
when = "params.send"

[[integration.cond.steps]]
for_each = { items = "{{ [1, 2, 3, 4] }}" }
when = "item is even"
http.post = "SERVER/even"
http.json = { n = "{{ item }}" }
"#,
    );
    test.run(&["run", "cond"]).success();
    let bodies: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.path, r.body))
        .collect();
    assert_eq!(bodies, [r#"/even {"n":2}"#, r#"/even {"n":4}"#]);
}

const RECORDS: &str = r#"{"data": [
  {"id": 1, "name": "Smith, John", "company": {"name": "ACME \"Best\""}, "tags": ["a", "b"], "note": null},
  {"id": 2, "name": "Novák", "company": {"name": "Beta"}, "tags": [], "note": "line1\nline2"}
]}"#;

#[test]
fn csv_and_json_outputs_are_exact() {
    let server = Server::start(|_, _| Reply::json(serde_json::from_str(RECORDS).unwrap()));
    let test = config(
        &server,
        r#"
[integration.export]
[[integration.export.steps]]
id = "contacts"
http.get = "SERVER/contacts"
http.records = "{{ body.data }}"

[[integration.export.steps]]
output = { format = "csv", records_of = "contacts", columns = ["id", "name", "company.name", "tags", "note"], to = "out/contacts.csv" }

[[integration.export.steps]]
output = { format = "json", records_of = "contacts", to = "out/contacts.json" }

[[integration.export.steps]]
output = { format = "text", records_of = "contacts", before = "Contacts:\n", row = "{{ index + 1 }}. {{ item.name }}\n", after = "({{ 'end' }})\n" }
"#,
    );
    test.run(&["run", "export"])
        .success()
        .stdout_is("Contacts:\n1. Smith, John\n2. Novák\n(end)\n");
    assert_eq!(
        test.read("out/contacts.csv"),
        "id,name,company.name,tags,note\n1,\"Smith, John\",\"ACME \"\"Best\"\"\",\"[\"\"a\"\",\"\"b\"\"]\",\n2,Novák,Beta,[],\"line1\nline2\"\n"
    );
    assert_eq!(
        test.read("out/contacts.json"),
        "[\n  {\"company\":{\"name\":\"ACME \\\"Best\\\"\"},\"id\":1,\"name\":\"Smith, John\",\"note\":null,\"tags\":[\"a\",\"b\"]},\n  {\"company\":{\"name\":\"Beta\"},\"id\":2,\"name\":\"Novák\",\"note\":\"line1\\nline2\",\"tags\":[]}\n]\n"
    );
    // Written atomically: no temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(test.state_dir().parent().unwrap().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn records_of_must_name_an_earlier_step_with_records() {
    let test = Test::new().config(
        r#"
[integration.bad]
[[integration.bad.steps]]
id = "plain"
http.get = "http://127.0.0.1:9/x"

[[integration.bad.steps]]
output = { format = "jsonl", records_of = "plain" }

[[integration.bad.steps]]
output = { format = "jsonl", records_of = "nope" }
"#,
    );
    test.run(&["check"])
        .code(2)
        .stderr_has("step `plain` has no records: give it `http.records`")
        .stderr_has("`records_of` names `nope`, which is not an earlier step with records");
}

#[test]
fn the_standard_proxy_variables_are_honoured() {
    // The "proxy" answers for any host; the target's name does not even resolve.
    let proxy = Server::start(|_, _| Reply::json(json!({"via": "proxy"})));
    let test = Test::new()
        .config(
            r#"
[integration.out]
[[integration.out.steps]]
id = "far"
http.get = "http://integ-test.invalid/items"
[[integration.out.steps]]
command.argv = ["echo", "{{ steps.far.body.via }}"]
"#,
        )
        .env("HTTP_PROXY", &proxy.url(""));
    test.run(&["run", "out"]).success().stdout_is("proxy\n");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers["host"], "integ-test.invalid");
}
