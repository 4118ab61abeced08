//! A full data disk on the live lab: the agent's data directory on a small tmpfs, nearly
//! full. With the free-space floor at 1 MB, a recorded call runs it below the floor: the
//! phone still gets the whole call, the recording stops with a valid WAV and a warning, the
//! call log says the recording was cut short, and the agent goes on to pass (and log,
//! unrecorded) the next call. With no floor, a call fills the disk to the last byte: the
//! write error stops the recording the same way, the phone never notices, and the call log
//! (held in memory while the database cannot grow either) is complete once there is room.

use ringside_core::call::Disposition;
use std::path::{Path, PathBuf};
use std::process::Command;

use ringside_e2e::lab::{ringside_binary, wait_with_timeout, Lab};

use crate::lab::answered_call;

/// A tmpfs mounted over a folder of the lab's own temporary directory, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("run mount");
        assert!(status.success(), "cannot mount a tmpfs on {}", at.display());
        Tmpfs(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the agent may still hold files open while the lab is torn down.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A lab whose data directory is a 4 MB tmpfs with `floor` MB as the free-space floor and
/// only `free` bytes left, and the agent started on it.
fn nearly_full_lab(floor: &str, free: u64) -> (Lab, Tmpfs) {
    let mut lab = Lab::new();
    let data = lab.data_dir();
    let disk = Tmpfs::mount(&data, "4m");
    lab.ringside(&["settings", "set", "min_free_megabytes", floor]);
    let filler = free_bytes(&data) - free;
    std::fs::write(data.join("filler"), vec![0u8; filler as usize]).expect("filler");
    lab.start_agent();
    (lab, disk)
}

/// The recording of `call` opens as a WAV; its length in seconds.
fn valid_wav_seconds(lab: &Lab, call: &ringside_store::CallRecord) -> f64 {
    let relative = call
        .recording
        .as_deref()
        .expect("what was recorded is kept");
    let reader = hound::WavReader::open(lab.data_dir().join(relative)).expect("a valid WAV");
    f64::from(reader.duration()) / 8000.0
}

fn free_bytes(dir: &Path) -> u64 {
    let stats = nix::sys::statvfs::statvfs(dir).expect("statvfs");
    stats.blocks_available() * stats.fragment_size()
}

#[test]
fn a_full_data_disk_stops_the_recording_while_calls_pass_and_are_logged() {
    // 1.1 MB left: about three seconds of stereo audio above the floor.
    let (lab, _disk) = nearly_full_lab("1", 1_100_000);

    answered_call(&lab, 5060, "15550100001", "Mom", 10);
    lab.wait_for_log("recording stopped early");
    let calls = lab.wait_for_calls("the call is logged", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    let call = &calls[0];
    assert_eq!(call.disposition, Some(Disposition::Answered));
    let note = call.recording_stopped.as_deref().expect("the log says why");
    assert!(note.starts_with("recording stopped early: only"), "{note}");
    let seconds = valid_wav_seconds(&lab, call);
    assert!((1.0..9.0).contains(&seconds), "{seconds} s of a 10 s call");

    // The agent is still there: the next call passes and is logged, without a recording.
    answered_call(&lab, 5060, "15550100002", "Next", 2);
    let calls = lab.wait_for_calls("the next call is logged", |calls| {
        calls.len() == 2 && calls[0].disposition.is_some()
    });
    assert_eq!(calls[0].call.party.number.as_deref(), Some("15550100002"));
    assert_eq!(calls[0].disposition, Some(Disposition::Answered));
    assert_eq!(calls[0].recording, None);
    let note = calls[0].recording_stopped.as_deref().expect("said why");
    assert!(note.starts_with("not recorded: only"), "{note}");
    // Warned once: the second call's refusal is only information.
    let log = lab.agent_log();
    let line = |text: &str| log.lines().find(|l| l.contains(text)).unwrap_or_default();
    assert!(line("recording stopped early").contains("WARN"), "{log}");
    assert!(line("not recorded: only").contains("INFO"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn a_disk_full_to_the_last_byte_stops_the_recording_and_the_call_log_catches_up() {
    // No floor, 300 KB left: about nine seconds of audio, then "No space left on device"
    // for the recording and "database or disk is full" for the call log.
    let (lab, _disk) = nearly_full_lab("0", 300_000);
    answered_call(&lab, 5060, "15550100001", "Mom", 12);
    lab.wait_for_log("recording stopped early: write error");
    std::fs::remove_file(lab.data_dir().join("filler")).expect("room again");
    answered_call(&lab, 5060, "15550100002", "Next", 2);
    let calls = lab.wait_for_calls("both calls are logged", |calls| {
        calls.len() == 2 && calls.iter().all(|c| c.disposition.is_some())
    });
    let (next, first) = (&calls[0], &calls[1]);
    assert_eq!(first.disposition, Some(Disposition::Answered));
    let note = first
        .recording_stopped
        .as_deref()
        .expect("the log says why");
    assert!(note.contains("No space left on device"), "{note}");
    let seconds = valid_wav_seconds(&lab, first);
    assert!((1.0..11.0).contains(&seconds), "{seconds} s of a 12 s call");
    assert_eq!(next.disposition, Some(Disposition::Answered));
    assert!(valid_wav_seconds(&lab, next) > 1.0, "recording again");
    assert_eq!(next.recording_stopped, None);
    // The database could not grow either: the agent said so, and caught up later.
    let log = lab.agent_log();
    assert!(
        log.contains("the call log cannot be written: the disk is full")
            && log.contains("the database takes writes again"),
        "{log}"
    );
    assert!(!log.contains("panicked"));
}

#[test]
fn ringside_run_refuses_a_locked_database_in_plain_words() {
    let lab = Lab::new();
    let data = lab.data_dir();
    lab.ringside(&["settings", "set", "record_by_default", "true"]); // creates the database
    let holder = rusqlite::Connection::open(data.join("ringside.db")).expect("open");
    holder.execute_batch("BEGIN IMMEDIATE").expect("write lock");
    let config = lab.dir.path().join("ringside.toml");
    std::fs::write(&config, "bridge = \"br0\"\nphone_port = \"h1\"\n").expect("config");
    let mut agent = Command::new("ip")
        .args(["netns", "exec", &lab.ns("br")])
        .arg(ringside_binary())
        .args(["run", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ringside run");
    let status = wait_with_timeout(&mut agent, std::time::Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut agent.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(status.is_some_and(|s| !s.success()), "{status:?}: {stderr}");
    let db = data.join("ringside.db");
    assert!(
        stderr.contains("is locked by another process")
            && stderr.contains(db.to_str().expect("utf-8"))
            && !stderr.contains("panicked"),
        "{stderr}"
    );
}
