//! Rate limiting: the decision is domain maths; counting is a `RateCounter`, in process by
//! default or in Redis when several processes must share one limit.
//!
//! A shared counter that fails is not asked again for a while (a circuit breaker): requests are
//! counted in process, which costs microseconds, instead of each waiting on a connection
//! attempt. After the pause the next request starts one probe in the background; the shared
//! counter is used again once the probe succeeds.

use async_trait::async_trait;
use partnerd_domain::Clock;
use partnerd_domain::rate_limit::{Decision, Limits, Window, WindowSlot, decide, slots};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
#[error("rate-limit counter unavailable: {0}")]
pub struct CounterError(pub String);

#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Adds one hit to each window slot of `bucket`; returns each slot's count after it.
    async fn hit(&self, bucket: &str, slots: &[WindowSlot]) -> Result<Vec<u64>, CounterError>;

    /// Checks that the counter answers, counting nothing: how a tripped breaker learns that the
    /// counter is back.
    async fn probe(&self) -> Result<(), CounterError> {
        Ok(())
    }

    /// Whether this counter lives outside the process (Redis), so readiness checks it.
    fn shared(&self) -> bool {
        false
    }
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

/// How long the shared counter is left alone after it failed, by default.
pub const BREAKER_PAUSE: Duration = Duration::from_secs(2);

pub struct RateLimiter {
    counter: Arc<dyn RateCounter>,
    /// Used while the shared counter is unreachable: limits stay enforced per process rather
    /// than the API failing or going unlimited.
    fallback: InMemoryCounter,
    breaker: Arc<Breaker>,
    clock: Arc<dyn Clock>,
    /// Requests refused so far, for `/metrics`.
    refused: std::sync::atomic::AtomicU64,
}

/// Whether the shared counter is being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Circuit {
    /// In use.
    Closed,
    /// Failed; left alone until then.
    Open { until: Instant },
    /// A background probe is asking whether it is back.
    Probing,
}

struct Breaker {
    circuit: Mutex<Circuit>,
    pause: Duration,
}

impl Breaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Circuit> {
        // A plain enum: a panic elsewhere cannot leave it half-written.
        self.circuit.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn trip(&self) {
        *self.lock() = Circuit::Open { until: Instant::now() + self.pause };
    }

    /// Whether to use the shared counter for this request; if its pause is over, starts the
    /// probe that may close the circuit (and this request is still counted in process).
    fn admit(self: &Arc<Self>, counter: &Arc<dyn RateCounter>) -> bool {
        let mut circuit = self.lock();
        match *circuit {
            Circuit::Closed => true,
            Circuit::Probing => false,
            Circuit::Open { until } if Instant::now() < until => false,
            Circuit::Open { .. } => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else { return false };
                *circuit = Circuit::Probing;
                let (breaker, counter) = (self.clone(), counter.clone());
                runtime.spawn(async move {
                    match counter.probe().await {
                        Ok(()) => {
                            *breaker.lock() = Circuit::Closed;
                            tracing::info!("shared rate-limit counter answers again; using it");
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "shared rate-limit counter still unavailable");
                            breaker.trip();
                        }
                    }
                });
                false
            }
        }
    }
}

impl RateLimiter {
    pub fn new(counter: Arc<dyn RateCounter>, clock: Arc<dyn Clock>) -> Self {
        Self::with_breaker_pause(counter, clock, BREAKER_PAUSE)
    }

    /// As `new`, leaving a failed shared counter alone for `pause` before probing it.
    pub fn with_breaker_pause(counter: Arc<dyn RateCounter>, clock: Arc<dyn Clock>, pause: Duration) -> Self {
        let breaker = Arc::new(Breaker { circuit: Mutex::new(Circuit::Closed), pause });
        Self { counter, fallback: InMemoryCounter::default(), breaker, clock, refused: Default::default() }
    }

    /// Whether requests are counted by the shared counter (not in process, after a failure).
    pub fn shared_counter_in_use(&self) -> bool {
        *self.breaker.lock() == Circuit::Closed
    }

