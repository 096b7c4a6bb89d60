//! The analytics summary for every period on one fixed data set, and reports: on demand,
//! listed, fetched as JSON and CSV, and made monthly by the schedule.

use crate::common::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

const NOW: (i32, u32, u32) = (2025, 6, 30);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(NOW.0, NOW.1, NOW.2, 12, 0, 0).unwrap()
}

/// Creates an opportunity at `created`, moving it through `path` (status, days after creation).
async fn deal(
    app: &TestApp,
    key: &str,
    other: &str,
    value: i64,
    created: DateTime<Utc>,
    path: &[(&str, i64)],
) -> String {
    app.clock.set(created);
    let body = json!({ "customer_name": "Customer", "deal_value": value, "partner_id": other });
    let (status, o) = app.post("/api/v1/partners/cosell/opportunities", key, body).await;
    assert_eq!(status, 201, "{o}");
    let id = o["data"]["id"].as_str().unwrap().to_owned();
    for (to, days) in path {
        app.clock.set(created + Duration::days(*days));
        let (status, body) =
            app.patch(&format!("/api/v1/partners/cosell/opportunities/{id}"), key, json!({ "status": to })).await;
        assert_eq!(status, 200, "{body}");
    }
    id
}

struct Fixture {
    app: TestApp,
    a: TestPartner,
    avg_score: u64,
}

async fn fixture(backend: Backend) -> Option<Fixture> {
    let app = spawn_app(backend).await?;
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let t = now();

    // Listings: three kept, one archived (the totals count every status; the top list does not).
    let bodies = [
        json!({ "title": "Enterprise Security Suite for Compliance Teams", "keywords": ["compliance"] }),
        json!({ "title": "Short", "highlights": ["Automated SOC 2 evidence collection"] }),
        json!({ "title": "Data Platform", "images": ["https://cdn.acme.com/1.png"], "logo_url": "https://cdn.acme.com/l.png" }),
    ];
    app.clock.set(t - Duration::days(200));
    for body in bodies {
        assert_eq!(app.post("/api/v1/partners/listings", &a.api_key, body).await.0, 201);
    }
    let (_, gone) = app
        .post("/api/v1/partners/listings", &a.api_key, json!({ "title": "Old product with a long enough title" }))
        .await;
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/partners/listings/{}", gone["data"]["id"].as_str().unwrap()),
        &a.api_key,
        None,
    )
    .await;

    // Co-sell, either side.
    deal(&app, &a.api_key, &b.partner_id, 10_000, t - Duration::days(100), &[("in_progress", 1)]).await;
    deal(&app, &a.api_key, &b.partner_id, 20_000, t - Duration::days(60), &[("in_progress", 5), ("won", 10)]).await;
    deal(&app, &a.api_key, &b.partner_id, 30_000, t - Duration::days(20), &[("in_progress", 5), ("won", 10)]).await;
    deal(&app, &b.api_key, &a.partner_id, 40_000, t - Duration::days(3), &[]).await;
    deal(&app, &a.api_key, &b.partner_id, 50_000, t - Duration::days(2), &[("in_progress", 0), ("lost", 1)]).await;

    // Content: a draft generated 40 days ago and published 5 days ago; another generated
    // yesterday and not published.
    let listing = {
        let (_, page) = app.read("/api/v1/partners/listings?status=draft&per_page=1", &a.api_key).await;
        page["data"][0]["id"].as_str().unwrap().to_owned()
    };
    app.clock.set(t - Duration::days(40));
    let (_, d) = app.post(&format!("/api/v1/partners/listings/{listing}/content"), &a.api_key, json!({})).await;
    app.clock.set(t - Duration::days(5));
    let publish = format!("/api/v1/partners/listings/{listing}/content/{}/publish", d["data"]["id"].as_str().unwrap());
    assert_eq!(app.post(&publish, &a.api_key, json!({})).await.0, 200);
    app.clock.set(t - Duration::days(1));
    app.post(&format!("/api/v1/partners/listings/{listing}/content"), &a.api_key, json!({})).await;

    app.clock.set(t);
    // Publishing re-scored one listing: read the average back from the listings themselves.
    let (_, all) = app.read("/api/v1/partners/listings?per_page=100", &a.api_key).await;
    let scores: Vec<u64> = all["data"].as_array().unwrap().iter().map(|l| l["seo_score"].as_u64().unwrap()).collect();
    assert_eq!(scores.len(), 4);
    let sum: u64 = scores.iter().sum();
    // Rounded half up, as documented.
    Some(Fixture { app, a, avg_score: (2 * sum + 4) / 8 })
}

