//! What the live agent does with an IP fragment that reaches its queue.
//!
//! `ringside rules install` has the kernel reassemble fragments before the queue (see
//! [`crate::rules`]), so the queue sees whole datagrams only. A fragment on the queue means
//! that reassembly is off (the rules were put in by hand, or the `raw` chain was removed).
//! Ringside cannot decide on a datagram it sees in pieces, and a piece it lets pass could
//! complete an INVITE at the phone that no filter looked at. So a fragment that comes from
//! the network side is dropped (the datagram never completes at the phone; a blocked caller
//! stays blocked, and a large INVITE from an allowed caller fails until reassembly is back),
//! and the log says so loudly, at once and then at most once a minute. A fragment from the
//! phone (`phone_port` in the configuration) goes to the engine as before: nothing the phone
//! sends is blocked. Without `phone_port` the sides are unknown and every fragment is dropped.

use std::time::{Duration, Instant};

use ringside_core::packet::is_ip_fragment;

use crate::rules::{self, Backend};

/// How often the warning is repeated while fragments keep coming.
const WARN_EVERY: Duration = Duration::from_mins(1);

/// Counts the fragments that reached the queue and warns about them.
#[derive(Debug, Default)]
pub struct FragmentGuard {
    /// Fragments dropped so far.
    dropped: u64,
    /// Dropped when the last warning went out, and when.
    warned: Option<(u64, Instant)>,
}

impl FragmentGuard {
    /// Whether the queued IP `packet` must be dropped without going to the engine: a
    /// fragment not known to come from the phone.
    pub fn refuses(&mut self, packet: &[u8], from_phone: Option<bool>) -> bool {
        if from_phone == Some(true) || !is_ip_fragment(packet) {
            return false;
        }
        self.dropped += 1;
        self.warn(Instant::now());
        true
    }

    fn warn(&mut self, now: Instant) {
        let since = match self.warned {
            Some((_, at)) if now.duration_since(at) < WARN_EVERY => return,
            Some((count, _)) => self.dropped - count,
            None => self.dropped,
        };
        self.warned = Some((self.dropped, now));
        tracing::error!(
            "{since} IP fragments reached the queue and were dropped ({} in all): the kernel's \
             fragment reassembly is off, so Ringside cannot see fragmented datagrams whole. \
             Run `ringside rules remove` and `ringside rules install` (or `ringside doctor`)",
            self.dropped
        );
    }
}

/// Says at start-up, loudly, when the rules that have the kernel reassemble fragments for
/// `bridge` are missing from both families of either iptables backend (what the guard will
/// then drop, large INVITEs included). Needs root, as iptables does.
pub fn warn_if_reassembly_off(bridge: &str) {
    let on = [Backend::Legacy, Backend::Nft].into_iter().any(|backend| {
        rules::listings(backend)
            .iter()
            .all(|l| l.reassembles(bridge))
    });
    if !on {
        tracing::error!(
            "the kernel's fragment reassembly before the queue is off (no raw {} rules for \
             {bridge}): fragments from the network will be dropped, large INVITEs with them. \
             Run `ringside rules remove` and `ringside rules install` (or `ringside doctor`)",
            rules::CHAIN
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first of two IPv4 fragments of a UDP datagram to the phone.
    fn first_fragment() -> Vec<u8> {
        let mut header =
            etherparse::Ipv4Header::new(16, 64, etherparse::IpNumber::UDP, [10; 4], [11; 4])
                .expect("header");
        header.more_fragments = true;
        let mut packet = header.to_bytes().to_vec();
        packet.extend_from_slice(&[0; 16]);
        packet
    }

    #[test]
    fn fragments_from_the_network_are_dropped_and_the_phones_pass() {
        let mut guard = FragmentGuard::default();
        let fragment = first_fragment();
        assert!(guard.refuses(&fragment, Some(false)));
        assert!(guard.refuses(&fragment, None), "sides unknown: dropped");
        assert!(!guard.refuses(&fragment, Some(true)));
        let mut whole = Vec::new();
        etherparse::PacketBuilder::ipv4([10; 4], [11; 4], 64)
            .udp(5060, 5060)
            .write(&mut whole, b"INVITE")
            .expect("write");
        assert!(!guard.refuses(&whole, Some(false)));
        assert_eq!(guard.dropped, 2);
    }

    #[test]
    fn the_warning_repeats_at_most_once_a_minute_with_the_count_since() {
        let mut guard = FragmentGuard::default();
        let start = Instant::now();
        guard.dropped = 1;
        guard.warn(start);
        guard.dropped = 5;
        guard.warn(start + Duration::from_secs(10));
        assert_eq!(guard.warned, Some((1, start)), "quiet within the minute");
        let later = start + WARN_EVERY;
        guard.warn(later);
        assert_eq!(guard.warned, Some((5, later)));
    }
}
