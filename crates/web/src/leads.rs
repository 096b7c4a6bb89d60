//! Leads: the partner's side of the Leads API v2. The list takes the API's filters (`status`
//! with the document's aggregates, parsed by the same `LeadStatusFilter::parse`; `fromDate` /
//! `toDate`; `searchText`; `sortField` / `sortOrder`), a manual lead is created with the API's
//! validation, and a lead's page shows its facts, its history (the API's activities) and the
//! lifecycle moves the status machine allows: request conversion approval, convert, delete or
//! disqualify, edit the notes. Every read and move is the same `services::leads` call as the
//! API's, in the caller's AppReseller context (the first lead role it holds, or `context`).
//!
//! The operator holds no lead context (its approvals are under Marketplace > Lead approvals),
//! so these are partner pages.

use crate::Web;
use crate::forms::{form_status, given};
use crate::html::{
    Field, Nav, action_button, alert, as_options, badge, capitalized, csrf_field, done_notice, esc, fact, list_filters,
    other_errors, page, select, table, text_fact, time, urlenc, with_first, words,
};
use crate::list::{PER_PAGE, date_value, offset_of, page_number, parse_day, results, search_text};
use crate::session::{PageError, PageResult, PartnerUser, html, keep_nav, see_other, service_message};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_domain::lead::{
    ActivityVerb, Customer, CustomerCompany, CustomerContact, LeadAction, LeadStatus, LeadStatusFilter, LeadType,
    discard_action, transition,
};
use partnerd_services::error::codes;
use partnerd_services::leads::{Activity, CreateLead, LEAD_CONTEXTS, ListLeads, UpdateLead, customer_of};
use partnerd_services::policy::Context;
use partnerd_services::users::WebSession;
use partnerd_services::{ErrorKind, Principal, ServiceError};
use partnerd_store::{LeadRecord, LeadSort, SortOrder};
use partnerd_store::{Paged, Window};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

/// The most activities a lead's page shows.
const HISTORY_MAX: u32 = 200;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/leads", get(list_page).post(create_lead))
        .route("/leads/new", get(new_page))
        .route("/leads/{id}", get(detail_page))
        .route("/leads/{id}/notes", post(update_notes))
        .route("/leads/{id}/request-conversion", post(request_conversion))
        .route("/leads/{id}/convert", post(convert))
        .route("/leads/{id}/discard", post(discard))
}

// ----- context -----

/// The lead contexts the caller holds, in the API's order.
fn held(p: &Principal) -> Vec<Context> {
    LEAD_CONTEXTS.into_iter().filter(|c| p.has_role(c.role())).collect()
}

/// The context asked (`context`, which the caller must hold, as the API's 403), or the first
/// lead role the caller holds.
fn context_of(s: &Arc<WebSession>, asked: &str) -> Result<Context, PageError> {
    let held = held(&s.principal);
    let asked = asked.trim();
    if !asked.is_empty() {
        return match Context::parse(asked) {
            Ok(c) if held.contains(&c) => Ok(c),
            _ => Err(PageError::new(StatusCode::FORBIDDEN, "Your account does not hold that lead role.")
                .with_session(s.clone())),
        };
    }
    held.first().copied().ok_or_else(|| {
        PageError::new(
            StatusCode::FORBIDDEN,
            "Your account holds none of the lead roles (reseller, referral, developer, reseller manager).",
        )
        .with_session(s.clone())
    })
}

/// The context field of a form: a choice when the caller holds several, else hidden.
fn context_field(s: &WebSession, current: Context) -> String {
    let held = held(&s.principal);
    if held.len() < 2 {
        return format!("<input type=\"hidden\" name=\"context\" value=\"{}\">", current.as_str());
    }
    let labels: Vec<(&str, String)> = held.iter().map(|c| (c.as_str(), words(c.as_str()))).collect();
    select("context", "Acting as", &as_options(&labels), current.as_str(), None)
}

// ----- list -----

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    #[serde(default)]
    context: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from_date: String,
    #[serde(default)]
    to_date: String,
    #[serde(default)]
    search_text: String,
    #[serde(default)]
    sort_field: String,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    page: String,
}

