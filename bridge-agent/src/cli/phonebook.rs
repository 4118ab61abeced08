//! `ringside phonebook`: list, name and remove numbers.

use anyhow::bail;
use clap::Subcommand;

use ringside_core::text::Escaped;

use crate::output::say;
use crate::store::Store;
use crate::timefmt::now_utc;

/// Phonebook actions.
#[derive(Debug, Subcommand)]
pub enum PhonebookAction {
    /// List every number with its names.
    List {
        /// As a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Give a number your own name (it wins over the network's from now on).
    Set {
        /// The number, as the call log shows it.
        number: String,
        /// The name.
        name: String,
    },
    /// Remove a number.
    Remove {
        /// The number.
        number: String,
    },
}

/// Runs a phonebook action.
pub fn run(store: &Store, action: PhonebookAction) -> anyhow::Result<()> {
    match action {
        PhonebookAction::List { json } => {
            let entries = store.phonebook()?;
            if json {
                // Valid JSON with the caller's text intact, and no raw control for the terminal.
                say!(
                    "{}",
                    ringside_core::text::terminal_safe_json(&serde_json::to_string_pretty(
                        &entries
                    )?)
                );
                return Ok(());
            }
            say!(
                "{:<18} {:<24} {:<24} {:>5}  last seen",
                "number",
                "your name",
                "network name",
                "calls"
            );
            for e in entries {
                // Names and numbers are caller text: escaped, never obeyed by the terminal.
                say!(
                    "{:<18} {:<24} {:<24} {:>5}  {}",
                    Escaped(&e.number),
                    Escaped(e.user_name.as_deref().unwrap_or_default()),
                    Escaped(e.network_name.as_deref().unwrap_or_default()),
                    e.calls,
                    ringside_core::rfc3339::format(e.last_seen)
                );
            }
        }
        PhonebookAction::Set { number, name } => {
            let name = name.trim();
            if number.trim().is_empty() || name.is_empty() {
                bail!("both a number and a name are needed");
            }
            store.set_phonebook_name(number.trim(), name, now_utc())?;
            say!("{} is now \"{}\"", Escaped(number.trim()), Escaped(name));
        }
        PhonebookAction::Remove { number } => {
            if !store.remove_phonebook_entry(&number)? {
                bail!("{} is not in the phonebook", Escaped(&number));
            }
            say!("removed {}", Escaped(&number));
        }
    }
    Ok(())
}
