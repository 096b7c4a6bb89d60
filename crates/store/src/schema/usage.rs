//! Metered usage: raw records (unique per marketplace and record id, so a retried batch counts
//! once) and daily aggregates per customer, metric and channel, kept in the same transaction as
//! the raw inserts so a report is one indexed range read.
//!
//! Batches are written in [`chunks`] of at most [`CHUNK`] rows per statement (multi-row
//! `VALUES`, which both dialects accept with `ON CONFLICT` and `RETURNING`). Records are inserted sorted by id
//! and aggregates upserted sorted by key, so two PostgreSQL transactions never wait on each
//! other's rows in opposite orders.

use crate::kit::{Dialect, Query, Table, Value, insert_lists};
use crate::{StoreError, StoreResult, record, sql};
use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::usage::{Channel, DayUsage, Metric, UsageDay, UsageRecord, daily};

/// Most rows per multi-row statement: 64 × 11 parameters stays far below either dialect's limit.
pub const CHUNK: usize = 64;

/// `rows` in chunks of [`CHUNK`], the rest in powers of two (93 = 64 + 16 + 8 + 4 + 1), so each
/// statement comes in at most 7 sizes and the backends' statement caches stay small.
pub fn chunks<T>(rows: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let take = if rest.len() >= CHUNK { CHUNK } else { 1 << (usize::BITS - 1 - rest.len().leading_zeros()) };
        let (chunk, tail) = rest.split_at(take);
        out.push(chunk);
        rest = tail;
    }
    out
}

/// The `Conflict` message prefix for a record id ingested before with other content; the id
/// follows it.
pub const USAGE_ID_REUSED: &str = "usage record id reused with different content: ";

/// A raw usage record as stored. `channel` is `""` for metrics without one.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecordRow {
    pub marketplace_id: String,
    pub id: String,
    pub customer_id: String,
    pub metric: Metric,
    pub channel: String,
    pub quantity: i64,
    pub errors: i64,
    pub occurred_at: DateTime<Utc>,
    /// The UTC day of `occurred_at`.
    pub day: NaiveDate,
    pub ingested_at: DateTime<Utc>,
}

record! {
    UsageRecordRow in "usage_records" as "ur" {
        marketplace_id: key "marketplace_id",
        id: key "id",
        customer_id: fixed "customer_id",
        metric: fixed "metric",
        channel: fixed "channel",
        quantity: fixed "quantity",
        errors: fixed "errors",
        occurred_at: fixed "occurred_at",
        day: fixed "day",
        ingested_at: fixed "ingested_at",
    }
}

impl UsageRecordRow {
    pub fn of(marketplace_id: &str, r: &UsageRecord, ingested_at: DateTime<Utc>) -> Self {
        UsageRecordRow {
            marketplace_id: marketplace_id.to_owned(),
            id: r.id.clone(),
            customer_id: r.customer_id.clone(),
            metric: r.metric,
            channel: r.channel.map_or("", Channel::as_str).to_owned(),
            quantity: r.quantity,
            errors: r.errors,
            occurred_at: r.occurred_at,
            day: r.day(),
            ingested_at,
        }
    }

    /// The domain record (for folding).
    pub fn record(&self) -> StoreResult<UsageRecord> {
        let channel = match self.channel.as_str() {
            "" => None,
            c => Some(Channel::parse(c).map_err(|e| StoreError::Backend(format!("usage channel: {e}")))?),
        };
        Ok(UsageRecord {
            id: self.id.clone(),
            customer_id: self.customer_id.clone(),
            metric: self.metric,
            channel,
            quantity: self.quantity,
            errors: self.errors,
            occurred_at: self.occurred_at,
        })
    }

    /// Same record, whenever it was ingested.
    pub fn same_content(&self, other: &UsageRecordRow) -> bool {
        (&self.customer_id, self.metric, &self.channel, self.quantity, self.errors, self.occurred_at)
            == (&other.customer_id, other.metric, &other.channel, other.quantity, other.errors, other.occurred_at)
    }
}

