//! Test harness: real servers on random ports, over real HTTP, on SQLite or PostgreSQL.

use chrono::{TimeZone, Utc};
use partnerd::server::{self, RunningServer, ServerOptions};
use partnerd_domain::ManualClock;
use partnerd_domain::rate_limit::Limits;
use partnerd_services::PlanCatalog;
use partnerd_services::partners::{CreateKey, CreatePartner};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database URL for `backend`, or `None` when PostgreSQL is not configured here.
pub async fn fresh_database(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("partnerd-test-{}", partnerd_domain::ids::random_token(12)));
            std::fs::create_dir_all(&dir).unwrap();
            Some(format!("sqlite://{}", dir.join("partnerd.db").display()))
        }
        Backend::Postgres => {
            let Ok(url) = std::env::var("PARTNERD_TEST_POSTGRES_URL") else {
                eprintln!("PARTNERD_TEST_POSTGRES_URL not set: skipping the PostgreSQL variant");
                return None;
            };
            Some(partnerd_store_postgres::fresh_schema_url(&url).await.expect("create test schema"))
        }
    }
}

pub fn redis_url() -> Option<String> {
    std::env::var("PARTNERD_TEST_REDIS_URL").ok()
}

/// The documented schedule's shape, in manual-clock time: tests advance the clock past each delay.
pub fn test_schedule() -> Vec<chrono::Duration> {
    partnerd_domain::webhooks::default_schedule()
}

/// The documents' plans plus `tiny` (3/minute, 5/day) so window tests stay short.
pub fn test_plans() -> PlanCatalog {
    let mut plans = BTreeMap::new();
    for name in ["starter", "business", "enterprise"] {
        plans.insert(name.to_owned(), PlanCatalog::default().limits(name).unwrap());
    }
    plans.insert("tiny".to_owned(), Limits { per_minute: Some(3), per_hour: None, per_day: Some(5) });
    PlanCatalog::new(plans, "enterprise".into()).unwrap()
}

pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub clock: Arc<ManualClock>,
    pub http: Http,
    pub server: RunningServer,
}

/// `reqwest::Client` as the tests use it, except that every response is checked against the
/// generated OpenAPI document before the test sees it (`schema::check_response`).
#[derive(Clone)]
pub struct Http(reqwest::Client);

impl Http {
    pub fn new() -> Http {
        Http(reqwest::Client::builder().no_proxy().build().unwrap())
    }

    pub fn request(&self, method: reqwest::Method, url: impl reqwest::IntoUrl) -> Request {
        Request(self.0.request(method, url))
    }

    pub fn get(&self, url: impl reqwest::IntoUrl) -> Request {
        self.request(reqwest::Method::GET, url)
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> Request {
        self.request(reqwest::Method::POST, url)
    }

    pub fn delete(&self, url: impl reqwest::IntoUrl) -> Request {
        self.request(reqwest::Method::DELETE, url)
    }
}

/// A request being built; `send` checks the response against the document.
pub struct Request(reqwest::RequestBuilder);

impl Request {
    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Request {
        Request(self.0.bearer_auth(token))
    }

