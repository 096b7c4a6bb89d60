//! AppReseller subscriptions: their status machine as data, orders and their statuses, order
//! lines, and **pricing** an order from the catalog.
//!
//! Pricing, the one rule (written into the OpenAPI too): every cost of the payment plan is
//! charged in the order's currency at its unit price = the cost's item price + every markup the
//! catalog lists for it in that currency (the channel's and the reseller company's: what the
//! customer pays the reseller). A `UNIT` cost charges unit price × quantity; a `FLAT_RATE` cost
//! charges its unit price once whatever the quantity. All amounts are integer cents, so an
//! order's total is exact: nothing is rounded. The only rounding anywhere is the proration of a
//! mid-period change (`billing::fraction_of`: nearest cent, halves away from zero).

use crate::ValidationErrors;
use crate::billing::{LineItem, Period, fraction_of};
use crate::catalog::{Cost, Frequency, PaymentPlan, PricingStrategy, PricingUnit};
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

crate::str_enum! {
    /// `AppResellerSubscriptionWS.status`.
    pub enum SubscriptionStatus {
        Initialized = "INITIALIZED",
        Failed = "FAILED",
        FreeTrial = "FREE_TRIAL",
        FreeTrialExpired = "FREE_TRIAL_EXPIRED",
        Active = "ACTIVE",
        Suspended = "SUSPENDED",
        Cancelled = "CANCELLED",
    }
}

crate::str_enum! {
    /// What can happen to a subscription.
    pub enum SubscriptionAction {
        /// Quantity or payment-plan change (`PUT`): a new active order.
        Change = "CHANGE",
        /// `DELETE`.
        Cancel = "CANCEL",
        Suspend = "SUSPEND",
        Resume = "RESUME",
        /// A free trial that ends unpaid.
        ExpireTrial = "EXPIRE_TRIAL",
        /// A pending creation that completes or fails.
        Activate = "ACTIVATE",
        Fail = "FAIL",
    }
}

/// Every allowed move `(from, action, to)`; anything else is refused.
pub const MOVES: &[(SubscriptionStatus, SubscriptionAction, SubscriptionStatus)] = {
    use SubscriptionAction as A;
    use SubscriptionStatus::*;
    &[
        (Initialized, A::Activate, Active),
        (Initialized, A::Fail, Failed),
        (FreeTrial, A::Change, FreeTrial),
        (FreeTrial, A::Activate, Active),
        (FreeTrial, A::ExpireTrial, FreeTrialExpired),
        (FreeTrial, A::Cancel, Cancelled),
        (FreeTrialExpired, A::Activate, Active),
        (FreeTrialExpired, A::Cancel, Cancelled),
        (Active, A::Change, Active),
        (Active, A::Suspend, Suspended),
        (Active, A::Cancel, Cancelled),
        (Suspended, A::Resume, Active),
        (Suspended, A::Cancel, Cancelled),
    ]
};

/// The status `action` leads to from `from`, or why not.
pub fn transition(from: SubscriptionStatus, action: SubscriptionAction) -> Result<SubscriptionStatus, String> {
    MOVES.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to).ok_or_else(|| {
        format!("a subscription that is {} cannot {}", from.as_str(), action.as_str().to_lowercase().replace('_', " "))
    })
}

/// Whether the subscription still holds its edition for its company (one such per company
/// and edition).
pub fn holds_edition(status: SubscriptionStatus) -> bool {
    !matches!(status, SubscriptionStatus::Cancelled | SubscriptionStatus::Failed)
}

