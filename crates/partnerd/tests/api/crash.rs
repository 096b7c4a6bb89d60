//! `partnerd serve` as a child process killed with SIGKILL: deliveries it held are sent by the
//! next process within seconds (short renewed leases), every acknowledged write survives, and
//! webhook secrets survive key rotation. Real binary, real clock, both backends.

use crate::common::*;
use crate::webhooks::signed_with;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HOOKS: &str = "/api/v1/partners/webhooks";
/// Generous: a lease is 30 s, so a killed process's deliveries are claimable within 30 s.
const ARRIVAL_BOUND: Duration = Duration::from_secs(60);

/// A running `partnerd serve`.
struct Served {
    child: Child,
    base: String,
}

/// `PARTNERD_*` variables a test sets for a child, the rest being removed.
fn command(database_url: &str, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_partnerd"));
    c.env("PARTNERD_DATABASE_URL", database_url).env("PARTNERD_LOG", "warn,partnerd=info");
    for name in ["PARTNERD_CONFIG", "PARTNERD_SECRET_KEY", "PARTNERD_SECRET_KEYS", "PARTNERD_REDIS_URL"] {
        c.env_remove(name);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn serve(database_url: &str, env: &[(&str, &str)]) -> Served {
    let mut child = command(database_url, env)
        .args(["serve", "--listen", "127.0.0.1:0", "--allow-private-webhooks"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start partnerd serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let addr = loop {
        let Some(line) = lines.next() else { panic!("serve exited before listening: {seen:?}") };
        let line = line.unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        seen.push(line);
    };
    // The pipe is drained so the child never blocks on a full stderr.
    std::thread::spawn(move || lines.count());
    Served { child, base: format!("http://{addr}") }
}

impl Served {
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli(database_url: &str, env: &[(&str, &str)], args: &[&str]) -> Value {
    let out = command(database_url, env).args(args).output().unwrap();
    assert!(out.status.success(), "partnerd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn partner_key(database_url: &str, env: &[(&str, &str)]) -> String {
    let created = cli(
        database_url,
        env,
        &["partners", "create", "--name", "Acme Corp", "--email", "admin@acme.com", "--plan", "enterprise", "--json"],
    );
    created["api_key"].as_str().unwrap().to_owned()
}

/// An endpoint that takes `delay` to answer 200, recording each request as it arrives.
#[derive(Clone)]
struct SlowReceiver {
    url: String,
    arrived: Arc<Mutex<Vec<Received>>>,
}

impl SlowReceiver {
    async fn start(delay: Duration) -> Self {
        use axum::extract::State;
        use axum::http::HeaderMap;
        type Log = Arc<Mutex<Vec<Received>>>;
        let arrived: Log = Arc::default();
        let app = axum::Router::new()
            .fallback(move |State(log): State<Log>, headers: HeaderMap, body: String| async move {
                let headers =
                    headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
                log.lock().unwrap().push(Received { headers, body });
                tokio::time::sleep(delay).await;
                "ok"
            })
            .with_state(arrived.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, arrived }
    }

    fn count(&self) -> usize {
        self.arrived.lock().unwrap().len()
    }

    /// The listing ids of the `listing.created` events received.
    fn created_listings(&self) -> BTreeSet<String> {
        self.arrived
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.json())
            .filter(|b| b["type"] == "listing.created")
            .map(|b| b["data"]["listing_id"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn wait_until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        self.wait_within(ARRIVAL_BOUND, what, done).await;
    }

    async fn wait_within(&self, bound: Duration, what: &str, done: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(start.elapsed() < bound, "not within {bound:?}: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn call(method: reqwest::Method, url: String, key: &str, body: Option<Value>) -> Result<(u16, Value), String> {
    let mut r = reqwest::Client::new().request(method, url).bearer_auth(key).timeout(Duration::from_secs(10));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

async fn register(base: &str, key: &str, url: &str, events: &[&str], secret: Option<&str>) -> String {
    let mut body = json!({ "url": url, "events": events });
    if let Some(s) = secret {
        body["secret"] = json!(s);
    }
    let (status, res) = call(reqwest::Method::POST, format!("{base}{HOOKS}"), key, Some(body)).await.unwrap();
    assert_eq!(status, 201, "{res}");
    res["data"]["id"].as_str().unwrap().to_owned()
}

async fn create_listing(base: &str, key: &str, title: &str) -> Result<String, String> {
    let url = format!("{base}/api/v1/partners/listings");
    match call(reqwest::Method::POST, url, key, Some(json!({ "title": title }))).await? {
        (201, body) => Ok(body["data"]["id"].as_str().unwrap().to_owned()),
        (status, body) => Err(format!("{status}: {body}")),
    }
}

/// Every delivery of the webhook, each checked: delivered, and no attempt number twice.
async fn wait_all_delivered(base: &str, key: &str, hook: &str) -> usize {
    let start = Instant::now();
    loop {
        let mut deliveries = Vec::new();
        for page in 1.. {
            let url = format!("{base}{HOOKS}/{hook}/deliveries?page={page}&per_page=100");
            let (status, body) = call(reqwest::Method::GET, url, key, None).await.unwrap();
            assert_eq!(status, 200, "{body}");
            let items = body["data"].as_array().unwrap().clone();
            let last = items.len() < 100;
            deliveries.extend(items);
            if last {
                break;
            }
        }
        for d in &deliveries {
            let attempts: Vec<u64> =
                d["log"].as_array().into_iter().flatten().map(|a| a["attempt"].as_u64().unwrap()).collect();
            let unique: BTreeSet<u64> = attempts.iter().copied().collect();
            assert_eq!(unique.len(), attempts.len(), "an attempt number recorded twice: {d}");
        }
        if deliveries.iter().all(|d| d["status"] == "delivered") {
            return deliveries.len();
        }
        assert!(start.elapsed() < ARRIVAL_BOUND, "deliveries still not delivered: {deliveries:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn test_key() -> String {
    partnerd_services::secrets::generate_key()
}

on_both_backends!(deliveries_held_by_a_killed_process_arrive_within_seconds, |backend| async move {
    let Some(url) = fresh_database(backend).await else { return };
    let key = test_key();
    let env = [("PARTNERD_SECRET_KEY", key.as_str())];
    let first = serve(&url, &env);
    // On PostgreSQL a second process runs beside the first all along.
    let beside = matches!(backend, Backend::Postgres).then(|| serve(&url, &env));
    let api_key = partner_key(&url, &env);
    let r = SlowReceiver::start(Duration::from_secs(3)).await;
    let hook = register(&first.base, &api_key, &r.url, &["listing.created"], None).await;
    let mut ids = BTreeSet::new();
    for i in 0..24 {
        ids.insert(create_listing(&first.base, &api_key, &format!("Listing {i}")).await.unwrap());
    }
    // Deliveries are claimed and in flight (the receiver is slow to answer): kill -9 now.
    r.wait_until("a first delivery starts", |r| r.count() >= 1).await;
    first.kill9();
    let restarted = serve(&url, &env);
    r.wait_until("every event arrives after the restart", |r| r.created_listings() == ids).await;
    let total = wait_all_delivered(&restarted.base, &api_key, &hook).await;
    assert_eq!(total, ids.len(), "one delivery per event");
    drop(beside);
});

on_both_backends!(acknowledged_writes_and_deliveries_survive_sigkill, |backend| async move {
    let Some(url) = fresh_database(backend).await else { return };
    let key = test_key();
    let env = [("PARTNERD_SECRET_KEY", key.as_str())];
    let first = serve(&url, &env);
    let api_key = partner_key(&url, &env);
    let r = SlowReceiver::start(Duration::from_millis(300)).await;
    let hook = register(&first.base, &api_key, &r.url, &["listing.created", "listing.updated"], None).await;

    // Writers create a listing, then rename it, over and over; each remembers what was
    // acknowledged (2xx) and what was sent without an answer (it may or may not have landed).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let (base, key, stop, created) = (first.base.clone(), api_key.clone(), stop.clone(), created.clone());
            tokio::spawn(async move {
                let mut acked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let Ok(id) = create_listing(&base, &key, &format!("w{w} n{n}")).await else { break };
                    acked.entry(id.clone()).or_default().insert(format!("w{w} n{n}"));
                    created.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let renamed = format!("w{w} n{n} renamed");
                    let put = call(
                        reqwest::Method::PUT,
                        format!("{base}/api/v1/partners/listings/{id}"),
                        &key,
                        Some(json!({ "title": renamed })),
                    )
                    .await;
                    // Acknowledged or not, the rename may have landed: both titles are allowed,
                    // but an acknowledged rename must be there.
                    match put {
                        Ok((200, _)) => {
                            acked.insert(id, BTreeSet::from([renamed]));
                        }
                        // Refused (a rate limit, the server going down): the title stays.
                        Ok(_) => break,
                        Err(_) => {
                            acked.entry(id).or_default().insert(renamed);
                            break;
                        }
                    }
                }
                acked
            })
        })
        .collect();
    let enough = || created.load(std::sync::atomic::Ordering::Relaxed) >= 20;
    r.wait_until("writes are acknowledged and deliveries under way", |r| enough() && r.count() >= 5).await;
    first.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = BTreeMap::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    assert!(acked.len() >= 20, "writes were acknowledged before the kill: {}", acked.len());

    let restarted = serve(&url, &env);
    for (id, titles) in &acked {
        let url = format!("{}/api/v1/partners/listings/{id}", restarted.base);
        let (status, body) = call(reqwest::Method::GET, url, &api_key, None).await.unwrap();
        assert_eq!(status, 200, "an acknowledged create is gone: {id}");
        let title = body["data"]["title"].as_str().unwrap();
        assert!(titles.contains(title), "{id}: '{title}' is none of {titles:?}");
    }
    let ids: BTreeSet<String> = acked.keys().cloned().collect();
    r.wait_until("every acknowledged create's event arrives", |r| r.created_listings().is_superset(&ids)).await;
    let total = wait_all_delivered(&restarted.base, &api_key, &hook).await;
    assert!(total >= ids.len(), "{total} deliveries for {} creates", ids.len());
});

/// Writes a plain-text secret the way versions before encryption stored it.
async fn store_plain_secret(database_url: &str, hook: &str, secret: &str) {
    if let Some(path) = partnerd_store_sqlite::path_from_url(database_url) {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute("UPDATE webhooks SET secret = ?1 WHERE id = ?2", [secret, hook]).unwrap();
        c.execute("INSERT INTO webhook_secrets_unencrypted (webhook_id) VALUES (?1)", [hook]).unwrap();
        return;
    }
    let (client, conn) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.execute("UPDATE webhooks SET secret = $1 WHERE id = $2", &[&secret, &hook]).await.unwrap();
    client.execute("INSERT INTO webhook_secrets_unencrypted (webhook_id) VALUES ($1)", &[&hook]).await.unwrap();
}

async fn stored_secret(database_url: &str, hook: &str) -> String {
    if let Some(path) = partnerd_store_sqlite::path_from_url(database_url) {
        let c = rusqlite::Connection::open(path).unwrap();
        return c.query_row("SELECT secret FROM webhooks WHERE id = ?1", [hook], |r| r.get(0)).unwrap();
    }
    let (client, conn) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.query_one("SELECT secret FROM webhooks WHERE id = $1", &[&hook]).await.unwrap().get(0)
}

on_both_backends!(plain_secrets_are_encrypted_and_keys_rotate, |backend| async move {
    let Some(url) = fresh_database(backend).await else { return };
    if matches!(backend, Backend::Postgres) {
        let out = command(&url, &[]).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "PostgreSQL needs a configured key");
        assert!(String::from_utf8_lossy(&out.stderr).contains("PARTNERD_SECRET_KEY"));
    }
    let (old, new) = (test_key(), test_key());
    let r = SlowReceiver::start(Duration::ZERO).await;
    let secret = "whsec_a_secret_from_before_encryption_0123";
    let old_env = [("PARTNERD_SECRET_KEY", old.as_str())];
    let first = serve(&url, &old_env);
    let api_key = partner_key(&url, &old_env);
    let hook = register(&first.base, &api_key, &r.url, &["listing.created"], None).await;
    drop(first);
    // As left by a version that stored secrets in plain text: the next start encrypts it.
    store_plain_secret(&url, &hook, secret).await;
    let second = serve(&url, &old_env);
    let stored = stored_secret(&url, &hook).await;
    assert!(stored.starts_with("enc1:") && !stored.contains(secret), "{stored}");
    create_listing(&second.base, &api_key, "Under the old key").await.unwrap();
    r.wait_until("a delivery under the old key", |r| r.count() == 1).await;
    drop(second);

    // A new key first, the old one still listed; rotate; then the old key can go.
    let both = format!("{new},{old}");
    let rotated = cli(&url, &[("PARTNERD_SECRET_KEYS", both.as_str())], &["secrets", "rotate", "--json"]);
    assert_eq!((rotated["reencrypted"].clone(), rotated["unchanged"].clone()), (json!(1), json!(0)), "{rotated}");
    assert_ne!(stored_secret(&url, &hook).await, stored, "re-encrypted");
    let again = cli(&url, &[("PARTNERD_SECRET_KEY", new.as_str())], &["secrets", "rotate", "--json"]);
    assert_eq!((again["reencrypted"].clone(), again["unchanged"].clone()), (json!(0), json!(1)));
    let third = serve(&url, &[("PARTNERD_SECRET_KEY", new.as_str())]);
    create_listing(&third.base, &api_key, "Under the new key only").await.unwrap();
    r.wait_until("a delivery under the new key", |r| r.count() == 2).await;
    let got = r.arrived.lock().unwrap().clone();
    assert!(got.iter().all(|d| signed_with(d, secret)), "deliveries verify with the secret shown at creation");
});

on_both_backends!(leases_of_a_live_process_outlast_30_s_by_renewal, |backend| async move {
    let Some(url) = fresh_database(backend).await else { return };
    let key = test_key();
    let env = [("PARTNERD_SECRET_KEY", key.as_str())];
    let served = serve(&url, &env);
    let api_key = partner_key(&url, &env);
    // 64 deliveries to one endpoint, 16 at a time, 12 s each: the last 16 wait 36 s in this
    // process's queue, past a 30 s lease. Only renewal keeps them from being claimed (and sent)
    // a second time.
    let r = SlowReceiver::start(Duration::from_secs(12)).await;
    let hook = register(&served.base, &api_key, &r.url, &["listing.created"], None).await;
    let mut ids = BTreeSet::new();
    for i in 0..64 {
        ids.insert(create_listing(&served.base, &api_key, &format!("Queued {i}")).await.unwrap());
    }
    // Four rounds of 12 s: generous room beyond 48 s.
    r.wait_within(Duration::from_secs(150), "every event arrives", |r| r.created_listings() == ids).await;
    assert_eq!(wait_all_delivered(&served.base, &api_key, &hook).await, 64);
    assert_eq!(r.count(), 64, "each delivery was sent once");
});
