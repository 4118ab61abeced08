//! The web console in Debian's headless chromium (driven by playwright-core, in
//! `tests/browser/console.mjs`): a login (a wrong password refused first; it leads back to the
//! page asked for), a replayed call in the call log, the phonebook (a caller renamed and seen
//! renamed in the call log, a CSV import, rename and delete from the rows), a number named and
//! another blocked from the call log, filters added, reordered, edited and tested, a recording
//! that plays (its time advances, its duration is the WAV's), the call log searched by name and
//! outcome, a recording deleted, settings saved (the announcement secret refused when short,
//! set, removed), every page no wider than a phone, logout. All questions come in the
//! console's own dialogs. Screenshots of each page and dialog go to
//! `target/test-artifacts/console-*.png`.

use std::path::Path;
use std::process::{Command, Stdio};

use ringside_e2e::console::Console;
use ringside_e2e::lab::built_binary;

const PASSWORD: &str = "correct horse battery";

/// The length of the WAV the page plays first: the newest call with a recording.
fn first_recording_seconds(data: &Path) -> f64 {
    let store = ringside_store::Store::open(data).expect("store");
    let calls = store.calls(100, 0).expect("calls");
    let first = calls
        .iter()
        .find(|c| c.recording.is_some())
        .expect("a recorded call");
    let wav = hound::WavReader::open(data.join(first.recording.as_deref().expect("path")))
        .expect("a WAV");
    f64::from(wav.duration()) / 8000.0
}

