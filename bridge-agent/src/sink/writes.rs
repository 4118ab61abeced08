//! The sink's writes to the call log, applied in order, and held back while the database
//! cannot take them (locked by another process, damaged, on a full disk): the sink logs the
//! trouble once in plain words, counts it, keeps the writes in memory — at most
//! [`MAX_BACKLOG`] of them, beyond that they are dropped and counted — and tries again
//! every [`RETRY_EVERY`]; once one goes through, the rest follow in order.
//!
//! The writes of one batch of events ([`EventSink::handle_all`]) are committed together: a
//! replay's 1,000 calls make 4,000 writes, and a commit each was 7 % of its CPU. Until the
//! commit, the sink keeps each write it applied and what it changed in its map of rows; if
//! the commit fails (a full disk shows there), those are undone and the writes held back, in
//! order, ahead of any others: a batch loses nothing that a write alone would not.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ringside_core::call::{AnswerEvidence, CallInfo, CallKey, Disposition};
use ringside_core::engine::CallSummary;
use ringside_core::voicemail::MessageSummary;
use ringside_core::Timestamp;
use ringside_hub::Stored;

use super::{leg_json, EventSink};
use crate::store::{CallEnd, NewCall, StoreError};
use crate::timefmt::utc;

/// The most writes held back while the database is unavailable (a call makes four or five).
pub const MAX_BACKLOG: usize = 1000;
/// How often held-back writes are tried again.
pub const RETRY_EVERY: Duration = Duration::from_secs(10);

/// One change to the call log.
#[derive(Debug)]
pub enum Write {
    /// A new call: its row.
    Insert(Box<CallInfo>),
    /// It was answered, and what showed it.
    Answered(CallKey, Timestamp, AnswerEvidence),
    /// Its WAV exists (path relative to the data directory).
    Recording(CallKey, String),
    /// Its raw-RTP pcap exists.
    RawRtp(CallKey, String),
    /// Its recording stopped before the call ended, and why.
    RecordingStopped(CallKey, String),
    /// The provider's voicemail report.
    Voicemail(Timestamp, MessageSummary),
    /// It ended.
    Finish(CallKey, Timestamp, Disposition, Box<CallSummary>),
}

/// The call log writes of one batch of events, committed together.
#[derive(Debug, Default)]
pub struct Batch {
    /// The transaction is open: the batch's first write began it.
    begun: bool,
    /// The writes applied in it, each with what it changed in the sink's rows.
    applied: Vec<(Write, RowChange)>,
    /// What the console is told once the batch is committed.
    stored: Vec<Stored>,
}

/// What a write changed in the sink's map from calls to rows, to undo it.
#[derive(Debug, Clone, Copy)]
enum RowChange {
    None,
    /// An insert gave the call its row.
    Added(CallKey),
    /// The call ended: its row is no longer needed.
    Removed(CallKey, i64),
}

/// Writes the database could not take yet, oldest first.
#[derive(Debug, Default)]
pub struct Backlog {
    writes: VecDeque<Write>,
    /// When the last attempt failed.
    failed_at: Option<Instant>,
    /// Writes dropped because the backlog was full.
    pub dropped: u64,
}

impl Backlog {
    /// Whether writes are held back.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Writes held back.
    #[must_use]
    pub fn len(&self) -> usize {
        self.writes.len()
    }
}

impl EventSink {
    /// Applies `write` now (in the batch's transaction, if a batch is open), or holds it
    /// back behind earlier writes that are waiting.
    pub(super) fn submit(&mut self, write: Write) {
        if self.backlog.is_empty() {
            match self.begin_batch().and_then(|()| self.apply_write(&write)) {
                Ok(change) => {
                    if let Some(batch) = self.open_batch() {
                        batch.applied.push((write, change));
                    }
                    return;
                }
                Err(error) => self.failed(&error),
            }
        }
        if self.backlog.writes.len() >= MAX_BACKLOG {
            if self.backlog.dropped == 0 {
                tracing::error!(
                    "{MAX_BACKLOG} call log writes are waiting for the database: later ones are dropped"
                );
            }
            self.backlog.dropped += 1;
            return;
        }
        self.backlog.writes.push_back(write);
    }

