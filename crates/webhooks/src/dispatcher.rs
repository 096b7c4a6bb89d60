//! The delivery worker inside `serve`. It polls for due deliveries, claims as many as it has
//! room for (leased, fair per endpoint), sends them concurrently and records every attempt.
//! Several processes may run it against one PostgreSQL: claims skip each other's rows and a
//! finished attempt is accepted only from its claimer.

use chrono::Utc;
use partnerd_domain::ids::new_id;
use partnerd_domain::webhooks::{self as wh, Next};
use partnerd_services::Services;
use partnerd_services::webhooks::WebhookSender;
use partnerd_store::{AttemptNext, AttemptResult, Claim, ClaimedDelivery};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// How often to look for due deliveries when idle.
    pub poll: Duration,
    /// Deliveries in flight at once, in all.
    pub concurrency: u32,
    /// Deliveries in flight at once to one endpoint, so a slow receiver holds up only itself.
    pub per_endpoint: u32,
    /// How long a claim holds; longer than the send timeout, so a live claim never expires.
    pub lease: chrono::Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(10),
            concurrency: 256,
            per_endpoint: 8,
            lease: chrono::Duration::seconds(60),
        }
    }
}

struct Shared {
    services: Services,
    sender: Arc<dyn WebhookSender>,
    claimer: String,
    in_flight: Mutex<HashMap<String, u32>>,
    slots: Arc<Semaphore>,
    finished: Notify,
}

pub fn spawn_dispatcher(services: Services, sender: Arc<dyn WebhookSender>, opts: DispatcherOptions) -> JoinHandle<()> {
    let shared = Arc::new(Shared {
        services,
        sender,
        claimer: new_id("worker"),
        in_flight: Mutex::new(HashMap::new()),
        slots: Arc::new(Semaphore::new(opts.concurrency as usize)),
        finished: Notify::new(),
    });
    tokio::spawn(async move {
        loop {
            match round(&shared, &opts).await {
                Ok(0) => tokio::time::sleep(opts.poll).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatcher could not claim deliveries; retrying");
                    tokio::time::sleep(opts.poll.max(Duration::from_millis(500))).await;
                }
            }
        }
    })
}

/// One claim; returns how many deliveries it started.
async fn round(shared: &Arc<Shared>, opts: &DispatcherOptions) -> Result<usize, String> {
    let free = shared.slots.available_permits() as u32;
    if free == 0 {
        // Full: wait for a send to finish (or a poll interval, whichever is first).
        let _ = tokio::time::timeout(opts.poll, shared.finished.notified()).await;
        return Ok(1);
    }
    let store = &shared.services.store;
    let now = shared.services.clock.now();
    if !store.deliveries_due(now).await.map_err(|e| e.to_string())? {
        return Ok(0);
    }
    let saturated: Vec<String> = shared
        .in_flight
        .lock()
        .expect("in-flight lock")
        .iter()
        .filter(|(_, n)| **n >= opts.per_endpoint)
        .map(|(w, _)| w.clone())
        .collect();
    let claim = Claim {
        now,
        lease_until: now + opts.lease,
        claimer: shared.claimer.clone(),
        limit: free,
        per_webhook: opts.per_endpoint,
        exclude_webhooks: saturated,
    };
    let claimed = store.claim_deliveries(&claim).await.map_err(|e| e.to_string())?;
    let started = claimed.len();
    for d in claimed {
        let Ok(permit) = shared.slots.clone().try_acquire_owned() else {
            // Cannot happen (we claimed no more than were free); give it back rather than wait.
            let _ = store.release_deliveries(std::slice::from_ref(&d.id), &shared.claimer).await;
            continue;
        };
        *shared.in_flight.lock().expect("in-flight lock").entry(d.webhook_id.clone()).or_default() += 1;
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            let webhook = d.webhook_id.clone();
            deliver(&shared, d).await;
            {
                let mut in_flight = shared.in_flight.lock().expect("in-flight lock");
                if let Some(n) = in_flight.get_mut(&webhook) {
                    *n -= 1;
                    if *n == 0 {
                        in_flight.remove(&webhook);
                    }
                }
            }
            drop(permit);
            shared.finished.notify_one();
        });
    }
    Ok(started)
}

async fn deliver(shared: &Shared, d: ClaimedDelivery) {
    let services = &shared.services;
    let body = wh::payload(&d.event_id, &d.event_type, d.occurred_at, &d.data);
    // The signature timestamp is wall-clock time: receivers compare it with theirs.
    let headers = wh::signed_headers(&d.secret, &d.event_id, Utc::now().timestamp(), body.as_bytes());
    let out = shared.sender.send(&d.url, &headers, body.as_bytes()).await;
    let now = services.clock.now();
    let retry_after = out.retry_after.as_deref().and_then(|v| wh::parse_retry_after(v, now));
    let next = match wh::next_step(
        out.status,
        retry_after,
        d.attempt as usize,
        &services.webhooks.schedule,
        now,
        rand::random::<f64>(),
    ) {
        Next::Delivered => AttemptNext::Delivered,
        Next::RetryAt(t) => AttemptNext::RetryAt(t),
        Next::Failed => AttemptNext::Failed,
        Next::Disable => AttemptNext::DisableWebhook,
    };
    if matches!(next, AttemptNext::DisableWebhook) {
        tracing::info!(webhook = %d.webhook_id, "endpoint answered 410 Gone: webhook disabled");
    }
    let result = AttemptResult {
        delivery_id: d.id.clone(),
        claimer: shared.claimer.clone(),
        attempt: d.attempt,
        attempted_at: now,
        status_code: out.status,
        latency_ms: out.latency_ms,
        error: out.error,
        next,
    };
    // The attempt happened; recording it is worth a few tries. If it cannot be recorded the
    // lease runs out and the delivery is sent again (at least once, never lost).
    for wait_ms in [0u64, 100, 1_000] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        match services.store.finish_attempt(result.clone()).await {
            Ok(true) => return,
            Ok(false) => {
                tracing::warn!(delivery = %d.id, "attempt finished after its claim was taken over");
                return;
            }
            Err(e) => tracing::warn!(delivery = %d.id, error = %e, "could not record a webhook attempt"),
        }
    }
}
