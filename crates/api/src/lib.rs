//! HTTP surfaces. Each API document gets one module that only maps its documented request and
//! response shapes onto services; shared here are the error envelope, extractors, request IDs,
//! authentication and rate limiting, and the OpenAPI description.

pub mod app_reseller_v1;
pub mod kernel;
mod middleware;
pub mod openapi;
mod ops;
pub mod partners_v1;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use partnerd_services::Services;

pub use middleware::REQUEST_ID_HEADER;

/// Largest request body accepted, on every surface.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where the partners surface is served.
pub const PARTNERS_PREFIX: &str = "/api/v1/partners";

/// The whole HTTP application: every surface, with the shared layers.
pub fn router(services: Services) -> Router {
    router_with(services, Router::new())
}

/// The application with `extra` routes beside the API surfaces (the dashboard), under the
/// same outer layers (request ids, metrics, panic catching, body limit).
pub fn router_with(services: Services, extra: Router<Services>) -> Router {
    let (root, _) = openapi::root_routes().split_for_parts();
    let metrics = ops::Metrics::new();
    root.merge(extra)
        .nest(PARTNERS_PREFIX, partners_v1::router(services.clone()))
        .nest(app_reseller_v1::PREFIX, app_reseller_v1::router(services.clone()))
        .nest(app_reseller_v1::LEAD_PREFIX, app_reseller_v1::lead_router(services.clone()))
        .nest(app_reseller_v1::OPPORTUNITIES_PREFIX, app_reseller_v1::opportunity_router(services.clone()))
        // Outside every surface's prefix: the neutral shape (each surface has its own fallbacks).
        .fallback(kernel::unknown_route::<kernel::NeutralError>)
        .method_not_allowed_fallback(kernel::method_not_allowed::<kernel::NeutralError>)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Each surface catches its own panics in its shape; this covers the rest (`/healthz`…).
        .layer(axum::middleware::from_fn(kernel::catch_panic::<kernel::NeutralError>))
        .layer(axum::middleware::from_fn(middleware::request_id))
        .layer(axum::Extension(metrics.clone()))
        // Outermost: the time measured includes every other layer.
        .layer(axum::middleware::from_fn_with_state(metrics, ops::track))
        .with_state(services)
}