/// The API's list filters, each problem named as its parameter.
fn list_filter(q: &ListQuery) -> Result<ListLeads, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let statuses = match q.status.trim() {
        "" => Vec::new(),
        s => errors.check("status", LeadStatusFilter::parse(s)).map(LeadStatusFilter::statuses).unwrap_or_default(),
    };
    let from = errors.check("fromDate", parse_day(&q.from_date, false)).flatten();
    let to = errors.check("toDate", parse_day(&q.to_date, true)).flatten();
    let search = search_text(&q.search_text, &mut errors);
    let sort = match q.sort_field.trim() {
        "" | "DATE" => LeadSort::Date,
        "COMPANY_NAME" => LeadSort::CompanyName,
        other => {
            errors.add("sortField", partnerd_domain::str_enum::one_of(other, &["DATE", "COMPANY_NAME"]));
            LeadSort::Date
        }
    };
    let order = match q.sort_order.trim() {
        "" | "DESC" => SortOrder::Desc,
        "ASC" => SortOrder::Asc,
        other => {
            errors.add("sortOrder", partnerd_domain::str_enum::one_of(other, &["ASC", "DESC"]));
            SortOrder::Desc
        }
    };
    errors.into_result()?;
    Ok(ListLeads { statuses, from, to, search, sort, order })
}

fn status_label(s: &str) -> String {
    match s {
        "PENDING_FOR_MANAGERS" => "Pending for managers (submitted or awaiting approval)".to_owned(),
        "ACCEPTED_FOR_MANAGERS" => "Accepted for managers (assigned, approved or closed)".to_owned(),
        other => words(other),
    }
}

fn contact_name(c: &CustomerContact) -> String {
    [c.first_name.as_deref(), c.last_name.as_deref()].iter().flatten().copied().collect::<Vec<_>>().join(" ")
}

async fn list_page(State(web): State<Web>, PartnerUser(s): PartnerUser, Query(q): Query<ListQuery>) -> PageResult {
    let context = context_of(&s, &q.context)?;
    let p = &s.principal;
    let page_no = page_number(&q.page);
    let (rows, total, errors) = match list_filter(&q) {
        Ok(filter) => {
            let Paged { items: rows, total, .. } = web
                .services
                .leads()
                .list(p, context, &p.company_id, filter, &Window::Offset(offset_of(page_no, PER_PAGE)), PER_PAGE)
                .await
                .map_err(keep_nav(&s))?;
            (rows, total, None)
        }
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let errors = errors.as_ref();
    let ctx = context.as_str();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|l| {
            let c = customer_of(l);
            let company = c.company.name.clone().unwrap_or_else(|| l.customer_company_name.clone());
            vec![
                format!("<a href=\"/dashboard/leads/{}?context={ctx}\">{}</a>", urlenc(&l.id), esc(&company)),
                format!(
                    "{}<br><small>{}</small>",
                    esc(&contact_name(&c.contact)),
                    esc(c.contact.email.as_deref().unwrap_or_default())
                ),
                esc(&status_label(l.lead_type.as_str())).to_string(),
                badge(l.status.as_str()),
                esc(l.recipient_company_name.as_deref().unwrap_or("The marketplace")).to_string(),
                time(l.created_at),
            ]
        })
        .collect();

    let mut body = String::new();
    let _ = write!(
        body,
        "<p><a href=\"/dashboard/leads/new?context={ctx}\">New lead</a> · \
         <span class=\"muted\">The same leads as the Leads API (<code>GET /api/lead/v2/leads?context={ctx}</code>).</span></p>"
    );
    let statuses: Vec<(&str, String)> = LeadStatusFilter::NAMES.iter().map(|n| (*n, status_label(n))).collect();
    body.push_str(&list_filters(
        "/dashboard/leads",
        "Filter leads",
        &[
            context_field(&s, context),
            Field::text("searchText", "Search", q.search_text.trim())
                .hint("Company, contact name or e-mail")
                .kind("search")
                .render(errors),
            select("status", "Status", &with_first("Any status", &statuses), q.status.trim(), errors),
            Field::text("fromDate", "Created from", &date_value(&q.from_date, false)).kind("date").render(errors),
            Field::text("toDate", "Created to", &date_value(&q.to_date, true)).kind("date").render(errors),
            select(
                "sortField",
                "Sort by",
                &[("DATE", "Creation date"), ("COMPANY_NAME", "Company name")],
                q.sort_field.trim(),
                errors,
            ),
            select(
                "sortOrder",
                "Order",
                &[("DESC", "Descending"), ("ASC", "Ascending")],
                if q.sort_order.trim().is_empty() { "DESC" } else { q.sort_order.trim() },
                errors,
            ),
        ],
        &format!("/dashboard/leads?context={ctx}"),
        "Clear",
    ));
    let table = table(
        "Leads",
        &["Company", "Contact", "Type", "Status", "Assigned to", "Created"],
        &table_rows,
        "No leads match.",
    );
    let keep: &[(&str, &str)] = &[
        ("context", ctx),
        ("searchText", &q.search_text),
        ("status", &q.status),
        ("fromDate", &q.from_date),
        ("toDate", &q.to_date),
        ("sortField", &q.sort_field),
        ("sortOrder", &q.sort_order),
    ];
    body.push_str(&results(errors.is_some(), &table, "/dashboard/leads", keep, page_no, total));
    let status = form_status(errors.is_some());
    Ok(html(status, page(Some(&s), "Leads", Nav::Leads, &body)))
}

