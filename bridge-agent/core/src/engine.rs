//! The engine: frames in, verdicts and events out. The same engine runs on a live queue and
//! on a capture file.
//!
//! Call order: [`Engine::handle_frame`] for every packet (it answers with a [`Verdict`] at
//! once, carrying the packet itself when the engine changed it), [`Engine::handle_timeout`]
//! when [`Engine::poll_timeout`] says so, and [`Engine::poll_event`] and
//! [`Engine::poll_transmit`] until `None` after each of those. [`Engine::finish`] at the end.
//!
//! The engine is the only door to the call table: the user's decisions go in through named
//! commands ([`Engine::set_policy`], [`Engine::set_recording`], [`Engine::set_listening`],
//! [`Engine::settle_frame`]) and what the agent needs to know comes out as plain values
//! ([`Engine::is_recorded`], [`Engine::call_id`], [`Engine::calls_in_table`],
//! [`Engine::stats`]); the tracker itself never leaves the engine.
//!
//! If a bug makes the engine panic on a frame, the caller may catch the panic and call
//! [`Engine::settle_frame`] with the same frame: it ends the call the frame belonged to and
//! the engine goes on for every other call (see `bridge-agent/src/live.rs` for why its state
//! stays usable).

use std::net::SocketAddr;

use crate::call::CallKey;
use crate::packet::{Datagram, Decoded, Decoder, LinkType, Transport};
use crate::reassembly::ReassemblyStats;
use crate::sip::{self, looks_like_sip, parse_datagram, split_stream};
use crate::tcp_stream::{FlowKey, TcpSegment, TcpStreamStats, TcpStreams};
use crate::time::Timestamp;
use crate::tracker::{RtpOutcome, Tracker};

pub use crate::call::CallSummary;
pub use crate::policy::{BlockResponse, Policy};
pub use crate::tracker::{Event, TrackerConfig as EngineConfig, Transmit, Verdict};

/// Counters of everything the engine saw, for the replay summary and the console.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Frames handed in.
    pub frames: u64,
    /// Frames that were not IP, or IP carrying neither UDP nor TCP.
    pub other: u64,
    /// Frames whose IP, UDP or TCP headers were broken.
    pub malformed_packets: u64,
    /// Fragments held for reassembly, or dropped as repeats of a datagram completed already.
    pub fragments: u64,
    /// SIP messages read.
    pub sip_messages: u64,
    /// SIP messages refused as malformed.
    pub sip_malformed: u64,
    /// SIP messages left incomplete: a TCP flow that ended (FIN, RST, a new SYN, idle,
    /// evicted, the end of a replay) in the middle of one, or the cut end of a text trace.
    pub sip_incomplete: u64,
    /// RTP packets taken by a call.
    pub rtp_packets: u64,
    /// Packets on a call's media address that were not RTP.
    pub rtp_malformed: u64,
    /// UDP or TCP payloads that were neither SIP nor media of a known call.
    pub unmatched: u64,
    /// Fragment reassembly counters.
    pub reassembly: ReassemblyStats,
    /// SIP over TCP stream reassembly counters.
    pub tcp: TcpStreamStats,
}

/// Decoder, call tracker and counters.
#[derive(Debug)]
pub struct Engine {
    decoder: Decoder,
    tracker: Tracker,
    streams: TcpStreams,
    stats: EngineStats,
}

impl Engine {
    /// An engine with the given timers and limits.
    #[must_use]
    pub fn new(config: EngineConfig) -> Engine {
        Engine {
            decoder: Decoder::default(),
            tracker: Tracker::new(config),
            streams: TcpStreams::default(),
            stats: EngineStats::default(),
        }
    }

