//! Usage records and their daily aggregates on PostgreSQL: the declarations and SQL are
//! `partnerd_store::schema::usage`. Records are inserted sorted by id and aggregates upserted
//! sorted by key, so concurrent batches (from any process) queue on shared rows in one order;
//! `ON CONFLICT DO NOTHING` waits for a concurrent insert of the same id to commit, and the
//! comparison that follows sees the committed row.

use crate::kit::{DIALECT, execute, query_all};
use crate::{Fanned, PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{ToValue, Value};
use partnerd_store::schema::usage as usql;
use partnerd_store::*;
use std::collections::HashSet;

#[async_trait]
impl UsageStore for PostgresStore {
    async fn known_usage_customers(&self, marketplace_id: &str, customer_ids: Vec<String>) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        let mut known = Vec::new();
        for chunk in usql::chunks(&customer_ids) {
            let mut args: Vec<Value<'_>> = vec![marketplace_id.to_value()];
            args.extend(chunk.iter().map(ToValue::to_value));
            let rows: Vec<(String,)> = query_all(&c, &usql::known_customers_sql(DIALECT, chunk.len()), &args).await?;
            known.extend(rows.into_iter().map(|(id,)| id));
        }
        Ok(known)
    }

    async fn ingest_usage(
        &self,
        marketplace_id: &str,
        records: Vec<UsageRecordRow>,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<UsageIngest> {
        let records = usql::sorted(records)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut inserted: HashSet<String> = HashSet::new();
        for chunk in usql::chunks(&records) {
            let sql = usql::insert_records_sql(DIALECT, chunk.len());
            let ids: Vec<(String,)> = query_all(&tx, &sql, &usql::chunk_values(chunk)).await?;
            inserted.extend(ids.into_iter().map(|(id,)| id));
        }
        let (new, known): (Vec<&UsageRecordRow>, Vec<&UsageRecordRow>) =
            records.iter().partition(|r| inserted.contains(&r.id));
        for chunk in usql::chunks(&known) {
            let mut args: Vec<Value<'_>> = vec![marketplace_id.to_value()];
            args.extend(chunk.iter().map(|r| r.id.to_value()));
            let stored: Vec<UsageRecordRow> =
                query_all(&tx, &usql::stored_records_sql(DIALECT, chunk.len()), &args).await?;
            usql::check_known(chunk, &stored)?;
        }
        let deltas = usql::day_deltas(&new, at)?;
        for chunk in usql::chunks(&deltas) {
            execute(&tx, &usql::upsert_days_sql(DIALECT, chunk.len()), &usql::chunk_values(chunk), "").await?;
        }
        let mut fanned = Fanned::default();
        if !new.is_empty() {
            fanned = append_events(&tx, marketplace_id, at, &events).await?;
        }
        self.commit(tx, fanned).await?;
        Ok(UsageIngest { inserted: new.len() as u64, duplicates: known.len() as u64 })
    }

    async fn usage_days(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> StoreResult<Vec<UsageDayRecord>> {
        let c = self.client().await?;
        query_all(&c, usql::USAGE_DAYS.postgres(), &args![marketplace_id, customer_id, first, last]).await
    }
}
