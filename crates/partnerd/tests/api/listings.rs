//! Listings over HTTP on both backends: CRUD, paging, isolation, SEO, recommendations whose
//! impact holds when applied, content drafts, and the events each change appends.

use crate::common::*;
use serde_json::{Value, json};

fn full_listing() -> Value {
    json!({
        "title": "Enterprise Security Suite",
        "short_description": "Continuous compliance monitoring for regulated teams.",
        "long_description": "Detect threats early.",
        "highlights": ["Automated SOC 2 evidence collection", "Real-time threat detection"],
        "categories": ["Security", "Compliance"],
        "keywords": ["compliance", "security", "siem"],
        "images": ["https://cdn.acme.com/1.png"],
        "pricing_model": "subscription",
        "status": "active"
    })
}

on_both_backends!(create_get_and_defaults, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (status, body) = app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Minimal" })).await;
    assert_eq!(status, 201, "{body}");
    let l = &body["data"];
    assert_eq!(l["status"], "draft");
    assert_eq!(l["marketplace"], "aws");
    assert_eq!(l["pricing_model"], "subscription");
    assert_eq!(l["created_at"], "2025-01-15T10:30:00Z");
    assert_eq!(l["last_updated"], "2025-01-15T10:30:00Z");
    assert!(l["id"].as_str().unwrap().starts_with("listing_"));
    for field in [
        "title",
        "short_description",
        "long_description",
        "highlights",
        "categories",
        "pricing_model",
        "status",
        "seo_score",
        "created_at",
        "last_updated",
    ] {
        assert!(l.get(field).is_some(), "missing {field}");
    }
    let (status, got) = app.read(&format!("/api/v1/partners/listings/{}", l["id"].as_str().unwrap()), &p.api_key).await;
    assert_eq!(status, 200);
    assert_eq!(got["data"], *l);

    let (status, body) = app.post("/api/v1/partners/listings", &p.api_key, full_listing()).await;
    assert_eq!(status, 201);
    assert_eq!(body["data"]["status"], "active");
    assert_eq!(body["data"]["highlights"], full_listing()["highlights"]);
});

on_both_backends!(validation_errors_name_each_field, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (status, body) =
        app.post("/api/v1/partners/listings", &p.api_key, json!({ "short_description": "no title" })).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(body["error"]["details"]["title"][0], "is required");
    assert_eq!(body["error"]["message"], "The title field is required");

    let bad =
        json!({ "title": "ok", "status": "live", "pricing_model": "barter", "images": ["ftp://x"], "titel": "typo" });
    let (status, body) = app.post("/api/v1/partners/listings", &p.api_key, bad).await;
    assert_eq!(status, 422);
    let details = body["error"]["details"].as_object().unwrap();
    assert!(details.contains_key("status") && details.contains_key("titel"), "{body}");
    let bad = json!({ "title": "ok", "pricing_model": "barter", "images": ["ftp://x"] });
    let (_, body) = app.post("/api/v1/partners/listings", &p.api_key, bad).await;
    let details = body["error"]["details"].as_object().unwrap();
    assert!(details.contains_key("pricing_model") && details.contains_key("images[0]"), "{body}");

    let (status, body) =
        app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "ok", "highlights": "not a list" })).await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"].get("highlights").is_some(), "{body}");

    // Bodies that are not JSON at all, on a real endpoint.
    let url = app.url("/api/v1/partners/listings");
    let r = app
        .http
        .post(&url)
        .bearer_auth(&p.api_key)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "issue 10 item 8: the document's code");
    assert!(body["error"]["details"]["body"][0].as_str().unwrap().ends_with("at line 1 column 2"), "{body}");
    // Exactly one JSON value: a valid one followed by garbage is refused, not half-read.
    let r = app
        .http
        .post(&url)
        .bearer_auth(&p.api_key)
        .header("content-type", "application/json")
        .body(r#"{"title":"x"} trailing-garbage"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert!(body["error"]["details"]["body"][0].as_str().unwrap().contains("trailing characters"), "{body}");
    let r = app.http.post(&url).bearer_auth(&p.api_key).body("title=x").send().await.unwrap();
    assert_eq!(r.status(), 415);
    let huge = json!({ "title": "x".repeat(1024 * 1024) });
    for _ in 0..3 {
        let r = app.http.post(&url).bearer_auth(&p.api_key).json(&huge).send().await.unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(json(r).await["error"]["code"], "PAYLOAD_TOO_LARGE");
    }
    // Streamed without a Content-Length: counted as it arrives.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..3).map(|_| Ok(vec![b' '; 600 * 1024])).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let r = app
        .http
        .post(&url)
        .bearer_auth(&p.api_key)
        .header("content-type", "application/json")
        .body(streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let (_, list) = app.read("/api/v1/partners/listings", &p.api_key).await;
    assert_eq!(list["meta"]["total"], 0, "nothing was written by refused requests");
});

