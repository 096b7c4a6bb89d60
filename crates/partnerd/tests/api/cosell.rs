//! Co-sell opportunities over HTTP on both backends: create, list and filters, updates through
//! the status machine, visibility to both partners only, and the timeline.

use crate::common::*;
use chrono::Duration;
use serde_json::{Value, json};

const OPPS: &str = "/api/v1/partners/cosell/opportunities";

async fn create(app: &TestApp, key: &str, partner_id: &str, value: Value) -> Value {
    let body = json!({
        "customer_name": "New Customer Inc",
        "deal_value": value,
        "partner_id": partner_id,
        "description": "Joint implementation project",
        "expected_close_date": "2025-03-15"
    });
    let (status, created) = app.post(OPPS, key, body).await;
    assert_eq!(status, 201, "{created}");
    created["data"].clone()
}

on_both_backends!(create_and_read_with_the_documented_shape, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let partner = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let o = create(&app, &acme.api_key, &partner.partner_id, json!(75000)).await;
    assert!(o["id"].as_str().unwrap().starts_with("opp_"));
    assert_eq!(o["customer_name"], "New Customer Inc");
    assert_eq!(o["deal_value"], json!(75000));
    assert_eq!(o["status"], "open");
    assert_eq!(o["partner"], json!({ "id": partner.partner_id, "company_name": "Partner Inc" }));
    assert_eq!(o["expected_close_date"], "2025-03-15");
    assert_eq!(o["created_at"], "2025-01-15T10:30:00Z");

    // The co-sell partner sees the same deal, with the owner as its `partner`.
    let (status, seen) = app.read(&format!("{OPPS}/{}", o["id"].as_str().unwrap()), &partner.api_key).await;
    assert_eq!(status, 200);
    assert_eq!(seen["data"]["partner"], json!({ "id": acme.partner_id, "company_name": "Acme Corp" }));
    assert_eq!(seen["data"]["deal_value"], json!(75000));

    let cents = create(&app, &acme.api_key, &partner.partner_id, json!("1234.50")).await;
    assert_eq!(cents["deal_value"], json!(1234.5));
});

on_both_backends!(invalid_requests_name_each_field, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let bad = json!({ "customer_name": "", "deal_value": -5, "partner_id": acme.partner_id, "expected_close_date": "15/03/2025" });
    let (status, body) = app.post(OPPS, &acme.api_key, bad).await;
    assert_eq!(status, 422);
    let details = body["error"]["details"].as_object().unwrap();
    for field in ["customer_name", "deal_value", "partner_id", "expected_close_date"] {
        assert!(details.contains_key(field), "{field}: {body}");
    }
    assert!(details["partner_id"][0].as_str().unwrap().contains("yourself"));
    let (_, body) = app
        .post(
            OPPS,
            &acme.api_key,
            json!({ "customer_name": "X", "deal_value": 10.555, "partner_id": "partner_nobody" }),
        )
        .await;
    assert!(body["error"]["details"]["deal_value"][0].as_str().unwrap().contains("two decimals"));
    assert!(body["error"]["details"]["partner_id"][0].as_str().unwrap().contains("no partner"));
    let (_, body) = app
        .post(
            OPPS,
            &acme.api_key,
            json!({ "customer_name": "X", "deal_value": "lots", "partner_id": "p", "budget": 1 }),
        )
        .await;
    assert!(body["error"]["details"].get("budget").is_some(), "{body}");
    let (_, list) = app.read(OPPS, &acme.api_key).await;
    assert_eq!(list["meta"]["total"], 0);
});

on_both_backends!(both_partners_see_it_and_a_third_gets_404, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let c = app.partner("Third Ltd", "admin@third.com", "business").await;
    let o = create(&app, &a.api_key, &b.partner_id, json!(50000)).await;
    let path = format!("{OPPS}/{}", o["id"].as_str().unwrap());
    for key in [&a.api_key, &b.api_key] {
        assert_eq!(app.read(&path, key).await.0, 200);
        assert_eq!(app.read(OPPS, key).await.1["meta"]["total"], 1);
    }
    for (method, suffix, body) in
        [("GET", "", None), ("PATCH", "", Some(json!({ "notes": "x" }))), ("GET", "/timeline", None)]
    {
        let (status, body) = app
            .send(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &format!("{path}{suffix}"), &c.api_key, body)
            .await;
        assert_eq!((status, body["error"]["code"].clone()), (404, json!("NOT_FOUND")), "{method} {suffix}");
    }
    assert_eq!(app.read(OPPS, &c.api_key).await.1["meta"]["total"], 0);
    assert_eq!(app.read(&format!("{OPPS}/opp_doesnotexist"), &a.api_key).await.0, 404);
});

