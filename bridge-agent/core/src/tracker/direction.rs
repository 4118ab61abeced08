//! Which way a new call goes, and how that was decided ([`DirectionSource`]).
//!
//! The clues, most trusted first; the first that answers decides:
//!
//! 1. the bridge port the INVITE came in on (live only);
//! 2. an address configured as the phone's;
//! 3. an address that sent a REGISTER (the phone registers with its provider);
//! 4. the INVITE's own shape: several `Via`s or a `Record-Route` mean a proxy forwarded it
//!    (from the provider: inbound); one `Via` and a Request-URI naming a domain mean a user
//!    agent sent it to its proxy (outbound); one `Via` and a Request-URI that is the
//!    receiver's own address with a user other than the `To`'s mean the provider retargeted
//!    the call to a registered contact (inbound);
//! 5. the phone's address as an earlier call's shape showed it;
//! 6. nothing: inbound, assumed.
//!
//! Clues 4 and 5 come from INVITEs, whose headers their sender wrote: a call only they call
//! outbound is taken as inbound when a filter would block its caller (see
//! [`KnownPhones::decide`]).
//!
//! Whichever decides also decides which signalling address is the phone's, and with it which
//! media side is the phone (the recording's right channel).

use std::net::{IpAddr, SocketAddr};

// foldhash: seeded per process, for sets keyed by what the network sends.
use foldhash::HashSet;

use crate::outcome::{CallDirection, DirectionSource};
use crate::sip::{HeaderName, Message, StartLine, Uri};

/// At most this many phone addresses are learned per kind (REGISTER, earlier calls).
const MAX_LEARNED_PHONES: usize = 16;

/// Addresses known to be the phone's, by how they became known.
#[derive(Debug, Default)]
pub(super) struct KnownPhones {
    /// From the configuration (`phone_addresses`).
    configured: HashSet<IpAddr>,
    /// Senders of REGISTER.
    registered: HashSet<IpAddr>,
    /// The phone's side of earlier calls whose INVITE's shape told their direction.
    earlier: HashSet<IpAddr>,
}

impl KnownPhones {
    /// The configured phone addresses.
    pub(super) fn configured(addresses: &[IpAddr]) -> KnownPhones {
        KnownPhones {
            configured: addresses.iter().copied().collect(),
            ..KnownPhones::default()
        }
    }

    /// Learns that `ip` sent a REGISTER.
    pub(super) fn registered_from(&mut self, ip: IpAddr) {
        if self.registered.len() < MAX_LEARNED_PHONES {
            self.registered.insert(ip);
        }
    }

    /// Which way the call that `invite` (sent from `.0` to `.1`) starts goes, and why.
    /// `from_phone` is the bridge port's word, when there is one. A call only INVITEs call
    /// outbound is taken as inbound (assumed) when `blocks_caller` says a filter would block
    /// its caller: headers are the sender's to choose, and a blocked caller must not ring the
    /// phone by dressing a call up as the phone's own (filters never block those).
    pub(super) fn decide(
        &mut self,
        invite: &Message,
        (src, dst): (SocketAddr, SocketAddr),
        from_phone: Option<bool>,
        blocks_caller: impl FnOnce() -> bool,
    ) -> (CallDirection, DirectionSource) {
        let (direction, source) = self.clue(invite, src, dst, from_phone);
        if direction == CallDirection::Outbound && source.is_from_the_invite() && blocks_caller() {
            return (CallDirection::Inbound, DirectionSource::Assumed);
        }
        if matches!(
            source,
            DirectionSource::ViaCount | DirectionSource::RequestUri
        ) {
            let (phone, other) = match direction {
                CallDirection::Outbound => (src.ip(), dst.ip()),
                CallDirection::Inbound => (dst.ip(), src.ip()),
            };
            if self.earlier.len() < MAX_LEARNED_PHONES && !self.earlier.contains(&other) {
                self.earlier.insert(phone);
            }
        }
        (direction, source)
    }

