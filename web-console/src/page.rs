//! The browser page: plain HTML, CSS and JavaScript compiled into the binary (no build step,
//! no CDN, works offline).

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::ConsoleState;

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");
const LOGIN: &str = include_str!("../assets/login.html");
const WORKLET: &str = include_str!("../assets/listen-worklet.js");

/// `/`, `/login`, `/app.js`, `/listen-worklet.js` and `/app.css`.
pub fn router() -> Router<ConsoleState> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/login",
            get(|| async { asset("text/html; charset=utf-8", LOGIN) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/listen-worklet.js",
            get(|| async { asset("text/javascript; charset=utf-8", WORKLET) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}
