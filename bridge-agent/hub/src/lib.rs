//! The seam between Ringside's agent and its web console: what the agent tells the console
//! about calls in progress, and what the console asks of the agent.
//!
//! The agent (`ringside run`) owns a [`LiveHub`] and feeds it from its packet path as calls
//! start, are answered and end, from its sink once a call or a voicemail report is stored,
//! and from its recovery when it survived a panic of its engine; it copies a call's audio to
//! the hub while someone listens. The console holds a clone: it reads the calls in progress,
//! subscribes to their [`LiveEvent`]s and to the audio, and sends [`Command`]s back, which the
//! agent takes from the receiver [`LiveHub::new`] returned.
//!
//! # Layout
//!
//! It is a crate of its own so that neither side depends on the other for it: the daemon does
//! not link the console's HTTP stack for its own plumbing, and the console serves a hub it did
//! not build. The data types live here beside the channels that carry them (they are the
//! seam's vocabulary and nobody else's); what a call in progress shares with the call log is
//! in `ringside-core`. Only tokio's `sync` channels are used: the hub needs no runtime.
//!
//! - [`LiveCall`], [`LiveEvent`], [`Stored`], [`Faults`]: what the console is told.
//! - [`Command`]: what it asks.
//! - [`AudioChunk`]: a call's mixed audio, for live listeners.
//! - [`LiveHub`]: the shared state and the channels.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver, SendError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use tokio::sync::broadcast;

mod model;

pub use model::{AudioChunk, Command, Faults, LiveCall, LiveEvent, Stored};

/// Events a slow page may fall behind by before it skips some (the list endpoint has the
/// truth).
const EVENT_BACKLOG: usize = 256;
/// Audio chunks a slow listener may fall behind by (at one chunk per 20-512 ms).
const AUDIO_BACKLOG: usize = 64;

/// The live state the agent shares with the console; clones share it.
#[derive(Debug, Clone)]
pub struct LiveHub {
    calls: Arc<Mutex<BTreeMap<u64, LiveCall>>>,
    events: broadcast::Sender<LiveEvent>,
    audio: broadcast::Sender<Arc<AudioChunk>>,
    commands: Sender<Command>,
    faults: Arc<Mutex<Faults>>,
}

impl LiveHub {
    /// A hub, and the receiving end of the console's commands (for the agent).
    #[must_use]
    pub fn new() -> (LiveHub, Receiver<Command>) {
        let (commands, receiver) = channel();
        let hub = LiveHub {
            calls: Arc::default(),
            events: broadcast::channel(EVENT_BACKLOG).0,
            audio: broadcast::channel(AUDIO_BACKLOG).0,
            commands,
            faults: Arc::default(),
        };
        (hub, receiver)
    }

