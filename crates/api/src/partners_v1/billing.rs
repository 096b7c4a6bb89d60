//! Invoices and commissions: `/partners/invoices…`, `/partners/commissions`.

use super::customers::{Limit, Offset, OffsetEnvelope, ok_offset};
use super::dto::{Envelope, Money};
use super::{ApiError, Caller, Query, iso, known_id, ok};
use crate::kernel::{self, FromParam, Param};
use axum::extract::{Path, State};
use axum::response::Response;
use partnerd_domain::billing::LineItem as DomainLine;
use partnerd_domain::dates::{self, DateRange};
use partnerd_domain::invoice::InvoiceStatus;
use partnerd_services::Services;
use partnerd_services::billing::totals;
use partnerd_store::{CommissionRecord, Cursor, InvoiceFilter, InvoiceRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub(super) struct Period {
    #[schema(format = DateTime)]
    pub(super) start: String,
    /// Exclusive.
    #[schema(format = DateTime)]
    pub(super) end: String,
}

/// An invoice as a customer write returns it.
#[derive(Serialize, ToSchema)]
pub(super) struct InvoiceRef {
    pub(super) id: String,
    pub(super) number: String,
    pub(super) total: Money,
}

#[derive(ToSchema)]
#[schema(as = InvoiceStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum InvoiceStatusName {
    Open,
    Paid,
    Void,
    Uncollectible,
}

#[derive(ToSchema)]
#[schema(as = BillingReason, rename_all = "snake_case")]
#[allow(dead_code, clippy::enum_variant_names)]
enum BillingReasonName {
    SubscriptionCreate,
    SubscriptionCycle,
    SubscriptionUpdate,
}

#[derive(Serialize, ToSchema)]
pub(super) struct LineItem {
    description: String,
    quantity: i64,
    /// Negative for a credit.
    unit_amount: Money,
    /// `quantity × unit_amount`.
    amount: Money,
    /// The part of the billing period the line covers.
    period: Period,
    /// Whether the line prorates a plan change.
    proration: bool,
}

