//! SDP bodies: `SessionDescription::parse` and the codec lookups the tracker makes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    let description = SessionDescription::parse(data);
    for media in &description.media {
        for pt in 0..=127 {
            let _ = media.codec(pt);
        }
    }
    let _ = description.audio();
});
