//! What a command step's processes get and how they end: a minimal environment, a process
//! group that is stopped however its members behave, the run's lock held while any of them
//! lives (even after `integ` itself is SIGKILLed), and bounded output.

use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgid};

use crate::support::{Output, Test, finish, process_is_gone, wait_until_gone};

/// Waits for a spawned `integ`, failing the test if it has not ended within 20 s (far more
/// than any of these runs needs; without the fixes they guard, they would hang for minutes).
fn finish_within_20s(mut child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("integ is still running after 20 s:\n{:?}", finish(child));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    finish(child)
}

fn pid(test: &Test, file: &str) -> i32 {
    test.read(file).trim().parse().unwrap()
}

/// Kills, when the test ends however it ends, the process group of the process whose pid a
/// step wrote to `file`: a failed test leaves no `sleep 300` behind.
struct KillGroupOf<'t>(&'t Test, &'static str);

impl Drop for KillGroupOf<'_> {
    fn drop(&mut self) {
        // The test's directory holds the state directory and what steps write.
        let dir = self.0.state_dir().parent().unwrap().to_owned();
        let Ok(text) = std::fs::read_to_string(dir.join(self.1)) else {
            return;
        };
        if let Ok(pid) = text.trim().parse()
            && let Ok(group) = getpgid(Some(Pid::from_raw(pid)))
        {
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

#[test]
fn commands_get_a_minimal_environment_unless_they_inherit_it() {
    let test = Test::new()
        .env("API_KEY", "s3cret-of-another-integration")
        .env("TZ", "Europe/Prague")
        .env("LC_TIME", "C")
        .env("GREETING", "hello")
        .config(
            r#"
[integration.env]
params.who = { type = "string", default = "Ada" }
[[integration.env.steps]]
command.argv = ["env"]
[[integration.env.steps]]
command.shell = 'echo "key=[$API_KEY] who=[$PARAM_WHO] own=[$OWN]"'
command.env = { OWN = "{{ env.GREETING }}" }
[[integration.env.steps]]
command = { shell = 'echo "inherited key=[$API_KEY]"', inherit_env = true }
"#,
        );
    let out = test.run(&["run", "env"]);
    out.success();
    let mut lines = out.stdout.lines();
    let names: Vec<&str> = lines
        .by_ref()
        .take_while(|line| !line.starts_with("key="))
        .map(|line| line.split('=').next().unwrap())
        .collect();
    // What the test gives integ besides these (its state dir, XDG dirs, NO_COLOR, API_KEY,
    // GREETING) stays with integ.
    assert_eq!(names, ["HOME", "LC_TIME", "PATH", "TZ"], "{}", out.stdout);
    out.stdout_has("key=[] who=[Ada] own=[hello]\n")
        .stdout_has("inherited key=[s3cret-of-another-integration]\n");
}

#[test]
fn a_timeout_kills_a_group_that_ignores_sigterm() {
    let test = Test::new().config(
        r#"
[integration.stubborn]
[[integration.stubborn.steps]]
command = { shell = '(trap "" TERM; exec sleep 300) & echo $! > grandchild.pid; wait', timeout = "1s" }
"#,
    );
    let _cleanup = KillGroupOf(&test, "grandchild.pid");
    let out = finish_within_20s(test.spawn(&["run", "stubborn"]));
    out.code(1).stderr_has("step 1 failed: timed out after 1s");
    let grandchild = pid(&test, "grandchild.pid");
    assert!(
        wait_until_gone(grandchild),
        "the grandchild {grandchild} that ignores SIGTERM survived the timeout"
    );
}

#[test]
fn what_the_main_process_leaves_behind_is_stopped_with_it() {
    // A background child that ignores SIGTERM, with its stdout kept open (the step would wait
    // for the pipe) or closed (it would outlive the step).
    for redirect in ["", ">/dev/null 2>&1"] {
        let test = Test::new().config(&format!(
            r#"
[integration.left]
[[integration.left.steps]]
command.shell = '(trap "" TERM; exec sleep 300 {redirect}) & echo $! > grandchild.pid; echo main done'
"#
        ));
        let _cleanup = KillGroupOf(&test, "grandchild.pid");
        let out = finish_within_20s(test.spawn(&["run", "left"]));
        out.success().stdout_is("main done\n");
        let grandchild = pid(&test, "grandchild.pid");
        assert!(
            wait_until_gone(grandchild),
            "the background child {grandchild} outlived its step (redirect {redirect:?})"
        );
    }
}

#[test]
fn a_process_that_left_the_group_does_not_hold_the_step_by_its_pipes() {
    let test = Test::new().config(
        r#"
[integration.escape]
[[integration.escape.steps]]
command.shell = 'setsid sh -c "echo \$\$ > escaped.pid; exec sleep 300" & while [ ! -s escaped.pid ]; do sleep 0.01; done; echo started'
"#,
    );
    // Out of the group, nothing kills it but the test.
    let _cleanup = KillGroupOf(&test, "escaped.pid");
    finish_within_20s(test.spawn(&["run", "escape"]))
        .success()
        .stdout_is("started\n");
}

#[test]
fn after_integ_is_killed_its_step_processes_keep_the_run_going_until_they_end() {
    let test = Test::new().config(
        r#"
[integration.single]
params.seconds = { type = "string", default = "300" }
[[integration.single.steps]]
command.shell = 'sleep "$PARAM_SECONDS" & echo $! > orphan.pid; echo $$ > main.pid; wait'
"#,
    );
    let _cleanup = KillGroupOf(&test, "orphan.pid");
    let mut first = test.spawn(&["run", "single"]);
    test.wait_for_file("main.pid");
    let first_id = test.history()[0]["id"].as_str().unwrap().to_owned();
    first.kill().unwrap();
    first.wait().unwrap();
    let orphan = pid(&test, "orphan.pid");
    assert!(
        !process_is_gone(orphan),
        "the orphan is expected to outlive integ"
    );

    // The orphan holds the run's slot: the next run is skipped, not started beside it.
    test.run(&["run", "single", "-p", "seconds=0"])
        .code(75)
        .stderr_has(&format!(
            "skipped: `single` is already running (run {first_id})"
        ));
    let history = test.history();
    assert_eq!(
        (history[1]["id"].as_str(), history[1]["status"].as_str()),
        (Some(first_id.as_str()), Some("running")),
        "the first run goes on while its processes live"
    );

    // Once they are gone, the first run is seen as interrupted and the next one runs.
    let main = pid(&test, "main.pid");
    killpg(Pid::from_raw(main), Signal::SIGKILL).unwrap();
    assert!(wait_until_gone(orphan) && wait_until_gone(main));
    test.run(&["run", "single", "-p", "seconds=0"]).success();
    let statuses: Vec<_> = test
        .history()
        .iter()
        .map(|run| run["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["succeeded", "skipped", "interrupted"]);
}

#[test]
fn output_of_any_size_keeps_memory_and_the_log_bounded() {
    let test = Test::new().config(
        r#"
[integration.flood]
[[integration.flood.steps]]
id = "text"
command.shell = 'head -c 200000000 /dev/zero | tr "\0" a; printf "\nlast line\n"'
[[integration.flood.steps]]
command = { argv = ["wc", "-c"], stdin = "{{ steps.text.stdout }}" }

[integration.json]
[[integration.json.steps]]
id = "data"
command = { shell = 'printf "\""; head -c 20000000 /dev/zero | tr "\0" a; printf "\""', stdout = "json" }
"#,
    );
    let out = test.run(&["run", "flood", "-q"]);
    out.success();
    let run = &test.history()[0];
    let log = test.run(&["logs", run["id"].as_str().unwrap()]);
    log.success()
        .stdout_has("… [cut in the log: the line has 190.7 MiB]")
        .stdout_has("step `text` | last line\n")
        .stdout_has("stdout has 190.7 MiB: later steps see its first 1 MiB")
        .stdout_has(&format!("| {}\n", 1 << 20));
    // The line is logged up to its first 64 KiB; the whole log stays within 4 MiB.
    assert!(log.stdout.len() < 4 << 20, "{} bytes", log.stdout.len());

    test.run(&["run", "json"]).code(1).stderr_has(
        "printed 19.1 MiB on stdout, more than the 16 MiB that `stdout = \"json\"` reads",
    );
}
