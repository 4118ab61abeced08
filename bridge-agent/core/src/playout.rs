//! The per-direction jitter buffer: where on the call's timeline each RTP packet belongs.
//!
//! Audio is placed by RTP timestamp, not by arrival, so reordered packets land in their
//! place, duplicates are recognised by sequence number and skipped, and lost packets leave
//! silence. The timeline is anchored on arrival time: at the first packet, at an SSRC change
//! (re-INVITE, transfer), and whenever the timestamp and the arrival clock drift apart by
//! more than [`MAX_DRIFT`] frames (a timestamp jump, or a hold whose RTP clock stood still).
//! The buffering itself happens in the [`crate::mixer`], which waits [`crate::mixer::LATENCY`]
//! before writing audio out.

use crate::rtp::RtpPacket;

/// How far (in 8 kHz frames) a packet's timestamp position may stray from its arrival
/// position before the timeline is anchored anew: half a second.
pub const MAX_DRIFT: i64 = 4000;

/// Where a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Its first sample belongs at this frame of the call's timeline.
    At(i64),
    /// A copy of a packet already placed.
    Duplicate,
}

/// Counters of one direction, for the call log and quality reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LegStats {
    /// RTP packets received (duplicates included).
    pub packets: u64,
    /// Packets never received, from sequence number gaps.
    pub lost: u64,
    /// Copies of packets already received.
    pub duplicates: u64,
    /// Packets that arrived after their audio had been written out.
    pub late: u64,
    /// Times the timeline was re-anchored (timestamp jumps, hold).
    pub resyncs: u64,
    /// SSRC changes followed.
    pub ssrc_changes: u64,
    /// Talkspurts started (packets with the marker bit); not in the call log.
    #[serde(skip)]
    pub talkspurts: u64,
    /// RFC 4733 telephone-event packets (key presses): counted in `packets`, never as loss.
    pub events: u64,
    /// RFC 3389 comfort-noise packets (a pause): counted in `packets`, never as loss.
    pub comfort_noise: u64,
}

/// A packet that shares the audio's sequence numbers but carries no audio to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAudio {
    /// An RFC 4733 telephone-event (a key press).
    Event,
    /// RFC 3389 comfort noise: the sender pauses; the recording stays silent.
    ComfortNoise,
    /// A payload type no SDP of the call offered: stray, counted by the call, not here.
    Stray,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    ssrc: u32,
    timestamp: u32,
    position: i64,
}

/// Sequence-number bookkeeping: the highest extended number and a 64-packet window.
#[derive(Debug, Clone, Copy, Default)]
struct Sequence {
    first: u64,
    highest: u64,
    window: u64,
    received: u64,
}

impl Sequence {
    fn restart(seq: u16) -> Sequence {
        let ext = u64::from(seq) + (1 << 16);
        Sequence {
            first: ext,
            highest: ext,
            window: 1,
            received: 1,
        }
    }

    /// Records a sequence number; `false` for a duplicate.
    fn record(&mut self, seq: u16) -> bool {
        // Extend to the 64-bit number nearest to the highest seen.
        let cycle = self.highest & !0xffff;
        let candidates = [cycle.wrapping_sub(1 << 16), cycle, cycle + (1 << 16)];
        let ext = candidates
            .iter()
            .map(|c| c + u64::from(seq))
            .min_by_key(|e| e.abs_diff(self.highest))
            .unwrap_or(cycle + u64::from(seq));
        if ext > self.highest {
            let shift = ext - self.highest;
            self.window = if shift >= 64 { 0 } else { self.window << shift };
            self.window |= 1;
            self.highest = ext;
        } else {
            let age = self.highest - ext;
            if age < 64 {
                if self.window & (1 << age) != 0 {
                    return false;
                }
                self.window |= 1 << age;
            }
            self.first = self.first.min(ext);
        }
        self.received += 1;
        true
    }

    fn lost(&self) -> u64 {
        (self.highest - self.first + 1).saturating_sub(self.received)
    }
}

/// The jitter buffer state of one direction of a call.
#[derive(Debug, Clone, Default)]
pub struct Playout {
    anchor: Option<Anchor>,
    sequence: Sequence,
    lost_before: u64,
    stats: LegStats,
}

