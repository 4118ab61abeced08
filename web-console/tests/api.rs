//! The API through `app(state)` with `oneshot`, against a store in a temporary directory:
//! every endpoint, its errors, CSRF, Range requests on recordings, and path tricks refused.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use ringside_store::test_support::{inbound_call, CALL_JSON_KEYS};
use ringside_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;
use web_console::{app, ConsoleState};

struct Fixture {
    dir: tempfile::TempDir,
    /// The recorded call's id, and its WAV's bytes.
    recorded: (i64, Vec<u8>),
    /// A call without a recording.
    plain: i64,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    let mut insert = |number: &str, name: &str, at: &str| {
        store
            .insert_call(&inbound_call(number, Some(name), at))
            .expect("insert")
    };
    let recorded = insert(
        "15550100001",
        "WIRELESS CALLER",
        "2026-11-22T09:00:00.000000Z",
    );
    let plain = insert(
        "15550100003",
        "Bright Smile Dental",
        "2026-11-22T09:15:00.000000Z",
    );
    let relative = "recordings/2026/11/22/090000-1.wav";
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let path = dir.path().join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(&path, &bytes).expect("wav");
    store.set_recording(recorded, relative).expect("recording");
    Fixture {
        dir,
        recorded: (recorded, bytes),
        plain,
    }
}

async fn send(
    fixture: &Fixture,
    request: Request<Body>,
) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
    let response = app(ConsoleState::new(fixture.dir.path().to_owned()))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
        .oneshot(request)
        .await
        .expect("a response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, body, headers)
}

async fn get_json(fixture: &Fixture, uri: &str) -> (StatusCode, Value) {
    let (status, body, _) = send(
        fixture,
        Request::get(uri).body(Body::empty()).expect("request"),
    )
    .await;
    (status, serde_json::from_slice(&body).expect("JSON"))
}

fn change(method: &str, uri: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-ringside", "1")
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[tokio::test]
async fn calls_are_listed_newest_first_searched_and_paged() {
    let f = fixture();
    let (status, calls) = get_json(&f, "/api/calls").await;
    assert_eq!(status, StatusCode::OK);
    let calls = calls.as_array().expect("an array");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["number"], "15550100003", "newest first");
    for key in CALL_JSON_KEYS {
        assert!(calls[0].get(key).is_some(), "{key} missing");
    }
    let (_, found) = get_json(&f, "/api/calls?search=wireless").await;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    let (_, page) = get_json(&f, "/api/calls?limit=1&offset=1").await;
    assert_eq!(page[0]["number"], "15550100001");
    let (status, error) = get_json(&f, "/api/calls?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].as_str().is_some_and(|e| e.contains("limit")));
    let (status, one) = get_json(&f, &format!("/api/calls/{}", f.plain)).await;
    assert_eq!(
        (status, one["name"].as_str()),
        (StatusCode::OK, Some("Bright Smile Dental"))
    );
    let (status, missing) = get_json(&f, "/api/calls/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"], "there is no call 999");
}

#[tokio::test]
async fn recordings_are_served_whole_and_by_range() {
    let f = fixture();
    let (id, bytes) = &f.recorded;
    let uri = format!("/api/calls/{id}/recording");
    let (status, body, headers) =
        send(&f, Request::get(&uri).body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "audio/wav");
    assert_eq!(headers[header::ACCEPT_RANGES], "bytes");
    assert_eq!(&body, bytes);
    let ranged = Request::get(&uri)
        .header(header::RANGE, "bytes=1000-1099")
        .body(Body::empty())
        .expect("request");
    let (status, body, headers) = send(&f, ranged).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(headers[header::CONTENT_RANGE], "bytes 1000-1099/5000");
    assert_eq!(body, bytes[1000..1100]);
    let tail = Request::get(&uri)
        .header(header::RANGE, "bytes=4990-")
        .body(Body::empty())
        .expect("request");
    let (status, body, _) = send(&f, tail).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &bytes[4990..])
    );
    let beyond = Request::get(&uri)
        .header(header::RANGE, "bytes=9000-")
        .body(Body::empty())
        .expect("request");
    let (status, body, headers) = send(&f, beyond).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        "bytes */5000",
        "the size, for the player"
    );
    assert!(serde_json::from_slice::<Value>(&body).is_ok_and(|e| e["error"].is_string()));
    let (status, _) = get_json(&f, &format!("/api/calls/{}/recording", f.plain)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a call without a recording");
}

