//! Listings and content drafts on SQLite (lists are JSON text): the declarations and SQL are
//! `partnerd_store::schema::listings`.

use crate::kit::{DIALECT, execute, insert, query_all, query_opt, run, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::listing::ListingStatus;
use partnerd_store::kit::{CountDeltas, Keyed, Table, count};
use partnerd_store::schema::listings as sql;
use partnerd_store::*;
use rusqlite::Connection;

/// Applies the counter changes; `l` names the marketplace and partner whose counters they are.
/// Always to shard 0: the one writer never waits on a counter row (PostgreSQL spreads them).
fn apply(c: &Connection, deltas: &CountDeltas, l: &ListingRecord) -> StoreResult<()> {
    for (status, n, score) in deltas.changes() {
        run(c, &sql::BUMP_COUNT, &args![l.marketplace_id, l.partner_id, status, n, score, 0i64])?;
    }
    Ok(())
}

/// The versioned write shared by updates and publishing, with its counter changes.
fn write_update(c: &Connection, l: &ListingRecord, expected_version: i64) -> StoreResult<()> {
    let (old_status, old_score) = versioned_update(c, l, expected_version)?;
    let mut deltas = CountDeltas::default();
    deltas.add(old_status, -1, -i64::from(old_score));
    deltas.add(l.status, 1, i64::from(l.seo_score));
    apply(c, &deltas, l)
}

#[async_trait]
impl ListingStore for SqliteStore {
    async fn create_listings(&self, listings: Vec<ListingRecord>, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let Some(first) = listings.first() else { return Ok(()) };
                let mut deltas = CountDeltas::default();
                for l in &listings {
                    insert(c, l, "listing id taken")?;
                    deltas.add(l.status, 1, i64::from(l.seo_score));
                }
                apply(c, &deltas, first)?;
                append_events(c, &first.marketplace_id, first.created_at, &events)
            })
            .await
    }

    async fn get_listing(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<ListingRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET.sqlite(), &args![m, p, id])).await
    }

    async fn list_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        window: &Window,
        limit: u32,
    ) -> StoreResult<ListingPage> {
        let (page_sql, f) = sql::list(DIALECT, marketplace_id, partner_id, status, window, limit)?;
        self.readers
            .read(move |c| {
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                let total: Option<(i64,)> = match status {
                    Some(_) => query_opt(c, sql::COUNT_OF_STATUS.sqlite(), f.condition_args())?,
                    None => query_opt(c, sql::COUNT_ALL.sqlite(), f.condition_args())?,
                };
                Ok(ListingPage { items, total: count("listings", total.map_or(0, |(n,)| n))?, next })
            })
            .await
    }

    async fn listing_head(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        rows: u32,
    ) -> StoreResult<ListingHead> {
        let (head_sql, f) = sql::head(DIALECT, marketplace_id, partner_id, status, rows)?;
        self.readers
            .read(move |c| {
                let (ids, next) = f.finish(query_all::<Keyed<(String,)>>(c, &head_sql, f.args())?);
                let total: Option<(i64,)> = match status {
                    Some(_) => query_opt(c, sql::COUNT_OF_STATUS.sqlite(), f.condition_args())?,
                    None => query_opt(c, sql::COUNT_ALL.sqlite(), f.condition_args())?,
                };
                let ids = ids.into_iter().map(|(id,)| id).collect();
                Ok(ListingHead { ids, complete: next.is_none(), total: count("listings", total.map_or(0, |(n,)| n))? })
            })
            .await
    }

    async fn listing_marks(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        every: u32,
    ) -> StoreResult<Vec<Cursor>> {
        let (marks_sql, f) = sql::marks(DIALECT, marketplace_id, partner_id, status, every);
        self.readers
            .read(move |c| {
                let rows = query_all::<Keyed<(String,)>>(c, &marks_sql, f.args())?;
                Ok(rows.into_iter().map(|r| f.cursor(r.key)).collect())
            })
            .await
    }

    async fn get_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<ListingRecord>> {
        let (rows_sql, f) = sql::by_ids(DIALECT, ids);
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        let rows: Vec<ListingRecord> = self.readers.read(move |c| query_all(c, &rows_sql, f.args())).await?;
        Ok(rows.into_iter().filter(|l| l.marketplace_id == m && l.partner_id == p).collect())
    }

    async fn update_listing(&self, l: ListingRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                write_update(c, &l, expected_version)?;
                append_events(c, &l.marketplace_id, l.updated_at, &events)
            })
            .await
    }

    async fn create_draft(&self, d: DraftRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                execute(c, sql::INSERT_DRAFT.sqlite(), &d.insert_values(), "draft id taken")?;
                append_events(c, &d.marketplace_id, d.created_at, &events)
            })
            .await
    }

    async fn list_drafts(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        listing_id: &str,
    ) -> StoreResult<Vec<DraftRecord>> {
        let (m, p, l) = (marketplace_id.to_owned(), partner_id.to_owned(), listing_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::DRAFTS_OF_LISTING.sqlite(), &args![m, p, l])).await
    }

    async fn get_draft(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        draft_id: &str,
    ) -> StoreResult<Option<DraftRecord>> {
        let (m, p, d) = (marketplace_id.to_owned(), partner_id.to_owned(), draft_id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_DRAFT.sqlite(), &args![m, p, d])).await
    }

    async fn publish_draft(
        &self,
        draft_id: &str,
        published_at: DateTime<Utc>,
        l: ListingRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let draft_id = draft_id.to_owned();
        self.writer
            .write(move |c| {
                let marked =
                    run(c, &sql::PUBLISH_DRAFT, &args![l.marketplace_id, l.partner_id, draft_id, published_at])?;
                if marked == 0 {
                    return Err(StoreError::Conflict("the draft was published already".into()));
                }
                write_update(c, &l, expected_version)?;
                append_events(c, &l.marketplace_id, published_at, &events)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plans SQLite picks for listing reads: an index, never a table scan or a sort.
    #[test]
    fn listing_reads_use_indexes() {
        let conn = crate::kit::plans::migrated();
        conn.execute_batch("ANALYZE").unwrap();
        let now = chrono::Utc::now();
        let last = partnerd_store::contract::listing("m", "p", "t", ListingStatus::Active, now);
        let after = Window::After(sql::cursor_after(DIALECT, &last, Some(ListingStatus::Active)));
        // (query, index it must walk, whether the rows are sorted afterwards): the pages' ids
        // come off the covering index in order; only the page's own rows (at most limit + 1) are
        // sorted again after the deferred join.
        for (sql, index, resorted) in [
            (
                sql::list(DIALECT, "m", "p", Some(ListingStatus::Active), &Window::Offset(40), 20).unwrap().0,
                "COVERING INDEX listings_by_partner_status",
                true,
            ),
            (
                sql::list(DIALECT, "m", "p", Some(ListingStatus::Active), &after, 20).unwrap().0,
                "COVERING INDEX listings_by_partner_status",
                true,
            ),
            (
                sql::list(DIALECT, "m", "p", None, &Window::Offset(0), 20).unwrap().0,
                "COVERING INDEX listings_by_partner",
                true,
            ),
            (
                sql::head(DIALECT, "m", "p", Some(ListingStatus::Active), 2048).unwrap().0,
                "COVERING INDEX listings_by_partner_status",
                false,
            ),
            (sql::GET.sqlite().to_owned(), "sqlite_autoindex_listings_1", false),
            (sql::by_ids(DIALECT, &["a".into(), "b".into()]).0, "sqlite_autoindex_listings_1", false),
        ] {
            let text = crate::kit::plans::plan(&conn, &sql);
            assert!(text.contains(index), "{sql}: {text}");
            assert!(!text.contains("SCAN listings") || text.contains("USING"), "{text}");
            let sorts = text.matches("TEMP B-TREE").count();
            assert_eq!(sorts, usize::from(resorted), "the walk is in index order: {text}");
        }
    }
}
