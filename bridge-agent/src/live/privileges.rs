//! Dropping root after the queue and sockets are open: the data directory changes hands,
//! and only the capabilities the queue thread needs are kept.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Gives the data directory to `user`, then becomes that user (group first), keeping only
/// `CAP_NET_ADMIN` (the kernel checks it on every verdict sent to the queue) and
/// `CAP_SYS_NICE` (the queue thread's real-time priority).
pub(super) fn drop_privileges(user: &str, data_dir: &Path) -> anyhow::Result<()> {
    use caps::{CapSet, Capability, CapsHashSet};
    use nix::unistd::{chown, setgid, setgroups, setuid, User};
    let Some(account) = User::from_name(user).context("cannot look up the user")? else {
        bail!("user: there is no user `{user}` (create it, or remove `user` from the config)");
    };
    for entry in walk(data_dir) {
        chown(&entry, Some(account.uid), Some(account.gid))
            .with_context(|| format!("cannot give {} to {user}", entry.display()))?;
    }
    nix::sys::prctl::set_keepcaps(true).context("cannot keep capabilities")?;
    setgroups(&[account.gid]).context("cannot drop supplementary groups")?;
    setgid(account.gid).context("cannot change group")?;
    setuid(account.uid).context("cannot change user")?;
    let keep: CapsHashSet = [Capability::CAP_NET_ADMIN, Capability::CAP_SYS_NICE]
        .into_iter()
        .collect();
    for set in [CapSet::Effective, CapSet::Permitted] {
        caps::set(None, set, &keep).context("cannot keep CAP_NET_ADMIN")?;
    }
    caps::clear(None, CapSet::Inheritable).context("cannot clear capabilities")?;
    tracing::info!("running as {user}, with CAP_NET_ADMIN and CAP_SYS_NICE only");
    Ok(())
}

/// A directory and everything under it.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_owned()];
    let mut index = 0;
    while index < found.len() {
        if let Ok(entries) = std::fs::read_dir(&found[index]) {
            found.extend(entries.flatten().map(|e| e.path()));
        }
        index += 1;
    }
    found
}