crate::str_enum! {
    /// The document's order statuses (`GET /orders?status=`).
    pub enum OrderStatus {
        Initialized = "INITIALIZED",
        PendingUserApproval = "PENDING_USER_APPROVAL",
        PendingRemoteCreation = "PENDING_REMOTE_CREATION",
        PendingManualRecovery = "PENDING_MANUAL_RECOVERY",
        PendingAsynchronousCreation = "PENDING_ASYNCHRONOUS_CREATION",
        FreeTrial = "FREE_TRIAL",
        Active = "ACTIVE",
        Finished = "FINISHED",
        OneTime = "ONE_TIME",
        Cancelled = "CANCELLED",
        Suspended = "SUSPENDED",
        FreeTrialExpired = "FREE_TRIAL_EXPIRED",
        FreeTrialCancelled = "FREE_TRIAL_CANCELLED",
        Deleted = "DELETED",
        Failed = "FAILED",
        Upcoming = "UPCOMING",
        PendingMigrationActivation = "PENDING_MIGRATION_ACTIVATION",
        PendingDelayedProvisioning = "PENDING_DELAYED_PROVISIONING",
    }
}

crate::str_enum! {
    /// `UserEntitlementStatus`: a seat assignment's status. partnerd's seats are `ACTIVE` once
    /// assigned and `CANCELLED` once unassigned (or their subscription cancelled); the other
    /// values are accepted by the list's filter.
    pub enum SeatStatus {
        PendingRequiredData = "PENDING_REQUIRED_DATA",
        PendingSeatAvailability = "PENDING_SEAT_AVAILABILITY",
        PendingUserActivation = "PENDING_USER_ACTIVATION",
        PendingRemoteCreation = "PENDING_REMOTE_CREATION",
        SuspendedFreeTrialExpired = "SUBSCRIPTION_SUSPENDED_FREE_TRIAL_EXPIRED",
        SuspendedRenewContract = "SUBSCRIPTION_SUSPENDED_RENEW_CONTRACT",
        SuspendedPayInvoice = "SUBSCRIPTION_SUSPENDED_PAY_INVOICE",
        SuspendedManualSuspension = "SUBSCRIPTION_SUSPENDED_MANUAL_SUSPENSION",
        Failed = "FAILED",
        Active = "ACTIVE",
        PendingRemoteCancellation = "PENDING_REMOTE_CANCELLATION",
        Cancelled = "CANCELLED",
    }
}

/// The status of a subscription's new active order: a one-time purchase is `ONE_TIME`, a
/// recurring one `ACTIVE`.
pub fn new_order_status(frequency: Frequency) -> OrderStatus {
    if frequency == Frequency::OneTime { OrderStatus::OneTime } else { OrderStatus::Active }
}

/// The status an active order takes when it is replaced by a change (`FINISHED`) or its
/// subscription is cancelled (`CANCELLED`; a one-time order stays `ONE_TIME`: it was bought).
pub fn closed_order_status(current: OrderStatus, cancelled: bool) -> OrderStatus {
    match (current, cancelled) {
        (OrderStatus::OneTime, _) => OrderStatus::OneTime,
        (_, true) => OrderStatus::Cancelled,
        (_, false) => OrderStatus::Finished,
    }
}

/// `OrderLineDetailsWS`: a unit and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub unit: PricingUnit,
    pub quantity: u32,
}

/// One cost of the plan as charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub cost_id: String,
    pub unit: PricingUnit,
    pub pricing_strategy: PricingStrategy,
    pub quantity: u32,
    /// Item price plus markups, cents.
    pub unit_price_cents: i64,
    pub total_cents: i64,
}

/// An order priced from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub currency: String,
    /// What the customer ordered (a line per cost of the plan, in the plan's order).
    pub lines: Vec<OrderLine>,
    pub priced: Vec<PricedLine>,
    pub total_cents: i64,
}

impl PricedOrder {
    /// Seats the subscription offers for assignment: the quantity of its `USER` line, else of
    /// its first line (a flat purchase has one seat).
    pub fn seats(&self) -> u32 {
        seats(&self.lines)
    }
}

/// See [`PricedOrder::seats`].
pub fn seats(lines: &[OrderLine]) -> u32 {
    lines.iter().find(|l| l.unit == PricingUnit::User).or(lines.first()).map_or(1, |l| l.quantity)
}