impl Playout {
    /// Places a packet. `arrival` is the frame on the call's timeline at which it arrived
    /// (its arrival time × 8 kHz); `samples` is its audio length in frames.
    pub fn place(&mut self, arrival: i64, packet: &RtpPacket<'_>) -> Placement {
        self.stats.packets += 1;
        self.stats.talkspurts += u64::from(packet.marker());
        let (ssrc, timestamp) = (packet.ssrc(), packet.timestamp());
        let Some(anchor) = self.anchor.filter(|a| a.ssrc == ssrc) else {
            if self.anchor.is_some() {
                self.stats.ssrc_changes += 1;
                self.lost_before += self.sequence.lost();
            }
            self.anchor = Some(Anchor {
                ssrc,
                timestamp,
                position: arrival,
            });
            self.sequence = Sequence::restart(packet.sequence());
            return Placement::At(arrival);
        };
        if !self.sequence.record(packet.sequence()) {
            self.stats.duplicates += 1;
            return Placement::Duplicate;
        }
        let offset = i64::from(timestamp.wrapping_sub(anchor.timestamp) as i32);
        let position = anchor.position + offset;
        if (position - arrival).abs() > MAX_DRIFT {
            self.stats.resyncs += 1;
            self.anchor = Some(Anchor {
                ssrc,
                timestamp,
                position: arrival,
            });
            return Placement::At(arrival);
        }
        Placement::At(position)
    }

    /// Takes a telephone-event, comfort-noise or stray packet: it fills its place in the sequence
    /// (so the audio around it shows no gap) without touching the timeline (an event's
    /// timestamp is its start, repeated for as long as the key is held). Its sequence number
    /// counts only when it shares the audio's SSRC.
    pub fn skip(&mut self, packet: &RtpPacket<'_>, kind: NotAudio) {
        match kind {
            NotAudio::Event => self.stats.events += 1,
            NotAudio::ComfortNoise => self.stats.comfort_noise += 1,
            NotAudio::Stray => {}
        }
        self.stats.packets += u64::from(kind != NotAudio::Stray);
        let same_stream = self.anchor.is_some_and(|a| a.ssrc == packet.ssrc());
        if same_stream && !self.sequence.record(packet.sequence()) {
            self.stats.duplicates += 1;
        }
    }

    /// Counts a packet of a codec Ringside does not decode: its sequence (loss, duplicates,
    /// SSRC changes) without a place on the timeline, whose clock may not run at 8 kHz.
    pub fn count(&mut self, packet: &RtpPacket<'_>) {
        if self.anchor.is_none_or(|a| a.ssrc != packet.ssrc()) {
            // The first packet, or a new SSRC: anchored as audio would be (the place unused).
            let _ = self.place(0, packet);
            return;
        }
        self.stats.packets += 1;
        self.stats.talkspurts += u64::from(packet.marker());
        if !self.sequence.record(packet.sequence()) {
            self.stats.duplicates += 1;
        }
    }

    /// Ends the current sequence space: the next packet anchors anew, as the first did, and
    /// no loss is counted between the two (media moved to a new address).
    pub fn restart(&mut self) {
        if self.anchor.take().is_some() {
            self.lost_before += self.sequence.lost();
        }
    }

    /// Counts a packet the mixer could not take any more.
    pub fn count_late(&mut self) {
        self.stats.late += 1;
    }

