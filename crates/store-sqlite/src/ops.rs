//! `OpsStore` on SQLite: reads on the reader pool, like every other read.

use crate::SqliteStore;
use crate::conn::backend;
use async_trait::async_trait;
use partnerd_store::{OpsStore, PoolStatus, StoreResult};

#[async_trait]
impl OpsStore for SqliteStore {
    async fn schema_version(&self) -> StoreResult<i64> {
        self.readers
            .read(|c| {
                c.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
                    .map_err(backend)
            })
            .await
    }

    fn known_schema_version(&self) -> i64 {
        crate::migrate::latest()
    }

    async fn delivery_backlog(&self) -> StoreResult<u64> {
        self.readers
            .read(|c| {
                // Counted over the partial index of pending deliveries.
                let n: i64 = c
                    .query_row("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'", [], |r| r.get(0))
                    .map_err(backend)?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }

    fn pool_status(&self) -> PoolStatus {
        // Readers in use are not tracked (a read borrows one for microseconds); more are opened
        // when all are busy, so there is no maximum.
        PoolStatus { idle: self.readers.idle() as u64, in_use: None, max: None }
    }
}
