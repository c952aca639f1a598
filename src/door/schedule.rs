//! The schedule door: which windows a run of a scheduled integration covers — the period since
//! its last success (`--scheduled`, or by hand up to now), or a backfill (`--from/--to`) — and
//! where each moves the watermark when it succeeds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::config::model::Schedule;
use crate::usage::UsageError;
use crate::window::{Coverage, Shown, Window};

/// What a run is asked to cover.
pub(crate) enum Asked<'a> {
    /// The period since the last success up to the latest tick (`--scheduled`).
    Scheduled,
    /// The period since the last success up to now (a run by hand).
    UpToNow,
    /// An explicit window, as given (`--from`, `--to`), in parts per interval with `each`.
    Backfill {
        from: &'a str,
        to: &'a str,
        each: bool,
    },
}

/// One run to carry out: its window, and where the watermark moves when it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Covering {
    pub(crate) window: Window,
    pub(crate) advance_to: Option<DateTime<Utc>>,
    /// Decided from the watermark (a scheduled run, a run by hand), not asked for (a
    /// backfill): a run that waited for its slot covers only what the run before it left.
    pub(crate) from_watermark: bool,
}

/// What the door decided.
pub(crate) enum Decision {
    /// The runs to carry out, in order, stopping at the first that does not succeed;
    /// `skipped` is a period `catch_up = "latest"` leaves out, recorded as skipped.
    Run {
        runs: Vec<Covering>,
        skipped: Option<Window>,
    },
    /// Nothing is owed: the latest tick is covered.
    Covered { until: DateTime<Utc> },
    /// `catch_up = "each"` owes more intervals than `max_catch_up`: a failure that says how to
    /// backfill them.
    TooMany { message: String, hint: String },
}

