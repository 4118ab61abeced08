//! Ringside's sans-IO protocol core.
//!
//! Everything here takes bytes and a time and returns values and events: no sockets, files,
//! threads or clocks. The daemon (`bridge-agent`) feeds it packets from NFQUEUE or a capture
//! file; the desktop client will use its announcement codec.
//!
//! # Layout
//!
//! - [`time`]: the [`Timestamp`] every `handle_*` call takes.
//! - [`packet`] and [`reassembly`]: link layers, IPv4/IPv6, UDP/TCP, fragment reassembly;
//!   [`tcp_stream`]: SIP over TCP put back in order per flow.
//! - [`sip`]: our SIP wrapper (message framing, compact headers, name-addr values, URIs).
//! - [`caller_id`]: who is calling, and which header said so (DESIGN rule 2).
//! - [`sdp`]: media descriptions of offers and answers.
//! - [`rtp`], [`g711`], [`playout`], [`mixer`]: RTP views, decoding, the per-direction jitter
//!   buffer and the stereo mixer.
//! - [`beeps`]: courtesy beeps toward the remote party of a recorded call.
//! - [`filters`] and [`policy`]: which calls are blocked or recorded (DESIGN rule 4).
//! - [`call`]: one call, its dialog a state machine in RFC 3261's states ([`call::DialogState`]);
//!   `tracker`: the table of calls, split by job (SIP dialogs, media flows, blocking). The
//!   tracker is the engine's own: nothing outside reaches into it.
//! - [`outcome`]: a call's direction and disposition, one word each from the engine to the
//!   JSON; `sql` (feature `sql`, for the store): their `ToSql`/`FromSql`.
//! - [`call_view`]: the fields every view of a call shows (call log, live list,
//!   announcements); [`rfc3339`]: wall-clock times as those views write them.
//! - [`announce`]: the LAN announcement codec the agent and the desktop client share.
//! - [`voicemail`]: message-waiting summaries (RFC 3842).
//! - [`text`]: caller text shown on terminals and in line formats, its controls escaped.
//! - [`engine`]: all of the above behind `handle_frame` / `poll_event`: the only door to the
//!   call table.
//! - `fault` (test builds only, feature `fault-injection`): panics on demand.

pub mod announce;
pub mod beeps;
pub mod call;
pub mod call_view;
pub mod caller_id;
pub mod engine;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod filters;
pub mod g711;
pub mod media;
pub mod mixer;
pub mod outcome;
pub mod packet;
pub mod playout;
pub mod policy;
pub mod reassembly;
pub mod rfc3339;
pub mod rtp;
pub mod sdp;
pub mod sip;
#[cfg(feature = "sql")]
pub mod sql;
pub mod tcp_stream;
pub mod text;
pub mod time;
pub(crate) mod tracker;
pub mod voicemail;

pub use engine::{Engine, EngineConfig, Event, Verdict};
pub use time::Timestamp;
