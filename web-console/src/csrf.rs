//! Requests from other sites' pages.
//!
//! - A request that changes state must not be a GET, and must carry the header
//!   `X-Ringside: 1`. Browsers do not let another site's page add a custom header to a request
//!   without the console's permission (CORS preflight, which the console never grants), so a
//!   forged form or image cannot change anything.
//! - A WebSocket is not covered by CORS: any page may open one to the console. A handshake
//!   that names an `Origin` must name the console's own (the `Host` it was addressed to), so
//!   that another site cannot listen in on a call.
//! - A console without a password listens on loopback, where a name an attacker controls can
//!   be made to point (DNS rebinding). [`addressed_to_loopback`] lets the login check refuse
//!   requests whose `Host` is not a loopback address or `localhost`.

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

/// The header the console's page (and scripts using the API) send with every change.
pub const HEADER: &str = "x-ringside";

/// Refuses state-changing requests without the header, and WebSocket handshakes from another
/// origin.
pub async fn require_header(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && request.headers().get(HEADER).is_none_or(|v| v != "1") {
        return forbidden(format!(
            "changes need the header `{HEADER}: 1` (CSRF protection)"
        ));
    }
    let websocket = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if websocket && !same_origin(request.headers()) {
        return forbidden("a WebSocket from another site's page is refused".into());
    }
    next.run(request).await
}

fn forbidden(message: String) -> Response {
    AppError {
        status: StatusCode::FORBIDDEN,
        message,
    }
    .into_response()
}

/// Whether the request's `Origin`, if it names one, is the console's own: its scheme-less
/// authority equals the `Host` the request was addressed to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true; // not a browser's page
    };
    let authority = origin.to_str().ok().and_then(|o| {
        o.strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
    });
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// Whether the request was addressed to a loopback address or `localhost` (or names no
/// `Host`, as only non-browser clients do).
#[must_use]
pub fn addressed_to_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = if let Some(bracketed) = host.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn loopback_names_and_addresses_only() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8080",
            "127.3.2.1",
        ] {
            assert!(
                addressed_to_loopback(&headers(&[(header::HOST, host)])),
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "192.168.1.5:8080",
            "[fe80::1]:80",
            "localhost.evil.example",
        ] {
            assert!(
                !addressed_to_loopback(&headers(&[(header::HOST, host)])),
                "{host}"
            );
        }
        assert!(
            addressed_to_loopback(&HeaderMap::new()),
            "no Host: not a browser"
        );
    }

    #[test]
    fn origins_must_be_the_consoles_own() {
        let own = headers(&[
            (header::HOST, "192.168.1.5:8080"),
            (header::ORIGIN, "http://192.168.1.5:8080"),
        ]);
        assert!(same_origin(&own));
        for origin in [
            "http://evil.example",
            "null",
            "http://192.168.1.5:9999",
            "ws://192.168.1.5:8080",
        ] {
            let mut forged = headers(&[(header::HOST, "192.168.1.5:8080")]);
            forged.insert(header::ORIGIN, HeaderValue::from_static(origin));
            assert!(!same_origin(&forged), "{origin}");
        }
        assert!(
            same_origin(&headers(&[(header::HOST, "x")])),
            "no Origin: not a browser's page"
        );
    }
}
