//! The live bridge lab: three network namespaces (provider, bridge, phone) joined by veth
//! pairs to a Linux bridge with `bridge-nf-call-iptables`, the rules from `ringside rules
//! install`, `ringside run` in the bridge namespace, and sipp as provider and phone.
//!
//! Needs root, iproute2, iptables and sipp (CI installs them). Each lab has its own
//! namespaces, torn down when it is dropped, also when a test fails.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bridge_agent::store::{CallRecord, Store};
use ringside_synth::{self as synth, SynthCall, SynthPacket};

/// The provider's address (it talks to the phone across the bridge).
pub const PROVIDER: &str = "10.77.0.1";
/// The phone adapter's address.
pub const PHONE: &str = "10.77.0.2";
/// The bridge's own address (it sends announcements and answers for blocked calls).
pub const BRIDGE: &str = "10.77.0.3";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// One lab: namespaces, a data directory, the agent.
pub struct Lab {
    prefix: String,
    /// The lab's files: the data directory, sipp's scenarios and logs, tone captures.
    pub dir: tempfile::TempDir,
    agent: Option<Child>,
}

fn run(program: &str, args: &[&str]) -> String {
    crate::process::stdout_of(Command::new(program).args(args))
}

/// The `ringside` binary built beside this test (or benchmark) binary.
pub fn ringside_binary() -> PathBuf {
    built_binary("ringside")
}

/// A binary of the workspace built beside this test (or benchmark) binary.
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let binary = dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: build it first (`cargo test --workspace` or `cargo build --release`)",
        binary.display()
    );
    binary
}

impl Lab {
    /// Builds the namespaces, the bridge and the rules.
    pub fn new() -> Lab {
        Lab::with_rules(&[])
    }

