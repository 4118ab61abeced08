//! `ringside settings`: the settings the console may change, from the command line.

use clap::Subcommand;

use crate::output::say;
use crate::store::{Setting, Store};

/// Settings actions.
#[derive(Debug, Subcommand)]
pub enum SettingsAction {
    /// Every setting with its value.
    List,
    /// Change one (takes effect on the next call, the agent need not restart).
    Set {
        /// `record_by_default`, `block_response` or `announce_secret`.
        key: String,
        /// The new value.
        value: String,
    },
}

/// Runs a settings action.
pub fn run(store: &Store, action: SettingsAction) -> anyhow::Result<()> {
    match action {
        SettingsAction::List => {
            for setting in Setting::ALL {
                let value = store.setting(setting)?;
                let shown = match setting {
                    Setting::AnnounceSecret if !value.is_empty() => "(set)".to_owned(),
                    _ => value,
                };
                say!("{:<18} {shown}", setting.key());
            }
        }
        SettingsAction::Set { key, value } => {
            let setting = Setting::parse(&key)?;
            store.set_setting(setting, &value)?;
            say!("{key} set");
        }
    }
    Ok(())
}
