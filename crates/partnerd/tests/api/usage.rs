//! Usage over real HTTP on both backends: the operator's ingestion (counted once under retries,
//! overlapping and concurrent batches; all or nothing with per-record errors; operator only),
//! customers' usage reports checked against the records that produced them, date ranges and
//! periods, 404 across partners, and `partnerd usage import`.

use crate::common::*;
use crate::customers::customer;
use serde_json::{Value, json};

const RECORDS: &str = "/api/v1/partners/usage/records";

fn usage_path(customer_id: &str, query: &str) -> String {
    format!("/api/v1/partners/customers/{customer_id}/usage{query}")
}

fn rec(id: &str, customer: &str, metric: &str, quantity: i64, at: &str) -> Value {
    let mut r = json!({ "id": id, "customer_id": customer, "metric": metric, "quantity": quantity, "occurred_at": at });
    if metric == "messages" {
        r["channel"] = "email".into();
    }
    r
}

fn msg(id: &str, customer: &str, channel: &str, quantity: i64, at: &str) -> Value {
    json!({ "id": id, "customer_id": customer, "metric": "messages", "channel": channel, "quantity": quantity,
        "occurred_at": at })
}

async fn ingest(app: &TestApp, key: &str, records: &[Value]) -> Value {
    let (status, body) = app.post(RECORDS, key, json!({ "records": records })).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

struct Setup {
    app: TestApp,
    operator: String,
    a: TestPartner,
    b: TestPartner,
    /// A's customer.
    ca: String,
    /// B's customer.
    cb: String,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let app = spawn_app(backend).await?;
    let operator = app.server.bootstrap.operator_key.clone().expect("operator key");
    let a = app.partner("Reseller A", "admin@a.example", "business").await;
    let b = app.partner("Reseller B", "admin@b.example", "business").await;
    let (ca, _) = customer(&app, &a.api_key, "starter").await;
    let (cb, _) = customer(&app, &b.api_key, "starter").await;
    Some(Setup { app, operator, a, b, ca, cb })
}

on_both_backends!(a_retried_overlapping_or_concurrent_batch_counts_each_record_once, |backend| async move {
    let Some(Setup { app, operator, a, ca, cb, .. }) = setup(backend).await else { return };
    let at = "2025-01-15T09:00:00Z";
    let batch: Vec<Value> = (0..120).map(|i| msg(&format!("m-{i:03}"), &ca, "sms", 2, at)).collect();
    let first = ingest(&app, &operator, &batch).await;
    assert_eq!(first, json!({ "received": 120, "ingested": 120, "duplicates": 0 }));
    let again = ingest(&app, &operator, &batch).await;
    assert_eq!(again, json!({ "received": 120, "ingested": 0, "duplicates": 120 }));
    // Overlapping: 100..150 of which 100..120 are known; one repeated within the batch.
    let mut overlap: Vec<Value> = (100..150).map(|i| msg(&format!("m-{i:03}"), &ca, "sms", 2, at)).collect();
    overlap.push(msg("m-149", &ca, "sms", 2, at));
    let third = ingest(&app, &operator, &overlap).await;
    assert_eq!(third, json!({ "received": 51, "ingested": 30, "duplicates": 21 }));
    // The same new batch sent four times at once (a client retrying on timeouts).
    let concurrent: Vec<Value> = (0..80).map(|i| msg(&format!("c-{i:03}"), &cb, "push", 1, at)).collect();
    let sends = (0..4).map(|_| app.post(RECORDS, &operator, json!({ "records": concurrent.clone() })));
    let results = futures_util::future::join_all(sends).await;
    let mut counted = 0;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        counted += body["data"]["ingested"].as_i64().unwrap();
    }
    assert_eq!(counted, 80, "{results:?}");

    let (status, body) = app.read(&usage_path(&ca, ""), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["messages"]["total"], 150 * 2);
    assert_eq!(body["data"]["messages"]["by_channel"]["sms"], 300);
    assert_eq!(body["data"]["messages"]["by_channel"]["email"], 0);
});

