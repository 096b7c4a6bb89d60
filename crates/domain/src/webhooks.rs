//! Webhooks: the event catalog (one source of truth for names, descriptions and sample
//! payloads), signatures, which URLs and addresses may receive deliveries, and the retry
//! schedule.

use crate::ValidationErrors;
use crate::events::{self as ev, EventPayload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::IpAddr;

pub struct CatalogEntry {
    pub name: &'static str,
    pub description: &'static str,
    /// An example `data`, as the `test` endpoint sends it: the payload struct's example.
    pub sample: fn() -> Value,
}

const fn entry<P: EventPayload>(description: &'static str) -> CatalogEntry {
    CatalogEntry { name: P::TYPE, description, sample: sample_of::<P> }
}

fn sample_of<P: EventPayload>() -> Value {
    ev::to_stored(&P::example())
}

/// Every event partnerd delivers. Events not listed here (keys, enrolment) stay internal.
pub const CATALOG: &[CatalogEntry] = &[
    entry::<ev::ListingCreated>("Triggered when a new listing is created"),
    entry::<ev::ListingUpdated>("Triggered when a listing is modified"),
    entry::<ev::OpportunityCreated>("Triggered when a co-sell opportunity is created"),
    entry::<ev::OpportunityStatusChanged>("Triggered when opportunity status changes"),
    entry::<ev::OpportunityUpdated>("Triggered when an opportunity's value, notes or details change"),
    entry::<ev::SeoScoreChanged>("Triggered when SEO score changes significantly"),
    entry::<ev::ContentGenerated>("Triggered when improved listing content is generated"),
    entry::<ev::ContentPublished>("Triggered when a content draft is published onto its listing"),
    entry::<ev::ReportGenerated>("Triggered when an analytics report is ready"),
    entry::<ev::CustomerCreated>("New customer account created"),
    entry::<ev::CustomerUpgraded>("Customer plan upgrade"),
    entry::<ev::CustomerCancelled>("Customer subscription cancelled"),
    entry::<ev::CommissionEarned>("New commission earned"),
    entry::<ev::InvoiceGenerated>("New invoice created"),
    entry::<ev::InvoicePaid>("An invoice was marked paid (a partnerd addition)"),
    entry::<ev::InvoiceVoided>(
        "An invoice was voided: its commission reversed, its applied credit returned (a partnerd addition)",
    ),
    entry::<ev::InvoiceMarkedUncollectible>("An invoice was marked uncollectible (a partnerd addition)"),
    entry::<ev::LeadCreated>("A lead was created (Leads API v2)"),
    entry::<ev::LeadAssigned>("A lead was assigned to a reseller company"),
    entry::<ev::LeadStatusChanged>("A lead's conversion was requested or approved, or the lead was discarded"),
    entry::<ev::LeadConverted>("A lead was converted into a marketplace company and user"),
    entry::<ev::TicketCreated>("A support ticket was created (a partnerd addition)"),
    entry::<ev::TicketUpdated>("A support ticket's status or priority changed (a partnerd addition)"),
    entry::<ev::CompanyCreated>(
        "A customer company was created for your reseller company (AppReseller API or POST /customers; a partnerd addition)",
    ),
    entry::<ev::CompanyAssociationCreated>(
        "A customer company was associated with your reseller company (a partnerd addition)",
    ),
    entry::<ev::CompanyAssociationDeleted>(
        "A customer company's association with your reseller company was removed (a partnerd addition)",
    ),
    entry::<ev::SandboxCreated>("A sandbox was created and seeded (a partnerd addition)"),
    entry::<ev::SandboxDeleted>("A sandbox was deleted, or removed once expired (a partnerd addition)"),
    entry::<ev::SubscriptionCreated>(
        "A subscription was bought for a customer company (AppReseller; a partnerd addition)",
    ),
    entry::<ev::SubscriptionChanged>(
        "A subscription's quantity or payment plan changed: a new active order (AppReseller; a partnerd addition)",
    ),
    entry::<ev::SubscriptionCancelled>("A subscription was cancelled (AppReseller; a partnerd addition)"),
    entry::<ev::SubscriptionRenewed>(
        "A recurring subscription began its next period and was invoiced for it (AppReseller; a partnerd addition)",
    ),
    entry::<ev::OrderCreated>("An order was created by a subscription's purchase or change (a partnerd addition)"),
    entry::<ev::SeatAssigned>("A seat of a subscription was assigned to a user (a partnerd addition)"),
    entry::<ev::SeatUnassigned>("A seat of a subscription was unassigned (a partnerd addition)"),
    entry::<ev::QuoteCreated>("An AppReseller opportunity (quote) was created (a partnerd addition)"),
    entry::<ev::QuoteReviewRequested>(
        "A review of an AppReseller opportunity (quote) was requested (a partnerd addition)",
    ),
    entry::<ev::QuoteFinalized>(
        "An AppReseller opportunity (quote) was finalized: a subscription bought per item (a partnerd addition)",
    ),
];

pub fn catalog_entry(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.name == name)
}

