//! Whether a run's process still lives. A running run holds an `flock` on
//! `running/<id>.lock`; the kernel drops it when the process dies, however it dies, so whoever
//! can take the lock knows the run is gone. No PID files, nothing stale.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::store::{Lease, create_private};

/// The `running/` directory of a state directory.
pub(crate) struct Liveness {
    dir: PathBuf,
}

impl Liveness {
    pub(crate) fn new(state_dir: &Path) -> Liveness {
        Liveness {
            dir: state_dir.join("running"),
        }
    }

    /// Marks the run alive until the returned lease is dropped (or every process holding
    /// its file is gone).
    pub(crate) fn mark(&self, id: &str) -> anyhow::Result<Lease> {
        let path = self.path(id);
        let file = create_private(&path)
            .with_context(|| format!("failed to create `{}`", path.display()))?;
        file.lock()
            .with_context(|| format!("failed to lock `{}`", path.display()))?;
        Ok(Lease::file(file, RemoveOnDrop { path }))
    }

    /// Whether a process still holds the run's lock.
    pub(crate) fn is_alive(&self, id: &str) -> bool {
        match File::open(self.path(id)) {
            Ok(file) => file.try_lock().is_err(),
            // No lock file: the process died between recording the run and locking, or the
            // state directory was cleaned. Either way nothing is running it.
            Err(_) => false,
        }
    }

    /// Removes a dead run's lock file.
    pub(crate) fn forget(&self, id: &str) {
        let _ = std::fs::remove_file(self.path(id));
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }
}

/// Removes a run's lock file when its lease ends (the run is recorded as ended first).
struct RemoveOnDrop {
    path: PathBuf,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
