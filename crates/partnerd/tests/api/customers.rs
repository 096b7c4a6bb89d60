//! Customer accounts over real HTTP on both backends: create with the first invoice and its
//! commission, webhooks of the five reseller events, proration, cancellation, lists, 404
//! across partners and 422 per field.

use crate::common::*;
use chrono::Duration;
use serde_json::{Value, json};

pub const CUSTOMERS: &str = "/api/v1/partners/customers";

pub fn acme(plan: &str) -> Value {
    json!({
        "company_name": "Acme Corporation",
        "contact_email": "admin@acme.com",
        "contact_name": "John Smith",
        "phone": "+1234567890",
        "plan": plan,
        "billing_cycle": "monthly",
    })
}

/// Creates a customer; `(customer id, first invoice id)`.
pub async fn customer(app: &TestApp, key: &str, plan: &str) -> (String, String) {
    let (status, body) = app.post(CUSTOMERS, key, acme(plan)).await;
    assert_eq!(status, 201, "{body}");
    let d = &body["data"];
    (d["id"].as_str().unwrap().to_owned(), d["latest_invoice"]["id"].as_str().unwrap().to_owned())
}

pub async fn invoice(app: &TestApp, key: &str, id: &str) -> Value {
    let (status, body) = app.read(&format!("/api/v1/partners/invoices/{id}"), key).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

on_both_backends!(create_invoices_at_once_earns_commission_and_notifies, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let events =
        ["customer.created", "customer.upgraded", "customer.cancelled", "commission.earned", "invoice.generated"];
    let (status, body) =
        app.post("/api/v1/partners/webhooks", &a.api_key, json!({ "url": r.url, "events": events })).await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = app.post(CUSTOMERS, &a.api_key, acme("professional")).await;
    assert_eq!(status, 201, "{body}");
    let c = &body["data"];
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("company_"), "a customer is a company: {id}");
    assert_eq!(c["status"], "active");
    assert_eq!(c["plan"], "professional");
    assert_eq!(c["latest_invoice"]["number"], "INV-000001");
    assert_eq!(c["latest_invoice"]["total"], 149);
    let invoice_id = c["latest_invoice"]["id"].as_str().unwrap().to_owned();

    let inv = invoice(&app, &a.api_key, &invoice_id).await;
    assert_eq!(inv["customer_id"], id.as_str());
    assert_eq!(inv["billing_reason"], "subscription_create");
    assert_eq!(inv["status"], "open");
    assert_eq!(inv["currency"], "USD");
    assert_eq!(inv["period"], json!({ "start": "2025-01-15T10:30:00Z", "end": "2025-02-15T10:30:00Z" }));
    assert_eq!(inv["issued_at"], "2025-01-15T10:30:00Z");
    assert_eq!(inv["due_date"], "2025-02-14");
    assert_eq!(inv["line_items"].as_array().unwrap().len(), 1);
    assert_eq!(inv["line_items"][0]["amount"], 149);
    assert_eq!(inv["line_items"][0]["quantity"], 1);
    assert_eq!((inv["subtotal"].clone(), inv["total"].clone()), (json!(149), json!(149)));
    assert_eq!(inv["commission"], json!({ "rate": 0.15, "base": 149, "amount": 22.35, "status": "earned" }));

    let (status, body) = app.read(&format!("{CUSTOMERS}/{id}"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let billing = &body["data"]["billing"];
    assert_eq!(billing["price"], 149);
    assert_eq!(billing["next_invoice_date"], "2025-02-15T10:30:00Z");
    assert_eq!(billing["balance"], 0);
    assert_eq!(billing["latest_invoice_ids"], json!([invoice_id]));

    let (status, body) =
        app.read("/api/v1/partners/commissions?start_date=2025-01-01&end_date=2025-01-31", &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let rows = body["data"]["commissions"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["invoice_id"], invoice_id.as_str());
    assert_eq!(rows[0]["invoice_number"], "INV-000001");
    assert_eq!((rows[0]["base"].clone(), rows[0]["rate"].clone()), (json!(149), json!(0.15)));
    assert_eq!(body["data"]["totals"], json!({ "count": 1, "base": 149, "earned": 22.35, "reversed": 0 }));

    let got = r.wait_for(3).await;
    let mut types: Vec<String> = got.iter().map(|d| d.json()["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    assert_eq!(types, ["commission.earned", "customer.created", "invoice.generated"]);
    let by_type = |t: &str| got.iter().map(Received::json).find(|b| b["type"] == t).unwrap();
    assert_eq!(
        by_type("customer.created")["data"],
        json!({ "customer_id": id, "company_name": "Acme Corporation", "plan": "professional" })
    );
    assert_eq!(
        by_type("invoice.generated")["data"],
        json!({ "invoice_id": invoice_id, "customer_id": id, "total": 149, "currency": "USD" })
    );
    let earned = by_type("commission.earned")["data"].clone();
    assert_eq!((earned["amount"].clone(), earned["customer_id"].clone()), (json!(22.35), json!(id)));

    // Upgrade and cancel reach the webhook too.
    app.clock.advance(Duration::days(10));
    let (status, body) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "plan": "enterprise" })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "cancelled" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");
    let got = r.wait_for(7).await;
    let types: Vec<String> = got.iter().map(|d| d.json()["type"].as_str().unwrap().to_owned()).collect();
    assert!(types.contains(&"customer.upgraded".to_owned()), "{types:?}");
    assert!(types.contains(&"customer.cancelled".to_owned()), "{types:?}");
    let up = got.iter().map(Received::json).find(|b| b["type"] == "customer.upgraded").unwrap();
    assert_eq!(up["data"], json!({ "customer_id": id, "from_plan": "professional", "to_plan": "enterprise" }));

    // The AppReseller side sees the same company, associated with the partner's company.
    let company = app.server.services.events_for_subject(&app.marketplace_id(), &id).await.unwrap();
    assert!(company.iter().any(|e| e.event_type == "company.created"));
});

on_both_backends!(an_upgrade_is_prorated_and_invoiced_a_downgrade_credited, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (id, _) = customer(&app, &a.api_key, "starter").await;
    // Period Jan 15 10:30 → Feb 15 10:30 (31 days); 10 days used, 21 remain.
    app.clock.advance(Duration::days(10));
    let (status, body) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "plan": "professional" })).await;
    assert_eq!(status, 200, "{body}");
    let inv = invoice(&app, &a.api_key, body["data"]["latest_invoice"]["id"].as_str().unwrap()).await;
    assert_eq!(inv["number"], "INV-000002");
    assert_eq!(inv["billing_reason"], "subscription_update");
    let amounts: Vec<Value> = inv["line_items"].as_array().unwrap().iter().map(|l| l["amount"].clone()).collect();
    // 49 × 21/31 = 33.193… → 33.19 credited; 149 × 21/31 = 100.935… → 100.94 charged.
    assert_eq!(amounts, [json!(-33.19), json!(100.94)]);
    assert!(inv["line_items"].as_array().unwrap().iter().all(|l| l["proration"] == true));
    assert_eq!(inv["total"], 67.75);
    assert_eq!(inv["commission"]["amount"], 10.16, "67.75 × 0.15 = 10.1625 → 10.16");
    assert_eq!(inv["period"]["end"], "2025-02-15T10:30:00Z");
    let log = app.events(&id).await;
    assert!(log.iter().any(|e| e.event_type == "customer.upgraded"));

    // Downgrade 5 days later (16 days remain): not invoiced, credited to the balance.
    app.clock.advance(Duration::days(5));
    let (status, body) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "plan": "starter" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["latest_invoice"], Value::Null);
    let (_, body) = app.read(&format!("{CUSTOMERS}/{id}"), &a.api_key).await;
    // 149 × 16/31 = 76.903… → 76.90 credited; 49 × 16/31 = 25.290… → 25.29 charged: −51.61.
    assert_eq!(body["data"]["billing"]["balance"], -51.61);
    assert_eq!(body["data"]["plan"], "starter");
    assert_eq!(app.events(&id).await.iter().filter(|e| e.event_type == "customer.upgraded").count(), 1);

    // The renewal applies the credit: 49 − 49 (capped at the total), 2.61 stays in credit.
    app.clock.advance(Duration::days(17));
    assert_eq!(app.server.services.billing().run_renewals().await.unwrap(), 1);
    let (_, body) = app.read(&format!("{CUSTOMERS}/{id}"), &a.api_key).await;
    assert_eq!(body["data"]["billing"]["balance"], -2.61);
    let renewal = invoice(&app, &a.api_key, body["data"]["billing"]["latest_invoice_ids"][0].as_str().unwrap()).await;
    assert_eq!(renewal["billing_reason"], "subscription_cycle");
    assert_eq!(renewal["period"], json!({ "start": "2025-02-15T10:30:00Z", "end": "2025-03-15T10:30:00Z" }));
    assert_eq!(renewal["total"], 0);
    assert_eq!(renewal["line_items"][1]["amount"], -49);
});

