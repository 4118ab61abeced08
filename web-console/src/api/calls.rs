//! The call log and its recordings: `/api/calls...`.

use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ringside_core::outcome::UnknownWord;
use ringside_store::recording_path::{self, UnsafePath};
use ringside_store::{CallQuery, CallRecord, Setting};
use serde::Deserialize;
use tower::ServiceExt;

use super::with_store;

use crate::error::AppError;
use crate::ConsoleState;

/// Query parameters of `GET /api/calls`.
#[derive(Debug, Deserialize)]
pub(super) struct CallsQuery {
    search: Option<String>,
    direction: Option<String>,
    disposition: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub(super) async fn calls(
    State(state): State<ConsoleState>,
    Query(query): Query<CallsQuery>,
) -> Result<Json<Vec<CallRecord>>, AppError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) || query.offset.is_some_and(|o| o < 0) {
        return Err(AppError::bad_request(
            "limit must be 1 to 1000, offset 0 or more",
        ));
    }
    let query = CallQuery {
        search: query.search.filter(|s| !s.trim().is_empty()),
        direction: word(query.direction)?,
        disposition: word(query.disposition)?,
        since: query.since.filter(|s| !s.is_empty()),
        until: query.until.filter(|s| !s.is_empty()),
        limit,
        offset: query.offset.unwrap_or(0),
    };
    let calls = with_store(&state, move |store| Ok(store.search_calls(&query)?)).await?;
    Ok(Json(calls))
}

/// A filter's word (`inbound`, `answered`, ...): none when absent or empty, a 400 that says
/// which words there are when it is none of them.
fn word<T: std::str::FromStr<Err = UnknownWord>>(
    text: Option<String>,
) -> Result<Option<T>, AppError> {
    text.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|e: UnknownWord| AppError::bad_request(e.to_string()))
        })
        .transpose()
}

pub(super) async fn call(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
) -> Result<Json<CallRecord>, AppError> {
    with_store(&state, move |store| {
        store
            .call(id)?
            .ok_or_else(|| AppError::not_found(format!("there is no call {id}")))
    })
    .await
    .map(Json)
}

/// Where call `id`'s recording is: found by the call's id, and usable only if the stored
/// path names a WAV under `recordings/` reached without a symbolic link
/// ([`ringside_store::recording_path::checked`]); a forged path is a 404 and a log line.
/// `Ok(None)`: the call has a recording whose file is gone.
async fn stored_recording(
    state: &ConsoleState,
    id: i64,
) -> Result<Option<std::path::PathBuf>, AppError> {
    let call = with_store(state, move |store| {
        store
            .call(id)?
            .ok_or_else(|| AppError::not_found(format!("there is no call {id}")))
    })
    .await?;
    let relative = call
        .recording
        .filter(|r| {
            std::path::Path::new(r)
                .extension()
                .is_some_and(|e| e == "wav")
        })
        .ok_or_else(|| AppError::not_found(format!("call {id} has no recording")))?;
    match recording_path::checked(&state.data_dir, &relative) {
        Ok(path) => Ok(Some(path)),
        Err(UnsafePath::Missing(_)) => Ok(None),
        Err(refused) => {
            tracing::warn!("call {id}: recording refused: {refused}");
            Err(AppError::not_found(format!("call {id} has no recording")))
        }
    }
}

/// The file of call `id`'s recording, to read.
async fn recording_path(state: &ConsoleState, id: i64) -> Result<std::path::PathBuf, AppError> {
    stored_recording(state, id).await?.ok_or_else(|| {
        AppError::not_found(format!(
            "the recording of call {id} is missing from the disk"
        ))
    })
}

/// The call's WAV, with Range requests (the browser's audio element seeks with them).
pub(super) async fn recording(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
    request: Request,
) -> Result<Response, AppError> {
    let path = recording_path(&state, id).await?;
    let wav = "audio/wav".parse().map_err(|e| AppError::internal(&e))?;
    let response = tower_http::services::ServeFile::new_with_mime(&path, &wav)
        .oneshot(request)
        .await
        .map_err(|e| AppError::internal(&e))?;
    if response.status() == StatusCode::NOT_FOUND {
        return Err(AppError::not_found(format!(
            "the recording of call {id} is missing from the disk"
        )));
    }
    Ok(response.map(axum::body::Body::new))
}

pub(super) async fn waveform(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
) -> Result<Response, AppError> {
    let path = recording_path(&state, id).await?;
    let svg = tokio::task::spawn_blocking(move || crate::waveform::svg(&path))
        .await
        .map_err(|e| AppError::internal(&e))?
        .map_err(|e| {
            AppError::not_found(format!("the recording of call {id} cannot be read: {e}"))
        })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "max-age=60"),
        ],
        svg,
    )
        .into_response())
}

pub(super) async fn delete_recording(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
) -> Result<StatusCode, AppError> {
    // A file already gone is forgotten all the same.
    if let Some(path) = stored_recording(&state, id).await? {
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AppError::internal(&e)),
        }
    }
    with_store(&state, move |store| {
        store.clear_recording(id)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Whether calls can be recorded now: the free space on the data disk against the floor of
/// the settings (`GET /api/recordings/space`), for the page's notice when they cannot.
pub(super) async fn recording_space(
    State(state): State<ConsoleState>,
) -> Result<Json<serde_json::Value>, AppError> {
    let floor = with_store(&state, |store| {
        Ok(Setting::number(&store.setting(Setting::MinFreeMegabytes)?))
    })
    .await?;
    let free = recording_path::free_bytes(&state.data_dir);
    Ok(Json(serde_json::json!({
        "free_megabytes": free / 1_000_000,
        "floor_megabytes": floor,
        "recording": free >= floor.saturating_mul(1_000_000),
    })))
}
