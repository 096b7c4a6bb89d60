//! AppReseller quotes on SQLite: the declarations and SQL are `partnerd_store::schema::quotes`.
//! A finalize is one writer job: the quote's versioned write and every purchase commit together
//! or not at all.

use crate::billing::issue;
use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::quotes as sql;
use partnerd_store::*;

#[async_trait]
impl QuoteStore for SqliteStore {
    async fn create_quote(&self, quote: QuoteRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &quote, "a quote with this id exists already")?;
                append_events(c, &quote.marketplace_id, quote.created_at, &events)
            })
            .await
    }

    async fn get_quote(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<QuoteRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_QUOTE.sqlite(), &args![m, id])).await
    }

    async fn update_quote(&self, quote: QuoteRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                versioned_update(c, &quote, expected_version)?;
                append_events(c, &quote.marketplace_id, quote.updated_at, &events)
            })
            .await
    }

    async fn finalize_quote(
        &self,
        quote: QuoteRecord,
        expected_version: i64,
        purchases: Vec<Purchase>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                versioned_update(c, &quote, expected_version)?;
                for (i, p) in purchases.into_iter().enumerate() {
                    insert(c, &p.subscription, &purchase_conflict(i))?;
                    if let Some(invoice) = p.invoice {
                        issue(c, invoice)?;
                    }
                    insert(c, &p.order, "an order with this id exists already")?;
                }
                append_events(c, &quote.marketplace_id, quote.updated_at, &events)
            })
            .await
    }

    async fn list_quotes(
        &self,
        marketplace_id: &str,
        filter: &QuoteFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<QuoteRecord>> {
        let (total_sql, page_sql, f) = sql::list_quotes(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("quotes", total)?, next })
            })
            .await
    }

    async fn leads_of_company(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<LeadRecord>> {
        let (m, id) = (marketplace_id.to_owned(), company_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::LEADS_OF_COMPANY.sqlite(), &args![m, id])).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::plans::{migrated, plan};
    use partnerd_store::schema::customers as csql;

    /// Without statistics (a deployment's database until someone runs ANALYZE) SQLite's planner
    /// guesses, and these reads once walked every row of the marketplace instead of seeking:
    /// an account page's twenty keys, a company's converted leads, and list totals. Each must
    /// seek its own index, and not sort again what that index orders.
    #[test]
    fn reseller_reads_seek_their_indexes() {
        let conn = migrated();
        let ids: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        let deep = Window::Offset(1_000);
        let (customers_total, customers_page, _) =
            csql::list_customers(DIALECT, "m", "co", &Default::default(), &deep, 20).unwrap();
        let own = QuoteFilter { owner_company_id: Some("co".into()), ..Default::default() };
        let (quotes_total, quotes_page, _) = sql::list_quotes(DIALECT, "m", &own, &deep, 10).unwrap();
        // (query, what the plan must use, the sorts it may make: none where the index orders,
        // one for a deferred join's own page)
        for (query, uses, sorts) in [
            (csql::accounts_of(DIALECT, &ids).0, "INDEX sqlite_autoindex_customer_accounts_1", None),
            (sql::LEADS_OF_COMPANY.sqlite().to_owned(), "INDEX leads_converted_company", Some(0)),
            (customers_total, "SEARCH a USING PRIMARY KEY", Some(0)),
            (customers_page, "COVERING INDEX company_associations_reseller_listed", Some(1)),
            (quotes_total, "SEARCH q USING PRIMARY KEY", Some(0)),
            (quotes_page, "COVERING INDEX quotes_owner", Some(1)),
        ] {
            let text = plan(&conn, &query);
            assert!(text.contains(uses), "{query}: {text}");
            assert!(!text.contains("SCAN"), "{query}: {text}");
            if let Some(sorts) = sorts {
                assert_eq!(text.matches("TEMP B-TREE").count(), sorts, "{query}: {text}");
            }
        }
    }
}
