//! Dashboard users: one-time invitation and reset links, Argon2id passwords, server-side
//! sessions and the sign-in limit. A session resolves to the same [`Principal`] an API key
//! does, so every page calls the same use cases, under the same policy, as the APIs.
//!
//! Secrets never reach the store: links and session ids are random tokens kept as their
//! SHA-256, passwords as Argon2id PHC strings. Sessions are rows, so signing out (or a password
//! reset, which ends every session of the user) takes effect in every process at once.

use crate::{Principal, ServiceError, Services};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{NewEvent, UserInvited, UserPasswordSet};
use partnerd_domain::ids::{new_id, random_token};
use partnerd_domain::partner::{Email, Role};
use partnerd_store::{Membership, NewInvitedUser, SessionAuth, SessionRecord, StoreError, UserEntry, UserTokenRecord};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// How long an invitation link stays usable.
pub const INVITATION_TTL: Duration = Duration::days(7);
/// How long a password-reset link stays usable.
pub const RESET_TTL: Duration = Duration::hours(24);
/// A session ends this long after sign-in, whatever its use.
pub const SESSION_LIFETIME: Duration = Duration::days(7);
/// A session unused this long ends.
pub const SESSION_IDLE: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often (a write per page view would serialise reads).
const TOUCH_EVERY: Duration = Duration::minutes(5);
/// The sign-in limit: failures counted over this window...
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// ...refuse further attempts for an account after this many...
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 5;
/// ...and from an address after this many (several people may share one address).
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;
/// Password length bounds, in characters (the upper one bounds the hashing cost).
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// What a link is for. Both set the password; a reset also ends the user's other sessions
/// (so does an invitation, which has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Invitation,
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::Reset => "reset",
        }
    }

    fn ttl(self) -> Duration {
        match self {
            LinkPurpose::Invitation => INVITATION_TTL,
            LinkPurpose::Reset => RESET_TTL,
        }
    }
}

/// Who an invitation is for when no user has the e-mail yet.
#[derive(Debug, Clone, PartialEq)]
pub enum NewUserIn {
    /// A user of the partner's company with these roles (`reseller` when empty).
    Partner { partner_id: String, roles: Vec<String> },
    /// A user of the operator's company (the marketplace's channel admin).
    Operator,
}

/// A link issued: the token is shown once (in the URL `/dashboard/invitation/{token}`).
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedLink {
    pub user_id: String,
    pub email: String,
    pub purpose: LinkPurpose,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A link as its page shows it before the password is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkDetails {
    pub email: String,
    pub purpose: LinkPurpose,
}

/// A session just started: the cookie value is shown to the browser once.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    Started(StartedSession),
    /// Unknown e-mail or wrong password: the same answer for both.
    Refused,
    /// The password is right, but the user's partner is suspended: no session.
    Suspended,
    /// Too many failures for the account or the address; retry after this many seconds.
    Throttled {
        retry_after: i64,
    },
}

/// A request's session: who it is and the token its forms must carry.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSession {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub struct Users<'a> {
    pub(crate) services: &'a Services,
}

/// Whether `token` can be one of ours (43 alphanumerics, as `random_token(43)` makes): other
/// input is refused before any database read.
fn token_shaped(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// SHA-256 of a token, hex: what the store keeps of links and sessions.
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane, the
/// OWASP recommendation). CPU-bound for ~tens of milliseconds: call it off the async workers.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| ServiceError::unavailable(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::unavailable(format!("password hashing: {e}")))
}

/// Checks a password against a stored PHC string (false for a malformed one).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The field rules of a new password.
pub fn check_password(password: &str, confirmation: &str) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        errors.add("password", format!("must be at least {PASSWORD_MIN} characters"));
    } else if n > PASSWORD_MAX {
        errors.add("password", format!("must be at most {PASSWORD_MAX} characters"));
    }
    if password != confirmation {
        errors.add("password_confirmation", "does not match the password");
    }
    errors.into_result()
}

