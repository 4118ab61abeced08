//! LAN announcements (DESIGN, "Announcement on the LAN"): engine events become one datagram
//! per call event, sent on a thread of its own so the packet path never waits for the
//! phonebook or the network.
//!
//! A new inbound call is announced as `ring` (blocked calls never are), then `answered`, and
//! `missed` or `ended`. The `display` name comes from the phonebook when the user named the
//! number. With the `announce_secret` setting, datagrams carry the time they were sent, a
//! random nonce and an HMAC, so that clients refuse forged and replayed ones.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use ringside_core::announce::{self, Announcement, EventKind, IPV6_GROUP, PORT};
use ringside_core::call::{CallDirection, CallInfo, CallKey, Disposition};
use ringside_core::call_view::Party;
use ringside_core::voicemail::MessageSummary;
use ringside_core::{Event, Timestamp};

use crate::store::{Setting, Store};
use crate::timefmt::utc;

/// Turns engine events into announcements; remembers each call from its start.
#[derive(Debug, Default)]
pub struct Announcements {
    calls: HashMap<CallKey, CallInfo>,
}

impl Announcements {
    /// Whether `event` can lead to an announcement (audio never does): the caller clones
    /// only these to the announcer.
    #[must_use]
    pub fn wants(event: &Event) -> bool {
        matches!(
            event,
            Event::CallStarted(_)
                | Event::CallAnswered { .. }
                | Event::CallEnded { .. }
                | Event::Voicemail { .. }
        )
    }

    /// The announcement an event makes, if any.
    pub fn on_event(&mut self, event: &Event) -> Option<Announcement> {
        let (kind, key, at, disposition) = match event {
            Event::Voicemail { at, summary, phone } => {
                return Some(voicemail(*at, summary, *phone));
            }
            Event::CallStarted(info) => {
                if info.blocked_by.is_some() {
                    return None;
                }
                self.calls.insert(info.key, info.clone());
                (EventKind::Ring, info.key, info.started_at, None)
            }
            Event::CallAnswered { call, at, .. } => (EventKind::Answered, *call, *at, None),
            Event::CallEnded {
                call,
                at,
                disposition,
                ..
            } => {
                let info = self.calls.get(call)?;
                let kind = match (disposition, info.direction) {
                    (Disposition::Missed, CallDirection::Inbound) => EventKind::Missed,
                    _ => EventKind::Ended,
                };
                (kind, *call, *at, Some(*disposition))
            }
            _ => return None,
        };
        let info = self.calls.get(&key)?;
        let announcement = announcement(kind, info, at, disposition);
        if kind == EventKind::Missed || kind == EventKind::Ended {
            self.calls.remove(&key);
        }
        Some(announcement)
    }
}

/// A call's announcement; `display` is the signalled name until the announcer looks the
/// number up in the phonebook.
fn announcement(
    event: EventKind,
    info: &CallInfo,
    at: Timestamp,
    disposition: Option<Disposition>,
) -> Announcement {
    let mut party = Party::from(&info.party);
    party.display.clone_from(&party.name);
    Announcement {
        event,
        call: info.call_id.clone(),
        direction: info.direction,
        party,
        line: Some(info.phone.to_string()),
        time: utc(at),
        disposition,
        messages_waiting: None,
    }
}

/// The provider's voicemail report, announced on `phone`'s line.
fn voicemail(at: Timestamp, summary: &MessageSummary, phone: SocketAddr) -> Announcement {
    Announcement {
        event: EventKind::Voicemail,
        call: "voicemail".into(),
        direction: CallDirection::Inbound,
        party: Party {
            display: Some("Voicemail".into()),
            ..Party::default()
        },
        line: Some(phone.to_string()),
        time: utc(at),
        disposition: None,
        messages_waiting: Some(if summary.waiting {
            summary.new.max(1)
        } else {
            0
        }),
    }
}

