//! Voicemail: what the provider last said was waiting.

use ringside_core::rfc3339;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::{timefmt, Store, StoreError};

/// The last message-waiting summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoicemailStatus {
    /// Messages are waiting.
    pub waiting: bool,
    /// New voice messages.
    pub new: u32,
    /// Old voice messages.
    pub old: u32,
    /// When the provider said so.
    #[serde(with = "rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Store {
    /// Records a summary the provider sent.
    pub fn record_voicemail(
        &self,
        at: OffsetDateTime,
        waiting: bool,
        new: u32,
        old: u32,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO voicemail (at, waiting, new, old) VALUES (?1, ?2, ?3, ?4)",
            params![rfc3339::format(at), waiting, new, old],
        )?;
        Ok(())
    }

    /// The latest summary, if the provider ever sent one.
    pub fn voicemail(&self) -> Result<Option<VoicemailStatus>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT waiting, new, old, at FROM voicemail ORDER BY id DESC LIMIT 1",
                [],
                |row| {
                    Ok(VoicemailStatus {
                        waiting: row.get(0)?,
                        new: row.get(1)?,
                        old: row.get(2)?,
                        updated_at: timefmt::column(row, 3)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_summary_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        assert_eq!(store.voicemail().expect("query"), None);
        store
            .record_voicemail(time::macros::datetime!(2026-11-22 10:00 UTC), true, 2, 1)
            .expect("record");
        store
            .record_voicemail(time::macros::datetime!(2026-11-22 11:00 UTC), false, 0, 3)
            .expect("record");
        let status = store.voicemail().expect("query").expect("a status");
        assert_eq!((status.waiting, status.new, status.old), (false, 0, 3));
    }
}
