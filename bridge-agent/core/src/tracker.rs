//! The table of calls: SIP messages find their call by Call-ID, RTP packets by the media
//! addresses the calls' SDP announced. Reports what happens as [`Event`]s.
//!
//! Call order: [`Tracker::handle_sip`] and [`Tracker::handle_rtp`] as packets arrive,
//! [`Tracker::handle_timeout`] at [`Tracker::poll_timeout`] (or more often), then
//! [`Tracker::poll_event`] until it returns `None`. [`Tracker::finish`] ends every call.

use std::collections::VecDeque;

// foldhash: a fast hasher, seeded per process, for tables keyed by what the network sends.
use foldhash::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::call::{Call, CallDirection, CallInfo, CallKey, CallState, Disposition, Progress};
use crate::caller_id::{called_party, caller_id};
use crate::filters::Filter;
use crate::media::{LIVE_CHUNK_FRAMES, RECORDING_CHUNK_FRAMES};
use crate::mixer::{Channel, Frame};
use crate::playout::LegStats;
use crate::policy::Policy;
use crate::rtp::RtpPacket;
use crate::sdp::Codec;
use crate::sip::{response_to, Message, Method};
use crate::time::Timestamp;
use crate::voicemail::{parse_message_summary, MessageSummary};

/// Timers and limits of the tracker.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// Addresses known to be the phone's (the ATA). Senders of REGISTER are learned too.
    pub phone_addresses: Vec<IpAddr>,
    /// An unanswered call with no final response ends after this long.
    pub ringing_timeout: Duration,
    /// An answered call whose RTP stopped ends after this long (a BYE was never seen).
    pub media_timeout: Duration,
    /// An answered call with no RTP at all ends after this long without SIP.
    pub session_timeout: Duration,
    /// At most this many calls are tracked; the oldest unanswered one makes room.
    pub max_calls: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            phone_addresses: Vec::new(),
            ringing_timeout: Duration::from_mins(3),
            media_timeout: Duration::from_mins(1),
            session_timeout: Duration::from_hours(4),
            max_calls: 10_000,
        }
    }
}

/// What to do with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through.
    Accept,
    /// Drop it (a blocked call's INVITE, its retransmissions, its ACK).
    Drop,
}

/// A datagram Ringside sends itself: the response that turns a blocked caller away, from the
/// phone's signalling address to the provider's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The source address (the phone's, as the INVITE was sent to it).
    pub src: SocketAddr,
    /// The destination (where the INVITE came from).
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// How a call went, reported when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSummary {
    /// When it was answered.
    pub answered_at: Option<Timestamp>,
    /// The audio codec seen on its RTP.
    pub codec: Option<Codec>,
    /// When its first RTP packet arrived: the first frame of the recording.
    pub media_started_at: Option<Timestamp>,
    /// Per-direction RTP counters, remote party first.
    pub quality: [LegStats; 2],
    /// Silences longer than [`crate::mixer::MAX_GAP`] left out of the recording.
    pub gaps_skipped: u64,
}

/// What the tracker reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// A new call (its first INVITE, not a retransmission).
    CallStarted(CallInfo),
    /// It rings.
    CallRinging {
        /// The call.
        call: CallKey,
        /// When.
        at: Timestamp,
    },
    /// It was answered.
    CallAnswered {
        /// The call.
        call: CallKey,
        /// When.
        at: Timestamp,
    },
    /// Mixed stereo audio for the call's recording, in timeline order.
    Audio {
        /// The call.
        call: CallKey,
        /// The frame of the recording this chunk starts at (a consumer that lost a chunk
        /// fills the gap with silence).
        offset: u64,
        /// The frames, remote party left, phone right.
        frames: Vec<Frame>,
    },
    /// An RTP packet of a codec Ringside does not decode, to keep as it is.
    RawRtp {
        /// The call.
        call: CallKey,
        /// When it arrived.
        at: Timestamp,
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// The UDP payload (the RTP packet).
        payload: Vec<u8>,
    },
    /// The provider says what voicemail is waiting (reported when it changes).
    Voicemail {
        /// When the NOTIFY came.
        at: Timestamp,
        /// What is waiting.
        summary: MessageSummary,
        /// The phone it was for.
        phone: SocketAddr,
    },
    /// It ended. The last [`Event::Audio`] of the call comes before this.
    CallEnded {
        /// The call.
        call: CallKey,
        /// When.
        at: Timestamp,
        /// How.
        disposition: Disposition,
        /// Codec and quality figures.
        summary: CallSummary,
    },
}

