//! Wall-clock times as Ringside shows and stores them. Typed values hold a
//! [`OffsetDateTime`] in UTC; the text — in the call log's columns, the console's JSON,
//! `ringside calls --json` and announcements — is RFC 3339 in UTC with exactly six fraction
//! digits (`2026-11-22T14:04:05.123456Z`), always the same length, so that it sorts in time
//! order (the call log sorts on it). Any RFC 3339 time is read (and turned to UTC).
//!
//! `time::serde::rfc3339` would write `10:00:00Z` for a whole second and drop trailing zeros
//! elsewhere: neither sorts as text, and neither is the text the call log and the JSON have
//! always had. Hence [`format`], and [`serialize`]/[`deserialize`] (and [`option`]) for
//! `#[serde(with = "ringside_core::rfc3339")]`.

use ::time::format_description::well_known::Rfc3339;
use ::time::{OffsetDateTime, UtcOffset};
use serde::{Deserialize, Deserializer, Serializer};

use crate::time::Timestamp;

/// The UTC date and time of a timestamp (out-of-range timestamps read as the epoch).
#[must_use]
pub fn utc(at: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_micros()) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 in UTC with six fraction digits, e.g. `2026-11-22T14:04:05.123456Z`.
#[must_use]
pub fn format(at: OffsetDateTime) -> String {
    // A time that cannot be said in UTC (a year past 9999 there) is written as it is.
    let at = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// Why a text is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 time: {reason}")]
pub struct BadTime {
    /// The text, cut to 64 characters (it may come from anywhere).
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Reads an RFC 3339 time (any number of fraction digits, any offset) as UTC, to the
/// microsecond (what [`format`] writes: a time read and written again reads the same).
pub fn parse(text: &str) -> Result<OffsetDateTime, BadTime> {
    let bad = |reason: String| BadTime {
        text: text.chars().take(64).collect(),
        reason,
    };
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|error| bad(error.to_string()))?
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| bad("outside the years UTC can hold".into()))?;
    at.replace_microsecond(at.microsecond())
        .map_err(|error| bad(error.to_string()))
}

/// Serialises a time as [`format`] writes it.
pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*at))
}

/// Deserialises a time as [`parse`] reads it.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// The same for an `Option` (`null` when there is no time).
pub mod option {
    use ::time::OffsetDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises a time as [`super::format`] writes it, or `null`.
    pub fn serialize<S: Serializer>(
        at: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Deserialises a time as [`super::parse`] reads it, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|text| super::parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_six_fraction_digits_that_sort() {
        let at = utc(Timestamp::from_secs_micros(1_767_225_600, 250_000));
        assert_eq!(format(at), "2026-01-01T00:00:00.250000Z");
        assert_eq!(format(utc(Timestamp(0))), "1970-01-01T00:00:00.000000Z");
        assert!(format(utc(Timestamp(1))) > format(utc(Timestamp(0))));
        assert_eq!(utc(Timestamp(u64::MAX)), OffsetDateTime::UNIX_EPOCH);
    }

    #[test]
    fn reads_any_rfc_3339_time_as_utc_and_refuses_the_rest() {
        let parsed = parse("2026-01-01T10:00:00Z").expect("whole seconds");
        assert_eq!(format(parsed), "2026-01-01T10:00:00.000000Z");
        let east = parse("2026-01-01T11:00:00.5+01:00").expect("an offset");
        assert_eq!(format(east), "2026-01-01T10:00:00.500000Z");
        assert_eq!(east.offset(), UtcOffset::UTC);
        let fine = parse("2026-01-01T10:00:00.123456789Z").expect("nanoseconds");
        assert_eq!(fine.nanosecond(), 123_456_000, "to the microsecond");
        assert_eq!(
            parse(&format(fine)),
            Ok(fine),
            "read, written and read again"
        );
        let error = parse("yesterday").expect_err("not a time");
        assert!(error
            .to_string()
            .starts_with("`yesterday` is not an RFC 3339 time"));
        assert!(
            parse("9999-12-31T23:59:59-23:59").is_err(),
            "past 9999 in UTC"
        );
        assert!(parse(&"9".repeat(100_000)).is_err());
    }

    #[test]
    fn serde_writes_and_reads_the_same_text() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Row {
            #[serde(with = "super")]
            at: OffsetDateTime,
            #[serde(with = "super::option")]
            answered: Option<OffsetDateTime>,
        }
        let text = r#"{"at":"2026-11-22T10:00:00.000000Z","answered":null}"#;
        let row: Row = serde_json::from_str(text).expect("row");
        assert_eq!(serde_json::to_string(&row).ok().as_deref(), Some(text));
        assert!(serde_json::from_str::<Row>(r#"{"at":"soon","answered":null}"#).is_err());
    }
}
