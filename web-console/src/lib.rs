//! Ringside's web console: an axum [`Router`] built by [`app`], mounted by `ringside run`
//! and served alone over a data directory by `ringside console`.
//!
//! # Layout
//!
//! - [`api`]: the JSON API under `/api/`: its routes, and one module per resource (calls and
//!   recordings, phonebook, filters, settings with voicemail and session).
//! - [`error`]: [`error::AppError`], the one error type every handler returns (JSON, right
//!   status, cause logged).
//! - [`access`]: the loopback-only rule while no password is set, checked at every request.
//! - [`auth`]: the console password and sessions, checked at every request.
//! - [`limiter`]: how many password checks run, per source and at once.
//! - [`password`]: the password's Argon2id hash, made and checked in reused memory.
//! - [`csrf`]: state changes need a non-GET request carrying the console's header.
//! - [`csv`]: the phonebook's CSV import and export.
//! - [`live`]: calls in progress (the agent's `ringside_hub::LiveHub`) served to the page:
//!   their list, events, live audio and the per-call recording switch.
//! - [`waveform`]: pictures of recordings.
//! - [`page`]: the browser page (HTML, CSS, JavaScript embedded in the binary).
//!
//! Every handler opens the store on a blocking thread (`SQLite` connections are cheap, and the
//! agent's packet path never shares one with the console). Recordings are found by call id,
//! never by a path from the client.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::header;
use axum::response::Response;
use axum::Router;
use ringside_store::Store;

pub mod access;
pub mod api;
pub mod auth;
pub mod csrf;
pub mod csv;
pub mod error;
pub mod limiter;
pub mod live;
pub mod page;
pub mod password;
pub mod waveform;

/// What every handler needs.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// The data directory (`ringside.db`, `recordings/`).
    pub data_dir: Arc<PathBuf>,
    /// Logged-in sessions.
    pub sessions: auth::Sessions,
    /// Login attempts and the password checks in flight.
    pub logins: limiter::LoginLimiter,
    /// Password checks' working memory.
    pub passwords: password::Checker,
    /// Calls in progress, when the console runs inside the agent.
    pub live: Option<ringside_hub::LiveHub>,
}

impl ConsoleState {
    /// The console over `data_dir`.
    #[must_use]
    pub fn new(data_dir: PathBuf) -> ConsoleState {
        ConsoleState {
            data_dir: Arc::new(data_dir),
            sessions: auth::Sessions::default(),
            logins: limiter::LoginLimiter::default(),
            passwords: password::Checker::default(),
            live: None,
        }
    }

    /// The same, with the agent's calls in progress.
    #[must_use]
    pub fn with_live(self, hub: ringside_hub::LiveHub) -> ConsoleState {
        ConsoleState {
            live: Some(hub),
            ..self
        }
    }
}

/// Runs `work` with a store of its own on a blocking thread (every handler reads and writes
/// the store this way).
pub(crate) async fn with_store<T, F>(state: &ConsoleState, work: F) -> Result<T, error::AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, error::AppError> + Send + 'static,
{
    let dir = state.data_dir.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&dir)?;
        work(&mut store)
    })
    .await
    .map_err(|e| error::AppError::internal(&e))?
}

/// The console: the API and the page. Serve it with the peer's address
/// (`into_make_service_with_connect_info::<SocketAddr>`, as [`serve`] does): without it,
/// no request passes the loopback-only rule.
pub fn app(state: ConsoleState) -> Router {
    Router::new()
        .nest(
            "/api",
            api::router().layer(axum::middleware::from_fn(error::json_errors)),
        )
        .merge(page::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_login,
        ))
        .layer(axum::middleware::from_fn(csrf::require_header))
        .layer(axum::middleware::from_fn(nosniff))
        .with_state(state)
}

/// `X-Content-Type-Options: nosniff` on every response (pages, API, recordings, refusals,
/// 404s): a browser never guesses that a caller's text or a WAV is HTML or script.
async fn nosniff(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// Why the console will not listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Not loopback, and no password protects the recordings.
    #[error(
        "the console holds private recordings: without a password it listens on loopback \
         only, and {0} is not a loopback address (set one with `ringside console-password \
         set`, or reach the console through an SSH tunnel)"
    )]
    NotLoopback(std::net::SocketAddr),
    /// The address cannot be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
}

/// A listener for the console, checked against the security rule (loopback only while no
/// password is configured) at start-up; [`access`] holds it at every request afterwards.
/// Bind before dropping root; serve afterwards.
pub fn bind(
    address: std::net::SocketAddr,
    password_set: bool,
) -> Result<std::net::TcpListener, ServeError> {
    if !password_set && !address.ip().is_loopback() {
        return Err(ServeError::NotLoopback(address));
    }
    let listener =
        std::net::TcpListener::bind(address).map_err(|e| ServeError::Bind(address, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ServeError::Bind(address, e))?;
    Ok(listener)
}

/// What the start-up message says about who may use the console.
#[must_use]
pub fn access_note(password_set: bool) -> &'static str {
    if password_set {
        "a password is set: every page needs a login"
    } else {
        "loopback only: no password is set"
    }
}

/// Threads for the console's blocking work (store reads, password checks, waveforms).
const MAX_BLOCKING_THREADS: usize = 8;

/// Serves the console on `listener` until the process ends (its own runtime; call it on a
/// thread of its own).
pub fn serve(listener: std::net::TcpListener, state: ConsoleState) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Each request opens the store on a blocking thread (its own stack and SQLite page
        // cache): a storm of connections must not become hundreds of threads (tokio's
        // default is 512). Requests beyond these wait their turn.
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .thread_name("ringside-console")
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service).await
    })
}
