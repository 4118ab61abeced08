//! Where a SIP message ends, and what the bytes after it are.
//!
//! A UDP datagram carries one message ([`read_datagram`]): its Content-Length bounds the body
//! and the datagram bounds everything, so octets after the body are ignored, never a second
//! message (RFC 4475 §3.1.1.8), and a length that is missing, overstated or not a number
//! gives way to the datagram's end; [`BodyFraming`] says which happened, for the engine to
//! count. A TCP stream carries many messages, split by Content-Length alone
//! ([`split_stream`]). A text trace is datagrams written one after another without their
//! boundaries ([`split_trace`]): it finds where each datagram ends and reads each one
//! exactly as a UDP datagram is read, so a trace and a UDP replay of the same messages give
//! the same calls. Start lines and headers are read by [`super::message`].

use super::message::{split_header_block, Head, Message, ParseError};
use super::{looks_like_sip, trim_leading_blank_lines};

/// How a datagram's body was bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// Content-Length matched the bytes the datagram carried after the header block.
    Exact,
    /// No Content-Length: the body is the rest of the datagram (RFC 3261 §18.3 allows it over
    /// UDP).
    Unstated,
    /// This many octets followed the body Content-Length bounds; they were ignored
    /// (RFC 4475 §3.1.1.8: even when they look like a second request).
    Trailing(usize),
    /// Content-Length larger than the bytes carried: the body is what there is (RFC 4475
    /// `clerr`; an endpoint may refuse it, but Ringside only watches and the phone may accept
    /// it).
    Overstated,
    /// Content-Length not a number (text, negative, beyond any size): the body is the rest of
    /// the datagram, as the phone may read it.
    Unreadable,
}

/// What a message's Content-Length headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// No Content-Length header.
    Absent,
    /// The body's length in octets.
    Stated(usize),
    /// Not `1*DIGIT` (RFC 3261 §20.14), or too large for any body.
    Unreadable,
}

/// Reads the Content-Length headers; headers that disagree are refused (RFC 4475 `mcl01`),
/// since a phone and Ringside could each believe another one.
fn content_length(head: &Head) -> Result<Length, ParseError> {
    let mut found: Option<Option<usize>> = None;
    for value in head.content_lengths() {
        let value = value.trim();
        let len = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<usize>().ok())
            .flatten();
        if found.is_some_and(|f| f != len) {
            return Err(ParseError::Invalid("conflicting Content-Length headers"));
        }
        found = Some(len);
    }
    Ok(match found {
        None => Length::Absent,
        Some(Some(len)) => Length::Stated(len),
        Some(None) => Length::Unreadable,
    })
}

/// Parses the one message a UDP datagram carries. Trailing bytes after the body are ignored
/// (RFC 4475 §3.1.1.8). Returns `Ok(None)` for a keep-alive (only CRLFs).
pub fn parse_datagram(bytes: &[u8]) -> Result<Option<Message>, ParseError> {
    read_datagram(bytes).map(|read| read.map(|(message, _)| message))
}

/// Parses the one message a UDP datagram carries, and says how its body was bounded.
/// Returns `Ok(None)` for a keep-alive (only CRLFs).
pub fn read_datagram(bytes: &[u8]) -> Result<Option<(Message, BodyFraming)>, ParseError> {
    let bytes = trim_leading_blank_lines(bytes);
    if bytes.is_empty() {
        return Ok(None);
    }
    let (head, body_start) = match split_header_block(bytes) {
        Some((head, body)) => (head, bytes.len() - body.len()),
        // No blank line: all of it is the header block.
        None => (String::from_utf8_lossy(bytes).into_owned(), bytes.len()),
    };
    let head = Head::parse(&head)?;
    let available = bytes.len() - body_start;
    let (body_len, framing) = match content_length(&head)? {
        Length::Stated(len) if len == available => (len, BodyFraming::Exact),
        Length::Stated(len) if len < available => (len, BodyFraming::Trailing(available - len)),
        Length::Stated(_) => (available, BodyFraming::Overstated),
        Length::Absent => (available, BodyFraming::Unstated),
        Length::Unreadable => (available, BodyFraming::Unreadable),
    };
    let body = bytes[body_start..body_start + body_len].to_vec();
    Ok(Some((head.with_body(body), framing)))
}

/// Splits a stream (a TCP payload) into its messages by Content-Length.
///
/// Returns the messages found, each as a result, and how many bytes were consumed; a
/// message cut short at the end is left unconsumed for the caller to complete. A message
/// without Content-Length has an empty body (RFC 3261 §18.3). A message that cannot be read,
/// one whose Content-Length is not a number among them, is counted malformed and the stream
/// is read again after its header block: its body (nothing says how long it is) is then
/// skipped up to the next blank line, and the next message that starts after one is found.
#[must_use]
pub fn split_stream(bytes: &[u8]) -> (Vec<Result<Message, ParseError>>, usize) {
    let mut messages = Vec::new();
    let mut consumed = 0;
    loop {
        let rest = &bytes[consumed..];
        let trimmed = trim_leading_blank_lines(rest);
        if trimmed.is_empty() {
            return (messages, bytes.len());
        }
        let skipped = rest.len() - trimmed.len();
        match stream_message(trimmed) {
            Ok((message, used)) => {
                messages.push(Ok(message));
                consumed += skipped + used;
            }
            Err(ParseError::Incomplete) => return (messages, consumed),
            Err(invalid) => {
                // Skip to the next blank line and try again from there.
                messages.push(Err(invalid));
                match split_header_block(trimmed) {
                    Some((_, after)) => consumed = bytes.len() - after.len(),
                    None => return (messages, bytes.len()),
                }
            }
        }
    }
}

