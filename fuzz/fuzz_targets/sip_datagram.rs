//! SIP over UDP: `parse_datagram` and everything the engine reads from a message (headers,
//! From/To, caller-ID, called party, SDP body, RFC 3842 body) and the answer Ringside builds
//! to a request (`response_to`), which must itself be a SIP message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::caller_id::{called_party, caller_id};
use ringside_core::sdp::SessionDescription;
use ringside_core::sip::{self, parse_datagram, HeaderName};
use ringside_core::voicemail::parse_message_summary;

fuzz_target!(|data: &[u8]| {
    let _ = sip::looks_like_sip(data);
    let Ok(Some(message)) = parse_datagram(data) else {
        return;
    };
    let _ = (
        message.method(),
        message.status(),
        message.call_id(),
        message.cseq(),
    );
    for (name, value) in message.all_headers() {
        let _ = message.headers(name).count();
        let _ = (name.as_str(), HeaderName::parse(value));
    }
    let _ = (message.from(), message.to(), message.top_via_branch());
    let _ = (caller_id(&message), called_party(&message));
    if let Some(body) = message.sdp() {
        let _ = SessionDescription::parse(body).audio();
    }
    let _ = parse_message_summary(&message.body);
    if message.method().is_some() {
        let answer = sip::response_to(&message, 486, "Busy Here", "ringside");
        assert!(
            matches!(parse_datagram(&answer), Ok(Some(_))),
            "our answer to a request is not SIP: {}",
            String::from_utf8_lossy(&answer)
        );
    }
});
