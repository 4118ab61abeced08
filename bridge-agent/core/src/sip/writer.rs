//! The one SIP message writer: a start line, headers in the order given, then a body with
//! the Content-Length it really has. Ringside's own responses ([`super::response_to`]) and
//! the capture generator (`ringside-synth`) write SIP through it, and
//! [`super::parse_datagram`] reads back what it writes (`tests` below prove it).
//!
//! Values from the network pass through it (a blocked INVITE's Via, From, To ...), so nothing
//! given to it can end a line early: a CR or LF inside a header value or a reason phrase is
//! written as a space (what unfolding makes of a folded line, RFC 3261 §7.3.1), whitespace and
//! control characters in a Request-URI are percent-encoded, and a character a method or header
//! name may not hold (a token, RFC 3261 §25.1) is written as `-`.

use std::fmt::{self, Write as _};

use super::header::HeaderName;
use super::message::Method;

/// A SIP message being written: start line and headers so far. Finish it with
/// [`MessageWriter::finish`] (no body) or [`MessageWriter::finish_with_body`].
#[derive(Debug)]
#[must_use = "a message is only written by finishing it"]
pub struct MessageWriter {
    text: String,
}

impl MessageWriter {
    /// A request: `METHOD Request-URI SIP/2.0`.
    pub fn request(method: &Method, uri: &str) -> MessageWriter {
        let mut text = String::with_capacity(512);
        push_token(&mut text, method.as_str());
        text.push(' ');
        for c in uri.chars() {
            if c.is_whitespace() || c.is_control() {
                let mut utf8 = [0; 4];
                for byte in c.encode_utf8(&mut utf8).bytes() {
                    let _ = write!(text, "%{byte:02X}");
                }
            } else {
                text.push(c);
            }
        }
        text.push_str(" SIP/2.0\r\n");
        MessageWriter { text }
    }

    /// A response: `SIP/2.0 CODE Reason`; `code` is 100..=699 for the message to be valid.
    pub fn response(code: u16, reason: &str) -> MessageWriter {
        let mut text = String::with_capacity(512);
        let _ = write!(text, "SIP/2.0 {code} ");
        push_field(&mut text, reason);
        text.push_str("\r\n");
        MessageWriter { text }
    }

    /// Adds a header line after the ones written so far. Content-Length and Content-Type
    /// belong to the body, which the finishing call writes: given here, they are left out.
    pub fn header(&mut self, name: &HeaderName, value: impl fmt::Display) -> &mut MessageWriter {
        if matches!(name, HeaderName::ContentLength | HeaderName::ContentType) {
            return self;
        }
        push_token(&mut self.text, name.as_str());
        self.text.push_str(": ");
        push_field(&mut self.text, value);
        self.text.push_str("\r\n");
        self
    }

    /// The message without a body: `Content-Length: 0` and the blank line.
    #[must_use]
    pub fn finish(mut self) -> Vec<u8> {
        self.text.push_str("Content-Length: 0\r\n\r\n");
        self.text.into_bytes()
    }

    /// The message with `body` of `content_type`: Content-Type, Content-Length (the body's
    /// length in bytes), the blank line and the body.
    #[must_use]
    pub fn finish_with_body(mut self, content_type: &str, body: &[u8]) -> Vec<u8> {
        self.text.push_str("Content-Type: ");
        push_field(&mut self.text, content_type);
        let _ = write!(self.text, "\r\nContent-Length: {}\r\n\r\n", body.len());
        let mut bytes = self.text.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }
}

/// Appends `token`, each character a token may not hold written as `-` (an empty one as `-`).
fn push_token(text: &mut String, token: &str) {
    if token.is_empty() {
        text.push('-');
    }
    text.extend(token.chars().map(|c| {
        let allowed = c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c);
        if allowed {
            c
        } else {
            '-'
        }
    }));
}

