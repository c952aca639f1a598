//! The sample file, the examples and the README's TOML stay valid, and the examples run end
//! to end against the demo server.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::Test;

pub(crate) fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_root_sample_passes_check_and_runs_offline() {
    let test = Test::new().config(&repo_file("integrations.toml"));
    test.run(&["check"]).success();
    test.run(&["run", "hello"])
        .success()
        .stdout_is("Hello, world!\n");
    test.run(&[
        "run",
        "monthly-report",
        "-p",
        "from=2026-10-01",
        "-p",
        "to=2026-10-31",
    ])
    .success()
    .stdout_has("2026-10-01 to 2026-10-31");
}

#[test]
fn every_toml_block_in_the_readme_passes_check() {
    let readme = repo_file("README.md");
    let mut blocks = 0;
    for block in readme.split("```toml\n").skip(1) {
        let toml = block.split("```").next().unwrap();
        let test = Test::new()
            .config(toml)
            .env("CRM_API_KEY", "test-key")
            .env("RAYNET_TOKEN", "test-token")
            .env("GH_WEBHOOK_SECRET", "test-secret")
            .env("INTEG_LINK_KEY", "test-link-key")
            .env("INTEG_BUTTON_KEY", "test-button-key")
            .write("accounting.key", "test-key\n");
        let out = test.run(&["check"]);
        assert_eq!(
            out.code, 0,
            "README block does not pass check:\n{toml}\n{}",
            out.stderr
        );
        blocks += 1;
    }
    assert!(blocks > 0, "the README has TOML examples");
}

fn example_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_passes_check() {
    let files = example_files();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let test = Test::new()
            .config(&std::fs::read_to_string(&file).unwrap())
            .env("CRM_API_KEY", "demo")
            .env("RAYNET_TOKEN", "demo-token")
            .env("BUTTON_KEY", "demo-button");
        let out = test.run(&["check"]);
        assert_eq!(
            out.code,
            0,
            "{} does not pass check:\n{}",
            file.display(),
            out.stderr
        );
    }
}

/// The demo server (built with the tests, as cargo builds examples), on a free port.
pub(crate) struct DemoServer {
    child: Child,
    pub(crate) url: String,
}

impl DemoServer {
    pub(crate) fn start() -> DemoServer {
        let bin = Path::new(env!("CARGO_BIN_EXE_integ"))
            .parent()
            .unwrap()
            .join("examples")
            .join("demo_server");
        let mut child = Command::new(&bin)
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start {}: {err} (cargo builds it with the tests)",
                    bin.display()
                )
            });
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{first}");
        DemoServer { child, url }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn example(name: &str, server: &DemoServer) -> Test {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    Test::new()
        .config(&std::fs::read_to_string(file).unwrap())
        .env("CRM_API_KEY", "demo")
        .env("CRM_URL", &format!("{}/crm", server.url))
        .env("ACCOUNTING_URL", &format!("{}/accounting", server.url))
}

#[test]
fn the_examples_run_end_to_end_against_the_demo_server() {
    let server = DemoServer::start();

    let invoice = example("deal-to-invoice.toml", &server);
    invoice
        .run(&["run", "deal-to-invoice", "-p", "deal_id=42"])
        .success()
        .stdout_is("Invoice 1 for Company 0042 s.r.o.: 6754 CZK\n");
    invoice
        .run(&["run", "deal-to-invoice", "-p", "deal_id=4"])
        .success()
        .stdout_is("Deal 4 is not won: no invoice\n");
    invoice
        .run(&["run", "deal-to-invoice", "-p", "deal_id=999"])
        .code(1)
        .stderr_has("answered 404 Not Found");

    let export = example("nightly-export.toml", &server);
    export.run(&["run", "nightly-export", "-q"]).success();
    let csv = export.read("exports/companies.csv");
    assert_eq!(csv.lines().count(), 2_501, "a header and 2,500 companies");
    assert!(csv.starts_with("id,name,regNumber,primaryAddress.address.city,rowInfo.lastModifiedAt\n0,Company 0000 s.r.o.,10000000,Praha,2026-11-01 10:00\n"));

    let report = example("monthly-report.toml", &server);
    report
        .run(&[
            "run",
            "monthly-report",
            "-p",
            "from=2026-03-01",
            "-p",
            "to=2026-03-31",
        ])
        .success()
        .stdout_has("Sales from 01.03.2026 to 31.03.2026")
        .stdout_has("8 deals, 38951 CZK in total");
    let json = report.run(&[
        "run",
        "monthly-report",
        "-p",
        "from=2026-03-01",
        "-p",
        "to=2026-03-31",
        "-p",
        "format=json",
    ]);
    assert_eq!(json.success().json().as_array().unwrap().len(), 8);

    let wrong_key = example("deal-to-invoice.toml", &server).env("CRM_API_KEY", "wrong");
    wrong_key
        .run(&["run", "deal-to-invoice", "-p", "deal_id=42"])
        .code(1)
        .stderr_has("answered 401 Unauthorized");
}

