//! Webhooks over real HTTP on both backends: registry, catalog, signed delivery verified by
//! Python receivers' code, retries, 410, isolation, restart, test sends, the log, and two
//! processes sharing the work.

use crate::common::*;
use chrono::Duration;
use serde_json::{Value, json};

const HOOKS: &str = "/api/v1/partners/webhooks";

async fn register(app: &TestApp, key: &str, url: &str, events: &[&str]) -> (String, String) {
    let (status, body) = app.post(HOOKS, key, json!({ "url": url, "events": events })).await;
    assert_eq!(status, 201, "{body}");
    (body["data"]["id"].as_str().unwrap().to_owned(), body["data"]["secret"].as_str().unwrap().to_owned())
}

async fn listing(app: &TestApp, key: &str, title: &str) -> String {
    let (status, body) = app.post("/api/v1/partners/listings", key, json!({ "title": title })).await;
    assert_eq!(status, 201);
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn rename(app: &TestApp, key: &str, id: &str, title: &str) {
    assert_eq!(app.put(&format!("/api/v1/partners/listings/{id}"), key, json!({ "title": title })).await.0, 200);
}

/// Waits until the webhook's newest delivery has recorded `n` attempts. A test must not move
/// the clock before then: the retry is scheduled from the time the attempt is recorded.
async fn wait_attempts(app: &TestApp, key: &str, hook: &str, n: u64) {
    for _ in 0..500 {
        let (_, log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), key).await;
        if log["data"][0]["attempts"].as_u64() == Some(n) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("attempt {n} was not recorded");
}

/// Gives the dispatcher a moment, then says how many requests arrived.
async fn settle(r: &Receiver) -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    r.received().len()
}

/// Runs the receivers' own verification code over a captured delivery; skipped where Python
/// or the standardwebhooks package is missing (`pip install standardwebhooks`).
fn verify_in_python(delivery: &Received, secret: &str) {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("PARTNERD_REQUIRE_PYTHON_CHECKS").is_err(),
            "python3 with standardwebhooks is required here"
        );
        eprintln!("python3 with standardwebhooks not found: skipping the Python verification");
        return;
    }
    let dir = std::env::temp_dir().join(format!("partnerd-test-py-{}", partnerd_domain::ids::random_token(8)));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("body"), &delivery.body).unwrap();
    std::fs::write(dir.join("headers.json"), serde_json::to_string(&delivery.headers).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/verify_webhook.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.join("body"))
        .arg(dir.join("headers.json"))
        .arg(secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

on_both_backends!(registry_crud_and_validation, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let body = json!({ "url": "https://your-app.com/webhooks/vellocity", "events": ["listing.updated", "opportunity.created"], "secret": "your_webhook_secret" });
    let (status, created) = app.post(HOOKS, &a.api_key, body).await;
    assert_eq!(status, 201, "{created}");
    let w = &created["data"];
    assert!(w["id"].as_str().unwrap().starts_with("webhook_"));
    assert_eq!((w["active"].clone(), w["secret"].clone()), (json!(true), json!("your_webhook_secret")));
    assert_eq!(w["created_at"], "2025-01-15T10:30:00Z");
    let id = w["id"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(1));
    let (_, generated) = app
        .post(HOOKS, &a.api_key, json!({ "url": "https://your-app.com/two", "events": ["seo.score_changed"] }))
        .await;
    let secret = generated["data"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "a strong secret is generated: {secret}");

    let (_, list) = app.read(HOOKS, &a.api_key).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        list["data"][0],
        json!({ "id": id, "url": "https://your-app.com/webhooks/vellocity", "events": ["listing.updated", "opportunity.created"], "active": true, "created_at": "2025-01-15T10:30:00Z" })
    );
    assert!(!list.to_string().contains("secret"), "GET never shows secrets");
    assert_eq!(app.read(HOOKS, &b.api_key).await.1["data"], json!([]));
    assert_eq!(app.read(&format!("{HOOKS}/{id}"), &b.api_key).await.0, 404);

    let (status, patched) = app
        .patch(&format!("{HOOKS}/{id}"), &a.api_key, json!({ "events": ["listing.created"], "active": false }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["data"]["events"].clone(), patched["data"]["active"].clone()),
        (json!(["listing.created"]), json!(false))
    );
    let (status, rotated) = app.post(&format!("{HOOKS}/{id}/rotate-secret"), &a.api_key, json!({})).await;
    assert_eq!(status, 200);
    assert!(rotated["data"]["secret"].as_str().unwrap().starts_with("whsec_"));
    let (status, _) = app.send(reqwest::Method::POST, &format!("{HOOKS}/{id}/rotate-secret"), &a.api_key, None).await;
    assert_eq!(status, 200, "rotation needs no body");

    let invalid = [
        (json!({ "url": "http://your-app.com/hook", "events": ["listing.updated"] }), "url"),
        (json!({ "url": "ftp://your-app.com", "events": ["listing.updated"] }), "url"),
        (json!({ "url": "https://your-app.com", "events": ["listing.deleted"] }), "events[0]"),
        (json!({ "url": "https://your-app.com", "events": [] }), "events"),
        (json!({ "url": "https://your-app.com" }), "events"),
        (json!({ "url": "https://your-app.com", "events": ["listing.updated"], "secret": "short" }), "secret"),
        (json!({ "url": "https://your-app.com", "events": ["listing.updated"], "retries": 3 }), "retries"),
    ];
    for (body, field) in invalid {
        let (status, res) = app.post(HOOKS, &a.api_key, body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert!(res["error"]["details"].get(field).is_some(), "{field}: {res}");
    }
    let (status, res) = app.patch(&format!("{HOOKS}/{id}"), &a.api_key, json!({ "secret": "x" })).await;
    assert_eq!(status, 422);
    assert!(res["error"]["details"]["secret"][0].as_str().unwrap().contains("rotate-secret"));

    let (status, deleted) = app.send(reqwest::Method::DELETE, &format!("{HOOKS}/{id}"), &a.api_key, None).await;
    assert_eq!((status, deleted["data"].clone()), (200, json!({ "id": id, "deleted": true })));
    assert_eq!(app.read(&format!("{HOOKS}/{id}"), &a.api_key).await.0, 404);
    assert_eq!(app.send(reqwest::Method::DELETE, &format!("{HOOKS}/{id}"), &a.api_key, None).await.0, 404);
});

