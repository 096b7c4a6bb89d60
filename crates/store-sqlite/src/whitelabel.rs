//! White-label rows and configuration deployments on SQLite: the declarations and SQL are
//! `partnerd_store::schema::whitelabel`. The single writer serialises deploys, so the check of
//! the current version and the write cannot interleave with another deploy.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, run};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Table, count};
use partnerd_store::schema::whitelabel as wsql;
use partnerd_store::*;

#[async_trait]
impl WhiteLabelStore for SqliteStore {
    async fn get_branding(&self, marketplace_id: &str, customer_id: &str) -> StoreResult<Option<BrandingRecord>> {
        let (m, c) = (marketplace_id.to_owned(), customer_id.to_owned());
        self.readers.read(move |conn| query_opt(conn, wsql::GET_BRANDING.sqlite(), &args![m, c])).await
    }

    async fn save_branding(&self, branding: BrandingRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                execute(c, wsql::UPSERT_BRANDING.sqlite(), &branding.insert_values(), CUSTOM_DOMAIN_TAKEN)?;
                append_events(c, &branding.marketplace_id, branding.updated_at, &events)
            })
            .await
    }

    async fn email_templates(&self, marketplace_id: &str, customer_id: &str) -> StoreResult<Vec<EmailTemplateRecord>> {
        let (m, c) = (marketplace_id.to_owned(), customer_id.to_owned());
        self.readers.read(move |conn| query_all(conn, wsql::LIST_TEMPLATES.sqlite(), &args![m, c])).await
    }

    async fn replace_email_templates(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        templates: Vec<EmailTemplateRecord>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let (m, cu) = (marketplace_id.to_owned(), customer_id.to_owned());
        self.writer
            .write(move |c| {
                run(c, &wsql::DELETE_TEMPLATES, &args![m, cu])?;
                for t in &templates {
                    insert(c, t, "a template is given twice")?;
                }
                let at = templates.iter().map(|t| t.updated_at).max().unwrap_or_else(chrono::Utc::now);
                append_events(c, &m, at, &events)
            })
            .await
    }

    async fn current_deployment(
        &self,
        marketplace_id: &str,
        customer_id: &str,
    ) -> StoreResult<Option<DeploymentRecord>> {
        let (m, c) = (marketplace_id.to_owned(), customer_id.to_owned());
        self.readers.read(move |conn| query_opt(conn, wsql::CURRENT_DEPLOYMENT.sqlite(), &args![m, c])).await
    }

    async fn get_deployment(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        version: i64,
    ) -> StoreResult<Option<DeploymentRecord>> {
        let (m, c) = (marketplace_id.to_owned(), customer_id.to_owned());
        self.readers.read(move |conn| query_opt(conn, wsql::GET_DEPLOYMENT.sqlite(), &args![m, c, version])).await
    }

    async fn list_deployments(
        &self,
        marketplace_id: &str,
        customer_id: &str,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<DeploymentRecord>> {
        let (total_sql, page_sql, f) = wsql::list_deployments(DIALECT, marketplace_id, customer_id, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("deployments", total)?, next })
            })
            .await
    }

    async fn record_deployment(
        &self,
        deployment: DeploymentRecord,
        previous: Option<i64>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let d = &deployment;
                if deployment.version != previous.unwrap_or(0) + 1 {
                    return Err(StoreError::Backend(format!("version {} does not follow {previous:?}", d.version)));
                }
                if let Some(v) = previous {
                    let args = args![d.marketplace_id, d.customer_id, v, d.deployed_at];
                    if execute(c, wsql::SUPERSEDE.sqlite(), &args, "")? != 1 {
                        return Err(StoreError::Conflict(format!("version {v} is no longer current")));
                    }
                }
                insert(c, d, "a concurrent deploy took this version")?;
                append_events(c, &d.marketplace_id, d.deployed_at, &events)
            })
            .await
    }
}
