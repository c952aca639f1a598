//! What a scheduled run covers: the half-open window `[W, E)` from the integration's watermark
//! `W` (the end of the last period covered with success) to `E`, the latest tick of its cron
//! expression at or before now, read in the schedule's zone. Windows are UTC instants, so a
//! DST night neither loses nor doubles an hour. Missed ticks are covered as `catch_up` says;
//! a window longer than `max_window` is covered in parts, each moving the watermark.

use std::fmt;

use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};

use crate::config::model::{CatchUp, Schedule};

/// A period `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
}

impl Window {
    pub(crate) fn is_empty(&self) -> bool {
        self.start >= self.end
    }
}

/// What a run of a scheduled integration covers now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// Everything up to the latest tick is covered: nothing to do.
    Covered { until: DateTime<Utc> },
    /// These windows, in order, each moving the watermark to its end when it succeeds.
    /// `skipped` is what `catch_up = "latest"` leaves out.
    Windows {
        windows: Vec<Window>,
        skipped: Option<Window>,
    },
    /// `catch_up = "each"` owes more intervals than `max_catch_up`: the run fails, naming
    /// the backfill that covers them.
    TooMany { owed: usize, window: Window },
}

/// How far searches for ticks go before giving up: enough for every expression that fires.
const MAX_TICKS: usize = 100_000;

impl Schedule {
    /// `at` in the schedule's zone, the way its windows are shown.
    pub(crate) fn local(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        match self.timezone {
            Some(tz) => at.with_timezone(&tz).fixed_offset(),
            None => at.with_timezone(&Local).fixed_offset(),
        }
    }

    /// `at` as a person reads it, in the schedule's zone: `2026-11-03 02:00 +01:00`.
    pub(crate) fn shown(&self, at: DateTime<Utc>) -> String {
        self.local(at).format("%Y-%m-%d %H:%M %:z").to_string()
    }

    /// The zone's name: the IANA name given, or `local`.
    pub(crate) fn zone_name(&self) -> String {
        match self.timezone {
            Some(tz) => tz.name().to_owned(),
            None => "local".to_owned(),
        }
    }

    /// The latest tick at or before `at`.
    pub(crate) fn latest_tick(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.tick(at, true, false)
    }

    /// The first tick after `at`.
    pub(crate) fn next_tick(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.tick(at, false, true)
    }