on_both_backends!(private_targets_are_refused_unless_allowed, |backend| async move {
    let Some(database_url) = fresh_database(backend).await else { return };
    let app = spawn_with(&database_url, fixed_clock(), None, false).await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://10.0.0.8/x",
    ] {
        let (status, body) = app.post(HOOKS, &a.api_key, json!({ "url": url, "events": ["listing.updated"] })).await;
        assert_eq!(status, 422, "{url}: {body}");
    }
    assert_eq!(
        app.post(HOOKS, &a.api_key, json!({ "url": "https://example.com/hook", "events": ["listing.updated"] }))
            .await
            .0,
        201
    );
});

on_both_backends!(the_event_catalog, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (status, body) = app.read(&format!("{HOOKS}/events"), &a.api_key).await;
    assert_eq!(status, 200);
    let events = body["data"]["events"].as_array().unwrap();
    assert_eq!(
        (events[0]["name"].clone(), events[0]["description"].clone()),
        (json!("listing.created"), json!("Triggered when a new listing is created"))
    );
    // Each event carries an example of its payload, and the OpenAPI document lists them all.
    let invoice = events.iter().find(|e| e["name"] == "invoice.generated").unwrap();
    assert!(invoice["example"]["invoice_id"].is_string(), "{invoice}");
    let doc: Value = app.http.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let text = doc["paths"]["/api/v1/partners/webhooks/events"]["get"]["description"].as_str().unwrap();
    for e in events {
        assert!(text.contains(&format!("### `{}`", e["name"].as_str().unwrap())), "{e}");
    }
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    for name in [
        "listing.created",
        "listing.updated",
        "opportunity.created",
        "opportunity.status_changed",
        "seo.score_changed",
        "customer.created",
        "customer.upgraded",
        "customer.cancelled",
        "commission.earned",
        "invoice.generated",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    assert!(events.iter().all(|e| !e["description"].as_str().unwrap().is_empty()));
});

