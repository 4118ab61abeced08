//! Where engine events go: the store and the recorder, on a thread of their own fed by a
//! bounded channel, so the packet path never waits on disk (DESIGN rule 1).

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringside_core::call::CallKey;
use ringside_core::sdp::Codec;
use ringside_core::Event;
use web_console::live::{LiveHub, Stored};

use crate::recorder::Recorder;
use crate::retention;
use crate::store::{CallEnd, NewCall, Setting, Store};
use crate::timefmt::rfc3339;

/// What the sink did, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkReport {
    /// Calls logged, with their disposition.
    pub calls: Vec<String>,
    /// WAV recordings written.
    pub recordings: u64,
    /// Raw-RTP pcaps written.
    pub raw_rtp: u64,
    /// Recording write errors.
    pub recorder_errors: u64,
    /// Database errors (each logged).
    pub store_errors: u64,
    /// Events dropped because the channel was full (live mode only).
    pub dropped: u64,
}

/// Applies events to the store and the recorder.
pub struct EventSink {
    store: Store,
    recorder: Recorder,
    rows: HashMap<CallKey, i64>,
    report: SinkReport,
    /// Run retention and the free-space floor (the live agent; replays do not).
    maintain: bool,
    /// Told when an ended call or a voicemail report is stored (the live agent's console).
    hub: Option<LiveHub>,
}

/// How often the live sink applies the retention caps.
const MAINTENANCE_EVERY: Duration = Duration::from_mins(10);

impl EventSink {
    /// A sink over an open store and recorder.
    #[must_use]
    pub fn new(store: Store, recorder: Recorder) -> EventSink {
        EventSink {
            store,
            recorder,
            rows: HashMap::new(),
            report: SinkReport::default(),
            maintain: false,
            hub: None,
        }
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

    /// The same, applying the retention caps and the free-space floor of the settings from
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
        let floor = self
            .store
            .setting(Setting::MinFreeMegabytes)
            .map_or(500, |v| Setting::number(&v));
        self.recorder.min_free_bytes = floor.saturating_mul(1_000_000);
        if let Err(error) = retention::sweep(&self.store, self.recorder.data_dir(), now) {
            tracing::error!("retention: {error}");
        }
    }

    /// Applies one event. Errors are logged and counted: a broken disk loses records, never
    /// calls.
    pub fn handle(&mut self, event: Event) {
        if let Err(error) = self.apply(event) {
            tracing::error!("could not store an event: {error}");
            self.report.store_errors += 1;
        }
    }

    fn apply(&mut self, event: Event) -> Result<(), crate::store::StoreError> {
        match event {
            Event::CallStarted(info) => {
                let party = &info.party;
                let blocked_by = info.blocked_by.as_ref().map(|f| {
                    (
                        f.id,
                        format!("{} {} {}", f.action.as_str(), f.field.as_str(), f.pattern),
                    )
                });
                let id = self.store.insert_call(&NewCall {
                    call_id: &info.call_id,
                    direction: info.direction.as_str(),
                    number: party.number.as_deref(),
                    name: party.name.as_deref(),
                    anonymous: party.anonymous,
                    caller_id_source: party.source.as_str(),
                    caller_id_header: &party.raw,
                    started_at: &rfc3339(info.started_at),
                    phone_address: &info.phone.to_string(),
                    remote_address: &info.remote.to_string(),
                    blocked_by: blocked_by.as_ref().map(|(id, text)| (*id, text.as_str())),
                })?;
                self.rows.insert(info.key, id);
                self.recorder.start(info.key, info.started_at, id);
            }
            Event::CallRinging { .. } => {}
            Event::Voicemail { at, summary, .. } => {
                self.store.record_voicemail(
                    &rfc3339(at),
                    summary.waiting,
                    summary.new,
                    summary.old,
                )?;
                self.tell(Stored::Voicemail);
            }
            Event::CallAnswered { call, at } => {
                if let Some(&id) = self.rows.get(&call) {
                    self.store.set_answered(id, &rfc3339(at))?;
                }
            }
            Event::Audio {
                call,
                offset,
                frames,
            } => self.record(call, offset, &frames)?,
            Event::RawRtp {
                call,
                at,
                src,
                dst,
                payload,
            } => {
                if let (Some(path), Some(&id)) = (
                    self.recorder.append_raw(call, at, src, dst, &payload),
                    self.rows.get(&call),
                ) {
                    self.store.set_raw_rtp(id, &path)?;
                }
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
                self.report.calls.push(disposition.as_str().to_owned());
                let Some(id) = self.rows.remove(&call) else {
                    return Ok(());
                };
                let quality = serde_json::json!({
                    "remote": leg_json(&summary.quality[0]),
                    "phone": leg_json(&summary.quality[1]),
                });
                self.store.finish_call(
                    id,
                    &CallEnd {
                        ended_at: &rfc3339(at),
                        disposition: disposition.as_str(),
                        codec: summary.codec.map(codec_name),
                        quality: summary
                            .media_started_at
                            .map(|_| quality.to_string())
                            .as_deref(),
                        gaps_skipped: summary.gaps_skipped,
                    },
                )?;
                self.tell(Stored::CallLogged);
            }
        }
        Ok(())
    }

