//! From link-layer frames to UDP/TCP payloads with their addresses.
//!
//! `NFQUEUE` hands over IP packets; capture files hold Ethernet (with VLAN tags, `PPPoE`), Linux cooked
//! (SLL, SLL2), BSD loopback (`DLT_NULL`) or raw IP frames. IP-in-IP is unwrapped, fragments
//! go through [`Reassembly`] (captures hold them; on the live queue the kernel reassembles
//! first, and [`is_ip_fragment`] tells the agent when it did not). Anything else is reported,
//! never panicked on.

use std::net::{IpAddr, SocketAddr};

use etherparse::{
    EtherType, Ethernet2Slice, IpNumber, IpSlice, Ipv6ExtensionSlice, SingleVlanSlice, TcpSlice,
    UdpSlice,
};

use crate::reassembly::{Added, Fragment, FragmentKey, Reassembly, ReassemblyStats};
use crate::tcp_stream::TcpSegment;
use crate::time::Timestamp;

/// How the bytes of a frame start (the daemon maps pcap link types to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// An IP packet (NFQUEUE, `LINKTYPE_RAW`, `LINKTYPE_IPV4/6`).
    RawIp,
    /// Ethernet II, with any number of 802.1Q / 802.1ad tags, and `PPPoE` sessions.
    Ethernet,
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`).
    LinuxSll,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`).
    LinuxSll2,
    /// BSD loopback: a 4-byte address family, then IP (`LINKTYPE_NULL`, `LINKTYPE_LOOP`).
    Null,
}

/// The transport protocol of a [`Datagram`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: SIP and RTP.
    Udp,
    /// TCP: SIP only, put back in order per flow by [`crate::tcp_stream`].
    Tcp,
}

/// A transport payload and where it travels.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// UDP or TCP.
    pub transport: Transport,
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// The UDP payload or TCP segment data.
    pub payload: &'a [u8],
    /// The TCP segment's sequence number and flags (`None` for UDP).
    pub tcp: Option<TcpSegment>,
}

/// What a frame turned out to be.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A UDP or TCP payload, possibly reassembled from fragments.
    Datagram(Datagram<'a>),
    /// A fragment held until its datagram is complete.
    FragmentHeld,
    /// A fragment of a datagram completed already (its last fragment sent twice): it belongs
    /// to the datagram decided on, and starts nothing new.
    FragmentRepeat,
    /// Not IP, or IP carrying neither UDP nor TCP: passed untouched.
    Other,
    /// Bytes that claim to be a packet but are not one.
    Malformed(&'static str),
}

/// Decodes frames; owns the fragment reassembly pool.
#[derive(Debug, Default)]
pub struct Decoder {
    reassembly: Reassembly,
    reassembled: Vec<u8>,
}

/// How deep IP-in-IP may nest before it is refused.
const MAX_TUNNEL_DEPTH: usize = 3;

impl Decoder {
    /// Decodes one frame of the given link type.
    pub fn decode<'a>(
        &'a mut self,
        now: Timestamp,
        link: LinkType,
        frame: &'a [u8],
    ) -> Decoded<'a> {
        match ip_bytes(link, frame) {
            Some(ip) => self.decode_ip(now, ip, 0),
            None => Decoded::Other,
        }
    }

    /// The fragment pool, to expire it on timers.
    pub fn reassembly(&mut self) -> &mut Reassembly {
        &mut self.reassembly
    }

    /// The fragment pool's counters.
    #[must_use]
    pub fn reassembly_stats(&self) -> ReassemblyStats {
        self.reassembly.stats()
    }

    fn decode_ip<'a>(&'a mut self, now: Timestamp, bytes: &'a [u8], depth: usize) -> Decoded<'a> {
        let Ok(ip) = IpSlice::from_slice(bytes) else {
            return Decoded::Malformed("bad IP header");
        };
        let (src, dst) = (ip.source_addr(), ip.destination_addr());
        let protocol = ip.payload_ip_number();
        if ip.is_fragmenting_payload() {
            let Some((key, fragment)) = fragment_of(&ip) else {
                return Decoded::Malformed("bad fragment header");
            };
            return match self.reassembly.add(now, key, fragment) {
                Ok(Added::Complete(whole)) => {
                    self.reassembled = whole;
                    transport(protocol, src, dst, &self.reassembled)
                }
                Ok(Added::Held) => Decoded::FragmentHeld,
                Ok(Added::Repeat) => Decoded::FragmentRepeat,
                Err(_) => Decoded::Malformed("inconsistent fragments"),
            };
        }
        let payload = ip.payload().payload;
        if protocol == IpNumber::IPV4 || protocol == IpNumber::IPV6 {
            if depth >= MAX_TUNNEL_DEPTH {
                return Decoded::Malformed("IP tunnels nested too deep");
            }
            return self.decode_ip(now, payload, depth + 1);
        }
        transport(protocol, src, dst, payload)
    }
}

