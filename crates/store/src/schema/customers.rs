//! Reseller customer accounts: what an account adds to its customer company (contact, plan,
//! billing cycle, status, current period). The company and its association with the partner's
//! company are `schema::accounts`' rows.

use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Column, Dialect, Filter, Query, RowRead, Table, ToValue, Value};
use crate::{record, sql, versioned};
use chrono::{DateTime, Utc};
use partnerd_domain::billing::BillingCycle;
use partnerd_domain::customer::CustomerStatus;
use partnerd_domain::invoice::InvoiceStatus;
use std::borrow::Cow;

/// Status enums stored by name; an unknown name is corruption, reported naming the column.
macro_rules! named {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value<'_> {
                Value::Text(Cow::Borrowed(self.as_str()))
            }
        }
        impl Column for $ty {
            fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String> {
                let s = row.text(idx)?;
                <$ty>::parse(&s).map_err(|e| format!("unknown value: {e}"))
            }
        }
    )*};
}
named!(BillingCycle, CustomerStatus, InvoiceStatus);
pub(crate) use named;

/// A customer account with its company's name.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerAccountRecord {
    /// The customer company's id: one id for the account on every surface.
    pub customer_id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub association_id: String,
    /// Read only: the customer company's name.
    pub company_name: String,
    pub contact_email: String,
    pub contact_name: String,
    pub phone: Option<String>,
    pub plan: String,
    pub billing_cycle: BillingCycle,
    pub status: CustomerStatus,
    pub currency: String,
    /// Periods are counted from here (`domain::billing::period`).
    pub billing_anchor: DateTime<Utc>,
    pub period_number: u32,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    /// Cents the customer owes (positive) or has in credit (negative), applied to the next
    /// invoice.
    pub balance_cents: i64,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

record! {
    CustomerAccountRecord in "customer_accounts" as "ca" {
        customer_id: key "customer_id",
        marketplace_id: key "marketplace_id",
        partner_id: fixed "partner_id",
        association_id: fixed "association_id",
        company_name: read "(SELECT co.name FROM companies co WHERE co.id = ca.customer_id)",
        contact_email: set "contact_email",
        contact_name: set "contact_name",
        phone: set "phone",
        plan: set "plan",
        billing_cycle: set "billing_cycle",
        status: set "status",
        currency: fixed "currency",
        billing_anchor: set "billing_anchor",
        period_number: set "period_number",
        current_period_start: set "current_period_start",
        current_period_end: set "current_period_end",
        balance_cents: set "balance_cents",
        cancelled_at: set "cancelled_at",
        version: set "version",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

versioned!(CustomerAccountRecord, "customer", (), "");

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub status: Option<CustomerStatus>,
    pub plan: Option<String>,
}

/// `$1` marketplace, `$2` partner, `$3` customer.
pub static GET_CUSTOMER: Query = sql!(
    "SELECT {} FROM customer_accounts ca WHERE ca.marketplace_id = $1 AND ca.partner_id = $2 AND ca.customer_id = $3",
    CustomerAccountRecord::select_list()
);

/// `$1` now, `$2` limit: billed accounts whose current period ended, oldest first.
pub static CUSTOMERS_DUE: Query = sql!(
    "SELECT {} FROM customer_accounts ca WHERE ca.status <> 'cancelled' AND ca.current_period_end <= $1
     ORDER BY ca.current_period_end, ca.customer_id LIMIT $2",
    CustomerAccountRecord::select_list()
);

/// A customer of a partner: a company associated with the partner's company (its
/// `company_associations` row), whether or not it has an account (a plan) yet. A company a
/// reseller created through the AppReseller API has none until a plan is set.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerLink {
    /// The customer company's id.
    pub customer_id: String,
    pub association_id: String,
    pub company_name: String,
    /// The company's phone.
    pub phone: Option<String>,
    /// When the association was made: a plan-less customer's creation time.
    pub associated_at: DateTime<Utc>,
    /// The account's id (the company's) once it has one.
    pub account_id: Option<String>,
}

record! {
    CustomerLink {
        customer_id: read "a.customer_company_id",
        association_id: read "a.id",
        company_name: read "cc.name",
        phone: read "cc.phone",
        associated_at: read "a.created_at",
        account_id: read "ca.customer_id",
    }
}

/// A partner's customer: the association and, once it has a plan, its account.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerEntry {
    pub link: CustomerLink,
    pub account: Option<CustomerAccountRecord>,
}

/// The partner's customers are its company's associations; an account belongs to exactly one
/// association, so the join never repeats a row.
const LINK_TABLES: &str = "company_associations a JOIN companies cc ON cc.id = a.customer_company_id
     LEFT JOIN customer_accounts ca ON ca.association_id = a.id";

/// `$1` marketplace, `$2` the partner's company, `$3` customer company.
pub static GET_CUSTOMER_LINK: Query = sql!(
    "SELECT {} FROM {LINK_TABLES} WHERE a.marketplace_id = $1 AND a.reseller_company_id = $2 AND a.customer_company_id = $3",
    crate::kit::column_list::<CustomerLink>()
);

