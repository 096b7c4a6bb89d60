//! `Idempotency-Key` on every POST of a surface, with Stripe's semantics (the rules are in
//! `partnerd_services::idempotency`): this layer reads the header and the body, asks the
//! services to claim the key, then runs the handler and keeps its response, or answers with
//! the kept one (`Idempotent-Replayed: true`) or the refusal in the surface's shape.
//!
//! The handler runs in a task of its own, so a client that gives up (a timed-out POST, a closed
//! connection) does not cancel it between its commit and the keeping of its response: the
//! retry finds the response. Only a process that dies in that gap leaves the claim unfinished;
//! its key is usable again after `LOCK_TIMEOUT` and a retry then runs again.

use super::body::read_body;
use super::{Rejection, SurfaceError};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use partnerd_services::idempotency::{Begin, Ticket, key_problem};
use partnerd_services::{Principal, Services};
use partnerd_store::IdempotentResponse;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// On replays only.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The response headers a replay repeats; the rest (rate limits, request id) are the retry's own.
const KEPT_HEADERS: [HeaderName; 2] = [CONTENT_TYPE, LOCATION];

/// `axum::middleware::from_fn_with_state((services, PREFIX), idempotency::<SurfaceErr>)` as a
/// surface's `route_layer`, inside the guard (which authenticates and counts the request first,
/// so a replay counts against the rate limit like any request). `PREFIX` is where the surface is
/// served: part of what a key's request was, since nested routes see paths without it.
pub async fn idempotency<E: SurfaceError>(
    State((services, surface)): State<(Services, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let mut sent = req.headers().get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let Some(value) = sent.next() else {
        return next.run(req).await;
    };
    if sent.next().is_some() {
        return E::from(Rejection::InvalidIdempotencyKey("must be sent once")).into_response();
    }
    if let Some(problem) = key_problem(value.as_bytes()) {
        return E::from(Rejection::InvalidIdempotencyKey(problem)).into_response();
    }
    // Printable ASCII, checked above.
    let key = String::from_utf8_lossy(value.as_bytes()).into_owned();
    // The guard put the caller here; without one the guard answered already.
    let Some(principal) = req.extensions().get::<Arc<Principal>>().cloned() else {
        return next.run(req).await;
    };
    let target = format!("{surface}{}", req.uri());
    let (parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(r) => return E::from(r).into_response(),
    };
    let fingerprint = fingerprint(parts.method.as_str(), &target, &bytes);
    match services.idempotency().begin(&principal, &key, fingerprint).await {
        Err(e) => {
            tracing::error!(error = %e, "idempotency key could not be claimed");
            E::from(Rejection::Unavailable).into_response()
        }
        Ok(Begin::Mismatch) => E::from(Rejection::IdempotencyKeyReused).into_response(),
        Ok(Begin::InProgress) => E::from(Rejection::IdempotencyKeyInProgress).into_response(),
        Ok(Begin::Replay(kept)) => replay(kept),
        Ok(Begin::Run(ticket)) => {
            let req = Request::from_parts(parts, Body::from(bytes));
            let run = tokio::spawn(run_and_keep::<E>(services.clone(), ticket.clone(), next, req));
            match run.await {
                Ok(response) => response,
                Err(e) => {
                    // The handler panicked: nothing to keep, the retry runs again.
                    tracing::error!(error = %e, "handler failed");
                    release(&services, &ticket).await;
                    E::from(Rejection::Unavailable).into_response()
                }
            }
        }
    }
}

/// What the request was, as one digest: surface path and query, method and body bytes.
pub(super) fn fingerprint(method: &str, target: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), target.as_bytes()] {
        h.update(part.len().to_be_bytes());
        h.update(part);
    }
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn run_and_keep<E: SurfaceError>(services: Services, ticket: Ticket, next: Next, req: Request) -> Response {
    let (parts, body) = next.run(req).await.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::error!(error = %e, "response body could not be read");
            release(&services, &ticket).await;
            return E::from(Rejection::Unavailable).into_response();
        }
    };
    if parts.status.is_server_error() {
        // Not kept (Stripe's rule): the failure may be passing, so the retry runs again.
        release(&services, &ticket).await;
    } else {
        let mut headers = Vec::new();
        for name in &KEPT_HEADERS {
            if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
                headers.extend([name.as_str().to_owned(), v.to_owned()]);
            }
        }
        let kept = IdempotentResponse { status: parts.status.as_u16(), headers, body: bytes.to_vec() };
        match services.idempotency().complete(&ticket, &kept).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("idempotency claim lapsed before the response was kept"),
            // Left claimed: a retry is told the request is in progress until the claim lapses,
            // rather than running the change twice at once.
            Err(e) => tracing::error!(error = %e, "idempotent response could not be kept"),
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn release(services: &Services, ticket: &Ticket) {
    if let Err(e) = services.idempotency().release(ticket).await {
        tracing::warn!(error = %e, "idempotency claim could not be released; it lapses by itself");
    }
}

fn replay(kept: IdempotentResponse) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, kept.body).into_response();
    let headers = response.headers_mut();
    headers.remove(CONTENT_TYPE);
    for pair in kept.headers.chunks_exact(2) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(pair[0].as_str()), HeaderValue::try_from(pair[1].as_str()))
        {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}
