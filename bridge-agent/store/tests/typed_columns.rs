//! The call log's typed columns at the SQL edge: direction, disposition and caller-ID source
//! are stored as the same words as always, times as the same RFC 3339 text, and a value in
//! the database that is none of them (a hand-edited file) is a clear error, never a panic.

#![allow(clippy::expect_used)]

use ringside_core::call::{AnswerEvidence, CallDirection, DirectionSource, Disposition};
use ringside_core::caller_id::{CallerIdSource, Presentation};
use ringside_core::rfc3339;
use ringside_store::{CallEnd, NewCall, Store};

/// A store in a fresh directory with one answered, ended call; the directory and the row id.
fn one_call() -> (tempfile::TempDir, i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let id = store
        .insert_call(&NewCall {
            call_id: "c1@example",
            direction: CallDirection::Outbound,
            direction_source: DirectionSource::RequestUri,
            number: Some("15550100001"),
            name: None,
            presentation: Presentation::Number,
            caller_id_source: CallerIdSource::PAssertedIdentity,
            caller_id_header: "<sip:15550100001@example>",
            started_at: rfc3339::parse("2026-11-22T10:00:00.250000Z").expect("time"),
            phone_address: "192.168.1.20:5060",
            remote_address: "203.0.113.5:5060",
            blocked_by: None,
        })
        .expect("insert");
    let end = rfc3339::parse("2026-11-22T10:01:00Z").expect("time");
    store
        .set_answered(id, end, AnswerEvidence::AckFor2xx)
        .expect("answered");
    store
        .finish_call(
            id,
            &CallEnd {
                ended_at: end,
                disposition: Disposition::Answered,
                codec: None,
                quality: None,
                gaps_skipped: 0,
                answer: None,
            },
        )
        .expect("finish");
    (dir, id)
}

fn raw(dir: &tempfile::TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.path().join(ringside_store::DB_FILE)).expect("open")
}

#[test]
fn typed_values_are_stored_as_the_words_and_times_they_always_were() {
    let (dir, id) = one_call();
    let columns: (String, String, String, String, String) = raw(&dir)
        .query_row(
            "SELECT direction, caller_id_source, disposition, started_at, ended_at FROM calls",
            [],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            },
        )
        .expect("row");
    assert_eq!(
        columns,
        (
            "outbound".into(),
            "p-asserted-identity".into(),
            "answered".into(),
            "2026-11-22T10:00:00.250000Z".into(),
            "2026-11-22T10:01:00.000000Z".into()
        )
    );
    let call = Store::open(dir.path())
        .expect("store")
        .call(id)
        .expect("read")
        .expect("the call");
    assert_eq!(call.call.direction, CallDirection::Outbound);
    assert_eq!(call.caller_id_source, CallerIdSource::PAssertedIdentity);
    assert_eq!(call.disposition, Some(Disposition::Answered));
    let json = serde_json::to_value(&call).expect("JSON");
    assert_eq!(json["direction"], "outbound");
    assert_eq!(json["caller_id_source"], "p-asserted-identity");
    assert_eq!(json["disposition"], "answered");
    assert_eq!(json["started_at"], "2026-11-22T10:00:00.250000Z");
    assert_eq!(json["answered_at"], "2026-11-22T10:01:00.000000Z");
    assert_eq!(json["answered_by"], "ack-for-2xx");
    assert_eq!(call.answered_by, Some(AnswerEvidence::AckFor2xx));
}

/// What reading the call log says once `edit` (SQL) changed the row by hand.
fn read_after(edit: &str) -> String {
    let (dir, _) = one_call();
    raw(&dir).execute(edit, []).expect("hand edit");
    let read = Store::open(dir.path()).expect("store").calls(10, 0);
    read.expect_err("a value the call log cannot read")
        .to_string()
}

#[test]
fn a_word_the_call_log_does_not_know_is_a_clear_error() {
    let error = read_after("UPDATE calls SET disposition = 'hung up'");
    assert!(error.contains("`hung up` is not a disposition"), "{error}");
}

#[test]
fn a_time_the_call_log_cannot_read_is_a_clear_error() {
    let error = read_after("UPDATE calls SET ended_at = 'yesterday'");
    assert!(
        error.contains("`yesterday` is not an RFC 3339 time"),
        "{error}"
    );
}

/// Rows written by an older Ringside (before the columns were read typed, some by hand with
/// whole seconds) read as they are: nothing to migrate.
#[test]
fn rows_an_older_ringside_wrote_read_typed() {
    let (dir, _) = one_call();
    raw(&dir)
        .execute_batch(
            "INSERT INTO calls (call_id, direction, number, anonymous, caller_id_source,
                                caller_id_header, started_at, disposition, phone_address,
                                remote_address)
             VALUES ('old@example', 'inbound', NULL, 1, 'from', '', '2025-01-01T08:00:00Z',
                     'missed', '192.168.1.20:5060', '203.0.113.5:5060');",
        )
        .expect("an old row");
    let calls = Store::open(dir.path())
        .expect("store")
        .calls(10, 0)
        .expect("read");
    let old = calls
        .iter()
        .find(|c| c.call.call_id == "old@example")
        .expect("the old row");
    assert_eq!(old.disposition, Some(Disposition::Missed));
    assert_eq!(old.answered_by, None);
    assert_eq!(old.caller_id_source, CallerIdSource::From);
    assert_eq!(
        rfc3339::format(old.call.started_at),
        "2025-01-01T08:00:00.000000Z"
    );
}

/// Calls a crash left without an end get the disposition their state implies, bound as the
/// same words the sink writes.
#[test]
fn interrupted_calls_are_settled_by_their_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let at = rfc3339::parse("2026-11-22T10:00:00Z").expect("time");
    let mut insert = |call_id: &'static str, direction| {
        store
            .insert_call(&NewCall {
                call_id,
                direction,
                direction_source: DirectionSource::Register,
                number: None,
                name: None,
                presentation: Presentation::Withheld,
                caller_id_source: CallerIdSource::From,
                caller_id_header: "",
                started_at: at,
                phone_address: "192.168.1.20:5060",
                remote_address: "203.0.113.5:5060",
                blocked_by: None,
            })
            .expect("insert")
    };
    let answered = insert("answered", CallDirection::Inbound);
    insert("rang", CallDirection::Inbound);
    insert("dialled", CallDirection::Outbound);
    store
        .set_answered(answered, at, AnswerEvidence::Ok200)
        .expect("answered");
    assert_eq!(store.settle_interrupted_calls().expect("settle"), 3);
    let settled: Vec<(String, Option<Disposition>)> = store
        .calls(10, 0)
        .expect("calls")
        .into_iter()
        .map(|c| (c.call.call_id, c.disposition))
        .collect();
    for (call_id, disposition) in [
        ("answered", Disposition::Answered),
        ("rang", Disposition::Missed),
        ("dialled", Disposition::Failed),
    ] {
        assert!(
            settled.contains(&(call_id.to_owned(), Some(disposition))),
            "{call_id}: {settled:?}"
        );
    }
}