/// A stand-in hash for unknown e-mails, so an attacker cannot tell them from wrong passwords
/// by the answer's time.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token(24)).unwrap_or_default())
}

/// Password hashes computed at once, process-wide: each takes 19 MiB and a core for tens of
/// milliseconds, so a flood of sign-in attempts queues here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    let _permit = HASHING.acquire().await.map_err(|e| ServiceError::unavailable(format!("hashing: {e}")))?;
    tokio::task::spawn_blocking(f).await.map_err(|e| ServiceError::unavailable(format!("hashing task: {e}")))
}

/// The membership a user works in on the dashboard: its partner's company, or the operator's
/// (`channel_admin`). Users of AppReseller customer companies belong to neither and have no
/// dashboard.
fn dashboard_membership(memberships: Vec<Membership>) -> Option<Membership> {
    memberships.into_iter().find(|m| has_dashboard(m.partner_id.as_deref(), &m.roles))
}

/// Whether a member of a company with this partner (if any) and these roles has a dashboard.
pub fn has_dashboard(partner_id: Option<&str>, roles: &[Role]) -> bool {
    partner_id.is_some() || roles.contains(&Role::ChannelAdmin)
}

fn normalized(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Users<'_> {
    /// Issues a one-time link for the user with `email`; when there is none and `new_user`
    /// says where, creates the user (in the same transaction). The operator's action (CLI,
    /// operator pages).
    pub async fn issue_link(
        &self,
        marketplace_id: &str,
        email: &str,
        purpose: LinkPurpose,
        new_user: Option<NewUserIn>,
    ) -> Result<IssuedLink, ServiceError> {
        let store = &self.services.store;
        let email = normalized(email);
        let existing = store.user_by_email(marketplace_id, &email).await?;
        let (user_id, email, invited) = match (existing, new_user) {
            (Some(u), place) => {
                let membership = dashboard_membership(store.memberships(marketplace_id, &u.user_id).await?)
                    .filter(|_| u.enabled)
                    .ok_or(ServiceError::conflict("user", crate::error::codes::NO_DASHBOARD))?;
                // An existing e-mail is not moved: inviting it elsewhere is a conflict, not a
                // link into the company it already belongs to.
                let elsewhere = match &place {
                    Some(NewUserIn::Operator) => membership.partner_id.is_some(),
                    Some(NewUserIn::Partner { partner_id, .. }) => membership.partner_id.as_ref() != Some(partner_id),
                    None => false,
                };
                if elsewhere {
                    return Err(ServiceError::conflict("user", crate::error::codes::EMAIL_TAKEN));
                }
                (u.user_id, u.email, None)
            }
            (None, None) => return Err(ServiceError::not_found("user")),
            (None, Some(place)) => {
                let email = Email::parse(&email).map_err(|e| ValidationErrors::single("email", e))?;
                let (company_id, roles) = match place {
                    NewUserIn::Operator => {
                        let operator =
                            store.memberships(marketplace_id, &self.operator_user(marketplace_id).await?).await?;
                        let m = operator.into_iter().next().ok_or(ServiceError::not_found("marketplace"))?;
                        (m.company_id, m.roles)
                    }
                    NewUserIn::Partner { partner_id, roles } => {
                        let p = store
                            .get_partner(marketplace_id, &partner_id)
                            .await?
                            .ok_or(ServiceError::not_found("partner"))?;
                        let mut errors = ValidationErrors::new();
                        let mut parsed = Vec::new();
                        for r in &roles {
                            if let Some(role) = errors.check("role", Role::parse(r)) {
                                parsed.push(role);
                            }
                        }
                        errors.into_result()?;
                        if parsed.is_empty() {
                            parsed.push(Role::Reseller);
                        }
                        (p.company_id, parsed)
                    }
                };
                let user_id = new_id("user");
                let new =
                    NewInvitedUser { user_id: user_id.clone(), email: email.as_str().to_owned(), company_id, roles };
                (user_id, email.as_str().to_owned(), Some(new))
            }
        };
        let now = self.services.clock.now();
        let token = random_token(43);
        let expires_at = now + purpose.ttl();
        let record = UserTokenRecord {
            token_hash: token_digest(&token),
            marketplace_id: marketplace_id.to_owned(),
            user_id: user_id.clone(),
            purpose: purpose.as_str().to_owned(),
            created_at: now,
            expires_at,
            used_at: None,
        };
        let event = NewEvent::of(&UserInvited {
            user_id: user_id.clone(),
            email: email.clone(),
            purpose: purpose.as_str().to_owned(),
            expires_at,
        });
        store.create_user_token(record, invited, vec![event]).await.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::conflict("user", crate::error::codes::EMAIL_TAKEN),
            e => e.into(),
        })?;
        Ok(IssuedLink { user_id, email, purpose, token, expires_at })
    }

    /// [`Self::issue_link`] for the signed-in operator (the operator's dashboard pages): a
    /// partner's user is refused.
    pub async fn issue_link_as(
        &self,
        operator: &Principal,
        email: &str,
        purpose: LinkPurpose,
        new_user: Option<NewUserIn>,
    ) -> Result<IssuedLink, ServiceError> {
        crate::policy::require_operator(operator)?;
        self.issue_link(&operator.marketplace_id, email, purpose, new_user).await
    }

    /// A new link for one of the marketplace's users (operator only): a reset link, or a new
    /// invitation for a user who never set a password.
    pub async fn link_for_user(&self, operator: &Principal, user_id: &str) -> Result<IssuedLink, ServiceError> {
        crate::policy::require_operator(operator)?;
        let users = self.all(&operator.marketplace_id).await?;
        let user = users.into_iter().find(|u| u.user_id == user_id).ok_or(ServiceError::not_found("user"))?;
        let purpose = if user.has_password { LinkPurpose::Reset } else { LinkPurpose::Invitation };
        self.issue_link(&operator.marketplace_id, &user.email, purpose, None).await
    }

    async fn operator_user(&self, marketplace_id: &str) -> Result<String, ServiceError> {
        let users = self.services.store.dashboard_users(marketplace_id).await?;
        users
            .into_iter()
            .find(|u| u.partner_id.is_none() && u.roles.contains(&Role::ChannelAdmin))
            .map(|u| u.user_id)
            .ok_or(ServiceError::not_found("marketplace"))
    }

    /// The link's user and purpose, while it can still be used; `None` otherwise.
    pub async fn link(&self, token: &str) -> Result<Option<LinkDetails>, ServiceError> {
        let Some(t) = self.usable_link(token).await? else { return Ok(None) };
        let emails = self.services.store.user_emails(&t.marketplace_id, std::slice::from_ref(&t.user_id)).await?;
        let purpose = if t.purpose == "reset" { LinkPurpose::Reset } else { LinkPurpose::Invitation };
        Ok(emails.into_iter().next().map(|(_, email)| LinkDetails { email, purpose }))
    }

    async fn usable_link(&self, token: &str) -> Result<Option<UserTokenRecord>, ServiceError> {
        if !token_shaped(token) {
            return Ok(None);
        }
        let now = self.services.clock.now();
        let t = self.services.store.get_user_token(&token_digest(token)).await?;
        Ok(t.filter(|t| t.used_at.is_none() && t.expires_at > now))
    }

    /// Sets the password through a link and starts a session (ending any other of the user).
    /// A used, expired or unknown link is refused naming `token`.
    pub async fn redeem_link(
        &self,
        token: &str,
        password: &str,
        confirmation: &str,
    ) -> Result<StartedSession, ServiceError> {
        check_password(password, confirmation)?;
        let gone = || ValidationErrors::single("token", "this link has expired or was used already");
        let t = self.usable_link(token).await?.ok_or_else(gone)?;
        let memberships = self.services.store.memberships(&t.marketplace_id, &t.user_id).await?;
        let membership = dashboard_membership(memberships).ok_or(ServiceError::not_found("membership"))?;
        let password = password.to_owned();
        let hash = blocking(move || hash_password(&password)).await??;
        let (session, started) = self.new_session(&t.marketplace_id, &t.user_id, &membership.company_id);
        let event = NewEvent::of(&UserPasswordSet { user_id: t.user_id.clone() }).partner(membership.partner_id);
        let now = self.services.clock.now();
        if !self.services.store.redeem_user_token(&t.token_hash, now, hash, session, vec![event]).await? {
            return Err(gone().into());
        }
        Ok(started)
    }

    fn new_session(&self, marketplace_id: &str, user_id: &str, company_id: &str) -> (SessionRecord, StartedSession) {
        let now = self.services.clock.now();
        let token = random_token(43);
        let expires_at = now + SESSION_LIFETIME;
        let record = SessionRecord {
            id_hash: token_digest(&token),
            marketplace_id: marketplace_id.to_owned(),
            user_id: user_id.to_owned(),
            company_id: company_id.to_owned(),
            csrf_token: random_token(32),
            created_at: now,
            last_seen_at: now,
            expires_at,
        };
        (record, StartedSession { token, expires_at })
    }

    /// Signs in with e-mail and password. Failures are counted per account and per address;
    /// past either limit every attempt (even a right one) is throttled until the window moves.
    pub async fn sign_in(
        &self,
        marketplace_id: &str,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<SignIn, ServiceError> {
        let store = &self.services.store;
        let now = self.services.clock.now();
        let since = now - FAILURE_WINDOW;
        let email = normalized(email);
        let subjects = [format!("email:{email}"), format!("ip:{client}")];
        // The attempt is counted before the password is checked, so concurrent guesses cannot
        // all pass the limit: each sees the ones recorded before it, itself included.
        store.record_sign_in_failure(marketplace_id, &subjects, now).await?;
        let account = store.sign_in_failures(marketplace_id, &subjects[0], since).await?;
        let address = store.sign_in_failures(marketplace_id, &subjects[1], since).await?;
        if account > MAX_FAILURES_PER_ACCOUNT || address > MAX_FAILURES_PER_ADDRESS {
            return Ok(SignIn::Throttled { retry_after: FAILURE_WINDOW.num_seconds() });
        }
        let user = if email.is_empty() { None } else { store.user_by_email(marketplace_id, &email).await? };
        let stored = user.as_ref().filter(|u| u.enabled).and_then(|u| u.password_hash.clone());
        let password = password.to_owned();
        let ok = blocking(move || {
            let ok = verify_password(&password, stored.as_deref().unwrap_or_else(|| dummy_hash()));
            ok && stored.is_some()
        })
        .await?;
        let membership = match (&user, ok) {
            (Some(u), true) => dashboard_membership(store.memberships(marketplace_id, &u.user_id).await?),
            _ => None,
        };
        let (Some(user), Some(membership)) = (user, membership) else {
            return Ok(SignIn::Refused);
        };
        // The right password of a suspended partner's user: say so rather than start a
        // session that would not open a page.
        if let Some(partner_id) = &membership.partner_id {
            let partner = store.get_partner(marketplace_id, partner_id).await?;
            if partner.is_some_and(|p| p.suspended_at.is_some()) {
                store.clear_sign_in_failures(marketplace_id, &subjects[0]).await?;
                store.forget_sign_in_attempt(marketplace_id, &subjects[1], now).await?;
                return Ok(SignIn::Suspended);
            }
        }
        // A right password: the account's failures are forgiven, this attempt is not one.
        store.clear_sign_in_failures(marketplace_id, &subjects[0]).await?;
        store.forget_sign_in_attempt(marketplace_id, &subjects[1], now).await?;
        let (session, started) = self.new_session(marketplace_id, &user.user_id, &membership.company_id);
        store.create_session(session).await?;
        Ok(SignIn::Started(started))
    }

    /// The request's session: `None` when the cookie names no live one (expired, idle too
    /// long, signed out, its membership gone, its partner suspended).
    pub async fn session(&self, token: &str) -> Result<Option<WebSession>, ServiceError> {
        if !token_shaped(token) {
            return Ok(None);
        }
        let store = &self.services.store;
        let now = self.services.clock.now();
        let id_hash = token_digest(token);
        let Some(s) = store.session_for_auth(&id_hash, now).await? else { return Ok(None) };
        if s.last_seen_at + SESSION_IDLE <= now {
            store.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if s.partner.as_ref().is_some_and(|p| p.suspended_at.is_some()) {
            return Ok(None);
        }
        if s.partner.is_none() && !s.roles.contains(&Role::ChannelAdmin) {
            // Only partners' and the operator's users have a dashboard (see `dashboard_membership`).
            return Ok(None);
        }
        if now - s.last_seen_at >= TOUCH_EVERY {
            store.touch_session(&id_hash, now).await?;
        }
        Ok(Some(web_session(s)))
    }

    /// Ends this browser's session.
    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        self.services.store.delete_session(&token_digest(token)).await?;
        Ok(())
    }

    /// Ends every session of the caller (every browser it signed in from).
    pub async fn sign_out_everywhere(&self, principal: &Principal) -> Result<u64, ServiceError> {
        Ok(self.services.store.delete_user_sessions(&principal.marketplace_id, &principal.user_id).await?)
    }

    /// The marketplace's users (operator only).
    pub async fn list(&self, principal: &Principal) -> Result<Vec<UserEntry>, ServiceError> {
        crate::policy::require_operator(principal)?;
        self.all(&principal.marketplace_id).await
    }

    /// The marketplace's users, for the operator's CLI.
    pub async fn all(&self, marketplace_id: &str) -> Result<Vec<UserEntry>, ServiceError> {
        Ok(self.services.store.dashboard_users(marketplace_id).await?)
    }

    /// Deletes expired sessions and old failure rows; `serve` runs it now and then.
    pub async fn purge_expired(&self) -> Result<u64, ServiceError> {
        let now = self.services.clock.now();
        Ok(self.services.store.purge_sessions(now, now - FAILURE_WINDOW).await?)
    }
}

