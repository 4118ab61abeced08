//! Settings the console (and `ringside settings`) may change while the agent runs. Each has
//! a default that works; a value is checked before it is stored.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

/// A setting kept in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `true` or `false`: record calls no recording filter decides (default `true`).
    RecordByDefault,
    /// `busy` (486, the default), `decline` (603) or `drop` (no answer): how a blocked caller
    /// is turned away.
    BlockResponse,
    /// The shared secret that signs LAN announcements with HMAC-SHA256; empty for none.
    AnnounceSecret,
    /// Recordings older than this many days are deleted (0: kept forever).
    RetentionDays,
    /// The recordings together stay under this many megabytes, oldest deleted first (0: no
    /// cap).
    RetentionMegabytes,
    /// `true` or `false`: the remote party of a recorded call hears a short beep every 15 s
    /// (default `false`).
    CourtesyBeeps,
    /// Below this much free space (megabytes) new calls are not recorded (calls still pass
    /// and are logged).
    MinFreeMegabytes,
}

/// Why a setting cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// No such setting.
    #[error(
        "unknown setting `{0}` (known: record_by_default, block_response, announce_secret, \
         retention_days, retention_megabytes, min_free_megabytes, courtesy_beeps)"
    )]
    Unknown(String),
    /// The value does not fit the setting.
    #[error("`{value}` is not a valid {key}: {expected}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// The value given.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
}

impl Setting {
    /// Every setting, in the order `ringside settings list` shows them.
    pub const ALL: [Setting; 7] = [
        Setting::RecordByDefault,
        Setting::BlockResponse,
        Setting::AnnounceSecret,
        Setting::RetentionDays,
        Setting::RetentionMegabytes,
        Setting::MinFreeMegabytes,
        Setting::CourtesyBeeps,
    ];

    /// The key as stored and typed.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Setting::RecordByDefault => "record_by_default",
            Setting::BlockResponse => "block_response",
            Setting::AnnounceSecret => "announce_secret",
            Setting::RetentionDays => "retention_days",
            Setting::RetentionMegabytes => "retention_megabytes",
            Setting::MinFreeMegabytes => "min_free_megabytes",
            Setting::CourtesyBeeps => "courtesy_beeps",
        }
    }

    /// The setting named `key`.
    pub fn parse(key: &str) -> Result<Setting, SettingError> {
        Setting::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .ok_or_else(|| SettingError::Unknown(key.to_owned()))
    }

    /// The value when none was set.
    #[must_use]
    pub fn default_value(self) -> &'static str {
        match self {
            Setting::RecordByDefault => "true",
            Setting::CourtesyBeeps => "false",
            Setting::BlockResponse => "busy",
            Setting::AnnounceSecret => "",
            Setting::RetentionDays | Setting::RetentionMegabytes => "0",
            Setting::MinFreeMegabytes => "500",
        }
    }

    /// Checks `value` and returns it in its stored form.
    pub fn check(self, value: &str) -> Result<String, SettingError> {
        let value = value.trim();
        let invalid = |expected| SettingError::Invalid {
            key: self.key(),
            value: value.to_owned(),
            expected,
        };
        match self {
            Setting::RecordByDefault | Setting::CourtesyBeeps => match value {
                "true" | "yes" | "on" => Ok("true".into()),
                "false" | "no" | "off" => Ok("false".into()),
                _ => Err(invalid("true or false")),
            },
            Setting::BlockResponse => ringside_core::policy::BlockResponse::parse(value)
                .map(|b| b.as_str().to_owned())
                .ok_or_else(|| invalid("busy, decline or drop")),
            Setting::AnnounceSecret if value.is_empty() || value.len() >= 16 => {
                Ok(value.to_owned())
            }
            Setting::AnnounceSecret => Err(invalid("empty, or at least 16 characters")),
            Setting::RetentionDays | Setting::RetentionMegabytes | Setting::MinFreeMegabytes => {
                value
                    .parse::<u64>()
                    .map(|n| n.to_string())
                    .map_err(|_| invalid("a whole number, 0 or more"))
            }
        }
    }

    /// The setting's value as a number (the numeric settings; 0 for the others).
    #[must_use]
    pub fn number(value: &str) -> u64 {
        value.parse().unwrap_or(0)
    }
}

/// The key of the console password's hash (not a [`Setting`]: it is never shown or set
/// through the settings API).
const CONSOLE_PASSWORD: &str = "console_password_hash";

impl Store {
    /// The console password's hash (a PHC string), if a password is set.
    pub fn console_password_hash(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![CONSOLE_PASSWORD],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Stores the console password's hash, or removes the password (`None`).
    pub fn set_console_password_hash(&self, hash: Option<&str>) -> Result<(), StoreError> {
        match hash {
            Some(hash) => self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![CONSOLE_PASSWORD, hash],
            )?,
            None => self.conn.execute(
                "DELETE FROM settings WHERE key = ?1",
                params![CONSOLE_PASSWORD],
            )?,
        };
        Ok(())
    }

    /// A setting's value (its default when never set).
    pub fn setting(&self, setting: Setting) -> Result<String, StoreError> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![setting.key()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(value.unwrap_or_else(|| setting.default_value().to_owned()))
    }

    /// Checks and stores a setting.
    pub fn set_setting(&self, setting: Setting, value: &str) -> Result<(), StoreError> {
        let value = setting.check(value)?;
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![setting.key(), value],
        )?;
        Ok(())
    }
}
