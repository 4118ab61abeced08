//! The policy at work: which new call a filter blocks and whether it is recorded, the
//! response that turns a blocked caller away (sent again for each retransmission of the
//! INVITE), and the one exception: a call set up over TCP is never blocked, since a TCP
//! segment cannot be dropped.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::{Tracker, Transmit, Verdict};
use crate::call::{Call, CallDirection, Disposition};
use crate::caller_id::CallerId;
use crate::filters::Filter;
use crate::sip::{response_to, Message, Method};
use crate::time::Timestamp;

impl Tracker {
    /// Runs `handle` (a [`Tracker::handle_sip`] of a message that came over TCP) with no
    /// filter able to block: Ringside never drops a TCP segment (the stream would stall, and
    /// every message after it with it), so the caller cannot be turned away and the call is
    /// tracked, logged and announced as it really goes. Returns what `handle` returned and
    /// the filter that would have blocked the call it started, so that the caller can say so.
    /// A panic in `handle` still ends the exception before it goes on: the agent survives
    /// engine panics and keeps this tracker, whose filters must block the next UDP call.
    pub fn without_blocking<T>(
        &mut self,
        handle: impl FnOnce(&mut Tracker) -> T,
    ) -> (T, Option<Filter>) {
        self.over_tcp = true;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(self)));
        self.over_tcp = false;
        let unblocked = self.unblocked.take();
        match result {
            Ok(result) => (result, unblocked),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// What the filters in force say about a new call with `party`: the filter that blocks
    /// it (inbound calls only; re-INVITEs never get here) and whether it is recorded.
    pub(super) fn decide(
        &mut self,
        party: &CallerId,
        direction: CallDirection,
    ) -> (Option<Filter>, bool) {
        let decision = self
            .policy
            .filters
            .decide(party, self.policy.record_by_default);
        let mut blocked_by = (direction == CallDirection::Inbound && decision.block.applies)
            .then_some(decision.block.filter)
            .flatten();
        if self.over_tcp {
            self.unblocked = blocked_by.take();
        }
        (blocked_by, decision.record.applies)
    }

    /// Ends a new call a filter blocked, turns the caller away as the settings say (its
    /// INVITE came from `src` to `dst`) and drops the INVITE.
    pub(super) fn turn_away(
        &mut self,
        now: Timestamp,
        mut call: Call,
        invite: &Message,
        (src, dst): (SocketAddr, SocketAddr),
    ) -> Verdict {
        let key = call.info().key;
        let response = self.policy.block_response.status().map(|(code, reason)| {
            let tag = format!("rs{:x}", key.0 ^ now.as_micros());
            response_to(invite, code, reason, &tag)
        });
        if let Some(payload) = &response {
            self.transmits.push_back(Transmit {
                src: dst,
                dst: src,
                payload: payload.clone(),
            });
        }
        let blocked = call.block(now, response);
        debug_assert!(blocked, "a call that just started is still calling");
        self.calls.insert(key, call);
        self.report_end(now, key, Disposition::Blocked);
        Verdict::Drop
    }
}

/// The verdict on a message of a call a filter blocked, sent from `src` to `dst`: what the
/// phone sends goes on; the INVITE again (a retransmission) gets the same answer again
/// (RFC 3261 §17.2.1) and, like its ACK, a CANCEL or anything else, never reaches the phone.
pub(super) fn answer(
    transmits: &mut VecDeque<Transmit>,
    call: &Call,
    message: &Message,
    (src, dst, sender_is_phone): (SocketAddr, SocketAddr, bool),
) -> Verdict {
    if sender_is_phone {
        return Verdict::Accept;
    }
    if message.method() == Some(&Method::Invite) {
        if let Some(payload) = call.turned_away() {
            transmits.push_back(Transmit {
                src: dst,
                dst: src,
                payload: payload.to_vec(),
            });
        }
    }
    Verdict::Drop
}
