//! Webhook registry, test sends and the delivery log. Sending itself is a `WebhookSender` (the
//! `partnerd-webhooks` crate's HTTP client), so this crate needs no HTTP client.

use crate::error::{ErrorKind, codes};
use crate::policy::{self, Access, Resource};
use crate::secrets::{SecretError, SecretKeys};
use crate::{Principal, ServiceError, Services};
use async_trait::async_trait;
use chrono::{Duration, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{
    EventPayload, NewEvent, WebhookCreated, WebhookSecretRotated, WebhookState, WebhookUpdated,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::webhooks::{self as wh, DeliveryStatus};
use partnerd_store::{
    AttemptRecord, AttemptResult, Claim, ClaimedDelivery, DeliveryRecord, SecretChange, SecretRotation, WebhookRecord,
};
use partnerd_store::{Paged, Window};

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
    /// Encrypt signing secrets at rest.
    pub secrets: SecretKeys,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            schedule: wh::default_schedule(),
            sender: None,
            secrets: SecretKeys::for_this_process(),
        }
    }
}

/// What encrypting the stored secrets came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretsReport {
    /// Secrets stored in plain text (written before encryption) that are encrypted now.
    pub encrypted: u64,
    /// Secrets under an older key that are under the current key now.
    pub reencrypted: u64,
    /// Secrets already under the current key.
    pub current: u64,
}

