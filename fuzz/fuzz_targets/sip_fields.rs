//! The SIP field helpers on any text: header names, URIs, name-addr values and lists,
//! percent-decoding and number normalisation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::caller_id::normalize_number;
use ringside_core::sip::uri::percent_decode;
use ringside_core::sip::{HeaderName, NameAddr, Uri};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = HeaderName::parse(&text).as_str().len();
    if let Ok(uri) = Uri::parse(&text) {
        let _ = (uri.param("user"), uri.user.as_deref().map(normalize_number));
    }
    if let Ok(name_addr) = NameAddr::parse(&text) {
        let _ = (name_addr.param("tag"), name_addr.uri.param("user"));
    }
    let _ = NameAddr::parse_list(&text).len();
    let _ = percent_decode(&text);
    let _ = normalize_number(&text);
});
