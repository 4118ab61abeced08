//! Time as the core sees it: a count of microseconds since the Unix epoch, handed in by the
//! caller (packet timestamps in a replay, the wall clock on a live queue).

use std::time::Duration;

/// Microseconds since 1970-01-01T00:00:00Z. The core never reads a clock; callers pass this in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// A timestamp from whole seconds and microseconds, as capture files store them.
    #[must_use]
    pub fn from_secs_micros(secs: u64, micros: u32) -> Self {
        Self(secs * 1_000_000 + u64::from(micros))
    }

    /// The time elapsed since `earlier`, or zero when `earlier` is later (capture clocks can
    /// step backwards).
    #[must_use]
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// This time plus `d`.
    #[must_use]
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.as_micros() as u64))
    }

    /// Microseconds since the epoch.
    #[must_use]
    pub fn as_micros(self) -> u64 {
        self.0
    }
}

impl From<Duration> for Timestamp {
    fn from(d: Duration) -> Self {
        Timestamp(d.as_micros() as u64)
    }
}
