//! Webhooks, fan-out and deliveries on PostgreSQL. Several processes claim deliveries at once:
//! each claim locks its rows and skips rows others hold (`FOR UPDATE SKIP LOCKED`), and every
//! attempt is fenced by claimer and attempt number.

use crate::{PostgresStore, append_events, exec, pg, query};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use partnerd_domain::events::NewEvent;
use partnerd_store::{
    AttemptNext, AttemptRecord, AttemptResult, Claim, ClaimedDelivery, DeliveryRecord, StoreError, StoreResult,
    WebhookRecord, WebhookStore,
};
use serde_json::Value;
use tokio_postgres::Row;

pub(crate) async fn fan_out(
    c: &impl GenericClient,
    marketplace_id: &str,
    event_id: &str,
    event_type: &str,
    occurred_at: DateTime<Utc>,
    partner_id: &str,
    related_partner_id: Option<&str>,
) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO webhook_deliveries (id, marketplace_id, partner_id, webhook_id, event_id, event_type, status,
                                         attempts, next_attempt_at, created_at)
         SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), s.marketplace_id, s.partner_id, s.webhook_id,
                $1, $2, 'pending', 0, $3, $3
         FROM webhook_subscriptions s
         WHERE s.marketplace_id = $4 AND s.event_type = $2 AND (s.partner_id = $5 OR s.partner_id = $6)",
        &[&event_id, &event_type, &occurred_at, &marketplace_id, &partner_id, &related_partner_id],
        "",
    )
    .await?;
    Ok(())
}

const WEBHOOK_COLUMNS: &str = "id, marketplace_id, partner_id, url, events, secret, active, created_at, updated_at";

fn webhook_from_row(r: &Row) -> WebhookRecord {
    WebhookRecord {
        id: r.get(0),
        marketplace_id: r.get(1),
        partner_id: r.get(2),
        url: r.get(3),
        events: serde_json::from_value(r.get(4)).unwrap_or_default(),
        secret: r.get(5),
        active: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
    }
}

const DELIVERY_COLUMNS: &str =
    "id, marketplace_id, partner_id, webhook_id, event_id, event_type, is_test, status, attempts,
                                next_attempt_at, last_status_code, last_error, redelivery_of, created_at, completed_at";

fn delivery_from_row(r: &Row) -> DeliveryRecord {
    DeliveryRecord {
        id: r.get(0),
        marketplace_id: r.get(1),
        partner_id: r.get(2),
        webhook_id: r.get(3),
        event_id: r.get(4),
        event_type: r.get(5),
        is_test: r.get(6),
        status: r.get(7),
        attempts: r.get::<_, i32>(8) as u32,
        next_attempt_at: r.get(9),
        last_status_code: r.get::<_, Option<i32>>(10).map(|c| c as u16),
        last_error: r.get(11),
        redelivery_of: r.get(12),
        created_at: r.get(13),
        completed_at: r.get(14),
        log: Vec::new(),
    }
}

/// Subscriptions exist only for active webhooks, so fan-out reads one table.
async fn write_subscriptions(c: &impl GenericClient, w: &WebhookRecord) -> StoreResult<()> {
    exec(c, "DELETE FROM webhook_subscriptions WHERE webhook_id = $1", &[&w.id], "").await?;
    if !w.active {
        return Ok(());
    }
    exec(
        c,
        "INSERT INTO webhook_subscriptions (webhook_id, marketplace_id, partner_id, event_type)
         SELECT $1, $2, $3, e FROM unnest($4::text[]) AS e ON CONFLICT DO NOTHING",
        &[&w.id, &w.marketplace_id, &w.partner_id, &w.events],
        "",
    )
    .await?;
    Ok(())
}

async fn cancel_pending(c: &impl GenericClient, webhook_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    exec(
        c,
        "UPDATE webhook_deliveries SET status = 'cancelled', completed_at = $2, claimed_by = NULL, claimed_until = NULL
         WHERE webhook_id = $1 AND status = 'pending'",
        &[&webhook_id, &at],
        "",
    )
    .await?;
    Ok(())
}

async fn insert_delivery(c: &impl GenericClient, d: &DeliveryRecord) -> StoreResult<()> {
    exec(
        c,
        &format!("INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"),
        &[
            &d.id,
            &d.marketplace_id,
            &d.partner_id,
            &d.webhook_id,
            &d.event_id,
            &d.event_type,
            &d.is_test,
            &d.status,
            &(d.attempts as i32),
            &d.next_attempt_at,
            &d.last_status_code.map(i32::from),
            &d.last_error,
            &d.redelivery_of,
            &d.created_at,
            &d.completed_at,
        ],
        "delivery id taken",
    )
    .await?;
    Ok(())
}

