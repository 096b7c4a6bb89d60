//! PostgreSQL backend: for deployments where several partnerd processes share one database.
//! Uniqueness, transactions and (later) delivery claims are enforced by PostgreSQL itself, so
//! they hold across processes.

mod analytics;
mod cosell;
mod kit;
mod listings;
mod migrate;
mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use partnerd_domain::events::NewEvent;
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::{Role, roles_from_column, roles_to_column};
use partnerd_store::*;
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

const POOL_SIZE: usize = 16;

pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects to `url` (a libpq-style `postgres://` URL) and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Arc<Self>> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let store = Self { pool };
        let mut client = store.client().await?;
        migrate::run(&mut client).await?;
        Ok(Arc::new(store))
    }

    pub(crate) async fn client(&self) -> StoreResult<deadpool_postgres::Client> {
        self.pool.get().await.map_err(|e| StoreError::Backend(format!("PostgreSQL unavailable: {e}")))
    }
}

/// tokio-postgres prints a server error as just "db error": keep the server's own words.
pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Backend(format!(
            "{}: {}{} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.detail().map(|d| format!(" ({d})")).unwrap_or_default(),
            db.code().code()
        )),
        None => StoreError::Backend(e.to_string()),
    }
}

pub(crate) fn write_error(e: tokio_postgres::Error, what: &str) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) { StoreError::Conflict(what.to_owned()) } else { pg(e) }
}

pub(crate) async fn exec(
    c: &impl GenericClient,
    sql: &str,
    args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    conflict: &str,
) -> StoreResult<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&stmt, args).await.map_err(|e| write_error(e, conflict))
}

pub(crate) async fn query(
    c: &impl GenericClient,
    sql: &str,
    args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&stmt, args).await.map_err(pg)
}

pub(crate) async fn append_events(
    c: &impl GenericClient,
    marketplace_id: &str,
    occurred_at: DateTime<Utc>,
    events: &[NewEvent],
) -> StoreResult<()> {
    for e in events {
        let id = new_id("evt");
        exec(
            c,
            "INSERT INTO events (id, marketplace_id, event_type, subject_type, subject_id, partner_id, related_partner_id,
                                 actor_user_id, payload, occurred_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &id,
                &marketplace_id,
                &e.event_type,
                &e.subject_type,
                &e.subject_id,
                &e.partner_id,
                &e.related_partner_id,
                &e.actor_user_id,
                &e.payload,
                &occurred_at,
            ],
            "event id taken",
        )
        .await?;
        // Deliveries are created with the event, in its transaction: none is ever lost.
        if let Some(partner) = &e.partner_id
            && partnerd_domain::webhooks::is_deliverable(e.event_type)
        {
            webhooks::fan_out(
                c,
                marketplace_id,
                &id,
                e.event_type,
                occurred_at,
                partner,
                e.related_partner_id.as_deref(),
            )
            .await?;
        }
    }
    Ok(())
}

async fn insert_company(
    c: &impl GenericClient,
    id: &str,
    marketplace_id: &str,
    name: &str,
    kind: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO companies (id, marketplace_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&id, &marketplace_id, &name, &kind, &at],
        "company id taken",
    )
    .await?;
    Ok(())
}

async fn insert_user(
    c: &impl GenericClient,
    id: &str,
    marketplace_id: &str,
    email: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO users (id, marketplace_id, email, created_at) VALUES ($1, $2, $3, $4)",
        &[&id, &marketplace_id, &email, &at],
        "a user with this e-mail already exists",
    )
    .await?;
    Ok(())
}

async fn insert_membership(
    c: &impl GenericClient,
    marketplace_id: &str,
    user_id: &str,
    company_id: &str,
    roles: &[Role],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let roles = roles_to_column(roles);
    exec(
        c,
        "INSERT INTO memberships (marketplace_id, user_id, company_id, roles, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&marketplace_id, &user_id, &company_id, &roles, &at],
        "membership exists",
    )
    .await?;
    Ok(())
}

async fn insert_key(c: &impl GenericClient, k: &NewApiKey) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO api_keys (id, marketplace_id, user_id, company_id, name, display_prefix, secret_hash, allowed_ips,
                               expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &k.id,
            &k.marketplace_id,
            &k.user_id,
            &k.company_id,
            &k.name,
            &k.display_prefix,
            &k.secret_hash,
            &k.allowed_ips,
            &k.expires_at,
            &k.created_at,
        ],
        "key id taken",
    )
    .await?;
    Ok(())
}

const PARTNER_COLUMNS: &str = "p.id, p.marketplace_id, p.company_id, c.name, p.contact_email, p.plan,
                               p.aws_account_connected, p.created_at";

