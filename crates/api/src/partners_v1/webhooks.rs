//! Webhooks: `/partners/webhooks…`: registry, event catalog, test sends, delivery log.

use super::{ApiError, Caller, iso, ok, ok_page};
use super::{known_id, page_offset, unknown_fields};
use crate::extract::{ApiJson, JsonOrEmpty};
use crate::query::{QueryParams, paging};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_domain::webhooks::CATALOG;
use partnerd_services::Services;
use partnerd_services::webhooks::{NewWebhook, WebhookChange};
use partnerd_store::{DeliveryRecord, WebhookRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn webhook(w: &WebhookRecord) -> Value {
    json!({ "id": w.id, "url": w.url, "events": w.events, "active": w.active, "created_at": iso(w.created_at) })
}

fn refuse_unknown(other: &BTreeMap<String, Value>, what: &str) -> Result<(), ApiError> {
    unknown_fields(other, &[], what).into_result().map_err(|e| ApiError::validation(&e))
}

fn webhook_id(id: &str) -> Result<&str, ApiError> {
    known_id("webhook", id, "Webhook")
}

pub async fn list(State(s): State<Services>, Caller(who): Caller) -> Result<Response, ApiError> {
    Ok(ok(s.webhooks().list(&who).await?.iter().map(webhook).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
pub struct CreateBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    secret: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

pub async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, "a webhook")?;
    let (w, secret) =
        s.webhooks().create(&who, NewWebhook { url: body.url, events: body.events, secret: body.secret }).await?;
    let mut data = webhook(&w);
    // Shown this once; never again.
    data["secret"] = secret.into();
    Ok((StatusCode::CREATED, ok(data)).into_response())
}

pub async fn get(State(s): State<Services>, Caller(who): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(ok(webhook(&s.webhooks().get(&who, webhook_id(&id)?).await?)))
}

#[derive(Deserialize)]
pub struct PatchBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    active: Option<bool>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

pub async fn update(
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
    refuse_unknown(&other, "a webhook")?;
    let change = WebhookChange { url: body.url, events: body.events, active: body.active };
    Ok(ok(webhook(&s.webhooks().update(&who, webhook_id(&id)?, change).await?)))
}

pub async fn delete(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.webhooks().delete(&who, webhook_id(&id)?).await?;
    Ok(ok(json!({ "id": id, "deleted": true })))
}

#[derive(Deserialize, Default)]
pub struct RotateBody {
    secret: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

pub async fn rotate_secret(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    JsonOrEmpty(body): JsonOrEmpty<RotateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, "a rotation")?;
    let (w, secret) = s.webhooks().rotate_secret(&who, webhook_id(&id)?, body.secret).await?;
    Ok(ok(json!({ "id": w.id, "secret": secret })))
}

pub async fn events() -> Response {
    let events: Vec<Value> = CATALOG.iter().map(|e| json!({ "name": e.name, "description": e.description })).collect();
    ok(json!({ "events": events }))
}

#[derive(Deserialize)]
pub struct TestBody {
    webhook_id: Option<String>,
    event: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

pub async fn test(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<TestBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, "a test")?;
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
    Ok(ok(json!({
        "delivery_id": out.delivery_id,
        "webhook_id": id,
        "event": event,
        "delivered": out.delivered,
        "status_code": out.status_code,
        "latency_ms": out.latency_ms,
        "error": out.error,
    })))
}

fn delivery(d: &DeliveryRecord) -> Value {
    json!({
        "id": d.id,
        "event_id": d.event_id,
        "event": d.event_type,
        "status": d.status,
        "test": d.is_test,
        "attempts": d.attempts,
        "next_retry_at": d.next_attempt_at.filter(|_| d.status == "pending").map(iso),
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "redelivery_of": d.redelivery_of,
        "created_at": iso(d.created_at),
        "completed_at": d.completed_at.map(iso),
        "log": d.log.iter().map(|a| json!({
            "attempt": a.attempt,
            "attempted_at": iso(a.attempted_at),
            "status_code": a.status_code,
            "latency_ms": a.latency_ms,
            "error": a.error,
            "next_retry_at": a.next_retry_at.map(iso),
        })).collect::<Vec<_>>(),
    })
}

pub async fn deliveries(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let mut e = ValidationErrors::new();
    let (page, per_page) = paging(&q, &mut e);
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let (items, total) = s.webhooks().deliveries(&who, webhook_id(&id)?, page_offset(page, per_page), per_page).await?;
    Ok(ok_page(items.iter().map(delivery).collect(), page, per_page, total))
}

pub async fn redeliver(
    State(s): State<Services>,
    Caller(who): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = s.webhooks().redeliver(&who, webhook_id(&id)?, &delivery_id).await?;
    Ok((StatusCode::CREATED, ok(delivery(&d))).into_response())
}
