//! `partnerd-bench`: what `wrk` cannot do for the harness (`bench/run.py`).
//!
//! - `seed`: fills a database through partnerd's own services (the rows, events and counters
//!   are those the API would write), many writes in flight so SQLite commits them in groups.
//! - `seed --customers N`: customer accounts for S7 and S8 (`reseller.rs`).
//! - `seed --leads N`: leads for S9, a reseller manager's view of the Leads API (`leads.rs`).
//! - `seed --subscriptions N`: a reseller's catalog, customers and N purchases for S10
//!   (`subscriptions.rs`).
//! - `fanout`: scenario S6. Runs a webhook receiver, registers it, changes listings through the
//!   API and measures deliveries per second and the time from each change to its delivery.

mod leads;
mod reseller;
mod subscriptions;

use clap::{Parser, Subcommand};
use partnerd::config::FileConfig;
use partnerd_domain::SystemClock;
use partnerd_domain::listing::{ListingPatch, ListingStatus};
use partnerd_services::Services;
use partnerd_services::cosell::NewOpportunity;
use partnerd_services::partners::CreatePartner;
use partnerd_services::webhooks::NewWebhook;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Seed {
        #[arg(long)]
        database: String,
        #[arg(long)]
        config: std::path::PathBuf,
        #[arg(long)]
        listings: usize,
        #[arg(long)]
        opportunities: usize,
        #[arg(long)]
        webhooks: usize,
        /// Customer accounts of the bench partner (S7, S8).
        #[arg(long, default_value_t = 0)]
        customers: usize,
        /// Leads in the marketplace (S9).
        #[arg(long, default_value_t = 0)]
        leads: usize,
        /// AppReseller subscriptions bought before S10 (which buys more).
        #[arg(long, default_value_t = 0)]
        subscriptions: usize,
        /// Where to write keys and sample ids (JSON).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    Fanout {
        /// The server's database, for the burst of events of phase 1 (made as `listings import` does).
        #[arg(long)]
        database: String,
        #[arg(long)]
        config: std::path::PathBuf,
        #[arg(long)]
        partner: String,
        /// Events in the throughput burst.
        #[arg(long, default_value_t = 20_000)]
        burst: usize,
        #[arg(long)]
        base: String,
        #[arg(long)]
        key: String,
        /// File with one listing id per line (the listings to change).
        #[arg(long)]
        ids: std::path::PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Events per second in the latency phase.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::Seed { database, config, listings, opportunities, webhooks, customers, leads, subscriptions, out } => {
            let rows = Rows { listings, opportunities, webhooks, customers, leads, subscriptions };
            seed(&database, &config, rows, &out).await
        }
        Command::Fanout { database, config, partner, burst, base, key, ids, seconds, rate, out } => {
            let burst = Burst { database, config, partner, events: burst };
            fanout(&burst, &base, &key, &ids, seconds, rate, &out).await
        }
    };
    if let Err(e) = result {
        eprintln!("partnerd-bench: {e}");
        std::process::exit(1);
    }
}

/// Runs `jobs` with at most `width` in flight.
async fn in_parallel<F>(jobs: Vec<F>, width: usize) -> Result<(), String>
where
    F: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for job in jobs {
        while set.len() >= width {
            set.join_next().await.expect("a running job").map_err(|e| e.to_string())??;
        }
        set.spawn(job);
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    Ok(())
}

fn listing_patch(i: usize) -> ListingPatch {
    let words = ["security", "compliance", "analytics", "backup", "observability", "identity"];
    let k = words[i % words.len()];
    ListingPatch {
        title: Some(format!("Bench {k} suite number {i}")),
        short_description: Some(format!("A {k} product for teams that need {k} at scale, listing {i}.")),
        highlights: Some(vec![format!("Fast {k} onboarding for every team"), "Works with your existing tools".into()]),
        categories: Some(vec!["Software".into()]),
        keywords: Some(vec![k.into(), "cloud".into()]),
        // Two thirds active, one third draft.
        status: Some(if i % 3 == 2 { ListingStatus::Draft } else { ListingStatus::Active }),
        ..Default::default()
    }
}

/// What `seed` makes.
struct Rows {
    listings: usize,
    opportunities: usize,
    webhooks: usize,
    customers: usize,
    leads: usize,
    subscriptions: usize,
}

