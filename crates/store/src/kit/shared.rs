//! Figures and bookkeeping both backends compute the same way.

use crate::{CosellFigures, StatusFigure, StoreError, StoreResult};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::listing::ListingStatus;
use std::collections::BTreeMap;

/// Changes to the per-status listing counters, summed per status so that an import of
/// thousands of listings touches each counter row once, and applied in one fixed order (by
/// status name) so that concurrent transactions cannot lock two counter rows in opposite orders.
#[derive(Debug, Default)]
pub struct CountDeltas(BTreeMap<&'static str, (ListingStatus, i64, i64)>);

impl CountDeltas {
    /// `n` listings more (or fewer) in `status`, with `score` points.
    pub fn add(&mut self, status: ListingStatus, n: i64, score: i64) {
        let e = self.0.entry(status.as_str()).or_insert((status, 0, 0));
        e.1 += n;
        e.2 += score;
    }

    /// The non-zero changes as `(status, n, score)`, in the fixed order.
    pub fn changes(&self) -> impl Iterator<Item = (ListingStatus, i64, i64)> + '_ {
        self.0.values().copied().filter(|(_, n, score)| *n != 0 || *score != 0)
    }
}

/// A count the database returned; negative is corruption, not zero.
pub fn count(what: &str, n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("{what}: negative count {n}")))
}

/// A money sum as SQL both dialects run without overflow: two BIGINT columns, the sums of
/// `expr / 2^24` and of `expr % 2^24`, that `split_total` joins. For amounts within the input
/// maximum (below 2^47 cents) each part is below 2^24, so the parts' sums overflow only past
/// 2^39 rows (past 2^24 rows even of i64::MAX cents), where one SUM overflows at 92,234
/// maximal amounts (SQLite's integer SUM errors, PostgreSQL's numeric SUM fails the cast).
pub fn split_sum(expr: &str) -> String {
    format!(
        "CAST(COALESCE(SUM(({expr}) / {SPLIT}), 0) AS BIGINT), CAST(COALESCE(SUM(({expr}) % {SPLIT}), 0) AS BIGINT)"
    )
}

/// `2^24`: where `split_sum` cuts an amount.
const SPLIT: i64 = 1 << 24;

/// The total of a `split_sum`. Both dialects divide truncating towards zero, with the remainder
/// taking the dividend's sign, so `high × 2^24 + low` is exactly the sum.
pub fn split_total(high: i64, low: i64) -> i128 {
    i128::from(high) * i128::from(SPLIT) + i128::from(low)
}

/// The co-sell figures from the two aggregates both backends run: `(created, won cents as a
/// split sum)` in the window and `(status, count, value as a split sum)` now, one row per status
/// present.
pub fn cosell_figures(
    created: i64,
    won: (i64, i64),
    by_status: &[(OpportunityStatus, i64, i64, i64)],
) -> StoreResult<CosellFigures> {
    let by_status = OpportunityStatus::ALL
        .into_iter()
        .map(|status| {
            let (n, value_cents) = by_status
                .iter()
                .find(|(s, ..)| *s == status)
                .map(|(_, n, high, low)| (*n, split_total(*high, *low)))
                .unwrap_or((0, 0));
            Ok(StatusFigure { status, count: count("opportunities by status", n)?, value_cents })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    // At most four i128 sums of i64 amounts: far from i128's bound.
    let pipeline_cents = by_status.iter().filter(|s| s.status.is_pipeline()).map(|s| s.value_cents).sum();
    Ok(CosellFigures {
        created: count("opportunities created", created)?,
        pipeline_cents,
        won_cents: split_total(won.0, won.1),
        by_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_sum_per_status_and_skip_what_cancels_out() {
        let mut d = CountDeltas::default();
        d.add(ListingStatus::Draft, -1, -10);
        d.add(ListingStatus::Active, 1, 12);
        d.add(ListingStatus::Draft, 1, 10);
        assert_eq!(d.changes().collect::<Vec<_>>(), vec![(ListingStatus::Active, 1, 12)]);
    }

    #[test]
    fn figures_cover_every_status_and_refuse_negative_counts() {
        let f =
            cosell_figures(3, (0, 500), &[(OpportunityStatus::Open, 2, 0, 300), (OpportunityStatus::Won, 1, 0, 500)])
                .unwrap();
        assert_eq!((f.created, f.pipeline_cents, f.won_cents, f.by_status.len()), (3, 300, 500, 4));
        assert!(cosell_figures(-1, (0, 0), &[]).is_err());
    }

    #[test]
    fn split_sums_join_exactly() {
        // What SQL computes for amounts `v`: Σ(v / 2^24) and Σ(v % 2^24), truncating.
        let amounts = [i64::MAX, i64::MAX, 100_000_000_000_000, 1, -150, -(1 << 24) - 3];
        let (high, low) = amounts.iter().fold((0i64, 0i64), |(h, l), v| (h + v / SPLIT, l + v % SPLIT));
        let exact: i128 = amounts.iter().map(|v| i128::from(*v)).sum();
        assert!(exact > i128::from(i64::MAX));
        assert_eq!(split_total(high, low), exact);
    }
}
