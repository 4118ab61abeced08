//! A real `ringside console` in the bridge namespace of the live lab, reached from the
//! provider's namespace as a LAN host would: a password removed while it runs shuts the LAN
//! out at the next request (`Host: localhost` or not) while loopback is still served, and a
//! storm of parallel wrong logins gets at most five checks per source with the process's
//! peak memory bounded.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Child, Command, Stdio};

use bridge_agent::store::Store;
use ringside_e2e::lab::{http_in_namespace, ringside_binary, Lab, BRIDGE, PROVIDER};

const PASSWORD: &str = "correct horse battery";
/// Argon2id's memory per password check (the `argon2` crate's default, m = 19456 KiB).
const CHECK_KIB: u64 = 19_456;
/// Checks running at once in the console (`web_console::limiter::CHECKS_IN_FLIGHT`).
const CHECKS_IN_FLIGHT: u64 = 2;

/// `ringside console` running in the lab's bridge namespace; killed when dropped.
struct Console {
    child: Child,
}

impl Console {
    /// Starts it on `http` and waits until it listens. A fixed port cannot race here: the
    /// console binds inside the lab's own bridge namespace, where nothing else listens.
    fn start(lab: &Lab, http: &str) -> Console {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &lab.ns("br")])
            .arg(ringside_binary())
            .args(["console", "--http", http, "--data-dir"])
            .arg(lab.data_dir())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start ringside console");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        assert!(line.starts_with("console on http://"), "{line:?}");
        Console { child }
    }

    /// A figure (KiB) from the process's `/proc/<pid>/status` (`ip netns exec` execs it).
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the console runs");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_password(lab: &Lab, password: &str) {
    let mut child = Command::new(ringside_binary())
        .args(["console-password", "set", "--data-dir"])
        .arg(lab.data_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("ringside console-password set");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("password");
    drop(stdin);
    assert!(child.wait().expect("wait").success());
}

/// An HTTP/1.1 request that closes its connection, with the CSRF header.
fn request(method: &str, path: &str, host: &str, cookie: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nX-Ringside: 1\r\n\
         Cookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response:?}"))
}

fn login_request(password: &str) -> String {
    let body = serde_json::json!({ "password": password }).to_string();
    request("POST", "/api/login", BRIDGE, "", &body)
}

fn bridge_port(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(BRIDGE.parse().expect("address"), port)
}

#[test]
fn lab_console_password_removed_while_running_shuts_the_lan_out_and_loopback_stays() {
    let lab = Lab::new();
    set_password(&lab, PASSWORD);
    let _console = Console::start(&lab, "0.0.0.0:8080");
    let prov = lab.ns("prov");
    let lan = |request: &str| http_in_namespace(&prov, None, bridge_port(8080), request);
    let login = lan(&login_request(PASSWORD));
    assert_eq!(status(&login), 204, "{login}");
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let calls = lan(&request("GET", "/api/calls", "10.77.0.3:8080", &cookie, ""));
    assert_eq!(
        status(&calls),
        200,
        "with a password the LAN is served: {calls}"
    );

    lab.ringside(&["console-password", "remove"]);
    for host in ["localhost", "127.0.0.1:8080", "10.77.0.3:8080"] {
        for path in ["/api/calls", "/api/filters", "/api/calls/1/recording"] {
            let refused = lan(&request("GET", path, host, &cookie, ""));
            assert_eq!(status(&refused), 403, "{path}, Host {host}: {refused}");
            assert!(refused.contains("console-password set"), "{refused}");
        }
    }
    let block_all = r#"{"pattern":"*","field":"number","action":"block"}"#;
    let forged = lan(&request("POST", "/api/filters", "localhost", "", block_all));
    assert_eq!(status(&forged), 403, "{forged}");
    let store = Store::open(&lab.data_dir()).expect("store");
    assert!(
        store.filters().expect("filters").is_empty(),
        "no filter added"
    );
    let page = lan(&request("GET", "/", "localhost", "", ""));
    assert_eq!(status(&page), 403);
    assert!(
        page.contains("text/html") && page.contains("SSH tunnel"),
        "{page}"
    );

    let loopback = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080);
    let local = http_in_namespace(
        &lab.ns("br"),
        None,
        loopback,
        &request("GET", "/api/calls", "127.0.0.1:8080", "", ""),
    );
    assert_eq!(status(&local), 200, "loopback is still served: {local}");
}

/// `count` wrong logins at once from the provider's namespace, from `sources` in turn; the
/// statuses.
fn storm(lab: &Lab, sources: &[Ipv4Addr], count: usize) -> Vec<u16> {
    let prov = lab.ns("prov");
    let start = std::sync::Arc::new(std::sync::Barrier::new(count));
    let logins: Vec<_> = (0..count)
        .map(|i| {
            let (prov, start, from) = (prov.clone(), start.clone(), sources[i % sources.len()]);
            std::thread::spawn(move || {
                start.wait();
                let wrong = login_request(&format!("guess {i}"));
                status(&http_in_namespace(
                    &prov,
                    Some(from),
                    bridge_port(8080),
                    &wrong,
                ))
            })
        })
        .collect();
    logins
        .into_iter()
        .map(|t| t.join().expect("login"))
        .collect()
}

#[test]
fn lab_console_sixty_parallel_wrong_logins_get_five_checks_and_memory_stays_bounded() {
    let lab = Lab::new();
    let extra: Vec<Ipv4Addr> = (11..23).map(|i| Ipv4Addr::new(10, 77, 0, i)).collect();
    for address in &extra {
        lab.in_ns(
            "prov",
            &["ip", "addr", "add", &format!("{address}/24"), "dev", "p0"],
        );
    }
    set_password(&lab, PASSWORD);
    let console = Console::start(&lab, &format!("{BRIDGE}:8080"));
    let page = http_in_namespace(
        &lab.ns("prov"),
        None,
        bridge_port(8080),
        &request("GET", "/login", BRIDGE, "", ""),
    );
    assert_eq!(status(&page), 200);
    let idle_kib = console.status_kib("VmHWM");

    let one_source = storm(&lab, &[PROVIDER.parse().expect("address")], 60);
    let checked = one_source.iter().filter(|s| **s == 401).count();
    assert!((1..=5).contains(&checked), "{one_source:?}");
    assert_eq!(
        one_source.iter().filter(|s| **s == 429).count(),
        60 - checked
    );
    // Twelve more sources, five logins each, all at once, three times: every source may be
    // checked, but never more than two checks run together.
    let mut checked_more = 0;
    for _ in 0..3 {
        let many = storm(&lab, &extra, 60);
        assert!(many.iter().all(|s| [401, 429].contains(s)), "{many:?}");
        checked_more += many.iter().filter(|s| **s == 401).count();
    }
    assert!(
        (3..=extra.len() * 5).contains(&checked_more),
        "{checked_more} more checks"
    );
    let peak_kib = console.status_kib("VmHWM");
    // The checks' working memory (kept and reused, see web_console::password), and one more
    // check's worth for threads (at most eight for blocking work), connections and the
    // allocator. Measured: idle ~17 MiB, peak ~60 MiB; with each check allocating afresh the
    // peak was ~200 MiB, and with sixty checks at once (before the limiter) ~1.1 GiB.
    let bound_kib = idle_kib + (CHECKS_IN_FLIGHT + 1) * CHECK_KIB;
    eprintln!("console VmHWM: idle {idle_kib} KiB, after the storms {peak_kib} KiB");
    assert!(
        peak_kib <= bound_kib,
        "peak {peak_kib} KiB over {bound_kib} KiB"
    );
}
