//! AppReseller accounts on SQLite: the declarations and SQL are `partnerd_store::schema::accounts`.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt, run};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use partnerd_domain::events::NewEvent;
use partnerd_store::kit::{Table, count};
use partnerd_store::schema::accounts as sql;
use partnerd_store::schema::customers as csql;
use partnerd_store::schema::subscriptions as plan_sql;
use partnerd_store::*;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_company(
        &self,
        company: CompanyRecord,
        link: Option<AssociationRecord>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &company, EXTERNAL_ID_TAKEN)?;
                if let Some(a) = &link {
                    insert(c, a, ASSOCIATION_EXISTS)?;
                }
                append_events(c, &company.marketplace_id, company.created_at, &events)
            })
            .await
    }

    async fn get_company(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<CompanyRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_COMPANY.sqlite(), &args![m, id])).await
    }

    async fn list_companies(
        &self,
        marketplace_id: &str,
        filter: &CompanyFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<CompanyRecord>> {
        let (total_sql, page_sql, f) = sql::list_companies(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("companies", total)?, next })
            })
            .await
    }

    async fn is_linked(&self, marketplace_id: &str, reseller: &str, customer: &str) -> StoreResult<bool> {
        let (m, r, cu) = (marketplace_id.to_owned(), reseller.to_owned(), customer.to_owned());
        self.readers
            .read(move |c| {
                let (n,): (i64,) = query_one(c, sql::IS_LINKED.sqlite(), &args![m, r, cu])?;
                Ok(n > 0)
            })
            .await
    }

    async fn partner_of_company(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Option<String>> {
        let (m, id) = (marketplace_id.to_owned(), company_id.to_owned());
        let found: Option<(String,)> =
            self.readers.read(move |c| query_opt(c, sql::PARTNER_OF_COMPANY.sqlite(), &args![m, id])).await?;
        Ok(found.map(|(p,)| p))
    }

    async fn create_association(&self, a: AssociationRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert(c, &a, ASSOCIATION_EXISTS)?;
                append_events(c, &a.marketplace_id, a.created_at, &events)
            })
            .await
    }

    async fn get_association(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<AssociationRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_ASSOCIATION.sqlite(), &args![m, id])).await
    }

    async fn list_associations(
        &self,
        marketplace_id: &str,
        filter: &AssociationFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<AssociationRecord>> {
        let (total_sql, page_sql, f) = sql::list_associations(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("company associations", total)?, next })
            })
            .await
    }

    async fn delete_association(
        &self,
        marketplace_id: &str,
        id: &str,
        at: chrono::DateTime<chrono::Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                let (open,): (i64,) = query_one(c, csql::OPEN_ACCOUNTS_OF_ASSOCIATION.sqlite(), &args![m, id])?;
                if open > 0 {
                    return Err(StoreError::Conflict(CUSTOMER_ACCOUNT_ACTIVE.into()));
                }
                if execute(c, sql::DELETE_ASSOCIATION.sqlite(), &args![m, id], "")? != 1 {
                    return Err(StoreError::NotFound("company_association"));
                }
                append_events(c, &m, at, &events)
            })
            .await
    }

    async fn create_account_user(&self, new: NewAccountUser, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let u = &new.user;
                // The single writer makes these checks exact; the unique indexes back them.
                let (taken,): (i64,) = query_one(c, sql::EMAIL_USED.sqlite(), &args![u.marketplace_id, u.email])?;
                if taken > 0 {
                    return Err(StoreError::Conflict(EMAIL_TAKEN.into()));
                }
                if let Some(x) = &u.external_id {
                    let (taken,): (i64,) =
                        query_one(c, sql::USER_EXTERNAL_ID_USED.sqlite(), &args![u.marketplace_id, x])?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(USER_EXTERNAL_ID_TAKEN.into()));
                    }
                }
                insert(c, u, EMAIL_TAKEN)?;
                let args = args![u.marketplace_id, u.id, new.company_id, new.roles, u.created_at];
                execute(c, sql::INSERT_MEMBERSHIP.sqlite(), &args, "membership exists")?;
                append_events(c, &u.marketplace_id, u.created_at, &events)
            })
            .await
    }

    async fn get_user(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<UserRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_USER.sqlite(), &args![m, id])).await
    }

    async fn list_users(
        &self,
        marketplace_id: &str,
        filter: &UserFilter,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<UserRecord>> {
        let (total_sql, page_sql, f) = sql::list_users(DIALECT, marketplace_id, filter, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("users", total)?, next })
            })
            .await
    }

    async fn user_memberships(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<UserMembership>> {
        let (q, f) = sql::user_memberships(DIALECT, marketplace_id, user_ids);
        self.readers.read(move |c| query_all(c, &q, f.args())).await
    }

    async fn save_products(&self, products: Vec<ProductRecord>, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let Some(first) = products.first() else { return Ok(()) };
                let (m, at) = (first.marketplace_id.clone(), first.updated_at);
                for p in &products {
                    let updated =
                        execute(c, &ProductRecord::statements(DIALECT).update, &p.update_values(), PRODUCT_NAME_TAKEN)?;
                    if updated == 0 {
                        insert(c, p, PRODUCT_NAME_TAKEN)?;
                    }
                    run(c, &plan_sql::CLEAR_PLANS, &args![p.id])?;
                    for plan in plan_sql::plan_rows(p) {
                        insert(c, &plan, "a payment plan id appears twice in the catalog")?;
                    }
                }
                append_events(c, &m, at, &events)
            })
            .await
    }

    async fn products_named(&self, marketplace_id: &str, names: &[String]) -> StoreResult<Vec<ProductRecord>> {
        let (q, f) = sql::products_named(DIALECT, marketplace_id, names);
        self.readers.read(move |c| query_all(c, &q, f.args())).await
    }

    async fn get_product(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<ProductRecord>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_PRODUCT.sqlite(), &args![m, id])).await
    }

    async fn product_image(&self, marketplace_id: &str, id: &str) -> StoreResult<Option<String>> {
        let (m, id) = (marketplace_id.to_owned(), id.to_owned());
        let row: Option<(Option<String>,)> =
            self.readers.read(move |c| query_opt(c, sql::PRODUCT_IMAGE.sqlite(), &args![m, id])).await?;
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
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("products", total)?, next })
            })
            .await
    }
}