on_both_backends!(renewals_issue_once_per_period_and_cancellation_stops_them, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    // A second process on the same database, sharing the clock.
    let other = spawn_on(&app.database_url, app.clock.clone(), None).await;
    let a = app.partner("Reseller Co", "admin@reseller.com", "starter").await;
    let (id, _) = customer(&app, &a.api_key, "professional").await;
    let billing = |s: &TestApp| s.server.services.clone();
    assert_eq!(billing(&app).billing().run_renewals().await.unwrap(), 0, "nothing due yet");

    // Three periods pass while nobody runs the schedule; two processes catch up at once.
    app.clock.advance(Duration::days(31 + 28 + 31));
    let (s1, s2) = (billing(&app), billing(&other));
    let (n1, n2) = tokio::join!(async move { s1.billing().run_renewals().await.unwrap() }, async move {
        s2.billing().run_renewals().await.unwrap()
    });
    assert_eq!(n1 + n2, 3, "each period once: {n1} + {n2}");
    let (_, body) = app.read(&format!("/api/v1/partners/invoices?customer_id={id}&limit=10"), &a.api_key).await;
    assert_eq!(body["meta"], json!({ "limit": 10, "offset": 0, "total": 4, "next_cursor": null }));
    let starts: Vec<&str> =
        body["data"].as_array().unwrap().iter().map(|i| i["period"]["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        ["2025-04-15T10:30:00Z", "2025-03-15T10:30:00Z", "2025-02-15T10:30:00Z", "2025-01-15T10:30:00Z"]
    );
    assert!(body["data"].as_array().unwrap().iter().all(|i| i["commission"]["rate"] == 0.1), "starter partner: 10 %");

    let (status, body) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "cancelled" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["cancelled_at"], "2025-04-15T10:30:00Z");
    assert!(app.events(&id).await.iter().any(|e| e.event_type == "customer.cancelled"));
    app.clock.advance(Duration::days(62));
    assert_eq!(app.server.services.billing().run_renewals().await.unwrap(), 0, "cancelled: no more invoices");
    let (_, body) = app.read(&format!("{CUSTOMERS}/{id}"), &a.api_key).await;
    assert_eq!(body["data"]["billing"]["next_invoice_date"], Value::Null);
    // Cancelled is final.
    let (status, body) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "active" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["status"][0].as_str().unwrap().contains("final"), "{body}");
    other.server.stop().await.unwrap();
});

