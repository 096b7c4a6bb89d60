//! Support tickets a partner works for its customers: their fields and the status machine as
//! data.
//!
//! The machine: `open → in_progress → waiting_on_customer ↔ in_progress → resolved → closed`,
//! and a resolved ticket may be reopened (`resolved → open`). `closed` is final (as Zendesk's
//! closed tickets: a new problem is a new ticket).

use crate::ValidationErrors;

crate::str_enum! {
    pub enum TicketStatus {
        Open = "open",
        InProgress = "in_progress",
        WaitingOnCustomer = "waiting_on_customer",
        Resolved = "resolved",
        Closed = "closed",
    }
}

crate::str_enum! {
    pub enum TicketPriority {
        Low = "low",
        Medium = "medium",
        High = "high",
        Urgent = "urgent",
    }
}

crate::str_enum! {
    pub enum TicketCategory {
        Technical = "technical",
        Billing = "billing",
        Account = "account",
        Other = "other",
    }
}

crate::str_enum! {
    /// Who wrote a comment: the partner's staff (the default), or the customer, relayed by the
    /// partner (a reply received by e-mail or phone).
    pub enum CommentAuthor {
        Partner = "partner",
        Customer = "customer",
    }
}

/// Every allowed move `(from, to)`; anything else is refused.
pub const ALLOWED_MOVES: &[(TicketStatus, TicketStatus)] = {
    use TicketStatus::*;
    &[
        (Open, InProgress),
        (InProgress, WaitingOnCustomer),
        (WaitingOnCustomer, InProgress),
        (InProgress, Resolved),
        (Resolved, Closed),
        // Reopen.
        (Resolved, Open),
    ]
};

impl TicketStatus {
    /// The statuses this one may move to, in the table's order.
    pub fn targets(self) -> Vec<TicketStatus> {
        ALLOWED_MOVES.iter().filter(|(f, _)| *f == self).map(|(_, t)| *t).collect()
    }

    pub fn is_final(self) -> bool {
        self.targets().is_empty()
    }

    /// Not yet resolved or closed: counted as open in metrics.
    pub fn is_open(self) -> bool {
        matches!(self, TicketStatus::Open | TicketStatus::InProgress | TicketStatus::WaitingOnCustomer)
    }

    /// Whether a satisfaction rating may be given.
    pub fn may_be_rated(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

/// Checks a requested status change. Staying in the same status is no change and allowed. A
/// refusal names the current status and the allowed moves.
pub fn transition(from: TicketStatus, to: TicketStatus) -> Result<(), String> {
    if from == to || ALLOWED_MOVES.contains(&(from, to)) {
        return Ok(());
    }
    let targets: Vec<&str> = from.targets().into_iter().map(TicketStatus::as_str).collect();
    if targets.is_empty() {
        Err(format!("cannot change from '{}' to '{}': '{}' is final", from.as_str(), to.as_str(), from.as_str()))
    } else {
        Err(format!("cannot change from '{}' to '{}'; allowed: {}", from.as_str(), to.as_str(), targets.join(", ")))
    }
}

/// Longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest description or comment, in characters.
pub const MAX_BODY: usize = 10_000;
/// Longest rating comment, in characters.
pub const MAX_RATING_COMMENT: usize = 2_000;

/// A text trimmed, required (1 character at least) and at most `max` characters; a problem is
/// recorded under `field`.
pub fn required_text(errors: &mut ValidationErrors, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    let t = v.map(str::trim).unwrap_or("");
    if t.is_empty() {
        errors.add(field, "is required");
        None
    } else if t.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        None
    } else {
        Some(t.to_owned())
    }
}

/// A satisfaction rating: a whole number from 1 to 5.
pub fn rating(v: i64) -> Result<u8, String> {
    u8::try_from(v).ok().filter(|r| (1..=5).contains(r)).ok_or_else(|| "must be a whole number from 1 to 5".into())
}

#[cfg(test)]
mod tests {
    use super::TicketStatus::*;
    use super::*;

