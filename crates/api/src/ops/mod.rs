//! Operations endpoints outside every surface: readiness, metrics, the API reference page.
//! Registered with `routes!` like every operation, so they are in the document too. None asks
//! for a key: a load balancer or Prometheus has none, and what they show is about the process
//! (route templates, counts, pool sizes), never about a partner's data.

mod docs;
mod metrics;

pub(crate) use metrics::{Metrics, track};

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use partnerd_services::Services;
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(readyz)).routes(routes!(metrics_text)).routes(routes!(docs_page))
}

/// `ok`, `unavailable` or `not_configured`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum CheckState {
    Ok,
    Unavailable,
    NotConfigured,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ReadyState {
    Ready,
    Unavailable,
}

#[derive(Serialize, ToSchema)]
struct Readiness {
    /// `ready` (200) or `unavailable` (503).
    status: ReadyState,
    /// Whether the database answered.
    database: CheckState,
    /// The newest migration applied to the database; `null` when it did not answer.
    schema_version: Option<i64>,
    /// The newest migration this binary knows; ready only when both are equal.
    expected_schema_version: i64,
    /// Redis, when rate-limit counters are kept there.
    redis: CheckState,
    /// Why it is not ready (empty when it is).
    reasons: Vec<String>,
}

/// Readiness: database, migrations, Redis
///
/// Asks the database (a read of its migration history) and, when configured, Redis (a `PING`),
/// each within 2 s. 200 when the database answers, its migrations are exactly those this
/// binary knows (neither behind nor newer), and Redis answers; 503 with the reasons otherwise.
/// While Redis is down requests are still served (rate limits count in process), but this
/// process is not ready: its limits are no longer shared. No authentication.
#[utoipa::path(get, path = "/readyz", tag = "Service", security(()), responses(
    (status = 200, description = "Ready for traffic", body = Readiness),
    (status = 503, description = "Not ready; `reasons` says why", body = Readiness)))]
async fn readyz(State(services): State<Services>) -> Response {
    let r = services.ops().readiness().await;
    let reasons = r.reasons();
    let state = |ok: bool| if ok { CheckState::Ok } else { CheckState::Unavailable };
    let body = Readiness {
        status: if reasons.is_empty() { ReadyState::Ready } else { ReadyState::Unavailable },
        database: state(r.database.is_ok()),
        schema_version: r.database.as_ref().ok().copied(),
        expected_schema_version: r.expected_schema,
        redis: r.redis.as_ref().map_or(CheckState::NotConfigured, |x| state(x.is_ok())),
        reasons,
    };
    let status = if body.reasons.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Metrics, in the OpenMetrics text format Prometheus scrapes
///
/// `partnerd_http_requests_total{method,route,status}` (route is the template, e.g.
/// `/api/v1/partners/listings/{id}`; `unmatched` for unknown paths),
/// `partnerd_http_request_duration_seconds{method,route}` (histogram),
/// `partnerd_rate_limit_refusals_total`, `partnerd_webhook_attempts_total{outcome}` (attempts
/// recorded by this process), `partnerd_webhook_backlog` (pending deliveries, counted in the
/// database at each scrape), `partnerd_db_pool_connections{state}` and
/// `partnerd_db_pool_max_connections`. Counts are per process. **Decision:** no
/// authentication, like `/healthz`: nothing in it identifies a partner; keep it off the public
/// internet with the proxy in front if the counts themselves are sensitive.
#[utoipa::path(get, path = "/metrics", tag = "Service", security(()), responses(
    (status = 200, description = "Every metric", content_type = "application/openmetrics-text", body = String)))]
async fn metrics_text(State(services): State<Services>, Extension(metrics): Extension<Arc<Metrics>>) -> Response {
    let text = metrics.render(&services).await;
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

/// The API reference page
///
/// This document rendered as one HTML page: operations grouped by tag, with parameters,
/// request and response schemas and the decisions in their descriptions. Everything is in the
/// page (no script, no external asset). No authentication.
#[utoipa::path(get, path = "/docs", tag = "Service", security(()), responses(
    (status = 200, description = "The page", content_type = "text/html", body = String)))]
async fn docs_page() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        serde_json::from_str(crate::openapi::document_json()).map(|doc| docs::render(&doc)).unwrap_or_default()
    });
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], page.as_str()).into_response()
}
