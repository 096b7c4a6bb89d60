//! Usage: `POST /partners/usage/records` (the operator's ingestion) and
//! `GET /partners/customers/{customer_id}/usage`.

use super::dto::Envelope;
use super::{ApiError, ApiJson, Caller, Query, known_id, ok};
use crate::kernel::Param;
use axum::extract::{Path, State};
use axum::response::Response;
use partnerd_domain::ValidationErrors;
use partnerd_domain::analytics::Period;
use partnerd_domain::usage::{UsageInput, UsageReport, UsageTotals};
use partnerd_services::Services;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(ToSchema)]
#[schema(as = UsageMetric, rename_all = "snake_case")]
#[allow(dead_code)]
enum MetricName {
    Messages,
    WorkflowExecutions,
    ApiRequests,
    StorageBytes,
}

#[derive(ToSchema)]
#[schema(as = MessageChannel, rename_all = "snake_case")]
#[allow(dead_code)]
enum ChannelName {
    Email,
    Sms,
    Whatsapp,
    Voice,
    Push,
    InApp,
    Slack,
}

/// One usage record from the operator's platform.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UsageRecordInput)]
pub struct UsageRecordBody {
    /// Your id for the record: 1–128 characters of `A–Z a–z 0–9 _ - . :`, unique in the
    /// marketplace. Sending it again with the same content counts it once.
    #[schema(required = true, max_length = 128)]
    id: Option<String>,
    /// A customer account's id (any partner's).
    #[schema(required = true)]
    customer_id: Option<String>,
    #[schema(required = true, value_type = Option<MetricName>)]
    metric: Option<String>,
    /// Required for `messages`, refused for the other metrics.
    #[schema(value_type = Option<ChannelName>)]
    channel: Option<String>,
    /// An integer ≥ 0: messages sent, executions run, requests served (at most 10^12 per
    /// record), or for `storage_bytes` the bytes stored at `occurred_at` (a sample, at most
    /// 10^18).
    #[schema(required = true, minimum = 0)]
    quantity: Option<i64>,
    /// `api_requests` only: how many of `quantity` failed (0 by default, at most `quantity`).
    #[schema(minimum = 0)]
    errors: Option<i64>,
    /// RFC 3339; the record counts on this instant's UTC day. At most 5 minutes in the future,
    /// not before 2000.
    #[schema(required = true, format = DateTime)]
    occurred_at: Option<String>,
}

impl UsageRecordBody {
    fn input(self) -> UsageInput {
        UsageInput {
            id: self.id,
            customer_id: self.customer_id,
            metric: self.metric,
            channel: self.channel,
            quantity: self.quantity,
            errors: self.errors,
            occurred_at: self.occurred_at,
        }
    }
}

/// A batch of usage records.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UsageBatch)]
pub struct UsageBatchBody {
    /// 1–1000 records.
    #[schema(required = true, min_items = 1, max_items = 1000)]
    records: Option<Vec<UsageRecordBody>>,
}

impl UsageBatchBody {
    /// The records as the services take them.
    pub fn into_inputs(self) -> Result<Vec<UsageInput>, ValidationErrors> {
        let records = self.records.ok_or_else(|| ValidationErrors::single("records", "is required"))?;
        Ok(records.into_iter().map(UsageRecordBody::input).collect())
    }
}

/// A `partnerd usage import` file: the POST body, or just its array of records. Errors name
/// the failing path (`records[3].quantity`) as the API does.
pub fn parse_import(bytes: &[u8]) -> Result<Vec<UsageInput>, ValidationErrors> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum File {
        Records(Vec<serde_json::Value>),
        Batch(serde_json::Value),
    }
    let body: UsageBatchBody = match serde_json::from_slice::<File>(bytes) {
        Err(e) => return Err(ValidationErrors::single("file", format!("is not JSON: {e}"))),
        Ok(File::Records(items)) => typed(&serde_json::json!({ "records": items }))?,
        Ok(File::Batch(value)) => typed(&value)?,
    };
    body.into_inputs()
}

fn typed(value: &serde_json::Value) -> Result<UsageBatchBody, ValidationErrors> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "file".to_owned() } else { path };
        ValidationErrors::single(&field, e.into_inner().to_string())
    })
}

/// What a batch did.
#[derive(Serialize, ToSchema)]
pub(super) struct IngestResult {
    /// Records in the batch.
    received: u64,
    /// Records counted now for the first time.
    ingested: u64,
    /// Records counted before (an earlier batch, or repeated in this one): skipped.
    duplicates: u64,
}

