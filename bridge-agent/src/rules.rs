//! `ringside rules`: the netfilter rules that hand the bridge's UDP (and SIP over TCP) to the
//! agent's queue, the rules that make the kernel reassemble fragments before the queue, and
//! the `bridge-nf-call-*` settings that make bridged packets visible to iptables at all.
//!
//! Everything lives in chains of our own, both named `RINGSIDE`: one in the `filter` table,
//! jumped to from the top of `FORWARD` for packets crossing the bridge, and one in the `raw`
//! table, jumped to from the top of `PREROUTING` for packets coming in on the bridge; so
//! `remove` takes away exactly what `install` put in. Every queue rule carries
//! `--queue-bypass`: with no agent listening, packets pass. The previous value of each
//! `bridge-nf-call-*` setting (and of the `bridge-nf-filter-*-tagged` ones, without which IP
//! inside a VLAN or `PPPoE` frame skips iptables and so the queue) is kept in a comment on the
//! chain and put back on removal. Commands run without a shell.
//!
//! **Fragments.** A fragmented INVITE must be decided whole, or its first fragments would
//! reach the phone before the verdict on the last one. The kernel reassembles fragments
//! (`nf_defrag_ipv4`/`nf_defrag_ipv6`, ahead of every other hook of `PREROUTING`) only in a
//! network namespace whose rules use connection tracking; `br_netfilter` cuts the datagram
//! into fragments of the original size again on its way out. So the `raw` chain holds a
//! rule with the `conntrack` match (it only counts; its presence is what turns reassembly
//! on), after one that keeps the bridged traffic untracked (no conntrack table to fill, no
//! cost per flow; traffic to the box itself stays tracked for its own firewall). With that,
//! the queue sees whole datagrams only; fragments that never complete are dropped by the
//! kernel after `net.ipv4.ipfrag_time` (30 s), a flood beyond `ipfrag_high_thresh` is
//! dropped, not passed, and a fragment repeated after its datagram completed starts a new
//! datagram that never completes. (`-j CT --notrack` alone does not turn reassembly on.)

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::output::say;
use anyhow::{bail, Context};

/// The chain Ringside owns (in the `filter` table, and in the `raw` table).
pub const CHAIN: &str = "RINGSIDE";

/// The comment on the `raw` rule that turns the kernel's fragment reassembly on; `ringside
/// doctor` looks for it.
pub const DEFRAG_COMMENT: &str = "ringside: conntrack in use, so the kernel reassembles fragments";

/// The settings that hand IP inside VLAN- and `PPPoE`-tagged frames to iptables too: off, a
/// blocked caller's INVITE on a tagged link between the bridge and the ATA skips the queue.
pub const TAGGED_SYSCTLS: [&str; 2] = [
    "/proc/sys/net/bridge/bridge-nf-filter-vlan-tagged",
    "/proc/sys/net/bridge/bridge-nf-filter-pppoe-tagged",
];

/// Where the IPv4 chain's comment remembers [`TAGGED_SYSCTLS`]' values before installation.
const TAGGED_NOTE: &str = "tagged were ";

/// What the rules are made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOptions {
    /// The bridge interface.
    pub bridge: String,
    /// The queue number.
    pub queue: u16,
    /// TCP ports that carry SIP (UDP is queued whatever the port: RTP ports are dynamic).
    pub sip_ports: Vec<u16>,
    /// Which iptables.
    pub backend: Backend,
}

/// Which iptables the rules go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// `iptables-legacy` when installed, else `iptables`.
    #[default]
    Auto,
    /// `iptables-legacy` / `ip6tables-legacy` (xtables).
    Legacy,
    /// `iptables-nft` / `ip6tables-nft` (`nf_tables`; needs the kernel's nft `queue`).
    Nft,
}

/// One IP family's tools and setting.
#[derive(Debug, Clone, Copy)]
struct Family {
    legacy: &'static str,
    nft: &'static str,
    plain: &'static str,
    sysctl: &'static str,
}

const FAMILIES: [Family; 2] = [
    Family {
        legacy: "iptables-legacy",
        nft: "iptables-nft",
        plain: "iptables",
        sysctl: "/proc/sys/net/bridge/bridge-nf-call-iptables",
    },
    Family {
        legacy: "ip6tables-legacy",
        nft: "ip6tables-nft",
        plain: "ip6tables",
        sysctl: "/proc/sys/net/bridge/bridge-nf-call-ip6tables",
    },
];

