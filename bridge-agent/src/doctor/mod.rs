//! `ringside doctor`: checks that Ringside really stands in the phone line, and says in plain
//! words what to fix.
//!
//! One line per check, `ok`, `warning` or `problem`, with what was found and what to do:
//! the bridge (up, with ports and an address), `br_netfilter` and its `bridge-nf-call-*`
//! settings, the rules (queue rules with `--queue-bypass`, the jump from `FORWARD`, and the
//! `raw` rules that make the kernel reassemble fragments), whether an agent is bound to the
//! queue and what the kernel dropped on its way there ([`network`]); the data directory
//! (owner-only, free space against `min_free_megabytes`, the database) and who can reach the
//! console ([`files`]). It changes nothing (the database is opened as every `ringside`
//! command opens it). The kernel's files under `/proc` and `/sys` are parsed by small
//! functions tested on fixed text. Run it in the bridge's network namespace, as root
//! (iptables needs it).

use std::fmt;
use std::path::PathBuf;

use anyhow::bail;
use ringside_core::text::Escaped;

use crate::config::Config;
use crate::output::say;
use crate::rules::{self, Backend};

mod files;
mod network;

/// The arguments of `ringside doctor`.
#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// The configuration `ringside run` uses (default: /etc/ringside/ringside.toml when
    /// present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The data directory (else `data_dir` from the config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The bridge interface (else the config's).
    #[arg(long)]
    bridge: Option<String>,
    /// The NFQUEUE number (else the config's).
    #[arg(long)]
    queue: Option<u16>,
    /// Which iptables: `auto` (legacy when installed), `legacy` or `nft`.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    backend: Backend,
}

/// Runs `ringside doctor`: an error (exit status 1) unless every check is ok.
pub fn command(args: DoctorArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let options = DoctorOptions {
        bridge: args.bridge.unwrap_or_else(|| config.bridge.clone()),
        queue: args.queue.unwrap_or(config.queue),
        backend: args.backend,
        data_dir: args.data_dir.or_else(|| config.data_dir.clone()),
        config,
    };
    match run(&options) {
        Level::Ok => Ok(()),
        Level::Warning => bail!("warnings above; Ringside works, but see what they say"),
        Level::Problem => bail!("problems above: Ringside does not fully stand in the phone line"),
    }
}

/// What `ringside doctor` was asked to look at.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The bridge interface.
    pub bridge: String,
    /// The NFQUEUE number.
    pub queue: u16,
    /// Which iptables to ask.
    pub backend: Backend,
    /// The data directory, when known.
    pub data_dir: Option<PathBuf>,
    /// The configuration `ringside run` would use.
    pub config: Config,
}

/// How a check came out, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// All is well.
    Ok,
    /// Works, but something is weaker than it should be.
    Warning,
    /// Ringside does not do its job until this is fixed.
    Problem,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How it came out.
    pub level: Level,
    /// What was checked (`bridge br0`).
    pub what: String,
    /// What was found, and what to do about it.
    pub detail: String,
}

impl Finding {
    pub(crate) fn new(level: Level, what: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding {
            level,
            what: what.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Problem => "problem",
        };
        // File names, interface names and error texts are not ours: escaped, one line.
        write!(
            f,
            "{level:<8} {}: {}",
            Escaped(&self.what),
            Escaped(&self.detail)
        )
    }
}

/// Runs every check and prints a line for each; the worst level found.
#[must_use]
pub fn run(options: &DoctorOptions) -> Level {
    let mut findings = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        findings.push(Finding::new(
            Level::Warning,
            "user",
            "not root: iptables cannot be asked, so the rules below read as missing; run \
             `sudo ringside doctor`",
        ));
    }
    findings.push(network::bridge(&options.bridge));
    let listings = rules::listings(options.backend);
    findings.extend(network::bridge_netfilter(&listings));
    findings.extend(network::installed_rules(&listings, options));
    findings.push(network::queue_binding(options.queue));
    findings.extend(files::data_directory(options));
    let mut worst = Level::Ok;
    for finding in &findings {
        say!("{finding}");
        worst = worst.max(finding.level);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bug: a file named with an escape sequence and a newline under the data directory
    /// was printed raw, and forged an "ok" line of its own.
    #[test]
    fn a_finding_is_one_line_whatever_the_names_in_it() {
        let finding = Finding::new(
            Level::Problem,
            "data directory /var/lib/ringside",
            "readable by others (the first: evil\u{1b}[31m\nok       fake.wav)",
        );
        let line = finding.to_string();
        assert!(!line.contains('\n') && !line.contains('\u{1b}'), "{line}");
        assert!(line.contains("evil\\x1b[31m\\nok"), "{line}");
    }
}
