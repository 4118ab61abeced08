//! The client's configuration: `ringside/notify.toml` in the user's configuration directory
//! (`~/.config` on Linux), every key optional, command-line options on top.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::app::Settings;

/// The configuration file's contents.
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is one documented on/off key of the file"
)]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The UDP port announcements arrive on.
    pub port: u16,
    /// Also listen on the IPv6 group `ff02::7651`.
    pub ipv6: bool,
    /// The shared secret set on the bridge (`announce_secret`); empty for none.
    pub secret: String,
    /// Pop up the phone's own outgoing calls too.
    pub outbound: bool,
    /// Print one line per event instead of (or as well as) popups.
    pub print: bool,
    /// Show desktop popups.
    pub popups: bool,
    /// A program and its arguments to run per event, with `RINGSIDE_*` variables set.
    pub exec: Vec<String>,
    /// The web console, for the "Open console" and "Block" buttons (for example
    /// `http://bridge:8080`).
    pub console_url: String,
    /// The console's password, for the "Block" button (keep this file private).
    pub console_password: String,
    /// The icon name (freedesktop icon theme) or path.
    pub icon: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: ringside_core::announce::PORT,
            ipv6: true,
            secret: String::new(),
            outbound: false,
            print: false,
            popups: true,
            exec: Vec::new(),
            console_url: String::new(),
            console_password: String::new(),
            icon: "call-start".into(),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file is not valid.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Where the configuration lives by default.
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("ringside").join("notify.toml"))
}

impl Config {
    /// Reads `path` (or the default file when it exists; else the defaults).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match (path, default_path()) {
            // A file named on the command line must exist.
            (Some(path), _) => path.to_owned(),
            (None, Some(default)) if default.exists() => default,
            (None, _) => return Ok(Config::default()),
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| ConfigError::Read(path.clone(), e))?;
        toml::from_str(&text).map_err(|error| {
            let start = error.span().map_or(0, |span| span.start);
            ConfigError::Invalid {
                line: text[..start].matches('\n').count() + 1,
                path,
                message: error.message().trim().to_owned(),
            }
        })
    }

    /// The app's settings from this configuration.
    #[must_use]
    pub fn settings(&self) -> Settings {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Settings {
            secret: non_empty(&self.secret),
            outbound: self.outbound,
            print: self.print,
            exec: (!self.exec.is_empty()).then(|| self.exec.clone()),
            console_url: non_empty(&self.console_url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_example_is_valid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.toml");
        std::fs::write(&path, include_str!("../packaging/notify.toml")).expect("write");
        let config = Config::load(Some(&path)).expect("valid");
        assert_eq!(
            config.exec.first().map(String::as_str),
            Some("/usr/bin/logger")
        );
        assert_eq!(config.port, Config::default().port);
    }

    #[test]
    fn a_file_sets_the_settings_and_errors_name_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.toml");
        std::fs::write(
            &path,
            "secret = \"kitchen-table-secret\"\nexec = [\"/usr/bin/logger\", \"-t\", \"phone\"]\nprint = true\n",
        )
        .expect("write");
        let config = Config::load(Some(&path)).expect("valid");
        let settings = config.settings();
        assert_eq!(settings.secret.as_deref(), Some("kitchen-table-secret"));
        assert_eq!(settings.exec.map(|e| e.len()), Some(3));
        assert!(settings.print);
        assert_eq!(config.port, 7651);
        std::fs::write(&path, "port = 7651\npopup = false\n").expect("write");
        let error = Config::load(Some(&path))
            .expect_err("unknown key")
            .to_string();
        assert!(
            error.contains("notify.toml:2:") && error.contains("popup"),
            "{error}"
        );
    }
}
