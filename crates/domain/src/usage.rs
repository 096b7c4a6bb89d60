//! Metered usage: the records the operator's platform reports, their validation, how they fold
//! into daily aggregates, and the figures a customer's usage report shows.
//!
//! - Counters (`messages` per channel, `workflow_executions`, `api_requests` with `errors`) are
//!   summed per UTC day.
//! - `storage_bytes` is a gauge: each day keeps its **last** sample (the latest `occurred_at`;
//!   on equal times the one ingested later) and its **peak**.
//!
//! [`DayUsage::merge`] is the one folding rule; the stores' upsert says the same in SQL.

use crate::ValidationErrors;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

crate::str_enum! {
    /// What a usage record counts.
    pub enum Metric {
        Messages = "messages",
        WorkflowExecutions = "workflow_executions",
        ApiRequests = "api_requests",
        StorageBytes = "storage_bytes",
    }
}

crate::str_enum! {
    /// The channels messages are counted by.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
        Whatsapp = "whatsapp",
        Voice = "voice",
        Push = "push",
        InApp = "in_app",
        Slack = "slack",
    }
}

impl Metric {
    /// A gauge keeps the last and the peak value; the others are summed.
    pub fn is_gauge(self) -> bool {
        self == Metric::StorageBytes
    }
}

/// Most records one `POST /usage/records` batch may carry.
pub const MAX_BATCH: usize = 1000;
/// Most records one `partnerd usage import` file may carry (one transaction).
pub const MAX_IMPORT: usize = 100_000;
/// Largest `quantity` of a counter record.
pub const MAX_COUNT: i64 = 1_000_000_000_000;
/// Largest `storage_bytes` sample (1 EB).
pub const MAX_STORAGE_BYTES: i64 = 1_000_000_000_000_000_000;
/// How far `occurred_at` may be ahead of the server's clock (clock skew).
pub const FUTURE_TOLERANCE_MINUTES: i64 = 5;
/// Longest `start_date`..`end_date` range a report covers, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A record as given, every field optional so each problem can be named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageInput {
    pub id: Option<String>,
    pub customer_id: Option<String>,
    pub metric: Option<String>,
    pub channel: Option<String>,
    pub quantity: Option<i64>,
    pub errors: Option<i64>,
    pub occurred_at: Option<String>,
}

/// A validated record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    /// The operator's id for the record: retrying it counts it once.
    pub id: String,
    pub customer_id: String,
    pub metric: Metric,
    /// `messages` only.
    pub channel: Option<Channel>,
    pub quantity: i64,
    /// `api_requests` only: how many of `quantity` failed.
    pub errors: i64,
    /// Truncated to the millisecond (what both stores keep exactly).
    pub occurred_at: DateTime<Utc>,
}

impl UsageRecord {
    /// The UTC day it counts on.
    pub fn day(&self) -> NaiveDate {
        self.occurred_at.date_naive()
    }
}

fn record_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok { Ok(s.to_owned()) } else { Err("must be 1–128 characters of A–Z, a–z, 0–9, _ - . :".into()) }
}

fn timestamp(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| "must be an RFC 3339 time such as 2025-01-15T10:30:00Z".to_owned())?
        .with_timezone(&Utc);
    let t = Utc.timestamp_millis_opt(t.timestamp_millis()).single().ok_or("is out of range")?;
    let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().ok_or("is out of range")?;
    if t < earliest {
        return Err("must not be before 2000-01-01".into());
    }
    if t > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        return Err(format!("must not be more than {FUTURE_TOLERANCE_MINUTES} minutes in the future"));
    }
    Ok(t)
}

