//! Co-sell: the pipeline (count and value per status, the opportunities filtered as
//! `GET /partners/cosell/opportunities` filters them, paged), registering an opportunity, and
//! one deal's facts, timeline, status moves (only those the domain's status machine allows from
//! where the deal stands) and edits. Every action is the same `cosell()` service call as the
//! API's, so validation, the status machine and "either party sees it, nobody else" hold here
//! unchanged.

use crate::Web;
use crate::charts::{Bar, bar_chart};
use crate::forms::{DoneQuery, given};
use crate::html::{
    Field, Nav, action_button, alert, badge, csrf_field, done_notice, esc, field_errors, list_filters, money_cents,
    other_errors, page, pager, select, table, time, urlenc,
};
use crate::list::{PER_PAGE, offset_of, optional, page_number, pair, query_of};
use crate::session::{PageError, PageResult, PartnerUser, html, keep_nav, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::money::{AmountInput, to_text};
use partnerd_services::ErrorKind;
use partnerd_services::cosell::{NewOpportunity, OpportunityChange, TimelineEntry, TimelineKind, TimelineValue};
use partnerd_services::users::WebSession;
use partnerd_store::{OpportunityFilter, OpportunityRecord, Window};
use serde::Deserialize;
use std::fmt::Write;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/cosell", get(pipeline).post(create))
        .route("/cosell/new", get(new_form))
        .route("/cosell/{id}", get(detail).post(update))
        .route("/cosell/{id}/status", post(move_status))
}

/// A status in words (the overview's charts use these too).
pub(crate) fn status_label(s: OpportunityStatus) -> &'static str {
    match s {
        OpportunityStatus::Open => "Open",
        OpportunityStatus::InProgress => "In progress",
        OpportunityStatus::Won => "Won",
        OpportunityStatus::Lost => "Lost",
    }
}

/// A sum of amounts (i128 cents) as money.
fn total_text(cents: i128) -> String {
    i64::try_from(cents).map_or_else(|_| format!("${}", to_text(cents)), |c| money_cents(c, "USD"))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// The other party of a deal, as the viewer sees it, and whether the viewer shared it.
fn other_party<'a>(o: &'a OpportunityRecord, s: &WebSession) -> (&'a str, &'a str, bool) {
    let mine = s.principal.partner.as_ref().is_some_and(|p| p.id == o.owner_partner_id);
    if mine {
        (&o.cosell_partner_id, &o.cosell_company_name, true)
    } else {
        (&o.owner_partner_id, &o.owner_company_name, false)
    }
}

// ---------------------------------------------------------------------------------------------
// The pipeline

/// The list's filters as typed (the API's parameter names), and the page.
#[derive(Default)]
struct Filters {
    status: String,
    partner_id: String,
    created_after: String,
    page: u64,
}

impl Filters {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| pair(pairs, name).trim().to_owned();
        let page = page_number(&get("page"));
        Filters { status: get("status"), partner_id: get("partner_id"), created_after: get("created_after"), page }
    }

    /// The service's filter, or the problems of each field (the API's own rules).
    fn parse(&self) -> Result<OpportunityFilter, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let status = optional(&mut e, "status", &self.status, OpportunityStatus::parse);
        let created_after = optional(&mut e, "created_after", &self.created_after, instant);
        e.into_result()?;
        let other_partner_id = given(&self.partner_id);
        Ok(OpportunityFilter { status, other_partner_id, created_after })
    }

    /// The filters as a query string (without `page`), for the pager's links.
    fn query(&self) -> String {
        query_of(&[("status", &self.status), ("partner_id", &self.partner_id), ("created_after", &self.created_after)])
    }
}

/// An ISO-8601 date-time, or a date meaning its midnight UTC (as the API reads `created_after`).
fn instant(raw: &str) -> Result<DateTime<Utc>, &'static str> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN).and_utc()))
        .map_err(|_| "must be a date (YYYY-MM-DD) or an ISO-8601 date-time such as 2025-01-05T09:00:00Z")
}

