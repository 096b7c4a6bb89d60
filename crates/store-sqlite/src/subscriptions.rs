//! Subscriptions, orders and seats on SQLite: the declarations and SQL are
//! `partnerd_store::schema::subscriptions`. The single writer serialises every write, so a seat
//! count read in the assigning job is the count the insert is checked against.

use crate::billing::issue;
use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, run, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::subscription::SubscriptionStatus;
use partnerd_store::kit::count;
use partnerd_store::schema::subscriptions as sql;
use partnerd_store::*;

#[async_trait]
impl SubscriptionStore for SqliteStore {
    async fn create_subscription(
        &self,
        subscription: SubscriptionRecord,
        order: OrderRecord,
        invoice: Option<NewInvoice>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &subscription, SUBSCRIPTION_EXISTS)?;
                if let Some(invoice) = invoice {
                    issue(c, invoice)?;
                }
                insert(c, &order, "an order with this id exists already")?;
                append_events(c, &subscription.marketplace_id, subscription.created_at, &events)
            })
            .await
    }

    async fn get_subscription(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<SubscriptionEntry>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_SUBSCRIPTION.sqlite(), &args![m, id])).await
    }

    async fn catalog_plan(&self, marketplace_id: &str, plan_id: &str) -> StoreResult<Option<CatalogPlanRecord>> {
        let (m, id) = (marketplace_id.to_owned(), plan_id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_PLAN.sqlite(), &args![m, id])).await
    }

    async fn get_order(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<OrderRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_ORDER.sqlite(), &args![m, id])).await
    }

    async fn subscriptions_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<SubscriptionEntry>> {
        self.readers.read(move |c| query_all(c, sql::SUBSCRIPTIONS_DUE.sqlite(), &args![now, limit])).await
    }

    async fn change_subscription(&self, change: SubscriptionChange, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let s = &change.subscription;
                versioned_update(c, s, change.expected_version)?;
                let at = s.updated_at;
                run(
                    c,
                    &sql::CLOSE_ORDER,
                    &args![s.marketplace_id, change.closed_order_id, change.closed_order_status, at],
                )?;
                if s.status == SubscriptionStatus::Cancelled {
                    run(c, &sql::END_SEATS_OF, &args![s.marketplace_id, s.id, at])?;
                } else {
                    let (assigned,): (i64,) =
                        query_one(c, sql::COUNT_ACTIVE_SEATS.sqlite(), &args![s.marketplace_id, s.id])?;
                    if assigned > i64::from(s.seats) {
                        return Err(StoreError::Conflict(SEATS_IN_USE.into()));
                    }
                }
                if let Some(invoice) = change.invoice {
                    issue(c, invoice)?;
                }
                if let Some(order) = &change.new_order {
                    insert(c, order, "an order with this id exists already")?;
                }
                append_events(c, &s.marketplace_id, at, &events)
            })
            .await
    }

    async fn list_subscriptions(
        &self,
        marketplace_id: &str,
        filter: &SubscriptionFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<SubscriptionEntry>> {
        let (total_sql, page_sql, f) = sql::list_subscriptions(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("subscriptions", total)?, next })
            })
            .await
    }

    async fn list_orders(
        &self,
        marketplace_id: &str,
        filter: &OrderFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<OrderRecord>> {
        let (total_sql, page_sql, f) = sql::list_orders(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("orders", total)?, next })
            })
            .await
    }

    async fn company_subscription_counts(
        &self,
        marketplace_id: &str,
        company_id: &str,
    ) -> StoreResult<Vec<(SubscriptionStatus, u64)>> {
        let (m, id) = (marketplace_id.to_owned(), company_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::COMPANY_COUNTS.sqlite(), &args![m, id])).await
    }

    async fn assign_seat(&self, seat: SeatRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let (m, sub) = (&seat.marketplace_id, &seat.subscription_id);
                let seats: Option<(u32,)> = query_opt(c, sql::TAKE_FOR_SEAT.sqlite(), &args![m, sub])?;
                let Some((seats,)) = seats else {
                    return Err(StoreError::Conflict(SUBSCRIPTION_NOT_ACTIVE.into()));
                };
                let (assigned,): (i64,) = query_one(c, sql::COUNT_ACTIVE_SEATS.sqlite(), &args![m, sub])?;
                if assigned >= i64::from(seats) {
                    return Err(StoreError::Conflict(NO_SEAT_AVAILABLE.into()));
                }
                insert(c, &seat, SEAT_TAKEN)?;
                append_events(c, m, seat.created_at, &events)
            })
            .await
    }

    async fn get_seat(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<SeatRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_SEAT.sqlite(), &args![m, id])).await
    }

    async fn unassign_seat(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                if run(c, &sql::END_SEAT, &args![m, id, at])? == 0 {
                    return Ok(false);
                }
                append_events(c, &m, at, &events)?;
                Ok(true)
            })
            .await
    }

    async fn list_seats(
        &self,
        marketplace_id: &str,
        filter: &SeatFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<SeatRecord>> {
        let (total_sql, page_sql, f) = sql::list_seats(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("subscription assignments", total)?, next })
            })
            .await
    }
}
