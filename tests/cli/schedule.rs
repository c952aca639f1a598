//! `integ schedule` in each format, what a format cannot express, and `integ check`'s checks of
//! cron expressions (DST, `@reboot`, seconds, expressions that never fire).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Test;

const CONFIG: &str = r#"
[integration.contacts-sync]
schedule = "0 2 * * *"
timeout = "10m"
[[integration.contacts-sync.steps]]
command = { argv = ["true"] }

[integration.invoices-export]
timeout = "90s"
[integration.invoices-export.schedule]
cron = "30 1 1 * 1"
timezone = "Europe/Prague"
[[integration.invoices-export.steps]]
command = { argv = ["true"] }

[integration.by-hand]
[[integration.by-hand.steps]]
command = { argv = ["true"] }
"#;

fn test() -> Test {
    Test::new().config(CONFIG).env("TZ", "UTC")
}

/// The test's directory, as integ spells it (canonical).
fn dir(test: &Test) -> PathBuf {
    test.state_dir().parent().unwrap().canonicalize().unwrap()
}

/// Snapshot settings that name the test's temp dir `[DIR]`.
fn filters(test: &Test) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let escaped: String = dir(test)
        .display()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect();
    settings.add_filter(&escaped, "[DIR]");
    settings
}

#[test]
fn crontab_lines_spell_out_paths_and_warn_of_a_zone_cron_cannot_honour() {
    let test = test();
    let out = test.run(&[
        "schedule",
        "--format",
        "crontab",
        "--binary",
        "/usr/bin/integ",
    ]);
    out.success();
    let home = dir(&test);
    let line = format!(
        "0 2 * * * /usr/bin/integ --config {0}/integrations.toml --state-dir {0}/state run contacts-sync --scheduled -q",
        home.display()
    );
    assert!(out.stdout.contains(&line), "{}", out.stdout);
    assert!(!out.stdout.contains("by-hand"), "{}", out.stdout);
    out.stderr_has("warning: `invoices-export` reads its schedule in `Europe/Prague`, but cron reads crontab times in the machine's zone (`UTC`), and Debian cron has no `CRON_TZ`");
    assert!(!out.stderr.contains("contacts-sync"), "{}", out.stderr);
    filters(&test).bind(|| insta::assert_snapshot!(out.stdout));
    // With `--out`, the same lines go to `DIR/integ.crontab`.
    let out_dir = test.run(&[
        "schedule",
        "--format",
        "crontab",
        "--binary",
        "/usr/bin/integ",
        "--out",
        "cron",
    ]);
    out_dir.success();
    assert_eq!(out_dir.stdout, "");
    let written = test.read("cron/integ.crontab");
    assert_eq!(
        out.stdout,
        format!("# ==> integ.crontab <==\n{written}"),
        "stdout and the file differ"
    );
}

#[test]
fn crontab_escapes_percent_signs_and_quotes_for_the_shell() {
    let test = Test::new()
        .write(
            "100% sure/integrations.toml",
            "[integration.a]\nschedule = \"0 2 * * *\"\n[[integration.a.steps]]\ncommand = { argv = [\"true\"] }\n",
        )
        .env("TZ", "UTC");
    let out = test.run(&[
        "--config",
        "100% sure/integrations.toml",
        "schedule",
        "--format",
        "crontab",
        "--binary",
        "/usr/bin/integ",
    ]);
    out.success();
    let config = format!("'{}/100\\% sure/integrations.toml'", dir(&test).display());
    assert!(out.stdout.contains(&config), "{}", out.stdout);
}

