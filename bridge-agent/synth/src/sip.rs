//! The SIP text of generated calls: requests and responses that copy Via, From, To, Call-ID
//! and `CSeq` as RFC 3261 §8.2.6 says, the SDP offers and answers, the phone's REGISTER and
//! the provider's voicemail NOTIFY.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use ringside_core::call::CallDirection;

use crate::call::{Endpoints, SynthCall, SynthPacket};
use crate::rtp::codec_pt;

/// Writes SIP text for one call. Requests and responses copy Via, From, To, Call-ID and
/// `CSeq` as RFC 3261 §8.2.6 says.
pub(crate) struct Sip<'a> {
    pub(crate) call: &'a SynthCall,
}

impl Sip<'_> {
    fn party_headers(&self, with_to_tag: bool) -> String {
        let call = self.call;
        let to_tag = if with_to_tag { ";tag=callee-tag" } else { "" };
        if call.direction == CallDirection::Outbound {
            return format!(
                "From: \"Home\" <sip:15550109999@provider.example>;tag=caller-tag\r\nTo: <sip:{}@provider.example>{to_tag}\r\n",
                call.number
            );
        }
        if call.anonymous {
            return format!(
                "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=caller-tag\r\nTo: <sip:15550109999@provider.example>{to_tag}\r\n\
                 P-Asserted-Identity: <sip:+{}@provider.example>\r\nPrivacy: id\r\n",
                call.number
            );
        }
        let name = call
            .name
            .as_deref()
            .map(|n| format!("\"{n}\" "))
            .unwrap_or_default();
        format!(
            "From: {name}<sip:{}@provider.example>;tag=caller-tag\r\nTo: <sip:15550109999@provider.example>{to_tag}\r\n",
            call.number
        )
    }

    pub(crate) fn request(
        &self,
        method: &str,
        cseq: u32,
        from: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> String {
        let call = self.call;
        let mut text = format!(
            "{method} sip:15550109999@{} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-{}-{cseq}\r\nMax-Forwards: 70\r\n{}Call-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{from}>\r\n",
            call.endpoints.phone_sip,
            call.call_id,
            self.party_headers(with_to_tag),
            call.call_id
        );
        finish(&mut text, sdp);
        text
    }

    pub(crate) fn response(
        &self,
        (code, reason): (u16, &str),
        cseq: u32,
        method: &str,
        via: SocketAddr,
        sdp: Option<String>,
        with_to_tag: bool,
    ) -> String {
        let call = self.call;
        let mut text = format!(
            "SIP/2.0 {code} {reason}\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK-{}-{cseq}\r\n{}Call-ID: {}\r\nCSeq: {cseq} {method}\r\n",
            call.call_id,
            self.party_headers(with_to_tag),
            call.call_id
        );
        finish(&mut text, sdp);
        text
    }

    pub(crate) fn sdp(&self, rtp: SocketAddr, direction: &str) -> String {
        let (pt, name) = codec_pt(self.call.codec);
        format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {name}/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na={direction}\r\n",
            ip = rtp.ip(),
            port = rtp.port()
        )
    }
}

fn finish(text: &mut String, sdp: Option<String>) {
    match sdp {
        Some(body) => {
            let _ = write!(
                text,
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
        None => text.push_str("Content-Length: 0\r\n\r\n"),
    }
}

/// The phone's REGISTER to its provider, the `n`th phone address of the capture.
pub(crate) fn register(phone: SocketAddr, n: usize) -> String {
    format!(
        "REGISTER sip:provider.example SIP/2.0\r\nVia: SIP/2.0/UDP {phone};branch=z9hG4bK-reg-{n}\r\nMax-Forwards: 70\r\n\
         From: <sip:15550109999@provider.example>;tag=reg\r\nTo: <sip:15550109999@provider.example>\r\n\
         Call-ID: register-{n}@{phone}\r\nCSeq: 1 REGISTER\r\nContact: <sip:15550109999@{phone}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
    )
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
    let payload = format!(
        "NOTIFY sip:15550109999@{phone} SIP/2.0\r\nVia: SIP/2.0/UDP {provider};branch=z9hG4bK-mwi-{cseq}\r\n\
         From: <sip:voicemail@provider.example>;tag=vm\r\nTo: <sip:15550109999@provider.example>;tag=ph\r\n\
         Call-ID: mwi@provider.example\r\nCSeq: {cseq} NOTIFY\r\nEvent: message-summary\r\n\
         Content-Type: application/simple-message-summary\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    SynthPacket {
        at,
        src: provider,
        dst: phone,
        payload: payload.into_bytes(),
    }
}