impl Family {
    /// The tool for `backend`. `Auto` takes the legacy tool when present (not every kernel
    /// Ringside meets has the nft `queue` expression), else whatever `iptables` is.
    fn tool(self, backend: Backend) -> &'static str {
        match backend {
            Backend::Legacy => self.legacy,
            Backend::Nft => self.nft,
            Backend::Auto => {
                let found = ["/usr/sbin", "/sbin", "/usr/bin"]
                    .iter()
                    .any(|dir| Path::new(dir).join(self.legacy).exists());
                if found {
                    self.legacy
                } else {
                    self.plain
                }
            }
        }
    }
}

/// The argument lists (without the tool) that install the rules for one family. `was` is
/// the `bridge-nf-call-*` value before installation, remembered in a comment.
#[must_use]
pub fn install_commands(options: &RuleOptions, was: &str) -> Vec<Vec<String>> {
    let queue = options.queue.to_string();
    let nfqueue = [
        "-j",
        "NFQUEUE",
        "--queue-num",
        queue.as_str(),
        "--queue-bypass",
    ];
    let mut commands = vec![args(&["-N", CHAIN])];
    let mut udp = args(&["-A", CHAIN, "-p", "udp", "-m", "comment", "--comment"]);
    udp.push(format!("ringside bridge-nf-call was {was}"));
    udp.extend(args(&nfqueue));
    commands.push(udp);
    if !options.sip_ports.is_empty() {
        let ports: Vec<String> = options.sip_ports.iter().map(u16::to_string).collect();
        let mut tcp = args(&["-A", CHAIN, "-p", "tcp", "-m", "multiport", "--ports"]);
        tcp.push(ports.join(","));
        tcp.extend(args(&nfqueue));
        commands.push(tcp);
    }
    commands.push(args(
        &[&["-I", "FORWARD", "1"], &jump(options)[..]].concat(),
    ));
    commands
}

/// The argument lists that make the kernel reassemble fragments before the queue (see the
/// module's doc): a `raw` chain that leaves forwarded traffic untracked and holds the
/// `conntrack` match, jumped to for packets coming in on the bridge.
#[must_use]
pub fn defrag_install_commands(options: &RuleOptions) -> Vec<Vec<String>> {
    let mut count = raw(&format!(
        "-A {CHAIN} -m conntrack --ctstate UNTRACKED -m comment --comment"
    ));
    count.push(DEFRAG_COMMENT.to_owned());
    vec![
        raw(&format!("-N {CHAIN}")),
        raw(&format!(
            "-A {CHAIN} -m addrtype ! --dst-type LOCAL -j CT --notrack"
        )),
        count,
        raw(&format!("-I PREROUTING 1 -i {} -j {CHAIN}", options.bridge)),
    ]
}

/// The argument lists that remove what [`defrag_install_commands`] put in.
#[must_use]
pub fn defrag_remove_commands(options: &RuleOptions) -> Vec<Vec<String>> {
    vec![
        raw(&format!("-D PREROUTING -i {} -j {CHAIN}", options.bridge)),
        raw(&format!("-F {CHAIN}")),
        raw(&format!("-X {CHAIN}")),
    ]
}

/// The arguments for the `raw` table, from words without spaces in them.
fn raw(words: &str) -> Vec<String> {
    ["-t", "raw"]
        .into_iter()
        .chain(words.split_whitespace())
        .map(str::to_owned)
        .collect()
}

/// The rule that sends bridged traffic to [`CHAIN`], as inserted and as deleted (the two
/// must match word for word).
fn jump(options: &RuleOptions) -> [&str; 6] {
    ["-i", &options.bridge, "-o", &options.bridge, "-j", CHAIN]
}

/// The argument lists that remove the rules for one family.
#[must_use]
pub fn remove_commands(options: &RuleOptions) -> Vec<Vec<String>> {
    vec![
        args(&[&["-D", "FORWARD"], &jump(options)[..]].concat()),
        args(&["-F", CHAIN]),
        args(&["-X", CHAIN]),
    ]
}

/// The [`TAGGED_SYSCTLS`]' values a chain's listing remembers (none from rules installed
/// before they were, or from the IPv6 chain).
fn tagged_values(listing: &str) -> Vec<char> {
    listing
        .split(TAGGED_NOTE)
        .nth(1)
        .map(|rest| {
            rest.split_whitespace()
                .take(TAGGED_SYSCTLS.len())
                .filter_map(|v| v.chars().next().filter(char::is_ascii_digit))
                .collect()
        })
        .unwrap_or_default()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|&a| a.to_owned()).collect()
}

