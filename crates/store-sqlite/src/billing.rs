//! Customer accounts and billing on SQLite: the declarations and SQL are
//! `partnerd_store::schema::{customers, billing}`. The single writer serialises every issue, so
//! the counter row alone keeps invoice numbers gap-free.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, run, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::invoice::InvoiceStatus;
use partnerd_store::kit::count;
use partnerd_store::schema::billing::{self as bsql, invoice_number};
use partnerd_store::schema::customers as csql;
use partnerd_store::*;
use rusqlite::Connection;

/// Numbers the invoice from the marketplace's counter and stores it with its commission.
pub(crate) fn issue(c: &Connection, new: NewInvoice) -> StoreResult<InvoiceRecord> {
    let NewInvoice { mut invoice, mut commission, number_prefix } = new;
    let (n,): (i64,) = query_one(c, bsql::NEXT_NUMBER.sqlite(), &args![invoice.marketplace_id])?;
    invoice.number = invoice_number(&number_prefix, n);
    commission.invoice_number = invoice.number.clone();
    insert(c, &invoice, "an invoice for this period exists already")?;
    insert(c, &commission, "this invoice has its commission already")?;
    Ok(invoice)
}

/// The links with their accounts (one read for the page).
fn with_accounts(c: &Connection, marketplace_id: &str, links: Vec<CustomerLink>) -> StoreResult<Vec<CustomerEntry>> {
    let ids: Vec<String> = links.iter().filter_map(|l| l.account_id.clone()).collect();
    let found: Vec<CustomerAccountRecord> = if ids.is_empty() {
        Vec::new()
    } else {
        let (sql, f) = csql::accounts_of(DIALECT, &ids);
        query_all(c, &sql, f.args())?
    };
    Ok(csql::with_accounts(marketplace_id, links, found))
}

