//! Fixed times of day that a zone's DST change skips or repeats, and what schedulers do then.

use chrono::{Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};

use crate::schedule::Fields;

/// How far ahead [`dst_clashes`] looks: a year holds every change of a zone's rules.
const DAYS_AHEAD: u64 = 366;

/// A time a schedule names that does not exist, or exists twice, on one day in its zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clash {
    pub time: NaiveTime,
    pub date: NaiveDate,
    /// Positive: the clocks go forward (a gap); negative: back (a repeated hour).
    pub shift_minutes: i32,
}

impl Clash {
    /// `zone` names the zone as the person knows it (`Europe/Prague`, the machine's zone).
    pub(crate) fn message(&self, expression: &str, zone: &str) -> String {
        let time = self.time.format("%H:%M");
        let date = self.date;
        let shift = shift(self.shift_minutes.unsigned_abs());
        if self.shift_minutes > 0 {
            format!(
                "schedule `{expression}` names {time}, which {zone} skips on {date} (the clocks go forward {shift}): Debian cron runs it once at the gap's end, systemd skips it that day"
            )
        } else {
            format!(
                "schedule `{expression}` names {time}, which happens twice in {zone} on {date} (the clocks go back {shift}): Debian cron and systemd run it once, at the first"
            )
        }
    }

    pub(crate) fn hint() -> String {
        "windows are UTC instants, so no data is lost or covered twice, only the run moves; pick a time outside the change, or `timezone = \"UTC\"`".to_owned()
    }
}

fn shift(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("{hours}h"),
        (0, minutes) => format!("{minutes}m"),
        (hours, minutes) => format!("{hours}h {minutes}m"),
    }
}

/// The first day from `today` on which each fixed time of `expression` falls into a DST gap,
/// and the first on which it falls into a repeated hour, in `zone` (`None`: the machine's).
/// A schedule whose minute or hour is not a fixed number (`*/15`, `8-18`) has none: cron and
/// systemd follow the new time then.
pub(crate) fn dst_clashes(
    expression: &str,
    cron: &croner::Cron,
    zone: Option<chrono_tz::Tz>,
    today: NaiveDate,
) -> Vec<Clash> {
    let Ok(fields) = Fields::parse(expression) else {
        return Vec::new();
    };
    let (Some(minutes), Some(hours)) = (Fields::fixed(&fields.minute), Fields::fixed(&fields.hour))
    else {
        return Vec::new();
    };
    // chrono's `Local` placed a change an hour off in a test (New York's gap read as a
    // repeated hour), so the machine's zone is read by its IANA name when it has one.
    let zone = zone.or_else(|| {
        crate::schedule::machine_zone()?
            .parse::<chrono_tz::Tz>()
            .ok()
    });
    let mut clashes = Vec::new();
    for hour in &hours {
        for minute in &minutes {
            let Some(time) = NaiveTime::from_hms_opt(*hour, *minute, 0) else {
                continue;
            };
            let found = match zone {
                Some(zone) => scan(&zone, cron, time, today),
                None => scan(&chrono::Local, cron, time, today),
            };
            clashes.extend(found);
        }
    }
    clashes.sort_by_key(|clash| (clash.date, clash.time));
    clashes
}

fn scan<Z: TimeZone>(
    zone: &Z,
    cron: &croner::Cron,
    time: NaiveTime,
    today: NaiveDate,
) -> Vec<Clash> {
    let mut gap = None;
    let mut repeat = None;
    for day in 0..DAYS_AHEAD {
        let Some(date) = today.checked_add_days(Days::new(day)) else {
            break;
        };
        let wall = date.and_time(time);
        let kind = match zone.from_local_datetime(&wall) {
            LocalResult::Single(_) => continue,
            LocalResult::None => &mut gap,
            LocalResult::Ambiguous(_, _) => &mut repeat,
        };
        // Only a day the schedule runs on counts: `30 2 * * 1` never meets a Sunday change.
        if kind.is_some()
            || !cron
                .is_time_matching(&Utc.from_utc_datetime(&wall))
                .unwrap_or(false)
        {
            continue;
        }
        *kind = Some(Clash {
            time,
            date,
            shift_minutes: shift_around(zone, wall),
        });
        if gap.is_some() && repeat.is_some() {
            break;
        }
    }
    gap.into_iter().chain(repeat).collect()
}

/// How far the clocks move near `wall`: the offset half a day later minus half a day before.
fn shift_around<Z: TimeZone>(zone: &Z, wall: NaiveDateTime) -> i32 {
    let offset = |at: NaiveDateTime| {
        zone.from_local_datetime(&at)
            .earliest()
            .map(|t| t.offset().fix().local_minus_utc())
            .unwrap_or(0)
    };
    let half_day = chrono::Duration::hours(12);
    (offset(wall + half_day) - offset(wall - half_day)) / 60
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::{NaiveDate, NaiveTime};

    use super::{Clash, dst_clashes};

    fn clashes(expression: &str, zone: &str) -> Vec<Clash> {
        let cron = croner::Cron::from_str(expression).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        dst_clashes(expression, &cron, Some(zone.parse().unwrap()), today)
    }

    fn at(date: &str, time: &str, shift_minutes: i32) -> Clash {
        Clash {
            time: NaiveTime::from_str(time).unwrap(),
            date: NaiveDate::from_str(date).unwrap(),
            shift_minutes,
        }
    }

    #[test]
    fn a_time_in_the_gap_and_the_repeated_hour_is_found() {
        assert_eq!(
            clashes("30 2 * * *", "Europe/Prague"),
            [
                at("2026-03-29", "02:30:00", 60),
                at("2026-10-25", "02:30:00", -60)
            ]
        );
        assert_eq!(
            clashes("0 2 * * *", "America/New_York"),
            [at("2026-03-08", "02:00:00", 60),],
            "01:00 repeats in New York, 02:00 only once"
        );
    }

    #[test]
    fn times_clear_of_the_change_days_it_skips_and_wildcards_have_none() {
        assert_eq!(clashes("30 4 * * *", "Europe/Prague"), []);
        assert_eq!(clashes("30 2 * * *", "UTC"), []);
        assert_eq!(clashes("30 2 * * 1", "Europe/Prague"), []);
        assert_eq!(clashes("*/30 * * * *", "Europe/Prague"), []);
    }

    #[test]
    fn messages_say_what_cron_and_systemd_do() {
        let gap = at("2026-03-29", "02:30:00", 60).message("30 2 * * *", "`Europe/Prague`");
        assert!(
            gap.contains("skips on 2026-03-29 (the clocks go forward 1h)"),
            "{gap}"
        );
        assert!(gap.contains("systemd skips it that day"), "{gap}");
        let repeat = at("2026-10-25", "02:30:00", -60).message("30 2 * * *", "`Europe/Prague`");
        assert!(repeat.contains("happens twice"), "{repeat}");
    }
}