on_both_backends!(the_summary_for_each_period, |backend| async move {
    let Some(Fixture { app, a, avg_score }) = fixture(backend).await else { return };
    let expected = [
        // period, created, won, generated, published
        ("7d", 2, 0, 1, 1),
        ("30d", 3, 30_000, 1, 1),
        ("90d", 4, 50_000, 2, 1),
        ("1y", 5, 50_000, 2, 1),
    ];
    for (period, created, won, generated, published) in expected {
        let (status, body) = app.read(&format!("/api/v1/partners/analytics/summary?period={period}"), &a.api_key).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["data"],
            json!({
                "period": period,
                "listings": { "total": 4, "avg_seo_score": avg_score },
                // Pipeline at the end of the period (now): the in-progress 10,000 and the open 40,000.
                "cosell": { "opportunities": created, "pipeline_value": 50_000, "won_value": won },
                "content": { "generated": generated, "published": published },
            }),
            "{period}"
        );
    }
    let (_, default) = app.read("/api/v1/partners/analytics/summary", &a.api_key).await;
    assert_eq!(default["data"]["period"], "30d");
    let (status, body) = app.read("/api/v1/partners/analytics/summary?period=2w", &a.api_key).await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["period"][0].as_str().unwrap().contains("7d, 30d, 90d, 1y"));
});

/// `listings.total` of the summary and `meta.total` of `GET /listings`, and the average score.
async fn listing_figures(app: &TestApp, key: &str) -> (Value, Value, Value) {
    let (status, summary) = app.read("/api/v1/partners/analytics/summary", key).await;
    assert_eq!(status, 200, "{summary}");
    let (status, list) = app.read("/api/v1/partners/listings?per_page=100", key).await;
    assert_eq!(status, 200, "{list}");
    let scores: Vec<u64> = list["data"].as_array().unwrap().iter().map(|l| l["seo_score"].as_u64().unwrap()).collect();
    let n = scores.len() as u64;
    let average = if n == 0 { 0 } else { (2 * scores.iter().sum::<u64>() + n) / (2 * n) };
    let listings = &summary["data"]["listings"];
    (listings["total"].clone(), list["meta"]["total"].clone(), json!([listings["avg_seo_score"].clone(), average]))
}

on_both_backends!(summary_and_list_agree_on_a_partners_listings, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let base = "/api/v1/partners/listings";
    let check = |expected: u64| {
        let (app, key) = (&app, p.api_key.clone());
        async move {
            let (summary, list, scores) = listing_figures(app, &key).await;
            assert_eq!((summary, list), (json!(expected), json!(expected)));
            assert_eq!(scores[0], scores[1], "the average is over the same listings");
        }
    };
    check(0).await;
    // One each of active, draft and archived.
    let (_, active) =
        app.post(base, &p.api_key, json!({ "title": "Enterprise Security Suite", "status": "active" })).await;
    check(1).await;
    app.post(base, &p.api_key, json!({ "title": "A draft", "keywords": ["x"] })).await;
    check(2).await;
    let (_, doomed) = app.post(base, &p.api_key, json!({ "title": "Soon archived, with a long title" })).await;
    let doomed = doomed["data"]["id"].as_str().unwrap().to_owned();
    let (status, _) = app.send(reqwest::Method::DELETE, &format!("{base}/{doomed}"), &p.api_key, None).await;
    assert!((200..300).contains(&status), "{status}");
    check(3).await;
    for (status, n) in [("active", 1), ("draft", 1), ("archived", 1)] {
        assert_eq!(app.read(&format!("{base}?status={status}"), &p.api_key).await.1["meta"]["total"], n, "{status}");
    }
    // A status change moves a listing between statuses, not out of the total.
    let id = active["data"]["id"].as_str().unwrap();
    assert_eq!(app.patch(&format!("{base}/{id}"), &p.api_key, json!({ "status": "draft" })).await.0, 200);
    check(3).await;
    // Another partner's listings are not counted.
    let other = app.partner("Other Inc", "admin@other.com", "business").await;
    app.post(base, &other.api_key, json!({ "title": "Theirs" })).await;
    check(3).await;
});