on_both_backends!(list_filters_and_pages, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    for i in 0..25 {
        app.clock.advance(chrono::Duration::seconds(1));
        let status = if i % 5 == 0 { "draft" } else { "active" };
        let (code, _) = app
            .post("/api/v1/partners/listings", &p.api_key, json!({ "title": format!("L{i:02}"), "status": status }))
            .await;
        assert_eq!(code, 201);
    }
    let (status, body) = app.read("/api/v1/partners/listings", &p.api_key).await;
    assert_eq!(status, 200);
    assert_eq!(
        cursor_masked(&body["meta"]),
        json!({ "page": 1, "per_page": 20, "total": 25, "next_cursor": "CURSOR" })
    );
    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["title"], "L24", "newest first");
    let keys: Vec<&str> = items[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["id", "last_updated", "marketplace", "seo_score", "status", "title"]);

    let (_, page2) = app.read("/api/v1/partners/listings?page=2", &p.api_key).await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 5);
    assert_eq!(page2["data"][4]["title"], "L00");
    let (_, drafts) = app.read("/api/v1/partners/listings?status=draft&per_page=2", &p.api_key).await;
    assert_eq!(
        cursor_masked(&drafts["meta"]),
        json!({ "page": 1, "per_page": 2, "total": 5, "next_cursor": "CURSOR" })
    );
    assert!(drafts["data"].as_array().unwrap().iter().all(|l| l["status"] == "draft"));
    let (status, past) = app.read("/api/v1/partners/listings?page=9", &p.api_key).await;
    assert_eq!(status, 200);
    assert_eq!(past["data"], json!([]));
    assert_eq!(past["meta"]["total"], 25);
    let (status, _) = app.read("/api/v1/partners/listings?per_page=100", &p.api_key).await;
    assert_eq!(status, 200);
    for bad in ["per_page=101", "per_page=0", "page=0", "page=x", "status=live"] {
        let (status, body) = app.read(&format!("/api/v1/partners/listings?{bad}"), &p.api_key).await;
        assert_eq!(status, 422, "{bad}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        let field = bad.split('=').next().unwrap();
        assert!(body["error"]["details"].get(field).is_some(), "{bad}: {body}");
    }
    // Every bad parameter is named at once, and one bad pair does not drop the others.
    let (status, body) = app.read("/api/v1/partners/listings?page=0&per_page=x&status=draft", &p.api_key).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"].as_object().unwrap().len(), 2, "{body}");
    let (status, body) = app.read("/api/v1/partners/listings?status=%FF&per_page=1", &p.api_key).await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"].get("status").is_some(), "{body}");
    let (status, body) = app.read("/api/v1/partners/listings?per_page=1&%FF=x", &p.api_key).await;
    assert_eq!(status, 422, "a pair whose name cannot be decoded is refused, not dropped");
    assert!(body["error"]["details"]["query"][0].as_str().unwrap().contains("%FF=x"), "{body}");
});

