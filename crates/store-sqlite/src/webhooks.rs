//! Webhooks, fan-out and deliveries on SQLite. Claims run on the single writer, so one process
//! never hands a delivery out twice; across processes SQLite's write lock serialises claims.

use crate::conn::backend;
use crate::{SqliteStore, append_events, at, ms, opt_at, write_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

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
    c.prepare_cached(
        "INSERT INTO webhook_deliveries (id, marketplace_id, partner_id, webhook_id, event_id, event_type, status,
                                         attempts, next_attempt_at, created_at)
         SELECT 'dlv_' || lower(hex(randomblob(10))), s.marketplace_id, s.partner_id, s.webhook_id, ?1, ?2, 'pending',
                0, ?3, ?3
         FROM webhook_subscriptions s
         WHERE s.marketplace_id = ?4 AND s.event_type = ?2 AND s.partner_id IN (?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![event_id, event_type, ms(occurred_at), marketplace_id, partner_id, related_partner_id])
    })
    .map_err(backend)?;
    Ok(())
}

/// Candidates looked at per claim: enough to share among endpoints, never the whole backlog.
fn candidate_window(claim: &Claim) -> i64 {
    (i64::from(claim.limit) * 4).min(4_096)
}

const WEBHOOK_COLUMNS: &str = "id, marketplace_id, partner_id, url, events, secret, active, created_at, updated_at";

fn webhook_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookRecord> {
    let events: String = r.get(4)?;
    Ok(WebhookRecord {
        id: r.get(0)?,
        marketplace_id: r.get(1)?,
        partner_id: r.get(2)?,
        url: r.get(3)?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        secret: r.get(5)?,
        active: r.get(6)?,
        created_at: at(r.get(7)?),
        updated_at: at(r.get(8)?),
    })
}

const DELIVERY_COLUMNS: &str =
    "id, marketplace_id, partner_id, webhook_id, event_id, event_type, is_test, status, attempts,
                                next_attempt_at, last_status_code, last_error, redelivery_of, created_at, completed_at";

fn delivery_from_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: r.get(0)?,
        marketplace_id: r.get(1)?,
        partner_id: r.get(2)?,
        webhook_id: r.get(3)?,
        event_id: r.get(4)?,
        event_type: r.get(5)?,
        is_test: r.get(6)?,
        status: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_at: opt_at(r.get(9)?),
        last_status_code: r.get(10)?,
        last_error: r.get(11)?,
        redelivery_of: r.get(12)?,
        created_at: at(r.get(13)?),
        completed_at: opt_at(r.get(14)?),
        log: Vec::new(),
    })
}

/// Subscriptions exist only for active webhooks, so fan-out reads one table (a join here made
/// SQLite re-plan the statement on every transaction).
fn write_subscriptions(c: &Connection, w: &WebhookRecord) -> StoreResult<()> {
    c.prepare_cached("DELETE FROM webhook_subscriptions WHERE webhook_id = ?1")
        .and_then(|mut s| s.execute([&w.id]))
        .map_err(backend)?;
    if !w.active {
        return Ok(());
    }
    let mut insert = c
        .prepare_cached(
            "INSERT OR IGNORE INTO webhook_subscriptions (webhook_id, marketplace_id, partner_id, event_type) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?;
    for e in &w.events {
        insert.execute(params![w.id, w.marketplace_id, w.partner_id, e]).map_err(backend)?;
    }
    Ok(())
}

fn cancel_pending(c: &Connection, webhook_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    c.prepare_cached(
        "UPDATE webhook_deliveries SET status = 'cancelled', completed_at = ?2, claimed_by = NULL, claimed_until = NULL
         WHERE webhook_id = ?1 AND status = 'pending'",
    )
    .and_then(|mut s| s.execute(params![webhook_id, ms(at)]))
    .map_err(backend)?;
    Ok(())
}

fn insert_delivery(c: &Connection, d: &DeliveryRecord) -> StoreResult<()> {
    c.prepare_cached(&format!(
        "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            d.id,
            d.marketplace_id,
            d.partner_id,
            d.webhook_id,
            d.event_id,
            d.event_type,
            d.is_test,
            d.status,
            d.attempts,
            d.next_attempt_at.map(ms),
            d.last_status_code,
            d.last_error,
            d.redelivery_of,
            ms(d.created_at),
            d.completed_at.map(ms),
        ])
    })
    .map_err(|e| write_error(e, "delivery id taken"))?;
    Ok(())
}

