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
