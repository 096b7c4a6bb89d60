//! Domain events: every state change appends one, in the same transaction as the change. The
//! log feeds cache invalidation now, and timelines, activities, webhooks and analytics later.

use serde_json::Value;

/// Event type names. One list, so the webhook catalog and the code cannot disagree.
pub mod types {
    pub const MARKETPLACE_CREATED: &str = "marketplace.created";
    pub const PARTNER_CREATED: &str = "partner.created";
    pub const API_KEY_CREATED: &str = "api_key.created";
    pub const API_KEY_REVOKED: &str = "api_key.revoked";
    pub const LISTING_CREATED: &str = "listing.created";
    pub const LISTING_UPDATED: &str = "listing.updated";
    pub const SEO_SCORE_CHANGED: &str = "seo.score_changed";
    pub const CONTENT_GENERATED: &str = "content.generated";
    pub const CONTENT_PUBLISHED: &str = "content.published";
    pub const OPPORTUNITY_CREATED: &str = "opportunity.created";
    pub const OPPORTUNITY_STATUS_CHANGED: &str = "opportunity.status_changed";
    pub const OPPORTUNITY_UPDATED: &str = "opportunity.updated";
    pub const REPORT_GENERATED: &str = "report.generated";
}

/// Event types after which a cached principal may be stale; their subject is the key id.
pub const AUTH_RELEVANT: &[&str] = &[types::API_KEY_REVOKED];

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub subject_type: &'static str,
    pub subject_id: String,
    /// The partner whose data this is (who may see it); `None` for operator-only events.
    pub partner_id: Option<String>,
    /// The other party of a shared record (the co-sell partner), who may see it too.
    pub related_partner_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub payload: Value,
}
