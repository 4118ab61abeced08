//! `ringside doctor` in the live bridge lab: its lines follow the rules being removed and
//! installed, the agent starting, and the data directory's permissions; its exit status is 0
//! only when every line is ok.

use std::os::unix::fs::PermissionsExt;

use ringside_e2e::lab::{ringside_binary, Lab};

/// Runs `ringside doctor` in the bridge's namespace: whether it said all is well, and its
/// lines.
fn doctor(lab: &Lab) -> (bool, String) {
    let binary = ringside_binary();
    let config = lab.dir.path().join("ringside.toml");
    let data = lab.data_dir();
    lab.try_in_ns(
        "br",
        &[
            binary.to_str().expect("utf-8"),
            "doctor",
            "--config",
            config.to_str().expect("utf-8"),
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
    )
}

/// The line that starts with `level` and names `what`.
fn has_line(report: &str, level: &str, what: &str) -> bool {
    report
        .lines()
        .any(|line| line.starts_with(level) && line.contains(what))
}

fn rules(lab: &Lab, action: &str) {
    let binary = ringside_binary();
    lab.in_ns(
        "br",
        &[
            binary.to_str().expect("utf-8"),
            "rules",
            action,
            "--bridge",
            "br0",
        ],
    );
}

/// Takes group and other permissions off the data directory and everything in it.
fn owner_only(dir: &std::path::Path) {
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::metadata(&path).expect("metadata");
        let mode = meta.permissions().mode() & 0o700;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path).expect("read_dir");
            pending.extend(entries.flatten().map(|e| e.path()));
        }
    }
}

#[test]
fn lab_doctor_follows_the_rules_the_agent_and_the_data_directory() {
    let mut lab = Lab::new();
    std::fs::write(
        lab.dir.path().join("ringside.toml"),
        "bridge = \"br0\"\nphone_port = \"h1\"\n",
    )
    .expect("config");
    lab.ringside(&["settings", "list"]);
    rules(&lab, "remove");

    let (well, before) = doctor(&lab);
    assert!(!well, "all well without rules?\n{before}");
    assert!(
        has_line(
            &before,
            "ok ",
            "bridge br0: up, ports h1, p1, address 10.77.0.3"
        ),
        "{before}"
    );
    assert!(
        has_line(&before, "problem", "bridge-nf-call-iptables: set to 0"),
        "{before}"
    );
    assert!(
        has_line(
            &before,
            "problem",
            "rules (iptables-legacy): no RINGSIDE chain"
        ),
        "{before}"
    );
    assert!(
        has_line(&before, "problem", "fragments (ip6tables-legacy)"),
        "{before}"
    );
    assert!(
        has_line(&before, "problem", "queue 5061: no agent is bound"),
        "{before}"
    );
    assert!(
        has_line(&before, "ok ", "console on 127.0.0.1:8080: loopback only"),
        "{before}"
    );
    assert!(has_line(&before, "ok ", "database: opens"), "{before}");

    rules(&lab, "install");
    lab.start_agent_with("");
    owner_only(&lab.data_dir());
    let (well, after) = doctor(&lab);
    for what in [
        "bridge-nf-call-iptables: set to 1",
        "bridge-nf-call-ip6tables: set to 1",
        "rules (iptables-legacy): bridged UDP of br0 goes to queue 5061, with --queue-bypass",
        "rules (ip6tables-legacy)",
        "fragments (iptables-legacy): the kernel reassembles",
        "fragments (ip6tables-legacy): the kernel reassembles",
        "queue 5061: an agent is bound",
        "owner-only",
        "free space",
    ] {
        assert!(
            has_line(&after, "ok ", what),
            "no ok line for {what:?}:\n{after}"
        );
    }
    assert!(well, "not all well with rules and agent:\n{after}");

    let db = lab.data_dir().join("ringside.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (well, open) = doctor(&lab);
    assert!(!well);
    assert!(has_line(&open, "problem", "open to other users"), "{open}");
    assert!(lab.stop_agent().success());
}
