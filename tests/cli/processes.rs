//! What a command step's processes get and how they end: a minimal environment, a process
//! group that is stopped however its members behave, the run's lock held while any of them
//! lives (even after `integ` itself is SIGKILLed), and bounded output.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgid};

use crate::support::{Test, process_is_gone, wait_until_gone};

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
