//! Which way a call went (and how Ringside knew), how it ended and what showed it was
//! answered: the enums every layer names a call by, from
//! the engine through the call log (`SQLite`, see [`crate::sql`]) to the JSON of the console,
//! `ringside calls --json` and the LAN announcements.
//!
//! Each is one word on the wire and in the database (`inbound`, `answered`, ...): `strum`
//! derives `Display` and `FromStr`, serde the same lowercase words, so the text is written in
//! one place. A word that is none of them is an [`UnknownWord`], never a panic.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantNames};

/// Which way the call goes, seen from the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(Display, EnumString, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "lowercase")]
#[strum(parse_err_ty = UnknownWord, parse_err_fn = UnknownWord::direction)]
pub enum CallDirection {
    /// Someone calls the phone.
    Inbound,
    /// The phone calls out.
    Outbound,
}

impl CallDirection {
    /// `inbound` or `outbound`, as the call log writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a call's direction was decided, most trusted first (the call log's
/// `direction_source`). The live agent knows the bridge port a packet came in on; a replay
/// only has the addresses and the INVITE itself to go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[derive(Display, EnumString, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "kebab-case")]
#[strum(parse_err_ty = UnknownWord, parse_err_fn = UnknownWord::direction_source)]
pub enum DirectionSource {
    /// The bridge port the INVITE came in on (live): the phone's side or the internet's.
    BridgePort,
    /// One end is an address configured as the phone's (`phone_addresses`).
    Configured,
    /// One end is an address that sent a REGISTER: the phone registers, the provider not.
    Register,
    /// The INVITE passed more than one hop (several `Via`s or a `Record-Route`): a proxy
    /// forwarded it, so it came from the provider toward the phone.
    ViaCount,
    /// The INVITE has one `Via` and a Request-URI naming a domain, not the address it was
    /// sent to: a user agent calling through its proxy, so the phone called out. (An
    /// IP-address Request-URI that is the receiver's own address is a provider calling a
    /// registered contact: inbound.)
    RequestUri,
    /// One end is the phone's signalling address as an earlier call in the same capture
    /// showed it (by its INVITE's shape).
    EarlierCall,
    /// No clue at all: taken as inbound, what a phone line mostly receives.
    Assumed,
}

impl DirectionSource {
    /// The word the call log uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the direction was read from the INVITE itself (or from earlier INVITEs):
    /// whoever sent it chose those headers, so a caller could shape a call to look like the
    /// phone's own.
    #[must_use]
    pub fn is_from_the_invite(self) -> bool {
        matches!(
            self,
            DirectionSource::ViaCount
                | DirectionSource::RequestUri
                | DirectionSource::EarlierCall
                | DirectionSource::Assumed
        )
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(Display, EnumString, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "lowercase")]
#[strum(parse_err_ty = UnknownWord, parse_err_fn = UnknownWord::disposition)]
pub enum Disposition {
    /// Answered (2xx), whether it ended by BYE or by timeout.
    Answered,
    /// Never answered: the caller gave up (CANCEL, 487) or nobody picked up.
    Missed,
    /// 486 Busy Here or 600 Busy Everywhere.
    Busy,
    /// 603 Decline or 403 Forbidden.
    Rejected,
    /// Blocked by a Ringside filter.
    Blocked,
    /// Any other failure (404, 5xx, timeouts of outbound calls ...).
    Failed,
    /// Redirected: a 300, 301 or 302 sent the caller to another address (the phone's own
    /// call forwarding, or the network's); the call placed there, if the capture shows it,
    /// is a call of its own.
    Forwarded,
}

impl Disposition {
    /// The word the call log uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The disposition a final non-2xx response to the initial INVITE gives, or `None` for
    /// an authentication challenge (the INVITE will be sent again).
    #[must_use]
    pub fn from_final_status(code: u16) -> Option<Disposition> {
        match code {
            401 | 407 => None,
            487 => Some(Disposition::Missed),
            486 | 600 => Some(Disposition::Busy),
            403 | 603 => Some(Disposition::Rejected),
            300..=302 => Some(Disposition::Forwarded),
            _ => Some(Disposition::Failed),
        }
    }
}

/// What showed that a call was answered: its 2xx, or, when that was not seen (a lost packet,
/// a capture started late, a one-way mirror), the first proof that one was sent.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    IntoStaticStr,
    VariantNames,
)]
#[strum(parse_err_ty = UnknownWord, parse_err_fn = UnknownWord::answer_evidence)]
pub enum AnswerEvidence {
    /// A 2xx to the INVITE.
    #[serde(rename = "200-ok")]
    #[strum(serialize = "200-ok")]
    Ok200,
    /// An ACK that only a 2xx gets: a transaction of its own, with a branch no INVITE of the
    /// call had (RFC 3261 §13.2.2.4; the ACK of a failure reuses the INVITE's, §17.1.1.3).
    #[serde(rename = "ack-for-2xx")]
    #[strum(serialize = "ack-for-2xx")]
    AckFor2xx,
    /// RTP in both directions while no provisional response had set up early media.
    #[serde(rename = "media-both-ways")]
    #[strum(serialize = "media-both-ways")]
    MediaBothWays,
    /// A BYE after an ACK whose branch could not tell (no RFC 3261 cookie, or the
    /// INVITE's): a failure ends the INVITE without a dialog, so a BYE proves a 2xx.
    #[serde(rename = "bye-after-ack")]
    #[strum(serialize = "bye-after-ack")]
    ByeAfterAck,
}

