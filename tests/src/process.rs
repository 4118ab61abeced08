//! Child processes as the tests run them: a command that must succeed, and what it printed.

use std::process::{Command, Output};

/// Runs `command` to its end and returns its output; panics with the command and what it
/// wrote to stderr when it cannot start (a tool not installed) or ends in failure.
pub fn succeeded(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?} (is it installed?): {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What `command` printed on stdout, once it has succeeded (see [`succeeded`]).
pub fn stdout_of(command: &mut Command) -> String {
    String::from_utf8_lossy(&succeeded(command).stdout).into_owned()
}
