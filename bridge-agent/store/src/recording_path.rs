//! Which stored recording paths may be read or deleted: a path in the call log is data, and
//! data can be forged (a database edited by hand, restored from elsewhere, or written by a
//! bug). Only a WAV (or the raw-RTP pcap beside it) under `recordings/`, reached through
//! real folders with no symbolic link on the way, is ever opened; anything else is refused
//! with the reason, so that the console cannot be made to serve `ringside.db` or
//! `/etc/passwd` and retention cannot be made to delete them. [`free_bytes`] is how much
//! room the recordings have, for the agent and the console alike.

use std::path::{Path, PathBuf};

/// The folder of the recordings inside the data directory.
pub const RECORDINGS_DIR: &str = "recordings";

/// Why a stored recording path was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnsafePath {
    /// Not `recordings/…/<name>.wav` (or `.pcap`) in plain components.
    #[error("{0:?} is not a recording under {RECORDINGS_DIR}/")]
    Outside(String),
    /// A folder on the way, or the file itself, is a symbolic link or not what it should be.
    #[error("{0:?} passes through a symbolic link or something that is not a plain file")]
    NotPlain(String),
    /// The file is not there.
    #[error("{0:?} is missing")]
    Missing(String),
}

/// The full path of a stored recording path `relative`, checked: a `.wav` or `.pcap` under
/// `recordings/`, plain components only (no `..`, no root, no `.`, no empty one), every folder on the way
/// a real folder and the file a regular file, none of them a symbolic link.
pub fn checked(data_dir: &Path, relative: &str) -> Result<PathBuf, UnsafePath> {
    let outside = || UnsafePath::Outside(relative.to_owned());
    let segments: Vec<&str> = relative.split('/').collect();
    // Checked on the text: `Path::components` would quietly drop a `.` or a doubled `/`.
    let plain = segments
        .iter()
        .all(|s| !matches!(*s, "" | "." | "..") && !s.contains('\0'));
    let extension = Path::new(relative).extension().and_then(|e| e.to_str());
    if !plain
        || segments.len() < 2
        || segments[0] != RECORDINGS_DIR
        || !matches!(extension, Some("wav" | "pcap"))
    {
        return Err(outside());
    }
    let mut at = data_dir.to_owned();
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        at.push(segment);
        let metadata = std::fs::symlink_metadata(&at).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                UnsafePath::Missing(relative.to_owned())
            } else {
                UnsafePath::NotPlain(relative.to_owned())
            }
        })?;
        let kind = metadata.file_type();
        let expected = if index == last {
            kind.is_file()
        } else {
            kind.is_dir()
        };
        if !expected {
            return Err(UnsafePath::NotPlain(relative.to_owned()));
        }
    }
    Ok(at)
}

/// Free space for unprivileged writes on the file system of `dir`, the measure of the
/// free-space floor (all of it when it cannot be known).
#[must_use]
pub fn free_bytes(dir: &Path) -> u64 {
    nix::sys::statvfs::statvfs(dir).map_or(u64::MAX, |s| {
        s.blocks_available().saturating_mul(s.fragment_size())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn only_plain_recordings_under_recordings_pass() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path();
        std::fs::create_dir_all(data.join("recordings/2026/11")).expect("dirs");
        std::fs::write(data.join("recordings/2026/11/a.wav"), b"RIFF").expect("wav");
        std::fs::write(data.join("ringside.db"), b"secret").expect("db");
        symlink("/etc/passwd", data.join("recordings/2026/11/passwd.wav")).expect("link");
        symlink(data.join("ringside.db"), data.join("recordings/db.wav")).expect("link");
        symlink(data.join("recordings/2026"), data.join("recordings/linked")).expect("link");
        assert_eq!(
            checked(data, "recordings/2026/11/a.wav"),
            Ok(data.join("recordings/2026/11/a.wav"))
        );
        for outside in [
            "ringside.db",
            "../x.wav",
            "recordings/../ringside.db",
            "recordings/./2026/11/a.wav",
            "recordings//2026/11/a.wav",
            "/etc/passwd",
            "recordings/2026/11/a.txt",
            "recordings",
            "",
        ] {
            assert_eq!(
                checked(data, outside),
                Err(UnsafePath::Outside(outside.to_owned()))
            );
        }
        for linked in [
            "recordings/2026/11/passwd.wav",
            "recordings/db.wav",
            "recordings/linked/11/a.wav",
        ] {
            assert_eq!(
                checked(data, linked),
                Err(UnsafePath::NotPlain(linked.to_owned()))
            );
        }
        assert_eq!(
            checked(data, "recordings/2026/11/b.wav"),
            Err(UnsafePath::Missing("recordings/2026/11/b.wav".to_owned()))
        );
    }
}