    /// Takes one frame. `from_phone` is `Some` when the caller knows which side of the bridge
    /// the frame came from. Never fails: what cannot be read is counted and accepted. A frame
    /// the engine changed (a courtesy beep in its audio) comes back in
    /// [`Verdict::Replace`], to be sent on in place of the one that came.
    pub fn handle_frame(
        &mut self,
        now: Timestamp,
        link: LinkType,
        frame: &[u8],
        from_phone: Option<bool>,
    ) -> Verdict {
        self.stats.frames += 1;
        self.tracker.handle_timeout(now);
        match self.decoder.decode(now, link, frame) {
            Decoded::Datagram(datagram) => {
                if let Some(segment) = datagram.tcp {
                    let parts = (&mut self.streams, &mut self.tracker, &mut self.stats);
                    handle_segment(parts, now, &datagram, segment, from_phone);
                    return Verdict::Accept;
                }
                let offset = payload_offset(frame, &datagram);
                let parts = (&mut self.tracker, &mut self.stats);
                match handle_datagram(parts, now, &datagram, from_phone, offset.is_some()) {
                    Judged::Verdict(verdict) => verdict,
                    Judged::Rewritten(payload) => offset.map_or(Verdict::Accept, |offset| {
                        Verdict::Replace(rewrite(frame, offset, &payload))
                    }),
                }
            }
            Decoded::FragmentHeld => {
                // A replay's fragment. Live, the kernel reassembles before the queue; the
                // agent drops fragments that still come from the network, and only the
                // phone's own get here.
                self.stats.fragments += 1;
                Verdict::Accept
            }
            Decoded::FragmentRepeat => {
                // Its datagram was decided and, if accepted, is whole at the phone already:
                // a repeat could only open a datagram there that Ringside never decided on.
                self.stats.fragments += 1;
                Verdict::Drop
            }
            Decoded::Other => {
                self.stats.other += 1;
                Verdict::Accept
            }
            Decoded::Malformed(_) => {
                self.stats.malformed_packets += 1;
                Verdict::Accept
            }
        }
    }

    /// Takes SIP text that came without packets (a text trace): one or more messages,
    /// split by Content-Length, sent from `src` to `dst`.
    pub fn handle_sip_text(
        &mut self,
        now: Timestamp,
        text: &[u8],
        src: SocketAddr,
        dst: SocketAddr,
    ) {
        let (messages, consumed) = split_stream(text);
        let route = Route {
            src,
            dst,
            from_phone: None,
            over_tcp: false,
        };
        for message in messages {
            take_message(&mut self.tracker, &mut self.stats, now, message, route);
        }
        if consumed < text.len() {
            self.stats.sip_incomplete += 1;
        }
    }

    /// Ends the call `frame` belonged to, found by its Call-ID (SIP) or its media addresses
    /// (RTP), after the engine panicked on that frame; returns the call when there was one.
    ///
    /// The frame is read again without the parsers that may have failed: a decoder of its
    /// own (the engine's fragment pool is left alone, so a fragment finds no call) and a
    /// plain scan for the `Call-ID` line. The call's end is reported as usual
    /// ([`Event::CallEnded`]), so it is logged and its recording closed.
    pub fn settle_frame(
        &mut self,
        now: Timestamp,
        link: LinkType,
        frame: &[u8],
    ) -> Option<CallKey> {
        let mut decoder = Decoder::default();
        let Decoded::Datagram(datagram) = decoder.decode(now, link, frame) else {
            return None;
        };
        let key = if looks_like_sip(datagram.payload) {
            let call_id = call_id_line(datagram.payload)?;
            #[cfg(feature = "fault-injection")]
            crate::fault::inject_settle_fault(call_id);
            self.tracker.call_of(call_id)
        } else {
            self.tracker.call_of_flow(datagram.src, datagram.dst)
        }?;
        self.tracker.end_now(now, key);
        Some(key)
    }

