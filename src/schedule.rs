//! `integ schedule`: the crontab lines, systemd units or Kubernetes CronJobs that start each
//! scheduled integration, and the checks of a cron expression that only its zone can tell.

mod calendar;
mod crontab;
mod dst;
mod kubernetes;
mod systemd;

use std::path::{Path, PathBuf};

pub(crate) use dst::{Clash, dst_clashes};

use crate::config::model::Integration;
use crate::usage::UsageError;

/// Which scheduler the entries are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Crontab,
    Systemd,
    Kubernetes,
}

impl Format {
    fn what(self) -> &'static str {
        match self {
            Format::Crontab => "a crontab line",
            Format::Systemd => "a systemd timer",
            Format::Kubernetes => "a Kubernetes CronJob",
        }
    }
}

/// Everything an entry spells out, as absolute paths: cron, systemd and a pod start integ
/// from elsewhere than the shell that wrote them.
#[derive(Debug)]
pub(crate) struct Target {
    pub binary: PathBuf,
    pub config: PathBuf,
    pub state_dir: PathBuf,
    /// The user the runs run as (crontab and systemd); `None`: whoever installs them.
    pub user: Option<String>,
    /// The machine's IANA zone, when it can be told.
    pub machine_zone: Option<String>,
    /// Kubernetes: the PersistentVolumeClaim that holds the state directory.
    pub pvc: String,
    /// Kubernetes: the ConfigMap that holds the integrations file.
    pub configmap: String,
    /// Kubernetes: the container image with `binary` in it.
    pub image: String,
}

impl Target {
    /// `integ run NAME --scheduled -q`, with the file and the state directory spelled out.
    fn argv(&self, name: &str) -> Vec<String> {
        let path = |path: &Path| path.display().to_string();
        vec![
            path(&self.binary),
            "--config".to_owned(),
            path(&self.config),
            "--state-dir".to_owned(),
            path(&self.state_dir),
            "run".to_owned(),
            name.to_owned(),
            "--scheduled".to_owned(),
            "-q".to_owned(),
        ]
    }

    /// The zone an integration's cron expression is read in: its own, else the machine's.
    fn zone_of(&self, integration: &Integration) -> Option<String> {
        let schedule = integration.schedule.as_ref()?;
        match schedule.timezone {
            Some(zone) => Some(zone.name().to_owned()),
            None => self.machine_zone.clone(),
        }
    }
}

/// One file the scheduler reads, by the name it would have.
#[derive(Debug)]
pub(crate) struct UnitFile {
    pub name: String,
    pub text: String,
}

/// What `integ schedule` writes: the files, and what the person should know about them.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub files: Vec<UnitFile>,
    pub warnings: Vec<String>,
}

/// The entries for `integrations` (each has a schedule), or the first one the format cannot
/// express, with the reason.
pub(crate) fn write(
    format: Format,
    integrations: &[&Integration],
    target: &Target,
) -> Result<Written, UsageError> {
    let mut entries = Vec::new();
    for integration in integrations {
        let Some(schedule) = &integration.schedule else {
            continue;
        };
        let refused = |reason: String| {
            UsageError::new(format!(
                "failed to write {} for `{}`: schedule `{}`: {reason}",
                format.what(),
                integration.name,
                schedule.expression
            ))
            .with_hint(Some(
                "write the schedule with plain numbers, ranges, lists and steps, or pick another `--format`"
                    .to_owned(),
            ))
        };
        let fields = Fields::parse(&schedule.expression).map_err(refused)?;
        let on_calendar = match format {
            Format::Crontab => crontab::portable(&fields).map(|()| Vec::new()),
            Format::Systemd => calendar::on_calendar(&fields),
            Format::Kubernetes => kubernetes::portable(&fields).map(|()| Vec::new()),
        }
        .map_err(refused)?;
        entries.push(Entry {
            integration,
            expression: &schedule.expression,
            on_calendar,
            zone: target.zone_of(integration),
        });
    }
    Ok(match format {
        Format::Crontab => crontab::write(&entries, target),
        Format::Systemd => systemd::write(&entries, target),
        Format::Kubernetes => kubernetes::write(&entries, target),
    })
}

/// One scheduled integration, ready to be written in any format.
struct Entry<'a> {
    integration: &'a Integration,
    expression: &'a str,
    /// systemd: the `OnCalendar=` values, without the zone.
    on_calendar: Vec<String>,
    /// `None`: the machine's zone, which could not be told.
    zone: Option<String>,
}

/// A cron expression's five fields, an `@daily`-style name spelled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields {
    pub minute: String,
    pub hour: String,
    pub dom: String,
    pub month: String,
    pub dow: String,
}

impl Fields {
    pub(crate) fn parse(expression: &str) -> Result<Fields, String> {
        let expression = expression.trim();
        let spelled = match expression.to_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            name if name.starts_with('@') => return Err(format!("`{name}` names no times")),
            _ => expression,
        };
        let fields: Vec<&str> = spelled.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(format!("{} fields, where cron has five", fields.len()));
        };
        Ok(Fields {
            minute: minute.to_owned(),
            hour: hour.to_owned(),
            dom: dom.to_owned(),
            month: month.to_owned(),
            dow: dow.to_owned(),
        })
    }

    /// The values of a field that holds only numbers and commas (`30`, `0,30`), else `None`:
    /// such a field names fixed times of day.
    fn fixed(field: &str) -> Option<Vec<u32>> {
        field.split(',').map(|item| item.parse().ok()).collect()
    }

    fn all(&self) -> [&str; 5] {
        [&self.minute, &self.hour, &self.dom, &self.month, &self.dow]
    }
}

/// The machine's IANA zone: `TZ`, else `/etc/timezone`, else where `/etc/localtime` points.
pub(crate) fn machine_zone() -> Option<String> {
    let known = |name: &str| name.parse::<chrono_tz::Tz>().ok().map(|_| name.to_owned());
    if let Ok(tz) = std::env::var("TZ") {
        return known(tz.trim_start_matches(':'));
    }
    if let Ok(text) = std::fs::read_to_string("/etc/timezone")
        && let Some(zone) = known(text.trim())
    {
        return Some(zone);
    }
    let link = std::fs::read_link("/etc/localtime").ok()?;
    let link = link.to_string_lossy();
    known(link.split_once("zoneinfo/")?.1)
}

/// Whether two zone names mean the same clock (`UTC` and `Etc/UTC` do).
fn same_zone(a: &str, b: &str) -> bool {
    const UTC: &[&str] = &[
        "UTC",
        "Etc/UTC",
        "Etc/Universal",
        "Universal",
        "Zulu",
        "Etc/Zulu",
        "GMT",
        "Etc/GMT",
        "Etc/GMT0",
        "GMT0",
    ];
    a == b || (UTC.contains(&a) && UTC.contains(&b))
}

/// Seconds, rounded up, for settings that take whole seconds.
fn whole_seconds(duration: std::time::Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::{Fields, same_zone};

    #[test]
    fn names_are_spelled_as_fields() {
        assert_eq!(
            Fields::parse("@weekly").unwrap(),
            Fields::parse("0 0 * * 0").unwrap()
        );
        assert!(Fields::parse("@reboot").is_err());
        assert!(Fields::parse("0 0 * *").is_err());
    }

    #[test]
    fn utc_has_several_names() {
        assert!(same_zone("Etc/UTC", "UTC"));
        assert!(!same_zone("Europe/Prague", "UTC"));
    }
}