fn filter_form(f: &Filters, errors: Option<&ValidationErrors>) -> String {
    let mut options: Vec<(&str, &str)> = vec![("", "Any status")];
    options.extend(OpportunityStatus::ALL.iter().map(|s| (s.as_str(), status_label(*s))));
    list_filters(
        "/dashboard/cosell",
        "Filter opportunities",
        &[
            select("status", "Status", &options, &f.status, errors),
            Field::text("partner_id", "Co-sell partner ID", &f.partner_id).render(errors),
            Field::text("created_after", "Created after", &f.created_after).kind("date").render(errors),
        ],
        "/dashboard/cosell",
        "Clear filters",
    )
}

async fn summary(web: &Web, s: &Arc<WebSession>) -> Result<String, PageError> {
    let figures = web.services.cosell().pipeline_by_status(&s.principal).await.map_err(keep_nav(s))?;
    let mut cards = String::new();
    let mut bars = Vec::new();
    for f in &figures {
        let name = f.status.as_str();
        let value = total_text(f.value_cents);
        let _ = write!(
            cards,
            "<li class=\"stat\" id=\"stat-{name}\"><a href=\"/dashboard/cosell?status={name}\">{label}</a>\
             <b>{count}</b><span class=\"cosell-value\">{value}</span></li>",
            label = status_label(f.status),
            count = plural(f.count, "opportunity", "opportunities"),
        );
        #[allow(clippy::cast_precision_loss)] // a chart's bar height
        let major = f.value_cents as f64 / 100.0;
        bars.push(Bar { label: status_label(f.status).to_owned(), value: major, display: value });
    }
    Ok(format!(
        "<section aria-labelledby=\"pipeline-h\"><h2 id=\"pipeline-h\">Pipeline by status</h2>\
         <p class=\"muted\">Every opportunity you are party to, shared by you or with you.</p>\
         <ul class=\"grid cosell-stats\">{cards}</ul>{}</section>",
        bar_chart("cosell-by-status", "Deal value by status", &bars)
    ))
}

fn opportunity_row(o: &OpportunityRecord, s: &WebSession) -> Vec<String> {
    let (other_id, other_name, mine) = other_party(o, s);
    let direction = if mine { "shared by you" } else { "shared with you" };
    vec![
        format!("<a href=\"/dashboard/cosell/{}\">{}</a>", urlenc(&o.id), esc(&o.customer_name)),
        format!("{} <small class=\"muted\">({direction}; <code>{}</code>)</small>", esc(other_name), esc(other_id)),
        money_cents(o.deal_value_cents, &o.currency),
        badge(o.status.as_str()),
        o.expected_close_date.map_or_else(|| "—".to_owned(), |d| d.to_string()),
        time(o.created_at),
    ]
}

