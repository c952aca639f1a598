//! `integ list`: each integration with its params (computed defaults as they are today),
//! triggers and last run, and the state directory those runs are kept in.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Local, Utc};
use comfy_table::ColumnConstraint;
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, ListArgs};
use crate::commands::{
    human_duration, load_config, local_time, output_width, state_dir, table, table_text,
};
use crate::config::Config;
use crate::config::kinds::LinkAuth;
use crate::config::model::{Integration, Param, ParamDefault, ParamType, Schedule};
use crate::exit::ExitStatus;
use crate::json_time;
use crate::output::Printer;
use crate::params;
use crate::run_log::Redactor;
use crate::scope::DefaultScope;
use crate::secrets;
use crate::store::{self, RunRecord};
use crate::window::{Coverage, Window};

pub(crate) fn list(
    global: &GlobalArgs,
    args: &ListArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let config = load_config(global)?;
    let dir = state_dir(global)?;
    let store = store::open(&dir, store::Lifetime::Short)?;
    let last_runs = store.last_runs()?;
    let mut watermarks = BTreeMap::new();
    for integration in config.integrations.iter().filter(|i| i.schedule.is_some()) {
        watermarks.insert(
            integration.name.as_str(),
            store.watermark(&integration.name)?,
        );
    }
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let defaults = Defaults::new(&config, DefaultScope::at(Local::now(), &env).context());
    if args.json {
        let mut next_runs = NextRuns::new(&watermarks);
        let items: Vec<Value> = config
            .integrations
            .iter()
            .map(|integration| {
                to_json(
                    integration,
                    last_runs.get(&integration.name),
                    &mut next_runs,
                    &defaults,
                )
            })
            .collect();
        printer.data(&serde_json::to_string_pretty(&items)?);
        return Ok(ExitStatus::Success);
    }
    let mut rows = table(&["NAME", "DESCRIPTION", "PARAMS", "TRIGGERS", "LAST RUN"]);
    let mut next_runs = NextRuns::new(&watermarks);
    for integration in &config.integrations {
        let params: Vec<String> = integration
            .params
            .iter()
            .map(|param| {
                let default = match &param.default {
                    None => " (required)".to_owned(),
                    Some(ParamDefault::Value(value)) => format!(" = {}", plain(value)),
                    Some(ParamDefault::Template { source, .. }) => match defaults.of(param) {
                        Ok(value) => format!(" = {} ({source})", plain(&value)),
                        Err(err) => format!(" = {source} (error: {err})"),
                    },
                };
                format!("{}: {}{default}", param.name, type_name(&param.kind))
            })
            .collect();
        let last = last_runs.get(&integration.name).map(|run| {
            let duration = run.duration().map(|d| format!(" ({})", human_duration(d)));
            format!(
                "{} {}{}",
                run.status_text(),
                local_time(run.started_at),
                duration.unwrap_or_default()
            )
        });
        rows.add_row(vec![
            integration.name.clone(),
            integration.description.clone().unwrap_or_default(),
            params.join("\n"),
            triggers(integration, &mut next_runs).join("\n"),
            last.unwrap_or_else(|| "never".to_owned()),
        ]);
    }
    // Below 80 columns, descriptions would leave the other columns a word per line.
    if output_width().is_some_and(|width| width < 80)
        && let Some(description) = rows.column_mut(1)
    {
        description.set_constraint(ColumnConstraint::Hidden);
    }
    printer.data(&format!("{}\n\n{}", table_text(&rows), state_note(&dir)));
    Ok(ExitStatus::Success)
}

/// Where the runs above are kept, and where older ones may be: earlier versions kept every
/// file's state in one shared directory, which nothing reads by default now.
fn state_note(dir: &Path) -> String {
    let mut note = format!("state: {}", dir.display());
    if let Some(shared) = store::shared_state_dir().filter(|shared| shared != dir) {
        note.push_str(&format!(
            "\nnote: runs recorded before state was kept per file are in `{0}`; see them with `--state-dir {0}`",
            shared.display()
        ));
    }
    note
}

