//! The dialog state of one call and every transition it makes, named after RFC 3261's states:
//!
//! ```text
//! Calling ──180-199──► Early ──2xx──► Confirmed ──BYE──► Terminated(answered)
//! Calling ──2xx──► Confirmed
//! Calling, Early ──ACK for a 2xx──► Confirmed             (the 2xx was not seen)
//! Calling, Early* ──RTP both ways──► Confirmed            (* no early media: see below)
//! Calling, Early ──ACK, then BYE──► Terminated(answered)  (an ACK whose branch cannot tell)
//! Calling, Early ──CANCEL, BYE, 487──► Terminated(missed)
//!                ──486, 600──► Terminated(busy)
//!                ──403, 603──► Terminated(rejected)
//!                ──300, 301, 302──► Terminated(forwarded)
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
//! - [`DialogState::Confirmed`]: a *confirmed* dialog (§12): a 2xx answered the INVITE, or
//!   what only follows a 2xx was seen when the 2xx itself was not (lost, a capture started
//!   late, a mirror that sees one direction). The call keeps which ([`AnswerEvidence`]).
//! - [`DialogState::Terminated`]: the dialog is over (§12: BYE, §9: CANCEL, §13.2.2.3: a
//!   final failure, or Ringside's own timers); nothing moves it again.
//!
//! Evidence of an answer without its 2xx, and what does not count:
//! - *An ACK for a 2xx*: the ACK of a 2xx is a transaction of its own, with a new branch
//!   (§13.2.2.4); the ACK of a failure reuses the INVITE's branch and goes hop by hop
//!   (§17.1.1.3). An ACK whose top branch has RFC 3261's cookie and is none of the call's
//!   INVITEs' (one per hop a capture shows) answered the call when it was sent.
//! - *A BYE after an ACK* of the INVITE whose branch could not tell (an RFC 2543 branch, or
//!   the INVITE's own from a sloppy phone): a failure leaves no dialog to say BYE in, so the
//!   pair proves a 2xx; the answer time is the ACK's. A BYE *without* an ACK before it stays
//!   what it always was: the caller giving up (§15 lets the caller end an early dialog so).
//! - *RTP both ways*: neither side can send to the other before it has the other's SDP
//!   answer, which comes in an 18x (early media) or the 2xx. So two-way RTP counts only while
//!   no 18x with SDP has been seen: with early media (ringback, an announcement, a phone that
//!   streams silence as soon as it has an address) RTP flows both ways on calls that are then
//!   CANCEL'd, and only an ACK can prove the answer. The answer time is the first packet of
//!   the second direction.
//!
//! None of these revives a call that has ended: `Terminated` is final.
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
use crate::outcome::AnswerEvidence;
use crate::sip::{Message, Method};
use crate::time::Timestamp;

/// When and how a call was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// When: the 2xx, or the first proof that one was sent.
    pub at: Timestamp,
    /// What showed it.
    pub by: AnswerEvidence,
}

/// What a call being set up remembers until it is answered or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// The `CSeq` of the INVITE that sets the call up (raised by authenticated retries):
    /// final responses and ACKs of older ones are ignored.
    pub invite_cseq: u32,
    /// When an ACK of that INVITE came whose branch could not tell a 2xx's from a
    /// failure's: a BYE after it proves the answer ([`AnswerEvidence::ByeAfterAck`]).
    pub acked_at: Option<Timestamp>,
}

/// Where a call's dialog is (RFC 3261 names; see the module doc for the sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// The INVITE is out, nothing but `100 Trying` (or a challenge) has answered it.
    Calling(Setup),
    /// A provisional 180-199 came back: it rings, or early media plays.
    Early {
        /// The INVITE and its ACK, as in `Calling`.
        setup: Setup,
        /// Whether an 18x carried SDP: media may flow both ways before any answer, so
        /// RTP proves nothing.
        early_media: bool,
    },
    /// Answered: a 2xx, or the evidence of one.
    Confirmed {
        /// When, and what showed it.
        answer: Answer,
    },
    /// Over, for good.
    Terminated {
        /// When it ended.
        ended_at: Timestamp,
        /// How it ended: [`Disposition::Answered`] exactly when it was answered.
        disposition: Disposition,
        /// When and how it was answered, if it ever was.
        answer: Option<Answer>,
    },
}

