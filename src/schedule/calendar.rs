//! Cron's five fields as systemd `OnCalendar=` lines: one line where a single systemd
//! calendar event means the same, two or more where cron's day-of-month OR day-of-week does.

use std::collections::BTreeSet;

use crate::schedule::Fields;

/// The `OnCalendar=` values (without a zone) whose union fires when `fields` does, or why
/// systemd cannot express them.
pub(crate) fn on_calendar(fields: &Fields) -> Result<Vec<String>, String> {
    let time = format!(
        "{}:{}:00",
        numeric(&fields.hour, 0, "hour")?,
        numeric(&fields.minute, 0, "minute")?
    );
    let month = numeric(&month_numbers(&fields.month), 1, "month")?;
    // croner reads `?` in the day fields as `*`, before it decides which field restricts.
    let (dom_field, dow_field) = (fields.dom.replace('?', "*"), fields.dow.replace('?', "*"));
    let dom = day_of_month(&dom_field, &month)?;
    // Cron's rule (and croner's): a day field is unrestricted only when it is a literal `*`.
    let dom_restricted = dom_field != "*";
    let dow_restricted = dow_field != "*";
    if !dow_restricted {
        return Ok(vec![format!("{dom} {time}")]);
    }
    let mut lines = Vec::new();
    if dom_restricted {
        lines.push(format!("{dom} {time}"));
    }
    let every_day = format!("*-{month}-*");
    let weekdays = day_of_week(&dow_field)?;
    if !weekdays.plain.is_empty() {
        let days = weekdays
            .plain
            .iter()
            .map(|day| WEEKDAYS[*day as usize])
            .collect::<Vec<_>>()
            .join(",");
        lines.push(format!("{days} {every_day} {time}"));
    }
    for (day, nth) in weekdays.nth {
        let date = match nth {
            Nth::Last => format!("*-{month}~07/1"),
            Nth::Number(n) => {
                let first = (n - 1) * 7 + 1;
                format!("*-{month}-{first:02}..{:02}", (first + 6).min(31))
            }
        };
        lines.push(format!("{} {date} {time}", WEEKDAYS[day as usize]));
    }
    Ok(lines)
}

