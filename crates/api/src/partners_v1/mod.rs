//! `partner-api-v1.txt` and `partner-reseller-api.txt`: one surface under `/api/v1/partners`,
//! with the `{success, data, meta}` envelope. This module only maps documented shapes.

mod error;
mod guard;
mod profile;

pub use error::ApiError;
pub use guard::Caller;

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use partnerd_services::Services;
use serde::Serialize;
use serde_json::json;

pub fn router(services: Services) -> Router<Services> {
    Router::new()
        .route("/profile", get(profile::get_profile))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        // `layer`, not `route_layer`: unknown paths and methods get rate-limit headers too.
        .layer(axum::middleware::from_fn_with_state(services, guard::authenticate_and_limit))
}

/// `{"success": true, "data": …}`.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "success": true, "data": data })).into_response()
}

/// ISO-8601 UTC with a `Z`, to the second, as the document's examples show.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("Resource")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
