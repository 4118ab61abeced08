//! Generated calls: SIP signalling and G.711 RTP with a different tone on each side, written
//! as a pcap. The demo replays them; the tests check what the engine makes of them.
//!
//! Impairments (loss, reordering, duplicates) are drawn from a seeded generator, so a
//! capture is the same on every run.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{IpHeaders, PacketBuilder, PacketBuilderStep};
use pcap_file::pcap::{PcapPacket, PcapWriter};
use ringside_core::call::CallDirection;
use ringside_core::g711;
use ringside_core::sdp::Codec;
use ringside_core::tcp_stream::TcpSegment;

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
    /// Its Call-ID.
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
    /// An optional hold.
    pub hold: Option<Hold>,
    /// RTP trouble.
    pub impairments: Impairments,
    /// The remote party's tone, Hz (left channel).
    pub remote_tone: f64,
    /// The phone's tone, Hz (right channel).
    pub phone_tone: f64,
    /// Addresses.
    pub endpoints: Endpoints,
}

impl SynthCall {
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
            Outcome::Answered { talk } => talk + self.hold.map_or(Duration::ZERO, |h| h.length),
            _ => Duration::ZERO,
        }
    }
}

/// One generated packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthPacket {
    /// When, from the start of the capture.
    pub at: Duration,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// UDP payload.
    pub payload: Vec<u8>,
}

/// A small deterministic generator (xorshift64*), enough for impairments.
struct Rng(u64);

impl Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

const PTIME: Duration = Duration::from_millis(20);
const SAMPLES_PER_PACKET: u32 = 160;

