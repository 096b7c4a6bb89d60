//! Customer accounts and the customer price list: `/partners/customers…`, `/partners/plans`.

use super::billing::{InvoiceRef, Period, money};
use super::dto::{Envelope, Money};
use super::{ApiError, ApiJson, Caller, Query, iso, known_id, ok, refuse_unknown_fields};
use crate::kernel::{self, Bounded, FromParam, Param};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::customer::CustomerStatus;
use partnerd_services::Services;
use partnerd_services::customers::{CustomerChange, CustomerDetail, CustomerWrite, NewCustomer, next_invoice_at};
use partnerd_store::{Cursor, CustomerAccountRecord, CustomerEntry, CustomerFilter, Window};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// `limit` 1–100, 20 by default.
pub(super) type Limit = Bounded<1, 100>;
/// `offset` from 0.
pub(super) type Offset = Bounded<0, 1_000_000_000>;

/// `{"success": true, "data": […], "meta": {limit, offset, total}}`: the reseller document's
/// lists page by offset.
#[derive(Serialize, ToSchema)]
pub(super) struct OffsetEnvelope<T> {
    /// Always `true`.
    success: bool,
    data: Vec<T>,
    meta: OffsetMeta,
}

#[derive(Serialize, ToSchema)]
pub(super) struct OffsetMeta {
    /// Items asked for, 1–100 (20 by default).
    limit: u32,
    /// Items skipped (0 by default).
    offset: u64,
    /// Every item matching the filter.
    total: u64,
    /// Beyond the document: pass it as `cursor` for the page after this one (keyset paging);
    /// `null` on the last page.
    next_cursor: Option<String>,
}

/// The offset list's envelope; `meta.offset` is 0 on a page read by cursor.
pub(super) fn ok_offset<T: Serialize>(
    data: Vec<T>,
    limit: u32,
    window: &Window,
    total: u64,
    next: Option<&Cursor>,
) -> Response {
    let offset = match window {
        Window::Offset(o) => *o,
        Window::After(_) | Window::Beyond { .. } => 0,
    };
    let meta = OffsetMeta { limit, offset, total, next_cursor: next.map(Cursor::encode) };
    Json(OffsetEnvelope { success: true, data, meta }).into_response()
}

impl FromParam for CustomerStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw.trim())
    }
}

#[derive(ToSchema)]
#[schema(as = CustomerStatus, rename_all = "snake_case")]
#[allow(dead_code)]
enum CustomerStatusName {
    Active,
    Suspended,
    Cancelled,
}

#[derive(ToSchema)]
#[schema(as = BillingCycle, rename_all = "snake_case")]
#[allow(dead_code)]
pub(super) enum BillingCycleName {
    Monthly,
    Annual,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CustomerInput)]
pub(super) struct CreateBody {
    /// 1–200 characters: the customer company's name.
    #[schema(required = true, max_length = 200)]
    company_name: Option<String>,
    #[schema(required = true, format = Email)]
    contact_email: Option<String>,
    #[schema(required = true, max_length = 200)]
    contact_name: Option<String>,
    /// E.164 (`+14155550123`).
    phone: Option<String>,
    /// A plan of `GET /plans`.
    #[schema(required = true)]
    plan: Option<String>,
    /// `monthly` by default.
    #[schema(value_type = Option<BillingCycleName>)]
    billing_cycle: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CustomerUpdate)]
