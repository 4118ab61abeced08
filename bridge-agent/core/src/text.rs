//! Caller text is data: how a name, a number or anything else that came from the network (or
//! from the database, which keeps what was received) is shown on a terminal, in a log line, in
//! a line-per-event format or in a popup.
//!
//! [`Escaped`] writes a string with every character that could act on a terminal or break a
//! line rendered visibly: C0 controls (tab, newline and escape included), DEL, C1 controls,
//! the Unicode line and paragraph separators and the bidirectional marks, embeddings,
//! overrides and isolates (which reorder what a reader sees). Everything else, non-ASCII
//! letters included, is written as it is. The escapes are Rust's: `\t`, `\n`, `\r`, `\x1b`,
//! `\u{202e}`. The data themselves are never changed; only their rendering is.

use std::fmt::{self, Write};

/// Whether `c` must not reach a terminal or a line format as it is.
#[must_use]
pub fn is_hazardous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Arabic letter mark, left-to-right and right-to-left marks.
        | '\u{61c}' | '\u{200e}' | '\u{200f}'
        // Line and paragraph separators: line breaks to some viewers.
        | '\u{2028}' | '\u{2029}'
        // Embeddings and overrides (LRE, RLE, PDF, LRO, RLO), isolates (LRI, RLI, FSI, PDI).
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A string rendered with its hazardous characters escaped (see the module comment).
///
/// ```
/// use ringside_core::text::Escaped;
/// assert_eq!(Escaped("Mom\x1b[2J\nfake").to_string(), "Mom\\x1b[2J\\nfake");
/// assert_eq!(Escaped("\u{202e}evil").to_string(), "\\u{202e}evil");
/// assert_eq!(Escaped("Zoë 😀").to_string(), "Zoë 😀");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.chars().any(is_hazardous) {
            // Padding and alignment (`{:<20}`) apply to clean text as to any string.
            return f.pad(self.0);
        }
        let mut out = String::with_capacity(self.0.len() + 8);
        for c in self.0.chars() {
            match c {
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if is_hazardous(c) && (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if is_hazardous(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        f.pad(&out)
    }
}

/// `text` with its hazardous characters escaped, as an owned string.
#[must_use]
pub fn escape(text: &str) -> String {
    Escaped(text).to_string()
}

/// `json` (as `serde_json` writes it) with the hazardous characters it leaves raw inside
/// strings (DEL, C1 controls, line separators, bidi marks) written as `\uXXXX` escapes: the
/// same JSON value, safe to print to a terminal. `serde_json` already escapes C0 controls
/// inside strings, so a raw one in its output is the layout's own line break or indent.
#[must_use]
pub fn terminal_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_hazardous(c) && c >= '\u{7f}' {
            // Every hazardous character is in the Basic Multilingual Plane: one escape each.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn controls_line_breaks_and_bidi_overrides_are_shown_not_obeyed() {
        assert_eq!(escape("a\tb\nc\rd"), "a\\tb\\nc\\rd");
        assert_eq!(escape("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
        assert_eq!(escape("\0\x7f"), "\\x00\\x7f");
        assert_eq!(escape("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
        assert_eq!(
            escape("\u{202e}gnp.exe\u{202c}\u{2066}x\u{2069}"),
            "\\u{202e}gnp.exe\\u{202c}\\u{2066}x\\u{2069}"
        );
        assert_eq!(escape("one\u{2028}two"), "one\\u{2028}two");
        assert_eq!(escape("\u{200f}\u{61c}"), "\\u{200f}\\u{61c}");
    }

    #[test]
    fn ordinary_text_is_untouched_and_padding_still_applies() {
        for clean in [
            "",
            "Mom",
            "+1 (555) 010-0001",
            "Zoë Ünal",
            "東京 😀",
            "a\\x1b",
        ] {
            assert_eq!(escape(clean), clean);
        }
        assert_eq!(format!("[{:<6}]", Escaped("ab")), "[ab    ]");
        assert_eq!(format!("[{:<6}]", Escaped("a\nb")), "[a\\nb  ]");
    }

    #[test]
    fn json_for_a_terminal_is_the_same_value_without_raw_controls() {
        let value = serde_json::json!({"name": "a\u{7f}\u{9b}b\u{202e}\n\u{2028}é"});
        let json = serde_json::to_string_pretty(&value).expect("JSON");
        let safe = terminal_safe_json(&json);
        assert!(
            !safe.chars().any(|c| is_hazardous(c) && c != '\n'),
            "{safe}"
        );
        assert!(safe.contains(r"a\u007f\u009bb\u202e\n\u2028é"), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, value);
    }

    proptest! {
        #[test]
        fn no_hazardous_character_survives(text in any::<String>()) {
            let shown = escape(&text);
            prop_assert!(!shown.chars().any(is_hazardous), "{shown:?}");
            prop_assert!(shown.len() >= text.len());
        }

        #[test]
        fn escaping_keeps_every_other_character_in_order(text in "[^\\p{C}\\p{Zl}\\p{Zp}]*") {
            prop_assert_eq!(escape(&text), text);
        }
    }
}
