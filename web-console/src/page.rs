//! The browser page: plain HTML, CSS and JavaScript compiled into the binary (no build step,
//! no CDN, works offline).

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::error::AppError;
use crate::ConsoleState;

const INDEX: &str = include_str!("../assets/index.html");
const STYLE: &str = include_str!("../assets/app.css");
const LOGIN: &str = include_str!("../assets/login.html");

/// The page's JavaScript modules (`/js/app.js` imports the others) and the listen-live
/// `AudioWorklet`, by file name under `/js/`.
const SCRIPTS: &[(&str, &str)] = &[
    ("app.js", include_str!("../assets/js/app.js")),
    ("common.js", include_str!("../assets/js/common.js")),
    ("callers.js", include_str!("../assets/js/callers.js")),
    ("calls.js", include_str!("../assets/js/calls.js")),
    ("glance.js", include_str!("../assets/js/glance.js")),
    ("listen.js", include_str!("../assets/js/listen.js")),
    (
        "listen-worklet.js",
        include_str!("../assets/js/listen-worklet.js"),
    ),
    ("phonebook.js", include_str!("../assets/js/phonebook.js")),
    ("filters.js", include_str!("../assets/js/filters.js")),
    ("settings.js", include_str!("../assets/js/settings.js")),
    ("login.js", include_str!("../assets/js/login.js")),
];

/// What the pages may load and where they may be shown: only the console's own scripts,
/// styles, media and connections (its WebSocket included), never inside another site's frame
/// (a hidden "Block" button under a decoy), no inline script.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                      base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/`, `/login`, `/app.css` and the scripts under `/js/`.
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
        .route("/js/{name}", get(script))
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

async fn script(Path(name): Path<String>) -> Result<impl IntoResponse, AppError> {
    SCRIPTS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, body)| asset("text/javascript; charset=utf-8", body))
        .ok_or_else(|| AppError::not_found("no such script"))
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
}
