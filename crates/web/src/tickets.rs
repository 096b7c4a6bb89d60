//! Support tickets (`partner-reseller-api.txt`, support and ticketing): the partner's tickets
//! with the API's filters (`status`, `priority`, `category`, `customer_id`) and paging, the
//! create form, and a ticket with its conversation (its history, read from the event log as
//! the API's), a reply form, the status moves the domain's machine allows from where it is,
//! priority, and the customer's satisfaction rating once resolved. Every write is the API's
//! service call, so the same validation and the same events.

use crate::Web;
use crate::customers::{account_choices, customer_href};
use crate::forms::given;
use crate::html::{
    Field, Nav, action_button, any_of, badge, csrf_field, done_notice, esc, link, maybe_time, other_errors, page,
    pager, select, table, time, urlenc, with_first,
};
use crate::list::{PER_PAGE, offset_of, optional, page_number, param, params, query_of};
use crate::session::{PageError, PageResult, PartnerUser, html, keep_nav, see_other};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_domain::ticket::{CommentAuthor, TicketCategory, TicketPriority, TicketStatus};
use partnerd_services::ErrorKind;
use partnerd_services::tickets::{HistoryEntry, HistoryKind, NewComment, NewRating, NewTicket, TicketChange};
use partnerd_services::users::WebSession;
use partnerd_store::{Paged, Window};
use partnerd_store::{TicketFilter, TicketRecord};
use serde::Deserialize;
use std::fmt::Write;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/tickets", get(list_page).post(create))
        .route("/tickets/new", get(new_page))
        .route("/tickets/{id}", get(detail_page))
        .route("/tickets/{id}/comments", post(add_comment))
        .route("/tickets/{id}/status", post(set_status))
        .route("/tickets/{id}/priority", post(set_priority))
        .route("/tickets/{id}/rating", post(rate))
}

fn ticket_href(id: &str) -> String {
    format!("/dashboard/tickets/{}", urlenc(id))
}

// ---- list ----

fn list_row(t: &TicketRecord) -> Vec<String> {
    vec![
        link(&ticket_href(&t.id), &t.subject),
        link(&customer_href(&t.customer_id), &t.customer_name),
        badge(t.status.as_str()),
        badge(t.priority.as_str()),
        esc(t.category.as_str()).to_string(),
        t.comment_count.to_string(),
        time(t.updated_at),
    ]
}

async fn list_page(State(web): State<Web>, PartnerUser(s): PartnerUser, RawQuery(q): RawQuery) -> PageResult {
    let p = params(q.as_deref());
    let (status, priority, category, customer) =
        (param(&p, "status"), param(&p, "priority"), param(&p, "category"), param(&p, "customer_id"));
    let page_no = page_number(param(&p, "page"));
    let mut e = ValidationErrors::new();
    let filter = TicketFilter {
        status: optional(&mut e, "status", status, TicketStatus::parse),
        priority: optional(&mut e, "priority", priority, TicketPriority::parse),
        category: optional(&mut e, "category", category, TicketCategory::parse),
        customer_id: given(customer),
    };
    let mut choices = account_choices(&web, &s).await?;
    if !customer.is_empty() && !choices.iter().any(|(c, _)| c == customer) {
        choices.push((customer.to_owned(), customer.to_owned()));
    }
    let mut body = String::from(
        "<p class=\"page-actions\"><a class=\"button\" href=\"/dashboard/tickets/new\">New ticket</a></p>",
    );
    let errors = (!e.is_empty()).then_some(&e);
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/dashboard/tickets\" class=\"filters\" aria-label=\"Filter tickets\">{}{}{}{}\
         <button type=\"submit\">Filter</button> <a href=\"/dashboard/tickets\">Clear</a></form>",
        select("status", "Status", &any_of("Any status", &TicketStatus::NAMES), status, errors),
        select("priority", "Priority", &any_of("Any priority", &TicketPriority::NAMES), priority, errors),
        select("category", "Category", &any_of("Any category", &TicketCategory::NAMES), category, errors),
        select("customer_id", "Customer", &with_first("Every customer", &choices), customer, errors),
    );
    if errors.is_some() {
        body.push_str("<p class=\"empty\">Correct the filter to see your tickets.</p>");
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page(Some(&s), "Support tickets", Nav::Tickets, &body)));
    }
    let Paged { items: rows, total, .. } = web
        .services
        .tickets()
        .list(&s.principal, &filter, &Window::Offset(offset_of(page_no, PER_PAGE)), PER_PAGE)
        .await
        .map_err(keep_nav(&s))?;
    let rows: Vec<Vec<String>> = rows.iter().map(list_row).collect();
    let filtered = [status, priority, category, customer].iter().any(|v| !v.is_empty());
    body.push_str(&table(
        "Your support tickets, newest first",
        &["Subject", "Customer", "Status", "Priority", "Category", "Comments", "Updated"],
        &rows,
        if filtered { "No ticket matches the filter." } else { "No tickets yet." },
    ));
    body.push_str(&pager(
        "/dashboard/tickets",
        &query_of(&[("status", status), ("priority", priority), ("category", category), ("customer_id", customer)]),
        page_no,
        u64::from(PER_PAGE),
        total,
    ));
    Ok(html(StatusCode::OK, page(Some(&s), "Support tickets", Nav::Tickets, &body)))
}

