//! The PostgreSQL migration history. An advisory lock serialises processes that start together.

use crate::pg;
use partnerd_store::StoreResult;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "listings", include_str!("../migrations/0002_listings.sql")),
    (3, "cosell_analytics", include_str!("../migrations/0003_cosell_analytics.sql")),
    (4, "webhooks", include_str!("../migrations/0004_webhooks.sql")),
    // 5 is SQLite's alone (a column format PostgreSQL never had).
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
    (28, "quote_and_customer_count_shards", include_str!("../migrations/0028_quote_and_customer_count_shards.sql")),
    (29, "orders_invoice_deferred", include_str!("../migrations/0029_orders_invoice_deferred.sql")),
    (30, "delivery_claim_by_webhook", include_str!("../migrations/0030_delivery_claim_by_webhook.sql")),
    (31, "customer_page_covering", include_str!("../migrations/0031_customer_page_covering.sql")),
];

/// The newest migration this binary knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}
/// Arbitrary, fixed: "partnerd" in ASCII.
const MIGRATION_LOCK: i64 = 0x7061_7274_6e65_7264;

pub(crate) async fn run(client: &mut deadpool_postgres::Client) -> StoreResult<()> {
    let tx = client.transaction().await.map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await
    .map_err(pg)?;
    for (version, name, sql) in MIGRATIONS {
        let applied =
            tx.query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version]).await.map_err(pg)?;
        if applied.is_none() {
            tx.batch_execute(sql).await.map_err(pg)?;
            tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[version, name])
                .await
                .map_err(pg)?;
            tracing::info!(version, name, "applied PostgreSQL migration");
        }
    }
    tx.commit().await.map_err(pg)
}