/// Computed defaults as a run started now would get them, with the file's secret values
/// hidden as a run's record hides them: a default may read the environment variable a secret
/// comes from. Files repeat a few defaults across many integrations (`{{ today |
/// start_of_month }}`), so each template is computed once per type; a param with constraints
/// is checked on its own.
struct Defaults<'a> {
    config: &'a Config,
    context: minijinja::Value,
    redactor: Redactor,
    known: RefCell<HashMap<DefaultKey<'a>, Result<Value, String>>>,
}

/// A default's template and its param's type.
type DefaultKey<'a> = (&'a str, &'static str);

impl<'a> Defaults<'a> {
    fn new(config: &'a Config, context: minijinja::Value) -> Self {
        let computed = config.integrations.iter().any(|integration| {
            integration
                .params
                .iter()
                .any(|param| matches!(param.default, Some(ParamDefault::Template { .. })))
        });
        // Every secret that can be read, none required: `list` runs nothing.
        let secrets = if computed {
            secrets::for_run(config, std::iter::empty()).unwrap_or_default()
        } else {
            BTreeMap::new()
        };
        Defaults {
            config,
            context,
            redactor: Redactor::new(secrets.values()),
            known: RefCell::new(HashMap::new()),
        }
    }

    fn of(&self, param: &'a Param) -> Result<Value, String> {
        let Some(ParamDefault::Template { source, text }) = &param.default else {
            return match &param.default {
                Some(ParamDefault::Value(value)) => Ok(value.clone()),
                _ => Err("no default".to_owned()),
            };
        };
        let compute = || {
            params::computed_default(param, source, text, &self.config.templates, &self.context)
                .map(|value| self.redactor.redact_json(&value))
                .map_err(|err| self.redactor.redact(&format!("{err:#}")))
        };
        if param.is_constrained() {
            return compute();
        }
        self.known
            .borrow_mut()
            .entry((source.as_str(), param.kind.name()))
            .or_insert_with(compute)
            .clone()
    }
}

fn triggers<'a>(integration: &'a Integration, next_runs: &mut NextRuns<'a>) -> Vec<String> {
    let mut triggers = vec!["manual".to_owned()];
    if let Some(schedule) = &integration.schedule {
        let state = next_runs.of(&integration.name, schedule);
        let zone = match schedule.timezone {
            Some(tz) => format!(" {}", tz.name()),
            None => String::new(),
        };
        let next = state
            .next_tick
            .map(|at| format!(" (next {})", schedule.local(at).format("%Y-%m-%d %H:%M")));
        triggers.push(format!(
            "schedule `{}`{zone}{}",
            schedule.expression,
            next.unwrap_or_default()
        ));
        let short = |at| schedule.local(at).format("%Y-%m-%d %H:%M").to_string();
        triggers.push(match state.watermark {
            Some(w) => format!("  covered until {}", short(w)),
            None => "  never covered yet".to_owned(),
        });
        if let Some(window) = state.next_window {
            triggers.push(format!(
                "  next covers {} .. {}",
                short(window.start),
                short(window.end)
            ));
        }
    }
    if let Some(hook) = &integration.webhook {
        triggers.push(format!("webhook POST /hooks/{}", hook.path));
    }
    if let Some(link) = &integration.link {
        triggers.push(format!(
            "link /run/{} ({})",
            integration.name,
            link_auth_name(&link.auth)
        ));
    }
    triggers
}

/// How a link proves it may run, in a word.
fn link_auth_name(auth: &LinkAuth) -> &'static str {
    match auth {
        LinkAuth::Signed { .. } => "signed",
        LinkAuth::Token { .. } => "token",
        LinkAuth::Basic { .. } => "basic",
        LinkAuth::None => "no auth",
    }
}

/// What `list` says of a schedule: its next tick, its watermark, and what its next run would
/// cover.
#[derive(Clone, Copy)]
struct ScheduleState {
    next_tick: Option<DateTime<Utc>>,
    watermark: Option<DateTime<Utc>>,
    next_window: Option<Window>,
}

