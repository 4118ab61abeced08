//! What `--print` writes and what an `--exec` program gets for an announcement: one line of
//! three tab-separated fields, and `RINGSIDE_*` variables, caller text escaped in both
//! (`ringside_core::text`); and the name a popup shows.

use ringside_core::announce::{Announcement, EventKind};
use ringside_core::caller_id::Presentation;
use ringside_core::rfc3339;
use ringside_core::text::{escape, Escaped};

use crate::format::readable_number;

/// The name to show: the phonebook's, else the signalled one, else the number, else what
/// became of it: "Withheld" (the caller hid it) or "Unknown caller" (the network did not say).
pub(crate) fn who(a: &Announcement) -> String {
    let party = &a.party;
    if party.presentation == Presentation::Withheld {
        return party
            .display
            .clone()
            .filter(|d| !d.eq_ignore_ascii_case("anonymous"))
            .unwrap_or_else(|| "Withheld".to_owned());
    }
    party
        .display
        .clone()
        .or_else(|| party.name.clone())
        .or_else(|| party.number.as_deref().map(readable_number))
        .unwrap_or_else(|| "Unknown caller".to_owned())
}

fn event_word(event: EventKind) -> &'static str {
    match event {
        EventKind::Ring => "ring",
        EventKind::Answered => "answered",
        EventKind::Missed => "missed",
        EventKind::Ended => "ended",
        EventKind::Voicemail => "voicemail",
    }
}

/// `--print`: display name, number, event, tab-separated; tabs and line breaks in the name or
/// number are escaped, so a line is always one event of three fields.
pub(crate) fn print_line(a: &Announcement) -> String {
    let number = match a.party.presentation {
        Presentation::Withheld => "anonymous",
        Presentation::Unknown => "unknown",
        Presentation::Number => a.party.number.as_deref().unwrap_or_default(),
    };
    format!(
        "{}\t{}\t{}",
        Escaped(&who(a)),
        Escaped(number),
        event_word(a.event)
    )
}

/// `--exec`: the caller-ID as environment variables. Each value is one `execve` environment
/// entry, so a newline could not forge another variable anyway; values are escaped all the
/// same, because scripts write them to terminals and logs (and a NUL could not be passed).
pub(crate) fn environment(a: &Announcement) -> Vec<(String, String)> {
    let pairs = [
        ("RINGSIDE_EVENT", event_word(a.event).to_owned()),
        ("RINGSIDE_CALL", a.call.clone()),
        ("RINGSIDE_DIRECTION", a.direction.to_string()),
        (
            "RINGSIDE_NUMBER",
            a.party.number.clone().unwrap_or_default(),
        ),
        ("RINGSIDE_NAME", a.party.name.clone().unwrap_or_default()),
        ("RINGSIDE_DISPLAY", who(a)),
        ("RINGSIDE_ANONYMOUS", a.party.is_withheld().to_string()),
        ("RINGSIDE_PRESENTATION", a.party.presentation.to_string()),
        ("RINGSIDE_TIME", rfc3339::format(a.time)),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), escape(&v)))
        .collect()
}
