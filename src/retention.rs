//! History retention: how long runs are kept (`retention`), what a prune removes, and when a
//! lazy prune is due. `integ prune` prunes at once; `integ run` and the listener prune lazily,
//! after a run has ended and apart from accepting events, so neither waits for it.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::model::{Config, Integration, Retention};
use crate::store::{History, Keep, Prune, Pruned};

/// How many runs and keys a lazy prune by a short command (`integ run`) removes at most: a
/// few milliseconds. What is left waits for the next one.
pub(crate) const RUN_BUDGET: u64 = 2_000;

/// How many the listener removes in one step on its blocking pool; it takes the next step
/// at once, and a shutdown waits for one at most.
pub(crate) const LISTENER_STEP: u64 = 10_000;

/// What a prune of the store removes: each integration's runs older than its retention (or
/// than `older_than`, for all), and the dedupe keys older than its webhook's `dedupe_for`.
/// A run whose dedupe key is still kept stays with it, whatever it is told: a re-delivered
/// event must never run twice because its first run was pruned.
pub(crate) fn prune(
    config: &Config,
    now: DateTime<Utc>,
    older_than: Option<Duration>,
    dry_run: bool,
    budget: Option<u64>,
) -> Prune {
    let since = |retention: Retention| match older_than.map(Retention::For).unwrap_or(retention) {
        Retention::For(keep) => Some(before(now, keep)),
        Retention::Forever => None,
    };
    let integrations: BTreeMap<String, Keep> = config
        .integrations
        .iter()
        .map(|integration| {
            let runs_since = since(integration.retention);
            let keys_since = match dedupe_for(integration) {
                Some(keep) => Some(before(now, keep)),
                // No key to keep: any key its runs have is from an earlier version of the file.
                None => runs_since,
            };
            let keep = Keep {
                runs_since,
                keys_since,
            };
            (integration.name.clone(), keep)
        })
        .collect();
    let runs_since = since(config.retention);
    Prune {
        integrations,
        // Integrations the file no longer has: their webhook (and its keys) went with them.
        others: Keep {
            runs_since,
            keys_since: runs_since,
        },
        dry_run,
        budget,
    }
}

/// How often a lazy prune is due: a quarter of the shortest retention, so the history never
/// holds much more than it keeps, between 10 seconds and an hour.
pub(crate) fn every(config: &Config) -> Duration {
    let retentions = config
        .integrations
        .iter()
        .map(|integration| integration.retention)
        .chain([config.retention]);
    let shortest = retentions
        .filter_map(|retention| match retention {
            Retention::For(keep) => Some(keep),
            Retention::Forever => None,
        })
        .chain(config.integrations.iter().filter_map(dedupe_for))
        .min()
        .unwrap_or(Duration::MAX);
    (shortest / 4).clamp(Duration::from_secs(10), Duration::from_secs(3600))
}

/// Prunes when a prune is due (none started in the last [`every`], by any process that shares
/// the store), up to `budget`; `None` when none was due. One that stops at its budget leaves
/// the next due at once.
pub(crate) fn prune_if_due(
    store: &dyn History,
    config: &Config,
    budget: Option<u64>,
) -> anyhow::Result<Option<Pruned>> {
    if !store.prune_due(every(config))? {
        return Ok(None);
    }
    let pruned = store.prune(&prune(config, Utc::now(), None, false, budget))?;
    if pruned.more {
        store.prune_unfinished()?;
    }
    let total = pruned.total();
    if total.runs > 0 || total.keys > 0 {
        tracing::info!(
            "pruned the history: {} runs past their retention deleted, {} dedupe keys past `dedupe_for` freed",
            total.runs,
            total.keys
        );
    }
    Ok(Some(pruned))
}

fn dedupe_for(integration: &Integration) -> Option<Duration> {
    let hook = integration.webhook.as_ref()?;
    hook.dedupe.as_ref().map(|_| hook.dedupe_for)
}

fn before(now: DateTime<Utc>, keep: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(keep)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
