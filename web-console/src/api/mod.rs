//! The JSON API under `/api/`.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /api/calls?search=&direction=&disposition=&since=&until=&limit=&offset=` | the call log, newest first (the objects of `ringside calls --json`); a `direction` or `disposition` that is not one of the call log's words is a 400 that lists them |
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
//! | `PUT /api/settings` `{"key": "value", ...}` | change several; all are checked first, a bad one changes nothing |
//! | `GET /api/live/calls` | calls in progress (from `ringside run`) |
//! | `GET /api/live/events` | their changes, as server-sent events |
//! | `POST /api/live/calls/{key}/recording` `{"on"}` | record a call in progress, or stop |
//! | `GET /api/live/calls/{key}/audio` (WebSocket) | listen live: 20 ms binary messages, 8 kHz stereo 16-bit LE |
//! | `POST /api/login` `{"password"}` | a session cookie (when a console password is set); 429 with `Retry-After` when the login limit says wait (see [`crate::limiter`]) |
//! | `POST /api/logout` | end the session |
//! | `GET /api/session` | what the page needs to know: `login_required` (a password is set), `live` (the agent is behind this console), `faults` (engine panics the agent survived: `count`, `last`, `last_at`) |
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::error::AppError;
use crate::{with_store, ConsoleState};

mod calls;
mod filters;
mod phonebook;
mod settings;

/// The API's routes.
pub fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/calls", get(calls::calls))
        .route("/calls/{id}", get(calls::call))
        .route(
            "/calls/{id}/recording",
            get(calls::recording).delete(calls::delete_recording),
        )
        .route("/calls/{id}/waveform.svg", get(calls::waveform))
        .route("/recordings/space", get(calls::recording_space))
        .route("/phonebook", get(phonebook::phonebook))
        .route(
            "/phonebook.csv",
            get(phonebook::export_phonebook).post(phonebook::import_phonebook),
        )
        .route(
            "/phonebook/{number}",
            put(phonebook::set_name).delete(phonebook::remove_number),
        )
        .route("/filters", get(filters::filters).post(filters::add_filter))
        .route("/filters/test", post(filters::test_filter))
        .route(
            "/filters/{id}",
            delete(filters::remove_filter).put(filters::edit_filter),
        )
        .route("/filters/{id}/move", post(filters::move_filter))
        .route("/voicemail", get(settings::voicemail))
        .route(
            "/settings",
            get(settings::settings).put(settings::set_settings),
        )
        .route("/settings/{key}", put(settings::set_setting))
        .route("/live/calls", get(crate::live::calls))
        .route("/live/events", get(crate::live::events))
        .route(
            "/live/calls/{key}/recording",
            post(crate::live::set_recording),
        )
        .route("/live/calls/{key}/audio", get(crate::live::listen))
        .route(
            "/login",
            post(crate::auth::login).layer(DefaultBodyLimit::max(crate::auth::MAX_LOGIN_BYTES)),
        )
        .route("/logout", post(crate::auth::logout))
        .route("/session", get(settings::session))
        .fallback(|| async { AppError::not_found("no such API endpoint") })
}

/// Now, as the store writes times.
fn now() -> String {
    ringside_store::timefmt::now_rfc3339()
}