pub fn is_deliverable(event_type: &str) -> bool {
    catalog_entry(event_type).is_some()
}

/// Events one webhook may subscribe to.
pub const MAX_SUBSCRIBED_EVENTS: usize = 50;

/// The catalog entry named `name`, or why not.
pub fn find_event(name: &str) -> Result<&'static CatalogEntry, String> {
    catalog_entry(name).ok_or_else(|| format!("unknown event '{name}' (see GET /webhooks/events)"))
}

/// A subscription list checked against the catalog (problems under `events` and
/// `events[i]`), without duplicates, in the order given.
pub fn check_events(e: &mut ValidationErrors, events: &[String]) -> Vec<String> {
    if events.is_empty() {
        e.add("events", "must name at least one event (see GET /webhooks/events)");
    }
    if events.len() > MAX_SUBSCRIBED_EVENTS {
        e.add("events", format!("must have at most {MAX_SUBSCRIBED_EVENTS} events"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, name) in events.iter().enumerate() {
        if e.check(&format!("events[{i}]"), find_event(name)).is_some() && !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

crate::str_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
        /// The webhook was deleted or disabled before the delivery was sent.
        Cancelled = "cancelled",
    }
}

/// The delivery body: `{id, type, timestamp, data}`, serialised the same way on every attempt.
pub fn payload(event_id: &str, event_type: &str, timestamp: DateTime<Utc>, data: &Value) -> String {
    let ts = timestamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({ "id": event_id, "type": event_type, "timestamp": ts, "data": data }).to_string()
}

/// A test send's body: the event's sample as `payload` renders it, marked `"test": true`.
pub fn test_payload(event_id: &str, entry: &CatalogEntry, timestamp: DateTime<Utc>) -> String {
    let ts = timestamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({ "id": event_id, "type": entry.name, "timestamp": ts, "data": (entry.sample)(), "test": true }).to_string()
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-Vellocity-Signature`: hex HMAC-SHA256 of the raw body, keyed with the secret's bytes
/// exactly as the document's `verify_webhook` does (`secret.encode()`).
pub fn vellocity_signature(secret: &str, body: &[u8]) -> String {
    hmac(secret.as_bytes(), &[body]).iter().map(|b| format!("{b:02x}")).collect()
}

/// The Standard Webhooks key: a `whsec_` secret's base64 payload, or any other secret's bytes.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret.strip_prefix("whsec_").and_then(|b| B64.decode(b).ok()).unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn standard_signature(secret: &str, msg_id: &str, unix_ts: i64, body: &[u8]) -> String {
    let ts = unix_ts.to_string();
    let mac = hmac(&standard_key(secret), &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", B64.encode(mac))
}

/// A new secret: `whsec_` and 32 random bytes in base64, usable by both schemes as is.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    format!("whsec_{}", B64.encode(key))
}

pub fn validate_secret(s: &str) -> Result<(), &'static str> {
    if s.len() < 16 {
        Err("must be at least 16 characters")
    } else if s.len() > 200 {
        Err("must be at most 200 characters")
    } else if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Err("must not contain spaces or control characters")
    } else {
        Ok(())
    }
}

/// Addresses a delivery must never reach unless private webhooks are allowed: see
/// [`crate::ip::forbidden_target`] (private IPv4 space and every IPv6 form that embeds it).
pub fn forbidden_address(ip: IpAddr) -> bool {
    crate::ip::forbidden_target(ip)
}

/// Checks a webhook URL when it is registered. `https` always; `http` only to hosts that are
/// loopback or private when those are allowed (local development and tests).
pub fn validate_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let u = url::Url::parse(raw.trim()).map_err(|_| "must be an absolute URL".to_string())?;
    if raw.len() > 2_000 {
        return Err("must be at most 2000 characters".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not contain credentials".into());
    }
    let host = u.host().ok_or_else(|| "must have a host".to_string())?;
    let literal: Option<IpAddr> = match host {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    };
    let local_name =
        matches!(host, url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"));
    let private_host = local_name || literal.is_some_and(forbidden_address);
    match u.scheme() {
        "https" => {}
        "http" if allow_private && private_host => {}
        "http" => {
            return Err("must use https (plain http only to local addresses when private webhooks are allowed)".into());
        }
        _ => return Err("must use https".into()),
    }
    if private_host && !allow_private {
        return Err("must not point at a loopback, private or link-local address".into());
    }
    Ok(u)
}

/// The delay before attempt `n` (1-based) of a delivery, or `None` after the last attempt.
/// `schedule[0]` is the delay before the first attempt (normally zero).
pub fn delay_before(schedule: &[Duration], attempt: usize) -> Option<Duration> {
    schedule.get(attempt.checked_sub(1)?).copied()
}

/// ±10 % jitter, so retries from many deliveries do not arrive together; `unit` in [0, 1).
pub fn with_jitter(d: Duration, unit: f64) -> Duration {
    let ms = d.num_milliseconds() as f64;
    // A schedule is at most days long, far inside i64 milliseconds.
    #[allow(clippy::cast_possible_truncation)]
    let jittered = (ms * (0.9 + 0.2 * unit)).round() as i64;
    Duration::milliseconds(jittered)
}

/// `Retry-After` as seconds or an HTTP date, capped at a day.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    let d = match v.parse::<i64>() {
        Ok(secs) if secs >= 0 => Duration::seconds(secs),
        Ok(_) => return None,
        Err(_) => DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc) - now,
    };
    Some(d.clamp(Duration::zero(), Duration::days(1)))
}

/// Parses `"500ms"`, `"5s"`, `"5m"`, `"2h"`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| format!("'{s}' needs a unit (ms, s, m, h)"))?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| format!("'{s}' is not a duration"))?;
    match unit {
        "ms" => Ok(Duration::milliseconds(n)),
        "s" => Ok(Duration::seconds(n)),
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        _ => Err(format!("'{s}': unknown unit (ms, s, m, h)")),
    }
}

/// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub fn default_schedule() -> Vec<Duration> {
    vec![
        Duration::zero(),
        Duration::seconds(5),
        Duration::minutes(5),
        Duration::minutes(30),
        Duration::hours(2),
        Duration::hours(5),
        Duration::hours(10),
        Duration::hours(10),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_catalog_has_the_documented_events() {
        for name in [
            "listing.created",
            "listing.updated",
            "opportunity.created",
            "opportunity.status_changed",
            "seo.score_changed",
            "customer.created",
            "customer.upgraded",
            "customer.cancelled",
            "commission.earned",
            "invoice.generated",
        ] {
            assert!(is_deliverable(name), "{name}");
        }
        assert!(!is_deliverable("api_key.revoked"));
        let mut names: Vec<&str> = CATALOG.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len(), "no duplicates");
        assert!(CATALOG.iter().all(|e| (e.sample)().is_object()));
    }

    #[test]
    fn samples_are_the_documented_examples() {
        // The samples as they were written by hand before they came from the payload structs.
        let documented = [
            (
                "listing.created",
                json!({ "listing_id": "listing_sample", "title": "Enterprise Security Suite", "status": "draft", "marketplace": "aws", "seo_score": 42 }),
            ),
            (
                "listing.updated",
                json!({ "listing_id": "listing_sample", "changes": { "title": { "old": "Old Title", "new": "New Title" } } }),
            ),
            (
                "opportunity.created",
                json!({ "opportunity_id": "opp_sample", "customer_name": "Global Corp", "deal_value": 50000, "status": "open", "owner_partner_id": "partner_sample", "partner_id": "partner_other", "expected_close_date": "2025-03-15" }),
            ),
            (
                "opportunity.status_changed",
                json!({ "opportunity_id": "opp_sample", "from": "open", "to": "in_progress" }),
            ),
            (
                "opportunity.updated",
                json!({ "opportunity_id": "opp_sample", "changes": { "deal_value": { "old": 50000, "new": 80000 } } }),
            ),
            (
                "seo.score_changed",
                json!({ "listing_id": "listing_sample", "old_score": 62, "new_score": 85, "grade": "A" }),
            ),
            (
                "content.generated",
                json!({ "listing_id": "listing_sample", "draft_id": "draft_sample", "seo_score": 62, "projected_seo_score": 85 }),
            ),
            (
                "content.published",
                json!({ "listing_id": "listing_sample", "draft_id": "draft_sample", "seo_score": 85 }),
            ),
            (
                "report.generated",
                json!({ "report_id": "report_sample", "type": "partner_performance", "period": "30d", "trigger": "on_demand" }),
            ),
            (
                "customer.created",
                json!({ "customer_id": "customer_sample", "company_name": "Acme Corporation", "plan": "professional" }),
            ),
            (
                "customer.upgraded",
                json!({ "customer_id": "customer_sample", "from_plan": "starter", "to_plan": "professional" }),
            ),
            ("customer.cancelled", json!({ "customer_id": "customer_sample", "reason": "cancelled by customer" })),
            (
                "commission.earned",
                json!({ "commission_id": "commission_sample", "customer_id": "customer_sample", "amount": 120.5, "currency": "USD" }),
            ),
            (
                "invoice.generated",
                json!({ "invoice_id": "invoice_sample", "customer_id": "customer_sample", "total": 1205, "currency": "USD" }),
            ),
        ];
        // Leads API v2 events, the ticket events, the company/association events, the sandbox
        // events and the invoice status events (not in the partners documents): their samples
        // are the structs'.
        assert_eq!(documented.len() + 4 + 2 + 3 + 2 + 3 + 7 + 3, CATALOG.len());
        for (name, sample) in documented {
            let entry = catalog_entry(name).unwrap();
            assert_eq!((entry.sample)(), sample, "{name}");
            // Byte for byte, as a test send serialises it.
            assert_eq!((entry.sample)().to_string(), sample.to_string(), "{name}");
        }
    }

    #[test]
    fn signatures_match_known_values() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            vellocity_signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The Standard Webhooks specification's example.
        let sig = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(standard_key("plain-secret-value"), b"plain-secret-value");
    }

    #[test]
    fn generated_secrets_are_standard_webhooks_keys() {
        let s = generate_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(standard_key(&s).len(), 32);
        assert_ne!(s, generate_secret());
        assert!(validate_secret(&s).is_ok());
        assert!(validate_secret("short").is_err());
        assert!(validate_secret("has a space in it ok").is_err());
    }

    #[test]
    fn payloads_are_the_documented_shape() {
        let t = Utc.with_ymd_and_hms(2025, 1, 10, 14, 20, 0).unwrap();
        let body = payload("evt_abc123", "listing.updated", t, &json!({ "listing_id": "listing_456" }));
        assert_eq!(
            body,
            r#"{"data":{"listing_id":"listing_456"},"id":"evt_abc123","timestamp":"2025-01-10T14:20:00Z","type":"listing.updated"}"#
        );
    }

    #[test]
    fn subscriptions_are_checked_against_the_catalog() {
        let mut e = ValidationErrors::new();
        let names = ["listing.created", "nope", "listing.created", "report.generated"].map(String::from);
        assert_eq!(check_events(&mut e, &names), ["listing.created", "report.generated"]);
        assert_eq!(e.fields()["events[1]"], ["unknown event 'nope' (see GET /webhooks/events)"]);
        assert_eq!(e.fields().len(), 1);
        let mut e = ValidationErrors::new();
        assert!(check_events(&mut e, &[]).is_empty());
        assert_eq!(e.fields()["events"], ["must name at least one event (see GET /webhooks/events)"]);
        let mut e = ValidationErrors::new();
        check_events(&mut e, &vec!["listing.created".to_owned(); MAX_SUBSCRIBED_EVENTS + 1]);
        assert_eq!(e.fields()["events"], ["must have at most 50 events"]);
        assert_eq!(DeliveryStatus::NAMES, ["pending", "delivered", "failed", "cancelled"]);
    }

    #[test]
    fn test_sends_are_the_payload_marked_as_a_test() {
        let t = Utc.with_ymd_and_hms(2025, 1, 10, 14, 20, 0).unwrap();
        let entry = catalog_entry("opportunity.status_changed").unwrap();
        let mut marked: Value = serde_json::from_str(&payload("evt_test_1", entry.name, t, &(entry.sample)())).unwrap();
        marked["test"] = true.into();
        assert_eq!(test_payload("evt_test_1", entry, t), marked.to_string());
        assert_eq!(
            test_payload("evt_test_1", entry, t),
            r#"{"data":{"from":"open","opportunity_id":"opp_sample","to":"in_progress"},"id":"evt_test_1","test":true,"timestamp":"2025-01-10T14:20:00Z","type":"opportunity.status_changed"}"#
        );
    }

    #[test]
    fn private_and_metadata_addresses_are_forbidden() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            assert!(forbidden_address(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!forbidden_address(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn urls_must_be_https_and_public_unless_allowed() {
        assert!(validate_url("https://your-app.com/webhooks/vellocity", false).is_ok());
        assert!(validate_url("http://your-app.com/hook", false).is_err());
        assert!(validate_url("http://your-app.com/hook", true).is_err(), "http only to local hosts");
        assert!(validate_url("https://127.0.0.1/hook", false).is_err());
        assert!(validate_url("https://169.254.169.254/latest", false).is_err());
        assert!(validate_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(validate_url("http://localhost:9000/hook", true).is_ok());
        assert!(validate_url("ftp://your-app.com/", false).is_err());
        assert!(validate_url("https://user:pw@your-app.com/", false).is_err());
        assert!(validate_url("not a url", false).is_err());
    }

    #[test]
    fn the_schedule_and_retry_after() {
        let s = default_schedule();
        assert_eq!(delay_before(&s, 1), Some(Duration::zero()));
        assert_eq!(delay_before(&s, 2), Some(Duration::seconds(5)));
        assert_eq!(delay_before(&s, 8), Some(Duration::hours(10)));
        assert_eq!(delay_before(&s, 9), None, "eight attempts in all");
        assert_eq!(delay_before(&s, 0), None);
        let j = with_jitter(Duration::seconds(100), 0.0);
        assert_eq!(j, Duration::seconds(90));
        assert_eq!(with_jitter(Duration::seconds(100), 0.999_999), Duration::milliseconds(110_000));
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(parse_retry_after("Wed, 01 Jan 2025 00:01:00 GMT", now), Some(Duration::seconds(60)));
        assert_eq!(parse_retry_after("9999999", now), Some(Duration::days(1)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_duration("5m"), Ok(Duration::minutes(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::milliseconds(250)));
        assert!(parse_duration("5").is_err() && parse_duration("5d").is_err());
    }
}

/// What an attempt's outcome means for its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    Failed,
    /// 410 Gone: the receiver wants no more; disable the webhook.
    Disable,
}

/// Decides after attempt `attempt` (1-based): any 2xx delivers; 410 disables; anything else
/// (other statuses, timeouts, connection errors) retries on the schedule, or fails after the
/// last attempt. A `Retry-After` on 429/503 postpones the retry to at least that long.
pub fn next_step(
    status: Option<u16>,
    retry_after: Option<Duration>,
    attempt: usize,
    schedule: &[Duration],
    now: DateTime<Utc>,
    jitter_unit: f64,
) -> Next {
    match status {
        Some(s) if (200..300).contains(&s) => return Next::Delivered,
        Some(410) => return Next::Disable,
        _ => {}
    }
    let Some(delay) = delay_before(schedule, attempt + 1) else { return Next::Failed };
    let mut wait = with_jitter(delay, jitter_unit);
    if matches!(status, Some(429) | Some(503))
        && let Some(ra) = retry_after
    {
        wait = wait.max(ra);
    }
    Next::RetryAt(now + wait)
}

/// Headers of a signed delivery: both signature schemes, keyed with the webhook's secret.
pub fn signed_headers(secret: &str, msg_id: &str, unix_ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-vellocity-signature", vellocity_signature(secret, body)),
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", unix_ts.to_string()),
        ("webhook-signature", standard_signature(secret, msg_id, unix_ts, body)),
    ]
}

#[cfg(test)]
mod next_step_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn outcomes_map_to_the_next_step() {
        let s = default_schedule();
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(next_step(Some(200), None, 1, &s, now, 0.5), Next::Delivered);
        assert_eq!(next_step(Some(204), None, 8, &s, now, 0.5), Next::Delivered);
        assert_eq!(next_step(Some(410), None, 1, &s, now, 0.5), Next::Disable);
        assert_eq!(next_step(Some(500), None, 1, &s, now, 0.5), Next::RetryAt(now + Duration::seconds(5)));
        assert_eq!(next_step(None, None, 2, &s, now, 0.5), Next::RetryAt(now + Duration::minutes(5)), "timeouts retry");
        assert_eq!(
            next_step(Some(301), None, 1, &s, now, 0.5),
            Next::RetryAt(now + Duration::seconds(5)),
            "redirects are not followed"
        );
        assert_eq!(next_step(Some(500), None, 8, &s, now, 0.5), Next::Failed, "after the eighth attempt");
        let ra = Some(Duration::minutes(10));
        assert_eq!(next_step(Some(429), ra, 1, &s, now, 0.5), Next::RetryAt(now + Duration::minutes(10)));
        assert_eq!(
            next_step(Some(503), Some(Duration::seconds(1)), 1, &s, now, 0.5),
            Next::RetryAt(now + Duration::seconds(5)),
            "never sooner than the schedule"
        );
        assert_eq!(
            next_step(Some(500), ra, 1, &s, now, 0.5),
            Next::RetryAt(now + Duration::seconds(5)),
            "Retry-After counts on 429/503 only"
        );
    }

    #[test]
    fn signed_headers_carry_both_schemes() {
        let h = signed_headers(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("webhook-signature"), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(get("webhook-timestamp"), "1614265330");
        assert_eq!(get("x-vellocity-signature").len(), 64);
    }
}
