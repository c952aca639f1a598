//! Kubernetes `CronJob` manifests, one `integ-NAME.yaml` per scheduled integration.

use std::fmt::Write as _;

use crate::schedule::{Entry, Fields, Target, UnitFile, Written, whole_seconds};

/// CronJob names may be at most 52 characters: the controller appends 11 for its Jobs.
const MAX_NAME: usize = 52;

/// What Kubernetes allows beyond the integration's own `timeout` before it kills the pod.
const GRACE_SECS: u64 = 30;

/// The CronJob controller parses `.spec.schedule` with robfig/cron's standard parser: no
/// `L`, `W` or `#`, and days of the week 0-6.
pub(super) fn portable(fields: &Fields) -> Result<(), String> {
    for (field, what) in [(&fields.dom, "day-of-month"), (&fields.dow, "day-of-week")] {
        for sign in ['L', 'W', '#'] {
            let named = field
                .split([',', '-', '/'])
                .any(|item| item.len() == 3 && item.chars().all(|c| c.is_ascii_alphabetic()));
            if field.to_uppercase().contains(sign) && !(named && sign != '#') {
                return Err(format!(
                    "`{sign}` in the {what} field is not read by Kubernetes, which reads numbers, names, `*`, ranges, lists and steps"
                ));
            }
        }
    }
    let sunday_as_seven = fields.dow.split(',').any(|item| {
        let range = item.split('/').next().unwrap_or(item);
        range.split('-').any(|day| day == "7")
    });
    if sunday_as_seven {
        return Err(
            "`7` for Sunday is not read by Kubernetes, which numbers days of the week 0-6: write `0`"
                .to_owned(),
        );
    }
    Ok(())
}

pub(super) fn write(entries: &[Entry], target: &Target) -> Written {
    let mut written = Written::default();
    for entry in entries {
        let file = format!("integ-{}.yaml", entry.integration.name);
        written.files.push(UnitFile {
            name: file,
            text: manifest(entry, target),
        });
    }
    written
}

fn manifest(entry: &Entry, target: &Target) -> String {
    let name = &entry.integration.name;
    let object = object_name(name);
    let config_file = target
        .config
        .file_name()
        .map(|file| file.to_string_lossy().into_owned())
        .unwrap_or_else(|| "integrations.toml".to_owned());
    let config_dir = target
        .config
        .parent()
        .map(|dir| dir.display().to_string())
        .unwrap_or_else(|| "/".to_owned());
    let mut text = String::new();
    let _ = write!(
        text,
        "# integ-{name}.yaml: written by `integ schedule --format kubernetes`.\n\
         # Apply it with `kubectl apply -f integ-{name}.yaml`. It needs, in the same namespace:\n\
         # - the ConfigMap `{configmap}` with the integrations file, mounted at {config}:\n\
         #   kubectl create configmap {configmap} --from-file={config_file}={config}\n\
         # - the PersistentVolumeClaim `{pvc}` for the state directory ({state_dir}), where the\n\
         #   run history, the locks and the watermark (the end of the last covered window) live;\n\
         #   a pod has no state of its own, so without it every run would start over.\n\
         # One replica at a time: several need the shared state backend that is coming, since the\n\
         # SQLite store on one volume does not lock across nodes.\n\
         # A skipped run (exit 75: another run holds the lock) marks its Job failed, as any\n\
         # non-zero exit does; integ has no flag yet to report a skip as 0.\n",
        configmap = target.configmap,
        pvc = target.pvc,
        config = target.config.display(),
        state_dir = target.state_dir.display(),
    );
    let zone = match &entry.zone {
        Some(zone) => format!("  timeZone: {}\n", quote(zone)),
        None => {
            "  # No timeZone: the machine's zone is unknown, so the controller's zone applies.\n"
                .to_owned()
        }
    };
    let deadline = match entry.integration.timeout {
        Some(timeout) => format!(
            "      # The integration's `timeout`, and {GRACE_SECS}s for integ to record the end.\n      activeDeadlineSeconds: {}\n",
            whole_seconds(timeout) + GRACE_SECS
        ),
        None => format!("      # No activeDeadlineSeconds: `{name}` has no `timeout`.\n"),
    };
    let command = target
        .argv(name)
        .iter()
        .map(|arg| format!("                - {}\n", quote(arg)))
        .collect::<String>();
    let _ = write!(
        text,
        "apiVersion: batch/v1\n\
         kind: CronJob\n\
         metadata:\n\
         \x20 name: {object}\n\
         \x20 labels:\n\
         \x20   app.kubernetes.io/name: integ\n\
         \x20   app.kubernetes.io/instance: {object}\n\
         spec:\n\
         \x20 schedule: {schedule}\n\
         {zone}\
         \x20 # The lock in the store stops overlaps with runs started elsewhere; this stops two\n\
         \x20 # Jobs of this CronJob.\n\
         \x20 concurrencyPolicy: Forbid\n\
         \x20 # A start later than this is dropped; the next run covers its window too.\n\
         \x20 startingDeadlineSeconds: {starting}\n\
         \x20 successfulJobsHistoryLimit: 3\n\
         \x20 failedJobsHistoryLimit: 3\n\
         \x20 jobTemplate:\n\
         \x20   spec:\n\
         \x20     # integ retries inside the run; a second pod would repeat it.\n\
         \x20     backoffLimit: 0\n\
         {deadline}\
         \x20     template:\n\
         \x20       metadata:\n\
         \x20         labels:\n\
         \x20           app.kubernetes.io/name: integ\n\
         \x20           app.kubernetes.io/instance: {object}\n\
         \x20       spec:\n\
         \x20         restartPolicy: Never\n\
         \x20         containers:\n\
         \x20           - name: integ\n\
         \x20             image: {image}\n\
         \x20             workingDir: {working_dir}\n\
         \x20             command:\n\
         {command}\
         \x20             volumeMounts:\n\
         \x20               - name: state\n\
         \x20                 mountPath: {state_dir}\n\
         \x20               # The file alone: a read-only directory could not hold the\n\
         \x20               # state directory's mount point.\n\
         \x20               - name: config\n\
         \x20                 mountPath: {config_path}\n\
         \x20                 subPath: {config_key}\n\
         \x20                 readOnly: true\n\
         \x20         volumes:\n\
         \x20           - name: state\n\
         \x20             persistentVolumeClaim:\n\
         \x20               claimName: {pvc}\n\
         \x20           - name: config\n\
         \x20             configMap:\n\
         \x20               name: {configmap}\n",
        schedule = quote(entry.expression),
        starting = starting_deadline(entry),
        image = quote(&target.image),
        working_dir = quote(&config_dir),
        config_path = quote(&target.config.display().to_string()),
        config_key = quote(&config_file),
        state_dir = quote(&target.state_dir.display().to_string()),
        pvc = quote(&target.pvc),
        configmap = quote(&target.configmap),
    );
    text
}

