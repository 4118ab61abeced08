//! A filter's pattern, read and bounded: what it matches and what matching may cost.
//!
//! Limits: number patterns (and exact numbers) are at most [`MAX_NUMBER_LEN`] bytes, name
//! globs at most [`MAX_NAME_LEN`] bytes; longer ones are refused with [`FilterError::TooLong`].
//! A caller's number is matched on its first [`MAX_NUMBER_LEN`] bytes. A caller's name is
//! matched whole (a name padded past the glob limit must not hide `*warranty*`), up to
//! [`MAX_MATCHED_NAME`] bytes, more than a SIP message can carry.
//!
//! Name globs are compiled to a `regex` automaton rather than matched by our own loop. The
//! glob crates (`wildmatch`, `glob-match`) backtrack to the last `*`, which costs
//! pattern × text in the worst case (`*a…ab` against `aaaa…`); `regex` never backtracks and
//! runs a lazy DFA, linear in the text for a compiled pattern, with a documented worst case
//! of pattern × text that the limits above keep to microseconds. `globset` compiles to
//! `regex` as well, but its language is the shell's, for paths: `[...]`, `{a,b}`, `**` and `\`
//! mean something there and nothing in a filter (a caller named `[Spam]` is matched
//! literally), so every pattern would have to be escaped before `globset` saw it, matching
//! would go through `Path`s, and its builder lets us set no size limit. Translating `*` and
//! `?` ourselves (`NameGlob::new`) is shorter than that, and the matcher stays `regex`.

use regex::{Regex, RegexBuilder};

use super::{Field, FilterError};
use crate::caller_id::Presentation;

/// The longest number pattern or exact number, in bytes (E.164 numbers have 15 digits; this
/// leaves room for separators and SIP user parts).
pub const MAX_NUMBER_LEN: usize = 64;
/// The longest name glob, in bytes, and how much of a caller's name filters look at.
pub const MAX_NAME_LEN: usize = 256;
/// How much of a caller's name filters look at: all of it, since no SIP message is longer.
const MAX_MATCHED_NAME: usize = 65_536;
/// The most memory one compiled name glob may take (a glob at its length limit needs far less).
const GLOB_SIZE_LIMIT: usize = 1 << 20;

/// A pattern, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pattern {
    /// Every caller, withheld and unknown ones included.
    Any,
    /// Callers who withheld their number (`anonymous`).
    Anonymous,
    /// Callers whose number the network did not give, nobody having hidden it (`unknown`).
    Unknown,
    /// These digits exactly.
    Exact(String),
    /// Numbers starting with these digits.
    Prefix(String),
    /// This number exactly, as [`number_key`] reads it: wildcards in it are literal.
    Literal(String),
    /// A case-insensitive glob on the name.
    Name(NameGlob),
}

/// A caller as filters see them.
pub(super) struct Caller<'a> {
    /// Whether there is a number at all, or why not.
    pub(super) presentation: Presentation,
    /// The number's first [`MAX_NUMBER_LEN`] bytes.
    pub(super) number: &'a str,
    /// Whether the number was longer (no exact-number filter can then be this number).
    pub(super) number_cut: bool,
    /// Its digits.
    pub(super) digits: String,
    /// The name (its first [`MAX_MATCHED_NAME`] bytes: all of any name SIP can carry).
    pub(super) name: Option<&'a str>,
}

impl<'a> Caller<'a> {
    pub(super) fn new(
        presentation: Presentation,
        number: Option<&'a str>,
        name: Option<&'a str>,
    ) -> Self {
        let whole = number.unwrap_or_default();
        let number = head(whole, MAX_NUMBER_LEN);
        Caller {
            presentation,
            number,
            number_cut: number.len() < whole.len(),
            digits: digits(number),
            name: name.map(|n| head(n, MAX_MATCHED_NAME)),
        }
    }
}

impl Caller<'_> {
    fn has_number(&self) -> bool {
        self.presentation == Presentation::Number
    }
}

