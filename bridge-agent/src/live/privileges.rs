//! Dropping root after the queue and sockets are open: the data directory changes hands,
//! and only the capabilities the queue thread needs are kept.

use std::path::Path;

use anyhow::{bail, Context};

use crate::store::owner_only;

/// Gives the data directory to `user` (never following a link out of it: see
/// [`owner_only::give`]), then becomes that user (group first), keeping only `CAP_NET_ADMIN`
/// (the kernel checks it on every verdict sent to the queue) and `CAP_SYS_NICE` (the queue
/// thread's real-time priority).
pub(super) fn drop_privileges(user: &str, data_dir: &Path) -> anyhow::Result<()> {
    use caps::{CapSet, Capability, CapsHashSet};
    use nix::unistd::{setgid, setgroups, setuid, User};
    let Some(account) = User::from_name(user).context("cannot look up the user")? else {
        bail!("user: there is no user `{user}` (create it, or remove `user` from the config)");
    };
    owner_only::give(data_dir, account.uid.as_raw(), account.gid.as_raw())
        .with_context(|| format!("cannot give the data directory to {user}"))?;
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