    pub fn header(self, name: &'static str, value: impl Into<String>) -> Request {
        Request(self.0.header(name, value.into()))
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Request {
        Request(self.0.body(body))
    }

    pub fn json(self, body: &Value) -> Request {
        Request(self.0.json(body))
    }

    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let (client, request) = self.0.build_split();
        let request = request?;
        let (method, path) = (request.method().to_string(), request.url().path().to_owned());
        let response = client.execute(request).await?;
        let (status, version, headers) = (response.status(), response.version(), response.headers().clone());
        let body = response.bytes().await?;
        let content_type = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        crate::schema::check_response(&method, &path, status.as_u16(), content_type, &body);
        // Handed back as received, body included.
        let mut rebuilt = axum::http::Response::builder().status(status).version(version);
        *rebuilt.headers_mut().unwrap() = headers;
        Ok(reqwest::Response::from(rebuilt.body(body).unwrap()))
    }
}

pub struct TestPartner {
    pub partner_id: String,
    #[allow(dead_code)] // the AppReseller tests address companies
    pub company_id: String,
    pub user_id: String,
    pub key_id: String,
    pub api_key: String,
}

/// A partner enrolled (on the business plan) with these membership roles.
pub async fn enrol(app: &TestApp, name: &str, email: &str, roles: &[&str]) -> TestPartner {
    let c = app
        .server
        .services
        .partners()
        .create(
            &app.marketplace_id(),
            partnerd_services::partners::CreatePartner {
                name: name.into(),
                email: email.into(),
                plan: "business".into(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            },
        )
        .await
        .expect("enrol");
    TestPartner {
        partner_id: c.partner_id,
        company_id: c.company_id,
        user_id: c.user_id,
        key_id: c.key_id,
        api_key: c.api_key,
    }
}

/// 2025-01-15 10:30:00 UTC, standing still until a test moves it.
pub fn fixed_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2025, 1, 15, 10, 30, 0).unwrap()))
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let database_url = fresh_database(backend).await?;
    Some(spawn_on(&database_url, fixed_clock(), None).await)
}

/// A server on an existing database (another "process" sharing it), with a shared clock.
pub async fn spawn_on(database_url: &str, clock: Arc<ManualClock>, redis_url: Option<String>) -> TestApp {
    spawn_with(database_url, clock, redis_url, true).await
}

/// As `spawn_on`, choosing whether webhooks may target private addresses.
pub async fn spawn_with(
    database_url: &str,
    clock: Arc<ManualClock>,
    redis_url: Option<String>,
    allow_private: bool,
) -> TestApp {
    let server = server::start(ServerOptions {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.to_owned(),
        redis_url,
        plans: test_plans(),
        clock: clock.clone(),
        invalidation_interval: Duration::from_millis(50),
        // Tests run the schedule themselves, at the clock time they choose.
        schedule_interval: Duration::from_secs(3600),
        allow_private_webhooks: allow_private,
        webhook_schedule: test_schedule(),
        dispatcher: partnerd_webhooks::DispatcherOptions { poll: Duration::from_millis(5), ..Default::default() },
        billing: Default::default(),
        sandbox: Default::default(),
        public_url: None,
    })
    .await
    .expect("server starts");
    TestApp {
        base: format!("http://{}", server.addr),
        database_url: database_url.to_owned(),
        clock,
        http: Http::new(),
        server,
    }
}

impl TestApp {
    pub fn marketplace_id(&self) -> String {
        self.server.bootstrap.marketplace.id.clone()
    }

    pub async fn partner(&self, name: &str, email: &str, plan: &str) -> TestPartner {
        let c = self
            .server
            .services
            .partners()
            .create(
                &self.marketplace_id(),
                CreatePartner { name: name.into(), email: email.into(), plan: plan.into(), roles: vec![] },
            )
            .await
            .expect("create partner");
        TestPartner {
            partner_id: c.partner_id,
            company_id: c.company_id,
            user_id: c.user_id,
            key_id: c.key_id,
            api_key: c.api_key,
        }
    }

    pub async fn key(&self, user_id: &str, allowed_ips: &[&str], expires_at: Option<chrono::DateTime<Utc>>) -> String {
        let input = CreateKey {
            user_id: user_id.into(),
            company_id: None,
            name: "test".into(),
            allowed_ips: allowed_ips.iter().map(|s| s.to_string()).collect(),
            expires_at,
        };
        self.server.services.partners().create_key(&self.marketplace_id(), input).await.expect("create key").api_key
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(key).send().await.expect("request")
    }
}

