//! `Idempotency-Key` on the partners surface's POSTs, over real HTTP on both backends: replays,
//! a key reused for another request, concurrent duplicates, expiry and the purge `serve` runs,
//! server errors that are not kept, and two servers sharing one database's keys.

use crate::common::*;
use serde_json::{Value, json};

const LISTINGS: &str = "/api/v1/partners/listings";

struct Answer {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

async fn post_with_key(app: &TestApp, path: &str, api_key: &str, idempotency_key: &str, body: &Value) -> Answer {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(api_key)
        .header("Idempotency-Key", idempotency_key)
        .json(body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    Answer { status, body: r.json().await.unwrap_or(Value::Null), headers }
}

async fn listing_total(app: &TestApp, api_key: &str) -> u64 {
    let (status, list) = app.read(LISTINGS, api_key).await;
    assert_eq!(status, 200);
    list["meta"]["total"].as_u64().unwrap()
}

on_both_backends!(a_retry_is_replayed_and_creates_nothing, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let body = json!({ "title": "Security Suite", "keywords": ["siem"] });
    let first = post_with_key(&app, LISTINGS, &p.api_key, "order-42", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = post_with_key(&app, LISTINGS, &p.api_key, "order-42", &body).await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    // The retry's own request id and rate-limit headers; it counted against the limit.
    assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    let remaining = |a: &Answer| a.header("x-ratelimit-remaining").unwrap().parse::<u64>().unwrap();
    assert!(remaining(&again) < remaining(&first));
    assert_eq!(listing_total(&app, &p.api_key).await, 1);
    assert_eq!(app.events(first.body["data"]["id"].as_str().unwrap()).await.len(), 1, "one listing.created");

    // Keys are the caller's: another partner's same key is its own.
    let q = app.partner("Other Corp", "admin@other.com", "business").await;
    let theirs = post_with_key(&app, LISTINGS, &q.api_key, "order-42", &body).await;
    assert_eq!((theirs.status, theirs.header("idempotent-replayed")), (201, None));
    assert_ne!(theirs.body["data"]["id"], first.body["data"]["id"]);
    // A refusal (4xx) is kept too, like Stripe does.
    let bad = post_with_key(&app, LISTINGS, &p.api_key, "bad-1", &json!({ "title": "" })).await;
    let bad_again = post_with_key(&app, LISTINGS, &p.api_key, "bad-1", &json!({ "title": "" })).await;
    assert_eq!((bad.status, bad_again.status, &bad_again.body), (422, 422, &bad.body));
    assert_eq!(bad_again.header("idempotent-replayed"), Some("true"));
    assert_eq!(listing_total(&app, &p.api_key).await, 1);
});

on_both_backends!(a_key_reused_for_another_request_is_refused, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let first = post_with_key(&app, LISTINGS, &p.api_key, "k", &json!({ "title": "One" })).await;
    assert_eq!(first.status, 201);
    let other_body = post_with_key(&app, LISTINGS, &p.api_key, "k", &json!({ "title": "Two" })).await;
    assert_eq!(other_body.status, 422, "{}", other_body.body);
    assert_eq!(other_body.body["success"], false);
    assert_eq!(other_body.body["error"]["code"], "VALIDATION_ERROR");
    assert!(other_body.body["error"]["details"]["Idempotency-Key"][0].as_str().unwrap().contains("different request"));
    let other_path =
        post_with_key(&app, "/api/v1/partners/webhooks", &p.api_key, "k", &json!({ "title": "One" })).await;
    assert_eq!((other_path.status, &other_path.body), (422, &other_body.body));
    assert_eq!(listing_total(&app, &p.api_key).await, 1);

    // Malformed keys: 422 naming the header, and nothing runs.
    for key in ["", &"x".repeat(256)] {
        let r = post_with_key(&app, LISTINGS, &p.api_key, key, &json!({ "title": "Three" })).await;
        assert_eq!((r.status, &r.body["error"]["code"]), (422, &json!("VALIDATION_ERROR")), "{key:?}");
        assert!(r.body["error"]["details"]["Idempotency-Key"].is_array());
    }
    assert_eq!(listing_total(&app, &p.api_key).await, 1);
    // GETs ignore the header.
    let r = app.http.get(app.url(LISTINGS)).bearer_auth(&p.api_key).header("Idempotency-Key", "").send().await.unwrap();
    assert_eq!(r.status(), 200);
});

on_both_backends!(concurrent_duplicates_create_exactly_one_resource, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "enterprise").await;
    let body = json!({ "title": "Raced" });
    let answers =
        futures_util::future::join_all((0..8).map(|_| post_with_key(&app, LISTINGS, &p.api_key, "race", &body))).await;
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    assert!(!created.is_empty());
    for a in &answers {
        match a.status {
            201 => assert_eq!(a.body, created[0].body, "every success is the one listing"),
            409 => {
                assert_eq!(a.body["error"]["code"], "CONFLICT");
                assert_eq!(a.header("idempotent-replayed"), None);
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!(created.iter().filter(|a| a.header("idempotent-replayed").is_none()).count(), 1, "one ran");
    assert_eq!(listing_total(&app, &p.api_key).await, 1);
    let after = post_with_key(&app, LISTINGS, &p.api_key, "race", &body).await;
    assert_eq!((after.status, &after.body, after.header("idempotent-replayed")), (201, &created[0].body, Some("true")));
});

/// Rows in the idempotency table, read behind the server's back.
async fn stored_keys(url: &str) -> i64 {
    if let Some(path) = partnerd_store_sqlite::path_from_url(url) {
        return tokio::task::spawn_blocking(move || {
            rusqlite::Connection::open(path)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM idempotency_keys", [], |r| r.get(0))
                .unwrap()
        })
        .await
        .unwrap();
    }
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.query_one("SELECT COUNT(*) FROM idempotency_keys", &[]).await.unwrap().get(0)
}

on_both_backends!(kept_responses_expire_after_a_day_and_serve_purges_them, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "enterprise").await;
    let body = json!({ "title": "Daily" });
    let first = post_with_key(&app, LISTINGS, &p.api_key, "day", &body).await;
    assert_eq!(first.status, 201);
    app.clock.advance(chrono::Duration::hours(24) - chrono::Duration::seconds(1));
    let replay = post_with_key(&app, LISTINGS, &p.api_key, "day", &body).await;
    assert_eq!((replay.header("idempotent-replayed"), &replay.body), (Some("true"), &first.body));
    assert_eq!(stored_keys(&app.database_url).await, 1);

    // After 24 hours the key is forgotten: the same request runs again.
    app.clock.advance(chrono::Duration::seconds(1));
    let anew = post_with_key(&app, LISTINGS, &p.api_key, "day", &body).await;
    assert_eq!((anew.status, anew.header("idempotent-replayed")), (201, None));
    assert_ne!(anew.body["data"]["id"], first.body["data"]["id"]);
    assert_eq!(listing_total(&app, &p.api_key).await, 2);

    // Expired keys are deleted by `serve`'s purge (it runs at start, then every few minutes):
    // a second server on the database, started a day later, removes the key.
    app.clock.advance(chrono::Duration::hours(24));
    let other = spawn_on(&app.database_url, app.clock.clone(), None).await;
    let mut polls = 0;
    while stored_keys(&app.database_url).await != 0 {
        polls += 1;
        assert!(polls < 500, "the expired key was never purged");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    other.server.stop().await.unwrap();
});

on_both_backends!(two_servers_share_the_keys_of_one_database, |backend| async move {
    let Some(a) = spawn_app(backend).await else { return };
    let b = spawn_on(&a.database_url, a.clock.clone(), None).await;
    let p = a.partner("Acme Corp", "admin@acme.com", "enterprise").await;
    let body = json!({ "title": "Shared" });
    let first = post_with_key(&a, LISTINGS, &p.api_key, "shared", &body).await;
    assert_eq!(first.status, 201);
    let on_b = post_with_key(&b, LISTINGS, &p.api_key, "shared", &body).await;
    assert_eq!((on_b.status, &on_b.body, on_b.header("idempotent-replayed")), (201, &first.body, Some("true")));
    let mismatch = post_with_key(&b, LISTINGS, &p.api_key, "shared", &json!({ "title": "Else" })).await;
    assert_eq!(mismatch.status, 422);

    // Duplicates racing on both servers at once: one listing.
    let race = json!({ "title": "Raced twice" });
    let answers = futures_util::future::join_all((0..8).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        post_with_key(app, LISTINGS, &p.api_key, "both", &race)
    }))
    .await;
    assert!(answers.iter().all(|x| x.status == 201 || x.status == 409), "only successes and conflicts");
    assert_eq!(answers.iter().filter(|x| x.status == 201 && x.header("idempotent-replayed").is_none()).count(), 1);
    assert_eq!(listing_total(&a, &p.api_key).await, 2);
    b.server.stop().await.unwrap();
});

