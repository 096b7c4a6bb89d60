//! Company associations (`/companyAssociations…`): which customer companies a reseller serves.

use super::dto::{Association, AssociationCreationRequest, AssociationPage};
use super::{
    ApiJson, Caller, InclusiveRange, PageMetadata, PageNumber, PageSize, Query, ResellerError, SortParam, paging,
    plausible_id,
};
use crate::kernel::Param;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use partnerd_services::Services;
use partnerd_store::{AssociationFilter, AssociationSort};
use serde::Deserialize;
use utoipa::IntoParams;

/// The documented page size of the list.
const DEFAULT_SIZE: u32 = 10;

impl super::SortFields for AssociationSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("createdOn", AssociationSort::CreatedOn),
        ("customerCompany.name", AssociationSort::CustomerName),
        ("resellerCompany.name", AssociationSort::ResellerName),
    ];
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// `gte([timestamp])`, `lte([timestamp])` or both comma-separated, Unix epoch milliseconds,
    /// inclusive.
    #[param(value_type = Option<String>)]
    created_on: Option<Param<InclusiveRange>>,
    /// Customer company ID.
    customer_company_id: Option<String>,
    /// Page number, from 0.
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    number: Option<PageNumber>,
    /// Reseller company ID.
    reseller_company_id: Option<String>,
    /// Matched, case-insensitively, in either company's name.
    #[param(max_length = 200)]
    search_text: Option<String>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 10)]
    size: Option<PageSize>,
    /// `+field` ascending, `-field` descending, comma-separated: `createdOn`,
    /// `customerCompany.name`, `resellerCompany.name`. Default: newest first.
    #[param(value_type = Option<String>)]
    sort: Option<Param<SortParam<AssociationSort>>>,
}

fn id_filter(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// List company associations
///
/// Every association of the marketplace (ROLE_CHANNEL_ADMIN, ROLE_RESELLER_MANAGER).
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/companyAssociations", tag = "Company Association", params(ListQuery),
    responses((status = 200, description = "Success", body = AssociationPage)))]
pub(super) async fn list(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<AssociationPage>, ResellerError> {
    let (offset, limit, page, size) = paging(q.number, q.size, DEFAULT_SIZE);
    let created = q.created_on.map(|c| c.0.0).unwrap_or_default();
    let search = q.search_text.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ResellerError::invalid("searchText", "must be at most 200 characters"));
    }
    let filter = AssociationFilter {
        reseller_company_id: id_filter(q.reseller_company_id),
        customer_company_id: id_filter(q.customer_company_id),
        created_from: created.from.map(|b| b.at),
        created_to: created.to.map(|b| b.at),
        search,
        sort: q.sort.map(|s| s.0.0).unwrap_or_default(),
    };
    let window = super::window(q.cursor, offset);
    let found = services.accounts().list_associations(&p, &filter, &window, limit).await?;
    Ok(Json(AssociationPage {
        content: found.items.iter().map(Association::from).collect(),
        page: PageMetadata::paged(page, size, &window, found.total, found.next.as_ref()),
    }))
}

/// Create company association
///
/// Links a customer company to a reseller company (ROLE_CHANNEL_ADMIN, ROLE_RESELLER_MANAGER).
/// 404 when either company does not exist; 409 `RESELLER_REQUIRED` when the reseller company
/// is not a reseller, `SAME_COMPANY` when both ids are one company, `ALREADY_ASSOCIATED` when
/// they are linked already.
#[utoipa::path(post, path = "/companyAssociations", tag = "Company Association",
    request_body = AssociationCreationRequest,
    responses((status = 200, description = "Success", body = Association),
        (status = 409, description = "Conflict", body = super::dto::AssociationConflict)))]
pub(super) async fn create(
    State(services): State<Services>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<AssociationCreationRequest>,
) -> Result<Json<Association>, ResellerError> {
    let required = |v: Option<String>, name: &str| {
        id_filter(v).ok_or_else(|| ResellerError::bad_request(format!("Required field '{name}' is missing")))
    };
    let customer = required(body.customer_company_id, "customerCompanyId")?;
    let reseller = required(body.reseller_company_id, "resellerCompanyId")?;
    if !plausible_id(&customer) || !plausible_id(&reseller) {
        return Err(ResellerError::not_found("company"));
    }
    let a = services.accounts().create_association(&p, &customer, &reseller).await?;
    Ok(Json(Association::from(&a)))
}

/// Remove company association
///
/// ROLE_CHANNEL_ADMIN, ROLE_RESELLER_MANAGER. The reseller no longer sees the customer
/// company, its users or anything else of it on this surface, and the company is no longer
/// one of the reseller partner's customers (`/api/v1/partners/customers`).
///
/// An association that carries the partner's customer account (a plan set through
/// `/api/v1/partners/customers`) is refused while that account is billed: **409
/// `CUSTOMER_ACCOUNT_ACTIVE`**; cancel the account first. A cancelled account keeps its invoices
/// and commissions, which still refer to the association: **409 `REFERENCE_CONFLICT`**, and
/// nothing is deleted. (Any write a foreign key refuses is `REFERENCE_CONFLICT` 409 on this
/// surface, never a 500.) Appends `company_association.deleted` for the reseller's partner.
#[utoipa::path(delete, path = "/companyAssociations/{companyAssociationId}", tag = "Company Association",
    params(("companyAssociationId" = String, Path, description = "Company Association ID")),
    responses((status = 204, description = "No Content"),
        (status = 409, description = "`CUSTOMER_ACCOUNT_ACTIVE` or `REFERENCE_CONFLICT`", body = super::ErrorBody)))]
pub(super) async fn delete(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ResellerError> {
    if !plausible_id(&id) {
        return Err(ResellerError::not_found("company association"));
    }
    services.accounts().delete_association(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
