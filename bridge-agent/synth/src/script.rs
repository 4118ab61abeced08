//! The script of each generated call: INVITE, 100, 180, then the outcome (answered, busy,
//! or given up), talk with an optional hold in the middle, and BYE; all calls' packets merged
//! in time order after the phones' REGISTERs.

use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::call::CallDirection;
use ringside_core::sip::Method;

use crate::call::{Outcome, SynthCall, SynthPacket};
use crate::rtp::{Rng, RtpSender, PTIME};
use crate::sip::{self, Sip};

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
            let register = sip::register(ep.phone_sip, registered.len());
            send(
                &mut out,
                Duration::ZERO,
                ep.phone_sip,
                ep.provider_sip,
                register,
            );
        }
    }
    calls_after(out, calls, seed)
}

/// All packets of the calls, in time order, with no REGISTER: a capture started after the
/// phone registered, where only the INVITEs themselves tell which side is the phone.
#[must_use]
pub fn unregistered_packets(calls: &[SynthCall], seed: u64) -> Vec<SynthPacket> {
    calls_after(Vec::new(), calls, seed)
}

/// `out`, then every packet of the calls, sorted by time.
fn calls_after(mut out: Vec<SynthPacket>, calls: &[SynthCall], seed: u64) -> Vec<SynthPacket> {
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
    dialog.request(end + ms(10), provider_is_caller, &Method::Bye, cseq, None);
    dialog.response(
        end + ms(20),
        !provider_is_caller,
        (200, "OK"),
        cseq,
        &Method::Bye,
        None,
    );
}

/// INVITE, 100, 180, then the outcome; returns the talk time if the call is answered.
fn ring(d: &mut Dialog<'_>, call: &SynthCall) -> Option<Duration> {
    let offer_rtp = match call.direction {
        CallDirection::Inbound => call.endpoints.provider_rtp,
        CallDirection::Outbound => call.endpoints.phone_rtp,
    };
    let at = call.start;
    d.to_tag = false;
    d.request(
        at,
        true,
        &Method::Invite,
        1,
        Some(d.sip.sdp(offer_rtp, "sendrecv")),
    );
    d.response(
        at + ms(10),
        false,
        (100, "Trying"),
        1,
        &Method::Invite,
        None,
    );
    d.to_tag = true;
    d.response(
        at + ms(50),
        false,
        (180, "Ringing"),
        1,
        &Method::Invite,
        None,
    );
    end_ringing(d, call, at + call.ring)
}

/// The outcome after the ringing, at `at`: the caller's CANCEL, a busy callee, or the answer
/// (with its SDP); returns the talk time if the call is answered.
fn end_ringing(d: &mut Dialog<'_>, call: &SynthCall, at: Duration) -> Option<Duration> {
    match call.outcome {
        Outcome::CallerHangsUp => {
            // A CANCEL copies the INVITE's To, without the tag (RFC 3261 §9.1).
            d.to_tag = false;
            d.request(at, true, &Method::Cancel, 1, None);
            d.to_tag = true;
            d.response(at + ms(10), false, (200, "OK"), 1, &Method::Cancel, None);
            d.response(
                at + ms(20),
                false,
                (487, "Request Terminated"),
                1,
                &Method::Invite,
                None,
            );
            d.request(at + ms(30), true, &Method::Ack, 1, None);
            None
        }
        Outcome::Busy => {
            d.response(at, false, (486, "Busy Here"), 1, &Method::Invite, None);
            d.request(at + ms(10), true, &Method::Ack, 1, None);
            None
        }
        Outcome::Answered { talk } => {
            let answer_rtp = match call.direction {
                CallDirection::Inbound => call.endpoints.phone_rtp,
                CallDirection::Outbound => call.endpoints.provider_rtp,
            };
            let sdp = Some(d.sip.sdp(answer_rtp, "sendrecv"));
            d.response(at, false, (200, "OK"), 1, &Method::Invite, sdp);
            d.request(at + ms(20), true, &Method::Ack, 1, None);
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
        d.request(at, provider_is_caller, &Method::Invite, cseq, offer);
        let answer = Some(d.sip.sdp(ep.phone_rtp, answer));
        d.response(
            at + ms(10),
            !provider_is_caller,
            (200, "OK"),
            cseq,
            &Method::Invite,
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
        method: &Method,
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
        method: &Method,
        sdp: Option<String>,
    ) {
        let (src, dst) = self.sides(from_caller);
        let text = self
            .sip
            .response(status, cseq, method, dst, sdp, self.to_tag);
        send(self.out, at, src, dst, text);
    }
}

fn send(
    out: &mut Vec<SynthPacket>,
    at: Duration,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
) {
    out.push(SynthPacket {
        at,
        src,
        dst,
        payload,
    });
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
