//! SQLite backend (the embedded default): WAL, one group-committing writer thread, a reader
//! pool. See `conn` for why writes are batched.

mod analytics;
mod conn;
mod cosell;
mod kit;
mod listings;
mod migrate;
mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use conn::{Readers, Writer, backend, open_connection};
use partnerd_domain::events::NewEvent;
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::{roles_from_column, roles_to_column};
use partnerd_store::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct SqliteStore {
    path: PathBuf,
    pub(crate) writer: Writer,
    pub(crate) readers: Readers,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Arc<Self>> {
        let mut setup = open_connection(path, false)?;
        migrate::run(&mut setup)?;
        let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
        Ok(Arc::new(Self {
            path: path.to_owned(),
            writer: Writer::spawn(setup),
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

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn opt_at(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(at)
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
    backend(e)
}

fn ips_to_column(ips: &[String]) -> String {
    ips.join(",")
}

fn ips_from_column(s: String) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

fn append_events(
    conn: &Connection,
    marketplace_id: &str,
    occurred_at: DateTime<Utc>,
    events: &[NewEvent],
) -> StoreResult<()> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO events (id, marketplace_id, event_type, subject_type, subject_id, partner_id,
                                 related_partner_id, actor_user_id, payload, occurred_at, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(backend)?;
    let recorded_at = ms(Utc::now());
    for e in events {
        let id = new_id("evt");
        insert
            .execute(params![
                id,
                marketplace_id,
                e.event_type,
                e.subject_type,
                e.subject_id,
                e.partner_id,
                e.related_partner_id,
                e.actor_user_id,
                e.payload.to_string(),
                ms(occurred_at),
                recorded_at,
            ])
            .map_err(backend)?;
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

fn insert_company(
    conn: &Connection,
    id: &str,
    marketplace_id: &str,
    name: &str,
    kind: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO companies (id, marketplace_id, name, kind, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![id, marketplace_id, name, kind, ms(at)]))
    .map_err(|e| write_error(e, "company id taken"))?;
    Ok(())
}

fn insert_user(conn: &Connection, id: &str, marketplace_id: &str, email: &str, at: DateTime<Utc>) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO users (id, marketplace_id, email, created_at) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| s.execute(params![id, marketplace_id, email, ms(at)]))
        .map_err(|e| write_error(e, "a user with this e-mail already exists"))?;
    Ok(())
}

fn insert_membership(
    conn: &Connection,
    marketplace_id: &str,
    user_id: &str,
    company_id: &str,
    roles: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO memberships (marketplace_id, user_id, company_id, roles, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![marketplace_id, user_id, company_id, roles, ms(at)]))
    .map_err(|e| write_error(e, "membership exists"))?;
    Ok(())
}

fn insert_key(conn: &Connection, k: &NewApiKey) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO api_keys (id, marketplace_id, user_id, company_id, name, display_prefix, secret_hash,
                               allowed_ips, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            k.id,
            k.marketplace_id,
            k.user_id,
            k.company_id,
            k.name,
            k.display_prefix,
            k.secret_hash,
            ips_to_column(&k.allowed_ips),
            k.expires_at.map(ms),
            ms(k.created_at),
        ])
    })
    .map_err(|e| write_error(e, "key id taken"))?;
    Ok(())
}

const PARTNER_COLUMNS: &str = "p.id, p.marketplace_id, p.company_id, c.name, p.contact_email, p.plan,
                               p.aws_account_connected, p.created_at";

fn partner_from_row(r: &Row<'_>, base: usize) -> rusqlite::Result<PartnerRecord> {
    Ok(PartnerRecord {
        id: r.get(base)?,
        marketplace_id: r.get(base + 1)?,
        company_id: r.get(base + 2)?,
        company_name: r.get(base + 3)?,
        contact_email: r.get(base + 4)?,
        plan: r.get(base + 5)?,
        aws_account_connected: r.get(base + 6)?,
        created_at: at(r.get(base + 7)?),
    })
}

const KEY_COLUMNS: &str = "k.id, k.user_id, k.company_id, k.name, k.display_prefix, k.allowed_ips, k.expires_at,
                           k.revoked_at, k.created_at";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        company_id: r.get(2)?,
        name: r.get(3)?,
        display_prefix: r.get(4)?,
        allowed_ips: ips_from_column(r.get(5)?),
        expires_at: opt_at(r.get(6)?),
        revoked_at: opt_at(r.get(7)?),
        created_at: at(r.get(8)?),
    })
}

