//! AppReseller opportunities ("quotes": kept apart from co-sell opportunities in [`crate::cosell`])
//! — their status machine as data, who may do what in which status, and the `availableActions`
//! an opportunity shows its caller. The contract is `docs/opportunities-spec.md`.
//!
//! What the document gives: the statuses `OPEN`, `CLOSED`, `PENDING_REVIEW` (the list's
//! `status` filter), `POST …/finalize` turning an OPEN opportunity CLOSED, `POST
//! /opportunities/{id}/requestReview`, item edits (`POST|PUT|DELETE …/items`) and `PATCH`, and
//! `availableActions` `["EDIT","FINALIZE"]` on an OPEN opportunity and `[]` on a CLOSED one.
//! Everything else below is partnerd's reading, because the document is silent:
//!
//! - Requesting a review moves OPEN → PENDING_REVIEW. A review is the marketplace manager's
//!   (ROLE_CHANNEL_ADMIN): while PENDING_REVIEW the sellers (reseller, sales support) wait, and
//!   the marketplace manager may edit, finalize, or complete the review, which returns the quote
//!   to OPEN. The document has no endpoint for completing a review.
//! - Finalizing closes the quote from OPEN or PENDING_REVIEW; CLOSED is final: nothing changes,
//!   items included.
//! - Every role the document's scope tables list for requestReview and finalize (all three) may
//!   do them in OPEN.

crate::str_enum! {
    /// The document's opportunity statuses (`GET /appReseller/v1/opportunities?status=`), in its
    /// order.
    pub enum QuoteStatus {
        Open = "OPEN",
        Closed = "CLOSED",
        PendingReview = "PENDING_REVIEW",
    }
}

crate::str_enum! {
    /// What can happen to a quote.
    pub enum QuoteAction {
        /// Any change while it is not closed: `PATCH` (name, purchase effective date, purchase
        /// custom attributes) and adding, editing or removing items.
        Edit = "EDIT",
        /// `POST /opportunities/{id}/requestReview`.
        RequestReview = "REQUEST_REVIEW",
        /// The review is done and the quote goes back to its sellers. Not in the document (it
        /// has no endpoint for it).
        CompleteReview = "COMPLETE_REVIEW",
        /// `POST …/finalize`: the purchase is made and the quote closes.
        Finalize = "FINALIZE",
    }
}

crate::str_enum! {
    /// The caller's role for the quote, from the document's scope tables: ROLE_CHANNEL_ADMIN
    /// ("as a Marketplace Manager"), ROLE_RESELLER, ROLE_SALES_SUPPORT.
    pub enum QuoteRole {
        ChannelAdmin = "CHANNEL_ADMIN",
        Reseller = "RESELLER",
        SalesSupport = "SALES_SUPPORT",
    }
}

impl QuoteRole {
    /// The document's scope name.
    pub const fn scope(self) -> &'static str {
        match self {
            QuoteRole::ChannelAdmin => "ROLE_CHANNEL_ADMIN",
            QuoteRole::Reseller => "ROLE_RESELLER",
            QuoteRole::SalesSupport => "ROLE_SALES_SUPPORT",
        }
    }

    /// Whether the role sells (owns quotes and waits on their reviews) rather than reviews.
    pub const fn is_seller(self) -> bool {
        matches!(self, QuoteRole::Reseller | QuoteRole::SalesSupport)
    }

    /// Whether the role may create a quote or `PATCH` its name, purchase effective date and
    /// purchase custom attributes: the document lists only ROLE_RESELLER and ROLE_SALES_SUPPORT
    /// there (the marketplace manager may still change items, finalize and request a review).
    pub const fn may_create_and_update(self) -> bool {
        self.is_seller()
    }
}

crate::str_enum! {
    /// `Opportunity.availableActions`. The document's `AvailableAction` enumeration lists **no
    /// values**; its examples show `EDIT` and `FINALIZE`. `REQUEST_REVIEW` is partnerd's, named
    /// after the `requestReview` endpoint (the document's OPEN example, whose caller is a
    /// reseller or sales support, does not show it). There is no delete action: the document
    /// has no delete-opportunity operation. Declaration order is the order they are listed in.
    pub enum AvailableAction {
        Edit = "EDIT",
        Finalize = "FINALIZE",
        RequestReview = "REQUEST_REVIEW",
    }
}

impl AvailableAction {
    /// The action this offers.
    pub const fn action(self) -> QuoteAction {
        match self {
            AvailableAction::Edit => QuoteAction::Edit,
            AvailableAction::Finalize => QuoteAction::Finalize,
            AvailableAction::RequestReview => QuoteAction::RequestReview,
        }
    }
}

