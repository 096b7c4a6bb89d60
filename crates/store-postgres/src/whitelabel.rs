//! White-label rows and configuration deployments on PostgreSQL: the declarations and SQL are
//! `partnerd_store::schema::whitelabel`. A deploy supersedes the current version with a
//! conditional UPDATE (which waits for, then re-checks against, a concurrent deploy's row lock)
//! and inserts the next version under the unique `(customer_id, version)` index, so two
//! processes can never both take a version.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Table, count};
use partnerd_store::schema::whitelabel as wsql;
use partnerd_store::*;

#[async_trait]
impl WhiteLabelStore for PostgresStore {
    async fn get_branding(&self, marketplace_id: &str, customer_id: &str) -> StoreResult<Option<BrandingRecord>> {
        let c = self.client().await?;
        query_opt(&c, wsql::GET_BRANDING.postgres(), &args![marketplace_id, customer_id]).await
    }

    async fn save_branding(&self, branding: BrandingRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        execute(&tx, wsql::UPSERT_BRANDING.postgres(), &branding.insert_values(), CUSTOM_DOMAIN_TAKEN).await?;
        let fanned = append_events(&tx, &branding.marketplace_id, branding.updated_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn email_templates(&self, marketplace_id: &str, customer_id: &str) -> StoreResult<Vec<EmailTemplateRecord>> {
        let c = self.client().await?;
        query_all(&c, wsql::LIST_TEMPLATES.postgres(), &args![marketplace_id, customer_id]).await
    }

    async fn replace_email_templates(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        templates: Vec<EmailTemplateRecord>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        execute(&tx, wsql::DELETE_TEMPLATES.postgres(), &args![marketplace_id, customer_id], "").await?;
        for t in &templates {
            insert(&tx, t, "a template is given twice").await?;
        }
        let at = templates.iter().map(|t| t.updated_at).max().unwrap_or_else(chrono::Utc::now);
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn current_deployment(
        &self,
        marketplace_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<DeploymentRecord>> {
        let c = self.client().await?;
        query_opt(&c, wsql::CURRENT_DEPLOYMENT.postgres(), &args![marketplace_id, customer_id]).await
    }

    async fn get_deployment(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        version: i64,
    ) -> StoreResult<Option<DeploymentRecord>> {
        let c = self.client().await?;
        query_opt(&c, wsql::GET_DEPLOYMENT.postgres(), &args![marketplace_id, customer_id, version]).await
    }

    async fn list_deployments(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<DeploymentRecord>> {
        let (total_sql, page_sql, f) = wsql::list_deployments(DIALECT, marketplace_id, customer_id, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("deployments", total)?, next })
    }

    async fn record_deployment(
        &self,
        deployment: DeploymentRecord,
        previous: Option<i64>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let d = &deployment;
        if d.version != previous.unwrap_or(0) + 1 {
            return Err(StoreError::Backend(format!("version {} does not follow {previous:?}", d.version)));
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if let Some(v) = previous {
            let args = args![d.marketplace_id, d.customer_id, v, d.deployed_at];
            if execute(&tx, wsql::SUPERSEDE.postgres(), &args, "").await? != 1 {
                return Err(StoreError::Conflict(format!("version {v} is no longer current")));
            }
        }
        insert(&tx, d, "a concurrent deploy took this version").await?;
        let fanned = append_events(&tx, &d.marketplace_id, d.deployed_at, &events).await?;
        self.commit(tx, fanned).await
    }
}
