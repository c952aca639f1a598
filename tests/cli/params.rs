//! Typed params: values from `-p`, defaults (computed ones too), prompts on a terminal.

use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::Duration;

use chrono::{Datelike as _, Local, Months};

use crate::support::Test;

const TYPES: &str = r#"
[integration.types]
params.s = { type = "string", default = "x" }
params.i = { type = "integer", default = 1 }
params.n = { type = "number", default = 1.5 }
params.b = { type = "boolean", default = false }
params.d = { type = "date", default = 2026-01-31 }
params.t = { type = "datetime", default = "2026-01-31T08:00:00Z" }
params.c = { type = "choice", values = ["csv", "json"], default = "csv" }
params.l = { type = "list", default = [] }
[[integration.types.steps]]
command.argv = ["echo", "{{ params.s }}|{{ params.i * 2 }}|{{ params.n }}|{{ params.b }}|{{ params.d }}|{{ params.t }}|{{ params.c }}|{{ params.l | join('+') }}"]
"#;

#[test]
fn every_type_parses_its_values() {
    let test = Test::new().config(TYPES);
    test.run(&["run", "types"])
        .success()
        .stdout_is("x|2|1.5|false|2026-01-31|2026-01-31T08:00:00+00:00|csv|\n");
    test.run(&[
        "run",
        "types",
        "-p",
        "s=hi there",
        "-p",
        "i=21",
        "-p",
        "n=-0.25",
        "-p",
        "b=yes",
        "-p",
        "d=2026-02-28",
        "-p",
        "t=2026-02-28T10:30:00+01:00",
        "-p",
        "c=json",
        "-p",
        "l=a,b",
    ])
    .success()
    .stdout_is("hi there|42|-0.25|true|2026-02-28|2026-02-28T10:30:00+01:00|json|a+b\n");
}

#[test]
fn a_wrong_value_is_refused_before_anything_runs() {
    let test = Test::new().config(TYPES);
    let cases = [
        (
            "i=abc",
            "invalid value `abc` for param `i`: expected an integer",
        ),
        (
            "n=fast",
            "invalid value `fast` for param `n`: expected a number",
        ),
        (
            "b=maybe",
            "invalid value `maybe` for param `b`: expected a boolean",
        ),
        (
            "d=2026-02-30",
            "invalid value `2026-02-30` for param `d`: expected a date (YYYY-MM-DD)",
        ),
        (
            "t=noon",
            "invalid value `noon` for param `t`: expected a datetime",
        ),
        (
            "c=xml",
            "invalid value `xml` for param `c`: expected one of `csv`, `json`",
        ),
        ("novalue", "invalid param `novalue`: expected NAME=VALUE"),
        ("s=a", ""),
    ];
    for (arg, message) in cases {
        let out = test.run(&["run", "types", "-p", arg]);
        if message.is_empty() {
            out.success();
        } else {
            out.code(2).stderr_has(message);
            assert_eq!(out.stdout, "", "nothing ran for {arg}");
        }
    }
    test.run(&["run", "types", "-p", "i=1", "-p", "i=2"])
        .code(2)
        .stderr_has("param `i` is given twice");
    // Only the one run with valid params was recorded.
    assert_eq!(test.history().len(), 1);
}

#[test]
fn unknown_param_gets_did_you_mean() {
    let test = Test::new().config(REQUIRED);
    test.run(&["run", "need", "-p", "cuont=1"])
        .code(2)
        .stderr_has("integration `need` has no param `cuont`")
        .stderr_has("hint: did you mean `count`?");
    test.run(&["run", "need", "-p", "zzz=1"])
        .code(2)
        .stderr_has("hint: its params are `count`");
}

#[test]
fn computed_defaults_use_today() {
    let test = Test::new().config(
        r#"
[integration.report]
params.from = { type = "date", default = "{{ today | start_of_month }}" }
params.to = { type = "date", default = "{{ today }}" }
params.last_month = { type = "date", default = "{{ today | start_of_month | add_months(-1) }}" }
[[integration.report.steps]]
command.argv = ["echo", "{{ params.from }} {{ params.to }} {{ params.last_month }}"]
"#,
    );
    let today = Local::now().date_naive();
    let first = today.with_day(1).unwrap();
    let expected = format!("{first} {today} {}\n", first - Months::new(1));
    test.run(&["run", "report"]).success().stdout_is(&expected);
    test.run(&["run", "report", "-p", "from=2026-10-01"])
        .success()
        .stdout_has("2026-10-01 ");
}

