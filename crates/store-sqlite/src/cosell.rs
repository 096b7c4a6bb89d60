//! Co-sell opportunities on SQLite: the declaration and SQL are `partnerd_store::schema::cosell`.

use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::cosell;
use partnerd_store::*;

#[async_trait]
impl CosellStore for SqliteStore {
    async fn create_opportunity(&self, o: OpportunityRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &o, "opportunity id taken")?;
                append_events(c, &o.marketplace_id, o.created_at, &events)
            })
            .await
    }

    async fn get_opportunity(
        &self,
        marketplace_id: &str,
        viewer: &str,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>> {
        let (m, v, id) = (marketplace_id.to_owned(), viewer.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, cosell::GET.sqlite(), &args![m, id, v])).await
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
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(OpportunityPage { items, total: count("opportunities", total)?, next })
            })
            .await
    }

    async fn update_opportunity(
        &self,
        o: OpportunityRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                versioned_update(c, &o, expected_version)?;
                append_events(c, &o.marketplace_id, o.updated_at, &events)
            })
            .await
    }
}
