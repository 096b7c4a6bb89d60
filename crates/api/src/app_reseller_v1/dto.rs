//! The AppReseller document's shapes, under its own schema names, and the completion of the
//! surface's OpenAPI document (security, the error responses every operation can give).

use super::error::ErrorBody;
use super::{PageMetadata, epoch_ms};
use partnerd_domain::partner::Role;
use partnerd_store::{AssociationRecord, CompanyRecord, UserMembership};
use serde::{Deserialize, Serialize};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};

pub const DESCRIPTION: &str = "The AppReseller API (`appreseller-api.txt`): Account, Catalog, Company association, \
Subscriptions, Orders, Subscription Assignments, Payment Methods and Opportunities sections, and the Leads API \
v2. Conventions of the whole family (`/api/appReseller/v1`, `/api/lead/v2`, `/api/opportunities`):\n\n\
- Authentication: the same API keys as the partners surface (`Authorization: Bearer pdk_…`), the same \
rate limits and `X-RateLimit-*` headers. A key's membership roles are the document's scopes: `reseller` → \
ROLE_RESELLER, `reseller_manager` → ROLE_RESELLER_MANAGER, `referral` → ROLE_REFERRAL, `developer` → \
ROLE_DEVELOPER, `channel_admin` → ROLE_CHANNEL_ADMIN (the operator's key holds it), `sales_support` → \
ROLE_SALES_SUPPORT. ROLE_PARTNER / ROLE_PARTNER_READ (marketplace-wide API roles in the document) are not \
granted by partnerd's `partner`/`partner_read` membership roles, which belong to partner companies.\n\
- `context` (required where marked) names the role the caller acts in; the caller must hold it (else 403). \
A `companyId` or `createdByCompanyId` must be a company the caller may act for (else 403); a record the \
caller may not see is 404.\n\
- Errors are `{\"code\", \"message\", \"status\"}`: 400 for malformed JSON, wrong types, missing required \
parameters and bad enum values (the message names the parameter or field), 401, 403, 404, 405, 409, 413, \
415, 429, 500. Unknown paths under these prefixes answer in this shape too.\n\
- Times are Unix epoch milliseconds. Pages are `{\"content\", \"page\": {\"number\", \"size\", \
\"totalElements\", \"totalPages\"}}`, numbered from 0 (the Account, Catalog and Company association lists) \
or from 1 (subscriptions, orders, subscription assignments, payment methods and opportunities, whose documented \
examples and parameters count from 1); `size` is 1 to 200.\n\
- Ranges (`createdOn`) are `gte(ms)`, `gt(ms)`, `lte(ms)`, `lt(ms)` (where documented: some endpoints take \
only the inclusive two), a lower and an upper bound comma-separated; `sort` is `+field`/`-field`, \
comma-separated; list filters take a value or `in(a,b)`. One parser each serves every endpoint.\n\
- Money: prices come from the catalog in exact cents (item price plus markups, × quantity for `UNIT` costs, \
once for `FLAT_RATE` ones); `totalFee` is the currency code then the amount, `USD350.00`. The only rounding \
is a mid-period change's proration: nearest cent, halves away from zero.\n\
- Opportunities are quotes: priced items of catalog payment plans (`pricingPlanId` is a payment plan id, \
priced as `POST /subscriptions` prices it), reviewed (`POST /api/opportunities/{id}/requestReview`, the \
document's path) and finalized into a real purchase: one subscription and order per item, invoiced with the \
commission, all in one transaction or nothing. ROLE_CHANNEL_ADMIN is the marketplace manager (every opportunity \
of the marketplace; it alone acts on one under review); ROLE_RESELLER and ROLE_SALES_SUPPORT (`context=SSR`) act \
on their company's. The document's `Opportunity` schema is `AppResellerOpportunity` here (the partners surface \
has a co-sell `Opportunity`).\n\
- Enumerations the document names without listing values (company sizes, `AvailableAction`) use partnerd's \
values, listed in the schemas.";

