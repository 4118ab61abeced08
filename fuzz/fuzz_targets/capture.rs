//! Capture files: pcap, pcapng, Network Monitor and gzip of them, as the replay opens and
//! reads them (`Capture::from_reader`, `next_frame`), and the test that tells a capture from
//! a SIP text trace (`file_kind`). Every frame read goes through the engine, as in a replay.
#![no_main]

use bridge_agent::capture::{file_kind, Capture};
use libfuzzer_sys::fuzz_target;
use ringside_core::{Engine, EngineConfig};

fuzz_target!(|data: &[u8]| {
    let _ = file_kind(&data[..data.len().min(2048)]);
    let Ok(mut capture) = Capture::from_reader(std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    let mut engine = Engine::new(EngineConfig::default());
    while let Some(Ok(frame)) = capture.next_frame() {
        engine.handle_frame(frame.time, frame.link, frame.data, None);
        while engine.poll_event().is_some() {}
    }
});
