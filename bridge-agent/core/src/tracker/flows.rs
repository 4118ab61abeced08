//! Media flows: which call an RTP packet belongs to, found by the media addresses the calls'
//! SDP announced (packets sent *to* an address, or *from* it with symmetric RTP), and the
//! hand-off of each packet to its call. This is the per-packet hot path: one or two hash
//! look-ups and no allocation (but for a packet that is kept raw or carries a beep).

use std::net::SocketAddr;

use super::{push_audio, Event, Tracker};
use crate::call::{CallKey, Heard};
use crate::mixer::Channel;
use crate::rtp::RtpPacket;
use crate::time::Timestamp;

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

impl Tracker {
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
        let beeps = can_rewrite && self.policy.courtesy_beeps;
        let (progress, heard) = call.handle_rtp(now, channel, &packet, beeps);
        self.report(now, key, progress);
        let Some(call) = self.calls.get_mut(&key) else {
            return RtpOutcome::Taken;
        };
        match heard {
            Heard::Nothing => {}
            Heard::Audio => push_audio(&mut self.events, key, call, self.listening),
            Heard::Beeped(rewritten) => {
                push_audio(&mut self.events, key, call, self.listening);
                return RtpOutcome::Rewritten(rewritten);
            }
            Heard::Raw => self.events.push_back(Event::RawRtp {
                call: key,
                at: now,
                src,
                dst,
                payload: payload.to_vec(),
            }),
        }
        RtpOutcome::Taken
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

    /// Maps the media addresses the call's SDP announced (so far) to the call.
    pub(super) fn register_flows(&mut self, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        for (sender, at) in call.media_addresses() {
            // Packets sent to the address carry the other side's voice; packets sent from
            // it (symmetric RTP) carry the voice of the side that announced it.
            let voice_to = match sender {
                Channel::Phone => Channel::Remote,
                Channel::Remote => Channel::Phone,
            };
            self.flows_to.insert(at, (key, voice_to));
            self.flows_from.insert(at, (key, sender));
            let addresses = self.flow_addresses.entry(key).or_default();
            if !addresses.contains(&at) {
                addresses.push(at);
            }
        }
    }

    /// Unmaps the call's media addresses (those another call took over since stay its).
    pub(super) fn forget_flows(&mut self, key: CallKey) {
        for at in self.flow_addresses.remove(&key).unwrap_or_default() {
            for flows in [&mut self.flows_to, &mut self.flows_from] {
                if flows.get(&at).is_some_and(|(k, _)| *k == key) {
                    flows.remove(&at);
                }
            }
        }
    }
}
