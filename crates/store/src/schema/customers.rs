//! Reseller customer accounts: what an account adds to its customer company (contact, plan,
//! billing cycle, status, current period). The company and its association with the partner's
//! company are `schema::accounts`' rows.

use crate::kit::{Column, Dialect, Filter, Order, Query, RowRead, Table, ToValue, Value};
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

/// `(count SQL, page SQL, filter)`: newest first.
pub fn list_customers(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    filter: &CustomerFilter,
    offset: u64,
    limit: u32,
) -> (String, String, Filter) {
    let text = |s: &str| Value::Text(Cow::Owned(s.to_owned()));
    let mut f = Filter::new(dialect);
    f.eq("ca.marketplace_id", text(marketplace_id)).eq("ca.partner_id", text(partner_id));
    if let Some(s) = filter.status {
        f.eq("ca.status", text(s.as_str()));
    }
    if let Some(p) = &filter.plan {
        f.eq("ca.plan", text(p));
    }
    let count = format!("SELECT COUNT(*) FROM customer_accounts ca{}", f.conditions());
    f.order_by(&[("ca.created_at", Order::Desc)], "ca.customer_id DESC").page(limit, offset);
    let page = format!("SELECT {} FROM customer_accounts ca{}", CustomerAccountRecord::select_list(), f.clause());
    (count, page, f)
}
