//! Metered usage: ingestion from the operator's platform and customers' usage reports.
//!
//! Decisions (the OpenAPI description says the same):
//! - Only the operator ingests (a key of the marketplace's operator company, or the CLI);
//!   partners read their own customers' usage.
//! - A batch is all or nothing: every record is validated first and the first problem of each
//!   is named (`records[3].quantity`); then the batch is written in one transaction.
//! - Idempotent by record id, per marketplace: an id ingested before with the same content is
//!   skipped (a retried batch counts once, an overlapping one counts only what is new); with
//!   different content it refuses the batch (422 naming `records[i].id`), since silently
//!   keeping either version would hide a bug in the sender. The same id twice in one batch is
//!   one record if the content is equal, else refused the same way.
//! - Reports are read from daily aggregates (UTC days) kept in the ingesting transaction.

use crate::policy;
use crate::{Principal, ServiceError, Services};
use chrono::NaiveDate;
use partnerd_domain::ValidationErrors;
use partnerd_domain::analytics::Period;
use partnerd_domain::dates;
use partnerd_domain::events::{NewEvent, UsageIngested};
use partnerd_domain::ids::new_id;
use partnerd_domain::usage::{
    Days, MAX_BATCH, MAX_IMPORT, MAX_RANGE_DAYS, UsageInput, UsageRecord, UsageReport, UsageTotals, report, validate,
};
use partnerd_store::schema::usage::USAGE_ID_REUSED;
use partnerd_store::{CustomerAccountRecord, StoreError, UsageRecordRow};
use std::collections::{BTreeSet, HashMap};

/// What an ingestion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    /// Records in the batch.
    pub received: u64,
    /// Records new to the marketplace, now counted.
    pub ingested: u64,
    /// Records already counted (by an earlier batch, or repeated in this one): skipped.
    pub duplicates: u64,
}

/// The range a usage report covers, as asked.
#[derive(Debug, Clone, Default)]
pub struct UsageQuery {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub period: Option<Period>,
}

/// A customer's usage over a range.
#[derive(Debug, Clone)]
pub struct CustomerUsage {
    pub customer_id: String,
    /// The `period` asked for, if any.
    pub period: Option<Period>,
    pub report: UsageReport,
}

/// The days a query covers: `period` (the `n` days ending today), or `start_date`/`end_date`
/// (strict YYYY-MM-DD, inclusive, `domain::dates`). Defaults: neither → from the day
/// `period_start` falls on (the current billing period's) through today; `start_date` alone →
/// through today (or through `start_date` itself when it is after today); `end_date` alone →
/// from the period's start, or from the first of `end_date`'s month when `end_date` is before
/// the period. At most [`MAX_RANGE_DAYS`] days, refused naming the bound the client gave.
pub fn query_days(q: &UsageQuery, period_start: NaiveDate, today: NaiveDate) -> Result<Days, ValidationErrors> {
    if let Some(p) = q.period {
        if q.start_date.is_some() || q.end_date.is_some() {
            return Err(ValidationErrors::single("period", "give either period or start_date/end_date, not both"));
        }
        return Ok(Days::ending(today, p.duration().num_days()));
    }
    let (start, end) = dates::bounds(q.start_date.as_deref(), q.end_date.as_deref())?;
    let default_start = period_start.min(today);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, today.max(s)),
        (None, Some(e)) if default_start <= e => (default_start, e),
        (None, Some(e)) => (dates::first_of_month(e), e),
        (None, None) => (default_start, today),
    };
    let days = Days { start, end };
    if days.len() > MAX_RANGE_DAYS {
        let field = if q.end_date.is_some() || q.start_date.is_none() { "end_date" } else { "start_date" };
        let message = if field == "end_date" {
            format!("must be at most {MAX_RANGE_DAYS} days from start_date")
        } else {
            format!("must be at most {MAX_RANGE_DAYS} days before today (or give end_date)")
        };
        return Err(ValidationErrors::single(field, message));
    }
    Ok(days)
}

pub struct Usage<'a> {
    pub(crate) services: &'a Services,
}

