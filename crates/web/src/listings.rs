//! Listings: the partner's listings (filtered by status and paged as `GET /partners/listings`
//! is), creating one, and each listing's page: its facts, its SEO score exactly as
//! `GET /partners/listings/{id}/seo` gives it (score, grade, breakdown per criterion), the
//! recommendations of `…/recommendations` with their proposed values, and the edit form.
//!
//! Every write is the API's own `listings()` call, so validation and re-scoring (in the same
//! transaction as the change) are the API's. "Apply" on a recommendation writes its proposed
//! value through the same update, as `PUT {field: proposed_value}` does (the document's impact
//! is exactly the score change that gives); "Edit first" puts it into the form instead, to be
//! reviewed and saved. Forms carry the listing's version: a listing changed elsewhere since the
//! page was read is not overwritten silently.

use crate::Web;
use crate::charts::{Bar, hbar_chart};
use crate::forms::{comma_list, given, lines};
use crate::html::{
    Field, Nav, action_button, alert, badge, csrf_field, esc, notice, other_errors, page, pager, select, table, time,
    urlenc,
};
use crate::list::{PER_PAGE, offset_of, optional, page_number, query_of};
use crate::session::{PageError, PageResult, PartnerUser, html, keep_nav, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_domain::listing::{ListingPatch, ListingStatus, MARKETPLACES, PRICING_MODELS};
use partnerd_domain::seo::{self, Component, Proposal, Recommendation};
use partnerd_services::ErrorKind;
use partnerd_services::users::WebSession;
use partnerd_store::{ListingRecord, Window};
use serde::Deserialize;
use std::fmt::Write;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/listings", get(list_page).post(create))
        .route("/listings/new", get(new_page))
        .route("/listings/{id}", get(detail).post(update))
        .route("/listings/{id}/apply", post(apply))
        .route("/listings/{id}/archive", post(archive))
}

/// The largest `per_page` (the API's); the default is the dashboard's [`PER_PAGE`].
const MAX_PER_PAGE: u32 = 100;

/// The fields every form shows (errors of any other field are listed above the form).
const FORM_FIELDS: &[&str] = &[
    "title",
    "short_description",
    "long_description",
    "highlights",
    "keywords",
    "categories",
    "images",
    "logo_url",
    "pricing_model",
    "marketplace",
    "product_id",
    "status",
];

fn listing_path(id: &str) -> String {
    format!("/dashboard/listings/{}", urlenc(id))
}

/// The criterion names of the API's `breakdown`, with what each one rewards (from the
/// document's scoring rules).
fn criterion(c: Component) -> (&'static str, &'static str) {
    match c {
        Component::Title => ("Title", "30–70 characters, no all-caps words or repeated punctuation"),
        Component::Description => {
            ("Description", "short description of 80–250 characters; long one of 600+ in paragraphs, short sentences")
        }
        Component::Highlights => ("Highlights", "3–5 highlights of 20–120 characters each"),
        Component::Keywords => ("Keywords", "3+ keywords, the primary one in the title, all used in the copy"),
        Component::Images => ("Images", "a logo and 3 or more screenshots"),
    }
}

fn grade_badge(grade: &str, id: Option<&str>) -> String {
    let id = id.map(|i| format!(" id=\"{i}\"")).unwrap_or_default();
    let class: String = grade.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_lowercase()).collect();
    format!("<span class=\"grade grade-{class}\"{id}>{}</span>", esc(grade))
}

// ---------------------------------------------------------------------------------------------
// The list.

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    per_page: String,
}

fn status_options(any: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = any.map(|a| vec![("", a)]).unwrap_or_default();
    v.extend([("active", "Active"), ("draft", "Draft"), ("archived", "Archived")]);
    v
}

