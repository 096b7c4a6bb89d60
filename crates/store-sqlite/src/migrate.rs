//! The SQLite migration history: applied in order, each once, each in its own transaction.

use crate::conn::backend;
use partnerd_store::StoreResult;
use rusqlite::{Connection, OptionalExtension, params};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "listings", include_str!("../migrations/0002_listings.sql")),
    (3, "cosell_analytics", include_str!("../migrations/0003_cosell_analytics.sql")),
    (4, "webhooks", include_str!("../migrations/0004_webhooks.sql")),
    (5, "allowed_ips_json", include_str!("../migrations/0005_allowed_ips_json.sql")),
    (6, "idempotency_keys", include_str!("../migrations/0006_idempotency_keys.sql")),
    (7, "webhook_secrets_and_leases", include_str!("../migrations/0007_webhook_secrets_and_leases.sql")),
    (8, "app_reseller_accounts", include_str!("../migrations/0008_app_reseller_accounts.sql")),
    (10, "leads", include_str!("../migrations/0010_leads.sql")),
    (11, "customer_billing", include_str!("../migrations/0011_customer_billing.sql")),
    (12, "support_tickets", include_str!("../migrations/0012_support_tickets.sql")),
    (13, "usage", include_str!("../migrations/0013_usage.sql")),
    (14, "customer_whitelabel", include_str!("../migrations/0014_customer_whitelabel.sql")),
    (15, "sandboxes", include_str!("../migrations/0015_sandboxes.sql")),
    (16, "subscriptions", include_str!("../migrations/0016_subscriptions.sql")),
    (17, "payment_methods", include_str!("../migrations/0017_payment_methods.sql")),
    (18, "lead_counts", include_str!("../migrations/0018_lead_counts.sql")),
    (19, "quotes", include_str!("../migrations/0019_quotes.sql")),
    (20, "customer_list_indexes", include_str!("../migrations/0020_customer_list_indexes.sql")),
    (21, "subscription_renewals", include_str!("../migrations/0021_subscription_renewals.sql")),
    (22, "dashboard", include_str!("../migrations/0022_dashboard.sql")),
    (23, "delivery_claim_index", include_str!("../migrations/0023_delivery_claim_index.sql")),
    (24, "customer_counts", include_str!("../migrations/0024_customer_counts.sql")),
    (25, "leads_converted_order", include_str!("../migrations/0025_leads_converted_order.sql")),
    (26, "quote_counts", include_str!("../migrations/0026_quote_counts.sql")),
    (27, "listing_count_shards", include_str!("../migrations/0027_listing_count_shards.sql")),
    // 28 to 30 are PostgreSQL's alone (counter shards, a deferred check, a claim index).
    (31, "customer_page_covering", include_str!("../migrations/0031_customer_page_covering.sql")),
];

/// The newest migration this binary knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

pub(crate) fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .map_err(backend)?;
    for (version, name, sql) in MIGRATIONS {
        // IMMEDIATE takes the write lock first, so two processes starting together apply each
        // migration once.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
        let applied: Option<i64> = tx
            .query_row("SELECT version FROM schema_migrations WHERE version = ?1", [version], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        if applied.is_none() {
            tx.execute_batch(sql).map_err(|e| backend(format!("migration {version} ({name}): {e}")))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![version, name, chrono::Utc::now().timestamp_millis()],
            )
            .map_err(backend)?;
            tracing::info!(version, name, "applied SQLite migration");
        }
        tx.commit().map_err(backend)?;
    }
    Ok(())
}
