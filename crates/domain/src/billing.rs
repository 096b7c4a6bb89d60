//! Billing maths for customer accounts: the price list, billing periods, proration and
//! commission, all in integer minor units (cents).
//!
//! **The one rounding rule**: an exact fraction of an amount (a prorated charge or credit, a
//! commission) is rounded to the nearest cent, halves away from zero, computed in 128-bit
//! integers so nothing overflows or goes through floating point.

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

crate::str_enum! {
    /// How often a customer is invoiced (in advance).
    pub enum BillingCycle {
        Monthly = "monthly",
        Annual = "annual",
    }
}

impl BillingCycle {
    fn months(self) -> u32 {
        match self {
            BillingCycle::Monthly => 1,
            BillingCycle::Annual => 12,
        }
    }
}

/// `amount × numerator / denominator`, rounded to the nearest cent, halves away from zero.
/// A zero denominator gives zero.
pub fn fraction_of(amount: i64, numerator: i64, denominator: i64) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let (n, d) = (i128::from(amount) * i128::from(numerator), i128::from(denominator));
    let q = n / d;
    let r = n % d;
    let rounded = if 2 * r.abs() >= d.abs() { q + n.signum() * d.signum() } else { q };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// A commission rate in basis points (1 bp = 0.01 %): `1500` is 15 %. Exact, unlike a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rate(u32);

impl Rate {
    pub const MAX_BPS: u32 = 10_000;
    pub const ZERO: Rate = Rate(0);

    /// `bps`, at most 100 %.
    pub const fn clamped(bps: u32) -> Self {
        Rate(if bps > Self::MAX_BPS { Self::MAX_BPS } else { bps })
    }

    pub fn from_bps(bps: u32) -> Result<Self, String> {
        if bps > Self::MAX_BPS { Err("must be between 0 and 1".into()) } else { Ok(Rate(bps)) }
    }

    pub const fn bps(self) -> u32 {
        self.0
    }

    /// A decimal fraction such as `0.15` or `0.125` (at most four decimals), from 0 to 1.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("must be a decimal from 0 to 1 with at most four decimals, such as 0.15 (got '{text}')");
        let t = text.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 4
        {
            return Err(bad());
        }
        let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
        let frac: u32 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
        let bps = whole.checked_mul(10_000).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?;
        Self::from_bps(bps).map_err(|_| bad())
    }

    /// The commission on `base`, by the rounding rule.
    pub fn of(self, base: i64) -> i64 {
        fraction_of(base, i64::from(self.0), 10_000)
    }

    /// `0.15`, as shown in responses and the CLI.
    pub fn decimal(self) -> String {
        let s = format!("{}.{:04}", self.0 / 10_000, self.0 % 10_000);
        let s = s.trim_end_matches('0');
        s.strip_suffix('.').map_or_else(|| s.to_owned(), |w| format!("{w}.0"))
    }
}

/// A customer plan's prices, in cents of the price list's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanPrice {
    pub monthly: i64,
    pub annual: i64,
}

impl PlanPrice {
    pub fn for_cycle(self, cycle: BillingCycle) -> i64 {
        match cycle {
            BillingCycle::Monthly => self.monthly,
            BillingCycle::Annual => self.annual,
        }
    }
}

/// The plans customers can be on, in one currency. Ordered by monthly price for "is this an
/// upgrade" (a more expensive plan is an upgrade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceList {
    pub currency: String,
    pub plans: BTreeMap<String, PlanPrice>,
}

impl Default for PriceList {
    /// starter 49/490, professional 149/1490, enterprise 499/4990 USD (annual: two months free).
    fn default() -> Self {
        let p = |m: i64| PlanPrice { monthly: m * 100, annual: m * 1000 };
        PriceList {
            currency: "USD".into(),
            plans: BTreeMap::from([
                ("starter".to_owned(), p(49)),
                ("professional".to_owned(), p(149)),
                ("enterprise".to_owned(), p(499)),
            ]),
        }
    }
}

impl PriceList {
    pub fn price(&self, plan: &str) -> Option<PlanPrice> {
        self.plans.get(plan).copied()
    }

    /// The plan named `name`, or why not (naming the plans there are).
    pub fn plan(&self, name: &str) -> Result<(String, PlanPrice), String> {
        self.price(name).map(|p| (name.to_owned(), p)).ok_or_else(|| {
            let names: Vec<&str> = self.plans.keys().map(String::as_str).collect();
            crate::str_enum::one_of(name, &names)
        })
    }

    /// Plans cheapest first (by monthly price, then name).
    pub fn ordered(&self) -> Vec<(&str, PlanPrice)> {
        let mut v: Vec<(&str, PlanPrice)> = self.plans.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        v.sort_by_key(|(n, p)| (p.monthly, *n));
        v
    }
}

/// A billing period `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Period `number` (1-based) of a subscription anchored at `anchor`: from `anchor + (n-1)`
/// cycles to `anchor + n` cycles. Counted from the anchor, as Stripe does, so a period starting
/// on the 31st comes back to the 31st after a short month (Jan 31 → Feb 28 → Mar 31).
pub fn period(anchor: DateTime<Utc>, cycle: BillingCycle, number: u32) -> Period {
    let at = |n: u32| anchor.checked_add_months(Months::new(cycle.months() * n)).unwrap_or(DateTime::<Utc>::MAX_UTC);
    Period { start: at(number.saturating_sub(1)), end: at(number) }
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    pub quantity: i64,
    /// Cents; negative for a credit.
    pub unit_amount: i64,
    /// `quantity × unit_amount`.
    pub amount: i64,
    /// The part of the period the line covers.
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// Whether the line prorates a plan change.
    pub proration: bool,
}

