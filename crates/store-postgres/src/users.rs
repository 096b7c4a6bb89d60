//! Dashboard users on PostgreSQL: the declarations and SQL are `partnerd_store::schema::users`.

use crate::kit::{execute, insert, query_all, query_one, query_opt};
use crate::{PostgresStore, append_events, insert_membership, insert_user, pg};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::schema::users as usql;
use partnerd_store::*;

#[async_trait]
impl UserStore for PostgresStore {
    async fn user_by_email(&self, marketplace_id: &str, email: &str) -> StoreResult<Option<SignInUser>> {
        let c = self.client().await?;
        query_opt(&c, usql::USER_BY_EMAIL.postgres(), &args![marketplace_id, email]).await
    }

    async fn create_user_token(
        &self,
        token: UserTokenRecord,
        new_user: Option<NewInvitedUser>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        if let Some(u) = &new_user {
            insert_user(&tx, &u.user_id, &token.marketplace_id, &u.email, token.created_at).await?;
            insert_membership(&tx, &token.marketplace_id, &u.user_id, &u.company_id, &u.roles, token.created_at)
                .await?;
        }
        insert(&tx, &token, "token exists").await?;
        let fanned = append_events(&tx, &token.marketplace_id, token.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_user_token(&self, token_hash: &str) -> StoreResult<Option<UserTokenRecord>> {
        let c = self.client().await?;
        query_opt(&c, usql::GET_TOKEN.postgres(), &args![token_hash]).await
    }

    async fn redeem_user_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        password_hash: String,
        session: SessionRecord,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // The row lock of the UPDATE makes a concurrent redeemer wait, then find it used.
        if execute(&tx, usql::USE_TOKEN.postgres(), &args![token_hash, now], "").await? != 1 {
            return Ok(false);
        }
        let (m, u) = (&session.marketplace_id, &session.user_id);
        execute(&tx, usql::SET_PASSWORD.postgres(), &args![u, m, password_hash, now], "").await?;
        execute(&tx, usql::RETIRE_USER_TOKENS.postgres(), &args![m, u, now], "").await?;
        execute(&tx, usql::DELETE_USER_SESSIONS.postgres(), &args![m, u], "").await?;
        insert(&tx, &session, "session exists").await?;
        let fanned = append_events(&tx, m, now, &events).await?;
        self.commit(tx, fanned).await?;
        Ok(true)
    }

    async fn create_session(&self, session: SessionRecord) -> StoreResult<()> {
        let c = self.client().await?;
        insert(&c, &session, "session exists").await
    }

    async fn session_for_auth(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionAuth>> {
        let c = self.client().await?;
        query_opt(&c, usql::SESSION_FOR_AUTH.postgres(), &args![id_hash, now]).await
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.client().await?;
        execute(&c, usql::TOUCH_SESSION.postgres(), &args![id_hash, at], "").await.map(drop)
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(execute(&c, usql::DELETE_SESSION.postgres(), &args![id_hash], "").await? > 0)
    }

    async fn delete_user_sessions(&self, marketplace_id: &str, user_id: &str) -> StoreResult<u64> {
        let c = self.client().await?;
        execute(&c, usql::DELETE_USER_SESSIONS.postgres(), &args![marketplace_id, user_id], "").await
    }

    async fn purge_sessions(&self, now: DateTime<Utc>, failures_before: DateTime<Utc>) -> StoreResult<u64> {
        let c = self.client().await?;
        let n = execute(&c, usql::PURGE_SESSIONS.postgres(), &args![now], "").await?;
        execute(&c, usql::PURGE_FAILURES.postgres(), &args![failures_before], "").await?;
        Ok(n)
    }

    async fn record_sign_in_failure(
        &self,
        marketplace_id: &str,
        subjects: &[String],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.client().await?;
        for s in subjects {
            execute(&c, usql::INSERT_FAILURE.postgres(), &args![marketplace_id, s, at], "").await?;
        }
        Ok(())
    }

    async fn sign_in_failures(&self, marketplace_id: &str, subject: &str, since: DateTime<Utc>) -> StoreResult<u64> {
        let c = self.client().await?;
        let (n,): (i64,) =
            query_one(&c, usql::COUNT_FAILURES.postgres(), &args![marketplace_id, subject, since]).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn clear_sign_in_failures(&self, marketplace_id: &str, subject: &str) -> StoreResult<()> {
        let c = self.client().await?;
        execute(&c, usql::CLEAR_FAILURES.postgres(), &args![marketplace_id, subject], "").await.map(drop)
    }

    async fn forget_sign_in_attempt(&self, marketplace_id: &str, subject: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let c = self.client().await?;
        execute(&c, usql::FORGET_ATTEMPT.postgres(), &args![marketplace_id, subject, at], "").await.map(drop)
    }

    async fn dashboard_users(&self, marketplace_id: &str) -> StoreResult<Vec<UserEntry>> {
        let c = self.client().await?;
        query_all(&c, usql::LIST_USERS.postgres(), &args![marketplace_id]).await
    }

    async fn update_partner(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        from: &PartnerState,
        to: &PartnerState,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let args = args![marketplace_id, partner_id, to.plan, to.suspended_at, from.plan, from.suspended_at];
        if execute(&tx, usql::UPDATE_PARTNER.postgres(), &args, "").await? != 1 {
            let (n,): (i64,) =
                query_one(&tx, usql::PARTNER_EXISTS.postgres(), &args![marketplace_id, partner_id]).await?;
            return Err(if n == 0 { StoreError::NotFound("partner") } else { StoreError::Conflict("partner".into()) });
        }
        let fanned = append_events(&tx, marketplace_id, at, &events).await?;
        self.commit(tx, fanned).await
    }
}
