//! The queue benchmark (issue: live bridge agent): in the live lab, 100 concurrent calls
//! (SIP set-up, then two-way PCMU at 50 packets/s each way) cross the bridge while, side by
//! side in one run, three things consume the queue in turn:
//!
//! - nothing (the rules' `--queue-bypass` forwards every packet): the bridge's own latency;
//! - a trivial consumer that accepts every packet at once;
//! - `ringside run`, recording every call.
//!
//! For each, the forwarding latency of one call's RTP (send to receive, same clock) gives the
//! median and p99, and a burst of RTP sent as fast as possible gives the packets per second
//! that went through the queue (the kernel's packet ids for the queue, so packets that
//! overflowed and bypassed the consumer do not count).
//!
//! Needs root, iproute2, iptables and a release build of `ringside`:
//! `cargo build --release && cargo bench -p ringside-e2e --bench queue`.

#![allow(
    clippy::expect_used,
    reason = "a benchmark harness stops on a broken set-up"
)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringside_e2e::consumer::{queued, TrivialConsumer};
use ringside_e2e::lab::{Lab, PHONE, PROVIDER};
use ringside_synth::{self as synth, Endpoints, Outcome, SynthCall, SynthPacket};

const CALLS: u16 = 100;
const PACED: Duration = Duration::from_secs(10);
const BURST: Duration = Duration::from_secs(2);
const ROUNDS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consumer {
    Bypass,
    Trivial,
    Ringside,
}

impl Consumer {
    fn name(self) -> &'static str {
        match self {
            Consumer::Bypass => "no consumer (--queue-bypass)",
            Consumer::Trivial => "trivial consumer (accept all)",
            Consumer::Ringside => "ringside run (recording)",
        }
    }
}