/// Decides what a run of `name` covers at `now`.
pub(crate) fn decide(
    name: &str,
    schedule: &Schedule,
    asked: Asked<'_>,
    watermark: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> anyhow::Result<Decision> {
    match asked {
        Asked::Scheduled => Ok(match schedule.coverage(watermark, now)? {
            Coverage::Covered { until } => Decision::Covered { until },
            Coverage::Windows { windows, skipped } => Decision::Run {
                runs: windows
                    .into_iter()
                    .map(|window| Covering {
                        window,
                        advance_to: Some(window.end),
                        from_watermark: true,
                    })
                    .collect(),
                skipped,
            },
            Coverage::TooMany { owed, window } => Decision::TooMany {
                message: format!(
                    "`{name}` owes {owed} intervals since {}, more than `max_catch_up = {}`",
                    schedule.shown(window.start),
                    schedule.max_catch_up
                ),
                hint: format!(
                    "cover them with `integ run {name} --from '{}' --to '{}' --each`, or raise `max_catch_up`",
                    schedule.local(window.start).to_rfc3339(),
                    schedule.local(window.end).to_rfc3339()
                ),
            },
        }),
        Asked::UpToNow => {
            let start = match watermark {
                Some(w) => w,
                None => match schedule.coverage(None, now)? {
                    Coverage::Windows { windows, .. } => windows[0].start,
                    Coverage::Covered { until } => until,
                    Coverage::TooMany { window, .. } => window.start,
                },
            };
            let window = Window { start, end: now };
            Ok(Decision::Run {
                runs: schedule
                    .parts(window)
                    .into_iter()
                    .map(|window| Covering {
                        window,
                        advance_to: Some(window.end),
                        from_watermark: true,
                    })
                    .collect(),
                skipped: None,
            })
        }
        Asked::Backfill { from, to, each } => {
            let window = Window {
                start: instant(schedule, "--from", from)?,
                end: instant(schedule, "--to", to)?,
            };
            if window.is_empty() {
                return Err(UsageError::new(format!(
                    "`--from {from}` is not before `--to {to}`: the window {} is empty",
                    Shown(schedule, window)
                ))
                .into());
            }
            let windows = if each {
                schedule.intervals(window)
            } else {
                vec![window]
            };
            // Contiguous with what is covered: each part then moves the watermark. A window
            // after a gap, or one already covered, leaves it where it is.
            let mut covered_until = watermark;
            let runs = windows
                .into_iter()
                .flat_map(|window| schedule.parts(window))
                .map(|window| {
                    let advance_to = covered_until
                        .filter(|w| window.start <= *w && *w < window.end)
                        .map(|_| window.end);
                    if advance_to.is_some() {
                        covered_until = advance_to;
                    }
                    Covering {
                        window,
                        advance_to,
                        from_watermark: false,
                    }
                })
                .collect();
            Ok(Decision::Run {
                runs,
                skipped: None,
            })
        }
    }
}

/// `--plan`: what a run now would cover, and where the watermark would move.
impl Decision {
    pub(crate) fn plan(&self, schedule: &Schedule, watermark: Option<DateTime<Utc>>) -> String {
        let decision = self;
        let mut lines = vec![match watermark {
            Some(w) => format!(
                "covered until {} (zone {})",
                schedule.shown(w),
                schedule.zone_name()
            ),
            None => format!("never covered yet (zone {})", schedule.zone_name()),
        }];
        match decision {
            Decision::Covered { .. } => lines.push("nothing to cover now".to_owned()),
            Decision::TooMany { message, hint } => {
                lines.push(format!("would fail: {message}"));
                lines.push(format!("hint: {hint}"));
            }
            Decision::Run { runs, skipped } => {
                if let Some(window) = skipped {
                    lines.push(format!(
                        "would leave {} (catch_up = \"latest\")",
                        Shown(schedule, *window)
                    ));
                }
                for covering in runs {
                    let moves = match covering.advance_to {
                        Some(to) => format!("; on success covered until {}", schedule.shown(to)),
                        None => "; the watermark stays".to_owned(),
                    };
                    lines.push(format!(
                        "would cover {}{moves}",
                        Shown(schedule, covering.window)
                    ));
                }
            }
        }
        lines.join("\n")
    }
}

/// A `--from`/`--to` value as an instant: RFC 3339, or a date (its midnight) or
/// `YYYY-MM-DD HH:MM` in the schedule's zone.
fn instant(schedule: &Schedule, flag: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
        })
        .map_err(|_| {
            UsageError::new(format!(
                "invalid `{flag}` value `{text}`: expected a date (`2026-10-01`), a local time (`2026-10-01 06:00`) or an RFC 3339 time"
            ))
        })?;
    let resolved = match schedule.timezone {
        Some(tz) => tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|at| at.with_timezone(&Utc)),
        None => chrono::Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|at| at.with_timezone(&Utc)),
    };
    resolved.ok_or_else(|| {
        UsageError::new(format!(
            "`{flag} {text}` does not exist in zone {}: the clocks skip it (a DST change)",
            schedule.zone_name()
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone as _, Utc};

    use super::{Asked, Covering, Decision, decide};
    use crate::config::model::{CatchUp, Schedule};
    use crate::window::Window;

    fn nightly() -> Schedule {
        Schedule {
            expression: "0 0 * * *".into(),
            cron: croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Disallowed)
                .build()
                .parse("0 0 * * *")
                .unwrap(),
            timezone: Some(chrono_tz::UTC),
            catch_up: CatchUp::Merge,
            max_catch_up: 10,
            first_window: None,
            max_window: None,
        }
    }

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, d, 0, 0, 0).unwrap()
    }

    fn runs(decision: Decision) -> Vec<Covering> {
        match decision {
            Decision::Run { runs, .. } => runs,
            _ => panic!("runs expected"),
        }
    }

    #[test]
    fn a_backfill_moves_the_watermark_only_when_it_continues_what_is_covered() {
        let schedule = nightly();
        let backfill = |from, to, each, watermark| {
            runs(
                decide(
                    "x",
                    &schedule,
                    Asked::Backfill { from, to, each },
                    watermark,
                    day(20),
                )
                .unwrap(),
            )
        };
        // Contiguous: from ≤ W < to.
        assert_eq!(
            backfill("2026-10-01", "2026-10-08", false, Some(day(3))),
            [Covering {
                window: Window {
                    start: day(1),
                    end: day(8)
                },
                advance_to: Some(day(8)),
                from_watermark: false,
            }]
        );
        // After a gap, or already covered: W stays.
        assert_eq!(
            backfill("2026-10-05", "2026-10-08", false, Some(day(3)))[0].advance_to,
            None
        );
        assert_eq!(
            backfill("2026-10-01", "2026-10-03", false, Some(day(9)))[0].advance_to,
            None
        );
        assert_eq!(
            backfill("2026-10-01", "2026-10-08", false, None)[0].advance_to,
            None
        );
        // Each interval in turn, each continuing the last.
        let each = backfill("2026-10-03", "2026-10-06", true, Some(day(3)));
        assert_eq!(
            each.iter().map(|c| c.advance_to).collect::<Vec<_>>(),
            [Some(day(4)), Some(day(5)), Some(day(6))]
        );
    }

    #[test]
    fn bad_backfill_values_are_refused_saying_what_was_expected() {
        let schedule = nightly();
        let refused = |from, to| {
            let Err(err) = decide(
                "x",
                &schedule,
                Asked::Backfill {
                    from,
                    to,
                    each: false,
                },
                None,
                day(20),
            ) else {
                panic!("refused expected")
            };
            err.to_string()
        };
        assert!(refused("yesterday", "2026-10-02").contains("invalid `--from` value `yesterday`"));
        assert!(refused("2026-10-05", "2026-10-02").contains("is not before"));
    }
}
