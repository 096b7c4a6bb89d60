//! A panic in a handler becomes the surface's 500, not a dropped connection.
//!
//! Without this layer a panic unwinds hyper's connection task: the client sees the connection
//! close with no response at all. `catch_panic::<E>` polls the rest of the stack inside
//! `catch_unwind`, logs the panic (request id, method, path, the panic's message) at `error`,
//! and answers `E::from(Rejection::Internal)`: partners' `{"success": false, "error":
//! {"code": "SERVER_ERROR", …}}`, AppReseller's `{"code", "message", "status": 500}`. The
//! message never reaches the client.
//!
//! Written on `std::panic::catch_unwind` rather than tower-http's `CatchPanicLayer`: tower-http
//! is only a transitive dependency (without that feature), and this way the log line carries the
//! request id the response does.

use super::{Rejection, SurfaceError};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::Poll;

/// Middleware (`axum::middleware::from_fn(kernel::catch_panic::<E>)`), the outermost layer of a
/// surface's router.
pub async fn catch_panic<E: SurfaceError>(req: Request, next: Next) -> Response {
    let request_id = req.headers().get(crate::REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let mut run = std::pin::pin!(next.run(req));
    let outcome = std::future::poll_fn(|cx| {
        // The future is dropped, not polled again, after a panic: unwind safety holds.
        match std::panic::catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(response)) => Poll::Ready(Ok(response)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await;
    match outcome {
        Ok(response) => response,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic without a message)".to_owned());
            tracing::error!(request_id = %request_id, %method, %path, panic = %message, "handler panicked");
            E::from(Rejection::Internal).into_response()
        }
    }
}

#[cfg(test)]
#[path = "panic_tests.rs"]
mod tests;
