//! IPv4 and IPv6 fragment reassembly in a bounded pool, for replays of captures.
//!
//! On the live queue the kernel reassembles before Ringside sees a packet (see the agent's
//! `rules` module); a capture, though, holds the fragments as they crossed the wire. The pool
//! follows what the phone's kernel would make of them, so that a replay decides on the same
//! datagrams the phone would have received:
//!
//! - a datagram waits for its missing fragments as long as Linux does by default
//!   ([`Reassembly::TIMEOUT`], `net.ipv4.ipfrag_time`), then is dropped unfinished;
//! - at most [`Reassembly::MAX_PENDING`] datagrams of at most 64 KiB wait at once; when full,
//!   the oldest is dropped unfinished, so a flood of first fragments costs bounded memory. A
//!   datagram dropped unfinished is never handed on: fragments that arrive after it start a
//!   new datagram that lacks the dropped ones;
//! - a fragment that lies wholly in data already received is a duplicate and changes nothing;
//!   one that overlaps it in part discards the datagram (RFC 5722, as Linux does for both
//!   families);
//! - a fragment of a datagram completed within [`Reassembly::TIMEOUT`] is a repeat of it,
//!   not the start of a new datagram.
//!
//! Ours, not etherparse's `IpDefragPool`: that pool lets a later fragment overwrite data
//! already received (Linux keeps the first and discards a datagram on a partial overlap), and
//! bounds neither how many datagrams wait nor how long, so a replay would decide on datagrams
//! the phone never saw.

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

/// What became of a fragment the pool took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Held until its datagram is complete (or a duplicate of data already held).
    Held,
    /// The last missing piece: the whole datagram's payload.
    Complete(Vec<u8>),
    /// A fragment of a datagram completed a moment ago (sent twice, or replayed).
    Repeat,
}

/// Why a fragment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    /// The fragment would make the datagram longer than 65,535 bytes.
    #[error("fragment beyond the largest datagram")]
    TooLong,
    /// The fragment disagrees with the length an earlier one set; the datagram is discarded.
    #[error("fragments disagree about the datagram length")]
    Inconsistent,
    /// The fragment overlaps data already received in part; the datagram is discarded.
    #[error("fragments overlap")]
    Overlap,
    /// The datagram has more than [`Reassembly::MAX_HOLES`] separate pieces held (tiny
    /// fragments with gaps between them); it is discarded, so each fragment costs little.
    #[error("too many pieces with gaps between them")]
    TooManyPieces,
}

#[derive(Debug)]
struct Pending {
    first_seen: Timestamp,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
    total: Option<usize>,
}

/// A datagram completed lately: when, and how long it was.
#[derive(Debug, Clone, Copy)]
struct Completed {
    at: Timestamp,
    total: usize,
}

/// Counters of the reassembly pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Datagrams completed.
    pub completed: u64,
    /// Datagrams dropped unfinished (timeout or pool full).
    pub expired: u64,
    /// Fragments refused as malformed, overlapping or inconsistent.
    pub refused: u64,
    /// Fragments of datagrams completed already.
    pub repeated: u64,
}

/// The pool of datagrams being reassembled.
#[derive(Debug, Default)]
pub struct Reassembly {
    pending: HashMap<FragmentKey, Pending>,
    completed: HashMap<FragmentKey, Completed>,
    stats: ReassemblyStats,
}

impl Reassembly {
    /// How many datagrams may be in reassembly at once (and how many completed ones are
    /// remembered to recognise repeats).
    pub const MAX_PENDING: usize = 64;
    /// How long a datagram may wait for its missing fragments: Linux's `ipfrag_time`.
    pub const TIMEOUT: Duration = Duration::from_secs(30);
    const MAX_DATAGRAM: usize = 65_535;
    /// Separate pieces one datagram may hold while it waits for the gaps between them: real
    /// fragments arrive in order or nearly, and every fragment costs a pass over the pieces.
    pub const MAX_HOLES: usize = 64;