async fn insert_attempt(
    c: &impl GenericClient,
    delivery_id: &str,
    a: &AttemptRecord,
    claimer: &str,
) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, next_retry_at, claimed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &delivery_id,
            &(a.attempt as i32),
            &a.attempted_at,
            &a.status_code.map(i32::from),
            &(a.latency_ms as i64),
            &a.error,
            &a.next_retry_at,
            &claimer,
        ],
        "attempt recorded already",
    )
    .await?;
    Ok(())
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_webhook(&self, w: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        exec(
            &tx,
            &format!("INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                &w.id,
                &w.marketplace_id,
                &w.partner_id,
                &w.url,
                &Value::from(w.events.clone()),
                &w.secret,
                &w.active,
                &w.created_at,
                &w.updated_at,
            ],
            "webhook id taken",
        )
        .await?;
        write_subscriptions(&tx, &w).await?;
        append_events(&tx, &w.marketplace_id, w.created_at, &events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn list_webhooks(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE marketplace_id = $1 AND partner_id = $2 AND deleted_at IS NULL ORDER BY created_at, id"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id]).await?.iter().map(webhook_from_row).collect())
    }

    async fn get_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND deleted_at IS NULL"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id, &id]).await?.first().map(webhook_from_row))
    }

    async fn update_webhook(&self, w: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let changed = exec(
            &tx,
            "UPDATE webhooks SET url = $4, events = $5, secret = $6, active = $7, updated_at = $8
             WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND deleted_at IS NULL",
            &[
                &w.marketplace_id,
                &w.partner_id,
                &w.id,
                &w.url,
                &Value::from(w.events.clone()),
                &w.secret,
                &w.active,
                &w.updated_at,
            ],
            "",
        )
        .await?;
        if changed == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        write_subscriptions(&tx, &w).await?;
        if !w.active {
            cancel_pending(&tx, &w.id, w.updated_at).await?;
        }
        append_events(&tx, &w.marketplace_id, w.updated_at, &events).await?;
        tx.commit().await.map_err(pg)
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
        let changed = exec(
            &tx,
            "UPDATE webhooks SET deleted_at = $4, active = FALSE, updated_at = $4
             WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND deleted_at IS NULL",
            &[&marketplace_id, &partner_id, &id, &at],
            "",
        )
        .await?;
        if changed == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        exec(&tx, "DELETE FROM webhook_subscriptions WHERE webhook_id = $1", &[&id], "").await?;
        cancel_pending(&tx, id, at).await?;
        tx.commit().await.map_err(pg)
    }

    async fn deliveries_due(&self, now: DateTime<Utc>) -> StoreResult<bool> {
        let c = self.client().await?;
        let rows = query(
            &c,
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
                            AND (claimed_until IS NULL OR claimed_until < $1))",
            &[&now],
        )
        .await?;
        Ok(rows[0].get(0))
    }

    async fn claim_deliveries(&self, claim: &Claim) -> StoreResult<Vec<ClaimedDelivery>> {
        let c = self.client().await?;
        // One statement (one round trip): lock due rows others do not hold, keep at most
        // `per_webhook` of each webhook, mark them claimed, return them with their events.
        let window = (i64::from(claim.limit) * 4).min(4_096);
        let rows = query(
            &c,
            "WITH candidates AS (
                 SELECT d.id, d.webhook_id, d.next_attempt_at
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                   AND (d.claimed_until IS NULL OR d.claimed_until < $1)
                   AND w.active AND w.deleted_at IS NULL
                   AND NOT (d.webhook_id = ANY($2))
                 ORDER BY d.next_attempt_at, d.id
                 LIMIT $3
                 FOR UPDATE OF d SKIP LOCKED),
             chosen AS (
                 SELECT id FROM (
                     SELECT id, next_attempt_at,
                            row_number() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS nth
                     FROM candidates) ranked
                 WHERE nth <= $4
                 ORDER BY next_attempt_at, id
                 LIMIT $5),
             claimed AS (
                 UPDATE webhook_deliveries d SET claimed_by = $6, claimed_until = $7
                 FROM chosen WHERE d.id = chosen.id
                 RETURNING d.id, d.webhook_id, d.event_id, d.event_type, d.attempts, d.next_attempt_at)
             SELECT c.id, c.webhook_id, w.url, w.secret, c.event_id, c.event_type, e.occurred_at, e.payload, c.attempts
             FROM claimed c JOIN webhooks w ON w.id = c.webhook_id JOIN events e ON e.id = c.event_id
             ORDER BY c.next_attempt_at, c.id",
            &[
                &claim.now,
                &claim.exclude_webhooks,
                &window,
                &i64::from(claim.per_webhook),
                &i64::from(claim.limit),
                &claim.claimer,
                &claim.lease_until,
            ],
        )
        .await?;
        Ok(rows
            .iter()
            .map(|r| ClaimedDelivery {
                id: r.get(0),
                webhook_id: r.get(1),
                url: r.get(2),
                secret: r.get(3),
                event_id: r.get(4),
                event_type: r.get(5),
                occurred_at: r.get(6),
                data: r.get(7),
                attempt: r.get::<_, i32>(8) as u32 + 1,
            })
            .collect())
    }

    async fn finish_attempt(&self, r: AttemptResult) -> StoreResult<bool> {
        let c = self.client().await?;
        let (status, next) = match &r.next {
            AttemptNext::Delivered => ("delivered", None),
            AttemptNext::RetryAt(t) => ("pending", Some(*t)),
            AttemptNext::Failed | AttemptNext::DisableWebhook => ("failed", None),
        };
        let completed = (status != "pending").then_some(r.attempted_at);
        // One statement, so one round trip and atomic without BEGIN/COMMIT: the fenced update
        // and the attempt row land together or not at all.
        let rows = query(
            &c,
            "WITH moved AS (
                 UPDATE webhook_deliveries
                 SET status = $4, attempts = $3, next_attempt_at = $5, claimed_by = NULL, claimed_until = NULL,
                     last_status_code = $6, last_error = $7, completed_at = $8
                 WHERE id = $1 AND claimed_by = $2 AND attempts = $3 - 1 AND status = 'pending'
                 RETURNING id, webhook_id)
             INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, next_retry_at, claimed_by)
             SELECT id, $3, $9, $6, $10, $7, $5, $2 FROM moved
             RETURNING (SELECT webhook_id FROM moved)",
            &[
                &r.delivery_id,
                &r.claimer,
                &(r.attempt as i32),
                &status,
                &next,
                &r.status_code.map(i32::from),
                &r.error,
                &completed,
                &r.attempted_at,
                &(r.latency_ms as i64),
            ],
        )
        .await?;
        let Some(row) = rows.first() else { return Ok(false) };
        // Rare (410 Gone): its own transaction. Should the process stop in between, the
        // webhook stays active until its endpoint answers 410 again.
        if r.next == AttemptNext::DisableWebhook {
            let webhook: String = row.get(0);
            drop(c);
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            exec(
                &tx,
                "UPDATE webhooks SET active = FALSE, updated_at = $2 WHERE id = $1",
                &[&webhook, &r.attempted_at],
                "",
            )
            .await?;
            exec(&tx, "DELETE FROM webhook_subscriptions WHERE webhook_id = $1", &[&webhook], "").await?;
            cancel_pending(&tx, &webhook, r.attempted_at).await?;
            tx.commit().await.map_err(pg)?;
        }
        Ok(true)
    }

    async fn release_deliveries(&self, ids: &[String], claimer: &str) -> StoreResult<()> {
        let c = self.client().await?;
        exec(
            &c,
            "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE id = ANY($1) AND claimed_by = $2",
            &[&ids, &claimer],
            "",
        )
        .await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<DeliveryRecord>, u64)> {
        let c = self.client().await?;
        let total: i64 = query(
            &c,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE marketplace_id = $1 AND partner_id = $2 AND webhook_id = $3",
            &[&marketplace_id, &partner_id, &webhook_id],
        )
        .await?[0]
            .get(0);
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE marketplace_id = $1 AND partner_id = $2 AND webhook_id = $3
             ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
        );
        let (limit, offset) = (i64::from(limit), i64::try_from(offset).unwrap_or(i64::MAX));
        let mut items: Vec<DeliveryRecord> =
            query(&c, &sql, &[&marketplace_id, &partner_id, &webhook_id, &limit, &offset])
                .await?
                .iter()
                .map(delivery_from_row)
                .collect();
        let ids: Vec<&str> = items.iter().map(|d| d.id.as_str()).collect();
        let attempts = query(
            &c,
            "SELECT delivery_id, attempt, attempted_at, status_code, latency_ms, error, next_retry_at FROM webhook_attempts
             WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt",
            &[&ids],
        )
        .await?;
        for a in &attempts {
            let id: &str = a.get(0);
            if let Some(d) = items.iter_mut().find(|d| d.id == id) {
                d.log.push(AttemptRecord {
                    attempt: a.get::<_, i32>(1) as u32,
                    attempted_at: a.get(2),
                    status_code: a.get::<_, Option<i32>>(3).map(|c| c as u16),
                    latency_ms: a.get::<_, i64>(4).max(0) as u64,
                    error: a.get(5),
                    next_retry_at: a.get(6),
                });
            }
        }
        Ok((items, total.max(0) as u64))
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
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
             WHERE marketplace_id = $1 AND partner_id = $2 AND webhook_id = $3 AND id = $4 AND NOT is_test"
        );
        let original = query(&tx, &sql, &[&marketplace_id, &partner_id, &webhook_id, &delivery_id])
            .await?
            .first()
            .map(delivery_from_row)
            .ok_or(StoreError::NotFound("delivery"))?;
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
        insert_delivery(&tx, &again).await?;
        tx.commit().await.map_err(pg)?;
        Ok(again)
    }

    async fn record_test_delivery(&self, d: DeliveryRecord) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert_delivery(&tx, &d).await?;
        for a in &d.log {
            insert_attempt(&tx, &d.id, a, "test").await?;
        }
        tx.commit().await.map_err(pg)
    }
}
