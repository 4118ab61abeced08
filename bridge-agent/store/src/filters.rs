//! The ordered filter list, and the policy (filters + settings) the engine applies.

use ringside_core::filters::{Action, Field, Filter, FilterList};
use ringside_core::policy::{BlockResponse, Policy};
use rusqlite::params;

use super::settings::Setting;
use super::{Store, StoreError};

impl Store {
    /// The filters, in order.
    pub fn filters(&self) -> Result<Vec<Filter>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, pattern, field, action FROM filters ORDER BY position, id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut filters = Vec::new();
        for row in rows {
            let (id, pattern, field, action) = row?;
            filters.push(Filter {
                id,
                pattern,
                field: Field::parse(&field)?,
                action: Action::parse(&action)?,
            });
        }
        Ok(filters)
    }

    /// Adds a filter at `position` (from 1; the end when `None` or past it). The pattern is
    /// checked first.
    pub fn add_filter(
        &mut self,
        pattern: &str,
        field: Field,
        action: Action,
        position: Option<usize>,
        now: &str,
    ) -> Result<Filter, StoreError> {
        FilterList::check(pattern, field)?;
        let pattern = pattern.trim();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO filters (position, pattern, field, action, created)
             VALUES ((SELECT COALESCE(MAX(position), 0) + 1 FROM filters), ?1, ?2, ?3, ?4)",
            params![pattern, field.as_str(), action.as_str(), now],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        if let Some(position) = position {
            self.move_filter(id, position)?;
        }
        Ok(Filter {
            id,
            pattern: pattern.to_owned(),
            field,
            action,
        })
    }

    /// Removes a filter; `false` if there was none with that id.
    pub fn remove_filter(&mut self, id: i64) -> Result<bool, StoreError> {
        let mut order = self.filter_order()?;
        let Some(index) = order.iter().position(|&i| i == id) else {
            return Ok(false);
        };
        order.remove(index);
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM filters WHERE id = ?1", params![id])?;
        renumber(&tx, &order)?;
        tx.commit()?;
        Ok(true)
    }

    /// Changes a filter's pattern, field and action in place (its position stays); `false` if
    /// there is no filter with that id. The pattern is checked first.
    pub fn edit_filter(
        &self,
        id: i64,
        pattern: &str,
        field: Field,
        action: Action,
    ) -> Result<bool, StoreError> {
        FilterList::check(pattern, field)?;
        Ok(self.conn.execute(
            "UPDATE filters SET pattern = ?2, field = ?3, action = ?4 WHERE id = ?1",
            params![id, pattern.trim(), field.as_str(), action.as_str()],
        )? > 0)
    }

    /// Moves a filter to `position` (from 1; past the end means last); `false` if there is no
    /// filter with that id.
    pub fn move_filter(&mut self, id: i64, position: usize) -> Result<bool, StoreError> {
        let mut order = self.filter_order()?;
        let Some(index) = order.iter().position(|&i| i == id) else {
            return Ok(false);
        };
        order.remove(index);
        order.insert(position.saturating_sub(1).min(order.len()), id);
        let tx = self.conn.transaction()?;
        renumber(&tx, &order)?;
        tx.commit()?;
        Ok(true)
    }

    /// The filters and the settings they fall back to, ready for the engine.
    pub fn policy(&self) -> Result<Policy, StoreError> {
        Ok(Policy {
            filters: FilterList::new(self.filters()?)?,
            record_by_default: self.setting(Setting::RecordByDefault)? == "true",
            block_response: BlockResponse::parse(&self.setting(Setting::BlockResponse)?)
                .unwrap_or_default(),
            courtesy_beeps: self.setting(Setting::CourtesyBeeps)? == "true",
        })
    }

    /// A number that changes whenever another connection commits a change (`PRAGMA
    /// data_version`): the agent reloads its policy when it moves.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |row| row.get(0))?)
    }

    fn filter_order(&self) -> Result<Vec<i64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id FROM filters ORDER BY position, id")?;
        let ids = statement.query_map([], |row| row.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}

