//! Fragments by hand for the fragments lab: a long INVITE, its UDP datagram cut into IPv4
//! or IPv6 fragments, a raw socket in the provider's namespace to send them, and the phone's
//! side listening (a UDP socket on its SIP port, a packet socket on its interface).

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::time::Duration;

use etherparse::{IpFragOffset, IpNumber, IpSlice, Ipv4Header, Ipv6FragmentHeader, Ipv6Header};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use ringside_e2e::lab::{Lab, PHONE, PHONE6, PROVIDER, PROVIDER6};

/// Another host on the provider's side, which floods.
pub(super) const FLOODER: &str = "10.77.0.9";
/// Bytes of UDP data per fragment (a multiple of 8).
pub(super) const PIECE: usize = 1000;

/// An INVITE from `number` to the phone at `phone`, long enough (about 3 KB of SDP) to
/// travel in four fragments.
pub(super) fn invite(number: &str, provider: &str, phone: &str, tag: u32) -> Vec<u8> {
    let host = |ip: &str| {
        if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip.to_owned()
        }
    };
    let (p, h) = (host(provider), host(phone));
    let family = if provider.contains(':') { "IP6" } else { "IP4" };
    let mut sdp = format!(
        "v=0\r\no=- {tag} 1 IN {family} {provider}\r\ns=-\r\nc=IN {family} {provider}\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    );
    let padding = "f".repeat(60);
    for line in 0..40 {
        sdp += &["a=x-padding-", &line.to_string(), ":", &padding, "\r\n"].concat();
    }
    format!(
        "INVITE sip:phone@{h} SIP/2.0\r\nVia: SIP/2.0/UDP {p}:5060;branch=z9hG4bK-frag{tag}\r\n\
         Max-Forwards: 70\r\nFrom: \"Fragmented Caller\" <sip:{number}@{p}>;tag=f{tag}\r\n\
         To: <sip:phone@{h}>\r\nCall-ID: fragmented-{tag}@{p}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:{number}@{p}:5060>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// The UDP datagram (header and payload, checksum set) from port 5060 to port 5060.
pub(super) fn udp_datagram(src: IpAddr, dst: IpAddr, payload: &[u8]) -> Vec<u8> {
    let builder = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            etherparse::PacketBuilder::ipv4(s.octets(), d.octets(), 64)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            etherparse::PacketBuilder::ipv6(s.octets(), d.octets(), 64)
        }
        _ => panic!("one family"),
    };
    let mut packet = Vec::new();
    builder
        .udp(5060, 5060)
        .write(&mut packet, payload)
        .expect("a datagram");
    let header = if src.is_ipv4() { 20 } else { 40 };
    packet.split_off(header)
}

/// The IP packets that carry `datagram` (UDP) in fragments of [`PIECE`] bytes.
pub(super) fn fragments(src: IpAddr, dst: IpAddr, id: u32, datagram: &[u8]) -> Vec<Vec<u8>> {
    let count = datagram.len().div_ceil(PIECE);
    datagram
        .chunks(PIECE)
        .enumerate()
        .map(|(index, piece)| {
            let offset = IpFragOffset::try_new(u16::try_from(index * PIECE / 8).expect("small"))
                .expect("an offset");
            let more = index + 1 < count;
            let mut packet = match (src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    let length = u16::try_from(piece.len()).expect("small");
                    let mut header =
                        Ipv4Header::new(length, 64, IpNumber::UDP, s.octets(), d.octets())
                            .expect("a header");
                    header.identification = u16::try_from(id & 0xffff).expect("16 bits");
                    header.more_fragments = more;
                    header.fragment_offset = offset;
                    header.header_checksum = header.calc_header_checksum();
                    header.to_bytes().to_vec()
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    let header = Ipv6Header {
                        payload_length: u16::try_from(piece.len() + 8).expect("small"),
                        next_header: IpNumber::IPV6_FRAGMENTATION_HEADER,
                        hop_limit: 64,
                        source: s.octets(),
                        destination: d.octets(),
                        ..Ipv6Header::default()
                    };
                    let fragment = Ipv6FragmentHeader::new(IpNumber::UDP, offset, more, id);
                    [header.to_bytes().to_vec(), fragment.to_bytes().to_vec()].concat()
                }
                _ => panic!("one family"),
            };
            packet.extend_from_slice(piece);
            packet
        })
        .collect()
}

