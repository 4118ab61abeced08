//! The call log as a table on a terminal (`ringside calls`, and the end of `ringside demo`):
//! one line a call, newest first, caller text escaped.

use ringside_core::text::Escaped;

use crate::store::CallRecord;

/// Prints the call log as a table; text from callers (and anything else read from the
/// database) is escaped, so a name cannot act on the terminal or forge a line.
pub fn print_calls(calls: &[CallRecord]) {
    println!(
        "{:<4} {:<20} {:<9} {:<16} {:<20} {:<9} recording",
        "id", "started (UTC)", "direction", "number", "caller", "outcome"
    );
    for c in calls {
        let number = if c.anonymous {
            "anonymous"
        } else {
            c.number.as_deref().unwrap_or_default()
        };
        println!(
            "{:<4} {:<20} {:<9} {:<16} {:<20} {:<9} {}",
            c.id,
            Escaped(
                &c.started_at
                    .get(..19)
                    .unwrap_or(&c.started_at)
                    .replace('T', " ")
            ),
            Escaped(&c.direction),
            Escaped(number),
            Escaped(c.display.as_deref().unwrap_or_default()),
            Escaped(c.disposition.as_deref().unwrap_or("ongoing")),
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
