//! The `SQLite` store (`ringside.db`, WAL): the call log here, the phonebook, filters and
//! settings in the submodules. All SQL lives in this module; the schema is in `migrations/`,
//! applied in order and counted in `PRAGMA user_version`. [`timefmt`] is the one way times
//! are written into it (fixed-length RFC 3339, so that they sort).

use std::path::{Path, PathBuf};

use ringside_core::call::{AnswerEvidence, CallDirection, DirectionSource, Disposition};
use ringside_core::call_view::CallView;
use ringside_core::caller_id::{CallerIdSource, Presentation};
use ringside_core::rfc3339;
use rusqlite::{params, Connection, ErrorCode};
use serde::Serialize;
use time::OffsetDateTime;

mod call_log;
mod filters;
pub mod owner_only;
mod phonebook;
pub mod recording_path;
mod settings;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod timefmt;
mod voicemail;

pub use call_log::CallQuery;
pub use phonebook::PhonebookEntry;
pub use settings::{Setting, SettingError};
pub use voicemail::VoicemailStatus;

/// The migrations, in order; the database's `user_version` says how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_calls_phonebook.sql"),
    include_str!("../migrations/002_filters_settings.sql"),
    include_str!("../migrations/003_voicemail.sql"),
    include_str!("../migrations/004_recording_notes.sql"),
    include_str!("../migrations/005_filter_exact_number.sql"),
    include_str!("../migrations/006_answered_by.sql"),
    include_str!("../migrations/007_direction_presentation.sql"),
];

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "ringside.db";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `SQLite` said no.
    #[error("{}", in_plain_words(.0))]
    Sqlite(#[from] rusqlite::Error),
    /// Another process holds the database's write lock (found at start-up).
    #[error(
        "the database {} is locked by another process (another Ringside?); stop it or try again",
        .0.display()
    )]
    Locked(PathBuf),
    /// The file is not an `SQLite` database, or `SQLite` finds it damaged (found at start-up).
    #[error("{} is not a Ringside database or is damaged: {}", .0.display(), .1)]
    Damaged(PathBuf, String),
    /// The database is newer than this program.
    #[error(
        "the database has schema version {0}, newer than this Ringside ({1}); upgrade Ringside"
    )]
    TooNew(i64, usize),
    /// A filter that cannot be read.
    #[error(transparent)]
    Filter(#[from] ringside_core::filters::FilterError),
    /// A setting that cannot be set.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// The database file could not be created (owner-only) in the data directory.
    #[error("cannot create the database file: {0}")]
    Create(#[from] std::io::Error),
}

/// Names a locked or damaged database by its path.
fn with_path(path: &Path, error: StoreError) -> StoreError {
    let StoreError::Sqlite(sqlite) = &error else {
        return error;
    };
    match sqlite.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Locked(path.to_owned())
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Damaged(path.to_owned(), sqlite.to_string())
        }
        _ => error,
    }
}

/// A new call, as the log first records it.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    /// SIP Call-ID.
    pub call_id: &'a str,
    /// Which way the call goes.
    pub direction: CallDirection,
    /// Which clue decided `direction`.
    pub direction_source: DirectionSource,
    /// The other party's number (`None` when withheld or unknown).
    pub number: Option<&'a str>,
    /// The name the network gave.
    pub name: Option<&'a str>,
    /// Whether the number was given, withheld or unknown.
    pub presentation: Presentation,
    /// Which header the identity came from.
    pub caller_id_source: CallerIdSource,
    /// That header's raw value.
    pub caller_id_header: &'a str,
    /// When the INVITE was seen.
    pub started_at: OffsetDateTime,
    /// The phone's signalling address.
    pub phone_address: &'a str,
    /// The other side's signalling address.
    pub remote_address: &'a str,
    /// The filter that blocked the call: its id and what it said.
    pub blocked_by: Option<(i64, &'a str)>,
}

/// How a call ended, as the log records it.
#[derive(Debug, Clone)]
pub struct CallEnd<'a> {
    /// When.
    pub ended_at: OffsetDateTime,
    /// How.
    pub disposition: Disposition,
    /// `PCMU`, `PCMA`, `other`.
    pub codec: Option<&'a str>,
    /// Per-direction RTP figures, JSON.
    pub quality: Option<&'a str>,
    /// Silences too long to keep that the recording skipped.
    pub gaps_skipped: u64,
    /// When it was answered and what showed it, if it was (written here too, so that an
    /// answer proved only as the call ended, a BYE after an ACK, is logged).
    pub answer: Option<(OffsetDateTime, AnswerEvidence)>,
}

