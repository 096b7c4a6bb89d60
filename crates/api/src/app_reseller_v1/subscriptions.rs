//! Subscriptions (`/subscriptions…`), their orders (`/orders`) and seat assignments
//! (`/subscriptionAssignments…`): the document's shapes over `services::subscriptions`.
//!
//! Decisions where the document is silent or unclear (also in each operation's description):
//! - Statuses and frequencies are written with the names the document's lists give
//!   (`PENDING_MANUAL_RECOVERY`, `MONTHLY`, `ONE_TIME`), not the prose of its examples.
//! - `totalFee` is the currency code then the amount (`USD350.00`). Prices come from the
//!   catalog: each cost's item price plus its markups, × quantity for `UNIT` costs, once for
//!   `FLAT_RATE` ones, in exact cents.
//! - `number` counts pages from 1 (as the examples show); `size` is 1 to 200.
//! - An order's cart is the order itself: `orderCartId` (and the orders example's
//!   `orderCardId`) is its id. partnerd keeps no pending events: `pendingEvent` is absent and
//!   `pending=true` matches nothing.

use super::dto::CompanyRef;
use super::{
    ApiJson, Caller, InList, InclusiveRange, PageMetadata, PageNumberFromOne, PageSize, Query, ResellerError,
    SortFields, SortParam, TimeRangeParam, epoch_ms, paging_from_one, plausible_id, required,
};
use crate::kernel::{FromParam, Param};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use partnerd_domain::catalog::PricingUnit;
use partnerd_domain::subscription::{OrderLine, OrderStatus, SeatStatus, SubscriptionStatus, total_fee};
use partnerd_services::Services;
use partnerd_services::policy::Context;
use partnerd_services::subscriptions::{NewSubscription, PURCHASE_CONTEXTS, PurchaseQuery, SubscriptionUpdate};
use partnerd_store::{
    OrderFilter, OrderRecord, OrderSort, PurchaseFilter, SeatFilter, SeatRecord, SortOrder, SubscriptionEntry,
    SubscriptionFilter, SubscriptionSort,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The documented page size of the subscription and order lists (the examples' `size`).
const DEFAULT_SIZE: u32 = 10;
/// The documented page size of the assignment list.
const SEAT_PAGE_SIZE: u32 = 50;

// ----- shapes -----

/// `OrderLineDetailsWS`: a unit and how many (`quantity` a string, as the document writes it;
/// a JSON integer is accepted too).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = OrderLineDetailsWS)]
pub(super) struct OrderLineDto {
    /// A whole number from 0, as a string (`"15"`).
    #[schema(value_type = String, example = "15")]
    pub(super) quantity: QuantityText,
    /// `PricingUnit`: USER, SESSION, UNIT, DEVICE, GIGABYTE, HOUR or NOT_APPLICABLE.
    #[schema(example = "USER")]
    pub(super) unit: String,
}

/// A quantity written as a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QuantityText(pub(super) Result<u32, String>);

impl Serialize for QuantityText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Ok(n) => s.serialize_str(&n.to_string()),
            Err(raw) => s.serialize_str(raw),
        }
    }
}

impl<'de> Deserialize<'de> for QuantityText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let parsed = match &v {
            serde_json::Value::String(s) => s.trim().parse::<u32>().map_err(|_| s.clone()),
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| n.to_string()),
            other => Err(other.to_string()),
        };
        Ok(QuantityText(parsed))
    }
}

pub(super) fn line_dto(l: &OrderLine) -> OrderLineDto {
    OrderLineDto { quantity: QuantityText(Ok(l.quantity)), unit: l.unit.as_str().to_owned() }
}

/// The request's order lines, each problem named (`orderLines[0].quantity`).
fn order_lines(lines: Option<Vec<OrderLineDto>>) -> Result<Vec<OrderLine>, ResellerError> {
    lines_at(lines, "orderLines")
}

/// Lines of units given under `field`, each problem named (`units[0].quantity`).
pub(super) fn lines_at(lines: Option<Vec<OrderLineDto>>, field: &str) -> Result<Vec<OrderLine>, ResellerError> {
    let mut out = Vec::new();
    for (i, l) in lines.unwrap_or_default().iter().enumerate() {
        let unit =
            PricingUnit::parse(l.unit.trim()).map_err(|e| ResellerError::invalid(&format!("{field}[{i}].unit"), &e))?;
        let quantity = l.quantity.0.clone().map_err(|raw| {
            ResellerError::invalid(
                &format!("{field}[{i}].quantity"),
                &format!("must be a whole number from 0 (got '{}')", partnerd_domain::validation::echo(&raw)),
            )
        })?;
        out.push(OrderLine { unit, quantity });
    }
    Ok(out)
}