/// `$1` marketplace, `$2` association: the account carried by an association, if any.
pub static ACCOUNT_OF_ASSOCIATION: Query = sql!(
    "SELECT {} FROM customer_accounts ca WHERE ca.marketplace_id = $1 AND ca.association_id = $2",
    CustomerAccountRecord::select_list()
);

/// The accounts of `customer_ids` (a page of [`CustomerLink`]s with one), by primary key
/// alone: callers keep those of their marketplace. With the marketplace in the condition,
/// SQLite's planner preferred walking the marketplace's accounts to twenty key lookups (72 %
/// of the customer list's time at 10,000 accounts).
pub fn accounts_of(dialect: Dialect, customer_ids: &[String]) -> (String, Filter) {
    let text = |s: &str| Value::Text(Cow::Owned(s.to_owned()));
    let mut f = Filter::new(dialect);
    f.is_in("ca.customer_id", customer_ids.iter().map(|c| text(c)));
    f.order_by(&[], "ca.customer_id");
    (format!("SELECT {} FROM customer_accounts ca{}", CustomerAccountRecord::select_list(), f.clause()), f)
}

/// The links with the accounts [`accounts_of`] found for them, those of `marketplace_id` only.
pub fn with_accounts(
    marketplace_id: &str,
    links: Vec<CustomerLink>,
    found: Vec<CustomerAccountRecord>,
) -> Vec<CustomerEntry> {
    let mut accounts: std::collections::HashMap<String, CustomerAccountRecord> =
        found.into_iter().filter(|a| a.marketplace_id == marketplace_id).map(|a| (a.customer_id.clone(), a)).collect();
    links
        .into_iter()
        .map(|link| {
            let account = link.account_id.as_ref().and_then(|id| accounts.remove(id));
            CustomerEntry { link, account }
        })
        .collect()
}

const CUSTOMER_ORDER: &str = "a.created_at DESC, a.customer_company_id DESC";

/// `(count SQL, page SQL, filter)` over the partner company's associations, newest first. A
/// plan-less customer's status is `active`; a `plan` filter matches accounts only.
pub fn list_customers(
    dialect: Dialect,
    marketplace_id: &str,
    partner_company_id: &str,
    filter: &CustomerFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let text = |s: &str| Value::Text(Cow::Owned(s.to_owned()));
    let mut f = Filter::new(dialect);
    f.eq("a.marketplace_id", text(marketplace_id)).eq("a.reseller_company_id", text(partner_company_id));
    if let Some(s) = filter.status {
        f.and("COALESCE(ca.status, 'active') = ?", [text(s.as_str())]);
    }
    if let Some(p) = &filter.plan {
        f.eq("ca.plan", text(p));
    }
    // Unfiltered, the total is the partner's counter row (migration 0024), whose columns and
    // alias match the associations' so that the same conditions apply.
    let account_filtered = filter.status.is_some() || filter.plan.is_some();
    let count = if !account_filtered {
        format!("SELECT CAST(COALESCE(SUM(a.n), 0) AS BIGINT) FROM customer_counts a{}", f.conditions())
    } else {
        format!("SELECT COUNT(*) FROM {LINK_TABLES}{}", f.conditions())
    };
    f.order_by(&[], CUSTOMER_ORDER).window(limit, window)?;
    // A deferred join: the page's associations first (over the partner's index, joining the
    // accounts only when a filter needs them), then the 20 rows' company and account; skipped
    // rows cost an index step, not two joins each. An association's company always exists.
    let ids_from = if account_filtered {
        "company_associations a LEFT JOIN customer_accounts ca ON ca.association_id = a.id"
    } else {
        "company_associations a"
    };
    let page = f.deferred_page(&crate::kit::column_list::<CustomerLink>(), LINK_TABLES, ids_from, "a.id");
    Ok((count, page, f))
}

/// Per currency: a company's open invoices and what it has paid.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyBilling {
    pub currency: String,
    pub open_invoices: i64,
    pub paid_cents: i64,
}

record! {
    CompanyBilling {
        currency: read "i.currency",
        open_invoices: read "CAST(SUM(CASE WHEN i.status = 'open' THEN 1 ELSE 0 END) AS BIGINT)",
        paid_cents: read "CAST(SUM(CASE WHEN i.status = 'paid' THEN i.total_cents ELSE 0 END) AS BIGINT)",
    }
}

/// `$1` marketplace, `$2` company.
pub static COMPANY_BILLING: Query = sql!(
    "SELECT {} FROM invoices i WHERE i.marketplace_id = $1 AND i.customer_id = $2 GROUP BY i.currency ORDER BY i.currency",
    crate::kit::column_list::<CompanyBilling>()
);

/// `$1` marketplace, `$2` association: whether it carries an account that is not cancelled.
pub static OPEN_ACCOUNTS_OF_ASSOCIATION: Query = sql!(
    "SELECT COUNT(*) FROM customer_accounts WHERE marketplace_id = $1 AND association_id = $2 AND status <> 'cancelled'"
);
