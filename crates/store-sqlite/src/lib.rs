//! SQLite backend (the embedded default): WAL, one group-committing writer thread, a reader
//! pool. See `conn` for why writes are batched.

mod accounts;
mod analytics;
mod billing;
mod conn;
mod cosell;
mod idempotency;
mod kit;
mod leads;
mod listings;
mod migrate;
mod ops;
mod payment_methods;
mod quotes;
mod sandbox;
mod subscriptions;
mod tickets;
mod usage;
mod users;
mod webhooks;
mod whitelabel;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use conn::{Readers, Writer, backend, open_connection};
use kit::{execute, prepare, query_all, query_opt, query_prepared, run, run_prepared};
use partnerd_domain::events::NewEvent;
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::Role;
use partnerd_store::kit::{Filter, Query, Value};
use partnerd_store::schema::partners as sql;
use partnerd_store::*;
use rusqlite::Connection;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct SqliteStore {
    path: PathBuf,
    pub(crate) writer: Writer,
    pub(crate) readers: Readers,
    /// Fired after a COMMIT that created deliveries (see `webhooks::deliveries_created`).
    pub(crate) wake: DeliveryWake,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Arc<Self>> {
        let mut setup = open_connection(path, false)?;
        migrate::run(&mut setup)?;
        let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
        let wake = DeliveryWake::new();
        let fire = wake.clone();
        let after_commit = Box::new(move |committed: bool| {
            if webhooks::take_deliveries_created() && committed {
                fire.fire();
            }
        });
        Ok(Arc::new(Self {
            path: path.to_owned(),
            writer: Writer::spawn(setup, after_commit)?,
            wake,
            readers: Readers::open(path, readers)?,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits what is queued and stops the writer; later writes fail.
    pub fn close(&self) {
        self.writer.shutdown();
    }
}

/// Accepts `sqlite://relative.db`, `sqlite:///absolute/path.db` and `sqlite:file.db`.
pub fn path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let rest = rest.split('?').next().unwrap_or(rest);
    (!rest.is_empty()).then(|| PathBuf::from(rest))
}

/// Unique and primary-key violations are conflicts the caller can report; the rest are faults.
pub(crate) fn write_error(e: rusqlite::Error, what: &str) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        let unique = f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY;
        if unique {
            return StoreError::Conflict(what.to_owned());
        }
    }
    db(e)
}

/// A failed statement: a foreign-key violation is `Conflict(REFERENCE_CONFLICT)` (a 409, not a
/// 5xx); anything else is the backend's.
pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    {
        return StoreError::Conflict(partnerd_store::REFERENCE_CONFLICT.to_owned());
    }
    backend(e)
}

/// SQLite records the write time itself (PostgreSQL's column default does that there).
static INSERT_EVENT: Query = partnerd_store::sql!(
    "INSERT INTO events (id, marketplace_id, event_type, subject_type, subject_id, partner_id,
                         related_partner_id, actor_user_id, payload, occurred_at, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);

pub(crate) fn append_events(
    conn: &Connection,
    marketplace_id: &str,
    occurred_at: DateTime<Utc>,
    events: &[NewEvent],
) -> StoreResult<()> {
    let recorded_at = Utc::now();
    let mut insert = prepare(conn, &INSERT_EVENT)?;
    for e in events {
        let id = new_id("evt");
        let args = args![
            id,
            marketplace_id,
            e.event_type,
            e.subject_type,
            e.subject_id,
            e.partner_id,
            e.related_partner_id,
            e.actor_user_id,
            e.payload,
            occurred_at,
            recorded_at,
        ];
        run_prepared(&mut insert, &args)?;
        // Deliveries are created with the event, in its transaction: none is ever lost.
        if let Some(partner) = &e.partner_id
            && partnerd_domain::webhooks::is_deliverable(e.event_type)
        {
            webhooks::fan_out(
                conn,
                marketplace_id,
                &id,
                e.event_type,
                occurred_at,
                partner,
                e.related_partner_id.as_deref(),
            )?;
        }
    }
    Ok(())
}

fn insert_company(c: &Connection, id: &str, m: &str, name: &str, kind: &str, at: DateTime<Utc>) -> StoreResult<()> {
    execute(c, sql::INSERT_COMPANY.sqlite(), &args![id, m, name, kind, at], "company id taken")?;
    Ok(())
}