fn partner_from_row(r: &Row, base: usize) -> PartnerRecord {
    PartnerRecord {
        id: r.get(base),
        marketplace_id: r.get(base + 1),
        company_id: r.get(base + 2),
        company_name: r.get(base + 3),
        contact_email: r.get(base + 4),
        plan: r.get(base + 5),
        aws_account_connected: r.get(base + 6),
        created_at: r.get(base + 7),
    }
}

const KEY_COLUMNS: &str = "k.id, k.user_id, k.company_id, k.name, k.display_prefix, k.allowed_ips, k.expires_at,
                           k.revoked_at, k.created_at";

fn key_from_row(r: &Row) -> ApiKeyRecord {
    ApiKeyRecord {
        id: r.get(0),
        user_id: r.get(1),
        company_id: r.get(2),
        name: r.get(3),
        display_prefix: r.get(4),
        allowed_ips: r.get(5),
        expires_at: r.get(6),
        revoked_at: r.get(7),
        created_at: r.get(8),
    }
}

const EVENT_COLUMNS: &str = "seq, id, marketplace_id, event_type, subject_type, subject_id, partner_id, actor_user_id,
                             payload, occurred_at, recorded_at, related_partner_id";

fn event_from_row(r: &Row) -> EventRecord {
    EventRecord {
        seq: r.get(0),
        id: r.get(1),
        marketplace_id: r.get(2),
        event_type: r.get(3),
        subject_type: r.get(4),
        subject_id: r.get(5),
        partner_id: r.get(6),
        actor_user_id: r.get(7),
        payload: r.get(8),
        occurred_at: r.get(9),
        recorded_at: r.get(10),
        related_partner_id: r.get(11),
    }
}

#[async_trait]
impl MarketplaceStore for PostgresStore {
    async fn default_marketplace(&self) -> StoreResult<Option<Marketplace>> {
        let c = self.client().await?;
        let rows = query(&c, "SELECT id, name, created_at FROM marketplaces WHERE is_default", &[]).await?;
        Ok(rows.first().map(|r| Marketplace { id: r.get(0), name: r.get(1), created_at: r.get(2) }))
    }

    async fn create_default_marketplace(&self, new: NewMarketplace) -> StoreResult<Marketplace> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        exec(
            &tx,
            "INSERT INTO marketplaces (id, name, is_default, created_at) VALUES ($1, $2, TRUE, $3)",
            &[&new.id, &new.name, &new.created_at],
            "a default marketplace exists already",
        )
        .await?;
        insert_company(&tx, &new.operator_company_id, &new.id, &new.name, "operator", new.created_at).await?;
        insert_user(&tx, &new.operator_user_id, &new.id, &new.operator_email, new.created_at).await?;
        insert_membership(
            &tx,
            &new.id,
            &new.operator_user_id,
            &new.operator_company_id,
            &[Role::ChannelAdmin],
            new.created_at,
        )
        .await?;
        insert_key(&tx, &new.operator_key).await?;
        append_events(&tx, &new.id, new.created_at, &new.events).await?;
        tx.commit().await.map_err(pg)?;
        Ok(Marketplace { id: new.id, name: new.name, created_at: new.created_at })
    }
}

