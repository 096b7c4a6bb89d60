//! Support and Ticketing: `/partners/support/tickets…`.

use super::customers::{Limit, Offset, OffsetEnvelope, ok_offset};
use super::dto::Envelope;
use super::{ApiError, ApiJson, Caller, Query, iso, known_id, ok, refuse_unknown_fields};
use crate::kernel::{self, FromParam, Param};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ticket::{TicketCategory, TicketPriority, TicketStatus};
use partnerd_services::Services;
use partnerd_services::tickets::{HistoryEntry, NewComment, NewRating, NewTicket, TicketChange};
use partnerd_store::{Cursor, TicketFilter, TicketRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

impl FromParam for TicketStatus {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw.trim())
    }
}

impl FromParam for TicketPriority {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw.trim())
    }
}

impl FromParam for TicketCategory {
    fn from_param(raw: &str) -> Result<Self, String> {
        Self::parse(raw.trim())
    }
}

#[derive(ToSchema)]
#[schema(as = TicketStatus, rename_all = "snake_case")]
#[allow(dead_code)]
pub(super) enum TicketStatusName {
    Open,
    InProgress,
    WaitingOnCustomer,
    Resolved,
    Closed,
}

#[derive(ToSchema)]
#[schema(as = TicketPriority, rename_all = "snake_case")]
#[allow(dead_code)]
enum TicketPriorityName {
    Low,
    Medium,
    High,
    Urgent,
}

#[derive(ToSchema)]
#[schema(as = TicketCategory, rename_all = "snake_case")]
#[allow(dead_code)]
enum TicketCategoryName {
    Technical,
    Billing,
    Account,
    Other,
}

#[derive(ToSchema)]
#[schema(as = CommentAuthor, rename_all = "snake_case")]
#[allow(dead_code)]
enum CommentAuthorName {
    Partner,
    Customer,
}

#[derive(ToSchema)]
#[schema(as = TicketHistoryType, rename_all = "snake_case")]
#[allow(dead_code)]
enum HistoryKindName {
    Created,
    StatusChanged,
    PriorityChanged,
    CommentAdded,
    Rated,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TicketInput)]
pub(super) struct CreateBody {
    /// One of your customer accounts (`GET /customers`); another partner's or an unknown one is
    /// 422 naming `customer_id`.
    #[schema(required = true)]
    customer_id: Option<String>,
    /// 1–200 characters once trimmed.
    #[schema(required = true, max_length = 200)]
    subject: Option<String>,
    /// 1–10000 characters once trimmed.
    #[schema(required = true, max_length = 10000)]
    description: Option<String>,
    /// `medium` by default.
    #[schema(value_type = Option<TicketPriorityName>)]
    priority: Option<String>,
    /// `other` by default.
    #[schema(value_type = Option<TicketCategoryName>)]
    category: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TicketUpdate)]
pub(super) struct PatchBody {
    #[schema(value_type = Option<TicketStatusName>)]
    status: Option<String>,
    #[schema(value_type = Option<TicketPriorityName>)]
    priority: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TicketCommentInput)]
pub(super) struct CommentBody {
    /// 1–10000 characters once trimmed.
    #[schema(required = true, max_length = 10000)]
    body: Option<String>,
    /// `partner` (your staff; the default) or `customer` (a reply of the customer you relay).
    #[schema(value_type = Option<CommentAuthorName>)]
    author: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TicketRatingInput)]
pub(super) struct RatingBody {
    /// A whole number from 1 to 5.
    #[schema(required = true, minimum = 1, maximum = 5)]
    rating: Option<i64>,
    /// At most 2000 characters; empty or absent: none.
    #[schema(max_length = 2000)]
    comment: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

/// Fields of a GET a client may echo back in a PATCH; ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "customer_id",
    "customer_name",
    "subject",
    "description",
    "category",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "satisfaction",
    "comment_count",
    "history",
];

