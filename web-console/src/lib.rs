//! Ringside's web console: an axum [`Router`] built by [`app`], mounted by `ringside run`
//! and served alone over a data directory by `ringside console`.
//!
//! # Layout
//!
//! - [`api`]: the JSON API under `/api/` (calls, recordings, phonebook, filters, settings).
//! - [`error`]: [`error::AppError`], the one error type every handler returns (JSON, right
//!   status, cause logged).
//! - [`csrf`]: state changes need a non-GET request carrying the console's header.
//!
//! Every handler opens the store on a blocking thread (`SQLite` connections are cheap, and the
//! agent's packet path never shares one with the console). Recordings are found by call id,
//! never by a path from the client.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

pub mod api;
pub mod csrf;
pub mod error;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// The data directory (`ringside.db`, `recordings/`).
    pub data_dir: Arc<PathBuf>,
}

impl ConsoleState {
    /// The console over `data_dir`.
    #[must_use]
    pub fn new(data_dir: PathBuf) -> ConsoleState {
        ConsoleState {
            data_dir: Arc::new(data_dir),
        }
    }
}

/// The console: the API and the page.
pub fn app(state: ConsoleState) -> Router {
    Router::new()
        .nest("/api", api::router())
        .layer(axum::middleware::from_fn(csrf::require_header))
        .with_state(state)
}
