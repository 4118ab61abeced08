//! Carries out the app's effects: desktop notifications (`notify-rust`), printed lines, and
//! programs run directly, never through a shell, at most [`MAX_RUNNING`] at a time (a slow
//! program is never waited for, and events beyond that are not passed to it, said in the log).

use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use notify_rust::{Notification, Timeout};

#[cfg(all(unix, not(target_os = "macos")))]
use crate::app::PopupAction;
use crate::app::{Effect, Popup};

/// How many `--exec` programs may run at once.
pub const MAX_RUNNING: usize = 8;

/// The "Block" button: adds the filter, then says how it went in a popup of its own.
#[cfg(all(unix, not(target_os = "macos")))]
fn block_and_confirm(console_url: &str, password: Option<&str>, number: &str) {
    let shown = ringside_core::text::escape(&crate::format::readable_number(number));
    let summary = match crate::console::block(console_url, password, number) {
        Ok(()) => format!("Blocked {shown}"),
        Err(error) => {
            tracing::warn!("{error}");
            format!("Could not block {shown}")
        }
    };
    let _ = Notification::new()
        .appname("Ringside")
        .summary(&summary)
        .show();
}

/// The desktop side of the client.
pub struct Desktop {
    /// Show popups (off in `--print` mode on a headless box).
    popups: bool,
    icon: String,
    /// The console's password, for the "Block" button.
    #[cfg_attr(
        not(all(unix, not(target_os = "macos"))),
        allow(dead_code, reason = "only freedesktop notifications have buttons here")
    )]
    console_password: Option<String>,
    /// The notification id of each call's popup, so a new state replaces it (where the
    /// desktop has notification ids: freedesktop desktops).
    #[cfg_attr(
        not(all(unix, not(target_os = "macos"))),
        allow(
            dead_code,
            reason = "only freedesktop notifications have ids to replace"
        )
    )]
    ids: HashMap<String, u32>,
    /// `--exec` programs still running.
    running: Arc<AtomicUsize>,
}

impl Desktop {
    /// A desktop showing popups with `icon` (when `popups`); `console_password` logs the
    /// "Block" button in to the console.
    #[must_use]
    pub fn new(popups: bool, icon: &str, console_password: Option<String>) -> Desktop {
        Desktop {
            popups,
            icon: icon.to_owned(),
            console_password,
            ids: HashMap::new(),
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Carries out one effect; failures are logged, never fatal.
    pub fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Show(popup) if self.popups => self.show(&popup),
            Effect::Show(_) => {}
            Effect::Print(line) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Effect::Exec { program, args, env } => self.run(&program, &args, env),
            Effect::Warn(message) => tracing::warn!("{message}"),
        }
    }

    fn run(&self, program: &str, args: &[String], env: Vec<(String, String)>) {
        if self.running.load(Ordering::Relaxed) >= MAX_RUNNING {
            tracing::warn!(
                "{MAX_RUNNING} runs of {program} are still going: this event is not passed to it"
            );
            return;
        }
        match Command::new(program).args(args).envs(env).spawn() {
            // Reaped on a thread of its own: a slow script never holds up popups.
            Ok(mut child) => {
                self.running.fetch_add(1, Ordering::Relaxed);
                let running = self.running.clone();
                std::thread::spawn(move || {
                    let _ = child.wait();
                    running.fetch_sub(1, Ordering::Relaxed);
                });
            }
            Err(error) => tracing::warn!("cannot run {program}: {error}"),
        }
    }

    fn show(&mut self, popup: &Popup) {
        let mut notification = Notification::new();
        notification
            .appname("Ringside")
            .summary(&popup.summary)
            .body(&popup.body)
            .icon(&self.icon)
            .timeout(if popup.urgent {
                Timeout::Milliseconds(30_000)
            } else {
                Timeout::Milliseconds(8_000)
            });
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            notification
                .urgency(if popup.urgent {
                    notify_rust::Urgency::Critical
                } else {
                    notify_rust::Urgency::Normal
                })
                .hint(notify_rust::Hint::Category("im.received".into()));
            if let Some(&id) = self.ids.get(&popup.call) {
                notification.id(id);
            }
            for action in &popup.actions {
                match action {
                    PopupAction::OpenConsole(_) => notification.action("open", "Open console"),
                    PopupAction::Block { .. } => notification.action("block", "Block"),
                };
            }
        }
        match notification.show() {
            Ok(handle) => self.shown(popup, handle),
            Err(error) => tracing::warn!("cannot show a notification: {error}"),
        }
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    fn shown(&mut self, popup: &Popup, handle: notify_rust::NotificationHandle) {
        self.ids.insert(popup.call.clone(), handle.id());
        if popup.actions.is_empty() {
            return;
        }
        let actions = popup.actions.clone();
        let password = self.console_password.clone();
        // Waits for a click on its own thread; the popup stays replaceable by id.
        std::thread::spawn(move || {
            handle.wait_for_action(|clicked| {
                for action in &actions {
                    match action {
                        PopupAction::OpenConsole(url) if clicked == "open" => {
                            if let Err(error) = open::that(url) {
                                tracing::warn!("cannot open {url}: {error}");
                            }
                        }
                        PopupAction::Block {
                            console_url,
                            number,
                        } if clicked == "block" => {
                            block_and_confirm(console_url, password.as_deref(), number);
                        }
                        _ => {}
                    }
                }
            });
        });
    }

    #[cfg(not(all(unix, not(target_os = "macos"))))]
    fn shown(&mut self, _popup: &Popup, _handle: notify_rust::NotificationHandle) {}
}
