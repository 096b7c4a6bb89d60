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

use crate::ValidationErrors;
use crate::catalog::{Frequency, PaymentPlan};
use crate::money::Amount;
use crate::subscription::{OrderLine, PricedLine};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    available_actions_for(status, role, false)
}

/// [`available_actions`] of a quote whose prices may need the marketplace manager
/// (`needs_review`, [`finalize_by`]).
pub fn available_actions_for(status: QuoteStatus, role: QuoteRole, needs_review: bool) -> Vec<AvailableAction> {
    AvailableAction::ALL
        .into_iter()
        .filter(|a| match a.action() {
            QuoteAction::Finalize => finalize_by(status, role, needs_review).is_ok(),
            other => act(status, role, other).is_ok(),
        })
        .collect()
}

/// Finalizing by `role`: [`act`]'s rule, and a quote that sells below the catalog's prices
/// (`needs_review`: a custom price under a cost's item price plus markups) is the marketplace
/// manager's to finalize — a seller requests a review first.
pub fn finalize_by(status: QuoteStatus, role: QuoteRole, needs_review: bool) -> Result<QuoteStatus, String> {
    let to = act(status, role, QuoteAction::Finalize)?;
    if needs_review && role.is_seller() {
        return Err(
            "only the marketplace manager finalizes a quote priced below the catalog (request a review to hand it over)"
                .into(),
        );
    }
    Ok(to)
}

/// Whether a quote's items may be added, edited or removed at all (by someone): not once it is
/// CLOSED.
pub fn items_editable(status: QuoteStatus) -> bool {
    transition(status, QuoteAction::Edit).is_ok()
}

// ----- items -----

/// Custom attributes: each key's values (the document's `CustomAttribute`, "values must be a
/// string array").
pub type Attributes = BTreeMap<String, Vec<String>>;

/// A cost whose price the quote sets itself (`customPrices`): the cost's sale price per unit
/// in the quote's currency, replacing the catalog's item price and markups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPrice {
    pub cost_id: String,
    pub cents: i64,
}

/// An item of a quote as stored: a payment plan of the catalog (the document's
/// `pricingPlanId`) with the units asked, priced by `subscription::price_order` (with the
/// custom prices applied). Finalizing buys it as `POST /subscriptions` would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteItem {
    pub id: String,
    pub product_id: String,
    pub product_name: String,
    pub product_logo: Option<String>,
    pub edition_id: String,
    pub edition_name: String,
    pub pricing_plan_id: String,
    pub frequency: Frequency,
    /// The units as asked (a cost without one is priced at its `minUnits`, or 1).
    pub units: Vec<OrderLine>,
    pub custom_prices: Vec<CustomPrice>,
    pub subscription_custom_attributes: Attributes,
    pub vendor_required_fields: Attributes,
    /// A custom price sells a cost below the catalog's price ([`below_catalog`]).
    #[serde(default)]
    pub below_catalog: bool,
    /// One line per cost of the plan.
    pub priced: Vec<PricedLine>,
    pub total_cents: i64,
}

/// At most this many items on one quote.
pub const MAX_ITEMS: usize = 50;

/// `plan` with the quote's custom prices applied in `currency`: each named cost's item price
/// becomes the custom price and its markups in that currency are dropped (the custom price is
/// the sale price). Problems are named `customPrices[i].costId` / `.price`.
pub fn custom_priced(
    plan: &PaymentPlan,
    custom: &[CustomPrice],
    currency: &str,
) -> Result<PaymentPlan, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut out = plan.clone();
    for (i, c) in custom.iter().enumerate() {
        if custom[..i].iter().any(|o| o.cost_id == c.cost_id) {
            errors.add(&format!("customPrices[{i}].costId"), "appears twice");
            continue;
        }
        if c.cents < 0 {
            errors.add(&format!("customPrices[{i}].price"), "must be 0 or more");
            continue;
        }
        let Some(cost) = out.costs.iter_mut().find(|k| k.id == c.cost_id) else {
            errors.add(&format!("customPrices[{i}].costId"), "is not a cost of the item's pricing plan");
            continue;
        };
        cost.item_prices.insert(currency.to_owned(), Amount::from_cents(c.cents));
        for m in &mut cost.markup_prices {
            m.markup_prices.remove(currency);
        }
    }
    errors.into_result()?;
    Ok(out)
}

