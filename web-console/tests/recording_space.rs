//! `GET /api/recordings/space`: whether calls can be recorded now, from the free space of
//! the data disk and the floor of the settings (the page shows a notice when they cannot).

#![allow(clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use ringside_store::{Setting, Store};
use tower::ServiceExt;
use web_console::{app, ConsoleState};

async fn space(dir: &std::path::Path) -> serde_json::Value {
    let request = Request::get("/api/recordings/space")
        .body(Body::empty())
        .expect("request");
    let response = app(ConsoleState::new(dir.to_owned()))
        .oneshot(request)
        .await
        .expect("a response");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.expect("body");
    serde_json::from_slice(&body.to_bytes()).expect("JSON")
}

#[tokio::test]
async fn the_console_says_when_the_disk_is_below_the_recording_floor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    store
        .set_setting(Setting::MinFreeMegabytes, "0")
        .expect("floor");
    let room = space(dir.path()).await;
    assert_eq!(room["recording"], true, "{room}");
    assert_eq!(room["floor_megabytes"], 0);
    // A floor no disk here reaches (a thousand terabytes).
    store
        .set_setting(Setting::MinFreeMegabytes, "1000000000")
        .expect("floor");
    let full = space(dir.path()).await;
    assert_eq!(full["recording"], false, "{full}");
    assert_eq!(full["floor_megabytes"], 1_000_000_000);
    assert!(full["free_megabytes"].as_u64().expect("a number") < 1_000_000_000);
}
