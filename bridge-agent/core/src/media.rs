//! The audio of one call: two jitter buffers, G.711 decoding, the stereo mixer, and the
//! chunks of mixed audio handed to the recorder.

use crate::g711;
use crate::mixer::{Channel, Frame, StereoMixer, LATENCY};
use crate::playout::{LegStats, NotAudio, Placement, Playout};
use crate::rtp::RtpPacket;
use crate::sdp::Codec;
use crate::time::Timestamp;

/// Mixed audio is handed out in chunks of at least this many frames (500 ms) for the
/// recorder, so that recording costs one allocation and one write per chunk, not per packet.
/// Writing a file in 16 KB pieces costs the kernel two thirds of what 6.4 KB pieces (200 ms)
/// did; longer chunks would save more but hold more audio in memory, where a crash loses it
/// (250 ms of jitter window plus a chunk: under a second).
pub const RECORDING_CHUNK_FRAMES: usize = 4000;
/// While someone listens live, chunks of 20 ms: the audio leaves as soon as it is mixed.
pub const LIVE_CHUNK_FRAMES: usize = 160;

/// The audio state of one call.
#[derive(Debug, Default)]
pub struct CallMedia {
    /// Arrival time of the call's first audio packet: frame 0 of the timeline.
    epoch: Option<Timestamp>,
    legs: [Playout; 2],
    mixer: StereoMixer,
    pending: Vec<Frame>,
    /// Frames handed out so far: the timeline position of the next chunk.
    handed_out: u64,
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
        let arrival = (now.since(epoch).as_micros() as i64) * 8 / 1000;
        let leg = &mut self.legs[channel as usize];
        let Placement::At(position) = leg.place(arrival, packet) else {
            return;
        };
        let payload = packet.payload();
        let late = match codec {
            Codec::Pcmu => self.mixer.write(
                channel,
                position,
                payload,
                g711::decode_ulaw,
                &mut self.pending,
            ),
            Codec::Pcma => self.mixer.write(
                channel,
                position,
                payload,
                g711::decode_alaw,
                &mut self.pending,
            ),
            Codec::TelephoneEvent | Codec::ComfortNoise | Codec::Other => 0,
        };
        if late > 0 {
            leg.count_late();
        }
        self.mixer.drain_to(arrival - LATENCY, &mut self.pending);
    }

    /// Hands out audio older than [`LATENCY`] at `now`, for calls whose packets paused.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if let Some(epoch) = self.epoch {
            let arrival = (now.since(epoch).as_micros() as i64) * 8 / 1000;
            let until = (arrival - LATENCY).min(self.mixer.written_to() + self.mixer.held() as i64);
            self.mixer.drain_to(until, &mut self.pending);
        }
    }

    /// A chunk of mixed audio and the timeline frame it starts at, once at least
    /// `min_frames` are ready ([`RECORDING_CHUNK_FRAMES`] or [`LIVE_CHUNK_FRAMES`]).
    pub fn poll_chunk(&mut self, min_frames: usize) -> Option<(u64, Vec<Frame>)> {
        (self.pending.len() >= min_frames)
            .then(|| self.take_pending(Vec::with_capacity(min_frames + min_frames / 4)))
    }

    /// Everything left and where it starts, at the end of the call.
    pub fn finish(&mut self) -> (u64, Vec<Frame>) {
        self.mixer.drain_all(&mut self.pending);
        self.take_pending(Vec::new())
    }

    fn take_pending(&mut self, replacement: Vec<Frame>) -> (u64, Vec<Frame>) {
        let offset = self.handed_out;
        let frames = std::mem::replace(&mut self.pending, replacement);
        self.handed_out += frames.len() as u64;
        (offset, frames)
    }

    /// Takes a packet of `channel`'s stream that is not the call's audio (a payload type no
    /// SDP offered): it only fills its place in the sequence, so it is not loss.
    pub fn handle_stray(&mut self, channel: Channel, packet: &RtpPacket<'_>) {
        self.legs[channel as usize].skip(packet, NotAudio::Stray);
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
