//! Account: companies and users (`/companies…`, `/users…`).

use super::dto::{
    AccountCompany, ChannelAdminFilterName, CompanyCreationRequest, CompanyDetails, CompanyItem, CompanySetting,
    CompanySortFieldName, ContextName, IdentityProvider, Membership, SortOrderName, SummaryStat, UserActivationName,
    UserCreated, UserCreationRequest, UserDetails, UserItem, UserPage, UserRole, UserSortFieldName, VendorFilterName,
    granted_accesses, role_name,
};
use super::{
    AccountContext, ApiJson, Caller, EpochMillis, Flag, PageMetadata, PageNumber, PageSize, Query, ResellerError,
    SortOrderParam, context, epoch_ms, one_of, paging, plausible_id, required,
};
use crate::kernel::{FromParam, Param};
use axum::Json;
use axum::response::{IntoResponse, Response};

/// The next page's cursor of a list answered as a plain array.
const NEXT_CURSOR: &str = "x-next-cursor";
use axum::extract::{Path, State};
use partnerd_domain::account::TaxExemption;
use partnerd_services::Services;
use partnerd_services::accounts::{CreateCompany, CreateUser, UserView};
use partnerd_services::policy::Context;
use partnerd_store::{
    CompanyFilter, CompanyScope, CompanySort, SortOrder, UserActivity, UserFilter, UserSort, VendorFilter,
};
use serde::Deserialize;
use utoipa::IntoParams;

/// Default `size` of `GET /companies` and `GET /users` (the users example's page size).
const DEFAULT_SIZE: u32 = 10;

#[derive(Debug, Clone, Copy)]
pub(super) struct VendorParam(VendorFilter);
impl FromParam for VendorParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "ONLY_VENDORS" => Ok(Self(VendorFilter::OnlyVendors)),
            "ONLY_NON_VENDORS" => Ok(Self(VendorFilter::OnlyNonVendors)),
            "ONLY_RESELLERS" => Ok(Self(VendorFilter::OnlyResellers)),
            _ => Err(one_of(raw, &["ONLY_VENDORS", "ONLY_NON_VENDORS", "ONLY_RESELLERS"])),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct ChannelAdminParam(bool);
impl FromParam for ChannelAdminParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "ONLY_CHANNEL_ADMINS" => Ok(Self(true)),
            "ONLY_NON_CHANNEL_ADMINS" => Ok(Self(false)),
            _ => Err(one_of(raw, &["ONLY_CHANNEL_ADMINS", "ONLY_NON_CHANNEL_ADMINS"])),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct CompanySortParam(CompanySort);
impl FromParam for CompanySortParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "COMPANY_ID" => Ok(Self(CompanySort::Id)),
            "CREATED_ON" => Ok(Self(CompanySort::CreatedOn)),
            _ => Err(one_of(raw, &["COMPANY_ID", "CREATED_ON"])),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct UserSortParam(UserSort);
impl FromParam for UserSortParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "CUSTOMER_ID" => Ok(Self(UserSort::Id)),
            "EMAIL" => Ok(Self(UserSort::Email)),
            "FIRST_NAME" => Ok(Self(UserSort::FirstName)),
            _ => Err(one_of(raw, &["CUSTOMER_ID", "EMAIL", "FIRST_NAME"])),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct ActivityParam(UserActivity);
impl FromParam for ActivityParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "ONLY_ACTIVE" => Ok(Self(UserActivity::Active)),
            "ONLY_INACTIVE" => Ok(Self(UserActivity::Inactive)),
            "ONLY_PENDING_INVITE" => Ok(Self(UserActivity::PendingInvite)),
            _ => Err(one_of(raw, &["ONLY_ACTIVE", "ONLY_INACTIVE", "ONLY_PENDING_INVITE"])),
        }
    }
}

/// Search text: trimmed; blank is no search; at most 200 characters.
fn search(raw: Option<String>) -> Result<Option<String>, ResellerError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > 200 => {
            Err(ResellerError::invalid("searchText", "must be at most 200 characters"))
        }
        Some(s) => Ok(Some(s.to_owned())),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ContextQuery {
    /// Supported AppReseller contexts.
    #[param(required = true, value_type = ContextName)]
    context: Option<Param<AccountContext>>,
}

/// Company details
///
/// The caller's own company, or one it manages in the context: in RESELLER the customer
/// companies associated with its reseller company, in RESELLER_MANAGER the marketplace's
/// reseller and referral companies. Any other company is 404.
#[utoipa::path(get, path = "/companies/{companyId}", tag = "Account",
    params(("companyId" = String, Path, description = "Company ID"), ContextQuery),
    responses((status = 200, description = "Success", body = CompanyDetails)))]
