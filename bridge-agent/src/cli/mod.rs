//! The `ringside` command line: arguments, and what each command prints.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::calls_table::print_calls;
use crate::config::Config;
use crate::live::RunOptions;
use crate::output::say;
use crate::replay::{replay, ReplayOptions};
use crate::rules::{self, Backend, RuleOptions};
use crate::store::Store;

mod filters;
mod phonebook;
mod settings;

pub use filters::FilterAction;
pub use phonebook::PhonebookAction;
pub use settings::SettingsAction;

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
    /// Run in the phone line: take packets from NFQUEUE, block, record, announce.
    Run {
        /// Where the database and recordings go (else `data_dir` from the config).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The configuration file (default: /etc/ringside/ringside.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The NFQUEUE number (else the config's, else 5061).
        #[arg(long)]
        queue: Option<u16>,
        /// Where the web console listens (else the config's, else 127.0.0.1:8080).
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
    },
    /// Serve the web console over a data directory (a replay's, or the agent's).
    Console {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Where to listen (loopback only while no password is set).
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: std::net::SocketAddr,
    },
    /// Set or remove the web console's password (read from standard input).
    ConsolePassword {
        /// `set` or `remove`.
        #[command(subcommand)]
        action: PasswordAction,
        /// The data directory.
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Install, remove or show the iptables rules that hand the bridge's traffic to Ringside.
    Rules {
        /// What to do.
        #[command(subcommand)]
        action: RulesAction,
        /// The bridge interface.
        #[arg(long, global = true, default_value = "br0")]
        bridge: String,
        /// The NFQUEUE number.
        #[arg(long, global = true, default_value_t = 5061)]
        queue: u16,
        /// TCP ports that carry SIP (UDP is queued on every port).
        #[arg(long, global = true, value_delimiter = ',', default_value = "5060")]
        sip_ports: Vec<u16>,
        /// Which iptables: `auto` (legacy when installed), `legacy` or `nft`.
        #[arg(long, global = true, value_enum, default_value_t = Backend::Auto)]
        backend: Backend,
    },
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
        /// Announce the calls on the LAN as the live agent would, to this address
        /// (repeatable; for example `127.0.0.1:7651` or `192.168.1.255:7651`).
        #[arg(long, value_name = "ADDR:PORT")]
        announce: Vec<std::net::SocketAddr>,
    },
    /// Replay built-in demo calls (generated, with a tone on each side) and show the result.
    Demo {
        /// Where the demo's database and recordings go.
        #[arg(long, default_value = "ringside-demo")]
        data_dir: PathBuf,
        /// Then open the web console on the demo's data (Ctrl-C to stop), at this address.
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080")]
        console: Option<std::net::SocketAddr>,
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
    /// Manage the ordered caller-ID filters (block, allow, record, no-record).
    Filters {
        /// The data directory (created if needed, so filters can be set up before the first
        /// call).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// What to do.
        #[command(subcommand)]
        action: FilterAction,
    },
    /// Show or change the settings the console can change too.
    Settings {
        /// The data directory (created if needed).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// What to do.
        #[command(subcommand)]
        action: SettingsAction,
    },
    /// Check the bridge, the rules, the queue, the data directory and the console, and say
    /// what to fix (exit status 0 only when all is well).
    Doctor(crate::doctor::DoctorArgs),
}

/// Console password actions.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum PasswordAction {
    /// Read a password (8 characters or more) from standard input and require it from now on.
    Set,
    /// Remove the password: the console then answers loopback requests only (a running one
    /// too) and every session ends.
    Remove,
}

/// Rules actions.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum RulesAction {
    /// Put the rules in place and turn on bridge-nf-call-iptables.
    Install,
    /// Take them away and put the setting back.
    Remove,
    /// Print what `install` would run.
    Show,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            data_dir,
            config,
            queue,
            http,
        } => run_agent(data_dir, config.as_deref(), queue, http),
        Command::ConsolePassword { action, data_dir } => {
            console_password(&open_or_create(&required(data_dir)?)?, action)
        }
        Command::Console { data_dir, http } => {
            open_existing(&data_dir)?;
            serve_console(data_dir, http)
        }
        Command::Rules {
            action,
            bridge,
            queue,
            sip_ports,
            backend,
        } => rules_command(
            action,
            &RuleOptions {
                bridge,
                queue,
                sip_ports,
                backend,
            },
        ),
        Command::Replay {
            capture,
            data_dir,
            quiet,
            announce,
        } => replay_command(&capture, &data_dir, quiet, announce),
        Command::Demo { data_dir, console } => demo_command(data_dir, console),
        Command::Calls {
            data_dir,
            json,
            limit,
        } => calls_command(&data_dir, json, limit),
        Command::Phonebook { data_dir, action } => phonebook_command(data_dir, action),
        Command::Filters { data_dir, action } => {
            filters::run(&mut open_or_create(&required(data_dir)?)?, action)
        }
        Command::Settings { data_dir, action } => {
            settings::run(&open_or_create(&required(data_dir)?)?, action)
        }
        Command::Doctor(args) => crate::doctor::command(args),
    }
}

