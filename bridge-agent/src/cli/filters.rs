//! `ringside filters`: the ordered caller-ID filters (DESIGN rule 4).

use anyhow::bail;
use clap::Subcommand;
use ringside_core::caller_id::CallerId;
use ringside_core::filters::{Action, Field, Filter};
use ringside_core::text::Escaped;

use crate::output::say;
use crate::store::{Setting, Store};
use crate::timefmt::now_rfc3339;

/// Filter actions.
#[derive(Debug, Subcommand)]
pub enum FilterAction {
    /// Add a filter (at the end, or at --position).
    Add {
        /// A number (`15550100001`), a prefix (`1555*`), `*`, `anonymous` (withheld numbers),
        /// `unknown` (numbers the network did not give), or with
        /// `--field name` a name glob (`*warranty*`). At most 64 bytes (names: 256).
        #[arg(long = "match")]
        pattern: String,
        /// `number`, `number-exact` (this number only, `*` and all taken literally) or `name`.
        #[arg(long, default_value = "number")]
        field: String,
        /// Match exactly this number, wildcards taken literally (`--field number-exact`).
        #[arg(long, conflicts_with = "field")]
        exact: bool,
        /// `allow`, `block`, `record` or `no-record`.
        #[arg(long)]
        action: String,
        /// Where in the list, from 1.
        #[arg(long)]
        position: Option<usize>,
    },
    /// The filters in order.
    List {
        /// As a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove a filter by id.
    Remove {
        /// Its id, as `list` shows it.
        id: i64,
    },
    /// Move a filter to another position.
    Move {
        /// Its id.
        id: i64,
        /// The new position, from 1.
        position: usize,
    },
    /// Show what the filters decide for a caller, and why.
    Test {
        /// The number, or `anonymous` (withheld), or `unknown` (not given).
        number: String,
        /// The name the network would give.
        name: Option<String>,
    },
}

/// Runs a filter action.
pub fn run(store: &mut Store, action: FilterAction) -> anyhow::Result<()> {
    match action {
        FilterAction::Add {
            pattern,
            field,
            exact,
            action,
            position,
        } => {
            let field = if exact {
                Field::ExactNumber
            } else {
                Field::parse(&field)?
            };
            let filter = store.add_filter(
                &pattern,
                field,
                Action::parse(&action)?,
                position,
                &now_rfc3339(),
            )?;
            say!("filter #{}: {}", filter.id, rule(&filter));
        }
        FilterAction::List { json } => list(store, json)?,
        FilterAction::Remove { id } => {
            if !store.remove_filter(id)? {
                bail!("there is no filter #{id}");
            }
            say!("removed filter #{id}");
        }
        FilterAction::Move { id, position } => {
            if position == 0 {
                bail!("positions start at 1");
            }
            if !store.move_filter(id, position)? {
                bail!("there is no filter #{id}");
            }
            list(store, false)?;
        }
        FilterAction::Test { number, name } => test(store, &number, name)?,
    }
    Ok(())
}

fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let filters = store.filters()?;
    if json {
        let rows: Vec<serde_json::Value> = filters
            .iter()
            .enumerate()
            .map(|(i, f)| {
                serde_json::json!({
                    "id": f.id, "position": i + 1, "pattern": f.pattern,
                    "field": f.field.as_str(), "action": f.action.as_str(),
                })
            })
            .collect();
        // Valid JSON with the caller's text intact, and no raw control for the terminal.
        say!(
            "{}",
            ringside_core::text::terminal_safe_json(&serde_json::to_string_pretty(&rows)?)
        );
        return Ok(());
    }
    if filters.is_empty() {
        say!("no filters: every call rings; recording follows the record_by_default setting");
    }
    for (i, f) in filters.iter().enumerate() {
        say!(
            "{:>3}. #{:<4} {:<9} {:<12} {}",
            i + 1,
            f.id,
            f.action.as_str(),
            f.field.as_str(),
            Escaped(&f.pattern)
        );
    }
    Ok(())
}

/// A filter in words (``block number-exact `*` ``), its pattern escaped: it may be a caller's
/// number, control characters and all.
fn rule(filter: &Filter) -> String {
    format!(
        "{} {} `{}`",
        filter.action.as_str(),
        filter.field.as_str(),
        Escaped(&filter.pattern)
    )
}

fn test(store: &Store, number: &str, name: Option<String>) -> anyhow::Result<()> {
    let caller = CallerId::typed(number, name);
    let policy = store.policy()?;
    let decision = policy.filters.decide(&caller, policy.record_by_default);
    if decision.block.applies {
        say!(
            "blocked ({}): {}",
            store.setting(Setting::BlockResponse)?,
            decision.block
        );
    } else {
        say!("rings: {}", decision.block);
    }
    let recorded = if decision.record.applies {
        "recorded"
    } else {
        "not recorded"
    };
    say!("{recorded}: {}", decision.record);
    Ok(())
}
