//! Co-sell opportunities on PostgreSQL: the declaration and SQL are `partnerd_store::schema::cosell`.

use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::cosell;
use partnerd_store::*;

#[async_trait]
impl CosellStore for PostgresStore {
    async fn create_opportunity(&self, o: OpportunityRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &o, "opportunity id taken").await?;
        let fanned = append_events(&tx, &o.marketplace_id, o.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_opportunity(
        &self,
        marketplace_id: &str,
        viewer: &str,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>> {
        let c = self.client().await?;
        query_opt(&c, cosell::GET.postgres(), &args![marketplace_id, id, viewer]).await
    }

    async fn list_opportunities(
        &self,
        marketplace_id: &str,
        viewer: &str,
        filter: &OpportunityFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<OpportunityPage> {
        let (total_sql, page_sql, f) = cosell::list(DIALECT, marketplace_id, viewer, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(OpportunityPage { items, total: count("opportunities", total)?, next })
    }

    async fn update_opportunity(
        &self,
        o: OpportunityRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        versioned_update(&tx, &o, expected_version).await?;
        let fanned = append_events(&tx, &o.marketplace_id, o.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }
}
