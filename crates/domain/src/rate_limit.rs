//! Rate-limit windows and the decision drawn from their counters.
//!
//! Windows are fixed and aligned to the Unix epoch (a minute starts at :00), so every process
//! that shares a counter store agrees on which window a request falls in without coordination.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    Minute,
    Hour,
    Day,
}

impl Window {
    pub fn seconds(self) -> i64 {
        match self {
            Window::Minute => 60,
            Window::Hour => 3_600,
            Window::Day => 86_400,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
        }
    }
}

/// A plan's limits; `None` means that window is not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: Option<u64>,
    pub per_hour: Option<u64>,
    pub per_day: Option<u64>,
}

impl Limits {
    pub fn windows(&self) -> impl Iterator<Item = (Window, u64)> + '_ {
        [(Window::Minute, self.per_minute), (Window::Hour, self.per_hour), (Window::Day, self.per_day)]
            .into_iter()
            .filter_map(|(w, l)| l.map(|l| (w, l)))
    }
}

/// One window as a counter store sees it: which slot to increment and when it can be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSlot {
    pub window: Window,
    pub limit: u64,
    /// Index of the window since the epoch; part of the counter's key.
    pub index: i64,
    /// Unix seconds at which this window ends (the `X-RateLimit-Reset` value).
    pub resets_at: i64,
}

pub fn slots(limits: &Limits, now: DateTime<Utc>) -> Vec<WindowSlot> {
    let t = now.timestamp();
    limits
        .windows()
        .map(|(window, limit)| {
            let index = t.div_euclid(window.seconds());
            WindowSlot { window, limit, index, resets_at: (index + 1) * window.seconds() }
        })
        .collect()
}

/// What the headers say and whether the request may proceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
    /// Seconds until the blocking window resets; only when refused.
    pub retry_after: Option<i64>,
}

/// Combines the post-increment counts of each slot. The request is refused if any window is over
/// its limit; headers describe the tightest window: the one with the fewest requests left, the
/// shorter window on a tie (a refusal names the window that refused, longest reset first so
/// `Retry-After` is honest).
pub fn decide(slots: &[WindowSlot], counts: &[u64], now: DateTime<Utc>) -> Option<Decision> {
    debug_assert_eq!(slots.len(), counts.len());
    let now_s = now.timestamp();
    let over: Vec<&WindowSlot> = slots.iter().zip(counts).filter(|(s, c)| **c > s.limit).map(|(s, _)| s).collect();
    if let Some(blocking) = over.iter().max_by_key(|s| s.resets_at) {
        return Some(Decision {
            allowed: false,
            limit: blocking.limit,
            remaining: 0,
            reset: blocking.resets_at,
            retry_after: Some((blocking.resets_at - now_s).max(1)),
        });
    }
    slots
        .iter()
        .zip(counts)
        .map(|(s, c)| (s, s.limit.saturating_sub(*c)))
        .min_by_key(|(s, remaining)| (*remaining, s.window.seconds()))
        .map(|(s, remaining)| Decision {
            allowed: true,
            limit: s.limit,
            remaining,
            reset: s.resets_at,
            retry_after: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    const STARTER: Limits = Limits { per_minute: Some(60), per_hour: Some(5_000), per_day: Some(1_000) };

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        let s = slots(&STARTER, at(1_704_672_030));
        assert_eq!(s[0].window, Window::Minute);
        assert_eq!(s[0].resets_at, 1_704_672_060);
        assert_eq!(s[1].resets_at % 3_600, 0);
        assert_eq!(s[2].resets_at % 86_400, 0);
        assert!(s.iter().all(|w| w.resets_at > 1_704_672_030));
    }

    #[test]
    fn headers_follow_the_window_with_fewest_requests_left() {
        let now = at(1_704_672_030);
        let s = slots(&STARTER, now);
        let d = decide(&s, &[1, 1, 1], now).unwrap();
        assert!(d.allowed);
        assert_eq!((d.limit, d.remaining, d.reset), (60, 59, s[0].resets_at));
        // Late in the day the daily window is the tighter one.
        let d = decide(&s, &[1, 980, 980], now).unwrap();
        assert_eq!((d.limit, d.remaining, d.reset), (1_000, 20, s[2].resets_at));
    }

    #[test]
    fn the_request_over_the_limit_is_refused_with_retry_after() {
        let now = at(1_704_672_030);
        let s = slots(&STARTER, now);
        assert!(decide(&s, &[60, 60, 60], now).unwrap().allowed);
        let d = decide(&s, &[61, 61, 61], now).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, Some(30));
        let d = decide(&s, &[5, 1_001, 1_001], now).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.limit, 1_000);
        assert_eq!(d.reset, s[2].resets_at);
    }

    #[test]
    fn unlimited_plans_have_no_slots() {
        let none = Limits { per_minute: None, per_hour: None, per_day: None };
        assert!(slots(&none, at(0)).is_empty());
        assert_eq!(decide(&[], &[], at(0)), None);
    }
}
