//! RTP packets: the checked view and every accessor, and G.711 decoding of the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::g711;
use ringside_core::rtp::RtpPacket;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = RtpPacket::new_checked(data) else {
        return;
    };
    let _ = (packet.marker(), packet.payload_type(), packet.sequence());
    let _ = (packet.timestamp(), packet.ssrc());
    let payload = packet.payload();
    assert!(packet.payload_offset() + payload.len() <= data.len());
    for &byte in payload {
        let _ = (g711::decode_ulaw(byte), g711::decode_alaw(byte));
    }
});
