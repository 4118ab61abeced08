//! One direction of RTP: a continuous tone encoded as G.711 in 20 ms packets, with the
//! loss, reordering and duplicates of its call drawn from a seeded generator.

use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::g711;
use ringside_core::sdp::Codec;

use crate::call::{Impairments, SynthCall, SynthPacket};
use crate::script::ms;

/// A small deterministic generator (xorshift64*), enough for impairments.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

pub(crate) const PTIME: Duration = Duration::from_millis(20);
const SAMPLES_PER_PACKET: u32 = 160;

/// The RTP payload type and the SDP encoding name of a codec (PCMU unless PCMA).
pub(crate) fn codec_pt(codec: Codec) -> (u8, &'static str) {
    match codec {
        Codec::Pcma => (8, "PCMA"),
        _ => (0, "PCMU"),
    }
}

/// One direction of RTP: a continuous sine, 20 ms packets.
pub(crate) struct RtpSender {
    src: SocketAddr,
    dst: SocketAddr,
    codec: Codec,
    tone: f64,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    /// Samples of the tone generated so far (the phase), independent of the RTP clock.
    sample: u64,
    impairments: Impairments,
}

impl RtpSender {
    pub(crate) fn new(
        call: &SynthCall,
        from: SocketAddr,
        to: SocketAddr,
        tone: f64,
        ssrc: u32,
    ) -> RtpSender {
        RtpSender {
            src: from,
            dst: to,
            codec: call.codec,
            tone,
            ssrc,
            seq: 65_500,              // wraps within the first seconds
            timestamp: 4_294_960_000, // so does the timestamp
            sample: 0,
            impairments: call.impairments,
        }
    }

    /// Sends one packet that is not audio (a telephone-event, comfort noise) in this
    /// stream's sequence, stamped `timestamp`; impairments do not touch it.
    pub(crate) fn emit_other(
        &mut self,
        at: Duration,
        (pt, timestamp): (u8, u32),
        body: &[u8],
        out: &mut Vec<SynthPacket>,
    ) {
        let mut payload = vec![0x80, pt];
        payload.extend_from_slice(&self.seq.to_be_bytes());
        payload.extend_from_slice(&timestamp.to_be_bytes());
        payload.extend_from_slice(&self.ssrc.to_be_bytes());
        payload.extend_from_slice(body);
        self.seq = self.seq.wrapping_add(1);
        out.push(SynthPacket {
            at,
            src: self.src,
            dst: self.dst,
            payload,
        });
    }

    /// The RTP timestamp the next audio packet would carry.
    pub(crate) fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// The RTP clock (not the tone) runs on through `length` of silence.
    pub(crate) fn skip(&mut self, length: Duration) {
        self.timestamp = self.timestamp.wrapping_add((length.as_millis() * 8) as u32);
    }

    pub(crate) fn emit(&mut self, at: Duration, rng: &mut Rng, out: &mut Vec<SynthPacket>) {
        let mut payload = Vec::with_capacity(12 + SAMPLES_PER_PACKET as usize);
        payload.extend_from_slice(&[0x80, codec_pt(self.codec).0]);
        payload.extend_from_slice(&self.seq.to_be_bytes());
        payload.extend_from_slice(&self.timestamp.to_be_bytes());
        payload.extend_from_slice(&self.ssrc.to_be_bytes());
        for _ in 0..SAMPLES_PER_PACKET {
            let value = (f64::from(8000)
                * (2.0 * std::f64::consts::PI * self.tone * self.sample as f64 / 8000.0).sin())
                as i16;
            payload.push(match self.codec {
                Codec::Pcma => g711::encode_alaw(value),
                _ => g711::encode_ulaw(value),
            });
            self.sample += 1;
        }
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET);
        let imp = self.impairments;
        if rng.chance(imp.loss) {
            return;
        }
        // A reordered packet arrives 30 ms late, after the one sent next.
        let delay = if rng.chance(imp.reorder) {
            ms(30)
        } else {
            Duration::ZERO
        };
        let packet = SynthPacket {
            at: at + delay,
            src: self.src,
            dst: self.dst,
            payload,
        };
        if rng.chance(imp.duplicate) {
            out.push(SynthPacket {
                at: packet.at + ms(1),
                ..packet.clone()
            });
        }
        out.push(packet);
    }
}
