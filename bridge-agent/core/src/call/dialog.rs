//! The dialog state of one call and every transition it makes, named after RFC 3261's states:
//!
//! ```text
//! Calling ──180-199──► Early ──2xx──► Confirmed ──BYE──► Terminated(answered)
//! Calling ──2xx──► Confirmed
//! Calling, Early ──CANCEL, BYE, 487──► Terminated(missed)
//!                ──486, 600──► Terminated(busy)
//!                ──403, 603──► Terminated(rejected)
//!                ──any other 300-699──► Terminated(failed)
//! Calling ──a filter blocks it──► Terminated(blocked)
//! Calling, Early, Confirmed ──Ringside's timer, shutdown──► Terminated(answered when it was
//!                             Confirmed, else missed if inbound, failed if outbound)
//! ```
//!
//! - [`DialogState::Calling`]: the client INVITE transaction's *Calling* state (§17.1.1.2),
//!   and its *Proceeding* after a `100 Trying`: a 100 carries no To tag, makes no dialog and
//!   changes nothing here. No dialog exists yet.
//! - [`DialogState::Early`]: an *early* dialog (§12, §13.2.2.4): a 180-199 answered the
//!   INVITE; the phone (or the far end) rings.
//! - [`DialogState::Confirmed`]: a *confirmed* dialog (§12): a 2xx answered the INVITE.
//! - [`DialogState::Terminated`]: the dialog is over (§12: BYE, §9: CANCEL, §13.2.2.3: a
//!   final failure, or Ringside's own timers); nothing moves it again.
//!
//! 401/407 challenges keep the call `Calling` or `Early`: the caller resends the INVITE with
//! credentials and a higher `CSeq`, and only a final response to that `CSeq` or a later one
//! ends the call. A re-INVITE of a confirmed call changes only its media (the SDP, which the
//! call reads itself).
//!
//! The transitions are methods on [`DialogState`] that take it by value and return the next
//! one. A call keeps its state in a private field and changes it only through them, so no
//! code can give a call a state these transitions do not reach: an answer time exists only
//! in `Confirmed` and `Terminated`, an end only in `Terminated`, and nothing leaves
//! `Terminated`.

use crate::call::{CallDirection, Disposition, Progress};
use crate::sip::{Message, Method};
use crate::time::Timestamp;

/// Where a call's dialog is (RFC 3261 names; see the module doc for the sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// The INVITE is out, nothing but `100 Trying` (or a challenge) has answered it.
    Calling {
        /// The `CSeq` of the INVITE that sets the call up (raised by authenticated retries):
        /// final responses to older ones are ignored.
        invite_cseq: u32,
    },
    /// A provisional 180-199 came back: it rings, or early media plays.
    Early {
        /// The `CSeq` of the INVITE that sets the call up, as in `Calling`.
        invite_cseq: u32,
    },
    /// A 2xx answered the INVITE.
    Confirmed {
        /// When the 2xx was seen.
        answered_at: Timestamp,
    },
    /// Over, for good.
    Terminated {
        /// When it ended.
        ended_at: Timestamp,
        /// How it ended: [`Disposition::Answered`] exactly when it was `Confirmed` before.
        disposition: Disposition,
        /// When it was answered, if it ever was.
        answered_at: Option<Timestamp>,
    },
}

/// What of a SIP message can move a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// An INVITE: a retransmission, an authenticated retry or a re-INVITE.
    Invite {
        /// Its `CSeq` number.
        cseq: u32,
    },
    /// A CANCEL: the caller gives up.
    Cancel,
    /// A BYE: a hang-up.
    Bye,
    /// A response to an INVITE (of this call: the first, a retry or a re-INVITE).
    InviteResponse {
        /// The status code.
        status: u16,
        /// The `CSeq` number of the INVITE it answers.
        cseq: u32,
    },
    /// Anything else: ACK, PRACK, INFO, responses to other requests.
    Other,
}

impl Signal {
    /// What `message` is to its dialog.
    #[must_use]
    pub fn of(message: &Message) -> Signal {
        let cseq = message.cseq();
        match (message.method(), message.status()) {
            (Some(Method::Invite), _) => Signal::Invite { cseq: cseq.number },
            (Some(Method::Cancel), _) => Signal::Cancel,
            (Some(Method::Bye), _) => Signal::Bye,
            (None, Some(status)) if cseq.method == Method::Invite => Signal::InviteResponse {
                status,
                cseq: cseq.number,
            },
            _ => Signal::Other,
        }
    }
}

impl DialogState {
    /// A dialog set up by an INVITE with this `CSeq` number.
    #[must_use]
    pub fn calling(invite_cseq: u32) -> DialogState {
        DialogState::Calling { invite_cseq }
    }