    /// The same, with more arguments for `ringside rules install` (`--backend nft`); the
    /// `bridge-nf-call-*` settings start at 0 so that installing must turn them on.
    pub fn with_rules(rule_args: &[&str]) -> Lab {
        let prefix = format!(
            "rs{}-{}",
            std::process::id() % 10_000,
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let lab = Lab {
            prefix,
            dir: tempfile::tempdir().expect("tempdir"),
            agent: None,
        };
        let (prov, br, phone) = (lab.ns("prov"), lab.ns("br"), lab.ns("phone"));
        for ns in [&prov, &br, &phone] {
            run("ip", &["netns", "add", ns]);
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        run(
            "ip",
            &[
                "link", "add", "p0", "netns", &prov, "type", "veth", "peer", "name", "p1", "netns",
                &br,
            ],
        );
        run(
            "ip",
            &[
                "link", "add", "h0", "netns", &phone, "type", "veth", "peer", "name", "h1",
                "netns", &br,
            ],
        );
        run("ip", &["-n", &br, "link", "add", "br0", "type", "bridge"]);
        for port in ["p1", "h1"] {
            run("ip", &["-n", &br, "link", "set", port, "master", "br0"]);
            run("ip", &["-n", &br, "link", "set", port, "up"]);
        }
        run("ip", &["-n", &br, "link", "set", "br0", "up"]);
        run(
            "ip",
            &[
                "-n",
                &br,
                "addr",
                "add",
                &format!("{BRIDGE}/24"),
                "dev",
                "br0",
            ],
        );
        for (ns, dev, ip) in [(&prov, "p0", PROVIDER), (&phone, "h0", PHONE)] {
            run(
                "ip",
                &["-n", ns, "addr", "add", &format!("{ip}/24"), "dev", dev],
            );
            run("ip", &["-n", ns, "link", "set", dev, "up"]);
        }
        for family in ["iptables", "ip6tables"] {
            let sysctl = format!("echo 0 > /proc/sys/net/bridge/bridge-nf-call-{family}");
            lab.in_ns("br", &["sh", "-c", &sysctl]);
        }
        let binary = ringside_binary();
        let mut install = vec![
            binary.to_str().expect("utf-8"),
            "rules",
            "install",
            "--bridge",
            "br0",
        ];
        install.extend_from_slice(rule_args);
        lab.in_ns("br", &install);
        lab
    }

    /// The full name of one of the lab's namespaces (`prov`, `br`, `phone`).
    pub fn ns(&self, which: &str) -> String {
        format!("{}-{which}", self.prefix)
    }

    /// Runs a command in a namespace and returns its output.
    pub fn in_ns(&self, which: &str, command: &[&str]) -> String {
        let ns = self.ns(which);
        let mut args = vec!["netns", "exec", ns.as_str()];
        args.extend_from_slice(command);
        run("ip", &args)
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `ringside` (not `run`) on the lab's data directory.
    pub fn ringside(&self, args: &[&str]) -> String {
        let data = self.data_dir();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--data-dir", data.to_str().expect("utf-8")]);
        run(ringside_binary().to_str().expect("utf-8"), &all)
    }

    /// Starts `ringside run` in the bridge namespace and waits until it listens. Its console
    /// keeps the default port (127.0.0.1:8080): the namespace is the lab's own, so no other
    /// process can hold the port.
    pub fn start_agent(&mut self) {
        self.start_agent_with("");
    }

    /// Starts `ringside run` with more configuration lines.
    pub fn start_agent_with(&mut self, more_config: &str) {
        let config = self.dir.path().join("ringside.toml");
        let text = format!("bridge = \"br0\"\nphone_port = \"h1\"\n{more_config}");
        std::fs::write(&config, text).expect("config");
        let ns = self.ns("br");
        let log = std::fs::File::create(self.dir.path().join("agent.log")).expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns])
            .arg(ringside_binary())
            .args(["run", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(self.data_dir())
            .env("RINGSIDE_LOG", "info")
            .stderr(log)
            .spawn()
            .expect("start ringside run");
        self.agent = Some(child);
        self.wait_for_log("running on queue");
    }

    /// Waits until the agent's log says `text`.
    pub fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.agent_log();
            if log.contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the agent never said {text:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the agent wrote so far.
    pub fn agent_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// Stops the agent with SIGTERM (clean shutdown) and waits for it.
    pub fn stop_agent(&mut self) -> ExitStatus {
        let mut child = self.agent.take().expect("an agent");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        child.wait().expect("wait for the agent")
    }

    /// Kills the agent with SIGKILL, as a crash would.
    pub fn kill_agent(&mut self) {
        let mut child = self.agent.take().expect("an agent");
        child.kill().expect("kill");
        child.wait().expect("wait");
    }

    /// The agent's process id (of `ip netns exec`, which execs `ringside`).
    pub fn agent_pid(&self) -> u32 {
        self.agent.as_ref().expect("an agent").id()
    }

    /// Writes a capture of one side's RTP with a tone, for sipp's `play_pcap_audio`.
    pub fn tone_pcap(&self, name: &str, hertz: f64, seconds: u64) -> PathBuf {
        let mut call = SynthCall::inbound(1, "15550100001", None);
        call.ring = Duration::ZERO;
        call.outcome = synth::Outcome::Answered {
            talk: Duration::from_secs(seconds),
        };
        call.remote_tone = hertz;
        let from = call.endpoints.provider_rtp;
        let rtp: Vec<_> = synth::packets(&[call], 3)
            .into_iter()
            .filter(|p| p.src == from && p.payload.first() == Some(&0x80))
            .collect();
        let path = self.dir.path().join(name);
        synth::write_pcap(&path, Duration::from_secs(1_790_000_000), &rtp).expect("tone pcap");
        path
    }

    /// Starts sipp in a namespace with a scenario from `tests/lab/`.
    pub fn sipp(&self, which: &str, scenario: &str, args: &[&str]) -> Child {
        let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lab")
            .join(scenario);
        Command::new("ip")
            .args(["netns", "exec", &self.ns(which), "sipp", "-sf"])
            .arg(scenario)
            .args(args)
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipp")
    }

    /// What sipp and the agent reported, for failure messages.
    pub fn reports(&self) -> String {
        let mut text = format!("agent log:\n{}\n", self.agent_log());
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with("_errors.log") || name.ends_with("_messages.log") {
                let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let tail: Vec<&str> = body.lines().rev().take(60).collect();
                let _ = writeln!(
                    text,
                    "--- {name} (last lines)\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        }
        text
    }

    /// A UDP socket bound inside a namespace (for listening to announcements on the LAN).
    pub fn udp_socket(&self, which: &str, address: &str) -> UdpSocket {
        let ns = format!("/run/netns/{}", self.ns(which));
        let address = address.to_owned();
        std::thread::spawn(move || {
            let file = std::fs::File::open(&ns).expect("namespace file");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            UdpSocket::bind(&address).expect("bind in the namespace")
        })
        .join()
        .expect("socket thread")
    }

    /// A socket for every address `packets` are sent from, bound in the namespace of its side
    /// (the provider's address in `prov`, any other in `phone`).
    pub fn sockets_for(&self, packets: &[SynthPacket]) -> HashMap<SocketAddr, UdpSocket> {
        let provider: IpAddr = PROVIDER.parse().expect("an address");
        let mut sockets = HashMap::new();
        for packet in packets {
            sockets.entry(packet.src).or_insert_with(|| {
                let side = if packet.src.ip() == provider {
                    "prov"
                } else {
                    "phone"
                };
                self.udp_socket(side, &packet.src.to_string())
            });
        }
        sockets
    }

    /// `GET path` from the agent's console (127.0.0.1:8080 in the bridge namespace): the
    /// status line and the body.
    pub fn console_get(&self, path: &str) -> (String, String) {
        self.console_request("GET", path, "")
    }

    /// A request to the agent's console with the CSRF header and a JSON body.
    pub fn console_request(&self, method: &str, path: &str, body: &str) -> (String, String) {
        use std::io::{Read, Write};
        let ns = format!("/run/netns/{}", self.ns("br"));
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\
             X-Ringside: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        std::thread::spawn(move || {
            let file = std::fs::File::open(&ns).expect("namespace file");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let mut stream = std::net::TcpStream::connect("127.0.0.1:8080").expect("console");
            stream.write_all(request.as_bytes()).expect("request");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("response");
            let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
            (
                head.lines().next().unwrap_or_default().to_owned(),
                body.to_owned(),
            )
        })
        .join()
        .expect("console thread")
    }

    /// The call log, newest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        Store::open(&self.data_dir())
            .expect("store")
            .calls(100_000, 0)
            .expect("calls")
    }

    /// Waits until the call log satisfies `done`.
    pub fn wait_for_calls(
        &self,
        what: &str,
        done: impl Fn(&[CallRecord]) -> bool,
    ) -> Vec<CallRecord> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let calls = self.calls();
            if done(&calls) {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the call log never got there: {calls:#?}\nagent log:\n{}",
                self.agent_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.agent.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for which in ["prov", "br", "phone"] {
            // Deleting a namespace removes its veth ends, its bridge and its rules.
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(which)])
                .status();
        }
    }
}

/// Waits for a child with a deadline; kills it when late.
pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `request` over TCP from inside a network namespace (`/run/netns/<ns>`) to `to`,
/// from the local address `from` when given (one of the namespace's addresses), and returns
/// the whole response (the server closes the connection: send `Connection: close`).
pub fn http_in_namespace(
    ns: &str,
    from: Option<std::net::Ipv4Addr>,
    to: std::net::SocketAddrV4,
    request: &str,
) -> String {
    use nix::sys::socket::{bind, connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let request = request.to_owned();
    in_namespace(ns, move || {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
        .expect("socket");
        if let Some(from) = from {
            let local = SockaddrIn::from(std::net::SocketAddrV4::new(from, 0));
            bind(fd.as_raw_fd(), &local).expect("bind the source address");
        }
        connect(fd.as_raw_fd(), &SockaddrIn::from(to)).expect("connect");
        let mut stream = std::net::TcpStream::from(fd);
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream.write_all(request.as_bytes()).expect("request");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("response");
        String::from_utf8_lossy(&response).into_owned()
    })
}

/// Runs `make` on a thread of its own inside the network namespace `ns` (its name under
/// `/run/netns/`), and returns what it made: a socket made there stays in that namespace.
pub fn in_namespace<T: Send + 'static>(ns: &str, make: impl FnOnce() -> T + Send + 'static) -> T {
    let file = std::fs::File::open(format!("/run/netns/{ns}")).expect("namespace file");
    std::thread::spawn(move || {
        // Only this thread enters the namespace.
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        make()
    })
    .join()
    .expect("namespace thread")
}

/// The provider's IPv6 address, once [`Lab::add_ipv6`] gave it.
pub const PROVIDER6: &str = "fd77::1";
/// The phone adapter's IPv6 address, once [`Lab::add_ipv6`] gave it.
pub const PHONE6: &str = "fd77::2";

impl Lab {
    /// Gives the provider and the phone IPv6 addresses ([`PROVIDER6`], [`PHONE6`]), usable at
    /// once (no duplicate address detection).
    pub fn add_ipv6(&self) {
        for (which, dev, ip) in [("prov", "p0", PROVIDER6), ("phone", "h0", PHONE6)] {
            let address = format!("{ip}/64");
            self.in_ns(which, &["ip", "addr", "add", &address, "dev", dev, "nodad"]);
        }
    }

    /// Runs `make` on a thread inside one of the lab's namespaces and returns what it made:
    /// a socket made there stays in that namespace (raw and packet sockets too).
    pub fn made_in<T: Send + 'static>(
        &self,
        which: &str,
        make: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        in_namespace(&self.ns(which), make)
    }
}

impl Lab {
    /// Runs a command in a namespace that may fail: whether it succeeded, and its standard
    /// output.
    pub fn try_in_ns(&self, which: &str, command: &[&str]) -> (bool, String) {
        let output = Command::new("ip")
            .args(["netns", "exec", &self.ns(which)])
            .args(command)
            .output()
            .expect("run ip netns exec");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }
}

impl Lab {
    /// Waits up to `limit` for the agent to exit by itself; `None` while it still runs.
    pub fn agent_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let child = self.agent.as_mut().expect("an agent");
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.agent = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `node tests/browser/<script>` (playwright-core driving chromium) in the bridge
    /// namespace, the console's address in `CONSOLE_URL`, its output piped; add settings,
    /// then spawn it.
    pub fn browser(&self, script: &str) -> Command {
        let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
        assert!(
            browser_dir.join("node_modules/playwright-core").exists(),
            "playwright-core is missing: run `npm ci` in {} (CI does)",
            browser_dir.display()
        );
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns("br"), "node"])
            .arg(browser_dir.join(script))
            .env("CONSOLE_URL", "http://127.0.0.1:8080")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}
