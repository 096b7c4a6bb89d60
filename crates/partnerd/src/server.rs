//! Starting and stopping the HTTP server: used by `partnerd serve` and by the tests.

use crate::http::{ConnectionSlots, HttpLimits};
use partnerd_domain::Clock;
use partnerd_services::partners::Bootstrap;
use partnerd_services::secrets::SecretKeys;
use partnerd_services::webhooks::WebhookSettings;
use partnerd_services::{InMemoryCounter, PlanCatalog, RateCounter, Services};
use partnerd_webhooks::{DispatcherOptions, HttpSender, spawn_dispatcher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The documented per-attempt timeout.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

pub struct ServerOptions {
    pub listen: String,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub plans: PlanCatalog,
    pub clock: Arc<dyn Clock>,
    /// How often the key cache reads other processes' revocations from the event log.
    pub invalidation_interval: Duration,
    /// How often the monthly-report schedule checks for partners missing last month's report.
    pub schedule_interval: Duration,
    /// Allows webhooks to `http://` and private/loopback addresses (development, tests).
    pub allow_private_webhooks: bool,
    /// Delays before each delivery attempt.
    pub webhook_schedule: Vec<chrono::Duration>,
    pub dispatcher: DispatcherOptions,
    /// The customer price list, commission rates and invoice numbering.
    pub billing: partnerd_services::billing::BillingSettings,
    /// The default sandbox expiry.
    pub sandbox: partnerd_services::sandboxes::SandboxSettings,
    /// Where users reach the dashboard (invitation links, `Secure` cookies when https);
    /// `None`: `http://` and the address listened on.
    pub public_url: Option<String>,
}

pub struct RunningServer {
    pub addr: SocketAddr,
    /// The dashboard's base URL (the configured one, or `http://` and `addr`).
    pub public_url: String,
    pub services: Services,
    pub bootstrap: Bootstrap,
    slots: ConnectionSlots,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections, lets in-flight requests finish, then returns.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let result = (&mut self.task).await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        for t in &self.background {
            t.abort();
        }
        result
    }

    /// Waits until the server stops by itself (it does not, unless its listener fails).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        (&mut self.task).await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Client connections being served now.
    pub fn open_connections(&self) -> usize {
        self.slots.open()
    }

    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn build_services(
    database_url: &str,
    redis_url: Option<&str>,
    plans: PlanCatalog,
    clock: Arc<dyn Clock>,
) -> Result<Services, String> {
    let store = crate::open_store(database_url).await?;
    let counter: Arc<dyn RateCounter> = match redis_url {
        Some(url) => {
            // A Redis that is down at start is like one that goes down later: requests are
            // counted in process until it answers (the limiter's breaker probes for it).
            let counter = partnerd_redis_limiter::RedisCounter::lazy(url, "partnerd").map_err(|e| e.to_string())?;
            if let Err(e) = counter.probe().await {
                tracing::warn!(error = %e, "Redis does not answer; counting rate limits in this process until it does");
            }
            Arc::new(counter)
        }
        None => Arc::new(InMemoryCounter::default()),
    };
    Ok(Services::new(store, clock, plans, counter))
}

/// The scheduled `partner_performance` reports: on the first of each month (and after any
/// downtime) every partner gets last month's report. Idempotent across processes.
fn spawn_monthly_reports(services: Services, marketplace_id: String, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match services.analytics().run_monthly(&marketplace_id).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reports = n, "generated monthly partner reports"),
                Err(e) => tracing::warn!(error = %e, "monthly reports failed; retrying later"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Renewals: each billed customer account and each recurring AppReseller subscription whose
/// period ended gets its next invoice, checked every `every` (the monthly reports' interval).
/// Safe across processes: a renewal is a versioned write, so each period is invoiced once.
fn spawn_renewals(services: Services, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match services.billing().run_renewals().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(invoices = n, "issued renewal invoices"),
                Err(e) => tracing::warn!(error = %e, "renewal invoices failed; retrying later"),
            }
            match services.subscriptions().run_renewals().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(periods = n, "renewed subscriptions"),
                Err(e) => tracing::warn!(error = %e, "subscription renewals failed; retrying later"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// How often `serve` removes expired sandboxes. Their keys stop working at `expires_at`
/// already; this removes their data.
pub const SANDBOX_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Removes expired (and abandoned half-seeded) sandboxes now and then every `every`. Any
/// process may: a sandbox is removed by whichever process deletes its row first.
fn spawn_sandbox_sweep(services: Services, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match services.sandboxes().remove_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sandboxes = n, "removed expired sandboxes"),
                Err(e) => tracing::warn!(error = %e, "removing expired sandboxes failed; retrying later"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// How often `serve` deletes `Idempotency-Key`s whose 24 hours are over. Expired keys are
/// already ignored (a new claim takes them over); this only bounds the table.
pub const IDEMPOTENCY_PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Purges expired idempotency keys now and then every `every`. Any process may: the delete is
/// idempotent across processes.
fn spawn_idempotency_purge(services: Services, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match services.idempotency().purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(keys = n, "purged expired idempotency keys"),
                Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed; retrying later"),
            }
            // Dashboard sessions past their end and sign-in failures out of the window.
            match services.users().purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged expired dashboard sessions"),
                Err(e) => tracing::warn!(error = %e, "purging dashboard sessions failed; retrying later"),
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Starts with the default [`HttpLimits`].
pub async fn start(opts: ServerOptions) -> Result<RunningServer, String> {
    start_with(opts, HttpLimits::default()).await
}

/// Webhook secrets are encrypted under this process's own random key (tests, embedding):
/// `partnerd serve` uses [`start_keyed`] with the configured keys.
pub async fn start_with(opts: ServerOptions, limits: HttpLimits) -> Result<RunningServer, String> {
    start_keyed(opts, limits, SecretKeys::for_this_process()).await
}

pub async fn start_keyed(opts: ServerOptions, limits: HttpLimits, keys: SecretKeys) -> Result<RunningServer, String> {
    let sender = Arc::new(HttpSender::new(opts.allow_private_webhooks, WEBHOOK_TIMEOUT)?);
    let services = build_services(&opts.database_url, opts.redis_url.as_deref(), opts.plans, opts.clock)
        .await?
        .with_webhooks(WebhookSettings {
            allow_private: opts.allow_private_webhooks,
            schedule: opts.webhook_schedule,
            sender: Some(sender.clone()),
            secrets: keys,
        })
        .with_billing(opts.billing)
        .with_sandboxes(opts.sandbox);
    // Secrets stored before encryption (migration 0007 lists them) are encrypted now.
    let report = services.webhooks().encrypt_stored_secrets(false).await.map_err(|e| e.to_string())?;
    if report.encrypted > 0 {
        tracing::info!(secrets = report.encrypted, "encrypted webhook secrets stored in plain text");
    }
    let bootstrap = services.partners().bootstrap().await.map_err(|e| e.to_string())?;
    let listener =
        TcpListener::bind(&opts.listen).await.map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let background = vec![
        services.spawn_cache_invalidation(opts.invalidation_interval),
        spawn_monthly_reports(services.clone(), bootstrap.marketplace.id.clone(), opts.schedule_interval),
        spawn_dispatcher(services.clone(), sender, opts.dispatcher),
        spawn_idempotency_purge(services.clone(), IDEMPOTENCY_PURGE_INTERVAL),
        spawn_renewals(services.clone(), opts.schedule_interval),
        spawn_sandbox_sweep(services.clone(), SANDBOX_SWEEP_INTERVAL.min(opts.schedule_interval)),
    ];
    // Without a configured address, links name this machine (a wildcard listen address is no
    // place to browse to; the CLI makes the same choice).
    let public_url = opts.public_url.clone().unwrap_or_else(|| {
        let shown =
            if addr.ip().is_unspecified() { std::net::SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
        format!("http://{shown}")
    });
    let dashboard = partnerd_web::routes(
        services.clone(),
        bootstrap.marketplace.id.clone(),
        partnerd_web::WebSettings { public_url: public_url.clone() },
    );
    let app = partnerd_api::router_with(services.clone(), dashboard);
    let (tx, rx) = oneshot::channel::<()>();
    let slots = crate::http::ConnectionSlots::new(limits.max_connections);
    let task = tokio::spawn(crate::http::serve(listener, app, limits, slots.clone(), async move {
        let _ = rx.await;
    }));
    Ok(RunningServer { addr, public_url, services, bootstrap, slots, shutdown: Some(tx), task, background })
}
