//! Migration 007: how a call's direction was decided and how its number was presented, stored
//! as words; the calls an older Ringside logged keep what they said (anonymous ones become
//! withheld, the direction's source stays unknown).

#![expect(
    clippy::expect_used,
    reason = "helpers outside #[test] fail the test with a message"
)]

use ringside_core::call::{CallDirection, DirectionSource};
use ringside_core::caller_id::{CallerIdSource, Presentation};
use ringside_core::rfc3339;
use ringside_store::{NewCall, Store, DB_FILE};

/// A call with no number, presented so, its direction decided by `how`.
fn numberless(at: &str, presentation: Presentation, how: DirectionSource) -> NewCall<'_> {
    NewCall {
        call_id: at,
        direction: CallDirection::Inbound,
        direction_source: how,
        number: None,
        name: None,
        presentation,
        caller_id_source: CallerIdSource::From,
        caller_id_header: "",
        started_at: rfc3339::parse(at).expect("an RFC 3339 time"),
        phone_address: "192.168.1.20:5060",
        remote_address: "203.0.113.5:5060",
        blocked_by: None,
    }
}

fn raw(dir: &tempfile::TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("open")
}

#[test]
fn direction_source_and_presentation_are_stored_as_words_and_read_typed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let unknown = numberless(
        "2026-11-22T10:00:00Z",
        Presentation::Unknown,
        DirectionSource::ViaCount,
    );
    let withheld = NewCall {
        direction: CallDirection::Outbound,
        ..numberless(
            "2026-11-22T11:00:00Z",
            Presentation::Withheld,
            DirectionSource::RequestUri,
        )
    };
    let unknown_id = store.insert_call(&unknown).expect("insert");
    let withheld_id = store.insert_call(&withheld).expect("insert");
    let words: Vec<(String, String, bool)> = raw(&dir)
        .prepare("SELECT direction_source, presentation, anonymous FROM calls ORDER BY id")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        words,
        [
            ("via-count".to_owned(), "unknown".to_owned(), false),
            ("request-uri".to_owned(), "withheld".to_owned(), true),
        ]
    );
    let read = store.call(unknown_id).expect("read").expect("the call");
    assert_eq!(read.call.party.presentation, Presentation::Unknown);
    assert_eq!(read.call.direction_source, Some(DirectionSource::ViaCount));
    let json = serde_json::to_value(&read).expect("json");
    assert_eq!(json["anonymous"], false);
    assert_eq!(json["unknown"], true);
    assert_eq!(json["direction_source"], "via-count");
    let read = store.call(withheld_id).expect("read").expect("the call");
    let json = serde_json::to_value(&read).expect("json");
    assert_eq!(json["anonymous"], true);
    assert_eq!(json["presentation"], "withheld");
}

#[test]
fn calls_logged_before_migration_007_keep_what_they_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Store::open(dir.path()).expect("store"));
    {
        // Undo 007 by hand: the database as the migration before it left it.
        let db = raw(&dir);
        let version: i64 = db
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        db.execute_batch(&format!(
            "ALTER TABLE calls DROP COLUMN direction_source;
             ALTER TABLE calls DROP COLUMN presentation;
             PRAGMA user_version = {};
             INSERT INTO calls (call_id, direction, number, anonymous, caller_id_source,
                                caller_id_header, started_at, phone_address, remote_address)
             VALUES ('hidden@old', 'inbound', NULL, 1, 'from', '', '2025-01-01T08:00:00Z',
                     '192.168.1.20:5060', '203.0.113.5:5060'),
                    ('given@old', 'inbound', '15550100001', 0, 'from', '',
                     '2025-01-01T09:00:00Z', '192.168.1.20:5060', '203.0.113.5:5060');",
            version - 1
        ))
        .expect("the old schema");
    }
    let store = Store::open(dir.path()).expect("migrated");
    let calls = store.calls(10, 0).expect("read");
    let by_id = |call_id: &str| {
        calls
            .iter()
            .find(|c| c.call.call_id == call_id)
            .expect("the old call")
    };
    assert_eq!(
        by_id("hidden@old").call.party.presentation,
        Presentation::Withheld
    );
    assert_eq!(
        by_id("given@old").call.party.presentation,
        Presentation::Number
    );
    assert_eq!(by_id("hidden@old").call.direction_source, None);
}