    /// Counts one request against `bucket`; `None` when the limits have no window at all.
    pub async fn check(&self, bucket: &str, limits: &Limits) -> Option<Decision> {
        let now = self.clock.now();
        let slots = slots(limits, now);
        if slots.is_empty() {
            return None;
        }
        let shared = if self.breaker.admit(&self.counter) {
            match self.counter.hit(bucket, &slots).await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        pause_ms = u64::try_from(self.breaker.pause.as_millis()).unwrap_or(u64::MAX),
                        "shared rate-limit counter failed; counting in process until it answers again"
                    );
                    self.breaker.trip();
                    None
                }
            }
        } else {
            None
        };
        let counts = match shared {
            Some(c) => c,
            None => self.fallback.hit(bucket, &slots).await.expect("in-memory counter cannot fail"),
        };
        let decision = decide(&slots, &counts, now);
        if decision.as_ref().is_some_and(|d| !d.allowed) {
            self.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        decision
    }

    /// Requests refused since start.
    pub fn refusals(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `None` without a shared counter; otherwise whether it answers a probe within `timeout`.
    /// A failed probe opens the breaker, as a failed request would.
    pub async fn probe_shared(&self, timeout: Duration) -> Option<Result<(), CounterError>> {
        if !self.counter.shared() {
            return None;
        }
        let outcome = match tokio::time::timeout(timeout, self.counter.probe()).await {
            Ok(r) => r,
            Err(_) => Err(CounterError(format!("no answer within {} ms", timeout.as_millis()))),
        };
        if outcome.is_err() && *self.breaker.lock() == Circuit::Closed {
            self.breaker.trip();
        }
        Some(outcome)
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

    /// A shared counter that can be switched off, counting how often it is asked.
    #[derive(Default)]
    struct Flaky {
        down: std::sync::atomic::AtomicBool,
        hits: std::sync::atomic::AtomicUsize,
        probes: std::sync::atomic::AtomicUsize,
        inner: InMemoryCounter,
    }

    #[async_trait]
    impl RateCounter for Flaky {
        async fn hit(&self, bucket: &str, slots: &[WindowSlot]) -> Result<Vec<u64>, CounterError> {
            use std::sync::atomic::Ordering::SeqCst;
            self.hits.fetch_add(1, SeqCst);
            if self.down.load(SeqCst) { Err(CounterError("down".into())) } else { self.inner.hit(bucket, slots).await }
        }

        async fn probe(&self) -> Result<(), CounterError> {
            use std::sync::atomic::Ordering::SeqCst;
            self.probes.fetch_add(1, SeqCst);
            if self.down.load(SeqCst) { Err(CounterError("down".into())) } else { Ok(()) }
        }
    }

    /// Sends requests until `condition` holds: the breaker acts only when requests arrive.
    async fn requests_until(limiter: &RateLimiter, limits: &Limits, what: &str, condition: impl Fn() -> bool) {
        for _ in 0..2_000 {
            if condition() {
                return;
            }
            assert!(limiter.check("k", limits).await.unwrap().allowed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("never happened: {what}");
    }

    #[tokio::test]
    async fn a_failed_shared_counter_is_left_alone_then_probed_and_used_again() {
        use std::sync::atomic::Ordering::SeqCst;
        let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2025, 1, 8, 0, 0, 0).unwrap()));
        let shared = Arc::new(Flaky::default());
        let limiter = RateLimiter::with_breaker_pause(shared.clone(), clock, Duration::from_millis(50));
        let limits = Limits { per_minute: Some(100_000), per_hour: None, per_day: None };

        assert!(limiter.check("k", &limits).await.unwrap().allowed);
        assert_eq!(shared.hits.load(SeqCst), 1);
        shared.down.store(true, SeqCst);
        // One failure trips the breaker: the next requests never reach the shared counter.
        for _ in 0..100 {
            assert!(limiter.check("k", &limits).await.unwrap().allowed);
        }
        assert_eq!(shared.hits.load(SeqCst), 2, "asked once after it went down");
        assert_eq!(shared.probes.load(SeqCst), 0, "not before the pause is over");
        assert!(!limiter.shared_counter_in_use());
        // After each pause a request starts one probe; while the counter is down, each fails.
        for n in 1..=3 {
            requests_until(&limiter, &limits, "a probe", || shared.probes.load(SeqCst) >= n).await;
        }
        assert_eq!(shared.hits.load(SeqCst), 2, "probes count nothing, and requests stayed local");
        shared.down.store(false, SeqCst);
        requests_until(&limiter, &limits, "the circuit closes", || limiter.shared_counter_in_use()).await;
        let before = shared.hits.load(SeqCst);
        limiter.check("k", &limits).await.unwrap();
        assert_eq!(shared.hits.load(SeqCst), before + 1, "used again");
    }
}
