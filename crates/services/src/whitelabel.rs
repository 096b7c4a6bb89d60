//! White-label: a customer account's branding and its customised system e-mails.
//!
//! Decisions (the OpenAPI says the same):
//! - Branding is one record per account. `POST` sets all of it: a field left out takes its
//!   default (no logo, the system colours, no custom domain). Saving the same branding again
//!   writes nothing and appends no event. A custom domain serves one customer of the
//!   marketplace: another customer's is refused as a validation error of `custom_domain`.
//! - E-mail templates: `PUT` gives the complete set of customised templates; a system template
//!   left out is (again) the system's default. Templates whose content did not change keep
//!   their `updated_at`; a `PUT` changing nothing writes nothing.
//! - A cancelled account is final: its white-label settings and configuration can be read,
//!   not changed.

use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::branding::{self, Branding};
use partnerd_domain::customer::CustomerStatus;
use partnerd_domain::email_template::{self as tpl, EmailContent, Rendered, TemplateName};
use partnerd_domain::events::{BrandingUpdated, EmailTemplatesUpdated, NewEvent};
use partnerd_store::{BrandingRecord, CUSTOM_DOMAIN_TAKEN, CustomerAccountRecord, EmailTemplateRecord, StoreError};

/// `POST /customers/{id}/branding` as given: `None` is "not set" (the default).
#[derive(Debug, Clone, Default)]
pub struct BrandingInput {
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub secondary_color: Option<String>,
    pub custom_domain: Option<String>,
}

/// A customer's branding as it applies: its own, or the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandingView {
    pub customer_id: String,
    pub branding: Branding,
    /// Whether the partner has set it (`false`: the defaults).
    pub customized: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One template's parts as given; every one is required.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
}

/// A system e-mail as a customer's users receive it: customised or the default.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateView {
    pub name: TemplateName,
    pub customized: bool,
    pub content: EmailContent,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A rendered preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub name: TemplateName,
    /// Whether the rendered content is the customer's customised template (`false`: the
    /// system's default, or a draft given with the request).
    pub customized: bool,
    pub rendered: Rendered,
}

pub struct WhiteLabel<'a> {
    pub(crate) services: &'a Services,
}

/// The account, if it is the caller's (else "not found"); for writes, the caller's key must
/// write customers and the account must not be cancelled.
pub(crate) async fn own_account(
    services: &Services,
    who: &Principal,
    id: &str,
    write: bool,
) -> Result<CustomerAccountRecord, ServiceError> {
    let me = policy::acting(who, None)?;
    if write {
        me.require(Resource::Customer, Access::Write)?;
    }
    let account = services
        .store
        .get_customer(me.marketplace_id(), me.partner_id, id)
        .await?
        .ok_or_else(|| ServiceError::not_found("customer"))?;
    if write && account.status == CustomerStatus::Cancelled {
        return Err(ServiceError::invalid(ValidationErrors::single(
            "customer_id",
            "is a cancelled account: its white-label settings and configuration are read-only",
        )));
    }
    Ok(account)
}

fn view(customer_id: &str, r: Option<BrandingRecord>) -> BrandingView {
    match r {
        None => BrandingView {
            customer_id: customer_id.to_owned(),
            branding: Branding::default(),
            customized: false,
            updated_at: None,
        },
        Some(r) => BrandingView {
            customer_id: r.customer_id,
            branding: Branding {
                logo_url: r.logo_url,
                primary_color: r.primary_color,
                secondary_color: r.secondary_color,
                custom_domain: r.custom_domain,
            },
            customized: true,
            updated_at: Some(r.updated_at),
        },
    }
}

