//! Opportunities (`/opportunities…`, and `/api/opportunities/{id}/requestReview`): the
//! document's shapes over `services::quotes` (partnerd calls them quotes, apart from co-sell
//! opportunities). The contract, with every silence of the document, is
//! `docs/opportunities-spec.md`.
//!
//! Decisions where the document is silent or contradicts itself (also in each operation's
//! description):
//! - `createdOn` and `purchaseEffectiveDate` are strings of epoch milliseconds in an
//!   `Opportunity`, numbers in the list's summaries, as the examples write them. Requests take
//!   either.
//! - `GET …/items` answers an array of `OpportunityItemDetail` (the document shows one object
//!   but the operation "lists all items").
//! - `availableActions` adds `REQUEST_REVIEW` where a review may be requested.
//! - The range filters take `gte(ms)`, `gt(ms)`, `lte(ms)`, `lt(ms)`, repeated or comma-separated.
//! - Additions: `totalFee` (`USD41.00`) on opportunities and items, `purchaseCustomAttributes`
//!   once set, `ownerType` `RESELLER` (every owner is a reseller company's user).

use super::dto::CompanyRef;
use super::subscriptions::{OrderLineDto, line_dto, lines_at, param, search, trimmed};
use super::{
    ApiJson, Caller, PageMetadata, PageNumberFromOne, PageSize, Query, ResellerError, SortFields, SortParam, epoch_ms,
    paging_from_one, parse_range, plausible_id,
};
use crate::kernel::FromParam;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use partnerd_domain::catalog::{Frequency, PricingStrategy};
use partnerd_domain::money::AmountInput;
use partnerd_domain::quote::{Attributes, CustomPrice, QuoteItem, QuoteStatus};
use partnerd_domain::subscription::total_fee;
use partnerd_services::Services;
use partnerd_services::quotes::{ItemInput, NewQuote, QuoteContext, QuotePatch, QuoteView};
use partnerd_store::{QuoteFilter, QuoteRecord, QuoteSort, TimeRange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The documented page size of the list.
const DEFAULT_SIZE: u32 = 10;

// ----- shapes -----

/// A user of an opportunity (`customerUser`, `ownerUser`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityUser)]
pub(super) struct UserDto {
    company: CompanyRef,
    email: String,
    first_name: String,
    id: String,
    last_name: String,
}

/// `OpportunityItem`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityItem)]
pub(super) struct ItemDto {
    id: String,
    /// A payment plan of the catalog (`paymentPlans[].id` of `/sellableProducts`).
    pricing_plan_id: String,
    product_id: String,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    #[schema(value_type = Option<Object>)]
    subscription_custom_attributes: Attributes,
    /// The item's price for its period (a partnerd addition): `USD41.00`.
    total_fee: String,
    /// The units as asked (a cost without one is priced at its `minUnits`, or 1).
    units: Vec<OrderLineDto>,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    #[schema(value_type = Option<Object>)]
    vendor_required_fields: Attributes,
}

/// The document's `Opportunity` (named apart from the partners surface's co-sell
/// `Opportunity` in the merged OpenAPI document).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerOpportunity)]
pub(super) struct OpportunityDto {
    /// What the caller may do now: EDIT, FINALIZE, REQUEST_REVIEW.
    available_actions: Vec<&'static str>,
    /// Epoch milliseconds, as a string.
    created_on: String,
    currency: String,
    customer_user: UserDto,
    id: String,
    items: Vec<ItemDto>,
    name: Option<String>,
    owner_user: UserDto,
    /// The marketplace partner code.
    partner: &'static str,
    /// Epoch milliseconds, as a string; set when finalized if it was not before.
    purchase_effective_date: Option<String>,
    /// Set by PATCH (a partnerd addition: the document never shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    purchase_custom_attributes: Option<serde_json::Value>,
    /// The purchase finalizing made.
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_id: Option<String>,
    /// OPEN, CLOSED or PENDING_REVIEW.
    status: &'static str,
    /// The sum of the items' prices (a partnerd addition): `USD41.00`.
    total_fee: String,
}

/// A summary of `OpportunityPage`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunitySummary)]
pub(super) struct SummaryDto {
    /// Epoch milliseconds.
    created_on: i64,
    customer_user: UserDto,
    id: String,
    name: Option<String>,
    /// `RESELLER`: the owner is a user of a reseller company.
    owner_type: &'static str,
    owner_user: UserDto,
    purchase_effective_date: Option<i64>,
    status: &'static str,
    total_fee: String,
}

/// `OpportunityPage`.
#[derive(Serialize, ToSchema)]
#[schema(as = OpportunityPage)]
pub(super) struct PageDto {
    content: Vec<SummaryDto>,
    page: PageMetadata,
}

/// A price line of `OpportunityItemDetail.pricing`: one per cost of the plan.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityItemPricing)]
pub(super) struct PricingDto {
    cost_id: String,
    /// RECURRING_PER_UNIT, RECURRING_FLAT, ONE_TIME_PER_UNIT or ONE_TIME_FLAT.
    cost_type: String,
    /// RECURRING or ONE_TIME.
    cost_type_category: &'static str,
    description: String,
    /// partnerd's catalog has no volume ranges: always empty.
    #[schema(value_type = Vec<Object>)]
    price_ranges: Vec<serde_json::Value>,
    /// UNIT or FLAT_RATE.
    pricing_strategy: &'static str,
    /// Ten decimals, as the document writes them.
    quantity: String,
    /// Per unit (UNIT) or for the cost (FLAT_RATE), markups included.
    sale_price: String,
    total_sale_price: String,
    unit: &'static str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = OpportunityPricingPlan)]
pub(super) struct PlanRef {
    id: String,
    /// The edition's name.
    name: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = OpportunityProduct)]
pub(super) struct ProductRef {
    id: String,
    logo: Option<String>,
    name: String,
    /// Always WEB_APP.
    #[serde(rename = "type")]
    kind: &'static str,
}

/// `OpportunityItemDetail`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityItemDetail)]
pub(super) struct ItemDetailDto {
    id: String,
    pricing: Vec<PricingDto>,
    pricing_plan: PlanRef,
    product: ProductRef,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    #[schema(value_type = Option<Object>)]
    subscription_custom_attributes: Attributes,
    units: Vec<OrderLineDto>,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    #[schema(value_type = Option<Object>)]
    vendor_required_fields: Attributes,
}

/// Custom prices for a given cost.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityCustomPrice)]
pub(super) struct CustomPriceDto {
    /// (Required) A cost of the item's pricing plan (`costs[].id` in the catalog).
    cost_id: Option<String>,
    /// (Required) The sale price per unit in the opportunity's currency, a string or a number
    /// (`"100"`, `100.5`): it replaces the cost's item price and markups.
    #[schema(value_type = String)]
    price: Option<AmountInput>,
}

/// `OpportunityItem` (add) and `OpportunityItemUpdateRequest` (edit).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityItemRequest)]
pub(super) struct ItemRequest {
    /// The document has them on an edit; partnerd takes them on an add and a create too. A
    /// price below the catalog's (item price plus markups) leaves the finalize to the
    /// marketplace manager: a seller requests a review.
    custom_prices: Option<Vec<CustomPriceDto>>,
    /// Your own id for a new item (1 to 100 letters, digits, `_`, `-`; 400 otherwise, 409 when
    /// the opportunity has it); a new id when absent.
    id: Option<String>,
    /// (Required to add) A payment plan of the catalog.
    pricing_plan_id: Option<String>,
    /// When given, the product of the pricing plan.
    product_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    subscription_custom_attributes: Option<Attributes>,
    units: Option<Vec<OrderLineDto>>,
    #[schema(value_type = Option<Object>)]
    vendor_required_fields: Option<Attributes>,
}

/// `OpportunityCreationRequest`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityCreationRequest)]
pub(super) struct CreationRequest {
    /// ISO 4217; USD when absent. Every item must be priced in it.
    currency: Option<String>,
    /// (Required) A company associated with your reseller company.
    customer_company_id: Option<String>,
    /// (Required) A user of that company.
    customer_id: Option<String>,
    items: Option<Vec<ItemRequest>>,
    name: Option<String>,
    /// Your own company, when given.
    owner_company_id: Option<String>,
    /// A user of your company; you when absent.
    owner_id: Option<String>,
    /// Epoch milliseconds (a number or a numeric string).
    #[schema(value_type = Option<i64>)]
    purchase_effective_date: Option<serde_json::Value>,
}

/// `OpportunityUpdateRequest`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OpportunityUpdateRequest)]
pub(super) struct UpdateRequest {
    /// An empty name clears it.
    name: Option<String>,
    /// Another sales agent, a user of your company (a partnerd addition).
    owner_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    purchase_custom_attributes: Option<Attributes>,
    /// Epoch milliseconds (a number or a numeric string).
    #[schema(value_type = Option<i64>)]
    purchase_effective_date: Option<serde_json::Value>,
}

fn money_10(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}00000000", c / 100, c % 100)
}

