//! `integ output RUN_ID`: what one run wrote for the person — its report, its export to
//! stdout, a dry run's plan — byte for byte, as kept with the run.

use crate::cli::{GlobalArgs, OutputArgs};
use crate::commands::logs::find_run;
use crate::commands::open_store;
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::RunStatus;

pub(crate) fn output(
    global: &GlobalArgs,
    args: &OutputArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let store = open_store(global)?;
    let run = find_run(store.as_ref(), &args.run_id)?;
    if run.status == RunStatus::Running {
        printer.warning(&format!(
            "run `{}` is still running: its output is stored when it ends",
            run.id
        ));
    }
    printer.data_as_is(&run.output.text);
    if run.output.cut > 0 {
        printer.warning(&format!(
            "the output of run `{}` was cut: {} more bytes were not kept",
            run.id, run.output.cut
        ));
    }
    Ok(ExitStatus::Success)
}
