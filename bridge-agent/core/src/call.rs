//! One call: its dialog (the state machine per Call-ID, [`DialogState`]), its media and what
//! Ringside decided about it. `Call`'s fields are its own: the tracker tells it what came
//! (a SIP message, an RTP packet, the clock) and reads what it needs through methods, so no
//! combination the dialog cannot reach (an answer time on a call that never got a 2xx, a 200
//! that revives an ended call) can be written from outside.

mod dialog;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Duration;

use tracing::debug;

use crate::beeps::Beeper;
use crate::caller_id::CallerId;
use crate::filters::Filter;
use crate::media::CallMedia;
use crate::mixer::{Channel, Frame};
pub use crate::outcome::{AnswerEvidence, CallDirection, DirectionSource, Disposition};
use crate::playout::LegStats;
use crate::rtp::RtpPacket;
use crate::sdp::{Codec, Media, SessionDescription};
use crate::sip::{Message, Method};
use crate::time::Timestamp;

pub use dialog::{Answer, DialogState, InviteBranches, Setup, Signal};

/// The engine's handle for a call (Call-IDs are the network's, these are ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey(pub u64);

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
    /// Which clue decided `direction` (and so which side is the phone).
    pub direction_source: DirectionSource,
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

/// How a call went, reported when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSummary {
    /// When it was answered.
    pub answered_at: Option<Timestamp>,
    /// What showed it was answered (its 2xx, or the evidence of one that was not seen).
    pub answered_by: Option<AnswerEvidence>,
    /// The audio codec seen on its RTP.
    pub codec: Option<Codec>,
    /// When its first RTP packet arrived: the first frame of the recording.
    pub media_started_at: Option<Timestamp>,
    /// Per-direction RTP counters, remote party first.
    pub quality: [LegStats; 2],
    /// Silences longer than [`crate::mixer::MAX_GAP`] left out of the recording.
    pub gaps_skipped: u64,
    /// RTP packets on the call's media addresses that its SDP did not vouch for (another
    /// source, a payload type not offered): neither mixed nor counted in `quality`.
    pub stray_packets: u64,
}

/// How long a call may stay quiet (no SIP, no RTP) before Ringside ends it itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// A call not yet answered (no final response came).
    pub ringing: Duration,
    /// An answered call whose RTP stopped (a BYE was never seen).
    pub media: Duration,
    /// An answered call that never had RTP.
    pub session: Duration,
}

/// How long an ended call stays in the table to absorb retransmissions (Timer J/H, 32 s).
pub(crate) const LINGER: Duration = Duration::from_secs(32);

/// What the clock means for a call (see [`Call::handle_timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// It goes on (its paused audio, if any, is ready to hand out).
    Going,
    /// It has ended and stays a while to absorb retransmissions.
    Lingering,
    /// It has been quiet too long: end it ([`Call::end`]).
    Expired,
    /// It ended more than [`LINGER`] ago: forget it.
    Forgotten,
}

/// What a call made of one of its RTP packets (see [`Call::handle_rtp`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Nothing to report: the call has ended, or the packet is a tone event or comfort noise.
    Nothing,
    /// A payload type no SDP of the call offered: counted as stray, not mixed.
    Stray,
    /// G.711 audio went into the mix: a chunk may be ready ([`Call::poll_audio`]).
    Audio,
    /// The same, and the packet must go on with this UDP payload (a courtesy beep in the
    /// phone's voice).
    Beeped(Vec<u8>),
    /// A codec Ringside does not decode, on a recorded call: keep the packet as it is.
    Raw,
}

