//! PostgreSQL backend: for deployments where several partnerd processes share one database.
//! Uniqueness, transactions and (later) delivery claims are enforced by PostgreSQL itself, so
//! they hold across processes.

mod accounts;
mod analytics;
mod billing;
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
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use kit::{execute, query_all, query_opt};
use partnerd_domain::events::NewEvent;
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::Role;
use partnerd_store::kit::Query;
use partnerd_store::schema::partners as sql;
use partnerd_store::*;
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

const POOL_SIZE: usize = 16;

pub struct PostgresStore {
    pool: Pool,
    /// Fired after this process commits deliveries, and by the `LISTEN` task (see [`listen`])
    /// when another process does.
    wake: DeliveryWake,
    /// Tells the other processes (see [`PostgresStore::commit`]).
    notifier: Notifier,
    listener: tokio::task::AbortHandle,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Their connections close with them.
        self.listener.abort();
        self.notifier.task.abort();
    }
}

/// Whether a write transaction created webhook deliveries: what [`append_events`] returns,
/// for [`PostgresStore::commit`] to wake the dispatchers once they are committed.
#[must_use = "commit with PostgresStore::commit, so that the dispatchers wake"]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fanned(bool);

impl Fanned {
    /// For deliveries a transaction writes itself (a redelivery).
    pub(crate) const CREATED: Self = Self(true);
}

impl From<bool> for Fanned {
    fn from(created: bool) -> Self {
        Self(created)
    }
}

impl std::ops::BitOr for Fanned {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self(self.0 || other.0)
    }
}

/// Sends the other processes a `NOTIFY` after commits that created deliveries, on a pooled
/// connection of its own, outside the write transaction. A transaction that notifies holds
/// PostgreSQL's notification lock from its pre-commit until it ends, its WAL flush included,
/// so writes that notified inside their own transaction committed one at a time (about one
/// per fsync: S4 fell from 2,337 to 1,024/s). Commits made while a `NOTIFY` is in flight
/// share the next one. The payload names this process, whose `LISTEN` skips its own.
struct Notifier {
    pending: Arc<tokio::sync::Notify>,
    token: Arc<str>,
    task: tokio::task::AbortHandle,
}

/// A lost notification costs only latency (workers still poll), so it is not worth an fsync.
static NOTIFY_OTHERS: Query = partnerd_store::sql!(
    "SELECT set_config('synchronous_commit', 'off', true), pg_notify('{}', $1)",
    webhooks::CHANNEL
);

impl Notifier {
    fn spawn(pool: Pool) -> Self {
        let pending = Arc::new(tokio::sync::Notify::new());
        let token: Arc<str> = new_id("proc").into();
        let (waiting, payload) = (pending.clone(), token.clone());
        let task = tokio::spawn(async move {
            loop {
                waiting.notified().await;
                let sent = match pool.get().await {
                    Ok(c) => c.execute(NOTIFY_OTHERS.postgres(), &[&&*payload]).await.map(drop).map_err(pg),
                    Err(e) => Err(StoreError::Backend(e.to_string())),
                };
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not notify other processes of new webhook deliveries");
                }
            }
        })
        .abort_handle();
        Self { pending, token, task }
    }
}

impl PostgresStore {
    /// Connects to `url` (a libpq-style `postgres://` URL) and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Arc<Self>> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let wake = DeliveryWake::new();
        let notifier = Notifier::spawn(pool.clone());
        let listener = tokio::spawn(listen(config, wake.clone(), notifier.token.clone())).abort_handle();
        let store = Self { pool, wake, notifier, listener };
        let mut client = store.client().await?;
        migrate::run(&mut client).await?;
        Ok(Arc::new(store))
    }

    pub(crate) async fn client(&self) -> StoreResult<deadpool_postgres::Client> {
        self.pool.get().await.map_err(|e| StoreError::Backend(format!("PostgreSQL unavailable: {e}")))
    }

    /// Commits a write transaction, then wakes the dispatchers if it created deliveries: this
    /// process's at once, the others' through [`Notifier`].
    pub(crate) async fn commit(&self, tx: deadpool_postgres::Transaction<'_>, fanned: Fanned) -> StoreResult<()> {
        tx.commit().await.map_err(pg)?;
        if fanned.0 {
            self.wake.fire();
            self.notifier.pending.notify_one();
        }
        Ok(())
    }
}

