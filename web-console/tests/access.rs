//! Who may reach the console, decided at every request: without a password only a loopback
//! peer addressing a loopback name, also after the password is removed from a console that
//! runs on a LAN address; and `X-Content-Type-Options: nosniff` on every kind of response.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use http_body_util::BodyExt;
use ringside_store::test_support::inbound_call;
use ringside_store::{NewCall, Store};
use tower::ServiceExt;
use web_console::{app, auth, ConsoleState};

const PASSWORD: &str = "correct horse battery";

/// A console over a fresh data directory with a password set.
fn console() -> (tempfile::TempDir, ConsoleState) {
    let dir = tempfile::tempdir().expect("tempdir");
    let hash = auth::hash_password(PASSWORD).expect("hash");
    let store = Store::open(dir.path()).expect("store");
    store.set_console_password_hash(Some(&hash)).expect("set");
    let state = ConsoleState::new(dir.path().to_owned());
    (dir, state)
}

/// The console as a client at `peer` reaches it.
fn from(state: &ConsoleState, peer: &str) -> Router {
    let peer: SocketAddr = peer.parse().expect("address");
    app(state.clone()).layer(MockConnectInfo(peer))
}

async fn send(router: &Router, request: Request<Body>) -> Response {
    router.clone().oneshot(request).await.expect("a response")
}

fn get(uri: &str, host: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri).header(header::HOST, host);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).expect("request")
}

/// Logs in through `router`; the session cookie.
async fn log_in(router: &Router) -> String {
    let body = serde_json::json!({ "password": PASSWORD }).to_string();
    let request = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-ringside", "1")
        .body(Body::from(body))
        .expect("request");
    let response = send(router, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii");
    set_cookie.split(';').next().expect("name=value").to_owned()
}

/// A logged call with a WAV under `recordings/`; its id.
fn with_recording(data_dir: &std::path::Path) -> i64 {
    let mut store = Store::open(data_dir).expect("store");
    let at = "2026-11-22T09:00:00.000000Z";
    let id = store
        .insert_call(&NewCall {
            call_id: "nosniff@example",
            ..inbound_call("15550100001", Some("<script>alert(1)</script>"), at)
        })
        .expect("insert");
    let relative = "recordings/nosniff.wav";
    std::fs::create_dir_all(data_dir.join("recordings")).expect("recordings/");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(data_dir.join(relative), spec).expect("wav");
    for sample in [0i16, 100, -100, 0] {
        wav.write_sample(sample).expect("sample");
    }
    wav.finalize().expect("finalize");
    store.set_recording(id, relative).expect("recording");
    id
}

async fn text(response: Response) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[tokio::test]
async fn a_password_removed_while_running_shuts_the_lan_out_at_the_next_request() {
    let (dir, state) = console();
    let lan = from(&state, "192.168.1.20:50000");
    let cookie = log_in(&lan).await;
    let served = send(&lan, get("/api/calls", "192.168.1.5:8080", Some(&cookie))).await;
    assert_eq!(
        served.status(),
        StatusCode::OK,
        "with a password the LAN logs in"
    );

    let store = Store::open(dir.path()).expect("store");
    store.set_console_password_hash(None).expect("remove");
    for uri in [
        "/api/calls",
        "/api/filters",
        "/api/live/events",
        "/api/login",
    ] {
        for host in ["localhost", "127.0.0.1:8080", "192.168.1.5:8080"] {
            let response = send(&lan, get(uri, host, Some(&cookie))).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{uri} Host {host}"
            );
            let body: serde_json::Value =
                serde_json::from_str(&text(response).await).expect("JSON");
            assert!(
                body["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("password")),
                "{body}"
            );
        }
    }
    let page = send(&lan, get("/", "localhost", None)).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let page = text(page).await;
    assert!(
        page.contains("ringside console-password set") && page.contains("SSH tunnel"),
        "a browser is told what to do: {page}"
    );

    let local = from(&state, "127.0.0.1:50001");
    let served = send(&local, get("/api/calls", "127.0.0.1:8080", None)).await;
    assert_eq!(served.status(), StatusCode::OK, "loopback is served");
    let rebound = send(&local, get("/api/calls", "evil.example:8080", None)).await;
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN, "DNS rebinding");
    let mapped = from(&state, "[::ffff:127.0.0.1]:50002");
    let served = send(&mapped, get("/api/calls", "localhost", None)).await;
    assert_eq!(
        served.status(),
        StatusCode::OK,
        "IPv4 loopback on a dual-stack socket"
    );
}

#[tokio::test]
async fn without_a_peer_address_nothing_passes_the_loopback_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    Store::open(dir.path()).expect("store");
    let unserved = app(ConsoleState::new(dir.path().to_owned()));
    let response = send(&unserved, get("/api/calls", "127.0.0.1", None)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_kind_of_response_says_nosniff() {
    let (dir, state) = console();
    let lan = from(&state, "192.168.1.20:50000");
    let cookie = log_in(&lan).await;
    let mut responses = vec![
        ("page", send(&lan, get("/", "x", Some(&cookie))).await),
        ("login page", send(&lan, get("/login", "x", None)).await),
        (
            "API",
            send(&lan, get("/api/calls", "x", Some(&cookie))).await,
        ),
        (
            "API 404",
            send(&lan, get("/api/nope", "x", Some(&cookie))).await,
        ),
        (
            "page 404",
            send(&lan, get("/nope", "x", Some(&cookie))).await,
        ),
        ("401", send(&lan, get("/api/calls", "x", None)).await),
        ("redirect to login", send(&lan, get("/", "x", None)).await),
        (
            "missing recording",
            send(&lan, get("/api/calls/1/recording", "x", Some(&cookie))).await,
        ),
    ];
    let recorded = with_recording(dir.path());
    let uri = format!("/api/calls/{recorded}/recording");
    let wav = send(&lan, get(&uri, "x", Some(&cookie))).await;
    assert_eq!(wav.headers()[header::CONTENT_TYPE], "audio/wav");
    responses.push(("recording", wav));
    Store::open(dir.path())
        .expect("store")
        .set_console_password_hash(None)
        .expect("remove");
    responses.push(("403", send(&lan, get("/api/calls", "x", None)).await));
    responses.push(("403 page", send(&lan, get("/", "x", None)).await));
    let mut seen = Vec::new();
    for (what, response) in &responses {
        assert_eq!(
            response.headers().get(header::X_CONTENT_TYPE_OPTIONS),
            Some(&header::HeaderValue::from_static("nosniff")),
            "{what} ({})",
            response.status()
        );
        seen.push(response.status().as_u16());
    }
    assert_eq!(
        seen,
        [200, 200, 200, 404, 404, 401, 303, 404, 200, 403, 403]
    );
}