/// What the company is to the marketplace (reseller, referral…), from its members' roles.
fn set_company_flags(c: &Connection, id: &str, roles: &[Role]) -> StoreResult<()> {
    let [reseller, referral, developer, admin] =
        [Role::Reseller, Role::Referral, Role::Developer, Role::ChannelAdmin].map(|r| roles.contains(&r));
    run(c, &partnerd_store::schema::accounts::SET_COMPANY_FLAGS, &args![id, reseller, referral, developer, admin])?;
    Ok(())
}

pub(crate) fn insert_user(c: &Connection, id: &str, m: &str, email: &str, at: DateTime<Utc>) -> StoreResult<()> {
    execute(c, sql::INSERT_USER.sqlite(), &args![id, m, email, at], "a user with this e-mail already exists")?;
    Ok(())
}

pub(crate) fn insert_membership(
    c: &Connection,
    m: &str,
    user: &str,
    company: &str,
    roles: &Vec<Role>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute(c, sql::INSERT_MEMBERSHIP.sqlite(), &args![m, user, company, roles, at], "membership exists")?;
    Ok(())
}

fn insert_key(c: &Connection, k: &NewApiKey) -> StoreResult<()> {
    let args = args![
        k.id,
        k.marketplace_id,
        k.user_id,
        k.company_id,
        k.name,
        k.display_prefix,
        k.secret_hash,
        k.allowed_ips,
        k.expires_at,
        k.created_at,
    ];
    execute(c, sql::INSERT_KEY.sqlite(), &args, "key id taken")?;
    Ok(())
}

#[async_trait]
impl MarketplaceStore for SqliteStore {
    async fn default_marketplace(&self) -> StoreResult<Option<Marketplace>> {
        self.readers.read(|c| query_opt(c, sql::DEFAULT_MARKETPLACE.sqlite(), &[])).await
    }

    async fn create_default_marketplace(&self, new: NewMarketplace) -> StoreResult<Marketplace> {
        self.writer
            .write(move |c| {
                let args = args![new.id, new.name, new.created_at];
                execute(c, sql::INSERT_DEFAULT_MARKETPLACE.sqlite(), &args, "a default marketplace exists already")?;
                insert_company(c, &new.operator_company_id, &new.id, &new.name, "operator", new.created_at)?;
                set_company_flags(c, &new.operator_company_id, &[Role::ChannelAdmin])?;
                insert_user(c, &new.operator_user_id, &new.id, &new.operator_email, new.created_at)?;
                let roles = vec![Role::ChannelAdmin];
                insert_membership(c, &new.id, &new.operator_user_id, &new.operator_company_id, &roles, new.created_at)?;
                insert_key(c, &new.operator_key)?;
                append_events(c, &new.id, new.created_at, &new.events)?;
                Ok(Marketplace { id: new.id, name: new.name, created_at: new.created_at })
            })
            .await
    }
}

#[async_trait]
impl PartnerStore for SqliteStore {
    async fn create_partner(&self, p: NewPartner) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                insert_company(c, &p.company_id, &p.marketplace_id, &p.company_name, "partner", p.created_at)?;
                set_company_flags(c, &p.company_id, &p.roles)?;
                insert_user(c, &p.user_id, &p.marketplace_id, &p.contact_email, p.created_at)?;
                insert_membership(c, &p.marketplace_id, &p.user_id, &p.company_id, &p.roles, p.created_at)?;
                let args = args![p.partner_id, p.marketplace_id, p.company_id, p.contact_email, p.plan, p.created_at];
                execute(c, sql::INSERT_PARTNER.sqlite(), &args, "partner exists")?;
                insert_key(c, &p.key)?;
                append_events(c, &p.marketplace_id, p.created_at, &p.events)
            })
            .await
    }

    async fn get_partner(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Option<PartnerRecord>> {
        let (m, id) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers.read(move |c| query_opt(c, sql::GET_PARTNER.sqlite(), &args![m, id])).await
    }

    async fn user_emails(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, String)>> {
        let (m, ids) = (marketplace_id.to_owned(), user_ids.to_vec());
        self.readers
            .read(move |c| {
                let mut read = prepare(c, &USER_EMAIL)?;
                let mut out = Vec::with_capacity(ids.len());
                for id in &ids {
                    out.extend(query_prepared(&mut read, &args![m, id])?);
                }
                Ok(out)
            })
            .await
    }

    async fn list_partners(&self, marketplace_id: &str) -> StoreResult<Vec<PartnerRecord>> {
        let m = marketplace_id.to_owned();
        self.readers.read(move |c| query_all(c, sql::LIST_PARTNERS.sqlite(), &args![m])).await
    }
}

