//! What the commands print on standard output. A reader that goes away early
//! (`ringside calls | head`) ends the command quietly and successfully, as a closed pipe ends
//! any Unix tool: Rust ignores `SIGPIPE`, so `println!` would panic there instead, and
//! restoring the signal takes `unsafe` code, which the workspace forbids.

use std::fmt;
use std::io::{self, Write};

/// Prints a line on standard output ([`write`] with a newline).
macro_rules! say {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use say;

/// Writes `text` on standard output. When the reader has gone away, the process ends with
/// status 0; when the output cannot be written for another reason, it ends with status 1
/// and says why on standard error.
pub fn write(text: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(error) = out.write_fmt(text).and_then(|()| out.flush()) {
        if error.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(io::stderr(), "ringside: cannot write the output: {error}");
        std::process::exit(1);
    }
}
