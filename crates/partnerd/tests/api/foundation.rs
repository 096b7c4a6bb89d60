//! The platform foundation over real HTTP: profile, authentication, rate limits, envelope and
//! request IDs, key storage. Every test runs on SQLite and on PostgreSQL.

use crate::common::*;
use chrono::Duration;
use serde_json::json;

on_both_backends!(profile_has_the_documented_shape, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "Admin@Acme.com", "business").await;
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let body = json(r).await;
    assert_eq!(
        body,
        json!({
            "success": true,
            "data": {
                "id": p.partner_id,
                "company_name": "Acme Corp",
                "email": "admin@acme.com",
                "plan": "business",
                "aws_account_connected": false,
                "created_at": "2025-01-15T10:30:00Z",
            }
        })
    );
});

on_both_backends!(missing_invalid_and_unknown_keys_are_401, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let other = app.partner("Other Inc", "admin@other.com", "business").await;
    let wrong_secret = format!("{}{}", &p.api_key[..25], &other.api_key[25..]);
    let unknown = partnerd_domain::api_key::generate().token;

    let r = app.http.get(app.url("/api/v1/partners/profile")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"]["code"], "UNAUTHORIZED");
    for bad in ["garbage", unknown.as_str(), wrong_secret.as_str()] {
        let r = app.get("/api/v1/partners/profile", bad).await;
        assert_eq!(r.status(), 401, "{bad}");
        let body = json(r).await;
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
        assert_eq!(body["error"]["details"], json!({}));
        assert!(body["error"]["message"].as_str().unwrap().contains("Invalid API key"));
    }
    let r = app
        .http
        .get(app.url("/api/v1/partners/profile"))
        .header("authorization", format!("Basic {}", p.api_key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "only the Bearer scheme is accepted");
    let r = app
        .http
        .get(app.url("/api/v1/partners/profile"))
        .header("authorization", format!("bearer {}", p.api_key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the scheme is case-insensitive");
});

on_both_backends!(a_revoked_key_stops_working_at_once, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200, "cached now");
    app.server.services.partners().revoke_key(&app.marketplace_id(), &p.key_id).await.unwrap();
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!(r.status(), 401);
    assert!(json(r).await["error"]["message"].as_str().unwrap().contains("revoked"));
});

on_both_backends!(a_key_revoked_by_another_process_stops_working, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200, "cached now");
    // A second set of services on the same database stands for the CLI or another server.
    let other =
        partnerd::server::build_services(&app.database_url, None, test_plans(), app.clock.clone()).await.unwrap();
    other.partners().revoke_key(&app.marketplace_id(), &p.key_id).await.unwrap();
    let mut status = 200;
    for _ in 0..100 {
        status = app.get("/api/v1/partners/profile", &p.api_key).await.status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, 401, "the cache noticed the revocation through the event log");
});

on_both_backends!(expired_keys_are_401, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let key = app.key(&p.user_id, &[], Some(app.clock_now() + Duration::hours(1))).await;
    assert_eq!(app.get("/api/v1/partners/profile", &key).await.status(), 200);
    app.clock.advance(Duration::hours(2));
    let r = app.get("/api/v1/partners/profile", &key).await;
    assert_eq!(r.status(), 401);
    assert!(json(r).await["error"]["message"].as_str().unwrap().contains("expired"));
});

on_both_backends!(x_partner_id_must_match_the_key, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let other = app.partner("Other Inc", "admin@other.com", "business").await;
    let with = |id: &str| {
        app.http
            .get(app.url("/api/v1/partners/profile"))
            .bearer_auth(&p.api_key)
            .header("x-partner-id", id.to_owned())
            .send()
    };
    assert_eq!(with(&p.partner_id).await.unwrap().status(), 200);
    let r = with(&other.partner_id).await.unwrap();
    assert_eq!(r.status(), 403);
    let body = json(r).await;
    assert_eq!(body["error"]["code"], "FORBIDDEN");
    assert!(body["error"]["message"].as_str().unwrap().contains("X-Partner-ID"));
});

