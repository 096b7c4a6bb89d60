//! Leads API v2 (`/api/lead/v2/…`), on the family's conventions (`super`): the document's
//! twelve endpoints, its schema names, `{code,message,status}` errors, epoch milliseconds and
//! 0-based pages. Decisions where the document is silent are in the operation descriptions.

use super::{
    ApiJson, Caller, EpochMillis, PageMetadata, PageNumber, PageSize, Query, ResellerError, SortOrderParam,
    context_among, epoch_ms, paging, plausible_id, required,
};
use crate::kernel::{FromParam, Param};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use partnerd_domain::lead::{self as domain, LeadStatusFilter, LeadType};
use partnerd_services::Services;
use partnerd_services::leads::{Activity, CreateLead, LEAD_CONTEXTS, ListLeads, UpdateLead, UserRef};
use partnerd_services::policy::Context;
use partnerd_store::{LeadRecord, LeadSort, SortOrder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Default `size` of both lists (the document's).
const DEFAULT_SIZE: u32 = 50;

/// The Leads API's `context`: RESELLER, REFERRAL, DEVELOPER or RESELLER_MANAGER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LeadContext(Context);
impl FromParam for LeadContext {
    fn from_param(raw: &str) -> Result<Self, String> {
        context_among(raw, &LEAD_CONTEXTS).map(LeadContext)
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct StatusParam(LeadStatusFilter);
impl FromParam for StatusParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        LeadStatusFilter::parse(raw.trim()).map(StatusParam)
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SortFieldParam(LeadSort);
impl FromParam for SortFieldParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "DATE" => Ok(Self(LeadSort::Date)),
            "COMPANY_NAME" => Ok(Self(LeadSort::CompanyName)),
            _ => Err(format!("must be one of: DATE, COMPANY_NAME (got '{raw}')")),
        }
    }
}

macro_rules! doc_enum {
    ($(#[$meta:meta])* $name:ident as $doc:ident { $($v:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(ToSchema)]
        #[schema(as = $doc)]
        #[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
        pub(super) enum $name { $($v),+ }
    };
}
doc_enum! {
    /// The supported lead's API contexts.
    LeadContextName as LeadApiContext { RESELLER, REFERRAL, DEVELOPER, RESELLER_MANAGER }
}
doc_enum! {
    /// Lead type.
    LeadTypeName as LeadType { MANUAL, COMPANY, PRODUCT }
}
doc_enum! {
    /// Lead status.
    LeadStatusName as LeadStatus {
        CONVERTED, DISQUALIFIED, DELETED, PENDING_CONVERSION_APPROVAL, CONVERSION_APPROVED, PENDING_SUBMISSION,
        SUBMITTED, ASSIGNED, LEGACY
    }
}
doc_enum! {
    /// The `status` filter: a status, or PENDING_FOR_MANAGERS (SUBMITTED, PENDING_CONVERSION_APPROVAL) or
    /// ACCEPTED_FOR_MANAGERS (ASSIGNED, CONVERSION_APPROVED, CONVERTED, DELETED, DISQUALIFIED, LEGACY).
    LeadStatusFilterName as LeadStatusFilter {
        CONVERTED, DISQUALIFIED, DELETED, PENDING_CONVERSION_APPROVAL, CONVERSION_APPROVED, PENDING_SUBMISSION,
        SUBMITTED, ASSIGNED, LEGACY, PENDING_FOR_MANAGERS, ACCEPTED_FOR_MANAGERS
    }
}
doc_enum! {
    /// Additional status information (only after the lead is converted).
    LeadResultName as LeadResult { WON }
}
doc_enum! {
    LeadSortFieldName as LeadSortField { DATE, COMPANY_NAME }
}
doc_enum! {
    /// Lead activity action (or verb). The document lists its examples' verbs; the others name
    /// the remaining lifecycle steps alike. LEAD_QUOTE_LINKED: an opportunity (quote) was made for
    /// the company the lead became.
    LeadActivityVerbName as LeadActivityVerb {
        LEAD_CREATED, LEAD_UPDATED, LEAD_ASSIGNED, LEAD_COMPANY_ASSOCIATED, LEAD_CONVERSION_REQUESTED,
        LEAD_CONVERSION_APPROVED, LEAD_CONVERTED, LEAD_DISQUALIFIED, LEAD_DELETED, LEAD_QUOTE_LINKED
    }
}
doc_enum! {
    /// COMPANY: a reseller, referral or developer company acted; MARKETPLACE: a reseller manager.
    LeadActivityVerbContextName as LeadActivityVerbContext { COMPANY, MARKETPLACE }
}
doc_enum! {
    /// The objects an activity refers to.
    LeadActivityResourceName as LeadActivityResource { ACTOR_COMPANY, CONTEXT_COMPANY, CONTEXT_QUOTE }
}

/// Information about the customer's company.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadCustomerCompany)]
pub(super) struct CustomerCompanyDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) city: Option<String>,
    /// Whether a marketplace company is linked (associated or converted); responses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) company_exists: Option<bool>,
    /// The two-letter country code, in ISO 3166 format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) country: Option<String>,
    /// Whether the lead was converted into that company; responses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) linked: Option<bool>,
    /// Required on creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) street1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) street2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) zip: Option<String>,
}