async fn list_page(State(web): State<Web>, PartnerUser(s): PartnerUser, Query(q): Query<ListQuery>) -> PageResult {
    let page_no = page_number(&q.page);
    let per_page = q.per_page.trim().parse::<u32>().ok().filter(|p| *p >= 1).map_or(PER_PAGE, |p| p.min(MAX_PER_PAGE));
    let mut errors = ValidationErrors::new();
    let status = optional(&mut errors, "status", &q.status, ListingStatus::parse);
    let keep_per_page = if per_page == PER_PAGE {
        String::new()
    } else {
        format!("<input type=\"hidden\" name=\"per_page\" value=\"{per_page}\">")
    };
    let filters = format!(
        "<form method=\"get\" action=\"/dashboard/listings\" class=\"filters\" aria-label=\"Filter listings\">{}{keep_per_page}\
         <button type=\"submit\" class=\"secondary\">Filter</button></form>",
        select("status", "Status", &status_options(Some("All statuses")), q.status.trim(), Some(&errors)),
    );
    let mut body = String::from(
        "<p class=\"actions\"><a class=\"button\" href=\"/dashboard/listings/new\" id=\"new-listing\">New listing</a></p>",
    );
    body.push_str(&filters);
    if !errors.is_empty() {
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page(Some(&s), "Listings", Nav::Listings, &body)));
    }
    let offset = offset_of(page_no, per_page);
    let result = web
        .services
        .listings()
        .list(&s.principal, status, &Window::Offset(offset), per_page)
        .await
        .map_err(keep_nav(&s))?;
    let rows: Vec<Vec<String>> = result
        .items
        .iter()
        .map(|l| {
            vec![
                format!("<a href=\"{}\">{}</a>", listing_path(&l.id), esc(&l.content.title)),
                badge(l.status.as_str()),
                format!("<span class=\"score\">{}</span>", l.seo_score),
                grade_badge(seo::grade(l.seo_score), None),
                time(l.updated_at),
            ]
        })
        .collect();
    let empty = match (result.total, status) {
        (1.., _) => "No listings on this page.",
        (_, Some(_)) => "No listings match this filter.",
        (_, None) => "No listings yet.",
    };
    let caption = match status {
        Some(st) => format!("Your {} listings, newest first", st.as_str()),
        None => "Your listings, newest first".to_owned(),
    };
    body.push_str(&table(&caption, &["Name", "Status", "SEO score", "Grade", "Updated"], &rows, empty));
    let kept_per_page = if per_page == PER_PAGE { String::new() } else { per_page.to_string() };
    let base = query_of(&[("status", status.map_or("", |st| st.as_str())), ("per_page", &kept_per_page)]);
    body.push_str(&pager("/dashboard/listings", &base, page_no, u64::from(per_page), result.total));
    Ok(html(StatusCode::OK, page(Some(&s), "Listings", Nav::Listings, &body)))
}

// ---------------------------------------------------------------------------------------------
// The form (create and edit). A field the form did not send stays as it is (as in the API's
// partial update); a browser sends every field, empty ones too.

#[derive(Deserialize, Default, Clone)]
pub(crate) struct ListingForm {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    short_description: Option<String>,
    #[serde(default)]
    long_description: Option<String>,
    /// One per line.
    #[serde(default)]
    highlights: Option<String>,
    /// Separated by commas or lines.
    #[serde(default)]
    keywords: Option<String>,
    #[serde(default)]
    categories: Option<String>,
    /// One URL per line.
    #[serde(default)]
    images: Option<String>,
    #[serde(default)]
    logo_url: Option<String>,
    #[serde(default)]
    pricing_model: Option<String>,
    #[serde(default)]
    marketplace: Option<String>,
    #[serde(default)]
    product_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// The version the form was read at (edit only).
    #[serde(default)]
    version: Option<String>,
}

/// An empty text clears a nullable field.
fn nullable(v: Option<&String>) -> Option<Option<String>> {
    v.map(|t| given(t))
}

/// An empty choice leaves the field as it is (or its default, on create).
fn choice(v: Option<&String>) -> Option<String> {
    v.and_then(|t| given(t))
}

