//! Reseller customer accounts. A customer account **is** a customer company associated with
//! the partner's company (the rows the AppReseller companies API shows), plus the account's
//! contact, plan, billing cycle, status and current period.
//!
//! Decisions (Stripe Billing's semantics; the OpenAPI says the same):
//! - Creating an account opens its first period at once (anchored at creation) and issues its
//!   first invoice, in the same transaction.
//! - A plan change mid-period is prorated as Stripe's default: a credit for the unused time at
//!   the old price and a charge for the remaining time at the new one. An upgrade (net charge)
//!   is invoiced at once; a downgrade (net credit) is not invoiced: the credit goes to the
//!   account's balance and is applied to the next invoices.
//! - A billing-cycle change restarts the period now (Stripe resets the anchor): the unused time
//!   of the old period is credited and the new period charged in full, invoiced at once.
//! - `cancelled` takes effect at once, is final, gives no refund for the rest of the period and
//!   stops future invoices. `suspended` pauses service, not billing.
//! - A more expensive plan (by monthly price) emits `customer.upgraded`.

use crate::billing::apply_balance;
use crate::error::codes;
use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::billing::{BillingCycle, LineItem, Period, period, prorate, subtotal};
use partnerd_domain::customer::{CustomerStatus, contact_name, phone};
use partnerd_domain::events::{
    CompanyAssociationCreated, CompanyCreated, CustomerCancelled, CustomerCreated, CustomerUpgraded, NewEvent,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::{CompanyName, Email};
use partnerd_store::schema::billing::reasons;
use partnerd_store::{
    ASSOCIATION_EXISTS, AssociationRecord, CompanyRecord, CustomerAccountRecord, CustomerEntry, CustomerFilter,
    CustomerLink, EXTERNAL_ID_TAKEN, InvoiceRecord, NewInvoice, StoreError,
};
use partnerd_store::{Paged, Window};

/// `POST /customers` as given.
#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub company_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub plan: Option<String>,
    pub billing_cycle: Option<String>,
}

/// `PUT /customers/{id}`: every field optional; what is given changes.
#[derive(Debug, Clone, Default)]
pub struct CustomerChange {
    pub contact_email: Option<String>,
    pub contact_name: Option<String>,
    /// `Some(None)` clears it.
    pub phone: Option<Option<String>>,
    pub plan: Option<String>,
    pub billing_cycle: Option<String>,
    pub status: Option<String>,
}

/// An account and the invoice a write issued, if any.
#[derive(Debug, Clone)]
pub struct CustomerWrite {
    pub account: CustomerAccountRecord,
    pub invoice: Option<InvoiceRecord>,
}

/// What `GET /customers/{id}` adds to the customer. A customer without a plan (an associated
/// company that has no account yet) has no price, invoices or usage.
#[derive(Debug, Clone)]
pub struct CustomerDetail {
    pub entry: CustomerEntry,
    /// Cents per cycle.
    pub price_cents: i64,
    /// Newest first, at most [`LATEST_INVOICES`].
    pub latest_invoice_ids: Vec<String>,
    /// The current billing period's usage so far (daily aggregates); `None` without a plan.
    pub usage: Option<partnerd_domain::usage::UsageTotals>,
}

/// How many invoice ids a customer's `billing` lists.
pub const LATEST_INVOICES: u32 = 5;

pub struct Customers<'a> {
    pub(crate) services: &'a Services,
}

fn cycle(raw: &str) -> Result<BillingCycle, String> {
    BillingCycle::parse(raw.trim())
}

