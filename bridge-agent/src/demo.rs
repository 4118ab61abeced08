//! `ringside demo`: the newcomer's first command. Generates a morning of calls (answered,
//! missed, anonymous, busy, outbound, one on hold), replays them like a real capture, and
//! prints the call log and where the recordings are; the data directory then has a phonebook
//! name, filters and a voicemail report for the console.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use ringside_core::call::CallDirection;
use ringside_core::filters::{Action, Field};
use ringside_core::sdp::Codec;

use crate::output::say;
use crate::replay::{replay, ReplayOptions};
use crate::store::{Store, DB_FILE};
use ringside_synth::{
    packets, voicemail_notify, write_pcap, Endpoints, Hold, Impairments, Outcome, SynthCall,
};

/// Marks a data directory as the demo's, so running the demo again may clear it.
const MARKER: &str = ".ringside-demo";
/// The demo morning: 2026-11-08 09:00 UTC.
const DEMO_EPOCH: Duration = Duration::from_hours(498_369);

/// The demo's calls. Numbers are in the 555-01xx range reserved for fiction.
#[must_use]
pub fn demo_calls() -> Vec<SynthCall> {
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let mut calls = Vec::new();
    let mut mom = SynthCall::inbound(1, "15550100001", Some("WIRELESS CALLER"));
    mom.start = minutes(0);
    mom.hold = Some(Hold {
        after: Duration::from_secs(3),
        length: Duration::from_secs(2),
    });
    mom.outcome = Outcome::Answered {
        talk: Duration::from_secs(8),
    };
    calls.push(mom);
    let mut anonymous = SynthCall::inbound(2, "15550100002", None);
    anonymous.anonymous = true;
    anonymous.start = minutes(7);
    anonymous.outcome = Outcome::CallerHangsUp;
    calls.push(anonymous);
    let mut dentist = SynthCall::inbound(3, "15550100003", Some("Bright Smile Dental"));
    dentist.start = minutes(15);
    dentist.codec = Codec::Pcma;
    dentist.impairments = Impairments {
        loss: 0.01,
        reorder: 0.05,
        duplicate: 0.02,
    };
    dentist.endpoints = Endpoints::standard(3, 10_000);
    calls.push(dentist);
    let mut pizza = SynthCall::inbound(4, "15550100004", Some("Pizza Place"));
    pizza.direction = CallDirection::Outbound;
    pizza.start = minutes(42);
    pizza.ring = Duration::from_secs(3);
    pizza.remote_tone = 660.0;
    calls.push(pizza);
    let mut busy = SynthCall::inbound(5, "15550100005", None);
    busy.direction = CallDirection::Outbound;
    busy.start = minutes(55);
    busy.outcome = Outcome::Busy;
    calls.push(busy);
    calls
}

/// Adds two blocking filters to `data_dir`, writes the demo capture (the morning's calls and
/// a nuisance caller the filters turn away), replays it, names one caller in the phonebook,
/// and prints the call log.
pub fn run(data_dir: &Path) -> anyhow::Result<()> {
    prepare(data_dir)?;
    let capture = data_dir.join("demo.pcap");
    let mut store = Store::open(data_dir)?;
    let now = crate::timefmt::now_rfc3339();
    // Filters to look at, one of which turns a nuisance caller of the morning away.
    store.add_filter("*car warranty*", Field::Name, Action::Block, None, &now)?;
    store.add_filter("1900*", Field::Number, Action::Block, None, &now)?;
    drop(store);
    let mut calls = demo_calls();
    let mut nuisance = SynthCall::inbound(6, "15550100007", Some("CAR WARRANTY"));
    nuisance.start = Duration::from_mins(30);
    nuisance.outcome = Outcome::CallerHangsUp;
    calls.push(nuisance);
    let mut packets = packets(&calls, 7);
    // The caller who hung up left a message: the provider says one is waiting.
    let mwi = Duration::from_mins(8);
    packets.push(voicemail_notify(mwi, Endpoints::standard(0, 5060), 1, 1, 4));
    packets.sort_by_key(|p| p.at);
    write_pcap(&capture, DEMO_EPOCH, &packets).context("cannot write the demo capture")?;
    let summary = replay(&capture, data_dir, &ReplayOptions::default())?;
    let store = Store::open(data_dir)?;
    store.set_phonebook_name("15550100001", "Mom", crate::timefmt::now_utc())?;
    crate::output::write(format_args!("{summary}"));
    say!();
    crate::calls_table::print_calls(&store.calls(100, 0)?);
    say!();
    say!("The capture:     {}", capture.display());
    say!(
        "Recordings:      {}/recordings/ (stereo WAV: caller left, your phone right)",
        data_dir.display()
    );
    say!(
        "Call log (JSON): ringside calls --data-dir {} --json",
        data_dir.display()
    );
    Ok(())
}

/// Makes `data_dir` ready: new, or the demo's own from an earlier run (cleared). A data
/// directory that is not the demo's is never touched.
fn prepare(data_dir: &Path) -> anyhow::Result<()> {
    if data_dir.join(DB_FILE).exists() {
        if !data_dir.join(MARKER).exists() {
            bail!(
                "{} holds a Ringside database that is not the demo's; choose another --data-dir",
                data_dir.display()
            );
        }
        std::fs::remove_dir_all(data_dir)
            .with_context(|| format!("cannot clear {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    std::fs::write(
        data_dir.join(MARKER),
        "Created by `ringside demo`; the demo clears this folder when run again.\n",
    )?;
    Ok(())
}