/// A schema-only string enumeration under the document's name.
macro_rules! doc_enum {
    ($(#[$meta:meta])* $name:ident as $doc:ident { $($v:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(ToSchema)]
        #[schema(as = $doc)]
        #[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum $name { $($v),+ }
    };
}

doc_enum! {
    /// Supported AppReseller contexts (of the Account section).
    ContextName as AppResellerAccountApiContext { RESELLER, RESELLER_MANAGER }
}
doc_enum! {
    /// Company size (not listed by the document: partnerd's values).
    CompanySizeName as AppResellerAccountCompanySize { SMALL, MEDIUM, LARGE, ENTERPRISE }
}
doc_enum! {
    /// Type of company access.
    AccessCodeName as AppResellerAccountCompanyAccessCode {
        RESELLER, REFERRAL, CUSTOMER, DEVELOPER, MARKETPLACE, SALES_SUPPORT_REPRESENTATIVE, ENTERPRISE_CUSTOMER
    }
}
doc_enum! {
    /// Type of company action.
    CompanyActionName as AppResellerAccountCompanyAction {
        ENABLE_ON_DEVICES_SALES_AUTOMATION, DISABLE_ON_DEVICES_SALES_AUTOMATION, VERIFY_EMAIL_DOMAIN,
        UNVERIFY_EMAIL_DOMAIN, ENABLE_COMPANY, DISABLE_COMPANY, LINK_RESELLER_TO_CUSTOMER,
        LINK_CUSTOMER_TO_RESELLER, INVITE_USERS, MANAGE_PRODUCT_CATALOG, LEAVE_COMPANY, JOIN_COMPANY,
        MANAGE_CUSTOM_ATTRIBUTES, MOSI_DOMAINS_MANAGEMENT
    }
}
doc_enum! {
    /// Company tax exemption codes.
    TaxExemptionName as AppResellerAccountTaxExemptionCode {
        FEDERAL_GOVERNMENT_US, STATE_GOVERNMENT_US, TRIBE_INDIAN, FOREIGN_DIPLOMAT, CHARITABLE_ORG,
        RELIGIOUS_ORG, RESALE, COMMERCIAL_AGRICULTURAL, INDUSTRIAL_PRODUCTION, DIRECT_MAIL_US,
        DIRECT_PAY_PERMIT_US, OTHER, LOCAL_GOVERNMENT_US, COMMERCIAL_AQUACULTURE, COMMERCIAL_FISHERY,
        NON_RESIDENT_CAN, MEDICAL_DEVICE_WITH_EXEMPT_SALES_TAX_US, MEDICAL_DEVICE_WITH_TAXABLE_SALES_TAX_US
    }
}
doc_enum! {
    /// Company setting code.
    SettingCodeName as AppResellerAccountCompanySettingCode {
        ON_DEVICES_SALES_AUTOMATION, TAX_RATE, TAX_EXEMPTION_CODE, CREATE_LEADS, CREATE_COMPANIES,
        CREATE_OPPORTUNITIES, CLOUD_MANAGEMENT, TWO_FACTOR_AUTHENTICATION, IDENTITY_DATA_PROVIDER, EXTERNAL_ID,
        THIRTY_DAYS_PURCHASE_LIMIT_EXEMPT
    }
}
doc_enum! {
    /// Type of read/write permission.
    PermissionName as ReadWritePermission { READ, WRITE }
}
doc_enum! {
    /// A user's role in a company: the document's `Role` values, plus `REFERRAL` (partnerd's
    /// referral membership role, which the document's list lacks).
    RoleName as Role {
        USER, APPLICATION, PARTNER, PARTNER_READ, COMPANY, CLIENT, CHECKOUT_USER, BILLING_ADMIN, SYS_ADMIN,
        DEVELOPER, CHANNEL_PRODUCT_SUPPORT, CHANNEL_SUPPORT, CHANNEL_ADMIN, CORPORATE_ADMIN, SUPERUSER,
        SUPER_SUPPORT, ANALYTICS_ADMIN, LAYOUT_DESIGNER, SALES_SUPPORT, RESTRICTED_SALES_SUPPORT, RESELLER,
        RESELLER_MANAGER, TESTER, MONITORING, SYSTEM, REFERRAL
    }
}
doc_enum! {
    /// User actions.
    UserActionName as AppResellerUserActions { SEND_RESET_PASSWORD_EMAIL }
}
doc_enum! {
    /// Invalid company association types (the 409 codes of `POST /companyAssociations`).
    IllegalAssociationName as IllegalCompanyAssociationTypes { RESELLER_REQUIRED, SAME_COMPANY, ALREADY_ASSOCIATED }
}
doc_enum! {
    ChannelAdminFilterName as ChannelAdminFilter { ONLY_CHANNEL_ADMINS, ONLY_NON_CHANNEL_ADMINS }
}
doc_enum! {
    VendorFilterName as VendorFilter { ONLY_VENDORS, ONLY_NON_VENDORS, ONLY_RESELLERS }
}
doc_enum! {
    CompanySortFieldName as CompanySortField { COMPANY_ID, CREATED_ON }
}
doc_enum! {
    UserSortFieldName as UserSortField { CUSTOMER_ID, EMAIL, FIRST_NAME }
}
doc_enum! {
    UserActivationName as UserActivationStatus { ONLY_ACTIVE, ONLY_INACTIVE, ONLY_PENDING_INVITE }
}
doc_enum! {
    SortOrderName as SortOrder { ASC, DESC }
}

/// The document's role name of a membership role.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Reseller => "RESELLER",
        Role::ResellerManager => "RESELLER_MANAGER",
        Role::Referral => "REFERRAL",
        Role::Developer => "DEVELOPER",
        Role::ChannelAdmin => "CHANNEL_ADMIN",
        Role::SalesSupport => "SALES_SUPPORT",
        Role::Partner => "PARTNER",
        Role::PartnerRead => "PARTNER_READ",
    }
}