on_both_backends!(ip_allowlists_are_enforced, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let elsewhere = app.key(&p.user_id, &["10.0.0.0/8", "192.168.1.7"], None).await;
    let here = app.key(&p.user_id, &["10.0.0.0/8", "127.0.0.0/8"], None).await;
    let r = app.get("/api/v1/partners/profile", &elsewhere).await;
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["error"]["code"], "FORBIDDEN");
    assert_eq!(app.get("/api/v1/partners/profile", &here).await.status(), 200);
});

on_both_backends!(the_operator_key_is_not_a_partner, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let operator = app.server.bootstrap.operator_key.clone().expect("a new database shows the operator key");
    let r = app.get("/api/v1/partners/profile", &operator).await;
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["error"]["code"], "FORBIDDEN");
    // A second server on the same database does not show (or make) another one.
    let again = spawn_on(&app.database_url, app.clock.clone(), None).await;
    assert!(again.server.bootstrap.operator_key.is_none());
    assert_eq!(again.marketplace_id(), app.marketplace_id());
});

on_both_backends!(rate_limit_headers_count_down_to_429_per_minute, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "starter").await;
    let window_end = (app.clock_now().timestamp() / 60 + 1) * 60;
    for expected_remaining in (0..60).rev() {
        let r = app.get("/api/v1/partners/profile", &p.api_key).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit"), "60");
        assert_eq!(header(&r, "x-ratelimit-remaining"), expected_remaining.to_string());
        assert_eq!(header(&r, "x-ratelimit-reset"), window_end.to_string());
    }
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&r, "retry-after"), "60", "the clock stands at 10:30:00, a minute from the reset");
    let body = json(r).await;
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    // Another partner's key has its own counter.
    let other = app.partner("Other Inc", "admin@other.com", "starter").await;
    assert_eq!(app.get("/api/v1/partners/profile", &other.api_key).await.status(), 200);
    app.clock.advance(Duration::minutes(1));
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-remaining"), "59");
});

on_both_backends!(the_daily_window_is_enforced_too, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Tiny Co", "admin@tiny.com", "tiny").await; // 3 per minute, 5 per day
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200);
    }
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!((r.status().as_u16(), header(&r, "x-ratelimit-limit")), (429, "3".into()));
    app.clock.advance(Duration::minutes(1));
    // 4 of 5 used today (the refused request counted): one left, and the day is now tightest.
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!(r.status(), 200);
    assert_eq!((header(&r, "x-ratelimit-limit"), header(&r, "x-ratelimit-remaining")), ("5".into(), "0".into()));
    let r = app.get("/api/v1/partners/profile", &p.api_key).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-limit"), "5");
    let midnight = (app.clock_now().timestamp() / 86_400 + 1) * 86_400;
    assert_eq!(header(&r, "x-ratelimit-reset"), midnight.to_string());
    assert_eq!(header(&r, "retry-after"), (midnight - app.clock_now().timestamp()).to_string());
    app.clock.advance(Duration::days(1));
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200);
});

on_both_backends!(requests_without_a_key_are_limited_per_address, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    for _ in 0..60 {
        let r = app.get("/api/v1/partners/profile", "garbage").await;
        assert_eq!(r.status(), 401);
        assert_eq!(header(&r, "x-ratelimit-limit"), "60");
    }
    assert_eq!(app.get("/api/v1/partners/profile", "garbage").await.status(), 429);
});

on_both_backends!(two_servers_share_one_limit_through_redis, |backend| async move {
    let Some(redis) = redis_url() else {
        eprintln!("PARTNERD_TEST_REDIS_URL not set: skipping");
        return;
    };
    let Some(database_url) = fresh_database(backend).await else { return };
    let clock = std::sync::Arc::new(partnerd_domain::ManualClock::at(chrono::Utc::now()));
    let a = spawn_on(&database_url, clock.clone(), Some(redis.clone())).await;
    let b = spawn_on(&database_url, clock.clone(), Some(redis)).await;
    let p = a.partner("Tiny Co", "admin@tiny.com", "tiny").await; // 3 per minute
    assert_eq!(header(&a.get("/api/v1/partners/profile", &p.api_key).await, "x-ratelimit-remaining"), "2");
    assert_eq!(header(&b.get("/api/v1/partners/profile", &p.api_key).await, "x-ratelimit-remaining"), "1");
    assert_eq!(header(&a.get("/api/v1/partners/profile", &p.api_key).await, "x-ratelimit-remaining"), "0");
    assert_eq!(b.get("/api/v1/partners/profile", &p.api_key).await.status(), 429);
    assert_eq!(a.get("/api/v1/partners/profile", &p.api_key).await.status(), 429);
});