on_both_backends!(invoice_numbers_are_gap_free_under_concurrent_creation, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let other = spawn_on(&app.database_url, app.clock.clone(), None).await;
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (base, key) =
            if i % 2 == 0 { (app.base.clone(), a.api_key.clone()) } else { (other.base.clone(), b.api_key.clone()) };
        let http = app.http.clone();
        // Every third one fails validation after the others started: no number is used up.
        let plan = if i % 3 == 0 { "platinum" } else { "starter" };
        tasks.push(tokio::spawn(async move {
            let r = http.post(format!("{base}{CUSTOMERS}")).bearer_auth(key).json(&acme(plan)).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == 201 {
            numbers.push(body["data"]["latest_invoice"]["number"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(status, 422, "{body}");
        }
    }
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(|n| format!("INV-{n:06}")).collect();
    assert_eq!(numbers, expected);
    other.server.stop().await.unwrap();
});

on_both_backends!(customers_list_filter_and_page, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let mut ids = Vec::new();
    for plan in ["starter", "professional", "starter"] {
        ids.push(customer(&app, &a.api_key, plan).await.0);
        app.clock.advance(Duration::minutes(1));
    }
    customer(&app, &b.api_key, "starter").await;
    app.put(&format!("{CUSTOMERS}/{}", ids[0]), &a.api_key, json!({ "status": "suspended" })).await;

    let (status, body) = app.read(CUSTOMERS, &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"], json!({ "limit": 20, "offset": 0, "total": 3, "next_cursor": null }));
    let listed: Vec<&str> = body["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()], "newest first");
    let (_, body) = app.read(&format!("{CUSTOMERS}?limit=1&offset=1"), &a.api_key).await;
    assert_eq!(cursor_masked(&body["meta"]), json!({ "limit": 1, "offset": 1, "total": 3, "next_cursor": "CURSOR" }));
    assert_eq!(body["data"][0]["id"], ids[1].as_str());
    let (_, body) = app.read(&format!("{CUSTOMERS}?plan=starter&status=active"), &a.api_key).await;
    assert_eq!(body["meta"]["total"], 1);
    assert_eq!(body["data"][0]["id"], ids[2].as_str());
    let (_, body) = app.read(&format!("{CUSTOMERS}?status=suspended"), &a.api_key).await;
    assert_eq!(body["data"][0]["id"], ids[0].as_str());
    for bad in ["limit=101", "limit=0", "offset=-1", "status=trial", "plan=gold"] {
        let (status, body) = app.read(&format!("{CUSTOMERS}?{bad}"), &a.api_key).await;
        assert_eq!(status, 422, "{bad}: {body}");
        let field = bad.split('=').next().unwrap();
        assert!(body["error"]["details"].get(field).is_some(), "{bad}: {body}");
    }
    let (_, body) = app.read("/api/v1/partners/plans", &a.api_key).await;
    assert_eq!(body["data"]["plans"][0], json!({ "name": "starter", "monthly_price": 49, "annual_price": 490 }));
});

on_both_backends!(another_partners_customers_and_invoices_are_not_found, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Co", "admin@other.com", "business").await;
    let (id, invoice_id) = customer(&app, &a.api_key, "starter").await;
    for path in [format!("{CUSTOMERS}/{id}"), format!("/api/v1/partners/invoices/{invoice_id}")] {
        let (status, body) = app.read(&path, &b.api_key).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
    }
    let (status, _) = app.put(&format!("{CUSTOMERS}/{id}"), &b.api_key, json!({ "plan": "enterprise" })).await;
    assert_eq!(status, 404);
    let (_, body) = app.read(&format!("/api/v1/partners/invoices?customer_id={id}"), &b.api_key).await;
    assert_eq!(body["meta"]["total"], 0);
    let (_, body) = app.read(&format!("/api/v1/partners/commissions?customer_id={id}"), &b.api_key).await;
    assert_eq!(body["data"]["totals"]["count"], 0);
    let (status, _) = app.read(&format!("{CUSTOMERS}/company_nope"), &a.api_key).await;
    assert_eq!(status, 404);
});

on_both_backends!(bad_input_is_422_naming_each_field, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let body = json!({
        "company_name": "", "contact_email": "not-an-email", "phone": "12345",
        "plan": "gold", "billing_cycle": "weekly", "colour": "red",
    });
    let (status, err) = app.post(CUSTOMERS, &a.api_key, body).await;
    assert_eq!(status, 422, "{err}");
    let details = err["error"]["details"].as_object().unwrap();
    assert_eq!(err["error"]["details"]["colour"], json!(["is not a customer field"]));
    let (status, err) = app.post(CUSTOMERS, &a.api_key, json!({
        "company_name": "", "contact_email": "not-an-email", "phone": "12345", "plan": "gold", "billing_cycle": "weekly",
    })).await;
    assert_eq!(status, 422, "{err}");
    let details2 = err["error"]["details"].as_object().unwrap();
    for f in ["company_name", "contact_email", "contact_name", "phone", "plan", "billing_cycle"] {
        assert!(details2.contains_key(f), "{f}: {err}");
    }
    assert!(!details.is_empty());
    let (id, _) = customer(&app, &a.api_key, "starter").await;
    let (status, err) =
        app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "gone", "phone": "x" })).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["error"]["details"].get("status").is_some() && err["error"]["details"].get("phone").is_some());
    let (status, err) =
        app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "cancelled", "plan": "enterprise" })).await;
    assert_eq!(status, 422, "{err}");
    let (_, body) = app.read(&format!("{CUSTOMERS}/{id}"), &a.api_key).await;
    assert_eq!((body["data"]["status"].clone(), body["data"]["plan"].clone()), (json!("active"), json!("starter")));
    // Contact changes and clearing the phone.
    let (status, body) =
        app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "contact_name": "Jane Doe", "phone": null })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["data"]["contact_name"].clone(), body["data"]["phone"].clone()), (json!("Jane Doe"), Value::Null));
});
