//! `integ serve-hook`: load the file, read every secret, open the store for durable writes, and
//! hand over to the listener.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cli::{GlobalArgs, ServeHookArgs};
use crate::commands::load_config;
use crate::exit::ExitStatus;
use crate::listener::{self, CannotListen, Settings};
use crate::loaded::Loaded;
use crate::output::Printer;
use crate::store;
use crate::usage::UsageError;

pub(crate) fn serve_hook(
    global: &GlobalArgs,
    args: &ServeHookArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let config = load_config(global)?;
    if !config
        .integrations
        .iter()
        .any(|i| i.webhook.is_some() || i.link.is_some())
    {
        return Err(UsageError::new(
            "no integration has a `webhook` or a `link`: there is nothing to serve",
        )
        .with_hint(
            "add `[integration.NAME.webhook]` with a `path` and an `auth`, or `[integration.NAME.link]` with an `auth`"
                .to_owned(),
        )
        .into());
    }
    // Every secret up front: a listener that starts must be able to check every sender and
    // run every integration.
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let loaded = Loaded::new(config, Arc::new(env))?;
    let dir = crate::commands::state_dir(global)?;
    if let Some(warning) = crate::commands::events_left_behind(&dir) {
        printer.warning(&warning);
    }
    // Queued events are always synced fully (see `Queue::enqueue_all`); claims and results
    // may be redone after a power cut, so they need not wait for the disk.
    let store = store::open(&dir, store::Lifetime::Long)?;
    let settings = Settings {
        listen: args.listen,
        workers: args.workers,
        max_body: args.max_body,
        max_connections: args.max_connections,
        read_timeout: args.read_timeout,
        grace: args.grace,
    };
    // Store calls run on the blocking pool and take turns on one connection: a few threads
    // serve any load, and the thread count stays flat however many runs are going.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(8)
        .enable_all()
        .build()?;
    match runtime.block_on(listener::serve(loaded, Arc::from(store), settings, printer)) {
        Ok(()) => Ok(ExitStatus::Success),
        // Its own exit code: a supervisor can tell "the port is taken" from a bad file.
        Err(err) if err.is::<CannotListen>() => {
            printer.error(
                &format!("{err:#}"),
                Some("is another listener running there? choose another address with `--listen`"),
            );
            Ok(ExitStatus::Unavailable)
        }
        Err(err) => Err(err),
    }
}
