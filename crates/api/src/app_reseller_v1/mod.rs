//! `appreseller-api.txt`: the AppReseller family of paths — `/api/appReseller/v1/…` (this
//! module's router), `/api/lead/v2` (Leads) and `/api/opportunities` (request review) — with
//! the document's conventions, defined here once for all of them:
//!
//! - errors `{"code", "message", "status"}` ([`ResellerError`]): 400 for malformed JSON, wrong
//!   types, missing required parameters and bad enum values (naming the parameter), 401, 403,
//!   404, 405, 409, 413, 415, 429, 500;
//! - times as Unix epoch milliseconds ([`epoch_ms`], [`EpochMillis`]);
//! - pages `{"content": […], "page": {"number", "size", "totalElements", "totalPages"}}`,
//!   0-based ([`PageMetadata`], [`paging`]); `sortField`/`sortOrder` ([`SortOrderParam`]);
//! - the `context` parameter ([`AccountContext`], [`required`]) and the scope rules, enforced by
//!   the services (`policy::account_scope`).

mod accounts;
mod associations;
mod catalog;
pub mod dto;
mod error;
mod leads;
mod payment_methods;
mod quotes;
mod subscriptions;

pub use error::{ErrorBody, ResellerError};

crate::kernel::extractors!(ResellerError);

use crate::kernel::{self, Bounded, FromParam, Param};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use partnerd_services::Services;
use partnerd_services::policy::Context;
use partnerd_store::{Cursor, SortOrder, TimeBound, TimeRange, Window};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where this module's router is served.
pub const PREFIX: &str = "/api/appReseller/v1";
/// Reserved for the Leads API v2 (same error shape; routes come with the leads issue).
pub const LEAD_PREFIX: &str = "/api/lead/v2";
/// Where `POST /api/opportunities/{id}/requestReview` is served (the document's path, without
/// `appReseller/v1`).
pub const OPPORTUNITIES_PREFIX: &str = "/api/opportunities";

fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(accounts::list_companies, accounts::create_company))
        .routes(routes!(accounts::company_details))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::user_details))
        .routes(routes!(associations::list, associations::create))
        .routes(routes!(associations::delete))
        .routes(routes!(catalog::products))
        .routes(routes!(catalog::editions))
        .routes(routes!(subscriptions::list, subscriptions::create))
        .routes(routes!(subscriptions::get, subscriptions::update, subscriptions::cancel))
        .routes(routes!(subscriptions::orders))
        .routes(routes!(subscriptions::seats, subscriptions::assign))
        .routes(routes!(subscriptions::unassign))
        .routes(routes!(payment_methods::list, payment_methods::create))
        .routes(routes!(payment_methods::delete))
        .routes(routes!(quotes::list, quotes::create))
        .routes(routes!(quotes::get, quotes::update))
        .routes(routes!(quotes::items, quotes::add_item))
        .routes(routes!(quotes::edit_item, quotes::remove_item))
        .routes(routes!(quotes::finalize))
}

fn opportunity_routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(quotes::request_review)).routes(routes!(quotes::complete_review))
}

/// `/api/opportunities/{id}/requestReview` (paths relative to [`OPPORTUNITIES_PREFIX`]).
pub fn opportunity_openapi() -> OpenApi {
    dto::complete(opportunity_routes().split_for_parts().1)
}

/// The router under [`OPPORTUNITIES_PREFIX`], on the family's conventions.
pub fn opportunity_router(services: Services) -> Router<Services> {
    let (router, _) = opportunity_routes().split_for_parts();
    let router = router.route_layer(axum::middleware::from_fn_with_state(
        (services.clone(), OPPORTUNITIES_PREFIX),
        kernel::idempotency::<ResellerError>,
    ));
    reserved(router, services)
}

fn lead_routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(leads::list, leads::create))
        .routes(routes!(leads::get, leads::update, leads::discard))
        .routes(routes!(leads::activities))
        .routes(routes!(leads::assign))
        .routes(routes!(leads::associate))
        .routes(routes!(leads::convert))
        .routes(routes!(leads::approve))
        .routes(routes!(leads::request_conversion))
}

/// The Leads API v2 document (paths relative to [`LEAD_PREFIX`]).
pub fn lead_openapi() -> OpenApi {
    dto::complete(lead_routes().split_for_parts().1)
}

/// The Leads API v2 router (under [`LEAD_PREFIX`]), on the family's conventions.
pub fn lead_router(services: Services) -> Router<Services> {
    let (router, _) = lead_routes().split_for_parts();
    // As on every surface: POSTs honour Idempotency-Key, inside the guard.
    let router = router.route_layer(axum::middleware::from_fn_with_state(
        (services.clone(), LEAD_PREFIX),
        kernel::idempotency::<ResellerError>,
    ));
    reserved(router, services)
}