    /// Adds a fragment: held, the whole datagram's payload once every fragment is in, or a
    /// repeat of a datagram completed already.
    pub fn add(
        &mut self,
        now: Timestamp,
        key: FragmentKey,
        fragment: Fragment<'_>,
    ) -> Result<Added, ReassemblyError> {
        self.expire(now);
        let end = fragment.offset.saturating_add(fragment.data.len());
        if end > Self::MAX_DATAGRAM {
            self.stats.refused += 1;
            return Err(ReassemblyError::TooLong);
        }
        if self.completed.get(&key).is_some_and(|c| end <= c.total) {
            self.stats.repeated += 1;
            return Ok(Added::Repeat);
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
        if let Err(error) = pending.take(fragment) {
            self.pending.remove(&key);
            self.stats.refused += 1;
            return Err(error);
        }
        let Some(total) = pending.total.filter(|&t| pending.ranges == [(0, t)]) else {
            return Ok(Added::Held);
        };
        self.stats.completed += 1;
        self.remember(key, Completed { at: now, total });
        Ok(self
            .pending
            .remove(&key)
            .map_or(Added::Held, |p| Added::Complete(p.data)))
    }

    /// Drops datagrams that waited longer than [`Reassembly::TIMEOUT`], and forgets the
    /// completed ones as old.
    pub fn expire(&mut self, now: Timestamp) {
        let before = self.pending.len();
        self.pending
            .retain(|_, p| now.since(p.first_seen) <= Self::TIMEOUT);
        self.stats.expired += (before - self.pending.len()) as u64;
        self.completed
            .retain(|_, c| now.since(c.at) <= Self::TIMEOUT);
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

    /// Remembers a completed datagram, forgetting the oldest beyond [`Self::MAX_PENDING`].
    fn remember(&mut self, key: FragmentKey, completed: Completed) {
        if self.completed.len() >= Self::MAX_PENDING {
            let oldest = self
                .completed
                .iter()
                .min_by_key(|(_, c)| c.at)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.completed.remove(&oldest);
            }
        }
        self.completed.insert(key, completed);
    }
}

impl Pending {
    /// Takes a fragment's data, or says why the datagram must be discarded.
    fn take(&mut self, fragment: Fragment<'_>) -> Result<(), ReassemblyError> {
        let (start, end) = (fragment.offset, fragment.offset + fragment.data.len());
        if self.total.is_some_and(|total| end > total) {
            return Err(ReassemblyError::Inconsistent);
        }
        if !fragment.more {
            let received_end = self.ranges.last().map_or(0, |r| r.1);
            if self.total.is_some_and(|t| t != end) || received_end > end {
                return Err(ReassemblyError::Inconsistent);
            }
            self.total = Some(end);
        }
        if self.ranges.iter().any(|&(s, e)| s <= start && end <= e) {
            // A duplicate: the data first received stands, as in the phone's kernel.
            return Ok(());
        }
        if self.ranges.iter().any(|&(s, e)| start < e && s < end) {
            return Err(ReassemblyError::Overlap);
        }
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        self.data[start..end].copy_from_slice(fragment.data);
        insert_range(&mut self.ranges, (start, end));
        if self.ranges.len() > Reassembly::MAX_HOLES {
            return Err(ReassemblyError::TooManyPieces);
        }
        Ok(())
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

    fn fragment(offset: usize, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment { offset, more, data }
    }

    const SECOND: u64 = 1_000_000;

    /// The bug: every fragment re-sorted and re-merged all the pieces of its datagram, so
    /// thousands of eight-byte fragments with gaps between them cost quadratic time (a
    /// replay of 16 K of them took about a second of CPU). Past [`Reassembly::MAX_HOLES`]
    /// pieces the datagram is discarded.
    #[test]
    fn a_datagram_of_tiny_fragments_with_gaps_is_discarded_past_the_hole_limit() {
        let mut pool = Reassembly::default();
        let t = Timestamp(0);
        let mut refused = None;
        for piece in 0..4095 {
            match pool.add(t, key(7), fragment(piece * 16, true, &[0; 8])) {
                Ok(Added::Held) => {}
                other => {
                    refused = Some((piece, other));
                    break;
                }
            }
        }
        assert_eq!(
            refused,
            Some((Reassembly::MAX_HOLES, Err(ReassemblyError::TooManyPieces)))
        );
        assert_eq!(pool.pending(), 0);
    }

    #[test]
    fn reassembles_out_of_order_fragments() {
        let mut pool = Reassembly::default();
        let t = Timestamp(0);
        let last = fragment(16, false, b"world");
        let first = fragment(0, true, b"hello, fragmente");
        assert_eq!(pool.add(t, key(1), last), Ok(Added::Held));
        let whole = pool.add(t, key(1), first);
        assert_eq!(
            whole,
            Ok(Added::Complete(b"hello, fragmenteworld".to_vec()))
        );
        assert_eq!(pool.pending(), 0);
    }

    #[test]
    fn incomplete_datagrams_expire_and_the_pool_is_bounded() {
        let mut pool = Reassembly::default();
        for id in 0..1000 {
            pool.add(
                Timestamp(u64::from(id)),
                key(id),
                fragment(0, true, &[0; 8]),
            )
            .expect("ok");
        }
        assert_eq!(pool.pending(), Reassembly::MAX_PENDING);
        pool.expire(Timestamp(60 * SECOND));
        assert_eq!(pool.pending(), 0);
        assert_eq!(pool.stats().expired, 1000);
    }

    #[test]
    fn a_last_fragment_six_seconds_late_still_completes_as_in_the_phones_kernel() {
        let mut pool = Reassembly::default();
        pool.add(Timestamp(0), key(1), fragment(0, true, &[1; 8]))
            .expect("ok");
        let late = pool.add(Timestamp(6 * SECOND), key(1), fragment(8, false, &[2; 4]));
        assert!(matches!(late, Ok(Added::Complete(ref d)) if d.len() == 12));
    }

    #[test]
    fn a_datagram_dropped_unfinished_never_completes_from_its_later_fragments() {
        let mut pool = Reassembly::default();
        pool.add(Timestamp(0), key(1), fragment(0, true, &[1; 8]))
            .expect("ok");
        // Pushed out by a flood of other first fragments.
        for id in 100..100 + Reassembly::MAX_PENDING as u32 {
            pool.add(Timestamp(1), key(id), fragment(0, true, &[0; 8]))
                .expect("ok");
        }
        let rest = pool.add(Timestamp(2), key(1), fragment(8, false, &[2; 4]));
        assert_eq!(rest, Ok(Added::Held), "half a datagram is never whole");
        // And once more after the timeout.
        pool.add(Timestamp(3), key(2), fragment(0, true, &[1; 8]))
            .expect("ok");
        let late = pool.add(Timestamp(40 * SECOND), key(2), fragment(8, false, &[2; 4]));
        assert_eq!(late, Ok(Added::Held));
        assert_eq!(pool.stats().completed, 0);
    }

    #[test]
    fn a_last_fragment_sent_twice_is_a_repeat_not_a_new_datagram() {
        let mut pool = Reassembly::default();
        pool.add(Timestamp(0), key(1), fragment(0, true, &[1; 8]))
            .expect("ok");
        let last = fragment(8, false, &[2; 4]);
        assert!(matches!(
            pool.add(Timestamp(1), key(1), last),
            Ok(Added::Complete(_))
        ));
        assert_eq!(pool.add(Timestamp(2), key(1), last), Ok(Added::Repeat));
        assert_eq!(pool.pending(), 0, "no new datagram was started");
        assert_eq!(pool.stats().repeated, 1);
        assert_eq!(pool.stats().completed, 1);
        // Long after, the same identification starts a new datagram (IDs wrap).
        let later = Timestamp(31 * SECOND);
        assert_eq!(pool.add(later, key(1), last), Ok(Added::Held));
    }

    #[test]
    fn duplicates_keep_the_first_data_and_partial_overlaps_discard_the_datagram() {
        let mut pool = Reassembly::default();
        let t = Timestamp(0);
        pool.add(t, key(1), fragment(0, true, b"INVITE s"))
            .expect("ok");
        assert_eq!(
            pool.add(t, key(1), fragment(0, true, b"BYE!!!!!")),
            Ok(Added::Held)
        );
        let whole = pool.add(t, key(1), fragment(8, false, b"ip:"));
        assert_eq!(whole, Ok(Added::Complete(b"INVITE sip:".to_vec())));

        pool.add(t, key(2), fragment(0, true, b"INVITE s"))
            .expect("ok");
        let overlap = pool.add(t, key(2), fragment(4, false, b"TE sip:x"));
        assert_eq!(overlap, Err(ReassemblyError::Overlap));
        assert_eq!(pool.pending(), 0, "the whole datagram is discarded");
    }

    #[test]
    fn fragments_beyond_the_length_the_last_one_set_are_refused() {
        let mut pool = Reassembly::default();
        let t = Timestamp(0);
        pool.add(t, key(1), fragment(8, false, &[0; 8]))
            .expect("ok");
        let beyond = pool.add(t, key(1), fragment(16, true, &[0; 8]));
        assert_eq!(beyond, Err(ReassemblyError::Inconsistent));
        assert_eq!(pool.pending(), 0);
    }

    proptest::proptest! {
        /// Whatever fragments come, in whatever order: no panic, the pool stays bounded, and
        /// a datagram is handed on only when every byte up to its end came, each once.
        #[test]
        fn any_fragments_keep_the_pool_bounded_and_complete_only_whole_datagrams(
            fragments in proptest::collection::vec(
                (0u32..4, 0usize..9000, proptest::bool::ANY, 0usize..3000, 0u64..40),
                0..200,
            )
        ) {
            let mut pool = Reassembly::default();
            let mut now = 0;
            for (id, offset, more, len, step) in fragments {
                now += step * SECOND;
                let data = vec![0x5a; len];
                let added = pool.add(Timestamp(now), key(id), fragment(offset & !7, more, &data));
                if let Ok(Added::Complete(whole)) = added {
                    proptest::prop_assert!(whole.iter().all(|&b| b == 0x5a));
                    proptest::prop_assert!(!whole.is_empty() || !more);
                }
                proptest::prop_assert!(pool.pending() <= Reassembly::MAX_PENDING);
                proptest::prop_assert!(pool.completed.len() <= Reassembly::MAX_PENDING);
            }
        }
    }

    #[test]
    fn offsets_at_the_edge_of_the_address_space_are_refused_not_a_panic() {
        let mut pool = Reassembly::default();
        let edge = fragment(usize::MAX - 2, false, &[0; 16]);
        assert_eq!(
            pool.add(Timestamp(0), key(1), edge),
            Err(ReassemblyError::TooLong)
        );
    }

    #[test]
    fn oversized_fragments_are_refused() {
        let mut pool = Reassembly::default();
        assert_eq!(
            pool.add(Timestamp(0), key(1), fragment(65_530, false, &[0; 16])),
            Err(ReassemblyError::TooLong)
        );
    }
}
