//! Co-sell opportunities.

use crate::kit::{Dialect, Filter, Query, Table, Value};
use crate::{OpportunityFilter, OpportunityRecord, record, sql};
use std::borrow::Cow;

record! {
    OpportunityRecord in "opportunities" as "o" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        owner_partner_id: guard "owner_partner_id",
        owner_company_name: read "oc.name",
        cosell_partner_id: guard "cosell_partner_id",
        cosell_company_name: read "cc.name",
        customer_name: set "customer_name",
        deal_value_cents: set "deal_value_cents",
        currency: set "currency",
        description: set "description",
        expected_close_date: set "expected_close_date",
        status: set "status",
        notes: set "notes",
        created_by: fixed "created_by",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
        closed_at: set "closed_at",
        version: set "version",
    }
}

crate::versioned!(OpportunityRecord, "opportunity", (), "");

/// The joins that name both parties' companies.
pub const FROM: &str = "FROM opportunities o
     JOIN partners op ON op.id = o.owner_partner_id JOIN companies oc ON oc.id = op.company_id
     JOIN partners cp ON cp.id = o.cosell_partner_id JOIN companies cc ON cc.id = cp.company_id";

/// `$1` marketplace, `$2` id, `$3` viewer.
pub static GET: Query = sql!(
    "SELECT {} {FROM} WHERE o.marketplace_id = $1 AND o.id = $2 AND (o.owner_partner_id = $3 OR o.cosell_partner_id = $3)",
    OpportunityRecord::select_list()
);

fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

/// The count and the page of what a viewer lists, and the filter binding both.
pub fn list(
    dialect: Dialect,
    marketplace_id: &str,
    viewer: &str,
    filter: &OpportunityFilter,
    offset: u64,
    limit: u32,
) -> (String, String, Filter) {
    let mut f = Filter::new(dialect);
    f.eq("o.marketplace_id", text(marketplace_id));
    match &filter.other_partner_id {
        Some(other) => f.and(
            "((o.owner_partner_id = ? AND o.cosell_partner_id = ?) OR (o.cosell_partner_id = ? AND o.owner_partner_id = ?))",
            [text(viewer), text(other), text(viewer), text(other)],
        ),
        None => f.and("(o.owner_partner_id = ? OR o.cosell_partner_id = ?)", [text(viewer), text(viewer)]),
    };
    if let Some(status) = filter.status {
        f.eq("o.status", Value::Text(Cow::Borrowed(status.as_str())));
    }
    if let Some(after) = filter.created_after {
        f.gt("o.created_at", Value::Time(after));
    }
    let count = format!("SELECT COUNT(*) FROM opportunities o{}", f.conditions());
    f.order_by(&[], "o.created_at DESC, o.id DESC").page(limit, offset);
    let page = format!("SELECT {} {FROM}{}", OpportunityRecord::select_list(), f.clause());
    (count, page, f)
}
