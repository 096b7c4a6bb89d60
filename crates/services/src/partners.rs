//! Partner enrolment, API keys and the marketplace bootstrap: the operator's use cases (CLI),
//! and the partner's view of itself.

use crate::contention::WRITE_ATTEMPTS;
use crate::error::codes;
use crate::{Principal, ServiceError, Services, policy};
use chrono::{DateTime, Utc};
use partnerd_domain::events::{
    ApiKeyCreated, ApiKeyRevoked, MarketplaceCreated, NewEvent, PartnerCreated, PartnerUpdated,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::ip::IpRule;
use partnerd_domain::partner::{CompanyName, Email, PlanName, Role};
use partnerd_domain::{ValidationErrors, api_key};
use partnerd_store::{
    ApiKeyRecord, Marketplace, NewApiKey, NewMarketplace, NewPartner, PartnerRecord, PartnerState, StoreError,
};

pub struct Partners<'a> {
    pub(crate) services: &'a Services,
}

/// The default marketplace, and its operator key when this call created it (shown once).
pub struct Bootstrap {
    pub marketplace: Marketplace,
    pub operator_key: Option<String>,
}

pub struct CreatePartner {
    pub name: String,
    pub email: String,
    pub plan: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CreatedPartner {
    pub partner_id: String,
    pub company_id: String,
    pub user_id: String,
    pub key_id: String,
    /// The only time the key is shown.
    pub api_key: String,
}

pub struct CreateKey {
    pub user_id: String,
    /// Required only when the user belongs to several companies.
    pub company_id: Option<String>,
    pub name: String,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The operator's change to a partner: a new plan, suspension (`Some(true)`) or its end.
#[derive(Debug, Clone, Default)]
pub struct PartnerChange {
    pub plan: Option<String>,
    pub suspended: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key_id: String,
    pub api_key: String,
}

/// The operator user's e-mail on a new marketplace (its dashboard sign-in).
pub const OPERATOR_EMAIL: &str = "operator@localhost";

impl Partners<'_> {
    /// Finds the default marketplace, creating it with its operator on a brand-new database.
    /// Safe when several processes start at once: one creates, the others read its result.
    pub async fn bootstrap(&self) -> Result<Bootstrap, ServiceError> {
        let store = &self.services.store;
        if let Some(m) = store.default_marketplace().await? {
            return Ok(Bootstrap { marketplace: m, operator_key: None });
        }
        let now = self.services.clock.now();
        let id = new_id("mkt");
        let company = new_id("company");
        let user = new_id("user");
        let key = api_key::generate();
        let new = NewMarketplace {
            operator_key: new_key(&key, &id, &user, &company, "operator", vec![], None, now),
            name: "Default marketplace".into(),
            operator_company_id: company.clone(),
            operator_user_id: user.clone(),
            operator_email: OPERATOR_EMAIL.into(),
            created_at: now,
            events: vec![
                NewEvent::of(&MarketplaceCreated { marketplace_id: id.clone() }),
                NewEvent::of(&ApiKeyCreated { key_id: key.key_id.clone(), user_id: user.clone() }),
            ],
            id,
        };
        match store.create_default_marketplace(new).await {
            Ok(m) => Ok(Bootstrap { marketplace: m, operator_key: Some(key.token) }),
            Err(StoreError::Conflict(_)) => {
                let m = store.default_marketplace().await?.ok_or(ServiceError::not_found("marketplace"))?;
                Ok(Bootstrap { marketplace: m, operator_key: None })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Enrols a company as a partner with its admin user and first API key, in one transaction.
    pub async fn create(&self, marketplace_id: &str, input: CreatePartner) -> Result<CreatedPartner, ServiceError> {
        let mut errors = ValidationErrors::new();
        let name = errors.check("name", CompanyName::parse(&input.name));
        let email = errors.check("email", Email::parse(&input.email));
        let plan = errors.check("plan", PlanName::parse(&input.plan));
        if let Some(p) = &plan
            && self.services.plans.limits(p.as_str()).is_none()
        {
            let known: Vec<&str> = self.services.plans.names().collect();
            errors.add("plan", format!("unknown plan '{p}' (expected one of: {})", known.join(", ")));
        }
        let mut roles = Vec::new();
        for r in &input.roles {
            if let Some(role) = errors.check("role", Role::parse(r)) {
                roles.push(role);
            }
        }
        if input.roles.is_empty() {
            roles.push(Role::Reseller);
        }
        errors.into_result()?;
        let (name, email, plan) = (name.expect("validated"), email.expect("validated"), plan.expect("validated"));

        let now = self.services.clock.now();
        let partner_id = new_id("partner");
        let company_id = new_id("company");
        let user_id = new_id("user");
        let key = api_key::generate();
        let payload = PartnerCreated {
            partner_id: partner_id.clone(),
            company_id: company_id.clone(),
            company_name: name.as_str().to_owned(),
            email: email.as_str().to_owned(),
            plan: plan.as_str().to_owned(),
        };
        let new = NewPartner {
            key: new_key(&key, marketplace_id, &user_id, &company_id, "default", vec![], None, now),
            marketplace_id: marketplace_id.to_owned(),
            events: vec![
                NewEvent::of(&payload).partner(Some(partner_id.clone())),
                NewEvent::of(&ApiKeyCreated { key_id: key.key_id.clone(), user_id: user_id.clone() })
                    .partner(Some(partner_id.clone())),
            ],
            partner_id: partner_id.clone(),
            company_id: company_id.clone(),
            company_name: name.as_str().to_owned(),
            contact_email: email.as_str().to_owned(),
            plan: plan.as_str().to_owned(),
            user_id: user_id.clone(),
            roles,
            created_at: now,
        };
        self.services.store.create_partner(new).await.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::conflict("user", codes::EMAIL_TAKEN),
            e => e.into(),
        })?;
        Ok(CreatedPartner { partner_id, company_id, user_id, key_id: key.key_id, api_key: key.token })
    }

    /// Changes a partner's plan or suspension (an operator action). A suspended partner's keys
    /// and dashboard sessions are refused until it is resumed; its data stays. Cached keys are
    /// dropped here at once and in other processes on their next poll (`partner.updated`).
    pub async fn update(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        change: PartnerChange,
    ) -> Result<PartnerRecord, ServiceError> {
        let store = &self.services.store;
        let plan = match &change.plan {
            None => None,
            Some(p) => {
                let plan = PlanName::parse(p).map_err(|e| ValidationErrors::single("plan", e))?;
                if self.services.plans.limits(plan.as_str()).is_none() {
                    let known: Vec<&str> = self.services.plans.names().collect();
                    return Err(ValidationErrors::single(
                        "plan",
                        format!("unknown plan '{plan}' (expected one of: {})", known.join(", ")),
                    )
                    .into());
                }
                Some(plan.as_str().to_owned())
            }
        };
        // Compare-and-set from the state read: a plan change racing a suspension (the CLI and
        // a dashboard tab) must not undo it; the loser re-reads and applies its own change.
        for _ in 0..WRITE_ATTEMPTS {
            let current =
                store.get_partner(marketplace_id, partner_id).await?.ok_or(ServiceError::not_found("partner"))?;
            let now = self.services.clock.now();
            let from = PartnerState { plan: current.plan.clone(), suspended_at: current.suspended_at };
            let to = PartnerState {
                plan: plan.clone().unwrap_or_else(|| current.plan.clone()),
                suspended_at: match change.suspended {
                    None => current.suspended_at,
                    Some(true) => current.suspended_at.or(Some(now)),
                    Some(false) => None,
                },
            };
            let event = NewEvent::of(&PartnerUpdated {
                partner_id: partner_id.to_owned(),
                plan: to.plan.clone(),
                suspended: to.suspended_at.is_some(),
            })
            .partner(Some(partner_id.to_owned()));
            match store.update_partner(marketplace_id, partner_id, &from, &to, now, vec![event]).await {
                Ok(()) => {
                    self.services.auth.evict_partner(partner_id);
                    return Ok(PartnerRecord { plan: to.plan, suspended_at: to.suspended_at, ..current });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::conflict("partner", codes::CONCURRENT_CHANGE))
    }

    pub async fn list(&self, marketplace_id: &str) -> Result<Vec<PartnerRecord>, ServiceError> {
        Ok(self.services.store.list_partners(marketplace_id).await?)
    }

    /// The calling partner's own profile. Served from the authenticated principal: the key
    /// lookup already read it.
    pub fn profile(&self, principal: &Principal) -> Result<PartnerRecord, ServiceError> {
        policy::acting(principal, None)?;
        principal.partner.clone().ok_or_else(|| ServiceError::forbidden("partner", codes::PARTNER_REQUIRED))
    }

    pub async fn create_key(&self, marketplace_id: &str, input: CreateKey) -> Result<CreatedKey, ServiceError> {
        let mut errors = ValidationErrors::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.add("name", "must be 1 to 100 characters");
        }
        let mut rules = Vec::new();
        for raw in &input.allowed_ips {
            if let Some(rule) = errors.check("allowed_ips", raw.parse::<IpRule>()) {
                rules.push(rule.to_string());
            }
        }
        if input.expires_at.is_some_and(|t| t <= self.services.clock.now()) {
            errors.add("expires_at", "must be in the future");
        }
        errors.into_result()?;

        let store = &self.services.store;
        let memberships = store.memberships(marketplace_id, &input.user_id).await?;
        let membership = match (&input.company_id, memberships.as_slice()) {
            (_, []) => return Err(ServiceError::not_found("user")),
            (Some(c), ms) => ms.iter().find(|m| &m.company_id == c).ok_or(ServiceError::not_found("membership"))?,
            (None, [only]) => only,
            (None, _) => {
                return Err(
                    ValidationErrors::single("company", "the user belongs to several companies: name one").into()
                );
            }
        };
        let (company_id, partner_id) = (membership.company_id.clone(), membership.partner_id.clone());
        let now = self.services.clock.now();
        let key = api_key::generate();
        let new = new_key(&key, marketplace_id, &input.user_id, &company_id, name, rules, input.expires_at, now);
        let ev = NewEvent::of(&ApiKeyCreated { key_id: key.key_id.clone(), user_id: input.user_id.clone() })
            .partner(partner_id.clone());
        store.create_key(new, vec![ev]).await?;
        Ok(CreatedKey { key_id: key.key_id, api_key: key.token })
    }

    pub async fn list_keys(&self, marketplace_id: &str, user_id: &str) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        Ok(self.services.store.list_keys(marketplace_id, user_id).await?)
    }

    /// The caller's own keys (the dashboard's Settings > API keys).
    pub async fn own_keys(&self, principal: &Principal) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        let keys = self.services.store.list_keys(&principal.marketplace_id, &principal.user_id).await?;
        Ok(keys.into_iter().filter(|k| k.company_id == principal.company_id).collect())
    }

