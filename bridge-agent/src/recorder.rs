//! Recordings on disk: one stereo WAV per call (8 kHz, 16-bit, remote left, phone right),
//! and a pcap of the raw RTP for codecs Ringside does not decode.
//!
//! WAV headers are brought up to date at least once a second, and [`repair_recordings`] mends
//! the headers a crash left stale: a crash loses only the audio not written yet (the part of
//! a page a WAV holds back, under 128 ms, and what the engine had not handed out). A write
//! error (a full disk) closes that recording and is reported; it never stops the caller of
//! this module.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use ringside_core::call::CallKey;
use ringside_core::mixer::Frame;
use ringside_core::Timestamp;

use crate::store::owner_only;
use crate::store::recording_path::free_bytes;

mod repair;
mod wav;

pub use repair::{repair_recordings, repair_wav};
pub use wav::WavFile;

/// Folder of the recordings inside the data directory.
pub const RECORDINGS_DIR: &str = crate::store::recording_path::RECORDINGS_DIR;
/// Recordings are 8 kHz.
pub const SAMPLE_RATE: u32 = 8000;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

struct OpenRecording {
    wav: Option<WavFile>,
    raw: Option<PcapWriter<BufWriter<File>>>,
    /// Path without extension, relative to the data directory.
    stem: String,
    /// The WAV's path relative to the data directory, once it exists.
    wav_path: Option<String>,
    /// The raw-RTP pcap's path relative to the data directory, once it exists.
    raw_path: Option<String>,
    /// Packets written to the pcap.
    raw_packets: u64,
    /// No more audio for this call: a write failed or the disk went below the free-space
    /// floor (the file keeps what it has, closed and valid).
    stopped: bool,
    frames: u64,
    /// `frames` at the last free-space check.
    checked_at: u64,
    last_flush: Instant,
}

/// What a call left on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// The WAV, relative to the data directory, if audio was written.
    pub wav: Option<String>,
    /// Frames in it.
    pub frames: u64,
    /// The raw-RTP pcap, relative to the data directory, if one was written.
    pub raw_rtp: Option<String>,
}

/// What one [`Recorder::append`] changed, for the call log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    /// The WAV's path relative to the data directory, when this append created it.
    pub created: Option<String>,
    /// Why recording stopped, when this append stopped it (the call goes on).
    pub stopped: Option<String>,
}

/// Files being written, one set per call.
pub struct Recorder {
    data_dir: PathBuf,
    open: HashMap<CallKey, OpenRecording>,
    /// Write errors so far (each closes one recording).
    pub errors: u64,
    /// Below this much free space, no recording starts and running ones stop.
    pub min_free_bytes: u64,
    /// Recordings not started, or stopped early, because the disk was nearly full.
    pub refused: u64,
    /// The disk is short of space or failing: said once with a warning, then quietly until
    /// a recording can start again.
    disk_trouble: bool,
}

/// Free space is checked again after this many frames of a recording: 5 s of audio.
const CHECK_FREE_EVERY: u64 = 5 * SAMPLE_RATE as u64;
/// ... and after this many packets of a raw-RTP pcap (5 s of 20 ms packets).
const RAW_CHECK_EVERY: u64 = 250;

impl Recorder {
    /// A recorder writing under `data_dir/recordings/`.
    #[must_use]
    pub fn new(data_dir: &Path) -> Recorder {
        Recorder {
            data_dir: data_dir.to_owned(),
            open: HashMap::new(),
            errors: 0,
            min_free_bytes: 0,
            refused: 0,
            disk_trouble: false,
        }
    }

    /// The data directory the recordings go under.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Names a call's files: `recordings/YYYY/MM/DD/HHMMSS-<label>` (UTC of the call start;
    /// the label is the call log's row id).
    pub fn start(&mut self, call: CallKey, started_at: Timestamp, label: &str) {
        let time = crate::timefmt::utc(started_at);
        let stem = format!(
            "{RECORDINGS_DIR}/{:04}/{:02}/{:02}/{:02}{:02}{:02}-{label}",
            time.year(),
            u8::from(time.month()),
            time.day(),
            time.hour(),
            time.minute(),
            time.second()
        );
        self.open.insert(
            call,
            OpenRecording {
                wav: None,
                raw: None,
                stem,
                wav_path: None,
                raw_path: None,
                raw_packets: 0,
                stopped: false,
                frames: 0,
                checked_at: 0,
                last_flush: Instant::now(),
            },
        );
    }