/// What [`Tracker::handle_rtp`] made of a UDP payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtpOutcome {
    /// Not on any call's media address.
    NoFlow,
    /// On a call's media address but not RTP.
    Malformed,
    /// Taken by a call.
    Taken,
    /// Taken, and to be sent on with this UDP payload instead (a courtesy beep).
    Rewritten(Vec<u8>),
}

/// How long an ended call stays in the table to absorb retransmissions (Timer J/H, 32 s).
const LINGER: Duration = Duration::from_secs(32);
/// How often timers run.
const TICK: Duration = Duration::from_secs(1);
/// At most this many phone addresses are learned from REGISTER.
const MAX_LEARNED_PHONES: usize = 16;

/// The call table.
#[derive(Debug, Default)]
pub struct Tracker {
    config: TrackerConfig,
    policy: Policy,
    calls: HashMap<CallKey, Call>,
    by_call_id: HashMap<String, CallKey>,
    /// Media address → (call, voice channel of packets sent *to* it).
    flows_to: HashMap<SocketAddr, (CallKey, Channel)>,
    /// Media address → (call, voice channel of packets sent *from* it; symmetric RTP).
    flows_from: HashMap<SocketAddr, (CallKey, Channel)>,
    /// The media addresses each call registered, to unregister them when it is forgotten.
    flow_addresses: HashMap<CallKey, Vec<SocketAddr>>,
    phone_ips: HashSet<IpAddr>,
    next_key: u64,
    next_tick: Option<Timestamp>,
    events: VecDeque<Event>,
    transmits: VecDeque<Transmit>,
    /// The last voicemail summary reported.
    voicemail: Option<MessageSummary>,
    /// Someone listens live: audio is handed out every 20 ms instead of every 200 ms.
    listening: bool,
    /// A message that came over TCP is being handled: no filter can block its call (see
    /// [`Tracker::without_blocking`]).
    over_tcp: bool,
    /// The filter that would have blocked the call that message started.
    unblocked: Option<Filter>,
}

impl Tracker {
    /// An empty table.
    #[must_use]
    pub fn new(config: TrackerConfig) -> Tracker {
        Tracker {
            phone_ips: config.phone_addresses.iter().copied().collect(),
            config,
            ..Tracker::default()
        }
    }

    /// Runs `handle` (a [`Tracker::handle_sip`] of a message that came over TCP) with no
    /// filter able to block: Ringside never drops a TCP segment (the stream would stall, and
    /// every message after it with it), so the caller cannot be turned away and the call is
    /// tracked, logged and announced as it really goes. Returns what `handle` returned and
    /// the filter that would have blocked the call it started, so that the caller can say so.
    pub fn without_blocking<T>(
        &mut self,
        handle: impl FnOnce(&mut Tracker) -> T,
    ) -> (T, Option<Filter>) {
        self.over_tcp = true;
        let result = handle(self);
        self.over_tcp = false;
        (result, self.unblocked.take())
    }