    /// Opens the transaction of the batch being handled, if there is one and it is not open
    /// yet: at its first write, so that a database that cannot take writes makes that write
    /// wait and fail, as it would alone.
    fn begin_batch(&mut self) -> Result<(), StoreError> {
        if let Some(batch) = self.batch.as_mut().filter(|b| !b.begun) {
            self.store.begin_batch()?;
            batch.begun = true;
        }
        Ok(())
    }

    /// Commits the batch being handled. If the commit fails, the batch's writes are undone
    /// and held back, in order, ahead of the writes already waiting (past [`MAX_BACKLOG`] by
    /// at most one batch's writes: they were taken, so they are not dropped).
    pub(super) fn commit_batch(&mut self) {
        let Some(batch) = self.batch.take().filter(|b| b.begun) else {
            return;
        };
        match self.store.commit_batch() {
            Ok(()) => {
                for what in batch.stored {
                    self.tell(what);
                }
            }
            Err(error) => {
                self.failed(&error);
                for (write, change) in batch.applied.into_iter().rev() {
                    match change {
                        RowChange::None => {}
                        RowChange::Added(key) => {
                            self.rows.remove(&key);
                        }
                        RowChange::Removed(key, id) => {
                            self.rows.insert(key, id);
                        }
                    }
                    self.backlog.writes.push_front(write);
                }
            }
        }
    }

    /// The batch being handled, once its transaction is open.
    fn open_batch(&mut self) -> Option<&mut Batch> {
        self.batch.as_mut().filter(|b| b.begun)
    }

    /// Tells the console what was stored: at once, or once the open batch is committed.
    fn stored(&mut self, what: Stored) {
        match self.open_batch() {
            Some(batch) => batch.stored.push(what),
            None => self.tell(what),
        }
    }

    /// Tries the held-back writes again if [`RETRY_EVERY`] has passed (or `now_anyway`);
    /// not inside an open batch, whose commit may still fail.
    pub fn retry(&mut self, now_anyway: bool) {
        let due = self
            .backlog
            .failed_at
            .is_none_or(|at| at.elapsed() >= RETRY_EVERY);
        if self.backlog.is_empty() || !(due || now_anyway) || self.open_batch().is_some() {
            return;
        }
        let waiting = self.backlog.writes.len();
        while let Some(write) = self.backlog.writes.pop_front() {
            if let Err(error) = self.apply_write(&write) {
                self.backlog.writes.push_front(write);
                self.failed(&error);
                return;
            }
        }
        self.backlog.failed_at = None;
        tracing::warn!("the database takes writes again: {waiting} waiting ones caught up");
    }

    /// Counts a failed write; says so when an outage begins.
    fn failed(&mut self, error: &StoreError) {
        self.report.store_errors += 1;
        if self.backlog.is_empty() {
            tracing::error!(
                "the call log cannot be written: {error}; calls go on and are kept in memory \
                 (up to {MAX_BACKLOG} writes), tried again every {} s",
                RETRY_EVERY.as_secs()
            );
        }
        self.backlog.failed_at = Some(Instant::now());
    }

    fn apply_write(&mut self, write: &Write) -> Result<RowChange, StoreError> {
        let key = match write {
            Write::Insert(info) => {
                self.insert(info)?;
                return Ok(RowChange::Added(info.key));
            }
            Write::Voicemail(at, summary) => {
                let (waiting, new, old) = (summary.waiting, summary.new, summary.old);
                self.store.record_voicemail(utc(*at), waiting, new, old)?;
                self.stored(Stored::Voicemail);
                return Ok(RowChange::None);
            }
            Write::Answered(key, ..)
            | Write::Recording(key, _)
            | Write::RawRtp(key, _)
            | Write::RecordingStopped(key, _)
            | Write::Finish(key, ..) => *key,
        };
        // A call whose row was dropped with a full backlog has nothing to update.
        let Some(&id) = self.rows.get(&key) else {
            return Ok(RowChange::None);
        };
        match write {
            Write::Answered(_, at, by) => self.store.set_answered(id, utc(*at), *by)?,
            Write::Recording(_, path) => self.store.set_recording(id, path)?,
            Write::RawRtp(_, path) => self.store.set_raw_rtp(id, path)?,
            Write::RecordingStopped(_, note) => self.store.set_recording_stopped(id, note)?,
            Write::Finish(_, at, disposition, summary) => {
                self.finish_row(id, *at, *disposition, summary)?;
                self.rows.remove(&key);
                self.stored(Stored::CallLogged);
                return Ok(RowChange::Removed(key, id));
            }
            Write::Insert(_) | Write::Voicemail(..) => {}
        }
        Ok(RowChange::None)
    }

