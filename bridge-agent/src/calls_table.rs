//! The call log as a table on a terminal (`ringside calls`, and the end of `ringside demo`):
//! one line a call, newest first, caller text escaped.

use ringside_core::call::Disposition;
use ringside_core::caller_id::Presentation;
use ringside_core::rfc3339;
use ringside_core::text::Escaped;

use crate::output::say;
use crate::store::CallRecord;

/// Prints the call log as a table; text from callers (and anything else read from the
/// database) is escaped, so a name cannot act on the terminal or forge a line.
pub fn print_calls(calls: &[CallRecord]) {
    say!(
        "{:<4} {:<20} {:<9} {:<16} {:<20} {:<9} recording",
        "id",
        "started (UTC)",
        "direction",
        "number",
        "caller",
        "outcome"
    );
    for c in calls {
        let party = &c.call.party;
        let number = match party.presentation {
            Presentation::Withheld => "anonymous",
            Presentation::Unknown => "unknown",
            Presentation::Number => party.number.as_deref().unwrap_or_default(),
        };
        // To the second, with a space: `2026-11-08 09:00:00`.
        let started = rfc3339::format(c.call.started_at);
        say!(
            "{:<4} {:<20} {:<9} {:<16} {:<20} {:<9} {}",
            c.id,
            started.get(..19).unwrap_or(&started).replace('T', " "),
            c.call.direction.as_str(),
            Escaped(number),
            Escaped(party.display.as_deref().unwrap_or_default()),
            c.disposition.map_or("ongoing", Disposition::as_str),
            Escaped(&recording_cell(c))
        );
    }
}

/// The recording's path, then what it left out: a stop before the call ended, long gaps.
fn recording_cell(c: &CallRecord) -> String {
    let path = c
        .recording
        .as_deref()
        .or(c.raw_rtp.as_deref())
        .unwrap_or("-");
    let stopped = c
        .recording_stopped
        .as_ref()
        .map(|note| format!(" ({note})"))
        .unwrap_or_default();
    let gaps = match c.gaps_skipped {
        0 => String::new(),
        n => format!(" ({n} long silences skipped)"),
    };
    format!("{path}{stopped}{gaps}")
}