fn unreadable(webhook_id: &str, e: &SecretError) -> ServiceError {
    ServiceError::new(ErrorKind::Unavailable, "webhook", codes::SECRET_UNREADABLE)
        .with_detail(format!("webhook {webhook_id}: {e}"))
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
pub const MAX_WEBHOOKS: u32 = 20;

fn state(w: &WebhookRecord) -> WebhookState {
    WebhookState { webhook_id: w.id.clone(), url: w.url.clone(), events: w.events.clone(), active: w.active }
}

/// Registry changes are audited but never delivered: they are not in the catalog.
fn internal_event<P: EventPayload>(payload: P, w: &WebhookRecord, who: &Principal) -> NewEvent {
    NewEvent::of(&payload).partner(Some(w.partner_id.clone())).actor(Some(who.user_id.clone()))
}

impl Webhooks<'_> {
    fn settings(&self) -> &WebhookSettings {
        &self.services.webhooks
    }

    fn check_url(&self, e: &mut ValidationErrors, raw: &str) -> String {
        e.check("url", wh::validate_url(raw, self.settings().allow_private)).map(|u| u.to_string()).unwrap_or_default()
    }

    pub async fn create(&self, who: &Principal, input: NewWebhook) -> Result<(WebhookRecord, String), ServiceError> {
        let partner = policy::partner_id(who)?.to_owned();
        policy::require(&who.roles, Resource::Webhook, Access::Write)?;
        let mut e = ValidationErrors::new();
        let url = match &input.url {
            Some(u) => self.check_url(&mut e, u),
            None => {
                e.add("url", "is required");
                String::new()
            }
        };
        let events = match &input.events {
            Some(ev) => wh::check_events(&mut e, ev),
            None => {
                e.add("events", "is required");
                Vec::new()
            }
        };
        if let Some(s) = &input.secret {
            e.check("secret", wh::validate_secret(s));
        }
        e.into_result()?;
        let secret = input.secret.unwrap_or_else(wh::generate_secret);
        let now = self.services.clock.now();
        let id = new_id("webhook");
        let w = WebhookRecord {
            secret: self.settings().secrets.encrypt(&id, &secret),
            id,
            marketplace_id: who.marketplace_id.clone(),
            partner_id: partner,
            url,
            events,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let ev = internal_event(WebhookCreated(state(&w)), &w, who);
        // The limit is checked inside the write, so concurrent creates cannot pass it together.
        if !self.services.store.create_webhook(w.clone(), MAX_WEBHOOKS, vec![ev]).await? {
            return Err(ServiceError::conflict("webhook", codes::LIMIT_REACHED));
        }
        Ok((w, secret))
    }

    pub async fn list(&self, who: &Principal) -> Result<Vec<WebhookRecord>, ServiceError> {
        Ok(self.services.store.list_webhooks(&who.marketplace_id, policy::partner_id(who)?).await?)
    }

    pub async fn get(&self, who: &Principal, id: &str) -> Result<WebhookRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        me.visible(self.services.store.get_webhook(me.marketplace_id(), me.partner_id, id).await?, Resource::Webhook)
    }

    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        change: WebhookChange,
    ) -> Result<WebhookRecord, ServiceError> {
        policy::require(&who.roles, Resource::Webhook, Access::Write)?;
        let current = self.get(who, id).await?;
        let mut e = ValidationErrors::new();
        let mut next = current.clone();
        if let Some(u) = &change.url {
            next.url = self.check_url(&mut e, u);
        }
        if let Some(ev) = &change.events {
            next.events = wh::check_events(&mut e, ev);
        }
        if let Some(a) = change.active {
            next.active = a;
        }
        e.into_result()?;
        if next == current {
            return Ok(current);
        }
        next.updated_at = self.services.clock.now();
        let ev = internal_event(WebhookUpdated(state(&next)), &next, who);
        self.services.store.update_webhook(next.clone(), vec![ev]).await?;
        Ok(next)
    }

    /// A new secret (given, or generated); the old one stops signing at once. Rotations of one
    /// webhook are compare-and-set on the stored secret: when several race from the same
    /// secret, one commits and the others write nothing and answer the winner's secret, so
    /// every answer is the secret in force when it was given.
    pub async fn rotate_secret(
        &self,
        who: &Principal,
        id: &str,
        secret: Option<String>,
    ) -> Result<(WebhookRecord, String), ServiceError> {
        policy::require(&who.roles, Resource::Webhook, Access::Write)?;
        if let Some(s) = &secret {
            wh::validate_secret(s).map_err(|m| ValidationErrors::single("secret", m))?;
        }
        let current = self.get(who, id).await?;
        let secret = secret.unwrap_or_else(wh::generate_secret);
        let keys = &self.settings().secrets;
        let rotation = SecretRotation {
            marketplace_id: current.marketplace_id.clone(),
            partner_id: current.partner_id.clone(),
            webhook_id: current.id.clone(),
            expected: current.secret.clone(),
            secret: keys.encrypt(&current.id, &secret),
            at: self.services.clock.now(),
        };
        let ev = internal_event(WebhookSecretRotated(state(&current)), &current, who);
        let now = self.services.store.rotate_webhook_secret(rotation, vec![ev]).await?;
        let in_force = keys.decrypt(&now.id, &now.secret).map_err(|e| unreadable(&now.id, &e))?;
        Ok((now, in_force))
    }

    /// Encrypts every secret stored in plain text (written before secrets were encrypted) and,
    /// with `reencrypt`, moves every secret under an older key to the current key. Safe to run
    /// while servers run: each row is replaced only if it still holds what was read.
    pub async fn encrypt_stored_secrets(&self, reencrypt: bool) -> Result<SecretsReport, ServiceError> {
        let keys = &self.settings().secrets;
        let mut report = SecretsReport::default();
        let mut changes = Vec::new();
        for s in self.services.store.stored_secrets().await? {
            let plain = if !s.encrypted {
                report.encrypted += 1;
                s.secret.clone()
            } else if keys.is_current(&s.secret) {
                report.current += 1;
                continue;
            } else if reencrypt {
                report.reencrypted += 1;
                keys.decrypt(&s.webhook_id, &s.secret).map_err(|e| unreadable(&s.webhook_id, &e))?
            } else {
                continue;
            };
            let to = keys.encrypt(&s.webhook_id, &plain);
            changes.push(SecretChange { webhook_id: s.webhook_id, from: s.secret, to });
        }
        if !changes.is_empty() {
            self.services.store.replace_secrets(changes).await?;
        }
        Ok(report)
    }

    pub async fn delete(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        policy::require(&who.roles, Resource::Webhook, Access::Write)?;
        let partner = policy::partner_id(who)?;
        Ok(self.services.store.delete_webhook(&who.marketplace_id, partner, id, self.services.clock.now()).await?)
    }

    /// Sends a sample of `event` to the webhook now, marked `"test": true`, and logs it.
    pub async fn test(&self, who: &Principal, webhook_id: &str, event: &str) -> Result<TestOutcome, ServiceError> {
        policy::require(&who.roles, Resource::Webhook, Access::Write)?;
        let w = self.get(who, webhook_id).await?;
        let entry = wh::find_event(event).map_err(|m| ValidationErrors::single("event", m))?;
        let sender = self.settings().sender.clone().ok_or_else(|| {
            ServiceError::new(ErrorKind::Unavailable, "webhook", codes::SENDER_MISSING)
                .with_detail("webhook sending is not configured")
        })?;
        let now = self.services.clock.now();
        let event_id = new_id("evt_test");
        let body = wh::test_payload(&event_id, entry, now);
        let secret = self.settings().secrets.decrypt(&w.id, &w.secret).map_err(|e| unreadable(&w.id, &e))?;
        let headers = wh::signed_headers(&secret, &event_id, Utc::now().timestamp(), body.as_bytes());
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
            status: if delivered { DeliveryStatus::Delivered } else { DeliveryStatus::Failed }.as_str().into(),
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
        window: &Window,
        limit: u32,
    ) -> Result<Paged<DeliveryRecord>, ServiceError> {
        let w = self.get(who, webhook_id).await?;
        Ok(self.services.store.list_deliveries(&w.marketplace_id, &w.partner_id, &w.id, window, limit).await?)
    }

    /// Sends an event again as a new delivery with a fresh retry schedule.
    pub async fn redeliver(
        &self,
        who: &Principal,
        webhook_id: &str,
        delivery_id: &str,
    ) -> Result<DeliveryRecord, ServiceError> {
        policy::require(&who.roles, Resource::Webhook, Access::Write)?;
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

    /// Claims due deliveries, their secrets decrypted. A delivery whose secret no configured
    /// key opens is given back (it stays pending) and logged.
    pub async fn claim(&self, claim: &Claim) -> Result<Vec<ClaimedDelivery>, ServiceError> {
        let keys = &self.services.webhooks.secrets;
        let mut claimed = self.services.store.claim_deliveries(claim).await?;
        let mut unreadable = Vec::new();
        claimed.retain_mut(|d| match keys.decrypt(&d.webhook_id, &d.secret) {
            Ok(plain) => {
                d.secret = plain;
                true
            }
            Err(e) => {
                tracing::error!(webhook = %d.webhook_id, error = %e, "cannot decrypt a webhook secret; delivery left pending");
                unreadable.push(d.id.clone());
                false
            }
        });
        if !unreadable.is_empty() {
            self.services.store.release_deliveries(&unreadable, &claim.claimer).await?;
        }
        Ok(claimed)
    }

    /// Extends the leases `claimer` still holds at the given `(delivery, attempt)`; answers
    /// those still held (the others were lost, e.g. after a lease ran out during an outage).
    pub async fn renew(
        &self,
        claimer: &str,
        held: &[(String, u32)],
        until: chrono::DateTime<Utc>,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(self.services.store.renew_claims(claimer, held, until).await?)
    }

    /// Fired after commits that created deliveries: what the worker waits on between claims.
    pub fn wake(&self) -> partnerd_store::DeliveryWake {
        self.services.store.delivery_wake()
    }

    /// Records several attempts in one write, each fenced on its own: whether each was
    /// recorded (`false`: this claimer no longer holds that delivery).
    pub async fn finish_all(&self, results: Vec<AttemptResult>) -> Result<Vec<bool>, ServiceError> {
        let nexts: Vec<_> = results.iter().map(|r| r.next.clone()).collect();
        let recorded = self.services.store.finish_attempts(results).await?;
        for (next, ok) in nexts.iter().zip(&recorded) {
            if *ok {
                self.services.outcomes.count(next);
            }
        }
        Ok(recorded)
    }

    /// Records an attempt; `false` when this claimer no longer holds the delivery.
    pub async fn finish(&self, result: AttemptResult) -> Result<bool, ServiceError> {
        let next = result.next.clone();
        let recorded = self.services.store.finish_attempt(result).await?;
        if recorded {
            self.services.outcomes.count(&next);
        }
        Ok(recorded)
    }
}