    fn insert(&mut self, info: &CallInfo) -> Result<(), StoreError> {
        let party = &info.party;
        let blocked_by = info.blocked_by.as_ref().map(|f| {
            (
                f.id,
                format!("{} {} {}", f.action.as_str(), f.field.as_str(), f.pattern),
            )
        });
        let id = self.store.insert_call(&NewCall {
            call_id: &info.call_id,
            direction: info.direction,
            direction_source: info.direction_source,
            number: party.number.as_deref(),
            name: party.name.as_deref(),
            presentation: party.presentation,
            caller_id_source: party.source,
            caller_id_header: &party.raw,
            started_at: utc(info.started_at),
            phone_address: &info.phone.to_string(),
            remote_address: &info.remote.to_string(),
            blocked_by: blocked_by.as_ref().map(|(id, text)| (*id, text.as_str())),
        })?;
        self.rows.insert(info.key, id);
        Ok(())
    }

    fn finish_row(
        &self,
        id: i64,
        at: Timestamp,
        disposition: Disposition,
        summary: &CallSummary,
    ) -> Result<(), StoreError> {
        let quality = serde_json::json!({
            "remote": leg_json(&summary.quality[0]),
            "phone": leg_json(&summary.quality[1]),
            "stray_packets": summary.stray_packets,
        });
        let any_rtp = summary.media_started_at.is_some()
            || summary.stray_packets > 0
            || summary.quality.iter().any(|leg| leg.packets > 0);
        self.store.finish_call(
            id,
            &CallEnd {
                ended_at: utc(at),
                disposition,
                codec: summary.codec.map(ringside_core::sdp::Codec::as_str),
                quality: any_rtp.then(|| quality.to_string()).as_deref(),
                gaps_skipped: summary.gaps_skipped,
                answer: summary
                    .answered_at
                    .zip(summary.answered_by)
                    .map(|(at, by)| (utc(at), by)),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Recorder;
    use crate::store::Store;
    use ringside_core::call::CallDirection;
    use ringside_core::caller_id::{CallerId, CallerIdSource};
    use ringside_core::Event;

    fn started(key: u64) -> Event {
        Event::CallStarted(CallInfo {
            key: CallKey(key),
            call_id: format!("held-{key}"),
            direction: CallDirection::Inbound,
            direction_source: ringside_core::call::DirectionSource::BridgePort,
            party: CallerId {
                number: Some("15550100001".into()),
                name: None,
                presentation: ringside_core::caller_id::Presentation::Number,
                source: CallerIdSource::From,
                raw: String::new(),
            },
            started_at: Timestamp(1_795_521_600_000_000),
            phone: "192.168.1.20:5060".parse().expect("address"),
            remote: "203.0.113.5:5060".parse().expect("address"),
            blocked_by: None,
        })
    }

    #[test]
    fn a_locked_database_holds_the_call_log_back_bounded_until_it_is_free() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let mut sink = EventSink::new(store, Recorder::new(dir.path()));
        let holder = rusqlite::Connection::open(dir.path().join("ringside.db")).expect("open");
        holder.execute_batch("BEGIN IMMEDIATE").expect("write lock");
        let at = Timestamp(1_795_521_601_000_000);
        sink.handle(started(1));
        sink.handle(Event::CallAnswered {
            call: CallKey(1),
            at,
            by: AnswerEvidence::Ok200,
        });
        sink.handle(Event::CallEnded {
            call: CallKey(1),
            at,
            disposition: Disposition::Answered,
            summary: CallSummary::default(),
        });
        assert_eq!(sink.backlog.len(), 3, "kept in memory");
        assert_eq!(
            sink.report.store_errors, 1,
            "one wait for the lock, not three"
        );
        for _ in 0..MAX_BACKLOG {
            sink.handle(Event::Voicemail {
                at,
                summary: MessageSummary::default(),
                phone: "192.168.1.20:5060".parse().expect("address"),
            });
        }
        assert_eq!(sink.backlog.len(), MAX_BACKLOG, "bounded");
        assert_eq!(sink.backlog.dropped, 3);

        holder.execute_batch("ROLLBACK").expect("release");
        sink.retry(true);
        assert!(sink.backlog.is_empty());
        let report = sink.finish();
        assert_eq!(report.unwritten, 3, "only what the bound dropped");
        let calls = Store::open(dir.path())
            .expect("store")
            .calls(10, 0)
            .expect("calls");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].disposition, Some(Disposition::Answered));
        assert!(calls[0].call.answered_at.is_some());
    }

