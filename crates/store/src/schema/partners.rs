//! Marketplaces, companies, users, memberships, partners, API keys and the event log.

use crate::kit::{Dialect, Filter, Query, Value, column_list};
use crate::{ApiKeyRecord, EventNote, EventRecord, KeyAuth, Marketplace, Membership, PartnerRecord, record, sql};
use chrono::{DateTime, Utc};

record! {
    Marketplace {
        id: read "id",
        name: read "name",
        created_at: read "created_at",
    }
}

// Read from partners `p` joined to their company `c`.
record! {
    PartnerRecord {
        id: read "p.id",
        marketplace_id: read "p.marketplace_id",
        company_id: read "p.company_id",
        company_name: read "c.name",
        contact_email: read "p.contact_email",
        plan: read "p.plan",
        aws_account_connected: read "p.aws_account_connected",
        created_at: read "p.created_at",
        suspended_at: read "p.suspended_at",
    }
}

record! {
    ApiKeyRecord {
        id: read "k.id",
        user_id: read "k.user_id",
        company_id: read "k.company_id",
        name: read "k.name",
        display_prefix: read "k.display_prefix",
        allowed_ips: read "k.allowed_ips",
        expires_at: read "k.expires_at",
        revoked_at: read "k.revoked_at",
        created_at: read "k.created_at",
    }
}

record! {
    KeyAuth {
        key_id: read "k.id",
        marketplace_id: read "k.marketplace_id",
        user_id: read "k.user_id",
        user_email: read "u.email",
        company_id: read "k.company_id",
        roles: read "m.roles",
        secret_hash: read "k.secret_hash",
        allowed_ips: read "k.allowed_ips",
        expires_at: read "k.expires_at",
        revoked_at: read "k.revoked_at",
        sandbox_expires_at: read "sb.expires_at",
        partner: optional PartnerRecord,
    }
}

record! {
    Membership {
        company_id: read "m.company_id",
        roles: read "m.roles",
        partner_id: read "p.id",
    }
}

record! {
    EventRecord {
        seq: read "seq",
        id: read "id",
        marketplace_id: read "marketplace_id",
        event_type: read "event_type",
        subject_type: read "subject_type",
        subject_id: read "subject_id",
        partner_id: read "partner_id",
        related_partner_id: read "related_partner_id",
        actor_user_id: read "actor_user_id",
        payload: read "payload",
        occurred_at: read "occurred_at",
        recorded_at: read "recorded_at",
    }
}

record! {
    EventNote {
        seq: read "seq",
        marketplace_id: read "marketplace_id",
        event_type: read "event_type",
        subject_id: read "subject_id",
        partner_id: read "partner_id",
    }
}

/// `(sql, filter)`: the notes of the events of `types` recorded since `since`, in log order.
pub fn event_notes_since(dialect: Dialect, since: DateTime<Utc>, types: &[&str]) -> (String, Filter) {
    let mut f = Filter::new(dialect);
    f.gte("recorded_at", Value::Time(since))
        .is_in("event_type", types.iter().map(|t| Value::Text(std::borrow::Cow::Owned((*t).to_owned()))));
    let sql = format!("SELECT {} FROM events{} ORDER BY seq", column_list::<EventNote>(), f.conditions());
    (sql, f)
}

pub static DEFAULT_MARKETPLACE: Query =
    sql!("SELECT {} FROM marketplaces WHERE is_default = TRUE", column_list::<Marketplace>());

/// `$1` id, `$2` name, `$3` created.
pub static INSERT_DEFAULT_MARKETPLACE: Query =
    sql!("INSERT INTO marketplaces (id, name, is_default, created_at) VALUES ($1, $2, TRUE, $3)");

/// `$1` id, `$2` marketplace, `$3` name, `$4` kind, `$5` created.
pub static INSERT_COMPANY: Query =
    sql!("INSERT INTO companies (id, marketplace_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)");

/// `$1` id, `$2` marketplace, `$3` e-mail, `$4` created.
pub static INSERT_USER: Query =
    sql!("INSERT INTO users (id, marketplace_id, email, created_at) VALUES ($1, $2, $3, $4)");