    /// Takes a SIP message sent from `src` to `dst`. `from_phone` says which side sent it
    /// when the caller knows (the bridge port it came in on); otherwise addresses decide.
    /// Answers [`Verdict::Drop`] for what a blocked call sends toward the phone.
    pub fn handle_sip(
        &mut self,
        now: Timestamp,
        message: &Message,
        src: SocketAddr,
        dst: SocketAddr,
        from_phone: Option<bool>,
    ) -> Verdict {
        if message.method() == Some(&Method::Register)
            && from_phone != Some(false)
            && self.phone_ips.len() < MAX_LEARNED_PHONES
        {
            self.phone_ips.insert(src.ip());
        }
        if message.method() == Some(&Method::Notify) && from_phone != Some(true) {
            self.take_voicemail(now, message, dst);
        }
        if let Some(&key) = self.by_call_id.get(message.call_id()) {
            let Some(call) = self.calls.get_mut(&key) else {
                return Verdict::Accept;
            };
            let sender_is_phone = from_phone.unwrap_or_else(|| is_phone(&call.info, src));
            if call.info.blocked_by.is_some() {
                if sender_is_phone {
                    return Verdict::Accept;
                }
                // The INVITE again (a retransmission): the same answer again (RFC 3261
                // §17.2.1). Its ACK, a CANCEL, anything else: the phone never hears of it.
                if message.method() == Some(&Method::Invite) {
                    if let Some(payload) = &call.turned_away {
                        self.transmits.push_back(Transmit {
                            src: dst,
                            dst: src,
                            payload: payload.clone(),
                        });
                    }
                }
                return Verdict::Drop;
            }
            let progress = call.handle_message(now, message, sender_is_phone);
            self.register_flows(key);
            self.report(now, key, progress);
            return Verdict::Accept;
        }
        let is_initial_invite = message.method() == Some(&Method::Invite)
            && message.to().is_some_and(|to| to.param("tag").is_none());
        if is_initial_invite {
            return self.start_call(now, message, src, dst, from_phone);
        }
        Verdict::Accept
    }

    /// Takes a UDP payload that is not SIP: RTP if it travels on a call's media address.
    /// `can_rewrite` says whether the caller can send a changed payload on (courtesy beeps).
    pub fn handle_rtp(
        &mut self,
        now: Timestamp,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        can_rewrite: bool,
    ) -> RtpOutcome {
        let Some(&(key, channel)) = self
            .flows_to
            .get(&dst)
            .or_else(|| self.flows_from.get(&src))
        else {
            return RtpOutcome::NoFlow;
        };
        let Ok(packet) = RtpPacket::new_checked(payload) else {
            return RtpOutcome::Malformed;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return RtpOutcome::NoFlow;
        };
        if matches!(call.state(), CallState::Ended(_)) {
            return RtpOutcome::Taken;
        }
        call.last_activity = now;
        call.last_media = Some(now);
        let codec = call.codec_for(channel, packet.payload_type());
        match codec {
            Codec::Pcmu | Codec::Pcma => {
                call.codec.get_or_insert(codec);
                // The remote party hears the beep in place of the phone's voice, and the
                // recording keeps what they heard.
                let beep = can_rewrite
                    && self.policy.courtesy_beeps
                    && call.record
                    && channel == Channel::Phone
                    && call.answered_at.is_some_and(|at| call.beeper.due(now, at));
                let tone = beep
                    .then(|| call.beeper.tone(codec, packet.payload().len()))
                    .flatten();
                if let Some(tone) = tone {
                    let mut rewritten = payload.to_vec();
                    let start = packet.payload_offset();
                    rewritten[start..start + tone.len()].copy_from_slice(&tone);
                    if let Ok(beeped) = RtpPacket::new_checked(&rewritten) {
                        call.media.handle_rtp(now, channel, codec, &beeped);
                    }
                    push_audio(&mut self.events, key, call, self.listening);
                    return RtpOutcome::Rewritten(rewritten);
                }
                call.media.handle_rtp(now, channel, codec, &packet);
                push_audio(&mut self.events, key, call, self.listening);
            }
            Codec::Other => {
                call.codec.get_or_insert(codec);
                if call.record {
                    let payload = payload.to_vec();
                    self.events.push_back(Event::RawRtp {
                        call: key,
                        at: now,
                        src,
                        dst,
                        payload,
                    });
                }
            }
            Codec::TelephoneEvent | Codec::ComfortNoise => {}
        }
        RtpOutcome::Taken
    }

