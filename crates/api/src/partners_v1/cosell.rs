//! Co-Sell Operations: `/partners/cosell/opportunities…`.

use super::dto::{Envelope, Money, PagedEnvelope};
use super::{ApiError, ApiJson, Caller, Page, PerPage, Query, iso, ok, ok_page};
use super::{PageAt, known_id, paging, unknown_fields};
use crate::kernel::{FromParam, Param};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::money::AmountInput;
use partnerd_services::cosell::{NewOpportunity, OpportunityChange, TimelineEntry, TimelineValue};
use partnerd_services::{Principal, Services};
use partnerd_store::{Cursor, OpportunityFilter, OpportunityRecord};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A positive amount with at most two decimals, as a number or a string; USD; at most
/// 1000000000000 (one trillion: larger is 422 naming the field).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AmountInput)]
#[allow(dead_code)]
enum AmountInputSchema {
    Number(f64),
    Text(String),
}

#[derive(ToSchema)]
#[schema(as = OpportunityStatus, rename_all = "snake_case")]
#[allow(dead_code)]
pub(super) enum OpportunityStatusName {
    Open,
    InProgress,
    Won,
    Lost,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = OpportunityInput)]
pub(super) struct CreateBody {
    #[schema(required = true, max_length = 200)]
    customer_name: Option<String>,
    #[schema(value_type = AmountInputSchema, required = true)]
    deal_value: Option<AmountInput>,
    /// Another partner of the marketplace.
    #[schema(required = true)]
    partner_id: Option<String>,
    #[schema(max_length = 5000)]
    description: Option<String>,
    /// YYYY-MM-DD.
    #[schema(format = Date)]
    expected_close_date: Option<String>,
    #[schema(max_length = 5000)]
    notes: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = OpportunityPatch)]
pub(super) struct PatchBody {
    #[schema(value_type = Option<OpportunityStatusName>)]
    status: Option<String>,
    #[schema(value_type = Option<AmountInputSchema>)]
    deal_value: Option<AmountInput>,
    notes: Option<String>,
    customer_name: Option<String>,
    description: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    expected_close_date: Option<Option<String>>,
    #[serde(flatten)]
    #[schema(ignore)]
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

/// The other party of an opportunity.
#[derive(Serialize, ToSchema)]
pub(super) struct PartyRef {
    id: String,
    company_name: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Opportunity {
    id: String,
    customer_name: String,
    deal_value: Money,
    /// `USD`.
    currency: String,
    #[schema(value_type = OpportunityStatusName)]
    status: &'static str,
    /// The other party: the co-sell partner for deals you shared, the sharing partner for deals
    /// shared with you.
    partner: PartyRef,
    /// The partner that shared the deal.
    owner_partner_id: String,
    description: String,
    #[schema(format = Date, required = true)]
    expected_close_date: Option<String>,
    notes: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

/// The opportunity as the viewer sees it: `partner` is the other party.
fn opportunity(o: &OpportunityRecord, viewer: &Principal) -> Opportunity {
    let viewer_partner = viewer.partner.as_ref().map(|p| p.id.as_str()).unwrap_or_default();
    let (other_id, other_name) = if o.owner_partner_id == viewer_partner {
        (&o.cosell_partner_id, &o.cosell_company_name)
    } else {
        (&o.owner_partner_id, &o.owner_company_name)
    };
    Opportunity {
        id: o.id.clone(),
        customer_name: o.customer_name.clone(),
        deal_value: Money::of(o.deal_value_cents),
        currency: o.currency.clone(),
        status: o.status.as_str(),
        partner: PartyRef { id: other_id.clone(), company_name: other_name.clone() },
        owner_partner_id: o.owner_partner_id.clone(),
        description: o.description.clone(),
        expected_close_date: o.expected_close_date.map(|d| d.to_string()),
        notes: o.notes.clone(),
        created_at: iso(o.created_at),
        updated_at: iso(o.updated_at),
    }
}

fn opportunity_id(id: &str) -> Result<&str, ApiError> {
    known_id("opp", id, "Opportunity")
}

/// An ISO-8601 date-time, or a date meaning its midnight UTC.
pub(super) struct Instant(DateTime<Utc>);

impl FromParam for Instant {
    fn from_param(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN).and_utc()))
            .map(Instant)
            .map_err(|_| "must be an ISO-8601 date-time such as 2025-01-05T09:00:00Z".to_owned())
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    #[param(inline, value_type = Option<OpportunityStatusName>)]
    status: Option<Param<OpportunityStatus>>,
    /// The other party.
    partner_id: Option<String>,
    /// ISO-8601 date-time; a date alone means its midnight UTC.
    #[param(value_type = Option<String>, format = DateTime)]
    created_after: Option<Param<Instant>>,
    /// From 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    page: Option<Page>,
    /// Above 100: 422.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    per_page: Option<PerPage>,
    /// Beyond the document: `meta.next_cursor` of the previous page (keyset paging; `page` is
    /// then not used).
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

/// List Opportunities
///
/// Opportunities the partner is party to, either side, newest first. In every item `partner`
/// is the other party: the co-sell partner for deals you shared, the sharing partner for deals
/// shared with you; the `partner_id` filter means that other party.
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `page`; `meta.next_cursor` is `null` on the last page and `meta.page` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters the
/// same while following it); one that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/cosell/opportunities", tag = "Co-Sell", params(ListQuery),
    responses((status = 200, description = "A page of opportunities", body = PagedEnvelope<Opportunity>)))]
