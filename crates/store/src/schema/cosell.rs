//! Co-sell opportunities.

use crate::kit::{Dialect, Filter, Query, Table, Value, Window};
use crate::{OpportunityFilter, OpportunityRecord, StoreResult, record, sql};
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
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
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
    f.order_by(&[], "o.created_at DESC, o.id DESC").window(limit, window)?;
    let page = format!("SELECT {}{} {FROM}{}", OpportunityRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::Versioned;

    #[test]
    fn the_declaration_derives_every_statement() {
        let pg = OpportunityRecord::statements(Dialect::Postgres);
        assert_eq!(
            pg.insert,
            "INSERT INTO opportunities (id, marketplace_id, owner_partner_id, cosell_partner_id, customer_name, \
             deal_value_cents, currency, description, expected_close_date, status, notes, created_by, created_at, \
             updated_at, closed_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        );
        assert_eq!(
            pg.update,
            "UPDATE opportunities SET customer_name = $1, deal_value_cents = $2, currency = $3, description = $4, \
             expected_close_date = $5, status = $6, notes = $7, updated_at = $8, closed_at = $9, version = $10 \
             WHERE id = $11 AND marketplace_id = $12 AND owner_partner_id = $13 AND cosell_partner_id = $14"
        );
        assert_eq!(OpportunityRecord::statements(Dialect::Sqlite).update, crate::kit::to_sqlite(&pg.update));
        assert_eq!(
            OpportunityRecord::version_read(Dialect::Postgres),
            "SELECT version FROM opportunities WHERE id = $1 AND marketplace_id = $2 FOR UPDATE"
        );
        assert_eq!(
            OpportunityRecord::version_read(Dialect::Sqlite),
            "SELECT version FROM opportunities WHERE id = ?1 AND marketplace_id = ?2"
        );
        assert!(OpportunityRecord::select_list().starts_with("o.id, o.marketplace_id, o.owner_partner_id, oc.name, "));
    }

    #[test]
    fn list_filters_bind_what_they_name() {
        let filter = OpportunityFilter {
            status: Some(partnerd_domain::cosell::OpportunityStatus::Won),
            other_partner_id: Some("partner_b".into()),
            created_after: None,
        };
        let (count, page, f) = list(Dialect::Sqlite, "mkt", "partner_a", &filter, &Window::Offset(40), 20).unwrap();
        assert!(count.ends_with("AND o.status = ?6"), "{count}");
        assert!(page.ends_with("ORDER BY o.created_at DESC, o.id DESC LIMIT ?7 OFFSET ?8"), "{page}");
        assert_eq!((f.condition_args().len(), f.args().len()), (6, 8));
    }
}