#[derive(Serialize, ToSchema)]
pub(super) struct Satisfaction {
    /// 1–5.
    rating: u16,
    #[schema(required = true)]
    comment: Option<String>,
    #[schema(format = DateTime)]
    rated_at: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct HistoryItem {
    #[serde(rename = "type")]
    #[schema(value_type = HistoryKindName)]
    kind: &'static str,
    #[schema(format = DateTime)]
    timestamp: String,
    /// The e-mail of the user whose key made the change.
    #[schema(required = true)]
    actor: Option<String>,
    /// `status_changed` and `priority_changed`: the value before (`created`: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'static str>,
    /// `status_changed` and `priority_changed`: the value after; `created`: `open`.
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'static str>,
    /// `comment_added`.
    #[serde(skip_serializing_if = "Option::is_none")]
    comment_id: Option<String>,
    /// `comment_added`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CommentAuthorName>)]
    author: Option<&'static str>,
    /// `comment_added`.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    /// `rated`: 1–5.
    #[serde(skip_serializing_if = "Option::is_none")]
    rating: Option<u8>,
    /// `rated`: the rating's comment, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    rating_comment: Option<String>,
}

fn history_item(h: &HistoryEntry) -> HistoryItem {
    HistoryItem {
        kind: h.kind.as_str(),
        timestamp: iso(h.timestamp),
        actor: h.actor.clone(),
        from: h.from,
        to: h.to,
        comment_id: h.comment_id.clone(),
        author: h.author.map(|a| a.as_str()),
        body: h.body.clone(),
        rating: h.rating,
        rating_comment: h.rating_comment.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct Ticket {
    id: String,
    customer_id: String,
    /// The customer company's name.
    customer_name: String,
    subject: String,
    description: String,
    #[schema(value_type = TicketStatusName)]
    status: &'static str,
    #[schema(value_type = TicketPriorityName)]
    priority: &'static str,
    #[schema(value_type = TicketCategoryName)]
    category: &'static str,
    comment_count: u32,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// The first partner response: the first comment with `author` `partner` or the first move
    /// to `in_progress`, whichever came first; `null` until then.
    #[schema(format = DateTime, required = true)]
    first_response_at: Option<String>,
    /// The latest move to `resolved`; cleared when the ticket is reopened.
    #[schema(format = DateTime, required = true)]
    resolved_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    closed_at: Option<String>,
    /// The customer's satisfaction rating, once given.
    #[schema(required = true, nullable = true)]
    satisfaction: Option<Satisfaction>,
    /// `GET /support/tickets/{ticket_id}` only: the ticket's history, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<HistoryItem>>,
}

fn ticket(t: &TicketRecord) -> Ticket {
    Ticket {
        id: t.id.clone(),
        customer_id: t.customer_id.clone(),
        customer_name: t.customer_name.clone(),
        subject: t.subject.clone(),
        description: t.description.clone(),
        status: t.status.as_str(),
        priority: t.priority.as_str(),
        category: t.category.as_str(),
        comment_count: t.comment_count,
        created_at: iso(t.created_at),
        updated_at: iso(t.updated_at),
        first_response_at: t.first_response_at.map(iso),
        resolved_at: t.resolved_at.map(iso),
        closed_at: t.closed_at.map(iso),
        satisfaction: match (t.rating, t.rated_at) {
            (Some(rating), Some(at)) => {
                Some(Satisfaction { rating, comment: t.rating_comment.clone(), rated_at: iso(at) })
            }
            _ => None,
        },
        history: None,
    }
}

fn ticket_id(id: &str) -> Result<&str, ApiError> {
    known_id("ticket", id, "Ticket")
}

fn refuse_unknown(other: &BTreeMap<String, Value>, ignored: &[&str]) -> Result<(), ApiError> {
    refuse_unknown_fields(other, ignored, "a ticket")
}

/// Create Support Ticket
///
/// Opens a ticket (`status` `open`) about one of your customer accounts. `customer_id`,
/// `subject` (1–200 characters) and `description` (1–10000) are required; `priority` is
/// `low`, `medium` (default), `high` or `urgent`; `category` is `technical`, `billing`,
/// `account` or `other` (default). **Decision:** a `customer_id` that is not one of your
/// customer accounts (another partner's, or none) is 422 naming `customer_id`, worded the
/// same either way; a cancelled account may still have tickets. Appends `ticket.created` (a
/// partnerd addition to the webhook catalog).
#[utoipa::path(post, path = "/support/tickets", tag = "Support", request_body = CreateBody,
    responses((status = 201, description = "The ticket", body = Envelope<Ticket>)))]
pub(super) async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, &[])?;
    let input = NewTicket {
        customer_id: body.customer_id,
        subject: body.subject,
        description: body.description,
        priority: body.priority,
        category: body.category,
    };
    let t = s.tickets().create(&who, input).await?;
    Ok((StatusCode::CREATED, ok(ticket(&t))).into_response())
}

/// Get Ticket Status
///
/// The ticket with its status, times, satisfaction rating and `history`, oldest first, read
/// from the event log: `created` (`to`: `open`), `status_changed` and `priority_changed`
/// (`from`, `to`), `comment_added` (`comment_id`, `author`, `body`) and `rated` (`rating`,
/// `rating_comment`); `actor` is the acting user's e-mail. Another partner's ticket is 404.
#[utoipa::path(get, path = "/support/tickets/{ticket_id}", tag = "Support", params(("ticket_id" = String, Path)),
    responses((status = 200, description = "The ticket and its history", body = Envelope<Ticket>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let tickets = s.tickets();
    let t = tickets.get(&who, ticket_id(&id)?).await?;
    let history = tickets.history(&who, &t).await?;
    Ok(ok(Ticket { history: Some(history.iter().map(history_item).collect()), ..ticket(&t) }))
}

/// Update Ticket
///
/// Changes `status` and/or `priority`; fields not given stay. **Decision: the status
/// machine** — `open → in_progress`; `in_progress → waiting_on_customer` or `resolved`;
/// `waiting_on_customer → in_progress`; `resolved → closed`, or `resolved → open` to reopen
/// it; `closed` is final (a new problem is a new ticket). Staying in the same status is no
/// change. A refused move is 422 with `details.status` naming the current status and the
/// allowed moves, and nothing of the request is applied. The first move to `in_progress`
/// sets `first_response_at` unless a partner comment set it earlier; a move to `resolved`
/// sets `resolved_at` (reopening clears it and `closed_at`); a move to `closed` sets
/// `closed_at`. Appends `ticket.updated` with `changes: {status|priority: {old, new}}`.
/// Another partner's ticket is 404.
#[utoipa::path(patch, path = "/support/tickets/{ticket_id}", tag = "Support", params(("ticket_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "The ticket", body = Envelope<Ticket>)))]
pub(super) async fn update(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, READ_ONLY)?;
    let change = TicketChange { status: body.status, priority: body.priority };
    let t = s.tickets().update(&who, ticket_id(&id)?, &change).await?;
    Ok(ok(ticket(&t)))
}

