//! Co-Sell Operations: `/partners/cosell/opportunities…`.

use super::{ApiError, Caller, iso, ok, ok_page};
use super::{known_id, page_offset, unknown_fields};
use crate::extract::ApiJson;
use crate::query::{QueryParams, paging};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::money::{Amount, AmountInput};
use partnerd_services::cosell::{NewOpportunity, OpportunityChange, TimelineEntry};
use partnerd_services::{Principal, Services};
use partnerd_store::{OpportunityFilter, OpportunityRecord};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub struct CreateBody {
    customer_name: Option<String>,
    deal_value: Option<AmountInput>,
    partner_id: Option<String>,
    description: Option<String>,
    expected_close_date: Option<String>,
    notes: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
pub struct PatchBody {
    status: Option<String>,
    deal_value: Option<AmountInput>,
    notes: Option<String>,
    customer_name: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    expected_close_date: Option<Option<String>>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Fields a client may echo back from a GET; ignored on writes.
const READ_ONLY: &[&str] = &["id", "status", "partner", "created_at", "updated_at", "currency", "owner_partner_id"];

fn refuse_unknown(other: &BTreeMap<String, Value>, read_only: &[&str]) -> Result<(), ApiError> {
    let mut e = unknown_fields(other, read_only, "an opportunity");
    if other.contains_key("partner_id") {
        e = e.without_field("partner_id");
        e.add("partner_id", "cannot be changed: create a new opportunity with the other partner");
    }
    e.into_result().map_err(|e| ApiError::validation(&e))
}

/// The opportunity as the viewer sees it: `partner` is the other party.
fn opportunity(o: &OpportunityRecord, viewer: &Principal) -> Value {
    let viewer_partner = viewer.partner.as_ref().map(|p| p.id.as_str()).unwrap_or_default();
    let (other_id, other_name) = if o.owner_partner_id == viewer_partner {
        (&o.cosell_partner_id, &o.cosell_company_name)
    } else {
        (&o.owner_partner_id, &o.owner_company_name)
    };
    json!({
        "id": o.id,
        "customer_name": o.customer_name,
        "deal_value": Amount::from_cents(o.deal_value_cents),
        "currency": o.currency,
        "status": o.status.as_str(),
        "partner": { "id": other_id, "company_name": other_name },
        "owner_partner_id": o.owner_partner_id,
        "description": o.description,
        "expected_close_date": o.expected_close_date.map(|d| d.to_string()),
        "notes": o.notes,
        "created_at": iso(o.created_at),
        "updated_at": iso(o.updated_at),
    })
}

fn opportunity_id(id: &str) -> Result<&str, ApiError> {
    known_id("opp", id, "Opportunity")
}

/// An ISO-8601 date-time, or a date meaning its midnight UTC.
fn instant(raw: &str) -> Result<DateTime<Utc>, &'static str> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
        .map_err(|_| "must be an ISO-8601 date-time such as 2025-01-05T09:00:00Z")
}

pub async fn list(State(s): State<Services>, Caller(who): Caller, q: QueryParams) -> Result<Response, ApiError> {
    let mut e = ValidationErrors::new();
    let (page, per_page) = paging(&q, &mut e);
    let filter = OpportunityFilter {
        status: q.get("status").and_then(|v| e.check("status", OpportunityStatus::parse(v))),
        other_partner_id: q.get("partner_id").map(str::to_owned),
        created_after: q.get("created_after").and_then(|v| e.check("created_after", instant(v))),
    };
    e.into_result().map_err(|e| ApiError::validation(&e))?;
    let result = s.cosell().list(&who, &filter, page_offset(page, per_page), per_page).await?;
    let items = result.items.iter().map(|o| opportunity(o, &who)).collect();
    Ok(ok_page(items, page, per_page, result.total))
}

pub async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, &[])?;
    let input = NewOpportunity {
        customer_name: body.customer_name,
        deal_value: body.deal_value,
        partner_id: body.partner_id,
        description: body.description,
        expected_close_date: body.expected_close_date,
        notes: body.notes,
    };
    let o = s.cosell().create(&who, input).await?;
    Ok((StatusCode::CREATED, ok(opportunity(&o, &who))).into_response())
}

pub async fn get(State(s): State<Services>, Caller(who): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let o = s.cosell().get(&who, opportunity_id(&id)?).await?;
    Ok(ok(opportunity(&o, &who)))
}

pub async fn update(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, READ_ONLY)?;
    let change = OpportunityChange {
        status: body.status,
        deal_value: body.deal_value,
        notes: body.notes,
        customer_name: body.customer_name,
        description: body.description,
        expected_close_date: body.expected_close_date,
    };
    let o = s.cosell().update(&who, opportunity_id(&id)?, &change).await?;
    Ok(ok(opportunity(&o, &who)))
}

fn timeline_entry(t: &TimelineEntry) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), t.kind.as_str().into());
    if let Some(f) = t.field {
        m.insert("field".into(), f.into());
    }
    if let Some(v) = &t.from {
        m.insert("from".into(), json!(v));
    }
    if let Some(v) = &t.to {
        m.insert("to".into(), json!(v));
    }
    if let Some(n) = &t.note {
        m.insert("note".into(), n.clone().into());
    }
    m.insert("timestamp".into(), iso(t.timestamp).into());
    m.insert("actor".into(), t.actor.clone().into());
    Value::Object(m)
}

pub async fn timeline(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let entries = s.cosell().timeline(&who, opportunity_id(&id)?).await?;
    Ok(ok(json!({ "events": entries.iter().map(timeline_entry).collect::<Vec<_>>() })))
}
