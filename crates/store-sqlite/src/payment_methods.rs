//! Payment methods on SQLite: the declaration and SQL are `partnerd_store::schema::payment_methods`.
//! The single writer serialises every write, so the first-is-default and one-default rules hold.

use crate::kit::{DIALECT, insert, query_all, query_one, query_opt, run};
use crate::{SqliteStore, append_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::payment_method::PaymentMethodType;
use partnerd_store::kit::count;
use partnerd_store::schema::payment_methods as psql;
use partnerd_store::*;

#[async_trait]
impl PaymentMethodStore for SqliteStore {
    async fn create_payment_method(
        &self,
        mut p: PaymentMethodRecord,
        events: Vec<NewEvent>,
    ) -> StoreResult<PaymentMethodRecord> {
        self.writer
            .write(move |c| {
                let owner = args![p.marketplace_id, p.seller_company_id, p.owner_user_id];
                let (n,): (i64,) = query_one(c, psql::COUNT_OWNER.sqlite(), &owner)?;
                p.is_default = p.is_default || n == 0;
                if p.is_default {
                    run(c, &psql::CLEAR_DEFAULT, &owner)?;
                }
                insert(c, &p, "payment method id taken")?;
                append_events(c, &p.marketplace_id, p.created_at, &events)?;
                query_opt(c, psql::GET.sqlite(), &args![p.marketplace_id, p.seller_company_id, p.id])?
                    .ok_or(StoreError::NotFound("payment_method"))
            })
            .await
    }

    async fn list_payment_methods(
        &self,
        marketplace_id: &str,
        seller_company_id: &str,
        owner_user_id: &str,
        method_type: Option<PaymentMethodType>,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<PaymentMethodRecord>> {
        let (total_sql, page_sql, f) =
            psql::list(DIALECT, marketplace_id, seller_company_id, owner_user_id, method_type, window, limit)?;
        self.readers
            .read(move |c| {
                let (total,): (i64,) = query_one(c, &total_sql, f.condition_args())?;
                let (items, next) = f.finish(query_all(c, &page_sql, f.args())?);
                Ok(Paged { items, total: count("payment methods", total)?, next })
            })
            .await
    }

    async fn delete_payment_method(
        &self,
        marketplace_id: &str,
        seller_company_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<PaymentMethodRecord> {
        let (m, s, id) = (marketplace_id.to_owned(), seller_company_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                let found: Option<PaymentMethodRecord> = query_opt(c, psql::GET.sqlite(), &args![m, s, id])?;
                let p = found.ok_or(StoreError::NotFound("payment_method"))?;
                let deleted: Option<(bool,)> = query_opt(c, psql::DELETE.sqlite(), &args![m, s, id])?;
                let Some((was_default,)) = deleted else { return Err(StoreError::NotFound("payment_method")) };
                if was_default {
                    run(c, &psql::PROMOTE_NEWEST, &args![m, s, p.owner_user_id])?;
                }
                append_events(c, &m, at, &events)?;
                Ok(p)
            })
            .await
    }
}
