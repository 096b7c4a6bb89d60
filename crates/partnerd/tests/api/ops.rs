//! Operations endpoints: `/readyz` up and down, `/metrics` after traffic, `/docs`, and the
//! binary's JSON log lines.

use crate::common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

async fn readiness(app: &TestApp) -> (u16, Value) {
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

on_both_backends!(ready_when_the_database_answers_and_is_current, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["redis"], "not_configured");
    assert_eq!(body["schema_version"], body["expected_schema_version"]);
    assert!(body["schema_version"].as_i64().unwrap() >= 4, "{body}");
    assert_eq!(body["reasons"], json!([]));

    let Some(redis) = redis_url() else { return };
    let with_redis = spawn_on(&app.database_url, app.clock.clone(), Some(redis)).await;
    let (status, body) = readiness(&with_redis).await;
    assert_eq!((status, &body["redis"]), (200, &json!("ok")), "{body}");
});

on_both_backends!(not_ready_while_redis_is_configured_but_down, |backend| async move {
    let Some(database_url) = fresh_database(backend).await else { return };
    // Nothing listens on port 1: every connection attempt is refused.
    let app = spawn_on(&database_url, fixed_clock(), Some("redis://127.0.0.1:1/".into())).await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["redis"], "unavailable");
    assert!(body["reasons"][0].as_str().unwrap().starts_with("redis: "), "{body}");
    // Requests are still served, counted in process.
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200);
});

/// A database migrated by another binary: a newer migration than this one knows, then one it
/// knows missing. Both are refused until the two agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_when_sqlite_migrations_are_not_this_binarys() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (_, body) = readiness(&app).await;
    let expected = body["expected_schema_version"].as_i64().unwrap();
    let path = partnerd_store_sqlite::path_from_url(&app.database_url).unwrap();
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'from_the_future', 0)",
        [expected + 1],
    )
    .unwrap();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["schema_version"], expected + 1);
    assert!(body["reasons"][0].as_str().unwrap().contains("newer than this binary's"), "{body}");

    db.execute("DELETE FROM schema_migrations WHERE version >= ?1", [expected]).unwrap();
    // Versions need not be contiguous (numbers are reserved per branch): the newest left.
    let previous: i64 = db.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    assert!(previous < expected);
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["schema_version"], previous);
    assert!(body["reasons"][0].as_str().unwrap().contains(&format!("this binary needs {expected}")), "{body}");
}

/// A TCP forwarder to PostgreSQL that can be cut: the database becomes unreachable for the
/// server behind it, with every open connection closed, as when the database host goes away.
struct Cuttable {
    addr: std::net::SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Cuttable {
    async fn to(upstream: String) -> Cuttable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let held = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                held.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Cuttable { addr, tasks }
    }

    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_when_postgres_is_unreachable() {
    let Some(url) = fresh_database(Backend::Postgres).await else { return };
    let parsed = reqwest::Url::parse(&url).unwrap();
    let upstream = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432));
    let proxy = Cuttable::to(upstream).await;
    let mut via_proxy = parsed.clone();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let app = spawn_on(via_proxy.as_str(), fixed_clock(), None).await;
    assert_eq!(readiness(&app).await.0, 200);

    proxy.cut();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "unavailable");
    assert_eq!(body["schema_version"], Value::Null);
    assert!(body["reasons"][0].as_str().unwrap().starts_with("database: "), "{body}");
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200, "alive, not ready");
}

/// `name{labels} value` lines of an OpenMetrics text, as `(name, labels, value)`.
fn samples(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once("=\"").unwrap();
                (k.to_owned(), v.trim_end_matches('"').to_owned())
            })
            .collect();
        out.push((name.to_owned(), labels, value.parse().unwrap()));
    }
    out
}

fn value(samples: &[(String, BTreeMap<String, String>, f64)], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
        .map_or(0.0, |s| s.2)
}

async fn scrape(app: &TestApp) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let r = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    samples(&text)
}

