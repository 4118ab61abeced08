//! The phonebook: numbers seen, the names the network gave, the names the user set.

use ringside_core::rfc3339;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::{timefmt, Store, StoreError};

/// A phonebook entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PhonebookEntry {
    /// The number.
    pub number: String,
    /// The name the network last gave.
    pub network_name: Option<String>,
    /// The name the user set; wins everywhere.
    pub user_name: Option<String>,
    /// When the number was first seen (or named).
    #[serde(with = "rfc3339")]
    pub first_seen: OffsetDateTime,
    /// When it was last seen in a call.
    #[serde(with = "rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Calls seen from or to this number.
    pub calls: i64,
}

impl Store {
    /// The phonebook, by number.
    pub fn phonebook(&self) -> Result<Vec<PhonebookEntry>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT number, network_name, user_name, first_seen, last_seen, calls FROM phonebook ORDER BY number",
        )?;
        let rows = statement.query_map([], phonebook_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets the user's name for a number (adding the number if new).
    pub fn set_phonebook_name(
        &self,
        number: &str,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO phonebook (number, user_name, first_seen, last_seen, calls) VALUES (?1, ?2, ?3, ?3, 0)
             ON CONFLICT (number) DO UPDATE SET user_name = excluded.user_name",
            params![number, name, rfc3339::format(now)],
        )?;
        Ok(())
    }

    /// Removes a number from the phonebook; `false` if it was not there.
    pub fn remove_phonebook_entry(&self, number: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM phonebook WHERE number = ?1", params![number])?
            > 0)
    }

    /// One phonebook entry.
    pub fn phonebook_entry(&self, number: &str) -> Result<Option<PhonebookEntry>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT number, network_name, user_name, first_seen, last_seen, calls FROM phonebook WHERE number = ?1",
        )?;
        Ok(statement
            .query_row(params![number], phonebook_row)
            .optional()?)
    }
}

fn phonebook_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PhonebookEntry> {
    Ok(PhonebookEntry {
        number: row.get(0)?,
        network_name: row.get(1)?,
        user_name: row.get(2)?,
        first_seen: timefmt::column(row, 3)?,
        last_seen: timefmt::column(row, 4)?,
        calls: row.get(5)?,
    })
}
