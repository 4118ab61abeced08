//! The console's one error type: a status and a plain message for the client, the cause in
//! the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

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