/// Customer contact information.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadCustomerContact)]
pub(super) struct CustomerContactDto {
    /// Required on creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) phone_extension: Option<String>,
}

/// Information about the customer and the customer's company.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LeadCustomer)]
pub(super) struct CustomerDto {
    #[serde(default)]
    pub(super) company: CustomerCompanyDto,
    #[serde(default)]
    pub(super) contact: CustomerContactDto,
}

impl From<CustomerDto> for domain::Customer {
    fn from(c: CustomerDto) -> Self {
        let (co, k) = (c.company, c.contact);
        domain::Customer {
            company: domain::CustomerCompany {
                city: co.city,
                country: co.country,
                name: co.name,
                size: co.size,
                state: co.state,
                street1: co.street1,
                street2: co.street2,
                zip: co.zip,
            },
            contact: domain::CustomerContact {
                email: k.email,
                first_name: k.first_name,
                last_name: k.last_name,
                phone: k.phone,
                phone_extension: k.phone_extension,
            },
        }
    }
}

/// A marketplace user of a company.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadUser)]
pub(super) struct LeadUserDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<String>,
    /// The context the user acted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) role: Option<String>,
}

impl LeadUserDto {
    fn reference(&self) -> UserRef {
        UserRef { id: self.id.clone(), company_id: self.company_id.clone() }
    }
}

/// Information about the marketplace company related to the lead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LeadCompany)]
pub(super) struct LeadCompanyDto {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
}

/// Information about the product related to a lead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LeadProduct)]
pub(super) struct LeadProductDto {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) provider: Option<String>,
}

/// Information about the product edition related to a lead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LeadProductEdition)]
pub(super) struct LeadEditionDto {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
}

/// The person or partner receiving or referring the lead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadParticipant)]
pub(super) struct ParticipantDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) company_name: Option<String>,
    /// CUSTOMER, COMPANY or CHANNEL.
    #[serde(default)]
    pub(super) participant_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) partner: Option<String>,
}

/// The lead creation request (`leadType` and `customer` required; the rest per type).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadCreationRequest)]
pub(super) struct CreationRequest {
    /// The caller (from the API key); if given it must be the caller, else 403.
    #[serde(default)]
    creator: Option<LeadUserDto>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom_attributes: BTreeMap<String, Vec<String>>,
    customer: Option<CustomerDto>,
    #[schema(value_type = Option<LeadTypeName>)]
    lead_type: Option<LeadTypeParam>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    partner: Option<String>,
    #[serde(default)]
    profile_company: Option<LeadCompanyDto>,
    #[serde(default)]
    profile_product: Option<LeadProductDto>,
    #[serde(default)]
    profile_product_edition: Option<LeadEditionDto>,
    /// Only in the RESELLER context, and only the caller.
    #[serde(default)]
    reseller: Option<LeadUserDto>,
}

