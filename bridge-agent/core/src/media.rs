//! The audio of one call: two jitter buffers, G.711 decoding, the stereo mixer, and the
//! chunks of mixed audio handed to the recorder.

use crate::g711;
use crate::mixer::{Channel, Frame, StereoMixer, LATENCY, SKIPPED_GAP_PAUSE};
use crate::playout::{LegStats, NotAudio, Placement, Playout};
use crate::rtp::RtpPacket;
use crate::sdp::Codec;
use crate::time::Timestamp;

/// Mixed audio is handed out in whole chunks of this many frames (512 ms) for the recorder,
/// so that recording costs one allocation and one write per chunk, not per packet. A chunk
/// is 16 KiB of WAV, four whole pages, so that the recorder's writes fall on page boundaries
/// (see the recorder's `WavFile`). Writing a file in 16 KB pieces costs the kernel two thirds
/// of what 6.4 KB pieces (200 ms) did; longer chunks would save more but hold more audio in
/// memory, where a crash loses it (250 ms of jitter window plus a chunk: under a second).
pub const RECORDING_CHUNK_FRAMES: usize = 4096;
/// While someone listens live, chunks of 20 ms: the audio leaves as soon as it is mixed.
pub const LIVE_CHUNK_FRAMES: usize = 160;

/// The 8 kHz frames from `epoch` to `now` (none if `now` is earlier). Reckoned in `u128`:
/// any capture time, up to `u64::MAX` µs later, is at most 1.5e17 frames, far from where
/// the timeline's `i64` arithmetic would overflow.
fn frames_between(epoch: Timestamp, now: Timestamp) -> i64 {
    (now.since(epoch).as_micros() * 8 / 1000) as i64
}

/// The audio state of one call.
#[derive(Debug, Default)]
pub struct CallMedia {
    /// Arrival time of the call's first audio packet: frame 0 of the timeline.
    epoch: Option<Timestamp>,
    legs: [Playout; 2],
    mixer: StereoMixer,
    /// Where the next chunk starts in the recording: the frames handed out so far, and a
    /// pause for each stretch dropped in between.
    handed_out: u64,
    /// Audio was dropped since the last chunk handed out (the call was not being recorded).
    dropped: bool,
}

impl CallMedia {
    /// Takes one packet of `channel`: G.711 is placed and mixed; telephone-events and comfort
    /// noise only fill their place in the sequence (a pause stays silent, as a gap does);
    /// other codecs must not be passed here.
    pub fn handle_rtp(
        &mut self,
        now: Timestamp,
        channel: Channel,
        codec: Codec,
        packet: &RtpPacket<'_>,
    ) {
        let not_audio = match codec {
            Codec::TelephoneEvent => Some(NotAudio::Event),
            Codec::ComfortNoise => Some(NotAudio::ComfortNoise),
            Codec::Pcmu | Codec::Pcma | Codec::Other => None,
        };
        if let Some(kind) = not_audio {
            self.legs[channel as usize].skip(packet, kind);
            return;
        }
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = frames_between(epoch, now);
        let leg = &mut self.legs[channel as usize];
        let Placement::At(position) = leg.place(arrival, packet) else {
            return;
        };
        let payload = packet.payload();
        let late = match codec {
            Codec::Pcmu => self
                .mixer
                .write(channel, position, payload, g711::decode_ulaw),
            Codec::Pcma => self
                .mixer
                .write(channel, position, payload, g711::decode_alaw),
            Codec::TelephoneEvent | Codec::ComfortNoise | Codec::Other => 0,
        };
        if late > 0 {
            leg.count_late();
        }
        self.mixer.drain_to(arrival - LATENCY);
    }

