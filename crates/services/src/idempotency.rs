//! `Idempotency-Key` with Stripe's semantics, for every surface: the first request with a key
//! claims it (committed at once, so other requests and processes see it), runs, and its response
//! is kept for [`RETENTION`]; a retry of the same request gets that response again; the same key
//! on another request is refused; a retry while the first still runs is told so. Keys belong to
//! the caller: a partner's keys, or the operator's, in its marketplace.
//!
//! A claim whose request never finished (the process died) blocks its key for [`LOCK_TIMEOUT`],
//! then the key may be claimed again.

use crate::{Principal, Services};
use chrono::Duration;
use partnerd_domain::ids::new_id;
use partnerd_store::{IdempotencyRecord, IdempotentResponse};

/// How long a response is kept for replays.
pub const RETENTION: Duration = Duration::hours(24);

/// How long an unfinished claim blocks its key. Longer than any request runs (requests are
/// bounded by the HTTP server's timeouts and the store's), short enough that a crashed
/// request's key is usable again soon.
pub const LOCK_TIMEOUT: Duration = Duration::seconds(60);

/// The longest key accepted, in bytes (Stripe's limit).
pub const MAX_KEY_LEN: usize = 255;

/// Why a key is refused before anything is stored: `None` for a good one (1–255 printable
/// ASCII characters, spaces included).
pub fn key_problem(key: &[u8]) -> Option<&'static str> {
    if key.is_empty() {
        Some("must not be empty")
    } else if key.len() > MAX_KEY_LEN {
        Some("must be at most 255 characters")
    } else if !key.iter().all(|b| (0x20..=0x7e).contains(b)) {
        Some("must be printable ASCII")
    } else {
        None
    }
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// This request holds the key: run it, then [`Idempotency::complete`] or
    /// [`Idempotency::release`].
    Run(Ticket),
    /// The same request ran already: answer this.
    Replay(IdempotentResponse),
    /// The key was used for another request.
    Mismatch,
    /// The same request is running now (here or in another process).
    InProgress,
}

/// A claim held by the running request.
#[derive(Debug, Clone)]
pub struct Ticket {
    scope: String,
    key: String,
    claim_token: String,
}

pub struct Idempotency<'a> {
    pub(crate) services: &'a Services,
}

/// The caller a key belongs to: the partner, or (for operator keys) the company.
fn scope(principal: &Principal) -> String {
    match &principal.partner {
        Some(p) => format!("{}/partner:{}", principal.marketplace_id, p.id),
        None => format!("{}/operator:{}", principal.marketplace_id, principal.company_id),
    }
}

impl Idempotency<'_> {
    /// Claims `key` for `principal`'s request whose `fingerprint` (a digest of its surface path,
    /// method and body) is given, or says what the key already holds.
    pub async fn begin(
        &self,
        principal: &Principal,
        key: &str,
        fingerprint: String,
    ) -> Result<Begin, crate::ServiceError> {
        let now = self.services.now();
        let claim = IdempotencyRecord {
            scope: scope(principal),
            key: key.to_owned(),
            fingerprint,
            claim_token: new_id("idc"),
            created_at: now,
            locked_until: now + LOCK_TIMEOUT,
            expires_at: now + RETENTION,
            response: None,
        };
        let Some(held) = self.services.store.claim_idempotency_key(&claim, now).await? else {
            return Ok(Begin::Run(Ticket { scope: claim.scope, key: claim.key, claim_token: claim.claim_token }));
        };
        Ok(if held.fingerprint != claim.fingerprint {
            Begin::Mismatch
        } else if let Some(response) = held.response {
            Begin::Replay(self.open(&claim.scope, &claim.key, response)?)
        } else {
            Begin::InProgress
        })
    }

    /// Keeps the response of the request holding `ticket`. `false` when the claim lapsed and
    /// another request took the key over meanwhile (this response is then not kept).
    pub async fn complete(&self, ticket: &Ticket, response: &IdempotentResponse) -> Result<bool, crate::ServiceError> {
        let sealed = self.seal(&ticket.scope, &ticket.key, response);
        Ok(self
            .services
            .store
            .complete_idempotency_key(&ticket.scope, &ticket.key, &ticket.claim_token, &sealed)
            .await?)
    }

    /// A stored response can hold a secret shown once (a webhook's signing secret), so its body
    /// is kept encrypted under the same keys as webhook secrets, bound to its scope and key.
    fn seal(&self, scope: &str, key: &str, response: &IdempotentResponse) -> IdempotentResponse {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(&response.body);
        let body = self.services.webhooks.secrets.encrypt(&binding(scope, key), &text).into_bytes();
        IdempotentResponse { status: response.status, headers: response.headers.clone(), body }
    }

    /// The stored response as it was answered. A body no configured key opens (its key was
    /// dropped within the 24 hours) is a storage error, logged, never a wrong replay.
    fn open(
        &self,
        scope: &str,
        key: &str,
        stored: IdempotentResponse,
    ) -> Result<IdempotentResponse, crate::ServiceError> {
        use base64::Engine;
        let unreadable = || {
            crate::ServiceError::new(
                crate::error::ErrorKind::Unavailable,
                "webhook",
                crate::error::codes::SECRET_UNREADABLE,
            )
        };
        let text = String::from_utf8(stored.body).map_err(|_| unreadable())?;
        let plain = self.services.webhooks.secrets.decrypt(&binding(scope, key), &text).map_err(|_| unreadable())?;
        let body = base64::engine::general_purpose::STANDARD.decode(plain).map_err(|_| unreadable())?;
        Ok(IdempotentResponse { body, ..stored })
    }

    /// Frees the key of a request that failed (a 5xx), so a retry runs again.
    pub async fn release(&self, ticket: &Ticket) -> Result<(), crate::ServiceError> {
        Ok(self.services.store.release_idempotency_key(&ticket.scope, &ticket.key, &ticket.claim_token).await?)
    }

    /// Deletes the keys whose 24 hours are over; how many. `serve` runs it periodically.
    pub async fn purge_expired(&self) -> Result<u64, crate::ServiceError> {
        Ok(self.services.store.purge_idempotency_keys(self.services.now()).await?)
    }
}

/// What a stored response's ciphertext is bound to, so it cannot be replayed under another key.
fn binding(scope: &str, key: &str) -> String {
    format!("idempotency:{scope}:{key}")
}
