//! AppReseller payment methods over HTTP on both backends: create, list and delete; every
//! field rule as a 400 naming the field; the scope table and the company rule (403);
//! isolation between resellers; one default per user; and that a card's number and security
//! code reach neither database nor the server's log.

use crate::common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const AR: &str = "/api/appReseller/v1";
/// Luhn-valid VISA test number, with separators as a client may send it.
const NUMBER: &str = "4111 1111 1111 1111";

/// A customer company of `reseller` (associated with it) and one of its users:
/// `(company id, user id)`.
async fn customer_with_user(app: &TestApp, reseller: &TestPartner, name: &str, email: &str) -> (String, String) {
    let (s, c) = app.post(&format!("{AR}/companies"), &reseller.api_key, json!({ "name": name })).await;
    assert_eq!(s, 200, "{c}");
    let company = c["id"].as_str().unwrap().to_owned();
    let (s, u) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &reseller.api_key,
            json!({ "companyId": company, "email": email, "firstName": "John", "lastName": "Jordan" }),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    (company, u["id"].as_str().unwrap().to_owned())
}

fn card(company: &str, owner: &str) -> Value {
    json!({
        "billingAddress": { "city": "Beverly Hills", "country": "US", "state": "CA", "street1": "Alden", "zip": "94203" },
        "companyId": company,
        "ownerId": owner,
        "paymentMethodType": "CARD",
        "properties": { "cardHolderName": "John Jordan", "expirationMonth": "10", "expirationYear": "2100",
            "number": NUMBER, "securityCode": "123" }
    })
}

fn assert_error(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], json!(status), "{body}");
    assert_eq!(body["code"], json!(code), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "exactly code, message, status: {body}");
}

/// 400 whose message names `field`.
fn assert_names(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 400, "{field}: {body}");
    assert_error(body, 400, "BAD_REQUEST");
    let m = body["message"].as_str().unwrap();
    assert!(m.contains(&format!("'{field}'")), "expected '{field}' named: {m}");
}

