//! Times as the store and the command line write them: RFC 3339, UTC, microseconds.

use ringside_core::Timestamp;
use time::OffsetDateTime;

/// The UTC date and time of a timestamp (out-of-range timestamps read as the epoch).
#[must_use]
pub fn utc(at: Timestamp) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_micros()) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 with exactly six fraction digits, e.g. `2026-11-22T14:04:05.123456Z`: always the
/// same length, so the text sorts in time order (the call log sorts on it).
#[must_use]
pub fn rfc3339(at: Timestamp) -> String {
    let time = utc(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.microsecond()
    )
}

/// Now, from the system clock.
#[must_use]
pub fn now() -> Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from(since_epoch)
}

/// Now, for commands that write user actions (a phonebook edit).
#[must_use]
pub fn now_rfc3339() -> String {
    rfc3339(now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_six_fraction_digits_that_sort() {
        assert_eq!(
            rfc3339(Timestamp::from_secs_micros(1_767_225_600, 250_000)),
            "2026-01-01T00:00:00.250000Z"
        );
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00.000000Z");
        assert!(rfc3339(Timestamp(1)) > rfc3339(Timestamp(0)));
        assert!(now_rfc3339().starts_with("20"));
    }
}
