//! The call log's `answered_by` (migration 006): what showed a call was answered, written
//! when the answer is reported and again with the call's end (an answer proved only as the
//! call ended, a BYE after an ACK, reaches the log that way), `NULL` for rows logged before.

#![allow(clippy::expect_used)]

use ringside_core::call::{AnswerEvidence, CallDirection, DirectionSource, Disposition};
use ringside_core::caller_id::{CallerIdSource, Presentation};
use ringside_core::rfc3339;
use ringside_store::{CallEnd, NewCall, Store};

fn new_call(call_id: &str) -> NewCall<'_> {
    NewCall {
        call_id,
        direction: CallDirection::Inbound,
        direction_source: DirectionSource::Register,
        number: Some("15550100001"),
        name: None,
        presentation: Presentation::Number,
        caller_id_source: CallerIdSource::From,
        caller_id_header: "<sip:15550100001@example>",
        started_at: rfc3339::parse("2026-11-22T10:00:00Z").expect("time"),
        phone_address: "192.168.1.20:5060",
        remote_address: "203.0.113.5:5060",
        blocked_by: None,
    }
}

fn end(answer: Option<(&str, AnswerEvidence)>) -> CallEnd<'static> {
    CallEnd {
        ended_at: rfc3339::parse("2026-11-22T10:02:00Z").expect("time"),
        disposition: if answer.is_some() {
            Disposition::Answered
        } else {
            Disposition::Missed
        },
        codec: None,
        quality: None,
        gaps_skipped: 0,
        answer: answer.map(|(at, by)| (rfc3339::parse(at).expect("time"), by)),
    }
}

#[test]
fn an_answer_proved_at_the_end_is_logged_with_its_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let late = store.insert_call(&new_call("late")).expect("insert");
    let answer = ("2026-11-22T10:00:05Z", AnswerEvidence::ByeAfterAck);
    store.finish_call(late, &end(Some(answer))).expect("finish");
    let early = store.insert_call(&new_call("early")).expect("insert");
    let at = rfc3339::parse("2026-11-22T10:00:03Z").expect("time");
    store
        .set_answered(early, at, AnswerEvidence::MediaBothWays)
        .expect("answered");
    store.finish_call(early, &end(None)).expect("finish");
    let late = store.call(late).expect("read").expect("row");
    assert_eq!(late.answered_by, Some(AnswerEvidence::ByeAfterAck));
    assert_eq!(
        late.call.answered_at.map(rfc3339::format).as_deref(),
        Some("2026-11-22T10:00:05.000000Z")
    );
    let early = store.call(early).expect("read").expect("row");
    assert_eq!(
        early.answered_by,
        Some(AnswerEvidence::MediaBothWays),
        "an end without an answer keeps the one reported"
    );
    let json = serde_json::to_value(&late).expect("JSON");
    assert_eq!(json["answered_by"], "bye-after-ack");
}

#[test]
fn rows_logged_before_migration_006_read_null() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let id = store.insert_call(&new_call("old")).expect("insert");
    drop(store);
    let raw = rusqlite::Connection::open(dir.path().join(ringside_store::DB_FILE)).expect("open");
    raw.execute_batch(
        "UPDATE calls SET answered_at = '2026-11-22T10:00:04.000000Z', disposition = 'answered';
         ALTER TABLE calls DROP COLUMN answered_by;
         ALTER TABLE calls DROP COLUMN direction_source;
         ALTER TABLE calls DROP COLUMN presentation; PRAGMA user_version = 5;",
    )
    .expect("the database as version 5 left it");
    drop(raw);
    let call = Store::open(dir.path())
        .expect("migrated")
        .call(id)
        .expect("read")
        .expect("row");
    assert_eq!(call.disposition, Some(Disposition::Answered));
    assert_eq!(call.answered_by, None, "not known for old rows");
    assert!(call.call.answered_at.is_some());
}