#[derive(Serialize, ToSchema)]
pub(super) struct CommentAdded {
    /// The new comment's id (it appears in the ticket's `history`).
    comment_id: String,
    ticket: Ticket,
}

/// Add Ticket Comment
///
/// Adds a comment (1–10000 characters) by `author` `partner` (your staff, the default) or
/// `customer` (a customer's reply you relay). **Decision:** comments are kept in the ticket's
/// event log and shown in its `history`; the first `partner` comment sets
/// `first_response_at` unless the ticket moved to `in_progress` first; a closed ticket takes
/// no comments (422 naming `body`). Status does not change by itself. Another partner's
/// ticket is 404.
#[utoipa::path(post, path = "/support/tickets/{ticket_id}/comments", tag = "Support",
    params(("ticket_id" = String, Path)), request_body = CommentBody,
    responses((status = 201, description = "The comment's id and the ticket", body = Envelope<CommentAdded>)))]
pub(super) async fn comment(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, &[])?;
    let input = NewComment { body: body.body, author: body.author };
    let (t, comment_id) = s.tickets().comment(&who, ticket_id(&id)?, &input).await?;
    Ok((StatusCode::CREATED, ok(CommentAdded { comment_id, ticket: ticket(&t) })).into_response())
}

/// Rate Ticket
///
/// Records the customer's satisfaction: `rating` 1–5 and an optional `comment` (at most 2000
/// characters). **Decision:** allowed only while the ticket is `resolved` or `closed` (else
/// 422 naming `rating` and the current status); rating again replaces the earlier rating
/// (metrics count the latest, at its time). Appends `ticket.rated` (in the history, not a
/// webhook event). Another partner's ticket is 404.
#[utoipa::path(put, path = "/support/tickets/{ticket_id}/rating", tag = "Support",
    params(("ticket_id" = String, Path)), request_body = RatingBody,
    responses((status = 200, description = "The ticket", body = Envelope<Ticket>)))]
pub(super) async fn rate(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RatingBody>,
) -> Result<Response, ApiError> {
    refuse_unknown(&body.other, &["rated_at"])?;
    let input = NewRating { rating: body.rating, comment: body.comment };
    let t = s.tickets().rate(&who, ticket_id(&id)?, &input).await?;
    Ok(ok(ticket(&t)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// 1–100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<Limit>,
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    offset: Option<Offset>,
    #[param(inline, value_type = Option<TicketStatusName>)]
    status: Option<Param<TicketStatus>>,
    #[param(inline, value_type = Option<TicketPriorityName>)]
    priority: Option<Param<TicketPriority>>,
    #[param(inline, value_type = Option<TicketCategoryName>)]
    category: Option<Param<TicketCategory>>,
    /// One of your customer accounts (another id matches nothing).
    customer_id: Option<String>,
    /// Beyond the document: `meta.next_cursor` of the previous page, for keyset paging (each
    /// page costs the same at any depth, and rows written meanwhile neither repeat nor vanish).
    /// `offset` is then not used, and `meta.offset` is 0.
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

/// List Support Tickets
///
/// Your tickets, newest first, filtered by `status`, `priority`, `category` and
/// `customer_id` (all that are given); `meta` has `limit`, `offset` and the `total`
/// matching. Items carry no `history` (read one ticket for it).
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `offset`; `meta.next_cursor` is `null` on the last page and `meta.offset` is 0 on
/// a page read by cursor. A cursor holds only the position in the order (keep the filters the
/// same while following it); one that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/support/tickets", tag = "Support", params(ListQuery),
    responses((status = 200, description = "A page of tickets", body = OffsetEnvelope<Ticket>)))]
pub(super) async fn list(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (limit, offset) = (q.limit.map_or(20, |l| l.0), q.offset.map_or(0, |o| u64::from(o.0)));
    let filter = TicketFilter {
        status: q.status.map(|p| p.0),
        priority: q.priority.map(|p| p.0),
        category: q.category.map(|p| p.0),
        customer_id: q.customer_id.map(|c| c.trim().to_owned()),
    };
    let window = kernel::window(q.cursor, offset);
    let page = s.tickets().list(&who, &filter, &window, limit).await?;
    Ok(ok_offset(page.items.iter().map(ticket).collect(), limit, &window, page.total, page.next.as_ref()))
}
