//! The surface-neutral HTTP kernel: body and query extraction, authentication and rate limits,
//! and unknown routes, all reporting a neutral [`Rejection`] that each surface turns into its
//! own error shape (`From<Rejection>` for its error type). A surface plugs in with:
//!
//! 1. an error type implementing `IntoResponse + From<Rejection>` (so [`SurfaceError`]);
//! 2. `kernel::extractors!(ItsError);` in its module, which defines `ApiJson<T>`,
//!    `JsonOrEmpty<T>`, `Query<T>` and `Caller` rejecting in that shape;
//! 3. `.layer(from_fn_with_state(services, kernel::guard::<ItsError>))` on its router, and
//!    `kernel::unknown_route::<ItsError>` / `kernel::method_not_allowed::<ItsError>` as its
//!    fallbacks, so every path under its prefix answers in its shape;
//! 4. `.route_layer(from_fn_with_state((services, PREFIX), kernel::idempotency::<ItsError>))`
//!    before the guard's `layer`, so every POST honours `Idempotency-Key` (after authentication
//!    and rate limits, which the guard applies first); `PREFIX` is where the surface is served.

mod body;
mod guard;
mod idempotency;
#[cfg(test)]
mod idempotency_tests;
mod panic;
mod query;
#[cfg(test)]
pub(crate) mod surface_tests;

pub use body::{json_body, json_body_or_empty};
pub use guard::guard;
pub use idempotency::{IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER, idempotency};
pub use panic::catch_panic;
pub use query::{Bounded, FromParam, Param, path_is_unusable, query, repeated, window};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The one rule for text on every surface, in bodies, query parameters and paths: control
/// characters (Unicode `Cc`: U+0000–U+001F, U+007F, U+0080–U+009F) are refused, except tab, line
/// feed and carriage return. Both backends then store the same text (PostgreSQL cannot store a
/// NUL at all; SQLite would).
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The problem reported for a field or parameter holding a refused control character.
pub fn control_character_message(c: char) -> String {
    format!(
        "must not contain control characters (found U+{:04X}; only tab, line feed and carriage return are allowed)",
        u32::from(c)
    )
}

/// Why the kernel refused a request, before any surface code ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The body is not `application/json` (nor `application/*+json`).
    UnsupportedMediaType,
    /// The body is larger than [`crate::MAX_BODY_BYTES`].
    PayloadTooLarge,
    /// The connection failed while the body was read.
    UnreadableBody(String),
    /// Not exactly one JSON value: `message` is the parser's, ending "at line L column C".
    MalformedJson { message: String, line: usize, column: usize },
    /// Valid JSON of the wrong shape; `path` is the field (`tags[0]`, `a.b`), `None` for the
    /// body as a whole (a missing field, an array instead of an object).
    InvalidBody { path: Option<String>, message: String },
    /// Query parameters whose value is unusable: `(parameter, problem)`, every bad one.
    InvalidQuery(Vec<(String, String)>),
    /// A query pair whose name cannot be decoded (bad percent-encoding or not UTF-8).
    MalformedQuery { pair: String },
    /// No, or an unusable, credential: the message says which.
    Unauthenticated(String),
    /// A valid credential that may not be used this way (address, claimed partner).
    Forbidden(String),
    /// A rate-limit window is exhausted; the guard adds `Retry-After`.
    RateLimited,
    /// Authentication could not be decided (storage down).
    Unavailable,
    /// A handler (or a layer inside the surface) panicked; `kernel::catch_panic` logged it.
    Internal,
    /// No route for the path.
    UnknownRoute,
    /// The path exists, the method does not (axum adds `Allow`).
    MethodNotAllowed,
    /// An `Idempotency-Key` header that is not 1–255 printable ASCII characters, or sent twice:
    /// the problem, as words that follow the header's name.
    InvalidIdempotencyKey(&'static str),
    /// The `Idempotency-Key` was used before for a different request (method, path or body).
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running.
    IdempotencyKeyInProgress,
}

