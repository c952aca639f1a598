//! Date and datetime filters (`start_of_month`, `add_days`, `add_hours`, `format_date`, …).
//! A date (`YYYY-MM-DD`, as `today` gives it) stays a date and a datetime (RFC 3339, as `now`
//! gives it) stays a datetime with its offset, so `{{ now | add_days(-1) }}` can default a
//! `datetime` param. A filter that has no meaning for one of them says so instead of guessing.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{
    DateTime, Datelike as _, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone as _,
};
use minijinja::{Environment, Error, ErrorKind};

/// A filter's input: what `today` and `now` give, or a param of type `date` or `datetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("start_of_month", |text: String| {
        let moment = Moment::parse(&text)?;
        Ok::<_, Error>(moment.at_start_of(moment.date().with_day(1).expect("day 1 exists")))
    });
    env.add_filter("end_of_month", |text: String| -> Result<String, Error> {
        let Moment::Date(date) = Moment::parse(&text)? else {
            return Err(invalid(format!(
                "`end_of_month` gives a date, and `{text}` is a datetime: use \
                 `start_of_month | add_months(1)` for the first instant after the month, or \
                 `today | end_of_month`"
            )));
        };
        let first = date.with_day(1).expect("day 1 exists");
        Ok(Moment::Date(first + Months::new(1) - Duration::days(1)).text())
    });
    env.add_filter("start_of_week", |text: String| {
        let moment = Moment::parse(&text)?;
        let date = moment.date();
        let back = i64::from(date.weekday().num_days_from_monday());
        Ok::<_, Error>(moment.at_start_of(date - Duration::days(back)))
    });
    env.add_filter("start_of_year", |text: String| {
        let moment = Moment::parse(&text)?;
        let first = NaiveDate::from_ymd_opt(moment.date().year(), 1, 1).expect("1 January exists");
        Ok::<_, Error>(moment.at_start_of(first))
    });
    env.add_filter("add_days", |text: String, n: i64| {
        let moment = Moment::parse(&text)?;
        let moved = match moment {
            Moment::Date(date) => Duration::try_days(n)
                .and_then(|days| date.checked_add_signed(days))
                .map(Moment::Date),
            Moment::DateTime(at) => Duration::try_days(n)
                .and_then(|days| at.checked_add_signed(days))
                .map(Moment::DateTime),
        };
        moved
            .map(Moment::text)
            .ok_or_else(|| out_of_range(&text, n, "days"))
    });
    env.add_filter("add_months", |text: String, n: i32| {
        let moment = Moment::parse(&text)?;
        let months = Months::new(n.unsigned_abs());
        let move_date = |date: NaiveDate| {
            if n >= 0 {
                date.checked_add_months(months)
            } else {
                date.checked_sub_months(months)
            }
        };
        let moved = match moment {
            Moment::Date(date) => move_date(date).map(Moment::Date),
            Moment::DateTime(at) => move_date(at.date_naive())
                .and_then(|date| {
                    at.timezone()
                        .from_local_datetime(&date.and_time(at.time()))
                        .single()
                })
                .map(Moment::DateTime),
        };
        moved
            .map(Moment::text)
            .ok_or_else(|| out_of_range(&text, i64::from(n), "months"))
    });
    for (name, unit, per) in [("add_hours", "hours", 3600), ("add_minutes", "minutes", 60)] {
        env.add_filter(name, move |text: String, n: i64| {
            let Moment::DateTime(at) = Moment::parse(&text)? else {
                return Err(invalid(format!(
                    "`{name}` needs a datetime, and `{text}` is a date: use `now`, or a \
                     `datetime` param"
                )));
            };
            n.checked_mul(per)
                .and_then(Duration::try_seconds)
                .and_then(|shift| at.checked_add_signed(shift))
                .map(|at| Moment::DateTime(at).text())
                .ok_or_else(|| out_of_range(&text, n, unit))
        });
    }
    env.add_filter(
        "format_date",
        |text: String, format: String| -> Result<String, Error> {
            let moment = Moment::parse(&text)?;
            let items: Vec<Item<'_>> = StrftimeItems::new(&format).collect();
            if items.iter().any(|item| matches!(item, Item::Error)) {
                return Err(invalid(format!("`{format}` is not a valid date format")));
            }
            let mut out = String::new();
            let written = match moment {
                Moment::Date(date) => write!(out, "{}", date.format_with_items(items.into_iter())),
                Moment::DateTime(at) => write!(out, "{}", at.format_with_items(items.into_iter())),
            };
            // The items are valid, so only a date asked for a time of day fails here.
            written.map_err(|_| {
                invalid(format!(
                    "`{format}` asks for a time of day, and `{text}` is a date without one"
                ))
            })?;
            Ok(out)
        },
    );
}

impl Moment {
    fn parse(text: &str) -> Result<Moment, Error> {
        let trimmed = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
            return Ok(Moment::Date(date));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(trimmed) {
            return Ok(Moment::DateTime(at));
        }
        // Local time without an offset, as a `datetime` param accepts it.
        [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(trimmed, format).ok())
        .and_then(|naive| chrono::Local.from_local_datetime(&naive).earliest())
        .map(|at| Moment::DateTime(at.fixed_offset()))
        .ok_or_else(|| {
            invalid(format!(
                "`{text}` is neither a date (YYYY-MM-DD) nor a datetime (RFC 3339)"
            ))
        })
    }