on_both_backends!(metrics_count_requests_by_route_refusals_and_deliveries, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let before = scrape(&app).await;
    let requests = "partnerd_http_requests_total";
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200);
    }
    assert_eq!(app.get("/api/v1/partners/listings/lst_nope", &p.api_key).await.status(), 404);
    assert_eq!(app.get("/no/such/path", &p.api_key).await.status(), 404);
    // The tiny plan allows 3 a minute: the fourth is refused.
    let tiny = app.partner("Tiny Co", "admin@tiny.com", "tiny").await;
    for _ in 0..4 {
        app.get("/api/v1/partners/profile", &tiny.api_key).await;
    }
    let receiver = Receiver::start().await;
    let (status, _) = app
        .post("/api/v1/partners/webhooks", &p.api_key, json!({ "url": receiver.url, "events": ["listing.created"] }))
        .await;
    assert_eq!(status, 201);
    let (status, _) = app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Counted" })).await;
    assert_eq!(status, 201);
    receiver.wait_for(1).await;

    let mut after = scrape(&app).await;
    for _ in 0..500 {
        if value(&after, "partnerd_webhook_attempts_total", &[("outcome", "delivered")]) >= 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        after = scrape(&app).await;
    }
    let moved = |labels: &[(&str, &str)]| value(&after, requests, labels) - value(&before, requests, labels);
    let profile = [("method", "GET"), ("route", "/api/v1/partners/profile"), ("status", "200")];
    assert_eq!(moved(&profile), 6.0, "3 for each partner's allowed requests");
    assert_eq!(moved(&[("route", "/api/v1/partners/profile"), ("status", "429")]), 1.0);
    assert_eq!(moved(&[("method", "GET"), ("route", "/api/v1/partners/listings/{id}"), ("status", "404")]), 1.0);
    assert_eq!(moved(&[("route", "unmatched"), ("status", "404")]), 1.0, "unknown paths share one label");
    assert_eq!(moved(&[("method", "POST"), ("route", "/api/v1/partners/listings"), ("status", "201")]), 1.0);
    assert!(
        value(&before, requests, &[("route", "/metrics")]) == 0.0
            && value(&after, requests, &[("route", "/metrics")]) >= 1.0
    );
    let count = "partnerd_http_request_duration_seconds_count";
    let route = [("method", "GET"), ("route", "/api/v1/partners/profile")];
    assert_eq!(value(&after, count, &route) - value(&before, count, &route), 7.0, "every request is timed");
    let bucket = "partnerd_http_request_duration_seconds_bucket";
    assert_eq!(value(&after, bucket, &[("route", "/api/v1/partners/profile"), ("le", "+Inf")]), 7.0);
    assert_eq!(value(&after, "partnerd_rate_limit_refusals_total", &[]), 1.0);
    assert_eq!(value(&after, "partnerd_webhook_attempts_total", &[("outcome", "delivered")]), 1.0);
    assert_eq!(value(&after, "partnerd_webhook_attempts_total", &[("outcome", "failed")]), 0.0);
    assert!(after.iter().any(|(n, _, _)| n == "partnerd_webhook_backlog"));
    assert_eq!(value(&after, "partnerd_webhook_backlog", &[]), 0.0, "the one delivery was made");
    assert!(after.iter().any(|(n, l, _)| n == "partnerd_db_pool_connections" && l["state"] == "idle"));
    if matches!(backend, Backend::Postgres) {
        assert_eq!(value(&after, "partnerd_db_pool_max_connections", &[]), 16.0);
        assert!(after.iter().any(|(n, l, _)| n == "partnerd_db_pool_connections" && l["state"] == "in_use"));
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_counts_pending_deliveries() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let receiver = Receiver::start().await;
    // Every attempt fails, so the delivery stays pending for its retry (the clock stands still).
    receiver.answer(&[500; 8]);
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (status, _) = app
        .post("/api/v1/partners/webhooks", &p.api_key, json!({ "url": receiver.url, "events": ["listing.created"] }))
        .await;
    assert_eq!(status, 201);
    app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Queued" })).await;
    receiver.wait_for(1).await;
    let mut after = scrape(&app).await;
    for _ in 0..500 {
        if value(&after, "partnerd_webhook_attempts_total", &[("outcome", "retry")]) >= 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        after = scrape(&app).await;
    }
    assert_eq!(value(&after, "partnerd_webhook_attempts_total", &[("outcome", "retry")]), 1.0);
    assert_eq!(value(&after, "partnerd_webhook_backlog", &[]), 1.0, "waiting for its retry");
}

on_both_backends!(the_reference_page_lists_every_operation, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    let page = r.text().await.unwrap();
    let doc = crate::schema::document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else { continue };
            assert!(page.contains(&format!("<code>{id}</code>")), "{method} {path} ({id}) is on the page");
        }
    }
});

