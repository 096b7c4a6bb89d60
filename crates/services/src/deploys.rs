//! Configuration deploys of customer accounts: each distinct configuration becomes the next
//! numbered version (1, 2, 3… per customer), the previous one `superseded`; deploying the
//! configuration that is already current (same canonical hash) changes nothing and answers the
//! current version.
//!
//! A deploy reads the current version, computes what changed against it and writes the next
//! one in one transaction that refuses if the current version moved meanwhile. Deploys of one
//! customer in this process take turns; a conflict with another process is retried (re-read,
//! re-compared), so concurrent deploys get consecutive versions, each with its true changes.

use crate::contention::{EDIT_LOCKS, WRITE_ATTEMPTS, pause_before};
use crate::error::codes;
use crate::whitelabel::own_account;
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::deploy::{self, ConfigChanges, Configuration, ConfigurationInput, DeploymentStatus};
use partnerd_domain::events::{ConfigurationDeployed, NewEvent};
use partnerd_domain::ids::new_id;
use partnerd_store::{DeploymentRecord, StoreError};
use partnerd_store::{Paged, Window};

/// One version of a customer's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub customer_id: String,
    pub version: i64,
    pub status: DeploymentStatus,
    pub config_hash: String,
    pub configuration: Configuration,
    pub changes: ConfigChanges,
    pub deployed_by: Option<String>,
    pub deployed_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
}

/// A deploy's answer: the current version, and whether this request created it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployOutcome {
    pub deployment: Deployment,
    pub created: bool,
}

pub struct Deploys<'a> {
    pub(crate) services: &'a Services,
}

fn unreadable(what: &str, e: serde_json::Error) -> ServiceError {
    ServiceError::unavailable(format!("a stored deployment's {what} is unreadable: {e}"))
}

fn deployment(r: DeploymentRecord) -> Result<Deployment, ServiceError> {
    Ok(Deployment {
        configuration: serde_json::from_value(r.configuration).map_err(|e| unreadable("configuration", e))?,
        changes: serde_json::from_value(r.changes).map_err(|e| unreadable("changes", e))?,
        id: r.id,
        customer_id: r.customer_id,
        version: r.version,
        status: r.status,
        config_hash: r.config_hash,
        deployed_by: r.deployed_by,
        deployed_at: r.deployed_at,
        superseded_at: r.superseded_at,
    })
}

impl Deploys<'_> {
    /// Deploys `input` to the customer: a new version, or the current one when unchanged.
    pub async fn deploy(
        &self,
        who: &Principal,
        id: &str,
        input: ConfigurationInput,
    ) -> Result<DeployOutcome, ServiceError> {
        let a = own_account(self.services, who, id, true).await?;
        let config = deploy::validate(input)?;
        let hash = config.hash();
        let store = &self.services.store;
        let _turn = EDIT_LOCKS.turn(format!("deployment:{}:{}", a.marketplace_id, a.customer_id)).await;
        for attempt in 1..=WRITE_ATTEMPTS {
            pause_before(attempt).await;
            let current = store.current_deployment(&a.marketplace_id, &a.customer_id).await?;
            if let Some(c) = current.as_ref().filter(|c| c.config_hash == hash) {
                return Ok(DeployOutcome { deployment: deployment(c.clone())?, created: false });
            }
            let previous = match &current {
                Some(c) => {
                    // The current version is the one that moves on.
                    c.status.transition(DeploymentStatus::Superseded).map_err(ServiceError::unavailable)?;
                    Some(deployment(c.clone())?)
                }
                None => None,
            };
            let changes = deploy::changes(previous.as_ref().map(|p| &p.configuration), &config);
            let now = self.services.clock.now();
            let version = previous.as_ref().map_or(1, |p| p.version + 1);
            let record = DeploymentRecord {
                id: new_id("deploy"),
                marketplace_id: a.marketplace_id.clone(),
                customer_id: a.customer_id.clone(),
                version,
                status: DeploymentStatus::Deployed,
                config_hash: hash.clone(),
                configuration: partnerd_domain::events::to_stored(&config),
                changes: partnerd_domain::events::to_stored(&changes),
                deployed_by: Some(who.user_id.clone()),
                deployed_at: now,
                superseded_at: None,
            };
            let event = NewEvent::of(&ConfigurationDeployed {
                customer_id: a.customer_id.clone(),
                deployment_id: record.id.clone(),
                version,
                config_hash: hash.clone(),
                changes: changes.clone(),
            })
            .partner(Some(a.partner_id.clone()))
            .actor(Some(who.user_id.clone()));
            match store.record_deployment(record.clone(), previous.as_ref().map(|p| p.version), vec![event]).await {
                Ok(()) => return Ok(DeployOutcome { deployment: deployment(record)?, created: true }),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::conflict("deployment", codes::CONCURRENT_CHANGE))
    }

    /// The customer's versions, newest first, with the total.
    pub async fn list(
        &self,
        who: &Principal,
        id: &str,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<Deployment>, ServiceError> {
        let a = own_account(self.services, who, id, false).await?;
        let Paged { items, total, next } =
            self.services.store.list_deployments(&a.marketplace_id, &a.customer_id, window, limit).await?;
        Ok(Paged { items: items.into_iter().map(deployment).collect::<Result<_, _>>()?, total, next })
    }

    pub async fn get(&self, who: &Principal, id: &str, version: i64) -> Result<Deployment, ServiceError> {
        let a = own_account(self.services, who, id, false).await?;
        self.services
            .store
            .get_deployment(&a.marketplace_id, &a.customer_id, version)
            .await?
            .map(deployment)
            .ok_or_else(|| ServiceError::not_found("deployment"))?
    }
}
