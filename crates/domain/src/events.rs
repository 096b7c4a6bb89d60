//! Domain events: every state change appends one, in the same transaction as the change. The
//! log feeds cache invalidation now, and timelines, activities, webhooks and analytics later.
//!
//! Each event type has one payload struct here. The services build events from them, the
//! webhook catalog's samples are the same structs with example values, and readers (the
//! co-sell timeline) parse stored payloads back into them, so producer, sample and reader
//! cannot drift apart. Field names and value shapes are those payloads have always had: stored
//! events render byte for byte as before.

use crate::analytics::Period;
use crate::cosell::OpportunityStatus;
use crate::lead::{LeadStatus, LeadType};
use crate::listing::ListingStatus;
use crate::money::Amount;
use crate::ticket::{CommentAuthor, TicketCategory, TicketPriority, TicketStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Event type names. One list, so the webhook catalog and the code cannot disagree.
pub mod types {
    pub const MARKETPLACE_CREATED: &str = "marketplace.created";
    pub const PARTNER_CREATED: &str = "partner.created";
    pub const API_KEY_CREATED: &str = "api_key.created";
    pub const API_KEY_REVOKED: &str = "api_key.revoked";
    pub const PARTNER_UPDATED: &str = "partner.updated";
    pub const USER_INVITED: &str = "user.invited";
    pub const USER_PASSWORD_SET: &str = "user.password_set";
    pub const LISTING_CREATED: &str = "listing.created";
    pub const LISTING_UPDATED: &str = "listing.updated";
    pub const SEO_SCORE_CHANGED: &str = "seo.score_changed";
    pub const CONTENT_GENERATED: &str = "content.generated";
    pub const CONTENT_PUBLISHED: &str = "content.published";
    pub const OPPORTUNITY_CREATED: &str = "opportunity.created";
    pub const OPPORTUNITY_STATUS_CHANGED: &str = "opportunity.status_changed";
    pub const OPPORTUNITY_UPDATED: &str = "opportunity.updated";
    pub const REPORT_GENERATED: &str = "report.generated";
    pub const WEBHOOK_CREATED: &str = "webhook.created";
    pub const WEBHOOK_UPDATED: &str = "webhook.updated";
    pub const WEBHOOK_SECRET_ROTATED: &str = "webhook.secret_rotated";
    pub const CUSTOMER_CREATED: &str = "customer.created";
    pub const CUSTOMER_UPGRADED: &str = "customer.upgraded";
    pub const CUSTOMER_CANCELLED: &str = "customer.cancelled";
    pub const COMMISSION_EARNED: &str = "commission.earned";
    pub const INVOICE_GENERATED: &str = "invoice.generated";
    pub const INVOICE_PAID: &str = "invoice.paid";
    pub const INVOICE_VOIDED: &str = "invoice.voided";
    pub const INVOICE_MARKED_UNCOLLECTIBLE: &str = "invoice.marked_uncollectible";
    pub const COMPANY_CREATED: &str = "company.created";
    pub const USER_CREATED: &str = "user.created";
    pub const COMPANY_ASSOCIATION_CREATED: &str = "company_association.created";
    pub const COMPANY_ASSOCIATION_DELETED: &str = "company_association.deleted";
    pub const LEAD_CREATED: &str = "lead.created";
    pub const LEAD_ASSIGNED: &str = "lead.assigned";
    pub const LEAD_UPDATED: &str = "lead.updated";
    pub const LEAD_STATUS_CHANGED: &str = "lead.status_changed";
    pub const LEAD_COMPANY_ASSOCIATED: &str = "lead.company_associated";
    pub const LEAD_CONVERTED: &str = "lead.converted";
    pub const PRODUCT_IMPORTED: &str = "product.imported";
    pub const TICKET_CREATED: &str = "ticket.created";
    pub const TICKET_UPDATED: &str = "ticket.updated";
    pub const TICKET_COMMENTED: &str = "ticket.commented";
    pub const TICKET_RATED: &str = "ticket.rated";
    pub const USAGE_INGESTED: &str = "usage.ingested";
    pub const BRANDING_UPDATED: &str = "branding.updated";
    pub const EMAIL_TEMPLATES_UPDATED: &str = "email_templates.updated";
    pub const CONFIGURATION_DEPLOYED: &str = "configuration.deployed";
    pub const SANDBOX_CREATED: &str = "sandbox.created";
    pub const SANDBOX_DELETED: &str = "sandbox.deleted";
    pub const SUBSCRIPTION_CREATED: &str = "subscription.created";
    pub const SUBSCRIPTION_CHANGED: &str = "subscription.changed";
    pub const SUBSCRIPTION_CANCELLED: &str = "subscription.cancelled";
    pub const SUBSCRIPTION_RENEWED: &str = "subscription.renewed";
    pub const ORDER_CREATED: &str = "order.created";
    pub const SEAT_ASSIGNED: &str = "seat.assigned";
    pub const SEAT_UNASSIGNED: &str = "seat.unassigned";
    pub const PAYMENT_METHOD_CREATED: &str = "payment_method.created";
    pub const PAYMENT_METHOD_DELETED: &str = "payment_method.deleted";
    pub const QUOTE_CREATED: &str = "quote.created";
    pub const QUOTE_CHANGED: &str = "quote.changed";
    pub const QUOTE_REVIEW_REQUESTED: &str = "quote.review_requested";
    pub const QUOTE_FINALIZED: &str = "quote.finalized";
    pub const LEAD_QUOTE_LINKED: &str = "lead.quote_linked";
}

/// Event types after which a cached principal may be stale. The subject of `api_key.revoked`
/// is the key id; that of `sandbox.deleted` the sandbox's marketplace, every key of which goes;
/// that of `partner.updated` (plan, suspension) the partner, every key of which goes.
pub const AUTH_RELEVANT: &[&str] = &[types::API_KEY_REVOKED, types::SANDBOX_DELETED, types::PARTNER_UPDATED];

/// An event about to be appended. `payload` is the stored form of one of the payload structs
/// below; build events with [`NewEvent::of`].
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

/// A typed event payload: its type name, what it is about, and an example for the catalog.
pub trait EventPayload: Serialize + DeserializeOwned {
    const TYPE: &'static str;
    /// The kind of record the event is about (`"listing"`, `"opportunity"`…).
    const SUBJECT: &'static str;
    /// The id of that record.
    fn subject_id(&self) -> &str;
    /// Plausible values, as the webhook catalog shows and test sends deliver.
    fn example() -> Self;
}

impl NewEvent {
    /// The event of `payload`, for no partner and no actor until set.
    pub fn of<P: EventPayload>(payload: &P) -> Self {
        NewEvent {
            event_type: P::TYPE,
            subject_type: P::SUBJECT,
            subject_id: payload.subject_id().to_owned(),
            partner_id: None,
            related_partner_id: None,
            actor_user_id: None,
            payload: to_stored(payload),
        }
    }

    /// Whose data this is.
    pub fn partner(mut self, partner_id: Option<String>) -> Self {
        self.partner_id = partner_id;
        self
    }

    /// The other party of a shared record.
    pub fn related(mut self, partner_id: Option<String>) -> Self {
        self.related_partner_id = partner_id;
        self
    }

    pub fn actor(mut self, user_id: Option<String>) -> Self {
        self.actor_user_id = user_id;
        self
    }
}

/// The stored (and delivered) form of a payload.
pub fn to_stored<P: Serialize>(payload: &P) -> Value {
    // Payloads are plain structs with string keys: serialising them cannot fail.
    serde_json::to_value(payload).expect("event payloads serialise to JSON")
}

/// A stored payload read back as its struct; `None` when the row does not have its shape.
pub fn from_stored<P: EventPayload>(payload: &Value) -> Option<P> {
    P::deserialize(payload).ok()
}

/// One field's change in an `…updated` event: `{old, new}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub old: T,
    pub new: T,
}