/// Runs `partnerd serve` on a fresh SQLite database in `format` and drives it: a partner made
/// with the CLI, a webhook, requests with and without a client request id. Returns every stderr
/// line, the secrets handed out (operator key, partner key, webhook secret) and the request
/// ids of the responses.
fn drive_the_binary(format: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("partnerd-serve-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("logs.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url, "--log-format", format])
        .env_remove("PARTNERD_CONFIG")
        .env_remove("PARTNERD_LOG_FORMAT")
        // Successful requests are logged at debug.
        .env("PARTNERD_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut lines = Vec::new();
    let mut addr = None;
    for line in stderr.by_ref() {
        let line = line.unwrap();
        let found = line.split("listening on http://").nth(1).map(|r| r.split([' ', '"']).next().unwrap().to_owned());
        lines.push(line);
        if found.is_some() {
            addr = found;
            break;
        }
    }
    let addr = addr.expect("serve logs its address");
    let drain = std::thread::spawn(move || stderr.map(Result::unwrap).collect::<Vec<_>>());

    let created = Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(["partners", "create", "--name", "Acme Corp", "--email", "admin@acme.com", "--json"])
        .env("PARTNERD_DATABASE_URL", &url)
        .env_remove("PARTNERD_CONFIG")
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = created["api_key"].as_str().unwrap().to_owned();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (secret, ids) = runtime.block_on(async {
        let http = Http::new();
        let base = format!("http://{addr}");
        let mut ids = Vec::new();
        let r = http.get(format!("{base}/api/v1/partners/profile")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), 200);
        ids.push(header(&r, "x-request-id"));
        let r = http
            .get(format!("{base}/api/v1/partners/listings/lst_nope"))
            .bearer_auth(&key)
            .header("x-request-id", "client-chosen-42")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        ids.push(header(&r, "x-request-id"));
        let r = http
            .post(format!("{base}/api/v1/partners/webhooks"))
            .bearer_auth(&key)
            .json(&json!({ "url": "https://hooks.example.com/partnerd", "events": ["listing.created"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        ids.push(header(&r, "x-request-id"));
        let secret = json(r).await["data"]["secret"].as_str().unwrap().to_owned();
        (secret, ids)
    });
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    lines.extend(drain.join().unwrap());
    assert!(out.status.success(), "graceful exit: {:?}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let operator = stdout.split_whitespace().find(|w| w.starts_with("pdk_")).expect("the operator key on stdout");
    (lines, vec![operator.to_owned(), key, secret], ids)
}

fn assert_no_secret(lines: &[String], secrets: &[String]) {
    for secret in secrets {
        // A key's secret part alone would be a leak too.
        let tail = secret.rsplit('_').next().unwrap();
        for line in lines {
            assert!(!line.contains(tail), "a secret is logged: {line}");
        }
    }
}

#[test]
fn json_logs_are_one_object_per_line_with_the_request_id_and_no_secret() {
    let (lines, secrets, ids) = drive_the_binary("json");
    assert!(lines.len() >= 5, "{lines:?}");
    let events: Vec<Value> =
        lines.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    for e in &events {
        assert!(e["timestamp"].is_string() && e["level"].is_string(), "{e}");
        assert!(e["fields"]["message"].is_string(), "{e}");
    }
    for id in &ids {
        let logged = events.iter().find(|e| e["fields"]["request_id"] == id.as_str());
        let logged = logged.unwrap_or_else(|| panic!("request {id} is not in the log"));
        assert!(logged["fields"]["status"].is_number() && logged["fields"]["path"].is_string(), "{logged}");
    }
    assert!(ids.contains(&"client-chosen-42".to_owned()));
    assert_no_secret(&lines, &secrets);
}

#[test]
fn text_logs_carry_the_request_id_and_no_secret() {
    let (lines, secrets, ids) = drive_the_binary("text");
    assert!(lines.iter().all(|l| serde_json::from_str::<Value>(l).is_err()), "text, not JSON");
    for id in &ids {
        assert!(lines.iter().any(|l| l.contains(&format!("request_id={id}"))), "request {id} is not in the log");
    }
    assert_no_secret(&lines, &secrets);
}

#[test]
fn an_unknown_log_format_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(["partners", "list"])
        .env("PARTNERD_LOG_FORMAT", "xml")
        .env("PARTNERD_DATABASE_URL", "sqlite:///nonexistent/never-opened.db")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'xml'"));
}
