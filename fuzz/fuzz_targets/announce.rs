//! The LAN announcement codec: decode and verify, with and without a shared secret, and the
//! replay guard on what a signed one carries. What decodes must encode (signed) and decode
//! again to the same announcement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::announce::{decode, encode, open, ReplayGuard, Signer, Stamp, NONCE_LEN};

const SECRET: &[u8] = b"kitchen-table-secret";

fuzz_target!(|data: &[u8]| {
    let _ = decode(data, Some(SECRET));
    if let Ok(opened) = open(data, None) {
        if let Some(stamp) = opened.stamp {
            let mut guard = ReplayGuard::default();
            let _ = guard.check(&stamp, stamp.sent_at_ms);
            let _ = guard.check(&stamp, u64::MAX);
        }
    }
    if let Ok(announcement) = decode(data, None) {
        let signer = Signer {
            secret: SECRET,
            stamp: Stamp {
                sent_at_ms: 1_795_000_000_000,
                nonce: [7; NONCE_LEN],
            },
        };
        let again = decode(&encode(&announcement, Some(&signer)), Some(SECRET));
        assert_eq!(
            again.as_ref(),
            Ok(&announcement),
            "an announcement does not round-trip"
        );
    }
});
