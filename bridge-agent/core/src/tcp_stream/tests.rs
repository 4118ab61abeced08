//! Tests of the TCP stream reassembler: orderings, repeats, wrap-around and the bounds.

use super::*;
use proptest::prelude::*;

fn key(port: u16) -> FlowKey {
    FlowKey {
        src: SocketAddr::from(([10, 0, 0, 1], port)),
        dst: SocketAddr::from(([10, 0, 0, 2], 5060)),
    }
}

/// A SIP request with a body of `body_len` bytes, in lines that look like no start line.
fn message(call_id: &str, body_len: usize) -> Vec<u8> {
    format!(
        "INVITE sip:phone@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\n\
         From: <sip:15550100001@10.0.0.1>;tag=a\r\nTo: <sip:phone@10.0.0.2>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: {body_len}\r\n\r\n{}",
        &"a=x\r\n".repeat(body_len / 5 + 1)[..body_len]
    )
    .into_bytes()
}

/// `stream` cut into `count` pieces of nearly equal length, each with its sequence number.
fn cut(base: u32, stream: &[u8], count: usize) -> Vec<(u32, Vec<u8>)> {
    let size = stream.len().div_ceil(count);
    let mut offset = 0u32;
    stream
        .chunks(size)
        .map(|chunk| {
            let piece = (base.wrapping_add(offset), chunk.to_vec());
            offset += chunk.len() as u32;
            piece
        })
        .collect()
}

fn data(seq: u32) -> TcpSegment {
    TcpSegment {
        seq,
        ..TcpSegment::default()
    }
}

fn syn(seq: u32) -> TcpSegment {
    TcpSegment {
        seq,
        syn: true,
        ..TcpSegment::default()
    }
}

fn fin(seq: u32) -> TcpSegment {
    TcpSegment {
        seq,
        fin: true,
        ..TcpSegment::default()
    }
}

/// Feeds the segments (after a SYN at `base - 1`) and returns the Call-IDs read, `"!"`
/// for a message refused.
fn feed(streams: &mut TcpStreams, base: u32, segments: &[(u32, Vec<u8>)]) -> Vec<String> {
    let mut read = Vec::new();
    let mut take = |delivered: Delivered| {
        for message in delivered.messages {
            read.push(message.map_or("!".to_owned(), |m| m.call_id().to_owned()));
        }
    };
    take(streams.handle_segment(Timestamp(0), key(1), syn(base.wrapping_sub(1)), &[]));
    for (seq, bytes) in segments {
        take(streams.handle_segment(Timestamp(1), key(1), data(*seq), bytes));
    }
    read
}

#[test]
fn a_message_in_2_5_and_40_segments_is_read_once_whole() {
    let invite = message("big@x", 1500);
    for count in [1, 2, 5, 40] {
        let mut streams = TcpStreams::default();
        let read = feed(&mut streams, 1000, &cut(1000, &invite, count));
        assert_eq!(read, ["big@x"], "in {count} segments");
        assert_eq!(streams.stats().reassembled, u64::from(count > 1));
        assert_eq!(streams.stats().bytes_dropped, 0);
    }
}

#[test]
fn retransmitted_and_out_of_order_segments_give_each_message_once() {
    let stream = [message("a@x", 300), message("b@x", 10)].concat();
    let mut segments = cut(7, &stream, 5);
    segments.swap(1, 3);
    segments.insert(2, segments[0].clone());
    segments.push(segments[4].clone());
    let mut streams = TcpStreams::default();
    assert_eq!(feed(&mut streams, 7, &segments), ["a@x", "b@x"]);
    assert!(streams.stats().bytes_repeated > 0);
}

#[test]
fn overlapping_segments_keep_the_first_copy_of_each_byte() {
    let stream = message("overlap@x", 200);
    let mut streams = TcpStreams::default();
    let segments = vec![
        (50, stream[..120].to_vec()),
        (50 + 100, stream[100..250].to_vec()),
        (50 + 240, stream[240..].to_vec()),
    ];
    assert_eq!(feed(&mut streams, 50, &segments), ["overlap@x"]);
    assert_eq!(streams.stats().bytes_repeated, 30);
}

#[test]
fn sequence_numbers_that_wrap_around_inside_a_message() {
    let stream = [message("wrap@x", 400), message("after@x", 0)].concat();
    let base = u32::MAX - 150;
    let mut segments = cut(base, &stream, 6);
    segments.swap(2, 3);
    let mut streams = TcpStreams::default();
    assert_eq!(feed(&mut streams, base, &segments), ["wrap@x", "after@x"]);
}

#[test]
fn a_capture_that_starts_mid_stream_waits_for_a_start_line() {
    let lost = message("lost@x", 100);
    let mut streams = TcpStreams::default();
    let tail = streams.handle_segment(Timestamp(0), key(2), data(9), &lost[40..]);
    assert!(
        tail.messages.is_empty(),
        "the tail of a message is no start"
    );
    assert_eq!(streams.stats().bytes_dropped, lost.len() as u64 - 40);
    let seq = 9 + lost.len() as u32 - 40;
    let seen = message("seen@x", 100);
    let head = streams.handle_segment(Timestamp(0), key(2), data(seq), &seen[..120]);
    assert!(head.messages.is_empty());
    let rest = streams.handle_segment(Timestamp(0), key(2), data(seq + 120), &seen[120..]);
    assert_eq!(rest.messages.len(), 1);
    assert_eq!(rest.messages[0].as_ref().unwrap().call_id(), "seen@x");
}

