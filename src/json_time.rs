//! The one form of a time in every `--json` output: RFC 3339 in UTC, to the millisecond, with
//! `Z` (`2026-11-30T02:30:00.000Z`), so a script parses every field of every command the same
//! way and text order is time order.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::Serializer;

/// `at` in the `--json` form.
pub(crate) fn format<Tz: TimeZone>(at: &DateTime<Tz>) -> String {
    at.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// For `#[serde(serialize_with = "crate::json_time::serialize")]`.
pub(crate) fn serialize<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(at))
}

/// For an optional time: `null` when absent.
pub(crate) fn serialize_option<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeZone as _, Utc};

    use super::format;

    #[test]
    fn every_time_is_utc_to_the_millisecond() {
        let utc = Utc.with_ymd_and_hms(2026, 11, 30, 2, 30, 0).unwrap()
            + chrono::Duration::nanoseconds(944_143_512);
        assert_eq!(format(&utc), "2026-11-30T02:30:00.944Z");
        let prague = FixedOffset::east_opt(3600).unwrap();
        let local = prague.with_ymd_and_hms(2026, 11, 30, 3, 30, 0).unwrap();
        assert_eq!(format(&local), "2026-11-30T02:30:00.000Z");
    }
}
