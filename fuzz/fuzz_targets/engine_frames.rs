//! The whole engine on a sequence of frames (`Engine::handle_frame`), with its timers, events
//! and rewrites, as a live queue or a replay drives it.
//!
//! Input: records of `[flags][delay ms: u16 LE][length: u16 LE][frame]`; the flags' low three
//! bits pick the link type, bits 4-5 the side (unknown, phone, provider). `seeds.py` writes
//! captures in this form. Filters block some callers (a name with an `a`, anonymous ones) and
//! leave others to ring and be recorded; the first record's flags choose how blocked callers
//! are turned away (bits 6-7) and whether recorded calls get courtesy beeps (bit 3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::engine::{BlockResponse, Policy};
use ringside_core::filters::{Action, Field, Filter, FilterList};
use ringside_core::{Engine, EngineConfig, Timestamp, Verdict};

/// Filters that block some callers of the seeds and let others ring, recorded or not.
fn policy(flags: u8) -> Policy {
    let filter = |id, pattern: &str, field, action| Filter {
        id,
        pattern: pattern.to_owned(),
        field,
        action,
    };
    let filters = vec![
        filter(1, "anonymous", Field::Number, Action::Block),
        filter(2, "*a*", Field::Name, Action::Block),
        filter(3, "1*", Field::Number, Action::NoRecord),
        filter(4, "*e*", Field::Name, Action::Record),
    ];
    Policy {
        filters: FilterList::new(filters).expect("the filters are valid"),
        record_by_default: true,
        block_response: [
            BlockResponse::Busy,
            BlockResponse::Decline,
            BlockResponse::Drop,
        ][usize::from(flags >> 6) % 3],
        courtesy_beeps: flags & 8 != 0,
    }
}
use ringside_fuzz::link_type;

fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::new(EngineConfig::default());
    engine.set_policy(policy(data.first().copied().unwrap_or_default()));
    let mut now = Timestamp(1_700_000_000_000_000);
    let mut rest = data;
    while let [flags, d0, d1, l0, l1, tail @ ..] = rest {
        let link = link_type(flags & 7);
        let from_phone = match (flags >> 4) & 3 {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        };
        now = now.plus(std::time::Duration::from_millis(u64::from(
            u16::from_le_bytes([*d0, *d1]),
        )));
        let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(tail.len());
        let (frame, after) = tail.split_at(len);
        rest = after;
        if let Verdict::Replace(rewritten) = engine.handle_frame(now, link, frame, from_phone) {
            assert_eq!(
                rewritten.len(),
                frame.len(),
                "a rewrite changed the frame's length"
            );
        }
        if engine.poll_timeout().is_some_and(|t| t <= now) {
            engine.handle_timeout(now);
        }
        while engine.poll_event().is_some() {}
        while engine.poll_transmit().is_some() {}
    }
    engine.finish(now);
    while engine.poll_event().is_some() {}
    let _ = engine.stats();
});