on_both_backends!(update_archive_and_isolation, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let other = app.partner("Other Inc", "admin@other.com", "business").await;
    let (_, created) = app.post("/api/v1/partners/listings", &p.api_key, full_listing()).await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/partners/listings/{id}");

    app.clock.advance(chrono::Duration::hours(1));
    let (status, body) = app.put(&path, &p.api_key, json!({ "title": "Enterprise Security Suite - Updated", "highlights": ["New highlight 1", "New highlight 2"] })).await;
    assert_eq!(status, 200, "{body}");
    let l = &body["data"];
    assert_eq!(l["title"], "Enterprise Security Suite - Updated");
    assert_eq!(l["short_description"], full_listing()["short_description"], "partial update");
    assert_eq!(l["last_updated"], "2025-01-15T11:30:00Z");
    let (status, body) = app.put(&path, &p.api_key, json!({ "title": "" })).await;
    assert_eq!((status, body["error"]["details"]["title"][0].clone()), (422, json!("is required")));

    // Another partner sees none of it.
    for (method, suffix) in [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("GET", "/seo"),
        ("GET", "/recommendations"),
        ("POST", "/content"),
        ("GET", "/content"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method == "PUT").then(|| json!({ "title": "hijack" }));
        let (status, body) = app.send(m, &format!("{path}{suffix}"), &other.api_key, body).await;
        assert_eq!(status, 404, "{method} {suffix}");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
    }
    let (status, _) = app.read("/api/v1/partners/listings/listing_doesnotexist", &p.api_key).await;
    assert_eq!(status, 404);

    let (status, body) = app.send(reqwest::Method::DELETE, &path, &p.api_key, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["status"], "archived");
    let (status, body) = app.read(&path, &p.api_key).await;
    assert_eq!((status, body["data"]["status"].clone()), (200, json!("archived")), "archived listings stay readable");
    let (_, archived) = app.read("/api/v1/partners/listings?status=archived", &p.api_key).await;
    assert_eq!(archived["meta"]["total"], 1);
    let (_, active) = app.read("/api/v1/partners/listings?status=active", &p.api_key).await;
    assert_eq!(active["meta"]["total"], 0);
});

on_both_backends!(read_only_keys_cannot_write, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let c = app
        .server
        .services
        .partners()
        .create(
            &app.marketplace_id(),
            partnerd_services::partners::CreatePartner {
                name: "Viewer".into(),
                email: "viewer@acme.com".into(),
                plan: "business".into(),
                roles: vec!["partner_read".into()],
            },
        )
        .await
        .unwrap();
    let (status, body) = app.post("/api/v1/partners/listings", &c.api_key, json!({ "title": "x" })).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("FORBIDDEN")));
    assert_eq!(app.read("/api/v1/partners/listings", &c.api_key).await.0, 200);
});

on_both_backends!(seo_score_breakdown_and_grade, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, created) = app.post("/api/v1/partners/listings", &p.api_key, full_listing()).await;
    let id = created["data"]["id"].as_str().unwrap();
    let (status, body) = app.read(&format!("/api/v1/partners/listings/{id}/seo"), &p.api_key).await;
    assert_eq!(status, 200);
    // title 25 chars (6) + clean (8) = 14/20; description: short 54 chars (4) + long (0) + one
    // paragraph (0) + readable (5) = 9/25; highlights 2 (8) + lengths ok (8) = 16/20; keywords
    // 3 (5) + another keyword in title (3) + all covered... 'siem' is not (floor 10×2/3 = 6)
    // = 14/20; images: no logo, 1 screenshot = 5/15.
    assert_eq!(
        body["data"],
        json!({
            "overall_score": 58,
            "breakdown": { "title": 70, "description": 36, "highlights": 80, "keywords": 70, "images": 33 },
            "grade": "C",
            "analyzed_at": "2025-01-15T10:30:00Z",
        })
    );
    assert_eq!(created["data"]["seo_score"], 58, "the listing carries its current score");
});

