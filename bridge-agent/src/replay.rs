//! `ringside replay`: the live engine run over a capture file (or a SIP text trace), with
//! time taken from the packets, into a data directory.
//!
//! A replay never loses the calls it has read. A capture that ends in a broken or cut-short
//! packet (a `tcpdump` killed mid-write, a file cut in transfer, a gzip bomb stopped by
//! [`crate::capture`]) is read up to there, its calls ended and logged as at the end of a
//! whole file, and the summary says where it stopped. A packet that makes the engine panic
//! (a bug) is handled as the live agent handles it: its call is ended, the replay goes on
//! with every other call, and the summary names the frame (so the capture reproduces the bug
//! in a report); going on rather than stopping keeps the replay what the live agent would
//! have logged. Should settling the call panic too, the replay stops reading there and still
//! logs every call read before.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ringside_core::call::Disposition;
use ringside_core::engine::EngineStats;
use ringside_core::packet::LinkType;
use ringside_core::{Engine, EngineConfig, Event, Timestamp};

use crate::announcer::AnnouncerThread;
use crate::capture::{file_kind, Capture, FileKind};
use crate::recorder::{repair_recordings, Recorder};
use crate::recovery::message;
use crate::sink::{EventSink, SinkReport, SinkThread};
use crate::store::Store;

/// How a replay runs.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Show a progress bar (for large captures on a terminal).
    pub progress: bool,
    /// The engine's timers and limits.
    pub engine: EngineConfig,
    /// Announce the calls on the LAN, to these addresses, as the live agent would.
    pub announce: Vec<SocketAddr>,
}

/// Where engine events go during a replay.
struct Outputs {
    sink: SinkThread,
    announcer: Option<AnnouncerThread>,
    /// Events waiting to go to the sink together.
    batch: Vec<Event>,
}

impl Outputs {
    /// Takes the engine's events; they go to the sink [`BATCH_EVENTS`] at a time.
    fn drain(&mut self, engine: &mut Engine) {
        while let Some(event) = engine.poll_event() {
            if let Some(announcer) = &mut self.announcer {
                announcer.offer(&event);
            }
            self.batch.push(event);
        }
        if self.batch.len() >= BATCH_EVENTS {
            self.flush();
        }
    }

    /// Sends the events taken so far; a replay waits for the disk rather than drop them.
    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_EVENTS));
            self.sink.send(batch);
        }
    }
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplaySummary {
    /// The engine's counters.
    pub engine: EngineStats,
    /// The sink's report.
    pub sink: SinkReport,
    /// Frames on interfaces Ringside cannot decode.
    pub skipped_frames: u64,
    /// Recordings whose headers were mended at start-up.
    pub repaired: usize,
    /// Wall-clock seconds the replay took.
    pub seconds: f64,
    /// Where and why reading stopped before the end of the file, if it did.
    pub cut_short: Option<CutShort>,
    /// Frames that made the engine panic (their calls were ended; the replay went on), the
    /// first hundred.
    pub panics: Vec<PanicFrame>,
    /// How many frames made the engine panic in all.
    pub panics_total: u64,
}

/// A capture that could not be read to its end.
#[derive(Debug, Clone)]
pub struct CutShort {
    /// Frames read whole before the broken one.
    pub frames_read: u64,
    /// What was wrong.
    pub error: String,
}

/// A frame the engine panicked on.
#[derive(Debug, Clone)]
pub struct PanicFrame {
    /// Its number in the capture (the first is 1, as in Wireshark; 0 for a SIP text trace,
    /// read as one piece).
    pub frame: u64,
    /// What the panic said.
    pub message: String,
}

/// What reading a capture found besides calls.
#[derive(Debug, Default)]
struct Reading {
    skipped_frames: u64,
    cut_short: Option<CutShort>,
    panics: Vec<PanicFrame>,
    panics_total: u64,
}

/// A replay hands audio to the recorder in chunks of 1.024 s, 32 KiB of WAV (the live
/// agent's are half that): writing files in 32 KiB pieces, each on a 32 KiB boundary of the
/// file, costs the kernel a third less than 16 KB pieces. The live agent's chunk is bounded by
/// what a crash may lose; a replay that crashes is run again.
const REPLAY_CHUNK_FRAMES: usize = 8192;