#[test]
fn systemd_units_are_written_into_the_out_dir() {
    let test = test();
    let out = test.run(&[
        "schedule",
        "--format",
        "systemd",
        "--binary",
        "/usr/bin/integ",
        "--out",
        "units",
    ]);
    out.success();
    assert_eq!(out.stdout, "");
    let files = [
        "integ-contacts-sync.service",
        "integ-contacts-sync.timer",
        "integ-invoices-export.service",
        "integ-invoices-export.timer",
    ];
    let mut names: Vec<_> = std::fs::read_dir(dir(&test).join("units"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, files);
    let service = test.read("units/integ-contacts-sync.service");
    for line in [
        "Type=oneshot",
        "SuccessExitStatus=75",
        "TimeoutStartSec=630s",
        "ProtectSystem=strict",
    ] {
        assert!(service.lines().any(|l| l == line), "{line}:\n{service}");
    }
    // Command steps may start JIT runtimes (node, java), which W^X memory breaks.
    assert!(
        !service
            .lines()
            .any(|line| line.starts_with("MemoryDenyWriteExecute=")),
        "{service}"
    );
    let timer = test.read("units/integ-invoices-export.timer");
    let calendars: Vec<_> = timer
        .lines()
        .filter(|line| line.starts_with("OnCalendar="))
        .collect();
    assert_eq!(
        calendars,
        [
            "OnCalendar=*-*-01 01:30:00 Europe/Prague",
            "OnCalendar=Mon *-*-* 01:30:00 Europe/Prague"
        ]
    );
    assert!(
        timer.lines().any(|line| line == "Persistent=true"),
        "{timer}"
    );
    assert!(!timer.contains("\nRequires="), "{timer}");
    let settings = filters(&test);
    for file in files {
        let text = test.read(&format!("units/{file}"));
        settings.bind(|| insta::assert_snapshot!(file, text));
    }
}

#[test]
fn systemd_units_pass_systemd_analyze_verify_and_its_security_score() {
    let test = test();
    let binary = env!("CARGO_BIN_EXE_integ");
    test.run(&[
        "schedule", "--format", "systemd", "--binary", binary, "--out", "units",
    ])
    .success();
    let units = dir(&test).join("units");
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .arg(units.join("integ-contacts-sync.service"))
        .arg(units.join("integ-contacts-sync.timer"))
        .output()
        .expect("systemd-analyze runs (`.ci/run` installs systemd)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("integ-contacts-sync"), "{stderr}");
    // systemd's own score of the hardening: 4.0 or less is "OK" (a plain unit scores 9.6).
    let output = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=40"])
        .arg(units.join("integ-contacts-sync.service"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn stdout_names_the_file_of_each_unit() {
    let test = test();
    let out = test.run(&[
        "schedule",
        "contacts-sync",
        "--format",
        "systemd",
        "--binary",
        "/usr/bin/integ",
    ]);
    out.success();
    assert!(
        out.stdout
            .starts_with("# ==> integ-contacts-sync.service <==\n"),
        "{}",
        out.stdout
    );
    out.stdout_has("# ==> integ-contacts-sync.timer <==\n");
    assert!(!out.stdout.contains("invoices-export"), "{}", out.stdout);
}

#[test]
fn the_binary_defaults_to_the_running_one() {
    let test = test();
    let out = test.run(&["schedule", "contacts-sync", "--format", "crontab"]);
    out.success();
    let binary = Path::new(env!("CARGO_BIN_EXE_integ"))
        .canonicalize()
        .unwrap();
    out.stdout_has(&format!("0 2 * * * {} --config", binary.display()));
}

#[test]
fn kubernetes_cronjobs_validate_against_the_kubernetes_schema() {
    let test = test();
    let out = test.run(&[
        "schedule",
        "--format",
        "kubernetes",
        "--binary",
        "/usr/local/bin/integ",
        "--pvc",
        "sync-state",
        "--out",
        "k8s",
    ]);
    out.success();
    let dir = dir(&test).join("k8s");
    let tools = crate::http_server::test_tools().join("python");
    for file in ["integ-contacts-sync.yaml", "integ-invoices-export.yaml"] {
        let output = Command::new("python3")
            .args(["-m", "kubernetes_validate", "--strict", "-k", "1.30.0"])
            .arg(dir.join(file))
            .env("PYTHONPATH", &tools)
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "{file}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let manifest = test.read("k8s/integ-invoices-export.yaml");
    for line in [
        "  schedule: \"30 1 1 * 1\"",
        "  timeZone: \"Europe/Prague\"",
        "  concurrencyPolicy: Forbid",
        "      backoffLimit: 0",
        "      activeDeadlineSeconds: 120",
        "          restartPolicy: Never",
        "                claimName: \"sync-state\"",
    ] {
        assert!(manifest.lines().any(|l| l == line), "{line}:\n{manifest}");
    }
    filters(&test).bind(|| insta::assert_snapshot!(manifest));
}

#[test]
fn kubernetes_manifests_that_break_the_schema_are_caught() {
    // The validator is real: a manifest without its schedule fails it.
    let test = test();
    test.run(&["schedule", "--format", "kubernetes", "--out", "k8s"])
        .success();
    let path = dir(&test).join("k8s/integ-contacts-sync.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("  schedule:", "  schedul:")).unwrap();
    let output = Command::new("python3")
        .args(["-m", "kubernetes_validate", "--strict", "-k", "1.30.0"])
        .arg(&path)
        .env(
            "PYTHONPATH",
            crate::http_server::test_tools().join("python"),
        )
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success() && said.contains("'schedule' is a required property"),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn an_expression_a_format_cannot_express_is_refused_with_the_reason() {
    let test = Test::new().config(
        r#"
[integration.payroll]
schedule = "0 9 15W * *"
[[integration.payroll.steps]]
command = { argv = ["true"] }

[integration.month-end]
schedule = "0 22 L * *"
[[integration.month-end.steps]]
command = { argv = ["true"] }
"#,
    );
    let out = test.run(&["schedule", "payroll", "--format", "systemd"]);
    out.code(2);
    out.stderr_has("error: failed to write a systemd timer for `payroll`: schedule `0 9 15W * *`: `W` (the weekday nearest a day) has no `OnCalendar=` form");
    assert_eq!(out.stdout, "");
    let out = test.run(&["schedule", "month-end", "--format", "kubernetes"]);
    out.code(2);
    out.stderr_has("error: failed to write a Kubernetes CronJob for `month-end`: schedule `0 22 L * *`: `L` in the day-of-month field is not read by Kubernetes");
    let out = test.run(&["schedule", "month-end", "--format", "crontab"]);
    out.code(2);
    out.stderr_has("schedule `0 22 L * *`: `L` is not read by Debian cron");
    // systemd can: the last day of the month.
    let out = test.run(&["schedule", "month-end", "--format", "systemd"]);
    out.success();
    out.stdout_has("OnCalendar=*-*~01 22:00:00\n");
}

#[test]
fn a_name_without_a_schedule_or_unknown_is_a_usage_error() {
    let test = test();
    let out = test.run(&["schedule", "by-hand", "--format", "crontab"]);
    out.code(2);
    out.stderr_has("error: `by-hand` has no `schedule`, so nothing would start it");
    let out = test.run(&["schedule", "contacts-synk", "--format", "crontab"]);
    out.code(2);
    out.stderr_has("no integration named `contacts-synk`");
    out.stderr_has("contacts-sync");
    assert_eq!(out.stdout, "");
    let out = Test::new()
        .config("[integration.a]\n[[integration.a.steps]]\ncommand = { argv = [\"true\"] }\n")
        .run(&["schedule", "--format", "systemd"]);
    out.code(2);
    out.stderr_has("failed to find an integration with a `schedule`");
}

fn check(toml: &str) -> (i32, String) {
    let out = Test::new().config(toml).env("TZ", "UTC").run(&["check"]);
    (out.code, out.stderr)
}

fn dates() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2}", "[DATE]");
    settings
}

#[test]
fn check_warns_of_a_time_the_dst_change_skips_and_repeats() {
    let (code, stderr) = check(
        r#"[integration.nightly.schedule]
cron = "30 2 * * *"
timezone = "Europe/Prague"
[[integration.nightly.steps]]
command = { argv = ["true"] }
"#,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("which `Europe/Prague` skips on 20")
            && stderr.contains("systemd skips it that day"),
        "{stderr}"
    );
    assert!(
        stderr.contains("happens twice in `Europe/Prague`"),
        "{stderr}"
    );
    dates().bind(|| insta::assert_snapshot!(stderr));
}

#[test]
fn check_warns_in_the_machines_zone_too_and_not_for_times_clear_of_the_change() {
    let nightly = |cron: &str| {
        format!(
            "[integration.nightly]\nschedule = \"{cron}\"\n[[integration.nightly.steps]]\ncommand = {{ argv = [\"true\"] }}\n"
        )
    };
    let out = Test::new()
        .config(&nightly("0 2 * * *"))
        .env("TZ", "America/New_York")
        .run(&["check"]);
    out.success();
    out.stderr_has("names 02:00, which the machine's zone (`America/New_York`) skips on");
    assert!(!out.stderr.contains("happens twice"), "{}", out.stderr);
    for cron in ["30 4 * * *", "*/30 * * * *"] {
        let out = Test::new()
            .config(&nightly(cron))
            .env("TZ", "Europe/Prague")
            .run(&["check"]);
        out.success();
        assert!(!out.stderr.contains("warning"), "{cron}: {}", out.stderr);
    }
}

#[test]
fn check_rejects_reboot_seconds_and_expressions_that_never_fire() {
    let (code, stderr) = check(
        r#"[integration.at-boot]
schedule = "@reboot"
[[integration.at-boot.steps]]
command = { argv = ["true"] }

[integration.every-second]
schedule = "*/20 * * * * *"
[[integration.every-second.steps]]
command = { argv = ["true"] }

[integration.february]
schedule = "0 0 31 2 *"
[[integration.february.steps]]
command = { argv = ["true"] }
"#,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error: `@reboot` is not a schedule"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a seconds field is not supported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: cron expression `0 0 31 2 *` never fires"),
        "{stderr}"
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn check_accepts_a_schedule_that_fires_only_in_leap_years() {
    let (code, stderr) = check(
        r#"[integration.leap-day]
schedule = "0 0 29 2 *"
[[integration.leap-day.steps]]
command = { argv = ["true"] }
"#,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("never fires"), "{stderr}");
}

#[test]
fn the_systemd_example_is_what_integ_schedule_writes() {
    let test = Test::new()
        .write(
            "nightly-export.toml",
            &crate::examples::repo_file("examples/nightly-export.toml"),
        )
        .env("TZ", "UTC");
    test.run(&[
        "--config",
        "nightly-export.toml",
        "--state-dir",
        "/var/lib/integ",
        "schedule",
        "--format",
        "systemd",
        "--binary",
        "/usr/local/bin/integ",
        "--out",
        "units",
    ])
    .success();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for file in ["integ-nightly-export.service", "integ-nightly-export.timer"] {
        let generated = test
            .read(&format!("units/{file}"))
            .replace(&dir(&test).display().to_string(), "/srv/integ");
        if std::env::var_os("INTEG_UPDATE_EXAMPLES").is_some() {
            std::fs::write(examples.join(file), &generated).unwrap();
        }
        let committed = std::fs::read_to_string(examples.join(file)).unwrap_or_default();
        assert_eq!(
            committed, generated,
            "examples/{file} is stale: run `INTEG_UPDATE_EXAMPLES=1 cargo nextest run -E 'test(the_systemd_example)'`"
        );
    }
}

#[test]
fn a_user_runs_the_units_and_takes_the_crontab_and_a_bad_one_is_refused() {
    let test = test();
    let binary = env!("CARGO_BIN_EXE_integ");
    let units = test.run(&[
        "schedule", "--format", "systemd", "--binary", binary, "--user", "integ", "--out", "units",
    ]);
    units.success();
    let service = test.read("units/integ-contacts-sync.service");
    assert!(
        service.contains("\nUser=integ\nWorkingDirectory="),
        "{service}"
    );
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .arg(dir(&test).join("units/integ-contacts-sync.service"))
        .output()
        .expect("systemd-analyze runs (`.ci/run` installs systemd)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && !stderr.contains("integ-contacts-sync"),
        "{stderr}"
    );

    let crontab = test.run(&[
        "schedule", "--format", "crontab", "--binary", binary, "--user", "integ",
    ]);
    crontab
        .success()
        .stdout_has("# Install it as root with `crontab -u integ integ.crontab` (this replaces integ's crontab)");

    for bad in ["Integ", "a b", "integ\nExecStartPre=/bin/sh", "-u", ""] {
        let out = test.run(&["schedule", "--format", "systemd", &format!("--user={bad}")]);
        out.code(2).stderr_has("invalid user name");
        assert_eq!(out.stdout, "", "nothing written for `{bad}`");
    }
    test.run(&["schedule", "--format", "kubernetes", "--user", "integ"])
        .code(2)
        .stderr_has("`--user` is for `--format crontab` and `systemd`");
}

#[test]
fn a_control_character_in_what_goes_into_the_files_is_refused() {
    let test = test();
    let out = test.run(&[
        "schedule",
        "--format",
        "systemd",
        "--binary",
        "/usr/bin/integ\nExecStartPre=/bin/sh",
    ]);
    out.code(2).stderr_has(
        "the binary's path `/usr/bin/integ\\nExecStartPre=/bin/sh` holds a control character",
    );
    assert_eq!(out.stdout, "");
    test.run(&[
        "schedule",
        "--format",
        "kubernetes",
        "--pvc",
        "state\n  evil: yes",
    ])
    .code(2)
    .stderr_has("`--pvc` `state\\n  evil: yes` holds a control character");
}