/// One row of the call log, as `ringside calls --json` and the console show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallRecord {
    /// Row id.
    pub id: i64,
    /// Who, which way, when (`display`: the phonebook name if the user set one, else `name`).
    #[serde(flatten)]
    pub call: CallView,
    /// Which header the identity came from.
    pub caller_id_source: CallerIdSource,
    /// That header's raw value.
    pub caller_id_header: String,
    /// Once over.
    #[serde(with = "rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// How it ended; null while in progress.
    pub disposition: Option<Disposition>,
    /// What showed it was answered: `200-ok`, or the evidence of a 2xx that was not seen
    /// (`ack-for-2xx`, `media-both-ways`, `bye-after-ack`); null when it was not answered,
    /// and for calls logged before Ringside kept it.
    pub answered_by: Option<AnswerEvidence>,
    /// The WAV, relative to the data directory.
    pub recording: Option<String>,
    /// Raw RTP of codecs Ringside does not decode (pcap), relative to the data directory.
    pub raw_rtp: Option<String>,
    /// The audio codec seen.
    pub codec: Option<String>,
    /// Per-direction RTP figures.
    pub quality: Option<serde_json::Value>,
    /// The id of the filter that blocked the call.
    pub blocked_by_filter: Option<i64>,
    /// What that filter said (`block number anonymous`), kept after it is deleted.
    pub blocked_by: Option<String>,
    /// Silences longer than five seconds left out of the recording (a long hold, or a
    /// packet clock that leapt).
    pub gaps_skipped: i64,
    /// Why the recording stopped before the call ended (a full disk, a write error).
    pub recording_stopped: Option<String>,
}

/// What an `SQLite` error means, in words for whoever reads the log or the terminal.
fn in_plain_words(error: &rusqlite::Error) -> String {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            format!("the database is locked by another process ({error})")
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            format!("the database is damaged ({error})")
        }
        Some(ErrorCode::DiskFull) => {
            format!("the disk is full, the database cannot grow ({error})")
        }
        _ => format!("database error: {error}"),
    }
}