impl LineItem {
    pub fn new(
        description: String,
        unit_amount: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        proration: bool,
    ) -> Self {
        LineItem {
            description,
            quantity: 1,
            unit_amount,
            amount: unit_amount,
            period_start: start,
            period_end: end,
            proration,
        }
    }
}

/// The proration of a plan change at `at` within `period`, as Stripe's default
/// (`create_prorations`): a credit for the unused time at the old price and a charge for the
/// remaining time at the new price, each `price × remaining / period length` (in seconds) by the
/// rounding rule.
pub fn prorate(period: Period, at: DateTime<Utc>, old: (&str, i64), new: (&str, i64)) -> Vec<LineItem> {
    let total = (period.end - period.start).num_seconds();
    let remaining = (period.end - at).num_seconds().clamp(0, total);
    let credit = fraction_of(old.1, remaining, total);
    let charge = fraction_of(new.1, remaining, total);
    vec![
        LineItem::new(
            format!("Unused time on {} after {}", old.0, at.format("%Y-%m-%d")),
            -credit,
            at,
            period.end,
            true,
        ),
        LineItem::new(
            format!("Remaining time on {} after {}", new.0, at.format("%Y-%m-%d")),
            charge,
            at,
            period.end,
            true,
        ),
    ]
}

/// The credit balance `lines` applied, in cents (0 or more): the negative lines that are not
/// prorations (`services::billing::apply_balance` writes them). Voiding the invoice gives it
/// back to the customer's balance; a proration credit nets against the same invoice's charges
/// and goes with it.
pub fn credit_applied(lines: &[LineItem]) -> i64 {
    lines.iter().filter(|l| !l.proration && l.amount < 0).map(|l| -l.amount).sum()
}

/// The sum of the lines.
pub fn subtotal(lines: &[LineItem]) -> i64 {
    lines.iter().map(|l| l.amount).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn fractions_round_half_away_from_zero() {
        assert_eq!(fraction_of(100, 1, 3), 33);
        assert_eq!(fraction_of(100, 2, 3), 67);
        assert_eq!(fraction_of(1, 1, 2), 1, "0.5 → 1");
        assert_eq!(fraction_of(-1, 1, 2), -1, "-0.5 → -1");
        assert_eq!(fraction_of(3, 1, 4), 1, "0.75 → 1");
        assert_eq!(fraction_of(5, 1, 4), 1, "1.25 → 1");
        assert_eq!(fraction_of(i64::MAX, 2, 1), i64::MAX, "saturates");
        assert_eq!(fraction_of(10, 1, 0), 0);
    }

    #[test]
    fn rates_are_exact() {
        assert_eq!(Rate::parse("0.15").unwrap().bps(), 1500);
        assert_eq!(Rate::parse("0.125").unwrap().bps(), 1250);
        assert_eq!(Rate::parse("1").unwrap().bps(), 10_000);
        assert_eq!(Rate::parse(".5").unwrap().bps(), 5000);
        for bad in ["", ".", "1.5", "-0.1", "0.12345", "abc", "15%"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Rate::parse("0.15").unwrap().of(14_900), 2235);
        assert_eq!(Rate::parse("0.125").unwrap().of(1), 0, "0.125 cent → 0");
        assert_eq!(Rate::parse("0.5").unwrap().of(1), 1, "0.5 cent → 1");
        assert_eq!(Rate::parse("0.15").unwrap().decimal(), "0.15");
        assert_eq!(Rate::parse("1").unwrap().decimal(), "1.0");
        assert_eq!(Rate::from_bps(0).unwrap().decimal(), "0.0");
    }

    #[test]
    fn periods_count_from_the_anchor() {
        let a = t(2025, 1, 31);
        assert_eq!(period(a, BillingCycle::Monthly, 1), Period { start: a, end: t(2025, 2, 28) });
        assert_eq!(period(a, BillingCycle::Monthly, 2), Period { start: t(2025, 2, 28), end: t(2025, 3, 31) });
        assert_eq!(period(a, BillingCycle::Annual, 2), Period { start: t(2026, 1, 31), end: t(2027, 1, 31) });
    }

    #[test]
    fn an_upgrade_mid_period_credits_the_old_and_charges_the_new() {
        // 30-day period, 10 days used: 20/30 remains.
        let p = Period { start: t(2025, 4, 1), end: t(2025, 5, 1) };
        let lines = prorate(p, t(2025, 4, 11), ("starter", 4900), ("professional", 14_900));
        assert_eq!(lines[0].amount, -3267, "4900 × 2/3 = 3266.67 → 3267");
        assert_eq!(lines[1].amount, 9933, "14900 × 2/3 = 9933.33 → 9933");
        assert_eq!(subtotal(&lines), 6666);
        assert!(lines.iter().all(|l| l.proration && l.period_end == p.end));
        assert_eq!(credit_applied(&lines), 0, "a proration credit is not a balance applied");
        let mut with_balance = lines.clone();
        with_balance.push(LineItem::new("Credit balance applied".into(), -1500, p.start, p.end, false));
        assert_eq!(credit_applied(&with_balance), 1500);
        // At the very start the whole price moves; at the end nothing does.
        assert_eq!(subtotal(&prorate(p, p.start, ("a", 4900), ("b", 14_900))), 10_000);
        assert_eq!(subtotal(&prorate(p, p.end, ("a", 4900), ("b", 14_900))), 0);
    }

    #[test]
    fn the_default_price_list() {
        let l = PriceList::default();
        assert_eq!(l.price("professional"), Some(PlanPrice { monthly: 14_900, annual: 149_000 }));
        assert_eq!(l.ordered().iter().map(|(n, _)| *n).collect::<Vec<_>>(), ["starter", "professional", "enterprise"]);
        assert!(l.plan("gold").unwrap_err().contains("enterprise, professional, starter"));
    }
}
