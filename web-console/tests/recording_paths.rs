//! Recording paths in the call log are data, and can be forged: a row naming `ringside.db`,
//! `../x`, or a symbolic link under `recordings/` to `/etc/passwd` or to `ringside.db` is
//! refused (404) for GET, Range GET, the waveform and DELETE, and nothing is deleted.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use ringside_store::test_support::inbound_call;
use ringside_store::{NewCall, Store};
use tower::ServiceExt;
use web_console::{app, ConsoleState};

/// A data directory whose call `id` has `recording` as its stored path.
fn call_with_recording(dir: &std::path::Path, recording: &str) -> i64 {
    let mut store = Store::open(dir).expect("store");
    let id = store
        .insert_call(&NewCall {
            call_id: recording,
            ..inbound_call("15550100001", None, "2026-11-22T09:00:00.000000Z")
        })
        .expect("insert");
    store.set_recording(id, recording).expect("tamper");
    id
}

async fn status_and_body(dir: &std::path::Path, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    // From this machine: no password is set, so only loopback is served.
    let response = app(ConsoleState::new(dir.to_owned()))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
        .oneshot(request)
        .await
        .expect("a response");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body");
    (status, body.to_bytes().to_vec())
}

#[tokio::test]
async fn forged_and_symlinked_recording_paths_are_refused_for_every_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("recordings/2026")).expect("dirs");
    std::fs::write(dir.path().join("x"), b"outside the data directory").expect("x");
    std::os::unix::fs::symlink("/etc/passwd", data.join("recordings/2026/passwd.wav"))
        .expect("link");
    std::os::unix::fs::symlink(
        data.join("ringside.db"),
        data.join("recordings/2026/db.wav"),
    )
    .expect("link");
    let forged = [
        "ringside.db",
        "../x",
        "recordings/2026/passwd.wav",
        "recordings/2026/db.wav",
    ];
    let ids: Vec<i64> = forged
        .iter()
        .map(|path| call_with_recording(&data, path))
        .collect();
    let db_before = std::fs::read(data.join("ringside.db")).expect("db");
    for (path, id) in forged.iter().zip(&ids) {
        let requests = [
            Request::get(format!("/api/calls/{id}/recording")),
            Request::get(format!("/api/calls/{id}/recording")).header(header::RANGE, "bytes=0-99"),
            Request::get(format!("/api/calls/{id}/waveform.svg")),
            Request::delete(format!("/api/calls/{id}/recording")).header("x-ringside", "1"),
        ];
        for request in requests {
            let request = request.body(Body::empty()).expect("request");
            let what = format!("{} {} ({path})", request.method(), request.uri());
            let (status, body) = status_and_body(&data, request).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
            let body = String::from_utf8_lossy(&body);
            assert!(
                !body.contains("root:") && !body.contains("SQLite"),
                "{what}: {body}"
            );
        }
    }
    assert!(dir.path().join("x").exists(), "nothing outside was deleted");
    assert!(std::fs::symlink_metadata(data.join("recordings/2026/passwd.wav")).is_ok());
    assert!(std::fs::read(data.join("ringside.db")).expect("db").len() >= db_before.len());
    let store = Store::open(&data).expect("store");
    for (path, id) in forged.iter().zip(&ids) {
        let call = store.call(*id).expect("query").expect("call");
        assert_eq!(
            call.recording.as_deref(),
            Some(*path),
            "the row is left alone"
        );
    }
}

#[tokio::test]
async fn deleting_a_recording_whose_file_is_gone_forgets_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = call_with_recording(dir.path(), "recordings/2026/11/22/gone.wav");
    let request = Request::delete(format!("/api/calls/{id}/recording"))
        .header("x-ringside", "1")
        .body(Body::empty())
        .expect("request");
    let (status, _) = status_and_body(dir.path(), request).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let store = Store::open(dir.path()).expect("store");
    let call = store.call(id).expect("query").expect("call");
    assert_eq!(call.recording, None);
}
