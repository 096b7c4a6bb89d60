//! Analytics aggregates and stored reports. Every figure is one indexed query.

use crate::kit::{Dialect, Filter, Query, Table, Value, Window, insert_lists, split_sum};
use crate::{ReportRecord, StoreResult, record, sql};
use std::borrow::Cow;

record! {
    ReportRecord in "reports" as "" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: key "partner_id",
        report_type: fixed "report_type",
        period: fixed "period",
        period_start: fixed "period_start",
        period_end: fixed "period_end",
        trigger: fixed "trigger",
        data: fixed "data",
        created_at: fixed "created_at",
    }
}

/// A scheduled report whose partner, type and period have one already is not stored again.
pub static INSERT_REPORT: Query = Query::new(|| {
    let (columns, values) = insert_lists::<ReportRecord>();
    format!("INSERT INTO reports ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING")
});

/// `$1` marketplace, `$2` partner.
pub static REPORT_COUNT: Query = sql!("SELECT COUNT(*) FROM reports WHERE marketplace_id = $1 AND partner_id = $2");

/// A page of a partner's reports, newest first, and its filter (read the rows as
/// `Keyed<ReportRecord>` and hand them to `Filter::finish`; `REPORT_COUNT` binds
/// `f.condition_args()`).
pub fn list_reports(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("marketplace_id", Value::Text(Cow::Owned(marketplace_id.to_owned())))
        .eq("partner_id", Value::Text(Cow::Owned(partner_id.to_owned())));
    f.order_by(&[], "created_at DESC, id DESC").window(limit, window)?;
    let sql = format!("SELECT {}{} FROM reports{}", ReportRecord::select_list(), f.key_select(), f.clause());
    Ok((sql, f))
}

/// `$1` marketplace, `$2` partner, `$3` id.
pub static GET_REPORT: Query = sql!(
    "SELECT {} FROM reports WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3",
    ReportRecord::select_list()
);

/// `$1` marketplace, `$2` partner: the partner's listings of every status and their score sum,
/// from the counters (the same set as the unfiltered `GET /listings` total, `COUNT_ALL`).
pub static LISTING_TOTALS: Query = sql!(
    "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT), CAST(COALESCE(SUM(score_sum), 0) AS BIGINT) FROM listing_counts
     WHERE marketplace_id = $1 AND partner_id = $2"
);

/// Both sides of a partner's deals (`$1` marketplace, `$2` partner), each through its own index.
const BOTH_SIDES: &str = "SELECT * FROM opportunities WHERE marketplace_id = $1 AND owner_partner_id = $2
     UNION ALL
     SELECT * FROM opportunities WHERE marketplace_id = $1 AND cosell_partner_id = $2";

/// Created within `[$3, $4)`, and the value won within it (a `split_sum`: two columns).
pub static COSELL_WINDOW: Query = sql!(
    "SELECT CAST(COALESCE(SUM(CASE WHEN created_at >= $3 AND created_at < $4 THEN 1 ELSE 0 END), 0) AS BIGINT), {}
     FROM ({BOTH_SIDES}) o",
    split_sum("CASE WHEN status = 'won' AND closed_at >= $3 AND closed_at < $4 THEN deal_value_cents ELSE 0 END")
);

/// `(status, count, value as a split_sum: two columns)` of every deal now.
pub static COSELL_BY_STATUS: Query =
    sql!("SELECT status, COUNT(*), {} FROM ({BOTH_SIDES}) o GROUP BY status", split_sum("deal_value_cents"));

/// Drafts generated, and drafts published, within `[$3, $4)`.
pub static CONTENT_FIGURES: Query = sql!(
    "SELECT (SELECT COUNT(*) FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2
               AND created_at >= $3 AND created_at < $4),
            (SELECT COUNT(*) FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2
               AND published_at >= $3 AND published_at < $4)"
);