/// `AppResellerUserAssociation`: a user's id and names.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerUserAssociation)]
pub(super) struct UserRef {
    pub(super) first_name: String,
    pub(super) id: String,
    pub(super) last_name: String,
}

/// `AppResellerSubscriptionCreationRequest`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionCreationRequest)]
pub(super) struct CreationRequest {
    /// Unit type and quantity, one per cost of the plan (a cost without a line is ordered at
    /// its `minUnits`, or 1).
    pub(super) order_lines: Option<Vec<OrderLineDto>>,
    /// An add-on's parent: an active subscription of yours for the same company.
    pub(super) parent_subscription_id: Option<String>,
    /// (Required) Edition payment plan ID, from the catalog.
    pub(super) payment_plan_id: Option<String>,
    /// (Required) A company associated with your reseller company.
    pub(super) target_company_id: Option<String>,
    /// (Required) A user of that company.
    pub(super) target_user_id: Option<String>,
}

/// `AppResellerSubscriptionUpdateRequest`: both fields are required.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionUpdateRequest)]
pub(super) struct UpdateRequest {
    pub(super) order_lines: Option<Vec<OrderLineDto>>,
    /// Another (or the same) payment plan of the subscription's product.
    pub(super) payment_plan_id: Option<String>,
}

/// `AppResellerSubscriptionActiveOrderWS`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionActiveOrderWS)]
pub(super) struct ActiveOrder {
    pub(super) created_on: i64,
    pub(super) edition_name: String,
    /// ONE_TIME, DAILY, MONTHLY, QUARTERLY, SIX_MONTHS, YEARLY, TWO_YEARS or THREE_YEARS.
    pub(super) frequency: String,
    pub(super) id: String,
    /// The order's own id (one cart per order).
    pub(super) order_cart_id: String,
    pub(super) order_lines: Vec<OrderLineDto>,
    pub(super) payment_plan_id: String,
    /// An order status of the document's list.
    pub(super) status: String,
    /// `USD350.00`.
    pub(super) total_fee: String,
}

/// `orderLightWS`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = orderLightWS)]
pub(super) struct OrderLight {
    pub(super) created_on: i64,
    pub(super) edition_name: String,
    pub(super) frequency: String,
    pub(super) id: String,
    pub(super) order_cart_id: String,
    pub(super) status: String,
    pub(super) total_fee: String,
}

/// `AppResellerSubscriptionWS`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionWS)]
pub(super) struct SubscriptionDto {
    pub(super) active_order: ActiveOrder,
    /// The product's name.
    pub(super) application_name: String,
    pub(super) company: CompanyRef,
    pub(super) created_on: i64,
    pub(super) id: String,
    /// The parent subscription of an add-on (a partnerd addition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parent_subscription_id: Option<String>,
    /// INITIALIZED, FAILED, FREE_TRIAL, FREE_TRIAL_EXPIRED, ACTIVE, SUSPENDED or CANCELLED.
    pub(super) status: String,
    pub(super) user: UserRef,
}

/// `AppResellerSubscriptionLightWS`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionLightWS)]
pub(super) struct SubscriptionLight {
    pub(super) active_order: OrderLight,
    pub(super) application_name: String,
    pub(super) company: CompanyRef,
    pub(super) id: String,
    pub(super) status: String,
    pub(super) user: UserRef,
}

/// `SubscriptionList`.
#[derive(Serialize, ToSchema)]
#[schema(as = SubscriptionList)]
pub(super) struct SubscriptionPage {
    pub(super) content: Vec<SubscriptionLight>,
    pub(super) page: PageMetadata,
}

/// An order of `OrderPagedReadResponse`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerOrder)]
pub(super) struct OrderDto {
    pub(super) application_name: String,
    pub(super) company: CompanyRef,
    pub(super) created_on: i64,
    pub(super) edition_name: String,
    pub(super) frequency: String,
    pub(super) id: String,
    /// As spelled in the document's example (the order's id).
    pub(super) order_card_id: String,
    /// As spelled in the document's schemas (the order's id).
    pub(super) order_cart_id: String,
    pub(super) order_lines: Vec<OrderLineDto>,
    pub(super) payment_plan_id: String,
    pub(super) status: String,
    /// The subscription the order belongs to (a partnerd addition).
    pub(super) subscription_id: String,
    pub(super) total_fee: String,
}

