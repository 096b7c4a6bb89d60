//! Keyset paging beyond the documents (issue 17, item 1): on one list of each surface, following
//! the next cursor from the first page to the last gives exactly what page numbers (or offsets)
//! give; a cursor this server did not make, or one of another order, is refused in the
//! surface's own bad-parameter shape, never a 5xx.

use crate::common::*;
use serde_json::{Value, json};

const LISTINGS: &str = "/api/v1/partners/listings";
const CUSTOMERS: &str = "/api/v1/partners/customers";
const AR: &str = "/api/appReseller/v1";
const LEADS: &str = "/api/lead/v2/leads";

fn ids(items: &Value) -> Vec<String> {
    items.as_array().expect("a list").iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

fn enc(cursor: &str) -> String {
    // Cursors are URL-safe base64 already; nothing to escape.
    assert!(cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{cursor}");
    cursor.to_owned()
}

/// Follows `next` (read from each page by `cursor_of`) from the first page, `path` ending in a
/// query so `&cursor=…` can be added: the ids of every page, in order, and the page count.
async fn follow(
    app: &TestApp,
    key: &str,
    path: &str,
    items_of: fn(&Value) -> Value,
    cursor_of: fn(&Value) -> Value,
) -> (Vec<String>, usize) {
    let (mut all, mut pages, mut url) = (Vec::new(), 0, path.to_owned());
    loop {
        let (s, body) = app.read(&url, key).await;
        assert_eq!(s, 200, "{url}: {body}");
        all.extend(ids(&items_of(&body)));
        pages += 1;
        assert!(pages < 100, "the walk ends");
        match cursor_of(&body) {
            Value::String(c) => url = format!("{path}&cursor={}", enc(&c)),
            Value::Null => return (all, pages),
            other => panic!("a cursor is a string or null: {other}"),
        }
    }
}

fn no_repeats(ids: &[String]) {
    let set: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "no row twice: {ids:?}");
}

/// The partners surface's 422 naming `cursor`.
fn partners_refusal(s: u16, body: &Value) {
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
    assert!(body["error"]["details"].get("cursor").is_some(), "names cursor: {body}");
}

/// The AppReseller family's 400 `{code, message, status}` naming `cursor`.
fn reseller_refusal(s: u16, body: &Value) {
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["status"], json!(400), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "exactly code, message, status: {body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("cursor")), "names cursor: {body}");
}

on_both_backends!(partner_listings_follow_next_cursor_to_the_end, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Acme Corp", "admin@acme.com", "business").await;
    // The clock stands still: every listing has the same creation time, the order is the id's.
    for i in 0..7 {
        let status = if i % 3 == 0 { "draft" } else { "active" };
        let (s, b) = app.post(LISTINGS, &p.api_key, json!({ "title": format!("Listing {i}"), "status": status })).await;
        assert_eq!(s, 201, "{b}");
    }
    for (filter, total) in [("", 7u64), ("status=active&", 4)] {
        let mut by_page = Vec::new();
        for page in 1u32..=4 {
            let (s, b) = app.read(&format!("{LISTINGS}?{filter}per_page=2&page={page}"), &p.api_key).await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["meta"]["total"], json!(total));
            assert_eq!(b["meta"]["next_cursor"].is_string(), u64::from(page) * 2 < total, "page {page}: {b}");
            by_page.extend(ids(&b["data"]));
        }
        let (by_cursor, pages) = follow(
            &app,
            &p.api_key,
            &format!("{LISTINGS}?{filter}per_page=2"),
            |b| b["data"].clone(),
            |b| b["meta"]["next_cursor"].clone(),
        )
        .await;
        assert_eq!(by_cursor, by_page, "{filter}");
        assert_eq!((by_cursor.len() as u64, pages as u64), (total, total.div_ceil(2)));
        no_repeats(&by_cursor);
    }
    // A page read by cursor has no number; the cursor wins over `page`.
    let (_, first) = app.read(&format!("{LISTINGS}?per_page=2"), &p.api_key).await;
    let c = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (s, second) = app.read(&format!("{LISTINGS}?per_page=2&page=3&cursor={c}"), &p.api_key).await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["meta"]["page"], json!(0));
    let (_, numbered) = app.read(&format!("{LISTINGS}?per_page=2&page=2"), &p.api_key).await;
    assert_eq!(ids(&second["data"]), ids(&numbered["data"]));

    for bad in ["abc", "", "%00", &c[..c.len() - 1], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let (s, body) = app.read(&format!("{LISTINGS}?cursor={bad}"), &p.api_key).await;
        assert!(s < 500, "{bad:?}: {s} {body}");
        if !bad.is_empty() {
            partners_refusal(s, &body);
        }
    }
    // A cursor of another list's order (the customers list's) is refused too.
    for i in 0..2 {
        let body = json!({ "company_name": format!("Customer {i}"), "contact_email": format!("c{i}@x.example"),
            "contact_name": "C", "plan": "professional", "billing_cycle": "monthly" });
        let (s, b) = app.post(CUSTOMERS, &p.api_key, body).await;
        assert_eq!(s, 201, "{b}");
    }
    let (_, customers) = app.read(&format!("{CUSTOMERS}?limit=1"), &p.api_key).await;
    let other = customers["meta"]["next_cursor"].as_str().expect("a next page").to_owned();
    let (s, body) = app.read(&format!("{LISTINGS}?cursor={other}"), &p.api_key).await;
    partners_refusal(s, &body);
});