    /// A new key for the caller, in the company it acts in, with the CLI's rules.
    pub async fn create_own_key(
        &self,
        principal: &Principal,
        name: &str,
        allowed_ips: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedKey, ServiceError> {
        let input = CreateKey {
            user_id: principal.user_id.clone(),
            company_id: Some(principal.company_id.clone()),
            name: name.to_owned(),
            allowed_ips,
            expires_at,
        };
        self.create_key(&principal.marketplace_id, input).await
    }

    /// Revokes one of the caller's own keys (another user's is not found), as the CLI does.
    pub async fn revoke_own_key(&self, principal: &Principal, key_id: &str) -> Result<ApiKeyRecord, ServiceError> {
        if !self.own_keys(principal).await?.iter().any(|k| k.id == key_id) {
            return Err(ServiceError::not_found("api_key"));
        }
        self.revoke_key(&principal.marketplace_id, key_id).await
    }

    /// Revokes a key; this process stops accepting it at once, others within their poll interval.
    pub async fn revoke_key(&self, marketplace_id: &str, key_id: &str) -> Result<ApiKeyRecord, ServiceError> {
        let now = self.services.clock.now();
        let ev = NewEvent::of(&ApiKeyRevoked { key_id: key_id.to_owned() });
        let revoked = self.services.store.revoke_key(marketplace_id, key_id, now, ev).await?;
        self.services.auth.evict(key_id);
        Ok(revoked)
    }
}

/// The operator's dashboard: the CLI's use cases above, for a signed-in operator (a partner's
/// user is refused), in the operator's marketplace.
impl Partners<'_> {
    /// `partners create` for the operator.
    pub async fn enrol(&self, operator: &Principal, input: CreatePartner) -> Result<CreatedPartner, ServiceError> {
        policy::require_operator(operator)?;
        self.create(&operator.marketplace_id, input).await
    }

