//! The agent's configuration file (TOML, `/etc/ringside/ringside.toml` by default): how it
//! is deployed. What the console may change (filters, recording default, block response,
//! announcement secret) lives in the store instead.
//!
//! Every key is optional; the defaults run a bridge called `br0`. Unknown keys and bad values
//! are errors that name the file, the line and the key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where `ringside run` looks when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/ringside/ringside.toml";

/// The configuration, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the database and recordings live (`--data-dir` wins).
    pub data_dir: Option<PathBuf>,
    /// The NFQUEUE number the iptables rule sends packets to (`--queue` wins).
    pub queue: u16,
    /// Where the web console listens (`--http` wins).
    pub http: SocketAddr,
    /// The bridge interface: its broadcast address and IPv6 group carry announcements.
    pub bridge: String,
    /// The bridge port that faces the phone adapter (for example `eth1`). When set, the port
    /// a packet came in on says which side sent it; otherwise addresses do.
    pub phone_port: Option<String>,
    /// The phone adapter's addresses, if known (they are also learned from its REGISTERs).
    pub phone_addresses: Vec<IpAddr>,
    /// The user to run as once the queue and sockets are open (root keeps root).
    pub user: Option<String>,
    /// LAN announcements.
    pub announce: AnnounceConfig,
}

/// Where LAN announcements go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnounceConfig {
    /// Send announcements at all.
    pub enabled: bool,
    /// Where to: addresses with ports. Empty means the bridge's IPv4 broadcast address and
    /// the IPv6 group `ff02::7651` on the bridge, port 7651.
    pub targets: Vec<SocketAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            queue: 5061,
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            bridge: "br0".into(),
            phone_port: None,
            phone_addresses: Vec::new(),
            user: None,
            announce: AnnounceConfig::default(),
        }
    }
}

impl Default for AnnounceConfig {
    fn default() -> Self {
        AnnounceConfig {
            enabled: true,
            targets: Vec::new(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a bad key or value.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (from 1) the problem is on.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
}

impl Config {
    /// Reads `path`; `None` means the default path if that file exists, else the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match path {
            Some(path) => path,
            None if Path::new(DEFAULT_PATH).exists() => Path::new(DEFAULT_PATH),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Reads configuration text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|error| {
            let start = error.span().map_or(0, |span| span.start);
            let line = text[..start].matches('\n').count() + 1;
            let message = error.message().trim();
            // Value errors do not say which key; the line they point at does.
            let key = text
                .lines()
                .nth(line - 1)
                .and_then(|l| l.split_once('='))
                .map(|(key, _)| key.trim())
                .filter(|key| !key.is_empty() && !message.contains(&format!("`{key}`")));
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                message: match key {
                    Some(key) => format!("`{key}`: {message}"),
                    None => message.to_owned(),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_working_defaults() {
        let config = Config::parse("", Path::new("ringside.toml")).expect("valid");
        assert_eq!(config, Config::default());
        assert_eq!(config.queue, 5061);
        assert_eq!(config.http.to_string(), "127.0.0.1:8080");
        assert!(config.announce.enabled);
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
data_dir = "/var/lib/ringside"
queue = 7
http = "0.0.0.0:8443"
bridge = "br-phone"
phone_port = "eth1"
phone_addresses = ["192.168.1.20", "fd00::20"]
user = "ringside"

[announce]
enabled = false
targets = ["192.168.1.255:7651", "[ff02::7651]:7651"]
"#;
        let config = Config::parse(text, Path::new("x.toml")).expect("valid");
        assert_eq!(config.queue, 7);
        assert_eq!(config.phone_port.as_deref(), Some("eth1"));
        assert_eq!(config.phone_addresses.len(), 2);
        assert_eq!(config.announce.targets.len(), 2);
        assert!(!config.announce.enabled);
    }

    #[test]
    fn the_shipped_example_configuration_is_valid() {
        let text = include_str!("../packaging/ringside.toml");
        let config = Config::parse(text, Path::new("ringside.toml")).expect("valid");
        assert_eq!(config.user.as_deref(), Some("ringside"));
        assert_eq!(config.queue, Config::default().queue);
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let text = "queue = 5061\n\n[announce]\ntargetz = []\n";
        let error = Config::parse(text, Path::new("/etc/ringside/ringside.toml"))
            .expect_err("unknown key")
            .to_string();
        assert!(
            error.starts_with("/etc/ringside/ringside.toml:4: "),
            "{error}"
        );
        assert!(error.contains("targetz"), "{error}");

        let text = "queue = 5061\nhttp = \"localhost\"\n";
        let error = Config::parse(text, Path::new("r.toml"))
            .expect_err("bad address")
            .to_string();
        assert_eq!(error, "r.toml:2: `http`: invalid socket address syntax");

        let error = Config::parse("queue = 70000", Path::new("r.toml"))
            .expect_err("out of range")
            .to_string();
        assert!(error.starts_with("r.toml:1: "), "{error}");
    }
}
