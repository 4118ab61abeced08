//! One call: the dialog state machine for one Call-ID (RFC 3261 §13, §15).
//!
//! ```text
//! Trying ──1xx──► Ringing ──2xx──► Answered ──BYE──► Ended(answered)
//!   │               │
//!   └───────────────┴── CANCEL / 487 ► Ended(missed), 486/600 ► Ended(busy),
//!                       603/403 ► Ended(rejected), other final ► Ended(failed)
//! ```
//! 401/407 challenges keep the call in `Trying`: the caller resends the INVITE with
//! credentials and a higher `CSeq`. Re-INVITEs of an answered call only change its media.

use std::net::SocketAddr;

use tracing::debug;

use crate::beeps::Beeper;
use crate::caller_id::CallerId;
use crate::filters::Filter;
use crate::media::CallMedia;
use crate::mixer::Channel;
pub use crate::outcome::{CallDirection, Disposition};
use crate::sdp::{Codec, Media, SessionDescription};
use crate::sip::{Message, Method};
use crate::time::Timestamp;

/// The engine's handle for a call (Call-IDs are the network's, these are ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey(pub u64);

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent, no ringing yet.
    Trying,
    /// 180/183 seen.
    Ringing,
    /// 2xx seen.
    Answered,
    /// Over.
    Ended(Disposition),
}

/// What a message did to a call, for the tracker to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing the outside needs to know (100 Trying, ACK, retransmissions ...).
    Nothing,
    /// The phone (or the far end) started ringing.
    Ringing,
    /// The call was answered.
    Answered,
    /// The call ended.
    Ended(Disposition),
}

/// What is known of a call when it starts; it does not change afterwards.
#[derive(Debug, Clone)]
pub struct CallInfo {
    /// Our handle.
    pub key: CallKey,
    /// The SIP Call-ID.
    pub call_id: String,
    /// Inbound or outbound.
    pub direction: CallDirection,
    /// The other party: the caller of an inbound call, the callee of an outbound one.
    pub party: CallerId,
    /// When the INVITE was seen.
    pub started_at: Timestamp,
    /// The phone's signalling address.
    pub phone: SocketAddr,
    /// The other side's signalling address (provider or proxy).
    pub remote: SocketAddr,
    /// The filter that blocked the call, if one did (the phone never rang).
    pub blocked_by: Option<Filter>,
}

/// One call and everything Ringside tracks about it.
#[derive(Debug)]
pub struct Call {
    /// What was known at the start.
    pub info: CallInfo,
    state: CallState,
    /// When it was answered.
    pub answered_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// The `CSeq` of the INVITE that set the call up (raised by auth retries).
    invite_cseq: u32,
    /// The last SIP or RTP packet of this call.
    pub last_activity: Timestamp,
    /// The last RTP packet, if any.
    pub last_media: Option<Timestamp>,
    /// The audio description each side sent, indexed by the [`Channel`] of that side's voice.
    pub sdp: [Option<Media>; 2],
    /// The audio: jitter buffers and mixer.
    pub media: CallMedia,
    /// Whether to record this call.
    pub record: bool,
    /// The audio codec the call used, once RTP has been seen.
    pub codec: Option<Codec>,
    /// When its courtesy beeps sound.
    pub beeper: Beeper,
    /// The response that turned a blocked caller away, sent again for every retransmission
    /// of the INVITE (`None` when blocked calls are dropped silently).
    pub turned_away: Option<Vec<u8>>,
}

impl Call {
    /// A call set up by `invite`.
    #[must_use]
    pub fn new(info: CallInfo, invite: &Message, record: bool) -> Call {
        let mut call = Call {
            state: CallState::Trying,
            answered_at: None,
            ended_at: None,
            invite_cseq: invite.cseq().number,
            last_activity: info.started_at,
            last_media: None,
            sdp: [None, None],
            media: CallMedia::default(),
            record,
            codec: None,
            turned_away: None,
            beeper: Beeper::default(),
            info,
        };
        let from_phone = call.info.direction == CallDirection::Outbound;
        call.take_sdp(invite, from_phone);
        call
    }

    /// The call's state.
    #[must_use]
    pub fn state(&self) -> CallState {
        self.state
    }