/// One day of one customer, metric and channel (`""` for none).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageDayRecord {
    pub marketplace_id: String,
    pub customer_id: String,
    pub day: NaiveDate,
    pub metric: Metric,
    pub channel: String,
    /// Counters: the sum; `storage_bytes`: the day's last sample.
    pub quantity: i64,
    pub errors: i64,
    /// `storage_bytes`: the day's largest sample.
    pub peak: i64,
    /// The latest `occurred_at` folded in.
    pub last_at: DateTime<Utc>,
    pub records: i64,
    pub updated_at: DateTime<Utc>,
}

record! {
    UsageDayRecord in "usage_daily" as "ud" {
        marketplace_id: key "marketplace_id",
        customer_id: key "customer_id",
        day: key "day",
        metric: key "metric",
        channel: key "channel",
        quantity: set "quantity",
        errors: set "errors",
        peak: set "peak",
        last_at: set "last_at",
        records: set "records",
        updated_at: set "updated_at",
    }
}

impl UsageDayRecord {
    pub fn usage_day(&self) -> StoreResult<UsageDay> {
        let channel = match self.channel.as_str() {
            "" => None,
            c => Some(Channel::parse(c).map_err(|e| StoreError::Backend(format!("usage_daily.channel: {e}")))?),
        };
        Ok(UsageDay {
            day: self.day,
            metric: self.metric,
            channel,
            usage: DayUsage {
                quantity: self.quantity,
                errors: self.errors,
                peak: self.peak,
                last_at: self.last_at,
                records: self.records,
            },
        })
    }
}

/// What an ingestion wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageIngest {
    /// Records new to the marketplace, now counted.
    pub inserted: u64,
    /// Records whose id was ingested before with the same content: skipped.
    pub duplicates: u64,
}