/// All packets of the calls, in time order, after the phone's REGISTER (an ATA registers
/// with its provider before it calls; that is how a replay learns which side is the phone).
#[must_use]
pub fn packets(calls: &[SynthCall], seed: u64) -> Vec<SynthPacket> {
    let mut out = Vec::new();
    let mut registered = Vec::new();
    for call in calls {
        let ep = call.endpoints;
        if !registered.contains(&ep.phone_sip) {
            registered.push(ep.phone_sip);
            let register = format!(
                "REGISTER sip:provider.example SIP/2.0\r\nVia: SIP/2.0/UDP {phone};branch=z9hG4bK-reg-{n}\r\nMax-Forwards: 70\r\n\
                 From: <sip:15550109999@provider.example>;tag=reg\r\nTo: <sip:15550109999@provider.example>\r\n\
                 Call-ID: register-{n}@{phone}\r\nCSeq: 1 REGISTER\r\nContact: <sip:15550109999@{phone}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
                phone = ep.phone_sip,
                n = registered.len()
            );
            send(
                &mut out,
                Duration::ZERO,
                ep.phone_sip,
                ep.provider_sip,
                register,
            );
        }
    }
    for (index, call) in calls.iter().enumerate() {
        let mut rng = Rng(seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        signalling_and_media(call, &mut rng, &mut out);
    }
    out.sort_by_key(|p| p.at);
    out
}

fn signalling_and_media(call: &SynthCall, rng: &mut Rng, out: &mut Vec<SynthPacket>) {
    let mut dialog = Dialog::new(call, out);
    let Some(talk) = ring(&mut dialog, call) else {
        return;
    };
    let media_start = call.start + call.ring + ms(30);
    let (end, cseq) = converse(&mut dialog, call, rng, media_start, talk);
    // The provider's side hangs up.
    let provider_is_caller = call.direction == CallDirection::Inbound;
    dialog.request(end + ms(10), provider_is_caller, "BYE", cseq, None);
    dialog.response(
        end + ms(20),
        !provider_is_caller,
        (200, "OK"),
        cseq,
        "BYE",
        None,
    );
}

/// INVITE, 100, 180, then the outcome; returns the talk time if the call is answered.
fn ring(d: &mut Dialog<'_>, call: &SynthCall) -> Option<Duration> {
    let (offer_rtp, answer_rtp) = match call.direction {
        CallDirection::Inbound => (call.endpoints.provider_rtp, call.endpoints.phone_rtp),
        CallDirection::Outbound => (call.endpoints.phone_rtp, call.endpoints.provider_rtp),
    };
    let at = call.start;
    d.to_tag = false;
    d.request(
        at,
        true,
        "INVITE",
        1,
        Some(d.sip.sdp(offer_rtp, "sendrecv")),
    );
    d.response(at + ms(10), false, (100, "Trying"), 1, "INVITE", None);
    d.to_tag = true;
    d.response(at + ms(50), false, (180, "Ringing"), 1, "INVITE", None);
    let at = at + call.ring;
    match call.outcome {
        Outcome::CallerHangsUp => {
            // A CANCEL copies the INVITE's To, without the tag (RFC 3261 §9.1).
            d.to_tag = false;
            d.request(at, true, "CANCEL", 1, None);
            d.to_tag = true;
            d.response(at + ms(10), false, (200, "OK"), 1, "CANCEL", None);
            d.response(
                at + ms(20),
                false,
                (487, "Request Terminated"),
                1,
                "INVITE",
                None,
            );
            d.request(at + ms(30), true, "ACK", 1, None);
            None
        }
        Outcome::Busy => {
            d.response(at, false, (486, "Busy Here"), 1, "INVITE", None);
            d.request(at + ms(10), true, "ACK", 1, None);
            None
        }
        Outcome::Answered { talk } => {
            let sdp = Some(d.sip.sdp(answer_rtp, "sendrecv"));
            d.response(at, false, (200, "OK"), 1, "INVITE", sdp);
            d.request(at + ms(20), true, "ACK", 1, None);
            Some(talk)
        }
    }
}

/// RTP both ways for `talk`, with the hold (if any) in the middle. Returns when the audio
/// ended and the next `CSeq`.
fn converse(
    d: &mut Dialog<'_>,
    call: &SynthCall,
    rng: &mut Rng,
    start: Duration,
    talk: Duration,
) -> (Duration, u32) {
    let ep = call.endpoints;
    let mut remote = RtpSender::new(
        call,
        ep.provider_rtp,
        ep.phone_rtp,
        call.remote_tone,
        0x1111,
    );
    let mut phone = RtpSender::new(call, ep.phone_rtp, ep.provider_rtp, call.phone_tone, 0x2222);
    let mut cseq = 2;
    let mut t = start;
    let before_hold = call.hold.map_or(talk, |h| h.after.min(talk));
    while t < start + before_hold {
        remote.emit(t, rng, d.out);
        phone.emit(t, rng, d.out);
        t += PTIME;
    }
    let Some(hold) = call.hold else {
        return (t, cseq);
    };
    // The provider puts the phone on hold and takes it back; RTP pauses. The provider's RTP
    // clock runs on through the hold, the phone's stands still.
    let provider_is_caller = call.direction == CallDirection::Inbound;
    for (at, direction, answer) in [
        (t, "sendonly", "recvonly"),
        (
            t + hold.length.saturating_sub(ms(40)),
            "sendrecv",
            "sendrecv",
        ),
    ] {
        let offer = Some(d.sip.sdp(ep.provider_rtp, direction));
        d.request(at, provider_is_caller, "INVITE", cseq, offer);
        let answer = Some(d.sip.sdp(ep.phone_rtp, answer));
        d.response(
            at + ms(10),
            !provider_is_caller,
            (200, "OK"),
            cseq,
            "INVITE",
            answer,
        );
        cseq += 1;
    }
    remote.skip(hold.length);
    t += hold.length;
    while t < start + talk + hold.length {
        remote.emit(t, rng, d.out);
        phone.emit(t, rng, d.out);
        t += PTIME;
    }
    (t, cseq)
}

/// The signalling of one call: who is on which side, and where the packets go.
struct Dialog<'a> {
    sip: Sip<'a>,
    caller: SocketAddr,
    callee: SocketAddr,
    /// Whether To carries the callee's tag yet (from the first 180 on).
    to_tag: bool,
    out: &'a mut Vec<SynthPacket>,
}

