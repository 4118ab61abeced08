//! `ringside doctor`'s checks of the network side: the bridge, `br_netfilter`, the rules in
//! both families (queue and fragment reassembly), and the queue's binding and drops, read
//! from `/sys`, `/proc` and `iptables -S`.

use std::path::Path;

use super::{DoctorOptions, Finding, Level};
use crate::rules::{self, Listing};

pub(super) fn bridge(name: &str) -> Finding {
    let what = format!("bridge {name}");
    let sys = Path::new("/sys/class/net").join(name);
    if !sys.join("bridge").exists() {
        return Finding::new(
            Level::Problem,
            what,
            "there is no such bridge in this network namespace: create it and put the \
             provider's and the phone's ports in it (README, \"Put it in the phone line\")",
        );
    }
    let flags = std::fs::read_to_string(sys.join("flags")).unwrap_or_default();
    let mut ports: Vec<String> = std::fs::read_dir(sys.join("brif"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    ports.sort();
    bridge_finding(what, is_up(&flags), &ports, &addresses_of(name))
}

/// Whether a `/sys/class/net/*/flags` value (`0x1003`) has `IFF_UP`.
fn is_up(flags: &str) -> bool {
    u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).is_ok_and(|f| f & 1 == 1)
}

fn bridge_finding(what: String, up: bool, ports: &[String], addresses: &[String]) -> Finding {
    if !up {
        return Finding::new(Level::Problem, what, "it is down: `ip link set DEV up`");
    }
    if ports.len() < 2 {
        let detail = format!(
            "it has {} port(s) ({}): the provider's and the phone's ports both belong in it \
             (`ip link set PORT master BRIDGE`)",
            ports.len(),
            ports.join(", ")
        );
        return Finding::new(Level::Problem, what, detail);
    }
    if addresses.is_empty() {
        let detail = format!(
            "up, ports {}, but no address: announcements and answers to blocked calls need \
             one (`dhclient BRIDGE` or `ip addr add`)",
            ports.join(", ")
        );
        return Finding::new(Level::Warning, what, detail);
    }
    let detail = format!(
        "up, ports {}, address {}",
        ports.join(", "),
        addresses.join(", ")
    );
    Finding::new(Level::Ok, what, detail)
}

fn addresses_of(name: &str) -> Vec<String> {
    let Ok(all) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    all.filter(|a| a.interface_name == name)
        .filter_map(|a| {
            let address = a.address?;
            let ip = address
                .as_sockaddr_in()
                .map(|v4| v4.ip().to_string())
                .or_else(|| address.as_sockaddr_in6().map(|v6| v6.ip().to_string()))?;
            Some(ip)
        })
        .collect()
}

pub(super) fn bridge_netfilter(listings: &[Listing]) -> Vec<Finding> {
    let families = listings.iter().map(|listing| {
        (
            listing.sysctl,
            "bridged packets skip iptables and never reach Ringside",
        )
    });
    let tagged = rules::TAGGED_SYSCTLS.iter().map(|&sysctl| {
        (
            sysctl,
            "tagged frames (a VLAN or PPPoE between the bridge and the ATA) skip iptables, so \
             a blocked caller on them rings through",
        )
    });
    families
        .chain(tagged)
        .map(|(sysctl, when_off)| sysctl_finding(sysctl, when_off))
        .collect()
}

/// One `/proc/sys/net/bridge/` setting that must be 1; `when_off` says what goes wrong.
fn sysctl_finding(sysctl: &str, when_off: &str) -> Finding {
    let name = Path::new(sysctl)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let value = std::fs::read_to_string(sysctl).ok();
    match value.as_deref().map(str::trim) {
        Some("1") => Finding::new(
            Level::Ok,
            name,
            "set to 1: these packets go through iptables",
        ),
        Some(other) => Finding::new(
            Level::Problem,
            name,
            format!("set to {other}: {when_off}; `ringside rules install` sets it"),
        ),
        None => Finding::new(
            Level::Problem,
            name,
            "missing: the br_netfilter module is not loaded (`modprobe br_netfilter`, \
             and list it in /etc/modules-load.d/)",
        ),
    }
}

pub(super) fn installed_rules(listings: &[Listing], options: &DoctorOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    for listing in listings {
        findings.push(queue_rules(listing, options));
        findings.push(defrag_rules(listing, &options.bridge));
    }
    findings
}

const REINSTALL: &str =
    "put the rules in again (`ringside rules remove` if some are there, then `ringside rules install`)";

/// The queue rules of one family, from `iptables -S` listings.
fn queue_rules(listing: &Listing, options: &DoctorOptions) -> Finding {
    let what = format!("rules ({})", listing.tool);
    let Some(chain) = &listing.queue_chain else {
        let detail = format!(
            "no {} chain: nothing is queued to Ringside; `ringside rules install --bridge {}`",
            rules::CHAIN,
            options.bridge
        );
        return Finding::new(Level::Problem, what, detail);
    };
    let queue = format!("--queue-num {}", options.queue);
    let queued = chain
        .lines()
        .any(|l| l.contains("-p udp") && l.contains(&queue));
    if !queued {
        let detail = format!(
            "the chain does not queue UDP to queue {}: {REINSTALL}",
            options.queue
        );
        return Finding::new(Level::Problem, what, detail);
    }
    let jump = format!("-i {0} -o {0} -j {1}", options.bridge, rules::CHAIN);
    if !listing
        .forward
        .as_deref()
        .is_some_and(|f| f.contains(&jump))
    {
        let detail = format!(
            "FORWARD does not jump to the chain for {}: {REINSTALL}",
            options.bridge
        );
        return Finding::new(Level::Problem, what, detail);
    }
    let all_bypass = chain
        .lines()
        .filter(|l| l.contains("NFQUEUE"))
        .all(|l| l.contains("--queue-bypass"));
    if !all_bypass {
        let detail = format!(
            "a queue rule lacks --queue-bypass: the phone line goes dead whenever the agent              stops; {REINSTALL}"
        );
        return Finding::new(Level::Problem, what, detail);
    }
    let detail = format!(
        "bridged UDP of {} goes to queue {}, with --queue-bypass",
        options.bridge, options.queue
    );
    Finding::new(Level::Ok, what, detail)
}

/// The `raw` rules that have the kernel reassemble fragments, in one family.
fn defrag_rules(listing: &Listing, bridge: &str) -> Finding {
    let what = format!("fragments ({})", listing.tool);
    if listing.reassembles(bridge) {
        return Finding::new(
            Level::Ok,
            what,
            "the kernel reassembles fragments before the queue",
        );
    }
    let detail = format!(
        "the raw rules that make the kernel reassemble fragments are missing: the agent \
         drops fragments from the network (large INVITEs fail) rather than let one pass \
         undecided; {REINSTALL}"
    );
    Finding::new(Level::Problem, what, detail)
}

/// One line of `/proc/net/netfilter/nfnetlink_queue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BoundQueue {
    /// The queue number.
    number: u16,
    /// The netlink port id of the process bound to it.
    port_id: u32,
    /// Packets waiting for a verdict now.
    waiting: u64,
    /// Packets dropped because the queue was full.
    dropped: u64,
    /// Packets lost on the way to the agent (its socket buffer was full).
    user_dropped: u64,
}

