//! The real captures in `../shared/captures/` (see its MANIFEST.tsv): the calls they hold are
//! found as the manifest describes them, in detail (names, sources, recordings). That every
//! capture replays, and to which calls, is `capture_table`'s.

use crate::support::{replay_shared, Replayed};
use bridge_agent::store::CallRecord;
use ringside_core::call::CallDirection;
use ringside_core::call::Disposition;
use ringside_core::caller_id::{CallerIdSource, Presentation};

fn only_call(replayed: &Replayed) -> &CallRecord {
    assert_eq!(replayed.calls.len(), 1, "{:#?}", replayed.calls);
    &replayed.calls[0]
}

#[test]
fn x_lite_call_with_g711a_audio_both_ways() {
    let replayed = replay_shared("wireshark-wiki/SIP_CALL_RTP_G711");
    let ivan = replayed.by_number("5514540002");
    assert_eq!(ivan.call.party.name.as_deref(), Some("Ivan Alizade"));
    assert_eq!(ivan.caller_id_source, CallerIdSource::From);
    assert_eq!(
        ivan.disposition,
        Some(Disposition::Missed),
        "it only rang within the capture"
    );
    // The other call's From has no user part: no number, and nobody hid it, so unknown (not
    // withheld: see `who::a_from_without_a_user_part_is_unknown_not_withheld`); its audio is
    // recorded.
    let answered = replayed
        .calls
        .iter()
        .find(|c| c.call.party.presentation == Presentation::Unknown)
        .expect("the answered call");
    assert_eq!(answered.disposition, Some(Disposition::Answered));
    assert_eq!(answered.codec.as_deref(), Some("PCMA"));
    let (left, right) = replayed.recording(answered);
    let seconds = left.len() as f64 / 8000.0;
    assert!((24.0..27.0).contains(&seconds), "{seconds} s");
    for (name, channel) in [("left", &left), ("right", &right)] {
        let loud = channel.iter().filter(|s| s.abs() > 500).count();
        assert!(
            loud > 8000,
            "{name}: speech on both sides ({loud} loud samples)"
        );
    }
}

#[test]
fn asterisk_and_x_lite_calls_behind_auth_challenges() {
    let gonzalo = replay_shared("wireshark-wiki/rtp_conversacion.pcap");
    let call = only_call(&gonzalo);
    assert_eq!(
        (
            call.call.party.number.as_deref(),
            call.call.party.name.as_deref()
        ),
        (Some("102"), Some("Gonzalo"))
    );
    assert_eq!(
        call.disposition,
        Some(Disposition::Answered),
        "the 407 challenge is not the end"
    );
    assert_eq!(call.codec.as_deref(), Some("PCMU"));
    let seconds = gonzalo.recording_seconds(call);
    assert!((22.0..25.0).contains(&seconds), "{seconds} s");

    let magic = replay_shared("wireshark-wiki/MagicJack-_short_call.pcap");
    let call = only_call(&magic);
    // The softphone's own call out (`"unknown" <sip:E646657195201@...>` is the phone itself):
    // the party is the number it dialled (see `who::an_outgoing_call_without_a_register_...`).
    assert_eq!(call.call.direction, CallDirection::Outbound);
    assert_eq!(call.call.party.number.as_deref(), Some("9055551212"));
    assert_eq!(
        call.disposition,
        Some(Disposition::Answered),
        "the 401 challenge is not the end"
    );
    let seconds = magic.recording_seconds(call);
    assert!((12.0..13.5).contains(&seconds), "{seconds} s");
}

#[test]
fn fragmented_invites_are_reassembled() {
    let digium = replay_shared("snort3_demo/digium.pcap");
    // Twelve fragments of one 16 KiB datagram.
    assert_eq!(
        (
            digium.summary.engine.fragments,
            digium.summary.engine.reassembly.completed
        ),
        (11, 1)
    );
    assert!(digium
        .calls
        .iter()
        .any(|c| c.call.party.name.as_deref() == Some("200")
            && c.call.party.number.as_deref() == Some("200")));

    let v6 = replay_shared("sngrep/ipv6frag.pcap");
    assert!(v6.summary.engine.reassembly.completed >= 1);
    let call = only_call(&v6);
    assert_eq!(call.call.party.number.as_deref(), Some("08019200026"));
    assert_eq!(call.call.party.name.as_deref(), Some("uas"));
    assert_eq!(call.caller_id_source, CallerIdSource::PAssertedIdentity);

    let declined = replay_shared("mtaa-kastler/ukoncenie-neprijateho-hovoru.pcapng");
    assert!(declined.summary.engine.reassembly.completed >= 1);
    assert_eq!(
        only_call(&declined).disposition,
        Some(Disposition::Rejected)
    );
}

#[test]
fn an_unreassemblable_fragment_is_counted_not_fatal() {
    let replayed = replay_shared("pkts/fragmented_udp_sip.pcap");
    assert_eq!(replayed.summary.engine.fragments, 1);
    assert!(replayed.calls.is_empty(), "the INVITE never arrived whole");
}

