//! The seam's vocabulary: a call in progress as the page shows it, the events the console
//! relays to its pages (serialised as they are sent: `{"type": "started", "call": {..}}`),
//! the console's commands, live audio and the agent's survived panics.

use ringside_core::call_view::CallView;
use ringside_core::rfc3339;
use serde::Serialize;
use time::OffsetDateTime;

/// A call in progress, as the page shows it: the fields it shares with the call log
/// (flattened into the same JSON), its handle, and whether it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveCall {
    /// The agent's handle for the call (not the call log's id, which the disk assigns later).
    pub key: u64,
    /// Who, which way, when (`display`: the phonebook's name, which the console fills in
    /// when it lists the calls).
    #[serde(flatten)]
    pub call: CallView,
    /// Whether it is being recorded.
    pub recording: bool,
}

/// A change the console's pages follow (`GET /api/live/events`), by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LiveEvent {
    /// A call began.
    Started {
        /// The call as it began.
        call: LiveCall,
    },
    /// A call was answered.
    Answered {
        /// The call, with its answer time.
        call: LiveCall,
    },
    /// Recording of a call was turned on or off.
    Recording {
        /// The call, recorded or not.
        call: LiveCall,
    },
    /// A call ended (its row reaches the call log a moment later: [`LiveEvent::Logged`]).
    Ended {
        /// The call as it was last seen.
        call: LiveCall,
    },
    /// A call's row is complete in the call log: pages reload it.
    Logged,
    /// The provider's voicemail report changed: pages reload it.
    Voicemail,
    /// The agent survived a panic of its engine (the details are in [`Faults`]).
    Fault,
}

/// What the agent has just written to the store, so that open pages reload it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A call's row is complete in the call log (it ended).
    CallLogged,
    /// The provider's voicemail report changed.
    Voicemail,
}

impl From<Stored> for LiveEvent {
    fn from(stored: Stored) -> LiveEvent {
        match stored {
            Stored::CallLogged => LiveEvent::Logged,
            Stored::Voicemail => LiveEvent::Voicemail,
        }
    }
}

/// What the console asks of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Record the call from now on, or stop.
    SetRecording {
        /// The call in progress ([`LiveCall::key`]).
        key: u64,
        /// Record from now on (`true`) or stop (`false`).
        on: bool,
    },
}

/// Mixed stereo audio of one call, as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioChunk {
    /// The call in progress ([`LiveCall::key`]) it is the audio of.
    pub call: u64,
    /// `[remote, phone]` frames at 8 kHz.
    pub frames: Vec<[i16; 2]>,
}

/// Panics of the engine the agent survived since it started, for the page's warning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Faults {
    /// How many.
    pub count: u64,
    /// What the last one was (its message and the call it ended).
    pub last: Option<String>,
    /// When.
    #[serde(with = "rfc3339::option")]
    pub last_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use ringside_core::call::CallDirection;
    use ringside_core::call_view::Party;

    use super::*;

    /// The page reads `type` and, for call events, `call`: the same JSON as before the
    /// events were typed.
    #[test]
    fn events_serialise_as_the_page_reads_them() {
        let call = LiveCall {
            key: 7,
            call: CallView {
                call_id: "c7@example".into(),
                direction: CallDirection::Inbound,
                direction_source: None,
                party: Party::default(),
                started_at: rfc3339::parse("2026-11-22T10:00:00Z").expect("time"),
                answered_at: None,
            },
            recording: false,
        };
        let json = |event: LiveEvent| serde_json::to_value(event).expect("JSON");
        let started = json(LiveEvent::Started { call: call.clone() });
        assert_eq!(started["type"], "started");
        assert_eq!(started["call"]["key"], 7);
        assert_eq!(started["call"]["direction"], "inbound");
        assert_eq!(started["call"]["call_id"], "c7@example", "flat, as before");
        assert_eq!(started["call"]["started_at"], "2026-11-22T10:00:00.000000Z");
        assert_eq!(started["call"]["answered_at"], serde_json::Value::Null);
        assert_eq!(
            json(Stored::CallLogged.into()),
            serde_json::json!({ "type": "logged" })
        );
        assert_eq!(
            json(Stored::Voicemail.into()),
            serde_json::json!({ "type": "voicemail" })
        );
        assert_eq!(
            json(LiveEvent::Fault),
            serde_json::json!({ "type": "fault" })
        );
    }
}