on_both_backends!(deliveries_are_signed_as_documented, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let rb = Receiver::start().await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let (_, secret) = register(&app, &a.api_key, &r.url, &["listing.updated", "opportunity.status_changed"]).await;
    let (_, b_secret) = register(&app, &b.api_key, &rb.url, &["opportunity.status_changed"]).await;

    let id = listing(&app, &a.api_key, "Old Title").await;
    rename(&app, &a.api_key, &id, "New Title").await;
    let got = r.wait_for(1).await;
    let d = &got[0];
    let body = d.json();
    assert_eq!(
        body,
        json!({
            "id": body["id"],
            "type": "listing.updated",
            "timestamp": "2025-01-15T10:30:00Z",
            "data": { "listing_id": id, "changes": { "title": { "old": "Old Title", "new": "New Title" } } }
        })
    );
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(d.headers["content-type"], "application/json");
    assert_eq!(d.headers["webhook-id"], body["id"].as_str().unwrap());
    assert_eq!(
        d.headers["x-vellocity-signature"],
        partnerd_domain::webhooks::vellocity_signature(&secret, d.body.as_bytes())
    );
    verify_in_python(d, &secret);

    // A co-sell status change reaches both partners, each signed with its own secret.
    let (_, o) = app
        .post(
            "/api/v1/partners/cosell/opportunities",
            &a.api_key,
            json!({ "customer_name": "Global Corp", "deal_value": 50000, "partner_id": b.partner_id }),
        )
        .await;
    let opp = o["data"]["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/partners/cosell/opportunities/{opp}"), &b.api_key, json!({ "status": "in_progress" }))
        .await;
    let got = r.wait_for(2).await;
    let theirs = rb.wait_for(1).await;
    for (delivery, secret) in [(&got[1], &secret), (&theirs[0], &b_secret)] {
        assert_eq!(delivery.json()["type"], "opportunity.status_changed");
        assert_eq!(delivery.json()["data"], json!({ "opportunity_id": opp, "from": "open", "to": "in_progress" }));
        verify_in_python(delivery, secret);
    }
    assert_eq!(got[1].headers["webhook-id"], theirs[0].headers["webhook-id"], "one event, one id");
});

on_both_backends!(failures_are_retried_on_the_schedule_until_they_succeed, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    r.answer(&[500, 503, 500]);
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (hook, _) = register(&app, &a.api_key, &r.url, &["listing.created"]).await;
    listing(&app, &a.api_key, "Retry me").await;
    r.wait_for(1).await;
    wait_attempts(&app, &a.api_key, &hook, 1).await;
    assert_eq!(settle(&r).await, 1, "the retry waits for its time");
    // The schedule is 0, 5 s, 5 min, 30 min (±10 %): move the clock past each.
    for (advance, expected) in [(Duration::seconds(6), 2), (Duration::minutes(6), 3), (Duration::minutes(34), 4)] {
        app.clock.advance(advance);
        r.wait_for(expected).await;
        wait_attempts(&app, &a.api_key, &hook, expected as u64).await;
    }
    assert_eq!(settle(&r).await, 4, "delivered: no more attempts");
    let got = r.received();
    assert!(
        got.iter().all(|d| d.body == got[0].body && d.headers["webhook-id"] == got[0].headers["webhook-id"]),
        "the same message each time"
    );

    let (_, log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), &a.api_key).await;
    let d = &log["data"][0];
    assert_eq!(
        (d["status"].clone(), d["attempts"].clone(), d["event"].clone()),
        (json!("delivered"), json!(4), json!("listing.created"))
    );
    let codes: Vec<Value> = d["log"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(codes, vec![json!(500), json!(503), json!(500), json!(200)]);
    assert!(d["log"][0]["next_retry_at"].is_string() && d["log"][3]["next_retry_at"].is_null());
    assert_eq!(d["log"][0]["error"], "HTTP 500");
    assert!(d["log"][0]["latency_ms"].is_u64());
});