fn placeholders(dialect: Dialect, rows: usize, per_row: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (0..per_row).map(|c| dialect.placeholder(first + r * per_row + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn columns<T: Table>() -> (String, usize) {
    let (names, _) = insert_lists::<T>();
    let n = names.split(", ").count();
    (names, n)
}

/// `rows` new records, returning the ids actually inserted (a known id is skipped).
pub fn insert_records_sql(dialect: Dialect, rows: usize) -> String {
    let (names, n) = columns::<UsageRecordRow>();
    format!(
        "INSERT INTO usage_records ({names}) VALUES {} ON CONFLICT (marketplace_id, id) DO NOTHING RETURNING id",
        placeholders(dialect, rows, n, 1)
    )
}

/// `$1` marketplace, `$2…` `ids` record ids: the stored records.
pub fn stored_records_sql(dialect: Dialect, ids: usize) -> String {
    let list: Vec<String> = (0..ids).map(|i| dialect.placeholder(i + 2)).collect();
    format!(
        "SELECT {} FROM usage_records ur WHERE ur.marketplace_id = {} AND ur.id IN ({})",
        UsageRecordRow::select_list(),
        dialect.placeholder(1),
        list.join(", ")
    )
}

/// Adds `rows` daily deltas to the aggregates: counters and errors add up; a storage day keeps
/// the sample with the latest `occurred_at` (the newer write on a tie) and the larger peak.
pub fn upsert_days_sql(dialect: Dialect, rows: usize) -> String {
    let (names, n) = columns::<UsageDayRecord>();
    format!(
        "INSERT INTO usage_daily ({names}) VALUES {} \
         ON CONFLICT (marketplace_id, customer_id, day, metric, channel) DO UPDATE SET \
         quantity = CASE WHEN usage_daily.metric = 'storage_bytes' \
             THEN CASE WHEN excluded.last_at >= usage_daily.last_at THEN excluded.quantity ELSE usage_daily.quantity END \
             ELSE usage_daily.quantity + excluded.quantity END, \
         errors = usage_daily.errors + excluded.errors, \
         peak = CASE WHEN excluded.peak > usage_daily.peak THEN excluded.peak ELSE usage_daily.peak END, \
         last_at = CASE WHEN excluded.last_at > usage_daily.last_at THEN excluded.last_at ELSE usage_daily.last_at END, \
         records = usage_daily.records + excluded.records, \
         updated_at = excluded.updated_at",
        placeholders(dialect, rows, n, 1)
    )
}

/// `$1` marketplace, `$2…` customer ids: those with a customer account.
pub fn known_customers_sql(dialect: Dialect, ids: usize) -> String {
    let list: Vec<String> = (0..ids).map(|i| dialect.placeholder(i + 2)).collect();
    format!(
        "SELECT customer_id FROM customer_accounts WHERE marketplace_id = {} AND customer_id IN ({})",
        dialect.placeholder(1),
        list.join(", ")
    )
}

/// `$1` marketplace, `$2` customer, `$3`/`$4` first and last day: one range of the primary key.
pub static USAGE_DAYS: Query = sql!(
    "SELECT {} FROM usage_daily ud WHERE ud.marketplace_id = $1 AND ud.customer_id = $2 AND ud.day >= $3 AND ud.day <= $4
     ORDER BY ud.day, ud.metric, ud.channel",
    UsageDayRecord::select_list()
);

/// Each chunk's values, concatenated.
pub fn chunk_values<T: Table>(rows: &[T]) -> Vec<Value<'_>> {
    rows.iter().flat_map(Table::insert_values).collect()
}

/// Sorts by id (the lock order) and checks the batch names each id once.
pub fn sorted(mut records: Vec<UsageRecordRow>) -> StoreResult<Vec<UsageRecordRow>> {
    records.sort_by(|a, b| a.id.cmp(&b.id));
    if records.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(StoreError::Backend("a usage batch repeats a record id".into()));
    }
    Ok(records)
}

/// The records whose id was not inserted, checked against what is stored: `Conflict` naming the
/// first whose content differs.
pub fn check_known(known: &[&UsageRecordRow], stored: &[UsageRecordRow]) -> StoreResult<()> {
    for k in known {
        match stored.iter().find(|s| s.id == k.id) {
            Some(s) if s.same_content(k) => {}
            Some(_) => return Err(StoreError::Conflict(format!("{USAGE_ID_REUSED}{}", k.id))),
            // Inserted by no one yet not new: a concurrent writer's row we cannot see.
            None => return Err(StoreError::Conflict(format!("usage record {} is being written concurrently", k.id))),
        }
    }
    Ok(())
}

/// The new records folded into daily deltas, in key (lock) order.
pub fn day_deltas(new: &[&UsageRecordRow], at: DateTime<Utc>) -> StoreResult<Vec<UsageDayRecord>> {
    let marketplace_id = new.first().map(|r| r.marketplace_id.clone()).unwrap_or_default();
    let records = new.iter().map(|r| r.record()).collect::<StoreResult<Vec<_>>>()?;
    Ok(daily(&records)
        .into_iter()
        .map(|(k, metric, u)| UsageDayRecord {
            marketplace_id: marketplace_id.clone(),
            customer_id: k.customer_id,
            day: k.day,
            metric,
            channel: k.channel.to_owned(),
            quantity: u.quantity,
            errors: u.errors,
            peak: u.peak,
            last_at: u.last_at,
            records: u.records,
            updated_at: at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_in_few_sizes_and_cover_every_row() {
        let rows: Vec<usize> = (0..221).collect();
        let sizes: Vec<usize> = chunks(&rows).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [64, 64, 64, 16, 8, 4, 1]);
        assert_eq!(chunks(&rows).concat(), rows);
        assert!(chunks::<usize>(&[]).is_empty());
    }

    #[test]
    fn multi_row_statements_number_every_placeholder() {
        let sql = insert_records_sql(Dialect::Postgres, 2);
        assert!(sql.contains("($1, $2, $3, $4, $5, $6, $7, $8, $9, $10), ($11, "), "{sql}");
        assert!(sql.ends_with("($11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT (marketplace_id, id) DO NOTHING RETURNING id"), "{sql}");
        assert!(stored_records_sql(Dialect::Sqlite, 2).ends_with("ur.marketplace_id = ?1 AND ur.id IN (?2, ?3)"));
        assert!(
            upsert_days_sql(Dialect::Sqlite, 1)
                .contains("VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT")
        );
    }
}