async fn seed(database: &str, config: &std::path::Path, rows: Rows, out: &std::path::Path) -> Result<(), String> {
    let Rows { listings, opportunities, webhooks, customers, leads, subscriptions } = rows;
    let file = FileConfig::load(config)?;
    let services =
        partnerd::server::build_services(database, None, file.plan_catalog()?, Arc::new(SystemClock)).await?;
    let bootstrap = services.partners().bootstrap().await.map_err(|e| e.to_string())?;
    let marketplace = bootstrap.marketplace.id;
    let partner = |name: &str, email: &str| CreatePartner {
        name: name.into(),
        email: email.into(),
        plan: "bench".into(),
        roles: vec![],
    };
    let main = services
        .partners()
        .create(&marketplace, partner("Bench Corp", "bench@bench.test"))
        .await
        .map_err(|e| e.to_string())?;
    let other = services
        .partners()
        .create(&marketplace, partner("Bench Partner", "partner@bench.test"))
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();

    // Listings, in batches of one transaction each.
    const BATCH: usize = 2_000;
    let jobs: Vec<_> = (0..listings.div_ceil(BATCH))
        .map(|b| {
            let (services, marketplace, partner) = (services.clone(), marketplace.clone(), main.partner_id.clone());
            async move {
                let patches = (b * BATCH..((b + 1) * BATCH).min(listings)).map(listing_patch).collect();
                services.listings().import(&marketplace, &partner, patches).await.map(|_| ()).map_err(|e| e.to_string())
            }
        })
        .collect();
    in_parallel(jobs, 4).await?;
    eprintln!("seeded {listings} listings in {:.1} s", started.elapsed().as_secs_f64());

    // Opportunities, one use case each, as the API creates them.
    let who = services
        .auth()
        .authenticate(Some(&main.api_key), IpAddr::V4(Ipv4Addr::LOCALHOST), None)
        .await
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let jobs: Vec<_> = (0..opportunities)
        .map(|i| {
            let (services, who, other) = (services.clone(), who.clone(), other.partner_id.clone());
            async move {
                let input = NewOpportunity {
                    customer_name: Some(format!("Customer {i}")),
                    deal_value: Some(partnerd_domain::money::AmountInput::number(1000 + (i % 997) * 10)),
                    partner_id: Some(other),
                    ..Default::default()
                };
                services.cosell().create(&who, input).await.map(|_| ()).map_err(|e| e.to_string())
            }
        })
        .collect();
    in_parallel(jobs, 64).await?;
    eprintln!("seeded {opportunities} opportunities in {:.1} s", t.elapsed().as_secs_f64());

    // Webhooks: at most 20 per partner, so spread over partners of their own. They subscribe
    // to an event the scenarios never cause, so they add rows and index entries, not sends.
    let t = Instant::now();
    let hook_partners = webhooks.div_ceil(20);
    let jobs: Vec<_> = (0..hook_partners)
        .map(|p| {
            let (services, marketplace) = (services.clone(), marketplace.clone());
            let count = 20.min(webhooks - p * 20);
            async move {
                let created = services
                    .partners()
                    .create(&marketplace, partner(&format!("Hook Partner {p}"), &format!("hooks{p}@bench.test")))
                    .await
                    .map_err(|e| e.to_string())?;
                let who = services
                    .auth()
                    .authenticate(Some(&created.api_key), IpAddr::V4(Ipv4Addr::LOCALHOST), None)
                    .await
                    .map_err(|e| e.to_string())?;
                for i in 0..count {
                    let input = NewWebhook {
                        url: Some(format!("https://hooks{p}.bench.test/{i}")),
                        events: Some(vec!["report.generated".into()]),
                        secret: None,
                    };
                    services.webhooks().create(&who, input).await.map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        })
        .collect();
    in_parallel(jobs, 16).await?;
    eprintln!("seeded {webhooks} webhooks in {:.1} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let customer_ids = reseller::seed_customers(&services, &who, customers).await?;
    eprintln!("seeded {customers} customers in {:.1} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let lead_seed = leads::seed_leads(&services, &marketplace, leads).await?;
    eprintln!("seeded {leads} leads in {:.1} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let store = subscriptions::seed_subscriptions(&services, &marketplace, subscriptions).await?;
    eprintln!("seeded {} subscriptions in {:.1} s", store.bought, t.elapsed().as_secs_f64());

    let listing_ids = sample_ids(&services, &who, "listings", listings).await?;
    let opportunity_ids = sample_ids(&services, &who, "opportunities", opportunities).await?;
    let t = Instant::now();
    let deep_cursors = cursors_along(&services, &who).await?;
    eprintln!("walked the active listings by cursor in {:.1} s", t.elapsed().as_secs_f64());
    let summary = json!({
        "api_key": main.api_key,
        "partner_id": main.partner_id,
        "cosell_partner_id": other.partner_id,
        "listings": listings,
        "active_listings": (0..listings).filter(|i| i % 3 != 2).count(),
        "opportunities": opportunities,
        "webhooks": webhooks,
        "seed_seconds": started.elapsed().as_secs_f64(),
        "listing_ids": listing_ids,
        "deep_cursors": deep_cursors,
        "opportunity_ids": opportunity_ids,
        "customers": customers,
        "customer_ids": customer_ids,
        "leads": leads,
        "leads_visible": lead_seed.visible,
        "lead_manager_key": lead_seed.api_key,
        "lead_manager_company_id": lead_seed.company_id,
        "store_key": store.api_key,
        "store_targets": store.targets,
        "store_plans": store.plan_ids,
        "subscriptions": store.bought,
        // Shown once, on the database's creation (the seed makes it): S8 ingests with it.
        "operator_key": bootstrap.operator_key,
    });
    std::fs::write(out, summary.to_string()).map_err(|e| e.to_string())
}

/// Walks every page of the active listings by cursor (100 a page) and keeps about 1,000
/// cursors spread from the newest to the oldest: where S3-cursor's pages start.
async fn cursors_along(services: &Services, who: &partnerd_services::Principal) -> Result<Vec<String>, String> {
    use partnerd_domain::listing::ListingStatus;
    use partnerd_store::Window;
    let mut seen = Vec::new();
    let mut window = Window::Offset(0);
    loop {
        let page = services
            .listings()
            .list(who, Some(ListingStatus::Active), &window, 100)
            .await
            .map_err(|e| e.to_string())?;
        let Some(next) = page.next else { break };
        seen.push(next.encode());
        window = Window::After(next);
    }
    let step = (seen.len() / 1_000).max(1);
    Ok(seen.into_iter().step_by(step).collect())
}

/// Up to 10,000 ids spread over the whole set, read through the services.
async fn sample_ids(
    services: &Services,
    who: &partnerd_services::Principal,
    what: &str,
    total: usize,
) -> Result<Vec<String>, String> {
    let pages = u32::try_from(total.div_ceil(100).max(1)).unwrap_or(u32::MAX);
    let step = (pages / 100).max(1);
    let mut ids = Vec::new();
    let mut page = 1;
    while page <= pages && ids.len() < 10_000 {
        let offset = u64::from(page - 1) * 100;
        let batch: Vec<String> = match what {
            "listings" => services
                .listings()
                .list(who, None, &partnerd_store::Window::Offset(offset), 100)
                .await
                .map_err(|e| e.to_string())?
                .items
                .into_iter()
                .map(|l| l.id.clone())
                .collect(),
            _ => services
                .cosell()
                .list(who, &Default::default(), &partnerd_store::Window::Offset(offset), 100)
                .await
                .map_err(|e| e.to_string())?
                .items
                .into_iter()
                .map(|o| o.id)
                .collect(),
        };
        ids.extend(batch);
        page += step;
    }
    Ok(ids)
}

#[derive(Default)]
struct Arrivals {
    /// nonce → when its delivery arrived (listing.updated, phase 2).
    at: HashMap<u64, Instant>,
    /// listing.created deliveries (phase 1): how many, the first and the last.
    created: u64,
    first_created: Option<Instant>,
    last_created: Option<Instant>,
}

struct Burst {
    database: String,
    config: std::path::PathBuf,
    partner: String,
    events: usize,
}

async fn fanout(
    burst: &Burst,
    base: &str,
    key: &str,
    ids_file: &std::path::Path,
    seconds: u64,
    rate: u64,
    out: &std::path::Path,
) -> Result<(), String> {
    let ids: Vec<String> = std::fs::read_to_string(ids_file)
        .map_err(|e| e.to_string())?
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect();
    if ids.is_empty() {
        return Err("no listing ids".into());
    }
    // The receiver: records when each change's delivery arrives (the nonce is in the new title).
    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let app = {
        let arrivals = arrivals.clone();
        axum::Router::new().fallback(move |body: String| {
            let arrivals = arrivals.clone();
            async move {
                let now = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&body) {
                    let mut a = arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if v["type"] == "listing.created" {
                        a.created += 1;
                        a.first_created.get_or_insert(now);
                        a.last_created = Some(now);
                    } else if let Some(n) = v["data"]["changes"]["title"]["new"]
                        .as_str()
                        .and_then(|t| t.rsplit(' ').next())
                        .and_then(|n| n.parse::<u64>().ok())
                    {
                        a.at.insert(n, now);
                    }
                }
                axum::http::StatusCode::NO_CONTENT
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let hook_url = format!("http://{}/hook", listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(256).build().map_err(|e| e.to_string())?;
    let auth = format!("Bearer {key}");
    let hook: Value = http
        .post(format!("{base}/api/v1/partners/webhooks"))
        .header("authorization", &auth)
        .json(&json!({ "url": hook_url, "events": ["listing.created", "listing.updated"] }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let hook_id = hook["data"]["id"].as_str().ok_or(format!("could not register the webhook: {hook}"))?.to_owned();

    let sent_at: Arc<Mutex<HashMap<u64, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let nonce = Arc::new(AtomicU64::new(1));
    let change = {
        let (http, auth, base, ids, sent_at, nonce) =
            (http.clone(), auth.clone(), base.to_owned(), Arc::new(ids), sent_at.clone(), nonce.clone());
        move || {
            let (http, auth, base, ids, sent_at, nonce) =
                (http.clone(), auth.clone(), base.clone(), ids.clone(), sent_at.clone(), nonce.clone());
            async move {
                let n = nonce.fetch_add(1, Ordering::Relaxed);
                let id = &ids[rand::random_range(0..ids.len())];
                sent_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(n, Instant::now());
                let r = http
                    .put(format!("{base}/api/v1/partners/listings/{id}"))
                    .header("authorization", &auth)
                    .json(&json!({ "title": format!("Bench change {n}") }))
                    .send()
                    .await;
                matches!(r, Ok(ref r) if r.status().is_success())
            }
        }
    };

    // Phase 1, throughput: a burst of events written straight through the services (as
    // `partnerd listings import` writes them), then the dispatcher's drain rate from the first
    // delivery to the last.
    let file = FileConfig::load(&burst.config)?;
    let services =
        partnerd::server::build_services(&burst.database, None, file.plan_catalog()?, Arc::new(SystemClock)).await?;
    let marketplace = services.partners().bootstrap().await.map_err(|e| e.to_string())?.marketplace.id;
    // One transaction: every delivery becomes due at the same commit, so what follows measures
    // the dispatcher alone, not how fast the events were written.
    let patches = (0..burst.events).map(listing_patch).collect();
    let started = Instant::now();
    services.listings().import(&marketplace, &burst.partner, patches).await.map_err(|e| e.to_string())?;
    let written = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).created < burst.events as u64
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (delivered, throughput) = {
        let a = arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let span = match (a.first_created, a.last_created) {
            (Some(f), Some(l)) => l.duration_since(f).as_secs_f64().max(0.001),
            _ => f64::NAN,
        };
        (a.created, a.created as f64 / span)
    };

    // Phase 2, latency at a fixed rate.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first_latency_nonce = nonce.load(Ordering::Relaxed);
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut fired = 0u64;
    while Instant::now() < end {
        ticker.tick().await;
        let change = change.clone();
        tokio::spawn(async move { change().await });
        fired += 1;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut latencies: Vec<f64> = {
        let sent = sent_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let arrived = arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sent.iter()
            .filter(|(n, _)| **n >= first_latency_nonce)
            .filter_map(|(n, s)| arrived.at.get(n).map(|a| a.duration_since(*s).as_secs_f64() * 1000.0))
            .collect()
    };
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        // p is in [0, 1], so the rank is a valid index (or one past, saturated below).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let rank = (latencies.len() as f64 * p).ceil() as usize;
        latencies.get(rank.saturating_sub(1)).copied().unwrap_or(f64::NAN)
    };
    let result = json!({
        "burst_events": burst.events,
        "burst_written_seconds": written,
        "delivered": delivered,
        "deliveries_per_second": throughput,
        "latency_rate": rate,
        "latency_fired": fired,
        "latency_delivered": latencies.len(),
        "latency_p50_ms": pct(0.50),
        "latency_p99_ms": pct(0.99),
        "latency_max_ms": latencies.last().copied().unwrap_or(f64::NAN),
    });
    let _ =
        http.delete(format!("{base}/api/v1/partners/webhooks/{hook_id}")).header("authorization", &auth).send().await;
    std::fs::write(out, result.to_string()).map_err(|e| e.to_string())
}
