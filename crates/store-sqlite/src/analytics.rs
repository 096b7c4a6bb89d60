//! Analytics aggregates and stored reports on SQLite: the SQL is `partnerd_store::schema::analytics`.

use crate::kit::DIALECT;
use crate::kit::{execute, query_all, query_one, query_opt};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Query, Table, cosell_figures, count};
use partnerd_store::schema::analytics as sql;
use partnerd_store::*;

/// SQLite's planner needs to be told which index serves "best scores first".
static TOP_LISTINGS: Query = partnerd_store::sql!(
    "SELECT {} FROM listings INDEXED BY listings_by_score
     WHERE marketplace_id = $1 AND partner_id = $2 AND status <> 'archived'
     ORDER BY seo_score DESC, id LIMIT $3",
    ListingRecord::select_list()
);

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn listing_totals(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<ListingTotals> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                let (n, score): (i64, i64) = query_one(c, sql::LISTING_TOTALS.sqlite(), &args![m, p])?;
                Ok(ListingTotals { count: count("listings", n)?, score_sum: count("listing scores", score)? })
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
        self.readers.read(move |c| query_all(c, TOP_LISTINGS.sqlite(), &args![m, p, limit])).await
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
                let (created, won_high, won_low): (i64, i64, i64) =
                    query_one(c, sql::COSELL_WINDOW.sqlite(), &args![m, p, start, end])?;
                let rows: Vec<(OpportunityStatus, i64, i64, i64)> =
                    query_all(c, sql::COSELL_BY_STATUS.sqlite(), &args![m, p])?;
                cosell_figures(created, (won_high, won_low), &rows)
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
                let (generated, published): (i64, i64) =
                    query_one(c, sql::CONTENT_FIGURES.sqlite(), &args![m, p, start, end])?;
                Ok(ContentFigures { generated: count("drafts", generated)?, published: count("drafts", published)? })
            })
            .await
    }

    async fn create_report(&self, r: ReportRecord, events: Vec<NewEvent>) -> StoreResult<bool> {
        self.writer
            .write(move |c| {
                let inserted = execute(c, sql::INSERT_REPORT.sqlite(), &r.insert_values(), "report id taken")? == 1;
                if inserted {
                    append_events(c, &r.marketplace_id, r.created_at, &events)?;
                }
                Ok(inserted)
            })
            .await
    }

    async fn list_reports(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<ReportRecord>> {
        let (page_sql, f) = sql::list_reports(DIALECT, marketplace_id, partner_id, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, sql::REPORT_COUNT.sqlite(), f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("reports", total)?, next })
            })
            .await
    }

    async fn get_report(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<ReportRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_REPORT.sqlite(), &args![m, p, id])).await
    }
}
