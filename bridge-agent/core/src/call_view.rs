//! What every view of a call shows, declared once: the call log's row
//! (`ringside_store::CallRecord`) and the console's call in progress (`ringside_hub::LiveCall`)
//! embed a [`CallView`], and LAN announcements a [`Party`], each flattened into its JSON so
//! that the fields keep their names and places there.

use ::time::OffsetDateTime;
use serde::{Deserialize, Serialize};

use crate::call::CallInfo;
use crate::caller_id::{CallerId, Presentation};
use crate::outcome::{CallDirection, DirectionSource};
use crate::rfc3339;

/// The other party of a call, as it is shown. In JSON it also says `anonymous` (withheld,
/// as before presentations had three values) and `unknown`, for readers that look for one
/// word (see [`PartyJson`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "PartyJson", from = "PartyJson")]
pub struct Party {
    /// The other party's number; `None` when withheld or unknown.
    pub number: Option<String>,
    /// The name the network signalled.
    pub name: Option<String>,
    /// The name to show: the one the user gave the number in the phonebook, where the view
    /// has looked it up (the call log and announcements fall back to `name`).
    pub display: Option<String>,
    /// Whether the number was given, withheld or unknown.
    pub presentation: Presentation,
}

impl Party {
    /// Whether the caller hid the number (the JSON's `anonymous`, the `anonymous` filter).
    #[must_use]
    pub fn is_withheld(&self) -> bool {
        self.presentation == Presentation::Withheld
    }
}

/// [`Party`] as its JSON writes it: `anonymous` and `unknown` beside `presentation`. Read
/// back, `presentation` wins; JSON from before it existed (an older agent's announcement)
/// says `anonymous` only.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartyJson {
    number: Option<String>,
    name: Option<String>,
    display: Option<String>,
    #[serde(default)]
    anonymous: bool,
    #[serde(default)]
    unknown: bool,
    #[serde(default)]
    presentation: Option<Presentation>,
}

impl From<Party> for PartyJson {
    fn from(party: Party) -> PartyJson {
        PartyJson {
            anonymous: party.presentation == Presentation::Withheld,
            unknown: party.presentation == Presentation::Unknown,
            presentation: Some(party.presentation),
            number: party.number,
            name: party.name,
            display: party.display,
        }
    }
}

impl From<PartyJson> for Party {
    fn from(json: PartyJson) -> Party {
        let presentation = json.presentation.unwrap_or(if json.anonymous {
            Presentation::Withheld
        } else if json.unknown {
            Presentation::Unknown
        } else {
            Presentation::Number
        });
        Party {
            number: json.number,
            name: json.name,
            display: json.display,
            presentation,
        }
    }
}

impl From<&CallerId> for Party {
    /// The party as signalled, before any phonebook is asked for a display name.
    fn from(id: &CallerId) -> Party {
        Party {
            number: id.number.clone(),
            name: id.name.clone(),
            display: None,
            presentation: id.presentation,
        }
    }
}

/// Which call, with whom, which way and when: what the call log and the list of calls in
/// progress both show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallView {
    /// SIP Call-ID.
    pub call_id: String,
    /// Which way the call goes.
    pub direction: CallDirection,
    /// Which clue decided the direction; `None` for calls logged before Ringside kept it.
    pub direction_source: Option<DirectionSource>,
    /// Who is on the other end.
    #[serde(flatten)]
    pub party: Party,
    /// When the INVITE was seen.
    #[serde(with = "rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it was answered, if it was.
    #[serde(with = "rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
}

impl CallView {
    /// A call as it starts (not answered yet).
    #[must_use]
    pub fn starting(info: &CallInfo) -> CallView {
        CallView {
            call_id: info.call_id.clone(),
            direction: info.direction,
            direction_source: Some(info.direction_source),
            party: Party::from(&info.party),
            started_at: rfc3339::utc(info.started_at),
            answered_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(presentation: Presentation) -> Party {
        Party {
            presentation,
            ..Party::default()
        }
    }

    #[test]
    fn json_keeps_anonymous_for_withheld_only_and_adds_unknown() {
        let cases = [
            (Presentation::Number, false, false),
            (Presentation::Withheld, true, false),
            (Presentation::Unknown, false, true),
        ];
        for (presentation, anonymous, unknown) in cases {
            let json = serde_json::to_value(party(presentation)).expect("serializes");
            assert_eq!(json["anonymous"], anonymous, "{json}");
            assert_eq!(json["unknown"], unknown, "{json}");
            assert_eq!(json["presentation"], presentation.as_str(), "{json}");
            let back: Party = serde_json::from_value(json).expect("reads back");
            assert_eq!(back.presentation, presentation);
        }
    }

    #[test]
    fn json_from_before_presentation_reads_anonymous_as_withheld() {
        let old = r#"{"number":null,"name":null,"display":null,"anonymous":true}"#;
        let party: Party = serde_json::from_str(old).expect("reads");
        assert!(party.is_withheld());
    }
}