impl ListingForm {
    fn of(l: &ListingRecord) -> Self {
        let c = &l.content;
        ListingForm {
            title: Some(c.title.clone()),
            short_description: Some(c.short_description.clone()),
            long_description: Some(c.long_description.clone()),
            highlights: Some(c.highlights.join("\n")),
            keywords: Some(c.keywords.join(", ")),
            categories: Some(c.categories.join(", ")),
            images: Some(c.images.join("\n")),
            logo_url: Some(c.logo_url.clone().unwrap_or_default()),
            pricing_model: Some(c.pricing_model.clone()),
            marketplace: Some(c.marketplace.clone()),
            product_id: Some(c.product_id.clone().unwrap_or_default()),
            status: Some(l.status.as_str().to_owned()),
            version: Some(l.version.to_string()),
        }
    }

    /// This form's values, and `base`'s for the fields it did not send.
    fn or(self, base: ListingForm) -> Self {
        ListingForm {
            title: self.title.or(base.title),
            short_description: self.short_description.or(base.short_description),
            long_description: self.long_description.or(base.long_description),
            highlights: self.highlights.or(base.highlights),
            keywords: self.keywords.or(base.keywords),
            categories: self.categories.or(base.categories),
            images: self.images.or(base.images),
            logo_url: self.logo_url.or(base.logo_url),
            pricing_model: self.pricing_model.or(base.pricing_model),
            marketplace: self.marketplace.or(base.marketplace),
            product_id: self.product_id.or(base.product_id),
            status: self.status.or(base.status),
            version: self.version.or(base.version),
        }
    }

    fn new_listing() -> Self {
        ListingForm {
            pricing_model: Some("subscription".into()),
            marketplace: Some("aws".into()),
            status: Some("draft".into()),
            ..Default::default()
        }
    }