#[derive(Debug, Clone, Copy)]
struct LeadTypeParam(LeadType);
impl<'de> Deserialize<'de> for LeadTypeParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LeadType::parse(&s).map(LeadTypeParam).map_err(serde::de::Error::custom)
    }
}

/// The lead update request: only the customer's company and contact, and the notes. Any
/// other field is 400.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LeadUpdateRequest)]
pub(super) struct UpdateRequest {
    #[serde(default)]
    customer: Option<CustomerDto>,
    /// `null` or blank clears them.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
}

fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadAssignmentRequest)]
pub(super) struct AssignmentRequest {
    lead_id: Option<String>,
    recipient: Option<ParticipantDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LeadCompanyAssociationRequest)]
pub(super) struct CompanyAssociationRequest {
    lead_id: Option<String>,
    user: Option<LeadUserDto>,
}

/// The lead response. Depending on the action and status, some information might not be available.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LeadResponse)]
pub(super) struct LeadResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    converted_company: Option<LeadCompanyDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    converted_user: Option<LeadUserDto>,
    /// Epoch milliseconds.
    created_on: i64,
    /// Manual leads only.
    #[serde(skip_serializing_if = "Option::is_none")]
    creator: Option<LeadUserDto>,
    #[schema(value_type = Object)]
    custom_attributes: BTreeMap<String, Vec<String>>,
    customer: CustomerDto,
    id: String,
    /// Epoch milliseconds.
    last_modified: i64,
    #[schema(value_type = LeadTypeName)]
    lead_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    partner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_company: Option<LeadCompanyDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_product: Option<LeadProductDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_product_edition: Option<LeadEditionDto>,
    recipient: ParticipantDto,
    referrer: ParticipantDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller: Option<LeadUserDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<LeadResultName>)]
    result: Option<&'static str>,
    #[schema(value_type = LeadStatusName)]
    status: &'static str,
}

impl From<&LeadRecord> for LeadResponse {
    fn from(l: &LeadRecord) -> Self {
        let mut customer = CustomerDto::deserialize(&l.customer).unwrap_or_default();
        if l.converted_company_id.is_some() {
            customer.company.company_exists = Some(true);
            customer.company.linked = Some(l.status == domain::LeadStatus::Converted);
        }
        let channel = || ParticipantDto {
            participant_type: Some("CHANNEL".into()),
            partner: Some(l.partner.clone()),
            ..Default::default()
        };
        let recipient = match &l.recipient_company_id {
            Some(id) => ParticipantDto {
                company_id: Some(id.clone()),
                company_name: l.recipient_company_name.clone(),
                participant_type: Some("COMPANY".into()),
                partner: None,
            },
            None => channel(),
        };
        let stored_referrer = || ParticipantDto::deserialize(&l.referrer).unwrap_or_default();
        // The document's examples show the conversion round trip as a hand-over: while approval
        // is pending the lead sits with the marketplace (recipient CHANNEL, referred by the
        // reseller), and once approved it is handed back (recipient the reseller, referred by
        // CHANNEL). Visibility is unaffected: the assignee is still recorded on the lead.
        let assigned = recipient.company_id.is_some();
        let (recipient, referrer) = match l.status {
            domain::LeadStatus::PendingConversionApproval if assigned => (channel(), recipient),
            domain::LeadStatus::ConversionApproved if assigned => (recipient, channel()),
            _ => (recipient, stored_referrer()),
        };
        let converted = l.status == domain::LeadStatus::Converted;
        LeadResponse {
            converted_company: l
                .converted_company_id
                .clone()
                .map(|id| LeadCompanyDto { id: Some(id), name: l.converted_company_name.clone() }),
            converted_user: l.converted_user_id.clone().map(|id| LeadUserDto {
                company_id: l.converted_company_id.clone(),
                id: Some(id),
                ..Default::default()
            }),
            created_on: epoch_ms(l.created_at),
            creator: (l.lead_type == LeadType::Manual && l.creator_user_id.is_some()).then(|| LeadUserDto {
                company_id: l.creator_company_id.clone(),
                company_name: l.creator_company_name.clone(),
                id: l.creator_user_id.clone(),
                role: l.creator_role.clone(),
            }),
            custom_attributes: BTreeMap::deserialize(&l.custom_attributes).unwrap_or_default(),
            customer,
            id: l.id.clone(),
            last_modified: epoch_ms(l.updated_at),
            lead_type: l.lead_type.as_str(),
            notes: l.notes.clone(),
            partner: l.partner.clone(),
            profile_company: l
                .profile_company_id
                .clone()
                .map(|id| LeadCompanyDto { id: Some(id), name: l.profile_company_name.clone() }),
            profile_product: l.profile_product.as_ref().and_then(|v| LeadProductDto::deserialize(v).ok()),
            profile_product_edition: l.profile_edition.as_ref().and_then(|v| LeadEditionDto::deserialize(v).ok()),
            recipient,
            referrer,
            reseller: l.reseller_user_id.clone().map(|id| LeadUserDto {
                company_id: l.reseller_company_id.clone(),
                id: Some(id),
                ..Default::default()
            }),
            result: converted.then_some("WON"),
            status: l.status.as_str(),
        }
    }
}

