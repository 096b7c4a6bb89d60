//! The partners surface's shared wire shapes (envelope, errors, paging) and the decisions of
//! its OpenAPI document that no single operation owns: the description, the security scheme,
//! the rate-limit headers and the error responses every operation can give.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};

/// `{"success": true, "data": …}`.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

/// `{"success": true, "data": […], "meta": {page, per_page, total}}`.
#[derive(Serialize, ToSchema)]
pub struct PagedEnvelope<T> {
    /// Always `true`.
    pub success: bool,
    pub data: Vec<T>,
    pub meta: PageMeta,
}

#[derive(Serialize, ToSchema)]
pub struct PageMeta {
    /// The page shown, from 1 (a page past the end is empty, with the real `total`).
    pub page: u32,
    /// Items per page, 1–100 (20 by default).
    pub per_page: u32,
    /// Every item matching the filter, on all pages.
    pub total: u64,
    /// Beyond the document: pass it as `cursor` for the page after this one (keyset paging);
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

/// An amount (or a sum of amounts) of integer cents, written as the documents show it: a whole
/// number when it is one (`1500`), else with its decimals (`1500.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i128);

impl Money {
    /// One stored amount.
    pub fn of(cents: i64) -> Self {
        Money(i128::from(cents))
    }
}

impl From<partnerd_domain::money::Total> for Money {
    fn from(t: partnerd_domain::money::Total) -> Self {
        Money(t.cents())
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        partnerd_domain::money::Total::from_cents(self.0).serialize(s)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "USD, at most two decimals. A single amount is at most 1000000000000 (one trillion); \
                 sums of amounts (analytics) are exact whole numbers, or with cents exact below \
                 2^53 cents",
            ))
            .into()
    }
}

impl ToSchema for Money {}

/// The error envelope: `{"success": false, "error": {"code", "message", "details"}}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `VALIDATION_ERROR`, `RATE_LIMITED`,
    /// `SERVER_ERROR`, and where the documents are silent `BAD_REQUEST` (a body that could not
    /// be read), `METHOD_NOT_ALLOWED`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, `CONFLICT`
    /// (409: a request with the same `Idempotency-Key` is still running, or the record kept being
    /// changed by other requests; retry later, after `Retry-After` when it is sent).
    #[schema(value_type = ErrorCode)]
    pub code: &'static str,
    /// For `VALIDATION_ERROR`, the first problem as a sentence ("The title field is required").
    pub message: String,
    /// Always an object; for `VALIDATION_ERROR` `{field: [message, …]}` (`body` for a body
    /// that is not one JSON value, with the parser's line and column).
    pub details: BTreeMap<String, Vec<String>>,
}

#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)] // documents the codes `ApiError` writes
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
enum ErrorCode {
    Unauthorized,
    Forbidden,
    NotFound,
    ValidationError,
    RateLimited,
    ServerError,
    BadRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    Conflict,
}

/// Times: ISO-8601 UTC to the second with a `Z`.
pub const DESCRIPTION: &str = "\
The partners surface of partnerd (`partner-api-v1.txt` and `partner-reseller-api.txt`), served \
under `/api/v1/partners`. Decisions where the documents are silent are marked **Decision**.

**Authentication.** `Authorization: Bearer KEY` on every `/api/v1/partners/*` request. Keys look \
like `pdk_<key id>_<secret>`, are shown once, stored only as a SHA-256 digest, and may carry an \
expiry and an IP allowlist. `X-Partner-ID`, when sent, must be the key's partner id.

**Rate limits.** Every window of the key's plan is enforced:

| plan | per minute | per hour | per day |
|---|---|---|---|
| starter | 60 | 5,000 (standard tier) | 1,000 |
| business | 300 | 10,000 (premium tier) | 10,000 |
| enterprise | 1,000 | 25,000 (enterprise tier) | 100,000 |