on_both_backends!(reseller_offset_lists_follow_next_cursor_to_the_end, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    for i in 0..5 {
        let body = json!({ "company_name": format!("Customer {i}"), "contact_email": format!("c{i}@x.example"),
            "contact_name": "C", "plan": "professional", "billing_cycle": "monthly" });
        let (s, b) = app.post(CUSTOMERS, &p.api_key, body).await;
        assert_eq!(s, 201, "{b}");
        app.clock.advance(chrono::Duration::seconds(i64::from(i % 2)));
    }
    let mut by_offset = Vec::new();
    for offset in [0, 2, 4] {
        let (s, b) = app.read(&format!("{CUSTOMERS}?limit=2&offset={offset}"), &p.api_key).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["meta"]["offset"], json!(offset));
        assert_eq!(b["meta"]["next_cursor"].is_string(), offset + 2 < 5, "{b}");
        by_offset.extend(ids(&b["data"]));
    }
    let (by_cursor, pages) = follow(
        &app,
        &p.api_key,
        &format!("{CUSTOMERS}?limit=2"),
        |b| b["data"].clone(),
        |b| b["meta"]["next_cursor"].clone(),
    )
    .await;
    assert_eq!((by_cursor.clone(), pages), (by_offset, 3));
    no_repeats(&by_cursor);
    // On a page read by cursor `offset` is not used, and `meta.offset` is 0.
    let (_, first) = app.read(&format!("{CUSTOMERS}?limit=2"), &p.api_key).await;
    let c = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (s, second) = app.read(&format!("{CUSTOMERS}?limit=2&offset=4&cursor={c}"), &p.api_key).await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["meta"]["offset"], json!(0));
    assert_eq!(ids(&second["data"]), by_cursor[2..4].to_vec());

    let (s, body) = app.read(&format!("{CUSTOMERS}?cursor=abc"), &p.api_key).await;
    partners_refusal(s, &body);
    // A listings cursor is of another order.
    for i in 0..2 {
        app.post(LISTINGS, &p.api_key, json!({ "title": format!("L{i}") })).await;
    }
    let (_, listings) = app.read(&format!("{LISTINGS}?per_page=1"), &p.api_key).await;
    let other = listings["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (s, body) = app.read(&format!("{CUSTOMERS}?cursor={other}"), &p.api_key).await;
    partners_refusal(s, &body);
});

