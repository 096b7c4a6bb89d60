//! The operator's pages under `/dashboard/operator`: the marketplace's figures, partners
//! (enrol, plan, suspend/resume), users (invitation and reset links), the catalog (create and
//! edit through the import the CLI uses) and lead conversion approvals. Every page takes
//! [`OperatorUser`] (a partner's user gets 403) and calls the same service use cases as the CLI
//! and the APIs, as the signed-in operator; links and keys are shown once and never e-mailed.

use crate::Web;
use crate::charts::{Bar, bar_chart, hbar_chart};
use crate::forms::DoneQuery;
use crate::html::{
    Field, Nav, action_button, alert, as_options, badge, copy_row, csrf_field, done_notice, esc, filter_ids,
    money_cents, money_sum, notice, other_errors, page, pager, select, table, time, urlenc,
};
use crate::keys::{key_cells, key_state};
use crate::list::{PER_PAGE, offset_of, page_number, search_of};
use crate::session::{OperatorUser, PageError, PageResult, html, keep_nav, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_domain::analytics::Period;
use partnerd_domain::catalog::{Edition, Frequency, PricingStrategy, PricingUnit, RevenueType};
use partnerd_domain::lead::LeadStatus;
use partnerd_domain::partner::Role;
use partnerd_services::catalog::Product;
use partnerd_services::leads::{ListLeads, customer_of};
use partnerd_services::partners::{CreatePartner, CreatedPartner, PartnerChange};
use partnerd_services::policy::Context;
use partnerd_services::users::{IssuedLink, LinkPurpose, NewUserIn, WebSession};
use partnerd_services::{ErrorKind, ServiceError};
use partnerd_store::{LeadRecord, LeadSort, PartnerRecord, SortOrder};
use partnerd_store::{Paged, Window};
use serde::Deserialize;
use serde_json::{Value, json};
use std::fmt::Write;
use std::sync::Arc;

/// The lists' page size, for those it cuts itself.
const ROWS: usize = PER_PAGE as usize;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/operator", get(overview))
        .route("/operator/partners", get(partners_page).post(enrol))
        .route("/operator/partners/{id}", get(partner_page))
        .route("/operator/partners/{id}/plan", post(change_plan))
        .route("/operator/partners/{id}/suspend", post(suspend))
        .route("/operator/partners/{id}/resume", post(resume))
        .route("/operator/users", get(users_page).post(invite))
        .route("/operator/users/{id}/reset", post(reset_link))
        .route("/operator/catalog", get(catalog_page).post(create_product))
        .route("/operator/catalog/{id}", get(product_page).post(edit_product))
        .route("/operator/leads", get(leads_page))
        .route("/operator/leads/{id}/approve", post(approve_lead))
        .route("/operator/leads/{id}/reject", post(reject_lead))
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// A list's search text; a refused one is said above the list (`body`) and not applied.
fn search(raw: &str, body: &mut String) -> Option<String> {
    search_of(raw).unwrap_or_else(|m| {
        body.push_str(&alert(&format!("The search {m}.")));
        None
    })
}

const NO_EMAIL: &str =
    "The dashboard sends no e-mail: give the link to its user yourself (it is shown only this once).";

/// The box showing a just-issued invitation or reset link.
fn link_box(web: &Web, link: &IssuedLink) -> String {
    let what = match link.purpose {
        LinkPurpose::Invitation => "Invitation link",
        LinkPurpose::Reset => "Password-reset link",
    };
    format!(
        "<section class=\"card secret\" aria-labelledby=\"link-h\"><h2 id=\"link-h\">{what} for {}</h2>\
         <p>Copy it now: it is shown only this once. It works once, until {}.</p>{}<p class=\"muted\">{}</p></section>",
        esc(&link.email),
        time(link.expires_at),
        copy_row("link-url", &web.settings.link_url(&link.token)),
        esc(NO_EMAIL)
    )
}

fn plan_options(web: &Web) -> Vec<(String, String)> {
    web.services.plans().names().map(|n| (n.to_owned(), n.to_owned())).collect()
}

/// The roles a partner's user may get (the channel admin role is the operator's).
fn role_options() -> Vec<(&'static str, String)> {
    Role::ALL.iter().filter(|r| **r != Role::ChannelAdmin).map(|r| (r.as_str(), r.as_str().replace('_', " "))).collect()
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

fn partner_status(p: &PartnerRecord) -> &'static str {
    if p.suspended_at.is_some() { "suspended" } else { "active" }
}

// ---------------------------------------------------------------------------------------------
// GET /dashboard/operator: the marketplace's figures

#[derive(Deserialize, Default)]
struct PeriodQuery {
    #[serde(default)]
    period: String,
}

fn stat(id: &str, value: &str, label: &str) -> String {
    format!("<div class=\"stat\"><b id=\"stat-{id}\">{}</b><span>{}</span></div>", esc(value), esc(label))
}

async fn overview(State(web): State<Web>, OperatorUser(s): OperatorUser, Query(q): Query<PeriodQuery>) -> PageResult {
    let (period, mut body) = match q.period.trim() {
        "" => (Period::Days30, String::new()),
        raw => match Period::parse(raw) {
            Ok(p) => (p, String::new()),
            Err(m) => (Period::Days30, alert(&format!("period: {m}. Showing the last 30 days."))),
        },
    };
    let f = web.services.metrics().marketplace(&s.principal, period).await.map_err(keep_nav(&s))?;
    let cur = f.currency.as_str();
    let periods: Vec<(&str, &str)> =
        vec![("7d", "Last 7 days"), ("30d", "Last 30 days"), ("90d", "Last 90 days"), ("1y", "Last year")];
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/dashboard/operator\" class=\"filters\">{}<button type=\"submit\" class=\"secondary\">Show</button></form>\
         <p class=\"muted\">Period: {} to {}. Amounts in {}.</p>",
        select("period", "Period", &periods, period.as_str(), None),
        time(f.window.start),
        time(f.window.end),
        esc(cur)
    );
    let leads_total: u64 = f.leads_by_status.iter().map(|(_, n)| n).sum();
    let pending =
        f.leads_by_status.iter().find(|(st, _)| *st == LeadStatus::PendingConversionApproval).map_or(0, |(_, n)| *n);
    let open_deals: u64 = f
        .cosell_by_status
        .iter()
        .filter(|(st, _, _)| matches!(st.as_str(), "open" | "in_progress"))
        .map(|(_, n, _)| n)
        .sum();
    let average = f.average_listing_score.map_or_else(|| "–".to_owned(), |h| format!("{}.{:02}", h / 100, h % 100));
    let _ = write!(
        body,
        "<section aria-labelledby=\"figures-h\"><h2 id=\"figures-h\">At a glance</h2><div class=\"grid\">{}{}{}{}{}{}{}{}{}{}{}{}{}</div></section>",
        stat("partners", &f.partners_total.to_string(), "Partners"),
        stat("suspended", &f.partners_suspended.to_string(), "Suspended partners"),
        stat("listings", &f.listings_total.to_string(), "Listings"),
        stat("listing-score", &average, "Average listing SEO score"),
        stat("deals-open", &open_deals.to_string(), "Open co-sell deals"),
        stat("pipeline", &money_sum(f.cosell_pipeline_cents, cur), "Co-sell pipeline (open and in progress)"),
        stat("won", &money_sum(f.cosell_won_cents, cur), "Co-sell won in the period"),
        stat("leads", &leads_total.to_string(), "Leads before the marketplace"),
        stat("pending-approvals", &pending.to_string(), "Conversions awaiting approval"),
        stat("customers", &f.customers_total.to_string(), "Customer accounts"),
        stat("mrr", &money_sum(f.mrr_cents, cur), "Monthly recurring revenue"),
        stat("invoiced", &money_sum(f.invoiced_cents, cur), "Invoiced in the period"),
        stat("commissions", &money_sum(f.commissions_cents, cur), "Commissions earned in the period"),
    );
    let _ = write!(
        body,
        "<p class=\"muted\">Also in the period: {} collected, {} outstanding now, {} co-sell deals created. \
         <a href=\"/dashboard/operator/leads\">Review conversion requests</a>.</p>",
        money_sum(f.collected_cents, cur),
        money_sum(f.outstanding_cents, cur),
        f.cosell_created
    );

    // Charts.
    let plan_bars: Vec<Bar> = f
        .partners_by_plan
        .iter()
        .map(|(plan, n)| Bar { label: plan.clone(), value: *n as f64, display: n.to_string() })
        .collect();
    let deal_bars: Vec<Bar> = f
        .cosell_by_status
        .iter()
        .map(|(st, _, v)| Bar { label: st.as_str().replace('_', " "), value: *v as f64, display: money_sum(*v, cur) })
        .collect();
    let lead_bars: Vec<Bar> = f
        .leads_by_status
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(st, n)| Bar {
            label: st.as_str().replace('_', " ").to_lowercase(),
            value: *n as f64,
            display: n.to_string(),
        })
        .collect();
    let mut by_mrr: Vec<_> = f.partners.iter().collect();
    by_mrr.sort_by(|a, b| b.mrr_cents.cmp(&a.mrr_cents).then_with(|| a.company_name.cmp(&b.company_name)));
    let mrr_bars: Vec<Bar> = by_mrr
        .iter()
        .take(10)
        .map(|p| Bar { label: p.company_name.clone(), value: p.mrr_cents as f64, display: money_sum(p.mrr_cents, cur) })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"charts-h\"><h2 id=\"charts-h\">Charts</h2><div class=\"charts op-charts\">{}{}{}{}</div></section>",
        bar_chart("op-plans", "Partners by plan", &plan_bars),
        bar_chart("op-deals", "Co-sell deal value by status", &deal_bars),
        hbar_chart("op-leads", "Leads by status", &lead_bars, None),
        hbar_chart("op-mrr", "Monthly recurring revenue by partner (top 10)", &mrr_bars, None),
    );

    // Partners by plan and status.
    let rows: Vec<Vec<String>> = f
        .partners_by_plan
        .iter()
        .map(|(plan, total)| {
            let suspended = f.partners.iter().filter(|p| p.plan == *plan && p.suspended).count();
            let q = format!("plan={}", urlenc(plan));
            vec![
                format!("<a href=\"/dashboard/operator/partners?{q}\">{}</a>", esc(plan)),
                total.saturating_sub(suspended as u64).to_string(),
                suspended.to_string(),
                total.to_string(),
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"plans-h\"><h2 id=\"plans-h\">Partners by plan and status</h2>{}</section>",
        table("Partners by plan and status", &["Plan", "Active", "Suspended", "Total"], &rows, "No partners yet.")
    );
    let lead_rows: Vec<Vec<String>> =
        f.leads_by_status.iter().map(|(st, n)| vec![badge(&st.as_str().to_lowercase()), n.to_string()]).collect();
    let deal_rows: Vec<Vec<String>> = f
        .cosell_by_status
        .iter()
        .map(|(st, n, v)| vec![badge(st.as_str()), n.to_string(), money_sum(*v, cur)])
        .collect();
    let _ = write!(
        body,
        "<div class=\"op-columns\"><section aria-labelledby=\"leads-h\"><h2 id=\"leads-h\">Leads by status</h2>\
         <p class=\"muted\">The leads before the marketplace: company- and product-profile leads, and manual leads once their conversion is requested.</p>{}</section>\
         <section aria-labelledby=\"deals-h\"><h2 id=\"deals-h\">Co-sell deals by status</h2><p class=\"muted\">Each deal once, whichever partner shared it.</p>{}</section></div>",
        table("Leads by status", &["Status", "Leads"], &lead_rows, "No leads."),
        table("Co-sell deals by status", &["Status", "Deals", "Value"], &deal_rows, "No deals.")
    );
    let partner_rows: Vec<Vec<String>> = by_mrr
        .iter()
        .take(ROWS)
        .map(|p| {
            vec![
                format!(
                    "<a href=\"/dashboard/operator/partners/{}\">{}</a>",
                    urlenc(&p.partner_id),
                    esc(&p.company_name)
                ),
                esc(&p.plan).to_string(),
                badge(if p.suspended { "suspended" } else { "active" }),
                p.listings.to_string(),
                p.customers.to_string(),
                money_sum(p.mrr_cents, cur),
                money_sum(p.invoiced_cents, cur),
                money_sum(p.commissions_cents, cur),
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"top-h\"><h2 id=\"top-h\">Partners by revenue</h2>{}</section>",
        table(
            "Partners by monthly recurring revenue",
            &["Partner", "Plan", "Status", "Listings", "Customers", "MRR", "Invoiced", "Commissions"],
            &partner_rows,
            "No partners yet. Enrol one on the Partners page."
        )
    );
    Ok(html(StatusCode::OK, page(Some(&s), "Marketplace", Nav::OpOverview, &body)))
}

// ---------------------------------------------------------------------------------------------
// Partners: list, enrol, detail, plan, suspend/resume

#[derive(Deserialize, Default)]
struct PartnersQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
}

#[derive(Deserialize, Default)]
struct EnrolForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    role: String,
}

struct PartnersView<'a> {
    status: StatusCode,
    top: &'a str,
    form: &'a EnrolForm,
    errors: Option<&'a ValidationErrors>,
}

