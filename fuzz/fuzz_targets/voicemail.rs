//! RFC 3842 message-summary bodies (voicemail NOTIFYs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::voicemail::parse_message_summary;

fuzz_target!(|data: &[u8]| {
    let _ = parse_message_summary(data);
});
