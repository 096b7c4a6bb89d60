//! The AppReseller family's error shape, `{"code", "message", "status"}` (the document's
//! `OpportunityError` and `CustomerCompanyAssociationConflictResponse`), for every error under
//! `/api/appReseller/v1`, `/api/lead/v2` and `/api/opportunities`.

use crate::kernel::Rejection;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_services::{ErrorKind, ServiceError};
use serde::Serialize;
use utoipa::ToSchema;

/// `{"code": "NOT_FOUND", "message": "…", "status": 404}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OpportunityError)]
pub struct ErrorBody {
    /// `BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`,
    /// `CONFLICT` (or a named conflict: `RESELLER_REQUIRED`, `ALREADY_ASSOCIATED`,
    /// `SAME_COMPANY`, `EXTERNAL_ID_TAKEN`, `EMAIL_TAKEN`, `CUSTOMER_ACCOUNT_ACTIVE`,
    /// `REFERENCE_CONFLICT`, `ALREADY_SUBSCRIBED`, `NOT_FINALIZABLE`, `STATUS_CONFLICT`,
    /// `EDITION_IN_OPPORTUNITY`…), `PAYLOAD_TOO_LARGE`,
    /// `UNSUPPORTED_MEDIA_TYPE`, `TOO_MANY_REQUESTS`, `INTERNAL_SERVER_ERROR`.
    pub code: String,
    pub message: String,
    /// The HTTP status, repeated.
    pub status: u16,
}

/// Longest message sent, in characters.
pub(crate) const MESSAGE_MAX: usize = 500;

#[derive(Debug)]
pub struct ResellerError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ResellerError {
    /// `message` is cut after [`MESSAGE_MAX`] characters: parser messages and paths may repeat a
    /// client's huge input.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if let Some((cut, _)) = message.char_indices().nth(MESSAGE_MAX) {
            message.truncate(cut);
            message.push('…');
        }
        Self { status, code, message }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// A query parameter that is required and absent.
    pub fn missing(parameter: &str) -> Self {
        Self::bad_request(format!("Required parameter '{parameter}' is missing"))
    }

    /// A parameter whose value is unusable.
    pub fn invalid(parameter: &str, problem: &str) -> Self {
        Self::bad_request(format!("Invalid value for parameter '{parameter}': {problem}"))
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("No {what} found with the given ID"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ResellerError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code.to_owned(), message: self.message, status: self.status.as_u16() };
        (self.status, Json(body)).into_response()
    }
}

