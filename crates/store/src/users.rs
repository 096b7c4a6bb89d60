//! Dashboard users: passwords, one-time links, server-side sessions and failed sign-ins
//! (migration 0022), and the operator's partner changes (plan, suspension). Tokens and session
//! ids are stored as their SHA-256 only; the services hash what a browser presents.

use crate::{PartnerRecord, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::partner::Role;

/// A user as sign-in sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInUser {
    pub user_id: String,
    pub marketplace_id: String,
    pub email: String,
    /// An Argon2id PHC string; `None` until the user accepted an invitation.
    pub password_hash: Option<String>,
    /// A user disabled through the AppReseller API cannot sign in (and its sessions end).
    pub enabled: bool,
}

/// An invitation (`invitation`: first password) or a password reset (`reset`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserTokenRecord {
    pub token_hash: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub purpose: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub marketplace_id: String,
    pub user_id: String,
    /// The membership the session acts in.
    pub company_id: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Everything a request needs about its session, in one read (as `KeyAuth` for keys).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAuth {
    pub id_hash: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub user_email: String,
    pub company_id: String,
    pub roles: Vec<Role>,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub partner: Option<PartnerRecord>,
}

/// What the operator changes of a partner: its plan and whether (since when) it is suspended.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerState {
    pub plan: String,
    pub suspended_at: Option<DateTime<Utc>>,
}

/// A user of the marketplace, for the operator's list.
#[derive(Debug, Clone, PartialEq)]
pub struct UserEntry {
    pub user_id: String,
    pub email: String,
    pub company_id: String,
    pub company_name: String,
    pub partner_id: Option<String>,
    pub roles: Vec<Role>,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

/// A user made by an invitation, with the membership they get.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInvitedUser {
    pub user_id: String,
    pub email: String,
    pub company_id: String,
    pub roles: Vec<Role>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user_by_email(&self, marketplace_id: &str, email: &str) -> StoreResult<Option<SignInUser>>;

    /// Stores a one-time link, creating its user (and membership) first when `new_user` is
    /// given, with the events, in one transaction. `Conflict` when the e-mail is taken.
    async fn create_user_token(
        &self,
        token: UserTokenRecord,
        new_user: Option<NewInvitedUser>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;

    async fn get_user_token(&self, token_hash: &str) -> StoreResult<Option<UserTokenRecord>>;

    /// In one transaction: marks the link used (`false`, nothing written, when it was used
    /// already or expired at `now`), sets the password, ends every session of the user and
    /// starts `session`.
    async fn redeem_user_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        password_hash: String,
        session: SessionRecord,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool>;

    async fn create_session(&self, session: SessionRecord) -> StoreResult<()>;

    /// The session if it exists and has not expired at `now`.
    async fn session_for_auth(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionAuth>>;

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Ends one session (`false` when there was none).
    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool>;

    /// Ends every session of the user; answers how many.
    async fn delete_user_sessions(&self, marketplace_id: &str, user_id: &str) -> StoreResult<u64>;

    /// Ends the sessions that expired before `now`; answers how many.
    async fn purge_sessions(&self, now: DateTime<Utc>, failures_before: DateTime<Utc>) -> StoreResult<u64>;

    async fn record_sign_in_failure(
        &self,
        marketplace_id: &str,
        subjects: &[String],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Failures recorded for `subject` at or after `since`.
    async fn sign_in_failures(&self, marketplace_id: &str, subject: &str, since: DateTime<Utc>) -> StoreResult<u64>;

    async fn clear_sign_in_failures(&self, marketplace_id: &str, subject: &str) -> StoreResult<()>;

    /// Removes the one attempt recorded for `subject` at `at` (an attempt is recorded before
    /// the password is checked, so concurrent guesses cannot all pass the count; a right one
    /// is then forgotten).
    async fn forget_sign_in_attempt(&self, marketplace_id: &str, subject: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Every user of the marketplace with their first membership, oldest first.
    async fn dashboard_users(&self, marketplace_id: &str) -> StoreResult<Vec<UserEntry>>;

    /// Moves the partner's plan and suspension from `from` (as read) to `to`, with the events;
    /// `Conflict("partner")` when it is no longer `from` (another change came first: nothing
    /// is written), `NotFound("partner")` when the marketplace has no such partner.
    async fn update_partner(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        from: &PartnerState,
        to: &PartnerState,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
}
