//! Catalog: what a reseller can sell (`/catalog/sellableProducts…`).

use super::dto::{EditionDto, ProductItem, ProductPage};
use super::{Caller, PageMetadata, PageNumber, PageSize, Query, ResellerError, paging, plausible_id};
use axum::Json;
use axum::extract::{Path, State};
use partnerd_services::Services;
use serde::Deserialize;
use utoipa::IntoParams;

/// The documented page size of the product list.
const DEFAULT_SIZE: u32 = 50;

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ProductQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// Page number, from 0.
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    page: Option<PageNumber>,
    /// Matched, case-insensitively, in the name, blurb and provider.
    #[param(max_length = 200)]
    search_text: Option<String>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 50)]
    size: Option<PageSize>,
    /// The user the reseller sells for: the caller or a user of a customer company associated
    /// with it (else 403). The catalog is the same for every user.
    target_user_id: Option<String>,
}

fn target(raw: Option<String>) -> Option<String> {
    raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// List sellable products
///
/// The visible products of the marketplace's catalog (ROLE_RESELLER), by name.
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/catalog/sellableProducts", tag = "Catalog", params(ProductQuery),
    responses((status = 200, description = "Success", body = ProductPage)))]
pub(super) async fn products(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ProductQuery>,
) -> Result<Json<ProductPage>, ResellerError> {
    let (offset, limit, page, size) = paging(q.page, q.size, DEFAULT_SIZE);
    let search = q.search_text.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ResellerError::invalid("searchText", "must be at most 200 characters"));
    }
    let target = target(q.target_user_id);
    let window = super::window(q.cursor, offset);
    let found = services.catalog().sellable_products(&p, target.as_deref(), search.as_deref(), &window, limit).await?;
    let page = PageMetadata::paged(page, size, &window, found.total, found.next.as_ref());
    let content = found
        .items
        .into_iter()
        .map(|r| ProductItem {
            blurb: r.blurb,
            id: r.id,
            image_url: r.image_url,
            name: r.name,
            provider: r.provider,
            visible: r.visible,
        })
        .collect();
    Ok(Json(ProductPage { content, links: vec![], page }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct EditionQuery {
    /// As for the product list.
    target_user_id: Option<String>,
}

/// Edition details
///
/// A product's editions with their payment plans, costs and markups (ROLE_RESELLER).
#[utoipa::path(get, path = "/catalog/sellableProducts/{productId}/editions", tag = "Catalog",
    params(("productId" = String, Path, description = "Product ID"), EditionQuery),
    responses((status = 200, description = "Success", body = Vec<EditionDto>)))]
pub(super) async fn editions(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(product_id): Path<String>,
    Query(q): Query<EditionQuery>,
) -> Result<Json<Vec<EditionDto>>, ResellerError> {
    if !plausible_id(&product_id) {
        return Err(ResellerError::not_found("product"));
    }
    let target = target(q.target_user_id);
    let editions = services.catalog().editions(&p, target.as_deref(), &product_id).await?;
    Ok(Json(editions.iter().map(EditionDto::from).collect()))
}
