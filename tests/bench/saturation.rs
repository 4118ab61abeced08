//! The saturation benchmark (issue 11): in the live lab, `iperf3 -u -b 0 -l 172` floods the
//! bridge from the provider's side to the phone's for `SECONDS` (default 4) while, in turn,
//! a trivial consumer (a thread that accepts every packet at once) and `ringside run` hold
//! the queue that all UDP goes through. None of the flood is part of a call: this is the
//! cost of traffic Ringside only has to let pass, and whether a box with two cores keeps
//! forwarding while it does.
//!
//! For each round and consumer: the packets the kernel queued (its packet ids for the queue),
//! the packets that reached the phone's side (iperf3's receiver), and the consumer's CPU
//! time (the trivial thread's own, or the whole `ringside` process's, user + system from
//! `/proc`) per queued packet. The table gives medians over `ROUNDS` (default 3) rounds and
//! ringside's figures as a share of the trivial consumer's.
//!
//! Needs root, iproute2, iptables, iperf3 and a release build of `ringside`:
//! `cargo build --release && cargo bench -p ringside-e2e --bench saturation`.

#![allow(
    clippy::expect_used,
    reason = "a benchmark harness stops on a broken set-up"
)]

use std::process::{Command, Stdio};
use std::time::Duration;

use ringside_e2e::consumer::{queued, TrivialConsumer};
use ringside_e2e::lab::{Lab, PHONE, PROVIDER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consumer {
    Trivial,
    Ringside,
}

impl Consumer {
    fn name(self) -> &'static str {
        match self {
            Consumer::Trivial => "trivial consumer (accept all)",
            Consumer::Ringside => "ringside run",
        }
    }
}

/// One round's figures for one consumer.
#[derive(Debug, Clone, Copy)]
struct Figures {
    queued_per_second: f64,
    delivered_per_second: f64,
    cpu_us_per_packet: f64,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 = setting("RINGSIDE_BENCH_SECONDS", 4);
    let rounds: usize = setting("RINGSIDE_BENCH_ROUNDS", 3);
    let mut lab = Lab::new();
    let mut results: Vec<(Consumer, Figures)> = Vec::new();
    for _ in 0..rounds {
        for consumer in [Consumer::Trivial, Consumer::Ringside] {
            let figures = match consumer {
                Consumer::Trivial => {
                    let trivial = TrivialConsumer::start(&lab);
                    let cpu = || cpu_ticks(&format!("/proc/self/task/{}/stat", trivial.tid));
                    let figures = flood(&lab, seconds, cpu);
                    trivial.stop(&lab);
                    figures
                }
                Consumer::Ringside => {
                    lab.start_agent();
                    let stat = format!("/proc/{}/stat", lab.agent_pid());
                    let figures = flood(&lab, seconds, || cpu_ticks(&stat));
                    lab.stop_agent();
                    figures
                }
            };
            eprintln!("{}: {figures:?}", consumer.name());
            results.push((consumer, figures));
        }
    }
    report(&results);
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Floods the bridge with iperf3 for `seconds`; `cpu` reads the consumer's CPU ticks.
fn flood(lab: &Lab, seconds: u64, cpu: impl Fn() -> u64) -> Figures {
    let server = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns("phone"),
            "iperf3",
            "-s",
            "-1",
            "-J",
        ])
        .args(["-B", PHONE])
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start iperf3 (Debian package iperf3)");
    std::thread::sleep(Duration::from_millis(300));
    let (queued_before, cpu_before) = (queued(lab), cpu());
    let client = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns("prov"),
            "iperf3",
            "-c",
            PHONE,
            "-B",
            PROVIDER,
        ])
        .args([
            "-u",
            "-b",
            "0",
            "-l",
            "172",
            "-t",
            &seconds.to_string(),
            "-J",
        ])
        .output()
        .expect("iperf3 client");
    assert!(client.status.success(), "iperf3 client failed");
    let (queued_after, cpu_after) = (queued(lab), cpu());
    let received = server.wait_with_output().expect("iperf3 server");
    let report: serde_json::Value =
        serde_json::from_slice(&received.stdout).expect("iperf3's JSON report");
    let sum = &report["end"]["sum"];
    let packets = sum["packets"].as_f64().expect("packets");
    let lost = sum["lost_packets"].as_f64().expect("lost packets");
    let elapsed = sum["seconds"].as_f64().expect("seconds");
    let queued = (queued_after - queued_before) as f64;
    let cpu_us = (cpu_after - cpu_before) as f64 * 1e6 / ticks_per_second();
    Figures {
        queued_per_second: queued / elapsed,
        delivered_per_second: (packets - lost) / elapsed,
        cpu_us_per_packet: cpu_us / queued.max(1.0),
    }
}

/// User + system clock ticks of a process or thread, from its `stat` file.
fn cpu_ticks(stat: &str) -> u64 {
    let text = std::fs::read_to_string(stat).expect("stat");
    // Fields after the command name (which may hold spaces) in parentheses.
    let after = &text[text.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are the 14th and 15th fields; `after` starts at the 3rd.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`, 100 on every common Linux).
fn ticks_per_second() -> f64 {
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(results: &[(Consumer, Figures)]) {
    let of = |consumer: Consumer, pick: fn(&Figures) -> f64| {
        median(
            results
                .iter()
                .filter(|(c, _)| *c == consumer)
                .map(|(_, f)| pick(f))
                .collect(),
        )
    };
    println!("| consumer | queued packets/s | delivered packets/s | CPU per queued packet |");
    println!("|---|---:|---:|---:|");
    for consumer in [Consumer::Trivial, Consumer::Ringside] {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} µs |",
            consumer.name(),
            of(consumer, |f| f.queued_per_second),
            of(consumer, |f| f.delivered_per_second),
            of(consumer, |f| f.cpu_us_per_packet),
        );
    }
    let share = |pick: fn(&Figures) -> f64| {
        100.0 * of(Consumer::Ringside, pick) / of(Consumer::Trivial, pick)
    };
    println!(
        "ringside / trivial: CPU per packet {:.0} %, delivered {:.0} %",
        share(|f| f.cpu_us_per_packet),
        share(|f| f.delivered_per_second)
    );
}
