//! Companies, users and partner enrolment: the validated values they are made of.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A company's display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyName(String);

impl CompanyName {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let t = s.trim();
        if t.is_empty() {
            return Err("must not be empty");
        }
        if t.chars().count() > 200 {
            return Err("must be at most 200 characters");
        }
        if t.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, lower-cased. Deliberately simple: one `@`, a non-empty local part, a
/// dotted domain, no spaces; deliverability is the mail system's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let t = s.trim();
        if t.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let Some((local, domain)) = t.split_once('@') else {
            return Err("must be a valid e-mail address");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@');
        if !domain_ok || !local_ok {
            return Err("must be a valid e-mail address");
        }
        Ok(Self(t.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plan's name. Plans themselves (their limits) are configuration; the name is a slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlanName(String);

impl PlanName {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok { Ok(Self(s.to_owned())) } else { Err("must be a plan name such as starter, business or enterprise") }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlanName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::str_enum! {
    /// The roles a membership carries (DESIGN.md: who a company is to the marketplace).
    #[derive(PartialOrd, Ord)]
    pub enum Role: unknown = unknown_role {
        Reseller = "reseller",
        ResellerManager = "reseller_manager",
        Referral = "referral",
        Developer = "developer",
        ChannelAdmin = "channel_admin",
        SalesSupport = "sales_support",
        Partner = "partner",
        PartnerRead = "partner_read",
    }
}

fn unknown_role(got: &str, names: &[&str]) -> String {
    format!("unknown role '{got}' (expected one of: {})", names.join(", "))
}

impl Role {
    /// Read-only roles may look but not change anything.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::PartnerRead)
    }
}

/// Roles as stored: a comma-separated, sorted, de-duplicated list.
pub fn roles_to_column(roles: &[Role]) -> String {
    let mut v: Vec<Role> = roles.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

pub fn roles_from_column(s: &str) -> Vec<Role> {
    s.split(',').filter(|p| !p.is_empty()).filter_map(|p| Role::parse(p).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_are_trimmed_and_bounded() {
        assert_eq!(CompanyName::parse("  Acme Corp ").unwrap().as_str(), "Acme Corp");
        assert!(CompanyName::parse("   ").is_err());
        assert!(CompanyName::parse(&"x".repeat(201)).is_err());
        assert!(CompanyName::parse("Acme\u{0}").is_err());
    }

    #[test]
    fn emails_are_validated_and_lowercased() {
        assert_eq!(Email::parse("Admin@Acme.COM").unwrap().as_str(), "admin@acme.com");
        for bad in ["", "acme.com", "a@b", "a @b.com", "@b.com", "a@.b.com", "a@b..com", "a@b.com."] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn plan_names_are_slugs() {
        assert!(PlanName::parse("enterprise").is_ok());
        assert!(PlanName::parse("Enterprise").is_err());
        assert!(PlanName::parse("").is_err());
    }

    #[test]
    fn roles_round_trip_through_the_column() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        let col = roles_to_column(&[Role::Referral, Role::Reseller, Role::Referral]);
        assert_eq!(col, "reseller,referral");
        assert_eq!(roles_from_column(&col), vec![Role::Reseller, Role::Referral]);
        assert!(Role::parse("admin").unwrap_err().contains("reseller_manager"));
    }
}