fn renumber(tx: &rusqlite::Transaction<'_>, order: &[i64]) -> Result<(), StoreError> {
    let mut statement = tx.prepare_cached("UPDATE filters SET position = ?2 WHERE id = ?1")?;
    for (index, id) in order.iter().enumerate() {
        statement.execute(params![id, index as i64 + 1])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::filters::FilterError;

    #[test]
    fn filters_keep_their_order_through_adds_moves_and_removals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("open");
        let now = "2026-01-01T00:00:00Z";
        let all = store
            .add_filter("*", Field::Number, Action::Block, None, now)
            .expect("add");
        let friends = store
            .add_filter("1555*", Field::Number, Action::Allow, Some(1), now)
            .expect("add");
        let mom = store
            .add_filter("mom", Field::Name, Action::Record, Some(2), now)
            .expect("add");
        let ids = |store: &Store| -> Vec<i64> {
            store
                .filters()
                .expect("list")
                .iter()
                .map(|f| f.id)
                .collect()
        };
        assert_eq!(ids(&store), [friends.id, mom.id, all.id]);
        assert!(store.move_filter(all.id, 1).expect("move"));
        assert_eq!(ids(&store), [all.id, friends.id, mom.id]);
        assert!(store.move_filter(all.id, 99).expect("move"));
        assert_eq!(ids(&store), [friends.id, mom.id, all.id]);
        assert!(store.remove_filter(mom.id).expect("remove"));
        assert!(!store.remove_filter(mom.id).expect("remove again"));
        assert!(!store.move_filter(mom.id, 1).expect("move a removed one"));
        assert_eq!(ids(&store), [friends.id, all.id]);
        assert!(matches!(
            store.add_filter("12ab", Field::Number, Action::Block, None, now),
            Err(StoreError::Filter(_))
        ));
        assert_eq!(
            store.filters().expect("list").len(),
            2,
            "a bad filter adds nothing"
        );
    }

    #[test]
    fn exact_number_filters_are_stored_and_over_long_patterns_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("open");
        let star = store
            .add_filter("*", Field::ExactNumber, Action::Block, None, "now")
            .expect("an exact `*`");
        let reopened = Store::open(dir.path()).expect("reopen");
        assert_eq!(
            reopened.filters().expect("list"),
            std::slice::from_ref(&star)
        );
        let policy = reopened.policy().expect("policy");
        let caller = |number: &str| ringside_core::caller_id::CallerId {
            number: Some(number.to_owned()),
            name: None,
            presentation: ringside_core::caller_id::Presentation::Number,
            source: ringside_core::caller_id::CallerIdSource::From,
            raw: String::new(),
        };
        assert!(policy.filters.decide(&caller("*"), true).block.applies);
        assert!(
            !policy
                .filters
                .decide(&caller("15550100001"), true)
                .block
                .applies
        );
        for (pattern, field) in [
            ("1".repeat(65), Field::Number),
            ("1".repeat(65), Field::ExactNumber),
            ("n".repeat(257), Field::Name),
        ] {
            assert!(matches!(
                store.add_filter(&pattern, field, Action::Block, None, "now"),
                Err(StoreError::Filter(FilterError::TooLong { .. }))
            ));
            assert!(matches!(
                store.edit_filter(star.id, &pattern, field, Action::Block),
                Err(StoreError::Filter(FilterError::TooLong { .. }))
            ));
        }
        assert_eq!(store.filters().expect("list").len(), 1);
    }

    #[test]
    fn the_policy_follows_filters_and_settings_and_data_version_moves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("open");
        let watcher = Store::open(dir.path()).expect("a second connection");
        let before = watcher.data_version().expect("version");
        let policy = store.policy().expect("policy");
        assert!(policy.record_by_default);
        assert_eq!(policy.block_response, BlockResponse::Busy);
        assert!(policy.filters.is_empty());
        store
            .add_filter("anonymous", Field::Number, Action::Block, None, "now")
            .expect("add");
        store
            .set_setting(Setting::BlockResponse, "decline")
            .expect("set");
        store
            .set_setting(Setting::RecordByDefault, "off")
            .expect("set");
        assert!(store
            .set_setting(Setting::BlockResponse, "hang up")
            .is_err());
        assert!(store.set_setting(Setting::AnnounceSecret, "short").is_err());
        let policy = watcher.policy().expect("policy");
        assert!(!policy.record_by_default);
        assert_eq!(policy.block_response, BlockResponse::Decline);
        assert_eq!(policy.filters.len(), 1);
        assert_ne!(watcher.data_version().expect("version"), before);
    }

    #[test]
    fn the_exact_number_migration_keeps_every_filter_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let conn = rusqlite::Connection::open(dir.path().join(crate::DB_FILE)).expect("db");
            for sql in &crate::MIGRATIONS[..3] {
                conn.execute_batch(sql).expect("an older schema");
            }
            conn.execute_batch(
                "INSERT INTO filters VALUES (7, 2, '1900*', 'number', 'block', 'then');
                 INSERT INTO filters VALUES (9, 1, '*mom*', 'name', 'allow', 'then');
                 PRAGMA user_version = 3;",
            )
            .expect("filters of an older Ringside");
        }
        let mut store = Store::open(dir.path()).expect("migrated");
        let kept: Vec<(i64, String)> = store
            .filters()
            .expect("list")
            .into_iter()
            .map(|f| (f.id, f.pattern))
            .collect();
        assert_eq!(kept, [(9, "*mom*".into()), (7, "1900*".into())]);
        store
            .add_filter("1900*", Field::ExactNumber, Action::Block, Some(1), "now")
            .expect("the new field is allowed");
        assert_eq!(store.filters().expect("list")[0].field, Field::ExactNumber);
    }
}