/// The `--data-dir` a command cannot do without (global options cannot be required by clap).
fn required(data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    data_dir.context("--data-dir is required")
}

fn replay_command(
    capture: &std::path::Path,
    data_dir: &std::path::Path,
    quiet: bool,
    announce: Vec<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let options = ReplayOptions {
        progress: !quiet && std::io::stderr().is_terminal(),
        announce,
        ..ReplayOptions::default()
    };
    let summary = replay(capture, data_dir, &options)?;
    if !quiet {
        crate::output::write(format_args!("{summary}"));
    }
    Ok(())
}

fn demo_command(data_dir: PathBuf, console: Option<std::net::SocketAddr>) -> anyhow::Result<()> {
    crate::demo::run(&data_dir)?;
    match console {
        Some(http) => serve_console(data_dir, http),
        None => Ok(()),
    }
}

fn phonebook_command(data_dir: Option<PathBuf>, action: PhonebookAction) -> anyhow::Result<()> {
    let data_dir = required(data_dir)?;
    // Naming a number may come before the first call; reading needs a database.
    let store = match action {
        PhonebookAction::Set { .. } => open_or_create(&data_dir)?,
        _ => open_existing(&data_dir)?,
    };
    phonebook::run(&store, action)
}

fn calls_command(data_dir: &std::path::Path, json: bool, limit: i64) -> anyhow::Result<()> {
    let calls = open_existing(data_dir)?.calls(limit, 0)?;
    if json {
        // Valid JSON with the caller's text intact, and no raw control for the terminal.
        say!(
            "{}",
            ringside_core::text::terminal_safe_json(&serde_json::to_string_pretty(&calls)?)
        );
    } else {
        print_calls(&calls);
    }
    Ok(())
}

fn console_password(store: &Store, action: PasswordAction) -> anyhow::Result<()> {
    match action {
        PasswordAction::Set => {
            if std::io::stdin().is_terminal() {
                eprint!("New console password: ");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 8 {
                bail!("the password needs 8 characters or more");
            }
            let hash = web_console::auth::hash_password(password)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            store.set_console_password_hash(Some(&hash))?;
            say!(
                "console password set: every page, API call and recording now needs a login \
                 (sessions opened before have ended)"
            );
        }
        PasswordAction::Remove => {
            store.set_console_password_hash(None)?;
            say!(
                "console password removed: the console answers only on this machine \
                 (127.0.0.1, localhost), a running one too; every session has ended"
            );
        }
    }
    Ok(())
}

fn serve_console(data_dir: PathBuf, http: std::net::SocketAddr) -> anyhow::Result<()> {
    let password_set = open_existing(&data_dir)?.console_password_hash()?.is_some();
    let listener = web_console::bind(http, password_set)?;
    // The bound address: with port 0 (the tests), the one the kernel picked.
    let http = listener.local_addr().unwrap_or(http);
    say!(
        "console on http://{http}/ ({}; Ctrl-C to stop)",
        web_console::access_note(password_set)
    );
    web_console::serve(listener, web_console::ConsoleState::new(data_dir))?;
    Ok(())
}

fn run_agent(
    data_dir: Option<PathBuf>,
    config: Option<&std::path::Path>,
    queue: Option<u16>,
    http: Option<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let mut config = Config::load(config)?;
    if let Some(queue) = queue {
        config.queue = queue;
    }
    if let Some(http) = http {
        config.http = http;
    }
    let Some(data_dir) = data_dir.or_else(|| config.data_dir.clone()) else {
        bail!("--data-dir is required (or `data_dir` in the configuration)");
    };
    // Before the agent drops root: iptables needs it.
    crate::fragments::warn_if_reassembly_off(&config.bridge);
    crate::live::run(&RunOptions { data_dir, config })
}

fn rules_command(action: RulesAction, options: &RuleOptions) -> anyhow::Result<()> {
    match action {
        RulesAction::Install => {
            rules::install(options)?;
            say!(
                "rules installed: bridged traffic of {} goes to queue {}",
                options.bridge,
                options.queue
            );
        }
        RulesAction::Remove => {
            rules::remove(options)?;
            say!("rules removed");
        }
        RulesAction::Show => rules::show(options),
    }
    Ok(())
}

fn open_or_create(data_dir: &std::path::Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    Ok(Store::open_checked(data_dir)?)
}

fn open_existing(data_dir: &std::path::Path) -> anyhow::Result<Store> {
    if !data_dir.join(crate::store::DB_FILE).exists() {
        bail!(
            "{} holds no Ringside database (run `ringside replay` or `ringside run` with it first)",
            data_dir.display()
        );
    }
    Ok(Store::open_checked(data_dir)?)
}
