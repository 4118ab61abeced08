//! The announcement sockets: IPv4 (broadcast and unicast to any of this host's addresses)
//! and the IPv6 group `ff02::7651`, each read on its own thread into one channel.
//!
//! Address reuse is on, so several users of one machine can each run a client.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::mpsc::Sender;

use ringside_core::announce::{IPV6_GROUP, MAX_LEN};
use socket2::{Domain, Protocol, Socket, Type};

/// Opens the sockets and starts one reader thread each; datagrams go to `sender`.
pub fn listen(port: u16, ipv6: bool, sender: &Sender<Vec<u8>>) -> anyhow::Result<()> {
    let v4 = bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))?;
    v4.set_broadcast(true)?;
    spawn_reader(v4.into(), sender.clone())?;
    if ipv6 {
        match bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))) {
            Ok(v6) => {
                // Interface 0: the system's default for the group.
                if let Err(error) = v6.join_multicast_v6(&IPV6_GROUP, 0) {
                    tracing::warn!("cannot join {IPV6_GROUP}: {error}; IPv4 only");
                }
                spawn_reader(v6.into(), sender.clone())?;
            }
            Err(error) => tracing::warn!("no IPv6 announcements: {error}"),
        }
    }
    Ok(())
}

fn bind(address: SocketAddr) -> std::io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    socket.set_reuse_address(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuse_port(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&address.into())?;
    Ok(socket)
}

fn spawn_reader(socket: UdpSocket, sender: Sender<Vec<u8>>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ringside-notify-listen".into())
        .spawn(move || {
            let mut buffer = vec![0u8; MAX_LEN + 1];
            while let Ok(n) = socket.recv(&mut buffer) {
                if sender.send(buffer[..n].to_vec()).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}
