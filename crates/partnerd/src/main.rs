//! `partnerd`: the server and its admin CLI. Exit codes: 0 success, 2 usage errors (including
//! invalid values), 1 anything else, with a one-line reason on stderr.

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use partnerd::config::{DEFAULT_DATABASE_URL, DEFAULT_LISTEN, FileConfig, HttpSettings, LogFormat, SecretKeyEnv};
use partnerd::http::HttpLimits;
use partnerd::server::{self, ServerOptions};
use partnerd_api::partners_v1::listings::ListingBody;
use partnerd_domain::SystemClock;
use partnerd_domain::listing::ListingPatch;
use partnerd_services::partners::{CreateKey, CreatePartner};
use partnerd_services::{ErrorKind, ServiceError, Services};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "partnerd", version, about = "Self-hosted partner platform: the partner APIs and their admin CLI")]
struct Cli {
    /// Database URL: sqlite://FILE (created if missing) or postgres://…
    #[arg(long, global = true, env = "PARTNERD_DATABASE_URL")]
    database: Option<String>,
    /// TOML config file (listen, database_url, redis_url, plans…)
    #[arg(long, global = true, env = "PARTNERD_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines on stderr: text or json (one object per line) [default: text]
    #[arg(long, global = true, env = "PARTNERD_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (creates and migrates the database on start)
    Serve(ServeArgs),
    /// Enrol and list partners
    #[command(subcommand)]
    Partners(PartnersCommand),
    /// Create, list and revoke API keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Create and import a partner's marketplace listings
    #[command(subcommand)]
    Listings(ListingsCommand),
    /// Manage the keys encrypting webhook secrets at rest
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Customers' invoices: mark them paid, void or uncollectible
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// Load the sellable catalog (products → editions → payment plans → costs)
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Customers' metered usage from the operator's platform
    #[command(subcommand)]
    Usage(UsageCommand),
    /// Dashboard users: invitation and password-reset links
    #[command(subcommand)]
    Users(UsersCommand),
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Print a one-time invitation link (7 days) with which the user sets a password. A new
    /// e-mail needs --partner (a user of that partner) or --operator (an operator user).
    Invite {
        #[arg(long)]
        email: String,
        /// The partner a new user joins
        #[arg(long, conflicts_with = "operator")]
        partner: Option<String>,
        /// Roles of a new partner user (repeatable) [default: reseller]
        #[arg(long = "role", requires = "partner")]
        roles: Vec<String>,
        /// The new user joins the operator's company
        #[arg(long)]
        operator: bool,
        /// Print `{"user_id", "email", "invitation_url", "expires_at"}`
        #[arg(long)]
        json: bool,
    },
    /// Print a one-time password-reset link (24 hours); using it signs the user out everywhere
    Reset {
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// List the marketplace's users and whether they have set a password
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UsageCommand {
    /// Import usage records from a JSON file (`-` reads standard input): the body of
    /// `POST /api/v1/partners/usage/records` or just its array of records, at most 100 000.
    /// Validated like the API (problems named `records[3].quantity`), written in one
    /// transaction; records already ingested with the same id and content count once.
    Import {
        file: PathBuf,
        /// Print `{"received", "ingested", "duplicates"}`
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Re-encrypt every stored webhook secret under the current (first) key, so older keys can
    /// then be dropped from the configuration
    Rotate {
        #[arg(long)]
        json: bool,
    },
    /// Print a new random key (base64 of 32 bytes) for PARTNERD_SECRET_KEY(S) or a key file
    GenerateKey,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import products from a JSON file: an array of products in the AppReseller document's
    /// shapes. All or nothing; a product whose name exists already is updated in place,
    /// keeping its ids (and those of its editions, plans and costs that still match).
    Import {
        #[arg(long)]
        file: PathBuf,
        /// Print `{"products": [{"id", "editions": [{"id", "paymentPlans": [{"id"}]}]}]}`
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ListingsCommand {
    /// Create one listing (status draft unless given)
    Create {
        #[arg(long)]
        partner: String,
        #[arg(long)]
        title: String,
        /// active, draft or archived
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import listings from a JSON file (an array of objects shaped like the API's create body;
    /// `-` reads standard input). All are validated first and written in one transaction.
    Import {
        #[arg(long)]
        partner: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "PARTNERD_LISTEN")]
    listen: Option<String>,
    /// Keep rate-limit counters in Redis so several processes share one limit
    #[arg(long, env = "PARTNERD_REDIS_URL")]
    redis: Option<String>,
    /// Let webhooks use plain http and reach loopback/private addresses (development only)
    #[arg(long, env = "PARTNERD_ALLOW_PRIVATE_WEBHOOKS")]
    allow_private_webhooks: bool,
    /// The URL users reach the dashboard at (invitation links; https makes cookies Secure)
    /// [default: http:// and the listen address]
    #[arg(long, env = "PARTNERD_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Close a connection whose request headers take longer than this, from their first byte [default: 10s]
    #[arg(long, env = "PARTNERD_HEADER_TIMEOUT", value_name = "DURATION")]
    header_timeout: Option<String>,
    /// Refuse a request whose body takes longer than this after its headers [default: 30s]
    #[arg(long, env = "PARTNERD_BODY_TIMEOUT", value_name = "DURATION")]
    body_timeout: Option<String>,
    /// Close a kept-alive connection idle for this long [default: 60s]
    #[arg(long, env = "PARTNERD_IDLE_TIMEOUT", value_name = "DURATION")]
    idle_timeout: Option<String>,
    /// Client connections served at once; more wait until one closes [default: 10000]
    #[arg(long, env = "PARTNERD_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
}

#[derive(Subcommand)]
enum PartnersCommand {
    /// Enrol a company as a partner, with its admin user and a first API key
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "starter")]
        plan: String,
        /// reseller, reseller_manager, referral, developer, channel_admin, sales_support, partner, partner_read (repeatable) [default: reseller]
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// List the marketplace's partners
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a partner's plan, or suspend it (its keys and dashboard sessions are refused
    /// until it is resumed; its data stays)
    Update {
        partner_id: String,
        #[arg(long)]
        plan: Option<String>,
        #[arg(long, conflicts_with = "resume")]
        suspend: bool,
        #[arg(long)]
        resume: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set a partner's commission rate on its customers' invoices (overrides its plan's default)
    SetCommission {
        partner_id: String,
        /// A decimal fraction from 0 to 1, such as 0.15 (15 %)
        #[arg(long, conflicts_with = "default")]
        rate: Option<String>,
        /// Return the partner to its plan's default rate
        #[arg(long)]
        default: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Mark an invoice paid, void (reverses its commission) or uncollectible
    Mark {
        invoice_id: String,
        /// paid, void or uncollectible
        #[arg(long)]
        status: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create another API key for a user
    Create {
        #[arg(long)]
        user: String,
        /// Needed only when the user belongs to several companies
        #[arg(long)]
        company: Option<String>,
        #[arg(long, default_value = "default")]
        name: String,
        /// Allowed client address or CIDR block (repeatable); none means any
        #[arg(long = "allow-ip")]
        allow_ips: Vec<String>,
        /// Expiry time, RFC 3339 (e.g. 2026-12-31T00:00:00Z)
        #[arg(long)]
        expires_at: Option<DateTime<Utc>>,
        #[arg(long)]
        json: bool,
    },
    /// List a user's keys (never their secrets)
    List {
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key; running servers stop accepting it within a second
    Revoke {
        key_id: String,
        #[arg(long)]
        json: bool,
    },
}

/// A failure and the exit code it deserves.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn other(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }

    fn usage(message: String) -> Self {
        Self { code: 2, message }
    }
}

/// The CLI's words for service errors: refused input exits 2, anything else 1.
impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        use partnerd_services::error::codes;
        match (e.kind, e.entity, e.code) {
            (ErrorKind::Invalid, ..) => Failure { code: 2, message: e.fields.to_string() },
            (ErrorKind::Conflict, "user", codes::EMAIL_TAKEN) => {
                Failure { code: 2, message: "email: a user with this e-mail exists already, elsewhere".into() }
            }
            (ErrorKind::Conflict, "user", codes::NO_DASHBOARD) => Failure {
                code: 2,
                message: "email: this user belongs to no partner and is not the operator's (or is disabled)".into(),
            },
            _ => Failure::other(e.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // The file is read before anything is logged: it may choose the log format.
    let file = match &cli.config {
        Some(path) => match FileConfig::load(path) {
            Ok(file) => file,
            Err(m) => return usage_error(&m),
        },
        None => FileConfig::default(),
    };
    match LogFormat::choose(cli.log_format.as_deref(), file.log_format.as_deref()) {
        Ok(format) => init_logging(format),
        Err(m) => return usage_error(&m),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(cli, file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("partnerd: error: {}", f.message.replace('\n', " "));
            ExitCode::from(f.code)
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("partnerd: error: {}", message.replace('\n', " "));
    ExitCode::from(2)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PARTNERD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // The default reports a failed log write with eprintln!, which panics when stderr is
        // closed (a detached daemon); losing a log line must not stop the server.
        .log_internal_errors(false);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // No spans are entered, so each line is the event alone: timestamp, level, fields.
        LogFormat::Json => builder.json().with_current_span(false).with_span_list(false).init(),
    }
}

async fn run(cli: Cli, file: FileConfig) -> Result<(), Failure> {
    let plans = file.plan_catalog().map_err(|m| Failure { code: 2, message: m })?;
    let database_url =
        cli.database.clone().or(file.database_url.clone()).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());

    match cli.command {
        Command::Serve(args) => {
            let webhook_schedule = file.webhook_schedule().map_err(|m| Failure { code: 2, message: m })?;
            let keys = file
                .secret_keys(&database_url, &SecretKeyEnv::from_env())
                .map_err(|m| Failure { code: 2, message: m })?;
            let limits = file
                .http_limits(&HttpSettings {
                    header_timeout: args.header_timeout,
                    body_timeout: args.body_timeout,
                    idle_timeout: args.idle_timeout,
                    max_connections: args.max_connections,
                })
                .map_err(|m| Failure { code: 2, message: m })?;
            let billing = file.billing_settings(&plans).map_err(|m| Failure { code: 2, message: m })?;
            let sandbox = file.sandbox_settings().map_err(|m| Failure { code: 2, message: m })?;
            let public_url = args.public_url.or(file.public_url.clone());
            let opts = ServerOptions {
                public_url,
                listen: args.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
                redis_url: args.redis.or(file.redis_url),
                database_url: database_url.clone(),
                plans,
                clock: Arc::new(SystemClock),
                invalidation_interval: Duration::from_millis(500),
                schedule_interval: Duration::from_secs(60),
                allow_private_webhooks: args.allow_private_webhooks || file.allow_private_webhooks.unwrap_or(false),
                webhook_schedule,
                dispatcher: partnerd_webhooks::DispatcherOptions::default(),
                billing,
                sandbox,
            };
            serve(opts, limits, keys).await
        }
        Command::Secrets(SecretsCommand::GenerateKey) => {
            println!("{}", partnerd_services::secrets::generate_key());
            Ok(())
        }
        Command::Secrets(SecretsCommand::Rotate { json }) => {
            let keys = file
                .secret_keys(&database_url, &SecretKeyEnv::from_env())
                .map_err(|m| Failure { code: 2, message: m })?;
            let current = keys.current_id().to_owned();
            let services = admin_services(&database_url, plans)
                .await?
                .with_webhooks(partnerd_services::webhooks::WebhookSettings { secrets: keys, ..Default::default() });
            let r = services.webhooks().encrypt_stored_secrets(true).await?;
            if json {
                print_json(json!({
                    "key_id": current,
                    "reencrypted": r.reencrypted,
                    "encrypted": r.encrypted,
                    "unchanged": r.current,
                }));
            } else {
                println!(
                    "webhook secrets under key {current}: {} re-encrypted, {} encrypted from plain text, {} already current",
                    r.reencrypted, r.encrypted, r.current
                );
            }
            Ok(())
        }
        Command::Partners(cmd) => {
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            partners(&services, &marketplace, &link_settings(&file), cmd).await
        }
        Command::Users(cmd) => {
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            users(&services, &marketplace, &link_settings(&file), cmd).await
        }
        Command::Keys(cmd) => {
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            keys(&services, &marketplace, cmd).await
        }
        Command::Invoices(InvoicesCommand::Mark { invoice_id, status, json }) => {
            let to = partnerd_domain::invoice::InvoiceStatus::parse(&status)
                .map_err(|m| bad_usage(format!("--status {m}")))?;
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            let i = services.billing().mark_invoice(&marketplace, &invoice_id, to).await?;
            if json {
                print_json(json!({ "invoice_id": i.id, "number": i.number, "status": i.status.as_str() }));
            } else {
                println!("{}  {}  {}", i.id, i.number, i.status.as_str());
            }
            Ok(())
        }
        Command::Catalog(CatalogCommand::Import { file, json }) => {
            // Read the file before touching the database.
            let text =
                std::fs::read_to_string(&file).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Failure::usage(format!("{}: not JSON: {e}", file.display())))?;
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            let products = services.catalog().import(&marketplace, &value).await?;
            if json {
                let ids = |p: &partnerd_services::catalog::Product| {
                    json!({ "id": p.record.id, "editions": p.editions.iter().map(|e| json!({
                        "id": e.id,
                        "paymentPlans": e.payment_plans.iter().map(|pp| json!({ "id": pp.id })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>() })
                };
                print_json(json!({ "products": products.iter().map(ids).collect::<Vec<_>>() }));
            } else {
                for p in &products {
                    println!("{}  {} edition(s)  {}", p.record.id, p.editions.len(), p.record.name);
                }
            }
            Ok(())
        }
        Command::Usage(UsageCommand::Import { file, json }) => {
            // Read and check the input before touching the database.
            let bytes = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .map_err(|e| Failure::other(format!("cannot read standard input: {e}")))?;
                buf
            } else {
                std::fs::read(&file).map_err(|e| Failure::other(format!("cannot read {}: {e}", file.display())))?
            };
            let records = partnerd_api::partners_v1::usage::parse_import(&bytes)
                .map_err(|e| bad_usage(format!("{}: {e}", file.display())))?;
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            let done = services.usage().import(&marketplace, records).await?;
            if json {
                print_json(json!({
                    "received": done.received, "ingested": done.ingested, "duplicates": done.duplicates,
                }));
            } else {
                println!(
                    "{} record(s): {} ingested, {} already counted",
                    done.received, done.ingested, done.duplicates
                );
            }
            Ok(())
        }
        Command::Listings(cmd) => {
            // Read and check the input before touching the database.
            let (partner, bodies, json) = listing_input(cmd)?;
            let services = admin_services(&database_url, plans).await?;
            let marketplace = marketplace_id(&services, &database_url).await?;
            let created = services.listings().import(&marketplace, &partner, bodies).await?;
            if json {
                print_json(json!({ "created": created.iter().map(|l| l.id.clone()).collect::<Vec<_>>() }));
            } else {
                for l in &created {
                    println!("{}  {:<8}  seo {:>3}  {}", l.id, l.status.as_str(), l.seo_score, l.content.title);
                }
            }
            Ok(())
        }
    }
}

async fn serve(
    opts: ServerOptions,
    limits: HttpLimits,
    keys: partnerd_services::secrets::SecretKeys,
) -> Result<(), Failure> {
    // Installed before the server announces itself, so a SIGTERM sent right after "listening"
    // shuts down gracefully instead of killing the process.
    let shutdown = shutdown_signal().map_err(|e| Failure::other(format!("cannot install signal handlers: {e}")))?;
    let database_url = opts.database_url.clone();
    let mut running = server::start_keyed(opts, limits, keys).await.map_err(Failure::other)?;
    if let Some(key) = &running.bootstrap.operator_key {
        // The operator's way into the dashboard on a brand-new database.
        let link = running
            .services
            .users()
            .issue_link(
                &running.bootstrap.marketplace.id,
                partnerd_services::partners::OPERATOR_EMAIL,
                partnerd_services::users::LinkPurpose::Invitation,
                None,
            )
            .await?;
        let web = partnerd_web::WebSettings { public_url: running.public_url.clone() };
        print_operator_banner(&running.bootstrap.marketplace.id, key, &database_url, &web.link_url(&link.token));
    }
    tracing::info!("partnerd listening on http://{} ({} store)", running.addr, running.services.backend_name());
    tokio::select! {
        result = running.wait() => return result.map_err(|e| Failure::other(e.to_string())),
        _ = shutdown => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
    running.stop().await.map_err(|e| Failure::other(e.to_string()))
}

/// Resolves on SIGINT or SIGTERM; the handlers are registered when this is called.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn print_operator_banner(marketplace_id: &str, key: &str, database_url: &str, invitation: &str) {
    let db = if database_url == DEFAULT_DATABASE_URL { String::new() } else { format!(" --database '{database_url}'") };
    println!(
        "\npartnerd: created marketplace {marketplace_id}.\n\
         Operator API key (shown only this once; store it now):\n\n    {key}\n\n\
         Open the dashboard and set the operator's password (one use, 7 days):\n\n    {invitation}\n\n\
         Create a partner and its API key with:\n\n    \
         partnerd{db} partners create --name \"Acme Corp\" --email admin@acme.com --plan business\n"
    );
}

async fn admin_services(database_url: &str, plans: partnerd_services::PlanCatalog) -> Result<Services, Failure> {
    server::build_services(database_url, None, plans, Arc::new(SystemClock)).await.map_err(Failure::other)
}

/// The default marketplace; on a brand-new database the CLI creates it and shows the operator
/// key once, on stderr so that `--json` output stays one object.
async fn marketplace_id(services: &Services, database_url: &str) -> Result<String, Failure> {
    let b = services.partners().bootstrap().await?;
    if let Some(key) = &b.operator_key {
        eprintln!(
            "partnerd: created marketplace {} in {database_url}; operator API key (shown once): {key}",
            b.marketplace.id
        );
    }
    Ok(b.marketplace.id)
}

/// A mistake in the command line: exit status 2.
fn bad_usage(message: impl Into<String>) -> Failure {
    Failure { code: 2, message: message.into() }
}

fn listing_input(cmd: ListingsCommand) -> Result<(String, Vec<ListingPatch>, bool), Failure> {
    let usage = |message: String| Failure { code: 2, message };
    match cmd {
        ListingsCommand::Create { partner, title, status, json } => {
            let mut body = json!({ "title": title });
            if let Some(s) = status {
                body["status"] = s.into();
            }
            let parsed: ListingBody = serde_json::from_value(body).map_err(|e| usage(e.to_string()))?;
            Ok((partner, vec![parsed.into_patch().map_err(|e| usage(e.to_string()))?], json))
        }
        ListingsCommand::Import { partner, file, json } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| Failure::other(format!("cannot read standard input: {e}")))?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| Failure::other(format!("cannot read {}: {e}", file.display())))?
            };
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| usage(format!("{}: not JSON: {e}", file.display())))?;
            let items = match value {
                serde_json::Value::Array(items) => items,
                one @ serde_json::Value::Object(_) => vec![one],
                _ => return Err(usage(format!("{}: expected an array of listing objects", file.display()))),
            };
            let mut errors = partnerd_domain::ValidationErrors::new();
            let mut patches = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                match serde_json::from_value::<ListingBody>(item) {
                    Err(e) => errors.add(&format!("[{i}]"), e.to_string()),
                    Ok(body) => match body.into_patch() {
                        Ok(p) => patches.push(p),
                        Err(e) => errors.merge_prefixed(&format!("[{i}]."), e),
                    },
                }
            }
            if !errors.is_empty() {
                return Err(usage(format!("{}: {errors}", file.display())));
            }
            Ok((partner, patches, json))
        }
    }
}

fn print_json(value: serde_json::Value) {
    println!("{value}");
}

/// Where invitation links point: `public_url`, else `http://` and the listen address.
fn link_settings(file: &FileConfig) -> partnerd_web::WebSettings {
    let public_url = std::env::var("PARTNERD_PUBLIC_URL").ok().or(file.public_url.clone()).unwrap_or_else(|| {
        let listen =
            std::env::var("PARTNERD_LISTEN").ok().or(file.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        format!("http://{}", listen.replace("0.0.0.0", "127.0.0.1"))
    });
    partnerd_web::WebSettings { public_url }
}

async fn users(
    services: &Services,
    marketplace_id: &str,
    web: &partnerd_web::WebSettings,
    cmd: UsersCommand,
) -> Result<(), Failure> {
    use partnerd_services::users::{LinkPurpose, NewUserIn};
    let (link, json) = match cmd {
        UsersCommand::Invite { email, partner, roles, operator, json } => {
            let place = match (partner, operator) {
                (Some(partner_id), _) => Some(NewUserIn::Partner { partner_id, roles }),
                (None, true) => Some(NewUserIn::Operator),
                (None, false) => None,
            };
            (services.users().issue_link(marketplace_id, &email, LinkPurpose::Invitation, place).await?, json)
        }
        UsersCommand::Reset { email, json } => {
            (services.users().issue_link(marketplace_id, &email, LinkPurpose::Reset, None).await?, json)
        }
        UsersCommand::List { json } => {
            let list = services.users().all(marketplace_id).await?;
            if json {
                print_json(serde_json::Value::Array(
                    list.iter()
                        .map(|u| {
                            json!({ "user_id": u.user_id, "email": u.email, "company_id": u.company_id,
                                    "company_name": u.company_name, "partner_id": u.partner_id,
                                    "has_password": u.has_password })
                        })
                        .collect(),
                ));
            } else {
                for u in list {
                    let pw = if u.has_password { "password set" } else { "no password yet" };
                    println!("{}  {}  {}  {pw}", u.user_id, u.email, u.company_name);
                }
            }
            return Ok(());
        }
    };
    let url = web.link_url(&link.token);
    if json {
        print_json(json!({
            "user_id": link.user_id, "email": link.email, "purpose": link.purpose.as_str(),
            "invitation_url": url, "expires_at": link.expires_at.to_rfc3339(),
        }));
    } else {
        println!(
            "{} link for {} (one use, until {}):\n\n    {url}\n",
            link.purpose.as_str(),
            link.email,
            link.expires_at.to_rfc3339()
        );
    }
    Ok(())
}

async fn partners(
    services: &Services,
    marketplace_id: &str,
    web: &partnerd_web::WebSettings,
    cmd: PartnersCommand,
) -> Result<(), Failure> {
    match cmd {
        PartnersCommand::Create { name, email, plan, roles, json } => {
            let created = services
                .partners()
                .create(marketplace_id, CreatePartner { name, email: email.clone(), plan, roles })
                .await?;
            // The admin user's way into the dashboard: set a password through this link. The
            // partner exists by now, so a failure here must not hide its key.
            let link = services
                .users()
                .issue_link(marketplace_id, &email, partnerd_services::users::LinkPurpose::Invitation, None)
                .await;
            let url = match &link {
                Ok(link) => Some(web.link_url(&link.token)),
                Err(e) => {
                    eprintln!("partnerd: no invitation link ({e}); `partnerd users invite --email {email}` makes one");
                    None
                }
            };
            if json {
                print_json(json!({
                    "partner_id": created.partner_id,
                    "company_id": created.company_id,
                    "user_id": created.user_id,
                    "key_id": created.key_id,
                    "api_key": created.api_key,
                    "marketplace_id": marketplace_id,
                    "invitation_url": url,
                }));
            } else {
                println!("partner:  {}", created.partner_id);
                println!("company:  {}", created.company_id);
                println!("user:     {}", created.user_id);
                println!("key:      {}", created.key_id);
                println!("API key (shown only this once): {}", created.api_key);
                if let Some(url) = url {
                    println!("Dashboard invitation (one use, 7 days): {url}");
                }
            }
        }
        PartnersCommand::Update { partner_id, plan, suspend, resume, json } => {
            let suspended = if suspend {
                Some(true)
            } else if resume {
                Some(false)
            } else {
                None
            };
            if plan.is_none() && suspended.is_none() {
                return Err(bad_usage("give --plan PLAN, --suspend or --resume"));
            }
            let change = partnerd_services::partners::PartnerChange { plan, suspended };
            let p = services.partners().update(marketplace_id, &partner_id, change).await?;
            if json {
                print_json(json!({ "partner_id": p.id, "plan": p.plan, "suspended": p.suspended_at.is_some() }));
            } else {
                let state = if p.suspended_at.is_some() { "suspended" } else { "active" };
                println!("{}  plan {}  {state}", p.id, p.plan);
            }
        }
        PartnersCommand::SetCommission { partner_id, rate, default, json } => {
            let rate = match (rate, default) {
                (Some(r), false) => {
                    Some(partnerd_domain::billing::Rate::parse(&r).map_err(|m| bad_usage(format!("--rate {m}")))?)
                }
                (None, true) => None,
                _ => return Err(bad_usage("give --rate RATE or --default")),
            };
            let now = services.billing().set_commission_rate(marketplace_id, &partner_id, rate).await?;
            if json {
                print_json(json!({ "partner_id": partner_id, "rate": now.decimal() }));
            } else {
                println!("{partner_id}  commission rate {}", now.decimal());
            }
        }
        PartnersCommand::List { json } => {
            let list = services.partners().list(marketplace_id).await?;
            if json {
                print_json(serde_json::Value::Array(
                    list.iter()
                        .map(|p| {
                            json!({
                                "partner_id": p.id, "company_id": p.company_id, "company_name": p.company_name,
                                "email": p.contact_email, "plan": p.plan, "created_at": p.created_at.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                for p in list {
                    println!("{}  {:<10}  {}  <{}>", p.id, p.plan, p.company_name, p.contact_email);
                }
            }
        }
    }
    Ok(())
}

async fn keys(services: &Services, marketplace_id: &str, cmd: KeysCommand) -> Result<(), Failure> {
    let partners = services.partners();
    match cmd {
        KeysCommand::Create { user, company, name, allow_ips, expires_at, json } => {
            let input = CreateKey { user_id: user, company_id: company, name, allowed_ips: allow_ips, expires_at };
            let created = partners.create_key(marketplace_id, input).await?;
            if json {
                print_json(json!({ "key_id": created.key_id, "api_key": created.api_key }));
            } else {
                println!("key:      {}", created.key_id);
                println!("API key (shown only this once): {}", created.api_key);
            }
        }
        KeysCommand::List { user, json } => {
            let list = partners.list_keys(marketplace_id, &user).await?;
            let rows: Vec<_> = list
                .iter()
                .map(|k| {
                    json!({
                        "key_id": k.id, "name": k.name, "prefix": k.display_prefix, "company_id": k.company_id,
                        "allowed_ips": k.allowed_ips,
                        "expires_at": k.expires_at.map(|t| t.to_rfc3339()),
                        "revoked_at": k.revoked_at.map(|t| t.to_rfc3339()),
                        "created_at": k.created_at.to_rfc3339(),
                    })
                })
                .collect();
            if json {
                print_json(serde_json::Value::Array(rows));
            } else {
                for k in list {
                    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                    println!("{}  {:<8}  {:<12}  {}", k.id, state, k.name, k.display_prefix);
                }
            }
        }
        KeysCommand::Revoke { key_id, json } => {
            let k = partners.revoke_key(marketplace_id, &key_id).await?;
            let at = k.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default();
            if json {
                print_json(json!({ "key_id": k.id, "revoked_at": at }));
            } else {
                println!("revoked {} at {at}", k.id);
            }
        }
    }
    Ok(())
}