fn ids(page: &Value) -> Vec<String> {
    page["content"].as_array().expect("content").iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

fn default_ids(page: &Value) -> Vec<String> {
    let items = page["content"].as_array().expect("content");
    items.iter().filter(|i| i["default"] == json!(true)).map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

fn list_path(company: &str, owner: &str) -> String {
    format!("{AR}/paymentMethods?companyId={company}&ownerId={owner}")
}

async fn delete(app: &TestApp, key: &str, id: &str) -> (u16, Value) {
    app.send(reqwest::Method::DELETE, &format!("{AR}/paymentMethods/{id}"), key, None).await
}

on_both_backends!(a_payment_method_is_created_listed_and_deleted, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let (company, owner) = customer_with_user(&app, &acme, "Customer", "john@customer.com").await;

    let (s, m) = app.post(&format!("{AR}/paymentMethods"), &acme.api_key, card(&company, &owner)).await;
    assert_eq!(s, 200, "{m}");
    let id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(m["accountDisplay"], json!("1111"));
    assert_eq!(m["default"], json!(true), "the user's first method is the default");
    assert_eq!(m["paymentMethodType"], json!("CARD"));
    assert_eq!(m["owner"], json!({ "firstName": "John", "id": owner, "lastName": "Jordan" }));
    assert_eq!(
        m["properties"],
        json!({ "brand": "VISA", "cardHolderName": "John Jordan", "expirationMonth": "10", "expirationYear": "2100" }),
        "never the number or the security code"
    );
    assert_eq!(
        m["billingAddress"],
        json!({ "city": "Beverly Hills", "country": "US", "state": "CA", "street1": "Alden", "zip": "94203" })
    );

    let (s, list) = app.read(&list_path(&company, &owner), &acme.api_key).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["content"], json!([m.clone()]));
    assert_eq!(
        list["page"],
        json!({ "number": 1, "size": 50, "totalElements": 1, "totalPages": 1, "nextCursor": null })
    );
    let (s, typed) = app.read(&format!("{}&paymentMethodType=CARD", list_path(&company, &owner)), &acme.api_key).await;
    assert_eq!((s, ids(&typed)), (200, vec![id.clone()]));

    // Pages count from 1 and `page.number` echoes the request's.
    app.clock.advance(chrono::Duration::seconds(1));
    let mut second = card(&company, &owner);
    second["properties"]["number"] = json!("5555-5555-5555-4444");
    second["properties"]["brand"] = json!("MASTERCARD");
    let (s, m2) = app.post(&format!("{AR}/paymentMethods"), &acme.api_key, second).await;
    assert_eq!(s, 200, "{m2}");
    assert_eq!((m2["accountDisplay"].clone(), m2["default"].clone()), (json!("4444"), json!(false)));
    assert_eq!(m2["properties"]["brand"], json!("MASTERCARD"));
    let (s, p2) = app.read(&format!("{}&number=2&size=1", list_path(&company, &owner)), &acme.api_key).await;
    assert_eq!(s, 200, "{p2}");
    assert_eq!(p2["page"], json!({ "number": 2, "size": 1, "totalElements": 2, "totalPages": 2, "nextCursor": null }));
    assert_eq!(ids(&p2), vec![id.clone()], "newest first: the first one is on page 2");
    let (s, e) = app.read(&format!("{}&number=0", list_path(&company, &owner)), &acme.api_key).await;
    assert_names(s, &e, "number");

    let (s, body) = delete(&app, &acme.api_key, &id).await;
    assert_eq!((s, body), (204, Value::Null));
    let (_, list) = app.read(&list_path(&company, &owner), &acme.api_key).await;
    assert_eq!(ids(&list), vec![m2["id"].as_str().unwrap().to_owned()]);
    let (s, e) = delete(&app, &acme.api_key, &id).await;
    assert_eq!(s, 404);
    assert_error(&e, 404, "NOT_FOUND");

    // Both changes are in the event log, for the reseller's partner, with no card data.
    let events = app.events(&id).await;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["payment_method.created", "payment_method.deleted"]);
    assert!(events.iter().all(|e| e.partner_id.as_deref() == Some(acme.partner_id.as_str())));
    assert_eq!(
        events[0].payload,
        json!({ "payment_method_id": id, "company_id": company, "owner_user_id": owner, "brand": "VISA" })
    );
});

on_both_backends!(each_bad_field_is_a_400_naming_it, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let (company, owner) = customer_with_user(&app, &acme, "Customer", "john@customer.com").await;
    let post = |body: Value| {
        let (app, key) = (&app, acme.api_key.clone());
        async move { app.post(&format!("{AR}/paymentMethods"), &key, body).await }
    };
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = card(&company, &owner);
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Value)> = vec![
        ("properties.number", with(&|b| b["properties"]["number"] = json!("4111 1111 1111 1112"))),
        ("properties.number", with(&|b| b["properties"]["number"] = json!("4111 1111"))),
        ("properties.number", with(&|b| b["properties"]["number"] = json!(4111111111111111u64))),
        ("properties.securityCode", with(&|b| b["properties"]["securityCode"] = json!("12345"))),
        ("properties.expirationYear", with(&|b| b["properties"]["expirationYear"] = json!("2024"))),
        ("properties.expirationYear", with(&|b| b["properties"]["expirationYear"] = json!("24"))),
        ("properties.expirationMonth", with(&|b| b["properties"]["expirationMonth"] = json!("13"))),
        ("properties.cardHolderName", with(&|b| b["properties"]["cardHolderName"] = json!(" "))),
        ("properties.brand", with(&|b| b["properties"]["brand"] = json!("AMEX"))),
        ("ownerId", with(&|b| b.as_object_mut().unwrap().remove("ownerId").map(drop).unwrap())),
        ("companyId", with(&|b| b.as_object_mut().unwrap().remove("companyId").map(drop).unwrap())),
        ("properties", with(&|b| b.as_object_mut().unwrap().remove("properties").map(drop).unwrap())),
        ("ownerId", with(&|b| b["ownerId"] = json!(acme.user_id))),
        ("paymentMethodType", with(&|b| b["paymentMethodType"] = json!("BANK_ACCOUNT"))),
        ("billingAddress.country", with(&|b| b["billingAddress"]["country"] = json!("usa"))),
        ("default", with(&|b| b["default"] = json!("yes"))),
    ];
    for (field, body) in cases {
        let (s, e) = post(body).await;
        assert_names(s, &e, field);
    }
    // The current month (the clock stands in January 2025) is not past; last month is.
    let (s, e) = post(with(&|b| {
        b["properties"]["expirationMonth"] = json!("12");
        b["properties"]["expirationYear"] = json!("2024");
    }))
    .await;
    assert_names(s, &e, "properties.expirationYear");
    let (s, ok) = post(with(&|b| {
        b["properties"]["expirationMonth"] = json!("1");
        b["properties"]["expirationYear"] = json!("2025");
    }))
    .await;
    assert_eq!(s, 200, "{ok}");
    // Nothing refused was stored.
    let (_, list) = app.read(&list_path(&company, &owner), &acme.api_key).await;
    assert_eq!(list["page"]["totalElements"], json!(1));

    // The list's parameters are named too.
    let (s, e) = app.read(&format!("{AR}/paymentMethods?companyId={company}"), &acme.api_key).await;
    assert_names(s, &e, "ownerId");
    let (s, e) = app.read(&format!("{AR}/paymentMethods?ownerId={owner}"), &acme.api_key).await;
    assert_names(s, &e, "companyId");
    let (s, e) = app.read(&format!("{}&paymentMethodType=PAYPAL", list_path(&company, &owner)), &acme.api_key).await;
    assert_names(s, &e, "paymentMethodType");
    let (s, e) = app.read(&list_path(&company, &acme.user_id), &acme.api_key).await;
    assert_names(s, &e, "ownerId");
});