impl Pattern {
    pub(super) fn parse(pattern: &str, field: Field) -> Result<Pattern, FilterError> {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return Err(FilterError::Empty);
        }
        let max = match field {
            Field::Name => MAX_NAME_LEN,
            Field::Number | Field::ExactNumber => MAX_NUMBER_LEN,
        };
        if pattern.len() > max {
            return Err(FilterError::TooLong {
                field,
                len: pattern.len(),
                max,
            });
        }
        match field {
            Field::Name => NameGlob::new(pattern).map(Pattern::Name),
            Field::ExactNumber => Ok(Pattern::Literal(number_key(pattern))),
            Field::Number => number_pattern(pattern),
        }
    }

    pub(super) fn matches(&self, caller: &Caller<'_>) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Anonymous => caller.presentation == Presentation::Withheld,
            Pattern::Unknown => caller.presentation == Presentation::Unknown,
            Pattern::Exact(digits) => caller.has_number() && caller.digits == *digits,
            Pattern::Prefix(digits) => caller.has_number() && caller.digits.starts_with(digits),
            Pattern::Literal(key) => {
                caller.has_number() && !caller.number_cut && number_key(caller.number) == *key
            }
            Pattern::Name(glob) => caller.name.is_some_and(|name| glob.matches(name)),
        }
    }
}

/// A number pattern: `*`, `anonymous`, `unknown`, digits, or digits and a trailing `*`.
fn number_pattern(pattern: &str) -> Result<Pattern, FilterError> {
    if pattern == "*" {
        return Ok(Pattern::Any);
    }
    if pattern.eq_ignore_ascii_case("anonymous") {
        return Ok(Pattern::Anonymous);
    }
    if pattern.eq_ignore_ascii_case("unknown") {
        return Ok(Pattern::Unknown);
    }
    let (body, prefix) = match pattern.strip_suffix('*') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let digits = digits(body);
    if !is_plain_number(body) || digits.is_empty() {
        return Err(FilterError::BadNumber(pattern.to_owned()));
    }
    Ok(if prefix {
        Pattern::Prefix(digits)
    } else {
        Pattern::Exact(digits)
    })
}

/// How an exact-number filter compares numbers: a plain number (digits and separators) by
/// its digits, so `+1 (555) 010-0001` is `15550100001`; anything else (`*`, `1555*`,
/// `alice`) as it is, trimmed, character for character.
#[must_use]
pub fn number_key(number: &str) -> String {
    let number = number.trim();
    let digits = digits(number);
    if is_plain_number(number) && !digits.is_empty() {
        digits
    } else {
        number.to_owned()
    }
}

fn is_plain_number(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_digit() || " -().+".contains(c))
}

/// The digits of a number, without `+`, spaces or punctuation.
fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A glob on names: `*` any run of characters, `?` one character, everything else itself,
/// letters in any case.
#[derive(Debug, Clone)]
pub(super) struct NameGlob(Regex);

impl NameGlob {
    fn new(glob: &str) -> Result<NameGlob, FilterError> {
        let mut regex = String::with_capacity(glob.len() * 2 + 8);
        regex.push_str(r"\A");
        let mut literal = [0u8; 4];
        for c in glob.chars() {
            match c {
                '*' if regex.ends_with(".*") => {}
                '*' => regex.push_str(".*"),
                '?' => regex.push('.'),
                c => regex.push_str(&regex::escape(c.encode_utf8(&mut literal))),
            }
        }
        regex.push_str(r"\z");
        RegexBuilder::new(&regex)
            .case_insensitive(true)
            .dot_matches_new_line(true)
            .size_limit(GLOB_SIZE_LIMIT)
            .build()
            .map(NameGlob)
            .map_err(|error| FilterError::TooComplex(error.to_string()))
    }

    fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

impl PartialEq for NameGlob {
    fn eq(&self, other: &NameGlob) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for NameGlob {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn glob(pattern: &str) -> NameGlob {
        NameGlob::new(pattern).expect("a valid glob")
    }

    #[test]
    fn globs_match_any_case_and_treat_regex_syntax_as_text() {
        assert!(glob("*car warranty*").matches("Your CAR Warranty dept"));
        assert!(glob("sp?m").matches("SPAM"));
        assert!(!glob("sp?m").matches("Spammer"));
        assert!(glob("ünal*").matches("ÜNAL Zoë"));
        assert!(glob("a.c (x)+[y]").matches("A.C (X)+[Y]"));
        assert!(!glob("a.c").matches("abc"), "a dot is a dot");
        assert!(glob("*").matches(""));
        assert!(!glob("?").matches(""));
        assert!(
            glob("line*two").matches("line\ntwo"),
            "names may hold controls"
        );
    }

    #[test]
    fn exact_numbers_keep_wildcards_literal() {
        assert_eq!(number_key(" +1 (555) 010-0001 "), "15550100001");
        assert_eq!(number_key("*"), "*");
        assert_eq!(number_key("1555*"), "1555*");
        assert_eq!(number_key("alice"), "alice");
        let star = Pattern::parse("*", Field::ExactNumber).expect("valid");
        assert!(star.matches(&Caller::new(Presentation::Number, Some("*"), None)));
        assert!(!star.matches(&Caller::new(
            Presentation::Number,
            Some("15550100001"),
            None
        )));
        assert!(!star.matches(&Caller::new(Presentation::Withheld, None, None)));
        let longest = format!("{}*", "9".repeat(MAX_NUMBER_LEN - 1));
        let exact = Pattern::parse(&longest, Field::ExactNumber).expect("valid");
        assert!(exact.matches(&Caller::new(Presentation::Number, Some(&longest), None)));
        let longer = format!("{longest}1");
        assert!(
            !exact.matches(&Caller::new(Presentation::Number, Some(&longer), None)),
            "a longer number is another number"
        );
    }

    #[test]
    fn over_long_patterns_are_refused_with_the_limit() {
        let long = "9".repeat(MAX_NUMBER_LEN + 1);
        for field in [Field::Number, Field::ExactNumber] {
            assert_eq!(
                Pattern::parse(&long, field),
                Err(FilterError::TooLong {
                    field,
                    len: MAX_NUMBER_LEN + 1,
                    max: MAX_NUMBER_LEN
                })
            );
            assert!(Pattern::parse(&long[1..], field).is_ok());
        }
        let long = "é".repeat(MAX_NAME_LEN / 2 + 1);
        assert!(matches!(
            Pattern::parse(&long, Field::Name),
            Err(FilterError::TooLong { len, .. }) if len == MAX_NAME_LEN + 2
        ));
        assert!(Pattern::parse(&"?".repeat(MAX_NAME_LEN), Field::Name).is_ok());
    }

    #[test]
    fn numbers_and_names_are_matched_on_a_bounded_head() {
        let name = "é".repeat(MAX_MATCHED_NAME);
        let number = "1".repeat(10_000);
        let caller = Caller::new(Presentation::Number, Some(&number), Some(&name));
        assert_eq!(caller.name.map(str::len), Some(MAX_MATCHED_NAME));
        assert_eq!(caller.digits.len(), MAX_NUMBER_LEN);
        assert!(Pattern::parse("é*", Field::Name)
            .expect("valid")
            .matches(&caller));
    }

    /// The bug: names were matched on their first 256 bytes, so a caller who padded "CAR
    /// WARRANTY" with 250 dots walked past `*warranty*` and the phone rang.
    #[test]
    fn a_name_padded_past_the_glob_limit_is_still_matched_whole() {
        let padded = format!("{} CAR WARRANTY", ".".repeat(250));
        let caller = Caller::new(Presentation::Number, Some("15550100009"), Some(&padded));
        assert!(Pattern::parse("*warranty*", Field::Name)
            .expect("valid")
            .matches(&caller));
    }

    /// The bug: a 40 K glob against a 400 K name took 7 s (pattern × name steps). The glob is
    /// now refused, and the worst globs within the limit against the longest name a filter
    /// reads take a millisecond or so each; the bound leaves room for a slow debug build on a
    /// loaded machine.
    #[test]
    fn huge_globs_against_huge_names_cost_no_time() {
        let huge = format!("*{}b", "a".repeat(40_000));
        assert!(matches!(
            Pattern::parse(&huge, Field::Name),
            Err(FilterError::TooLong { .. })
        ));
        let name = "a".repeat(MAX_MATCHED_NAME);
        let worst = [
            format!("*{}b", "a".repeat(MAX_NAME_LEN - 2)),
            "*a".repeat(MAX_NAME_LEN / 2 - 1) + "b",
            "?".repeat(MAX_NAME_LEN - 2) + "*b",
        ];
        let started = Instant::now();
        for glob in &worst {
            let pattern = Pattern::parse(glob, Field::Name).expect("within the limit");
            for _ in 0..10 {
                assert!(!pattern.matches(&Caller::new(Presentation::Number, None, Some(&name))));
            }
        }
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
    }
}
