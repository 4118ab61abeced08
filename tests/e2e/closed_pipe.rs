//! Commands whose reader goes away (`ringside calls | head`, a pager quit early).

use std::process::{Command, Stdio};

use ringside_e2e::lab::ringside_binary;

use crate::support::captures_dir;

/// The bug: Rust ignores `SIGPIPE`, so the commands' `println!` panicked when the reader of
/// their output had gone ("failed printing to stdout: Broken pipe", status 101). They now
/// end quietly with status 0, as a closed pipe ends any Unix tool. The pipe's reading end
/// is closed before the command starts, so that its first line meets it closed.
#[test]
fn a_closed_pipe_panicked_the_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("UTF-8");
    let capture = captures_dir().join("wireshark-wiki/SIP_CALL_RTP_G711");
    let replayed = Command::new(ringside_binary())
        .arg("replay")
        .arg(&capture)
        .args(["--data-dir", data_arg, "--quiet"])
        .output()
        .expect("run ringside replay");
    assert!(replayed.status.success(), "{replayed:?}");
    for args in [
        &["calls", "--data-dir", data_arg][..],
        &["calls", "--data-dir", data_arg, "--json"],
        &["phonebook", "list", "--data-dir", data_arg],
        &["settings", "list", "--data-dir", data_arg],
        &["rules", "show"],
    ] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = Command::new(ringside_binary())
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run ringside");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "ringside {args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "ringside {args:?}: {stderr}");
    }
}