const EVENT_COLUMNS: &str = "seq, id, marketplace_id, event_type, subject_type, subject_id, partner_id, actor_user_id,
                             payload, occurred_at, recorded_at, related_partner_id";

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<EventRecord> {
    let payload: String = r.get(8)?;
    Ok(EventRecord {
        seq: r.get(0)?,
        id: r.get(1)?,
        marketplace_id: r.get(2)?,
        event_type: r.get(3)?,
        subject_type: r.get(4)?,
        subject_id: r.get(5)?,
        partner_id: r.get(6)?,
        actor_user_id: r.get(7)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        occurred_at: at(r.get(9)?),
        recorded_at: at(r.get(10)?),
        related_partner_id: r.get(11)?,
    })
}

#[async_trait]
impl MarketplaceStore for SqliteStore {
    async fn default_marketplace(&self) -> StoreResult<Option<Marketplace>> {
        self.readers
            .read(|c| {
                c.prepare_cached("SELECT id, name, created_at FROM marketplaces WHERE is_default = 1")
                    .and_then(|mut s| {
                        s.query_row([], |r| {
                            Ok(Marketplace { id: r.get(0)?, name: r.get(1)?, created_at: at(r.get(2)?) })
                        })
                        .optional()
                    })
                    .map_err(backend)
            })
            .await
    }