/// `OrderPagedReadResponse`.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderPagedReadResponse)]
pub(super) struct OrderPage {
    pub(super) content: Vec<OrderDto>,
    pub(super) page: PageMetadata,
}

/// `AppResellerSubscriptionAssignmentRequestWS`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionAssignmentRequestWS)]
pub(super) struct AssignmentRequest {
    pub(super) subscription_id: Option<String>,
    pub(super) user_id: Option<String>,
}

/// `AppResellerSubscriptionAssignment` (also `AppResellerSubscriptionAssignmentWS`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerSubscriptionAssignment)]
pub(super) struct AssignmentDto {
    pub(super) created_on: i64,
    pub(super) id: String,
    /// `UserEntitlementStatus`: ACTIVE once assigned, CANCELLED once unassigned.
    pub(super) status: String,
    pub(super) subscription_id: String,
    pub(super) user: UserRef,
}

/// `AppResellerSubscriptionAssignmentList`.
#[derive(Serialize, ToSchema)]
#[schema(as = AppResellerSubscriptionAssignmentList)]
pub(super) struct AssignmentPage {
    pub(super) content: Vec<AssignmentDto>,
    pub(super) page: PageMetadata,
}

fn lines_of(v: &serde_json::Value) -> Vec<OrderLineDto> {
    let lines: Vec<OrderLine> = serde_json::from_value(v.clone()).unwrap_or_default();
    lines.iter().map(line_dto).collect()
}

fn active_order(o: &OrderRecord) -> ActiveOrder {
    ActiveOrder {
        created_on: epoch_ms(o.created_at),
        edition_name: o.edition_name.clone(),
        frequency: o.frequency.as_str().to_owned(),
        id: o.id.clone(),
        order_cart_id: o.id.clone(),
        order_lines: lines_of(&o.order_lines),
        payment_plan_id: o.payment_plan_id.clone(),
        status: o.status.as_str().to_owned(),
        total_fee: total_fee(&o.currency, o.total_cents),
    }
}

fn subscription_dto(e: &SubscriptionEntry) -> SubscriptionDto {
    let s = &e.subscription;
    SubscriptionDto {
        active_order: active_order(&e.order),
        application_name: s.application_name.clone(),
        company: CompanyRef { id: s.company_id.clone(), name: s.company_name.clone() },
        created_on: epoch_ms(s.created_at),
        id: s.id.clone(),
        parent_subscription_id: s.parent_subscription_id.clone(),
        status: s.status.as_str().to_owned(),
        user: UserRef {
            first_name: s.user_first_name.clone(),
            id: s.user_id.clone(),
            last_name: s.user_last_name.clone(),
        },
    }
}

fn light_dto(e: &SubscriptionEntry) -> SubscriptionLight {
    let (s, o) = (&e.subscription, &e.order);
    SubscriptionLight {
        active_order: OrderLight {
            created_on: epoch_ms(o.created_at),
            edition_name: o.edition_name.clone(),
            frequency: o.frequency.as_str().to_owned(),
            id: o.id.clone(),
            order_cart_id: o.id.clone(),
            status: o.status.as_str().to_owned(),
            total_fee: total_fee(&o.currency, o.total_cents),
        },
        application_name: s.application_name.clone(),
        company: CompanyRef { id: s.company_id.clone(), name: s.company_name.clone() },
        id: s.id.clone(),
        status: s.status.as_str().to_owned(),
        user: UserRef {
            first_name: s.user_first_name.clone(),
            id: s.user_id.clone(),
            last_name: s.user_last_name.clone(),
        },
    }
}

fn order_dto(o: &OrderRecord) -> OrderDto {
    OrderDto {
        application_name: o.application_name.clone(),
        company: CompanyRef { id: o.company_id.clone(), name: o.company_name.clone() },
        created_on: epoch_ms(o.created_at),
        edition_name: o.edition_name.clone(),
        frequency: o.frequency.as_str().to_owned(),
        id: o.id.clone(),
        order_card_id: o.id.clone(),
        order_cart_id: o.id.clone(),
        order_lines: lines_of(&o.order_lines),
        payment_plan_id: o.payment_plan_id.clone(),
        status: o.status.as_str().to_owned(),
        subscription_id: o.subscription_id.clone(),
        total_fee: total_fee(&o.currency, o.total_cents),
    }
}

