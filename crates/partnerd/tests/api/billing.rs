//! Invoices and commissions over real HTTP on both backends: the commission report's ranges
//! and filters, invoice lists, the operator's status moves and voiding's reversal.

use crate::common::*;
use crate::customers::{customer, invoice};
use chrono::Duration;
use partnerd_domain::invoice::InvoiceStatus;
use serde_json::{Value, json};

const COMMISSIONS: &str = "/api/v1/partners/commissions";

on_both_backends!(commission_report_ranges_and_filters, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "enterprise").await;
    // Jan 15, then Jan 31, then Feb 1.
    let (c1, _) = customer(&app, &a.api_key, "starter").await;
    app.clock.advance(Duration::days(16));
    let (c2, _) = customer(&app, &a.api_key, "professional").await;
    app.clock.advance(Duration::days(1));
    let (_c3, _) = customer(&app, &a.api_key, "enterprise").await;

    let report = |q: &str| {
        let q = q.to_owned();
        let (app, key) = (&app, a.api_key.clone());
        async move {
            let (status, body) = app.read(&format!("{COMMISSIONS}?{q}"), &key).await;
            assert_eq!(status, 200, "{q}: {body}");
            body["data"].clone()
        }
    };
    let jan = report("start_date=2025-01-01&end_date=2025-01-31").await;
    assert_eq!(jan["commissions"].as_array().unwrap().len(), 2, "end_date is inclusive");
    // 20 %: 49 → 9.80, 149 → 29.80.
    assert_eq!(jan["totals"], json!({ "count": 2, "base": 198, "earned": 39.6, "reversed": 0 }));
    let only = report(&format!("start_date=2025-01-01&end_date=2025-02-28&customer_id={c2}")).await;
    assert_eq!(only["commissions"].as_array().unwrap().len(), 1);
    assert_eq!(only["commissions"][0]["customer_id"], c2.as_str());
    let feb1 = report("start_date=2025-02-01&end_date=2025-02-01").await;
    assert_eq!(feb1["totals"]["earned"], 99.8, "499 × 0.2");
    // Defaults: this month (February) so far.
    let this_month = report("").await;
    assert_eq!(
        (this_month["start_date"].clone(), this_month["end_date"].clone()),
        (json!("2025-02-01"), json!("2025-02-01"))
    );
    assert_eq!(this_month["totals"]["count"], 1);

    for (q, field) in [
        ("start_date=2025-13-01", "start_date"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2025-02-30", "end_date"),
        ("start_date=2025-02-01&end_date=2025-01-31", "end_date"),
    ] {
        let (status, body) = app.read(&format!("{COMMISSIONS}?{q}"), &a.api_key).await;
        assert_eq!(status, 422, "{q}: {body}");
        assert!(body["error"]["details"].get(field).is_some(), "{q}: {body}");
    }

    // Voiding reverses the commission; the report shows it apart.
    let (_, body) = app.read(&format!("/api/v1/partners/invoices?customer_id={c1}"), &a.api_key).await;
    let inv_id = body["data"][0]["id"].as_str().unwrap().to_owned();
    let billing = app.server.services.billing();
    let m = app.marketplace_id();
    let voided = billing.mark_invoice(&m, &inv_id, InvoiceStatus::Void).await.unwrap();
    assert_eq!(voided.status, InvoiceStatus::Void);
    let inv = invoice(&app, &a.api_key, &inv_id).await;
    assert_eq!((inv["status"].clone(), inv["commission"]["status"].clone()), (json!("void"), json!("reversed")));
    let jan = report("start_date=2025-01-01&end_date=2025-01-31").await;
    assert_eq!(jan["totals"], json!({ "count": 2, "base": 149, "earned": 29.8, "reversed": 9.8 }));
    // A void invoice is final.
    let e = billing.mark_invoice(&m, &inv_id, InvoiceStatus::Paid).await.unwrap_err();
    assert!(e.fields.to_string().contains("final"), "{e}");
});