/// The currency an order of `plan` is priced in: `requested`, else `USD` when every cost of the
/// plan is priced in it, else the first currency (alphabetically) that every cost is priced in.
pub fn order_currency(plan: &PaymentPlan, requested: Option<&str>) -> Result<String, String> {
    let prices_all = |cur: &str| plan.costs.iter().all(|c| c.item_prices.contains_key(cur));
    if let Some(r) = requested {
        return if prices_all(r) { Ok(r.to_owned()) } else { Err(format!("the payment plan is not priced in {r}")) };
    }
    if prices_all("USD") {
        return Ok("USD".into());
    }
    let first = plan.costs.first().map(|c| c.item_prices.keys().find(|cur| prices_all(cur)).cloned());
    first.flatten().ok_or_else(|| "the payment plan has no currency every cost is priced in".into())
}

/// A cost's sale price per unit in `currency`: its item price plus every markup.
pub fn unit_price(cost: &Cost, currency: &str) -> Option<i64> {
    let item = cost.item_prices.get(currency)?.cents();
    cost.markup_prices
        .iter()
        .filter_map(|m| m.markup_prices.get(currency))
        .try_fold(item, |sum, p| sum.checked_add(p.cents()))
}

/// Prices `lines` against `plan` in `currency` by the module's rule. Problems are named by
/// their path (`orderLines[1].quantity`): a unit the plan has no cost for or given twice, a
/// quantity outside the cost's `minUnits`/`maxUnits`. A cost of the plan without a line is
/// ordered at its `minUnits` (or 1).
pub fn price_order(plan: &PaymentPlan, lines: &[OrderLine], currency: &str) -> Result<PricedOrder, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for (i, l) in lines.iter().enumerate() {
        if !plan.costs.iter().any(|c| c.unit == l.unit) {
            let units: Vec<&str> = plan.costs.iter().map(|c| c.unit.as_str()).collect();
            errors.add(
                &format!("orderLines[{i}].unit"),
                format!("the payment plan has no cost for {} (its units: {})", l.unit.as_str(), units.join(", ")),
            );
        } else if lines[..i].iter().any(|o| o.unit == l.unit) {
            errors.add(&format!("orderLines[{i}].unit"), "appears twice");
        }
    }
    let mut out = Vec::with_capacity(plan.costs.len());
    let mut ordered = Vec::with_capacity(plan.costs.len());
    let mut total: i64 = 0;
    for cost in &plan.costs {
        let at = lines.iter().position(|l| l.unit == cost.unit);
        let quantity = at.map_or(cost.min_units.unwrap_or(1).max(1), |i| lines[i].quantity);
        let field = at.map_or_else(|| "orderLines".to_owned(), |i| format!("orderLines[{i}].quantity"));
        let (lo, hi) = (cost.min_units.unwrap_or(0), cost.max_units.unwrap_or(u32::MAX));
        if quantity < lo || quantity > hi {
            let range = match cost.max_units {
                Some(hi) => format!("between {lo} and {hi}"),
                None => format!("at least {lo}"),
            };
            errors.add(&field, format!("{} must be {range} (got {quantity})", cost.unit.as_str()));
            continue;
        }
        let Some(price) = unit_price(cost, currency) else {
            errors.add("paymentPlanId", format!("the payment plan's {} cost is not priced in {currency}", cost.unit));
            continue;
        };
        let line_total = match cost.pricing_strategy {
            PricingStrategy::Unit => price.checked_mul(i64::from(quantity)),
            PricingStrategy::FlatRate => Some(price),
        };
        let Some(line_total) = line_total.filter(|t| total.checked_add(*t).is_some()) else {
            errors.add(&field, "the order's total is too large");
            continue;
        };
        total += line_total;
        ordered.push(OrderLine { unit: cost.unit, quantity });
        out.push(PricedLine {
            cost_id: cost.id.clone(),
            unit: cost.unit,
            pricing_strategy: cost.pricing_strategy,
            quantity,
            unit_price_cents: price,
            total_cents: line_total,
        });
    }
    errors.into_result()?;
    Ok(PricedOrder { currency: currency.to_owned(), lines: ordered, priced: out, total_cents: total })
}