/// Whether an IP packet (as the queue hands it over) is a fragment of a larger datagram.
/// Bytes that are not an IP packet are not a fragment.
#[must_use]
pub fn is_ip_fragment(packet: &[u8]) -> bool {
    IpSlice::from_slice(packet).is_ok_and(|ip| ip.is_fragmenting_payload())
}

fn transport(protocol: IpNumber, src: IpAddr, dst: IpAddr, payload: &[u8]) -> Decoded<'_> {
    if protocol == IpNumber::UDP {
        return match UdpSlice::from_slice_lax(payload) {
            Ok(udp) => Decoded::Datagram(Datagram {
                transport: Transport::Udp,
                src: SocketAddr::new(src, udp.source_port()),
                dst: SocketAddr::new(dst, udp.destination_port()),
                payload: udp.payload(),
                tcp: None,
            }),
            Err(_) => Decoded::Malformed("bad UDP header"),
        };
    }
    if protocol == IpNumber::TCP {
        return match TcpSlice::from_slice(payload) {
            Ok(tcp) => Decoded::Datagram(Datagram {
                transport: Transport::Tcp,
                src: SocketAddr::new(src, tcp.source_port()),
                dst: SocketAddr::new(dst, tcp.destination_port()),
                payload: tcp.payload(),
                tcp: Some(TcpSegment {
                    seq: tcp.sequence_number(),
                    syn: tcp.syn(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                }),
            }),
            Err(_) => Decoded::Malformed("bad TCP header"),
        };
    }
    Decoded::Other
}

fn fragment_of<'a>(ip: &IpSlice<'a>) -> Option<(FragmentKey, Fragment<'a>)> {
    let data = ip.payload().payload;
    let protocol = ip.payload_ip_number().0;
    let (src, dst) = (ip.source_addr(), ip.destination_addr());
    let (id, offset, more) = match ip {
        IpSlice::Ipv4(v4) => {
            let header = v4.header();
            (
                u32::from(header.identification()),
                header.fragments_offset().value(),
                header.more_fragments(),
            )
        }
        IpSlice::Ipv6(v6) => {
            let fragment = v6
                .extensions()
                .clone()
                .into_iter()
                .find_map(|ext| match ext {
                    Ipv6ExtensionSlice::Fragment(f) => Some(f.to_header()),
                    _ => None,
                })?;
            (
                fragment.identification,
                fragment.fragment_offset.value(),
                fragment.more_fragments,
            )
        }
    };
    Some((
        FragmentKey {
            src,
            dst,
            id,
            protocol,
        },
        Fragment {
            offset: usize::from(offset) * 8,
            more,
            data,
        },
    ))
}