#[test]
fn the_raynet_webhook_example_invoices_a_deal_end_to_end() {
    use crate::serve_hook::{Listener, request};
    let server = DemoServer::start();
    let test = example("raynet-webhook.toml", &server).env("RAYNET_TOKEN", "demo-token");
    let listener = Listener::start(&test, &[]);
    let crm = server.url.trim_start_matches("http://").to_owned();
    let hook = format!("http://{}/hooks/raynet/deal", listener.addr);
    let (status, answer) = request(
        &crm,
        "POST",
        &format!("/crm/simulate/deal/42?to={hook}&token=demo-token"),
        &[],
        b"",
    );
    assert_eq!(
        (status, answer["status"].as_u64()),
        (200, Some(202)),
        "{answer}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, invoices) = request(&crm, "GET", "/accounting/invoices", &[], b"");
        if let Some(invoice) = invoices.as_array().and_then(|all| all.first()) {
            assert_eq!(invoice["customer"], "Company 0042 s.r.o.");
            assert_eq!(invoice["amount"], 6754);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no invoice arrived");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A wrong token from the "CRM" is refused.
    let (_, refused) = request(
        &crm,
        "POST",
        &format!("/crm/simulate/deal/42?to={hook}&token=wrong"),
        &[],
        b"",
    );
    assert_eq!(refused["status"].as_u64(), Some(401), "{refused}");
}

/// The README's cron lines name the binary where its install step puts it, and the rest of
/// each line is a command line integ runs: a cron job copied from it works on the first night.
#[test]
fn the_readme_cron_lines_run_the_binary_its_install_step_installs() {
    let readme = repo_file("README.md");
    assert!(
        readme.contains("cargo install --locked --path ."),
        "the README's install step"
    );
    // `cargo install` puts binaries in `$CARGO_HOME/bin`, by default `~/.cargo/bin`; cron
    // sets `HOME` and runs the line with `sh`, which expands it.
    let installed = "$HOME/.cargo/bin/integ";
    let mut lines = 0;
    for block in readme.split("```cron\n").skip(1) {
        let block = block.split("```").next().unwrap();
        for line in block
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() > 6, "not a crontab line: {line}");
            // A user's crontab runs the binary `cargo install` put in their home; a system
            // crontab (`/etc/cron.d`) names the user, the .deb's `integ`, and its binary.
            let command = match fields[5] {
                "integ" => {
                    assert_eq!(fields[6], "/usr/bin/integ", "{line}");
                    assert!(readme.contains("sudo apt install ./target/debian/integ_"));
                    7
                }
                binary => {
                    assert_eq!(binary, installed, "{line}");
                    6
                }
            };
            let mut args: Vec<&str> = fields[command..].to_vec();
            let name = args[args.iter().position(|arg| *arg == "run").unwrap() + 1];
            let test = Test::new().write(
                "project/integrations.toml",
                &format!("[integration.{name}]\n[[integration.{name}.steps]]\ncommand.argv = [\"true\"]\n"),
            );
            let config = test.state_dir().with_file_name("project/integrations.toml");
            let config = config.to_str().unwrap().to_owned();
            if let Some(at) = args.iter().position(|arg| *arg == "--config") {
                args[at + 1] = &config;
            }
            let state = test.state_dir().to_str().unwrap().to_owned();
            if let Some(at) = args.iter().position(|arg| *arg == "--state-dir") {
                args[at + 1] = &state;
            }
            let out = test.run(&args);
            out.success();
            assert_eq!(out.stdout, "", "quiet under cron: {line}");
            assert_eq!(test.history()[0]["trigger"], "schedule", "{line}");
            lines += 1;
        }
    }
    assert!(lines > 0, "the README has a crontab example");
}
