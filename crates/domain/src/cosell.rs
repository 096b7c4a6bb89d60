//! Co-sell opportunities: a deal one partner shares with another, its field rules and its
//! status machine.

use crate::ValidationErrors;
use chrono::NaiveDate;

crate::str_enum! {
    pub enum OpportunityStatus {
        Open = "open",
        InProgress = "in_progress",
        Won = "won",
        Lost = "lost",
    }
}

impl OpportunityStatus {
    /// Where an opportunity may go from here: open → in_progress, won or lost (the document's
    /// own PATCH example closes an open deal as won); in_progress → won or lost; won and lost
    /// are final.
    pub fn next(self) -> &'static [OpportunityStatus] {
        match self {
            OpportunityStatus::Open => {
                &[OpportunityStatus::InProgress, OpportunityStatus::Won, OpportunityStatus::Lost]
            }
            OpportunityStatus::InProgress => &[OpportunityStatus::Won, OpportunityStatus::Lost],
            OpportunityStatus::Won | OpportunityStatus::Lost => &[],
        }
    }

    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// Still in the pipeline (counted in `pipeline_value`).
    pub fn is_pipeline(self) -> bool {
        matches!(self, OpportunityStatus::Open | OpportunityStatus::InProgress)
    }
}

/// Longest customer name, in characters.
pub const MAX_CUSTOMER_NAME: usize = 200;
/// Longest description or notes, in characters.
pub const MAX_TEXT: usize = 5_000;

/// A text field trimmed; a problem (required and empty, too long) is recorded under `field`.
pub fn check_text(errors: &mut ValidationErrors, field: &str, v: &str, max: usize, required: bool) -> String {
    let t = v.trim();
    if required && t.is_empty() {
        errors.add(field, "is required");
    } else if t.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
    t.to_owned()
}

/// A `YYYY-MM-DD` date, or a problem recorded under `field`.
pub fn check_date(errors: &mut ValidationErrors, field: &str, v: &str) -> Option<NaiveDate> {
    errors.check(field, NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| "must be a date (YYYY-MM-DD)"))
}

/// Checks a requested status change. Staying in the same status is no change and allowed.
pub fn transition(from: OpportunityStatus, to: OpportunityStatus) -> Result<(), String> {
    if from == to || from.next().contains(&to) {
        return Ok(());
    }
    let allowed = from.next();
    if allowed.is_empty() {
        Err(format!("cannot change from '{}' to '{}': '{}' is final", from.as_str(), to.as_str(), from.as_str()))
    } else {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        Err(format!("cannot change from '{}' to '{}'; allowed: {}", from.as_str(), to.as_str(), names.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::OpportunityStatus::*;
    use super::*;

    #[test]
    fn every_allowed_transition() {
        let allowed = [(Open, InProgress), (Open, Won), (Open, Lost), (InProgress, Won), (InProgress, Lost)];
        for (from, to) in allowed {
            assert_eq!(transition(from, to), Ok(()), "{from:?} → {to:?}");
        }
        for s in OpportunityStatus::ALL {
            assert_eq!(transition(s, s), Ok(()), "no change is not a transition");
        }
    }

    #[test]
    fn every_move_is_either_allowed_or_refused() {
        // The two lists above cover all 16 pairs, so a change to the table shows up here.
        let mut allowed = 0;
        for from in OpportunityStatus::ALL {
            for to in OpportunityStatus::ALL {
                if from != to && transition(from, to).is_ok() {
                    allowed += 1;
                }
            }
        }
        assert_eq!(allowed, 5);
        assert!(Won.is_final() && Lost.is_final() && !Open.is_final() && !InProgress.is_final());
    }

    #[test]
    fn every_refused_transition_names_the_allowed_ones() {
        let refused = [
            (InProgress, Open),
            (Won, Open),
            (Won, InProgress),
            (Won, Lost),
            (Lost, Open),
            (Lost, InProgress),
            (Lost, Won),
        ];
        for (from, to) in refused {
            let e = transition(from, to).unwrap_err();
            if from.is_final() {
                assert!(e.contains("is final"), "{e}");
            } else {
                for a in from.next() {
                    assert!(e.contains(a.as_str()), "{e}");
                }
            }
        }
        assert_eq!(transition(Won, Lost).unwrap_err(), "cannot change from 'won' to 'lost': 'won' is final");
        assert_eq!(
            transition(InProgress, Open).unwrap_err(),
            "cannot change from 'in_progress' to 'open'; allowed: won, lost"
        );
    }

    #[test]
    fn fields_are_trimmed_and_bounded() {
        let mut e = ValidationErrors::new();
        assert_eq!(check_text(&mut e, "notes", "  hi ", MAX_TEXT, false), "hi");
        assert_eq!(check_text(&mut e, "customer_name", "   ", MAX_CUSTOMER_NAME, true), "");
        check_text(&mut e, "description", &"x".repeat(MAX_TEXT + 1), MAX_TEXT, false);
        assert_eq!(check_date(&mut e, "expected_close_date", " 2025-03-15 "), NaiveDate::from_ymd_opt(2025, 3, 15));
        assert_eq!(check_date(&mut e, "expected_close_date", "15/03/2025"), None);
        assert_eq!(e.fields()["customer_name"], ["is required"]);
        assert_eq!(e.fields()["description"], ["must be at most 5000 characters"]);
        assert_eq!(e.fields()["expected_close_date"], ["must be a date (YYYY-MM-DD)"]);
        assert!(!e.fields().contains_key("notes"));
    }

    #[test]
    fn statuses_parse_and_classify() {
        assert_eq!(OpportunityStatus::parse("in_progress"), Ok(InProgress));
        assert!(OpportunityStatus::parse("closed").is_err());
        assert!(Open.is_pipeline() && InProgress.is_pipeline() && !Won.is_pipeline() && !Lost.is_pipeline());
    }
}