    /// The domain patch (the service validates every value; only the status is read here).
    fn patch(&self) -> Result<ListingPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let status = match choice(self.status.as_ref()) {
            Some(raw) => errors.check("status", ListingStatus::parse(&raw)),
            None => None,
        };
        errors.into_result()?;
        Ok(ListingPatch {
            title: self.title.clone(),
            short_description: self.short_description.clone(),
            long_description: self.long_description.clone(),
            highlights: self.highlights.as_deref().map(lines),
            categories: self.categories.as_deref().map(comma_list),
            keywords: self.keywords.as_deref().map(comma_list),
            images: self.images.as_deref().map(lines),
            logo_url: nullable(self.logo_url.as_ref()),
            pricing_model: choice(self.pricing_model.as_ref()),
            marketplace: choice(self.marketplace.as_ref()),
            product_id: nullable(self.product_id.as_ref()),
            status,
        })
    }

    /// Puts a recommendation's proposed value into the form; `false` for proposals only the
    /// partner can supply (images, logo).
    fn propose(&mut self, field: &str, p: &Proposal) -> bool {
        match (field, p) {
            ("title", Proposal::Text(t)) => self.title = Some(t.clone()),
            ("short_description", Proposal::Text(t)) => self.short_description = Some(t.clone()),
            ("long_description", Proposal::Text(t)) => self.long_description = Some(t.clone()),
            ("highlights", Proposal::List(l)) => self.highlights = Some(l.join("\n")),
            ("keywords", Proposal::List(l)) => self.keywords = Some(l.join(", ")),
            _ => return false,
        }
        true
    }

    fn render(
        &self,
        s: &WebSession,
        action: &str,
        submit: &str,
        focus: &str,
        errors: Option<&ValidationErrors>,
    ) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let (title, short, long) = (v(&self.title), v(&self.short_description), v(&self.long_description));
        let (highlights, keywords, categories) = (v(&self.highlights), v(&self.keywords), v(&self.categories));
        let (images, logo, product) = (v(&self.images), v(&self.logo_url), v(&self.product_id));
        let autofocus = |name: &str| if name == focus { "autofocus" } else { "" };
        let pricing: Vec<(&str, &str)> = PRICING_MODELS.iter().map(|p| (*p, *p)).collect();
        let markets: Vec<(&str, &str)> = MARKETPLACES.iter().map(|m| (*m, *m)).collect();
        let version = match &self.version {
            Some(ver) => format!("<input type=\"hidden\" name=\"version\" value=\"{}\">", esc(ver)),
            None => String::new(),
        };
        let mut out = format!(
            "<form method=\"post\" action=\"{}\" id=\"listing-form\" class=\"card listing-form\" novalidate>{}{}{}",
            esc(action),
            csrf_field(&s.csrf_token),
            version,
            other_errors(errors, FORM_FIELDS)
        );
        let fields = [
            Field::text("title", "Title", &title)
                .required()
                .hint("30–70 characters score best; include your primary keyword.")
                .extra(&format!("maxlength=\"200\" {}", autofocus("title")))
                .render(errors),
            Field::text("short_description", "Short description", &short)
                .kind("textarea")
                .hint("80–250 characters score best.")
                .extra(&format!("rows=\"3\" {}", autofocus("short_description")))
                .render(errors),
            Field::text("long_description", "Long description", &long)
                .kind("textarea")
                .hint("600+ characters in two or more paragraphs (blank line between), sentences of 20 words or fewer.")
                .extra(&format!("rows=\"10\" {}", autofocus("long_description")))
                .render(errors),
            Field::text("highlights", "Highlights", &highlights)
                .kind("textarea")
                .hint("One per line; 3–5 of 20–120 characters each score best.")
                .extra(&format!("rows=\"5\" {}", autofocus("highlights")))
                .render(errors),
            Field::text("keywords", "Keywords", &keywords)
                .hint("Separated by commas; the first is the primary one. 3 or more score best.")
                .extra(autofocus("keywords"))
                .render(errors),
            Field::text("categories", "Categories", &categories).hint("Separated by commas.").render(errors),
            Field::text("images", "Screenshots", &images)
                .kind("textarea")
                .hint("One http(s) URL per line; 3 or more score best.")
                .extra(&format!("rows=\"3\" {}", autofocus("images")))
                .render(errors),
            Field::text("logo_url", "Logo URL", &logo).kind("url").extra(autofocus("logo_url")).render(errors),
            select("pricing_model", "Pricing model", &pricing, &v(&self.pricing_model), errors),
            select("marketplace", "Marketplace", &markets, &v(&self.marketplace), errors),
            Field::text("product_id", "Catalog product ID (optional)", &product).render(errors),
            select("status", "Status", &status_options(None), &v(&self.status), errors),
        ];
        for f in fields {
            out.push_str(&f);
        }
        let _ = write!(out, "<button type=\"submit\" id=\"save-listing\">{}</button></form>", esc(submit));
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Create.

fn new_listing_page(
    s: &WebSession,
    status: StatusCode,
    form: &ListingForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let body = format!(
        "<p><a href=\"/dashboard/listings\">← All listings</a></p>\
         <p class=\"muted\">Only the title is required; the SEO score is computed as soon as the listing is saved.</p>{}",
        form.render(s, "/dashboard/listings", "Create listing", "title", errors)
    );
    Ok(html(status, page(Some(s), "New listing", Nav::Listings, &body)))
}

async fn new_page(PartnerUser(s): PartnerUser) -> PageResult {
    new_listing_page(&s, StatusCode::OK, &ListingForm::new_listing(), None)
}