/// `$1` marketplace, `$2` user, `$3` company, `$4` roles, `$5` created.
pub static INSERT_MEMBERSHIP: Query = sql!(
    "INSERT INTO memberships (marketplace_id, user_id, company_id, roles, created_at) VALUES ($1, $2, $3, $4, $5)"
);

/// `$1` id, `$2` marketplace, `$3` company, `$4` contact, `$5` plan, `$6` created.
pub static INSERT_PARTNER: Query = sql!(
    "INSERT INTO partners (id, marketplace_id, company_id, contact_email, plan, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
);

/// A [`crate::NewApiKey`]'s fields in declaration order.
pub static INSERT_KEY: Query = sql!(
    "INSERT INTO api_keys (id, marketplace_id, user_id, company_id, name, display_prefix, secret_hash, allowed_ips,
                           expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
);

const PARTNER_FROM: &str = "FROM partners p JOIN companies c ON c.id = p.company_id";

/// `$1` marketplace, `$2` partner.
pub static GET_PARTNER: Query =
    sql!("SELECT {} {PARTNER_FROM} WHERE p.marketplace_id = $1 AND p.id = $2", column_list::<PartnerRecord>());

/// `$1` marketplace: enrolment order.
pub static LIST_PARTNERS: Query = sql!(
    "SELECT {} {PARTNER_FROM} WHERE p.marketplace_id = $1 ORDER BY p.created_at, p.id",
    column_list::<PartnerRecord>()
);

/// `$1` marketplace, `$2` user, `$3` company.
pub static IS_MEMBER: Query =
    sql!("SELECT 1 FROM memberships WHERE marketplace_id = $1 AND user_id = $2 AND company_id = $3");

/// `$1` marketplace, `$2` user.
pub static LIST_KEYS: Query = sql!(
    "SELECT {} FROM api_keys k WHERE k.marketplace_id = $1 AND k.user_id = $2 ORDER BY k.created_at, k.id",
    column_list::<ApiKeyRecord>()
);

/// `$1` marketplace, `$2` company.
pub static LIST_COMPANY_KEYS: Query = sql!(
    "SELECT {} FROM api_keys k WHERE k.marketplace_id = $1 AND k.company_id = $2 ORDER BY k.created_at, k.id",
    column_list::<ApiKeyRecord>()
);

/// `$1` marketplace, `$2` key.
pub static GET_KEY: Query =
    sql!("SELECT {} FROM api_keys k WHERE k.marketplace_id = $1 AND k.id = $2", column_list::<ApiKeyRecord>());

/// `$1` marketplace, `$2` key, `$3` when: revokes once.
pub static REVOKE_KEY: Query =
    sql!("UPDATE api_keys SET revoked_at = $3 WHERE marketplace_id = $1 AND id = $2 AND revoked_at IS NULL");

/// `$1` key: everything authentication needs, in one read. A key of a sandbox is found only
/// once the sandbox is active (not while its demo data is written), with the sandbox's expiry.
pub static KEY_FOR_AUTH: Query = sql!(
    "SELECT {}
     FROM api_keys k
     JOIN users u ON u.id = k.user_id
     JOIN memberships m ON m.user_id = k.user_id AND m.company_id = k.company_id
     JOIN companies c ON c.id = k.company_id
     LEFT JOIN partners p ON p.company_id = k.company_id
     LEFT JOIN sandboxes sb ON sb.id = k.marketplace_id
     WHERE k.id = $1 AND (sb.id IS NULL OR sb.status = 'active')",
    column_list::<KeyAuth>()
);

/// `$1` marketplace, `$2` user.
pub static MEMBERSHIPS: Query = sql!(
    "SELECT {} FROM memberships m
     LEFT JOIN partners p ON p.company_id = m.company_id
     WHERE m.marketplace_id = $1 AND m.user_id = $2
     ORDER BY m.created_at, m.company_id",
    column_list::<Membership>()
);

/// The event log's columns, in [`EventRecord`]'s order.
pub static EVENT_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(column_list::<EventRecord>);

/// `$1` marketplace, `$2` subject: in the order recorded.
pub static EVENTS_OF_SUBJECT: Query =
    sql!("SELECT {} FROM events WHERE marketplace_id = $1 AND subject_id = $2 ORDER BY seq", *EVENT_COLUMNS);
