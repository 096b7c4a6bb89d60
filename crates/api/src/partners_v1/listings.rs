//! Listings: `/partners/listings…`, with SEO score, recommendations and content drafts.

use super::dto::{self, Envelope, PagedEnvelope};
use super::{ApiError, ApiJson, Caller, Page, PerPage, Query, iso, ok, ok_page};
use super::{PageAt, known_id, paging, unknown_fields};
use crate::kernel::Param;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_domain::listing::{ListingPatch, ListingStatus};
use partnerd_domain::seo::{Component, Proposal};
use partnerd_services::Services;
use partnerd_store::{Cursor, DraftRecord, ListingRecord};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Create and update bodies. Every field is optional (updates are partial); `null` clears
/// `logo_url` and `product_id`. Read-only fields a client may echo back (`id`, `seo_score`,
/// `created_at`, `last_updated`) are ignored; any other unknown field is a 422, so a misspelt
/// field is not silently dropped.
#[derive(Deserialize, ToSchema)]
#[schema(as = ListingInput)]
pub struct ListingBody {
    /// Required on create.
    #[schema(min_length = 1, max_length = 200)]
    title: Option<String>,
    #[schema(max_length = 500)]
    short_description: Option<String>,
    #[schema(max_length = 20000)]
    long_description: Option<String>,
    /// Items of at most 300 characters.
    #[schema(max_items = 20)]
    highlights: Option<Vec<String>>,
    /// Items of at most 100 characters.
    #[schema(max_items = 20)]
    categories: Option<Vec<String>>,
    /// Items of at most 50 characters, de-duplicated case-insensitively; the first is the
    /// primary one.
    #[schema(max_items = 20)]
    keywords: Option<Vec<String>>,
    /// http(s) URLs.
    #[schema(max_items = 20)]
    images: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = "uri")]
    logo_url: Option<Option<String>>,
    /// `subscription` by default.
    #[schema(value_type = Option<PricingModel>)]
    pricing_model: Option<String>,
    /// `aws` by default.
    #[schema(value_type = Option<Marketplace>)]
    marketplace: Option<String>,
    /// Optional link to a catalog product.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 100)]
    product_id: Option<Option<String>>,
    /// `draft` by default.
    #[schema(value_type = Option<ListingStatusName>)]
    status: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: BTreeMap<String, Value>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum PricingModel {
    Free,
    Subscription,
    UsageBased,
    Contract,
    Byol,
    OneTime,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum Marketplace {
    Aws,
    Azure,
    Gcp,
}

#[derive(ToSchema)]
#[schema(as = ListingStatus, rename_all = "snake_case")]
#[allow(dead_code)]
pub(super) enum ListingStatusName {
    Active,
    Draft,
    Archived,
}

/// Distinguishes an explicit `null` (Some(None)) from an absent field (None).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

const READ_ONLY: &[&str] = &["id", "seo_score", "created_at", "last_updated"];

impl ListingBody {
    /// The body as a domain patch; also the shape of `partnerd listings import` files.
    pub fn into_patch(self) -> Result<ListingPatch, ValidationErrors> {
        let mut errors = unknown_fields(&self.other, READ_ONLY, "a listing");
        let status = self.status.as_deref().and_then(|s| errors.check("status", ListingStatus::parse(s)));
        errors.into_result()?;
        Ok(ListingPatch {
            title: self.title,
            short_description: self.short_description,
            long_description: self.long_description,
            highlights: self.highlights,
            categories: self.categories,
            keywords: self.keywords,
            images: self.images,
            logo_url: self.logo_url,
            pricing_model: self.pricing_model,
            marketplace: self.marketplace,
            product_id: self.product_id,
            status,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct ListingSummary {
    id: String,
    title: String,
    #[schema(value_type = ListingStatusName)]
    status: &'static str,
    marketplace: String,
    seo_score: u32,
    #[schema(format = DateTime)]
    last_updated: String,
}

impl From<&ListingRecord> for ListingSummary {
    fn from(l: &ListingRecord) -> Self {
        ListingSummary {
            id: l.id.clone(),
            title: l.content.title.clone(),
            status: l.status.as_str(),
            marketplace: l.content.marketplace.clone(),
            seo_score: l.seo_score,
            last_updated: iso(l.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct Listing {
    id: String,
    title: String,
    short_description: String,
    long_description: String,
    highlights: Vec<String>,
    categories: Vec<String>,
    /// Search keywords; the first is the primary one.
    keywords: Vec<String>,
    images: Vec<String>,
    #[schema(format = "uri", required = true)]
    logo_url: Option<String>,
    pricing_model: String,
    /// Optional link to a catalog product.
    #[schema(required = true)]
    product_id: Option<String>,
    #[schema(value_type = ListingStatusName)]
    status: &'static str,
    marketplace: String,
    #[schema(minimum = 0, maximum = 100)]
    seo_score: u32,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_updated: String,
}

/// Takes the record: its strings move into the response instead of being copied (a copy of a
/// listing's content was 5 % of S2's profile).
impl From<ListingRecord> for Listing {
    fn from(l: ListingRecord) -> Self {
        let c = l.content;
        Listing {
            id: l.id,
            title: c.title,
            short_description: c.short_description,
            long_description: c.long_description,
            highlights: c.highlights,
            categories: c.categories,
            keywords: c.keywords,
            images: c.images,
            logo_url: c.logo_url,
            pricing_model: c.pricing_model,
            product_id: c.product_id,
            status: l.status.as_str(),
            marketplace: c.marketplace,
            seo_score: l.seo_score,
            created_at: iso(l.created_at),
            last_updated: iso(l.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum DraftStatus {
    Draft,
    Published,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ContentDraft {
    id: String,
    listing_id: String,
    #[schema(value_type = DraftStatus)]
    status: &'static str,
    title: String,
    short_description: String,
    long_description: String,
    highlights: Vec<String>,
    keywords: Vec<String>,
    /// The listing's score with this draft applied.
    seo_score: u32,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime, required = true)]
    published_at: Option<String>,
}

impl From<&DraftRecord> for ContentDraft {
    fn from(d: &DraftRecord) -> Self {
        ContentDraft {
            id: d.id.clone(),
            listing_id: d.listing_id.clone(),
            status: if d.published_at.is_some() { "published" } else { "draft" },
            title: d.title.clone(),
            short_description: d.short_description.clone(),
            long_description: d.long_description.clone(),
            highlights: d.highlights.clone(),
            keywords: d.keywords.clone(),
            seo_score: d.seo_score,
            created_at: iso(d.created_at),
            published_at: d.published_at.map(iso),
        }
    }
}

/// Each component as a percentage of its maximum.
#[derive(Serialize, ToSchema, Default)]
pub(super) struct SeoBreakdown {
    title: u32,
    description: u32,
    highlights: u32,
    keywords: u32,
    images: u32,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
enum Grade {
    A,
    B,
    C,
    D,
    F,
}

#[derive(Serialize, ToSchema)]
pub(super) struct SeoScore {
    #[schema(minimum = 0, maximum = 100)]
    overall_score: u32,
    breakdown: SeoBreakdown,
    #[schema(value_type = Grade)]
    grade: &'static str,
    /// The last content change (the score is recomputed with every change).
    #[schema(format = DateTime)]
    analyzed_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum RecommendationCategory {
    Title,
    Description,
    Highlights,
    Keywords,
    Images,
}

#[derive(Serialize, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum Priority {
    High,
    Medium,
    Low,
}

#[derive(Serialize, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum RecommendedField {
    Title,
    ShortDescription,
    LongDescription,
    Highlights,
    Keywords,
    Images,
    LogoUrl,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Recommendation {
    #[schema(value_type = RecommendationCategory)]
    category: &'static str,
    /// high: impact ≥ 8; medium: 4–7; low: below 4.
    #[schema(value_type = Priority)]
    priority: &'static str,
    suggestion: String,
    #[schema(example = "+5 SEO score")]
    impact: String,
    #[schema(value_type = RecommendedField)]
    field: &'static str,
    /// The field's proposed new value (string or array), or null for images and logo_url.
    #[schema(required = true)]
    proposed_value: Option<ProposedValue>,
    /// For images and logo_url, how many to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    add_count: Option<usize>,
}

/// A new text, or a new list, for the recommended field.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(super) enum ProposedValue {
    Text(String),
    List(Vec<String>),
}

#[derive(Serialize, ToSchema)]
pub(super) struct Recommendations {
    recommendations: Vec<Recommendation>,
    total_potential_improvement: u32,
}

/// IDs that cannot be ours are 404 without a database round trip.
fn listing_id(id: &str) -> Result<&str, ApiError> {
    known_id("listing", id, "Listing")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    page: Option<Page>,
    /// Above 100: 422.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, default = 20)]
    per_page: Option<PerPage>,
    #[param(inline, value_type = Option<ListingStatusName>)]
    status: Option<Param<ListingStatus>>,
    /// Beyond the document: `meta.next_cursor` of the previous page (keyset paging; `page` is
    /// then not used).
    #[param(value_type = Option<String>)]
    cursor: Option<Param<Cursor>>,
}

/// List All Listings
///
/// The partner's listings, newest first (then by id). `total` counts every listing matching the
/// filter.
///
/// Beyond the document: `cursor` (the previous page's `meta.next_cursor`) pages by keyset
/// instead of `page`; `meta.next_cursor` is `null` on the last page and `meta.page` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters the
/// same while following it); one that is not this server's, or is of another order, is 422.
#[utoipa::path(get, path = "/listings", tag = "Listings", params(ListQuery),
    responses((status = 200, description = "A page of listings", body = PagedEnvelope<ListingSummary>)))]
pub async fn list(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (page, per_page) = paging(q.page, q.per_page);
    let at = PageAt::new(page, per_page, q.cursor);
    let status = q.status.map(|p| p.0);
    let result = s.listings().list(&who, status, &at.window, per_page).await?;
    let items: Vec<ListingSummary> = result.items.iter().map(|l| ListingSummary::from(&**l)).collect();
    Ok(ok_page(items, &at, per_page, result.total, result.next.as_ref()))
}

/// Create Listing
///
/// **Decision:** the document implies creation (`listing.created`). `title` is required;
/// `status` defaults to draft, `marketplace` to aws, `pricing_model` to subscription. Appends
/// `listing.created`.
#[utoipa::path(post, path = "/listings", tag = "Listings", request_body = ListingBody,
    responses((status = 201, description = "The listing", body = Envelope<Listing>)))]
pub async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<ListingBody>,
) -> Result<Response, ApiError> {
    let listing = s.listings().create(&who, body.into_patch().map_err(|e| ApiError::validation(&e))?).await?;
    Ok((StatusCode::CREATED, ok(Listing::from(listing))).into_response())
}

/// Get Single Listing
///
/// Another partner's listing answers 404.
#[utoipa::path(get, path = "/listings/{id}", tag = "Listings", params(("id" = String, Path)),
    responses((status = 200, description = "The listing", body = Envelope<Listing>)))]
pub async fn get(State(s): State<Services>, Caller(who): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(ok(Listing::from(s.listings().get(&who, listing_id(&id)?).await?)))
}

/// Update Listing (PUT and PATCH alike)
///
/// Partial update: fields left out stay as they are; `null` clears `logo_url` and `product_id`.
/// The SEO score is recomputed in the same transaction. Appends `listing.updated` with
/// `changes: {field: {old, new}}` when anything changed, and `seo.score_changed` when the score
/// moved by 5 points or more. Read-only fields (`id`, `seo_score`, `created_at`,
/// `last_updated`) may be sent back and are ignored; any other unknown field is a 422.
#[utoipa::path(method(put, patch), path = "/listings/{id}", tag = "Listings", params(("id" = String, Path)),
    request_body = ListingBody,
    responses((status = 200, description = "The listing", body = Envelope<Listing>)))]
pub async fn update(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListingBody>,
) -> Result<Response, ApiError> {
    let patch = body.into_patch().map_err(|e| ApiError::validation(&e))?;
    Ok(ok(Listing::from(s.listings().update(&who, listing_id(&id)?, &patch).await?)))
}

/// Archive Listing
///
/// **Decision:** DELETE archives (status archived); archived listings stay readable and
/// listable with `status=archived`.
#[utoipa::path(delete, path = "/listings/{id}", tag = "Listings", params(("id" = String, Path)),
    responses((status = 200, description = "The archived listing", body = Envelope<Listing>)))]
pub async fn archive(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(Listing::from(s.listings().archive(&who, listing_id(&id)?).await?)))
}

