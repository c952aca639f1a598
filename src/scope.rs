//! What templates may read at each place of the file, declared once. `integ check` checks names
//! against these lists, and the runtime builds its template contexts from these structs; the
//! tests below hold each list to its struct, so the two cannot drift.

use std::collections::BTreeMap;

use chrono::{DateTime, Local};
use serde::Serialize;
use serde_json::Value;

use crate::template::context;

/// A step's names (besides `item`/`index` in a `for_each`, and `body`/`headers`/`status` in
/// response templates). `steps` is added step by step: the results so far.
pub(crate) const RUN_ROOTS: &[&str] = &[
    "params", "env", "secrets", "steps", "run", "trigger", "window", "today", "now",
];
/// The members of `run`.
pub(crate) const RUN_FIELDS: &[&str] = &["id", "started_at", "trigger"];
/// The members of `window`, which only an integration with a `schedule` has.
pub(crate) const WINDOW_FIELDS: &[&str] = &["start", "end"];
/// The members of `run` in an `on_failure` step: the failed run's, with how it failed.
pub(crate) const FAILED_RUN_FIELDS: &[&str] = &["id", "started_at", "trigger", "error", "log_tail"];
/// A param's computed default.
pub(crate) const DEFAULT_ROOTS: &[&str] = &["today", "now", "env"];
/// A webhook's `params`, `dedupe` and `when`: the request, before any run exists.
pub(crate) const HOOK_ROOTS: &[&str] = &["trigger", "env", "secrets", "today", "now"];
/// Where a listener's credentials are rendered (a hook's `auth`).
pub(crate) const SECRET_ROOTS: &[&str] = &["secrets", "env"];

/// What a run's steps read, but `steps`; `R` is what `run` holds ([`RunFields`], or
/// [`FailedRunFields`] in `on_failure` steps).
#[derive(Serialize)]
pub(crate) struct RunScope<'a, R = RunFields<'a>> {
    pub(crate) params: &'a BTreeMap<String, Value>,
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) secrets: &'a BTreeMap<String, String>,
    pub(crate) run: R,
    pub(crate) trigger: Value,
    /// `None` (null) for a run of an integration without a schedule, which `check` keeps from
    /// reading it.
    pub(crate) window: Option<WindowFields>,
    pub(crate) today: String,
    pub(crate) now: String,
}

#[derive(Serialize)]
pub(crate) struct RunFields<'a> {
    pub(crate) id: &'a str,
    pub(crate) started_at: String,
    pub(crate) trigger: &'static str,
}

/// The period a run covers, `[start, end)`, RFC 3339 with the schedule's zone offset.
#[derive(Serialize)]
pub(crate) struct WindowFields {
    pub(crate) start: String,
    pub(crate) end: String,
}

/// `run` in an `on_failure` step.
#[derive(Serialize)]
pub(crate) struct FailedRunFields<'a> {
    pub(crate) id: &'a str,
    pub(crate) started_at: String,
    pub(crate) trigger: &'static str,
    /// The run's error, redacted.
    pub(crate) error: &'a str,
    /// The end of the run's log (redacted), as the failure ping sends it.
    pub(crate) log_tail: &'a str,
}

/// What a computed default reads.
#[derive(Serialize)]
pub(crate) struct DefaultScope<'a> {
    pub(crate) today: String,
    pub(crate) now: String,
    pub(crate) env: &'a BTreeMap<String, String>,
}

impl<'a> DefaultScope<'a> {
    pub(crate) fn at(now: DateTime<Local>, env: &'a BTreeMap<String, String>) -> Self {
        DefaultScope {
            today: today(now),
            now: self::now(now),
            env,
        }
    }

    pub(crate) fn context(&self) -> minijinja::Value {
        context(self)
    }
}

/// What a webhook's mapping reads. `env` and `secrets` come as template values converted once
/// per load (see `Loaded`): a request pays only for its own part.
#[derive(Serialize)]
pub(crate) struct HookScope<'a> {
    pub(crate) trigger: Value,
    pub(crate) env: &'a minijinja::Value,
    pub(crate) secrets: &'a minijinja::Value,
    pub(crate) today: String,
    pub(crate) now: String,
}

