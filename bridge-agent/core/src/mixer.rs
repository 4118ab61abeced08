//! The stereo mixer: both directions of a call on one timeline, remote party left, the
//! local phone right.
//!
//! Audio is written at the frame its [`crate::playout::Playout`] placed it; frames are held
//! for [`LATENCY`] so that late and reordered packets still find their slot, then handed out
//! in order. Gaps stay silent up to [`MAX_GAP`]; a longer one (a long hold, or a capture whose
//! clock leaps ahead) is skipped, leaving a [`SKIPPED_GAP_PAUSE`], and counted: a recording
//! is bounded by the audio received, never by how far apart two packets claim to be. The
//! window never exceeds [`MAX_WINDOW`] frames (32 KiB), which bounds a call's memory.

use std::collections::VecDeque;

/// Which side of the stereo picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Left: what the remote party says (audio flowing toward the phone).
    Remote = 0,
    /// Right: what the local phone says (audio flowing from the phone).
    Phone = 1,
}

/// One stereo frame: `[left, right]`.
pub type Frame = [i16; 2];

/// How long audio waits for late packets before it is written out: 250 ms at 8 kHz.
pub const LATENCY: i64 = 2000;
/// The most frames held at once: one second at 8 kHz.
pub const MAX_WINDOW: i64 = 8000;
/// The longest silence written into a recording: 5 s. Real pauses (a short hold, silence
/// suppression) are kept as they were; anything longer is skipped.
pub const MAX_GAP: i64 = 5 * 8000;
/// What is left of a skipped gap: one second of silence, so the cut is heard as a pause.
pub const SKIPPED_GAP_PAUSE: i64 = 8000;

/// The mixing window of one call.
#[derive(Debug, Clone)]
pub struct StereoMixer {
    /// Timeline frame of `window[0]`: everything before it has been handed out.
    start: i64,
    window: VecDeque<Frame>,
    /// Silences longer than [`MAX_GAP`] cut down to [`SKIPPED_GAP_PAUSE`].
    gaps_skipped: u64,
}

impl Default for StereoMixer {
    fn default() -> Self {
        Self {
            start: 0,
            window: VecDeque::with_capacity(MAX_WINDOW as usize / 2),
            gaps_skipped: 0,
        }
    }
}

impl StereoMixer {
    /// Writes one channel's audio starting at `position`: each byte of `encoded` is one
    /// sample, made linear by `decode` (a G.711 table lookup). Samples before the window are
    /// too late and dropped; the window first hands frames to `out` if it would grow past
    /// [`MAX_WINDOW`], and everything it holds if `position` lies more than [`MAX_GAP`]
    /// beyond it (the gap is skipped). Returns how many samples were too late.
    pub fn write(
        &mut self,
        channel: Channel,
        position: i64,
        encoded: &[u8],
        decode: impl Fn(u8) -> i16,
        out: &mut Vec<Frame>,
    ) -> usize {
        let end = position + encoded.len() as i64;
        if position - self.written_end() > MAX_GAP {
            self.drain_to(position, out);
        }
        if end - self.start > MAX_WINDOW {
            self.drain_to(end - MAX_WINDOW, out);
        }
        let late = (self.start - position).clamp(0, encoded.len() as i64) as usize;
        if late == encoded.len() {
            return late;
        }
        let first = (position + late as i64 - self.start) as usize;
        let needed = (end - self.start) as usize;
        if self.window.len() < needed {
            self.window.resize(needed, [0, 0]);
        }
        // The window's two halves as plain slices, zipped with plain bytes: a loop the
        // compiler keeps tight (iterating `range_mut` or a skipping iterator cost twice the
        // instructions per sample, the most of any step of a replay).
        let (front, back) = self.window.as_mut_slices();
        let split = front.len();
        let in_front = &mut front[first.min(split)..needed.min(split)];
        let in_back = &mut back[first.saturating_sub(split)..needed.saturating_sub(split)];
        let (bytes_front, bytes_back) = encoded[late..].split_at(in_front.len());
        for (part, bytes) in [(in_front, bytes_front), (in_back, bytes_back)] {
            for (frame, &byte) in part.iter_mut().zip(bytes) {
                frame[channel as usize] = decode(byte);
            }
        }
        late
    }

    /// Hands out every frame before `until`: silence where nothing was written, but only a
    /// [`SKIPPED_GAP_PAUSE`] for a silence beyond what is held longer than [`MAX_GAP`].
    pub fn drain_to(&mut self, until: i64, out: &mut Vec<Frame>) {
        let count = until - self.start;
        if count <= 0 {
            return;
        }
        let held = (count as usize).min(self.window.len());
        let (front, back) = self.window.as_slices();
        let from_front = held.min(front.len());
        out.extend_from_slice(&front[..from_front]);
        out.extend_from_slice(&back[..held - from_front]);
        self.window.drain(..held);
        let mut silence = count - held as i64;
        if silence > MAX_GAP {
            self.gaps_skipped += 1;
            silence = SKIPPED_GAP_PAUSE;
        }
        out.resize(out.len() + silence as usize, [0, 0]);
        self.start = until;
    }

