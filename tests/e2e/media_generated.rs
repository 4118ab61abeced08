//! Generated calls for what no real capture shows: RFC 4733 key presses and comfort noise
//! during a pause in an otherwise clean call (no loss, silence where the pause was), and
//! stray RTP from another port of the provider's host (counted, never mixed, the recording
//! as long as the talk).

use std::time::Duration;

use ringside_synth::{
    packets, write_pcap, Hold, MediaExtras, SynthCall, COMFORT_NOISE_EVERY, KEY_PRESS,
};

use crate::support::{assert_tone, replay_file, Replayed};

const EPOCH: Duration = Duration::from_hours(498_369);

/// One inbound call of 6 s of talk (440 Hz remote, 1000 Hz phone) with `extras`, replayed.
fn replay_with(extras: MediaExtras) -> Replayed {
    let call = SynthCall {
        outcome: ringside_synth::Outcome::Answered {
            talk: Duration::from_secs(6),
        },
        extras,
        ..SynthCall::inbound(1, "15550100001", Some("Extras"))
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("extras.pcap");
    write_pcap(&capture, EPOCH, &packets(&[call], 42)).expect("write capture");
    let replayed = replay_file(&capture);
    assert_eq!(replayed.calls.len(), 1, "{:#?}", replayed.calls);
    replayed
}

fn figure(quality: &serde_json::Value, leg: &str, name: &str) -> u64 {
    quality[leg][name]
        .as_u64()
        .unwrap_or_else(|| panic!("{leg}.{name} in {quality}"))
}

#[test]
fn key_presses_and_comfort_noise_in_a_clean_call_are_not_loss() {
    let pause = Hold {
        after: Duration::from_secs(3),
        length: Duration::from_secs(2),
    };
    let replayed = replay_with(MediaExtras {
        key_press_at: Some(Duration::from_secs(1)),
        comfort_noise: Some(pause),
        ..MediaExtras::default()
    });
    let call = &replayed.calls[0];
    let quality = call.quality.as_ref().expect("quality");
    for leg in ["remote", "phone"] {
        assert_eq!(figure(quality, leg, "lost"), 0, "{leg}: {quality}");
        assert_eq!(figure(quality, leg, "resyncs"), 0, "{leg}: {quality}");
    }
    // Ten updates, the end sent three times with one sequence number.
    let updates = KEY_PRESS.as_millis() as u64 / 20;
    assert_eq!(figure(quality, "phone", "events"), updates + 2, "{quality}");
    assert_eq!(figure(quality, "phone", "duplicates"), 2, "{quality}");
    let noise = 2000 / 20 / u64::from(COMFORT_NOISE_EVERY);
    assert_eq!(
        figure(quality, "phone", "comfort_noise"),
        noise,
        "{quality}"
    );
    assert_eq!(quality["stray_packets"], 0);
    // The recording: as long as the talk; the phone silent during the key press and the
    // pause (comfort noise is silence), its tone around them; the remote's tone throughout.
    let (left, right) = replayed.recording(call);
    let seconds = left.len() as f64 / 8000.0;
    assert!((5.9..6.2).contains(&seconds), "{seconds} s");
    let at = |s: f64| (s * 8000.0) as usize;
    let silent = |from: f64, to: f64| right[at(from)..at(to)].iter().all(|&s| s == 0);
    assert!(silent(1.05, 1.15), "the key press is not decoded as audio");
    assert!(silent(3.1, 4.9), "the comfort-noise pause is silence");
    assert_tone(
        &right[at(2.0)..at(2.9)],
        1000.0,
        &[440.0],
        "phone before the pause",
    );
    assert_tone(
        &right[at(5.1)..at(5.8)],
        1000.0,
        &[440.0],
        "phone after the pause",
    );
    assert_tone(
        &left[at(3.1)..at(4.9)],
        440.0,
        &[1000.0],
        "remote during the pause",
    );
}

#[test]
fn stray_rtp_from_another_port_is_counted_not_mixed() {
    let replayed = replay_with(MediaExtras {
        stray_packets: 50,
        ..MediaExtras::default()
    });
    let call = &replayed.calls[0];
    let quality = call.quality.as_ref().expect("quality");
    assert_eq!(quality["stray_packets"], 50, "{quality}");
    for leg in ["remote", "phone"] {
        assert_eq!(figure(quality, leg, "lost"), 0, "{leg}: {quality}");
        assert_eq!(figure(quality, leg, "ssrc_changes"), 0, "{leg}: {quality}");
        assert!(figure(quality, leg, "packets") >= 299, "{leg}: {quality}");
    }
    // The stray source's 2000 Hz tone (and its clock an hour away) is nowhere in the WAV,
    // and the sides are where they belong.
    let (left, right) = replayed.recording(call);
    let seconds = left.len() as f64 / 8000.0;
    assert!((5.9..6.2).contains(&seconds), "{seconds} s");
    assert_tone(
        &left[8000..16_000],
        440.0,
        &[2000.0, 1000.0],
        "remote, 1-2 s",
    );
    assert_tone(
        &right[8000..16_000],
        1000.0,
        &[2000.0, 440.0],
        "phone, 1-2 s",
    );
}
