//! AppReseller opportunities ("quotes"): the record, the list filter and the trait both
//! backends implement. The SQL is `schema::quotes`.

use crate::{LeadRecord, NewInvoice, OrderRecord, SortOrder, StoreResult, SubscriptionRecord, TimeRange};
use crate::{Paged, Window};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::quote::QuoteStatus;

/// A quote as stored. The owner (the sales agent, a user of the reseller company whose quote
/// it is) and the customer are copied by name as they were when it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteRecord {
    pub id: String,
    pub marketplace_id: String,
    /// Six characters people read out (`domain::quote::friendly_id`).
    pub friendly_id: String,
    /// The reseller company whose quote it is (its sellers see it).
    pub owner_company_id: String,
    pub owner_company_name: String,
    /// That company's partner, who is invoiced for and earns on the purchase.
    pub owner_partner_id: Option<String>,
    pub owner_user_id: String,
    pub owner_first_name: String,
    pub owner_last_name: String,
    pub owner_email: String,
    pub customer_company_id: String,
    pub customer_company_name: String,
    pub customer_user_id: String,
    pub customer_first_name: String,
    pub customer_last_name: String,
    pub customer_email: String,
    pub name: Option<String>,
    pub currency: String,
    pub status: QuoteStatus,
    /// `[domain::quote::QuoteItem]`.
    pub items: serde_json::Value,
    pub total_cents: i64,
    pub purchase_effective_at: Option<DateTime<Utc>>,
    /// `domain::quote::Attributes`.
    pub purchase_custom_attributes: serde_json::Value,
    /// Set when finalized: the purchase it made.
    pub purchase_id: Option<String>,
    /// Lower-cased text `searchText` matches: every id and the name.
    pub search_text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteSort {
    CreatedOn,
    Name,
    Status,
    PurchaseEffectiveDate,
}

/// A page of quotes.
#[derive(Debug, Clone, Default)]
pub struct QuoteFilter {
    /// Only this reseller company's quotes; `None`: every quote of the marketplace (the
    /// marketplace manager).
    pub owner_company_id: Option<String>,
    /// The customer's user (`customerId`).
    pub customer_user_id: Option<String>,
    /// The sales agent (`ownerId`).
    pub owner_user_id: Option<String>,
    pub created: TimeRange,
    /// `purchaseEffectiveDate`: a quote without one matches no bound.
    pub effective: TimeRange,
    pub status: Option<QuoteStatus>,
    pub search: Option<String>,
    pub sort: Vec<(QuoteSort, SortOrder)>,
}

/// One subscription a finalize buys: exactly what `POST /subscriptions` writes.
#[derive(Debug, Clone)]
pub struct Purchase {
    pub subscription: SubscriptionRecord,
    pub order: OrderRecord,
    pub invoice: Option<NewInvoice>,
}

/// `Conflict` message of a finalize whose purchase `i` (counted from 0) meets a live
/// subscription of its edition: [`crate::SUBSCRIPTION_EXISTS`] and the index.
pub fn purchase_conflict(i: usize) -> String {
    format!("{}: item {i}", crate::SUBSCRIPTION_EXISTS)
}

#[async_trait]
pub trait QuoteStore: Send + Sync {
    async fn create_quote(&self, quote: QuoteRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn get_quote(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<QuoteRecord>>;

    /// The versioned write of a change (`Conflict` when it moved since it was read).
    async fn update_quote(&self, quote: QuoteRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()>;

    /// Finalizing, in one transaction: the versioned write of the closed quote, then each
    /// purchase as `create_subscription` writes it. Nothing is written when any part fails
    /// (`Conflict` with [`purchase_conflict`] for a duplicate subscription).
    async fn finalize_quote(
        &self,
        quote: QuoteRecord,
        expected_version: i64,
        purchases: Vec<Purchase>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    async fn list_quotes(
        &self,
        marketplace_id: &str,
        filter: &QuoteFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<QuoteRecord>>;

    /// The leads converted into (or linked to) `company_id`.
    async fn leads_of_company(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<LeadRecord>>;
}
