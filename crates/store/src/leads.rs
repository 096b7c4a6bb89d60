//! Leads (Leads API v2): the record, the list filter and the trait both backends implement.

use crate::{AssociationRecord, CompanyRecord, NewAccountUser, SortOrder, StoreResult};
use crate::{Paged, Window};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::lead::{LeadStatus, LeadType};

/// A lead as stored. Names of the companies involved are kept as they were when the lead
/// reached them (the lead's own record of who it was given to).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadRecord {
    pub id: String,
    pub marketplace_id: String,
    pub lead_type: LeadType,
    pub status: LeadStatus,
    /// The marketplace partner code (`partner`).
    pub partner: String,
    /// `LeadCustomer` (`{company, contact}`), validated.
    pub customer: serde_json::Value,
    /// The customer company's name, for sorting by `COMPANY_NAME`.
    pub customer_company_name: String,
    /// Lower-cased text `searchText` matches.
    pub search_text: String,
    pub notes: Option<String>,
    pub custom_attributes: serde_json::Value,
    /// Who always sees it: the creator's company (manual leads) or the profile company
    /// (company-profile leads); none for product-profile leads.
    pub owner_company_id: Option<String>,
    pub creator_user_id: Option<String>,
    pub creator_company_id: Option<String>,
    pub creator_company_name: Option<String>,
    /// The document's role name the creator acted in.
    pub creator_role: Option<String>,
    pub reseller_user_id: Option<String>,
    pub reseller_company_id: Option<String>,
    pub profile_company_id: Option<String>,
    pub profile_company_name: Option<String>,
    /// `LeadProduct`.
    pub profile_product: Option<serde_json::Value>,
    /// `LeadProductEdition`.
    pub profile_edition: Option<serde_json::Value>,
    /// `LeadParticipant`.
    pub referrer: serde_json::Value,
    /// The company it is assigned to; `None`: the marketplace (a `CHANNEL` recipient).
    pub recipient_company_id: Option<String>,
    pub recipient_company_name: Option<String>,
    pub converted_company_id: Option<String>,
    pub converted_company_name: Option<String>,
    pub converted_user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadSort {
    Date,
    CompanyName,
}

/// A page of leads as one caller sees them.
#[derive(Debug, Clone)]
pub struct LeadFilter {
    /// The caller's company: it sees the leads it owns and those assigned to it.
    pub viewer_company_id: String,
    /// A reseller manager also sees every company- and product-profile lead, and manual leads
    /// whose conversion was requested (`domain::lead::BEFORE_MANAGERS`).
    pub manager: bool,
    /// Any of these (empty: every status).
    pub statuses: Vec<LeadStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub search: Option<String>,
    pub sort: LeadSort,
    pub order: SortOrder,
}

/// What a conversion writes besides the lead: the new company (with its association to the
/// converting reseller) and contact user, or, for a lead linked to an existing company, only the
/// association when the reseller is not associated with it yet.
#[derive(Debug, Clone, Default)]
pub struct LeadConversion {
    pub company: Option<CompanyRecord>,
    pub association: Option<AssociationRecord>,
    pub user: Option<NewAccountUser>,
}

#[async_trait]
pub trait LeadStore: Send + Sync {
    async fn create_lead(&self, lead: LeadRecord, events: Vec<NewEvent>) -> StoreResult<()>;

    async fn get_lead(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<LeadRecord>>;

    /// A page of the leads the filter's viewer sees, and how many it sees in all.
    async fn list_leads(
        &self,
        marketplace_id: &str,
        filter: &LeadFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<LeadRecord>>;

    /// Writes `lead` if the stored one is still at `expected_version` (`Conflict` otherwise).
    async fn update_lead(&self, lead: LeadRecord, expected_version: i64, events: Vec<NewEvent>) -> StoreResult<()>;

    /// The converted lead and what the conversion creates, in one transaction. `Conflict`
    /// ([`crate::EMAIL_TAKEN`]) when the contact's e-mail belongs to a user already.
    async fn convert_lead(
        &self,
        lead: LeadRecord,
        expected_version: i64,
        conversion: LeadConversion,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
}