impl<'a> Dialog<'a> {
    fn new(call: &'a SynthCall, out: &'a mut Vec<SynthPacket>) -> Dialog<'a> {
        let ep = call.endpoints;
        let (from_side, to_side) = match call.direction {
            CallDirection::Inbound => (ep.provider_sip, ep.phone_sip),
            CallDirection::Outbound => (ep.phone_sip, ep.provider_sip),
        };
        Dialog {
            sip: Sip { call },
            caller: from_side,
            callee: to_side,
            to_tag: false,
            out,
        }
    }

    fn sides(&self, from_caller: bool) -> (SocketAddr, SocketAddr) {
        if from_caller {
            (self.caller, self.callee)
        } else {
            (self.callee, self.caller)
        }
    }

    fn request(
        &mut self,
        at: Duration,
        from_caller: bool,
        method: &str,
        cseq: u32,
        sdp: Option<String>,
    ) {
        let (src, dst) = self.sides(from_caller);
        let text = self.sip.request(method, cseq, src, sdp, self.to_tag);
        send(self.out, at, src, dst, text);
    }

    fn response(
        &mut self,
        at: Duration,
        from_caller: bool,
        status: (u16, &str),
        cseq: u32,
        method: &str,
        sdp: Option<String>,
    ) {
        let (src, dst) = self.sides(from_caller);
        let text = self
            .sip
            .response(status, cseq, method, dst, sdp, self.to_tag);
        send(self.out, at, src, dst, text);
    }
}

fn send(out: &mut Vec<SynthPacket>, at: Duration, src: SocketAddr, dst: SocketAddr, text: String) {
    out.push(SynthPacket {
        at,
        src,
        dst,
        payload: text.into_bytes(),
    });
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Writes SIP text for one call. Requests and responses copy Via, From, To, Call-ID and
/// `CSeq` as RFC 3261 §8.2.6 says.
struct Sip<'a> {
    call: &'a SynthCall,
}

impl Sip<'_> {
    fn party_headers(&self, with_to_tag: bool) -> String {
        let call = self.call;
        let to_tag = if with_to_tag { ";tag=callee-tag" } else { "" };
        if call.direction == CallDirection::Outbound {
            return format!(
                "From: \"Home\" <sip:15550109999@provider.example>;tag=caller-tag\r\nTo: <sip:{}@provider.example>{to_tag}\r\n",
                call.number
            );
        }
        if call.anonymous {
            return format!(
                "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=caller-tag\r\nTo: <sip:15550109999@provider.example>{to_tag}\r\n\
                 P-Asserted-Identity: <sip:+{}@provider.example>\r\nPrivacy: id\r\n",
                call.number
            );
        }
        let name = call
            .name
            .as_deref()
            .map(|n| format!("\"{n}\" "))
            .unwrap_or_default();
        format!(
            "From: {name}<sip:{}@provider.example>;tag=caller-tag\r\nTo: <sip:15550109999@provider.example>{to_tag}\r\n",
            call.number
        )
    }

    fn request(
        &self,
        method: &str,
        cseq: u32,
        from: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> String {
        let call = self.call;
        let mut text = format!(
            "{method} sip:15550109999@{} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-{}-{cseq}\r\nMax-Forwards: 70\r\n{}Call-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{from}>\r\n",
            call.endpoints.phone_sip,
            call.call_id,
            self.party_headers(with_to_tag),
            call.call_id
        );
        finish(&mut text, sdp);
        text
    }

    fn response(
        &self,
        (code, reason): (u16, &str),
        cseq: u32,
        method: &str,
        via: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> String {
        let call = self.call;
        let mut text = format!(
            "SIP/2.0 {code} {reason}\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK-{}-{cseq}\r\n{}Call-ID: {}\r\nCSeq: {cseq} {method}\r\n",
            call.call_id,
            self.party_headers(with_to_tag),
            call.call_id
        );
        finish(&mut text, sdp);
        text
    }

    fn sdp(&self, rtp: SocketAddr, direction: &str) -> String {
        let (pt, name) = codec_pt(self.call.codec);
        format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {name}/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na={direction}\r\n",
            ip = rtp.ip(),
            port = rtp.port()
        )
    }
}

