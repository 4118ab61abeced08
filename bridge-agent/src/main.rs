//! `ringside`: parses the command line, sets up logging, runs the command, and maps errors to
//! an exit code.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    // Everything Ringside creates is private (the database holds the password hash and the
    // announcement secret, recordings are conversations): owner-only whatever the umask.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("RINGSIDE_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    bridge_agent::recovery::install_panic_hook();
    match bridge_agent::cli::run(bridge_agent::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ringside: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
