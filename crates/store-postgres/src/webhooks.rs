//! Webhooks, fan-out and deliveries on PostgreSQL: the declarations and shared SQL are
//! `partnerd_store::schema::webhooks`. Several processes claim deliveries at once: each claim
//! locks its rows and skips rows others hold (`FOR UPDATE SKIP LOCKED`), and every attempt is
//! fenced by claimer and attempt number.

use crate::kit::DIALECT;
use crate::kit::{execute, insert, query_all, query_one, query_opt};
use crate::{Fanned, PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Decode, Query, RowRead, Table, count, read_column};
use partnerd_store::schema::webhooks as sql;
use partnerd_store::{
    AttemptNext, AttemptRecord, AttemptResult, Claim, ClaimedDelivery, DeliveryRecord, SecretChange, SecretRotation,
    StoreError, StoreResult, StoredSecret, WebhookRecord, WebhookStore, args,
};
use partnerd_store::{Paged, Window};

/// The channel every process's `LISTEN` connection hears (see `crate::listen`).
pub(crate) const CHANNEL: &str = "partnerd_deliveries";

/// The deliveries of one event, one per subscribed webhook of its audience.
static FAN_OUT: Query = partnerd_store::sql!(
    "INSERT INTO webhook_deliveries (id, marketplace_id, partner_id, webhook_id, event_id, event_type, status,
                                     attempts, next_attempt_at, created_at)
     SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), s.marketplace_id, s.partner_id, s.webhook_id,
            $1, $2, 'pending', 0, $3, $3
     FROM webhook_subscriptions s
     WHERE s.marketplace_id = $4 AND s.event_type = $2 AND (s.partner_id = $5 OR s.partner_id = $6)"
);

pub(crate) async fn fan_out(
    c: &impl GenericClient,
    marketplace_id: &str,
    event_id: &str,
    event_type: &str,
    occurred_at: DateTime<Utc>,
    partner_id: &str,
    related_partner_id: Option<&str>,
) -> StoreResult<Fanned> {
    let args = args![event_id, event_type, occurred_at, marketplace_id, partner_id, related_partner_id];
    Ok(Fanned::from(execute(c, FAN_OUT.postgres(), &args, "").await? > 0))
}

static SUBSCRIBE: Query = partnerd_store::sql!(
    "INSERT INTO webhook_subscriptions (webhook_id, marketplace_id, partner_id, event_type)
     SELECT $1, $2, $3, e FROM unnest($4::text[]) AS e ON CONFLICT DO NOTHING"
);

/// Subscriptions exist only for active webhooks, so fan-out reads one table.
async fn write_subscriptions(c: &impl GenericClient, w: &WebhookRecord) -> StoreResult<()> {
    execute(c, sql::DELETE_SUBSCRIPTIONS.postgres(), &args![w.id], "").await?;
    if w.active {
        execute(c, SUBSCRIBE.postgres(), &args![w.id, w.marketplace_id, w.partner_id, w.events], "").await?;
    }
    Ok(())
}

async fn cancel_pending(c: &impl GenericClient, webhook_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    execute(c, sql::CANCEL_PENDING.postgres(), &args![webhook_id, at], "").await?;
    Ok(())
}

async fn insert_attempt(
    c: &impl GenericClient,
    delivery_id: &str,
    a: &AttemptRecord,
    claimer: &str,
) -> StoreResult<()> {
    let args =
        args![delivery_id, a.attempt, a.attempted_at, a.status_code, a.latency_ms, a.error, a.next_retry_at, claimer];
    execute(c, sql::INSERT_ATTEMPT.postgres(), &args, "attempt recorded already").await?;
    Ok(())
}

