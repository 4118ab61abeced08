//! The filters, in order, and what they decide for a caller: `/api/filters...`.

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::Json;
use ringside_core::caller_id::CallerId;
use ringside_core::filters::{Action, Field, Filter};
use serde::{Deserialize, Serialize};

use super::{now, with_store};

use crate::error::AppError;
use crate::ConsoleState;

/// A filter as the API shows it.
#[derive(Debug, Serialize)]
pub(super) struct FilterView {
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

/// The whole list, positions from 1.
fn views(store: &ringside_store::Store) -> Result<Vec<FilterView>, AppError> {
    Ok(store
        .filters()?
        .iter()
        .enumerate()
        .map(|(i, f)| view(i + 1, f))
        .collect())
}

pub(super) async fn filters(
    State(state): State<ConsoleState>,
) -> Result<Json<Vec<FilterView>>, AppError> {
    with_store(&state, |store| views(store)).await.map(Json)
}

/// Body of `POST /api/filters`.
#[derive(Debug, Deserialize)]
pub(super) struct NewFilter {
    pattern: String,
    #[serde(default)]
    field: Option<String>,
    action: String,
    position: Option<usize>,
}

pub(super) async fn add_filter(
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

pub(super) async fn edit_filter(
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
        views(store)
    })
    .await
    .map(Json)
}

pub(super) async fn remove_filter(
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
pub(super) struct MoveBody {
    position: usize,
}

pub(super) async fn move_filter(
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
        views(store)
    })
    .await
    .map(Json)
}

/// Body of `POST /api/filters/test`.
#[derive(Debug, Deserialize)]
pub(super) struct TestBody {
    number: String,
    name: Option<String>,
}

pub(super) async fn test_filter(
    State(state): State<ConsoleState>,
    Json(body): Json<TestBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    with_store(&state, move |store| {
        let caller = CallerId::typed(&body.number, body.name);
        let policy = store.policy()?;
        let decision = policy.filters.decide(&caller, policy.record_by_default);
        Ok(serde_json::json!({
            "blocked": decision.block.applies,
            "block_reason": decision.block.to_string(),
            "block_filter": decision.block.filter.map(|f| f.id),
            "block_position": decision.block.position,
            "recorded": decision.record.applies,
            "record_reason": decision.record.to_string(),
            "record_filter": decision.record.filter.map(|f| f.id),
            "record_position": decision.record.position,
        }))
    })
    .await
    .map(Json)
}
