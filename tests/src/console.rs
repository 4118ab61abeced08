//! `ringside console` as the end-to-end tests start it: on a port the kernel picks
//! (`--http 127.0.0.1:0`), read back from the line the console prints once it listens. No
//! test finds a free port by binding and dropping a socket, so no other process can take the
//! port between the test's choice and the console's bind.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::lab::ringside_binary;

/// A running `ringside console`, stopped when dropped.
pub struct Console {
    child: Child,
    /// Where it listens (loopback, the port the kernel gave it).
    pub address: SocketAddr,
    /// Its standard output, kept open so that a later line does not meet a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Console {
    /// Starts `ringside console` over `data_dir` on loopback; it accepts connections as soon
    /// as this returns (the line it reads is printed after the bind).
    pub fn start(data_dir: &Path) -> Console {
        let mut child = Command::new(ringside_binary())
            .args(["console", "--http", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the console");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the console's first line");
        let address = listening_address(&line)
            .unwrap_or_else(|| panic!("not the line of a console that listens: {line:?}"));
        Console {
            child,
            address,
            _stdout: stdout,
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in `console on http://ADDRESS/ (...)`, the first line the console prints.
pub fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("console on http://")?;
    rest.split_once('/')?.0.parse().ok()
}
