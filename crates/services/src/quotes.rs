//! AppReseller opportunities ("quotes"): a reseller's priced offer of catalog payment plans to a
//! user of a customer company, its items, its review and its finalizing into a purchase.
//!
//! Who may do what is `domain::quote` (`act`, `available_actions`); whose quotes a caller sees
//! is decided here: the marketplace manager (ROLE_CHANNEL_ADMIN) every quote of the
//! marketplace, a reseller (ROLE_RESELLER) and its sales support (ROLE_SALES_SUPPORT, the `SSR`
//! context) the quotes of their company. Another company's quote is "not found".
//!
//! Decisions (also in the OpenAPI descriptions):
//! - An item's `pricingPlanId` is a payment plan of the catalog (the `paymentPlanId` of
//!   `POST /subscriptions`); it is priced with the same rule, with `customPrices` as the sale
//!   price of the costs they name. One edition at most once per quote (409): finalizing buys one
//!   subscription per item and a company holds one live subscription per edition.
//! - Finalizing buys every item for the customer's company and user in one transaction, as
//!   `POST /subscriptions` would for the quote's reseller company (its partner is invoiced and
//!   earns), priced from the catalog as it is then. Any item that cannot be bought finalizes
//!   nothing (409 naming the item). Finalizing a closed quote answers it as it is.
//! - A quote made for a company a lead became is linked to that lead (`LEAD_QUOTE_LINKED`).

use crate::error::codes;
use crate::policy;
use crate::subscriptions::{Buyer, CatalogPlan, Prepared};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{
    EventPayload, LeadActor, LeadQuoteLinked, NewEvent, QuoteChanged, QuoteCreated, QuoteFinalized,
    QuoteReviewRequested, to_stored,
};
use partnerd_domain::ids::{new_id, plausible as plausible_id};
use partnerd_domain::money::Amount;
use partnerd_domain::partner::Role;
use partnerd_domain::quote::{
    self as rules, Attributes, AvailableAction, CustomPrice, QuoteAction, QuoteItem, QuoteRole, QuoteStatus,
};
use partnerd_domain::subscription::{self as purchase, OrderLine};
use partnerd_store::{CompanyRecord, Purchase, QuoteFilter, QuoteRecord, SUBSCRIPTION_EXISTS, StoreError, UserRecord};
use partnerd_store::{Paged, Window};

pub struct Quotes<'a> {
    pub(crate) services: &'a Services,
}

/// The `context` of create and list: `RESELLER` or `SSR` (sales support).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteContext {
    Reseller,
    SalesSupport,
}

impl QuoteContext {
    fn role(self) -> Role {
        match self {
            QuoteContext::Reseller => Role::Reseller,
            QuoteContext::SalesSupport => Role::SalesSupport,
        }
    }
}

/// An item as a request gives it (`OpportunityItem`, `OpportunityItemUpdateRequest`).
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    /// A client's own id for the item (honoured when it is a plausible id not used in the quote).
    pub id: Option<String>,
    pub pricing_plan_id: Option<String>,
    /// When given, it must be the plan's product.
    pub product_id: Option<String>,
    pub units: Option<Vec<OrderLine>>,
    pub custom_prices: Option<Vec<CustomPrice>>,
    pub subscription_custom_attributes: Option<Attributes>,
    pub vendor_required_fields: Option<Attributes>,
}

/// `POST /opportunities`.
#[derive(Debug, Clone, Default)]
pub struct NewQuote {
    pub customer_company_id: Option<String>,
    pub customer_user_id: Option<String>,
    pub owner_company_id: Option<String>,
    pub owner_user_id: Option<String>,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub purchase_effective_at: Option<DateTime<Utc>>,
    pub items: Vec<ItemInput>,
}

/// `PATCH /opportunities/{id}`: what is given changes.
#[derive(Debug, Clone, Default)]
pub struct QuotePatch {
    pub name: Option<String>,
    /// Another sales agent: a user of the quote's company (a partnerd addition).
    pub owner_user_id: Option<String>,
    pub purchase_effective_at: Option<DateTime<Utc>>,
    pub purchase_custom_attributes: Option<Attributes>,
}

/// A quote as its caller sees it.
#[derive(Debug, Clone)]
pub struct QuoteView {
    pub quote: QuoteRecord,
    pub items: Vec<QuoteItem>,
    pub available_actions: Vec<AvailableAction>,
    /// The marketplace partner code (as leads carry it).
    pub partner: &'static str,
}

/// How many times a change re-reads a quote that moved under it before giving up (409).
const ATTEMPTS: usize = 5;
const NAME_MAX: usize = 255;

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(ValidationErrors::single(field, message))
}