on_both_backends!(the_last_failure_gives_up, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    r.answer(&[500; 8]);
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (hook, _) = register(&app, &a.api_key, &r.url, &["listing.created"]).await;
    listing(&app, &a.api_key, "Doomed").await;
    for n in 1..=8 {
        r.wait_for(n).await;
        wait_attempts(&app, &a.api_key, &hook, n as u64).await;
        app.clock.advance(Duration::hours(11));
    }
    assert_eq!(settle(&r).await, 8, "eight attempts in all");
    let (_, log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), &a.api_key).await;
    assert_eq!((log["data"][0]["status"].clone(), log["data"][0]["attempts"].clone()), (json!("failed"), json!(8)));
});

on_both_backends!(gone_disables_the_webhook, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    r.answer(&[410]);
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (hook, _) = register(&app, &a.api_key, &r.url, &["listing.created"]).await;
    listing(&app, &a.api_key, "First").await;
    r.wait_for(1).await;
    wait_attempts(&app, &a.api_key, &hook, 1).await;
    assert_eq!(app.read(&format!("{HOOKS}/{hook}"), &a.api_key).await.1["data"]["active"], false);
    listing(&app, &a.api_key, "Second").await;
    app.clock.advance(Duration::hours(1));
    assert_eq!(settle(&r).await, 1, "no delivery to a disabled webhook");
});

on_both_backends!(nothing_reaches_deleted_inactive_or_other_partners_webhooks, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let (live, inactive, deleted, other) =
        (Receiver::start().await, Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let c = app.partner("Third Ltd", "admin@third.com", "business").await;
    register(&app, &a.api_key, &live.url, &["listing.updated"]).await;
    let (off, _) = register(&app, &a.api_key, &inactive.url, &["listing.updated"]).await;
    app.patch(&format!("{HOOKS}/{off}"), &a.api_key, json!({ "active": false })).await;
    let (gone, _) = register(&app, &a.api_key, &deleted.url, &["listing.updated"]).await;
    app.send(reqwest::Method::DELETE, &format!("{HOOKS}/{gone}"), &a.api_key, None).await;
    register(&app, &c.api_key, &other.url, &["listing.updated", "listing.created"]).await;
    let id = listing(&app, &a.api_key, "Mine").await;
    rename(&app, &a.api_key, &id, "Still mine").await;
    live.wait_for(1).await;
    for r in [&inactive, &deleted, &other] {
        assert_eq!(settle(r).await, 0);
    }
    assert_eq!(settle(&live).await, 1, "not subscribed to listing.created");
});

on_both_backends!(pending_deliveries_survive_a_restart, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    r.answer(&[500]);
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (hook, _) = register(&app, &a.api_key, &r.url, &["listing.created"]).await;
    listing(&app, &a.api_key, "Durable").await;
    r.wait_for(1).await;
    wait_attempts(&app, &a.api_key, &hook, 1).await;
    let (database_url, clock) = (app.database_url.clone(), app.clock.clone());
    app.server.stop().await.unwrap();
    clock.advance(Duration::seconds(10));
    let again = spawn_on(&database_url, clock, None).await;
    let got = r.wait_for(2).await;
    assert_eq!(got[0].body, got[1].body);
    // The receiver has answered; the worker records the attempt just after.
    wait_attempts(&again, &a.api_key, &hook, 2).await;
    let (_, log) = again.read(&format!("{HOOKS}/{hook}/deliveries"), &a.api_key).await;
    assert_eq!((log["data"][0]["status"].clone(), log["data"][0]["attempts"].clone()), (json!("delivered"), json!(2)));
});

