//! The per-process read caches (listings by id, the heads of listing lists): a write is seen at
//! once by the process that made it, and by another server on the same database within its
//! invalidation poll (50 ms in tests), through the event log.

use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn json_of(app: &TestApp, path: &str, key: &str) -> Value {
    let r = app.get(path, key).await;
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.json().await.unwrap()
}

/// Polls `check` for up to 5 s: another process's change arrives with the next poll.
async fn eventually(mut check: impl AsyncFnMut() -> bool, what: &str) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} was never seen");
}

on_both_backends!(a_processs_own_writes_are_read_at_once, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, l) =
        app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "First", "status": "active" })).await;
    let id = l["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/partners/listings/{id}");
    // Fill both caches, then write and read straight back, many times over.
    for i in 0..20 {
        assert_eq!(
            json_of(&app, &path, &p.api_key).await["data"]["title"],
            if i == 0 { "First".to_owned() } else { format!("Title {}", i - 1) }
        );
        let page = json_of(&app, "/api/v1/partners/listings?status=active", &p.api_key).await;
        assert_eq!(page["meta"]["total"], i + 1);
        let (status, _) = app.patch(&path, &p.api_key, json!({ "title": format!("Title {i}") })).await;
        assert_eq!(status, 200);
        // Newest first: each new listing a second younger than the last.
        app.clock.advance(chrono::Duration::seconds(1));
        let (status, _) = app
            .post("/api/v1/partners/listings", &p.api_key, json!({ "title": format!("New {i}"), "status": "active" }))
            .await;
        assert_eq!(status, 201);
        let page = json_of(&app, "/api/v1/partners/listings?status=active", &p.api_key).await;
        assert_eq!(page["meta"]["total"], i + 2, "the new listing is counted at once");
        assert_eq!(page["data"][0]["title"], format!("New {i}"), "and listed first at once");
    }
    // A status change moves the listing between lists at once.
    app.patch(&path, &p.api_key, json!({ "status": "archived" })).await;
    let active = json_of(&app, "/api/v1/partners/listings?status=active", &p.api_key).await;
    assert!(active["data"].as_array().unwrap().iter().all(|l| l["id"] != id.as_str()));
    let archived = json_of(&app, "/api/v1/partners/listings?status=archived", &p.api_key).await;
    assert_eq!(archived["data"][0]["id"], id.as_str());
});

on_both_backends!(another_servers_writes_reach_this_ones_caches, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let second = spawn_on(&app.database_url, app.clock.clone(), None).await;
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, l) =
        app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Before", "status": "active" })).await;
    let id = l["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/partners/listings/{id}");
    assert_eq!(json_of(&app, &path, &p.api_key).await["data"]["title"], "Before");
    assert_eq!(json_of(&app, "/api/v1/partners/listings?status=active", &p.api_key).await["meta"]["total"], 1);

    let (status, _) = second.patch(&path, &p.api_key, json!({ "title": "After" })).await;
    assert_eq!(status, 200);
    app.clock.advance(chrono::Duration::seconds(1));
    let (status, _) =
        second.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Elsewhere", "status": "active" })).await;
    assert_eq!(status, 201);
    eventually(
        async || json_of(&app, &path, &p.api_key).await["data"]["title"] == "After",
        "the other server's update",
    )
    .await;
    eventually(
        async || {
            let page = json_of(&app, "/api/v1/partners/listings?status=active", &p.api_key).await;
            page["meta"]["total"] == 2 && page["data"][0]["title"] == "Elsewhere"
        },
        "the other server's new listing",
    )
    .await;
    // A write starts from the stored row, not a stale cached one: no spurious conflict.
    let (status, body) = app.patch(&path, &p.api_key, json!({ "short_description": "Edited here" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["title"], "After");
});
