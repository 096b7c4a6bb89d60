//! Partner metrics arithmetic: exact medians, ratios and percentages, and monthly recurring
//! revenue from plan prices, all in integers (no floating point).

use crate::billing::{BillingCycle, PlanPrice};

/// The median of whole seconds; `None` when there are none. With an even count, the mean of
/// the two middle values, rounded down.
pub fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        Some(values[mid])
    } else {
        let (a, b) = (i128::from(values[mid - 1]), i128::from(values[mid]));
        i64::try_from((a + b).div_euclid(2)).ok()
    }
}

/// `part / base` in hundredths (`4.5` is `450`), rounded to the nearest hundredth, halves away
/// from zero; `None` for a zero base (no meaningful ratio). Multiply `part` by 100 first for a
/// percentage.
pub fn hundredths(part: i128, base: i128) -> Option<i128> {
    if base == 0 {
        return None;
    }
    let n = part * 100;
    let (q, r) = (n / base, n % base);
    Some(if 2 * r.abs() >= base.abs() { q + n.signum() * base.signum() } else { q })
}

/// The change from `base` to `now` as a percentage of `base`, in hundredths of a percent
/// (`12.5 %` is `1250`); `None` when `base` is zero.
pub fn percent_change(base: i128, now: i128) -> Option<i128> {
    hundredths((now - base) * 100, base)
}

/// Monthly recurring revenue in cents of accounts `(price, cycle, count)`: monthly accounts at
/// their monthly price, annual accounts at their annual price / 12. The annual part is divided
/// once, rounded to the nearest cent, halves away from zero.
pub fn monthly_recurring(accounts: impl IntoIterator<Item = (PlanPrice, BillingCycle, u64)>) -> i128 {
    let (mut monthly, mut annual) = (0i128, 0i128);
    for (price, cycle, n) in accounts {
        match cycle {
            BillingCycle::Monthly => monthly += i128::from(price.monthly) * i128::from(n),
            BillingCycle::Annual => annual += i128::from(price.annual) * i128::from(n),
        }
    }
    let (q, r) = (annual / 12, annual % 12);
    monthly + if 2 * r.abs() >= 12 { q + annual.signum() } else { q }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentages_are_exact() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![7]), Some(7));
        assert_eq!(median(vec![30, 10, 20]), Some(20));
        assert_eq!(median(vec![40, 10, 20, 30]), Some(25));
        assert_eq!(median(vec![1, 2]), Some(1), "the mean of the middle two, rounded down");
        assert_eq!(median(vec![i64::MAX, i64::MAX]), Some(i64::MAX));
        assert_eq!(hundredths(14, 3), Some(467), "4.666… → 4.67");
        assert_eq!(hundredths(9, 2), Some(450));
        assert_eq!(hundredths(1, 0), None);
        assert_eq!(percent_change(200, 250), Some(2500), "+25 %");
        assert_eq!(percent_change(300, 200), Some(-3333), "−33.33 %");
        assert_eq!(percent_change(3, 1), Some(-6667), "−66.666… rounds away from zero");
        assert_eq!(percent_change(0, 10), None, "a zero base has no percentage");
        assert_eq!(percent_change(10, 10), Some(0));
    }

    #[test]
    fn mrr_normalises_annual_prices() {
        let p = PlanPrice { monthly: 14_900, annual: 149_000 };
        let s = PlanPrice { monthly: 4_900, annual: 49_000 };
        assert_eq!(monthly_recurring([]), 0);
        assert_eq!(monthly_recurring([(p, BillingCycle::Monthly, 2)]), 29_800);
        // 149000 / 12 = 12416.67 → 12417.
        assert_eq!(monthly_recurring([(p, BillingCycle::Annual, 1)]), 12_417);
        // 149000 + 49000 = 198000 / 12 = 16500 exactly: divided once, not per account.
        assert_eq!(
            monthly_recurring([
                (p, BillingCycle::Annual, 1),
                (s, BillingCycle::Annual, 1),
                (s, BillingCycle::Monthly, 1)
            ]),
            16_500 + 4_900
        );
    }
}
