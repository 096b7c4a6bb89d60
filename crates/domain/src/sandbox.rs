//! Sandboxes: a marketplace of its own, owned by a partner of a production marketplace, seeded
//! with demo data and removed when it expires. The rules here are plain values; the services
//! seed and purge, the store removes every row of the sandbox's marketplace.

use chrono::{DateTime, Duration, Utc};

/// Sandbox ids are the ids of their marketplaces: `sbx_…`.
pub const ID_PREFIX: &str = "sbx";

/// The expiry a sandbox gets when its creator names none (the config file can change it).
pub const DEFAULT_EXPIRY_DAYS: u32 = 7;
pub const MIN_EXPIRY_DAYS: u32 = 1;
pub const MAX_EXPIRY_DAYS: u32 = 30;

/// Sandboxes one partner may hold at once (active or not yet removed).
pub const MAX_PER_PARTNER: u32 = 10;

pub const MAX_NAME: usize = 100;

/// A sandbox left `provisioning` this long was abandoned mid-seed (its process died); the
/// expiry sweep removes it.
pub const PROVISIONING_TIMEOUT: Duration = Duration::minutes(10);

/// Whether `marketplace_id` is a sandbox's (its keys may not create sandboxes of their own).
pub fn is_sandbox(marketplace_id: &str) -> bool {
    marketplace_id.strip_prefix(ID_PREFIX).is_some_and(|rest| rest.starts_with('_'))
}

crate::str_enum! {
    /// What the store holds: `provisioning` while the demo data is written (its keys do not
    /// work yet), `active` once it is all there.
    pub enum StoredStatus { Provisioning = "provisioning", Active = "active" }
}

crate::str_enum! {
    /// What a client sees: `active` until `expires_at`, `expired` from then until the sweep
    /// removes it (its keys stop working at `expires_at`, not at the sweep).
    pub enum SandboxStatus { Active = "active", Expired = "expired" }
}

/// The status shown at `now`.
pub fn status_at(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> SandboxStatus {
    if now < expires_at { SandboxStatus::Active } else { SandboxStatus::Expired }
}

/// A sandbox's name: trimmed, 1 to 100 characters, no control characters. `None` gives
/// `default`.
pub fn name(given: Option<&str>, default: &str) -> Result<String, String> {
    let Some(raw) = given else { return Ok(default.to_owned()) };
    let t = raw.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > MAX_NAME {
        return Err(format!("must be at most {MAX_NAME} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_owned())
}

/// Days until expiry: `given`, or `default`, within 1 to 30.
pub fn expiry_days(given: Option<i64>, default: u32) -> Result<u32, String> {
    let days = given.unwrap_or(i64::from(default));
    match u32::try_from(days) {
        Ok(d) if (MIN_EXPIRY_DAYS..=MAX_EXPIRY_DAYS).contains(&d) => Ok(d),
        _ => Err(format!("must be a whole number of days from {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sandbox_marketplaces_are_known_by_their_prefix() {
        assert!(is_sandbox("sbx_0123456789abcdefghij"));
        assert!(!is_sandbox("mkt_0123456789abcdefghij"));
        assert!(!is_sandbox("sbxmkt_1"));
        assert!(!is_sandbox(""));
    }

    #[test]
    fn expiry_is_bounded_and_defaults() {
        assert_eq!(expiry_days(None, 7), Ok(7));
        assert_eq!(expiry_days(Some(1), 7), Ok(1));
        assert_eq!(expiry_days(Some(30), 7), Ok(30));
        for bad in [0, 31, -1, i64::MAX, i64::MIN] {
            assert!(expiry_days(Some(bad), 7).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name(None, "Sandbox").as_deref(), Ok("Sandbox"));
        assert_eq!(name(Some("  Demo  "), "x").as_deref(), Ok("Demo"));
        assert!(name(Some("   "), "x").is_err());
        assert!(name(Some(&"a".repeat(101)), "x").is_err());
        assert!(name(Some(&"a".repeat(100)), "x").is_ok());
        assert!(name(Some("a\u{7}b"), "x").is_err());
    }

    #[test]
    fn a_sandbox_is_expired_from_its_expiry_on() {
        let t = Utc.with_ymd_and_hms(2025, 1, 15, 10, 0, 0).unwrap();
        assert_eq!(status_at(t, t - Duration::milliseconds(1)), SandboxStatus::Active);
        assert_eq!(status_at(t, t), SandboxStatus::Expired);
    }
}