fn seat_dto(s: &SeatRecord) -> AssignmentDto {
    AssignmentDto {
        created_on: epoch_ms(s.created_at),
        id: s.id.clone(),
        status: s.status.as_str().to_owned(),
        subscription_id: s.subscription_id.clone(),
        user: UserRef {
            first_name: s.user_first_name.clone(),
            id: s.user_id.clone(),
            last_name: s.user_last_name.clone(),
        },
    }
}

// ----- parameters -----

/// The subscription and order lists' `context`: RESELLER or RESELLER_MANAGER.
#[derive(Debug, Clone, Copy)]
pub(super) struct PurchaseContext(Context);

impl FromParam for PurchaseContext {
    fn from_param(raw: &str) -> Result<Self, String> {
        super::context_among(raw, &PURCHASE_CONTEXTS).map(PurchaseContext)
    }
}

/// `paidStatus`: PAID (an order above zero) or FREE.
#[derive(Debug, Clone, Copy)]
pub(super) struct PaidStatus(bool);

impl FromParam for PaidStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "PAID" => Ok(PaidStatus(true)),
            "FREE" => Ok(PaidStatus(false)),
            _ => Err(super::one_of(raw, &["PAID", "FREE"])),
        }
    }
}

macro_rules! enum_param {
    ($($ty:ty),*) => {$(
        impl FromParam for $ty {
            fn from_param(raw: &str) -> Result<Self, String> {
                <$ty>::parse(raw.trim())
            }
        }
    )*};
}
enum_param!(SubscriptionStatus, OrderStatus, SeatStatus);

impl SortFields for SubscriptionSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("createdOn", SubscriptionSort::CreatedOn),
        ("company.name", SubscriptionSort::CompanyName),
        ("applicationName", SubscriptionSort::ApplicationName),
        ("status", SubscriptionSort::Status),
    ];
}

impl SortFields for OrderSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("createdOn", OrderSort::CreatedOn),
        ("company.name", OrderSort::CompanyName),
        ("applicationName", OrderSort::ApplicationName),
        ("status", OrderSort::Status),
        ("totalFee", OrderSort::TotalFee),
    ];
}

/// The assignment list sorts by creation only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SeatSort;

impl SortFields for SeatSort {
    const FIELDS: &'static [(&'static str, Self)] = &[("createdOn", SeatSort)];
}

pub(super) fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub(super) fn search(v: Option<String>) -> Result<Option<String>, ResellerError> {
    let s = trimmed(v);
    if s.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ResellerError::invalid("searchText", "must be at most 200 characters"));
    }
    Ok(s)
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct PurchaseListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// (Required) RESELLER or RESELLER_MANAGER; the caller must hold its role (403).
    #[param(value_type = String)]
    context: Option<Param<PurchaseContext>>,
    /// `gte(ms)`, `gt(ms)`, `lte(ms)`, `lt(ms)`, a lower and an upper bound comma-separated.
    #[param(value_type = Option<String>)]
    created_on: Option<Param<TimeRangeParam>>,
    /// Required for RESELLER: a company associated with yours (403 otherwise). For
    /// RESELLER_MANAGER, an optional filter.
    customer_company_id: Option<String>,
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    number: Option<PageNumberFromOne>,
    /// PAID (total above zero) or FREE.
    #[param(value_type = Option<String>)]
    paid_status: Option<Param<PaidStatus>>,
    /// `true` or `false`; partnerd keeps no pending events, so `true` matches nothing.
    #[param(value_type = Option<bool>)]
    pending: Option<Param<super::Flag>>,
    /// Required for RESELLER_MANAGER: a reseller company (403 otherwise). Ignored for RESELLER.
    reseller_company_id: Option<String>,
    /// Matched, case-insensitively, in the ids, product, edition, company and user names.
    #[param(max_length = 200)]
    search_text: Option<String>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 10)]
    size: Option<PageSize>,
    /// A status, or `in(A,B)`.
    #[param(value_type = Option<String>)]
    status: Option<String>,
    /// `+field` / `-field`, comma-separated; default `-createdOn`.
    #[param(value_type = Option<String>)]
    sort: Option<String>,
    /// For RESELLER, the customer's user ID; for RESELLER_MANAGER, the reseller's user ID.
    user_id: Option<String>,
}

