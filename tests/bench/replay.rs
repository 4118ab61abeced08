//! The replay benchmark (issue 11): `ringside replay` of many concurrent G.711 calls, every
//! call recorded, against `tcpdump` and `tshark` reading the same capture, as whole
//! processes side by side in one run.
//!
//! The capture is generated (`synth`): `CALLS` inbound PCMU calls (default 1,000) set up a
//! few milliseconds apart and answered, then `SECONDS` of two-way RTP each (default 20, so
//! 2 M RTP packets at 1,000 calls). Each round runs, in turn:
//!
//! - `ringside replay CAPTURE --data-dir FRESH_DIR` (the release build beside this bench);
//! - the same number of bytes as the replay's recordings written alone, by this bench itself
//!   (`--write-wav-bytes`): 1,000 files, each a 44-byte header and then one write per file
//!   per 32 KiB of audio, ending on 32 KiB boundaries of the file, as the recorder writes
//!   them in a replay. What the kernel charges for the recordings, whoever writes them, at
//!   that moment;
//! - `tcpdump -n -r CAPTURE -w /dev/null` (reads and writes every packet, decodes none: the
//!   reference of the ratio);
//! - `tcpdump -n -r CAPTURE > /dev/null` (decodes every packet and prints a line for it);
//! - `tshark -n -q -z rtp,streams -r CAPTURE` (decodes every packet, reports the streams).
//!
//! Before each round, and again between the replay and the plain writes, the disk is
//! settled ([`settle_the_disk`]): the files written before are deleted, synced, and the
//! bench waits `SETTLE` seconds (default 35). On the VMs this was measured on, what the
//! kernel spends writing the same 640 MB of WAV swung from 0.4 to 2.5 s of system time with
//! the state the earlier rounds left (see BENCHMARKS.md); settled, every round starts from
//! the same state. Right before each process, the capture is read once ([`warm`]), so that
//! every process finds it in the page cache.
//!
//! Each process runs under `/usr/bin/time`, which reports its user and system CPU seconds
//! and peak resident memory; the table gives the median of `ROUNDS` (default 5) rounds,
//! packets per CPU-second (the RTP packets ringside counted, over user + system) and each
//! process's CPU as a multiple of tcpdump's.
//!
//! Needs a release build of `ringside`, tcpdump and tshark:
//! `cargo build --release && cargo bench -p ringside-e2e --bench replay`
//! (`RINGSIDE_BENCH_CALLS`, `RINGSIDE_BENCH_SECONDS` and `RINGSIDE_BENCH_ROUNDS` change the
//! workload, `RINGSIDE_BENCH_SETTLE` the wait; `RINGSIDE_BENCH_KEEP=DIR` writes the capture there and keeps it).

#![allow(
    clippy::expect_used,
    reason = "a benchmark harness stops on a broken set-up"
)]

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapWriter};
use ringside_e2e::lab::ringside_binary;
use ringside_synth::{self as synth, Outcome, SynthCall};

/// One process's cost in one round.
#[derive(Debug, Clone, Copy)]
struct Cost {
    user: f64,
    system: f64,
    peak_kib: u64,
}

impl Cost {
    fn cpu(self) -> f64 {
        self.user + self.system
    }
}

const TOOLS: [&str; 5] = [
    "ringside replay",
    "the WAVs' bytes written alone",
    "tcpdump -n -r -w /dev/null",
    "tcpdump -n -r > /dev/null",
    "tshark -q -z rtp,streams",
];

