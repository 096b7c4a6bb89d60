//! AppReseller accounts: companies, their users and company associations, as the reseller,
//! the reseller manager and the channel admin see them (`policy::account_scope`). Companies
//! here are the same rows as partners' companies and the reseller document's customers.

use crate::error::codes;
use crate::policy::{self, Context};
use crate::{Principal, ServiceError, Services};
use partnerd_domain::ValidationErrors;
use partnerd_domain::account::{CompanyAction, CompanySize, optional_text};
use partnerd_domain::events::{
    CompanyAssociationCreated, CompanyAssociationDeleted, CompanyCreated, NewEvent, UserCreated,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::{CompanyName, Email, Role};
use partnerd_store::{
    ASSOCIATION_EXISTS, AssociationFilter, AssociationRecord, CUSTOMER_ACCOUNT_ACTIVE, CompanyBilling, CompanyFilter,
    CompanyRecord, CompanyScope, EMAIL_TAKEN, EXTERNAL_ID_TAKEN, NewAccountUser, StoreError, USER_EXTERNAL_ID_TAKEN,
    UserFilter, UserMembership, UserRecord,
};
use partnerd_store::{Paged, Window};
use std::collections::HashMap;

pub struct Accounts<'a> {
    pub(crate) services: &'a Services,
}

/// The roles of the document's `Role` enumeration a user may be created with, per company:
/// in a reseller's customer company only `USER` (no membership role).
pub const GRANTABLE_ROLES: &[&str] = &["USER"];

