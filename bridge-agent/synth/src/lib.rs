//! Ringside's capture generator: calls scripted as SIP signalling and G.711 RTP with a
//! different tone on each side, written as a pcap. The demo replays them; the tests and the
//! benches check what the engine makes of them.
//!
//! Impairments (loss, reordering, duplicates) are drawn from a seeded generator, so a
//! capture is the same, byte for byte, on every run (`tests/byte_identical.rs` pins it).
//!
//! # Layout
//!
//! - `call`: what a generated call is (who, when, how it ends, its addresses) and what a
//!   generated packet is.
//! - `script`: the packets of each call in time order ([`packets`]): INVITE, ringing, the
//!   outcome, talk, hold, BYE; `script/answer` the outcomes that answer or redirect it.
//! - `sip`: the SIP text of those messages, and the voicemail NOTIFY.
//! - `rtp`: one direction of RTP, a tone encoded as G.711, with its impairments.
//! - `extras`: key presses, comfort noise and stray packets beside the tones.
//! - `pcap`: packets as Ethernet/IP/UDP (or TCP) frames in a pcap file.

mod call;
mod extras;
mod pcap;
mod rtp;
mod script;
mod sip;

pub use call::{Endpoints, Hold, Impairments, Outcome, SynthCall, SynthPacket, Unseen};
pub use extras::{MediaExtras, COMFORT_NOISE_EVERY, KEY_PRESS};
pub use pcap::{ethernet_frame, tcp_frame, write_frames, write_pcap};
pub use script::{packets, unregistered_packets};
pub use sip::voicemail_notify;