/// Every allowed move `(from, action, to)` whoever acts; anything else is refused. Who may make
/// a move is [`act`]'s business.
pub const MOVES: &[(QuoteStatus, QuoteAction, QuoteStatus)] = {
    use QuoteAction as A;
    use QuoteStatus::*;
    &[
        (Open, A::Edit, Open),
        (Open, A::RequestReview, PendingReview),
        (Open, A::Finalize, Closed),
        (PendingReview, A::Edit, PendingReview),
        (PendingReview, A::CompleteReview, Open),
        (PendingReview, A::Finalize, Closed),
    ]
};

fn words(action: QuoteAction) -> String {
    action.as_str().to_lowercase().replace('_', " ")
}

/// The status `action` leads to from `from`, or why not.
pub fn transition(from: QuoteStatus, action: QuoteAction) -> Result<QuoteStatus, String> {
    MOVES
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|(_, _, to)| *to)
        .ok_or_else(|| format!("a quote that is {} cannot {}", from.as_str(), words(action)))
}

/// The status `action` by `role` leads to from `from`, or why not: the move must be in
/// [`MOVES`], a quote under review is the marketplace manager's alone, and only the marketplace
/// manager completes a review.
pub fn act(from: QuoteStatus, role: QuoteRole, action: QuoteAction) -> Result<QuoteStatus, String> {
    let to = transition(from, action)?;
    if role.is_seller() && (from == QuoteStatus::PendingReview || action == QuoteAction::CompleteReview) {
        return Err(format!(
            "a quote that is {} is with the marketplace manager: a {} cannot {} it",
            from.as_str(),
            role.as_str().to_lowercase().replace('_', " "),
            words(action)
        ));
    }
    Ok(to)
}

/// `availableActions` for a quote in `status` shown to `role`: every [`AvailableAction`] whose
/// action [`act`] allows, in declaration order. OPEN: `EDIT, FINALIZE, REQUEST_REVIEW` for every
/// role; PENDING_REVIEW: `EDIT, FINALIZE` for the marketplace manager, nothing for sellers;
/// CLOSED: nothing (the document's finalize example).
pub fn available_actions(status: QuoteStatus, role: QuoteRole) -> Vec<AvailableAction> {
    AvailableAction::ALL.into_iter().filter(|a| act(status, role, a.action()).is_ok()).collect()
}

/// Whether a quote's items may be added, edited or removed at all (by someone): not once it is
/// CLOSED.
pub fn items_editable(status: QuoteStatus) -> bool {
    transition(status, QuoteAction::Edit).is_ok()
}

#[cfg(test)]
mod tests {
    use super::AvailableAction as Av;
    use super::QuoteAction as A;
    use super::QuoteRole::*;
    use super::QuoteStatus::*;
    use super::*;

    #[test]
    fn every_allowed_move_and_every_refused_one() {
        let mut allowed = 0;
        for from in QuoteStatus::ALL {
            for action in QuoteAction::ALL {
                let expected = MOVES.iter().find(|(f, a, _)| *f == from && *a == action);
                match (transition(from, action), expected) {
                    (Ok(to), Some((_, _, want))) => {
                        assert_eq!(to, *want);
                        allowed += 1;
                    }
                    (Err(why), None) => {
                        assert!(why.contains(from.as_str()), "{why}");
                        assert!(why.ends_with(&words(action)), "{why}");
                    }
                    (got, _) => panic!("{from:?} {action:?}: {got:?}"),
                }
            }
        }
        assert_eq!(allowed, MOVES.len(), "MOVES has no duplicate (from, action)");
        assert_eq!(allowed, 6);
    }

    #[test]
    fn the_moves_the_brief_names() {
        assert_eq!(transition(Open, A::RequestReview), Ok(PendingReview));
        assert_eq!(transition(PendingReview, A::CompleteReview), Ok(Open));
        assert_eq!(transition(PendingReview, A::Finalize), Ok(Closed));
        assert_eq!(transition(Open, A::Finalize), Ok(Closed));
        assert_eq!(transition(Open, A::Edit), Ok(Open));
        assert_eq!(transition(PendingReview, A::Edit), Ok(PendingReview));
        assert_eq!(
            transition(PendingReview, A::RequestReview).unwrap_err(),
            "a quote that is PENDING_REVIEW cannot request review"
        );
        assert_eq!(transition(Open, A::CompleteReview).unwrap_err(), "a quote that is OPEN cannot complete review");
        for action in QuoteAction::ALL {
            assert!(transition(Closed, action).is_err(), "CLOSED is final: {action:?}");
        }
        assert_eq!(transition(Closed, A::Finalize).unwrap_err(), "a quote that is CLOSED cannot finalize");
    }