    /// The state `signal` leads to at `now`, and what the outside needs to know of it.
    #[must_use]
    pub fn on_signal(self, now: Timestamp, signal: Signal) -> (DialogState, Progress) {
        use DialogState::{Calling, Confirmed, Early, Terminated};
        match (self, signal) {
            (_, Signal::InviteResponse { status, cseq }) => self.on_response(now, status, cseq),
            // A retransmission or an authenticated retry: a retry's final answer counts.
            (Calling { invite_cseq }, Signal::Invite { cseq }) => {
                let invite_cseq = invite_cseq.max(cseq);
                (Calling { invite_cseq }, Progress::Nothing)
            }
            (Early { invite_cseq }, Signal::Invite { cseq }) => {
                let invite_cseq = invite_cseq.max(cseq);
                (Early { invite_cseq }, Progress::Nothing)
            }
            // The caller gives up before an answer (a BYE before any answer means the same).
            (Calling { .. } | Early { .. }, Signal::Cancel | Signal::Bye) => {
                unanswered(now, Disposition::Missed)
            }
            // A hang-up.
            (Confirmed { answered_at }, Signal::Bye) => {
                let disposition = Disposition::Answered;
                let state = Terminated {
                    ended_at: now,
                    disposition,
                    answered_at: Some(answered_at),
                };
                (state, Progress::Ended(disposition))
            }
            // ACK, PRACK, INFO, re-INVITEs, CANCEL after the answer, anything after the end.
            _ => (self, Progress::Nothing),
        }
    }

    /// The state a response with `status` to the INVITE with `CSeq` number `cseq` leads to.
    fn on_response(self, now: Timestamp, status: u16, cseq: u32) -> (DialogState, Progress) {
        use DialogState::{Calling, Confirmed, Early};
        match (self, status) {
            // Ringing or early media (a second 18x changes nothing).
            (Calling { invite_cseq }, 180..=199) => (Early { invite_cseq }, Progress::Ringing),
            // The answer to the INVITE (not to a re-INVITE: the call is confirmed by then).
            (Calling { .. } | Early { .. }, 200..=299) => {
                (Confirmed { answered_at: now }, Progress::Answered)
            }
            // A final failure of the INVITE that sets the call up (not of an older one that
            // a challenge made the caller send again); a challenge itself changes nothing.
            (Calling { invite_cseq } | Early { invite_cseq }, 300..=699) if cseq >= invite_cseq => {
                match Disposition::from_final_status(status) {
                    Some(disposition) => unanswered(now, disposition),
                    None => (self, Progress::Nothing),
                }
            }
            // 100 Trying, answers to re-INVITEs, anything after the end.
            _ => (self, Progress::Nothing),
        }
    }

    /// The state Ringside's own end of the call leads to (a timer, shutdown, the end of a
    /// capture), and the disposition the call ends (or ended) with: an answered call ended
    /// answered, an unanswered one missed when it came in, failed when the phone placed it.
    #[must_use]
    pub fn on_end(self, now: Timestamp, direction: CallDirection) -> (DialogState, Disposition) {
        let (disposition, answered_at) = match (self, direction) {
            (DialogState::Terminated { disposition, .. }, _) => return (self, disposition),
            (DialogState::Confirmed { answered_at }, _) => {
                (Disposition::Answered, Some(answered_at))
            }
            (_, CallDirection::Inbound) => (Disposition::Missed, None),
            (_, CallDirection::Outbound) => (Disposition::Failed, None),
        };
        let state = DialogState::Terminated {
            ended_at: now,
            disposition,
            answered_at,
        };
        (state, disposition)
    }

    /// The state a filter's block leads to: a call still `Calling` ends blocked (the phone
    /// never rings); one further on is left alone (`None`).
    #[must_use]
    pub fn on_block(self, now: Timestamp) -> Option<DialogState> {
        matches!(self, DialogState::Calling { .. }).then_some(DialogState::Terminated {
            ended_at: now,
            disposition: Disposition::Blocked,
            answered_at: None,
        })
    }

    /// When the call was answered, if it was.
    #[must_use]
    pub fn answered_at(self) -> Option<Timestamp> {
        match self {
            DialogState::Confirmed { answered_at } => Some(answered_at),
            DialogState::Terminated { answered_at, .. } => answered_at,
            DialogState::Calling { .. } | DialogState::Early { .. } => None,
        }
    }

    /// When the call ended, if it has.
    #[must_use]
    pub fn ended_at(self) -> Option<Timestamp> {
        match self {
            DialogState::Terminated { ended_at, .. } => Some(ended_at),
            _ => None,
        }
    }

    /// Whether the call is over.
    #[must_use]
    pub fn is_terminated(self) -> bool {
        matches!(self, DialogState::Terminated { .. })
    }

    /// Whether the call is answered and still going.
    #[must_use]
    pub fn is_confirmed(self) -> bool {
        matches!(self, DialogState::Confirmed { .. })
    }
}

/// A call that ended at `now` without an answer, and the news of it.
fn unanswered(now: Timestamp, disposition: Disposition) -> (DialogState, Progress) {
    let state = DialogState::Terminated {
        ended_at: now,
        disposition,
        answered_at: None,
    };
    (state, Progress::Ended(disposition))
}
