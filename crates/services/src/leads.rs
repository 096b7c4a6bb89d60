//! Leads API v2: creating, reading, editing and discarding leads, their lifecycle through
//! conversion into a marketplace company, and their activities read from the event log.
//!
//! Every use case takes the caller's AppReseller `context` (which it must hold), checks the
//! endpoint's scope table, and sees a lead only under `domain::lead::visible`: anything else is
//! "not found".

use crate::error::codes;
use crate::policy::{self, Context};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{
    CompanyAssociationCreated, CompanyCreated, EventPayload, LeadActor, LeadAssigned, LeadCompanyAssociated,
    LeadConverted, LeadCreated, LeadQuoteLinked, LeadStatusChanged, LeadUpdated, NewEvent, UserCreated, types,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::lead::{
    self, ActivityVerb, Customer, LeadAction, LeadParties, LeadStatus, LeadType, Viewer, discard_action, transition,
};
use partnerd_store::{
    AssociationRecord, CompanyRecord, EMAIL_TAKEN, LeadConversion, LeadFilter, LeadRecord, LeadSort, NewAccountUser,
    SortOrder, StoreError, UserRecord,
};
use partnerd_store::{Paged, Window};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub struct Leads<'a> {
    pub(crate) services: &'a Services,
}

/// The contexts of the Leads API.
pub const LEAD_CONTEXTS: [Context; 4] =
    [Context::Reseller, Context::Referral, Context::Developer, Context::ResellerManager];
const ANY: &[Context] = &LEAD_CONTEXTS;
const MANAGERS: &[Context] = &[Context::ResellerManager];
const RESELLERS: &[Context] = &[Context::Reseller];
const RESELLERS_AND_MANAGERS: &[Context] = &[Context::Reseller, Context::ResellerManager];

/// The partner code leads carry when the request names none.
pub const DEFAULT_PARTNER: &str = "PARTNERD";

/// A `LeadUser` reference: a user of a company.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRef {
    pub id: Option<String>,
    pub company_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreateLead {
    pub lead_type: LeadType,
    pub customer: Customer,
    pub notes: Option<String>,
    pub partner: Option<String>,
    pub custom_attributes: BTreeMap<String, Vec<String>>,
    pub creator: Option<UserRef>,
    pub reseller: Option<UserRef>,
    pub profile_company_id: Option<String>,
    pub profile_product_id: Option<String>,
    pub profile_edition_id: Option<String>,
}

/// `PATCH`: what is given replaces what is stored.
#[derive(Debug, Clone, Default)]
pub struct UpdateLead {
    pub customer: Option<Customer>,
    /// `Some(None)`: clear the notes.
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct ListLeads {
    pub statuses: Vec<LeadStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub search: Option<String>,
    pub sort: LeadSort,
    pub order: SortOrder,
}

/// One entry of a lead's activities.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub created_on: DateTime<Utc>,
    pub verb: ActivityVerb,
    /// `COMPANY` or `MARKETPLACE`.
    pub verb_context: String,
    pub actor_company_id: String,
    pub actor_company_name: String,
    /// The company the lead was assigned to, associated with or converted into.
    pub context_company: Option<(String, String)>,
    /// The quote made for the lead's customer (`LEAD_QUOTE_LINKED`).
    pub context_quote: Option<LinkedQuote>,
}

/// A lead activity's `contextQuote`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedQuote {
    pub id: String,
    pub friendly_id: String,
    pub application_name: String,
}

/// The caller acting in a context.
struct Acting<'p> {
    p: &'p Principal,
    context: Context,
    company_name: String,
}

impl Acting<'_> {
    fn viewer(&self) -> Viewer<'_> {
        Viewer { company_id: &self.p.company_id, manager: self.context == Context::ResellerManager }
    }

    fn actor(&self) -> LeadActor {
        LeadActor {
            actor_company_id: self.p.company_id.clone(),
            actor_company_name: self.company_name.clone(),
            verb_context: if self.context == Context::ResellerManager { "MARKETPLACE" } else { "COMPANY" }.into(),
        }
    }

    fn event<P: EventPayload>(&self, payload: &P) -> NewEvent {
        NewEvent::of(payload).partner(self.p.partner.as_ref().map(|x| x.id.clone())).actor(Some(self.p.user_id.clone()))
    }
}

