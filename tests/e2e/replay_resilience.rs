//! Replays of broken and hostile captures: a file cut short keeps the calls read before the
//! cut, a gzip bomb costs bounded memory and time, and a packet that panics the engine (the
//! test-only fault hook) costs only its own call.

use ringside_core::call::Disposition;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bridge_agent::store::CallRecord;
use bridge_agent::timefmt::rfc3339;
use ringside_core::fault::{FAULT_HEADER, FAULT_SETTLE_CALL_ID};
use ringside_core::Timestamp;
use ringside_synth::{packets, write_pcap, SynthCall};

use crate::support::{captures_dir, replay_file, Replayed};
use ringside_e2e::lab::ringside_binary;

/// (Call-ID, disposition) of every call, sorted.
fn outcomes(calls: &[CallRecord]) -> Vec<(String, Option<&'static str>)> {
    let mut found: Vec<_> = calls
        .iter()
        .map(|c| {
            (
                c.call.call_id.clone(),
                c.disposition.map(Disposition::as_str),
            )
        })
        .collect();
    found.sort();
    found
}

/// Where each whole packet record of a little-endian pcap ends, with its time.
fn records(bytes: &[u8]) -> Vec<(usize, Timestamp)> {
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let mut found = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let time = Timestamp(u64::from(word(at)) * 1_000_000 + u64::from(word(at + 4)));
        at += 16 + word(at + 8) as usize;
        found.push((at, time));
    }
    found
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn a_capture_cut_short_keeps_every_call_read_before_the_cut() {
    let original = captures_dir().join("sngrep/aaa.pcap");
    let bytes = std::fs::read(&original).expect("capture");
    assert_eq!(bytes[..4], [0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    let whole = replay_file(&original);
    assert!(whole.summary.cut_short.is_none());
    let dir = tempfile::tempdir().expect("tempdir");

    // One byte short: every call is still there, as it was.
    let one_short = replay_file(&write_temp(
        dir.path(),
        "one.pcap",
        &bytes[..bytes.len() - 1],
    ));
    assert_eq!(outcomes(&one_short.calls), outcomes(&whole.calls));
    assert!(!whole.calls.is_empty());
    let cut = one_short
        .summary
        .cut_short
        .as_ref()
        .expect("said cut short");
    assert!(cut.error.contains("cut short"), "{}", cut.error);
    assert!(one_short.summary.to_string().contains("cut short"));

    // Cut in the middle of a packet halfway through.
    let ends = records(&bytes);
    let (last_whole, last_time) = ends[ends.len() / 2];
    let next_end = ends[ends.len() / 2 + 1].0;
    let middle = usize::midpoint(last_whole, next_end);
    let halfway = replay_file(&write_temp(dir.path(), "half.pcap", &bytes[..middle]));
    let cut = halfway.summary.cut_short.as_ref().expect("said cut short");
    assert_eq!(cut.frames_read, ends.len() as u64 / 2 + 1);
    assert_calls_kept(&whole, &halfway, &rfc3339(last_time));
}

/// Every call of `cut` is one of `whole`'s, and every call `whole` had ended by `read_until`
/// is in `cut` with the same outcome.
fn assert_calls_kept(whole: &Replayed, cut: &Replayed, read_until: &str) {
    let all = outcomes(&whole.calls);
    let kept = outcomes(&cut.calls);
    assert!(kept.iter().all(|(id, _)| all.iter().any(|(a, _)| a == id)));
    let ended_before: Vec<_> = whole
        .calls
        .iter()
        .filter(|c| {
            c.ended_at
                .is_some_and(|t| ringside_core::rfc3339::format(t).as_str() <= read_until)
        })
        .map(|c| {
            (
                c.call.call_id.clone(),
                c.disposition.map(Disposition::as_str),
            )
        })
        .collect();
    assert!(
        !ended_before.is_empty(),
        "the cut comes after some call ended"
    );
    for call in &ended_before {
        assert!(kept.contains(call), "{call:?} lost by the cut: {kept:?}");
    }
}

/// A pcap header (raw IP) and 1 GiB of zeros as 1024 gzip members of 1 MiB each (about 1 MB
/// in all): to a reader, empty packet records without end.
fn gzip_bomb(path: &Path) {
    let compress = |bytes: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).expect("compress");
        encoder.finish().expect("compress")
    };
    let zeros = vec![0u8; 1 << 20];
    let mut first = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    first.extend_from_slice(&[0; 8]);
    first.extend_from_slice(&65_535u32.to_le_bytes());
    first.extend_from_slice(&101u32.to_le_bytes());
    first.extend_from_slice(&zeros);
    let mut file = std::fs::File::create(path).expect("create");
    file.write_all(&compress(&first)).expect("write");
    let member = compress(&zeros);
    for _ in 1..1024 {
        file.write_all(&member).expect("write");
    }
}

