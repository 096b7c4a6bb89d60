//! HTTP surfaces. Each API document gets one module that only maps its documented request and
//! response shapes onto services; shared here are the error envelope, extractors, request IDs,
//! authentication and rate limiting, and the OpenAPI description.

pub mod kernel;
mod middleware;
pub mod partners_v1;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use partnerd_services::Services;
use serde_json::json;

pub use middleware::REQUEST_ID_HEADER;

/// Largest request body accepted, on every surface.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const OPENAPI_YAML: &str = include_str!("../openapi/partnerd.yaml");

/// The whole HTTP application: every surface, with the shared layers.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.yaml", get(openapi))
        .nest("/api/v1/partners", partners_v1::router(services.clone()))
        // Outside every surface's prefix: the neutral shape (each surface has its own fallbacks).
        .fallback(kernel::unknown_route::<kernel::NeutralError>)
        .method_not_allowed_fallback(kernel::method_not_allowed::<kernel::NeutralError>)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(middleware::request_id))
        .with_state(services)
}

/// Liveness, no authentication, no database: the benchmark's reference route.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML)
}
