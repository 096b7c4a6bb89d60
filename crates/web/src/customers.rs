//! Customers (`partner-reseller-api.txt`: customer management, billing and commissions, usage):
//! the partner's customer accounts with the API's filters (`status`, `plan`) and paging, the
//! create form, a customer's facts with its invoices, commissions and usage, its everyday
//! actions (edit contact, plan or cycle; suspend, reactivate, cancel), an invoice's lines, and
//! the partner-wide commission report. Every read and write is the API's own service call, so
//! validation, billing (proration, first invoices) and isolation are the API's.
//!
//! The customer choices and links here are shared with `tickets`.

use crate::Web;
use crate::charts::{Bar, Point, Series, hbar_chart, line_chart};
use crate::forms::given;
use crate::html::{
    Field, Nav, action_button, any_of, badge, csrf_field, date_of, day, done_notice, esc, field_errors, grouped, link,
    maybe_time, money_cents, other_errors, page, pager, select, table, time, urlenc, with_first,
};
use crate::list::{PER_PAGE, offset_of, optional, page_number, param, params, query_of};
use crate::session::{PageError, PageResult, PartnerUser, html, keep_nav, see_other};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_domain::analytics::Period;
use partnerd_domain::billing::{BillingCycle, LineItem, PriceList};
use partnerd_domain::customer::CustomerStatus;
use partnerd_domain::dates::DateRange;
use partnerd_domain::invoice::InvoiceStatus;
use partnerd_services::ErrorKind;
use partnerd_services::customers::{CustomerChange, CustomerDetail, NewCustomer, next_invoice_at};
use partnerd_services::users::WebSession;
use partnerd_store::{
    CommissionRecord, CustomerAccountRecord, CustomerEntry, CustomerFilter, InvoiceFilter, InvoiceRecord,
};
use partnerd_store::{Paged, Window};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/customers", get(list_page).post(create))
        .route("/customers/new", get(new_page))
        .route("/customers/commissions", get(commissions_page))
        .route("/customers/{id}", get(detail_page))
        .route("/customers/{id}/edit", get(edit_page).post(update))
        .route("/customers/{id}/status", post(set_status))
        .route("/customers/{id}/invoices/{invoice_id}", get(invoice_page))
}

// ---- shared with `tickets` ----

/// The partner's customers that have an account (only those are billed and take tickets):
/// `(id, company name)`, by name.
pub(crate) async fn account_choices(web: &Web, s: &Arc<WebSession>) -> Result<Vec<(String, String)>, PageError> {
    let Paged { items: rows, .. } = web
        .services
        .customers()
        .list(&s.principal, &CustomerFilter::default(), &Window::Offset(0), 1000)
        .await
        .map_err(keep_nav(s))?;
    let mut out: Vec<(String, String)> =
        rows.into_iter().filter_map(|e| e.account.map(|a| (a.customer_id, a.company_name))).collect();
    out.sort_by(|a, b| a.1.to_lowercase().cmp(&b.1.to_lowercase()).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

pub(crate) fn customer_href(id: &str) -> String {
    format!("/dashboard/customers/{}", urlenc(id))
}

// ---- formatting of this module ----

fn percent_bps(bps: u32) -> String {
    format!("{}%", f64::from(bps) / 100.0)
}

fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    #[allow(clippy::cast_precision_loss)] // a rounded figure for display
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{} B", grouped(n)) } else { format!("{v:.1} {}", UNITS[u]) }
}

fn reason(r: &str) -> &str {
    match r {
        "subscription_create" => "New account",
        "subscription_cycle" => "Renewal",
        "subscription_update" => "Plan or cycle change",
        other => other,
    }
}

fn plan_options(prices: &PriceList) -> Vec<(String, String)> {
    prices
        .ordered()
        .into_iter()
        .map(|(n, p)| {
            let label = format!(
                "{n} — {}/month or {}/year",
                money_cents(p.monthly, &prices.currency),
                money_cents(p.annual, &prices.currency)
            );
            (n.to_owned(), label)
        })
        .collect()
}

const CYCLES: &[(&str, &str)] = &[("monthly", "Monthly"), ("annual", "Annual")];

fn prices(web: &Web) -> PriceList {
    web.services.billing().settings().prices.clone()
}

// ---- list ----

fn list_row(e: &CustomerEntry) -> Vec<String> {
    let href = customer_href(&e.link.customer_id);
    match &e.account {
        Some(a) => vec![
            link(&href, &a.company_name),
            format!("{}<br><small>{}</small>", esc(&a.contact_name), esc(&a.contact_email)),
            esc(&a.plan).to_string(),
            esc(a.billing_cycle.as_str()).to_string(),
            badge(a.status.as_str()),
            time(a.created_at),
        ],
        None => vec![
            link(&href, &e.link.company_name),
            "<span class=\"muted\">—</span>".to_owned(),
            "<span class=\"muted\">no plan yet</span>".to_owned(),
            "<span class=\"muted\">—</span>".to_owned(),
            badge(CustomerStatus::Active.as_str()),
            time(e.link.associated_at),
        ],
    }
}

async fn list_page(State(web): State<Web>, PartnerUser(s): PartnerUser, RawQuery(q): RawQuery) -> PageResult {
    let p = params(q.as_deref());
    let (status, plan) = (param(&p, "status"), param(&p, "plan"));
    let page_no = page_number(param(&p, "page"));
    let prices = prices(&web);
    let mut e = ValidationErrors::new();
    let status_f = optional(&mut e, "status", status, CustomerStatus::parse);
    let plan_f = optional(&mut e, "plan", plan, |p| prices.plan(p)).map(|(n, _)| n);

    let mut body = String::from(
        "<p class=\"page-actions\"><a class=\"button\" href=\"/dashboard/customers/new\">New customer</a> \
         <a href=\"/dashboard/customers/commissions\">Commission report</a></p>",
    );
    body.push_str(&done_notice(param(&p, "done"), &[("created", "The customer account was created.")]));
    let status_opts = any_of("Any status", &CustomerStatus::NAMES);
    let plans = plan_options(&prices);
    let plan_opts = with_first("Any plan", &plans);
    let errors = (!e.is_empty()).then_some(&e);
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/dashboard/customers\" class=\"filters\" aria-label=\"Filter customers\">{}{}\
         <button type=\"submit\">Filter</button> <a href=\"/dashboard/customers\">Clear</a></form>",
        select("status", "Status", &status_opts, status, errors),
        select("plan", "Plan", &plan_opts, plan, errors),
    );
    if errors.is_some() {
        body.push_str("<p class=\"empty\">Correct the filter to see your customers.</p>");
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page(Some(&s), "Customers", Nav::Customers, &body)));
    }
    let filter = CustomerFilter { status: status_f, plan: plan_f };
    let Paged { items: rows, total, .. } = web
        .services
        .customers()
        .list(&s.principal, &filter, &Window::Offset(offset_of(page_no, PER_PAGE)), PER_PAGE)
        .await
        .map_err(keep_nav(&s))?;
    let rows: Vec<Vec<String>> = rows.iter().map(list_row).collect();
    let empty =
        if status.is_empty() && plan.is_empty() { "No customers yet." } else { "No customer matches the filter." };
    body.push_str(&table(
        "Your customer accounts, newest first",
        &["Company", "Contact", "Plan", "Cycle", "Status", "Since"],
        &rows,
        empty,
    ));
    body.push_str(&pager(
        "/dashboard/customers",
        &query_of(&[("status", status), ("plan", plan)]),
        page_no,
        u64::from(PER_PAGE),
        total,
    ));
    Ok(html(StatusCode::OK, page(Some(&s), "Customers", Nav::Customers, &body)))
}