/// What a company is to the marketplace, as access codes.
pub fn granted_accesses(c: &CompanyRecord) -> Vec<&'static str> {
    let flags = [
        (c.is_reseller, "RESELLER"),
        (c.is_referral, "REFERRAL"),
        (c.is_customer, "CUSTOMER"),
        (c.is_developer, "DEVELOPER"),
        (c.is_channel_admin, "MARKETPLACE"),
    ];
    flags.into_iter().filter(|(on, _)| *on).map(|(_, code)| code).collect()
}

/// `Company`: an item of `GET /companies`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Company)]
pub struct CompanyItem {
    /// Whether the company has completed registration.
    pub activated: bool,
    /// Unix epoch milliseconds.
    pub created_on: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[schema(value_type = Vec<AccessCodeName>)]
    pub granted_accesses: Vec<&'static str>,
    pub id: String,
    pub name: String,
    pub num_of_users: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl From<&CompanyRecord> for CompanyItem {
    fn from(c: &CompanyRecord) -> Self {
        Self {
            activated: c.active,
            created_on: epoch_ms(c.created_at),
            external_id: c.external_id.clone(),
            granted_accesses: granted_accesses(c),
            id: c.id.clone(),
            name: c.name.clone(),
            num_of_users: c.num_users,
            phone: c.phone.clone(),
        }
    }
}

/// `AccountCompanyWS`: the company `POST /companies` created.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AccountCompanyWS)]
pub struct AccountCompany {
    pub created_on: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl From<&CompanyRecord> for AccountCompany {
    fn from(c: &CompanyRecord) -> Self {
        Self {
            created_on: epoch_ms(c.created_at),
            external_id: c.external_id.clone(),
            id: c.id.clone(),
            name: c.name.clone(),
            phone: c.phone.clone(),
        }
    }
}

/// `AppResellerAccountCompanyCreationRequest`. `companyAccess`, when sent, must be `RESELLER`
/// (the only context this operation's scope table allows); `createdByCompanyId`, when sent,
/// must be the caller's company (else 403). `name` is required (1–200 characters);
/// `externalId` is unique in the marketplace (a duplicate is 409 `EXTERNAL_ID_TAKEN`).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerAccountCompanyCreationRequest)]
pub struct CompanyCreationRequest {
    #[schema(value_type = Option<ContextName>)]
    pub company_access: Option<String>,
    #[schema(value_type = Option<CompanySizeName>)]
    pub company_size: Option<partnerd_domain::account::CompanySize>,
    pub created_by_company_id: Option<String>,
    #[schema(max_length = 100)]
    pub external_id: Option<String>,
    #[schema(required = true, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[schema(max_length = 300)]
    pub website: Option<String>,
}

/// `AppResellerAccountCompanySetting`.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = AppResellerAccountCompanySetting)]
pub struct CompanySetting {
    #[schema(value_type = PermissionName)]
    pub permission: String,
    #[schema(value_type = SettingCodeName)]
    pub setting: String,
    pub value: String,
}

/// `ApplicationSummaryStat`.
#[derive(Serialize, ToSchema)]
#[schema(as = ApplicationSummaryStat)]
pub struct SummaryStat {
    /// The statistic's value.
    pub children: String,
    /// The statistic's name.
    pub unit: String,
}

/// `AppResellerAccountIdentityProvider`.
#[derive(Serialize, ToSchema)]
#[schema(as = AppResellerAccountIdentityProvider)]
pub struct IdentityProvider {
    pub id: String,
    pub name: String,
    pub partner: String,
}

/// `CompanyDetailsWS`. `actions` are what the caller may do here (a reseller on its customer:
/// `INVITE_USERS`; a reseller manager on a reseller: `LINK_RESELLER_TO_CUSTOMER`);
/// `availableRoles` the roles it may give the company's users. partnerd configures no identity
/// providers (`idpConfigurations` is empty) and grants accesses at enrolment
/// (`availableAccesses` is empty). `stats` are counted from the company's subscriptions, trials
/// and invoices: partnerd has none of those yet, so each is 0 until the commerce sections land.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CompanyDetailsWS)]
pub struct CompanyDetails {
    #[schema(value_type = Vec<CompanyActionName>)]
    pub actions: Vec<&'static str>,
    pub active: bool,
    #[schema(value_type = Vec<AccessCodeName>)]
    pub available_accesses: Vec<&'static str>,
    #[schema(value_type = Vec<RoleName>)]
    pub available_roles: Vec<&'static str>,
    #[schema(value_type = Vec<TaxExemptionName>)]
    pub available_tax_exemptions: Vec<&'static str>,
    pub created_on: i64,
    #[schema(value_type = RoleName)]
    pub default_role: &'static str,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[schema(value_type = Vec<AccessCodeName>)]
    pub granted_accesses: Vec<&'static str>,
    pub id: String,
    pub idp_configurations: Vec<IdentityProvider>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub settings: Vec<CompanySetting>,
    pub stats: Vec<SummaryStat>,
}

/// `AppResellerAccountCompany`: a membership's company.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerAccountCompany)]
pub struct MembershipCompany {
    pub created_on: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
}

/// `AppResellerAccountUserCompanyMembership`. `roles` always starts with `USER`.
#[derive(Serialize, ToSchema)]
#[schema(as = AppResellerAccountUserCompanyMembership)]
pub struct Membership {
    pub company: MembershipCompany,
    pub enabled: bool,
    #[schema(value_type = Vec<RoleName>)]
    pub roles: Vec<&'static str>,
}

impl From<&UserMembership> for Membership {
    fn from(m: &UserMembership) -> Self {
        let mut roles = vec!["USER"];
        roles.extend(m.roles.iter().map(|r| role_name(*r)));
        Self {
            company: MembershipCompany {
                created_on: epoch_ms(m.company_created_at),
                external_id: m.company_external_id.clone(),
                id: m.company_id.clone(),
                name: m.company_name.clone(),
                phone: m.company_phone.clone(),
            },
            enabled: m.enabled,
            roles,
        }
    }
}

/// An item of `UserPagedReadResponse`. `companyId` is the first visible membership's company
/// (the filtered one with `companyId`); `invitationRequired` is true until the user first
/// signs in (`activated`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerUser)]
pub struct UserItem {
    pub activated: bool,
    pub company_id: Option<String>,
    pub created_on: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub id: String,
    pub invitation_required: bool,
    pub last_name: Option<String>,
    pub memberships: Vec<Membership>,
}

/// `UserPagedReadResponse`.
#[derive(Serialize, ToSchema)]
#[schema(as = UserPagedReadResponse)]
pub struct UserPage {
    pub content: Vec<UserItem>,
    pub page: PageMetadata,
}

/// `UserCreationRequest`. `companyId` (required) must be a customer company associated with the
/// caller's reseller company (else 403); `createdByCompanyId`, when sent, the caller's company.
/// `email` is required and unique in the marketplace (409 `EMAIL_TAKEN`), as is `externalId`
/// (409 `EXTERNAL_ID_TAKEN`). `roles` (a partnerd addition) may hold only `USER`: a reseller
/// grants no other role in a customer company (400 naming `roles[i]`).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserCreationRequest)]
pub struct UserCreationRequest {
    #[schema(required = true)]
    pub company_id: Option<String>,
    pub created_by_company_id: Option<String>,
    #[schema(required = true, format = Email)]
    pub email: Option<String>,
    #[schema(max_length = 100)]
    pub external_id: Option<String>,
    #[schema(max_length = 100)]
    pub first_name: Option<String>,
    #[schema(max_length = 100)]
    pub last_name: Option<String>,
    #[schema(value_type = Option<Vec<RoleName>>)]
    pub roles: Option<Vec<String>>,
}

/// `UserCreationResponse`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserCreationResponse)]
pub struct UserCreated {
    pub company_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub id: String,
    pub last_name: Option<String>,
    pub memberships: Vec<Membership>,
}

/// `AppResellerUserRoleWS`.
#[derive(Serialize, ToSchema)]
#[schema(as = AppResellerUserRoleWS)]
pub struct UserRole {
    #[schema(value_type = RoleName)]
    pub name: &'static str,
    #[schema(value_type = PermissionName)]
    pub permission: &'static str,
}

/// `AppResellerUserSetting`.
#[derive(Serialize, ToSchema)]
#[schema(as = AppResellerUserSetting)]
pub struct UserSetting {
    #[schema(value_type = PermissionName)]
    pub permission: &'static str,
    pub setting: String,
    pub value: String,
}

/// `UserReadResponse`. `partner` is the marketplace's id; `availableRoles` are the roles the
/// user holds in `companyId` (READ: a reseller cannot change them); `customAttributes` and
/// `settings` are empty (partnerd keeps none for users).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserReadResponse)]
pub struct UserDetails {
    #[schema(value_type = Vec<UserActionName>)]
    pub actions: Vec<&'static str>,
    pub activated: bool,
    pub available_roles: Vec<UserRole>,
    pub company_id: String,
    pub created_on: i64,
    #[schema(value_type = Vec<Object>)]
    pub custom_attributes: Vec<serde_json::Value>,
    pub email: String,
    pub enabled: bool,
    pub first_name: Option<String>,
    pub id: String,
    pub invitation_required: bool,
    pub last_name: Option<String>,
    pub memberships: Vec<Membership>,
    pub partner: String,
    pub settings: Vec<UserSetting>,
}

/// `AppResellerCompanyAssociation`: a company's id and name.
#[derive(Serialize, ToSchema)]
#[schema(as = AppResellerCompanyAssociation)]
pub struct CompanyRef {
    pub id: String,
    pub name: String,
}

/// `CustomerCompanyAssociation`. `id` is the association's id.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerCompanyAssociation)]
pub struct Association {
    pub created_on: i64,
    pub customer_company: CompanyRef,
    pub id: String,
    pub reseller_company: CompanyRef,
}

impl From<&AssociationRecord> for Association {
    fn from(a: &AssociationRecord) -> Self {
        Self {
            created_on: epoch_ms(a.created_at),
            customer_company: CompanyRef { id: a.customer_company_id.clone(), name: a.customer_company_name.clone() },
            id: a.id.clone(),
            reseller_company: CompanyRef { id: a.reseller_company_id.clone(), name: a.reseller_company_name.clone() },
        }
    }
}

/// `CustomerCompanyAssociationPagedReadResponse`.
#[derive(Serialize, ToSchema)]
#[schema(as = CustomerCompanyAssociationPagedReadResponse)]
pub struct AssociationPage {
    pub content: Vec<Association>,
    pub page: PageMetadata,
}

/// `CustomerCompanyAssociationCreationRequest`: both ids required.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerCompanyAssociationCreationRequest)]
pub struct AssociationCreationRequest {
    #[schema(required = true)]
    pub customer_company_id: Option<String>,
    #[schema(required = true)]
    pub reseller_company_id: Option<String>,
}

/// `CustomerCompanyAssociationConflictResponse`: the 409 of `POST /companyAssociations`.
#[derive(Serialize, ToSchema)]
#[schema(as = CustomerCompanyAssociationConflictResponse)]
#[allow(dead_code)] // documents the 409 body, which `ErrorBody` writes
pub struct AssociationConflict {
    #[schema(value_type = IllegalAssociationName)]
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// `(status, component name, description)` of the errors every operation may answer.
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "AppResellerBadRequest",
        "Malformed JSON, a wrong type, a missing required parameter or field, or a bad enum value (named in `message`)",
    ),
    ("401", "AppResellerUnauthorized", "Missing, malformed, unknown, revoked or expired key"),
    (
        "403",
        "AppResellerForbidden",
        "The key does not hold the context's role or the operation's scope, or may not act for the given company",
    ),
    ("404", "AppResellerNotFound", "No such record, or one the caller may not see"),
    (
        "409",
        "AppResellerConflict",
        "`CONFLICT`: a request with this Idempotency-Key is still running (retry later); or the operation's named conflict",
    ),
    ("413", "AppResellerPayloadTooLarge", "The body exceeds 1 MiB"),
    ("415", "AppResellerUnsupportedMediaType", "The body is not `application/json`"),
    ("429", "AppResellerRateLimited", "A window of the plan is exhausted; see Retry-After"),
    ("500", "AppResellerServerError", "Storage failure (details are logged, not returned)"),
];

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::Integer)).description(Some(description)).build()
}

