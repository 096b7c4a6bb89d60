//! Webhooks, fan-out and deliveries on SQLite: the declarations and shared SQL are
//! `partnerd_store::schema::webhooks`. Claims run on the single writer, so one process never
//! hands a delivery out twice; across processes SQLite's write lock serialises claims.

use crate::kit::DIALECT;
use crate::kit::{
    execute, insert, prepare, query_all, query_all_prepared, query_one, query_opt, query_prepared, run, run_prepared,
};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Query, Table, count};
use partnerd_store::schema::webhooks as sql;
use partnerd_store::*;
use rusqlite::Connection;

static FAN_OUT: Query = partnerd_store::sql!(
    "INSERT INTO webhook_deliveries (id, marketplace_id, partner_id, webhook_id, event_id, event_type, status,
                                     attempts, next_attempt_at, created_at)
     SELECT 'dlv_' || lower(hex(randomblob(10))), s.marketplace_id, s.partner_id, s.webhook_id, $1, $2, 'pending',
            0, $3, $3
     FROM webhook_subscriptions s
     WHERE s.marketplace_id = $4 AND s.event_type = $2 AND s.partner_id IN ($5, $6)"
);

/// Creates the deliveries of one event: one per active webhook of its audience subscribed to
/// its type, due when the event occurred. Runs inside the event's transaction.
pub(crate) fn fan_out(
    c: &Connection,
    marketplace_id: &str,
    event_id: &str,
    event_type: &str,
    occurred_at: DateTime<Utc>,
    partner_id: &str,
    related_partner_id: Option<&str>,
) -> StoreResult<()> {
    let args = args![event_id, event_type, occurred_at, marketplace_id, partner_id, related_partner_id];
    if run(c, &FAN_OUT, &args)? > 0 {
        deliveries_created();
    }
    Ok(())
}

