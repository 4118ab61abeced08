//! The table of calls: SIP messages find their call by Call-ID, RTP packets by the media
//! addresses the calls' SDP announced. Reports what happens as [`Event`]s.
//!
//! Call order: [`Tracker::handle_sip`] and [`Tracker::handle_rtp`] as packets arrive,
//! [`Tracker::handle_timeout`] at [`Tracker::poll_timeout`] (or more often), then
//! [`Tracker::poll_event`] until it returns `None`. [`Tracker::finish`] ends every call.
//!
//! This file holds the table, the event queue and the timers; the jobs around them have a
//! file each: [`dialogs`] (SIP: starting calls, handing messages to them, voicemail),
//! [`direction`] (which way a new call goes, and which side is the phone),
//! [`flows`] (media addresses → calls, the RTP hand-off) and [`blocking`] (the policy:
//! blocking and turning callers away). How a call moves from state to state is
//! [`crate::call`]'s alone: the tracker only tells a call what came and reports the result.

mod blocking;
mod dialogs;
mod direction;
mod flows;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

// foldhash: a fast hasher, seeded per process, for tables keyed by what the network sends.
use foldhash::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::call::{
    Answer, AnswerEvidence, Call, CallInfo, CallKey, CallSummary, Disposition, Progress, Tick,
    Timeouts,
};
use crate::filters::Filter;
use crate::media::{LIVE_CHUNK_FRAMES, RECORDING_CHUNK_FRAMES};
use crate::mixer::Frame;
use crate::policy::Policy;
use crate::time::Timestamp;
use crate::voicemail::MessageSummary;

pub use flows::RtpOutcome;

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
    /// Mixed audio goes to the recorder in whole chunks of this many frames (while no one
    /// listens live): [`RECORDING_CHUNK_FRAMES`], 512 ms, unless a replay asks for more.
    pub recording_chunk_frames: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            phone_addresses: Vec::new(),
            ringing_timeout: Duration::from_mins(3),
            media_timeout: Duration::from_mins(1),
            session_timeout: Duration::from_hours(4),
            max_calls: 10_000,
            recording_chunk_frames: RECORDING_CHUNK_FRAMES,
        }
    }
}

impl TrackerConfig {
    fn timeouts(&self) -> Timeouts {
        Timeouts {
            ringing: self.ringing_timeout,
            media: self.media_timeout,
            session: self.session_timeout,
        }
    }
}

/// What to do with a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through.
    Accept,
    /// Drop it (a blocked call's INVITE, its retransmissions, its ACK).
    Drop,
    /// Send this whole packet on in its place (same length, same headers but for a cleared
    /// UDP checksum): the phone's audio with a courtesy beep in it. Only
    /// [`crate::Engine::handle_frame`] answers so.
    Replace(Vec<u8>),
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

/// What the tracker reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// A new call (its first INVITE, not a retransmission).
    CallStarted(CallInfo),
    /// It rings.
    CallRinging {
        /// The call that rings.
        call: CallKey,
        /// When its first 180-199 came.
        at: Timestamp,
    },
    /// It was answered.
    CallAnswered {
        /// The call that was answered.
        call: CallKey,
        /// When the 2xx to its INVITE came, or the first proof of one that was not seen.
        at: Timestamp,
        /// What showed it (the 2xx, an ACK for one, media both ways).
        by: AnswerEvidence,
    },
    /// Mixed stereo audio for the call's recording, in timeline order.
    Audio {
        /// The recorded call the audio is of.
        call: CallKey,
        /// The frame of the recording this chunk starts at (a consumer that lost a chunk
        /// fills the gap with silence).
        offset: u64,
        /// The frames, remote party left, phone right.
        frames: Vec<Frame>,
    },
    /// An RTP packet of a codec Ringside does not decode, to keep as it is.
    RawRtp {
        /// The recorded call the packet belongs to.
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
        /// The call that ended.
        call: CallKey,
        /// When: the BYE, CANCEL or final response, the timer that gave up on it, or the
        /// shutdown.
        at: Timestamp,
        /// How it ended (answered, missed, busy ...).
        disposition: Disposition,
        /// Its codec and quality figures.
        summary: CallSummary,
    },
}

/// How often timers run.
const TICK: Duration = Duration::from_secs(1);

