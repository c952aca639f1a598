//! `integ retry`: queue failed webhook runs again.

use crate::cli::{GlobalArgs, RetryArgs};
use crate::commands::{load_config, open_store};
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::RunLookup;
use crate::usage::UsageError;

pub(crate) fn retry(
    global: &GlobalArgs,
    args: &RetryArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    if let Some(name) = &args.all_failed {
        // A mistyped name would queue nothing and say "0 runs": name it, with a suggestion.
        load_config(global)?.integration(name)?;
        let store = open_store(global)?;
        let count = store.requeue_failed(name)?;
        printer.status(&format!(
            "queued {count} failed run{} of `{name}` again",
            if count == 1 { "" } else { "s" }
        ));
        return Ok(ExitStatus::Success);
    }
    let store = open_store(global)?;
    let wanted = args.run_id.as_deref().unwrap_or_default();
    let run = match store.run(wanted)? {
        RunLookup::Found(run) => run,
        RunLookup::NotFound => {
            return Err(UsageError::new(format!("no run with id `{wanted}`")).into());
        }
        RunLookup::Ambiguous(ids) => {
            return Err(UsageError::new(format!(
                "`{wanted}` is the start of several run ids: {}",
                ids.join(", ")
            ))
            .into());
        }
    };
    if !store.requeue(&run.id)? {
        return Err(UsageError::new(format!(
            "run `{}` is a {} run that {}: only failed webhook runs are queued again",
            run.id,
            run.trigger,
            run.status.as_str()
        ))
        .with_hint(format!("run it again with `integ run {}`", run.integration))
        .into());
    }
    printer.status(&format!(
        "queued run {} of `{}` again",
        run.id, run.integration
    ));
    Ok(ExitStatus::Success)
}