/// `Idempotent-Replayed: true` on a POST's replayed response.
fn replayed_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["true"])))
        .description(Some("`true` when this is the kept response of an earlier request with the same Idempotency-Key"))
        .build()
}

fn common_headers() -> Vec<(&'static str, utoipa::openapi::header::Header)> {
    vec![
        ("X-RateLimit-Limit", integer_header("Limit of the tightest window")),
        ("X-RateLimit-Remaining", integer_header("Requests left in that window")),
        ("X-RateLimit-Reset", integer_header("Unix seconds at which that window ends")),
    ]
}

/// Completes the document: info, bearer security, the schemas of the error shape, and the
/// error responses each operation can give (401, 403, 429, 500 always; 400 with parameters or
/// a body; 413 and 415 with a body; 404 always, for what the caller may not see).
pub fn complete(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "partnerd AppReseller API".into();
    doc.info.version = "1.0".into();
    doc.info.description = Some(DESCRIPTION.into());
    doc.info.license = None;
    doc.info.contact = None;
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .security_schemes
        .insert("bearer".into(), SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    components.schemas.insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    let mut extra = Vec::new();
    AssociationConflict::schemas(&mut extra);
    components.schemas.extend(extra);
    components.schemas.insert(AssociationConflict::name().into_owned(), AssociationConflict::schema());
    // Enums used only as query parameters (`value_type = …`) are referenced by name but not
    // collected by utoipa: register them, or their `$ref`s dangle.
    for (name, schema) in [
        (ChannelAdminFilterName::name(), ChannelAdminFilterName::schema()),
        (VendorFilterName::name(), VendorFilterName::schema()),
        (CompanySortFieldName::name(), CompanySortFieldName::schema()),
        (UserSortFieldName::name(), UserSortFieldName::schema()),
        (UserActivationName::name(), UserActivationName::schema()),
        (SortOrderName::name(), SortOrderName::schema()),
        (super::leads::LeadContextName::name(), super::leads::LeadContextName::schema()),
        (super::leads::LeadStatusFilterName::name(), super::leads::LeadStatusFilterName::schema()),
        (super::leads::LeadSortFieldName::name(), super::leads::LeadSortFieldName::schema()),
    ] {
        components.schemas.entry(name.into_owned()).or_insert(schema);
    }
    for (status, name, description) in ERRORS {
        let mut response = ResponseBuilder::new().description(*description).content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name(ErrorBody::name()))).build(),
        );
        for (header, h) in common_headers() {
            response = response.header(header, h);
        }
        if *status == "429" || *status == "409" {
            response = response.header("Retry-After", integer_header("Seconds until a retry may succeed"));
        }
        // Kept 4xx answers of POSTs are replayed too.
        response = response.header("Idempotent-Replayed", replayed_header());
        components.responses.insert((*name).into(), RefOr::T(response.build()));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let methods = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, op) in methods {
            if let Some(op) = op {
                let words: Vec<&str> =
                    path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
                op.operation_id = Some(format!("appreseller_{method}_{}", words.join("_")));
                complete_operation(op, method == "post");
            }
        }
    }
    doc
}