impl Usage<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        &*self.services.store
    }

    /// `POST /usage/records`: the operator's batch of at most [`MAX_BATCH`] records.
    pub async fn ingest(&self, who: &Principal, records: Vec<UsageInput>) -> Result<Ingested, ServiceError> {
        policy::require_operator(who)?;
        self.write(&who.marketplace_id, records, MAX_BATCH).await
    }

    /// `partnerd usage import`: an operator action (trusted code), at most [`MAX_IMPORT`]
    /// records in one transaction.
    pub async fn import(&self, marketplace_id: &str, records: Vec<UsageInput>) -> Result<Ingested, ServiceError> {
        self.write(marketplace_id, records, MAX_IMPORT).await
    }

    async fn write(&self, marketplace_id: &str, input: Vec<UsageInput>, max: usize) -> Result<Ingested, ServiceError> {
        if input.is_empty() {
            return Err(ValidationErrors::single("records", "must hold at least one record").into());
        }
        if input.len() > max {
            return Err(ValidationErrors::single(
                "records",
                format!("must hold at most {max} records (got {})", input.len()),
            )
            .into());
        }
        let now = self.services.clock.now();
        let mut e = ValidationErrors::new();
        // The index each id first appears at, and the records to write (each id once).
        let mut first: HashMap<String, usize> = HashMap::new();
        let mut records: Vec<(usize, UsageRecord)> = Vec::with_capacity(input.len());
        for (i, raw) in input.iter().enumerate() {
            match validate(raw, now) {
                Err(errors) => e.merge_prefixed(&format!("records[{i}]."), errors),
                Ok(r) => match first.get(&r.id) {
                    Some(&j) => {
                        if records.iter().find(|(k, _)| *k == j).is_some_and(|(_, earlier)| *earlier != r) {
                            e.add(
                                &format!("records[{i}].id"),
                                format!("repeats records[{j}].id with different content"),
                            );
                        }
                    }
                    None => {
                        first.insert(r.id.clone(), i);
                        records.push((i, r));
                    }
                },
            }
        }
        let customers: BTreeSet<&str> = records.iter().map(|(_, r)| r.customer_id.as_str()).collect();
        let known: BTreeSet<String> = self
            .store()
            .known_usage_customers(marketplace_id, customers.iter().map(|c| (*c).to_owned()).collect())
            .await?
            .into_iter()
            .collect();
        for (i, r) in &records {
            if !known.contains(&r.customer_id) {
                e.add(&format!("records[{i}].customer_id"), "is not a customer account of this marketplace");
            }
        }
        e.into_result()?;
        let distinct = customers.len() as u64;
        let rows: Vec<UsageRecordRow> =
            records.iter().map(|(_, r)| UsageRecordRow::of(marketplace_id, r, now)).collect();
        let event = NewEvent::of(&UsageIngested {
            batch_id: new_id("usagebatch"),
            records: input.len() as u64,
            customers: distinct,
        });
        let done =
            self.store().ingest_usage(marketplace_id, rows, now, vec![event]).await.map_err(|err| match err {
                StoreError::Conflict(m) if m.starts_with(USAGE_ID_REUSED) => {
                    let id = &m[USAGE_ID_REUSED.len()..];
                    let i = first.get(id).copied().unwrap_or(0);
                    ServiceError::invalid(ValidationErrors::single(
                        &format!("records[{i}].id"),
                        "was ingested before with different content",
                    ))
                }
                other => other.into(),
            })?;
        let received = input.len() as u64;
        Ok(Ingested { received, ingested: done.inserted, duplicates: received - done.inserted })
    }

    /// `GET /customers/{id}/usage`: one of the caller's customers; another partner's is "not
    /// found".
    pub async fn customer(
        &self,
        who: &Principal,
        customer_id: &str,
        q: UsageQuery,
    ) -> Result<CustomerUsage, ServiceError> {
        let me = policy::acting(who, None)?;
        let account = self
            .store()
            .get_customer(me.marketplace_id(), me.partner_id, customer_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("customer"))?;
        let today = self.services.clock.now().date_naive();
        let days = query_days(&q, account.current_period_start.date_naive(), today)?;
        let report = self.report(&account, days).await?;
        Ok(CustomerUsage { customer_id: account.customer_id, period: q.period, report })
    }

    /// The current billing period's totals so far (from the day it started through today), for
    /// `GET /customers/{id}`.
    pub(crate) async fn period_totals(&self, account: &CustomerAccountRecord) -> Result<UsageTotals, ServiceError> {
        let today = self.services.clock.now().date_naive();
        let days = query_days(&UsageQuery::default(), account.current_period_start.date_naive(), today)?;
        Ok(self.report(account, days).await?.totals)
    }

    async fn report(&self, account: &CustomerAccountRecord, days: Days) -> Result<UsageReport, ServiceError> {
        let rows = self.store().usage_days(&account.marketplace_id, &account.customer_id, days.start, days.end).await?;
        let rows = rows.iter().map(|r| r.usage_day()).collect::<Result<Vec<_>, _>>()?;
        Ok(report(days, &rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn q(start: Option<&str>, end: Option<&str>, period: Option<Period>) -> UsageQuery {
        UsageQuery { start_date: start.map(Into::into), end_date: end.map(Into::into), period }
    }

    #[test]
    fn the_default_is_the_billing_period_so_far() {
        let days = query_days(&q(None, None, None), d("2025-01-03"), d("2025-01-15")).unwrap();
        assert_eq!(days, Days { start: d("2025-01-03"), end: d("2025-01-15") });
        let days = query_days(&q(None, Some("2025-01-05"), None), d("2025-01-03"), d("2025-01-15")).unwrap();
        assert_eq!(days.end, d("2025-01-05"));
    }

    #[test]
    fn a_period_is_the_days_ending_today() {
        let days = query_days(&q(None, None, Some(Period::Days7)), d("2025-01-03"), d("2025-01-15")).unwrap();
        assert_eq!(days, Days { start: d("2025-01-09"), end: d("2025-01-15") });
        let e = query_days(&q(Some("2025-01-01"), None, Some(Period::Days7)), d("2025-01-03"), d("2025-01-15"));
        assert!(e.unwrap_err().fields().contains_key("period"));
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let today = d("2025-01-15");
        let e = query_days(&q(Some("2025-13-01"), None, None), today, today).unwrap_err();
        assert!(e.fields().contains_key("start_date"));
        let e = query_days(&q(Some("2025-01-10"), Some("2025-01-09"), None), today, today).unwrap_err();
        assert!(e.fields().contains_key("end_date"));
        let e = query_days(&q(Some("2023-01-01"), Some("2024-12-31"), None), today, today).unwrap_err();
        assert!(e.fields()["end_date"][0].contains("366"));
        assert!(query_days(&q(Some("2024-01-01"), Some("2024-12-31"), None), today, today).is_ok(), "a leap year");
        let e = query_days(&q(Some("1970-01-01"), None, None), today, today).unwrap_err();
        assert!(e.fields()["start_date"][0].contains("366"), "the bound given is named: {e}");
        let e = query_days(&q(None, Some("9999-12-31"), None), today, today).unwrap_err();
        assert!(e.fields().contains_key("end_date"));
    }

    #[test]
    fn one_bound_alone_never_inverts_the_range() {
        let (period, today) = (d("2025-01-03"), d("2025-01-15"));
        let days = query_days(&q(None, Some("2024-11-20"), None), period, today).unwrap();
        assert_eq!(days, Days { start: d("2024-11-01"), end: d("2024-11-20") }, "before the period: its month");
        let days = query_days(&q(Some("2025-02-01"), None, None), period, today).unwrap();
        assert_eq!(days, Days { start: d("2025-02-01"), end: d("2025-02-01") }, "a future start: that day");
        let days = query_days(&q(Some("2025-01-10"), None, None), period, today).unwrap();
        assert_eq!(days, Days { start: d("2025-01-10"), end: today });
    }
}
