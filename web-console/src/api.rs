//! The JSON API under `/api/`.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /api/calls?search=&direction=&disposition=&since=&until=&limit=&offset=` | the call log, newest first (the objects of `ringside calls --json`) |
//! | `GET /api/calls/{id}` | one call |
//! | `GET /api/calls/{id}/recording` | its WAV (`audio/wav`, Range requests) |
//! | `GET /api/calls/{id}/waveform.svg` | a picture of the recording (remote above, phone below) |
//! | `DELETE /api/calls/{id}/recording` | delete its WAV (the call stays in the log) |
//! | `GET /api/phonebook` | the phonebook |
//! | `GET /api/phonebook.csv` | the phonebook as CSV (number, name, network name, calls, last seen) |
//! | `POST /api/phonebook.csv` (CSV body: number, name) | import names |
//! | `PUT /api/phonebook/{number}` `{"name"}` | name a number |
//! | `DELETE /api/phonebook/{number}` | remove it |
//! | `GET /api/filters` | the filters in order |
//! | `POST /api/filters` `{"pattern","field","action","position"}` | add one |
//! | `PUT /api/filters/{id}` `{"pattern","field","action"}` | edit one in place |
//! | `DELETE /api/filters/{id}` | remove one |
//! | `POST /api/filters/{id}/move` `{"position"}` | move one |
//! | `POST /api/filters/test` `{"number","name"}` | which filters decide for a caller, and why (`blocked`, `block_filter`, `block_position`, `block_reason`; the same for `record`) |
//! | `GET /api/voicemail` | what the provider last said was waiting (`waiting`, `new`, `old`, `updated_at`) |
//! | `GET /api/settings` | the settings |
//! | `PUT /api/settings/{key}` `{"value"}` | change one |
//! | `GET /api/live/calls` | calls in progress (from `ringside run`) |
//! | `GET /api/live/events` | their changes, as server-sent events |
//! | `POST /api/live/calls/{key}/recording` `{"on"}` | record a call in progress, or stop |
//! | `GET /api/live/calls/{key}/audio` (WebSocket) | listen live: 20 ms binary messages, 8 kHz stereo 16-bit LE |
//! | `POST /api/login` `{"password"}` | a session cookie (when a console password is set) |
//! | `POST /api/logout` | end the session |
//! | `GET /api/session` | what the page needs to know: `login_required` (a password is set), `live` (the agent is behind this console) |

use std::path::{Component, Path};

use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use ringside_core::caller_id::{CallerId, CallerIdSource};
use ringside_core::filters::{Action, Field, Filter};
use ringside_store::{CallQuery, CallRecord, PhonebookEntry, Setting, Store};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

use crate::error::AppError;
use crate::ConsoleState;

/// The API's routes.
pub fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/calls", get(calls))
        .route("/calls/{id}", get(call))
        .route(
            "/calls/{id}/recording",
            get(recording).delete(delete_recording),
        )
        .route("/calls/{id}/waveform.svg", get(waveform))
        .route("/phonebook", get(phonebook))
        .route(
            "/phonebook.csv",
            get(export_phonebook).post(import_phonebook),
        )
        .route("/phonebook/{number}", put(set_name).delete(remove_number))
        .route("/filters", get(filters).post(add_filter))
        .route("/filters/test", post(test_filter))
        .route("/filters/{id}", delete(remove_filter).put(edit_filter))
        .route("/filters/{id}/move", post(move_filter))
        .route("/voicemail", get(voicemail))
        .route("/settings", get(settings))
        .route("/settings/{key}", put(set_setting))
        .route("/live/calls", get(crate::live::calls))
        .route("/live/events", get(crate::live::events))
        .route(
            "/live/calls/{key}/recording",
            post(crate::live::set_recording),
        )
        .route("/live/calls/{key}/audio", get(crate::live::listen))
        .route("/login", post(crate::auth::login))
        .route("/logout", post(crate::auth::logout))
        .route("/session", get(session))
        .fallback(|| async { AppError::not_found("no such API endpoint") })
}