on_both_backends!(the_scope_table_and_the_company_rule_are_403, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let beta = enrol(&app, "Beta Reseller", "admin@beta.com", &["reseller"]).await;
    let (company, owner) = customer_with_user(&app, &acme, "Customer", "john@customer.com").await;
    let (beta_company, beta_owner) = customer_with_user(&app, &beta, "Beta's", "jane@betas.com").await;

    // A company not associated with the caller's.
    let (s, e) = app.post(&format!("{AR}/paymentMethods"), &acme.api_key, card(&beta_company, &beta_owner)).await;
    assert_eq!(s, 403, "{e}");
    assert_error(&e, 403, "FORBIDDEN");
    let (s, e) = app.read(&list_path(&beta_company, &beta_owner), &acme.api_key).await;
    assert_eq!(s, 403, "{e}");
    assert_error(&e, 403, "FORBIDDEN");

    // A key holding neither ROLE_RESELLER nor ROLE_SALES_SUPPORT.
    let plain = enrol(&app, "Referral Partner", "admin@referral.com", &["referral"]).await;
    let (s, e) = app.post(&format!("{AR}/paymentMethods"), &plain.api_key, card(&company, &owner)).await;
    assert_eq!(s, 403, "{e}");
    assert_error(&e, 403, "FORBIDDEN");
    let (s, e) = app.read(&list_path(&company, &owner), &plain.api_key).await;
    assert_eq!(s, 403, "{e}");
    let (s, m) = app.post(&format!("{AR}/paymentMethods"), &acme.api_key, card(&company, &owner)).await;
    assert_eq!(s, 200, "{m}");
    let (s, e) = delete(&app, &plain.api_key, m["id"].as_str().unwrap()).await;
    assert_eq!(s, 403, "{e}");
    assert_error(&e, 403, "FORBIDDEN");

    // A sales support representative acts for its own company's users.
    let support = enrol(&app, "Support Co", "admin@support.com", &["sales_support"]).await;
    let (s, m) =
        app.post(&format!("{AR}/paymentMethods"), &support.api_key, card(&support.company_id, &support.user_id)).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["default"], json!(true));
});

