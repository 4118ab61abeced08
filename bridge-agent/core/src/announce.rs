//! The announcement codec: what the agent broadcasts on the LAN (UDP 7651) when a call rings,
//! is answered, is missed or ends, and what desktop clients read.
//!
//! An unsigned datagram (no shared secret) is the 8 bytes `RINGSIDE`, the version byte `0x01`
//! and a UTF-8 JSON object. A signed one is `RINGSIDE`, the version byte `0x02`, the time it
//! was sent (milliseconds since the Unix epoch, 8 bytes big-endian), a random 16-byte nonce,
//! the JSON object, and 32 bytes of HMAC-SHA256 over everything before them.
//!
//! A client with the secret accepts only version 2 with a valid HMAC, sent within
//! [`FRESHNESS_WINDOW_MS`] of its own clock, with a nonce it has not seen ([`ReplayGuard`]):
//! a recorded announcement cannot be played back later, and a version 1 datagram (unsigned,
//! or signed by an older agent without time or nonce) is refused. A client without the secret
//! reads both versions and ignores the header and trailer: anyone on the LAN could forge
//! those anyway.
//!
//! The codec is sans-IO: the sender passes the time and the nonce in ([`Stamp`]), the
//! receiver passes its clock to [`ReplayGuard::check`].

use std::collections::HashMap;

use ::time::OffsetDateTime;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::call_view::Party;
use crate::outcome::{CallDirection, Disposition};

/// The first bytes of every announcement.
pub const MAGIC: &[u8; 8] = b"RINGSIDE";
/// The format version of unsigned announcements.
pub const VERSION: u8 = 1;
/// The format version of signed announcements (time and nonce, then JSON, then HMAC).
pub const SIGNED_VERSION: u8 = 2;
/// The length of a signed announcement's nonce.
pub const NONCE_LEN: usize = 16;
/// How far a signed announcement's time may be from the receiver's clock.
pub const FRESHNESS_WINDOW_MS: u64 = 30_000;
/// How many nonces a [`ReplayGuard`] remembers at most (far more than a household's calls
/// announce in a minute).
pub const REMEMBERED_NONCES: usize = 4096;
/// The UDP port announcements go to by default.
pub const PORT: u16 = 7651;
/// The IPv6 link-local multicast group announcements go to.
pub const IPV6_GROUP: std::net::Ipv6Addr =
    std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x7651);
/// Datagrams longer than this are refused unread (a real one is a few hundred bytes).
pub const MAX_LEN: usize = 8192;

const MAC_LEN: usize = 32;
const STAMP_LEN: usize = 8 + NONCE_LEN;

/// What happened to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A new call: the phone rings (inbound) or dials (outbound).
    Ring,
    /// Someone picked up.
    Answered,
    /// An inbound call ended without an answer.
    Missed,
    /// A call ended (answered, or an outbound call that failed).
    Ended,
    /// Voicemail messages are waiting (or no longer are).
    Voicemail,
}

/// One announcement. Its JSON is the wire format: the fields of [`Party`] sit between
/// `direction` and `line` as they always have (`flatten`), times and words are written as
/// they always were, so that every client reads what every agent sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// What happened.
    pub event: EventKind,
    /// The call it is about (its SIP Call-ID); every event of a call carries the same one.
    pub call: String,
    /// Which way the call goes.
    pub direction: CallDirection,
    /// Who is on the other end (`display`: the phonebook's name, else the signalled one).
    #[serde(flatten)]
    pub party: Party,
    /// Which line (the phone's address) the call is on.
    pub line: Option<String>,
    /// When it happened.
    #[serde(with = "crate::rfc3339")]
    pub time: OffsetDateTime,
    /// How an ended call went; `None` too for a word this build does not know (a newer
    /// agent's, as `forwarded` was once): the popup still shows.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "known_disposition"
    )]
    pub disposition: Option<Disposition>,
    /// Voicemail messages waiting, for `voicemail` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_waiting: Option<u32>,
}

/// Reads a disposition, or `None` for a word this build does not know.
fn known_disposition<'de, D>(deserializer: D) -> Result<Option<Disposition>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let word = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(word.and_then(|word| word.parse().ok()))
}

