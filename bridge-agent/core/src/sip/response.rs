//! Responses Ringside sends on the phone's behalf: the `486 Busy Here` or `603 Decline` that
//! turns a blocked caller away (DESIGN rule 3), built from the INVITE as RFC 3261 §8.2.6
//! says a UAS builds one.

use super::header::HeaderName;
use super::message::Message;
use super::writer::MessageWriter;

/// The final response to `request` with `code` and `reason`: every Via in order, From,
/// To (with `to_tag` added unless the request's To has a tag), Call-ID and `CSeq` copied,
/// no body. The same request and tag give the same bytes, so retransmissions of the request
/// get identical answers.
#[must_use]
pub fn response_to(request: &Message, code: u16, reason: &str, to_tag: &str) -> Vec<u8> {
    let mut response = MessageWriter::response(code, reason);
    let to_has_tag = request.to().is_some_and(|to| to.param("tag").is_some());
    for (name, value) in request.all_headers() {
        match name {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                response.header(name, value);
            }
            HeaderName::To if to_has_tag => {
                response.header(name, value);
            }
            HeaderName::To => {
                response.header(name, format_args!("{value};tag={to_tag}"));
            }
            _ => {}
        }
    }
    response.header(&HeaderName::Server, "Ringside");
    response.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_datagram;

    const INVITE: &str = "INVITE sip:15550109999@192.168.1.20:5060 SIP/2.0\r\n\
        v: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-1;rport\r\n\
        Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-0, SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-x\r\n\
        Max-Forwards: 69\r\n\
        f: \"Spam Caller\" <sip:12125550100@203.0.113.5>;tag=abc\r\n\
        t: <sip:15550109999@192.168.1.20>\r\n\
        i: block-me@203.0.113.5\r\n\
        CSeq: 102 INVITE\r\n\
        Contact: <sip:12125550100@203.0.113.5>\r\n\
        Content-Type: application/sdp\r\n\
        l: 4\r\n\r\nv=0\n";

    /// The response the tracker sends is pinned to the byte: moving it onto the one SIP
    /// writer must not change what a provider receives.
    #[test]
    fn a_busy_response_is_written_byte_for_byte() {
        let invite = parse_datagram(INVITE.as_bytes())
            .expect("valid")
            .expect("whole");
        let bytes = response_to(&invite, 486, "Busy Here", "rs1234");
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "SIP/2.0 486 Busy Here\r\n\
             Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-1;rport\r\n\
             Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-0, SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-x\r\n\
             From: \"Spam Caller\" <sip:12125550100@203.0.113.5>;tag=abc\r\n\
             To: <sip:15550109999@192.168.1.20>;tag=rs1234\r\n\
             Call-ID: block-me@203.0.113.5\r\n\
             CSeq: 102 INVITE\r\n\
             Server: Ringside\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let tagged = INVITE.replace("t: <sip:15550109999@192.168.1.20>", "t: <sip:1@x>;tag=9");
        let invite = parse_datagram(tagged.as_bytes())
            .expect("valid")
            .expect("whole");
        let bytes = response_to(&invite, 603, "Decline", "rs1234");
        assert!(String::from_utf8_lossy(&bytes).contains("\r\nTo: <sip:1@x>;tag=9\r\n"));
    }

    /// A bare CR survives the parser's line splitting, and `response_to` used to copy it into
    /// the answer, where a provider splitting lines on CR read a header the caller wrote.
    #[test]
    fn a_bare_cr_in_a_copied_header_cannot_smuggle_a_header_into_the_answer() {
        let hostile = INVITE.replace(
            "i: block-me@203.0.113.5",
            "i: block-me@203.0.113.5\rX-Injected: yes",
        );
        let invite = parse_datagram(hostile.as_bytes())
            .expect("valid")
            .expect("whole");
        assert!(invite.call_id().contains('\r'), "the parser keeps the CR");
        let bytes = response_to(&invite, 486, "Busy Here", "rs1234");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("\r\nCall-ID: block-me@203.0.113.5 X-Injected: yes\r\n"),
            "{text:?}"
        );
        assert_eq!(text.matches('\r').count(), text.matches("\r\n").count());
    }

    #[test]
    fn a_busy_response_copies_the_transaction_headers_and_tags_to() {
        let invite = parse_datagram(INVITE.as_bytes())
            .expect("valid")
            .expect("whole");
        let bytes = response_to(&invite, 486, "Busy Here", "rs1234");
        let response = parse_datagram(&bytes).expect("valid").expect("whole");
        assert_eq!(response.status(), Some(486));
        let vias: Vec<&str> = response.headers(&HeaderName::Via).collect();
        assert_eq!(
            vias,
            [
                "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-1;rport",
                "SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-0, SIP/2.0/UDP 198.51.100.8;branch=z9hG4bK-x"
            ]
        );
        assert_eq!(response.call_id(), "block-me@203.0.113.5");
        assert_eq!(response.cseq(), invite.cseq());
        let to = response.to().expect("a To");
        assert_eq!(to.param("tag"), Some("rs1234"));
        assert_eq!(
            response
                .from()
                .and_then(|f| f.param("tag").map(str::to_owned)),
            Some("abc".to_owned())
        );
        assert!(response.body.is_empty());
        assert!(!String::from_utf8_lossy(&bytes).contains("Contact"));
        assert_eq!(bytes, response_to(&invite, 486, "Busy Here", "rs1234"));
    }
}
