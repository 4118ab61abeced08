//! What the user decided about calls: the filters, whether calls are recorded when no
//! filter says, and how blocked callers are turned away. The tracker applies the policy in
//! force when a call starts; the agent swaps in a new one when the store changes.

use crate::filters::FilterList;

/// How a blocked caller is turned away (the `block_response` setting, which writes it
/// `busy`, `decline` or `drop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum BlockResponse {
    /// `486 Busy Here`: the provider sends the caller to voicemail at once.
    #[default]
    Busy,
    /// `603 Decline`.
    Decline,
    /// Nothing: the INVITE is dropped and the provider gives up by itself.
    Drop,
}

impl BlockResponse {
    /// Its name in the settings.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The setting named `word`.
    #[must_use]
    pub fn parse(word: &str) -> Option<BlockResponse> {
        word.parse().ok()
    }

    /// The status code and reason phrase sent, `None` for `drop`.
    #[must_use]
    pub fn status(self) -> Option<(u16, &'static str)> {
        match self {
            BlockResponse::Busy => Some((486, "Busy Here")),
            BlockResponse::Decline => Some((603, "Decline")),
            BlockResponse::Drop => None,
        }
    }
}

/// What the user decided: the filters and the settings they fall back to. A new policy
/// applies from the next call on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The ordered filters.
    pub filters: FilterList,
    /// Record calls no recording filter decides.
    pub record_by_default: bool,
    /// How blocked callers are turned away.
    pub block_response: BlockResponse,
    /// Let the remote party of a recorded call hear a short beep every 15 s.
    pub courtesy_beeps: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            filters: FilterList::default(),
            record_by_default: true,
            block_response: BlockResponse::Busy,
            courtesy_beeps: false,
        }
    }
}
