//! Caller-ID: who is calling, and which header said so (DESIGN rule 2).
//!
//! Identity comes from P-Asserted-Identity, then Remote-Party-ID (`party=calling`, or no
//! `party`), then From. How the number was presented is one of three ([`Presentation`]):
//! `Privacy: id` (or `header`/`user`), `privacy=full` on Remote-Party-ID, an
//! `anonymous.invalid` host or a user part that says so (`anonymous`, `restricted` ...) mean
//! the caller *withheld* it; no user part, an empty one, or `unknown`/`unavailable` with no
//! privacy asked for mean the network did not say: *unknown*, not withheld.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantNames};

use crate::outcome::UnknownWord;
use crate::sip::uri::percent_decode;
use crate::sip::{HeaderName, Message, NameAddr};

/// Which header the caller-ID came from (the call log's `caller_id_source`: the same
/// kebab-case word in text, JSON and SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[derive(Display, EnumString, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "kebab-case")]
#[strum(parse_err_ty = UnknownWord, parse_err_fn = unknown_source)]
pub enum CallerIdSource {
    /// `P-Asserted-Identity` (RFC 3325): the provider vouches for it.
    PAssertedIdentity,
    /// `Remote-Party-ID` (draft-ietf-sip-privacy): older carriers and ATAs.
    RemotePartyId,
    /// `From`: what the caller's side wrote.
    From,
    /// `To`: the number the phone dialled, for outbound calls.
    To,
}

impl CallerIdSource {
    /// The name stored in the call log (`caller_id_source`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_source(word: &str) -> UnknownWord {
    UnknownWord::new::<CallerIdSource>("caller-ID source", word)
}

/// How the other party's number was presented (the call log's `presentation`: the same
/// lowercase word in text, JSON and SQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(Display, EnumString, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "lowercase")]
#[strum(parse_err_ty = UnknownWord, parse_err_fn = unknown_presentation)]
pub enum Presentation {
    /// A number (or a SIP user name) was given.
    #[default]
    Number,
    /// The caller hid it (privacy asked for, an anonymous identity): NCID's `PRIVATE`.
    Withheld,
    /// The network did not say, and nobody asked for privacy: NCID's `OUT-OF-AREA`.
    Unknown,
}

impl Presentation {
    /// The word the call log uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_presentation(word: &str) -> UnknownWord {
    UnknownWord::new::<Presentation>("presentation", word)
}

/// The caller's identity as signalled in an INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// Digits, with a leading `+` kept; a SIP user name that is not a number is kept as
    /// written. `None` unless `presentation` is [`Presentation::Number`].
    pub number: Option<String>,
    /// The display name, unquoted and percent-decoded; `None` when the network gave none.
    pub name: Option<String>,
    /// Whether the number was given, withheld or unknown.
    pub presentation: Presentation,
    /// Which header won.
    pub source: CallerIdSource,
    /// That header's value, as it was on the wire (kept in the call log).
    pub raw: String,
}

impl CallerId {
    /// A caller as a user types one to try the filters on: `anonymous` is a withheld
    /// number, `unknown` one the network did not give, anything else the number itself.
    #[must_use]
    pub fn typed(number: &str, name: Option<String>) -> CallerId {
        let number = number.trim();
        let presentation = if number.eq_ignore_ascii_case("anonymous") {
            Presentation::Withheld
        } else if number.eq_ignore_ascii_case("unknown") {
            Presentation::Unknown
        } else {
            Presentation::Number
        };
        CallerId {
            number: (presentation == Presentation::Number).then(|| number.to_owned()),
            name,
            presentation,
            source: CallerIdSource::From,
            raw: String::new(),
        }
    }
}

/// User parts that mean "the caller hid the number" (providers spell it in many ways).
const WITHHELD_USERS: [&str; 5] = ["anonymous", "restricted", "private", "withheld", "blocked"];

/// User parts that mean "the network does not know the number" (out of area).
const UNKNOWN_USERS: [&str; 2] = ["unknown", "unavailable"];

/// The party an outbound call goes to, from the To header of the phone's INVITE.
#[must_use]
pub fn called_party(message: &Message) -> Option<CallerId> {
    let raw = message.header(&HeaderName::To)?;
    let to = message.to()?;
    let number = to.uri.user.as_deref().and_then(normalize_number);
    Some(CallerId {
        presentation: if number.is_some() {
            Presentation::Number
        } else {
            Presentation::Unknown
        },
        number,
        name: to.display.map(|name| percent_decode(&name)),
        source: CallerIdSource::To,
        raw: raw.to_owned(),
    })
}