Windows are fixed and aligned to the epoch (a minute starts at :00 UTC). Every response under \
`/api/v1/partners` carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` \
(Unix seconds) for the tightest window: the one with the fewest requests left. Refused requests \
count. Over a limit: 429 `RATE_LIMITED` with `Retry-After` (seconds). Requests without a valid \
key are limited per client address on the starter plan.

**Errors.** `{\"success\": false, \"error\": {\"code\", \"message\", \"details\"}}`; `details` is \
an object, for `VALIDATION_ERROR` `{field: [message, …]}`. Every response carries `X-Request-Id` \
(the client's own if it sent a sane one).

**Decision: status codes the document's table lacks.** 400 `VALIDATION_ERROR` for a body that \
is not exactly one JSON value (the parser's line and column in `details.body`), 400 \
`BAD_REQUEST` for a body that could not be read, 405 `METHOD_NOT_ALLOWED` (with `Allow`), 413 \
`PAYLOAD_TOO_LARGE` (bodies over 1 MiB), 415 `UNSUPPORTED_MEDIA_TYPE` (bodies must be \
`application/json`), 409 `CONFLICT` with `Retry-After` (seconds) when other requests kept \
changing the same record while an update was retried (only under heavy contention across \
servers: concurrent updates on one server take turns). A JSON value of the wrong type for a \
field is 422 `VALIDATION_ERROR` naming the field; so is a query parameter with a bad value \
(every one is named), while unknown query parameters are ignored. Times are ISO-8601 UTC to the second with a `Z`.

**Decision: text and money.** No string of a body (value or key, at any depth) and no query \
parameter value may contain a control character (U+0000–U+001F, U+007F, U+0080–U+009F) other \
than tab, line feed and carriage return: 422 `VALIDATION_ERROR` naming the field (`tags[1]`, \
`a.b`) or parameter; a path segment with one is 404 `NOT_FOUND`. A money amount has at most two \
decimals and is at most 1000000000000 (one trillion); beyond it, 422 naming the field. Sums of \
amounts (analytics) never overflow; they are exact whole numbers, or with cents exact below 2^53 \
cents. Nesting deeper than 128 levels is a body that does not parse (400).

**Decision: Idempotency-Key.** Every `POST` accepts `Idempotency-Key: <1–255 printable ASCII \
characters>`, with Stripe's semantics. The first request with a key runs and its response \
(status, body, `Content-Type`, `Location`) is kept for 24 hours, for the key's partner (or the \
operator) alone. A retry with the same key and the same request (method, path, query and body \
bytes) gets that response again with `Idempotent-Replayed: true` and changes nothing. The same \
key on a different request is refused with 422 `VALIDATION_ERROR` naming `Idempotency-Key`; a \
retry while the first request still runs gets 409 `CONFLICT` (retry later). Responses with a 5xx \
status are not kept, so their retry runs again; 4xx responses are kept like any other. A \
malformed key is 422 `VALIDATION_ERROR` naming `Idempotency-Key`. Authentication and rate \
limits come first: replays and refusals count against the limit like any request. A request \
whose process died while it ran keeps its key busy (409) for 60 seconds, then the key may be \
used again.

**Decision: webhook deliveries.** `POST` of `{id, type, timestamp, data}` (`id` = the event id, \
`evt_…`) with `Content-Type: application/json`; `X-Vellocity-Signature` = hex HMAC-SHA256 of the \
raw body keyed with the secret's bytes (the document's `verify_webhook` verifies it); and \
Standard Webhooks headers `webhook-id`, `webhook-timestamp` (Unix seconds, wall clock) and \
`webhook-signature: v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">` keyed with the \
base64-decoded part of a `whsec_` secret (other secrets: their bytes). At least once: deliveries \
are stored with their events and retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10 % \
jitter; configurable; eight attempts in all), honouring `Retry-After` on 429/503. Any 2xx is \
success; `410 Gone` disables the webhook; redirects are not followed; each attempt times out \
after 15 s.";

/// The operations that read, change and write back a record, so can meet a persistent
/// conflict (409): `(method, path)`.
const CONTENDED: &[(&str, &str)] = &[
    ("put", "/listings/{id}"),
    ("patch", "/listings/{id}"),
    ("delete", "/listings/{id}"),
    ("post", "/listings/{id}/content/{draft_id}/publish"),
    ("patch", "/cosell/opportunities/{id}"),
    ("patch", "/support/tickets/{ticket_id}"),
    ("put", "/support/tickets/{ticket_id}/rating"),
];

/// The error responses (`#/components/responses/…`) and which operations can give them.
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Not exactly one JSON value (`VALIDATION_ERROR`, with the parser's position), or unreadable (`BAD_REQUEST`)",
    ),
    ("401", "Unauthorized", "Missing, malformed, unknown, revoked or expired key"),
    ("403", "Forbidden", "Key not allowed from this address, X-Partner-ID mismatch, or not a partner's key"),
    ("404", "NotFound", "No such resource for this partner (another partner's answers 404 too)"),
    (
        "409",
        "Conflict",
        "`CONFLICT`: a request with this Idempotency-Key is still running (retry later), or other requests kept \
         changing this record while the update was retried (retry after Retry-After)",
    ),
    ("413", "PayloadTooLarge", "The body exceeds 1 MiB"),
    ("415", "UnsupportedMediaType", "The body is not `application/json`"),
    ("422", "ValidationError", "Invalid parameters; `details` is {field: [message, …]}"),
    ("429", "RateLimited", "A window of the plan is exhausted; see Retry-After"),
    ("500", "ServerError", "Storage failure (details are logged, not returned)"),
];

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::Integer)).description(Some(description)).build()
}

