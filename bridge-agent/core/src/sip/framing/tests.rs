//! Framing on hand-made datagrams, streams and traces.

use super::*;
use crate::sip::Method;

/// A request with `length` in its Content-Length and `body` after the blank line.
fn request(method: &str, call_id: &str, length: &str, body: &str) -> String {
    format!(
        "{method} sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK{call_id}\r\n\
         From: <sip:15550100001@example.com>;tag=1\r\nTo: <sip:100@example.com>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 {method}\r\nContent-Length: {length}\r\n\r\n{body}"
    )
}

fn read(text: &str) -> (Message, BodyFraming) {
    read_datagram(text.as_bytes())
        .expect("readable")
        .expect("not a keep-alive")
}

#[test]
fn octets_after_a_zero_length_body_are_not_a_second_request() {
    let second = request("INVITE", "second", "0", "");
    let text = format!("{}\r\n{second}", request("REGISTER", "first", "0", ""));
    let (message, framing) = read(&text);
    assert_eq!(message.method(), Some(&Method::Register));
    assert!(message.body.is_empty());
    assert_eq!(framing, BodyFraming::Trailing(second.len() + 2));
}

#[test]
fn a_content_length_that_is_not_a_number_gives_way_to_the_datagram() {
    for length in ["bad", "-1", "99999999999999999999999", "+4", "4 4", ""] {
        let (message, framing) = read(&request("INVITE", "x", length, "v=0\r\n"));
        assert_eq!(message.body, b"v=0\r\n", "{length:?}");
        assert_eq!(framing, BodyFraming::Unreadable, "{length:?}");
    }
}

#[test]
fn missing_exact_and_overstated_lengths_in_a_datagram() {
    let text = request("INVITE", "x", "5", "v=0\r\n");
    assert_eq!(read(&text).1, BodyFraming::Exact);
    let unstated = text.replace("Content-Length: 5\r\n", "");
    let (message, framing) = read(&unstated);
    assert_eq!(
        (message.body.as_slice(), framing),
        (&b"v=0\r\n"[..], BodyFraming::Unstated)
    );
    let (message, framing) = read(&request("INVITE", "x", "99", "short"));
    assert_eq!(
        (message.body.as_slice(), framing),
        (&b"short"[..], BodyFraming::Overstated)
    );
}

#[test]
fn conflicting_content_lengths_are_refused_everywhere() {
    let text = request("INVITE", "x", "5", "v=0\r\n").replace("\r\n\r\n", "\r\nl: 4\r\n\r\n");
    assert!(read_datagram(text.as_bytes()).is_err());
    let (messages, _) = split_stream(text.as_bytes());
    assert!(messages[0].is_err());
    assert!(split_trace(text.as_bytes())[0].is_err());
}

#[test]
fn keep_alive_is_not_a_message() {
    assert!(read_datagram(b"\r\n\r\n").expect("keep-alive").is_none());
}

#[test]
fn stream_is_split_by_content_length_and_waits_for_more() {
    let mut stream = request("INVITE", "a", "5", "v=0\r\n").into_bytes();
    stream.extend_from_slice(b"SIP/2.0 180 Ringing\r\nVia: x\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>;tag=9\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    stream.extend_from_slice(b"BYE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n");
    let (messages, consumed) = split_stream(&stream);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].as_ref().expect("ok").status(), Some(180));
    assert!(consumed < stream.len(), "the cut BYE is left for later");
}

/// Over TCP nothing bounds a message whose length is not a number: it is counted malformed,
/// its body skipped up to the next blank line, and the stream read on from there.
#[test]
fn a_content_length_that_is_not_a_number_over_tcp_is_malformed_and_the_stream_resumes() {
    let bad = request(
        "INVITE",
        "bad",
        "xyz",
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n\r\n",
    );
    let good = request("BYE", "good", "0", "");
    let stream = format!("{bad}{good}");
    let (messages, consumed) = split_stream(stream.as_bytes());
    assert_eq!(consumed, stream.len());
    assert_eq!(
        messages[0].as_ref().err(),
        Some(&ParseError::Invalid("Content-Length is not a number"))
    );
    let read: Vec<&str> = messages.iter().flatten().map(Message::call_id).collect();
    assert_eq!(read, ["good"], "{messages:?}");
}

#[test]
fn a_trace_reads_messages_in_a_row_as_datagrams() {
    let sdp = "v=0\r\nc=IN IP4 192.0.2.1\r\n";
    let trace = [
        request("INVITE", "a", &sdp.len().to_string(), sdp),
        request("ACK", "a", "0", ""),
        // A body without a last line end, then the next message on the next line.
        request("INFO", "a", "3", "abc"),
        "\r\n".into(),
        request("BYE", "a", "0", ""),
    ]
    .concat();
    let read = split_trace(trace.as_bytes());
    let methods: Vec<(String, BodyFraming)> = read
        .iter()
        .map(|r| {
            let (message, framing) = r.as_ref().expect("each one reads");
            (message.cseq().method.as_str().to_owned(), *framing)
        })
        .collect();
    assert_eq!(
        methods,
        [
            ("INVITE".into(), BodyFraming::Exact),
            ("ACK".into(), BodyFraming::Exact),
            ("INFO".into(), BodyFraming::Trailing(2)),
            ("BYE".into(), BodyFraming::Exact),
        ]
    );
}

#[test]
fn a_trace_and_a_datagram_of_the_same_bytes_read_the_same_message() {
    let second = request("INVITE", "second", "0", "");
    let dblreq = format!("{}\r\n{second}", request("REGISTER", "first", "0", ""));
    let trace = split_trace(dblreq.as_bytes());
    assert_eq!(trace.len(), 1, "{trace:?}");
    let (message, framing) = trace[0].as_ref().expect("the REGISTER");
    let (datagram, datagram_framing) = read(&dblreq);
    assert_eq!(message.call_id(), datagram.call_id());
    assert_eq!(*framing, datagram_framing);
}

#[test]
fn a_trace_without_lengths_splits_at_each_start_line() {
    let first = request("INVITE", "a", "", "v=0\r\n").replace("Content-Length: \r\n", "");
    let second = request("BYE", "a", "", "").replace("Content-Length: \r\n", "");
    let read = split_trace(format!("{first}{second}").as_bytes());
    let bodies: Vec<&[u8]> = read
        .iter()
        .map(|r| r.as_ref().expect("reads").0.body.as_slice())
        .collect();
    assert_eq!(bodies, [&b"v=0\r\n"[..], b""]);
}

#[test]
fn text_before_the_first_start_line_is_one_malformed_item() {
    let trace = format!(
        "a capture of the line\r\nmore notes\r\n{}",
        request("BYE", "a", "0", "")
    );
    let read = split_trace(trace.as_bytes());
    assert_eq!(read.len(), 2);
    assert!(read[0].is_err());
    assert!(read[1].is_ok());
}

/// A trace of start lines and no blank line used to make every datagram look for its header
/// block to the end of the trace: quadratic time, minutes for a few megabytes.
#[test]
fn a_trace_of_start_lines_without_blank_lines_is_read_in_linear_time() {
    let trace = "INVITE sip:a@b SIP/2.0\r\n".repeat(200_000);
    let read = split_trace(trace.as_bytes());
    assert_eq!(read.len(), 200_000);
    assert!(
        read.iter().all(Result::is_err),
        "no Call-ID, From, To or CSeq"
    );
}
