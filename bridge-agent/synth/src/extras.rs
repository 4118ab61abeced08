//! RTP beside a call's audio that a recorder must take neither for audio nor for loss: the
//! phone's RFC 4733 key presses and its RFC 3389 comfort noise during a pause, both in its
//! own stream's sequence, and stray packets from a second source on the phone's port (a fax
//! adapter's T.38 port sending a few PCMU packets).

use std::net::SocketAddr;
use std::time::Duration;

use crate::call::{Hold, SynthCall, SynthPacket};
use crate::rtp::{Rng, RtpSender, PTIME};
use crate::script::ms;

/// How long a generated key press lasts: ten 20 ms updates.
pub const KEY_PRESS: Duration = Duration::from_millis(200);
/// Comfort noise is refreshed every 200 ms of a pause (one packet in ten).
pub const COMFORT_NOISE_EVERY: u32 = 10;
/// The telephone-event payload type the generated SDP offers.
const TELEPHONE_EVENT: u8 = 101;
/// The static comfort-noise payload type (RFC 3551).
const COMFORT_NOISE: u8 = 13;

/// What a call's RTP carries besides its two tones.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MediaExtras {
    /// The phone presses a key (digit 5, [`KEY_PRESS`] long) this far into the talk: ten
    /// telephone-events in its stream, the last (the end) sent three times.
    pub key_press_at: Option<Duration>,
    /// The phone pauses and sends comfort noise (PT 13) instead of audio: `after` this much
    /// talk, for `length`.
    pub comfort_noise: Option<Hold>,
    /// This many PCMU packets from a second source, another port of the provider's host,
    /// to the phone's RTP port, one second into the talk.
    pub stray_packets: u16,
}

/// Sends what the phone sends `elapsed` into the talk, at `at`: audio, a key press update,
/// comfort noise, or (in a pause) nothing.
pub(crate) fn phone_tick(
    call: &SynthCall,
    phone: &mut RtpSender,
    (elapsed, at): (Duration, Duration),
    rng: &mut Rng,
    out: &mut Vec<SynthPacket>,
) {
    let extras = call.extras;
    let tick = u32::try_from(PTIME.as_millis() * 8).unwrap_or(160);
    if let Some(start) = extras
        .key_press_at
        .filter(|&k| (k..k + KEY_PRESS).contains(&elapsed))
    {
        let into = u32::try_from(elapsed.saturating_sub(start).as_millis() * 8).unwrap_or(0);
        let end = elapsed + PTIME >= start + KEY_PRESS;
        let duration = u16::try_from(into + tick).unwrap_or(u16::MAX).to_be_bytes();
        let body = [5, if end { 0x8a } else { 0x0a }, duration[0], duration[1]];
        let stamp = (TELEPHONE_EVENT, phone.timestamp().wrapping_sub(into));
        phone.emit_other(at, stamp, &body, out);
        if end {
            // The end is sent three times, as RFC 4733 §2.5.1.4 asks, with one number.
            let last = out.last().cloned();
            out.extend(last.iter().flat_map(|p| {
                [1, 2].map(|i| SynthPacket {
                    at: p.at + ms(i),
                    ..p.clone()
                })
            }));
        }
        phone.skip(PTIME);
        return;
    }
    if let Some(pause) = extras
        .comfort_noise
        .filter(|p| (p.after..p.after + p.length).contains(&elapsed))
    {
        let ticks = elapsed.saturating_sub(pause.after).as_millis() / PTIME.as_millis();
        if ticks.is_multiple_of(u128::from(COMFORT_NOISE_EVERY)) {
            phone.emit_other(at, (COMFORT_NOISE, phone.timestamp()), &[0x40], out);
        }
        phone.skip(PTIME);
        return;
    }
    phone.emit(at, rng, out);
}

/// The stray packets of a call whose talk starts at `talk_start` (see
/// [`MediaExtras::stray_packets`]).
pub(crate) fn stray(
    call: &SynthCall,
    talk_start: Duration,
    rng: &mut Rng,
    out: &mut Vec<SynthPacket>,
) {
    let ep = call.endpoints;
    let fax_port = SocketAddr::new(
        ep.provider_rtp.ip(),
        40_000 + ep.provider_rtp.port() % 10_000,
    );
    let mut fax = RtpSender::new(call, fax_port, ep.phone_rtp, 2000.0, 0x3333);
    fax.skip(Duration::from_hours(1)); // a clock of its own, far from the call's
    let first = talk_start + Duration::from_secs(1);
    for i in 0..u32::from(call.extras.stray_packets) {
        fax.emit(first + PTIME * i, rng, out);
    }
}
