use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::partner::Role;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Marketplace {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// The operator's side of a new marketplace: its company, first user and key.
#[derive(Debug, Clone)]
pub struct NewMarketplace {
    pub id: String,
    pub name: String,
    pub operator_company_id: String,
    pub operator_user_id: String,
    pub operator_email: String,
    pub operator_key: NewApiKey,
    pub created_at: DateTime<Utc>,
    pub events: Vec<NewEvent>,
}

#[derive(Debug, Clone)]
pub struct NewPartner {
    pub marketplace_id: String,
    pub partner_id: String,
    pub company_id: String,
    pub company_name: String,
    pub contact_email: String,
    pub plan: String,
    pub user_id: String,
    pub roles: Vec<Role>,
    pub key: NewApiKey,
    pub created_at: DateTime<Utc>,
    pub events: Vec<NewEvent>,
}

/// A company enrolled in the partner program.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRecord {
    pub id: String,
    pub marketplace_id: String,
    pub company_id: String,
    pub company_name: String,
    pub contact_email: String,
    pub plan: String,
    pub aws_account_connected: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub company_id: String,
    pub name: String,
    pub display_prefix: String,
    pub secret_hash: Vec<u8>,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A key as lists show it: never the secret nor its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub user_id: String,
    pub company_id: String,
    pub name: String,
    pub display_prefix: String,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What authenticating with a key yields, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAuth {
    pub key_id: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub user_email: String,
    pub company_id: String,
    pub roles: Vec<Role>,
    pub secret_hash: Vec<u8>,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The company's partner enrolment, if it is a partner.
    pub partner: Option<PartnerRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub company_id: String,
    pub roles: Vec<Role>,
    /// The company's partner enrolment, if any.
    pub partner_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    pub marketplace_id: String,
    pub event_type: String,
    pub subject_type: String,
    pub subject_id: String,
    pub partner_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub payload: Value,
    /// When the change happened, by the use case's clock.
    pub occurred_at: DateTime<Utc>,
    /// When the row was written, by the database host's wall clock; what pollers page on.
    pub recorded_at: DateTime<Utc>,
}

/// A listing as stored. `version` increases by one with every write; updates name the version
/// they read, so concurrent read-modify-writes cannot lose each other's changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub content: partnerd_domain::listing::ListingContent,
    pub status: partnerd_domain::listing::ListingStatus,
    pub seo_score: u32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListingPage {
    pub items: Vec<ListingRecord>,
    /// All rows matching the filter, not just this page.
    pub total: u64,
}

/// A generated content draft: copy proposed for a listing, published onto it on request.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    pub id: String,
    pub marketplace_id: String,
    pub partner_id: String,
    pub listing_id: String,
    pub title: String,
    pub short_description: String,
    pub long_description: String,
    pub highlights: Vec<String>,
    pub keywords: Vec<String>,
    /// The listing's score if this draft were published when it was generated.
    pub seo_score: u32,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}
