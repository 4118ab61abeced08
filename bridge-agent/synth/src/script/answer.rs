//! How a generated call's ringing ends: the caller's CANCEL, a busy callee, the answer (seen
//! whole, or with its 200 OK and more missing from the capture), or a redirection and the
//! call it asks for.

use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::call::CallDirection;
use ringside_core::sip::Method;

use super::{ms, Dialog};
use crate::call::{Outcome, SynthCall, Unseen};

/// How an answered call goes on.
pub(super) struct Talk {
    /// How long both sides talk.
    pub(super) length: Duration,
    /// When its RTP starts.
    pub(super) media_start: Duration,
    /// The next `CSeq` of the dialog.
    pub(super) cseq: u32,
}

/// Where the caller's SDP offer puts the caller's media.
pub(super) fn offer_rtp(call: &SynthCall) -> SocketAddr {
    match call.direction {
        CallDirection::Inbound => call.endpoints.provider_rtp,
        CallDirection::Outbound => call.endpoints.phone_rtp,
    }
}

/// The outcome after the ringing, at `at`: the caller's CANCEL, a busy callee, the answer
/// (with its SDP), or a redirection; says how the talk goes if the call is answered.
pub(super) fn end_ringing(d: &mut Dialog<'_>, call: &SynthCall, at: Duration) -> Option<Talk> {
    let talk = |length, cseq| Talk {
        length,
        media_start: at + ms(30),
        cseq,
    };
    match call.outcome {
        Outcome::CallerHangsUp => {
            // A CANCEL copies the INVITE's To, without the tag (RFC 3261 §9.1).
            d.to_tag = false;
            d.request(at, true, &Method::Cancel, 1, None);
            d.to_tag = true;
            d.response(at + ms(10), false, (200, "OK"), 1, &Method::Cancel, None);
            let terminated = (487, "Request Terminated");
            d.response(at + ms(20), false, terminated, 1, &Method::Invite, None);
            d.request(at + ms(30), true, &Method::Ack, 1, None);
            None
        }
        Outcome::Busy => {
            d.response(at, false, (486, "Busy Here"), 1, &Method::Invite, None);
            d.request(at + ms(10), true, &Method::Ack, 1, None);
            None
        }
        Outcome::Answered { talk: length } => {
            answer(d, call, at, 1);
            d.request(at + ms(20), true, &Method::Ack, 1, None);
            Some(talk(length, 2))
        }
        Outcome::AnsweredUnseen {
            talk: length,
            missing,
        } => {
            ack_unseen_answer(d, at + ms(20), missing);
            Some(talk(length, 2))
        }
        Outcome::Redirected { retry } => redirect(d, call, at, retry),
    }
}

/// The 200 OK with the callee's SDP answer, to the INVITE with `cseq`.
fn answer(d: &mut Dialog<'_>, call: &SynthCall, at: Duration, cseq: u32) {
    let answer_rtp = match call.direction {
        CallDirection::Inbound => call.endpoints.phone_rtp,
        CallDirection::Outbound => call.endpoints.provider_rtp,
    };
    let sdp = Some(d.sip.sdp(answer_rtp, "sendrecv"));
    d.response(at, false, (200, "OK"), cseq, &Method::Invite, sdp);
}

/// What the capture keeps of the answer whose 200 OK it lost: the ACK on a branch of its
/// own, the ACK on the INVITE's branch (a sloppy phone), or nothing.
fn ack_unseen_answer(d: &mut Dialog<'_>, at: Duration, missing: Unseen) {
    match missing {
        Unseen::Ok200 => {
            let branch = format!("z9hG4bK-{}-ack-1", d.sip.call.call_id);
            d.request_on(at, &Method::Ack, 1, &branch);
        }
        Unseen::Ok200WithSloppyAck => d.request(at, true, &Method::Ack, 1, None),
        Unseen::Ok200AndAck => {}
    }
}

/// 302 with a Contact and its ACK; with `retry`, the caller's INVITE to the Contact (same
/// Call-ID, `CSeq` 2, no To tag), answered, and its ACK on a branch of its own.
fn redirect(
    d: &mut Dialog<'_>,
    call: &SynthCall,
    at: Duration,
    retry: Option<Duration>,
) -> Option<Talk> {
    let moved = (302, "Moved Temporarily");
    d.response(at, false, moved, 1, &Method::Invite, None);
    d.request(at + ms(10), true, &Method::Ack, 1, None);
    let talk = retry?;
    d.sip.forwarded = true;
    d.to_tag = false;
    let offer = Some(d.sip.sdp(offer_rtp(call), "sendrecv"));
    d.request(at + ms(30), true, &Method::Invite, 2, offer);
    d.to_tag = true;
    answer(d, call, at + ms(60), 2);
    let branch = format!("z9hG4bK-{}-ack-2", call.call_id);
    d.request_on(at + ms(80), &Method::Ack, 2, &branch);
    Some(Talk {
        length: talk,
        media_start: at + ms(90),
        cseq: 3,
    })
}
