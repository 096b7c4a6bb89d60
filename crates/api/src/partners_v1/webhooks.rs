//! Webhooks: `/partners/webhooks…`: registry, event catalog, test sends, delivery log.

use super::dto::{self, Envelope, PagedEnvelope};
use super::{ApiError, ApiJson, Caller, JsonOrEmpty, PageQuery, Query, iso, ok, ok_page};
use super::{known_id, refuse_unknown_fields};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_domain::webhooks::CATALOG;
use partnerd_services::Services;
use partnerd_services::webhooks::{NewWebhook, WebhookChange};
use partnerd_store::{DeliveryRecord, WebhookRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(super) struct Webhook {
    id: String,
    #[schema(format = "uri")]
    url: String,
    events: Vec<String>,
    active: bool,
    #[schema(format = DateTime)]
    created_at: String,
}

fn webhook(w: &WebhookRecord) -> Webhook {
    Webhook {
        id: w.id.clone(),
        url: w.url.clone(),
        events: w.events.clone(),
        active: w.active,
        created_at: iso(w.created_at),
    }
}

/// The webhook, with its secret (shown once).
#[derive(Serialize, ToSchema)]
pub(super) struct CreatedWebhook {
    id: String,
    #[schema(format = "uri")]
    url: String,
    events: Vec<String>,
    active: bool,
    #[schema(format = DateTime)]
    created_at: String,
    /// Shown this once; never again.
    secret: String,
}

fn webhook_id(id: &str) -> Result<&str, ApiError> {
    known_id("webhook", id, "Webhook")
}

/// List Webhooks
///
/// The partner's webhooks (at most 20), oldest first. Secrets are never shown here.
#[utoipa::path(get, path = "/webhooks", tag = "Webhooks",
    responses((status = 200, description = "Webhooks", body = Envelope<Vec<Webhook>>)))]
pub(super) async fn list(State(s): State<Services>, Caller(who): Caller) -> Result<Response, ApiError> {
    Ok(ok(s.webhooks().list(&who).await?.iter().map(webhook).collect::<Vec<_>>()))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = WebhookInput)]
pub(super) struct CreateBody {
    #[schema(format = "uri", required = true)]
    url: Option<String>,
    /// Names from `GET /webhooks/events`.
    #[schema(min_items = 1, required = true)]
    events: Option<Vec<String>>,
    /// Optional: without it a strong `whsec_…` secret is generated.
    #[schema(min_length = 16, max_length = 200)]
    secret: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

/// Create Webhook
///
/// `url` must be https (plain http, and loopback/private/link-local hosts, only when the server
/// runs with `--allow-private-webhooks`). `events` must come from `GET /webhooks/events`.
/// `secret` (16–200 characters) is optional: without it a strong `whsec_…` secret is
/// generated. Either way the secret is returned here once.
#[utoipa::path(post, path = "/webhooks", tag = "Webhooks", request_body = CreateBody,
    responses((status = 201, description = "The webhook, with its secret (shown once)", body = Envelope<CreatedWebhook>)))]

pub(super) async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown_fields(&body.other, &[], "a webhook")?;
    let (w, secret) =
        s.webhooks().create(&who, NewWebhook { url: body.url, events: body.events, secret: body.secret }).await?;
    let data = CreatedWebhook {
        id: w.id,
        url: w.url,
        events: w.events,
        active: w.active,
        created_at: iso(w.created_at),
        secret,
    };
    Ok((StatusCode::CREATED, ok(data)).into_response())
}

/// Get Webhook
#[utoipa::path(get, path = "/webhooks/{id}", tag = "Webhooks", params(("id" = String, Path)),
    responses((status = 200, description = "The webhook", body = Envelope<Webhook>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(webhook(&s.webhooks().get(&who, webhook_id(&id)?).await?)))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = WebhookPatch)]
