//! `partner-api-v1.txt` and `partner-reseller-api.txt`: one surface under `/api/v1/partners`,
//! with the `{success, data, meta}` envelope. This module only maps documented shapes.

mod analytics;
mod cosell;
mod error;
mod guard;
pub mod listings;
mod profile;
mod webhooks;

pub use error::ApiError;
pub use guard::Caller;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use partnerd_services::Services;
use serde::Serialize;
use serde_json::json;

pub fn router(services: Services) -> Router<Services> {
    Router::new()
        .route("/profile", get(profile::get_profile))
        .route("/listings", get(listings::list).post(listings::create))
        .route(
            "/listings/{id}",
            get(listings::get).put(listings::update).patch(listings::update).delete(listings::archive),
        )
        .route("/listings/{id}/seo", get(listings::seo))
        .route("/listings/{id}/recommendations", get(listings::recommendations))
        .route("/listings/{id}/content", get(listings::list_content).post(listings::generate_content))
        .route("/listings/{id}/content/{draft_id}/publish", post(listings::publish_content))
        .route("/cosell/opportunities", get(cosell::list).post(cosell::create))
        .route("/cosell/opportunities/{id}", get(cosell::get).patch(cosell::update))
        .route("/cosell/opportunities/{id}/timeline", get(cosell::timeline))
        .route("/analytics/summary", get(analytics::summary))
        .route("/analytics/reports", get(analytics::list_reports).post(analytics::create_report))
        .route("/analytics/reports/{id}", get(analytics::get_report))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/events", get(webhooks::events))
        .route("/webhooks/test", post(webhooks::test))
        .route("/webhooks/{id}", get(webhooks::get).patch(webhooks::update).delete(webhooks::delete))
        .route("/webhooks/{id}/rotate-secret", post(webhooks::rotate_secret))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(webhooks::redeliver))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        // `layer`, not `route_layer`: unknown paths and methods get rate-limit headers too.
        .layer(axum::middleware::from_fn_with_state(services, guard::authenticate_and_limit))
}

/// `{"success": true, "data": …}`.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "success": true, "data": data })).into_response()
}

/// Where 1-based page `page` of `per_page` rows starts.
pub fn page_offset(page: u32, per_page: u32) -> u64 {
    u64::from(page.saturating_sub(1)) * u64::from(per_page)
}

/// `{"success": true, "data": […], "meta": {page, per_page, total}}`.
pub fn ok_page<T: Serialize>(items: Vec<T>, page: u32, per_page: u32, total: u64) -> Response {
    Json(json!({ "success": true, "data": items, "meta": { "page": page, "per_page": per_page, "total": total } }))
        .into_response()
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

pub async fn not_found() -> ApiError {
    ApiError::not_found("Resource")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
