//! Step kinds: one file each, one arm each here. Adding a kind is a new file, a variant of
//! [`StepKind`] and a line below.

pub mod command;

use serde_json::Value;

use crate::config::model::{Step, StepKind};
use crate::engine::StepScope;

/// Runs one step; its result is what later steps see as `steps.<id>`.
pub async fn run(step: &Step, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    match &step.kind {
        StepKind::Command(command) => command.run(scope).await,
    }
}
