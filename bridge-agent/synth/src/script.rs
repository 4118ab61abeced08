//! The script of each generated call: INVITE, 100, 180, then the outcome ([`answer`]:
//! answered, busy, given up, redirected), talk with an optional hold in the middle, and BYE;
//! all calls' packets merged in time order after the phones' REGISTERs.

mod answer;

use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::call::CallDirection;
use ringside_core::sip::Method;

use crate::call::{SynthCall, SynthPacket};
use crate::extras;
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
    let Some(answered) = ring(&mut dialog, call) else {
        return;
    };
    let (end, cseq) = converse(&mut dialog, call, rng, answered);
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

/// INVITE, 100, 180, then the outcome; says how the talk goes if the call is answered.
fn ring(d: &mut Dialog<'_>, call: &SynthCall) -> Option<answer::Talk> {
    let offer_rtp = answer::offer_rtp(call);
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
    answer::end_ringing(d, call, at + call.ring)
}

/// RTP both ways for the talk, with the hold (if any) in the middle. Returns when the audio
/// ended and the next `CSeq`.
fn converse(
    d: &mut Dialog<'_>,
    call: &SynthCall,
    rng: &mut Rng,
    answer::Talk {
        length: talk,
        media_start: start,
        cseq,
    }: answer::Talk,
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
    if call.extras.stray_packets > 0 {
        extras::stray(call, start, rng, d.out);
    }
    let mut cseq = cseq;
    let mut t = start;
    let before_hold = call.hold.map_or(talk, |h| h.after.min(talk));
    let captured = call.rtp_captured();
    while t < start + before_hold {
        if captured.0 {
            remote.emit(t, rng, d.out);
        }
        if captured.1 {
            extras::phone_tick(call, &mut phone, (t.saturating_sub(start), t), rng, d.out);
        }
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
        if captured.0 {
            remote.emit(t, rng, d.out);
        }
        if captured.1 {
            extras::phone_tick(call, &mut phone, (t.saturating_sub(start), t), rng, d.out);
        }
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
            sip: Sip {
                call,
                forwarded: false,
            },
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

    /// A request from the caller on a branch of its own, with the callee's tag, no body.
    fn request_on(&mut self, at: Duration, method: &Method, cseq: u32, branch: &str) {
        let (src, dst) = self.sides(true);
        let text = self.sip.request_on(method, (cseq, branch), src, None, true);
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
