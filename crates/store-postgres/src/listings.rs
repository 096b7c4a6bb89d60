//! Listings and content drafts on PostgreSQL. Arrays are JSONB; the versioned write locks the
//! row it checks, so two processes cannot both pass the version check.

use crate::{PostgresStore, append_events, exec, pg, query};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use partnerd_domain::events::NewEvent;
use partnerd_domain::listing::{ListingContent, ListingStatus};
use partnerd_store::*;
use serde_json::Value;
use tokio_postgres::Row;

pub(crate) const COLUMNS: &str =
    "id, marketplace_id, partner_id, title, short_description, long_description, highlights,
                       categories, keywords, images, logo_url, pricing_model, marketplace, product_id, status,
                       seo_score, version, created_at, updated_at";

fn json_list(v: &[String]) -> Value {
    Value::from(v.to_vec())
}

fn list_from(v: Value) -> Vec<String> {
    serde_json::from_value(v).unwrap_or_default()
}

fn status_from(s: &str) -> ListingStatus {
    ListingStatus::parse(s).unwrap_or(ListingStatus::Draft)
}

pub(crate) fn listing_from_row(r: &Row) -> ListingRecord {
    ListingRecord {
        id: r.get(0),
        marketplace_id: r.get(1),
        partner_id: r.get(2),
        content: ListingContent {
            title: r.get(3),
            short_description: r.get(4),
            long_description: r.get(5),
            highlights: list_from(r.get(6)),
            categories: list_from(r.get(7)),
            keywords: list_from(r.get(8)),
            images: list_from(r.get(9)),
            logo_url: r.get(10),
            pricing_model: r.get(11),
            marketplace: r.get(12),
            product_id: r.get(13),
        },
        status: status_from(r.get(14)),
        seo_score: r.get::<_, i32>(15) as u32,
        version: r.get(16),
        created_at: r.get(17),
        updated_at: r.get(18),
    }
}

const DRAFT_COLUMNS: &str = "id, marketplace_id, partner_id, listing_id, title, short_description, long_description,
                             highlights, keywords, seo_score, published_at, created_at";

fn draft_from_row(r: &Row) -> DraftRecord {
    DraftRecord {
        id: r.get(0),
        marketplace_id: r.get(1),
        partner_id: r.get(2),
        listing_id: r.get(3),
        title: r.get(4),
        short_description: r.get(5),
        long_description: r.get(6),
        highlights: list_from(r.get(7)),
        keywords: list_from(r.get(8)),
        seo_score: r.get::<_, i32>(9) as u32,
        published_at: r.get(10),
        created_at: r.get(11),
    }
}

/// Changes to the per-status counters, summed, then applied in one fixed order (by status name)
/// so that concurrent transactions cannot lock two counter rows in opposite orders.
#[derive(Default)]
struct CountDeltas(std::collections::BTreeMap<&'static str, (ListingStatus, i64, i64)>);

impl CountDeltas {
    fn add(&mut self, status: ListingStatus, n: i64, score: i64) {
        let e = self.0.entry(status.as_str()).or_insert((status, 0, 0));
        e.1 += n;
        e.2 += score;
    }

    /// `l` names the marketplace and partner whose counters these are.
    async fn apply(&self, c: &impl GenericClient, l: &ListingRecord) -> StoreResult<()> {
        for (status, n, score) in self.0.values() {
            if *n != 0 || *score != 0 {
                bump_count(c, l, *status, *n, *score).await?;
            }
        }
        Ok(())
    }
}

/// Moves the per-status count and score sum by `n` listings and `score` points.
async fn bump_count(
    c: &impl GenericClient,
    l: &ListingRecord,
    status: ListingStatus,
    n: i64,
    score: i64,
) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO listing_counts (marketplace_id, partner_id, status, n, score_sum) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (marketplace_id, partner_id, status)
         DO UPDATE SET n = listing_counts.n + EXCLUDED.n, score_sum = listing_counts.score_sum + EXCLUDED.score_sum",
        &[&l.marketplace_id, &l.partner_id, &status.as_str(), &n, &score],
        "",
    )
    .await?;
    Ok(())
}

async fn write_update(c: &impl GenericClient, l: &ListingRecord, expected_version: i64) -> StoreResult<()> {
    let rows = query(
        c,
        "SELECT status, version, seo_score FROM listings WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 FOR UPDATE",
        &[&l.marketplace_id, &l.partner_id, &l.id],
    )
    .await?;
    let Some(row) = rows.first() else { return Err(StoreError::NotFound("listing")) };
    let (old_status, version, old_score): (String, i64, i32) = (row.get(0), row.get(1), row.get(2));
    if version != expected_version {
        return Err(StoreError::Conflict("the listing changed since it was read".into()));
    }
    let k = &l.content;
    exec(
        c,
        "UPDATE listings SET title = $4, short_description = $5, long_description = $6, highlights = $7,
                categories = $8, keywords = $9, images = $10, logo_url = $11, pricing_model = $12, marketplace = $13,
                product_id = $14, status = $15, seo_score = $16, version = $17, updated_at = $18
         WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3",
        &[
            &l.marketplace_id,
            &l.partner_id,
            &l.id,
            &k.title,
            &k.short_description,
            &k.long_description,
            &json_list(&k.highlights),
            &json_list(&k.categories),
            &json_list(&k.keywords),
            &json_list(&k.images),
            &k.logo_url,
            &k.pricing_model,
            &k.marketplace,
            &k.product_id,
            &l.status.as_str(),
            &(l.seo_score as i32),
            &l.version,
            &l.updated_at,
        ],
        "",
    )
    .await?;
    let old_status = status_from(&old_status);
    let (old_score, new_score) = (i64::from(old_score), i64::from(l.seo_score));
    let mut deltas = CountDeltas::default();
    deltas.add(old_status, -1, -old_score);
    deltas.add(l.status, 1, new_score);
    deltas.apply(c, l).await?;
    Ok(())
}

