//! Memory per call in progress: the heap the engine holds for 10,000 answered calls with RTP
//! flowing both ways (jitter buffers and mixers full), and what the recorder adds per call.
//! The target is under 64 KiB per call. Run with `cargo bench --bench memory`.
#![allow(
    clippy::expect_used,
    reason = "a benchmark harness stops at once on a broken set-up"
)]

use bridge_agent::recorder::Recorder;
use bridge_agent::sink::EventSink;
use bridge_agent::store::Store;
use ringside_core::packet::LinkType;
use ringside_core::{Engine, EngineConfig};

mod lab;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn heap_bytes() -> u64 {
    dhat::HeapStats::get().curr_bytes as u64
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    engine_per_call(10_000);
    recorder_per_call(1_000);
}

fn engine_per_call(calls: u16) {
    let lab = lab::lab(calls, 1);
    let before = heap_bytes();
    let mut engine = Engine::new(EngineConfig::default());
    for packet in lab.setup.iter().chain(&lab.rtp) {
        engine.handle_frame(packet.at, LinkType::RawIp, &packet.ip, None);
        while engine.poll_event().is_some() {}
    }
    let in_progress = engine.calls_in_table();
    let per_call = (heap_bytes() - before) / in_progress as u64;
    println!(
        "engine: {in_progress} calls in progress, {per_call} bytes of heap per call ({:.1} KiB)",
        per_call as f64 / 1024.0
    );
    assert_eq!(in_progress, usize::from(calls), "every call is in progress");
    drop(engine);
}

fn recorder_per_call(calls: u16) {
    let lab = lab::lab(calls, 1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).expect("a fresh store");
    let before = heap_bytes();
    let mut engine = Engine::new(EngineConfig::default());
    let mut sink = EventSink::new(store, Recorder::new(dir.path()));
    for packet in lab.setup.iter().chain(&lab.rtp) {
        engine.handle_frame(packet.at, LinkType::RawIp, &packet.ip, None);
        while let Some(event) = engine.poll_event() {
            sink.handle(event);
        }
    }
    let per_call = (heap_bytes() - before) / u64::from(calls);
    println!(
        "engine + recorder: {calls} calls recorded, {per_call} bytes of heap per call ({:.1} KiB)",
        per_call as f64 / 1024.0
    );
}