impl<T: PartialEq> Change<T> {
    /// `Some` when the value changed.
    pub fn between(old: T, new: T) -> Option<Self> {
        (old != new).then_some(Change { old, new })
    }
}

macro_rules! payload {
    ($name:ident, $type:path, $subject:literal, $id:ident, $example:expr) => {
        impl EventPayload for $name {
            const TYPE: &'static str = $type;
            const SUBJECT: &'static str = $subject;
            fn subject_id(&self) -> &str {
                &self.$id
            }
            fn example() -> Self {
                $example
            }
        }
    };
}

// Partners and keys (internal: not in the webhook catalog).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceCreated {
    pub marketplace_id: String,
}
payload!(
    MarketplaceCreated,
    types::MARKETPLACE_CREATED,
    "marketplace",
    marketplace_id,
    MarketplaceCreated { marketplace_id: "mkt_sample".into() }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerCreated {
    pub partner_id: String,
    pub company_id: String,
    pub company_name: String,
    pub email: String,
    pub plan: String,
}
payload!(
    PartnerCreated,
    types::PARTNER_CREATED,
    "partner",
    partner_id,
    PartnerCreated {
        partner_id: "partner_sample".into(),
        company_id: "company_sample".into(),
        company_name: "Acme Corporation".into(),
        email: "admin@acme.example".into(),
        plan: "starter".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyCreated {
    pub key_id: String,
    pub user_id: String,
}
payload!(
    ApiKeyCreated,
    types::API_KEY_CREATED,
    "api_key",
    key_id,
    ApiKeyCreated { key_id: "key_sample".into(), user_id: "user_sample".into() }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRevoked {
    pub key_id: String,
}
payload!(ApiKeyRevoked, types::API_KEY_REVOKED, "api_key", key_id, ApiKeyRevoked { key_id: "key_sample".into() });

/// The operator changed a partner's plan or suspension (internal: it drops cached keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerUpdated {
    pub partner_id: String,
    pub plan: String,
    pub suspended: bool,
}
payload!(
    PartnerUpdated,
    types::PARTNER_UPDATED,
    "partner",
    partner_id,
    PartnerUpdated { partner_id: "partner_sample".into(), plan: "business".into(), suspended: false }
);

/// A dashboard invitation or password-reset link was issued (internal, for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInvited {
    pub user_id: String,
    pub email: String,
    /// `invitation` or `reset`.
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
}
payload!(
    UserInvited,
    types::USER_INVITED,
    "user",
    user_id,
    UserInvited {
        user_id: "user_sample".into(),
        email: "admin@acme.example".into(),
        purpose: "invitation".into(),
        expires_at: DateTime::UNIX_EPOCH,
    }
);

/// A user set their dashboard password through a link (internal, for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPasswordSet {
    pub user_id: String,
}
payload!(UserPasswordSet, types::USER_PASSWORD_SET, "user", user_id, UserPasswordSet { user_id: "user_sample".into() });

// Listings and their content.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingCreated {
    pub listing_id: String,
    pub title: String,
    pub status: ListingStatus,
    pub marketplace: String,
    pub seo_score: u32,
}
payload!(
    ListingCreated,
    types::LISTING_CREATED,
    "listing",
    listing_id,
    ListingCreated {
        listing_id: "listing_sample".into(),
        title: "Enterprise Security Suite".into(),
        status: ListingStatus::Draft,
        marketplace: "aws".into(),
        seo_score: 42,
    }
);

/// The fields of a listing that changed; absent ones did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_description: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_description: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Change<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Change<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Change<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Change<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Change<ListingStatus>>,
}