pub(super) async fn list(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let at = PageAt::new(page, per_page, q.cursor);
    let filter = OpportunityFilter {
        status: q.status.map(|p| p.0),
        other_partner_id: q.partner_id,
        created_after: q.created_after.map(|p| p.0.0),
    };
    let result = s.cosell().list(&who, &filter, &at.window, per_page).await?;
    let items = result.items.iter().map(|o| opportunity(o, &who)).collect();
    Ok(ok_page(items, &at, per_page, result.total, result.next.as_ref()))
}

/// Create Opportunity
///
/// `customer_name` (required), `deal_value` (required; a positive amount with at most two
/// decimals, number or string; USD), `partner_id` (required; another partner of the
/// marketplace), `description`, `expected_close_date` (YYYY-MM-DD), `notes`. Starts `open`.
/// Appends `opportunity.created`, visible to both partners.
#[utoipa::path(post, path = "/cosell/opportunities", tag = "Co-Sell", request_body = CreateBody,
    responses((status = 201, description = "The opportunity", body = Envelope<Opportunity>)))]
pub(super) async fn create(
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

/// Get Opportunity
///
/// Either partner may read it; anyone else gets 404.
#[utoipa::path(get, path = "/cosell/opportunities/{id}", tag = "Co-Sell", params(("id" = String, Path)),
    responses((status = 200, description = "The opportunity", body = Envelope<Opportunity>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let o = s.cosell().get(&who, opportunity_id(&id)?).await?;
    Ok(ok(opportunity(&o, &who)))
}

/// Update Opportunity
///
/// Either partner may update `status`, `deal_value`, `notes`, `customer_name`, `description`
/// and `expected_close_date` (null clears it). `partner_id` cannot change. Status follows open
/// → in_progress, won or lost; in_progress → won or lost; won and lost are final. A refused change is 422 with
/// `details.status` naming the allowed targets, and nothing of the request is applied. Appends
/// `opportunity.status_changed` (`from`, `to`) and/or `opportunity.updated`
/// (`changes: {field: {old, new}}`).
#[utoipa::path(patch, path = "/cosell/opportunities/{id}", tag = "Co-Sell", params(("id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "The opportunity", body = Envelope<Opportunity>)))]
pub(super) async fn update(
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

#[derive(Serialize, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum TimelineType {
    Created,
    StatusChanged,
    ValueChanged,
    NoteAdded,
    Updated,
}

#[derive(Serialize, ToSchema)]
pub(super) struct TimelineEvent {
    #[serde(rename = "type")]
    #[schema(value_type = TimelineType)]
    kind: &'static str,
    /// For `updated`: the field that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    /// The value before: a status, an amount, a text or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    from: Option<TimelineValue>,
    /// The value after.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    to: Option<TimelineValue>,
    /// For `note_added`.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[schema(format = DateTime)]
    timestamp: String,
    /// The acting user's e-mail.
    #[schema(required = true)]
    actor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Timeline {
    events: Vec<TimelineEvent>,
}

fn timeline_entry(t: &TimelineEntry) -> TimelineEvent {
    TimelineEvent {
        kind: t.kind.as_str(),
        field: t.field,
        from: t.from.clone(),
        to: t.to.clone(),
        note: t.note.clone(),
        timestamp: iso(t.timestamp),
        actor: t.actor.clone(),
    }
}

/// Get Opportunity Timeline
///
/// Built from the event log, oldest first. Types: `created`; `status_changed` (`from`, `to`);
/// `value_changed` (`from`, `to`); `note_added` (`note`); `updated` (`field`, `from`, `to`) for
/// other fields. `actor` is the acting user's e-mail.
#[utoipa::path(get, path = "/cosell/opportunities/{id}/timeline", tag = "Co-Sell", params(("id" = String, Path)),
    responses((status = 200, description = "The timeline", body = Envelope<Timeline>)))]
pub(super) async fn timeline(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let entries = s.cosell().timeline(&who, opportunity_id(&id)?).await?;
    Ok(ok(Timeline { events: entries.iter().map(timeline_entry).collect() }))
}