/// Prints what `install` would run.
pub fn show(options: &RuleOptions) {
    for sysctl in TAGGED_SYSCTLS {
        say!("echo 1 > {sysctl}");
    }
    for family in FAMILIES {
        say!("echo 1 > {}", family.sysctl);
        for command in install_commands(options, "N")
            .into_iter()
            .chain(defrag_install_commands(options))
        {
            say!("{} {}", family.tool(options.backend), quote(&command));
        }
    }
}

/// Installs the rules (both families) and turns on `bridge-nf-call-*`. Refuses if they are
/// in place already.
pub fn install(options: &RuleOptions) -> anyhow::Result<()> {
    let tagged_was = TAGGED_SYSCTLS
        .iter()
        .map(|sysctl| read_sysctl(Path::new(sysctl)))
        .collect::<anyhow::Result<Vec<String>>>()?;
    for (index, family) in FAMILIES.iter().enumerate() {
        let tool = family.tool(options.backend);
        if run(tool, &args(&["-S", CHAIN])).is_ok()
            || run(tool, &args(&["-t", "raw", "-S", CHAIN])).is_ok()
        {
            bail!("the {CHAIN} chain exists already ({tool}); run `ringside rules remove` first");
        }
        let sysctl = PathBuf::from(family.sysctl);
        let mut was = read_sysctl(&sysctl)?;
        if index == 0 {
            was = format!("{was}, {TAGGED_NOTE}{}", tagged_was.join(" "));
        }
        for command in install_commands(options, &was)
            .into_iter()
            .chain(defrag_install_commands(options))
        {
            run(tool, &command)?;
        }
        write_sysctl(family.sysctl, "1")?;
    }
    for sysctl in TAGGED_SYSCTLS {
        write_sysctl(sysctl, "1")?;
    }
    Ok(())
}

/// A `/proc/sys` setting's value.
fn read_sysctl(sysctl: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(sysctl)
        .with_context(|| {
            format!(
                "cannot read {} (is the br_netfilter module loaded? `modprobe br_netfilter`)",
                sysctl.display()
            )
        })?
        .trim()
        .to_owned())
}

fn write_sysctl(sysctl: &str, value: &str) -> anyhow::Result<()> {
    std::fs::write(sysctl, value).with_context(|| format!("cannot write {sysctl}"))
}

/// Removes the rules of both families and puts `bridge-nf-call-*` back as it was.
pub fn remove(options: &RuleOptions) -> anyhow::Result<()> {
    let mut found = false;
    for family in FAMILIES {
        let tool = family.tool(options.backend);
        // Rules installed by a Ringside older than the fragment handling have no raw chain.
        if run(tool, &args(&["-t", "raw", "-S", CHAIN])).is_ok() {
            found = true;
            for command in defrag_remove_commands(options) {
                run(tool, &command)?;
            }
        }
        let Ok(listing) = run(tool, &args(&["-S", CHAIN])) else {
            continue;
        };
        found = true;
        let was = listing
            .split("ringside bridge-nf-call was ")
            .nth(1)
            .and_then(|rest| rest.chars().next())
            .filter(char::is_ascii_digit);
        for command in remove_commands(options) {
            run(tool, &command)?;
        }
        if let Some(was) = was {
            write_sysctl(family.sysctl, &was.to_string())?;
        }
        for (sysctl, was) in TAGGED_SYSCTLS.iter().zip(tagged_values(&listing)) {
            write_sysctl(sysctl, &was.to_string())?;
        }
    }
    if !found {
        bail!("no Ringside rules are installed");
    }
    Ok(())
}

/// What one IP family has of Ringside's rules, as `iptables -S` lists them (`None` where
/// the chain is missing or the tool failed), for `ringside doctor`.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The tool asked (`iptables-legacy`, ...).
    pub tool: &'static str,
    /// The `bridge-nf-call-*` setting of this family.
    pub sysctl: &'static str,
    /// The `filter` table's [`CHAIN`].
    pub queue_chain: Option<String>,
    /// The `filter` table's `FORWARD`.
    pub forward: Option<String>,
    /// The `raw` table's [`CHAIN`].
    pub defrag_chain: Option<String>,
    /// The `raw` table's `PREROUTING`.
    pub prerouting: Option<String>,
}

impl Listing {
    /// Whether the `raw` rules that have the kernel reassemble fragments are in place for
    /// `bridge`: the chain with its `conntrack` rule, and the jump to it.
    #[must_use]
    pub fn reassembles(&self, bridge: &str) -> bool {
        let jump = format!("-i {bridge} -j {CHAIN}");
        let counted = self
            .defrag_chain
            .as_deref()
            .is_some_and(|c| c.contains("--ctstate UNTRACKED") && c.contains(DEFRAG_COMMENT));
        counted
            && self
                .prerouting
                .as_deref()
                .is_some_and(|p| p.contains(&jump))
    }
}