on_both_backends!(list_filters_by_status_partner_and_date, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let c = app.partner("Third Ltd", "admin@third.com", "business").await;
    let mut ids = Vec::new();
    for (i, other) in [&b, &c, &b].iter().enumerate() {
        app.clock.advance(Duration::days(1));
        let o = create(&app, &a.api_key, &other.partner_id, json!(1000 * (i + 1))).await;
        ids.push(o["id"].as_str().unwrap().to_owned());
    }
    // c shares one with a too: a sees it under partner c.
    app.clock.advance(Duration::days(1));
    create(&app, &c.api_key, &a.partner_id, json!(9)).await;
    app.patch(&format!("{OPPS}/{}", ids[0]), &a.api_key, json!({ "status": "in_progress" })).await;

    let (_, all) = app.read(OPPS, &a.api_key).await;
    assert_eq!(all["meta"], json!({ "page": 1, "per_page": 20, "total": 4, "next_cursor": null }));
    assert_eq!(all["data"][3]["id"], ids[0].as_str(), "newest first");
    let (_, with_b) = app.read(&format!("{OPPS}?partner_id={}", b.partner_id), &a.api_key).await;
    assert_eq!(with_b["meta"]["total"], 2);
    assert!(with_b["data"].as_array().unwrap().iter().all(|o| o["partner"]["id"] == b.partner_id.as_str()));
    let (_, with_c) = app.read(&format!("{OPPS}?partner_id={}", c.partner_id), &a.api_key).await;
    assert_eq!(with_c["meta"]["total"], 2, "one a shared with c, one c shared with a");
    let (_, in_progress) = app.read(&format!("{OPPS}?status=in_progress"), &a.api_key).await;
    assert_eq!((in_progress["meta"]["total"].clone(), in_progress["data"][0]["id"].clone()), (json!(1), json!(ids[0])));
    let (_, recent) = app.read(&format!("{OPPS}?created_after=2025-01-17T12:00:00Z"), &a.api_key).await;
    assert_eq!(recent["meta"]["total"], 2);
    let (_, by_date) = app.read(&format!("{OPPS}?created_after=2025-01-17"), &a.api_key).await;
    assert_eq!(by_date["meta"]["total"], 3, "a date means its midnight UTC: the deal of the 17th at 10:30 counts");
    let (_, paged) = app.read(&format!("{OPPS}?per_page=3&page=2"), &a.api_key).await;
    assert_eq!(paged["data"].as_array().unwrap().len(), 1);
    for bad in ["status=closed", "created_after=yesterday", "per_page=500"] {
        let (status, body) = app.read(&format!("{OPPS}?{bad}"), &a.api_key).await;
        assert_eq!(status, 422, "{bad}");
        assert!(body["error"]["details"].get(bad.split('=').next().unwrap()).is_some());
    }
});

