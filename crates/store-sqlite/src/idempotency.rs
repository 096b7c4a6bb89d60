//! Idempotency keys on SQLite: the SQL is `partnerd_store::schema::idempotency`. The claim and
//! the read of a held key run on the single writer, so nothing comes between them.

use crate::SqliteStore;
use crate::kit::{query_opt, run};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_store::schema::idempotency as sql;
use partnerd_store::*;

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let claim = claim.clone();
        self.writer
            .write(move |c| {
                let c_ = &claim;
                let won: Option<(String,)> = query_opt(
                    c,
                    sql::CLAIM.sqlite(),
                    &args![
                        c_.scope,
                        c_.key,
                        c_.fingerprint,
                        c_.claim_token,
                        c_.created_at,
                        c_.locked_until,
                        c_.expires_at,
                        now
                    ],
                )?;
                if won.is_some() {
                    return Ok(None);
                }
                let held = query_opt(c, sql::GET.sqlite(), &args![c_.scope, c_.key])?;
                held.map(Some).ok_or_else(|| StoreError::Backend("an idempotency key vanished while claimed".into()))
            })
            .await
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        claim_token: &str,
        response: &IdempotentResponse,
    ) -> StoreResult<bool> {
        let (s, k, t, r) = (scope.to_owned(), key.to_owned(), claim_token.to_owned(), response.clone());
        self.writer.write(move |c| Ok(run(c, &sql::COMPLETE, &args![s, k, t, r.status, r.headers, r.body])? == 1)).await
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str, claim_token: &str) -> StoreResult<()> {
        let (s, k, t) = (scope.to_owned(), key.to_owned(), claim_token.to_owned());
        self.writer.write(move |c| run(c, &sql::RELEASE, &args![s, k, t]).map(drop)).await
    }

    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.writer.write(move |c| run(c, &sql::PURGE, &args![now]).map(|n| u64::try_from(n).unwrap_or(u64::MAX))).await
    }
}
