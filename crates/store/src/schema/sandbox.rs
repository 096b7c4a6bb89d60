//! Sandboxes (migration 0015): the owner's rows, and `PURGE`, the one list of what removing a
//! sandbox deletes. A sandbox's id is its marketplace's id; every row of that marketplace goes
//! when it is removed, in an order no foreign key refuses.

use super::customers::named;
use crate::kit::{Column, Dialect, Query, RowRead, Table, ToValue, Value, to_sqlite};
use crate::{record, sql};
use chrono::{DateTime, Utc};
use partnerd_domain::sandbox::StoredStatus;
use std::borrow::Cow;

named!(StoredStatus);

/// A sandbox, as its owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxRecord {
    /// Also the id of the sandbox's marketplace.
    pub id: String,
    /// The owner's (production) marketplace.
    pub marketplace_id: String,
    pub owner_partner_id: String,
    pub name: String,
    pub status: StoredStatus,
    /// The demo partner inside the sandbox, once seeded.
    pub sandbox_partner_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

record! {
    SandboxRecord in "sandboxes" as "s" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        owner_partner_id: fixed "owner_partner_id",
        name: fixed "name",
        status: set "status",
        sandbox_partner_id: set "sandbox_partner_id",
        created_at: fixed "created_at",
        expires_at: fixed "expires_at",
    }
}

/// `$1` id, `$2` name, `$3` created: a marketplace that is not the default.
pub static INSERT_MARKETPLACE: Query =
    sql!("INSERT INTO marketplaces (id, name, is_default, created_at) VALUES ($1, $2, FALSE, $3)");

/// `$1` marketplace, `$2` owner.
pub static COUNT_SANDBOXES: Query =
    sql!("SELECT COUNT(*) FROM sandboxes WHERE marketplace_id = $1 AND owner_partner_id = $2");

/// `$1` marketplace, `$2` owner, `$3` sandbox.
pub static GET_SANDBOX: Query = sql!(
    "SELECT {} FROM sandboxes s WHERE s.marketplace_id = $1 AND s.owner_partner_id = $2 AND s.id = $3",
    SandboxRecord::select_list()
);

/// `$1` marketplace, `$2` owner: newest first. Provisioning ones are not shown.
pub static LIST_SANDBOXES: Query = sql!(
    "SELECT {} FROM sandboxes s
     WHERE s.marketplace_id = $1 AND s.owner_partner_id = $2 AND s.status = 'active'
     ORDER BY s.created_at DESC, s.id DESC",
    SandboxRecord::select_list()
);

/// `$1` sandbox, `$2` its demo partner: once, from provisioning.
pub static ACTIVATE: Query =
    sql!("UPDATE sandboxes SET status = 'active', sandbox_partner_id = $2 WHERE id = $1 AND status = 'provisioning'");

/// `$1` sandbox: whoever deletes the row removes the sandbox (a concurrent remover waits for
/// the row, then deletes nothing and stops).
pub static CLAIM_REMOVAL: Query = sql!("DELETE FROM sandboxes WHERE id = $1");

/// `$1` now, `$2` provisioning started before, `$3` limit: expired sandboxes and abandoned
/// provisioning ones, across marketplaces, oldest expiry first.
pub static DUE_FOR_REMOVAL: Query = sql!(
    "SELECT {} FROM sandboxes s
     WHERE s.expires_at <= $1 OR (s.status = 'provisioning' AND s.created_at <= $2)
     ORDER BY s.expires_at, s.id LIMIT $3",
    SandboxRecord::select_list()
);

