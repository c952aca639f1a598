//! `integ prune`: delete the runs past their retention and free the dedupe keys past
//! `dedupe_for`, at once (see `retention` for the rules and the lazy prunes).

use chrono::Utc;

use crate::cli::{GlobalArgs, PruneArgs};
use crate::commands::{load_config, open_store, table, table_text};
use crate::config::model::Retention;
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::retention;

pub(crate) fn prune(
    global: &GlobalArgs,
    args: &PruneArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let config = load_config(global)?;
    let store = open_store(global)?;
    let prune = retention::prune(&config, Utc::now(), args.older_than, args.dry_run, None);
    let pruned = store.prune(&prune)?;
    let total = pruned.total();
    if args.json {
        let integrations: serde_json::Map<String, serde_json::Value> = pruned
            .integrations
            .iter()
            .map(|(name, counts)| {
                let counts = serde_json::json!({"runs": counts.runs, "keys": counts.keys});
                (name.clone(), counts)
            })
            .collect();
        printer.data(&serde_json::to_string_pretty(&serde_json::json!({
            "dry_run": args.dry_run,
            "runs": total.runs,
            "keys": total.keys,
            "integrations": integrations,
        }))?);
        return Ok(ExitStatus::Success);
    }
    if pruned.integrations.is_empty() {
        printer.status("nothing to prune: every run is within its retention");
        return Ok(ExitStatus::Success);
    }
    let (runs, keys) = (plural(total.runs, "run"), plural(total.keys, "dedupe key"));
    printer.status(&match args.dry_run {
        true => format!("would delete {runs} and free {keys} (a dry run: nothing changed)"),
        false => format!("deleted {runs} and freed {keys}"),
    });
    let mut rows = table(&["INTEGRATION", "RETENTION", "RUNS", "KEYS"]);
    for (name, counts) in &pruned.integrations {
        let kept = match config.integration(name) {
            Ok(integration) => shown(args, integration.retention),
            Err(_) => format!("{} (not in the file)", shown(args, config.retention)),
        };
        rows.add_row(vec![
            name.clone(),
            kept,
            counts.runs.to_string(),
            counts.keys.to_string(),
        ]);
    }
    printer.data(&table_text(&rows));
    Ok(ExitStatus::Success)
}

/// The retention a prune applied: `--older-than`'s, else the integration's own.
fn shown(args: &PruneArgs, retention: Retention) -> String {
    args.older_than
        .map(Retention::For)
        .unwrap_or(retention)
        .to_string()
}

fn plural(count: u64, what: &str) -> String {
    match count {
        1 => format!("1 {what}"),
        _ => format!("{count} {what}s"),
    }
}