impl PurchaseListQuery {
    /// Whose purchases (the context rules) and the common filters.
    fn split(&self) -> Result<(PurchaseQuery, PurchaseFilter), ResellerError> {
        let context = required(self.context, "context")?.0.0;
        let customer = trimmed(self.customer_company_id.clone());
        let reseller = trimmed(self.reseller_company_id.clone());
        match context {
            Context::Reseller => {
                required(customer.as_ref(), "customerCompanyId")?;
            }
            _ => {
                required(reseller.as_ref(), "resellerCompanyId")?;
            }
        }
        let q = PurchaseQuery {
            context,
            customer_company_id: customer,
            reseller_company_id: reseller,
            user_id: trimmed(self.user_id.clone()),
        };
        let f = PurchaseFilter {
            created: self.created_on.map(|c| c.0.0).unwrap_or_default(),
            paid: self.paid_status.map(|p| p.0.0),
            pending: self.pending.map(|p| p.0.0),
            search: search(self.search_text.clone())?,
            ..Default::default()
        };
        Ok((q, f))
    }
}

/// Parses an optional `FromParam` value, 400 naming the parameter.
pub(super) fn param<T: FromParam>(raw: &Option<String>, name: &str) -> Result<Option<T>, ResellerError> {
    trimmed(raw.clone()).map(|r| T::from_param(&r).map_err(|e| ResellerError::invalid(name, &e))).transpose()
}

// ----- handlers -----

/// List subscriptions
///
/// The subscriptions your reseller company bought (RESELLER: for the `customerCompanyId` you
/// name, which must be associated with you) or that a reseller company bought (RESELLER_MANAGER:
/// `resellerCompanyId`, required). Missing required parameters are 400 naming them. Newest
/// first unless `sort` says otherwise.
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/subscriptions", tag = "Subscriptions", params(PurchaseListQuery),
    responses((status = 200, description = "Success", body = SubscriptionPage)))]
pub(super) async fn list(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<PurchaseListQuery>,
) -> Result<Json<SubscriptionPage>, ResellerError> {
    let (whose, common) = q.split()?;
    let (offset, limit, number, size) = paging_from_one(q.number, q.size, DEFAULT_SIZE);
    let filter = SubscriptionFilter {
        common,
        statuses: param::<InList<SubscriptionStatus>>(&q.status, "status")?.map(|l| l.0).unwrap_or_default(),
        sort: param::<SortParam<SubscriptionSort>>(&q.sort, "sort")?.map(|s| s.0).unwrap_or_default(),
    };
    let window = super::window(q.cursor.clone(), offset);
    let found = services.subscriptions().list(&p, &whose, filter, &window, limit).await?;
    Ok(Json(SubscriptionPage {
        content: found.items.iter().map(light_dto).collect(),
        page: PageMetadata::paged(number, size, &window, found.total, found.next.as_ref()),
    }))
}

/// List orders
///
/// Every order (a purchase or a change of a subscription) of your reseller company for the
/// `customerCompanyId` you name (RESELLER, required, associated with you) or of the
/// `resellerCompanyId` you name (RESELLER_MANAGER, required). `status` takes one of the
/// document's order statuses or `in(A,B)`. Newest first unless `sort` says otherwise (fields
/// `createdOn`, `company.name`, `applicationName`, `status`, `totalFee`).
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/orders", tag = "Orders", params(PurchaseListQuery),
    responses((status = 200, description = "Success", body = OrderPage)))]
pub(super) async fn orders(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<PurchaseListQuery>,
) -> Result<Json<OrderPage>, ResellerError> {
    let (whose, common) = q.split()?;
    let (offset, limit, number, size) = paging_from_one(q.number, q.size, DEFAULT_SIZE);
    let filter = OrderFilter {
        common,
        statuses: param::<InList<OrderStatus>>(&q.status, "status")?.map(|l| l.0).unwrap_or_default(),
        sort: param::<SortParam<OrderSort>>(&q.sort, "sort")?.map(|s| s.0).unwrap_or_default(),
    };
    let window = super::window(q.cursor.clone(), offset);
    let found = services.subscriptions().orders(&p, &whose, filter, &window, limit).await?;
    Ok(Json(OrderPage {
        content: found.items.iter().map(order_dto).collect(),
        page: PageMetadata::paged(number, size, &window, found.total, found.next.as_ref()),
    }))
}

