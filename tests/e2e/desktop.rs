//! The desktop client on a real desktop: Xvfb, a session D-Bus, the dunst notification
//! daemon, `ringside-notify`, and announcements sent by the agent's own code (`ringside
//! replay --announce`). The popups are read back from dunst over D-Bus (`dunstctl`) and a
//! screenshot is saved to `target/test-artifacts/desktop-popups.png`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ringside_e2e::lab::built_binary;
use ringside_e2e::process::stdout_of;
use ringside_synth::{packets, write_pcap};

use crate::support::wait_until;

/// Processes killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A display number nobody uses.
fn free_display() -> u32 {
    (90..190)
        .map(|n| n + std::process::id() % 50)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free display")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// Xvfb, a session bus and dunst, stopped when dropped.
struct Desktop {
    processes: Processes,
    display: String,
    env: Vec<(&'static str, String)>,
    bus_pid: Option<i32>,
}

impl Desktop {
    fn start(home: &Path) -> Desktop {
        let mut processes = Processes(Vec::new());
        let display = format!(":{}", free_display());
        processes.0.push(
            Command::new("Xvfb")
                .args([&display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (package xvfb)"),
        );
        let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
        wait_until("Xvfb", || Path::new(&socket).exists());
        let bus = stdout_of(Command::new("dbus-daemon").args([
            "--session",
            "--fork",
            "--print-address=1",
            "--print-pid=1",
        ]));
        let mut lines = bus.lines();
        let address = lines.next().expect("bus address").to_owned();
        let bus_pid = lines.next().and_then(|p| p.trim().parse().ok());
        let home = home.display().to_string();
        let env = vec![
            ("DISPLAY", display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS", address),
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home),
        ];
        let mut desktop = Desktop {
            processes,
            display,
            env,
            bus_pid,
        };
        let dunst = Command::new("dunst")
            .envs(desktop.env.clone())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst");
        desktop.processes.0.push(dunst);
        wait_until("dunst on the bus", || {
            desktop.dunstctl(&["count"]).is_some()
        });
        desktop
    }

    /// `dunstctl` on this desktop's bus; its output when it succeeds.
    fn dunstctl(&self, args: &[&str]) -> Option<Vec<u8>> {
        let out = Command::new("dunstctl")
            .args(args)
            .envs(self.env.clone())
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    }

    fn displayed(&self) -> u32 {
        self.dunstctl(&["count", "displayed"])
            .and_then(|o| String::from_utf8_lossy(&o).trim().parse().ok())
            .unwrap_or(0)
    }

    /// Closes every popup and reads them back from dunst's history: (summary, body), sorted.
    fn popups(&self) -> Vec<(String, String)> {
        assert!(self.dunstctl(&["close-all"]).is_some());
        let history = self.dunstctl(&["history"]).expect("history");
        let history: serde_json::Value = serde_json::from_slice(&history).expect("JSON");
        let mut popups: Vec<(String, String)> = history["data"][0]
            .as_array()
            .expect("notifications")
            .iter()
            .map(|n| {
                let field = |k: &str| n[k]["data"].as_str().unwrap_or_default().to_owned();
                (field("summary"), field("body"))
            })
            .collect();
        popups.sort();
        popups
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if let Some(pid) = self.bus_pid {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// Replays the demo's calls with the agent's announcer pointed at `port`, "Mom" named.
fn announce_demo_calls(dir: &Path, port: u16) {
    let data = dir.join("data");
    let data_arg = data.to_str().expect("utf-8");
    let ringside = built_binary("ringside");
    stdout_of(Command::new(&ringside).args([
        "phonebook",
        "set",
        "15550100001",
        "Mom",
        "--data-dir",
        data_arg,
    ]));
    let capture = dir.join("calls.pcap");
    let calls = packets(&bridge_agent::demo::demo_calls(), 1);
    write_pcap(&capture, Duration::from_secs(1_790_000_000), &calls).expect("capture");
    let target = format!("127.0.0.1:{port}");
    stdout_of(Command::new(&ringside).args([
        "replay",
        capture.to_str().expect("utf-8"),
        "--data-dir",
        data_arg,
        "--quiet",
        "--announce",
        &target,
    ]));
}

#[test]
fn announcements_become_one_popup_per_call_on_a_real_desktop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut desktop = Desktop::start(dir.path());
    let log = dir.path().join("notify.log");
    // Port 0: the client binds a port the system picks and logs it, so no other process can
    // take the port between the test's choice and the client's bind.
    let client = Command::new(built_binary("ringside-notify"))
        .args(["--port", "0"])
        .envs(desktop.env.clone())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("ringside-notify");
    desktop.processes.0.push(client);
    let mut port = None;
    wait_until("ringside-notify listening", || {
        port = std::fs::read_to_string(&log).ok().and_then(|log| {
            let after = log.split_once("on UDP port ")?.1;
            // Only a whole line: the digits end before the line does.
            let end = after.find(|c: char| !c.is_ascii_digit())?;
            after[..end].parse::<u16>().ok()
        });
        port.is_some()
    });
    announce_demo_calls(dir.path(), port.expect("the port it listens on"));

    wait_until("three popups (the three inbound calls)", || {
        desktop.displayed() == 3
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        desktop.displayed(),
        3,
        "replaced, not stacked: one popup per call"
    );
    let shot = artifacts().join("desktop-popups.png");
    stdout_of(
        Command::new("import")
            .args(["-display", &desktop.display, "-window", "root"])
            .arg(&shot),
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "a screenshot"
    );
    assert_eq!(
        desktop.popups(),
        [
            (
                "Bright Smile Dental".to_owned(),
                "+1 (555) 010-0003\nCall ended".to_owned()
            ),
            ("Mom".to_owned(), "+1 (555) 010-0001\nCall ended".to_owned()),
            (
                "Withheld".to_owned(),
                "Number withheld\nMissed call".to_owned()
            ),
        ],
        "the phonebook name, the number for reading, one popup per call"
    );
}
