//! Media flows: which call an RTP packet belongs to, found by the media addresses the calls'
//! SDP announced, and the hand-off of each packet to its call. This is the per-packet hot
//! path: one or two hash look-ups and no allocation (but for a packet that is kept raw or
//! carries a beep).
//!
//! A packet joins a call only when its source is one the SDP vouches for:
//!
//! - sent *to* a side's SDP address from the other side's SDP address, or from the one source
//!   latched there: the first packet to the address latches its source (symmetric RTP
//!   learned, for a far end that sends from elsewhere than it receives), and a packet from
//!   the other side's SDP address takes the latch over;
//! - sent *from* a side's SDP address (symmetric RTP) to anywhere.
//!
//! Anything else on a call's address (a fax adapter's T.38 port, a second source on the
//! port) is stray: counted on the call, never mixed, never loss, never a side of the call.
//! The payload type is the call's to judge ([`crate::call`]).
//!
//! A re-INVITE that moves a side's media to a new address registers the new address at
//! once and keeps the old one until the new one carries a packet: packets still in flight to
//! the old address are the call's, and from then on only the new address is. Each leg's
//! loss count starts afresh at the move (a new sequence space, often a new SSRC).

use std::net::SocketAddr;

use super::{push_audio, Event, HashMap, Tracker};
use crate::call::{CallKey, Heard, Progress};
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
    /// On a call's media address, but from a source or of a payload type its SDP does not
    /// vouch for: counted on the call, not mixed.
    Stray,
    /// Taken by a call.
    Taken,
    /// Taken, and to be sent on with this UDP payload instead (a courtesy beep).
    Rewritten(Vec<u8>),
}

/// A media address of a call, as a flow table holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Flow {
    /// The call whose SDP announced the address.
    call: CallKey,
    /// Whose voice travels through it: sent to the address (in `flows_to`), or from it
    /// (in `flows_from`).
    voice: Channel,
    /// In `flows_to` only: the source latched by the first packet to the address.
    latched: Option<SocketAddr>,
    /// Announced by a re-INVITE that moved its side's media: the first packet through it
    /// retires the address it replaced.
    moved: bool,
}

