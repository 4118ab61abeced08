//! The client's state: announcements in, effects out (`App::update(input) -> Vec<Effect>`),
//! with no sockets, windows or processes inside, so every rule is tested on its own.
//!
//! Rules: one popup per call, even when announcements repeat or arrive over both IPv4 and
//! IPv6; a call's popup is replaced (never stacked) as its state moves on, ringing →
//! answered or missed, and ended; with a shared secret,
//! datagrams without a valid HMAC, far from this computer's clock or seen before are refused
//! (the first two logged). Caller text is data: names and numbers are escaped
//! (`ringside_core::text`) in popups, printed lines and `--exec` variables, so a caller can
//! neither act on a terminal nor forge a line or a variable.

use std::collections::{HashMap, VecDeque};

use ringside_core::announce::{self, Announcement, DecodeError, EventKind, ReplayGuard};
use ringside_core::call::CallDirection;
use ringside_core::caller_id::Presentation;
use ringside_core::text::{escape, Escaped};

use crate::format::readable_number;
use crate::lines::{environment, print_line, who};

/// How many calls the client remembers for deduplication.
const REMEMBERED_CALLS: usize = 256;

/// What the client is told to do by its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The shared secret; announcements must carry its HMAC when set.
    pub secret: Option<String>,
    /// Also pop up the phone's own outgoing calls.
    pub outbound: bool,
    /// Print one line per event (`--print`).
    pub print: bool,
    /// Run this program (and arguments) per event, with the caller-ID in the environment.
    pub exec: Option<Vec<String>>,
    /// The web console's address, for the "Open console" action.
    pub console_url: Option<String>,
}

/// What happens to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A datagram arrived on the announcement port.
    Datagram {
        /// Its bytes.
        bytes: Vec<u8>,
        /// When it arrived, in milliseconds since the Unix epoch (this computer's clock).
        unix_ms: u64,
    },
}

/// A popup's look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    /// The call it belongs to: a later popup of the same call replaces it.
    pub call: String,
    /// The big line: the name to show (phonebook, else signalled, else the number).
    pub summary: String,
    /// The smaller lines: the number for reading, and what happened.
    pub body: String,
    /// Whether it asks for attention (a ringing phone) or informs (missed, answered).
    pub urgent: bool,
    /// Actions to offer, when the desktop supports them.
    pub actions: Vec<PopupAction>,
}

/// A button on a popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PopupAction {
    /// Open the call in the web console at this address.
    OpenConsole(String),
    /// Add a block filter for exactly this number through the console's API.
    Block {
        /// The console's address.
        console_url: String,
        /// The caller's number.
        number: String,
    },
}

/// What the shell around the app must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Show (or replace) the call's popup.
    Show(Popup),
    /// Write a line to standard output.
    Print(String),
    /// Run a program directly (never through a shell), with extra environment variables
    /// (escaped like printed lines: one variable per value, whatever the caller sent).
    Exec {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// `RINGSIDE_*` variables.
        env: Vec<(String, String)>,
    },
    /// Something to log.
    Warn(String),
}

/// The client's state.
#[derive(Debug, Default)]
pub struct App {
    settings: Settings,
    calls: HashMap<String, EventKind>,
    order: VecDeque<String>,
    replays: ReplayGuard,
    /// Announcements refused so far (said in the log at 1, 2, 4, 8, ...: a LAN host sending
    /// junk cannot flood the log).
    refused: u64,
}

impl App {
    /// A client with these settings.
    #[must_use]
    pub fn new(settings: Settings) -> App {
        App {
            settings,
            ..App::default()
        }
    }