/// The billing period a purchase of `frequency` made at `start` covers; a one-time purchase
/// has none.
pub fn billing_period(frequency: Frequency, start: DateTime<Utc>) -> Option<Period> {
    let months = match frequency {
        Frequency::OneTime => return None,
        Frequency::Daily => return Some(Period { start, end: start + Duration::days(1) }),
        Frequency::Monthly => 1,
        Frequency::Quarterly => 3,
        Frequency::SixMonths => 6,
        Frequency::Yearly => 12,
        Frequency::TwoYears => 24,
        Frequency::ThreeYears => 36,
    };
    Some(Period { start, end: start.checked_add_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MAX_UTC) })
}

/// The invoice lines of a change at `at` from an order of `old_cents` to one of `new_cents`:
/// within a recurring period, the unused time of the old order is credited and the remaining
/// time of the new one charged (`billing::prorate`, Stripe's default); a one-time purchase is
/// charged (or credited) the difference. Empty when nothing changes in price.
pub fn change_lines(
    period: Option<Period>,
    at: DateTime<Utc>,
    (old_name, old_cents): (&str, i64),
    (new_name, new_cents): (&str, i64),
) -> Vec<LineItem> {
    if old_cents == new_cents && old_name == new_name {
        return vec![];
    }
    match period {
        Some(p) => crate::billing::prorate(p, at, (old_name, old_cents), (new_name, new_cents)),
        None => {
            vec![LineItem::new(format!("Change from {old_name} to {new_name}"), new_cents - old_cents, at, at, true)]
        }
    }
}

/// The remaining-time charge of `cents` over `period` from `at` (by the one rounding rule).
pub fn remaining(period: Period, at: DateTime<Utc>, cents: i64) -> i64 {
    let total = (period.end - period.start).num_seconds();
    fraction_of(cents, (period.end - at).num_seconds().clamp(0, total), total)
}