/// One cached statement per id: SQLite has no array parameter.
static USER_EMAIL: Query = partnerd_store::sql!("SELECT id, email FROM users WHERE marketplace_id = $1 AND id = $2");

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_key(&self, new: NewApiKey, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let member: Option<(i64,)> =
                    query_opt(c, sql::IS_MEMBER.sqlite(), &args![new.marketplace_id, new.user_id, new.company_id])?;
                if member.is_none() {
                    return Err(StoreError::NotFound("membership"));
                }
                insert_key(c, &new)?;
                append_events(c, &new.marketplace_id, new.created_at, &events)
            })
            .await
    }

    async fn list_keys(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        let (m, u) = (marketplace_id.to_owned(), user_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::LIST_KEYS.sqlite(), &args![m, u])).await
    }

    async fn list_company_keys(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        let (m, company) = (marketplace_id.to_owned(), company_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::LIST_COMPANY_KEYS.sqlite(), &args![m, company])).await
    }

    async fn revoke_key(
        &self,
        marketplace_id: &str,
        key_id: &str,
        when: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<ApiKeyRecord> {
        let (m, k) = (marketplace_id.to_owned(), key_id.to_owned());
        self.writer
            .write(move |c| {
                if run(c, &sql::REVOKE_KEY, &args![m, k, when])? == 1 {
                    append_events(c, &m, when, &[event])?;
                }
                query_opt(c, sql::GET_KEY.sqlite(), &args![m, k])?.ok_or(StoreError::NotFound("api key"))
            })
            .await
    }

    async fn find_key_for_auth(&self, key_id: &str) -> StoreResult<Option<KeyAuth>> {
        let k = key_id.to_owned();
        self.readers.read(move |c| query_opt(c, sql::KEY_FOR_AUTH.sqlite(), &args![k])).await
    }

    async fn memberships(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<Membership>> {
        let (m, u) = (marketplace_id.to_owned(), user_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::MEMBERSHIPS.sqlite(), &args![m, u])).await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn events_recorded_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventRecord>> {
        let mut f = Filter::new(kit::DIALECT);
        f.gte("recorded_at", Value::Time(since))
            .is_in("event_type", types.iter().map(|t| Value::Text(Cow::Owned((*t).to_owned()))));
        let sql = format!("SELECT {} FROM events{} ORDER BY seq", *sql::EVENT_COLUMNS, f.conditions());
        self.readers.read(move |c| query_all(c, &sql, f.args())).await
    }

    async fn event_notes_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventNote>> {
        let (notes_sql, f) = sql::event_notes_since(kit::DIALECT, since, types);
        self.readers.read(move |c| query_all(c, &notes_sql, f.args())).await
    }

    async fn events_for_subject(&self, marketplace_id: &str, subject_id: &str) -> StoreResult<Vec<EventRecord>> {
        let (m, s) = (marketplace_id.to_owned(), subject_id.to_owned());
        self.readers.read(move |c| query_all(c, sql::EVENTS_OF_SUBJECT.sqlite(), &args![m, s])).await
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_relative_and_absolute_files() {
        assert_eq!(path_from_url("sqlite://partnerd.db"), Some(PathBuf::from("partnerd.db")));
        assert_eq!(path_from_url("sqlite:///var/lib/p.db"), Some(PathBuf::from("/var/lib/p.db")));
        assert_eq!(path_from_url("sqlite:p.db?mode=rwc"), Some(PathBuf::from("p.db")));
        assert_eq!(path_from_url("postgres://x"), None);
        assert_eq!(path_from_url("sqlite://"), None);
    }
}
