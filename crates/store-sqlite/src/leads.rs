//! Leads on SQLite: the declarations and SQL are `partnerd_store::schema::leads`; a conversion
//! reuses the accounts' company, association and user writes.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, run, versioned_update};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::count;
use partnerd_store::schema::{accounts as account_sql, leads as sql};
use partnerd_store::*;
use rusqlite::Connection;

/// Moves the lead's counter rows (`lead_counts`) from `before` to its current key.
fn move_counts(c: &Connection, l: &LeadRecord, before: Option<sql::LeadCountKey>) -> StoreResult<()> {
    for (k, n) in sql::count_moves(before, sql::LeadCountKey::of(l)) {
        run(
            c,
            &sql::BUMP_COUNT,
            &args![l.marketplace_id, k.lead_type, k.status, k.owner_company_id, k.recipient_company_id, n],
        )?;
    }
    Ok(())
}

#[async_trait]
impl LeadStore for SqliteStore {
    async fn create_lead(&self, lead: LeadRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &lead, "a lead with this id exists already")?;
                move_counts(c, &lead, None)?;
                append_events(c, &lead.marketplace_id, lead.created_at, &events)
            })
            .await
    }

    async fn get_lead(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<LeadRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_LEAD.sqlite(), &args![m, id])).await
    }

    async fn list_leads(
        &self,
        marketplace_id: &str,
        filter: &LeadFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<LeadRecord>> {
        let (total_sql, page_sql, f) = sql::list_leads(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("leads", total)?, next })
            })
            .await
    }

    async fn update_lead(&self, lead: LeadRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let prior = versioned_update(c, &lead, expected_version)?;
                move_counts(c, &lead, Some(sql::LeadCountKey::before(&lead, prior)))?;
                append_events(c, &lead.marketplace_id, lead.updated_at, &events)
            })
            .await
    }

    async fn convert_lead(
        &self,
        lead: LeadRecord,
        expected_version: i64,
        conversion: LeadConversion,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let prior = versioned_update(c, &lead, expected_version)?;
                move_counts(c, &lead, Some(sql::LeadCountKey::before(&lead, prior)))?;
                if let Some(company) = &conversion.company {
                    insert(c, company, EXTERNAL_ID_TAKEN)?;
                }
                if let Some(a) = &conversion.association {
                    insert(c, a, ASSOCIATION_EXISTS)?;
                }
                if let Some(new) = &conversion.user {
                    let u = &new.user;
                    let (taken,): (i64,) =
                        query_one(c, account_sql::EMAIL_USED.sqlite(), &args![u.marketplace_id, u.email])?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(EMAIL_TAKEN.into()));
                    }
                    insert(c, u, EMAIL_TAKEN)?;
                    let args = args![u.marketplace_id, u.id, new.company_id, new.roles, u.created_at];
                    execute(c, account_sql::INSERT_MEMBERSHIP.sqlite(), &args, "membership exists")?;
                }
                append_events(c, &lead.marketplace_id, lead.updated_at, &events)
            })
            .await
    }
}
