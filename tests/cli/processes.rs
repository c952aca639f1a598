//! What a command step's processes get and how they end: a minimal environment, a process
//! group that is stopped however its members behave, the run's lock held while any of them
//! lives (even after `integ` itself is SIGKILLed), and bounded output.

use crate::support::Test;

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