/// Why a datagram is not an announcement this client accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// It does not start with `RINGSIDE` (another program's datagram).
    #[error("not a Ringside announcement")]
    NotRingside,
    /// A version this client does not know.
    #[error("announcement version {0} is not supported (this client reads versions 1 and 2)")]
    Version(u8),
    /// Longer than any real announcement.
    #[error("announcement of {0} bytes is too long")]
    TooLong(usize),
    /// The JSON could not be read.
    #[error("announcement JSON is malformed: {0}")]
    Json(String),
    /// Bytes after the JSON that are not an HMAC.
    #[error("{0} stray bytes after the announcement")]
    Trailing(usize),
    /// A secret is configured and the datagram carries no HMAC.
    #[error("announcement is not signed, and a shared secret is configured")]
    Unsigned,
    /// The HMAC does not match the secret.
    #[error("announcement signature does not match the shared secret")]
    BadSignature,
    /// Signed in the version 1 format, with no time or nonce: it could be a recording.
    #[error(
        "announcement is signed without a time and nonce (an older Ringside agent): refused, it could be replayed; upgrade the agent"
    )]
    Unstamped,
    /// Sent too long before (or after) the receiver's clock says.
    #[error(
        "announcement sent {0} s away from this computer's clock (more than 30 s): replayed, or a clock is wrong"
    )]
    Stale(i64),
    /// Its nonce was seen before: a replay, or the same datagram over IPv4 and IPv6.
    #[error("announcement already seen (its nonce repeats)")]
    Replayed,
    /// More fresh nonces than a guard remembers.
    #[error("more than {REMEMBERED_NONCES} signed announcements in a minute: refused")]
    Flood,
}

/// When a signed announcement was sent, and its nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since the Unix epoch, by the sender's clock.
    pub sent_at_ms: u64,
    /// Random bytes, never used twice.
    pub nonce: [u8; NONCE_LEN],
}

/// What signing needs: the shared secret and the announcement's stamp.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The shared secret.
    pub secret: &'a [u8],
    /// The time and nonce to sign in.
    pub stamp: Stamp,
}

/// A datagram read: the announcement, and the stamp of a signed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The announcement.
    pub announcement: Announcement,
    /// The time and nonce (version 2), checked against the HMAC when a secret was given.
    pub stamp: Option<Stamp>,
}

/// The datagram for `announcement`: signed, with its time and nonce, when `signer` is given.
#[must_use]
pub fn encode(announcement: &Announcement, signer: Option<&Signer<'_>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(MAGIC);
    match signer {
        None => out.push(VERSION),
        Some(signer) => {
            out.push(SIGNED_VERSION);
            out.extend_from_slice(&signer.stamp.sent_at_ms.to_be_bytes());
            out.extend_from_slice(&signer.stamp.nonce);
        }
    }
    // Serialising a struct of strings, booleans and numbers into a Vec cannot fail.
    if serde_json::to_writer(&mut out, announcement).is_err() {
        out.extend_from_slice(b"{}");
    }
    if let Some(signer) = signer {
        let tag = mac(signer.secret)
            .chain_update(&out)
            .finalize()
            .into_bytes();
        out.extend_from_slice(&tag);
    }
    out
}

/// Reads a datagram and checks its signature (with `secret`, only version 2 datagrams signed
/// with it are accepted), not its freshness: a client passes the stamp to a [`ReplayGuard`].
pub fn decode(datagram: &[u8], secret: Option<&[u8]>) -> Result<Announcement, DecodeError> {
    open(datagram, secret).map(|opened| opened.announcement)
}

/// Reads a datagram and checks its signature, returning its stamp too (see [`decode`]).
pub fn open(datagram: &[u8], secret: Option<&[u8]>) -> Result<Opened, DecodeError> {
    if datagram.len() > MAX_LEN {
        return Err(DecodeError::TooLong(datagram.len()));
    }
    let rest = datagram
        .strip_prefix(MAGIC.as_slice())
        .ok_or(DecodeError::NotRingside)?;
    let (&version, rest) = rest.split_first().ok_or(DecodeError::NotRingside)?;
    let (stamp, body) = match version {
        VERSION => (None, rest),
        SIGNED_VERSION if rest.len() >= STAMP_LEN => {
            let (stamp, body) = rest.split_at(STAMP_LEN);
            let (time, nonce) = stamp.split_at(8);
            let stamp = Stamp {
                sent_at_ms: u64::from_be_bytes(time.try_into().unwrap_or_default()),
                nonce: nonce.try_into().unwrap_or_default(),
            };
            (Some(stamp), body)
        }
        SIGNED_VERSION => return Err(DecodeError::Json("no room for a time and nonce".into())),
        other => return Err(DecodeError::Version(other)),
    };
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Announcement>();
    let announcement = match stream.next() {
        Some(Ok(announcement)) => announcement,
        Some(Err(error)) => return Err(DecodeError::Json(error.to_string())),
        None => return Err(DecodeError::Json("empty".into())),
    };
    let signed_len = datagram.len() - body.len() + stream.byte_offset();
    let (signed, trailer) = datagram.split_at(signed_len);
    match (trailer.len(), secret, stamp) {
        (0, None, None) | (MAC_LEN, None, _) => {}
        (0, Some(_), _) => return Err(DecodeError::Unsigned),
        (MAC_LEN, Some(_), None) => return Err(DecodeError::Unstamped),
        (MAC_LEN, Some(secret), Some(_)) => mac(secret)
            .chain_update(signed)
            .verify_slice(trailer)
            .map_err(|_| DecodeError::BadSignature)?,
        (n, _, _) => return Err(DecodeError::Trailing(n)),
    }
    Ok(Opened {
        announcement,
        stamp,
    })
}