/// Runs the browser script against the console; what it saw.
fn browse(browser_dir: &Path, address: &str, shots: &Path) -> serde_json::Value {
    let run = Command::new("node")
        .arg(browser_dir.join("console.mjs"))
        .env("CONSOLE_URL", format!("http://{address}"))
        .env("SHOTS", shots)
        .env("PASSWORD", PASSWORD)
        .output()
        .expect("node (the machine's Node.js)");
    assert!(
        run.status.success(),
        "the browser script failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("the script's JSON")
}

/// What the browser changed reached the store: the rename, the settings and the filters.
fn assert_saved(data: &Path) {
    let store = ringside_store::Store::open(data).expect("store");
    let renamed = store
        .phonebook_entry("15550100003")
        .expect("query")
        .and_then(|e| e.user_name);
    assert_eq!(
        renamed.as_deref(),
        Some("Dr. Smile"),
        "the rename reached the store"
    );
    let days = store
        .setting(ringside_store::Setting::RetentionDays)
        .expect("setting");
    assert_eq!(days, "90", "the settings page saved the retention cap");
    let beeps = store
        .setting(ringside_store::Setting::CourtesyBeeps)
        .expect("setting");
    assert_eq!(beeps, "true", "and turned courtesy beeps on");
    assert_eq!(
        store
            .phonebook_entry("15550100006")
            .expect("query")
            .and_then(|e| e.user_name)
            .as_deref(),
        Some("Aunt Maisie"),
        "imported from CSV, then renamed"
    );
    assert!(
        store
            .phonebook_entry("15550100004")
            .expect("query")
            .is_none(),
        "deleted from the phonebook"
    );
    let mom = store
        .search_calls(&ringside_store::CallQuery {
            search: Some("Mom".into()),
            limit: 10,
            ..ringside_store::CallQuery::default()
        })
        .expect("calls");
    assert_eq!(mom.len(), 1);
    assert!(mom[0].recording.is_none(), "Mom's recording was deleted");
    let secret = store
        .setting(ringside_store::Setting::AnnounceSecret)
        .expect("setting");
    assert_eq!(secret, "", "the secret was set, then removed");
    let patterns: Vec<String> = store
        .filters()
        .expect("filters")
        .into_iter()
        .map(|f| f.pattern)
        .collect();
    assert_eq!(
        patterns,
        [
            "15550100004",
            "*car warranty*",
            "1900*",
            "15550100*",
            "anonymous"
        ],
        "the block, the order and the edit reached the store"
    );
    let first = &store.filters().expect("filters")[0];
    assert_eq!(
        first.field,
        ringside_core::filters::Field::ExactNumber,
        "the Block button blocks exactly the caller's number"
    );
}

/// The demo's data directory at `data`, with the console password set.
fn demo_with_password(data: &Path) {
    let demo = Command::new(built_binary("ringside"))
        .args(["demo", "--data-dir"])
        .arg(data)
        .output()
        .expect("demo");
    assert!(demo.status.success());
    let mut set = Command::new(built_binary("ringside"))
        .args(["console-password", "set", "--data-dir"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("console-password");
    std::io::Write::write_all(
        &mut set.stdin.take().expect("stdin"),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .expect("password");
    assert!(set.wait().expect("wait").success());
}

/// What the browser script saw is what each page should have shown.
fn assert_seen(seen: &serde_json::Value, wav_seconds: f64) {
    let texts = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(seen["wrong_login"], "wrong password");
    assert!(
        seen["after_login"]
            .as_str()
            .is_some_and(|url| url.ends_with("/#calls")),
        "the login leads back to the page asked for: {seen}"
    );
    assert_eq!(seen["named"], "→ Plumber", "named from the call log");
    assert_eq!(
        seen["blocked_by"], "block name *car warranty*",
        "the call log names the filter that blocked a call"
    );
    assert_eq!(seen["block_question"], "Block 15550100004?");
    assert!(
        seen["block_notice"]
            .as_str()
            .is_some_and(|n| n.contains("15550100004 is blocked")),
        "{seen}"
    );
    assert!(texts("callers").contains(&"Mom".to_owned()), "{seen}");
    assert!(texts("renamed").contains(&"Dr. Smile".to_owned()), "{seen}");
    assert_eq!(
        texts("filters"),
        [
            "block exactly the number 15550100004",
            "block name *car warranty*",
            "block number 1900*",
            "allow number 1555*",
            "block number anonymous"
        ],
        "the call log's block first, the demo's two, then two added and the last moved up"
    );
    assert_eq!(
        texts("edited"),
        [
            "block exactly the number 15550100004",
            "block name *car warranty*",
            "block number 1900*",
            "allow number 15550100*",
            "block number anonymous"
        ],
        "edited in its dialog"
    );
    assert_eq!(
        seen["verdict"],
        "Blocked — filter 5: block number anonymous. Recorded — no record filter matches, so \
         the setting decides.",
        "the demo records calls by default"
    );
    assert_eq!(seen["deciding"], "block number anonymous", "{seen}");
    let playback = &seen["playback"];
    let current = playback["currentTime"].as_f64().expect("currentTime");
    let duration = playback["duration"].as_f64().expect("duration");
    assert!(current > 0.5, "the recording plays: {playback}");
    assert!(
        (duration - wav_seconds).abs() < 0.05,
        "duration {duration} s against the WAV's {wav_seconds} s"
    );
    assert_eq!(seen["imported"], "Imported 1 name.");
    assert_eq!(texts("searched"), ["Mom"], "searched by name");
    assert_eq!(
        texts("missed"),
        ["Withheld"],
        "the missed calls only: the withheld one"
    );
    assert_eq!(
        seen["one_day"], 6,
        "from and until the same day: all of its calls"
    );
    assert_eq!(
        seen["deleted_row"], "Mom",
        "the call stays without its recording"
    );
    assert_settings_phone_and_safety(seen);
}

/// The settings page, the pages on a phone, logout, and nothing refused or broken.
fn assert_settings_phone_and_safety(seen: &serde_json::Value) {
    assert_eq!(seen["settings_saved"], true);
    assert!(
        seen["short_secret"]
            .as_str()
            .is_some_and(|m| m.contains("16 characters")),
        "a short secret is refused with the reason: {seen}"
    );
    assert_eq!(seen["secret_removed"], "Secret removed.");
    assert!(
        seen["voicemail"]
            .as_str()
            .is_some_and(|v| v.contains("Voicemail: 1 new message")),
        "the demo's voicemail shows at a glance: {seen}"
    );
    for (page, width) in seen["phone_widths"].as_object().expect("widths") {
        assert!(
            width.as_u64().is_some_and(|w| w <= 390),
            "{page} is {width} px wide on a 390 px phone"
        );
    }
    assert!(
        seen["expired_at"]
            .as_str()
            .is_some_and(|u| u.ends_with("/login#phonebook")),
        "an ended session leads to the login: {seen}"
    );
    assert!(
        seen["back_at"]
            .as_str()
            .is_some_and(|u| u.ends_with("/#phonebook")),
        "and the login back to the page: {seen}"
    );
    assert_eq!(
        seen["after_logout"], 401,
        "logged out: the API asks for a login again"
    );
    assert_eq!(
        seen["native_dialogs"],
        serde_json::json!([]),
        "the console asks in its own dialogs"
    );
    assert_eq!(
        seen["page_errors"],
        serde_json::json!([]),
        "no script error, nothing refused by the content security policy"
    );
}

#[test]
fn the_console_in_a_real_browser() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci` in {} (CI does)",
        browser_dir.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("demo");
    demo_with_password(&data);
    let console = Console::start(&data);
    let address = console.address.to_string();
    let wav_seconds = first_recording_seconds(&data);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&shots).expect("artifacts");
    let seen = browse(&browser_dir, &address, &shots);
    assert_seen(&seen, wav_seconds);
    assert_saved(&data);
    for page in [
        "login",
        "calls",
        "phonebook",
        "filters",
        "playing",
        "settings",
        "glance-phone",
        "calls-phone",
        "name-dialog",
        "filter-edit",
    ] {
        assert!(
            shots.join(format!("console-{page}.png")).exists(),
            "{page} screenshot"
        );
    }
}
