//! Listings and content drafts on PostgreSQL (lists are JSONB): the declarations and SQL are
//! `partnerd_store::schema::listings`. The versioned write locks the row it checks, so two
//! processes cannot both pass the version check.

use crate::kit::{DIALECT, execute, insert, query_all, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use partnerd_domain::events::NewEvent;
use partnerd_domain::listing::ListingStatus;
use partnerd_store::kit::{CountDeltas, Keyed, Table, count};
use partnerd_store::schema::listings as sql;
use partnerd_store::*;
use tokio_postgres::IsolationLevel;

/// Counter rows per partner and status. An updated row stays locked until COMMIT (its WAL flush
/// included), and every listing write moves its partner's counter: on one row, a partner's
/// writes committed one at a time (S6's 1,000 changes/s stalled near 500/s, the pool's other
/// connections waiting on that row's lock). More rows than the pool has connections, so this
/// process's concurrent writers never share one; reads sum a few more rows.
const COUNTER_SHARDS: u32 = 32;

/// The shard this transaction moves: consecutive transactions take consecutive rows, so the
/// writers in flight at once (at most the pool's size) hold different rows.
fn counter_shard() -> i64 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    i64::from(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % COUNTER_SHARDS)
}

/// Applies the counter changes; `l` names the marketplace and partner whose counters they are.
/// All of one transaction's changes go to one shard, in `CountDeltas`' fixed order, so two
/// transactions cannot lock counter rows in opposite orders.
async fn apply(c: &impl GenericClient, deltas: &CountDeltas, l: &ListingRecord) -> StoreResult<()> {
    let shard = counter_shard();
    for (status, n, score) in deltas.changes() {
        let args = args![l.marketplace_id, l.partner_id, status, n, score, shard];
        execute(c, sql::BUMP_COUNT.postgres(), &args, "").await?;
    }
    Ok(())
}

/// The versioned write shared by updates and publishing, with its counter changes.
async fn write_update(c: &impl GenericClient, l: &ListingRecord, expected_version: i64) -> StoreResult<()> {
    let (old_status, old_score) = versioned_update(c, l, expected_version).await?;
    let mut deltas = CountDeltas::default();
    deltas.add(old_status, -1, -i64::from(old_score));
    deltas.add(l.status, 1, i64::from(l.seo_score));
    apply(c, &deltas, l).await
}

#[async_trait]
impl ListingStore for PostgresStore {
    async fn create_listings(&self, listings: Vec<ListingRecord>, events: Vec<NewEvent>) -> StoreResult<()> {
        let Some(first) = listings.first() else { return Ok(()) };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut deltas = CountDeltas::default();
        for l in &listings {
            insert(&tx, l, "listing id taken").await?;
            deltas.add(l.status, 1, i64::from(l.seo_score));
        }
        apply(&tx, &deltas, first).await?;
        let fanned = append_events(&tx, &first.marketplace_id, first.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_listing(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<ListingRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET.postgres(), &args![marketplace_id, partner_id, id]).await
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
        let c = self.client().await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        let total: Option<(i64,)> = match status {
            Some(_) => query_opt(&c, sql::COUNT_OF_STATUS.postgres(), f.condition_args()).await?,
            None => query_opt(&c, sql::COUNT_ALL.postgres(), f.condition_args()).await?,
        };
        Ok(ListingPage { items, total: count("listings", total.map_or(0, |(n,)| n))?, next })
    }

    async fn listing_head(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        rows: u32,
    ) -> StoreResult<ListingHead> {
        let (head_sql, f) = sql::head(DIALECT, marketplace_id, partner_id, status, rows)?;
        let mut c = self.client().await?;
        // One snapshot for the ids and the total.
        let tx = c
            .build_transaction()
            .read_only(true)
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()
            .await
            .map_err(pg)?;
        let (ids, next) = f.finish(query_all::<Keyed<(String,)>>(&tx, &head_sql, f.args()).await?);
        let total: Option<(i64,)> = match status {
            Some(_) => query_opt(&tx, sql::COUNT_OF_STATUS.postgres(), f.condition_args()).await?,
            None => query_opt(&tx, sql::COUNT_ALL.postgres(), f.condition_args()).await?,
        };
        tx.commit().await.map_err(pg)?;
        let ids = ids.into_iter().map(|(id,)| id).collect();
        Ok(ListingHead { ids, complete: next.is_none(), total: count("listings", total.map_or(0, |(n,)| n))? })
    }

    async fn listing_marks(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        every: u32,
    ) -> StoreResult<Vec<Cursor>> {
        let (marks_sql, f) = sql::marks(DIALECT, marketplace_id, partner_id, status, every);
        let c = self.client().await?;
        let rows = query_all::<Keyed<(String,)>>(&c, &marks_sql, f.args()).await?;
        Ok(rows.into_iter().map(|r| f.cursor(r.key)).collect())
    }

    async fn get_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<ListingRecord>> {
        let (rows_sql, f) = sql::by_ids(DIALECT, ids);
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        let c = self.client().await?;
        let rows: Vec<ListingRecord> = query_all(&c, &rows_sql, f.args()).await?;
        Ok(rows.into_iter().filter(|l| l.marketplace_id == m && l.partner_id == p).collect())
    }

    async fn update_listing(&self, l: ListingRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        write_update(&tx, &l, expected_version).await?;
        let fanned = append_events(&tx, &l.marketplace_id, l.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn create_draft(&self, d: DraftRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        execute(&tx, sql::INSERT_DRAFT.postgres(), &d.insert_values(), "draft id taken").await?;
        let fanned = append_events(&tx, &d.marketplace_id, d.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn list_drafts(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        listing_id: &str,
    ) -> StoreResult<Vec<DraftRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::DRAFTS_OF_LISTING.postgres(), &args![marketplace_id, partner_id, listing_id]).await
    }

    async fn get_draft(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        draft_id: &str,
    ) -> StoreResult<Option<DraftRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_DRAFT.postgres(), &args![marketplace_id, partner_id, draft_id]).await
    }

    async fn publish_draft(
        &self,
        draft_id: &str,
        published_at: DateTime<Utc>,
        l: ListingRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let marked = execute(
            &tx,
            sql::PUBLISH_DRAFT.postgres(),
            &args![l.marketplace_id, l.partner_id, draft_id, published_at],
            "",
        )
        .await?;
        if marked == 0 {
            return Err(StoreError::Conflict("the draft was published already".into()));
        }
        write_update(&tx, &l, expected_version).await?;
        let fanned = append_events(&tx, &l.marketplace_id, published_at, &events).await?;
        self.commit(tx, fanned).await
    }
}