    /// Runs timers: ends calls that went quiet, forgets ended ones, writes out paused audio.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.next_tick.is_some_and(|t| now < t) {
            return;
        }
        self.next_tick = Some(now.plus(TICK));
        let mut to_end = Vec::new();
        let mut to_forget = Vec::new();
        for (&key, call) in &mut self.calls {
            let idle = now.since(call.last_activity);
            let expired = match call.state() {
                CallState::Ended(_) => {
                    if call.ended_at.is_some_and(|t| now.since(t) > LINGER) {
                        to_forget.push(key);
                    }
                    continue;
                }
                CallState::Trying | CallState::Ringing => idle > self.config.ringing_timeout,
                CallState::Answered if call.last_media.is_some() => {
                    idle > self.config.media_timeout
                }
                CallState::Answered => idle > self.config.session_timeout,
            };
            if expired {
                to_end.push(key);
                continue;
            }
            call.media.handle_timeout(now);
            push_audio(&mut self.events, key, call, self.listening);
        }
        for key in to_end {
            self.end_call(now, key);
        }
        for key in to_forget {
            self.forget(key);
        }
    }

    /// When [`Tracker::handle_timeout`] wants to run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        (!self.calls.is_empty()).then(|| self.next_tick.unwrap_or_default())
    }

    /// The next event, in the order things happened.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next datagram to send (a blocked caller's response), right away.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Replaces the filters and settings; calls from now on follow them.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// The filters and settings in force.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Ends every call still going (shutdown, end of a capture).
    pub fn finish(&mut self, now: Timestamp) {
        let mut keys: Vec<CallKey> = self.calls.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            self.end_call(now, key);
        }
    }

    /// Hands out mixed audio every 20 ms while `on` (someone listens live), else in 200 ms
    /// chunks for the recorder.
    pub fn set_listening(&mut self, on: bool) {
        self.listening = on;
    }

    /// Turns recording of one call on or off (filters, the console, touch-tone codes).
    pub fn set_recording(&mut self, key: CallKey, record: bool) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.record = record;
        }
    }

    /// A call by its handle.
    #[must_use]
    pub fn call(&self, key: CallKey) -> Option<&Call> {
        self.calls.get(&key)
    }

    /// The call a SIP Call-ID belongs to.
    #[must_use]
    pub fn call_of(&self, call_id: &str) -> Option<CallKey> {
        self.by_call_id.get(call_id).copied()
    }

    /// The call whose media travels from `src` to `dst`.
    #[must_use]
    pub fn call_of_flow(&self, src: SocketAddr, dst: SocketAddr) -> Option<CallKey> {
        let flow = self
            .flows_to
            .get(&dst)
            .or_else(|| self.flows_from.get(&src));
        flow.map(|&(key, _)| key)
    }

    /// Ends one call now, as a timeout would (nothing happens if it has ended already).
    ///
    /// A call whose start was reported but that never reached the table (a panic between
    /// the two) is reported ended as failed and its Call-ID dropped, so that the log and the
    /// console do not show it in progress for ever.
    pub fn end_now(&mut self, now: Timestamp, key: CallKey) {
        if self.calls.contains_key(&key) {
            self.end_call(now, key);
            return;
        }
        self.by_call_id.retain(|_, k| *k != key);
        self.forget(key);
        self.events.push_back(Event::CallEnded {
            call: key,
            at: now,
            disposition: Disposition::Failed,
            summary: CallSummary::default(),
        });
    }

    /// How many calls the table holds (ended ones linger for a while).
    #[must_use]
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether the table is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// A `message-summary` NOTIFY toward the phone: reported when what is waiting changes.
    fn take_voicemail(&mut self, now: Timestamp, message: &Message, phone: SocketAddr) {
        let is_summary = message
            .header(&crate::sip::HeaderName::Event)
            .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("message-summary"));
        let Some(summary) = is_summary
            .then(|| parse_message_summary(&message.body))
            .flatten()
        else {
            return;
        };
        if self.voicemail != Some(summary) {
            self.voicemail = Some(summary);
            self.events.push_back(Event::Voicemail {
                at: now,
                summary,
                phone,
            });
        }
    }

    fn start_call(
        &mut self,
        now: Timestamp,
        invite: &Message,
        src: SocketAddr,
        dst: SocketAddr,
        from_phone: Option<bool>,
    ) -> Verdict {
        let outbound = from_phone.unwrap_or_else(|| {
            self.phone_ips.contains(&src.ip()) && !self.phone_ips.contains(&dst.ip())
        });
        let (direction, party, phone, remote) = if outbound {
            (CallDirection::Outbound, called_party(invite), src, dst)
        } else {
            (CallDirection::Inbound, caller_id(invite), dst, src)
        };
        let Some(party) = party else {
            return Verdict::Accept;
        };
        if self.calls.len() >= self.config.max_calls {
            self.make_room(now);
        }
        let decision = self
            .policy
            .filters
            .decide(&party, self.policy.record_by_default);
        // Filters block inbound calls only; re-INVITEs never reach here.
        let mut blocked_by = (direction == CallDirection::Inbound && decision.block.applies)
            .then_some(decision.block.filter)
            .flatten();
        if self.over_tcp {
            self.unblocked = blocked_by.take();
        }
        let key = CallKey(self.next_key);
        self.next_key += 1;
        let info = CallInfo {
            key,
            call_id: invite.call_id().to_owned(),
            direction,
            party,
            started_at: now,
            phone,
            remote,
            blocked_by,
        };
        self.events.push_back(Event::CallStarted(info.clone()));
        self.by_call_id.insert(info.call_id.clone(), key);
        let mut call = Call::new(info, invite, decision.record.applies);
        if call.info.blocked_by.is_none() {
            self.calls.insert(key, call);
            self.register_flows(key);
            return Verdict::Accept;
        }
        call.block(now);
        call.turned_away = self.policy.block_response.status().map(|(code, reason)| {
            response_to(
                invite,
                code,
                reason,
                &format!("rs{:x}", key.0 ^ now.as_micros()),
            )
        });
        if let Some(payload) = &call.turned_away {
            self.transmits.push_back(Transmit {
                src: dst,
                dst: src,
                payload: payload.clone(),
            });
        }
        self.calls.insert(key, call);
        self.report_end(now, key, Disposition::Blocked);
        Verdict::Drop
    }

    /// Drops the oldest call that never got answered, to stay within `max_calls`.
    fn make_room(&mut self, now: Timestamp) {
        let oldest = self
            .calls
            .values()
            .filter(|c| !matches!(c.state(), CallState::Answered))
            .min_by_key(|c| c.info.started_at)
            .map(|c| c.info.key);
        if let Some(key) = oldest {
            self.end_call(now, key);
            self.forget(key);
        }
    }

    fn register_flows(&mut self, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        for (sender, voice_to, voice_from) in [
            (Channel::Phone, Channel::Remote, Channel::Phone),
            (Channel::Remote, Channel::Phone, Channel::Remote),
        ] {
            let Some(media) = &call.sdp[sender as usize] else {
                continue;
            };
            let Some(address) = media.address.filter(|a| !a.is_unspecified()) else {
                continue;
            };
            let at = SocketAddr::new(address, media.port);
            self.flows_to.insert(at, (key, voice_to));
            self.flows_from.insert(at, (key, voice_from));
            let addresses = self.flow_addresses.entry(key).or_default();
            if !addresses.contains(&at) {
                addresses.push(at);
            }
        }
    }

    fn report(&mut self, now: Timestamp, key: CallKey, progress: Progress) {
        match progress {
            Progress::Nothing => {}
            Progress::Ringing => self
                .events
                .push_back(Event::CallRinging { call: key, at: now }),
            Progress::Answered => self
                .events
                .push_back(Event::CallAnswered { call: key, at: now }),
            Progress::Ended(disposition) => self.report_end(now, key, disposition),
        }
    }

    fn end_call(&mut self, now: Timestamp, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if matches!(call.state(), CallState::Ended(_)) {
            return;
        }
        let disposition = call.end(now);
        self.report_end(now, key, disposition);
    }

    fn report_end(&mut self, now: Timestamp, key: CallKey, disposition: Disposition) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (offset, frames) = call.media.finish();
        if call.record && !frames.is_empty() {
            self.events.push_back(Event::Audio {
                call: key,
                offset,
                frames,
            });
        }
        let summary = CallSummary {
            answered_at: call.answered_at,
            codec: call.codec,
            media_started_at: call.media.started_at(),
            quality: call.media.stats(),
            gaps_skipped: call.media.gaps_skipped(),
        };
        self.events.push_back(Event::CallEnded {
            call: key,
            at: now,
            disposition,
            summary,
        });
    }

    fn forget(&mut self, key: CallKey) {
        if let Some(call) = self.calls.remove(&key) {
            self.by_call_id.remove(&call.info.call_id);
        }
        for at in self.flow_addresses.remove(&key).unwrap_or_default() {
            for flows in [&mut self.flows_to, &mut self.flows_from] {
                if flows.get(&at).is_some_and(|(k, _)| *k == key) {
                    flows.remove(&at);
                }
            }
        }
    }
}