/// Ingest Usage Records
///
/// **Operator only** (a key of the marketplace operator's company, the one `partnerd serve`
/// shows on first start; partner keys get 403): your platform reports what customers used.
/// Metrics: `messages` (with a `channel`: `email`, `sms`, `whatsapp`, `voice`, `push`,
/// `in_app`, `slack`), `workflow_executions`, `api_requests` (with `errors`, the failed part)
/// and `storage_bytes` (a gauge: each sample is the bytes stored at that instant; a day keeps
/// its last and its peak sample). Counters are summed per UTC day.
///
/// - **All or nothing**: every record is checked first; any problem refuses the whole batch
///   with 422 naming each failing field (`records[3].quantity`), and nothing is counted.
///   Unknown fields are refused. A `customer_id` must be a customer account of the
///   marketplace.
/// - **Idempotent by record id** (per marketplace): a record whose `id` was ingested before
///   with the same content is skipped, so retrying a batch (or sending overlapping ones) counts
///   each record once; `duplicates` says how many were skipped. The same `id` with different
///   content is refused (422 naming `records[i].id`) rather than silently overwriting or
///   ignoring it. Within one batch, an id repeated with equal content counts once.
/// - The batch is one transaction: the raw records and the customers' daily aggregates are
///   written together. Answers 200 whether or not anything was new.
#[utoipa::path(post, path = "/usage/records", tag = "Usage", request_body = UsageBatchBody,
    responses((status = 200, description = "The batch is counted", body = Envelope<IngestResult>)))]