/// One run's figures.
#[derive(Debug, Default, Clone)]
struct Figures {
    latencies_us: Vec<u64>,
    queued_per_second: f64,
    offered_per_second: f64,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut lab = Lab::new();
    let calls: Vec<SynthCall> = (0..CALLS)
        .map(|i| SynthCall {
            call_id: format!("bench-{i}@{PROVIDER}"),
            start: Duration::from_millis(u64::from(i) * 5),
            ring: Duration::from_millis(200),
            outcome: Outcome::Answered {
                talk: PACED + Duration::from_secs(5),
            },
            endpoints: Endpoints::between(ip(PROVIDER), ip(PHONE), i, 5060),
            ..SynthCall::inbound(i, &format!("1555{i:07}"), Some("Bench"))
        })
        .collect();
    let packets = synth::packets(&calls, 11);
    let probe = calls[0].endpoints;
    let sockets = lab.sockets_for(&packets);
    let mut results: HashMap<&'static str, Vec<Figures>> = HashMap::new();
    for _ in 0..ROUNDS {
        for consumer in [Consumer::Bypass, Consumer::Trivial, Consumer::Ringside] {
            let trivial = start(&mut lab, consumer);
            let figures = measure(&lab, &sockets, &packets, probe);
            stop(&mut lab, consumer, trivial);
            eprintln!("{}: {figures:?}", consumer.name());
            results.entry(consumer.name()).or_default().push(figures);
        }
    }
    report(&results);
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

fn start(lab: &mut Lab, consumer: Consumer) -> Option<TrivialConsumer> {
    match consumer {
        Consumer::Bypass => None,
        Consumer::Ringside => {
            lab.start_agent();
            None
        }
        Consumer::Trivial => Some(TrivialConsumer::start(lab)),
    }
}

fn stop(lab: &mut Lab, consumer: Consumer, trivial: Option<TrivialConsumer>) {
    match (consumer, trivial) {
        (Consumer::Ringside, _) => {
            lab.stop_agent();
        }
        (Consumer::Trivial, Some(trivial)) => trivial.stop(lab),
        _ => {}
    }
}

fn measure(
    lab: &Lab,
    sockets: &HashMap<SocketAddr, UdpSocket>,
    packets: &[SynthPacket],
    probe: Endpoints,
) -> Figures {
    let sent: Arc<Mutex<HashMap<u16, Instant>>> = Arc::default();
    let received = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let probe_thread = {
        let socket = sockets[&probe.phone_rtp].try_clone().expect("clone");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let (sent, received, done) = (Arc::clone(&sent), Arc::clone(&received), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut buffer = [0u8; 2048];
            while !done.load(Ordering::Relaxed) {
                let Ok(n) = socket.recv(&mut buffer) else {
                    continue;
                };
                let at = Instant::now();
                received.fetch_add(1, Ordering::Relaxed);
                if n >= 12 {
                    let seq = u16::from_be_bytes([buffer[2], buffer[3]]);
                    if let Some(when) = sent.lock().expect("lock").remove(&seq) {
                        latencies.push(at.duration_since(when).as_micros() as u64);
                    }
                }
            }
            latencies
        })
    };
    // Paced: the calls in real time; the probe call's RTP toward the phone is timed.
    let start = Instant::now();
    for packet in packets.iter().take_while(|p| p.at < PACED) {
        let due = start + packet.at;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        if packet.src == probe.provider_rtp && packet.payload.len() >= 12 {
            let seq = u16::from_be_bytes([packet.payload[2], packet.payload[3]]);
            sent.lock().expect("lock").insert(seq, Instant::now());
        }
        let _ = sockets[&packet.src].send_to(&packet.payload, packet.dst);
    }
    // Burst: the probe call's RTP as fast as this thread can send it.
    let template = packets
        .iter()
        .find(|p| p.src == probe.provider_rtp && p.payload.len() >= 12)
        .expect("probe RTP")
        .payload
        .clone();
    let socket = &sockets[&probe.provider_rtp];
    let before = queued(lab);
    let burst_start = Instant::now();
    let mut offered = 0u64;
    let mut payload = template;
    let mut seq = 40_000u16;
    while burst_start.elapsed() < BURST {
        seq = seq.wrapping_add(1);
        payload[2..4].copy_from_slice(&seq.to_be_bytes());
        let timestamp = u32::from(seq).wrapping_mul(160);
        payload[4..8].copy_from_slice(&timestamp.to_be_bytes());
        if socket.send_to(&payload, probe.phone_rtp).is_ok() {
            offered += 1;
        }
    }
    let seconds = burst_start.elapsed().as_secs_f64();
    let through = queued(lab).saturating_sub(before);
    std::thread::sleep(Duration::from_millis(300));
    done.store(true, Ordering::Relaxed);
    let latencies_us = probe_thread.join().expect("receiver");
    Figures {
        latencies_us,
        queued_per_second: through as f64 / seconds,
        offered_per_second: offered as f64 / seconds,
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank]
}

fn report(results: &HashMap<&'static str, Vec<Figures>>) {
    println!(
        "| consumer | probe packets | median latency | p99 latency | packets/s through the queue | offered packets/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for consumer in [Consumer::Bypass, Consumer::Trivial, Consumer::Ringside] {
        let runs = &results[consumer.name()];
        let mut all: Vec<u64> = runs.iter().flat_map(|f| f.latencies_us.clone()).collect();
        all.sort_unstable();
        let mut rates: Vec<f64> = runs.iter().map(|f| f.queued_per_second).collect();
        rates.sort_by(f64::total_cmp);
        let mut offered: Vec<f64> = runs.iter().map(|f| f.offered_per_second).collect();
        offered.sort_by(f64::total_cmp);
        let rate = if consumer == Consumer::Bypass {
            "-".to_owned()
        } else {
            format!("{:.0}", rates[rates.len() / 2])
        };
        println!(
            "| {} | {} | {} µs | {} µs | {rate} | {:.0} |",
            consumer.name(),
            all.len(),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            offered[offered.len() / 2]
        );
    }
}
