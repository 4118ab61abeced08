//! `ringside-notify`: caller-ID popups on the desktops of the LAN, from the announcements
//! the Ringside agent broadcasts (`ringside_core::announce`).
//!
//! # Layout
//!
//! - [`app`]: the sans-IO state (`App::update(input) -> Vec<Effect>`): dedup, replacement,
//!   missed calls, HMAC checks, what to print and run.
//! - [`format`]: numbers for reading.
//! - [`lines`]: `--print` lines and `--exec` variables, caller text escaped.
//! - [`config`]: the TOML file in the user's configuration directory.
//! - [`listen`]: the IPv4 and IPv6 sockets.
//! - [`console`]: the web console's API, for the "Block" button.
//! - [`desktop`]: notifications, printed lines, programs run per event.

pub mod app;
pub mod config;
pub mod console;
pub mod desktop;
pub mod format;
pub mod lines;
pub mod listen;
