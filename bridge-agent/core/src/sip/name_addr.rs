//! `name-addr` / `addr-spec` header values: From, To, P-Asserted-Identity, Remote-Party-ID.

use super::uri::Uri;

/// A display name, a URI and header parameters (`tag`, `privacy`, `party` ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, quotes and backslash escapes removed; `None` when absent or empty.
    pub display: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters after the URI, names lower case.
    pub params: Vec<(String, Option<String>)>,
}

/// Why a name-addr could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameAddrError {
    /// A quoted display name never ends (RFC 4475 `quotbal`).
    #[error("unterminated quoted display name")]
    UnterminatedQuote,
    /// `<` without `>`.
    #[error("unterminated <URI>")]
    UnterminatedAngle,
    /// The URI has no scheme.
    #[error("bad URI: {0}")]
    Uri(#[from] super::uri::UriError),
}

impl NameAddr {
    /// Reads one value.
    pub fn parse(value: &str) -> Result<NameAddr, NameAddrError> {
        let value = value.trim();
        let (display, uri, after) = if let Some(quoted) = value.strip_prefix('"') {
            let (display, rest) = unquote(quoted).ok_or(NameAddrError::UnterminatedQuote)?;
            let rest = rest.trim_start();
            let (uri, after) = match rest.strip_prefix('<') {
                Some(inner) => inner
                    .split_once('>')
                    .ok_or(NameAddrError::UnterminatedAngle)?,
                // A quoted name followed by a bare URI: lenient.
                None => split_addr_spec(rest),
            };
            (Some(display), uri, after)
        } else if let Some(lt) = value.find('<') {
            let (uri, after) = value[lt + 1..]
                .split_once('>')
                .ok_or(NameAddrError::UnterminatedAngle)?;
            (Some(unquote_lenient(value[..lt].trim())), uri, after)
        } else {
            let (uri, after) = split_addr_spec(value);
            (None, uri, after)
        };
        Ok(NameAddr {
            display: display.filter(|d| !d.is_empty()),
            uri: Uri::parse(uri)?,
            params: parse_params(after),
        })
    }

    /// Reads a header value that may list several comma-separated name-addrs
    /// (P-Asserted-Identity with a `sip:` and a `tel:` identity, say).
    #[must_use]
    pub fn parse_list(value: &str) -> Vec<Result<NameAddr, NameAddrError>> {
        split_top_level_commas(value)
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .map(NameAddr::parse)
            .collect()
    }

    /// The value of a header parameter, by case-insensitive name.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref().unwrap_or_default())
    }
}

/// Reads a quoted string's content after its opening quote: returns the unescaped text and
/// what follows the closing quote.
fn unquote(quoted: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &quoted[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// A display name written without proper quoting (`\"arik\" <sip:..>`, RFC 4475 `baddn`):
/// backslash escapes and stray surrounding quotes are removed.
fn unquote_lenient(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    let mut chars = display.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out.trim_matches('"').trim().to_owned()
}

/// An addr-spec ends at the first `;`: what follows are header parameters (RFC 3261 §20.10).
fn split_addr_spec(value: &str) -> (&str, &str) {
    match value.find(';') {
        Some(semi) => (value[..semi].trim(), &value[semi..]),
        None => (value.trim(), ""),
    }
}

fn parse_params(after: &str) -> Vec<(String, Option<String>)> {
    after
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|param| match param.split_once('=') {
            Some((name, value)) => (
                name.trim().to_ascii_lowercase(),
                Some(value.trim().trim_matches('"').to_owned()),
            ),
            None => (param.to_ascii_lowercase(), None),
        })
        .collect()
}

fn split_top_level_commas(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut in_angle, mut escaped, mut start) = (false, false, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            ',' if !in_quotes && !in_angle => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_names_with_escapes() {
        let na = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#,
        )
        .expect("parses");
        assert_eq!(na.display.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(na.uri.user.as_deref(), Some("jdrosen"));
        assert_eq!(na.param("tag"), Some("98asjd8"));
    }

    #[test]
    fn reads_unquoted_names_addr_specs_and_no_space_before_angle() {
        let na = NameAddr::parse("321-249-7722 <sip:13215557722@m.voncp.com:10000>;tag=3c")
            .expect("parses");
        assert_eq!(na.display.as_deref(), Some("321-249-7722"));
        assert_eq!(na.uri.host, "m.voncp.com");
        let na = NameAddr::parse("sip:caller@example.net;tag=134161461246").expect("parses");
        assert_eq!(na.display, None);
        assert_eq!(na.param("tag"), Some("134161461246"));
        let na = NameAddr::parse(r#"\"arik\" <sip:816666@192.168.1.1>;tag=1"#).expect("parses");
        assert_eq!(na.display.as_deref(), Some("arik"));
        let na = NameAddr::parse(r#""uas"<sip:08019200026@example.org>"#).expect("parses");
        assert_eq!(na.display.as_deref(), Some("uas"));
    }

    #[test]
    fn lists_split_outside_quotes_and_angles() {
        let list = NameAddr::parse_list(
            r#""Doe, John" <sip:+15551234567@example.com>, <tel:+15551234567>"#,
        );
        assert_eq!(list.len(), 2);
        assert_eq!(
            list[0].as_ref().expect("first").display.as_deref(),
            Some("Doe, John")
        );
        assert_eq!(list[1].as_ref().expect("second").uri.scheme, "tel");
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(
            NameAddr::parse(r#""Mr. J. User <sip:j.user@example.com>"#),
            Err(NameAddrError::UnterminatedQuote)
        );
    }
}