/// JSON requests: `(status, body)`, the body `null` when it is not JSON.
impl TestApp {
    pub async fn send(&self, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, key, Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, key, Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, key, Some(body)).await
    }

    pub async fn read(&self, path: &str, key: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, key, None).await
    }

    pub async fn events(&self, subject: &str) -> Vec<partnerd_store::EventRecord> {
        self.server.services.events_for_subject(&self.marketplace_id(), subject).await.unwrap()
    }
}

pub async fn json(r: reqwest::Response) -> serde_json::Value {
    r.json().await.expect("JSON body")
}

pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).unwrap_or_else(|| panic!("missing header {name}")).to_str().unwrap().to_owned()
}

/// Generates `mod $name { sqlite(); postgres(); }` running the same async test body on both.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(Backend::Postgres).await
            }
        }
    };
}

/// A real HTTP endpoint that records every request and answers with scripted statuses
/// (200 once the script runs out).
pub struct Receiver {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
}

#[derive(Clone, Debug)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        use axum::extract::State as S;
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
            std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
        );
        async fn handle(S((log, script)): S<Shared>, headers: HeaderMap, body: String) -> StatusCode {
            let headers =
                headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
            log.lock().unwrap().push(Received { headers, body });
            StatusCode::from_u16(script.lock().unwrap().pop_front().unwrap_or(200)).unwrap()
        }
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let script = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        let app = axum::Router::new().fallback(handle).with_state((requests.clone(), script.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, requests, script }
    }

    /// The next requests get these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.script.lock().unwrap().extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits (a few seconds at most) until `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..500 {
            if self.requests.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let got = self.received();
        assert!(got.len() >= n, "expected {n} deliveries, got {}", got.len());
        got
    }
}

/// Every column of every table as text (bytes as themselves), and for SQLite the database
/// files' bytes too: what a test that looks for a secret at rest searches.
pub async fn dump_every_row(database_url: &str) -> Vec<u8> {
    if let Some(path) = partnerd_store_sqlite::path_from_url(database_url) {
        let mut out = Vec::new();
        let mut files = 0;
        for entry in std::fs::read_dir(path.parent().unwrap()).unwrap() {
            out.extend(std::fs::read(entry.unwrap().path()).unwrap_or_default());
            files += 1;
        }
        assert!(files >= 2, "the database and its WAL are read");
        let c = rusqlite::Connection::open(&path).unwrap();
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for t in tables {
            let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                for i in 0..n {
                    use rusqlite::types::ValueRef as V;
                    match row.get_ref(i).unwrap() {
                        V::Text(b) | V::Blob(b) => out.extend_from_slice(b),
                        V::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
                        V::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
                        V::Null => {}
                    }
                    out.push(b'\n');
                }
            }
        }
        return out;
    }
    let (client, conn) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let columns = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    assert!(columns.len() > 20, "the test schema's tables are found");
    let mut out = Vec::new();
    for c in columns {
        let (t, col, ty): (String, String, String) = (c.get(0), c.get(1), c.get(2));
        // Bytes (a kept response body) as their text, not as hex.
        let expr = if ty == "bytea" { format!("encode(\"{col}\", 'escape')") } else { format!("\"{col}\"::text") };
        for row in client.query(&format!("SELECT {expr} FROM \"{t}\""), &[]).await.unwrap() {
            if let Some(v) = row.get::<_, Option<String>>(0) {
                out.extend_from_slice(v.as_bytes());
                out.push(b'\n');
            }
        }
    }
    out
}

/// Whether `needle`'s bytes appear in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A page's metadata with its next cursor (`next_cursor`, `nextCursor`), when it is one, shown
/// as `"CURSOR"`: cursors are opaque, a test compares the rest exactly.
pub fn cursor_masked(meta: &Value) -> Value {
    let mut m = meta.clone();
    for k in ["next_cursor", "nextCursor"] {
        if m.get(k).is_some_and(Value::is_string) {
            m[k] = Value::String("CURSOR".into());
        }
    }
    m
}