on_both_backends!(recommendation_impacts_hold_when_applied, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, created) = app.post("/api/v1/partners/listings", &p.api_key, full_listing()).await;
    let original = created["data"].clone();
    let id = original["id"].as_str().unwrap();
    let path = format!("/api/v1/partners/listings/{id}");
    let (status, body) = app.read(&format!("{path}/recommendations"), &p.api_key).await;
    assert_eq!(status, 200);
    let recs = body["data"]["recommendations"].as_array().unwrap().clone();
    assert!(recs.len() >= 4, "{body}");
    let mut everything = serde_json::Map::new();
    for rec in &recs {
        for key in ["category", "priority", "suggestion", "impact"] {
            assert!(rec.get(key).is_some(), "{rec}");
        }
        assert!(["high", "medium", "low"].contains(&rec["priority"].as_str().unwrap()));
        assert!(
            ["title", "description", "highlights", "keywords", "images"].contains(&rec["category"].as_str().unwrap())
        );
        let impact: u64 = rec["impact"]
            .as_str()
            .unwrap()
            .strip_prefix('+')
            .unwrap()
            .strip_suffix(" SEO score")
            .unwrap()
            .parse()
            .unwrap();
        // Reset to the original, then apply just this recommendation.
        let reset: Value =
            ["title", "short_description", "long_description", "highlights", "keywords", "images", "logo_url"]
                .iter()
                .map(|f| (f.to_string(), original[*f].clone()))
                .collect::<serde_json::Map<_, _>>()
                .into();
        assert_eq!(app.put(&path, &p.api_key, reset).await.0, 200);
        let field = rec["field"].as_str().unwrap();
        let value = match field {
            "images" => {
                let mut imgs = original["images"].as_array().unwrap().clone();
                for i in 0..rec["add_count"].as_u64().unwrap() {
                    imgs.push(json!(format!("https://cdn.acme.com/extra-{i}.png")));
                }
                Value::Array(imgs)
            }
            "logo_url" => json!("https://cdn.acme.com/logo.png"),
            _ => rec["proposed_value"].clone(),
        };
        everything.insert(field.to_owned(), value.clone());
        let (status, after) = app.put(&path, &p.api_key, json!({ field: value })).await;
        assert_eq!(status, 200, "{after}");
        assert_eq!(
            after["data"]["seo_score"].as_u64().unwrap(),
            original["seo_score"].as_u64().unwrap() + impact,
            "{rec}"
        );
    }
    // All of them together: the stated total.
    let mut reset = everything.clone();
    for f in ["title", "short_description", "long_description", "highlights", "keywords", "images", "logo_url"] {
        reset.entry(f.to_owned()).or_insert(original[f].clone());
    }
    let (status, after) = app.put(&path, &p.api_key, Value::Object(reset)).await;
    assert_eq!(status, 200);
    let total = body["data"]["total_potential_improvement"].as_u64().unwrap();
    assert!(total > 0);
    assert_eq!(after["data"]["seo_score"].as_u64().unwrap(), original["seo_score"].as_u64().unwrap() + total);
});

on_both_backends!(content_is_generated_and_published, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, created) = app.post("/api/v1/partners/listings", &p.api_key, full_listing()).await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let before = created["data"]["seo_score"].as_u64().unwrap();
    let (status, draft) = app.post(&format!("/api/v1/partners/listings/{id}/content"), &p.api_key, json!({})).await;
    assert_eq!(status, 201, "{draft}");
    let d = &draft["data"];
    assert_eq!(d["status"], "draft");
    assert_eq!(d["listing_id"], id.as_str());
    assert!(d["seo_score"].as_u64().unwrap() > before);
    let draft_id = d["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.read(&format!("/api/v1/partners/listings/{id}/content"), &p.api_key).await;
    assert_eq!(listed["data"][0]["id"], draft_id.as_str());
    // Generating changes nothing on the listing itself.
    assert_eq!(app.read(&format!("/api/v1/partners/listings/{id}"), &p.api_key).await.1["data"]["seo_score"], before);

    let publish = format!("/api/v1/partners/listings/{id}/content/{draft_id}/publish");
    let (status, published) = app.post(&publish, &p.api_key, json!({})).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["data"]["title"], d["title"]);
    assert_eq!(published["data"]["long_description"], d["long_description"]);
    assert_eq!(published["data"]["seo_score"], d["seo_score"]);
    let (_, listed) = app.read(&format!("/api/v1/partners/listings/{id}/content"), &p.api_key).await;
    assert_eq!(listed["data"][0]["status"], "published");
    let (status, again) = app.post(&publish, &p.api_key, json!({})).await;
    assert_eq!((status, again["error"]["code"].clone()), (422, json!("VALIDATION_ERROR")));
    let (status, _) =
        app.post(&format!("/api/v1/partners/listings/{id}/content/draft_nope/publish"), &p.api_key, json!({})).await;
    assert_eq!(status, 404);

    let kinds: Vec<String> = app.events(&id).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        vec!["listing.created", "content.generated", "content.published", "listing.updated", "seo.score_changed"]
    );
});