/// Paged response as an array of lead objects.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeadPagedReadResponse)]
pub(super) struct LeadPage {
    content: Vec<LeadResponse>,
    page: PageMetadata,
}

/// Information about the assigned lead.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeadAssignmentResponse)]
pub(super) struct AssignmentResponse {
    lead: LeadResponse,
}

/// Information about the lead conversion.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeadConversionResponse)]
pub(super) struct ConversionResponse {
    lead: LeadResponse,
}

/// `LeadQuote`: information about the linked quote (an AppReseller opportunity).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LeadQuote)]
pub(super) struct LeadQuoteDto {
    /// The product of the opportunity's first item (its name when it has none).
    application_name: String,
    /// Six characters, derived from the id.
    friendly_id: String,
    /// The opportunity's id (`/appReseller/v1/opportunities/{id}`).
    id: String,
}

/// Information about the lead activity.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LeadActivity)]
pub(super) struct ActivityDto {
    actor_company: LeadCompanyDto,
    #[schema(value_type = Vec<LeadActivityResourceName>)]
    allowed_resources_access: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_company: Option<LeadCompanyDto>,
    /// The opportunity (quote) linked (`LEAD_QUOTE_LINKED`).
    #[serde(skip_serializing_if = "Option::is_none")]
    context_quote: Option<LeadQuoteDto>,
    /// Epoch milliseconds.
    created_on: i64,
    id: String,
    partner: String,
    #[schema(value_type = LeadActivityVerbName)]
    verb: &'static str,
    #[schema(value_type = LeadActivityVerbContextName)]
    verb_context: String,
}

impl ActivityDto {
    fn of(a: Activity, partner: &str) -> Self {
        let mut resources = vec!["ACTOR_COMPANY"];
        if a.context_company.is_some() {
            resources.push("CONTEXT_COMPANY");
        }
        if a.context_quote.is_some() {
            resources.insert(0, "CONTEXT_QUOTE");
        }
        ActivityDto {
            actor_company: LeadCompanyDto { id: Some(a.actor_company_id), name: Some(a.actor_company_name) },
            allowed_resources_access: resources,
            context_company: a.context_company.map(|(id, name)| LeadCompanyDto { id: Some(id), name: Some(name) }),
            context_quote: a.context_quote.map(|q| LeadQuoteDto {
                application_name: q.application_name,
                friendly_id: q.friendly_id,
                id: q.id,
            }),
            created_on: epoch_ms(a.created_on),
            id: a.id,
            partner: partner.to_owned(),
            verb: a.verb.as_str(),
            verb_context: a.verb_context,
        }
    }
}