/// Whether a custom price sells a cost of `plan` below its catalog sale price in `currency`
/// (item price plus markups), or prices a cost the catalog does not price in it.
pub fn below_catalog(plan: &PaymentPlan, custom: &[CustomPrice], currency: &str) -> bool {
    custom.iter().any(|c| {
        plan.costs
            .iter()
            .find(|k| k.id == c.cost_id)
            // A cost the catalog does not price in the currency has no floor: under review too.
            .is_some_and(|k| crate::subscription::unit_price(k, currency).is_none_or(|list| c.cents < list))
    })
}

/// Problems of custom attributes at `field`: at most 50 keys of 1 to 100 characters, at most 50
/// values each, of at most 500 characters.
pub fn check_attributes(a: &Attributes, field: &str, errors: &mut ValidationErrors) {
    if a.len() > 50 {
        errors.add(field, "must have at most 50 keys");
    }
    for (k, values) in a {
        if k.trim().is_empty() || k.chars().count() > 100 {
            errors.add(field, "keys must be 1 to 100 characters");
        } else if values.len() > 50 {
            errors.add(&format!("{field}.{k}"), "must have at most 50 values");
        } else if values.iter().any(|v| v.chars().count() > 500) {
            errors.add(&format!("{field}.{k}"), "values must be at most 500 characters");
        }
    }
}

/// Whether another item (not `except`) of `items` buys `edition_id`: finalizing would buy the
/// edition twice for one company, which the catalog refuses (one live subscription per
/// edition), so the quote refuses it first (409).
pub fn edition_taken(items: &[QuoteItem], edition_id: &str, except: Option<&str>) -> bool {
    items.iter().any(|i| i.edition_id == edition_id && Some(i.id.as_str()) != except)
}

/// The quote's total: its items' totals, or `None` when the sum does not fit.
pub fn total_cents(items: &[QuoteItem]) -> Option<i64> {
    items.iter().try_fold(0i64, |sum, i| sum.checked_add(i.total_cents))
}

