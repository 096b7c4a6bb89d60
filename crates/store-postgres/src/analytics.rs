//! Analytics aggregates and stored reports on PostgreSQL. Every figure is one indexed query.

use crate::listings::{COLUMNS as LISTING_COLUMNS, listing_from_row};
use crate::{PostgresStore, append_events, exec, pg, query};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::NewEvent;
use partnerd_store::*;
use tokio_postgres::Row;

const REPORT_COLUMNS: &str =
    "id, marketplace_id, partner_id, report_type, period, period_start, period_end, trigger, data, created_at";

fn report_from_row(r: &Row) -> ReportRecord {
    ReportRecord {
        id: r.get(0),
        marketplace_id: r.get(1),
        partner_id: r.get(2),
        report_type: r.get(3),
        period: r.get(4),
        period_start: r.get(5),
        period_end: r.get(6),
        trigger: r.get(7),
        data: r.get(8),
        created_at: r.get(9),
    }
}

/// Both sides of a partner's deals, each side through its own index.
const BOTH_SIDES: &str = "SELECT * FROM opportunities WHERE marketplace_id = $1 AND owner_partner_id = $2
                          UNION ALL
                          SELECT * FROM opportunities WHERE marketplace_id = $1 AND cosell_partner_id = $2";

#[async_trait]
impl AnalyticsStore for PostgresStore {
    async fn listing_totals(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<ListingTotals> {
        let c = self.client().await?;
        let row = &query(
            &c,
            "SELECT COALESCE(SUM(n), 0)::BIGINT, COALESCE(SUM(score_sum), 0)::BIGINT FROM listing_counts
             WHERE marketplace_id = $1 AND partner_id = $2 AND status <> 'archived'",
            &[&marketplace_id, &partner_id],
        )
        .await?[0];
        Ok(ListingTotals { count: row.get::<_, i64>(0).max(0) as u64, score_sum: row.get::<_, i64>(1).max(0) as u64 })
    }

    async fn top_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<ListingRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {LISTING_COLUMNS} FROM listings WHERE marketplace_id = $1 AND partner_id = $2 AND status <> 'archived'
             ORDER BY seo_score DESC, id LIMIT $3"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id, &i64::from(limit)])
            .await?
            .iter()
            .map(listing_from_row)
            .collect())
    }

    async fn cosell_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<CosellFigures> {
        let c = self.client().await?;
        let row = &query(
            &c,
            &format!(
                "SELECT COUNT(*) FILTER (WHERE created_at >= $3 AND created_at < $4),
                        COALESCE(SUM(deal_value_cents) FILTER (WHERE status = 'won' AND closed_at >= $3 AND closed_at < $4), 0)::BIGINT
                 FROM ({BOTH_SIDES}) o"
            ),
            &[&marketplace_id, &partner_id, &start, &end],
        )
        .await?[0];
        let (created, won): (i64, i64) = (row.get(0), row.get(1));
        let rows = query(
            &c,
            &format!("SELECT status, COUNT(*), COALESCE(SUM(deal_value_cents), 0)::BIGINT FROM ({BOTH_SIDES}) o GROUP BY status"),
            &[&marketplace_id, &partner_id],
        )
        .await?;
        let by_status: Vec<StatusFigure> = OpportunityStatus::ALL
            .into_iter()
            .map(|st| {
                let (count, value) = rows
                    .iter()
                    .find(|r| r.get::<_, &str>(0) == st.as_str())
                    .map(|r| (r.get::<_, i64>(1), r.get::<_, i64>(2)))
                    .unwrap_or((0, 0));
                StatusFigure { status: st, count: count.max(0) as u64, value_cents: value }
            })
            .collect();
        let pipeline_cents = by_status.iter().filter(|s| s.status.is_pipeline()).map(|s| s.value_cents).sum();
        Ok(CosellFigures { created: created.max(0) as u64, pipeline_cents, won_cents: won, by_status })
    }

    async fn content_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<ContentFigures> {
        let c = self.client().await?;
        let row = &query(
            &c,
            "SELECT (SELECT COUNT(*) FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2
                       AND created_at >= $3 AND created_at < $4),
                    (SELECT COUNT(*) FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2
                       AND published_at >= $3 AND published_at < $4)",
            &[&marketplace_id, &partner_id, &start, &end],
        )
        .await?[0];
        Ok(ContentFigures {
            generated: row.get::<_, i64>(0).max(0) as u64,
            published: row.get::<_, i64>(1).max(0) as u64,
        })
    }

    async fn create_report(&self, r: ReportRecord, events: Vec<NewEvent>) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let inserted = exec(
            &tx,
            &format!("INSERT INTO reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"),
            &[&r.id, &r.marketplace_id, &r.partner_id, &r.report_type, &r.period, &r.period_start, &r.period_end, &r.trigger, &r.data, &r.created_at],
            "report id taken",
        )
        .await?;
        if inserted == 1 {
            append_events(&tx, &r.marketplace_id, r.created_at, &events).await?;
        }
        tx.commit().await.map_err(pg)?;
        Ok(inserted == 1)
    }

    async fn list_reports(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<ReportRecord>, u64)> {
        let c = self.client().await?;
        let total: i64 = query(
            &c,
            "SELECT COUNT(*) FROM reports WHERE marketplace_id = $1 AND partner_id = $2",
            &[&marketplace_id, &partner_id],
        )
        .await?[0]
            .get(0);
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE marketplace_id = $1 AND partner_id = $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let (limit, offset) = (i64::from(limit), i64::try_from(offset).unwrap_or(i64::MAX));
        let items = query(&c, &sql, &[&marketplace_id, &partner_id, &limit, &offset])
            .await?
            .iter()
            .map(report_from_row)
            .collect();
        Ok((items, total.max(0) as u64))
    }

    async fn get_report(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<ReportRecord>> {
        let c = self.client().await?;
        let sql =
            format!("SELECT {REPORT_COLUMNS} FROM reports WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3");
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id, &id]).await?.first().map(report_from_row))
    }
}