fn user(company: (&str, &str), id: &str, first: &str, last: &str, email: &str) -> UserDto {
    UserDto {
        company: CompanyRef { id: company.0.to_owned(), name: company.1.to_owned() },
        email: email.to_owned(),
        first_name: first.to_owned(),
        id: id.to_owned(),
        last_name: last.to_owned(),
    }
}

fn customer(q: &QuoteRecord) -> UserDto {
    user(
        (&q.customer_company_id, &q.customer_company_name),
        &q.customer_user_id,
        &q.customer_first_name,
        &q.customer_last_name,
        &q.customer_email,
    )
}

fn owner(q: &QuoteRecord) -> UserDto {
    user(
        (&q.owner_company_id, &q.owner_company_name),
        &q.owner_user_id,
        &q.owner_first_name,
        &q.owner_last_name,
        &q.owner_email,
    )
}

fn item_dto(i: &QuoteItem, currency: &str) -> ItemDto {
    ItemDto {
        id: i.id.clone(),
        pricing_plan_id: i.pricing_plan_id.clone(),
        product_id: i.product_id.clone(),
        subscription_custom_attributes: i.subscription_custom_attributes.clone(),
        total_fee: total_fee(currency, i.total_cents),
        units: i.units.iter().map(line_dto).collect(),
        vendor_required_fields: i.vendor_required_fields.clone(),
    }
}