    async fn create_default_marketplace(&self, new: NewMarketplace) -> StoreResult<Marketplace> {
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO marketplaces (id, name, is_default, created_at) VALUES (?1, ?2, 1, ?3)",
                    params![new.id, new.name, ms(new.created_at)],
                )
                .map_err(|e| write_error(e, "a default marketplace exists already"))?;
                insert_company(c, &new.operator_company_id, &new.id, &new.name, "operator", new.created_at)?;
                insert_user(c, &new.operator_user_id, &new.id, &new.operator_email, new.created_at)?;
                let roles = roles_to_column(&[partnerd_domain::partner::Role::ChannelAdmin]);
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
                insert_user(c, &p.user_id, &p.marketplace_id, &p.contact_email, p.created_at)?;
                insert_membership(
                    c,
                    &p.marketplace_id,
                    &p.user_id,
                    &p.company_id,
                    &roles_to_column(&p.roles),
                    p.created_at,
                )?;
                c.prepare_cached(
                    "INSERT INTO partners (id, marketplace_id, company_id, contact_email, plan, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        p.partner_id,
                        p.marketplace_id,
                        p.company_id,
                        p.contact_email,
                        p.plan,
                        ms(p.created_at)
                    ])
                })
                .map_err(|e| write_error(e, "partner exists"))?;
                insert_key(c, &p.key)?;
                append_events(c, &p.marketplace_id, p.created_at, &p.events)
            })
            .await
    }

    async fn get_partner(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Option<PartnerRecord>> {
        let (m, id) = (marketplace_id.to_owned(), partner_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {PARTNER_COLUMNS} FROM partners p JOIN companies c ON c.id = p.company_id
                     WHERE p.marketplace_id = ?1 AND p.id = ?2"
                ))
                .and_then(|mut s| s.query_row(params![m, id], |r| partner_from_row(r, 0)).optional())
                .map_err(backend)
            })
            .await
    }

    async fn user_emails(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, String)>> {
        let (m, ids) = (marketplace_id.to_owned(), user_ids.to_vec());
        self.readers
            .read(move |c| {
                let mut stmt = c
                    .prepare_cached("SELECT id, email FROM users WHERE marketplace_id = ?1 AND id = ?2")
                    .map_err(backend)?;
                let mut out = Vec::with_capacity(ids.len());
                for id in &ids {
                    if let Some(row) =
                        stmt.query_row(params![m, id], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(backend)?
                    {
                        out.push(row);
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn list_partners(&self, marketplace_id: &str) -> StoreResult<Vec<PartnerRecord>> {
        let m = marketplace_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {PARTNER_COLUMNS} FROM partners p JOIN companies c ON c.id = p.company_id
                     WHERE p.marketplace_id = ?1 ORDER BY p.created_at, p.id"
                ))
                .and_then(|mut s| s.query_map([m], |r| partner_from_row(r, 0))?.collect())
                .map_err(backend)
            })
            .await
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_key(&self, new: NewApiKey, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let member: Option<i64> = c
                    .prepare_cached(
                        "SELECT 1 FROM memberships WHERE marketplace_id = ?1 AND user_id = ?2 AND company_id = ?3",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![new.marketplace_id, new.user_id, new.company_id], |r| r.get(0)).optional()
                    })
                    .map_err(backend)?;
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
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.marketplace_id = ?1 AND k.user_id = ?2
                     ORDER BY k.created_at, k.id"
                ))
                .and_then(|mut s| s.query_map(params![m, u], key_from_row)?.collect())
                .map_err(backend)
            })
            .await
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
                let changed = c
                    .prepare_cached(
                        "UPDATE api_keys SET revoked_at = ?3 WHERE marketplace_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                    )
                    .and_then(|mut s| s.execute(params![m, k, ms(when)]))
                    .map_err(backend)?;
                if changed == 1 {
                    append_events(c, &m, when, &[event])?;
                }
                c.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.marketplace_id = ?1 AND k.id = ?2"))
                    .and_then(|mut s| s.query_row(params![m, k], key_from_row).optional())
                    .map_err(backend)?
                    .ok_or(StoreError::NotFound("api key"))
            })
            .await
    }

    async fn find_key_for_auth(&self, key_id: &str) -> StoreResult<Option<KeyAuth>> {
        let k = key_id.to_owned();
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT k.id, k.marketplace_id, k.user_id, u.email, k.company_id, m.roles, k.secret_hash,
                            k.allowed_ips, k.expires_at, k.revoked_at, {PARTNER_COLUMNS}
                     FROM api_keys k
                     JOIN users u ON u.id = k.user_id
                     JOIN memberships m ON m.user_id = k.user_id AND m.company_id = k.company_id
                     JOIN companies c ON c.id = k.company_id
                     LEFT JOIN partners p ON p.company_id = k.company_id
                     WHERE k.id = ?1"
                ))
                .and_then(|mut s| {
                    s.query_row([k], |r| {
                        let partner_id: Option<String> = r.get(10)?;
                        Ok(KeyAuth {
                            key_id: r.get(0)?,
                            marketplace_id: r.get(1)?,
                            user_id: r.get(2)?,
                            user_email: r.get(3)?,
                            company_id: r.get(4)?,
                            roles: roles_from_column(&r.get::<_, String>(5)?),
                            secret_hash: r.get(6)?,
                            allowed_ips: ips_from_column(r.get(7)?),
                            expires_at: opt_at(r.get(8)?),
                            revoked_at: opt_at(r.get(9)?),
                            partner: partner_id.map(|_| partner_from_row(r, 10)).transpose()?,
                        })
                    })
                    .optional()
                })
                .map_err(backend)
            })
            .await
    }

    async fn memberships(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<Membership>> {
        let (m, u) = (marketplace_id.to_owned(), user_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT m.company_id, m.roles, p.id FROM memberships m
                     LEFT JOIN partners p ON p.company_id = m.company_id
                     WHERE m.marketplace_id = ?1 AND m.user_id = ?2
                     ORDER BY m.created_at, m.company_id",
                )
                .and_then(|mut s| {
                    s.query_map(params![m, u], |r| {
                        Ok(Membership {
                            company_id: r.get(0)?,
                            roles: roles_from_column(&r.get::<_, String>(1)?),
                            partner_id: r.get(2)?,
                        })
                    })?
                    .collect()
                })
                .map_err(backend)
            })
            .await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn events_recorded_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventRecord>> {
        let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
        self.readers
            .read(move |c| {
                let placeholders = (0..types.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", ");
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE recorded_at >= ?1 AND event_type IN ({placeholders}) ORDER BY seq"
                );
                let mut args: Vec<rusqlite::types::Value> = vec![ms(since).into()];
                args.extend(types.into_iter().map(Into::into));
                c.prepare_cached(&sql)
                    .and_then(|mut s| s.query_map(rusqlite::params_from_iter(args), event_from_row)?.collect())
                    .map_err(backend)
            })
            .await
    }

    async fn events_for_subject(&self, marketplace_id: &str, subject_id: &str) -> StoreResult<Vec<EventRecord>> {
        let (m, s) = (marketplace_id.to_owned(), subject_id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE marketplace_id = ?1 AND subject_id = ?2 ORDER BY seq"
                ))
                .and_then(|mut st| st.query_map(params![m, s], event_from_row)?.collect())
                .map_err(backend)
            })
            .await
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