/// Paged response as an array of lead activity objects.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeadActivityPagedReadResponse)]
pub(super) struct ActivityPage {
    content: Vec<ActivityDto>,
    page: PageMetadata,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ScopeQuery {
    /// Company ID of the caller: its API key's company (else 403).
    #[param(required = true)]
    company_id: Option<String>,
    /// The supported lead's API contexts.
    #[param(required = true, value_type = LeadContextName)]
    context: Option<Param<LeadContext>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct LeadIdQuery {
    /// Company ID of the caller: its API key's company (else 403).
    #[param(required = true)]
    company_id: Option<String>,
    /// The supported lead's API contexts.
    #[param(required = true, value_type = LeadContextName)]
    context: Option<Param<LeadContext>>,
    /// Lead ID.
    #[param(required = true)]
    lead_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ApprovalQuery {
    /// The supported lead's API contexts.
    #[param(required = true, value_type = LeadContextName)]
    context: Option<Param<LeadContext>>,
    /// Lead ID.
    #[param(required = true)]
    lead_id: Option<String>,
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
    /// Company ID of the caller: its API key's company (else 403).
    #[param(required = true)]
    company_id: Option<String>,
    /// The supported lead's API contexts.
    #[param(required = true, value_type = LeadContextName)]
    context: Option<Param<LeadContext>>,
    /// Created at or after, Unix epoch milliseconds.
    #[param(value_type = Option<i64>)]
    from_date: Option<Param<EpochMillis>>,
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    page: Option<PageNumber>,
    /// Matched, case-insensitively, in the customer company's name and the contact's name and e-mail.
    #[param(max_length = 200)]
    search_text: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 50)]
    size: Option<PageSize>,
    /// Default DATE (creation date); COMPANY_NAME is the customer company's, case-insensitively.
    #[param(value_type = Option<LeadSortFieldName>)]
    sort_field: Option<Param<SortFieldParam>>,
    /// Default DESC.
    #[param(value_type = Option<super::dto::SortOrderName>)]
    sort_order: Option<Param<SortOrderParam>>,
    #[param(value_type = Option<LeadStatusFilterName>)]
    status: Option<Param<StatusParam>>,
    /// Created at or before, Unix epoch milliseconds.
    #[param(value_type = Option<i64>)]
    to_date: Option<Param<EpochMillis>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ActivityQuery {
    /// Company ID of the caller: its API key's company (else 403).
    #[param(required = true)]
    company_id: Option<String>,
    /// The supported lead's API contexts.
    #[param(required = true, value_type = LeadContextName)]
    context: Option<Param<LeadContext>>,
    /// Default DESC.
    #[param(value_type = Option<super::dto::SortOrderName>)]
    creation_date_order: Option<Param<SortOrderParam>>,
    #[param(value_type = Option<i64>)]
    from_date: Option<Param<EpochMillis>>,
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    page: Option<PageNumber>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 50)]
    size: Option<PageSize>,
    #[param(value_type = Option<i64>)]
    to_date: Option<Param<EpochMillis>>,
}

fn scope(context: Option<Param<LeadContext>>, company_id: Option<String>) -> Result<(Context, String), ResellerError> {
    let context = required(context, "context")?.0.0;
    let company = required(company_id.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()), "companyId")?;
    Ok((context, company))
}

fn lead_id(raw: Option<String>) -> Result<String, ResellerError> {
    let id = required(raw.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()), "leadId")?;
    if plausible_id(&id) { Ok(id) } else { Err(ResellerError::not_found("lead")) }
}

fn path_id(id: String) -> Result<String, ResellerError> {
    if plausible_id(&id) { Ok(id) } else { Err(ResellerError::not_found("lead")) }
}

/// Create lead
///
/// ROLE_DEVELOPER, ROLE_REFERRAL, ROLE_RESELLER, ROLE_RESELLER_MANAGER. partnerd's rules where
/// the document is silent: `customer.company.name` and `customer.contact.email` are required;
/// the creator is the caller. A MANUAL lead is owned by the caller's company and, created in a
/// RESELLER, REFERRAL or DEVELOPER context, is ASSIGNED to it at once; created by a reseller
/// manager it is SUBMITTED to the marketplace (CHANNEL) for assignment. A COMPANY lead
/// (profileCompany: a reseller company) is ASSIGNED to that company; a PRODUCT lead
/// (profileProduct and profileProductEdition of the catalog) is SUBMITTED to the marketplace.
/// `partner` defaults to PARTNERD.
#[utoipa::path(post, path = "/leads", tag = "Leads", params(ScopeQuery), request_body = CreationRequest,
    responses((status = 201, description = "Lead created", body = LeadResponse)))]