/// Keeps one connection listening on the deliveries channel for as long as the store lives,
/// and fires `wake` for every other process's notification (see [`Notifier`]; this process's
/// own commits have fired it already). A lost connection is reopened (backing off up to 5 s);
/// each time it listens again it wakes once, for whatever was committed meanwhile.
/// Notifications only hurry the workers along: they still poll, so none is needed for
/// correctness.
async fn listen(mut config: tokio_postgres::Config, wake: DeliveryWake, own: Arc<str>) {
    // A dead peer is noticed in about a minute even when nothing is sent.
    config.keepalives(true).keepalives_idle(std::time::Duration::from_secs(30));
    config.connect_timeout(std::time::Duration::from_secs(10));
    let mut backoff = std::time::Duration::from_millis(100);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (heard, own) = (wake.clone(), own.clone());
                // Drives the connection (the LISTEN below included) and hears notifications.
                let driver = tokio::spawn(async move {
                    loop {
                        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                            Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                                if n.payload() != &*own {
                                    heard.fire();
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "PostgreSQL LISTEN connection lost");
                                return;
                            }
                            None => return,
                        }
                    }
                });
                let statement = format!("LISTEN {}", webhooks::CHANNEL);
                match client.batch_execute(&statement).await {
                    Ok(()) => {
                        backoff = std::time::Duration::from_millis(100);
                        wake.fire();
                        // Holds the client until the connection ends.
                        let _ = driver.await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %pg(e), "could not LISTEN for webhook deliveries");
                        driver.abort();
                    }
                }
                drop(client);
            }
            Err(e) => tracing::warn!(error = %pg(e), "could not open the PostgreSQL LISTEN connection"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
    }
}

/// tokio-postgres prints a server error as just "db error": keep the server's own words.
///
/// A foreign-key violation is `Conflict(REFERENCE_CONFLICT)` (a 409, not a 5xx).
pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
        return StoreError::Conflict(partnerd_store::REFERENCE_CONFLICT.to_owned());
    }
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

/// The write time is the column's default (`clock_timestamp()`), the database host's clock.
static INSERT_EVENT: Query = partnerd_store::sql!(
    "INSERT INTO events (id, marketplace_id, event_type, subject_type, subject_id, partner_id, related_partner_id,
                         actor_user_id, payload, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
);

pub(crate) async fn append_events(
    c: &impl GenericClient,
    marketplace_id: &str,
    occurred_at: DateTime<Utc>,
    events: &[NewEvent],
) -> StoreResult<Fanned> {
    let mut fanned = Fanned::default();
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
        ];
        execute(c, INSERT_EVENT.postgres(), &args, "event id taken").await?;
        // Deliveries are created with the event, in its transaction: none is ever lost.
        if let Some(partner) = &e.partner_id
            && partnerd_domain::webhooks::is_deliverable(e.event_type)
        {
            fanned = fanned
                | webhooks::fan_out(
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
    Ok(fanned)
}

async fn insert_company(
    c: &impl GenericClient,
    id: &str,
    m: &str,
    name: &str,
    kind: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute(c, sql::INSERT_COMPANY.postgres(), &args![id, m, name, kind, at], "company id taken").await?;
    Ok(())
}

/// What the company is to the marketplace (reseller, referral…), from its members' roles.
async fn set_company_flags(c: &impl GenericClient, id: &str, roles: &[Role]) -> StoreResult<()> {
    let [reseller, referral, developer, admin] =
        [Role::Reseller, Role::Referral, Role::Developer, Role::ChannelAdmin].map(|r| roles.contains(&r));
    let args = args![id, reseller, referral, developer, admin];
    execute(c, partnerd_store::schema::accounts::SET_COMPANY_FLAGS.postgres(), &args, "").await?;
    Ok(())
}

pub(crate) async fn insert_user(
    c: &impl GenericClient,
    id: &str,
    m: &str,
    email: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute(c, sql::INSERT_USER.postgres(), &args![id, m, email, at], "a user with this e-mail already exists").await?;
    Ok(())
}

pub(crate) async fn insert_membership(
    c: &impl GenericClient,
    m: &str,
    user: &str,
    company: &str,
    roles: &Vec<Role>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute(c, sql::INSERT_MEMBERSHIP.postgres(), &args![m, user, company, roles, at], "membership exists").await?;
    Ok(())
}

async fn insert_key(c: &impl GenericClient, k: &NewApiKey) -> StoreResult<()> {
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
    execute(c, sql::INSERT_KEY.postgres(), &args, "key id taken").await?;
    Ok(())
}

#[async_trait]
impl MarketplaceStore for PostgresStore {
    async fn default_marketplace(&self) -> StoreResult<Option<Marketplace>> {
        let c = self.client().await?;
        query_opt(&c, sql::DEFAULT_MARKETPLACE.postgres(), &[]).await
    }

    async fn create_default_marketplace(&self, new: NewMarketplace) -> StoreResult<Marketplace> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let args = args![new.id, new.name, new.created_at];
        execute(&tx, sql::INSERT_DEFAULT_MARKETPLACE.postgres(), &args, "a default marketplace exists already").await?;
        insert_company(&tx, &new.operator_company_id, &new.id, &new.name, "operator", new.created_at).await?;
        set_company_flags(&tx, &new.operator_company_id, &[Role::ChannelAdmin]).await?;
        insert_user(&tx, &new.operator_user_id, &new.id, &new.operator_email, new.created_at).await?;
        let roles = vec![Role::ChannelAdmin];
        insert_membership(&tx, &new.id, &new.operator_user_id, &new.operator_company_id, &roles, new.created_at)
            .await?;
        insert_key(&tx, &new.operator_key).await?;
        let fanned = append_events(&tx, &new.id, new.created_at, &new.events).await?;
        self.commit(tx, fanned).await?;
        Ok(Marketplace { id: new.id, name: new.name, created_at: new.created_at })
    }
}

