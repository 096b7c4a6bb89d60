//! The partners surface's error envelope:
//! `{"success": false, "error": {"code", "message", "details"}}`.

use super::dto::{ErrorBody, ErrorDetail};
use crate::kernel::Rejection;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_services::webhooks::MAX_WEBHOOKS;
use partnerd_services::{ErrorKind, ServiceError};
use std::collections::BTreeMap;

/// The header's name as `details` names it.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: BTreeMap<String, Vec<String>>,
    /// `Retry-After` (seconds), for a conflict worth retrying.
    retry_after: Option<u32>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: BTreeMap::new(), retry_after: None }
    }

    /// Not in the document's table: 409 `CONFLICT`, other writers kept changing the record
    /// while this request tried to (it was retried first); `Retry-After` says when to try again.
    pub fn concurrent_change(entity: &str) -> Self {
        let mut e = Self::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            format!("The {} is being changed by other requests; retry after a moment", entity.replace('_', " ")),
        );
        e.retry_after = Some(partnerd_services::contention::RETRY_AFTER_SECS);
        e
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} not found"))
    }

    pub fn rate_limited() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "Too many requests: rate limit exceeded")
    }

    pub fn server_error() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "SERVER_ERROR", "Internal server error")
    }

    /// Not in the document's table: a body that could not be read at all.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// Not in the document's table: a request with this `Idempotency-Key` is still running.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    }

    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "Method not allowed for this resource")
    }

    /// 422 with `details` = `{field: [message, …]}` and the first problem as the message. Field
    /// names and messages are clipped: they can repeat what a client sent (an unknown 100,000
    /// character key, serde quoting a huge string), and a refusal need not send it all back.
    pub fn validation(errors: &ValidationErrors) -> Self {
        let (field, first) = errors
            .fields()
            .iter()
            .find_map(|(f, ms)| ms.first().map(|m| (f.as_str(), m.as_str())))
            .unwrap_or(("request", "is invalid"));
        let message = sentence(&clip(field, MAX_FIELD_CHARS), &clip(first, MAX_MESSAGE_CHARS));
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", message);
        for (f, ms) in errors.fields().iter().take(MAX_DETAILS) {
            let messages = ms.iter().take(MAX_DETAILS).map(|m| clip(m, MAX_MESSAGE_CHARS)).collect();
            e.details.insert(clip(f, MAX_FIELD_CHARS), messages);
        }
        // 10,000 bad items of an array are not 10,000 entries: the first ones and a count.
        let hidden = errors.fields().len().saturating_sub(MAX_DETAILS);
        if hidden > 0 {
            e.details.entry("request".into()).or_default().push(format!("{hidden} more fields have problems"));
        }
        e
    }

    /// A body that is not exactly one JSON value: 400, but `VALIDATION_ERROR` as the document's
    /// table has it, with the parser's position in the message and under `details.body`.
    pub fn malformed_json(parser_message: &str) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", format!("Malformed JSON: {parser_message}"));
        e.details.insert("body".into(), vec![parser_message.to_owned()]);
        e
    }

    pub fn validation_single(field: &str, message: &str) -> Self {
        Self::validation(&ValidationErrors::single(field, message))
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

const MAX_FIELD_CHARS: usize = 100;
/// Fields listed in `details`, and messages per field.
const MAX_DETAILS: usize = 50;
const MAX_MESSAGE_CHARS: usize = 300;

/// `s` cut after `max` characters, marked with `…`.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// "The email field must be …", in the document's style ("The listing_id field is required").
fn sentence(field: &str, message: &str) -> String {
    let reads_on = ["must", "is", "has", "should", "cannot"].iter().any(|w| message.starts_with(w));
    if reads_on { format!("The {field} field {message}") } else { format!("The {field} field is invalid: {message}") }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            success: false,
            error: ErrorDetail { code: self.code, message: self.message, details: self.details },
        };
        // axum adds `Allow` to 405s from its method routers.
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The partners surface's words for every service error, keyed by (kind, entity, code).
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use partnerd_services::error::codes::*;
        match (e.kind, e.entity, e.code) {
            (ErrorKind::Invalid, ..) => ApiError::validation(&e.fields),
            (ErrorKind::NotFound, entity, _) => ApiError::not_found(&capitalised(&entity.replace('_', " "))),
            (ErrorKind::Forbidden, _, PARTNER_REQUIRED) => {
                ApiError::forbidden("This API key does not belong to a partner")
            }
            (ErrorKind::Forbidden, _, ROLE_REQUIRED) => ApiError::forbidden("This API key is read-only"),
            // The partners surface passes no context and exposes no operator action; worded
            // for completeness.
            (ErrorKind::Forbidden, _, CONTEXT_NOT_HELD) => {
                ApiError::forbidden("This API key does not hold the role of the requested context")
            }
            (ErrorKind::Forbidden, _, OPERATOR_REQUIRED) => {
                ApiError::forbidden("Only the marketplace operator may do this")
            }
            // AppReseller scope rules; the partners surface never asks them, worded for completeness.
            (ErrorKind::Forbidden, _, SCOPE_REQUIRED) => {
                ApiError::forbidden("This API key holds none of the roles this operation requires")
            }
            (ErrorKind::Forbidden, _, COMPANY_NOT_MANAGED) => {
                ApiError::forbidden("This API key may not act for the given company")
            }
            (ErrorKind::Forbidden, _, NOT_ASSIGNEE) => {
                ApiError::forbidden("Only the company the lead is assigned to may do this")
            }
            (ErrorKind::Forbidden, _, SANDBOX_KEY) => {
                ApiError::forbidden("A sandbox's API key may not create or manage sandboxes; use a production key")
            }
            (ErrorKind::Forbidden, entity, code) => ApiError::forbidden(format!("Forbidden: {entity} ({code})")),
            (ErrorKind::Conflict, entity, CONCURRENT_CHANGE) => ApiError::concurrent_change(entity),
            (ErrorKind::Conflict, "draft", ALREADY_PUBLISHED) => {
                ApiError::validation_single("request", "this draft was published already")
            }
            (ErrorKind::Conflict, "webhook", LIMIT_REACHED) => {
                ApiError::validation_single("url", &format!("a partner may register at most {MAX_WEBHOOKS} webhooks"))
            }
            (ErrorKind::Conflict, "sandbox", LIMIT_REACHED) => ApiError::validation_single(
                "request",
                &format!(
                    "a partner may hold at most {} sandboxes: delete one first",
                    partnerd_domain::sandbox::MAX_PER_PARTNER
                ),
            ),
            (ErrorKind::Conflict, "webhook", INACTIVE) => {
                ApiError::validation_single("webhook_id", "the webhook is inactive: activate it first")
            }
            (ErrorKind::Conflict, "user", EMAIL_TAKEN) => {
                ApiError::validation_single("email", "a user with this e-mail exists already")
            }
            (ErrorKind::Conflict, entity, code) => {
                // A write refused by a uniqueness rule the store did not name (an id collision):
                // the detail stays in the logs.
                tracing::warn!(entity, code, detail = e.detail.as_deref().unwrap_or(""), "write conflict");
                ApiError::validation_single("request", "is in conflict with existing data; try again")
            }
            (ErrorKind::Unavailable, "webhook", SECRET_UNREADABLE) => {
                // A key was dropped from the configuration before every secret left it.
                tracing::error!(error = %e, "webhook secret unreadable: configure the key it was encrypted with");
                ApiError::server_error()
            }
            (ErrorKind::Unavailable, ..) => {
                tracing::error!(error = %e, "storage failure");
                ApiError::server_error()
            }
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::UnsupportedMediaType => ApiError::unsupported_media_type(),
            Rejection::PayloadTooLarge => ApiError::payload_too_large(),
            Rejection::UnreadableBody(e) => ApiError::bad_request(format!("Could not read the request body: {e}")),
            Rejection::MalformedJson { message, .. } => ApiError::malformed_json(&message),
            Rejection::InvalidBody { path, message } => {
                ApiError::validation_single(path.as_deref().unwrap_or("body"), &message)
            }
            Rejection::InvalidQuery(problems) => {
                let mut errors = ValidationErrors::new();
                for (name, problem) in problems {
                    errors.add(&name, problem);
                }
                ApiError::validation(&errors)
            }
            Rejection::MalformedQuery { pair } => {
                ApiError::validation_single("query", &format!("has a malformed pair: {pair}"))
            }
            Rejection::Unauthenticated(m) => ApiError::unauthorized(m),
            Rejection::Forbidden(m) => ApiError::forbidden(m),
            Rejection::RateLimited => ApiError::rate_limited(),
            Rejection::Unavailable | Rejection::Internal => ApiError::server_error(),
            Rejection::UnknownRoute => ApiError::not_found("Resource"),
            Rejection::MethodNotAllowed => ApiError::method_not_allowed(),
            Rejection::InvalidIdempotencyKey(problem) => ApiError::validation_single(IDEMPOTENCY_KEY, problem),
            Rejection::IdempotencyKeyReused => ApiError::validation_single(
                IDEMPOTENCY_KEY,
                "was used for a different request (method, path or body); use a new key",
            ),
            Rejection::IdempotencyKeyInProgress => {
                ApiError::conflict("A request with this Idempotency-Key is still being processed; retry later")
            }
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use partnerd_services::ErrorKind;

    #[test]
    fn every_service_error_has_its_own_answer() {
        for &(kind, entity, code) in ServiceError::CATALOG {
            let e = ApiError::from(ServiceError::new(kind, entity, code));
            let expected = match (kind, code) {
                (ErrorKind::Conflict, partnerd_services::error::codes::CONCURRENT_CHANGE) => StatusCode::CONFLICT,
                (ErrorKind::Invalid | ErrorKind::Conflict, _) => StatusCode::UNPROCESSABLE_ENTITY,
                (ErrorKind::NotFound, _) => StatusCode::NOT_FOUND,
                (ErrorKind::Forbidden, _) => StatusCode::FORBIDDEN,
                (ErrorKind::Unavailable, _) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            assert_eq!(e.status, expected, "{kind:?} {entity} {code}");
            assert!(!e.message.starts_with("Forbidden: "), "unmapped: {kind:?} {entity} {code}");
        }
    }

    #[test]
    fn echoed_input_is_clipped() {
        let mut errors = ValidationErrors::new();
        errors
            .add(&"k".repeat(100_000), format!("invalid type: string \"{}\", expected a number", "x".repeat(100_000)));
        let e = ApiError::validation(&errors);
        assert!(e.message.len() < 1_000, "{}", e.message.len());
        let (field, messages) = e.details.iter().next().unwrap();
        assert_eq!(field.chars().count(), MAX_FIELD_CHARS + 1);
        assert_eq!(messages[0].chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(messages[0].starts_with("invalid type: string \"xxx") && messages[0].ends_with('…'));

        let mut errors = ValidationErrors::new();
        for i in 0..10_000 {
            errors.add(&format!("images[{i}]"), "must be an http(s) URL");
        }
        let e = ApiError::validation(&errors);
        assert_eq!(e.details.len(), MAX_DETAILS + 1);
        assert_eq!(e.details["request"], ["9950 more fields have problems"]);
    }

    #[test]
    fn messages_are_the_documented_ones() {
        let e = ApiError::from(ServiceError::not_found("api_key"));
        assert_eq!(e.message, "Api key not found");
        let e = ApiError::from(ServiceError::conflict("listing", partnerd_services::error::codes::CONCURRENT_CHANGE));
        assert_eq!((e.status, e.code), (StatusCode::CONFLICT, "CONFLICT"));
        assert_eq!(e.message, "The listing is being changed by other requests; retry after a moment");
        assert!(e.details.is_empty());
        let response = e.into_response();
        assert_eq!(response.headers()["retry-after"], "1");
    }
}
