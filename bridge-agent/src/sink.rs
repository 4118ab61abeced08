//! Where engine events go: the store and the recorder, on a thread of their own fed by a
//! bounded channel, so the packet path never waits on disk (DESIGN rule 1).

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringside_core::call::{CallKey, Disposition};
use ringside_core::Event;
use ringside_hub::{LiveHub, Stored};

use crate::recorder::{Appended, Recorder};
use crate::retention;
use crate::store::{Setting, Store};

mod writes;

use writes::{Backlog, Batch, Write};

/// What the sink did, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkReport {
    /// How each call logged ended, in the order they ended.
    pub calls: Vec<Disposition>,
    /// WAV recordings written.
    pub recordings: u64,
    /// Raw-RTP pcaps written.
    pub raw_rtp: u64,
    /// Recording write errors.
    pub recorder_errors: u64,
    /// Failed database writes (each counted, the first of an outage logged).
    pub store_errors: u64,
    /// Call log writes that never reached the database (it stayed unavailable).
    pub unwritten: u64,
    /// Events dropped because the channel was full (live mode only).
    pub dropped: u64,
}

/// Applies events to the store and the recorder.
pub struct EventSink {
    store: Store,
    recorder: Recorder,
    rows: HashMap<CallKey, i64>,
    report: SinkReport,
    /// Call log writes waiting for the database.
    backlog: Backlog,
    /// The batch of events being handled, whose writes are committed together.
    batch: Option<Batch>,
    /// Run retention (the live agent; replays do not).
    maintain: bool,
    /// Told when an ended call or a voicemail report is stored (the live agent's console).
    hub: Option<LiveHub>,
}

/// How often the live sink applies the retention caps.
const MAINTENANCE_EVERY: Duration = Duration::from_mins(10);

impl EventSink {
    /// A sink over an open store and recorder, which keeps the settings' free-space floor
    /// from the start (a replay as much as the live agent: neither may fill the disk).
    #[must_use]
    pub fn new(store: Store, recorder: Recorder) -> EventSink {
        let mut sink = EventSink {
            store,
            recorder,
            rows: HashMap::new(),
            report: SinkReport::default(),
            backlog: Backlog::default(),
            batch: None,
            maintain: false,
            hub: None,
        };
        sink.read_floor();
        sink
    }

    /// The same, telling the console's open pages what it has stored.
    #[must_use]
    pub fn notifying(self, hub: LiveHub) -> EventSink {
        EventSink {
            hub: Some(hub),
            ..self
        }
    }

    fn tell(&self, what: Stored) {
        if let Some(hub) = &self.hub {
            hub.stored(what);
        }
    }

    /// The same, applying the retention caps and reading the free-space floor again from
    /// time to time (the live agent).
    #[must_use]
    pub fn with_maintenance(self) -> EventSink {
        EventSink {
            maintain: true,
            ..self
        }
    }

    /// Reads the free-space floor and applies the retention caps.
    pub fn maintain(&mut self, now: ringside_core::Timestamp) {
        self.read_floor();
        if let Err(error) = retention::sweep(&self.store, self.recorder.data_dir(), now) {
            tracing::error!("retention: {error}");
        }
    }

    /// Takes the settings' free-space floor (500 MB when the setting cannot be read).
    fn read_floor(&mut self) {
        let floor = self
            .store
            .setting(Setting::MinFreeMegabytes)
            .map_or(500, |v| Setting::number(&v));
        self.recorder.min_free_bytes = floor.saturating_mul(1_000_000);
    }

    /// Applies one event: files at once, the call log through [`writes`] (held back and
    /// retried while the database cannot take them). A broken disk loses records, never
    /// calls.
    pub fn handle(&mut self, event: Event) {
        self.retry(false);
        match event {
            Event::CallStarted(info) => {
                let key = info.key;
                let started_at = info.started_at;
                self.submit(Write::Insert(Box::new(info)));
                // The file is named after the row; a call the database has not taken yet
                // gets a name of its own.
                let label = self.rows.get(&key).map_or_else(
                    || format!("pending-{}-{}", key.0, started_at.as_micros() % 1_000_000),
                    ToString::to_string,
                );
                self.recorder.start(key, started_at, &label);
            }
            Event::CallRinging { .. } => {}
            Event::Voicemail { at, summary, .. } => self.submit(Write::Voicemail(at, summary)),
            Event::CallAnswered { call, at, by } => self.submit(Write::Answered(call, at, by)),
            Event::Audio {
                call,
                offset,
                frames,
            } => self.record(call, offset, &frames),
            Event::RawRtp {
                call,
                at,
                src,
                dst,
                payload,
            } => {
                let appended = self.recorder.append_raw(call, at, (src, dst), &payload);
                self.note(call, appended, Write::RawRtp);
            }
            Event::CallEnded {
                call,
                at,
                disposition,
                summary,
            } => {
                let finished = self.recorder.finish(call);
                self.report.recordings += u64::from(finished.wav.is_some());
                self.report.raw_rtp += u64::from(finished.raw_rtp.is_some());
                self.report.calls.push(disposition);
                self.submit(Write::Finish(call, at, disposition, Box::new(summary)));
            }
        }
    }