/// A claim is one statement (one round trip): `candidates` (one of the two below) reads due
/// rows others do not hold, at most `$3` per webhook; of those the `$4` oldest are locked
/// alone, skipping rows another claimer holds (`FOR UPDATE SKIP LOCKED`; a row another claimer
/// took and committed meanwhile fails the rechecked condition), marked claimed (`$5` claimer,
/// `$6` lease) and returned with their events. Locking only the chosen rows keeps a claim from
/// writing a lock into every candidate; ids go through arrays so each step is an index lookup,
/// never a scan of the table.
///
/// Statements that look deliveries up by id write their status and due-time rechecks as
/// `(…) IS TRUE`, which matches no index and implies no partial index's `status =
/// 'pending'`: the queue's statistics are stale within seconds (a burst of 20,000 is planned
/// as 20 rows), and written plainly the rechecks let the planner scan a pending index it
/// believed tiny instead of looking the ids up by key (60,000 buffers for 256 rows).
fn claim_sql(candidates: &str) -> String {
    format!(
        "WITH RECURSIVE {candidates},
         chosen AS (
             SELECT d.id FROM webhook_deliveries d
             WHERE d.id = ANY(ARRAY(SELECT id FROM candidates ORDER BY next_attempt_at, id LIMIT $4))
               AND (d.status = 'pending' AND d.next_attempt_at <= $1) IS TRUE
               AND (d.claimed_until IS NULL OR d.claimed_until < $1)
             FOR UPDATE SKIP LOCKED),
         claimed AS (
             UPDATE webhook_deliveries d SET claimed_by = $5, claimed_until = $6
             WHERE d.id = ANY(ARRAY(SELECT id FROM chosen))
             RETURNING d.id, d.webhook_id, d.event_id, d.event_type, d.attempts, d.next_attempt_at)
         SELECT {} FROM claimed d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
         ORDER BY d.next_attempt_at, d.id",
        *sql::CLAIMED_COLUMNS
    )
}

/// The claim of a worker that may send to every endpoint: a window of the oldest due rows
/// (`$2` long, in the order of `webhook_deliveries_due_order`, so only the window is read),
/// at most `$3` of each live webhook. The window is read from the deliveries alone and each
/// of its distinct webhooks is looked up once: joined row by row, a burst planned from stale
/// statistics (about 20 rows where 15,000 were due) probed the webhooks' key once per due row
/// (43,000 buffers a claim at 1M rows; 7,000 for the whole claim now). A row of a webhook no
/// longer live takes a place in the window and is left: deactivation and deletion cancel
/// their pending rows, so only the few a racing fan-out leaves behind can.
static CLAIM_OLDEST: Query = Query::new(|| {
    claim_sql(
        "due AS MATERIALIZED (
             SELECT d.id, d.webhook_id, d.next_attempt_at FROM webhook_deliveries d
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1
               AND (d.claimed_until IS NULL OR d.claimed_until < $1)
             ORDER BY d.next_attempt_at, d.id
             LIMIT $2),
         live AS MATERIALIZED (
             SELECT w.id FROM webhooks w
             WHERE w.id = ANY(ARRAY(SELECT DISTINCT webhook_id FROM due)) AND w.active AND w.deleted_at IS NULL),
         candidates AS (
             SELECT id, next_attempt_at FROM (
                 SELECT d.id, d.next_attempt_at,
                        row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) AS nth
                 FROM due d WHERE d.webhook_id = ANY(ARRAY(SELECT id FROM live))) ranked
             WHERE nth <= $3)",
    )
});

/// The claim of a worker that leaves endpoints out (`$2`: those it holds as many deliveries of
/// as it may). A window of the oldest rows would walk past a left-out endpoint's whole backlog
/// to find anything else, so `endpoints` finds the webhooks with pending rows by a skip scan
/// of `webhook_deliveries_pending_by_webhook` (one probe per webhook), and of each that is live
/// and not left out `candidates` reads its `$3` oldest due rows.
static CLAIM_LEAVING_OUT: Query = Query::new(|| {
    claim_sql(
        "endpoints AS (
             (SELECT d.webhook_id FROM webhook_deliveries d WHERE d.status = 'pending' ORDER BY d.webhook_id LIMIT 1)
             UNION ALL
             SELECT (SELECT d.webhook_id FROM webhook_deliveries d
                     WHERE d.status = 'pending' AND d.webhook_id > e.webhook_id
                     ORDER BY d.webhook_id LIMIT 1)
             FROM endpoints e WHERE e.webhook_id IS NOT NULL),
         candidates AS (
             SELECT c.id, c.next_attempt_at
             FROM endpoints e JOIN webhooks w ON w.id = e.webhook_id
             CROSS JOIN LATERAL (
                 SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.webhook_id = e.webhook_id AND d.status = 'pending' AND d.next_attempt_at <= $1
                   AND (d.claimed_until IS NULL OR d.claimed_until < $1)
                 ORDER BY d.next_attempt_at, d.id
                 LIMIT $3) c
             WHERE w.active AND w.deleted_at IS NULL AND NOT (e.webhook_id = ANY($2)))",
    )
});

