//! Retention (DESIGN, "Storage"): recordings older than the age cap, and the oldest ones
//! beyond the size cap, are deleted; the calls stay in the log. The sink thread runs a sweep
//! every few minutes with the caps the settings hold. Only files that
//! [`recording_path::checked`] passes are deleted: a forged path in the log is forgotten.

use std::path::Path;

use ringside_core::Timestamp;
use time::OffsetDateTime;

use crate::store::recording_path::{self, UnsafePath};
use crate::store::{Setting, Store, StoreError};
use crate::timefmt::utc;

/// A recording on disk, oldest first in the lists this module takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The call's row id.
    pub id: i64,
    /// When the call started.
    pub started_at: OffsetDateTime,
    /// The file's size.
    pub bytes: u64,
}

/// Which recordings go: those started before `cutoff`, then the oldest until the rest fit
/// in `max_bytes`.
#[must_use]
pub fn plan(
    recordings: &[Recorded],
    cutoff: Option<OffsetDateTime>,
    max_bytes: Option<u64>,
) -> Vec<i64> {
    let mut doomed = Vec::new();
    let mut total: u64 = recordings.iter().map(|r| r.bytes).sum();
    for recording in recordings {
        let too_old = cutoff.is_some_and(|c| recording.started_at < c);
        let too_big = max_bytes.is_some_and(|max| total > max);
        if too_old || too_big {
            doomed.push(recording.id);
            total -= recording.bytes;
        }
    }
    doomed
}

/// Applies the caps of the settings at `now`: deletes files, forgets them in the log.
/// Returns how many recordings went.
pub fn sweep(store: &Store, data_dir: &Path, now: Timestamp) -> Result<usize, StoreError> {
    let days = Setting::number(&store.setting(Setting::RetentionDays)?);
    let megabytes = Setting::number(&store.setting(Setting::RetentionMegabytes)?);
    if days == 0 && megabytes == 0 {
        return Ok(0);
    }
    let cutoff = (days > 0).then(|| {
        let age = days.saturating_mul(86_400_000_000);
        utc(Timestamp(now.as_micros().saturating_sub(age)))
    });
    let recordings: Vec<(Recorded, String)> = store
        .recordings()?
        .into_iter()
        .map(|(id, started_at, relative)| {
            let bytes = std::fs::symlink_metadata(data_dir.join(&relative)).map_or(0, |m| m.len());
            (
                Recorded {
                    id,
                    started_at,
                    bytes,
                },
                relative,
            )
        })
        .collect();
    let list: Vec<Recorded> = recordings.iter().map(|(r, _)| r.clone()).collect();
    let doomed = plan(
        &list,
        cutoff,
        (megabytes > 0).then(|| megabytes.saturating_mul(1_000_000)),
    );
    for (recording, relative) in &recordings {
        if !doomed.contains(&recording.id) {
            continue;
        }
        match recording_path::checked(data_dir, relative).map(std::fs::remove_file) {
            Ok(Ok(())) | Err(UnsafePath::Missing(_)) => {}
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(Err(e)) => {
                tracing::warn!("retention: cannot delete {relative}: {e}");
                continue;
            }
            // Forgotten, never deleted: the path in the log was not a recording.
            Err(refused) => tracing::warn!("retention: call {}: {refused}", recording.id),
        }
        store.clear_recording(recording.id)?;
    }
    if !doomed.is_empty() {
        tracing::info!("retention: deleted {} old recordings", doomed.len());
    }
    Ok(doomed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::inbound_call;
    use crate::store::NewCall;

    /// Logs a call of 2026-11-`day` whose recording is `relative`.
    fn insert_recorded(store: &mut Store, day: u32, relative: &str) -> i64 {
        let at = format!("2026-11-{day:02}T10:00:00.000000Z");
        let id = store
            .insert_call(&NewCall {
                call_id: relative,
                ..inbound_call("1", None, &at)
            })
            .expect("call");
        store.set_recording(id, relative).expect("recording");
        id
    }

    const NOV_22: Timestamp = Timestamp(1_795_521_600_000_000);

    #[test]
    fn a_sweep_deletes_files_by_age_and_keeps_the_calls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("store");
        std::fs::create_dir_all(dir.path().join("recordings")).expect("dir");
        for (day, name) in [(1, "a"), (20, "b")] {
            let relative = format!("recordings/{name}.wav");
            std::fs::write(dir.path().join(&relative), [0u8; 100]).expect("file");
            insert_recorded(&mut store, day, &relative);
        }
        assert_eq!(
            sweep(&store, dir.path(), NOV_22).expect("sweep"),
            0,
            "no caps set"
        );
        store
            .set_setting(Setting::RetentionDays, "14")
            .expect("setting");
        assert_eq!(sweep(&store, dir.path(), NOV_22).expect("sweep"), 1);
        assert!(!dir.path().join("recordings/a.wav").exists());
        assert!(dir.path().join("recordings/b.wav").exists());
        assert_eq!(
            store.calls(10, 0).expect("calls").len(),
            2,
            "the calls stay"
        );
    }

    #[test]
    fn a_sweep_never_deletes_what_a_forged_recording_path_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("store");
        std::fs::create_dir_all(dir.path().join("recordings")).expect("dir");
        let link = dir.path().join("recordings/db.wav");
        std::os::unix::fs::symlink(dir.path().join("ringside.db"), &link).expect("link");
        let ids = [
            insert_recorded(&mut store, 1, "ringside.db"),
            insert_recorded(&mut store, 1, "recordings/db.wav"),
        ];
        store
            .set_setting(Setting::RetentionDays, "14")
            .expect("setting");
        assert_eq!(sweep(&store, dir.path(), NOV_22).expect("sweep"), 2);
        assert!(dir.path().join("ringside.db").exists());
        assert!(
            std::fs::symlink_metadata(&link).is_ok(),
            "not even the link"
        );
        for id in ids {
            let call = store.call(id).expect("query").expect("call");
            assert_eq!(call.recording, None, "forgotten");
        }
    }

    /// Midnight (UTC) starting 2026-11-`day`.
    fn november(day: u8) -> OffsetDateTime {
        time::macros::datetime!(2026-11-01 0:00 UTC)
            .replace_day(day)
            .expect("a day of November")
    }

    fn recorded(id: i64, day: u8, bytes: u64) -> Recorded {
        Recorded {
            id,
            started_at: november(day).replace_hour(10).expect("an hour"),
            bytes,
        }
    }

    #[test]
    fn old_recordings_go_first_then_the_oldest_until_the_rest_fit() {
        let list = [
            recorded(1, 1, 100),
            recorded(2, 5, 100),
            recorded(3, 9, 100),
            recorded(4, 10, 100),
        ];
        assert_eq!(plan(&list, Some(november(6)), None), [1, 2]);
        assert_eq!(plan(&list, None, Some(250)), [1, 2]);
        assert_eq!(plan(&list, Some(november(2)), Some(150)), [1, 2, 3]);
        assert!(plan(&list, None, None).is_empty());
        assert!(
            plan(&list, None, Some(400)).is_empty(),
            "exactly at the cap stays"
        );
    }
}