#[test]
fn cancels_and_rejections() {
    for (capture, disposition) in [
        ("pkts/cancel.pcap", "missed"),
        ("mtaa-illyaluntik/cancel-not-accepted.pcap", "missed"),
        ("mtaa-illyaluntik/call.pcap", "busy"),
    ] {
        let replayed = replay_shared(capture);
        assert_eq!(
            only_call(&replayed).disposition.map(Disposition::as_str),
            Some(disposition),
            "{capture}"
        );
    }
    let dtmf = replay_shared("wireshark-wiki/SIP_DTMF2.cap");
    assert_eq!(
        dtmf.dispositions(),
        ["answered", "rejected"],
        "603 Decline is a rejection"
    );
    let aaa = replay_shared("sngrep/aaa.pcap");
    assert_eq!(
        aaa.dispositions(),
        ["failed", "missed", "rejected", "rejected"],
        "403s, a CANCEL, a 408"
    );
    assert!(
        aaa.calls
            .iter()
            .all(|c| c.call.direction == CallDirection::Outbound),
        "the phone registered, then called out"
    );
}

#[test]
fn remote_party_id_and_compact_headers() {
    let gre = replay_shared("wireshark-wiki/filenameGRE199---fax-iz-InLife-G711---OK!!!.cap");
    let rpid = gre
        .calls
        .iter()
        .find(|c| c.caller_id_source == CallerIdSource::RemotePartyId)
        .expect("an RPID call");
    assert_eq!(rpid.call.party.name.as_deref(), Some("38659235923"));
    assert!(rpid.caller_id_header.contains("party=calling"));

    // The phone (`"arik" <sip:816666@...>`, one Via) calls out through its provider's
    // domain: the party is the compact `t:` header's number, not the phone's own `f:`.
    let compact = replay_shared("suricata-verify/sip_compact_form.pcap");
    let call = only_call(&compact);
    assert_eq!(call.call.direction, CallDirection::Outbound);
    assert_eq!(call.caller_id_source, CallerIdSource::To);
    assert_eq!(call.caller_id_header, "<sip:97239287044@voip.brujula.net>");
    assert_eq!(
        (
            call.call.party.number.as_deref(),
            call.call.party.name.as_deref()
        ),
        (Some("97239287044"), None)
    );
}

#[test]
fn the_vonage_text_trace_parses_to_its_caller() {
    let replayed = replay_shared("ncid/test-sip-gw.data");
    assert!(!replayed.calls.is_empty());
    for call in &replayed.calls {
        assert_eq!(call.call.party.number.as_deref(), Some("14075555191"));
        assert_eq!(call.call.party.name.as_deref(), Some("Hard Core"));
        assert_eq!(call.call.direction, CallDirection::Inbound);
    }
}

#[test]
fn codecs_that_are_not_decoded_are_kept_as_raw_rtp() {
    for capture in [
        "wireshark-wiki/sip-rtp-g722.pcap",
        "wireshark-wiki/sip-rtp-opus.pcap",
        "wireshark-wiki/sip-rtp-gsm.pcap",
    ] {
        let replayed = replay_shared(capture);
        let call = only_call(&replayed);
        assert_eq!(call.recording, None, "{capture}");
        assert_eq!(call.codec.as_deref(), Some("other"), "{capture}");
        let pcap = replayed
            .dir
            .path()
            .join(call.raw_rtp.as_deref().expect("raw RTP kept"));
        let mut reader =
            pcap_file::pcap::PcapReader::new(std::fs::File::open(&pcap).expect("open"))
                .expect("a pcap");
        let mut packets = 0;
        while let Some(packet) = reader.next_packet() {
            packet.expect("a packet");
            packets += 1;
        }
        assert!(packets > 100, "{capture}: {packets} RTP packets kept");
    }
}

#[test]
fn freeswitch_one_way_audio_is_recorded_on_one_side() {
    let replayed = replay_shared("wireshark-wiki/sip-rtp-g711.pcap");
    assert_eq!(replayed.calls.len(), 2);
    for call in &replayed.calls {
        let (left, right) = replayed.recording(call);
        let loud = |c: &[i16]| c.iter().filter(|s| s.abs() > 300).count();
        assert!(
            loud(&left) + loud(&right) > 8000,
            "{}: audio in one direction",
            call.call.call_id
        );
        assert!(
            loud(&left).min(loud(&right)) < 100,
            "{}: and silence in the other",
            call.call.call_id
        );
    }
}

#[test]
fn netmon_and_gzip_captures_are_read() {
    let netmon = replay_shared("wireshark-wiki/c07-sip-r2.cap");
    assert!(
        netmon.summary.engine.frames > 30,
        "{:?}",
        netmon.summary.engine
    );
    let gzip = replay_shared("wireshark-wiki/rtp_example.raw.gz");
    assert!(
        gzip.summary.engine.frames > 400,
        "{:?}",
        gzip.summary.engine
    );
}

#[test]
fn sdp_inside_a_multipart_body_is_found() {
    let replayed = replay_shared("wireshark-wiki/MSCML.pcap");
    assert_eq!(replayed.calls.len(), 2);
    assert!(replayed
        .calls
        .iter()
        .all(|c| c.disposition == Some(Disposition::Answered)));
}