    /// A call's four writes: its row, its answer, its recording, its end.
    fn whole_call(key: u64) -> Vec<Event> {
        let at = Timestamp(1_795_521_601_000_000);
        vec![
            started(key),
            Event::CallAnswered {
                call: CallKey(key),
                at,
                by: AnswerEvidence::Ok200,
            },
            Event::CallEnded {
                call: CallKey(key),
                at,
                disposition: Disposition::Answered,
                summary: CallSummary::default(),
            },
        ]
    }

    /// The call log in `dir` holds `count` calls, each answered and ended.
    fn assert_whole_calls_logged(dir: &std::path::Path, count: usize) {
        let calls = Store::open(dir)
            .expect("store")
            .calls(50, 0)
            .expect("calls");
        assert_eq!(calls.len(), count, "every call logged");
        for call in calls {
            assert_eq!(call.disposition, Some(Disposition::Answered));
            assert!(call.call.answered_at.is_some(), "{call:?}");
        }
    }

    /// The size of the data directory's WAL.
    fn wal_bytes(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("ringside.db-wal")).map_or(0, |m| m.len())
    }

    #[test]
    fn a_batch_of_events_is_committed_once() {
        let [one_by_one, batched] = [false, true].map(|batch| {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path()).expect("store");
            let mut sink = EventSink::new(store, Recorder::new(dir.path()));
            let before = wal_bytes(dir.path());
            let events: Vec<Event> = (1..=20).flat_map(whole_call).collect();
            if batch {
                sink.handle_all(events);
            } else {
                for event in events {
                    sink.handle(event);
                }
            }
            let grown = wal_bytes(dir.path()) - before;
            let report = sink.finish();
            assert_eq!((report.store_errors, report.unwritten), (0, 0));
            assert_whole_calls_logged(dir.path(), 20);
            grown
        });
        // Each commit writes the pages it changed to the WAL again: 60 commits of the same
        // few pages, or one.
        assert!(
            batched * 10 < one_by_one,
            "WAL grew by {batched} bytes batched, {one_by_one} one by one"
        );
    }

    /// A tmpfs mounted over a folder, unmounted on drop.
    struct Tmpfs(std::path::PathBuf);

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }

    /// A full disk shows when the batch's pages are written, at its commit: the whole batch
    /// was lost if the sink had not kept its writes to write again.
    #[test]
    fn a_full_disk_at_a_batch_commit_holds_the_batch_back_and_loses_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mount point");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&data)
            .status()
            .expect("run mount");
        assert!(
            mounted.success(),
            "cannot mount a tmpfs (this test needs root)"
        );
        let _disk = Tmpfs(data.clone());
        let store = Store::open(&data).expect("store");
        let mut sink = EventSink::new(store, Recorder::new(&data));
        sink.handle_all(whole_call(1));
        assert!(sink.backlog.is_empty());

        let filler = data.join("filler");
        let free = crate::store::recording_path::free_bytes(&data);
        std::fs::write(&filler, vec![0u8; free as usize]).expect("fill the disk");
        sink.handle_all((2..=6).flat_map(whole_call).collect());
        assert_eq!(sink.report.store_errors, 1, "the commit failed");
        assert_eq!(sink.backlog.len(), 15, "the batch's writes are held back");
        assert!(
            (2..=6).all(|key| !sink.rows.contains_key(&CallKey(key))),
            "no row kept from the rolled-back batch"
        );

        std::fs::remove_file(&filler).expect("make room");
        let report = sink.finish();
        assert_eq!(report.unwritten, 0, "nothing lost");
        assert_whole_calls_logged(&data, 6);
    }
}