on_both_backends!(the_test_endpoint_sends_a_marked_sample, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let (hook, secret) = register(&app, &a.api_key, &r.url, &["listing.updated"]).await;
    let (status, out) =
        app.post(&format!("{HOOKS}/test"), &a.api_key, json!({ "webhook_id": hook, "event": "listing.updated" })).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!((out["data"]["delivered"].clone(), out["data"]["status_code"].clone()), (json!(true), json!(200)));
    assert!(out["data"]["latency_ms"].is_u64());
    let got = r.wait_for(1).await;
    let body = got[0].json();
    assert_eq!((body["type"].clone(), body["test"].clone()), (json!("listing.updated"), json!(true)));
    assert_eq!(body["data"]["changes"]["title"], json!({ "old": "Old Title", "new": "New Title" }));
    verify_in_python(&got[0], &secret);

    r.answer(&[500]);
    let (_, failed) = app
        .post(&format!("{HOOKS}/test"), &a.api_key, json!({ "webhook_id": hook, "event": "seo.score_changed" }))
        .await;
    assert_eq!(
        (failed["data"]["delivered"].clone(), failed["data"]["status_code"].clone(), failed["data"]["error"].clone()),
        (json!(false), json!(500), json!("HTTP 500"))
    );
    let (_, log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), &a.api_key).await;
    assert_eq!(log["meta"]["total"], 2);
    assert!(log["data"].as_array().unwrap().iter().all(|d| d["test"] == true));
    assert_eq!(settle(&r).await, 2, "tests are not retried");

    let (status, body) =
        app.post(&format!("{HOOKS}/test"), &a.api_key, json!({ "webhook_id": hook, "event": "listing.deleted" })).await;
    assert_eq!((status, body["error"]["details"].get("event").is_some()), (422, true));
    assert_eq!(
        app.post(&format!("{HOOKS}/test"), &b.api_key, json!({ "webhook_id": hook, "event": "listing.updated" }))
            .await
            .0,
        404
    );
    assert_eq!(app.post(&format!("{HOOKS}/test"), &a.api_key, json!({})).await.0, 422);
});

on_both_backends!(deliveries_are_logged_and_can_be_sent_again, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (hook, _) = register(&app, &a.api_key, &r.url, &["listing.created"]).await;
    listing(&app, &a.api_key, "Logged").await;
    r.wait_for(1).await;
    wait_attempts(&app, &a.api_key, &hook, 1).await;
    let (_, log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), &a.api_key).await;
    let original = log["data"][0].clone();
    assert_eq!(
        (original["status"].clone(), original["log"][0]["status_code"].clone()),
        (json!("delivered"), json!(200))
    );
    let (status, again) = app
        .post(
            &format!("{HOOKS}/{hook}/deliveries/{}/redeliver", original["id"].as_str().unwrap()),
            &a.api_key,
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        (again["data"]["redelivery_of"].clone(), again["data"]["event_id"].clone()),
        (original["id"].clone(), original["event_id"].clone())
    );
    let got = r.wait_for(2).await;
    assert_eq!(got[0].body, got[1].body);
    let (status, _) = app.post(&format!("{HOOKS}/{hook}/deliveries/dlv_nope/redeliver"), &a.api_key, json!({})).await;
    assert_eq!(status, 404);
});

