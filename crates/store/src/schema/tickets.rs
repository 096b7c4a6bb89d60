//! Support tickets and the partner metrics aggregates: the declaration, the SQL both dialects
//! accept, and the assembly of the figures both backends share.

use crate::kit::Window;
use crate::kit::{Dialect, Filter, Query, Table, Value, count, split_sum, split_total};
use crate::{MetricsFigures, MrrBasis, StoreResult, TicketFilter, TicketRecord, record, sql, versioned};
use chrono::{DateTime, Utc};
use partnerd_domain::billing::BillingCycle;
use partnerd_domain::customer::CustomerStatus;
use partnerd_domain::ticket::TicketStatus;
use std::borrow::Cow;

record! {
    TicketRecord in "support_tickets" as "t" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: fixed "partner_id",
        customer_id: fixed "customer_id",
        customer_name: read "(SELECT co.name FROM companies co WHERE co.id = t.customer_id)",
        subject: fixed "subject",
        description: fixed "description",
        priority: set "priority",
        category: fixed "category",
        status: set "status",
        created_by: fixed "created_by",
        first_response_at: set "first_response_at",
        resolved_at: set "resolved_at",
        closed_at: set "closed_at",
        rating: set "rating",
        rating_comment: set "rating_comment",
        rated_at: set "rated_at",
        comment_count: set "comment_count",
        version: set "version",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

versioned!(TicketRecord, "ticket", (), "");

/// `$1` marketplace, `$2` partner, `$3` ticket.
pub static GET_TICKET: Query = sql!(
    "SELECT {} FROM support_tickets t WHERE t.marketplace_id = $1 AND t.partner_id = $2 AND t.id = $3",
    TicketRecord::select_list()
);

fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

/// `(count SQL, page SQL, filter)`: newest first.
pub fn list_tickets(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    filter: &TicketFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("t.marketplace_id", text(marketplace_id)).eq("t.partner_id", text(partner_id));
    if let Some(s) = filter.status {
        f.eq("t.status", text(s.as_str()));
    }
    if let Some(p) = filter.priority {
        f.eq("t.priority", text(p.as_str()));
    }
    if let Some(c) = filter.category {
        f.eq("t.category", text(c.as_str()));
    }
    if let Some(c) = &filter.customer_id {
        f.eq("t.customer_id", text(c));
    }
    let count = format!("SELECT COUNT(*) FROM support_tickets t{}", f.conditions());
    f.order_by(&[], "t.created_at DESC, t.id DESC").window(limit, window)?;
    let page = format!("SELECT {}{} FROM support_tickets t{}", TicketRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

// Partner metrics. Parameters: `$1` marketplace, `$2` partner, then as each statement says
// (`$3` window start, `$4` window end, `$5` previous window start).

/// `(status, count)` of the partner's customer accounts now.
pub static CUSTOMERS_BY_STATUS: Query = sql!(
    "SELECT status, COUNT(*) FROM customer_accounts WHERE marketplace_id = $1 AND partner_id = $2 GROUP BY status"
);

/// `$3`–`$5`: new in the window, new in the previous one, cancelled in the window, cancelled in
/// the previous one, and accounts at the window's start (created before it, not cancelled
/// before it).
pub static CUSTOMER_FLOW: Query = sql!(
    "SELECT CAST(COALESCE(SUM(CASE WHEN created_at >= $3 AND created_at < $4 THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN created_at >= $5 AND created_at < $3 THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN cancelled_at >= $3 AND cancelled_at < $4 THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN cancelled_at >= $5 AND cancelled_at < $3 THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN created_at < $3 AND (cancelled_at IS NULL OR cancelled_at >= $3)
                                   THEN 1 ELSE 0 END), 0) AS BIGINT)
     FROM customer_accounts WHERE marketplace_id = $1 AND partner_id = $2"
);

/// `$3` window start: per plan and cycle, accounts active now, and accounts counted at the
/// start (created before it, not cancelled by then, not suspended now).
pub static MRR_BASIS: Query = sql!(
    "SELECT plan, billing_cycle,
            CAST(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN created_at < $3 AND (cancelled_at IS NULL OR cancelled_at >= $3)
                          AND status <> 'suspended' THEN 1 ELSE 0 END) AS BIGINT)
     FROM customer_accounts WHERE marketplace_id = $1 AND partner_id = $2
     GROUP BY plan, billing_cycle ORDER BY plan, billing_cycle"
);

/// `$3`, `$4`: cents invoiced in the window (not void), collected in it (marked paid in it),
/// and outstanding now (open or uncollectible), each a `split_sum` (two columns).
pub static REVENUE: Query = sql!(
    "SELECT {}, {}, {} FROM invoices WHERE marketplace_id = $1 AND partner_id = $2",
    split_sum("CASE WHEN issued_at >= $3 AND issued_at < $4 AND status <> 'void' THEN total_cents ELSE 0 END"),
    split_sum(
        "CASE WHEN status = 'paid' AND status_changed_at >= $3 AND status_changed_at < $4 THEN total_cents ELSE 0 END"
    ),
    split_sum("CASE WHEN status IN ('open', 'uncollectible') THEN total_cents ELSE 0 END")
);

