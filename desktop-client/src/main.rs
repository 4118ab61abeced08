//! `ringside-notify`: reads the configuration and the command line, listens, and shows what
//! the app decides.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::Context;
use clap::Parser;
use desktop_client::app::App;
use desktop_client::config::Config;
use desktop_client::desktop::Desktop;
use tracing_subscriber::EnvFilter;

/// Caller-ID popups for calls through your Ringside bridge.
#[derive(Debug, Parser)]
#[command(name = "ringside-notify", version, about)]
struct Cli {
    /// Print one line per event (name, number, event) instead of showing popups.
    #[arg(long)]
    print: bool,
    /// Run this program per event with RINGSIDE_* variables set (split on spaces; never run
    /// through a shell).
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// The configuration file (default: ~/.config/ringside/notify.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The UDP port to listen on.
    #[arg(long)]
    port: Option<u16>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("RINGSIDE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ringside-notify: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    if cli.print {
        config.print = true;
        config.popups = false;
    }
    if let Some(command) = cli.exec {
        config.exec = command.split_whitespace().map(str::to_owned).collect();
    }
    if let Some(port) = cli.port {
        config.port = port;
    }
    let listener = desktop_client::listen::listen(config.port, config.ipv6)
        .with_context(|| format!("cannot listen on UDP port {}", config.port))?;
    tracing::info!(
        "listening for Ringside announcements on UDP port {}",
        listener.port
    );
    let mut app = App::new(config.settings());
    let password = (!config.console_password.is_empty()).then(|| config.console_password.clone());
    let mut desktop = Desktop::new(config.popups, &config.icon, password);
    while let Ok(input) = listener.inputs.recv() {
        for effect in app.update(input) {
            desktop.apply(effect);
        }
        let dropped = listener.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                "dropped {dropped} announcements while the output was blocked (at most {} wait)",
                desktop_client::listen::QUEUE
            );
        }
    }
    Ok(())
}