impl AnswerEvidence {
    /// The word the call log uses (`200-ok`, `ack-for-2xx`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A word that names none of an enum's values (a hand-edited database, a newer agent's
/// announcement, a typo in a query).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{word}` is not a {what} (one of: {})", .known.join(", "))]
pub struct UnknownWord {
    /// What the word should have named (`call direction`, `disposition`, ...).
    pub what: &'static str,
    /// The words that are known.
    pub known: &'static [&'static str],
    /// The word, cut to 64 characters (it may come from anywhere).
    pub word: String,
}

impl UnknownWord {
    /// `word` is not a `T`, called `what`.
    #[must_use]
    pub fn new<T: VariantNames>(what: &'static str, word: &str) -> UnknownWord {
        UnknownWord {
            what,
            known: T::VARIANTS,
            word: word.chars().take(64).collect(),
        }
    }

    fn direction(word: &str) -> UnknownWord {
        UnknownWord::new::<CallDirection>("call direction", word)
    }

    fn direction_source(word: &str) -> UnknownWord {
        UnknownWord::new::<DirectionSource>("direction source", word)
    }

    fn disposition(word: &str) -> UnknownWord {
        UnknownWord::new::<Disposition>("disposition", word)
    }

    fn answer_evidence(word: &str) -> UnknownWord {
        UnknownWord::new::<AnswerEvidence>("kind of answer evidence", word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_the_same_word_in_text_and_json() {
        for direction in [CallDirection::Inbound, CallDirection::Outbound] {
            let word = direction.to_string();
            assert_eq!(word.parse::<CallDirection>(), Ok(direction));
            assert_eq!(
                serde_json::to_string(&direction).ok(),
                Some(format!("\"{word}\""))
            );
            assert_eq!(direction.as_str(), word);
        }
        let dispositions = [
            (Disposition::Answered, "answered"),
            (Disposition::Missed, "missed"),
            (Disposition::Busy, "busy"),
            (Disposition::Rejected, "rejected"),
            (Disposition::Blocked, "blocked"),
            (Disposition::Failed, "failed"),
            (Disposition::Forwarded, "forwarded"),
        ];
        for (disposition, word) in dispositions {
            assert_eq!(disposition.to_string(), word);
            assert_eq!(word.parse::<Disposition>(), Ok(disposition));
            assert_eq!(
                serde_json::from_str::<Disposition>(&format!("\"{word}\"")).ok(),
                Some(disposition)
            );
        }
        assert_eq!(Disposition::VARIANTS.len(), dispositions.len());
        let evidence = [
            (AnswerEvidence::Ok200, "200-ok"),
            (AnswerEvidence::AckFor2xx, "ack-for-2xx"),
            (AnswerEvidence::MediaBothWays, "media-both-ways"),
            (AnswerEvidence::ByeAfterAck, "bye-after-ack"),
        ];
        for (by, word) in evidence {
            assert_eq!(by.to_string(), word);
            assert_eq!(word.parse::<AnswerEvidence>(), Ok(by));
            assert_eq!(serde_json::to_string(&by).ok(), Some(format!("\"{word}\"")));
        }
        assert_eq!(AnswerEvidence::VARIANTS.len(), evidence.len());
    }

    #[test]
    fn redirections_are_forwarded_other_3xx_failed() {
        for code in [300, 301, 302] {
            assert_eq!(
                Disposition::from_final_status(code),
                Some(Disposition::Forwarded)
            );
        }
        for code in [305, 380, 399] {
            assert_eq!(
                Disposition::from_final_status(code),
                Some(Disposition::Failed)
            );
        }
    }

    #[test]
    fn an_unknown_word_is_a_clear_error() {
        let error = "Answered".parse::<Disposition>().expect_err("case matters");
        assert_eq!(
            error.to_string(),
            "`Answered` is not a disposition (one of: answered, missed, busy, rejected, \
             blocked, failed, forwarded)"
        );
        let long = "x".repeat(10_000);
        let error = long.parse::<CallDirection>().expect_err("unknown");
        assert_eq!(error.word.len(), 64, "cut");
        assert_eq!(error.what, "call direction");
        assert!(serde_json::from_str::<CallDirection>("\"sideways\"").is_err());
    }
}
