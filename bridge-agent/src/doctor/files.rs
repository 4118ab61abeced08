//! `ringside doctor`'s checks of what lives on disk: the data directory's permissions, the
//! database, the free space against `min_free_megabytes`, and who can reach the console.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{DoctorOptions, Finding, Level};
use crate::store::{Setting, Store, DB_FILE};

pub(super) fn data_directory(options: &DoctorOptions) -> Vec<Finding> {
    let Some(dir) = &options.data_dir else {
        return vec![Finding::new(
            Level::Warning,
            "data directory",
            "not known: give --data-dir (or --config with `data_dir`) to check it",
        )];
    };
    let what = format!("data directory {}", dir.display());
    if !dir.is_dir() {
        let detail = "missing: `ringside run` creates it; check `data_dir` in the config";
        return vec![Finding::new(Level::Problem, what, detail)];
    }
    let mut findings = vec![permissions(what, dir)];
    let store = if dir.join(DB_FILE).exists() {
        Store::open(dir).map_err(|e| format!("{e}"))
    } else {
        Err("there is none yet (`ringside run` creates it)".to_owned())
    };
    match &store {
        Ok(_) => findings.push(Finding::new(Level::Ok, "database", "opens")),
        Err(error) => findings.push(Finding::new(
            Level::Problem,
            "database",
            format!("cannot be opened: {error}"),
        )),
    }
    let store = store.ok();
    findings.push(free_space(dir, store.as_ref()));
    findings.push(console(options.config.http, store.as_ref()));
    findings
}

/// How many entries at most are looked at under the data directory (it can hold years of
/// recordings; a sample is enough to tell).
const MAX_ENTRIES: usize = 100_000;

fn permissions(what: String, dir: &Path) -> Finding {
    // Links are looked at, not followed (a link's own mode is open to all, and reported).
    let walk = WalkDir::new(dir).follow_root_links(false).into_iter();
    let open: Vec<PathBuf> = walk
        .filter_map(Result::ok)
        .take(MAX_ENTRIES)
        .filter(|entry| {
            entry
                .metadata()
                .is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0)
        })
        .map(walkdir::DirEntry::into_path)
        .collect();
    if open.is_empty() {
        return Finding::new(Level::Ok, what, "owner-only (0700 directories, 0600 files)");
    }
    let detail = format!(
        "{} entries open to other users (the first: {}); recordings are private \
         conversations and the database holds the password hash: `chmod -R go-rwx {}`",
        open.len(),
        open[0].display(),
        dir.display()
    );
    Finding::new(Level::Problem, what, detail)
}

fn free_space(dir: &Path, store: Option<&Store>) -> Finding {
    let floor_mb = store
        .and_then(|s| s.setting(Setting::MinFreeMegabytes).ok())
        .map_or(0, |value| Setting::number(&value));
    let Ok(stat) = nix::sys::statvfs::statvfs(dir) else {
        return Finding::new(Level::Warning, "free space", "cannot be read");
    };
    let free_mb = stat.blocks_available().saturating_mul(stat.fragment_size()) / 1_000_000;
    free_space_finding(free_mb, floor_mb)
}

fn free_space_finding(free_mb: u64, floor_mb: u64) -> Finding {
    let state = format!("{free_mb} MB free, min_free_megabytes is {floor_mb}");
    let (level, advice) = if free_mb < floor_mb {
        (
            Level::Problem,
            ": calls are not recorded; free space or lower the retention caps",
        )
    } else if free_mb < floor_mb.saturating_mul(2) {
        (
            Level::Warning,
            ": recording stops soon; free space or lower the retention caps",
        )
    } else {
        (Level::Ok, "")
    };
    Finding::new(level, "free space", format!("{state}{advice}"))
}

fn console(http: std::net::SocketAddr, store: Option<&Store>) -> Finding {
    let what = format!("console on {http}");
    let password = store.and_then(|s| s.console_password_hash().ok().map(|h| h.is_some()));
    console_finding(what, http.ip().is_loopback(), password)
}

/// `password` is `None` when the database could not tell.
fn console_finding(what: String, loopback: bool, password: Option<bool>) -> Finding {
    let Some(password) = password else {
        return Finding::new(
            Level::Warning,
            what,
            "whether a password is set is unknown (the database did not open)",
        );
    };
    match (loopback, password) {
        (_, true) => Finding::new(
            Level::Ok,
            what,
            "a password is set: every page needs a login",
        ),
        (true, false) => Finding::new(
            Level::Ok,
            what,
            "loopback only, no password (reach it over an SSH tunnel, or set one with \
             `ringside console-password set`)",
        ),
        (false, false) => Finding::new(
            Level::Problem,
            what,
            "not loopback and no password: the agent refuses to start so; set one with \
             `ringside console-password set`, or listen on 127.0.0.1",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_judged_against_the_floor() {
        assert_eq!(free_space_finding(5000, 100).level, Level::Ok);
        assert_eq!(free_space_finding(150, 100).level, Level::Warning);
        assert_eq!(free_space_finding(50, 100).level, Level::Problem);
        assert_eq!(free_space_finding(0, 0).level, Level::Ok);
    }

    #[test]
    fn the_console_needs_a_password_or_loopback() {
        let level = |loopback, password| console_finding(String::new(), loopback, password).level;
        assert_eq!(level(true, Some(false)), Level::Ok);
        assert_eq!(level(false, Some(true)), Level::Ok);
        assert_eq!(level(false, Some(false)), Level::Problem);
        assert_eq!(level(false, None), Level::Warning);
    }

    #[test]
    fn a_data_directory_open_to_others_is_a_problem_and_owner_only_is_ok() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let file = data.join("ringside.db");
        std::fs::write(&file, b"").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(permissions(String::new(), &data).level, Level::Ok);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let finding = permissions(String::new(), &data);
        assert_eq!(finding.level, Level::Problem);
        assert!(finding.detail.contains("ringside.db"), "{finding}");
    }
}
