//! Subscriptions, orders and seats on PostgreSQL: the declarations and SQL are
//! `partnerd_store::schema::subscriptions`. A seat assignment and a change both take the
//! subscription's row first (the assignment's version bump, the change's versioned read with
//! `FOR UPDATE`), so they queue on it across processes and each counts the seats the other
//! committed: concurrent assignments never exceed the quantity.

use crate::billing::issue;
use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::subscription::SubscriptionStatus;
use partnerd_store::kit::count;
use partnerd_store::schema::subscriptions as sql;
use partnerd_store::*;

#[async_trait]
impl SubscriptionStore for PostgresStore {
    async fn create_subscription(
        &self,
        subscription: SubscriptionRecord,
        order: OrderRecord,
        invoice: Option<NewInvoice>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &subscription, SUBSCRIPTION_EXISTS).await?;
        insert(&tx, &order, "an order with this id exists already").await?;
        let fanned = append_events(&tx, &subscription.marketplace_id, subscription.created_at, &events).await?;
        if let Some(invoice) = invoice {
            issue(&tx, invoice).await?;
        }
        self.commit(tx, fanned).await
    }

    async fn get_subscription(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<SubscriptionEntry>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_SUBSCRIPTION.postgres(), &args![marketplace_id, id]).await
    }

    async fn catalog_plan(&self, marketplace_id: &str, plan_id: &str) -> StoreResult<Option<CatalogPlanRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_PLAN.postgres(), &args![marketplace_id, plan_id]).await
    }

    async fn get_order(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<OrderRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_ORDER.postgres(), &args![marketplace_id, id]).await
    }

    async fn subscriptions_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<SubscriptionEntry>> {
        let c = self.client().await?;
        query_all(&c, sql::SUBSCRIPTIONS_DUE.postgres(), &args![now, limit]).await
    }

    async fn change_subscription(&self, change: SubscriptionChange, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let s = &change.subscription;
        versioned_update(&tx, s, change.expected_version).await?;
        let at = s.updated_at;
        let close = args![s.marketplace_id, change.closed_order_id, change.closed_order_status, at];
        execute(&tx, sql::CLOSE_ORDER.postgres(), &close, "").await?;
        if s.status == SubscriptionStatus::Cancelled {
            execute(&tx, sql::END_SEATS_OF.postgres(), &args![s.marketplace_id, s.id, at], "").await?;
        } else {
            // The row is ours until commit: every assignment committed before is counted here.
            let (assigned,): (i64,) =
                query_one(&tx, sql::COUNT_ACTIVE_SEATS.postgres(), &args![s.marketplace_id, s.id]).await?;
            if assigned > i64::from(s.seats) {
                return Err(StoreError::Conflict(SEATS_IN_USE.into()));
            }
        }
        if let Some(order) = &change.new_order {
            insert(&tx, order, "an order with this id exists already").await?;
        }
        let fanned = append_events(&tx, &s.marketplace_id, at, &events).await?;
        if let Some(invoice) = change.invoice {
            issue(&tx, invoice).await?;
        }
        self.commit(tx, fanned).await
    }

    async fn list_subscriptions(
        &self,
        marketplace_id: &str,
        filter: &SubscriptionFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<SubscriptionEntry>> {
        let (total_sql, page_sql, f) = sql::list_subscriptions(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("subscriptions", total)?, next })
    }

    async fn list_orders(
        &self,
        marketplace_id: &str,
        filter: &OrderFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<OrderRecord>> {
        let (total_sql, page_sql, f) = sql::list_orders(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("orders", total)?, next })
    }

    async fn company_subscription_counts(
        &self,
        marketplace_id: &str,
        company_id: &str,
    ) -> StoreResult<Vec<(SubscriptionStatus, u64)>> {
        let c = self.client().await?;
        query_all(&c, sql::COMPANY_COUNTS.postgres(), &args![marketplace_id, company_id]).await
    }

    async fn assign_seat(&self, seat: SeatRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let (m, sub) = (&seat.marketplace_id, &seat.subscription_id);
        // Takes the row: concurrent assigners wait here, then count what the others committed.
        let seats: Option<(u32,)> = query_opt(&tx, sql::TAKE_FOR_SEAT.postgres(), &args![m, sub]).await?;
        let Some((seats,)) = seats else {
            return Err(StoreError::Conflict(SUBSCRIPTION_NOT_ACTIVE.into()));
        };
        let (assigned,): (i64,) = query_one(&tx, sql::COUNT_ACTIVE_SEATS.postgres(), &args![m, sub]).await?;
        if assigned >= i64::from(seats) {
            return Err(StoreError::Conflict(NO_SEAT_AVAILABLE.into()));
        }
        insert(&tx, &seat, SEAT_TAKEN).await?;
        let fanned = append_events(&tx, m, seat.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_seat(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<SeatRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_SEAT.postgres(), &args![marketplace_id, id]).await
    }

    async fn unassign_seat(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if execute(&tx, sql::END_SEAT.postgres(), &args![marketplace_id, id, at], "").await? == 0 {
            return Ok(false);
        }
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        self.commit(tx, fanned).await?;
        Ok(true)
    }

    async fn list_seats(
        &self,
        marketplace_id: &str,
        filter: &SeatFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<SeatRecord>> {
        let (total_sql, page_sql, f) = sql::list_seats(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("subscription assignments", total)?, next })
    }
}