    /// Takes a message of this dialog; `from_phone` says which side sent it.
    pub fn handle_message(
        &mut self,
        now: Timestamp,
        message: &Message,
        from_phone: bool,
    ) -> Progress {
        self.last_activity = now;
        self.take_sdp(message, from_phone);
        let is_invite_cseq = message.cseq().method == Method::Invite;
        let progress = match (self.state, message.method(), message.status()) {
            // An INVITE again: a retransmission, an authenticated retry, or a re-INVITE.
            (_, Some(Method::Invite), _) => {
                if matches!(self.state, CallState::Trying | CallState::Ringing) {
                    self.invite_cseq = self.invite_cseq.max(message.cseq().number);
                }
                Progress::Nothing
            }
            // The caller gives up before an answer (a BYE before any answer means the same).
            (CallState::Trying | CallState::Ringing, Some(Method::Cancel | Method::Bye), _) => {
                Progress::Ended(Disposition::Missed)
            }
            // A hang-up.
            (CallState::Answered, Some(Method::Bye), _) => Progress::Ended(Disposition::Answered),
            // Ringing or early media.
            (CallState::Trying, None, Some(180..=199)) if is_invite_cseq => Progress::Ringing,
            // The answer to the INVITE (not to a re-INVITE or other request).
            (CallState::Trying | CallState::Ringing, None, Some(200..=299)) if is_invite_cseq => {
                Progress::Answered
            }
            // A final failure of the INVITE that set the call up.
            (CallState::Trying | CallState::Ringing, None, Some(code @ 300..=699))
                if is_invite_cseq && message.cseq().number >= self.invite_cseq =>
            {
                Disposition::from_final_status(code).map_or(Progress::Nothing, Progress::Ended)
            }
            // 100 Trying, ACK, PRACK, INFO, re-INVITE answers, anything after the end.
            _ => Progress::Nothing,
        };
        self.apply(now, progress);
        progress
    }

    /// Ends the call from outside (timeout, shutdown, end of capture).
    pub fn end(&mut self, now: Timestamp) -> Disposition {
        let disposition = match (self.state, self.info.direction) {
            (CallState::Ended(d), _) => return d,
            (CallState::Answered, _) => Disposition::Answered,
            (_, CallDirection::Inbound) => Disposition::Missed,
            (_, CallDirection::Outbound) => Disposition::Failed,
        };
        self.apply(now, Progress::Ended(disposition));
        disposition
    }

    /// Marks the call blocked by a filter (it never rings).
    pub fn block(&mut self, now: Timestamp) {
        self.apply(now, Progress::Ended(Disposition::Blocked));
    }

    fn apply(&mut self, now: Timestamp, progress: Progress) {
        let new = match progress {
            Progress::Nothing => return,
            Progress::Ringing => CallState::Ringing,
            Progress::Answered => {
                self.answered_at = Some(now);
                CallState::Answered
            }
            Progress::Ended(disposition) => {
                self.ended_at = Some(now);
                CallState::Ended(disposition)
            }
        };
        debug!(call_id = %self.info.call_id, "call {:?} => {:?}", self.state, new);
        self.state = new;
    }

    /// Records the SDP a side sent: its audio goes to the address in it.
    fn take_sdp(&mut self, message: &Message, from_phone: bool) {
        let Some(audio) = message
            .sdp()
            .and_then(|body| SessionDescription::parse(body).audio().cloned())
        else {
            return;
        };
        let channel = if from_phone {
            Channel::Phone
        } else {
            Channel::Remote
        };
        self.sdp[channel as usize] = Some(audio);
    }

    /// The codec a payload type means on audio spoken by `channel`: the receiving side's SDP
    /// names the payload types it accepts, the sender's is a fallback.
    #[must_use]
    pub fn codec_for(&self, channel: Channel, payload_type: u8) -> Codec {
        let receiver = 1 - channel as usize;
        let described = |i: usize| self.sdp[i].as_ref().and_then(|m| m.codec(payload_type));
        described(receiver)
            .or_else(|| described(channel as usize))
            .or_else(|| Codec::from_static(payload_type))
            .unwrap_or(Codec::Other)
    }
}
