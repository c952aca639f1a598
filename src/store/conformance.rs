//! What every store backend must do, as tests over the role interfaces only. A backend's test
//! module runs them all with `conformance::suite!(|dir| open(dir))`; a new backend (PostgreSQL)
//! must pass the same suite.

use chrono::{TimeZone as _, Utc};
use serde_json::json;

use crate::store::{
    DedupeKey, Enqueued, Event, NewRun, RunEnd, RunLookup, RunQuery, RunStatus, Store,
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
