//! Invoices, their numbering, commissions and per-partner commission rates.

use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Dialect, Filter, Order, Query, Table, Value};
use crate::{record, sql};
use chrono::{DateTime, Utc};
use partnerd_domain::invoice::InvoiceStatus;
use std::borrow::Cow;

/// Why an invoice was issued (Stripe's `billing_reason` names).
pub mod reasons {
    /// The first period, at account creation.
    pub const CREATE: &str = "subscription_create";
    /// A renewal, when a period starts.
    pub const CYCLE: &str = "subscription_cycle";
    /// A mid-period plan or cycle change.
    pub const UPDATE: &str = "subscription_update";
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub customer_id: String,
    /// Assigned by the store in the issuing transaction (`prefix` + 6 digits, sequential per
    /// marketplace); empty until then.
    pub number: String,
    pub billing_reason: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub currency: String,
    /// `[domain::billing::LineItem]`.
    pub line_items: serde_json::Value,
    pub subtotal_cents: i64,
    pub total_cents: i64,
    pub status: InvoiceStatus,
    pub commission_rate_bps: u32,
    pub commission_base_cents: i64,
    pub commission_cents: i64,
    /// When it was last marked paid, void or uncollectible.
    pub status_changed_at: Option<DateTime<Utc>>,
}

record! {
    InvoiceRecord in "invoices" as "i" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: fixed "partner_id",
        customer_id: fixed "customer_id",
        number: fixed "number",
        billing_reason: fixed "billing_reason",
        period_start: fixed "period_start",
        period_end: fixed "period_end",
        issued_at: fixed "issued_at",
        due_at: fixed "due_at",
        currency: fixed "currency",
        line_items: fixed "line_items",
        subtotal_cents: fixed "subtotal_cents",
        total_cents: fixed "total_cents",
        status: set "status",
        commission_rate_bps: fixed "commission_rate_bps",
        commission_base_cents: fixed "commission_base_cents",
        commission_cents: fixed "commission_cents",
        status_changed_at: set "status_changed_at",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommissionRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub customer_id: String,
    pub invoice_id: String,
    /// Copied from the invoice when it is issued.
    pub invoice_number: String,
    pub base_cents: i64,
    pub rate_bps: u32,
    pub amount_cents: i64,
    pub currency: String,
    /// `earned`, or `reversed` once its invoice is voided.
    pub status: String,
    pub earned_at: DateTime<Utc>,
    pub reversed_at: Option<DateTime<Utc>>,
}

record! {
    CommissionRecord in "commissions" as "cm" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: fixed "partner_id",
        customer_id: fixed "customer_id",
        invoice_id: fixed "invoice_id",
        invoice_number: fixed "invoice_number",
        base_cents: fixed "base_cents",
        rate_bps: fixed "rate_bps",
        amount_cents: fixed "amount_cents",
        currency: fixed "currency",
        status: set "status",
        earned_at: fixed "earned_at",
        reversed_at: set "reversed_at",
    }
}

/// An invoice to issue, with its commission: the store numbers both in the issuing
/// transaction.
#[derive(Debug, Clone)]
pub struct NewInvoice {
    pub invoice: InvoiceRecord,
    pub commission: CommissionRecord,
    /// Put before the zero-padded sequence number (`INV-` → `INV-000042`).
    pub number_prefix: String,
}

/// The invoice number for sequence `n`.
pub fn invoice_number(prefix: &str, n: i64) -> String {
    format!("{prefix}{n:06}")
}

#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub customer_id: Option<String>,
    pub status: Option<InvoiceStatus>,
    /// Issued at or after.
    pub issued_from: Option<DateTime<Utc>>,
    /// Issued before.
    pub issued_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct CommissionFilter {
    pub customer_id: Option<String>,
    /// Earned at or after.
    pub earned_from: Option<DateTime<Utc>>,
    /// Earned before.
    pub earned_before: Option<DateTime<Utc>>,
}

/// `$1` marketplace: the next number (the first makes the marketplace's counter row), taken in
/// the caller's transaction. PostgreSQL holds the row lock until commit, so concurrent issuers
/// queue and a rollback returns the number: the PostgreSQL store takes it as the transaction's
/// last write, so that the queue holds only the invoice's own inserts and the COMMIT.
pub static NEXT_NUMBER: Query = sql!(
    "INSERT INTO invoice_counters (marketplace_id, last_number) VALUES ($1, 1)
     ON CONFLICT (marketplace_id) DO UPDATE SET last_number = invoice_counters.last_number + 1
     RETURNING last_number"
);

