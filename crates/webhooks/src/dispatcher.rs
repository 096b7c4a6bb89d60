//! The delivery worker inside `serve`. It polls for due deliveries, claims as many as it has
//! room for (leased, fair per endpoint), sends them concurrently and records every attempt.
//! Several processes may run it against one PostgreSQL: claims skip each other's rows and a
//! finished attempt is accepted only from its claimer.
//!
//! It does not poll for new work: the store fires its delivery wake after a COMMIT that
//! created deliveries (SQLite's writer after the batch, PostgreSQL's `LISTEN` connection for
//! every process's commits), and the worker claims then. It still looks every `poll` (for
//! retries coming due, another process's writes on SQLite, a lost notification) and when the
//! earliest retry it scheduled itself comes due.
//!
//! Finished attempts are recorded in batches: one recorder task takes every result waiting and
//! writes them in one statement (PostgreSQL) or one writer job (SQLite), each still fenced by
//! claimer and attempt; a delivery counts as held until its attempt is recorded.
//!
//! Leases are short (30 s: one attempt's 15 s timeout plus margin) and renewed every 10 s while
//! this worker still holds them, queued or in flight, so a crashed worker's deliveries are
//! claimable again within seconds instead of minutes. Renewal and the attempt's record are both
//! fenced by claimer and attempt number: a worker that lost a lease (it ran out during a stall,
//! someone re-claimed the delivery) can neither renew nor finish it, and drops it unsent if it
//! had not started sending.

use chrono::Utc;
use partnerd_domain::ids::new_id;
use partnerd_domain::webhooks::{self as wh, Next};
use partnerd_services::Services;
use partnerd_services::webhooks::WebhookSender;
use partnerd_store::{AttemptNext, AttemptResult, Claim, ClaimedDelivery, DeliveryWaiter};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// How often to look for due deliveries when nothing woke the worker: new deliveries wake
    /// it at their commit, so this only bounds how late a retry coming due, another process's
    /// write on SQLite or a lost notification is noticed.
    pub poll: Duration,
    /// Deliveries this worker holds at once (claimed, waiting, sending or being recorded).
    pub capacity: u32,
    /// Requests in flight to one endpoint, so a slow receiver holds up only itself.
    pub per_endpoint: u32,
    /// Requests in flight in all: each holds a connection and its buffers, so this bounds the
    /// worker's memory and sockets however many endpoints have deliveries due (100 endpoints
    /// at 16 each took 45 MiB and 1,600 connections).
    pub in_flight: u32,
    /// Deliveries of one endpoint held at once; they wait here for a free request slot.
    pub queue_per_endpoint: u32,
    /// How long a claim holds without renewal: longer than one attempt can take (the 15 s
    /// timeout plus margin), so only a worker that stopped renewing loses its deliveries.
    pub lease: chrono::Duration,
    /// How often the worker extends the leases it holds (a third of the lease: two renewals
    /// may fail before a lease runs out).
    pub renew_every: chrono::Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(250),
            capacity: 2_048,
            per_endpoint: 16,
            in_flight: 256,
            queue_per_endpoint: 256,
            lease: chrono::Duration::seconds(30),
            renew_every: chrono::Duration::seconds(10),
        }
    }
}

struct Endpoint {
    /// Request slots.
    slots: Arc<Semaphore>,
    /// Deliveries held for this endpoint.
    held: u32,
}

struct Shared {
    services: Services,
    sender: Arc<dyn WebhookSender>,
    claimer: String,
    endpoints: Mutex<HashMap<String, Endpoint>>,
    /// Request slots of all endpoints together ([`DispatcherOptions::in_flight`]).
    requests: Arc<Semaphore>,
    held: AtomicU32,
    /// Deliveries this worker holds, with the attempt in flight: what it renews.
    leases: Mutex<HashMap<String, u32>>,
    /// Clock time of the last renewal.
    renewed_at: Mutex<Option<chrono::DateTime<Utc>>>,
    finished: Notify,
    /// The earliest retry this worker scheduled and has not looked for yet.
    next_retry: Mutex<Option<chrono::DateTime<Utc>>>,
    /// Finished attempts for the recorder, each with where to say whether it was recorded.
    record: mpsc::UnboundedSender<(AttemptResult, oneshot::Sender<Result<bool, String>>)>,
}

