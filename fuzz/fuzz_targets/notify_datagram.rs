//! The desktop client's handling of datagrams (`App::update`): decoding, deduplication and
//! the popup, print line and environment built from an announcement. Datagrams are split at
//! `\n\0`, so one input is a sequence of them, all arriving at [`NOW_MS`] (the time the
//! seeds' signed announcements carry).
#![no_main]

use desktop_client::app::{App, Input, Settings};
use libfuzzer_sys::fuzz_target;

/// When the datagrams arrive: 2026-11-18T21:33:20Z, in milliseconds since the epoch.
const NOW_MS: u64 = 1_795_000_000_000;

fuzz_target!(|data: &[u8]| {
    let everything = Settings {
        secret: None,
        outbound: true,
        print: true,
        exec: Some(vec!["true".into()]),
        console_url: Some("http://192.0.2.10:8080".into()),
    };
    let signed = Settings {
        secret: Some("kitchen-table-secret".into()),
        ..everything.clone()
    };
    let mut apps = [App::new(everything), App::new(signed)];
    let mut start = 0;
    while start <= data.len() {
        let end = data[start..]
            .windows(2)
            .position(|w| w == b"\n\0")
            .map_or(data.len(), |at| start + at);
        for app in &mut apps {
            let _ = app.update(Input::Datagram {
                bytes: data[start..end].to_vec(),
                unix_ms: NOW_MS,
            });
        }
        start = end + 2;
    }
});