on_both_backends!(resellers_see_and_delete_only_their_own_methods, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let beta = enrol(&app, "Beta Reseller", "admin@beta.com", &["reseller"]).await;
    let (company, owner) = customer_with_user(&app, &acme, "Shared Customer", "john@customer.com").await;
    // The operator associates the customer with Beta too: both may act for its user.
    let operator = app.server.bootstrap.operator_key.clone().unwrap();
    let (s, a) = app
        .post(
            &format!("{AR}/companyAssociations"),
            &operator,
            json!({ "customerCompanyId": company, "resellerCompanyId": beta.company_id }),
        )
        .await;
    assert_eq!(s, 200, "{a}");

    let (s, mine) = app.post(&format!("{AR}/paymentMethods"), &acme.api_key, card(&company, &owner)).await;
    assert_eq!(s, 200, "{mine}");
    let mine = mine["id"].as_str().unwrap().to_owned();
    let (s, list) = app.read(&list_path(&company, &owner), &beta.api_key).await;
    assert_eq!((s, ids(&list)), (200, vec![]), "Acme's method is absent from Beta's list");
    assert_eq!(list["page"]["totalElements"], json!(0));
    let (s, e) = delete(&app, &beta.api_key, &mine).await;
    assert_eq!(s, 404, "{e}");
    assert_error(&e, 404, "NOT_FOUND");

    // Beta's own method for the same user is Beta's default; Acme's is untouched.
    let (s, theirs) = app.post(&format!("{AR}/paymentMethods"), &beta.api_key, card(&company, &owner)).await;
    assert_eq!(s, 200, "{theirs}");
    assert_eq!(theirs["default"], json!(true));
    let (_, list) = app.read(&list_path(&company, &owner), &acme.api_key).await;
    assert_eq!((ids(&list), default_ids(&list)), (vec![mine.clone()], vec![mine.clone()]));
    let (s, e) = delete(&app, &acme.api_key, theirs["id"].as_str().unwrap()).await;
    assert_eq!(s, 404, "{e}");
    let (_, list) = app.read(&list_path(&company, &owner), &beta.api_key).await;
    assert_eq!(ids(&list), vec![theirs["id"].as_str().unwrap().to_owned()]);
});

on_both_backends!(each_user_has_one_default, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let (company, owner) = customer_with_user(&app, &acme, "Customer", "john@customer.com").await;
    let create = |default: Option<bool>| {
        let (app, key) = (&app, acme.api_key.clone());
        let mut body = card(&company, &owner);
        if let Some(d) = default {
            body["default"] = json!(d);
        }
        async move {
            let (s, m) = app.post(&format!("{AR}/paymentMethods"), &key, body).await;
            assert_eq!(s, 200, "{m}");
            app.clock.advance(chrono::Duration::seconds(1));
            m["id"].as_str().unwrap().to_owned()
        }
    };
    let defaults = || async { default_ids(&app.read(&list_path(&company, &owner), &acme.api_key).await.1) };
    let first = create(Some(false)).await;
    assert_eq!(defaults().await, vec![first.clone()], "the first method is the default, whatever it asks");
    let second = create(None).await;
    assert_eq!(defaults().await, vec![first.clone()]);
    let third = create(Some(true)).await;
    assert_eq!(defaults().await, vec![third.clone()], "a new default moves it");
    let fourth = create(None).await;
    let (s, _) = delete(&app, &acme.api_key, &third).await;
    assert_eq!(s, 204);
    assert_eq!(defaults().await, vec![fourth.clone()], "deleting the default promotes the newest remaining one");
    let (s, _) = delete(&app, &acme.api_key, &first).await;
    assert_eq!(s, 204);
    assert_eq!(defaults().await, vec![fourth.clone()], "deleting another leaves the default alone");
    let (s, _) = delete(&app, &acme.api_key, &fourth).await;
    assert_eq!(s, 204);
    assert_eq!(defaults().await, vec![second.clone()]);
});

