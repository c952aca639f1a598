//! What every store backend must do, as tests over the role interfaces only. A backend's test
//! module runs them all with `conformance::suite!(|dir| open(dir))`; a new backend (PostgreSQL)
//! must pass the same suite.

use chrono::{TimeZone as _, Utc};
use serde_json::json;

use crate::store::{
    DedupeKey, Enqueued, Event, Keep, NewRun, Prune, PrunedCounts, RunEnd, RunLookup, RunQuery,
    RunStatus, Store,
};
use crate::trigger::{Request, Trigger};

/// One `#[test]` per behaviour below, for the backend that `$open` (a `|dir: &Path| -> impl
/// Store` closure) opens in a fresh directory.
macro_rules! suite {
    ($open:expr) => {
        crate::store::conformance::suite!(@tests $open;
            records_a_run_from_start_to_finish,
            a_run_whose_lease_is_gone_is_interrupted,
            run_slots_are_exclusive_until_dropped,
            watermarks_move_only_forward_and_only_with_a_success,
            ambiguous_prefixes_are_reported,
            queued_runs_are_claimed_once_deduplicated_and_recovered,
            claims_take_the_oldest_event_of_a_ready_integration_and_retries_when_due,
            a_dedupe_key_older_than_its_keep_time_lets_the_event_run_again,
            only_runs_from_the_queue_are_queued_again,
            a_dry_run_is_marked_and_never_moves_a_watermark,
            a_run_keeps_its_output_and_every_attempt_keeps_its_log,
            a_prune_removes_only_what_is_past_keeping,
            a_prune_stops_at_its_budget_and_a_lazy_one_is_claimed_once,
        );
    };
    (@tests $open:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let open = $open;
                let store = open(dir.path());
                crate::store::conformance::$name(&store);
            }
        )*
    };
}
pub(crate) use suite;

fn new_run(id: &str, integration: &str) -> NewRun {
    NewRun {
        id: id.into(),
        integration: integration.into(),
        trigger: "manual".into(),
        params: json!({"a": 1}),
        started_at: Utc::now(),
        dry_run: false,
        window: None,
    }
}

/// A run's end after it ran.
fn ended(
    status: RunStatus,
    error: Option<&str>,
    log: &str,
    advance_to: Option<chrono::DateTime<Utc>>,
) -> RunEnd {
    RunEnd {
        log: log.into(),
        ran_at: Some(Utc::now()),
        advance_to,
        ..RunEnd::without_run(status, error.map(str::to_owned))
    }
}

/// A failed attempt that goes back to the queue, to be tried again at `at`.
fn retried(at: chrono::DateTime<Utc>, error: &str, log: &str) -> RunEnd {
    RunEnd {
        retry_at: Some(at),
        ..ended(RunStatus::Queued, Some(error), log, None)
    }
}

fn webhook_event(id: &str, integration: &str, age_seconds: i64, key: Option<&str>) -> Event {
    let trigger = Trigger::Webhook(Request {
        body: json!({"id": id}),
        ..Request::default()
    });
    let mut run = new_run(id, integration);
    run.trigger = trigger.kind().into();
    run.started_at = Utc::now() - chrono::Duration::seconds(age_seconds);
    Event {
        run,
        trigger_data: trigger.data().to_string(),
        dedupe: key.map(|key| DedupeKey {
            key: key.into(),
            since: Utc::now() - chrono::Duration::days(1),
        }),
    }
}

/// Queues one webhook event.
pub(crate) fn enqueue_one(store: &dyn Store, id: &str, integration: &str) {
    store
        .enqueue_all(&[webhook_event(id, integration, 0, None)])
        .unwrap();
}

fn all_runs(store: &dyn Store) -> Vec<crate::store::RunRecord> {
    store
        .runs(&RunQuery {
            limit: 100,
            ..RunQuery::default()
        })
        .unwrap()
}