/// `USD350.00`: the document's `totalFee`, the currency code then the amount with two decimals.
pub fn total_fee(currency: &str, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{currency}{sign}{}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Markup, MarkupType};
    use crate::money::Amount;
    use chrono::TimeZone;

    fn cost(unit: PricingUnit, strategy: PricingStrategy, usd: i64, min: Option<u32>, max: Option<u32>) -> Cost {
        Cost {
            id: format!("cost_{}", unit.as_str()),
            unit,
            unit_dependency: None,
            pricing_strategy: strategy,
            item_prices: [("USD".to_owned(), Amount::from_cents(usd)), ("EUR".to_owned(), Amount::from_cents(usd + 1))]
                .into(),
            markup_prices: vec![],
            min_units: min,
            max_units: max,
        }
    }

    fn plan(costs: Vec<Cost>) -> PaymentPlan {
        PaymentPlan {
            id: "plan_1".into(),
            frequency: Frequency::Monthly,
            cancellation_period_limit: None,
            end_of_contract_grace_period: None,
            minimum_service_length: None,
            costs,
        }
    }

    fn line(unit: PricingUnit, quantity: u32) -> OrderLine {
        OrderLine { unit, quantity }
    }

    #[test]
    fn every_allowed_move_and_every_refused_one() {
        for from in SubscriptionStatus::ALL {
            for action in SubscriptionAction::ALL {
                let allowed = MOVES.iter().find(|(f, a, _)| *f == from && *a == action);
                match (transition(from, action), allowed) {
                    (Ok(to), Some((_, _, expected))) => assert_eq!(to, *expected),
                    (Err(why), None) => assert!(why.contains(from.as_str()), "{why}"),
                    (got, _) => panic!("{from:?} {action:?}: {got:?}"),
                }
            }
        }
        assert_eq!(
            transition(SubscriptionStatus::Active, SubscriptionAction::Cancel),
            Ok(SubscriptionStatus::Cancelled)
        );
        assert_eq!(transition(SubscriptionStatus::Active, SubscriptionAction::Change), Ok(SubscriptionStatus::Active));
        assert!(transition(SubscriptionStatus::Cancelled, SubscriptionAction::Change).is_err(), "cancelled is final");
        assert!(transition(SubscriptionStatus::Cancelled, SubscriptionAction::Cancel).is_err());
        assert!(transition(SubscriptionStatus::Suspended, SubscriptionAction::Change).is_err());
        assert!(!holds_edition(SubscriptionStatus::Cancelled) && holds_edition(SubscriptionStatus::Suspended));
    }

    #[test]
    fn a_unit_cost_charges_per_unit_with_every_markup() {
        let mut c = cost(PricingUnit::User, PricingStrategy::Unit, 1000, Some(1), Some(50));
        c.markup_prices = vec![
            Markup {
                markup_type: MarkupType::ChannelResellerCompany,
                markup_prices: [("USD".into(), Amount::from_cents(150))].into(),
            },
            Markup {
                markup_type: MarkupType::ResellerCompany,
                markup_prices: [("USD".into(), Amount::from_cents(25))].into(),
            },
        ];
        let p = price_order(&plan(vec![c]), &[line(PricingUnit::User, 3)], "USD").unwrap();
        assert_eq!(p.priced[0].unit_price_cents, 1175);
        assert_eq!(p.total_cents, 3525, "(10.00 + 1.50 + 0.25) × 3");
        assert_eq!(p.seats(), 3);
        // Markups in another currency add nothing to this one.
        let eur = price_order(
            &plan(vec![cost(PricingUnit::User, PricingStrategy::Unit, 1000, None, None)]),
            &[line(PricingUnit::User, 2)],
            "EUR",
        )
        .unwrap();
        assert_eq!(eur.total_cents, 2002);
    }

    #[test]
    fn a_flat_rate_cost_charges_once_whatever_the_quantity() {
        let costs = vec![
            cost(PricingUnit::User, PricingStrategy::Unit, 500, Some(1), Some(10)),
            cost(PricingUnit::NotApplicable, PricingStrategy::FlatRate, 9900, None, None),
        ];
        let p = price_order(&plan(costs.clone()), &[line(PricingUnit::User, 4)], "USD").unwrap();
        assert_eq!(p.total_cents, 4 * 500 + 9900);
        assert_eq!(
            p.lines,
            [line(PricingUnit::User, 4), line(PricingUnit::NotApplicable, 1)],
            "missing line at its minimum"
        );
        let more = price_order(&plan(costs), &[line(PricingUnit::User, 4), line(PricingUnit::NotApplicable, 7)], "USD")
            .unwrap();
        assert_eq!(more.total_cents, p.total_cents);
    }

    #[test]
    fn quantities_outside_the_limits_and_unknown_units_are_named() {
        let pl = plan(vec![cost(PricingUnit::User, PricingStrategy::Unit, 500, Some(2), Some(10))]);
        let e = price_order(&pl, &[line(PricingUnit::User, 11)], "USD").unwrap_err();
        assert!(e.fields()["orderLines[0].quantity"][0].contains("between 2 and 10"), "{e}");
        let e = price_order(&pl, &[line(PricingUnit::User, 1)], "USD").unwrap_err();
        assert!(e.fields().contains_key("orderLines[0].quantity"));
        let e = price_order(&pl, &[line(PricingUnit::User, 2), line(PricingUnit::Device, 1)], "USD").unwrap_err();
        assert!(e.fields()["orderLines[1].unit"][0].contains("USER"), "{e}");
        let e = price_order(&pl, &[line(PricingUnit::User, 2), line(PricingUnit::User, 3)], "USD").unwrap_err();
        assert_eq!(e.fields()["orderLines[1].unit"], ["appears twice"]);
        let e = price_order(&pl, &[line(PricingUnit::User, 2)], "GBP").unwrap_err();
        assert!(e.fields().contains_key("paymentPlanId"));
        let huge = plan(vec![cost(PricingUnit::User, PricingStrategy::Unit, i64::MAX / 2, None, None)]);
        assert!(price_order(&huge, &[line(PricingUnit::User, 3)], "USD").is_err(), "overflow is refused, not wrapped");
    }

    #[test]
    fn the_currency_is_usd_unless_asked_or_unpriced() {
        let pl = plan(vec![cost(PricingUnit::User, PricingStrategy::Unit, 500, None, None)]);
        assert_eq!(order_currency(&pl, None).unwrap(), "USD");
        assert_eq!(order_currency(&pl, Some("EUR")).unwrap(), "EUR");
        assert!(order_currency(&pl, Some("GBP")).is_err());
        let mut eur_only = pl.clone();
        eur_only.costs[0].item_prices.remove("USD");
        assert_eq!(order_currency(&eur_only, None).unwrap(), "EUR");
    }

    #[test]
    fn periods_follow_the_frequency() {
        let t = Utc.with_ymd_and_hms(2025, 1, 31, 0, 0, 0).unwrap();
        assert_eq!(billing_period(Frequency::OneTime, t), None);
        assert_eq!(
            billing_period(Frequency::Monthly, t).unwrap().end,
            Utc.with_ymd_and_hms(2025, 2, 28, 0, 0, 0).unwrap()
        );
        assert_eq!(
            billing_period(Frequency::Quarterly, t).unwrap().end,
            Utc.with_ymd_and_hms(2025, 4, 30, 0, 0, 0).unwrap()
        );
        assert_eq!(
            billing_period(Frequency::ThreeYears, t).unwrap().end,
            Utc.with_ymd_and_hms(2028, 1, 31, 0, 0, 0).unwrap()
        );
        assert_eq!(billing_period(Frequency::Daily, t).unwrap().end - t, Duration::days(1));
    }

    #[test]
    fn a_change_prorates_within_the_period_and_charges_the_difference_once() {
        let start = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap();
        let p = billing_period(Frequency::Monthly, start);
        let at = Utc.with_ymd_and_hms(2025, 4, 11, 0, 0, 0).unwrap();
        let lines = change_lines(p, at, ("3 × USER", 3000), ("5 × USER", 5000));
        assert_eq!(crate::billing::subtotal(&lines), 1333, "-2000 + 3333: 20 of 30 days remain");
        assert!(change_lines(p, at, ("a", 3000), ("a", 3000)).is_empty());
        let once = change_lines(None, at, ("3 × USER", 3000), ("2 × USER", 2000));
        assert_eq!(crate::billing::subtotal(&once), -1000, "a one-time purchase is credited the difference");
        assert_eq!(remaining(p.unwrap(), at, 3000), 2000);
    }

    #[test]
    fn fees_read_as_the_document_shows() {
        assert_eq!(total_fee("USD", 35_000), "USD350.00");
        assert_eq!(total_fee("EUR", 5), "EUR0.05");
        assert_eq!(total_fee("USD", -1050), "USD-10.50");
    }

    #[test]
    fn order_statuses_open_and_close() {
        assert_eq!(new_order_status(Frequency::OneTime), OrderStatus::OneTime);
        assert_eq!(new_order_status(Frequency::Yearly), OrderStatus::Active);
        assert_eq!(closed_order_status(OrderStatus::Active, false), OrderStatus::Finished);
        assert_eq!(closed_order_status(OrderStatus::Active, true), OrderStatus::Cancelled);
        assert_eq!(closed_order_status(OrderStatus::OneTime, true), OrderStatus::OneTime);
        assert_eq!(OrderStatus::ALL.len(), 18, "the document's list");
    }
}