/// The bytes of a second of audio (8 kHz stereo 16-bit).
const WAV_BYTES_PER_SECOND: usize = 32_000;
/// The bytes of a replay's chunk of audio (8,192 frames), which the recorder writes at once,
/// each write ending on a multiple of it in the file.
const WAV_BYTES_PER_WRITE: usize = 32_768;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let [_, flag, dir, files, seconds] = args.as_slice() {
        if flag == "--write-wav-bytes" {
            let number = |text: &str| text.parse().expect("a number");
            write_wav_bytes(Path::new(dir), number(files), number(seconds));
            return;
        }
    }
    let calls = setting("RINGSIDE_BENCH_CALLS", 1000);
    let seconds = setting("RINGSIDE_BENCH_SECONDS", 20);
    let rounds = setting("RINGSIDE_BENCH_ROUNDS", 5);
    let settle = Duration::from_secs(setting("RINGSIDE_BENCH_SETTLE", 35).into());
    let scratch = tempfile::tempdir().expect("scratch directory");
    let keep = std::env::var_os("RINGSIDE_BENCH_KEEP").map(PathBuf::from);
    let capture = keep
        .unwrap_or_else(|| scratch.path().to_owned())
        .join(format!("replay-{calls}x{seconds}s.pcap"));
    if !capture.exists() {
        write_capture(&capture, calls, seconds);
    }
    eprintln!(
        "capture {} ({} MB)",
        capture.display(),
        std::fs::metadata(&capture).expect("capture").len() >> 20
    );
    let mut costs: Vec<Vec<Cost>> = vec![Vec::new(); TOOLS.len()];
    let mut rtp_packets = 0;
    for round in 0..rounds {
        let data_dir = scratch.path().join(format!("data-{round}"));
        let plain_dir = scratch.path().join(format!("plain-{round}"));
        let commands = round_commands(&capture, &data_dir, &plain_dir, calls, seconds);
        let previous = round.checked_sub(1);
        settle_the_disk(
            previous.map(|r| scratch.path().join(format!("plain-{r}"))),
            settle,
        );
        for (tool, (argv, keep_stdout)) in commands.iter().enumerate() {
            if tool == 1 {
                // The same bytes written alone, from the same state of the disk.
                settle_the_disk(Some(data_dir.clone()), settle);
            }
            warm(&capture);
            let (cost, stdout) = run_timed(argv, *keep_stdout, scratch.path());
            if tool == 0 {
                rtp_packets = rtp_count(&stdout);
            }
            costs[tool].push(cost);
        }
        eprintln!(
            "round {round}: {:?}",
            costs
                .iter()
                .map(|c| c[usize::from(round)])
                .collect::<Vec<_>>()
        );
    }
    report(&costs, rtp_packets);
}

/// The processes of one round, in the order of [`TOOLS`], and whether each one's output is
/// kept (ringside's summary counts the RTP packets).
fn round_commands(
    capture: &Path,
    data_dir: &Path,
    plain_dir: &Path,
    calls: u16,
    seconds: u16,
) -> [(Vec<OsString>, bool); 5] {
    let argv = |words: &[&OsStr]| words.iter().map(|&w| w.to_owned()).collect::<Vec<_>>();
    let file = capture.as_os_str();
    let bench = std::env::current_exe().expect("the bench's own path");
    let (calls, seconds) = (calls.to_string(), seconds.to_string());
    [
        (
            argv(&[
                ringside_binary().as_os_str(),
                "replay".as_ref(),
                file,
                "--data-dir".as_ref(),
                data_dir.as_os_str(),
            ]),
            true,
        ),
        (
            argv(&[
                bench.as_os_str(),
                "--write-wav-bytes".as_ref(),
                plain_dir.as_os_str(),
                calls.as_ref(),
                seconds.as_ref(),
            ]),
            false,
        ),
        (
            argv(&[
                "tcpdump".as_ref(),
                "-n".as_ref(),
                "-r".as_ref(),
                file,
                "-w".as_ref(),
                "/dev/null".as_ref(),
            ]),
            false,
        ),
        (
            argv(&["tcpdump".as_ref(), "-n".as_ref(), "-r".as_ref(), file]),
            false,
        ),
        (
            argv(&[
                "tshark".as_ref(),
                "-n".as_ref(),
                "-q".as_ref(),
                "-z".as_ref(),
                "rtp,streams".as_ref(),
                "-r".as_ref(),
                file,
            ]),
            false,
        ),
    ]
}

fn setting(name: &str, default: u16) -> u16 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes the calls' packets as a pcap, one frame at a time.
fn write_capture(path: &Path, calls: u16, seconds: u16) {
    let calls: Vec<SynthCall> = (0..calls)
        .map(|i| SynthCall {
            call_id: format!("replay-bench-{i}@203.0.113.5"),
            start: Duration::from_millis(u64::from(i) * 3),
            ring: Duration::from_millis(500),
            outcome: Outcome::Answered {
                talk: Duration::from_secs(seconds.into()),
            },
            ..SynthCall::inbound(i, &format!("1555{i:07}"), Some("Bench"))
        })
        .collect();
    let packets = synth::packets(&calls, 11);
    let epoch = Duration::from_secs(1_790_000_000);
    let mut writer =
        PcapWriter::new(BufWriter::new(File::create(path).expect("capture"))).expect("pcap header");
    let mut frame = Vec::new();
    for packet in &packets {
        synth::ethernet_frame(packet, &mut frame).expect("frame");
        writer
            .write_packet(&PcapPacket::new(
                epoch + packet.at,
                frame.len() as u32,
                &frame,
            ))
            .expect("write the capture");
    }
}

