//! Analytics aggregates and stored reports on PostgreSQL: the SQL is `partnerd_store::schema::analytics`.

use crate::kit::DIALECT;
use crate::kit::{execute, query_all, query_one, query_opt};
use crate::{Fanned, PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Query, Table, cosell_figures, count};
use partnerd_store::schema::analytics as sql;
use partnerd_store::*;

static TOP_LISTINGS: Query = partnerd_store::sql!(
    "SELECT {} FROM listings WHERE marketplace_id = $1 AND partner_id = $2 AND status <> 'archived'
     ORDER BY seo_score DESC, id LIMIT $3",
    ListingRecord::select_list()
);

#[async_trait]
impl AnalyticsStore for PostgresStore {
    async fn listing_totals(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<ListingTotals> {
        let c = self.client().await?;
        let (n, score): (i64, i64) =
            query_one(&c, sql::LISTING_TOTALS.postgres(), &args![marketplace_id, partner_id]).await?;
        Ok(ListingTotals { count: count("listings", n)?, score_sum: count("listing scores", score)? })
    }

    async fn top_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<ListingRecord>> {
        let c = self.client().await?;
        query_all(&c, TOP_LISTINGS.postgres(), &args![marketplace_id, partner_id, limit]).await
    }

    async fn cosell_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<CosellFigures> {
        let c = self.client().await?;
        let (created, won_high, won_low): (i64, i64, i64) =
            query_one(&c, sql::COSELL_WINDOW.postgres(), &args![marketplace_id, partner_id, start, end]).await?;
        let rows: Vec<(OpportunityStatus, i64, i64, i64)> =
            query_all(&c, sql::COSELL_BY_STATUS.postgres(), &args![marketplace_id, partner_id]).await?;
        cosell_figures(created, (won_high, won_low), &rows)
    }

    async fn content_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<ContentFigures> {
        let c = self.client().await?;
        let (generated, published): (i64, i64) =
            query_one(&c, sql::CONTENT_FIGURES.postgres(), &args![marketplace_id, partner_id, start, end]).await?;
        Ok(ContentFigures { generated: count("drafts", generated)?, published: count("drafts", published)? })
    }

    async fn create_report(&self, r: ReportRecord, events: Vec<NewEvent>) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let inserted = execute(&tx, sql::INSERT_REPORT.postgres(), &r.insert_values(), "report id taken").await? == 1;
        let mut fanned = Fanned::default();
        if inserted {
            fanned = append_events(&tx, &r.marketplace_id, r.created_at, &events).await?;
        }
        self.commit(tx, fanned).await?;
        Ok(inserted)
    }

    async fn list_reports(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<ReportRecord>> {
        let (page_sql, f) = sql::list_reports(DIALECT, marketplace_id, partner_id, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, sql::REPORT_COUNT.postgres(), f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("reports", total)?, next })
    }

    async fn get_report(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<ReportRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_REPORT.postgres(), &args![marketplace_id, partner_id, id]).await
    }
}