    /// Takes an input; returns what to do, in order.
    pub fn update(&mut self, input: Input) -> Vec<Effect> {
        let Input::Datagram { bytes, unix_ms } = input;
        let announcement = match self.open(&bytes, unix_ms) {
            Ok(announcement) => announcement,
            // Another program's datagram; or the same one over IPv4 and IPv6 (or a replay).
            Err(DecodeError::NotRingside | DecodeError::Replayed) => return Vec::new(),
            Err(error) => {
                self.refused += 1;
                if !self.refused.is_power_of_two() {
                    return Vec::new();
                }
                let error = error.to_string();
                return vec![Effect::Warn(format!(
                    "ignored an announcement: {} ({} ignored so far)",
                    Escaped(&error),
                    self.refused
                ))];
            }
        };
        if !self.is_news(&announcement) {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if self.settings.print {
            effects.push(Effect::Print(print_line(&announcement)));
        }
        if let Some(command) = &self.settings.exec {
            if let Some((program, args)) = command.split_first() {
                effects.push(Effect::Exec {
                    program: program.clone(),
                    args: args.to_vec(),
                    env: environment(&announcement),
                });
            }
        }
        if announcement.direction == CallDirection::Inbound || self.settings.outbound {
            effects.push(self.popup(&announcement));
        }
        effects
    }

    /// Reads a datagram; with a secret, only a signed one that is fresh and new.
    fn open(&mut self, bytes: &[u8], unix_ms: u64) -> Result<Announcement, DecodeError> {
        let secret = self.settings.secret.as_deref().map(str::as_bytes);
        let opened = announce::open(bytes, secret)?;
        if secret.is_some() {
            let stamp = opened.stamp.ok_or(DecodeError::Unstamped)?;
            self.replays.check(&stamp, unix_ms)?;
        }
        Ok(opened.announcement)
    }

    /// Whether the announcement moves its call on (not a repeat, not an older state that
    /// arrived late over the other IP family).
    fn is_news(&mut self, announcement: &Announcement) -> bool {
        if announcement.event == EventKind::Voicemail {
            return true;
        }
        let rank = |event: EventKind| match event {
            EventKind::Ring => 0,
            EventKind::Answered => 1,
            EventKind::Missed | EventKind::Ended | EventKind::Voicemail => 2,
        };
        match self.calls.get(&announcement.call) {
            Some(&seen) if rank(seen) >= rank(announcement.event) => false,
            Some(_) => {
                self.calls
                    .insert(announcement.call.clone(), announcement.event);
                true
            }
            None => {
                if self.order.len() == REMEMBERED_CALLS {
                    if let Some(oldest) = self.order.pop_front() {
                        self.calls.remove(&oldest);
                    }
                }
                self.order.push_back(announcement.call.clone());
                self.calls
                    .insert(announcement.call.clone(), announcement.event);
                true
            }
        }
    }

    fn popup(&self, a: &Announcement) -> Effect {
        let who = escape(&who(a));
        let number = match (&a.party.number, a.party.presentation) {
            (Some(n), _) => escape(&readable_number(n)),
            (None, Presentation::Unknown) => "Number unknown".to_owned(),
            (None, _) => "Number withheld".to_owned(),
        };
        let (what, urgent) = match (a.event, a.direction) {
            (EventKind::Ring, CallDirection::Inbound) => ("Incoming call", true),
            (EventKind::Ring, CallDirection::Outbound) => ("Calling", false),
            (EventKind::Answered, _) => ("Answered", false),
            (EventKind::Missed, _) => ("Missed call", true),
            (EventKind::Ended, _) => ("Call ended", false),
            (EventKind::Voicemail, _) => {
                let waiting = a.messages_waiting.unwrap_or(0);
                let body = match waiting {
                    0 => "No messages waiting".to_owned(),
                    1 => "1 message waiting".to_owned(),
                    n => format!("{n} messages waiting"),
                };
                return Effect::Show(Popup {
                    call: a.call.clone(),
                    summary: "Voicemail".into(),
                    body,
                    urgent: waiting > 0,
                    actions: Vec::new(),
                });
            }
        };
        let mut actions = Vec::new();
        if let Some(url) = &self.settings.console_url {
            let url = url.trim_end_matches('/');
            actions.push(PopupAction::OpenConsole(format!("{url}/#calls")));
            // Blocking a caller makes sense while it rings or after it was missed.
            let blockable = matches!(a.event, EventKind::Ring | EventKind::Missed)
                && a.direction == CallDirection::Inbound;
            if let (true, Some(number)) = (blockable, &a.party.number) {
                actions.push(PopupAction::Block {
                    console_url: url.to_owned(),
                    number: number.clone(),
                });
            }
        }
        Effect::Show(Popup {
            call: a.call.clone(),
            summary: who,
            body: format!("{number}\n{what}"),
            urgent,
            actions,
        })
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::call_view::Party;

    use super::*;

    fn announcement(call: &str, event: EventKind) -> Announcement {
        Announcement {
            event,
            call: call.into(),
            direction: CallDirection::Inbound,
            party: Party {
                number: Some("15550100001".into()),
                name: Some("WIRELESS CALLER".into()),
                display: Some("Mom".into()),
                presentation: ringside_core::caller_id::Presentation::Number,
            },
            line: None,
            time: ringside_core::rfc3339::parse("2026-11-22T10:00:00.000000Z").expect("time"),
            disposition: None,
            messages_waiting: None,
        }
    }

    const NOW: u64 = 1_795_000_000_000;

    fn datagram(a: &Announcement, secret: Option<&str>) -> Input {
        signed_at(
            a,
            secret,
            NOW,
            NONCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Every datagram of the tests gets a nonce of its own (tests run in parallel).
    static NONCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);

    fn signed_at(a: &Announcement, secret: Option<&str>, sent_at_ms: u64, nonce: u64) -> Input {
        let mut bytes = [0; announce::NONCE_LEN];
        bytes[..8].copy_from_slice(&nonce.to_be_bytes());
        let signer = secret.map(|secret| announce::Signer {
            secret: secret.as_bytes(),
            stamp: announce::Stamp {
                sent_at_ms,
                nonce: bytes,
            },
        });
        Input::Datagram {
            bytes: announce::encode(a, signer.as_ref()),
            unix_ms: NOW,
        }
    }

    fn shown(effects: &[Effect]) -> Vec<&Popup> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Show(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_popup_per_call_even_over_both_ip_families() {
        let mut app = App::new(Settings::default());
        let ring = announcement("c1", EventKind::Ring);
        let first = app.update(datagram(&ring, None));
        let popups = shown(&first);
        assert_eq!(popups.len(), 1);
        assert_eq!(popups[0].summary, "Mom");
        assert_eq!(popups[0].body, "+1 (555) 010-0001\nIncoming call");
        assert!(popups[0].urgent);
        assert!(
            app.update(datagram(&ring, None)).is_empty(),
            "the IPv6 copy"
        );
        let other = app.update(datagram(&announcement("c2", EventKind::Ring), None));
        assert_eq!(shown(&other).len(), 1, "another call pops up");
    }

    #[test]
    fn the_popup_is_replaced_as_the_call_moves_on_to_its_end() {
        let mut app = App::new(Settings::default());
        app.update(datagram(&announcement("c1", EventKind::Ring), None));
        let answered = app.update(datagram(&announcement("c1", EventKind::Answered), None));
        let popup = shown(&answered)[0];
        assert_eq!(popup.call, "c1", "same call: the shell replaces the popup");
        assert!(popup.body.ends_with("Answered"));
        assert!(!popup.urgent);
        let late_ring = app.update(datagram(&announcement("c1", EventKind::Ring), None));
        assert!(
            late_ring.is_empty(),
            "an older state arriving late changes nothing"
        );
        let ended = app.update(datagram(&announcement("c1", EventKind::Ended), None));
        let popup = shown(&ended)[0];
        assert_eq!((popup.call.as_str(), popup.summary.as_str()), ("c1", "Mom"));
        assert!(popup.body.ends_with("Call ended"));
    }

    #[test]
    fn a_ringing_call_that_ends_unanswered_becomes_a_missed_call_popup() {
        let mut app = App::new(Settings::default());
        app.update(datagram(&announcement("c1", EventKind::Ring), None));
        let mut missed = announcement("c1", EventKind::Missed);
        missed.party.presentation = Presentation::Withheld;
        missed.party.number = None;
        missed.party.display = Some("Anonymous".into());
        let effects = app.update(datagram(&missed, None));
        let popup = shown(&effects)[0];
        assert_eq!(popup.summary, "Withheld");
        assert_eq!(popup.body, "Number withheld\nMissed call");
        assert!(app.update(datagram(&missed, None)).is_empty());
    }

    /// A caller with no number who hid nothing is not "withheld": the network did not say.
    #[test]
    fn an_unknown_caller_pops_up_as_unknown_not_withheld() {
        let mut app = App::new(Settings::default());
        let mut ring = announcement("c9", EventKind::Ring);
        ring.party.presentation = Presentation::Unknown;
        ring.party.number = None;
        ring.party.name = None;
        ring.party.display = None;
        let effects = app.update(datagram(&ring, None));
        let popup = shown(&effects)[0];
        assert_eq!(popup.summary, "Unknown caller");
        assert_eq!(popup.body, "Number unknown\nIncoming call");
        let mut printing = App::new(Settings {
            print: true,
            ..Settings::default()
        });
        let effects = printing.update(datagram(&ring, None));
        assert_eq!(
            effects[0],
            Effect::Print("Unknown caller\tunknown\tring".into()),
            "--print names why there is no number"
        );
    }

    #[test]
    fn with_a_secret_unsigned_and_forged_announcements_are_refused_and_logged() {
        let mut app = App::new(Settings {
            secret: Some("kitchen-table-secret".into()),
            ..Settings::default()
        });
        let ring = announcement("c1", EventKind::Ring);
        let unsigned = app.update(datagram(&ring, None));
        assert!(matches!(unsigned.as_slice(), [Effect::Warn(w)] if w.contains("not signed")));
        let forged = app.update(datagram(&ring, Some("guessed-wrong-secret")));
        assert!(matches!(forged.as_slice(), [Effect::Warn(w)] if w.contains("signature")));
        let good = app.update(datagram(&ring, Some("kitchen-table-secret")));
        assert_eq!(shown(&good).len(), 1);
        assert!(app
            .update(Input::Datagram {
                bytes: b"not ours".to_vec(),
                unix_ms: NOW
            })
            .is_empty());
        let warnings = (0..1000)
            .filter(|_| !app.update(datagram(&ring, None)).is_empty())
            .count();
        assert_eq!(
            warnings, 8,
            "a flood of forgeries is logged at 4, 8, ... 512"
        );
    }

    /// The bug: signed announcements had no time or nonce, so one recorded on the LAN popped
    /// up again whenever it was sent again. Stale ones are refused and logged; a fresh copy of
    /// one already seen (the client forgot its call long ago) is refused too.
    #[test]
    fn with_a_secret_stale_and_replayed_announcements_are_refused() {
        let mut app = App::new(Settings {
            secret: Some("kitchen-table-secret".into()),
            ..Settings::default()
        });
        let ring = announcement("c1", EventKind::Ring);
        let stale = app.update(signed_at(
            &ring,
            Some("kitchen-table-secret"),
            NOW - 60_000,
            200,
        ));
        assert!(
            matches!(stale.as_slice(), [Effect::Warn(w)] if w.contains("clock")),
            "{stale:?}"
        );
        let recorded = signed_at(&ring, Some("kitchen-table-secret"), NOW - 1_000, 201);
        assert_eq!(shown(&app.update(recorded.clone())).len(), 1);
        for i in 0..REMEMBERED_CALLS {
            app.update(datagram(
                &announcement(&format!("other-{i}"), EventKind::Ring),
                Some("kitchen-table-secret"),
            ));
        }
        assert!(!app.calls.contains_key("c1"), "c1 is forgotten");
        assert!(app.update(recorded).is_empty(), "its nonce is not");
    }

    #[test]
    fn caller_text_is_escaped_in_popups_printed_lines_and_variables() {
        let mut app = App::new(Settings {
            print: true,
            exec: Some(vec!["/bin/true".into()]),
            ..Settings::default()
        });
        let mut ring = announcement("c1", EventKind::Ring);
        ring.party.display = Some("Evil\tCorp\n\x1b[2J\u{202e}gnp".into());
        ring.party.number = Some("1555\n0100".into());
        let effects = app.update(datagram(&ring, None));
        assert_eq!(
            effects[0],
            Effect::Print("Evil\\tCorp\\n\\x1b[2J\\u{202e}gnp\t1555\\n0100\tring".into())
        );
        let Effect::Exec { env, .. } = &effects[1] else {
            panic!("an exec: {effects:?}")
        };
        assert!(env.contains(&("RINGSIDE_NUMBER".into(), "1555\\n0100".into())));
        let popup = shown(&effects)[0];
        assert_eq!(popup.summary, "Evil\\tCorp\\n\\x1b[2J\\u{202e}gnp");
        assert_eq!(popup.body, "1555\\n0100\nIncoming call");
    }

    #[test]
    fn print_and_exec_carry_the_caller_id_without_a_shell() {
        let mut app = App::new(Settings {
            print: true,
            exec: Some(vec!["/usr/bin/logger".into(), "-t".into(), "phone".into()]),
            console_url: Some("http://bridge:8080/".into()),
            ..Settings::default()
        });
        let effects = app.update(datagram(&announcement("c1", EventKind::Ring), None));
        assert_eq!(effects[0], Effect::Print("Mom\t15550100001\tring".into()));
        let Effect::Exec { program, args, env } = &effects[1] else {
            panic!("an exec: {effects:?}")
        };
        assert_eq!(program, "/usr/bin/logger");
        assert_eq!(args, &["-t", "phone"]);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("RINGSIDE_NUMBER"), Some("15550100001"));
        assert_eq!(get("RINGSIDE_DISPLAY"), Some("Mom"));
        assert_eq!(get("RINGSIDE_NAME"), Some("WIRELESS CALLER"));
        assert_eq!(get("RINGSIDE_EVENT"), Some("ring"));
        assert_eq!(get("RINGSIDE_ANONYMOUS"), Some("false"));
        assert_eq!(get("RINGSIDE_PRESENTATION"), Some("number"));
        assert_eq!(
            shown(&effects)[0].actions,
            vec![
                PopupAction::OpenConsole("http://bridge:8080/#calls".into()),
                PopupAction::Block {
                    console_url: "http://bridge:8080".into(),
                    number: "15550100001".into()
                }
            ]
        );
        let answered = app.update(datagram(&announcement("c1", EventKind::Answered), None));
        assert_eq!(
            shown(&answered)[0].actions.len(),
            1,
            "no Block once answered"
        );
    }

    #[test]
    fn outbound_calls_pop_up_only_when_asked_and_voicemail_always() {
        let mut app = App::new(Settings::default());
        let mut dial = announcement("out", EventKind::Ring);
        dial.direction = CallDirection::Outbound;
        assert!(app.update(datagram(&dial, None)).is_empty());
        let mut voicemail = announcement("vm", EventKind::Voicemail);
        voicemail.messages_waiting = Some(2);
        let effects = app.update(datagram(&voicemail, None));
        assert_eq!(shown(&effects)[0].body, "2 messages waiting");
        let mut app = App::new(Settings {
            outbound: true,
            ..Settings::default()
        });
        assert_eq!(
            shown(&app.update(datagram(&dial, None)))[0].body,
            "+1 (555) 010-0001\nCalling"
        );
    }

    #[test]
    fn the_client_remembers_a_bounded_number_of_calls() {
        let mut app = App::new(Settings::default());
        for i in 0..(REMEMBERED_CALLS + 50) {
            app.update(datagram(
                &announcement(&format!("c{i}"), EventKind::Ring),
                None,
            ));
        }
        assert_eq!(app.calls.len(), REMEMBERED_CALLS);
    }
}
