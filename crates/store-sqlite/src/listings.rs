//! Listings and content drafts on SQLite. Arrays are JSON text columns.

use crate::conn::backend;
use crate::{SqliteStore, append_events, at, ms, write_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::listing::{ListingContent, ListingStatus};
use partnerd_store::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(crate) const COLUMNS: &str =
    "id, marketplace_id, partner_id, title, short_description, long_description, highlights,
                       categories, keywords, images, logo_url, pricing_model, marketplace, product_id, status,
                       seo_score, version, created_at, updated_at";

fn get_sql() -> &'static str {
    // Built once: the hottest read should not format its SQL on every call.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {COLUMNS} FROM listings WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3")
    });
    &SQL
}

fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM listings WHERE marketplace_id = ?1 AND partner_id = ?2
         ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
    )
}

fn list_by_status_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM listings WHERE marketplace_id = ?1 AND partner_id = ?2 AND status = ?3
         ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
    )
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("strings serialise")
}

fn list_from(s: String) -> Vec<String> {
    serde_json::from_str(&s).unwrap_or_default()
}

fn status_from(s: String) -> ListingStatus {
    ListingStatus::parse(&s).unwrap_or(ListingStatus::Draft)
}

pub(crate) fn listing_from_row(r: &Row<'_>) -> rusqlite::Result<ListingRecord> {
    Ok(ListingRecord {
        id: r.get(0)?,
        marketplace_id: r.get(1)?,
        partner_id: r.get(2)?,
        content: ListingContent {
            title: r.get(3)?,
            short_description: r.get(4)?,
            long_description: r.get(5)?,
            highlights: list_from(r.get(6)?),
            categories: list_from(r.get(7)?),
            keywords: list_from(r.get(8)?),
            images: list_from(r.get(9)?),
            logo_url: r.get(10)?,
            pricing_model: r.get(11)?,
            marketplace: r.get(12)?,
            product_id: r.get(13)?,
        },
        status: status_from(r.get(14)?),
        seo_score: r.get(15)?,
        version: r.get(16)?,
        created_at: at(r.get(17)?),
        updated_at: at(r.get(18)?),
    })
}

const DRAFT_COLUMNS: &str = "id, marketplace_id, partner_id, listing_id, title, short_description, long_description,
                             highlights, keywords, seo_score, published_at, created_at";

fn draft_from_row(r: &Row<'_>) -> rusqlite::Result<DraftRecord> {
    Ok(DraftRecord {
        id: r.get(0)?,
        marketplace_id: r.get(1)?,
        partner_id: r.get(2)?,
        listing_id: r.get(3)?,
        title: r.get(4)?,
        short_description: r.get(5)?,
        long_description: r.get(6)?,
        highlights: list_from(r.get(7)?),
        keywords: list_from(r.get(8)?),
        seo_score: r.get(9)?,
        published_at: r.get::<_, Option<i64>>(10)?.map(at),
        created_at: at(r.get(11)?),
    })
}

/// Changes to the per-status counters, summed per status and applied once each (an import of
/// thousands of listings touches each counter row once), in a fixed order.
#[derive(Default)]
struct CountDeltas(std::collections::BTreeMap<&'static str, (ListingStatus, i64, i64)>);

impl CountDeltas {
    fn add(&mut self, status: ListingStatus, n: i64, score: i64) {
        let e = self.0.entry(status.as_str()).or_insert((status, 0, 0));
        e.1 += n;
        e.2 += score;
    }

    /// `l` names the marketplace and partner whose counters these are.
    fn apply(&self, c: &Connection, l: &ListingRecord) -> StoreResult<()> {
        for (status, n, score) in self.0.values() {
            if *n != 0 || *score != 0 {
                bump_count(c, l, *status, *n, *score)?;
            }
        }
        Ok(())
    }
}

/// Moves the per-status count and score sum by `n` listings and `score` points.
fn bump_count(c: &Connection, l: &ListingRecord, status: ListingStatus, n: i64, score: i64) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO listing_counts (marketplace_id, partner_id, status, n, score_sum) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (marketplace_id, partner_id, status)
         DO UPDATE SET n = n + excluded.n, score_sum = score_sum + excluded.score_sum",
    )
    .and_then(|mut s| s.execute(params![l.marketplace_id, l.partner_id, status.as_str(), n, score]))
    .map_err(backend)?;
    Ok(())
}

