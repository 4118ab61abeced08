//! RFC 4475 torture messages (as reSIProcate ships them): the valid ones parse with the right
//! values, the invalid ones are refused or read leniently as RFC 4475 advises, none panics.

use ringside_core::caller_id::caller_id;
use ringside_core::sip::{parse_datagram, Message, Method};

use crate::support::captures_dir;

fn message(name: &str) -> Result<Message, String> {
    let bytes = std::fs::read(
        captures_dir()
            .join("resiprocate")
            .join(format!("{name}.dat")),
    )
    .expect("torture file");
    match parse_datagram(&bytes) {
        Ok(Some(message)) => Ok(message),
        Ok(None) => Err("keep-alive".into()),
        Err(error) => Err(error.to_string()),
    }
}

#[test]
fn valid_messages_parse_with_the_right_values() {
    for name in [
        "wsinv",
        "intmeth",
        "esc01",
        "escnull",
        "esc02",
        "lwsdisp",
        "longreq",
        "dblreq",
        "semiuri",
        "transports",
        "mpart01",
        "unreason",
        "noreason",
    ] {
        message(name).unwrap_or_else(|e| panic!("{name} must parse: {e}"));
    }
    let wsinv = message("wsinv").expect("wsinv");
    assert_eq!(wsinv.call_id(), "wsinv.ndaksdj@192.0.2.1");
    assert_eq!(wsinv.cseq().number, 9);
    let id = caller_id(&wsinv).expect("caller");
    assert_eq!(id.name.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(id.number.as_deref(), Some("jdrosen"));

    let esc01 = caller_id(&message("esc01").expect("esc01")).expect("caller");
    assert_eq!(
        esc01.number.as_deref(),
        Some("I have spaces"),
        "percent-decoded user"
    );

    let dblreq = message("dblreq").expect("dblreq");
    assert_eq!(
        dblreq.method(),
        Some(&Method::Register),
        "the trailing INVITE is ignored"
    );

    let intmeth = message("intmeth").expect("intmeth");
    assert!(matches!(intmeth.method(), Some(Method::Other(m)) if m.starts_with("!interesting")));

    let mpart = message("mpart01").expect("mpart01");
    assert_eq!(mpart.body.len(), 553, "the binary multipart body, whole");
    assert!(mpart.sdp().is_none(), "text and a certificate, no SDP");

    assert_eq!(message("noreason").expect("noreason").status(), Some(100));
    assert_eq!(message("unreason").expect("unreason").status(), Some(200));
}

#[test]
fn invalid_messages_are_refused() {
    for name in [
        "scalar02",
        "scalarlg",
        "ltgtruri",
        "lwsruri",
        "lwsstart",
        "trws",
        "escruri",
        "badvers",
        "mismatch01",
        "mismatch02",
        "bigcode",
        "insuf",
        "mcl01",
    ] {
        assert!(message(name).is_err(), "{name} must be refused");
    }
}

#[test]
fn invalid_messages_that_rfc_4475_lets_a_reader_accept_are_read_leniently() {
    // clerr: body shorter than Content-Length; read as far as it goes (Ringside only watches).
    for name in [
        "badinv01",
        "clerr",
        "baddate",
        "regbadct",
        "badaspec",
        "baddn",
        "quotbal",
        "badbranch",
        "unkscm",
        "novelsc",
        "unksm2",
        "bext01",
        "invut",
        "regaut01",
        "multi01",
        "bcast",
        "zeromf",
        "cparam01",
        "cparam02",
        "regescrt",
        "sdp01",
        "inv2543",
    ] {
        message(name).unwrap_or_else(|e| panic!("{name} should be read leniently: {e}"));
    }
    // quotbal: the To is unreadable, but the From (the caller) is fine.
    let quotbal = message("quotbal").expect("quotbal");
    assert!(quotbal.to().is_none());
    assert_eq!(
        caller_id(&quotbal).and_then(|c| c.number).as_deref(),
        Some("caller")
    );
}

#[test]
fn no_torture_file_panics_any_reader() {
    let dir = captures_dir().join("resiprocate");
    for entry in std::fs::read_dir(dir).expect("dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        if let Ok(Some(message)) = parse_datagram(&bytes) {
            let _ = caller_id(&message);
            let _ = message
                .sdp()
                .map(ringside_core::sdp::SessionDescription::parse);
        }
        let _ = ringside_core::sip::split_stream(&bytes);
    }
}