fn complete_operation(op: &mut Operation, post: bool) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    params.push(
        ParameterBuilder::new()
            .name("X-Partner-ID")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("When sent, must equal the key's partner id, else 403 FORBIDDEN."))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
    op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    let mut errors = vec!["401", "403", "404", "429", "500"];
    if op.request_body.is_some() {
        errors.extend(["400", "413", "415"]);
    }
    if has_query {
        errors.push("400");
    }
    if post {
        params.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "1–255 printable ASCII characters. The first request's response is kept for 24 hours and \
                     replayed (`Idempotent-Replayed: true`) to retries with the same key and request; the same key \
                     on another request is 400, while the first still runs 409 `CONFLICT`.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[ -~]+$")),
                ))
                .build(),
        );
        errors.extend(["400", "409", "413"]);
    }
    for (status, name, _) in ERRORS.iter().filter(|(s, _, _)| errors.contains(s)) {
        op.responses
            .responses
            .entry((*status).into())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    }
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response {
            for (header, h) in common_headers() {
                r.headers.entry(header.into()).or_insert(h);
            }
            if post {
                r.headers.entry("Idempotent-Replayed".into()).or_insert_with(replayed_header);
            }
        }
    }
}

doc_enum! {
    /// Billing frequency (`PricingDuration`).
    FrequencyName as PricingDuration { ONE_TIME, DAILY, MONTHLY, QUARTERLY, SIX_MONTHS, YEARLY, TWO_YEARS, THREE_YEARS }
}
doc_enum! {
    /// Supported revenue model types.
    RevenueTypeName as RevenueModelType { ONE_TIME, RECURRING }
}
doc_enum! {
    /// Pricing strategy (partnerd's values: per unit, or a flat rate).
    PricingStrategyName as PricingStrategy { UNIT, FLAT_RATE }
}
doc_enum! {
    /// Cost unit (partnerd's values).
    PricingUnitName as PricingUnit { USER, SESSION, UNIT, DEVICE, GIGABYTE, HOUR, NOT_APPLICABLE }
}
doc_enum! {
    /// Markup pricing types.
    MarkupTypeName as MarkupPricingType { CHANNEL_RESELLER_COMPANY, RESELLER_COMPANY }
}

