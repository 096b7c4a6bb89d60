//! Analytics aggregates and stored reports on SQLite. Every figure is one indexed query.

use crate::conn::backend;
use crate::listings::{COLUMNS as LISTING_COLUMNS, listing_from_row};
use crate::{SqliteStore, append_events, at, ms, write_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::NewEvent;
use partnerd_store::*;
use rusqlite::{OptionalExtension, Row, params};

const REPORT_COLUMNS: &str =
    "id, marketplace_id, partner_id, report_type, period, period_start, period_end, trigger, data, created_at";

fn report_from_row(r: &Row<'_>) -> rusqlite::Result<ReportRecord> {
    let data: String = r.get(8)?;
    Ok(ReportRecord {
        id: r.get(0)?,
        marketplace_id: r.get(1)?,
        partner_id: r.get(2)?,
        report_type: r.get(3)?,
        period: r.get(4)?,
        period_start: at(r.get(5)?),
        period_end: at(r.get(6)?),
        trigger: r.get(7)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        created_at: at(r.get(9)?),
    })
}

/// Both sides of a partner's deals, each side through its own index.
const BOTH_SIDES: &str = "SELECT * FROM opportunities WHERE marketplace_id = ?1 AND owner_partner_id = ?2
                          UNION ALL
                          SELECT * FROM opportunities WHERE marketplace_id = ?1 AND cosell_partner_id = ?2";

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn listing_totals(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<ListingTotals> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT COALESCE(SUM(n), 0), COALESCE(SUM(score_sum), 0) FROM listing_counts
                     WHERE marketplace_id = ?1 AND partner_id = ?2 AND status <> 'archived'",
                )
                .and_then(|mut s| {
                    s.query_row(params![m, p], |r| {
                        Ok(ListingTotals {
                            count: r.get::<_, i64>(0)?.max(0) as u64,
                            score_sum: r.get::<_, i64>(1)?.max(0) as u64,
                        })
                    })
                })
                .map_err(backend)
            })
            .await
    }

    async fn top_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<ListingRecord>> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {LISTING_COLUMNS} FROM listings INDEXED BY listings_by_score
                     WHERE marketplace_id = ?1 AND partner_id = ?2 AND status <> 'archived'
                     ORDER BY seo_score DESC, id LIMIT ?3"
                ))
                .and_then(|mut s| s.query_map(params![m, p, limit], listing_from_row)?.collect())
                .map_err(backend)
            })
            .await
    }

    async fn cosell_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<CosellFigures> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                let (start, end) = (ms(start), ms(end));
                let (created, won): (i64, i64) = c
                    .prepare_cached(&format!(
                        "SELECT COALESCE(SUM(created_at >= ?3 AND created_at < ?4), 0),
                                COALESCE(SUM(CASE WHEN status = 'won' AND closed_at >= ?3 AND closed_at < ?4
                                                  THEN deal_value_cents ELSE 0 END), 0)
                         FROM ({BOTH_SIDES})"
                    ))
                    .and_then(|mut s| s.query_row(params![m, p, start, end], |r| Ok((r.get(0)?, r.get(1)?))))
                    .map_err(backend)?;
                let rows: Vec<(String, i64, i64)> = c
                    .prepare_cached(&format!(
                        "SELECT status, COUNT(*), COALESCE(SUM(deal_value_cents), 0) FROM ({BOTH_SIDES}) GROUP BY status"
                    ))
                    .and_then(|mut s| s.query_map(params![m, p], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
                    .map_err(backend)?;
                let by_status: Vec<StatusFigure> = OpportunityStatus::ALL
                    .into_iter()
                    .map(|st| {
                        let (count, value) =
                            rows.iter().find(|(s, _, _)| s == st.as_str()).map(|(_, n, v)| (*n, *v)).unwrap_or((0, 0));
                        StatusFigure { status: st, count: count.max(0) as u64, value_cents: value }
                    })
                    .collect();
                let pipeline_cents = by_status.iter().filter(|s| s.status.is_pipeline()).map(|s| s.value_cents).sum();
                Ok(CosellFigures { created: created.max(0) as u64, pipeline_cents, won_cents: won, by_status })
            })
            .await
    }

    async fn content_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<ContentFigures> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                let count = |sql: &str| -> StoreResult<u64> {
                    c.prepare_cached(sql)
                        .and_then(|mut s| s.query_row(params![m, p, ms(start), ms(end)], |r| r.get::<_, i64>(0)))
                        .map(|n| n.max(0) as u64)
                        .map_err(backend)
                };
                Ok(ContentFigures {
                    generated: count(
                        "SELECT COUNT(*) FROM listing_drafts WHERE marketplace_id = ?1 AND partner_id = ?2
                         AND created_at >= ?3 AND created_at < ?4",
                    )?,
                    published: count(
                        "SELECT COUNT(*) FROM listing_drafts WHERE marketplace_id = ?1 AND partner_id = ?2
                         AND published_at >= ?3 AND published_at < ?4",
                    )?,
                })
            })
            .await
    }

    async fn create_report(&self, r: ReportRecord, events: Vec<NewEvent>) -> StoreResult<bool> {
        self.writer
            .write(move |c| {
                let inserted = c
                    .prepare_cached(&format!(
                        "INSERT INTO reports ({REPORT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                         ON CONFLICT DO NOTHING"
                    ))
                    .and_then(|mut s| {
                        s.execute(params![
                            r.id,
                            r.marketplace_id,
                            r.partner_id,
                            r.report_type,
                            r.period,
                            ms(r.period_start),
                            ms(r.period_end),
                            r.trigger,
                            r.data.to_string(),
                            ms(r.created_at),
                        ])
                    })
                    .map_err(|e| write_error(e, "report id taken"))?;
                if inserted == 1 {
                    append_events(c, &r.marketplace_id, r.created_at, &events)?;
                }
                Ok(inserted == 1)
            })
            .await
    }

    async fn list_reports(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<ReportRecord>, u64)> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                let total: i64 = c
                    .prepare_cached("SELECT COUNT(*) FROM reports WHERE marketplace_id = ?1 AND partner_id = ?2")
                    .and_then(|mut s| s.query_row(params![m, p], |r| r.get(0)))
                    .map_err(backend)?;
                let items = c
                    .prepare_cached(&format!(
                        "SELECT {REPORT_COLUMNS} FROM reports WHERE marketplace_id = ?1 AND partner_id = ?2
                         ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
                    ))
                    .and_then(|mut s| {
                        s.query_map(params![m, p, limit, i64::try_from(offset).unwrap_or(i64::MAX)], report_from_row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(backend)?;
                Ok((items, total.max(0) as u64))
            })
            .await
    }

    async fn get_report(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<ReportRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {REPORT_COLUMNS} FROM reports WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3"
                ))
                .and_then(|mut s| s.query_row(params![m, p, id], report_from_row).optional())
                .map_err(backend)
            })
            .await
    }
}