fn detail_dto(i: &QuoteItem) -> ItemDetailDto {
    let one_time = i.frequency == Frequency::OneTime;
    ItemDetailDto {
        id: i.id.clone(),
        pricing: i
            .priced
            .iter()
            .map(|l| {
                let (category, shape) = (
                    if one_time { "ONE_TIME" } else { "RECURRING" },
                    if l.pricing_strategy == PricingStrategy::Unit { "PER_UNIT" } else { "FLAT" },
                );
                let cost_type = format!("{category}_{shape}");
                PricingDto {
                    cost_id: l.cost_id.clone(),
                    description: cost_type.clone(),
                    cost_type,
                    cost_type_category: category,
                    price_ranges: Vec::new(),
                    pricing_strategy: l.pricing_strategy.as_str(),
                    quantity: money_10(i64::from(l.quantity) * 100),
                    sale_price: money_10(l.unit_price_cents),
                    total_sale_price: money_10(l.total_cents),
                    unit: l.unit.as_str(),
                }
            })
            .collect(),
        pricing_plan: PlanRef { id: i.pricing_plan_id.clone(), name: i.edition_name.clone() },
        product: ProductRef {
            id: i.product_id.clone(),
            logo: i.product_logo.clone(),
            name: i.product_name.clone(),
            kind: "WEB_APP",
        },
        subscription_custom_attributes: i.subscription_custom_attributes.clone(),
        units: i.units.iter().map(line_dto).collect(),
        vendor_required_fields: i.vendor_required_fields.clone(),
    }
}

