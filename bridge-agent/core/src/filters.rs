//! Caller-ID filters (DESIGN rule 4): an ordered list of patterns with actions, and the
//! decision they make for one caller.
//!
//! A filter matches the number (exact, `prefix*`, `*`), `anonymous` (withheld numbers),
//! `unknown` (numbers the network did not give), exactly one number with
//! wildcards taken literally (`number-exact`: what blocking "this caller" makes, so that a
//! caller numbered `*` blocks only `*`), or the caller's name (a case-insensitive glob with
//! `*` and `?`). Patterns, names and numbers are bounded ([`pattern`]). The first matching
//! filter with a blocking action (`allow`/`block`) decides blocking; the first matching one
//! with a recording action (`record`/`no-record`) decides recording; what no filter decides
//! falls to the settings. So `allow 1555*` then `block *` is a whitelist.
//!
//! Numbers are compared on their digits only: `+1 (555) 010-0001` and `15550100001` are the
//! same number to a filter.

use std::fmt;

use crate::caller_id::CallerId;
use crate::text::Escaped;

pub mod pattern;

use pattern::{Caller, Pattern};

/// What a filter looks at; its names are `number`, `number-exact` and `name`, as the store and
/// the command line write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Field {
    /// The number (or `anonymous`, `unknown`): digits, a `prefix*` or `*`.
    Number,
    /// Exactly this number, wildcards and all taken as written (see [`pattern::number_key`]).
    #[strum(serialize = "number-exact")]
    ExactNumber,
    /// The name the network signalled.
    Name,
}

impl Field {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The field named `word`.
    pub fn parse(word: &str) -> Result<Field, FilterError> {
        word.parse()
            .map_err(|_| FilterError::UnknownField(word.to_owned()))
    }
}

/// What a filter does when it matches; its names are `allow`, `block`, `record` and
/// `no-record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Action {
    /// Let the phone ring.
    Allow,
    /// Never let the phone ring.
    Block,
    /// Record the call.
    Record,
    /// Do not record the call.
    NoRecord,
}

impl Action {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The action named `word`.
    pub fn parse(word: &str) -> Result<Action, FilterError> {
        word.parse()
            .map_err(|_| FilterError::UnknownAction(word.to_owned()))
    }

    fn decides_blocking(self) -> bool {
        matches!(self, Action::Allow | Action::Block)
    }
}

/// Why a filter cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The pattern is empty.
    #[error("the pattern is empty")]
    Empty,
    /// A number pattern holds something other than digits, separators and one trailing `*`.
    #[error(
        "`{}` is not a number pattern: use digits (`15550100001`), a prefix (`1555*`), `*`, `anonymous` or `unknown` (or an exact number)",
        Escaped(.0)
    )]
    BadNumber(String),
    /// Longer than the field allows.
    #[error(
        "the pattern is {len} bytes long; a {} pattern may have at most {max}",
        field.as_str()
    )]
    TooLong {
        /// The field it is for.
        field: Field,
        /// Its length, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A name glob that compiles to more than the matcher allows.
    #[error("the name pattern is too complex: {0}")]
    TooComplex(String),
    /// Not `number`, `number-exact` or `name`.
    #[error("unknown field `{}` (use `number`, `number-exact` or `name`)", Escaped(.0))]
    UnknownField(String),
    /// Not one of the four actions.
    #[error(
        "unknown action `{}` (use allow, block, record or no-record)",
        Escaped(.0)
    )]
    UnknownAction(String),
}

/// A filter as the user wrote it, with its id in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The store's id (stable across moves).
    pub id: i64,
    /// The pattern as written.
    pub pattern: String,
    /// What it looks at.
    pub field: Field,
    /// What it does.
    pub action: Action,
}

/// The filters, in order, read and ready to decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterList {
    filters: Vec<(Filter, Pattern)>,
}

/// One part of a decision: which filter made it, or none (the setting applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The filter that decided; `None` when the setting did.
    pub filter: Option<Filter>,
    /// Its position in the list, from 1.
    pub position: Option<usize>,
    /// Whether the call is blocked (in [`Decision::block`]) or recorded (in
    /// [`Decision::record`]): the filter's action, or the setting when no filter matched.
    pub applies: bool,
}

/// What the filters decided for one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the call is blocked.
    pub block: Rule,
    /// Whether the call is recorded.
    pub record: Rule,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.filter, self.position) {
            (Some(filter), Some(position)) => write!(
                f,
                "filter #{} at position {position}: {} {} `{}`",
                filter.id,
                filter.action.as_str(),
                filter.field.as_str(),
                Escaped(&filter.pattern)
            ),
            _ => write!(f, "no filter matched; the setting applies"),
        }
    }
}