/// What can move a dialog: a SIP message of the call, or its media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// An INVITE: a retransmission, an authenticated retry or a re-INVITE.
    Invite {
        /// Its `CSeq` number.
        cseq: u32,
    },
    /// A CANCEL: the caller gives up.
    Cancel,
    /// A BYE, or a response to one (the capture missed the request): a hang-up.
    Bye,
    /// A response to an INVITE (of this call: the first, a retry or a re-INVITE).
    InviteResponse {
        /// The status code.
        status: u16,
        /// The `CSeq` number of the INVITE it answers.
        cseq: u32,
        /// Whether it carries SDP (on an 18x: early media).
        sdp: bool,
    },
    /// An ACK with a To tag (it acknowledges a final response).
    Ack {
        /// The `CSeq` number of the INVITE it acknowledges.
        cseq: u32,
        /// Whether its top branch is an RFC 3261 one that none of the call's INVITEs had:
        /// the ACK of a 2xx.
        new_branch: bool,
    },
    /// RTP has now been heard from both sides.
    MediaBothWays,
    /// Anything else: PRACK, INFO, ACKs without a To tag, responses to other requests.
    Other,
}

/// RFC 3261's magic cookie: a branch that starts with it is unique per transaction (§8.1.1.7).
const BRANCH_COOKIE: &str = "z9hG4bK";
/// At most this many INVITE branches are kept (one per hop a capture shows).
const MAX_INVITE_BRANCHES: usize = 8;

/// The top-Via branches of the INVITEs that set the call up (the latest `CSeq`; one per hop
/// a capture taken on a proxy shows): the transactions an ACK of a failure belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InviteBranches {
    /// The `CSeq` number of the INVITEs whose branches are kept.
    cseq: u32,
    /// Their RFC 3261 branches.
    branches: Vec<String>,
}

impl InviteBranches {
    /// Notes the branch of `invite`; an INVITE with a higher `CSeq` replaces the older ones.
    pub fn note(&mut self, invite: &Message) {
        let cseq = invite.cseq().number;
        if cseq > self.cseq {
            self.cseq = cseq;
            self.branches.clear();
        }
        let Some(branch) = invite
            .top_via_branch()
            .filter(|b| b.starts_with(BRANCH_COOKIE))
        else {
            return;
        };
        if cseq == self.cseq
            && self.branches.len() < MAX_INVITE_BRANCHES
            && !self.branches.iter().any(|b| b == branch)
        {
            self.branches.push(branch.to_owned());
        }
    }

    /// The `CSeq` number of the latest INVITE.
    #[must_use]
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// Whether `ack`'s top branch is an RFC 3261 one none of the INVITEs had; `false` when
    /// they had none to compare with.
    fn is_new(&self, ack: &Message) -> bool {
        let branch = ack
            .top_via_branch()
            .filter(|b| b.starts_with(BRANCH_COOKIE));
        !self.branches.is_empty() && branch.is_some_and(|b| !self.branches.iter().any(|i| i == b))
    }
}

impl Signal {
    /// What `message` is to its dialog, whose INVITEs had `branches`.
    #[must_use]
    pub fn of(message: &Message, branches: &InviteBranches) -> Signal {
        let cseq = message.cseq();
        match (message.method(), message.status()) {
            (Some(Method::Invite), _) => Signal::Invite { cseq: cseq.number },
            (Some(Method::Cancel), _) => Signal::Cancel,
            (Some(Method::Bye), _) => Signal::Bye,
            // A response to a BYE (even a challenge) proves the BYE was sent, when the capture
            // missed the request itself.
            (None, Some(_)) if cseq.method == Method::Bye => Signal::Bye,
            (Some(Method::Ack), _) if message.to().is_some_and(|to| to.param("tag").is_some()) => {
                Signal::Ack {
                    cseq: cseq.number,
                    new_branch: branches.is_new(message),
                }
            }
            (None, Some(status)) if cseq.method == Method::Invite => Signal::InviteResponse {
                status,
                cseq: cseq.number,
                sdp: message.sdp().is_some_and(|body| !body.is_empty()),
            },
            _ => Signal::Other,
        }
    }
}