/// Events sent to the sink at once.
const BATCH_EVENTS: usize = 64;

/// Batches waiting for the disk at most; a replay waits rather than drop them. Most events
/// are 1.024-second chunks of a call's audio (32 KiB): two batches of 64 (4 MB) keep the sink
/// busy as well as more did, and bound what it lags behind by whatever the number of calls
/// (4,096 single events let a replay of 1,000 calls peak at 143 MiB; 8 batches, 100 MiB;
/// 2, 85 MiB).
const CHANNEL_CAPACITY: usize = 2;

/// Replays `capture` into `data_dir` (created if needed).
pub fn replay(
    capture: &Path,
    data_dir: &Path,
    options: &ReplayOptions,
) -> anyhow::Result<ReplaySummary> {
    let started = Instant::now();
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let repaired = repair_recordings(data_dir)
        .context("cannot check the recordings for crash damage")?
        .len();
    let store = Store::open_checked(data_dir)
        .with_context(|| format!("cannot open the database in {}", data_dir.display()))?;
    let mut engine = Engine::new(EngineConfig {
        recording_chunk_frames: REPLAY_CHUNK_FRAMES,
        ..options.engine.clone()
    });
    // The filters and settings of the data directory apply, as they would live.
    engine.set_policy(store.policy().context("cannot read the filters")?);
    let mut out = Outputs::start(data_dir, store, options)?;
    let reading = read_into(&mut engine, &mut out, capture, options.progress);
    out.flush();
    let reading = reading?;
    if let Some(announcer) = out.announcer {
        let failures = announcer.finish();
        if failures > 0 {
            tracing::warn!("{failures} announcements could not be sent");
        }
    }
    let report = out.sink.finish();
    Ok(ReplaySummary {
        engine: engine.stats(),
        sink: report,
        skipped_frames: reading.skipped_frames,
        repaired,
        seconds: started.elapsed().as_secs_f64(),
        cut_short: reading.cut_short,
        panics: reading.panics,
        panics_total: reading.panics_total,
    })
}

impl Outputs {
    /// The sink thread over `store` and the recordings of `data_dir`, and the announcer when
    /// the options name targets.
    fn start(data_dir: &Path, store: Store, options: &ReplayOptions) -> anyhow::Result<Outputs> {
        let announcer = if options.announce.is_empty() {
            None
        } else {
            Some(AnnouncerThread::spawn(data_dir, options.announce.clone())?)
        };
        let sink = SinkThread::spawn(
            EventSink::new(store, Recorder::new(data_dir)),
            CHANNEL_CAPACITY,
        )?;
        Ok(Outputs {
            sink,
            announcer,
            batch: Vec::with_capacity(BATCH_EVENTS),
        })
    }
}

/// Reads `capture`, a text trace of SIP or a packet capture (told apart by its first bytes),
/// into the engine, with a progress bar on the terminal when `progress`.
fn read_into(
    engine: &mut Engine,
    out: &mut Outputs,
    capture: &Path,
    progress: bool,
) -> anyhow::Result<Reading> {
    let mut file =
        File::open(capture).with_context(|| format!("cannot open {}", capture.display()))?;
    let mut start = [0u8; 2048];
    let n = file.read(&mut start)?;
    drop(file);
    let file = File::open(capture)?;
    Ok(match file_kind(&start[..n]) {
        FileKind::SipText => replay_sip_text(engine, out, file)?,
        FileKind::Capture => {
            let progress = progress.then(|| progress_bar(capture));
            let reader: Box<dyn Read> = match &progress {
                Some(bar) => Box::new(bar.wrap_read(file)),
                None => Box::new(file),
            };
            let reading = replay_capture(engine, out, reader)
                .with_context(|| format!("while reading {}", capture.display()))?;
            if let Some(bar) = progress {
                bar.finish_and_clear();
            }
            reading
        }
    })
}

