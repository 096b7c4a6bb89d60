//! Sandboxes: a marketplace of its own for a partner to test and demo against, seeded with
//! realistic demo data through the same use cases as production (so the data obeys every rule:
//! invoices numbered, commissions earned, listings scored, events logged), with an API key
//! shown once, an expiry, and removal (on request, or by `serve`'s sweep once expired).
//!
//! Isolation is the marketplace: every query is scoped by it, and a sandbox key authenticates
//! as a principal of the sandbox's marketplace only. Nothing crosses: the owner's events about
//! the sandbox (`sandbox.created`, `sandbox.deleted`) are in the owner's marketplace, the demo
//! data's events in the sandbox's.
//!
//! Seeding takes several use cases, so it is not one transaction: the sandbox is written
//! `provisioning` first (its keys do not authenticate yet), seeded, then made `active` with its
//! event. A seed that fails removes the sandbox again; one whose process died is removed by the
//! sweep after `PROVISIONING_TIMEOUT`. So no half-seeded sandbox is ever usable.

use crate::customers::NewCustomer;
use crate::error::codes;
use crate::partners::CreatePartner;
use crate::policy::{self, Access, Resource};
use crate::tickets::NewTicket;
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Duration, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{NewEvent, SandboxCreated, SandboxDeleted, SandboxRemoval};
use partnerd_domain::ids::new_id;
use partnerd_domain::listing::{ListingPatch, ListingStatus};
use partnerd_domain::money::AmountInput;
use partnerd_domain::sandbox::{self as rules, StoredStatus};
use partnerd_store::SandboxRecord;

pub struct Sandboxes<'a> {
    pub(crate) services: &'a Services,
}

/// How sandboxes are made (from the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxSettings {
    /// The expiry of a sandbox created without `expires_in_days`.
    pub default_expiry_days: u32,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings { default_expiry_days: rules::DEFAULT_EXPIRY_DAYS }
    }
}

impl SandboxSettings {
    /// Refuses a default outside the bounds a request may ask for.
    pub fn new(default_expiry_days: u32) -> Result<Self, String> {
        rules::expiry_days(Some(i64::from(default_expiry_days)), rules::DEFAULT_EXPIRY_DAYS)
            .map(|default_expiry_days| SandboxSettings { default_expiry_days })
    }
}

/// `POST /sandbox` as given.
#[derive(Debug, Clone, Default)]
pub struct NewSandbox {
    pub name: Option<String>,
    pub expires_in_days: Option<i64>,
}

/// What seeding wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub customers: u32,
    pub invoices: u32,
    pub listings: u32,
    pub opportunities: u32,
    pub tickets: u32,
}

#[derive(Debug, Clone)]
pub struct CreatedSandbox {
    pub sandbox: SandboxRecord,
    /// The sandbox partner's key: the only time it is shown.
    pub api_key: String,
    pub seeded: Seeded,
}

/// How many expired sandboxes one sweep round reads.
const SWEEP_BATCH: u32 = 100;

