//! Support tickets and partner metrics on SQLite: the declaration, SQL and figure assembly are
//! `partnerd_store::schema::tickets`.

use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::tickets::{self as tsql, MetricsRows};
use partnerd_store::*;

#[async_trait]
impl TicketStore for SqliteStore {
    async fn create_ticket(&self, t: TicketRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &t, "ticket id taken")?;
                append_events(c, &t.marketplace_id, t.created_at, &events)
            })
            .await
    }

    async fn get_ticket(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<TicketRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, tsql::GET_TICKET.sqlite(), &args![m, p, id])).await
    }

    async fn list_tickets(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &TicketFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<TicketRecord>> {
        let (total_sql, page_sql, f) = tsql::list_tickets(DIALECT, marketplace_id, partner_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("tickets", total)?, next })
            })
            .await
    }

    async fn update_ticket(&self, t: TicketRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                versioned_update(c, &t, expected_version)?;
                append_events(c, &t.marketplace_id, t.updated_at, &events)
            })
            .await
    }
}

#[async_trait]
impl MetricsStore for SqliteStore {
    async fn partner_metrics(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        w: MetricsWindows,
    ) -> StoreResult<MetricsFigures> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                let window = args![m, p, w.start, w.end];
                let rows = MetricsRows {
                    customers_by_status: query_all(c, tsql::CUSTOMERS_BY_STATUS.sqlite(), &args![m, p])?,
                    flow: query_one(c, tsql::CUSTOMER_FLOW.sqlite(), &args![m, p, w.start, w.end, w.previous_start])?,
                    mrr: query_all(c, tsql::MRR_BASIS.sqlite(), &args![m, p, w.start])?,
                    revenue: query_one(c, tsql::REVENUE.sqlite(), &window)?,
                    tickets_by_status: query_all(c, tsql::TICKETS_BY_STATUS.sqlite(), &args![m, p])?,
                    ticket_window: query_one(c, tsql::TICKET_WINDOW.sqlite(), &window)?,
                    first_responses: query_all(c, tsql::FIRST_RESPONSES.sqlite(), &window)?,
                    resolutions: query_all(c, tsql::RESOLUTIONS.sqlite(), &window)?,
                    ratings: query_all(c, tsql::RATINGS.sqlite(), &window)?,
                };
                tsql::metrics_figures(rows)
            })
            .await
    }
}