fn finish(text: &mut String, sdp: Option<String>) {
    match sdp {
        Some(body) => {
            let _ = write!(
                text,
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
        None => text.push_str("Content-Length: 0\r\n\r\n"),
    }
}

fn codec_pt(codec: Codec) -> (u8, &'static str) {
    match codec {
        Codec::Pcma => (8, "PCMA"),
        _ => (0, "PCMU"),
    }
}

/// One direction of RTP: a continuous sine, 20 ms packets.
struct RtpSender {
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
    fn new(call: &SynthCall, from: SocketAddr, to: SocketAddr, tone: f64, ssrc: u32) -> RtpSender {
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

    /// The RTP clock (not the tone) runs on through `length` of silence.
    fn skip(&mut self, length: Duration) {
        self.timestamp = self.timestamp.wrapping_add((length.as_millis() * 8) as u32);
    }

    fn emit(&mut self, at: Duration, rng: &mut Rng, out: &mut Vec<SynthPacket>) {
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

/// The provider's message-waiting NOTIFY to the phone (RFC 3842): `new` and `old` voice
/// messages; `cseq` makes each one its own transaction.
#[must_use]
pub fn voicemail_notify(
    at: Duration,
    endpoints: Endpoints,
    cseq: u32,
    new: u32,
    old: u32,
) -> SynthPacket {
    let waiting = if new > 0 { "yes" } else { "no" };
    let body = format!("Messages-Waiting: {waiting}\r\nVoice-Message: {new}/{old} (0/0)\r\n");
    let (provider, phone) = (endpoints.provider_sip, endpoints.phone_sip);
    let payload = format!(
        "NOTIFY sip:15550109999@{phone} SIP/2.0\r\nVia: SIP/2.0/UDP {provider};branch=z9hG4bK-mwi-{cseq}\r\n\
         From: <sip:voicemail@provider.example>;tag=vm\r\nTo: <sip:15550109999@provider.example>;tag=ph\r\n\
         Call-ID: mwi@provider.example\r\nCSeq: {cseq} NOTIFY\r\nEvent: message-summary\r\n\
         Content-Type: application/simple-message-summary\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    SynthPacket {
        at,
        src: provider,
        dst: phone,
        payload: payload.into_bytes(),
    }
}

/// Writes packets as an Ethernet pcap, times counted from `epoch` (Unix seconds).
pub fn write_pcap(path: &Path, epoch: Duration, packets: &[SynthPacket]) -> io::Result<()> {
    let mut frames = Vec::with_capacity(packets.len());
    for packet in packets {
        let mut frame = Vec::with_capacity(packet.payload.len() + 64);
        ethernet_frame(packet, &mut frame)?;
        frames.push((packet.at, frame));
    }
    write_frames(path, epoch, &frames)
}

/// Writes Ethernet frames, each with its time from the start, as a pcap.
pub fn write_frames(
    path: &Path,
    epoch: Duration,
    frames: &[(Duration, Vec<u8>)],
) -> io::Result<()> {
    let mut writer =
        PcapWriter::new(BufWriter::new(File::create(path)?)).map_err(io::Error::other)?;
    for (at, frame) in frames {
        writer
            .write_packet(&PcapPacket::new(epoch + *at, frame.len() as u32, frame))
            .map_err(io::Error::other)?;
    }
    Ok(())
}

/// Replaces `frame` with `packet` as an Ethernet frame (IPv4 or IPv6, UDP).
pub fn ethernet_frame(packet: &SynthPacket, frame: &mut Vec<u8>) -> io::Result<()> {
    frame.clear();
    ip_builder(packet)?
        .udp(packet.src.port(), packet.dst.port())
        .write(frame, &packet.payload)
        .map_err(io::Error::other)
}

/// Replaces `frame` with `packet`'s payload as one TCP segment in an Ethernet frame, with
/// the sequence number and flags of `segment`, acknowledging `ack` when given.
pub fn tcp_frame(
    packet: &SynthPacket,
    segment: TcpSegment,
    ack: Option<u32>,
    frame: &mut Vec<u8>,
) -> io::Result<()> {
    frame.clear();
    let mut builder =
        ip_builder(packet)?.tcp(packet.src.port(), packet.dst.port(), segment.seq, 64_240);
    if let Some(ack) = ack {
        builder = builder.ack(ack);
    }
    if segment.syn {
        builder = builder.syn();
    }
    if segment.fin {
        builder = builder.fin();
    }
    if segment.rst {
        builder = builder.rst();
    }
    builder
        .write(frame, &packet.payload)
        .map_err(io::Error::other)
}

/// The Ethernet and IP headers from `packet`'s source to its destination.
fn ip_builder(packet: &SynthPacket) -> io::Result<PacketBuilderStep<IpHeaders>> {
    Ok(match (packet.src, packet.dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => PacketBuilder::ethernet2(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
        )
        .ipv4(s.ip().octets(), d.ip().octets(), 64),
        (SocketAddr::V6(s), SocketAddr::V6(d)) => PacketBuilder::ethernet2(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
        )
        .ipv6(s.ip().octets(), d.ip().octets(), 64),
        _ => return Err(io::Error::other("a packet mixes IPv4 and IPv6")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// A few short calls with every option the generator has: a name, withheld caller-ID,
    /// outbound, PCMA, busy, a caller who gives up, a hold, every impairment, IPv6 and SIP
    /// on port 10000, plus a voicemail NOTIFY.
    fn every_option() -> Vec<SynthPacket> {
        let talk = |ms: u64| Outcome::Answered {
            talk: Duration::from_millis(ms),
        };
        let mut named = SynthCall::inbound(1, "15550100001", Some("Mom"));
        named.codec = Codec::Pcma;
        named.outcome = talk(400);
        named.hold = Some(Hold {
            after: Duration::from_millis(100),
            length: Duration::from_millis(200),
        });
        named.impairments = Impairments {
            loss: 0.1,
            reorder: 0.1,
            duplicate: 0.1,
        };
        let mut anonymous = SynthCall::inbound(2, "15550100002", None);
        anonymous.anonymous = true;
        anonymous.outcome = Outcome::CallerHangsUp;
        anonymous.start = Duration::from_secs(1);
        let mut outbound = SynthCall::inbound(3, "15550100003", None);
        outbound.direction = CallDirection::Outbound;
        outbound.outcome = Outcome::Busy;
        outbound.start = Duration::from_secs(2);
        let mut v6 = SynthCall::inbound(4, "15550100004", Some("Six"));
        v6.endpoints = Endpoints::between(
            "2001:db8::5".parse().expect("IPv6"),
            "2001:db8::20".parse().expect("IPv6"),
            4,
            10_000,
        );
        v6.outcome = talk(100);
        v6.start = Duration::from_secs(3);
        let mut out = packets(&[named, anonymous, outbound, v6], 42);
        out.push(voicemail_notify(
            Duration::from_secs(5),
            Endpoints::standard(0, 5060),
            7,
            2,
            1,
        ));
        out
    }

    /// The generator's output is pinned: the e2e tests compare figures (packet counts,
    /// durations, tones) from its captures, so moving or reshaping its code must not change
    /// a byte of what it writes for the same seed.
    #[test]
    fn a_generated_capture_stays_byte_identical_for_the_same_seed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("every-option.pcap");
        let packets = every_option();
        write_pcap(&path, Duration::from_secs(1_790_000_000), &packets).expect("pcap");
        let mut hasher = Sha256::new();
        hasher.update(std::fs::read(&path).expect("read back"));
        let mut frame = Vec::new();
        let segment = TcpSegment {
            seq: 4_000_000_000,
            syn: false,
            fin: true,
            rst: false,
        };
        tcp_frame(&packets[1], segment, Some(77), &mut frame).expect("a TCP frame");
        hasher.update(&frame);
        let digest = format!("{:x}", hasher.finalize());
        assert_eq!(
            (packets.len(), digest.as_str()),
            (
                83,
                "941085bad690383f3e3c1b18e75711ca4adb246a1cb9d435af0e39120abb5f02"
            )
        );
    }
}