impl Customers<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        &*self.services.store
    }

    pub async fn create(&self, who: &Principal, input: NewCustomer) -> Result<CustomerWrite, ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Customer, Access::Write)?;
        let prices = &self.services.billing.prices;
        let mut e = ValidationErrors::new();
        let required = |v: &Option<String>| v.as_deref().ok_or("is required").map(str::to_owned);
        let name = e.check("company_name", required(&input.company_name).and_then(|s| CompanyName::parse(&s)));
        let email = e.check("contact_email", required(&input.contact_email).and_then(|s| Email::parse(&s)));
        let contact = e
            .check("contact_name", required(&input.contact_name).map_err(str::to_owned).and_then(|s| contact_name(&s)));
        let phone = match input.phone.as_deref() {
            Some(p) => e.check("phone", phone(p)),
            None => None,
        };
        let plan = e.check("plan", required(&input.plan).map_err(str::to_owned).and_then(|p| prices.plan(p.trim())));
        let billing_cycle = e.check("billing_cycle", cycle(input.billing_cycle.as_deref().unwrap_or("monthly")));
        e.into_result()?;
        let (Some(name), Some(email), Some(contact), Some((plan, price)), Some(billing_cycle)) =
            (name, email, contact, plan, billing_cycle)
        else {
            return Err(ServiceError::invalid(ValidationErrors::single("request", "is invalid")));
        };
        let now = self.services.clock.now();
        let m = me.marketplace_id().to_owned();
        let partner_id = me.partner_id.to_owned();
        let company = CompanyRecord {
            id: new_id("company"),
            marketplace_id: m.clone(),
            name: name.as_str().to_owned(),
            kind: "customer".into(),
            external_id: None,
            phone: phone.clone(),
            website: None,
            company_size: None,
            is_reseller: false,
            is_referral: false,
            is_developer: false,
            is_channel_admin: false,
            is_customer: true,
            enabled: true,
            active: true,
            created_by_company_id: Some(who.company_id.clone()),
            settings: serde_json::json!([]),
            tax_exemptions: serde_json::json!([]),
            created_at: now,
            num_users: 0,
        };
        let association = AssociationRecord {
            id: new_id("assoc"),
            marketplace_id: m.clone(),
            customer_company_id: company.id.clone(),
            customer_company_name: company.name.clone(),
            reseller_company_id: who.company_id.clone(),
            reseller_company_name: who.partner.as_ref().map(|p| p.company_name.clone()).unwrap_or_default(),
            created_at: now,
        };
        let first = period(now, billing_cycle, 1);
        let account = CustomerAccountRecord {
            customer_id: company.id.clone(),
            marketplace_id: m.clone(),
            partner_id: partner_id.clone(),
            association_id: association.id.clone(),
            company_name: company.name.clone(),
            contact_email: email.as_str().to_owned(),
            contact_name: contact,
            phone,
            plan: plan.clone(),
            billing_cycle,
            status: CustomerStatus::Active,
            currency: prices.currency.clone(),
            billing_anchor: now,
            period_number: 1,
            current_period_start: first.start,
            current_period_end: first.end,
            balance_cents: 0,
            cancelled_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let lines = vec![plan_line(&plan, billing_cycle, price.for_cycle(billing_cycle), first)];
        let rate = self.services.billing().rate_for(&m, &partner_id).await?;
        let (invoice, invoice_events) =
            self.services.billing().invoice(&account, reasons::CREATE, first, lines, rate, now);
        let actor = Some(who.user_id.clone());
        let partner = Some(partner_id.clone());
        let mut events = vec![
            NewEvent::of(&CompanyCreated {
                company_id: company.id.clone(),
                name: company.name.clone(),
                external_id: None,
                created_by_company_id: company.created_by_company_id.clone(),
            })
            .partner(partner.clone())
            .actor(actor.clone()),
            NewEvent::of(&CompanyAssociationCreated {
                association_id: association.id.clone(),
                customer_company_id: company.id.clone(),
                reseller_company_id: who.company_id.clone(),
            })
            .partner(partner.clone())
            .actor(actor.clone()),
            NewEvent::of(&CustomerCreated {
                customer_id: company.id.clone(),
                company_name: company.name.clone(),
                plan: plan.clone(),
            })
            .partner(partner)
            .actor(actor.clone()),
        ];
        events.extend(invoice_events.into_iter().map(|ev| ev.actor(actor.clone())));
        let issued =
            self.store().create_customer(company, association, account.clone(), invoice, events).await.map_err(
                |e| match e {
                    StoreError::Conflict(m) if m == EXTERNAL_ID_TAKEN || m == ASSOCIATION_EXISTS => {
                        ServiceError::conflict("request", codes::CONFLICT).with_detail(m)
                    }
                    other => other.into(),
                },
            )?;
        Ok(CustomerWrite { account, invoice: Some(issued) })
    }

    /// The partner's customer (an association of its company, with its account once it has a
    /// plan); another partner's is "not found".
    async fn entry(&self, who: &Principal, id: &str) -> Result<CustomerEntry, ServiceError> {
        let me = policy::acting(who, None)?;
        self.store()
            .get_customer_entry(me.marketplace_id(), &who.company_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("customer"))
    }

    /// `GET /customers/{id}`: the partner's customer with its billing; another partner's is
    /// "not found".
    pub async fn get(&self, who: &Principal, id: &str) -> Result<CustomerDetail, ServiceError> {
        let entry = self.entry(who, id).await?;
        let Some(account) = &entry.account else {
            return Ok(CustomerDetail { entry, price_cents: 0, latest_invoice_ids: vec![], usage: None });
        };
        let latest_invoice_ids =
            self.store().latest_invoice_ids(&account.marketplace_id, &account.customer_id, LATEST_INVOICES).await?;
        let price_cents =
            self.services.billing.prices.price(&account.plan).map_or(0, |p| p.for_cycle(account.billing_cycle));
        let usage = Some(self.services.usage().period_totals(account).await?);
        Ok(CustomerDetail { entry, price_cents, latest_invoice_ids, usage })
    }

    /// `GET /customers`: the associations of the partner's company, with their accounts.
    pub async fn list(
        &self,
        who: &Principal,
        filter: &CustomerFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<CustomerEntry>, ServiceError> {
        let me = policy::acting(who, None)?;
        Ok(self.store().list_customers(me.marketplace_id(), &who.company_id, filter, window, limit).await?)
    }

    /// `PUT /customers/{id}` on a customer without a plan: setting `plan` opens its account as
    /// `POST /customers` does (first period from now, first invoice at once, `customer.created`).
    /// `plan`, `contact_email` and `contact_name` are required then; `status` may only be
    /// `active`.
    async fn start(
        &self,
        who: &Principal,
        link: CustomerLink,
        change: CustomerChange,
    ) -> Result<CustomerWrite, ServiceError> {
        let me = policy::acting(who, None)?;
        let prices = &self.services.billing.prices;
        let mut e = ValidationErrors::new();
        let to_start = "is required: this customer has no plan yet, and setting one starts its billing";
        let email = match change.contact_email.as_deref() {
            Some(s) => e.check("contact_email", Email::parse(s)),
            None => {
                e.add("contact_email", to_start);
                None
            }
        };
        let contact = match change.contact_name.as_deref() {
            Some(s) => e.check("contact_name", contact_name(s)),
            None => {
                e.add("contact_name", to_start);
                None
            }
        };
        let phone_given = match &change.phone {
            Some(Some(p)) => e.check("phone", phone(p)).map(Some),
            Some(None) => Some(None),
            None => None,
        };
        let plan = match change.plan.as_deref() {
            Some(p) => e.check("plan", prices.plan(p.trim())),
            None => {
                e.add("plan", to_start);
                None
            }
        };
        let billing_cycle = e.check("billing_cycle", cycle(change.billing_cycle.as_deref().unwrap_or("monthly")));
        if let Some(s) = change.status.as_deref() {
            match CustomerStatus::parse(s.trim()) {
                Ok(CustomerStatus::Active) => {}
                Ok(_) => e.add("status", "cannot change before the customer has a plan"),
                Err(m) => e.add("status", m),
            }
        }
        e.into_result()?;
        let (Some(email), Some(contact), Some((plan, price)), Some(billing_cycle)) =
            (email, contact, plan, billing_cycle)
        else {
            return Err(ServiceError::invalid(ValidationErrors::single("request", "is invalid")));
        };
        let now = self.services.clock.now();
        let m = me.marketplace_id().to_owned();
        let partner_id = me.partner_id.to_owned();
        let first = period(now, billing_cycle, 1);
        let account = CustomerAccountRecord {
            customer_id: link.customer_id.clone(),
            marketplace_id: m.clone(),
            partner_id: partner_id.clone(),
            association_id: link.association_id.clone(),
            company_name: link.company_name.clone(),
            contact_email: email.as_str().to_owned(),
            contact_name: contact,
            phone: phone_given.unwrap_or(link.phone.clone()),
            plan: plan.clone(),
            billing_cycle,
            status: CustomerStatus::Active,
            currency: prices.currency.clone(),
            billing_anchor: now,
            period_number: 1,
            current_period_start: first.start,
            current_period_end: first.end,
            balance_cents: 0,
            cancelled_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let lines = vec![plan_line(&plan, billing_cycle, price.for_cycle(billing_cycle), first)];
        let rate = self.services.billing().rate_for(&m, &partner_id).await?;
        let (invoice, invoice_events) =
            self.services.billing().invoice(&account, reasons::CREATE, first, lines, rate, now);
        let actor = Some(who.user_id.clone());
        let mut events = vec![
            NewEvent::of(&CustomerCreated {
                customer_id: account.customer_id.clone(),
                company_name: account.company_name.clone(),
                plan: plan.clone(),
            })
            .partner(Some(partner_id))
            .actor(actor.clone()),
        ];
        events.extend(invoice_events.into_iter().map(|ev| ev.actor(actor.clone())));
        let issued = self.store().start_customer(account.clone(), invoice, events).await.map_err(|e| match e {
            StoreError::Conflict(m) if m == partnerd_store::REFERENCE_CONFLICT => {
                // The association was deleted meanwhile.
                ServiceError::not_found("customer")
            }
            StoreError::Conflict(_) => ServiceError::conflict("customer", codes::CONCURRENT_CHANGE),
            other => other.into(),
        })?;
        Ok(CustomerWrite { account, invoice: Some(issued) })
    }

    /// `PUT /customers/{id}`. One transaction: the account, the invoice the change issues (an
    /// upgrade or a cycle change) and the events.
    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        change: CustomerChange,
    ) -> Result<CustomerWrite, ServiceError> {
        policy::acting(who, None)?.require(Resource::Customer, Access::Write)?;
        let entry = self.entry(who, id).await?;
        let Some(old) = entry.account else { return self.start(who, entry.link, change).await };
        let prices = &self.services.billing.prices;
        let mut e = ValidationErrors::new();
        let email = change.contact_email.as_deref().and_then(|s| e.check("contact_email", Email::parse(s)));
        let contact = change.contact_name.as_deref().and_then(|s| e.check("contact_name", contact_name(s)));
        let new_phone = match &change.phone {
            Some(Some(p)) => e.check("phone", phone(p)).map(Some),
            Some(None) => Some(None),
            None => None,
        };
        let plan = change.plan.as_deref().and_then(|p| e.check("plan", prices.plan(p.trim())));
        let new_cycle = change.billing_cycle.as_deref().and_then(|c| e.check("billing_cycle", cycle(c)));
        let status = change.status.as_deref().and_then(|s| e.check("status", CustomerStatus::parse(s.trim())));
        if let Some(Err(m)) = status.map(|s| old.status.check_move(s)) {
            e.add("status", m);
        }
        let plan_changes = plan.as_ref().is_some_and(|(p, _)| *p != old.plan);
        let cycle_changes = new_cycle.is_some_and(|c| c != old.billing_cycle);
        if (plan_changes || cycle_changes) && old.status == CustomerStatus::Cancelled {
            e.add(if plan_changes { "plan" } else { "billing_cycle" }, "cannot change on a cancelled account");
        }
        if (plan_changes || cycle_changes) && status == Some(CustomerStatus::Cancelled) {
            e.add("status", "cannot cancel and change the plan or billing cycle at once");
        }
        e.into_result()?;
        let now = self.services.clock.now();
        let mut next = old.clone();
        if let Some(v) = email {
            next.contact_email = v.as_str().to_owned();
        }
        if let Some(v) = contact {
            next.contact_name = v;
        }
        if let Some(v) = new_phone {
            next.phone = v;
        }
        let actor = Some(who.user_id.clone());
        let partner = Some(old.partner_id.clone());
        let mut events = Vec::new();
        let mut invoice: Option<NewInvoice> = None;
        if plan_changes || cycle_changes {
            let (new_plan, new_price) = match &plan {
                Some((p, price)) => (p.clone(), *price),
                None => (
                    old.plan.clone(),
                    prices.price(&old.plan).unwrap_or(partnerd_domain::billing::PlanPrice { monthly: 0, annual: 0 }),
                ),
            };
            let old_price = prices.price(&old.plan).map_or(0, |p| p.for_cycle(old.billing_cycle));
            let cycle = new_cycle.unwrap_or(old.billing_cycle);
            let current = Period { start: old.current_period_start, end: old.current_period_end };
            next.plan = new_plan.clone();
            next.billing_cycle = cycle;
            let (mut lines, invoiced_period) = if cycle_changes {
                // A new period from now: credit the unused old time, charge the new period in full.
                let fresh = period(now, cycle, 1);
                let mut lines = prorate(current, now, (&old.plan, old_price), (&new_plan, 0));
                lines.truncate(1);
                lines.push(plan_line(&new_plan, cycle, new_price.for_cycle(cycle), fresh));
                next.billing_anchor = now;
                next.period_number = 1;
                next.current_period_start = fresh.start;
                next.current_period_end = fresh.end;
                (lines, fresh)
            } else {
                (prorate(current, now, (&old.plan, old_price), (&new_plan, new_price.for_cycle(cycle))), current)
            };
            let net = subtotal(&lines);
            if net > 0 {
                next.balance_cents = apply_balance(&mut lines, old.balance_cents, now, invoiced_period);
                let rate = self.services.billing().rate_for(&old.marketplace_id, &old.partner_id).await?;
                let (inv, inv_events) =
                    self.services.billing().invoice(&next, reasons::UPDATE, invoiced_period, lines, rate, now);
                invoice = Some(inv);
                events.extend(inv_events.into_iter().map(|ev| ev.actor(actor.clone())));
            } else {
                // A net credit is kept on the account for the next invoices.
                next.balance_cents = old.balance_cents + net;
            }
            let old_monthly = prices.price(&old.plan).map_or(0, |p| p.monthly);
            if plan_changes && new_price.monthly > old_monthly {
                events.insert(
                    0,
                    NewEvent::of(&CustomerUpgraded {
                        customer_id: old.customer_id.clone(),
                        from_plan: old.plan.clone(),
                        to_plan: new_plan,
                    })
                    .partner(partner.clone())
                    .actor(actor.clone()),
                );
            }
        }
        if let Some(s) = status {
            if s == CustomerStatus::Cancelled && old.status != CustomerStatus::Cancelled {
                next.cancelled_at = Some(now);
                events.push(
                    NewEvent::of(&CustomerCancelled {
                        customer_id: old.customer_id.clone(),
                        reason: "cancelled by partner".into(),
                    })
                    .partner(partner.clone())
                    .actor(actor.clone()),
                );
            }
            next.status = s;
        }
        if next == old {
            return Ok(CustomerWrite { account: old, invoice: None });
        }
        next.version = old.version + 1;
        next.updated_at = now;
        let issued =
            self.store().update_customer(next.clone(), old.version, invoice, events).await.map_err(|e| match e {
                StoreError::Conflict(_) => ServiceError::conflict("customer", codes::CONCURRENT_CHANGE),
                other => other.into(),
            })?;
        Ok(CustomerWrite { account: next, invoice: issued })
    }
}

fn plan_line(plan: &str, cycle: BillingCycle, cents: i64, p: Period) -> LineItem {
    LineItem::new(format!("{plan} plan ({})", cycle.as_str()), cents, p.start, p.end, false)
}

/// When the next invoice is issued: the end of the current period, unless cancelled.
pub fn next_invoice_at(a: &CustomerAccountRecord) -> Option<DateTime<Utc>> {
    a.status.is_billed().then_some(a.current_period_end)
}