// ---- create ----

#[derive(Deserialize, Default)]
pub(crate) struct CustomerForm {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    billing_cycle: String,
}

const CUSTOMER_FIELDS: &[&str] = &["company_name", "contact_email", "contact_name", "phone", "plan", "billing_cycle"];

/// The contact, plan and cycle fields (the create and edit forms share them).
fn account_fields(prices: &PriceList, f: &CustomerForm, errors: Option<&ValidationErrors>, choose: bool) -> String {
    let plans = plan_options(prices);
    let plan_opts: Vec<(&str, &str)> = if choose {
        with_first("Choose a plan…", &plans)
    } else {
        plans.iter().map(|(v, l)| (v.as_str(), l.as_str())).collect()
    };
    let cycle = if f.billing_cycle.is_empty() { "monthly" } else { f.billing_cycle.as_str() };
    format!(
        "{}{}{}{}{}",
        Field::text("contact_name", "Contact name", &f.contact_name)
            .required()
            .extra("maxlength=\"200\"")
            .render(errors),
        Field::text("contact_email", "Contact e-mail", &f.contact_email).kind("email").required().render(errors),
        Field::text("phone", "Phone (optional)", &f.phone).kind("tel").hint("E.164, e.g. +14155550123.").render(errors),
        select("plan", "Plan", &plan_opts, &f.plan, errors),
        select("billing_cycle", "Billing cycle", CYCLES, cycle, errors),
    )
}

fn render_new(
    s: &Arc<WebSession>,
    prices: &PriceList,
    status: StatusCode,
    f: &CustomerForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let mut body = String::from(
        "<p>The account opens at once: its first billing period starts now and its first invoice is issued \
         immediately (billing in advance), with your commission on it.</p>",
    );
    let _ = write!(
        body,
        "{}<form method=\"post\" action=\"/dashboard/customers\" class=\"card\">{}{}{}\
         <button type=\"submit\">Create customer</button></form>",
        other_errors(errors, CUSTOMER_FIELDS),
        csrf_field(&s.csrf_token),
        Field::text("company_name", "Company name", &f.company_name)
            .required()
            .extra("maxlength=\"200\"")
            .render(errors),
        account_fields(prices, f, errors, true),
    );
    Ok(html(status, page(Some(s), "New customer", Nav::Customers, &body)))
}

async fn new_page(State(web): State<Web>, PartnerUser(s): PartnerUser) -> PageResult {
    render_new(&s, &prices(&web), StatusCode::OK, &CustomerForm::default(), None)
}