/// Frames that panicked the engine, listed in the summary at most; more are counted.
const MAX_PANICS_LISTED: usize = 100;

impl Reading {
    /// Runs the engine on frame number `number`; after a panic, settles its call. Returns
    /// whether reading may go on (not when settling panicked too).
    fn handle(
        &mut self,
        engine: &mut Engine,
        number: u64,
        time: Timestamp,
        link: LinkType,
        data: &[u8],
    ) -> bool {
        let handled = catch_unwind(AssertUnwindSafe(|| {
            engine.handle_frame(time, link, data, None);
        }));
        let Err(panic) = handled else { return true };
        let message = message(&*panic);
        self.panicked(number, message.clone());
        let settled = catch_unwind(AssertUnwindSafe(|| engine.settle_frame(time, link, data)));
        if settled.is_err() {
            self.cut_short = Some(CutShort {
                frames_read: number,
                error: format!(
                    "the engine panicked on frame {number} ({message}) and again while ending its call"
                ),
            });
        }
        settled.is_ok()
    }

    fn panicked(&mut self, frame: u64, message: String) {
        tracing::error!("frame {frame} made the engine panic: {message}");
        self.panics_total += 1;
        if self.panics.len() < MAX_PANICS_LISTED {
            self.panics.push(PanicFrame { frame, message });
        }
    }
}

/// Runs the engine over every frame of a capture, up to its end or its first unreadable
/// frame, then ends the calls still going. Fails only when the capture cannot be opened.
fn replay_capture(
    engine: &mut Engine,
    out: &mut Outputs,
    reader: Box<dyn Read>,
) -> anyhow::Result<Reading> {
    let mut capture = Capture::from_reader(reader)?;
    let mut reading = Reading::default();
    let mut last = Timestamp::default();
    let mut frames_read = 0;
    loop {
        let frame = match capture.next_frame() {
            None => break,
            Some(Ok(frame)) => frame,
            Some(Err(error)) => {
                reading.cut_short = Some(CutShort {
                    frames_read,
                    error: error.to_string(),
                });
                break;
            }
        };
        frames_read += 1;
        last = last.max(frame.time);
        let go_on = reading.handle(engine, frames_read, frame.time, frame.link, frame.data);
        out.drain(engine);
        if !go_on {
            break;
        }
    }
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| engine.finish(last))) {
        reading.panicked(
            frames_read,
            format!("ending the calls: {}", message(&*panic)),
        );
    }
    out.drain(engine);
    reading.skipped_frames = capture.skipped;
    Ok(reading)
}

/// The largest SIP text trace read (it is read whole; a day of a household's SIP is far less).
const MAX_SIP_TEXT_BYTES: u64 = 16 << 20;

/// A text trace has no addresses or times: the messages are read as sent from a provider
/// (`192.0.2.1`, documentation space) to the phone (`192.0.2.2`), at the file's mtime.
/// The trace is one piece: a panic (reported as frame 0) skips the rest of it.
fn replay_sip_text(engine: &mut Engine, out: &mut Outputs, file: File) -> anyhow::Result<Reading> {
    let when = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(Timestamp::from)
        .unwrap_or_default();
    let mut text = Vec::new();
    file.take(MAX_SIP_TEXT_BYTES + 1).read_to_end(&mut text)?;
    anyhow::ensure!(
        text.len() as u64 <= MAX_SIP_TEXT_BYTES,
        "SIP text traces over {} MiB are not read (capture the traffic as pcap instead)",
        MAX_SIP_TEXT_BYTES >> 20
    );
    let provider = SocketAddr::from(([192, 0, 2, 1], 5060));
    let phone = SocketAddr::from(([192, 0, 2, 2], 5060));
    let mut reading = Reading::default();
    let handled = catch_unwind(AssertUnwindSafe(|| {
        engine.handle_sip_text(when, &text, provider, phone);
        engine.finish(when);
    }));
    if let Err(panic) = handled {
        reading.panicked(0, message(&*panic));
        if catch_unwind(AssertUnwindSafe(|| engine.finish(when))).is_err() {
            tracing::error!("the engine panicked again while ending the calls");
        }
    }
    out.drain(engine);
    Ok(reading)
}

