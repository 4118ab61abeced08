//! The phonebook and its CSV: `/api/phonebook...`.

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ringside_store::timefmt::now_utc;
use ringside_store::PhonebookEntry;
use serde::Deserialize;

use super::with_store;

use crate::error::AppError;
use crate::ConsoleState;

pub(super) async fn export_phonebook(
    State(state): State<ConsoleState>,
) -> Result<Response, AppError> {
    let entries = with_store(&state, |store| Ok(store.phonebook()?)).await?;
    let mut text = String::from("number,name,network_name,calls,last_seen\r\n");
    for e in entries {
        let row = [
            crate::csv::field(&e.number),
            crate::csv::field(e.user_name.as_deref().unwrap_or_default()),
            crate::csv::field(e.network_name.as_deref().unwrap_or_default()),
            e.calls.to_string(),
            ringside_core::rfc3339::format(e.last_seen),
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
pub(super) async fn import_phonebook(
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
        let now = now_utc();
        for (number, name) in &names {
            store.set_phonebook_name(number, name, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(serde_json::json!({ "imported": count })))
}

pub(super) async fn phonebook(
    State(state): State<ConsoleState>,
) -> Result<Json<Vec<PhonebookEntry>>, AppError> {
    with_store(&state, |store| Ok(store.phonebook()?))
        .await
        .map(Json)
}

/// Body of `PUT /api/phonebook/{number}`.
#[derive(Debug, Deserialize)]
pub(super) struct NameBody {
    name: String,
}

pub(super) async fn set_name(
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
        store.set_phonebook_name(&number, &name, now_utc())?;
        store
            .phonebook_entry(&number)?
            .ok_or_else(|| AppError::internal(&"the entry vanished"))
    })
    .await
    .map(Json)
}

pub(super) async fn remove_number(
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
