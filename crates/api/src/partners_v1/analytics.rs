//! Analytics: `/partners/analytics/summary` and `/partners/analytics/reports…`.

use super::dto::{Envelope, Money, PagedEnvelope};
use super::{ApiError, ApiJson, Caller, PageQuery, Query, iso, ok, ok_page};
use super::{known_id, unknown_fields};
use crate::kernel::{FromParam, Param};
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use partnerd_domain::analytics::Period;
use partnerd_services::Services;
use partnerd_store::ReportRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) enum PeriodName {
    #[schema(rename = "7d")]
    Days7,
    #[schema(rename = "30d")]
    Days30,
    #[schema(rename = "90d")]
    Days90,
    #[schema(rename = "1y")]
    Year,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SummaryQuery {
    /// 7d, 30d, 90d or 1y (365 days); anything else: 422.
    #[param(inline, value_type = Option<PeriodName>, default = "30d")]
    period: Option<Param<Period>>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ListingFigures {
    /// The partner's listings now, of every status (active, draft and archived): always equal to
    /// `meta.total` of `GET /listings` without a `status` filter.
    total: u64,
    /// The average `seo_score` of those same listings (archived included), rounded half up
    /// (0 without listings).
    avg_seo_score: u64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CosellFigures {
    /// Opportunities the partner is party to created within the window.
    opportunities: u64,
    /// Value of those open or in progress at the end of the window.
    pipeline_value: Money,
    /// Value of those that became won within the window.
    won_value: Money,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ContentFigures {
    /// Listing content drafts generated within the window.
    generated: u64,
    /// Drafts published within the window.
    published: u64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Summary {
    /// The period asked for (`7d`…), or `YYYY-MM` in scheduled reports.
    period: String,
    listings: ListingFigures,
    cosell: CosellFigures,
    content: ContentFigures,
}

impl From<&partnerd_services::analytics::Summary> for Summary {
    fn from(s: &partnerd_services::analytics::Summary) -> Self {
        Summary {
            period: s.period.clone(),
            listings: ListingFigures { total: s.listings.total, avg_seo_score: s.listings.avg_seo_score },
            cosell: CosellFigures {
                opportunities: s.cosell.opportunities,
                pipeline_value: Money::from(s.cosell.pipeline_value),
                won_value: Money::from(s.cosell.won_value),
            },
            content: ContentFigures { generated: s.content.generated, published: s.content.published },
        }
    }
}

/// Get Summary
///
/// The window is the period ending now. `listings.total`: the partner's listings now, of every
/// status (active, draft, archived), the same set and number as `meta.total` of an unfiltered
/// `GET /listings`; `avg_seo_score`: the average score of that same set, rounded half up (0
/// without listings).
/// `cosell.opportunities`: opportunities the partner is party to created within the window;
/// `pipeline_value`: value of those open or in progress at the end of the window; `won_value`:
/// value of those that became won within the window. `content.generated` /
/// `content.published`: listing content drafts generated / published within the window.
#[utoipa::path(get, path = "/analytics/summary", tag = "Analytics", params(SummaryQuery),
    responses((status = 200, description = "The summary", body = Envelope<Summary>)))]
pub(super) async fn summary(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<SummaryQuery>,
) -> Result<Response, ApiError> {
    let p = q.period.map_or(Period::Days30, |p| p.0);
    Ok(ok(Summary::from(&s.analytics().summary(&who, p).await?)))
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum Trigger {
    OnDemand,
    Scheduled,
}

/// A stored report without its data.
#[derive(Serialize, ToSchema)]
pub(super) struct ReportHead {
    id: String,
    /// `partner_performance`.
    #[serde(rename = "type")]
    report_type: String,
    /// `7d`, `30d`, `90d`, `1y`, or `YYYY-MM` for scheduled reports.
    period: String,
    #[schema(format = DateTime)]
    period_start: String,
    #[schema(format = DateTime)]
    period_end: String,
    #[schema(value_type = Trigger)]
    trigger: String,
    #[schema(format = DateTime)]
    created_at: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct PipelineFigure {
    count: u64,
    value: f64,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct TopListing {
    id: String,
    title: String,
    seo_score: u32,
}

/// The snapshot taken when the report was made.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ReportData {
    summary: Summary,
    /// Per opportunity status.
    pipeline_by_status: BTreeMap<String, PipelineFigure>,
    /// The partner's best-scored listings.
    top_listings: Vec<TopListing>,
}

/// A stored report with its data.
#[derive(Serialize, ToSchema)]
pub(super) struct Report {
    id: String,
    /// `partner_performance`.
    #[serde(rename = "type")]
    report_type: String,
    /// `7d`, `30d`, `90d`, `1y`, or `YYYY-MM` for scheduled reports.
    period: String,
    #[schema(format = DateTime)]
    period_start: String,
    #[schema(format = DateTime)]
    period_end: String,
    #[schema(value_type = Trigger)]
    trigger: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(value_type = ReportData)]
    data: Value,
}

fn report_head(r: &ReportRecord) -> ReportHead {
    ReportHead {
        id: r.id.clone(),
        report_type: r.report_type.clone(),
        period: r.period.clone(),
        period_start: iso(r.period_start),
        period_end: iso(r.period_end),
        trigger: r.trigger.clone(),
        created_at: iso(r.created_at),
    }
}

fn report_full(r: &ReportRecord) -> Report {
    let h = report_head(r);
    Report {
        id: h.id,
        report_type: h.report_type,
        period: h.period,
        period_start: h.period_start,
        period_end: h.period_end,
        trigger: h.trigger,
        created_at: h.created_at,
        data: r.data.clone(),
    }
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum ReportType {
    PartnerPerformance,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = ReportInput)]
pub(super) struct CreateReportBody {
    /// `partner_performance` (the default).
    #[serde(rename = "type")]
    #[schema(value_type = Option<ReportType>)]
    report_type: Option<String>,
    /// 30d by default.
    #[schema(value_type = Option<PeriodName>)]
    period: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

/// Create Report
///
/// **Decision:** reports are stored snapshots. `type` is `partner_performance` (the default),
/// `period` 7d/30d/90d/1y (default 30d). Besides these on-demand reports, every partner gets a
/// `scheduled` report for the previous calendar month on the first of the month (period
/// `YYYY-MM`).
#[utoipa::path(post, path = "/analytics/reports", tag = "Analytics", request_body = CreateReportBody,
    responses((status = 201, description = "The report", body = Envelope<Report>)))]
pub(super) async fn create_report(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateReportBody>,
) -> Result<Response, ApiError> {
    let mut e = unknown_fields(&body.other, &[], "a report");
    let p = body.period.as_deref().map(|p| e.check("period", Period::parse(p))).unwrap_or(Some(Period::Days30));
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let report_type = body.report_type.as_deref().unwrap_or("partner_performance");
    let r = s.analytics().create_report(&who, report_type, p.expect("validated")).await?;
    Ok((StatusCode::CREATED, ok(report_full(&r))).into_response())
}

/// List Reports
///
/// Stored reports, newest first, without their data.
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `page`; `meta.next_cursor` is `null` on the last page and `meta.page` is 0 on a
/// page read by cursor. A cursor that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/analytics/reports", tag = "Analytics", params(PageQuery),
    responses((status = 200, description = "A page of reports", body = PagedEnvelope<ReportHead>)))]
pub(super) async fn list_reports(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let (at, per_page) = q.get();
    let page = s.analytics().list_reports(&who, &at.window, per_page).await?;
    Ok(ok_page(page.items.iter().map(report_head).collect(), &at, per_page, page.total, page.next.as_ref()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Csv,
}

impl FromParam for Format {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err("must be json or csv".to_owned()),
        }
    }
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum FormatName {
    Json,
    Csv,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReportQuery {
    /// Overrides Accept.
    #[param(inline, value_type = Option<FormatName>)]
    format: Option<Param<Format>>,
}

fn wants_csv(q: &ReportQuery, headers: &HeaderMap) -> bool {
    if let Some(Param(format)) = q.format {
        return format == Format::Csv;
    }
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.split(',').any(|m| m.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("text/csv"))
}

/// Get Report
///
/// JSON by default; `Accept: text/csv` or `?format=csv` downloads it as CSV with the columns
/// `section,metric,value`.
#[utoipa::path(get, path = "/analytics/reports/{id}", tag = "Analytics", params(("id" = String, Path), ReportQuery),
    responses((status = 200, description = "The report", content(
        (Envelope<Report> = "application/json"),
        (String = "text/csv"),
    ))))]
pub(super) async fn get_report(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers);
    known_id("report", &id, "Report")?;
    let r = s.analytics().get_report(&who, &id).await?;
    if !csv {
        return Ok(ok(report_full(&r)));
    }
    let disposition = format!("attachment; filename=\"{}.csv\"", r.id);
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (CONTENT_DISPOSITION, disposition)], to_csv(&r))
        .into_response())
}