/// Attempts recorded in one write at most.
const RECORD_BATCH: usize = 512;

pub fn spawn_dispatcher(services: Services, sender: Arc<dyn WebhookSender>, opts: DispatcherOptions) -> JoinHandle<()> {
    let mut waiter = services.delivery_queue().wake().subscribe();
    let (record, results) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record_attempts(services.clone(), results));
    let shared = Arc::new(Shared {
        services,
        sender,
        claimer: new_id("worker"),
        endpoints: Mutex::new(HashMap::new()),
        requests: Arc::new(Semaphore::new(opts.in_flight.max(1) as usize)),
        held: AtomicU32::new(0),
        leases: Mutex::new(HashMap::new()),
        renewed_at: Mutex::new(None),
        finished: Notify::new(),
        next_retry: Mutex::new(None),
        record,
    });
    tokio::spawn(async move {
        // The recorder ends once the worker and its delivery tasks are gone (they hold the
        // channel's sender).
        drop(recorder);
        // Whether something says deliveries are due (a commit's wake, a retry coming due, a
        // claim that filled its room): the round claims at once. Otherwise (a poll) it asks
        // first whether any is due, a read, where SQLite's claim would take a writer job.
        let mut expect_work = true;
        loop {
            // Wakes from here on are for commits the claim below may not see.
            waiter.mark_seen();
            match round(&shared, &opts, expect_work).await {
                Ok(Round::Took) => expect_work = true,
                // A commit during the claim has woken the waiter already.
                Ok(Round::Idle { endpoints_full }) => {
                    expect_work = idle(&shared, &opts, &mut waiter, endpoints_full).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatcher could not claim deliveries; retrying");
                    tokio::time::sleep(opts.poll.clamp(Duration::from_millis(100), Duration::from_millis(500))).await;
                }
            }
        }
    })
}

/// What a round did.
enum Round {
    /// Took deliveries on and may have left some due, or waited for room: look again at once.
    Took,
    /// Nothing (more) to take: found nothing, or took less than its room from endpoints none of
    /// which it filled; `endpoints_full` when some endpoints were left out because this worker
    /// holds as many of theirs as it may (their deliveries may be due).
    Idle { endpoints_full: bool },
}

/// How soon a worker looks again for the deliveries of endpoints it had no room for.
const FULL_ENDPOINT_RECHECK: Duration = Duration::from_millis(10);

/// Waits for a commit that created deliveries, the poll, or the earliest retry this worker
/// scheduled, whichever comes first; and not long when endpoints were full (they drain fast).
/// `true` when deliveries are expected due: woken by a commit, a retry came due, or endpoints
/// were full (they drain fast).
async fn idle(shared: &Shared, opts: &DispatcherOptions, waiter: &mut DeliveryWaiter, endpoints_full: bool) -> bool {
    let mut wait = if endpoints_full { opts.poll.min(FULL_ENDPOINT_RECHECK) } else { opts.poll };
    let mut expect_work = endpoints_full;
    {
        let mut next = shared.next_retry.lock().expect("retry lock");
        if let Some(t) = *next {
            let now = shared.services.delivery_queue().now();
            match (t - now).to_std() {
                Ok(d) if d < wait => {
                    wait = d;
                    *next = None;
                    expect_work = true;
                }
                Ok(_) => {}
                // Due already.
                Err(_) => {
                    *next = None;
                    return true;
                }
            }
        }
    }
    waiter.wait(wait).await || expect_work
}