/// The partner's commission on the invoice.
#[derive(Serialize, ToSchema)]
pub(super) struct CommissionCalculation {
    /// A decimal fraction (`0.15` is 15 %).
    rate: f64,
    /// The invoice total (never below zero).
    base: Money,
    /// `base × rate`, rounded to the cent, halves away from zero.
    amount: Money,
    /// `earned`, or `reversed` once the invoice is voided.
    status: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Invoice {
    id: String,
    /// `prefix` + 6 digits, sequential per marketplace with no gaps, assigned when issued.
    number: String,
    customer_id: String,
    #[schema(value_type = BillingReasonName)]
    billing_reason: String,
    period: Period,
    #[schema(format = DateTime)]
    issued_at: String,
    /// `due_days` (30 by default) after issue, YYYY-MM-DD.
    #[schema(format = Date)]
    due_date: String,
    /// ISO-4217.
    currency: String,
    line_items: Vec<LineItem>,
    subtotal: Money,
    total: Money,
    #[schema(value_type = InvoiceStatusName)]
    status: &'static str,
    /// When the operator last marked it paid, void or uncollectible.
    #[schema(format = DateTime, required = true)]
    status_changed_at: Option<String>,
    commission: CommissionCalculation,
}

fn rate(bps: u32) -> f64 {
    f64::from(bps) / 10_000.0
}

fn invoice(i: &InvoiceRecord) -> Invoice {
    let lines: Vec<DomainLine> = serde_json::from_value(i.line_items.clone()).unwrap_or_default();
    let commission_status = if i.status == InvoiceStatus::Void { "reversed" } else { "earned" };
    Invoice {
        id: i.id.clone(),
        number: i.number.clone(),
        customer_id: i.customer_id.clone(),
        billing_reason: i.billing_reason.clone(),
        period: Period { start: iso(i.period_start), end: iso(i.period_end) },
        issued_at: iso(i.issued_at),
        due_date: i.due_at.date_naive().to_string(),
        currency: i.currency.clone(),
        line_items: lines
            .iter()
            .map(|l| LineItem {
                description: l.description.clone(),
                quantity: l.quantity,
                unit_amount: money(l.unit_amount),
                amount: money(l.amount),
                period: Period { start: iso(l.period_start), end: iso(l.period_end) },
                proration: l.proration,
            })
            .collect(),
        subtotal: money(i.subtotal_cents),
        total: money(i.total_cents),
        status: i.status.as_str(),
        status_changed_at: i.status_changed_at.map(iso),
        commission: CommissionCalculation {
            rate: rate(i.commission_rate_bps),
            base: money(i.commission_base_cents),
            amount: money(i.commission_cents),
            status: commission_status.into(),
        },
    }
}

/// Get Invoice Details
///
/// An invoice of one of your customers: number, customer, period, issue and due dates,
/// currency, line items, subtotal, total, status and the commission calculation (rate, base,
/// amount). Invoices are issued in advance: at account creation (`subscription_create`), when
/// a period starts (`subscription_cycle`, once per customer and period) and on an upgrade or
/// cycle change (`subscription_update`). Status follows Stripe: `open` → `paid`, `void` or
/// `uncollectible`; `uncollectible` → `paid` or `void`; `paid` and `void` are final. The
/// operator moves it (`partnerd invoices mark`), which sends `invoice.paid`, `invoice.voided`
/// or `invoice.marked_uncollectible` to your webhooks; voiding reverses the commission and
/// gives any credit balance the invoice applied back to the customer's balance. Another
/// partner's invoice is 404.
#[utoipa::path(get, path = "/invoices/{invoice_id}", tag = "Billing", params(("invoice_id" = String, Path)),
    responses((status = 200, description = "The invoice", body = Envelope<Invoice>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let i = s.billing().get_invoice(&who, known_id("inv", &id, "Invoice")?).await?;
    Ok(ok(invoice(&i)))
}

impl FromParam for InvoiceStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw.trim())
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InvoiceQuery {
    customer_id: Option<String>,
    #[param(inline, value_type = Option<InvoiceStatusName>)]
    status: Option<Param<InvoiceStatus>>,
    /// Issued on or after this day (exactly YYYY-MM-DD, UTC, year 1970–9999); no lower bound
    /// by default.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Issued on or before this day (exactly YYYY-MM-DD, UTC, inclusive, year 1970–9999); no
    /// upper bound by default. Before `start_date`: 422.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<Limit>,
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    offset: Option<Offset>,
    /// Beyond the document: `meta.next_cursor` of the previous page, for keyset paging (each
    /// page costs the same at any depth, and rows written meanwhile neither repeat nor vanish).
    /// `offset` is then not used, and `meta.offset` is 0.
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

/// List Invoices
///
/// Your customers' invoices, newest first, filtered by `customer_id`, `status` and issue date
/// (`start_date`, `end_date`: exactly YYYY-MM-DD, UTC days, both inclusive, years 1970–9999;
/// either may be given alone, leaving that side open); `meta` has `limit`, `offset`, `total`.
/// A bad date, or an `end_date` before `start_date`, is 422 naming the field.
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `offset`; `meta.next_cursor` is `null` on the last page and `meta.offset` is 0 on
/// a page read by cursor. A cursor holds only the position in the order (keep the filters the
/// same while following it); one that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/invoices", tag = "Billing", params(InvoiceQuery),
    responses((status = 200, description = "A page of invoices", body = OffsetEnvelope<Invoice>)))]