/// Asks for a status change that must be refused; returns the reason given for `status`.
async fn refused(app: &TestApp, path: String, to: &str, key: String) -> String {
    let (status, body) = app.patch(&path, &key, json!({ "status": to })).await;
    assert_eq!(status, 422, "{to}: {body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    body["error"]["details"]["status"][0].as_str().unwrap().to_owned()
}

on_both_backends!(status_follows_the_state_machine, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    // open → in_progress → won; then final. (open → won and open → lost: the next tests.)
    let o = create(&app, &a.api_key, &b.partner_id, json!(50000)).await;
    let path = format!("{OPPS}/{}", o["id"].as_str().unwrap());
    assert_eq!(
        app.patch(&path, &b.api_key, json!({ "status": "in_progress" })).await.1["data"]["status"],
        "in_progress",
        "either party may move it"
    );
    assert!(refused(&app, path.clone(), "open", a.api_key.clone()).await.ends_with("allowed: won, lost"));
    let (status, won) = app
        .patch(&path, &a.api_key, json!({ "status": "won", "deal_value": 80000, "notes": "Deal closed successfully" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!((won["data"]["status"].clone(), won["data"]["deal_value"].clone()), (json!("won"), json!(80000)));
    assert_eq!(won["data"]["notes"], "Deal closed successfully");
    for to in ["open", "in_progress", "lost"] {
        assert!(refused(&app, path.clone(), to, a.api_key.clone()).await.contains("is final"));
    }
    // in_progress → lost is the other way out.
    let o = create(&app, &a.api_key, &b.partner_id, json!(10)).await;
    let path = format!("{OPPS}/{}", o["id"].as_str().unwrap());
    app.patch(&path, &a.api_key, json!({ "status": "in_progress" })).await;
    assert_eq!(app.patch(&path, &a.api_key, json!({ "status": "lost" })).await.1["data"]["status"], "lost");
    assert!(refused(&app, path.clone(), "won", a.api_key.clone()).await.contains("is final"));
    // Nothing about a refused request lands: the value is unchanged.
    let (_, body) = app.patch(&path, &a.api_key, json!({ "status": "won", "deal_value": 99 })).await;
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(app.read(&path, &a.api_key).await.1["data"]["deal_value"], json!(10));
    let (status, body) = app.patch(&path, &a.api_key, json!({ "partner_id": a.partner_id })).await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["partner_id"][0].as_str().unwrap().contains("cannot be changed"));
});

on_both_backends!(the_documents_example_closes_an_open_deal, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "user@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let o = create(&app, &a.api_key, &b.partner_id, json!(75000)).await;
    let id = o["id"].as_str().unwrap().to_owned();
    let path = format!("{OPPS}/{id}");
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2025-01-20T14:30:00Z").unwrap().into());
    // Word for word the document's request, on an `open` opportunity.
    let (status, won) = app
        .patch(&path, &a.api_key, json!({ "status": "won", "deal_value": 80000, "notes": "Deal closed successfully" }))
        .await;
    assert_eq!(status, 200, "{won}");
    assert_eq!((won["data"]["status"].clone(), won["data"]["deal_value"].clone()), (json!("won"), json!(80000)));
    assert_eq!(won["data"]["notes"], "Deal closed successfully");
    for to in ["open", "in_progress", "lost"] {
        assert!(refused(&app, path.clone(), to, b.api_key.clone()).await.contains("is final"));
    }
    let (_, timeline) = app.read(&format!("{path}/timeline"), &b.api_key).await;
    assert_eq!(
        timeline["data"]["events"],
        json!([
            { "type": "created", "timestamp": "2025-01-15T10:30:00Z", "actor": "user@acme.com" },
            { "type": "status_changed", "from": "open", "to": "won", "timestamp": "2025-01-20T14:30:00Z", "actor": "user@acme.com" },
            { "type": "value_changed", "from": 75000, "to": 80000, "timestamp": "2025-01-20T14:30:00Z", "actor": "user@acme.com" },
            { "type": "note_added", "note": "Deal closed successfully", "timestamp": "2025-01-20T14:30:00Z", "actor": "user@acme.com" },
        ])
    );

    // open → lost, by the co-sell partner; lost is final too.
    let o = create(&app, &a.api_key, &b.partner_id, json!(10)).await;
    let path = format!("{OPPS}/{}", o["id"].as_str().unwrap());
    let (status, lost) = app.patch(&path, &b.api_key, json!({ "status": "lost" })).await;
    assert_eq!((status, lost["data"]["status"].clone()), (200, json!("lost")));
    assert!(refused(&app, path.clone(), "won", a.api_key.clone()).await.contains("is final"));
    let (_, timeline) = app.read(&format!("{path}/timeline"), &a.api_key).await;
    let moves: Vec<&Value> =
        timeline["data"]["events"].as_array().unwrap().iter().filter(|e| e["type"] == "status_changed").collect();
    assert_eq!(moves.len(), 1, "{timeline}");
    assert_eq!((moves[0]["from"].clone(), moves[0]["to"].clone()), (json!("open"), json!("lost")));
});

on_both_backends!(the_timeline_is_built_from_the_event_log, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "user@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let o = create(&app, &a.api_key, &b.partner_id, json!(50000)).await;
    let id = o["id"].as_str().unwrap().to_owned();
    let path = format!("{OPPS}/{id}");
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2025-01-18T14:30:00Z").unwrap().into());
    app.patch(&path, &b.api_key, json!({ "status": "in_progress" })).await;
    app.clock.advance(Duration::days(1));
    app.patch(&path, &a.api_key, json!({ "deal_value": 80000, "notes": "Scope grew" })).await;
    app.clock.advance(Duration::days(1));
    app.patch(&path, &a.api_key, json!({ "status": "won" })).await;
    // A no-op adds nothing.
    app.patch(&path, &a.api_key, json!({ "status": "won" })).await;

    let (status, body) = app.read(&format!("{path}/timeline"), &b.api_key).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["events"],
        json!([
            { "type": "created", "timestamp": "2025-01-15T10:30:00Z", "actor": "user@acme.com" },
            { "type": "status_changed", "from": "open", "to": "in_progress", "timestamp": "2025-01-18T14:30:00Z", "actor": "admin@partner.com" },
            { "type": "value_changed", "from": 50000, "to": 80000, "timestamp": "2025-01-19T14:30:00Z", "actor": "user@acme.com" },
            { "type": "note_added", "note": "Scope grew", "timestamp": "2025-01-19T14:30:00Z", "actor": "user@acme.com" },
            { "type": "status_changed", "from": "in_progress", "to": "won", "timestamp": "2025-01-20T14:30:00Z", "actor": "user@acme.com" },
        ])
    );
    let kinds: Vec<String> = app.events(&id).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        vec!["opportunity.created", "opportunity.status_changed", "opportunity.updated", "opportunity.status_changed"]
    );
    let events = app.events(&id).await;
    assert_eq!(events[1].payload, json!({ "opportunity_id": id, "from": "open", "to": "in_progress" }));
    assert_eq!(events[2].payload["changes"]["deal_value"], json!({ "old": 50000, "new": 80000 }));
    assert!(events.iter().all(|e| e.partner_id.as_deref() == Some(a.partner_id.as_str())
        && e.related_partner_id.as_deref() == Some(b.partner_id.as_str())));
});

