//! Invoice status: Stripe's machine, as data. An invoice is issued `open` (partnerd issues no
//! drafts: the number is assigned at issue), then the operator marks it `paid`, `void` or
//! `uncollectible`; an uncollectible invoice may still be paid or voided; `paid` and `void` are
//! final.

crate::str_enum! {
    pub enum InvoiceStatus {
        Open = "open",
        Paid = "paid",
        Void = "void",
        Uncollectible = "uncollectible",
    }
}

/// Every allowed move `(from, to)`; anything else is refused.
pub const ALLOWED_MOVES: &[(InvoiceStatus, InvoiceStatus)] = {
    use InvoiceStatus::*;
    &[(Open, Paid), (Open, Void), (Open, Uncollectible), (Uncollectible, Paid), (Uncollectible, Void)]
};

impl InvoiceStatus {
    /// The statuses this one may move to.
    pub fn targets(self) -> Vec<InvoiceStatus> {
        ALLOWED_MOVES.iter().filter(|(f, _)| *f == self).map(|(_, t)| *t).collect()
    }

    pub fn can_move_to(self, to: InvoiceStatus) -> bool {
        ALLOWED_MOVES.contains(&(self, to))
    }

    /// Whether the move is allowed; else the message a client sees, naming the allowed targets.
    pub fn check_move(self, to: InvoiceStatus) -> Result<(), String> {
        if self.can_move_to(to) {
            return Ok(());
        }
        let targets: Vec<&str> = self.targets().into_iter().map(InvoiceStatus::as_str).collect();
        if targets.is_empty() {
            Err(format!("a {} invoice is final", self.as_str()))
        } else {
            Err(format!("cannot move from {} to {}; allowed: {}", self.as_str(), to.as_str(), targets.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InvoiceStatus::{self, *};

    #[test]
    fn every_move_is_decided() {
        let allowed = [(Open, Paid), (Open, Void), (Open, Uncollectible), (Uncollectible, Paid), (Uncollectible, Void)];
        for from in InvoiceStatus::ALL {
            for to in InvoiceStatus::ALL {
                let expect = allowed.contains(&(from, to));
                assert_eq!(from.can_move_to(to), expect, "{from:?} → {to:?}");
                assert_eq!(from.check_move(to).is_ok(), expect, "{from:?} → {to:?}");
            }
        }
    }

    #[test]
    fn refusals_name_the_way_out() {
        assert_eq!(Paid.check_move(Void).unwrap_err(), "a paid invoice is final");
        assert_eq!(Void.check_move(Open).unwrap_err(), "a void invoice is final");
        assert_eq!(
            Uncollectible.check_move(Open).unwrap_err(),
            "cannot move from uncollectible to open; allowed: paid, void"
        );
        assert!(Open.check_move(Open).unwrap_err().contains("allowed: paid, void, uncollectible"));
    }
}
