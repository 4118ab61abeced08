//! The loopback-only rule: while no console password is set, the console answers only
//! requests that come from a loopback address (the TCP peer, from axum's [`ConnectInfo`])
//! and are addressed to one (`Host`, against DNS rebinding). It is decided at every request
//! from the store's current state, so a console started with a password on a LAN address
//! closes to the LAN the moment the password is removed. A request whose peer is unknown
//! (the router served without connect info) is refused: the rule cannot be checked.
//!
//! Refusals are 403: JSON under `/api/`, a plain page saying what to do for a browser.

use std::net::SocketAddr;

use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;

/// What a refused client is told.
const WHY: &str = "no console password is set, so the console answers only on this machine \
                   (127.0.0.1 or localhost). Set a password with `ringside console-password \
                   set` to use it from the LAN, or reach it through an SSH tunnel.";

/// The TCP peer of a request: the connection's address, or the one a test set with
/// [`MockConnectInfo`].
#[must_use]
pub fn peer(extensions: &Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| extensions.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0))
}

/// Whether a request from `peer` with `headers` may be served without a password.
#[must_use]
pub fn loopback_request(peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback())
        && crate::csrf::addressed_to_loopback(headers)
}

/// The 403 for a request the rule refuses: JSON for the API, a page for a browser.
#[must_use]
pub fn refused(path: &str) -> Response {
    if path.starts_with("/api/") {
        return AppError {
            status: StatusCode::FORBIDDEN,
            message: WHY.into(),
        }
        .into_response();
    }
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Ringside · not here</title></head>\n<body><h1>Ringside's console is not \
         open to the network</h1>\n<p>{WHY}</p></body></html>\n"
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page),
    )
        .into_response()
}
