//! Usage records and their daily aggregates on SQLite: the declarations and SQL are
//! `partnerd_store::schema::usage`. The single writer serialises batches, so the insert, the
//! comparison of known ids and the upserts see no concurrent writer.

use crate::kit::{DIALECT, execute, query_all};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{ToValue, Value};
use partnerd_store::schema::usage as usql;
use partnerd_store::*;
use std::collections::HashSet;

#[async_trait]
impl UsageStore for SqliteStore {
    async fn known_usage_customers(&self, marketplace_id: &str, customer_ids: Vec<String>) -> StoreResult<Vec<String>> {
        let m = marketplace_id.to_owned();
        self.readers
            .read(move |c| {
                let mut known = Vec::new();
                for chunk in usql::chunks(&customer_ids) {
                    let mut args: Vec<Value<'_>> = vec![m.to_value()];
                    args.extend(chunk.iter().map(ToValue::to_value));
                    let rows: Vec<(String,)> = query_all(c, &usql::known_customers_sql(DIALECT, chunk.len()), &args)?;
                    known.extend(rows.into_iter().map(|(id,)| id));
                }
                Ok(known)
            })
            .await
    }

    async fn ingest_usage(
        &self,
        marketplace_id: &str,
        records: Vec<UsageRecordRow>,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<UsageIngest> {
        let m = marketplace_id.to_owned();
        let records = usql::sorted(records)?;
        self.writer
            .write(move |c| {
                let mut inserted: HashSet<String> = HashSet::new();
                for chunk in usql::chunks(&records) {
                    let sql = usql::insert_records_sql(DIALECT, chunk.len());
                    let ids: Vec<(String,)> = query_all(c, &sql, &usql::chunk_values(chunk))?;
                    inserted.extend(ids.into_iter().map(|(id,)| id));
                }
                let (new, known): (Vec<&UsageRecordRow>, Vec<&UsageRecordRow>) =
                    records.iter().partition(|r| inserted.contains(&r.id));
                for chunk in usql::chunks(&known) {
                    let mut args: Vec<Value<'_>> = vec![m.to_value()];
                    args.extend(chunk.iter().map(|r| r.id.to_value()));
                    let stored: Vec<UsageRecordRow> =
                        query_all(c, &usql::stored_records_sql(DIALECT, chunk.len()), &args)?;
                    usql::check_known(chunk, &stored)?;
                }
                let deltas = usql::day_deltas(&new, at)?;
                for chunk in usql::chunks(&deltas) {
                    execute(c, &usql::upsert_days_sql(DIALECT, chunk.len()), &usql::chunk_values(chunk), "")?;
                }
                if !new.is_empty() {
                    append_events(c, &m, at, &events)?;
                }
                Ok(UsageIngest { inserted: new.len() as u64, duplicates: known.len() as u64 })
            })
            .await
    }

    async fn usage_days(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> StoreResult<Vec<UsageDayRecord>> {
        let (m, cu) = (marketplace_id.to_owned(), customer_id.to_owned());
        self.readers.read(move |c| query_all(c, usql::USAGE_DAYS.sqlite(), &args![m, cu, first, last])).await
    }
}
