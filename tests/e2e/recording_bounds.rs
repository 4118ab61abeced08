//! Recordings bounded by the audio received, not by timestamps: an RTP timestamp that leaps
//! 2^31 ahead (the timeline follows arrival), a capture whose clock leaps ahead again and
//! again in the middle of a call (a 26 KB pcap of that kind once wrote a 189 MB WAV), and a
//! long hold. Silences longer than five seconds are skipped, leaving a one-second pause, and
//! the call log counts them.

use ringside_core::call::Disposition;
use std::time::Duration;

use ringside_synth::{packets, write_pcap, Hold, SynthCall, SynthPacket};

use crate::support::{assert_tone, replay_file, Replayed};

const EPOCH: Duration = Duration::from_hours(498_369);

/// Replays the packets of `call` after `change` had its way with them (it is given the
/// packets and the index of the remote side's 100th RTP packet, two seconds into the talk).
fn replay_changed(call: &SynthCall, change: impl Fn(&mut [SynthPacket], usize)) -> Replayed {
    let mut packets = packets(std::slice::from_ref(call), 42);
    let hundredth = packets
        .iter()
        .enumerate()
        .filter(|(_, p)| p.src == call.endpoints.provider_rtp)
        .nth(100)
        .map(|(index, _)| index)
        .expect("a call of four seconds has 200 RTP packets from the remote side");
    change(&mut packets, hundredth);
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("changed.pcap");
    write_pcap(&capture, EPOCH, &packets).expect("write capture");
    replay_file(&capture)
}

fn only_call(replayed: &Replayed) -> &ringside_store::CallRecord {
    assert_eq!(replayed.calls.len(), 1, "{:#?}", replayed.calls);
    &replayed.calls[0]
}

#[test]
fn an_rtp_timestamp_jump_of_2_31_keeps_the_recording_to_the_calls_real_length() {
    let call = SynthCall::inbound(1, "15550100001", Some("Jumper"));
    let replayed = replay_changed(&call, |packets, from| {
        let remote = call.endpoints.provider_rtp;
        for packet in packets[from..].iter_mut().filter(|p| p.src == remote) {
            let ts = u32::from_be_bytes([
                packet.payload[4],
                packet.payload[5],
                packet.payload[6],
                packet.payload[7],
            ]);
            packet.payload[4..8].copy_from_slice(&ts.wrapping_add(1 << 31).to_be_bytes());
        }
    });
    let record = only_call(&replayed);
    let seconds = replayed.recording_seconds(record);
    let expected = call.media_duration().as_secs_f64();
    assert!(
        (seconds - expected).abs() < 0.1,
        "{seconds} s, {expected} s expected"
    );
    assert_eq!(record.gaps_skipped, 0);

    let (left, _) = replayed.recording(record);
    assert_tone(
        &left[24_000..30_000],
        call.remote_tone,
        &[call.phone_tone],
        "after the jump",
    );
}

#[test]
fn a_capture_clock_leaping_ahead_mid_call_skips_the_gaps_instead_of_filling_them() {
    // Ten leaps of 50 s each (under the minute after which a silent call is over): before
    // the fix, 500 s of silence were written into a call of 4 s.
    let call = SynthCall::inbound(1, "15550100001", Some("Leaper"));
    let replayed = replay_changed(&call, |packets, from| {
        let remote = call.endpoints.provider_rtp;
        let mut leaps = 0;
        for (index, packet) in packets[from..].iter_mut().enumerate() {
            if packet.src == remote && index % 20 == 0 && leaps < 10 {
                leaps += 1;
            }
            packet.at += Duration::from_secs(50) * leaps;
        }
    });
    let record = only_call(&replayed);
    let seconds = replayed.recording_seconds(record);
    let talk = call.media_duration().as_secs_f64();
    assert_eq!(record.gaps_skipped, 10, "{record:#?}");
    assert!(
        (seconds - (talk + 10.0)).abs() < 0.5,
        "{seconds} s recorded: {talk} s of talk and ten pauses of a second expected"
    );
}

#[test]
fn a_long_hold_leaves_a_one_second_pause_and_is_counted() {
    let mut call = SynthCall::inbound(1, "15550100001", Some("Holder"));
    call.hold = Some(Hold {
        after: Duration::from_secs(2),
        length: Duration::from_secs(20),
    });
    let replayed = replay_changed(&call, |_, _| {});
    let record = only_call(&replayed);
    let seconds = replayed.recording_seconds(record);
    let talk = call.media_duration().as_secs_f64() - 20.0;
    assert!(
        (seconds - (talk + 1.0)).abs() < 0.3,
        "{seconds} s recorded: {talk} s of talk and a pause expected"
    );
    assert_eq!(record.gaps_skipped, 1);

    let (left, right) = replayed.recording(record);
    let end = left.len();
    assert_tone(
        &left[end - 8000..end - 800],
        call.remote_tone,
        &[],
        "after the hold",
    );
    assert_tone(
        &right[end - 8000..end - 800],
        call.phone_tone,
        &[],
        "after the hold",
    );
}

/// The bug: only the live agent read the free-space floor, so a replay wrote recordings until
/// the disk was full and then lost call log writes. A floor above the disk's free space: the
/// call is logged, not recorded, and the log says why.
#[test]
fn a_replay_keeps_the_free_space_floor() {
    let call = SynthCall::inbound(1, "15550100001", Some("Floor"));
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("data dir");
    ringside_store::Store::open(data.path())
        .expect("store")
        .set_setting(ringside_store::Setting::MinFreeMegabytes, "1000000000")
        .expect("floor");
    let capture = dir.path().join("call.pcap");
    write_pcap(&capture, EPOCH, &packets(std::slice::from_ref(&call), 42)).expect("write capture");
    let replayed = crate::support::replay_into(&capture, data);
    let record = only_call(&replayed);
    assert_eq!(record.disposition, Some(Disposition::Answered));
    assert_eq!(record.recording, None, "{record:#?}");
    assert!(
        record
            .recording_stopped
            .as_deref()
            .is_some_and(|why| why.contains("below the floor")),
        "{record:#?}"
    );
}