on_both_backends!(a_bad_record_refuses_the_whole_batch_naming_it, |backend| async move {
    let Some(Setup { app, operator, a, ca, .. }) = setup(backend).await else { return };
    let at = "2025-01-15T09:00:00Z";
    let good = |i: usize| msg(&format!("g-{i}"), &ca, "email", 1, at);
    let expect_422 = |body: &Value, field: &str| {
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
        assert!(body["error"]["details"].get(field).is_some(), "{field}: {body}");
    };

    let mut batch = vec![good(0), good(1), good(2), rec("bad", &ca, "workflow_executions", -1, at)];
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": batch.clone() })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[3].quantity");
    assert_eq!(body["error"]["details"].as_object().unwrap().len(), 1, "{body}");

    // Several problems are all named.
    batch[1] = json!({ "id": "x y", "customer_id": ca, "metric": "messages", "channel": "fax", "quantity": 1,
        "occurred_at": "2025-01-16T00:00:00Z" });
    batch[2] = json!({ "id": "w", "customer_id": ca, "metric": "workflow_executions", "channel": "sms",
        "quantity": 1, "occurred_at": at });
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": batch })).await;
    assert_eq!(status, 422, "{body}");
    for f in
        ["records[1].id", "records[1].channel", "records[1].occurred_at", "records[2].channel", "records[3].quantity"]
    {
        expect_422(&body, f);
    }

    // A wrong type is named by its path.
    let mut typed = good(5);
    typed["quantity"] = json!("5");
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": [good(4), typed] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[1].quantity");
    let mut fraction = good(5);
    fraction["quantity"] = json!(1.5);
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": [fraction] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[0].quantity");

    // Unknown customers, another marketplace's or a partner's company: named.
    let (status, body) =
        app.post(RECORDS, &operator, json!({ "records": [good(6), msg("u", "company_nope", "sms", 1, at)] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[1].customer_id");
    let (status, body) =
        app.post(RECORDS, &operator, json!({ "records": [msg("p", &a.company_id, "sms", 1, at)] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[0].customer_id");

    // Empty, oversized and shapeless batches.
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": [] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records");
    let (status, body) = app.post(RECORDS, &operator, json!({})).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records");
    let many: Vec<Value> = (0..1001).map(good).collect();
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": many })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records");

    // Nothing of the refused batches counted.
    let (status, body) = app.read(&usage_path(&ca, ""), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["messages"]["total"], 0);
    assert_eq!(body["data"]["workflow_executions"]["total"], 0);

    // An id reused with different content refuses the batch, new records included.
    ingest(&app, &operator, &[good(7)]).await;
    let mut changed = good(7);
    changed["quantity"] = json!(9);
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": [good(8), changed] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[1].id");
    // Within one batch too.
    let mut twin = good(9);
    twin["quantity"] = json!(3);
    let (status, body) = app.post(RECORDS, &operator, json!({ "records": [good(9), twin] })).await;
    assert_eq!(status, 422, "{body}");
    expect_422(&body, "records[1].id");
    let (_, body) = app.read(&usage_path(&ca, ""), &a.api_key).await;
    assert_eq!(body["data"]["messages"]["total"], 1, "only g-7: {body}");
});

on_both_backends!(only_the_operator_ingests, |backend| async move {
    let Some(Setup { app, a, ca, .. }) = setup(backend).await else { return };
    let r = msg("x", &ca, "sms", 1, "2025-01-15T09:00:00Z");
    let (status, body) = app.post(RECORDS, &a.api_key, json!({ "records": [r] })).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "FORBIDDEN");
    let (_, body) = app.read(&usage_path(&ca, ""), &a.api_key).await;
    assert_eq!(body["data"]["messages"]["total"], 0);
    // The operator is no partner: it reads no customer's usage through the partners surface.
    let operator = app.server.bootstrap.operator_key.clone().unwrap();
    let (status, _) = app.read(&usage_path(&ca, ""), &operator).await;
    assert_eq!(status, 403);
});