on_both_backends!(errors_use_the_envelope_and_every_response_has_a_request_id, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let r = app.get("/api/v1/partners/no-such-thing", &p.api_key).await;
    assert_eq!(r.status(), 404);
    assert!(r.headers().contains_key("x-ratelimit-remaining"));
    assert!(header(&r, "x-request-id").starts_with("req_"));
    assert_eq!(json(r).await["error"]["code"], "NOT_FOUND");

    let r = app.http.delete(app.url("/api/v1/partners/profile")).bearer_auth(&p.api_key).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(header(&r, "allow"), "GET,HEAD");
    assert_eq!(json(r).await["error"]["code"], "METHOD_NOT_ALLOWED");

    let r = app.http.get(app.url("/elsewhere")).header("x-request-id", "trace-123").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "x-request-id"), "trace-123", "a sane client id is echoed");
    assert!(!r.headers().contains_key("x-ratelimit-remaining"), "outside every surface: no surface guard");
    assert_eq!(json(r).await, json!({ "code": "NOT_FOUND", "message": "No such resource" }), "the neutral shape");
    let r = app.http.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(json(r).await["code"], "METHOD_NOT_ALLOWED");
    let r = app.http.get(app.url("/healthz")).header("x-request-id", "bad id with spaces").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "x-request-id").starts_with("req_"));
});

on_both_backends!(the_database_holds_no_plaintext_key, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let extra = app.key(&p.user_id, &[], None).await;
    let operator = app.server.bootstrap.operator_key.clone().unwrap();
    let dump = dump_database(&app.database_url).await;
    assert!(dump.contains(&p.key_id), "the dump is of the right database");
    for token in [&p.api_key, &extra, &operator] {
        let secret = token.rsplit('_').next().unwrap();
        assert!(!dump.contains(secret), "a key's secret is stored in plain text");
    }
});

/// Everything the database holds, as text (SQLite: the files; PostgreSQL: every row).
async fn dump_database(url: &str) -> String {
    if let Some(path) = partnerd_store_sqlite::path_from_url(url) {
        let mut all = Vec::new();
        for suffix in ["", "-wal"] {
            let file = format!("{}{suffix}", path.display());
            all.extend(std::fs::read(file).unwrap_or_default());
        }
        return String::from_utf8_lossy(&all).into_owned();
    }
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let tables = client
        .query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()", &[])
        .await
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let name: String = t.get(0);
        for row in client.query(&format!("SELECT t::text FROM {name} t"), &[]).await.unwrap() {
            out.push_str(row.get::<_, &str>(0));
            out.push('\n');
        }
    }
    out
}

trait ClockNow {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl ClockNow for TestApp {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        partnerd_domain::Clock::now(&*self.clock)
    }
}

on_both_backends!(a_cached_key_is_served_without_reading_the_database, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200);
    // Remove the key's row behind the server's back (no event): only the cache can answer now.
    execute(&app.database_url, &format!("DELETE FROM api_keys WHERE id = '{}'", p.key_id)).await;
    assert_eq!(app.get("/api/v1/partners/profile", &p.api_key).await.status(), 200);
    // A key never seen before is looked up, and is unknown.
    let unknown = partnerd_domain::api_key::generate().token;
    assert_eq!(app.get("/api/v1/partners/profile", &unknown).await.status(), 401);
});

on_both_backends!(the_openapi_description_is_served, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = app.http.get(app.url("/api/v1/openapi.yaml")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/yaml");
    let text = r.text().await.unwrap();
    assert!(text.starts_with("openapi: 3.1"));
    assert!(text.contains("/api/v1/partners/profile:"));
});

/// Runs one statement directly against the test database.
async fn execute(url: &str, sql: &str) {
    if let Some(path) = partnerd_store_sqlite::path_from_url(url) {
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || rusqlite::Connection::open(path).unwrap().execute_batch(&sql).unwrap())
            .await
            .unwrap();
        return;
    }
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
}
