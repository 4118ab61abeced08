//! The data directory is private (DESIGN, "Security"): the database holds the console's
//! password hash and the announcement secret, the recordings are private conversations. The
//! directory is kept at 0700 and the database with its WAL and shared-memory files at 0600,
//! whatever the umask; one that an older Ringside, or a hand, left open is tightened (with a
//! warning) when the store opens it. The agent gives the directory to its own user before it
//! drops root ([`give`]).

use std::fs::{self, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{chown, lchown, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use walkdir::WalkDir;

/// Mode of the data directory and every folder under it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file in it.
pub const FILE_MODE: u32 = 0o600;
/// The permission bits of the group and of others: none may be set.
const GROUP_AND_OTHERS: u32 = 0o077;

/// Tightens `data_dir` and the database files in it, and creates the database file
/// owner-only if it does not exist yet (`SQLite` gives its WAL and shared-memory files the
/// database file's mode).
pub fn secure(data_dir: &Path, db_file: &str) -> io::Result<()> {
    tighten_or_warn(data_dir, DIR_MODE);
    let db = data_dir.join(db_file);
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&db)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        tighten_or_warn(&data_dir.join(format!("{db_file}{suffix}")), FILE_MODE);
    }
    Ok(())
}

/// [`tighten`], saying so if it cannot (someone else's folder, say): reading and writing
/// go on, the warning tells the owner what to fix.
fn tighten_or_warn(path: &Path, mode: u32) {
    match tighten(path, mode) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(
            "{} is open to other users and cannot be made private ({e}): chmod {mode:o} it",
            path.display()
        ),
    }
}

/// Sets `path` (not followed if a symlink) to `mode` if others or its group may use it.
/// Returns whether it changed.
pub fn tighten(path: &Path, mode: u32) -> io::Result<bool> {
    let metadata = fs::symlink_metadata(path)?;
    if metadata.file_type().is_symlink() || metadata.permissions().mode() & GROUP_AND_OTHERS == 0 {
        return Ok(false);
    }
    fs::set_permissions(path, Permissions::from_mode(mode))?;
    tracing::warn!(
        "{} was open to other users (mode {:o}); now {mode:o}",
        path.display(),
        metadata.permissions().mode() & 0o777
    );
    Ok(true)
}

/// Gives `data_dir` and everything under it to `uid`:`gid`. Symbolic links under it are given
/// themselves, never followed: a link planted in the directory must not hand its target (say
/// `/etc/shadow`) to the agent's user. Entries that vanish during the walk are passed over.
pub fn give(data_dir: &Path, uid: u32, gid: u32) -> io::Result<()> {
    for entry in WalkDir::new(data_dir).into_iter().filter_map(Result::ok) {
        // The directory itself is what the configuration names, link or not.
        let given = if entry.depth() == 0 {
            chown(entry.path(), Some(uid), Some(gid))
        } else {
            lchown(entry.path(), Some(uid), Some(gid))
        };
        given.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", entry.path().display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn an_open_data_directory_and_database_are_tightened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        fs::create_dir(&data).expect("dir");
        fs::set_permissions(&data, Permissions::from_mode(0o755)).expect("chmod");
        fs::write(data.join("ringside.db-wal"), b"").expect("wal");
        fs::set_permissions(data.join("ringside.db-wal"), Permissions::from_mode(0o644))
            .expect("chmod");
        secure(&data, "ringside.db").expect("secure");
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("ringside.db")), 0o600, "created owner-only");
        assert_eq!(mode(&data.join("ringside.db-wal")), 0o600);
        assert!(!tighten(&data, DIR_MODE).expect("again"), "already private");
    }

    /// The bug: the walk that gave the data directory to the agent's user (as root, before
    /// dropping it) read linked directories and chowned through links, so a link planted in
    /// the directory handed its target to that user at the next start.
    #[test]
    fn giving_the_data_directory_never_follows_a_link_out_of_it() {
        use std::os::unix::fs::MetadataExt;
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test changes owners: run it as root (CI does)"
        );
        let outside = tempfile::tempdir().expect("tempdir");
        let secret = outside.path().join("shadow");
        fs::write(&secret, b"x").expect("file");
        fs::create_dir(outside.path().join("etc")).expect("dir");
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("recordings/2026")).expect("dirs");
        fs::write(dir.path().join("recordings/2026/a.wav"), b"").expect("file");
        std::os::unix::fs::symlink(&secret, dir.path().join("recordings/db.wav")).expect("link");
        std::os::unix::fs::symlink(outside.path().join("etc"), dir.path().join("etc"))
            .expect("link");
        give(dir.path(), 65_534, 65_533).expect("give");
        for given in [
            "",
            "recordings/2026",
            "recordings/2026/a.wav",
            "recordings/db.wav",
            "etc",
        ] {
            let meta = fs::symlink_metadata(dir.path().join(given)).expect("metadata");
            assert_eq!((meta.uid(), meta.gid()), (65_534, 65_533), "{given:?}");
        }
        for untouched in [&secret, &outside.path().join("etc")] {
            let meta = fs::metadata(untouched).expect("metadata");
            assert_eq!(meta.uid(), 0, "{} was given away", untouched.display());
        }
    }
}