on_both_backends!(invoices_list_by_status_and_date, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (_, first) = customer(&app, &a.api_key, "starter").await;
    app.clock.advance(Duration::days(3));
    let (_, second) = customer(&app, &a.api_key, "starter").await;
    let billing = app.server.services.billing();
    let m = app.marketplace_id();
    billing.mark_invoice(&m, &first, InvoiceStatus::Uncollectible).await.unwrap();
    billing.mark_invoice(&m, &first, InvoiceStatus::Paid).await.unwrap();
    let (_, body) = app.read("/api/v1/partners/invoices?status=paid", &a.api_key).await;
    assert_eq!(body["meta"]["total"], 1);
    assert_eq!(body["data"][0]["id"], first.as_str());
    assert_eq!(body["data"][0]["status_changed_at"], "2025-01-18T10:30:00Z");
    let (_, body) = app.read("/api/v1/partners/invoices?start_date=2025-01-16", &a.api_key).await;
    let ids: Vec<Value> = body["data"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect();
    assert_eq!(ids, [json!(second)]);
    let (status, body) = app.read("/api/v1/partners/invoices?status=draft", &a.api_key).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app.read("/api/v1/partners/invoices/inv_doesnotexist0000000000", &a.api_key).await;
    assert_eq!(status, 404);
});

on_both_backends!(date_ranges_are_strict_and_one_bound_defaults_the_other, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "enterprise").await;
    // Jan 15 and Feb 1 (today).
    let (c1, _) = customer(&app, &a.api_key, "starter").await;
    app.clock.advance(Duration::days(17));
    customer(&app, &a.api_key, "professional").await;
    let range = |q: &str| {
        let q = q.to_owned();
        let (app, key) = (&app, a.api_key.clone());
        async move {
            let (status, body) = app.read(&format!("{COMMISSIONS}?{q}"), &key).await;
            assert_eq!(status, 200, "{q}: {body}");
            let d = &body["data"];
            (
                d["start_date"].as_str().unwrap().to_owned(),
                d["end_date"].as_str().unwrap().to_owned(),
                d["totals"]["count"].clone(),
            )
        }
    };
    // `end_date` alone: from the first of its month (no longer "end before this month's start").
    assert_eq!(range("end_date=2025-01-20").await, ("2025-01-01".into(), "2025-01-20".into(), json!(1)));
    // `start_date` alone: through today; after today: that day alone.
    assert_eq!(range("start_date=2025-01-10").await, ("2025-01-10".into(), "2025-02-01".into(), json!(2)));
    assert_eq!(range("start_date=9999-12-31").await, ("9999-12-31".into(), "9999-12-31".into(), json!(0)));
    assert_eq!(range("end_date=9999-12-31").await, ("9999-12-01".into(), "9999-12-31".into(), json!(0)));
    assert_eq!(range("start_date=1970-01-01&end_date=9999-12-31").await.2, json!(2), "the widest range");

    for (q, field) in [
        ("start_date=10000-01-01", "start_date"),
        ("start_date=1969-12-31", "start_date"),
        ("start_date=%2B2025-01-01", "start_date"),
        ("start_date=-2025-01-01", "start_date"),
        ("start_date=2025-1-5", "start_date"),
        ("start_date=%202025-01-05", "start_date"),
        ("end_date=2025-01-05T00:00:00Z", "end_date"),
        ("end_date=2025-01-05%2B01:00", "end_date"),
        ("end_date=99999999999999999999", "end_date"),
        ("end_date=1e9", "end_date"),
        ("start_date=2025-01-02&end_date=2025-01-01", "end_date"),
    ] {
        let (status, body) = app.read(&format!("{COMMISSIONS}?{q}"), &a.api_key).await;
        assert_eq!(status, 422, "{q}: {body}");
        assert!(body["error"]["details"].get(field).is_some(), "{q}: {body}");
        let path = format!("/api/v1/partners/invoices?{q}");
        let (status, body) = app.read(&path, &a.api_key).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body["error"]["details"].get(field).is_some(), "{path}: {body}");
    }

    // Invoices: one bound leaves the other side open.
    let (_, body) = app.read("/api/v1/partners/invoices?end_date=2025-01-31", &a.api_key).await;
    assert_eq!(body["meta"]["total"], 1);
    let (_, body) = app.read("/api/v1/partners/invoices?start_date=2025-01-16", &a.api_key).await;
    assert_eq!(body["meta"]["total"], 1);
    let (_, body) = app.read("/api/v1/partners/invoices?start_date=1970-01-01&end_date=9999-12-31", &a.api_key).await;
    assert_eq!(body["meta"]["total"], 2);

    // Usage: the widest dates are refused for length, not by a 5xx.
    let usage = format!("/api/v1/partners/customers/{c1}/usage");
    for (q, status, field) in [
        ("start_date=9999-12-31", 200, None),
        ("start_date=1970-01-01", 422, Some("start_date")),
        ("end_date=9999-12-31", 422, Some("end_date")),
        ("start_date=1970-01-01&end_date=9999-12-31", 422, Some("end_date")),
        ("end_date=2024-12-20", 200, None),
        ("start_date=2025-13-01", 422, Some("start_date")),
    ] {
        let (got, body) = app.read(&format!("{usage}?{q}"), &a.api_key).await;
        assert_eq!(got, status, "{q}: {body}");
        if let Some(f) = field {
            assert!(body["error"]["details"].get(f).is_some(), "{q}: {body}");
        }
    }
    let (_, body) = app.read(&format!("{usage}?end_date=2024-12-20"), &a.api_key).await;
    assert_eq!(
        (body["data"]["start_date"].clone(), body["data"]["end_date"].clone()),
        (json!("2024-12-01"), json!("2024-12-20"))
    );
});