/// Records finished attempts, as many at once as are waiting. A batch that fails is tried
/// one by one, so one bad attempt does not hold up the others; each sender hears its own
/// outcome (and retries on an error).
async fn record_attempts(
    services: Services,
    mut results: mpsc::UnboundedReceiver<(AttemptResult, oneshot::Sender<Result<bool, String>>)>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while results.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let (attempts, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut batch).into_iter().unzip();
        let queue = services.delivery_queue();
        match queue.finish_all(attempts.clone()).await {
            Ok(recorded) => {
                for (reply, ok) in replies.into_iter().zip(recorded) {
                    let _ = reply.send(Ok(ok));
                }
            }
            Err(e) if attempts.len() > 1 => {
                tracing::debug!(error = %e, attempts = attempts.len(), "recording a batch of attempts failed; one by one");
                for (attempt, reply) in attempts.into_iter().zip(replies) {
                    let _ = reply.send(queue.finish(attempt).await.map_err(|e| e.to_string()));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// One claim; when `expect_work` is false, only if a read finds deliveries due.
async fn round(shared: &Arc<Shared>, opts: &DispatcherOptions, expect_work: bool) -> Result<Round, String> {
    let queue = shared.services.delivery_queue();
    // One reading of the clock for the renewal and the claim: read twice, a clock that moved
    // past the leases in between would let this claim take back deliveries this worker is
    // still sending (and send them twice).
    let now = queue.now();
    renew_if_due(shared, opts, now).await;
    let room = opts.capacity.saturating_sub(shared.held.load(Ordering::Acquire));
    if room == 0 {
        let _ = tokio::time::timeout(opts.poll, shared.finished.notified()).await;
        return Ok(Round::Took);
    }
    if !expect_work && !queue.any_due(now).await.map_err(|e| e.to_string())? {
        return Ok(Round::Idle { endpoints_full: false });
    }
    let full: Vec<String> = shared
        .endpoints
        .lock()
        .expect("endpoints lock")
        .iter()
        .filter(|(_, e)| e.held >= opts.queue_per_endpoint)
        .map(|(w, _)| w.clone())
        .collect();
    let endpoints_full = !full.is_empty();
    let claim = Claim {
        now,
        lease_until: now + opts.lease,
        claimer: shared.claimer.clone(),
        limit: room,
        per_webhook: opts.queue_per_endpoint,
        exclude_webhooks: full,
    };
    let claimed = queue.claim(&claim).await.map_err(|e| e.to_string())?;
    let taken = claimed.len();
    shared.leases.lock().expect("leases lock").extend(claimed.iter().map(|d| (d.id.clone(), d.attempt)));
    let mut filled = false;
    for d in claimed {
        shared.held.fetch_add(1, Ordering::AcqRel);
        let slots = {
            let mut endpoints = shared.endpoints.lock().expect("endpoints lock");
            let e = endpoints
                .entry(d.webhook_id.clone())
                .or_insert_with(|| Endpoint { slots: Arc::new(Semaphore::new(opts.per_endpoint as usize)), held: 0 });
            e.held += 1;
            filled |= e.held >= opts.queue_per_endpoint;
            e.slots.clone()
        };
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            let webhook = d.webhook_id.clone();
            let id = d.id.clone();
            deliver(&shared, d, slots).await;
            shared.leases.lock().expect("leases lock").remove(&id);
            {
                let mut endpoints = shared.endpoints.lock().expect("endpoints lock");
                if let Some(e) = endpoints.get_mut(&webhook) {
                    e.held -= 1;
                    if e.held == 0 {
                        endpoints.remove(&webhook);
                    }
                }
            }
            shared.held.fetch_sub(1, Ordering::AcqRel);
            shared.finished.notify_one();
        });
    }
    // Short of its room with no endpoint left out or filled up by this claim, the claim saw
    // every due delivery it could take (an endpoint it filled may have more beyond the window).
    let drained = !endpoints_full && !filled && (taken as u64) < u64::from(room);
    Ok(if taken == 0 || drained { Round::Idle { endpoints_full } } else { Round::Took })
}

/// Extends the leases held, once per `renew_every` of clock time (checked every round, so a
/// clock that jumps ahead renews before the next claim could take this worker's own rows), and
/// forgets those lost.
async fn renew_if_due(shared: &Shared, opts: &DispatcherOptions, now: chrono::DateTime<Utc>) {
    let queue = shared.services.delivery_queue();
    {
        let mut last = shared.renewed_at.lock().expect("renewal lock");
        if last.is_some_and(|t| now < t + opts.renew_every && now >= t) {
            return;
        }
        *last = Some(now);
    }
    let held: Vec<(String, u32)> =
        shared.leases.lock().expect("leases lock").iter().map(|(id, a)| (id.clone(), *a)).collect();
    if held.is_empty() {
        return;
    }
    match queue.renew(&shared.claimer, &held, now + opts.lease).await {
        Ok(kept) => {
            let kept: std::collections::HashSet<String> = kept.into_iter().collect();
            let mut leases = shared.leases.lock().expect("leases lock");
            for (id, attempt) in held {
                // Finished meanwhile (removed), or lost: either way this worker no longer holds it.
                if !kept.contains(&id) && leases.get(&id) == Some(&attempt) {
                    tracing::debug!(delivery = %id, "webhook delivery lease no longer held");
                    leases.remove(&id);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not renew webhook delivery leases; retrying"),
    }
}

async fn deliver(shared: &Shared, d: ClaimedDelivery, slots: Arc<Semaphore>) {
    let queue = shared.services.delivery_queue();
    let body = wh::payload(&d.event_id, &d.event_type, d.occurred_at, &d.data);
    let out = {
        // The request slots are held for the request only, not while the attempt is recorded;
        // always the endpoint's first, then the shared one, so a busy endpoint's queue waits
        // without holding a slot others could use.
        let _slot = slots.acquire().await.expect("endpoint slots are never closed");
        let _request = shared.requests.acquire().await.expect("request slots are never closed");
        if !shared.leases.lock().expect("leases lock").contains_key(&d.id) {
            // The lease was lost while this delivery waited: its new holder sends it.
            return;
        }
        // The signature timestamp is wall-clock time: receivers compare it with theirs.
        let headers = wh::signed_headers(&d.secret, &d.event_id, Utc::now().timestamp(), body.as_bytes());
        shared.sender.send(&d.url, &headers, body.as_bytes()).await
    };
    let now = queue.now();
    let retry_after = out.retry_after.as_deref().and_then(|v| wh::parse_retry_after(v, now));
    let next = match wh::next_step(
        out.status,
        retry_after,
        d.attempt as usize,
        queue.schedule(),
        now,
        rand::random::<f64>(),
    ) {
        Next::Delivered => AttemptNext::Delivered,
        Next::RetryAt(t) => AttemptNext::RetryAt(t),
        Next::Failed => AttemptNext::Failed,
        Next::Disable => AttemptNext::DisableWebhook,
    };
    if let AttemptNext::RetryAt(t) = next {
        let mut earliest = shared.next_retry.lock().expect("retry lock");
        if earliest.is_none_or(|e| t < e) {
            *earliest = Some(t);
        }
    }
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
        let (reply, outcome) = oneshot::channel();
        if shared.record.send((result.clone(), reply)).is_err() {
            return;
        }
        match outcome.await {
            Ok(Ok(true)) => return,
            Ok(Ok(false)) => {
                tracing::warn!(delivery = %d.id, "attempt finished after its claim was taken over");
                return;
            }
            Ok(Err(e)) => tracing::warn!(delivery = %d.id, error = %e, "could not record a webhook attempt"),
            Err(_) => tracing::warn!(delivery = %d.id, "the attempt recorder stopped"),
        }
    }
}
