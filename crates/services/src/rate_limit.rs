//! Rate limiting: the decision is domain maths; counting is a `RateCounter`, in process by
//! default or in Redis when several processes must share one limit.

use async_trait::async_trait;
use partnerd_domain::Clock;
use partnerd_domain::rate_limit::{Decision, Limits, Window, WindowSlot, decide, slots};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
#[error("rate-limit counter unavailable: {0}")]
pub struct CounterError(pub String);

#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Adds one hit to each window slot of `bucket`; returns each slot's count after it.
    async fn hit(&self, bucket: &str, slots: &[WindowSlot]) -> Result<Vec<u64>, CounterError>;
}

/// One window's counter: which window instance it counts, and how many hits so far.
struct Count {
    window: Window,
    index: i64,
    hits: u64,
}

/// Counters in this process's memory.
#[derive(Default)]
pub struct InMemoryCounter {
    buckets: Mutex<HashMap<String, Vec<Count>>>,
}

/// Above this many buckets, those whose windows have all ended are dropped.
const PRUNE_ABOVE: usize = 50_000;

#[async_trait]
impl RateCounter for InMemoryCounter {
    async fn hit(&self, bucket: &str, slots: &[WindowSlot]) -> Result<Vec<u64>, CounterError> {
        let mut buckets = self.buckets.lock().expect("rate counter lock");
        if buckets.len() > PRUNE_ABOVE && !buckets.contains_key(bucket) {
            let current: Vec<(Window, i64)> = slots.iter().map(|s| (s.window, s.index)).collect();
            buckets.retain(|_, counts| counts.iter().any(|c| current.contains(&(c.window, c.index))));
        }
        // Look up before inserting: the common case (a known bucket) allocates nothing.
        if !buckets.contains_key(bucket) {
            buckets.insert(bucket.to_owned(), Vec::with_capacity(slots.len()));
        }
        let counts = buckets.get_mut(bucket).expect("just ensured");
        Ok(slots
            .iter()
            .map(|slot| match counts.iter_mut().find(|c| c.window == slot.window) {
                Some(c) if c.index == slot.index => {
                    c.hits += 1;
                    c.hits
                }
                Some(c) => {
                    // A new window began: the old count is over.
                    *c = Count { window: slot.window, index: slot.index, hits: 1 };
                    1
                }
                None => {
                    counts.push(Count { window: slot.window, index: slot.index, hits: 1 });
                    1
                }
            })
            .collect())
    }
}

pub struct RateLimiter {
    counter: Arc<dyn RateCounter>,
    /// Used while the shared counter is unreachable: limits stay enforced per process rather
    /// than the API failing or going unlimited.
    fallback: InMemoryCounter,
    clock: Arc<dyn Clock>,
}

impl RateLimiter {
    pub fn new(counter: Arc<dyn RateCounter>, clock: Arc<dyn Clock>) -> Self {
        Self { counter, fallback: InMemoryCounter::default(), clock }
    }

    /// Counts one request against `bucket`; `None` when the limits have no window at all.
    pub async fn check(&self, bucket: &str, limits: &Limits) -> Option<Decision> {
        let now = self.clock.now();
        let slots = slots(limits, now);
        if slots.is_empty() {
            return None;
        }
        let counts = match self.counter.hit(bucket, &slots).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "shared rate-limit counter failed; counting in process");
                self.fallback.hit(bucket, &slots).await.expect("in-memory counter cannot fail")
            }
        };
        decide(&slots, &counts, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use partnerd_domain::ManualClock;

    #[tokio::test]
    async fn each_window_counts_and_resets_on_its_own() {
        let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2025, 1, 8, 0, 0, 0).unwrap()));
        let limiter = RateLimiter::new(Arc::new(InMemoryCounter::default()), clock.clone());
        let limits = Limits { per_minute: Some(2), per_hour: None, per_day: Some(3) };
        assert_eq!(limiter.check("k", &limits).await.unwrap().remaining, 1);
        assert_eq!(limiter.check("k", &limits).await.unwrap().remaining, 0);
        assert!(!limiter.check("k", &limits).await.unwrap().allowed);
        assert!(limiter.check("other", &limits).await.unwrap().allowed, "buckets are separate");
        clock.advance(chrono::Duration::minutes(1));
        // The minute window reset, but the day has used 3 of 3 already (refused hits count).
        let d = limiter.check("k", &limits).await.unwrap();
        assert!(!d.allowed);
        assert_eq!(d.limit, 3);
        clock.advance(chrono::Duration::days(1));
        assert!(limiter.check("k", &limits).await.unwrap().allowed);
    }

    struct Broken;

    #[async_trait]
    impl RateCounter for Broken {
        async fn hit(&self, _: &str, _: &[WindowSlot]) -> Result<Vec<u64>, CounterError> {
            Err(CounterError("down".into()))
        }
    }

    #[tokio::test]
    async fn a_failing_shared_counter_falls_back_to_local_limits() {
        let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2025, 1, 8, 0, 0, 0).unwrap()));
        let limiter = RateLimiter::new(Arc::new(Broken), clock);
        let limits = Limits { per_minute: Some(1), per_hour: None, per_day: None };
        assert!(limiter.check("k", &limits).await.unwrap().allowed);
        assert!(!limiter.check("k", &limits).await.unwrap().allowed);
    }
}
