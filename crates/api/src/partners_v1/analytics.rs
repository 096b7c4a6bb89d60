//! Analytics: `/partners/analytics/summary` and `/partners/analytics/reports…`.

use super::{ApiError, Caller, iso, ok, ok_page};
use super::{known_id, page_offset, unknown_fields};
use crate::extract::ApiJson;
use crate::query::{QueryParams, paging};
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_domain::analytics::Period;
use partnerd_services::Services;
use partnerd_store::ReportRecord;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn period(q: &QueryParams, e: &mut ValidationErrors) -> Period {
    q.get("period").and_then(|p| e.check("period", Period::parse(p))).unwrap_or(Period::Days30)
}

pub async fn summary(State(s): State<Services>, Caller(who): Caller, q: QueryParams) -> Result<Response, ApiError> {
    let mut e = ValidationErrors::new();
    let p = period(&q, &mut e);
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    Ok(ok(s.analytics().summary(&who, p).await?))
}

fn report_head(r: &ReportRecord) -> Value {
    json!({
        "id": r.id,
        "type": r.report_type,
        "period": r.period,
        "period_start": iso(r.period_start),
        "period_end": iso(r.period_end),
        "trigger": r.trigger,
        "created_at": iso(r.created_at),
    })
}

fn report_full(r: &ReportRecord) -> Value {
    let mut v = report_head(r);
    v["data"] = r.data.clone();
    v
}

#[derive(Deserialize)]
pub struct CreateReportBody {
    #[serde(rename = "type")]
    report_type: Option<String>,
    period: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

pub async fn create_report(
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

pub async fn list_reports(
    State(s): State<Services>,
    Caller(who): Caller,
    q: QueryParams,
) -> Result<Response, ApiError> {
    let mut e = ValidationErrors::new();
    let (page, per_page) = paging(&q, &mut e);
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let (items, total) = s.analytics().list_reports(&who, page_offset(page, per_page), per_page).await?;
    Ok(ok_page(items.iter().map(report_head).collect(), page, per_page, total))
}

fn wants_csv(q: &QueryParams, headers: &HeaderMap) -> Result<bool, ApiError> {
    match q.get("format") {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(_) => return Err(ApiError::validation_single("format", "must be json or csv")),
        None => {}
    }
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(accept.split(',').any(|m| m.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("text/csv")))
}

pub async fn get_report(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    q: QueryParams,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers)?;
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