/// Finds the IP packet inside a frame; `None` when the frame carries something else.
///
/// Ethernet and its VLAN tags are etherparse's. The rest is ours because etherparse does not
/// read it: Linux cooked v1 (its `LinuxSllHeader` refuses hardware types other than five,
/// and `tcpdump -i any` captures hold loopback, PPP and tunnel ones), cooked v2, BSD loopback
/// and `PPPoE` sessions.
fn ip_bytes(link: LinkType, frame: &[u8]) -> Option<&[u8]> {
    let is_ip = |ethertype: u16| ethertype == 0x0800 || ethertype == 0x86DD;
    let be16 = |at: usize| Some(u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]));
    match link {
        LinkType::RawIp => Some(frame),
        LinkType::Null => frame.get(4..),
        LinkType::LinuxSll => is_ip(be16(14)?).then(|| frame.get(16..)).flatten(),
        LinkType::LinuxSll2 => is_ip(be16(0)?).then(|| frame.get(20..)).flatten(),
        LinkType::Ethernet => ethernet_ip(frame),
    }
}

/// The IP packet of an Ethernet II frame, under any number of 802.1Q / 802.1ad tags.
fn ethernet_ip(frame: &[u8]) -> Option<&[u8]> {
    let mut inner = Ethernet2Slice::from_slice_without_fcs(frame)
        .ok()?
        .payload();
    while matches!(
        inner.ether_type,
        EtherType::VLAN_TAGGED_FRAME
            | EtherType::PROVIDER_BRIDGING
            | EtherType::VLAN_DOUBLE_TAGGED_FRAME
    ) {
        inner = SingleVlanSlice::from_slice(inner.payload).ok()?.payload();
    }
    match inner.ether_type {
        EtherType::IPV4 | EtherType::IPV6 => Some(inner.payload),
        PPPOE_SESSION => pppoe_ip(inner.payload),
        _ => None,
    }
}

/// `PPPoE` session frames (DSL lines), which etherparse does not know.
const PPPOE_SESSION: EtherType = EtherType(0x8864);

