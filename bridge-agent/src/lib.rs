//! Ringside's daemon around the sans-IO core: packet sources, the recorder, the store, the
//! command line.
//!
//! # Layout
//!
//! Packet sources and the engine's loop:
//! - [`live`]: `ringside run`, the engine on NFQUEUE (the queue, timer and housekeeping
//!   threads), with [`fragments`] (fragments that still reach the queue) and [`rules`] (the
//!   iptables/nftables rules that send SIP and RTP to the queue).
//! - [`replay`]: the engine over a capture file, into a data directory.
//! - [`capture`]: pcap / pcapng / gzip files as a packet source ([`netmon`] for `NetMon`).
//! - [`recovery`] and [`quarantine`]: what the live agent does when its engine panics, and
//!   where the packet that did it is kept.
//!
//! What the engine's events become:
//! - [`sink`]: engine events to the store and the recorder, on their own thread.
//! - [`recorder`]: WAV and raw-RTP files, crash repair; [`retention`]: age and size caps on
//!   the recordings.
//! - [`announcer`]: caller-ID announcements on the LAN (signed UDP datagrams).
//! - [`store`]: the `SQLite` store (crate `ringside-store`, all SQL is there), and
//!   [`timefmt`], its time format. The console and its live view are the crates
//!   `web-console` and `ringside-hub`.
//!
//! The command line:
//! - [`cli`]: arguments and output; [`calls_table`]: the call log as a terminal table (the
//!   `calls` command and the demo print it).
//! - [`config`]: the configuration file, read with file, line and problem in every error.
//! - [`demo`]: the newcomer's first command (generated calls from `ringside-synth`, replayed,
//!   with the console).
//! - [`doctor`]: checks of the bridge, the rules, the queue, the data directory and the
//!   console's exposure.
//! - [`output`]: the commands' standard output, ended quietly when its reader goes away.

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
pub mod output;
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