/// Reads the caller-ID of an INVITE (or of any request: the headers are the same).
/// `None` only when not even From can be read.
#[must_use]
pub fn caller_id(message: &Message) -> Option<CallerId> {
    let (identity, source, raw) = identity_header(message)?;
    let from = message.from();
    let name = identity
        .display
        .clone()
        .or_else(|| from.as_ref().and_then(|f| f.display.clone()))
        .map(|name| percent_decode(&name).trim().to_owned())
        .filter(|name| !name.is_empty());
    let number = identity.uri.user.as_deref().and_then(normalize_number);
    let privacy_header = message.headers(&HeaderName::Privacy).any(|value| {
        value.split([';', ',']).any(|token| {
            ["id", "header", "user"].contains(&token.trim().to_ascii_lowercase().as_str())
        })
    });
    let privacy_param = identity.param("privacy").is_some_and(|p| {
        p.eq_ignore_ascii_case("full")
            || p.eq_ignore_ascii_case("name-number")
            || p.eq_ignore_ascii_case("uri")
    });
    let withheld = privacy_header
        || privacy_param
        || identity.uri.host.eq_ignore_ascii_case("anonymous.invalid")
        || identity.uri.user.as_deref().is_some_and(is_withheld_user);
    let presentation = match number {
        _ if withheld => Presentation::Withheld,
        None => Presentation::Unknown,
        Some(_) => Presentation::Number,
    };
    Some(CallerId {
        number: number.filter(|_| presentation == Presentation::Number),
        name,
        presentation,
        source,
        raw,
    })
}

fn identity_header(message: &Message) -> Option<(NameAddr, CallerIdSource, String)> {
    let pai = message
        .headers(&HeaderName::PAssertedIdentity)
        .find_map(|value| {
            let list = NameAddr::parse_list(value);
            // Prefer the entry that carries a number (a tel: URI or a numeric sip: user).
            let mut entries: Vec<NameAddr> = list.into_iter().filter_map(Result::ok).collect();
            entries.sort_by_key(|e| e.uri.user.as_deref().and_then(normalize_number).is_none());
            entries.into_iter().next().map(|e| (e, value))
        });
    if let Some((na, raw)) = pai {
        return Some((na, CallerIdSource::PAssertedIdentity, raw.to_owned()));
    }
    let rpid = message
        .headers(&HeaderName::RemotePartyId)
        .find_map(|value| {
            NameAddr::parse_list(value)
                .into_iter()
                .filter_map(Result::ok)
                .find(|na| {
                    na.param("party")
                        .is_none_or(|party| party.eq_ignore_ascii_case("calling"))
                })
                .map(|na| (na, value))
        });
    if let Some((na, raw)) = rpid {
        return Some((na, CallerIdSource::RemotePartyId, raw.to_owned()));
    }
    let raw = message.header(&HeaderName::From)?;
    Some((message.from()?, CallerIdSource::From, raw.to_owned()))
}

/// Whether a URI user part is one of the words for a hidden number.
fn is_withheld_user(user: &str) -> bool {
    let user = user.split(';').next().unwrap_or_default().trim();
    WITHHELD_USERS.iter().any(|w| user.eq_ignore_ascii_case(w))
}