impl ListingChanges {
    pub fn is_empty(&self) -> bool {
        self == &ListingChanges::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingUpdated {
    pub listing_id: String,
    pub changes: ListingChanges,
}
payload!(
    ListingUpdated,
    types::LISTING_UPDATED,
    "listing",
    listing_id,
    ListingUpdated {
        listing_id: "listing_sample".into(),
        changes: ListingChanges {
            title: Change::between("Old Title".into(), "New Title".into()),
            ..Default::default()
        },
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeoScoreChanged {
    pub listing_id: String,
    pub old_score: u32,
    pub new_score: u32,
    pub grade: String,
}
payload!(
    SeoScoreChanged,
    types::SEO_SCORE_CHANGED,
    "listing",
    listing_id,
    SeoScoreChanged { listing_id: "listing_sample".into(), old_score: 62, new_score: 85, grade: "A".into() }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentGenerated {
    pub listing_id: String,
    pub draft_id: String,
    pub seo_score: u32,
    pub projected_seo_score: u32,
}
payload!(
    ContentGenerated,
    types::CONTENT_GENERATED,
    "listing",
    listing_id,
    ContentGenerated {
        listing_id: "listing_sample".into(),
        draft_id: "draft_sample".into(),
        seo_score: 62,
        projected_seo_score: 85,
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentPublished {
    pub listing_id: String,
    pub draft_id: String,
    pub seo_score: u32,
}
payload!(
    ContentPublished,
    types::CONTENT_PUBLISHED,
    "listing",
    listing_id,
    ContentPublished { listing_id: "listing_sample".into(), draft_id: "draft_sample".into(), seo_score: 85 }
);

// Co-sell.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityCreated {
    pub opportunity_id: String,
    pub customer_name: String,
    pub deal_value: Amount,
    pub status: OpportunityStatus,
    pub owner_partner_id: String,
    /// The co-sell partner.
    pub partner_id: String,
    pub expected_close_date: Option<NaiveDate>,
}
payload!(
    OpportunityCreated,
    types::OPPORTUNITY_CREATED,
    "opportunity",
    opportunity_id,
    OpportunityCreated {
        opportunity_id: "opp_sample".into(),
        customer_name: "Global Corp".into(),
        deal_value: Amount::from_cents(5_000_000),
        status: OpportunityStatus::Open,
        owner_partner_id: "partner_sample".into(),
        partner_id: "partner_other".into(),
        expected_close_date: NaiveDate::from_ymd_opt(2025, 3, 15),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityStatusChanged {
    pub opportunity_id: String,
    pub from: OpportunityStatus,
    pub to: OpportunityStatus,
}
payload!(
    OpportunityStatusChanged,
    types::OPPORTUNITY_STATUS_CHANGED,
    "opportunity",
    opportunity_id,
    OpportunityStatusChanged {
        opportunity_id: "opp_sample".into(),
        from: OpportunityStatus::Open,
        to: OpportunityStatus::InProgress,
    }
);

/// The fields of an opportunity that changed (status changes are their own event). Declared
/// in name order: readers list changes in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_value: Option<Change<Amount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_close_date: Option<Change<Option<NaiveDate>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Change<String>>,
}

impl OpportunityChanges {
    pub fn is_empty(&self) -> bool {
        self == &OpportunityChanges::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityUpdated {
    pub opportunity_id: String,
    pub changes: OpportunityChanges,
}
payload!(
    OpportunityUpdated,
    types::OPPORTUNITY_UPDATED,
    "opportunity",
    opportunity_id,
    OpportunityUpdated {
        opportunity_id: "opp_sample".into(),
        changes: OpportunityChanges {
            deal_value: Change::between(Amount::from_cents(5_000_000), Amount::from_cents(8_000_000)),
            ..Default::default()
        },
    }
);

// Analytics.

crate::str_enum! {
    /// Why a report was made.
    pub enum ReportTrigger {
        OnDemand = "on_demand",
        Scheduled = "scheduled",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportGenerated {
    pub report_id: String,
    #[serde(rename = "type")]
    pub report_type: String,
    /// A period name (`30d`) or, for monthly reports, the month (`2025-01`).
    pub period: String,
    pub trigger: ReportTrigger,
}
payload!(
    ReportGenerated,
    types::REPORT_GENERATED,
    "report",
    report_id,
    ReportGenerated {
        report_id: "report_sample".into(),
        report_type: "partner_performance".into(),
        period: Period::Days30.as_str().into(),
        trigger: ReportTrigger::OnDemand,
    }
);

// Webhook registry changes (internal: audited, never delivered).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookState {
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
}

fn webhook_example() -> WebhookState {
    WebhookState {
        webhook_id: "webhook_sample".into(),
        url: "https://example.com/hooks/partnerd".into(),
        events: vec![types::LISTING_CREATED.into()],
        active: true,
    }
}

macro_rules! webhook_payload {
    ($name:ident, $type:path) => {
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub WebhookState);
        impl EventPayload for $name {
            const TYPE: &'static str = $type;
            const SUBJECT: &'static str = "webhook";
            fn subject_id(&self) -> &str {
                &self.0.webhook_id
            }
            fn example() -> Self {
                $name(webhook_example())
            }
        }
    };
}
webhook_payload!(WebhookCreated, types::WEBHOOK_CREATED);
webhook_payload!(WebhookUpdated, types::WEBHOOK_UPDATED);
webhook_payload!(WebhookSecretRotated, types::WEBHOOK_SECRET_ROTATED);

// Reseller events: in the catalog for subscribers; produced once customers are modelled.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerCreated {
    pub customer_id: String,
    pub company_name: String,
    pub plan: String,
}
payload!(
    CustomerCreated,
    types::CUSTOMER_CREATED,
    "customer",
    customer_id,
    CustomerCreated {
        customer_id: "customer_sample".into(),
        company_name: "Acme Corporation".into(),
        plan: "professional".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerUpgraded {
    pub customer_id: String,
    pub from_plan: String,
    pub to_plan: String,
}
payload!(
    CustomerUpgraded,
    types::CUSTOMER_UPGRADED,
    "customer",
    customer_id,
    CustomerUpgraded {
        customer_id: "customer_sample".into(),
        from_plan: "starter".into(),
        to_plan: "professional".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerCancelled {
    pub customer_id: String,
    pub reason: String,
}
payload!(
    CustomerCancelled,
    types::CUSTOMER_CANCELLED,
    "customer",
    customer_id,
    CustomerCancelled { customer_id: "customer_sample".into(), reason: "cancelled by customer".into() }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionEarned {
    pub commission_id: String,
    pub customer_id: String,
    pub amount: Amount,
    pub currency: String,
}
payload!(
    CommissionEarned,
    types::COMMISSION_EARNED,
    "commission",
    commission_id,
    CommissionEarned {
        commission_id: "commission_sample".into(),
        customer_id: "customer_sample".into(),
        amount: Amount::from_cents(12_050),
        currency: "USD".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceGenerated {
    pub invoice_id: String,
    pub customer_id: String,
    pub total: Amount,
    pub currency: String,
}
payload!(
    InvoiceGenerated,
    types::INVOICE_GENERATED,
    "invoice",
    invoice_id,
    InvoiceGenerated {
        invoice_id: "invoice_sample".into(),
        customer_id: "customer_sample".into(),
        total: Amount::from_cents(120_500),
        currency: "USD".into(),
    }
);

/// The operator marked the invoice paid (`partnerd invoices mark --status paid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePaid {
    pub invoice_id: String,
    pub number: String,
    pub customer_id: String,
    pub total: Amount,
    pub currency: String,
    /// `open` or `uncollectible`.
    pub previous_status: String,
}
payload!(
    InvoicePaid,
    types::INVOICE_PAID,
    "invoice",
    invoice_id,
    InvoicePaid {
        invoice_id: "invoice_sample".into(),
        number: "INV-000042".into(),
        customer_id: "customer_sample".into(),
        total: Amount::from_cents(120_500),
        currency: "USD".into(),
        previous_status: "open".into(),
    }
);

/// The operator voided the invoice: its commission is reversed and any credit balance it
/// applied goes back to the customer's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceVoided {
    pub invoice_id: String,
    pub number: String,
    pub customer_id: String,
    pub total: Amount,
    pub currency: String,
    /// `open` or `uncollectible`.
    pub previous_status: String,
    /// The partner's commission on it, now `reversed`.
    pub commission_reversed: Amount,
    /// Credit balance the invoice had applied, returned to the customer (0 if none).
    pub credit_returned: Amount,
}
payload!(
    InvoiceVoided,
    types::INVOICE_VOIDED,
    "invoice",
    invoice_id,
    InvoiceVoided {
        invoice_id: "invoice_sample".into(),
        number: "INV-000042".into(),
        customer_id: "customer_sample".into(),
        total: Amount::from_cents(120_500),
        currency: "USD".into(),
        previous_status: "open".into(),
        commission_reversed: Amount::from_cents(24_100),
        credit_returned: Amount::from_cents(3_267),
    }
);

/// The operator marked the invoice uncollectible (it may still be paid or voided; its
/// commission stands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMarkedUncollectible {
    pub invoice_id: String,
    pub number: String,
    pub customer_id: String,
    pub total: Amount,
    pub currency: String,
}
payload!(
    InvoiceMarkedUncollectible,
    types::INVOICE_MARKED_UNCOLLECTIBLE,
    "invoice",
    invoice_id,
    InvoiceMarkedUncollectible {
        invoice_id: "invoice_sample".into(),
        number: "INV-000042".into(),
        customer_id: "customer_sample".into(),
        total: Amount::from_cents(120_500),
        currency: "USD".into(),
    }
);

// AppReseller accounts (internal: in the event log, not yet in the webhook catalog).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyCreated {
    pub company_id: String,
    pub name: String,
    pub external_id: Option<String>,
    /// The reseller company it was created by and linked to.
    pub created_by_company_id: Option<String>,
}
payload!(
    CompanyCreated,
    types::COMPANY_CREATED,
    "company",
    company_id,
    CompanyCreated {
        company_id: "company_sample".into(),
        name: "Acme Corporation".into(),
        external_id: Some("crm-42".into()),
        created_by_company_id: Some("company_reseller".into()),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: String,
    pub email: String,
    pub company_id: String,
    pub roles: Vec<String>,
}
payload!(
    UserCreated,
    types::USER_CREATED,
    "user",
    user_id,
    UserCreated {
        user_id: "user_sample".into(),
        email: "jane@acme.example".into(),
        company_id: "company_sample".into(),
        roles: vec![],
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyAssociationCreated {
    pub association_id: String,
    pub customer_company_id: String,
    pub reseller_company_id: String,
}
payload!(
    CompanyAssociationCreated,
    types::COMPANY_ASSOCIATION_CREATED,
    "company_association",
    association_id,
    CompanyAssociationCreated {
        association_id: "assoc_sample".into(),
        customer_company_id: "company_customer".into(),
        reseller_company_id: "company_reseller".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyAssociationDeleted {
    pub association_id: String,
    pub customer_company_id: String,
    pub reseller_company_id: String,
}
payload!(
    CompanyAssociationDeleted,
    types::COMPANY_ASSOCIATION_DELETED,
    "company_association",
    association_id,
    CompanyAssociationDeleted {
        association_id: "assoc_sample".into(),
        customer_company_id: "company_customer".into(),
        reseller_company_id: "company_reseller".into(),
    }
);

// Leads (Leads API v2). Each carries who acted, which the lead's activities show.

/// The company that acted on a lead and in which capacity: `COMPANY` (a reseller, referral or
/// developer company) or `MARKETPLACE` (a reseller manager, for the marketplace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadActor {
    pub actor_company_id: String,
    pub actor_company_name: String,
    pub verb_context: String,
}

impl LeadActor {
    fn example() -> Self {
        LeadActor {
            actor_company_id: "company_reseller".into(),
            actor_company_name: "Reseller Company".into(),
            verb_context: "COMPANY".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadCreated {
    pub lead_id: String,
    pub lead_type: LeadType,
    pub status: LeadStatus,
    pub customer_company_name: String,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadCreated,
    types::LEAD_CREATED,
    "lead",
    lead_id,
    LeadCreated {
        lead_id: "lead_sample".into(),
        lead_type: LeadType::Manual,
        status: LeadStatus::Assigned,
        customer_company_name: "Acme".into(),
        actor: LeadActor::example(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadAssigned {
    pub lead_id: String,
    pub from: LeadStatus,
    pub assignee_company_id: String,
    pub assignee_company_name: String,
    /// The company it was assigned to before, if any.
    pub previous_company_id: Option<String>,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadAssigned,
    types::LEAD_ASSIGNED,
    "lead",
    lead_id,
    LeadAssigned {
        lead_id: "lead_sample".into(),
        from: LeadStatus::Submitted,
        assignee_company_id: "company_reseller".into(),
        assignee_company_name: "Reseller Company".into(),
        previous_company_id: None,
        actor: LeadActor {
            actor_company_id: "company_operator".into(),
            actor_company_name: "Marketplace".into(),
            verb_context: "MARKETPLACE".into(),
        },
    }
);

/// Which of a lead's editable parts changed (`customer`, `notes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadUpdated {
    pub lead_id: String,
    pub fields: Vec<String>,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadUpdated,
    types::LEAD_UPDATED,
    "lead",
    lead_id,
    LeadUpdated { lead_id: "lead_sample".into(), fields: vec!["notes".into()], actor: LeadActor::example() }
);

/// A move of the lifecycle other than assignment and conversion (which have their own events):
/// conversion requested or approved, deleted, disqualified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadStatusChanged {
    pub lead_id: String,
    pub from: LeadStatus,
    pub to: LeadStatus,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadStatusChanged,
    types::LEAD_STATUS_CHANGED,
    "lead",
    lead_id,
    LeadStatusChanged {
        lead_id: "lead_sample".into(),
        from: LeadStatus::Assigned,
        to: LeadStatus::PendingConversionApproval,
        actor: LeadActor::example(),
    }
);

/// The lead linked to an existing marketplace company and user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadCompanyAssociated {
    pub lead_id: String,
    pub company_id: String,
    pub company_name: String,
    pub user_id: String,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadCompanyAssociated,
    types::LEAD_COMPANY_ASSOCIATED,
    "lead",
    lead_id,
    LeadCompanyAssociated {
        lead_id: "lead_sample".into(),
        company_id: "company_customer".into(),
        company_name: "Acme".into(),
        user_id: "user_customer".into(),
        actor: LeadActor::example(),
    }
);

/// The lead became a marketplace company and user, associated with the converting reseller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadConverted {
    pub lead_id: String,
    pub company_id: String,
    pub company_name: String,
    pub user_id: String,
    /// `false` when the lead was linked to an existing company and user.
    pub created: bool,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadConverted,
    types::LEAD_CONVERTED,
    "lead",
    lead_id,
    LeadConverted {
        lead_id: "lead_sample".into(),
        company_id: "company_customer".into(),
        company_name: "Acme".into(),
        user_id: "user_customer".into(),
        created: true,
        actor: LeadActor::example(),
    }
);

/// A catalog product written by an import (created, or updated in place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImported {
    pub product_id: String,
    pub name: String,
    /// `false` when the import updated a product of the same name.
    pub created: bool,
}
payload!(
    ProductImported,
    types::PRODUCT_IMPORTED,
    "product",
    product_id,
    ProductImported { product_id: "product_sample".into(), name: "HelpDesk".into(), created: true }
);

// Support tickets: `ticket.created` and `ticket.updated` are in the webhook catalog (partnerd
// additions to the reseller document's five); comments and ratings stay in the log, where the
// ticket's history reads them.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketCreated {
    pub ticket_id: String,
    pub customer_id: String,
    pub subject: String,
    pub priority: TicketPriority,
    pub category: TicketCategory,
    pub status: TicketStatus,
}
payload!(
    TicketCreated,
    types::TICKET_CREATED,
    "ticket",
    ticket_id,
    TicketCreated {
        ticket_id: "ticket_sample".into(),
        customer_id: "customer_sample".into(),
        subject: "Integration Issue".into(),
        priority: TicketPriority::High,
        category: TicketCategory::Technical,
        status: TicketStatus::Open,
    }
);

/// What a ticket update changed; a field that did not change is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Change<TicketStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Change<TicketPriority>>,
}

impl TicketChanges {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.priority.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketUpdated {
    pub ticket_id: String,
    pub customer_id: String,
    pub changes: TicketChanges,
}
payload!(
    TicketUpdated,
    types::TICKET_UPDATED,
    "ticket",
    ticket_id,
    TicketUpdated {
        ticket_id: "ticket_sample".into(),
        customer_id: "customer_sample".into(),
        changes: TicketChanges {
            status: Some(Change { old: TicketStatus::Open, new: TicketStatus::InProgress }),
            priority: Some(Change { old: TicketPriority::High, new: TicketPriority::Urgent }),
        },
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketCommented {
    pub ticket_id: String,
    pub comment_id: String,
    pub author: CommentAuthor,
    pub body: String,
}
payload!(
    TicketCommented,
    types::TICKET_COMMENTED,
    "ticket",
    ticket_id,
    TicketCommented {
        ticket_id: "ticket_sample".into(),
        comment_id: "comment_sample".into(),
        author: CommentAuthor::Partner,
        body: "We are looking into it.".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRated {
    pub ticket_id: String,
    pub rating: u8,
    pub comment: Option<String>,
}
payload!(
    TicketRated,
    types::TICKET_RATED,
    "ticket",
    ticket_id,
    TicketRated { ticket_id: "ticket_sample".into(), rating: 5, comment: Some("Fixed quickly".into()) }
);

/// A batch of usage records from the operator's platform that added at least one new record
/// (operator-only: not in the webhook catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageIngested {
    pub batch_id: String,
    /// Records in the batch (new and already known).
    pub records: u64,
    /// Distinct customers the batch reports on.
    pub customers: u64,
}
payload!(
    UsageIngested,
    types::USAGE_INGESTED,
    "usage_batch",
    batch_id,
    UsageIngested { batch_id: "usagebatch_sample".into(), records: 1000, customers: 12 }
);

// White-label and configuration deploys: audit-log events of the customer account (not in
// the webhook catalog: the reseller document lists five partner events, these are not among
// them).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingUpdated {
    pub customer_id: String,
    /// The fields that changed (`logo_url`, `primary_color`, `secondary_color`, `custom_domain`).
    pub changed: Vec<String>,
}
payload!(
    BrandingUpdated,
    types::BRANDING_UPDATED,
    "customer",
    customer_id,
    BrandingUpdated { customer_id: "customer_sample".into(), changed: vec!["primary_color".into()] }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailTemplatesUpdated {
    pub customer_id: String,
    /// Every template customised after the change.
    pub customized: Vec<String>,
    /// The templates whose content changed (customised, edited or reset to the default).
    pub changed: Vec<String>,
}
payload!(
    EmailTemplatesUpdated,
    types::EMAIL_TEMPLATES_UPDATED,
    "customer",
    customer_id,
    EmailTemplatesUpdated {
        customer_id: "customer_sample".into(),
        customized: vec!["welcome".into()],
        changed: vec!["welcome".into()],
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationDeployed {
    pub customer_id: String,
    pub deployment_id: String,
    pub version: i64,
    pub config_hash: String,
    pub changes: crate::deploy::ConfigChanges,
}
payload!(
    ConfigurationDeployed,
    types::CONFIGURATION_DEPLOYED,
    "customer",
    customer_id,
    ConfigurationDeployed {
        customer_id: "customer_sample".into(),
        deployment_id: "deploy_sample".into(),
        version: 2,
        config_hash: "sha256:0000000000000000000000000000000000000000000000000000000000000000".into(),
        changes: crate::deploy::ConfigChanges::default(),
    }
);

// Sandboxes: events of the owner's marketplace, in the webhook catalog (partnerd additions).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxCreated {
    /// Also the sandbox's marketplace id.
    pub sandbox_id: String,
    pub name: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}
payload!(
    SandboxCreated,
    types::SANDBOX_CREATED,
    "sandbox",
    sandbox_id,
    SandboxCreated {
        sandbox_id: "sbx_sample".into(),
        name: "Demo sandbox".into(),
        expires_at: chrono::DateTime::from_timestamp(1_736_937_000, 0).unwrap_or_default(),
    }
);

crate::str_enum! {
    /// Why a sandbox was removed.
    pub enum SandboxRemoval { Deleted = "deleted", Expired = "expired", Abandoned = "abandoned" }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxDeleted {
    pub sandbox_id: String,
    pub reason: SandboxRemoval,
}
payload!(
    SandboxDeleted,
    types::SANDBOX_DELETED,
    "sandbox",
    sandbox_id,
    SandboxDeleted { sandbox_id: "sbx_sample".into(), reason: SandboxRemoval::Expired }
);

// AppReseller subscriptions, orders and seats: events of the reseller's partner, in the webhook
// catalog (partnerd additions).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionCreated {
    pub subscription_id: String,
    pub company_id: String,
    pub user_id: String,
    pub product_id: String,
    pub edition_id: String,
    pub payment_plan_id: String,
    pub order_id: String,
    pub order_lines: Vec<crate::subscription::OrderLine>,
    pub total: Amount,
    pub currency: String,
}
payload!(
    SubscriptionCreated,
    types::SUBSCRIPTION_CREATED,
    "subscription",
    subscription_id,
    SubscriptionCreated {
        subscription_id: "sub_sample".into(),
        company_id: "company_customer".into(),
        user_id: "user_customer".into(),
        product_id: "product_sample".into(),
        edition_id: "edition_sample".into(),
        payment_plan_id: "plan_sample".into(),
        order_id: "order_sample".into(),
        order_lines: vec![crate::subscription::OrderLine { unit: crate::catalog::PricingUnit::User, quantity: 5 }],
        total: Amount::from_cents(35_000),
        currency: "USD".into(),
    }
);

/// A quantity or payment-plan change: the new active order replaces the old one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionChanged {
    pub subscription_id: String,
    pub previous_order_id: String,
    pub order_id: String,
    pub payment_plan_id: Change<String>,
    pub order_lines: Change<Vec<crate::subscription::OrderLine>>,
    pub total: Change<Amount>,
    pub currency: String,
}
payload!(
    SubscriptionChanged,
    types::SUBSCRIPTION_CHANGED,
    "subscription",
    subscription_id,
    SubscriptionChanged {
        subscription_id: "sub_sample".into(),
        previous_order_id: "order_sample".into(),
        order_id: "order_sample_2".into(),
        payment_plan_id: Change { old: "plan_sample".into(), new: "plan_sample".into() },
        order_lines: Change {
            old: vec![crate::subscription::OrderLine { unit: crate::catalog::PricingUnit::User, quantity: 5 }],
            new: vec![crate::subscription::OrderLine { unit: crate::catalog::PricingUnit::User, quantity: 15 }],
        },
        total: Change { old: Amount::from_cents(35_000), new: Amount::from_cents(105_000) },
        currency: "USD".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionCancelled {
    pub subscription_id: String,
    pub company_id: String,
    /// Its last active order, now `CANCELLED` (its seats are unassigned with it).
    pub order_id: String,
}
payload!(
    SubscriptionCancelled,
    types::SUBSCRIPTION_CANCELLED,
    "subscription",
    subscription_id,
    SubscriptionCancelled {
        subscription_id: "sub_sample".into(),
        company_id: "company_customer".into(),
        order_id: "order_sample".into(),
    }
);

/// A recurring subscription's period ended and the next began: its active order is invoiced
/// for the new period (no invoice for a free order or a reseller company that is no partner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRenewed {
    pub subscription_id: String,
    pub company_id: String,
    pub order_id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub invoice_id: Option<String>,
    pub total: Amount,
    pub currency: String,
}
payload!(
    SubscriptionRenewed,
    types::SUBSCRIPTION_RENEWED,
    "subscription",
    subscription_id,
    SubscriptionRenewed {
        subscription_id: "sub_sample".into(),
        company_id: "company_customer".into(),
        order_id: "order_sample".into(),
        period_start: DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
        period_end: DateTime::<Utc>::from_timestamp(1_769_904_000, 0).unwrap_or_default(),
        invoice_id: Some("inv_sample".into()),
        total: Amount::from_cents(35_000),
        currency: "USD".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: String,
    pub subscription_id: String,
    pub company_id: String,
    pub status: crate::subscription::OrderStatus,
    pub total: Amount,
    pub currency: String,
    /// The invoice the order was billed on, when it was.
    pub invoice_id: Option<String>,
}
payload!(
    OrderCreated,
    types::ORDER_CREATED,
    "order",
    order_id,
    OrderCreated {
        order_id: "order_sample".into(),
        subscription_id: "sub_sample".into(),
        company_id: "company_customer".into(),
        status: crate::subscription::OrderStatus::Active,
        total: Amount::from_cents(35_000),
        currency: "USD".into(),
        invoice_id: Some("inv_sample".into()),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatAssigned {
    pub assignment_id: String,
    pub subscription_id: String,
    pub user_id: String,
}
payload!(
    SeatAssigned,
    types::SEAT_ASSIGNED,
    "subscription_assignment",
    assignment_id,
    SeatAssigned {
        assignment_id: "seat_sample".into(),
        subscription_id: "sub_sample".into(),
        user_id: "user_customer".into()
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatUnassigned {
    pub assignment_id: String,
    pub subscription_id: String,
    pub user_id: String,
}
payload!(
    SeatUnassigned,
    types::SEAT_UNASSIGNED,
    "subscription_assignment",
    assignment_id,
    SeatUnassigned {
        assignment_id: "seat_sample".into(),
        subscription_id: "sub_sample".into(),
        user_id: "user_customer".into()
    }
);

// AppReseller opportunities ("quotes"). Created, review requested and finalized are in the
// webhook catalog; changes (items, PATCH) are internal.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteCreated {
    pub quote_id: String,
    pub friendly_id: String,
    pub customer_company_id: String,
    pub customer_user_id: String,
    pub owner_user_id: String,
    pub items: usize,
    pub total: Amount,
    pub currency: String,
}
payload!(
    QuoteCreated,
    types::QUOTE_CREATED,
    "quote",
    quote_id,
    QuoteCreated {
        quote_id: "quote_sample".into(),
        friendly_id: "I4HNJM".into(),
        customer_company_id: "company_customer".into(),
        customer_user_id: "user_customer".into(),
        owner_user_id: "user_reseller".into(),
        items: 1,
        total: Amount::from_cents(41_00),
        currency: "USD".into(),
    }
);

/// A quote's name, owner, dates or items changed, or its review was completed (`what`:
/// `updated`, `item_added`, `item_edited`, `item_removed`, `review_completed`). The quote's
/// state is read from the quote; the event says what moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteChanged {
    pub quote_id: String,
    pub what: String,
    pub item_id: Option<String>,
    pub total: Amount,
}
payload!(
    QuoteChanged,
    types::QUOTE_CHANGED,
    "quote",
    quote_id,
    QuoteChanged {
        quote_id: "quote_sample".into(),
        what: "item_added".into(),
        item_id: Some("item_sample".into()),
        total: Amount::from_cents(41_00),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteReviewRequested {
    pub quote_id: String,
    pub requested_by_company_id: String,
}
payload!(
    QuoteReviewRequested,
    types::QUOTE_REVIEW_REQUESTED,
    "quote",
    quote_id,
    QuoteReviewRequested { quote_id: "quote_sample".into(), requested_by_company_id: "company_reseller".into() }
);

/// The quote was bought: one subscription (with its first order) per item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteFinalized {
    pub quote_id: String,
    pub purchase_id: String,
    pub customer_company_id: String,
    pub subscription_ids: Vec<String>,
    pub order_ids: Vec<String>,
    pub total: Amount,
    pub currency: String,
}
payload!(
    QuoteFinalized,
    types::QUOTE_FINALIZED,
    "quote",
    quote_id,
    QuoteFinalized {
        quote_id: "quote_sample".into(),
        purchase_id: "purchase_sample".into(),
        customer_company_id: "company_customer".into(),
        subscription_ids: vec!["sub_sample".into()],
        order_ids: vec!["order_sample".into()],
        total: Amount::from_cents(41_00),
        currency: "USD".into(),
    }
);

/// A quote was made for the customer a lead became (the lead's `LEAD_QUOTE_LINKED` activity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadQuoteLinked {
    pub lead_id: String,
    pub quote_id: String,
    pub friendly_id: String,
    pub application_name: String,
    #[serde(flatten)]
    pub actor: LeadActor,
}
payload!(
    LeadQuoteLinked,
    types::LEAD_QUOTE_LINKED,
    "lead",
    lead_id,
    LeadQuoteLinked {
        lead_id: "lead_sample".into(),
        quote_id: "quote_sample".into(),
        friendly_id: "I4HNJM".into(),
        application_name: "Suite".into(),
        actor: LeadActor::example(),
    }
);

// AppReseller payment methods (internal: not in the webhook catalog). Never the card's number
// or security code; the seller company's partner sees them.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodCreated {
    pub payment_method_id: String,
    pub company_id: String,
    pub owner_user_id: String,
    pub brand: String,
}
payload!(
    PaymentMethodCreated,
    types::PAYMENT_METHOD_CREATED,
    "payment_method",
    payment_method_id,
    PaymentMethodCreated {
        payment_method_id: "pm_sample".into(),
        company_id: "company_sample".into(),
        owner_user_id: "user_sample".into(),
        brand: "VISA".into(),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodDeleted {
    pub payment_method_id: String,
}
payload!(
    PaymentMethodDeleted,
    types::PAYMENT_METHOD_DELETED,
    "payment_method",
    payment_method_id,
    PaymentMethodDeleted { payment_method_id: "pm_sample".into() }
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trips<P: EventPayload + PartialEq + std::fmt::Debug>() {
        let p = P::example();
        assert_eq!(from_stored::<P>(&to_stored(&p)).as_ref(), Some(&p), "{}", P::TYPE);
        let e = NewEvent::of(&p);
        assert_eq!((e.event_type, e.subject_type, e.subject_id.as_str()), (P::TYPE, P::SUBJECT, p.subject_id()));
    }

    #[test]
    fn every_payload_reads_back_what_it_stored() {
        round_trips::<BrandingUpdated>();
        round_trips::<EmailTemplatesUpdated>();
        round_trips::<ConfigurationDeployed>();
        round_trips::<MarketplaceCreated>();
        round_trips::<PartnerCreated>();
        round_trips::<ApiKeyCreated>();
        round_trips::<ApiKeyRevoked>();
        round_trips::<ListingCreated>();
        round_trips::<ListingUpdated>();
        round_trips::<SeoScoreChanged>();
        round_trips::<ContentGenerated>();
        round_trips::<ContentPublished>();
        round_trips::<OpportunityCreated>();
        round_trips::<OpportunityStatusChanged>();
        round_trips::<OpportunityUpdated>();
        round_trips::<ReportGenerated>();
        round_trips::<WebhookCreated>();
        round_trips::<WebhookUpdated>();
        round_trips::<WebhookSecretRotated>();
        round_trips::<CustomerCreated>();
        round_trips::<CustomerUpgraded>();
        round_trips::<CustomerCancelled>();
        round_trips::<CommissionEarned>();
        round_trips::<InvoiceGenerated>();
        round_trips::<InvoicePaid>();
        round_trips::<InvoiceVoided>();
        round_trips::<InvoiceMarkedUncollectible>();
        round_trips::<CompanyCreated>();
        round_trips::<UserCreated>();
        round_trips::<CompanyAssociationCreated>();
        round_trips::<CompanyAssociationDeleted>();
        round_trips::<LeadCreated>();
        round_trips::<LeadAssigned>();
        round_trips::<LeadUpdated>();
        round_trips::<LeadStatusChanged>();
        round_trips::<LeadCompanyAssociated>();
        round_trips::<LeadConverted>();
        round_trips::<ProductImported>();
        round_trips::<TicketCreated>();
        round_trips::<TicketUpdated>();
        round_trips::<TicketCommented>();
        round_trips::<TicketRated>();
        round_trips::<UsageIngested>();
        round_trips::<SandboxCreated>();
        round_trips::<SandboxDeleted>();
        round_trips::<SubscriptionCreated>();
        round_trips::<SubscriptionChanged>();
        round_trips::<SubscriptionCancelled>();
        round_trips::<SubscriptionRenewed>();
        round_trips::<OrderCreated>();
        round_trips::<SeatAssigned>();
        round_trips::<SeatUnassigned>();
        round_trips::<PaymentMethodCreated>();
        round_trips::<PaymentMethodDeleted>();
        round_trips::<QuoteCreated>();
        round_trips::<QuoteChanged>();
        round_trips::<QuoteReviewRequested>();
        round_trips::<QuoteFinalized>();
        round_trips::<LeadQuoteLinked>();
    }

    #[test]
    fn payloads_keep_the_shapes_stored_before_they_were_typed() {
        // What the services wrote with `json!` before these structs: stored rows look like this.
        let created = json!({ "opportunity_id": "opp_1", "customer_name": "Acme", "deal_value": 50000.5,
            "status": "open", "owner_partner_id": "partner_a", "partner_id": "partner_b", "expected_close_date": null });
        let p: OpportunityCreated = from_stored(&created).unwrap();
        assert_eq!(p.deal_value, Amount::from_cents(5_000_050));
        assert_eq!(to_stored(&p), created);

        let updated = json!({ "opportunity_id": "opp_1", "changes": {
            "deal_value": { "old": 50000, "new": 80000.25 },
            "expected_close_date": { "old": null, "new": "2025-03-15" },
            "notes": { "old": "", "new": "called" } } });
        let p: OpportunityUpdated = from_stored(&updated).unwrap();
        assert_eq!(p.changes.notes, Change::between(String::new(), "called".into()));
        assert_eq!(to_stored(&p), updated);

        let listing = json!({ "listing_id": "listing_1", "changes": {
            "status": { "old": "draft", "new": "active" }, "logo_url": { "old": null, "new": "https://x.io/l.png" } } });
        let p: ListingUpdated = from_stored(&listing).unwrap();
        assert_eq!(to_stored(&p), listing);

        let hook = json!({ "webhook_id": "webhook_1", "url": "https://x.io/h", "events": ["listing.created"], "active": false });
        assert_eq!(to_stored(&from_stored::<WebhookUpdated>(&hook).unwrap()), hook);

        let report = json!({ "report_id": "report_1", "type": "partner_performance", "period": "2025-01", "trigger": "scheduled" });
        assert_eq!(to_stored(&from_stored::<ReportGenerated>(&report).unwrap()), report);
    }

    #[test]
    fn a_row_of_another_shape_is_not_read_as_this_one() {
        assert!(from_stored::<OpportunityStatusChanged>(&json!({ "opportunity_id": "o", "from": "open" })).is_none());
        assert!(from_stored::<OpportunityUpdated>(&json!({ "opportunity_id": "o", "changes": 3 })).is_none());
    }

    #[test]
    fn events_carry_their_parties() {
        let e = NewEvent::of(&ApiKeyRevoked { key_id: "key_1".into() })
            .partner(Some("partner_a".into()))
            .related(Some("partner_b".into()))
            .actor(Some("user_1".into()));
        assert_eq!(e.event_type, "api_key.revoked");
        assert_eq!(e.subject_type, "api_key");
        assert_eq!(e.subject_id, "key_1");
        assert_eq!(e.partner_id.as_deref(), Some("partner_a"));
        assert_eq!(e.related_partner_id.as_deref(), Some("partner_b"));
        assert_eq!(e.actor_user_id.as_deref(), Some("user_1"));
        assert_eq!(e.payload, json!({ "key_id": "key_1" }));
    }
}