/// A company as its details endpoint shows it to this caller.
#[derive(Debug, Clone)]
pub struct CompanyView {
    pub company: CompanyRecord,
    pub actions: Vec<CompanyAction>,
    /// Roles the caller may give the company's users (document `Role` names).
    pub available_roles: Vec<&'static str>,
    /// `(unit, value)`, the document's six summary statistics.
    pub stats: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct CreateCompany {
    pub name: String,
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub company_size: Option<CompanySize>,
    pub created_by_company_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub company_id: String,
    pub created_by_company_id: Option<String>,
    pub email: String,
    pub external_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Document `Role` names; each must be grantable ([`GRANTABLE_ROLES`]).
    pub roles: Vec<String>,
}

/// A user with those of its memberships the caller may see.
#[derive(Debug, Clone)]
pub struct UserView {
    pub user: UserRecord,
    pub memberships: Vec<UserMembership>,
}

/// Who may read and change associations: the document's ROLE_CHANNEL_ADMIN and
/// ROLE_RESELLER_MANAGER. (ROLE_PARTNER / ROLE_PARTNER_READ are the marketplace's own API
/// roles there; partnerd's `partner`/`partner_read` membership roles belong to partner
/// companies and grant nothing marketplace-wide.)
const ASSOCIATION_SCOPE: &[Role] = &[Role::ChannelAdmin, Role::ResellerManager];

impl Accounts<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        self.services.store.as_ref()
    }

    /// Whether the caller in `scope` may see `company` (its own company included).
    async fn sees(&self, p: &Principal, scope: &CompanyScope, company: &CompanyRecord) -> Result<bool, ServiceError> {
        if company.id == p.company_id {
            return Ok(true);
        }
        self.manages(p, scope, &company.id, company.is_reseller, company.is_referral).await
    }

    /// Whether `company_id` is one of the scope's companies (not the caller's own).
    async fn manages(
        &self,
        p: &Principal,
        scope: &CompanyScope,
        company_id: &str,
        is_reseller: bool,
        is_referral: bool,
    ) -> Result<bool, ServiceError> {
        let linked = match scope {
            CompanyScope::LinkedTo(reseller) => self.store().is_linked(&p.marketplace_id, reseller, company_id).await?,
            CompanyScope::ResellersAndReferrals => false,
        };
        Ok(policy::in_scope(scope, is_reseller, is_referral, linked))
    }

    fn scope(p: &Principal, context: Context) -> Result<CompanyScope, ServiceError> {
        policy::account_scope(p, context)?.ok_or_else(|| ServiceError::forbidden("context", codes::CONTEXT_NOT_HELD))
    }

    /// `GET /companies/{id}`: the caller's own company or one it manages; others are 404.
    pub async fn company(&self, p: &Principal, context: Context, id: &str) -> Result<CompanyView, ServiceError> {
        let scope = Self::scope(p, context)?;
        let company = self.store().get_company(&p.marketplace_id, id).await?;
        let Some(company) = company else { return Err(ServiceError::not_found("company")) };
        if !self.sees(p, &scope, &company).await? {
            return Err(ServiceError::not_found("company"));
        }
        let own = company.id == p.company_id;
        let (actions, available_roles) = match (&scope, own) {
            (_, true) => (vec![], vec!["USER"]),
            (CompanyScope::LinkedTo(_), false) => (vec![CompanyAction::InviteUsers], GRANTABLE_ROLES.to_vec()),
            (CompanyScope::ResellersAndReferrals, false) if company.is_reseller => {
                (vec![CompanyAction::LinkResellerToCustomer], vec!["USER"])
            }
            (CompanyScope::ResellersAndReferrals, false) => (vec![], vec!["USER"]),
        };
        let billing = self.store().company_billing(&p.marketplace_id, &company.id).await?;
        let products = self.services.subscriptions().company_counts(&p.marketplace_id, &company.id).await?;
        Ok(CompanyView {
            company,
            actions,
            available_roles,
            stats: stats(&billing, products, &self.services.billing.prices.currency),
        })
    }

    /// `GET /companies`: the scope's companies (`filter.scope` is replaced by the caller's).
    pub async fn list_companies(
        &self,
        p: &Principal,
        context: Context,
        mut filter: CompanyFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<CompanyRecord>, ServiceError> {
        filter.scope = Self::scope(p, context)?;
        Ok(self.store().list_companies(&p.marketplace_id, &filter, window, limit).await?)
    }

    /// `POST /companies`: a customer company created by, and associated with, the caller's
    /// reseller company.
    pub async fn create_company(&self, p: &Principal, input: CreateCompany) -> Result<CompanyRecord, ServiceError> {
        policy::holds(p, Context::Reseller)?;
        if input.created_by_company_id.as_deref().is_some_and(|c| c != p.company_id) {
            return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
        }
        let mut errors = ValidationErrors::new();
        let name = errors.check("name", CompanyName::parse(&input.name));
        let external_id = errors.check("externalId", optional_text(input.external_id.as_deref(), 100)).flatten();
        let phone = errors.check("phone", optional_text(input.phone.as_deref(), 40)).flatten();
        let website = errors.check("website", optional_text(input.website.as_deref(), 300)).flatten();
        errors.into_result()?;
        let name = name.expect("validated");
        let now = self.services.clock.now();
        let company = CompanyRecord {
            id: new_id("company"),
            marketplace_id: p.marketplace_id.clone(),
            name: name.as_str().to_owned(),
            kind: "customer".into(),
            external_id,
            phone,
            website,
            company_size: input.company_size.map(|s| s.as_str().to_owned()),
            is_reseller: false,
            is_referral: false,
            is_developer: false,
            is_channel_admin: false,
            is_customer: true,
            enabled: true,
            active: true,
            created_by_company_id: Some(p.company_id.clone()),
            settings: serde_json::json!([]),
            tax_exemptions: serde_json::json!([]),
            created_at: now,
            num_users: 0,
        };
        let link = association(&p.marketplace_id, &company.id, &company.name, &p.company_id, now);
        let partner = p.partner.as_ref().map(|x| x.id.clone());
        let events = vec![
            NewEvent::of(&CompanyCreated {
                company_id: company.id.clone(),
                name: company.name.clone(),
                external_id: company.external_id.clone(),
                created_by_company_id: company.created_by_company_id.clone(),
            })
            .partner(partner.clone())
            .actor(Some(p.user_id.clone())),
            NewEvent::of(&CompanyAssociationCreated {
                association_id: link.id.clone(),
                customer_company_id: company.id.clone(),
                reseller_company_id: p.company_id.clone(),
            })
            .partner(partner)
            .actor(Some(p.user_id.clone())),
        ];
        self.store().create_company(company.clone(), Some(link), events).await.map_err(|e| match e {
            StoreError::Conflict(m) if m == EXTERNAL_ID_TAKEN => {
                ServiceError::conflict("company", codes::EXTERNAL_ID_TAKEN)
            }
            other => other.into(),
        })?;
        Ok(company)
    }

    /// The memberships of `users` the caller may see, grouped per user.
    async fn visible_memberships(
        &self,
        p: &Principal,
        scope: &CompanyScope,
        users: Vec<UserRecord>,
    ) -> Result<Vec<UserView>, ServiceError> {
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        let all = self.store().user_memberships(&p.marketplace_id, &ids).await?;
        let mut seen: HashMap<String, bool> = HashMap::new();
        let mut by_user: HashMap<String, Vec<UserMembership>> = HashMap::new();
        for m in all {
            let visible = match seen.get(&m.company_id) {
                Some(v) => *v,
                None => {
                    let v = m.company_id == p.company_id
                        || self.manages(p, scope, &m.company_id, m.company_is_reseller, m.company_is_referral).await?;
                    seen.insert(m.company_id.clone(), v);
                    v
                }
            };
            if visible {
                by_user.entry(m.user_id.clone()).or_default().push(m);
            }
        }
        Ok(users
            .into_iter()
            .map(|user| {
                let memberships = by_user.remove(&user.id).unwrap_or_default();
                UserView { user, memberships }
            })
            .collect())
    }

    /// 403 unless `company_id` is one the caller manages in `scope` (a spoofed `companyId`).
    async fn require_managed(&self, p: &Principal, scope: &CompanyScope, company_id: &str) -> Result<(), ServiceError> {
        let company = self.store().get_company(&p.marketplace_id, company_id).await?;
        let managed = match company {
            Some(c) => self.manages(p, scope, &c.id, c.is_reseller, c.is_referral).await?,
            None => false,
        };
        if managed { Ok(()) } else { Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED)) }
    }

    /// `GET /users`: users with a membership in the scope's companies (`filter.scope` is
    /// replaced by the caller's; `filter.company_id` must be one of them).
    pub async fn list_users(
        &self,
        p: &Principal,
        context: Context,
        mut filter: UserFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<UserView>, ServiceError> {
        let scope = Self::scope(p, context)?;
        if let Some(c) = &filter.company_id {
            self.require_managed(p, &scope, c).await?;
        }
        filter.scope = scope.clone();
        let Paged { items, total, next } = self.store().list_users(&p.marketplace_id, &filter, window, limit).await?;
        Ok(Paged { items: self.visible_memberships(p, &scope, items).await?, total, next })
    }

    /// `GET /users/{id}`: a user of `company_id`, which the caller must manage.
    pub async fn user(
        &self,
        p: &Principal,
        context: Context,
        user_id: &str,
        company_id: &str,
    ) -> Result<UserView, ServiceError> {
        let scope = Self::scope(p, context)?;
        self.require_managed(p, &scope, company_id).await?;
        let user = self.store().get_user(&p.marketplace_id, user_id).await?;
        let Some(user) = user else { return Err(ServiceError::not_found("user")) };
        let mut views = self.visible_memberships(p, &scope, vec![user]).await?;
        let view = views.pop().ok_or(ServiceError::not_found("user"))?;
        if !view.memberships.iter().any(|m| m.company_id == company_id) {
            return Err(ServiceError::not_found("user"));
        }
        Ok(view)
    }

    /// `POST /users`: a user of a customer company the caller's reseller company is
    /// associated with.
    pub async fn create_user(
        &self,
        p: &Principal,
        context: Context,
        input: CreateUser,
    ) -> Result<UserView, ServiceError> {
        // The scope table names ROLE_RESELLER only, whatever context is passed.
        if context != Context::Reseller {
            return Err(ServiceError::forbidden("api_key", codes::SCOPE_REQUIRED));
        }
        let scope = Self::scope(p, context)?;
        if input.created_by_company_id.as_deref().is_some_and(|c| c != p.company_id) {
            return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
        }
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&input.email));
        let external_id = errors.check("externalId", optional_text(input.external_id.as_deref(), 100)).flatten();
        let first_name = errors.check("firstName", optional_text(input.first_name.as_deref(), 100)).flatten();
        let last_name = errors.check("lastName", optional_text(input.last_name.as_deref(), 100)).flatten();
        if input.company_id.trim().is_empty() {
            errors.add("companyId", "is required");
        }
        for (i, r) in input.roles.iter().enumerate() {
            if !GRANTABLE_ROLES.contains(&r.as_str()) {
                errors.add(
                    &format!("roles[{i}]"),
                    format!(
                        "'{r}' cannot be granted in a customer company (grantable: {})",
                        GRANTABLE_ROLES.join(", ")
                    ),
                );
            }
        }
        errors.into_result()?;
        self.require_managed(p, &scope, &input.company_id).await?;
        let email = email.expect("validated");
        let now = self.services.clock.now();
        let user = UserRecord {
            id: new_id("user"),
            marketplace_id: p.marketplace_id.clone(),
            email: email.as_str().to_owned(),
            first_name,
            last_name,
            external_id,
            // Not activated until the user first signs in: a pending invitation.
            activated: false,
            enabled: true,
            created_at: now,
        };
        let event = NewEvent::of(&UserCreated {
            user_id: user.id.clone(),
            email: user.email.clone(),
            company_id: input.company_id.clone(),
            roles: vec![],
        })
        .partner(p.partner.as_ref().map(|x| x.id.clone()))
        .actor(Some(p.user_id.clone()));
        let new = NewAccountUser { user: user.clone(), company_id: input.company_id.clone(), roles: vec![] };
        self.store().create_account_user(new, vec![event]).await.map_err(|e| match e {
            StoreError::Conflict(m) if m == EMAIL_TAKEN => ServiceError::conflict("user", codes::EMAIL_TAKEN),
            StoreError::Conflict(m) if m == USER_EXTERNAL_ID_TAKEN => {
                ServiceError::conflict("user", codes::EXTERNAL_ID_TAKEN)
            }
            other => other.into(),
        })?;
        let mut views = self.visible_memberships(p, &scope, vec![user]).await?;
        views.pop().ok_or(ServiceError::not_found("user"))
    }

    /// `GET /companyAssociations`.
    pub async fn list_associations(
        &self,
        p: &Principal,
        filter: &AssociationFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<AssociationRecord>, ServiceError> {
        policy::require_scope(p, ASSOCIATION_SCOPE)?;
        Ok(self.store().list_associations(&p.marketplace_id, filter, window, limit).await?)
    }

    /// `POST /companyAssociations`: 404 for a missing company, 409 when the reseller company is
    /// no reseller, is the customer itself, or is associated already.
    pub async fn create_association(
        &self,
        p: &Principal,
        customer_company_id: &str,
        reseller_company_id: &str,
    ) -> Result<AssociationRecord, ServiceError> {
        policy::require_scope(p, ASSOCIATION_SCOPE)?;
        let m = &p.marketplace_id;
        let customer = self.store().get_company(m, customer_company_id).await?;
        let reseller = self.store().get_company(m, reseller_company_id).await?;
        let (Some(customer), Some(reseller)) = (customer, reseller) else {
            return Err(ServiceError::not_found("company"));
        };
        if !reseller.is_reseller {
            return Err(ServiceError::conflict("company_association", codes::RESELLER_REQUIRED));
        }
        if customer.id == reseller.id {
            return Err(ServiceError::conflict("company_association", codes::SAME_COMPANY));
        }
        let now = self.services.clock.now();
        let mut a = association(m, &customer.id, &customer.name, &reseller.id, now);
        a.reseller_company_name = reseller.name.clone();
        let event = NewEvent::of(&CompanyAssociationCreated {
            association_id: a.id.clone(),
            customer_company_id: customer.id.clone(),
            reseller_company_id: reseller.id.clone(),
        })
        .partner(self.store().partner_of_company(m, &reseller.id).await?)
        .actor(Some(p.user_id.clone()));
        self.store().create_association(a.clone(), vec![event]).await.map_err(|e| match e {
            StoreError::Conflict(msg) if msg == ASSOCIATION_EXISTS => {
                ServiceError::conflict("company_association", codes::ALREADY_ASSOCIATED)
            }
            other => other.into(),
        })?;
        Ok(a)
    }

    /// `DELETE /companyAssociations/{id}`.
    pub async fn delete_association(&self, p: &Principal, id: &str) -> Result<(), ServiceError> {
        policy::require_scope(p, ASSOCIATION_SCOPE)?;
        let m = &p.marketplace_id;
        let a = self.store().get_association(m, id).await?.ok_or(ServiceError::not_found("company_association"))?;
        let event = NewEvent::of(&CompanyAssociationDeleted {
            association_id: a.id.clone(),
            customer_company_id: a.customer_company_id.clone(),
            reseller_company_id: a.reseller_company_id.clone(),
        })
        .partner(self.store().partner_of_company(m, &a.reseller_company_id).await?)
        .actor(Some(p.user_id.clone()));
        self.store().delete_association(m, id, self.services.clock.now(), vec![event]).await.map_err(|e| match e {
            StoreError::Conflict(msg) if msg == CUSTOMER_ACCOUNT_ACTIVE => {
                ServiceError::conflict("company_association", codes::CUSTOMER_ACCOUNT_ACTIVE)
            }
            other => other.into(),
        })?;
        Ok(())
    }
}

