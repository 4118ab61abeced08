//! Calls through the live lab.

use std::time::Duration;

use ringside_core::announce::{decode, EventKind};

use super::{wait_with_timeout, Lab, PHONE, PROVIDER};
use crate::support::assert_tone;

/// Reads a WAV of the lab's data directory as (left, right).
fn channels(lab: &Lab, relative: &str) -> (Vec<i16>, Vec<i16>) {
    let reader = hound::WavReader::open(lab.data_dir().join(relative)).expect("a valid WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = reader
        .into_samples()
        .collect::<Result<_, _>>()
        .expect("samples");
    samples.chunks_exact(2).map(|f| (f[0], f[1])).unzip()
}

#[test]
fn an_inbound_call_is_announced_logged_and_recorded_in_stereo() {
    let mut lab = Lab::new();
    lab.ringside(&["phonebook", "set", "15550100001", "Mom"]);
    lab.start_agent();
    let listener = lab.udp_socket("phone", "0.0.0.0:7651");
    listener
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let remote = lab.tone_pcap("remote.pcap", 440.0, 4);
    let phone_audio = lab.tone_pcap("phone.pcap", 1000.0, 4);

    let mut phone = lab.sipp(
        "phone",
        "phone_answers.xml",
        &[
            "-i",
            PHONE,
            "-p",
            "5060",
            "-m",
            "1",
            "-d",
            "1000",
            "-key",
            "talk_pcap",
            phone_audio.to_str().expect("utf-8"),
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut provider = lab.sipp(
        "prov",
        "provider_calls.xml",
        &[
            &format!("{PHONE}:5060"),
            "-i",
            PROVIDER,
            "-p",
            "5060",
            "-m",
            "1",
            "-s",
            "15550109999",
            "-key",
            "from_user",
            "15550100001",
            "-key",
            "from_name",
            "WIRELESS CALLER",
            "-key",
            "talk_pcap",
            remote.to_str().expect("utf-8"),
            "-d",
            "4500",
        ],
    );
    let status = wait_with_timeout(&mut provider, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "the provider's call failed\n{}",
        lab.reports()
    );
    let status = wait_with_timeout(&mut phone, Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "the phone's side failed\n{}",
        lab.reports()
    );

    let mut buffer = [0u8; 4096];
    let n = listener
        .recv(&mut buffer)
        .expect("an announcement on the LAN");
    let ring = decode(&buffer[..n], None).expect("a Ringside announcement");
    assert_eq!(ring.event, EventKind::Ring);
    assert_eq!(ring.number.as_deref(), Some("15550100001"));
    assert_eq!(ring.name.as_deref(), Some("WIRELESS CALLER"));
    assert_eq!(ring.display.as_deref(), Some("Mom"));

    let calls = lab.wait_for_calls("the call ends", |calls| {
        calls.len() == 1 && calls[0].disposition.as_deref() == Some("answered")
    });
    let call = &calls[0];
    assert_eq!(call.direction, "inbound");
    assert_eq!(call.display.as_deref(), Some("Mom"));
    let (left, right) = channels(&lab, call.recording.as_deref().expect("a recording"));
    let seconds = left.len() as f64 / 8000.0;
    assert!((3.5..6.0).contains(&seconds), "{seconds} s recorded");
    assert_tone(
        &left[4000..20_000],
        440.0,
        &[1000.0],
        "the provider's side (left)",
    );
    assert_tone(
        &right[4000..20_000],
        1000.0,
        &[440.0],
        "the phone's side (right)",
    );
    assert!(lab.stop_agent().success());
}