on_both_backends!(two_processes_deliver_each_event_once, |backend| async move {
    let Some(first) = spawn_app(backend).await else { return };
    let second = spawn_on(&first.database_url, first.clock.clone(), None).await;
    let r = Receiver::start().await;
    let a = first.partner("Acme Corp", "admin@acme.com", "business").await;
    register(&first, &a.api_key, &r.url, &["listing.created"]).await;
    for i in 0..40 {
        let app = if i % 2 == 0 { &first } else { &second };
        listing(app, &a.api_key, &format!("Listing {i}")).await;
    }
    r.wait_for(40).await;
    assert_eq!(settle(&r).await, 40, "no event delivered twice");
    let mut ids: Vec<String> = r.received().iter().map(|d| d.headers["webhook-id"].clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
});

/// Whether `secret` signed this delivery (the Standard Webhooks signature).
pub fn signed_with(d: &Received, secret: &str) -> bool {
    let ts: i64 = d.headers["webhook-timestamp"].parse().unwrap();
    let expected = partnerd_domain::webhooks::signed_headers(secret, &d.headers["webhook-id"], ts, d.body.as_bytes());
    expected.iter().any(|(name, value)| *name == "webhook-signature" && *value == d.headers["webhook-signature"])
}

on_both_backends!(the_webhook_limit_holds_under_parallel_creates, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (base, key) = (app.base.clone(), a.api_key.clone());
            tokio::spawn(async move {
                let body = json!({ "url": format!("https://hooks.example.com/{i}"), "events": ["listing.created"] });
                reqwest::Client::new()
                    .post(format!("{base}{HOOKS}"))
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 20, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 20, "{statuses:?}");
    assert_eq!(app.read(HOOKS, &a.api_key).await.1["data"].as_array().unwrap().len(), 20);
});

on_both_backends!(concurrent_rotations_answer_the_secret_in_force, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (hook, _) = register(&app, &a.api_key, &r.url, &["listing.created"]).await;
    // Rotations and edits at once: an edit must not write back the secret it read.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (base, key, hook) = (app.base.clone(), a.api_key.clone(), hook.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                if i % 2 == 0 {
                    let url = format!("{base}{HOOKS}/{hook}/rotate-secret");
                    let res = client.post(url).bearer_auth(key).json(&json!({})).send().await.unwrap();
                    assert_eq!(res.status(), 200);
                    let body: Value = res.json().await.unwrap();
                    Some(body["data"]["secret"].as_str().unwrap().to_owned())
                } else {
                    let events = if i % 4 == 1 {
                        json!(["listing.created", "listing.updated"])
                    } else {
                        json!(["listing.created"])
                    };
                    let res = client
                        .patch(format!("{base}{HOOKS}/{hook}"))
                        .bearer_auth(key)
                        .json(&json!({ "events": events }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200);
                    None
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap());
    }
    assert_eq!(answers.len(), 5);
    // Every distinct answer is a rotation that committed (losers answer the winner's secret).
    let mut distinct = answers.clone();
    distinct.sort();
    distinct.dedup();
    let rotations = app.events(&hook).await.iter().filter(|e| e.event_type == "webhook.secret_rotated").count();
    assert_eq!(rotations, distinct.len(), "{answers:?}");
    // The secret in force signs, and it is one of the answers.
    listing(&app, &a.api_key, "Signed").await;
    let got = r.wait_for(1).await;
    assert!(answers.iter().any(|s| signed_with(&got[0], s)), "no rotation's answer signs the delivery");
});

on_both_backends!(webhook_secrets_are_encrypted_at_rest, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let given = "given_secret_that_must_not_be_stored_1234";
    let (status, body) =
        app.post(HOOKS, &a.api_key, json!({ "url": r.url, "events": ["listing.created"], "secret": given })).await;
    assert_eq!(status, 201, "{body}");
    let hook = body["data"]["id"].as_str().unwrap().to_owned();
    let (_, generated) = register(&app, &a.api_key, &r.url, &["listing.updated"]).await;
    let (status, rotated) = app.post(&format!("{HOOKS}/{hook}/rotate-secret"), &a.api_key, json!({})).await;
    assert_eq!(status, 200);
    let rotated = rotated["data"]["secret"].as_str().unwrap().to_owned();
    listing(&app, &a.api_key, "Encrypted").await;
    let got = r.wait_for(1).await;
    assert!(signed_with(&got[0], &rotated), "deliveries are signed with the secret shown");

    // A create under an Idempotency-Key keeps its response (with the secret) for replays: that
    // copy is encrypted too, and a replay still shows the secret.
    let keyed = || {
        app.http
            .post(app.url(HOOKS))
            .bearer_auth(&a.api_key)
            .header("Idempotency-Key", "hook-create-1")
            .json(&json!({ "url": r.url, "events": ["opportunity.created"] }))
    };
    let first: Value = keyed().send().await.unwrap().json().await.unwrap();
    let kept = first["data"]["secret"].as_str().unwrap().to_owned();
    let replay = keyed().send().await.unwrap();
    assert_eq!(replay.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["data"]["secret"].as_str(), Some(kept.as_str()));

    let stored = dump_every_row(&app.database_url).await;
    assert!(contains_bytes(&stored, &hook), "the dump holds the webhook rows");
    for secret in [given, generated.as_str(), rotated.as_str(), kept.as_str()] {
        let body = secret.trim_start_matches("whsec_");
        assert!(!contains_bytes(&stored, body), "a secret is stored readable: {secret}");
    }
});