pub(super) struct UpdateBody {
    #[schema(format = Email)]
    contact_email: Option<String>,
    #[schema(max_length = 200)]
    contact_name: Option<String>,
    /// E.164; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    plan: Option<String>,
    #[schema(value_type = Option<BillingCycleName>)]
    billing_cycle: Option<String>,
    #[schema(value_type = Option<CustomerStatusName>)]
    status: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

/// Fields of a GET a client may echo back; ignored on writes.
const READ_ONLY: &[&str] = &[
    "id",
    "company_name",
    "currency",
    "created_at",
    "updated_at",
    "cancelled_at",
    "billing",
    "usage",
    "latest_invoice",
];

#[derive(Serialize, ToSchema)]
pub(super) struct Customer {
    /// The customer company's id (the same id on the AppReseller companies API).
    id: String,
    company_name: String,
    /// `null` until the customer has a plan (a company a reseller created through the
    /// AppReseller API).
    #[schema(required = true)]
    contact_email: Option<String>,
    /// `null` until the customer has a plan.
    #[schema(required = true)]
    contact_name: Option<String>,
    #[schema(required = true)]
    phone: Option<String>,
    /// `null` until the customer has a plan: it is not billed.
    #[schema(required = true)]
    plan: Option<String>,
    /// `null` until the customer has a plan.
    #[schema(value_type = Option<BillingCycleName>, required = true)]
    billing_cycle: Option<&'static str>,
    #[schema(value_type = CustomerStatusName)]
    status: &'static str,
    /// ISO-4217.
    currency: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = DateTime, required = true)]
    cancelled_at: Option<String>,
    /// `GET /customers/{customer_id}` only: the account's billing; `null` until it has a plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Billing>, nullable = true)]
    billing: Option<Option<Billing>>,
    /// `GET /customers/{customer_id}` only: the current billing period's usage so far (from
    /// the UTC day it started through today), from the same daily aggregates as
    /// `GET /customers/{customer_id}/usage`; `null` until it has a plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::usage::UsageSummary>, nullable = true)]
    usage: Option<Option<super::usage::UsageSummary>>,
    /// `POST` and `PUT` only: the invoice this request issued (the first one on create; an
    /// upgrade's or a cycle change's on update), else `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<InvoiceRef>, nullable = true)]
    latest_invoice: Option<Option<InvoiceRef>>,
}

fn customer(a: &CustomerAccountRecord) -> Customer {
    Customer {
        id: a.customer_id.clone(),
        company_name: a.company_name.clone(),
        contact_email: Some(a.contact_email.clone()),
        contact_name: Some(a.contact_name.clone()),
        phone: a.phone.clone(),
        plan: Some(a.plan.clone()),
        billing_cycle: Some(a.billing_cycle.as_str()),
        status: a.status.as_str(),
        currency: a.currency.clone(),
        created_at: iso(a.created_at),
        updated_at: iso(a.updated_at),
        cancelled_at: a.cancelled_at.map(iso),
        billing: None,
        usage: None,
        latest_invoice: None,
    }
}

/// A customer: its account, or, without a plan yet, its company and association (status
/// `active`, in the price list's currency, created when the association was).
fn listed(e: &CustomerEntry, currency: &str) -> Customer {
    match &e.account {
        Some(a) => customer(a),
        None => Customer {
            id: e.link.customer_id.clone(),
            company_name: e.link.company_name.clone(),
            contact_email: None,
            contact_name: None,
            phone: e.link.phone.clone(),
            plan: None,
            billing_cycle: None,
            status: CustomerStatus::Active.as_str(),
            currency: currency.to_owned(),
            created_at: iso(e.link.associated_at),
            updated_at: iso(e.link.associated_at),
            cancelled_at: None,
            billing: None,
            usage: None,
            latest_invoice: None,
        },
    }
}

/// The account's billing.
#[derive(Serialize, ToSchema)]
pub(super) struct Billing {
    plan: String,
    /// Per billing cycle.
    price: Money,
    currency: String,
    #[schema(value_type = BillingCycleName)]
    billing_cycle: &'static str,
    current_period: Period,
    /// When the next invoice is issued (the current period's end); `null` once cancelled.
    #[schema(format = DateTime, required = true)]
    next_invoice_date: Option<String>,
    /// What the customer owes beyond its invoices (positive) or has in credit (negative, from
    /// a downgrade; applied to the next invoices).
    balance: Money,
    /// Newest first, at most 5; `GET /invoices?customer_id=…` lists all.
    latest_invoice_ids: Vec<String>,
}

fn details(d: &CustomerDetail, currency: &str) -> Customer {
    let Some(a) = &d.entry.account else {
        return Customer { billing: Some(None), usage: Some(None), ..listed(&d.entry, currency) };
    };
    Customer {
        billing: Some(Some(Billing {
            plan: a.plan.clone(),
            price: money(d.price_cents),
            currency: a.currency.clone(),
            billing_cycle: a.billing_cycle.as_str(),
            current_period: Period { start: iso(a.current_period_start), end: iso(a.current_period_end) },
            next_invoice_date: next_invoice_at(a).map(iso),
            balance: money(a.balance_cents),
            latest_invoice_ids: d.latest_invoice_ids.clone(),
        })),
        usage: Some(d.usage.as_ref().map(super::usage::summary)),
        ..customer(a)
    }
}

