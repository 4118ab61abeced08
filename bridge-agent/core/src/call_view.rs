//! What every view of a call shows, declared once: the call log's row
//! (`ringside_store::CallRecord`) and the console's call in progress (`ringside_hub::LiveCall`)
//! embed a [`CallView`], and LAN announcements a [`Party`], each flattened into its JSON so
//! that the fields keep their names and places there.

use ::time::OffsetDateTime;
use serde::{Deserialize, Serialize};

use crate::call::CallInfo;
use crate::caller_id::CallerId;
use crate::outcome::CallDirection;
use crate::rfc3339;

/// The other party of a call, as it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// The other party's number; `None` when withheld.
    pub number: Option<String>,
    /// The name the network signalled.
    pub name: Option<String>,
    /// The name to show: the one the user gave the number in the phonebook, where the view
    /// has looked it up (the call log and announcements fall back to `name`).
    pub display: Option<String>,
    /// Whether the caller withheld their identity.
    pub anonymous: bool,
}

impl From<&CallerId> for Party {
    /// The party as signalled, before any phonebook is asked for a display name.
    fn from(id: &CallerId) -> Party {
        Party {
            number: id.number.clone(),
            name: id.name.clone(),
            display: None,
            anonymous: id.anonymous,
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
            party: Party::from(&info.party),
            started_at: rfc3339::utc(info.started_at),
            answered_at: None,
        }
    }
}
