//! Sandboxes over real HTTP on both backends: creation with demo data and a key shown once,
//! the key on the partners and AppReseller surfaces seeing only the sandbox, isolation in both
//! directions, list/get/delete, deletion and expiry (manual clock) ending the key and the
//! data, another partner's sandbox 404, bad input 422, a sandbox key refused creating one.

use crate::common::*;
use crate::customers::customer;
use chrono::Duration;
use partnerd_domain::Clock;
use serde_json::{Value, json};

const SANDBOX: &str = "/api/v1/partners/sandbox";
const AR: &str = "/api/appReseller/v1";

async fn create(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, body) = app.post(SANDBOX, key, body).await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

fn ids(list: &Value) -> Vec<String> {
    let items = list.as_array().or_else(|| list["content"].as_array()).expect("a list");
    let mut v: Vec<String> = items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

on_both_backends!(a_sandbox_is_seeded_isolated_listed_and_deleted, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (prod_customer, _) = customer(&app, &a.api_key, "professional").await;

    let sb = create(&app, &a.api_key, json!({ "name": "  Demo for Contoso ", "expires_in_days": 3 })).await;
    let id = sb["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sbx_"), "{id}");
    assert_eq!(sb["name"], "Demo for Contoso");
    assert_eq!(sb["status"], "active");
    assert_eq!(sb["created_at"], "2025-01-15T10:30:00Z");
    assert_eq!(sb["expires_at"], "2025-01-18T10:30:00Z");
    assert_eq!(
        sb["demo_data"],
        json!({ "customers": 3, "invoices": 3, "listings": 2, "opportunities": 2, "tickets": 2 })
    );
    let key = sb["api_key"].as_str().unwrap().to_owned();
    let sandbox_partner = sb["partner_id"].as_str().unwrap().to_owned();
    assert_ne!(sandbox_partner, a.partner_id);

    // The key is shown once: reads never carry it.
    let (status, got) = app.read(&format!("{SANDBOX}/{id}"), &a.api_key).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["data"].get("api_key").is_none(), "{got}");
    assert_eq!(got["data"]["partner_id"], json!(sandbox_partner));
    let (status, list) = app.read(SANDBOX, &a.api_key).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list["data"]), vec![id.clone()]);
    assert!(!list.to_string().contains(&key));

    // The sandbox key works on the partners surface, as the demo partner, on demo data only.
    let (status, me) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["id"], json!(sandbox_partner));
    let (status, customers) = app.read("/api/v1/partners/customers", &key).await;
    assert_eq!(status, 200, "{customers}");
    let sandbox_customers = ids(&customers["data"]);
    assert_eq!(sandbox_customers.len(), 3, "{customers}");
    assert!(!sandbox_customers.contains(&prod_customer));
    for path in [
        "/api/v1/partners/listings",
        "/api/v1/partners/cosell/opportunities",
        "/api/v1/partners/support/tickets",
        "/api/v1/partners/invoices",
    ] {
        let (status, body) = app.read(path, &key).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            body["data"].as_array().map(Vec::len),
            Some(if path.ends_with("invoices") { 3 } else { 2 }),
            "{path}: {body}"
        );
    }
    // With X-Partner-ID of its own partner too.
    let r = app
        .http
        .get(app.url("/api/v1/partners/profile"))
        .bearer_auth(&key)
        .header("x-partner-id", sandbox_partner.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // And on the AppReseller surface: the sandbox's customer companies, none of production's.
    let (status, companies) = app.read(&format!("{AR}/companies?context=RESELLER"), &key).await;
    assert_eq!(status, 200, "{companies}");
    assert_eq!(ids(&companies), sandbox_customers);
    let (status, _) = app.read(&format!("{AR}/companies/{prod_customer}?context=RESELLER"), &key).await;
    assert_eq!(status, 404);

    // Isolation both ways: neither key reads the other side's records.
    let sandbox_customer = &sandbox_customers[0];
    let (status, _) = app.read(&format!("/api/v1/partners/customers/{prod_customer}"), &key).await;
    assert_eq!(status, 404);
    let (status, _) = app.read(&format!("/api/v1/partners/customers/{sandbox_customer}"), &a.api_key).await;
    assert_eq!(status, 404);
    let (_, listings) = app.read("/api/v1/partners/listings", &key).await;
    let sandbox_listing = listings["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = app.read(&format!("/api/v1/partners/listings/{sandbox_listing}"), &a.api_key).await;
    assert_eq!(status, 404);
    let (status, _) = app.read(&format!("{AR}/companies/{sandbox_customer}?context=RESELLER"), &a.api_key).await;
    assert_eq!(status, 404);
    let (_, prod_list) = app.read("/api/v1/partners/customers", &a.api_key).await;
    assert_eq!(ids(&prod_list["data"]), vec![prod_customer.clone()]);
    // A write in the sandbox stays there.
    let (sandbox_new, _) = customer(&app, &key, "starter").await;
    let (status, _) = app.read(&format!("/api/v1/partners/customers/{sandbox_new}"), &a.api_key).await;
    assert_eq!(status, 404);

    // A sandbox key may not create sandboxes, and has none of its own.
    let (status, body) = app.post(SANDBOX, &key, json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "FORBIDDEN");
    let (status, body) = app.read(SANDBOX, &key).await;
    assert_eq!((status, body["data"].clone()), (200, json!([])));
    let (status, _) = app.read(&format!("{SANDBOX}/{id}"), &key).await;
    assert_eq!(status, 404);

    // The owner's marketplace logs the creation.
    let events = app.events(&id).await;
    assert_eq!(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["sandbox.created"]);
    assert_eq!(events[0].partner_id.as_deref(), Some(a.partner_id.as_str()));

    // Delete: gone, with its key and its data.
    let (status, body) = app.send(reqwest::Method::DELETE, &format!("{SANDBOX}/{id}"), &a.api_key, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({ "id": id, "deleted": true }));
    let (status, _) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(status, 401);
    let (status, _) = app.read(&format!("{SANDBOX}/{id}"), &a.api_key).await;
    assert_eq!(status, 404);
    let (status, _) = app.send(reqwest::Method::DELETE, &format!("{SANDBOX}/{id}"), &a.api_key, None).await;
    assert_eq!(status, 404);
    let (_, list) = app.read(SANDBOX, &a.api_key).await;
    assert_eq!(list["data"], json!([]));
    let events = app.events(&id).await;
    assert_eq!(
        events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(),
        ["sandbox.created", "sandbox.deleted"]
    );
    assert_eq!(events[1].payload, json!({ "sandbox_id": id, "reason": "deleted" }));
    // Production is untouched.
    let (status, _) = app.read(&format!("/api/v1/partners/customers/{prod_customer}"), &a.api_key).await;
    assert_eq!(status, 200);
});

