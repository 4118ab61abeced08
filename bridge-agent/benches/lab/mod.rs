//! The benchmarks' workload: many answered calls at once, split into the signalling that sets
//! them up and the seconds of two-way G.711 RTP that follow, as raw IP packets (what NFQUEUE
//! hands over).

use std::time::Duration;

use ringside_core::Timestamp;
use ringside_synth::{self as synth, Endpoints, Outcome, SynthCall};

/// A packet as the engine takes it.
pub struct Packet {
    /// Arrival time.
    pub at: Timestamp,
    /// The IP packet.
    pub ip: Vec<u8>,
}

/// The workload of one run.
pub struct Lab {
    /// Everything up to the moment every call is answered, talking and recorded.
    pub setup: Vec<Packet>,
    /// `seconds` of RTP of all calls in progress, in time order.
    pub rtp: Vec<Packet>,
}

/// Unix time the generated capture starts at.
const EPOCH: Duration = Duration::from_secs(1_790_000_000);

/// `calls` inbound calls starting within the first second, all answered after one second of
/// ringing, then `seconds` of conversation measured.
#[must_use]
pub fn lab(calls: u16, seconds: u64) -> Lab {
    let stagger = 1_000_000 / u64::from(calls.max(1));
    // By 3 s every call talks and its first audio has been handed out (its WAV exists): what
    // follows is the steady path.
    let talk_from = Duration::from_secs(3);
    let talk_to = talk_from + Duration::from_secs(seconds);
    let synth_calls: Vec<SynthCall> = (0..calls)
        .map(|i| SynthCall {
            call_id: format!("bench-{i}@203.0.113.5"),
            start: Duration::from_micros(u64::from(i) * stagger),
            ring: Duration::from_secs(1),
            outcome: Outcome::Answered {
                talk: Duration::from_secs(seconds + 2),
            },
            endpoints: Endpoints::standard(i, 5060),
            ..SynthCall::inbound(i, &format!("1555{i:07}"), Some("Bench Caller"))
        })
        .collect();
    let mut lab = Lab {
        setup: Vec::new(),
        rtp: Vec::new(),
    };
    let mut frame = Vec::new();
    for packet in synth::packets(&synth_calls, 7) {
        if packet.at >= talk_to {
            break;
        }
        synth::ethernet_frame(&packet, &mut frame).expect("synthetic packets are all IPv4");
        let packet_out = Packet {
            at: Timestamp::from(EPOCH + packet.at),
            // Strip the Ethernet header: the queue hands over IP packets.
            ip: frame[14..].to_vec(),
        };
        if packet.at < talk_from {
            lab.setup.push(packet_out);
        } else {
            lab.rtp.push(packet_out);
        }
    }
    lab
}
