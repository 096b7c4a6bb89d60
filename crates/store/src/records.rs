use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::partner::Role;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Marketplace {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// The operator's side of a new marketplace: its company, first user and key.
#[derive(Debug, Clone)]
pub struct NewMarketplace {
    pub id: String,
    pub name: String,
    pub operator_company_id: String,
    pub operator_user_id: String,
    pub operator_email: String,
    pub operator_key: NewApiKey,
    pub created_at: DateTime<Utc>,
    pub events: Vec<NewEvent>,
}

#[derive(Debug, Clone)]
pub struct NewPartner {
    pub marketplace_id: String,
    pub partner_id: String,
    pub company_id: String,
    pub company_name: String,
    pub contact_email: String,
    pub plan: String,
    pub user_id: String,
    pub roles: Vec<Role>,
    pub key: NewApiKey,
    pub created_at: DateTime<Utc>,
    pub events: Vec<NewEvent>,
}

/// A company enrolled in the partner program.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRecord {
    pub id: String,
    pub marketplace_id: String,
    pub company_id: String,
    pub company_name: String,
    pub contact_email: String,
    pub plan: String,
    pub aws_account_connected: bool,
    pub created_at: DateTime<Utc>,
    /// Set while the operator has suspended the partner: its keys and sessions are refused.
    pub suspended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub company_id: String,
    pub name: String,
    pub display_prefix: String,
    pub secret_hash: Vec<u8>,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A key as lists show it: never the secret nor its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub user_id: String,
    pub company_id: String,
    pub name: String,
    pub display_prefix: String,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What authenticating with a key yields, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAuth {
    pub key_id: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub user_email: String,
    pub company_id: String,
    pub roles: Vec<Role>,
    pub secret_hash: Vec<u8>,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the key belongs to a sandbox: the sandbox's expiry, after which the key is refused.
    pub sandbox_expires_at: Option<DateTime<Utc>>,
    /// The company's partner enrolment, if it is a partner.
    pub partner: Option<PartnerRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub company_id: String,
    pub roles: Vec<Role>,
    /// The company's partner enrolment, if any.
    pub partner_id: Option<String>,
}

/// What a cache's invalidation needs of an event: what changed, not the payload (a poll re-reads
/// seconds of the log, thousands of events under load).
#[derive(Debug, Clone, PartialEq)]
pub struct EventNote {
    pub seq: i64,
    pub marketplace_id: String,
    pub event_type: String,
    pub subject_id: String,
    pub partner_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    pub marketplace_id: String,
    pub event_type: String,
    pub subject_type: String,
    pub subject_id: String,
    pub partner_id: Option<String>,
    pub related_partner_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub payload: Value,
    /// When the change happened, by the use case's clock.
    pub occurred_at: DateTime<Utc>,
    /// When the row was written, by the database host's wall clock; what pollers page on.
    pub recorded_at: DateTime<Utc>,
}

/// A listing as stored. `version` increases by one with every write; updates name the version
/// they read, so concurrent read-modify-writes cannot lose each other's changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub content: partnerd_domain::listing::ListingContent,
    pub status: partnerd_domain::listing::ListingStatus,
    pub seo_score: u32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub type ListingPage = crate::Paged<ListingRecord>;

/// The start of a listing list: its first ids in order, whether that is all of it, the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingHead {
    pub ids: Vec<String>,
    pub complete: bool,
    pub total: u64,
}

/// A generated content draft: copy proposed for a listing, published onto it on request.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub listing_id: String,
    pub title: String,
    pub short_description: String,
    pub long_description: String,
    pub highlights: Vec<String>,
    pub keywords: Vec<String>,
    /// The listing's score if this draft were published when it was generated.
    pub seo_score: u32,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A co-sell opportunity. The company names are filled in on reads and ignored on writes.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityRecord {
    pub id: String,
    pub marketplace_id: String,
    pub owner_partner_id: String,
    pub owner_company_name: String,
    pub cosell_partner_id: String,
    pub cosell_company_name: String,
    pub customer_name: String,
    pub deal_value_cents: i64,
    pub currency: String,
    pub description: String,
    pub expected_close_date: Option<chrono::NaiveDate>,
    pub status: partnerd_domain::cosell::OpportunityStatus,
    pub notes: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it became won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// Which opportunities a partner lists: always those it is party to, optionally narrowed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityFilter {
    pub status: Option<partnerd_domain::cosell::OpportunityStatus>,
    /// The other party.
    pub other_partner_id: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
}

pub type OpportunityPage = crate::Paged<OpportunityRecord>;

/// A partner's listings of every status: how many and the sum of their scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListingTotals {
    pub count: u64,
    pub score_sum: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFigure {
    pub status: partnerd_domain::cosell::OpportunityStatus,
    pub count: u64,
    /// Sums are i128: no number of stored i64 amounts overflows them.
    pub value_cents: i128,
}

/// Co-sell figures for one partner (either side of each deal) and window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CosellFigures {
    /// Opportunities created within the window.
    pub created: u64,
    /// Value of opportunities open or in progress now.
    pub pipeline_cents: i128,
    /// Value of opportunities won within the window.
    pub won_cents: i128,
    /// Every opportunity now, by status.
    pub by_status: Vec<StatusFigure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContentFigures {
    pub generated: u64,
    pub published: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub report_type: String,
    pub period: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// `on_demand` or `scheduled`.
    pub trigger: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

/// A partner's webhook endpoint. The secret signs deliveries; surfaces never show it after
/// creation or rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A secret rotation: compare-and-set on the stored (encrypted) secret.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretRotation {
    pub marketplace_id: String,
    pub partner_id: String,
    pub webhook_id: String,
    /// The stored secret the rotation read.
    pub expected: String,
    pub secret: String,
    pub at: DateTime<Utc>,
}

/// A webhook's stored secret; `encrypted` is false for secrets written before encryption.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSecret {
    pub webhook_id: String,
    pub secret: String,
    pub encrypted: bool,
}

/// Replaces `from` with `to` (an encrypted secret) if the row still holds `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretChange {
    pub webhook_id: String,
    pub from: String,
    pub to: String,
}

/// What a delivery worker asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub now: DateTime<Utc>,
    /// Claims expire then, so a crashed worker's deliveries are sent again.
    pub lease_until: DateTime<Utc>,
    pub claimer: String,
    pub limit: u32,
    /// At most this many of one webhook's deliveries per claim.
    pub per_webhook: u32,
    /// Webhooks this worker is already sending as much to as it may.
    pub exclude_webhooks: Vec<String>,
}

/// A claimed delivery with everything needed to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
    /// The number of the attempt about to be made (1 for the first).
    pub attempt: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttemptNext {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// No attempts left.
    Failed,
    /// The endpoint answered 410 Gone: deactivate the webhook and cancel what is pending.
    DisableWebhook,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    pub delivery_id: String,
    pub claimer: String,
    pub attempt: u32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub next: AttemptNext,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub attempt: u32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub is_test: bool,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub redelivery_of: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Oldest first; filled by reads that list the log.
    pub log: Vec<AttemptRecord>,
}