pub(super) async fn create(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ScopeQuery>,
    ApiJson(body): ApiJson<CreationRequest>,
) -> Result<(StatusCode, Json<LeadResponse>), ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let lead_type = body.lead_type.ok_or_else(|| ResellerError::bad_request("Required field 'leadType' is missing"))?.0;
    let customer = body.customer.ok_or_else(|| ResellerError::bad_request("Required field 'customer' is missing"))?;
    let input = CreateLead {
        lead_type,
        customer: customer.into(),
        notes: body.notes,
        partner: body.partner,
        custom_attributes: body.custom_attributes,
        creator: body.creator.as_ref().map(LeadUserDto::reference),
        reseller: body.reseller.as_ref().map(LeadUserDto::reference),
        profile_company_id: body.profile_company.and_then(|c| c.id),
        profile_product_id: body.profile_product.and_then(|c| c.id),
        profile_edition_id: body.profile_product_edition.and_then(|c| c.id),
    };
    let l = services.leads().create(&p, context, &company, input).await?;
    Ok((StatusCode::CREATED, Json(LeadResponse::from(&l))))
}

/// List leads
///
/// The leads the caller sees in the context (manual leads: their creator; company-profile
/// leads: the profile owner and reseller managers; product-profile leads: reseller managers;
/// any lead: the company it is assigned to while it is; manual leads whose conversion was
/// requested: the reseller managers who approve it). `totalElements` counts only those.
/// Developers do not see product-profile leads (partnerd has no setting opening them).
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/leads", tag = "Leads", params(ListQuery),
    responses((status = 200, description = "Success", body = LeadPage)))]
pub(super) async fn list(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<LeadPage>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let (offset, limit, page, size) = paging(q.page, q.size, DEFAULT_SIZE);
    let search = match q.search_text.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if s.chars().count() > 200 => {
            return Err(ResellerError::invalid("searchText", "must be at most 200 characters"));
        }
        Some(s) => Some(s.to_owned()),
    };
    let filter = ListLeads {
        statuses: q.status.map(|s| s.0.0.statuses()).unwrap_or_default(),
        from: q.from_date.map(|d| d.0.0),
        to: q.to_date.map(|d| d.0.0),
        search,
        sort: q.sort_field.map_or(LeadSort::Date, |s| s.0.0),
        order: q.sort_order.map_or(SortOrder::Desc, |s| s.0.0),
    };
    let window = super::window(q.cursor, offset);
    let found = services.leads().list(&p, context, &company, filter, &window, limit).await?;
    Ok(Json(LeadPage {
        content: found.items.iter().map(LeadResponse::from).collect(),
        page: PageMetadata::paged(page, size, &window, found.total, found.next.as_ref()),
    }))
}

/// Get lead details
#[utoipa::path(get, path = "/leads/{leadId}", tag = "Leads",
    params(("leadId" = String, Path, description = "Lead ID"), ScopeQuery),
    responses((status = 200, description = "Success", body = LeadResponse)))]
pub(super) async fn get(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> Result<Json<LeadResponse>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let l = services.leads().get(&p, context, &company, &path_id(id)?).await?;
    Ok(Json(LeadResponse::from(&l)))
}

/// Update lead
///
/// Only `customer` (its company and contact) and `notes`; any other field is 400, as is a
/// lead that is CONVERTED, DELETED or DISQUALIFIED. `customer` is a patch: a field left out
/// keeps its value, a given one replaces it, an empty string clears it (the company name and
/// the contact e-mail cannot be cleared).
#[utoipa::path(patch, path = "/leads/{leadId}", tag = "Leads",
    params(("leadId" = String, Path, description = "Lead ID"), ScopeQuery), request_body = UpdateRequest,
    responses((status = 200, description = "Success", body = LeadResponse)))]