/// One call and everything Ringside tracks about it.
#[derive(Debug)]
pub(crate) struct Call {
    /// What was known at the start.
    info: CallInfo,
    /// Where the dialog is, and the times that exist only in some states.
    dialog: DialogState,
    /// The branches of the INVITEs that set it up, to tell the ACK of a 2xx from a failure's.
    invite_branches: InviteBranches,
    /// Whether RTP has been heard in each direction, indexed by [`Channel`] (two-way RTP
    /// proves an answer whose 2xx was not seen).
    heard: [bool; 2],
    /// The last SIP or RTP packet of this call.
    last_activity: Timestamp,
    /// The last RTP packet, if any.
    last_media: Option<Timestamp>,
    /// The audio description each side sent, indexed by the [`Channel`] of that side's voice.
    sdp: [Option<Media>; 2],
    /// The last payload type heard each way and its codec, indexed by [`Channel`]: looked
    /// up in the SDP once, not for every packet; forgotten when an SDP comes.
    codec_heard: [Option<(u8, Codec)>; 2],
    /// The audio: jitter buffers and mixer.
    media: CallMedia,
    /// Whether to record this call.
    record: bool,
    /// The audio codec the call used, once RTP has been seen.
    codec: Option<Codec>,
    /// When its courtesy beeps sound.
    beeper: Beeper,
    /// RTP packets on its media addresses that its SDP did not vouch for.
    stray_packets: u64,
    /// The payload types any SDP of the call listed, one bit each (0-127).
    offered: u128,
    /// The response that turned a blocked caller away, sent again for every retransmission
    /// of the INVITE (`None` when blocked calls are dropped silently, or not blocked).
    turned_away: Option<Vec<u8>>,
}

impl Call {
    /// A call set up by `invite`.
    #[must_use]
    pub fn new(info: CallInfo, invite: &Message, record: bool) -> Call {
        let mut call = Call {
            dialog: DialogState::calling(invite.cseq().number),
            invite_branches: InviteBranches::default(),
            heard: [false; 2],
            last_activity: info.started_at,
            last_media: None,
            sdp: [None, None],
            codec_heard: [None, None],
            media: CallMedia::default(),
            record,
            codec: None,
            turned_away: None,
            beeper: Beeper::default(),
            stray_packets: 0,
            offered: 0,
            info,
        };
        let from_phone = call.info.direction == CallDirection::Outbound;
        call.take_sdp(invite, from_phone);
        call.invite_branches.note(invite);
        call
    }

    /// What was known of the call at its start.
    #[must_use]
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// Where the call's dialog is.
    #[must_use]
    pub fn dialog(&self) -> DialogState {
        self.dialog
    }

    /// Whether the call is recorded.
    #[must_use]
    pub fn is_recorded(&self) -> bool {
        self.record
    }

    /// Turns its recording on or off (the console, touch-tone codes).
    pub fn set_recording(&mut self, on: bool) {
        self.record = on;
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
        if message.method() == Some(&Method::Invite) {
            self.invite_branches.note(message);
        }
        let signal = Signal::of(message, &self.invite_branches);
        let (state, progress) = self.dialog.on_signal(now, signal);
        self.set_state(state);
        progress
    }

    /// Whether `invite` is the call a redirection of this one asked for, under the same
    /// Call-ID: a new INVITE (no To tag, a higher `CSeq`) after it ended forwarded. It is a
    /// call of its own.
    #[must_use]
    pub fn is_forwarded_by(&self, invite: &Message) -> bool {
        let forwarded = matches!(
            self.dialog,
            DialogState::Terminated {
                disposition: Disposition::Forwarded,
                ..
            }
        );
        forwarded
            && invite.method() == Some(&Method::Invite)
            && invite.to().is_some_and(|to| to.param("tag").is_none())
            && invite.cseq().number > self.invite_branches.cseq()
    }

    /// Ends the call from outside (timeout, shutdown, end of capture), and says how it ended
    /// (or had ended already).
    pub fn end(&mut self, now: Timestamp) -> Disposition {
        let (state, disposition) = self.dialog.on_end(now, self.info.direction);
        self.set_state(state);
        disposition
    }

    /// Ends a call a filter blocked before it rang; `response` is what turned the caller
    /// away, to send again for each retransmission of the INVITE. Refused (`false`) once the
    /// call is past `Calling`: a call already ringing or up is never blocked.
    pub fn block(&mut self, now: Timestamp, response: Option<Vec<u8>>) -> bool {
        let Some(state) = self.dialog.on_block(now) else {
            return false;
        };
        self.set_state(state);
        self.turned_away = response;
        true
    }

    /// The response that turned this blocked caller away, when one did.
    #[must_use]
    pub fn turned_away(&self) -> Option<&[u8]> {
        self.turned_away.as_deref()
    }

    fn set_state(&mut self, new: DialogState) {
        if new != self.dialog {
            debug!(call_id = %self.info.call_id, "call {:?} => {:?}", self.dialog, new);
            self.dialog = new;
        }
    }