impl From<Rejection> for ResellerError {
    fn from(r: Rejection) -> Self {
        use StatusCode as S;
        match r {
            Rejection::UnsupportedMediaType => {
                Self::new(S::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
            }
            Rejection::PayloadTooLarge => {
                Self::new(S::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB")
            }
            Rejection::UnreadableBody(m) => Self::bad_request(format!("The request body could not be read: {m}")),
            Rejection::MalformedJson { message, .. } => Self::bad_request(format!("Malformed JSON: {message}")),
            // Wrong types and bad enum values are 400 on this surface (the document lists no 422).
            Rejection::InvalidBody { path: Some(p), message } => {
                Self::bad_request(format!("Invalid value for field '{p}': {message}"))
            }
            Rejection::InvalidBody { path: None, message } => Self::bad_request(format!("Invalid body: {message}")),
            Rejection::InvalidQuery(problems) => {
                let text: Vec<String> =
                    problems.iter().map(|(p, m)| format!("Invalid value for parameter '{p}': {m}")).collect();
                Self::bad_request(text.join("; "))
            }
            Rejection::MalformedQuery { pair } => Self::bad_request(format!("Malformed query parameter '{pair}'")),
            Rejection::Unauthenticated(m) => Self::new(S::UNAUTHORIZED, "UNAUTHORIZED", m),
            Rejection::Forbidden(m) => Self::forbidden(m),
            Rejection::RateLimited => {
                Self::new(S::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "Too many requests: rate limit exceeded")
            }
            Rejection::Unavailable | Rejection::Internal => server_error(),
            Rejection::UnknownRoute => Self::new(S::NOT_FOUND, "NOT_FOUND", "No such resource"),
            Rejection::MethodNotAllowed => {
                Self::new(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "Method not allowed for this resource")
            }
            Rejection::InvalidIdempotencyKey(problem) => {
                Self::bad_request(format!("Invalid value for header 'Idempotency-Key': {problem}"))
            }
            Rejection::IdempotencyKeyReused => {
                Self::bad_request("Invalid value for header 'Idempotency-Key': it was used for a different request")
            }
            Rejection::IdempotencyKeyInProgress => Self::new(
                S::CONFLICT,
                "CONFLICT",
                "A request with this Idempotency-Key is still being processed; retry later",
            ),
        }
    }
}

/// The first field an error names and its first message (`("request", "is invalid")` if none).
fn first_field(e: &ServiceError) -> (String, String) {
    e.fields
        .fields()
        .iter()
        .find_map(|(f, ms)| ms.first().map(|m| (f.clone(), m.clone())))
        .unwrap_or_else(|| ("request".into(), "is invalid".into()))
}

fn server_error() -> ResellerError {
    ResellerError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "Internal server error")
}

/// The family's words for every service error, keyed by (kind, entity, code).
impl From<ServiceError> for ResellerError {
    fn from(e: ServiceError) -> Self {
        use partnerd_services::error::codes::*;
        let conflict = |code: &'static str, message: &str| Self::new(StatusCode::CONFLICT, code, message);
        match (e.kind, e.entity, e.code) {
            (ErrorKind::Invalid, ..) => {
                let (field, message) = first_field(&e);
                Self::bad_request(format!("Invalid value for field '{field}': {message}"))
            }
            (ErrorKind::NotFound, entity, _) => Self::not_found(&entity.replace('_', " ")),
            (ErrorKind::Forbidden, _, CONTEXT_NOT_HELD) => {
                Self::forbidden("The API key does not hold the role of the requested context")
            }
            (ErrorKind::Forbidden, _, SCOPE_REQUIRED) => {
                Self::forbidden("The API key holds none of the roles this operation requires")
            }
            (ErrorKind::Forbidden, _, COMPANY_NOT_MANAGED) => {
                Self::forbidden("The API key may not act for the given company")
            }
            (ErrorKind::Forbidden, _, PARTNER_REQUIRED) => Self::forbidden("This API key does not belong to a partner"),
            (ErrorKind::Forbidden, _, ROLE_REQUIRED) => Self::forbidden("This API key is read-only"),
            (ErrorKind::Forbidden, _, OPERATOR_REQUIRED) => {
                Self::forbidden("Only the marketplace operator may do this")
            }
            (ErrorKind::Forbidden, _, NOT_ASSIGNEE) => {
                Self::forbidden("Only the company the lead is assigned to may do this")
            }
            (ErrorKind::Forbidden, entity, code) => Self::forbidden(format!("Forbidden: {entity} ({code})")),
            (ErrorKind::Conflict, _, RESELLER_REQUIRED) => {
                conflict("RESELLER_REQUIRED", "The reseller company is not a reseller company")
            }
            (ErrorKind::Conflict, _, ALREADY_ASSOCIATED) => {
                conflict("ALREADY_ASSOCIATED", "These companies are associated already")
            }
            (ErrorKind::Conflict, _, SAME_COMPANY) => {
                conflict("SAME_COMPANY", "A company cannot be associated with itself")
            }
            (ErrorKind::Conflict, "company", EXTERNAL_ID_TAKEN) => {
                conflict("EXTERNAL_ID_TAKEN", "A company with this externalId exists already")
            }
            (ErrorKind::Conflict, _, EXTERNAL_ID_TAKEN) => {
                conflict("EXTERNAL_ID_TAKEN", "A user with this externalId exists already")
            }
            (ErrorKind::Conflict, _, CUSTOMER_ACCOUNT_ACTIVE) => conflict(
                "CUSTOMER_ACCOUNT_ACTIVE",
                "The association carries a customer account that is still billed; cancel it first",
            ),
            (ErrorKind::Conflict, _, REFERENCE_CONFLICT) => {
                conflict("REFERENCE_CONFLICT", "Other records still refer to this one")
            }
            (ErrorKind::Conflict, _, ALREADY_SUBSCRIBED) => {
                conflict("ALREADY_SUBSCRIBED", "The company has a subscription of this edition already")
            }
            (ErrorKind::Conflict, _, SEATS_IN_USE) => {
                conflict("SEATS_IN_USE", "More seats are assigned than the change would leave; unassign some first")
            }
            (ErrorKind::Conflict, _, NOT_CHANGEABLE) => {
                conflict("NOT_CHANGEABLE", "The subscription's status does not allow this")
            }
            (ErrorKind::Conflict, _, NO_SEAT_AVAILABLE) => {
                conflict("NO_SEAT_AVAILABLE", "Every seat of the subscription is assigned")
            }
            (ErrorKind::Conflict, _, ALREADY_ASSIGNED) => {
                conflict("ALREADY_ASSIGNED", "The user holds a seat of this subscription already")
            }
            (ErrorKind::Conflict, _, NOT_FINALIZABLE) => {
                let (field, why) = first_field(&e);
                conflict("NOT_FINALIZABLE", &format!("The opportunity cannot be finalized: '{field}' {why}"))
            }
            (ErrorKind::Conflict, _, QUOTE_STATUS) => {
                let (_, why) = first_field(&e);
                conflict("STATUS_CONFLICT", &format!("The opportunity's status does not allow this: {why}"))
            }
            (ErrorKind::Conflict, _, EDITION_IN_QUOTE) => {
                conflict("EDITION_IN_OPPORTUNITY", "The opportunity has an item of this product edition already")
            }
            (ErrorKind::Conflict, _, ITEM_ID_TAKEN) => {
                conflict("ITEM_ID_TAKEN", "The opportunity has an item with this id already")
            }
            (ErrorKind::Conflict, _, EMAIL_TAKEN) => conflict("EMAIL_TAKEN", "A user with this email exists already"),
            (ErrorKind::Conflict, entity, _) => {
                if let Some(d) = &e.detail {
                    tracing::info!(entity, detail = %d, "conflict");
                }
                conflict(
                    "CONFLICT",
                    &format!("The {} was changed concurrently or conflicts with another", entity.replace('_', " ")),
                )
            }
            (ErrorKind::Unavailable, ..) => {
                tracing::error!(error = %e, "service unavailable");
                server_error()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error the services produce has words here, none a 5xx but `Unavailable`, and each
    /// status is one the surface documents.
    #[test]
    fn every_service_error_is_mapped() {
        for (kind, entity, code) in ServiceError::CATALOG {
            let e = ResellerError::from(ServiceError::new(*kind, entity, code));
            let s = e.status.as_u16();
            assert_eq!(s >= 500, *kind == ErrorKind::Unavailable, "{kind:?} {entity} {code} → {s}");
            assert!([400, 403, 404, 409, 500].contains(&s), "{kind:?} {entity} {code} → {s}");
            assert!(!e.message.is_empty() && e.code.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
    }

    #[test]
    fn rejections_are_400_with_the_parameter_named() {
        let e = ResellerError::from(Rejection::InvalidQuery(vec![("size".into(), "must be an integer".into())]));
        assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "BAD_REQUEST"));
        assert!(e.message.contains("'size'"));
        let e = ResellerError::from(Rejection::InvalidBody { path: Some("name".into()), message: "x".into() });
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(ResellerError::from(Rejection::UnknownRoute).status, StatusCode::NOT_FOUND);
        assert_eq!(ResellerError::from(Rejection::Unauthenticated("no".into())).status, StatusCode::UNAUTHORIZED);
        let huge = ResellerError::from(Rejection::InvalidBody { path: None, message: "é".repeat(100_000) });
        assert_eq!(huge.message.chars().count(), MESSAGE_MAX + 1, "cut, with an ellipsis");
    }
}
