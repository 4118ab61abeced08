//! The web console's API, as the popups' "Block" button uses it: log in with the configured
//! password (when the console has one), then add a `block` filter for exactly that number
//! (`number-exact`: a caller numbered `*` or `1555*` is blocked alone, never everyone) at the
//! top of the list.

use serde_json::json;

/// Why a number could not be blocked.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The console could not be reached or refused the request.
    #[error("the console at {url} said no: {reason}")]
    Refused {
        /// The console's address.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// Adds `block number-exact <number>` as the first filter, through the console at
/// `console_url`.
pub fn block(console_url: &str, password: Option<&str>, number: &str) -> Result<(), ConsoleError> {
    let base = console_url.trim_end_matches('/');
    let refused = |reason: String| ConsoleError::Refused {
        url: base.to_owned(),
        reason,
    };
    let agent = ureq::Agent::new_with_defaults();
    let mut cookie = None;
    if let Some(password) = password {
        let response = agent
            .post(format!("{base}/api/login"))
            .header("X-Ringside", "1")
            .content_type("application/json")
            .send(json!({ "password": password }).to_string())
            .map_err(|e| refused(format!("login: {e}")))?;
        cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
    }
    let mut request = agent
        .post(format!("{base}/api/filters"))
        .header("X-Ringside", "1");
    if let Some(cookie) = &cookie {
        request = request.header("Cookie", cookie);
    }
    request
        .content_type("application/json")
        .send(
            json!({ "pattern": number, "field": "number-exact", "action": "block", "position": 1 })
                .to_string(),
        )
        .map_err(|e| refused(format!("adding the filter: {e}")))?;
    Ok(())
}