/// Appends `value` with every CR and LF written as a space, so it stays on its line.
fn push_field(text: &mut String, value: impl fmt::Display) {
    let start = text.len();
    // Writing to a String cannot fail.
    let _ = write!(text, "{value}");
    if text[start..].contains(['\r', '\n']) {
        let value = text.split_off(start).replace(['\r', '\n'], " ");
        text.push_str(&value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_datagram;

    #[test]
    fn a_request_has_its_headers_in_order_and_the_body_its_length() {
        let mut message = MessageWriter::request(&Method::Invite, "sip:1@[2001:db8::20]:5060");
        message
            .header(&HeaderName::Via, "SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-1")
            .header(&HeaderName::Other("Max-Forwards".into()), 70)
            .header(&HeaderName::From, "<sip:2@x>;tag=a")
            .header(&HeaderName::To, "<sip:1@y>")
            .header(&HeaderName::CallId, format_args!("c{}", 1))
            .header(&HeaderName::CSeq, "1 INVITE");
        let bytes = message.finish_with_body("application/sdp", "v=0\r\né\r\n".as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "INVITE sip:1@[2001:db8::20]:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:2@x>;tag=a\r\nTo: <sip:1@y>\r\nCall-ID: c1\r\n\
             CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 9\r\n\r\n\
             v=0\r\né\r\n",
            "the length counts bytes, not characters"
        );
    }

    #[test]
    fn a_response_without_a_body_says_content_length_zero() {
        let mut message = MessageWriter::response(180, "Ringing");
        message.header(&HeaderName::To, "<sip:1@y>;tag=b");
        assert_eq!(
            message.finish(),
            b"SIP/2.0 180 Ringing\r\nTo: <sip:1@y>;tag=b\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn a_content_length_given_as_a_header_cannot_contradict_the_body() {
        let mut message = MessageWriter::response(200, "OK");
        message
            .header(&HeaderName::ContentLength, 999)
            .header(&HeaderName::ContentType, "text/plain");
        let text = String::from_utf8(message.finish_with_body("application/sdp", b"v=0\r\n"))
            .expect("UTF-8");
        assert_eq!(text.matches("Content-Length").count(), 1, "{text}");
        assert_eq!(text.matches("Content-Type").count(), 1, "{text}");
        assert!(text.contains("Content-Length: 5\r\n"), "{text}");
    }

    /// A header value copied from a hostile request (a bare CR survives line splitting)
    /// must not end its line and smuggle a header of its own into Ringside's answer.
    #[test]
    fn line_breaks_in_values_cannot_start_a_line_of_their_own() {
        let mut message = MessageWriter::request(&Method::Other("BYE\r\nX".into()), "sip:a b\r\n");
        message
            .header(
                &HeaderName::Other("X:Y\r\nZ".into()),
                "1\rInjected: yes\nMore: 2",
            )
            .header(&HeaderName::Other(String::new()), "empty name");
        let text = String::from_utf8(message.finish()).expect("UTF-8");
        assert_eq!(
            text,
            "BYE--X sip:a%20b%0D%0A SIP/2.0\r\nX-Y--Z: 1 Injected: yes More: 2\r\n\
             -: empty name\r\nContent-Length: 0\r\n\r\n"
        );
        let mut response = MessageWriter::response(486, "Busy\r\nVia: x");
        response.header(&HeaderName::CallId, "x");
        assert!(String::from_utf8_lossy(&response.finish())
            .starts_with("SIP/2.0 486 Busy  Via: x\r\nCall-ID"));
    }

    #[test]
    fn what_it_writes_is_parsed_back() {
        let mut message = MessageWriter::request(&Method::Notify, "sip:1@x");
        message
            .header(&HeaderName::From, "<sip:vm@x>;tag=1")
            .header(&HeaderName::To, "<sip:1@x>")
            .header(&HeaderName::CallId, "mwi")
            .header(&HeaderName::CSeq, "3 NOTIFY");
        let bytes = message.finish_with_body("application/simple-message-summary", b"a\r\n");
        let parsed = parse_datagram(&bytes).expect("valid").expect("a message");
        assert_eq!(parsed.method(), Some(&Method::Notify));
        assert_eq!(parsed.cseq().number, 3);
        assert_eq!(parsed.body, b"a\r\n");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::sip::{parse_datagram, StartLine};
    use proptest::prelude::*;

    /// A header value as the parser keeps it: any characters but CR and LF, no whitespace at
    /// either end (the parser trims it).
    fn value() -> impl Strategy<Value = String> {
        "[^\r\n]{0,30}".prop_map(|v| v.trim().to_owned())
    }

    /// Headers besides the four every message needs (which the test writes first).
    fn extra_header() -> impl Strategy<Value = (HeaderName, String)> {
        let name = prop_oneof![
            Just(HeaderName::Via),
            Just(HeaderName::Contact),
            Just(HeaderName::PAssertedIdentity),
            Just(HeaderName::RemotePartyId),
            Just(HeaderName::Privacy),
            Just(HeaderName::Event),
            Just(HeaderName::Server),
            "X-[A-Za-z0-9.!%*_+`'~-]{1,12}".prop_map(HeaderName::Other),
        ];
        (name, value())
    }

    fn start_line() -> impl Strategy<Value = StartLine> {
        let method = prop_oneof![
            Just(Method::Invite),
            Just(Method::Ack),
            Just(Method::Bye),
            Just(Method::Cancel),
            Just(Method::Register),
            Just(Method::Notify),
            "X[A-Z.!%*_+`'~-]{0,8}".prop_map(Method::Other),
        ];
        let request = (method, "sip:[a-z0-9@.;=:_-]{1,24}")
            .prop_map(|(method, uri)| StartLine::Request { method, uri });
        let response = (100u16..=699, "[^\r\n]{0,20}")
            .prop_map(|(code, reason)| StartLine::Response { code, reason });
        prop_oneof![request, response]
    }

    proptest! {
        #[test]
        fn what_the_writer_writes_parses_back_to_the_same_message(
            start in start_line(),
            required in prop::collection::vec(value().prop_filter("not empty", |v| !v.is_empty()), 3),
            cseq in 0u32..1 << 31,
            extra in prop::collection::vec(extra_header(), 0..8),
            body in prop::option::of(("[a-z]{1,10}/[a-z.+-]{1,20}", prop::collection::vec(any::<u8>(), 0..200))),
        ) {
            let (mut message, cseq_method) = match &start {
                StartLine::Request { method, uri } => (MessageWriter::request(method, uri), method.clone()),
                StartLine::Response { code, reason } => (MessageWriter::response(*code, reason), Method::Invite),
            };
            let mut headers = vec![
                (HeaderName::From, required[0].clone()),
                (HeaderName::To, required[1].clone()),
                (HeaderName::CallId, required[2].clone()),
                (HeaderName::CSeq, format!("{cseq} {}", cseq_method.as_str())),
            ];
            headers.extend(extra);
            for (name, value) in &headers {
                message.header(name, value);
            }
            let bytes = if let Some((content_type, body)) = &body {
                headers.push((HeaderName::ContentType, content_type.clone()));
                headers.push((HeaderName::ContentLength, body.len().to_string()));
                message.finish_with_body(content_type, body)
            } else {
                headers.push((HeaderName::ContentLength, "0".to_owned()));
                message.finish()
            };
            let parsed = parse_datagram(&bytes).expect("valid").expect("a message");
            prop_assert_eq!(&parsed.start, &start);
            prop_assert_eq!(parsed.all_headers(), headers.as_slice());
            prop_assert_eq!(&parsed.body, &body.map(|(_, b)| b).unwrap_or_default());
        }
    }
}