/// The call table.
#[derive(Debug, Default)]
pub struct Tracker {
    config: TrackerConfig,
    policy: Policy,
    calls: HashMap<CallKey, Call>,
    by_call_id: HashMap<String, CallKey>,
    /// Media address → its call, the voice of packets sent *to* it, and the source latched.
    flows_to: HashMap<SocketAddr, flows::Flow>,
    /// Media address → its call and the voice of packets sent *from* it (symmetric RTP).
    flows_from: HashMap<SocketAddr, flows::Flow>,
    /// The media addresses each call registered, to unregister them when it is forgotten.
    flow_addresses: HashMap<CallKey, Vec<SocketAddr>>,
    /// Addresses known to be the phone's, by how they became known (see [`direction`]).
    phones: direction::KnownPhones,
    next_key: u64,
    next_tick: Option<Timestamp>,
    events: VecDeque<Event>,
    transmits: VecDeque<Transmit>,
    /// The last voicemail summary reported.
    voicemail: Option<MessageSummary>,
    /// How much mixed audio a call hands out at once: [`LIVE_CHUNK_FRAMES`] while someone
    /// listens live, else the configured recording chunk.
    chunk_frames: usize,
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
            phones: direction::KnownPhones::configured(&config.phone_addresses),
            chunk_frames: config.recording_chunk_frames,
            config,
            ..Tracker::default()
        }
    }

    /// Runs timers: ends calls that went quiet, forgets ended ones, writes out paused audio.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.next_tick.is_some_and(|t| now < t) {
            return;
        }
        self.next_tick = Some(now.plus(TICK));
        let timeouts = self.config.timeouts();
        let mut to_end = Vec::new();
        let mut to_forget = Vec::new();
        for (&key, call) in &mut self.calls {
            match call.handle_timeout(now, timeouts) {
                Tick::Going => push_audio(&mut self.events, key, call, self.chunk_frames),
                Tick::Lingering => {}
                Tick::Expired => to_end.push(key),
                Tick::Forgotten => to_forget.push(key),
            }
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

    /// Ends every call still going (shutdown, end of a capture).
    pub fn finish(&mut self, now: Timestamp) {
        let mut keys: Vec<CallKey> = self.calls.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            self.end_call(now, key);
        }
    }

    /// Hands out mixed audio every 20 ms while `on` (someone listens live), else in the
    /// configured chunks for the recorder.
    pub fn set_listening(&mut self, on: bool) {
        self.chunk_frames = if on {
            LIVE_CHUNK_FRAMES
        } else {
            self.config.recording_chunk_frames
        };
    }

    /// Turns recording of one call on or off (filters, the console, touch-tone codes).
    pub fn set_recording(&mut self, key: CallKey, record: bool) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.set_recording(record);
        }
    }

    /// Whether the call is in the table and being recorded.
    #[must_use]
    pub fn is_recorded(&self, key: CallKey) -> bool {
        self.calls.get(&key).is_some_and(Call::is_recorded)
    }

    /// The Call-ID of a call in the table.
    #[must_use]
    pub fn call_id(&self, key: CallKey) -> Option<&str> {
        self.calls
            .get(&key)
            .map(|call| call.info().call_id.as_str())
    }

    /// The call a SIP Call-ID belongs to.
    #[must_use]
    pub fn call_of(&self, call_id: &str) -> Option<CallKey> {
        self.by_call_id.get(call_id).copied()
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

    fn report(&mut self, now: Timestamp, key: CallKey, progress: Progress) {
        match progress {
            Progress::Nothing => {}
            Progress::Ringing => self
                .events
                .push_back(Event::CallRinging { call: key, at: now }),
            Progress::Answered => {
                let answer = self.calls.get(&key).and_then(|c| c.dialog().answer());
                if let Some(Answer { at, by }) = answer {
                    self.events
                        .push_back(Event::CallAnswered { call: key, at, by });
                }
            }
            Progress::Ended(disposition) => self.report_end(now, key, disposition),
        }
    }

    fn end_call(&mut self, now: Timestamp, key: CallKey) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.dialog().is_terminated() {
            return;
        }
        let disposition = call.end(now);
        self.report_end(now, key, disposition);
    }

    /// Reports the end of a call: the rest of its recording, then [`Event::CallEnded`].
    fn report_end(&mut self, now: Timestamp, key: CallKey, disposition: Disposition) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let (rest, summary) = call.finish();
        if let Some((offset, frames)) = rest {
            self.events.push_back(Event::Audio {
                call: key,
                offset,
                frames,
            });
        }
        self.events.push_back(Event::CallEnded {
            call: key,
            at: now,
            disposition,
            summary,
        });
    }

    /// Drops the oldest call that never got answered, to stay within `max_calls`.
    fn make_room(&mut self, now: Timestamp) {
        let oldest = self
            .calls
            .values()
            .filter(|c| !c.dialog().is_confirmed())
            .min_by_key(|c| c.info().started_at)
            .map(|c| c.info().key);
        if let Some(key) = oldest {
            self.end_call(now, key);
            self.forget(key);
        }
    }

    fn forget(&mut self, key: CallKey) {
        if let Some(call) = self.calls.remove(&key) {
            // A forwarded call's Call-ID may have passed to the call placed after it.
            if self.by_call_id.get(&call.info().call_id) == Some(&key) {
                self.by_call_id.remove(&call.info().call_id);
            }
        }
        self.forget_flows(key);
    }
}

/// Reports the call's mixed audio in whole chunks of `chunk_frames`, once there is one and
/// the call is recorded.
fn push_audio(events: &mut VecDeque<Event>, key: CallKey, call: &mut Call, chunk_frames: usize) {
    if let Some((offset, frames)) = call.poll_audio(chunk_frames) {
        events.push_back(Event::Audio {
            call: key,
            offset,
            frames,
        });
    }
}