/// `ProductCatalog`: a sellable product.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ProductCatalog)]
pub struct ProductItem {
    pub blurb: String,
    pub id: String,
    pub image_url: Option<String>,
    pub name: String,
    /// The company providing the product.
    pub provider: String,
    pub visible: bool,
}

/// `ProductCatalogPage` (the document's `AppResellerCatalogProductPageWS`). `links` is always
/// empty.
#[derive(Serialize, ToSchema)]
#[schema(as = ProductCatalogPage)]
pub struct ProductPage {
    pub content: Vec<ProductItem>,
    pub links: Vec<String>,
    pub page: PageMetadata,
}

/// `MarkupPrices`: a reseller markup, by currency.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MarkupPrices)]
pub struct MarkupDto {
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    pub markup_prices: partnerd_domain::catalog::Prices,
    #[schema(value_type = MarkupTypeName)]
    pub markup_type: partnerd_domain::catalog::MarkupType,
}

/// `CatalogPlanCosts`. Prices are decimal numbers by ISO-4217 currency.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CatalogPlanCosts)]
pub struct CostDto {
    pub id: String,
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    pub item_prices: partnerd_domain::catalog::Prices,
    pub markup_prices: Vec<MarkupDto>,
    pub max_units: Option<u32>,
    pub min_units: Option<u32>,
    #[schema(value_type = PricingStrategyName)]
    pub pricing_strategy: partnerd_domain::catalog::PricingStrategy,
    #[schema(value_type = PricingUnitName)]
    pub unit: partnerd_domain::catalog::PricingUnit,
    #[schema(value_type = Option<PricingUnitName>)]
    pub unit_dependency: Option<partnerd_domain::catalog::PricingUnit>,
}