async fn create(State(web): State<Web>, PartnerUser(s): PartnerUser, Form(f): Form<CustomerForm>) -> PageResult {
    let input = NewCustomer {
        company_name: given(&f.company_name),
        contact_email: given(&f.contact_email),
        contact_name: given(&f.contact_name),
        phone: given(&f.phone),
        plan: given(&f.plan),
        billing_cycle: given(&f.billing_cycle),
    };
    match web.services.customers().create(&s.principal, input).await {
        Ok(w) => {
            let invoice = w.invoice.map(|i| i.id).unwrap_or_default();
            Ok(see_other(&format!(
                "{}?done=created&invoice={}",
                customer_href(&w.account.customer_id),
                urlenc(&invoice)
            )))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_new(&s, &prices(&web), StatusCode::UNPROCESSABLE_ENTITY, &f, Some(&e.fields))
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---- one customer ----

const DONE: &[(&str, &str)] = &[
    ("created", "The customer account was created and its first invoice issued."),
    ("started", "The plan is set: the customer's billing started and its first invoice was issued."),
    ("updated", "The account was saved."),
    ("invoiced", "The account was saved. The change was invoiced at once."),
    ("suspended", "The account is suspended: its service is paused; billing continues."),
    ("active", "The account is active again."),
    ("cancelled", "The account is cancelled: no further invoices will be issued."),
];

/// The notice of `done`, with a link to the invoice the action issued.
fn detail_notice(done: &str, invoice: &str, customer_id: &str) -> String {
    let mut out = done_notice(done, DONE);
    if !out.is_empty() && !invoice.is_empty() {
        let _ = write!(
            out,
            "<p><a href=\"{}/invoices/{}\">See the invoice</a></p>",
            customer_href(customer_id),
            urlenc(invoice)
        );
    }
    out
}

fn facts(d: &CustomerDetail, currency: &str) -> String {
    let mut out = String::from("<dl class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        let _ = write!(out, "<dt>{}</dt><dd>{v}</dd>", esc(k));
    };
    fact("Customer id", format!("<code>{}</code>", esc(&d.entry.link.customer_id)));
    match &d.entry.account {
        Some(a) => {
            fact("Company", esc(&a.company_name).to_string());
            fact("Contact", esc(&a.contact_name).to_string());
            fact("Contact e-mail", esc(&a.contact_email).to_string());
            fact("Phone", a.phone.as_deref().map_or_else(|| "—".to_owned(), |p| esc(p).to_string()));
            fact("Status", badge(a.status.as_str()));
            fact("Plan", esc(&a.plan).to_string());
            fact("Billing cycle", esc(a.billing_cycle.as_str()).to_string());
            fact("Price per cycle", money_cents(d.price_cents, &a.currency));
            fact("Current period", format!("{} – {}", date_of(a.current_period_start), date_of(a.current_period_end)));
            fact("Next invoice", next_invoice_at(a).map_or_else(|| "none (cancelled)".to_owned(), time));
            let balance = match a.balance_cents {
                0 => money_cents(0, &a.currency),
                b if b < 0 => format!("{} in credit (applied to the next invoices)", money_cents(-b, &a.currency)),
                b => format!("{} owed", money_cents(b, &a.currency)),
            };
            fact("Balance", balance);
            fact("Currency", esc(&a.currency).to_string());
            fact("Created", time(a.created_at));
            if let Some(c) = a.cancelled_at {
                fact("Cancelled", time(c));
            }
        }
        None => {
            fact("Company", esc(&d.entry.link.company_name).to_string());
            fact("Phone", d.entry.link.phone.as_deref().map_or_else(|| "—".to_owned(), |p| esc(p).to_string()));
            fact("Status", badge(CustomerStatus::Active.as_str()));
            fact("Plan", "<span class=\"muted\">none yet: not billed</span>".to_owned());
            fact("Currency", esc(currency).to_string());
            fact("Associated", time(d.entry.link.associated_at));
        }
    }
    out.push_str("</dl>");
    out
}

fn actions(s: &WebSession, d: &CustomerDetail, errors: Option<&ValidationErrors>) -> String {
    let id = &d.entry.link.customer_id;
    let href = customer_href(id);
    let mut out = String::from("<section aria-labelledby=\"actions-h\"><h2 id=\"actions-h\">Actions</h2>");
    out.push_str(&other_errors(errors, &["confirm"]));
    out.push_str("<p class=\"page-actions\">");
    let Some(a) = &d.entry.account else {
        let _ = write!(out, "<a class=\"button\" href=\"{href}/edit\">Set a plan (starts billing)</a></p></section>");
        return out;
    };
    if a.status != CustomerStatus::Cancelled {
        let _ = write!(out, "<a class=\"button\" href=\"{href}/edit\">Edit contact, plan or cycle</a> ");
    }
    let _ = write!(
        out,
        "<a href=\"/dashboard/tickets/new?customer_id={0}\">Open a support ticket</a> \
         <a href=\"/dashboard/tickets?customer_id={0}\">Its tickets</a></p>",
        urlenc(id)
    );
    let status_url = format!("{href}/status");
    match a.status {
        CustomerStatus::Active => {
            out.push_str("<p>Suspending pauses the customer's service; billing continues.</p>");
            out.push_str(&action_button(
                &status_url,
                &s.csrf_token,
                "Suspend",
                "secondary",
                &[("status", "suspended")],
            ));
        }
        CustomerStatus::Suspended => {
            out.push_str(&action_button(&status_url, &s.csrf_token, "Reactivate", "", &[("status", "active")]));
        }
        CustomerStatus::Cancelled => {
            out.push_str("<p class=\"muted\">A cancelled account is final: create a new customer to resubscribe.</p>");
        }
    }
    if a.status != CustomerStatus::Cancelled {
        let messages = field_errors(errors, "confirm");
        let (invalid, error) = if messages.is_empty() {
            (String::new(), String::new())
        } else {
            (
                " aria-invalid=\"true\" aria-describedby=\"f-confirm-error\"".to_owned(),
                format!("<p class=\"error\" id=\"f-confirm-error\">{}</p>", esc(&messages.join("; "))),
            )
        };
        let _ = write!(
            out,
            "<form method=\"post\" action=\"{}\" class=\"card cancel-form\">{}\
             <input type=\"hidden\" name=\"status\" value=\"cancelled\">\
             <div class=\"field check\"><label for=\"f-confirm\"><input type=\"checkbox\" id=\"f-confirm\" name=\"confirm\" value=\"yes\" required{invalid}> \
             I understand that cancelling is final: no further invoices, and no refund for the rest of the period.</label>{error}</div>\
             <button type=\"submit\" class=\"danger\">Cancel account</button></form>",
            esc(&status_url),
            csrf_field(&s.csrf_token),
        );
    }
    out.push_str("</section>");
    out
}

fn invoice_href(customer_id: &str, invoice_id: &str) -> String {
    format!("{}/invoices/{}", customer_href(customer_id), urlenc(invoice_id))
}

fn invoice_row(i: &InvoiceRecord) -> Vec<String> {
    let paid = if i.status == InvoiceStatus::Paid { maybe_time(i.status_changed_at) } else { "—".to_owned() };
    vec![
        link(&invoice_href(&i.customer_id, &i.id), &i.number),
        badge(i.status.as_str()),
        esc(reason(&i.billing_reason)).to_string(),
        money_cents(i.total_cents, &i.currency),
        time(i.issued_at),
        date_of(i.due_at),
        paid,
    ]
}

fn usage_form(action: &str, start: &str, end: &str, period: &str, errors: Option<&ValidationErrors>) -> String {
    let periods: Vec<(&str, &str)> = std::iter::once(("", "Billing period so far"))
        .chain(Period::NAMES.iter().map(|n| {
            let label = match *n {
                "7d" => "Last 7 days",
                "30d" => "Last 30 days",
                "90d" => "Last 90 days",
                "1y" => "Last year",
                other => other,
            };
            (*n, label)
        }))
        .collect();
    format!(
        "<form method=\"get\" action=\"{}\" class=\"filters\" aria-label=\"Usage range\">{}{}{}\
         <button type=\"submit\">Show usage</button></form>",
        esc(action),
        select("period", "Period", &periods, period, errors),
        Field::text("start_date", "Or from", start).kind("date").render(errors),
        Field::text("end_date", "to", end).kind("date").render(errors),
    )
}

/// The usage section: the range form, totals, a chart and the daily series. `false` when the
/// range was refused (the errors are shown beside the form's fields).
async fn usage_section(
    web: &Web,
    s: &Arc<WebSession>,
    a: &CustomerAccountRecord,
    p: &BTreeMap<String, String>,
) -> Result<(String, bool), PageError> {
    let (start, end, period) = (param(p, "start_date"), param(p, "end_date"), param(p, "period"));
    let action = customer_href(&a.customer_id);
    let mut out = String::from("<section aria-labelledby=\"usage-h\"><h2 id=\"usage-h\">Usage</h2>");
    let mut e = ValidationErrors::new();
    let period_v = optional(&mut e, "period", period, Period::parse);
    let result = if e.is_empty() {
        let q =
            partnerd_services::usage::UsageQuery { start_date: given(start), end_date: given(end), period: period_v };
        match web.services.usage().customer(&s.principal, &a.customer_id, q).await {
            Ok(u) => Some(u),
            Err(err) if err.kind == ErrorKind::Invalid => {
                e = err.fields;
                None
            }
            Err(err) => return Err(keep_nav(s)(err)),
        }
    } else {
        None
    };
    let errors = (!e.is_empty()).then_some(&e);
    out.push_str(&usage_form(&action, start, end, period, errors));
    out.push_str(&other_errors(errors, &["period", "start_date", "end_date"]));
    let Some(u) = result else {
        out.push_str("<p class=\"empty\">Correct the range to see the usage.</p></section>");
        return Ok((out, false));
    };
    let t = &u.report.totals;
    let rate = if t.api_requests == 0 {
        "0%".to_owned()
    } else {
        #[allow(clippy::cast_precision_loss)] // a ratio for display
        let r = t.api_errors as f64 / t.api_requests as f64 * 100.0;
        format!("{r:.2}%")
    };
    let storage = match t.storage_current {
        Some((d, b)) => format!("{} (as of {})", bytes(b), day(d)),
        None => "no sample".to_owned(),
    };
    let _ = write!(
        out,
        "<p>From {} to {}.</p><dl class=\"facts usage-totals\">\
         <dt>Messages</dt><dd>{}</dd><dt>Workflow executions</dt><dd>{}</dd>\
         <dt>API requests</dt><dd>{} ({} errors, {rate} error rate)</dd>\
         <dt>Storage</dt><dd>{storage}</dd><dt>Storage peak</dt><dd>{}</dd></dl>",
        day(t.days.start),
        day(t.days.end),
        grouped(t.messages),
        grouped(t.workflow_executions),
        grouped(t.api_requests),
        grouped(t.api_errors),
        t.storage_peak.map_or_else(|| "no sample".to_owned(), bytes),
    );
    let channels: Vec<Vec<String>> =
        t.messages_by_channel.iter().map(|(c, n)| vec![esc(c.as_str()).to_string(), grouped(*n)]).collect();
    out.push_str("<div class=\"usage-grid\">");
    out.push_str(&table("Messages by channel", &["Channel", "Messages"], &channels, "No channels."));
    let series = |name: &str, f: fn(&partnerd_domain::usage::DailyFigures) -> i64| Series {
        name: name.to_owned(),
        points: u
            .report
            .daily
            .iter()
            .map(|d| {
                #[allow(clippy::cast_precision_loss)] // a chart's scale
                let value = f(d) as f64;
                Point { label: d.day.format("%m-%d").to_string(), value, display: grouped(f(d)) }
            })
            .collect(),
    };
    out.push_str(&line_chart(
        "usage-daily",
        "Daily usage",
        &[
            series("Messages", |d| d.messages),
            series("Workflow executions", |d| d.workflow_executions),
            series("API requests", |d| d.api_requests),
        ],
    ));
    out.push_str("</div>");
    let daily: Vec<Vec<String>> = u
        .report
        .daily
        .iter()
        .map(|d| {
            vec![
                day(d.day),
                grouped(d.messages),
                grouped(d.workflow_executions),
                grouped(d.api_requests),
                grouped(d.api_errors),
                d.storage_bytes.map_or_else(|| "—".to_owned(), bytes),
            ]
        })
        .collect();
    out.push_str(&table(
        "Usage by day (UTC), oldest first",
        &["Day", "Messages", "Workflow executions", "API requests", "API errors", "Storage"],
        &daily,
        "No days in the range.",
    ));
    out.push_str("</section>");
    Ok((out, true))
}

/// The customer's page; `action_errors` are a refused status change's.
async fn render_detail(
    web: &Web,
    s: &Arc<WebSession>,
    id: &str,
    p: &BTreeMap<String, String>,
    mut status: StatusCode,
    top: &str,
    action_errors: Option<&ValidationErrors>,
) -> PageResult {
    let d = web.services.customers().get(&s.principal, id).await.map_err(keep_nav(s))?;
    let currency = prices(web).currency;
    let name = d.entry.account.as_ref().map_or(d.entry.link.company_name.as_str(), |a| a.company_name.as_str());
    let mut body = String::from("<p class=\"crumbs\"><a href=\"/dashboard/customers\">Customers</a></p>");
    body.push_str(top);
    body.push_str(&facts(&d, &currency));
    body.push_str(&actions(s, &d, action_errors));
    let Some(a) = &d.entry.account else {
        body.push_str(
            "<p class=\"empty\">This customer has no plan yet, so it has no invoices, commissions or usage. \
             Setting a plan starts its billing.</p>",
        );
        return Ok(html(status, page(Some(s), name, Nav::Customers, &body)));
    };
    let href = customer_href(&a.customer_id);

    // Invoices, paged.
    let billing = web.services.billing();
    let inv_page = page_number(param(p, "page"));
    let filter = InvoiceFilter { customer_id: Some(a.customer_id.clone()), ..InvoiceFilter::default() };
    let Paged { items: invoices, total, .. } = billing
        .list_invoices(&s.principal, &filter, &Window::Offset(offset_of(inv_page, PER_PAGE)), PER_PAGE)
        .await
        .map_err(keep_nav(s))?;
    let rows: Vec<Vec<String>> = invoices.iter().map(invoice_row).collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"invoices-h\"><h2 id=\"invoices-h\">Invoices</h2>{}{}</section>",
        table(
            "Invoices, newest first",
            &["Number", "Status", "Reason", "Amount", "Issued", "Due", "Paid"],
            &rows,
            "No invoices yet."
        ),
        pager(
            &href,
            &query_of(&[
                ("period", param(p, "period")),
                ("start_date", param(p, "start_date")),
                ("end_date", param(p, "end_date")),
            ]),
            inv_page,
            u64::from(PER_PAGE),
            total,
        )
    );

    // Commissions: every one of the customer's, newest first (at most 20 here).
    let today = web.services.now().date_naive();
    let since = a.created_at.date_naive().min(today);
    let range = DateRange { start: since, end: today };
    let mut commissions =
        billing.commissions(&s.principal, range, Some(a.customer_id.clone())).await.map_err(keep_nav(s))?;
    commissions.reverse();
    let shown = commissions.len().min(20);
    // The shown commissions' invoices: from the page of invoices above, else one read of the
    // customer's newest ones (not a read per commission).
    let mut periods: Vec<InvoiceRecord> = Vec::new();
    if commissions.iter().take(shown).any(|c| !invoices.iter().any(|i| i.id == c.invoice_id)) {
        let Paged { items: newest, .. } =
            billing.list_invoices(&s.principal, &filter, &Window::Offset(0), 100).await.map_err(keep_nav(s))?;
        periods = newest;
    }
    let mut rows = Vec::with_capacity(shown);
    for c in commissions.iter().take(shown) {
        let invoice = invoices.iter().chain(&periods).find(|i| i.id == c.invoice_id);
        let period = invoice
            .map_or_else(|| "—".to_owned(), |i| format!("{} – {}", date_of(i.period_start), date_of(i.period_end)));
        rows.push(vec![
            link(&invoice_href(&c.customer_id, &c.invoice_id), &c.invoice_number),
            period,
            money_cents(c.base_cents, &c.currency),
            percent_bps(c.rate_bps),
            money_cents(c.amount_cents, &c.currency),
            badge(&c.status),
            time(c.earned_at),
        ]);
    }
    let _ = write!(
        body,
        "<section aria-labelledby=\"commissions-h\"><h2 id=\"commissions-h\">Commissions</h2>{}\
         <p><a href=\"/dashboard/customers/commissions?customer_id={}&amp;start_date={since}\">Commission report for this customer</a></p></section>",
        table(
            "Your commissions on this customer, newest first",
            &["Invoice", "Period", "Base", "Rate", "Amount", "Status", "Earned"],
            &rows,
            "No commissions yet."
        ),
        urlenc(&a.customer_id),
    );

    let (usage, ok) = usage_section(web, s, a, p).await?;
    if !ok && status == StatusCode::OK {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    body.push_str(&usage);
    Ok(html(status, page(Some(s), name, Nav::Customers, &body)))
}

async fn detail_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let p = params(q.as_deref());
    let top = detail_notice(param(&p, "done"), param(&p, "invoice"), &id);
    render_detail(&web, &s, &id, &p, StatusCode::OK, &top, None).await
}

#[derive(Deserialize, Default)]
pub(crate) struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    confirm: String,
}

async fn set_status(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> PageResult {
    let to = f.status.trim();
    let none = BTreeMap::new();
    if to == CustomerStatus::Cancelled.as_str() && f.confirm != "yes" {
        let e = ValidationErrors::single("confirm", "tick this box to confirm: cancelling is final");
        return render_detail(&web, &s, &id, &none, StatusCode::UNPROCESSABLE_ENTITY, "", Some(&e)).await;
    }
    let change = CustomerChange { status: Some(to.to_owned()), ..CustomerChange::default() };
    match web.services.customers().update(&s.principal, &id, change).await {
        Ok(w) => Ok(see_other(&format!("{}?done={}", customer_href(&id), urlenc(w.account.status.as_str())))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_detail(&web, &s, &id, &none, StatusCode::UNPROCESSABLE_ENTITY, "", Some(&e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---- edit ----

fn render_edit(
    s: &Arc<WebSession>,
    prices: &PriceList,
    d: &CustomerDetail,
    status: StatusCode,
    f: &CustomerForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let id = &d.entry.link.customer_id;
    let href = customer_href(id);
    let name = d.entry.account.as_ref().map_or(d.entry.link.company_name.as_str(), |a| a.company_name.as_str());
    let mut body =
        format!("<p class=\"crumbs\"><a href=\"/dashboard/customers\">Customers</a> › {}</p>", link(&href, name));
    if d.entry.account.is_some() {
        body.push_str(
            "<p>A more expensive plan is prorated and invoiced at once; a cheaper one takes effect at once and its \
             credit goes to the balance. Changing the billing cycle restarts the period now.</p>",
        );
    } else {
        body.push_str(
            "<p>This customer has no plan yet. Setting one starts its billing: the first period starts now and \
             its first invoice is issued at once.</p>",
        );
    }
    let _ = write!(
        body,
        "{}<form method=\"post\" action=\"{href}/edit\" class=\"card\">{}{}\
         <button type=\"submit\">Save</button> <a href=\"{href}\">Cancel</a></form>",
        other_errors(errors, CUSTOMER_FIELDS),
        csrf_field(&s.csrf_token),
        account_fields(prices, f, errors, d.entry.account.is_none()),
    );
    Ok(html(status, page(Some(s), &format!("Edit {name}"), Nav::Customers, &body)))
}

async fn edit_page(State(web): State<Web>, PartnerUser(s): PartnerUser, Path(id): Path<String>) -> PageResult {
    let d = web.services.customers().get(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let f = match &d.entry.account {
        Some(a) => CustomerForm {
            company_name: a.company_name.clone(),
            contact_email: a.contact_email.clone(),
            contact_name: a.contact_name.clone(),
            phone: a.phone.clone().unwrap_or_default(),
            plan: a.plan.clone(),
            billing_cycle: a.billing_cycle.as_str().to_owned(),
        },
        None => CustomerForm {
            company_name: d.entry.link.company_name.clone(),
            phone: d.entry.link.phone.clone().unwrap_or_default(),
            billing_cycle: BillingCycle::Monthly.as_str().to_owned(),
            ..CustomerForm::default()
        },
    };
    render_edit(&s, &prices(&web), &d, StatusCode::OK, &f, None)
}

async fn update(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(f): Form<CustomerForm>,
) -> PageResult {
    let customers = web.services.customers();
    let d = customers.get(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let has_account = d.entry.account.is_some();
    // On an account an emptied field is a change to refuse, not "unchanged".
    let value = |v: &str| if has_account { Some(v.trim().to_owned()) } else { given(v) };
    let change = CustomerChange {
        contact_email: value(&f.contact_email),
        contact_name: value(&f.contact_name),
        phone: Some(given(&f.phone)),
        plan: given(&f.plan),
        billing_cycle: given(&f.billing_cycle),
        status: None,
    };
    match customers.update(&s.principal, &id, change).await {
        Ok(w) => {
            let done = match (&w.invoice, has_account) {
                (Some(_), false) => "started",
                (Some(_), true) => "invoiced",
                (None, _) => "updated",
            };
            let invoice = w.invoice.map(|i| i.id).unwrap_or_default();
            Ok(see_other(&format!("{}?{}", customer_href(&id), query_of(&[("done", done), ("invoice", &invoice)]))))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_edit(&s, &prices(&web), &d, StatusCode::UNPROCESSABLE_ENTITY, &f, Some(&e.fields))
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---- one invoice ----

async fn invoice_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path((id, invoice_id)): Path<(String, String)>,
) -> PageResult {
    let i = web.services.billing().get_invoice(&s.principal, &invoice_id).await.map_err(keep_nav(&s))?;
    if i.customer_id != id {
        return Err(PageError::not_found().with_session(s));
    }
    let d = web.services.customers().get(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let name = d.entry.account.as_ref().map_or(d.entry.link.company_name.as_str(), |a| a.company_name.as_str());
    let cur = i.currency.as_str();
    let mut body = format!(
        "<p class=\"crumbs\"><a href=\"/dashboard/customers\">Customers</a> › {}</p>",
        link(&customer_href(&id), name)
    );
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Number</dt><dd>{}</dd><dt>Customer</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd>\
         <dt>Reason</dt><dd>{}</dd><dt>Period</dt><dd>{} – {}</dd><dt>Issued</dt><dd>{}</dd><dt>Due</dt><dd>{}</dd>",
        esc(&i.number),
        link(&customer_href(&id), name),
        badge(i.status.as_str()),
        esc(reason(&i.billing_reason)),
        time(i.period_start),
        time(i.period_end),
        time(i.issued_at),
        date_of(i.due_at),
    );
    if let Some(t) = i.status_changed_at {
        let _ = write!(body, "<dt>Marked {}</dt><dd>{}</dd>", esc(i.status.as_str()), time(t));
    }
    let _ = write!(body, "<dt>Currency</dt><dd>{}</dd></dl>", esc(cur));
    let lines: Vec<LineItem> = serde_json::from_value(i.line_items.clone()).unwrap_or_default();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let desc = if l.proration {
                format!("{} <span class=\"badge\">proration</span>", esc(&l.description))
            } else {
                esc(&l.description).to_string()
            };
            vec![
                desc,
                format!("{} – {}", date_of(l.period_start), date_of(l.period_end)),
                grouped(l.quantity),
                money_cents(l.unit_amount, cur),
                money_cents(l.amount, cur),
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"lines-h\"><h2 id=\"lines-h\">Line items</h2>{}\
         <dl class=\"facts totals\"><dt>Subtotal</dt><dd>{}</dd><dt>Total</dt><dd><strong>{}</strong></dd></dl></section>",
        table("Line items", &["Description", "Period", "Quantity", "Unit amount", "Amount"], &rows, "No lines."),
        money_cents(i.subtotal_cents, cur),
        money_cents(i.total_cents, cur),
    );
    let commission_status = if i.status == InvoiceStatus::Void { "reversed" } else { "earned" };
    let _ = write!(
        body,
        "<section aria-labelledby=\"commission-h\"><h2 id=\"commission-h\">Your commission</h2>\
         <dl class=\"facts\"><dt>Rate</dt><dd>{}</dd><dt>Base</dt><dd>{}</dd><dt>Amount</dt><dd>{}</dd>\
         <dt>Status</dt><dd>{}</dd></dl></section>",
        percent_bps(i.commission_rate_bps),
        money_cents(i.commission_base_cents, cur),
        money_cents(i.commission_cents, cur),
        badge(commission_status),
    );
    Ok(html(StatusCode::OK, page(Some(&s), &format!("Invoice {}", i.number), Nav::Customers, &body)))
}

// ---- the commission report ----

fn commission_row(c: &CommissionRecord, names: &BTreeMap<&str, &str>) -> Vec<String> {
    let name = names.get(c.customer_id.as_str()).copied().unwrap_or(c.customer_id.as_str());
    vec![
        link(&invoice_href(&c.customer_id, &c.invoice_id), &c.invoice_number),
        link(&customer_href(&c.customer_id), name),
        money_cents(c.base_cents, &c.currency),
        percent_bps(c.rate_bps),
        money_cents(c.amount_cents, &c.currency),
        badge(&c.status),
        time(c.earned_at),
        maybe_time(c.reversed_at),
    ]
}

async fn commissions_page(State(web): State<Web>, PartnerUser(s): PartnerUser, RawQuery(q): RawQuery) -> PageResult {
    let p = params(q.as_deref());
    let (start, end, customer) = (param(&p, "start_date"), param(&p, "end_date"), param(&p, "customer_id"));
    let today = web.services.now().date_naive();
    let mut choices = account_choices(&web, &s).await?;
    if !customer.is_empty() && !choices.iter().any(|(c, _)| c == customer) {
        choices.push((customer.to_owned(), customer.to_owned()));
    }
    let range = DateRange::month_to_date(given(start).as_deref(), given(end).as_deref(), today);
    let errors = range.as_ref().err();
    let customer_opts = with_first("Every customer", &choices);
    let mut body = String::from("<p class=\"crumbs\"><a href=\"/dashboard/customers\">Customers</a></p>");
    let _ = write!(
        body,
        "<p>Each invoice earns one commission when it is issued: its total times your rate, rounded to the cent. \
         A voided invoice's commission is reversed.</p>\
         <form method=\"get\" action=\"/dashboard/customers/commissions\" class=\"filters\" aria-label=\"Report range\">{}{}{}\
         <button type=\"submit\">Show</button></form>{}",
        Field::text("start_date", "From", start).kind("date").render(errors),
        Field::text("end_date", "To", end).kind("date").render(errors),
        select("customer_id", "Customer", &customer_opts, customer, errors),
        other_errors(errors, &["start_date", "end_date", "customer_id"]),
    );
    let range = match range {
        Ok(r) => r,
        Err(_) => {
            body.push_str("<p class=\"empty\">Correct the range to see the report.</p>");
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page(Some(&s), "Commissions", Nav::Customers, &body)));
        }
    };
    let rows = web.services.billing().commissions(&s.principal, range, given(customer)).await.map_err(keep_nav(&s))?;
    let t = partnerd_services::billing::totals(&rows);
    let currency = prices(&web).currency;
    let _ = write!(
        body,
        "<p>From {} to {} (UTC days, inclusive).</p><div class=\"grid\">\
         <div class=\"stat\"><b>{}</b><span>Earned</span></div>\
         <div class=\"stat\"><b>{}</b><span>Invoiced base</span></div>\
         <div class=\"stat\"><b>{}</b><span>Reversed</span></div>\
         <div class=\"stat\"><b>{}</b><span>Commissions</span></div></div>",
        day(range.start),
        day(range.end),
        money_cents(t.earned_cents, &currency),
        money_cents(t.base_cents, &currency),
        money_cents(t.reversed_cents, &currency),
        t.count,
    );
    let names: BTreeMap<&str, &str> = choices.iter().map(|(c, n)| (c.as_str(), n.as_str())).collect();
    let mut by_customer: BTreeMap<&str, i64> = BTreeMap::new();
    for c in rows.iter().filter(|c| c.status == "earned") {
        *by_customer.entry(c.customer_id.as_str()).or_default() += c.amount_cents;
    }
    if by_customer.len() > 1 {
        let mut bars: Vec<Bar> = by_customer
            .iter()
            .map(|(c, cents)| {
                #[allow(clippy::cast_precision_loss)] // a chart's scale
                let value = *cents as f64 / 100.0;
                Bar {
                    label: names.get(c).copied().unwrap_or(c).to_owned(),
                    value,
                    display: money_cents(*cents, &currency),
                }
            })
            .collect();
        bars.sort_by(|a, b| b.value.total_cmp(&a.value));
        body.push_str(&hbar_chart("commissions-by-customer", "Earned by customer", &bars, None));
    }
    let table_rows: Vec<Vec<String>> = rows.iter().map(|c| commission_row(c, &names)).collect();
    body.push_str(&table(
        "Commissions, oldest first",
        &["Invoice", "Customer", "Base", "Rate", "Amount", "Status", "Earned", "Reversed"],
        &table_rows,
        "No commissions in this range.",
    ));
    Ok(html(StatusCode::OK, page(Some(&s), "Commissions", Nav::Customers, &body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(percent_bps(1500), "15%");
        assert_eq!(percent_bps(1250), "12.5%");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000_000), "1.5 GB");
    }
}