#[test]
fn fin_and_rst_end_a_flow_and_a_new_syn_restarts_it() {
    let invite = message("half@x", 100);
    let mut streams = TcpStreams::default();
    assert!(feed(&mut streams, 100, &[(100, invite[..50].to_vec())]).is_empty());
    streams.handle_segment(Timestamp(2), key(1), fin(150), &[]);
    assert_eq!(streams.flows(), 0);
    assert_eq!(streams.stats().incomplete, 1, "the half message is counted");
    // A new connection on the same ports, other sequence numbers.
    assert_eq!(feed(&mut streams, 5, &cut(5, &invite, 3)), ["half@x"]);
    let rst = TcpSegment {
        rst: true,
        ..TcpSegment::default()
    };
    streams.handle_segment(Timestamp(3), key(1), rst, &[]);
    assert_eq!(streams.flows(), 0);
}

#[test]
fn a_fin_that_overtakes_the_last_data_waits_for_it() {
    let invite = message("late@x", 100);
    let mut streams = TcpStreams::default();
    assert!(feed(&mut streams, 100, &[(100, invite[..50].to_vec())]).is_empty());
    let end = 100 + invite.len() as u32;
    streams.handle_segment(Timestamp(2), key(1), fin(end), &[]);
    assert_eq!(streams.flows(), 1, "bytes before the FIN are still missing");
    let rest = streams.handle_segment(Timestamp(3), key(1), data(150), &invite[50..]);
    assert_eq!(rest.messages.len(), 1);
}

#[test]
fn a_message_over_the_cap_is_refused_and_the_flow_resynchronises() {
    let huge = message("huge@x", TcpStreams::MAX_BUFFERED + 10);
    let stream = [huge.clone(), message("next@x", 0)].concat();
    let mut segments = cut(1, &huge, 50);
    segments.push((1 + huge.len() as u32, message("next@x", 0)));
    let mut streams = TcpStreams::default();
    let read = feed(&mut streams, 1, &segments);
    assert_eq!(read, ["!", "next@x"], "{} bytes", stream.len());
    assert!(streams.stats().bytes_dropped >= TcpStreams::MAX_BUFFERED as u64);
}

#[test]
fn segments_beyond_the_window_are_dropped_not_held() {
    let mut streams = TcpStreams::default();
    feed(&mut streams, 1, &[(1, message("a@x", 0))]);
    let far = 1 + TcpStreams::WINDOW as u32 * 2;
    streams.handle_segment(Timestamp(1), key(1), data(far), &[b'x'; 1000]);
    assert_eq!(streams.stats().bytes_dropped, 1000);
    // Held out of order, all together within the cap.
    for i in 0..200u32 {
        let seq = 10_000 + i * 1000;
        streams.handle_segment(Timestamp(1), key(1), data(seq), &[b'y'; 1000]);
    }
    let held = streams.flows.get(&key(1)).map(Flow::held).unwrap();
    assert!(held <= TcpStreams::MAX_BUFFERED, "{held} bytes held");
}

#[test]
fn a_flood_of_flows_evicts_the_least_recently_used() {
    let mut streams = TcpStreams::default();
    let start = message("start@x", 0);
    let head = &start[..40];
    for port in 0..(TcpStreams::MAX_FLOWS as u16 + 100) {
        streams.handle_segment(Timestamp(u64::from(port)), key(port), data(1), head);
    }
    assert_eq!(streams.flows(), TcpStreams::MAX_FLOWS);
    assert_eq!(streams.stats().flows_evicted, 100);
    assert!(
        !streams.flows.contains_key(&key(0)),
        "the oldest went first"
    );
    assert!(streams
        .flows
        .contains_key(&key(TcpStreams::MAX_FLOWS as u16 + 99)));
}

#[test]
fn idle_flows_expire() {
    let mut streams = TcpStreams::default();
    streams.handle_segment(Timestamp(0), key(1), data(1), &message("x@x", 10)[..100]);
    let deadline = streams.poll_timeout().expect("a flow is followed");
    assert_eq!(deadline, Timestamp(0).plus(TcpStreams::IDLE));
    streams.expire(Timestamp(1));
    assert_eq!(streams.flows(), 1);
    streams.expire(deadline);
    assert_eq!(streams.flows(), 0);
    assert_eq!(streams.stats().incomplete, 1);
    assert_eq!(streams.poll_timeout(), None);
}

proptest! {
    /// Any segmentation, any reordering of neighbours within the window and any repeats
    /// give the messages of the unsegmented stream.
    #[test]
    fn any_segmentation_and_permutation_reads_the_same_messages(
        bodies in proptest::collection::vec(0usize..600, 1..6),
        cuts in proptest::collection::vec(1usize..400, 1..60),
        swaps in proptest::collection::vec((0usize..60, 1usize..4), 0..20),
        repeats in proptest::collection::vec(0usize..60, 0..5),
        base in any::<u32>(),
    ) {
        let messages: Vec<Vec<u8>> = bodies
            .iter()
            .enumerate()
            .map(|(i, &len)| message(&format!("m{i}@x"), len))
            .collect();
        let stream = messages.concat();
        let mut segments = Vec::new();
        let (mut offset, mut i) = (0usize, 0usize);
        while offset < stream.len() {
            let end = (offset + cuts[i % cuts.len()]).min(stream.len());
            segments.push((base.wrapping_add(offset as u32), stream[offset..end].to_vec()));
            (offset, i) = (end, i + 1);
        }
        for (at, distance) in swaps {
            let (a, b) = (at % segments.len(), (at + distance) % segments.len());
            segments.swap(a, b);
        }
        for at in repeats {
            let copy = segments[at % segments.len()].clone();
            segments.insert((at * 7) % segments.len(), copy);
        }
        let mut streams = TcpStreams::default();
        let read = feed(&mut streams, base, &segments);
        let expected: Vec<String> = (0..bodies.len()).map(|i| format!("m{i}@x")).collect();
        prop_assert_eq!(read, expected);
    }
}
