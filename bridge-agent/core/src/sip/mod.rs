//! Our SIP wrapper: the only place that knows how SIP text is laid out.
//!
//! Messages are framed and their headers read here (compact names, folded lines, LF-only
//! line ends, one message per datagram, several in a stream or a text trace), and URIs and
//! name-addrs read. All of it is ours, not a SIP crate's: the crates looked at refuse real
//! providers' messages that caller-ID must read (DESIGN-NOTES.md, "SIP parsing"). The rest of
//! the core sees only the types of this module, so a crate could still take over here alone.

pub mod framing;
pub mod header;
pub mod message;
pub mod name_addr;
pub mod response;
pub mod uri;
pub mod writer;

pub use framing::{parse_datagram, read_datagram, split_stream, split_trace, BodyFraming};
pub use header::HeaderName;
pub use message::{CSeq, Message, Method, ParseError, StartLine};
pub use name_addr::NameAddr;
pub use response::response_to;
pub use uri::Uri;
pub use writer::MessageWriter;

/// Whether a UDP or TCP payload looks like the start of a SIP message, on any port.
///
/// Cheap enough for every packet: it looks at the first line only. A request line ends in
/// `SIP/2.0`; a status line starts with it.
#[must_use]
pub fn looks_like_sip(payload: &[u8]) -> bool {
    let payload = trim_leading_blank_lines(payload);
    if payload.starts_with(b"SIP/2.0 ") {
        return true;
    }
    // A request starts with its method, a token (RFC 3261 §25.1). Media (RTP's first byte
    // is 0x80 or more) stops here without a scan for the line end.
    if !payload
        .first()
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
    {
        return false;
    }
    let line_end = payload
        .iter()
        .take(2048)
        .position(|&b| b == b'\n')
        .unwrap_or(payload.len().min(2048));
    let line = payload[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&payload[..line_end]);
    line.ends_with(b" SIP/2.0")
}

/// Skips the CRLFs that keep-alives and stream framing leave before a message.
pub(crate) fn trim_leading_blank_lines(mut bytes: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_requests_and_responses_but_not_rtp() {
        assert!(looks_like_sip(b"INVITE sip:a@b SIP/2.0\r\n"));
        assert!(looks_like_sip(b"\r\nSIP/2.0 200 OK\r\n"));
        assert!(looks_like_sip(b"OPTIONS sip:a@b SIP/2.0\n"));
        assert!(!looks_like_sip(&[0x80, 0x00, 0x01, 0x02, 0x03]));
        assert!(!looks_like_sip(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_sip(b"\r\n\r\n"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::caller_id::caller_id;
    use crate::sdp::SessionDescription;
    use proptest::prelude::*;

    /// SIP-looking text built from pieces that stress the parser: compact names, folding,
    /// quotes, escapes, odd Content-Lengths.
    fn sipish() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just("INVITE sip:a@b SIP/2.0\r\n".to_owned()),
            Just("SIP/2.0 180 Ringing\r\n".to_owned()),
            Just("f: \"A \\\"b\\\"\" <sip:+1555%20@x>;tag=1\r\n".to_owned()),
            Just("t: <tel:+1-555>\r\ni: x@y\r\nCSeq: 1 INVITE\r\n".to_owned()),
            Just("P-Asserted-Identity: \"N\" <sip:1@x>, <tel:2>\r\n".to_owned()),
            Just("Remote-Party-ID: <sip:3@x>;party=calling;privacy=full\r\n".to_owned()),
            Just("Content-Type: multipart/mixed;boundary=zz\r\n".to_owned()),
            Just("l: 999\r\n".to_owned()),
            Just("Content-Length: -1\r\n".to_owned()),
            Just(" folded\r\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("--zz\r\nContent-Type: application/sdp\r\n\r\nm=audio 1 RTP/AVP 0\r\n".to_owned()),
            // Multibyte characters in a display name, a URI and a parameter.
            Just(
                "f: \"J\u{f6}rg \u{20ac}\u{1f4de}\" <sip:%C3%A9%ff@h\u{e9}>;tag=\u{e9}\r\n"
                    .to_owned()
            ),
            "[ -~]{0,40}",
            // Any characters, multibyte and control ones among them.
            ".{0,12}",
        ];
        let text =
            prop::collection::vec(piece, 0..24).prop_map(|parts| parts.concat().into_bytes());
        spliced(text)
    }

    /// A request the parser accepts, whose headers (the ones it reads, first) carry any
    /// characters, with a body of SDP-like text.
    fn hostile_headers() -> impl Strategy<Value = Vec<u8>> {
        let header =
            "(Content-Type|c|From|f|To|t|P-Asserted-Identity|Remote-Party-ID|Via|l): .{0,16}\r\n";
        let text = (
            prop::collection::vec(header, 1..6),
            "(v=0|m=audio|c=IN|a=).{0,20}",
        )
            .prop_map(|(headers, body)| {
                let mut text = "INVITE sip:a@b SIP/2.0\r\n".to_owned();
                text.extend(headers);
                text.push_str("i: x\r\nCSeq: 1 INVITE\r\nf: <sip:a@b>\r\nt: <sip:c@d>\r\n\r\n");
                text.push_str(&body);
                text.into_bytes()
            });
        spliced(text)
    }

    /// The text with a few raw bytes (invalid UTF-8 among them) spliced in anywhere,
    /// splitting characters.
    fn spliced(text: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
        let splices = prop::collection::vec((any::<prop::sample::Index>(), raw_bytes()), 0..4);
        (text, splices).prop_map(|(mut text, splices)| {
            for (at, bytes) in splices {
                let at = at.index(text.len() + 1);
                text.splice(at..at, bytes);
            }
            text
        })
    }

    /// A few bytes, biased to UTF-8 lead and continuation bytes and bytes never valid in it.
    fn raw_bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(0xc3_u8),
            Just(0xe2),
            Just(0xf0),
            Just(0x80),
            Just(0xff),
            any::<u8>()
        ];
        prop::collection::vec(byte, 0..4)
    }

    /// Text for the field readers: printable ASCII, any characters, and name-addr shapes
    /// with any characters in their parts.
    fn field_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,80}",
            ".{0,40}",
            "(\"?[^\"]{0,8}\"?[ <]*(sip|tel):[^@>]{0,12}[@>;]?.{0,4},?){1,4}",
        ]
    }

    fn exercise(bytes: &[u8]) {
        let _ = looks_like_sip(bytes);
        if let Ok(Some(message)) = parse_datagram(bytes) {
            let _ = caller_id(&message);
            let _ = message.to();
            let _ = message.top_via_branch();
            if let Some(sdp) = message.sdp() {
                let _ = SessionDescription::parse(sdp);
            }
        }
        let (_, consumed) = split_stream(bytes);
        assert!(consumed <= bytes.len());
        assert!(split_trace(bytes).len() <= bytes.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_sip_wrapper_never_panics_on_sip_like_text(bytes in sipish()) {
            exercise(&bytes);
        }

        #[test]
        fn the_sip_wrapper_never_panics_on_any_characters_in_headers(bytes in hostile_headers()) {
            exercise(&bytes);
        }

        #[test]
        fn the_sip_wrapper_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            exercise(&bytes);
        }

        #[test]
        fn name_addr_and_uri_readers_never_panic(text in field_text()) {
            let _ = NameAddr::parse_list(&text);
            let _ = Uri::parse(&text);
            let _ = crate::caller_id::normalize_number(&text);
        }
    }
}