impl Sandboxes<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        &*self.services.store
    }

    pub fn settings(&self) -> SandboxSettings {
        *self.services.sandbox
    }

    pub async fn create(&self, who: &Principal, input: NewSandbox) -> Result<CreatedSandbox, ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Sandbox, Access::Write)?;
        if rules::is_sandbox(me.marketplace_id()) {
            return Err(ServiceError::forbidden("sandbox", codes::SANDBOX_KEY));
        }
        let mut e = ValidationErrors::new();
        let name = e.check("name", rules::name(input.name.as_deref(), "Sandbox"));
        let days =
            e.check("expires_in_days", rules::expiry_days(input.expires_in_days, self.settings().default_expiry_days));
        e.into_result()?;
        let (Some(name), Some(days)) = (name, days) else {
            return Err(ServiceError::invalid(ValidationErrors::single("request", "is invalid")));
        };
        let owner = who.partner.clone().ok_or_else(|| ServiceError::forbidden("partner", codes::PARTNER_REQUIRED))?;
        let now = self.services.clock.now();
        let mut sandbox = SandboxRecord {
            id: new_id(rules::ID_PREFIX),
            marketplace_id: me.marketplace_id().to_owned(),
            owner_partner_id: owner.id.clone(),
            name,
            status: StoredStatus::Provisioning,
            sandbox_partner_id: None,
            created_at: now,
            expires_at: now + Duration::days(i64::from(days)),
        };
        if !self.store().create_sandbox(sandbox.clone(), rules::MAX_PER_PARTNER).await? {
            return Err(ServiceError::conflict("sandbox", codes::LIMIT_REACHED));
        }
        let seeded = self.seed(&sandbox, who, &owner, now).await;
        let activated = match seeded {
            Ok((partner_id, api_key, seeded)) => {
                sandbox.status = StoredStatus::Active;
                sandbox.sandbox_partner_id = Some(partner_id);
                let created = SandboxCreated {
                    sandbox_id: sandbox.id.clone(),
                    name: sandbox.name.clone(),
                    expires_at: sandbox.expires_at,
                };
                let event = NewEvent::of(&created).partner(Some(owner.id.clone())).actor(Some(who.user_id.clone()));
                self.store().activate_sandbox(&sandbox, vec![event]).await.map(|()| (api_key, seeded))
            }
            Err(e) => Err(e),
        };
        match activated {
            Ok((api_key, seeded)) => Ok(CreatedSandbox { sandbox, api_key, seeded }),
            Err(e) => {
                // Nothing half-seeded stays: the sandbox goes with whatever was written.
                if let Err(cleanup) =
                    self.store().remove_sandbox(&sandbox.marketplace_id, &sandbox.id, now, vec![]).await
                {
                    tracing::warn!(sandbox = %sandbox.id, error = %cleanup, "removing a failed sandbox failed; the sweep will");
                }
                Err(e.into())
            }
        }
    }

    /// The demo data, written through the use cases as the sandbox's partner.
    async fn seed(
        &self,
        sandbox: &SandboxRecord,
        who: &Principal,
        owner: &partnerd_store::PartnerRecord,
        now: DateTime<Utc>,
    ) -> Result<(String, String, Seeded), partnerd_store::StoreError> {
        self.seed_as_use_cases(sandbox, who, owner, now).await.map_err(|e| match e.kind {
            crate::ErrorKind::Unavailable => partnerd_store::StoreError::Backend(e.to_string()),
            // Demo data the rules refuse (a price list without plans, say) is a fault here.
            _ => partnerd_store::StoreError::Backend(format!("seeding the sandbox was refused: {e}")),
        })
    }

    async fn seed_as_use_cases(
        &self,
        sandbox: &SandboxRecord,
        who: &Principal,
        owner: &partnerd_store::PartnerRecord,
        now: DateTime<Utc>,
    ) -> Result<(String, String, Seeded), ServiceError> {
        let s = self.services;
        let m = sandbox.id.as_str();
        let roles: Vec<String> = who.roles.iter().map(|r| r.as_str().to_owned()).collect();
        let me = s
            .partners()
            .create(
                m,
                CreatePartner {
                    name: owner.company_name.clone(),
                    email: owner.contact_email.clone(),
                    plan: owner.plan.clone(),
                    roles,
                },
            )
            .await?;
        let other = s
            .partners()
            .create(
                m,
                CreatePartner {
                    name: "Northwind Cloud Partners".into(),
                    email: "alliances@northwind.example".into(),
                    plan: owner.plan.clone(),
                    roles: vec![],
                },
            )
            .await?;
        let partner = self.store().get_partner(m, &me.partner_id).await?.ok_or(ServiceError::not_found("partner"))?;
        let principal = Principal {
            key_id: me.key_id.clone(),
            marketplace_id: m.to_owned(),
            user_id: me.user_id.clone(),
            user_email: owner.contact_email.clone(),
            company_id: me.company_id.clone(),
            roles: who.roles.clone(),
            partner: Some(partner),
        };
        let mut seeded = Seeded::default();

        let plans: Vec<String> = s.billing.prices.plans.keys().cloned().collect();
        let plan = |i: usize| plans.get(i % plans.len().max(1)).cloned();
        let customers = [
            ("Acme Analytics Ltd", "Jordan Lee", "jordan.lee@acme-analytics.example", "monthly"),
            ("Globex Retail Group", "Priya Raman", "priya.raman@globex-retail.example", "annual"),
            ("Initech Health", "Samuel Okafor", "s.okafor@initech-health.example", "monthly"),
        ];
        let mut customer_ids = Vec::new();
        for (i, (company, contact, email, cycle)) in customers.into_iter().enumerate() {
            let written = s
                .customers()
                .create(
                    &principal,
                    NewCustomer {
                        company_name: Some(company.into()),
                        contact_email: Some(email.into()),
                        contact_name: Some(contact.into()),
                        phone: Some(format!("+1415555{:04}", 110 + i)),
                        plan: plan(i),
                        billing_cycle: Some(cycle.into()),
                    },
                )
                .await?;
            seeded.customers += 1;
            seeded.invoices += u32::from(written.invoice.is_some());
            customer_ids.push(written.account.customer_id);
        }

        let listings = [
            (
                "Cloud Cost Optimizer",
                "Cut cloud spend with automated rightsizing and savings-plan recommendations.",
                ListingStatus::Active,
            ),
            (
                "Compliance Autopilot",
                "Continuous SOC 2 and ISO 27001 evidence collection for growing teams.",
                ListingStatus::Draft,
            ),
        ];
        for (title, short, status) in listings {
            let patch = ListingPatch {
                title: Some(title.into()),
                short_description: Some(short.into()),
                long_description: Some(format!(
                    "{title} is a demo listing of this sandbox. {short} Try the SEO score, recommendations \
                     and content generation against it."
                )),
                highlights: Some(vec!["Set up in under an hour".into(), "Works with AWS, Azure and GCP".into()]),
                categories: Some(vec!["Cloud Management".into()]),
                keywords: Some(vec!["cloud".into(), "finops".into(), "automation".into()]),
                status: Some(status),
                ..ListingPatch::default()
            };
            s.listings().create(&principal, patch).await?;
            seeded.listings += 1;
        }

        let close = (now + Duration::days(45)).date_naive().format("%Y-%m-%d").to_string();
        let deals = [
            ("Contoso Manufacturing", "96000.00", "Plant-floor analytics rollout, co-sold with Northwind"),
            ("Fabrikam Logistics", "42500.00", "Fleet telemetry migration to the cloud"),
        ];
        for (customer, value, description) in deals {
            s.cosell()
                .create(
                    &principal,
                    crate::cosell::NewOpportunity {
                        customer_name: Some(customer.into()),
                        deal_value: Some(AmountInput::text(value)),
                        partner_id: Some(other.partner_id.clone()),
                        description: Some(description.into()),
                        expected_close_date: Some(close.clone()),
                        notes: Some("Demo opportunity of this sandbox".into()),
                    },
                )
                .await?;
            seeded.opportunities += 1;
        }

        let tickets = [
            (
                "Webhook deliveries failing",
                "Customer reports webhook failures since the last deploy",
                "high",
                "technical",
            ),
            (
                "Invoice address change",
                "Customer asks to change the billing address on the next invoice",
                "low",
                "billing",
            ),
        ];
        for (i, (subject, description, priority, category)) in tickets.into_iter().enumerate() {
            let Some(customer) = customer_ids.get(i) else { break };
            s.tickets()
                .create(
                    &principal,
                    NewTicket {
                        customer_id: Some(customer.clone()),
                        subject: Some(subject.into()),
                        description: Some(description.into()),
                        priority: Some(priority.into()),
                        category: Some(category.into()),
                    },
                )
                .await?;
            seeded.tickets += 1;
        }
        Ok((me.partner_id, me.api_key, seeded))
    }

    /// The caller's active sandboxes, newest first (a sandbox's own key has none).
    pub async fn list(&self, who: &Principal) -> Result<Vec<SandboxRecord>, ServiceError> {
        let me = policy::acting(who, None)?;
        Ok(self.store().list_sandboxes(me.marketplace_id(), me.partner_id).await?)
    }

    /// The caller's sandbox; 404 for another partner's, a provisioning or a removed one.
    pub async fn get(&self, who: &Principal, id: &str) -> Result<SandboxRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        match self.store().get_sandbox(me.marketplace_id(), me.partner_id, id).await? {
            Some(s) if s.status == StoredStatus::Active => Ok(s),
            _ => Err(ServiceError::not_found("sandbox")),
        }
    }

    /// Removes the caller's sandbox and everything in it, at once; its keys stop working in
    /// this process now and in others within their invalidation poll.
    pub async fn delete(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Sandbox, Access::Write)?;
        let sandbox = self.get(who, id).await?;
        let removed = SandboxDeleted { sandbox_id: sandbox.id.clone(), reason: SandboxRemoval::Deleted };
        let event =
            NewEvent::of(&removed).partner(Some(sandbox.owner_partner_id.clone())).actor(Some(who.user_id.clone()));
        let now = self.services.clock.now();
        if !self.store().remove_sandbox(&sandbox.marketplace_id, &sandbox.id, now, vec![event]).await? {
            return Err(ServiceError::not_found("sandbox"));
        }
        self.services.auth.evict_marketplace(&sandbox.id);
        Ok(())
    }

    /// The sweep `serve` runs: removes every sandbox expired now, and those left provisioning
    /// longer than `PROVISIONING_TIMEOUT`; how many. Safe in several processes at once: each
    /// sandbox is removed by whichever deletes its row first.
    pub async fn remove_expired(&self) -> Result<usize, ServiceError> {
        let mut removed = 0;
        loop {
            let now = self.services.clock.now();
            let due =
                self.store().sandboxes_due_for_removal(now, now - rules::PROVISIONING_TIMEOUT, SWEEP_BATCH).await?;
            let full = due.len() == SWEEP_BATCH as usize;
            let mut progressed = false;
            for sandbox in due {
                let reason = if sandbox.status == StoredStatus::Provisioning && now < sandbox.expires_at {
                    SandboxRemoval::Abandoned
                } else {
                    SandboxRemoval::Expired
                };
                let event = NewEvent::of(&SandboxDeleted { sandbox_id: sandbox.id.clone(), reason })
                    .partner(Some(sandbox.owner_partner_id.clone()));
                if self.store().remove_sandbox(&sandbox.marketplace_id, &sandbox.id, now, vec![event]).await? {
                    removed += 1;
                    progressed = true;
                }
                self.services.auth.evict_marketplace(&sandbox.id);
            }
            if !full || !progressed {
                return Ok(removed);
            }
        }
    }
}