fn written(w: &CustomerWrite) -> Customer {
    Customer {
        latest_invoice: Some(w.invoice.as_ref().map(|i| InvoiceRef {
            id: i.id.clone(),
            number: i.number.clone(),
            total: money(i.total_cents),
        })),
        ..customer(&w.account)
    }
}

fn customer_id(id: &str) -> Result<&str, ApiError> {
    known_id("company", id, "Customer")
}

/// Create Customer Account
///
/// Creates the customer company, associates it with your company (the same company and
/// association the AppReseller companies API shows) and opens its account: `status` `active`,
/// the first billing period starting now (monthly or annual periods are counted from this
/// instant: a period starting on the 31st renews on the last day of shorter months), and the
/// **first invoice issued at once** for that period (billing in advance), with its
/// commission — all in one transaction. `company_name`, `contact_email`, `contact_name` and
/// `plan` (one of `GET /plans`) are required; `phone` is E.164; `billing_cycle` is `monthly`
/// (default) or `annual`. Appends `customer.created`, `invoice.generated` and
/// `commission.earned`.
#[utoipa::path(post, path = "/customers", tag = "Customers", request_body = CreateBody,
    responses((status = 201, description = "The account and its first invoice", body = Envelope<Customer>)))]
pub(super) async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown_fields(&body.other, &[], "a customer")?;
    let input = NewCustomer {
        company_name: body.company_name,
        contact_email: body.contact_email,
        contact_name: body.contact_name,
        phone: body.phone,
        plan: body.plan,
        billing_cycle: body.billing_cycle,
    };
    let w = s.customers().create(&who, input).await?;
    Ok((StatusCode::CREATED, ok(written(&w))).into_response())
}

/// Get Customer Details
///
/// The account with its `billing`: plan, price per cycle, currency, cycle, current period,
/// next invoice date, balance and the latest invoice ids; and its `usage` in the current
/// billing period so far (message volume by channel, workflow executions, API requests and
/// errors, storage; the daily series is `GET /customers/{customer_id}/usage`). A customer
/// without a plan (a company your reseller company created or was associated with through
/// the AppReseller API) has `plan`, `billing_cycle`, `contact_email`, `contact_name`,
/// `billing` and `usage` `null` and status `active`; it is not billed until a plan is set
/// with `PUT`. Another partner's customer is 404.
#[utoipa::path(get, path = "/customers/{customer_id}", tag = "Customers", params(("customer_id" = String, Path)),
    responses((status = 200, description = "The account", body = Envelope<Customer>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = s.customers().get(&who, customer_id(&id)?).await?;
    Ok(ok(details(&d, &s.billing().settings().prices.currency)))
}

/// Update Customer Account
///
/// Changes `contact_email`, `contact_name`, `phone` (`null` clears it), `plan`,
/// `billing_cycle` and `status`; fields not given stay. Billing follows Stripe's defaults:
/// - **Plan change** within the period: a credit for the unused time at the old price and a
///   charge for the remaining time at the new price, each `price × remaining seconds / period
///   seconds`, rounded to the cent, halves away from zero. An **upgrade** (net charge) is
///   invoiced at once (`billing_reason` `subscription_update`). A **downgrade** (net credit)
///   takes effect at once but is not invoiced: the credit goes to `billing.balance` and is
///   applied to the next invoices (never below zero). A more expensive plan (by monthly price)
///   appends `customer.upgraded`.
/// - **Cycle change** (monthly ↔ annual): the period restarts now; the unused time of the old
///   period is credited and the new period charged in full, invoiced at once (a net credit goes
///   to the balance instead).
/// - **Status**: `active` ↔ `suspended` (suspension pauses service, not billing); `cancelled`
///   takes effect at once, is final, refunds nothing and stops every future invoice; appends
///   `customer.cancelled`. Cancelling together with a plan or cycle change is refused.
///
/// **A customer without a plan** (created through the AppReseller companies API, or associated
/// with your company there) starts its billing when `PUT` sets a `plan`: exactly as
/// `POST /customers`, its first period starts now and its first invoice is issued at once
/// (`billing_reason` `subscription_create`), appending `customer.created`,
/// `invoice.generated` and `commission.earned`. `plan`, `contact_email` and `contact_name` are
/// required then (422 naming each missing one), `billing_cycle` is `monthly` by default and
/// `status` may only be `active`.
///
/// A refused change is 422 naming the field, and nothing of the request is applied. Another
/// partner's customer is 404.
#[utoipa::path(put, path = "/customers/{customer_id}", tag = "Customers", params(("customer_id" = String, Path)),
    request_body = UpdateBody,
    responses((status = 200, description = "The account, and the invoice the change issued", body = Envelope<Customer>)))]
