//! Packet decode: one frame of any link type through `Decoder::decode` (link layers, VLAN,
//! PPPoE, IPv4/IPv6, IP-in-IP, UDP/TCP). The first byte picks the link type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::packet::{Decoded, Decoder};
use ringside_core::Timestamp;
use ringside_fuzz::link_type;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = link_type(selector);
    let mut decoder = Decoder::default();
    if let Decoded::Datagram(datagram) = decoder.decode(Timestamp(0), link, frame) {
        assert!(
            datagram.payload.len() <= 65_535,
            "a payload longer than IP allows"
        );
    }
});