/// The versioned write shared by updates and publishing.
fn write_update(c: &Connection, l: &ListingRecord, expected_version: i64) -> StoreResult<()> {
    let current: Option<(String, i64, i64)> = c
        .prepare_cached(
            "SELECT status, version, seo_score FROM listings WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![l.marketplace_id, l.partner_id, l.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(backend)?;
    let Some((old_status, version, old_score)) = current else { return Err(StoreError::NotFound("listing")) };
    if version != expected_version {
        return Err(StoreError::Conflict("the listing changed since it was read".into()));
    }
    let k = &l.content;
    c.prepare_cached(
        "UPDATE listings SET title = ?4, short_description = ?5, long_description = ?6, highlights = ?7,
                categories = ?8, keywords = ?9, images = ?10, logo_url = ?11, pricing_model = ?12, marketplace = ?13,
                product_id = ?14, status = ?15, seo_score = ?16, version = ?17, updated_at = ?18
         WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3",
    )
    .and_then(|mut s| {
        s.execute(params![
            l.marketplace_id,
            l.partner_id,
            l.id,
            k.title,
            k.short_description,
            k.long_description,
            json_list(&k.highlights),
            json_list(&k.categories),
            json_list(&k.keywords),
            json_list(&k.images),
            k.logo_url,
            k.pricing_model,
            k.marketplace,
            k.product_id,
            l.status.as_str(),
            l.seo_score,
            l.version,
            ms(l.updated_at),
        ])
    })
    .map_err(backend)?;
    let old_status = status_from(old_status);
    let mut deltas = CountDeltas::default();
    deltas.add(old_status, -1, -old_score);
    deltas.add(l.status, 1, i64::from(l.seo_score));
    deltas.apply(c, l)?;
    Ok(())
}

fn insert_listing(c: &Connection, l: &ListingRecord) -> StoreResult<()> {
    let k = &l.content;
    c.prepare_cached(&format!(
        "INSERT INTO listings ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            l.id,
            l.marketplace_id,
            l.partner_id,
            k.title,
            k.short_description,
            k.long_description,
            json_list(&k.highlights),
            json_list(&k.categories),
            json_list(&k.keywords),
            json_list(&k.images),
            k.logo_url,
            k.pricing_model,
            k.marketplace,
            k.product_id,
            l.status.as_str(),
            l.seo_score,
            l.version,
            ms(l.created_at),
            ms(l.updated_at),
        ])
    })
    .map_err(|e| write_error(e, "listing id taken"))?;
    Ok(())
}

#[async_trait]
impl ListingStore for SqliteStore {
    async fn create_listings(&self, listings: Vec<ListingRecord>, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let mut deltas = CountDeltas::default();
                for l in &listings {
                    insert_listing(c, l)?;
                    deltas.add(l.status, 1, i64::from(l.seo_score));
                }
                if let Some(first) = listings.first() {
                    deltas.apply(c, first)?;
                }
                let Some(first) = listings.first() else { return Ok(()) };
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
        self.readers
            .read(move |c| {
                c.prepare_cached(get_sql())
                    .and_then(|mut s| s.query_row(params![m, p, id], listing_from_row).optional())
                    .map_err(backend)
            })
            .await
    }

