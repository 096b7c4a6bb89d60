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

/// The co-sell figures from the two aggregates both backends run: `(created, won cents)` in the
/// window and `(status, count, value)` now, one row per status present.
pub fn cosell_figures(
    created: i64,
    won_cents: i64,
    by_status: &[(OpportunityStatus, i64, i64)],
) -> StoreResult<CosellFigures> {
    let by_status = OpportunityStatus::ALL
        .into_iter()
        .map(|status| {
            let (n, value_cents) =
                by_status.iter().find(|(s, _, _)| *s == status).map(|(_, n, v)| (*n, *v)).unwrap_or((0, 0));
            Ok(StatusFigure { status, count: count("opportunities by status", n)?, value_cents })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let pipeline_cents = by_status.iter().filter(|s| s.status.is_pipeline()).map(|s| s.value_cents).sum();
    Ok(CosellFigures { created: count("opportunities created", created)?, pipeline_cents, won_cents, by_status })
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
        let f = cosell_figures(3, 500, &[(OpportunityStatus::Open, 2, 300), (OpportunityStatus::Won, 1, 500)]).unwrap();
        assert_eq!((f.created, f.pipeline_cents, f.won_cents, f.by_status.len()), (3, 300, 500, 4));
        assert!(cosell_figures(-1, 0, &[]).is_err());
    }
}
