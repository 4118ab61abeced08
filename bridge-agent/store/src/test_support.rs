//! Call rows for tests and the call log's JSON keys, shared by the store's own tests, the
//! agent's and the console's, so that a field added to [`NewCall`] is filled in one place.
//!
//! It lives in the store, behind the `test-support` feature, rather than in the `tests`
//! crate's library (`ringside-e2e`): that crate depends on the agent, which depends on the
//! store and the console, so using it from their tests is a dependency cycle. In a cycle the
//! store's unit tests see two different `ringside-store` crates (the one under test and the
//! one the helper was built against), and a `NewCall` of one is not a `NewCall` of the other.

use ringside_core::call::{CallDirection, DirectionSource};
use ringside_core::caller_id::{CallerIdSource, Presentation};
use ringside_core::rfc3339;

use crate::NewCall;

/// The keys every call has in JSON (`ringside calls --json`, `GET /api/calls`): the public
/// contract of the call log, which the agent's and the console's tests both check.
pub const CALL_JSON_KEYS: [&str; 16] = [
    "id",
    "call_id",
    "direction",
    "direction_source",
    "number",
    "name",
    "display",
    "anonymous",
    "unknown",
    "presentation",
    "caller_id_source",
    "started_at",
    "answered_at",
    "ended_at",
    "disposition",
    "recording",
];

/// An inbound call from `number`, named `name` by the network, that started `at` (RFC 3339);
/// `at` is its Call-ID too, unique per call of a test. Caller-ID from From, between the
/// addresses `10.0.0.2:5060` (phone, configured) and `10.0.0.1:5060`, not blocked. Change a field with
/// struct update syntax: `NewCall { direction: CallDirection::Outbound, ..inbound_call(..) }`.
///
/// # Panics
///
/// When `at` is not RFC 3339: the calling test's own mistake.
#[must_use]
#[expect(
    clippy::expect_used,
    reason = "a test helper: a bad time is the calling test's bug"
)]
pub fn inbound_call<'a>(number: &'a str, name: Option<&'a str>, at: &'a str) -> NewCall<'a> {
    NewCall {
        call_id: at,
        direction: CallDirection::Inbound,
        direction_source: DirectionSource::Configured,
        number: Some(number),
        name,
        presentation: Presentation::Number,
        caller_id_source: CallerIdSource::From,
        caller_id_header: "",
        started_at: rfc3339::parse(at).expect("an RFC 3339 time"),
        phone_address: "10.0.0.2:5060",
        remote_address: "10.0.0.1:5060",
        blocked_by: None,
    }
}