// The layer over this database's store, with a handler that fails with a 500 on its first run:
// the failure is not kept, so the retry runs again. (No partners operation can be made to fail
// on purpose, so the handler is the test's own, with the partners error shape.)
on_both_backends!(a_server_error_is_not_kept, |backend| async move {
    let Some(database_url) = fresh_database(backend).await else { return };
    let services = partnerd::server::build_services(&database_url, None, test_plans(), fixed_clock()).await.unwrap();
    let bootstrap = services.partners().bootstrap().await.unwrap();
    let principal = std::sync::Arc::new(partnerd_services::Principal {
        key_id: "key_test".into(),
        marketplace_id: bootstrap.marketplace.id.clone(),
        user_id: "usr_test".into(),
        user_email: "op@example.com".into(),
        company_id: "cmp_test".into(),
        roles: vec![],
        partner: None,
    });
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let flaky = move || async move {
        if counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            partnerd_api::partners_v1::ApiError::server_error().into_response()
        } else {
            (axum::http::StatusCode::CREATED, axum::Json(json!({ "made": true }))).into_response()
        }
    };
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route("/flaky", axum::routing::post(flaky))
        .route_layer(axum::middleware::from_fn_with_state(
            (services.clone(), "/test"),
            partnerd_api::kernel::idempotency::<partnerd_api::partners_v1::ApiError>,
        ))
        .layer(axum::middleware::from_fn(move |mut req: axum::extract::Request, next: axum::middleware::Next| {
            let principal = principal.clone();
            async move {
                req.extensions_mut().insert(principal);
                next.run(req).await
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/flaky", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = || client.post(&url).header("Idempotency-Key", "k").json(&json!({})).send();
    let failed = send().await.unwrap();
    assert_eq!(failed.status(), 500);
    let retried = send().await.unwrap();
    assert_eq!((retried.status(), retried.headers().get("idempotent-replayed")), (reqwest::StatusCode::CREATED, None));
    let replayed = send().await.unwrap();
    assert_eq!(replayed.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(replayed.json::<Value>().await.unwrap(), json!({ "made": true }));
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    server.abort();
});

#[test]
fn every_post_documents_the_key_and_its_answers() {
    let doc = crate::schema::document();
    let mut posts = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        posts += 1;
        let params = op["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"), "{path}");
        // A reused key is 422 on the partners surface, 400 on the AppReseller family's.
        let reused = if path.starts_with(partnerd_api::PARTNERS_PREFIX) { "422" } else { "400" };
        for status in ["409", reused] {
            assert!(op["responses"].get(status).is_some(), "{path} lacks {status}");
        }
        let created = op["responses"].as_object().unwrap().iter().find(|(s, _)| s.starts_with('2')).unwrap().1;
        assert!(created["headers"].get("Idempotent-Replayed").is_some(), "{path}");
    }
    assert!(posts >= 9, "only {posts} POST operations");
}