/// Turns a URI user part into a number: visual separators (`-`, `.`, ` `, `(`, `)`) dropped,
/// a leading `+` kept, `;`-parameters cut (`+15551234567;npdi`). A user part that is not a
/// phone number is kept as written unless it means "withheld" or "unknown"; an empty one
/// gives `None`.
#[must_use]
pub fn normalize_number(user: &str) -> Option<String> {
    let user = user.split(';').next().unwrap_or_default().trim();
    let no_number = WITHHELD_USERS.iter().chain(&UNKNOWN_USERS);
    if user.is_empty() || no_number.clone().any(|a| user.eq_ignore_ascii_case(a)) {
        return None;
    }
    let is_visual = |c: char| matches!(c, '-' | '.' | ' ' | '(' | ')');
    let phone_like = user
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || is_visual(c) || (c == '+' && i == 0));
    if !phone_like {
        return Some(user.to_owned());
    }
    let number: String = user.chars().filter(|c| !is_visual(*c)).collect();
    (number
        .trim_start_matches('+')
        .chars()
        .any(|c| c.is_ascii_digit()))
    .then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_datagram;

    fn invite(extra_headers: &str, from: &str) -> Message {
        let text = format!(
            "INVITE sip:100@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
             From: {from};tag=1\r\nTo: <sip:100@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
             {extra_headers}Content-Length: 0\r\n\r\n"
        );
        parse_datagram(text.as_bytes())
            .expect("valid")
            .expect("message")
    }

    #[test]
    fn from_gives_number_and_name() {
        let id = caller_id(&invite(
            "",
            r#""Hard Core" <sip:14075555191@216.115.27.145>"#,
        ))
        .expect("id");
        assert_eq!(id.number.as_deref(), Some("14075555191"));
        assert_eq!(id.name.as_deref(), Some("Hard Core"));
        assert_eq!(id.source, CallerIdSource::From);
        assert_eq!(id.presentation, Presentation::Number);
    }

    #[test]
    fn p_asserted_identity_wins_and_name_falls_back_to_from() {
        let id = caller_id(&invite(
            "P-Asserted-Identity: <sip:+15551230000@carrier.example>, <tel:+15551230000>\r\n\
             Remote-Party-ID: <sip:999@x>;party=calling\r\n",
            r#""Jane Roe" <sip:1000@pbx.example>"#,
        ))
        .expect("id");
        assert_eq!(id.number.as_deref(), Some("+15551230000"));
        assert_eq!(id.name.as_deref(), Some("Jane Roe"));
        assert_eq!(id.source, CallerIdSource::PAssertedIdentity);
        assert!(id.raw.contains("carrier.example"));
    }

    #[test]
    fn remote_party_id_called_party_is_not_the_caller() {
        let id = caller_id(&invite(
            "Remote-Party-ID: <sip:200@x>;party=called\r\nRemote-Party-ID: \"Bob\" <sip:300@x>;party=calling;privacy=off\r\n",
            "<sip:400@x>",
        ))
        .expect("id");
        assert_eq!(id.number.as_deref(), Some("300"));
        assert_eq!(id.source, CallerIdSource::RemotePartyId);
    }

    #[test]
    fn privacy_and_anonymous_users_hide_the_number() {
        let cases = [
            invite(
                "Privacy: id\r\n",
                r#""Anonymous" <sip:15551234567@example.com>"#,
            ),
            invite("", r#""Anonymous" <sip:anonymous@anonymous.invalid>"#),
            invite(
                "Remote-Party-ID: <sip:15551234567@x>;party=calling;privacy=full\r\n",
                "<sip:x@y>",
            ),
            invite("", "<sip:Restricted@gw.example>"),
            invite("Privacy: id\r\n", "<sip:gw.example>"),
        ];
        for message in &cases {
            let id = caller_id(message).expect("id");
            assert_eq!(id.presentation, Presentation::Withheld, "{message:?}");
            assert_eq!(id.number, None);
        }
    }

    /// The bug: a From with no user part (`sip:1.2.3.4`) was called "anonymous" (withheld),
    /// though nobody asked for privacy: the network just did not say who it was.
    #[test]
    fn a_from_without_a_user_part_is_unknown_not_withheld() {
        let cases = [
            invite("", "<sip:192.168.1.2>"),
            invite("", "<sip:@gw.example>"),
            invite("", r#""unknown" <sip:unknown@gw.example>"#),
            invite("", "<sip:unavailable@gw.example>"),
            invite("Privacy: none\r\n", "sip:10.0.0.9"),
        ];
        for message in &cases {
            let id = caller_id(message).expect("id");
            assert_eq!(id.presentation, Presentation::Unknown, "{message:?}");
            assert_eq!(id.number, None);
        }
    }

    #[test]
    fn presentation_is_one_word_in_text_and_json() {
        for (presentation, word) in [
            (Presentation::Number, "number"),
            (Presentation::Withheld, "withheld"),
            (Presentation::Unknown, "unknown"),
        ] {
            assert_eq!(presentation.as_str(), word);
            assert_eq!(word.parse::<Presentation>(), Ok(presentation));
            assert_eq!(
                serde_json::to_string(&presentation).ok(),
                Some(format!("\"{word}\""))
            );
        }
        assert!("Withheld".parse::<Presentation>().is_err());
    }

    #[test]
    fn numbers_are_normalised() {
        assert_eq!(
            normalize_number("+1 (555) 123-4567").as_deref(),
            Some("+15551234567")
        );
        assert_eq!(
            normalize_number("+15551234567;npdi").as_deref(),
            Some("+15551234567")
        );
        assert_eq!(normalize_number("alice").as_deref(), Some("alice"));
        assert_eq!(normalize_number("Anonymous"), None);
        assert_eq!(normalize_number(""), None);
        assert_eq!(normalize_number("+"), None);
    }

    #[test]
    fn percent_encoded_names_are_decoded() {
        let id = caller_id(&invite("", "\"John%20Smith\" <sip:15550001111@x>")).expect("id");
        assert_eq!(id.name.as_deref(), Some("John Smith"));
    }
}
