//! AppReseller accounts on PostgreSQL: the declarations and SQL are
//! `partnerd_store::schema::accounts`.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Table, count};
use partnerd_store::schema::accounts as sql;
use partnerd_store::schema::customers as csql;
use partnerd_store::schema::subscriptions as plan_sql;
use partnerd_store::*;

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_company(
        &self,
        company: CompanyRecord,
        link: Option<AssociationRecord>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &company, EXTERNAL_ID_TAKEN).await?;
        if let Some(a) = &link {
            insert(&tx, a, ASSOCIATION_EXISTS).await?;
        }
        let fanned = append_events(&tx, &company.marketplace_id, company.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_company(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<CompanyRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_COMPANY.postgres(), &args![marketplace_id, id]).await
    }

    async fn list_companies(
        &self,
        marketplace_id: &str,
        filter: &CompanyFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<CompanyRecord>> {
        let (total_sql, page_sql, f) = sql::list_companies(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("companies", total)?, next })
    }

    async fn is_linked(&self, marketplace_id: &str, reseller: &str, customer: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        let (n,): (i64,) = query_one(&c, sql::IS_LINKED.postgres(), &args![marketplace_id, reseller, customer]).await?;
        Ok(n > 0)
    }

    async fn partner_of_company(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let found: Option<(String,)> =
            query_opt(&c, sql::PARTNER_OF_COMPANY.postgres(), &args![marketplace_id, company_id]).await?;
        Ok(found.map(|(p,)| p))
    }

    async fn create_association(&self, a: AssociationRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &a, ASSOCIATION_EXISTS).await?;
        let fanned = append_events(&tx, &a.marketplace_id, a.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_association(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<AssociationRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_ASSOCIATION.postgres(), &args![marketplace_id, id]).await
    }

    async fn list_associations(
        &self,
        marketplace_id: &str,
        filter: &AssociationFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<AssociationRecord>> {
        let (total_sql, page_sql, f) = sql::list_associations(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("company associations", total)?, next })
    }

    async fn delete_association(
        &self,
        marketplace_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // Lock the association first, so an account cannot start on it between check and delete.
        let locked: Option<(String,)> =
            query_opt(&tx, sql::LOCK_ASSOCIATION.postgres(), &args![marketplace_id, id]).await?;
        if locked.is_none() {
            return Err(StoreError::NotFound("company_association"));
        }
        let (open,): (i64,) =
            query_one(&tx, csql::OPEN_ACCOUNTS_OF_ASSOCIATION.postgres(), &args![marketplace_id, id]).await?;
        if open > 0 {
            return Err(StoreError::Conflict(CUSTOMER_ACCOUNT_ACTIVE.into()));
        }
        if execute(&tx, sql::DELETE_ASSOCIATION.postgres(), &args![marketplace_id, id], "").await? != 1 {
            return Err(StoreError::NotFound("company_association"));
        }
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn create_account_user(&self, new: NewAccountUser, events: Vec<NewEvent>) -> StoreResult<()> {
        let u = &new.user;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // Named conflicts for the common case; a concurrent twin meets the unique indexes.
        let (taken,): (i64,) = query_one(&tx, sql::EMAIL_USED.postgres(), &args![u.marketplace_id, u.email]).await?;
        if taken > 0 {
            return Err(StoreError::Conflict(EMAIL_TAKEN.into()));
        }
        if let Some(x) = &u.external_id {
            let (taken,): (i64,) =
                query_one(&tx, sql::USER_EXTERNAL_ID_USED.postgres(), &args![u.marketplace_id, x]).await?;
            if taken > 0 {
                return Err(StoreError::Conflict(USER_EXTERNAL_ID_TAKEN.into()));
            }
        }
        insert(&tx, u, EMAIL_TAKEN).await?;
        let args = args![u.marketplace_id, u.id, new.company_id, new.roles, u.created_at];
        execute(&tx, sql::INSERT_MEMBERSHIP.postgres(), &args, "membership exists").await?;
        let fanned = append_events(&tx, &u.marketplace_id, u.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_user(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<UserRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_USER.postgres(), &args![marketplace_id, id]).await
    }

    async fn list_users(
        &self,
        marketplace_id: &str,
        filter: &UserFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<UserRecord>> {
        let (total_sql, page_sql, f) = sql::list_users(DIALECT, marketplace_id, filter, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("users", total)?, next })
    }

    async fn user_memberships(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<UserMembership>> {
        let (q, f) = sql::user_memberships(DIALECT, marketplace_id, user_ids);
        let c = self.client().await?;
        query_all(&c, &q, f.args()).await
    }

    async fn save_products(&self, products: Vec<ProductRecord>, events: Vec<NewEvent>) -> StoreResult<()> {
        let Some(first) = products.first() else { return Ok(()) };
        let (m, at) = (first.marketplace_id.clone(), first.updated_at);
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        for p in &products {
            let update = &ProductRecord::statements(DIALECT).update;
            if execute(&tx, update, &p.update_values(), PRODUCT_NAME_TAKEN).await? == 0 {
                insert(&tx, p, PRODUCT_NAME_TAKEN).await?;
            }
            execute(&tx, plan_sql::CLEAR_PLANS.postgres(), &args![p.id], "").await?;
            for plan in plan_sql::plan_rows(p) {
                insert(&tx, &plan, "a payment plan id appears twice in the catalog").await?;
            }
        }
        let fanned = append_events(&tx, &m, at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn products_named(&self, marketplace_id: &str, names: &[String]) -> StoreResult<Vec<ProductRecord>> {
        let (q, f) = sql::products_named(DIALECT, marketplace_id, names);
        let c = self.client().await?;
        query_all(&c, &q, f.args()).await
    }

    async fn get_product(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<ProductRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_PRODUCT.postgres(), &args![marketplace_id, id]).await
    }

    async fn product_image(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row: Option<(Option<String>,)> =
            query_opt(&c, sql::PRODUCT_IMAGE.postgres(), &args![marketplace_id, id]).await?;
        Ok(row.and_then(|(url,)| url))
    }

    async fn list_products(
        &self,
        marketplace_id: &str,
        search: Option<&str>,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<ProductRecord>> {
        let (total_sql, page_sql, f) = sql::list_products(DIALECT, marketplace_id, search, window, limit)?;
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("products", total)?, next })
    }
}