/// What a hook's `auth` reads.
#[derive(Serialize)]
pub(crate) struct SecretScope<'a> {
    pub(crate) secrets: &'a minijinja::Value,
    pub(crate) env: &'a minijinja::Value,
}

/// `today` as templates see it.
pub(crate) fn today(now: DateTime<Local>) -> String {
    now.format("%Y-%m-%d").to_string()
}

/// `now` as templates read it: RFC 3339 to the millisecond, in local time (with its offset), so
/// that date filters and `format_date` work in the machine's day.
pub(crate) fn now(now: DateTime<Local>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Local;
    use serde::Serialize;
    use serde_json::{Value, json};

    use super::{
        DEFAULT_ROOTS, DefaultScope, FAILED_RUN_FIELDS, FailedRunFields, HOOK_ROOTS, HookScope,
        RUN_FIELDS, RUN_ROOTS, RunFields, RunScope, SECRET_ROOTS, SecretScope, WINDOW_FIELDS,
        WindowFields,
    };

    fn keys(value: &impl Serialize) -> Vec<String> {
        let Value::Object(map) = serde_json::to_value(value).unwrap() else {
            panic!("a scope is a map")
        };
        let mut keys: Vec<String> = map.keys().cloned().collect();
        keys.sort();
        keys
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn each_door_gives_trigger_exactly_the_fields_check_allows() {
        use crate::trigger::{MANUAL_FIELDS, Request, Trigger, WEBHOOK_FIELDS};

        assert_eq!(keys(&Trigger::Manual.scope()), sorted(MANUAL_FIELDS));
        assert_eq!(keys(&Trigger::Schedule.scope()), sorted(MANUAL_FIELDS));
        let webhook = Trigger::Webhook(Request::default());
        assert_eq!(keys(&webhook.scope()), sorted(WEBHOOK_FIELDS));
        let link = Trigger::Link(crate::trigger::LinkRequest::default());
        assert_eq!(keys(&link.scope()), sorted(crate::trigger::LINK_FIELDS));
    }

    #[test]
    fn each_scope_gives_exactly_the_names_check_allows() {
        let map = BTreeMap::new();
        let params = BTreeMap::new();
        let now = Local::now();
        let run = RunScope {
            params: &params,
            env: &map,
            secrets: &map,
            run: RunFields {
                id: "r",
                started_at: now.to_rfc3339(),
                trigger: "manual",
            },
            trigger: json!({}),
            window: Some(WindowFields {
                start: now.to_rfc3339(),
                end: now.to_rfc3339(),
            }),
            today: super::today(now),
            now: now.to_rfc3339(),
        };
        let mut run_keys = keys(&run);
        // The engine adds `steps` at each step.
        run_keys.push("steps".to_owned());
        run_keys.sort();
        assert_eq!(run_keys, sorted(RUN_ROOTS));
        assert_eq!(keys(&run.run), sorted(RUN_FIELDS));
        assert_eq!(keys(&run.window), sorted(WINDOW_FIELDS));
        let failed = FailedRunFields {
            id: "r",
            started_at: now.to_rfc3339(),
            trigger: "manual",
            error: "step 1 failed",
            log_tail: "",
        };
        assert_eq!(keys(&failed), sorted(FAILED_RUN_FIELDS));
        assert!(
            RUN_FIELDS
                .iter()
                .all(|field| FAILED_RUN_FIELDS.contains(field)),
            "an `on_failure` step reads all a step reads of `run`"
        );
        assert_eq!(keys(&DefaultScope::at(now, &map)), sorted(DEFAULT_ROOTS));
        let converted = crate::template::context(&map);
        let hook = HookScope {
            trigger: json!({}),
            env: &converted,
            secrets: &converted,
            today: String::new(),
            now: String::new(),
        };
        assert_eq!(keys(&hook), sorted(HOOK_ROOTS));
        let secrets = SecretScope {
            secrets: &converted,
            env: &converted,
        };
        assert_eq!(keys(&secrets), sorted(SECRET_ROOTS));
    }
}