on_both_backends!(hostile_query_values_on_reseller_routes_are_4xx_never_5xx, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "enterprise").await;
    let (c, inv) = customer(&app, &a.api_key, "starter").await;
    let routes: Vec<(String, &[&str])> = vec![
        ("/api/v1/partners/customers".into(), &["limit", "offset", "status", "plan"]),
        ("/api/v1/partners/invoices".into(), &["limit", "offset", "status", "customer_id", "start_date", "end_date"]),
        (COMMISSIONS.into(), &["start_date", "end_date", "customer_id"]),
        (format!("/api/v1/partners/customers/{c}/usage"), &["start_date", "end_date", "period"]),
        (format!("/api/v1/partners/customers/{c}/deployments"), &["limit", "offset"]),
        ("/api/v1/partners/metrics".into(), &["period"]),
        ("/api/v1/partners/support/tickets".into(), &["limit", "offset", "status", "priority", "customer_id"]),
    ];
    let hostile = [
        "1e9",
        "-1",
        "-9223372036854775809",
        "9223372036854775808",
        "99999999999999999999999999999999",
        "4294967296",
        "1000000001",
        "0",
        "NaN",
        "0x10",
        "9999-12-31",
        "99999-12-31",
        "0000-00-00",
        "2025-02-29",
        "%2B2025-01-01T00:00:00%2B99:00",
        "%E2%80%AE",
        "",
    ];
    for (path, params) in &routes {
        for param in *params {
            for value in hostile {
                let url = format!("{path}?{param}={value}");
                let (status, body) = app.read(&url, &a.api_key).await;
                assert!(matches!(status, 200 | 404 | 422), "{url}: {status} {body}");
            }
        }
    }
    // The largest offset is an empty page, not an overflow.
    let (status, body) = app.read("/api/v1/partners/invoices?offset=1000000000&limit=100", &a.api_key).await;
    assert_eq!((status, body["data"].as_array().map(Vec::len)), (200, Some(0)), "{body}");
    // Path numbers: a deployment version past i64 is 404.
    for v in ["99999999999999999999999", "-1", "0", "1e3"] {
        let (status, _) = app.read(&format!("/api/v1/partners/customers/{c}/deployments/{v}"), &a.api_key).await;
        assert_eq!(status, 404, "{v}");
    }
    assert_eq!(app.read(&format!("/api/v1/partners/invoices/{inv}"), &a.api_key).await.0, 200);
});