#[async_trait]
impl BillingStore for SqliteStore {
    async fn create_customer(
        &self,
        company: CompanyRecord,
        association: AssociationRecord,
        account: CustomerAccountRecord,
        first_invoice: NewInvoice,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord> {
        self.writer
            .write(move |c| {
                insert(c, &company, EXTERNAL_ID_TAKEN)?;
                insert(c, &association, ASSOCIATION_EXISTS)?;
                insert(c, &account, "this company has a customer account already")?;
                let invoice = issue(c, first_invoice)?;
                append_events(c, &company.marketplace_id, company.created_at, &events)?;
                Ok(invoice)
            })
            .await
    }

    async fn get_customer(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<CustomerAccountRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), customer_id.to_owned());
        self.readers.read(move |c| query_opt(c, csql::GET_CUSTOMER.sqlite(), &args![m, p, id])).await
    }

    async fn list_customers(
        &self,
        marketplace_id: &str,
        partner_company_id: &str,
        filter: &CustomerFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<CustomerEntry>> {
        let m = marketplace_id.to_owned();
        let (total_sql, page_sql, f) =
            csql::list_customers(DIALECT, marketplace_id, partner_company_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (links, next): (Vec<CustomerLink>, _) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items: with_accounts(c, &m, links)?, total: count("customers", total)?, next })
            })
            .await
    }

    async fn get_customer_entry(
        &self,
        marketplace_id: &str,
        partner_company_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<CustomerEntry>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_company_id.to_owned(), customer_id.to_owned());
        self.readers
            .read(move |c| {
                let link: Option<CustomerLink> = query_opt(c, csql::GET_CUSTOMER_LINK.sqlite(), &args![m, p, id])?;
                Ok(with_accounts(c, &m, link.into_iter().collect())?.pop())
            })
            .await
    }

    async fn start_customer(
        &self,
        account: CustomerAccountRecord,
        first_invoice: NewInvoice,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord> {
        self.writer
            .write(move |c| {
                insert(c, &account, "this company has a customer account already")?;
                let invoice = issue(c, first_invoice)?;
                append_events(c, &account.marketplace_id, account.created_at, &events)?;
                Ok(invoice)
            })
            .await
    }

    async fn company_billing(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<CompanyBilling>> {
        let (m, id) = (marketplace_id.to_owned(), company_id.to_owned());
        self.readers.read(move |c| query_all(c, csql::COMPANY_BILLING.sqlite(), &args![m, id])).await
    }

    async fn update_customer(
        &self,
        account: CustomerAccountRecord,
        expected_version: i64,
        invoice: Option<NewInvoice>,
        events: Vec<NewEvent>,
    ) -> StoreResult<Option<InvoiceRecord>> {
        self.writer
            .write(move |c| {
                versioned_update(c, &account, expected_version)?;
                let issued = invoice.map(|i| issue(c, i)).transpose()?;
                append_events(c, &account.marketplace_id, account.updated_at, &events)?;
                Ok(issued)
            })
            .await
    }

    async fn customers_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<CustomerAccountRecord>> {
        self.readers.read(move |c| query_all(c, csql::CUSTOMERS_DUE.sqlite(), &args![now, limit])).await
    }

    async fn get_invoice(
        &self,
        marketplace_id: &str,
        partner_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<InvoiceRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.map(str::to_owned), id.to_owned());
        let found: Option<InvoiceRecord> =
            self.readers.read(move |c| query_opt(c, bsql::GET_INVOICE.sqlite(), &args![m, id])).await?;
        Ok(found.filter(|i| p.as_ref().is_none_or(|p| *p == i.partner_id)))
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
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("invoices", total)?, next })
            })
            .await
    }

    async fn latest_invoice_ids(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let (m, cu) = (marketplace_id.to_owned(), customer_id.to_owned());
        let rows: Vec<(String,)> =
            self.readers.read(move |c| query_all(c, bsql::LATEST_INVOICES.sqlite(), &args![m, cu, limit])).await?;
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
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                if execute(c, bsql::MOVE_INVOICE.sqlite(), &args![m, id, from, to, at], "")? != 1 {
                    return Err(StoreError::Conflict(format!("the invoice is no longer {}", from.as_str())));
                }
                if to == InvoiceStatus::Void {
                    run(c, &bsql::REVERSE_COMMISSION, &args![m, id, at])?;
                    if credit_back_cents != 0 {
                        let invoice: InvoiceRecord = query_opt(c, bsql::GET_INVOICE.sqlite(), &args![m, id])?
                            .ok_or(StoreError::NotFound("invoice"))?;
                        run(c, &bsql::RETURN_CREDIT, &args![m, invoice.customer_id, credit_back_cents, at])?;
                    }
                }
                append_events(c, &m, at, &events)?;
                query_opt(c, bsql::GET_INVOICE.sqlite(), &args![m, id])?.ok_or(StoreError::NotFound("invoice"))
            })
            .await
    }

    async fn list_commissions(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &CommissionFilter,
    ) -> StoreResult<Vec<CommissionRecord>> {
        let (rows_sql, f) = bsql::list_commissions(DIALECT, marketplace_id, partner_id, filter);
        self.readers.read(move |c| query_all(c, &rows_sql, f.args())).await
    }

    async fn commission_rate(&self, partner_id: &str) -> StoreResult<Option<u32>> {
        let p = partner_id.to_owned();
        let row: Option<(u32,)> = self.readers.read(move |c| query_opt(c, bsql::GET_RATE.sqlite(), &args![p])).await?;
        Ok(row.map(|(r,)| r))
    }

    async fn set_commission_rate(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        rate_bps: Option<u32>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.writer
            .write(move |c| {
                match rate_bps {
                    Some(r) => run(c, &bsql::SET_RATE, &args![p, m, r, at])?,
                    None => run(c, &bsql::CLEAR_RATE, &args![p])?,
                };
                Ok(())
            })
            .await
    }
}