/// Deletes the previous round's data directory (if any), writes what is left in the page cache out
/// (`sync`) and waits `settle`, so that each round's replay starts from the same state of
/// the disk and of memory:
///
/// - deleting 1,000 files just before a replay made it pay for them: ext4 without a journal
///   (this machine's disk) looks through the inodes deleted in the last 30 s or so for
///   every file it creates (up to 0.6 s of system time in `recently_deleted`);
/// - keeping every round's files instead left the page cache to grow into memory the VM had
///   not touched yet, and copying into such pages was up to five times slower (a plain
///   Python loop writing the same bytes: 0.35 s of system time, then 1.3 to 1.7 s);
/// - a round that starts while an earlier one's writes are still going out pays for part
///   of them.
fn settle_the_disk(previous: Option<PathBuf>, settle: Duration) {
    if let Some(previous) = previous {
        std::fs::remove_dir_all(previous).expect("remove the previous data directory");
    }
    let synced = Command::new("sync").status().expect("cannot run sync");
    assert!(synced.success(), "sync failed");
    std::thread::sleep(settle);
}

/// Reads the capture once, so that every process finds it in the page cache: after the
/// settling wait, part of it may have been dropped from memory, and the first reader paid for
/// reading it from the disk again (in a profile, 3 % of a replay's CPU in the kernel's
/// read-ahead).
fn warm(capture: &Path) {
    let mut file = File::open(capture).expect("the capture");
    std::io::copy(&mut file, &mut std::io::sink()).expect("read the capture");
}

/// `--write-wav-bytes DIR FILES SECONDS`: what the recorder of a replay writes, without
/// Ringside: FILES new files in DIR, each a 44-byte header and then SECONDS of audio in
/// writes up to the next multiple of [`WAV_BYTES_PER_WRITE`] in the file (the last one the
/// rest), the files taken in turn. The reference for what the kernel alone costs at that
/// moment (see [`settle_the_disk`]).
fn write_wav_bytes(dir: &Path, files: u16, seconds: u16) {
    const HEADER: usize = 44;
    std::fs::create_dir_all(dir).expect("the directory");
    let mut open: Vec<File> = (0..files)
        .map(|i| {
            let mut file = File::create(dir.join(format!("{i}.wav"))).expect("a file");
            file.write_all(&[0; HEADER]).expect("a header");
            file
        })
        .collect();
    let end = HEADER + usize::from(seconds) * WAV_BYTES_PER_SECOND;
    let piece = vec![0x55u8; WAV_BYTES_PER_WRITE];
    let mut at = HEADER;
    while at < end {
        let next = ((at / WAV_BYTES_PER_WRITE + 1) * WAV_BYTES_PER_WRITE).min(end);
        for file in &mut open {
            file.write_all(&piece[..next - at]).expect("a write");
        }
        at = next;
    }
}

/// Runs `argv` under `/usr/bin/time`; returns its cost and, if kept, its output.
fn run_timed(argv: &[OsString], keep_stdout: bool, scratch: &Path) -> (Cost, String) {
    let report = scratch.join("time.txt");
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%U %S %M", "-o"])
        .arg(&report)
        .args(argv)
        .stdout(if keep_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .output()
        .expect("cannot run /usr/bin/time (Debian package `time`)");
    assert!(
        output.status.success(),
        "{} failed: {}",
        argv[0].to_string_lossy(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&report).expect("time's report");
    let fields: Vec<&str> = text
        .lines()
        .last()
        .expect("a line")
        .split_whitespace()
        .collect();
    let cost = Cost {
        user: fields[0].parse().expect("user seconds"),
        system: fields[1].parse().expect("system seconds"),
        peak_kib: fields[2].parse().expect("peak KiB"),
    };
    (cost, String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The RTP packets of ringside's summary line `packets  N frames: N SIP messages, N RTP, ..`.
fn rtp_count(summary: &str) -> u64 {
    summary
        .lines()
        .find(|l| l.trim_start().starts_with("packets"))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|part| part.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no RTP count in the summary:\n{summary}"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(costs: &[Vec<Cost>], rtp_packets: u64) {
    let tcpdump = median(costs[2].iter().map(|c| c.cpu()).collect());
    println!(
        "RTP packets (ringside's count): {rtp_packets}; {} rounds",
        costs[0].len()
    );
    println!(
        "| process | user s | system s | CPU s | RTP packets per CPU-second | CPU / tcpdump's | peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (tool, runs) in TOOLS.iter().zip(costs) {
        let cpu = median(runs.iter().map(|c| c.cpu()).collect());
        let peak = median(runs.iter().map(|c| c.peak_kib as f64).collect());
        println!(
            "| {tool} | {:.2} | {:.2} | {cpu:.2} | {:.2} M | {:.1}x | {:.0} MiB |",
            median(runs.iter().map(|c| c.user).collect()),
            median(runs.iter().map(|c| c.system).collect()),
            rtp_packets as f64 / cpu / 1e6,
            cpu / tcpdump,
            peak / 1024.0
        );
    }
}
