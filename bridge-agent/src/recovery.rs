//! What the live agent does when the engine panics (DESIGN: the agent never goes on without
//! its queue thread): it recovers in place, or exits at once for systemd to restart it.
//!
//! # Recovering in place
//!
//! The queue thread runs the engine's work on one packet inside `catch_unwind` (and the
//! housekeeping thread its timers). On a panic the packet is accepted as it came (DESIGN rule
//! 1: Ringside's failure never costs the phone line), the call it belonged to is settled
//! ([`Engine::settle_frame`]: ended and logged, its recording closed), the packet goes to the
//! [`Quarantine`], and the panic is said: an `error!` line with its message, a count, and the
//! console's warning ([`ringside_hub::LiveHub::fault`]). Every other call goes on.
//!
//! # Why the engine is still fit to use
//!
//! - **Memory.** The engine is safe Rust (`unsafe_code = "forbid"`): a panic unwinds through
//!   it, dropping what was in flight; every collection it holds is whole (the standard
//!   collections keep their own invariants across a panic).
//! - **Cross-table invariants** may be half-updated: a call in the table whose Call-ID or media
//!   addresses were not yet registered, or the reverse. The tracker already treats every such
//!   lookup that misses as "not a call of ours" (the packet is accepted), and settling ends
//!   the call, after which the timers forget it. What can leak is an index entry without a
//!   call: bounded by the panic budget below, and gone at the next start.
//! - **The mutex.** The panic is caught while the queue thread holds the lock, so the lock is
//!   released normally and never poisoned. Should a panic escape anyway (in the outputs, or in
//!   the recovery itself), the thread's own guard ends the process ([`fatal`]); the other
//!   threads take a poisoned lock as it is (`PoisonError::into_inner`) for the few
//!   milliseconds before the exit.
//!
//! # Giving up
//!
//! Recovery is for the rare bug. If the recovery itself panics, or more than
//! [`MAX_PANICS_PER_MINUTE`] panics come within a minute (a packet stream that hits a bug
//! again and again, or a timer that panics on every tick), the process exits at once with
//! [`EXIT_PANICKED`]: the rules' `--queue-bypass` lets calls through while it is down, and
//! systemd (`Restart=always`, with no start limit: `StartLimitIntervalSec=0`) starts a
//! fresh agent, which mends the recordings and settles the cut-off calls. Someone who can
//! send panicking packets again and again can so keep the agent restarting (calls pass, not
//! filtered, meanwhile): recovery bounds the harm of a bug, the fuzzing is what removes it.

use std::any::Any;
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use ringside_core::call::CallKey;
use ringside_core::packet::LinkType;
use ringside_core::{Engine, Timestamp};

use crate::quarantine::{Kept, Quarantine};

/// Panics survived within a minute; one more and the agent exits.
pub const MAX_PANICS_PER_MINUTE: usize = 10;
/// The exit code after a panic the agent does not survive (`EX_SOFTWARE`).
pub const EXIT_PANICKED: i32 = 70;
const WINDOW: Duration = Duration::from_mins(1);

/// The panic budget and the quarantine.
#[derive(Debug)]
pub struct Recovery {
    quarantine: Quarantine,
    recent: VecDeque<Instant>,
    /// Panics survived since the start.
    pub total: u64,
}

/// What recovering from a panic on one packet did.
#[derive(Debug)]
pub struct Recovered {
    /// The call that was settled, if the packet belonged to one.
    pub call: Option<CallKey>,
    /// Where the packet was kept (or why not).
    pub kept: Result<Kept, std::io::Error>,
}

impl Recovered {
    /// The settled call (its Call-ID, escaped) and where the packet went, for the log.
    #[must_use]
    pub fn describe(&self, engine: &Engine) -> (String, String) {
        let call = self.call.map_or_else(
            || "no call".to_owned(),
            |key| match engine.call_id(key) {
                Some(call_id) => format!("call {call_id:?}"),
                None => format!("call {}", key.0),
            },
        );
        let kept = match &self.kept {
            Ok(Kept::In(path)) => format!("packet kept in {}", path.display()),
            Ok(Kept::Full(path)) => format!("packet not kept: {} is full", path.display()),
            Err(error) => format!("packet not kept: {error}"),
        };
        (call, kept)
    }
}

impl Recovery {
    /// Recovery with its quarantine under `data_dir`.
    #[must_use]
    pub fn new(data_dir: &Path) -> Recovery {
        Recovery {
            quarantine: Quarantine::new(data_dir),
            recent: VecDeque::new(),
            total: 0,
        }
    }

    /// After the engine panicked on `packet` (raw IP, received at `at`): settles its call and
    /// quarantines it. Exits the process when this panics too or the budget is spent.
    pub fn packet(&mut self, engine: &mut Engine, at: Timestamp, packet: &[u8]) -> Recovered {
        let quarantine = &self.quarantine;
        let recovered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Recovered {
            call: engine.settle_frame(at, LinkType::RawIp, packet),
            kept: quarantine.keep(at, packet),
        }));
        let recovered = recovered
            .unwrap_or_else(|panic| fatal(&format!("recovery panicked: {}", message(&*panic))));
        self.count();
        recovered
    }

    /// After the engine's timers panicked.
    pub fn timers(&mut self) {
        self.count();
    }

    fn count(&mut self) {
        let now = Instant::now();
        self.total += 1;
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|&at| now.duration_since(at) > WINDOW)
        {
            self.recent.pop_front();
        }
        if self.recent.len() > MAX_PANICS_PER_MINUTE {
            fatal(&format!(
                "{} panics within a minute; not recovering any more",
                self.recent.len()
            ));
        }
    }
}

/// Characters of a panic's message kept for the log and the console.
const MAX_MESSAGE_CHARS: usize = 300;

/// What a caught panic said, fit for a log line or a terminal: a panic on a caller's bytes
/// may quote them, so control characters are escaped and the length is capped.
#[must_use]
pub fn message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    let mut shown: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Logs `why` and ends the process at once with [`EXIT_PANICKED`], for systemd to restart it.
pub fn fatal(why: &str) -> ! {
    tracing::error!("{why}; exiting so that systemd restarts the agent");
    eprintln!("ringside: {why}; exiting (code {EXIT_PANICKED})");
    std::process::exit(EXIT_PANICKED)
}

/// Reports every panic as one `error!` line (thread, place, message made safe by
/// [`message`]) instead of the default report, which prints the message raw: a panic on a
/// caller's bytes may quote escape sequences meant for the terminal or the journal.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        tracing::error!(
            "thread {} panicked{place}: {}",
            thread.name().unwrap_or("unnamed"),
            message(info.payload())
        );
    }));
}

/// Runs a thread's body; a panic that escapes it ends the process (see [`fatal`]): the agent
/// never goes on without one of its threads.
pub fn guard_thread(name: &str, body: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        fatal(&format!("the {name} thread panicked: {}", message(&*panic)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_message_quoting_a_caller_cannot_write_to_a_terminal() {
        let panic: Box<dyn Any + Send> = Box::new(String::from("bad \u{1b}[2J\nline"));
        assert_eq!(message(&*panic), "bad \\u{1b}[2J\\nline");
        let long: Box<dyn Any + Send> = Box::new("é".repeat(1000));
        assert_eq!(message(&*long).chars().count(), MAX_MESSAGE_CHARS + 1);
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(message(&*other), "a panic without a message");
    }
}
