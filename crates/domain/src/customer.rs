//! Customer accounts: their status and its moves, and contact validation.

crate::str_enum! {
    /// `active` is billed; `suspended` (service paused, e.g. for non-payment) is still billed;
    /// `cancelled` is final and stops future invoices. There is no `trial`: no customer plan
    /// has a trial period yet.
    pub enum CustomerStatus {
        Active = "active",
        Suspended = "suspended",
        Cancelled = "cancelled",
    }
}

impl CustomerStatus {
    /// `active ↔ suspended`, either → `cancelled`; `cancelled` is final. Staying is allowed.
    pub fn check_move(self, to: CustomerStatus) -> Result<(), String> {
        if self == to || self != CustomerStatus::Cancelled {
            Ok(())
        } else {
            Err("a cancelled account is final: create a new customer to resubscribe".into())
        }
    }

    /// Whether the scheduler issues its next invoices.
    pub fn is_billed(self) -> bool {
        self != CustomerStatus::Cancelled
    }
}

/// An E.164 phone number: `+`, a non-zero digit, up to 15 digits in all.
pub fn phone(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let digits = t.strip_prefix('+').unwrap_or("");
    let ok = (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    if ok { Ok(t.to_owned()) } else { Err("must be an E.164 number such as +14155550123".into()) }
}

/// A contact's name: 1–200 characters once trimmed.
pub fn contact_name(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    match t.chars().count() {
        0 => Err("is required".into()),
        n if n > 200 => Err("must be at most 200 characters".into()),
        _ => Ok(t.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::CustomerStatus::*;
    use super::*;

    #[test]
    fn status_moves() {
        for (from, to, ok) in [
            (Active, Suspended, true),
            (Suspended, Active, true),
            (Active, Cancelled, true),
            (Suspended, Cancelled, true),
            (Active, Active, true),
            (Cancelled, Cancelled, true),
            (Cancelled, Active, false),
            (Cancelled, Suspended, false),
        ] {
            assert_eq!(from.check_move(to).is_ok(), ok, "{from:?} → {to:?}");
        }
        assert!(Suspended.is_billed() && !Cancelled.is_billed());
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(phone(" +1234567890 ").unwrap(), "+1234567890");
        for bad in ["1234567890", "+0123", "+1", "+1234567890123456", "+12 34", "+12a4", ""] {
            assert!(phone(bad).is_err(), "{bad}");
        }
        assert!(contact_name("  ").is_err());
        assert_eq!(contact_name(" John ").unwrap(), "John");
    }
}