/// One statement, so one round trip and atomic without BEGIN/COMMIT: the fenced update and the
/// attempt row land together or not at all.
static FINISH: Query = partnerd_store::sql!(
    "WITH moved AS (
         UPDATE webhook_deliveries
         SET status = $4, attempts = $3, next_attempt_at = $5, claimed_by = NULL, claimed_until = NULL,
             last_status_code = $6, last_error = $7, completed_at = $8
         WHERE id = $1 AND claimed_by = $2 AND attempts = $3 - 1 AND status = 'pending'
         RETURNING id, webhook_id)
     INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, next_retry_at, claimed_by)
     SELECT id, $3, $9, $6, $10, $7, $5, $2 FROM moved
     RETURNING (SELECT webhook_id FROM moved)"
);

/// [`FINISH`] for many attempts in one statement (one round trip, one commit), each row fenced
/// on its own. The arrays are text, paired by position: `$1` delivery, `$2` claimer, `$3`
/// attempt, `$4` status, `$5` next attempt, `$6` status code, `$7` error, `$8` completed,
/// `$9` attempted, `$10` latency; a nullable value is `""` for NULL and `"v…"` otherwise.
/// Answers the deliveries recorded. The status recheck is written as in [`claim_sql`].
static FINISH_MANY: Query = partnerd_store::sql!(
    "WITH r AS (
         SELECT id, claimer, attempt::int AS attempt, status,
                CASE WHEN next_at = '' THEN NULL ELSE substr(next_at, 2)::timestamptz END AS next_at,
                CASE WHEN code = '' THEN NULL ELSE substr(code, 2)::int END AS code,
                CASE WHEN error = '' THEN NULL ELSE substr(error, 2) END AS error,
                CASE WHEN completed = '' THEN NULL ELSE substr(completed, 2)::timestamptz END AS completed,
                attempted::timestamptz AS attempted, latency::bigint AS latency
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[])
              AS u(id, claimer, attempt, status, next_at, code, error, completed, attempted, latency)),
     moved AS (
         UPDATE webhook_deliveries d
         SET status = r.status, attempts = r.attempt, next_attempt_at = r.next_at, claimed_by = NULL,
             claimed_until = NULL, last_status_code = r.code, last_error = r.error, completed_at = r.completed
         FROM r
         WHERE d.id = ANY($1::text[]) AND d.id = r.id AND d.claimed_by = r.claimer AND d.attempts = r.attempt - 1
           AND (d.status = 'pending') IS TRUE
         RETURNING d.id, r.attempt, r.attempted, r.code, r.latency, r.error, r.next_at, r.claimer)
     INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, next_retry_at, claimed_by)
     SELECT * FROM moved
     RETURNING delivery_id"
);

/// A nullable value for [`FINISH_MANY`]'s text arrays.
fn opt_text(v: Option<String>) -> String {
    v.map(|v| format!("v{v}")).unwrap_or_default()
}

/// A time for the text arrays, at PostgreSQL's precision (microseconds, truncated as the
/// binary encoding truncates).
fn time_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What an attempt moves its delivery to: the status and the next attempt's time.
fn outcome(r: &AttemptResult) -> (&'static str, Option<DateTime<Utc>>) {
    match &r.next {
        AttemptNext::Delivered => ("delivered", None),
        AttemptNext::RetryAt(t) => ("pending", Some(*t)),
        AttemptNext::Failed | AttemptNext::DisableWebhook => ("failed", None),
    }
}

