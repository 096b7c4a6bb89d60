//! Dashboard users on SQLite: the declarations and SQL are `partnerd_store::schema::users`.

use crate::kit::{insert, query_all, query_one, query_opt, run};
use crate::{SqliteStore, append_events, insert_membership, insert_user};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_store::schema::users as usql;
use partnerd_store::*;

#[async_trait]
impl UserStore for SqliteStore {
    async fn user_by_email(&self, marketplace_id: &str, email: &str) -> StoreResult<Option<SignInUser>> {
        let (m, e) = (marketplace_id.to_owned(), email.to_owned());
        self.readers.read(move |c| query_opt(c, usql::USER_BY_EMAIL.sqlite(), &args![m, e])).await
    }

    async fn create_user_token(
        &self,
        token: UserTokenRecord,
        new_user: Option<NewInvitedUser>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                if let Some(u) = &new_user {
                    insert_user(c, &u.user_id, &token.marketplace_id, &u.email, token.created_at)?;
                    insert_membership(c, &token.marketplace_id, &u.user_id, &u.company_id, &u.roles, token.created_at)?;
                }
                insert(c, &token, "token exists")?;
                append_events(c, &token.marketplace_id, token.created_at, &events)
            })
            .await
    }

    async fn get_user_token(&self, token_hash: &str) -> StoreResult<Option<UserTokenRecord>> {
        let t = token_hash.to_owned();
        self.readers.read(move |c| query_opt(c, usql::GET_TOKEN.sqlite(), &args![t])).await
    }

    async fn redeem_user_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        password_hash: String,
        session: SessionRecord,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        let t = token_hash.to_owned();
        self.writer
            .write(move |c| {
                if run(c, &usql::USE_TOKEN, &args![t, now])? != 1 {
                    return Ok(false);
                }
                let (m, u) = (&session.marketplace_id, &session.user_id);
                run(c, &usql::SET_PASSWORD, &args![u, m, password_hash, now])?;
                run(c, &usql::RETIRE_USER_TOKENS, &args![m, u, now])?;
                run(c, &usql::DELETE_USER_SESSIONS, &args![m, u])?;
                insert(c, &session, "session exists")?;
                append_events(c, m, now, &events)?;
                Ok(true)
            })
            .await
    }

    async fn create_session(&self, session: SessionRecord) -> StoreResult<()> {
        self.writer.write(move |c| insert(c, &session, "session exists")).await
    }

    async fn session_for_auth(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionAuth>> {
        let id = id_hash.to_owned();
        self.readers.read(move |c| query_opt(c, usql::SESSION_FOR_AUTH.sqlite(), &args![id, now])).await
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let id = id_hash.to_owned();
        self.writer.write(move |c| run(c, &usql::TOUCH_SESSION, &args![id, at]).map(drop)).await
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool> {
        let id = id_hash.to_owned();
        self.writer.write(move |c| Ok(run(c, &usql::DELETE_SESSION, &args![id])? > 0)).await
    }

    async fn delete_user_sessions(&self, marketplace_id: &str, user_id: &str) -> StoreResult<u64> {
        let (m, u) = (marketplace_id.to_owned(), user_id.to_owned());
        self.writer.write(move |c| Ok(run(c, &usql::DELETE_USER_SESSIONS, &args![m, u])? as u64)).await
    }

    async fn purge_sessions(&self, now: DateTime<Utc>, failures_before: DateTime<Utc>) -> StoreResult<u64> {
        self.writer
            .write(move |c| {
                let n = run(c, &usql::PURGE_SESSIONS, &args![now])?;
                run(c, &usql::PURGE_FAILURES, &args![failures_before])?;
                Ok(n as u64)
            })
            .await
    }

    async fn record_sign_in_failure(
        &self,
        marketplace_id: &str,
        subjects: &[String],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (m, subjects) = (marketplace_id.to_owned(), subjects.to_vec());
        self.writer
            .write(move |c| {
                for s in &subjects {
                    run(c, &usql::INSERT_FAILURE, &args![m, s, at])?;
                }
                Ok(())
            })
            .await
    }

    async fn sign_in_failures(&self, marketplace_id: &str, subject: &str, since: DateTime<Utc>) -> StoreResult<u64> {
        let (m, s) = (marketplace_id.to_owned(), subject.to_owned());
        self.readers
            .read(move |c| {
                let (n,): (i64,) = query_one(c, usql::COUNT_FAILURES.sqlite(), &args![m, s, since])?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }

    async fn clear_sign_in_failures(&self, marketplace_id: &str, subject: &str) -> StoreResult<()> {
        let (m, s) = (marketplace_id.to_owned(), subject.to_owned());
        self.writer.write(move |c| run(c, &usql::CLEAR_FAILURES, &args![m, s]).map(drop)).await
    }

    async fn forget_sign_in_attempt(&self, marketplace_id: &str, subject: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let (m, s) = (marketplace_id.to_owned(), subject.to_owned());
        self.writer.write(move |c| run(c, &usql::FORGET_ATTEMPT, &args![m, s, at]).map(drop)).await
    }

    async fn dashboard_users(&self, marketplace_id: &str) -> StoreResult<Vec<UserEntry>> {
        let m = marketplace_id.to_owned();
        self.readers.read(move |c| query_all(c, usql::LIST_USERS.sqlite(), &args![m])).await
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
        let (m, p, from, to) = (marketplace_id.to_owned(), partner_id.to_owned(), from.clone(), to.clone());
        self.writer
            .write(move |c| {
                let changed = args![m, p, to.plan, to.suspended_at, from.plan, from.suspended_at];
                if run(c, &usql::UPDATE_PARTNER, &changed)? != 1 {
                    let (n,): (i64,) = query_one(c, usql::PARTNER_EXISTS.sqlite(), &args![m, p])?;
                    return Err(if n == 0 {
                        StoreError::NotFound("partner")
                    } else {
                        StoreError::Conflict("partner".into())
                    });
                }
                append_events(c, &m, at, &events)
            })
            .await
    }
}