/// The IP packet of a `PPPoE` session: 6 bytes of `PPPoE`, then the PPP protocol (IPv4 or
/// IPv6).
fn pppoe_ip(session: &[u8]) -> Option<&[u8]> {
    let protocol = u16::from_be_bytes([*session.get(6)?, *session.get(7)?]);
    matches!(protocol, 0x0021 | 0x0057)
        .then(|| session.get(8..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn udp_frame(payload: &[u8]) -> Vec<u8> {
        let builder = PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(24.try_into().expect("vlan id"))
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5060, 10000);
        let mut out = Vec::new();
        builder.write(&mut out, payload).expect("write");
        out
    }

    #[test]
    fn decodes_vlan_tagged_udp() {
        let frame = udp_frame(b"hello");
        let mut decoder = Decoder::default();
        let Decoded::Datagram(d) = decoder.decode(Timestamp(0), LinkType::Ethernet, &frame) else {
            panic!("not decoded");
        };
        assert_eq!(d.transport, Transport::Udp);
        assert_eq!(d.src, "10.0.0.1:5060".parse().expect("addr"));
        assert_eq!(d.dst.port(), 10000);
        assert_eq!(d.payload, b"hello");
    }

    /// The payload of the UDP datagram in `frame`, read as a `link` frame.
    fn payload_of(link: LinkType, frame: &[u8]) -> Option<Vec<u8>> {
        match Decoder::default().decode(Timestamp(0), link, frame) {
            Decoded::Datagram(d) => Some(d.payload.to_vec()),
            _ => None,
        }
    }

    /// An Ethernet frame: two MAC addresses, `headers` (ethertypes, tags...), then `ip`.
    fn ethernet(headers: &[u8], ip: &[u8]) -> Vec<u8> {
        [&[1; 12], headers, ip].concat()
    }

    #[test]
    fn reads_udp_under_two_vlan_tags_and_in_pppoe_sessions() {
        let ip = &udp_frame(b"hello")[18..];
        let hello = Some(b"hello".to_vec());
        let qinq = [0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 24, 0x08, 0x00];
        assert_eq!(payload_of(LinkType::Ethernet, &ethernet(&qinq, ip)), hello);
        let pppoe_ip = [0x88, 0x64, 0x11, 0, 0, 1, 0, 0, 0x00, 0x21];
        assert_eq!(
            payload_of(LinkType::Ethernet, &ethernet(&pppoe_ip, ip)),
            hello
        );
        // PPP protocol 0xc023 (authentication): not IP.
        let pppoe_pap = [0x88, 0x64, 0x11, 0, 0, 1, 0, 0, 0xc0, 0x23];
        assert_eq!(
            payload_of(LinkType::Ethernet, &ethernet(&pppoe_pap, ip)),
            None
        );
    }

    /// `tcpdump -i any` on a loopback or tunnel interface writes cooked frames whose hardware
    /// type etherparse's `LinuxSllHeader` refuses; they must still be read.
    #[test]
    fn reads_linux_cooked_frames_of_loopback_and_tunnel_interfaces() {
        let ip = &udp_frame(b"hello")[18..];
        for hardware in [1_u16, 772, 0xfffe] {
            let mut sll = vec![0, 0];
            sll.extend_from_slice(&hardware.to_be_bytes());
            sll.extend_from_slice(&[0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00]);
            sll.extend_from_slice(ip);
            assert_eq!(
                payload_of(LinkType::LinuxSll, &sll).as_deref(),
                Some(&b"hello"[..]),
                "hardware type {hardware}"
            );
        }
    }

    /// The IPv4 fragment of a UDP datagram (UDP header included in `data` at offset 0).
    fn ipv4_fragment(id: u16, offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
        let mut header = etherparse::Ipv4Header::new(
            u16::try_from(data.len()).expect("small"),
            64,
            IpNumber::UDP,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
        )
        .expect("header");
        header.identification = id;
        header.more_fragments = more;
        header.fragment_offset = etherparse::IpFragOffset::try_new(offset / 8).expect("offset");
        header.header_checksum = header.calc_header_checksum();
        let mut out = header.to_bytes().to_vec();
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn a_repeated_last_fragment_is_a_repeat_of_the_datagram_decided_on() {
        let mut udp = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5060, 5060)
            .write(&mut udp, &[b'x'; 24])
            .expect("write");
        let udp = &udp[20..]; // the UDP header and payload, 32 bytes
        let first = ipv4_fragment(7, 0, true, &udp[..16]);
        let last = ipv4_fragment(7, 16, false, &udp[16..]);
        assert!(is_ip_fragment(&first) && is_ip_fragment(&last));
        let mut decoder = Decoder::default();
        let t = Timestamp(0);
        assert!(matches!(
            decoder.decode(t, LinkType::RawIp, &first),
            Decoded::FragmentHeld
        ));
        let Decoded::Datagram(whole) = decoder.decode(t, LinkType::RawIp, &last) else {
            panic!("not reassembled");
        };
        assert_eq!(whole.payload, &[b'x'; 24]);
        assert!(matches!(
            decoder.decode(t, LinkType::RawIp, &last),
            Decoded::FragmentRepeat
        ));
        assert_eq!(decoder.reassembly().pending(), 0);
    }

    #[test]
    fn whole_packets_and_garbage_are_not_fragments() {
        assert!(!is_ip_fragment(&udp_frame(b"hello")[18..]));
        assert!(!is_ip_fragment(b""));
        assert!(!is_ip_fragment(&[0x45; 40]));
    }

    #[test]
    fn garbage_is_malformed_or_other_never_a_panic() {
        let mut decoder = Decoder::default();
        for frame in [&b""[..], &[0x45; 3], &[0x60, 0, 0], &[0xff; 64]] {
            for link in [
                LinkType::RawIp,
                LinkType::Ethernet,
                LinkType::LinuxSll,
                LinkType::LinuxSll2,
                LinkType::Null,
            ] {
                assert!(!matches!(
                    decoder.decode(Timestamp(0), link, frame),
                    Decoded::Datagram(_)
                ));
            }
        }
    }
}
