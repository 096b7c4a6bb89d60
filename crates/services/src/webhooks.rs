//! Webhook registry, test sends and the delivery log. Sending itself is a `WebhookSender` (the
//! `partnerd-webhooks` crate's HTTP client), so this crate needs no HTTP client.

use crate::error::{ErrorKind, codes};
use crate::listings::{partner_id, require_write};
use crate::{Principal, ServiceError, Services};
use async_trait::async_trait;
use chrono::{Duration, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::NewEvent;
use partnerd_domain::ids::new_id;
use partnerd_domain::webhooks::{self as wh, catalog_entry};
use partnerd_store::{AttemptRecord, AttemptResult, Claim, ClaimedDelivery, DeliveryRecord, WebhookRecord};
use serde_json::json;

/// What one HTTP attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOutcome {
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
}

/// Sends one signed POST. Implementations refuse private addresses unless allowed, follow no
/// redirects and time out.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn send(&self, url: &str, headers: &[(&'static str, String)], body: &[u8]) -> SendOutcome;
}

/// How webhooks behave in this deployment.
#[derive(Clone)]
pub struct WebhookSettings {
    /// Allows `http://` and loopback/private addresses (local development and tests).
    pub allow_private: bool,
    /// Delays before each attempt; its length is the number of attempts.
    pub schedule: Vec<Duration>,
    pub sender: Option<std::sync::Arc<dyn WebhookSender>>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { allow_private: false, schedule: wh::default_schedule(), sender: None }
    }
}

pub struct Webhooks<'a> {
    pub(crate) services: &'a Services,
}

#[derive(Debug, Default)]
pub struct NewWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
}

#[derive(Debug, Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub delivery_id: String,
    pub delivered: bool,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// Webhooks one partner may register.
pub const MAX_WEBHOOKS: usize = 20;
const MAX_EVENTS: usize = 50;

fn internal_event(kind: &'static str, w: &WebhookRecord, who: &Principal) -> NewEvent {
    // Registry changes are audited but never delivered: they are not in the catalog.
    NewEvent {
        event_type: kind,
        subject_type: "webhook",
        subject_id: w.id.clone(),
        partner_id: Some(w.partner_id.clone()),
        related_partner_id: None,
        actor_user_id: Some(who.user_id.clone()),
        payload: json!({ "webhook_id": w.id, "url": w.url, "events": w.events, "active": w.active }),
    }
}