    /// Runs timers.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        #[cfg(feature = "fault-injection")]
        crate::fault::inject_timer_fault(&self.tracker);
        self.tracker.handle_timeout(now);
        self.decoder.reassembly().expire(now);
        self.streams.expire(now);
    }

    /// When [`Engine::handle_timeout`] wants to run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let tracker = self.tracker.poll_timeout();
        let streams = self.streams.poll_timeout();
        tracker.into_iter().chain(streams).min()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.tracker.poll_event()
    }

    /// The next datagram to send on the phone's behalf (see [`Transmit`]).
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.tracker.poll_transmit()
    }

    /// Ends every call in progress.
    pub fn finish(&mut self, now: Timestamp) {
        self.streams.finish();
        self.tracker.finish(now);
    }

    /// Replaces the filters and settings; calls that start from now on follow them (a call
    /// already up is never blocked by a new filter).
    pub fn set_policy(&mut self, policy: Policy) {
        self.tracker.set_policy(policy);
    }

    /// Turns the recording of one call on or off (the console's button); nothing happens
    /// when the call is not in the table.
    pub fn set_recording(&mut self, call: CallKey, on: bool) {
        self.tracker.set_recording(call, on);
    }

    /// Hands out mixed audio every 20 ms while `on` (someone listens live), else in 200 ms
    /// chunks for the recorder.
    pub fn set_listening(&mut self, on: bool) {
        self.tracker.set_listening(on);
    }

    /// Whether `call` is in the table and being recorded.
    #[must_use]
    pub fn is_recorded(&self, call: CallKey) -> bool {
        self.tracker.is_recorded(call)
    }

    /// The SIP Call-ID of `call`, while it is in the table.
    #[must_use]
    pub fn call_id(&self, call: CallKey) -> Option<&str> {
        self.tracker.call_id(call)
    }

    /// How many calls the table holds: those in progress and, for a while after their end,
    /// the ended ones (they absorb retransmissions).
    #[must_use]
    pub fn calls_in_table(&self) -> usize {
        self.tracker.len()
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> EngineStats {
        let tcp = self.streams.stats();
        EngineStats {
            reassembly: self.decoder.reassembly_stats(),
            sip_incomplete: self.stats.sip_incomplete + tcp.incomplete,
            tcp,
            ..self.stats
        }
    }
}

/// Takes a TCP segment: its flow's complete SIP messages go to the tracker. A segment
/// is always accepted, whatever a filter says: dropping one would stall the stream, and
/// the messages after it with it (see [`Tracker::without_blocking`] and the README).
fn handle_segment(
    parts: (&mut TcpStreams, &mut Tracker, &mut EngineStats),
    now: Timestamp,
    datagram: &Datagram<'_>,
    segment: TcpSegment,
    from_phone: Option<bool>,
) {
    let (src, dst) = (datagram.src, datagram.dst);
    let key = FlowKey { src, dst };
    let (streams, tracker, stats) = parts;
    let delivered = streams.handle_segment(now, key, segment, datagram.payload);
    if delivered.skipped {
        stats.unmatched += 1;
    }
    let route = Route {
        src,
        dst,
        from_phone,
        over_tcp: true,
    };
    for message in delivered.messages {
        take_message(tracker, stats, now, message, route);
    }
}

/// What the engine decided on a UDP datagram.
enum Judged {
    /// The verdict, final.
    Verdict(Verdict),
    /// Accepted, to go on with this UDP payload (the frame is rebuilt around it).
    Rewritten(Vec<u8>),
}

/// Takes a UDP datagram: a SIP message or a call's media.
fn handle_datagram(
    (tracker, stats): (&mut Tracker, &mut EngineStats),
    now: Timestamp,
    datagram: &Datagram<'_>,
    from_phone: Option<bool>,
    can_rewrite: bool,
) -> Judged {
    let (src, dst, payload) = (datagram.src, datagram.dst, datagram.payload);
    if looks_like_sip(payload) {
        let route = Route {
            src,
            dst,
            from_phone,
            over_tcp: false,
        };
        let verdict = match parse_datagram(payload) {
            Ok(Some(message)) => take_message(tracker, stats, now, Ok(message), route),
            Ok(None) => Verdict::Accept,
            Err(error) => take_message(tracker, stats, now, Err(error), route),
        };
        return Judged::Verdict(verdict);
    }
    match tracker.handle_rtp(now, src, dst, payload, can_rewrite) {
        RtpOutcome::Taken => stats.rtp_packets += 1,
        RtpOutcome::Rewritten(payload) => {
            stats.rtp_packets += 1;
            return Judged::Rewritten(payload);
        }
        RtpOutcome::Malformed => stats.rtp_malformed += 1,
        RtpOutcome::NoFlow => stats.unmatched += 1,
    }
    Judged::Verdict(Verdict::Accept)
}