/// Get SEO Score
///
/// Deterministic rules award integer points, 100 in all: title length 30–70 characters 12
/// (20–29 or 71–90: 6); no all-caps words of 4+ letters 4 and no repeated `!?*$` 4; short
/// description 80–250 characters 8 (40–79 or 251–350: 4); long description 600+ characters 7
/// (300–599: 4); 2+ paragraphs 5; average sentence ≤ 20 words 5 (≤ 30: 2); 3–5 highlights 12
/// (2 or 6: 8; 1 or 7+: 4); every highlight 20–120 characters 8 (at least half: 4); 3+ keywords
/// 5 (1–2: 2); primary keyword in title 5 (another keyword: 3); share of keywords used in title
/// or descriptions × 10, rounded down; logo 5; 3+ screenshots 10 (1–2: 5). `breakdown` gives
/// each component (title 20, description 25, highlights 20, keywords 20, images 15) as a
/// percentage of its maximum. Grades: A ≥ 80, B ≥ 65, C ≥ 50, D ≥ 35, else F. `analyzed_at` is
/// the last content change (the score is recomputed with every change).
#[utoipa::path(get, path = "/listings/{id}/seo", tag = "Listings", params(("id" = String, Path)),
    responses((status = 200, description = "The score", body = Envelope<SeoScore>)))]
