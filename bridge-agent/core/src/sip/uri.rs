//! SIP and tel URIs, read leniently: the user part (percent-decoded), the host and the
//! parameters, which is all caller-ID needs.
//!
//! Ours rather than a SIP crate's: `rsip` 0.4 (the crate the design first named) refused
//! 141 of the 4,006 `sip:` URIs in the real captures, among them IPv6 hosts and user
//! parts holding `;` (RFC 4475 `semiuri`), and its host was then taken
//! from the plain split below anyway. DESIGN-NOTES.md has the numbers and the alternatives
//! looked at. `%XX` escapes are decoded by `percent-encoding`.

/// A URI as caller-ID needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// `sip`, `sips`, `tel`, or another scheme, lower case.
    pub scheme: String,
    /// The user part (or the `tel:` number), percent-decoded.
    pub user: Option<String>,
    /// The host (without port); empty for `tel:`.
    pub host: String,
    /// URI parameters (`user=phone`, `transport=udp`, ...), names lower case.
    pub params: Vec<(String, Option<String>)>,
}

/// Why a URI could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// There is no `scheme:` at the start.
    #[error("URI has no scheme")]
    NoScheme,
}

impl Uri {
    /// Reads a URI, leniently: anything with a scheme gives a value.
    pub fn parse(raw: &str) -> Result<Uri, UriError> {
        let raw = raw.trim();
        let (scheme, rest) = raw.split_once(':').ok_or(UriError::NoScheme)?;
        let scheme = scheme.trim().to_ascii_lowercase();
        if scheme.is_empty() || scheme.contains(char::is_whitespace) {
            return Err(UriError::NoScheme);
        }
        if scheme == "tel" {
            let mut parts = rest.split(';');
            let number = parts.next().unwrap_or_default();
            return Ok(Uri {
                scheme,
                user: Some(percent_decode(number)),
                host: String::new(),
                params: parts.map(split_param).collect(),
            });
        }
        let (user, host_part) = match rest.rfind('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                let user = userinfo.split(':').next().unwrap_or_default();
                (Some(percent_decode(user)), &rest[at + 1..])
            }
            None => (None, rest),
        };
        let (host, params) = read_host(host_part);
        Ok(Uri {
            scheme,
            user,
            host,
            params,
        })
    }

    /// The value of a URI parameter, by case-insensitive name.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref().unwrap_or_default())
    }
}

type HostAndParams = (String, Vec<(String, Option<String>)>);

/// The host (an IPv6 one without its brackets) and the parameters of what follows the `@`
/// (or the scheme when there is no user part); `?headers` are left out.
fn read_host(host_part: &str) -> HostAndParams {
    let host_part = host_part.split('?').next().unwrap_or_default();
    let mut parts = host_part.split(';');
    let address = parts.next().unwrap_or_default().trim();
    let host = if let Some(v6) = address.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default().to_owned()
    } else {
        address.split(':').next().unwrap_or_default().to_owned()
    };
    (
        host,
        parts
            .filter(|p| !p.trim().is_empty())
            .map(split_param)
            .collect(),
    )
}

fn split_param(param: &str) -> (String, Option<String>) {
    match param.split_once('=') {
        Some((name, value)) => (
            name.trim().to_ascii_lowercase(),
            Some(value.trim().to_owned()),
        ),
        None => (param.trim().to_ascii_lowercase(), None),
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is (RFC 4475
/// `esc02`), and bytes that do not form UTF-8 are replaced rather than refused.
#[must_use]
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(raw: &str) -> Option<String> {
        Uri::parse(raw).expect("parses").user
    }

    #[test]
    fn reads_users_hosts_and_params() {
        let uri = Uri::parse("sip:+15551234567@example.com;user=phone").expect("parses");
        assert_eq!(uri.user.as_deref(), Some("+15551234567"));
        assert_eq!(uri.host, "example.com");
        assert_eq!(uri.param("user"), Some("phone"));
        assert_eq!(user("sip:%61lice@atlanta.com"), Some("alice".into()));
        assert_eq!(
            user("sip:user;par=u%40example.net@example.com"),
            Some("user;par=u@example.net".into())
        );
        assert_eq!(
            user("tel:+1-555-123-4567;phone-context=x"),
            Some("+1-555-123-4567".into())
        );
        assert_eq!(
            Uri::parse("sips:alice@[2001:db8::10]:5070")
                .expect("v6")
                .host,
            "2001:db8::10"
        );
        assert_eq!(user("sip:example.com"), None);
        assert!(Uri::parse("no scheme here").is_err());
    }

    #[test]
    fn percent_decoding_keeps_stray_percent_signs() {
        assert_eq!(percent_decode("I%20have%20spaces"), "I have spaces");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%C3%A9%ff"), "é\u{fffd}");
        assert_eq!(percent_decode("%%41"), "%A");
    }
}