/// The peak resident memory (`VmHWM`) of a running process, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn a_gzip_bomb_replays_in_bounded_memory_and_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bomb = dir.path().join("bomb.pcap.gz");
    gzip_bomb(&bomb);
    let size = std::fs::metadata(&bomb).expect("bomb").len();
    assert!(size < 2 << 20, "{size} bytes of gzip");
    let started = Instant::now();
    let mut child = Command::new(ringside_binary())
        .arg("replay")
        .arg(&bomb)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ringside replay");
    let mut peak = 0;
    while child.try_wait().expect("try_wait").is_none() {
        peak = peak_kib(child.id()).unwrap_or(peak).max(peak);
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "still replaying the bomb after a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("output");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{summary}");
    assert!(summary.contains("a gzip bomb"), "{summary}");
    eprintln!(
        "gzip bomb: peak {peak} KiB, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(peak > 0, "the replay's memory was never read");
    assert!(peak < 64 << 10, "{peak} KiB resident at the peak");
}

/// Three answered calls 10 s apart, the second one's INVITE carrying the fault header (and
/// the Call-ID `call_id`, when given, in place of its own): the capture and the INVITE's
/// index.
fn three_calls_one_panicking(dir: &Path, call_id: Option<&str>) -> (PathBuf, usize) {
    let mut calls: Vec<SynthCall> = (1..=3)
        .map(|i| SynthCall::inbound(i, &format!("1555010000{i}"), None))
        .collect();
    for (i, call) in calls.iter_mut().enumerate() {
        call.start = Duration::from_secs(10 * i as u64);
    }
    let mut all = packets(&calls, 7);
    let bad = all
        .iter()
        .position(|p| p.payload.starts_with(b"INVITE") && contains(&p.payload, b"synth-2@"))
        .expect("the second call's INVITE");
    let mut text = String::from_utf8(all[bad].payload.clone()).expect("SIP text");
    if let Some(call_id) = call_id {
        text = text.replace(&calls[1].call_id, call_id);
    }
    let marked = text.replacen("\r\n", &format!("\r\n{FAULT_HEADER}: yes\r\n"), 1);
    all[bad].payload = marked.into_bytes();
    let capture = dir.join("panic.pcap");
    write_pcap(&capture, Duration::from_secs(1_790_000_000), &all).expect("pcap");
    (capture, bad)
}

#[test]
fn a_packet_that_panics_the_engine_costs_only_its_own_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (capture, bad) = three_calls_one_panicking(dir.path(), None);
    let replayed = replay_file(&capture);
    let panics = &replayed.summary.panics;
    assert_eq!(panics.len(), 1, "{panics:?}");
    assert_eq!(replayed.summary.panics_total, 1);
    assert_eq!(panics[0].frame, bad as u64 + 1, "frames count from 1");
    assert!(panics[0].message.contains(FAULT_HEADER), "{panics:?}");
    assert!(replayed.summary.to_string().contains("engine bug"));
    assert!(replayed.summary.cut_short.is_none());
    let by_id = |id: &str| {
        replayed
            .calls
            .iter()
            .find(|c| c.call.call_id.starts_with(id))
            .unwrap_or_else(|| panic!("{id} lost: {:#?}", replayed.calls))
    };
    for id in ["synth-1@", "synth-3@"] {
        let call = by_id(id);
        assert_eq!(call.disposition, Some(Disposition::Answered), "{call:?}");
        assert!((3.5..4.5).contains(&replayed.recording_seconds(call)));
    }
    let settled = by_id("synth-2@");
    assert!(
        settled.ended_at.is_some(),
        "ended at the panic: {settled:?}"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_panic_while_settling_stops_the_replay_there_and_keeps_the_calls_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (capture, bad) = three_calls_one_panicking(dir.path(), Some(FAULT_SETTLE_CALL_ID));
    let replayed = replay_file(&capture);
    let cut = replayed.summary.cut_short.as_ref().expect("stopped");
    assert_eq!(cut.frames_read, bad as u64 + 1);
    assert!(
        cut.error.contains("again while ending its call"),
        "{}",
        cut.error
    );
    let first = replayed.by_number("15550100001");
    assert_eq!(first.disposition, Some(Disposition::Answered), "{first:?}");
    assert!(
        replayed
            .calls
            .iter()
            .all(|c| !c.call.call_id.starts_with("synth-3@")),
        "nothing after the stop is read"
    );
}

/// A SIP text trace's INVITE from `number` with more header lines.
fn text_invite(call_id: &str, number: &str, more: &str) -> String {
    format!(
        "INVITE sip:phone@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-{call_id}\r\n\
         From: <sip:{number}@192.0.2.1>;tag=t\r\nTo: <sip:phone@192.0.2.2>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n{more}Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn a_sip_text_trace_that_panics_the_engine_keeps_the_calls_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = text_invite("before@x", "15550100001", "")
        + &text_invite("bad@x", "15550100002", &format!("{FAULT_HEADER}: text\r\n"));
    let replayed = replay_file(&write_temp(dir.path(), "trace.txt", trace.as_bytes()));
    assert_eq!(replayed.summary.panics_total, 1);
    assert_eq!(
        replayed.summary.panics[0].frame, 0,
        "the trace is one piece"
    );
    let before = replayed
        .calls
        .iter()
        .find(|c| c.call.call_id == "before@x")
        .expect("the call before the panic is kept");
    assert!(before.ended_at.is_some(), "{before:?}");
}
