//! Time is injected so that windows, expiry and reports can be tested without sleeping.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Millisecond precision: what both backends store exactly, so a time read back equals
    /// the time written.
    fn now(&self) -> DateTime<Utc> {
        let ms = Utc::now().timestamp_millis();
        Utc.timestamp_millis_opt(ms).single().expect("current time is representable")
    }
}

/// A clock that only moves when told to; used by tests.
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self { millis: AtomicI64::new(t.timestamp_millis()) }
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.millis.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    pub fn set(&self, t: DateTime<Utc>) {
        self.millis.store(t.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.millis.load(Ordering::SeqCst))
            .single()
            .expect("manual clock holds a valid timestamp")
    }
}