async fn pipeline(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let f = Filters::from_pairs(&q);
    let mut body = done_notice(pair(&q, "done"), &[("created", "The opportunity was registered.")]);
    body.push_str(
        "<p><a class=\"button-link\" href=\"/dashboard/cosell/new\" id=\"new-opportunity\">Register an opportunity</a></p>",
    );
    body.push_str(&summary(&web, &s).await?);
    let _ = write!(body, "<section aria-labelledby=\"opps-h\"><h2 id=\"opps-h\">Opportunities</h2>");
    let status = match f.parse() {
        Err(errors) => {
            body.push_str(&filter_form(&f, Some(&errors)));
            body.push_str(&alert("Correct the filters to see the opportunities."));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(filter) => {
            body.push_str(&filter_form(&f, None));
            let offset = offset_of(f.page, PER_PAGE);
            let found = web
                .services
                .cosell()
                .list(&s.principal, &filter, &Window::Offset(offset), PER_PAGE)
                .await
                .map_err(keep_nav(&s))?;
            let rows: Vec<Vec<String>> = found.items.iter().map(|o| opportunity_row(o, &s)).collect();
            let empty = if filter == OpportunityFilter::default() {
                "No opportunities yet: register one to share a deal with another partner."
            } else {
                "No opportunity matches these filters."
            };
            body.push_str(&table(
                "Opportunities, newest first",
                &["Customer", "Co-sell partner", "Deal value", "Status", "Expected close", "Created"],
                &rows,
                empty,
            ));
            body.push_str(&pager("/dashboard/cosell", &f.query(), f.page, u64::from(PER_PAGE), found.total));
            StatusCode::OK
        }
    };
    body.push_str("</section>");
    Ok(html(status, page(Some(&s), "Co-sell", Nav::Cosell, &body)))
}

// ---------------------------------------------------------------------------------------------
// Registering an opportunity

#[derive(Deserialize, Default)]
pub(crate) struct NewForm {
    #[serde(default)]
    customer_name: String,
    #[serde(default)]
    deal_value: String,
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    expected_close_date: String,
    #[serde(default)]
    notes: String,
}

const NEW_FIELDS: &[&str] =
    &["customer_name", "deal_value", "partner_id", "description", "expected_close_date", "notes"];

/// The partners the viewer already co-sells with, as suggestions for the partner field.
async fn known_partners(web: &Web, s: &Arc<WebSession>) -> Result<Vec<(String, String)>, PageError> {
    let found = web
        .services
        .cosell()
        .list(&s.principal, &OpportunityFilter::default(), &Window::Offset(0), 100)
        .await
        .map_err(keep_nav(s))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for o in &found.items {
        let (id, name, _) = other_party(o, s);
        if !out.iter().any(|(known, _)| known == id) {
            out.push((id.to_owned(), name.to_owned()));
        }
    }
    Ok(out)
}

async fn render_new(
    web: &Web,
    s: &Arc<WebSession>,
    status: StatusCode,
    form: &NewForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let partners = known_partners(web, s).await?;
    let mut datalist = String::from("<datalist id=\"cosell-partners\">");
    for (id, name) in &partners {
        let _ = write!(datalist, "<option value=\"{}\">{}</option>", esc(id), esc(name));
    }
    datalist.push_str("</datalist>");
    let body = format!(
        "<p><a href=\"/dashboard/cosell\">← Back to the pipeline</a></p>{}\
         <form method=\"post\" action=\"/dashboard/cosell\" class=\"card\" novalidate>{}{}{}{}{datalist}{}{}{}\
         <button type=\"submit\" id=\"create-opportunity\">Register opportunity</button></form>",
        other_errors(errors, NEW_FIELDS),
        csrf_field(&s.csrf_token),
        Field::text("customer_name", "Customer name", &form.customer_name)
            .required()
            .extra("maxlength=\"200\"")
            .render(errors),
        Field::text("deal_value", "Deal value (USD)", &form.deal_value)
            .required()
            .hint("A positive amount with at most two decimals, e.g. 75000 or 1234.50.")
            .extra("inputmode=\"decimal\"")
            .render(errors),
        Field::text("partner_id", "Co-sell partner ID", &form.partner_id)
            .required()
            .hint("The ID of another partner of the marketplace (partner_…), who will see the deal too.")
            .extra("list=\"cosell-partners\" autocomplete=\"off\"")
            .render(errors),
        Field::text("description", "Description (optional)", &form.description)
            .kind("textarea")
            .extra("rows=\"3\"")
            .render(errors),
        Field::text("expected_close_date", "Expected close date (optional)", &form.expected_close_date)
            .kind("date")
            .render(errors),
        Field::text("notes", "Notes (optional)", &form.notes).kind("textarea").extra("rows=\"3\"").render(errors),
    );
    Ok(html(status, page(Some(s), "Register an opportunity", Nav::Cosell, &body)))
}

async fn new_form(State(web): State<Web>, PartnerUser(s): PartnerUser) -> PageResult {
    render_new(&web, &s, StatusCode::OK, &NewForm::default(), None).await
}

async fn create(State(web): State<Web>, PartnerUser(s): PartnerUser, Form(form): Form<NewForm>) -> PageResult {
    let input = NewOpportunity {
        customer_name: Some(form.customer_name.clone()),
        deal_value: given(&form.deal_value).as_deref().map(AmountInput::text),
        partner_id: Some(form.partner_id.clone()),
        description: Some(form.description.clone()),
        expected_close_date: given(&form.expected_close_date),
        notes: Some(form.notes.clone()),
    };
    match web.services.cosell().create(&s.principal, input).await {
        Ok(o) => Ok(see_other(&format!("/dashboard/cosell/{}?done=created", urlenc(&o.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_new(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---------------------------------------------------------------------------------------------
// One opportunity

#[derive(Deserialize, Default, Clone)]
pub(crate) struct EditForm {
    #[serde(default)]
    customer_name: String,
    #[serde(default)]
    deal_value: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    expected_close_date: String,
    #[serde(default)]
    notes: String,
    /// The version the form was read at: a deal changed since (by either party) is not
    /// overwritten.
    #[serde(default)]
    version: String,
}

const EDIT_FIELDS: &[&str] = &["customer_name", "deal_value", "description", "expected_close_date", "notes"];

impl EditForm {
    fn of(o: &OpportunityRecord) -> Self {
        EditForm {
            customer_name: o.customer_name.clone(),
            deal_value: to_text(o.deal_value_cents),
            description: o.description.clone(),
            expected_close_date: o.expected_close_date.map(|d| d.to_string()).unwrap_or_default(),
            notes: o.notes.clone(),
            version: o.version.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct MoveForm {
    #[serde(default)]
    status: String,
}

/// What a page shows besides the deal: a notice or refusal on top, the edit form as typed.
struct Shown<'a> {
    status: StatusCode,
    top: String,
    edit: Option<(&'a EditForm, &'a ValidationErrors)>,
}

fn value_text(v: &TimelineValue) -> String {
    match v {
        TimelineValue::Status(s) => badge(s.as_str()),
        TimelineValue::Amount(a) => money_cents(a.cents(), "USD"),
        TimelineValue::Text(Some(t)) if !t.is_empty() => format!("“{}”", esc(t)),
        TimelineValue::Text(_) => "(empty)".to_owned(),
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "customer_name" => "Customer name",
        "description" => "Description",
        "expected_close_date" => "Expected close date",
        other => other,
    }
}

fn timeline_item(t: &TimelineEntry) -> String {
    let from = t.from.as_ref().map(value_text).unwrap_or_default();
    let to = t.to.as_ref().map(value_text).unwrap_or_default();
    let what = match t.kind {
        TimelineKind::Created => "Opportunity registered (open)".to_owned(),
        TimelineKind::StatusChanged => format!("Status changed from {from} to {to}"),
        TimelineKind::ValueChanged => format!("Deal value changed from {from} to {to}"),
        TimelineKind::NoteAdded => match t.note.as_deref() {
            Some(n) if !n.is_empty() => {
                format!("Notes updated:<blockquote class=\"cosell-note\">{}</blockquote>", esc(n))
            }
            _ => "Notes cleared".to_owned(),
        },
        TimelineKind::Updated => {
            format!("{} changed from {from} to {to}", esc(field_label(t.field.unwrap_or("A field"))))
        }
    };
    let actor = t.actor.as_deref().map(|a| format!(" · {}", esc(a))).unwrap_or_default();
    format!(
        "<li class=\"timeline-{kind}\"><div>{what}</div><small class=\"muted\">{}{actor}</small></li>",
        time(t.timestamp),
        kind = t.kind.as_str()
    )
}

fn move_label(to: OpportunityStatus) -> (&'static str, &'static str) {
    match to {
        OpportunityStatus::InProgress => ("Mark in progress", "secondary"),
        OpportunityStatus::Won => ("Mark won", ""),
        OpportunityStatus::Lost => ("Mark lost", "danger"),
        OpportunityStatus::Open => ("Reopen", "secondary"),
    }
}

async fn render_detail(web: &Web, s: &Arc<WebSession>, id: &str, shown: Shown<'_>) -> PageResult {
    let cosell = web.services.cosell();
    let o = cosell.get(&s.principal, id).await.map_err(keep_nav(s))?;
    let events = cosell.timeline(&s.principal, id).await.map_err(keep_nav(s))?;
    let (other_id, other_name, mine) = other_party(&o, s);
    let path = format!("/dashboard/cosell/{}", urlenc(&o.id));
    let mut body = format!("<p><a href=\"/dashboard/cosell\">← Back to the pipeline</a></p>{}", shown.top);

    let shared = if mine { "Shared with" } else { "Shared by" };
    let closed = o.closed_at.map(|t| format!("<dt>Closed</dt><dd>{}</dd>", time(t))).unwrap_or_default();
    let _ = write!(
        body,
        "<section aria-labelledby=\"facts-h\"><h2 id=\"facts-h\">The deal</h2><dl class=\"facts\">\
         <dt>Status</dt><dd id=\"opportunity-status\">{}</dd>\
         <dt>Customer</dt><dd>{}</dd>\
         <dt>Deal value</dt><dd>{}</dd>\
         <dt>{shared}</dt><dd>{} <code>{}</code></dd>\
         <dt>Description</dt><dd>{}</dd>\
         <dt>Expected close</dt><dd>{}</dd>\
         <dt>Notes</dt><dd class=\"cosell-notes\">{}</dd>\
         <dt>Created</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd>{closed}\
         <dt>ID</dt><dd><code>{}</code></dd></dl></section>",
        badge(o.status.as_str()),
        esc(&o.customer_name),
        money_cents(o.deal_value_cents, &o.currency),
        esc(other_name),
        esc(other_id),
        if o.description.is_empty() { "—".to_owned() } else { esc(&o.description).to_string() },
        o.expected_close_date.map_or_else(|| "—".to_owned(), |d| d.to_string()),
        if o.notes.is_empty() { "—".to_owned() } else { esc(&o.notes).to_string() },
        time(o.created_at),
        time(o.updated_at),
        esc(&o.id),
    );

    body.push_str("<section aria-labelledby=\"moves-h\"><h2 id=\"moves-h\">Move the deal</h2>");
    let next = o.status.next();
    if next.is_empty() {
        let _ = write!(
            body,
            "<p class=\"muted\">This deal is {}: its status is final.</p>",
            status_label(o.status).to_lowercase()
        );
    } else {
        body.push_str("<div class=\"cosell-actions\">");
        for to in next {
            let (label, class) = move_label(*to);
            body.push_str(&action_button(
                &format!("{path}/status"),
                &s.csrf_token,
                label,
                class,
                &[("status", to.as_str())],
            ));
        }
        body.push_str("</div>");
    }
    body.push_str("</section>");

    let current = EditForm::of(&o);
    let (form, errors) = match shown.edit {
        Some((f, e)) => (f, Some(e)),
        None => (&current, None),
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"edit-h\"><h2 id=\"edit-h\">Update the deal</h2>{}\
         <form method=\"post\" action=\"{path}\" class=\"card\" novalidate>{}<input type=\"hidden\" name=\"version\" value=\"{}\">{}{}{}{}{}\
         <button type=\"submit\" id=\"update-opportunity\">Save changes</button></form></section>",
        other_errors(errors, EDIT_FIELDS),
        csrf_field(&s.csrf_token),
        // A form re-shown for its errors keeps the version it was read at.
        esc(if form.version.is_empty() { &current.version } else { &form.version }),
        Field::text("customer_name", "Customer name", &form.customer_name).required().render(errors),
        Field::text("deal_value", "Deal value (USD)", &form.deal_value)
            .required()
            .extra("inputmode=\"decimal\"")
            .render(errors),
        Field::text("description", "Description", &form.description)
            .kind("textarea")
            .extra("rows=\"3\"")
            .render(errors),
        Field::text("expected_close_date", "Expected close date", &form.expected_close_date)
            .kind("date")
            .hint("Empty clears it.")
            .render(errors),
        Field::text("notes", "Notes", &form.notes)
            .kind("textarea")
            .hint("Shared with the other partner; each change is recorded in the timeline.")
            .extra("rows=\"3\"")
            .render(errors),
    );

    body.push_str("<section aria-labelledby=\"timeline-h\"><h2 id=\"timeline-h\">Timeline</h2>");
    if events.is_empty() {
        body.push_str("<p class=\"empty\">Nothing recorded yet.</p>");
    } else {
        body.push_str("<ol class=\"timeline\" id=\"timeline\">");
        for t in &events {
            body.push_str(&timeline_item(t));
        }
        body.push_str("</ol>");
    }
    body.push_str("</section>");
    Ok(html(shown.status, page(Some(s), &o.customer_name, Nav::Cosell, &body)))
}

async fn detail(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let top = done_notice(
        &q.done,
        &[
            ("created", "The opportunity was registered. The other partner sees it too."),
            ("moved", "The status was changed."),
            ("updated", "The changes were saved."),
        ],
    );
    render_detail(&web, &s, &id, Shown { status: StatusCode::OK, top, edit: None }).await
}

async fn move_status(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    let change = OpportunityChange { status: Some(form.status.trim().to_owned()), ..OpportunityChange::default() };
    match web.services.cosell().update(&s.principal, &id, &change).await {
        Ok(o) => Ok(see_other(&format!("/dashboard/cosell/{}?done=moved", urlenc(&o.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let why = field_errors(Some(&e.fields), "status");
            let why = if why.is_empty() { vec!["the change was refused".to_owned()] } else { why };
            let top = alert(&format!("The status was not changed: {}.", why.join("; ")));
            render_detail(&web, &s, &id, Shown { status: StatusCode::UNPROCESSABLE_ENTITY, top, edit: None }).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn update(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> PageResult {
    let change = OpportunityChange {
        status: None,
        deal_value: Some(AmountInput::text(form.deal_value.trim())),
        notes: Some(form.notes.clone()),
        customer_name: Some(form.customer_name.clone()),
        description: Some(form.description.clone()),
        expected_close_date: Some(given(&form.expected_close_date)),
    };
    let read_version = form.version.trim().parse::<i64>().ok();
    match web.services.cosell().update_from(&s.principal, &id, &change, read_version).await {
        Ok(o) => Ok(see_other(&format!("/dashboard/cosell/{}?done=updated", urlenc(&o.id)))),
        Err(e) if e.kind == ErrorKind::Conflict => {
            let shown = Shown {
                status: StatusCode::CONFLICT,
                top: alert(
                    "The deal was changed (by you elsewhere or by the other partner) since you opened this form: \
                     your values are kept below and the facts above are the saved ones. Review them and save again.",
                ),
                // Saving again, after review, applies them over the version now shown.
                edit: Some((&EditForm { version: String::new(), ..form.clone() }, &ValidationErrors::new())),
            };
            render_detail(&web, &s, &id, shown).await
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                top: alert("The changes were not saved: correct the fields marked below."),
                edit: Some((&form, &e.fields)),
            };
            render_detail(&web, &s, &id, shown).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn filters_use_the_api_rules_and_keep_their_query() {
        let f = Filters::from_pairs(&pairs(&[("status", "won"), ("created_after", "2025-01-05"), ("page", "x")]));
        assert_eq!(f.page, 1);
        let parsed = f.parse().unwrap();
        assert_eq!(parsed.status, Some(OpportunityStatus::Won));
        assert_eq!(parsed.created_after.unwrap().to_rfc3339(), "2025-01-05T00:00:00+00:00");
        assert_eq!(f.query(), "status=won&created_after=2025-01-05");
        let bad = Filters::from_pairs(&pairs(&[("status", "closed"), ("created_after", "soon")])).parse().unwrap_err();
        assert!(bad.fields().contains_key("status") && bad.fields().contains_key("created_after"));
        assert_eq!(Filters::from_pairs(&[]).parse().unwrap(), OpportunityFilter::default());
    }

    #[test]
    fn totals_beyond_i64_still_print() {
        assert_eq!(total_text(123_456), "$1,234.56");
        assert_eq!(total_text(i128::from(i64::MAX) * 10), format!("${}", to_text(i128::from(i64::MAX) * 10)));
    }

    #[test]
    fn timeline_values_are_escaped() {
        let t = TimelineEntry {
            kind: TimelineKind::Updated,
            timestamp: Utc::now(),
            actor: Some("<a>@x".into()),
            from: Some(TimelineValue::Text(Some("<b>".into()))),
            to: Some(TimelineValue::Text(None)),
            field: Some("description"),
            note: None,
        };
        let li = timeline_item(&t);
        assert!(!li.contains("<b>") && !li.contains("<a>"), "{li}");
        assert!(li.contains("Description changed from “&lt;b&gt;” to (empty)"), "{li}");
    }
}
