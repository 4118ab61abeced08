//! Settings, the voicemail report and what the page needs to know about the console:
//! `/api/settings...`, `/api/voicemail`, `/api/session`.

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use ringside_store::Setting;
use serde::Deserialize;

use super::with_store;

use crate::error::AppError;
use crate::ConsoleState;

pub(super) async fn voicemail(
    State(state): State<ConsoleState>,
) -> Result<Json<serde_json::Value>, AppError> {
    with_store(&state, |store| {
        Ok(match store.voicemail()? {
            Some(status) => serde_json::to_value(status).map_err(|e| AppError::internal(&e))?,
            None => serde_json::json!({ "waiting": false, "new": 0, "old": 0, "updated_at": null }),
        })
    })
    .await
    .map(Json)
}

pub(super) async fn session(
    State(state): State<ConsoleState>,
) -> Result<Json<serde_json::Value>, AppError> {
    let login_required = crate::auth::password_hash(&state).await?.is_some();
    Ok(Json(serde_json::json!({
        "login_required": login_required,
        "live": state.live.is_some(),
        "faults": state.live.as_ref().map(ringside_hub::LiveHub::faults),
    })))
}

pub(super) async fn settings(
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
pub(super) struct ValueBody {
    value: String,
}

pub(super) async fn set_setting(
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

/// `PUT /api/settings` with `{"key": "value", ...}`: every value is checked first, so a bad
/// one changes nothing.
pub(super) async fn set_settings(
    State(state): State<ConsoleState>,
    Json(body): Json<std::collections::BTreeMap<String, String>>,
) -> Result<impl IntoResponse, AppError> {
    let checked = body
        .iter()
        .map(|(key, value)| {
            let setting = Setting::parse(key).map_err(|e| AppError::bad_request(e.to_string()))?;
            setting
                .check(value)
                .map(|_| (setting, value.clone()))
                .map_err(|e| AppError::bad_request(e.to_string()))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    with_store(&state, move |store| {
        for (setting, value) in checked {
            store.set_setting(setting, &value)?;
        }
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