/// Refuses signed announcements far from the receiver's clock or seen before: push each
/// verified stamp in with [`ReplayGuard::check`] and the receiver's time. Nonces are
/// remembered only as long as their stamp would pass the clock check, at most
/// [`REMEMBERED_NONCES`] of them (only holders of the secret can add any).
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: HashMap<[u8; NONCE_LEN], u64>,
}

impl ReplayGuard {
    /// Accepts `stamp` at `now_ms` (milliseconds since the Unix epoch), or says why not.
    pub fn check(&mut self, stamp: &Stamp, now_ms: u64) -> Result<(), DecodeError> {
        if stamp.sent_at_ms.abs_diff(now_ms) > FRESHNESS_WINDOW_MS {
            let seconds = (i128::from(stamp.sent_at_ms) - i128::from(now_ms)) / 1000;
            return Err(DecodeError::Stale(
                i64::try_from(seconds).unwrap_or(i64::MAX),
            ));
        }
        if self.seen.contains_key(&stamp.nonce) {
            return Err(DecodeError::Replayed);
        }
        if self.seen.len() >= REMEMBERED_NONCES {
            // Stamps older than the window would be refused as stale: their nonces can go.
            self.seen
                .retain(|_, &mut sent| sent.abs_diff(now_ms) <= FRESHNESS_WINDOW_MS);
            if self.seen.len() >= REMEMBERED_NONCES {
                return Err(DecodeError::Flood);
            }
        }
        self.seen.insert(stamp.nonce, stamp.sent_at_ms);
        Ok(())
    }
}