fn insert_attempt(c: &Connection, delivery_id: &str, a: &AttemptRecord, claimer: &str) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, next_retry_at, claimed_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            delivery_id,
            a.attempt,
            ms(a.attempted_at),
            a.status_code,
            a.latency_ms as i64,
            a.error,
            a.next_retry_at.map(ms),
            claimer
        ])
    })
    .map_err(|e| write_error(e, "attempt recorded already"))?;
    Ok(())
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(&self, w: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                c.prepare_cached(&format!(
                    "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ))
                .and_then(|mut s| {
                    s.execute(params![
                        w.id,
                        w.marketplace_id,
                        w.partner_id,
                        w.url,
                        serde_json::to_string(&w.events).expect("strings serialise"),
                        w.secret,
                        w.active,
                        ms(w.created_at),
                        ms(w.updated_at),
                    ])
                })
                .map_err(|e| write_error(e, "webhook id taken"))?;
                write_subscriptions(c, &w)?;
                append_events(c, &w.marketplace_id, w.created_at, &events)
            })
            .await
    }

    async fn list_webhooks(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        let (m, p) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE marketplace_id = ?1 AND partner_id = ?2 AND deleted_at IS NULL
                     ORDER BY created_at, id"
                ))
                .and_then(|mut s| s.query_map(params![m, p], webhook_from_row)?.collect())
                .map_err(backend)
            })
            .await
    }

    async fn get_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<WebhookRecord>> {
        let (m, p, id) = (marketplace_id.to_owned(), partner_id.to_owned(), id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3 AND deleted_at IS NULL"
                ))
                .and_then(|mut s| s.query_row(params![m, p, id], webhook_from_row).optional())
                .map_err(backend)
            })
            .await
    }

    async fn update_webhook(&self, w: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let changed = c
                    .prepare_cached(
                        "UPDATE webhooks SET url = ?4, events = ?5, secret = ?6, active = ?7, updated_at = ?8
                         WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3 AND deleted_at IS NULL",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            w.marketplace_id,
                            w.partner_id,
                            w.id,
                            w.url,
                            serde_json::to_string(&w.events).expect("strings serialise"),
                            w.secret,
                            w.active,
                            ms(w.updated_at),
                        ])
                    })
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(StoreError::NotFound("webhook"));
                }
                write_subscriptions(c, &w)?;
                if !w.active {
                    cancel_pending(c, &w.id, w.updated_at)?;
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
                let changed = c
                    .prepare_cached(
                        "UPDATE webhooks SET deleted_at = ?4, active = 0, updated_at = ?4
                         WHERE marketplace_id = ?1 AND partner_id = ?2 AND id = ?3 AND deleted_at IS NULL",
                    )
                    .and_then(|mut s| s.execute(params![m, p, id, ms(when)]))
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(StoreError::NotFound("webhook"));
                }
                c.prepare_cached("DELETE FROM webhook_subscriptions WHERE webhook_id = ?1")
                    .and_then(|mut s| s.execute([&id]))
                    .map_err(backend)?;
                cancel_pending(c, &id, when)
            })
            .await
    }

    async fn deliveries_due(&self, now: DateTime<Utc>) -> StoreResult<bool> {
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                                    WHERE status = 'pending' AND next_attempt_at <= ?1
                                      AND (claimed_until IS NULL OR claimed_until < ?1))",
                )
                .and_then(|mut s| s.query_row([ms(now)], |r| r.get(0)))
                .map_err(backend)
            })
            .await
    }

    async fn claim_deliveries(&self, claim: &Claim) -> StoreResult<Vec<ClaimedDelivery>> {
        let claim = claim.clone();
        self.writer
            .write(move |c| {
                let now = ms(claim.now);
                let excluded = serde_json::to_string(&claim.exclude_webhooks).expect("strings serialise");
                // Choose by id and webhook only; payloads are read for the chosen rows alone.
                let candidates: Vec<(String, String)> = c
                    .prepare_cached(
                        "SELECT d.id, d.webhook_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                         WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
                           AND (d.claimed_until IS NULL OR d.claimed_until < ?1)
                           AND w.active = 1 AND w.deleted_at IS NULL
                           AND d.webhook_id NOT IN (SELECT value FROM json_each(?2))
                         ORDER BY d.next_attempt_at, d.id LIMIT ?3",
                    )
                    .and_then(|mut s| s.query_map(params![now, excluded, candidate_window(&claim)], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                    .map_err(backend)?;
                let chosen = fair_share(candidates, |(_, w)| w.as_str(), claim.per_webhook, claim.limit);
                let mut mark = c
                    .prepare_cached("UPDATE webhook_deliveries SET claimed_by = ?2, claimed_until = ?3 WHERE id = ?1")
                    .map_err(backend)?;
                let mut details = c
                    .prepare_cached(
                        "SELECT d.id, d.webhook_id, w.url, w.secret, d.event_id, d.event_type, e.occurred_at, e.payload, d.attempts
                         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
                         WHERE d.id = ?1",
                    )
                    .map_err(backend)?;
                let mut claimed = Vec::with_capacity(chosen.len());
                for (id, _) in &chosen {
                    mark.execute(params![id, claim.claimer, ms(claim.lease_until)]).map_err(backend)?;
                    let d = details
                        .query_row([id], |r| {
                            let payload: String = r.get(7)?;
                            Ok(ClaimedDelivery {
                                id: r.get(0)?,
                                webhook_id: r.get(1)?,
                                url: r.get(2)?,
                                secret: r.get(3)?,
                                event_id: r.get(4)?,
                                event_type: r.get(5)?,
                                occurred_at: at(r.get(6)?),
                                data: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                                attempt: r.get::<_, u32>(8)? + 1,
                            })
                        })
                        .map_err(backend)?;
                    claimed.push(d);
                }
                Ok(claimed)
            })
            .await
    }

    async fn finish_attempt(&self, r: AttemptResult) -> StoreResult<bool> {
        self.writer
            .write(move |c| {
                let (status, next) = match &r.next {
                    AttemptNext::Delivered => ("delivered", None),
                    AttemptNext::RetryAt(t) => ("pending", Some(*t)),
                    AttemptNext::Failed | AttemptNext::DisableWebhook => ("failed", None),
                };
                let completed = (status != "pending").then_some(ms(r.attempted_at));
                let moved = c
                    .prepare_cached(
                        "UPDATE webhook_deliveries
                         SET status = ?4, attempts = ?3, next_attempt_at = ?5, claimed_by = NULL, claimed_until = NULL,
                             last_status_code = ?6, last_error = ?7, completed_at = ?8
                         WHERE id = ?1 AND claimed_by = ?2 AND attempts = ?3 - 1 AND status = 'pending'",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            r.delivery_id,
                            r.claimer,
                            r.attempt,
                            status,
                            next.map(ms),
                            r.status_code,
                            r.error,
                            completed
                        ])
                    })
                    .map_err(backend)?;
                if moved == 0 {
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
                    let webhook: String = c
                        .prepare_cached("SELECT webhook_id FROM webhook_deliveries WHERE id = ?1")
                        .and_then(|mut s| s.query_row([&r.delivery_id], |row| row.get(0)))
                        .map_err(backend)?;
                    c.prepare_cached("UPDATE webhooks SET active = 0, updated_at = ?2 WHERE id = ?1")
                        .and_then(|mut s| s.execute(params![webhook, ms(r.attempted_at)]))
                        .map_err(backend)?;
                    c.prepare_cached("DELETE FROM webhook_subscriptions WHERE webhook_id = ?1")
                        .and_then(|mut s| s.execute([&webhook]))
                        .map_err(backend)?;
                    cancel_pending(c, &webhook, r.attempted_at)?;
                }
                Ok(true)
            })
            .await
    }

    async fn release_deliveries(&self, ids: &[String], claimer: &str) -> StoreResult<()> {
        let (ids, claimer) = (ids.to_vec(), claimer.to_owned());
        self.writer
            .write(move |c| {
                let mut s = c
                    .prepare_cached("UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2")
                    .map_err(backend)?;
                for id in &ids {
                    s.execute(params![id, claimer]).map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn list_deliveries(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<DeliveryRecord>, u64)> {
        let (m, p, w) = (marketplace_id.to_owned(), partner_id.to_owned(), webhook_id.to_owned());
        self.readers
            .read(move |c| {
                let total: i64 = c
                    .prepare_cached("SELECT COUNT(*) FROM webhook_deliveries WHERE marketplace_id = ?1 AND partner_id = ?2 AND webhook_id = ?3")
                    .and_then(|mut s| s.query_row(params![m, p, w], |r| r.get(0)))
                    .map_err(backend)?;
                let mut items: Vec<DeliveryRecord> = c
                    .prepare_cached(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                         WHERE marketplace_id = ?1 AND partner_id = ?2 AND webhook_id = ?3
                         ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
                    ))
                    .and_then(|mut s| {
                        s.query_map(params![m, p, w, limit, i64::try_from(offset).unwrap_or(i64::MAX)], delivery_from_row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(backend)?;
                let mut attempts = c
                    .prepare_cached(
                        "SELECT attempt, attempted_at, status_code, latency_ms, error, next_retry_at FROM webhook_attempts
                         WHERE delivery_id = ?1 ORDER BY attempt",
                    )
                    .map_err(backend)?;
                for d in &mut items {
                    d.log = attempts
                        .query_map([&d.id], |r| {
                            Ok(AttemptRecord {
                                attempt: r.get(0)?,
                                attempted_at: at(r.get(1)?),
                                status_code: r.get(2)?,
                                latency_ms: r.get::<_, i64>(3)?.max(0) as u64,
                                error: r.get(4)?,
                                next_retry_at: opt_at(r.get(5)?),
                            })
                        })
                        .and_then(|rows| rows.collect())
                        .map_err(backend)?;
                }
                Ok((items, total.max(0) as u64))
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
                let original = c
                    .prepare_cached(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                         WHERE marketplace_id = ?1 AND partner_id = ?2 AND webhook_id = ?3 AND id = ?4 AND is_test = 0"
                    ))
                    .and_then(|mut s| s.query_row(params![m, p, w, d], delivery_from_row).optional())
                    .map_err(backend)?
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
                insert_delivery(c, &again)?;
                Ok(again)
            })
            .await
    }

    async fn record_test_delivery(&self, d: DeliveryRecord) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert_delivery(c, &d)?;
                for a in &d.log {
                    insert_attempt(c, &d.id, a, "test")?;
                }
                Ok(())
            })
            .await
    }
}