#[tokio::test]
async fn path_tricks_never_reach_a_file() {
    let f = fixture();
    std::fs::write(f.dir.path().join("secret.txt"), "private").expect("file");
    for uri in [
        "/api/calls/..%2Fsecret.txt/recording",
        "/api/calls/1%2F..%2F..%2Fsecret.txt/recording",
        "/api/calls/../../secret.txt",
        "/api/recordings/secret.txt",
        "/api/calls/-1/recording",
    ] {
        let (status, body, _) =
            send(&f, Request::get(uri).body(Body::empty()).expect("request")).await;
        assert!(status.is_client_error(), "{uri}: {status}");
        assert!(!String::from_utf8_lossy(&body).contains("private"), "{uri}");
    }
    // A recording path in the database pointing outside the data directory is refused too.
    let store = Store::open(f.dir.path()).expect("store");
    store
        .set_recording(f.plain, "../secret.txt")
        .expect("tamper");
    let (status, body, _) = send(
        &f,
        Request::get(format!("/api/calls/{}/recording", f.plain))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains("private"));
}

#[tokio::test]
async fn the_phonebook_is_named_listed_and_pruned_and_names_reach_the_call_log() {
    let f = fixture();
    let (status, body, _) = send(
        &f,
        change("PUT", "/api/phonebook/15550100001", &json!({"name": "Mom"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (_, calls) = get_json(&f, "/api/calls?search=mom").await;
    assert_eq!(calls[0]["display"], "Mom");
    let (_, book) = get_json(&f, "/api/phonebook").await;
    let mom = book
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["number"] == "15550100001")
        .expect("entry");
    assert_eq!(
        (mom["user_name"].as_str(), mom["network_name"].as_str()),
        (Some("Mom"), Some("WIRELESS CALLER"))
    );
    let (status, _, _) = send(
        &f,
        change("PUT", "/api/phonebook/15550100001", &json!({"name": "  "})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(
        &f,
        change("DELETE", "/api/phonebook/15550100001", &json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(
        &f,
        change("DELETE", "/api/phonebook/15550100001", &json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filters_are_added_moved_tested_and_removed() {
    let f = fixture();
    let (status, body, _) = send(
        &f,
        change(
            "POST",
            "/api/filters",
            &json!({"pattern": "*", "action": "block"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let all: Value = serde_json::from_slice(&body).expect("JSON");
    let (status, body, _) = send(
        &f,
        change(
            "POST",
            "/api/filters",
            &json!({"pattern": "1555*", "action": "allow", "position": 1}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let friends: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(friends["position"], 1);
    let (status, decided, _) = send(
        &f,
        change(
            "POST",
            "/api/filters/test",
            &json!({"number": "12125550100"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let decided: Value = serde_json::from_slice(&decided).expect("JSON");
    assert_eq!(
        (
            decided["blocked"].as_bool(),
            decided["block_filter"].as_i64()
        ),
        (Some(true), all["id"].as_i64())
    );
    assert_eq!(decided["block_position"], 2);
    assert!(decided["block_reason"]
        .as_str()
        .is_some_and(|r| r.contains("position 2")));
    assert_eq!(decided["record_position"], Value::Null, "no record filter");
    let uri = format!("/api/filters/{}/move", all["id"]);
    let (status, moved, _) = send(&f, change("POST", &uri, &json!({"position": 1}))).await;
    assert_eq!(status, StatusCode::OK);
    let moved: Value = serde_json::from_slice(&moved).expect("JSON");
    assert_eq!(moved[0]["id"], all["id"]);
    let (status, error, _) = send(
        &f,
        change(
            "POST",
            "/api/filters",
            &json!({"pattern": "12ab", "action": "block"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&error).contains("not a number pattern"));
    let (status, _, _) = send(
        &f,
        change(
            "POST",
            "/api/filters",
            &json!({"pattern": "1", "action": "drop"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(
        &f,
        change("DELETE", &format!("/api/filters/{}", all["id"]), &json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, left) = get_json(&f, "/api/filters").await;
    assert_eq!(left.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn settings_change_and_the_secret_is_never_shown() {
    let f = fixture();
    let (status, _, _) = send(
        &f,
        change(
            "PUT",
            "/api/settings/block_response",
            &json!({"value": "decline"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(
        &f,
        change(
            "PUT",
            "/api/settings/announce_secret",
            &json!({"value": "a-long-kitchen-secret"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, settings) = get_json(&f, "/api/settings").await;
    assert_eq!(settings["block_response"], "decline");
    assert_eq!(settings["announce_secret"], true, "only whether one is set");
    let (status, _, _) = send(
        &f,
        change(
            "PUT",
            "/api/settings/block_response",
            &json!({"value": "hang up"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(
        &f,
        change("PUT", "/api/settings/volume", &json!({"value": "11"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Several at once: all or nothing.
    let bad = json!({"retention_days": "30", "block_response": "shout"});
    let (status, body, _) = send(&f, change("PUT", "/api/settings", &bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("block_response"));
    let (_, now) = get_json(&f, "/api/settings").await;
    assert_ne!(now["retention_days"], "30", "nothing changed: {now}");
    let good = json!({"retention_days": "30", "block_response": "drop"});
    let (status, _, _) = send(&f, change("PUT", "/api/settings", &good)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, now) = get_json(&f, "/api/settings").await;
    assert_eq!(
        (
            now["retention_days"].as_str(),
            now["block_response"].as_str()
        ),
        (Some("30"), Some("drop"))
    );
}

#[tokio::test]
async fn changes_without_the_csrf_header_or_by_get_are_refused() {
    let f = fixture();
    let forged = Request::builder()
        .method("POST")
        .uri("/api/filters")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"pattern": "*", "action": "block"}).to_string(),
        ))
        .expect("request");
    let (status, body, _) = send(&f, forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("CSRF"));
    let (_, filters) = get_json(&f, "/api/filters").await;
    assert_eq!(
        filters.as_array().map(Vec::len),
        Some(0),
        "nothing was added"
    );
    let (status, _) = get_json(&f, "/api/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let f = fixture();
    for (uri, kind, needle) in [
        ("/", "text/html", "Ringside"),
        ("/js/app.js", "text/javascript", "import"),
        ("/js/common.js", "text/javascript", "X-Ringside"),
        (
            "/js/listen-worklet.js",
            "text/javascript",
            "registerProcessor",
        ),
        ("/app.css", "text/css", "--accent"),
    ] {
        let (status, body, headers) =
            send(&f, Request::get(uri).body(Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with(kind)),
            "{uri}"
        );
        assert!(String::from_utf8_lossy(&body).contains(needle), "{uri}");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .is_ok_and(
                    |p| p.contains("default-src 'self'") && p.contains("frame-ancestors 'none'")
                ),
            "{uri}: own scripts only, never framed"
        );
    }
    let (status, _, _) = send(
        &f,
        Request::get("/js/nope.js")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only the page's own scripts");
    let (status, session) = get_json(&f, "/api/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["login_required"], false, "no password: no Log out");
    assert_eq!(session["live"], false, "no agent: no live events to follow");
}

#[tokio::test]
async fn the_phonebook_exports_and_imports_csv() {
    let f = fixture();
    let csv =
        "number,name\r\n15550100001,\"Mom, at home\"\n15550100009,Plumber\n15550100010,'=1+1\n";
    let import = Request::post("/api/phonebook.csv")
        .header(header::CONTENT_TYPE, "text/csv")
        .header("x-ringside", "1")
        .body(Body::from(csv))
        .expect("request");
    let (status, body, _) = send(&f, import).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON")["imported"],
        3
    );
    let (status, body, headers) = send(
        &f,
        Request::get("/api/phonebook.csv")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/csv")));
    let text = String::from_utf8(body).expect("UTF-8");
    assert!(
        text.starts_with("number,name,network_name,calls,last_seen\r\n"),
        "{text}"
    );
    assert!(
        text.contains("15550100010,'=1+1,"),
        "a formula-like name stays inert for spreadsheets: {text}"
    );
    let (_, book) = get_json(&f, "/api/phonebook").await;
    let names: Vec<&str> = book
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["user_name"].as_str())
        .collect();
    assert!(
        names.contains(&"=1+1"),
        "imported without the quote: {names:?}"
    );
    assert!(
        text.contains("15550100001,\"Mom, at home\",WIRELESS CALLER,1,"),
        "{text}"
    );
    assert!(text.contains("15550100009,Plumber,,0,"), "{text}");
    let bad = Request::post("/api/phonebook.csv")
        .header("x-ringside", "1")
        .body(Body::from("15550100005,Fine\n15550100006\n"))
        .expect("request");
    let (status, body, _) = send(&f, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("line 2"));
    let (_, book) = get_json(&f, "/api/phonebook").await;
    assert!(
        !book.to_string().contains("15550100005"),
        "a bad file imports nothing"
    );
}

#[tokio::test]
async fn a_recording_can_be_deleted_and_the_call_stays() {
    let f = fixture();
    let (id, _) = f.recorded;
    let path = f.dir.path().join("recordings/2026/11/22/090000-1.wav");
    assert!(path.exists());
    let (status, _, _) = send(
        &f,
        change("DELETE", &format!("/api/calls/{id}/recording"), &json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!path.exists(), "the file is gone");
    let (status, call) = get_json(&f, &format!("/api/calls/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(call["recording"].is_null());
    let (status, _) = get_json(&f, &format!("/api/calls/{id}/recording")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn waveforms_are_drawn_from_real_wavs_only() {
    let f = fixture();
    let (id, _) = f.recorded;
    // The fixture's recording is not a WAV: no picture, a clear error.
    let (status, error) = get_json(&f, &format!("/api/calls/{id}/waveform.svg")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error["error"]
        .as_str()
        .is_some_and(|e| e.contains("cannot be read")));
    let path = f.dir.path().join("recordings/2026/11/22/090000-1.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).expect("wav");
    for i in 0..16_000i32 {
        writer.write_sample((i % 100) as i16 * 100).expect("sample");
    }
    writer.finalize().expect("finalize");
    let (status, body, headers) = send(
        &f,
        Request::get(format!("/api/calls/{id}/waveform.svg"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(String::from_utf8_lossy(&body).starts_with("<svg"));
}

#[tokio::test]
async fn voicemail_says_what_the_provider_last_said() {
    let f = fixture();
    let (status, none) = get_json(&f, "/api/voicemail").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["waiting"], false);
    Store::open(f.dir.path())
        .expect("store")
        .record_voicemail(
            ringside_core::rfc3339::parse("2026-11-22T10:00:00.000000Z").expect("time"),
            true,
            2,
            5,
        )
        .expect("record");
    let (_, waiting) = get_json(&f, "/api/voicemail").await;
    assert_eq!(
        (waiting["waiting"].as_bool(), waiting["new"].as_u64()),
        (Some(true), Some(2))
    );
}

#[tokio::test]
async fn other_sites_cannot_reach_the_console_through_the_browser() {
    let f = fixture();
    let request = |host: &str, origin: Option<&str>, websocket: bool| {
        let mut request = Request::get("/api/calls").header(header::HOST, host);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if websocket {
            request = request
                .header(header::UPGRADE, "websocket")
                .header(header::CONNECTION, "upgrade");
        }
        request.body(Body::empty()).expect("request")
    };
    // No password: loopback only, also against a name pointed at 127.0.0.1 (DNS rebinding).
    let (status, body, _) = send(&f, request("evil.example:8080", None, false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("127.0.0.1 or localhost"));
    for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
        let (status, _, _) = send(&f, request(host, None, false)).await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
    // A WebSocket (listen live) opened by another site's page.
    let (status, body, _) = send(
        &f,
        request("127.0.0.1:8080", Some("http://evil.example"), true),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("WebSocket"));
}

#[tokio::test]
async fn every_refusal_is_json_with_the_right_status() {
    let f = fixture();
    let json_post = |uri: &str, content_type: &str, body: &'static str| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .header("x-ringside", "1")
            .body(Body::from(body))
            .expect("request")
    };
    for (request, status, words) in [
        (
            json_post("/api/filters", "application/json", "{bad"),
            StatusCode::BAD_REQUEST,
            "JSON",
        ),
        (
            json_post("/api/filters", "text/plain", "{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
        (
            Request::get("/api/calls/abc")
                .body(Body::empty())
                .expect("request"),
            StatusCode::BAD_REQUEST,
            "abc",
        ),
        (
            Request::get("/api/calls?limit=x")
                .body(Body::empty())
                .expect("request"),
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            Request::delete("/api/settings")
                .header("x-ringside", "1")
                .body(Body::empty())
                .expect("request"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
    ] {
        let what = format!("{} {}", request.method(), request.uri());
        let (got, body, headers) = send(&f, request).await;
        assert_eq!(got, status, "{what}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with("application/json")),
            "{what}"
        );
        let error: Value = serde_json::from_slice(&body).expect("JSON");
        assert!(
            error["error"].as_str().is_some_and(|m| m.contains(words)),
            "{what}: {error}"
        );
    }
}
