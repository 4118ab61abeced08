//! The `ringside` command line: arguments, and what each command prints.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::replay::{replay, ReplayOptions};
use crate::store::{CallRecord, Store};
use crate::timefmt::now_rfc3339;

/// Ringside: caller-ID, call blocking and call recording on the bridge in front of your
/// phone adapter.
#[derive(Debug, Parser)]
#[command(name = "ringside", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine over a capture file (pcap, pcapng, gzip) or a SIP text trace.
    Replay {
        /// The capture.
        capture: PathBuf,
        /// Where the database and recordings go.
        #[arg(long)]
        data_dir: PathBuf,
        /// Hide the progress bar and summary.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Replay built-in demo calls (generated, with a tone on each side) and show the result.
    Demo {
        /// Where the demo's database and recordings go.
        #[arg(long, default_value = "ringside-demo")]
        data_dir: PathBuf,
    },
    /// Print the call log, newest first.
    Calls {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// As a JSON array.
        #[arg(long)]
        json: bool,
        /// At most this many calls.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
    /// Show or edit the phonebook.
    Phonebook {
        /// The data directory.
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// What to do.
        #[command(subcommand)]
        action: PhonebookAction,
    },
}

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

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Replay {
            capture,
            data_dir,
            quiet,
        } => {
            let options = ReplayOptions {
                progress: !quiet && std::io::stderr().is_terminal(),
                ..ReplayOptions::default()
            };
            let summary = replay(&capture, &data_dir, &options)?;
            if !quiet {
                print!("{summary}");
            }
            Ok(())
        }
        Command::Demo { data_dir } => crate::demo::run(&data_dir),
        Command::Calls {
            data_dir,
            json,
            limit,
        } => {
            let calls = open_existing(&data_dir)?.calls(limit, 0)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&calls)?);
            } else {
                print_calls(&calls);
            }
            Ok(())
        }
        Command::Phonebook { data_dir, action } => {
            let Some(data_dir) = data_dir else {
                bail!("--data-dir is required");
            };
            phonebook(&open_existing(&data_dir)?, action)
        }
    }
}

fn open_existing(data_dir: &std::path::Path) -> anyhow::Result<Store> {
    if !data_dir.join(crate::store::DB_FILE).exists() {
        bail!(
            "{} holds no Ringside database (run `ringside replay` or `ringside run` with it first)",
            data_dir.display()
        );
    }
    Store::open(data_dir)
        .with_context(|| format!("cannot open the database in {}", data_dir.display()))
}

fn phonebook(store: &Store, action: PhonebookAction) -> anyhow::Result<()> {
    match action {
        PhonebookAction::List { json } => {
            let entries = store.phonebook()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(());
            }
            println!(
                "{:<18} {:<24} {:<24} {:>5}  last seen",
                "number", "your name", "network name", "calls"
            );
            for e in entries {
                println!(
                    "{:<18} {:<24} {:<24} {:>5}  {}",
                    e.number,
                    e.user_name.unwrap_or_default(),
                    e.network_name.unwrap_or_default(),
                    e.calls,
                    e.last_seen
                );
            }
        }
        PhonebookAction::Set { number, name } => {
            let name = name.trim();
            if number.trim().is_empty() || name.is_empty() {
                bail!("both a number and a name are needed");
            }
            store.set_phonebook_name(number.trim(), name, &now_rfc3339())?;
            println!("{} is now \"{name}\"", number.trim());
        }
        PhonebookAction::Remove { number } => {
            if !store.remove_phonebook_entry(&number)? {
                bail!("{number} is not in the phonebook");
            }
            println!("removed {number}");
        }
    }
    Ok(())
}

/// Prints the call log as a table.
pub fn print_calls(calls: &[CallRecord]) {
    println!(
        "{:<4} {:<20} {:<9} {:<16} {:<20} {:<9} recording",
        "id", "started (UTC)", "direction", "number", "caller", "outcome"
    );
    for c in calls {
        let who = c.display.clone().unwrap_or_default();
        let number = if c.anonymous {
            "anonymous".to_owned()
        } else {
            c.number.clone().unwrap_or_default()
        };
        println!(
            "{:<4} {:<20} {:<9} {:<16} {:<20} {:<9} {}",
            c.id,
            c.started_at
                .get(..19)
                .unwrap_or(&c.started_at)
                .replace('T', " "),
            c.direction,
            number,
            who,
            c.disposition.as_deref().unwrap_or("ongoing"),
            c.recording
                .as_deref()
                .or(c.raw_rtp.as_deref())
                .unwrap_or("-")
        );
    }
}
