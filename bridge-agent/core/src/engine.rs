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
use crate::sip::{self, looks_like_sip, read_datagram, split_trace, BodyFraming};
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
    /// evicted, the end of a replay) in the middle of one.
    pub sip_incomplete: u64,
    /// SIP datagrams (UDP, or in a text trace) with octets after the body their
    /// Content-Length bounds; the octets were ignored, never read as a second message.
    pub sip_trailing_octets: u64,
    /// SIP datagrams whose Content-Length was not a number or larger than what they carried;
    /// the body was read to the datagram's end.
    pub sip_bad_length: u64,
    /// RTP packets taken by a call.
    pub rtp_packets: u64,
    /// Packets on a call's media address that were not RTP.
    pub rtp_malformed: u64,
    /// RTP packets on a call's media address from a source or of a payload type its SDP
    /// does not vouch for (counted on the call too).
    pub rtp_stray: u64,
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

    /// Takes SIP text that came without packets (a text trace): one or more messages, each
    /// read as the UDP datagram it stands for ([`sip::split_trace`]), sent from `src` to
    /// `dst`.
    pub fn handle_sip_text(
        &mut self,
        now: Timestamp,
        text: &[u8],
        src: SocketAddr,
        dst: SocketAddr,
    ) {
        let route = Route {
            src,
            dst,
            from_phone: None,
            over_tcp: false,
        };
        for read in split_trace(text) {
            let message = read.map(|(message, framing)| {
                count_framing(&mut self.stats, framing);
                message
            });
            take_message(&mut self.tracker, &mut self.stats, now, message, route);
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

    /// Hands out mixed audio every 20 ms while `on` (someone listens live), else in the
    /// configured recording chunks (512 ms by default).
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
        let verdict = match read_datagram(payload) {
            Ok(Some((message, framing))) => {
                count_framing(stats, framing);
                take_message(tracker, stats, now, Ok(message), route)
            }
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
        RtpOutcome::Stray => stats.rtp_stray += 1,
        RtpOutcome::NoFlow => stats.unmatched += 1,
    }
    Judged::Verdict(Verdict::Accept)
}

/// Counts a datagram whose Content-Length did not say where it ends.
fn count_framing(stats: &mut EngineStats, framing: BodyFraming) {
    match framing {
        BodyFraming::Trailing(_) => stats.sip_trailing_octets += 1,
        BodyFraming::Overstated | BodyFraming::Unreadable => stats.sip_bad_length += 1,
        BodyFraming::Exact | BodyFraming::Unstated => {}
    }
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
mod tests;
