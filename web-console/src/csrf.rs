//! Cross-site request forgery: a request that changes state must not be a GET, and must
//! carry the header `X-Ringside: 1`. Browsers do not let another site's page add a custom
//! header to a request without the console's permission (CORS preflight, which the console
//! never grants), so a forged form or image cannot change anything.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// The header the console's page (and scripts using the API) send with every change.
pub const HEADER: &str = "x-ringside";

/// Refuses state-changing requests without the header.
pub async fn require_header(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && request.headers().get(HEADER).is_none_or(|v| v != "1") {
        return AppError {
            status: axum::http::StatusCode::FORBIDDEN,
            message: format!("changes need the header `{HEADER}: 1` (CSRF protection)"),
        }
        .into_response();
    }
    next.run(request).await
}