fn web_session(s: SessionAuth) -> WebSession {
    WebSession {
        principal: Principal {
            // Not a key: names the session in logs and rate-limit buckets without revealing it.
            key_id: format!("session_{}", &s.id_hash[..16]),
            marketplace_id: s.marketplace_id,
            user_id: s.user_id,
            user_email: s.user_email,
            company_id: s.company_id,
            roles: s.roles,
            partner: s.partner,
        },
        csrf_token: s.csrf_token,
        expires_at: s.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_partner_and_operator_memberships_have_a_dashboard() {
        let m = |partner: Option<&str>, roles: Vec<Role>| Membership {
            company_id: "company_1".into(),
            roles,
            partner_id: partner.map(str::to_owned),
        };
        assert!(dashboard_membership(vec![m(Some("partner_1"), vec![])]).is_some());
        assert!(dashboard_membership(vec![m(None, vec![Role::ChannelAdmin])]).is_some());
        assert!(dashboard_membership(vec![m(None, vec![])]).is_none(), "a customer company's user");
        let picked = dashboard_membership(vec![m(None, vec![]), m(Some("partner_1"), vec![Role::Reseller])]);
        assert_eq!(picked.and_then(|m| m.partner_id).as_deref(), Some("partner_1"));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        // A fresh salt each time.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn new_passwords_are_bounded_and_confirmed() {
        assert!(check_password("long enough pw", "long enough pw").is_ok());
        let short = check_password("short", "short").unwrap_err();
        assert!(short.fields().contains_key("password"));
        let long = "x".repeat(PASSWORD_MAX + 1);
        assert!(check_password(&long, &long).is_err());
        let mismatch = check_password("long enough pw", "long enough pX").unwrap_err();
        assert!(mismatch.fields().contains_key("password_confirmation"));
        assert!(!mismatch.fields().contains_key("password"));
    }

    #[test]
    fn digests_are_hex_sha256() {
        assert_eq!(token_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
