//! Dashboard users (migration 0022): the declarations and the SQL both dialects accept.

use crate::kit::{Query, Table};
use crate::users::{SessionAuth, SessionRecord, SignInUser, UserEntry, UserTokenRecord};
use crate::{PartnerRecord, record, sql};

record! {
    SignInUser {
        user_id: read "u.id",
        marketplace_id: read "u.marketplace_id",
        email: read "u.email",
        password_hash: read "pw.password_hash",
        enabled: read "u.enabled",
    }
}

record! {
    UserTokenRecord in "user_tokens" as "t" {
        token_hash: key "token_hash",
        marketplace_id: fixed "marketplace_id",
        user_id: fixed "user_id",
        purpose: fixed "purpose",
        created_at: fixed "created_at",
        expires_at: fixed "expires_at",
        used_at: set "used_at",
    }
}

record! {
    SessionRecord in "web_sessions" as "s" {
        id_hash: key "id_hash",
        marketplace_id: fixed "marketplace_id",
        user_id: fixed "user_id",
        company_id: fixed "company_id",
        csrf_token: fixed "csrf_token",
        created_at: fixed "created_at",
        last_seen_at: set "last_seen_at",
        expires_at: fixed "expires_at",
    }
}

record! {
    SessionAuth {
        id_hash: read "s.id_hash",
        marketplace_id: read "s.marketplace_id",
        user_id: read "s.user_id",
        user_email: read "u.email",
        company_id: read "s.company_id",
        roles: read "m.roles",
        csrf_token: read "s.csrf_token",
        last_seen_at: read "s.last_seen_at",
        expires_at: read "s.expires_at",
        partner: optional PartnerRecord,
    }
}

record! {
    UserEntry {
        user_id: read "u.id",
        email: read "u.email",
        company_id: read "m.company_id",
        company_name: read "c.name",
        partner_id: read "p.id",
        roles: read "m.roles",
        has_password: read "(pw.user_id IS NOT NULL)",
        created_at: read "u.created_at",
    }
}

/// `$1` marketplace, `$2` e-mail (compared case-insensitively, as e-mails are stored lower-cased).
pub static USER_BY_EMAIL: Query = sql!(
    "SELECT {} FROM users u LEFT JOIN user_passwords pw ON pw.user_id = u.id
     WHERE u.marketplace_id = $1 AND LOWER(u.email) = LOWER($2)",
    crate::kit::column_list::<SignInUser>()
);

/// `$1` token hash.
pub static GET_TOKEN: Query =
    sql!("SELECT {} FROM user_tokens t WHERE t.token_hash = $1", UserTokenRecord::select_list());

/// `$1` token hash, `$2` now: uses the link once, before it expires.
pub static USE_TOKEN: Query =
    sql!("UPDATE user_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2");

/// `$1` marketplace, `$2` user, `$3` when: retires the user's other unused links once one is
/// used (an older invitation that leaked must not outlive a reset).
pub static RETIRE_USER_TOKENS: Query =
    sql!("UPDATE user_tokens SET used_at = $3 WHERE marketplace_id = $1 AND user_id = $2 AND used_at IS NULL");

/// `$1` user, `$2` marketplace, `$3` PHC string, `$4` when.
pub static SET_PASSWORD: Query = sql!(
    "INSERT INTO user_passwords (user_id, marketplace_id, password_hash, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at"
);

/// `$1` session id hash, `$2` now. A session whose membership is gone is not found (the join).
pub static SESSION_FOR_AUTH: Query = sql!(
    "SELECT {}
     FROM web_sessions s
     JOIN users u ON u.id = s.user_id
     JOIN memberships m ON m.user_id = s.user_id AND m.company_id = s.company_id
     JOIN companies c ON c.id = s.company_id
     LEFT JOIN partners p ON p.company_id = s.company_id
     WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.enabled AND m.enabled",
    crate::kit::column_list::<SessionAuth>()
);

/// `$1` session id hash, `$2` when.
pub static TOUCH_SESSION: Query = sql!("UPDATE web_sessions SET last_seen_at = $2 WHERE id_hash = $1");

/// `$1` session id hash.
pub static DELETE_SESSION: Query = sql!("DELETE FROM web_sessions WHERE id_hash = $1");

/// `$1` marketplace, `$2` user.
pub static DELETE_USER_SESSIONS: Query = sql!("DELETE FROM web_sessions WHERE marketplace_id = $1 AND user_id = $2");

/// `$1` now.
pub static PURGE_SESSIONS: Query = sql!("DELETE FROM web_sessions WHERE expires_at <= $1");

/// `$1` before.
pub static PURGE_FAILURES: Query = sql!("DELETE FROM sign_in_failures WHERE at < $1");

/// `$1` marketplace, `$2` subject, `$3` when.
pub static INSERT_FAILURE: Query =
    sql!("INSERT INTO sign_in_failures (marketplace_id, subject, at) VALUES ($1, $2, $3)");

/// `$1` marketplace, `$2` subject, `$3` since.
pub static COUNT_FAILURES: Query =
    sql!("SELECT COUNT(*) FROM sign_in_failures WHERE marketplace_id = $1 AND subject = $2 AND at >= $3");

/// `$1` marketplace, `$2` subject.
pub static CLEAR_FAILURES: Query = sql!("DELETE FROM sign_in_failures WHERE marketplace_id = $1 AND subject = $2");

/// `$1` marketplace, `$2` subject, `$3` the attempt's time.
pub static FORGET_ATTEMPT: Query =
    sql!("DELETE FROM sign_in_failures WHERE marketplace_id = $1 AND subject = $2 AND at = $3");

/// `$1` marketplace: each user once, with their first membership.
pub static LIST_USERS: Query = sql!(
    "SELECT {}
     FROM users u
     JOIN memberships m ON m.user_id = u.id AND m.company_id = (
         SELECT m2.company_id FROM memberships m2 WHERE m2.user_id = u.id ORDER BY m2.created_at, m2.company_id LIMIT 1)
     JOIN companies c ON c.id = m.company_id
     LEFT JOIN partners p ON p.company_id = m.company_id
     LEFT JOIN user_passwords pw ON pw.user_id = u.id
     WHERE u.marketplace_id = $1
     ORDER BY u.created_at, u.id",
    crate::kit::column_list::<UserEntry>()
);

/// `$1` marketplace, `$2` partner, `$3` plan, `$4` suspended at; only from `$5` plan and `$6`
/// suspended at (a compare-and-set: a change that came first is not overwritten).
pub static UPDATE_PARTNER: Query = sql!(
    "UPDATE partners SET plan = $3, suspended_at = $4
     WHERE marketplace_id = $1 AND id = $2 AND plan = $5
       AND (suspended_at = $6 OR (suspended_at IS NULL AND $6 IS NULL))"
);

/// `$1` marketplace, `$2` partner.
pub static PARTNER_EXISTS: Query = sql!("SELECT COUNT(*) FROM partners WHERE marketplace_id = $1 AND id = $2");