    /// The first clue that answers, in the order of trust above.
    fn clue(
        &self,
        invite: &Message,
        src: SocketAddr,
        dst: SocketAddr,
        from_phone: Option<bool>,
    ) -> (CallDirection, DirectionSource) {
        let (src, dst) = (src.ip(), dst.ip());
        let outbound = |yes: bool| {
            if yes {
                CallDirection::Outbound
            } else {
                CallDirection::Inbound
            }
        };
        if let Some(from_phone) = from_phone {
            return (outbound(from_phone), DirectionSource::BridgePort);
        }
        if let Some(from_phone) = side(&self.configured, src, dst) {
            return (outbound(from_phone), DirectionSource::Configured);
        }
        if let Some(from_phone) = side(&self.registered, src, dst) {
            return (outbound(from_phone), DirectionSource::Register);
        }
        if let Some(shown) = shape(invite, dst) {
            return shown;
        }
        if let Some(from_phone) = side(&self.earlier, src, dst) {
            return (outbound(from_phone), DirectionSource::EarlierCall);
        }
        (CallDirection::Inbound, DirectionSource::Assumed)
    }
}

/// Whether the sender is the phone, by a set of phone addresses: `None` when the set knows
/// neither end or both.
fn side(phones: &HashSet<IpAddr>, src: IpAddr, dst: IpAddr) -> Option<bool> {
    match (phones.contains(&src), phones.contains(&dst)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The direction the INVITE's own headers show, received at `dst` (clue 4 above).
fn shape(invite: &Message, dst: IpAddr) -> Option<(CallDirection, DirectionSource)> {
    let vias: usize = invite
        .headers(&HeaderName::Via)
        .map(|value| {
            value
                .split(',')
                .filter(|via| !via.trim().is_empty())
                .count()
        })
        .sum();
    let record_routed = invite
        .all_headers()
        .iter()
        .any(|(name, _)| name.as_str().eq_ignore_ascii_case("Record-Route"));
    if vias > 1 || record_routed {
        return Some((CallDirection::Inbound, DirectionSource::ViaCount));
    }
    let StartLine::Request { uri, .. } = &invite.start else {
        return None;
    };
    let uri = Uri::parse(uri).ok()?;
    let host = uri.host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Err(_) if !host.is_empty() => Some((CallDirection::Outbound, DirectionSource::RequestUri)),
        Ok(ip) if ip == dst && retargeted(invite, &uri) => {
            Some((CallDirection::Inbound, DirectionSource::RequestUri))
        }
        _ => None,
    }
}

/// Whether the Request-URI's user differs from the `To`'s: a proxy replaced the address of
/// record with a registered contact (RFC 3261 §16.5), which a phone calling out never does.
fn retargeted(invite: &Message, uri: &Uri) -> bool {
    let to_user = invite.to().and_then(|to| to.uri.user);
    uri.user.is_some() && to_user.is_some() && uri.user != to_user
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_datagram;

    const PHONE: &str = "192.168.1.20:5060";
    const PROVIDER: &str = "203.0.113.5:5060";

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("an address")
    }

    fn invite(request_uri: &str, vias: &[&str], to: &str, extra: &str) -> Message {
        let vias = vias.join("\r\nVia: ");
        let text = format!(
            "INVITE {request_uri} SIP/2.0\r\nVia: {vias}\r\nFrom: <sip:15550100001@voip.example>;tag=1\r\n\
             To: {to}\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        parse_datagram(text.as_bytes())
            .expect("valid")
            .expect("whole")
    }

    fn decide(
        phones: &mut KnownPhones,
        invite: &Message,
        src: &str,
        dst: &str,
    ) -> (CallDirection, DirectionSource) {
        phones.decide(invite, (addr(src), addr(dst)), None, || false)
    }

    /// The phone's own INVITE toward its proxy: one Via, the callee's domain.
    fn from_phone() -> Message {
        invite(
            "sip:15550100009@voip.example",
            &["SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-a"],
            "<sip:15550100009@voip.example>",
            "",
        )
    }

    #[test]
    fn one_via_and_a_domain_request_uri_is_the_phone_calling_out() {
        let mut phones = KnownPhones::default();
        let decided = decide(&mut phones, &from_phone(), PHONE, PROVIDER);
        assert_eq!(
            decided,
            (CallDirection::Outbound, DirectionSource::RequestUri)
        );
    }

    #[test]
    fn an_invite_that_crossed_proxies_comes_from_the_provider() {
        let mut phones = KnownPhones::default();
        let two_vias = invite(
            "sip:phone@192.168.1.20:5060",
            &[
                "SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-b",
                "SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-c",
            ],
            "<sip:15550100001@voip.example>",
            "",
        );
        let one_line = invite(
            "sip:15550100001@voip.example",
            &["SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-b, SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-c"],
            "<sip:15550100001@voip.example>",
            "",
        );
        let record_routed = invite(
            "sip:15550100001@voip.example",
            &["SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-b"],
            "<sip:15550100001@voip.example>",
            "Record-Route: <sip:203.0.113.5;lr>\r\n",
        );
        for message in [two_vias, one_line, record_routed] {
            let decided = decide(&mut phones, &message, PROVIDER, PHONE);
            assert_eq!(decided, (CallDirection::Inbound, DirectionSource::ViaCount));
        }
    }

    #[test]
    fn a_request_uri_retargeted_to_the_receivers_contact_is_inbound() {
        let mut phones = KnownPhones::default();
        let to_contact = invite(
            "sip:ata-7f3a@192.168.1.20:5060",
            &["SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-b"],
            "<sip:15550100001@voip.example>",
            "",
        );
        let decided = decide(&mut phones, &to_contact, PROVIDER, PHONE);
        assert_eq!(
            decided,
            (CallDirection::Inbound, DirectionSource::RequestUri)
        );
        // The same user as the To, by IP: a phone dialling its proxy's address looks just
        // like it, so the shape says nothing.
        let by_ip = invite(
            "sip:15550100001@192.168.1.20",
            &["SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-b"],
            "<sip:15550100001@192.168.1.20>",
            "",
        );
        let decided = decide(&mut KnownPhones::default(), &by_ip, PROVIDER, PHONE);
        assert_eq!(decided, (CallDirection::Inbound, DirectionSource::Assumed));
    }

    #[test]
    fn the_bridge_port_then_configured_then_register_outrank_the_invites_shape() {
        let outgoing = from_phone();
        let mut phones = KnownPhones::configured(&[addr(PROVIDER).ip()]);
        let live = phones.decide(
            &outgoing,
            (addr(PHONE), addr(PROVIDER)),
            Some(false),
            || false,
        );
        assert_eq!(live, (CallDirection::Inbound, DirectionSource::BridgePort));
        let configured = decide(&mut phones, &outgoing, PHONE, PROVIDER);
        assert_eq!(
            configured,
            (CallDirection::Inbound, DirectionSource::Configured)
        );
        let mut phones = KnownPhones::default();
        phones.registered_from(addr(PROVIDER).ip());
        let registered = decide(&mut phones, &outgoing, PHONE, PROVIDER);
        assert_eq!(
            registered,
            (CallDirection::Inbound, DirectionSource::Register)
        );
    }

    #[test]
    fn a_call_only_its_invite_calls_outbound_is_inbound_when_its_caller_is_blocked() {
        let mut phones = KnownPhones::default();
        let (p, ph) = (addr(PROVIDER), addr(PHONE));
        let guessed = phones.decide(&from_phone(), (p, ph), None, || true);
        assert_eq!(guessed, (CallDirection::Inbound, DirectionSource::Assumed));
        assert!(
            phones.earlier.is_empty(),
            "a guess overruled teaches nothing"
        );
        let live = phones.decide(&from_phone(), (ph, p), Some(true), || true);
        assert_eq!(live, (CallDirection::Outbound, DirectionSource::BridgePort));
    }

    #[test]
    fn a_phone_shown_by_an_earlier_calls_shape_decides_a_shapeless_invite() {
        let mut phones = KnownPhones::default();
        decide(&mut phones, &from_phone(), PHONE, PROVIDER);
        let shapeless = invite(
            "sip:15550100001@192.168.1.20",
            &["SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-d"],
            "<sip:15550100001@192.168.1.20>",
            "",
        );
        let decided = decide(&mut phones, &shapeless, PROVIDER, PHONE);
        assert_eq!(
            decided,
            (CallDirection::Inbound, DirectionSource::EarlierCall)
        );
    }

    #[test]
    fn learned_addresses_are_bounded() {
        let mut phones = KnownPhones::default();
        for n in 0..1000u16 {
            phones.registered_from(IpAddr::from([10, 0, (n >> 8) as u8, n as u8]));
            let src = SocketAddr::from(([10, 1, (n >> 8) as u8, n as u8], 5060));
            phones.decide(&from_phone(), (src, addr(PROVIDER)), None, || false);
        }
        assert_eq!(phones.registered.len(), MAX_LEARNED_PHONES);
        assert_eq!(phones.earlier.len(), MAX_LEARNED_PHONES);
    }
}