on_both_backends!(an_expired_sandbox_refuses_its_key_and_is_removed, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let sb = create(&app, &a.api_key, json!({})).await;
    let (id, key) = (sb["id"].as_str().unwrap().to_owned(), sb["api_key"].as_str().unwrap().to_owned());
    assert_eq!(sb["name"], "Sandbox");
    assert_eq!(sb["expires_at"], "2025-01-22T10:30:00Z", "7 days by default");
    let (status, _) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(status, 200);

    // Nothing is due yet.
    assert_eq!(app.server.services.sandboxes().remove_expired().await.unwrap(), 0);
    app.clock.advance(Duration::days(7));
    // At expiry the key stops at once, before any sweep, and the sandbox reads expired.
    let (status, body) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(status, 401, "{body}");
    let (status, got) = app.read(&format!("{SANDBOX}/{id}"), &a.api_key).await;
    assert_eq!((status, got["data"]["status"].clone()), (200, json!("expired")));

    assert_eq!(app.server.services.sandboxes().remove_expired().await.unwrap(), 1);
    assert_eq!(app.server.services.sandboxes().remove_expired().await.unwrap(), 0, "once");
    let (status, _) = app.read(&format!("{SANDBOX}/{id}"), &a.api_key).await;
    assert_eq!(status, 404);
    let (status, _) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(status, 401);
    let events = app.events(&id).await;
    assert_eq!(events.last().unwrap().payload, json!({ "sandbox_id": id, "reason": "expired" }));
    assert!(app.clock.now() > chrono::DateTime::UNIX_EPOCH);
});

on_both_backends!(another_partners_sandbox_is_not_found_and_bad_input_is_422, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let sb = create(&app, &a.api_key, json!({ "expires_in_days": 30 })).await;
    let id = sb["id"].as_str().unwrap().to_owned();
    let (status, _) = app.read(&format!("{SANDBOX}/{id}"), &b.api_key).await;
    assert_eq!(status, 404);
    let (status, _) = app.send(reqwest::Method::DELETE, &format!("{SANDBOX}/{id}"), &b.api_key, None).await;
    assert_eq!(status, 404);
    let (_, list) = app.read(SANDBOX, &b.api_key).await;
    assert_eq!(list["data"], json!([]));
    let (status, _) = app.read(&format!("{SANDBOX}/not-an-id"), &a.api_key).await;
    assert_eq!(status, 404);

    for (body, field) in [
        (json!({ "expires_in_days": 0 }), "expires_in_days"),
        (json!({ "expires_in_days": 31 }), "expires_in_days"),
        (json!({ "expires_in_days": "7" }), "expires_in_days"),
        (json!({ "name": "   " }), "name"),
        (json!({ "name": "x".repeat(101) }), "name"),
        (json!({ "colour": "blue" }), "colour"),
    ] {
        let (status, e) = app.post(SANDBOX, &a.api_key, body.clone()).await;
        assert_eq!(status, 422, "{body}: {e}");
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
        assert!(e["error"]["details"].get(field).is_some(), "{body}: {e}");
    }
    // Nothing half-made: still the one sandbox.
    let (_, list) = app.read(SANDBOX, &a.api_key).await;
    assert_eq!(ids(&list["data"]), vec![id.clone()]);

    // At most 10 per partner.
    for _ in 1..10 {
        create(&app, &a.api_key, json!({})).await;
    }
    let (status, e) = app.post(SANDBOX, &a.api_key, json!({})).await;
    assert_eq!(status, 422, "{e}");
    assert!(e["error"]["details"].get("request").is_some(), "{e}");
});
