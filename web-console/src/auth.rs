//! The console's password. Without one, the console answers loopback requests only (see
//! [`crate::access`]). With one (an Argon2id hash in the store, set by `ringside
//! console-password`), every page, API call and audio byte needs a session: `POST /api/login`
//! with the password sets an `HttpOnly`, `SameSite=Strict` cookie. Both are decided at every
//! request from the store's current hash (opening the store and one read: ~1 ms in a debug
//! build, measured; every handler opens the store anyway), so a password removed or changed
//! while the console runs takes effect at once: the LAN is shut out, and sessions opened
//! under the old hash end. Logins are limited by [`crate::limiter`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;

use crate::error::AppError;
use crate::limiter::Refusal;
pub use crate::password::hash_password;
use crate::ConsoleState;

/// The session cookie's name.
pub const COOKIE: &str = "ringside_session";
/// How long a session lasts without use.
const SESSION_IDLE: Duration = Duration::from_hours(12);
/// Sessions open at most (each is a login with the password).
const MAX_SESSIONS: usize = 256;
/// The largest login body read: a storm of logins must not hold megabytes each while they
/// wait for the limiter.
pub const MAX_LOGIN_BYTES: usize = 4096;
/// What answers without a session: the login page and what it needs.
const OPEN_PATHS: [&str; 4] = ["/login", "/api/login", "/app.css", "/js/login.js"];

/// Logged-in sessions, shared by all requests. Each is tied to the password hash it was
/// opened under: a password changed (even to the same text: a new salt) or removed ends
/// every session opened before.
#[derive(Debug, Default, Clone)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

#[derive(Debug)]
struct Session {
    /// Last use.
    used: Instant,
    /// The password hash (PHC string) it was opened under.
    under: Arc<str>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `token` names a live session opened under `hash`, the password's current
    /// hash; marks it used. Sessions idle too long, or opened under another hash, are
    /// forgotten.
    fn valid(&self, token: &str, hash: &str) -> bool {
        let mut table = self.lock();
        let now = Instant::now();
        table.retain(|_, s| now.duration_since(s.used) < SESSION_IDLE && *s.under == *hash);
        match table.get_mut(token) {
            Some(session) => {
                session.used = now;
                true
            }
            None => false,
        }
    }

    /// A new session under `hash`; the least recently used goes when [`MAX_SESSIONS`] are
    /// open.
    fn open(&self, hash: &str) -> Result<String, AppError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| AppError::internal(&e))?;
        let token = bytes
            .iter()
            .fold(String::with_capacity(64), |mut token, b| {
                let _ = write!(token, "{b:02x}");
                token
            });
        let mut table = self.lock();
        if table.len() >= MAX_SESSIONS {
            let oldest = table
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(token, _)| token.clone());
            if let Some(oldest) = oldest {
                table.remove(&oldest);
            }
        }
        let session = Session {
            used: Instant::now(),
            under: hash.into(),
        };
        table.insert(token.clone(), session);
        Ok(token)
    }

    fn close(&self, token: &str) {
        self.lock().remove(token);
    }
}

/// What let a request in, kept in its extensions: live streams (server-sent events, the
/// listen-live WebSocket) check it again while they run and end when it no longer holds.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The password hash at the time; `None`: no password (a loopback request).
    hash: Option<Arc<str>>,
    /// The session, when a password is set.
    token: Option<String>,
}

impl Grant {
    /// Whether the request would still be let in: the password's hash is the same as then,
    /// and the session (if any) is still open.
    pub async fn holds(&self, state: &ConsoleState) -> bool {
        let Ok(current) = password_hash(state).await else {
            return false;
        };
        match (&self.hash, &self.token, current) {
            (None, _, None) => true,
            (Some(then), Some(token), Some(now)) => {
                **then == *now && state.sessions.valid(token, &now)
            }
            _ => false,
        }
    }
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

/// Lets a request through when no password is set and it is a loopback request (see
/// [`crate::access`]), when it carries a session opened under the current password, or when
/// it is the login page or the login call itself. What let it in goes into its extensions as
/// a [`Grant`].
pub async fn require_login(
    State(state): State<ConsoleState>,
    mut request: Request,
    next: Next,
) -> Response {
    let hash = match password_hash(&state).await {
        Ok(hash) => hash,
        Err(error) => return error.into_response(),
    };
    let grant = match hash {
        None => {
            let peer = crate::access::peer(request.extensions());
            if !crate::access::loopback_request(peer, request.headers()) {
                return crate::access::refused(request.uri().path());
            }
            Some(Grant {
                hash: None,
                token: None,
            })
        }
        Some(hash) => session_token(request.headers())
            .filter(|token| state.sessions.valid(token, &hash))
            .map(|token| Grant {
                hash: Some(hash.into()),
                token: Some(token),
            }),
    };
    let path = request.uri().path();
    if let Some(grant) = grant {
        request.extensions_mut().insert(grant);
    } else if !OPEN_PATHS.contains(&path) {
        return if path.starts_with("/api/") {
            AppError {
                status: StatusCode::UNAUTHORIZED,
                message: "log in first (POST /api/login)".into(),
            }
            .into_response()
        } else {
            Redirect::to("/login").into_response()
        };
    }
    next.run(request).await
}

/// Body of `POST /api/login`.
#[derive(Debug, Deserialize)]
pub struct Login {
    password: String,
}

/// `POST /api/login`: the password for a session cookie. The attempt is counted and given
/// one of the few places for a check before Argon2 runs (see [`crate::limiter`]).
pub async fn login(
    State(state): State<ConsoleState>,
    extensions: Extensions,
    Json(body): Json<Login>,
) -> Result<Response, AppError> {
    // Without a peer (a router served without connect info) all logins share one source.
    let address = crate::access::peer(&extensions).map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    let Some(hash) = password_hash(&state).await? else {
        return Err(AppError::bad_request("no console password is set"));
    };
    let attempt = match state.logins.begin(address, Instant::now()) {
        Ok(attempt) => attempt,
        Err(refusal) => return Ok(refused_login(refusal)),
    };
    let (source, at) = (attempt.source, attempt.at);
    let (limiter, checker) = (state.logins.clone(), state.passwords.clone());
    let password = body.password;
    let checked_hash = hash.clone();
    let good = tokio::task::spawn_blocking(move || {
        // The place is held until the check ends, even if the client has gone.
        let _permit = attempt.permit;
        limiter.checked();
        checker.verify(&password, &checked_hash)
    })
    .await
    .map_err(|e| AppError::internal(&e))?;
    if !good {
        return Err(AppError {
            status: StatusCode::UNAUTHORIZED,
            message: "wrong password".into(),
        });
    }
    state.logins.succeeded(source, at);
    let token = state.sessions.open(&hash)?;
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// 429 for a login the limiter turned away, with how long to wait.
fn refused_login(refusal: Refusal) -> Response {
    let (message, wait) = match refusal {
        Refusal::TooManyTries => ("too many failed logins; wait a minute", "60"),
        Refusal::Busy => ("other logins are being checked; try again in a second", "1"),
    };
    let mut response = AppError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: message.into(),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(wait));
    response
}

/// `POST /api/logout`: ends the session.
pub async fn logout(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        state.sessions.close(&token);
    }
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, expired)]).into_response()
}
