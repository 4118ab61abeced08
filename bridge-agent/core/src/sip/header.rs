//! SIP header names: long and compact forms mapped to one canonical name.

/// A header name, canonical: the compact forms of RFC 3261 §7.3.3 (and later RFCs) are
/// expanded, and known names compared case-insensitively.
///
/// Its name tables stay hand-written, as [`super::Method`]'s do: strum's `AsRefStr` cannot
/// hand out the text an `Other` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderName {
    /// `Via` / `v`
    Via,
    /// `From` / `f`
    From,
    /// `To` / `t`
    To,
    /// `Call-ID` / `i`
    CallId,
    /// `CSeq`
    CSeq,
    /// `Contact` / `m`
    Contact,
    /// `Content-Length` / `l`
    ContentLength,
    /// `Content-Type` / `c`
    ContentType,
    /// `P-Asserted-Identity`
    PAssertedIdentity,
    /// `P-Preferred-Identity`
    PPreferredIdentity,
    /// `Remote-Party-ID`
    RemotePartyId,
    /// `Privacy`
    Privacy,
    /// `Event` / `o`
    Event,
    /// `User-Agent`
    UserAgent,
    /// `Server`
    Server,
    /// Any other header, kept as written.
    Other(String),
}

impl HeaderName {
    /// The canonical name for a header name as it appeared on the wire.
    #[must_use]
    pub fn parse(raw: &str) -> HeaderName {
        let compact = |c: &str| raw.eq_ignore_ascii_case(c);
        let known = [
            ("via", "v", HeaderName::Via),
            ("from", "f", HeaderName::From),
            ("to", "t", HeaderName::To),
            ("call-id", "i", HeaderName::CallId),
            ("cseq", "", HeaderName::CSeq),
            ("contact", "m", HeaderName::Contact),
            ("content-length", "l", HeaderName::ContentLength),
            ("content-type", "c", HeaderName::ContentType),
            ("p-asserted-identity", "", HeaderName::PAssertedIdentity),
            ("p-preferred-identity", "", HeaderName::PPreferredIdentity),
            ("remote-party-id", "", HeaderName::RemotePartyId),
            ("privacy", "", HeaderName::Privacy),
            ("event", "o", HeaderName::Event),
            ("user-agent", "", HeaderName::UserAgent),
            ("server", "", HeaderName::Server),
        ];
        for (long, short, name) in known {
            if compact(long) || (!short.is_empty() && compact(short)) {
                return name;
            }
        }
        HeaderName::Other(raw.to_owned())
    }

    /// The name as Ringside writes it (long form).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            HeaderName::Via => "Via",
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::CallId => "Call-ID",
            HeaderName::CSeq => "CSeq",
            HeaderName::Contact => "Contact",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::PAssertedIdentity => "P-Asserted-Identity",
            HeaderName::PPreferredIdentity => "P-Preferred-Identity",
            HeaderName::RemotePartyId => "Remote-Party-ID",
            HeaderName::Privacy => "Privacy",
            HeaderName::Event => "Event",
            HeaderName::UserAgent => "User-Agent",
            HeaderName::Server => "Server",
            HeaderName::Other(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_long_forms_are_one_name() {
        for (raw, name) in [
            ("f", HeaderName::From),
            ("FROM", HeaderName::From),
            ("t", HeaderName::To),
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("l", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("v", HeaderName::Via),
            ("call-id", HeaderName::CallId),
            ("P-Asserted-Identity", HeaderName::PAssertedIdentity),
        ] {
            assert_eq!(HeaderName::parse(raw), name, "{raw}");
        }
        assert_eq!(
            HeaderName::parse("X-Foo"),
            HeaderName::Other("X-Foo".into())
        );
    }
}