/// `needle` as a token of its own: not inside a longer run of letters and digits (a short code
/// could otherwise match a timestamp or a random id by chance).
fn contains_token(haystack: &[u8], needle: &str) -> bool {
    let n = needle.len();
    haystack.windows(n).enumerate().any(|(i, w)| {
        w == needle.as_bytes()
            && (i == 0 || !haystack[i - 1].is_ascii_alphanumeric())
            && haystack.get(i + n).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// `partnerd serve` on `database_url`, logging everything at trace level: its address and its
/// stderr lines as they come.
fn serve(database_url: &str, backend: Backend) -> (std::process::Child, String, Arc<Mutex<Vec<String>>>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_partnerd"));
    if matches!(backend, Backend::Postgres) {
        // Required on PostgreSQL (webhook secrets at rest).
        command.env("PARTNERD_SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    } else {
        command.env_remove("PARTNERD_SECRET_KEY");
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("PARTNERD_DATABASE_URL", database_url)
        .env("PARTNERD_LOG", "trace")
        .env_remove("PARTNERD_SECRET_KEYS")
        .env_remove("PARTNERD_CONFIG")
        .env_remove("PARTNERD_REDIS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start partnerd serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let addr = loop {
        let Some(line) = lines.next() else { panic!("serve exited before listening: {:?}", log.lock().unwrap()) };
        let line = line.unwrap();
        let addr = line.split("listening on http://").nth(1).map(|r| r.split_whitespace().next().unwrap().to_owned());
        log.lock().unwrap().push(line);
        if let Some(a) = addr {
            break a;
        }
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, format!("http://{addr}"), log)
}

on_both_backends!(card_numbers_and_codes_reach_no_database_and_no_log, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let (company, owner) = customer_with_user(&app, &acme, "Customer", "john@customer.com").await;
    let number = "4000 0566 5566 5556";
    // A leading zero: no count, duration or port is written so, so a match is not chance.
    let code = "0429";
    let variants = ["4000056655665556", "4000 0566 5566 5556", "4000-0566-5566-5556"];

    // Another process serves these requests, logging at trace level.
    let (mut child, base, log) = serve(&app.database_url, backend);
    let http = Http::new();
    let post = |body: Value, idempotency: &str| {
        http.post(format!("{base}{AR}/paymentMethods"))
            .bearer_auth(&acme.api_key)
            .header("Idempotency-Key", idempotency.to_owned())
            .json(&body)
            .send()
    };
    let mut body = card(&company, &owner);
    body["properties"]["number"] = json!(number);
    body["properties"]["securityCode"] = json!(code);
    let r = post(body.clone(), "pm-create-1").await.unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["accountDisplay"], json!("5556"));
    let text = created.to_string();
    assert!(variants.iter().all(|v| !text.contains(v)) && !contains_token(text.as_bytes(), code), "{text}");
    // Refused requests, kept for their Idempotency-Key too: their messages repeat nothing.
    let mut wrong_type = body.clone();
    wrong_type["properties"]["number"] = json!(4_000_056_655_665_556u64);
    let mut bad_code = body.clone();
    bad_code["properties"]["securityCode"] = json!(format!("{code}9"));
    bad_code["properties"]["number"] = json!("4000-0566-5566-5557");
    let mut as_text = body.clone();
    as_text["properties"] = json!(number);
    for (i, b) in [wrong_type, bad_code, as_text].into_iter().enumerate() {
        let r = post(b, &format!("pm-refused-{i}")).await.unwrap();
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(!text.contains("4000") && !text.contains(code), "{text}");
    }
    let r = http.get(format!("{base}{}", list_path(&company, &owner))).bearer_auth(&acme.api_key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("/api/appReseller/v1/paymentMethods"), "the requests' log lines are captured:\n{log}");
    for v in variants.iter().chain(&["4000-0566-5566-5557", "4000056655665557"]) {
        assert!(!log.contains(v), "the card number is in the log:\n{log}");
    }
    assert!(!contains_token(log.as_bytes(), code), "the security code is in the log:\n{log}");

    let all = dump_every_row(&app.database_url).await;
    assert!(contains_bytes(&all, created["id"].as_str().unwrap()), "the dump holds the method");
    // (Kept responses are encrypted at rest; the refusals' texts were checked as they came.)
    assert!(contains_bytes(&all, "pm-refused-2"), "the dump holds the kept refusals");
    for v in variants.iter().chain(&["4000-0566-5566-5557", "4000056655665557"]) {
        assert!(!contains_bytes(&all, v), "the card number is stored ({v})");
    }
    assert!(!contains_token(&all, code), "the security code is stored");
    assert!(!contains_bytes(&all, &format!("\"{code}")) && !contains_bytes(&all, &format!("{code}9")));
});