impl FilterList {
    /// Reads the filters, in the order given. Fails on the first bad pattern.
    pub fn new(filters: Vec<Filter>) -> Result<FilterList, FilterError> {
        let filters = filters
            .into_iter()
            .map(|filter| Pattern::parse(&filter.pattern, filter.field).map(|p| (filter, p)))
            .collect::<Result<_, _>>()?;
        Ok(FilterList { filters })
    }

    /// Checks a pattern for `field` without making a filter.
    pub fn check(pattern: &str, field: Field) -> Result<(), FilterError> {
        Pattern::parse(pattern, field).map(|_| ())
    }

    /// How many filters there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Decides for a caller; `record_by_default` is the setting that applies when no
    /// recording filter matches (calls are not blocked unless a filter says so).
    #[must_use]
    pub fn decide(&self, party: &CallerId, record_by_default: bool) -> Decision {
        let caller = Caller::new(
            party.presentation,
            party.number.as_deref(),
            party.name.as_deref(),
        );
        let first = |blocking: bool| {
            self.filters
                .iter()
                .enumerate()
                .find(|(_, (filter, pattern))| {
                    filter.action.decides_blocking() == blocking && pattern.matches(&caller)
                })
                .map(|(index, (filter, _))| (index + 1, filter))
        };
        let rule = |found: Option<(usize, &Filter)>, default: bool, applying: Action| match found {
            Some((position, filter)) => Rule {
                filter: Some(filter.clone()),
                position: Some(position),
                applies: filter.action == applying,
            },
            None => Rule {
                filter: None,
                position: None,
                applies: default,
            },
        };
        Decision {
            block: rule(first(true), false, Action::Block),
            record: rule(first(false), record_by_default, Action::Record),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller_id::{CallerIdSource, Presentation};

    fn list(filters: &[(&str, Field, Action)]) -> FilterList {
        FilterList::new(
            filters
                .iter()
                .enumerate()
                .map(|(i, (pattern, field, action))| Filter {
                    id: i as i64 + 10,
                    pattern: (*pattern).to_owned(),
                    field: *field,
                    action: *action,
                })
                .collect(),
        )
        .expect("valid filters")
    }

    fn caller(number: Option<&str>, name: Option<&str>) -> CallerId {
        CallerId {
            number: number.map(str::to_owned),
            name: name.map(str::to_owned),
            presentation: if number.is_some() {
                Presentation::Number
            } else {
                Presentation::Withheld
            },
            source: CallerIdSource::From,
            raw: String::new(),
        }
    }

    fn blocked(list: &FilterList, number: Option<&str>, name: Option<&str>) -> bool {
        list.decide(&caller(number, name), true).block.applies
    }

    #[test]
    fn allow_then_block_all_is_a_whitelist() {
        let filters = list(&[
            ("1555*", Field::Number, Action::Allow),
            ("*", Field::Number, Action::Block),
        ]);
        assert!(!blocked(&filters, Some("15550100001"), None));
        assert!(!blocked(&filters, Some("+1 555 010 0001"), None));
        assert!(blocked(&filters, Some("12125550100"), None));
        assert!(
            blocked(&filters, None, Some("Anonymous")),
            "`*` covers anonymous callers"
        );
        let decision = filters.decide(&caller(Some("12125550100"), None), true);
        assert_eq!(decision.block.position, Some(2));
        assert_eq!(decision.block.filter.map(|f| f.id), Some(11));
    }

    #[test]
    fn anonymous_exact_prefix_and_name_patterns() {
        let filters = list(&[
            ("anonymous", Field::Number, Action::Block),
            ("1-800-555-0199", Field::Number, Action::Block),
            ("1900*", Field::Number, Action::Block),
            ("*car warranty*", Field::Name, Action::Block),
            ("sp?m", Field::Name, Action::Block),
        ]);
        assert!(blocked(&filters, None, None));
        assert!(blocked(&filters, Some("18005550199"), None));
        assert!(
            !blocked(&filters, Some("180055501990"), None),
            "exact means exact"
        );
        assert!(blocked(&filters, Some("19005550100"), None));
        assert!(blocked(
            &filters,
            Some("12125550100"),
            Some("Your CAR Warranty dept")
        ));
        assert!(blocked(&filters, Some("12125550100"), Some("SPAM")));
        assert!(!blocked(&filters, Some("12125550100"), Some("Spammer")));
        assert!(!blocked(&filters, Some("12125550100"), None));
    }

    #[test]
    fn anonymous_matches_withheld_callers_only_and_unknown_the_unknown_ones() {
        let anonymous = list(&[("anonymous", Field::Number, Action::Block)]);
        let unknown = list(&[("UNKNOWN", Field::Number, Action::Block)]);
        let withheld = CallerId::typed("anonymous", None);
        let not_given = CallerId::typed("unknown", None);
        assert!(anonymous.decide(&withheld, true).block.applies);
        assert!(!anonymous.decide(&not_given, true).block.applies);
        assert!(unknown.decide(&not_given, true).block.applies);
        assert!(!unknown.decide(&withheld, true).block.applies);
        let numbered = CallerId::typed("15550100001", Some("unknown".into()));
        assert!(!unknown.decide(&numbered, true).block.applies);
        assert!(!anonymous.decide(&numbered, true).block.applies);
    }

    #[test]
    fn recording_and_blocking_are_decided_separately() {
        let filters = list(&[
            ("1555*", Field::Number, Action::NoRecord),
            ("mom", Field::Name, Action::Allow),
            ("*", Field::Number, Action::Record),
        ]);
        let d = filters.decide(&caller(Some("15550100001"), Some("Mom")), true);
        assert!(!d.block.applies);
        assert_eq!(d.block.position, Some(2));
        assert!(!d.record.applies);
        assert_eq!(d.record.position, Some(1));
        let d = filters.decide(&caller(Some("12125550100"), None), false);
        assert!(d.record.applies, "the `*` record filter beats the setting");
        assert_eq!(d.block.filter, None, "no blocking filter matched");
        assert!(!d.block.applies);
        let d = FilterList::default().decide(&caller(Some("1"), None), false);
        assert!(!d.record.applies && !d.block.applies);
        assert_eq!(
            d.record.to_string(),
            "no filter matched; the setting applies"
        );
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in ["", "  ", "12a4", "1*5", "+*", "**"] {
            assert!(
                FilterList::check(bad, Field::Number).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            Action::parse("drop"),
            Err(FilterError::UnknownAction("drop".into()))
        );
        assert_eq!(
            Field::parse("nombre"),
            Err(FilterError::UnknownField("nombre".into()))
        );
        for field in [Field::Number, Field::ExactNumber, Field::Name] {
            assert_eq!(Field::parse(field.as_str()), Ok(field));
        }
        for action in [
            Action::Allow,
            Action::Block,
            Action::Record,
            Action::NoRecord,
        ] {
            assert_eq!(Action::parse(action.as_str()), Ok(action));
        }
        assert_eq!(Action::NoRecord.as_str(), "no-record");
        assert_eq!(
            Field::parse("Name"),
            Err(FilterError::UnknownField("Name".into()))
        );
        assert!(FilterList::check("Anonymous", Field::Number).is_ok());
        assert!(FilterList::check("*", Field::Name).is_ok());
    }

    /// The bug: a caller numbered `*` (`sip:*@host`) blocked with the Block button became
    /// `block *`, which blocks everyone. An exact-number filter blocks only that number.
    #[test]
    fn blocking_a_caller_numbered_star_or_1555_star_blocks_only_that_number() {
        let filters = list(&[
            ("*", Field::ExactNumber, Action::Block),
            ("1555*", Field::ExactNumber, Action::Block),
            ("+1 (555) 010-0009", Field::ExactNumber, Action::Block),
        ]);
        assert!(blocked(&filters, Some("*"), None));
        assert!(blocked(&filters, Some(" 1555* "), None));
        assert!(blocked(&filters, Some("15550100009"), None));
        for other in [
            "15550100001",
            "1555",
            "15551",
            "12125550100",
            "**",
            "1555**",
        ] {
            assert!(!blocked(&filters, Some(other), None), "{other} rings");
        }
        assert!(!blocked(&filters, None, Some("Anonymous")));
        assert_eq!(Field::parse("number-exact"), Ok(Field::ExactNumber));
    }

    #[test]
    fn a_rule_shows_its_pattern_escaped() {
        let filters = list(&[("\x1b[2J\n", Field::ExactNumber, Action::Block)]);
        let decision = filters.decide(&caller(Some("\x1b[2J\n"), None), true);
        assert!(decision.block.applies);
        assert_eq!(
            decision.block.to_string(),
            "filter #10 at position 1: block number-exact `\\x1b[2J\\n`"
        );
    }
}