/// Every table holding rows of a marketplace, children before parents, with the condition
/// that picks the sandbox's rows (`$1` is its marketplace id). The last two remove the
/// marketplace itself. A test in each backend fails when a table with a `marketplace_id`
/// column is missing here, so a new table cannot be forgotten.
pub const PURGE: &[(&str, &str)] = &[
    ("webhook_attempts", "delivery_id IN (SELECT id FROM webhook_deliveries WHERE marketplace_id = $1)"),
    ("webhook_secrets_unencrypted", "webhook_id IN (SELECT id FROM webhooks WHERE marketplace_id = $1)"),
    ("webhook_deliveries", "marketplace_id = $1"),
    ("webhook_subscriptions", "marketplace_id = $1"),
    ("webhooks", "marketplace_id = $1"),
    ("usage_daily", "marketplace_id = $1"),
    ("usage_records", "marketplace_id = $1"),
    ("customer_deployments", "marketplace_id = $1"),
    ("customer_email_templates", "marketplace_id = $1"),
    ("customer_branding", "marketplace_id = $1"),
    ("support_tickets", "marketplace_id = $1"),
    ("quotes", "marketplace_id = $1"),
    ("quote_counts", "marketplace_id = $1"),
    ("subscription_assignments", "marketplace_id = $1"),
    ("orders", "marketplace_id = $1"),
    ("subscriptions", "marketplace_id = $1"),
    ("payment_methods", "marketplace_id = $1"),
    ("commissions", "marketplace_id = $1"),
    ("invoices", "marketplace_id = $1"),
    ("invoice_counters", "marketplace_id = $1"),
    ("partner_commission_rates", "marketplace_id = $1"),
    ("customer_accounts", "marketplace_id = $1"),
    ("lead_counts", "marketplace_id = $1"),
    ("leads", "marketplace_id = $1"),
    ("company_associations", "marketplace_id = $1"),
    ("customer_counts", "marketplace_id = $1"),
    ("catalog_plans", "marketplace_id = $1"),
    ("catalog_products", "marketplace_id = $1"),
    ("reports", "marketplace_id = $1"),
    ("opportunities", "marketplace_id = $1"),
    ("listing_drafts", "marketplace_id = $1"),
    ("listings", "marketplace_id = $1"),
    ("listing_counts", "marketplace_id = $1"),
    ("api_keys", "marketplace_id = $1"),
    ("web_sessions", "marketplace_id = $1"),
    ("user_tokens", "marketplace_id = $1"),
    ("user_passwords", "marketplace_id = $1"),
    ("sign_in_failures", "marketplace_id = $1"),
    ("memberships", "marketplace_id = $1"),
    ("partners", "marketplace_id = $1"),
    ("users", "marketplace_id = $1"),
    ("companies", "marketplace_id = $1"),
    ("events", "marketplace_id = $1"),
    ("sandboxes", "marketplace_id = $1"),
    ("marketplaces", "id = $1 AND is_default = FALSE"),
];

/// Tables without a `marketplace_id` column that still hold a marketplace's rows (through a
/// parent); `PURGE` covers them by their parent.
pub const PURGED_THROUGH_PARENT: &[&str] = &["webhook_attempts", "webhook_secrets_unencrypted", "marketplaces"];

/// Tables with a `marketplace_id` column that hold no marketplace's data to remove.
/// (None today: idempotency keys are scoped by key id, not marketplace, and expire.)
pub const NOT_PURGED: &[&str] = &[];

/// `PURGE` as statements of `dialect`, in order.
pub fn purge_statements(dialect: Dialect) -> Vec<String> {
    PURGE
        .iter()
        .map(|(table, condition)| {
            let sql = format!("DELETE FROM {table} WHERE {condition}");
            match dialect {
                Dialect::Postgres => sql,
                Dialect::Sqlite => to_sqlite(&sql),
            }
        })
        .collect()
}

/// The tables of `with_marketplace_column` (those a schema has with a `marketplace_id` column)
/// that `PURGE` misses: what the backends' completeness tests assert is empty.
pub fn missing_from_purge(with_marketplace_column: &[String]) -> Vec<&str> {
    with_marketplace_column
        .iter()
        .map(String::as_str)
        .filter(|t| !NOT_PURGED.contains(t) && !PURGE.iter().any(|(p, _)| p == t))
        .collect()
}

/// Every table `PURGE` names exists as one of `tables` (a renamed table is noticed too).
pub fn unknown_in_purge<'a>(tables: &[String]) -> Vec<&'a str> {
    PURGE.iter().map(|(t, _)| *t).filter(|t| !tables.iter().any(|x| x == t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_names_each_table_once_and_ends_with_the_marketplace() {
        let mut names: Vec<&str> = PURGE.iter().map(|(t, _)| *t).collect();
        assert_eq!(names.last(), Some(&"marketplaces"));
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a table is listed twice");
        for t in PURGED_THROUGH_PARENT {
            assert!(PURGE.iter().any(|(p, _)| p == t), "{t}");
        }
    }

    #[test]
    fn statements_are_written_for_both_dialects() {
        let pg = purge_statements(Dialect::Postgres);
        let lite = purge_statements(Dialect::Sqlite);
        assert_eq!(pg[2], "DELETE FROM webhook_deliveries WHERE marketplace_id = $1");
        assert_eq!(lite[2], "DELETE FROM webhook_deliveries WHERE marketplace_id = ?1");
        assert_eq!(missing_from_purge(&["listings".into(), "brand_new".into()]), vec!["brand_new"]);
    }
}
