//! Customer accounts and billing on PostgreSQL: the declarations and SQL are
//! `partnerd_store::schema::{customers, billing}`. The counter row's lock, held to commit,
//! queues concurrent issuers (across processes), and a rollback returns the number.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use partnerd_domain::events::NewEvent;
use partnerd_domain::invoice::InvoiceStatus;
use partnerd_store::kit::count;
use partnerd_store::schema::billing::{self as bsql, invoice_number};
use partnerd_store::schema::customers as csql;
use partnerd_store::*;

/// Numbers the invoice from the marketplace's counter and stores it with its commission. The
/// counter row stays locked until COMMIT, so every caller issues as its transaction's last
/// write: the marketplace's issuers queue only for the invoice's inserts and the commit.
pub(crate) async fn issue(c: &impl GenericClient, new: NewInvoice) -> StoreResult<InvoiceRecord> {
    let NewInvoice { mut invoice, mut commission, number_prefix } = new;
    let (n,): (i64,) = query_one(c, bsql::NEXT_NUMBER.postgres(), &args![invoice.marketplace_id]).await?;
    invoice.number = invoice_number(&number_prefix, n);
    commission.invoice_number = invoice.number.clone();
    insert(c, &invoice, "an invoice for this period exists already").await?;
    insert(c, &commission, "this invoice has its commission already").await?;
    Ok(invoice)
}

/// The links with their accounts (one read for the page).
async fn with_accounts(
    c: &impl GenericClient,
    marketplace_id: &str,
    links: Vec<CustomerLink>,
) -> StoreResult<Vec<CustomerEntry>> {
    let ids: Vec<String> = links.iter().filter_map(|l| l.account_id.clone()).collect();
    let found: Vec<CustomerAccountRecord> = if ids.is_empty() {
        Vec::new()
    } else {
        let (sql, f) = csql::accounts_of(DIALECT, &ids);
        query_all(c, &sql, f.args()).await?
    };
    Ok(csql::with_accounts(marketplace_id, links, found))
}

