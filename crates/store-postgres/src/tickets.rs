//! Support tickets and partner metrics on PostgreSQL: the declaration, SQL and figure assembly
//! are `partnerd_store::schema::tickets`. The metrics read runs in one repeatable-read
//! transaction, so its figures come from one snapshot.

use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::tickets::{self as tsql, MetricsRows};
use partnerd_store::*;

#[async_trait]
impl TicketStore for PostgresStore {
    async fn create_ticket(&self, t: TicketRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &t, "ticket id taken").await?;
        let fanned = append_events(&tx, &t.marketplace_id, t.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_ticket(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<TicketRecord>> {
        let c = self.client().await?;
        query_opt(&c, tsql::GET_TICKET.postgres(), &args![marketplace_id, partner_id, id]).await
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
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("tickets", total)?, next })
    }

    async fn update_ticket(&self, t: TicketRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        versioned_update(&tx, &t, expected_version).await?;
        let fanned = append_events(&tx, &t.marketplace_id, t.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }
}

#[async_trait]
impl MetricsStore for PostgresStore {
    async fn partner_metrics(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        w: MetricsWindows,
    ) -> StoreResult<MetricsFigures> {
        let (m, p) = (marketplace_id, partner_id);
        let mut c = self.client().await?;
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg)?;
        let window = args![m, p, w.start, w.end];
        let rows = MetricsRows {
            customers_by_status: query_all(&tx, tsql::CUSTOMERS_BY_STATUS.postgres(), &args![m, p]).await?,
            flow: query_one(&tx, tsql::CUSTOMER_FLOW.postgres(), &args![m, p, w.start, w.end, w.previous_start])
                .await?,
            mrr: query_all(&tx, tsql::MRR_BASIS.postgres(), &args![m, p, w.start]).await?,
            revenue: query_one(&tx, tsql::REVENUE.postgres(), &window).await?,
            tickets_by_status: query_all(&tx, tsql::TICKETS_BY_STATUS.postgres(), &args![m, p]).await?,
            ticket_window: query_one(&tx, tsql::TICKET_WINDOW.postgres(), &window).await?,
            first_responses: query_all(&tx, tsql::FIRST_RESPONSES.postgres(), &window).await?,
            resolutions: query_all(&tx, tsql::RESOLUTIONS.postgres(), &window).await?,
            ratings: query_all(&tx, tsql::RATINGS.postgres(), &window).await?,
        };
        tx.commit().await.map_err(pg)?;
        tsql::metrics_figures(rows)
    }
}
