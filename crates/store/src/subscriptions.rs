//! AppReseller subscriptions, their orders and seat assignments: the records, the list filters
//! and the trait both backends implement. The SQL is `schema::subscriptions`.

use crate::{NewInvoice, SortOrder, StoreResult};
use crate::{Paged, Window};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::catalog::Frequency;
use partnerd_domain::events::NewEvent;
use partnerd_domain::subscription::{OrderStatus, SeatStatus, SubscriptionStatus};

/// `Conflict` message: the company has a live subscription of the edition.
pub const SUBSCRIPTION_EXISTS: &str = "the company has a subscription of this edition already";
/// `Conflict` message: every seat of the subscription is assigned.
pub const NO_SEAT_AVAILABLE: &str = "every seat of the subscription is assigned";
/// `Conflict` message: the user holds a seat of the subscription already.
pub const SEAT_TAKEN: &str = "the user holds a seat of this subscription already";
/// `Conflict` message: the subscription is not active (seats are assigned on active ones).
pub const SUBSCRIPTION_NOT_ACTIVE: &str = "the subscription is not active";
/// `Conflict` message: a change would leave fewer seats than are assigned.
pub const SEATS_IN_USE: &str = "more seats are assigned than the change leaves";

/// One bound of a time range: the time and whether it is included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBound {
    pub at: DateTime<Utc>,
    pub inclusive: bool,
}

/// A range of times, open on a side without a bound (the AppReseller `gte(…)`/`gt(…)`/`lte(…)`/
/// `lt(…)` filters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<TimeBound>,
    pub to: Option<TimeBound>,
}

/// A subscription as stored. The company's and user's names are as they were when it was
/// bought; `order_lines`, `seats`, `currency` and `total_cents` are its active order's.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    pub id: String,
    pub marketplace_id: String,
    /// The reseller company that bought it (whose subscriptions these are).
    pub reseller_company_id: String,
    /// The reseller's user who bought it.
    pub reseller_user_id: String,
    /// The reseller's partner, who is invoiced for and earns on it; `None` for a reseller
    /// company that is no partner.
    pub partner_id: Option<String>,
    pub company_id: String,
    pub company_name: String,
    pub user_id: String,
    pub user_first_name: String,
    pub user_last_name: String,
    pub product_id: String,
    /// The product's name.
    pub application_name: String,
    pub edition_id: String,
    pub edition_name: String,
    pub payment_plan_id: String,
    pub frequency: Frequency,
    pub parent_subscription_id: Option<String>,
    pub status: SubscriptionStatus,
    pub active_order_id: String,
    /// `[domain::subscription::OrderLine]`.
    pub order_lines: serde_json::Value,
    pub seats: u32,
    pub currency: String,
    pub total_cents: i64,
    /// The current billing period; none for a one-time purchase.
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    /// Lower-cased text `searchText` matches.
    pub search_text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// An order: what one purchase or change of a subscription bought, at what price.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub id: String,
    pub marketplace_id: String,
    pub subscription_id: String,
    pub reseller_company_id: String,
    /// The reseller's user who ordered it.
    pub reseller_user_id: String,
    pub company_id: String,
    pub company_name: String,
    pub user_id: String,
    pub application_name: String,
    pub edition_name: String,
    pub frequency: Frequency,
    pub payment_plan_id: String,
    /// `[domain::subscription::OrderLine]`.
    pub order_lines: serde_json::Value,
    /// `[domain::subscription::PricedLine]`.
    pub priced_lines: serde_json::Value,
    pub status: OrderStatus,
    pub currency: String,
    pub total_cents: i64,
    /// The invoice it was billed on (none for a reseller company that is no partner, or a
    /// change that moved no money).
    pub invoice_id: Option<String>,
    pub search_text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A subscription with its active order (what every read of one shows).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionEntry {
    pub subscription: SubscriptionRecord,
    pub order: OrderRecord,
}

impl crate::kit::Decode for SubscriptionEntry {
    fn decode<R: crate::kit::RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Self> {
        Ok(SubscriptionEntry {
            subscription: SubscriptionRecord::decode(row, at)?,
            order: OrderRecord::decode(row, at)?,
        })
    }
}