pub(super) async fn update(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown_fields(&body.other, READ_ONLY, "a customer")?;
    let change = CustomerChange {
        contact_email: body.contact_email,
        contact_name: body.contact_name,
        phone: body.phone,
        plan: body.plan,
        billing_cycle: body.billing_cycle,
        status: body.status,
    };
    let w = s.customers().update(&who, customer_id(&id)?, change).await?;
    Ok(ok(written(&w)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// 1–100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<Limit>,
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    offset: Option<Offset>,
    #[param(inline, value_type = Option<CustomerStatusName>)]
    status: Option<Param<CustomerStatus>>,
    /// A plan of `GET /plans`.
    plan: Option<String>,
    /// Beyond the document: `meta.next_cursor` of the previous page, for keyset paging (each
    /// page costs the same at any depth, and rows written meanwhile neither repeat nor vanish).
    /// `offset` is then not used, and `meta.offset` is 0.
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

/// List Partner Customers
///
/// Your customers, newest first, filtered by `status` and `plan`; `meta` has `limit`,
/// `offset` and the `total` matching. They are the companies associated with your company —
/// the same ones the AppReseller API's `GET /api/appReseller/v1/companies` lists for your
/// reseller company — including those without a plan yet (created there with
/// `POST /api/appReseller/v1/companies`): `plan` and `billing_cycle` `null`, status `active`,
/// not billed. A `plan` filter matches only customers on that plan.
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `offset`; `meta.next_cursor` is `null` on the last page and `meta.offset` is 0 on
/// a page read by cursor. A cursor holds only the position in the order (keep the filters the
/// same while following it); one that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/customers", tag = "Customers", params(ListQuery),
    responses((status = 200, description = "A page of accounts", body = OffsetEnvelope<Customer>)))]
pub(super) async fn list(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (limit, offset) = (q.limit.map_or(20, |l| l.0), q.offset.map_or(0, |o| u64::from(o.0)));
    if let Some(p) = &q.plan {
        s.billing().settings().prices.plan(p).map_err(|m| ApiError::validation_single("plan", &m))?;
    }
    let filter = CustomerFilter { status: q.status.map(|p| p.0), plan: q.plan };
    let window = kernel::window(q.cursor, offset);
    let page = s.customers().list(&who, &filter, &window, limit).await?;
    let currency = s.billing().settings().prices.currency.clone();
    Ok(ok_offset(
        page.items.iter().map(|e| listed(e, &currency)).collect(),
        limit,
        &window,
        page.total,
        page.next.as_ref(),
    ))
}

#[derive(Serialize, ToSchema)]
pub(super) struct PlanPrice {
    name: String,
    monthly_price: Money,
    annual_price: Money,
}

#[derive(Serialize, ToSchema)]
pub(super) struct PriceList {
    /// ISO-4217: every price and invoice is in it.
    currency: String,
    /// Cheapest first.
    plans: Vec<PlanPrice>,
}

/// List Customer Plans
///
/// The plans customer accounts can be on, with their monthly and annual prices (set in the
/// operator's configuration file, `[billing.plans]`). Moving to a plan with a higher monthly
/// price is an upgrade.
#[utoipa::path(get, path = "/plans", tag = "Customers",
    responses((status = 200, description = "The price list", body = Envelope<PriceList>)))]
pub(super) async fn plans(State(s): State<Services>, Caller(_who): Caller) -> Result<Response, ApiError> {
    let billing = s.billing();
    let prices = &billing.settings().prices;
    let plans = prices
        .ordered()
        .into_iter()
        .map(|(n, p)| PlanPrice { name: n.to_owned(), monthly_price: money(p.monthly), annual_price: money(p.annual) })
        .collect();
    Ok(ok(PriceList { currency: prices.currency.clone(), plans }))
}
