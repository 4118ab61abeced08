//! A SIP message: start line, headers (folded, compact, LF-only), body, and the readers of
//! its fields.
//!
//! Where a message ends (one per UDP datagram, many in a TCP stream or a text trace) is
//! [`super::framing`]'s job. Parsing is strict where RFC 4475 says a message must be refused
//! (start line, `CSeq`, the headers every message needs) and lenient elsewhere, because
//! caller-ID must survive odd providers.

use super::header::HeaderName;
use super::name_addr::NameAddr;

/// Why bytes are not a SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The bytes end before the message does (a stream that needs more data).
    #[error("incomplete message")]
    Incomplete,
    /// The bytes can never become a valid message.
    #[error("invalid message: {0}")]
    Invalid(&'static str),
}

/// A SIP method. The ones Ringside acts on are named; the rest are kept as written.
///
/// Its name table stays hand-written: strum's `AsRefStr` cannot hand out the text an `Other`
/// holds, so a derive would cover only half of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `INVITE`
    Invite,
    /// `ACK`
    Ack,
    /// `BYE`
    Bye,
    /// `CANCEL`
    Cancel,
    /// `REGISTER`
    Register,
    /// `NOTIFY`
    Notify,
    /// Any other token (`OPTIONS`, `INFO`, `UPDATE`, extensions ...).
    Other(String),
}