fn opportunity_dto(v: &QuoteView) -> OpportunityDto {
    let q = &v.quote;
    let attributes = q
        .purchase_custom_attributes
        .as_object()
        .filter(|o| !o.is_empty())
        .map(|_| q.purchase_custom_attributes.clone());
    OpportunityDto {
        available_actions: v.available_actions.iter().map(|a| a.as_str()).collect(),
        created_on: epoch_ms(q.created_at).to_string(),
        currency: q.currency.clone(),
        customer_user: customer(q),
        id: q.id.clone(),
        items: v.items.iter().map(|i| item_dto(i, &q.currency)).collect(),
        name: q.name.clone(),
        owner_user: owner(q),
        partner: v.partner,
        purchase_effective_date: q.purchase_effective_at.map(|t| epoch_ms(t).to_string()),
        purchase_custom_attributes: attributes,
        purchase_id: q.purchase_id.clone(),
        status: q.status.as_str(),
        total_fee: total_fee(&q.currency, q.total_cents),
    }
}

fn summary_dto(v: &QuoteView) -> SummaryDto {
    let q = &v.quote;
    SummaryDto {
        created_on: epoch_ms(q.created_at),
        customer_user: customer(q),
        id: q.id.clone(),
        name: q.name.clone(),
        owner_type: "RESELLER",
        owner_user: owner(q),
        purchase_effective_date: q.purchase_effective_at.map(epoch_ms),
        status: q.status.as_str(),
        total_fee: total_fee(&q.currency, q.total_cents),
    }
}

// ----- requests -----

/// Epoch milliseconds as a number or a numeric string, or 400 naming `field`.
fn epoch(v: Option<serde_json::Value>, field: &str) -> Result<Option<DateTime<Utc>>, ResellerError> {
    let bad =
        || ResellerError::bad_request(format!("Invalid value for field '{field}': must be Unix epoch milliseconds"));
    let ms = match v {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(bad)?,
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
    };
    Utc.timestamp_millis_opt(ms).single().map(Some).ok_or_else(bad)
}

fn item_input(r: ItemRequest, prefix: &str) -> Result<ItemInput, ResellerError> {
    let custom_prices = match r.custom_prices {
        None => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, c) in list.into_iter().enumerate() {
                let field = format!("{prefix}customPrices[{i}]");
                let cost_id = trimmed(c.cost_id)
                    .ok_or_else(|| ResellerError::bad_request(format!("Required field '{field}.costId' is missing")))?;
                let price = c
                    .price
                    .ok_or_else(|| ResellerError::bad_request(format!("Required field '{field}.price' is missing")))?;
                let cents = price.cents().map_err(|e| ResellerError::invalid(&format!("{field}.price"), &e))?;
                out.push(CustomPrice { cost_id, cents });
            }
            Some(out)
        }
    };
    let units = match r.units {
        None => None,
        Some(u) => Some(lines_at(Some(u), &format!("{prefix}units"))?),
    };
    Ok(ItemInput {
        id: trimmed(r.id),
        pricing_plan_id: trimmed(r.pricing_plan_id),
        product_id: trimmed(r.product_id),
        units,
        custom_prices,
        subscription_custom_attributes: r.subscription_custom_attributes,
        vendor_required_fields: r.vendor_required_fields,
    })
}

/// `context`: RESELLER or SSR.
#[derive(Debug, Clone, Copy)]
pub(super) struct ContextParam(QuoteContext);

impl FromParam for ContextParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "RESELLER" => Ok(ContextParam(QuoteContext::Reseller)),
            "SSR" => Ok(ContextParam(QuoteContext::SalesSupport)),
            _ => Err(super::one_of(raw, &["RESELLER", "SSR"])),
        }
    }
}

