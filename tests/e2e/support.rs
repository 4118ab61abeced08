//! Helpers shared by the e2e modules: replaying into a temporary data directory, reading the
//! call log, and measuring tones in recordings.

use ringside_core::call::Disposition;
use std::path::{Path, PathBuf};

use bridge_agent::replay::{replay, ReplayOptions, ReplaySummary};
use bridge_agent::store::{CallRecord, Store};

/// The shared captures: `RINGSIDE_CAPTURES`, else `../shared/captures` beside the repository.
/// Missing captures fail the test: they are part of the suite, never skipped.
pub fn captures_dir() -> PathBuf {
    let dir = std::env::var_os("RINGSIDE_CAPTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/captures"),
        PathBuf::from,
    );
    assert!(
        dir.join("MANIFEST.tsv").exists(),
        "the shared captures are not at {} (set RINGSIDE_CAPTURES)",
        dir.display()
    );
    dir
}

/// A replay's results.
pub struct Replayed {
    /// Keeps the data directory alive.
    pub dir: tempfile::TempDir,
    /// The replay summary.
    pub summary: ReplaySummary,
    /// The call log, newest first.
    pub calls: Vec<CallRecord>,
}

impl Replayed {
    /// The only call whose number is `number`.
    pub fn by_number(&self, number: &str) -> &CallRecord {
        let found: Vec<&CallRecord> = self
            .calls
            .iter()
            .filter(|c| c.call.party.number.as_deref() == Some(number))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "calls with number {number}: {:#?}",
            self.calls
        );
        found[0]
    }

    /// Every call's disposition, sorted.
    pub fn dispositions(&self) -> Vec<&str> {
        let mut dispositions: Vec<&str> = self
            .calls
            .iter()
            .filter_map(|c| c.disposition.map(Disposition::as_str))
            .collect();
        dispositions.sort_unstable();
        dispositions
    }

    /// A call's recording as (left, right) samples.
    pub fn recording(&self, call: &CallRecord) -> (Vec<i16>, Vec<i16>) {
        let path = self
            .dir
            .path()
            .join(call.recording.as_deref().expect("the call has a recording"));
        let reader = hound::WavReader::open(&path).expect("a valid WAV");
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16),
            "{}",
            path.display()
        );
        let samples: Vec<i16> = reader
            .into_samples()
            .collect::<Result<_, _>>()
            .expect("samples");
        samples.chunks_exact(2).map(|f| (f[0], f[1])).unzip()
    }

    /// A recording's length in seconds.
    pub fn recording_seconds(&self, call: &CallRecord) -> f64 {
        self.recording(call).0.len() as f64 / 8000.0
    }
}

/// Replays a capture into a fresh data directory.
pub fn replay_file(capture: &Path) -> Replayed {
    replay_into(capture, tempfile::tempdir().expect("tempdir"))
}

/// Replays a capture into `dir`, whose filters and settings apply.
pub fn replay_into(capture: &Path, dir: tempfile::TempDir) -> Replayed {
    let summary = replay(capture, dir.path(), &ReplayOptions::default())
        .unwrap_or_else(|e| panic!("replay of {} failed: {e:#}", capture.display()));
    let calls = Store::open(dir.path())
        .expect("store")
        .calls(10_000, 0)
        .expect("calls");
    Replayed {
        dir,
        summary,
        calls,
    }
}

/// Replays a shared capture by its path in the manifest.
pub fn replay_shared(relative: &str) -> Replayed {
    replay_file(&captures_dir().join(relative))
}

/// The power of `frequency` in `samples` (Goertzel), normalised by length.
pub fn tone_power(samples: &[i16], frequency: f64) -> f64 {
    let coefficient = 2.0 * (2.0 * std::f64::consts::PI * frequency / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / (samples.len() as f64).powi(2)
}

/// Asserts that `frequency` dominates `samples`: at least 100 times the power of each of
/// `others`, and clearly present.
pub fn assert_tone(samples: &[i16], frequency: f64, others: &[f64], what: &str) {
    let power = tone_power(samples, frequency);
    assert!(
        power > 1e5,
        "{what}: no {frequency} Hz tone (power {power:.0})"
    );
    for &other in others {
        let leak = tone_power(samples, other);
        assert!(
            power > 100.0 * leak,
            "{what}: {other} Hz leaks in ({leak:.0} against {power:.0})"
        );
    }
}

/// Waits up to 15 seconds for `done`, checking every 100 ms; fails the test naming `what`.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