    #[test]
    fn every_allowed_move() {
        let allowed = [
            (Open, InProgress),
            (InProgress, WaitingOnCustomer),
            (WaitingOnCustomer, InProgress),
            (InProgress, Resolved),
            (Resolved, Closed),
            (Resolved, Open),
        ];
        for (from, to) in allowed {
            assert_eq!(transition(from, to), Ok(()), "{from:?} → {to:?}");
        }
        for s in TicketStatus::ALL {
            assert_eq!(transition(s, s), Ok(()), "no change is not a move");
        }
    }

    #[test]
    fn every_refused_move_names_the_current_status() {
        let refused = [
            (Open, WaitingOnCustomer),
            (Open, Resolved),
            (Open, Closed),
            (InProgress, Open),
            (InProgress, Closed),
            (WaitingOnCustomer, Open),
            (WaitingOnCustomer, Resolved),
            (WaitingOnCustomer, Closed),
            (Resolved, InProgress),
            (Resolved, WaitingOnCustomer),
            (Closed, Open),
            (Closed, InProgress),
            (Closed, WaitingOnCustomer),
            (Closed, Resolved),
        ];
        // 5 × 4 = 20 moves between different statuses: 6 allowed + 14 refused.
        assert_eq!(refused.len() + ALLOWED_MOVES.len(), 20);
        for (from, to) in refused {
            let e = transition(from, to).unwrap_err();
            assert!(e.contains(&format!("from '{}'", from.as_str())), "{e}");
            for t in from.targets() {
                assert!(e.contains(t.as_str()), "{e}");
            }
        }
        assert_eq!(transition(Closed, Open).unwrap_err(), "cannot change from 'closed' to 'open': 'closed' is final");
        assert_eq!(
            transition(Open, Resolved).unwrap_err(),
            "cannot change from 'open' to 'resolved'; allowed: in_progress"
        );
        assert_eq!(
            transition(InProgress, Closed).unwrap_err(),
            "cannot change from 'in_progress' to 'closed'; allowed: waiting_on_customer, resolved"
        );
    }

    #[test]
    fn every_pair_is_decided_by_the_table() {
        let mut allowed = 0;
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                if from != to && transition(from, to).is_ok() {
                    allowed += 1;
                }
            }
        }
        assert_eq!(allowed, ALLOWED_MOVES.len());
        assert!(Closed.is_final() && TicketStatus::ALL.iter().filter(|s| s.is_final()).count() == 1);
    }

    #[test]
    fn statuses_classify() {
        assert!(Open.is_open() && InProgress.is_open() && WaitingOnCustomer.is_open());
        assert!(!Resolved.is_open() && !Closed.is_open());
        assert!(Resolved.may_be_rated() && Closed.may_be_rated());
        assert!(!Open.may_be_rated() && !InProgress.may_be_rated() && !WaitingOnCustomer.may_be_rated());
        assert_eq!(TicketPriority::parse("urgent"), Ok(TicketPriority::Urgent));
        assert!(TicketCategory::parse("sales").unwrap_err().contains("technical, billing, account, other"));
    }

    #[test]
    fn texts_and_ratings_are_bounded() {
        let mut e = ValidationErrors::new();
        assert_eq!(required_text(&mut e, "subject", Some("  Hi "), MAX_SUBJECT).as_deref(), Some("Hi"));
        assert_eq!(required_text(&mut e, "subject", Some("   "), MAX_SUBJECT), None);
        assert_eq!(required_text(&mut e, "description", None, MAX_BODY), None);
        assert_eq!(required_text(&mut e, "body", Some(&"é".repeat(MAX_BODY + 1)), MAX_BODY), None);
        assert!(required_text(&mut e, "ok", Some(&"é".repeat(MAX_BODY)), MAX_BODY).is_some(), "characters, not bytes");
        assert_eq!(e.fields()["subject"], ["is required"]);
        assert_eq!(e.fields()["description"], ["is required"]);
        assert_eq!(e.fields()["body"], ["must be at most 10000 characters"]);
        assert!(!e.fields().contains_key("ok"));
        assert_eq!(rating(1), Ok(1));
        assert_eq!(rating(5), Ok(5));
        for bad in [0, 6, -1, 256, i64::MAX] {
            assert!(rating(bad).is_err(), "{bad}");
        }
    }
}