#[test]
fn a_computed_default_of_the_wrong_type_is_an_error() {
    let test = Test::new().config(
        r#"
[integration.bad]
params.n = { type = "integer", default = "{{ today }}" }
[[integration.bad.steps]]
command.argv = ["echo", "{{ params.n }}"]
"#,
    );
    test.run(&["run", "bad"])
        .code(2)
        .stderr_has("the default of param `n`")
        .stderr_has("expected an integer");
}

const REQUIRED: &str = r#"
[integration.need]
params.count = { type = "integer", help = "how many" }
[[integration.need.steps]]
command.argv = ["echo", "count={{ params.count }}"]
"#;

#[test]
fn a_missing_required_param_without_a_terminal_is_an_error() {
    let test = Test::new().config(REQUIRED);
    test.run(&["run", "need"])
        .code(2)
        .stderr_has("missing required param `count` (an integer)")
        .stderr_has("hint: pass it with `-p count=VALUE`");
    test.run(&["run", "need", "-p", "count=3"])
        .success()
        .stdout_is("count=3\n");
}

#[test]
fn a_missing_required_param_is_asked_for_on_a_terminal() {
    let test = Test::new().config(REQUIRED);
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let slave: OwnedFd = pty.slave;
    let mut child = test
        .command(&["run", "need"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let mut master = std::fs::File::from(pty.master);
    // The reader runs until the terminal closes (EIO once the child is gone).
    let mut reader = master.try_clone().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let _ = sender.send(String::from_utf8_lossy(&seen).into_owned());
        }
    });
    let wait_for = |needle: &str| -> String {
        loop {
            let text = receiver
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("never saw {needle:?}"));
            if text.contains(needle) {
                return text;
            }
        }
    };
    let prompt = "count (an integer) — how many: ";
    wait_for(prompt);
    // A wrong answer is refused, saying why, and asked again; a right one runs.
    master.write_all(b"many\n").unwrap();
    let why = "invalid value `many` for param `count`: expected an integer";
    let screen = loop {
        let screen = wait_for(why);
        if screen
            .split(why)
            .nth(1)
            .is_some_and(|after| after.contains(prompt))
        {
            break screen;
        }
    };
    assert_eq!(screen.matches(prompt).count(), 2, "{screen}");
    master.write_all(b"7\n").unwrap();
    let screen = wait_for("count=7");
    assert!(child.wait().unwrap().success(), "{screen}");
}

#[test]
fn a_datetime_default_can_be_computed_from_now() {
    let test = Test::new().config(
        r#"
[integration.since]
params.since = { type = "datetime", default = "{{ now | add_days(-1) }}" }
params.soon = { type = "datetime", default = "{{ now | add_hours(2) | add_minutes(-30) }}" }
params.day = { type = "date", default = "{{ now | format_date('%Y-%m-%d') }}" }
[[integration.since.steps]]
command.argv = ["echo", "{{ params.since }}|{{ params.soon }}|{{ params.day }}|{{ params.since | format_date('%H:%M') }}"]
"#,
    );
    let before = Local::now().fixed_offset();
    let out = test.run(&["run", "since"]);
    out.success();
    let after = Local::now().fixed_offset();
    let fields: Vec<&str> = out.stdout.trim_end().split('|').collect();
    let [since, soon, day, time] = fields[..] else {
        panic!("four fields: {}", out.stdout)
    };
    let since = chrono::DateTime::parse_from_rfc3339(since).expect("an RFC 3339 datetime");
    let soon = chrono::DateTime::parse_from_rfc3339(soon).expect("an RFC 3339 datetime");
    let day_before = chrono::TimeDelta::days(1);
    assert!(
        before - day_before <= since && since <= after - day_before,
        "{since}"
    );
    let ahead = chrono::TimeDelta::minutes(90);
    assert!(before + ahead <= soon && soon <= after + ahead, "{soon}");
    assert!(
        [before, after]
            .iter()
            .any(|at| at.format("%Y-%m-%d").to_string() == day),
        "{day}"
    );
    assert_eq!(time, since.format("%H:%M").to_string());
}

#[test]
fn a_date_filter_given_what_it_cannot_use_fails_the_run_saying_why() {
    let test = Test::new().config(
        r#"
[integration.bad]
params.at = { type = "datetime", default = "2026-11-28T10:00:00Z" }
[[integration.bad.steps]]
command.argv = ["echo", "{{ params.at | end_of_month }}"]
"#,
    );
    test.run(&["run", "bad"])
        .code(1)
        .stderr_has("`end_of_month` gives a date, and `2026-11-28T10:00:00+00:00` is a datetime");
    test.run(&["run", "bad", "-p", "at=2026-11-28 10:00"])
        .code(1)
        .stderr_has("`end_of_month` gives a date");
}