/// Where announcements go by default: the bridge's IPv4 broadcast address and the IPv6
/// group on the bridge, port 7651. Missing pieces (no IPv4 address yet) are left out.
#[must_use]
pub fn default_targets(bridge: &str) -> Vec<SocketAddr> {
    let mut targets = Vec::new();
    if let Ok(addresses) = nix::ifaddrs::getifaddrs() {
        for address in addresses.filter(|a| a.interface_name == bridge) {
            // The broadcast address from address and mask: interfaces configured without
            // `brd` report no (or a wrong) broadcast address of their own.
            let ip = address
                .address
                .as_ref()
                .and_then(|a| a.as_sockaddr_in().map(nix::sys::socket::SockaddrIn::ip));
            let mask = address
                .netmask
                .as_ref()
                .and_then(|a| a.as_sockaddr_in().map(nix::sys::socket::SockaddrIn::ip));
            if let (Some(ip), Some(mask)) = (ip, mask) {
                let broadcast = Ipv4Addr::from(ip.to_bits() | !mask.to_bits());
                targets.push(SocketAddr::from((broadcast, PORT)));
            }
        }
    }
    if let Ok(index) = nix::net::if_::if_nametoindex(bridge) {
        targets.push(SocketAddr::V6(SocketAddrV6::new(
            IPV6_GROUP, PORT, 0, index,
        )));
    }
    targets
}

/// The announcer on its own thread.
pub struct AnnouncerThread {
    sender: SyncSender<Event>,
    thread: JoinHandle<u64>,
    dropped: u64,
}

impl AnnouncerThread {
    /// Starts sending to `targets`; the phonebook and the secret are read from the store in
    /// `data_dir` (a connection of its own).
    pub fn spawn(data_dir: &Path, targets: Vec<SocketAddr>) -> anyhow::Result<AnnouncerThread> {
        let store = Store::open(data_dir)?;
        let sockets = Sockets::open()?;
        let (sender, receiver) = sync_channel(256);
        let thread = std::thread::Builder::new()
            .name("ringside-announce".into())
            .spawn(move || announce_loop(&receiver, &store, &sockets, &targets))?;
        Ok(AnnouncerThread {
            sender,
            thread,
            dropped: 0,
        })
    }

    /// Hands over an event if it may be announced; never waits (a full channel drops it).
    pub fn offer(&mut self, event: &Event) {
        if Announcements::wants(event) && self.sender.try_send(event.clone()).is_err() {
            self.dropped += 1;
        }
    }

    /// Stops the thread once it has sent what it holds; returns how many datagrams could not
    /// be sent or were dropped.
    #[must_use]
    pub fn finish(self) -> u64 {
        drop(self.sender);
        self.thread.join().unwrap_or(1) + self.dropped
    }
}

struct Sockets {
    v4: UdpSocket,
    v6: Option<UdpSocket>,
}

impl Sockets {
    fn open() -> std::io::Result<Sockets> {
        let v4 = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        v4.set_broadcast(true)?;
        // Hosts without IPv6 still announce over IPv4.
        let v6 = UdpSocket::bind("[::]:0").ok();
        Ok(Sockets { v4, v6 })
    }

    fn send(&self, datagram: &[u8], target: SocketAddr) -> std::io::Result<usize> {
        match (target, &self.v6) {
            (SocketAddr::V4(_), _) => self.v4.send_to(datagram, target),
            (SocketAddr::V6(_), Some(v6)) => v6.send_to(datagram, target),
            (SocketAddr::V6(_), None) => Err(std::io::ErrorKind::AddrNotAvailable.into()),
        }
    }
}

fn announce_loop(
    receiver: &Receiver<Event>,
    store: &Store,
    sockets: &Sockets,
    targets: &[SocketAddr],
) -> u64 {
    let mut announcements = Announcements::default();
    let mut failures = 0;
    let mut failing = std::collections::HashSet::new();
    while let Ok(event) = receiver.recv() {
        let Some(mut announcement) = announcements.on_event(&event) else {
            continue;
        };
        let party = &mut announcement.party;
        if let Some(number) = &party.number {
            if let Ok(Some(entry)) = store.phonebook_entry(number) {
                party.display = entry.user_name.or(party.display.take());
            }
        }
        let secret = store.setting(Setting::AnnounceSecret).unwrap_or_default();
        let datagram = if secret.is_empty() {
            announce::encode(&announcement, None)
        } else {
            let Some(stamp) = stamp() else {
                failures += 1;
                continue;
            };
            let signer = announce::Signer {
                secret: secret.as_bytes(),
                stamp,
            };
            announce::encode(&announcement, Some(&signer))
        };
        for &target in targets {
            match sockets.send(&datagram, target) {
                Ok(_) => {
                    failing.remove(&target);
                }
                // Said once per target until it works again (an IPv6 group fails while the
                // bridge's link-local address is still tentative, for example).
                Err(error) if failing.insert(target) => {
                    tracing::warn!("cannot announce to {target}: {error}");
                    failures += 1;
                }
                Err(error) => {
                    tracing::debug!("cannot announce to {target}: {error}");
                    failures += 1;
                }
            }
        }
    }
    failures
}

