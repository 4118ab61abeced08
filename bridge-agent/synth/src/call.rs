//! What a generated call is: who calls whom, when, how it ends, over which addresses, with
//! which network trouble; and what a generated packet is. The script turns one into the other.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ringside_core::call::CallDirection;
use ringside_core::sdp::Codec;

/// How a generated call ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Answered, then both sides talk this long (hold excluded) and the remote side hangs up.
    Answered {
        /// Talk time.
        talk: Duration,
    },
    /// The caller gives up while it rings (CANCEL, 487).
    CallerHangsUp,
    /// The called side is busy (486).
    Busy,
    /// Answered and talked over like [`Outcome::Answered`], but the capture lacks the 200 OK
    /// (a lost packet, a capture started late, a mirror of one direction) and maybe more.
    AnsweredUnseen {
        /// Talk time.
        talk: Duration,
        /// What the capture lacks.
        missing: Unseen,
    },
    /// The called side redirects the call (302 Moved Temporarily, with a Contact); the
    /// caller ACKs it and, with `retry`, sends the INVITE it asked for (same Call-ID, next
    /// `CSeq`, no To tag) to the Contact, which answers and talks this long.
    Redirected {
        /// Talk time of the forwarded call, if the caller follows the redirection.
        retry: Option<Duration>,
    },
}

/// What the capture of an [`Outcome::AnsweredUnseen`] call lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unseen {
    /// The 200 OK; its ACK, a transaction of its own with a new branch, is there.
    Ok200,
    /// The 200 OK and its ACK: only the RTP both ways (and the BYE) are there.
    Ok200AndAck,
    /// The 200 OK and the callee's RTP (a mirror of the caller's direction), and the
    /// caller's ACK reuses the INVITE's branch, as sloppy phones do: only the BYE after it
    /// shows the answer.
    Ok200WithSloppyAck,
}

/// A hold in the middle of an answered call: re-INVITE `sendonly`, silence, re-INVITE back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hold {
    /// Talk time before the hold.
    pub after: Duration,
    /// How long the hold lasts.
    pub length: Duration,
}

/// Network trouble applied to RTP, as fractions of packets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Impairments {
    /// Packets lost.
    pub loss: f64,
    /// Packets delayed behind the next one.
    pub reorder: f64,
    /// Packets sent twice.
    pub duplicate: f64,
}

/// The four addresses of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The provider's SIP address.
    pub provider_sip: SocketAddr,
    /// The phone's SIP address.
    pub phone_sip: SocketAddr,
    /// The provider's RTP address.
    pub provider_rtp: SocketAddr,
    /// The phone's RTP address.
    pub phone_rtp: SocketAddr,
}

impl Endpoints {
    /// Documentation addresses (`203.0.113.5` provider, `192.168.1.20` phone), SIP on
    /// `sip_port`, RTP ports derived from `index` so concurrent calls do not collide.
    #[must_use]
    pub fn standard(index: u16, sip_port: u16) -> Endpoints {
        Endpoints::between(
            [203, 0, 113, 5].into(),
            [192, 168, 1, 20].into(),
            index,
            sip_port,
        )
    }

    /// The same ports between the given provider and phone addresses.
    #[must_use]
    pub fn between(provider: IpAddr, phone: IpAddr, index: u16, sip_port: u16) -> Endpoints {
        Endpoints {
            provider_sip: SocketAddr::new(provider, sip_port),
            phone_sip: SocketAddr::new(phone, sip_port),
            provider_rtp: SocketAddr::new(provider, 20_000 + index * 2),
            phone_rtp: SocketAddr::new(phone, 30_000 + index * 2),
        }
    }
}

/// One generated call.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthCall {
    /// The Call-ID of every message of the call (`synth-N@203.0.113.5` by default).
    pub call_id: String,
    /// Who calls whom.
    pub direction: CallDirection,
    /// The other party's number.
    pub number: String,
    /// The other party's display name.
    pub name: Option<String>,
    /// Caller-ID withheld (`Privacy: id`, `anonymous@anonymous.invalid`).
    pub anonymous: bool,
    /// PCMU or PCMA.
    pub codec: Codec,
    /// When the INVITE is sent, from the start of the capture.
    pub start: Duration,
    /// How long it rings.
    pub ring: Duration,
    /// How it ends.
    pub outcome: Outcome,
    /// A hold in the middle of the talk, if any (answered calls only).
    pub hold: Option<Hold>,
    /// Loss, reordering and duplicates applied to its RTP both ways.
    pub impairments: Impairments,
    /// The remote party's tone, Hz (left channel).
    pub remote_tone: f64,
    /// The phone's tone, Hz (right channel).
    pub phone_tone: f64,
    /// Where its SIP and RTP go on either side.
    pub endpoints: Endpoints,
}

impl SynthCall {
    /// Whether the capture has the RTP of (remote party, phone): a mirror of the caller's
    /// direction misses the callee's.
    #[must_use]
    pub fn rtp_captured(&self) -> (bool, bool) {
        let one_way = matches!(
            self.outcome,
            Outcome::AnsweredUnseen {
                missing: Unseen::Ok200WithSloppyAck,
                ..
            }
        );
        let callee_is_phone = self.direction == CallDirection::Inbound;
        (!one_way || callee_is_phone, !one_way || !callee_is_phone)
    }

    /// An inbound PCMU call answered after 2 s, 4 s of talk, 440 Hz remote, 1000 Hz phone.
    #[must_use]
    pub fn inbound(index: u16, number: &str, name: Option<&str>) -> SynthCall {
        SynthCall {
            call_id: format!("synth-{index}@203.0.113.5"),
            direction: CallDirection::Inbound,
            number: number.to_owned(),
            name: name.map(str::to_owned),
            anonymous: false,
            codec: Codec::Pcmu,
            start: Duration::ZERO,
            ring: Duration::from_secs(2),
            outcome: Outcome::Answered {
                talk: Duration::from_secs(4),
            },
            hold: None,
            impairments: Impairments::default(),
            remote_tone: 440.0,
            phone_tone: 1000.0,
            endpoints: Endpoints::standard(index, 5060),
        }
    }

    /// How long the recording of this call should be: talk plus hold, zero if unanswered.
    #[must_use]
    pub fn media_duration(&self) -> Duration {
        match self.outcome {
            Outcome::Answered { talk }
            | Outcome::AnsweredUnseen { talk, .. }
            | Outcome::Redirected { retry: Some(talk) } => {
                talk + self.hold.map_or(Duration::ZERO, |h| h.length)
            }
            _ => Duration::ZERO,
        }
    }
}

/// One generated packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthPacket {
    /// When, from the start of the capture.
    pub at: Duration,
    /// The sending side's address and port.
    pub src: SocketAddr,
    /// The receiving side's address and port.
    pub dst: SocketAddr,
    /// The UDP payload (or TCP segment data): SIP text or an RTP packet.
    pub payload: Vec<u8>,
}