/// Lists Ringside's rules in both families.
#[must_use]
pub fn listings(backend: Backend) -> Vec<Listing> {
    FAMILIES
        .iter()
        .map(|family| {
            let tool = family.tool(backend);
            let list = |arguments: &[&str]| run(tool, &args(arguments)).ok();
            Listing {
                tool,
                sysctl: family.sysctl,
                queue_chain: list(&["-S", CHAIN]),
                forward: list(&["-S", "FORWARD"]),
                defrag_chain: list(&["-t", "raw", "-S", CHAIN]),
                prerouting: list(&["-t", "raw", "-S", "PREROUTING"]),
            }
        })
        .collect()
}

fn run(tool: &str, arguments: &[String]) -> anyhow::Result<String> {
    let output = Command::new(tool)
        .args(arguments)
        .output()
        .with_context(|| format!("cannot run {tool} (is the iptables package installed?)"))?;
    if !output.status.success() {
        bail!(
            "{tool} {} failed: {}",
            quote(arguments),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn quote(arguments: &[String]) -> String {
    arguments
        .iter()
        .map(|a| {
            if a.contains(' ') {
                format!("\"{a}\"")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tagged_settings_are_read_back_from_the_chains_comment() {
        let listing = "-N RINGSIDE\n-A RINGSIDE -p udp -m comment --comment \"ringside \
                       bridge-nf-call was 0, tagged were 0 1\" -j NFQUEUE --queue-num 5061";
        assert_eq!(tagged_values(listing), vec!['0', '1']);
        let older = "-A RINGSIDE -p udp -m comment --comment \"ringside bridge-nf-call was 1\"";
        assert!(
            tagged_values(older).is_empty(),
            "rules from before: left alone"
        );
    }

    #[test]
    fn install_queues_bridged_udp_and_sip_tcp_with_bypass_and_remove_mirrors_it() {
        let options = RuleOptions {
            bridge: "br0".into(),
            queue: 5061,
            sip_ports: vec![5060, 5061],
            backend: Backend::Auto,
        };
        let install: Vec<String> = install_commands(&options, "0")
            .iter()
            .map(|c| quote(c))
            .collect();
        assert_eq!(install[0], "-N RINGSIDE");
        assert_eq!(
            install[1],
            "-A RINGSIDE -p udp -m comment --comment \"ringside bridge-nf-call was 0\" -j NFQUEUE --queue-num 5061 --queue-bypass"
        );
        assert_eq!(
            install[2],
            "-A RINGSIDE -p tcp -m multiport --ports 5060,5061 -j NFQUEUE --queue-num 5061 --queue-bypass"
        );
        assert_eq!(install[3], "-I FORWARD 1 -i br0 -o br0 -j RINGSIDE");
        let remove: Vec<String> = remove_commands(&options).iter().map(|c| quote(c)).collect();
        assert_eq!(
            remove,
            [
                "-D FORWARD -i br0 -o br0 -j RINGSIDE",
                "-F RINGSIDE",
                "-X RINGSIDE"
            ]
        );
    }

    #[test]
    fn defrag_uses_conntrack_leaves_forwarded_traffic_untracked_and_remove_mirrors_it() {
        let options = RuleOptions {
            bridge: "br0".into(),
            queue: 5061,
            sip_ports: vec![],
            backend: Backend::Auto,
        };
        let install: Vec<String> = defrag_install_commands(&options)
            .iter()
            .map(|c| quote(c))
            .collect();
        assert_eq!(
            install,
            [
                "-t raw -N RINGSIDE".to_owned(),
                "-t raw -A RINGSIDE -m addrtype ! --dst-type LOCAL -j CT --notrack".to_owned(),
                format!(
                    "-t raw -A RINGSIDE -m conntrack --ctstate UNTRACKED -m comment --comment \"{DEFRAG_COMMENT}\""
                ),
                "-t raw -I PREROUTING 1 -i br0 -j RINGSIDE".to_owned(),
            ]
        );
        let remove: Vec<String> = defrag_remove_commands(&options)
            .iter()
            .map(|c| quote(c))
            .collect();
        assert_eq!(
            remove,
            [
                "-t raw -D PREROUTING -i br0 -j RINGSIDE",
                "-t raw -F RINGSIDE",
                "-t raw -X RINGSIDE"
            ]
        );
    }
}