async fn render_partners(web: &Web, s: &Arc<WebSession>, q: &PartnersQuery, v: PartnersView<'_>) -> PageResult {
    let all = web.services.partners().all(&s.principal).await.map_err(keep_nav(s))?;
    let mut body = String::from(v.top);
    let search = search(&q.search, &mut body).map(|t| t.to_lowercase());
    let (plan, status) = (q.plan.trim(), q.status.trim());
    let mut matching: Vec<&PartnerRecord> = all
        .iter()
        .filter(|p| plan.is_empty() || p.plan == plan)
        .filter(|p| status.is_empty() || !matches!(status, "active" | "suspended") || partner_status(p) == status)
        .filter(|p| {
            search.as_deref().is_none_or(|t| {
                p.company_name.to_lowercase().contains(t)
                    || p.contact_email.to_lowercase().contains(t)
                    || p.id.to_lowercase() == t
            })
        })
        .collect();
    matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    let total = matching.len() as u64;
    let page_no = page_number(&q.page);
    let rows: Vec<Vec<String>> = matching
        .iter()
        .skip(usize::try_from(offset_of(page_no, PER_PAGE)).unwrap_or(usize::MAX))
        .take(ROWS)
        .map(|p| {
            vec![
                format!("<a href=\"/dashboard/operator/partners/{}\">{}</a>", urlenc(&p.id), esc(&p.company_name)),
                format!("<code>{}</code>", esc(&p.id)),
                esc(&p.contact_email).to_string(),
                esc(&p.plan).to_string(),
                badge(partner_status(p)),
                time(p.created_at),
            ]
        })
        .collect();
    let plans = plan_options(web);
    let mut plan_filter = vec![(String::new(), "Any plan".to_owned())];
    plan_filter.extend(plans.iter().cloned());
    let statuses = [("", "Any status"), ("active", "Active"), ("suspended", "Suspended")];
    let _ = write!(
        body,
        "<section aria-labelledby=\"list-h\"><h2 id=\"list-h\">Partners</h2>\
         <form method=\"get\" action=\"/dashboard/operator/partners\" class=\"filters\">{}<button type=\"submit\" class=\"secondary\">Filter</button></form>{}",
        filter_ids(
            &[
                Field::text("search", "Search", &q.search)
                    .hint("Company, contact e-mail or partner ID")
                    .kind("search")
                    .render(None),
                select("plan", "Plan", &as_options(&plan_filter), plan, None),
                select("status", "Status", &statuses, status, None),
            ]
            .concat()
        ),
        table(
            "Partners of the marketplace",
            &["Company", "Partner ID", "Contact", "Plan", "Status", "Enrolled"],
            &rows,
            "No partner matches."
        ),
    );
    let base = format!("search={}&plan={}&status={}", urlenc(&q.search), urlenc(plan), urlenc(status));
    body.push_str(&pager("/dashboard/operator/partners", &base, page_no, u64::from(PER_PAGE), total));
    body.push_str("</section>");

    let roles = role_options();
    let role_pairs: Vec<(&str, &str)> = roles.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let chosen_plan = if v.form.plan.is_empty() { "business" } else { v.form.plan.as_str() };
    let chosen_role = if v.form.role.is_empty() { "reseller" } else { v.form.role.as_str() };
    let _ = write!(
        body,
        "<section aria-labelledby=\"enrol-h\"><h2 id=\"enrol-h\">Enrol a partner</h2>\
         <p class=\"muted\">Creates the company, its admin user and a first API key (as <code>partnerd partners create</code> does), \
         then shows the admin's invitation link once. {}</p>{}\
         <form method=\"post\" action=\"/dashboard/operator/partners\" class=\"card\">{}{}{}{}{}\
         <button type=\"submit\" id=\"enrol\">Enrol partner</button></form></section>",
        esc("The dashboard sends no e-mail."),
        other_errors(v.errors, &["name", "email", "plan", "role"]),
        csrf_field(&s.csrf_token),
        Field::text("name", "Company name", &v.form.name).required().render(v.errors),
        Field::text("email", "Admin e-mail", &v.form.email).kind("email").required().render(v.errors),
        select("plan", "Plan", &as_options(&plans), chosen_plan, v.errors),
        select("role", "Admin's role", &role_pairs, chosen_role, v.errors),
    );
    Ok(html(v.status, page(Some(s), "Partners", Nav::OpPartners, &body)))
}

