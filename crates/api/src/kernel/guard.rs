//! Authentication and rate limiting for every route of a surface, including unknown ones, so
//! every response carries `X-RateLimit-*` and refusals come in the surface's shape. Requests
//! without a valid key are limited per client address on the smallest plan, which also slows
//! key guessing.

use super::{Rejection, SurfaceError};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use partnerd_domain::rate_limit::Decision;
use partnerd_services::{AuthFailure, Services};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// `axum::middleware::from_fn_with_state(services, guard::<SurfaceErr>)` as a surface's
/// `layer` (not `route_layer`: unknown paths and methods are counted and answered too).
pub async fn guard<E: SurfaceError>(State(services): State<Services>, mut req: Request, next: Next) -> Response {
    // Without connection info (never the case when served) no allowlist can match.
    let client_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let claimed = req.headers().get("x-partner-id").map(|v| v.to_str().unwrap_or("\u{0}"));
    let outcome = services.auth().authenticate(bearer(req.headers()), client_ip, claimed).await;

    let (bucket, limits) = match &outcome {
        Ok(p) => {
            let plan_limits = match &p.partner {
                Some(partner) => services.plans().limits(&partner.plan).unwrap_or_else(|| {
                    tracing::warn!(plan = %partner.plan, "partner's plan is not configured; applying the smallest");
                    services.plans().anonymous_limits()
                }),
                None => services.plans().operator_limits(),
            };
            (format!("key:{}", p.key_id), plan_limits)
        }
        Err(_) => (format!("ip:{client_ip}"), services.plans().anonymous_limits()),
    };
    let decision = services.limiter().check(&bucket, &limits).await;
    if let Some(d) = &decision
        && !d.allowed
    {
        let mut response = E::from(Rejection::RateLimited).into_response();
        add_headers(response.headers_mut(), d);
        return response;
    }

    let mut response = match outcome {
        // A path segment that is not UTF-8 or holds a control character names nothing, so it is
        // a 404 here, before an extractor or a store sees it.
        Ok(_) if super::path_is_unusable(req.uri().path()) => E::from(Rejection::UnknownRoute).into_response(),
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(f) => E::from(refusal(&f)).into_response(),
    };
    if let Some(d) = &decision {
        add_headers(response.headers_mut(), d);
    }
    response
}

fn refusal(f: &AuthFailure) -> Rejection {
    match f {
        AuthFailure::Unavailable => Rejection::Unavailable,
        f if f.is_forbidden() => Rejection::Forbidden(f.to_string()),
        f => Rejection::Unauthenticated(f.to_string()),
    }
}

fn add_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(d.reset));
    if let Some(after) = d.retry_after {
        headers.insert("retry-after", HeaderValue::from(after));
    }
}
