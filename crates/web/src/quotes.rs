//! Quotes (the AppReseller API's opportunities) and subscriptions.
//!
//! - Quotes: the list with the API's filters (`status`, `searchText`, `sort` in its `±field`
//!   spelling; creation dates from date inputs), a quote's items and totals and the moves the
//!   service offers (`availableActions`: request review, finalize; completing a review for the
//!   marketplace manager), adding and removing items while it is open, and a new quote for a
//!   customer with a catalog item. The marketplace manager (the operator's ROLE_CHANNEL_ADMIN)
//!   sees every quote, as on the API; sellers their company's.
//! - Subscriptions: the reseller company's subscriptions across its customers (filters
//!   `status`, `customerCompanyId`, `paidStatus`, `searchText`, `sort`, creation dates), one
//!   subscription's facts, its orders (purchase, changes; their invoices), its history
//!   (renewals included) and seats, and its moves: change the plan or quantity, cancel.
//!
//! Every read and move is the same `services::quotes` / `services::subscriptions` call as the
//! API's handlers make, with the signed-in user's principal.

use crate::Web;
use crate::forms::{DoneQuery, form_status, given};
use crate::html::{
    Field, Nav, action_button, alert, badge, capitalized, csrf_field, done_notice, esc, fact, list_filters,
    money_cents, notice, other_errors, page, select, table, text_fact, time, urlenc, with_first, words,
};
use crate::list::{PER_PAGE, date_value, offset_of, page_number, parse_day, results, search_text};
use crate::session::{PageError, PageResult, PartnerUser, Signed, html, keep_nav, see_other, service_message};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::catalog::{Edition, Frequency, PricingStrategy, PricingUnit};
use partnerd_domain::events::{SubscriptionChanged, SubscriptionRenewed, types};
use partnerd_domain::partner::Role;
use partnerd_domain::quote::{AvailableAction, QuoteAction, QuoteItem, QuoteRole, QuoteStatus, act};
use partnerd_domain::subscription::{
    OrderLine, PricedLine, SeatStatus, SubscriptionAction, SubscriptionStatus, transition,
};
use partnerd_services::error::codes;
use partnerd_services::policy::Context;
use partnerd_services::quotes::{ItemInput, NewQuote, QuoteView};
use partnerd_services::subscriptions::SubscriptionUpdate;
use partnerd_services::users::WebSession;
use partnerd_services::{ErrorKind, Principal, ServiceError};
use partnerd_store::{
    CompanyFilter, CompanyScope, CompanySort, OrderRecord, PurchaseFilter, QuoteFilter, QuoteSort, SeatFilter,
    SortOrder, SubscriptionEntry, SubscriptionFilter, SubscriptionSort, TimeBound, TimeRange, UserFilter, UserSort,
};
use partnerd_store::{Paged, Window};
use serde::Deserialize;
use std::fmt::Write;
use std::sync::Arc;

/// How many customers, users and products a form's choices list.
const CHOICES_MAX: u32 = 200;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/quotes", get(quotes_page).post(create_quote))
        .route("/quotes/new", get(new_quote_page))
        .route("/quotes/{id}", get(quote_page))
        .route("/quotes/{id}/items", post(add_item))
        .route("/quotes/{id}/items/{item}/remove", post(remove_item))
        .route("/quotes/{id}/request-review", post(request_review))
        .route("/quotes/{id}/complete-review", post(complete_review))
        .route("/quotes/{id}/finalize", post(finalize))
        .route("/subscriptions", get(subscriptions_page))
        .route("/subscriptions/{id}", get(subscription_page))
        .route("/subscriptions/{id}/change", post(change_subscription))
        .route("/subscriptions/{id}/cancel", post(cancel_subscription))
}

// ----- shared -----

fn person(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_owned()
}

/// `createdFrom` / `createdTo` (date inputs, or epoch milliseconds) as an inclusive range.
fn created_range(from: &str, to: &str, errors: &mut ValidationErrors) -> TimeRange {
    let bound = |t: Option<DateTime<Utc>>| t.map(|at| TimeBound { at, inclusive: true });
    TimeRange {
        from: bound(errors.check("createdFrom", parse_day(from, false)).flatten()),
        to: bound(errors.check("createdTo", parse_day(to, true)).flatten()),
    }
}

/// `sort` in the API's spelling (`-createdOn`; a bare field is ascending), one of `table`.
fn sort_of<T: Copy>(
    raw: &str,
    table: &[(&str, &str, T, SortOrder)],
    errors: &mut ValidationErrors,
) -> Vec<(T, SortOrder)> {
    let t = raw.trim();
    if t.is_empty() {
        return Vec::new();
    }
    let spelled = if t.starts_with(['-', '+']) { t.to_owned() } else { format!("+{t}") };
    match table.iter().find(|(v, ..)| *v == spelled) {
        Some((_, _, field, order)) => vec![(*field, *order)],
        None => {
            let names: Vec<&str> = table.iter().map(|(v, ..)| *v).collect();
            errors.add("sort", partnerd_domain::str_enum::one_of(t, &names));
            Vec::new()
        }
    }
}

fn sort_select<T>(raw: &str, table: &[(&str, &str, T, SortOrder)], errors: Option<&ValidationErrors>) -> String {
    let options: Vec<(&str, &str)> = table.iter().map(|(v, l, ..)| (*v, *l)).collect();
    let t = raw.trim();
    let selected = if t.is_empty() { table.first().map_or("", |(v, ..)| *v) } else { t };
    select("sort", "Sort", &options, selected, errors)
}

/// Each status with its name in words.
fn status_labels(names: &[&'static str]) -> Vec<(&'static str, String)> {
    names.iter().map(|n| (*n, words(n))).collect()
}

fn period_label(f: Frequency) -> &'static str {
    match f {
        Frequency::OneTime => "once",
        Frequency::Daily => "a day",
        Frequency::Monthly => "a month",
        Frequency::Quarterly => "a quarter",
        Frequency::SixMonths => "every six months",
        Frequency::Yearly => "a year",
        Frequency::TwoYears => "every two years",
        Frequency::ThreeYears => "every three years",
    }
}

fn lines_text(lines: &[OrderLine]) -> String {
    if lines.is_empty() {
        return "—".to_owned();
    }
    lines.iter().map(|l| format!("{} × {}", l.quantity, words(l.unit.as_str()))).collect::<Vec<_>>().join(", ")
}