/// The headers every partners response carries (the guard and the request-id layer add them).
fn common_headers() -> Vec<(&'static str, utoipa::openapi::header::Header)> {
    vec![
        ("X-RateLimit-Limit", integer_header("Limit of the tightest window")),
        ("X-RateLimit-Remaining", integer_header("Requests left in that window")),
        ("X-RateLimit-Reset", integer_header("Unix seconds at which that window ends")),
        (
            "X-Request-Id",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("The request's id, for support and logs"))
                .build(),
        ),
    ]
}

/// `Idempotent-Replayed: true` on a POST's replayed response.
fn replayed_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["true"])))
        .description(Some("`true` when this is the kept response of an earlier request with the same Idempotency-Key"))
        .build()
}

/// Completes the document the operations' attributes describe: info, bearer security, the
/// error responses each operation can give (every one: 401, 403, 429, 500; with a body: 400,
/// 413, 415, 422; with path or query parameters: 404 / 422; every POST: 409, 422),
/// `X-Partner-ID`, `Idempotency-Key` on POSTs, and the headers of every response.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "partnerd Partner API".into();
    doc.info.version = "1.0".into();
    doc.info.description = Some(DESCRIPTION.into());
    doc.info.license = None;
    doc.info.contact = None;
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".into(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A partnerd API key (`pdk_…`), created with `partnerd partners create` or `partnerd keys create`.",
                ))
                .build(),
        ),
    );
    let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    ErrorBody::schemas(&mut schemas);
    components.schemas.extend(schemas);
    for (status, name, description) in ERRORS {
        let mut response = ResponseBuilder::new()
            .description(*description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build());
        for (header, h) in common_headers() {
            response = response.header(header, h);
        }
        if *status == "429" {
            response = response.header("Retry-After", integer_header("Seconds until the refusing window resets"));
        }
        if *status == "409" {
            response =
                response.header("Retry-After", integer_header("Seconds to wait before retrying (a contended update)"));
        }
        // Kept 4xx answers of POSTs are replayed too.
        response = response.header("Idempotent-Replayed", replayed_header());
        components.responses.insert((*name).into(), RefOr::T(response.build()));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let methods = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, op) in methods {
            if let Some(op) = op {
                // Unique and stable: `get_listings_id_seo`.
                let words: Vec<&str> =
                    path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
                op.operation_id = Some(format!("{method}_{}", words.join("_")));
                complete_operation(op, method == "post");
                if CONTENDED.contains(&(method, path.as_str())) {
                    op.responses
                        .responses
                        .entry("409".into())
                        .or_insert_with(|| RefOr::Ref(Ref::new("#/components/responses/Conflict")));
                }
            }
        }
    }
    doc
}

fn complete_operation(op: &mut Operation, post: bool) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    params.push(
        ParameterBuilder::new()
            .name("X-Partner-ID")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("When sent, must equal the key's partner id, else 403 FORBIDDEN."))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
    op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    let mut errors = vec!["401", "403", "429", "500"];
    if op.request_body.is_some() {
        errors.extend(["400", "413", "415", "422"]);
    }
    if has_query {
        errors.push("422");
    }
    if has_path {
        errors.push("404");
    }
    if post {
        params.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "1–255 printable ASCII characters. The first request's response is kept for 24 hours and \
                     replayed (`Idempotent-Replayed: true`) to retries with the same key and request; the same key \
                     on another request is 422, while the first still runs 409.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[ -~]+$")),
                ))
                .build(),
        );
        // The layer reads the body of a POST with a key, whatever the operation.
        errors.extend(["409", "413", "422"]);
    }
    for (status, name, _) in ERRORS.iter().filter(|(s, _, _)| errors.contains(s)) {
        op.responses
            .responses
            .entry((*status).into())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    }
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response {
            for (header, h) in common_headers() {
                r.headers.entry(header.into()).or_insert(h);
            }
            if post {
                r.headers.entry("Idempotent-Replayed".into()).or_insert_with(replayed_header);
            }
        }
    }
}
