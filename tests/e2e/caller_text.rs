//! Caller text is data (issue 10, item 5), through the real `ringside` binary: control
//! characters, line breaks and bidi overrides in a caller's name and percent-encoded number
//! are kept as received (`--json`) but never reach the terminal raw (`calls`, `phonebook
//! list`); and a caller numbered `*` or `1555*`, blocked with the console's Block request,
//! blocks only that number.

use ringside_core::call::Disposition;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use bridge_agent::store::Store;
use ringside_core::text::is_hazardous;
use ringside_e2e::console::Console;
use ringside_e2e::lab::ringside_binary;
use ringside_e2e::process::succeeded;
use ringside_synth::{packets, write_pcap, Outcome, SynthCall};

const EPOCH: Duration = Duration::from_hours(498_400);

/// A name with an escape sequence, a tab, a percent-encoded newline, a bidi override and an
/// isolate: what a hostile caller can put in a SIP display name.
const NAME: &str = "Evil\u{1b}[2J\tCorp%0Aforged line\u{202e}gnp.exe\u{2066}";
/// The same name as the database keeps it (the display name is percent-decoded).
const NAME_STORED: &str = "Evil\u{1b}[2J\tCorp\nforged line\u{202e}gnp.exe\u{2066}";

/// Writes `calls` (each ringing briefly, then given up) as a pcap in `dir`.
fn capture(dir: &Path, file: &str, calls: &[(&str, Option<&str>)]) -> std::path::PathBuf {
    let calls: Vec<SynthCall> = calls
        .iter()
        .zip(1u16..)
        .map(|(&(number, name), index)| {
            let mut call = SynthCall::inbound(index, number, name);
            call.call_id = format!("{file}-{index}@203.0.113.5");
            call.start = Duration::from_secs(u64::from(index) * 10);
            call.outcome = Outcome::CallerHangsUp;
            call
        })
        .collect();
    let path = dir.join(file);
    write_pcap(&path, EPOCH, &packets(&calls, 7)).expect("write capture");
    path
}

fn ringside(args: &[&str]) -> Output {
    succeeded(Command::new(ringside_binary()).args(args))
}

/// Standard output, checked to hold no raw control character but its line ends.
fn clean_stdout(args: &[&str]) -> String {
    let stdout = String::from_utf8(ringside(args).stdout).expect("UTF-8");
    for line in stdout.lines() {
        assert!(
            !line.chars().any(is_hazardous),
            "ringside {args:?} printed a raw control character: {line:?}"
        );
    }
    stdout
}

/// The bug: `ringside calls` and `phonebook list` printed a caller's escape sequences and
/// line breaks raw (a newline forged a line). They are shown escaped, one line per row,
/// while `--json` keeps the data exactly as received (its bidi override as `\u202e`).
#[test]
fn control_characters_in_caller_text_are_kept_but_never_printed_raw() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("UTF-8");
    let pcap = capture(
        dir.path(),
        "hostile.pcap",
        &[("1555%0A0100%1B[31m", Some(NAME))],
    );
    ringside(&[
        "replay",
        pcap.to_str().expect("UTF-8"),
        "--data-dir",
        data_arg,
        "--quiet",
    ]);

    let calls = clean_stdout(&["calls", "--data-dir", data_arg]);
    assert_eq!(calls.lines().count(), 2, "a header and one call: {calls}");
    assert!(
        calls.contains("1555\\n0100\\x1b[31m") && calls.contains("Evil\\x1b[2J\\tCorp\\nforged"),
        "{calls}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&clean_stdout(&["calls", "--data-dir", data_arg, "--json"]))
            .expect("JSON");
    assert_eq!(
        json[0]["number"], "1555\n0100\u{1b}[31m",
        "stored as received"
    );
    assert_eq!(json[0]["name"], NAME_STORED);

    let phonebook = clean_stdout(&["phonebook", "list", "--data-dir", data_arg]);
    assert_eq!(phonebook.lines().count(), 2, "{phonebook}");
    assert!(
        phonebook.contains("\\u{202e}gnp.exe\\u{2066}"),
        "{phonebook}"
    );
    let json: serde_json::Value = serde_json::from_str(&clean_stdout(&[
        "phonebook",
        "list",
        "--data-dir",
        data_arg,
        "--json",
    ]))
    .expect("JSON");
    assert_eq!(json[0]["number"], "1555\n0100\u{1b}[31m");
    assert_eq!(json[0]["network_name"], NAME_STORED);
}

/// `POST path` to `console` with a JSON body and the CSRF header, as the page sends it: the
/// status line.
fn post(console: &Console, path: &str, body: &serde_json::Value) -> String {
    let body = body.to_string();
    let mut stream = TcpStream::connect(console.address).expect("console");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Ringside: 1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response.lines().next().unwrap_or_default().to_owned()
}

/// The bug: a caller numbered `*` (`sip:*@host`) blocked from the call log became the filter
/// `block *`, which blocks everyone. The console's Block request (the body `callers.js`
/// sends) makes an exact-number filter: `*` and `1555*` are blocked, no one else is.
#[test]
fn a_caller_numbered_star_blocked_from_the_console_blocks_only_that_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("UTF-8");
    let first = capture(dir.path(), "first.pcap", &[("*", None), ("1555*", None)]);
    ringside(&[
        "replay",
        first.to_str().expect("UTF-8"),
        "--data-dir",
        data_arg,
        "--quiet",
    ]);
    {
        let console = Console::start(Path::new(data_arg));
        for number in ["*", "1555*"] {
            let block = serde_json::json!({
                "pattern": number, "field": "number-exact", "action": "block", "position": 1
            });
            assert!(post(&console, "/api/filters", &block).contains("201"));
        }
        let too_long = serde_json::json!({
            "pattern": "1".repeat(65), "field": "number-exact", "action": "block"
        });
        assert!(post(&console, "/api/filters", &too_long).contains("400"));
    }
    let listed = clean_stdout(&["filters", "list", "--data-dir", data_arg]);
    assert!(listed.contains("number-exact 1555*"), "{listed}");
    for (field, pattern, limit) in [
        ("number-exact", "1".repeat(65), "at most 64"),
        ("name", "n".repeat(257), "at most 256"),
    ] {
        let refused = Command::new(ringside_binary())
            .args(["filters", "add", "--match", &pattern, "--field", field])
            .args(["--action", "block", "--data-dir", data_arg])
            .output()
            .expect("run ringside");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && stderr.contains(limit),
            "{stderr}"
        );
    }

    let second = capture(
        dir.path(),
        "second.pcap",
        &[
            ("*", None),
            ("1555*", None),
            ("15550100001", None),
            ("1555", None),
        ],
    );
    ringside(&[
        "replay",
        second.to_str().expect("UTF-8"),
        "--data-dir",
        data_arg,
        "--quiet",
    ]);
    let calls = Store::open(&data)
        .expect("store")
        .calls(100, 0)
        .expect("calls");
    let outcome = |number: &str| -> Vec<Option<Disposition>> {
        calls
            .iter()
            .filter(|c| {
                c.call.call_id.starts_with("second")
                    && c.call.party.number.as_deref() == Some(number)
            })
            .map(|c| c.disposition)
            .collect()
    };
    assert_eq!(outcome("*"), [Some(Disposition::Blocked)]);
    assert_eq!(outcome("1555*"), [Some(Disposition::Blocked)]);
    assert_eq!(
        outcome("15550100001"),
        [Some(Disposition::Missed)],
        "still rings"
    );
    assert_eq!(outcome("1555"), [Some(Disposition::Missed)], "still rings");
}