impl Method {
    fn parse(token: &str) -> Result<Method, ParseError> {
        if token.is_empty() || !token.bytes().all(is_token_char) {
            return Err(ParseError::Invalid("method is not a token"));
        }
        Ok(match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "NOTIFY" => Method::Notify,
            other => Method::Other(other.to_owned()),
        })
    }

    /// The method as written on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Notify => "NOTIFY",
            Method::Other(s) => s,
        }
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD Request-URI SIP/2.0`
    Request {
        /// The method.
        method: Method,
        /// The Request-URI as written.
        uri: String,
    },
    /// `SIP/2.0 CODE Reason`
    Response {
        /// The status code, 100..=699.
        code: u16,
        /// The reason phrase (may be empty, may be any UTF-8).
        reason: String,
    },
}

/// The `CSeq` header: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (at most 2^31 - 1, RFC 3261 §8.1.1.5).
    pub number: u32,
    /// The method of the request this is (or answers).
    pub method: Method,
}

/// One parsed SIP message. Call-ID, `CSeq`, From and To are known to be present.
#[derive(Debug, Clone)]
pub struct Message {
    /// Request or status line.
    pub start: StartLine,
    headers: Vec<(HeaderName, String)>,
    cseq: CSeq,
    /// The body: exactly Content-Length bytes when that header is present.
    pub body: Vec<u8>,
}

impl Message {
    /// The request method, or `None` for a response.
    #[must_use]
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, or `None` for a request.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The first value of a header.
    #[must_use]
    pub fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (each header line is one value; values a line
    /// lists with commas are split by the typed readers that need it).
    pub fn headers<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All headers as (name, value) pairs in wire order.
    #[must_use]
    pub fn all_headers(&self) -> &[(HeaderName, String)] {
        &self.headers
    }

    /// The Call-ID.
    #[must_use]
    pub fn call_id(&self) -> &str {
        self.header(&HeaderName::CallId).unwrap_or_default()
    }

    /// The `CSeq` header.
    #[must_use]
    pub fn cseq(&self) -> &CSeq {
        &self.cseq
    }

    /// The From header as a name-addr, if it can be read.
    #[must_use]
    pub fn from(&self) -> Option<NameAddr> {
        NameAddr::parse(self.header(&HeaderName::From)?).ok()
    }

    /// The To header as a name-addr, if it can be read.
    #[must_use]
    pub fn to(&self) -> Option<NameAddr> {
        NameAddr::parse(self.header(&HeaderName::To)?).ok()
    }

    /// The `branch` parameter of the top Via: the transaction this message belongs to.
    #[must_use]
    pub fn top_via_branch(&self) -> Option<&str> {
        let via = self.header(&HeaderName::Via)?;
        let first = via.split(',').next()?;
        first.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("branch")
                .then(|| value.trim())
        })
    }

    /// The SDP in the body: the body itself, or the `application/sdp` part of a multipart body.
    #[must_use]
    pub fn sdp(&self) -> Option<&[u8]> {
        let content_type = self.header(&HeaderName::ContentType)?.trim();
        let media_type = content_type.split(';').next()?.trim();
        if media_type.eq_ignore_ascii_case("application/sdp") {
            return Some(&self.body);
        }
        let is_multipart = media_type
            .as_bytes()
            .get(..10)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"multipart/"));
        if is_multipart {
            let boundary = content_type.split(';').skip(1).find_map(|p| {
                let (name, value) = p.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("boundary")
                    .then(|| value.trim().trim_matches('"'))
            })?;
            return multipart_sdp(&self.body, boundary);
        }
        None
    }
}

/// Finds the `application/sdp` part of a multipart body (RFC 2046 §5.1).
fn multipart_sdp<'a>(body: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut start = None;
    let mut i = 0;
    while let Some(at) = find(&text[i..], delimiter.as_bytes()) {
        let at = i + at;
        if let Some(s) = start {
            parts.push(&text[s..at]);
        }
        let after = at + delimiter.len();
        let line_end = text[after..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| after + p + 1);
        start = line_end;
        i = line_end?;
    }
    parts.into_iter().find_map(|part| {
        let (headers, content) = split_header_block(part)?;
        let is_sdp = headers.lines().any(|line| {
            line.split_once(':').is_some_and(|(n, v)| {
                HeaderName::parse(n.trim()) == HeaderName::ContentType
                    && v.trim().to_ascii_lowercase().starts_with("application/sdp")
            })
        });
        is_sdp.then_some(content)
    })
}

/// Splits a header block from what follows its blank line; `None` without a blank line.
pub(super) fn split_header_block(bytes: &[u8]) -> Option<(String, &[u8])> {
    let mut pos = 0;
    while let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') {
        let line = &bytes[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            let text = String::from_utf8_lossy(&bytes[..pos]).into_owned();
            return Some((text, &bytes[pos + nl + 1..]));
        }
        pos += nl + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A message's start line and headers, read; its body is left to [`super::framing`].
pub(super) struct Head {
    /// Request or status line.
    pub(super) start: StartLine,
    pub(super) headers: Vec<(HeaderName, String)>,
    pub(super) cseq: CSeq,
}

impl Head {
    /// Reads a header block (the text before the blank line), refusing what RFC 4475 says
    /// to refuse: a broken start line, no Call-ID, From, To or `CSeq`, a `CSeq` whose
    /// method is not the request's.
    pub(super) fn parse(head: &str) -> Result<Head, ParseError> {
        let mut lines = head.lines();
        let start = parse_start_line(lines.next().ok_or(ParseError::Invalid("empty message"))?)?;
        let headers = parse_headers(lines)?;
        let value_of = |name: HeaderName| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        for (name, what) in [
            (HeaderName::CallId, "missing Call-ID"),
            (HeaderName::From, "missing From"),
            (HeaderName::To, "missing To"),
        ] {
            if value_of(name).is_none_or(str::is_empty) {
                return Err(ParseError::Invalid(what));
            }
        }
        let cseq =
            parse_cseq(value_of(HeaderName::CSeq).ok_or(ParseError::Invalid("missing CSeq"))?)?;
        if let StartLine::Request { method, .. } = &start {
            if *method != cseq.method {
                return Err(ParseError::Invalid(
                    "CSeq method differs from the request method",
                ));
            }
        }
        Ok(Head {
            start,
            headers,
            cseq,
        })
    }

    /// The values of every Content-Length header (`l`), in order.
    pub(super) fn content_lengths(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(|(n, _)| *n == HeaderName::ContentLength)
            .map(|(_, v)| v.as_str())
    }

    /// The message, with its body.
    pub(super) fn with_body(self, body: Vec<u8>) -> Message {
        Message {
            start: self.start,
            headers: self.headers,
            cseq: self.cseq,
            body,
        }
    }
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .map_err(|_| ParseError::Invalid("status code is not a number"))?;
        if !(100..=699).contains(&code) || rest.len() < 3 {
            return Err(ParseError::Invalid("status code out of range"));
        }
        return Ok(StartLine::Response {
            code,
            reason: reason.to_owned(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Invalid(
            "request line is not METHOD SP URI SP SIP/2.0",
        ));
    };
    if version != "SIP/2.0" {
        return Err(ParseError::Invalid("unsupported SIP version"));
    }
    let method = Method::parse(method)?;
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if !scheme_ok {
        return Err(ParseError::Invalid("Request-URI has no scheme"));
    }
    let lower = uri.to_ascii_lowercase();
    // Headers come after the host part; a `?` in the user part is allowed (RFC 4475 intmeth).
    let host_part = uri.rsplit('@').next().unwrap_or(uri);
    if (lower.starts_with("sip:") || lower.starts_with("sips:")) && host_part.contains('?') {
        return Err(ParseError::Invalid("Request-URI carries headers"));
    }
    Ok(StartLine::Request {
        method,
        uri: uri.to_owned(),
    })
}

fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<Vec<(HeaderName, String)>, ParseError> {
    let mut headers: Vec<(HeaderName, String)> = Vec::with_capacity(16);
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Folded continuation of the previous header (RFC 3261 §7.3.1).
            let (_, value) = headers
                .last_mut()
                .ok_or(ParseError::Invalid("continuation line before any header"))?;
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(ParseError::Invalid("header line without a colon"))?;
        let name = name.trim_end();
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(ParseError::Invalid("header name is not a token"));
        }
        headers.push((HeaderName::parse(name), value.trim().to_owned()));
    }
    Ok(headers)
}

fn parse_cseq(value: &str) -> Result<CSeq, ParseError> {
    let mut parts = value.split_whitespace();
    let (Some(number), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ParseError::Invalid("CSeq is not NUMBER METHOD"));
    };
    let number: u32 = number
        .parse()
        .ok()
        .filter(|n| *n < 1 << 31)
        .ok_or(ParseError::Invalid("CSeq number out of range"))?;
    Ok(CSeq {
        number,
        method: Method::parse(method)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_datagram;

    const INVITE: &[u8] = b"INVITE sip:100@10.0.0.2 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n\
f: \"Alice\" <sip:15551234567@example.com>;tag=1928301774\r\n\
t: <sip:100@example.com>\r\n\
i: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
c: application/sdp\r\n\
l: 4\r\n\r\nv=0\r\n";

    #[test]
    fn parses_compact_headers_and_body() {
        let message = parse_datagram(INVITE)
            .expect("valid")
            .expect("not a keep-alive");
        assert_eq!(message.method(), Some(&Method::Invite));
        assert_eq!(message.call_id(), "a84b4c76e66710");
        assert_eq!(message.cseq().number, 314_159);
        assert_eq!(message.body, b"v=0\r");
        assert_eq!(message.top_via_branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(message.from().and_then(|f| f.display), Some("Alice".into()));
    }

    /// A multibyte character across the tenth byte of `Content-Type` used to panic the
    /// multipart check (`media_type[..10]`), which made the live agent deaf.
    #[test]
    fn content_type_with_a_multibyte_character_at_byte_ten_does_not_panic() {
        let invite =
            String::from_utf8_lossy(INVITE).replace("c: application/sdp", "c: aaaaaaaaa\u{e9}");
        let message = parse_datagram(invite.as_bytes())
            .expect("valid")
            .expect("message");
        assert_eq!(message.sdp(), None);
    }

    #[test]
    fn lf_only_line_ends_are_read() {
        let lf: Vec<u8> = INVITE.iter().copied().filter(|&b| b != b'\r').collect();
        let message = parse_datagram(&lf).expect("valid").expect("message");
        assert_eq!(message.call_id(), "a84b4c76e66710");
        assert_eq!(message.body, b"v=0\n");
    }

    #[test]
    fn refuses_what_rfc_4475_says_to_refuse() {
        let bad = |text: &str| parse_datagram(text.as_bytes()).is_err();
        assert!(bad("INVITE  sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCSeq: 1 INVITE\r\n\r\n"));
        assert!(bad("INVITE sip:a@b SIP/7.0\r\nCall-ID: x\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCSeq: 1 INVITE\r\n\r\n"));
        assert!(bad("INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCSeq: 1 BYE\r\n\r\n"));
        assert!(bad("SIP/2.0 4294967301 Huge\r\nCall-ID: x\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCSeq: 1 INVITE\r\n\r\n"));
        assert!(bad("INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n"));
    }
}