    fn date(&self) -> NaiveDate {
        match self {
            Moment::Date(date) => *date,
            Moment::DateTime(at) => at.date_naive(),
        }
    }

    /// The start of `date` in the kind of `self`: the date, or its midnight in the same offset.
    fn at_start_of(&self, date: NaiveDate) -> String {
        match self {
            Moment::Date(_) => Moment::Date(date).text(),
            Moment::DateTime(at) => {
                let midnight = date.and_time(NaiveTime::MIN);
                match at.timezone().from_local_datetime(&midnight).single() {
                    Some(start) => Moment::DateTime(start).text(),
                    None => Moment::Date(date).text(),
                }
            }
        }
    }

    fn text(self) -> String {
        match self {
            Moment::Date(date) => date.format("%Y-%m-%d").to_string(),
            Moment::DateTime(at) => at.to_rfc3339(),
        }
    }
}

fn out_of_range(text: &str, n: i64, unit: &str) -> Error {
    invalid(format!("`{text}` plus {n} {unit} is out of range"))
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::template::{Kind, Templates, context};

    fn render(source: &str, value: &str) -> Result<String, String> {
        let mut templates = Templates::new();
        let text = templates
            .compile_as("t", source, Kind::Plain)
            .expect("compiles")
            .text;
        templates
            .render_str(&text, &context(&json!({ "d": value })))
            .map_err(|err| format!("{err:#}"))
    }

    #[test]
    fn dates_stay_dates_and_datetimes_stay_datetimes() {
        let date = "2026-11-28";
        let at = "2026-11-28T17:45:30+01:00";
        let cases = [
            ("{{ d | start_of_month }}", date, "2026-11-01"),
            ("{{ d | start_of_month }}", at, "2026-11-01T00:00:00+01:00"),
            ("{{ d | end_of_month }}", date, "2026-11-30"),
            ("{{ d | start_of_week }}", date, "2026-11-23"),
            ("{{ d | start_of_week }}", at, "2026-11-23T00:00:00+01:00"),
            ("{{ d | start_of_year }}", at, "2026-01-01T00:00:00+01:00"),
            ("{{ d | add_days(3) }}", date, "2026-12-01"),
            ("{{ d | add_days(-1) }}", at, "2026-11-27T17:45:30+01:00"),
            ("{{ d | add_months(-1) }}", date, "2026-10-28"),
            ("{{ d | add_months(3) }}", at, "2027-02-28T17:45:30+01:00"),
            ("{{ d | add_hours(7) }}", at, "2026-11-29T00:45:30+01:00"),
            ("{{ d | add_hours(-18) }}", at, "2026-11-27T23:45:30+01:00"),
            ("{{ d | add_minutes(15) }}", at, "2026-11-28T18:00:30+01:00"),
            ("{{ d | format_date('%d.%m.%Y') }}", date, "28.11.2026"),
            ("{{ d | format_date('%d.%m. %H:%M') }}", at, "28.11. 17:45"),
            (
                "{{ d | add_hours(1) }}",
                "2026-11-28T23:30:00Z",
                "2026-11-29T00:30:00+00:00",
            ),
            (
                "{{ d | add_minutes(90) | format_date('%H:%M') }}",
                "2026-11-28T10:00:00.250+02:00",
                "11:30",
            ),
        ];
        for (source, input, expected) in cases {
            assert_eq!(
                render(source, input).as_deref(),
                Ok(expected),
                "{source} on {input}"
            );
        }
    }

    #[test]
    fn a_filter_without_meaning_for_its_input_says_why() {
        let cases = [
            (
                "{{ d | add_hours(1) }}",
                "2026-11-28",
                "`add_hours` needs a datetime, and `2026-11-28` is a date",
            ),
            (
                "{{ d | add_minutes(1) }}",
                "2026-11-28",
                "`add_minutes` needs a datetime, and `2026-11-28` is a date",
            ),
            (
                "{{ d | format_date('%H:%M') }}",
                "2026-11-28",
                "`%H:%M` asks for a time of day, and `2026-11-28` is a date without one",
            ),
            (
                "{{ d | format_date('%Q') }}",
                "2026-11-28",
                "`%Q` is not a valid date format",
            ),
            (
                "{{ d | end_of_month }}",
                "2026-11-28T10:00:00Z",
                "`end_of_month` gives a date, and `2026-11-28T10:00:00Z` is a datetime",
            ),
            (
                "{{ d | add_days(1) }}",
                "yesterday",
                "`yesterday` is neither a date (YYYY-MM-DD) nor a datetime (RFC 3339)",
            ),
            (
                "{{ d | add_days(1) }}",
                "2026-02-30",
                "`2026-02-30` is neither a date",
            ),
            (
                "{{ d | add_days(999999999999) }}",
                "2026-11-28",
                "`2026-11-28` plus 999999999999 days is out of range",
            ),
        ];
        for (source, input, expected) in cases {
            let err = render(source, input).unwrap_err();
            assert!(err.contains(expected), "{source} on {input}: {err}");
        }
    }
}