fn priced_text(lines: &[PricedLine], currency: &str) -> String {
    lines
        .iter()
        .map(|l| match l.pricing_strategy {
            PricingStrategy::Unit => format!(
                "{} × {} at {} = {}",
                l.quantity,
                words(l.unit.as_str()),
                money_cents(l.unit_price_cents, currency),
                money_cents(l.total_cents, currency)
            ),
            _ => format!("Flat fee {}", money_cents(l.total_cents, currency)),
        })
        .map(|t| esc(&t).to_string())
        .collect::<Vec<_>>()
        .join("<br>")
}

/// A refused move in the page's words: the service's reasons (which name the status), or the
/// code's meaning.
fn refusal(e: &ServiceError) -> String {
    let mut parts = Vec::new();
    for (field, msgs) in e.fields.fields() {
        for m in msgs {
            let sentence = if field == "status" { m.clone() } else { format!("{field}: {m}") };
            parts.push(capitalized(&sentence));
        }
    }
    if !parts.is_empty() {
        return format!("{}.", parts.join("; "));
    }
    match e.code {
        c if c == codes::EDITION_IN_QUOTE => "The quote has an item of that edition already (one per edition).".into(),
        c if c == codes::SEATS_IN_USE => "More seats are assigned than the change leaves: unassign some first.".into(),
        c if c == codes::NOT_CHANGEABLE => "The subscription can no longer be changed.".into(),
        c if c == codes::ALREADY_SUBSCRIBED => "The customer has a live subscription of that edition already.".into(),
        _ => service_message(e),
    }
}

fn refused_status(e: &ServiceError) -> StatusCode {
    match e.kind {
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    }
}

/// The catalog's payment plans a reseller may sell, as `(plan id, label, product id)`; empty
/// when the caller may not read the catalog (it is a reseller's read).
async fn plan_choices(web: &Web, p: &Principal) -> Vec<(String, String, String)> {
    let Ok(Paged { items: products, .. }) =
        web.services.catalog().sellable_products(p, None, None, &Window::Offset(0), CHOICES_MAX).await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for product in products {
        let editions: Vec<Edition> = serde_json::from_value(product.editions.clone()).unwrap_or_default();
        for e in editions {
            for plan in e.payment_plans {
                let label = format!("{} · {} · {}", product.name, e.name, words(plan.frequency.as_str()));
                out.push((plan.id, label, product.id.clone()));
            }
        }
    }
    out
}

fn unit_options() -> Vec<(&'static str, String)> {
    PricingUnit::NAMES.iter().map(|n| (*n, words(n))).collect()
}

/// A plan, units and quantity as a form gives them: the item's pricing plan and its one line
/// (`quantity` empty: the plan's minimum), problems named under `units_field`.
fn one_line(unit: &str, quantity: &str, units_field: &str, errors: &mut ValidationErrors) -> Option<Vec<OrderLine>> {
    let q = quantity.trim();
    if q.is_empty() {
        return None;
    }
    let unit = errors.check(&format!("{units_field}[0].unit"), PricingUnit::parse(unit.trim()));
    let quantity = errors.check(
        &format!("{units_field}[0].quantity"),
        q.parse::<u32>().map_err(|_| "must be a whole number from 0".to_owned()),
    );
    match (unit, quantity) {
        (Some(unit), Some(quantity)) => Some(vec![OrderLine { unit, quantity }]),
        _ => None,
    }
}

// ----- quotes: list -----

const QUOTE_SORTS: &[(&str, &str, QuoteSort, SortOrder)] = &[
    ("-createdOn", "Newest first", QuoteSort::CreatedOn, SortOrder::Desc),
    ("+createdOn", "Oldest first", QuoteSort::CreatedOn, SortOrder::Asc),
    ("+name", "Name", QuoteSort::Name, SortOrder::Asc),
    ("+status", "Status", QuoteSort::Status, SortOrder::Asc),
    ("-purchaseEffectiveDate", "Purchase date, latest first", QuoteSort::PurchaseEffectiveDate, SortOrder::Desc),
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuoteListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    search_text: String,
    #[serde(default)]
    created_from: String,
    #[serde(default)]
    created_to: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

fn quote_filter(q: &QuoteListQuery) -> Result<QuoteFilter, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let status = match q.status.trim() {
        "" => None,
        s => errors.check("status", QuoteStatus::parse(s)),
    };
    let search = search_text(&q.search_text, &mut errors);
    let created = created_range(&q.created_from, &q.created_to, &mut errors);
    let sort = sort_of(&q.sort, QUOTE_SORTS, &mut errors);
    errors.into_result()?;
    Ok(QuoteFilter { created, status, search, sort, ..Default::default() })
}

fn quote_title(q: &partnerd_store::QuoteRecord) -> String {
    match &q.name {
        Some(n) if !n.is_empty() => format!("{n} ({})", q.friendly_id),
        _ => format!("Quote {}", q.friendly_id),
    }
}

async fn quotes_page(State(web): State<Web>, Signed(s): Signed, Query(q): Query<QuoteListQuery>) -> PageResult {
    let p = &s.principal;
    let page_no = page_number(&q.page);
    let (rows, total, errors) = match quote_filter(&q) {
        Ok(filter) => {
            let offset = offset_of(page_no, PER_PAGE);
            let Paged { items: rows, total, .. } = web
                .services
                .quotes()
                .list(p, None, filter, &Window::Offset(offset), PER_PAGE)
                .await
                .map_err(keep_nav(&s))?;
            (rows, total, None)
        }
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let errors = errors.as_ref();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|v| {
            let q = &v.quote;
            vec![
                format!("<a href=\"/dashboard/quotes/{}\">{}</a>", urlenc(&q.id), esc(&quote_title(q))),
                format!(
                    "{}<br><small>{}</small>",
                    esc(&q.customer_company_name),
                    esc(&person(&q.customer_first_name, &q.customer_last_name))
                ),
                format!(
                    "{}<br><small>{}</small>",
                    esc(&q.owner_company_name),
                    esc(&person(&q.owner_first_name, &q.owner_last_name))
                ),
                badge(q.status.as_str()),
                format!("<span class=\"amount\">{}</span>", esc(&money_cents(q.total_cents, &q.currency))),
                time(q.created_at),
            ]
        })
        .collect();
    let mut body = String::new();
    if p.partner.is_some() {
        body.push_str("<p><a href=\"/dashboard/quotes/new\">New quote</a> · ");
    } else {
        body.push_str("<p>Every quote of the marketplace (you are its manager). ");
    }
    body.push_str(
        "<span class=\"muted\">The AppReseller API's opportunities (<code>/api/appReseller/v1/opportunities</code>).</span></p>",
    );
    let statuses = status_labels(&QuoteStatus::NAMES);
    let status_opts = with_first("Any status", &statuses);
    body.push_str(&list_filters(
        "/dashboard/quotes",
        "Filter quotes",
        &[
            Field::text("searchText", "Search", q.search_text.trim())
                .kind("search")
                .hint("Name or any id (quote, customer, seller)")
                .render(errors),
            select("status", "Status", &status_opts, q.status.trim(), errors),
            Field::text("createdFrom", "Created from", &date_value(&q.created_from, false)).kind("date").render(errors),
            Field::text("createdTo", "Created to", &date_value(&q.created_to, true)).kind("date").render(errors),
            sort_select(&q.sort, QUOTE_SORTS, errors),
        ],
        "/dashboard/quotes",
        "Clear",
    ));
    let table = table(
        "Quotes",
        &["Quote", "Customer", "Seller", "Status", "Total", "Created"],
        &table_rows,
        "No quotes match.",
    );
    let keep: &[(&str, &str)] = &[
        ("searchText", &q.search_text),
        ("status", &q.status),
        ("createdFrom", &q.created_from),
        ("createdTo", &q.created_to),
        ("sort", &q.sort),
    ];
    body.push_str(&results(errors.is_some(), &table, "/dashboard/quotes", keep, page_no, total));
    let status = form_status(errors.is_some());
    Ok(html(status, page(Some(&s), "Quotes", Nav::Quotes, &body)))
}

