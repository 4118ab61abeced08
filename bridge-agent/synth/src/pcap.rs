//! Generated packets as frames: Ethernet, IPv4 or IPv6, then UDP (or one TCP segment), and
//! frames written as a pcap with times counted from an epoch.

use std::fs::File;
use std::io::{self, BufWriter};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use etherparse::{IpHeaders, PacketBuilder, PacketBuilderStep};
use pcap_file::pcap::{PcapPacket, PcapWriter};
use ringside_core::tcp_stream::TcpSegment;

use crate::call::SynthPacket;

/// Writes packets as an Ethernet pcap, times counted from `epoch` (Unix seconds).
pub fn write_pcap(path: &Path, epoch: Duration, packets: &[SynthPacket]) -> io::Result<()> {
    let mut frames = Vec::with_capacity(packets.len());
    for packet in packets {
        let mut frame = Vec::with_capacity(packet.payload.len() + 64);
        ethernet_frame(packet, &mut frame)?;
        frames.push((packet.at, frame));
    }
    write_frames(path, epoch, &frames)
}

/// Writes Ethernet frames, each with its time from the start, as a pcap.
pub fn write_frames(
    path: &Path,
    epoch: Duration,
    frames: &[(Duration, Vec<u8>)],
) -> io::Result<()> {
    let mut writer =
        PcapWriter::new(BufWriter::new(File::create(path)?)).map_err(io::Error::other)?;
    for (at, frame) in frames {
        writer
            .write_packet(&PcapPacket::new(epoch + *at, frame.len() as u32, frame))
            .map_err(io::Error::other)?;
    }
    Ok(())
}

/// Replaces `frame` with `packet` as an Ethernet frame (IPv4 or IPv6, UDP).
pub fn ethernet_frame(packet: &SynthPacket, frame: &mut Vec<u8>) -> io::Result<()> {
    frame.clear();
    ip_builder(packet)?
        .udp(packet.src.port(), packet.dst.port())
        .write(frame, &packet.payload)
        .map_err(io::Error::other)
}

/// Replaces `frame` with `packet`'s payload as one TCP segment in an Ethernet frame, with
/// the sequence number and flags of `segment`, acknowledging `ack` when given.
pub fn tcp_frame(
    packet: &SynthPacket,
    segment: TcpSegment,
    ack: Option<u32>,
    frame: &mut Vec<u8>,
) -> io::Result<()> {
    frame.clear();
    let mut builder =
        ip_builder(packet)?.tcp(packet.src.port(), packet.dst.port(), segment.seq, 64_240);
    if let Some(ack) = ack {
        builder = builder.ack(ack);
    }
    if segment.syn {
        builder = builder.syn();
    }
    if segment.fin {
        builder = builder.fin();
    }
    if segment.rst {
        builder = builder.rst();
    }
    builder
        .write(frame, &packet.payload)
        .map_err(io::Error::other)
}

/// The Ethernet and IP headers from `packet`'s source to its destination.
fn ip_builder(packet: &SynthPacket) -> io::Result<PacketBuilderStep<IpHeaders>> {
    Ok(match (packet.src, packet.dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => PacketBuilder::ethernet2(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
        )
        .ipv4(s.ip().octets(), d.ip().octets(), 64),
        (SocketAddr::V6(s), SocketAddr::V6(d)) => PacketBuilder::ethernet2(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
        )
        .ipv6(s.ip().octets(), d.ip().octets(), 64),
        _ => return Err(io::Error::other("a packet mixes IPv4 and IPv6")),
    })
}
