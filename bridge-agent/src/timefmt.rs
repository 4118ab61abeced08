//! Times as the store and the command line write them: RFC 3339, UTC.

use ringside_core::Timestamp;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The UTC date and time of a timestamp (out-of-range timestamps read as the epoch).
#[must_use]
pub fn utc(at: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_micros()) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 with microseconds, e.g. `2026-11-22T14:04:05.123456Z`.
#[must_use]
pub fn rfc3339(at: Timestamp) -> String {
    let time = utc(at);
    // Trim to microseconds, the resolution of packet timestamps.
    let time = time
        .replace_nanosecond(time.nanosecond() / 1000 * 1000)
        .unwrap_or(time);
    time.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Now, for commands that write user actions (a phonebook edit).
#[must_use]
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_microseconds() {
        assert_eq!(
            rfc3339(Timestamp::from_secs_micros(1_767_225_600, 250_000)),
            "2026-01-01T00:00:00.25Z"
        );
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00Z");
    }
}