/// Where a UDP-over-IPv4 datagram's payload sits in its frame, when it sits there (not in a
/// reassembly buffer). Only those can be rewritten: IPv4 lets a changed datagram go with a
/// zero UDP checksum.
fn payload_offset(frame: &[u8], datagram: &Datagram<'_>) -> Option<usize> {
    let start = (datagram.payload.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?;
    let inside = start >= 8 && start + datagram.payload.len() <= frame.len();
    (inside && datagram.src.is_ipv4() && datagram.transport == Transport::Udp).then_some(start)
}

/// `frame` with the UDP payload at `offset` replaced by `payload` (same length) and the UDP
/// checksum cleared (RFC 768: zero means none, allowed over IPv4).
fn rewrite(frame: &[u8], offset: usize, payload: &[u8]) -> Vec<u8> {
    let mut out = frame.to_vec();
    out[offset..offset + payload.len()].copy_from_slice(payload);
    out[offset - 2..offset].copy_from_slice(&[0, 0]);
    out
}

/// The value of the first `Call-ID` (or compact `i`) header line of a SIP message, found by
/// a plain scan of its header lines.
fn call_id_line(message: &[u8]) -> Option<&str> {
    let head = message
        .split(|&b| b == b'\n')
        .take_while(|line| !line.trim_ascii().is_empty());
    head.skip(1).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let name = line[..colon].trim_ascii();
        let is_call_id = name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i");
        is_call_id
            .then(|| std::str::from_utf8(line[colon + 1..].trim_ascii()).ok())
            .flatten()
    })
}

/// Where a SIP message went and how.
#[derive(Debug, Clone, Copy)]
struct Route {
    src: SocketAddr,
    dst: SocketAddr,
    /// Which side of the bridge sent it, when known.
    from_phone: Option<bool>,
    /// It came over TCP: it cannot be dropped, so no filter blocks its call.
    over_tcp: bool,
}