/// `PaymentPlans`: a payment plan of an edition (`frequency` as the document's example spells
/// it).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PaymentPlans)]
pub struct PlanDto {
    pub cancellation_period_limit: Option<u32>,
    pub costs: Vec<CostDto>,
    pub end_of_contract_grace_period: Option<u32>,
    #[schema(value_type = FrequencyName)]
    pub frequency: partnerd_domain::catalog::Frequency,
    pub id: String,
    pub minimum_service_length: Option<u32>,
}

/// `CatalogEdition`, with the example's field names (`paymentPlans`, `revenueType`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CatalogEdition)]
pub struct EditionDto {
    pub id: String,
    pub name: String,
    pub payment_plans: Vec<PlanDto>,
    #[schema(value_type = RevenueTypeName)]
    pub revenue_type: partnerd_domain::catalog::RevenueType,
}

impl From<&partnerd_domain::catalog::Edition> for EditionDto {
    fn from(e: &partnerd_domain::catalog::Edition) -> Self {
        Self {
            id: e.id.clone(),
            name: e.name.clone(),
            revenue_type: e.revenue_type,
            payment_plans: e
                .payment_plans
                .iter()
                .map(|p| PlanDto {
                    cancellation_period_limit: p.cancellation_period_limit,
                    end_of_contract_grace_period: p.end_of_contract_grace_period,
                    frequency: p.frequency,
                    id: p.id.clone(),
                    minimum_service_length: p.minimum_service_length,
                    costs: p
                        .costs
                        .iter()
                        .map(|c| CostDto {
                            id: c.id.clone(),
                            item_prices: c.item_prices.clone(),
                            markup_prices: c
                                .markup_prices
                                .iter()
                                .map(|m| MarkupDto {
                                    markup_prices: m.markup_prices.clone(),
                                    markup_type: m.markup_type,
                                })
                                .collect(),
                            max_units: c.max_units,
                            min_units: c.min_units,
                            pricing_strategy: c.pricing_strategy,
                            unit: c.unit,
                            unit_dependency: c.unit_dependency,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
