//! The LAN announcement codec: `open` (decode and verify), with and without a shared secret,
//! and the replay guard on the stamps of signed ones. What opens must encode (signed with its
//! stamp, or a fixed one) and open again to the same announcement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::announce::{encode, open, ReplayGuard, Signer, Stamp, NONCE_LEN};

const SECRET: &[u8] = b"kitchen-table-secret";

fuzz_target!(|data: &[u8]| {
    if let Ok(opened) = open(data, Some(SECRET)) {
        if let Some(stamp) = opened.stamp {
            let mut guard = ReplayGuard::default();
            assert!(
                guard.check(&stamp, stamp.sent_at_ms).is_ok(),
                "a fresh stamp refused"
            );
            assert!(
                guard.check(&stamp, stamp.sent_at_ms).is_err(),
                "a replay accepted"
            );
        }
    }
    if let Ok(opened) = open(data, None) {
        let stamp = opened.stamp.unwrap_or(Stamp {
            sent_at_ms: 1_795_000_000_000,
            nonce: [7; NONCE_LEN],
        });
        let signer = Signer {
            secret: SECRET,
            stamp,
        };
        let again = open(&encode(&opened.announcement, Some(&signer)), Some(SECRET));
        assert_eq!(
            again.map(|o| (o.announcement, o.stamp)),
            Ok((opened.announcement, Some(stamp))),
            "an announcement does not round-trip"
        );
    }
});