    /// This direction's counters.
    #[must_use]
    pub fn stats(&self) -> LegStats {
        LegStats {
            lost: self.lost_before
                + if self.anchor.is_some() {
                    self.sequence.lost()
                } else {
                    0
                },
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0xff; 160]);
        p
    }

    fn place(playout: &mut Playout, arrival: i64, seq: u16, ts: u32, ssrc: u32) -> Placement {
        let bytes = packet(seq, ts, ssrc);
        playout.place(arrival, &RtpPacket::new_checked(&bytes).expect("valid"))
    }

    #[test]
    fn places_by_timestamp_despite_reordering_and_jitter() {
        let mut p = Playout::default();
        assert_eq!(place(&mut p, 100, 10, 5000, 1), Placement::At(100));
        assert_eq!(place(&mut p, 300, 12, 5320, 1), Placement::At(420));
        assert_eq!(place(&mut p, 310, 11, 5160, 1), Placement::At(260));
        assert_eq!(p.stats().lost, 0);
    }

    #[test]
    fn duplicates_are_skipped_and_gaps_counted_as_loss() {
        let mut p = Playout::default();
        place(&mut p, 0, 65_534, 0, 7);
        assert_eq!(place(&mut p, 160, 65_535, 160, 7), Placement::At(160));
        assert_eq!(place(&mut p, 170, 65_535, 160, 7), Placement::Duplicate);
        assert_eq!(place(&mut p, 640, 2, 640, 7), Placement::At(640)); // wrapped, 0 and 1 lost
        let stats = p.stats();
        assert_eq!((stats.duplicates, stats.lost, stats.packets), (1, 2, 4));
    }

    fn skip(playout: &mut Playout, seq: u16, ts: u32, ssrc: u32, kind: NotAudio) {
        let bytes = packet(seq, ts, ssrc);
        playout.skip(&RtpPacket::new_checked(&bytes).expect("valid"), kind);
    }

    #[test]
    fn telephone_events_and_comfort_noise_are_not_loss() {
        let mut p = Playout::default();
        place(&mut p, 0, 10, 0, 5);
        // A key held for a second: its timestamp stays at the event's start.
        for seq in 11..61 {
            skip(&mut p, seq, 160, 5, NotAudio::Event);
        }
        skip(&mut p, 60, 160, 5, NotAudio::Event); // the end packet, sent again
        assert_eq!(place(&mut p, 8160, 61, 8160, 5), Placement::At(8160));
        skip(&mut p, 62, 8320, 5, NotAudio::ComfortNoise);
        assert_eq!(place(&mut p, 24_000, 63, 24_000, 5), Placement::At(24_000));
        let stats = p.stats();
        assert_eq!(
            (stats.lost, stats.resyncs, stats.duplicates),
            (0, 0, 1),
            "{stats:?}"
        );
        assert_eq!(
            (stats.packets, stats.events, stats.comfort_noise),
            (55, 51, 1)
        );
    }

    #[test]
    fn events_on_another_ssrc_leave_the_audio_sequence_alone() {
        let mut p = Playout::default();
        place(&mut p, 0, 10, 0, 5);
        skip(&mut p, 40_000, 160, 6, NotAudio::Event);
        place(&mut p, 160, 11, 160, 5);
        let stats = p.stats();
        assert_eq!((stats.lost, stats.ssrc_changes, stats.events), (0, 0, 1));
    }

    #[test]
    fn undecoded_packets_count_loss_duplicates_and_ssrc_changes_without_a_timeline() {
        let mut p = Playout::default();
        for (seq, ts, ssrc) in [(1, 0, 3), (2, 960, 3), (2, 960, 3), (5, 3840, 3), (9, 0, 4)] {
            let bytes = packet(seq, ts, ssrc);
            p.count(&RtpPacket::new_checked(&bytes).expect("valid"));
        }
        let stats = p.stats();
        assert_eq!(
            (stats.packets, stats.lost, stats.duplicates),
            (5, 2, 1),
            "{stats:?}"
        );
        assert_eq!((stats.ssrc_changes, stats.resyncs), (1, 0));
    }

    #[test]
    fn ssrc_change_and_timestamp_jump_reanchor_on_arrival() {
        let mut p = Playout::default();
        place(&mut p, 0, 1, 1000, 1);
        assert_eq!(place(&mut p, 8000, 50, 999_999, 2), Placement::At(8000));
        assert_eq!(place(&mut p, 8160, 51, 1_000_159, 2), Placement::At(8160));
        assert_eq!(
            place(&mut p, 80_000, 52, 1_000_319, 2),
            Placement::At(80_000)
        ); // hold, clock stood still
        let stats = p.stats();
        assert_eq!((stats.ssrc_changes, stats.resyncs), (1, 1));
    }
}