impl Webhooks<'_> {
    fn settings(&self) -> &WebhookSettings {
        &self.services.webhooks
    }

    fn check_url(&self, e: &mut ValidationErrors, raw: &str) -> String {
        e.check("url", wh::validate_url(raw, self.settings().allow_private)).map(|u| u.to_string()).unwrap_or_default()
    }

    fn check_events(e: &mut ValidationErrors, events: &[String]) -> Vec<String> {
        if events.is_empty() {
            e.add("events", "must name at least one event (see GET /webhooks/events)");
        }
        if events.len() > MAX_EVENTS {
            e.add("events", format!("must have at most {MAX_EVENTS} events"));
        }
        let mut out: Vec<String> = Vec::new();
        for (i, name) in events.iter().enumerate() {
            if catalog_entry(name).is_none() {
                e.add(&format!("events[{i}]"), format!("unknown event '{name}' (see GET /webhooks/events)"));
            } else if !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    pub async fn create(&self, who: &Principal, input: NewWebhook) -> Result<(WebhookRecord, String), ServiceError> {
        let partner = partner_id(who)?.to_owned();
        require_write(who)?;
        let mut e = ValidationErrors::new();
        let url = match &input.url {
            Some(u) => self.check_url(&mut e, u),
            None => {
                e.add("url", "is required");
                String::new()
            }
        };
        let events = match &input.events {
            Some(ev) => Self::check_events(&mut e, ev),
            None => {
                e.add("events", "is required");
                Vec::new()
            }
        };
        if let Some(s) = &input.secret {
            e.check("secret", wh::validate_secret(s));
        }
        e.into_result()?;
        if self.services.store.list_webhooks(&who.marketplace_id, &partner).await?.len() >= MAX_WEBHOOKS {
            return Err(ServiceError::conflict("webhook", codes::LIMIT_REACHED));
        }
        let secret = input.secret.unwrap_or_else(wh::generate_secret);
        let now = self.services.clock.now();
        let w = WebhookRecord {
            id: new_id("webhook"),
            marketplace_id: who.marketplace_id.clone(),
            partner_id: partner,
            url,
            events,
            secret: secret.clone(),
            active: true,
            created_at: now,
            updated_at: now,
        };
        let ev = internal_event("webhook.created", &w, who);
        self.services.store.create_webhook(w.clone(), vec![ev]).await?;
        Ok((w, secret))
    }

    pub async fn list(&self, who: &Principal) -> Result<Vec<WebhookRecord>, ServiceError> {
        Ok(self.services.store.list_webhooks(&who.marketplace_id, partner_id(who)?).await?)
    }

    pub async fn get(&self, who: &Principal, id: &str) -> Result<WebhookRecord, ServiceError> {
        self.services
            .store
            .get_webhook(&who.marketplace_id, partner_id(who)?, id)
            .await?
            .ok_or(ServiceError::not_found("webhook"))
    }

    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        change: WebhookChange,
    ) -> Result<WebhookRecord, ServiceError> {
        require_write(who)?;
        let current = self.get(who, id).await?;
        let mut e = ValidationErrors::new();
        let mut next = current.clone();
        if let Some(u) = &change.url {
            next.url = self.check_url(&mut e, u);
        }
        if let Some(ev) = &change.events {
            next.events = Self::check_events(&mut e, ev);
        }
        if let Some(a) = change.active {
            next.active = a;
        }
        e.into_result()?;
        if next == current {
            return Ok(current);
        }
        next.updated_at = self.services.clock.now();
        let ev = internal_event("webhook.updated", &next, who);
        self.services.store.update_webhook(next.clone(), vec![ev]).await?;
        Ok(next)
    }

    /// A new secret (given, or generated); the old one stops signing at once.
    pub async fn rotate_secret(
        &self,
        who: &Principal,
        id: &str,
        secret: Option<String>,
    ) -> Result<(WebhookRecord, String), ServiceError> {
        require_write(who)?;
        if let Some(s) = &secret {
            wh::validate_secret(s).map_err(|m| ValidationErrors::single("secret", m))?;
        }
        let mut next = self.get(who, id).await?;
        let secret = secret.unwrap_or_else(wh::generate_secret);
        next.secret = secret.clone();
        next.updated_at = self.services.clock.now();
        let ev = internal_event("webhook.secret_rotated", &next, who);
        self.services.store.update_webhook(next.clone(), vec![ev]).await?;
        Ok((next, secret))
    }

    pub async fn delete(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        require_write(who)?;
        let partner = partner_id(who)?;
        Ok(self.services.store.delete_webhook(&who.marketplace_id, partner, id, self.services.clock.now()).await?)
    }

    /// Sends a sample of `event` to the webhook now, marked `"test": true`, and logs it.
    pub async fn test(&self, who: &Principal, webhook_id: &str, event: &str) -> Result<TestOutcome, ServiceError> {
        require_write(who)?;
        let w = self.get(who, webhook_id).await?;
        let entry = catalog_entry(event).ok_or_else(|| {
            ValidationErrors::single("event", format!("unknown event '{event}' (see GET /webhooks/events)"))
        })?;
        let sender = self.settings().sender.clone().ok_or_else(|| {
            ServiceError::new(ErrorKind::Unavailable, "webhook", codes::SENDER_MISSING)
                .with_detail("webhook sending is not configured")
        })?;
        let now = self.services.clock.now();
        let event_id = new_id("evt_test");
        let mut body: serde_json::Value =
            serde_json::from_str(&wh::payload(&event_id, event, now, &(entry.sample)())).expect("own JSON");
        body["test"] = true.into();
        let body = body.to_string();
        let headers = wh::signed_headers(&w.secret, &event_id, Utc::now().timestamp(), body.as_bytes());
        let out = sender.send(&w.url, &headers, body.as_bytes()).await;
        let delivered = out.status.is_some_and(|s| (200..300).contains(&s));
        let record = DeliveryRecord {
            id: new_id("dlv"),
            marketplace_id: w.marketplace_id.clone(),
            partner_id: w.partner_id.clone(),
            webhook_id: w.id.clone(),
            event_id,
            event_type: event.to_owned(),
            is_test: true,
            status: if delivered { "delivered" } else { "failed" }.into(),
            attempts: 1,
            next_attempt_at: None,
            last_status_code: out.status,
            last_error: out.error.clone(),
            redelivery_of: None,
            created_at: now,
            completed_at: Some(now),
            log: vec![AttemptRecord {
                attempt: 1,
                attempted_at: now,
                status_code: out.status,
                latency_ms: out.latency_ms,
                error: out.error.clone(),
                next_retry_at: None,
            }],
        };
        self.services.store.record_test_delivery(record.clone()).await?;
        Ok(TestOutcome {
            delivery_id: record.id,
            delivered,
            status_code: out.status,
            latency_ms: out.latency_ms,
            error: out.error,
        })
    }

    pub async fn deliveries(
        &self,
        who: &Principal,
        webhook_id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<DeliveryRecord>, u64), ServiceError> {
        let w = self.get(who, webhook_id).await?;
        Ok(self.services.store.list_deliveries(&w.marketplace_id, &w.partner_id, &w.id, offset, limit).await?)
    }

    /// Sends an event again as a new delivery with a fresh retry schedule.
    pub async fn redeliver(
        &self,
        who: &Principal,
        webhook_id: &str,
        delivery_id: &str,
    ) -> Result<DeliveryRecord, ServiceError> {
        require_write(who)?;
        let w = self.get(who, webhook_id).await?;
        if !w.active {
            return Err(ServiceError::conflict("webhook", codes::INACTIVE));
        }
        let now = self.services.clock.now();
        Ok(self
            .services
            .store
            .redeliver(&w.marketplace_id, &w.partner_id, &w.id, delivery_id, &new_id("dlv"), now)
            .await?)
    }
}

/// The delivery worker's view of the outbox: what it may claim and record, nothing else.
pub struct DeliveryQueue<'a> {
    pub(crate) services: &'a Services,
}

impl DeliveryQueue<'_> {
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.services.clock.now()
    }

    /// Delays before each attempt; its length is the number of attempts.
    pub fn schedule(&self) -> &[Duration] {
        &self.services.webhooks.schedule
    }

    /// Whether any delivery is due: a cheap read before a claim, which writes.
    pub async fn any_due(&self, now: chrono::DateTime<Utc>) -> Result<bool, ServiceError> {
        Ok(self.services.store.deliveries_due(now).await?)
    }

    pub async fn claim(&self, claim: &Claim) -> Result<Vec<ClaimedDelivery>, ServiceError> {
        Ok(self.services.store.claim_deliveries(claim).await?)
    }

    /// Records an attempt; `false` when this claimer no longer holds the delivery.
    pub async fn finish(&self, result: AttemptResult) -> Result<bool, ServiceError> {
        Ok(self.services.store.finish_attempt(result).await?)
    }
}