pub(super) struct PatchBody {
    #[schema(format = "uri")]
    url: Option<String>,
    events: Option<Vec<String>>,
    active: Option<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

/// Update Webhook
///
/// Changes `url`, `events` and/or `active`. Deactivating cancels pending deliveries. Secrets
/// change only through rotation (a `secret` here is a 422); echoed `id` and `created_at` are
/// ignored.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "Webhooks", params(("id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "The webhook", body = Envelope<Webhook>)))]

pub(super) async fn update(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Response, ApiError> {
    let mut other = body.other;
    // Echoed read-only fields are fine; a secret goes through rotation.
    for k in ["id", "created_at"] {
        other.remove(k);
    }
    if other.contains_key("secret") {
        return Err(ApiError::validation_single("secret", "cannot be set here: use POST /webhooks/{id}/rotate-secret"));
    }
    refuse_unknown_fields(&other, &[], "a webhook")?;
    let change = WebhookChange { url: body.url, events: body.events, active: body.active };
    Ok(ok(webhook(&s.webhooks().update(&who, webhook_id(&id)?, change).await?)))
}

#[derive(Serialize, ToSchema)]
pub(super) struct Deleted {
    id: String,
    /// Always `true`.
    deleted: bool,
}

/// Delete Webhook
///
/// Stops all deliveries to it (pending ones are cancelled); its delivery log is kept.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "Webhooks", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)))]
pub(super) async fn delete(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.webhooks().delete(&who, webhook_id(&id)?).await?;
    Ok(ok(Deleted { id, deleted: true }))
}

#[derive(Deserialize, Default, ToSchema)]
#[schema(as = RotationInput)]
pub(super) struct RotateBody {
    /// Without it a `whsec_…` secret is generated.
    #[schema(min_length = 16)]
    secret: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct RotatedSecret {
    id: String,
    /// Shown this once.
    secret: String,
}

/// Rotate Webhook Secret
///
/// Replaces the secret (the given one, or a generated `whsec_…`), returned once. The old secret
/// stops signing at once. The body is optional.
///
/// Rotations are serialized: the answer is always the secret in force. When several rotations of
/// one webhook arrive together, one of them replaces the secret and the others change nothing
/// and answer that same new secret (a secret given in the body of a losing rotation is not
/// used).
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "Webhooks", params(("id" = String, Path)),
    request_body(content = Option<RotateBody>, description = "Optional"),
    responses((status = 200, description = "The new secret", body = Envelope<RotatedSecret>)))]

pub(super) async fn rotate_secret(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<RotateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown_fields(&body.other, &[], "a rotation")?;
    let (w, secret) = s.webhooks().rotate_secret(&who, webhook_id(&id)?, body.secret).await?;
    Ok(ok(RotatedSecret { id: w.id, secret }))
}

#[derive(Serialize, ToSchema)]
pub(super) struct EventInfo {
    name: &'static str,
    description: &'static str,
    /// An example of the delivery's `data` for this event (the payload `POST /webhooks/test`
    /// sends), built from the same typed payload the producer emits.
    #[schema(value_type = Object)]
    example: Value,
}

#[derive(Serialize, ToSchema)]
pub(super) struct EventCatalog {
    events: Vec<EventInfo>,
}

/// List Available Events
///
/// Every event partnerd delivers, with its description and an example of its payload (one
/// list in the code). The payload of each event is listed below.
#[utoipa::path(get, path = "/webhooks/events", tag = "Webhooks",
    responses((status = 200, description = "The catalog", body = Envelope<EventCatalog>)))]
pub(super) async fn events() -> Response {
    let events =
        CATALOG.iter().map(|e| EventInfo { name: e.name, description: e.description, example: (e.sample)() }).collect();
    ok(EventCatalog { events })
}

/// Appends every event's payload, as an example `data`, to the description of
/// `GET /webhooks/events`, so the document itself describes what each delivery carries.
pub(super) fn describe_payloads(doc: &mut utoipa::openapi::OpenApi) {
    let Some(op) = doc.paths.paths.get_mut("/webhooks/events").and_then(|item| item.get.as_mut()) else {
        return;
    };
    let mut text = op.description.take().unwrap_or_default();
    text.push_str("\n\n## Event payloads\n\nEach delivery body is `{id, type, timestamp, data}`; `data` per event:\n");
    for e in CATALOG {
        let sample = serde_json::to_string_pretty(&(e.sample)()).unwrap_or_default();
        text.push_str(&format!("\n### `{}`\n\n{}.\n\n```json\n{sample}\n```\n", e.name, e.description));
    }
    op.description = Some(text);
}

