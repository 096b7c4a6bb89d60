//! Leads on PostgreSQL: the declarations and SQL are `partnerd_store::schema::leads`; a
//! conversion reuses the accounts' company, association and user writes.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, versioned_update};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::{accounts as account_sql, leads as sql};
use partnerd_store::*;

/// Moves the lead's counter rows (`lead_counts`) from `before` to its current key.
async fn move_counts(c: &impl GenericClient, l: &LeadRecord, before: Option<sql::LeadCountKey>) -> StoreResult<()> {
    for (k, n) in sql::count_moves(before, sql::LeadCountKey::of(l)) {
        let a = args![l.marketplace_id, k.lead_type, k.status, k.owner_company_id, k.recipient_company_id, n];
        execute(c, sql::BUMP_COUNT.postgres(), &a, "").await?;
    }
    Ok(())
}

#[async_trait]
impl LeadStore for PostgresStore {
    async fn create_lead(&self, lead: LeadRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &lead, "a lead with this id exists already").await?;
        move_counts(&tx, &lead, None).await?;
        let fanned = append_events(&tx, &lead.marketplace_id, lead.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_lead(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<LeadRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_LEAD.postgres(), &args![marketplace_id, id]).await
    }

    async fn list_leads(
        &self,
        marketplace_id: &str,
        filter: &LeadFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<LeadRecord>> {
        let (total_sql, page_sql, f) = sql::list_leads(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("leads", total)?, next })
    }

    async fn update_lead(&self, lead: LeadRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let prior = versioned_update(&tx, &lead, expected_version).await?;
        move_counts(&tx, &lead, Some(sql::LeadCountKey::before(&lead, prior))).await?;
        let fanned = append_events(&tx, &lead.marketplace_id, lead.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn convert_lead(
        &self,
        lead: LeadRecord,
        expected_version: i64,
        conversion: LeadConversion,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // The lead first: its row lock orders concurrent conversions of one lead.
        let prior = versioned_update(&tx, &lead, expected_version).await?;
        move_counts(&tx, &lead, Some(sql::LeadCountKey::before(&lead, prior))).await?;
        if let Some(company) = &conversion.company {
            insert(&tx, company, EXTERNAL_ID_TAKEN).await?;
        }
        if let Some(a) = &conversion.association {
            insert(&tx, a, ASSOCIATION_EXISTS).await?;
        }
        if let Some(new) = &conversion.user {
            let u = &new.user;
            let (taken,): (i64,) =
                query_one(&tx, account_sql::EMAIL_USED.postgres(), &args![u.marketplace_id, u.email]).await?;
            if taken > 0 {
                return Err(StoreError::Conflict(EMAIL_TAKEN.into()));
            }
            insert(&tx, u, EMAIL_TAKEN).await?;
            let args = args![u.marketplace_id, u.id, new.company_id, new.roles, u.created_at];
            execute(&tx, account_sql::INSERT_MEMBERSHIP.postgres(), &args, "membership exists").await?;
        }
        let fanned = append_events(&tx, &lead.marketplace_id, lead.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }
}