pub(super) async fn ingest(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<UsageBatchBody>,
) -> Result<Response, ApiError> {
    let inputs = body.into_inputs().map_err(|e| ApiError::validation(&e))?;
    let done = s.usage().ingest(&who, inputs).await?;
    Ok(ok(IngestResult { received: done.received, ingested: done.ingested, duplicates: done.duplicates }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UsageQuery {
    /// First day, exactly YYYY-MM-DD (UTC, year 1970–9999), inclusive; by default the day the
    /// current billing period started, or the first of `end_date`'s month when `end_date` is
    /// before the period.
    #[param(value_type = Option<String>, format = Date)]
    start_date: Option<String>,
    /// Last day, exactly YYYY-MM-DD (UTC, year 1970–9999), inclusive; by default today (or
    /// `start_date` itself when that is after today). Before `start_date`, or a range longer
    /// than 366 days: 422 naming the bound given.
    #[param(value_type = Option<String>, format = Date)]
    end_date: Option<String>,
    /// Instead of dates: the last 7, 30, 90 or 365 days, today included (the analytics
    /// summary's periods). With `start_date` or `end_date`: 422.
    #[param(inline, value_type = Option<super::analytics::PeriodName>)]
    period: Option<Param<Period>>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct MessageUsage {
    total: i64,
    /// Every channel (`email`, `sms`, `whatsapp`, `voice`, `push`, `in_app`, `slack`), zeros
    /// included.
    by_channel: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct WorkflowUsage {
    /// Executions in the range.
    total: i64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ApiDay {
    #[schema(format = Date)]
    date: String,
    total: i64,
    errors: i64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ApiUsage {
    /// Requests in the range.
    total: i64,
    /// Failed requests among them.
    errors: i64,
    /// `errors / total`, rounded to 4 decimals (0 without requests).
    error_rate: f64,
    /// `GET /customers/{customer_id}/usage` only: every day of the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    by_day: Option<Vec<ApiDay>>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct StorageUsage {
    /// The last sample in the range (`null` without one).
    #[schema(required = true)]
    current_bytes: Option<i64>,
    /// The day of that sample.
    #[schema(required = true, format = Date)]
    as_of: Option<String>,
    /// The largest sample in the range.
    #[schema(required = true)]
    peak_bytes: Option<i64>,
}

/// A customer's usage totals over a range of UTC days.
#[derive(Serialize, ToSchema)]
pub(super) struct UsageSummary {
    #[schema(format = Date)]
    start_date: String,
    #[schema(format = Date)]
    end_date: String,
    messages: MessageUsage,
    workflow_executions: WorkflowUsage,
    api_requests: ApiUsage,
    storage: StorageUsage,
}

pub(super) fn summary(t: &UsageTotals) -> UsageSummary {
    let rate = if t.api_requests == 0 {
        0.0
    } else {
        // Figures, not money: a ratio for display.
        ((t.api_errors as f64 / t.api_requests as f64) * 10_000.0).round() / 10_000.0
    };
    UsageSummary {
        start_date: t.days.start.to_string(),
        end_date: t.days.end.to_string(),
        messages: MessageUsage {
            total: t.messages,
            by_channel: t.messages_by_channel.iter().map(|(c, n)| (c.as_str().to_owned(), *n)).collect(),
        },
        workflow_executions: WorkflowUsage { total: t.workflow_executions },
        api_requests: ApiUsage { total: t.api_requests, errors: t.api_errors, error_rate: rate, by_day: None },
        storage: StorageUsage {
            current_bytes: t.storage_current.map(|(_, b)| b),
            as_of: t.storage_current.map(|(d, _)| d.to_string()),
            peak_bytes: t.storage_peak,
        },
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct UsageDay {
    #[schema(format = Date)]
    date: String,
    /// Messages of every channel.
    messages: i64,
    workflow_executions: i64,
    api_requests: i64,
    api_errors: i64,
    /// The day's last storage sample; `null` on a day without one.
    #[schema(required = true)]
    storage_bytes: Option<i64>,
    /// The day's largest storage sample; `null` on a day without one.
    #[schema(required = true)]
    storage_peak_bytes: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CustomerUsage {
    customer_id: String,
    /// The `period` asked for; `null` for a date range (or the default).
    #[schema(required = true, value_type = Option<super::analytics::PeriodName>)]
    period: Option<&'static str>,
    #[schema(format = Date)]
    start_date: String,
    #[schema(format = Date)]
    end_date: String,
    messages: MessageUsage,
    workflow_executions: WorkflowUsage,
    api_requests: ApiUsage,
    storage: StorageUsage,
    /// Every day of the range, oldest first, zeros included.
    daily: Vec<UsageDay>,
}

fn report(customer_id: String, period: Option<Period>, r: &UsageReport) -> CustomerUsage {
    let mut summary = summary(&r.totals);
    summary.api_requests.by_day = Some(
        r.daily
            .iter()
            .map(|d| ApiDay { date: d.day.to_string(), total: d.api_requests, errors: d.api_errors })
            .collect(),
    );
    CustomerUsage {
        customer_id,
        period: period.map(Period::as_str),
        start_date: summary.start_date,
        end_date: summary.end_date,
        messages: summary.messages,
        workflow_executions: summary.workflow_executions,
        api_requests: summary.api_requests,
        storage: summary.storage,
        daily: r
            .daily
            .iter()
            .map(|d| UsageDay {
                date: d.day.to_string(),
                messages: d.messages,
                workflow_executions: d.workflow_executions,
                api_requests: d.api_requests,
                api_errors: d.api_errors,
                storage_bytes: d.storage_bytes,
                storage_peak_bytes: d.storage_peak_bytes,
            })
            .collect(),
    }
}

/// Customer Usage Statistics
///
/// One of your customers' usage over a range of UTC days, read from daily aggregates kept
/// as usage is ingested: message volume by channel, workflow executions, API requests (total,
/// errors, error rate and by day), storage (the last sample in the range and the peak), and a
/// daily series with every day of the range. The range is `start_date`..`end_date`
/// (exactly YYYY-MM-DD, years 1970–9999, both inclusive, at most 366 days), or `period`
/// (`7d`, `30d`, `90d`, `1y`: the days ending today); by default the customer's current billing period so far, from the
/// UTC day it started through today. A bad date, an `end_date` before `start_date`, or
/// `period` together with dates is 422 naming the field. Another partner's customer is 404.
#[utoipa::path(get, path = "/customers/{customer_id}/usage", tag = "Usage",
    params(("customer_id" = String, Path), UsageQuery),
    responses((status = 200, description = "The customer's usage", body = Envelope<CustomerUsage>)))]
pub(super) async fn customer_usage(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<UsageQuery>,
) -> Result<Response, ApiError> {
    let id = known_id("company", &id, "Customer")?;
    let query = partnerd_services::usage::UsageQuery {
        start_date: q.start_date,
        end_date: q.end_date,
        period: q.period.map(|p| p.0),
    };
    let u = s.usage().customer(&who, id, query).await?;
    Ok(ok(report(u.customer_id, u.period, &u.report)))
}