pub(super) async fn list(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<InvoiceQuery>,
) -> Result<Response, ApiError> {
    let (limit, offset) = (q.limit.map_or(20, |l| l.0), q.offset.map_or(0, |o| u64::from(o.0)));
    let (start, end) =
        dates::bounds(q.start_date.as_deref(), q.end_date.as_deref()).map_err(|e| ApiError::validation(&e))?;
    let filter = InvoiceFilter {
        customer_id: q.customer_id,
        status: q.status.map(|p| p.0),
        issued_from: start.map(dates::day_start),
        issued_before: end.map(dates::day_end),
    };
    let window = kernel::window(q.cursor, offset);
    let page = s.billing().list_invoices(&who, &filter, &window, limit).await?;
    Ok(ok_offset(page.items.iter().map(invoice).collect(), limit, &window, page.total, page.next.as_ref()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CommissionQuery {
    /// Exactly YYYY-MM-DD (UTC, year 1970–9999), inclusive. By default the first of
    /// `end_date`'s month when `end_date` is given, else the first of this month.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Exactly YYYY-MM-DD (UTC, year 1970–9999), inclusive. By default today (or `start_date`
    /// itself when that is after today). Before `start_date`: 422.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Only this customer's.
    customer_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Commission {
    id: String,
    invoice_id: String,
    invoice_number: String,
    customer_id: String,
    /// The invoice total it was computed on.
    base: Money,
    /// A decimal fraction (`0.15` is 15 %).
    rate: f64,
    amount: Money,
    currency: String,
    /// `earned`, or `reversed` (its invoice was voided).
    status: String,
    #[schema(format = DateTime)]
    earned_at: String,
    #[schema(format = DateTime, required = true)]
    reversed_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CommissionTotals {
    /// Rows in the range (earned and reversed).
    count: u64,
    /// Base of the commissions still earned.
    base: Money,
    /// Sum of the commissions still earned: what the partner is owed for the range.
    earned: Money,
    /// Sum of the reversed ones.
    reversed: Money,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CommissionReport {
    #[schema(format = Date)]
    start_date: String,
    #[schema(format = Date)]
    end_date: String,
    currency: String,
    commissions: Vec<Commission>,
    totals: CommissionTotals,
}

fn commission(c: &CommissionRecord) -> Commission {
    Commission {
        id: c.id.clone(),
        invoice_id: c.invoice_id.clone(),
        invoice_number: c.invoice_number.clone(),
        customer_id: c.customer_id.clone(),
        base: money(c.base_cents),
        rate: rate(c.rate_bps),
        amount: money(c.amount_cents),
        currency: c.currency.clone(),
        status: c.status.clone(),
        earned_at: iso(c.earned_at),
        reversed_at: c.reversed_at.map(iso),
    }
}

/// Get Commission Report
///
/// The commissions you earned between `start_date` and `end_date` (exactly YYYY-MM-DD, UTC
/// days, both inclusive, years 1970–9999; by default this month so far; `start_date` alone
/// runs through today, `end_date` alone from the first of its month), oldest first, optionally for one
/// `customer_id`, with totals. Each invoice earns one commission at issue: `base` is the
/// invoice total, `rate` your rate (the operator's override for you, else your partner plan's
/// default), `amount` = base × rate rounded to the cent, halves away from zero. A voided
/// invoice's commission is `reversed` and leaves `earned`. A date that is not YYYY-MM-DD, or
/// an `end_date` before `start_date`, is 422 naming the field.
#[utoipa::path(get, path = "/commissions", tag = "Billing", params(CommissionQuery),
    responses((status = 200, description = "The report", body = Envelope<CommissionReport>)))]
pub(super) async fn commissions(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<CommissionQuery>,
) -> Result<Response, ApiError> {
    let today = s.now().date_naive();
    let range = DateRange::month_to_date(q.start_date.as_deref(), q.end_date.as_deref(), today)
        .map_err(|e| ApiError::validation(&e))?;
    let rows = s.billing().commissions(&who, range, q.customer_id).await?;
    let t = totals(&rows);
    Ok(ok(CommissionReport {
        start_date: range.start.to_string(),
        end_date: range.end.to_string(),
        currency: s.billing().settings().prices.currency.clone(),
        commissions: rows.iter().map(commission).collect(),
        totals: CommissionTotals {
            count: t.count,
            base: money(t.base_cents),
            earned: money(t.earned_cents),
            reversed: money(t.reversed_cents),
        },
    }))
}

/// Cents as the surface writes amounts.
pub(super) fn money(cents: i64) -> Money {
    Money(i128::from(cents))
}
