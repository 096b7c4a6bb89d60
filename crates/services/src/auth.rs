//! API-key authentication with a per-process principal cache.
//!
//! A cache hit costs no database round trip. Entries are dropped when the event log says a key
//! was revoked: at once for revocations made in this process, and within one poll interval for
//! those made elsewhere (the CLI, another server), which the invalidation task reads from the
//! shared event log.

use chrono::{DateTime, Utc};
use partnerd_domain::ip::{self, IpRule};
use partnerd_domain::partner::Role;
use partnerd_domain::{Clock, api_key};
use partnerd_store::{KeyAuth, PartnerRecord, Store};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Who is calling: a user acting in one company with that membership's roles.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub key_id: String,
    pub marketplace_id: String,
    pub user_id: String,
    pub user_email: String,
    pub company_id: String,
    pub roles: Vec<Role>,
    /// Present when the company is an enrolled partner.
    pub partner: Option<PartnerRecord>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("Missing API key: send 'Authorization: Bearer YOUR_API_KEY'")]
    Missing,
    #[error("Invalid API key")]
    Invalid,
    #[error("This API key has been revoked")]
    Revoked,
    #[error("This API key has expired")]
    Expired,
    #[error("Requests from this IP address are not allowed for this API key")]
    IpNotAllowed,
    #[error("X-Partner-ID does not match the partner of this API key")]
    PartnerMismatch,
    #[error("This partner account is suspended")]
    Suspended,
    #[error("authentication is temporarily unavailable")]
    Unavailable,
}

impl AuthFailure {
    /// 403 rather than 401: the key is valid but may not be used this way.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthFailure::IpNotAllowed | AuthFailure::PartnerMismatch | AuthFailure::Suspended)
    }
}

struct CachedKey {
    secret_hash: Vec<u8>,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
    allowed_ips: Vec<IpRule>,
    principal: Arc<Principal>,
}

impl CachedKey {
    fn from_auth(k: KeyAuth) -> Self {
        // Stored rules were validated on the way in; an unparsable one (edited by hand) must not
        // widen access, so it becomes a rule that matches nothing.
        let allowed_ips = k
            .allowed_ips
            .iter()
            .map(|r| r.parse().unwrap_or_else(|_| "255.255.255.255/32".parse().expect("literal rule")))
            .collect();
        // A sandbox's key ends with its sandbox, whatever its own expiry.
        let expires_at = match (k.expires_at, k.sandbox_expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Self {
            secret_hash: k.secret_hash,
            expires_at,
            revoked: k.revoked_at.is_some(),
            allowed_ips,
            principal: Arc::new(Principal {
                key_id: k.key_id,
                marketplace_id: k.marketplace_id,
                user_id: k.user_id,
                user_email: k.user_email,
                company_id: k.company_id,
                roles: k.roles,
                partner: k.partner,
            }),
        }
    }
}

/// Bounds memory if someone presents many distinct valid keys; clearing is always correct.
const MAX_CACHED_KEYS: usize = 100_000;

pub struct Authenticator {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cache: RwLock<HashMap<String, Arc<CachedKey>>>,
    /// Bumped by every eviction, so a lookup that raced with one does not re-insert stale data.
    generation: AtomicU64,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock, cache: RwLock::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    pub async fn authenticate(
        &self,
        bearer: Option<&str>,
        client_ip: IpAddr,
        claimed_partner_id: Option<&str>,
    ) -> Result<Arc<Principal>, AuthFailure> {
        let token = bearer.ok_or(AuthFailure::Missing)?;
        let presented = api_key::parse(token).ok_or(AuthFailure::Invalid)?;
        let key = self.lookup(&presented.key_id).await?.ok_or(AuthFailure::Invalid)?;
        if !api_key::verify(presented.secret, &key.secret_hash) {
            return Err(AuthFailure::Invalid);
        }
        if key.revoked {
            return Err(AuthFailure::Revoked);
        }
        if key.expires_at.is_some_and(|t| t <= self.clock.now()) {
            return Err(AuthFailure::Expired);
        }
        if key.principal.partner.as_ref().is_some_and(|p| p.suspended_at.is_some()) {
            return Err(AuthFailure::Suspended);
        }
        if !ip::allowed(&key.allowed_ips, client_ip) {
            return Err(AuthFailure::IpNotAllowed);
        }
        if let Some(claimed) = claimed_partner_id {
            let own = key.principal.partner.as_ref().map(|p| p.id.as_str());
            if own != Some(claimed) {
                return Err(AuthFailure::PartnerMismatch);
            }
        }
        Ok(key.principal.clone())
    }

    async fn lookup(&self, key_id: &str) -> Result<Option<Arc<CachedKey>>, AuthFailure> {
        if let Some(hit) = self.cache.read().expect("key cache lock").get(key_id) {
            return Ok(Some(hit.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let found = self.store.find_key_for_auth(key_id).await.map_err(|e| {
            tracing::error!(error = %e, "key lookup failed");
            AuthFailure::Unavailable
        })?;
        let Some(found) = found else { return Ok(None) };
        let entry = Arc::new(CachedKey::from_auth(found));
        let mut cache = self.cache.write().expect("key cache lock");
        if self.generation.load(Ordering::Acquire) == generation {
            if cache.len() >= MAX_CACHED_KEYS {
                cache.clear();
            }
            cache.insert(key_id.to_owned(), entry.clone());
        }
        Ok(Some(entry))
    }

    /// Drops a key's cached principal (after it was revoked or changed).
    pub fn evict(&self, key_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.write().expect("key cache lock").remove(key_id);
    }

    /// Drops the cached principals of every key of a marketplace (a sandbox that was removed).
    pub fn evict_marketplace(&self, marketplace_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache.write().expect("key cache lock").retain(|_, k| k.principal.marketplace_id != marketplace_id);
    }

    /// Drops the cached principals of every key of a partner (its plan or suspension changed).
    pub fn evict_partner(&self, partner_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache
            .write()
            .expect("key cache lock")
            .retain(|_, k| k.principal.partner.as_ref().is_none_or(|p| p.id != partner_id));
    }

    /// Evicts what an auth-relevant event names (the invalidation poll in `caches` calls this
    /// for other processes' changes).
    pub(crate) fn apply(&self, e: &partnerd_store::EventNote) {
        if e.event_type == partnerd_domain::events::types::SANDBOX_DELETED {
            self.evict_marketplace(&e.subject_id);
        } else if e.event_type == partnerd_domain::events::types::PARTNER_UPDATED {
            self.evict_partner(&e.subject_id);
        } else {
            self.evict(&e.subject_id);
        }
    }
}
