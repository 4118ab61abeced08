//! Ringside's end-to-end tests, one module per topic (one test binary, as ripgrep does).
//!
//! - `generated`: calls this suite generates (tones, loss, reordering, hold, SIP on 10000)
//!   replayed through `ringside replay`'s engine; recordings checked by frequency.
//! - `capture_table`: the whole-folder replay table: per capture its calls' dispositions,
//!   callers and RTP loss, checked against tshark (`capture_table.py`).
//! - `real_captures`: every capture in `../shared/captures/` replays, and the callers,
//!   sources, directions, dispositions and recordings they hold are found.
//! - `recording_bounds`: recordings follow the audio received, not the timestamps a
//!   capture or a caller claims (timestamp jumps, clock leaps, long holds).
//! - `torture`: the RFC 4475 torture messages.
//! - `framing`: where a SIP message ends: trailing octets, Content-Lengths that are not numbers,
//!   text traces against UDP replays of the same messages.
//! - `answered_by`: calls answered although their 200 OK was not captured, and redirected
//!   (forwarded) calls; real captures judged against tshark, generated ones.
//! - `caller_text`: control characters in callers' names and numbers, and exact-number blocks.
//! - `replay_resilience`: captures cut short, a gzip bomb, a packet that panics the engine.
//! - `browser`: the web console in headless chromium (playwright-core).
//! - `desktop`: the desktop client under Xvfb with dunst on a session D-Bus.
//! - `lab`: the live bridge lab (network namespaces, NFQUEUE, sipp; root).
//! - `lab_disk`: the live lab with its data directory on a small, nearly full tmpfs.
//! - `lab_vlan`: a blocked caller on a VLAN-tagged link through the lab.
//! - `lab_hostile`: hostile and panicking packets through the lab; the agent stays in line.
//! - `media_figures`: RTP figures on the real captures against tshark (telephone-events,
//!   comfort noise, stray packets).
//! - `media_generated`: generated calls with key presses, comfort noise and stray RTP.
//! - `tcp_sip`: SIP over TCP cut across segments (a real capture, generated ones).
//! - `lab_tcp`: SIP over TCP through the live lab; a filter cannot block it, and says so.
//! - `closed_pipe`: commands whose reader goes away end quietly.

// A test binary: its helpers panic on broken expectations like the tests themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod answered_by;
mod browser;
mod caller_text;
mod capture_table;
mod closed_pipe;
mod desktop;
mod framing;
mod generated;
mod lab;
mod lab_console;
mod lab_disk;
mod lab_doctor;
mod lab_fragments;
mod lab_hostile;
mod lab_tcp;
mod lab_vlan;
mod media_figures;
mod media_generated;
mod real_captures;
mod recording_bounds;
mod replay_resilience;
mod support;
mod tcp_sip;
mod torture;
mod who;