    /// Writes audio at `offset` frames into the call's recording (silence fills any gap).
    /// The free-space floor is checked when the file would be created and every
    /// [`CHECK_FREE_EVERY`] frames after; below it, or on a write error, the recording
    /// stops with its WAV closed and valid.
    pub fn append(&mut self, call: CallKey, offset: u64, frames: &[Frame]) -> Appended {
        let mut appended = Appended::default();
        let Some(recording) = self.open.get_mut(&call) else {
            return appended;
        };
        if recording.stopped {
            return appended;
        }
        let due =
            recording.wav.is_none() || recording.frames >= recording.checked_at + CHECK_FREE_EVERY;
        if due {
            recording.checked_at = recording.frames;
        }
        if let Some(note) = self.check_space(call, due) {
            appended.stopped = Some(note);
            return appended;
        }
        let Some(recording) = self.open.get_mut(&call) else {
            return appended;
        };
        let had_file = recording.wav_path.is_some();
        let result = write_audio(&self.data_dir, recording, offset, frames);
        appended.created = recording.wav_path.clone().filter(|_| !had_file);
        match result {
            Ok(()) if appended.created.is_some() => self.disk_trouble = false,
            Ok(()) => {}
            Err(error) => {
                self.errors += 1;
                appended.stopped = Some(self.stop(call, format!("write error: {error}")));
            }
        }
        appended
    }

    /// Stops a call's recording for `reason`, closing its WAV; says so (a warning the first
    /// time the disk is in trouble) and returns the note for the call log.
    fn stop(&mut self, call: CallKey, reason: String) -> String {
        let Some(recording) = self.open.get_mut(&call) else {
            return reason;
        };
        recording.stopped = true;
        let note = if recording.wav_path.is_some() || recording.raw_path.is_some() {
            format!("recording stopped early: {reason}")
        } else {
            format!("not recorded: {reason}")
        };
        if let Some(wav) = recording.wav.take() {
            if let Err(error) = wav.finalize() {
                tracing::debug!("closing {}: {error}", recording.stem);
            }
        }
        if let Some(raw) = recording.raw.take() {
            if let Err(error) = raw.into_writer().flush() {
                tracing::debug!("closing {}.pcap: {error}", recording.stem);
            }
        }
        if self.disk_trouble {
            tracing::info!("{}: {note}", recording.stem);
        } else {
            tracing::warn!(
                "{}: {note} (calls go on; recordings resume once there is room)",
                recording.stem
            );
            self.disk_trouble = true;
        }
        note
    }

    /// Keeps an RTP packet of an undecoded codec in the call's pcap, under the same
    /// free-space floor as the WAV (checked when the file would be created and every
    /// [`RAW_CHECK_EVERY`] packets after); a write error stops it for the rest of the call.
    pub fn append_raw(
        &mut self,
        call: CallKey,
        at: Timestamp,
        (src, dst): (SocketAddr, SocketAddr),
        payload: &[u8],
    ) -> Appended {
        let mut appended = Appended::default();
        let Some(recording) = self.open.get_mut(&call) else {
            return appended;
        };
        if recording.stopped {
            return appended;
        }
        let due = recording.raw.is_none() || recording.raw_packets % RAW_CHECK_EVERY == 0;
        if let Some(note) = self.check_space(call, due) {
            appended.stopped = Some(note);
            return appended;
        }
        let Some(recording) = self.open.get_mut(&call) else {
            return appended;
        };
        let had_file = recording.raw_path.is_some();
        let result = write_raw(&self.data_dir, recording, at, (src, dst), payload);
        appended.created = recording.raw_path.clone().filter(|_| !had_file);
        if let Err(error) = result {
            self.errors += 1;
            appended.stopped = Some(self.stop(call, format!("write error: {error}")));
        }
        appended
    }

    /// Stops a call's recording if checking is `due` and the disk is below the free-space
    /// floor; returns the note for the call log when it did.
    fn check_space(&mut self, call: CallKey, due: bool) -> Option<String> {
        if !due {
            return None;
        }
        let free = free_bytes(&self.data_dir);
        if free >= self.min_free_bytes {
            return None;
        }
        let reason = format!(
            "only {} MB free on the data disk, below the floor of {} MB",
            free / 1_000_000,
            self.min_free_bytes / 1_000_000
        );
        self.refused += 1;
        Some(self.stop(call, reason))
    }

