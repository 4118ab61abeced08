//! Calls in progress, live, over HTTP: the agent (`ringside run`) feeds a [`LiveHub`]
//! (crate `ringside-hub`, the seam both sides depend on) as calls start, are answered and
//! end; these handlers serve it to the page. The page reads the current list
//! (`GET /api/live/calls`) and follows changes as server-sent events
//! (`GET /api/live/events`), and turns recording of one call on or off
//! (`POST /api/live/calls/{key}/recording`), a command the agent applies within a quarter of
//! a second; "Listen live" is a WebSocket (`/api/live/calls/{key}/audio`) of the
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

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use axum::Json;
use futures_util::stream::{self, Stream};
use ringside_hub::{AudioChunk, Command, LiveCall, LiveEvent, LiveHub};
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::auth::Grant;
use crate::error::AppError;
use crate::{with_store, ConsoleState};

/// How often a live stream checks that its client may still have it.
pub const RECHECK: Duration = Duration::from_secs(1);

/// `GET /api/live/calls`, each with the phonebook's name for its number (as in the call log).
pub async fn calls(State(state): State<ConsoleState>) -> Result<Json<Vec<LiveCall>>, AppError> {
    let calls = state.live.as_ref().map(LiveHub::calls).unwrap_or_default();
    if calls.iter().all(|live| live.call.party.number.is_none()) {
        return Ok(Json(calls));
    }
    with_store(&state, move |store| {
        calls
            .into_iter()
            .map(|mut live| {
                let party = &mut live.call.party;
                if let Some(number) = &party.number {
                    party.display = store.phonebook_entry(number)?.and_then(|e| e.user_name);
                }
                Ok(live)
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
    let receiver = hub.subscribe();
    let recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    let stream = stream::unfold(
        (receiver, recheck, state, grant),
        |(mut receiver, mut recheck, state, grant)| async move {
            let event = next_event(&mut receiver, &mut recheck, &state, &grant).await?;
            Some((Ok(event), (receiver, recheck, state, grant)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The next event for the page, or `None` when the stream ends (the hub is gone, or the
/// grant no longer holds).
async fn next_event(
    receiver: &mut broadcast::Receiver<LiveEvent>,
    recheck: &mut tokio::time::Interval,
    state: &ConsoleState,
    grant: &Grant,
) -> Option<Event> {
    loop {
        tokio::select! {
            message = receiver.recv() => match message {
                Ok(event) => match Event::default().json_data(&event) {
                    Ok(event) => return Some(event),
                    Err(error) => tracing::error!("a live event cannot be sent: {error}"),
                },
                // A slow page skips what it missed; the list endpoint has the truth.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = recheck.tick() => {
                if !grant.holds(state).await {
                    return None;
                }
            }
        }
    }
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
    if hub.in_progress(key) {
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
    // Subscribed before the upgrade, so that no audio between the two is lost.
    let audio = hub.listen();
    Ok(upgrade.on_upgrade(move |socket| async move {
        let listener = Listener {
            hub,
            key,
            state,
            grant,
        };
        listener.stream(socket, audio).await;
    }))
}

/// One page listening to one call.
struct Listener {
    hub: LiveHub,
    key: u64,
    state: ConsoleState,
    grant: Grant,
}

impl Listener {
    /// Sends the call's audio until the call ends (a plain close), the grant no longer holds
    /// (a policy close) or the page goes away.
    async fn stream(self, mut socket: WebSocket, mut audio: broadcast::Receiver<Arc<AudioChunk>>) {
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
        loop {
            tokio::select! {
                chunk = audio.recv() => match chunk {
                    Ok(chunk) if chunk.call == self.key => {
                        for message in messages(&chunk.frames) {
                            if socket.send(Message::Binary(message.into())).await.is_err() {
                                return;
                            }
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = recheck.tick() => {
                    if !self.grant.holds(&self.state).await {
                        let _ = socket.send(Message::Close(Some(logged_out()))).await;
                        return;
                    }
                }
            }
            if !self.hub.in_progress(self.key) {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
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
    hub.command(Command::SetRecording { key, on: body.on })
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
