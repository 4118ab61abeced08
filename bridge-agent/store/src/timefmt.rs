//! Times as the store and the command line write them: RFC 3339, UTC, microseconds
//! (`ringside_core::rfc3339`), and the reading of them back from a column at the SQL edge.

use ringside_core::rfc3339;
pub use ringside_core::rfc3339::utc;
use ringside_core::Timestamp;
use rusqlite::types::Type;
use time::OffsetDateTime;

/// RFC 3339 with exactly six fraction digits, e.g. `2026-11-22T14:04:05.123456Z`: always the
/// same length, so the text sorts in time order (the call log sorts on it).
#[must_use]
pub fn rfc3339(at: Timestamp) -> String {
    rfc3339::format(utc(at))
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

/// Now, as a time (microseconds, as the store keeps it).
#[must_use]
pub fn now_utc() -> OffsetDateTime {
    utc(now())
}

/// Reads column `index` as a time; a text that is not one is an error naming the column.
pub(crate) fn column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<OffsetDateTime> {
    let text: String = row.get(index)?;
    rfc3339::parse(&text)
        .map_err(|error| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, error.into()))
}

/// Reads column `index` as a time, or `NULL`.
pub(crate) fn optional_column(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<OffsetDateTime>> {
    match row.get_ref(index)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => column(row, index).map(Some),
    }
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