    /// Hands out audio older than [`LATENCY`] at `now`, for calls whose packets paused.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if let Some(epoch) = self.epoch {
            let arrival = frames_between(epoch, now);
            let until = (arrival - LATENCY).min(self.mixer.written_to() + self.mixer.held() as i64);
            self.mixer.drain_to(until);
        }
    }

    /// Whole chunks of `chunk_frames` of mixed audio ([`RECORDING_CHUNK_FRAMES`] or
    /// [`LIVE_CHUNK_FRAMES`]; all that is ready for 0) and the frame of the recording they
    /// start at, once there is at least one. After a stretch that was dropped, the chunk
    /// starts a [`SKIPPED_GAP_PAUSE`] later, so that the cut is heard as a pause (none before
    /// the first chunk).
    pub fn poll_chunk(&mut self, chunk_frames: usize) -> Option<(u64, Vec<Frame>)> {
        let frames = self.mixer.take_ready(chunk_frames)?;
        if std::mem::take(&mut self.dropped) && self.handed_out > 0 {
            self.handed_out += SKIPPED_GAP_PAUSE as u64;
        }
        let offset = self.handed_out;
        self.handed_out += frames.len() as u64;
        Some((offset, frames))
    }

    /// Drops the audio ready to hand out once there are at least `min_frames` of it: the
    /// call is not being recorded, and nothing waits for its audio.
    pub fn drop_chunk(&mut self, min_frames: usize) {
        if self.mixer.ready() >= min_frames.max(1) {
            self.mixer.discard_ready();
            self.dropped = true;
        }
    }

    /// Everything left and where it starts, at the end of the call (no frames when there are
    /// none).
    pub fn finish(&mut self) -> (u64, Vec<Frame>) {
        self.mixer.drain_all();
        self.poll_chunk(0).unwrap_or((self.handed_out, Vec::new()))
    }

    /// Takes a packet of `channel`'s stream that is not the call's audio (a payload type no
    /// SDP offered): it only fills its place in the sequence, so it is not loss.
    pub fn handle_stray(&mut self, channel: Channel, packet: &RtpPacket<'_>) {
        self.legs[channel as usize].skip(packet, NotAudio::Stray);
    }

    /// Takes a packet of a codec Ringside does not decode: counted on its leg (loss,
    /// duplicates, SSRC changes), never mixed.
    pub fn handle_undecoded(&mut self, channel: Channel, packet: &RtpPacket<'_>) {
        self.legs[channel as usize].count(packet);
    }

    /// Starts each leg's sequence afresh with its next packet (media moved by a re-INVITE):
    /// no loss is counted across the move.
    pub fn restart_legs(&mut self) {
        for leg in &mut self.legs {
            leg.restart();
        }
    }

    /// When the call's audio started, if it has.
    #[must_use]
    pub fn started_at(&self) -> Option<Timestamp> {
        self.epoch
    }

    /// Silences longer than [`crate::mixer::MAX_GAP`] left out of the recording.
    #[must_use]
    pub fn gaps_skipped(&self) -> u64 {
        self.mixer.gaps_skipped()
    }

    /// The counters of each direction, remote first.
    #[must_use]
    pub fn stats(&self) -> [LegStats; 2] {
        [self.legs[0].stats(), self.legs[1].stats()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixer::SKIPPED_GAP_PAUSE;

    fn packet(pt: u8, seq: u16, ts: u32) -> Vec<u8> {
        let mut p = vec![0x80, pt];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.extend_from_slice(if pt == 13 {
            &[0x40][..]
        } else {
            &[0x10; 160][..]
        });
        p
    }

    fn take(media: &mut CallMedia, ms: u64, pt: u8, seq: u16, codec: Codec) {
        let bytes = packet(pt, seq, u32::try_from(ms * 8).expect("small"));
        let rtp = RtpPacket::new_checked(&bytes).expect("RTP");
        media.handle_rtp(Timestamp(ms * 1000), Channel::Remote, codec, &rtp);
    }

    /// Regression: a pause is silence, capped as any gap: 30 s of comfort noise between two
    /// seconds of audio records as one second of pause, with no loss.
    #[test]
    fn a_long_comfort_noise_pause_is_capped_like_any_gap() {
        let mut media = CallMedia::default();
        let mut seq = 0;
        let mut next = |media: &mut CallMedia, ms: u64, pt: u8, codec: Codec| {
            take(media, ms, pt, seq, codec);
            seq += 1;
        };
        for i in 0..50 {
            next(&mut media, i * 20, 0, Codec::Pcmu);
        }
        for i in 0..150 {
            next(&mut media, 1000 + i * 200, 13, Codec::ComfortNoise);
        }
        for i in 0..50 {
            next(&mut media, 31_000 + i * 20, 0, Codec::Pcmu);
        }
        let (_, frames) = media.finish();
        let heard = frames.iter().filter(|f| f[0] != 0).count() as i64;
        assert_eq!(heard, 2 * 8000, "both seconds of audio");
        assert_eq!(frames.len() as i64, 2 * 8000 + SKIPPED_GAP_PAUSE);
        assert_eq!(media.gaps_skipped(), 1);
        let remote = media.stats()[Channel::Remote as usize];
        assert_eq!(
            (remote.lost, remote.comfort_noise, remote.packets),
            (0, 150, 250)
        );
    }

    /// Regression: a call not being recorded kept all of its mixed audio until it ended
    /// (32 KB a second: an hour-long call under a `no-record` filter held 115 MB).
    #[test]
    fn an_unrecorded_call_holds_no_more_than_a_chunk_of_audio() {
        let mut media = CallMedia::default();
        for i in 0..3000 {
            take(&mut media, i * 20, 0, i as u16, Codec::Pcmu);
            media.drop_chunk(RECORDING_CHUNK_FRAMES);
            let held = media.mixer.ready() + media.mixer.held();
            assert!(
                held <= RECORDING_CHUNK_FRAMES + LATENCY as usize + 160,
                "{i}: {held}"
            );
        }
        assert!(
            media.mixer.ready() < RECORDING_CHUNK_FRAMES,
            "less than a chunk kept"
        );
    }

    /// Regression: a packet's arrival frame was reckoned in `i64` from the microseconds since
    /// the call's first packet, so a capture time tens of thousands of years later (`NetMon`
    /// keeps a far-future frame at `u64::MAX` µs, pcapng takes any 64-bit time) overflowed:
    /// a panic with debug assertions; past `i64::MAX` µs it wrapped negative and the
    /// packet's audio was dropped as late. Such a leap is a gap like any other.
    #[test]
    fn arrival_overflow_at_a_far_future_capture_time() {
        let mut media = CallMedia::default();
        for (seq, at) in [(0u16, 1_000_000), (1, u64::MAX / 4), (2, u64::MAX)] {
            let bytes = packet(0, seq, u32::from(seq) * 160);
            let rtp = RtpPacket::new_checked(&bytes).expect("RTP");
            media.handle_rtp(Timestamp(at), Channel::Remote, Codec::Pcmu, &rtp);
        }
        media.handle_timeout(Timestamp(u64::MAX));
        let (_, frames) = media.finish();
        let heard = frames.iter().filter(|f| f[0] != 0).count();
        assert_eq!(heard, 3 * 160, "all three packets");
        assert_eq!(frames.len() as i64, 3 * 160 + 2 * SKIPPED_GAP_PAUSE);
        assert_eq!(media.gaps_skipped(), 2);
        assert_eq!(media.stats()[Channel::Remote as usize].late, 0);
    }

    #[test]
    fn recording_turned_off_and_on_again_goes_on_after_a_pause() {
        let mut media = CallMedia::default();
        let mut chunks = Vec::new();
        for i in 0..1500u64 {
            take(&mut media, i * 20, 0, i as u16, Codec::Pcmu);
            // Recorded for 10 s, not for the next 10, then recorded again.
            if (500..1000).contains(&i) {
                media.drop_chunk(RECORDING_CHUNK_FRAMES);
            } else {
                chunks.extend(media.poll_chunk(RECORDING_CHUNK_FRAMES));
            }
        }
        chunks.push(media.finish());
        let mut end = 0;
        let mut pauses = Vec::new();
        for (offset, frames) in &chunks {
            if *offset != end {
                pauses.push(offset - end);
            }
            end = offset + frames.len() as u64;
        }
        assert_eq!(
            pauses,
            vec![SKIPPED_GAP_PAUSE as u64],
            "one pause where it was cut"
        );
        let recorded: usize = chunks.iter().map(|(_, frames)| frames.len()).sum();
        // 20 s of the 30, give or take the chunk being dropped when recording stopped and
        // the one being filled when it started again.
        let recorded = recorded as i64;
        assert!(
            (recorded - 20 * 8000).abs() <= 2 * RECORDING_CHUNK_FRAMES as i64,
            "{recorded}"
        );
    }
}
