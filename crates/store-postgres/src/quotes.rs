//! AppReseller quotes on PostgreSQL: the declarations and SQL are
//! `partnerd_store::schema::quotes`. A finalize is one transaction: the quote's versioned write
//! (which takes its row, so a second finalize waits and then finds it moved) and every purchase.

use crate::billing::issue;
use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::quotes as sql;
use partnerd_store::*;

#[async_trait]
impl QuoteStore for PostgresStore {
    async fn create_quote(&self, quote: QuoteRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &quote, "a quote with this id exists already").await?;
        let fanned = append_events(&tx, &quote.marketplace_id, quote.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_quote(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<QuoteRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_QUOTE.postgres(), &args![marketplace_id, id]).await
    }

    async fn update_quote(&self, quote: QuoteRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        versioned_update(&tx, &quote, expected_version).await?;
        let fanned = append_events(&tx, &quote.marketplace_id, quote.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn finalize_quote(
        &self,
        quote: QuoteRecord,
        expected_version: i64,
        purchases: Vec<Purchase>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        versioned_update(&tx, &quote, expected_version).await?;
        let mut invoices = Vec::new();
        for (i, p) in purchases.into_iter().enumerate() {
            insert(&tx, &p.subscription, &purchase_conflict(i)).await?;
            insert(&tx, &p.order, "an order with this id exists already").await?;
            invoices.extend(p.invoice);
        }
        let fanned = append_events(&tx, &quote.marketplace_id, quote.updated_at, &events).await?;
        for invoice in invoices {
            issue(&tx, invoice).await?;
        }
        self.commit(tx, fanned).await
    }

    async fn list_quotes(
        &self,
        marketplace_id: &str,
        filter: &QuoteFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<QuoteRecord>> {
        let (total_sql, page_sql, f) = sql::list_quotes(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("quotes", total)?, next })
    }

    async fn leads_of_company(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<LeadRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::LEADS_OF_COMPANY.postgres(), &args![marketplace_id, company_id]).await
    }
}
