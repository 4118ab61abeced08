//! The listen-live delay (issue: web console; target: the audio plays in the browser within
//! about half a second of real time). In the live lab, one inbound call whose caller sends a
//! 440 Hz burst of one second every three seconds, silence between; `ringside run` records it;
//! Debian's headless chromium in the bridge namespace listens live through the console.
//!
//! For every burst: the moment the provider sent its first loud packet (this process, wall
//! clock), the moment that audio reached the page (its WebSocket message) and the moment the
//! page's `AudioWorklet` plays it (arrival plus the audio queued ahead of it). Same machine,
//! same clock. Prints the medians and the worst of both delays.
//!
//! Needs root, iproute2, iptables, chromium, Node.js with `npm ci` in `tests/browser`, and a
//! release build: `cargo build --release && cargo bench -p ringside-e2e --bench listen`.

#![allow(
    clippy::expect_used,
    reason = "a benchmark harness stops on a broken set-up"
)]

use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use ringside_e2e::lab::{Lab, PHONE, PROVIDER};
use ringside_synth::{self as synth, Endpoints, Outcome, SynthCall, SynthPacket};

/// How long the call talks.
const TALK: Duration = Duration::from_secs(40);
/// One burst every this long, lasting [`BURST`].
const PERIOD: Duration = Duration::from_secs(3);
const BURST: Duration = Duration::from_secs(1);
/// µ-law silence.
const ULAW_ZERO: u8 = 0xFF;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let mut lab = Lab::new();
    lab.start_agent();
    let provider: IpAddr = PROVIDER.parse().expect("an address");
    let call = SynthCall {
        call_id: format!("listen-bench@{PROVIDER}"),
        ring: Duration::from_millis(300),
        outcome: Outcome::Answered { talk: TALK },
        endpoints: Endpoints::between(provider, PHONE.parse().expect("an address"), 0, 5060),
        ..SynthCall::inbound(0, "15550100001", Some("Bench"))
    };
    let packets = bursts(
        synth::packets(std::slice::from_ref(&call), 5),
        call.endpoints,
    );
    let sockets = lab.sockets_for(&packets);

    let browser = Command::new("ip")
        .args(["netns", "exec", &lab.ns("br"), "node"])
        .arg(browser_dir.join("listen-delay.mjs"))
        .env("CONSOLE_URL", "http://127.0.0.1:8080")
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    // The call in real time; each burst's first packet is timed as it leaves.
    let mut sent_onsets = Vec::new();
    let start = Instant::now();
    for packet in &packets {
        let due = start + packet.at;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        if packet.src == call.endpoints.provider_rtp && is_onset(&packets, packet) {
            sent_onsets.push(epoch_ms(SystemTime::now()));
        }
        let _ = sockets[&packet.src].send_to(&packet.payload, packet.dst);
    }
    let output = browser.wait_with_output().expect("the browser script");
    assert!(output.status.success(), "the browser script failed");
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let list = |key: &str| -> Vec<f64> {
        seen[key]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect()
    };
    let arrived = delays(&sent_onsets, &list("arrived"));
    let heard = delays(&sent_onsets, &list("heard"));
    println!("| bursts sent | heard | delay to the page: median | worst | delay to the speaker: median | worst |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
        sent_onsets.len(),
        heard.len(),
        median(&arrived),
        worst(&arrived),
        median(&heard),
        worst(&heard)
    );
}

/// The call's packets with the caller's audio silenced outside the bursts.
fn bursts(mut packets: Vec<SynthPacket>, endpoints: Endpoints) -> Vec<SynthPacket> {
    let first = packets
        .iter()
        .find(|p| p.src == endpoints.provider_rtp)
        .expect("caller RTP")
        .at;
    for packet in packets
        .iter_mut()
        .filter(|p| p.src == endpoints.provider_rtp && p.payload.len() > 12)
    {
        if !in_burst(packet.at.saturating_sub(first)) {
            packet.payload[12..].fill(ULAW_ZERO);
        }
    }
    packets
}

/// Bursts start one period into the media and then every period.
fn in_burst(since_media: Duration) -> bool {
    let phase = since_media.as_millis() % PERIOD.as_millis();
    phase >= PERIOD.saturating_sub(BURST).as_millis()
}

/// Whether `packet` (the caller's) is loud and the caller's packet before it was silent.
fn is_onset(packets: &[SynthPacket], packet: &SynthPacket) -> bool {
    let loud = |p: &SynthPacket| p.payload[12..].iter().any(|&b| b != ULAW_ZERO);
    if !loud(packet) {
        return false;
    }
    let before = packets
        .iter()
        .take_while(|p| !std::ptr::eq(*p, packet))
        .filter(|p| p.src == packet.src)
        .last();
    before.is_some_and(|p| !loud(p))
}

fn epoch_ms(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        * 1000.0
}

/// For each onset the page saw, how long after the latest burst sent before it.
fn delays(sent: &[f64], seen: &[f64]) -> Vec<f64> {
    seen.iter()
        .filter_map(|&at| sent.iter().rev().find(|&&s| s <= at).map(|&s| at - s))
        .collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

fn worst(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}