on_both_backends!(invoice_status_moves_notify_and_voiding_returns_applied_credit, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let events = ["invoice.paid", "invoice.voided", "invoice.marked_uncollectible"];
    let (status, body) =
        app.post("/api/v1/partners/webhooks", &a.api_key, json!({ "url": r.url, "events": events })).await;
    assert_eq!(status, 201, "{body}");
    let customers = crate::customers::CUSTOMERS;
    let (id, first) = customer(&app, &a.api_key, "professional").await;
    let billing = app.server.services.billing();
    let m = app.marketplace_id();

    // Paid, via uncollectible: two events, the commission stands.
    billing.mark_invoice(&m, &first, InvoiceStatus::Uncollectible).await.unwrap();
    billing.mark_invoice(&m, &first, InvoiceStatus::Paid).await.unwrap();
    let got = r.wait_for(2).await;
    let un = got.iter().map(|d| d.json()).find(|b| b["type"] == "invoice.marked_uncollectible").unwrap();
    assert_eq!(
        un["data"],
        json!({ "invoice_id": first, "number": "INV-000001", "customer_id": id, "total": 149, "currency": "USD" })
    );
    let paid = got.iter().map(|d| d.json()).find(|b| b["type"] == "invoice.paid").unwrap();
    assert_eq!(paid["data"]["previous_status"], "uncollectible");
    assert_eq!(invoice(&app, &a.api_key, &first).await["commission"]["status"], "earned");

    // A downgrade leaves credit (149 → 49 with 16 of 31 days left: −51.61); the renewal applies
    // 49 of it; voiding that invoice gives the 49 back.
    app.clock.advance(Duration::days(15));
    let (status, body) = app.put(&format!("{customers}/{id}"), &a.api_key, json!({ "plan": "starter" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance(&app, &a.api_key, &id).await, -51.61);
    app.clock.advance(Duration::days(17));
    assert_eq!(billing.run_renewals().await.unwrap(), 1);
    assert_eq!(balance(&app, &a.api_key, &id).await, -2.61);
    let (_, body) = app.read(&format!("/api/v1/partners/invoices?customer_id={id}&limit=1"), &a.api_key).await;
    let renewal = body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"][0]["total"], 0);
    billing.mark_invoice(&m, &renewal, InvoiceStatus::Void).await.unwrap();
    assert_eq!(balance(&app, &a.api_key, &id).await, -51.61, "the applied credit is back");
    let inv = invoice(&app, &a.api_key, &renewal).await;
    assert_eq!((inv["status"].clone(), inv["commission"]["status"].clone()), (json!("void"), json!("reversed")));
    let got = r.wait_for(3).await;
    let voided = got.iter().map(|d| d.json()).find(|b| b["type"] == "invoice.voided").unwrap();
    assert_eq!(voided["data"]["invoice_id"], renewal.as_str());
    assert_eq!(voided["data"]["credit_returned"], 49);
    assert_eq!(voided["data"]["commission_reversed"], 0);
    assert_eq!(voided["data"]["previous_status"], "open");
    // The commission report shows the first invoice's commission still earned.
    let (_, body) = app.read(&format!("{COMMISSIONS}?start_date=2025-01-01&end_date=2025-03-31"), &a.api_key).await;
    assert_eq!(body["data"]["totals"]["earned"], 22.35, "149 × 0.15");

    // The next renewal applies the returned credit again (49 of 51.61).
    app.clock.advance(Duration::days(31));
    assert_eq!(billing.run_renewals().await.unwrap(), 1);
    assert_eq!(balance(&app, &a.api_key, &id).await, -2.61);

    // An upgrade's invoice applies the rest (2.61) next to its prorations; voiding it returns
    // only that, not the proration credit, and reverses its commission.
    let (status, body) = app.put(&format!("{customers}/{id}"), &a.api_key, json!({ "plan": "enterprise" })).await;
    assert_eq!(status, 200, "{body}");
    let up = body["data"]["latest_invoice"]["id"].as_str().unwrap().to_owned();
    assert_eq!(balance(&app, &a.api_key, &id).await, 0);
    billing.mark_invoice(&m, &up, InvoiceStatus::Void).await.unwrap();
    assert_eq!(balance(&app, &a.api_key, &id).await, -2.61);
    let got = r.wait_for(4).await;
    let voided = got.iter().map(|d| d.json()).rfind(|b| b["type"] == "invoice.voided").unwrap();
    assert_eq!(voided["data"]["invoice_id"], up.as_str());
    assert_eq!(voided["data"]["credit_returned"], 2.61);
    assert!(voided["data"]["commission_reversed"].as_f64().unwrap() > 0.0, "{voided}");
});

async fn balance(app: &TestApp, key: &str, id: &str) -> Value {
    app.read(&format!("{}/{id}", crate::customers::CUSTOMERS), key).await.1["data"]["billing"]["balance"].clone()
}
