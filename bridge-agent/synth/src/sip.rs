//! The SIP messages of generated calls, written with the core's one SIP writer
//! ([`MessageWriter`]): requests and responses that copy Via, From, To, Call-ID and `CSeq` as
//! RFC 3261 §8.2.6 says, the SDP offers and answers, the phone's REGISTER and the provider's
//! voicemail NOTIFY.

use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::call::CallDirection;
use ringside_core::sip::{HeaderName, MessageWriter, Method};

use crate::call::{Endpoints, SynthCall, SynthPacket};
use crate::rtp::codec_pt;

/// Writes the SIP messages of one call.
pub(crate) struct Sip<'a> {
    /// The call whose numbers, Call-ID, addresses and codec the messages carry.
    pub(crate) call: &'a SynthCall,
    /// Whether the call was redirected: requests go to [`FORWARD_TARGET`] from then on.
    pub(crate) forwarded: bool,
}

/// Where a redirected call is sent (the 302's Contact).
pub(crate) const FORWARD_TARGET: &str = "sip:15550100199@forward.example";

impl Sip<'_> {
    /// From and To (with the callee's tag once it has answered), and for a withheld caller
    /// the identity the provider asserts with `Privacy: id`.
    fn party_headers(&self, message: &mut MessageWriter, with_to_tag: bool) {
        let call = self.call;
        let to_tag = if with_to_tag { ";tag=callee-tag" } else { "" };
        if call.direction == CallDirection::Outbound {
            message
                .header(
                    &HeaderName::From,
                    "\"Home\" <sip:15550109999@provider.example>;tag=caller-tag",
                )
                .header(
                    &HeaderName::To,
                    format_args!("<sip:{}@provider.example>{to_tag}", call.number),
                );
            return;
        }
        let from = if call.anonymous {
            "\"Anonymous\" <sip:anonymous@anonymous.invalid>".to_owned()
        } else {
            let name = call
                .name
                .as_deref()
                .map(|n| format!("\"{n}\" "))
                .unwrap_or_default();
            format!("{name}<sip:{}@provider.example>", call.number)
        };
        message
            .header(&HeaderName::From, format_args!("{from};tag=caller-tag"))
            .header(
                &HeaderName::To,
                format_args!("<sip:15550109999@provider.example>{to_tag}"),
            );
        if call.anonymous {
            message
                .header(
                    &HeaderName::PAssertedIdentity,
                    format_args!("<sip:+{}@provider.example>", call.number),
                )
                .header(&HeaderName::Privacy, "id");
        }
    }

    /// A request of this call sent from `from`, with an SDP body when given; its branch is
    /// the call's and the `CSeq`'s.
    pub(crate) fn request(
        &self,
        method: &Method,
        cseq: u32,
        from: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> Vec<u8> {
        let branch = format!("z9hG4bK-{}-{cseq}", self.call.call_id);
        self.request_on(method, (cseq, &branch), from, sdp, with_to_tag)
    }

    /// The same on a branch of the caller's choosing (the ACK of a 2xx has one of its own).
    pub(crate) fn request_on(
        &self,
        method: &Method,
        (cseq, branch): (u32, &str),
        from: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> Vec<u8> {
        let call = self.call;
        let uri = if self.forwarded {
            FORWARD_TARGET.to_owned()
        } else if call.direction == CallDirection::Outbound && from == call.endpoints.phone_sip {
            // The phone calling out sends to the callee's address of record, through its proxy
            // (RFC 3261 §8.1.1.1); the provider reaches the phone at the contact it registered.
            format!("sip:{}@provider.example", call.number)
        } else {
            format!("sip:15550109999@{}", call.endpoints.phone_sip)
        };
        let mut message = MessageWriter::request(method, &uri);
        message
            .header(
                &HeaderName::Via,
                format_args!("SIP/2.0/UDP {from};branch={branch}"),
            )
            .header(&max_forwards(), 70);
        self.party_headers(&mut message, with_to_tag);
        message
            .header(&HeaderName::CallId, &call.call_id)
            .header(
                &HeaderName::CSeq,
                format_args!("{cseq} {}", method.as_str()),
            )
            .header(&HeaderName::Contact, format_args!("<sip:{from}>"));
        finish(message, sdp)
    }

    /// A response to the request `cseq` `method` that came from `via`.
    pub(crate) fn response(
        &self,
        (code, reason): (u16, &str),
        cseq: u32,
        method: &Method,
        via: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> Vec<u8> {
        let call = self.call;
        let mut message = MessageWriter::response(code, reason);
        message.header(
            &HeaderName::Via,
            format_args!("SIP/2.0/UDP {via};branch=z9hG4bK-{}-{cseq}", call.call_id),
        );
        self.party_headers(&mut message, with_to_tag);
        message.header(&HeaderName::CallId, &call.call_id).header(
            &HeaderName::CSeq,
            format_args!("{cseq} {}", method.as_str()),
        );
        if (300..400).contains(&code) {
            message.header(&HeaderName::Contact, format_args!("<{FORWARD_TARGET}>"));
        }
        finish(message, sdp)
    }

    /// An SDP offer or answer: media of the call's codec (and telephone events) at `rtp`,
    /// in `direction` (`sendrecv`, `sendonly`, `recvonly`).
    pub(crate) fn sdp(&self, rtp: SocketAddr, direction: &str) -> String {
        let (pt, name) = codec_pt(self.call.codec);
        let family = if rtp.is_ipv4() { "IP4" } else { "IP6" };
        format!(
            "v=0\r\no=- 1 1 IN {family} {ip}\r\ns=-\r\nc=IN {family} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {name}/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na={direction}\r\n",
            ip = rtp.ip(),
            port = rtp.port()
        )
    }
}

fn finish(message: MessageWriter, sdp: Option<String>) -> Vec<u8> {
    match sdp {
        Some(body) => message.finish_with_body("application/sdp", body.as_bytes()),
        None => message.finish(),
    }
}

fn max_forwards() -> HeaderName {
    HeaderName::Other("Max-Forwards".to_owned())
}

/// The phone's REGISTER to its provider, the `n`th phone address of the capture.
pub(crate) fn register(phone: SocketAddr, n: usize) -> Vec<u8> {
    let mut message = MessageWriter::request(&Method::Register, "sip:provider.example");
    message
        .header(
            &HeaderName::Via,
            format_args!("SIP/2.0/UDP {phone};branch=z9hG4bK-reg-{n}"),
        )
        .header(&max_forwards(), 70)
        .header(
            &HeaderName::From,
            "<sip:15550109999@provider.example>;tag=reg",
        )
        .header(&HeaderName::To, "<sip:15550109999@provider.example>")
        .header(&HeaderName::CallId, format_args!("register-{n}@{phone}"))
        .header(&HeaderName::CSeq, "1 REGISTER")
        .header(
            &HeaderName::Contact,
            format_args!("<sip:15550109999@{phone}>"),
        )
        .header(&HeaderName::Other("Expires".to_owned()), 3600);
    message.finish()
}

/// The provider's message-waiting NOTIFY to the phone (RFC 3842): `new` and `old` voice
/// messages; `cseq` makes each one its own transaction.
#[must_use]
pub fn voicemail_notify(
    at: Duration,
    endpoints: Endpoints,
    cseq: u32,
    new: u32,
    old: u32,
) -> SynthPacket {
    let waiting = if new > 0 { "yes" } else { "no" };
    let body = format!("Messages-Waiting: {waiting}\r\nVoice-Message: {new}/{old} (0/0)\r\n");
    let (provider, phone) = (endpoints.provider_sip, endpoints.phone_sip);
    let mut message = MessageWriter::request(&Method::Notify, &format!("sip:15550109999@{phone}"));
    message
        .header(
            &HeaderName::Via,
            format_args!("SIP/2.0/UDP {provider};branch=z9hG4bK-mwi-{cseq}"),
        )
        .header(&HeaderName::From, "<sip:voicemail@provider.example>;tag=vm")
        .header(&HeaderName::To, "<sip:15550109999@provider.example>;tag=ph")
        .header(&HeaderName::CallId, "mwi@provider.example")
        .header(&HeaderName::CSeq, format_args!("{cseq} NOTIFY"))
        .header(&HeaderName::Event, "message-summary");
    SynthPacket {
        at,
        src: provider,
        dst: phone,
        payload: message.finish_with_body("application/simple-message-summary", body.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDP of an IPv6 call said `IN IP4` before an IPv6 address (RFC 4566 §5.7 wants
    /// `IN IP6`); a stricter reader than ours would have found no media address.
    #[test]
    fn an_ipv6_call_offers_its_media_as_ip6() {
        let mut call = SynthCall::inbound(1, "15550100001", None);
        let sip = Sip {
            call: &call,
            forwarded: false,
        };
        let v4 = sip.sdp(call.endpoints.provider_rtp, "sendrecv");
        assert!(v4.contains("\r\nc=IN IP4 203.0.113.5\r\n"), "{v4}");
        call.endpoints = Endpoints::between(
            "2001:db8::5".parse().expect("IPv6"),
            "2001:db8::20".parse().expect("IPv6"),
            1,
            5060,
        );
        let sip = Sip {
            call: &call,
            forwarded: false,
        };
        let v6 = sip.sdp(call.endpoints.provider_rtp, "sendrecv");
        assert!(v6.contains("o=- 1 1 IN IP6 2001:db8::5\r\n"), "{v6}");
        assert!(v6.contains("\r\nc=IN IP6 2001:db8::5\r\n"), "{v6}");
    }
}