pub(super) async fn company_details(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(company_id): Path<String>,
    Query(q): Query<ContextQuery>,
) -> Result<Json<CompanyDetails>, ResellerError> {
    let context = context(q.context)?;
    if !plausible_id(&company_id) {
        return Err(ResellerError::not_found("company"));
    }
    let view = services.accounts().company(&p, context, &company_id).await?;
    let c = &view.company;
    let settings = serde_json::from_value::<Vec<CompanySetting>>(c.settings.clone()).unwrap_or_default();
    Ok(Json(CompanyDetails {
        actions: view.actions.iter().map(|a| a.as_str()).collect(),
        active: c.active,
        available_accesses: vec![],
        available_roles: view.available_roles.clone(),
        available_tax_exemptions: TaxExemption::NAMES.to_vec(),
        created_on: epoch_ms(c.created_at),
        default_role: "USER",
        enabled: c.enabled,
        external_id: c.external_id.clone(),
        granted_accesses: granted_accesses(c),
        id: c.id.clone(),
        idp_configurations: Vec::<IdentityProvider>::new(),
        name: c.name.clone(),
        phone: c.phone.clone(),
        settings,
        stats: view.stats.iter().map(|(unit, v)| SummaryStat { children: v.clone(), unit: (*unit).into() }).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct CompanyListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// Company activation status (completed registration): `true` or `false`.
    #[param(value_type = Option<bool>)]
    active: Option<Param<Flag>>,
    /// Companies that have (or not) permission to manage the marketplace.
    #[param(value_type = Option<ChannelAdminFilterName>)]
    channel_admin: Option<Param<ChannelAdminParam>>,
    /// Supported AppReseller contexts.
    #[param(required = true, value_type = ContextName)]
    context: Option<Param<AccountContext>>,
    /// Company enablement status: `true` or `false`.
    #[param(value_type = Option<bool>)]
    enabled: Option<Param<Flag>>,
    /// Created at or after, Unix epoch milliseconds.
    #[param(value_type = Option<i64>)]
    from_date: Option<Param<EpochMillis>>,
    /// Page number, from 0.
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    page: Option<PageNumber>,
    /// Matched, case-insensitively, in the name, external id and phone.
    #[param(max_length = 200)]
    search_text: Option<String>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 10)]
    size: Option<PageSize>,
    /// Field to sort by (default `CREATED_ON`).
    #[param(value_type = Option<CompanySortFieldName>)]
    sort_field: Option<Param<CompanySortParam>>,
    /// Sort order (default `DESC`: newest first).
    #[param(value_type = Option<SortOrderName>)]
    sort_order: Option<Param<SortOrderParam>>,
    /// Created at or before, Unix epoch milliseconds.
    #[param(value_type = Option<i64>)]
    to_date: Option<Param<EpochMillis>>,
    /// Companies that can sell (`ONLY_VENDORS`: developer companies), cannot, or resell.
    #[param(value_type = Option<VendorFilterName>)]
    vendor: Option<Param<VendorParam>>,
}

/// List companies
///
/// In the RESELLER context, the companies associated with the caller's reseller company; in
/// RESELLER_MANAGER, every reseller and referral company of the marketplace. The answer is a
/// plain array, as the document shows; `page` (from 0) and `size` (default 10) select it.
///
/// Beyond the document: `cursor` (the previous page's `X-Next-Cursor` header) pages by keyset
/// instead of `page`; the array has no room for page metadata, so the next page's cursor comes
/// in the `X-Next-Cursor` response header, absent on the last page. A cursor holds only the
/// position in the order (keep the filters and the sort the same while following it); one that
/// is not this server's, or is of another sort, is 400 naming `cursor`.
#[utoipa::path(get, path = "/companies", tag = "Account", params(CompanyListQuery),
    responses((status = 200, description = "Success", body = Vec<CompanyItem>,
        headers(("X-Next-Cursor" = String,
            description = "Beyond the document: the `cursor` of the next page; absent on the last page")))))]
