//! Answers to blocked callers, sent from the phone's address through a raw socket.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use ringside_core::engine::Transmit;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Sends the responses that turn blocked callers away, from the phone's address, through a
/// raw socket (the bridge needs an IPv4 address with a route to the provider).
pub(super) struct Injector {
    socket: Socket,
}

impl Injector {
    pub(super) fn open() -> anyhow::Result<Injector> {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))
            .context("cannot open a raw socket to answer blocked calls (is this root?)")?;
        socket.set_nonblocking(true)?;
        Ok(Injector { socket })
    }

    pub(super) fn send(&self, transmit: &Transmit) {
        let (SocketAddr::V4(src), SocketAddr::V4(dst)) = (transmit.src, transmit.dst) else {
            tracing::warn!("cannot answer a blocked call over IPv6; it is dropped silently");
            return;
        };
        let mut packet = Vec::with_capacity(transmit.payload.len() + 28);
        let written = etherparse::PacketBuilder::ipv4(src.ip().octets(), dst.ip().octets(), 64)
            .udp(src.port(), dst.port())
            .write(&mut packet, &transmit.payload);
        let target = SockAddr::from(SocketAddr::new(IpAddr::V4(*dst.ip()), 0));
        if let Err(error) = written
            .map_err(std::io::Error::other)
            .and_then(|()| self.socket.send_to(&packet, &target))
        {
            tracing::warn!("cannot send the response to a blocked call to {dst}: {error}");
        }
    }
}
