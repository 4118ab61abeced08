//! Calls in progress through the console: the list, the server-sent events, and the
//! per-call recording switch that reaches the agent as a command.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use http_body_util::BodyExt;
use ringside_core::call::CallDirection;
use ringside_core::call_view::{CallView, Party};
use ringside_hub::{Command, LiveCall, LiveHub, Stored};
use tower::ServiceExt;
use web_console::{app, ConsoleState};

fn call(key: u64) -> LiveCall {
    LiveCall {
        key,
        call: CallView {
            call_id: format!("c{key}@example"),
            direction: CallDirection::Inbound,
            direction_source: None,
            party: Party {
                number: Some("15550100001".into()),
                name: Some("WIRELESS CALLER".into()),
                display: None,
                presentation: ringside_core::caller_id::Presentation::Number,
            },
            started_at: time("2026-11-22T10:00:00.000000Z"),
            answered_at: None,
        },
        recording: true,
    }
}

fn time(text: &str) -> time::OffsetDateTime {
    ringside_core::rfc3339::parse(text).expect("time")
}

/// `GET uri`.
/// The console as a request from this machine sees it (no password: only loopback is served).
fn from_this_machine(state: ConsoleState) -> Router {
    app(state).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
}

async fn get(router: &Router, uri: &str) -> Response {
    router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

/// A response's whole body.
async fn bytes(response: Response) -> axum::body::Bytes {
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
}

/// The next server-sent event's JSON.
async fn next_event(body: &mut Body) -> serde_json::Value {
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("an event in time")
        .expect("a frame")
        .expect("data");
    let text = String::from_utf8(frame.into_data().expect("data").to_vec()).expect("UTF-8");
    assert!(text.starts_with("data: "), "{text}");
    serde_json::from_str(text.trim_start_matches("data: ").trim()).expect("JSON")
}

#[tokio::test]
async fn calls_in_progress_their_events_and_the_recording_switch() {
    let dir = tempfile::tempdir().expect("tempdir");
    ringside_store::Store::open(dir.path())
        .expect("store")
        .set_phonebook_name("15550100001", "Mom", time("2026-11-22T09:00:00.000000Z"))
        .expect("name");
    let (hub, commands) = LiveHub::new();
    let router = from_this_machine(ConsoleState::new(dir.path().to_owned()).with_live(hub.clone()));

    let events = get(&router, "/api/live/events").await;
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.headers()[header::CONTENT_TYPE]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/event-stream")));
    let mut body = events.into_body();
    let session: serde_json::Value =
        serde_json::from_slice(&bytes(get(&router, "/api/session").await).await).expect("JSON");
    assert_eq!(session["live"], true, "the page follows live events");

    hub.started(call(7));
    let event = next_event(&mut body).await;
    assert_eq!(event["type"], "started");
    assert_eq!(event["call"]["number"], "15550100001");

    let list: serde_json::Value =
        serde_json::from_slice(&bytes(get(&router, "/api/live/calls").await).await).expect("JSON");
    assert_eq!(list[0]["key"], 7);
    assert_eq!(list[0]["recording"], true);
    assert_eq!(
        list[0]["display"], "Mom",
        "the phonebook's name, as in the call log"
    );

    let switch = |key: u64| {
        Request::post(format!("/api/live/calls/{key}/recording"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-ringside", "1")
            .body(Body::from(r#"{"on": false}"#))
            .expect("request")
    };
    let response = router.clone().oneshot(switch(7)).await.expect("response");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        commands.try_recv(),
        Ok(Command::SetRecording { key: 7, on: false })
    );
    let response = router.clone().oneshot(switch(8)).await.expect("response");
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "not in progress");

    hub.ended(7);
    assert_eq!(next_event(&mut body).await["type"], "ended");
    hub.stored(Stored::CallLogged);
    assert_eq!(
        next_event(&mut body).await["type"],
        "logged",
        "pages reload the call log once the row is written"
    );
    let list = bytes(get(&router, "/api/live/calls").await).await;
    assert_eq!(&list[..], b"[]");
}

#[tokio::test]
async fn a_console_without_the_agent_has_no_calls_in_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router = from_this_machine(ConsoleState::new(dir.path().to_owned()));
    let list = get(&router, "/api/live/calls").await;
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(&bytes(list).await[..], b"[]");
    let events = get(&router, "/api/live/events").await;
    assert_eq!(events.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_panic_the_agent_survived_is_in_the_session_and_the_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _commands) = LiveHub::new();
    let router = from_this_machine(ConsoleState::new(dir.path().to_owned()).with_live(hub.clone()));
    let session = |router: Router| async move {
        let body = bytes(get(&router, "/api/session").await).await;
        serde_json::from_slice::<serde_json::Value>(&body).expect("JSON")
    };
    assert_eq!(session(router.clone()).await["faults"]["count"], 0);
    let mut body = get(&router, "/api/live/events").await.into_body();
    hub.fault(
        "index out of range".into(),
        time("2026-11-28T12:00:00.000000Z"),
    );
    assert_eq!(next_event(&mut body).await["type"], "fault");
    let faults = &session(router).await["faults"];
    assert_eq!(faults["count"], 1);
    assert_eq!(faults["last"], "index out of range");
    assert_eq!(faults["last_at"], "2026-11-28T12:00:00.000000Z");
}
