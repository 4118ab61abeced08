//! The call log's filters (`GET /api/calls?direction=&disposition=`) are words the call log
//! knows: one that is not is refused in plain words, not answered with an empty list.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use web_console::{app, ConsoleState};

/// `GET uri` from this machine (no password: only loopback is served); status and JSON.
async fn get(dir: &tempfile::TempDir, uri: &str) -> (StatusCode, serde_json::Value) {
    let router = app(ConsoleState::new(dir.path().to_owned()))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = router
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&body).expect("JSON"))
}

#[tokio::test]
async fn a_filter_word_the_call_log_does_not_know_is_a_bad_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    ringside_store::Store::open(dir.path()).expect("store");
    let (status, calls) = get(&dir, "/api/calls?direction=outbound&disposition=answered").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls, serde_json::json!([]));
    let (status, _) = get(&dir, "/api/calls?direction=&disposition=").await;
    assert_eq!(status, StatusCode::OK, "empty means any");
    let (status, error) = get(&dir, "/api/calls?direction=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error
            .to_string()
            .contains("`sideways` is not a call direction"),
        "{error}"
    );
    let (status, error) = get(&dir, "/api/calls?disposition=hung%20up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error.to_string().contains("`hung up` is not a disposition"),
        "{error}"
    );
}
