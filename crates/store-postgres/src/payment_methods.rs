//! Payment methods on PostgreSQL: the declaration and SQL are
//! `partnerd_store::schema::payment_methods`. Writes for one owner (per seller) queue on an
//! advisory lock, so the first-is-default rule holds across processes; the partial unique index
//! backs the one-default rule.

use crate::kit::{DIALECT, execute, insert, query_all, query_one, query_opt};
use crate::{PostgresStore, append_events, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::payment_method::PaymentMethodType;
use partnerd_store::kit::{Query, count};
use partnerd_store::schema::payment_methods as psql;
use partnerd_store::*;

/// `$1` marketplace, `$2` seller, `$3` owner: held until the transaction ends.
static OWNER_LOCK: Query = partnerd_store::sql!(
    "SELECT pg_advisory_xact_lock(hashtextextended('payment_methods/' || $1 || '/' || $2 || '/' || $3, 0))"
);

#[async_trait]
impl PaymentMethodStore for PostgresStore {
    async fn create_payment_method(
        &self,
        mut p: PaymentMethodRecord,
        events: Vec<NewEvent>,
    ) -> StoreResult<PaymentMethodRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let owner = args![p.marketplace_id, p.seller_company_id, p.owner_user_id];
        execute(&tx, OWNER_LOCK.postgres(), &owner, "").await?;
        let (n,): (i64,) = query_one(&tx, psql::COUNT_OWNER.postgres(), &owner).await?;
        p.is_default = p.is_default || n == 0;
        if p.is_default {
            execute(&tx, psql::CLEAR_DEFAULT.postgres(), &owner, "").await?;
        }
        insert(&tx, &p, "payment method id taken").await?;
        let fanned = append_events(&tx, &p.marketplace_id, p.created_at, &events).await?;
        let stored = query_opt(&tx, psql::GET.postgres(), &args![p.marketplace_id, p.seller_company_id, p.id])
            .await?
            .ok_or(StoreError::NotFound("payment_method"))?;
        self.commit(tx, fanned).await?;
        Ok(stored)
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
        let c = self.client().await?;
        let (total,): (i64,) = query_one(&c, &total_sql, f.condition_args()).await?;
        let (items, next) = f.finish(query_all(&c, &page_sql, f.args()).await?);
        Ok(Paged { items, total: count("payment methods", total)?, next })
    }

    async fn delete_payment_method(
        &self,
        marketplace_id: &str,
        seller_company_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<PaymentMethodRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let found: Option<PaymentMethodRecord> =
            query_opt(&tx, psql::GET.postgres(), &args![marketplace_id, seller_company_id, id]).await?;
        let p = found.ok_or(StoreError::NotFound("payment_method"))?;
        let owner = args![marketplace_id, seller_company_id, p.owner_user_id];
        execute(&tx, OWNER_LOCK.postgres(), &owner, "").await?;
        // Under the owner's lock: whether it is (still) the default, and whether it is still there.
        let deleted: Option<(bool,)> =
            query_opt(&tx, psql::DELETE.postgres(), &args![marketplace_id, seller_company_id, id]).await?;
        let Some((was_default,)) = deleted else { return Err(StoreError::NotFound("payment_method")) };
        if was_default {
            execute(&tx, psql::PROMOTE_NEWEST.postgres(), &owner, "").await?;
        }
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        self.commit(tx, fanned).await?;
        Ok(p)
    }
}
