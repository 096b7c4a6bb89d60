//! Use cases. Each authorises its principal, applies domain rules, and hands the store one unit
//! of work together with the events it appends. Every API surface and the CLI call these.

pub mod accounts;
pub mod analytics;
pub mod auth;
pub mod billing;
pub mod caches;
pub mod catalog;
pub mod contention;
pub mod cosell;
pub mod customers;
pub mod deploys;
pub mod error;
pub mod idempotency;
pub mod leads;
pub mod listings;
pub mod metrics;
pub mod ops;
pub mod partners;
pub mod payment_methods;
pub mod plans;
pub mod policy;
pub mod quotes;
pub mod rate_limit;
pub mod sandboxes;
pub mod secrets;
pub mod subscriptions;
pub mod tickets;
pub mod usage;
pub mod users;
pub mod webhooks;
pub mod whitelabel;

pub use auth::{AuthFailure, Authenticator, Principal};
pub use error::{ErrorKind, ServiceError};
pub use plans::PlanCatalog;
pub use rate_limit::{CounterError, InMemoryCounter, RateCounter, RateLimiter};

use chrono::{DateTime, Utc};
use partnerd_domain::Clock;
use partnerd_store::{EventRecord, Store};
use std::sync::Arc;

/// Everything a request handler or CLI command needs, built once at start-up. Its parts are
/// private: callers go through the use cases, so every read and write is authorised by them.
///
/// One `Arc`: the router clones its state for every layer of every request, and each clone and
/// drop of an `Arc` is an atomic on a cache line both cores write. With the ten parts cloned
/// one by one, dropping `Services` alone was 9 % of a cached listing read (S2's profile).
#[derive(Clone)]
pub struct Services(Arc<Parts>);

impl std::ops::Deref for Services {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What [`Services`] holds; visible only inside this crate.
#[derive(Clone)]
pub struct Parts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    plans: Arc<PlanCatalog>,
    auth: Arc<Authenticator>,
    limiter: Arc<RateLimiter>,
    webhooks: Arc<webhooks::WebhookSettings>,
    billing: Arc<billing::BillingSettings>,
    sandbox: Arc<sandboxes::SandboxSettings>,
    outcomes: Arc<ops::DeliveryOutcomes>,
    listing_cache: Arc<caches::ListingCache>,
}

impl Services {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        plans: PlanCatalog,
        counter: Arc<dyn RateCounter>,
    ) -> Self {
        let auth = Arc::new(Authenticator::new(store.clone(), clock.clone()));
        let limiter = Arc::new(RateLimiter::new(counter, clock.clone()));
        Self(Arc::new(Parts {
            store,
            clock,
            plans: Arc::new(plans),
            auth,
            limiter,
            webhooks: Arc::new(webhooks::WebhookSettings::default()),
            billing: Arc::new(billing::BillingSettings::default()),
            sandbox: Arc::default(),
            outcomes: Arc::default(),
            listing_cache: Arc::default(),
        }))
    }

    /// Keeps this process's caches in step with writes made elsewhere (see `caches`).
    pub fn spawn_cache_invalidation(&self, interval: std::time::Duration) -> tokio::task::JoinHandle<()> {
        caches::spawn_invalidation(self.store.clone(), self.auth.clone(), self.listing_cache.clone(), interval)
    }

    /// The same services with these webhook settings (the sender, the schedule).
    pub fn with_webhooks(mut self, settings: webhooks::WebhookSettings) -> Self {
        Arc::make_mut(&mut self.0).webhooks = Arc::new(settings);
        self
    }

    /// The same services with this price list, commission rates and invoice numbering.
    pub fn with_billing(mut self, settings: billing::BillingSettings) -> Self {
        Arc::make_mut(&mut self.0).billing = Arc::new(settings);
        self
    }

    /// The same services with these sandbox settings (the default expiry).
    pub fn with_sandboxes(mut self, settings: sandboxes::SandboxSettings) -> Self {
        Arc::make_mut(&mut self.0).sandbox = Arc::new(settings);
        self
    }

    /// The key check every surface's guard runs.
    pub fn auth(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    pub fn plans(&self) -> &PlanCatalog {
        &self.plans
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The services' time (a manual clock in tests).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The store's backend name (`"sqlite"`, `"postgres"`), for start-up logs.
    pub fn backend_name(&self) -> &'static str {
        self.store.backend()
    }

    /// The events recorded about one record, oldest first: an operator's audit read (and what
    /// tests check the log with). No principal: callers are trusted code, not API clients.
    pub async fn events_for_subject(
        &self,
        marketplace_id: &str,
        subject_id: &str,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        Ok(self.store.events_for_subject(marketplace_id, subject_id).await?)
    }

    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts { services: self }
    }

    pub fn subscriptions(&self) -> subscriptions::Subscriptions<'_> {
        subscriptions::Subscriptions { services: self }
    }

    pub fn quotes(&self) -> quotes::Quotes<'_> {
        quotes::Quotes { services: self }
    }

    pub fn leads(&self) -> leads::Leads<'_> {
        leads::Leads { services: self }
    }

    pub fn catalog(&self) -> catalog::Catalog<'_> {
        catalog::Catalog { services: self }
    }

    pub fn partners(&self) -> partners::Partners<'_> {
        partners::Partners { services: self }
    }

    pub fn listings(&self) -> listings::Listings<'_> {
        listings::Listings { services: self }
    }

    pub fn cosell(&self) -> cosell::Cosell<'_> {
        cosell::Cosell { services: self }
    }

    pub fn analytics(&self) -> analytics::Analytics<'_> {
        analytics::Analytics { services: self }
    }

    pub fn customers(&self) -> customers::Customers<'_> {
        customers::Customers { services: self }
    }

    pub fn billing(&self) -> billing::Billing<'_> {
        billing::Billing { services: self }
    }

    pub fn tickets(&self) -> tickets::Tickets<'_> {
        tickets::Tickets { services: self }
    }

    pub fn metrics(&self) -> metrics::Metrics<'_> {
        metrics::Metrics { services: self }
    }

    /// Metered usage: the operator's ingestion and customers' usage reports.
    pub fn usage(&self) -> usage::Usage<'_> {
        usage::Usage { services: self }
    }

    pub fn whitelabel(&self) -> whitelabel::WhiteLabel<'_> {
        whitelabel::WhiteLabel { services: self }
    }

    pub fn sandboxes(&self) -> sandboxes::Sandboxes<'_> {
        sandboxes::Sandboxes { services: self }
    }

    pub fn deploys(&self) -> deploys::Deploys<'_> {
        deploys::Deploys { services: self }
    }

    pub fn webhooks(&self) -> webhooks::Webhooks<'_> {
        webhooks::Webhooks { services: self }
    }

    /// Readiness and the figures `/metrics` shows.
    pub fn ops(&self) -> ops::Ops<'_> {
        ops::Ops { services: self }
    }

    /// `Idempotency-Key` claims and stored responses, for every surface's POSTs.
    pub fn idempotency(&self) -> idempotency::Idempotency<'_> {
        idempotency::Idempotency { services: self }
    }

    /// AppReseller payment methods.
    pub fn users(&self) -> users::Users<'_> {
        users::Users { services: self }
    }

    pub fn payment_methods(&self) -> payment_methods::PaymentMethods<'_> {
        payment_methods::PaymentMethods { services: self }
    }

    /// For the delivery worker.
    pub fn delivery_queue(&self) -> webhooks::DeliveryQueue<'_> {
        webhooks::DeliveryQueue { services: self }
    }
}
