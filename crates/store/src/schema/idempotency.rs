//! Idempotency keys: one row per (caller scope, `Idempotency-Key`), claimed by the first request
//! and then holding its response. The SQL is the same in both dialects: the claim is one
//! `INSERT … ON CONFLICT DO UPDATE … WHERE` (an upsert that only takes over an expired key or a
//! lapsed claim), so the unique key decides between concurrent claimants, also across
//! processes on PostgreSQL.

use crate::kit::Query;
use crate::{record, sql};
use chrono::{DateTime, Utc};

/// A response kept for replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResponse {
    pub status: u16,
    /// Header names and values, alternating (`["content-type", "application/json", …]`): only
    /// those a replay must repeat.
    pub headers: Vec<String>,
    pub body: Vec<u8>,
}

/// One key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Whose key it is: the caller (a partner, or the operator) in its marketplace.
    pub scope: String,
    pub key: String,
    /// SHA-256 (hex) of what the request was: surface path, method, body.
    pub fingerprint: String,
    /// Which request holds the claim; completion and release check it.
    pub claim_token: String,
    pub created_at: DateTime<Utc>,
    /// Until when an unfinished claim blocks others; past it the claimant is presumed dead.
    pub locked_until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `None` while the first request runs.
    pub response: Option<IdempotentResponse>,
}

record! {
    IdempotentResponse {
        status: fixed "response_status",
        headers: fixed "response_headers",
        body: fixed "response_body",
    }
}

record! {
    IdempotencyRecord in "idempotency_keys" as "" {
        scope: key "scope",
        key: key "idem_key",
        fingerprint: fixed "fingerprint",
        claim_token: fixed "claim_token",
        created_at: fixed "created_at",
        locked_until: fixed "locked_until",
        expires_at: fixed "expires_at",
        response: optional IdempotentResponse,
    }
}

const CLAIM_COLUMNS: &str = "scope, idem_key, fingerprint, claim_token, created_at, locked_until, expires_at";

/// `$1…$7` the claim's columns in [`CLAIM_COLUMNS`] order, `$8` now. Returns the claim token
/// when this request holds the key: a new row, or one taken over because the key expired or
/// the request that claimed it never finished (its lock lapsed). No row: someone else holds it.
pub static CLAIM: Query = sql!(
    "INSERT INTO idempotency_keys ({CLAIM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (scope, idem_key) DO UPDATE SET
         fingerprint = excluded.fingerprint, claim_token = excluded.claim_token,
         created_at = excluded.created_at, locked_until = excluded.locked_until,
         expires_at = excluded.expires_at,
         response_status = NULL, response_headers = NULL, response_body = NULL
     WHERE idempotency_keys.expires_at <= $8
        OR (idempotency_keys.response_status IS NULL AND idempotency_keys.locked_until <= $8)
     RETURNING claim_token"
);

/// `$1` scope, `$2` key.
pub static GET: Query = sql!(
    "SELECT {} FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
    <IdempotencyRecord as crate::kit::Table>::select_list()
);

/// `$1` scope, `$2` key, `$3` claim token, `$4…$6` status, headers, body. Only the claim's
/// holder completes it, once.
pub static COMPLETE: Query = sql!(
    "UPDATE idempotency_keys SET response_status = $4, response_headers = $5, response_body = $6
     WHERE scope = $1 AND idem_key = $2 AND claim_token = $3 AND response_status IS NULL"
);

/// `$1` scope, `$2` key, `$3` claim token: an unfinished claim given up (the handler failed).
pub static RELEASE: Query = sql!(
    "DELETE FROM idempotency_keys
     WHERE scope = $1 AND idem_key = $2 AND claim_token = $3 AND response_status IS NULL"
);

/// `$1` now.
pub static PURGE: Query = sql!("DELETE FROM idempotency_keys WHERE expires_at <= $1");