// ----- create -----

#[derive(Deserialize, Default)]
pub(crate) struct LeadForm {
    #[serde(default)]
    context: String,
    #[serde(default, rename = "customer.company.name")]
    company_name: String,
    #[serde(default, rename = "customer.company.country")]
    country: String,
    #[serde(default, rename = "customer.company.state")]
    state: String,
    #[serde(default, rename = "customer.company.city")]
    city: String,
    #[serde(default, rename = "customer.company.street1")]
    street1: String,
    #[serde(default, rename = "customer.company.street2")]
    street2: String,
    #[serde(default, rename = "customer.company.zip")]
    zip: String,
    #[serde(default, rename = "customer.company.size")]
    size: String,
    #[serde(default, rename = "customer.contact.email")]
    email: String,
    #[serde(default, rename = "customer.contact.firstName")]
    first_name: String,
    #[serde(default, rename = "customer.contact.lastName")]
    last_name: String,
    #[serde(default, rename = "customer.contact.phone")]
    phone: String,
    #[serde(default, rename = "customer.contact.phoneExtension")]
    phone_extension: String,
    #[serde(default)]
    notes: String,
}

impl LeadForm {
    fn customer(&self) -> Customer {
        Customer {
            company: CustomerCompany {
                city: given(&self.city),
                country: given(&self.country),
                name: given(&self.company_name),
                size: given(&self.size),
                state: given(&self.state),
                street1: given(&self.street1),
                street2: given(&self.street2),
                zip: given(&self.zip),
            },
            contact: CustomerContact {
                email: given(&self.email),
                first_name: given(&self.first_name),
                last_name: given(&self.last_name),
                phone: given(&self.phone),
                phone_extension: given(&self.phone_extension),
            },
        }
    }
}

const LEAD_FIELDS: &[&str] = &["customer", "notes", "context"];

fn render_form(
    s: &WebSession,
    context: Context,
    status: StatusCode,
    form: &LeadForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let mut body = String::from(
        "<p><a href=\"/dashboard/leads\">← All leads</a></p>\
         <p>A manual lead: yours to work at once (it is assigned to your company). Leads from the marketplace's \
         profiles and products reach you through the marketplace.</p>",
    );
    let _ = write!(
        body,
        "{}<form method=\"post\" action=\"/dashboard/leads\" class=\"card fieldsets\">{}{}\
         <fieldset><legend>Customer company</legend>{}{}{}{}{}{}{}{}</fieldset>\
         <fieldset><legend>Contact</legend>{}{}{}{}{}</fieldset>{}\
         <button type=\"submit\">Create lead</button></form>",
        other_errors(errors, LEAD_FIELDS),
        csrf_field(&s.csrf_token),
        context_field(s, context),
        Field::text("customer.company.name", "Company name", &form.company_name).required().render(errors),
        Field::text("customer.company.country", "Country", &form.country)
            .hint("Two letters, ISO 3166 (US, FR).")
            .extra("maxlength=\"2\" autocomplete=\"country\"")
            .render(errors),
        Field::text("customer.company.state", "State or region", &form.state).render(errors),
        Field::text("customer.company.city", "City", &form.city).render(errors),
        Field::text("customer.company.street1", "Street", &form.street1).render(errors),
        Field::text("customer.company.street2", "Street (second line)", &form.street2).render(errors),
        Field::text("customer.company.zip", "Postal code", &form.zip).render(errors),
        Field::text("customer.company.size", "Company size", &form.size).hint("For example 11-50.").render(errors),
        Field::text("customer.contact.email", "E-mail", &form.email).kind("email").required().render(errors),
        Field::text("customer.contact.firstName", "First name", &form.first_name).render(errors),
        Field::text("customer.contact.lastName", "Last name", &form.last_name).render(errors),
        Field::text("customer.contact.phone", "Phone", &form.phone).kind("tel").render(errors),
        Field::text("customer.contact.phoneExtension", "Extension", &form.phone_extension).render(errors),
        Field::text("notes", "Notes", &form.notes).render(errors),
    );
    Ok(html(status, page(Some(s), "New lead", Nav::Leads, &body)))
}