pub async fn seo(State(s): State<Services>, Caller(who): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (listing, score) = s.listings().seo(&who, listing_id(&id)?).await?;
    let mut breakdown = SeoBreakdown::default();
    for (component, percent) in score.breakdown() {
        let slot = match component {
            Component::Title => &mut breakdown.title,
            Component::Description => &mut breakdown.description,
            Component::Highlights => &mut breakdown.highlights,
            Component::Keywords => &mut breakdown.keywords,
            Component::Images => &mut breakdown.images,
        };
        *slot = percent;
    }
    Ok(ok(SeoScore {
        overall_score: score.overall,
        breakdown,
        grade: score.grade,
        analyzed_at: iso(listing.updated_at),
    }))
}

/// Get Recommendations
///
/// At most one recommendation per field, highest impact first. Each proposes a concrete change:
/// `field` and `proposed_value` (for `images` and `logo_url`, which only the partner can supply,
/// `proposed_value` is null and `add_count` says how many to add). `impact` is exactly the
/// change of `seo_score` when that change alone is applied with PUT.
/// `total_potential_improvement` is the change when all are applied together.
#[utoipa::path(get, path = "/listings/{id}/recommendations", tag = "Listings", params(("id" = String, Path)),
    responses((status = 200, description = "Recommendations", body = Envelope<Recommendations>)))]