    /// Closes a call's files.
    pub fn finish(&mut self, call: CallKey) -> Finished {
        let Some(mut recording) = self.open.remove(&call) else {
            return Finished::default();
        };
        let mut finished = Finished::default();
        if let Some(wav) = recording.wav.take() {
            if let Err(error) = wav.finalize() {
                tracing::error!("recording {} could not be closed: {error}", recording.stem);
                self.errors += 1;
            }
        }
        if recording.wav_path.is_some() {
            finished.wav = recording.wav_path.take();
            finished.frames = recording.frames;
        }
        if let Some(raw) = recording.raw.take() {
            if raw.into_writer().flush().is_err() {
                self.errors += 1;
            }
        }
        finished.raw_rtp = recording.raw_path.take();
        finished
    }

    /// Closes every open file (shutdown); returns what each call left.
    pub fn finish_all(&mut self) -> Vec<(CallKey, Finished)> {
        let keys: Vec<CallKey> = self.open.keys().copied().collect();
        keys.into_iter().map(|k| (k, self.finish(k))).collect()
    }
}

/// Writes a chunk into the call's WAV, creating it first if needed (a file that could not
/// be started is removed again).
fn write_audio(
    data_dir: &Path,
    recording: &mut OpenRecording,
    offset: u64,
    frames: &[Frame],
) -> io::Result<()> {
    if recording.wav.is_none() {
        let relative = format!("{}.wav", recording.stem);
        let path = data_dir.join(&relative);
        let wav = WavFile::create(&path).inspect_err(|_| {
            let _ = fs::remove_file(&path);
        })?;
        recording.wav = Some(wav);
        recording.wav_path = Some(relative);
    }
    let Some(wav) = recording.wav.as_mut() else {
        return Ok(());
    };
    if recording.frames < offset {
        wav.append_silence(offset - recording.frames)?;
        recording.frames = offset;
    }
    let skip = (recording.frames - offset).min(frames.len() as u64) as usize;
    wav.append(&frames[skip..])?;
    recording.frames += (frames.len() - skip) as u64;
    if recording.last_flush.elapsed() >= FLUSH_EVERY {
        wav.update_header()?;
        recording.last_flush = Instant::now();
    }
    Ok(())
}

/// Appends an RTP packet to the call's pcap, creating it first if needed.
fn write_raw(
    data_dir: &Path,
    recording: &mut OpenRecording,
    at: Timestamp,
    (src, dst): (SocketAddr, SocketAddr),
    payload: &[u8],
) -> Result<(), Box<dyn std::error::Error>> {
    if recording.raw.is_none() {
        let relative = format!("{}.pcap", recording.stem);
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..PcapHeader::default()
        };
        let file = BufWriter::new(create_file(&data_dir.join(&relative))?);
        recording.raw = Some(PcapWriter::with_header(file, header)?);
        recording.raw_path = Some(relative);
    }
    let Some(raw) = recording.raw.as_mut() else {
        return Ok(());
    };
    let packet = ip_udp_packet(src, dst, payload)?;
    raw.write_packet(&PcapPacket::new(
        Duration::from_micros(at.as_micros()),
        packet.len() as u32,
        &packet,
    ))?;
    recording.raw_packets += 1;
    Ok(())
}

/// Creates the folders above `path`, owner-only (0700) whatever the umask.
fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => fs::DirBuilder::new()
            .recursive(true)
            .mode(owner_only::DIR_MODE)
            .create(parent),
        None => Ok(()),
    }
}

/// Creates (or empties) a recording file, owner-only (0600) whatever the umask.
fn create_file(path: &Path) -> io::Result<File> {
    create_parent(path)?;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(owner_only::FILE_MODE)
        .open(path)
}