async fn partners_page(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Query(q): Query<PartnersQuery>,
) -> PageResult {
    let form = EnrolForm::default();
    render_partners(&web, &s, &q, PartnersView { status: StatusCode::OK, top: "", form: &form, errors: None }).await
}

fn enrolled_box(
    web: &Web,
    form: &EnrolForm,
    created: &CreatedPartner,
    link: Result<IssuedLink, ServiceError>,
) -> String {
    let mut out = format!(
        "<section class=\"card secret\" aria-labelledby=\"enrolled-h\"><h2 id=\"enrolled-h\">{} is enrolled</h2>\
         <p><a href=\"/dashboard/operator/partners/{}\">Open the partner</a> (<code>{}</code>).</p>",
        esc(form.name.trim()),
        urlenc(&created.partner_id),
        esc(&created.partner_id)
    );
    match link {
        Ok(link) => {
            let _ = write!(
                out,
                "<h3>Invitation link for {}</h3><p>The admin sets a password through it: one use, until {}.</p>{}",
                esc(&link.email),
                time(link.expires_at),
                copy_row("invitation-url", &web.settings.link_url(&link.token))
            );
        }
        Err(e) => {
            let _ = write!(
                out,
                "{}",
                alert(&format!(
                    "The invitation link could not be made ({}). Make one on the Users page.",
                    crate::session::service_message(&e)
                ))
            );
        }
    }
    let _ = write!(
        out,
        "<h3>First API key</h3><p>For the partner's integration: shown only this once.</p>{}<p class=\"muted\">{}</p></section>",
        copy_row("new-api-key", &created.api_key),
        esc(NO_EMAIL)
    );
    out
}