fn content(r: &EmailTemplateRecord) -> EmailContent {
    EmailContent { subject: r.subject.clone(), html: r.html_body.clone(), text: r.text_body.clone() }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `149.00`: two decimals, as an e-mail shows an amount.
fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

impl WhiteLabel<'_> {
    pub async fn branding(&self, who: &Principal, id: &str) -> Result<BrandingView, ServiceError> {
        let a = own_account(self.services, who, id, false).await?;
        Ok(view(&a.customer_id, self.services.store.get_branding(&a.marketplace_id, &a.customer_id).await?))
    }

    /// Sets the whole branding; one transaction with `branding.updated`.
    pub async fn set_branding(
        &self,
        who: &Principal,
        id: &str,
        input: BrandingInput,
    ) -> Result<BrandingView, ServiceError> {
        let a = own_account(self.services, who, id, true).await?;
        let mut e = ValidationErrors::new();
        let defaults = Branding::default();
        let next = Branding {
            logo_url: input.logo_url.as_deref().and_then(|u| e.check("logo_url", branding::logo_url(u))),
            primary_color: match input.primary_color.as_deref() {
                Some(c) => e.check("primary_color", branding::color(c)).unwrap_or_default(),
                None => defaults.primary_color.clone(),
            },
            secondary_color: match input.secondary_color.as_deref() {
                Some(c) => e.check("secondary_color", branding::color(c)).unwrap_or_default(),
                None => defaults.secondary_color.clone(),
            },
            custom_domain: input
                .custom_domain
                .as_deref()
                .and_then(|d| e.check("custom_domain", branding::custom_domain(d))),
        };
        e.into_result()?;
        let store = &self.services.store;
        let old = store.get_branding(&a.marketplace_id, &a.customer_id).await?;
        let before = view(&a.customer_id, old.clone());
        if before.customized && before.branding == next {
            return Ok(before);
        }
        let now = self.services.clock.now();
        let record = BrandingRecord {
            customer_id: a.customer_id.clone(),
            marketplace_id: a.marketplace_id.clone(),
            logo_url: next.logo_url.clone(),
            primary_color: next.primary_color.clone(),
            secondary_color: next.secondary_color.clone(),
            custom_domain: next.custom_domain.clone(),
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        };
        let changed = next.changed_fields(&before.branding).into_iter().map(str::to_owned).collect();
        let event = NewEvent::of(&BrandingUpdated { customer_id: a.customer_id.clone(), changed })
            .partner(Some(a.partner_id.clone()))
            .actor(Some(who.user_id.clone()));
        store.save_branding(record.clone(), vec![event]).await.map_err(|e| match e {
            StoreError::Conflict(m) if m == CUSTOM_DOMAIN_TAKEN => ServiceError::invalid(ValidationErrors::single(
                "custom_domain",
                "is already used by another customer of this marketplace",
            )),
            other => other.into(),
        })?;
        Ok(view(&a.customer_id, Some(record)))
    }

    async fn stored_templates(&self, a: &CustomerAccountRecord) -> Result<Vec<EmailTemplateRecord>, ServiceError> {
        Ok(self.services.store.email_templates(&a.marketplace_id, &a.customer_id).await?)
    }

    fn views(stored: &[EmailTemplateRecord]) -> Vec<TemplateView> {
        TemplateName::ALL
            .into_iter()
            .map(|name| match stored.iter().find(|r| r.name == name) {
                Some(r) => TemplateView { name, customized: true, content: content(r), updated_at: Some(r.updated_at) },
                None => TemplateView { name, customized: false, content: tpl::system_default(name), updated_at: None },
            })
            .collect()
    }

    /// Every system template, customised or the default, in the documented order.
    pub async fn templates(&self, who: &Principal, id: &str) -> Result<Vec<TemplateView>, ServiceError> {
        let a = own_account(self.services, who, id, false).await?;
        Ok(Self::views(&self.stored_templates(&a).await?))
    }

    /// Makes `given` the customer's customised templates; one transaction with
    /// `email_templates.updated`. Problems are named `templates.<name>[.<part>]`.
    pub async fn set_templates(
        &self,
        who: &Principal,
        id: &str,
        given: Vec<(String, TemplateInput)>,
    ) -> Result<Vec<TemplateView>, ServiceError> {
        let a = own_account(self.services, who, id, true).await?;
        let mut e = ValidationErrors::new();
        let mut wanted = Vec::new();
        for (raw, input) in given {
            let field = format!("templates.{raw}");
            let Some(name) = e.check(
                &field,
                TemplateName::parse(&raw)
                    .map_err(|m| format!("unknown template '{}': {m}", partnerd_domain::validation::echo(&raw))),
            ) else {
                continue;
            };
            let c = EmailContent {
                subject: input.subject.unwrap_or_default(),
                html: input.html.unwrap_or_default(),
                text: input.text.unwrap_or_default(),
            };
            let problems = tpl::validate(name, &c);
            for (part, m) in &problems {
                e.add(&format!("{field}.{part}"), m.clone());
            }
            if problems.is_empty() {
                wanted.push((name, c));
            }
        }
        e.into_result()?;
        let stored = self.stored_templates(&a).await?;
        let now = self.services.clock.now();
        let mut records = Vec::new();
        let mut changed = Vec::new();
        for (name, c) in &wanted {
            let kept = stored.iter().find(|r| r.name == *name && content(r) == *c);
            if kept.is_none() {
                changed.push(name.as_str().to_owned());
            }
            records.push(EmailTemplateRecord {
                customer_id: a.customer_id.clone(),
                marketplace_id: a.marketplace_id.clone(),
                name: *name,
                subject: c.subject.clone(),
                html_body: c.html.clone(),
                text_body: c.text.clone(),
                updated_at: kept.map_or(now, |r| r.updated_at),
            });
        }
        for r in &stored {
            if !wanted.iter().any(|(n, _)| *n == r.name) {
                changed.push(r.name.as_str().to_owned());
            }
        }
        if changed.is_empty() {
            return Ok(Self::views(&stored));
        }
        let order = |n: &str| TemplateName::NAMES.iter().position(|x| *x == n);
        changed.sort_by_key(|n| order(n));
        records.sort_by_key(|r| order(r.name.as_str()));
        let event = NewEvent::of(&EmailTemplatesUpdated {
            customer_id: a.customer_id.clone(),
            customized: records.iter().map(|r| r.name.as_str().to_owned()).collect(),
            changed,
        })
        .partner(Some(a.partner_id.clone()))
        .actor(Some(who.user_id.clone()));
        self.services
            .store
            .replace_email_templates(&a.marketplace_id, &a.customer_id, records.clone(), vec![event])
            .await?;
        Ok(Self::views(&records))
    }

    /// Renders `template` (the draft if given, else the customer's version) with the
    /// customer's branding and data. Nothing is written.
    pub async fn preview(
        &self,
        who: &Principal,
        id: &str,
        template: &str,
        draft: Option<TemplateInput>,
    ) -> Result<Preview, ServiceError> {
        let a = own_account(self.services, who, id, false).await?;
        let name = TemplateName::parse(template).map_err(|_| ServiceError::not_found("email_template"))?;
        let (content, customized) = match draft {
            Some(d) => {
                let c = EmailContent {
                    subject: d.subject.unwrap_or_default(),
                    html: d.html.unwrap_or_default(),
                    text: d.text.unwrap_or_default(),
                };
                let mut e = ValidationErrors::new();
                for (part, m) in tpl::validate(name, &c) {
                    e.add(part, m);
                }
                e.into_result()?;
                (c, false)
            }
            None => match self.stored_templates(&a).await?.iter().find(|r| r.name == name) {
                Some(r) => (content(r), true),
                None => (tpl::system_default(name), false),
            },
        };
        let store = &self.services.store;
        let b = view(&a.customer_id, store.get_branding(&a.marketplace_id, &a.customer_id).await?).branding;
        let latest = store.latest_invoice_ids(&a.marketplace_id, &a.customer_id, 1).await?;
        let invoice = match latest.first() {
            Some(i) => store.get_invoice(&a.marketplace_id, Some(&a.partner_id), i).await?,
            None => None,
        };
        let now = self.services.clock.now();
        let app_url = b.custom_domain.as_ref().map(|d| format!("https://{d}")).unwrap_or_default();
        let partner_name = who.partner.as_ref().map(|p| p.company_name.clone()).unwrap_or_default();
        let value = |n: &str| -> Option<String> {
            let date = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
            Some(match n {
                "customer.id" => a.customer_id.clone(),
                "customer.company_name" => a.company_name.clone(),
                "customer.contact_name" => a.contact_name.clone(),
                "customer.contact_email" => a.contact_email.clone(),
                "customer.plan" => a.plan.clone(),
                "partner.company_name" => partner_name.clone(),
                "branding.logo_url" => b.logo_url.clone().unwrap_or_default(),
                "branding.primary_color" => b.primary_color.clone(),
                "branding.secondary_color" => b.secondary_color.clone(),
                "branding.custom_domain" => b.custom_domain.clone().unwrap_or_default(),
                "app.url" => app_url.clone(),
                "invoice.number" => invoice.as_ref()?.number.clone(),
                "invoice.total" => amount(invoice.as_ref()?.total_cents),
                "invoice.currency" => invoice.as_ref()?.currency.clone(),
                "invoice.due_date" => date(invoice.as_ref()?.due_at),
                "invoice.period_start" => date(invoice.as_ref()?.period_start),
                "invoice.period_end" => date(invoice.as_ref()?.period_end),
                "payment.next_retry_date" => date(now + Duration::days(PREVIEW_RETRY_DAYS)),
                "reset.url" => format!("{app_url}/reset-password?token=preview"),
                "reset.expires_at" => iso(now + Duration::hours(1)),
                "plan.previous" | "plan.new" => a.plan.clone(),
                "subscription.cancelled_at" => date(a.cancelled_at.unwrap_or(now)),
                _ => return None,
            })
        };
        let rendered = tpl::render_email(name, &content, &value).map_err(|m| {
            // Stored and default templates were checked when written; a draft just now.
            ServiceError::invalid(ValidationErrors::single("template", m))
        })?;
        Ok(Preview { name, customized, rendered })
    }
}

/// A preview shows the next payment retry this many days ahead.
pub const PREVIEW_RETRY_DAYS: i64 = 3;