pub(super) async fn list_companies(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<CompanyListQuery>,
) -> Result<Response, ResellerError> {
    let context = context(q.context)?;
    let (offset, limit, _, _) = paging(q.page, q.size, DEFAULT_SIZE);
    let filter = CompanyFilter {
        scope: CompanyScope::ResellersAndReferrals,
        active: q.active.map(|f| f.0.0),
        enabled: q.enabled.map(|f| f.0.0),
        channel_admin: q.channel_admin.map(|f| f.0.0),
        vendor: q.vendor.map(|v| v.0.0),
        from: q.from_date.map(|d| d.0.0),
        to: q.to_date.map(|d| d.0.0),
        search: search(q.search_text)?,
        sort: q.sort_field.map_or(CompanySort::CreatedOn, |s| s.0.0),
        order: q.sort_order.map_or(SortOrder::Desc, |o| o.0.0),
    };
    let window = super::window(q.cursor, offset);
    let found = services.accounts().list_companies(&p, context, filter, &window, limit).await?;
    let body = Json(found.items.iter().map(CompanyItem::from).collect::<Vec<_>>());
    Ok(match found.next {
        Some(next) => ([(NEXT_CURSOR, next.encode())], body).into_response(),
        None => body.into_response(),
    })
}

/// Create company
///
/// A customer company created by, and associated with, the caller's reseller company
/// (ROLE_RESELLER). It is a customer of that partner on every surface.
#[utoipa::path(post, path = "/companies", tag = "Account", request_body = CompanyCreationRequest,
    responses((status = 200, description = "Success", body = AccountCompany),
        (status = 409, description = "`EXTERNAL_ID_TAKEN`: another company has this externalId", body = super::ErrorBody)))]
pub(super) async fn create_company(
    State(services): State<Services>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<CompanyCreationRequest>,
) -> Result<Json<AccountCompany>, ResellerError> {
    if let Some(access) = &body.company_access {
        let c = super::context_among(access, &[Context::Reseller, Context::ResellerManager])
            .map_err(|m| ResellerError::bad_request(format!("Invalid value for field 'companyAccess': {m}")))?;
        if c != Context::Reseller {
            return Err(ResellerError::forbidden("Companies are created in the RESELLER context only"));
        }
    }
    let input = CreateCompany {
        name: required(body.name, "name")
            .map_err(|_| ResellerError::bad_request("Required field 'name' is missing"))?,
        external_id: body.external_id,
        phone: body.phone,
        website: body.website,
        company_size: body.company_size,
        created_by_company_id: body.created_by_company_id,
    };
    let company = services.accounts().create_company(&p, input).await?;
    Ok(Json(AccountCompany::from(&company)))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct UserListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// User activation status.
    #[param(value_type = Option<UserActivationName>)]
    active: Option<Param<ActivityParam>>,
    /// Only users of this company, which must be one the caller manages in the context (else 403).
    company_id: Option<String>,
    /// Supported appReseller contexts.
    #[param(required = true, value_type = ContextName)]
    context: Option<Param<AccountContext>>,
    /// Created at or after, Unix epoch milliseconds.
    #[param(value_type = Option<i64>)]
    from_date: Option<Param<EpochMillis>>,
    /// Page number, from 0.
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    page: Option<PageNumber>,
    /// The user's partner: partnerd's users all belong to the caller's marketplace, whose id
    /// this is; another value matches no user.
    partner: Option<String>,
    /// Matched, case-insensitively, in the e-mail, first and last name.
    #[param(max_length = 200)]
    search_text: Option<String>,
    /// Results per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 10)]
    size: Option<PageSize>,
    /// Field to sort by (`CUSTOMER_ID` is the user's id); default: newest first.
    #[param(value_type = Option<UserSortFieldName>)]
    sort_field: Option<Param<UserSortParam>>,
    /// Sort order (default `ASC` with a `sortField`, newest first without).
    #[param(value_type = Option<SortOrderName>)]
    sort_order: Option<Param<SortOrderParam>>,
    /// Created at or before, Unix epoch milliseconds.
    #[param(value_type = Option<i64>)]
    to_date: Option<Param<EpochMillis>>,
}

fn user_item(v: &UserView, company_id: Option<&str>) -> UserItem {
    let u = &v.user;
    let company_id = company_id.map(str::to_owned).or_else(|| v.memberships.first().map(|m| m.company_id.clone()));
    UserItem {
        activated: u.activated,
        company_id,
        created_on: epoch_ms(u.created_at),
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        id: u.id.clone(),
        invitation_required: !u.activated,
        last_name: u.last_name.clone(),
        memberships: v.memberships.iter().map(Membership::from).collect(),
    }
}

/// List users
///
/// In the RESELLER context, the users of the customer companies associated with the caller's
/// reseller company; in RESELLER_MANAGER, the users of reseller and referral companies. Each
/// user's memberships are those in companies the caller may see.
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/users", tag = "Account", params(UserListQuery),
    responses((status = 200, description = "Success", body = UserPage)))]