fn parties(l: &LeadRecord) -> LeadParties<'_> {
    LeadParties {
        lead_type: l.lead_type,
        owner_company_id: l.owner_company_id.as_deref(),
        assignee_company_id: l.recipient_company_id.as_deref(),
        status: l.status,
    }
}

/// A refused move: 400 naming the lead's current status.
fn refused(message: String) -> ServiceError {
    ServiceError::invalid(ValidationErrors::single("status", message))
}

fn invalid(field: &str, message: &str) -> ServiceError {
    ServiceError::invalid(ValidationErrors::single(field, message))
}

fn company_participant(id: &str, name: &str) -> serde_json::Value {
    json!({ "companyId": id, "companyName": name, "participantType": "COMPANY" })
}

/// The stored customer read back (it was validated when written).
pub fn customer_of(l: &LeadRecord) -> Customer {
    Customer::deserialize(&l.customer).unwrap_or_default()
}

impl Leads<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        self.services.store.as_ref()
    }

    /// 403 unless the caller holds `context`, the endpoint's scope names it, and `company_id`
    /// (when the endpoint takes one) is the caller's company.
    async fn acting<'p>(
        &self,
        p: &'p Principal,
        context: Context,
        company_id: Option<&str>,
        scope: &[Context],
    ) -> Result<Acting<'p>, ServiceError> {
        policy::holds(p, context)?;
        if !scope.contains(&context) {
            return Err(ServiceError::forbidden("api_key", codes::SCOPE_REQUIRED));
        }
        if company_id.is_some_and(|c| c != p.company_id) {
            return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
        }
        let company = self.store().get_company(&p.marketplace_id, &p.company_id).await?;
        Ok(Acting { p, context, company_name: company.map(|c| c.name).unwrap_or_default() })
    }

    async fn visible(&self, a: &Acting<'_>, id: &str) -> Result<LeadRecord, ServiceError> {
        let l = self.store().get_lead(&a.p.marketplace_id, id).await?;
        l.filter(|l| lead::visible(parties(l), a.viewer())).ok_or(ServiceError::not_found("lead"))
    }

    /// The lead assigned to the caller's company (the reseller steps of the lifecycle).
    async fn assigned(&self, a: &Acting<'_>, id: &str) -> Result<LeadRecord, ServiceError> {
        let l = self.visible(a, id).await?;
        if l.recipient_company_id.as_deref() != Some(a.p.company_id.as_str()) {
            return Err(ServiceError::forbidden("lead", codes::NOT_ASSIGNEE));
        }
        Ok(l)
    }

    /// `POST /leads`.
    pub async fn create(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        input: CreateLead,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), ANY).await?;
        let mut errors = ValidationErrors::new();
        let customer = input.customer.validated(&mut errors);
        let notes = lead::notes(&mut errors, input.notes.as_deref());
        let partner = match input.partner.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_PARTNER.to_owned(),
            Some(x) if x.len() <= 50 && x.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => {
                x.to_owned()
            }
            Some(_) => {
                errors.add("partner", "must be a partner code (letters, digits, '_' or '-', at most 50)");
                String::new()
            }
        };
        if input.custom_attributes.len() > 50
            || input
                .custom_attributes
                .iter()
                .any(|(k, v)| k.len() > 100 || v.len() > 50 || v.iter().any(|x| x.len() > 500))
        {
            errors.add("customAttributes", "at most 50 keys of 100 characters, each with at most 50 values of 500");
        }
        // The creator is the caller: a lead cannot be made in another user's name.
        if let Some(c) = &input.creator {
            let spoofed = c.id.as_deref().is_some_and(|u| u != p.user_id)
                || c.company_id.as_deref().is_some_and(|x| x != p.company_id);
            if spoofed {
                return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
            }
        }
        if let Some(r) = &input.reseller {
            if context != Context::Reseller {
                errors.add("reseller", "is set only on leads a reseller creates");
            } else if r.id.as_deref().is_some_and(|u| u != p.user_id)
                || r.company_id.as_deref().is_some_and(|x| x != p.company_id)
            {
                return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
            }
        }
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let (profile_company_id, product_id, edition_id) =
            (given(&input.profile_company_id), given(&input.profile_product_id), given(&input.profile_edition_id));
        match input.lead_type {
            LeadType::Company if profile_company_id.is_none() => errors.add("profileCompany.id", "is required"),
            LeadType::Product => {
                if product_id.is_none() {
                    errors.add("profileProduct.id", "is required");
                }
                if edition_id.is_none() {
                    errors.add("profileProductEdition.id", "is required");
                }
            }
            _ => {}
        }
        errors.into_result()?;

        let m = &p.marketplace_id;
        let now = self.services.clock.now();
        let mut l = LeadRecord {
            id: new_id("lead"),
            marketplace_id: m.clone(),
            lead_type: input.lead_type,
            status: LeadStatus::Submitted,
            partner: partner.clone(),
            customer_company_name: customer.company.name.clone().unwrap_or_default(),
            search_text: customer.search_text(),
            customer: serde_json::to_value(&customer).unwrap_or_default(),
            notes,
            custom_attributes: serde_json::to_value(&input.custom_attributes).unwrap_or_default(),
            owner_company_id: None,
            creator_user_id: None,
            creator_company_id: None,
            creator_company_name: None,
            creator_role: None,
            reseller_user_id: None,
            reseller_company_id: None,
            profile_company_id: None,
            profile_company_name: None,
            profile_product: None,
            profile_edition: None,
            referrer: json!({ "participantType": "CHANNEL", "partner": partner }),
            recipient_company_id: None,
            recipient_company_name: None,
            converted_company_id: None,
            converted_company_name: None,
            converted_user_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        match input.lead_type {
            LeadType::Manual => {
                l.owner_company_id = Some(p.company_id.clone());
                l.creator_user_id = Some(p.user_id.clone());
                l.creator_company_id = Some(p.company_id.clone());
                l.creator_company_name = Some(a.company_name.clone());
                l.creator_role = Some(context.as_str().to_owned());
                if context == Context::Reseller {
                    l.reseller_user_id = Some(p.user_id.clone());
                    l.reseller_company_id = Some(p.company_id.clone());
                }
                // A partner's own lead is its own to work; a manager's waits for assignment.
                if context != Context::ResellerManager {
                    l.status = LeadStatus::Assigned;
                    l.referrer = company_participant(&p.company_id, &a.company_name);
                    l.recipient_company_id = Some(p.company_id.clone());
                    l.recipient_company_name = Some(a.company_name.clone());
                }
            }
            LeadType::Company => {
                let id = profile_company_id.unwrap_or_default();
                let profile = self.store().get_company(m, &id).await?.ok_or(ServiceError::not_found("company"))?;
                if !profile.is_reseller {
                    return Err(invalid("profileCompany.id", "must be a reseller company (a company profile)"));
                }
                // Contact Us on a reseller's profile reaches that reseller.
                l.status = LeadStatus::Assigned;
                l.owner_company_id = Some(profile.id.clone());
                l.profile_company_id = Some(profile.id.clone());
                l.profile_company_name = Some(profile.name.clone());
                l.recipient_company_id = Some(profile.id.clone());
                l.recipient_company_name = Some(profile.name.clone());
            }
            LeadType::Product => {
                let id = product_id.unwrap_or_default();
                let product = self.store().get_product(m, &id).await?.ok_or(ServiceError::not_found("product"))?;
                let edition_id = edition_id.unwrap_or_default();
                let edition = product
                    .editions
                    .as_array()
                    .and_then(|es| {
                        es.iter().find(|e| e.get("id").and_then(|v| v.as_str()) == Some(edition_id.as_str()))
                    })
                    .ok_or(ServiceError::not_found("product"))?;
                let edition_name = edition.get("name").and_then(|v| v.as_str()).unwrap_or_default();
                l.profile_product =
                    Some(json!({ "id": product.id, "name": product.name, "provider": product.provider }));
                l.profile_edition = Some(json!({ "id": edition_id, "name": edition_name }));
            }
        }
        let event = a.event(&LeadCreated {
            lead_id: l.id.clone(),
            lead_type: l.lead_type,
            status: l.status,
            customer_company_name: l.customer_company_name.clone(),
            actor: a.actor(),
        });
        self.store().create_lead(l.clone(), vec![event]).await?;
        Ok(l)
    }

    /// `GET /leads`: a page of the leads the caller sees; the total counts only those.
    pub async fn list(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        q: ListLeads,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<LeadRecord>, ServiceError> {
        let a = self.acting(p, context, Some(company_id), ANY).await?;
        let filter = LeadFilter {
            viewer_company_id: p.company_id.clone(),
            manager: a.viewer().manager,
            statuses: q.statuses,
            from: q.from,
            to: q.to,
            search: q.search,
            sort: q.sort,
            order: q.order,
        };
        Ok(self.store().list_leads(&p.marketplace_id, &filter, window, limit).await?)
    }

    /// `GET /leads/{id}`.
    pub async fn get(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        id: &str,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), ANY).await?;
        self.visible(&a, id).await
    }

    /// `PATCH /leads/{id}`: the customer (company and contact) and the notes.
    pub async fn update(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        id: &str,
        input: UpdateLead,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), ANY).await?;
        let before = self.visible(&a, id).await?;
        transition(before.status, LeadAction::Edit).map_err(refused)?;
        let mut errors = ValidationErrors::new();
        let stored: Customer = serde_json::from_value(before.customer.clone()).unwrap_or_default();
        let customer = input.customer.map(|c| c.patched_over(&stored).validated(&mut errors));
        let notes = input.notes.map(|n| lead::notes(&mut errors, n.as_deref()));
        errors.into_result()?;
        let mut next = before.clone();
        let mut fields = Vec::new();
        if let Some((c, value)) = customer
            .map(|c| {
                let value = serde_json::to_value(&c).unwrap_or_default();
                (c, value)
            })
            .filter(|(_, v)| *v != before.customer)
        {
            fields.push("customer".to_owned());
            next.customer_company_name = c.company.name.clone().unwrap_or_default();
            next.search_text = c.search_text();
            next.customer = value;
        }
        if let Some(n) = notes.filter(|n| *n != before.notes) {
            fields.push("notes".to_owned());
            next.notes = n;
        }
        if fields.is_empty() {
            return Ok(before);
        }
        next.updated_at = self.services.clock.now();
        next.version += 1;
        let event = a.event(&LeadUpdated { lead_id: next.id.clone(), fields, actor: a.actor() });
        self.store().update_lead(next.clone(), before.version, vec![event]).await?;
        Ok(next)
    }

    /// `DELETE /leads/{id}`: deleted or disqualified ([`discard_action`]).
    pub async fn discard(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        id: &str,
    ) -> Result<LeadStatus, ServiceError> {
        let a = self.acting(p, context, Some(company_id), ANY).await?;
        let before = self.visible(&a, id).await?;
        let by_creator = before.creator_company_id.as_deref() == Some(p.company_id.as_str());
        let held_by_other = before.recipient_company_id.as_deref().is_some_and(|r| r != p.company_id);
        let action = discard_action(before.lead_type, by_creator, held_by_other);
        self.change_status(&a, before, action).await.map(|l| l.status)
    }

    async fn change_status(
        &self,
        a: &Acting<'_>,
        before: LeadRecord,
        action: LeadAction,
    ) -> Result<LeadRecord, ServiceError> {
        let to = transition(before.status, action).map_err(refused)?;
        let mut next = before.clone();
        next.status = to;
        next.updated_at = self.services.clock.now();
        next.version += 1;
        let event = a.event(&LeadStatusChanged { lead_id: next.id.clone(), from: before.status, to, actor: a.actor() });
        self.store().update_lead(next.clone(), before.version, vec![event]).await?;
        Ok(next)
    }

    /// `POST /assignment`: a reseller manager gives the lead to a reseller company.
    pub async fn assign(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        lead_id: &str,
        recipient_company_id: &str,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), MANAGERS).await?;
        let before = self.visible(&a, lead_id).await?;
        let to = transition(before.status, LeadAction::Assign).map_err(refused)?;
        let m = &p.marketplace_id;
        let company =
            self.store().get_company(m, recipient_company_id).await?.ok_or(ServiceError::not_found("company"))?;
        if !company.is_reseller {
            return Err(invalid("recipient.companyId", "must be a reseller company"));
        }
        let mut next = before.clone();
        next.status = to;
        next.recipient_company_id = Some(company.id.clone());
        next.recipient_company_name = Some(company.name.clone());
        next.updated_at = self.services.clock.now();
        next.version += 1;
        let event = a.event(&LeadAssigned {
            lead_id: next.id.clone(),
            from: before.status,
            assignee_company_id: company.id.clone(),
            assignee_company_name: company.name.clone(),
            previous_company_id: before.recipient_company_id.clone(),
            actor: a.actor(),
        });
        self.store().update_lead(next.clone(), before.version, vec![event]).await?;
        Ok(next)
    }

    /// `POST /conversionRequest`: the assigned reseller asks the managers to approve.
    pub async fn request_conversion(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        lead_id: &str,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), RESELLERS).await?;
        let before = self.assigned(&a, lead_id).await?;
        self.change_status(&a, before, LeadAction::RequestConversion).await
    }

    /// `POST /conversionApproval`.
    pub async fn approve_conversion(
        &self,
        p: &Principal,
        context: Context,
        lead_id: &str,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, None, MANAGERS).await?;
        let before = self.visible(&a, lead_id).await?;
        self.change_status(&a, before, LeadAction::ApproveConversion).await
    }

    /// A reseller manager turns a conversion request down (the operator's approvals page; the
    /// document has no reject): the lead is disqualified, as the manager's delete would, in one
    /// versioned update, so it cannot race an approval. Refused unless the lead awaits approval.
    pub async fn reject_conversion(
        &self,
        p: &Principal,
        context: Context,
        lead_id: &str,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, None, MANAGERS).await?;
        let before = self.visible(&a, lead_id).await?;
        if before.status != LeadStatus::PendingConversionApproval {
            return Err(refused(format!("is {}: it is not awaiting conversion approval", before.status.as_str())));
        }
        let held_by_other = before.recipient_company_id.as_deref().is_some_and(|r| r != p.company_id);
        let action = discard_action(before.lead_type, false, held_by_other);
        self.change_status(&a, before, action).await
    }

    /// `POST /companyAssociation`: the lead is linked to an existing company and one of its
    /// users; a conversion then uses them instead of creating new ones.
    pub async fn associate_company(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        lead_id: &str,
        user: &UserRef,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), RESELLERS_AND_MANAGERS).await?;
        let (Some(user_id), Some(target)) = (user.id.as_deref(), user.company_id.as_deref()) else {
            return Err(invalid("user", "needs id and companyId"));
        };
        let before = self.visible(&a, lead_id).await?;
        transition(before.status, LeadAction::Edit).map_err(refused)?;
        let m = &p.marketplace_id;
        let company = self.store().get_company(m, target).await?.ok_or(ServiceError::not_found("company"))?;
        // A reseller links only customers it serves; a manager any company of the marketplace.
        if context == Context::Reseller && !self.store().is_linked(m, &p.company_id, &company.id).await? {
            return Err(ServiceError::not_found("company"));
        }
        let member = self.store().user_memberships(m, &[user_id.to_owned()]).await?;
        if !member.iter().any(|x| x.company_id == company.id) {
            return Err(ServiceError::not_found("user"));
        }
        let mut next = before.clone();
        next.converted_company_id = Some(company.id.clone());
        next.converted_company_name = Some(company.name.clone());
        next.converted_user_id = Some(user_id.to_owned());
        next.updated_at = self.services.clock.now();
        next.version += 1;
        let event = a.event(&LeadCompanyAssociated {
            lead_id: next.id.clone(),
            company_id: company.id.clone(),
            company_name: company.name.clone(),
            user_id: user_id.to_owned(),
            actor: a.actor(),
        });
        self.store().update_lead(next.clone(), before.version, vec![event]).await?;
        Ok(next)
    }

    /// `POST /conversion`: the assigned reseller converts the approved lead. The company and
    /// contact user it was associated with are used; otherwise both are created from the
    /// lead's customer. Either way the company is associated with the converting reseller.
    /// All of it is one transaction.
    pub async fn convert(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        lead_id: &str,
    ) -> Result<LeadRecord, ServiceError> {
        let a = self.acting(p, context, Some(company_id), RESELLERS).await?;
        let before = self.assigned(&a, lead_id).await?;
        let to = transition(before.status, LeadAction::Convert).map_err(refused)?;
        let m = &p.marketplace_id;
        let now = self.services.clock.now();
        let customer = customer_of(&before);
        let mut conversion = LeadConversion::default();
        let mut events = Vec::new();
        let (company_id, company_name, user_id, created) =
            match (&before.converted_company_id, &before.converted_company_name, &before.converted_user_id) {
                (Some(c), Some(n), Some(u)) => (c.clone(), n.clone(), u.clone(), false),
                _ => {
                    let company = CompanyRecord {
                        id: new_id("company"),
                        marketplace_id: m.clone(),
                        name: customer.company.name.clone().unwrap_or_else(|| before.customer_company_name.clone()),
                        kind: "customer".into(),
                        external_id: None,
                        phone: customer.contact.phone.clone(),
                        website: None,
                        company_size: None,
                        is_reseller: false,
                        is_referral: false,
                        is_developer: false,
                        is_channel_admin: false,
                        is_customer: true,
                        enabled: true,
                        active: true,
                        created_by_company_id: Some(p.company_id.clone()),
                        settings: json!([]),
                        tax_exemptions: json!([]),
                        created_at: now,
                        num_users: 0,
                    };
                    let email = customer.contact.email.clone().unwrap_or_default().to_lowercase();
                    let user = UserRecord {
                        id: new_id("user"),
                        marketplace_id: m.clone(),
                        email: email.clone(),
                        first_name: customer.contact.first_name.clone(),
                        last_name: customer.contact.last_name.clone(),
                        external_id: None,
                        activated: false,
                        enabled: true,
                        created_at: now,
                    };
                    events.push(a.event(&CompanyCreated {
                        company_id: company.id.clone(),
                        name: company.name.clone(),
                        external_id: None,
                        created_by_company_id: company.created_by_company_id.clone(),
                    }));
                    events.push(a.event(&UserCreated {
                        user_id: user.id.clone(),
                        email,
                        company_id: company.id.clone(),
                        roles: vec![],
                    }));
                    let ids = (company.id.clone(), company.name.clone(), user.id.clone(), true);
                    conversion.user = Some(NewAccountUser { user, company_id: company.id.clone(), roles: vec![] });
                    conversion.company = Some(company);
                    ids
                }
            };
        if created || !self.store().is_linked(m, &p.company_id, &company_id).await? {
            let association = AssociationRecord {
                id: new_id("assoc"),
                marketplace_id: m.clone(),
                customer_company_id: company_id.clone(),
                customer_company_name: company_name.clone(),
                reseller_company_id: p.company_id.clone(),
                reseller_company_name: a.company_name.clone(),
                created_at: now,
            };
            events.push(a.event(&CompanyAssociationCreated {
                association_id: association.id.clone(),
                customer_company_id: company_id.clone(),
                reseller_company_id: p.company_id.clone(),
            }));
            conversion.association = Some(association);
        }
        let mut next = before.clone();
        next.status = to;
        next.converted_company_id = Some(company_id.clone());
        next.converted_company_name = Some(company_name.clone());
        next.converted_user_id = Some(user_id.clone());
        next.updated_at = now;
        next.version += 1;
        events.push(a.event(&LeadConverted {
            lead_id: next.id.clone(),
            company_id,
            company_name,
            user_id,
            created,
            actor: a.actor(),
        }));
        self.store().convert_lead(next.clone(), before.version, conversion, events).await.map_err(|e| match e {
            StoreError::Conflict(m) if m == EMAIL_TAKEN => ServiceError::conflict("user", codes::EMAIL_TAKEN),
            other => other.into(),
        })?;
        Ok(next)
    }

    /// `GET /leads/{id}/activities`: the lead's events as activities, `ascending` by time or
    /// newest first, within `from`..=`to`; `(page, total)`.
    #[allow(clippy::too_many_arguments)]
    pub async fn activities(
        &self,
        p: &Principal,
        context: Context,
        company_id: &str,
        lead_id: &str,
        ascending: bool,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Activity>, u64), ServiceError> {
        let a = self.acting(p, context, Some(company_id), ANY).await?;
        let l = self.visible(&a, lead_id).await?;
        let events = self.store().events_for_subject(&p.marketplace_id, &l.id).await?;
        let mut out: Vec<Activity> = events
            .iter()
            .filter(|e| from.is_none_or(|f| e.occurred_at >= f) && to.is_none_or(|t| e.occurred_at <= t))
            .filter_map(|e| {
                let actor = LeadActor::deserialize(&e.payload).ok()?;
                let mut context_quote = None;
                let (verb, context_company) = match e.event_type.as_str() {
                    types::LEAD_CREATED => (ActivityVerb::Created, None),
                    types::LEAD_UPDATED => (ActivityVerb::Updated, None),
                    types::LEAD_ASSIGNED => {
                        let x = LeadAssigned::deserialize(&e.payload).ok()?;
                        (ActivityVerb::Assigned, Some((x.assignee_company_id, x.assignee_company_name)))
                    }
                    types::LEAD_COMPANY_ASSOCIATED => {
                        let x = LeadCompanyAssociated::deserialize(&e.payload).ok()?;
                        (ActivityVerb::CompanyAssociated, Some((x.company_id, x.company_name)))
                    }
                    types::LEAD_CONVERTED => {
                        let x = LeadConverted::deserialize(&e.payload).ok()?;
                        (ActivityVerb::Converted, Some((x.company_id, x.company_name)))
                    }
                    types::LEAD_QUOTE_LINKED => {
                        let x = LeadQuoteLinked::deserialize(&e.payload).ok()?;
                        context_quote = Some(LinkedQuote {
                            id: x.quote_id,
                            friendly_id: x.friendly_id,
                            application_name: x.application_name,
                        });
                        (ActivityVerb::QuoteLinked, None)
                    }
                    types::LEAD_STATUS_CHANGED => {
                        let x = LeadStatusChanged::deserialize(&e.payload).ok()?;
                        (ActivityVerb::of_status(x.to)?, None)
                    }
                    _ => return None,
                };
                Some(Activity {
                    id: e.id.clone(),
                    created_on: e.occurred_at,
                    verb,
                    verb_context: actor.verb_context,
                    actor_company_id: actor.actor_company_id,
                    actor_company_name: actor.actor_company_name,
                    context_company,
                    context_quote,
                })
            })
            .collect();
        if !ascending {
            out.reverse();
        }
        let total = u64::try_from(out.len()).unwrap_or(u64::MAX);
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(out.len());
        let end = start.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(out.len());
        Ok((out.drain(start..end).collect(), total))
    }
}