pub(crate) fn records_a_run_from_start_to_finish(store: &dyn Store) {
    let lease = store.begin_run(&new_run("0001-run", "sync")).unwrap();
    assert_eq!(
        all_runs(store)[0].status,
        RunStatus::Running,
        "a live run stays running"
    );
    store
        .finish_run(
            "0001-run",
            ended(RunStatus::Failed, Some("boom"), "the log", None),
        )
        .unwrap();
    drop(lease);
    let RunLookup::Found(run) = store.run("0001").unwrap() else {
        panic!("not found")
    };
    assert_eq!(
        (run.status, run.error.as_deref(), run.log.as_str()),
        (RunStatus::Failed, Some("boom"), "the log")
    );
    assert_eq!(run.params, json!({"a": 1}));
    let failed = store
        .runs(&RunQuery {
            failed_only: true,
            limit: 10,
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
}

pub(crate) fn a_run_whose_lease_is_gone_is_interrupted(store: &dyn Store) {
    drop(store.begin_run(&new_run("0002-run", "sync")).unwrap());
    let last = store.last_runs().unwrap();
    assert_eq!(last["sync"].status, RunStatus::Interrupted);
}

pub(crate) fn run_slots_are_exclusive_until_dropped(store: &dyn Store) {
    let held = store.lock("sync", 1, false).unwrap();
    assert!(held.is_some());
    assert!(store.lock("sync", 1, false).unwrap().is_none());
    assert!(store.lock("other", 1, false).unwrap().is_some());
    let second = store.lock("sync", 2, false).unwrap();
    assert!(second.is_some(), "a second slot of two");
    assert!(store.lock("sync", 2, false).unwrap().is_none());
    drop(held);
    assert!(store.lock("sync", 1, false).unwrap().is_some());
}

pub(crate) fn watermarks_move_only_forward_and_only_with_a_success(store: &dyn Store) {
    assert_eq!(store.watermark("sync").unwrap(), None);
    let first = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let second = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    let end = |id: &str, status: RunStatus, until| {
        drop(store.begin_run(&new_run(id, "sync")).unwrap());
        store
            .finish_run(id, ended(status, None, "", Some(until)))
            .unwrap();
    };
    end("w1", RunStatus::Failed, second);
    assert_eq!(
        store.watermark("sync").unwrap(),
        None,
        "a failure moves nothing"
    );
    end("w2", RunStatus::Succeeded, second);
    assert_eq!(store.watermark("sync").unwrap(), Some(second));
    end("w3", RunStatus::Succeeded, first);
    assert_eq!(store.watermark("sync").unwrap(), Some(second), "never back");
}

pub(crate) fn ambiguous_prefixes_are_reported(store: &dyn Store) {
    for id in ["abcd-1", "abcd-2"] {
        drop(store.begin_run(&new_run(id, "sync")).unwrap());
    }
    assert!(matches!(store.run("abcd").unwrap(), RunLookup::Ambiguous(ids) if ids.len() == 2));
    assert!(matches!(store.run("zzzz").unwrap(), RunLookup::NotFound));
}

pub(crate) fn queued_runs_are_claimed_once_deduplicated_and_recovered(store: &dyn Store) {
    let event = |id: &str, key: &str| webhook_event(id, "hook", 0, Some(key));
    assert_eq!(
        store.enqueue_all(&[event("0003-a", "evt-1")]).unwrap(),
        [Enqueued::New("0003-a".into())]
    );
    assert_eq!(
        store.enqueue_all(&[event("0003-b", "evt-1")]).unwrap(),
        [Enqueued::Duplicate("0003-a".into())]
    );
    // Within one batch too: the second of two events with one key is a duplicate.
    assert_eq!(
        store
            .enqueue_all(&[event("0003-c", "evt-2"), event("0003-d", "evt-2")])
            .unwrap(),
        [
            Enqueued::New("0003-c".into()),
            Enqueued::Duplicate("0003-c".into())
        ]
    );

    let claimed = store.claim(&|_| true).unwrap().expect("one queued run");
    assert_eq!(claimed.run.id, "0003-a");
    assert_eq!(
        claimed.trigger,
        Trigger::Webhook(Request {
            body: json!({"id": "0003-a"}),
            ..Request::default()
        })
    );
    let other = store.claim(&|_| true).unwrap().expect("the batch's run");
    assert_eq!(other.run.id, "0003-c");
    assert!(
        store.claim(&|_| true).unwrap().is_none(),
        "each claimed once"
    );
    // The worker dies: its lease goes, and the run is queued again.
    drop(claimed.lease);
    assert_eq!(store.recover().unwrap(), 1);
    assert_eq!(
        store
            .claim(&|_| true)
            .unwrap()
            .expect("queued again")
            .run
            .id,
        "0003-a"
    );
}

pub(crate) fn claims_take_the_oldest_event_of_a_ready_integration_and_retries_when_due(
    store: &dyn Store,
) {
    let events = [
        webhook_event("e1", "busy", 30, None),
        webhook_event("e2", "idle", 20, None),
        webhook_event("e3", "idle", 10, None),
    ];
    store.enqueue_all(&events).unwrap();
    assert_eq!(
        store.queued().unwrap(),
        std::collections::BTreeMap::from([("busy".to_owned(), 1), ("idle".to_owned(), 2)])
    );
    let not_busy = |name: &str| name != "busy";
    let claimed = store.claim(&not_busy).unwrap().expect("an idle event");
    assert_eq!(claimed.run.id, "e2", "the oldest of the ready ones");
    // A retry later is not due yet: the next one comes first, then nothing.
    let later = Utc::now() + chrono::Duration::hours(1);
    store
        .finish_run("e2", retried(later, "failed", ""))
        .unwrap();
    drop(claimed.lease);
    assert_eq!(store.claim(&not_busy).unwrap().expect("e3").run.id, "e3");
    assert!(store.claim(&not_busy).unwrap().is_none());
    assert_eq!(store.claim(&|_| true).unwrap().expect("e1").run.id, "e1");
}

pub(crate) fn a_dedupe_key_older_than_its_keep_time_lets_the_event_run_again(store: &dyn Store) {
    let event = |id: &str, age_hours: i64| {
        let mut event = webhook_event(id, "hook", age_hours * 3600, Some("evt-1"));
        // Kept for an hour.
        event.dedupe.as_mut().unwrap().since = Utc::now() - chrono::Duration::hours(1);
        event
    };
    assert_eq!(
        store.enqueue_all(&[event("old", 2)]).unwrap(),
        [Enqueued::New("old".into())]
    );
    assert_eq!(
        store.enqueue_all(&[event("new", 0)]).unwrap(),
        [Enqueued::New("new".into())],
        "two hours on, the key is free again"
    );
    assert_eq!(
        store.enqueue_all(&[event("again", 0)]).unwrap(),
        [Enqueued::Duplicate("new".into())]
    );
}

pub(crate) fn only_runs_from_the_queue_are_queued_again(store: &dyn Store) {
    drop(store.begin_run(&new_run("by-hand", "hook")).unwrap());
    store
        .finish_run("by-hand", ended(RunStatus::Failed, Some("x"), "", None))
        .unwrap();
    enqueue_one(store, "queued", "hook");
    let claimed = store.claim(&|_| true).unwrap().expect("queued");
    store
        .finish_run("queued", ended(RunStatus::Failed, Some("x"), "", None))
        .unwrap();
    drop(claimed.lease);
    assert!(!store.requeue("by-hand").unwrap());
    assert!(store.requeue("queued").unwrap());
    assert_eq!(store.queued().unwrap()["hook"], 1);
    // A queued run whose process died goes back; a run by hand is interrupted.
    let claimed = store.claim(&|_| true).unwrap().expect("queued again");
    drop(claimed.lease);
    drop(store.begin_run(&new_run("by-hand-2", "hook")).unwrap());
    assert_eq!(store.recover().unwrap(), 1);
    let RunLookup::Found(run) = store.run("by-hand-2").unwrap() else {
        panic!("kept")
    };
    assert_eq!(run.status, RunStatus::Interrupted);
}

pub(crate) fn a_dry_run_is_marked_and_never_moves_a_watermark(store: &dyn Store) {
    let until = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    let mut dry = new_run("d1", "sync");
    dry.dry_run = true;
    drop(store.begin_run(&dry).unwrap());
    store
        .finish_run("d1", ended(RunStatus::Succeeded, None, "", Some(until)))
        .unwrap();
    assert_eq!(store.watermark("sync").unwrap(), None);
    let runs = all_runs(store);
    assert!(runs[0].dry_run, "marked as a dry run");
    assert_eq!(runs[0].status_text(), "succeeded (dry run)");
    assert!(store.last_runs().unwrap()["sync"].dry_run);
}

pub(crate) fn a_run_keeps_its_output_and_every_attempt_keeps_its_log(store: &dyn Store) {
    enqueue_one(store, "q1", "hook");
    let first = store.claim(&|_| true).unwrap().expect("queued");
    store
        .finish_run("q1", retried(Utc::now(), "first failed", "log one\n"))
        .unwrap();
    drop(first.lease);
    let second = store.claim(&|_| true).unwrap().expect("back in the queue");
    assert_eq!(second.attempt, 2);
    let end = RunEnd {
        output: crate::store::RunOutput {
            text: "id,name\n".into(),
            cut: 5,
        },
        ..ended(RunStatus::Failed, Some("second failed"), "log two\n", None)
    };
    store.finish_run("q1", end).unwrap();
    drop(second.lease);
    let RunLookup::Found(run) = store.run("q1").unwrap() else {
        panic!("not found")
    };
    assert_eq!(
        (run.log.as_str(), run.output.text.as_str(), run.output.cut),
        ("log two\n", "id,name\n", 5)
    );
    assert!(run.ran_at.unwrap() >= run.started_at);
    let earlier = store.attempts("q1").unwrap();
    assert_eq!(earlier.len(), 1);
    assert_eq!(
        (
            earlier[0].number,
            earlier[0].error.as_deref(),
            earlier[0].log.as_str()
        ),
        (1, Some("first failed"), "log one\n")
    );
    // Queued again by hand (`integ retry`) after it failed for good: that attempt is kept too.
    assert!(store.requeue("q1").unwrap());
    let earlier = store.attempts("q1").unwrap();
    assert_eq!(
        earlier
            .iter()
            .map(|a| (a.number, a.log.as_str()))
            .collect::<Vec<_>>(),
        [(1, "log one\n"), (2, "log two\n")]
    );
}

fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

/// A run by hand of `integration` that started `days` ago and succeeded.
fn finished_run(store: &dyn Store, id: &str, integration: &str, days: i64) {
    let mut run = new_run(id, integration);
    run.started_at = days_ago(days);
    let lease = store.begin_run(&run).unwrap();
    store
        .finish_run(id, ended(RunStatus::Succeeded, None, "log", None))
        .unwrap();
    drop(lease);
}

/// A webhook event of `integration` accepted `days` ago, with `key`, that ran and succeeded.
fn finished_event(store: &dyn Store, id: &str, integration: &str, days: i64, key: Option<&str>) {
    store
        .enqueue_all(&[webhook_event(id, integration, days * 86_400, key)])
        .unwrap();
    let claimed = store
        .claim(&|name| name == integration)
        .unwrap()
        .expect("queued");
    store
        .finish_run(id, ended(RunStatus::Succeeded, None, "log", None))
        .unwrap();
    drop(claimed.lease);
}

fn ids(store: &dyn Store) -> Vec<String> {
    let mut ids: Vec<String> = all_runs(store).into_iter().map(|run| run.id).collect();
    ids.sort();
    ids
}

pub(crate) fn a_prune_removes_only_what_is_past_keeping(store: &dyn Store) {
    for (id, days) in [("sync-10", 10), ("sync-5", 5), ("sync-1", 1)] {
        finished_run(store, id, "sync", days);
    }
    // An integration's newest run stays, however old: `list` shows it.
    finished_run(store, "lone-100", "lone", 100);
    // A failed event that was tried twice: its first attempt goes with it.
    store
        .enqueue_all(&[webhook_event("tried-10", "hook", 10 * 86_400, None)])
        .unwrap();
    let first = store.claim(&|_| true).unwrap().unwrap();
    store
        .finish_run("tried-10", retried(Utc::now(), "first", "one"))
        .unwrap();
    drop(first.lease);
    let second = store.claim(&|_| true).unwrap().unwrap();
    store
        .finish_run("tried-10", ended(RunStatus::Failed, Some("x"), "two", None))
        .unwrap();
    drop(second.lease);
    finished_event(store, "keyed-10", "hook", 10, Some("k10"));
    // Past its retention, but its key is kept: a re-delivery must still be a duplicate.
    finished_event(store, "keyed-4", "hook", 4, Some("k4"));
    finished_event(store, "keyed-0", "hook", 0, Some("k0"));
    // Accepted long ago and never run (its integration is held back): never pruned.
    store
        .enqueue_all(&[webhook_event("waiting-10", "held", 10 * 86_400, None)])
        .unwrap();
    // Kept forever, its stale key freed.
    finished_event(store, "forever-10", "archive", 10, Some("f10"));
    finished_run(store, "forever-0", "archive", 0);
    // The file no longer has it: the rule for the others applies.
    finished_run(store, "gone-10", "gone", 10);
    finished_run(store, "gone-9", "gone", 9);

    let three_days = Keep {
        runs_since: Some(days_ago(3)),
        keys_since: Some(days_ago(3)),
    };
    let prune = |dry_run| Prune {
        integrations: [
            ("sync".to_owned(), three_days),
            ("lone".to_owned(), three_days),
            ("held".to_owned(), three_days),
            (
                "hook".to_owned(),
                Keep {
                    runs_since: Some(days_ago(3)),
                    keys_since: Some(days_ago(5)),
                },
            ),
            (
                "archive".to_owned(),
                Keep {
                    runs_since: None,
                    keys_since: Some(days_ago(5)),
                },
            ),
        ]
        .into(),
        others: three_days,
        dry_run,
        budget: None,
    };
    let before = ids(store);
    let counted = store.prune(&prune(true)).unwrap();
    assert_eq!(ids(store), before, "a dry run changes nothing");
    let pruned = store.prune(&prune(false)).unwrap();
    assert_eq!(pruned, counted, "a dry run counts what a prune does");
    let counts = |runs, keys| PrunedCounts { runs, keys };
    assert_eq!(
        pruned.integrations,
        [
            ("archive".to_owned(), counts(0, 1)),
            ("gone".to_owned(), counts(1, 0)),
            ("hook".to_owned(), counts(2, 0)),
            ("sync".to_owned(), counts(2, 0)),
        ]
        .into()
    );
    assert!(!pruned.more);
    assert_eq!(
        ids(store),
        [
            "forever-0",
            "forever-10",
            "gone-9",
            "keyed-0",
            "keyed-4",
            "lone-100",
            "sync-1",
            "waiting-10"
        ]
    );
    assert!(store.attempts("tried-10").unwrap().is_empty());
    // The kept keys still make re-deliveries duplicates; the freed one does not.
    let again = |id: &str, integration: &str, key: &str| {
        let mut event = webhook_event(id, integration, 0, Some(key));
        event.dedupe.as_mut().unwrap().since = days_ago(30);
        store.enqueue_all(&[event]).unwrap().remove(0)
    };
    assert_eq!(
        again("re-4", "hook", "k4"),
        Enqueued::Duplicate("keyed-4".into())
    );
    assert_eq!(
        again("re-f10", "archive", "f10"),
        Enqueued::New("re-f10".into())
    );
    assert_eq!(
        store.prune(&prune(false)).unwrap().integrations,
        Default::default(),
        "a second prune finds nothing"
    );
}

pub(crate) fn a_prune_stops_at_its_budget_and_a_lazy_one_is_claimed_once(store: &dyn Store) {
    for days in 1..=5 {
        finished_run(store, &format!("sync-{days}"), "sync", days);
    }
    let old = Keep {
        runs_since: Some(Utc::now()),
        keys_since: Some(Utc::now()),
    };
    let prune = Prune {
        integrations: Default::default(),
        others: old,
        dry_run: false,
        budget: Some(3),
    };
    let pruned = store.prune(&prune).unwrap();
    assert_eq!((pruned.total().runs, pruned.more), (3, true));
    let pruned = store.prune(&prune).unwrap();
    assert_eq!(
        (pruned.total().runs, pruned.more),
        (1, false),
        "the newest stays"
    );

    let hour = std::time::Duration::from_secs(3600);
    assert!(store.prune_due(hour).unwrap(), "never pruned: due");
    assert!(
        !store.prune_due(hour).unwrap(),
        "claimed: not due again within the hour"
    );
    store.prune_unfinished().unwrap();
    assert!(
        store.prune_due(hour).unwrap(),
        "an unfinished prune is due again at once"
    );
}