on_both_backends!(changes_append_the_documented_events, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, created) = app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Old Title" })).await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/partners/listings/{id}");
    // A small change: listing.updated only.
    app.put(&path, &p.api_key, json!({ "title": "New Title" })).await;
    // A no-op: no event at all.
    app.put(&path, &p.api_key, json!({ "title": "New Title" })).await;
    // A big change (3 highlights: +12, all good lengths: +8): the score moves by 20.
    let highlights =
        json!(["Automated SOC 2 evidence collection", "Real-time threat detection", "One-click compliance reports"]);
    let (_, after) = app.put(&path, &p.api_key, json!({ "highlights": highlights })).await;

    let events = app.events(&id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, vec!["listing.created", "listing.updated", "listing.updated", "seo.score_changed"]);
    assert_eq!(events[0].payload["listing_id"], id.as_str());
    assert_eq!(events[0].payload["title"], "Old Title");
    assert_eq!(
        events[1].payload,
        json!({ "listing_id": id, "changes": { "title": { "old": "Old Title", "new": "New Title" } } })
    );
    assert_eq!(events[2].payload["changes"]["highlights"], json!({ "old": [], "new": highlights }));
    let before = created["data"]["seo_score"].as_u64().unwrap();
    assert_eq!(
        events[3].payload,
        json!({ "listing_id": id, "old_score": before, "new_score": before + 20, "grade": after["data"]["seo_score"].as_u64().map(|s| partnerd_domain::seo::grade(u32::try_from(s).unwrap())).unwrap() })
    );
    assert!(events.iter().all(|e| e.partner_id.as_deref() == Some(p.partner_id.as_str())));
    assert!(events.iter().all(|e| e.actor_user_id.as_deref() == Some(p.user_id.as_str())));
});

on_both_backends!(control_characters_are_refused_in_listing_fields_queries_and_paths, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let base = "/api/v1/partners/listings";
    let field = |body: &serde_json::Value, name: &str| {
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
        assert!(
            body["error"]["details"][name][0].as_str().unwrap().starts_with("must not contain control characters"),
            "{body}"
        );
    };
    let (status, e) = app.post(base, &p.api_key, json!({ "title": "Suite\u{0}" })).await;
    assert_eq!(status, 422);
    field(&e, "title");
    let (status, e) = app.post(base, &p.api_key, json!({ "title": "Suite", "keywords": ["ok", "b\u{8}d"] })).await;
    assert_eq!(status, 422);
    field(&e, "keywords[1]");
    assert_eq!(app.read(base, &p.api_key).await.1["meta"]["total"], 0);
    let (_, l) = app.post(base, &p.api_key, json!({ "title": "Suite" })).await;
    let id = l["data"]["id"].as_str().unwrap();
    let (status, e) = app.patch(&format!("{base}/{id}"), &p.api_key, json!({ "description": "x\u{0}y" })).await;
    assert_eq!(status, 422);
    field(&e, "description");
    let (status, e) = app.read(&format!("{base}?status=draft%00"), &p.api_key).await;
    assert_eq!(status, 422);
    field(&e, "status");
    for path in [format!("{base}/{id}%00"), format!("{base}/%00/seo"), format!("{base}/{id}/content/draft_%00/publish")]
    {
        let (status, e) = app.send(reqwest::Method::GET, &path, &p.api_key, None).await;
        assert_eq!((status, e["error"]["code"].clone()), (404, json!("NOT_FOUND")), "{path}: {e}");
    }
    let (status, _) = app
        .send(reqwest::Method::POST, &format!("{base}/{id}/content/draft_%00/publish"), &p.api_key, Some(json!({})))
        .await;
    assert_eq!(status, 404);
});

