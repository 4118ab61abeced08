//! SIP over TCP stream reassembly driven by a sequence of segments of a few flows.
//!
//! Input: records of `[flags][delay s: u8][seq: u32 LE][length: u16 LE][data]`; the flags'
//! low three bits pick one of eight flows, bit 3 is SYN, bit 4 FIN, bit 5 RST. The table
//! stays within its flow and byte bounds after every segment, and idle flows are forgotten.
#![no_main]

use std::net::SocketAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ringside_core::tcp_stream::{FlowKey, TcpSegment, TcpStreams};
use ringside_core::Timestamp;

fuzz_target!(|data: &[u8]| {
    let mut streams = TcpStreams::default();
    let mut now = Timestamp(0);
    let mut rest = data;
    while let [flags, delay, s0, s1, s2, s3, l0, l1, tail @ ..] = rest {
        now = now.plus(Duration::from_secs(u64::from(*delay)));
        let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(tail.len());
        let (bytes, after) = tail.split_at(len);
        rest = after;
        let key = FlowKey {
            src: SocketAddr::from(([192, 0, 2, 1], 5060 + u16::from(flags & 7))),
            dst: SocketAddr::from(([192, 0, 2, 2], 5060)),
        };
        let segment = TcpSegment {
            seq: u32::from_le_bytes([*s0, *s1, *s2, *s3]),
            syn: flags & 8 != 0,
            fin: flags & 16 != 0,
            rst: flags & 32 != 0,
        };
        streams.expire(now);
        streams.handle_segment(now, key, segment, bytes);
        assert!(streams.flows() <= 8);
        assert!(streams.held_bytes() <= streams.flows() * TcpStreams::MAX_BUFFERED);
    }
    streams.expire(now.plus(TcpStreams::IDLE * 2));
    assert_eq!(streams.flows(), 0, "flows outlived the idle timeout");
    assert_eq!(streams.held_bytes(), 0);
});
