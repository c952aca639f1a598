//! `integ logs RUN_ID`: one run's log on stdout.

use crate::cli::{GlobalArgs, LogsArgs};
use crate::commands::open_store;
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::{RunLookup, RunStatus};
use crate::usage::UsageError;

pub(crate) fn logs(
    global: &GlobalArgs,
    args: &LogsArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let store = open_store(global)?;
    match store.run(&args.run_id)? {
        RunLookup::Found(run) => {
            if run.status == RunStatus::Running {
                printer.warning(&format!(
                    "run `{}` is still running: its log is stored when it ends",
                    run.id
                ));
            }
            if !run.log.is_empty() {
                printer.data(&run.log);
            }
            Ok(ExitStatus::Success)
        }
        RunLookup::NotFound => Err(UsageError::new(format!("no run with id `{}`", args.run_id))
            .with_hint("`integ history` lists the runs".to_owned())
            .into()),
        RunLookup::Ambiguous(ids) => Err(UsageError::new(format!(
            "`{}` is the start of several run ids: {}",
            args.run_id,
            ids.join(", ")
        ))
        .into()),
    }
}