/// A raw socket in the provider's namespace that sends whole IP packets (headers included).
/// The provider is told the phone's link address first: packets sent before it is resolved
/// wait in a small queue that drops the oldest, which would lose the INVITE's first fragment
/// in a flood.
pub(super) fn raw_sender(lab: &Lab, v6: bool) -> Socket {
    let (_, phone) = addresses(v6);
    let link = lab.in_ns("phone", &["ip", "-o", "link", "show", "h0"]);
    let mac = link
        .split_once("link/ether ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .expect("the phone's link address");
    let phone = phone.to_string();
    let neigh = ["ip", "neigh", "replace", &phone, "lladdr", mac, "dev", "p0"];
    lab.in_ns("prov", &[&neigh[..], &["nud", "permanent"]].concat());
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    lab.made_in("prov", move || {
        Socket::new(domain, Type::RAW, Some(Protocol::from(255))).expect("a raw socket (root?)")
    })
}

pub(super) fn send(socket: &Socket, to: IpAddr, packet: &[u8]) {
    let target = SockAddr::from(SocketAddr::new(to, 0));
    socket.send_to(packet, &target).expect("send a fragment");
}

/// What reached the phone: the UDP datagrams on its SIP port, and the IP packets from the
/// provider (whole or fragments) its interface saw.
pub(crate) struct PhoneSide {
    sip: std::net::UdpSocket,
    frames: std::thread::JoinHandle<Vec<Vec<u8>>>,
    stop: mpsc::Sender<()>,
}

impl PhoneSide {
    /// Starts listening in the phone's namespace, on `bind` (its SIP port).
    pub(crate) fn listen(lab: &Lab, bind: &str) -> PhoneSide {
        let sip = lab.udp_socket("phone", bind);
        sip.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let sniffer = lab.made_in("phone", || {
            // ETH_P_ALL, in network byte order: every frame on every interface.
            let all = Protocol::from(i32::from(0x0003_u16.to_be()));
            let socket = Socket::new(Domain::PACKET, Type::RAW, Some(all)).expect("packet socket");
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            socket
        });
        let (stop, stopped) = mpsc::channel();
        let frames = std::thread::spawn(move || provider_frames(&sniffer, &stopped));
        PhoneSide { sip, frames, stop }
    }

    /// Stops listening, and checks that nothing came: no datagram on the SIP port, no UDP
    /// packet or fragment from the provider's side on the interface.
    pub(crate) fn finish_hearing_nothing(self) {
        let (datagrams, frames) = self.finish();
        assert!(datagrams.is_empty(), "the phone received a datagram");
        assert!(
            frames.is_empty(),
            "{} packets reached the phone",
            frames.len()
        );
    }

    /// Stops listening: the SIP datagrams received, and the provider's IP packets seen.
    pub(super) fn finish(self) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut datagrams = Vec::new();
        let mut buffer = vec![0; 65_536];
        while let Ok(n) = self.sip.recv(&mut buffer) {
            datagrams.push(buffer[..n].to_vec());
        }
        self.stop.send(()).expect("the sniffer runs");
        (datagrams, self.frames.join().expect("sniffer"))
    }
}

/// UDP packets (whole or fragments) from the provider (either family) or the [`FLOODER`], seen by `socket`
/// until told to stop. (ICMP from the provider, about the answer to a blocked call, is not
/// counted.)
fn provider_frames(socket: &Socket, stop: &mpsc::Receiver<()>) -> Vec<Vec<u8>> {
    let providers: [IpAddr; 3] = [
        PROVIDER.parse().expect("address"),
        PROVIDER6.parse().expect("address"),
        FLOODER.parse().expect("address"),
    ];
    let mut seen = Vec::new();
    let mut buffer = vec![0; 65_536];
    while stop.try_recv().is_err() {
        let Ok(n) = std::io::Read::read(&mut &*socket, &mut buffer) else {
            continue;
        };
        let frame = &buffer[..n];
        let from_provider = frame
            .get(14..)
            .and_then(|ip| IpSlice::from_slice(ip).ok())
            .is_some_and(|ip| {
                providers.contains(&ip.source_addr()) && ip.payload_ip_number() == IpNumber::UDP
            });
        if from_provider {
            seen.push(frame.to_vec());
        }
    }
    seen
}

pub(super) fn addresses(v6: bool) -> (IpAddr, IpAddr) {
    let (provider, phone) = if v6 {
        (PROVIDER6, PHONE6)
    } else {
        (PROVIDER, PHONE)
    };
    (
        provider.parse().expect("address"),
        phone.parse().expect("address"),
    )
}