impl Rejection {
    /// The HTTP status every surface uses for this rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::UnreadableBody(_) | Rejection::MalformedJson { .. } | Rejection::MalformedQuery { .. } => {
                StatusCode::BAD_REQUEST
            }
            Rejection::InvalidBody { .. } | Rejection::InvalidQuery(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Rejection::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Rejection::Forbidden(_) => StatusCode::FORBIDDEN,
            Rejection::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Rejection::Unavailable | Rejection::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Rejection::UnknownRoute => StatusCode::NOT_FOUND,
            Rejection::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            // Stripe's statuses; a surface may word a reused key as its own validation error.
            Rejection::InvalidIdempotencyKey(_) | Rejection::IdempotencyKeyReused => StatusCode::BAD_REQUEST,
            Rejection::IdempotencyKeyInProgress => StatusCode::CONFLICT,
        }
    }
}

/// What a surface's error type must be for the kernel's extractors, guard and fallbacks.
pub trait SurfaceError: IntoResponse + From<Rejection> + Send + 'static {}

impl<E: IntoResponse + From<Rejection> + Send + 'static> SurfaceError for E {}

/// Fallback handler: the unknown route in surface `E`'s shape.
pub async fn unknown_route<E: SurfaceError>() -> E {
    E::from(Rejection::UnknownRoute)
}

/// Method fallback: the unsupported method in surface `E`'s shape.
pub async fn method_not_allowed<E: SurfaceError>() -> E {
    E::from(Rejection::MethodNotAllowed)
}

/// The shape of answers outside every surface (unknown top-level paths, 405 on `/healthz`):
/// `{"code": "NOT_FOUND", "message": "…"}`.
#[derive(Debug)]
pub struct NeutralError(pub Rejection);

impl From<Rejection> for NeutralError {
    fn from(r: Rejection) -> Self {
        NeutralError(r)
    }
}

impl IntoResponse for NeutralError {
    fn into_response(self) -> Response {
        let (code, message) = match &self.0 {
            Rejection::UnknownRoute => ("NOT_FOUND", "No such resource".to_owned()),
            Rejection::MethodNotAllowed => ("METHOD_NOT_ALLOWED", "Method not allowed for this resource".to_owned()),
            Rejection::PayloadTooLarge => ("PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB".to_owned()),
            Rejection::RateLimited => ("RATE_LIMITED", "Too many requests".to_owned()),
            Rejection::Unavailable | Rejection::Internal => ("SERVER_ERROR", "Internal server error".to_owned()),
            other => ("BAD_REQUEST", format!("{other:?}")),
        };
        (self.0.status(), Json(json!({ "code": code, "message": message }))).into_response()
    }
}

/// Defines the kernel's extractors in the calling surface module, rejecting with `$error`:
/// `ApiJson<T>` (a JSON body), `JsonOrEmpty<T>` (JSON or no body at all: `T::default()`),
/// `Query<T>` (the query string as a typed struct) and `Caller` (the guard's principal).
macro_rules! extractors {
    ($error:ty) => {
        /// A JSON body: exactly one JSON value of type `T`.
        pub struct ApiJson<T>(pub T);

        impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
            type Rejection = $error;

            async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
                $crate::kernel::json_body(req).await.map(ApiJson).map_err(<$error>::from)
            }
        }

        /// A JSON body that may also be absent (no body at all means `T::default()`), for
        /// actions whose parameters are all optional.
        pub struct JsonOrEmpty<T>(pub T);

        impl<T: serde::de::DeserializeOwned + Default, S: Send + Sync> axum::extract::FromRequest<S>
            for JsonOrEmpty<T>
        {
            type Rejection = $error;

            async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
                $crate::kernel::json_body_or_empty(req).await.map(JsonOrEmpty).map_err(<$error>::from)
            }
        }

        /// The query string as `T`: unknown parameters are ignored, a bad value is an error
        /// naming its parameter.
        pub struct Query<T>(pub T);

        impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
            type Rejection = $error;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                _: &S,
            ) -> Result<Self, Self::Rejection> {
                $crate::kernel::query(parts.uri.query()).map(Query).map_err(<$error>::from)
            }
        }

        /// The authenticated caller, put in the request by the kernel's guard.
        pub struct Caller(pub std::sync::Arc<partnerd_services::Principal>);

        impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
            type Rejection = $error;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                _: &S,
            ) -> Result<Self, Self::Rejection> {
                parts.extensions.get::<std::sync::Arc<partnerd_services::Principal>>().cloned().map(Caller).ok_or_else(
                    || <$error>::from($crate::kernel::Rejection::Unauthenticated("Missing API key".to_owned())),
                )
            }
        }
    };
}
pub(crate) use extractors;