/// The first message of a stream and the bytes it takes.
fn stream_message(bytes: &[u8]) -> Result<(Message, usize), ParseError> {
    let (head, body) = split_header_block(bytes).ok_or(ParseError::Incomplete)?;
    let body_start = bytes.len() - body.len();
    let head = Head::parse(&head)?;
    let body_len = match content_length(&head)? {
        Length::Stated(len) if len <= body.len() => len,
        Length::Stated(_) => return Err(ParseError::Incomplete),
        Length::Absent => 0,
        Length::Unreadable => return Err(ParseError::Invalid("Content-Length is not a number")),
    };
    let message = head.with_body(body[..body_len].to_vec());
    Ok((message, body_start + body_len))
}

/// Splits a text trace into its messages, each read as the UDP datagram it stands for
/// ([`read_datagram`]), with how its body was bounded.
///
/// A trace has no datagram boundaries, so they are found: a datagram ends where its
/// Content-Length ends when a start line follows at once. When other octets follow, they
/// are the datagram's trailing octets up to the next start line that begins right after a
/// line with text on it; a start line after an empty line (RFC 4475 `dblreq`: a request,
/// `Content-Length: 0`, a blank line, a second request) is still inside the datagram and
/// ignored, as UDP ignores it. Without a readable Content-Length the datagram ends at the
/// next start line. Text before the first start line is one malformed item.
#[must_use]
pub fn split_trace(bytes: &[u8]) -> Vec<Result<(Message, BodyFraming), ParseError>> {
    let mut messages = Vec::new();
    let mut start = bytes.len() - trim_leading_blank_lines(bytes).len();
    while start < bytes.len() {
        let rest = &bytes[start..];
        if !is_start_line(rest) {
            messages.push(Err(ParseError::Invalid("text that is not a SIP message")));
            start = next_start_line(bytes, start + 1, After::AnyLine).unwrap_or(bytes.len());
            continue;
        }
        let end = start + datagram_end(rest);
        match read_datagram(&bytes[start..end]) {
            Ok(Some(read)) => messages.push(Ok(read)),
            Ok(None) => {}
            Err(error) => messages.push(Err(error)),
        }
        start = end;
    }
    messages
}

/// Where the datagram that starts `bytes` (with a start line) ends in a trace.
///
/// Its header block is looked for only up to the next start line (a header line is never
/// one), so each byte of a trace is scanned a bounded number of times, whatever it holds.
fn datagram_end(bytes: &[u8]) -> usize {
    let next = next_start_line(bytes, 1, After::AnyLine).unwrap_or(bytes.len());
    let Some((head, body)) = split_header_block(&bytes[..next]) else {
        return next;
    };
    let body_start = next - body.len();
    let length = Head::parse(&head)
        .ok()
        .and_then(|head| content_length(&head).ok());
    let Some(Length::Stated(len)) = length else {
        // Without a length the body runs to the next start line.
        return next;
    };
    let end = body_start.saturating_add(len);
    if end >= bytes.len() || is_start_line(&bytes[end..]) {
        return end.min(bytes.len());
    }
    next_start_line(bytes, end, After::TextLine).unwrap_or(bytes.len())
}

/// Which line may come before a start line that begins a datagram.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// Any line (or none).
    AnyLine,
    /// A line with text on it, not an empty one.
    TextLine,
}

/// The first line start at or after `from` where a start line begins, after the line `after`
/// asks for. Looks at each line once, so the scan is linear in the bytes.
fn next_start_line(bytes: &[u8], from: usize, after: After) -> Option<usize> {
    let mut at = from;
    while at < bytes.len() {
        let line_start = at == 0 || bytes[at - 1] == b'\n';
        if line_start
            && is_start_line(&bytes[at..])
            && (after == After::AnyLine || follows_text(bytes, at))
        {
            return Some(at);
        }
        at += bytes[at..].iter().position(|&b| b == b'\n')? + 1;
    }
    None
}

/// Whether the line that ends just before `at` (a line start) has text on it.
fn follows_text(bytes: &[u8], at: usize) -> bool {
    let before = &bytes[..at.saturating_sub(1)];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = &before[line_start..];
    !line.strip_suffix(b"\r").unwrap_or(line).is_empty()
}

/// Whether `bytes` start with a SIP start line, at once (no blank lines first).
fn is_start_line(bytes: &[u8]) -> bool {
    !bytes.starts_with(b"\r") && !bytes.starts_with(b"\n") && looks_like_sip(bytes)
}

#[cfg(test)]
mod tests;
