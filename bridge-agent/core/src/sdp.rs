//! SDP (RFC 4566) as far as recording needs it: where each side wants its audio, which
//! payload types mean which codec, packet time, and the direction attributes used for hold.

use std::net::IpAddr;

/// A codec Ringside can tell apart, parsed from its `rtpmap` encoding name in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumString, strum::IntoStaticStr)]
#[strum(ascii_case_insensitive)]
pub enum Codec {
    /// G.711 µ-law (PCMU), decoded.
    #[strum(serialize = "PCMU")]
    Pcmu,
    /// G.711 A-law (PCMA), decoded.
    #[strum(serialize = "PCMA")]
    Pcma,
    /// RFC 4733 telephone-event (DTMF).
    #[strum(serialize = "telephone-event")]
    TelephoneEvent,
    /// RFC 3389 comfort noise: recorded as silence.
    #[strum(serialize = "CN")]
    ComfortNoise,
    /// Anything else: kept as raw RTP (`other` in the call log).
    #[strum(serialize = "other")]
    Other,
}

impl Codec {
    /// The name the call log gives the codec (`PCMU`, `PCMA`, `telephone-event`, `CN`,
    /// `other`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The codec of a static payload type (RFC 3551), for SDP without `rtpmap`.
    #[must_use]
    pub fn from_static(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            13 => Some(Codec::ComfortNoise),
            1..=34 => Some(Codec::Other),
            _ => None,
        }
    }

    fn from_rtpmap(encoding: &str) -> Codec {
        let name = encoding.split('/').next().unwrap_or_default();
        name.parse().unwrap_or(Codec::Other)
    }

    /// Whether Ringside decodes this codec to audio.
    #[must_use]
    pub fn is_g711(self) -> bool {
        matches!(self, Codec::Pcmu | Codec::Pcma)
    }
}

/// Media direction attribute (RFC 4566 §6); hold is `sendonly` or `inactive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum Direction {
    /// `a=sendrecv` (the default)
    #[default]
    SendRecv,
    /// `a=sendonly`
    SendOnly,
    /// `a=recvonly`
    RecvOnly,
    /// `a=inactive`
    Inactive,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `image` ...
    pub kind: String,
    /// Where this side wants the media sent: the media-level `c=`, else the session's.
    pub address: Option<IpAddr>,
    /// The port (0 means the stream is refused).
    pub port: u16,
    /// Payload types offered, in preference order.
    pub formats: Vec<u8>,
    /// Payload type to codec, from `rtpmap` and the static table.
    pub codecs: Vec<(u8, Codec)>,
    /// `a=ptime`, in milliseconds.
    pub ptime: Option<u32>,
    /// Direction attribute, media-level over session-level.
    pub direction: Direction,
}

impl Media {
    /// The codec a payload type means in this section.
    #[must_use]
    pub fn codec(&self, pt: u8) -> Option<Codec> {
        self.codecs.iter().find(|(p, _)| *p == pt).map(|(_, c)| *c)
    }
}

/// A session description: its media sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionDescription {
    /// The `m=` sections, in order.
    pub media: Vec<Media>,
}

impl SessionDescription {
    /// The first audio section with a non-zero port.
    #[must_use]
    pub fn audio(&self) -> Option<&Media> {
        self.media.iter().find(|m| m.kind == "audio" && m.port != 0)
    }

    /// Parses SDP text leniently: unknown or broken lines are skipped.
    #[must_use]
    pub fn parse(body: &[u8]) -> SessionDescription {
        let text = String::from_utf8_lossy(body);
        let mut session_address = None;
        let mut session_direction = None;
        let mut media: Vec<Media> = Vec::new();
        let mut media_direction: Vec<Option<Direction>> = Vec::new();
        for line in text.lines() {
            let Some((kind, value)) = line.trim().split_once('=') else {
                continue;
            };
            let current = media.last_mut();
            match (kind, current) {
                ("c", None) => session_address = parse_connection(value),
                ("c", Some(m)) => m.address = parse_connection(value).or(m.address),
                ("m", _) => {
                    if let Some(m) = parse_media(value, session_address) {
                        media.push(m);
                        media_direction.push(None);
                    }
                }
                ("a", current) => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    let direction = name.parse::<Direction>().ok();
                    match (current, direction) {
                        (None, Some(d)) => session_direction = Some(d),
                        (Some(_), Some(d)) => {
                            if let Some(slot) = media_direction.last_mut() {
                                *slot = Some(d);
                            }
                        }
                        (Some(m), None) => apply_attribute(m, name, arg),
                        (None, None) => {}
                    }
                }
                _ => {}
            }
        }
        for (m, d) in media.iter_mut().zip(media_direction) {
            m.direction = d.or(session_direction).unwrap_or_default();
        }
        SessionDescription { media }
    }
}

fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut parts = value.split_whitespace();
    let (_net, _addrtype, addr) = (parts.next()?, parts.next()?, parts.next()?);
    addr.split('/').next()?.parse().ok()
}

fn parse_media(value: &str, session_address: Option<IpAddr>) -> Option<Media> {
    let mut parts = value.split_whitespace();
    let kind = parts.next()?.to_ascii_lowercase();
    let port = parts.next()?.split('/').next()?.parse().ok()?;
    let _proto = parts.next()?;
    let formats: Vec<u8> = parts.filter_map(|f| f.parse().ok()).collect();
    let codecs = formats
        .iter()
        .filter_map(|&pt| Codec::from_static(pt).map(|c| (pt, c)))
        .collect();
    Some(Media {
        kind,
        address: session_address,
        port,
        formats,
        codecs,
        ptime: None,
        direction: Direction::SendRecv,
    })
}

fn apply_attribute(media: &mut Media, name: &str, arg: &str) {
    match name {
        "rtpmap" => {
            let mut parts = arg.split_whitespace();
            let (Some(Ok(pt)), Some(encoding)) = (parts.next().map(str::parse::<u8>), parts.next())
            else {
                return;
            };
            let codec = Codec::from_rtpmap(encoding);
            match media.codecs.iter_mut().find(|(p, _)| *p == pt) {
                Some(slot) => slot.1 = codec,
                None => media.codecs.push((pt, codec)),
            }
        }
        "ptime" => media.ptime = arg.trim().parse().ok(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &[u8] =
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendonly\r\n\
m=video 0 RTP/AVP 31\r\n";

    #[test]
    fn reads_address_port_codecs_and_direction() {
        let sdp = SessionDescription::parse(OFFER);
        let audio = sdp.audio().expect("audio");
        assert_eq!(audio.address, Some("192.0.2.1".parse().expect("ip")));
        assert_eq!(audio.port, 49170);
        assert_eq!(audio.codec(0), Some(Codec::Pcmu));
        assert_eq!(audio.codec(8), Some(Codec::Pcma));
        assert_eq!(audio.codec(101), Some(Codec::TelephoneEvent));
        assert_eq!(audio.ptime, Some(20));
        assert_eq!(audio.direction, Direction::SendOnly);
        assert_eq!(sdp.media.len(), 2);
    }

    #[test]
    fn media_level_connection_and_ipv6() {
        let sdp = SessionDescription::parse(b"v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 96\nc=IN IP6 2001:db8::1\na=rtpmap:96 opus/48000/2\n");
        let audio = sdp.audio().expect("audio");
        assert_eq!(audio.address, Some("2001:db8::1".parse().expect("ip")));
        assert_eq!(audio.codec(96), Some(Codec::Other));
    }

    #[test]
    fn codec_names_are_read_in_any_case() {
        for (encoding, codec) in [
            ("PCMU/8000", Codec::Pcmu),
            ("pcma/8000", Codec::Pcma),
            ("Telephone-Event/8000", Codec::TelephoneEvent),
            ("cn/8000", Codec::ComfortNoise),
            ("G729/8000", Codec::Other),
            ("PCMU8000", Codec::Other),
            ("", Codec::Other),
        ] {
            assert_eq!(Codec::from_rtpmap(encoding), codec, "{encoding}");
        }
    }

    #[test]
    fn garbage_gives_no_media() {
        assert_eq!(
            SessionDescription::parse(b"\x00\xffm=audio\nc=IN")
                .media
                .len(),
            0
        );
    }
}
