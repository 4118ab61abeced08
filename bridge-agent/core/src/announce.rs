//! The announcement codec: what the agent broadcasts on the LAN (UDP 7651) when a call rings,
//! is answered, is missed or ends, and what desktop clients read.
//!
//! A datagram is the 8 bytes `RINGSIDE`, the version byte `0x01`, a UTF-8 JSON object, and,
//! when a shared secret is set, 32 bytes of HMAC-SHA256 over everything before them. A client
//! with the secret refuses datagrams without a valid HMAC; a client without it reads the
//! JSON and ignores the trailer.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The first bytes of every announcement.
pub const MAGIC: &[u8; 8] = b"RINGSIDE";
/// The format version this codec writes and reads.
pub const VERSION: u8 = 1;
/// The UDP port announcements go to by default.
pub const PORT: u16 = 7651;
/// The IPv6 link-local multicast group announcements go to.
pub const IPV6_GROUP: std::net::Ipv6Addr =
    std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x7651);
/// Datagrams longer than this are refused unread (a real one is a few hundred bytes).
pub const MAX_LEN: usize = 8192;

const MAC_LEN: usize = 32;

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

/// Which way the call goes, seen from the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Someone calls the phone.
    Inbound,
    /// The phone calls out.
    Outbound,
}

/// One announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// What happened.
    pub event: EventKind,
    /// The call it is about (its SIP Call-ID); every event of a call carries the same one.
    pub call: String,
    /// Which way the call goes.
    pub direction: Direction,
    /// The other party's number; `None` when anonymous.
    pub number: Option<String>,
    /// The name the network signalled.
    pub name: Option<String>,
    /// The name to show: the phonebook's, else `name`.
    pub display: Option<String>,
    /// Whether the caller withheld their identity.
    pub anonymous: bool,
    /// Which line (the phone's address) the call is on.
    pub line: Option<String>,
    /// When it happened, RFC 3339.
    pub time: String,
    /// How an ended call went (`answered`, `busy`, `failed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// Voicemail messages waiting, for `voicemail` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_waiting: Option<u32>,
}

/// Why a datagram is not an announcement this client accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// It does not start with `RINGSIDE` (another program's datagram).
    #[error("not a Ringside announcement")]
    NotRingside,
    /// A version this client does not know.
    #[error("announcement version {0} is not supported (this client reads version 1)")]
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
}

/// The datagram for `announcement`, signed when `secret` is given.
#[must_use]
pub fn encode(announcement: &Announcement, secret: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    // Serialising a struct of strings, booleans and numbers into a Vec cannot fail.
    if serde_json::to_writer(&mut out, announcement).is_err() {
        out.extend_from_slice(b"{}");
    }
    if let Some(secret) = secret {
        let tag = mac(secret).chain_update(&out).finalize().into_bytes();
        out.extend_from_slice(&tag);
    }
    out
}

/// Reads a datagram. With `secret`, only datagrams signed with it are accepted.
pub fn decode(datagram: &[u8], secret: Option<&[u8]>) -> Result<Announcement, DecodeError> {
    if datagram.len() > MAX_LEN {
        return Err(DecodeError::TooLong(datagram.len()));
    }
    let rest = datagram
        .strip_prefix(MAGIC.as_slice())
        .ok_or(DecodeError::NotRingside)?;
    let (&version, body) = rest.split_first().ok_or(DecodeError::NotRingside)?;
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Announcement>();
    let announcement = match stream.next() {
        Some(Ok(announcement)) => announcement,
        Some(Err(error)) => return Err(DecodeError::Json(error.to_string())),
        None => return Err(DecodeError::Json("empty".into())),
    };
    let json_end = MAGIC.len() + 1 + stream.byte_offset();
    let trailer = &datagram[json_end..];
    match (trailer.len(), secret) {
        (0 | MAC_LEN, None) => Ok(announcement),
        (0, Some(_)) => Err(DecodeError::Unsigned),
        (MAC_LEN, Some(secret)) => mac(secret)
            .chain_update(&datagram[..json_end])
            .verify_slice(trailer)
            .map(|()| announcement)
            .map_err(|_| DecodeError::BadSignature),
        (n, _) => Err(DecodeError::Trailing(n)),
    }
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length (RFC 2104 hashes long keys, pads short ones).
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> Announcement {
        Announcement {
            event: EventKind::Ring,
            call: "abc@203.0.113.5".into(),
            direction: Direction::Inbound,
            number: Some("15550100001".into()),
            name: Some("WIRELESS CALLER".into()),
            display: Some("Mom \"Mother\" Ünal".into()),
            anonymous: false,
            line: Some("192.168.1.20:5060".into()),
            time: "2026-11-22T10:00:00.000000Z".into(),
            disposition: None,
            messages_waiting: None,
        }
    }

    #[test]
    fn round_trips_signed_and_unsigned() {
        let plain = encode(&ring(), None);
        assert!(plain.starts_with(b"RINGSIDE\x01{"));
        assert_eq!(decode(&plain, None), Ok(ring()));
        let signed = encode(&ring(), Some(b"kitchen-table-secret"));
        assert_eq!(signed.len(), plain.len() + 32);
        assert_eq!(decode(&signed, Some(b"kitchen-table-secret")), Ok(ring()));
        assert_eq!(
            decode(&signed, None),
            Ok(ring()),
            "a client without the secret reads it"
        );
    }

    #[test]
    fn forged_unsigned_and_foreign_datagrams_are_refused() {
        let secret = Some(b"kitchen-table-secret".as_slice());
        assert_eq!(
            decode(&encode(&ring(), None), secret),
            Err(DecodeError::Unsigned)
        );
        assert_eq!(
            decode(&encode(&ring(), Some(b"another-secret-entirely")), secret),
            Err(DecodeError::BadSignature)
        );
        let mut tampered = encode(&ring(), secret);
        let at = tampered.iter().position(|&b| b == b'5').expect("a digit");
        tampered[at] = b'9';
        assert_eq!(decode(&tampered, secret), Err(DecodeError::BadSignature));
        assert_eq!(
            decode(b"M-SEARCH * HTTP/1.1", None),
            Err(DecodeError::NotRingside)
        );
        assert_eq!(
            decode(b"RINGSIDE\x02{}", None),
            Err(DecodeError::Version(2))
        );
        assert!(matches!(
            decode(b"RINGSIDE\x01{\"event\":", None),
            Err(DecodeError::Json(_))
        ));
        let mut stray = encode(&ring(), None);
        stray.extend_from_slice(b"xyz");
        assert_eq!(decode(&stray, None), Err(DecodeError::Trailing(3)));
    }

    proptest! {
        #[test]
        fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let mut datagram = b"RINGSIDE\x01".to_vec();
            datagram.extend_from_slice(&bytes);
            let _ = decode(&datagram, None);
            let _ = decode(&datagram, Some(b"secret-secret-secret"));
            let _ = decode(&bytes, None);
        }
    }
}