/// The record, or every problem of it, by field name (`quantity`, `channel`…).
pub fn validate(input: &UsageInput, now: DateTime<Utc>) -> Result<UsageRecord, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let required = |v: &Option<String>| v.clone().ok_or_else(|| "is required".to_owned());
    let id = e.check("id", required(&input.id).and_then(|s| record_id(&s)));
    let customer_id = e.check(
        "customer_id",
        required(&input.customer_id).and_then(|s| if s.trim().is_empty() { Err("is required".into()) } else { Ok(s) }),
    );
    let metric = e.check("metric", required(&input.metric).and_then(|s| Metric::parse(&s)));
    let channel = match (metric, input.channel.as_deref()) {
        (Some(Metric::Messages), Some(c)) => e.check("channel", Channel::parse(c)),
        (Some(Metric::Messages), None) => {
            e.add("channel", "is required for messages");
            None
        }
        (Some(_), Some(_)) => {
            e.add("channel", "is only for messages");
            None
        }
        _ => None,
    };
    let max = if metric == Some(Metric::StorageBytes) { MAX_STORAGE_BYTES } else { MAX_COUNT };
    let quantity = match input.quantity {
        None => {
            e.add("quantity", "is required");
            None
        }
        Some(q) if !(0..=max).contains(&q) => {
            e.add("quantity", format!("must be an integer from 0 to {max}"));
            None
        }
        Some(q) => Some(q),
    };
    let errors = match (metric, input.errors) {
        (_, None) => 0,
        (Some(Metric::ApiRequests), Some(n)) => {
            if n < 0 || quantity.is_some_and(|q| n > q) {
                e.add("errors", "must be from 0 to quantity");
            }
            n
        }
        (Some(_), Some(_)) => {
            e.add("errors", "is only for api_requests");
            0
        }
        (None, Some(n)) => n,
    };
    let occurred_at = e.check("occurred_at", required(&input.occurred_at).and_then(|s| timestamp(&s, now)));
    e.into_result()?;
    match (id, customer_id, metric, quantity, occurred_at) {
        (Some(id), Some(customer_id), Some(metric), Some(quantity), Some(occurred_at)) => {
            Ok(UsageRecord { id, customer_id, metric, channel, quantity, errors, occurred_at })
        }
        _ => Err(ValidationErrors::single("record", "is invalid")),
    }
}

/// One day's aggregate of one customer, metric and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayUsage {
    /// Counters: the sum. Gauges: the last sample.
    pub quantity: i64,
    /// `api_requests`: failed requests (summed).
    pub errors: i64,
    /// Gauges: the largest sample; counters: 0.
    pub peak: i64,
    /// The latest `occurred_at` folded in (for gauges, the last sample's).
    pub last_at: DateTime<Utc>,
    /// Raw records folded in.
    pub records: i64,
}

impl DayUsage {
    pub fn of(r: &UsageRecord) -> Self {
        DayUsage {
            quantity: r.quantity,
            errors: r.errors,
            peak: if r.metric.is_gauge() { r.quantity } else { 0 },
            last_at: r.occurred_at,
            records: 1,
        }
    }

    /// `self` followed by `later` (ingested after it). A gauge's last sample is the one with
    /// the latest `occurred_at`, `later` on a tie.
    pub fn merge(self, later: DayUsage, metric: Metric) -> Self {
        let quantity = if metric.is_gauge() {
            if later.last_at >= self.last_at { later.quantity } else { self.quantity }
        } else {
            self.quantity.saturating_add(later.quantity)
        };
        DayUsage {
            quantity,
            errors: self.errors.saturating_add(later.errors),
            peak: self.peak.max(later.peak),
            last_at: self.last_at.max(later.last_at),
            records: self.records + later.records,
        }
    }
}

/// What a daily aggregate is keyed by (sorted: the order stores lock the rows in).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayKey {
    pub customer_id: String,
    pub day: NaiveDate,
    pub metric: &'static str,
    /// `""` for metrics without channels.
    pub channel: &'static str,
}

/// The records folded per day, customer, metric and channel, in key order.
pub fn daily(records: &[UsageRecord]) -> Vec<(DayKey, Metric, DayUsage)> {
    let mut out: std::collections::BTreeMap<DayKey, (Metric, DayUsage)> = std::collections::BTreeMap::new();
    for r in records {
        let key = DayKey {
            customer_id: r.customer_id.clone(),
            day: r.day(),
            metric: r.metric.as_str(),
            channel: r.channel.map_or("", Channel::as_str),
        };
        let next = DayUsage::of(r);
        out.entry(key).and_modify(|(m, u)| *u = u.merge(next, *m)).or_insert((r.metric, next));
    }
    out.into_iter().map(|(k, (m, u))| (k, m, u)).collect()
}

/// A stored daily aggregate, as a report reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDay {
    pub day: NaiveDate,
    pub metric: Metric,
    pub channel: Option<Channel>,
    pub usage: DayUsage,
}

