//! IPv4/IPv6 fragment reassembly driven by a sequence of fragments of a few datagrams.
//!
//! Input: records of `[flags][delay ms: u8][offset: u16 LE][length: u16 LE][data]`; the
//! flags' low two bits pick one of four datagrams, bit 2 is "more fragments", bit 3 the IP
//! family. A completed datagram is never longer than IP allows, and the pool stays bounded.
#![no_main]

use std::net::IpAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ringside_core::reassembly::{Added, Fragment, FragmentKey, Reassembly};
use ringside_core::Timestamp;

fuzz_target!(|data: &[u8]| {
    let mut pool = Reassembly::default();
    let mut now = Timestamp(0);
    let mut rest = data;
    while let [flags, delay, o0, o1, l0, l1, tail @ ..] = rest {
        now = now.plus(Duration::from_millis(u64::from(*delay) * 100));
        let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(tail.len());
        let (bytes, after) = tail.split_at(len);
        rest = after;
        let (src, dst): (IpAddr, IpAddr) = if flags & 8 == 0 {
            ([192, 0, 2, 1].into(), [192, 0, 2, 2].into())
        } else {
            (
                [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1].into(),
                [0x2001, 0xdb8, 0, 0, 0, 0, 0, 2].into(),
            )
        };
        let key = FragmentKey {
            src,
            dst,
            id: u32::from(flags & 3),
            protocol: 17,
        };
        let fragment = Fragment {
            offset: usize::from(u16::from_le_bytes([*o0, *o1])),
            more: flags & 4 != 0,
            data: bytes,
        };
        if let Ok(Added::Complete(whole)) = pool.add(now, key, fragment) {
            assert!(whole.len() <= 65_535, "a datagram longer than IP allows");
        }
        assert!(pool.pending() <= Reassembly::MAX_PENDING);
    }
    pool.expire(now.plus(Reassembly::TIMEOUT * 2));
    assert_eq!(pool.pending(), 0, "datagrams outlived the timeout");
});