on_both_backends!(app_reseller_companies_follow_the_next_cursor_header, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    for i in 0..5 {
        let (s, c) = app.post(&format!("{AR}/companies"), &r.api_key, json!({ "name": format!("Co {i}") })).await;
        assert_eq!(s, 200, "{c}");
        app.clock.advance(chrono::Duration::seconds(i64::from(i % 2)));
    }
    let base = format!("{AR}/companies?context=RESELLER&size=2");
    for sort in ["", "&sortField=CREATED_ON&sortOrder=ASC", "&sortField=COMPANY_ID&sortOrder=DESC"] {
        let mut by_page = Vec::new();
        for page in 0..3 {
            let (s, b) = app.read(&format!("{base}{sort}&page={page}"), &r.api_key).await;
            assert_eq!(s, 200, "{b}");
            by_page.extend(ids(&b));
        }
        let (mut by_cursor, mut url, mut pages) = (Vec::new(), format!("{base}{sort}"), 0);
        loop {
            let resp = app.get(&url, &r.api_key).await;
            assert_eq!(resp.status().as_u16(), 200);
            let next = resp.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
            by_cursor.extend(ids(&json(resp).await));
            pages += 1;
            assert!(pages < 10);
            match next {
                Some(c) => url = format!("{base}{sort}&cursor={}", enc(&c)),
                None => break,
            }
        }
        assert_eq!((by_cursor.clone(), pages), (by_page, 3), "{sort}");
        assert_eq!(by_cursor.len(), 5);
        no_repeats(&by_cursor);
    }
    let (s, body) = app.read(&format!("{base}&cursor=abc"), &r.api_key).await;
    reseller_refusal(s, &body);
    // A cursor of the default sort (newest first) with another sort.
    let resp = app.get(&base, &r.api_key).await;
    let c = resp.headers().get("x-next-cursor").unwrap().to_str().unwrap().to_owned();
    for other in ["&sortField=COMPANY_ID", "&sortOrder=ASC"] {
        let (s, body) = app.read(&format!("{base}{other}&cursor={c}"), &r.api_key).await;
        reseller_refusal(s, &body);
    }
    let (s, _) = app.read(&format!("{base}&cursor={c}"), &r.api_key).await;
    assert_eq!(s, 200, "the same sort takes it");
});

on_both_backends!(leads_v2_follow_next_cursor_to_the_end, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@resellers.example", &["reseller"]).await;
    let q = format!("context=RESELLER&companyId={}", a.company_id);
    // Equal names in several cases, and equal times: the sort key ties and the id decides.
    for (i, name) in ["beta", "Alpha", "BETA", "alpha", "Gamma", "beta", "alpha"].iter().enumerate() {
        let body = json!({ "leadType": "MANUAL", "customer": { "company": { "name": name, "country": "US" },
            "contact": { "email": format!("c{i}@x.example"), "firstName": "J", "lastName": "D" } } });
        let (s, l) = app.post(&format!("{LEADS}?{q}"), &a.api_key, body).await;
        assert_eq!(s, 201, "{l}");
        if i % 3 == 0 {
            app.clock.advance(chrono::Duration::seconds(1));
        }
    }
    for sort in ["&sortField=COMPANY_NAME&sortOrder=ASC", "&sortField=COMPANY_NAME&sortOrder=DESC", ""] {
        let base = format!("{LEADS}?{q}&size=2{sort}");
        let mut by_page = Vec::new();
        for page in 0..4 {
            let (s, b) = app.read(&format!("{base}&page={page}"), &a.api_key).await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["page"]["totalElements"], json!(7));
            assert_eq!(b["page"]["nextCursor"].is_string(), page < 3, "page {page}: {b}");
            by_page.extend(ids(&b["content"]));
        }
        let (by_cursor, pages) =
            follow(&app, &a.api_key, &base, |b| b["content"].clone(), |b| b["page"]["nextCursor"].clone()).await;
        assert_eq!((by_cursor.clone(), pages), (by_page, 4), "{sort}");
        no_repeats(&by_cursor);
    }
    let base = format!("{LEADS}?{q}&size=2");
    let (_, first) = app.read(&format!("{base}&sortField=COMPANY_NAME&sortOrder=ASC"), &a.api_key).await;
    let c = first["page"]["nextCursor"].as_str().unwrap().to_owned();
    let (s, second) =
        app.read(&format!("{base}&sortField=COMPANY_NAME&sortOrder=ASC&page=3&cursor={c}"), &a.api_key).await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["page"]["number"], json!(0), "a page read by cursor has no number");
    for other in ["", "&sortField=COMPANY_NAME&sortOrder=DESC", "&sortField=DATE&sortOrder=ASC"] {
        let (s, body) = app.read(&format!("{base}{other}&cursor={c}"), &a.api_key).await;
        reseller_refusal(s, &body);
    }
    for bad in ["abc", "%00", &c[..c.len() - 2]] {
        let (s, body) = app.read(&format!("{base}&cursor={bad}"), &a.api_key).await;
        reseller_refusal(s, &body);
    }
});