/// One statement for all of a worker's leases: `$1` deliveries and `$3` their attempts in
/// flight (as text, paired by position), `$2` claimer, `$4` until.
static RENEW: Query = partnerd_store::sql!(
    "UPDATE webhook_deliveries d SET claimed_until = $4
     FROM unnest($1::text[], $3::text[]) AS h(id, attempt)
     WHERE d.id = ANY($1::text[]) AND d.id = h.id AND d.claimed_by = $2 AND d.attempts = h.attempt::int - 1
       AND (d.status = 'pending') IS TRUE
     RETURNING d.id"
);

/// `$1` marketplace, `$2` partner: held until the transaction ends.
static PARTNER_WEBHOOKS_LOCK: Query =
    partnerd_store::sql!("SELECT pg_advisory_xact_lock(hashtextextended('webhooks/' || $1 || '/' || $2, 0))");

static RELEASE: Query = partnerd_store::sql!(
    "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE id = ANY($1) AND claimed_by = $2"
);

/// Every listed delivery's attempts in one round trip.
static ATTEMPTS: Query = partnerd_store::sql!(
    "SELECT delivery_id, {} FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt",
    *sql::ATTEMPT_COLUMNS
);

/// An attempt with the delivery it belongs to.
struct DeliveryAttempt(String, AttemptRecord);

impl Decode for DeliveryAttempt {
    fn decode<R: RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Self> {
        let delivery = read_column(row, *at, "delivery_id")?;
        *at += 1;
        Ok(Self(delivery, AttemptRecord::decode(row, at)?))
    }
}

#[async_trait]
impl WebhookStore for PostgresStore {
    fn delivery_wake(&self) -> partnerd_store::DeliveryWake {
        self.wake.clone()
    }