/// `integ-NAME` as a Kubernetes object name: lowercase letters, digits and `-`, at most 52
/// characters; a longer or changed name keeps a hash of the original, so two stay apart.
fn object_name(name: &str) -> String {
    let mut object: String = format!("integ-{name}")
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    let changed = object != format!("integ-{name}");
    if object.len() > MAX_NAME || changed {
        let hash = format!("{:08x}", fnv1a(name.as_bytes()));
        object.truncate(MAX_NAME - hash.len() - 1);
        object = format!("{}-{hash}", object.trim_end_matches('-'));
    }
    object
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash: u32, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// One interval between ticks, at most an hour and at least a minute (the controller looks
/// every 10 s).
fn starting_deadline(entry: &Entry) -> i64 {
    let Some(schedule) = &entry.integration.schedule else {
        return 3600;
    };
    let ticks: Vec<_> = schedule
        .cron
        .iter_after(chrono::Utc::now())
        .take(4)
        .collect();
    let shortest = ticks
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).num_seconds())
        .min()
        .unwrap_or(3600);
    shortest.clamp(60, 3600)
}

/// A YAML scalar that reads back as exactly this string: a JSON string is one.
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::{MAX_NAME, object_name, portable};
    use crate::schedule::Fields;

    #[test]
    fn object_names_fit_kubernetes() {
        assert_eq!(object_name("nightly-sync"), "integ-nightly-sync");
        let long = object_name(&"a".repeat(80));
        assert_eq!(long.len(), MAX_NAME);
        assert_ne!(object_name("a_b"), object_name("a-b"));
        assert!(object_name("Big_Name").starts_with("integ-big-name-"));
    }

    #[test]
    fn what_robfig_cron_cannot_read_is_refused() {
        assert!(portable(&Fields::parse("0 9 * jul mon-fri").unwrap()).is_ok());
        for (expression, reason) in [
            ("0 9 L * *", "`L`"),
            ("0 9 15W * *", "`W`"),
            ("0 9 * * 5#2", "`#`"),
            ("0 9 * * 5-7", "`7`"),
        ] {
            let err = portable(&Fields::parse(expression).unwrap()).unwrap_err();
            assert!(err.contains(reason), "{expression}: {err}");
        }
    }
}