/// systemd's names, indexed by cron's day number (0 and 7 are Sunday).
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A cron field of numbers (`*`, `5`, `1,15`, `8-18`, `*/15`, `8-18/2`, `5/10`) in systemd's
/// spelling; `start` is the field's first value, where `*/n` begins.
fn numeric(field: &str, start: u32, what: &str) -> Result<String, String> {
    if field == "*" {
        return Ok("*".to_owned());
    }
    let items = field
        .split(',')
        .map(|item| {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => (range, Some(number(step, what)?)),
                None => (item, None),
            };
            let range = match range.split_once('-') {
                _ if range == "*" => format!("{start:02}"),
                Some((from, to)) => format!("{:02}..{:02}", number(from, what)?, number(to, what)?),
                None => format!("{:02}", number(range, what)?),
            };
            Ok(match step {
                Some(step) => format!("{range}/{step}"),
                None => range,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(items.join(","))
}

fn number(text: &str, what: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| format!("`{text}` in the {what} field has no systemd form"))
}

/// Month names as numbers, so the month field reads like the others.
fn month_numbers(field: &str) -> String {
    let mut text = field.to_lowercase();
    for (index, name) in MONTHS.iter().enumerate() {
        text = text.replace(name, &(index + 1).to_string());
    }
    text
}

/// The date part of a line for the day-of-month field: `*-MM-DD`, or `*-MM~01` for `L`.
fn day_of_month(field: &str, month: &str) -> Result<String, String> {
    let upper = field.to_uppercase();
    if upper.contains('W') {
        return Err(
            "`W` (the weekday nearest a day) has no `OnCalendar=` form: name the days instead"
                .to_owned(),
        );
    }
    if upper == "L" {
        return Ok(format!("*-{month}~01"));
    }
    if upper.contains('L') {
        return Err("`L` mixed with other days has no `OnCalendar=` form".to_owned());
    }
    if field == "*" || field == "?" {
        return Ok(format!("*-{month}-*"));
    }
    Ok(format!("*-{month}-{}", numeric(field, 1, "day-of-month")?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Nth {
    Number(u32),
    Last,
}

/// The day-of-week field: plain days (0 = Sunday) and `DAY#N` / `DAY#L` items.
struct Weekdays {
    plain: BTreeSet<u32>,
    nth: BTreeSet<(u32, Nth)>,
}

fn day_of_week(field: &str) -> Result<Weekdays, String> {
    let mut days = Weekdays {
        plain: BTreeSet::new(),
        nth: BTreeSet::new(),
    };
    for item in field.split(',') {
        if let Some((day, nth)) = item.split_once('#') {
            let nth = match nth {
                "L" | "l" => Nth::Last,
                n => Nth::Number(
                    n.parse()
                        .ok()
                        .filter(|n| (1..=5).contains(n))
                        .ok_or_else(|| format!("`{item}` has no `OnCalendar=` form"))?,
                ),
            };
            days.nth.insert((weekday(day)?, nth));
            continue;
        }
        if item.to_uppercase().contains('L') {
            return Err(format!(
                "`{item}` in the day-of-week field has no `OnCalendar=` form: write `DAY#L`"
            ));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, number(step, "day-of-week")?.max(1)),
            None => (item, 1),
        };
        let (from, to) = match range.split_once('-') {
            _ if range == "*" || range == "?" => (0, 6),
            Some((from, to)) => (weekday_number(from)?, weekday_number(to)?),
            None if step > 1 => (weekday_number(range)?, 6),
            None => {
                let day = weekday_number(range)?;
                (day, day)
            }
        };
        days.plain
            .extend((from..=to).step_by(step as usize).map(|day| day % 7));
    }
    Ok(days)
}

/// A day-of-week value as 0..=7 (both 0 and 7 are Sunday), from a number or a name.
fn weekday_number(text: &str) -> Result<u32, String> {
    let lower = text.to_lowercase();
    if let Some(index) = WEEKDAYS
        .iter()
        .position(|name| name.to_lowercase() == lower)
    {
        return Ok(index as u32);
    }
    text.parse()
        .ok()
        .filter(|n| *n <= 7)
        .ok_or_else(|| format!("`{text}` in the day-of-week field has no `OnCalendar=` form"))
}

fn weekday(text: &str) -> Result<u32, String> {
    weekday_number(text).map(|day| day % 7)
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::str::FromStr;

    use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

    use super::on_calendar;
    use crate::schedule::Fields;

    /// Expressions whose conversion is proved against systemd itself.
    const TABLE: &[&str] = &[
        "0 2 * * *",
        "30 2 * * *",
        "5,35 8-18 * * *",
        "*/15 * * * *",
        "0 8-18/2 * * *",
        "10-50/20 3 * * *",
        "0 12 * * 1-5",
        "0 9 * * sun",
        "0 9 * * 7",
        "0 0 1,15 * *",
        "0 0 */7 * *",
        "0 12 1 * 1",
        "0 12 ? * 1",
        "0 12 1 * ?",
        "0 12 13 * 5",
        "0 6 L * *",
        "0 18 * * 5#2",
        "0 18 * * 5#L",
        "0 18 * * FRI#L,1",
        "0 0 1 jan,jul *",
        "0 0 1 */3 *",
        "0 4 * * */2",
        "0 4 * * 5-7",
        "@daily",
        "@weekly",
        "@monthly",
        "@yearly",
        "@hourly",
    ];

    const ITERATIONS: usize = 40;

    fn base() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 24, 13, 7, 0).unwrap()
    }

    fn croner_ticks(expression: &str) -> Vec<DateTime<Utc>> {
        let cron = croner::Cron::from_str(expression).unwrap();
        cron.iter_after(base()).take(ITERATIONS).collect()
    }

    /// The next ticks of each line by `systemd-analyze calendar`, merged: several lines in one
    /// timer fire at their union.
    fn systemd_ticks(lines: &[String]) -> Vec<DateTime<Utc>> {
        let mut ticks = Vec::new();
        for line in lines {
            let output = Command::new("systemd-analyze")
                .env("TZ", "UTC")
                .arg("calendar")
                .arg(format!("--iterations={ITERATIONS}"))
                .arg(format!(
                    "--base-time={}",
                    base().format("%Y-%m-%d %H:%M:%S UTC")
                ))
                .arg(format!("{line} UTC"))
                .output()
                .expect("systemd-analyze runs (`.ci/run` installs systemd)");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "systemd-analyze refused `{line}`: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            for row in text.lines() {
                let row = row.trim();
                if !(row.starts_with("Next elapse:") || row.starts_with("Iter.")) {
                    continue;
                }
                let stamp = row.split(": ").nth(1).unwrap();
                // `Wed 2026-12-02 00:00:00 UTC`
                let stamp = &stamp[4..23];
                let at = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").unwrap();
                ticks.push(at.and_utc());
            }
        }
        ticks.sort();
        ticks.dedup();
        ticks.truncate(ITERATIONS);
        ticks
    }

    #[test]
    fn on_calendar_lines_fire_when_croner_does() {
        for expression in TABLE {
            let fields = Fields::parse(expression).unwrap();
            let lines = on_calendar(&fields).unwrap();
            assert_eq!(
                systemd_ticks(&lines),
                croner_ticks(expression),
                "`{expression}` as {lines:?}"
            );
        }
    }

    #[test]
    fn either_day_field_gets_its_own_line() {
        let fields = Fields::parse("0 12 1 * 1").unwrap();
        assert_eq!(
            on_calendar(&fields).unwrap(),
            ["*-*-01 12:00:00", "Mon *-*-* 12:00:00"]
        );
    }

    #[test]
    fn what_systemd_cannot_express_is_refused_with_the_reason() {
        for (expression, reason) in [
            ("0 9 15W * *", "`W`"),
            ("0 9 1,L * *", "`L` mixed"),
            ("0 9 * * 5L", "`DAY#L`"),
        ] {
            let fields = Fields::parse(expression).unwrap();
            let err = on_calendar(&fields).unwrap_err();
            assert!(err.contains(reason), "`{expression}`: {err}");
        }
    }
}