on_both_backends!(control_characters_are_refused_everywhere_alike, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let refusal = |body: &Value, field: &str| {
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
        let problem = body["error"]["details"][field][0].as_str().unwrap_or_else(|| panic!("{field}: {body}"));
        assert!(problem.starts_with("must not contain control characters"), "{body}");
    };
    // A body field (the NUL), and other controls, on create and update.
    for text in ["nul\u{0}byte", "bell\u{7}", "esc\u{1b}[31m", "del\u{7f}", "nel\u{85}"] {
        let body = json!({ "customer_name": text, "deal_value": 10, "partner_id": b.partner_id });
        let (status, e) = app.post(OPPS, &a.api_key, body).await;
        assert_eq!(status, 422, "{text:?}: {e}");
        refusal(&e, "customer_name");
    }
    assert_eq!(app.read(OPPS, &a.api_key).await.1["meta"]["total"], 0, "nothing was stored");
    let o = create(&app, &a.api_key, &b.partner_id, json!(10)).await;
    let path = format!("{OPPS}/{}", o["id"].as_str().unwrap());
    let (status, e) = app.patch(&path, &a.api_key, json!({ "notes": "fine\n\tline\r\nand a NUL \u{0}" })).await;
    assert_eq!(status, 422);
    refusal(&e, "notes");
    // Tab, line feed and carriage return are text.
    let (status, ok) = app.patch(&path, &a.api_key, json!({ "notes": "line one\r\n\tline two" })).await;
    assert_eq!((status, ok["data"]["notes"].clone()), (200, json!("line one\r\n\tline two")));

    // A query parameter: the issue's `?partner_id=a%00b`.
    for query in ["partner_id=a%00b", "status=open%01", "created_after=2025-01-01%7F"] {
        let (status, e) = app.read(&format!("{OPPS}?{query}"), &a.api_key).await;
        assert_eq!(status, 422, "{query}: {e}");
        refusal(&e, query.split('=').next().unwrap());
    }
    // A path parameter: no resource is named so.
    for bad in ["opp%00x", "a%00b", &format!("{}%00", o["id"].as_str().unwrap())] {
        for sub in ["", "/timeline"] {
            let (status, e) = app.read(&format!("{OPPS}/{bad}{sub}"), &a.api_key).await;
            assert_eq!((status, e["error"]["code"].clone()), (404, json!("NOT_FOUND")), "{bad}{sub}: {e}");
        }
        let (status, _) = app.patch(&format!("{OPPS}/{bad}"), &a.api_key, json!({ "notes": "x" })).await;
        assert_eq!(status, 404);
    }
    // Without a key, the path's problem is not the first one reported.
    assert_eq!(app.read(&format!("{OPPS}/a%00b"), "nope").await.0, 401);
});