/// A short id people read out (`I4HNJM`, the leads document's `friendlyId`): six characters
/// from an alphabet without look-alikes (no 0/O, 1/I), derived from the quote's id.
pub fn friendly_id(id: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // FNV-1a: stable across builds and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..6).map(|i| char::from(ALPHABET[((h >> (i * 5)) & 31) as usize])).collect()
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

    fn plan() -> PaymentPlan {
        serde_json::from_value(serde_json::json!({
            "id": "plan_1", "frequency": "MONTHLY",
            "costs": [{ "id": "cost_user", "unit": "USER", "pricingStrategy": "UNIT", "itemPrices": { "USD": 10 },
                "markupPrices": [{ "markupType": "RESELLER_COMPANY", "markupPrices": { "USD": 2 } }] },
              { "id": "cost_fee", "unit": "NOT_APPLICABLE", "pricingStrategy": "FLAT_RATE", "itemPrices": { "USD": 5 }, "markupPrices": [] }]
        }))
        .unwrap()
    }

    #[test]
    fn custom_prices_replace_the_item_price_and_its_markups() {
        let p = plan();
        let custom = [CustomPrice { cost_id: "cost_user".into(), cents: 800 }];
        let priced = custom_priced(&p, &custom, "USD").unwrap();
        let lines = [OrderLine { unit: crate::catalog::PricingUnit::User, quantity: 3 }];
        let order = crate::subscription::price_order(&priced, &lines, "USD").unwrap();
        assert_eq!(order.total_cents, 3 * 800 + 500, "8.00 × 3 without the 2.00 markup, plus the flat fee");
        let full = crate::subscription::price_order(&p, &lines, "USD").unwrap();
        assert_eq!(full.total_cents, 3 * 1200 + 500);
        assert!(below_catalog(&p, &custom, "USD"), "8.00 is under 10.00 + 2.00");
        let at_list = [CustomPrice { cost_id: "cost_user".into(), cents: 1200 }];
        assert!(!below_catalog(&p, &at_list, "USD") && !below_catalog(&p, &[], "USD"));
        assert!(below_catalog(&p, &at_list, "EUR"), "no EUR price in the catalog: no floor");
        let bad = [
            CustomPrice { cost_id: "nope".into(), cents: 1 },
            CustomPrice { cost_id: "cost_fee".into(), cents: -1 },
            CustomPrice { cost_id: "cost_user".into(), cents: 1 },
            CustomPrice { cost_id: "cost_user".into(), cents: 2 },
        ];
        let e = custom_priced(&p, &bad, "USD").unwrap_err();
        let fields: Vec<&str> = e.fields().keys().map(|f| f.as_str()).collect();
        assert_eq!(fields, ["customPrices[0].costId", "customPrices[1].price", "customPrices[3].costId"]);
    }

    #[test]
    fn attributes_editions_totals_and_friendly_ids() {
        let mut errors = ValidationErrors::new();
        let ok: Attributes = [("intended_os".to_owned(), vec!["ios".to_owned()])].into();
        check_attributes(&ok, "vendorRequiredFields", &mut errors);
        assert!(errors.into_result().is_ok());
        let mut errors = ValidationErrors::new();
        let bad: Attributes = [(" ".to_owned(), vec![]), ("k".to_owned(), vec!["x".repeat(501)])].into();
        check_attributes(&bad, "a", &mut errors);
        assert_eq!(errors.fields().len(), 2);
        let item = |id: &str, edition: &str, cents: i64| QuoteItem {
            id: id.into(),
            product_id: "p".into(),
            product_name: "P".into(),
            product_logo: None,
            edition_id: edition.into(),
            edition_name: "E".into(),
            pricing_plan_id: "plan".into(),
            frequency: Frequency::Monthly,
            units: vec![],
            custom_prices: vec![],
            subscription_custom_attributes: Attributes::new(),
            vendor_required_fields: Attributes::new(),
            below_catalog: false,
            priced: vec![],
            total_cents: cents,
        };
        let items = [item("a", "e1", 100), item("b", "e2", 250)];
        assert!(edition_taken(&items, "e1", None));
        assert!(!edition_taken(&items, "e1", Some("a")), "an item may keep its own edition");
        assert!(!edition_taken(&items, "e3", None));
        assert_eq!(total_cents(&items), Some(350));
        assert_eq!(total_cents(&[item("a", "e", i64::MAX), item("b", "f", 1)]), None);
        let f = friendly_id("quote_123");
        assert_eq!(f.len(), 6);
        assert_eq!(f, friendly_id("quote_123"), "stable");
        assert_ne!(f, friendly_id("quote_124"));
        assert!(f.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) && !f.contains(['0', 'O', '1', 'I']));
    }

    #[test]
    fn a_quote_below_the_catalog_is_the_marketplace_managers_to_finalize() {
        assert!(finalize_by(Open, Reseller, true).is_err());
        assert!(finalize_by(Open, SalesSupport, true).is_err());
        assert_eq!(finalize_by(Open, ChannelAdmin, true), Ok(Closed));
        assert_eq!(finalize_by(PendingReview, ChannelAdmin, true), Ok(Closed));
        assert_eq!(finalize_by(Open, Reseller, false), Ok(Closed));
        assert_eq!(available_actions_for(Open, Reseller, true), [Av::Edit, Av::RequestReview]);
        assert_eq!(available_actions_for(Open, ChannelAdmin, true), [Av::Edit, Av::Finalize, Av::RequestReview]);
        assert_eq!(available_actions_for(Closed, ChannelAdmin, true), []);
    }
}
