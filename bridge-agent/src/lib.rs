//! Ringside's daemon around the sans-IO core: packet sources, the recorder, the store, the
//! command line.
//!
//! # Layout
//!
//! - [`capture`]: pcap / pcapng / gzip files as a packet source ([`netmon`] for `NetMon`).
//! - [`replay`]: the engine over a capture, into a data directory.
//! - [`sink`]: engine events to the store and the recorder, on their own thread.
//! - [`retention`]: age and size caps on the recordings.
//! - [`recorder`]: WAV and raw-RTP files, crash repair.
//! - [`store`]: the `SQLite` store (crate `ringside-store`, all SQL is there), and
//!   [`timefmt`], its time format.
//! - [`recovery`] and [`quarantine`]: what the live agent does when its engine panics, and
//!   where the packet that did it is kept.
//! - [`demo`]: the newcomer's first command.
//! - [`cli`]: arguments and output; [`calls_table`]: the call log as a terminal table (the
//!   `calls` command and the demo print it).

pub mod announcer;
pub mod calls_table;
pub mod capture;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod fragments;
pub mod live;
pub mod netmon;
pub mod quarantine;
pub mod recorder;
pub mod recovery;
pub mod replay;
pub mod retention;
pub mod rules;
pub mod sink;

/// The store lives in its own crate, shared with the web console.
pub use ringside_store as store;
pub use ringside_store::timefmt;