/// One integer read directly from the test database.
async fn scalar(url: &str, sql: &str) -> i64 {
    if let Some(path) = partnerd_store_sqlite::path_from_url(url) {
        let sql = sql.to_owned();
        return tokio::task::spawn_blocking(move || {
            rusqlite::Connection::open(path).unwrap().query_row(&sql, [], |r| r.get(0)).unwrap()
        })
        .await
        .unwrap();
    }
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.query_one(sql, &[]).await.unwrap().get(0)
}

/// `n` PATCHes of `path` at once, the i-th with `body(i)`: their statuses, and any 409's
/// `Retry-After` and code (which must be the documented ones).
async fn patch_in_parallel(app: &TestApp, key: &str, path: &str, n: usize, body: fn(usize) -> Value) -> usize {
    let requests = (0..n).map(|i| {
        let request = app.http.request(reqwest::Method::PATCH, app.url(path)).bearer_auth(key).json(&body(i));
        async move { request.send().await.unwrap() }
    });
    let mut succeeded = 0;
    for r in futures_util::future::join_all(requests).await {
        match r.status().as_u16() {
            200 => succeeded += 1,
            409 => {
                assert!(header(&r, "retry-after").parse::<u32>().is_ok(), "a 409 says when to retry");
                assert_eq!(json(r).await["error"]["code"], "CONFLICT");
            }
            other => panic!("{other}: {}", r.text().await.unwrap()),
        }
    }
    succeeded
}

on_both_backends!(parallel_edits_of_one_record_all_land, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let other = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let (_, l) = app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Start" })).await;
    let id = l["data"]["id"].as_str().unwrap().to_owned();
    // 160 at once, each a different change: none refused, none lost.
    let n = 160;
    let done = patch_in_parallel(
        &app,
        &p.api_key,
        &format!("/api/v1/partners/listings/{id}"),
        n,
        |i| json!({ "title": format!("Title number {i}") }),
    )
    .await;
    assert_eq!(done, n, "well-behaved clients never see contention at this concurrency");
    let version = scalar(&app.database_url, &format!("SELECT version FROM listings WHERE id = '{id}'")).await;
    assert_eq!(version, i64::try_from(done).unwrap() + 1);
    let updates = app.events(&id).await.into_iter().filter(|e| e.event_type == "listing.updated").count();
    assert_eq!(updates, done, "every write is one update");

    // The same for an opportunity, edited by both parties.
    let body = json!({ "customer_name": "Customer", "deal_value": 10, "partner_id": other.partner_id });
    let (_, o) = app.post("/api/v1/partners/cosell/opportunities", &p.api_key, body).await;
    let id = o["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/partners/cosell/opportunities/{id}");
    let (a, b) = tokio::join!(
        patch_in_parallel(&app, &p.api_key, &path, n / 2, |i| json!({ "notes": format!("owner note {i}") })),
        patch_in_parallel(&app, &other.api_key, &path, n / 2, |i| json!({ "notes": format!("partner note {i}") })),
    );
    assert_eq!(a + b, n);
    let version = scalar(&app.database_url, &format!("SELECT version FROM opportunities WHERE id = '{id}'")).await;
    assert_eq!(version, i64::try_from(a + b).unwrap() + 1);
});

on_both_backends!(parallel_edits_through_two_servers_are_retried_not_refused, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    // A second server on the same database: its writers do not take turns with the first's, so
    // the versions conflict and the store's answer is retried.
    let second = spawn_on(&app.database_url, app.clock.clone(), None).await;
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let (_, l) = app.post("/api/v1/partners/listings", &p.api_key, json!({ "title": "Start" })).await;
    let id = l["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/partners/listings/{id}");
    let n = 80;
    let (a, b) = tokio::join!(
        patch_in_parallel(&app, &p.api_key, &path, n, |i| json!({ "title": format!("First server {i}") })),
        patch_in_parallel(&second, &p.api_key, &path, n, |i| json!({ "title": format!("Second server {i}") })),
    );
    let version = scalar(&app.database_url, &format!("SELECT version FROM listings WHERE id = '{id}'")).await;
    assert_eq!(version, i64::try_from(a + b).unwrap() + 1, "every success is one write, no more, no less");
    assert_eq!(a + b, 2 * n, "retries outlast two servers' contention");
});
