//! SIP over TCP and SIP text traces: `split_stream` on a byte stream, `split_trace` on a
//! trace, and the engine's `handle_sip_text` that a replay of a text trace uses.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use ringside_core::sip::{split_stream, split_trace};
use ringside_core::{Engine, EngineConfig, Timestamp};

fuzz_target!(|data: &[u8]| {
    let (messages, consumed) = split_stream(data);
    assert!(
        consumed <= data.len(),
        "consumed more than the stream holds"
    );
    assert!(messages.len() <= data.len(), "more messages than bytes");
    assert!(
        split_trace(data).len() <= data.len(),
        "more trace messages than bytes"
    );
    let mut engine = Engine::new(EngineConfig::default());
    let provider = SocketAddr::from(([192, 0, 2, 1], 5060));
    let phone = SocketAddr::from(([192, 0, 2, 2], 5060));
    engine.handle_sip_text(Timestamp(1_700_000_000_000_000), data, provider, phone);
    engine.finish(Timestamp(1_700_000_100_000_000));
    while engine.poll_event().is_some() {}
});