impl DialogState {
    /// A dialog set up by an INVITE with this `CSeq` number.
    #[must_use]
    pub fn calling(invite_cseq: u32) -> DialogState {
        DialogState::Calling(Setup {
            invite_cseq,
            acked_at: None,
        })
    }

    /// The state `signal` leads to at `now`, and what the outside needs to know of it.
    #[must_use]
    pub fn on_signal(self, now: Timestamp, signal: Signal) -> (DialogState, Progress) {
        use DialogState::{Calling, Confirmed, Early, Terminated};
        match (self, signal) {
            (Calling(setup) | Early { setup, .. }, _) => self.setting_up(now, setup, signal),
            // A hang-up.
            (Confirmed { answer }, Signal::Bye) => ended_answered(now, answer),
            // ACK, PRACK, INFO, re-INVITEs and their answers, CANCEL after the answer,
            // anything after the end.
            (Confirmed { .. } | Terminated { .. }, _) => (self, Progress::Nothing),
        }
    }

    /// The state `signal` leads a call still being set up (`Calling` or `Early`) to.
    fn setting_up(self, now: Timestamp, setup: Setup, signal: Signal) -> (DialogState, Progress) {
        let answered = |by| {
            let answer = Answer { at: now, by };
            (DialogState::Confirmed { answer }, Progress::Answered)
        };
        match signal {
            Signal::InviteResponse { status, cseq, sdp } => {
                self.on_response(now, setup, (status, cseq, sdp))
            }
            // An authenticated retry: its final answer counts, and the ACK of the challenge
            // proves nothing about it.
            Signal::Invite { cseq } if cseq > setup.invite_cseq => {
                let setup = Setup {
                    invite_cseq: cseq,
                    acked_at: None,
                };
                (self.with_setup(setup), Progress::Nothing)
            }
            // The ACK of an older INVITE (a challenged one) says nothing.
            Signal::Ack { cseq, .. } if cseq < setup.invite_cseq => (self, Progress::Nothing),
            Signal::Ack {
                new_branch: true, ..
            } => answered(AnswerEvidence::AckFor2xx),
            Signal::Ack { .. } => {
                let acked_at = setup.acked_at.or(Some(now));
                (
                    self.with_setup(Setup { acked_at, ..setup }),
                    Progress::Nothing,
                )
            }
            Signal::MediaBothWays
                if !matches!(
                    self,
                    DialogState::Early {
                        early_media: true,
                        ..
                    }
                ) =>
            {
                answered(AnswerEvidence::MediaBothWays)
            }
            Signal::Bye => match setup.acked_at {
                // After an ACK: the ACK was of a 2xx, which was not seen.
                Some(at) => {
                    let by = AnswerEvidence::ByeAfterAck;
                    ended_answered(now, Answer { at, by })
                }
                // Before any answer: the caller gives up, as with a CANCEL.
                None => unanswered(now, Disposition::Missed),
            },
            // The caller gives up before an answer.
            Signal::Cancel => unanswered(now, Disposition::Missed),
            // Retransmissions, early media both ways, PRACK, INFO.
            Signal::Invite { .. } | Signal::MediaBothWays | Signal::Other => {
                (self, Progress::Nothing)
            }
        }
    }