/// Parses `/proc/net/netfilter/nfnetlink_queue`: queue number, port id, queue length, copy
/// mode, copy range, queue dropped, user dropped, last id, 1. Lines that do not fit are
/// skipped.
fn parse_queues(text: &str) -> Vec<BoundQueue> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let number = |at: usize| fields.get(at)?.parse::<u64>().ok();
            Some(BoundQueue {
                number: u16::try_from(number(0)?).ok()?,
                port_id: u32::try_from(number(1)?).ok()?,
                waiting: number(2)?,
                dropped: number(5)?,
                user_dropped: number(6)?,
            })
        })
        .collect()
}

pub(super) fn queue_binding(queue: u16) -> Finding {
    let what = format!("queue {queue}");
    let text = std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue").unwrap_or_default();
    let Some(bound) = parse_queues(&text).into_iter().find(|q| q.number == queue) else {
        return Finding::new(
            Level::Problem,
            what,
            "no agent is bound to it: with --queue-bypass every call passes unseen (no \
             blocking, no recording); start `ringside run` (`systemctl start ringside`)",
        );
    };
    queue_finding(what, bound)
}

fn queue_finding(what: String, bound: BoundQueue) -> Finding {
    let BoundQueue {
        port_id,
        waiting,
        dropped,
        user_dropped,
        ..
    } = bound;
    let state = format!("an agent is bound (netlink port {port_id}), {waiting} packets waiting");
    if dropped + user_dropped == 0 {
        return Finding::new(Level::Ok, what, format!("{state}, none dropped"));
    }
    let detail = format!(
        "{state}; {dropped} packets found the queue full and {user_dropped} were lost on the \
         way to the agent since it started: it did not keep up (a slow disk or CPU; see \
         `journalctl -u ringside`)"
    );
    Finding::new(Level::Warning, what, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::rules::Backend;

    /// Two queues as Linux 6 lists them: 5061 bound, with drops; 7 bound, quiet.
    const NFNETLINK_QUEUE: &str = "\
 5061  31337     2 2 65535     3     4      812  1
    7 -4182    0 2 65535     0     0        0  1
garbage line
";

    #[test]
    fn parses_bound_queues_with_their_drops() {
        let queues = parse_queues(NFNETLINK_QUEUE);
        assert_eq!(
            queues[0],
            BoundQueue {
                number: 5061,
                port_id: 31337,
                waiting: 2,
                dropped: 3,
                user_dropped: 4
            }
        );
        assert_eq!(queues.len(), 1, "a negative port id or garbage is skipped");
        assert!(parse_queues("").is_empty());
        let finding = queue_finding("queue 5061".into(), queues[0]);
        assert_eq!(finding.level, Level::Warning);
        assert!(
            finding
                .detail
                .contains("3 packets found the queue full and 4"),
            "{finding}"
        );
        let quiet = BoundQueue {
            dropped: 0,
            user_dropped: 0,
            ..queues[0]
        };
        assert_eq!(queue_finding("queue 5061".into(), quiet).level, Level::Ok);
    }

    #[test]
    fn reads_the_up_flag_of_an_interface() {
        assert!(is_up("0x1003\n"));
        assert!(!is_up("0x1002\n"));
        assert!(!is_up("nonsense"));
    }

    #[test]
    fn a_bridge_needs_to_be_up_with_two_ports_and_wants_an_address() {
        let ports = ["h1".to_owned(), "p1".to_owned()];
        let address = ["10.77.0.3".to_owned()];
        let level = |up, ports: &[String], addresses: &[String]| {
            bridge_finding("bridge br0".into(), up, ports, addresses).level
        };
        assert_eq!(level(true, &ports, &address), Level::Ok);
        assert_eq!(level(true, &ports, &[]), Level::Warning);
        assert_eq!(level(true, &ports[..1], &address), Level::Problem);
        assert_eq!(level(false, &ports, &address), Level::Problem);
    }

    fn listing(queue_chain: Option<&str>, defrag_chain: Option<&str>) -> Listing {
        Listing {
            tool: "iptables-legacy",
            sysctl: "/proc/sys/net/bridge/bridge-nf-call-iptables",
            queue_chain: queue_chain.map(str::to_owned),
            forward: Some("-P FORWARD ACCEPT\n-A FORWARD -i br0 -o br0 -j RINGSIDE\n".into()),
            defrag_chain: defrag_chain.map(str::to_owned),
            prerouting: Some("-P PREROUTING ACCEPT\n-A PREROUTING -i br0 -j RINGSIDE\n".into()),
        }
    }

    fn options() -> DoctorOptions {
        DoctorOptions {
            bridge: "br0".into(),
            queue: 5061,
            backend: Backend::Auto,
            data_dir: None,
            config: Config::default(),
        }
    }

    const QUEUE_CHAIN: &str = "-N RINGSIDE\n-A RINGSIDE -p udp -m comment --comment \"ringside \
        bridge-nf-call was 0\" -j NFQUEUE --queue-num 5061 --queue-bypass\n";

    #[test]
    fn the_queue_rules_need_the_chain_the_jump_and_the_bypass() {
        let ok = queue_rules(&listing(Some(QUEUE_CHAIN), None), &options());
        assert_eq!(ok.level, Level::Ok, "{ok}");
        let missing = queue_rules(&listing(None, None), &options());
        assert_eq!(missing.level, Level::Problem);
        let no_bypass = QUEUE_CHAIN.replace(" --queue-bypass", "");
        let finding = queue_rules(&listing(Some(&no_bypass), None), &options());
        assert!(finding.detail.contains("--queue-bypass"), "{finding}");
        let other_queue = DoctorOptions {
            queue: 7,
            ..options()
        };
        let finding = queue_rules(&listing(Some(QUEUE_CHAIN), None), &other_queue);
        assert_eq!(finding.level, Level::Problem);
    }

    #[test]
    fn the_fragment_handling_needs_the_raw_chain_with_conntrack_and_its_jump() {
        let raw = format!(
            "-N RINGSIDE\n-A RINGSIDE -m addrtype ! --dst-type LOCAL -j CT --notrack\n\
             -A RINGSIDE -m conntrack --ctstate UNTRACKED -m comment --comment \"{}\"\n",
            rules::DEFRAG_COMMENT
        );
        assert_eq!(
            defrag_rules(&listing(None, Some(&raw)), "br0").level,
            Level::Ok
        );
        assert_eq!(
            defrag_rules(&listing(None, None), "br0").level,
            Level::Problem
        );
        let notrack_only = raw.lines().take(2).collect::<Vec<_>>().join("\n");
        let finding = defrag_rules(&listing(None, Some(&notrack_only)), "br0");
        assert_eq!(
            finding.level,
            Level::Problem,
            "notrack alone does not reassemble"
        );
        assert_eq!(
            defrag_rules(&listing(None, Some(&raw)), "br1").level,
            Level::Problem
        );
    }
}