    /// Runs the call's timers at `now`: whether it went quiet too long, or ended long enough
    /// ago to be forgotten. A call that goes on mixes the audio its pause left waiting.
    pub fn handle_timeout(&mut self, now: Timestamp, timeouts: Timeouts) -> Tick {
        let idle = now.since(self.last_activity);
        let limit = match self.dialog {
            DialogState::Terminated { ended_at, .. } => {
                return if now.since(ended_at) > LINGER {
                    Tick::Forgotten
                } else {
                    Tick::Lingering
                };
            }
            DialogState::Calling(_) | DialogState::Early { .. } => timeouts.ringing,
            DialogState::Confirmed { .. } if self.last_media.is_some() => timeouts.media,
            DialogState::Confirmed { .. } => timeouts.session,
        };
        if idle > limit {
            return Tick::Expired;
        }
        self.media.handle_timeout(now);
        Tick::Going
    }

    /// The media addresses the two sides' SDP announced: each with the [`Channel`] of the
    /// voice of the side that announced it (who receives there, and sends from there with
    /// symmetric RTP).
    pub fn media_addresses(&self) -> impl Iterator<Item = (Channel, SocketAddr)> + '_ {
        [Channel::Phone, Channel::Remote]
            .into_iter()
            .filter_map(|side| {
                let media = self.sdp[side as usize].as_ref()?;
                let address = media.address.filter(|a| !a.is_unspecified())?;
                Some((side, SocketAddr::new(address, media.port)))
            })
    }

    /// Takes an RTP packet of the voice of `channel` (its UDP payload is `payload`).
    /// `beeps` says whether courtesy beeps are on and the packet could be sent on changed.
    /// Says what the packet did to the dialog (RTP both ways may prove an answer) and what
    /// became of its audio.
    pub fn handle_rtp(
        &mut self,
        now: Timestamp,
        channel: Channel,
        packet: &RtpPacket<'_>,
        beeps: bool,
    ) -> (Progress, Heard) {
        if self.dialog.is_terminated() {
            return (Progress::Nothing, Heard::Nothing);
        }
        if !self.offered(packet.payload_type()) {
            self.count_stray();
            self.media.handle_stray(channel, packet);
            return (Progress::Nothing, Heard::Stray);
        }
        self.last_activity = now;
        self.last_media = Some(now);
        let progress = self.hear(now, channel);
        (progress, self.take_audio(now, channel, packet, beeps))
    }

    /// Notes RTP from `channel`'s side; the first time both sides have been heard, the
    /// dialog is told (see [`Signal::MediaBothWays`]).
    fn hear(&mut self, now: Timestamp, channel: Channel) -> Progress {
        if self.heard[channel as usize] {
            return Progress::Nothing;
        }
        self.heard[channel as usize] = true;
        if !self.heard.iter().all(|&heard| heard) {
            return Progress::Nothing;
        }
        let (state, progress) = self.dialog.on_signal(now, Signal::MediaBothWays);
        self.set_state(state);
        progress
    }

    /// What becomes of the packet's audio: mixed, kept raw, or neither.
    fn take_audio(
        &mut self,
        now: Timestamp,
        channel: Channel,
        packet: &RtpPacket<'_>,
        beeps: bool,
    ) -> Heard {
        let codec = self.codec_for(channel, packet.payload_type());
        match codec {
            Codec::Pcmu | Codec::Pcma => {
                self.codec.get_or_insert(codec);
                if let Some(beeped) = self.beep(now, channel, codec, packet, beeps) {
                    return Heard::Beeped(beeped);
                }
                self.media.handle_rtp(now, channel, codec, packet);
                Heard::Audio
            }
            Codec::Other => {
                self.codec.get_or_insert(codec);
                self.media.handle_undecoded(channel, packet);
                if self.record {
                    Heard::Raw
                } else {
                    Heard::Nothing
                }
            }
            Codec::TelephoneEvent | Codec::ComfortNoise => {
                self.media.handle_rtp(now, channel, codec, packet);
                Heard::Nothing
            }
        }
    }

    /// The packet with a courtesy beep in place of the phone's voice, when one is due; the
    /// remote party hears the beep, and the recording keeps what they heard.
    fn beep(
        &mut self,
        now: Timestamp,
        channel: Channel,
        codec: Codec,
        packet: &RtpPacket<'_>,
        beeps: bool,
    ) -> Option<Vec<u8>> {
        let due = beeps
            && self.record
            && channel == Channel::Phone
            && (self.dialog.answered_at()).is_some_and(|at| self.beeper.due(now, at));
        let tone = due
            .then(|| self.beeper.tone(codec, packet.payload().len()))
            .flatten()?;
        let mut rewritten = packet.bytes().to_vec();
        let start = packet.payload_offset();
        rewritten[start..start + tone.len()].copy_from_slice(&tone);
        if let Ok(beeped) = RtpPacket::new_checked(&rewritten) {
            self.media.handle_rtp(now, channel, codec, &beeped);
        }
        Some(rewritten)
    }

    /// The call's mixed audio for the recording in whole chunks of `chunk_frames`, and where
    /// it starts, once there is one and the call is recorded. A call not being recorded drops
    /// its audio as it gets ready, so that it holds no more than a chunk whatever its length;
    /// recording turned on again goes on after a pause.
    pub fn poll_audio(&mut self, chunk_frames: usize) -> Option<(u64, Vec<Frame>)> {
        if self.record {
            self.media.poll_chunk(chunk_frames)
        } else {
            self.media.drop_chunk(chunk_frames);
            None
        }
    }

    /// At its end: the rest of the call's audio (when recorded and there is some) and how
    /// the call went.
    pub fn finish(&mut self) -> (Option<(u64, Vec<Frame>)>, CallSummary) {
        let (offset, frames) = self.media.finish();
        let rest = (self.record && !frames.is_empty()).then_some((offset, frames));
        let summary = CallSummary {
            answered_at: self.dialog.answered_at(),
            answered_by: self.dialog.answer().map(|answer| answer.by),
            codec: self.codec,
            media_started_at: self.media.started_at(),
            quality: self.media.stats(),
            gaps_skipped: self.media.gaps_skipped(),
            stray_packets: self.stray_packets,
        };
        (rest, summary)
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
        for &pt in audio.formats.iter().filter(|&&pt| pt < 128) {
            self.offered |= 1u128 << pt;
        }
        self.sdp[channel as usize] = Some(audio);
        self.codec_heard = [None, None];
    }

    /// Counts a packet on the call's media addresses that its SDP does not vouch for.
    pub fn count_stray(&mut self) {
        self.stray_packets += 1;
    }

    /// A re-INVITE moved a side's media and the new address carries packets: each leg's
    /// sequence (and loss count) starts afresh with its next packet.
    pub fn media_moved(&mut self) {
        self.media.restart_legs();
    }

    /// Whether a payload type is one an SDP of the call offered (a static type, below 35,
    /// when none listed any). Types an earlier SDP offered stay offered: a sender that keeps
    /// its telephone-events after a re-INVITE left them out is not stray. The static comfort
    /// noise (13) is always taken: many send it in pauses without offering it.
    fn offered(&self, payload_type: u8) -> bool {
        if self.offered == 0 {
            return payload_type < 35;
        }
        if payload_type == 13 {
            return true;
        }
        self.offered & (1u128 << (payload_type & 0x7f)) != 0
    }

    /// Whether any RTP of the call has been seen (its media can move from then on).
    #[must_use]
    pub fn has_had_media(&self) -> bool {
        self.last_media.is_some()
    }

    /// The codec a payload type means on audio spoken by `channel`: the receiving side's SDP
    /// names the payload types it accepts, the sender's is a fallback.
    fn codec_for(&mut self, channel: Channel, payload_type: u8) -> Codec {
        if let Some((heard, codec)) = self.codec_heard[channel as usize] {
            if heard == payload_type {
                return codec;
            }
        }
        let receiver = 1 - channel as usize;
        let described = |i: usize| self.sdp[i].as_ref().and_then(|m| m.codec(payload_type));
        let codec = described(receiver)
            .or_else(|| described(channel as usize))
            .or_else(|| Codec::from_static(payload_type))
            .unwrap_or(Codec::Other);
        self.codec_heard[channel as usize] = Some((payload_type, codec));
        codec
    }
}