    /// The timeline frame just after the last one written.
    fn written_end(&self) -> i64 {
        self.start + self.window.len() as i64
    }

    /// Hands out everything written so far (end of call).
    pub fn drain_all(&mut self, out: &mut Vec<Frame>) {
        self.drain_to(self.written_end(), out);
    }

    /// Silences skipped so far because they were longer than [`MAX_GAP`].
    #[must_use]
    pub fn gaps_skipped(&self) -> u64 {
        self.gaps_skipped
    }

    /// The timeline frame up to which audio has been handed out.
    #[must_use]
    pub fn written_to(&self) -> i64 {
        self.start
    }

    /// Frames held, written but not yet handed out.
    #[must_use]
    pub fn held(&self) -> usize {
        self.window.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_both_channels_in_timeline_order() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Phone, 4, &[7, 7], i16::from, &mut out);
        mixer.write(Channel::Remote, 0, &[1, 2, 3], i16::from, &mut out);
        mixer.drain_all(&mut out);
        assert_eq!(out, vec![[1, 0], [2, 0], [3, 0], [0, 0], [0, 7], [0, 7]]);
    }

    #[test]
    fn late_samples_are_dropped_and_counted() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Remote, 0, &[1; 10], i16::from, &mut out);
        mixer.drain_to(5, &mut out);
        assert_eq!(
            mixer.write(Channel::Phone, 3, &[9; 4], i16::from, &mut out),
            2
        );
        mixer.drain_all(&mut out);
        assert_eq!(out[5], [1, 9]);
        assert_eq!(out[4], [1, 0]);
    }

    #[test]
    fn the_window_stays_bounded() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        for i in 0..100 {
            mixer.write(Channel::Remote, i * 160, &[1; 160], i16::from, &mut out);
            assert!(mixer.held() as i64 <= MAX_WINDOW);
        }
        assert_eq!(out.len() as i64 + mixer.held() as i64, 100 * 160);
    }

    #[test]
    fn a_gap_up_to_max_gap_stays_silent_in_place() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Remote, 0, &[1; 160], i16::from, &mut out);
        mixer.write(
            Channel::Remote,
            160 + MAX_GAP,
            &[2; 160],
            i16::from,
            &mut out,
        );
        mixer.drain_all(&mut out);
        assert_eq!(out.len() as i64, 320 + MAX_GAP);
        assert_eq!(out[160 + MAX_GAP as usize], [2, 0]);
        assert_eq!(mixer.gaps_skipped(), 0);
    }

    #[test]
    fn a_gap_beyond_max_gap_is_skipped_leaving_a_pause() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Remote, 0, &[1; 160], i16::from, &mut out);
        // A packet claiming to come three days later.
        let far = 3 * 86_400 * 8000;
        mixer.write(Channel::Phone, far, &[2; 160], i16::from, &mut out);
        mixer.drain_to(far + 4000, &mut out);
        assert_eq!(out.len() as i64, 160 + SKIPPED_GAP_PAUSE + 160 + 3840);
        assert_eq!(out[(160 + SKIPPED_GAP_PAUSE) as usize], [0, 2]);
        assert_eq!(mixer.gaps_skipped(), 1);
        // Draining far ahead with nothing written skips that gap too.
        mixer.drain_to(2 * far, &mut out);
        assert_eq!(mixer.gaps_skipped(), 2);
        assert!(out.len() < 4 * 8000, "{} frames", out.len());
    }

    #[test]
    fn audio_written_across_the_windows_wrap_lands_in_place() {
        // Packets of both channels, each sample its own value, drained as the engine does:
        // the window's ring buffer wraps many times over, and every sample must come out
        // at its frame of the timeline.
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        let value = |frame: i64, channel: i64| ((frame * 2 + channel) % 251) as u8;
        for packet in 0..400 {
            let at = packet * 160;
            let remote: Vec<u8> = (at..at + 160).map(|f| value(f, 0)).collect();
            let phone: Vec<u8> = (at..at + 160).map(|f| value(f, 1)).collect();
            mixer.write(Channel::Remote, at, &remote, i16::from, &mut out);
            mixer.write(Channel::Phone, at, &phone, i16::from, &mut out);
            mixer.drain_to(at + 160 - LATENCY, &mut out);
        }
        mixer.drain_all(&mut out);
        assert_eq!(out.len(), 400 * 160);
        for (frame, got) in out.iter().enumerate() {
            let frame = frame as i64;
            let want = [i16::from(value(frame, 0)), i16::from(value(frame, 1))];
            assert_eq!(*got, want, "frame {frame}");
        }
    }
}
