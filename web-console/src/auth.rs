//! The console's password. Without one, the console listens on loopback only (see
//! [`crate::bind`]). With one (an Argon2id hash in the store, set by `ringside
//! console-password`), every page, API call and audio byte needs a session: `POST /api/login`
//! with the password sets an `HttpOnly`, `SameSite=Strict` cookie. Failed logins are limited
//! per client address.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::AppError;
use crate::ConsoleState;

/// The session cookie's name.
pub const COOKIE: &str = "ringside_session";
/// How long a session lasts without use.
const SESSION_IDLE: Duration = Duration::from_hours(12);
/// Failed logins allowed per address within [`FAILURE_WINDOW`].
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_mins(1);

/// Sessions and the record of failed logins, shared by all requests.
#[derive(Debug, Default, Clone)]
pub struct Sessions {
    inner: Arc<Mutex<SessionTable>>,
}

#[derive(Debug, Default)]
struct SessionTable {
    /// Token → last use.
    sessions: HashMap<String, Instant>,
    /// Address → times of recent failures.
    failures: HashMap<IpAddr, Vec<Instant>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, SessionTable> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn valid(&self, token: &str) -> bool {
        let mut table = self.lock();
        let now = Instant::now();
        table
            .sessions
            .retain(|_, used| now.duration_since(*used) < SESSION_IDLE);
        match table.sessions.get_mut(token) {
            Some(used) => {
                *used = now;
                true
            }
            None => false,
        }
    }

    fn open(&self) -> Result<String, AppError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| AppError::internal(&e))?;
        let token = bytes
            .iter()
            .fold(String::with_capacity(64), |mut token, b| {
                let _ = write!(token, "{b:02x}");
                token
            });
        self.lock().sessions.insert(token.clone(), Instant::now());
        Ok(token)
    }

    fn close(&self, token: &str) {
        self.lock().sessions.remove(token);
    }

    /// Whether `address` may try again; failures older than the window are forgotten.
    fn may_try(&self, address: IpAddr) -> bool {
        let mut table = self.lock();
        let now = Instant::now();
        let recent = table.failures.entry(address).or_default();
        recent.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        recent.len() < MAX_FAILURES
    }

    fn failed(&self, address: IpAddr) {
        self.lock()
            .failures
            .entry(address)
            .or_default()
            .push(Instant::now());
    }
}

/// The Argon2id hash of `password`, for the store.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::internal(&e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::internal(&e))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(&e))
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The console password's hash, if one is set.
pub async fn password_hash(state: &ConsoleState) -> Result<Option<String>, AppError> {
    let dir = state.data_dir.clone();
    tokio::task::spawn_blocking(move || {
        ringside_store::Store::open(&dir)
            .and_then(|store| store.console_password_hash())
            .map_err(AppError::from)
    })
    .await
    .map_err(|e| AppError::internal(&e))?
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

/// Lets a request through when no password is set (and it is addressed to loopback), when it
/// carries a valid session, or when it is the login page or the login call itself.
pub async fn require_login(
    State(state): State<ConsoleState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if matches!(path, "/login" | "/api/login" | "/app.css" | "/js/login.js") {
        return next.run(request).await;
    }
    let hash = match password_hash(&state).await {
        Ok(hash) => hash,
        Err(error) => return error.into_response(),
    };
    if hash.is_none() && !crate::csrf::addressed_to_loopback(request.headers()) {
        // Loopback only without a password, also against names pointed at 127.0.0.1.
        return AppError {
            status: StatusCode::FORBIDDEN,
            message: "without a console password, address the console as 127.0.0.1 or \
                      localhost"
                .into(),
        }
        .into_response();
    }
    let logged_in = hash.is_none()
        || session_token(request.headers()).is_some_and(|token| state.sessions.valid(&token));
    if logged_in {
        return next.run(request).await;
    }
    if path.starts_with("/api/") {
        AppError {
            status: StatusCode::UNAUTHORIZED,
            message: "log in first (POST /api/login)".into(),
        }
        .into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

/// Body of `POST /api/login`.
#[derive(Debug, Deserialize)]
pub struct Login {
    password: String,
}

/// `POST /api/login`: the password for a session cookie.
pub async fn login(
    State(state): State<ConsoleState>,
    client: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Json(body): Json<Login>,
) -> Result<Response, AppError> {
    let address = client.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0 .0.ip());
    if !state.sessions.may_try(address) {
        return Err(AppError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "too many failed logins; wait a minute".into(),
        });
    }
    let Some(hash) = password_hash(&state).await? else {
        return Err(AppError::bad_request("no console password is set"));
    };
    let password = body.password;
    let good = tokio::task::spawn_blocking(move || verify(&password, &hash))
        .await
        .map_err(|e| AppError::internal(&e))?;
    if !good {
        state.sessions.failed(address);
        return Err(AppError {
            status: StatusCode::UNAUTHORIZED,
            message: "wrong password".into(),
        });
    }
    let token = state.sessions.open()?;
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// `POST /api/logout`: ends the session.
pub async fn logout(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        state.sessions.close(&token);
    }
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, expired)]).into_response()
}
