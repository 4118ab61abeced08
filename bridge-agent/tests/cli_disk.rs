//! The `ringside` binary against a data directory in trouble: a database another process
//! holds locked, a file of garbage, a truncated database — each reported in plain words
//! with its path and a failing exit code, never a panic — and files that stay owner-only
//! whatever the umask.

#![allow(clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use ringside_synth::{packets, write_pcap, SynthCall};

/// Runs `ringside` under `umask 022`, the usual one, so that only Ringside's own care keeps
/// its files private.
fn ringside(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_ringside"))
        .args(args)
        .output()
        .expect("run ringside")
}

/// Asserts that `args` failed with a message holding each of `words`.
fn fails_saying(args: &[&str], words: &[&str]) {
    let output = ringside(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for word in words {
        assert!(stderr.contains(word), "{args:?}: {word:?} not in {stderr}");
    }
}

fn demo(data: &Path) {
    let output = ringside(&["demo", "--data-dir", data.to_str().expect("utf-8")]);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn a_database_locked_by_another_process_is_reported_in_plain_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    demo(&data);
    let db = data.join("ringside.db");
    let holder = rusqlite::Connection::open(&db).expect("open");
    holder.execute_batch("BEGIN IMMEDIATE").expect("write lock");
    let data_arg = data.to_str().expect("utf-8");
    let db_text = db.to_str().expect("utf-8");
    fails_saying(
        &["calls", "--data-dir", data_arg],
        &["is locked by another process", db_text],
    );
    holder.execute_batch("ROLLBACK").expect("release");
    let output = ringside(&["calls", "--data-dir", data_arg]);
    assert!(output.status.success(), "works once the lock is gone");
}

#[test]
fn a_garbage_or_truncated_database_is_reported_as_damaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).expect("dir");
    std::fs::write(
        garbage.join("ringside.db"),
        "not a database, just text. ".repeat(200),
    )
    .expect("garbage");
    let truncated = dir.path().join("truncated");
    demo(&truncated);
    let db = truncated.join("ringside.db");
    let length = std::fs::metadata(&db).expect("db").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .expect("db")
        .set_len(length / 2)
        .expect("truncate");
    for data in [&garbage, &truncated] {
        let db = data.join("ringside.db");
        let data = data.to_str().expect("utf-8");
        let words = [
            "is not a Ringside database or is damaged",
            db.to_str().expect("utf-8"),
        ];
        fails_saying(&["calls", "--data-dir", data], &words);
        fails_saying(
            &["console", "--data-dir", data, "--http", "127.0.0.1:0"],
            &words,
        );
        fails_saying(&["phonebook", "set", "1", "x", "--data-dir", data], &words);
    }
}

/// Every file and folder under `dir`, `dir` included, with its mode.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let mode = std::fs::metadata(&folder)
            .expect("folder")
            .permissions()
            .mode();
        found.push((folder.display().to_string(), mode & 0o777));
        for entry in std::fs::read_dir(&folder).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let mode = std::fs::metadata(&path).expect("file").permissions().mode();
                found.push((path.display().to_string(), mode & 0o777));
            }
        }
    }
    found
}

#[test]
fn replay_and_demo_leave_only_owner_only_files_under_umask_022() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo_data = dir.path().join("demo");
    demo(&demo_data);
    let capture = dir.path().join("call.pcap");
    let call = SynthCall::inbound(1, "15550100001", Some("Private"));
    write_pcap(
        &capture,
        std::time::Duration::from_hours(498_369),
        &packets(&[call], 7),
    )
    .expect("capture");
    let replay_data = dir.path().join("replay");
    let output = ringside(&[
        "replay",
        capture.to_str().expect("utf-8"),
        "--data-dir",
        replay_data.to_str().expect("utf-8"),
    ]);
    assert!(output.status.success(), "{output:?}");
    for data in [&demo_data, &replay_data] {
        // A reader that keeps the database open while it writes: SQLite gives its WAL the
        // database file's mode, whatever this process's umask.
        let reader = rusqlite::Connection::open(data.join("ringside.db")).expect("open");
        reader
            .execute("UPDATE calls SET codec = codec", [])
            .expect("write");
        assert!(data.join("ringside.db-wal").exists());
        let found = modes(data);
        assert!(
            found
                .iter()
                .any(|(p, _)| p.contains("/recordings/") && p.contains(".wav")),
            "{found:?}"
        );
        for (path, mode) in found {
            let expected = if Path::new(&path).is_dir() {
                0o700
            } else {
                0o600
            };
            assert_eq!(mode, expected, "{path}: {mode:o}");
        }
    }
}