/// Runs `work` with a store of its own on a blocking thread.
async fn with_store<T, F>(state: &ConsoleState, work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, AppError> + Send + 'static,
{
    let dir = state.data_dir.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&dir)?;
        work(&mut store)
    })
    .await
    .map_err(|e| AppError::internal(&e))?
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Query parameters of `GET /api/calls`.
#[derive(Debug, Deserialize)]
struct CallsQuery {
    search: Option<String>,
    direction: Option<String>,
    disposition: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn calls(
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
        direction: query.direction.filter(|s| !s.is_empty()),
        disposition: query.disposition.filter(|s| !s.is_empty()),
        since: query.since.filter(|s| !s.is_empty()),
        until: query.until.filter(|s| !s.is_empty()),
        limit,
        offset: query.offset.unwrap_or(0),
    };
    let calls = with_store(&state, move |store| Ok(store.search_calls(&query)?)).await?;
    Ok(Json(calls))
}

async fn call(
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

/// Where call `id`'s recording is: found by the call's id, checked to stay inside the data
/// directory.
async fn recording_path(state: &ConsoleState, id: i64) -> Result<std::path::PathBuf, AppError> {
    let call = with_store(state, move |store| {
        store
            .call(id)?
            .ok_or_else(|| AppError::not_found(format!("there is no call {id}")))
    })
    .await?;
    let relative = call
        .recording
        .ok_or_else(|| AppError::not_found(format!("call {id} has no recording")))?;
    // The store only ever writes `recordings/...`; anything else is refused outright.
    let inside = Path::new(&relative)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !inside {
        return Err(AppError::internal(&format!(
            "call {id} has a recording path outside the data directory: {relative}"
        )));
    }
    Ok(state.data_dir.join(&relative))
}

/// The call's WAV, with Range requests (the browser's audio element seeks with them).
async fn recording(
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

async fn waveform(
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

async fn delete_recording(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
) -> Result<StatusCode, AppError> {
    let path = recording_path(&state, id).await?;
    match tokio::fs::remove_file(&path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AppError::internal(&e)),
    }
    with_store(&state, move |store| {
        store.clear_recording(id)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn export_phonebook(State(state): State<ConsoleState>) -> Result<Response, AppError> {
    let entries = with_store(&state, |store| Ok(store.phonebook()?)).await?;
    let mut text = String::from("number,name,network_name,calls,last_seen\r\n");
    for e in entries {
        let row = [
            crate::csv::field(&e.number),
            crate::csv::field(e.user_name.as_deref().unwrap_or_default()),
            crate::csv::field(e.network_name.as_deref().unwrap_or_default()),
            e.calls.to_string(),
            crate::csv::field(&e.last_seen),
        ];
        text.push_str(&row.join(","));
        text.push_str("\r\n");
    }
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"ringside-phonebook.csv\"",
            ),
        ],
        text,
    )
        .into_response())
}

/// Imports `number,name` rows (a header row and further columns are ignored); every row is
/// checked before anything is stored.
async fn import_phonebook(
    State(state): State<ConsoleState>,
    body: String,
) -> Result<Json<serde_json::Value>, AppError> {
    let records = crate::csv::parse(&body).map_err(AppError::bad_request)?;
    let mut names = Vec::new();
    for (line, record) in records {
        let number = record.first().map_or("", |s| s.trim());
        let name = record.get(1).map_or("", |s| s.trim());
        if line == 1 && number.eq_ignore_ascii_case("number") {
            continue;
        }
        if number.is_empty() || name.is_empty() {
            return Err(AppError::bad_request(format!(
                "line {line}: a number and a name are needed"
            )));
        }
        names.push((number.to_owned(), name.to_owned()));
    }
    let count = names.len();
    with_store(&state, move |store| {
        let now = now();
        for (number, name) in &names {
            store.set_phonebook_name(number, name, &now)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(serde_json::json!({ "imported": count })))
}

async fn phonebook(
    State(state): State<ConsoleState>,
) -> Result<Json<Vec<PhonebookEntry>>, AppError> {
    with_store(&state, |store| Ok(store.phonebook()?))
        .await
        .map(Json)
}

/// Body of `PUT /api/phonebook/{number}`.
#[derive(Debug, Deserialize)]
struct NameBody {
    name: String,
}

async fn set_name(
    State(state): State<ConsoleState>,
    UrlPath(number): UrlPath<String>,
    Json(body): Json<NameBody>,
) -> Result<Json<PhonebookEntry>, AppError> {
    let name = body.name.trim().to_owned();
    let number = number.trim().to_owned();
    if name.is_empty() || number.is_empty() {
        return Err(AppError::bad_request("both a number and a name are needed"));
    }
    with_store(&state, move |store| {
        store.set_phonebook_name(&number, &name, &now())?;
        store
            .phonebook_entry(&number)?
            .ok_or_else(|| AppError::internal(&"the entry vanished"))
    })
    .await
    .map(Json)
}

async fn remove_number(
    State(state): State<ConsoleState>,
    UrlPath(number): UrlPath<String>,
) -> Result<StatusCode, AppError> {
    with_store(&state, move |store| {
        if store.remove_phonebook_entry(&number)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(AppError::not_found(format!(
                "{number} is not in the phonebook"
            )))
        }
    })
    .await
}

/// A filter as the API shows it.
#[derive(Debug, Serialize)]
struct FilterView {
    id: i64,
    position: usize,
    pattern: String,
    field: &'static str,
    action: &'static str,
}

fn view(position: usize, filter: &Filter) -> FilterView {
    FilterView {
        id: filter.id,
        position,
        pattern: filter.pattern.clone(),
        field: filter.field.as_str(),
        action: filter.action.as_str(),
    }
}

async fn filters(State(state): State<ConsoleState>) -> Result<Json<Vec<FilterView>>, AppError> {
    with_store(&state, |store| {
        Ok(store
            .filters()?
            .iter()
            .enumerate()
            .map(|(i, f)| view(i + 1, f))
            .collect())
    })
    .await
    .map(Json)
}

/// Body of `POST /api/filters`.
#[derive(Debug, Deserialize)]
struct NewFilter {
    pattern: String,
    #[serde(default)]
    field: Option<String>,
    action: String,
    position: Option<usize>,
}

async fn add_filter(
    State(state): State<ConsoleState>,
    Json(body): Json<NewFilter>,
) -> Result<(StatusCode, Json<FilterView>), AppError> {
    let field = Field::parse(body.field.as_deref().unwrap_or("number"))?;
    let action = Action::parse(&body.action)?;
    with_store(&state, move |store| {
        let filter = store.add_filter(&body.pattern, field, action, body.position, &now())?;
        let position = store
            .filters()?
            .iter()
            .position(|f| f.id == filter.id)
            .map_or(0, |i| i + 1);
        Ok((StatusCode::CREATED, Json(view(position, &filter))))
    })
    .await
}

async fn edit_filter(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
    Json(body): Json<NewFilter>,
) -> Result<Json<Vec<FilterView>>, AppError> {
    let field = Field::parse(body.field.as_deref().unwrap_or("number"))?;
    let action = Action::parse(&body.action)?;
    with_store(&state, move |store| {
        if !store.edit_filter(id, &body.pattern, field, action)? {
            return Err(AppError::not_found(format!("there is no filter {id}")));
        }
        Ok(store
            .filters()?
            .iter()
            .enumerate()
            .map(|(i, f)| view(i + 1, f))
            .collect())
    })
    .await
    .map(Json)
}

async fn remove_filter(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
) -> Result<StatusCode, AppError> {
    with_store(&state, move |store| {
        if store.remove_filter(id)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(AppError::not_found(format!("there is no filter {id}")))
        }
    })
    .await
}

/// Body of `POST /api/filters/{id}/move`.
#[derive(Debug, Deserialize)]
struct MoveBody {
    position: usize,
}

async fn move_filter(
    State(state): State<ConsoleState>,
    UrlPath(id): UrlPath<i64>,
    Json(body): Json<MoveBody>,
) -> Result<Json<Vec<FilterView>>, AppError> {
    if body.position == 0 {
        return Err(AppError::bad_request("positions start at 1"));
    }
    with_store(&state, move |store| {
        if !store.move_filter(id, body.position)? {
            return Err(AppError::not_found(format!("there is no filter {id}")));
        }
        Ok(store
            .filters()?
            .iter()
            .enumerate()
            .map(|(i, f)| view(i + 1, f))
            .collect())
    })
    .await
    .map(Json)
}

/// Body of `POST /api/filters/test`.
#[derive(Debug, Deserialize)]
struct TestBody {
    number: String,
    name: Option<String>,
}

async fn test_filter(
    State(state): State<ConsoleState>,
    Json(body): Json<TestBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    with_store(&state, move |store| {
        let anonymous = body.number.trim().eq_ignore_ascii_case("anonymous");
        let caller = CallerId {
            number: (!anonymous).then(|| body.number.trim().to_owned()),
            name: body.name,
            anonymous,
            source: CallerIdSource::From,
            raw: String::new(),
        };
        let policy = store.policy()?;
        let decision = policy.filters.decide(&caller, policy.record_by_default);
        Ok(serde_json::json!({
            "blocked": decision.block.yes,
            "block_reason": decision.block.to_string(),
            "block_filter": decision.block.filter.map(|f| f.id),
            "block_position": decision.block.position,
            "recorded": decision.record.yes,
            "record_reason": decision.record.to_string(),
            "record_filter": decision.record.filter.map(|f| f.id),
            "record_position": decision.record.position,
        }))
    })
    .await
    .map(Json)
}

async fn voicemail(State(state): State<ConsoleState>) -> Result<Json<serde_json::Value>, AppError> {
    with_store(&state, |store| {
        Ok(match store.voicemail()? {
            Some(status) => serde_json::to_value(status).map_err(|e| AppError::internal(&e))?,
            None => serde_json::json!({ "waiting": false, "new": 0, "old": 0, "updated_at": null }),
        })
    })
    .await
    .map(Json)
}

async fn session(State(state): State<ConsoleState>) -> Result<Json<serde_json::Value>, AppError> {
    let login_required = crate::auth::password_hash(&state).await?.is_some();
    Ok(Json(serde_json::json!({
        "login_required": login_required,
        "live": state.live.is_some(),
    })))
}

async fn settings(
    State(state): State<ConsoleState>,
) -> Result<Json<serde_json::Map<String, serde_json::Value>>, AppError> {
    with_store(&state, |store| {
        let mut map = serde_json::Map::new();
        for setting in Setting::ALL {
            let value = store.setting(setting)?;
            // The secret is never sent back; the page only learns whether one is set.
            let shown = match setting {
                Setting::AnnounceSecret => serde_json::Value::Bool(!value.is_empty()),
                _ => serde_json::Value::String(value),
            };
            map.insert(setting.key().to_owned(), shown);
        }
        Ok(map)
    })
    .await
    .map(Json)
}

/// Body of `PUT /api/settings/{key}`.
#[derive(Debug, Deserialize)]
struct ValueBody {
    value: String,
}

async fn set_setting(
    State(state): State<ConsoleState>,
    UrlPath(key): UrlPath<String>,
    Json(body): Json<ValueBody>,
) -> Result<impl IntoResponse, AppError> {
    let setting = Setting::parse(&key).map_err(|e| AppError::not_found(e.to_string()))?;
    with_store(&state, move |store| {
        store.set_setting(setting, &body.value)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
