//! Idempotency keys on PostgreSQL: the SQL is `partnerd_store::schema::idempotency`. Each
//! statement commits on its own; the primary key decides between concurrent claimants, in this
//! process or another.

use crate::PostgresStore;
use crate::kit::{execute, query_opt};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_store::schema::idempotency as sql;
use partnerd_store::*;

/// A key released or purged between a refused claim and the read of its holder: claim again.
const CLAIM_ATTEMPTS: usize = 3;

#[async_trait]
impl IdempotencyStore for PostgresStore {
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let c = self.client().await?;
        let k = claim;
        for _ in 0..CLAIM_ATTEMPTS {
            let args =
                args![k.scope, k.key, k.fingerprint, k.claim_token, k.created_at, k.locked_until, k.expires_at, now];
            let won: Option<(String,)> = query_opt(&c, sql::CLAIM.postgres(), &args).await?;
            if won.is_some() {
                return Ok(None);
            }
            if let Some(held) = query_opt(&c, sql::GET.postgres(), &args![k.scope, k.key]).await? {
                return Ok(Some(held));
            }
        }
        Err(StoreError::Backend("an idempotency key kept vanishing while being claimed".into()))
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        claim_token: &str,
        response: &IdempotentResponse,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        let r = response;
        let args = args![scope, key, claim_token, r.status, r.headers, r.body];
        Ok(execute(&c, sql::COMPLETE.postgres(), &args, "").await? == 1)
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str, claim_token: &str) -> StoreResult<()> {
        let c = self.client().await?;
        execute(&c, sql::RELEASE.postgres(), &args![scope, key, claim_token], "").await.map(drop)
    }

    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let c = self.client().await?;
        execute(&c, sql::PURGE.postgres(), &args![now], "").await
    }
}