/// Inclusive UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Days {
    /// The `n` days ending with `today` (`7d`: today and the 6 days before).
    pub fn ending(today: NaiveDate, n: i64) -> Self {
        Days { start: today - Duration::days(n - 1), end: today }
    }

    pub fn len(self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    pub fn is_empty(self) -> bool {
        self.end < self.start
    }
}

/// Totals over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageTotals {
    pub days: Days,
    pub messages: i64,
    /// Every channel of [`Channel::ALL`], in that order, zeros included.
    pub messages_by_channel: Vec<(Channel, i64)>,
    pub workflow_executions: i64,
    pub api_requests: i64,
    pub api_errors: i64,
    /// The last storage sample in the range and the day it was on; `None` with no sample.
    pub storage_current: Option<(NaiveDate, i64)>,
    pub storage_peak: Option<i64>,
}

/// One day of the series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyFigures {
    pub day: NaiveDate,
    pub messages: i64,
    pub workflow_executions: i64,
    pub api_requests: i64,
    pub api_errors: i64,
    /// The day's last and peak storage samples; `None` on a day without one.
    pub storage_bytes: Option<i64>,
    pub storage_peak_bytes: Option<i64>,
}

/// A customer's usage over `days`: totals and every day of the range (zeros included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReport {
    pub totals: UsageTotals,
    pub daily: Vec<DailyFigures>,
}

