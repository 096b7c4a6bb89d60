//! Store traits, one per aggregate, and the records they carry.
//!
//! Each write method is one use case's unit of work: the backend runs it in one transaction,
//! together with the events the service hands it, so a change and its event are never apart.
//! Every method takes the marketplace it works in, except `find_key_for_auth`, whose answer is
//! how the marketplace of a request becomes known.
//!
//! Two backends implement these traits (`partnerd-store-sqlite`, `partnerd-store-postgres`) and
//! both run [`contract`]'s suite, so they cannot drift apart.

mod accounts;
pub mod contract;
pub mod kit;
mod leads;
pub mod ops;
mod payment_methods;
mod quotes;
mod records;
pub mod schema;
mod subscriptions;
mod tickets;
mod users;

pub use accounts::*;
pub use kit::{Cursor, Paged, Window};
pub use leads::*;
pub use ops::{OpsStore, PoolStatus};
pub use payment_methods::*;
pub use quotes::*;
pub use subscriptions::*;
pub use tickets::*;
pub use users::*;

pub use records::*;
pub use schema::billing::{CommissionFilter, CommissionRecord, InvoiceFilter, InvoiceRecord, NewInvoice};
pub use schema::customers::{CompanyBilling, CustomerAccountRecord, CustomerEntry, CustomerFilter, CustomerLink};
pub use schema::idempotency::{IdempotencyRecord, IdempotentResponse};
pub use schema::sandbox::SandboxRecord;
pub use schema::subscriptions::CatalogPlanRecord;
pub use schema::usage::{UsageDayRecord, UsageIngest, UsageRecordRow};
pub use schema::whitelabel::{BrandingRecord, CUSTOM_DOMAIN_TAKEN, DeploymentRecord, EmailTemplateRecord};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::invoice::InvoiceStatus;
use partnerd_domain::listing::ListingStatus;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule refused the write (e-mail taken, marketplace already exists…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or failed; callers answer 5xx / exit 1.
    #[error("database error: {0}")]
    Backend(String),
    /// A page's cursor was made for another order (another sort of the list).
    #[error("the cursor belongs to another order of this list")]
    InvalidCursor,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait MarketplaceStore: Send + Sync {
    async fn default_marketplace(&self) -> StoreResult<Option<Marketplace>>;

    /// Creates the default marketplace with its operator company, user and key. Refuses with
    /// `Conflict` when a default marketplace exists already (another process won the race).
    async fn create_default_marketplace(&self, new: NewMarketplace) -> StoreResult<Marketplace>;
}

#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Company, admin user, membership, enrolment and first key, in one transaction.
    async fn create_partner(&self, new: NewPartner) -> StoreResult<()>;

    async fn get_partner(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Option<PartnerRecord>>;

    async fn list_partners(&self, marketplace_id: &str) -> StoreResult<Vec<PartnerRecord>>;

    /// `(user id, e-mail)` for those of `user_ids` in the marketplace.
    async fn user_emails(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, String)>>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Refuses with `NotFound("membership")` unless the user is a member of the company.
    async fn create_key(&self, new: NewApiKey, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn list_keys(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>>;

    /// Every key made for acting in `company_id` (all its users'), oldest first.
    async fn list_company_keys(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<ApiKeyRecord>>;

    /// Marks the key revoked (idempotent: revoking twice keeps the first time and appends no
    /// second event). `NotFound` when the marketplace has no such key.
    async fn revoke_key(
        &self,
        marketplace_id: &str,
        key_id: &str,
        at: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<ApiKeyRecord>;

    /// Everything authentication needs about a key, in one read.
    async fn find_key_for_auth(&self, key_id: &str) -> StoreResult<Option<KeyAuth>>;

    /// The companies a user belongs to, with the roles held in each.
    async fn memberships(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<Membership>>;
}

#[async_trait]
pub trait EventLog: Send + Sync {
    /// Events of the given types recorded at or after `since`, oldest first, across
    /// marketplaces (used by per-process caches that must notice other processes' changes).
    async fn events_recorded_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventRecord>>;

    /// [`Self::events_recorded_since`] without payloads: what caches' invalidation reads.
    async fn event_notes_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventNote>>;

    /// A subject's events in the order they were recorded.
    async fn events_for_subject(&self, marketplace_id: &str, subject_id: &str) -> StoreResult<Vec<EventRecord>>;
}

#[async_trait]
pub trait ListingStore: Send + Sync {
    /// Creates every listing, with the events, in one transaction (all or none).
    async fn create_listings(&self, listings: Vec<ListingRecord>, events: Vec<NewEvent>) -> StoreResult<()>;

    /// The partner's listing; `None` for another partner's (isolation) or a missing one.
    async fn get_listing(&self, marketplace_id: &str, partner_id: &str, id: &str)
    -> StoreResult<Option<ListingRecord>>;

    /// Newest first (then by id), with the total matching the filter.
    async fn list_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        window: &Window,
        limit: u32,
    ) -> StoreResult<ListingPage>;

    /// The ids of the first `rows` listings of `list_listings`' order, whether they are all of
    /// them, and the total: one read.
    async fn listing_head(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        rows: u32,
    ) -> StoreResult<ListingHead>;

    /// The cursors after every `every`th listing of `list_listings`' order: one walk of the
    /// index (`schema::listings::marks`).
    async fn listing_marks(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        status: Option<ListingStatus>,
        every: u32,
    ) -> StoreResult<Vec<Cursor>>;

    /// The partner's listings among `ids`, in no particular order (missing ones left out).
    async fn get_listings(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<ListingRecord>>;

    /// Writes `listing` (whose `version` must be `expected_version + 1`). `Conflict` when the
    /// stored version is no longer `expected_version`; `NotFound` when the row is gone.
    async fn update_listing(
        &self,
        listing: ListingRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    async fn create_draft(&self, draft: DraftRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn list_drafts(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        listing_id: &str,
    ) -> StoreResult<Vec<DraftRecord>>;

    async fn get_draft(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        draft_id: &str,
    ) -> StoreResult<Option<DraftRecord>>;

    /// Marks the draft published and writes the listing, in one transaction. `Conflict` when
    /// the draft was published already or the listing changed since it was read.
    async fn publish_draft(
        &self,
        draft_id: &str,
        published_at: DateTime<Utc>,
        listing: ListingRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait CosellStore: Send + Sync {
    async fn create_opportunity(&self, opportunity: OpportunityRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    /// The opportunity if `viewer_partner_id` is either party; `None` otherwise.
    async fn get_opportunity(
        &self,
        marketplace_id: &str,
        viewer_partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>>;

    /// Opportunities the viewer is party to, newest first, with the total matching.
    async fn list_opportunities(
        &self,
        marketplace_id: &str,
        viewer_partner_id: &str,
        filter: &OpportunityFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<OpportunityPage>;

    /// Versioned write, as `ListingStore::update_listing`.
    async fn update_opportunity(
        &self,
        opportunity: OpportunityRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
}

/// Aggregates for the analytics summary and reports, computed by the database over indexes.
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    async fn listing_totals(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<ListingTotals>;

    /// The partner's best-scoring listings that are not archived (the totals count every status).
    async fn top_listings(&self, marketplace_id: &str, partner_id: &str, limit: u32)
    -> StoreResult<Vec<ListingRecord>>;

    async fn cosell_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<CosellFigures>;

    /// Drafts generated, and drafts published, within `[start, end)`.
    async fn content_figures(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<ContentFigures>;

    /// Stores a report; `false` (and nothing stored) when it is a scheduled report whose
    /// partner, type and period already have one.
    async fn create_report(&self, report: ReportRecord, events: Vec<NewEvent>) -> StoreResult<bool>;

    /// Newest first, with the total.
    async fn list_reports(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<ReportRecord>>;

    async fn get_report(&self, marketplace_id: &str, partner_id: &str, id: &str) -> StoreResult<Option<ReportRecord>>;
}

/// Fired after a COMMIT that created deliveries, so a delivery worker waiting on it claims at
/// once instead of at its next poll. Cheap to clone (one shared signal); firing never blocks
/// and never fails, and a wake nobody waits for is kept for the next wait (see
/// [`DeliveryWaiter`]), so a commit between a worker's claim and its wait is not missed.
///
/// SQLite fires it from the writer thread after a batch that fanned out commits; PostgreSQL
/// from its `LISTEN partnerd_deliveries` connection, which hears every process's commits.
/// A wake is a hint: the claim decides what is due, and workers still poll now and then.
#[derive(Debug, Clone)]
pub struct DeliveryWake(std::sync::Arc<tokio::sync::watch::Sender<u64>>);

impl Default for DeliveryWake {
    fn default() -> Self {
        Self(std::sync::Arc::new(tokio::sync::watch::Sender::new(0)))
    }
}

impl DeliveryWake {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes every waiter (and the next wait of a waiter not waiting now).
    pub fn fire(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> DeliveryWaiter {
        DeliveryWaiter(self.0.subscribe())
    }
}

/// One worker's view of a [`DeliveryWake`].
#[derive(Debug)]
pub struct DeliveryWaiter(tokio::sync::watch::Receiver<u64>);

impl DeliveryWaiter {
    /// Forgets the wakes so far: call it before looking for work, then [`Self::wait`] returns
    /// at once if a commit fired since.
    pub fn mark_seen(&mut self) {
        self.0.borrow_and_update();
    }

    /// Waits for a wake since the last [`Self::mark_seen`], at most `timeout`; `true` if woken.
    pub async fn wait(&mut self, timeout: std::time::Duration) -> bool {
        match tokio::time::timeout(timeout, self.0.changed()).await {
            Ok(Ok(())) => true,
            // The signal is gone (its store dropped): only the timeout is left.
            Ok(Err(_)) => {
                tokio::time::sleep(timeout).await;
                false
            }
            Err(_) => false,
        }
    }
}

/// Webhooks and their deliveries. Deliveries are created by the backends' `append_events`,
/// in the same transaction as the event, for every active subscribed webhook of the event's
/// audience (its partner and related partner).
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// The signal fired after commits that created deliveries (see [`DeliveryWake`]).
    fn delivery_wake(&self) -> DeliveryWake;

    /// Creates the webhook unless its partner has `max_per_partner` (not deleted) already:
    /// `false` and nothing written then. The count and the insert are one transaction that
    /// concurrent creates for the same partner cannot interleave with.
    async fn create_webhook(
        &self,
        webhook: WebhookRecord,
        max_per_partner: u32,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool>;

    /// The partner's webhooks that are not deleted, oldest first.
    async fn list_webhooks(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Vec<WebhookRecord>>;

    async fn get_webhook(&self, marketplace_id: &str, partner_id: &str, id: &str)
    -> StoreResult<Option<WebhookRecord>>;

    /// Writes url, events and active (never the secret: see `rotate_webhook_secret`), and the
    /// subscriptions. Deactivating cancels the webhook's pending deliveries.
    async fn update_webhook(&self, webhook: WebhookRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    /// Replaces the stored secret if it is still `rotation.expected`, with the events; otherwise
    /// writes nothing (another rotation won). Either way answers the webhook as stored now, so
    /// its secret is the one in force. `NotFound` when the webhook is gone.
    async fn rotate_webhook_secret(
        &self,
        rotation: SecretRotation,
        events: Vec<NewEvent>,
    ) -> StoreResult<WebhookRecord>;

    /// Every stored webhook secret (deleted webhooks included), across marketplaces, for
    /// encrypting and re-encrypting them.
    async fn stored_secrets(&self) -> StoreResult<Vec<StoredSecret>>;

    /// Writes each change whose row still holds `from` (and marks it encrypted); answers how
    /// many were written. One transaction.
    async fn replace_secrets(&self, changes: Vec<SecretChange>) -> StoreResult<u64>;

    /// Deletes the webhook (its delivery log stays) and cancels its pending deliveries.
    async fn delete_webhook(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Whether any delivery is due: a cheap read before a claim, which writes.
    async fn deliveries_due(&self, now: DateTime<Utc>) -> StoreResult<bool>;

    /// Claims due deliveries of active webhooks, oldest due first, at most `per_webhook` per
    /// webhook. Claimed rows are invisible to other claims until the lease ends or the attempt
    /// is finished. On PostgreSQL concurrent claimers skip each other's locked rows.
    async fn claim_deliveries(&self, claim: &Claim) -> StoreResult<Vec<ClaimedDelivery>>;

    /// Records an attempt and moves the delivery on. `false` (and nothing written) when this
    /// claimer no longer holds the delivery at that attempt.
    async fn finish_attempt(&self, result: AttemptResult) -> StoreResult<bool>;

    /// [`Self::finish_attempt`] for several attempts at once, each fenced on its own, in as
    /// few round trips and commits as the backend can: one answer per result, in order. An
    /// error means none of them is known to be recorded (retrying is safe: a recorded attempt
    /// answers `false` the second time).
    async fn finish_attempts(&self, results: Vec<AttemptResult>) -> StoreResult<Vec<bool>> {
        let mut recorded = Vec::with_capacity(results.len());
        for r in results {
            recorded.push(self.finish_attempt(r).await?);
        }
        Ok(recorded)
    }

    /// Gives claimed deliveries back without an attempt.
    async fn release_deliveries(&self, ids: &[String], claimer: &str) -> StoreResult<()>;

    /// Extends to `until` the leases `claimer` still holds at the given `(delivery, attempt)`,
    /// and answers those deliveries. A delivery claimed by someone else since, or moved past
    /// that attempt, is not touched and not answered: its holder lost it.
    async fn renew_claims(
        &self,
        claimer: &str,
        held: &[(String, u32)],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<String>>;

    /// A webhook's deliveries, newest first, each with its attempt log; and the total.
    async fn list_deliveries(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<DeliveryRecord>>;

    /// A new pending delivery of the same event to the same webhook, due at `at`. `NotFound`
    /// unless the delivery is the webhook's (and not a test).
    async fn redeliver(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        new_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<DeliveryRecord>;

    /// Stores a test delivery already made (with its single attempt).
    async fn record_test_delivery(&self, delivery: DeliveryRecord) -> StoreResult<()>;
}

/// Picks from candidates (oldest due first) at most `per_webhook` per webhook and `limit` in all.
pub fn fair_share<T>(candidates: Vec<T>, webhook_of: impl Fn(&T) -> &str, per_webhook: u32, limit: u32) -> Vec<T> {
    let mut counts: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut chosen = Vec::new();
    for c in candidates {
        if chosen.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            break;
        }
        let n = counts.entry(webhook_of(&c).to_owned()).or_default();
        if *n < per_webhook {
            *n += 1;
            chosen.push(c);
        }
    }
    chosen
}

/// `Idempotency-Key`s. Each method is its own transaction: the claim commits before the
/// request runs, so other requests (and other processes) see it while it runs.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `claim.scope`/`claim.key` for `claim.claim_token`: a new row, or a taken-over one
    /// whose key expired or whose claim's lock lapsed (at `now`). `None` when the claim is this
    /// request's; otherwise the row another request holds or completed.
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>>;

    /// Stores the response of the claim's holder; `false` when the claim is no longer its own.
    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        claim_token: &str,
        response: &IdempotentResponse,
    ) -> StoreResult<bool>;

    /// Gives an unfinished claim up (its request failed), so a retry runs again.
    async fn release_idempotency_key(&self, scope: &str, key: &str, claim_token: &str) -> StoreResult<()>;

    /// Deletes keys expired at `now`; how many.
    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

/// Reseller customer accounts and their billing. A customer account is a customer company with
/// its association to the partner's company (`AccountStore`'s rows) plus a
/// `CustomerAccountRecord`; every invoice is numbered in its issuing transaction.
#[async_trait]
pub trait BillingStore: Send + Sync {
    /// The company, its association, the account and its first invoice with the commission,
    /// and the events, in one transaction. Returns the invoice as numbered.
    async fn create_customer(
        &self,
        company: CompanyRecord,
        association: AssociationRecord,
        account: CustomerAccountRecord,
        first_invoice: NewInvoice,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord>;

    /// The partner's account; `None` for another partner's (isolation) or a missing one.
    async fn get_customer(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<CustomerAccountRecord>>;

    /// The partner's customers: the associations of its company (`partner_company_id`), each
    /// with its account once it has one; newest association first, with the total matching.
    async fn list_customers(
        &self,
        marketplace_id: &str,
        partner_company_id: &str,
        filter: &CustomerFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<CustomerEntry>>;

    /// One of the partner's customers (see `list_customers`); `None` when `customer_id` is not
    /// associated with the partner's company.
    async fn get_customer_entry(
        &self,
        marketplace_id: &str,
        partner_company_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<CustomerEntry>>;

    /// Opens the account of an associated company that had none (its first plan), issues its
    /// first invoice and appends the events, in one transaction. `Conflict` when the company has
    /// an account already (a concurrent start).
    async fn start_customer(
        &self,
        account: CustomerAccountRecord,
        first_invoice: NewInvoice,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord>;

    /// What the company's accounts were billed: its open invoices and the sum of its paid
    /// ones, per currency.
    async fn company_billing(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<CompanyBilling>>;

    /// Writes `account` (its `version` must be `expected_version + 1`) and issues `invoice`
    /// if given, with the events, in one transaction. `Conflict` when the stored version is no
    /// longer `expected_version` (another request or process changed or renewed it).
    async fn update_customer(
        &self,
        account: CustomerAccountRecord,
        expected_version: i64,
        invoice: Option<NewInvoice>,
        events: Vec<NewEvent>,
    ) -> StoreResult<Option<InvoiceRecord>>;

    /// Billed accounts (any marketplace) whose current period ended at or before `now`,
    /// oldest first, at most `limit`.
    async fn customers_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<CustomerAccountRecord>>;

    /// The invoice; with `partner_id`, only that partner's.
    async fn get_invoice(
        &self,
        marketplace_id: &str,
        partner_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<InvoiceRecord>>;

    async fn list_invoices(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &InvoiceFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<InvoiceRecord>>;

    /// The customer's latest invoice ids, newest first.
    async fn latest_invoice_ids(&self, marketplace_id: &str, customer_id: &str, limit: u32)
    -> StoreResult<Vec<String>>;

    /// Moves the invoice from `from` to `to` (voiding reverses its commission and returns
    /// `credit_back_cents` to its customer's balance, bumping the account's version so a
    /// renewal that read the old balance retries), with the events, in one transaction.
    /// `Conflict` when its status is no longer `from`.
    #[allow(clippy::too_many_arguments)]
    async fn move_invoice(
        &self,
        marketplace_id: &str,
        id: &str,
        from: InvoiceStatus,
        to: InvoiceStatus,
        at: DateTime<Utc>,
        credit_back_cents: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<InvoiceRecord>;

    /// The partner's commissions matching the filter, oldest first.
    async fn list_commissions(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        filter: &CommissionFilter,
    ) -> StoreResult<Vec<CommissionRecord>>;

    /// The partner's override of its plan's commission rate, in basis points.
    async fn commission_rate(&self, partner_id: &str) -> StoreResult<Option<u32>>;

    /// Sets (`Some`) or removes (`None`) the partner's override.
    async fn set_commission_rate(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        rate_bps: Option<u32>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Metered usage from the operator's platform: raw records, unique per marketplace and record
/// id, and the daily aggregates kept with them (`schema::usage`).
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Of `customer_ids`, those with a customer account in the marketplace.
    async fn known_usage_customers(&self, marketplace_id: &str, customer_ids: Vec<String>) -> StoreResult<Vec<String>>;

    /// Inserts the records (each id at most once in `records`) and folds the new ones into
    /// the daily aggregates, in one transaction. A record whose id is stored with the same
    /// content is skipped (a retried batch counts once); with other content the whole batch is
    /// refused: `Conflict` starting with `schema::usage::USAGE_ID_REUSED`, then the id. The
    /// events are appended only when at least one record is new.
    async fn ingest_usage(
        &self,
        marketplace_id: &str,
        records: Vec<UsageRecordRow>,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<UsageIngest>;

    /// The customer's daily aggregates from `first` to `last` (inclusive), by day, metric and
    /// channel.
    async fn usage_days(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> StoreResult<Vec<UsageDayRecord>>;
}

/// White-label branding, customised e-mail templates and configuration deployments of a
/// customer account. Reads and writes are by marketplace and customer: the services check the
/// account is the caller's first.
#[async_trait]
pub trait WhiteLabelStore: Send + Sync {
    async fn get_branding(&self, marketplace_id: &str, customer_id: &str) -> StoreResult<Option<BrandingRecord>>;

    /// Inserts or replaces the customer's branding (keeping the first `created_at`), with the
    /// events. `Conflict(CUSTOM_DOMAIN_TAKEN)` when another customer of the marketplace has its
    /// custom domain.
    async fn save_branding(&self, branding: BrandingRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    /// The customer's customised templates, by name.
    async fn email_templates(&self, marketplace_id: &str, customer_id: &str) -> StoreResult<Vec<EmailTemplateRecord>>;

    /// Makes `templates` the customer's customised ones (every other is the system's), with
    /// the events, in one transaction.
    async fn replace_email_templates(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        templates: Vec<EmailTemplateRecord>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    /// The customer's `deployed` version, if any.
    async fn current_deployment(
        &self,
        marketplace_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<DeploymentRecord>>;

    async fn get_deployment(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        version: i64,
    ) -> StoreResult<Option<DeploymentRecord>>;

    /// Newest version first, with the total.
    async fn list_deployments(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<DeploymentRecord>>;

    /// In one transaction: marks version `previous` superseded (at the deployment's time) and
    /// inserts `deployment` (version `previous + 1`, or 1 without a previous one) as current,
    /// with the events. `Conflict` when `previous` is no longer the current version or the
    /// version exists: a concurrent deploy won, nothing is written.
    async fn record_deployment(
        &self,
        deployment: DeploymentRecord,
        previous: Option<i64>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
}

/// Sandboxes: rows of the owner's marketplace, each naming a marketplace of its own (its id)
/// whose every row goes when it is removed (`schema::sandbox::PURGE`).
#[async_trait]
pub trait SandboxStore: Send + Sync {
    /// Creates the sandbox's marketplace and its `provisioning` row, in one transaction, unless
    /// the owner holds `max_per_owner` sandboxes already: `false` then, and nothing written.
    /// Concurrent creates for one owner cannot both pass the count.
    async fn create_sandbox(&self, sandbox: SandboxRecord, max_per_owner: u32) -> StoreResult<bool>;

    /// Moves the sandbox from `provisioning` to `active` with its demo partner, appending the
    /// events to the owner's marketplace. `NotFound` when it is not provisioning any more (an
    /// expiry sweep removed it meanwhile).
    async fn activate_sandbox(&self, sandbox: &SandboxRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    /// The owner's sandbox (any status); `None` for another partner's or a missing one.
    async fn get_sandbox(
        &self,
        marketplace_id: &str,
        owner_partner_id: &str,
        id: &str,
    ) -> StoreResult<Option<SandboxRecord>>;

    /// The owner's active sandboxes, newest first.
    async fn list_sandboxes(&self, marketplace_id: &str, owner_partner_id: &str) -> StoreResult<Vec<SandboxRecord>>;

    /// Removes the sandbox: its row and every row of its marketplace, with the events (appended
    /// to the owner's marketplace `marketplace_id`), in one transaction. `false` (nothing
    /// written) when it was removed already, by this process or another.
    async fn remove_sandbox(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool>;

    /// Sandboxes of any marketplace expired at `now`, or left provisioning since before
    /// `provisioning_before`; oldest expiry first, at most `limit`.
    async fn sandboxes_due_for_removal(
        &self,
        now: DateTime<Utc>,
        provisioning_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<SandboxRecord>>;
}

/// Everything a service needs; both backends implement all of it.
pub trait Store:
    MarketplaceStore
    + PartnerStore
    + KeyStore
    + EventLog
    + ListingStore
    + CosellStore
    + AnalyticsStore
    + WebhookStore
    + AccountStore
    + IdempotencyStore
    + LeadStore
    + OpsStore
    + BillingStore
    + TicketStore
    + MetricsStore
    + UsageStore
    + WhiteLabelStore
    + SandboxStore
    + SubscriptionStore
    + PaymentMethodStore
    + QuoteStore
    + UserStore
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`, for logs and the health endpoint.
    fn backend(&self) -> &'static str;

    /// The SQL dialect (what a cursor made outside a query needs to match the query's).
    fn dialect(&self) -> kit::Dialect {
        if self.backend() == "postgres" { kit::Dialect::Postgres } else { kit::Dialect::Sqlite }
    }
}