#[async_trait]
impl BillingStore for PostgresStore {
    async fn create_customer(
        &self,
        company: CompanyRecord,
        association: AssociationRecord,
        account: CustomerAccountRecord,
        first_invoice: NewInvoice,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &company, EXTERNAL_ID_TAKEN).await?;
        insert(&tx, &association, ASSOCIATION_EXISTS).await?;
        insert(&tx, &account, "this company has a customer account already").await?;
        let fanned = append_events(&tx, &company.marketplace_id, company.created_at, &events).await?;
        let invoice = issue(&tx, first_invoice).await?;
        self.commit(tx, fanned).await?;
        Ok(invoice)
    }

    async fn get_customer(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<CustomerAccountRecord>> {
        let c = self.client().await?;
        query_opt(&c, csql::GET_CUSTOMER.postgres(), &args![marketplace_id, partner_id, customer_id]).await
    }

    async fn list_customers(
        &self,
        marketplace_id: &str,
        partner_company_id: &str,
        filter: &CustomerFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<CustomerEntry>> {
        let (total_sql, page_sql, f) =
            csql::list_customers(DIALECT, marketplace_id, partner_company_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (links, next): (Vec<CustomerLink>, _) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items: with_accounts(&c, marketplace_id, links).await?, total: count("customers", total)?, next })
    }

    async fn get_customer_entry(
        &self,
        marketplace_id: &str,
        partner_company_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<CustomerEntry>> {
        let c = self.client().await?;
        let link: Option<CustomerLink> =
            query_opt(&c, csql::GET_CUSTOMER_LINK.postgres(), &args![marketplace_id, partner_company_id, customer_id])
                .await?;
        Ok(with_accounts(&c, marketplace_id, link.into_iter().collect()).await?.pop())
    }

    async fn start_customer(
        &self,
        account: CustomerAccountRecord,
        first_invoice: NewInvoice,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &account, "this company has a customer account already").await?;
        let fanned = append_events(&tx, &account.marketplace_id, account.created_at, &events).await?;
        let invoice = issue(&tx, first_invoice).await?;
        self.commit(tx, fanned).await?;
        Ok(invoice)
    }

    async fn company_billing(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<CompanyBilling>> {
        let c = self.client().await?;
        query_all(&c, csql::COMPANY_BILLING.postgres(), &args![marketplace_id, company_id]).await
    }

    async fn update_customer(
        &self,
        account: CustomerAccountRecord,
        expected_version: i64,
        invoice: Option<NewInvoice>,
        events: Vec<NewEvent>,
    ) -> StoreResult<Option<InvoiceRecord>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        versioned_update(&tx, &account, expected_version).await?;
        let fanned = append_events(&tx, &account.marketplace_id, account.updated_at, &events).await?;
        let issued = match invoice {
            Some(i) => Some(issue(&tx, i).await?),
            None => None,
        };
        self.commit(tx, fanned).await?;
        Ok(issued)
    }

    async fn customers_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<CustomerAccountRecord>> {
        let c = self.client().await?;
        query_all(&c, csql::CUSTOMERS_DUE.postgres(), &args![now, limit]).await
    }

    async fn get_invoice(
        &self,
        marketplace_id: &str,
        partner_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<InvoiceRecord>> {
        let c = self.client().await?;
        let found: Option<InvoiceRecord> =
            query_opt(&c, bsql::GET_INVOICE.postgres(), &args![marketplace_id, id]).await?;
        Ok(found.filter(|i| partner_id.is_none_or(|p| p == i.partner_id)))
    }

    async fn list_invoices(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &InvoiceFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<InvoiceRecord>> {
        let (total_sql, page_sql, f) = bsql::list_invoices(DIALECT, marketplace_id, partner_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("invoices", total)?, next })
    }

    async fn latest_invoice_ids(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let rows: Vec<(String,)> =
            query_all(&c, bsql::LATEST_INVOICES.postgres(), &args![marketplace_id, customer_id, limit]).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn move_invoice(
        &self,
        marketplace_id: &str,
        id: &str,
        from: InvoiceStatus,
        to: InvoiceStatus,
        at: DateTime<Utc>,
        credit_back_cents: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if execute(&tx, bsql::MOVE_INVOICE.postgres(), &args![marketplace_id, id, from, to, at], "").await? != 1 {
            return Err(StoreError::Conflict(format!("the invoice is no longer {}", from.as_str())));
        }
        if to == InvoiceStatus::Void {
            execute(&tx, bsql::REVERSE_COMMISSION.postgres(), &args![marketplace_id, id, at], "").await?;
            if credit_back_cents != 0 {
                let invoice: InvoiceRecord = query_opt(&tx, bsql::GET_INVOICE.postgres(), &args![marketplace_id, id])
                    .await?
                    .ok_or(StoreError::NotFound("invoice"))?;
                let returned = args![marketplace_id, invoice.customer_id, credit_back_cents, at];
                execute(&tx, bsql::RETURN_CREDIT.postgres(), &returned, "").await?;
            }
        }
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        let invoice = query_opt(&tx, bsql::GET_INVOICE.postgres(), &args![marketplace_id, id])
            .await?
            .ok_or(StoreError::NotFound("invoice"))?;
        self.commit(tx, fanned).await?;
        Ok(invoice)
    }

    async fn list_commissions(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &CommissionFilter,
    ) -> StoreResult<Vec<CommissionRecord>> {
        let (rows_sql, f) = bsql::list_commissions(DIALECT, marketplace_id, partner_id, filter);
        let c = self.client().await?;
        query_all(&c, &rows_sql, f.args()).await
    }

    async fn commission_rate(&self, partner_id: &str) -> StoreResult<Option<u32>> {
        let c = self.client().await?;
        let row: Option<(u32,)> = query_opt(&c, bsql::GET_RATE.postgres(), &args![partner_id]).await?;
        Ok(row.map(|(r,)| r))
    }

    async fn set_commission_rate(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        rate_bps: Option<u32>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.client().await?;
        match rate_bps {
            Some(r) => execute(&c, bsql::SET_RATE.postgres(), &args![partner_id, marketplace_id, r, at], "").await?,
            None => execute(&c, bsql::CLEAR_RATE.postgres(), &args![partner_id], "").await?,
        };
        Ok(())
    }
}