/// 409 naming what cannot be bought.
fn not_finalizable(field: &str, message: impl Into<String>) -> ServiceError {
    let mut e = ServiceError::conflict("opportunity", codes::NOT_FINALIZABLE);
    e.fields = ValidationErrors::single(field, message);
    e
}

/// 409: the quote's status allows no such move (`why` from `domain::quote::act`).
fn refused(why: String) -> ServiceError {
    let mut e = ServiceError::conflict("opportunity", codes::QUOTE_STATUS);
    e.fields =
        ValidationErrors::single("status", why.replace("a quote", "an opportunity").replace("quote", "opportunity"));
    e
}

/// Pricing problems named as the quote's fields: `orderLines[0].quantity` → `items[1].units[0].quantity`.
fn renamed(errors: &ValidationErrors, prefix: &str) -> ServiceError {
    let mut out = ValidationErrors::new();
    for (field, messages) in errors.fields() {
        let field = if let Some(rest) = field.strip_prefix("orderLines") {
            format!("{prefix}units{rest}")
        } else if field == "paymentPlanId" {
            format!("{prefix}pricingPlanId")
        } else {
            format!("{prefix}{field}")
        };
        for m in messages {
            out.add(&field, m.clone());
        }
    }
    ServiceError::invalid(out)
}

/// What `searchText` matches: the ids of the quote, its sales agent and their company, the
/// customer and their company, and the name; lower-cased.
fn search_text(q: &QuoteRecord) -> String {
    [&q.id, &q.owner_user_id, &q.owner_company_id, &q.customer_user_id, &q.customer_company_id, &name_of(&q.name)]
        .map(|s| s.to_lowercase())
        .join(" ")
}

fn name_of(part: &Option<String>) -> String {
    part.clone().unwrap_or_default()
}

fn items_of(q: &QuoteRecord) -> Result<Vec<QuoteItem>, ServiceError> {
    serde_json::from_value(q.items.clone())
        .map_err(|e| ServiceError::unavailable(format!("stored items of quote {}: {e}", q.id)))
}

/// A concurrent change moved the item an edit was priced from: the edit starts over.
const ITEM_MOVED: &str = "the item changed while it was being edited";

fn item_moved() -> ServiceError {
    ServiceError::conflict("opportunity", codes::CONCURRENT_CHANGE).with_detail(ITEM_MOVED)
}

fn is_stale(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(m) if m.contains("changed since it was read"))
}