thread_local! {
    /// Set on the writer thread when a job of the batch in progress created deliveries.
    static CREATED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Notes that the transaction in progress on this (the writer) thread created deliveries: the
/// writer fires the store's wake after it commits (a rolled-back job makes a spurious wake
/// at worst, which only costs a look).
pub(crate) fn deliveries_created() {
    CREATED.with(|c| c.set(true));
}

/// Whether the batch just ended created deliveries; clears the note.
pub(crate) fn take_deliveries_created() -> bool {
    CREATED.with(|c| c.replace(false))
}

/// Candidates looked at per claim: enough to share among endpoints, never the whole backlog.
fn candidate_window(claim: &Claim) -> i64 {
    (i64::from(claim.limit) * 4).min(4_096)
}

static SUBSCRIBE: Query = partnerd_store::sql!(
    "INSERT OR IGNORE INTO webhook_subscriptions (webhook_id, marketplace_id, partner_id, event_type) VALUES ($1, $2, $3, $4)"
);

/// Subscriptions exist only for active webhooks, so fan-out reads one table (a join here made
/// SQLite re-plan the statement on every transaction).
fn write_subscriptions(c: &Connection, w: &WebhookRecord) -> StoreResult<()> {
    run(c, &sql::DELETE_SUBSCRIPTIONS, &args![w.id])?;
    if w.active {
        let mut subscribe = prepare(c, &SUBSCRIBE)?;
        for e in &w.events {
            run_prepared(&mut subscribe, &args![w.id, w.marketplace_id, w.partner_id, e])?;
        }
    }
    Ok(())
}

fn insert_attempt(c: &Connection, delivery_id: &str, a: &AttemptRecord, claimer: &str) -> StoreResult<()> {
    let args =
        args![delivery_id, a.attempt, a.attempted_at, a.status_code, a.latency_ms, a.error, a.next_retry_at, claimer];
    execute(c, sql::INSERT_ATTEMPT.sqlite(), &args, "attempt recorded already")?;
    Ok(())
}

static CANDIDATES: Query = partnerd_store::sql!(
    "SELECT d.id, d.webhook_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
     WHERE d.status = 'pending' AND d.next_attempt_at <= $1
       AND (d.claimed_until IS NULL OR d.claimed_until < $1)
       AND w.active = 1 AND w.deleted_at IS NULL
       AND d.webhook_id NOT IN (SELECT value FROM json_each($2))
     ORDER BY d.next_attempt_at, d.id LIMIT $3"
);

static MARK_CLAIMED: Query =
    partnerd_store::sql!("UPDATE webhook_deliveries SET claimed_by = $2, claimed_until = $3 WHERE id = $1");

static CLAIMED: Query = partnerd_store::sql!(
    "SELECT {} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
     WHERE d.id = $1",
    *sql::CLAIMED_COLUMNS
);

static FINISH: Query = partnerd_store::sql!(
    "UPDATE webhook_deliveries
     SET status = $4, attempts = $3, next_attempt_at = $5, claimed_by = NULL, claimed_until = NULL,
         last_status_code = $6, last_error = $7, completed_at = $8
     WHERE id = $1 AND claimed_by = $2 AND attempts = $3 - 1 AND status = 'pending'"
);

static WEBHOOK_OF_DELIVERY: Query = partnerd_store::sql!("SELECT webhook_id FROM webhook_deliveries WHERE id = $1");

static RELEASE: Query = partnerd_store::sql!(
    "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2"
);

static ATTEMPTS: Query = partnerd_store::sql!(
    "SELECT {} FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
    *sql::ATTEMPT_COLUMNS
);

/// Records one attempt on the writer: the fenced move, the attempt row and, after 410 Gone,
/// the webhook's deactivation. `false` (nothing written) when the claim is no longer held.
fn finish(c: &Connection, r: &AttemptResult) -> StoreResult<bool> {
    let (status, next) = match &r.next {
        AttemptNext::Delivered => ("delivered", None),
        AttemptNext::RetryAt(t) => ("pending", Some(*t)),
        AttemptNext::Failed | AttemptNext::DisableWebhook => ("failed", None),
    };
    let completed = (status != "pending").then_some(r.attempted_at);
    let args = args![r.delivery_id, r.claimer, r.attempt, status, next, r.status_code, r.error, completed];
    if run(c, &FINISH, &args)? == 0 {
        return Ok(false);
    }
    let record = AttemptRecord {
        attempt: r.attempt,
        attempted_at: r.attempted_at,
        status_code: r.status_code,
        latency_ms: r.latency_ms,
        error: r.error.clone(),
        next_retry_at: next,
    };
    insert_attempt(c, &r.delivery_id, &record, &r.claimer)?;
    if r.next == AttemptNext::DisableWebhook {
        let (webhook,): (String,) = query_one(c, WEBHOOK_OF_DELIVERY.sqlite(), &args![r.delivery_id])?;
        run(c, &sql::DISABLE_WEBHOOK, &args![webhook, r.attempted_at])?;
        run(c, &sql::DELETE_SUBSCRIPTIONS, &args![webhook])?;
        run(c, &sql::CANCEL_PENDING, &args![webhook, r.attempted_at])?;
    }
    Ok(true)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    fn delivery_wake(&self) -> DeliveryWake {
        self.wake.clone()
    }

    async fn create_webhook(&self, w: WebhookRecord, max_per_partner: u32, events: Vec<NewEvent>) -> StoreResult<bool> {
        // One writer job: the count and the insert see no other write in between.
        self.writer
            .write(move |c| {
                let (n,): (i64,) = query_one(c, sql::COUNT_WEBHOOKS.sqlite(), &args![w.marketplace_id, w.partner_id])?;
                if n >= i64::from(max_per_partner) {
                    return Ok(false);
                }
                insert(c, &w, "webhook id taken")?;
                write_subscriptions(c, &w)?;
                append_events(c, &w.marketplace_id, w.created_at, &events)?;
                Ok(true)
            })
            .await
    }

    async fn rotate_webhook_secret(&self, r: SecretRotation, events: Vec<NewEvent>) -> StoreResult<WebhookRecord> {
        self.writer
            .write(move |c| {
                let key = args![r.marketplace_id, r.partner_id, r.webhook_id, r.expected, r.secret, r.at];
                if run(c, &sql::ROTATE_SECRET, &key)? == 1 {
                    append_events(c, &r.marketplace_id, r.at, &events)?;
                }
                query_opt(c, sql::GET_WEBHOOK.sqlite(), &args![r.marketplace_id, r.partner_id, r.webhook_id])?
                    .ok_or(StoreError::NotFound("webhook"))
            })
            .await
    }

    async fn stored_secrets(&self) -> StoreResult<Vec<StoredSecret>> {
        self.readers
            .read(move |c| {
                let rows: Vec<(String, String, bool)> = query_all(c, sql::STORED_SECRETS.sqlite(), &args![])?;
                Ok(rows
                    .into_iter()
                    .map(|(webhook_id, secret, encrypted)| StoredSecret { webhook_id, secret, encrypted })
                    .collect())
            })
            .await
    }

    async fn replace_secrets(&self, changes: Vec<SecretChange>) -> StoreResult<u64> {
        self.writer
            .write(move |c| {
                let (mut replace, mut mark) = (prepare(c, &sql::REPLACE_SECRET)?, prepare(c, &sql::MARK_ENCRYPTED)?);
                let mut written = 0u64;
                for ch in &changes {
                    if run_prepared(&mut replace, &args![ch.webhook_id, ch.from, ch.to])? == 1 {
                        run_prepared(&mut mark, &args![ch.webhook_id])?;
                        written += 1;
                    }
                }
                Ok(written)
            })
            .await
    }

    async fn list_webhooks(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::LIST_WEBHOOKS.sqlite(), &args![m, p])).await
    }

    async fn get_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_WEBHOOK.sqlite(), &args![m, p, id])).await
    }

    async fn update_webhook(&self, w: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                if execute(c, sql::UPDATE_WEBHOOK.sqlite(), &w.update_values(), "")? == 0 {
                    return Err(StoreError::NotFound("webhook"));
                }
                write_subscriptions(c, &w)?;
                if !w.active {
                    run(c, &sql::CANCEL_PENDING, &args![w.id, w.updated_at])?;
                }
                append_events(c, &w.marketplace_id, w.updated_at, &events)
            })
            .await
    }

    async fn delete_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
        when: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                if run(c, &sql::DELETE_WEBHOOK, &args![m, p, id, when])? == 0 {
                    return Err(StoreError::NotFound("webhook"));
                }
                run(c, &sql::DELETE_SUBSCRIPTIONS, &args![id])?;
                run(c, &sql::CANCEL_PENDING, &args![id, when])?;
                Ok(())
            })
            .await
    }

    async fn deliveries_due(&self, now: DateTime<Utc>) -> StoreResult<bool> {
        self.readers
            .read(move |c| query_one::<(bool,)>(c, sql::DELIVERIES_DUE.sqlite(), &args![now]).map(|(due,)| due))
            .await
    }

    async fn claim_deliveries(&self, claim: &Claim) -> StoreResult<Vec<ClaimedDelivery>> {
        let claim = claim.clone();
        self.writer
            .write(move |c| {
                let excluded =
                    serde_json::to_string(&claim.exclude_webhooks).map_err(|e| StoreError::Backend(e.to_string()))?;
                // Choose by id and webhook only; payloads are read for the chosen rows alone.
                let candidates: Vec<(String, String)> =
                    query_all(c, CANDIDATES.sqlite(), &args![claim.now, excluded, candidate_window(&claim)])?;
                let chosen = fair_share(candidates, |(_, w)| w.as_str(), claim.per_webhook, claim.limit);
                let (mut mark, mut details) = (prepare(c, &MARK_CLAIMED)?, prepare(c, &CLAIMED)?);
                let mut claimed = Vec::with_capacity(chosen.len());
                for (id, _) in &chosen {
                    run_prepared(&mut mark, &args![id, claim.claimer, claim.lease_until])?;
                    claimed.extend(query_prepared(&mut details, &args![id])?);
                }
                Ok(claimed)
            })
            .await
    }

    async fn finish_attempt(&self, r: AttemptResult) -> StoreResult<bool> {
        self.writer.write(move |c| finish(c, &r)).await
    }

    async fn finish_attempts(&self, results: Vec<AttemptResult>) -> StoreResult<Vec<bool>> {
        // One writer job: the batch commits together (one savepoint, one fsync).
        self.writer.write(move |c| results.iter().map(|r| finish(c, r)).collect()).await
    }

    async fn release_deliveries(&self, ids: &[String], claimer: &str) -> StoreResult<()> {
        let (ids, claimer) = (ids.to_vec(), claimer.to_owned());
        self.writer
            .write(move |c| {
                let mut release = prepare(c, &RELEASE)?;
                for id in &ids {
                    run_prepared(&mut release, &args![id, claimer])?;
                }
                Ok(())
            })
            .await
    }

    async fn renew_claims(
        &self,
        claimer: &str,
        held: &[(String, u32)],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<String>> {
        let (held, claimer) = (held.to_vec(), claimer.to_owned());
        self.writer
            .write(move |c| {
                let mut renew = prepare(c, &sql::RENEW_CLAIM)?;
                let mut kept = Vec::with_capacity(held.len());
                for (id, attempt) in held {
                    if run_prepared(&mut renew, &args![id, claimer, attempt, until])? == 1 {
                        kept.push(id);
                    }
                }
                Ok(kept)
            })
            .await
    }

    async fn list_deliveries(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<DeliveryRecord>> {
        let (page_sql, f) = sql::delivery_page(DIALECT, marketplace_id, partner_id, webhook_id, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, sql::DELIVERY_COUNT.sqlite(), f.condition_args())?;
                let (mut items, next): (Vec<DeliveryRecord>, _) = f.finish(query_all(c, &page_sql, f.args())?);
                let mut attempts = prepare(c, &ATTEMPTS)?;
                for d in &mut items {
                    d.log = query_all_prepared(&mut attempts, &args![d.id])?;
                }
                Ok(Paged { items, total: count("deliveries", total)?, next })
            })
            .await
    }

    async fn redeliver(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        new_id: &str,
        when: DateTime<Utc>,
    ) -> StoreResult<DeliveryRecord> {
        let (m, p, w, d, new_id) = (
            marketplace_id.to_owned(),
            partner_id.to_owned(),
            webhook_id.to_owned(),
            delivery_id.to_owned(),
            new_id.to_owned(),
        );
        self.writer
            .write(move |c| {
                let original: DeliveryRecord = query_opt(c, sql::REDELIVERABLE.sqlite(), &args![m, p, w, d])?
                    .ok_or(StoreError::NotFound("delivery"))?;
                let again = DeliveryRecord {
                    id: new_id,
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: Some(when),
                    last_status_code: None,
                    last_error: None,
                    redelivery_of: Some(original.id.clone()),
                    created_at: when,
                    completed_at: None,
                    log: Vec::new(),
                    ..original
                };
                insert(c, &again, "delivery id taken")?;
                deliveries_created();
                Ok(again)
            })
            .await
    }

    async fn record_test_delivery(&self, d: DeliveryRecord) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &d, "delivery id taken")?;
                for a in &d.log {
                    insert_attempt(c, &d.id, a, "test")?;
                }
                Ok(())
            })
            .await
    }
}
