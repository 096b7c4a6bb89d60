//! Sandboxes on PostgreSQL: the declarations, SQL and the purge list are
//! `partnerd_store::schema::sandbox`. Creates for one owner queue on an advisory lock so the
//! per-owner count holds; a removal starts by deleting the sandbox's row, so a concurrent
//! removal (another process's sweep) waits for that row and then finds nothing to do.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::Query;
use partnerd_store::schema::sandbox as ssql;
use partnerd_store::*;

static OWNER_LOCK: Query =
    partnerd_store::sql!("SELECT pg_advisory_xact_lock(hashtextextended('sandboxes/' || $1 || '/' || $2, 0))");

#[async_trait]
impl SandboxStore for PostgresStore {
    async fn create_sandbox(&self, s: SandboxRecord, max_per_owner: u32) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        execute(&tx, OWNER_LOCK.postgres(), &args![s.marketplace_id, s.owner_partner_id], "").await?;
        let (n,): (i64,) =
            query_one(&tx, ssql::COUNT_SANDBOXES.postgres(), &args![s.marketplace_id, s.owner_partner_id]).await?;
        if n >= i64::from(max_per_owner) {
            return Ok(false);
        }
        execute(&tx, ssql::INSERT_MARKETPLACE.postgres(), &args![s.id, s.name, s.created_at], "sandbox id taken")
            .await?;
        insert(&tx, &s, "sandbox id taken").await?;
        tx.commit().await.map_err(pg)?;
        Ok(true)
    }

    async fn activate_sandbox(&self, s: &SandboxRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if execute(&tx, ssql::ACTIVATE.postgres(), &args![s.id, s.sandbox_partner_id], "").await? != 1 {
            return Err(StoreError::NotFound("sandbox"));
        }
        let fanned = append_events(&tx, &s.marketplace_id, s.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_sandbox(&self, marketplace_id: &str, owner: &str, id: &str) -> StoreResult<Option<SandboxRecord>> {
        let c = self.client().await?;
        query_opt(&c, ssql::GET_SANDBOX.postgres(), &args![marketplace_id, owner, id]).await
    }

    async fn list_sandboxes(&self, marketplace_id: &str, owner: &str) -> StoreResult<Vec<SandboxRecord>> {
        let c = self.client().await?;
        query_all(&c, ssql::LIST_SANDBOXES.postgres(), &args![marketplace_id, owner]).await
    }

    async fn remove_sandbox(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if execute(&tx, ssql::CLAIM_REMOVAL.postgres(), &args![id], "").await? != 1 {
            return Ok(false);
        }
        for statement in ssql::purge_statements(DIALECT) {
            execute(&tx, &statement, &args![id], "").await?;
        }
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        self.commit(tx, fanned).await?;
        Ok(true)
    }

    async fn sandboxes_due_for_removal(
        &self,
        now: DateTime<Utc>,
        provisioning_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<SandboxRecord>> {
        let c = self.client().await?;
        query_all(&c, ssql::DUE_FOR_REMOVAL.postgres(), &args![now, provisioning_before, i64::from(limit)]).await
    }
}
