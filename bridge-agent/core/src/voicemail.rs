//! Voicemail: the message-waiting summary a provider sends the phone in a NOTIFY for the
//! `message-summary` event (RFC 3842), read from its body.

/// What the provider says is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageSummary {
    /// `Messages-Waiting: yes`.
    pub waiting: bool,
    /// New voice messages (the first number of `Voice-Message: new/old`).
    pub new: u32,
    /// Old (heard) voice messages.
    pub old: u32,
}

/// Reads a `message-summary` body; `None` without a `Messages-Waiting` line. Header names
/// are case-insensitive; the urgent counts in parentheses are ignored.
#[must_use]
pub fn parse_message_summary(body: &[u8]) -> Option<MessageSummary> {
    let text = String::from_utf8_lossy(body);
    let mut summary = None::<MessageSummary>;
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("messages-waiting") {
            summary.get_or_insert_with(MessageSummary::default).waiting =
                value.eq_ignore_ascii_case("yes");
        } else if name.eq_ignore_ascii_case("voice-message") {
            let counts = value.split_whitespace().next().unwrap_or_default();
            if let Some((new, old)) = counts.split_once('/') {
                let entry = summary.get_or_insert_with(MessageSummary::default);
                entry.new = new.trim().parse().unwrap_or(0);
                entry.old = old.trim().parse().unwrap_or(0);
            }
        }
    }
    summary.filter(|_| {
        text.lines().any(|l| {
            l.trim_start()
                .to_ascii_lowercase()
                .starts_with("messages-waiting")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc_3842_bodies() {
        let body = b"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n";
        assert_eq!(
            parse_message_summary(body),
            Some(MessageSummary {
                waiting: true,
                new: 2,
                old: 8
            })
        );
        assert_eq!(
            parse_message_summary(b"messages-waiting: no\n"),
            Some(MessageSummary {
                waiting: false,
                new: 0,
                old: 0
            })
        );
        assert_eq!(parse_message_summary(b"Voice-Message: 1/0\r\n"), None);
        assert_eq!(parse_message_summary(b""), None);
        assert_eq!(parse_message_summary(&[0xff, 0xfe, b':']), None);
    }
}
