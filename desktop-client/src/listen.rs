//! The announcement sockets: IPv4 (broadcast and unicast to any of this host's addresses)
//! and the IPv6 group `ff02::7651`, each read on its own thread into one bounded queue.
//!
//! Each datagram is stamped with the time it arrived (the freshness check of signed ones
//! must not count the time it waited). While the client's output is blocked (`--print` to a
//! pipe nobody reads, say), at most [`QUEUE`] datagrams wait; the rest are dropped and
//! counted, so memory stays flat whatever the LAN sends.
//!
//! Address reuse is on, so several users of one machine can each run a client.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ringside_core::announce::{IPV6_GROUP, MAX_LEN};
use socket2::{Domain, Protocol, Socket, Type};

use crate::app::Input;

/// How many datagrams may wait for the client (each at most `MAX_LEN` bytes).
pub const QUEUE: usize = 64;

/// The datagrams that arrive, and how many were dropped because the queue was full.
pub struct Listener {
    /// Datagrams, oldest first.
    pub inputs: Receiver<Input>,
    /// Dropped since it was last taken (swap it to zero to read it).
    pub dropped: Arc<AtomicU64>,
    /// The UDP port listened on: the one asked for, or the system's pick for port 0.
    pub port: u16,
}

/// Opens the sockets and starts one reader thread each. With port 0 the system picks the
/// IPv4 socket's port and the IPv6 socket shares it (the tests use it: no port chosen
/// beforehand that another process could take first).
pub fn listen(port: u16, ipv6: bool) -> anyhow::Result<Listener> {
    let (sender, inputs) = sync_channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let reader = Reader {
        sender,
        dropped: dropped.clone(),
    };
    let v4 = bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))?;
    v4.set_broadcast(true)?;
    let port = v4
        .local_addr()?
        .as_socket()
        .map_or(port, |bound| bound.port());
    spawn_reader(v4.into(), reader.clone())?;
    if ipv6 {
        match bind(SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))) {
            Ok(v6) => {
                // Interface 0: the system's default for the group.
                if let Err(error) = v6.join_multicast_v6(&IPV6_GROUP, 0) {
                    tracing::warn!("cannot join {IPV6_GROUP}: {error}; IPv4 only");
                }
                spawn_reader(v6.into(), reader)?;
            }
            Err(error) => tracing::warn!("no IPv6 announcements: {error}"),
        }
    }
    Ok(Listener {
        inputs,
        dropped,
        port,
    })
}

/// One socket's side of the queue.
#[derive(Clone)]
struct Reader {
    sender: SyncSender<Input>,
    dropped: Arc<AtomicU64>,
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

fn spawn_reader(socket: UdpSocket, reader: Reader) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ringside-notify-listen".into())
        .spawn(move || {
            let mut buffer = vec![0u8; MAX_LEN + 1];
            while let Ok(n) = socket.recv(&mut buffer) {
                let unix_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis() as u64;
                let input = Input::Datagram {
                    bytes: buffer[..n].to_vec(),
                    unix_ms,
                };
                match reader.sender.try_send(input) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        reader.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
        })?;
    Ok(())
}
