//! Calls in progress, live: the agent (`ringside run`) feeds a [`LiveHub`] as calls start,
//! are answered and end; the page reads the current list (`GET /api/live/calls`) and follows
//! changes as server-sent events (`GET /api/live/events`), and turns recording of one call on
//! or off (`POST /api/live/calls/{key}/recording`), a command the agent applies within a
//! quarter of a second; "Listen live" is a WebSocket (`/api/live/calls/{key}/audio`) of the
//! call's mixed audio in 20 ms messages, as it is recorded (so a call not being recorded
//! cannot be heard). Once the agent has written an ended call or a voicemail report, the
//! event stream says so too (`logged`, `voicemail`), so that pages reload what is stored.
//! A console over a data directory alone has no hub: the list is empty. When the agent
//! survives a panic of its engine, it tells the hub ([`LiveHub::fault`]): `GET /api/session`
//! carries the count and the last one (`faults`), the event stream says `fault`, and the
//! page shows a warning until the agent restarts.
//!
//! Both streams check every [`RECHECK`] that what let them in still holds (the same password,
//! the session still open; see [`Grant`]) and end when it does not, so a password changed or
//! removed also cuts off a page already listening.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use axum::Json;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::auth::Grant;
use crate::error::AppError;
use crate::ConsoleState;

/// How often a live stream checks that its client may still have it.
pub const RECHECK: Duration = Duration::from_secs(1);

/// A call in progress, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveCall {
    /// The agent's handle for the call (not the call log's id, which the disk assigns later).
    pub key: u64,
    /// SIP Call-ID.
    pub call_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The other party's number; `None` when withheld.
    pub number: Option<String>,
    /// The name the network gave.
    pub name: Option<String>,
    /// The phonebook's name for the number; the console fills it in when it lists the calls.
    pub display: Option<String>,
    /// Whether the caller withheld their identity.
    pub anonymous: bool,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, once answered.
    pub answered_at: Option<String>,
    /// Whether it is being recorded.
    pub recording: bool,
}

/// What the agent has just written to the store, so that open pages reload it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A call's row is complete in the call log (it ended).
    CallLogged,
    /// The provider's voicemail report changed.
    Voicemail,
}

impl Stored {
    /// The event's `type` on the page's event stream.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Stored::CallLogged => "logged",
            Stored::Voicemail => "voicemail",
        }
    }
}

/// What the console asks of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Record the call from now on, or stop.
    SetRecording {
        /// The call.
        key: u64,
        /// Record or not.
        on: bool,
    },
}

/// Mixed stereo audio of one call: the call's key and `[remote, phone]` frames at 8 kHz.
pub type AudioChunk = Arc<(u64, Vec<[i16; 2]>)>;

/// The live state the agent shares with the console.
#[derive(Debug, Clone)]
pub struct LiveHub {
    calls: Arc<Mutex<BTreeMap<u64, LiveCall>>>,
    events: broadcast::Sender<String>,
    audio: broadcast::Sender<AudioChunk>,
    commands: Sender<Command>,
    faults: Arc<Mutex<Faults>>,
}

/// Panics of the engine the agent survived since it started, for the page's warning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Faults {
    /// How many.
    pub count: u64,
    /// What the last one was (its message and the call it ended).
    pub last: Option<String>,
    /// When (RFC 3339).
    pub last_at: Option<String>,
}

impl LiveHub {
    /// A hub, and the receiving end of the console's commands (for the agent).
    #[must_use]
    pub fn new() -> (LiveHub, Receiver<Command>) {
        let (commands, receiver) = channel();
        let hub = LiveHub {
            calls: Arc::default(),
            events: broadcast::channel(256).0,
            audio: broadcast::channel(64).0,
            commands,
            faults: Arc::default(),
        };
        (hub, receiver)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, LiveCall>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, kind: &str, call: &LiveCall) {
        let message = serde_json::json!({ "type": kind, "call": call }).to_string();
        // No subscriber is fine: nobody has the page open.
        let _ = self.events.send(message);
    }

    /// A call began.
    pub fn started(&self, call: LiveCall) {
        self.publish("started", &call);
        self.table().insert(call.key, call);
    }

    /// A call was answered at `at` (RFC 3339).
    pub fn answered(&self, key: u64, at: String) {
        let call = self.table().get_mut(&key).map(|call| {
            call.answered_at = Some(at);
            call.clone()
        });
        if let Some(call) = call {
            self.publish("answered", &call);
        }
    }

    /// Recording of a call was turned on or off.
    pub fn recording(&self, key: u64, on: bool) {
        let call = self.table().get_mut(&key).map(|call| {
            call.recording = on;
            call.clone()
        });
        if let Some(call) = call {
            self.publish("recording", &call);
        }
    }

    /// A call ended.
    pub fn ended(&self, key: u64) {
        let call = self.table().remove(&key);
        if let Some(call) = call {
            self.publish("ended", &call);
        }
    }

    /// Something reached the store (sent after it is written, unlike the call events, which
    /// come from the packet path before the disk has them).
    pub fn stored(&self, what: Stored) {
        let message = serde_json::json!({ "type": what.as_str() }).to_string();
        let _ = self.events.send(message);
    }

    /// Whether anyone listens live (the agent copies audio only then).
    #[must_use]
    pub fn listening(&self) -> bool {
        self.audio.receiver_count() > 0
    }

    /// Audio of a call, for live listeners.
    pub fn audio(&self, key: u64, frames: Vec<[i16; 2]>) {
        let _ = self.audio.send(Arc::new((key, frames)));
    }

