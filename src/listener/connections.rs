//! The listener's HTTP connections, bounded: at most `--max-connections` at once (more wait in
//! the kernel's backlog until one closes), and a sender that does not finish its request
//! headers within `--read-timeout` is cut off. Nothing a sender does holds unbounded memory,
//! file descriptors or tasks.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    /// For the request head; the body has the same time, counted by the router's timeout.
    pub(crate) header_timeout: Duration,
    /// How long open connections get to finish their requests at shutdown.
    pub(crate) grace: Duration,
}

/// Serves `app` on `socket` until `shutdown` completes, then lets open requests finish.
pub(crate) async fn serve(
    socket: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_full = false;
    loop {
        // A free place first, then the next connection: at the cap, new ones queue in the
        // backlog rather than being accepted and starved.
        let place = match Arc::clone(&open).try_acquire_owned() {
            Ok(place) => place,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(
                        "{} connections open (--max-connections): new ones wait",
                        limits.max_connections
                    );
                    warned_full = true;
                }
                tokio::select! {
                    place = Arc::clone(&open).acquire_owned() => place.expect("never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, most likely: wait for some to close.
                    tracing::error!("failed to accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if open.available_permits() > 0 {
            warned_full = false;
        }
        let _ = stream.set_nodelay(true);
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            // A sender may close its side once its request is sent (`curl` with `--no-keepalive`
            // and shell scripts with `nc -N` do): it still gets its answer.
            .half_close(true)
            .serve_connection(
                TokioIo::new(stream),
                // Who sent a request, for the doors that record it (a link's run).
                TowerToHyperService::new(
                    app.clone()
                        .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
                ),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A failed connection (reset, timed out) concerns that sender alone.
            if let Err(err) = connection.await {
                tracing::debug!("connection closed: {err}");
            }
            drop(place);
        });
    }
    drop(socket);
    if tokio::time::timeout(limits.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open at shutdown were closed");
    }
}