/// `(status, count)` of the partner's tickets now.
pub static TICKETS_BY_STATUS: Query =
    sql!("SELECT status, COUNT(*) FROM support_tickets WHERE marketplace_id = $1 AND partner_id = $2 GROUP BY status");

/// `$3`, `$4`: tickets created in the window, and resolved in it.
pub static TICKET_WINDOW: Query = sql!(
    "SELECT CAST(COALESCE(SUM(CASE WHEN created_at >= $3 AND created_at < $4 THEN 1 ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN resolved_at >= $3 AND resolved_at < $4 THEN 1 ELSE 0 END), 0) AS BIGINT)
     FROM support_tickets WHERE marketplace_id = $1 AND partner_id = $2"
);

/// `$3`, `$4`: `(created_at, first_response_at)` of tickets first responded to in the window.
pub static FIRST_RESPONSES: Query = sql!(
    "SELECT created_at, first_response_at FROM support_tickets
     WHERE marketplace_id = $1 AND partner_id = $2 AND first_response_at >= $3 AND first_response_at < $4"
);

/// `$3`, `$4`: `(created_at, resolved_at)` of tickets resolved in the window.
pub static RESOLUTIONS: Query = sql!(
    "SELECT created_at, resolved_at FROM support_tickets
     WHERE marketplace_id = $1 AND partner_id = $2 AND resolved_at >= $3 AND resolved_at < $4"
);

/// `$3`, `$4`: `(rating, count)` of ratings given in the window.
pub static RATINGS: Query = sql!(
    "SELECT rating, COUNT(*) FROM support_tickets
     WHERE marketplace_id = $1 AND partner_id = $2 AND rated_at >= $3 AND rated_at < $4 AND rating IS NOT NULL
     GROUP BY rating"
);

/// The rows of the statements above, as each backend reads them.
#[derive(Debug, Default)]
pub struct MetricsRows {
    pub customers_by_status: Vec<(CustomerStatus, i64)>,
    pub flow: (i64, i64, i64, i64, i64),
    pub mrr: Vec<(String, BillingCycle, i64, i64)>,
    pub revenue: (i64, i64, i64, i64, i64, i64),
    pub tickets_by_status: Vec<(TicketStatus, i64)>,
    pub ticket_window: (i64, i64),
    pub first_responses: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub resolutions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub ratings: Vec<(u16, i64)>,
}

/// The figures from the rows, the same on both backends; a negative count is corruption.
pub fn metrics_figures(rows: MetricsRows) -> StoreResult<MetricsFigures> {
    let n = |what: &str, v: i64| count(what, v);
    let customers_by_status = CustomerStatus::ALL
        .into_iter()
        .map(|s| {
            let v = rows.customers_by_status.iter().find(|(r, _)| *r == s).map_or(0, |(_, v)| *v);
            Ok((s, n("customers by status", v)?))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let tickets_by_status = TicketStatus::ALL
        .into_iter()
        .map(|s| {
            let v = rows.tickets_by_status.iter().find(|(r, _)| *r == s).map_or(0, |(_, v)| *v);
            Ok((s, n("tickets by status", v)?))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mrr_basis = rows
        .mrr
        .into_iter()
        .map(|(plan, billing_cycle, now, at_start)| {
            Ok(MrrBasis {
                plan,
                billing_cycle,
                now: n("active accounts", now)?,
                at_start: n("accounts at start", at_start)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let ratings = (1..=5u16)
        .map(|r| {
            let v = rows.ratings.iter().find(|(x, _)| *x == r).map_or(0, |(_, v)| *v);
            Ok((r, n("ratings", v)?))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let seconds = |pairs: Vec<(DateTime<Utc>, DateTime<Utc>)>| -> Vec<i64> {
        pairs.into_iter().map(|(from, to)| (to - from).num_seconds().max(0)).collect()
    };
    let (f, r) = (rows.flow, rows.revenue);
    Ok(MetricsFigures {
        customers_by_status,
        new_customers: (n("new customers", f.0)?, n("new customers", f.1)?),
        churned_customers: (n("churned customers", f.2)?, n("churned customers", f.3)?),
        customers_at_start: n("customers at start", f.4)?,
        mrr_basis,
        invoiced_cents: split_total(r.0, r.1),
        collected_cents: split_total(r.2, r.3),
        outstanding_cents: split_total(r.4, r.5),
        tickets_by_status,
        tickets_created: n("tickets created", rows.ticket_window.0)?,
        tickets_resolved: n("tickets resolved", rows.ticket_window.1)?,
        first_response_seconds: seconds(rows.first_responses),
        resolution_seconds: seconds(rows.resolutions),
        ratings,
    })
}