async fn insert_listing(c: &impl GenericClient, l: &ListingRecord) -> StoreResult<()> {
    let k = &l.content;
    exec(
        c,
        &format!(
            "INSERT INTO listings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ),
        &[
            &l.id,
            &l.marketplace_id,
            &l.partner_id,
            &k.title,
            &k.short_description,
            &k.long_description,
            &json_list(&k.highlights),
            &json_list(&k.categories),
            &json_list(&k.keywords),
            &json_list(&k.images),
            &k.logo_url,
            &k.pricing_model,
            &k.marketplace,
            &k.product_id,
            &l.status.as_str(),
            &(l.seo_score as i32),
            &l.version,
            &l.created_at,
            &l.updated_at,
        ],
        "listing id taken",
    )
    .await?;
    Ok(())
}

#[async_trait]
impl ListingStore for PostgresStore {
    async fn create_listings(&self, listings: Vec<ListingRecord>, events: Vec<NewEvent>) -> StoreResult<()> {
        let Some(first) = listings.first() else { return Ok(()) };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut deltas = CountDeltas::default();
        for l in &listings {
            insert_listing(&tx, l).await?;
            deltas.add(l.status, 1, i64::from(l.seo_score));
        }
        deltas.apply(&tx, first).await?;
        append_events(&tx, &first.marketplace_id, first.created_at, &events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn get_listing(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<ListingRecord>> {
        let c = self.client().await?;
        let sql = format!("SELECT {COLUMNS} FROM listings WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3");
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id, &id]).await?.first().map(listing_from_row))
    }

    async fn list_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<ListingPage> {
        let c = self.client().await?;
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::from(limit);
        let (rows, total) = match status {
            Some(st) => {
                let rows = query(
                    &c,
                    &format!(
                        "SELECT {COLUMNS} FROM listings WHERE marketplace_id = $1 AND partner_id = $2 AND status = $3
                         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
                    ),
                    &[&marketplace_id, &partner_id, &st.as_str(), &limit, &offset],
                )
                .await?;
                let total = query(
                    &c,
                    "SELECT n FROM listing_counts WHERE marketplace_id = $1 AND partner_id = $2 AND status = $3",
                    &[&marketplace_id, &partner_id, &st.as_str()],
                )
                .await?
                .first()
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or(0);
                (rows, total)
            }
            None => {
                let rows = query(
                    &c,
                    &format!(
                        "SELECT {COLUMNS} FROM listings WHERE marketplace_id = $1 AND partner_id = $2
                         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                    ),
                    &[&marketplace_id, &partner_id, &limit, &offset],
                )
                .await?;
                let total = query(
                    &c,
                    "SELECT COALESCE(SUM(n), 0)::BIGINT FROM listing_counts WHERE marketplace_id = $1 AND partner_id = $2",
                    &[&marketplace_id, &partner_id],
                )
                .await?[0]
                    .get::<_, i64>(0);
                (rows, total)
            }
        };
        Ok(ListingPage { items: rows.iter().map(listing_from_row).collect(), total: total.max(0) as u64 })
    }

    async fn update_listing(&self, l: ListingRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        write_update(&tx, &l, expected_version).await?;
        append_events(&tx, &l.marketplace_id, l.updated_at, &events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn create_draft(&self, d: DraftRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        exec(
            &tx,
            &format!("INSERT INTO listing_drafts ({DRAFT_COLUMNS}, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft')"),
            &[
                &d.id,
                &d.marketplace_id,
                &d.partner_id,
                &d.listing_id,
                &d.title,
                &d.short_description,
                &d.long_description,
                &json_list(&d.highlights),
                &json_list(&d.keywords),
                &(d.seo_score as i32),
                &d.published_at,
                &d.created_at,
            ],
            "draft id taken",
        )
        .await?;
        append_events(&tx, &d.marketplace_id, d.created_at, &events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn list_drafts(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        listing_id: &str,
    ) -> StoreResult<Vec<DraftRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2 AND listing_id = $3
             ORDER BY created_at DESC, id DESC"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id, &listing_id]).await?.iter().map(draft_from_row).collect())
    }

    async fn get_draft(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        draft_id: &str,
    ) -> StoreResult<Option<DraftRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {DRAFT_COLUMNS} FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id, &draft_id]).await?.first().map(draft_from_row))
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
        let marked = exec(
            &tx,
            "UPDATE listing_drafts SET status = 'published', published_at = $4
             WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND published_at IS NULL",
            &[&l.marketplace_id, &l.partner_id, &draft_id, &published_at],
            "",
        )
        .await?;
        if marked == 0 {
            return Err(StoreError::Conflict("the draft was published already".into()));
        }
        write_update(&tx, &l, expected_version).await?;
        append_events(&tx, &l.marketplace_id, published_at, &events).await?;
        tx.commit().await.map_err(pg)
    }
}