#[derive(Deserialize, ToSchema)]
#[schema(as = WebhookTestInput)]
pub(super) struct TestBody {
    #[schema(required = true)]
    webhook_id: Option<String>,
    /// A name from the catalog.
    #[schema(required = true)]
    event: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct TestOutcome {
    delivery_id: String,
    webhook_id: String,
    event: String,
    delivered: bool,
    #[schema(required = true)]
    status_code: Option<u16>,
    latency_ms: u64,
    #[schema(required = true)]
    error: Option<String>,
}

/// Test Webhook
///
/// Sends a sample `event` to the webhook now (body marked `"test": true`, signed like any
/// delivery), logs it, and returns the outcome. Tests are not retried.
#[utoipa::path(post, path = "/webhooks/test", tag = "Webhooks", request_body = TestBody,
    responses(
        (status = 200, description = "The attempt's outcome", body = Envelope<TestOutcome>),
        (status = 404, description = "No such webhook for this partner", body = dto::ErrorBody),
    ))]

pub(super) async fn test(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<TestBody>,
) -> Result<Response, ApiError> {
    refuse_unknown_fields(&body.other, &[], "a test")?;
    let mut e = ValidationErrors::new();
    if body.webhook_id.is_none() {
        e.add("webhook_id", "is required");
    }
    if body.event.is_none() {
        e.add("event", "is required");
    }
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let (id, event) = (body.webhook_id.unwrap_or_default(), body.event.unwrap_or_default());
    let out = s.webhooks().test(&who, webhook_id(&id)?, &event).await?;
    Ok(ok(TestOutcome {
        delivery_id: out.delivery_id,
        webhook_id: id,
        event,
        delivered: out.delivered,
        status_code: out.status_code,
        latency_ms: out.latency_ms,
        error: out.error,
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
    Cancelled,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Attempt {
    attempt: u32,
    #[schema(format = DateTime)]
    attempted_at: String,
    #[schema(required = true)]
    status_code: Option<u16>,
    latency_ms: u64,
    #[schema(required = true)]
    error: Option<String>,
    #[schema(format = DateTime, required = true)]
    next_retry_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Delivery {
    id: String,
    event_id: String,
    event: String,
    #[schema(value_type = DeliveryStatus)]
    status: String,
    test: bool,
    attempts: u32,
    /// While pending: when the next attempt is due.
    #[schema(format = DateTime, required = true)]
    next_retry_at: Option<String>,
    #[schema(required = true)]
    last_status_code: Option<u16>,
    #[schema(required = true)]
    last_error: Option<String>,
    /// The delivery this one re-sends.
    #[schema(required = true)]
    redelivery_of: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime, required = true)]
    completed_at: Option<String>,
    /// Every attempt, oldest first.
    log: Vec<Attempt>,
}

fn delivery(d: &DeliveryRecord) -> Delivery {
    Delivery {
        id: d.id.clone(),
        event_id: d.event_id.clone(),
        event: d.event_type.clone(),
        status: d.status.clone(),
        test: d.is_test,
        attempts: d.attempts,
        next_retry_at: d.next_attempt_at.filter(|_| d.status == "pending").map(iso),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        redelivery_of: d.redelivery_of.clone(),
        created_at: iso(d.created_at),
        completed_at: d.completed_at.map(iso),
        log: d
            .log
            .iter()
            .map(|a| Attempt {
                attempt: a.attempt,
                attempted_at: iso(a.attempted_at),
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error.clone(),
                next_retry_at: a.next_retry_at.map(iso),
            })
            .collect(),
    }
}

/// Delivery Log
///
/// The webhook's deliveries, newest first, each with every attempt (time, status code, latency,
/// error, next retry).
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `page`; `meta.next_cursor` is `null` on the last page and `meta.page` is 0 on a
/// page read by cursor. A cursor that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "Webhooks", params(("id" = String, Path), PageQuery),
    responses((status = 200, description = "Deliveries", body = PagedEnvelope<Delivery>)))]
pub(super) async fn deliveries(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let (at, per_page) = q.get();
    let page = s.webhooks().deliveries(&who, webhook_id(&id)?, &at.window, per_page).await?;
    Ok(ok_page(page.items.iter().map(delivery).collect(), &at, per_page, page.total, page.next.as_ref()))
}

/// Redeliver
///
/// Sends the delivery's event again as a new delivery with a fresh retry schedule (same event
/// id, so receivers can de-duplicate).
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "Webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses(
        (status = 201, description = "The new delivery", body = Envelope<Delivery>),
        (status = 422, description = "The delivery cannot be sent again", body = dto::ErrorBody),
    ))]
pub(super) async fn redeliver(
    State(s): State<Services>,
    Caller(who): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = s.webhooks().redeliver(&who, webhook_id(&id)?, &delivery_id).await?;
    Ok((StatusCode::CREATED, ok(delivery(&d))).into_response())
}
