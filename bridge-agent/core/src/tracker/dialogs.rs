//! SIP dialogs: a message finds its call by Call-ID and is handed to it, a new INVITE
//! starts a call (so does the INVITE a redirection asked for under the same Call-ID; the
//! filters decide on it first, see [`super::blocking`]; its direction [`super::direction`]),
//! a REGISTER teaches which side is the phone, and a `message-summary` NOTIFY says what
//! voicemail waits. What a message does to its call is the call's to decide ([`crate::call`]).

use std::net::SocketAddr;

use super::{blocking, Event, Tracker, Verdict};
use crate::call::{Call, CallDirection, CallInfo, CallKey};
use crate::caller_id::{called_party, caller_id};
use crate::sip::{HeaderName, Message, Method};
use crate::time::Timestamp;
use crate::voicemail::parse_message_summary;

impl Tracker {
    /// Takes a SIP message sent from `src` to `dst`. `from_phone` says which side sent it
    /// when the caller knows (the bridge port it came in on); otherwise addresses decide.
    /// Answers [`Verdict::Drop`] for what a blocked call sends toward the phone.
    pub fn handle_sip(
        &mut self,
        now: Timestamp,
        message: &Message,
        src: SocketAddr,
        dst: SocketAddr,
        from_phone: Option<bool>,
    ) -> Verdict {
        if message.method() == Some(&Method::Register) && from_phone != Some(false) {
            self.phones.registered_from(src.ip());
        }
        if message.method() == Some(&Method::Notify) && from_phone != Some(true) {
            self.take_voicemail(now, message, dst);
        }
        if let Some(&key) = self.by_call_id.get(message.call_id()) {
            let Some(call) = self.calls.get_mut(&key) else {
                return Verdict::Accept;
            };
            if call.is_forwarded_by(message) {
                return self.start_call(now, message, src, dst, from_phone);
            }
            let sender_is_phone = from_phone.unwrap_or_else(|| is_phone(call.info(), src));
            if call.info().blocked_by.is_some() {
                let route = (src, dst, sender_is_phone);
                return blocking::answer(&mut self.transmits, call, message, route);
            }
            let progress = call.handle_message(now, message, sender_is_phone);
            self.register_flows(key);
            self.report(now, key, progress);
            return Verdict::Accept;
        }
        let is_initial_invite = message.method() == Some(&Method::Invite)
            && message.to().is_some_and(|to| to.param("tag").is_none());
        if is_initial_invite {
            return self.start_call(now, message, src, dst, from_phone);
        }
        Verdict::Accept
    }

    /// A `message-summary` NOTIFY toward the phone: reported when what is waiting changes.
    fn take_voicemail(&mut self, now: Timestamp, message: &Message, phone: SocketAddr) {
        let is_summary = message
            .header(&HeaderName::Event)
            .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("message-summary"));
        let Some(summary) = is_summary
            .then(|| parse_message_summary(&message.body))
            .flatten()
        else {
            return;
        };
        if self.voicemail != Some(summary) {
            self.voicemail = Some(summary);
            self.events.push_back(Event::Voicemail {
                at: now,
                summary,
                phone,
            });
        }
    }

    fn start_call(
        &mut self,
        now: Timestamp,
        invite: &Message,
        src: SocketAddr,
        dst: SocketAddr,
        from_phone: Option<bool>,
    ) -> Verdict {
        let policy = &self.policy;
        let blocks_caller = || {
            caller_id(invite)
                .is_some_and(|caller| policy.filters.decide(&caller, false).block.applies)
        };
        let (direction, direction_source) =
            self.phones
                .decide(invite, (src, dst), from_phone, blocks_caller);
        let (party, phone, remote) = match direction {
            CallDirection::Outbound => (called_party(invite), src, dst),
            CallDirection::Inbound => (caller_id(invite), dst, src),
        };
        let Some(party) = party else {
            return Verdict::Accept;
        };
        if self.calls.len() >= self.config.max_calls {
            self.make_room(now);
        }
        let (blocked_by, record) = self.decide(&party, direction);
        let key = CallKey(self.next_key);
        self.next_key += 1;
        let info = CallInfo {
            key,
            call_id: invite.call_id().to_owned(),
            direction,
            direction_source,
            party,
            started_at: now,
            phone,
            remote,
            blocked_by,
        };
        self.events.push_back(Event::CallStarted(info.clone()));
        self.by_call_id.insert(info.call_id.clone(), key);
        let call = Call::new(info, invite, record);
        if call.info().blocked_by.is_some() {
            return self.turn_away(now, call, invite, (src, dst));
        }
        self.calls.insert(key, call);
        self.register_flows(key);
        Verdict::Accept
    }
}

/// Whether a message from `src` was sent by the phone of this call.
fn is_phone(info: &CallInfo, src: SocketAddr) -> bool {
    src == info.phone
        || (src != info.remote && src.ip() == info.phone.ip() && src.ip() != info.remote.ip())
}
