//! A full data disk on the live lab: the agent's data directory on a small tmpfs, nearly
//! full, the free-space floor at 1 MB. A recorded call runs it below the floor: the phone
//! still gets the whole call, the recording stops with a valid WAV and a warning, the call
//! log says the recording was cut short, and the agent goes on to pass (and log, unrecorded)
//! the next call.

use std::path::{Path, PathBuf};
use std::process::Command;

use ringside_e2e::lab::Lab;

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

fn free_bytes(dir: &Path) -> u64 {
    let stats = nix::sys::statvfs::statvfs(dir).expect("statvfs");
    stats.blocks_available() * stats.fragment_size()
}

#[test]
fn a_full_data_disk_stops_the_recording_while_calls_pass_and_are_logged() {
    let mut lab = Lab::new();
    let data = lab.data_dir();
    let _disk = Tmpfs::mount(&data, "4m");
    lab.ringside(&["settings", "set", "min_free_megabytes", "1"]);
    // Leave 1.1 MB: about three seconds of stereo audio above the floor.
    let filler = free_bytes(&data) - 1_100_000;
    std::fs::write(data.join("filler"), vec![0u8; filler as usize]).expect("filler");
    lab.start_agent();

    answered_call(&lab, 5060, "15550100001", "Mom", 10);
    lab.wait_for_log("recording stopped early");
    let calls = lab.wait_for_calls("the call is logged", |calls| {
        calls.len() == 1 && calls[0].disposition.is_some()
    });
    let call = &calls[0];
    assert_eq!(call.disposition.as_deref(), Some("answered"));
    let note = call.recording_stopped.as_deref().expect("the log says why");
    assert!(note.starts_with("recording stopped early: only"), "{note}");
    let wav = data.join(
        call.recording
            .as_deref()
            .expect("what was recorded is kept"),
    );
    let reader = hound::WavReader::open(&wav).expect("a valid WAV");
    let seconds = f64::from(reader.duration()) / 8000.0;
    assert!((1.0..9.0).contains(&seconds), "{seconds} s of a 10 s call");

    // The agent is still there: the next call passes and is logged, without a recording.
    answered_call(&lab, 5060, "15550100002", "Next", 2);
    let calls = lab.wait_for_calls("the next call is logged", |calls| {
        calls.len() == 2 && calls[0].disposition.is_some()
    });
    assert_eq!(calls[0].number.as_deref(), Some("15550100002"));
    assert_eq!(calls[0].disposition.as_deref(), Some("answered"));
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