/// `$1` marketplace, `$2` id (any partner's: operator commands).
pub static GET_INVOICE: Query =
    sql!("SELECT {} FROM invoices i WHERE i.marketplace_id = $1 AND i.id = $2", InvoiceRecord::select_list());

/// `$1` marketplace, `$2` id, `$3` expected status, `$4` new status, `$5` at.
pub static MOVE_INVOICE: Query = sql!(
    "UPDATE invoices SET status = $4, status_changed_at = $5 WHERE marketplace_id = $1 AND id = $2 AND status = $3"
);

/// `$1` marketplace, `$2` invoice, `$3` at: a voided invoice's commission.
pub static REVERSE_COMMISSION: Query = sql!(
    "UPDATE commissions SET status = 'reversed', reversed_at = $3
     WHERE marketplace_id = $1 AND invoice_id = $2 AND status = 'earned'"
);

/// `$1` marketplace, `$2` customer, `$3` cents, `$4` at: a voided invoice's applied credit goes
/// back to the balance (more credit is a lower balance); the version moves so a concurrent
/// versioned write of the account (a renewal) conflicts and re-reads.
pub static RETURN_CREDIT: Query = sql!(
    "UPDATE customer_accounts SET balance_cents = balance_cents - $3, version = version + 1, updated_at = $4
     WHERE marketplace_id = $1 AND customer_id = $2"
);

/// `$1` marketplace, `$2` customer, `$3` limit: the customer's latest invoice ids.
pub static LATEST_INVOICES: Query = sql!(
    "SELECT id FROM invoices WHERE marketplace_id = $1 AND customer_id = $2 ORDER BY issued_at DESC, number DESC LIMIT $3"
);

/// `$1` partner.
pub static GET_RATE: Query = sql!("SELECT rate_bps FROM partner_commission_rates WHERE partner_id = $1");

/// `$1` partner, `$2` marketplace, `$3` rate, `$4` at.
pub static SET_RATE: Query = sql!(
    "INSERT INTO partner_commission_rates (partner_id, marketplace_id, rate_bps, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (partner_id) DO UPDATE SET rate_bps = excluded.rate_bps, updated_at = excluded.updated_at"
);

/// `$1` partner.
pub static CLEAR_RATE: Query = sql!("DELETE FROM partner_commission_rates WHERE partner_id = $1");

fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

/// `(count SQL, page SQL, filter)`: newest first.
pub fn list_invoices(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    filter: &InvoiceFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("i.marketplace_id", text(marketplace_id)).eq("i.partner_id", text(partner_id));
    if let Some(c) = &filter.customer_id {
        f.eq("i.customer_id", text(c));
    }
    if let Some(s) = filter.status {
        f.eq("i.status", text(s.as_str()));
    }
    if let Some(t) = filter.issued_from {
        f.gte("i.issued_at", Value::Time(t));
    }
    if let Some(t) = filter.issued_before {
        f.lt("i.issued_at", Value::Time(t));
    }
    let count = format!("SELECT COUNT(*) FROM invoices i{}", f.conditions());
    f.order_by(&[], "i.issued_at DESC, i.number DESC").window(limit, window)?;
    let page = format!("SELECT {}{} FROM invoices i{}", InvoiceRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

/// `(rows SQL, filter)`: oldest first.
pub fn list_commissions(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    filter: &CommissionFilter,
) -> (String, Filter) {
    let mut f = Filter::new(dialect);
    f.eq("cm.marketplace_id", text(marketplace_id)).eq("cm.partner_id", text(partner_id));
    if let Some(c) = &filter.customer_id {
        f.eq("cm.customer_id", text(c));
    }
    if let Some(t) = filter.earned_from {
        f.gte("cm.earned_at", Value::Time(t));
    }
    if let Some(t) = filter.earned_before {
        f.lt("cm.earned_at", Value::Time(t));
    }
    f.order_by(&[("cm.earned_at", Order::Asc)], "cm.id");
    let rows = format!("SELECT {} FROM commissions cm{}", CommissionRecord::select_list(), f.clause());
    (rows, f)
}
