//! Support tickets and partner metrics over real HTTP on both backends: the ticket lifecycle
//! with its history, refused moves, ratings only once resolved, filters and paging, 404 across
//! partners, 422 per field; and `GET /metrics` checked against the data that produced it.

use crate::common::*;
use crate::customers::{CUSTOMERS, acme, customer};
use chrono::Duration;
use partnerd_domain::Clock;
use partnerd_domain::invoice::InvoiceStatus;
use serde_json::{Value, json};

const TICKETS: &str = "/api/v1/partners/support/tickets";
const METRICS: &str = "/api/v1/partners/metrics";

fn new_ticket(customer_id: &str, subject: &str, priority: &str, category: &str) -> Value {
    json!({
        "customer_id": customer_id,
        "subject": subject,
        "description": "Customer experiencing webhook failures",
        "priority": priority,
        "category": category,
    })
}

/// Creates a ticket; its id.
async fn ticket(app: &TestApp, key: &str, body: Value) -> String {
    let (status, body) = app.post(TICKETS, key, body).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn patch(app: &TestApp, key: &str, id: &str, body: Value) -> (u16, Value) {
    app.patch(&format!("{TICKETS}/{id}"), key, body).await
}

async fn moved(app: &TestApp, key: &str, id: &str, status: &str) -> Value {
    let (code, body) = patch(app, key, id, json!({ "status": status })).await;
    assert_eq!(code, 200, "→ {status}: {body}");
    assert_eq!(body["data"]["status"], status);
    body["data"].clone()
}

async fn comment(app: &TestApp, key: &str, id: &str, body: Value) -> (u16, Value) {
    app.post(&format!("{TICKETS}/{id}/comments"), key, body).await
}

async fn rate(app: &TestApp, key: &str, id: &str, body: Value) -> (u16, Value) {
    app.put(&format!("{TICKETS}/{id}/rating"), key, body).await
}

fn detail(body: &Value, field: &str) -> String {
    body["error"]["details"][field].to_string()
}

on_both_backends!(the_ticket_lifecycle_and_its_history, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (status, body) = app
        .post(
            "/api/v1/partners/webhooks",
            &a.api_key,
            json!({ "url": r.url, "events": ["ticket.created", "ticket.updated"] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (cust, _) = customer(&app, &a.api_key, "professional").await;
    let created_at = app.clock.now();

    let (status, body) =
        app.post(TICKETS, &a.api_key, new_ticket(&cust, " Integration Issue ", "high", "technical")).await;
    assert_eq!(status, 201, "{body}");
    let t = &body["data"];
    let id = t["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ticket_"), "{id}");
    assert_eq!(
        (t["status"].clone(), t["priority"].clone(), t["category"].clone(), t["subject"].clone()),
        (json!("open"), json!("high"), json!("technical"), json!("Integration Issue"))
    );
    assert_eq!(
        (t["customer_id"].as_str(), t["customer_name"].as_str()),
        (Some(cust.as_str()), Some("Acme Corporation"))
    );
    assert_eq!(
        (t["first_response_at"].clone(), t["resolved_at"].clone(), t["satisfaction"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );
    assert!(t.get("history").is_none(), "writes answer without history");

    // A customer reply relayed by the partner is not a response; the partner's comment is.
    app.clock.advance(Duration::minutes(10));
    let (status, body) = comment(&app, &a.api_key, &id, json!({ "body": "Still failing", "author": "customer" })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["ticket"]["first_response_at"], Value::Null);
    app.clock.advance(Duration::minutes(20));
    let (status, body) = comment(&app, &a.api_key, &id, json!({ "body": "Looking into it" })).await;
    assert_eq!(status, 201, "{body}");
    let first_response = body["data"]["ticket"]["first_response_at"].clone();
    assert_eq!(first_response, json!((created_at + Duration::minutes(30)).format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    assert_eq!(body["data"]["ticket"]["comment_count"], 2);
    let comment_id = body["data"]["comment_id"].as_str().unwrap().to_owned();

    // The machine, with refusals naming the current status.
    for (to, current) in [("resolved", "open"), ("closed", "open"), ("waiting_on_customer", "open")] {
        let (status, body) = patch(&app, &a.api_key, &id, json!({ "status": to })).await;
        assert_eq!(status, 422, "{to}: {body}");
        assert!(detail(&body, "status").contains(&format!("from '{current}'")), "{body}");
    }
    let (status, body) = rate(&app, &a.api_key, &id, json!({ "rating": 5 })).await;
    assert_eq!(status, 422, "not resolved yet: {body}");
    assert!(detail(&body, "rating").contains("'open'"), "{body}");
    app.clock.advance(Duration::minutes(30));
    let t = moved(&app, &a.api_key, &id, "in_progress").await;
    assert_eq!(t["first_response_at"], first_response, "kept from the earlier comment");
    moved(&app, &a.api_key, &id, "waiting_on_customer").await;
    let (status, body) = patch(&app, &a.api_key, &id, json!({ "status": "resolved", "priority": "low" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(detail(&body, "status").contains("from 'waiting_on_customer'"), "{body}");
    let (_, now) = app.read(&format!("{TICKETS}/{id}"), &a.api_key).await;
    assert_eq!(now["data"]["priority"], "high", "a refused request changes nothing");
    moved(&app, &a.api_key, &id, "in_progress").await;
    app.clock.advance(Duration::hours(1));
    let t = moved(&app, &a.api_key, &id, "resolved").await;
    let resolved_at = (created_at + Duration::minutes(120)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(t["resolved_at"], resolved_at.as_str());

    // Ratings once resolved; a second replaces the first.
    for (bad, field) in [
        (json!({ "rating": 0 }), "rating"),
        (json!({ "rating": 6 }), "rating"),
        (json!({ "rating": "5" }), "rating"),
        (json!({}), "rating"),
        (json!({ "rating": 4, "comment": "x".repeat(2001) }), "comment"),
        (json!({ "rating": 4, "stars": 4 }), "stars"),
    ] {
        let (status, body) = rate(&app, &a.api_key, &id, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["error"]["details"].get(field).is_some(), "{bad}: {body}");
    }
    let (status, body) = rate(&app, &a.api_key, &id, json!({ "rating": 3 })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rate(&app, &a.api_key, &id, json!({ "rating": 4, "comment": "Fixed, thanks" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["satisfaction"]["rating"], 4);
    assert_eq!(body["data"]["satisfaction"]["comment"], "Fixed, thanks");

    // Reopen clears the resolution; resolve and close again; closed is final.
    let t = moved(&app, &a.api_key, &id, "open").await;
    assert_eq!(t["resolved_at"], Value::Null);
    assert_eq!(t["satisfaction"]["rating"], 4, "a rating stays through a reopen");
    moved(&app, &a.api_key, &id, "in_progress").await;
    moved(&app, &a.api_key, &id, "resolved").await;
    let t = moved(&app, &a.api_key, &id, "closed").await;
    assert!(t["closed_at"].is_string());
    for to in ["open", "in_progress", "resolved"] {
        let (status, body) = patch(&app, &a.api_key, &id, json!({ "status": to })).await;
        assert_eq!(status, 422, "{body}");
        assert!(detail(&body, "status").contains("'closed' is final"), "{body}");
    }
    let (status, body) = comment(&app, &a.api_key, &id, json!({ "body": "one more thing" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(detail(&body, "body").contains("closed"), "{body}");
    let (status, _) = rate(&app, &a.api_key, &id, json!({ "rating": 5 })).await;
    assert_eq!(status, 200, "a closed ticket may still be rated");
    // Priority changes alone.
    let (status, body) = patch(&app, &a.api_key, &id, json!({ "priority": "urgent" })).await;
    assert_eq!((status, body["data"]["priority"].clone()), (200, json!("urgent")), "{body}");

    // The history, from the event log.
    let (status, body) = app.read(&format!("{TICKETS}/{id}"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let history = body["data"]["history"].as_array().unwrap();
    let kinds: Vec<&str> = history.iter().map(|h| h["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "comment_added",
            "comment_added",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "rated",
            "rated",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "rated",
            "priority_changed",
        ]
    );
    assert!(history.iter().all(|h| h["actor"] == "admin@reseller.com"), "{history:?}");
    assert_eq!(history[1]["author"], "customer");
    assert_eq!(
        (history[2]["comment_id"].as_str(), history[2]["body"].as_str()),
        (Some(comment_id.as_str()), Some("Looking into it"))
    );
    assert_eq!((history[3]["from"].clone(), history[3]["to"].clone()), (json!("open"), json!("in_progress")));
    assert_eq!(
        (history[9]["from"].clone(), history[9]["to"].clone()),
        (json!("resolved"), json!("open")),
        "the reopen"
    );
    assert_eq!(
        (history[8]["rating"].clone(), history[8]["rating_comment"].clone()),
        (json!(4), json!("Fixed, thanks"))
    );
    assert_eq!((history[14]["from"].clone(), history[14]["to"].clone()), (json!("high"), json!("urgent")));

    // Webhooks: ticket.created and one ticket.updated per status or priority change.
    let received = r.wait_for(1 + 9).await;
    let types: Vec<String> = received.iter().map(|d| d.json()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types.iter().filter(|t| *t == "ticket.created").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| *t == "ticket.updated").count(), 9, "{types:?}");
    let created = received.iter().map(|d| d.json()).find(|b| b["type"] == "ticket.created").unwrap();
    assert_eq!(created["data"]["ticket_id"], id.as_str());
    assert_eq!(created["data"]["priority"], "high");
});

on_both_backends!(tickets_refuse_bad_input_naming_the_field, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let (mine, _) = customer(&app, &a.api_key, "starter").await;
    let (theirs, _) = customer(&app, &b.api_key, "starter").await;
    let long = "x".repeat(201);
    for (body, field) in [
        (json!({ "subject": "s", "description": "d" }), "customer_id"),
        (new_ticket(&theirs, "s", "low", "other"), "customer_id"),
        (new_ticket("company_00000000000000000000", "s", "low", "other"), "customer_id"),
        (json!({ "customer_id": mine, "description": "d" }), "subject"),
        (json!({ "customer_id": mine, "subject": "   ", "description": "d" }), "subject"),
        (new_ticket(&mine, &long, "low", "other"), "subject"),
        (json!({ "customer_id": mine, "subject": "s" }), "description"),
        (new_ticket(&mine, "s", "critical", "other"), "priority"),
        (new_ticket(&mine, "s", "low", "sales"), "category"),
        (json!({ "customer_id": mine, "subject": 5, "description": "d" }), "subject"),
        (json!({ "customer_id": mine, "subject": "s", "description": "d", "severity": 1 }), "severity"),
    ] {
        let (status, resp) = app.post(TICKETS, &a.api_key, body.clone()).await;
        assert_eq!(status, 422, "{body}: {resp}");
        assert_eq!(resp["error"]["code"], "VALIDATION_ERROR");
        assert!(resp["error"]["details"].get(field).is_some(), "{body}: {resp}");
    }
    // Another partner's customer reads like a missing one.
    let (_, r1) = app.post(TICKETS, &a.api_key, new_ticket(&theirs, "s", "low", "other")).await;
    assert!(r1["error"]["details"]["customer_id"][0].as_str().unwrap().contains("no customer account"), "{r1}");
    // Defaults.
    let (status, body) =
        app.post(TICKETS, &a.api_key, json!({ "customer_id": mine, "subject": "s", "description": "d" })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["data"]["priority"].clone(), body["data"]["category"].clone()), (json!("medium"), json!("other")));
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    for (body, field) in [
        (json!({ "status": "done" }), "status"),
        (json!({ "priority": "asap" }), "priority"),
        (json!({ "subject_line": "x" }), "subject_line"),
    ] {
        let (status, resp) = patch(&app, &a.api_key, &id, body.clone()).await;
        assert_eq!(status, 422, "{body}: {resp}");
        assert!(resp["error"]["details"].get(field).is_some(), "{body}: {resp}");
    }
    for (body, field) in
        [(json!({}), "body"), (json!({ "body": " " }), "body"), (json!({ "body": "b", "author": "bot" }), "author")]
    {
        let (status, resp) = comment(&app, &a.api_key, &id, body.clone()).await;
        assert_eq!(status, 422, "{body}: {resp}");
        assert!(resp["error"]["details"].get(field).is_some(), "{body}: {resp}");
    }
    // Echoing a GET back in a PATCH is fine.
    let (_, got) = app.read(&format!("{TICKETS}/{id}"), &a.api_key).await;
    let mut echo = got["data"].clone();
    echo["status"] = json!("in_progress");
    let (status, body) = patch(&app, &a.api_key, &id, echo).await;
    assert_eq!((status, body["data"]["status"].clone()), (200, json!("in_progress")), "{body}");
});

on_both_backends!(ticket_lists_filter_and_page_and_tickets_are_private, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let (c1, _) = customer(&app, &a.api_key, "starter").await;
    let (c2, _) = customer(&app, &a.api_key, "starter").await;
    let (cb, _) = customer(&app, &b.api_key, "starter").await;
    let mut ids = Vec::new();
    for (i, (cust, priority, category)) in [
        (&c1, "low", "billing"),
        (&c2, "urgent", "technical"),
        (&c1, "urgent", "account"),
        (&c2, "low", "billing"),
        (&c1, "high", "other"),
    ]
    .into_iter()
    .enumerate()
    {
        app.clock.advance(Duration::minutes(1));
        ids.push(ticket(&app, &a.api_key, new_ticket(cust, &format!("t{i}"), priority, category)).await);
    }
    moved(&app, &a.api_key, &ids[1], "in_progress").await;
    let theirs = ticket(&app, &b.api_key, new_ticket(&cb, "theirs", "low", "other")).await;

    let page = |q: &str| {
        let q = q.to_owned();
        let (app, key) = (&app, a.api_key.clone());
        async move {
            let (status, body) = app.read(&format!("{TICKETS}?{q}"), &key).await;
            assert_eq!(status, 200, "{q}: {body}");
            let got: Vec<String> =
                body["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect();
            (got, body["meta"].clone())
        }
    };
    let (all, meta) = page("").await;
    assert_eq!(all, ids.iter().rev().cloned().collect::<Vec<_>>(), "newest first, not the other partner's");
    assert_eq!(meta, json!({ "limit": 20, "offset": 0, "total": 5, "next_cursor": null }));
    let (two, meta) = page("limit=2&offset=1").await;
    assert_eq!(
        (two, cursor_masked(&meta)),
        (vec![ids[3].clone(), ids[2].clone()], json!({ "limit": 2, "offset": 1, "total": 5, "next_cursor": "CURSOR" }))
    );
    assert_eq!(page("priority=urgent").await.0, [ids[2].clone(), ids[1].clone()]);
    assert_eq!(page("status=in_progress").await.0, [ids[1].clone()]);
    assert_eq!(page("status=open&priority=urgent").await.0, [ids[2].clone()]);
    assert_eq!(page("category=billing").await.0, [ids[3].clone(), ids[0].clone()]);
    assert_eq!(page(&format!("customer_id={c1}&category=billing")).await.0, [ids[0].clone()]);
    let (none, meta) = page(&format!("customer_id={cb}")).await;
    assert_eq!((none.len(), meta["total"].clone()), (0, json!(0)), "another partner's customer matches nothing");
    for (q, field) in [
        ("status=pending", "status"),
        ("priority=p1", "priority"),
        ("category=x", "category"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
    ] {
        let (status, body) = app.read(&format!("{TICKETS}?{q}"), &a.api_key).await;
        assert_eq!(status, 422, "{q}: {body}");
        assert!(body["error"]["details"].get(field).is_some(), "{q}: {body}");
    }

    // Another partner's ticket is 404 for every operation; so is garbage.
    for (method, path, body) in [
        ("GET", format!("{TICKETS}/{theirs}"), None),
        ("PATCH", format!("{TICKETS}/{theirs}"), Some(json!({ "status": "in_progress" }))),
        ("POST", format!("{TICKETS}/{theirs}/comments"), Some(json!({ "body": "hi" }))),
        ("PUT", format!("{TICKETS}/{theirs}/rating"), Some(json!({ "rating": 5 }))),
        ("GET", format!("{TICKETS}/ticket_nope"), None),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, resp) = app.send(m, &path, &a.api_key, body).await;
        assert_eq!(status, 404, "{method} {path}: {resp}");
        assert_eq!(resp["error"]["code"], "NOT_FOUND");
    }
    let (status, body) = app.read(&format!("{TICKETS}/{theirs}"), &b.api_key).await;
    assert_eq!((status, body["data"]["status"].clone()), (200, json!("open")), "untouched: {body}");
});

on_both_backends!(metrics_figures_match_the_data, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let m = app.marketplace_id();
    let billing = app.server.services.billing();

    // Day 0: A (starter, monthly 49) and B (professional, monthly 149). The other partner's
    // customer and ticket must not count.
    let (ca, inv_a) = customer(&app, &a.api_key, "starter").await;
    let (cb, _) = customer(&app, &a.api_key, "professional").await;
    let (other, _) = customer(&app, &b.api_key, "enterprise").await;
    ticket(&app, &b.api_key, new_ticket(&other, "not mine", "low", "other")).await;
    // Day 10: C (enterprise, annual 4990), B cancelled, A's invoice paid.
    app.clock.advance(Duration::days(10));
    let mut annual = acme("enterprise");
    annual["billing_cycle"] = json!("annual");
    let (status, body) = app.post(CUSTOMERS, &a.api_key, annual).await;
    assert_eq!(status, 201, "{body}");
    let cc = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = app.put(&format!("{CUSTOMERS}/{cb}"), &a.api_key, json!({ "status": "cancelled" })).await;
    assert_eq!(status, 200, "{body}");
    billing.mark_invoice(&m, &inv_a, InvoiceStatus::Paid).await.unwrap();

    // Ticket 1 (A): partner comment after 30 min, in progress at 90 min, resolved at 3 h, rated 4.
    let t1 = ticket(&app, &a.api_key, new_ticket(&ca, "t1", "high", "technical")).await;
    app.clock.advance(Duration::minutes(30));
    assert_eq!(comment(&app, &a.api_key, &t1, json!({ "body": "On it" })).await.0, 201);
    app.clock.advance(Duration::minutes(60));
    moved(&app, &a.api_key, &t1, "in_progress").await;
    app.clock.advance(Duration::minutes(90));
    moved(&app, &a.api_key, &t1, "resolved").await;
    assert_eq!(rate(&app, &a.api_key, &t1, json!({ "rating": 4 })).await.0, 200);
    // Ticket 2 (C): in progress after 10 min, resolved after 1 h, rated 5.
    let t2 = ticket(&app, &a.api_key, new_ticket(&cc, "t2", "low", "billing")).await;
    app.clock.advance(Duration::minutes(10));
    moved(&app, &a.api_key, &t2, "in_progress").await;
    app.clock.advance(Duration::minutes(50));
    moved(&app, &a.api_key, &t2, "resolved").await;
    assert_eq!(rate(&app, &a.api_key, &t2, json!({ "rating": 5, "comment": "great" })).await.0, 200);
    // Ticket 3 (A): open, unanswered.
    ticket(&app, &a.api_key, new_ticket(&ca, "t3", "urgent", "account")).await;
    // The window ends now, exclusive (as the analytics summary's): read a minute later.
    app.clock.advance(Duration::minutes(1));

    let (status, body) = app.read(&format!("{METRICS}?period=7d"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    let now = app.clock.now();
    assert_eq!(d["period"], "7d");
    assert_eq!(d["window"]["end"], now.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    assert_eq!(d["customers"], json!({ "total": 3, "by_status": { "active": 2, "suspended": 0, "cancelled": 1 } }));
    // Invoiced in the window: C's 4990 (A's and B's were issued on day 0). Collected: A's 49,
    // marked paid in the window. Outstanding: B's 149 and C's 4990. MRR: A 49 + C 4990 / 12
    // (415.833… → 415.83) = 464.83.
    assert_eq!(
        d["revenue"],
        json!({ "currency": "USD", "invoiced": 4990, "collected": 49, "outstanding": 5139, "mrr": 464.83 })
    );
    // New: C against A and B in the previous week (−50 %). Churned: B against none (null).
    // At the start A and B (churn 1 / 2 = 50 %); MRR then 49 + 149 = 198 → +266.83 (+134.76 %).
    assert_eq!(
        d["growth"],
        json!({
            "new_customers": { "current": 1, "previous": 2, "change": -1, "change_percent": -50 },
            "churned_customers": { "current": 1, "previous": 0, "change": 1, "change_percent": null },
            "churn_rate_percent": 50,
            "mrr": { "current": 464.83, "previous": 198, "change": 266.83, "change_percent": 134.76 },
        })
    );
    assert_eq!(
        d["customer_satisfaction"],
        json!({ "ratings": 2, "average_rating": 4.5, "distribution": { "1": 0, "2": 0, "3": 0, "4": 1, "5": 1 } })
    );
    // First responses: 1800 s (the comment) and 600 s: median 1200. Resolutions: 3 h and 1 h:
    // median 2 h.
    assert_eq!(
        d["support_tickets"],
        json!({
            "open": 1, "resolved": 2, "created": 3,
            "by_status": { "open": 1, "in_progress": 0, "waiting_on_customer": 0, "resolved": 2, "closed": 0 },
            "median_first_response_seconds": 1200, "median_resolution_seconds": 7200,
        })
    );

    // 30 days: everything is new; a zero base gives null percentages.
    let (_, body) = app.read(&format!("{METRICS}?period=30d"), &a.api_key).await;
    let g = &body["data"]["growth"];
    assert_eq!(g["new_customers"], json!({ "current": 3, "previous": 0, "change": 3, "change_percent": null }));
    assert_eq!(
        (g["churn_rate_percent"].clone(), g["mrr"]["previous"].clone(), g["mrr"]["change_percent"].clone()),
        (Value::Null, json!(0), Value::Null)
    );
    assert_eq!(body["data"]["revenue"]["invoiced"], 49 + 149 + 4990);
    // The default period is 30d; a bad one is 422 naming it.
    let (_, default) = app.read(METRICS, &a.api_key).await;
    assert_eq!(default["data"]["period"], "30d");
    let (status, body) = app.read(&format!("{METRICS}?period=2w"), &a.api_key).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["period"][0].as_str().unwrap().contains("7d, 30d, 90d, 1y"), "{body}");

    // A week later nothing happened in the window: zeros and nulls, never missing.
    app.clock.advance(Duration::days(8));
    let (_, body) = app.read(&format!("{METRICS}?period=7d"), &a.api_key).await;
    let s = &body["data"]["support_tickets"];
    assert_eq!(
        (s["open"].clone(), s["resolved"].clone(), s["median_resolution_seconds"].clone()),
        (json!(1), json!(0), Value::Null)
    );
    assert_eq!(body["data"]["customer_satisfaction"]["average_rating"], Value::Null);

    // The other partner sees its own figures only.
    let (_, theirs) = app.read(METRICS, &b.api_key).await;
    assert_eq!(theirs["data"]["customers"]["total"], 1);
    assert_eq!(theirs["data"]["support_tickets"]["created"], 1);
    assert_eq!(theirs["data"]["revenue"]["mrr"], 499);
});