    /// `partners update` for the operator.
    pub async fn change(
        &self,
        operator: &Principal,
        partner_id: &str,
        change: PartnerChange,
    ) -> Result<PartnerRecord, ServiceError> {
        policy::require_operator(operator)?;
        self.update(&operator.marketplace_id, partner_id, change).await
    }

    /// Every partner of the operator's marketplace.
    pub async fn all(&self, operator: &Principal) -> Result<Vec<PartnerRecord>, ServiceError> {
        policy::require_operator(operator)?;
        self.list(&operator.marketplace_id).await
    }

    /// One partner of the operator's marketplace (suspended ones too).
    pub async fn get(&self, operator: &Principal, partner_id: &str) -> Result<PartnerRecord, ServiceError> {
        policy::require_operator(operator)?;
        self.services
            .store
            .get_partner(&operator.marketplace_id, partner_id)
            .await?
            .ok_or(ServiceError::not_found("partner"))
    }

    /// The API keys of the partner's users in the partner's company (revoked ones included).
    pub async fn partner_keys(
        &self,
        operator: &Principal,
        partner_id: &str,
    ) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        let partner = self.get(operator, partner_id).await?;
        Ok(self.services.store.list_company_keys(&operator.marketplace_id, &partner.company_id).await?)
    }
}

#[allow(clippy::too_many_arguments)]
fn new_key(
    key: &api_key::GeneratedKey,
    marketplace_id: &str,
    user_id: &str,
    company_id: &str,
    name: &str,
    allowed_ips: Vec<String>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> NewApiKey {
    NewApiKey {
        id: key.key_id.clone(),
        marketplace_id: marketplace_id.to_owned(),
        user_id: user_id.to_owned(),
        company_id: company_id.to_owned(),
        name: name.to_owned(),
        display_prefix: key.display_prefix.clone(),
        secret_hash: key.secret_hash.to_vec(),
        allowed_ips,
        expires_at,
        created_at: now,
    }
}