/// A seat of a subscription assigned to a user.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatRecord {
    pub id: String,
    pub marketplace_id: String,
    pub subscription_id: String,
    pub reseller_company_id: String,
    pub user_id: String,
    pub user_first_name: String,
    pub user_last_name: String,
    pub status: SeatStatus,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionSort {
    CreatedOn,
    CompanyName,
    ApplicationName,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSort {
    CreatedOn,
    CompanyName,
    ApplicationName,
    Status,
    TotalFee,
}

/// What the subscription and order lists share: whose rows, and the documented filters.
#[derive(Debug, Clone, Default)]
pub struct PurchaseFilter {
    /// Only this reseller company's purchases (always set: a caller sees its own, a manager
    /// the reseller it names).
    pub reseller_company_id: String,
    pub company_id: Option<String>,
    /// The customer's user it was bought for.
    pub user_id: Option<String>,
    /// The reseller's user who bought it.
    pub reseller_user_id: Option<String>,
    pub created: TimeRange,
    /// `PAID` (total above zero) or `FREE`.
    pub paid: Option<bool>,
    /// partnerd's purchases have no pending events: `pending=true` matches none.
    pub pending: Option<bool>,
    pub search: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub common: PurchaseFilter,
    /// Any of these (empty: all).
    pub statuses: Vec<SubscriptionStatus>,
    pub sort: Vec<(SubscriptionSort, SortOrder)>,
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub common: PurchaseFilter,
    pub statuses: Vec<OrderStatus>,
    pub sort: Vec<(OrderSort, SortOrder)>,
}

#[derive(Debug, Clone, Default)]
pub struct SeatFilter {
    pub subscription_id: String,
    pub user_ids: Vec<String>,
    pub statuses: Vec<SeatStatus>,
    pub created: TimeRange,
    /// By creation time; default newest first.
    pub order: Option<SortOrder>,
}

/// A change of a subscription: its new state (with the new active order's id), the order it
/// replaces and that order's closing status, the new order and its invoice.
#[derive(Debug, Clone)]
pub struct SubscriptionChange {
    pub subscription: SubscriptionRecord,
    pub expected_version: i64,
    pub closed_order_id: String,
    pub closed_order_status: OrderStatus,
    pub new_order: Option<OrderRecord>,
    pub invoice: Option<NewInvoice>,
}

#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// The subscription, its first order, the order's invoice and commission, and the events,
    /// in one transaction. `Conflict` ([`SUBSCRIPTION_EXISTS`]) when the company has a live
    /// subscription of the edition.
    async fn create_subscription(
        &self,
        subscription: SubscriptionRecord,
        order: OrderRecord,
        invoice: Option<NewInvoice>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    async fn get_subscription(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<SubscriptionEntry>>;

    /// The catalog's payment plan `plan_id`, with its product and edition.
    async fn catalog_plan(&self, marketplace_id: &str, plan_id: &str) -> StoreResult<Option<crate::CatalogPlanRecord>>;

    async fn get_order(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<OrderRecord>>;

    /// Active subscriptions whose billing period ended by `now`, in every marketplace, the
    /// longest overdue first (the renewal task's read).
    async fn subscriptions_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<SubscriptionEntry>>;

    /// A change or a cancellation, in one transaction: the versioned write of the subscription
    /// (`Conflict` when it moved since it was read, or when more seats are assigned than it
    /// now has: [`SEATS_IN_USE`]), the replaced order's status, the new order and its invoice.
    /// A cancellation (status `CANCELLED`) also ends every assigned seat.
    async fn change_subscription(&self, change: SubscriptionChange, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn list_subscriptions(
        &self,
        marketplace_id: &str,
        filter: &SubscriptionFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<SubscriptionEntry>>;

    async fn list_orders(
        &self,
        marketplace_id: &str,
        filter: &OrderFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<OrderRecord>>;

    /// How many of the company's subscriptions are in each status.
    async fn company_subscription_counts(
        &self,
        marketplace_id: &str,
        company_id: &str,
    ) -> StoreResult<Vec<(SubscriptionStatus, u64)>>;

    /// Assigns a seat, in one transaction that first takes the subscription's row (so
    /// concurrent assignments and changes queue on it): `Conflict` with
    /// [`SUBSCRIPTION_NOT_ACTIVE`], [`NO_SEAT_AVAILABLE`] or [`SEAT_TAKEN`].
    async fn assign_seat(&self, seat: SeatRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn get_seat(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<SeatRecord>>;

    /// Ends an active seat; `false` (and no events) when it was not active.
    async fn unassign_seat(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool>;

    async fn list_seats(
        &self,
        marketplace_id: &str,
        filter: &SeatFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<SeatRecord>>;
}