impl FromParam for QuoteStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        QuoteStatus::parse(raw.trim())
    }
}

impl SortFields for QuoteSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("createdOn", QuoteSort::CreatedOn),
        ("name", QuoteSort::Name),
        ("status", QuoteSort::Status),
        ("purchaseEffectiveDate", QuoteSort::PurchaseEffectiveDate),
    ];
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ContextQuery {
    /// RESELLER or SSR (sales support); the caller must hold its role (403). Without it, the
    /// first of ROLE_RESELLER, ROLE_SALES_SUPPORT the caller holds.
    #[param(value_type = Option<String>)]
    context: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// RESELLER or SSR: your company's opportunities, in that role (which you must hold).
    /// Without it, a marketplace manager (ROLE_CHANNEL_ADMIN) sees every opportunity of the
    /// marketplace, a seller its company's.
    #[param(value_type = Option<String>)]
    context: Option<String>,
    /// `gte(ms)`, `gt(ms)`, `lte(ms)`, `lt(ms)` in Unix epoch milliseconds: repeat the parameter
    /// (`createdOn=gte(1)&createdOn=lte(2)`) or separate bounds with commas.
    #[param(value_type = Option<Vec<String>>)]
    #[allow(dead_code)] // documented here; read from the raw query, where it may repeat
    created_on: Option<String>,
    /// The customer's user ID.
    customer_id: Option<String>,
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    number: Option<PageNumberFromOne>,
    /// The sales agent's user ID.
    owner_id: Option<String>,
    /// As `createdOn`; an opportunity without a purchase effective date matches no bound.
    #[param(value_type = Option<Vec<String>>)]
    #[allow(dead_code)] // as `created_on`
    purchase_effective_date: Option<String>,
    /// Matched, case-insensitively, in the ids of the opportunity, sales agent, sales agent
    /// company, customer and customer company, and in the name.
    #[param(max_length = 200)]
    search_text: Option<String>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 10)]
    size: Option<PageSize>,
    /// `+field` / `-field` (`%2B` for `+` in a URL), comma-separated, fields `createdOn`,
    /// `name`, `status`, `purchaseEffectiveDate`; default `-createdOn`.
    #[param(value_type = Option<String>)]
    sort: Option<String>,
    /// OPEN, CLOSED or PENDING_REVIEW.
    #[param(value_type = Option<String>)]
    status: Option<String>,
}

/// Every value of the query's `name` (repeated or not) as one range, or 400 naming it.
fn range_of(raw: &Option<String>, name: &str) -> Result<TimeRange, ResellerError> {
    let values: Vec<String> = crate::kernel::repeated(raw.as_deref(), name)
        .into_iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Ok(TimeRange::default());
    }
    parse_range(&values.join(","), true).map_err(|e| ResellerError::invalid(name, &e))
}

fn context_of(raw: &Option<String>) -> Result<Option<QuoteContext>, ResellerError> {
    Ok(param::<ContextParam>(raw, "context")?.map(|c| c.0))
}

fn opportunity_id(id: &str) -> Result<(), ResellerError> {
    if plausible_id(id) { Ok(()) } else { Err(ResellerError::not_found("opportunity")) }
}

// ----- handlers -----

