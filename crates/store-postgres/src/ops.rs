//! `OpsStore` on PostgreSQL.

use crate::{PostgresStore, pg};
use async_trait::async_trait;
use partnerd_store::{OpsStore, PoolStatus, StoreResult};

#[async_trait]
impl OpsStore for PostgresStore {
    async fn schema_version(&self) -> StoreResult<i64> {
        let c = self.client().await?;
        let row = c.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await.map_err(pg)?;
        Ok(row.get(0))
    }

    fn known_schema_version(&self) -> i64 {
        crate::migrate::latest()
    }

    async fn delivery_backlog(&self) -> StoreResult<u64> {
        let c = self.client().await?;
        // Counted over the partial index of pending deliveries.
        let row =
            c.query_one("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'", &[]).await.map_err(pg)?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    fn pool_status(&self) -> PoolStatus {
        let s = self.pool.status();
        let idle = s.available as u64;
        PoolStatus { idle, in_use: Some((s.size as u64).saturating_sub(idle)), max: Some(s.max_size as u64) }
    }
}
