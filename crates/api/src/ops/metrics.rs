//! `GET /metrics`: OpenMetrics text (what Prometheus scrapes), from a registry owned by the
//! router, so two servers in one process (the tests) never share counts.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use partnerd_services::Services;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// Requests whose path matches no route share this label, so garbage paths cannot create
/// series without bound.
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    // Sampled from the services at scrape time.
    refusals: Counter,
    deliveries: Family<OutcomeLabels, Counter>,
    backlog: Gauge,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    /// Scrapes are serialised: the sampled counters are brought up to date by difference.
    scrape: tokio::sync::Mutex<()>,
}

impl Metrics {
    pub(crate) fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("partnerd");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route template and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "Time to answer, by route template", latency.clone());
        let refusals = Counter::default();
        registry.register("rate_limit_refusals", "Requests refused by a rate limit (429)", refusals.clone());
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts recorded by this process, by outcome \
             (delivered, retry, failed: no attempts left, disabled: 410 Gone)",
            deliveries.clone(),
        );
        let backlog = Gauge::default();
        registry.register("webhook_backlog", "Webhook deliveries pending (all processes)", backlog.clone());
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle; in_use on PostgreSQL)",
            pool.clone(),
        );
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "Most connections the pool opens (0: no limit)", pool_max.clone());
        Arc::new(Self {
            registry,
            requests,
            latency,
            refusals,
            deliveries,
            backlog,
            pool,
            pool_max,
            scrape: tokio::sync::Mutex::new(()),
        })
    }

    /// The registry as OpenMetrics text, with the sampled figures read now.
    pub(crate) async fn render(&self, services: &Services) -> String {
        let _one_at_a_time = self.scrape.lock().await;
        let ops = services.ops();
        catch_up(&self.refusals, ops.rate_limit_refusals());
        for (outcome, n) in ops.delivery_outcomes() {
            catch_up(&self.deliveries.get_or_create(&OutcomeLabels { outcome }), n);
        }
        match ops.delivery_backlog().await {
            Ok(n) => {
                self.backlog.set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            // The previous sample stays; readiness reports the database.
            Err(e) => tracing::warn!(error = %e, "metrics: could not count the webhook backlog"),
        }
        let pool = ops.pool_status();
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool.get_or_create(&PoolLabels { state: "idle" }).set(gauge(pool.idle));
        if let Some(n) = pool.in_use {
            self.pool.get_or_create(&PoolLabels { state: "in_use" }).set(gauge(n));
        }
        self.pool_max.set(gauge(pool.max.unwrap_or(0)));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::warn!("metrics: encoding failed");
        }
        out
    }
}

/// Moves a counter mirrored from a monotonic source up to `total`.
fn catch_up(counter: &Counter, total: u64) {
    let current = counter.get();
    if total > current {
        counter.inc_by(total - current);
    }
}

/// The method as a label: any other method is `other`, since clients choose it freely.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request by its route template (`MatchedPath`, so `/listings/{id}` rather than
/// each id) and times it. A layer of the whole router, so it sees the matched route.
pub(crate) async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        // A surface's own fallback is routed as a catch-all; it matched no operation.
        .filter(|p| !p.contains("{*"))
        .unwrap_or(UNMATCHED)
        .to_owned();
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    metrics.latency.get_or_create(&RouteLabels { method, route: route.clone() }).observe(elapsed);
    metrics.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    response
}