/// Create opportunity
///
/// A quote of catalog payment plans for a user (`customerId`) of a company associated with your
/// reseller company (`customerCompanyId`), both required (400 naming them otherwise). The
/// owner (sales agent) is a user of your company, you by default. Each item is priced from the
/// catalog in `currency` (USD by default) as `POST /subscriptions` would price it; 409
/// `EDITION_IN_OPPORTUNITY` for an edition given twice. Scopes: ROLE_RESELLER,
/// ROLE_SALES_SUPPORT (`context=SSR`). A quote for a company a lead became is linked to the
/// lead (its `LEAD_QUOTE_LINKED` activity).
#[utoipa::path(post, path = "/opportunities", tag = "Opportunities", params(ContextQuery),
    request_body = CreationRequest,
    responses((status = 200, description = "Success", body = OpportunityDto),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn create(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ContextQuery>,
    ApiJson(body): ApiJson<CreationRequest>,
) -> Result<Json<OpportunityDto>, ResellerError> {
    let context = context_of(&q.context)?;
    let mut items = Vec::new();
    for (i, it) in body.items.unwrap_or_default().into_iter().enumerate() {
        items.push(item_input(it, &format!("items[{i}]."))?);
    }
    let input = NewQuote {
        customer_company_id: body.customer_company_id,
        customer_user_id: body.customer_id,
        owner_company_id: body.owner_company_id,
        owner_user_id: body.owner_id,
        name: body.name,
        currency: body.currency,
        purchase_effective_at: epoch(body.purchase_effective_date, "purchaseEffectiveDate")?,
        items,
    };
    Ok(Json(opportunity_dto(&services.quotes().create(&p, context, input).await?)))
}

/// List opportunities
///
/// A page of opportunities, newest first unless `sort` says otherwise. A marketplace manager
/// (ROLE_CHANNEL_ADMIN, no `context`) sees every opportunity of the marketplace; a reseller or
/// sales support its company's.
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/opportunities", tag = "Opportunities", params(ListQuery),
    responses((status = 200, description = "Success", body = PageDto)))]
pub(super) async fn list(
    State(services): State<Services>,
    Caller(p): Caller,
    RawQuery(raw): RawQuery,
    Query(q): Query<ListQuery>,
) -> Result<Json<PageDto>, ResellerError> {
    let context = context_of(&q.context)?;
    let (offset, limit, number, size) = paging_from_one(q.number, q.size, DEFAULT_SIZE);
    let filter = QuoteFilter {
        owner_company_id: None,
        customer_user_id: trimmed(q.customer_id),
        owner_user_id: trimmed(q.owner_id),
        created: range_of(&raw, "createdOn")?,
        effective: range_of(&raw, "purchaseEffectiveDate")?,
        status: param::<QuoteStatus>(&q.status, "status")?,
        search: search(q.search_text)?,
        sort: param::<SortParam<QuoteSort>>(&q.sort, "sort")?.map(|s| s.0).unwrap_or_default(),
    };
    let window = super::window(q.cursor, offset);
    let found = services.quotes().list(&p, context, filter, &window, limit).await?;
    Ok(Json(PageDto {
        content: found.items.iter().map(summary_dto).collect(),
        page: PageMetadata::paged(number, size, &window, found.total, found.next.as_ref()),
    }))
}

/// Get opportunity details
///
/// The opportunity with its items and the actions the caller may take. Another company's is
/// 404 `NOT_FOUND`.
#[utoipa::path(get, path = "/opportunities/{opportunityId}", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")),
    responses((status = 200, description = "Success", body = OpportunityDto),
        (status = 404, description = "Not found", body = super::ErrorBody)))]