fn association(
    marketplace_id: &str,
    customer_id: &str,
    customer_name: &str,
    reseller_id: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> AssociationRecord {
    AssociationRecord {
        id: new_id("assoc"),
        marketplace_id: marketplace_id.to_owned(),
        customer_company_id: customer_id.to_owned(),
        customer_company_name: customer_name.to_owned(),
        reseller_company_id: reseller_id.to_owned(),
        reseller_company_name: String::new(),
        created_at: at,
    }
}

/// The document's six summary statistics, from the company's invoices (its customer account's
/// and its subscriptions' orders) and subscriptions: "Unpaid Invoices" counts its open
/// invoices, "Total Spent" sums its paid ones (in the document's format, `$1,234.50`; several
/// currencies are joined with ` + `); the trial and product counts are its subscriptions by
/// status (`products`: free trials, expired trials, active, suspended).
fn stats(billing: &[CompanyBilling], products: [u64; 4], default_currency: &str) -> Vec<(&'static str, String)> {
    let unpaid: i64 = billing.iter().map(|b| b.open_invoices).sum();
    let spent: Vec<String> =
        billing.iter().filter(|b| b.paid_cents != 0).map(|b| spent_text(&b.currency, b.paid_cents)).collect();
    let spent = if spent.is_empty() { spent_text(default_currency, 0) } else { spent.join(" + ") };
    vec![
        ("Free Trials", products[0].to_string()),
        ("Expired Free Trials", products[1].to_string()),
        ("Purchased Products", products[2].to_string()),
        ("Suspended Products", products[3].to_string()),
        ("Unpaid Invoices", unpaid.to_string()),
        ("Total Spent", spent),
    ]
}

/// `$1,234.50`: the currency's symbol (or its code and a space), thousands grouped, two decimals.
pub fn spent_text(currency: &str, cents: i64) -> String {
    let symbol = match currency {
        "USD" => "$".to_owned(),
        "EUR" => "€".to_owned(),
        "GBP" => "£".to_owned(),
        "JPY" => "¥".to_owned(),
        other => format!("{other} "),
    };
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::with_capacity(units.len() + units.len() / 3);
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{symbol}{grouped}.{:02}", c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_spent_reads_as_the_document_shows() {
        assert_eq!(spent_text("USD", 0), "$0.00");
        assert_eq!(spent_text("USD", 123_450), "$1,234.50");
        assert_eq!(spent_text("USD", 100_000_000), "$1,000,000.00");
        assert_eq!(spent_text("EUR", 5), "€0.05");
        assert_eq!(spent_text("CHF", 99_900), "CHF 999.00");
    }

    #[test]
    fn stats_count_open_invoices_and_sum_paid_ones() {
        let b = vec![CompanyBilling { currency: "USD".into(), open_invoices: 2, paid_cents: 4_900 }];
        let s = stats(&b, [0, 0, 3, 1], "USD");
        assert_eq!(s[2], ("Purchased Products", "3".into()));
        assert_eq!(s[3], ("Suspended Products", "1".into()));
        assert_eq!(s[4], ("Unpaid Invoices", "2".into()));
        assert_eq!(s[5], ("Total Spent", "$49.00".into()));
        assert_eq!(stats(&[], [0; 4], "USD")[5], ("Total Spent", "$0.00".into()));
    }
}