/// One row per figure: `section,metric,value`.
fn to_csv(r: &ReportRecord) -> String {
    let mut rows: Vec<[String; 3]> = vec![
        ["report".into(), "id".into(), r.id.clone()],
        ["report".into(), "type".into(), r.report_type.clone()],
        ["report".into(), "period".into(), r.period.clone()],
        ["report".into(), "period_start".into(), iso(r.period_start)],
        ["report".into(), "period_end".into(), iso(r.period_end)],
    ];
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(summary) = r.data.get("summary").and_then(Value::as_object) {
        for (group, figures) in summary {
            if let Some(figures) = figures.as_object() {
                for (name, v) in figures {
                    rows.push(["summary".into(), format!("{group}.{name}"), text(v)]);
                }
            }
        }
    }
    if let Some(pipeline) = r.data.get("pipeline_by_status").and_then(Value::as_object) {
        for (status, v) in pipeline {
            rows.push(["pipeline".into(), format!("{status}.count"), text(&v["count"])]);
            rows.push(["pipeline".into(), format!("{status}.value"), text(&v["value"])]);
        }
    }
    if let Some(top) = r.data.get("top_listings").and_then(Value::as_array) {
        for l in top {
            rows.push([
                "top_listings".into(),
                format!("{} {}", text(&l["id"]), text(&l["title"])),
                text(&l["seo_score"]),
            ]);
        }
    }
    let mut out = String::from("section,metric,value\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting; a leading `=+-@` is prefixed with `'` so spreadsheets do not run it.
fn csv_field(f: &str) -> String {
    let f =
        if f.starts_with(['=', '+', '-', '@']) && f.parse::<f64>().is_err() { format!("'{f}") } else { f.to_owned() };
    if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-5"), "-5", "numbers stay numbers");
    }
}
