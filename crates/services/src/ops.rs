//! What the operations endpoints report: readiness (database, migrations, Redis) and the
//! figures `/metrics` samples. No principal: these answer about the process, not about data.

use crate::Services;
use partnerd_store::{AttemptNext, PoolStatus};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How long a readiness check waits for each dependency.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer of one readiness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The newest migration applied, or why the database could not tell.
    pub database: Result<i64, String>,
    /// The newest migration this binary knows.
    pub expected_schema: i64,
    /// `None` without Redis; otherwise whether it answered.
    pub redis: Option<Result<(), String>>,
}

impl Readiness {
    /// Why this process should not get traffic; empty when it is ready.
    pub fn reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        match &self.database {
            Err(e) => reasons.push(format!("database: {e}")),
            Ok(v) if *v < self.expected_schema => reasons.push(format!(
                "migrations: the database is at version {v}, this binary needs {}",
                self.expected_schema
            )),
            Ok(v) if *v > self.expected_schema => reasons.push(format!(
                "migrations: the database is at version {v}, newer than this binary's {} (a newer partnerd migrated it)",
                self.expected_schema
            )),
            Ok(_) => {}
        }
        if let Some(Err(e)) = &self.redis {
            reasons.push(format!("redis: {e}"));
        }
        reasons
    }
}

/// Webhook attempts recorded by this process, by what they led to.
#[derive(Debug, Default)]
pub struct DeliveryOutcomes {
    delivered: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    disabled: AtomicU64,
}

impl DeliveryOutcomes {
    pub(crate) fn count(&self, next: &AttemptNext) {
        let counter = match next {
            AttemptNext::Delivered => &self.delivered,
            AttemptNext::RetryAt(_) => &self.retried,
            AttemptNext::Failed => &self.failed,
            AttemptNext::DisableWebhook => &self.disabled,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// `(outcome, attempts)`: `delivered`, `retry` (failed, another attempt scheduled),
    /// `failed` (no attempts left), `disabled` (410 Gone).
    pub fn snapshot(&self) -> [(&'static str, u64); 4] {
        [
            ("delivered", self.delivered.load(Relaxed)),
            ("retry", self.retried.load(Relaxed)),
            ("failed", self.failed.load(Relaxed)),
            ("disabled", self.disabled.load(Relaxed)),
        ]
    }
}

pub struct Ops<'a> {
    pub(crate) services: &'a Services,
}

impl Ops<'_> {
    /// Asks the database (and Redis, when configured) now, each within [`CHECK_TIMEOUT`].
    pub async fn readiness(&self) -> Readiness {
        let store = &self.services.store;
        let database = match tokio::time::timeout(CHECK_TIMEOUT, store.schema_version()).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        let redis = self.services.limiter.probe_shared(CHECK_TIMEOUT).await.map(|r| r.map_err(|e| e.to_string()));
        Readiness { database, expected_schema: store.known_schema_version(), redis }
    }

    /// Pending webhook deliveries.
    pub async fn delivery_backlog(&self) -> Result<u64, crate::ServiceError> {
        Ok(self.services.store.delivery_backlog().await?)
    }

    pub fn pool_status(&self) -> PoolStatus {
        self.services.store.pool_status()
    }

    pub fn rate_limit_refusals(&self) -> u64 {
        self.services.limiter.refusals()
    }

    pub fn delivery_outcomes(&self) -> [(&'static str, u64); 4] {
        self.services.outcomes.snapshot()
    }
}