#[derive(Deserialize, Default)]
pub(crate) struct ContextQuery {
    #[serde(default)]
    context: String,
    #[serde(default)]
    done: String,
}

async fn new_page(PartnerUser(s): PartnerUser, Query(q): Query<ContextQuery>) -> PageResult {
    let context = context_of(&s, &q.context)?;
    render_form(&s, context, StatusCode::OK, &LeadForm::default(), None)
}

async fn create_lead(State(web): State<Web>, PartnerUser(s): PartnerUser, Form(form): Form<LeadForm>) -> PageResult {
    let context = context_of(&s, &form.context)?;
    let p = &s.principal;
    let input = CreateLead {
        lead_type: LeadType::Manual,
        customer: form.customer(),
        notes: given(&form.notes),
        partner: None,
        custom_attributes: BTreeMap::new(),
        creator: None,
        reseller: None,
        profile_company_id: None,
        profile_product_id: None,
        profile_edition_id: None,
    };
    match web.services.leads().create(p, context, &p.company_id, input).await {
        Ok(l) => {
            Ok(see_other(&format!("/dashboard/leads/{}?context={}&done=created", urlenc(&l.id), context.as_str())))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_form(&s, context, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&e.fields))
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ----- one lead -----

const DONE: &[(&str, &str)] = &[
    ("created", "The lead was created."),
    ("notes", "The notes were saved."),
    ("conversion-requested", "Conversion approval was requested: the marketplace approves it next."),
    ("converted", "The lead was converted: its company is now one of your customers."),
    ("deleted", "The lead was deleted."),
    ("disqualified", "The lead was disqualified."),
];

/// A refused move in the page's words (the service's reason, which names the lead's status).
fn refusal(e: &ServiceError) -> String {
    match e.kind {
        ErrorKind::Invalid => {
            let mut parts = Vec::new();
            for (field, msgs) in e.fields.fields() {
                for m in msgs {
                    let sentence = if field == "status" { m.clone() } else { format!("{field}: {m}") };
                    parts.push(capitalized(&sentence));
                }
            }
            if parts.is_empty() { "The move was refused.".to_owned() } else { format!("{}.", parts.join("; ")) }
        }
        ErrorKind::Conflict if e.code == codes::EMAIL_TAKEN => "The contact's e-mail address belongs to an existing \
             user: associate the lead with that user (Leads API, POST /companyAssociation) before converting it."
            .to_owned(),
        ErrorKind::Forbidden if e.code == codes::NOT_ASSIGNEE => {
            "Only the company the lead is assigned to may do this.".to_owned()
        }
        ErrorKind::Forbidden if e.code == codes::SCOPE_REQUIRED => {
            "This move is a reseller's: act as a reseller to make it.".to_owned()
        }
        _ => service_message(e),
    }
}

fn activity_line(a: &Activity) -> String {
    let company = a.context_company.as_ref().map(|(_, name)| esc(name).to_string()).unwrap_or_default();
    let what = match a.verb {
        ActivityVerb::Created => "Created".to_owned(),
        ActivityVerb::Updated => "Updated".to_owned(),
        ActivityVerb::Assigned => format!("Assigned to {company}"),
        ActivityVerb::CompanyAssociated => format!("Associated with {company}"),
        ActivityVerb::ConversionRequested => "Conversion approval requested".to_owned(),
        ActivityVerb::ConversionApproved => "Conversion approved".to_owned(),
        ActivityVerb::Converted => format!("Converted into {company}"),
        ActivityVerb::Disqualified => "Disqualified".to_owned(),
        ActivityVerb::Deleted => "Deleted".to_owned(),
        ActivityVerb::QuoteLinked => match &a.context_quote {
            Some(q) => format!(
                "Quote <a href=\"/dashboard/quotes/{}\">{}</a> made for its customer ({})",
                urlenc(&q.id),
                esc(&q.friendly_id),
                esc(&q.application_name)
            ),
            None => "A quote was made for its customer".to_owned(),
        },
    };
    let by = if a.verb_context == "MARKETPLACE" { " (the marketplace)" } else { "" };
    format!(
        "<li>{} · <strong>{what}</strong> <span class=\"muted\">by {}{by}</span></li>",
        time(a.created_on),
        esc(&a.actor_company_name)
    )
}

/// The moves open on `l` for the caller in `context`, as buttons, and a sentence when none is.
fn actions(s: &WebSession, context: Context, l: &LeadRecord) -> String {
    let own = s.principal.company_id.as_str();
    let assigned_to_us = l.recipient_company_id.as_deref() == Some(own);
    let reseller = context == Context::Reseller;
    let base = format!("/dashboard/leads/{}", urlenc(&l.id));
    let hidden = [("context", context.as_str())];
    let mut out = String::new();
    if reseller && assigned_to_us && transition(l.status, LeadAction::RequestConversion).is_ok() {
        out.push_str(&action_button(
            &format!("{base}/request-conversion"),
            &s.csrf_token,
            "Request conversion approval",
            "",
            &hidden,
        ));
        out.push(' ');
    }
    if reseller && assigned_to_us && transition(l.status, LeadAction::Convert).is_ok() {
        out.push_str(&action_button(&format!("{base}/convert"), &s.csrf_token, "Convert into a customer", "", &hidden));
        out.push(' ');
    }
    let by_creator = l.creator_company_id.as_deref() == Some(own);
    let held_by_other = l.recipient_company_id.as_deref().is_some_and(|r| r != own);
    let discard = discard_action(l.lead_type, by_creator, held_by_other);
    if transition(l.status, discard).is_ok() {
        let label = if discard == LeadAction::Delete { "Delete lead" } else { "Disqualify lead" };
        out.push_str(&action_button(&format!("{base}/discard"), &s.csrf_token, label, "danger", &hidden));
    }
    let waiting = match l.status {
        LeadStatus::Submitted => Some("It waits for the marketplace to assign it to a reseller."),
        LeadStatus::PendingConversionApproval => Some("It waits for the marketplace to approve its conversion."),
        LeadStatus::ConversionApproved if !reseller => Some("Act as a reseller to convert it."),
        s if s.is_final() => Some("It is closed: nothing more happens to it."),
        _ => None,
    };
    if let Some(w) = waiting {
        let _ = write!(out, "<p class=\"muted\">{}</p>", esc(w));
    }
    if out.is_empty() {
        out.push_str("<p class=\"muted\">No move is open to you on this lead now.</p>");
    }
    out
}

async fn render_detail(
    web: &Web,
    s: &Arc<WebSession>,
    context: Context,
    id: &str,
    status: StatusCode,
    top: &str,
    notes_form: Option<(&str, &ValidationErrors)>,
) -> PageResult {
    let p = &s.principal;
    let leads = web.services.leads();
    let l = leads.get(p, context, &p.company_id, id).await.map_err(|e| PageError::from(e).with_session(s.clone()))?;
    let (history, _) = leads
        .activities(p, context, &p.company_id, id, true, None, None, 0, HISTORY_MAX)
        .await
        .map_err(|e| PageError::from(e).with_session(s.clone()))?;
    let c = customer_of(&l);
    let company = c.company.name.clone().unwrap_or_else(|| l.customer_company_name.clone());

    let mut body = format!("<p><a href=\"/dashboard/leads?context={}\">← All leads</a></p>{top}", context.as_str());
    let mut customer = String::new();
    text_fact(&mut customer, "Company", &company);
    let address: Vec<&str> = [
        c.company.street1.as_deref(),
        c.company.street2.as_deref(),
        c.company.zip.as_deref(),
        c.company.city.as_deref(),
        c.company.state.as_deref(),
        c.company.country.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    text_fact(&mut customer, "Address", &address.join(", "));
    text_fact(&mut customer, "Size", c.company.size.as_deref().unwrap_or_default());
    text_fact(&mut customer, "Contact", &contact_name(&c.contact));
    if let Some(e) = c.contact.email.as_deref() {
        fact(&mut customer, "E-mail", &format!("<a href=\"mailto:{}\">{}</a>", esc(e), esc(e)));
    }
    let phone = match (c.contact.phone.as_deref(), c.contact.phone_extension.as_deref()) {
        (Some(p), Some(x)) => Some(format!("{p} ext. {x}")),
        (Some(p), None) => Some(p.to_owned()),
        _ => None,
    };
    text_fact(&mut customer, "Phone", phone.as_deref().unwrap_or_default());

    let mut facts = String::new();
    fact(&mut facts, "Status", &badge(l.status.as_str()));
    text_fact(&mut facts, "Type", &status_label(l.lead_type.as_str()));
    text_fact(&mut facts, "Assigned to", l.recipient_company_name.as_deref().unwrap_or("The marketplace"));
    if let Some(name) = &l.creator_company_name {
        let role = l.creator_role.as_deref().map(|r| format!(" ({})", status_label(r))).unwrap_or_default();
        text_fact(&mut facts, "Created by", &format!("{name}{role}"));
    }
    text_fact(&mut facts, "Company profile", l.profile_company_name.as_deref().unwrap_or_default());
    if let Some(product) = l.profile_product.as_ref().and_then(|v| v.get("name")).and_then(|v| v.as_str()) {
        let edition =
            l.profile_edition.as_ref().and_then(|v| v.get("name")).and_then(|v| v.as_str()).unwrap_or_default();
        text_fact(&mut facts, "Product", format!("{product} {edition}").trim());
    }
    text_fact(&mut facts, "Converted into", l.converted_company_name.as_deref().unwrap_or_default());
    text_fact(&mut facts, "Partner code", &l.partner);
    fact(&mut facts, "Created", &time(l.created_at));
    fact(&mut facts, "Last changed", &time(l.updated_at));
    text_fact(&mut facts, "Lead id", &l.id);

    let _ = write!(
        body,
        "<div class=\"lead-grid\"><section class=\"card\" aria-labelledby=\"customer-h\"><h2 id=\"customer-h\">Customer</h2>\
         <dl class=\"facts\">{customer}</dl></section>\
         <section class=\"card\" aria-labelledby=\"lead-h\"><h2 id=\"lead-h\">Lead</h2><dl class=\"facts\">{facts}</dl></section></div>"
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"actions-h\"><h2 id=\"actions-h\">What next</h2><div class=\"lead-actions\">{}</div>",
        actions(s, context, &l)
    );
    if let (Some(company_id), Some(user_id), LeadStatus::Converted, true) =
        (&l.converted_company_id, &l.converted_user_id, l.status, p.has_role(Context::Reseller.role()))
    {
        let _ = write!(
            body,
            "<p><a href=\"/dashboard/quotes/new?customerCompanyId={}&amp;customerId={}\">Make a quote for {}</a></p>",
            urlenc(company_id),
            urlenc(user_id),
            esc(l.converted_company_name.as_deref().unwrap_or("this customer"))
        );
    }
    body.push_str("</section>");

    let _ = write!(body, "<section aria-labelledby=\"notes-h\"><h2 id=\"notes-h\">Notes</h2>");
    if transition(l.status, LeadAction::Edit).is_ok() {
        let (value, errors) = match notes_form {
            Some((v, e)) => (v.to_owned(), Some(e)),
            None => (l.notes.clone().unwrap_or_default(), None),
        };
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/dashboard/leads/{}/notes\" class=\"card\">{}\
             <input type=\"hidden\" name=\"context\" value=\"{}\">{}{}<button type=\"submit\" class=\"secondary\">Save notes</button></form>",
            urlenc(&l.id),
            csrf_field(&s.csrf_token),
            context.as_str(),
            other_errors(errors, &["notes"]),
            Field::text("notes", "Notes", &value).hint("Empty clears them.").render(errors)
        );
    } else {
        let _ = write!(body, "<p>{}</p>", esc(l.notes.as_deref().unwrap_or("None.")));
    }
    body.push_str("</section>");

    let _ = write!(body, "<section aria-labelledby=\"history-h\"><h2 id=\"history-h\">History</h2>");
    if history.is_empty() {
        body.push_str("<p class=\"empty\">Nothing recorded yet.</p>");
    } else {
        body.push_str("<ol class=\"timeline\">");
        for a in &history {
            body.push_str(&activity_line(a));
        }
        body.push_str("</ol>");
    }
    body.push_str("</section>");
    Ok(html(status, page(Some(s), &format!("Lead: {company}"), Nav::Leads, &body)))
}

async fn detail_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Query(q): Query<ContextQuery>,
) -> PageResult {
    let context = context_of(&s, &q.context)?;
    let top = done_notice(&q.done, DONE);
    render_detail(&web, &s, context, &id, StatusCode::OK, &top, None).await
}

#[derive(Deserialize, Default)]
pub(crate) struct MoveForm {
    #[serde(default)]
    context: String,
    #[serde(default)]
    notes: String,
}

#[derive(Clone, Copy)]
enum Move {
    RequestConversion,
    Convert,
    Discard,
}

async fn make_move(web: &Web, s: Arc<WebSession>, id: &str, form: &MoveForm, m: Move) -> PageResult {
    let context = context_of(&s, &form.context)?;
    let p = &s.principal;
    let leads = web.services.leads();
    let outcome = match m {
        Move::RequestConversion => {
            leads.request_conversion(p, context, &p.company_id, id).await.map(|_| "conversion-requested")
        }
        Move::Convert => leads.convert(p, context, &p.company_id, id).await.map(|_| "converted"),
        Move::Discard => leads
            .discard(p, context, &p.company_id, id)
            .await
            .map(|st| if st == LeadStatus::Deleted { "deleted" } else { "disqualified" }),
    };
    match outcome {
        Ok(done) => Ok(see_other(&format!("/dashboard/leads/{}?context={}&done={done}", urlenc(id), context.as_str()))),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::Forbidden) => {
            let status = if e.kind == ErrorKind::Forbidden { StatusCode::FORBIDDEN } else { StatusCode::CONFLICT };
            render_detail(web, &s, context, id, status, &alert(&refusal(&e)), None).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn request_conversion(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    make_move(&web, s, &id, &form, Move::RequestConversion).await
}

async fn convert(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    make_move(&web, s, &id, &form, Move::Convert).await
}

async fn discard(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    make_move(&web, s, &id, &form, Move::Discard).await
}

async fn update_notes(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> PageResult {
    let context = context_of(&s, &form.context)?;
    let p = &s.principal;
    let input = UpdateLead { customer: None, notes: Some(given(&form.notes)) };
    match web.services.leads().update(p, context, &p.company_id, &id, input).await {
        Ok(_) => Ok(see_other(&format!("/dashboard/leads/{}?context={}&done=notes", urlenc(&id), context.as_str()))),
        Err(e) if e.kind == ErrorKind::Invalid && e.fields.fields().contains_key("notes") => {
            render_detail(
                &web,
                &s,
                context,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                Some((form.notes.as_str(), &e.fields)),
            )
            .await
        }
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::Forbidden) => {
            render_detail(&web, &s, context, &id, StatusCode::CONFLICT, &alert(&refusal(&e)), None).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_filter_takes_the_document_aggregates() {
        let q = ListQuery { status: "PENDING_FOR_MANAGERS".into(), ..Default::default() };
        let f = list_filter(&q).unwrap();
        assert_eq!(f.statuses, vec![LeadStatus::Submitted, LeadStatus::PendingConversionApproval]);
        let bad = ListQuery { status: "OPEN".into(), sort_order: "up".into(), ..Default::default() };
        let e = list_filter(&bad).unwrap_err();
        assert!(e.fields().contains_key("status") && e.fields().contains_key("sortOrder"));
    }
}