/// Reports the call's next chunk of mixed audio, if one is ready and the call is recorded
/// (20 ms chunks while someone `listening`, 200 ms otherwise).
fn push_audio(events: &mut VecDeque<Event>, key: CallKey, call: &mut Call, listening: bool) {
    if !call.record {
        return;
    }
    let chunk = if listening {
        LIVE_CHUNK_FRAMES
    } else {
        RECORDING_CHUNK_FRAMES
    };
    if let Some((offset, frames)) = call.media.poll_chunk(chunk) {
        events.push_back(Event::Audio {
            call: key,
            offset,
            frames,
        });
    }
}

/// Whether a message from `src` was sent by the phone of this call.
fn is_phone(info: &CallInfo, src: SocketAddr) -> bool {
    src == info.phone
        || (src != info.remote && src.ip() == info.phone.ip() && src.ip() != info.remote.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::{Action, Field, Filter, FilterList};
    use crate::policy::BlockResponse;
    use crate::sip::parse_datagram;

    const PROVIDER: &str = "203.0.113.5:5060";
    const PHONE: &str = "192.168.1.20:5060";

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("address")
    }

    fn message(start: &str, call_id: &str, cseq: &str, to_tag: bool) -> Message {
        let tag = if to_tag { ";tag=b" } else { "" };
        let text = format!(
            "{start}\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bK1\r\nFrom: \"Caller\" <sip:15550100001@p>;tag=a\r\n\
             To: <sip:100@p>{tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        );
        parse_datagram(text.as_bytes())
            .expect("valid")
            .expect("message")
    }

    fn invite(call_id: &str, cseq: u32) -> Message {
        message(
            "INVITE sip:100@192.168.1.20 SIP/2.0",
            call_id,
            &format!("{cseq} INVITE"),
            false,
        )
    }

    fn response(code: u16, call_id: &str, cseq: u32) -> Message {
        message(
            &format!("SIP/2.0 {code} Whatever"),
            call_id,
            &format!("{cseq} INVITE"),
            true,
        )
    }

    fn events(tracker: &mut Tracker) -> Vec<Event> {
        std::iter::from_fn(|| tracker.poll_event()).collect()
    }

    fn secs(s: u64) -> Timestamp {
        Timestamp(s * 1_000_000)
    }

    #[test]
    fn end_now_reports_a_call_that_a_panic_kept_out_of_the_table() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        tracker.by_call_id.insert("orphan".into(), CallKey(7));
        let key = tracker.call_of("orphan").expect("indexed");
        tracker.end_now(secs(1), key);
        let events = events(&mut tracker);
        assert!(matches!(
            events.as_slice(),
            [Event::CallEnded {
                call: CallKey(7),
                disposition: Disposition::Failed,
                ..
            }]
        ));
        assert_eq!(tracker.call_of("orphan"), None, "forgotten");
    }

    #[test]
    fn retransmissions_and_auth_challenges_do_not_make_new_calls() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        let (p, ph) = (addr(PROVIDER), addr(PHONE));
        tracker.handle_sip(secs(0), &invite("c1", 1), p, ph, None);
        tracker.handle_sip(secs(0), &invite("c1", 1), p, ph, None);
        tracker.handle_sip(secs(1), &response(407, "c1", 1), ph, p, None);
        tracker.handle_sip(secs(1), &invite("c1", 2), p, ph, None);
        tracker.handle_sip(secs(2), &response(180, "c1", 2), ph, p, None);
        tracker.handle_sip(secs(3), &response(200, "c1", 2), ph, p, None);
        let kinds: Vec<&str> = events(&mut tracker)
            .iter()
            .map(|e| match e {
                Event::CallStarted(_) => "started",
                Event::CallRinging { .. } => "ringing",
                Event::CallAnswered { .. } => "answered",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["started", "ringing", "answered"]);
    }

    #[test]
    fn calls_that_go_quiet_end_on_timers_and_are_then_forgotten() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        tracker.handle_sip(
            secs(0),
            &invite("quiet", 1),
            addr(PROVIDER),
            addr(PHONE),
            None,
        );
        tracker.handle_timeout(secs(179));
        assert!(!events(&mut tracker)
            .iter()
            .any(|e| matches!(e, Event::CallEnded { .. })));
        tracker.handle_timeout(secs(181));
        let ended = events(&mut tracker);
        assert!(
            matches!(
                ended.as_slice(),
                [Event::CallEnded {
                    disposition: Disposition::Missed,
                    ..
                }]
            ),
            "{ended:?}"
        );
        assert_eq!(tracker.len(), 1, "lingers for retransmissions");
        tracker.handle_timeout(secs(181 + 33));
        assert!(tracker.is_empty());
    }

    #[test]
    fn a_flood_of_invites_stays_within_max_calls() {
        let mut tracker = Tracker::new(TrackerConfig {
            max_calls: 100,
            ..TrackerConfig::default()
        });
        for i in 0..10_000 {
            tracker.handle_sip(
                Timestamp(i),
                &invite(&format!("flood-{i}"), 1),
                addr(PROVIDER),
                addr(PHONE),
                None,
            );
            while tracker.poll_event().is_some() {}
            assert!(tracker.len() <= 100);
        }
        assert_eq!(tracker.len(), 100);
    }

    #[test]
    fn a_register_teaches_which_side_is_the_phone() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        let register = message("REGISTER sip:p SIP/2.0", "reg", "1 REGISTER", false);
        tracker.handle_sip(secs(0), &register, addr(PHONE), addr(PROVIDER), None);
        tracker.handle_sip(
            secs(1),
            &invite("out", 1),
            addr(PHONE),
            addr(PROVIDER),
            None,
        );
        let Some(Event::CallStarted(info)) = tracker.poll_event() else {
            panic!("a call")
        };
        assert_eq!(info.direction, CallDirection::Outbound);
        assert_eq!(info.phone, addr(PHONE));
        assert_eq!(
            info.party.number.as_deref(),
            Some("100"),
            "the dialled number, from To"
        );
    }

    fn policy(filters: &[(&str, Action)], block_response: BlockResponse) -> Policy {
        Policy {
            filters: FilterList::new(
                filters
                    .iter()
                    .enumerate()
                    .map(|(i, (pattern, action))| Filter {
                        id: i as i64 + 1,
                        pattern: (*pattern).to_owned(),
                        field: Field::Number,
                        action: *action,
                    })
                    .collect(),
            )
            .expect("valid filters"),
            block_response,
            ..Policy::default()
        }
    }

    #[test]
    fn a_blocked_invite_its_retransmissions_and_its_ack_never_reach_the_phone() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        tracker.set_policy(policy(&[("1555*", Action::Block)], BlockResponse::Busy));
        let (p, ph) = (addr(PROVIDER), addr(PHONE));
        assert_eq!(
            tracker.handle_sip(secs(0), &invite("spam", 1), p, ph, None),
            Verdict::Drop
        );
        let first = tracker.poll_transmit().expect("a 486 to the provider");
        assert_eq!((first.src, first.dst), (ph, p), "from the phone's address");
        let response = parse_datagram(&first.payload)
            .expect("valid")
            .expect("whole");
        assert_eq!(response.status(), Some(486));
        assert_eq!(response.call_id(), "spam");
        assert_eq!(
            tracker.handle_sip(secs(1), &invite("spam", 1), p, ph, None),
            Verdict::Drop
        );
        assert_eq!(
            tracker.poll_transmit().map(|t| t.payload),
            Some(first.payload),
            "the retransmission gets the same answer"
        );
        let ack = message("ACK sip:100@192.168.1.20 SIP/2.0", "spam", "1 ACK", true);
        assert_eq!(
            tracker.handle_sip(secs(1), &ack, p, ph, None),
            Verdict::Drop
        );
        assert_eq!(tracker.poll_transmit(), None);
        let events = events(&mut tracker);
        let Some(Event::CallStarted(info)) = events.first() else {
            panic!("the call is logged: {events:?}")
        };
        assert_eq!(info.blocked_by.as_ref().map(|f| f.id), Some(1));
        assert!(matches!(
            events.get(1),
            Some(Event::CallEnded {
                disposition: Disposition::Blocked,
                ..
            })
        ));
        assert_eq!(events.len(), 2, "no ringing, no answer: {events:?}");
    }

    #[test]
    fn decline_and_drop_responses_and_outbound_calls_are_not_blocked() {
        let (p, ph) = (addr(PROVIDER), addr(PHONE));
        let mut tracker = Tracker::new(TrackerConfig::default());
        tracker.set_policy(policy(&[("*", Action::Block)], BlockResponse::Decline));
        tracker.handle_sip(secs(0), &invite("a", 1), p, ph, None);
        let sent = tracker.poll_transmit().expect("a response");
        let response = parse_datagram(&sent.payload)
            .expect("valid")
            .expect("whole");
        assert_eq!(response.status(), Some(603));

        tracker.set_policy(policy(&[("*", Action::Block)], BlockResponse::Drop));
        assert_eq!(
            tracker.handle_sip(secs(1), &invite("b", 1), p, ph, None),
            Verdict::Drop
        );
        assert_eq!(tracker.poll_transmit(), None, "dropped in silence");

        let outbound = tracker.handle_sip(secs(2), &invite("c", 1), ph, p, Some(true));
        assert_eq!(
            outbound,
            Verdict::Accept,
            "filters never block the phone's own calls"
        );
    }

    #[test]
    fn a_new_policy_never_blocks_a_call_already_up_nor_its_re_invites() {
        let (p, ph) = (addr(PROVIDER), addr(PHONE));
        let mut tracker = Tracker::new(TrackerConfig::default());
        tracker.handle_sip(secs(0), &invite("up", 1), p, ph, None);
        tracker.handle_sip(secs(1), &response(200, "up", 1), ph, p, None);
        tracker.set_policy(policy(&[("*", Action::Block)], BlockResponse::Busy));
        let re_invite = message(
            "INVITE sip:100@192.168.1.20 SIP/2.0",
            "up",
            "2 INVITE",
            true,
        );
        assert_eq!(
            tracker.handle_sip(secs(5), &re_invite, p, ph, None),
            Verdict::Accept
        );
        assert_eq!(tracker.poll_transmit(), None);
        let record = policy(&[("*", Action::NoRecord)], BlockResponse::Busy);
        tracker.set_policy(record);
        tracker.handle_sip(secs(6), &invite("quiet", 1), p, ph, None);
        let key = *tracker.by_call_id.get("quiet").expect("tracked");
        assert!(
            !tracker.call(key).expect("a call").record,
            "no-record filter applied"
        );
    }

    #[test]
    fn voicemail_notifies_are_reported_when_what_waits_changes() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        let notify = |body: &str| {
            let text = format!(
                "NOTIFY sip:100@192.168.1.20 SIP/2.0\r\nVia: SIP/2.0/UDP {PROVIDER};branch=z9hG4bKn\r\n\
                 From: <sip:vm@p>;tag=v\r\nTo: <sip:100@p>;tag=t\r\nCall-ID: mwi-1\r\nCSeq: 7 NOTIFY\r\n\
                 Event: message-summary\r\nContent-Type: application/simple-message-summary\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            parse_datagram(text.as_bytes())
                .expect("valid")
                .expect("whole")
        };
        let (p, ph) = (addr(PROVIDER), addr(PHONE));
        let waiting = "Messages-Waiting: yes\r\nVoice-Message: 2/1\r\n";
        tracker.handle_sip(secs(1), &notify(waiting), p, ph, None);
        tracker.handle_sip(secs(2), &notify(waiting), p, ph, None);
        tracker.handle_sip(secs(3), &notify("Messages-Waiting: no\r\n"), p, ph, None);
        let summaries: Vec<(bool, u32)> = events(&mut tracker)
            .iter()
            .filter_map(|e| match e {
                Event::Voicemail { summary, .. } => Some((summary.waiting, summary.new)),
                _ => None,
            })
            .collect();
        assert_eq!(summaries, [(true, 2), (false, 0)], "a repeat is not news");
        assert!(tracker.is_empty(), "a NOTIFY is not a call");
    }
}
