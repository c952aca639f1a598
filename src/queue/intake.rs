//! Events on their way into the store: all the events that arrive during one commit go into
//! the next (group commit). One sync to disk serves many requests, and each still gets its
//! answer only once its event is on disk. The commits run on a thread of their own, which goes
//! from one commit straight to the next: a commit never waits for a runtime thread to come
//! round and pick up its batch.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{Enqueued, Event, Store};

/// The most events one commit takes.
pub(super) const MAX_BATCH: usize = 512;

/// An event to store, and where to say how it went.
pub(super) type Ticket = (Event, oneshot::Sender<Result<Enqueued, String>>);

/// Starts the intake's thread; it ends when every sender of `tickets` is gone.
pub(super) fn start(store: Arc<dyn Store>, tickets: mpsc::Receiver<Ticket>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("integ-intake".into())
        .spawn(move || intake(store.as_ref(), tickets))?;
    Ok(())
}

fn intake(store: &dyn Store, mut tickets: mpsc::Receiver<Ticket>) {
    while let Some(first) = tickets.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match tickets.try_recv() {
                Ok(ticket) => batch.push(ticket),
                Err(_) => break,
            }
        }
        let (events, replies): (Vec<Event>, Vec<_>) = batch.into_iter().unzip();
        match store.enqueue_all(&events) {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(error) => {
                let error = format!("{error:#}");
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}
