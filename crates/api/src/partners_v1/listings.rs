//! Listings: `/partners/listings…`, with SEO score, recommendations and content drafts.

use super::{ApiError, Caller, iso, ok, ok_page};
use super::{known_id, page_offset, unknown_fields};
use crate::extract::ApiJson;
use crate::query::{QueryParams, paging};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ValidationErrors;
use partnerd_domain::listing::{ListingPatch, ListingStatus};
use partnerd_domain::seo::Proposal;
use partnerd_services::Services;
use partnerd_store::{DraftRecord, ListingRecord};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Create and update bodies. Every field is optional (updates are partial); `null` clears
/// `logo_url` and `product_id`. Read-only fields a client may echo back are ignored; any other
/// unknown field is refused, so a misspelt field is not silently dropped.
#[derive(Deserialize)]
pub struct ListingBody {
    title: Option<String>,
    short_description: Option<String>,
    long_description: Option<String>,
    highlights: Option<Vec<String>>,
    categories: Option<Vec<String>>,
    keywords: Option<Vec<String>>,
    images: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    logo_url: Option<Option<String>>,
    pricing_model: Option<String>,
    marketplace: Option<String>,
    #[serde(default, deserialize_with = "present")]
    product_id: Option<Option<String>>,
    status: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
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

fn summary(l: &ListingRecord) -> Value {
    json!({
        "id": l.id,
        "title": l.content.title,
        "status": l.status.as_str(),
        "marketplace": l.content.marketplace,
        "seo_score": l.seo_score,
        "last_updated": iso(l.updated_at),
    })
}

fn detail(l: &ListingRecord) -> Value {
    let c = &l.content;
    json!({
        "id": l.id,
        "title": c.title,
        "short_description": c.short_description,
        "long_description": c.long_description,
        "highlights": c.highlights,
        "categories": c.categories,
        "keywords": c.keywords,
        "images": c.images,
        "logo_url": c.logo_url,
        "pricing_model": c.pricing_model,
        "product_id": c.product_id,
        "status": l.status.as_str(),
        "marketplace": c.marketplace,
        "seo_score": l.seo_score,
        "created_at": iso(l.created_at),
        "last_updated": iso(l.updated_at),
    })
}

fn draft(d: &DraftRecord) -> Value {
    json!({
        "id": d.id,
        "listing_id": d.listing_id,
        "status": if d.published_at.is_some() { "published" } else { "draft" },
        "title": d.title,
        "short_description": d.short_description,
        "long_description": d.long_description,
        "highlights": d.highlights,
        "keywords": d.keywords,
        "seo_score": d.seo_score,
        "created_at": iso(d.created_at),
        "published_at": d.published_at.map(iso),
    })
}

/// IDs that cannot be ours are 404 without a database round trip.
fn listing_id(id: &str) -> Result<&str, ApiError> {
    known_id("listing", id, "Listing")
}

pub async fn list(State(s): State<Services>, Caller(who): Caller, q: QueryParams) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let (page, per_page) = paging(&q, &mut errors);
    let status = q.get("status").and_then(|v| errors.check("status", ListingStatus::parse(v)));
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let result = s.listings().list(&who, status, page_offset(page, per_page), per_page).await?;
    let items: Vec<Value> = result.items.iter().map(summary).collect();
    Ok(ok_page(items, page, per_page, result.total))
}

pub async fn create(
    State(s): State<Services>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<ListingBody>,
) -> Result<Response, ApiError> {
    let listing = s.listings().create(&who, body.into_patch().map_err(|e| ApiError::validation(&e))?).await?;
    Ok((StatusCode::CREATED, ok(detail(&listing))).into_response())
}

pub async fn get(State(s): State<Services>, Caller(who): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(ok(detail(&s.listings().get(&who, listing_id(&id)?).await?)))
}

pub async fn update(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListingBody>,
) -> Result<Response, ApiError> {
    let patch = body.into_patch().map_err(|e| ApiError::validation(&e))?;
    Ok(ok(detail(&s.listings().update(&who, listing_id(&id)?, &patch).await?)))
}

pub async fn archive(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(detail(&s.listings().archive(&who, listing_id(&id)?).await?)))
}

pub async fn seo(State(s): State<Services>, Caller(who): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (listing, score) = s.listings().seo(&who, listing_id(&id)?).await?;
    let breakdown: serde_json::Map<String, Value> =
        score.breakdown().iter().map(|(c, v)| (c.as_str().to_owned(), Value::from(*v))).collect();
    Ok(ok(json!({
        "overall_score": score.overall,
        "breakdown": breakdown,
        "grade": score.grade,
        "analyzed_at": iso(listing.updated_at),
    })))
}

pub async fn recommendations(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = s.listings().recommendations(&who, listing_id(&id)?).await?;
    let items: Vec<Value> = r
        .items
        .iter()
        .map(|i| {
            let (proposed, add) = match &i.proposal {
                Proposal::Text(t) => (Value::from(t.clone()), None),
                Proposal::List(l) => (Value::from(l.clone()), None),
                Proposal::Add(n) => (Value::Null, Some(*n)),
            };
            let mut item = json!({
                "category": i.category.as_str(),
                "priority": i.priority,
                "suggestion": i.suggestion,
                "impact": format!("+{} SEO score", i.impact),
                "field": i.field,
                "proposed_value": proposed,
            });
            if let Some(n) = add {
                item["add_count"] = Value::from(n);
            }
            item
        })
        .collect();
    Ok(ok(json!({ "recommendations": items, "total_potential_improvement": r.total_potential_improvement })))
}

pub async fn generate_content(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = s.listings().generate_content(&who, listing_id(&id)?).await?;
    Ok((StatusCode::CREATED, ok(draft(&d))).into_response())
}

pub async fn list_content(
    State(s): State<Services>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let drafts = s.listings().drafts(&who, listing_id(&id)?).await?;
    Ok(ok(drafts.iter().map(draft).collect::<Vec<_>>()))
}

pub async fn publish_content(
    State(s): State<Services>,
    Caller(who): Caller,
    Path((id, draft_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let listing = s.listings().publish(&who, listing_id(&id)?, &draft_id).await?;
    Ok(ok(detail(&listing)))
}