/// The state of each schedule from one "now"; each distinct expression's next tick is computed
/// once (files share a few schedules among many integrations, and the search is not free).
struct NextRuns<'a> {
    now: DateTime<Utc>,
    watermarks: &'a BTreeMap<&'a str, Option<DateTime<Utc>>>,
    ticks: HashMap<(&'a str, String), Option<DateTime<Utc>>>,
}

impl<'a> NextRuns<'a> {
    fn new(watermarks: &'a BTreeMap<&'a str, Option<DateTime<Utc>>>) -> Self {
        NextRuns {
            now: Utc::now(),
            watermarks,
            ticks: HashMap::new(),
        }
    }

    fn of(&mut self, name: &str, schedule: &'a Schedule) -> ScheduleState {
        let now = self.now;
        let next_tick = *self
            .ticks
            .entry((schedule.expression.as_str(), schedule.zone_name()))
            .or_insert_with(|| schedule.next_tick(now));
        let watermark = self.watermarks.get(name).copied().flatten();
        // What the run at the next tick would cover, end to end.
        let next_window = next_tick.and_then(|at| match schedule.coverage(watermark, at) {
            Ok(Coverage::Windows { windows, skipped }) => Some(Window {
                start: skipped.map_or(windows.first()?.start, |s| s.end),
                end: windows.last()?.end,
            }),
            Ok(Coverage::TooMany { window, .. }) => Some(window),
            _ => None,
        });
        ScheduleState {
            next_tick,
            watermark,
            next_window,
        }
    }
}

fn type_name(kind: &ParamType) -> String {
    match kind {
        ParamType::Choice(values) => values.join("|"),
        other => other.name().to_owned(),
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn to_json<'a>(
    integration: &'a Integration,
    last_run: Option<&RunRecord>,
    next_runs: &mut NextRuns<'a>,
    defaults: &Defaults<'a>,
) -> Value {
    let params: Vec<Value> = integration
        .params
        .iter()
        .map(|param| {
            let mut item = json!({
                "name": param.name,
                "type": param.kind.name(),
                "required": param.is_required(),
                "help": param.help,
            });
            match &param.default {
                Some(ParamDefault::Value(value)) => item["default"] = value.clone(),
                Some(ParamDefault::Template { source, .. }) => {
                    // `default` is the value a run started now gets, as for a plain default.
                    match defaults.of(param) {
                        Ok(value) => item["default"] = value,
                        Err(err) => {
                            item["default"] = Value::Null;
                            item["default_error"] = json!(err);
                        }
                    }
                    item["default_template"] = json!(source);
                }
                None => {}
            }
            if let ParamType::Choice(values) = &param.kind {
                item["values"] = json!(values);
            }
            item
        })
        .collect();
    let schedule = integration.schedule.as_ref().map(|schedule| {
        let state = next_runs.of(&integration.name, schedule);
        json!({
            "cron": schedule.expression,
            "timezone": schedule.timezone.map(|tz| tz.name()),
            "catch_up": schedule.catch_up.as_str(),
            "next_run": state.next_tick.map(|t| json_time::format(&t)),
            "covered_until": state.watermark.map(|t| json_time::format(&t)),
            "next_window": state.next_window.map(|w| json!({
                "start": json_time::format(&w.start),
                "end": json_time::format(&w.end),
            })),
        })
    });
    json!({
        "name": integration.name,
        "description": integration.description,
        "params": params,
        "triggers": {
            "manual": true,
            "schedule": schedule,
            "webhook": integration.webhook.as_ref().map(|hook| json!({ "path": format!("/hooks/{}", hook.path) })),
            "link": integration.link.as_ref().map(|link| json!({
                "path": format!("/run/{}", integration.name),
                "auth": link_auth_name(&link.auth),
            })),
        },
        "overlap": integration.overlap.as_str(),
        "timeout_secs": integration.timeout.map(|t| t.as_secs_f64()),
        "last_run": last_run.map(|run| json!({
            "id": run.id,
            "status": run.status,
            "dry_run": run.dry_run,
            "started_at": json_time::format(&run.started_at),
            "ended_at": run.ended_at.map(|t| json_time::format(&t)),
            "duration_ms": run.duration().map(|d| d.num_milliseconds()),
        })),
    })
}