async fn create(State(web): State<Web>, PartnerUser(s): PartnerUser, Form(sent): Form<ListingForm>) -> PageResult {
    let form = sent.or(ListingForm::new_listing());
    let patch = match form.patch() {
        Ok(p) => p,
        Err(e) => return new_listing_page(&s, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&e)),
    };
    match web.services.listings().create(&s.principal, patch).await {
        Ok(l) => Ok(see_other(&format!("{}?done=created", listing_path(&l.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            new_listing_page(&s, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&e.fields))
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---------------------------------------------------------------------------------------------
// One listing: facts, SEO, recommendations, the edit form.

#[derive(Deserialize, Default)]
pub(crate) struct DetailQuery {
    /// What was just done (created, saved, unchanged, applied, archived, stale, gone).
    #[serde(default)]
    done: String,
    /// The score before the change.
    #[serde(default)]
    was: String,
    /// The recommendation applied, or (with no `done`) the one to put into the form.
    #[serde(default)]
    field: String,
    #[serde(default)]
    apply: String,
}

fn field_label(field: &str) -> &str {
    match field {
        "title" => "title",
        "short_description" => "short description",
        "long_description" => "long description",
        "highlights" => "highlights",
        "keywords" => "keywords",
        "images" => "screenshots",
        "logo_url" => "logo",
        _ => "field",
    }
}

fn score_move(was: &str, now: u32) -> String {
    match was.parse::<u32>() {
        Ok(old) => format!(" SEO score: {old} → {now} (grade {} → {}).", seo::grade(old), seo::grade(now)),
        Err(_) => format!(" SEO score: {now} (grade {}).", seo::grade(now)),
    }
}

fn done_notice(q: &DetailQuery, l: &ListingRecord) -> String {
    let moved = score_move(&q.was, l.seo_score);
    match q.done.as_str() {
        "created" => notice(&format!("The listing was created.{}", score_move("", l.seo_score))),
        "saved" => notice(&format!("Your changes were saved.{moved}")),
        "unchanged" => notice("Nothing changed: the listing already had these values."),
        "applied" => notice(&format!("The {} recommendation was applied.{moved}", field_label(&q.field))),
        "archived" => notice("The listing was archived. It stays readable; set its status to bring it back."),
        "stale" => alert(
            "The listing changed since you opened the page, so nothing was applied. The recommendations below are current.",
        ),
        "gone" => alert("That recommendation no longer applies to the listing; the recommendations below are current."),
        _ => String::new(),
    }
}

struct DetailView<'a> {
    status: StatusCode,
    top: String,
    /// The form's values (the listing's own unless a submission is shown again).
    form: Option<ListingForm>,
    errors: Option<&'a ValidationErrors>,
    focus: String,
}

fn facts(l: &ListingRecord) -> String {
    let c = &l.content;
    let or_none = |v: String| if v.is_empty() { "<span class=\"muted\">none</span>".to_owned() } else { v };
    let joined = |v: &[String]| or_none(esc(&v.join(", ")).to_string());
    format!(
        "<dl class=\"facts\"><dt>ID</dt><dd><code>{}</code></dd><dt>Status</dt><dd>{}</dd>\
         <dt>Marketplace</dt><dd>{}</dd><dt>Pricing model</dt><dd>{}</dd>\
         <dt>Categories</dt><dd>{}</dd><dt>Keywords</dt><dd>{}</dd>\
         <dt>Screenshots</dt><dd>{}</dd><dt>Logo</dt><dd>{}</dd><dt>Catalog product</dt><dd>{}</dd>\
         <dt>Created</dt><dd>{}</dd><dt>Last updated</dt><dd>{}</dd></dl>",
        esc(&l.id),
        badge(l.status.as_str()),
        esc(&c.marketplace),
        esc(&c.pricing_model.replace('_', " ")),
        joined(&c.categories),
        joined(&c.keywords),
        c.images.len(),
        if c.logo_url.is_some() { "yes" } else { "none" },
        or_none(c.product_id.as_deref().map(|p| esc(p).to_string()).unwrap_or_default()),
        time(l.created_at),
        time(l.updated_at),
    )
}

fn proposal_html(r: &Recommendation) -> String {
    match &r.proposal {
        Proposal::Text(t) => format!(
            "<div class=\"proposal\"><span class=\"muted\">Proposed {}:</span><blockquote>{}</blockquote></div>",
            field_label(r.field),
            esc(t)
        ),
        Proposal::List(items) => {
            let mut out =
                format!("<div class=\"proposal\"><span class=\"muted\">Proposed {}:</span><ul>", field_label(r.field));
            for i in items {
                let _ = write!(out, "<li>{}</li>", esc(i));
            }
            out + "</ul></div>"
        }
        Proposal::Add(_) => String::new(),
    }
}

fn recommendations_html(s: &WebSession, l: &ListingRecord, recs: &seo::Recommendations) -> String {
    let mut out = String::from(
        "<section aria-labelledby=\"recs-h\" id=\"recommendations\"><h2 id=\"recs-h\">Recommendations</h2>",
    );
    if recs.items.is_empty() {
        out.push_str("<p class=\"empty\">No recommendations: every change we know of is already made.</p></section>");
        return out;
    }
    let _ = write!(
        out,
        "<p>Applying all of them would raise the score by <b id=\"seo-potential\">{}</b> points. \
         Each one's impact is the exact change it makes on its own.</p><ol class=\"recommendations\">",
        recs.total_potential_improvement
    );
    let path = listing_path(&l.id);
    let version = l.version.to_string();
    for r in &recs.items {
        let actions = match r.proposal {
            Proposal::Add(n) => {
                let (what, anchor) = if r.field == "logo_url" {
                    ("a logo URL".to_owned(), "f-logo_url")
                } else {
                    (format!("{n} screenshot URL{}", if n == 1 { "" } else { "s" }), "f-images")
                };
                format!(
                    "<div class=\"rec-actions\">Only you can supply this: <a href=\"#{anchor}\">add {what} in the form below</a>.</div>"
                )
            }
            _ => format!(
                "<div class=\"rec-actions\">{} <a href=\"{path}?apply={}#listing-form\" class=\"edit-first\">Edit first</a></div>",
                action_button(
                    &format!("{path}/apply"),
                    &s.csrf_token,
                    "Apply",
                    "apply",
                    &[("field", r.field), ("version", &version)]
                ),
                urlenc(r.field),
            ),
        };
        let _ = write!(
            out,
            "<li class=\"recommendation\" data-field=\"{field}\" data-category=\"{cat}\">\
             <p class=\"rec-head\">{} <span class=\"rec-category\">{}</span> <span class=\"impact\">{}</span></p>\
             <p class=\"suggestion\">{}</p>{}{actions}</li>",
            badge(r.priority),
            esc(criterion(r.category).0),
            esc(&format!("+{} SEO score", r.impact)),
            esc(&r.suggestion),
            proposal_html(r),
            field = esc(r.field),
            cat = esc(r.category.as_str()),
        );
    }
    out.push_str("</ol></section>");
    out
}

async fn render_detail(web: &Web, s: &std::sync::Arc<WebSession>, id: &str, view: DetailView<'_>) -> PageResult {
    let listings = web.services.listings();
    let (l, score) = listings.seo(&s.principal, id).await.map_err(keep_nav(s))?;
    let recs = listings.recommendations(&s.principal, id).await.map_err(keep_nav(s))?;
    let path = listing_path(&l.id);
    let mut body = view.top.clone();
    let _ = write!(body, "<p><a href=\"/dashboard/listings\">← All listings</a></p>{}", facts(&l));

    // The SEO score: what `GET …/seo` returns.
    let _ = write!(
        body,
        "<section aria-labelledby=\"seo-h\" id=\"seo\"><h2 id=\"seo-h\">SEO score</h2><div class=\"grid seo-summary\">\
         <div class=\"stat\"><b id=\"seo-score\">{}</b><span>Overall score, of 100</span></div>\
         <div class=\"stat\"><b>{}</b><span>Grade (A ≥ 80, B ≥ 65, C ≥ 50, D ≥ 35)</span></div>\
         <div class=\"stat\"><b>+{}</b><span>Potential improvement</span></div></div>\
         <p class=\"muted\">Analyzed {} (the score is recomputed with every change).</p>",
        score.overall,
        grade_badge(score.grade, Some("seo-grade")),
        recs.total_potential_improvement,
        time(l.updated_at),
    );
    let breakdown = score.breakdown();
    let rows: Vec<Vec<String>> = breakdown
        .iter()
        .map(|(c, pct)| {
            let (name, what) = criterion(*c);
            vec![
                format!("<span data-criterion=\"{}\">{}</span>", c.as_str(), esc(name)),
                format!("<span class=\"score\" id=\"seo-{}\">{pct}</span> %", c.as_str()),
                format!("<span class=\"muted\">{}</span>", esc(what)),
            ]
        })
        .collect();
    let bars: Vec<Bar> = breakdown
        .iter()
        .map(|(c, pct)| Bar { label: criterion(*c).0.to_owned(), value: f64::from(*pct), display: format!("{pct} %") })
        .collect();
    let _ = write!(
        body,
        "<div class=\"seo-breakdown\" id=\"seo-breakdown\">{}<div class=\"card\">{}</div></div></section>",
        table(
            "Score per criterion, as a percentage of its maximum",
            &["Criterion", "Score", "What scores best"],
            &rows,
            ""
        ),
        hbar_chart("seo-breakdown-chart", "SEO score per criterion (%)", &bars, Some(100.0)),
    );
    body.push_str(&recommendations_html(s, &l, &recs));

    // The edit form.
    let mut form = view.form.map_or_else(|| ListingForm::of(&l), |f| f.or(ListingForm::of(&l)));
    form.version = Some(l.version.to_string());
    let _ = write!(
        body,
        "<section aria-labelledby=\"edit-h\"><h2 id=\"edit-h\">Edit the listing</h2>{}</section>",
        form.render(s, &path, "Save changes", &view.focus, view.errors)
    );
    if l.status != ListingStatus::Archived {
        let _ = write!(
            body,
            "<section aria-labelledby=\"archive-h\"><h2 id=\"archive-h\">Archive</h2>\
             <p>Archived listings stay readable and can be brought back by changing their status.</p>{}</section>",
            action_button(&format!("{path}/archive"), &s.csrf_token, "Archive listing", "danger", &[])
        );
    }
    Ok(html(view.status, page(Some(s), &l.content.title, Nav::Listings, &body)))
}

/// The detail page showing a submitted form again.
fn reshow<'a>(
    form: &ListingForm,
    status: StatusCode,
    top: String,
    errors: Option<&'a ValidationErrors>,
) -> DetailView<'a> {
    DetailView { status, top, form: Some(form.clone()), errors, focus: String::new() }
}

async fn detail(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let l = web.services.listings().get(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let mut top = done_notice(&q, &l);
    let mut form = None;
    let mut focus = String::new();
    if q.done.is_empty() && !q.apply.is_empty() {
        let recs = web.services.listings().recommendations(&s.principal, &id).await.map_err(keep_nav(&s))?;
        let mut f = ListingForm::of(&l);
        match recs.items.iter().find(|r| r.field == q.apply) {
            Some(r) if f.propose(r.field, &r.proposal) => {
                top = notice(&format!(
                    "The recommended {} is filled in below: review it, then save (+{} SEO score).",
                    field_label(r.field),
                    r.impact
                ));
                focus = r.field.to_owned();
                form = Some(f);
            }
            _ => {
                top = alert(
                    "That recommendation no longer applies to the listing; the recommendations below are current.",
                )
            }
        }
    }
    render_detail(&web, &s, &id, DetailView { status: StatusCode::OK, top, form, errors: None, focus }).await
}

async fn update(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<ListingForm>,
) -> PageResult {
    let listings = web.services.listings();
    let current = listings.get(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let read_version = choice(form.version.as_ref()).and_then(|v| v.parse::<i64>().ok());
    let patch = match form.patch() {
        Ok(p) => p,
        Err(e) => {
            let top = alert("The listing was not saved: correct the fields marked below.");
            return render_detail(&web, &s, &id, reshow(&form, StatusCode::UNPROCESSABLE_ENTITY, top, Some(&e))).await;
        }
    };
    match listings.update_from(&s.principal, &id, &patch, read_version).await {
        Ok(next) if next.version == current.version => Ok(see_other(&format!("{}?done=unchanged", listing_path(&id)))),
        Err(e) if e.kind == ErrorKind::Conflict => {
            let top = alert(
                "This listing was changed elsewhere since you opened the form. Your values are kept below and the facts \
                 above are the saved ones: review them and save again to apply yours.",
            );
            render_detail(&web, &s, &id, reshow(&form, StatusCode::CONFLICT, top, None)).await
        }
        Ok(_) => Ok(see_other(&format!("{}?done=saved&was={}#seo", listing_path(&id), current.seo_score))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let top = alert("The listing was not saved: correct the fields marked below.");
            render_detail(&web, &s, &id, reshow(&form, StatusCode::UNPROCESSABLE_ENTITY, top, Some(&e.fields))).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ApplyForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    version: String,
}

async fn apply(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(form): Form<ApplyForm>,
) -> PageResult {
    let listings = web.services.listings();
    let current = listings.get(&s.principal, &id).await.map_err(keep_nav(&s))?;
    let path = listing_path(&id);
    let read = form.version.trim().parse::<i64>().ok();
    match listings.apply_recommendation(&s.principal, &id, &form.field, read.or(Some(current.version))).await {
        Ok(_) => {
            Ok(see_other(&format!("{path}?done=applied&field={}&was={}#seo", urlenc(&form.field), current.seo_score)))
        }
        Err(e) if e.kind == ErrorKind::Conflict => Ok(see_other(&format!("{path}?done=stale#recommendations"))),
        Err(e) if e.kind == ErrorKind::NotFound && e.entity == "recommendation" => {
            Ok(see_other(&format!("{path}?done=gone#recommendations")))
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn archive(State(web): State<Web>, PartnerUser(s): PartnerUser, Path(id): Path<String>) -> PageResult {
    web.services.listings().archive(&s.principal, &id).await.map_err(keep_nav(&s))?;
    Ok(see_other(&format!("{}?done=archived", listing_path(&id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lists_and_nullable_fields_become_a_patch() {
        let form = ListingForm {
            title: Some("Suite".into()),
            highlights: Some("one\n\n  two  \n".into()),
            keywords: Some("a, b,,c\nd".into()),
            logo_url: Some("  ".into()),
            pricing_model: Some(String::new()),
            status: Some("active".into()),
            ..Default::default()
        };
        let p = form.patch().unwrap();
        assert_eq!(p.highlights, Some(vec!["one".to_owned(), "two".to_owned()]));
        assert_eq!(p.keywords.unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(p.logo_url, Some(None), "an empty logo clears it");
        assert_eq!(p.pricing_model, None, "an empty choice keeps the value");
        assert_eq!(p.status, Some(ListingStatus::Active));
        assert_eq!(p.short_description, None, "a field not sent is left as it is");
        let bad = ListingForm { status: Some("gone".into()), ..Default::default() }.patch().unwrap_err();
        assert!(bad.fields().contains_key("status"));
    }

    #[test]
    fn proposals_prefill_their_field() {
        let mut f = ListingForm::default();
        assert!(f.propose("title", &Proposal::Text("New".into())));
        assert_eq!(f.title.as_deref(), Some("New"));
        assert!(!f.propose("logo_url", &Proposal::Add(1)));
    }

    #[test]
    fn score_moves_name_both_grades() {
        assert_eq!(score_move("40", 66), " SEO score: 40 → 66 (grade D → B).");
        assert_eq!(score_move("x", 90), " SEO score: 90 (grade A).");
        assert_eq!(grade_badge("A", Some("seo-grade")), "<span class=\"grade grade-a\" id=\"seo-grade\">A</span>");
    }
}