    async fn create_webhook(&self, w: WebhookRecord, max_per_partner: u32, events: Vec<NewEvent>) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // Creates for one partner queue here until the holder commits, so each counts the
        // others' rows: the limit holds under concurrency.
        execute(&tx, PARTNER_WEBHOOKS_LOCK.postgres(), &args![w.marketplace_id, w.partner_id], "").await?;
        let (n,): (i64,) =
            query_one(&tx, sql::COUNT_WEBHOOKS.postgres(), &args![w.marketplace_id, w.partner_id]).await?;
        if n >= i64::from(max_per_partner) {
            return Ok(false);
        }
        insert(&tx, &w, "webhook id taken").await?;
        write_subscriptions(&tx, &w).await?;
        let fanned = append_events(&tx, &w.marketplace_id, w.created_at, &events).await?;
        self.commit(tx, fanned).await?;
        Ok(true)
    }

    async fn rotate_webhook_secret(&self, r: SecretRotation, events: Vec<NewEvent>) -> StoreResult<WebhookRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // A concurrent rotation waits for this row's lock, then finds the secret changed and
        // writes nothing: it answers the winner's secret below.
        let key = args![r.marketplace_id, r.partner_id, r.webhook_id, r.expected, r.secret, r.at];
        let mut fanned = Fanned::default();
        if execute(&tx, sql::ROTATE_SECRET.postgres(), &key, "").await? == 1 {
            fanned = append_events(&tx, &r.marketplace_id, r.at, &events).await?;
        }
        let now: WebhookRecord =
            query_opt(&tx, sql::GET_WEBHOOK.postgres(), &args![r.marketplace_id, r.partner_id, r.webhook_id])
                .await?
                .ok_or(StoreError::NotFound("webhook"))?;
        self.commit(tx, fanned).await?;
        Ok(now)
    }

    async fn stored_secrets(&self) -> StoreResult<Vec<StoredSecret>> {
        let c = self.client().await?;
        let rows: Vec<(String, String, bool)> = query_all(&c, sql::STORED_SECRETS.postgres(), &args![]).await?;
        Ok(rows
            .into_iter()
            .map(|(webhook_id, secret, encrypted)| StoredSecret { webhook_id, secret, encrypted })
            .collect())
    }

    async fn replace_secrets(&self, changes: Vec<SecretChange>) -> StoreResult<u64> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut written = 0u64;
        for ch in &changes {
            if execute(&tx, sql::REPLACE_SECRET.postgres(), &args![ch.webhook_id, ch.from, ch.to], "").await? == 1 {
                execute(&tx, sql::MARK_ENCRYPTED.postgres(), &args![ch.webhook_id], "").await?;
                written += 1;
            }
        }
        tx.commit().await.map_err(pg)?;
        Ok(written)
    }

    async fn list_webhooks(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::LIST_WEBHOOKS.postgres(), &args![marketplace_id, partner_id]).await
    }

    async fn get_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_WEBHOOK.postgres(), &args![marketplace_id, partner_id, id]).await
    }

    async fn update_webhook(&self, w: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if execute(&tx, sql::UPDATE_WEBHOOK.postgres(), &w.update_values(), "").await? == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        write_subscriptions(&tx, &w).await?;
        if !w.active {
            cancel_pending(&tx, &w.id, w.updated_at).await?;
        }
        let fanned = append_events(&tx, &w.marketplace_id, w.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn delete_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if execute(&tx, sql::DELETE_WEBHOOK.postgres(), &args![marketplace_id, partner_id, id, at], "").await? == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        execute(&tx, sql::DELETE_SUBSCRIPTIONS.postgres(), &args![id], "").await?;
        cancel_pending(&tx, id, at).await?;
        tx.commit().await.map_err(pg)
    }

    async fn deliveries_due(&self, now: DateTime<Utc>) -> StoreResult<bool> {
        let c = self.client().await?;
        let (due,): (bool,) = query_one(&c, sql::DELIVERIES_DUE.postgres(), &args![now]).await?;
        Ok(due)
    }

    async fn claim_deliveries(&self, claim: &Claim) -> StoreResult<Vec<ClaimedDelivery>> {
        let c = self.client().await?;
        let (now, per_webhook, limit, claimer, lease) =
            (claim.now, claim.per_webhook, claim.limit, &claim.claimer, claim.lease_until);
        if claim.exclude_webhooks.is_empty() {
            let window = (i64::from(limit) * 4).min(4_096);
            let args = args![now, window, per_webhook, limit, claimer, lease];
            query_all(&c, CLAIM_OLDEST.postgres(), &args).await
        } else {
            let args = args![now, claim.exclude_webhooks, per_webhook, limit, claimer, lease];
            query_all(&c, CLAIM_LEAVING_OUT.postgres(), &args).await
        }
    }

    async fn finish_attempt(&self, r: AttemptResult) -> StoreResult<bool> {
        let c = self.client().await?;
        let (status, next) = outcome(&r);
        let completed = (status != "pending").then_some(r.attempted_at);
        let args = args![
            r.delivery_id,
            r.claimer,
            r.attempt,
            status,
            next,
            r.status_code,
            r.error,
            completed,
            r.attempted_at,
            r.latency_ms,
        ];
        if r.next != AttemptNext::DisableWebhook {
            // The common case is one statement, so one round trip.
            return Ok(query_opt::<(String,)>(&c, FINISH.postgres(), &args).await?.is_some());
        }
        // 410 Gone: the attempt and the webhook's deactivation commit together, so a reader
        // that sees the attempt sees the webhook inactive too.
        drop(c);
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let Some((webhook,)) = query_opt::<(String,)>(&tx, FINISH.postgres(), &args).await? else { return Ok(false) };
        execute(&tx, sql::DISABLE_WEBHOOK.postgres(), &args![webhook, r.attempted_at], "").await?;
        execute(&tx, sql::DELETE_SUBSCRIPTIONS.postgres(), &args![webhook], "").await?;
        cancel_pending(&tx, &webhook, r.attempted_at).await?;
        tx.commit().await.map_err(pg)?;
        Ok(true)
    }

    async fn finish_attempts(&self, results: Vec<AttemptResult>) -> StoreResult<Vec<bool>> {
        // 410 Gone changes the webhook too: those go one by one (they are rare).
        let (gone, plain): (Vec<_>, Vec<_>) =
            results.iter().enumerate().partition(|(_, r)| r.next == AttemptNext::DisableWebhook);
        let mut recorded = vec![false; results.len()];
        if !plain.is_empty() {
            let mut cols: [Vec<String>; 10] = Default::default();
            for (_, r) in &plain {
                let (status, next) = outcome(r);
                let completed = (status != "pending").then_some(r.attempted_at);
                let row = [
                    r.delivery_id.clone(),
                    r.claimer.clone(),
                    r.attempt.to_string(),
                    status.to_owned(),
                    opt_text(next.map(time_text)),
                    opt_text(r.status_code.map(|c| c.to_string())),
                    opt_text(r.error.clone()),
                    opt_text(completed.map(time_text)),
                    time_text(r.attempted_at),
                    r.latency_ms.to_string(),
                ];
                for (col, v) in cols.iter_mut().zip(row) {
                    col.push(v);
                }
            }
            let [ids, claimers, attempts, statuses, nexts, codes, errors, completed, attempted, latencies] = cols;
            let args = args![ids, claimers, attempts, statuses, nexts, codes, errors, completed, attempted, latencies];
            let c = self.client().await?;
            let done: Vec<(String,)> = query_all(&c, FINISH_MANY.postgres(), &args).await?;
            let done: std::collections::HashSet<String> = done.into_iter().map(|(id,)| id).collect();
            for (i, r) in &plain {
                recorded[*i] = done.contains(&r.delivery_id);
            }
        }
        for (i, r) in gone {
            recorded[i] = self.finish_attempt(r.clone()).await?;
        }
        Ok(recorded)
    }

    async fn release_deliveries(&self, ids: &[String], claimer: &str) -> StoreResult<()> {
        let c = self.client().await?;
        execute(&c, RELEASE.postgres(), &args![ids, claimer], "").await?;
        Ok(())
    }

    async fn renew_claims(
        &self,
        claimer: &str,
        held: &[(String, u32)],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<String>> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = held.iter().map(|(id, _)| id.clone()).collect();
        let attempts: Vec<String> = held.iter().map(|(_, a)| a.to_string()).collect();
        let c = self.client().await?;
        let kept: Vec<(String,)> = query_all(&c, RENEW.postgres(), &args![ids, claimer, attempts, until]).await?;
        Ok(kept.into_iter().map(|(id,)| id).collect())
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
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, sql::DELIVERY_COUNT.postgres(), f.condition_args()).await?;
        let (mut items, next): (Vec<DeliveryRecord>, _) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        let ids: Vec<String> = items.iter().map(|d| d.id.clone()).collect();
        let attempts: Vec<DeliveryAttempt> = query_all(&c, ATTEMPTS.postgres(), &args![ids]).await?;
        for DeliveryAttempt(id, attempt) in attempts {
            if let Some(d) = items.iter_mut().find(|d| d.id == id) {
                d.log.push(attempt);
            }
        }
        Ok(Paged { items, total: count("deliveries", total)?, next })
    }

    async fn redeliver(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        new_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<DeliveryRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let key = args![marketplace_id, partner_id, webhook_id, delivery_id];
        let original: DeliveryRecord =
            query_opt(&tx, sql::REDELIVERABLE.postgres(), &key).await?.ok_or(StoreError::NotFound("delivery"))?;
        let again = DeliveryRecord {
            id: new_id.to_owned(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: Some(at),
            last_status_code: None,
            last_error: None,
            redelivery_of: Some(original.id.clone()),
            created_at: at,
            completed_at: None,
            log: Vec::new(),
            ..original
        };
        insert(&tx, &again, "delivery id taken").await?;
        self.commit(tx, Fanned::CREATED).await?;
        Ok(again)
    }

    async fn record_test_delivery(&self, d: DeliveryRecord) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &d, "delivery id taken").await?;
        for a in &d.log {
            insert_attempt(&tx, &d.id, a, "test").await?;
        }
        tx.commit().await.map_err(pg)
    }
}
