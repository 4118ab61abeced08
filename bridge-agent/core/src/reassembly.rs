//! IPv4 and IPv6 fragment reassembly in a bounded pool.
//!
//! Real INVITEs with large SDP arrive in fragments. The pool holds at most
//! [`Reassembly::MAX_PENDING`] datagrams of at most 64 KiB for at most
//! [`Reassembly::TIMEOUT`]; when full, the oldest is dropped, so a flood of first fragments
//! costs bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::time::Timestamp;

/// What identifies the fragments of one datagram (RFC 791 / RFC 8200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 identification or IPv6 fragment identification.
    pub id: u32,
    /// The protocol carried (UDP = 17).
    pub protocol: u8,
}

/// One fragment, offsets in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Where this fragment's data starts in the datagram.
    pub offset: usize,
    /// Whether more fragments follow.
    pub more: bool,
    /// The fragment's data.
    pub data: &'a [u8],
}

/// Why a fragment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    /// The fragment would make the datagram longer than 65,535 bytes.
    #[error("fragment beyond the largest datagram")]
    TooLong,
    /// A last fragment disagrees with the length an earlier one set.
    #[error("fragments disagree about the datagram length")]
    Inconsistent,
}

#[derive(Debug)]
struct Pending {
    first_seen: Timestamp,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
    total: Option<usize>,
}

/// Counters of the reassembly pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Datagrams completed.
    pub completed: u64,
    /// Datagrams dropped unfinished (timeout or pool full).
    pub expired: u64,
    /// Fragments refused as malformed.
    pub refused: u64,
}

/// The pool of datagrams being reassembled.
#[derive(Debug, Default)]
pub struct Reassembly {
    pending: HashMap<FragmentKey, Pending>,
    stats: ReassemblyStats,
}

impl Reassembly {
    /// How many datagrams may be in reassembly at once.
    pub const MAX_PENDING: usize = 64;
    /// How long a datagram may wait for its missing fragments.
    pub const TIMEOUT: Duration = Duration::from_secs(5);
    const MAX_DATAGRAM: usize = 65_535;

    /// Adds a fragment; returns the whole payload once every fragment is in.
    pub fn add(
        &mut self,
        now: Timestamp,
        key: FragmentKey,
        fragment: Fragment<'_>,
    ) -> Result<Option<Vec<u8>>, ReassemblyError> {
        self.expire(now);
        let end = fragment.offset + fragment.data.len();
        if end > Self::MAX_DATAGRAM {
            self.stats.refused += 1;
            return Err(ReassemblyError::TooLong);
        }
        if !self.pending.contains_key(&key) && self.pending.len() >= Self::MAX_PENDING {
            self.evict_oldest();
        }
        let pending = self.pending.entry(key).or_insert_with(|| Pending {
            first_seen: now,
            data: Vec::new(),
            ranges: Vec::new(),
            total: None,
        });
        if !fragment.more {
            if pending.total.is_some_and(|t| t != end)
                || pending.ranges.last().is_some_and(|r| r.1 > end)
            {
                self.pending.remove(&key);
                self.stats.refused += 1;
                return Err(ReassemblyError::Inconsistent);
            }
            pending.total = Some(end);
        }
        if pending.data.len() < end {
            pending.data.resize(end, 0);
        }
        pending.data[fragment.offset..end].copy_from_slice(fragment.data);
        insert_range(&mut pending.ranges, (fragment.offset, end));
        let complete = pending
            .total
            .is_some_and(|total| pending.ranges == [(0, total)]);
        if complete {
            self.stats.completed += 1;
            return Ok(self.pending.remove(&key).map(|p| p.data));
        }
        Ok(None)
    }

    /// Drops datagrams that waited longer than [`Reassembly::TIMEOUT`].
    pub fn expire(&mut self, now: Timestamp) {
        let before = self.pending.len();
        self.pending
            .retain(|_, p| now.since(p.first_seen) <= Self::TIMEOUT);
        self.stats.expired += (before - self.pending.len()) as u64;
    }

    /// The pool's counters.
    #[must_use]
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// How many datagrams are waiting for fragments.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, p)| p.first_seen)
            .map(|(k, _)| *k);
        if let Some(key) = oldest {
            self.pending.remove(&key);
            self.stats.expired += 1;
        }
    }
}

fn insert_range(ranges: &mut Vec<(usize, usize)>, new: (usize, usize)) {
    ranges.push(new);
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    *ranges = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32) -> FragmentKey {
        FragmentKey {
            src: "192.0.2.1".parse().expect("ip"),
            dst: "192.0.2.2".parse().expect("ip"),
            id,
            protocol: 17,
        }
    }

    #[test]
    fn reassembles_out_of_order_fragments() {
        let mut pool = Reassembly::default();
        let t = Timestamp(0);
        let last = Fragment {
            offset: 16,
            more: false,
            data: b"world",
        };
        let first = Fragment {
            offset: 0,
            more: true,
            data: b"hello, fragmente",
        };
        assert_eq!(pool.add(t, key(1), last), Ok(None));
        let whole = pool.add(t, key(1), first).expect("ok").expect("complete");
        assert_eq!(whole, b"hello, fragmenteworld");
        assert_eq!(pool.pending(), 0);
    }

    #[test]
    fn incomplete_datagrams_expire_and_the_pool_is_bounded() {
        let mut pool = Reassembly::default();
        for id in 0..1000 {
            let first = Fragment {
                offset: 0,
                more: true,
                data: &[0; 8],
            };
            pool.add(Timestamp(u64::from(id)), key(id), first)
                .expect("ok");
        }
        assert_eq!(pool.pending(), Reassembly::MAX_PENDING);
        pool.expire(Timestamp(60_000_000));
        assert_eq!(pool.pending(), 0);
        assert_eq!(pool.stats().expired, 1000);
    }

    #[test]
    fn oversized_fragments_are_refused() {
        let mut pool = Reassembly::default();
        let frag = Fragment {
            offset: 65_530,
            more: false,
            data: &[0; 16],
        };
        assert_eq!(
            pool.add(Timestamp(0), key(1), frag),
            Err(ReassemblyError::TooLong)
        );
    }
}
