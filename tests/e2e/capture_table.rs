//! The whole-folder replay table: every capture of `../shared/captures/MANIFEST.tsv`
//! replayed, and per capture the calls it must give, each as `DISPOSITION CALLER [rtp
//! REMOTE PHONE]`: the disposition, the caller-ID (the number, else `withheld` or
//! `unknown`; for an outbound call the number called) and, when the call has RTP figures,
//! `packets/lost` per leg, the remote party's first.
//!
//! The rows were checked against tshark (packets and loss per RTP stream, the INVITEs' From
//! users and final responses) and, for dispositions, against the SIP itself;
//! `capture_table.py` prints tshark's figures beside Ringside's to check or regenerate them.
//! Every row is what the capture holds, not merely what Ringside made of it: where the two
//! disagreed, Ringside was fixed (issue 12). Where Ringside differs from tshark on purpose (RTP
//! sent after the BYE is not the call's), the row says so.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bridge_agent::store::CallRecord;
use ringside_core::caller_id::Presentation;

use crate::support::{captures_dir, replay_shared};

/// One capture's expected calls.
struct Row {
    capture: &'static str,
    /// Each call as the module doc says, in any order.
    calls: &'static [&'static str],
}

const fn row(capture: &'static str, calls: &'static [&'static str]) -> Row {
    Row { capture, calls }
}

/// The calls as Ringside gives them, rendered as the table writes them.
fn rendered(call: &CallRecord) -> String {
    let party = &call.call.party;
    let caller = match (&party.number, party.presentation) {
        (Some(number), _) => number.as_str(),
        (None, Presentation::Withheld) => "withheld",
        (None, _) => "unknown",
    };
    let disposition = call.disposition.map_or("in progress", |d| d.as_str());
    format!("{disposition} {caller}{}", legs(call))
}

/// ` rtp REMOTE PHONE` as `packets/lost` each, or nothing when no leg has packets.
fn legs(call: &CallRecord) -> String {
    let Some(quality) = &call.quality else {
        return String::new();
    };
    let figures: Vec<(u64, u64)> = ["remote", "phone"]
        .iter()
        .map(|side| {
            let figure = |name: &str| quality[side][name].as_u64().unwrap_or(0);
            (figure("packets"), figure("lost"))
        })
        .collect();
    if figures.iter().all(|(packets, _)| *packets == 0) {
        return String::new();
    }
    let legs: Vec<String> = figures.iter().map(|(p, l)| format!("{p}/{l}")).collect();
    format!(" rtp {}", legs.join(" "))
}

/// Replays a capture: its calls rendered and sorted, or why it read nothing.
fn calls_of(capture: &str) -> Result<Vec<String>, String> {
    let replayed = replay_shared(capture);
    let stats = replayed.summary.engine;
    if stats.frames + stats.sip_messages + stats.sip_malformed == 0 {
        return Err("nothing read".to_owned());
    }
    let mut calls: Vec<String> = replayed.calls.iter().map(rendered).collect();
    calls.sort();
    Ok(calls)
}

/// Replays every capture, a few at once, and returns each one's rendered calls (sorted), or
/// why it read nothing.
fn replay_all(captures: &[&'static str]) -> Vec<(&'static str, Result<Vec<String>, String>)> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(&capture) = captures.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = calls_of(capture);
                    results
                        .lock()
                        .expect("no worker panicked")
                        .push((capture, result));
                }
            });
        }
    });
    results.into_inner().expect("no worker panicked")
}