#[expect(
    clippy::expect_used,
    reason = "HMAC takes a key of any length (RFC 2104 hashes long keys, pads short ones): \
              `new_from_slice` has no error to return for it"
)]
fn mac(secret: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller_id::Presentation;
    use proptest::prelude::*;

    fn ring() -> Announcement {
        Announcement {
            event: EventKind::Ring,
            call: "abc@203.0.113.5".into(),
            direction: CallDirection::Inbound,
            party: Party {
                number: Some("15550100001".into()),
                name: Some("WIRELESS CALLER".into()),
                display: Some("Mom \"Mother\" Ünal".into()),
                presentation: Presentation::Number,
            },
            line: Some("192.168.1.20:5060".into()),
            time: crate::rfc3339::parse("2026-11-22T10:00:00.000000Z").expect("time"),
            disposition: None,
            messages_waiting: None,
        }
    }

    const SECRET: &[u8] = b"kitchen-table-secret";
    const NOW: u64 = 1_795_000_000_000;

    fn signer(secret: &[u8], sent_at_ms: u64, nonce: u8) -> Signer<'_> {
        Signer {
            secret,
            stamp: Stamp {
                sent_at_ms,
                nonce: [nonce; NONCE_LEN],
            },
        }
    }

    #[test]
    fn round_trips_signed_and_unsigned() {
        let plain = encode(&ring(), None);
        assert!(plain.starts_with(b"RINGSIDE\x01{"));
        assert_eq!(decode(&plain, None), Ok(ring()));
        let signed = encode(&ring(), Some(&signer(SECRET, NOW, 7)));
        assert!(signed.starts_with(b"RINGSIDE\x02"));
        assert_eq!(signed.len(), plain.len() + 8 + NONCE_LEN + 32);
        let opened = open(&signed, Some(SECRET)).expect("signed");
        assert_eq!(opened.announcement, ring());
        assert_eq!(
            opened.stamp,
            Some(Stamp {
                sent_at_ms: NOW,
                nonce: [7; NONCE_LEN]
            })
        );
        assert_eq!(
            decode(&signed, None),
            Ok(ring()),
            "a client without the secret reads it"
        );
    }

    #[test]
    fn forged_unsigned_and_foreign_datagrams_are_refused() {
        let secret = Some(SECRET);
        assert_eq!(
            decode(&encode(&ring(), None), secret),
            Err(DecodeError::Unsigned)
        );
        assert_eq!(
            decode(
                &encode(&ring(), Some(&signer(b"another-secret-entirely", NOW, 1))),
                secret
            ),
            Err(DecodeError::BadSignature)
        );
        let mut tampered = encode(&ring(), Some(&signer(SECRET, NOW, 1)));
        let at = tampered.iter().position(|&b| b == b'5').expect("a digit");
        tampered[at] = b'9';
        assert_eq!(decode(&tampered, secret), Err(DecodeError::BadSignature));
        let mut retimed = encode(&ring(), Some(&signer(SECRET, NOW, 1)));
        retimed[9 + 7] ^= 1;
        assert_eq!(
            decode(&retimed, secret),
            Err(DecodeError::BadSignature),
            "the time is signed"
        );
        assert_eq!(
            decode(b"M-SEARCH * HTTP/1.1", None),
            Err(DecodeError::NotRingside)
        );
        assert_eq!(
            decode(b"RINGSIDE\x03{}", None),
            Err(DecodeError::Version(3))
        );
        assert!(matches!(
            decode(b"RINGSIDE\x02short", None),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode(b"RINGSIDE\x01{\"event\":", None),
            Err(DecodeError::Json(_))
        ));
        let mut stray = encode(&ring(), None);
        stray.extend_from_slice(b"xyz");
        assert_eq!(decode(&stray, None), Err(DecodeError::Trailing(3)));
    }

    /// A signed (version 2) `ended` announcement exactly as the agent sent it before its
    /// direction, disposition, party and time were typed (bytes taken from that build).
    const SENT_BEFORE_TYPES: &str = r#"{"event":"ended","call":"abc@203.0.113.5","direction":"inbound","number":"15550100001","name":"WIRELESS CALLER","display":"Mom \"Mother\" Ünal","anonymous":false,"line":"192.168.1.20:5060","time":"2026-11-22T10:00:07.250000Z","disposition":"answered"}"#;
    /// Its HMAC-SHA256 with [`SECRET`], sent at [`NOW`] with nonce 7.
    const SENT_BEFORE_TYPES_MAC: &str =
        "1f57f2c77f6704a6c8005c6f3a0bf315dbf1bed2ed35ea158d823ea1c132ac5c";

    #[test]
    fn a_version_2_announcement_from_before_the_typed_fields_opens_and_encodes_the_same_fields() {
        let mut sent = b"RINGSIDE\x02".to_vec();
        sent.extend_from_slice(&NOW.to_be_bytes());
        sent.extend_from_slice(&[7; NONCE_LEN]);
        sent.extend_from_slice(SENT_BEFORE_TYPES.as_bytes());
        let mac = SENT_BEFORE_TYPES_MAC.as_bytes().chunks(2).map(|pair| {
            u8::from_str_radix(std::str::from_utf8(pair).expect("hex"), 16).expect("hex")
        });
        sent.extend(mac);
        let opened = open(&sent, Some(SECRET)).expect("the old datagram opens");
        let ended = &opened.announcement;
        assert_eq!(ended.event, EventKind::Ended);
        assert_eq!(ended.direction, CallDirection::Inbound);
        assert_eq!(ended.disposition, Some(Disposition::Answered));
        assert_eq!(ended.party.display.as_deref(), Some("Mom \"Mother\" Ünal"));
        assert_eq!(ended.time.microsecond(), 250_000);
        // Encoded again it says the same, plus what was added since (`unknown`,
        // `presentation`), nothing renamed or dropped.
        let again = encode(ended, None);
        let json = again.strip_prefix(b"RINGSIDE\x01").expect("version 1");
        let again: serde_json::Value = serde_json::from_slice(json).expect("JSON");
        let mut expected: serde_json::Value =
            serde_json::from_str(SENT_BEFORE_TYPES).expect("JSON");
        expected["unknown"] = false.into();
        expected["presentation"] = "number".into();
        assert_eq!(again, expected);
    }

    #[test]
    fn words_and_times_an_agent_never_sends_are_refused() {
        let with = |field: &str, value: &str| {
            let json = SENT_BEFORE_TYPES.replacen(field, value, 1);
            decode(
                &[b"RINGSIDE\x01".as_slice(), json.as_bytes()].concat(),
                None,
            )
        };
        let time = "2026-11-22T10:00:07.250000Z";
        for (field, value) in [
            ("\"answered\"", "7"),
            ("\"inbound\"", "\"sideways\""),
            (time, "last tuesday"),
            (time, "9999-12-31T23:59:59-23:59"),
        ] {
            assert!(
                matches!(with(field, value), Err(DecodeError::Json(_))),
                "{value}"
            );
        }
    }

    /// A newer agent's word for how a call ended (this build once did not know `forwarded`)
    /// loses only that word: the popup still shows.
    #[test]
    fn a_disposition_this_build_does_not_know_reads_as_none() {
        let with = |word: &str| {
            let json = SENT_BEFORE_TYPES.replacen("\"answered\"", word, 1);
            decode(
                &[b"RINGSIDE\x01".as_slice(), json.as_bytes()].concat(),
                None,
            )
            .map(|announcement| announcement.disposition)
        };
        assert_eq!(with("\"forwarded\""), Ok(Some(Disposition::Forwarded)));
        assert_eq!(with("\"transferred\""), Ok(None));
        assert_eq!(with("\"hung up\""), Ok(None));
        assert_eq!(with("null"), Ok(None));
    }

    /// The bug: signed announcements carried no time or nonce, so a recorded one could be
    /// replayed at will. The old format (version 1 with an HMAC) is now refused with a secret.
    #[test]
    fn version_1_signed_announcements_are_refused_as_unstamped() {
        let mut old = encode(&ring(), None);
        let tag = mac(SECRET).chain_update(&old).finalize().into_bytes();
        old.extend_from_slice(&tag);
        assert_eq!(decode(&old, Some(SECRET)), Err(DecodeError::Unstamped));
        assert_eq!(decode(&old, None), Ok(ring()), "readable without a secret");
    }

    #[test]
    fn the_guard_refuses_stale_and_repeated_stamps() {
        let mut guard = ReplayGuard::default();
        let stamp = |sent_at_ms, nonce| signer(SECRET, sent_at_ms, nonce).stamp;
        assert_eq!(guard.check(&stamp(NOW - 29_000, 1), NOW), Ok(()));
        assert_eq!(
            guard.check(&stamp(NOW - 29_000, 1), NOW + 500),
            Err(DecodeError::Replayed)
        );
        assert_eq!(
            guard.check(&stamp(NOW - 31_000, 2), NOW),
            Err(DecodeError::Stale(-31))
        );
        assert_eq!(
            guard.check(&stamp(NOW + 45_000, 3), NOW),
            Err(DecodeError::Stale(45))
        );
        assert_eq!(guard.check(&stamp(NOW + 20_000, 4), NOW), Ok(()));
        assert_eq!(
            guard.check(&stamp(0, 5), u64::MAX),
            Err(DecodeError::Stale(-18_446_744_073_709_551))
        );
    }

    #[test]
    fn the_guard_forgets_old_nonces_and_stays_bounded() {
        let mut guard = ReplayGuard::default();
        let stamp = |sent_at_ms, n: usize| Stamp {
            sent_at_ms,
            nonce: {
                let mut nonce = [0; NONCE_LEN];
                nonce[..8].copy_from_slice(&(n as u64).to_be_bytes());
                nonce
            },
        };
        for n in 0..REMEMBERED_NONCES {
            assert_eq!(guard.check(&stamp(NOW, n), NOW), Ok(()));
        }
        assert_eq!(
            guard.check(&stamp(NOW, usize::MAX), NOW),
            Err(DecodeError::Flood)
        );
        let later = NOW + 31_000;
        assert_eq!(guard.check(&stamp(later, usize::MAX), later), Ok(()));
        assert_eq!(guard.seen.len(), 1, "the stale nonces went");
    }

    proptest! {
        #[test]
        fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            for version in [1u8, 2, 3] {
                let mut datagram = b"RINGSIDE".to_vec();
                datagram.push(version);
                datagram.extend_from_slice(&bytes);
                let _ = decode(&datagram, None);
                let _ = decode(&datagram, Some(b"secret-secret-secret"));
            }
            let _ = decode(&bytes, None);
        }
    }
}