    /// Applies a batch of events in order, their call log writes committed together (see
    /// [`writes`]).
    pub fn handle_all(&mut self, events: Vec<Event>) {
        if events.len() > 1 {
            self.batch = Some(Batch::default());
        }
        for event in events {
            self.handle(event);
        }
        self.commit_batch();
    }

    /// Writes a chunk of a call's audio; the call log learns where its WAV is, and why it
    /// stopped if it did (the console's live view too).
    fn record(&mut self, call: CallKey, offset: u64, frames: &[ringside_core::mixer::Frame]) {
        let appended = self.recorder.append(call, offset, frames);
        self.note(call, appended, Write::Recording);
    }

    /// Tells the call log (and the console's live view) what an append changed: the file
    /// it created (`created` makes the write), or why recording stopped.
    fn note(
        &mut self,
        call: CallKey,
        appended: Appended,
        created: impl FnOnce(CallKey, String) -> Write,
    ) {
        if let Some(path) = appended.created {
            self.submit(created(call, path));
        }
        if let Some(note) = appended.stopped {
            if let Some(hub) = &self.hub {
                hub.recording(call.0, false);
            }
            self.submit(Write::RecordingStopped(call, note));
        }
    }

    /// Closes whatever is still open, tries the held-back writes a last time, and reports.
    pub fn finish(mut self) -> SinkReport {
        for _ in self.recorder.finish_all() {
            self.report.recordings += 1;
        }
        self.retry(true);
        if !self.backlog.is_empty() || self.backlog.dropped > 0 {
            tracing::error!(
                "{} call log writes never reached the database",
                self.backlog.len() as u64 + self.backlog.dropped
            );
        }
        self.report.unwritten = self.backlog.len() as u64 + self.backlog.dropped;
        self.report.recorder_errors = self.recorder.errors;
        self.report
    }
}

fn leg_json(stats: &ringside_core::playout::LegStats) -> serde_json::Value {
    // A struct of integers always serialises; `Null` is never written.
    serde_json::to_value(stats).unwrap_or_default()
}

/// The sink running on its own thread. Events travel in batches, each one wake-up of the
/// thread: a replay sends many events at once (waking the thread for every event took a
/// tenth of a replay's CPU), the live agent the few that one packet gave.
pub struct SinkThread {
    sender: SyncSender<Vec<Event>>,
    thread: JoinHandle<SinkReport>,
    dropped: u64,
}

impl SinkThread {
    /// Starts the thread with a channel of `capacity` batches.
    pub fn spawn(sink: EventSink, capacity: usize) -> std::io::Result<SinkThread> {
        let (sender, receiver) = sync_channel(capacity);
        let thread = std::thread::Builder::new()
            .name("ringside-sink".into())
            .spawn(move || drain(sink, &receiver))?;
        Ok(SinkThread {
            sender,
            thread,
            dropped: 0,
        })
    }

    /// Sends a batch of events, waiting for room (replays: nothing may be lost).
    pub fn send(&mut self, events: Vec<Event>) {
        if let Err(unsent) = self.sender.send(events) {
            self.dropped += unsent.0.len() as u64;
        }
    }

    /// Sends a batch of events if there is room, else drops and counts them (live: never
    /// wait).
    pub fn try_send(&mut self, events: Vec<Event>) {
        if let Err(TrySendError::Full(unsent) | TrySendError::Disconnected(unsent)) =
            self.sender.try_send(events)
        {
            self.dropped += unsent.len() as u64;
        }
    }

    /// Closes the channel, waits for the thread, and reports.
    #[must_use]
    pub fn finish(self) -> SinkReport {
        drop(self.sender);
        let mut report = self.thread.join().unwrap_or_else(|_| SinkReport {
            store_errors: 1,
            ..SinkReport::default()
        });
        report.dropped = self.dropped;
        report
    }
}

fn drain(mut sink: EventSink, receiver: &Receiver<Vec<Event>>) -> SinkReport {
    if !sink.maintain {
        while let Ok(events) = receiver.recv() {
            sink.handle_all(events);
        }
        return sink.finish();
    }
    let mut next = Instant::now();
    loop {
        if Instant::now() >= next {
            sink.maintain(crate::timefmt::now());
            next = Instant::now() + MAINTENANCE_EVERY;
        }
        match receiver.recv_timeout(Duration::from_secs(5)) {
            Ok(events) => sink.handle_all(events),
            Err(RecvTimeoutError::Timeout) => sink.retry(false),
            Err(RecvTimeoutError::Disconnected) => return sink.finish(),
        }
    }
}