pub(super) async fn update(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Query(q): Query<ScopeQuery>,
    ApiJson(body): ApiJson<UpdateRequest>,
) -> Result<Json<LeadResponse>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let input = UpdateLead { customer: body.customer.map(Into::into), notes: body.notes };
    let l = services.leads().update(&p, context, &company, &path_id(id)?, input).await?;
    Ok(Json(LeadResponse::from(&l)))
}

/// Discard lead
///
/// The rule partnerd applies: a MANUAL lead discarded by its creator while no other company
/// holds it (unassigned, or assigned to the creator itself) is DELETED; any other discard (a
/// profile lead, a lead assigned to another company, a discard by the assignee or a reseller
/// manager) DISQUALIFIES it. Either way it stays listed under its status. A CONVERTED, DELETED
/// or DISQUALIFIED lead is 400.
#[utoipa::path(delete, path = "/leads/{leadId}", tag = "Leads",
    params(("leadId" = String, Path, description = "Lead ID"), ScopeQuery),
    responses((status = 204, description = "Lead deleted or disqualified")))]
pub(super) async fn discard(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> Result<StatusCode, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    services.leads().discard(&p, context, &company, &path_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List activities
///
/// The lead's history from the event log, newest first unless `creationDateOrder=ASC`.
/// `verbContext` is MARKETPLACE for what a reseller manager did, COMPANY otherwise;
/// `contextCompany` is the company assigned, associated or converted into; `contextQuote` the
/// opportunity made for the company the lead became (`LEAD_QUOTE_LINKED`).
///
/// This list pages by `page` only: it is read from the lead's events, not from a keyset
/// index, so it takes no `cursor` and its `page.nextCursor` is always `null`.
#[utoipa::path(get, path = "/leads/{leadId}/activities", tag = "Leads",
    params(("leadId" = String, Path, description = "Lead ID"), ActivityQuery),
    responses((status = 200, description = "Success", body = ActivityPage)))]
pub(super) async fn activities(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Query(q): Query<ActivityQuery>,
) -> Result<Json<ActivityPage>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let (offset, limit, page, size) = paging(q.page, q.size, DEFAULT_SIZE);
    let ascending = q.creation_date_order.is_some_and(|o| o.0.0 == SortOrder::Asc);
    let id = path_id(id)?;
    let leads = services.leads();
    let (from, to) = (q.from_date.map(|d| d.0.0), q.to_date.map(|d| d.0.0));
    let (rows, total) = leads.activities(&p, context, &company, &id, ascending, from, to, offset, limit).await?;
    let partner = leads.get(&p, context, &company, &id).await?.partner;
    Ok(Json(ActivityPage {
        content: rows.into_iter().map(|a| ActivityDto::of(a, &partner)).collect(),
        page: PageMetadata::new(page, size, total),
    }))
}

/// Assign lead
///
/// ROLE_RESELLER_MANAGER. `recipient` is a COMPANY participant naming a reseller company;
/// a SUBMITTED or ASSIGNED lead (re)assigned. The previous assignee stops seeing it.
#[utoipa::path(post, path = "/assignment", tag = "Leads", params(ScopeQuery), request_body = AssignmentRequest,
    responses((status = 201, description = "Lead assigned", body = AssignmentResponse)))]
pub(super) async fn assign(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ScopeQuery>,
    ApiJson(body): ApiJson<AssignmentRequest>,
) -> Result<(StatusCode, Json<AssignmentResponse>), ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let id = body.lead_id.ok_or_else(|| ResellerError::bad_request("Required field 'leadId' is missing"))?;
    let recipient =
        body.recipient.ok_or_else(|| ResellerError::bad_request("Required field 'recipient' is missing"))?;
    if recipient.participant_type.as_deref() != Some("COMPANY") {
        return Err(ResellerError::bad_request(
            "Invalid value for field 'recipient.participantType': a lead is assigned to a COMPANY",
        ));
    }
    let Some(to) = recipient.company_id.filter(|c| !c.trim().is_empty()) else {
        return Err(ResellerError::bad_request("Required field 'recipient.companyId' is missing"));
    };
    if !plausible_id(&id) || !plausible_id(&to) {
        return Err(ResellerError::not_found(if plausible_id(&id) { "company" } else { "lead" }));
    }
    let l = services.leads().assign(&p, context, &company, &id, &to).await?;
    Ok((StatusCode::CREATED, Json(AssignmentResponse { lead: LeadResponse::from(&l) })))
}