// ---- create ----

#[derive(Deserialize, Default)]
pub(crate) struct TicketForm {
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    category: String,
}

async fn render_new(
    web: &Web,
    s: &Arc<WebSession>,
    status: StatusCode,
    f: &TicketForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let choices = account_choices(web, s).await?;
    let mut body = String::from("<p class=\"crumbs\"><a href=\"/dashboard/tickets\">Support tickets</a></p>");
    if choices.is_empty() {
        body.push_str(
            "<p class=\"empty\">Tickets are about your customer accounts, and you have none yet. \
             <a href=\"/dashboard/customers/new\">Create a customer</a> first.</p>",
        );
        return Ok(html(status, page(Some(s), "New support ticket", Nav::Tickets, &body)));
    }
    let priority = if f.priority.is_empty() { TicketPriority::Medium.as_str() } else { f.priority.as_str() };
    let category = if f.category.is_empty() { TicketCategory::Other.as_str() } else { f.category.as_str() };
    let priorities: Vec<(&str, &str)> = TicketPriority::NAMES.iter().map(|n| (*n, *n)).collect();
    let categories: Vec<(&str, &str)> = TicketCategory::NAMES.iter().map(|n| (*n, *n)).collect();
    let _ = write!(
        body,
        "{}<form method=\"post\" action=\"/dashboard/tickets\" class=\"card\">{}{}{}{}{}{}\
         <button type=\"submit\">Open ticket</button></form>",
        other_errors(errors, &["customer_id", "subject", "description", "priority", "category"]),
        csrf_field(&s.csrf_token),
        select("customer_id", "Customer", &with_first("Choose a customer…", &choices), &f.customer_id, errors),
        Field::text("subject", "Subject", &f.subject).required().extra("maxlength=\"200\"").render(errors),
        Field::text("description", "Description", &f.description)
            .kind("textarea")
            .required()
            .hint("What happens, since when, and what the customer sees (at most 10,000 characters).")
            .extra("rows=\"6\" maxlength=\"10000\"")
            .render(errors),
        select("priority", "Priority", &priorities, priority, errors),
        select("category", "Category", &categories, category, errors),
    );
    Ok(html(status, page(Some(s), "New support ticket", Nav::Tickets, &body)))
}

async fn new_page(State(web): State<Web>, PartnerUser(s): PartnerUser, RawQuery(q): RawQuery) -> PageResult {
    let p = params(q.as_deref());
    let f = TicketForm { customer_id: param(&p, "customer_id").to_owned(), ..TicketForm::default() };
    render_new(&web, &s, StatusCode::OK, &f, None).await
}

