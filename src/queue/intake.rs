//! Events on their way into the store: all the events that arrive during one commit go into
//! the next (group commit). One sync to disk serves many requests, and each still gets its
//! answer only once its event is on disk.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::lifecycle::in_store;
use crate::store::{Enqueued, Event, Store};

/// The most events one commit takes.
pub(super) const MAX_BATCH: usize = 512;

/// An event to store, and where to say how it went.
pub(super) type Ticket = (Event, oneshot::Sender<Result<Enqueued, String>>);

pub(super) async fn intake(store: Arc<dyn Store>, mut tickets: mpsc::Receiver<Ticket>) {
    while let Some(first) = tickets.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match tickets.try_recv() {
                Ok(ticket) => batch.push(ticket),
                Err(_) => break,
            }
        }
        let (events, replies): (Vec<Event>, Vec<_>) = batch.into_iter().unzip();
        match in_store(&store, move |store| store.enqueue_all(&events)).await {
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
