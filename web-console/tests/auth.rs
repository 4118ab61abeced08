//! The console password: without a session nothing but the login page answers; a login sets
//! an `HttpOnly`, `SameSite` cookie; failed logins are rate-limited; logout ends the session,
//! and so does a password changed or removed.

#![allow(clippy::expect_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use ringside_store::Store;
use tower::ServiceExt;
use web_console::{app, auth, ConsoleState};

const PASSWORD: &str = "correct horse battery";

fn console() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let hash = auth::hash_password(PASSWORD).expect("hash");
    store.set_console_password_hash(Some(&hash)).expect("set");
    let router = app(ConsoleState::new(dir.path().to_owned()));
    (dir, router)
}

async fn send(router: &Router, request: Request<Body>) -> axum::response::Response {
    router.clone().oneshot(request).await.expect("a response")
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).expect("request")
}

fn post(uri: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-ringside", "1");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_owned())).expect("request")
}

async fn login(router: &Router, password: &str) -> axum::response::Response {
    let body = serde_json::json!({ "password": password }).to_string();
    send(router, post("/api/login", &body, None)).await
}

#[tokio::test]
async fn everything_needs_a_login_once_a_password_is_set() {
    let (_dir, router) = console();
    for uri in [
        "/api/calls",
        "/api/calls/1/recording",
        "/api/calls/1/waveform.svg",
        "/api/phonebook",
        "/api/phonebook.csv",
        "/api/settings",
        "/api/voicemail",
        "/api/session",
        "/api/live/calls",
        "/api/live/events",
        "/api/live/calls/1/audio",
    ] {
        let response = send(&router, get(uri, None)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
    }
    let page = send(&router, get("/", None)).await;
    assert!(page.status().is_redirection());
    assert_eq!(page.headers()[header::LOCATION], "/login");
    for open in ["/login", "/js/login.js", "/app.css"] {
        assert_eq!(
            send(&router, get(open, None)).await.status(),
            StatusCode::OK,
            "{open}: the login page needs it"
        );
    }
    let script = send(&router, get("/js/app.js", None)).await;
    assert!(
        script.status().is_redirection(),
        "the console's own script needs a login"
    );
    let forged = send(
        &router,
        post(
            "/api/filters",
            r#"{"pattern":"*","action":"block"}"#,
            Some("ringside_session=guess"),
        ),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_login_gives_an_httponly_samesite_session_and_logout_ends_it() {
    let (_dir, router) = console();
    assert_eq!(
        login(&router, "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = login(&router, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    assert_eq!(
        send(&router, get("/api/calls", Some(&cookie)))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&router, get("/", Some(&cookie))).await.status(),
        StatusCode::OK
    );
    let session = send(&router, get("/api/session", Some(&cookie))).await;
    assert_eq!(session.status(), StatusCode::OK);
    let body = axum::body::to_bytes(session.into_body(), 1 << 10)
        .await
        .expect("body");
    let session: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(session["login_required"], true, "the page offers Log out");
    let logout = send(&router, post("/api/logout", "{}", Some(&cookie))).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        send(&router, get("/api/calls", Some(&cookie)))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn failed_logins_are_limited() {
    let (_dir, router) = console();
    for _ in 0..5 {
        assert_eq!(
            login(&router, "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login(&router, PASSWORD).await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
}

/// The `name=value` of a login's session cookie.
fn cookie_of(response: &axum::response::Response) -> String {
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "logged in");
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii");
    set_cookie.split(';').next().expect("name=value").to_owned()
}

fn set_password(dir: &tempfile::TempDir, password: Option<&str>) {
    let hash = password.map(|p| auth::hash_password(p).expect("hash"));
    Store::open(dir.path())
        .expect("store")
        .set_console_password_hash(hash.as_deref())
        .expect("set");
}

#[tokio::test]
async fn sessions_from_before_a_password_change_are_refused_after_it() {
    let (dir, router) = console();
    let before = cookie_of(&login(&router, PASSWORD).await);
    let calls = |cookie: String| {
        let router = router.clone();
        async move {
            send(&router, get("/api/calls", Some(&cookie)))
                .await
                .status()
        }
    };
    assert_eq!(calls(before.clone()).await, StatusCode::OK);
    // The same text again is a new hash (a new salt): whoever set it meant to end sessions.
    set_password(&dir, Some(PASSWORD));
    assert_eq!(calls(before.clone()).await, StatusCode::UNAUTHORIZED);
    let after = cookie_of(&login(&router, PASSWORD).await);
    assert_eq!(calls(after.clone()).await, StatusCode::OK);
    assert_eq!(
        calls(before).await,
        StatusCode::UNAUTHORIZED,
        "the old session does not come back"
    );
    set_password(&dir, Some("another password"));
    assert_eq!(calls(after).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_end_when_the_password_is_removed_and_stay_ended_under_a_new_one() {
    let (dir, router) = console();
    let before = cookie_of(&login(&router, PASSWORD).await);
    set_password(&dir, None);
    set_password(&dir, Some(PASSWORD));
    let response = send(&router, get("/api/calls", Some(&before))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_huge_login_body_is_refused_unread_and_unchecked() {
    let (_dir, router) = console();
    let huge = "x".repeat(auth::MAX_LOGIN_BYTES * 16);
    for _ in 0..6 {
        let response = login(&router, &huge).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(
        login(&router, PASSWORD).await.status(),
        StatusCode::NO_CONTENT,
        "none was counted as a try"
    );
}
