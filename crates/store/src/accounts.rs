//! AppReseller accounts: companies with their flags, users with memberships, company
//! associations (customer ↔ reseller) and the sellable catalog. The records and the one trait
//! both backends implement.

use crate::StoreResult;
use crate::{Paged, Window};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::partner::Role;

/// A company as the AppReseller surface sees it (the same rows as partners' companies and the
/// reseller document's customer accounts).
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyRecord {
    pub id: String,
    pub marketplace_id: String,
    pub name: String,
    /// `operator`, `partner` or `customer`.
    pub kind: String,
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub company_size: Option<String>,
    pub is_reseller: bool,
    pub is_referral: bool,
    pub is_developer: bool,
    pub is_channel_admin: bool,
    pub is_customer: bool,
    pub enabled: bool,
    pub active: bool,
    pub created_by_company_id: Option<String>,
    /// `[{"setting","value","permission"}]`.
    pub settings: serde_json::Value,
    /// `["RESALE", …]`.
    pub tax_exemptions: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// Read only: members of the company.
    pub num_users: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Which companies a caller lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyScope {
    /// The customer companies associated with this reseller company.
    LinkedTo(String),
    /// Every reseller or referral company of the marketplace.
    ResellersAndReferrals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorFilter {
    OnlyVendors,
    OnlyNonVendors,
    OnlyResellers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanySort {
    Id,
    CreatedOn,
}

#[derive(Debug, Clone)]
pub struct CompanyFilter {
    pub scope: CompanyScope,
    pub active: Option<bool>,
    pub enabled: Option<bool>,
    pub channel_admin: Option<bool>,
    pub vendor: Option<VendorFilter>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Matched, case-insensitively, against name, external id and phone.
    pub search: Option<String>,
    pub sort: CompanySort,
    pub order: SortOrder,
}

/// A company association, with both companies' names.
#[derive(Debug, Clone, PartialEq)]
pub struct AssociationRecord {
    pub id: String,
    pub marketplace_id: String,
    pub customer_company_id: String,
    pub customer_company_name: String,
    pub reseller_company_id: String,
    pub reseller_company_name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct AssociationFilter {
    /// Only associations of this reseller company (a reseller's own view).
    pub reseller_company_id: Option<String>,
    pub customer_company_id: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Matched against either company's name.
    pub search: Option<String>,
    /// `(column alias, order)`: `createdOn`, `customerCompanyName`, `resellerCompanyName`.
    pub sort: Vec<(AssociationSort, SortOrder)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationSort {
    CreatedOn,
    CustomerName,
    ResellerName,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: String,
    pub marketplace_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub external_id: Option<String>,
    pub activated: bool,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A user's membership of a company, with the company.
#[derive(Debug, Clone, PartialEq)]
pub struct UserMembership {
    pub user_id: String,
    pub company_id: String,
    pub company_name: String,
    pub company_external_id: Option<String>,
    pub company_phone: Option<String>,
    pub company_created_at: DateTime<Utc>,
    pub company_is_reseller: bool,
    pub company_is_referral: bool,
    pub roles: Vec<Role>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserActivity {
    Active,
    Inactive,
    PendingInvite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    Id,
    Email,
    FirstName,
    CreatedOn,
}

#[derive(Debug, Clone)]
pub struct UserFilter {
    /// Users with a membership in a company of this scope.
    pub scope: CompanyScope,
    pub company_id: Option<String>,
    pub activity: Option<UserActivity>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Matched against e-mail, first and last name.
    pub search: Option<String>,
    pub sort: UserSort,
    pub order: SortOrder,
}

/// A new user with its first membership.
#[derive(Debug, Clone)]
pub struct NewAccountUser {
    pub user: UserRecord,
    pub company_id: String,
    pub roles: Vec<Role>,
}

/// A sellable product: its editions → payment plans → costs are one JSON document
/// (`domain::catalog::Edition`s), ids inside.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub id: String,
    pub marketplace_id: String,
    pub name: String,
    pub blurb: String,
    pub image_url: Option<String>,
    pub provider: String,
    pub visible: bool,
    pub editions: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The company, and its association with `link_to` (a reseller company) when given, in one
    /// transaction. `Conflict` when the external id is taken in the marketplace.
    async fn create_company(
        &self,
        company: CompanyRecord,
        link: Option<AssociationRecord>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    async fn get_company(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<CompanyRecord>>;

    /// A page of the filter's companies and the total matching.
    async fn list_companies(
        &self,
        marketplace_id: &str,
        filter: &CompanyFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<CompanyRecord>>;

    /// Whether `customer` is associated with the reseller company `reseller`.
    async fn is_linked(&self, marketplace_id: &str, reseller: &str, customer: &str) -> StoreResult<bool>;

    /// The partner enrolled with `company_id`, if the company is one: the audience of events
    /// about that company's customers.
    async fn partner_of_company(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Option<String>>;

    /// `Conflict` when the two companies are associated already.
    async fn create_association(&self, association: AssociationRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn get_association(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<AssociationRecord>>;

    async fn list_associations(
        &self,
        marketplace_id: &str,
        filter: &AssociationFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<AssociationRecord>>;

    /// `NotFound` when there is no such association; `Conflict(CUSTOMER_ACCOUNT_ACTIVE)` when
    /// it carries a customer account that is not cancelled (checked in the deleting
    /// transaction); `Conflict(REFERENCE_CONFLICT)` when a cancelled account still refers to it.
    async fn delete_association(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    /// The user and its membership, in one transaction. `Conflict` when the e-mail (or the
    /// external id) is taken in the marketplace.
    async fn create_account_user(&self, new: NewAccountUser, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn get_user(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<UserRecord>>;

    async fn list_users(
        &self,
        marketplace_id: &str,
        filter: &UserFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<UserRecord>>;

    /// The memberships of these users, each with its company, oldest first per user.
    async fn user_memberships(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<UserMembership>>;

    /// Writes every product (insert, or update in place of the stored one with the same id)
    /// in one transaction: all or none.
    async fn save_products(&self, products: Vec<ProductRecord>, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn products_named(&self, marketplace_id: &str, names: &[String]) -> StoreResult<Vec<ProductRecord>>;

    async fn get_product(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<ProductRecord>>;

    /// A product's `image_url` without reading the rest (its editions document is most of a
    /// product row: decoding it for the logo was 39 % of a quote's creation). `None` for an
    /// unknown product or one without an image.
    async fn product_image(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<String>>;

    /// Visible products by name (then id), matching `search` in name, blurb or provider.
    async fn list_products(
        &self,
        marketplace_id: &str,
        search: Option<&str>,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<ProductRecord>>;
}

/// `Conflict` messages of this store, which the services tell apart.
pub const EXTERNAL_ID_TAKEN: &str = "a company with this external id exists already";
pub const ASSOCIATION_EXISTS: &str = "these companies are associated already";
pub const EMAIL_TAKEN: &str = "a user with this e-mail exists already";
pub const USER_EXTERNAL_ID_TAKEN: &str = "a user with this external id exists already";
/// `delete_association`: the association carries a customer account that is not cancelled.
pub const CUSTOMER_ACCOUNT_ACTIVE: &str = "the association carries a customer account with open billing";
/// Any backend: a foreign key refused the write (a row still refers to the one deleted, or the
/// one referred to is gone).
pub const REFERENCE_CONFLICT: &str = "another record refers to this one";
pub const PRODUCT_NAME_TAKEN: &str = "a product with this name exists already";
