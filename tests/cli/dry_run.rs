//! `integ run --dry-run`: reads are made, writes, commands and files are shown as lines of a
//! plan that stay (on stdout, piped or not, `-q` or not), and the run is recorded as a dry run.

use serde_json::json;

use crate::examples::{DemoServer, example, repo_file};
use crate::http_server::{Reply, Server};
use crate::support::Test;

const SYNC: &str = r#"
[secrets]
accounting = { env = "ACCOUNTING_KEY" }

[integration.sync]
[[integration.sync.steps]]
id = "deal"
http.get = "SERVER/deal"

[[integration.sync.steps]]
id = "invoice"
http.post = "SERVER/invoices"
http.query = { key = "{{ secrets.accounting }}", draft = "yes" }
http.json = { customer = "{{ steps.deal.body.data.name }}", note = "key {{ secrets.accounting }}" }

[[integration.sync.steps]]
command.argv = ["touch", "ran-{{ steps.invoice.body.id }}"]

[[integration.sync.steps]]
output = { format = "json", value = "{{ steps.deal.body.data }}", to = "deal.json" }

[[integration.sync.steps]]
output = { format = "text", template = "invoice {{ steps.invoice.body.id }} for {{ steps.deal.body.data.name }}\n" }
"#;

fn sync(server: &Server) -> Test {
    Test::new()
        .config(&SYNC.replace("SERVER", &server.url("")))
        .env("ACCOUNTING_KEY", "k3y-s3cret")
}

fn deal_server() -> Server {
    Server::start(|request, _| match request.method.as_str() {
        "GET" => Reply::json(json!({"data": {"id": 5, "name": "ACME"}})),
        _ => Reply::json(json!({"id": 99})),
    })
}

#[test]
fn a_dry_run_prints_each_write_command_and_file_as_a_line_of_its_plan() {
    let server = deal_server();
    let test = sync(&server);
    let invoices = server.url("/invoices");
    let dir = test.state_dir().parent().unwrap().to_owned();
    let plan = format!(
        "step `invoice`: would send POST {invoices}?key=***&draft=yes {{\"customer\":\"ACME\",\"note\":\"key ***\"}}\n\
         step 3: would run `touch 'ran-<not sent: steps.invoice.body.id>'`\n\
         step 4: would write 32 bytes to `{}`\n\
         invoice <not sent: steps.invoice.body.id> for ACME\n",
        dir.join("deal.json").display()
    );
    // Piped, and under `-q` too: the plan is what a dry run is for.
    for quiet in [false, true] {
        let args: &[&str] = if quiet {
            &["run", "sync", "--dry-run", "-q"]
        } else {
            &["run", "sync", "--dry-run"]
        };
        let out = test.run(args);
        out.success().stdout_is(&plan);
        assert!(!out.stderr.contains("k3y-s3cret"), "{}", out.stderr);
    }
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "GET"], "only the reads were sent");
    let written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "state" && name != "integrations.toml")
        .collect();
    assert!(
        written.is_empty(),
        "nothing was written or run: {written:?}"
    );
}

#[test]
fn a_dry_run_is_recorded_as_one_and_its_plan_is_its_output() {
    let server = deal_server();
    let test = sync(&server);
    test.run(&["run", "sync", "--dry-run"]).success();
    let runs = test.history();
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["dry_run"].as_bool()),
        (Some("succeeded"), Some(true))
    );
    test.run(&["history"])
        .success()
        .stdout_has("succeeded (dry run)");
    test.run(&["list"])
        .success()
        .stdout_has("succeeded (dry run)");
    let list = test.run(&["list", "--json"]).json();
    assert_eq!(list[0]["last_run"]["dry_run"], json!(true), "{list}");
    let id = runs[0]["id"].as_str().unwrap();
    test.run(&["output", id])
        .success()
        .stdout_has("step `invoice`: would send POST")
        .stdout_has("invoice <not sent: steps.invoice.body.id> for ACME");
    test.run(&["logs", id])
        .success()
        .stdout_has("status:      succeeded (dry run)")
        .stdout_has("dry run: would send POST");
    // A real run after it is an ordinary one.
    test.run(&["run", "sync"]).success();
    assert_eq!(test.history()[0]["dry_run"], json!(false));
}