/// Hands a SIP message to the tracker, or counts it as malformed.
fn take_message(
    tracker: &mut Tracker,
    stats: &mut EngineStats,
    now: Timestamp,
    message: Result<sip::Message, sip::ParseError>,
    route: Route,
) -> Verdict {
    let Route {
        src,
        dst,
        from_phone,
        over_tcp,
    } = route;
    match message {
        Ok(message) if over_tcp => {
            stats.sip_messages += 1;
            let (_, unblocked) = tracker.without_blocking(|tracker| {
                tracker.handle_sip(now, &message, src, dst, from_phone)
            });
            if let Some(filter) = unblocked {
                tracing::warn!(
                    call_id = message.call_id(), filter = filter.id, pattern = %filter.pattern,
                    "a filter would block this call, but it came over TCP: Ringside never \
                     drops a TCP segment, so the phone rings and the call is logged as it goes"
                );
            }
            #[cfg(feature = "fault-injection")]
            crate::fault::inject_fault(&message);
            Verdict::Accept
        }
        Ok(message) => {
            stats.sip_messages += 1;
            let verdict = tracker.handle_sip(now, &message, src, dst, from_phone);
            #[cfg(feature = "fault-injection")]
            crate::fault::inject_fault(&message);
            verdict
        }
        Err(error) => {
            stats.sip_malformed += 1;
            tracing::debug!(%src, %dst, "malformed SIP: {error}");
            Verdict::Accept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PROVIDER: [u8; 4] = [10, 0, 0, 1];
    const PHONE: [u8; 4] = [10, 0, 0, 2];

    fn udp(src: [u8; 4], src_port: u16, dst: [u8; 4], dst_port: u16, payload: &[u8]) -> Vec<u8> {
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ipv4(src, dst, 64)
            .udp(src_port, dst_port)
            .write(&mut frame, payload)
            .expect("a packet");
        frame
    }

    /// An INVITE from the provider whose SDP puts its media at 10.0.0.1:4000.
    fn invite(call_id: &str) -> Vec<u8> {
        invite_with(call_id, "")
    }

    /// The same with more header lines (each ending in CRLF).
    fn invite_with(call_id: &str, more: &str) -> Vec<u8> {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        let text = format!(
            "INVITE sip:phone@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
             From: \"Caller\" <sip:15550100001@10.0.0.1>;tag=a\r\nTo: <sip:phone@10.0.0.2>\r\n\
             i: {call_id}\r\n{more}CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
        udp(PROVIDER, 5060, PHONE, 5060, text.as_bytes())
    }

    /// Regression: a caller a filter blocked over TCP was logged as blocked and answered
    /// with a 486 over UDP, though its INVITE went on to the phone in the stream.
    #[test]
    fn a_caller_a_filter_blocks_over_tcp_is_not_turned_away_in_vain() {
        use crate::filters::{Action, Field, Filter, FilterList};
        let mut engine = Engine::new(EngineConfig::default());
        let block = Filter {
            id: 1,
            pattern: "1555*".to_owned(),
            field: Field::Number,
            action: Action::Block,
        };
        engine.set_policy(Policy {
            filters: FilterList::new(vec![block]).expect("a valid filter"),
            block_response: BlockResponse::Busy,
            ..Policy::default()
        });
        let sip = &invite("tcp@x")[20 + 8..];
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ipv4(PROVIDER, PHONE, 64)
            .tcp(5060, 5060, 7, 1000)
            .write(&mut frame, sip)
            .expect("a packet");
        let verdict = engine.handle_frame(Timestamp(0), LinkType::RawIp, &frame, None);
        assert_eq!(verdict, Verdict::Accept);
        assert!(
            engine.poll_transmit().is_none(),
            "no 486 on the phone's behalf"
        );
        match engine.poll_event() {
            Some(Event::CallStarted(info)) => assert!(info.blocked_by.is_none(), "{info:?}"),
            other => panic!("the call starts as any other: {other:?}"),
        }
        assert!(ended(&mut engine).is_empty(), "it rings on");
    }

    fn ended(engine: &mut Engine) -> Vec<CallKey> {
        std::iter::from_fn(|| engine.poll_event())
            .filter_map(|e| match e {
                Event::CallEnded { call, .. } => Some(call),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn settle_frame_ends_the_call_of_a_sip_message_by_its_call_id() {
        let mut engine = Engine::new(EngineConfig::default());
        engine.handle_frame(Timestamp(0), LinkType::RawIp, &invite("other"), None);
        engine.handle_frame(Timestamp(1), LinkType::RawIp, &invite("bad@x"), None);
        assert!(ended(&mut engine).is_empty());
        let settled = engine.settle_frame(Timestamp(2), LinkType::RawIp, &invite("bad@x"));
        assert_eq!(settled, Some(CallKey(1)));
        assert_eq!(ended(&mut engine), vec![CallKey(1)], "only that call ends");
        assert_eq!(engine.calls_in_table(), 2);
    }

    #[test]
    fn settle_frame_ends_the_call_of_an_rtp_packet_by_its_flow() {
        let mut engine = Engine::new(EngineConfig::default());
        engine.handle_frame(Timestamp(0), LinkType::RawIp, &invite("media@x"), None);
        let rtp = udp(
            PHONE,
            7000,
            PROVIDER,
            4000,
            &[0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
        );
        assert_eq!(
            engine.settle_frame(Timestamp(1), LinkType::RawIp, &rtp),
            Some(CallKey(0))
        );
        assert_eq!(ended(&mut engine), vec![CallKey(0)]);
        let stray = udp(PHONE, 7000, PROVIDER, 4002, &[0x80; 12]);
        assert_eq!(
            engine.settle_frame(Timestamp(2), LinkType::RawIp, &stray),
            None
        );
        assert_eq!(
            engine.settle_frame(Timestamp(2), LinkType::RawIp, b"\x45junk"),
            None
        );
    }

    #[test]
    fn call_id_line_reads_long_and_compact_names_and_stops_at_the_body() {
        assert_eq!(
            call_id_line(b"BYE x SIP/2.0\r\nCALL-ID:  abc \r\n\r\n"),
            Some("abc")
        );
        assert_eq!(call_id_line(b"BYE x SIP/2.0\r\ni:z\r\n"), Some("z"));
        assert_eq!(
            call_id_line(b"BYE x SIP/2.0\r\nTo: a\r\n\r\nCall-ID: body"),
            None
        );
        assert_eq!(call_id_line(b"BYE x SIP/2.0\r\nCall-ID: \xff\r\n"), None);
    }

    #[cfg(feature = "fault-injection")]
    use crate::fault::{FAULT_HEADER, FAULT_TIMERS_CALL_ID};

    /// The fault hook of the test builds panics after the INVITE has started its call.
    #[cfg(feature = "fault-injection")]
    #[test]
    fn the_fault_header_panics_after_its_call_started() {
        let mut engine = Engine::new(EngineConfig::default());
        let frame = invite_with("fault@x", &format!("{FAULT_HEADER}: yes\r\n"));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.handle_frame(Timestamp(0), LinkType::RawIp, &frame, None)
        }));
        assert!(caught.is_err(), "the hook panics");
        assert_eq!(
            engine.settle_frame(Timestamp(1), LinkType::RawIp, &frame),
            Some(CallKey(0))
        );
    }

    /// The timer fault of the test builds: every run panics while its call is in the table.
    #[cfg(feature = "fault-injection")]
    #[test]
    fn the_fault_call_makes_the_timers_panic() {
        let mut engine = Engine::new(EngineConfig::default());
        engine.handle_timeout(Timestamp(0));
        engine.handle_frame(
            Timestamp(0),
            LinkType::RawIp,
            &invite(FAULT_TIMERS_CALL_ID),
            None,
        );
        for at in [1, 2] {
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine.handle_timeout(Timestamp(at));
            }));
            assert!(caught.is_err(), "run {at} panics");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever the network sends, the engine answers with a verdict and never panics.
        #[test]
        fn the_engine_never_panics_on_any_frame(
            frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..8),
            link in prop_oneof![Just(LinkType::RawIp), Just(LinkType::Ethernet), Just(LinkType::LinuxSll), Just(LinkType::LinuxSll2), Just(LinkType::Null)],
        ) {
            let mut engine = Engine::new(EngineConfig::default());
            for (i, frame) in frames.iter().enumerate() {
                let verdict = engine.handle_frame(Timestamp(i as u64 * 20_000), link, frame, None);
                prop_assert_eq!(verdict, Verdict::Accept);
            }
            engine.finish(Timestamp(10_000_000));
            while engine.poll_event().is_some() {}
            prop_assert_eq!(engine.stats().frames, frames.len() as u64);
        }

        /// Valid IPv4/UDP headers around arbitrary payloads: SIP- and RTP-looking bytes reach
        /// the parsers behind the decoder.
        #[test]
        fn the_engine_never_panics_on_any_udp_payload(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..400), 1..8)) {
            let mut engine = Engine::new(EngineConfig::default());
            for (i, payload) in payloads.iter().enumerate() {
                let mut frame = Vec::new();
                etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                    .udp(5060, 5060)
                    .write(&mut frame, payload)
                    .expect("a packet");
                engine.handle_frame(Timestamp(i as u64), LinkType::RawIp, &frame, None);
            }
            prop_assert_eq!(engine.stats().frames, payloads.len() as u64);
        }
    }
}
