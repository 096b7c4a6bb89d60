//! Sandboxes on SQLite: the declarations, SQL and the purge list are
//! `partnerd_store::schema::sandbox`. The single writer serialises creates (so the per-owner
//! count holds) and removals (so a sandbox is purged once).

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, run};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::schema::sandbox as ssql;
use partnerd_store::*;

#[async_trait]
impl SandboxStore for SqliteStore {
    async fn create_sandbox(&self, s: SandboxRecord, max_per_owner: u32) -> StoreResult<bool> {
        self.writer
            .write(move |c| {
                let (n,): (i64,) =
                    query_one(c, ssql::COUNT_SANDBOXES.sqlite(), &args![s.marketplace_id, s.owner_partner_id])?;
                if n >= i64::from(max_per_owner) {
                    return Ok(false);
                }
                execute(c, ssql::INSERT_MARKETPLACE.sqlite(), &args![s.id, s.name, s.created_at], "sandbox id taken")?;
                insert(c, &s, "sandbox id taken")?;
                Ok(true)
            })
            .await
    }

    async fn activate_sandbox(&self, s: &SandboxRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let s = s.clone();
        self.writer
            .write(move |c| {
                if run(c, &ssql::ACTIVATE, &args![s.id, s.sandbox_partner_id])? != 1 {
                    return Err(StoreError::NotFound("sandbox"));
                }
                append_events(c, &s.marketplace_id, s.created_at, &events)
            })
            .await
    }

    async fn get_sandbox(&self, marketplace_id: &str, owner: &str, id: &str) -> StoreResult<Option<SandboxRecord>> {
        let (m, o, id) = (marketplace_id.to_owned(), owner.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, ssql::GET_SANDBOX.sqlite(), &args![m, o, id])).await
    }

    async fn list_sandboxes(&self, marketplace_id: &str, owner: &str) -> StoreResult<Vec<SandboxRecord>> {
        let (m, o) = (marketplace_id.to_owned(), owner.to_owned());
        self.readers.read(move |c| query_all(c, ssql::LIST_SANDBOXES.sqlite(), &args![m, o])).await
    }

    async fn remove_sandbox(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                if run(c, &ssql::CLAIM_REMOVAL, &args![id])? != 1 {
                    return Ok(false);
                }
                for statement in ssql::purge_statements(DIALECT) {
                    execute(c, &statement, &args![id], "")?;
                }
                append_events(c, &m, at, &events)?;
                Ok(true)
            })
            .await
    }

    async fn sandboxes_due_for_removal(
        &self,
        now: DateTime<Utc>,
        provisioning_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<SandboxRecord>> {
        self.readers
            .read(move |c| {
                query_all(c, ssql::DUE_FOR_REMOVAL.sqlite(), &args![now, provisioning_before, i64::from(limit)])
            })
            .await
    }
}