async fn enrol(State(web): State<Web>, OperatorUser(s): OperatorUser, Form(form): Form<EnrolForm>) -> PageResult {
    let roles = if form.role.trim().is_empty() { vec![] } else { vec![form.role.trim().to_owned()] };
    let input =
        CreatePartner { name: form.name.clone(), email: form.email.clone(), plan: form.plan.trim().to_owned(), roles };
    let q = PartnersQuery::default();
    match web.services.partners().enrol(&s.principal, input).await {
        Ok(created) => {
            let link =
                web.services.users().issue_link_as(&s.principal, &form.email, LinkPurpose::Invitation, None).await;
            let top = enrolled_box(&web, &form, &created, link);
            let blank = EnrolForm::default();
            let view = PartnersView { status: StatusCode::CREATED, top: &top, form: &blank, errors: None };
            render_partners(&web, &s, &q, view).await
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let view = PartnersView {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                top: "",
                form: &form,
                errors: Some(&e.fields),
            };
            render_partners(&web, &s, &q, view).await
        }
        Err(e) if e.kind == ErrorKind::Conflict => {
            let errors = ValidationErrors::single("email", "a user with this e-mail exists already");
            let view = PartnersView { status: StatusCode::CONFLICT, top: "", form: &form, errors: Some(&errors) };
            render_partners(&web, &s, &q, view).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[derive(Deserialize, Default)]
struct PlanForm {
    #[serde(default)]
    plan: String,
}

async fn render_partner(
    web: &Web,
    s: &Arc<WebSession>,
    id: &str,
    status: StatusCode,
    top: &str,
    plan_value: Option<&str>,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let partners = web.services.partners();
    let p = partners.get(&s.principal, id).await.map_err(keep_nav(s))?;
    let users = web.services.users().list(&s.principal).await.map_err(keep_nav(s))?;
    let keys = partners.partner_keys(&s.principal, id).await.map_err(keep_nav(s))?;
    let now = web.services.now();
    let active_keys = keys.iter().filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now)).count();
    let mut body = String::from(top);
    let state = match p.suspended_at {
        Some(at) => format!("{} since {}", badge("suspended"), time(at)),
        None => badge("active"),
    };
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Partner ID</dt><dd><code>{}</code></dd><dt>Company ID</dt><dd><code>{}</code></dd>\
         <dt>Contact e-mail</dt><dd>{}</dd><dt>Plan</dt><dd id=\"partner-plan\">{}</dd><dt>Status</dt><dd id=\"partner-status\">{state}</dd>\
         <dt>Enrolled</dt><dd>{}</dd><dt>AWS account</dt><dd>{}</dd><dt>API keys</dt><dd id=\"partner-keys\">{active_keys} active ({} in all)</dd></dl>",
        esc(&p.id),
        esc(&p.company_id),
        esc(&p.contact_email),
        esc(&p.plan),
        time(p.created_at),
        if p.aws_account_connected { "connected" } else { "not connected" },
        keys.len()
    );

    let plans = plan_options(web);
    let _ = write!(
        body,
        "<div class=\"op-columns\"><section aria-labelledby=\"plan-h\"><h2 id=\"plan-h\">Plan</h2>\
         <form method=\"post\" action=\"/dashboard/operator/partners/{}/plan\" class=\"card\">{}{}{}\
         <p class=\"muted\">The new plan's rate limits apply to the partner's API keys at once.</p>\
         <button type=\"submit\">Change plan</button></form></section>",
        urlenc(&p.id),
        other_errors(errors, &["plan"]),
        csrf_field(&s.csrf_token),
        select("plan", "Plan", &as_options(&plans), plan_value.unwrap_or(&p.plan), errors),
    );
    let action = if p.suspended_at.is_some() {
        format!(
            "<p>The partner's API keys and dashboard sessions are refused; its data is kept.</p>{}",
            action_button(
                &format!("/dashboard/operator/partners/{}/resume", p.id),
                &s.csrf_token,
                "Resume partner",
                "",
                &[]
            )
        )
    } else {
        format!(
            "<p>Suspending refuses the partner's API keys and dashboard sessions at once, until it is resumed. Its data is kept.</p>\
             <form method=\"post\" action=\"/dashboard/operator/partners/{}/suspend\" class=\"inline\" data-confirm=\"Suspend {}? Its API keys stop working at once.\">{}\
             <button type=\"submit\" class=\"danger\">Suspend partner</button></form>",
            urlenc(&p.id),
            esc(&p.company_name),
            csrf_field(&s.csrf_token)
        )
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"suspend-h\"><h2 id=\"suspend-h\">Access</h2><div class=\"card\">{action}</div></section></div>"
    );

    let rows: Vec<Vec<String>> = users
        .iter()
        .filter(|u| u.partner_id.as_deref() == Some(p.id.as_str()))
        .map(|u| {
            vec![
                esc(&u.email).to_string(),
                esc(&roles_text(&u.roles)).to_string(),
                if u.has_password { "set".to_owned() } else { badge("pending") + " invitation not used yet" },
                time(u.created_at),
                action_button(
                    &format!("/dashboard/operator/users/{}/reset", u.user_id),
                    &s.csrf_token,
                    if u.has_password { "Reset link" } else { "New invitation link" },
                    "secondary",
                    &[],
                ),
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"users-h\"><h2 id=\"users-h\">Users</h2>{}\
         <p><a href=\"/dashboard/operator/users?place={}\">Invite another user to {}</a></p></section>",
        table("Users of the partner", &["E-mail", "Roles", "Password", "Added", ""], &rows, "No users."),
        urlenc(&p.id),
        esc(&p.company_name)
    );
    let key_rows: Vec<Vec<String>> = keys
        .iter()
        .rev()
        .map(|k| {
            let mut cells = key_cells(k);
            cells.push(key_state(k, now));
            cells
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"keys-h\"><h2 id=\"keys-h\">API keys</h2>{}</section>",
        table("API keys of the partner", &["Key", "Name", "Created", "Expires", "Status"], &key_rows, "No keys.")
    );
    body.push_str("<p><a href=\"/dashboard/operator/partners\">← All partners</a></p>");
    Ok(html(status, page(Some(s), &p.company_name, Nav::OpPartners, &body)))
}

async fn partner_page(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let top = done_notice(
        &q.done,
        &[
            ("plan", "The plan was changed. It applies to the partner's API keys at once."),
            ("suspended", "The partner is suspended: its API keys and dashboard sessions are refused from now on."),
            ("resumed", "The partner is active again: its API keys work from now on."),
        ],
    );
    render_partner(&web, &s, &id, StatusCode::OK, &top, None, None).await
}

async fn change_plan(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> PageResult {
    let change = PartnerChange { plan: Some(form.plan.trim().to_owned()), suspended: None };
    match web.services.partners().change(&s.principal, &id, change).await {
        Ok(p) => Ok(see_other(&format!("/dashboard/operator/partners/{}?done=plan", urlenc(&p.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_partner(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some(&form.plan), Some(&e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn set_suspended(web: &Web, s: &Arc<WebSession>, id: &str, suspended: bool) -> PageResult {
    let change = PartnerChange { plan: None, suspended: Some(suspended) };
    let p = web.services.partners().change(&s.principal, id, change).await.map_err(keep_nav(s))?;
    let done = if suspended { "suspended" } else { "resumed" };
    Ok(see_other(&format!("/dashboard/operator/partners/{}?done={done}", urlenc(&p.id))))
}

async fn suspend(State(web): State<Web>, OperatorUser(s): OperatorUser, Path(id): Path<String>) -> PageResult {
    set_suspended(&web, &s, &id, true).await
}

async fn resume(State(web): State<Web>, OperatorUser(s): OperatorUser, Path(id): Path<String>) -> PageResult {
    set_suspended(&web, &s, &id, false).await
}

// ---------------------------------------------------------------------------------------------
// Users: list, invite, reset links

#[derive(Deserialize, Default)]
struct UsersQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    page: String,
    /// Preselects where an invited user goes (`operator` or a partner ID).
    #[serde(default)]
    place: String,
}

#[derive(Deserialize, Default)]
struct InviteForm {
    #[serde(default)]
    email: String,
    /// `operator`, or the ID of the partner the user joins.
    #[serde(default)]
    place: String,
    #[serde(default)]
    role: String,
}

async fn render_users(
    web: &Web,
    s: &Arc<WebSession>,
    status: StatusCode,
    top: &str,
    q: &UsersQuery,
    form: &InviteForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let users = web.services.users().list(&s.principal).await.map_err(keep_nav(s))?;
    let partners = web.services.partners().all(&s.principal).await.map_err(keep_nav(s))?;
    let mut body = String::from(top);
    body.push_str(&notice(NO_EMAIL));
    let search = search(&q.search, &mut body).map(|t| t.to_lowercase());
    let mut place_options = vec![
        (String::new(), "Choose…".to_owned()),
        ("operator".to_owned(), "The operator (marketplace staff)".to_owned()),
    ];
    let mut sorted: Vec<&PartnerRecord> = partners.iter().collect();
    sorted.sort_by_key(|p| p.company_name.to_lowercase());
    place_options.extend(sorted.iter().map(|p| (p.id.clone(), format!("{} (partner)", p.company_name))));
    let roles = role_options();
    let role_pairs: Vec<(&str, &str)> = roles.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let chosen_place = if form.place.is_empty() { q.place.as_str() } else { form.place.as_str() };
    let chosen_role = if form.role.is_empty() { "reseller" } else { form.role.as_str() };
    let _ = write!(
        body,
        "<section aria-labelledby=\"invite-h\"><h2 id=\"invite-h\">Invite a user</h2>{}\
         <form method=\"post\" action=\"/dashboard/operator/users\" class=\"card\">{}{}{}{}\
         <button type=\"submit\" id=\"invite\">Make invitation link</button></form></section>",
        other_errors(errors, &["email", "place", "role"]),
        csrf_field(&s.csrf_token),
        Field::text("email", "E-mail", &form.email)
            .kind("email")
            .required()
            .hint("A user who has this e-mail already gets a new invitation link instead.")
            .render(errors),
        select("place", "Joins", &as_options(&place_options), chosen_place, errors),
        select("role", "Role (for a partner's user)", &role_pairs, chosen_role, errors),
    );

    let names: std::collections::BTreeMap<&str, &str> =
        partners.iter().map(|p| (p.id.as_str(), p.company_name.as_str())).collect();
    let matching: Vec<_> = users
        .iter()
        .filter(|u| {
            search.as_deref().is_none_or(|t| {
                u.email.to_lowercase().contains(t) || u.company_name.to_lowercase().contains(t) || u.user_id == t
            })
        })
        .collect();
    let total = matching.len() as u64;
    let page_no = page_number(&q.page);
    let rows: Vec<Vec<String>> = matching
        .iter()
        .skip(usize::try_from(offset_of(page_no, PER_PAGE)).unwrap_or(usize::MAX))
        .take(ROWS)
        .map(|u| {
            let company = match u.partner_id.as_deref() {
                Some(pid) => format!(
                    "<a href=\"/dashboard/operator/partners/{}\">{}</a>",
                    urlenc(pid),
                    esc(names.get(pid).copied().unwrap_or(u.company_name.as_str()))
                ),
                None if u.roles.contains(&Role::ChannelAdmin) => format!("Operator ({})", esc(&u.company_name)),
                None => format!("{} <small>(customer)</small>", esc(&u.company_name)),
            };
            vec![
                esc(&u.email).to_string(),
                company,
                esc(&roles_text(&u.roles)).to_string(),
                if u.has_password { "set".to_owned() } else { badge("pending") + " not yet" },
                time(u.created_at),
                if partnerd_services::users::has_dashboard(u.partner_id.as_deref(), &u.roles) {
                    action_button(
                        &format!("/dashboard/operator/users/{}/reset", u.user_id),
                        &s.csrf_token,
                        if u.has_password { "Reset link" } else { "New invitation link" },
                        "secondary",
                        &[],
                    )
                } else {
                    "<span class=\"muted\">no dashboard (a customer's user)</span>".to_owned()
                },
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"all-h\"><h2 id=\"all-h\">All users</h2>\
         <form method=\"get\" action=\"/dashboard/operator/users\" class=\"filters\">{}<button type=\"submit\" class=\"secondary\">Search</button></form>{}{}\
         <p class=\"muted\">Sign-in times are not recorded; \"Password\" tells whether the user has set one.</p></section>",
        Field::text("search", "Search", &q.search).kind("search").hint("E-mail or company").render(None),
        table(
            "Users of the marketplace",
            &["E-mail", "Company", "Roles", "Password", "Added", ""],
            &rows,
            "No user matches."
        ),
        pager(
            "/dashboard/operator/users",
            &format!("search={}", urlenc(&q.search)),
            page_no,
            u64::from(PER_PAGE),
            total
        ),
    );
    Ok(html(status, page(Some(s), "Users", Nav::OpUsers, &body)))
}

async fn users_page(State(web): State<Web>, OperatorUser(s): OperatorUser, Query(q): Query<UsersQuery>) -> PageResult {
    render_users(&web, &s, StatusCode::OK, "", &q, &InviteForm::default(), None).await
}

async fn invite(State(web): State<Web>, OperatorUser(s): OperatorUser, Form(form): Form<InviteForm>) -> PageResult {
    let q = UsersQuery::default();
    let place = match form.place.trim() {
        "" => {
            let errors = ValidationErrors::single("place", "choose the operator or a partner");
            return render_users(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &q, &form, Some(&errors)).await;
        }
        "operator" => NewUserIn::Operator,
        partner_id => {
            let roles = if form.role.trim().is_empty() { vec![] } else { vec![form.role.trim().to_owned()] };
            NewUserIn::Partner { partner_id: partner_id.to_owned(), roles }
        }
    };
    match web.services.users().issue_link_as(&s.principal, &form.email, LinkPurpose::Invitation, Some(place)).await {
        Ok(link) => {
            let top = link_box(&web, &link);
            render_users(&web, &s, StatusCode::CREATED, &top, &q, &InviteForm::default(), None).await
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_users(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &q, &form, Some(&e.fields)).await
        }
        Err(e) if e.kind == ErrorKind::NotFound && e.entity == "partner" => {
            let errors = ValidationErrors::single("place", "no such partner");
            render_users(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &q, &form, Some(&errors)).await
        }
        Err(e) if e.kind == ErrorKind::Conflict => {
            let errors = ValidationErrors::single("email", "a user with this e-mail exists already");
            render_users(&web, &s, StatusCode::CONFLICT, "", &q, &form, Some(&errors)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn reset_link(State(web): State<Web>, OperatorUser(s): OperatorUser, Path(id): Path<String>) -> PageResult {
    let link = web.services.users().link_for_user(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let top = link_box(&web, &link);
    render_users(&web, &s, StatusCode::CREATED, &top, &UsersQuery::default(), &InviteForm::default(), None).await
}

// ---------------------------------------------------------------------------------------------
// Catalog: list, create, edit (the CLI's `catalog import`, one product at a time)

#[derive(Deserialize, Default)]
struct CatalogQuery {
    #[serde(default, rename = "searchText")]
    search: String,
    #[serde(default)]
    page: String,
}

/// A product as the form carries it: the product's fields and either one edition with one
/// payment plan and one cost (the simple fields), or `editions_json`, the editions array in the
/// import file's shape.
#[derive(Deserialize, Default)]
struct ProductForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    blurb: String,
    #[serde(default)]
    image_url: String,
    #[serde(default)]
    visible: String,
    #[serde(default)]
    edition: String,
    #[serde(default)]
    revenue_type: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    pricing_strategy: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    editions_json: String,
}

impl ProductForm {
    fn blank() -> Self {
        ProductForm {
            visible: "on".into(),
            revenue_type: RevenueType::Recurring.as_str().into(),
            frequency: Frequency::Monthly.as_str().into(),
            unit: PricingUnit::User.as_str().into(),
            pricing_strategy: PricingStrategy::Unit.as_str().into(),
            currency: "USD".into(),
            ..ProductForm::default()
        }
    }

    fn of(p: &Product) -> Self {
        ProductForm {
            name: p.record.name.clone(),
            provider: p.record.provider.clone(),
            blurb: p.record.blurb.clone(),
            image_url: p.record.image_url.clone().unwrap_or_default(),
            visible: if p.record.visible { "on".into() } else { String::new() },
            editions_json: serde_json::to_string_pretty(&p.editions).unwrap_or_default(),
            ..ProductForm::default()
        }
    }

    fn visible(&self) -> bool {
        matches!(self.visible.as_str(), "on" | "true" | "1")
    }
}

fn is_currency(c: &str) -> bool {
    c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())
}

/// The import file of one product from the form; `Err` when `editions_json` is not JSON.
fn product_file(form: &ProductForm, advanced: bool) -> Result<Value, ValidationErrors> {
    let editions = if advanced {
        serde_json::from_str::<Value>(&form.editions_json)
            .map_err(|e| ValidationErrors::single("editions_json", format!("is not JSON: {e}")))?
    } else {
        let mut prices = serde_json::Map::new();
        prices.insert(form.currency.trim().to_owned(), Value::String(form.price.trim().to_owned()));
        json!([{
            "name": form.edition,
            "revenueType": form.revenue_type.trim(),
            "paymentPlans": [{
                "frequency": form.frequency.trim(),
                "costs": [{ "unit": form.unit.trim(), "pricingStrategy": form.pricing_strategy.trim(), "itemPrices": prices }],
            }],
        }])
    };
    let mut product = json!({
        "name": form.name,
        "provider": form.provider,
        "blurb": form.blurb,
        "visible": form.visible(),
        "editions": editions,
    });
    if !form.image_url.trim().is_empty()
        && let Some(o) = product.as_object_mut()
    {
        o.insert("imageUrl".into(), Value::String(form.image_url.clone()));
    }
    Ok(json!([product]))
}

/// The import's error paths (`[0].editions[0].paymentPlans[0].frequency`) as the form's fields.
fn form_errors(errors: &ValidationErrors, advanced: bool) -> ValidationErrors {
    let mut out = ValidationErrors::new();
    for (path, messages) in errors.fields() {
        let rest = path.strip_prefix("[0]").map_or(path.as_str(), |r| r.trim_start_matches('.'));
        for m in messages {
            let (field, message) = match rest {
                "" | "file" => ("name", m.clone()),
                "name" | "provider" | "blurb" | "visible" => (rest, m.clone()),
                "imageUrl" => ("image_url", m.clone()),
                r if r.starts_with("editions") && advanced => ("editions_json", format!("{r}: {m}")),
                r if r.starts_with("editions") => {
                    let leaf = r.rsplit('.').next().unwrap_or(r);
                    let in_prices = r.contains(".itemPrices");
                    match leaf {
                        _ if in_prices && r.ends_with("itemPrices") => ("price", m.clone()),
                        cur if in_prices && !is_currency(cur) => ("currency", m.clone()),
                        _ if in_prices => ("price", m.clone()),
                        "revenueType" => ("revenue_type", m.clone()),
                        "frequency" => ("frequency", m.clone()),
                        "unit" => ("unit", m.clone()),
                        "pricingStrategy" => ("pricing_strategy", m.clone()),
                        "name" => ("edition", m.clone()),
                        _ => ("edition", format!("{r}: {m}")),
                    }
                }
                r => ("name", format!("{r}: {m}")),
            };
            out.add(field, message);
        }
    }
    out
}

fn options_of(names: &[&'static str]) -> Vec<(&'static str, &'static str)> {
    names.iter().map(|n| (*n, *n)).collect()
}

/// The product's own fields (name only when creating: it identifies the product in imports).
fn product_fields(form: &ProductForm, errors: Option<&ValidationErrors>, creating: bool) -> String {
    let mut out = String::new();
    if creating {
        out.push_str(
            &Field::text("name", "Name", &form.name)
                .required()
                .hint("Identifies the product: a product of the same name is updated instead, as an import does.")
                .render(errors),
        );
    }
    out.push_str(&Field::text("provider", "Provider", &form.provider).required().render(errors));
    out.push_str(&Field::text("blurb", "Blurb", &form.blurb).kind("textarea").extra("rows=\"2\"").render(errors));
    out.push_str(&Field::text("image_url", "Image URL (optional)", &form.image_url).kind("url").render(errors));
    out.push_str(
        &Field::text("visible", "Visible to resellers", "on")
            .kind("checkbox")
            .extra(if form.visible() { "checked" } else { "" })
            .render(errors),
    );
    out
}

fn editions_field(form: &ProductForm, errors: Option<&ValidationErrors>, label: &str, hint: &str) -> String {
    Field::text("editions_json", label, &form.editions_json)
        .kind("textarea")
        .hint(hint)
        .extra("rows=\"12\" class=\"op-json\" spellcheck=\"false\"")
        .render(errors)
}

/// Prices of a cost: `$60.00, 60.50 CAD`.
fn prices_text(prices: &partnerd_domain::catalog::Prices) -> String {
    prices.iter().map(|(c, a)| money_cents(a.cents(), c)).collect::<Vec<_>>().join(", ")
}

/// One line per payment plan and cost: `Standard: $10.00 per USER, MONTHLY`.
fn editions_summary(editions: &[Edition]) -> String {
    let mut lines = Vec::new();
    for e in editions {
        for p in &e.payment_plans {
            for c in &p.costs {
                let per = if c.pricing_strategy == PricingStrategy::FlatRate {
                    "flat".to_owned()
                } else {
                    format!("per {}", c.unit.as_str())
                };
                lines.push(format!(
                    "{}: {} {per}, {}",
                    esc(&e.name),
                    esc(&prices_text(&c.item_prices)),
                    p.frequency.as_str()
                ));
            }
        }
    }
    lines.join("<br>")
}

async fn render_catalog(
    web: &Web,
    s: &Arc<WebSession>,
    status: StatusCode,
    top: &str,
    q: &CatalogQuery,
    form: &ProductForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let mut body = String::from(top);
    let search = search(&q.search, &mut body);
    let page_no = page_number(&q.page);
    let catalog = web.services.catalog();
    let Paged { items: products, total, .. } = catalog
        .operator_products(&s.principal, search.as_deref(), &Window::Offset(offset_of(page_no, PER_PAGE)), PER_PAGE)
        .await
        .map_err(keep_nav(s))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    // A product ID in the search opens that product (hidden ones are not listed otherwise).
    if let Some(t) = search.as_deref().filter(|t| t.starts_with("product_"))
        && let Ok(p) = catalog.operator_product(&s.principal, t).await
        && !products.iter().any(|x| x.record.id == p.record.id)
    {
        rows.push(product_row(&p));
    }
    rows.extend(products.iter().map(product_row));
    let _ = write!(
        body,
        "<section aria-labelledby=\"products-h\"><h2 id=\"products-h\">Products</h2>\
         <form method=\"get\" action=\"/dashboard/operator/catalog\" class=\"filters\">{}<button type=\"submit\" class=\"secondary\">Search</button></form>{}{}\
         <p class=\"muted\">The list shows the products resellers see; a hidden product opens by its ID (search for it).</p></section>",
        Field::text("searchText", "Search", &q.search)
            .kind("search")
            .hint("Name, blurb or provider, as the catalog API's searchText")
            .render(None),
        table(
            "Sellable products",
            &["Product", "Provider", "Prices", "Visible", "Updated"],
            &rows,
            "No product matches."
        ),
        pager(
            "/dashboard/operator/catalog",
            &format!("searchText={}", urlenc(&q.search)),
            page_no,
            u64::from(PER_PAGE),
            total
        ),
    );
    let revenue = options_of(&RevenueType::NAMES);
    let frequencies = options_of(&Frequency::NAMES);
    let units = options_of(&PricingUnit::NAMES);
    let strategies = options_of(&PricingStrategy::NAMES);
    let _ = write!(
        body,
        "<section aria-labelledby=\"new-product-h\"><h2 id=\"new-product-h\">Add a product</h2>\
         <p class=\"muted\">The same import as <code>partnerd catalog import</code>, for one product: nothing is saved unless all of it is valid.</p>{}\
         <form method=\"post\" action=\"/dashboard/operator/catalog\" class=\"card\">{}{}\
         <fieldset><legend>Edition and price</legend>{}{}{}{}{}{}{}</fieldset>\
         <details{}><summary>Or give every edition as JSON</summary>{}</details>\
         <button type=\"submit\" id=\"add-product\">Save product</button></form></section>",
        other_errors(
            errors,
            &[
                "name",
                "provider",
                "blurb",
                "image_url",
                "visible",
                "edition",
                "revenue_type",
                "frequency",
                "unit",
                "pricing_strategy",
                "currency",
                "price",
                "editions_json"
            ]
        ),
        csrf_field(&s.csrf_token),
        product_fields(form, errors, true),
        Field::text("edition", "Edition name", &form.edition).hint("e.g. Standard").render(errors),
        select("revenue_type", "Revenue type", &revenue, &form.revenue_type, errors),
        select("frequency", "Billed", &frequencies, &form.frequency, errors),
        select("unit", "Unit", &units, &form.unit, errors),
        select("pricing_strategy", "Pricing", &strategies, &form.pricing_strategy, errors),
        Field::text("currency", "Currency", &form.currency)
            .hint("ISO-4217, e.g. USD")
            .extra("maxlength=\"3\"")
            .render(errors),
        Field::text("price", "Price", &form.price)
            .hint("e.g. 60 or 60.50")
            .extra("inputmode=\"decimal\"")
            .render(errors),
        if form.editions_json.trim().is_empty() { "" } else { " open" },
        editions_field(
            form,
            errors,
            "Editions (JSON)",
            "The editions array of the import file (editions, paymentPlans, costs, markups); when given, it replaces the fields above."
        ),
    );
    Ok(html(status, page(Some(s), "Catalog", Nav::OpCatalog, &body)))
}

fn product_row(p: &Product) -> Vec<String> {
    vec![
        format!("<a href=\"/dashboard/operator/catalog/{}\">{}</a>", urlenc(&p.record.id), esc(&p.record.name)),
        esc(&p.record.provider).to_string(),
        editions_summary(&p.editions),
        if p.record.visible { "yes".to_owned() } else { badge("hidden") },
        time(p.record.updated_at),
    ]
}

async fn catalog_page(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Query(q): Query<CatalogQuery>,
) -> PageResult {
    render_catalog(&web, &s, StatusCode::OK, "", &q, &ProductForm::blank(), None).await
}

async fn create_product(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Form(form): Form<ProductForm>,
) -> PageResult {
    let q = CatalogQuery::default();
    let advanced = !form.editions_json.trim().is_empty();
    let file = match product_file(&form, advanced) {
        Ok(f) => f,
        Err(errors) => {
            return render_catalog(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &q, &form, Some(&errors)).await;
        }
    };
    match web.services.catalog().import_as(&s.principal, &file).await {
        Ok(products) => {
            let Some(p) = products.first() else { return Err(PageError::not_found().with_session(s)) };
            let done = if p.record.created_at == p.record.updated_at { "created" } else { "updated" };
            Ok(see_other(&format!("/dashboard/operator/catalog/{}?done={done}", urlenc(&p.record.id))))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let errors = form_errors(&e.fields, advanced);
            render_catalog(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &q, &form, Some(&errors)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn render_product(
    web: &Web,
    s: &Arc<WebSession>,
    id: &str,
    status: StatusCode,
    top: &str,
    form: Option<&ProductForm>,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let p = web.services.catalog().operator_product(&s.principal, id).await.map_err(keep_nav(s))?;
    let mut body = String::from(top);
    let r = &p.record;
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Product ID</dt><dd><code>{}</code></dd><dt>Provider</dt><dd>{}</dd><dt>Blurb</dt><dd>{}</dd>\
         <dt>Image</dt><dd>{}</dd><dt>Visible to resellers</dt><dd>{}</dd><dt>Created</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd></dl>",
        esc(&r.id),
        esc(&r.provider),
        esc(&r.blurb),
        r.image_url.as_deref().map_or_else(|| "none".to_owned(), |u| esc(u).to_string()),
        if r.visible { "yes" } else { "no (hidden)" },
        time(r.created_at),
        time(r.updated_at),
    );
    let mut rows = Vec::new();
    for e in &p.editions {
        for plan in &e.payment_plans {
            for c in &plan.costs {
                let units = match (c.min_units, c.max_units) {
                    (None, None) => "any".to_owned(),
                    (lo, hi) => format!(
                        "{}–{}",
                        lo.map_or_else(|| "0".to_owned(), |v| v.to_string()),
                        hi.map_or_else(|| "∞".to_owned(), |v| v.to_string())
                    ),
                };
                let markups: Vec<String> = c
                    .markup_prices
                    .iter()
                    .map(|m| format!("{}: {}", m.markup_type.as_str(), prices_text(&m.markup_prices)))
                    .collect();
                rows.push(vec![
                    format!("{} <small><code>{}</code></small>", esc(&e.name), esc(&e.id)),
                    e.revenue_type.as_str().to_owned(),
                    format!("{} <small><code>{}</code></small>", plan.frequency.as_str(), esc(&plan.id)),
                    format!("{} · {}", c.unit.as_str(), c.pricing_strategy.as_str()),
                    esc(&prices_text(&c.item_prices)).to_string(),
                    units,
                    esc(&markups.join("; ")).to_string(),
                ]);
            }
        }
    }
    let _ = write!(
        body,
        "<section aria-labelledby=\"editions-h\"><h2 id=\"editions-h\">Editions and prices</h2>{}</section>",
        table(
            "Editions, payment plans and costs",
            &["Edition", "Revenue", "Payment plan", "Cost", "Prices", "Units", "Markups"],
            &rows,
            "No editions."
        )
    );
    let current = ProductForm::of(&p);
    let form = form.unwrap_or(&current);
    let _ = write!(
        body,
        "<section aria-labelledby=\"edit-h\"><h2 id=\"edit-h\">Edit</h2>\
         <p class=\"muted\">Saved as a re-import of the product: editions, plans and costs that still match keep their IDs.</p>{}\
         <form method=\"post\" action=\"/dashboard/operator/catalog/{}\" class=\"card\">{}{}{}\
         <button type=\"submit\" id=\"save-product\">Save changes</button></form></section>\
         <p><a href=\"/dashboard/operator/catalog\">← All products</a></p>",
        other_errors(errors, &["name", "provider", "blurb", "image_url", "visible", "editions_json"]),
        urlenc(&r.id),
        csrf_field(&s.csrf_token),
        product_fields(form, errors, false),
        editions_field(form, errors, "Editions (JSON)", "The editions array, in the import file's shape."),
    );
    Ok(html(status, page(Some(s), &r.name, Nav::OpCatalog, &body)))
}

async fn product_page(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let top = done_notice(
        &q.done,
        &[
            ("created", "The product was added to the catalog."),
            ("updated", "A product of this name existed: it was updated."),
            ("saved", "The product was saved."),
        ],
    );
    render_product(&web, &s, &id, StatusCode::OK, &top, None, None).await
}

async fn edit_product(
    State(web): State<Web>,
    OperatorUser(s): OperatorUser,
    Path(id): Path<String>,
    Form(mut form): Form<ProductForm>,
) -> PageResult {
    let stored = web.services.catalog().operator_product(&s.principal, &id).await.map_err(keep_nav(&s))?;
    // The name identifies the product in an import: the stored one, whatever the form says.
    form.name.clone_from(&stored.record.name);
    let file = match product_file(&form, true) {
        Ok(f) => f,
        Err(errors) => {
            return render_product(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some(&form), Some(&errors))
                .await;
        }
    };
    match web.services.catalog().import_as(&s.principal, &file).await {
        Ok(_) => Ok(see_other(&format!("/dashboard/operator/catalog/{}?done=saved", urlenc(&id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let errors = form_errors(&e.fields, true);
            render_product(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some(&form), Some(&errors)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---------------------------------------------------------------------------------------------
// Lead conversion approvals

#[derive(Deserialize, Default)]
struct LeadsQuery {
    #[serde(default, rename = "searchText")]
    search: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    done: String,
}

fn lead_filter(statuses: Vec<LeadStatus>, search: Option<String>, order: SortOrder) -> ListLeads {
    ListLeads { statuses, from: None, to: None, search, sort: LeadSort::Date, order }
}

fn lead_cells(l: &LeadRecord) -> Vec<String> {
    let c = customer_of(l);
    let contact = [c.contact.first_name.as_deref(), c.contact.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let email = c.contact.email.as_deref().unwrap_or("");
    vec![
        format!("{}<br><small><code>{}</code></small>", esc(&l.customer_company_name), esc(&l.id)),
        format!("{}<br><small>{}</small>", esc(&contact), esc(email)),
        esc(l.recipient_company_name.as_deref().or(l.creator_company_name.as_deref()).unwrap_or("–")).to_string(),
        l.lead_type.as_str().replace('_', " ").to_lowercase(),
    ]
}

async fn leads_page(State(web): State<Web>, OperatorUser(s): OperatorUser, Query(q): Query<LeadsQuery>) -> PageResult {
    let m = partnerd_services::policy::operator_as_reseller_manager(&s.principal).map_err(keep_nav(&s))?;
    let leads = web.services.leads();
    let mut body = done_notice(
        &q.done,
        &[
            ("approved", "The conversion was approved: the reseller can convert the lead now."),
            ("rejected", "The conversion request was rejected: the lead is disqualified."),
            ("decided", "That lead is no longer awaiting approval: it was decided already (see below)."),
        ],
    );
    let search = search(&q.search, &mut body);
    let page_no = page_number(&q.page);
    let pending = lead_filter(vec![LeadStatus::PendingConversionApproval], search.clone(), SortOrder::Asc);
    let Paged { items: rows, total, .. } = leads
        .list(
            &m,
            Context::ResellerManager,
            &m.company_id,
            pending,
            &Window::Offset(offset_of(page_no, PER_PAGE)),
            PER_PAGE,
        )
        .await
        .map_err(keep_nav(&s))?;
    let pending_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|l| {
            let mut cells = lead_cells(l);
            cells.push(time(l.updated_at));
            cells.push(format!(
                "{} <form method=\"post\" action=\"/dashboard/operator/leads/{}/reject\" class=\"inline\" data-confirm=\"Reject this conversion? The lead is disqualified.\">{}\
                 <button type=\"submit\" class=\"danger\">Reject</button></form>",
                action_button(&format!("/dashboard/operator/leads/{}/approve", l.id), &s.csrf_token, "Approve", "", &[]),
                urlenc(&l.id),
                csrf_field(&s.csrf_token)
            ));
            cells
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"pending-h\"><h2 id=\"pending-h\">Awaiting approval</h2>\
         <p class=\"muted\">Resellers ask to convert the leads assigned to them into customers. Approving lets the reseller convert it \
         (as <code>POST /api/lead/v2/conversionApproval</code>); rejecting disqualifies the lead (as a reseller manager's <code>DELETE</code>).</p>\
         <form method=\"get\" action=\"/dashboard/operator/leads\" class=\"filters\">{}<button type=\"submit\" class=\"secondary\">Search</button></form>{}{}</section>",
        Field::text("searchText", "Search", &q.search)
            .kind("search")
            .hint("Customer company, contact, notes")
            .render(None),
        table(
            "Conversion requests awaiting approval, oldest first",
            &["Customer", "Contact", "Requested by", "Type", "Requested", ""],
            &pending_rows,
            "No conversion request is waiting."
        ),
        pager(
            "/dashboard/operator/leads",
            &format!("searchText={}", urlenc(&q.search)),
            page_no,
            u64::from(PER_PAGE),
            total
        ),
    );

    let decided = lead_filter(
        vec![LeadStatus::ConversionApproved, LeadStatus::Converted, LeadStatus::Disqualified],
        None,
        SortOrder::Desc,
    );
    let Paged { items: mut recent, .. } = leads
        .list(&m, Context::ResellerManager, &m.company_id, decided, &Window::Offset(0), 200)
        .await
        .map_err(keep_nav(&s))?;
    recent.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| b.id.cmp(&a.id)));
    let recent_rows: Vec<Vec<String>> = recent
        .iter()
        .take(ROWS)
        .map(|l| {
            let mut cells = lead_cells(l);
            cells.push(badge(&l.status.as_str().to_lowercase()));
            cells.push(time(l.updated_at));
            cells
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"recent-h\"><h2 id=\"recent-h\">Recent decisions</h2>\
         <p class=\"muted\">Approved (and since converted) leads, and disqualified ones the marketplace still sees (profile leads), most recently changed first. A rejected manual lead goes back out of the marketplace's view, as in the Leads API.</p>{}</section>",
        table(
            "Recently decided leads",
            &["Customer", "Contact", "Reseller", "Type", "Status", "Changed"],
            &recent_rows,
            "Nothing decided yet."
        )
    );
    Ok(html(StatusCode::OK, page(Some(&s), "Lead approvals", Nav::OpLeads, &body)))
}

async fn approve_lead(State(web): State<Web>, OperatorUser(s): OperatorUser, Path(id): Path<String>) -> PageResult {
    let m = partnerd_services::policy::operator_as_reseller_manager(&s.principal).map_err(keep_nav(&s))?;
    let done = web.services.leads().approve_conversion(&m, Context::ResellerManager, &id).await;
    decided(done.map(drop), "approved", &s)
}

async fn reject_lead(State(web): State<Web>, OperatorUser(s): OperatorUser, Path(id): Path<String>) -> PageResult {
    let m = partnerd_services::policy::operator_as_reseller_manager(&s.principal).map_err(keep_nav(&s))?;
    let done = web.services.leads().reject_conversion(&m, Context::ResellerManager, &id).await;
    decided(done.map(drop), "rejected", &s)
}

/// After an approval or a rejection: a lead decided meanwhile (a double click, another
/// operator) is not an error page but a notice on the list.
fn decided(done: Result<(), ServiceError>, what: &str, s: &Arc<WebSession>) -> PageResult {
    match done {
        Ok(()) => Ok(see_other(&format!("/dashboard/operator/leads?done={what}"))),
        Err(e) if e.kind == ErrorKind::Invalid => Ok(see_other("/dashboard/operator/leads?done=decided")),
        Err(e) => Err(keep_nav(s)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(pairs: &[(&str, &str)]) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        for (k, v) in pairs {
            e.add(k, *v);
        }
        e
    }

    #[test]
    fn import_paths_land_beside_the_form_fields() {
        let e = errors(&[
            ("[0].name", "must not be empty"),
            ("[0].imageUrl", "must be an http(s) URL"),
            ("[0].editions[0].paymentPlans[0].frequency", "unknown"),
            ("[0].editions[0].paymentPlans[0].costs[0].itemPrices.USD", "not a number"),
            ("[0].editions[0].paymentPlans[0].costs[0].itemPrices.usd", "not a currency"),
            ("[0].editions[0].name", "must not be empty"),
        ]);
        let f = form_errors(&e, false);
        let keys: Vec<&str> = f.fields().keys().map(String::as_str).collect();
        assert_eq!(keys, ["currency", "edition", "frequency", "image_url", "name", "price"]);
        let advanced = form_errors(&e, true);
        assert_eq!(advanced.fields()["editions_json"].len(), 4);
        assert!(advanced.fields()["editions_json"][0].starts_with("editions[0]"));
    }

    #[test]
    fn the_simple_form_makes_one_product_of_the_import_file() {
        let mut form = ProductForm::blank();
        form.name = "HelpDesk".into();
        form.provider = "Acme".into();
        form.edition = "Standard".into();
        form.price = "60.50".into();
        let file = product_file(&form, false).unwrap();
        let parsed = partnerd_domain::catalog::parse_import(&file).unwrap();
        assert_eq!(parsed[0].editions[0].payment_plans[0].costs[0].item_prices["USD"].cents(), 6050);
        assert!(parsed[0].visible);
        form.editions_json = "not json".into();
        assert!(product_file(&form, true).unwrap_err().fields().contains_key("editions_json"));
    }
}
