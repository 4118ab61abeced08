//! The LAN announcement codec: decode and verify, with and without a shared secret. What
//! decodes must encode and decode again to the same announcement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::announce::{decode, encode};

const SECRET: &[u8] = b"kitchen-table-secret";

fuzz_target!(|data: &[u8]| {
    let _ = decode(data, Some(SECRET));
    if let Ok(announcement) = decode(data, None) {
        let again = decode(&encode(&announcement, Some(SECRET)), Some(SECRET));
        assert_eq!(
            again.as_ref(),
            Ok(&announcement),
            "an announcement does not round-trip"
        );
    }
});
