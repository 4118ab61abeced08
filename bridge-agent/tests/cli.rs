//! The `ringside` binary as a newcomer runs it: the demo, the call log as JSON, the
//! phonebook, and clear errors.

// Helpers of a test binary panic on broken expectations like the tests themselves.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn ringside(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringside"))
        .args(args)
        .output()
        .expect("run ringside")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "ringside failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn calls_json(dir: &Path) -> Vec<serde_json::Value> {
    let text = stdout(&ringside(&[
        "calls",
        "--data-dir",
        dir.to_str().expect("utf-8"),
        "--json",
    ]));
    serde_json::from_str(&text).expect("a JSON array")
}

#[test]
fn demo_prints_a_call_log_and_leaves_playable_recordings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    let data_arg = data.to_str().expect("utf-8");
    let out = stdout(&ringside(&["demo", "--data-dir", data_arg]));
    assert!(
        out.contains("Mom") && out.contains("Bright Smile Dental"),
        "{out}"
    );
    let calls = calls_json(&data);
    assert_eq!(calls.len(), 5);
    for key in [
        "id",
        "call_id",
        "direction",
        "number",
        "name",
        "display",
        "anonymous",
        "caller_id_source",
        "started_at",
        "answered_at",
        "ended_at",
        "disposition",
        "recording",
    ] {
        assert!(
            calls.iter().all(|c| c.get(key).is_some()),
            "every call has {key}"
        );
    }
    let mom = calls
        .iter()
        .find(|c| c["display"] == "Mom")
        .expect("Mom, from the phonebook");
    assert_eq!(
        mom["name"], "WIRELESS CALLER",
        "the signalled name is kept beside it"
    );
    let recording = data.join(mom["recording"].as_str().expect("a recording"));
    let reader = hound::WavReader::open(recording).expect("a WAV");
    assert_eq!(
        reader.duration(),
        80_000,
        "8 s of talk and 2 s of hold at 8 kHz"
    );
    // Running the demo again starts over rather than doubling the log.
    stdout(&ringside(&["demo", "--data-dir", data_arg]));
    assert_eq!(calls_json(&data).len(), 5);
}

#[test]
fn phonebook_set_list_remove() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    stdout(&ringside(&["demo", "--data-dir", data]));
    stdout(&ringside(&[
        "phonebook",
        "set",
        "15550100003",
        "Dentist",
        "--data-dir",
        data,
    ]));
    let list = stdout(&ringside(&[
        "phonebook",
        "list",
        "--json",
        "--data-dir",
        data,
    ]));
    let entries: Vec<serde_json::Value> = serde_json::from_str(&list).expect("JSON");
    let dentist = entries
        .iter()
        .find(|e| e["number"] == "15550100003")
        .expect("entry");
    assert_eq!(dentist["user_name"], "Dentist");
    assert_eq!(dentist["network_name"], "Bright Smile Dental");
    let calls = calls_json(dir.path());
    assert!(calls
        .iter()
        .any(|c| c["display"] == "Dentist" && c["name"] == "Bright Smile Dental"));
    stdout(&ringside(&[
        "phonebook",
        "remove",
        "15550100003",
        "--data-dir",
        data,
    ]));
    let failed = ringside(&["phonebook", "remove", "15550100003", "--data-dir", data]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("not in the phonebook"));
}

#[test]
fn clear_errors_for_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    let missing = ringside(&["calls", "--data-dir", data, "--json"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("holds no Ringside database"));
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture").expect("write");
    let failed = ringside(&["replay", junk.to_str().expect("utf-8"), "--data-dir", data]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("junk.pcap") && stderr.contains("not a pcap"),
        "{stderr}"
    );
}
