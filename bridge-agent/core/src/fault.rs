//! Test builds only (feature `fault-injection`): packets and states that make the engine
//! panic on demand, so that the end-to-end tests can prove the live agent and replay recover
//! from a panic (see `bridge-agent/src/recovery.rs`) although every panic found is fixed.
//!
//! The end-to-end test crate turns the feature on for its own build; a plain release build
//! (`cargo build --release`, `cargo install --path bridge-agent`, the packaging) never has
//! it, so no packet can trigger it there. An agent built with it says so in its log at start.

use crate::sip::{HeaderName, Message};
use crate::tracker::Tracker;

/// The header that makes a test build of the engine panic.
pub const FAULT_HEADER: &str = "X-Ringside-Fault";

/// The Call-ID of a call that makes every run of a test build's timers panic while it is in
/// the table, as a state left broken would.
pub const FAULT_TIMERS_CALL_ID: &str = "ringside-fault-timers";

/// The Call-ID whose call cannot be settled in a test build: settling it after a panic
/// panics again, as a recovery that fails would.
pub const FAULT_SETTLE_CALL_ID: &str = "ringside-fault-settle";

/// Panics when the call being settled is [`FAULT_SETTLE_CALL_ID`].
pub(crate) fn inject_settle_fault(call_id: &str) {
    assert!(
        call_id != FAULT_SETTLE_CALL_ID,
        "fault injected while settling {FAULT_SETTLE_CALL_ID}"
    );
}

/// Panics while the call [`FAULT_TIMERS_CALL_ID`] is in the table (test builds' timers).
pub(crate) fn inject_timer_fault(tracker: &Tracker) {
    assert!(
        tracker.call_of(FAULT_TIMERS_CALL_ID).is_none(),
        "fault injected by the call {FAULT_TIMERS_CALL_ID}"
    );
}

/// Panics on a SIP message carrying [`FAULT_HEADER`], after the tracker has taken it (so an
/// INVITE has started its call, which recovery must then settle).
pub(crate) fn inject_fault(message: &Message) {
    let header = HeaderName::parse(FAULT_HEADER);
    if let Some(value) = message.header(&header) {
        panic!("fault injected by {FAULT_HEADER}: {value}");
    }
}