// ----- quotes: new -----

#[derive(Deserialize, Default)]
pub(crate) struct QuoteForm {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "customerCompanyId")]
    customer_company_id: String,
    #[serde(default, rename = "customerId")]
    customer_id: String,
    #[serde(default)]
    currency: String,
    #[serde(default, rename = "items[0].pricingPlanId")]
    plan: String,
    #[serde(default, rename = "items[0].units[0].quantity")]
    quantity: String,
    #[serde(default, rename = "items[0].units[0].unit")]
    unit: String,
}

fn linked_scope(p: &Principal) -> CompanyScope {
    CompanyScope::LinkedTo(p.company_id.clone())
}

/// The reseller's customer companies, as `(id, name)`.
async fn company_choices(web: &Web, p: &Principal) -> Result<Vec<(String, String)>, ServiceError> {
    let filter = CompanyFilter {
        scope: linked_scope(p),
        active: None,
        enabled: None,
        channel_admin: None,
        vendor: None,
        from: None,
        to: None,
        search: None,
        sort: CompanySort::CreatedOn,
        order: SortOrder::Desc,
    };
    let Paged { items: companies, .. } =
        web.services.accounts().list_companies(p, Context::Reseller, filter, &Window::Offset(0), CHOICES_MAX).await?;
    Ok(companies.into_iter().map(|c| (c.id, c.name)).collect())
}

/// The users of the reseller's customer companies, as `(id, label)`.
async fn user_choices(web: &Web, p: &Principal) -> Result<Vec<(String, String)>, ServiceError> {
    let filter = UserFilter {
        scope: linked_scope(p),
        company_id: None,
        activity: None,
        from: None,
        to: None,
        search: None,
        sort: UserSort::Email,
        order: SortOrder::Asc,
    };
    let Paged { items: users, .. } =
        web.services.accounts().list_users(p, Context::Reseller, filter, &Window::Offset(0), CHOICES_MAX).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let of: Vec<String> = u.memberships.iter().map(|m| m.company_name.clone()).collect();
            let name = person(u.user.first_name.as_deref().unwrap_or(""), u.user.last_name.as_deref().unwrap_or(""));
            (u.user.id.clone(), format!("{name} <{}> · {}", u.user.email, of.join(", ")).trim().to_owned())
        })
        .collect())
}

async fn render_quote_form(
    web: &Web,
    s: &Arc<WebSession>,
    status: StatusCode,
    form: &QuoteForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let p = &s.principal;
    let companies = company_choices(web, p).await.map_err(keep_nav(s))?;
    let users = user_choices(web, p).await.map_err(keep_nav(s))?;
    let plans = plan_choices(web, p).await;
    let company_opts = with_first("Choose a customer company", &companies);
    let mut user_opts: Vec<(&str, &str)> = vec![("", "Choose the customer's user")];
    user_opts.extend(users.iter().map(|(v, l)| (v.as_str(), l.as_str())));
    let mut plan_opts: Vec<(&str, &str)> = vec![("", "No item yet")];
    plan_opts.extend(plans.iter().map(|(v, l, _)| (v.as_str(), l.as_str())));
    let units = unit_options();
    let unit_opts: Vec<(&str, &str)> = units.iter().map(|(v, l)| (*v, l.as_str())).collect();
    let currency = if form.currency.trim().is_empty() { "USD" } else { form.currency.trim() };
    let mut body = String::from("<p><a href=\"/dashboard/quotes\">← All quotes</a></p>");
    if companies.is_empty() {
        body.push_str(&notice(
            "You have no customer companies yet: a converted lead, or a company created through the AppReseller API, becomes one.",
        ));
    }
    let _ = write!(
        body,
        "{}<form method=\"post\" action=\"/dashboard/quotes\" class=\"card fieldsets\">{}{}{}{}{}\
         <fieldset><legend>First item (optional; add more on the quote's page)</legend>{}{}{}</fieldset>\
         <button type=\"submit\">Create quote</button></form>",
        other_errors(errors, QUOTE_FIELDS),
        csrf_field(&s.csrf_token),
        Field::text("name", "Name", &form.name).hint("For you and the customer, e.g. \"Q3 rollout\".").render(errors),
        select("customerCompanyId", "Customer company", &company_opts, form.customer_company_id.trim(), errors),
        select("customerId", "Customer's user", &user_opts, form.customer_id.trim(), errors),
        Field::text("currency", "Currency", currency)
            .hint("ISO 4217, e.g. USD.")
            .extra("maxlength=\"3\"")
            .render(errors),
        select("items[0].pricingPlanId", "Payment plan", &plan_opts, form.plan.trim(), errors),
        Field::text("items[0].units[0].quantity", "Quantity", &form.quantity)
            .kind("number")
            .hint("Empty: the plan's minimum.")
            .extra("min=\"0\" step=\"1\"")
            .render(errors),
        select(
            "items[0].units[0].unit",
            "Unit",
            &unit_opts,
            if form.unit.trim().is_empty() { "USER" } else { form.unit.trim() },
            errors
        ),
    );
    Ok(html(status, page(Some(s), "New quote", Nav::Quotes, &body)))
}

/// The fields the new-quote form shows (any other problem is listed above it).
const QUOTE_FIELDS: &[&str] = &[
    "name",
    "customerCompanyId",
    "customerId",
    "currency",
    "items[0].pricingPlanId",
    "items[0].units[0].quantity",
    "items[0].units[0].unit",
];