fn progress_bar(capture: &Path) -> ProgressBar {
    let length = std::fs::metadata(capture).map_or(0, |m| m.len());
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} replaying [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Replay finished in {:.2} s", self.seconds)?;
        writeln!(
            f,
            "  calls        {} ({})",
            self.sink.calls.len(),
            self.outcomes()
        )?;
        self.write_counts(f)?;
        self.write_troubles(f)
    }
}

impl ReplaySummary {
    /// How many calls ended each way (`2 answered, 1 busy`), in the order first seen.
    fn outcomes(&self) -> String {
        let mut dispositions: Vec<(Disposition, usize)> = Vec::new();
        for &d in &self.sink.calls {
            match dispositions.iter_mut().find(|(seen, _)| *seen == d) {
                Some((_, count)) => *count += 1,
                None => dispositions.push((d, 1)),
            }
        }
        if dispositions.is_empty() {
            return "none".into();
        }
        let breakdown: Vec<String> = dispositions
            .iter()
            .map(|(d, n)| format!("{n} {d}"))
            .collect();
        breakdown.join(", ")
    }

    /// The recordings written and what the packets were.
    fn write_counts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.engine;
        writeln!(
            f,
            "  recordings   {} WAV, {} raw-RTP pcap (codecs not decoded)",
            self.sink.recordings, self.sink.raw_rtp
        )?;
        writeln!(
            f,
            "  packets      {} frames: {} SIP messages, {} RTP ({} more stray on calls' ports), {} other traffic",
            e.frames,
            e.sip_messages,
            e.rtp_packets,
            e.rtp_stray,
            e.unmatched + e.other
        )?;
        writeln!(
            f,
            "  fragments    {} held, {} datagrams reassembled, {} incomplete",
            e.fragments, e.reassembly.completed, e.reassembly.expired
        )?;
        writeln!(
            f,
            "  SIP/TCP      {} messages put together from several segments, {} repeated bytes, {} bytes dropped, {} connections evicted",
            e.tcp.reassembled, e.tcp.bytes_repeated, e.tcp.bytes_dropped, e.tcp.flows_evicted
        )?;
        writeln!(
            f,
            "  SIP framing  {} datagrams with octets after the message (ignored, RFC 4475 3.1.1.8), {} with a Content-Length not a number or too large (read to the datagram's end)",
            e.sip_trailing_octets, e.sip_bad_length
        )?;
        writeln!(
            f,
            "  not readable {} malformed SIP, {} SIP messages left incomplete, {} bad packets, {} non-RTP on media ports, {} frames of unknown link type",
            e.sip_malformed, e.sip_incomplete, e.malformed_packets, e.rtp_malformed, self.skipped_frames
        )?;
        Ok(())
    }

    /// What went wrong, one line each, only when it did.
    fn write_troubles(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(cut) = &self.cut_short {
            writeln!(
                f,
                "  cut short    reading stopped after frame {}: {}; the calls read before are kept",
                cut.frames_read, cut.error
            )?;
        }
        if let Some(first) = self.panics.first() {
            let frames: Vec<String> = self.panics.iter().map(|p| p.frame.to_string()).collect();
            writeln!(
                f,
                "  engine bug   panicked {} time(s), on frame(s) {}{} (first: {}); each one's call was ended, the rest went on; please report it with the capture",
                self.panics_total,
                frames.join(", "),
                if self.panics_total > frames.len() as u64 { " ..." } else { "" },
                first.message
            )?;
        }
        if self.repaired > 0 {
            writeln!(
                f,
                "  repaired     {} recordings left unfinished by a crash",
                self.repaired
            )?;
        }
        if self.sink.recorder_errors + self.sink.store_errors + self.sink.dropped > 0 {
            writeln!(
                f,
                "  errors       {} recording, {} database, {} events dropped",
                self.sink.recorder_errors, self.sink.store_errors, self.sink.dropped
            )?;
        }
        Ok(())
    }
}