fn required_field(v: Option<String>, name: &str) -> Result<String, ResellerError> {
    trimmed(v).ok_or_else(|| ResellerError::bad_request(format!("Required field '{name}' is missing")))
}

/// Create subscription
///
/// Buys the payment plan for a user of a company associated with your reseller company
/// (ROLE_RESELLER). Priced from the catalog; the order, its invoice and the partner's
/// commission are written with it, in one transaction. A recurring plan's order is invoiced
/// again at the start of each period. 400 names the field for an unlinked
/// company, a user outside it, an unknown payment plan, a quantity outside the cost's
/// `minUnits`/`maxUnits`, or a unit the plan has no cost for; 409 `ALREADY_SUBSCRIBED` when the
/// company has a live subscription of the edition.
#[utoipa::path(post, path = "/subscriptions", tag = "Subscriptions", request_body = CreationRequest,
    responses((status = 200, description = "Success", body = SubscriptionDto),
        (status = 409, description = "Subscription already created", body = super::ErrorBody)))]
pub(super) async fn create(
    State(services): State<Services>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<CreationRequest>,
) -> Result<Json<SubscriptionDto>, ResellerError> {
    let input = NewSubscription {
        payment_plan_id: required_field(body.payment_plan_id, "paymentPlanId")?,
        target_company_id: required_field(body.target_company_id, "targetCompanyId")?,
        target_user_id: required_field(body.target_user_id, "targetUserId")?,
        order_lines: order_lines(body.order_lines)?,
        parent_subscription_id: trimmed(body.parent_subscription_id),
    };
    let entry = services.subscriptions().create(&p, input).await?;
    Ok(Json(subscription_dto(&entry)))
}

/// Subscription details
///
/// Your reseller company's subscription (ROLE_RESELLER), cancelled ones included; another
/// company's is 404.
#[utoipa::path(get, path = "/subscriptions/{subscriptionId}", tag = "Subscriptions",
    params(("subscriptionId" = String, Path, description = "Subscription ID")),
    responses((status = 200, description = "Success", body = SubscriptionDto)))]
pub(super) async fn get(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionDto>, ResellerError> {
    if !plausible_id(&id) {
        return Err(ResellerError::not_found("subscription"));
    }
    Ok(Json(subscription_dto(&services.subscriptions().get(&p, &id).await?)))
}

/// Update subscription
///
/// Upgrade or downgrade (ROLE_RESELLER): `paymentPlanId` (a plan of the same product) and
/// `orderLines` are both required. A new active order replaces the old one (`FINISHED`) and
/// the difference is prorated over the rest of the period onto one invoice; a request that
/// changes nothing answers the subscription as it is. 409 `SEATS_IN_USE` when fewer seats
/// would remain than are assigned, `NOT_CHANGEABLE` for a cancelled subscription.
#[utoipa::path(put, path = "/subscriptions/{subscriptionId}", tag = "Subscriptions",
    params(("subscriptionId" = String, Path, description = "Subscription ID")), request_body = UpdateRequest,
    responses((status = 200, description = "Success", body = SubscriptionDto),
        (status = 409, description = "The change is refused", body = super::ErrorBody)))]
pub(super) async fn update(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateRequest>,
) -> Result<Json<SubscriptionDto>, ResellerError> {
    if !plausible_id(&id) {
        return Err(ResellerError::not_found("subscription"));
    }
    let payment_plan_id = required_field(body.payment_plan_id, "paymentPlanId")?;
    if body.order_lines.is_none() {
        return Err(ResellerError::bad_request("Required field 'orderLines' is missing"));
    }
    let input = SubscriptionUpdate { payment_plan_id, order_lines: order_lines(body.order_lines)? };
    Ok(Json(subscription_dto(&services.subscriptions().update(&p, &id, input).await?)))
}

/// Cancel subscription
///
/// Cancels your reseller company's subscription at once (ROLE_RESELLER): its active order is
/// `CANCELLED` and its seats unassigned; no refund is issued. It stays readable with status
/// `CANCELLED`, and cancelling it again is 204 too. A subscription that is not yours is 404.
#[utoipa::path(delete, path = "/subscriptions/{subscriptionId}", tag = "Subscriptions",
    params(("subscriptionId" = String, Path, description = "Subscription ID")),
    responses((status = 204, description = "Cancelled")))]