#[derive(Deserialize, Default)]
pub(crate) struct NewQuoteQuery {
    #[serde(default, rename = "customerCompanyId")]
    customer_company_id: String,
    #[serde(default, rename = "customerId")]
    customer_id: String,
}

async fn new_quote_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Query(q): Query<NewQuoteQuery>,
) -> PageResult {
    let form =
        QuoteForm { customer_company_id: q.customer_company_id, customer_id: q.customer_id, ..Default::default() };
    render_quote_form(&web, &s, StatusCode::OK, &form, None).await
}

async fn create_quote(State(web): State<Web>, PartnerUser(s): PartnerUser, Form(form): Form<QuoteForm>) -> PageResult {
    let p = &s.principal;
    let mut errors = ValidationErrors::new();
    let mut items = Vec::new();
    if let Some(plan) = given(&form.plan) {
        let units = one_line(&form.unit, &form.quantity, "items[0].units", &mut errors);
        items.push(ItemInput { pricing_plan_id: Some(plan), units, ..Default::default() });
    }
    if !errors.is_empty() {
        return render_quote_form(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&errors)).await;
    }
    let input = NewQuote {
        customer_company_id: given(&form.customer_company_id),
        customer_user_id: given(&form.customer_id),
        owner_company_id: None,
        owner_user_id: None,
        name: given(&form.name),
        currency: given(&form.currency),
        purchase_effective_at: None,
        items,
    };
    match web.services.quotes().create(p, None, input).await {
        Ok(v) => Ok(see_other(&format!("/dashboard/quotes/{}?done=created", urlenc(&v.quote.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_quote_form(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&e.fields)).await
        }
        Err(e) if e.kind == ErrorKind::Conflict => {
            let errors = ValidationErrors::single("items", refusal(&e));
            render_quote_form(&web, &s, StatusCode::CONFLICT, &form, Some(&errors)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ----- quotes: one -----

#[derive(Deserialize, Default)]
pub(crate) struct ItemForm {
    #[serde(default, rename = "pricingPlanId")]
    plan: String,
    #[serde(default, rename = "units[0].quantity")]
    quantity: String,
    #[serde(default, rename = "units[0].unit")]
    unit: String,
}

const QUOTE_DONE: &[(&str, &str)] = &[
    ("created", "The quote was created."),
    ("item-added", "The item was added and the quote priced again."),
    ("item-removed", "The item was removed."),
    ("review-requested", "A review was requested: the marketplace manager has the quote now."),
    ("review-completed", "The review is complete: the quote is back with its sellers."),
    ("finalized", "The quote was finalized: every item was bought."),
];

fn item_rows(s: &WebSession, v: &QuoteView, editable: bool) -> Vec<Vec<String>> {
    let q = &v.quote;
    v.items
        .iter()
        .map(|i: &QuoteItem| {
            let remove = if editable {
                action_button(
                    &format!("/dashboard/quotes/{}/items/{}/remove", urlenc(&q.id), urlenc(&i.id)),
                    &s.csrf_token,
                    "Remove",
                    "danger",
                    &[],
                )
            } else {
                String::new()
            };
            let below = if i.below_catalog { "<br><small>Priced below the catalog</small>" } else { "" };
            vec![
                esc(&i.product_name).to_string(),
                format!("{}<br><small><code>{}</code></small>", esc(&i.edition_name), esc(&i.pricing_plan_id)),
                esc(period_label(i.frequency)).to_string(),
                esc(&lines_text(&i.units)).to_string(),
                priced_text(&i.priced, &q.currency),
                format!("<span class=\"amount\">{}</span>{below}", esc(&money_cents(i.total_cents, &q.currency))),
                remove,
            ]
        })
        .collect()
}

async fn render_quote(
    web: &Web,
    s: &Arc<WebSession>,
    id: &str,
    status: StatusCode,
    top: &str,
    item_form: Option<(&ItemForm, &ValidationErrors)>,
) -> PageResult {
    let p = &s.principal;
    let v = web.services.quotes().get(p, id).await.map_err(keep_nav(s))?;
    let q = &v.quote;
    let editable = v.available_actions.contains(&AvailableAction::Edit);
    let base = format!("/dashboard/quotes/{}", urlenc(&q.id));

    let mut facts = String::new();
    fact(&mut facts, "Status", &badge(q.status.as_str()));
    text_fact(&mut facts, "Reference", &q.friendly_id);
    fact(
        &mut facts,
        "Customer",
        &format!(
            "{}<br>{} <small>{}</small>",
            esc(&q.customer_company_name),
            esc(&person(&q.customer_first_name, &q.customer_last_name)),
            esc(&q.customer_email)
        ),
    );
    fact(
        &mut facts,
        "Seller",
        &format!(
            "{}<br>{} <small>{}</small>",
            esc(&q.owner_company_name),
            esc(&person(&q.owner_first_name, &q.owner_last_name)),
            esc(&q.owner_email)
        ),
    );
    text_fact(&mut facts, "Currency", &q.currency);
    fact(&mut facts, "Created", &time(q.created_at));
    fact(&mut facts, "Last changed", &time(q.updated_at));
    if let Some(t) = q.purchase_effective_at {
        fact(&mut facts, "Purchase effective", &time(t));
    }
    if let Some(pid) = &q.purchase_id {
        let link = if p.partner.is_some() {
            format!(" · <a href=\"/dashboard/subscriptions?searchText={}\">its subscriptions</a>", urlenc(pid))
        } else {
            String::new()
        };
        fact(&mut facts, "Purchase", &format!("<code>{}</code>{link}", esc(pid)));
    }
    text_fact(&mut facts, "Quote id", &q.id);

    let mut body = format!("<p><a href=\"/dashboard/quotes\">← All quotes</a></p>{top}");
    let _ = write!(
        body,
        "<section class=\"card\" aria-labelledby=\"quote-h\"><h2 id=\"quote-h\">Quote</h2><dl class=\"facts\">{facts}</dl></section>"
    );
    let head: &[&str] = &["Product", "Edition and plan", "Billed", "Units", "Price", "Total", ""];
    let _ = write!(
        body,
        "<section aria-labelledby=\"items-h\"><h2 id=\"items-h\">Items</h2>{}\
         <p class=\"quote-total\">Total <strong class=\"amount\">{}</strong> <small class=\"muted\">({} item{})</small></p>",
        table("Items of the quote", head, &item_rows(s, &v, editable), "No items yet."),
        esc(&money_cents(q.total_cents, &q.currency)),
        v.items.len(),
        if v.items.len() == 1 { "" } else { "s" }
    );
    if editable {
        let plans = plan_choices(web, p).await;
        let (form, errors) = match item_form {
            Some((f, e)) => (Some(f), Some(e)),
            None => (None, None),
        };
        let chosen = form.map(|f| f.plan.trim()).unwrap_or_default();
        let plan_field = if plans.is_empty() {
            Field::text("pricingPlanId", "Payment plan id", chosen).required().render(errors)
        } else {
            let mut opts: Vec<(&str, &str)> = vec![("", "Choose a payment plan")];
            opts.extend(plans.iter().map(|(v, l, _)| (v.as_str(), l.as_str())));
            select("pricingPlanId", "Payment plan", &opts, chosen, errors)
        };
        let units = unit_options();
        let unit_opts: Vec<(&str, &str)> = units.iter().map(|(v, l)| (*v, l.as_str())).collect();
        let unit = form.map(|f| f.unit.trim()).filter(|u| !u.is_empty()).unwrap_or("USER");
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{base}/items\" class=\"card\" aria-labelledby=\"add-item-h\">\
             <h3 id=\"add-item-h\">Add an item</h3>{}{}{plan_field}{}{}<button type=\"submit\" class=\"secondary\">Add item</button></form>",
            csrf_field(&s.csrf_token),
            other_errors(errors, &["pricingPlanId", "units[0].quantity", "units[0].unit"]),
            Field::text("units[0].quantity", "Quantity", form.map(|f| f.quantity.as_str()).unwrap_or_default())
                .kind("number")
                .hint("Empty: the plan's minimum.")
                .extra("min=\"0\" step=\"1\"")
                .render(errors),
            select("units[0].unit", "Unit", &unit_opts, unit, errors),
        );
    }
    body.push_str("</section>");

    let mut moves = String::new();
    if v.available_actions.contains(&AvailableAction::Finalize) {
        moves.push_str(&action_button(&format!("{base}/finalize"), &s.csrf_token, "Finalize: buy every item", "", &[]));
        moves.push(' ');
    }
    if v.available_actions.contains(&AvailableAction::RequestReview) {
        moves.push_str(&action_button(
            &format!("{base}/request-review"),
            &s.csrf_token,
            "Request review",
            "secondary",
            &[],
        ));
        moves.push(' ');
    }
    if p.has_role(Role::ChannelAdmin) && act(q.status, QuoteRole::ChannelAdmin, QuoteAction::CompleteReview).is_ok() {
        moves.push_str(&action_button(
            &format!("{base}/complete-review"),
            &s.csrf_token,
            "Complete review (back to its sellers)",
            "secondary",
            &[],
        ));
    }
    let why = match q.status {
        QuoteStatus::Closed => Some("The quote is closed: it was bought."),
        QuoteStatus::PendingReview if !p.has_role(Role::ChannelAdmin) => {
            Some("The quote is under review by the marketplace manager.")
        }
        QuoteStatus::Open if v.items.iter().any(|i| i.below_catalog) && p.partner.is_some() => {
            Some("An item is priced below the catalog: the marketplace manager finalizes it after a review.")
        }
        _ => None,
    };
    if let Some(w) = why {
        let _ = write!(moves, "<p class=\"muted\">{}</p>", esc(w));
    }
    if moves.is_empty() {
        moves.push_str("<p class=\"muted\">No move is open to you on this quote now.</p>");
    }
    let _ = write!(body, "<section aria-labelledby=\"moves-h\"><h2 id=\"moves-h\">What next</h2>{moves}</section>");
    Ok(html(status, page(Some(s), &quote_title(q), Nav::Quotes, &body)))
}

async fn quote_page(
    State(web): State<Web>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let top = done_notice(&q.done, QUOTE_DONE);
    render_quote(&web, &s, &id, StatusCode::OK, &top, None).await
}

/// The result of a quote move: back to the quote with a notice, or the quote with the reason.
async fn quote_outcome<T>(
    web: &Web,
    s: Arc<WebSession>,
    id: &str,
    outcome: Result<T, ServiceError>,
    done: &str,
) -> PageResult {
    match outcome {
        Ok(_) => Ok(see_other(&format!("/dashboard/quotes/{}?done={done}", urlenc(id)))),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::Forbidden) => {
            render_quote(web, &s, id, refused_status(&e), &alert(&refusal(&e)), None).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn add_item(
    State(web): State<Web>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Form(form): Form<ItemForm>,
) -> PageResult {
    let mut errors = ValidationErrors::new();
    let units = one_line(&form.unit, &form.quantity, "units", &mut errors);
    if !errors.is_empty() {
        return render_quote(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some((&form, &errors))).await;
    }
    let plan = given(&form.plan);
    let input = ItemInput { pricing_plan_id: plan, units, ..Default::default() };
    match web.services.quotes().add_item(&s.principal, &id, input).await {
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_quote(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some((&form, &e.fields))).await
        }
        other => quote_outcome(&web, s, &id, other, "item-added").await,
    }
}

async fn remove_item(
    State(web): State<Web>,
    Signed(s): Signed,
    Path((id, item)): Path<(String, String)>,
) -> PageResult {
    let outcome = web.services.quotes().remove_item(&s.principal, &id, &item).await;
    quote_outcome(&web, s, &id, outcome, "item-removed").await
}

async fn request_review(State(web): State<Web>, Signed(s): Signed, Path(id): Path<String>) -> PageResult {
    let outcome = web.services.quotes().request_review(&s.principal, &id).await;
    quote_outcome(&web, s, &id, outcome, "review-requested").await
}

async fn complete_review(State(web): State<Web>, Signed(s): Signed, Path(id): Path<String>) -> PageResult {
    let outcome = web.services.quotes().complete_review(&s.principal, &id).await;
    quote_outcome(&web, s, &id, outcome, "review-completed").await
}

async fn finalize(State(web): State<Web>, Signed(s): Signed, Path(id): Path<String>) -> PageResult {
    let outcome = web.services.quotes().finalize(&s.principal, &id).await;
    quote_outcome(&web, s, &id, outcome, "finalized").await
}

// ----- subscriptions: list -----

const SUBSCRIPTION_SORTS: &[(&str, &str, SubscriptionSort, SortOrder)] = &[
    ("-createdOn", "Newest first", SubscriptionSort::CreatedOn, SortOrder::Desc),
    ("+createdOn", "Oldest first", SubscriptionSort::CreatedOn, SortOrder::Asc),
    ("+company.name", "Customer company", SubscriptionSort::CompanyName, SortOrder::Asc),
    ("+applicationName", "Product", SubscriptionSort::ApplicationName, SortOrder::Asc),
    ("+status", "Status", SubscriptionSort::Status, SortOrder::Asc),
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SubscriptionListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    search_text: String,
    #[serde(default)]
    customer_company_id: String,
    #[serde(default)]
    paid_status: String,
    #[serde(default)]
    created_from: String,
    #[serde(default)]
    created_to: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

fn subscription_filter(q: &SubscriptionListQuery) -> Result<SubscriptionFilter, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let statuses = match q.status.trim() {
        "" => Vec::new(),
        s => errors.check("status", SubscriptionStatus::parse(s)).into_iter().collect(),
    };
    let paid = match q.paid_status.trim() {
        "" => None,
        "PAID" => Some(true),
        "FREE" => Some(false),
        other => {
            errors.add("paidStatus", partnerd_domain::str_enum::one_of(other, &["PAID", "FREE"]));
            None
        }
    };
    let common = PurchaseFilter {
        company_id: given(&q.customer_company_id),
        created: created_range(&q.created_from, &q.created_to, &mut errors),
        paid,
        search: search_text(&q.search_text, &mut errors),
        ..Default::default()
    };
    let sort = sort_of(&q.sort, SUBSCRIPTION_SORTS, &mut errors);
    errors.into_result()?;
    Ok(SubscriptionFilter { common, statuses, sort })
}

fn order_lines_of(v: &serde_json::Value) -> Vec<OrderLine> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn price_of(e: &SubscriptionEntry) -> String {
    let o = &e.order;
    format!("{} {}", money_cents(o.total_cents, &o.currency), period_label(o.frequency))
}

async fn subscriptions_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Query(q): Query<SubscriptionListQuery>,
) -> PageResult {
    let p = &s.principal;
    let page_no = page_number(&q.page);
    let (rows, total, errors) = match subscription_filter(&q) {
        Ok(filter) => {
            let offset = offset_of(page_no, PER_PAGE);
            let Paged { items: rows, total, .. } = web
                .services
                .subscriptions()
                .list_own(p, filter, &Window::Offset(offset), PER_PAGE)
                .await
                .map_err(keep_nav(&s))?;
            (rows, total, None)
        }
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let errors = errors.as_ref();
    let companies = company_choices(&web, p).await.unwrap_or_default();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|e| {
            let sub = &e.subscription;
            vec![
                format!(
                    "<a href=\"/dashboard/subscriptions/{}\">{}</a><br><small>{}</small>",
                    urlenc(&sub.id),
                    esc(&sub.application_name),
                    esc(&sub.edition_name)
                ),
                format!(
                    "{}<br><small>{}</small>",
                    esc(&sub.company_name),
                    esc(&person(&sub.user_first_name, &sub.user_last_name))
                ),
                badge(sub.status.as_str()),
                esc(&lines_text(&order_lines_of(&e.order.order_lines))).to_string(),
                format!("<span class=\"amount\">{}</span>", esc(&price_of(e))),
                time(sub.created_at),
            ]
        })
        .collect();
    let statuses = status_labels(&SubscriptionStatus::NAMES);
    let status_opts = with_first("Any status", &statuses);
    let company_opts = with_first("Every customer", &companies);
    let mut body = String::from(
        "<p class=\"muted\">What your company bought for its customers: through the AppReseller API \
         (<code>/api/appReseller/v1/subscriptions</code>) or by finalizing a quote.</p>",
    );
    body.push_str(&list_filters(
        "/dashboard/subscriptions",
        "Filter subscriptions",
        &[
            Field::text("searchText", "Search", q.search_text.trim())
                .kind("search")
                .hint("Product, edition, company, user, or an id")
                .render(errors),
            select("status", "Status", &status_opts, q.status.trim(), errors),
            select("customerCompanyId", "Customer", &company_opts, q.customer_company_id.trim(), errors),
            select(
                "paidStatus",
                "Price",
                &[("", "Paid or free"), ("PAID", "Paid"), ("FREE", "Free")],
                q.paid_status.trim(),
                errors,
            ),
            Field::text("createdFrom", "Created from", &date_value(&q.created_from, false)).kind("date").render(errors),
            Field::text("createdTo", "Created to", &date_value(&q.created_to, true)).kind("date").render(errors),
            sort_select(&q.sort, SUBSCRIPTION_SORTS, errors),
        ],
        "/dashboard/subscriptions",
        "Clear",
    ));
    let table = table(
        "Subscriptions",
        &["Product", "Customer", "Status", "Units", "Price", "Created"],
        &table_rows,
        "No subscriptions match.",
    );
    let keep: &[(&str, &str)] = &[
        ("searchText", &q.search_text),
        ("status", &q.status),
        ("customerCompanyId", &q.customer_company_id),
        ("paidStatus", &q.paid_status),
        ("createdFrom", &q.created_from),
        ("createdTo", &q.created_to),
        ("sort", &q.sort),
    ];
    body.push_str(&results(errors.is_some(), &table, "/dashboard/subscriptions", keep, page_no, total));
    let status = form_status(errors.is_some());
    Ok(html(status, page(Some(&s), "Subscriptions", Nav::Subscriptions, &body)))
}

// ----- subscriptions: one -----

#[derive(Deserialize, Default)]
pub(crate) struct ChangeForm {
    #[serde(default, rename = "paymentPlanId")]
    plan: String,
    #[serde(default, rename = "orderLines[0].quantity")]
    quantity: String,
    #[serde(default, rename = "orderLines[0].unit")]
    unit: String,
}

const SUBSCRIPTION_DONE: &[(&str, &str)] = &[
    ("changed", "The subscription was changed: a new order replaces the old one, prorated."),
    ("unchanged", "Nothing changed: that is the subscription's plan and quantity already."),
    ("cancelled", "The subscription was cancelled."),
];

fn history_line(e: &partnerd_store::EventRecord) -> Option<String> {
    let what = match e.event_type.as_str() {
        types::SUBSCRIPTION_CREATED => "Bought".to_owned(),
        types::SUBSCRIPTION_CHANGED => match SubscriptionChanged::deserialize(&e.payload) {
            Ok(c) => format!(
                "Changed: {} → {}, {} → {}",
                lines_text(&c.order_lines.old),
                lines_text(&c.order_lines.new),
                money_cents(c.total.old.cents(), &c.currency),
                money_cents(c.total.new.cents(), &c.currency)
            ),
            Err(_) => "Changed".to_owned(),
        },
        types::SUBSCRIPTION_RENEWED => match SubscriptionRenewed::deserialize(&e.payload) {
            Ok(r) => format!(
                "Renewed for {} to {}: {}{}",
                r.period_start.format("%Y-%m-%d"),
                r.period_end.format("%Y-%m-%d"),
                money_cents(r.total.cents(), &r.currency),
                r.invoice_id.map(|i| format!(", invoice {i}")).unwrap_or_default()
            ),
            Err(_) => "Renewed".to_owned(),
        },
        types::SUBSCRIPTION_CANCELLED => "Cancelled".to_owned(),
        _ => return None,
    };
    Some(format!("<li>{} · <strong>{}</strong></li>", time(e.occurred_at), esc(&what)))
}

fn order_rows(orders: &[OrderRecord]) -> Vec<Vec<String>> {
    orders
        .iter()
        .map(|o| {
            vec![
                time(o.created_at),
                format!("<code>{}</code>", esc(&o.id)),
                esc(&o.edition_name).to_string(),
                esc(&lines_text(&order_lines_of(&o.order_lines))).to_string(),
                badge(o.status.as_str()),
                format!("<span class=\"amount\">{}</span>", esc(&money_cents(o.total_cents, &o.currency))),
                o.invoice_id.as_deref().map_or_else(
                    || "<span class=\"muted\">none</span>".to_owned(),
                    |i| format!("<code>{}</code>", esc(i)),
                ),
            ]
        })
        .collect()
}

async fn render_subscription(
    web: &Web,
    s: &Arc<WebSession>,
    id: &str,
    status: StatusCode,
    top: &str,
    change: Option<(&ChangeForm, &ValidationErrors)>,
) -> PageResult {
    let p = &s.principal;
    let subs = web.services.subscriptions();
    let fail = keep_nav(s);
    let entry = subs.get(p, id).await.map_err(fail)?;
    let orders = subs.orders_of(p, id, 100).await.map_err(fail)?;
    let history = subs.history(p, id).await.map_err(fail)?;
    let seat_filter = SeatFilter { subscription_id: entry.subscription.id.clone(), ..Default::default() };
    let active_filter = SeatFilter { statuses: vec![SeatStatus::Active], ..seat_filter.clone() };
    let Paged { items: seats, total: seats_total, .. } =
        subs.seats(p, seat_filter, &Window::Offset(0), 100).await.map_err(fail)?;
    // Counted by the store, not from the first page of seats shown below.
    let Paged { total: assigned, .. } = subs.seats(p, active_filter, &Window::Offset(0), 1).await.map_err(fail)?;
    let (sub, order) = (&entry.subscription, &entry.order);
    let lines = order_lines_of(&order.order_lines);

    let mut facts = String::new();
    fact(&mut facts, "Status", &badge(sub.status.as_str()));
    text_fact(&mut facts, "Product", &sub.application_name);
    text_fact(&mut facts, "Edition", &sub.edition_name);
    fact(
        &mut facts,
        "Payment plan",
        &format!("<code>{}</code> ({})", esc(&sub.payment_plan_id), esc(&words(sub.frequency.as_str()))),
    );
    fact(
        &mut facts,
        "Customer",
        &format!("{}<br>{}", esc(&sub.company_name), esc(&person(&sub.user_first_name, &sub.user_last_name))),
    );
    text_fact(&mut facts, "Units", &lines_text(&lines));
    text_fact(&mut facts, "Seats", &format!("{} ({assigned} assigned)", sub.seats));
    fact(&mut facts, "Price", &format!("<span class=\"amount\">{}</span>", esc(&price_of(&entry))));
    if let (Some(a), Some(b)) = (sub.period_start, sub.period_end) {
        fact(&mut facts, "Current period", &format!("{} to {}", time(a), time(b)));
    }
    fact(&mut facts, "Bought", &time(sub.created_at));
    if let Some(c) = sub.cancelled_at {
        fact(&mut facts, "Cancelled", &time(c));
    }
    if let Some(parent) = &sub.parent_subscription_id {
        fact(
            &mut facts,
            "Add-on of",
            &format!("<a href=\"/dashboard/subscriptions/{}\">{}</a>", urlenc(parent), esc(parent)),
        );
    }
    fact(&mut facts, "Active order", &format!("<code>{}</code> {}", esc(&order.id), badge(order.status.as_str())));
    text_fact(&mut facts, "Subscription id", &sub.id);

    let mut body = format!("<p><a href=\"/dashboard/subscriptions\">← All subscriptions</a></p>{top}");
    let _ = write!(
        body,
        "<section class=\"card\" aria-labelledby=\"sub-h\"><h2 id=\"sub-h\">Subscription</h2><dl class=\"facts\">{facts}</dl></section>"
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"priced-h\"><h2 id=\"priced-h\">Price of the active order</h2><p>{}</p></section>",
        priced_text(
            &serde_json::from_value::<Vec<PricedLine>>(order.priced_lines.clone()).unwrap_or_default(),
            &order.currency
        )
    );

    // Moves.
    let mut moves = String::new();
    let live = sub.status != SubscriptionStatus::Cancelled;
    if live && transition(sub.status, SubscriptionAction::Change).is_ok() {
        let mut plans: Vec<(String, String, String)> =
            plan_choices(web, p).await.into_iter().filter(|(_, _, product)| *product == sub.product_id).collect();
        // The current plan is always a choice (a re-import may have dropped it from the
        // catalog), so changing only the quantity never switches the plan.
        if !plans.is_empty() && !plans.iter().any(|(id, _, _)| *id == sub.payment_plan_id) {
            let current = format!("The current plan ({})", sub.payment_plan_id);
            plans.insert(0, (sub.payment_plan_id.clone(), current, sub.product_id.clone()));
        }
        let (form, errors) = match change {
            Some((f, e)) => (Some(f), Some(e)),
            None => (None, None),
        };
        let plan = form.map_or(sub.payment_plan_id.as_str(), |f| f.plan.trim());
        let plan_field = if plans.is_empty() {
            Field::text("paymentPlanId", "Payment plan id", plan).required().render(errors)
        } else {
            let opts: Vec<(&str, &str)> = plans.iter().map(|(v, l, _)| (v.as_str(), l.as_str())).collect();
            select("paymentPlanId", "Payment plan", &opts, plan, errors)
        };
        let first = lines.first();
        let quantity =
            form.map_or_else(|| first.map(|l| l.quantity.to_string()).unwrap_or_default(), |f| f.quantity.clone());
        let unit = form
            .map(|f| f.unit.trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| first.map_or("USER", |l| l.unit.as_str()).to_owned());
        let units = unit_options();
        let unit_opts: Vec<(&str, &str)> = units.iter().map(|(v, l)| (*v, l.as_str())).collect();
        let _ = write!(
            moves,
            "<form method=\"post\" action=\"/dashboard/subscriptions/{}/change\" class=\"card\" aria-labelledby=\"change-h\">\
             <h3 id=\"change-h\">Change the plan or quantity</h3><p class=\"muted\">Prorated over the rest of the period, on one invoice.</p>\
             {}{}{plan_field}{}{}<button type=\"submit\" class=\"secondary\">Change subscription</button></form>",
            urlenc(&sub.id),
            csrf_field(&s.csrf_token),
            other_errors(errors, &["paymentPlanId", "orderLines[0].quantity", "orderLines[0].unit"]),
            Field::text("orderLines[0].quantity", "Quantity", &quantity)
                .kind("number")
                .extra("min=\"0\" step=\"1\"")
                .render(errors),
            select("orderLines[0].unit", "Unit", &unit_opts, &unit, errors),
        );
    }
    if live && transition(sub.status, SubscriptionAction::Cancel).is_ok() {
        let _ = write!(
            moves,
            "<p>{} <small class=\"muted\">At once, without a refund; its seats are unassigned.</small></p>",
            action_button(
                &format!("/dashboard/subscriptions/{}/cancel", urlenc(&sub.id)),
                &s.csrf_token,
                "Cancel subscription",
                "danger",
                &[]
            )
        );
    }
    if moves.is_empty() {
        moves.push_str("<p class=\"muted\">No move is open on this subscription now.</p>");
    }
    let _ = write!(body, "<section aria-labelledby=\"moves-h\"><h2 id=\"moves-h\">What next</h2>{moves}</section>");

    let _ = write!(
        body,
        "<section aria-labelledby=\"orders-h\"><h2 id=\"orders-h\">Orders and invoices</h2>{}</section>",
        table(
            "Orders of the subscription, newest first",
            &["Ordered", "Order", "Edition", "Units", "Status", "Total", "Invoice"],
            &order_rows(&orders),
            "No orders.",
        )
    );
    let lines_html: Vec<String> = history.iter().filter_map(history_line).collect();
    let _ = write!(body, "<section aria-labelledby=\"history-h\"><h2 id=\"history-h\">History and renewals</h2>");
    if lines_html.is_empty() {
        body.push_str("<p class=\"empty\">Nothing recorded yet.</p>");
    } else {
        let _ = write!(body, "<ol class=\"timeline\">{}</ol>", lines_html.concat());
    }
    body.push_str("</section>");
    let seat_rows: Vec<Vec<String>> = seats
        .iter()
        .map(|x| {
            vec![
                esc(&person(&x.user_first_name, &x.user_last_name)).to_string(),
                badge(x.status.as_str()),
                time(x.created_at),
                x.cancelled_at.map(time).unwrap_or_default(),
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"seats-h\"><h2 id=\"seats-h\">Seats ({seats_total})</h2>{}\
         <p class=\"muted\">Seats are assigned through the AppReseller API (<code>/subscriptionAssignments</code>).</p></section>",
        table("Seats of the subscription", &["User", "Status", "Assigned", "Ended"], &seat_rows, "No seats assigned.")
    );
    let title = format!("{} {} for {}", sub.application_name, sub.edition_name, sub.company_name);
    Ok(html(status, page(Some(s), &title, Nav::Subscriptions, &body)))
}

async fn subscription_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let top = done_notice(&q.done, SUBSCRIPTION_DONE);
    render_subscription(&web, &s, &id, StatusCode::OK, &top, None).await
}

async fn change_subscription(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> PageResult {
    let p = &s.principal;
    let mut errors = ValidationErrors::new();
    let lines = one_line(&form.unit, &form.quantity, "orderLines", &mut errors).unwrap_or_default();
    let plan = form.plan.trim().to_owned();
    if plan.is_empty() {
        errors.add("paymentPlanId", "is required");
    }
    if !errors.is_empty() {
        return render_subscription(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some((&form, &errors))).await;
    }
    let subs = web.services.subscriptions();
    let before = subs.get(p, &id).await.map_err(keep_nav(&s))?;
    match subs.update(p, &id, SubscriptionUpdate { payment_plan_id: plan, order_lines: lines }).await {
        Ok(after) => {
            let done = if after.order.id == before.order.id { "unchanged" } else { "changed" };
            Ok(see_other(&format!("/dashboard/subscriptions/{}?done={done}", urlenc(&id))))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_subscription(&web, &s, &id, StatusCode::UNPROCESSABLE_ENTITY, "", Some((&form, &e.fields))).await
        }
        Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::Forbidden) => {
            render_subscription(&web, &s, &id, refused_status(&e), &alert(&refusal(&e)), None).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn cancel_subscription(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
) -> PageResult {
    match web.services.subscriptions().cancel(&s.principal, &id).await {
        Ok(()) => Ok(see_other(&format!("/dashboard/subscriptions/{}?done=cancelled", urlenc(&id)))),
        Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::Forbidden | ErrorKind::Invalid) => {
            render_subscription(&web, &s, &id, refused_status(&e), &alert(&refusal(&e)), None).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_take_the_api_spelling() {
        let mut e = ValidationErrors::new();
        assert_eq!(sort_of("-createdOn", QUOTE_SORTS, &mut e), vec![(QuoteSort::CreatedOn, SortOrder::Desc)]);
        assert_eq!(sort_of("name", QUOTE_SORTS, &mut e), vec![(QuoteSort::Name, SortOrder::Asc)], "bare is ascending");
        assert!(e.is_empty());
        assert!(sort_of("-nope", QUOTE_SORTS, &mut e).is_empty());
        assert!(e.fields().contains_key("sort"));
    }

    #[test]
    fn filters_name_each_bad_parameter() {
        let q = QuoteListQuery { status: "OPEN".into(), created_from: "2025-01-01".into(), ..Default::default() };
        let f = quote_filter(&q).unwrap();
        assert_eq!(f.status, Some(QuoteStatus::Open));
        assert!(f.created.from.is_some_and(|b| b.inclusive) && f.created.to.is_none());
        let bad = SubscriptionListQuery { status: "LIVE".into(), paid_status: "CHEAP".into(), ..Default::default() };
        let e = subscription_filter(&bad).unwrap_err();
        assert!(e.fields().contains_key("status") && e.fields().contains_key("paidStatus"));
        let mut errs = ValidationErrors::new();
        assert_eq!(one_line("USER", "3", "units", &mut errs).unwrap()[0].quantity, 3);
        assert!(one_line("USER", "", "units", &mut errs).is_none());
        assert!(
            one_line("USER", "-1", "units", &mut errs).is_none() && errs.fields().contains_key("units[0].quantity")
        );
    }
}