impl Quotes<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        self.services.store.as_ref()
    }

    fn now(&self) -> DateTime<Utc> {
        self.services.clock.now()
    }

    fn event<P: EventPayload>(&self, p: &Principal, q: &QuoteRecord, payload: &P) -> NewEvent {
        NewEvent::of(payload).partner(q.owner_partner_id.clone()).actor(Some(p.user_id.clone()))
    }

    /// The seller role a caller creates or lists in: the `context`'s (which it must hold), else
    /// the first seller role it holds.
    fn seller_role(p: &Principal, context: Option<QuoteContext>) -> Result<QuoteRole, ServiceError> {
        let role = match context {
            Some(c) if p.has_role(c.role()) => c.role(),
            Some(_) => return Err(ServiceError::forbidden("context", codes::CONTEXT_NOT_HELD)),
            None if p.has_role(Role::Reseller) => Role::Reseller,
            None if p.has_role(Role::SalesSupport) => Role::SalesSupport,
            None => return Err(ServiceError::forbidden("api_key", codes::SCOPE_REQUIRED)),
        };
        Ok(if role == Role::Reseller { QuoteRole::Reseller } else { QuoteRole::SalesSupport })
    }

    /// The caller's role for `q`, or "not found" when it may not see it. `sellers_only`: the
    /// operation's scopes leave out the marketplace manager (create, PATCH).
    fn role_for(p: &Principal, q: &QuoteRecord, sellers_only: bool) -> Result<QuoteRole, ServiceError> {
        if !sellers_only && p.has_role(Role::ChannelAdmin) {
            return Ok(QuoteRole::ChannelAdmin);
        }
        if q.owner_company_id == p.company_id {
            if p.has_role(Role::Reseller) {
                return Ok(QuoteRole::Reseller);
            }
            if p.has_role(Role::SalesSupport) {
                return Ok(QuoteRole::SalesSupport);
            }
        }
        Err(ServiceError::not_found("opportunity"))
    }

    /// 403 unless the caller holds a role of the operation's scope table.
    fn require_scope(p: &Principal, sellers_only: bool) -> Result<(), ServiceError> {
        let roles: &[Role] = if sellers_only {
            &[Role::Reseller, Role::SalesSupport]
        } else {
            &[Role::Reseller, Role::SalesSupport, Role::ChannelAdmin]
        };
        policy::require_scope(p, roles)
    }

    fn view(q: QuoteRecord, items: Vec<QuoteItem>, role: QuoteRole) -> QuoteView {
        let needs_review = items.iter().any(|i| i.below_catalog);
        let available_actions = rules::available_actions_for(q.status, role, needs_review);
        QuoteView { quote: q, items, available_actions, partner: crate::leads::DEFAULT_PARTNER }
    }

    /// The quote `id` and the caller's role for it.
    async fn visible(
        &self,
        p: &Principal,
        id: &str,
        sellers_only: bool,
    ) -> Result<(QuoteRecord, QuoteRole), ServiceError> {
        Self::require_scope(p, sellers_only)?;
        if !plausible_id(id) {
            return Err(ServiceError::not_found("opportunity"));
        }
        let q = self.store().get_quote(&p.marketplace_id, id).await?.ok_or(ServiceError::not_found("opportunity"))?;
        let role = Self::role_for(p, &q, sellers_only)?;
        Ok((q, role))
    }

    /// The user `user_id` when it is an enabled member of `company_id`.
    async fn member(&self, m: &str, company_id: &str, user_id: &str) -> Result<Option<UserRecord>, ServiceError> {
        if !plausible_id(user_id) {
            return Ok(None);
        }
        self.services.subscriptions().user_of(m, company_id, user_id).await
    }

    /// An item priced from the catalog in `currency`; problems named under `prefix`
    /// (`items[1].` or empty).
    async fn price_item(
        &self,
        m: &str,
        currency: &str,
        id: String,
        input: &ItemInput,
        prefix: &str,
    ) -> Result<QuoteItem, ServiceError> {
        let plan_id = input.pricing_plan_id.as_deref().map(str::trim).unwrap_or_default();
        let unknown = || invalid(&format!("{prefix}pricingPlanId"), "is not a payment plan of the catalog");
        if !plausible_id(plan_id) {
            return Err(if plan_id.is_empty() {
                invalid(&format!("{prefix}pricingPlanId"), "is required")
            } else {
                unknown()
            });
        }
        let found = CatalogPlan::of(self.store().catalog_plan(m, plan_id).await?.ok_or_else(unknown)?)?;
        if input.product_id.as_deref().map(str::trim).is_some_and(|p| !p.is_empty() && p != found.product_id) {
            return Err(invalid(&format!("{prefix}productId"), "is not the product of the pricing plan"));
        }
        let mut errors = ValidationErrors::new();
        let subscription_custom_attributes = input.subscription_custom_attributes.clone().unwrap_or_default();
        let vendor_required_fields = input.vendor_required_fields.clone().unwrap_or_default();
        rules::check_attributes(
            &subscription_custom_attributes,
            &format!("{prefix}subscriptionCustomAttributes"),
            &mut errors,
        );
        rules::check_attributes(&vendor_required_fields, &format!("{prefix}vendorRequiredFields"), &mut errors);
        errors.into_result()?;
        let custom_prices = input.custom_prices.clone().unwrap_or_default();
        let units = input.units.clone().unwrap_or_default();
        let priced = Self::priced(&found, &units, &custom_prices, currency).map_err(|e| renamed(&e, prefix))?;
        let below_catalog = rules::below_catalog(&found.plan, &custom_prices, currency);
        let logo = self.store().product_image(m, &found.product_id).await?;
        Ok(QuoteItem {
            id,
            product_id: found.product_id,
            product_name: found.application_name,
            product_logo: logo,
            edition_id: found.edition_id,
            edition_name: found.edition_name,
            pricing_plan_id: found.plan.id.clone(),
            frequency: found.plan.frequency,
            units,
            custom_prices,
            subscription_custom_attributes,
            vendor_required_fields,
            below_catalog,
            priced: priced.priced,
            total_cents: priced.total_cents,
        })
    }

    /// `found` priced for `units` with the custom prices, in `currency`.
    fn priced(
        found: &CatalogPlan,
        units: &[OrderLine],
        custom: &[CustomPrice],
        currency: &str,
    ) -> Result<purchase::PricedOrder, ValidationErrors> {
        let plan = rules::custom_priced(&found.plan, custom, currency)?;
        purchase::order_currency(&plan, Some(currency)).map_err(|e| ValidationErrors::single("paymentPlanId", e))?;
        purchase::price_order(&plan, units, currency)
    }

    /// An item id for a new item: the client's (400 when it is not an id, 409 when the quote has
    /// it), else a new one. `field` names it in errors.
    fn item_id(asked: &Option<String>, items: &[QuoteItem], field: &str) -> Result<String, ServiceError> {
        match asked.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) if plausible_id(id) => {
                if items.iter().any(|i| i.id == id) {
                    return Err(ServiceError::conflict("opportunity", codes::ITEM_ID_TAKEN));
                }
                Ok(id.to_owned())
            }
            Some(_) => Err(invalid(field, "must be 1 to 100 letters, digits, '_' or '-'")),
            None => Ok(new_id("item")),
        }
    }

    /// `POST /opportunities` (ROLE_RESELLER, ROLE_SALES_SUPPORT).
    pub async fn create(
        &self,
        p: &Principal,
        context: Option<QuoteContext>,
        input: NewQuote,
    ) -> Result<QuoteView, ServiceError> {
        let role = Self::seller_role(p, context)?;
        let m = &p.marketplace_id;
        let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        // The owner: a user of the caller's own company (the caller by default).
        if trimmed(&input.owner_company_id).is_some_and(|c| c != p.company_id) {
            return Err(invalid("ownerCompanyId", "must be your own company"));
        }
        let owner_id = trimmed(&input.owner_user_id).unwrap_or_else(|| p.user_id.clone());
        let owner = self
            .member(m, &p.company_id, &owner_id)
            .await?
            .ok_or_else(|| invalid("ownerId", "is not a user of your company"))?;
        let owner_company = self.store().get_company(m, &p.company_id).await?;
        // The customer: a user of a company associated with the caller's.
        let customer_company_id =
            trimmed(&input.customer_company_id).ok_or_else(|| invalid("customerCompanyId", "is required"))?;
        let customer_user_id = trimmed(&input.customer_user_id).ok_or_else(|| invalid("customerId", "is required"))?;
        let company: Option<CompanyRecord> = if plausible_id(&customer_company_id) {
            self.store().get_company(m, &customer_company_id).await?
        } else {
            None
        };
        let linked = match &company {
            Some(c) => self.store().is_linked(m, &p.company_id, &c.id).await?,
            None => false,
        };
        let Some(company) = company.filter(|_| linked) else {
            return Err(invalid("customerCompanyId", "is not a company associated with your reseller company"));
        };
        let customer = self
            .member(m, &company.id, &customer_user_id)
            .await?
            .ok_or_else(|| invalid("customerId", "is not a user of the customer company"))?;
        let currency = match trimmed(&input.currency) {
            None => "USD".to_owned(),
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => c,
            Some(_) => return Err(invalid("currency", "must be an ISO 4217 code such as USD")),
        };
        let name = trimmed(&input.name);
        if name.as_ref().is_some_and(|n| n.chars().count() > NAME_MAX) {
            return Err(invalid("name", format!("must be at most {NAME_MAX} characters")));
        }
        if input.items.len() > rules::MAX_ITEMS {
            return Err(invalid("items", format!("must have at most {} items", rules::MAX_ITEMS)));
        }
        let mut items: Vec<QuoteItem> = Vec::with_capacity(input.items.len());
        for (i, it) in input.items.iter().enumerate() {
            let id = Self::item_id(&it.id, &items, &format!("items[{i}].id"))?;
            let item = self.price_item(m, &currency, id, it, &format!("items[{i}].")).await?;
            if rules::edition_taken(&items, &item.edition_id, None) {
                return Err(ServiceError::conflict("opportunity", codes::EDITION_IN_QUOTE));
            }
            items.push(item);
        }
        let total =
            rules::total_cents(&items).ok_or_else(|| invalid("items", "the opportunity's total is too large"))?;
        let now = self.now();
        let id = new_id("quote");
        let mut q = QuoteRecord {
            id: id.clone(),
            marketplace_id: m.clone(),
            friendly_id: rules::friendly_id(&id),
            owner_company_id: p.company_id.clone(),
            owner_company_name: owner_company.map(|c| c.name).unwrap_or_default(),
            owner_partner_id: p.partner.as_ref().map(|x| x.id.clone()),
            owner_user_id: owner.id.clone(),
            owner_first_name: name_of(&owner.first_name),
            owner_last_name: name_of(&owner.last_name),
            owner_email: owner.email.clone(),
            customer_company_id: company.id.clone(),
            customer_company_name: company.name.clone(),
            customer_user_id: customer.id.clone(),
            customer_first_name: name_of(&customer.first_name),
            customer_last_name: name_of(&customer.last_name),
            customer_email: customer.email.clone(),
            name,
            currency: currency.clone(),
            status: QuoteStatus::Open,
            items: to_stored(&items),
            total_cents: total,
            purchase_effective_at: input.purchase_effective_at,
            purchase_custom_attributes: serde_json::json!({}),
            purchase_id: None,
            search_text: String::new(),
            created_at: now,
            updated_at: now,
            closed_at: None,
            version: 1,
        };
        q.search_text = search_text(&q);
        let mut events = vec![self.event(
            p,
            &q,
            &QuoteCreated {
                quote_id: id.clone(),
                friendly_id: q.friendly_id.clone(),
                customer_company_id: q.customer_company_id.clone(),
                customer_user_id: q.customer_user_id.clone(),
                owner_user_id: q.owner_user_id.clone(),
                items: items.len(),
                total: Amount::from_cents(total),
                currency,
            },
        )];
        // The leads this customer came from, among those the caller's company deals with.
        let application_name = items.first().map(|i| i.product_name.clone()).or(q.name.clone()).unwrap_or_default();
        for lead in self.store().leads_of_company(m, &company.id).await? {
            let ours = [&lead.recipient_company_id, &lead.owner_company_id, &lead.reseller_company_id]
                .iter()
                .any(|c| c.as_deref() == Some(p.company_id.as_str()));
            if !ours {
                continue;
            }
            events.push(
                NewEvent::of(&LeadQuoteLinked {
                    lead_id: lead.id.clone(),
                    quote_id: id.clone(),
                    friendly_id: q.friendly_id.clone(),
                    application_name: application_name.clone(),
                    actor: LeadActor {
                        actor_company_id: p.company_id.clone(),
                        actor_company_name: q.owner_company_name.clone(),
                        verb_context: "COMPANY".into(),
                    },
                })
                .partner(p.partner.as_ref().map(|x| x.id.clone()))
                .actor(Some(p.user_id.clone())),
            );
        }
        self.store().create_quote(q.clone(), events).await?;
        Ok(Self::view(q, items, role))
    }

    /// `GET /opportunities/{id}`.
    pub async fn get(&self, p: &Principal, id: &str) -> Result<QuoteView, ServiceError> {
        let (q, role) = self.visible(p, id, false).await?;
        let items = items_of(&q)?;
        Ok(Self::view(q, items, role))
    }

    /// `GET /opportunities`: in the `context` (a seller's own company's quotes), or, without
    /// one, every quote of the marketplace for its manager, the own company's for a seller.
    pub async fn list(
        &self,
        p: &Principal,
        context: Option<QuoteContext>,
        mut filter: QuoteFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<QuoteView>, ServiceError> {
        let manager = context.is_none() && p.has_role(Role::ChannelAdmin);
        let role = if manager { QuoteRole::ChannelAdmin } else { Self::seller_role(p, context)? };
        filter.owner_company_id = (!manager).then(|| p.company_id.clone());
        let page = self.store().list_quotes(&p.marketplace_id, &filter, window, limit).await?;
        Ok(page.map(|q| Self::view(q, Vec::new(), role)))
    }

    /// A change of the quote by `action`'s rule, retried on a concurrent write: `apply` edits
    /// the record and its items and says what changed (`None`: nothing, no write).
    async fn change<F>(
        &self,
        p: &Principal,
        id: &str,
        sellers_only: bool,
        action: QuoteAction,
        mut apply: F,
    ) -> Result<QuoteView, ServiceError>
    where
        F: FnMut(&mut QuoteRecord, &mut Vec<QuoteItem>) -> Result<Option<(&'static str, Option<String>)>, ServiceError>,
    {
        for _ in 0..ATTEMPTS {
            let (before, role) = self.visible(p, id, sellers_only).await?;
            let to = rules::act(before.status, role, action).map_err(refused)?;
            let mut next = before.clone();
            let mut items = items_of(&before)?;
            let Some((what, item_id)) = apply(&mut next, &mut items)? else {
                return Ok(Self::view(before, items, role));
            };
            let now = self.now();
            next.status = to;
            next.total_cents =
                rules::total_cents(&items).ok_or_else(|| invalid("items", "the opportunity's total is too large"))?;
            next.items = to_stored(&items);
            next.updated_at = now;
            next.version += 1;
            let event: NewEvent = if action == QuoteAction::RequestReview {
                self.event(
                    p,
                    &next,
                    &QuoteReviewRequested { quote_id: next.id.clone(), requested_by_company_id: p.company_id.clone() },
                )
            } else {
                self.event(
                    p,
                    &next,
                    &QuoteChanged {
                        quote_id: next.id.clone(),
                        what: what.to_owned(),
                        item_id,
                        total: Amount::from_cents(next.total_cents),
                    },
                )
            };
            match self.store().update_quote(next.clone(), before.version, vec![event]).await {
                Ok(()) => return Ok(Self::view(next, items, role)),
                Err(e) if is_stale(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::conflict("opportunity", codes::CONCURRENT_CHANGE))
    }

    /// The quote `id` when the caller may change its items now (409 otherwise, before any item
    /// is looked up or priced).
    async fn editable(&self, p: &Principal, id: &str) -> Result<QuoteRecord, ServiceError> {
        let (q, role) = self.visible(p, id, false).await?;
        rules::act(q.status, role, QuoteAction::Edit).map_err(refused)?;
        Ok(q)
    }

    /// `PATCH /opportunities/{id}` (ROLE_RESELLER, ROLE_SALES_SUPPORT): name, purchase
    /// effective date, purchase custom attributes.
    pub async fn update(&self, p: &Principal, id: &str, patch: QuotePatch) -> Result<QuoteView, ServiceError> {
        let name = patch.name.map(|n| n.trim().to_owned());
        if name.as_ref().is_some_and(|n| n.chars().count() > NAME_MAX) {
            return Err(invalid("name", format!("must be at most {NAME_MAX} characters")));
        }
        if let Some(a) = &patch.purchase_custom_attributes {
            let mut errors = ValidationErrors::new();
            rules::check_attributes(a, "purchaseCustomAttributes", &mut errors);
            errors.into_result()?;
        }
        let attributes = patch.purchase_custom_attributes.map(|a| to_stored(&a));
        self.visible(p, id, true).await?;
        // A seller PATCHes only its own company's quotes: the new owner is a user of it.
        let owner = match patch.owner_user_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(o) => Some(
                self.member(&p.marketplace_id, &p.company_id, o)
                    .await?
                    .ok_or_else(|| invalid("ownerId", "is not a user of your company"))?,
            ),
        };
        self.change(p, id, true, QuoteAction::Edit, |q, _| {
            let before = q.clone();
            if let Some(n) = &name {
                q.name = (!n.is_empty()).then(|| n.clone());
            }
            if let Some(o) = &owner {
                q.owner_user_id = o.id.clone();
                q.owner_first_name = name_of(&o.first_name);
                q.owner_last_name = name_of(&o.last_name);
                q.owner_email = o.email.clone();
            }
            if let Some(at) = patch.purchase_effective_at {
                q.purchase_effective_at = Some(at);
            }
            if let Some(a) = &attributes {
                q.purchase_custom_attributes = a.clone();
            }
            if *q == before {
                return Ok(None);
            }
            q.search_text = search_text(q);
            Ok(Some(("updated", None)))
        })
        .await
    }

    /// `POST /opportunities/{id}/items`: 409 when the quote has the item's edition (or id). The
    /// item and the quote's currency.
    pub async fn add_item(
        &self,
        p: &Principal,
        id: &str,
        input: ItemInput,
    ) -> Result<(QuoteItem, String), ServiceError> {
        let currency = self.editable(p, id).await?.currency;
        // A bad client id is named before anything else is looked at.
        Self::item_id(&input.id, &[], "id")?;
        let item = self.price_item(&p.marketplace_id, &currency, new_id("item"), &input, "").await?;
        let mut added = None;
        self.change(p, id, false, QuoteAction::Edit, |_, items| {
            if items.len() >= rules::MAX_ITEMS {
                return Err(invalid("items", format!("an opportunity has at most {} items", rules::MAX_ITEMS)));
            }
            if rules::edition_taken(items, &item.edition_id, None) {
                return Err(ServiceError::conflict("opportunity", codes::EDITION_IN_QUOTE));
            }
            let mut it = item.clone();
            it.id = Self::item_id(&input.id, items, "id")?;
            items.push(it.clone());
            let item_id = it.id.clone();
            added = Some(it);
            Ok(Some(("item_added", Some(item_id))))
        })
        .await?;
        let item = added.ok_or_else(|| ServiceError::unavailable("item not added"))?;
        Ok((item, currency))
    }

    /// `GET /opportunities/{id}/items`.
    pub async fn items(&self, p: &Principal, id: &str) -> Result<Vec<QuoteItem>, ServiceError> {
        let (q, _) = self.visible(p, id, false).await?;
        items_of(&q)
    }

    /// `PUT /opportunities/{id}/items/{itemId}`: what is given replaces the item's; re-priced
    /// (custom prices are kept only while the pricing plan is). The item and the quote's
    /// currency. A concurrent change of the same item makes it start over from the new item.
    pub async fn edit_item(
        &self,
        p: &Principal,
        id: &str,
        item_id: &str,
        input: ItemInput,
    ) -> Result<(QuoteItem, String), ServiceError> {
        for _ in 0..ATTEMPTS {
            let q = self.editable(p, id).await?;
            let items = items_of(&q)?;
            let current =
                items.iter().find(|i| i.id == item_id).cloned().ok_or(ServiceError::not_found("opportunity_item"))?;
            let plan = input.pricing_plan_id.clone().unwrap_or_else(|| current.pricing_plan_id.clone());
            let same_plan = plan == current.pricing_plan_id;
            let merged = ItemInput {
                id: None,
                pricing_plan_id: Some(plan),
                product_id: None,
                units: input.units.clone().or_else(|| same_plan.then(|| current.units.clone())),
                custom_prices: input.custom_prices.clone().or_else(|| same_plan.then(|| current.custom_prices.clone())),
                subscription_custom_attributes: input
                    .subscription_custom_attributes
                    .clone()
                    .or_else(|| Some(current.subscription_custom_attributes.clone())),
                vendor_required_fields: input
                    .vendor_required_fields
                    .clone()
                    .or_else(|| Some(current.vendor_required_fields.clone())),
            };
            let mut priced = self.price_item(&p.marketplace_id, &q.currency, item_id.to_owned(), &merged, "").await?;
            if priced.product_id != current.product_id {
                // Another product's attributes and vendor fields are its own: only what was sent.
                priced.subscription_custom_attributes =
                    input.subscription_custom_attributes.clone().unwrap_or_default();
                priced.vendor_required_fields = input.vendor_required_fields.clone().unwrap_or_default();
            }
            let outcome = self
                .change(p, id, false, QuoteAction::Edit, |_, items| {
                    let Some(at) = items.iter().position(|i| i.id == priced.id) else {
                        return Err(ServiceError::not_found("opportunity_item"));
                    };
                    if items[at] != current {
                        return Err(item_moved());
                    }
                    if rules::edition_taken(items, &priced.edition_id, Some(&priced.id)) {
                        return Err(ServiceError::conflict("opportunity", codes::EDITION_IN_QUOTE));
                    }
                    if items[at] == priced {
                        return Ok(None);
                    }
                    items[at] = priced.clone();
                    Ok(Some(("item_edited", Some(priced.id.clone()))))
                })
                .await;
            match outcome {
                Ok(_) => return Ok((priced, q.currency)),
                Err(e) if e.detail.as_deref() == Some(ITEM_MOVED) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ServiceError::conflict("opportunity", codes::CONCURRENT_CHANGE))
    }

    /// `DELETE /opportunities/{id}/items/{itemId}`.
    pub async fn remove_item(&self, p: &Principal, id: &str, item_id: &str) -> Result<(), ServiceError> {
        self.change(p, id, false, QuoteAction::Edit, |_, items| {
            let Some(at) = items.iter().position(|i| i.id == item_id) else {
                return Err(ServiceError::not_found("opportunity_item"));
            };
            let removed = items.remove(at);
            Ok(Some(("item_removed", Some(removed.id))))
        })
        .await?;
        Ok(())
    }

    /// `POST /opportunities/{id}/requestReview`: OPEN → PENDING_REVIEW.
    pub async fn request_review(&self, p: &Principal, id: &str) -> Result<QuoteView, ServiceError> {
        self.change(p, id, false, QuoteAction::RequestReview, |_, _| Ok(Some(("review_requested", None)))).await
    }

    /// `POST /opportunities/{id}/completeReview` (a partnerd addition, the marketplace manager
    /// only): PENDING_REVIEW → OPEN, back to its sellers.
    pub async fn complete_review(&self, p: &Principal, id: &str) -> Result<QuoteView, ServiceError> {
        self.change(p, id, false, QuoteAction::CompleteReview, |_, _| Ok(Some(("review_completed", None)))).await
    }

    /// `POST /opportunities/{id}/finalize`: every item bought, the quote closed, in one
    /// transaction. A closed quote is answered as it is (finalizing twice buys once).
    pub async fn finalize(&self, p: &Principal, id: &str) -> Result<QuoteView, ServiceError> {
        for _ in 0..ATTEMPTS {
            let (before, role) = self.visible(p, id, false).await?;
            let items = items_of(&before)?;
            if before.status == QuoteStatus::Closed {
                return Ok(Self::view(before, items, role));
            }
            let needs_review = items.iter().any(|i| i.below_catalog);
            let to = rules::finalize_by(before.status, role, needs_review).map_err(refused)?;
            let purchase_id = new_id("purchase");
            let (purchases, bought, mut events) = self.purchases(p, &before, &items, &purchase_id).await?;
            // The catalog may have moved since the items were priced: the floor is today's.
            if bought.iter().any(|i| i.below_catalog) {
                rules::finalize_by(before.status, role, true).map_err(refused)?;
            }
            let total = bought.iter().try_fold(0i64, |sum, i| sum.checked_add(i.total_cents));
            let total = total.ok_or_else(|| not_finalizable("items", "the purchase's total is too large"))?;
            let now = self.now();
            let mut next = before.clone();
            next.status = to;
            // The quote shows what was bought, at the prices it was bought for.
            next.items = to_stored(&bought);
            next.total_cents = total;
            next.purchase_id = Some(purchase_id);
            next.purchase_effective_at = Some(before.purchase_effective_at.unwrap_or(now));
            next.closed_at = Some(now);
            next.updated_at = now;
            next.version += 1;
            events.insert(
                0,
                self.event(
                    p,
                    &next,
                    &QuoteFinalized {
                        quote_id: next.id.clone(),
                        purchase_id: next.purchase_id.clone().unwrap_or_default(),
                        customer_company_id: next.customer_company_id.clone(),
                        subscription_ids: purchases.iter().map(|x| x.subscription.id.clone()).collect(),
                        order_ids: purchases.iter().map(|x| x.order.id.clone()).collect(),
                        total: Amount::from_cents(total),
                        currency: next.currency.clone(),
                    },
                ),
            );
            match self.store().finalize_quote(next.clone(), before.version, purchases, events).await {
                Ok(()) => return Ok(Self::view(next, bought, role)),
                Err(e) if is_stale(&e) => continue,
                Err(StoreError::Conflict(msg)) if msg.starts_with(SUBSCRIPTION_EXISTS) => {
                    let i: usize = msg.rsplit(' ').next().and_then(|i| i.parse().ok()).unwrap_or(0);
                    let id = items.get(i).map(|x| x.id.as_str()).unwrap_or_default();
                    return Err(not_finalizable(
                        &format!("items[{i}]"),
                        format!("(item {id}): the customer company has a live subscription of its edition already"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::conflict("opportunity", codes::CONCURRENT_CHANGE))
    }

    /// What finalizing `q` buys: a purchase per item, exactly as `POST /subscriptions` would
    /// make it for the quote's reseller company and sales agent, priced from the catalog as it
    /// is now (the items as priced so, and the events). The subscriptions and orders can be found
    /// by `purchase_id` (their `searchText` matches it).
    async fn purchases(
        &self,
        p: &Principal,
        q: &QuoteRecord,
        items: &[QuoteItem],
        purchase_id: &str,
    ) -> Result<(Vec<Purchase>, Vec<QuoteItem>, Vec<NewEvent>), ServiceError> {
        let m = &q.marketplace_id;
        if items.is_empty() {
            return Err(not_finalizable("items", "an opportunity without items cannot be finalized"));
        }
        let company = self.store().get_company(m, &q.customer_company_id).await?;
        let linked = self.store().is_linked(m, &q.owner_company_id, &q.customer_company_id).await?;
        let Some(company) = company.filter(|_| linked) else {
            return Err(not_finalizable("customerCompanyId", "is no longer associated with the reseller company"));
        };
        let Some(user) = self.member(m, &company.id, &q.customer_user_id).await? else {
            return Err(not_finalizable("customerId", "is no longer a user of the customer company"));
        };
        if self.member(m, &q.owner_company_id, &q.owner_user_id).await?.is_none() {
            return Err(not_finalizable("ownerId", "is no longer a user of the reseller company"));
        }
        // One commission-rate lookup for every item (each is invoiced to the same partner).
        let rate = match &q.owner_partner_id {
            Some(partner) => Some(self.services.billing().rate_for(m, partner).await?),
            None => None,
        };
        let buyer = Buyer {
            company_id: q.owner_company_id.clone(),
            user_id: q.owner_user_id.clone(),
            partner_id: q.owner_partner_id.clone(),
            rate,
        };
        let subscriptions = self.services.subscriptions();
        let mut purchases = Vec::with_capacity(items.len());
        let mut bought = Vec::with_capacity(items.len());
        let mut events = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("items[{i}]");
            let Some(row) = self.store().catalog_plan(m, &item.pricing_plan_id).await? else {
                return Err(not_finalizable(
                    &format!("{field}.pricingPlanId"),
                    format!("(item {}) is no longer a payment plan of the catalog", item.id),
                ));
            };
            let found = CatalogPlan::of(row)?;
            let priced = Self::priced(&found, &item.units, &item.custom_prices, &q.currency).map_err(|e| {
                let why = e.fields().values().flatten().next().cloned().unwrap_or_else(|| "cannot be priced".into());
                not_finalizable(&field, format!("(item {}) cannot be bought as quoted: {why}", item.id))
            })?;
            let mut now_priced = item.clone();
            now_priced.product_name = found.application_name.clone();
            now_priced.edition_name = found.edition_name.clone();
            now_priced.frequency = found.plan.frequency;
            now_priced.priced = priced.priced.clone();
            now_priced.total_cents = priced.total_cents;
            now_priced.below_catalog = rules::below_catalog(&found.plan, &item.custom_prices, &q.currency);
            bought.push(now_priced);
            let Prepared { mut entry, invoice, events: e } =
                subscriptions.prepare(p, &buyer, &company, &user, &found, priced, None).await?;
            for text in [&mut entry.subscription.search_text, &mut entry.order.search_text] {
                text.push(' ');
                text.push_str(&purchase_id.to_lowercase());
            }
            events.extend(e);
            purchases.push(Purchase { subscription: entry.subscription, order: entry.order, invoice });
        }
        Ok((purchases, bought, events))
    }
}
