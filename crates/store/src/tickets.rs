//! Support tickets and partner metrics: the records, the list filter, the figures and the two
//! traits both backends implement.

use crate::StoreResult;
use crate::{Paged, Window};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::billing::BillingCycle;
use partnerd_domain::customer::CustomerStatus;
use partnerd_domain::events::NewEvent;
use partnerd_domain::ticket::{TicketCategory, TicketPriority, TicketStatus};

/// A support ticket as stored. Its history (status moves, comments, ratings) is its events.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    /// A customer account of the partner (its company's id).
    pub customer_id: String,
    /// Read only: the customer company's name.
    pub customer_name: String,
    pub subject: String,
    pub description: String,
    pub priority: TicketPriority,
    pub category: TicketCategory,
    pub status: TicketStatus,
    /// The user whose key created it.
    pub created_by: String,
    /// The first partner response: its first partner comment or its first move to
    /// `in_progress`, whichever came first.
    pub first_response_at: Option<DateTime<Utc>>,
    /// The latest move to `resolved`; cleared when the ticket is reopened.
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// 1–5, once resolved or closed.
    pub rating: Option<u16>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
    pub comment_count: u32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub category: Option<TicketCategory>,
    pub customer_id: Option<String>,
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// The ticket and its events, in one transaction.
    async fn create_ticket(&self, ticket: TicketRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    /// The partner's ticket; `None` for another partner's (isolation) or a missing one.
    async fn get_ticket(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<TicketRecord>>;

    /// Newest first, with the total matching.
    async fn list_tickets(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &TicketFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<TicketRecord>>;

    /// Writes `ticket` (its `version` must be `expected_version + 1`) with the events, in one
    /// transaction. `Conflict` when the stored version is no longer `expected_version`.
    async fn update_ticket(
        &self,
        ticket: TicketRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
}

/// The windows partner metrics cover: `[start, end)` and the one of the same length before it,
/// `[previous_start, start)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsWindows {
    pub previous_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Accounts on one plan and cycle counted towards MRR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrrBasis {
    pub plan: String,
    pub billing_cycle: BillingCycle,
    /// `active` now.
    pub now: u64,
    /// Created before the window's start, not cancelled by then, and not suspended now.
    pub at_start: u64,
}

/// What partner metrics are computed from, every figure counted or summed by the database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsFigures {
    /// Every status, zero included, in declaration order.
    pub customers_by_status: Vec<(CustomerStatus, u64)>,
    /// Created within the window / within the previous one.
    pub new_customers: (u64, u64),
    /// Cancelled within the window / within the previous one.
    pub churned_customers: (u64, u64),
    /// Created before the window and not cancelled before it.
    pub customers_at_start: u64,
    pub mrr_basis: Vec<MrrBasis>,
    /// Cents of invoices issued within the window, void ones excepted.
    pub invoiced_cents: i128,
    /// Cents of invoices marked paid within the window.
    pub collected_cents: i128,
    /// Cents of invoices open or uncollectible now.
    pub outstanding_cents: i128,
    /// Every status, zero included, in declaration order: now.
    pub tickets_by_status: Vec<(TicketStatus, u64)>,
    pub tickets_created: u64,
    /// Tickets whose (latest) resolution falls within the window.
    pub tickets_resolved: u64,
    /// Seconds from creation to first response, of tickets first responded to within the window.
    pub first_response_seconds: Vec<i64>,
    /// Seconds from creation to resolution, of tickets resolved within the window.
    pub resolution_seconds: Vec<i64>,
    /// `(rating, count)` of ratings given within the window, ratings 1–5 in order, zeros kept.
    pub ratings: Vec<(u16, u64)>,
}

#[async_trait]
pub trait MetricsStore: Send + Sync {
    /// The partner's figures for the windows.
    async fn partner_metrics(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        windows: MetricsWindows,
    ) -> StoreResult<MetricsFigures>;
}