/// The report of `rows` (daily aggregates, any order) over `days`; rows outside it are ignored.
pub fn report(days: Days, rows: &[UsageDay]) -> UsageReport {
    let mut daily: Vec<DailyFigures> = (0..days.len().max(0))
        .map(|i| DailyFigures {
            day: days.start + Duration::days(i),
            messages: 0,
            workflow_executions: 0,
            api_requests: 0,
            api_errors: 0,
            storage_bytes: None,
            storage_peak_bytes: None,
        })
        .collect();
    let mut by_channel: Vec<(Channel, i64)> = Channel::ALL.iter().map(|c| (*c, 0)).collect();
    for row in rows.iter().filter(|r| r.day >= days.start && r.day <= days.end) {
        let Some(d) = usize::try_from((row.day - days.start).num_days()).ok().and_then(|i| daily.get_mut(i)) else {
            continue;
        };
        let q = row.usage.quantity;
        match row.metric {
            Metric::Messages => {
                d.messages = d.messages.saturating_add(q);
                if let Some(slot) = by_channel.iter_mut().find(|(c, _)| Some(*c) == row.channel) {
                    slot.1 = slot.1.saturating_add(q);
                }
            }
            Metric::WorkflowExecutions => d.workflow_executions = d.workflow_executions.saturating_add(q),
            Metric::ApiRequests => {
                d.api_requests = d.api_requests.saturating_add(q);
                d.api_errors = d.api_errors.saturating_add(row.usage.errors);
            }
            Metric::StorageBytes => {
                d.storage_bytes = Some(q);
                d.storage_peak_bytes = Some(row.usage.peak);
            }
        }
    }
    let sum = |f: fn(&DailyFigures) -> i64| daily.iter().map(f).fold(0i64, i64::saturating_add);
    let totals = UsageTotals {
        days,
        messages: sum(|d| d.messages),
        messages_by_channel: by_channel,
        workflow_executions: sum(|d| d.workflow_executions),
        api_requests: sum(|d| d.api_requests),
        api_errors: sum(|d| d.api_errors),
        storage_current: daily.iter().rev().find_map(|d| d.storage_bytes.map(|b| (d.day, b))),
        storage_peak: daily.iter().filter_map(|d| d.storage_peak_bytes).max(),
    };
    UsageReport { totals, daily }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 15, 10, 30, 0).unwrap()
    }

    fn input(metric: &str, quantity: i64) -> UsageInput {
        UsageInput {
            id: Some("rec-1".into()),
            customer_id: Some("company_x".into()),
            metric: Some(metric.into()),
            channel: (metric == "messages").then(|| "email".into()),
            quantity: Some(quantity),
            errors: None,
            occurred_at: Some("2025-01-14T08:00:00.1234Z".into()),
        }
    }

    fn rec(id: &str, metric: Metric, channel: Option<Channel>, q: i64, at: &str) -> UsageRecord {
        UsageRecord {
            id: id.into(),
            customer_id: "c".into(),
            metric,
            channel,
            quantity: q,
            errors: 0,
            occurred_at: DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc),
        }
    }

    #[test]
    fn a_valid_record_is_accepted_and_truncated_to_the_millisecond() {
        let r = validate(&input("messages", 3), now()).unwrap();
        assert_eq!((r.metric, r.channel, r.quantity, r.errors), (Metric::Messages, Some(Channel::Email), 3, 0));
        assert_eq!(r.occurred_at.timestamp_subsec_millis(), 123);
        assert_eq!(r.occurred_at.timestamp_subsec_nanos(), 123_000_000);
        assert_eq!(r.day(), NaiveDate::from_ymd_opt(2025, 1, 14).unwrap());
    }

    #[test]
    fn every_problem_is_named_by_field() {
        let bad = UsageInput {
            id: Some("has space".into()),
            customer_id: None,
            metric: Some("bytes".into()),
            channel: None,
            quantity: Some(-1),
            errors: None,
            occurred_at: Some("yesterday".into()),
        };
        let e = validate(&bad, now()).unwrap_err();
        let fields: Vec<&str> = e.fields().keys().map(String::as_str).collect();
        assert_eq!(fields, ["customer_id", "id", "metric", "occurred_at", "quantity"]);
        assert!(e.fields()["metric"][0].contains("messages, workflow_executions"));
    }

    #[test]
    fn channels_belong_to_messages_only() {
        let mut i = input("messages", 1);
        i.channel = None;
        assert!(validate(&i, now()).unwrap_err().fields().contains_key("channel"));
        i.channel = Some("fax".into());
        assert!(validate(&i, now()).unwrap_err().fields()["channel"][0].contains("whatsapp"));
        let mut i = input("workflow_executions", 1);
        i.channel = Some("email".into());
        assert_eq!(validate(&i, now()).unwrap_err().fields()["channel"], ["is only for messages"]);
    }

    #[test]
    fn errors_belong_to_api_requests_and_never_exceed_the_quantity() {
        let mut i = input("api_requests", 10);
        i.errors = Some(3);
        assert_eq!(validate(&i, now()).unwrap().errors, 3);
        i.errors = Some(11);
        assert!(validate(&i, now()).unwrap_err().fields().contains_key("errors"));
        i.errors = Some(-1);
        assert!(validate(&i, now()).unwrap_err().fields().contains_key("errors"));
        let mut i = input("workflow_executions", 10);
        i.errors = Some(1);
        assert_eq!(validate(&i, now()).unwrap_err().fields()["errors"], ["is only for api_requests"]);
    }

    #[test]
    fn quantities_and_times_are_bounded() {
        assert!(validate(&input("workflow_executions", MAX_COUNT), now()).is_ok());
        assert!(validate(&input("workflow_executions", MAX_COUNT + 1), now()).is_err());
        assert!(validate(&input("storage_bytes", MAX_STORAGE_BYTES), now()).is_ok());
        let mut i = input("storage_bytes", 1);
        i.occurred_at = Some("2025-01-15T10:34:59Z".into());
        assert!(validate(&i, now()).is_ok(), "within the skew tolerance");
        i.occurred_at = Some("2025-01-15T10:36:00Z".into());
        assert!(validate(&i, now()).unwrap_err().fields()["occurred_at"][0].contains("future"));
        i.occurred_at = Some("1999-12-31T23:59:59Z".into());
        assert!(validate(&i, now()).is_err());
    }

    #[test]
    fn counters_sum_and_gauges_keep_the_last_and_the_peak() {
        let rows = daily(&[
            rec("a", Metric::Messages, Some(Channel::Sms), 2, "2025-01-14T01:00:00Z"),
            rec("b", Metric::Messages, Some(Channel::Sms), 3, "2025-01-14T23:59:59Z"),
            rec("c", Metric::Messages, Some(Channel::Email), 1, "2025-01-14T12:00:00Z"),
            rec("d", Metric::StorageBytes, None, 500, "2025-01-14T12:00:00Z"),
            // Arrives later but happened earlier: the peak, not the last.
            rec("e", Metric::StorageBytes, None, 900, "2025-01-14T06:00:00Z"),
            rec("f", Metric::StorageBytes, None, 400, "2025-01-15T00:00:00Z"),
        ]);
        let find = |m: &str, ch: &str, d: u32| {
            rows.iter()
                .find(|(k, _, _)| {
                    k.metric == m && k.channel == ch && k.day == NaiveDate::from_ymd_opt(2025, 1, d).unwrap()
                })
                .map(|(_, _, u)| *u)
                .unwrap()
        };
        assert_eq!(find("messages", "sms", 14).quantity, 5);
        assert_eq!(find("messages", "sms", 14).records, 2);
        assert_eq!(find("messages", "email", 14).quantity, 1);
        let s = find("storage_bytes", "", 14);
        assert_eq!((s.quantity, s.peak, s.records), (500, 900, 2));
        assert_eq!(find("storage_bytes", "", 15).quantity, 400);
        let keys: Vec<_> = rows.iter().map(|(k, _, _)| k.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "in lock order");
    }

    #[test]
    fn a_gauge_tie_goes_to_the_later_ingested_sample() {
        let at = now();
        let first = DayUsage { quantity: 1, errors: 0, peak: 1, last_at: at, records: 1 };
        let second = DayUsage { quantity: 2, errors: 0, peak: 2, last_at: at, records: 1 };
        assert_eq!(first.merge(second, Metric::StorageBytes).quantity, 2);
        assert_eq!(first.merge(second, Metric::ApiRequests).quantity, 3);
    }

    #[test]
    fn merging_in_any_split_gives_the_same_day() {
        // A batch folded at once equals the same records folded batch by batch.
        let records = [
            rec("a", Metric::StorageBytes, None, 10, "2025-01-14T05:00:00Z"),
            rec("b", Metric::StorageBytes, None, 70, "2025-01-14T07:00:00Z"),
            rec("c", Metric::StorageBytes, None, 30, "2025-01-14T06:00:00Z"),
        ];
        let all = daily(&records)[0].2;
        let split = daily(&records[..1])[0].2.merge(daily(&records[1..])[0].2, Metric::StorageBytes);
        assert_eq!(all, split);
        assert_eq!((all.quantity, all.peak), (70, 70));
    }

    #[test]
    fn a_report_zero_fills_the_range_and_totals_it() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2025, 1, d).unwrap();
        let u = |q: i64, errors: i64, peak: i64| DayUsage { quantity: q, errors, peak, last_at: now(), records: 1 };
        let rows = [
            UsageDay { day: day(10), metric: Metric::Messages, channel: Some(Channel::Whatsapp), usage: u(4, 0, 0) },
            UsageDay { day: day(12), metric: Metric::Messages, channel: Some(Channel::Email), usage: u(6, 0, 0) },
            UsageDay { day: day(12), metric: Metric::ApiRequests, channel: None, usage: u(100, 7, 0) },
            UsageDay { day: day(12), metric: Metric::WorkflowExecutions, channel: None, usage: u(2, 0, 0) },
            UsageDay { day: day(11), metric: Metric::StorageBytes, channel: None, usage: u(300, 0, 800) },
            UsageDay { day: day(12), metric: Metric::StorageBytes, channel: None, usage: u(200, 0, 250) },
            // Outside the range.
            UsageDay { day: day(14), metric: Metric::Messages, channel: Some(Channel::Email), usage: u(99, 0, 0) },
        ];
        let r = report(Days { start: day(10), end: day(13) }, &rows);
        assert_eq!(r.daily.len(), 4);
        assert_eq!(
            r.daily[3],
            DailyFigures {
                day: day(13),
                messages: 0,
                workflow_executions: 0,
                api_requests: 0,
                api_errors: 0,
                storage_bytes: None,
                storage_peak_bytes: None
            }
        );
        let t = &r.totals;
        assert_eq!((t.messages, t.workflow_executions, t.api_requests, t.api_errors), (10, 2, 100, 7));
        assert_eq!(t.messages_by_channel.len(), Channel::ALL.len());
        assert!(t.messages_by_channel.contains(&(Channel::Whatsapp, 4)));
        assert!(t.messages_by_channel.contains(&(Channel::Sms, 0)));
        assert_eq!(t.storage_current, Some((day(12), 200)));
        assert_eq!(t.storage_peak, Some(800));
        assert_eq!(Days::ending(day(15), 7), Days { start: day(9), end: day(15) });
    }
}