    fn table(&self) -> MutexGuard<'_, BTreeMap<u64, LiveCall>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, event: LiveEvent) {
        // No subscriber is fine: nobody has the page open.
        let _ = self.events.send(event);
    }

    /// Changes call `key` in place and publishes it as `event`, if it is in progress.
    fn update(
        &self,
        key: u64,
        change: impl FnOnce(&mut LiveCall),
        event: fn(LiveCall) -> LiveEvent,
    ) {
        let call = self.table().get_mut(&key).map(|call| {
            change(call);
            call.clone()
        });
        if let Some(call) = call {
            self.publish(event(call));
        }
    }

    /// A call began.
    pub fn started(&self, call: LiveCall) {
        self.table().insert(call.key, call.clone());
        self.publish(LiveEvent::Started { call });
    }

    /// Call `key` was answered, at `at`.
    pub fn answered(&self, key: u64, at: OffsetDateTime) {
        self.update(
            key,
            |live| live.call.answered_at = Some(at),
            |call| LiveEvent::Answered { call },
        );
    }

    /// Recording of call `key` was turned on or off.
    pub fn recording(&self, key: u64, on: bool) {
        self.update(
            key,
            |call| call.recording = on,
            |call| LiveEvent::Recording { call },
        );
    }

    /// Call `key` ended.
    pub fn ended(&self, key: u64) {
        let call = self.table().remove(&key);
        if let Some(call) = call {
            self.publish(LiveEvent::Ended { call });
        }
    }

    /// Something reached the store (sent after it is written, unlike the call events, which
    /// come from the packet path before the disk has them).
    pub fn stored(&self, what: Stored) {
        self.publish(what.into());
    }

    /// The agent survived a panic of its engine: `what` happened at `at`.
    pub fn fault(&self, what: String, at: OffsetDateTime) {
        {
            let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
            faults.count += 1;
            faults.last = Some(what);
            faults.last_at = Some(at);
        }
        self.publish(LiveEvent::Fault);
    }

    /// The panics survived so far.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The calls in progress, oldest first.
    #[must_use]
    pub fn calls(&self) -> Vec<LiveCall> {
        self.table().values().cloned().collect()
    }

    /// Whether call `key` is in progress.
    #[must_use]
    pub fn in_progress(&self, key: u64) -> bool {
        self.table().contains_key(&key)
    }

    /// The events from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }

    /// Whether anyone listens live (the agent copies audio only then).
    #[must_use]
    pub fn listening(&self) -> bool {
        self.audio.receiver_count() > 0
    }

    /// Audio of call `call`, for live listeners.
    pub fn audio(&self, call: u64, frames: Vec<[i16; 2]>) {
        let _ = self.audio.send(Arc::new(AudioChunk { call, frames }));
    }

    /// Every call's audio from now on (a listener keeps the chunks of its call).
    #[must_use]
    pub fn listen(&self) -> broadcast::Receiver<Arc<AudioChunk>> {
        self.audio.subscribe()
    }

    /// Asks the agent for `command` (it applies it within a quarter of a second); an error
    /// when the agent no longer takes commands.
    pub fn command(&self, command: Command) -> Result<(), SendError<Command>> {
        self.commands.send(command)
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::call::CallDirection;
    use ringside_core::call_view::{CallView, Party};
    use ringside_core::rfc3339;

    use super::*;

    fn call(key: u64) -> LiveCall {
        LiveCall {
            key,
            call: CallView {
                call_id: format!("c{key}@example"),
                direction: CallDirection::Outbound,
                direction_source: None,
                party: Party::default(),
                started_at: rfc3339::parse("2026-11-22T10:00:00Z").expect("time"),
                answered_at: None,
            },
            recording: true,
        }
    }

    #[test]
    fn a_call_is_listed_from_its_start_to_its_end_and_each_change_is_published() {
        let (hub, _commands) = LiveHub::new();
        let mut events = hub.subscribe();
        hub.started(call(1));
        let at = rfc3339::parse("2026-11-22T10:00:05Z").expect("time");
        hub.answered(1, at);
        hub.recording(1, false);
        hub.answered(2, at);
        assert!(hub.in_progress(1) && !hub.in_progress(2));
        assert_eq!(hub.calls()[0].call.answered_at, Some(at));
        hub.ended(1);
        hub.stored(Stored::CallLogged);
        assert!(hub.calls().is_empty());
        let mut kinds = Vec::new();
        while let Ok(event) = events.try_recv() {
            kinds.push(match event {
                LiveEvent::Started { .. } => "started",
                LiveEvent::Answered { call } => {
                    assert_eq!(call.call.answered_at, Some(at));
                    "answered"
                }
                LiveEvent::Recording { call } => {
                    assert!(!call.recording);
                    "recording"
                }
                LiveEvent::Ended { .. } => "ended",
                LiveEvent::Logged => "logged",
                LiveEvent::Voicemail | LiveEvent::Fault => "other",
            });
        }
        assert_eq!(
            kinds,
            ["started", "answered", "recording", "ended", "logged"],
            "nothing for a call not in progress"
        );
    }

    #[test]
    fn audio_reaches_listeners_and_commands_reach_the_agent() {
        let (hub, commands) = LiveHub::new();
        assert!(!hub.listening());
        let mut audio = hub.listen();
        assert!(hub.listening());
        hub.audio(3, vec![[1, -1]]);
        let chunk = audio.try_recv().expect("a chunk");
        assert_eq!(
            (chunk.call, chunk.frames.as_slice()),
            (3, [[1, -1]].as_slice())
        );
        hub.command(Command::SetRecording { key: 3, on: false })
            .expect("the agent listens");
        assert_eq!(
            commands.try_recv(),
            Ok(Command::SetRecording { key: 3, on: false })
        );
        drop(commands);
        assert!(hub
            .command(Command::SetRecording { key: 3, on: true })
            .is_err());
    }

    #[test]
    fn faults_are_counted_with_the_last_one() {
        let (hub, _commands) = LiveHub::new();
        let at = rfc3339::parse("2026-11-28T12:00:00Z").expect("time");
        hub.fault("first".into(), at);
        hub.fault("second".into(), at);
        let faults = hub.faults();
        assert_eq!((faults.count, faults.last.as_deref()), (2, Some("second")));
        assert_eq!(faults.last_at, Some(at));
    }
}