/// The surface's OpenAPI document (paths relative to [`PREFIX`]).
pub fn openapi() -> OpenApi {
    dto::complete(routes().split_for_parts().1)
}

/// The router behind the guard, unknown paths and methods in the family's shape.
pub fn router(services: Services) -> Router<Services> {
    let (router, _) = routes().split_for_parts();
    // Routes only, inside the guard: authenticated and counted first.
    let router = router.route_layer(axum::middleware::from_fn_with_state(
        (services.clone(), PREFIX),
        kernel::idempotency::<ResellerError>,
    ));
    reserved(router, services)
}

fn reserved(router: Router<Services>, services: Services) -> Router<Services> {
    router
        .method_not_allowed_fallback(kernel::method_not_allowed::<ResellerError>)
        .fallback(kernel::unknown_route::<ResellerError>)
        // `layer`, not `route_layer`: unknown paths and methods get rate-limit headers too.
        .layer(axum::middleware::from_fn_with_state(services, kernel::guard::<ResellerError>))
        // Outermost: a panic anywhere inside is this family's 500.
        .layer(axum::middleware::from_fn(kernel::catch_panic::<ResellerError>))
}

/// A time as the family writes it: Unix epoch milliseconds.
pub fn epoch_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A time parameter (`fromDate`, `toDate`): Unix epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochMillis(pub DateTime<Utc>);

impl FromParam for EpochMillis {
    fn from_param(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<i64>()
            .ok()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(EpochMillis)
            .ok_or_else(|| "must be a Unix timestamp in milliseconds".into())
    }
}

/// `true` or `false`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl FromParam for Flag {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "true" => Ok(Flag(true)),
            "false" => Ok(Flag(false)),
            _ => Err("must be true or false".into()),
        }
    }
}

/// `sortOrder`: `ASC` or `DESC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrderParam(pub SortOrder);

impl FromParam for SortOrderParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "ASC" => Ok(SortOrderParam(SortOrder::Asc)),
            "DESC" => Ok(SortOrderParam(SortOrder::Desc)),
            _ => Err("must be one of: ASC, DESC".into()),
        }
    }
}

/// A `context` value among the endpoint's supported ones.
pub fn context_among(raw: &str, supported: &[Context]) -> Result<Context, String> {
    match Context::parse(raw.trim()) {
        Ok(c) if supported.contains(&c) => Ok(c),
        _ => {
            let names: Vec<&str> = supported.iter().map(|c| c.as_str()).collect();
            Err(one_of(raw, &names))
        }
    }
}

/// "must be one of: A, B (got 'x')", the client's value cut short.
pub fn one_of(raw: &str, names: &[&str]) -> String {
    format!("must be one of: {} (got '{}')", names.join(", "), partnerd_domain::validation::echo(raw))
}

/// The Account section's `context`: `RESELLER` or `RESELLER_MANAGER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountContext(pub Context);

impl FromParam for AccountContext {
    fn from_param(raw: &str) -> Result<Self, String> {
        context_among(raw, &[Context::Reseller, Context::ResellerManager]).map(AccountContext)
    }
}

/// A required parameter's value, or 400 naming it.
pub fn required<T>(value: Option<T>, parameter: &str) -> Result<T, ResellerError> {
    value.ok_or_else(|| ResellerError::missing(parameter))
}

/// The context of a request, required.
pub fn context(value: Option<Param<AccountContext>>) -> Result<Context, ResellerError> {
    required(value, "context").map(|p| p.0.0)
}

/// `page` (from 0).
pub type PageNumber = Bounded<0, 1_000_000>;
/// `size` (1 to 200).
pub type PageSize = Bounded<1, 200>;

/// `(offset, limit, page, size)` of 0-based `page` of `size` rows (`default_size` when absent).
pub fn paging(page: Option<PageNumber>, size: Option<PageSize>, default_size: u32) -> (u64, u32, u32, u32) {
    let (page, size) = (page.map_or(0, |p| p.0), size.map_or(default_size, |s| s.0));
    (u64::from(page) * u64::from(size), size, page, size)
}

/// The document's `PageMetadata`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageMetadata {
    /// This page's number, from 0.
    pub number: u32,
    /// Rows per page.
    pub size: u32,
    pub total_elements: u64,
    pub total_pages: u64,
    /// Beyond the document: pass it as `cursor` for the page after this one (keyset paging);
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