async fn create(State(web): State<Web>, PartnerUser(s): PartnerUser, Form(f): Form<TicketForm>) -> PageResult {
    let input = NewTicket {
        customer_id: given(&f.customer_id),
        subject: Some(f.subject.clone()),
        description: Some(f.description.clone()),
        priority: given(&f.priority),
        category: given(&f.category),
    };
    match web.services.tickets().create(&s.principal, input).await {
        Ok(t) => Ok(see_other(&format!("{}?done=created", ticket_href(&t.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_new(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, &f, Some(&e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---- one ticket ----

/// Which of the ticket page's forms was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Comment,
    Status,
    Priority,
    Rating,
}

#[derive(Deserialize, Default)]
pub(crate) struct CommentForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    author: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct StatusForm {
    #[serde(default)]
    status: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct PriorityForm {
    #[serde(default)]
    priority: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct RatingForm {
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

/// What the page's forms show again after a refusal.
#[derive(Default)]
struct Again {
    failed: Option<(Which, ValidationErrors)>,
    comment: CommentForm,
    rating: RatingForm,
}

impl Again {
    fn errors(&self, which: Which) -> Option<&ValidationErrors> {
        self.failed.as_ref().filter(|(w, _)| *w == which).map(|(_, e)| e)
    }
}

/// The button's words for a move to `to` from `from`.
fn move_label(from: TicketStatus, to: TicketStatus) -> &'static str {
    match (from, to) {
        (TicketStatus::Open, TicketStatus::InProgress) => "Start work",
        (_, TicketStatus::InProgress) => "Back to in progress",
        (_, TicketStatus::WaitingOnCustomer) => "Wait on the customer",
        (_, TicketStatus::Resolved) => "Resolve",
        (_, TicketStatus::Closed) => "Close",
        (_, TicketStatus::Open) => "Reopen",
    }
}

const DONE: &[(&str, &str)] = &[
    ("created", "The ticket was opened."),
    ("commented", "The reply was added."),
    ("status", "The ticket's status was changed."),
    ("priority", "The priority was changed."),
    ("rated", "The rating was recorded."),
];

fn who(actor: Option<&str>) -> String {
    actor.map_or_else(String::new, |a| format!(" <span class=\"muted\">by {}</span>", esc(a)))
}

fn history_item(h: &HistoryEntry) -> String {
    let when = time(h.timestamp);
    let by = who(h.actor.as_deref());
    match h.kind {
        HistoryKind::Created => format!("<li class=\"event\">{when} Ticket opened{by}</li>"),
        HistoryKind::StatusChanged => format!(
            "<li class=\"event\">{when} Status {} → {}{by}</li>",
            badge(h.from.unwrap_or("")),
            badge(h.to.unwrap_or(""))
        ),
        HistoryKind::PriorityChanged => format!(
            "<li class=\"event\">{when} Priority {} → {}{by}</li>",
            badge(h.from.unwrap_or("")),
            badge(h.to.unwrap_or(""))
        ),
        HistoryKind::Commented => {
            let (class, author) = match h.author {
                Some(CommentAuthor::Customer) => ("comment comment-customer", "Customer (relayed)".to_owned()),
                _ => ("comment comment-partner", "Reply".to_owned()),
            };
            format!(
                "<li class=\"{class}\"><article><header><strong>{}</strong>{by} · {when}</header>\
                 <div class=\"ticket-text\">{}</div></article></li>",
                esc(&author),
                esc(h.body.as_deref().unwrap_or(""))
            )
        }
        HistoryKind::Rated => {
            let comment = h.rating_comment.as_deref().map_or_else(String::new, |c| format!(": “{}”", esc(c)));
            format!("<li class=\"event\">{when} Rated {}/5{comment}{by}</li>", h.rating.unwrap_or(0))
        }
    }
}

fn ticket_facts(t: &TicketRecord) -> String {
    let satisfaction = match (t.rating, t.rated_at) {
        (Some(r), Some(at)) => format!(
            "{r}/5{} ({})",
            t.rating_comment.as_deref().map_or_else(String::new, |c| format!(": “{}”", esc(c))),
            time(at)
        ),
        _ => "<span class=\"muted\">not rated</span>".to_owned(),
    };
    format!(
        "<dl class=\"facts\"><dt>Customer</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd><dt>Priority</dt><dd>{}</dd>\
         <dt>Category</dt><dd>{}</dd><dt>Opened</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd>\
         <dt>First response</dt><dd>{}</dd><dt>Resolved</dt><dd>{}</dd><dt>Closed</dt><dd>{}</dd>\
         <dt>Satisfaction</dt><dd>{satisfaction}</dd><dt>Ticket id</dt><dd><code>{}</code></dd></dl>",
        link(&customer_href(&t.customer_id), &t.customer_name),
        badge(t.status.as_str()),
        badge(t.priority.as_str()),
        esc(t.category.as_str()),
        time(t.created_at),
        time(t.updated_at),
        maybe_time(t.first_response_at),
        maybe_time(t.resolved_at),
        maybe_time(t.closed_at),
        esc(&t.id),
    )
}

async fn render_ticket(
    web: &Web,
    s: &Arc<WebSession>,
    id: &str,
    status: StatusCode,
    top: &str,
    again: &Again,
) -> PageResult {
    let tickets = web.services.tickets();
    let t = tickets.get(&s.principal, id).await.map_err(keep_nav(s))?;
    let history = tickets.history(&s.principal, &t).await.map_err(keep_nav(s))?;
    let href = ticket_href(&t.id);
    let mut body = String::from("<p class=\"crumbs\"><a href=\"/dashboard/tickets\">Support tickets</a></p>");
    body.push_str(top);
    body.push_str(&ticket_facts(&t));
    let _ = write!(
        body,
        "<section aria-labelledby=\"desc-h\"><h2 id=\"desc-h\">Description</h2><div class=\"card ticket-text\">{}</div></section>",
        esc(&t.description)
    );

    // Status moves and priority.
    body.push_str("<section aria-labelledby=\"status-h\"><h2 id=\"status-h\">Status</h2>");
    body.push_str(&other_errors(again.errors(Which::Status), &[]));
    let targets = t.status.targets();
    if targets.is_empty() {
        body.push_str("<p class=\"muted\">A closed ticket is final: a new problem is a new ticket.</p>");
    } else {
        let _ = write!(body, "<p>The ticket is {}. ", badge(t.status.as_str()));
        body.push_str("</p><div class=\"status-actions\">");
        for to in targets {
            let class = if to == TicketStatus::Closed { "secondary" } else { "" };
            body.push_str(&action_button(
                &format!("{href}/status"),
                &s.csrf_token,
                move_label(t.status, to),
                class,
                &[("status", to.as_str())],
            ));
        }
        body.push_str("</div>");
    }
    let priorities: Vec<(&str, &str)> = TicketPriority::NAMES.iter().map(|n| (*n, *n)).collect();
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{href}/priority\" class=\"filters priority-form\">{}{}{}\
         <button type=\"submit\" class=\"secondary\">Change priority</button></form></section>",
        csrf_field(&s.csrf_token),
        other_errors(again.errors(Which::Priority), &["priority"]),
        select("priority", "Priority", &priorities, t.priority.as_str(), again.errors(Which::Priority)),
    );

    // The conversation.
    let _ = write!(
        body,
        "<section aria-labelledby=\"conversation-h\" id=\"conversation\"><h2 id=\"conversation-h\">Conversation</h2>\
         <ol class=\"timeline conversation\">{}</ol>",
        history.iter().map(history_item).collect::<String>()
    );
    if t.status == TicketStatus::Closed {
        body.push_str(&other_errors(again.errors(Which::Comment), &[]));
        body.push_str("<p class=\"muted\">A closed ticket takes no more replies.</p>");
    } else {
        let errors = again.errors(Which::Comment);
        let author = if again.comment.author.is_empty() { "partner" } else { again.comment.author.as_str() };
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{href}/comments\" class=\"card\" aria-label=\"Reply\">{}{}{}{}\
             <button type=\"submit\">Add reply</button></form>",
            csrf_field(&s.csrf_token),
            other_errors(errors, &["body", "author"]),
            Field::text("body", "Reply", &again.comment.body)
                .kind("textarea")
                .required()
                .extra("rows=\"4\" maxlength=\"10000\"")
                .render(errors),
            select(
                "author",
                "Written by",
                &[("partner", "Us (your staff)"), ("customer", "The customer (a reply you relay)")],
                author,
                errors
            ),
        );
    }
    body.push_str("</section>");

    // Satisfaction, once resolved.
    if t.status.may_be_rated() {
        let errors = again.errors(Which::Rating);
        let current = t.rating.map(|r| r.to_string()).unwrap_or_default();
        let rating = if again.rating.rating.is_empty() { current.as_str() } else { again.rating.rating.as_str() };
        let _ = write!(
            body,
            "<section aria-labelledby=\"rating-h\"><h2 id=\"rating-h\">Customer satisfaction</h2>\
             <form method=\"post\" action=\"{href}/rating\" class=\"card\">{}{}{}{}\
             <button type=\"submit\">Record rating</button></form></section>",
            csrf_field(&s.csrf_token),
            other_errors(errors, &["rating", "comment"]),
            select(
                "rating",
                "Rating",
                &[
                    ("", "Choose…"),
                    ("5", "5 — very satisfied"),
                    ("4", "4"),
                    ("3", "3"),
                    ("2", "2"),
                    ("1", "1 — very dissatisfied")
                ],
                rating,
                errors
            ),
            Field::text("comment", "The customer's comment (optional)", &again.rating.comment)
                .kind("textarea")
                .extra("rows=\"2\" maxlength=\"2000\"")
                .render(errors),
        );
    }
    Ok(html(status, page(Some(s), &t.subject, Nav::Tickets, &body)))
}

async fn detail_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let p = params(q.as_deref());
    render_ticket(&web, &s, &id, StatusCode::OK, &done_notice(param(&p, "done"), DONE), &Again::default()).await
}

/// After a write: back to the ticket, or the page again with the errors beside the form.
async fn after(
    web: &Web,
    s: Arc<WebSession>,
    id: &str,
    result: Result<(), partnerd_services::ServiceError>,
    done: &str,
    again: impl FnOnce(ValidationErrors) -> Again,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("{}?done={done}", ticket_href(id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_ticket(web, &s, id, StatusCode::UNPROCESSABLE_ENTITY, "", &again(e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn add_comment(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(f): Form<CommentForm>,
) -> PageResult {
    let input = NewComment { body: Some(f.body.clone()), author: given(&f.author) };
    let r = web.services.tickets().comment(&s.principal, &id, &input).await.map(|_| ());
    after(&web, s, &id, r, "commented", |e| Again { failed: Some((Which::Comment, e)), comment: f, ..Again::default() })
        .await
}

async fn set_status(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> PageResult {
    let change = TicketChange { status: Some(f.status), priority: None };
    let r = web.services.tickets().update(&s.principal, &id, &change).await.map(|_| ());
    after(&web, s, &id, r, "status", |e| Again { failed: Some((Which::Status, e)), ..Again::default() }).await
}

async fn set_priority(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(f): Form<PriorityForm>,
) -> PageResult {
    let change = TicketChange { status: None, priority: Some(f.priority) };
    let r = web.services.tickets().update(&s.principal, &id, &change).await.map(|_| ());
    after(&web, s, &id, r, "priority", |e| Again { failed: Some((Which::Priority, e)), ..Again::default() }).await
}

async fn rate(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(f): Form<RatingForm>,
) -> PageResult {
    let rating = match f.rating.trim() {
        "" => None,
        r => match r.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                let e = ValidationErrors::single("rating", "must be a whole number from 1 to 5");
                let again = Again { failed: Some((Which::Rating, e)), rating: f, ..Again::default() };
                return render_ticket(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", &again).await;
            }
        },
    };
    let input = NewRating { rating, comment: given(&f.comment) };
    let r = web.services.tickets().rate(&s.principal, &id, &input).await.map(|_| ());
    after(&web, s, &id, r, "rated", |e| Again { failed: Some((Which::Rating, e)), rating: f, ..Again::default() }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_move_has_its_own_words() {
        for from in TicketStatus::ALL {
            for to in from.targets() {
                assert!(!move_label(from, to).is_empty());
            }
        }
        assert_eq!(move_label(TicketStatus::Resolved, TicketStatus::Open), "Reopen");
        assert_eq!(move_label(TicketStatus::Open, TicketStatus::InProgress), "Start work");
    }

    #[test]
    fn comments_are_escaped_in_the_conversation() {
        let h = HistoryEntry {
            kind: HistoryKind::Commented,
            timestamp: chrono::Utc::now(),
            actor: Some("<b>x</b>".into()),
            from: None,
            to: None,
            comment_id: Some("c".into()),
            author: Some(CommentAuthor::Customer),
            body: Some("<script>alert(1)</script>".into()),
            rating: None,
            rating_comment: None,
        };
        let out = history_item(&h);
        assert!(!out.contains("<script>") && !out.contains("<b>x"), "{out}");
        assert!(out.contains("Customer (relayed)"));
    }
}
