//! `partner-api-v1.txt` and `partner-reseller-api.txt`: one surface under `/api/v1/partners`,
//! with the `{success, data, meta}` envelope. This module only maps documented shapes.

mod analytics;
mod billing;
mod cosell;
mod customers;
mod deploys;
pub mod dto;
mod error;
pub mod listings;
mod metrics;
mod profile;
mod sandbox;
mod tickets;
pub mod usage;
mod webhooks;
mod whitelabel;

pub use error::ApiError;

crate::kernel::extractors!(ApiError);

use crate::kernel::{self, Bounded, FromParam, Param};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use partnerd_services::Services;
use partnerd_store::{Cursor, Window};
use serde::Serialize;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every operation of the surface, each registered once for both the router and the document
/// (paths relative to `/api/v1/partners`).
fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(profile::get_profile))
        .routes(routes!(listings::list, listings::create))
        .routes(routes!(listings::get, listings::update, listings::archive))
        .routes(routes!(listings::seo))
        .routes(routes!(listings::recommendations))
        .routes(routes!(listings::list_content, listings::generate_content))
        .routes(routes!(listings::publish_content))
        .routes(routes!(cosell::list, cosell::create))
        .routes(routes!(cosell::get, cosell::update))
        .routes(routes!(cosell::timeline))
        .routes(routes!(analytics::summary))
        .routes(routes!(analytics::list_reports, analytics::create_report))
        .routes(routes!(analytics::get_report))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::events))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(customers::plans))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update))
        .routes(routes!(billing::list))
        .routes(routes!(billing::get))
        .routes(routes!(billing::commissions))
        .routes(routes!(tickets::list, tickets::create))
        .routes(routes!(tickets::get, tickets::update))
        .routes(routes!(tickets::comment))
        .routes(routes!(tickets::rate))
        .routes(routes!(metrics::get))
        .routes(routes!(usage::ingest))
        .routes(routes!(usage::customer_usage))
        .routes(routes!(whitelabel::get_branding, whitelabel::set_branding))
        .routes(routes!(whitelabel::get_templates, whitelabel::set_templates))
        .routes(routes!(whitelabel::preview_template))
        .routes(routes!(deploys::deploy))
        .routes(routes!(deploys::list))
        .routes(routes!(deploys::get))
        .routes(routes!(sandbox::list, sandbox::create))
        .routes(routes!(sandbox::get, sandbox::delete))
}

/// The surface's OpenAPI document (paths relative to its prefix).
pub fn openapi() -> OpenApi {
    let mut doc = dto::complete(routes().split_for_parts().1);
    webhooks::describe_payloads(&mut doc);
    doc
}

/// The surface's router: its operations behind the guard, unknown paths and methods in its
/// error shape.
pub fn router(services: Services) -> Router<Services> {
    let (router, _) = routes().split_for_parts();
    router
        .method_not_allowed_fallback(kernel::method_not_allowed::<ApiError>)
        .fallback(kernel::unknown_route::<ApiError>)
        // Routes only, inside the guard: authenticated and counted first.
        .route_layer(axum::middleware::from_fn_with_state(
            (services.clone(), crate::PARTNERS_PREFIX),
            kernel::idempotency::<ApiError>,
        ))
        // `layer`, not `route_layer`: unknown paths and methods get rate-limit headers too.
        .layer(axum::middleware::from_fn_with_state(services, kernel::guard::<ApiError>))
        // Outermost: a panic anywhere inside is the envelope's SERVER_ERROR.
        .layer(axum::middleware::from_fn(kernel::catch_panic::<ApiError>))
}

/// `{"success": true, "data": …}`.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(dto::Envelope { success: true, data }).into_response()
}

/// Where 1-based page `page` of `per_page` rows starts.
pub fn page_offset(page: u32, per_page: u32) -> u64 {
    u64::from(page.saturating_sub(1)) * u64::from(per_page)
}

/// `{"success": true, "data": […], "meta": {page, per_page, total, next_cursor}}`; `page` is 0
/// on a page read by cursor.
pub fn ok_page<T: Serialize>(data: Vec<T>, at: &PageAt, per_page: u32, total: u64, next: Option<&Cursor>) -> Response {
    let meta = dto::PageMeta { page: at.page(), per_page, total, next_cursor: next.map(Cursor::encode) };
    Json(dto::PagedEnvelope { success: true, data, meta }).into_response()
}

/// A page asked for by number (`page`/`per_page`) or by `cursor`.
pub struct PageAt {
    pub window: Window,
    page: u32,
}

impl PageAt {
    pub fn new(page: u32, per_page: u32, cursor: Option<Param<Cursor>>) -> Self {
        let by_cursor = cursor.is_some();
        let window = kernel::window(cursor, page_offset(page, per_page));
        Self { window, page: if by_cursor { 0 } else { page } }
    }

    pub fn page(&self) -> u32 {
        self.page
    }
}

/// ISO-8601 UTC with a `Z`, to the second, as the document's examples show.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The id as given if it is shaped like one of ours with `prefix`; otherwise 404 at once, with
/// no database round trip for garbage.
pub fn known_id<'a>(prefix: &str, id: &'a str, what: &str) -> Result<&'a str, ApiError> {
    if partnerd_domain::ids::looks_like(prefix, id) { Ok(id) } else { Err(ApiError::not_found(what)) }
}

/// Errors for body fields a request does not know (collected by `#[serde(flatten)]`), so a
/// misspelt field is refused rather than silently ignored. `ignored` are read-only fields a
/// client may echo back from a GET.
pub fn unknown_fields(
    other: &std::collections::BTreeMap<String, serde_json::Value>,
    ignored: &[&str],
    what: &str,
) -> partnerd_domain::ValidationErrors {
    let mut e = partnerd_domain::ValidationErrors::new();
    for k in other.keys().filter(|k| !ignored.contains(&k.as_str())) {
        e.add(k, format!("is not {what} field"));
    }
    e
}

/// 422 naming every body field a request does not know (see [`unknown_fields`]).
pub fn refuse_unknown_fields(
    other: &std::collections::BTreeMap<String, serde_json::Value>,
    ignored: &[&str],
    what: &str,
) -> Result<(), ApiError> {
    unknown_fields(other, ignored, what).into_result().map_err(|e| ApiError::validation(&e))
}

/// `page` from 1, 1 by default.
pub type Page = Bounded<1, 1_000_000>;
/// `per_page` 1–100, 20 by default.
pub type PerPage = Bounded<1, 100>;

/// `page`/`per_page` as the partners documents define them.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    page: Option<Page>,
    /// Above 100: 422.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    per_page: Option<PerPage>,
    /// Beyond the document: `meta.next_cursor` of the previous page, for keyset paging (each
    /// page costs the same at any depth, and rows written meanwhile neither repeat nor vanish).
    /// `page` is then not used.
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

impl PageQuery {
    pub fn get(&self) -> (PageAt, u32) {
        let (page, per_page) = paging(self.page, self.per_page);
        (PageAt::new(page, per_page, self.cursor.clone()), per_page)
    }
}

pub fn paging(page: Option<Page>, per_page: Option<PerPage>) -> (u32, u32) {
    (page.map_or(1, |p| p.0), per_page.map_or(20, |p| p.0))
}

impl FromParam for partnerd_domain::listing::ListingStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
}

impl FromParam for partnerd_domain::cosell::OpportunityStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
}

impl FromParam for partnerd_domain::analytics::Period {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
}