impl PageMetadata {
    pub fn new(number: u32, size: u32, total: u64) -> Self {
        Self {
            number,
            size,
            total_elements: total,
            total_pages: total.div_ceil(u64::from(size.max(1))),
            next_cursor: None,
        }
    }

    /// The metadata of a page read at `window`: `number` is 0 on a page read by cursor (it has
    /// no number), `nextCursor` the next page's cursor.
    pub fn paged(number: u32, size: u32, window: &Window, total: u64, next: Option<&Cursor>) -> Self {
        let number = if matches!(window, Window::After(_)) { 0 } else { number };
        Self { next_cursor: next.map(Cursor::encode), ..Self::new(number, size, total) }
    }
}

/// `cursor` on every list of the family: beyond the document, the previous page's
/// `page.nextCursor` (or `X-Next-Cursor`), for keyset paging; the page number is then not used.
pub type CursorParam = Option<Param<Cursor>>;

/// Where a page starts: after `cursor` when one is given, else at `offset`.
pub fn window(cursor: CursorParam, offset: u64) -> Window {
    kernel::window(cursor, offset)
}

/// `number` counted from 1 (the subscription, order, assignment and payment-method lists):
/// `(offset, limit, number, size)`, `default_size` when `size` is absent.
pub fn paging_from_one(
    number: Option<PageNumberFromOne>,
    size: Option<PageSize>,
    default_size: u32,
) -> (u64, u32, u32, u32) {
    let (number, size) = (number.map_or(1, |p| p.0), size.map_or(default_size, |s| s.0));
    (u64::from(number - 1) * u64::from(size), size, number, size)
}

/// `number` of the lists counted from 1.
pub type PageNumberFromOne = Bounded<1, 1_000_000>;

/// A time filter in the document's range syntax: `gte(ms)`, `gt(ms)`, `lte(ms)`, `lt(ms)`,
/// comma-separated, at most one lower and one upper bound (`createdOn=gte(1529083173000),
/// lt(1530000000000)`). One parser for every endpoint that documents it; endpoints that
/// document only the inclusive forms take [`InclusiveRange`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRangeParam(pub TimeRange);

/// The same syntax limited to `gte(…)` and `lte(…)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InclusiveRange(pub TimeRange);

/// Parses the range syntax; `exclusive` allows `gt`/`lt`.
pub fn parse_range(raw: &str, exclusive: bool) -> Result<TimeRange, String> {
    let forms = if exclusive {
        "gte([timestamp]), gt([timestamp]), lte([timestamp]) or lt([timestamp])"
    } else {
        "gte([timestamp]) or lte([timestamp])"
    };
    let bad = || {
        format!(
            "must be {forms} in Unix epoch milliseconds, a lower and an upper bound comma-separated (got '{}')",
            partnerd_domain::validation::echo(raw)
        )
    };
    let mut out = TimeRange::default();
    for term in raw.split(',').map(str::trim) {
        let (op, rest) = term.split_once('(').ok_or_else(bad)?;
        let ms: i64 = rest.strip_suffix(')').ok_or_else(bad)?.trim().parse().map_err(|_| bad())?;
        let at = Utc.timestamp_millis_opt(ms).single().ok_or_else(bad)?;
        let (lower, inclusive) = match op.trim() {
            "gte" => (true, true),
            "lte" => (false, true),
            "gt" if exclusive => (true, false),
            "lt" if exclusive => (false, false),
            _ => return Err(bad()),
        };
        let slot = if lower { &mut out.from } else { &mut out.to };
        if slot.is_some() {
            return Err(bad());
        }
        *slot = Some(TimeBound { at, inclusive });
    }
    Ok(out)
}

impl FromParam for TimeRangeParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        parse_range(raw, true).map(TimeRangeParam)
    }
}

impl FromParam for InclusiveRange {
    fn from_param(raw: &str) -> Result<Self, String> {
        parse_range(raw, false).map(InclusiveRange)
    }
}

/// The fields an endpoint sorts by, by their names in its responses.
pub trait SortFields: Sized + Copy + 'static {
    const FIELDS: &'static [(&'static str, Self)];
}

/// `sort`: `+field` ascending, `-field` descending (a bare name ascending), comma-separated,
/// each field one of the endpoint's [`SortFields`]. One parser for every endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortParam<T>(pub Vec<(T, SortOrder)>);

impl<T> Default for SortParam<T> {
    fn default() -> Self {
        SortParam(Vec::new())
    }
}

