//! Use cases. Each authorises its principal, applies domain rules, and hands the store one unit
//! of work together with the events it appends. Every API surface and the CLI call these.

pub mod analytics;
pub mod auth;
pub mod cosell;
pub mod error;
pub mod listings;
pub mod partners;
pub mod plans;
pub mod rate_limit;
pub mod webhooks;

pub use auth::{AuthFailure, Authenticator, Principal};
pub use error::ServiceError;
pub use plans::PlanCatalog;
pub use rate_limit::{CounterError, InMemoryCounter, RateCounter, RateLimiter};

use partnerd_domain::Clock;
use partnerd_store::Store;
use std::sync::Arc;

/// Everything a request handler or CLI command needs, built once at start-up.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub plans: Arc<PlanCatalog>,
    pub auth: Arc<Authenticator>,
    pub limiter: Arc<RateLimiter>,
    /// Behind an `Arc`: `Services` is cloned for every request, so it must be cheap to clone.
    pub webhooks: Arc<webhooks::WebhookSettings>,
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
        Self {
            store,
            clock,
            plans: Arc::new(plans),
            auth,
            limiter,
            webhooks: Arc::new(webhooks::WebhookSettings::default()),
        }
    }

    /// The same services with these webhook settings (the sender, the schedule).
    pub fn with_webhooks(mut self, settings: webhooks::WebhookSettings) -> Self {
        self.webhooks = Arc::new(settings);
        self
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

    pub fn webhooks(&self) -> webhooks::Webhooks<'_> {
        webhooks::Webhooks { services: self }
    }
}