fn ip_udp_packet(
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let builder = match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            PacketBuilder::ipv4(s.ip().octets(), d.ip().octets(), 64)
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            PacketBuilder::ipv6(s.ip().octets(), d.ip().octets(), 64)
        }
        _ => return Err("mixed IPv4/IPv6 flow".into()),
    };
    let builder = builder.udp(src.port(), dst.port());
    let mut packet = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut packet, payload)?;
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_stereo_wav_with_gaps_filled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recorder = Recorder::new(dir.path());
        let call = CallKey(1);
        recorder.start(call, Timestamp::from_secs_micros(1_767_225_600, 0), "7");
        let created = recorder.append(call, 0, &[[1, 2]; 100]).created;
        assert_eq!(
            created.as_deref(),
            Some("recordings/2026/01/01/000000-7.wav")
        );
        assert_eq!(
            recorder.append(call, 150, &[[3, 4]; 50]),
            Appended::default()
        );
        let path = dir.path().join("recordings/2026/01/01/000000-7.wav");
        for private in [path.as_path(), path.parent().expect("day folder")] {
            let mode = fs::metadata(private)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{} is owner-only", private.display());
        }
        let finished = recorder.finish(call);
        assert_eq!(finished.frames, 200);
        let reader =
            hound::WavReader::open(dir.path().join(finished.wav.expect("wav"))).expect("open");
        assert_eq!(
            (
                reader.spec().channels,
                reader.spec().sample_rate,
                reader.spec().bits_per_sample
            ),
            (2, 8000, 16)
        );
        let samples: Vec<i16> = reader
            .into_samples()
            .collect::<Result<_, _>>()
            .expect("samples");
        assert_eq!(samples.len(), 400);
        assert_eq!(&samples[..2], &[1, 2]);
        assert_eq!(&samples[200..202], &[0, 0]);
        assert_eq!(&samples[398..], &[3, 4]);
    }

    #[test]
    fn below_the_free_space_floor_a_call_is_not_recorded_and_nothing_breaks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recorder = Recorder::new(dir.path());
        recorder.min_free_bytes = u64::MAX;
        let call = CallKey(1);
        recorder.start(call, Timestamp::from_secs_micros(1_767_225_600, 0), "8");
        let first = recorder.append(call, 0, &[[1, 2]; 100]);
        assert_eq!(first.created, None);
        assert!(
            first
                .stopped
                .as_deref()
                .is_some_and(|n| n.starts_with("not recorded: only")),
            "{first:?}"
        );
        assert_eq!(
            recorder.append(call, 100, &[[1, 2]; 100]),
            Appended::default(),
            "stays off, said once"
        );
        assert_eq!(recorder.refused, 1);
        assert_eq!(recorder.finish(call).wav, None);
        assert!(
            !dir.path().join("recordings").exists(),
            "no file was started"
        );
        // Another call, once there is room again, records.
        recorder.min_free_bytes = 0;
        recorder.start(
            CallKey(2),
            Timestamp::from_secs_micros(1_767_225_600, 0),
            "9",
        );
        assert!(recorder
            .append(CallKey(2), 0, &[[1, 2]; 100])
            .created
            .is_some());
    }

    #[test]
    fn raw_rtp_is_kept_owner_only_and_under_the_same_floor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recorder = Recorder::new(dir.path());
        let flow = (
            "203.0.113.5:20000".parse().expect("address"),
            "192.168.1.20:30000".parse().expect("address"),
        );
        let at = Timestamp::from_secs_micros(1_767_225_600, 0);
        recorder.start(CallKey(1), at, "1");
        let created = recorder
            .append_raw(CallKey(1), at, flow, &[0x80; 172])
            .created;
        let path = dir.path().join(created.expect("a pcap"));
        let mode = fs::metadata(&path).expect("pcap").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(recorder.finish(CallKey(1)).raw_rtp.is_some());

        recorder.min_free_bytes = u64::MAX;
        recorder.start(CallKey(2), at, "2");
        let refused = recorder.append_raw(CallKey(2), at, flow, &[0x80; 172]);
        assert_eq!(refused.created, None);
        assert!(refused
            .stopped
            .is_some_and(|n| n.starts_with("not recorded: only")));
        assert_eq!(recorder.finish(CallKey(2)).raw_rtp, None);
    }

    #[test]
    fn a_recording_stops_when_free_space_runs_out_mid_call_and_its_wav_stays_valid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recorder = Recorder::new(dir.path());
        let call = CallKey(1);
        recorder.start(call, Timestamp::from_secs_micros(1_767_225_600, 0), "3");
        let chunk = [[5, 6]; 1600];
        assert!(recorder.append(call, 0, &chunk).created.is_some());
        // The disk fills up while the call goes on: within five seconds of audio it stops.
        recorder.min_free_bytes = u64::MAX;
        let mut offset = 1600;
        let note = loop {
            let appended = recorder.append(call, offset, &chunk);
            offset += 1600;
            if let Some(note) = appended.stopped {
                break note;
            }
            assert!(offset <= 1600 + CHECK_FREE_EVERY, "never stopped");
        };
        assert!(note.starts_with("recording stopped early: only"), "{note}");
        assert_eq!(recorder.append(call, offset, &chunk), Appended::default());
        let finished = recorder.finish(call);
        let reader =
            hound::WavReader::open(dir.path().join(finished.wav.expect("kept"))).expect("valid");
        assert_eq!(u64::from(reader.duration()), finished.frames);
        assert!(finished.frames >= 1600 && finished.frames < offset);
        assert_eq!(recorder.refused, 1);
    }
}