    async fn list_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<ListingPage> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                let offset = i64::try_from(offset).unwrap_or(i64::MAX);
                let (items, total) = match status {
                    Some(st) => {
                        let items = c
                            .prepare_cached(&list_by_status_sql())
                            .and_then(|mut s| s.query_map(params![m, p, st.as_str(), limit, offset], listing_from_row)?.collect::<rusqlite::Result<Vec<_>>>())
                            .map_err(backend)?;
                        let total: Option<i64> = c
                            .prepare_cached("SELECT n FROM listing_counts WHERE marketplace_id = ?1 AND partner_id = ?2 AND status = ?3")
                            .and_then(|mut s| s.query_row(params![m, p, st.as_str()], |r| r.get(0)).optional())
                            .map_err(backend)?;
                        (items, total.unwrap_or(0))
                    }
                    None => {
                        let items = c
                            .prepare_cached(&list_sql())
                            .and_then(|mut s| s.query_map(params![m, p, limit, offset], listing_from_row)?.collect::<rusqlite::Result<Vec<_>>>())
                            .map_err(backend)?;
                        let total: i64 = c
                            .prepare_cached("SELECT COALESCE(SUM(n), 0) FROM listing_counts WHERE marketplace_id = ?1 AND partner_id = ?2")
                            .and_then(|mut s| s.query_row(params![m, p], |r| r.get(0)))
                            .map_err(backend)?;
                        (items, total)
                    }
                };
                Ok(ListingPage { items, total: total.max(0) as u64 })
            })
            .await
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
                c.prepare_cached(&format!(
                    "INSERT INTO listing_drafts ({DRAFT_COLUMNS}, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'draft')"
                ))
                .and_then(|mut s| {
                    s.execute(params![
                        d.id,
                        d.marketplace_id,
                        d.partner_id,
                        d.listing_id,
                        d.title,
                        d.short_description,
                        d.long_description,
                        json_list(&d.highlights),
                        json_list(&d.keywords),
                        d.seo_score,
                        d.published_at.map(ms),
                        ms(d.created_at),
                    ])
                })
                .map_err(|e| write_error(e, "draft id taken"))?;
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
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {DRAFT_COLUMNS} FROM listing_drafts WHERE marketplace_id = ?1 AND partner_id = ?2 AND listing_id = ?3
                     ORDER BY created_at DESC, id DESC"
                ))
                .and_then(|mut s| s.query_map(params![m, p, l], draft_from_row)?.collect())
                .map_err(backend)
            })
            .await
    }

    async fn get_draft(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        draft_id: &str,
    ) -> StoreResult<Option<DraftRecord>> {
        let (m, p, d) = (marketplace_id.to_owned(), partner_id.to_owned(), draft_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!("SELECT {DRAFT_COLUMNS} FROM listing_drafts WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3"))
                    .and_then(|mut s| s.query_row(params![m, p, d], draft_from_row).optional())
                    .map_err(backend)
            })
            .await
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
                let marked = c
                    .prepare_cached(
                        "UPDATE listing_drafts SET status = 'published', published_at = ?4
                         WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3 AND published_at IS NULL",
                    )
                    .and_then(|mut s| s.execute(params![l.marketplace_id, l.partner_id, draft_id, ms(published_at)]))
                    .map_err(backend)?;
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
        let dir = std::env::temp_dir().join(format!("partnerd-test-plan-{}", partnerd_domain::ids::random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let mut conn = crate::conn::open_connection(&dir.join("plan.db"), false).unwrap();
        crate::migrate::run(&mut conn).unwrap();
        conn.execute_batch("ANALYZE").unwrap();
        for (sql, index) in [
            (list_by_status_sql(), "listings_by_partner_status"),
            (list_sql(), "listings_by_partner"),
            (get_sql().to_owned(), "sqlite_autoindex_listings_1"),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(rusqlite::params_from_iter(std::iter::repeat_n("x", sql.matches('?').count())), |r| {
                    r.get::<_, String>(3)
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let text = plan.join(" | ");
            assert!(text.contains(index), "{sql}: {text}");
            assert!(!text.contains("SCAN listings") || text.contains("USING INDEX"), "{text}");
            assert!(!text.contains("TEMP B-TREE"), "sorted by the index, not afterwards: {text}");
        }
    }
}
