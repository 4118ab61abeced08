//! The console's one error type: a status and a plain message for the client, the cause in
//! the log. [`json_errors`] gives the API's other refusals (a body that is not JSON, a path
//! parameter that is not a number, a method a route does not take) the same JSON shape.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The longest plain-text refusal carried over into JSON.
const MAX_REFUSAL_BYTES: usize = 4096;

/// An error a handler returns.
#[derive(Debug)]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What the client is told.
    pub message: String,
}

impl AppError {
    /// 404 with `what` not found.
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError {
            status: StatusCode::NOT_FOUND,
            message: what.into(),
        }
    }

    /// 400 with a reason.
    pub fn bad_request(why: impl Into<String>) -> AppError {
        AppError {
            status: StatusCode::BAD_REQUEST,
            message: why.into(),
        }
    }

    /// 500, with the cause logged and a plain message for the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> AppError {
        tracing::error!("console: {cause}");
        AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error (see the agent's log)".into(),
        }
    }
}

impl From<ringside_store::StoreError> for AppError {
    fn from(error: ringside_store::StoreError) -> Self {
        match error {
            ringside_store::StoreError::Filter(e) => AppError::bad_request(e.to_string()),
            ringside_store::StoreError::Setting(e) => AppError::bad_request(e.to_string()),
            other => AppError::internal(&other),
        }
    }
}

impl From<ringside_core::filters::FilterError> for AppError {
    fn from(error: ringside_core::filters::FilterError) -> Self {
        AppError::bad_request(error.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        (self.status, body).into_response()
    }
}

/// Turns an error response that is not JSON (axum's extractors answer in plain text) into
/// `{"error": "..."}` with the same status and headers (a 416's `Content-Range` stays).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REFUSAL_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": message }).to_string();
    Response::from_parts(parts, body.into())
}