/// The open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating and migrating as needed) `ringside.db` in `data_dir`. A database that
    /// is locked or damaged is reported as such, with its path.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        owner_only::secure(data_dir, DB_FILE)?;
        let path = data_dir.join(DB_FILE);
        let opened = (|| {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            let mut store = Store {
                conn,
                path: path.clone(),
            };
            store.migrate()?;
            Ok(store)
        })();
        opened.map_err(|error| with_path(&path, error))
    }

    /// [`Store::open`], then [`Store::check`]: for commands starting up.
    pub fn open_checked(data_dir: &Path) -> Result<Store, StoreError> {
        let store = Store::open(data_dir)?;
        store.check()?;
        Ok(store)
    }

    /// Checks at start-up that the database can be written (no other process holds its
    /// lock) and that `SQLite` finds it whole, so that a long-running command fails at once
    /// and in plain words rather than at its first write.
    pub fn check(&self) -> Result<(), StoreError> {
        let checked = (|| {
            self.conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?;
            let verdict: String = self
                .conn
                .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))?;
            match verdict.as_str() {
                "ok" => Ok(()),
                _ => Err(StoreError::Damaged(self.path.clone(), verdict)),
            }
        })();
        checked.map_err(|error| with_path(&self.path, error))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version as usize > MIGRATIONS.len() {
            return Err(StoreError::TooNew(version, MIGRATIONS.len()));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Begins a batch of writes, committed together by [`Store::commit_batch`]: one commit
    /// for many writes (each commit writes its pages to the WAL again). Takes the write lock
    /// at once, waiting for it as any write does.
    pub fn begin_batch(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Commits the batch [`Store::begin_batch`] began. If that fails (a full disk shows
    /// here, when the pages are written), the batch is rolled back: none of its writes
    /// stays, and the caller still has them to write again.
    pub fn commit_batch(&self) -> Result<(), StoreError> {
        let committed = self.conn.execute_batch("COMMIT");
        if committed.is_err() && !self.conn.is_autocommit() {
            // Some failures leave the transaction open; others (a full disk, an I/O error)
            // roll it back already.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        Ok(committed?)
    }

    /// Logs a new call and counts it in the phonebook; returns its row id. Both or neither,
    /// in a batch ([`Store::begin_batch`]) as alone.
    pub fn insert_call(&mut self, call: &NewCall<'_>) -> Result<i64, StoreError> {
        let tx = self.conn.savepoint()?;
        tx.execute(
            "INSERT INTO calls (call_id, direction, number, name, anonymous, caller_id_source,
                                caller_id_header, started_at, phone_address, remote_address,
                                blocked_by_filter, blocked_by, direction_source, presentation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                call.call_id,
                call.direction,
                call.number,
                call.name,
                call.presentation == Presentation::Withheld,
                call.caller_id_source,
                call.caller_id_header,
                rfc3339::format(call.started_at),
                call.phone_address,
                call.remote_address,
                call.blocked_by.map(|(id, _)| id),
                call.blocked_by.map(|(_, text)| text),
                call.direction_source,
                call.presentation
            ],
        )?;
        let id = tx.last_insert_rowid();
        if let Some(number) = call.number {
            // The network's name is updated; the user's name is never touched here.
            tx.execute(
                "INSERT INTO phonebook (number, network_name, first_seen, last_seen, calls)
                 VALUES (?1, ?2, ?3, ?3, 1)
                 ON CONFLICT (number) DO UPDATE SET
                     network_name = COALESCE(excluded.network_name, network_name),
                     last_seen = excluded.last_seen,
                     calls = calls + 1",
                params![number, call.name, rfc3339::format(call.started_at)],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records when a call was answered, and what showed it.
    pub fn set_answered(
        &self,
        id: i64,
        at: OffsetDateTime,
        by: AnswerEvidence,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET answered_at = ?2, answered_by = ?3 WHERE id = ?1",
            params![id, rfc3339::format(at), by],
        )?;
        Ok(())
    }

    /// Records the recording's path (relative to the data directory).
    pub fn set_recording(&self, id: i64, path: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET recording = ?2 WHERE id = ?1",
            params![id, path],
        )?;
        Ok(())
    }

    /// Forgets a call's recording (its file was deleted).
    pub fn clear_recording(&self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET recording = NULL WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// Records the raw-RTP pcap's path (relative to the data directory).
    pub fn set_raw_rtp(&self, id: i64, path: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET raw_rtp = ?2 WHERE id = ?1",
            params![id, path],
        )?;
        Ok(())
    }

    /// Records why a call's recording stopped before the call ended.
    pub fn set_recording_stopped(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET recording_stopped = ?2 WHERE id = ?1",
            params![id, reason],
        )?;
        Ok(())
    }

    /// Records how a call ended.
    pub fn finish_call(&self, id: i64, end: &CallEnd<'_>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calls SET ended_at = ?2, disposition = ?3, codec = ?4, quality = ?5,
                              gaps_skipped = ?6, answered_at = COALESCE(?7, answered_at),
                              answered_by = COALESCE(?8, answered_by)
             WHERE id = ?1",
            params![
                id,
                rfc3339::format(end.ended_at),
                end.disposition,
                end.codec,
                end.quality,
                i64::try_from(end.gaps_skipped).unwrap_or(i64::MAX),
                end.answer.map(|(at, _)| rfc3339::format(at)),
                end.answer.map(|(_, by)| by)
            ],
        )?;
        Ok(())
    }

    /// Gives calls that a crash left without an end the disposition their state implies
    /// (answered, else missed inbound / failed outbound); their end time stays unknown.
    /// Returns how many there were.
    pub fn settle_interrupted_calls(&self) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE calls SET disposition = CASE
                 WHEN answered_at IS NOT NULL THEN ?1
                 WHEN direction = ?2 THEN ?3
                 ELSE ?4 END
             WHERE disposition IS NULL",
            params![
                Disposition::Answered,
                CallDirection::Inbound,
                Disposition::Missed,
                Disposition::Failed
            ],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(number: Option<&'a str>, name: Option<&'a str>, at: &'a str) -> NewCall<'a> {
        NewCall {
            call_id: "c1",
            number,
            presentation: if number.is_some() {
                Presentation::Number
            } else {
                Presentation::Withheld
            },
            caller_id_header: "<sip:x@y>",
            ..crate::test_support::inbound_call("", name, at)
        }
    }

    #[test]
    fn user_names_win_over_network_names_and_survive_new_calls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("open");
        store
            .insert_call(&call(
                Some("15551234567"),
                Some("WIRELESS CALLER"),
                "2026-01-01T10:00:00Z",
            ))
            .expect("insert");
        store
            .set_phonebook_name(
                "15551234567",
                "Mom",
                time::macros::datetime!(2026-01-01 10:01 UTC),
            )
            .expect("set");
        store
            .insert_call(&call(
                Some("15551234567"),
                Some("CELL PHONE"),
                "2026-01-02T10:00:00Z",
            ))
            .expect("insert");
        let entry = store
            .phonebook_entry("15551234567")
            .expect("query")
            .expect("present");
        assert_eq!(entry.user_name.as_deref(), Some("Mom"));
        assert_eq!(entry.network_name.as_deref(), Some("CELL PHONE"));
        assert_eq!(entry.calls, 2);
        let calls = store.calls(10, 0).expect("calls");
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0].call.started_at,
            time::macros::datetime!(2026-01-02 10:00 UTC),
            "newest first"
        );
        assert_eq!(calls[0].call.party.display.as_deref(), Some("Mom"));
        assert_eq!(calls[0].call.party.name.as_deref(), Some("CELL PHONE"));
    }

    #[test]
    fn anonymous_calls_do_not_touch_the_phonebook_and_reopening_keeps_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut store = Store::open(dir.path()).expect("open");
            store
                .insert_call(&call(None, Some("Anonymous"), "2026-01-01T10:00:00Z"))
                .expect("insert");
        }
        let store = Store::open(dir.path()).expect("reopen");
        assert!(store.phonebook().expect("phonebook").is_empty());
        assert_eq!(store.calls(10, 0).expect("calls").len(), 1);
        assert!(!store.remove_phonebook_entry("123").expect("remove"));
    }
}
