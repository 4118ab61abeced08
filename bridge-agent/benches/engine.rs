//! RTP throughput of the engine, alone and with recording: 100 and 1,000 answered calls, two
//! seconds of two-way PCMU each. The figure to read is elements (RTP packets) per second on
//! one core; the target is 1 million with decoding and recording.
#![allow(
    clippy::expect_used,
    reason = "a benchmark harness stops at once on a broken set-up"
)]

use std::hint::black_box;

use bridge_agent::recorder::Recorder;
use bridge_agent::sink::EventSink;
use bridge_agent::store::Store;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use ringside_core::packet::LinkType;
use ringside_core::{Engine, EngineConfig};

mod lab;

const CALLS: [u16; 2] = [100, 1_000];
const SECONDS: u64 = 2;

/// Where the recordings go: `RINGSIDE_BENCH_DIR` (to compare file systems), else the
/// system's temporary directory.
fn recordings_dir() -> tempfile::TempDir {
    match std::env::var_os("RINGSIDE_BENCH_DIR") {
        Some(parent) => tempfile::tempdir_in(parent),
        None => tempfile::tempdir(),
    }
    .expect("a temporary directory for the recordings")
}

fn engine_after(setup: &[lab::Packet]) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    for packet in setup {
        engine.handle_frame(packet.at, LinkType::RawIp, &packet.ip, None);
    }
    engine
}

fn rtp_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("rtp");
    group.sample_size(10);
    for calls in CALLS {
        let lab = lab::lab(calls, SECONDS);
        group.throughput(Throughput::Elements(lab.rtp.len() as u64));
        group.bench_with_input(BenchmarkId::new("engine", calls), &lab, engine_only);
        group.bench_with_input(BenchmarkId::new("engine+recorder", calls), &lab, recorded);
    }
    group.finish();
}

/// Decoding, jitter buffers and mixing; the events are dropped.
fn engine_only(b: &mut criterion::Bencher<'_>, lab: &lab::Lab) {
    b.iter_batched(
        || {
            let mut engine = engine_after(&lab.setup);
            while engine.poll_event().is_some() {}
            engine
        },
        |mut engine| {
            for packet in &lab.rtp {
                black_box(engine.handle_frame(packet.at, LinkType::RawIp, &packet.ip, None));
                while let Some(event) = engine.poll_event() {
                    black_box(event);
                }
            }
            engine
        },
        BatchSize::PerIteration,
    );
}

/// The same, with every event applied to the store and the WAV files on the same thread.
fn recorded(b: &mut criterion::Bencher<'_>, lab: &lab::Lab) {
    b.iter_batched(
        || {
            let dir = recordings_dir();
            let store = Store::open(dir.path()).expect("a fresh store");
            let mut sink = EventSink::new(store, Recorder::new(dir.path()));
            let mut engine = engine_after(&lab.setup);
            while let Some(event) = engine.poll_event() {
                sink.handle(event);
            }
            (dir, engine, sink)
        },
        |(dir, mut engine, mut sink)| {
            for packet in &lab.rtp {
                black_box(engine.handle_frame(packet.at, LinkType::RawIp, &packet.ip, None));
                while let Some(event) = engine.poll_event() {
                    sink.handle(event);
                }
            }
            (dir, engine, sink)
        },
        BatchSize::PerIteration,
    );
}

criterion_group!(benches, rtp_throughput);
criterion_main!(benches);