/// Which call a packet belongs to, if any.
enum Match {
    /// Not on any call's address.
    None,
    /// On a call's address from a source the SDP does not vouch for.
    Stray(CallKey),
    /// The voice of `voice` in `call`; `moved` when it is the first through a new address.
    Joined {
        call: CallKey,
        voice: Channel,
        via: SocketAddr,
        moved: bool,
    },
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
        // Only RTP may latch a source or settle a move; other bytes on a call's address are
        // counted as malformed (or stray, from a source the call does not know).
        let rtp = RtpPacket::new_checked(payload);
        let (key, channel) = match self.match_flow(src, dst, rtp.is_ok()) {
            Match::None => return RtpOutcome::NoFlow,
            Match::Stray(key) => {
                if let Some(call) = self.calls.get_mut(&key) {
                    call.count_stray();
                }
                return RtpOutcome::Stray;
            }
            Match::Joined {
                call,
                voice,
                via,
                moved,
            } => {
                if moved && rtp.is_ok() {
                    self.settle_move(call, voice, via, src);
                }
                (call, voice)
            }
        };
        let Ok(packet) = rtp else {
            return RtpOutcome::Malformed;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return RtpOutcome::NoFlow;
        };
        let beeps = can_rewrite && self.policy.courtesy_beeps;
        let (progress, heard) = call.handle_rtp(now, channel, &packet, beeps);
        // Almost every packet changes nothing in the dialog: the call is looked up again only
        // after one that did (reporting it needs the whole tracker).
        let call = if progress == Progress::Nothing {
            call
        } else {
            self.report(now, key, progress);
            let Some(call) = self.calls.get_mut(&key) else {
                return RtpOutcome::Taken;
            };
            call
        };
        match heard {
            Heard::Nothing => {}
            Heard::Stray => return RtpOutcome::Stray,
            Heard::Audio => push_audio(&mut self.events, key, call, self.chunk_frames),
            Heard::Beeped(rewritten) => {
                push_audio(&mut self.events, key, call, self.chunk_frames);
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

    /// Finds the call of a packet by its addresses, latching the source of the first RTP
    /// packet (`is_rtp`) sent to a call's address. One hash look-up for the usual packet (to
    /// an address, from its latched source), two otherwise.
    fn match_flow(&mut self, src: SocketAddr, dst: SocketAddr, is_rtp: bool) -> Match {
        let Some(to) = self.flows_to.get_mut(&dst) else {
            return (self.flows_from.get(&src)).map_or(Match::None, |&f| joined(f, src));
        };
        let latched = if is_rtp {
            *to.latched.get_or_insert(src)
        } else {
            to.latched.unwrap_or(src)
        };
        if latched == src {
            return joined(*to, dst);
        }
        let call = to.call;
        let voice = to.voice;
        // The sender's SDP address vouches for its packets, whatever was latched, and takes
        // the latch over: a stray source that spoke first is stray from then on.
        match self.flows_from.get(&src) {
            Some(&f) if f.call == call && f.voice == voice => {
                if let Some(to) = self.flows_to.get_mut(&dst).filter(|_| is_rtp) {
                    to.latched = Some(src);
                }
                joined(f, src)
            }
            _ => Match::Stray(call),
        }
    }

    /// The call whose media travels from `src` to `dst`.
    #[must_use]
    pub fn call_of_flow(&self, src: SocketAddr, dst: SocketAddr) -> Option<CallKey> {
        let flow = self
            .flows_to
            .get(&dst)
            .or_else(|| self.flows_from.get(&src));
        flow.map(|f| f.call)
    }

    /// Maps the media addresses the call's SDP announced (so far) to the call. An address
    /// already mapped to the same voice of the call keeps its latch; one that replaces an
    /// address its side announced before is marked moved (see the module doc).
    pub(super) fn register_flows(&mut self, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let known = self.flow_addresses.entry(key).or_default();
        for (sender, at) in call.media_addresses() {
            // Packets sent to the address carry the other side's voice; packets sent from
            // it (symmetric RTP) carry the voice of the side that announced it.
            let voice_to = match sender {
                Channel::Phone => Channel::Remote,
                Channel::Remote => Channel::Phone,
            };
            let same = |f: &Flow| f.call == key && f.voice == sender;
            if self.flows_from.get(&at).is_some_and(same) {
                continue;
            }
            // Before any media, a new address is the offer/answer settling, not a move.
            let moved = call.has_had_media()
                && known
                    .iter()
                    .any(|old| self.flows_from.get(old).is_some_and(same));
            let flow = |voice| Flow {
                call: key,
                voice,
                latched: None,
                moved,
            };
            self.flows_to.insert(at, flow(voice_to));
            self.flows_from.insert(at, flow(sender));
            if !known.contains(&at) {
                known.push(at);
            }
        }
    }

    /// The first packet through `via`, an address a re-INVITE moved media to, carrying the
    /// voice of `voice` from `src`: the addresses it replaced stop being the call's, the
    /// address that receives this voice latches its new source, and each leg's loss count
    /// starts afresh.
    fn settle_move(&mut self, key: CallKey, voice: Channel, via: SocketAddr, src: SocketAddr) {
        for flows in [&mut self.flows_to, &mut self.flows_from] {
            if let Some(flow) = flows.get_mut(&via).filter(|f| f.call == key) {
                flow.moved = false;
            }
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.media_moved();
        let current: Vec<SocketAddr> = call.media_addresses().map(|(_, at)| at).collect();
        for at in &current {
            let receiving = self.flows_to.get_mut(at);
            if let Some(flow) = receiving.filter(|f| f.call == key && f.voice == voice) {
                flow.latched = Some(src);
            }
        }
        let known = self.flow_addresses.entry(key).or_default();
        let retired: Vec<SocketAddr> = known
            .iter()
            .copied()
            .filter(|at| !current.contains(at))
            .collect();
        known.retain(|at| current.contains(at));
        for at in retired {
            unmap(&mut self.flows_to, &mut self.flows_from, key, at);
        }
    }

    /// Unmaps the call's media addresses (those another call took over since stay its).
    pub(super) fn forget_flows(&mut self, key: CallKey) {
        for at in self.flow_addresses.remove(&key).unwrap_or_default() {
            unmap(&mut self.flows_to, &mut self.flows_from, key, at);
        }
    }
}

/// A packet joined to the call of `flow`, through the address `via`.
fn joined(flow: Flow, via: SocketAddr) -> Match {
    Match::Joined {
        call: flow.call,
        voice: flow.voice,
        via,
        moved: flow.moved,
    }
}

/// Removes `at` from both tables where it still belongs to `key`.
fn unmap(
    to: &mut HashMap<SocketAddr, Flow>,
    from: &mut HashMap<SocketAddr, Flow>,
    key: CallKey,
    at: SocketAddr,
) {
    for flows in [to, from] {
        if flows.get(&at).is_some_and(|f| f.call == key) {
            flows.remove(&at);
        }
    }
}

#[cfg(test)]
mod tests;