    /// Writes a chunk of a call's audio; the call log learns where its WAV is, and why it
    /// stopped if it did (the console's live view too).
    fn record(
        &mut self,
        call: CallKey,
        offset: u64,
        frames: &[ringside_core::mixer::Frame],
    ) -> Result<(), crate::store::StoreError> {
        let appended = self.recorder.append(call, offset, frames);
        let Some(&id) = self.rows.get(&call) else {
            return Ok(());
        };
        if let Some(path) = appended.created {
            self.store.set_recording(id, &path)?;
        }
        if let Some(note) = appended.stopped {
            if let Some(hub) = &self.hub {
                hub.recording(call.0, false);
            }
            self.store.set_recording_stopped(id, &note)?;
        }
        Ok(())
    }

    /// Closes whatever is still open and reports.
    pub fn finish(mut self) -> SinkReport {
        for _ in self.recorder.finish_all() {
            self.report.recordings += 1;
        }
        self.report.recorder_errors = self.recorder.errors;
        self.report
    }
}

fn leg_json(stats: &ringside_core::playout::LegStats) -> serde_json::Value {
    serde_json::json!({
        "packets": stats.packets,
        "lost": stats.lost,
        "duplicates": stats.duplicates,
        "late": stats.late,
        "resyncs": stats.resyncs,
        "ssrc_changes": stats.ssrc_changes,
    })
}

fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Pcmu => "PCMU",
        Codec::Pcma => "PCMA",
        Codec::TelephoneEvent => "telephone-event",
        Codec::ComfortNoise => "CN",
        Codec::Other => "other",
    }
}

/// The sink running on its own thread.
pub struct SinkThread {
    sender: SyncSender<Event>,
    thread: JoinHandle<SinkReport>,
    dropped: u64,
}

impl SinkThread {
    /// Starts the thread with a channel of `capacity` events.
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

    /// Sends an event, waiting for room (replays: nothing may be lost).
    pub fn send(&mut self, event: Event) {
        if self.sender.send(event).is_err() {
            self.dropped += 1;
        }
    }

    /// Sends an event if there is room, else drops and counts it (live: never wait).
    pub fn try_send(&mut self, event: Event) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.sender.try_send(event)
        {
            self.dropped += 1;
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

fn drain(mut sink: EventSink, receiver: &Receiver<Event>) -> SinkReport {
    if !sink.maintain {
        while let Ok(event) = receiver.recv() {
            sink.handle(event);
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
            Ok(event) => sink.handle(event),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return sink.finish(),
        }
    }
}