    #[test]
    fn roles_follow_the_moves_except_under_review() {
        for from in QuoteStatus::ALL {
            for action in QuoteAction::ALL {
                for role in QuoteRole::ALL {
                    let got = act(from, role, action);
                    let seller_locked = role.is_seller() && (from == PendingReview || action == A::CompleteReview);
                    match transition(from, action) {
                        Err(why) => assert_eq!(got, Err(why), "the move's refusal comes first"),
                        Ok(_) if seller_locked => {
                            let why = got.unwrap_err();
                            assert!(why.contains("marketplace manager") && why.contains(from.as_str()), "{why}");
                        }
                        Ok(to) => assert_eq!(got, Ok(to), "{from:?} {role:?} {action:?}"),
                    }
                }
            }
        }
        assert_eq!(
            act(PendingReview, Reseller, A::Finalize).unwrap_err(),
            "a quote that is PENDING_REVIEW is with the marketplace manager: a reseller cannot finalize it"
        );
        assert_eq!(
            act(PendingReview, SalesSupport, A::Edit).unwrap_err(),
            "a quote that is PENDING_REVIEW is with the marketplace manager: a sales support cannot edit it"
        );
        assert_eq!(act(PendingReview, ChannelAdmin, A::CompleteReview), Ok(Open));
        assert_eq!(act(PendingReview, ChannelAdmin, A::Finalize), Ok(Closed));
        for role in QuoteRole::ALL {
            assert_eq!(act(Open, role, A::RequestReview), Ok(PendingReview), "every scope may request a review");
            assert_eq!(act(Open, role, A::Finalize), Ok(Closed), "every scope may finalize");
        }
    }

    #[test]
    fn available_actions_per_status_and_role() {
        let all = [Av::Edit, Av::Finalize, Av::RequestReview];
        for role in QuoteRole::ALL {
            assert_eq!(available_actions(Open, role), all, "{role:?}");
            assert_eq!(available_actions(Closed, role), [], "the finalize example: CLOSED shows []");
        }
        assert_eq!(available_actions(PendingReview, ChannelAdmin), [Av::Edit, Av::Finalize]);
        assert_eq!(available_actions(PendingReview, Reseller), []);
        assert_eq!(available_actions(PendingReview, SalesSupport), []);
        // The document's OPEN example shows EDIT and FINALIZE, in that order; partnerd adds
        // REQUEST_REVIEW after them.
        let open: Vec<&str> = available_actions(Open, Reseller).iter().map(|a| a.as_str()).collect();
        assert_eq!(open[..2], ["EDIT", "FINALIZE"]);
        assert_eq!(
            serde_json::to_value(available_actions(Open, SalesSupport)).unwrap(),
            serde_json::json!(["EDIT", "FINALIZE", "REQUEST_REVIEW"])
        );
        // Each offered action is one `act` allows, and vice versa.
        for status in QuoteStatus::ALL {
            for role in QuoteRole::ALL {
                for a in AvailableAction::ALL {
                    assert_eq!(available_actions(status, role).contains(&a), act(status, role, a.action()).is_ok());
                }
            }
        }
    }

    #[test]
    fn items_of_a_closed_quote_cannot_change() {
        assert!(items_editable(Open));
        assert!(items_editable(PendingReview));
        assert!(!items_editable(Closed));
        for role in QuoteRole::ALL {
            assert!(act(Closed, role, A::Edit).is_err());
        }
    }

    #[test]
    fn roles_and_statuses_parse_and_name_their_scopes() {
        assert_eq!(QuoteStatus::parse("PENDING_REVIEW"), Ok(PendingReview));
        assert_eq!(QuoteStatus::NAMES, ["OPEN", "CLOSED", "PENDING_REVIEW"]);
        assert_eq!(
            QuoteStatus::parse("open").unwrap_err(),
            "must be one of: OPEN, CLOSED, PENDING_REVIEW (got 'open')"
        );
        assert_eq!(QuoteRole::ALL.map(QuoteRole::scope), ["ROLE_CHANNEL_ADMIN", "ROLE_RESELLER", "ROLE_SALES_SUPPORT"]);
        assert!(!ChannelAdmin.may_create_and_update());
        assert!(Reseller.may_create_and_update() && SalesSupport.may_create_and_update());
        assert_eq!(AvailableAction::ALL.map(|a| a.action().as_str()), AvailableAction::NAMES, "same spelling");
    }
}