/// Associate lead
///
/// ROLE_RESELLER (a customer company associated with the caller), ROLE_RESELLER_MANAGER (any
/// company). `user` must be a member of `user.companyId`. The lead's status does not change;
/// a later conversion uses this company and user.
#[utoipa::path(post, path = "/companyAssociation", tag = "Leads", params(ScopeQuery),
    request_body = CompanyAssociationRequest,
    responses((status = 200, description = "Lead associated", body = LeadResponse)))]
pub(super) async fn associate(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ScopeQuery>,
    ApiJson(body): ApiJson<CompanyAssociationRequest>,
) -> Result<Json<LeadResponse>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let id = lead_id(body.lead_id)?;
    let user = body.user.ok_or_else(|| ResellerError::bad_request("Required field 'user' is missing"))?;
    let l = services.leads().associate_company(&p, context, &company, &id, &user.reference()).await?;
    Ok(Json(LeadResponse::from(&l)))
}

/// Convert lead
///
/// ROLE_RESELLER, the company the lead is assigned to (another is 403); the lead must be
/// CONVERSION_APPROVED (else 400 naming its status). Creates the customer company and its
/// contact user from `customer` (or uses those of `POST /companyAssociation`), associates the
/// company with the converting reseller, all in one transaction. 409 `EMAIL_TAKEN` when the
/// contact's e-mail is an existing user's (associate the lead with that user first).
#[utoipa::path(post, path = "/conversion", tag = "Leads", params(LeadIdQuery),
    responses((status = 200, description = "Success", body = ConversionResponse),
        (status = 409, description = "Conflict", body = super::ErrorBody)))]
pub(super) async fn convert(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<LeadIdQuery>,
) -> Result<Json<ConversionResponse>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let l = services.leads().convert(&p, context, &company, &lead_id(q.lead_id)?).await?;
    Ok(Json(ConversionResponse { lead: LeadResponse::from(&l) }))
}

/// Approve conversion request
///
/// ROLE_RESELLER_MANAGER; the lead must be PENDING_CONVERSION_APPROVAL. As in the document's
/// example, the approved lead is handed back: `recipient` is the reseller company again and
/// `referrer` is CHANNEL.
#[utoipa::path(post, path = "/conversionApproval", tag = "Leads", params(ApprovalQuery),
    responses((status = 200, description = "Lead conversion approval successful", body = ConversionResponse)))]
pub(super) async fn approve(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ApprovalQuery>,
) -> Result<Json<ConversionResponse>, ResellerError> {
    let context = required(q.context, "context")?.0.0;
    let l = services.leads().approve_conversion(&p, context, &lead_id(q.lead_id)?).await?;
    Ok(Json(ConversionResponse { lead: LeadResponse::from(&l) }))
}

/// Request conversion approval
///
/// ROLE_RESELLER, the company the lead is assigned to (another is 403); the lead must be
/// ASSIGNED. Reseller managers see the lead from then on, to approve it. As in the document's
/// example, a lead pending approval sits with the marketplace: `recipient` is CHANNEL and
/// `referrer` the requesting reseller company (which still sees it).
#[utoipa::path(post, path = "/conversionRequest", tag = "Leads", params(LeadIdQuery),
    responses((status = 200, description = "Lead conversion request successful", body = ConversionResponse)))]
pub(super) async fn request_conversion(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<LeadIdQuery>,
) -> Result<Json<ConversionResponse>, ResellerError> {
    let (context, company) = scope(q.context, q.company_id)?;
    let l = services.leads().request_conversion(&p, context, &company, &lead_id(q.lead_id)?).await?;
    Ok(Json(ConversionResponse { lead: LeadResponse::from(&l) }))
}