/// The time (by this host's clock) and a fresh random nonce for a signed announcement; `None`
/// (said in the log) if the system has no randomness to give.
fn stamp() -> Option<announce::Stamp> {
    let mut nonce = [0u8; announce::NONCE_LEN];
    if let Err(error) = getrandom::fill(&mut nonce) {
        tracing::error!("no random nonce for a signed announcement: {error}");
        return None;
    }
    let sent_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Some(announce::Stamp {
        sent_at_ms: sent_at.as_millis() as u64,
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::caller_id::{CallerId, CallerIdSource};
    use ringside_core::engine::CallSummary;
    use ringside_core::filters::{Action, Field, Filter};

    fn info(key: u64, blocked: bool) -> CallInfo {
        CallInfo {
            key: CallKey(key),
            call_id: format!("call-{key}"),
            direction: CallDirection::Inbound,
            direction_source: ringside_core::call::DirectionSource::BridgePort,
            party: CallerId {
                number: Some("15550100001".into()),
                name: Some("WIRELESS CALLER".into()),
                presentation: ringside_core::caller_id::Presentation::Number,
                source: CallerIdSource::From,
                raw: String::new(),
            },
            started_at: Timestamp(1_000_000),
            phone: "192.168.1.20:5060".parse().expect("address"),
            remote: "203.0.113.5:5060".parse().expect("address"),
            blocked_by: blocked.then(|| Filter {
                id: 1,
                pattern: "*".into(),
                field: Field::Number,
                action: Action::Block,
            }),
        }
    }

    fn ended(key: u64, disposition: Disposition) -> Event {
        Event::CallEnded {
            call: CallKey(key),
            at: Timestamp(9_000_000),
            disposition,
            summary: CallSummary::default(),
        }
    }

    #[test]
    fn ring_then_missed_once_each_and_blocked_calls_stay_silent() {
        let mut announcements = Announcements::default();
        let ring = announcements
            .on_event(&Event::CallStarted(info(1, false)))
            .expect("a ring");
        assert_eq!(ring.event, EventKind::Ring);
        assert_eq!(ring.party.number.as_deref(), Some("15550100001"));
        assert_eq!(ring.call, "call-1");
        let missed = announcements
            .on_event(&ended(1, Disposition::Missed))
            .expect("missed");
        assert_eq!(missed.event, EventKind::Missed);
        assert_eq!(missed.call, ring.call);
        assert_eq!(announcements.on_event(&ended(1, Disposition::Missed)), None);
        assert_eq!(
            announcements.on_event(&Event::CallStarted(info(2, true))),
            None
        );
        assert_eq!(
            announcements.on_event(&ended(2, Disposition::Blocked)),
            None
        );
    }

    #[test]
    fn a_forwarded_call_ends_as_ended_with_its_word() {
        let mut announcements = Announcements::default();
        announcements.on_event(&Event::CallStarted(info(4, false)));
        let forwarded = announcements
            .on_event(&ended(4, Disposition::Forwarded))
            .expect("an end");
        assert_eq!(
            forwarded.event,
            EventKind::Ended,
            "not a missed call to return"
        );
        assert_eq!(forwarded.disposition, Some(Disposition::Forwarded));
        let datagram = ringside_core::announce::encode(&forwarded, None);
        let text = String::from_utf8_lossy(&datagram);
        assert!(text.contains("\"disposition\":\"forwarded\""), "{text}");
    }

    #[test]
    fn answered_calls_end_as_ended() {
        let mut announcements = Announcements::default();
        announcements.on_event(&Event::CallStarted(info(3, false)));
        let answered = announcements.on_event(&Event::CallAnswered {
            call: CallKey(3),
            at: Timestamp(2_000_000),
            by: ringside_core::call::AnswerEvidence::AckFor2xx,
        });
        assert_eq!(answered.map(|a| a.event), Some(EventKind::Answered));
        let end = announcements
            .on_event(&ended(3, Disposition::Answered))
            .expect("ended");
        assert_eq!(end.event, EventKind::Ended);
        assert_eq!(end.disposition, Some(Disposition::Answered));
    }

    #[test]
    fn every_stamp_has_the_current_time_and_its_own_nonce() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        let (a, b) = (stamp().expect("a stamp"), stamp().expect("a stamp"));
        assert_ne!(a.nonce, b.nonce);
        assert!(a.sent_at_ms.abs_diff(now) < 5_000, "{a:?} at {now}");
    }
}