impl<T: SortFields> FromParam for SortParam<T> {
    fn from_param(raw: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (order, field) = match item.as_bytes()[0] {
                b'-' => (SortOrder::Desc, &item[1..]),
                b'+' => (SortOrder::Asc, &item[1..]),
                _ => (SortOrder::Asc, item),
            };
            let Some((_, f)) = T::FIELDS.iter().find(|(name, _)| *name == field) else {
                let names: Vec<&str> = T::FIELDS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "cannot sort by '{}' (one of: {})",
                    partnerd_domain::validation::echo(field),
                    names.join(", ")
                ));
            };
            out.push((*f, order));
        }
        Ok(SortParam(out))
    }
}

/// A value or a list in the document's `in(a,b)` syntax (`status=FAILED` or
/// `status=in(FAILED,ACTIVE)`), each item parsed as `T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InList<T>(pub Vec<T>);

impl<T: FromParam> FromParam for InList<T> {
    fn from_param(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        let inner = match t.strip_prefix("in(") {
            Some(rest) => rest.strip_suffix(')').ok_or_else(|| {
                format!("must be a value or in(value, …) (got '{}')", partnerd_domain::validation::echo(raw))
            })?,
            None => t,
        };
        let items: Vec<&str> = inner.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if items.is_empty() {
            return Err("must name at least one value".into());
        }
        items.into_iter().map(T::from_param).collect::<Result<_, _>>().map(InList)
    }
}

/// An id as a list item.
impl FromParam for String {
    fn from_param(raw: &str) -> Result<Self, String> {
        Ok(raw.trim().to_owned())
    }
}

/// An id path segment that cannot be one of ours (too long, odd characters) is 404 at once.
pub use partnerd_domain::ids::plausible as plausible_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_parse_the_documented_spellings() {
        assert_eq!(AccountContext::from_param("RESELLER_MANAGER"), Ok(AccountContext(Context::ResellerManager)));
        assert!(AccountContext::from_param("REFERRAL").unwrap_err().contains("RESELLER, RESELLER_MANAGER"));
        assert!(AccountContext::from_param("reseller").is_err());
        assert_eq!(EpochMillis::from_param("1523007202000").unwrap().0.timestamp(), 1_523_007_202);
        assert!(EpochMillis::from_param("2024-01-01").is_err());
        assert_eq!(Flag::from_param("false"), Ok(Flag(false)));
        assert!(Flag::from_param("yes").is_err());
        assert_eq!(SortOrderParam::from_param("DESC"), Ok(SortOrderParam(SortOrder::Desc)));
        assert!(SortOrderParam::from_param("desc").is_err());
    }

    #[test]
    fn ranges_sorts_and_lists_parse_the_documented_syntax() {
        let r = parse_range("gte(1000), lt(2000)", true).unwrap();
        assert_eq!(r.from.map(|b| (b.at.timestamp_millis(), b.inclusive)), Some((1000, true)));
        assert_eq!(r.to.map(|b| (b.at.timestamp_millis(), b.inclusive)), Some((2000, false)));
        assert!(parse_range("gt(5)", false).is_err(), "only gte/lte where documented so");
        assert!(parse_range("gte(1),gt(2)", true).is_err(), "two lower bounds");
        assert!(parse_range("gte(x)", true).is_err() && parse_range("1000", true).is_err());
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum F {
            A,
            B,
        }
        impl SortFields for F {
            const FIELDS: &'static [(&'static str, Self)] = &[("createdOn", F::A), ("company.name", F::B)];
        }
        let s = SortParam::<F>::from_param("-createdOn,+company.name").unwrap();
        assert_eq!(s.0, [(F::A, SortOrder::Desc), (F::B, SortOrder::Asc)]);
        assert!(SortParam::<F>::from_param("-name").unwrap_err().contains("createdOn, company.name"));
        let l = InList::<String>::from_param("in(a, b)").unwrap();
        assert_eq!(l.0, ["a", "b"]);
        assert_eq!(InList::<String>::from_param("a").unwrap().0, ["a"]);
        assert!(InList::<String>::from_param("in(a").is_err() && InList::<String>::from_param("in()").is_err());
        assert_eq!(paging_from_one(None, None, 50), (0, 50, 1, 50));
        assert_eq!(paging_from_one(Some(Bounded(3)), Some(Bounded(10)), 50), (20, 10, 3, 10));
    }

    #[test]
    fn pages_count_from_zero() {
        assert_eq!(paging(None, None, 10), (0, 10, 0, 10));
        assert_eq!(paging(Some(Bounded(2)), Some(Bounded(50)), 10), (100, 50, 2, 50));
        let m = PageMetadata::new(0, 10, 21);
        assert_eq!((m.total_elements, m.total_pages), (21, 3));
        assert_eq!(PageMetadata::new(0, 10, 0).total_pages, 0);
    }
}
