//! Reading the call log: newest first, searched by number or name, filtered by direction,
//! disposition and date, in pages.

use ringside_core::call::{CallDirection, Disposition};
use ringside_core::call_view::{CallView, Party};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::{timefmt, CallRecord, Store, StoreError};

/// Which calls to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallQuery {
    /// Part of the number, the signalled name or the phonebook name (case-insensitive).
    pub search: Option<String>,
    /// Only calls that went this way.
    pub direction: Option<CallDirection>,
    /// Only calls that ended so.
    pub disposition: Option<Disposition>,
    /// Calls started at or after this RFC 3339 time (or date).
    pub since: Option<String>,
    /// Calls started before this RFC 3339 time (or date).
    pub until: Option<String>,
    /// At most this many.
    pub limit: i64,
    /// After skipping this many.
    pub offset: i64,
}

const COLUMNS: &str =
    "SELECT c.id, c.call_id, c.direction, c.number, c.name, COALESCE(p.user_name, c.name),
        c.presentation, c.caller_id_source, c.caller_id_header, c.started_at, c.answered_at,
        c.ended_at, c.disposition, c.recording, c.raw_rtp, c.codec, c.quality,
        c.blocked_by_filter, c.blocked_by, c.gaps_skipped, c.recording_stopped, c.answered_by,
        c.direction_source
     FROM calls c LEFT JOIN phonebook p ON p.number = c.number";

impl Store {
    /// The call log, newest first.
    pub fn calls(&self, limit: i64, offset: i64) -> Result<Vec<CallRecord>, StoreError> {
        self.search_calls(&CallQuery {
            limit,
            offset,
            ..CallQuery::default()
        })
    }

    /// The calls matching `query`, newest first.
    pub fn search_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        let search = query.search.as_deref().map(|s| {
            format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        let mut statement = self.conn.prepare_cached(&format!(
            "{COLUMNS}
             WHERE (?1 IS NULL OR c.number LIKE ?1 ESCAPE '\\' OR c.name LIKE ?1 ESCAPE '\\'
                    OR p.user_name LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR c.direction = ?2)
               AND (?3 IS NULL OR c.disposition = ?3)
               AND (?4 IS NULL OR c.started_at >= ?4)
               AND (?5 IS NULL OR c.started_at < ?5)
             ORDER BY c.started_at DESC, c.id DESC LIMIT ?6 OFFSET ?7"
        ))?;
        let rows = statement.query_map(
            params![
                search,
                query.direction,
                query.disposition,
                query.since,
                query.until,
                query.limit,
                query.offset
            ],
            call_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every call that has a recording, oldest first: (id, when it started, relative path).
    pub fn recordings(&self) -> Result<Vec<(i64, OffsetDateTime, String)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, started_at, recording FROM calls WHERE recording IS NOT NULL
             ORDER BY started_at, id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get(0)?, timefmt::column(row, 1)?, row.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One call by its id.
    pub fn call(&self, id: i64) -> Result<Option<CallRecord>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!("{COLUMNS} WHERE c.id = ?1"))?;
        Ok(statement.query_row(params![id], call_row).optional()?)
    }
}

fn call_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CallRecord> {
    let quality: Option<String> = row.get(16)?;
    Ok(CallRecord {
        id: row.get(0)?,
        call: CallView {
            call_id: row.get(1)?,
            direction: row.get(2)?,
            direction_source: row.get(22)?,
            party: Party {
                number: row.get(3)?,
                name: row.get(4)?,
                display: row.get(5)?,
                presentation: row.get(6)?,
            },
            started_at: timefmt::column(row, 9)?,
            answered_at: timefmt::optional_column(row, 10)?,
        },
        caller_id_source: row.get(7)?,
        caller_id_header: row.get(8)?,
        ended_at: timefmt::optional_column(row, 11)?,
        disposition: row.get(12)?,
        answered_by: row.get(21)?,
        recording: row.get(13)?,
        raw_rtp: row.get(14)?,
        codec: row.get(15)?,
        quality: quality.and_then(|q| serde_json::from_str(&q).ok()),
        blocked_by_filter: row.get(17)?,
        blocked_by: row.get(18)?,
        gaps_skipped: row.get(19)?,
        recording_stopped: row.get(20)?,
    })
}

#[cfg(test)]
mod tests {
    use ringside_core::rfc3339;

    use super::*;
    use crate::test_support::inbound_call;
    use crate::NewCall;

    fn insert(store: &mut Store, number: &str, name: &str, direction: &str, at: &str) -> i64 {
        store
            .insert_call(&NewCall {
                direction: direction.parse().expect("a direction"),
                ..inbound_call(number, Some(name), at)
            })
            .expect("insert")
    }

    #[test]
    fn search_filters_and_pages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("open");
        let mom = insert(
            &mut store,
            "15550100001",
            "WIRELESS CALLER",
            "inbound",
            "2026-01-01T10:00:00Z",
        );
        insert(
            &mut store,
            "15550100004",
            "Pizza 100%",
            "outbound",
            "2026-01-02T10:00:00Z",
        );
        insert(
            &mut store,
            "15550100003",
            "Dentist",
            "inbound",
            "2026-01-03T10:00:00Z",
        );
        store
            .set_phonebook_name(
                "15550100001",
                "Mom",
                rfc3339::parse("2026-01-01T11:00:00Z").expect("time"),
            )
            .expect("name");
        let numbers = |q: CallQuery| -> Vec<String> {
            store
                .search_calls(&CallQuery { limit: 10, ..q })
                .expect("search")
                .into_iter()
                .filter_map(|c| c.call.party.number)
                .collect()
        };
        assert_eq!(
            numbers(CallQuery {
                search: Some("mom".into()),
                ..CallQuery::default()
            }),
            ["15550100001"]
        );
        assert_eq!(
            numbers(CallQuery {
                search: Some("0100003".into()),
                ..CallQuery::default()
            }),
            ["15550100003"]
        );
        assert_eq!(
            numbers(CallQuery {
                search: Some("100%".into()),
                ..CallQuery::default()
            }),
            ["15550100004"]
        );
        assert_eq!(
            numbers(CallQuery {
                search: Some("_".into()),
                ..CallQuery::default()
            }),
            Vec::<String>::new(),
            "LIKE wildcards are literal"
        );
        assert_eq!(
            numbers(CallQuery {
                direction: Some(CallDirection::Outbound),
                ..CallQuery::default()
            }),
            ["15550100004"]
        );
        assert_eq!(
            numbers(CallQuery {
                since: Some("2026-01-02".into()),
                until: Some("2026-01-03".into()),
                ..CallQuery::default()
            }),
            ["15550100004"]
        );
        let page = store
            .search_calls(&CallQuery {
                limit: 1,
                offset: 1,
                ..CallQuery::default()
            })
            .expect("page");
        assert_eq!(page[0].call.party.number.as_deref(), Some("15550100004"));
        assert_eq!(
            store
                .call(mom)
                .expect("call")
                .and_then(|c| c.call.party.display),
            Some("Mom".into())
        );
        assert_eq!(store.call(999).expect("call"), None);
    }
}