pub(super) async fn list_users(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<UserListQuery>,
) -> Result<Json<UserPage>, ResellerError> {
    let context = context(q.context)?;
    let (offset, limit, page, size) = paging(q.page, q.size, DEFAULT_SIZE);
    let company_id = q.company_id.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if q.partner.as_deref().is_some_and(|x| x != p.marketplace_id) {
        return Ok(Json(UserPage { content: vec![], page: PageMetadata::new(page, size, 0) }));
    }
    let (sort, order) = match (q.sort_field, q.sort_order) {
        (Some(f), o) => (f.0.0, o.map_or(SortOrder::Asc, |o| o.0.0)),
        (None, o) => (UserSort::CreatedOn, o.map_or(SortOrder::Desc, |o| o.0.0)),
    };
    let filter = UserFilter {
        scope: CompanyScope::ResellersAndReferrals,
        company_id: company_id.clone(),
        activity: q.active.map(|a| a.0.0),
        from: q.from_date.map(|d| d.0.0),
        to: q.to_date.map(|d| d.0.0),
        search: search(q.search_text)?,
        sort,
        order,
    };
    let window = super::window(q.cursor, offset);
    let found = services.accounts().list_users(&p, context, filter, &window, limit).await?;
    let content = found.items.iter().map(|v| user_item(v, company_id.as_deref())).collect();
    Ok(Json(UserPage { content, page: PageMetadata::paged(page, size, &window, found.total, found.next.as_ref()) }))
}

/// Create user
///
/// A user of a customer company associated with the caller's reseller company. The scope
/// table names ROLE_RESELLER only: the RESELLER_MANAGER context is refused (403). The new user
/// is not activated (`invitationRequired`) until it first signs in.
#[utoipa::path(post, path = "/users", tag = "Account", params(ContextQuery), request_body = UserCreationRequest,
    responses((status = 200, description = "Success", body = UserCreated),
        (status = 409, description = "`EMAIL_TAKEN` or `EXTERNAL_ID_TAKEN`", body = super::ErrorBody)))]
pub(super) async fn create_user(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ContextQuery>,
    ApiJson(body): ApiJson<UserCreationRequest>,
) -> Result<Json<UserCreated>, ResellerError> {
    let context = context(q.context)?;
    let field = |v: Option<String>, name: &str| {
        v.ok_or_else(|| ResellerError::bad_request(format!("Required field '{name}' is missing")))
    };
    let input = CreateUser {
        company_id: field(body.company_id, "companyId")?,
        created_by_company_id: body.created_by_company_id,
        email: field(body.email, "email")?,
        external_id: body.external_id,
        first_name: body.first_name,
        last_name: body.last_name,
        roles: body.roles.unwrap_or_default(),
    };
    let company_id = input.company_id.clone();
    let view = services.accounts().create_user(&p, context, input).await?;
    let u = &view.user;
    Ok(Json(UserCreated {
        company_id,
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        id: u.id.clone(),
        last_name: u.last_name.clone(),
        memberships: view.memberships.iter().map(Membership::from).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct UserQuery {
    /// The user's company: one the caller manages in the context (else 403) and of which the
    /// user is a member (else 404).
    #[param(required = true)]
    company_id: Option<String>,
    /// Supported appReseller contexts.
    #[param(required = true, value_type = ContextName)]
    context: Option<Param<AccountContext>>,
}

/// User details
#[utoipa::path(get, path = "/users/{userId}", tag = "Account",
    params(("userId" = String, Path, description = "User ID"), UserQuery),
    responses((status = 200, description = "Success", body = UserDetails)))]
pub(super) async fn user_details(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(user_id): Path<String>,
    Query(q): Query<UserQuery>,
) -> Result<Json<UserDetails>, ResellerError> {
    let company_id = required(q.company_id, "companyId")?;
    let context = context(q.context)?;
    if !plausible_id(&user_id) {
        return Err(ResellerError::not_found("user"));
    }
    let view = services.accounts().user(&p, context, &user_id, &company_id).await?;
    let u = &view.user;
    let roles =
        view.memberships.iter().find(|m| m.company_id == company_id).map(|m| m.roles.clone()).unwrap_or_default();
    Ok(Json(UserDetails {
        actions: vec!["SEND_RESET_PASSWORD_EMAIL"],
        activated: u.activated,
        available_roles: roles.iter().map(|r| UserRole { name: role_name(*r), permission: "READ" }).collect(),
        company_id,
        created_on: epoch_ms(u.created_at),
        custom_attributes: vec![],
        email: u.email.clone(),
        enabled: u.enabled,
        first_name: u.first_name.clone(),
        id: u.id.clone(),
        invitation_required: !u.activated,
        last_name: u.last_name.clone(),
        memberships: view.memberships.iter().map(Membership::from).collect(),
        partner: p.marketplace_id.clone(),
        settings: vec![],
    }))
}