#[test]
fn every_example_dry_runs_against_the_demo_server_and_writes_nothing() {
    let server = DemoServer::start();
    let runs: [(&str, &[&str], &str); 6] = [
        (
            "deal-sheet.toml",
            &["run", "deal-sheet", "-p", "deal_id=42"],
            "42,Deal 42,Company 0042 s.r.o.,6754,CZK",
        ),
        (
            "changed-companies.toml",
            &[
                "run",
                "changed-companies",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-08",
            ],
            "would write 630 records",
        ),
        (
            "deal-to-invoice.toml",
            &["run", "deal-to-invoice", "-p", "deal_id=42"],
            "Invoice <not sent: steps.invoice.body.id> for Company 0042 s.r.o.: 6754 CZK\n",
        ),
        (
            "nightly-export.toml",
            &["run", "nightly-export"],
            "records (139.0 KiB) to `",
        ),
        (
            "monthly-report.toml",
            &[
                "run",
                "monthly-report",
                "-p",
                "from=2026-03-01",
                "-p",
                "to=2026-03-31",
            ],
            "8 deals, 38951 CZK in total",
        ),
        (
            "raynet-webhook.toml",
            &["run", "deal-won", "-p", "deal_id=42"],
            "would send POST",
        ),
    ];
    for (file, args, shown) in runs {
        let test = example(file, &server)
            .env("RAYNET_TOKEN", "demo-token")
            .env("BUTTON_KEY", "demo-button");
        let args = [args, &["--dry-run"]].concat();
        test.run(&args).success().stdout_has(shown);
        assert!(
            !test.state_dir().parent().unwrap().join("exports").exists(),
            "{file}: a dry run wrote a file"
        );
    }
    let invoices = crate::serve_hook::request(
        server.url.trim_start_matches("http://"),
        "GET",
        "/accounting/invoices",
        &[],
        b"",
    );
    assert_eq!(invoices, (200, json!([])), "no invoice was sent");
}

#[test]
fn the_root_sample_and_every_readme_flow_dry_run() {
    let root = Test::new().config(&repo_file("integrations.toml"));
    root.run(&["run", "hello", "--dry-run"])
        .success()
        .stdout_is("step 1: would run `echo 'Hello, world!'`\n");

    // The README's flows read from a CRM: the demo server stands in for it.
    let server = DemoServer::start();
    let readme = repo_file("README.md");
    let mut flows = 0;
    for block in readme.split("```toml\n").skip(1) {
        let toml = block
            .split("```")
            .next()
            .unwrap()
            .replace("https://crm.example.com", &format!("{}/crm", server.url))
            .replace(
                "https://accounting.example.com",
                &format!("{}/accounting", server.url),
            );
        let test = Test::new()
            .config(&toml)
            .env("CRM_API_KEY", "demo")
            .env("RAYNET_TOKEN", "test-token")
            .env("GH_WEBHOOK_SECRET", "test-secret")
            .env("INTEG_LINK_KEY", "test-link-key")
            .env("INTEG_BUTTON_KEY", "test-button-key")
            .write("accounting.key", "test-key\n");
        let list = test.run(&["list", "--json"]);
        for integration in list.success().json().as_array().unwrap() {
            let name = integration["name"].as_str().unwrap();
            let mut args = vec!["run".to_owned(), name.to_owned(), "--dry-run".to_owned()];
            for param in integration["params"].as_array().unwrap() {
                if param["required"] == json!(true) {
                    let value = match param["type"].as_str().unwrap() {
                        _ if param["name"] == "month" => "2026-11",
                        "integer" | "number" => "42",
                        "date" => "2026-11-01",
                        "boolean" => "true",
                        _ => "x",
                    };
                    args.extend([
                        "-p".to_owned(),
                        format!("{}={value}", param["name"].as_str().unwrap()),
                    ]);
                }
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = test.run(&args);
            assert_eq!(
                out.code,
                0,
                "`integ {}` fails on the README block:\n{toml}\n{}",
                args.join(" "),
                out.stderr
            );
            flows += 1;
        }
    }
    assert!(flows >= 5, "the README has flows: {flows}");
}

#[test]
fn a_run_by_hand_of_an_integration_whose_steps_read_the_request_is_refused_up_front() {
    let test = Test::new().config(
        r#"
[integration.echo]
[integration.echo.webhook]
path = "echo"
auth.none = true
[[integration.echo.steps]]
command.argv = ["touch", "{{ trigger.body.name }}"]
"#,
    );
    for args in [&["run", "echo"][..], &["run", "echo", "--dry-run"]] {
        test.run(args).code(2).stderr_has(
            "error: `echo` cannot run from here: its steps read `trigger.body.name`, which only a request to its webhook (`POST /hooks/echo`) has",
        );
    }
    assert!(test.history().is_empty(), "nothing ran or was recorded");
}
