//! Ringside's end-to-end tests, one module per topic (one test binary, as ripgrep does).
//!
//! - `generated`: calls this suite generates (tones, loss, reordering, hold, SIP on 10000)
//!   replayed through `ringside replay`'s engine; recordings checked by frequency.
//! - `real_captures`: every capture in `../shared/captures/` replays, and the callers,
//!   sources, directions, dispositions and recordings they hold are found.
//! - `torture`: the RFC 4475 torture messages.
//! - `caller_text`: control characters in callers' names and numbers, and exact-number blocks.
//! - `browser`: the web console in headless chromium (playwright-core).
//! - `desktop`: the desktop client under Xvfb with dunst on a session D-Bus.
//! - `lab`: the live bridge lab (network namespaces, NFQUEUE, sipp; root).

// A test binary: its helpers panic on broken expectations like the tests themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod browser;
mod caller_text;
mod desktop;
mod generated;
mod lab;
mod real_captures;
mod support;
mod torture;