#[async_trait]
impl PartnerStore for PostgresStore {
    async fn create_partner(&self, p: NewPartner) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert_company(&tx, &p.company_id, &p.marketplace_id, &p.company_name, "partner", p.created_at).await?;
        set_company_flags(&tx, &p.company_id, &p.roles).await?;
        insert_user(&tx, &p.user_id, &p.marketplace_id, &p.contact_email, p.created_at).await?;
        insert_membership(&tx, &p.marketplace_id, &p.user_id, &p.company_id, &p.roles, p.created_at).await?;
        let args = args![p.partner_id, p.marketplace_id, p.company_id, p.contact_email, p.plan, p.created_at];
        execute(&tx, sql::INSERT_PARTNER.postgres(), &args, "partner exists").await?;
        insert_key(&tx, &p.key).await?;
        let fanned = append_events(&tx, &p.marketplace_id, p.created_at, &p.events).await?;
        self.commit(tx, fanned).await
    }

    async fn get_partner(&self, marketplace_id: &str, partner_id: &str) -> StoreResult<Option<PartnerRecord>> {
        let c = self.client().await?;
        query_opt(&c, sql::GET_PARTNER.postgres(), &args![marketplace_id, partner_id]).await
    }

    async fn user_emails(&self, marketplace_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, String)>> {
        let c = self.client().await?;
        query_all(&c, USER_EMAILS.postgres(), &args![marketplace_id, user_ids]).await
    }

    async fn list_partners(&self, marketplace_id: &str) -> StoreResult<Vec<PartnerRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::LIST_PARTNERS.postgres(), &args![marketplace_id]).await
    }
}

static USER_EMAILS: Query =
    partnerd_store::sql!("SELECT id, email FROM users WHERE marketplace_id = $1 AND id = ANY($2)");

#[async_trait]
impl KeyStore for PostgresStore {
    async fn create_key(&self, new: NewApiKey, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let member: Option<(i64,)> =
            query_opt(&tx, sql::IS_MEMBER.postgres(), &args![new.marketplace_id, new.user_id, new.company_id]).await?;
        if member.is_none() {
            return Err(StoreError::NotFound("membership"));
        }
        insert_key(&tx, &new).await?;
        let fanned = append_events(&tx, &new.marketplace_id, new.created_at, &events).await?;
        self.commit(tx, fanned).await
    }

    async fn list_keys(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::LIST_KEYS.postgres(), &args![marketplace_id, user_id]).await
    }

    async fn list_company_keys(&self, marketplace_id: &str, company_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::LIST_COMPANY_KEYS.postgres(), &args![marketplace_id, company_id]).await
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
        let mut fanned = Fanned::default();
        if execute(&tx, sql::REVOKE_KEY.postgres(), &args![marketplace_id, key_id, at], "").await? == 1 {
            fanned = append_events(&tx, marketplace_id, at, &[event]).await?;
        }
        let key: Option<ApiKeyRecord> = query_opt(&tx, sql::GET_KEY.postgres(), &args![marketplace_id, key_id]).await?;
        self.commit(tx, fanned).await?;
        key.ok_or(StoreError::NotFound("api key"))
    }

    async fn find_key_for_auth(&self, key_id: &str) -> StoreResult<Option<KeyAuth>> {
        let c = self.client().await?;
        query_opt(&c, sql::KEY_FOR_AUTH.postgres(), &args![key_id]).await
    }

    async fn memberships(&self, marketplace_id: &str, user_id: &str) -> StoreResult<Vec<Membership>> {
        let c = self.client().await?;
        query_all(&c, sql::MEMBERSHIPS.postgres(), &args![marketplace_id, user_id]).await
    }
}

static EVENTS_SINCE: Query = partnerd_store::sql!(
    "SELECT {} FROM events WHERE recorded_at >= $1 AND event_type = ANY($2) ORDER BY seq",
    *sql::EVENT_COLUMNS
);

#[async_trait]
impl EventLog for PostgresStore {
    async fn events_recorded_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventRecord>> {
        let c = self.client().await?;
        let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
        query_all(&c, EVENTS_SINCE.postgres(), &args![since, types]).await
    }

    async fn event_notes_since(&self, since: DateTime<Utc>, types: &[&str]) -> StoreResult<Vec<EventNote>> {
        let (notes_sql, f) = sql::event_notes_since(kit::DIALECT, since, types);
        let c = self.client().await?;
        query_all(&c, &notes_sql, f.args()).await
    }

    async fn events_for_subject(&self, marketplace_id: &str, subject_id: &str) -> StoreResult<Vec<EventRecord>> {
        let c = self.client().await?;
        query_all(&c, sql::EVENTS_OF_SUBJECT.postgres(), &args![marketplace_id, subject_id]).await
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