on_both_backends!(usage_figures_match_the_ingested_records_by_range_and_period, |backend| async move {
    let Some(Setup { app, operator, a, b, ca, cb }) = setup(backend).await else { return };
    let day = |d: u32, h: u32| format!("2025-01-{d:02}T{h:02}:00:00Z");
    let mut records = Vec::new();
    // 1–15 January: messages on three channels, workflows, API requests with errors, storage.
    for d in 1..=15u32 {
        records.push(msg(&format!("e-{d}"), &ca, "email", i64::from(d), &day(d, 1)));
        records.push(msg(&format!("s-{d}"), &ca, "sms", 2, &day(d, 2)));
        records.push(rec(&format!("w-{d}"), &ca, "workflow_executions", 3, &day(d, 3)));
        let mut api = rec(&format!("a-{d}"), &ca, "api_requests", 100, &day(d, 4));
        api["errors"] = json!(d % 3);
        records.push(api);
        // Storage grows by 1000 a day with a spike of 50 000 on the 10th, in the morning.
        records.push(rec(&format!("st-{d}"), &ca, "storage_bytes", 10_000 + 1000 * i64::from(d), &day(d, 9)));
    }
    records.push(rec("spike", &ca, "storage_bytes", 50_000, &day(10, 5)));
    records.push(msg("wa", &ca, "whatsapp", 7, &day(12, 6)));
    // B's customer's usage never shows in A's.
    records.push(msg("b-1", &cb, "email", 1000, &day(12, 6)));
    let done = ingest(&app, &operator, &records).await;
    assert_eq!(done["ingested"], records.len());

    let (status, body) = app.read(&usage_path(&ca, "?start_date=2025-01-05&end_date=2025-01-12"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let u = &body["data"];
    assert_eq!(u["customer_id"], ca.as_str());
    assert_eq!(u["period"], Value::Null);
    assert_eq!((u["start_date"].clone(), u["end_date"].clone()), (json!("2025-01-05"), json!("2025-01-12")));
    let email: i64 = (5..=12).sum();
    assert_eq!(u["messages"]["by_channel"]["email"], email);
    assert_eq!(u["messages"]["by_channel"]["sms"], 16);
    assert_eq!(u["messages"]["by_channel"]["whatsapp"], 7);
    assert_eq!(u["messages"]["by_channel"]["voice"], 0);
    assert_eq!(u["messages"]["total"], email + 16 + 7);
    assert_eq!(u["workflow_executions"]["total"], 24);
    let errors: i64 = (5..=12).map(|d| d % 3).sum();
    assert_eq!(u["api_requests"]["total"], 800);
    assert_eq!(u["api_requests"]["errors"], errors);
    assert_eq!(u["api_requests"]["by_day"].as_array().unwrap().len(), 8);
    assert_eq!(u["api_requests"]["by_day"][0], json!({ "date": "2025-01-05", "total": 100, "errors": 2 }));
    assert_eq!(u["storage"], json!({ "current_bytes": 22_000, "as_of": "2025-01-12", "peak_bytes": 50_000 }));
    let daily = u["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 8);
    assert_eq!(
        daily[5],
        json!({ "date": "2025-01-10", "messages": 12, "workflow_executions": 3, "api_requests": 100, "api_errors": 1,
            "storage_bytes": 20_000, "storage_peak_bytes": 50_000 })
    );

    // A range past the data is zero-filled; storage has no sample there.
    let (_, body) = app.read(&usage_path(&ca, "?start_date=2024-12-30&end_date=2024-12-31"), &a.api_key).await;
    assert_eq!(body["data"]["daily"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"]["storage"], json!({ "current_bytes": null, "as_of": null, "peak_bytes": null }));
    assert_eq!(body["data"]["messages"]["total"], 0);

    // `period`: the days ending today (15 January).
    let (status, body) = app.read(&usage_path(&ca, "?period=7d"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let u = &body["data"];
    assert_eq!((u["period"].clone(), u["start_date"].clone()), (json!("7d"), json!("2025-01-09")));
    assert_eq!(u["end_date"], "2025-01-15");
    assert_eq!(u["workflow_executions"]["total"], 21);
    assert_eq!(u["storage"]["current_bytes"], 25_000);
    let (_, body) = app.read(&usage_path(&ca, "?period=30d"), &a.api_key).await;
    assert_eq!(body["data"]["daily"].as_array().unwrap().len(), 30);
    assert_eq!(body["data"]["api_requests"]["total"], 1500);

    // Default: the current billing period so far (the account opened on the 15th).
    let (_, body) = app.read(&usage_path(&ca, ""), &a.api_key).await;
    let u = &body["data"];
    assert_eq!((u["start_date"].clone(), u["end_date"].clone()), (json!("2025-01-15"), json!("2025-01-15")));
    assert_eq!(u["messages"]["total"], 15 + 2);
    // GET /customers/{id} shows the same totals.
    let (status, body) = app.read(&format!("/api/v1/partners/customers/{ca}"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let usage = &body["data"]["usage"];
    assert_eq!(usage["start_date"], "2025-01-15");
    assert_eq!(usage["messages"], u["messages"]);
    assert_eq!(usage["workflow_executions"], u["workflow_executions"]);
    assert_eq!(usage["api_requests"], json!({ "total": 100, "errors": 0, "error_rate": 0.0 }));
    assert_eq!(usage["storage"], u["storage"]);

    // Bad ranges name the field.
    for (query, field) in [
        ("?start_date=2025-02-30", "start_date"),
        ("?start_date=2025-01-10&end_date=20250112", "end_date"),
        ("?start_date=2025-01-10&end_date=2025-01-09", "end_date"),
        ("?start_date=2023-01-01&end_date=2025-01-09", "end_date"),
        ("?period=2w", "period"),
        ("?period=7d&start_date=2025-01-01", "period"),
    ] {
        let (status, body) = app.read(&usage_path(&ca, query), &a.api_key).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert!(body["error"]["details"].get(field).is_some(), "{query}: {body}");
    }

    // Another partner's customer: 404, as is an id of no customer.
    let (status, body) = app.read(&usage_path(&cb, ""), &a.api_key).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let (status, _) = app.read(&usage_path("company_nope", ""), &a.api_key).await;
    assert_eq!(status, 404);
    let (status, _) = app.read(&usage_path("garbage", ""), &a.api_key).await;
    assert_eq!(status, 404);
    let (status, body) = app.read(&usage_path(&cb, "?period=7d"), &b.api_key).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["messages"]["by_channel"]["email"], 1000);
});

fn partnerd_cli(database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_partnerd"))
        .args(args)
        .env("PARTNERD_DATABASE_URL", database_url)
        .env_remove("PARTNERD_CONFIG")
        .env("PARTNERD_LOG", "warn")
        .output()
        .expect("run partnerd")
}

struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(body: &Value) -> TempFile {
    let path = std::env::temp_dir().join(format!("partnerd-usage-{}.json", partnerd_domain::ids::new_id("f")));
    std::fs::write(&path, serde_json::to_string(body).unwrap()).unwrap();
    TempFile(path)
}

on_both_backends!(the_cli_imports_usage_through_the_same_rules, |backend| async move {
    let Some(Setup { app, a, ca, .. }) = setup(backend).await else { return };
    let at = "2025-01-15T08:00:00Z";
    let records: Vec<Value> = (0..30).map(|i| msg(&format!("cli-{i}"), &ca, "voice", 3, at)).collect();
    // A bare array of records.
    let file = temp_file(&Value::Array(records.clone()));
    let out = partnerd_cli(&app.database_url, &["usage", "import", file.0.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, json!({ "received": 30, "ingested": 30, "duplicates": 0 }));
    // The API's body, overlapping: the known ones count once.
    let mut more = records[20..].to_vec();
    more.push(msg("cli-30", &ca, "voice", 3, at));
    let file = temp_file(&json!({ "records": more }));
    let out = partnerd_cli(&app.database_url, &["usage", "import", file.0.to_str().unwrap(), "--json"]);
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, json!({ "received": 11, "ingested": 1, "duplicates": 10 }));

    // A bad record: exit 2 naming it, nothing written.
    let mut bad = records.clone();
    bad.push(msg("cli-new", &ca, "voice", 3, at));
    bad[3]["quantity"] = json!(-4);
    let file = temp_file(&Value::Array(bad));
    let out = partnerd_cli(&app.database_url, &["usage", "import", file.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("records[3].quantity"), "{err}");
    let mut typed = records[0].clone();
    typed["occurred_at"] = json!(5);
    let file = temp_file(&json!({ "records": [typed] }));
    let out = partnerd_cli(&app.database_url, &["usage", "import", file.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("records[0].occurred_at"));

    let (status, body) = app.read(&usage_path(&ca, ""), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["messages"]["by_channel"]["voice"], 31 * 3);
});
