//! A VLAN between the bridge and its neighbours: IP inside 802.1Q frames skips iptables (and
//! so the queue) unless `bridge-nf-filter-vlan-tagged` is on, so a blocked caller on a tagged
//! link rang through. `ringside rules install` turns it (and the `PPPoE` one) on and `remove`
//! puts them back; here a blocked caller's INVITE in VLAN 100 frames never reaches the phone.
//! The frames are written by hand and sent on a packet socket in the provider's namespace
//! (this kernel may have no VLAN devices); the phone listens as in the fragments lab.

use ringside_core::call::Disposition;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use ringside_e2e::lab::{ringside_binary, Lab, PHONE, PROVIDER};

use crate::lab_fragments::wire::PhoneSide;

const TAGGED: [&str; 2] = [
    "/proc/sys/net/bridge/bridge-nf-filter-vlan-tagged",
    "/proc/sys/net/bridge/bridge-nf-filter-pppoe-tagged",
];

/// A short INVITE from a caller every filter blocks.
fn invite() -> Vec<u8> {
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 {PROVIDER}\r\ns=-\r\nc=IN IP4 {PROVIDER}\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    );
    format!(
        "INVITE sip:phone@{PHONE} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PROVIDER}:5060;branch=z9hG4bK-vlan1\r\nMax-Forwards: 70\r\n\
         From: \"Tagged Caller\" <sip:15550100777@{PROVIDER}>;tag=v1\r\n\
         To: <sip:phone@{PHONE}>\r\nCall-ID: vlan-1@{PROVIDER}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:15550100777@{PROVIDER}:5060>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// An interface's MAC address, read inside its namespace.
fn mac(lab: &Lab, which: &str, dev: &str) -> [u8; 6] {
    let text = lab.in_ns(which, &["cat", &format!("/sys/class/net/{dev}/address")]);
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).expect("hex"))
        .collect();
    bytes.try_into().expect("six bytes")
}

/// The INVITE as an Ethernet frame tagged with VLAN 100, from the provider to the phone.
fn tagged_frame(lab: &Lab) -> Vec<u8> {
    let (from, to): (Ipv4Addr, Ipv4Addr) = (
        PROVIDER.parse().expect("address"),
        PHONE.parse().expect("address"),
    );
    let mut frame = Vec::new();
    etherparse::PacketBuilder::ethernet2(mac(lab, "prov", "p0"), mac(lab, "phone", "h0"))
        .single_vlan(etherparse::VlanId::try_new(100).expect("VLAN id"))
        .ipv4(from.octets(), to.octets(), 64)
        .udp(5060, 5060)
        .write(&mut frame, &invite())
        .expect("a frame");
    frame
}

/// Sends `frame` as it is out of the provider's `p0`, on a packet socket.
fn send_from_provider(lab: &Lab, frame: &[u8]) {
    let hex = frame.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let script = "import socket, sys\n\
                  s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
                  s.bind(('p0', 0))\n\
                  s.send(bytes.fromhex(sys.argv[1]))\n";
    lab.in_ns("prov", &["python3", "-c", script, &hex]);
}

#[test]
fn lab_vlan_a_blocked_caller_on_a_tagged_link_never_reaches_the_phone() {
    let mut lab = Lab::new();
    for sysctl in TAGGED {
        let value = lab.in_ns("br", &["cat", sysctl]);
        assert_eq!(value.trim(), "1", "{sysctl} after `rules install`");
    }
    lab.ringside(&["filters", "add", "--match", "*", "--action", "block"]);
    lab.start_agent();
    let phone = PhoneSide::listen(&lab, "0.0.0.0:5060");
    let frame = tagged_frame(&lab);
    // The INVITE and two retransmissions of it.
    for _ in 0..3 {
        send_from_provider(&lab, &frame);
        std::thread::sleep(Duration::from_millis(300));
    }
    let calls = lab.wait_for_calls("the tagged caller is logged", |calls| {
        calls
            .iter()
            .any(|c| c.disposition == Some(Disposition::Blocked))
    });
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].call.party.number.as_deref(), Some("15550100777"));
    std::thread::sleep(Duration::from_millis(500));
    phone.finish_hearing_nothing();
}

#[test]
fn lab_vlan_rules_remove_puts_the_tagged_settings_back() {
    let lab = Lab::new();
    let binary = ringside_binary();
    lab.in_ns("br", &[binary.to_str().expect("utf-8"), "rules", "remove"]);
    for sysctl in TAGGED {
        let value = lab.in_ns("br", &["cat", sysctl]);
        assert_eq!(value.trim(), "0", "{sysctl} after `rules remove`");
    }
}
