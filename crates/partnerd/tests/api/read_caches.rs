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

/// The ids of a page of `GET /listings` at `page` (of 20), with its filter.
async fn page_ids(app: &TestApp, key: &str, filter: &str, page: usize) -> Vec<String> {
    let body = json_of(app, &format!("/api/v1/partners/listings?page={page}&per_page=20{filter}"), key).await;
    body["data"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

/// Every id of the list, walked by cursor (not by page, which is what is under test).
async fn walk(app: &TestApp, key: &str, filter: &str) -> Vec<String> {
    let (mut ids, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let at = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let body = json_of(app, &format!("/api/v1/partners/listings?per_page=100{filter}{at}"), key).await;
        ids.extend(body["data"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()));
        match body["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

// Deep pages of a long list (past its cached head) are served from marks along it (a seek and
// a few index steps, built after a few deep pages); they must be exactly the pages OFFSET
// walks, before and after the list changes under them.
on_both_backends!(deep_pages_are_the_pages_offset_walks, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    // (The enterprise plan: this walks a few hundred pages.)
    let p = app.partner("Acme Corp", "admin@acme.com", "enterprise").await;
    let patches = (0..3_300)
        .map(|i| partnerd_domain::listing::ListingPatch {
            title: Some(format!("Listing {i}")),
            status: Some(if i % 3 == 0 {
                partnerd_domain::listing::ListingStatus::Draft
            } else {
                partnerd_domain::listing::ListingStatus::Active
            }),
            ..Default::default()
        })
        .collect();
    app.server.services.listings().import(&app.marketplace_id(), &p.partner_id, patches).await.expect("import");
    for filter in ["", "&status=active"] {
        let all = walk(&app, &p.api_key, filter).await;
        // The active list also holds the two listings the unfiltered round created.
        assert_eq!(all.len(), if filter.is_empty() { 3_300 } else { 2_200 + 2 });
        // Pages past the list's cached head (its first 2,048 rows) start after a mark; the
        // last is partly full.
        let pages: Vec<usize> = (2_048 / 20..=all.len().div_ceil(20)).collect();
        for round in 0..2 {
            for &page in &pages {
                let expected: Vec<String> = all.iter().skip((page - 1) * 20).take(20).cloned().collect();
                assert_eq!(
                    page_ids(&app, &p.api_key, filter, page).await,
                    expected,
                    "{filter} page {page}, round {round}"
                );
            }
        }
        // A new listing comes first: every deep page moves by one, at once.
        app.clock.advance(chrono::Duration::seconds(1));
        let (status, created) =
            app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Newest", "status": "active" })).await;
        assert_eq!(status, 201);
        let mut shifted = vec![created["data"]["id"].as_str().unwrap().to_owned()];
        shifted.extend(walk(&app, &p.api_key, filter).await.into_iter().skip(1));
        assert_eq!(shifted[1..], all[..]);
        for round in 0..2 {
            for &page in &pages {
                let expected: Vec<String> = shifted.iter().skip((page - 1) * 20).take(20).cloned().collect();
                let got = page_ids(&app, &p.api_key, filter, page).await;
                assert_eq!(got, expected, "{filter} page {page} after the create, round {round}");
            }
        }
        // Deep pages asked all at once after a change: a few by OFFSET, one building the marks,
        // the rest waiting for that build; every answer is still the page OFFSET walks.
        app.clock.advance(chrono::Duration::seconds(1));
        let (status, _) =
            app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Newer", "status": "active" })).await;
        assert_eq!(status, 201);
        let now = walk(&app, &p.api_key, filter).await;
        assert_eq!(now[2..], all[..]);
        let at_once =
            futures_util::future::join_all(pages.iter().map(|&page| page_ids(&app, &p.api_key, filter, page)));
        for (page, got) in pages.iter().zip(at_once.await) {
            let expected: Vec<String> = now.iter().skip((page - 1) * 20).take(20).cloned().collect();
            assert_eq!(got, expected, "{filter} page {page} asked beside the others");
        }
    }
});