#[test]
fn every_capture_gives_the_calls_of_its_row() {
    let manifest = std::fs::read_to_string(captures_dir().join("MANIFEST.tsv")).expect("manifest");
    let mut in_manifest: Vec<&str> = manifest
        .lines()
        .skip(1)
        .map(|line| line.split('\t').next().expect("a path column"))
        .collect();
    in_manifest.sort_unstable();
    let mut in_table: Vec<&'static str> = TABLE.iter().map(|r| r.capture).collect();
    in_table.sort_unstable();
    assert_eq!(in_table, in_manifest, "one row per capture of the manifest");

    let mut problems = Vec::new();
    for (capture, result) in replay_all(&in_table) {
        let row = TABLE.iter().find(|r| r.capture == capture).expect("a row");
        match result {
            Ok(calls) => problems.extend(check(row, &calls)),
            Err(why) => problems.push(format!("{capture}: {why}")),
        }
    }
    problems.sort();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What is wrong with a row, if anything: the capture must give the row's calls.
fn check(row: &Row, calls: &[String]) -> Option<String> {
    let mut expected = row.calls.to_vec();
    expected.sort_unstable();
    (calls != expected).then(|| {
        let capture = row.capture;
        format!("{capture}:\n  expected {expected:?}\n  got      {calls:?}")
    })
}

/// Every capture of the manifest, in its order.
#[rustfmt::skip]
static TABLE: &[Row] = &[
    row("wireshark-wiki/SIP_CALL_RTP_G711", &["answered unknown rtp 891/0 548/0", "missed 5514540002"]),
    row("wireshark-wiki/SIP_DTMF2.cap", &["rejected 2504", "answered 2504 rtp 665/2 666/0"]),
    row("wireshark-wiki/DTMFsipinfo.pcap", &["answered echo"]),
    row("wireshark-wiki/MagicJack-_short_call.pcap", &["answered 9055551212 rtp 626/0 638/0"]),
    row("wireshark-wiki/nb6-telephone.pcap", &["answered 147 rtp 259/0 248/0"]),
    row("wireshark-wiki/rtp_conversacion.pcap", &["answered 102 rtp 1151/0 1159/0"]),
    // tshark: 205 packets to .40 and 2 to .2 before the re-INVITE moved the media: one leg of 207.
    row("wireshark-wiki/Asterisk_ZFONE_XLITE.pcap", &["answered 10008 rtp 790/1 207/369"]),
    row("wireshark-wiki/metasploit-sip-invite-spoof.pcap", &["missed unknown"]),
    row("wireshark-wiki/filenameGRE199---fax-iz-InLife-G711---OK!!!.cap", &["answered 7773464874", "answered 7773464874", "answered 59235923", "forwarded 59235923", "answered 59235923", "answered 7773464874", "answered 7773464874", "missed 1215556109", "missed 1215556109", "failed 17620401976"]),
    row("wireshark-wiki/wireuploaded.pcap", &["answered 15054732211", "answered 215"]),
    row("wireshark-wiki/LtoZ_rtpFilter_fail_2.pcap", &["answered 768000 rtp 49/0 32/0"]),
    // tshark counts 266: the last packet (sequence 265, frame 293) comes after the BYE (frame
    // 292), when the call is over, as in the MagicJack and nb6 rows.
    row("wireshark-wiki/port-16_vlan24_200.pcap", &["answered 6601 rtp 0/0 265/0"]),
    row("wireshark-wiki/sip-rtp-g711.pcap", &["answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 414/0"]),
    row("wireshark-wiki/sip-rtp-g722.pcap", &["answered sipp rtp 0/0 425/0"]),
    row("wireshark-wiki/sip-rtp-g729a.pcap", &["answered sipp rtp 0/0 425/0"]),
    row("wireshark-wiki/sip-rtp-opus.pcap", &["answered sipp rtp 0/0 425/0"]),
    row("wireshark-wiki/sip-rtp-ilbc.pcap", &["answered sipp rtp 0/0 284/0"]),
    row("wireshark-wiki/sip-rtp-gsm.pcap", &["answered sipp rtp 0/0 425/0"]),
    row("wireshark-wiki/sip-rtp-speex.pcap", &["answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0"]),
    // The codecs kept raw are counted by sequence number, as tshark counts them.
    row("wireshark-wiki/sip-rtp-g726.pcap", &["answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0"]),
    row("wireshark-wiki/sip-rtp-dvi4.pcap", &["answered sipp rtp 0/0 425/0", "answered sipp rtp 0/0 425/0"]),
    row("wireshark-wiki/sip-rtp-lpc.pcap", &["answered sipp rtp 0/0 95/0"]),
    row("wireshark-wiki/sip-rtp-opus-hybrid.pcap", &["answered sipp rtp 0/0 5/311"]),
    row("wireshark-wiki/T38.pcap", &["answered 7710"]),
    // tshark's rtp,streams: 3147/0 and 1838/6, but it stops decoding .100's side after the T.38 re-INVITE's
    // 488 (conv,udp: 3848 frames from .100:15580); Ringside's 3142 of .52's 3147: 3 are of PT 100,
    // which no SDP offered (stray), 2 not explained.
    row("wireshark-wiki/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", &["answered unknown", "answered unknown rtp 3142/0 3846/0"]),
    // tshark: 18 packets with 1711 lost and 2 with 962 lost on the long call (its few RTP
    // packets are seconds apart), 1 and 2 on the short one (G.729 and CN).
    row("wireshark-wiki/1filtered.cap", &["answered 12086212025 rtp 1/0 2/0", "answered 12086212025 rtp 18/1711 2/962"]),
    row("wireshark-wiki/MSCML.pcap", &["answered sipp", "answered sipp"]),
    row("wireshark-wiki/c07-sip-r2.cap", &["failed tori"]),
    row("wireshark-wiki/rtp_example.raw.gz", &[]),
    row("sngrep/aaa.pcap", &["missed 97239287044", "rejected 0097239287044", "rejected 0097239287044", "failed 35104724"]),
    row("sngrep/ipv6frag.pcap", &["answered 08019200026"]),
    row("sngrep/ipip.pcap", &["answered 1bdaa608131517540000"]),
    row("ndpi/rtp.pcapng", &[]),
    row("ndpi/sip_hello.pcapng", &[]),
    row("suricata-verify/public-cloudshark-sip-s0.pcap", &["answered unknown", "missed 5514540002"]),
    row("suricata-verify/sip_compact_form.pcap", &["failed 97239287044"]),
    row("suricata-verify/sip_header_multi_val.pcap", &["failed 97239287044"]),
    row("suricata-verify/sip-tcp.pcap", &[]),
    row("suricata-verify/sip-body-large.pcap", &[]),
    row("zeek/sip-junk-before-request.pcap", &[]),
    row("zeek/invalid-content-length.pcap", &["answered alice"]),
    row("zeek/sip-long-request-response-paths.pcap", &[]),
    row("pcapplusplus/sip_reqs.pcap", &["missed unknown"]),
    row("pcapplusplus/sip_resp.pcap", &[]),
    row("pcapplusplus/sip_non_default_port.pcap", &["missed 1005"]),
    row("pcapplusplus/sip_not_sdp.pcap", &[]),
    row("pcapplusplus/sdp.pcap", &[]),
    row("pkts/cancel.pcap", &["missed sipp"]),
    row("pkts/fragmented_udp_sip.pcap", &[]),
    row("pkts/fragmented_tcp_sip.pcap", &["answered sipp"]),
    row("pkts/sip_rtp.pcap", &["answered sipp rtp 501/0 0/0"]),
    row("snort3_demo/digium.pcap", &["answered 200", "answered 200"]),
    // The audio (BV32) legs; the H.264 video streams are not the call's audio.
    row("snort3_demo/SIP_Eyebeam2Eyebeam_Video_Audio.pcap", &["answered 145 rtp 1562/0 1202/0"]),
    row("heplify/ipip0.pcap", &["missed 18121862248"]),
    row("sipp/dtmf_2833_0.pcap", &[]),
    row("sipp/dtmf_2833_1.pcap", &[]),
    row("sipp/dtmf_2833_2.pcap", &[]),
    row("sipp/dtmf_2833_3.pcap", &[]),
    row("sipp/dtmf_2833_4.pcap", &[]),
    row("sipp/dtmf_2833_5.pcap", &[]),
    row("sipp/dtmf_2833_6.pcap", &[]),
    row("sipp/dtmf_2833_7.pcap", &[]),
    row("sipp/dtmf_2833_8.pcap", &[]),
    row("sipp/dtmf_2833_9.pcap", &[]),
    row("sipp/dtmf_2833_pound.pcap", &[]),
    row("sipp/dtmf_2833_star.pcap", &[]),
    row("sipp/g711a.pcap", &[]),
    row("rtpproxy/dtmf.pcap", &[]),
    row("rtpproxy/lost.a.rtp", &[]),
    row("rtpproxy/lost.o.rtp", &[]),
    row("asterisk-testsuite/ulaw-2013785496.pcap", &[]),
    row("asterisk-testsuite/40msalaw.pcap", &[]),
    row("asterisk-testsuite/crash-27382.pcap", &[]),
    row("peafowl/rtp.pcap", &[]),
    // The first call's 200 is not in the trace: its ACK (a To tag, no RFC 3261 branch to
    // tell by) and the responses to the BYE that followed prove the answer.
    row("ncid/test-sip-gw.data", &["answered 14075555191", "missed 14075555191"]),
    row("nextcaller/sip-i.pcap", &["missed +13107401983"]),
    row("nextcaller/sip_packet_full.txt", &["missed 151"]),
    row("nextcaller/invite-request.sip", &["failed alice"]),
    row("mtaa-kastler/ukoncenie-neprijateho-hovoru.pcapng", &["rejected DavidNtb"]),
    row("mtaa-kastler/zavolanie_si_medzi_klientmi.pcapng", &["answered DavidNtb"]),
    row("mtaa-illyaluntik/busy.pcap", &[]),
    row("mtaa-illyaluntik/call.pcap", &["busy android"]),
    row("mtaa-illyaluntik/cancel-not-accepted.pcap", &["missed iphone"]),
    row("resiprocate/wsinv.dat", &[]),
    row("resiprocate/intmeth.dat", &[]),
    row("resiprocate/esc01.dat", &["failed user"]),
    row("resiprocate/escnull.dat", &[]),
    row("resiprocate/esc02.dat", &[]),
    row("resiprocate/lwsdisp.dat", &[]),
    row("resiprocate/longreq.dat", &["missed amazinglylongcallernameamazinglylongcallernameamazinglylongcallernameamazinglylongcallernameamazinglylongcallername"]),
    row("resiprocate/dblreq.dat", &[]),
    row("resiprocate/semiuri.dat", &[]),
    row("resiprocate/transports.dat", &[]),
    row("resiprocate/mpart01.dat", &[]),
    row("resiprocate/unreason.dat", &[]),
    row("resiprocate/noreason.dat", &[]),
    row("resiprocate/badinv01.dat", &["missed caller"]),
    row("resiprocate/clerr.dat", &["failed j.user"]),
    row("resiprocate/scalar02.dat", &[]),
    row("resiprocate/scalarlg.dat", &[]),
    row("resiprocate/quotbal.dat", &[]),
    row("resiprocate/ltgtruri.dat", &[]),
    row("resiprocate/lwsruri.dat", &[]),
    row("resiprocate/lwsstart.dat", &[]),
    row("resiprocate/trws.dat", &[]),
    row("resiprocate/escruri.dat", &[]),
    row("resiprocate/baddate.dat", &["failed user"]),
    row("resiprocate/regbadct.dat", &[]),
    row("resiprocate/badaspec.dat", &[]),
    row("resiprocate/baddn.dat", &[]),
    row("resiprocate/badvers.dat", &[]),
    row("resiprocate/mismatch01.dat", &[]),
    row("resiprocate/mismatch02.dat", &[]),
    row("resiprocate/bigcode.dat", &[]),
    row("resiprocate/badbranch.dat", &[]),
    row("resiprocate/insuf.dat", &[]),
    row("resiprocate/unkscm.dat", &[]),
    row("resiprocate/novelsc.dat", &[]),
    row("resiprocate/unksm2.dat", &[]),
    row("resiprocate/bext01.dat", &[]),
    row("resiprocate/invut.dat", &["failed j.user"]),
    row("resiprocate/regaut01.dat", &[]),
    row("resiprocate/multi01.dat", &["failed user"]),
    row("resiprocate/mcl01.dat", &[]),
    row("resiprocate/bcast.dat", &[]),
    row("resiprocate/zeromf.dat", &[]),
    row("resiprocate/cparam01.dat", &[]),
    row("resiprocate/cparam02.dat", &[]),
    row("resiprocate/regescrt.dat", &[]),
    row("resiprocate/sdp01.dat", &["failed j_user"]),
    row("resiprocate/inv2543.dat", &["missed +13035551111"]),
];