    /// The state a response (status, `CSeq` number, whether it has SDP) to an INVITE leads a
    /// call being set up to.
    fn on_response(
        self,
        now: Timestamp,
        setup: Setup,
        (status, cseq, sdp): (u16, u32, bool),
    ) -> (DialogState, Progress) {
        match (self, status) {
            // Ringing or early media.
            (DialogState::Calling(_), 180..=199) => {
                let state = DialogState::Early {
                    setup,
                    early_media: sdp,
                };
                (state, Progress::Ringing)
            }
            // A second 18x changes nothing but may bring early media.
            (DialogState::Early { early_media, .. }, 180..=199) => {
                let early_media = early_media || sdp;
                (DialogState::Early { setup, early_media }, Progress::Nothing)
            }
            // The answer to the INVITE (not to a re-INVITE: the call is confirmed by then).
            (_, 200..=299) => {
                let answer = Answer {
                    at: now,
                    by: AnswerEvidence::Ok200,
                };
                (DialogState::Confirmed { answer }, Progress::Answered)
            }
            // A final failure of the INVITE that sets the call up (not of an older one that
            // a challenge made the caller send again); a challenge itself changes nothing.
            (_, 300..=699) if cseq >= setup.invite_cseq => {
                match Disposition::from_final_status(status) {
                    Some(disposition) => unanswered(now, disposition),
                    None => (self, Progress::Nothing),
                }
            }
            // 100 Trying, late answers to challenged INVITEs.
            _ => (self, Progress::Nothing),
        }
    }

    /// The same state (`Calling` or `Early`) with `setup` in place of its own.
    fn with_setup(self, setup: Setup) -> DialogState {
        match self {
            DialogState::Calling(_) => DialogState::Calling(setup),
            DialogState::Early { early_media, .. } => DialogState::Early { setup, early_media },
            DialogState::Confirmed { .. } | DialogState::Terminated { .. } => self,
        }
    }

    /// The state Ringside's own end of the call leads to (a timer, shutdown, the end of a
    /// capture), and the disposition the call ends (or ended) with: an answered call ended
    /// answered, an unanswered one missed when it came in, failed when the phone placed it.
    #[must_use]
    pub fn on_end(self, now: Timestamp, direction: CallDirection) -> (DialogState, Disposition) {
        let (disposition, answer) = match (self, direction) {
            (DialogState::Terminated { disposition, .. }, _) => return (self, disposition),
            (DialogState::Confirmed { answer }, _) => (Disposition::Answered, Some(answer)),
            (_, CallDirection::Inbound) => (Disposition::Missed, None),
            (_, CallDirection::Outbound) => (Disposition::Failed, None),
        };
        let state = DialogState::Terminated {
            ended_at: now,
            disposition,
            answer,
        };
        (state, disposition)
    }

    /// The state a filter's block leads to: a call still `Calling` ends blocked (the phone
    /// never rings); one further on is left alone (`None`).
    #[must_use]
    pub fn on_block(self, now: Timestamp) -> Option<DialogState> {
        matches!(self, DialogState::Calling(_)).then_some(DialogState::Terminated {
            ended_at: now,
            disposition: Disposition::Blocked,
            answer: None,
        })
    }

    /// When and how the call was answered, if it was.
    #[must_use]
    pub fn answer(self) -> Option<Answer> {
        match self {
            DialogState::Confirmed { answer } => Some(answer),
            DialogState::Terminated { answer, .. } => answer,
            DialogState::Calling(_) | DialogState::Early { .. } => None,
        }
    }

    /// When the call was answered, if it was.
    #[must_use]
    pub fn answered_at(self) -> Option<Timestamp> {
        self.answer().map(|answer| answer.at)
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

/// An answered call that ended at `now` (a hang-up), and the news of it.
fn ended_answered(now: Timestamp, answer: Answer) -> (DialogState, Progress) {
    let disposition = Disposition::Answered;
    let state = DialogState::Terminated {
        ended_at: now,
        disposition,
        answer: Some(answer),
    };
    (state, Progress::Ended(disposition))
}

/// A call that ended at `now` without an answer, and the news of it.
fn unanswered(now: Timestamp, disposition: Disposition) -> (DialogState, Progress) {
    let state = DialogState::Terminated {
        ended_at: now,
        disposition,
        answer: None,
    };
    (state, Progress::Ended(disposition))
}
