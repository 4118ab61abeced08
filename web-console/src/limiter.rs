//! How many password checks the console runs. An Argon2 check costs ~19 MiB and tens of
//! milliseconds, so a stranger must not be able to start many at once, nor keep guessing:
//!
//! - **Per source**, at most [`MAX_TRIES`] checks within [`WINDOW`]. An attempt is counted
//!   *before* its check starts (a reservation), so parallel logins cannot all slip under the
//!   limit while the first ones are still being checked; a successful login gives its
//!   reservation back. A source is an IPv4 address, or an IPv6 /64 (one home or one host's
//!   privacy addresses); an IPv4 address seen as `::ffff:a.b.c.d` is that IPv4 address.
//! - **Globally**, at most [`CHECKS_IN_FLIGHT`] checks run at once. A login that finds them
//!   all busy is told to wait (429) without hashing and without being counted.
//! - The table of sources holds at most [`MAX_SOURCES`]; when it is full, forgotten sources
//!   go first, then the one whose last attempt is oldest. Evicting one only gives an attacker
//!   what owning that many addresses already gives it (five tries each, two at a time).
//!
//! The limiter is sans-clock: callers pass `now`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Checks allowed per source within [`WINDOW`].
pub const MAX_TRIES: usize = 5;
/// How long a failed (or unfinished) attempt counts against its source.
pub const WINDOW: Duration = Duration::from_mins(1);
/// Password checks running at once, over all sources (~19 MiB each).
pub const CHECKS_IN_FLIGHT: usize = 2;
/// Sources remembered at most.
pub const MAX_SOURCES: usize = 1024;

/// Where login attempts come from, as the limit counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// One IPv4 address.
    V4(Ipv4Addr),
    /// One IPv6 /64: the address's first 64 bits.
    V6Net(u64),
}

impl Source {
    /// The source `address` belongs to.
    #[must_use]
    pub fn of(address: IpAddr) -> Source {
        match address.to_canonical() {
            IpAddr::V4(v4) => Source::V4(v4),
            IpAddr::V6(v6) => Source::V6Net((v6.to_bits() >> 64) as u64),
        }
    }
}

/// Why a login is not checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The source used its tries; it may try again after [`WINDOW`].
    TooManyTries,
    /// [`CHECKS_IN_FLIGHT`] checks are running; try again in a moment.
    Busy,
}

/// A login that may be checked: its counted reservation and its share of the global cap.
/// Hold `permit` until the check has truly ended (also when the client has gone).
#[derive(Debug)]
pub struct Attempt {
    /// The source it was counted against.
    pub source: Source,
    /// When it was counted.
    pub at: Instant,
    /// One of the [`CHECKS_IN_FLIGHT`] places.
    pub permit: OwnedSemaphorePermit,
}

/// The login limit, shared by all requests.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    tries: Arc<Mutex<HashMap<Source, Vec<Instant>>>>,
    in_flight: Arc<Semaphore>,
    checks: Arc<AtomicU64>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            tries: Arc::default(),
            in_flight: Arc::new(Semaphore::new(CHECKS_IN_FLIGHT)),
            checks: Arc::default(),
        }
    }
}

impl LoginLimiter {
    /// Counts a login from `address` at `now` and takes a place for its check, or says why
    /// not. Nothing is counted when no place is free.
    pub fn begin(&self, address: IpAddr, now: Instant) -> Result<Attempt, Refusal> {
        let source = Source::of(address);
        let mut table = self.tries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(times) = table.get_mut(&source) {
            times.retain(|t| now.saturating_duration_since(*t) < WINDOW);
            if times.len() >= MAX_TRIES {
                return Err(Refusal::TooManyTries);
            }
        }
        let permit = Arc::clone(&self.in_flight)
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)?;
        if !table.contains_key(&source) && table.len() >= MAX_SOURCES {
            make_room(&mut table, now);
        }
        table.entry(source).or_default().push(now);
        Ok(Attempt {
            source,
            at: now,
            permit,
        })
    }

    /// The attempt counted at `at` found the right password: it does not count against its
    /// source.
    pub fn succeeded(&self, source: Source, at: Instant) {
        let mut table = self.tries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(times) = table.get_mut(&source) {
            if let Some(index) = times.iter().position(|t| *t == at) {
                times.swap_remove(index);
            }
        }
    }

    /// Notes that a password check ran (for the log and for tests that count them).
    pub fn checked(&self) {
        self.checks.fetch_add(1, Ordering::Relaxed);
    }

    /// Password checks run since start.
    #[must_use]
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// Sources remembered now.
    #[must_use]
    pub fn sources(&self) -> usize {
        self.tries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Frees one place in a full table: sources whose tries have all expired go, and if none
/// has, the one whose last try is oldest.
fn make_room(table: &mut HashMap<Source, Vec<Instant>>, now: Instant) {
    table.retain(|_, times| {
        times.retain(|t| now.saturating_duration_since(*t) < WINDOW);
        !times.is_empty()
    });
    if table.len() < MAX_SOURCES {
        return;
    }
    let oldest = table
        .iter()
        .min_by_key(|(_, times)| times.iter().max().copied())
        .map(|(source, _)| *source);
    if let Some(source) = oldest {
        table.remove(&source);
    }
}