pub(super) async fn get(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<OpportunityDto>, ResellerError> {
    opportunity_id(&id)?;
    Ok(Json(opportunity_dto(&services.quotes().get(&p, &id).await?)))
}

/// Update opportunity
///
/// Changes what is given of the name (empty clears it), purchase effective date, purchase
/// custom attributes and — a partnerd addition — the sales agent (`ownerId`, a user of your
/// company; 400 otherwise) (ROLE_RESELLER, ROLE_SALES_SUPPORT). 409 `STATUS_CONFLICT` once the
/// opportunity is closed, or while a seller waits on its review.
#[utoipa::path(patch, path = "/opportunities/{opportunityId}", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")), request_body = UpdateRequest,
    responses((status = 200, description = "Success", body = OpportunityDto),
        (status = 404, description = "Not found", body = super::ErrorBody),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn update(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateRequest>,
) -> Result<Json<OpportunityDto>, ResellerError> {
    opportunity_id(&id)?;
    let patch = QuotePatch {
        name: body.name,
        owner_user_id: body.owner_id,
        purchase_effective_at: epoch(body.purchase_effective_date, "purchaseEffectiveDate")?,
        purchase_custom_attributes: body.purchase_custom_attributes,
    };
    Ok(Json(opportunity_dto(&services.quotes().update(&p, &id, patch).await?)))
}

/// Add item
///
/// Adds a catalog payment plan (`pricingPlanId`, required) with its units, priced in the
/// opportunity's currency; the opportunity's total follows. 409 `EDITION_IN_OPPORTUNITY` when
/// the opportunity has the plan's edition, `ITEM_ID_TAKEN` for an `id` it has,
/// `STATUS_CONFLICT` when it is closed.
#[utoipa::path(post, path = "/opportunities/{opportunityId}/items", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")), request_body = ItemRequest,
    responses((status = 200, description = "Success", body = ItemDto),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn add_item(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ItemRequest>,
) -> Result<Json<ItemDto>, ResellerError> {
    opportunity_id(&id)?;
    let input = item_input(body, "")?;
    let (item, currency) = services.quotes().add_item(&p, &id, input).await?;
    Ok(Json(item_dto(&item, &currency)))
}

/// List items
///
/// Every item of the opportunity with its price per cost, as an array of
/// `OpportunityItemDetail` (the document shows one object).
#[utoipa::path(get, path = "/opportunities/{opportunityId}/items", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")),
    responses((status = 200, description = "Success", body = Vec<ItemDetailDto>)))]
pub(super) async fn items(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<ItemDetailDto>>, ResellerError> {
    opportunity_id(&id)?;
    Ok(Json(services.quotes().items(&p, &id).await?.iter().map(detail_dto).collect()))
}

/// Edit item
///
/// What is given replaces the item's (`pricingPlanId`, `units`, `customPrices`, the
/// attributes); it is priced again. A custom price is the sale price per unit of the cost it
/// names, in the opportunity's currency.
#[utoipa::path(put, path = "/opportunities/{opportunityId}/items/{itemId}", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID"), ("itemId" = String, Path, description = "Item ID")),
    request_body = ItemRequest,
    responses((status = 200, description = "Success", body = ItemDto),
        (status = 404, description = "Not found", body = super::ErrorBody),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn edit_item(
    State(services): State<Services>,
    Caller(p): Caller,
    Path((id, item_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ItemRequest>,
) -> Result<Json<ItemDto>, ResellerError> {
    opportunity_id(&id)?;
    if !plausible_id(&item_id) {
        return Err(ResellerError::not_found("opportunity item"));
    }
    let input = item_input(body, "")?;
    let (item, currency) = services.quotes().edit_item(&p, &id, &item_id, input).await?;
    Ok(Json(item_dto(&item, &currency)))
}

/// Remove item
///
/// 204; 404 for an item the opportunity does not have.
#[utoipa::path(delete, path = "/opportunities/{opportunityId}/items/{itemId}", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID"), ("itemId" = String, Path, description = "Item ID")),
    responses((status = 204, description = "No Content"),
        (status = 404, description = "Not found", body = super::ErrorBody),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn remove_item(
    State(services): State<Services>,
    Caller(p): Caller,
    Path((id, item_id)): Path<(String, String)>,
) -> Result<StatusCode, ResellerError> {
    opportunity_id(&id)?;
    if !plausible_id(&item_id) {
        return Err(ResellerError::not_found("opportunity item"));
    }
    services.quotes().remove_item(&p, &id, &item_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Finalize opportunity
///
/// Buys every item, in one transaction: for each, a subscription and its first order for the
/// customer's company and user, exactly as `POST /subscriptions` would (invoiced to the
/// customer for your partner, with its commission), priced from the catalog as it is now. The
/// opportunity is CLOSED with `purchaseId` and `purchaseEffectiveDate` (now, if unset). When an
/// item cannot be bought (its plan left the catalog, the company has that edition already)
/// nothing is bought: 409 `NOT_FINALIZABLE` naming the item. A closed opportunity is answered as
/// it is: finalizing twice buys once. While under review, or when a custom price is below the
/// catalog's, only the marketplace manager finalizes (409 `STATUS_CONFLICT` for a seller). The
/// closed opportunity's items and `totalFee` are what was bought; `GET /subscriptions` and
/// `GET /orders` with `searchText={purchaseId}` find the purchase's subscriptions and their
/// orders. The subscriptions start when
/// finalized; `purchaseEffectiveDate` is kept as given. Item attributes stay on the opportunity.
#[utoipa::path(post, path = "/opportunities/{opportunityId}/finalize", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")),
    responses((status = 200, description = "Success", body = OpportunityDto),
        (status = 409, description = "Nothing was bought", body = super::ErrorBody)))]
pub(super) async fn finalize(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<OpportunityDto>, ResellerError> {
    opportunity_id(&id)?;
    Ok(Json(opportunity_dto(&services.quotes().finalize(&p, &id).await?)))
}

/// Request opportunity review
///
/// OPEN → PENDING_REVIEW (204): the marketplace manager reviews it and may edit and finalize
/// it; its sellers wait. 409 `STATUS_CONFLICT` unless it is OPEN.
#[utoipa::path(post, path = "/{opportunityId}/requestReview", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")),
    responses((status = 204, description = "No Content"),
        (status = 404, description = "Not found", body = super::ErrorBody),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn request_review(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ResellerError> {
    opportunity_id(&id)?;
    services.quotes().request_review(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Complete opportunity review
///
/// A partnerd addition (the document has no way back from a review): the marketplace manager
/// (ROLE_CHANNEL_ADMIN) returns a PENDING_REVIEW opportunity to OPEN, to its sellers (204).
/// 409 `STATUS_CONFLICT` for anyone else or any other status.
#[utoipa::path(post, path = "/{opportunityId}/completeReview", tag = "Opportunities",
    params(("opportunityId" = String, Path, description = "Opportunity ID")),
    responses((status = 204, description = "No Content"),
        (status = 404, description = "Not found", body = super::ErrorBody),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn complete_review(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ResellerError> {
    opportunity_id(&id)?;
    services.quotes().complete_review(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_have_ten_decimals_and_epochs_take_numbers_or_strings() {
        assert_eq!(money_10(1200), "12.0000000000");
        assert_eq!(money_10(5), "0.0500000000");
        assert_eq!(money_10(-150), "-1.5000000000");
        let t = epoch(Some(serde_json::json!(1577750400000_i64)), "d").unwrap().unwrap();
        assert_eq!(epoch_ms(t), 1577750400000);
        assert_eq!(epoch(Some(serde_json::json!("1577750400000")), "d").unwrap(), Some(t));
        assert!(epoch(Some(serde_json::json!("soon")), "d").is_err());
        assert!(epoch(Some(serde_json::json!(true)), "d").is_err());
        assert_eq!(epoch(None, "d").unwrap(), None);
    }

    #[test]
    fn ranges_gather_every_repeated_value() {
        let raw = Some("createdOn=gte(1000)&size=5&createdOn=lte(2000)".to_owned());
        let r = range_of(&raw, "createdOn").unwrap();
        assert_eq!(r.from.map(|b| b.at.timestamp_millis()), Some(1000));
        assert_eq!(r.to.map(|b| b.at.timestamp_millis()), Some(2000));
        assert_eq!(range_of(&raw, "purchaseEffectiveDate").unwrap(), TimeRange::default());
        assert!(range_of(&Some("createdOn=gte(1)&createdOn=gte(2)".into()), "createdOn").is_err());
        assert!(ContextParam::from_param("SSR").is_ok() && ContextParam::from_param("SALES_SUPPORT").is_err());
    }
}