    /// The agent survived a panic of its engine: `what` happened at `at` (RFC 3339).
    pub fn fault(&self, what: String, at: String) {
        {
            let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
            faults.count += 1;
            faults.last = Some(what);
            faults.last_at = Some(at);
        }
        let _ = self.events.send(r#"{"type":"fault"}"#.to_owned());
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
}

/// `GET /api/live/calls`, each with the phonebook's name for its number (as in the call log).
pub async fn calls(State(state): State<ConsoleState>) -> Result<Json<Vec<LiveCall>>, AppError> {
    let calls = state.live.as_ref().map(LiveHub::calls).unwrap_or_default();
    if calls.iter().all(|call| call.number.is_none()) {
        return Ok(Json(calls));
    }
    crate::api::with_store(&state, move |store| {
        calls
            .into_iter()
            .map(|mut call| {
                if let Some(number) = &call.number {
                    call.display = store.phonebook_entry(number)?.and_then(|e| e.user_name);
                }
                Ok(call)
            })
            .collect::<Result<Vec<_>, AppError>>()
    })
    .await
    .map(Json)
}

/// `GET /api/live/events`: server-sent events, one JSON object per change; ends when the
/// request's [`Grant`] no longer holds.
pub async fn events(
    State(state): State<ConsoleState>,
    Extension(grant): Extension<Grant>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let hub = state
        .live
        .clone()
        .ok_or_else(|| AppError::not_found("live events come from `ringside run`"))?;
    let receiver = hub.events.subscribe();
    let recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    let stream = stream::unfold(
        (receiver, recheck, state, grant),
        |(mut receiver, mut recheck, state, grant)| async move {
            loop {
                tokio::select! {
                    message = receiver.recv() => match message {
                        Ok(message) => {
                            let event = Ok(Event::default().data(message));
                            return Some((event, (receiver, recheck, state, grant)));
                        }
                        // A slow page skips what it missed; the list endpoint has the truth.
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = recheck.tick() => {
                        if !grant.holds(&state).await {
                            return None;
                        }
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Frames per WebSocket message: 20 ms at 8 kHz.
pub const FRAMES_PER_MESSAGE: usize = 160;

/// Splits audio into 20 ms messages of interleaved little-endian 16-bit samples (remote
/// left, phone right), as the page's audio worklet plays them.
#[must_use]
pub fn messages(frames: &[[i16; 2]]) -> Vec<Vec<u8>> {
    frames
        .chunks(FRAMES_PER_MESSAGE)
        .map(|chunk| {
            chunk
                .iter()
                .flat_map(|[left, right]| [left.to_le_bytes(), right.to_le_bytes()])
                .flatten()
                .collect()
        })
        .collect()
}

/// The agent's hub, when call `key` is in progress.
fn hub_with_call(state: ConsoleState, key: u64) -> Result<LiveHub, AppError> {
    let hub = state
        .live
        .ok_or_else(|| AppError::not_found("no call is in progress here"))?;
    if hub.table().contains_key(&key) {
        Ok(hub)
    } else {
        Err(AppError::not_found(format!(
            "call {key} is not in progress"
        )))
    }
}

/// `GET /api/live/calls/{key}/audio` (WebSocket): the call's mixed audio as it is recorded,
/// until the call ends or the request's [`Grant`] no longer holds.
pub async fn listen(
    State(state): State<ConsoleState>,
    Extension(grant): Extension<Grant>,
    Path(key): Path<u64>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let hub = hub_with_call(state.clone(), key)?;
    let mut audio = hub.audio.subscribe();
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    Ok(upgrade.on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                chunk = audio.recv() => match chunk {
                    Ok(chunk) if chunk.0 == key => {
                        for message in messages(&chunk.1) {
                            if socket.send(Message::Binary(message.into())).await.is_err() {
                                return;
                            }
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = recheck.tick() => {
                    if !grant.holds(&state).await {
                        let _ = socket.send(Message::Close(Some(logged_out()))).await;
                        return;
                    }
                }
            }
            if !hub.table().contains_key(&key) {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }))
}

/// The close frame of a stream whose login ended (1008, policy violation).
fn logged_out() -> CloseFrame {
    CloseFrame {
        code: close_code::POLICY,
        reason: "the console password changed or was removed; log in again".into(),
    }
}

/// Body of `POST /api/live/calls/{key}/recording`.
#[derive(Debug, Deserialize)]
pub struct RecordingBody {
    on: bool,
}

/// `POST /api/live/calls/{key}/recording`: record this call from now on, or stop.
pub async fn set_recording(
    State(state): State<ConsoleState>,
    Path(key): Path<u64>,
    Json(body): Json<RecordingBody>,
) -> Result<StatusCode, AppError> {
    let hub = hub_with_call(state, key)?;
    hub.commands
        .send(Command::SetRecording { key, on: body.on })
        .map_err(|e| AppError::internal(&e))?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_goes_out_in_20_ms_messages_left_then_right() {
        let frames: Vec<[i16; 2]> = (0..400).map(|i| [i, -i]).collect();
        let out = messages(&frames);
        assert_eq!(
            out.iter().map(Vec::len).collect::<Vec<_>>(),
            [640, 640, 320]
        );
        assert_eq!(
            &out[0][4..8],
            &[1, 0, 0xff, 0xff],
            "frame 1: 1 left, -1 right"
        );
    }
}