pub(super) async fn cancel(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ResellerError> {
    if !plausible_id(&id) {
        return Err(ResellerError::not_found("subscription"));
    }
    services.subscriptions().cancel(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct SeatListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// `gte(ms)`, `lte(ms)`, or both comma-separated.
    #[param(value_type = Option<String>)]
    created_on: Option<Param<InclusiveRange>>,
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    number: Option<PageNumberFromOne>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 50)]
    size: Option<PageSize>,
    /// `+createdOn` or `-createdOn` (the default).
    #[param(value_type = Option<String>)]
    sort: Option<String>,
    /// `in(STATUS, …)` (a single status is accepted too).
    #[param(value_type = Option<String>)]
    status: Option<String>,
    /// (Required) One of your subscriptions (404 otherwise).
    subscription_id: Option<String>,
    /// A user id, or `in(id, …)`.
    #[param(value_type = Option<String>)]
    user_id: Option<String>,
}

/// List subscription assignments
///
/// The seats of one of your subscriptions (ROLE_RESELLER), newest first by default.
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/subscriptionAssignments", tag = "Subscription Assignments", params(SeatListQuery),
    responses((status = 200, description = "Success", body = AssignmentPage)))]
pub(super) async fn seats(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<SeatListQuery>,
) -> Result<Json<AssignmentPage>, ResellerError> {
    let subscription_id = required(trimmed(q.subscription_id.clone()), "subscriptionId")?;
    if !plausible_id(&subscription_id) {
        return Err(ResellerError::not_found("subscription"));
    }
    let (offset, limit, number, size) = paging_from_one(q.number, q.size, SEAT_PAGE_SIZE);
    let sort = param::<SortParam<SeatSort>>(&q.sort, "sort")?.map(|s| s.0).unwrap_or_default();
    let filter = SeatFilter {
        subscription_id,
        user_ids: param::<InList<String>>(&q.user_id, "userId")?.map(|l| l.0).unwrap_or_default(),
        statuses: param::<InList<SeatStatus>>(&q.status, "status")?.map(|l| l.0).unwrap_or_default(),
        created: q.created_on.map(|c| c.0.0).unwrap_or_default(),
        order: sort.first().map(|(_, o)| *o).or(Some(SortOrder::Desc)),
    };
    let window = super::window(q.cursor.clone(), offset);
    let found = services.subscriptions().seats(&p, filter, &window, limit).await?;
    Ok(Json(AssignmentPage {
        content: found.items.iter().map(seat_dto).collect(),
        page: PageMetadata::paged(number, size, &window, found.total, found.next.as_ref()),
    }))
}

/// Assign product
///
/// Assigns a seat of one of your subscriptions to a user of its company (ROLE_RESELLER). The
/// subscription has as many seats as its `USER` quantity (else its first line's); 409
/// `NO_SEAT_AVAILABLE` when all are assigned, `ALREADY_ASSIGNED` when the user holds one,
/// `NOT_CHANGEABLE` when the subscription is not active. A user outside the company is 400
/// naming `userId`; another company's subscription is 404.
#[utoipa::path(post, path = "/subscriptionAssignments", tag = "Subscription Assignments",
    request_body = AssignmentRequest,
    responses((status = 200, description = "Assignment created", body = AssignmentDto),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn assign(
    State(services): State<Services>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<AssignmentRequest>,
) -> Result<Json<AssignmentDto>, ResellerError> {
    let subscription_id = required_field(body.subscription_id, "subscriptionId")?;
    let user_id = required_field(body.user_id, "userId")?;
    if !plausible_id(&subscription_id) {
        return Err(ResellerError::not_found("subscription"));
    }
    let seat = services.subscriptions().assign(&p, &subscription_id, &user_id).await?;
    Ok(Json(seat_dto(&seat)))
}

/// Unassign product
///
/// Ends the seat (ROLE_RESELLER): its status becomes CANCELLED. As documented, 204 also for an
/// assignment that is not found, already ended, or not one of yours (which is left unchanged).
#[utoipa::path(delete, path = "/subscriptionAssignments/{subscriptionAssignmentId}", tag = "Subscription Assignments",
    params(("subscriptionAssignmentId" = String, Path, description = "Subscription Assignment ID")),
    responses((status = 204, description = "Unassignment request accepted or assignment not found")))]
pub(super) async fn unassign(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ResellerError> {
    if plausible_id(&id) {
        services.subscriptions().unassign(&p, &id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