on_both_backends!(reports_are_created_listed_and_downloaded, |backend| async move {
    let Some(Fixture { app, a, avg_score }) = fixture(backend).await else { return };
    let (status, created) = app
        .post(
            "/api/v1/partners/analytics/reports",
            &a.api_key,
            json!({ "type": "partner_performance", "period": "90d" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let r = &created["data"];
    assert!(r["id"].as_str().unwrap().starts_with("report_"));
    assert_eq!(
        (r["type"].clone(), r["period"].clone(), r["trigger"].clone()),
        (json!("partner_performance"), json!("90d"), json!("on_demand"))
    );
    assert_eq!(r["period_end"], "2025-06-30T12:00:00Z");
    assert_eq!(r["period_start"], "2025-04-01T12:00:00Z");
    let data = &r["data"];
    assert_eq!(data["summary"]["cosell"], json!({ "opportunities": 4, "pipeline_value": 50_000, "won_value": 50_000 }));
    assert_eq!(data["summary"]["listings"]["avg_seo_score"], avg_score);
    assert_eq!(
        data["pipeline_by_status"],
        json!({
            "open": { "count": 1, "value": 40_000 },
            "in_progress": { "count": 1, "value": 10_000 },
            "won": { "count": 2, "value": 50_000 },
            "lost": { "count": 1, "value": 50_000 },
        })
    );
    let top: Vec<u64> =
        data["top_listings"].as_array().unwrap().iter().map(|l| l["seo_score"].as_u64().unwrap()).collect();
    assert_eq!(top.len(), 3, "archived listings are left out");
    assert!(top.windows(2).all(|w| w[0] >= w[1]), "best first: {top:?}");

    app.clock.advance(Duration::minutes(1));
    let (_, second) = app.post("/api/v1/partners/analytics/reports", &a.api_key, json!({})).await;
    assert_eq!(second["data"]["period"], "30d", "defaults: partner_performance over 30d");
    let (_, list) = app.read("/api/v1/partners/analytics/reports?per_page=1", &a.api_key).await;
    assert_eq!(cursor_masked(&list["meta"]), json!({ "page": 1, "per_page": 1, "total": 2, "next_cursor": "CURSOR" }));
    assert_eq!(list["data"][0]["id"], second["data"]["id"], "newest first");
    assert!(list["data"][0].get("data").is_none(), "lists carry no snapshot");

    let id = r["id"].as_str().unwrap();
    let (status, got) = app.read(&format!("/api/v1/partners/analytics/reports/{id}"), &a.api_key).await;
    assert_eq!((status, got["data"].clone()), (200, r.clone()));

    for csv in [
        app.http
            .get(app.url(&format!("/api/v1/partners/analytics/reports/{id}")))
            .bearer_auth(&a.api_key)
            .header("accept", "text/csv")
            .send(),
        app.http
            .get(app.url(&format!("/api/v1/partners/analytics/reports/{id}?format=csv")))
            .bearer_auth(&a.api_key)
            .send(),
    ] {
        let res = csv.await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(header(&res, "content-type").starts_with("text/csv"));
        assert!(header(&res, "content-disposition").contains(&format!("{id}.csv")));
        let text = res.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "section,metric,value");
        assert!(lines.contains(&"summary,cosell.won_value,50000"), "{text}");
        assert!(lines.contains(&"pipeline,open.value,40000"));
        assert!(lines.contains(&format!("summary,listings.avg_seo_score,{avg_score}").as_str()));
        assert_eq!(lines.iter().filter(|l| l.starts_with("top_listings,")).count(), 3);
    }

    let other = app.partner("Other Inc", "admin@other.com", "business").await;
    assert_eq!(app.read(&format!("/api/v1/partners/analytics/reports/{id}"), &other.api_key).await.0, 404);
    assert_eq!(app.read(&format!("/api/v1/partners/analytics/reports/{id}?format=xml"), &a.api_key).await.0, 422);
    let (status, body) =
        app.post("/api/v1/partners/analytics/reports", &a.api_key, json!({ "type": "sales", "period": "30d" })).await;
    assert_eq!((status, body["error"]["details"]["type"].is_array()), (422, true));
    let (status, _) = app.post("/api/v1/partners/analytics/reports", &a.api_key, json!({ "period": "2w" })).await;
    assert_eq!(status, 422);
});

on_both_backends!(monthly_reports_are_made_once_per_partner, |backend| async move {
    let Some(Fixture { app, a, .. }) = fixture(backend).await else { return };
    app.clock.set(Utc.with_ymd_and_hms(2025, 7, 1, 0, 5, 0).unwrap());
    let late = app.partner("Joined In July", "july@late.com", "business").await;
    let analytics = app.server.services.analytics();
    let made = analytics.run_monthly(&app.marketplace_id()).await.unwrap();
    assert_eq!(made, 2, "Acme and Partner Inc, not the partner that joined in July");
    assert_eq!(analytics.run_monthly(&app.marketplace_id()).await.unwrap(), 0, "once per month");
    // A second server's schedule on the same database makes none either.
    let other = spawn_on(&app.database_url, app.clock.clone(), None).await;
    assert_eq!(other.server.services.analytics().run_monthly(&app.marketplace_id()).await.unwrap(), 0);

    let (_, list) = app.read("/api/v1/partners/analytics/reports", &a.api_key).await;
    let r: &Value = &list["data"][0];
    assert_eq!((r["trigger"].clone(), r["period"].clone()), (json!("scheduled"), json!("2025-06")));
    assert_eq!(
        (r["period_start"].clone(), r["period_end"].clone()),
        (json!("2025-06-01T00:00:00Z"), json!("2025-07-01T00:00:00Z"))
    );
    let (_, full) =
        app.read(&format!("/api/v1/partners/analytics/reports/{}", r["id"].as_str().unwrap()), &a.api_key).await;
    // June: the deals created in June (days −20, −3, −2 from 30 June) and the one won then.
    assert_eq!(full["data"]["data"]["summary"]["cosell"]["opportunities"], 3);
    assert_eq!(full["data"]["data"]["summary"]["cosell"]["won_value"], 30_000);
    assert_eq!(app.read("/api/v1/partners/analytics/reports", &late.api_key).await.1["meta"]["total"], 0);
});

/// Runs SQL directly against the test database (bulk data the API would take minutes to make).
async fn execute(url: &str, sql: &str) {
    if let Some(path) = partnerd_store_sqlite::path_from_url(url) {
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || rusqlite::Connection::open(path).unwrap().execute_batch(&sql).unwrap())
            .await
            .unwrap();
        return;
    }
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
}

/// `n` copies of the opportunity `template` under new ids (SQL both dialects run).
fn clone_deal(template: &str, n: u64) -> String {
    format!(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
         INSERT INTO opportunities (id, marketplace_id, owner_partner_id, cosell_partner_id, customer_name,
             deal_value_cents, currency, description, expected_close_date, status, notes, created_by,
             created_at, updated_at, closed_at, version)
         SELECT '{template}_' || CAST(i AS TEXT), marketplace_id, owner_partner_id, cosell_partner_id, customer_name,
             deal_value_cents, currency, description, expected_close_date, status, notes, created_by,
             created_at, updated_at, closed_at, version
         FROM opportunities, k WHERE id = '{template}'"
    )
}

on_both_backends!(money_is_bounded_and_sums_never_overflow, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let opps = "/api/v1/partners/cosell/opportunities";
    let max = 1_000_000_000_000u64;

    // The maximum is accepted, a cent more (or the "10000000000000") is a 422 naming the field.
    let body = |v: Value| json!({ "customer_name": "Customer", "deal_value": v, "partner_id": b.partner_id });
    for over in [json!("10000000000000"), json!("1000000000000.01"), json!(10_000_000_000_000u64), json!(1e13)] {
        let (status, e) = app.post(opps, &a.api_key, body(over.clone())).await;
        assert_eq!((status, e["error"]["code"].clone()), (422, json!("VALIDATION_ERROR")), "{over}");
        assert!(e["error"]["details"]["deal_value"][0].as_str().unwrap().contains("at most 1000000000000"), "{e}");
    }
    let (status, open) = app.post(opps, &a.api_key, body(json!(max))).await;
    assert_eq!((status, open["data"]["deal_value"].clone()), (201, json!(max)), "{open}");
    let (status, won) = app.post(opps, &a.api_key, body(json!(format!("{max}.00")))).await;
    assert_eq!(status, 201);
    let won_path = format!("{opps}/{}", won["data"]["id"].as_str().unwrap());
    let (status, e) = app.patch(&won_path, &a.api_key, json!({ "deal_value": "1000000000000.01" })).await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["deal_value"].is_array(), "{e}");
    assert_eq!(app.patch(&won_path, &a.api_key, json!({ "status": "won" })).await.0, 200);

    // 92,234 deals of the maximum hold more cents than an i64: the case, past it.
    let copies = 92_233;
    for template in [&open, &won] {
        execute(&app.database_url, &clone_deal(template["data"]["id"].as_str().unwrap(), copies)).await;
    }
    let deals = copies + 1;
    let total = deals * max;
    // The window ends now, exclusive: read a minute after the deals were made.
    app.clock.advance(Duration::minutes(1));
    assert!(i128::from(total) * 100 > i128::from(i64::MAX));
    for who in [&a, &b] {
        let (status, s) = app.read("/api/v1/partners/analytics/summary", &who.api_key).await;
        assert_eq!(status, 200, "{s}");
        assert_eq!(
            s["data"]["cosell"],
            json!({ "opportunities": 2 * deals, "pipeline_value": total, "won_value": total }),
            "exact for the creator and for the partner named"
        );
        let (status, r) = app.post("/api/v1/partners/analytics/reports", &who.api_key, json!({ "period": "7d" })).await;
        assert_eq!(status, 201, "{r}");
        assert_eq!(r["data"]["data"]["summary"]["cosell"]["won_value"], json!(total));
        assert_eq!(r["data"]["data"]["pipeline_by_status"]["open"], json!({ "count": deals, "value": total }));
        assert_eq!(r["data"]["data"]["pipeline_by_status"]["won"], json!({ "count": deals, "value": total }));
        let id = r["data"]["id"].as_str().unwrap();
        let (status, got) = app.read(&format!("/api/v1/partners/analytics/reports/{id}"), &who.api_key).await;
        assert_eq!((status, got["data"]["data"]["pipeline_by_status"]["won"]["value"].clone()), (200, json!(total)));
        let csv = app.get(&format!("/api/v1/partners/analytics/reports/{id}?format=csv"), &who.api_key).await;
        assert_eq!(csv.status(), 200);
        assert!(csv.text().await.unwrap().contains(&format!("pipeline,won.value,{total}")));
    }
});