    /// The latest tick before `at`.
    fn tick_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.tick(at, false, false)
    }

    fn tick(&self, at: DateTime<Utc>, inclusive: bool, forward: bool) -> Option<DateTime<Utc>> {
        fn find<Tz: TimeZone>(
            cron: &croner::Cron,
            at: DateTime<Tz>,
            inclusive: bool,
            forward: bool,
        ) -> Option<DateTime<Utc>>
        where
            DateTime<Tz>: croner::CronDateTime,
        {
            let found = if forward {
                cron.find_next_occurrence(&at, inclusive)
            } else {
                cron.find_previous_occurrence(&at, inclusive)
            };
            found.ok().map(|tick| tick.with_timezone(&Utc))
        }
        match self.timezone {
            Some(tz) => find(&self.cron, at.with_timezone(&tz), inclusive, forward),
            None => find(&self.cron, at.with_timezone(&Local), inclusive, forward),
        }
    }

    /// The ticks after `start`, up to and including `end`.
    fn ticks_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut ticks = Vec::new();
        let mut at = start;
        while ticks.len() < MAX_TICKS {
            match self.next_tick(at) {
                Some(tick) if tick <= end => {
                    ticks.push(tick);
                    at = tick;
                }
                _ => break,
            }
        }
        ticks
    }

    /// Where the first run ever starts, for a run that ends at the tick `end`: `first_window`
    /// back, or one interval (the tick before).
    fn first_start(&self, end: DateTime<Utc>) -> DateTime<Utc> {
        match self.first_window {
            Some(back) => end - chrono::Duration::from_std(back).unwrap_or(chrono::Duration::MAX),
            None => self.tick_before(end).unwrap_or(end),
        }
    }

    /// What a scheduled run at `now` covers, the watermark being `watermark`.
    pub(crate) fn coverage(
        &self,
        watermark: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Coverage> {
        let Some(end) = self.latest_tick(now) else {
            anyhow::bail!(
                "schedule `{}` has no tick before now in zone {}",
                self.expression,
                self.zone_name()
            );
        };
        let start = watermark.unwrap_or_else(|| self.first_start(end));
        if start >= end {
            return Ok(Coverage::Covered { until: start });
        }
        let owed = Window { start, end };
        Ok(match self.catch_up {
            CatchUp::Merge => Coverage::Windows {
                windows: self.parts(owed),
                skipped: None,
            },
            CatchUp::Each => {
                let intervals = self.intervals(owed);
                if intervals.len() > self.max_catch_up as usize {
                    return Ok(Coverage::TooMany {
                        owed: intervals.len(),
                        window: owed,
                    });
                }
                Coverage::Windows {
                    windows: intervals.into_iter().flat_map(|w| self.parts(w)).collect(),
                    skipped: None,
                }
            }
            CatchUp::Latest => {
                let last_start = self
                    .tick_before(end)
                    .filter(|t| *t > start)
                    .unwrap_or(start);
                let skipped = Window {
                    start,
                    end: last_start,
                };
                Coverage::Windows {
                    windows: self.parts(Window {
                        start: last_start,
                        end,
                    }),
                    skipped: (!skipped.is_empty()).then_some(skipped),
                }
            }
        })
    }

    /// A window cut at each tick inside it: one interval per tick.
    pub(crate) fn intervals(&self, window: Window) -> Vec<Window> {
        let mut cuts = vec![window.start];
        cuts.extend(
            self.ticks_between(window.start, window.end)
                .into_iter()
                .filter(|t| *t < window.end),
        );
        cuts.push(window.end);
        cuts.windows(2)
            .map(|pair| Window {
                start: pair[0],
                end: pair[1],
            })
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// A window in parts of at most `max_window`.
    pub(crate) fn parts(&self, window: Window) -> Vec<Window> {
        let Some(max) = self
            .max_window
            .and_then(|max| chrono::Duration::from_std(max).ok())
        else {
            return vec![window];
        };
        let mut parts = Vec::new();
        let mut start = window.start;
        while start < window.end {
            let end = (start + max).min(window.end);
            parts.push(Window { start, end });
            start = end;
        }
        parts
    }
}

/// A window as a person reads it, in the schedule's zone.
pub(crate) struct Shown<'a>(pub(crate) &'a Schedule, pub(crate) Window);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Shown(schedule, window) = self;
        write!(
            f,
            "[{}, {})",
            schedule.shown(window.start),
            schedule.shown(window.end)
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{DateTime, TimeZone as _, Utc};

    use super::{Coverage, Window};
    use crate::config::model::{CatchUp, Schedule};

    fn schedule(expression: &str, catch_up: CatchUp) -> Schedule {
        Schedule {
            expression: expression.into(),
            cron: croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Disallowed)
                .build()
                .parse(expression)
                .unwrap(),
            timezone: Some(chrono_tz::Europe::Prague),
            catch_up,
            max_catch_up: 10,
            first_window: None,
            max_window: None,
        }
    }

    /// A Prague wall time as a UTC instant.
    fn prague(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Prague
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn window(start: DateTime<Utc>, end: DateTime<Utc>) -> Window {
        Window { start, end }
    }

    #[test]
    fn the_first_run_covers_one_interval_and_the_same_tick_is_covered_once() {
        let nightly = schedule("0 2 * * *", CatchUp::Merge);
        let now = prague(2026, 11, 3, 2, 5);
        let first = nightly.coverage(None, now).unwrap();
        let expected = window(prague(2026, 11, 2, 2, 0), prague(2026, 11, 3, 2, 0));
        assert_eq!(
            first,
            Coverage::Windows {
                windows: vec![expected],
                skipped: None
            }
        );
        assert_eq!(
            nightly.coverage(Some(expected.end), now).unwrap(),
            Coverage::Covered {
                until: expected.end
            }
        );
    }

    #[test]
    fn missed_nights_are_merged_split_each_or_the_latest_only() {
        let w = prague(2026, 11, 1, 2, 0);
        let now = prague(2026, 11, 4, 9, 0);
        let e = prague(2026, 11, 4, 2, 0);
        let merge = schedule("0 2 * * *", CatchUp::Merge);
        assert_eq!(
            merge.coverage(Some(w), now).unwrap(),
            Coverage::Windows {
                windows: vec![window(w, e)],
                skipped: None
            }
        );
        let each = schedule("0 2 * * *", CatchUp::Each);
        let Coverage::Windows { windows, .. } = each.coverage(Some(w), now).unwrap() else {
            panic!("windows")
        };
        assert_eq!(
            windows,
            [
                window(w, prague(2026, 11, 2, 2, 0)),
                window(prague(2026, 11, 2, 2, 0), prague(2026, 11, 3, 2, 0)),
                window(prague(2026, 11, 3, 2, 0), e),
            ]
        );
        let capped = Schedule {
            max_catch_up: 2,
            ..schedule("0 2 * * *", CatchUp::Each)
        };
        assert_eq!(
            capped.coverage(Some(w), now).unwrap(),
            Coverage::TooMany {
                owed: 3,
                window: window(w, e)
            }
        );
        let latest = schedule("0 2 * * *", CatchUp::Latest);
        assert_eq!(
            latest.coverage(Some(w), now).unwrap(),
            Coverage::Windows {
                windows: vec![window(prague(2026, 11, 3, 2, 0), e)],
                skipped: Some(window(w, prague(2026, 11, 3, 2, 0)))
            }
        );
    }

    #[test]
    fn a_long_window_is_covered_in_parts_and_the_first_reaches_first_window_back() {
        let weekly = Schedule {
            first_window: Some(Duration::from_secs(7 * 86_400)),
            max_window: Some(Duration::from_secs(3 * 86_400)),
            ..schedule("0 0 * * *", CatchUp::Merge)
        };
        let now = prague(2026, 11, 10, 12, 0);
        let e = prague(2026, 11, 10, 0, 0);
        let Coverage::Windows { windows, .. } = weekly.coverage(None, now).unwrap() else {
            panic!("windows")
        };
        let start = e - chrono::Duration::days(7);
        assert_eq!(windows.first().unwrap().start, start);
        assert_eq!(windows.last().unwrap().end, e);
        assert_eq!(windows.len(), 3, "7 days in parts of at most 3");
        assert!(
            windows.windows(2).all(|pair| pair[0].end == pair[1].start),
            "contiguous"
        );
    }

    #[test]
    fn a_dst_night_in_prague_neither_loses_nor_doubles_an_hour() {
        // 2026-10-25: clocks go back at 03:00 CEST to 02:00 CET; the night is 25 hours long.
        let nightly = schedule("0 0 * * *", CatchUp::Each);
        let w = prague(2026, 10, 24, 0, 0);
        let now = prague(2026, 10, 26, 1, 0);
        let Coverage::Windows { windows, .. } = nightly.coverage(Some(w), now).unwrap() else {
            panic!("windows")
        };
        let hours: Vec<i64> = windows
            .iter()
            .map(|w| (w.end - w.start).num_hours())
            .collect();
        assert_eq!(
            hours,
            [24, 25],
            "the day with the extra hour is 25 hours long"
        );
        // 2026-03-29: 02:00 CET becomes 03:00 CEST; the day is 23 hours long.
        let w = prague(2026, 3, 28, 0, 0);
        let now = prague(2026, 3, 30, 1, 0);
        let Coverage::Windows { windows, .. } = nightly.coverage(Some(w), now).unwrap() else {
            panic!("windows")
        };
        let hours: Vec<i64> = windows
            .iter()
            .map(|w| (w.end - w.start).num_hours())
            .collect();
        assert_eq!(hours, [24, 23]);
    }
}