#[async_trait]
impl PartnerStore for PostgresStore {
    async fn create_partner(&self, p: NewPartner) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert_company(&tx, &p.company_id, &p.marketplace_id, &p.company_name, "partner", p.created_at).await?;
        insert_user(&tx, &p.user_id, &p.marketplace_id, &p.contact_email, p.created_at).await?;
        insert_membership(&tx, &p.marketplace_id, &p.user_id, &p.company_id, &p.roles, p.created_at).await?;
        exec(
            &tx,
            "INSERT INTO partners (id, marketplace_id, company_id, contact_email, plan, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&p.partner_id, &p.marketplace_id, &p.company_id, &p.contact_email, &p.plan, &p.created_at],
            "partner exists",
        )
        .await?;
        insert_key(&tx, &p.key).await?;
        append_events(&tx, &p.marketplace_id, p.created_at, &p.events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn get_partner(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Option<PartnerRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {PARTNER_COLUMNS} FROM partners p JOIN companies c ON c.id = p.company_id
             WHERE p.marketplace_id = $1 AND p.id = $2"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &partner_id]).await?.first().map(|r| partner_from_row(r, 0)))
    }

    async fn user_emails(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, String)>> {
        let c = self.client().await?;
        let rows = query(
            &c,
            "SELECT id, email FROM users WHERE marketplace_id = $1 AND id = ANY($2)",
            &[&marketplace_id, &user_ids],
        )
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn list_partners(&self, marketplace_id: &str) -> StoreResult<Vec<PartnerRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {PARTNER_COLUMNS} FROM partners p JOIN companies c ON c.id = p.company_id
             WHERE p.marketplace_id = $1 ORDER BY p.created_at, p.id"
        );
        Ok(query(&c, &sql, &[&marketplace_id]).await?.iter().map(|r| partner_from_row(r, 0)).collect())
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn create_key(&self, new: NewApiKey, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let member = query(
            &tx,
            "SELECT 1 FROM memberships WHERE marketplace_id = $1 AND user_id = $2 AND company_id = $3",
            &[&new.marketplace_id, &new.user_id, &new.company_id],
        )
        .await?;
        if member.is_empty() {
            return Err(StoreError::NotFound("membership"));
        }
        insert_key(&tx, &new).await?;
        append_events(&tx, &new.marketplace_id, new.created_at, &events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn list_keys(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.marketplace_id = $1 AND k.user_id = $2 ORDER BY k.created_at, k.id"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &user_id]).await?.iter().map(key_from_row).collect())
    }

    async fn revoke_key(
        &self,
        marketplace_id: &str,
        key_id: &str,
        at: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<ApiKeyRecord> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let changed = exec(
            &tx,
            "UPDATE api_keys SET revoked_at = $3 WHERE marketplace_id = $1 AND id = $2 AND revoked_at IS NULL",
            &[&marketplace_id, &key_id, &at],
            "",
        )
        .await?;
        if changed == 1 {
            append_events(&tx, marketplace_id, at, &[event]).await?;
        }
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.marketplace_id = $1 AND k.id = $2");
        let key = query(&tx, &sql, &[&marketplace_id, &key_id]).await?.first().map(key_from_row);
        tx.commit().await.map_err(pg)?;
        key.ok_or(StoreError::NotFound("api key"))
    }

    async fn find_key_for_auth(&self, key_id: &str) -> StoreResult<Option<KeyAuth>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT k.id, k.marketplace_id, k.user_id, u.email, k.company_id, m.roles, k.secret_hash,
                    k.allowed_ips, k.expires_at, k.revoked_at, {PARTNER_COLUMNS}
             FROM api_keys k
             JOIN users u ON u.id = k.user_id
             JOIN memberships m ON m.user_id = k.user_id AND m.company_id = k.company_id
             JOIN companies c ON c.id = k.company_id
             LEFT JOIN partners p ON p.company_id = k.company_id
             WHERE k.id = $1"
        );
        Ok(query(&c, &sql, &[&key_id]).await?.first().map(|r| {
            let roles: String = r.get(5);
            let partner_id: Option<String> = r.get(10);
            KeyAuth {
                key_id: r.get(0),
                marketplace_id: r.get(1),
                user_id: r.get(2),
                user_email: r.get(3),
                company_id: r.get(4),
                roles: roles_from_column(&roles),
                secret_hash: r.get(6),
                allowed_ips: r.get(7),
                expires_at: r.get(8),
                revoked_at: r.get(9),
                partner: partner_id.map(|_| partner_from_row(r, 10)),
            }
        }))
    }

    async fn memberships(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<Membership>> {
        let c = self.client().await?;
        let rows = query(
            &c,
            "SELECT m.company_id, m.roles, p.id FROM memberships m
             LEFT JOIN partners p ON p.company_id = m.company_id
             WHERE m.marketplace_id = $1 AND m.user_id = $2
             ORDER BY m.created_at, m.company_id",
            &[&marketplace_id, &user_id],
        )
        .await?;
        Ok(rows
            .iter()
            .map(|r| Membership {
                company_id: r.get(0),
                roles: roles_from_column(&r.get::<_, String>(1)),
                partner_id: r.get(2),
            })
            .collect())
    }
}

#[async_trait]
impl EventLog for PostgresStore {
    async fn events_recorded_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventRecord>> {
        let c = self.client().await?;
        let types: Vec<&str> = types.to_vec();
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE recorded_at >= $1 AND event_type = ANY($2) ORDER BY seq");
        Ok(query(&c, &sql, &[&since, &types]).await?.iter().map(event_from_row).collect())
    }

    async fn events_for_subject(&self, marketplace_id: &str, subject_id: &str) -> StoreResult<Vec<EventRecord>> {
        let c = self.client().await?;
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE marketplace_id = $1 AND subject_id = $2 ORDER BY seq");
        Ok(query(&c, &sql, &[&marketplace_id, &subject_id]).await?.iter().map(event_from_row).collect())
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// For tests: a fresh, empty schema in the database at `url`, and a URL whose connections use
/// it. Each test gets its own schema, so tests run in parallel against one server.
pub async fn fresh_schema_url(url: &str) -> StoreResult<String> {
    let config = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Backend(e.to_string()))?;
    let (client, connection) = config.connect(NoTls).await.map_err(pg)?;
    let task = tokio::spawn(connection);
    let schema = format!("t_{}", partnerd_domain::ids::random_token(16));
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.map_err(pg)?;
    drop(client);
    let _ = task.await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}