pub async fn recommendations(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = s.listings().recommendations(&who, listing_id(&id)?).await?;
    let recommendations = r
        .items
        .iter()
        .map(|i| {
            let (proposed_value, add_count) = match &i.proposal {
                Proposal::Text(t) => (Some(ProposedValue::Text(t.clone())), None),
                Proposal::List(l) => (Some(ProposedValue::List(l.clone())), None),
                Proposal::Add(n) => (None, Some(*n)),
            };
            Recommendation {
                category: i.category.as_str(),
                priority: i.priority,
                suggestion: i.suggestion.clone(),
                impact: format!("+{} SEO score", i.impact),
                field: i.field,
                proposed_value,
                add_count,
            }
        })
        .collect();
    Ok(ok(Recommendations { recommendations, total_potential_improvement: r.total_potential_improvement }))
}

/// Generate Content Draft
///
/// **Decision:** the analytics summary counts content generated and published. Generating
/// applies the listing's text recommendations (title, descriptions, highlights, keywords) with
/// fixed templates, no external service; the listing itself is unchanged. The body is ignored
/// (send `{}`). Appends `content.generated`.
#[utoipa::path(post, path = "/listings/{id}/content", tag = "Listings", params(("id" = String, Path)),
    responses((status = 201, description = "The draft, with the score the listing would have", body = Envelope<ContentDraft>)))]
pub async fn generate_content(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = s.listings().generate_content(&who, listing_id(&id)?).await?;
    Ok((StatusCode::CREATED, ok(ContentDraft::from(&d))).into_response())
}

/// List Content Drafts
///
/// Drafts generated for the listing, newest first.
#[utoipa::path(get, path = "/listings/{id}/content", tag = "Listings", params(("id" = String, Path)),
    responses((status = 200, description = "Drafts", body = Envelope<Vec<ContentDraft>>)))]
pub async fn list_content(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let drafts = s.listings().drafts(&who, listing_id(&id)?).await?;
    Ok(ok(drafts.iter().map(ContentDraft::from).collect::<Vec<_>>()))
}

/// Publish Content Draft
///
/// Writes the draft's copy onto the listing (re-scored, with `listing.updated`), appends
/// `content.published`. A draft publishes once; again is a 422.
#[utoipa::path(post, path = "/listings/{id}/content/{draft_id}/publish", tag = "Listings",
    params(("id" = String, Path), ("draft_id" = String, Path)),
    responses(
        (status = 200, description = "The listing", body = Envelope<Listing>),
        (status = 422, description = "The draft was already published", body = dto::ErrorBody),
    ))]
pub async fn publish_content(
    State(s): State<Services>,
    Caller(who): Caller,
    Path((id, draft_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let listing = s.listings().publish(&who, listing_id(&id)?, &draft_id).await?;
    Ok(ok(Listing::from(listing)))
}
