//! `ToSql`/`FromSql` for the words a call is logged by ([`CallDirection`], [`Disposition`],
//! [`AnswerEvidence`], [`CallerIdSource`], [`DirectionSource`], [`Presentation`]), so the store
//! binds and reads them typed. Only with the `sql` feature,
//! which the store turns on: the sans-IO core and its fuzz builds do not link `SQLite`.
//!
//! Each is stored as its word (`TEXT`), as before these types existed: no migration. A value
//! in the database that is not one of the words (a hand-edited file) reads as a
//! [`FromSqlError::Other`] carrying the [`crate::outcome::UnknownWord`], which says what was
//! found and what was expected.

use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::caller_id::{CallerIdSource, Presentation};
use crate::outcome::{AnswerEvidence, CallDirection, DirectionSource, Disposition, UnknownWord};

/// Reads a word column as `T`.
fn word<T: FromStr<Err = UnknownWord>>(value: ValueRef<'_>) -> FromSqlResult<T> {
    value
        .as_str()?
        .parse()
        .map_err(|error: UnknownWord| FromSqlError::Other(Box::new(error)))
}

/// `ToSql` and `FromSql` through the enum's word.
macro_rules! sql_word {
    ($($ty:ty),*) => {$(
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                word(value)
            }
        }
    )*};
}

sql_word!(
    CallDirection,
    Disposition,
    CallerIdSource,
    AnswerEvidence,
    DirectionSource,
    Presentation
);

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    fn stored<T: ToSql + FromSql>(value: &T) -> rusqlite::Result<(String, T)> {
        let conn = Connection::open_in_memory()?;
        conn.query_row("SELECT ?1, ?1", [value], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
    }

    #[test]
    fn each_enum_goes_into_sql_as_its_word_and_comes_back() {
        let direction = stored(&CallDirection::Outbound).expect("round trip");
        assert_eq!(direction, ("outbound".to_owned(), CallDirection::Outbound));
        let disposition = stored(&Disposition::Rejected).expect("round trip");
        assert_eq!(disposition, ("rejected".to_owned(), Disposition::Rejected));
        let how = stored(&DirectionSource::ViaCount).expect("round trip");
        assert_eq!(how, ("via-count".to_owned(), DirectionSource::ViaCount));
        let shown = stored(&Presentation::Unknown).expect("round trip");
        assert_eq!(shown, ("unknown".to_owned(), Presentation::Unknown));
        let source = stored(&CallerIdSource::PAssertedIdentity).expect("round trip");
        assert_eq!(
            source,
            (
                "p-asserted-identity".to_owned(),
                CallerIdSource::PAssertedIdentity
            )
        );
    }

    #[test]
    fn a_word_the_enum_does_not_know_is_a_clear_error() {
        let conn = Connection::open_in_memory().expect("open");
        let read = conn.query_row("SELECT 'sideways'", [], |row| {
            row.get::<_, CallDirection>(0)
        });
        let error = read.expect_err("not a direction");
        assert!(
            error
                .to_string()
                .contains("`sideways` is not a call direction (one of: inbound, outbound)"),
            "{error}"
        );
        let read = conn.query_row("SELECT 7", [], |row| row.get::<_, Disposition>(0));
        assert!(
            matches!(read, Err(rusqlite::Error::InvalidColumnType(..))),
            "{read:?}"
        );
    }
}
