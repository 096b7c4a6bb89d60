//! AppReseller subscriptions, orders and seat assignments over HTTP on both backends: buying
//! from the catalog, changing and cancelling, every error's field, the scope and context rules,
//! isolation between resellers, the orders filters, seats (limits, idempotent unassign, real
//! concurrency), and the billing a purchase feeds (invoices, commissions, company stats).

use crate::common::*;
use serde_json::{Value, json};

pub(crate) const AR: &str = "/api/appReseller/v1";

/// A customer company of `reseller`, with users named `users` (e-mails from their names).
pub(crate) async fn customer(
    app: &TestApp,
    reseller: &TestPartner,
    name: &str,
    users: &[&str],
) -> (String, Vec<String>) {
    let (s, c) = app.post(&format!("{AR}/companies"), &reseller.api_key, json!({ "name": name })).await;
    assert_eq!(s, 200, "{c}");
    let cid = c["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for u in users {
        let body = json!({ "companyId": cid, "createdByCompanyId": reseller.company_id,
            "email": format!("{}@{}.example", u.to_lowercase(), name.to_lowercase().replace(' ', "-")),
            "firstName": u, "lastName": "Jordan" });
        let (s, made) = app.post(&format!("{AR}/users?context=RESELLER"), &reseller.api_key, body).await;
        assert_eq!(s, 200, "{made}");
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    (cid, ids)
}

/// The plans of the imported catalog, by name.
pub(crate) struct Plans {
    pub(crate) monthly: String,
    pub(crate) yearly: String,
    pub(crate) session: String,
    pub(crate) free: String,
    pub(crate) other_product: String,
}

/// Imports the test catalog: "Suite" with a "Pro" edition (monthly and yearly, USER 10.00 +
/// markups 1.50 and 0.50 for 1 to 50 users, plus a flat 5.00 platform fee), a one-time
/// "Session" edition and a free "Trial" edition; and "Other" with one plan.
pub(crate) async fn catalog(app: &TestApp) -> Plans {
    let file = catalog_file(60);
    let products = app.server.services.catalog().import(&app.marketplace_id(), &file).await.expect("import");
    let plan = |p: usize, e: usize, i: usize| products[p].editions[e].payment_plans[i].id.clone();
    Plans {
        monthly: plan(0, 0, 0),
        yearly: plan(0, 0, 1),
        session: plan(0, 1, 0),
        free: plan(0, 2, 0),
        other_product: plan(1, 0, 0),
    }
}

/// The test catalog's import file, a session costing `session_usd` (60 in [`catalog`]; an
/// import of another price re-prices the same plans, which keep their ids).
pub(crate) fn catalog_file(session_usd: u32) -> Value {
    json!([
        { "name": "Suite", "provider": "Acme", "editions": [
            { "name": "Pro", "revenueType": "RECURRING", "paymentPlans": [
                { "frequency": "MONTHLY", "costs": [
                    { "unit": "USER", "pricingStrategy": "UNIT", "itemPrices": { "USD": 10, "EUR": 9 }, "minUnits": 1, "maxUnits": 50,
                      "markupPrices": [
                        { "markupType": "CHANNEL_RESELLER_COMPANY", "markupPrices": { "USD": 1.5 } },
                        { "markupType": "RESELLER_COMPANY", "markupPrices": { "USD": "0.50" } } ] },
                    { "unit": "NOT_APPLICABLE", "pricingStrategy": "FLAT_RATE", "itemPrices": { "USD": 5, "EUR": 5 } } ] },
                { "frequency": "YEARLY", "costs": [
                    { "unit": "USER", "pricingStrategy": "UNIT", "itemPrices": { "USD": 100 }, "minUnits": 1, "maxUnits": 50 } ] } ] },
            { "name": "Session", "revenueType": "ONE_TIME", "paymentPlans": [
                { "frequency": "ONE_TIME", "costs": [
                    { "unit": "SESSION", "pricingStrategy": "UNIT", "itemPrices": { "USD": session_usd }, "minUnits": 1, "maxUnits": 10 } ] } ] },
            { "name": "Trial", "revenueType": "RECURRING", "paymentPlans": [
                { "frequency": "MONTHLY", "costs": [
                    { "unit": "USER", "pricingStrategy": "UNIT", "itemPrices": { "USD": 0 }, "minUnits": 1, "maxUnits": 5 } ] } ] } ] },
        { "name": "Other", "provider": "Acme", "editions": [
            { "name": "Basic", "revenueType": "RECURRING", "paymentPlans": [
                { "frequency": "MONTHLY", "costs": [
                    { "unit": "USER", "pricingStrategy": "UNIT", "itemPrices": { "USD": 3 } } ] } ] } ] }
    ])
}

pub(crate) fn buy(plan: &str, company: &str, user: &str, users: u32) -> Value {
    json!({ "paymentPlanId": plan, "targetCompanyId": company, "targetUserId": user,
        "orderLines": [{ "quantity": users.to_string(), "unit": "USER" }] })
}

pub(crate) fn assert_error(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], json!(status), "{body}");
    assert_eq!(body["code"], json!(code), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "exactly code, message, status: {body}");
}

pub(crate) fn assert_names(body: &Value, field: &str) {
    assert_error(body, 400, "BAD_REQUEST");
    assert!(body["message"].as_str().unwrap().contains(&format!("'{field}'")), "{field}: {body}");
}

pub(crate) fn stat(d: &Value, unit: &str) -> Value {
    d["stats"].as_array().unwrap().iter().find(|s| s["unit"] == unit).unwrap()["children"].clone()
}

pub(crate) fn ms(app: &TestApp) -> i64 {
    use partnerd_domain::Clock;
    app.clock.now().timestamp_millis()
}

on_both_backends!(a_subscription_is_bought_changed_and_cancelled, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Michael"]).await;
    let bought_at = ms(&app);

    let (s, sub) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 3)).await;
    assert_eq!(s, 200, "{sub}");
    let id = sub["id"].as_str().unwrap().to_owned();
    let first_order = sub["activeOrder"]["id"].as_str().unwrap().to_owned();
    // (10.00 + 1.50 + 0.50) × 3 users + the flat 5.00, exactly.
    assert_eq!(
        sub["activeOrder"],
        json!({ "createdOn": bought_at, "editionName": "Pro", "frequency": "MONTHLY", "id": first_order,
            "orderCartId": first_order, "paymentPlanId": plans.monthly, "status": "ACTIVE", "totalFee": "USD41.00",
            "orderLines": [{ "quantity": "3", "unit": "USER" }, { "quantity": "1", "unit": "NOT_APPLICABLE" }] })
    );
    assert_eq!(sub["applicationName"], "Suite");
    assert_eq!(sub["company"], json!({ "id": c, "name": "Company A" }));
    assert_eq!(sub["user"], json!({ "firstName": "Michael", "id": users[0], "lastName": "Jordan" }));
    assert_eq!((sub["status"].clone(), sub["createdOn"].clone()), (json!("ACTIVE"), json!(bought_at)));

    let (s, got) = app.read(&format!("{AR}/subscriptions/{id}"), &r.api_key).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got, sub);
    let list = format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c}");
    let (s, page) = app.read(&list, &r.api_key).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        page["page"],
        json!({ "number": 1, "size": 10, "totalElements": 1, "totalPages": 1, "nextCursor": null })
    );
    assert_eq!(page["content"][0]["id"], json!(id));
    assert_eq!(page["content"][0]["activeOrder"]["totalFee"], "USD41.00");
    assert!(page["content"][0].get("createdOn").is_none(), "the light shape");

    // The order invoices the customer company and earns the reseller's partner its commission.
    let (_, inv) = app.read(&format!("/api/v1/partners/invoices?customer_id={c}"), &r.api_key).await;
    let invoices = inv["data"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{inv}");
    assert_eq!(invoices[0]["total"].as_f64(), Some(41.0), "{inv}");
    let events: Vec<String> = app.events(&id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(events, ["subscription.created"]);
    assert_eq!(app.events(&first_order).await[0].event_type, "order.created");
    let (_, company) = app.read(&format!("{AR}/companies/{c}?context=RESELLER"), &r.api_key).await;
    assert_eq!(stat(&company, "Purchased Products"), json!("1"));
    assert_eq!(stat(&company, "Unpaid Invoices"), json!("1"));

    // Ten days into the 31-day period: 5 users. A new active order, the old one finished, and
    // the difference prorated onto one invoice (−41.00 × 21/31 + 65.00 × 21/31 = 16.26).
    app.clock.advance(chrono::Duration::days(10));
    let change = json!({ "paymentPlanId": plans.monthly, "orderLines": [{ "quantity": 5, "unit": "USER" }] });
    let (s, changed) = app.put(&format!("{AR}/subscriptions/{id}"), &r.api_key, change.clone()).await;
    assert_eq!(s, 200, "{changed}");
    let second_order = changed["activeOrder"]["id"].as_str().unwrap().to_owned();
    assert_ne!(second_order, first_order);
    assert_eq!(changed["activeOrder"]["totalFee"], "USD65.00");
    assert_eq!(changed["activeOrder"]["orderLines"][0], json!({ "quantity": "5", "unit": "USER" }));
    assert_eq!(changed["activeOrder"]["createdOn"], json!(ms(&app)));
    let (_, inv) = app.read(&format!("/api/v1/partners/invoices?customer_id={c}"), &r.api_key).await;
    assert_eq!(inv["data"].as_array().unwrap().len(), 2);
    assert_eq!(inv["data"][0]["total"].as_f64(), Some(16.26), "{inv}");
    let orders = format!("{AR}/orders?context=RESELLER&customerCompanyId={c}");
    let (_, o) = app.read(&orders, &r.api_key).await;
    let statuses: Vec<(&str, &str)> = o["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_str().unwrap(), x["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [(second_order.as_str(), "ACTIVE"), (first_order.as_str(), "FINISHED")]);
    // The same request again changes nothing: no third order.
    let (s, same) = app.put(&format!("{AR}/subscriptions/{id}"), &r.api_key, change).await;
    assert_eq!((s, same["activeOrder"]["id"].clone()), (200, json!(second_order)));
    let kinds: Vec<String> = app.events(&id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(kinds, ["subscription.created", "subscription.changed"]);

    // A yearly plan of the same product: a new period, the monthly's unused time credited.
    let (s, yearly) = app
        .put(
            &format!("{AR}/subscriptions/{id}"),
            &r.api_key,
            json!({ "paymentPlanId": plans.yearly, "orderLines": [{ "quantity": 5, "unit": "USER" }] }),
        )
        .await;
    assert_eq!(s, 200, "{yearly}");
    assert_eq!(
        (yearly["activeOrder"]["frequency"].clone(), yearly["activeOrder"]["totalFee"].clone()),
        (json!("YEARLY"), json!("USD500.00"))
    );

    // Cancel: 204, readable as CANCELLED, again 204; no change after.
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{AR}/subscriptions/{id}"), &r.api_key, None).await;
    assert_eq!(s, 204);
    let (_, gone) = app.read(&format!("{AR}/subscriptions/{id}"), &r.api_key).await;
    assert_eq!(
        (gone["status"].clone(), gone["activeOrder"]["status"].clone()),
        (json!("CANCELLED"), json!("CANCELLED"))
    );
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{AR}/subscriptions/{id}"), &r.api_key, None).await;
    assert_eq!(s, 204);
    let (s, e) = app
        .put(
            &format!("{AR}/subscriptions/{id}"),
            &r.api_key,
            json!({ "paymentPlanId": plans.monthly, "orderLines": [{ "quantity": 2, "unit": "USER" }] }),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "NOT_CHANGEABLE");
    let (_, company) = app.read(&format!("{AR}/companies/{c}?context=RESELLER"), &r.api_key).await;
    assert_eq!(stat(&company, "Purchased Products"), json!("0"));
    let kinds: Vec<String> = app.events(&id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(kinds.last().map(String::as_str), Some("subscription.cancelled"));
    // The edition can be bought again once the old subscription is cancelled.
    let (s, again) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 1)).await;
    assert_eq!(s, 200, "{again}");
});

on_both_backends!(bad_purchases_are_refused_naming_the_field, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let other = enrol(&app, "Other", "o@o.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Michael"]).await;
    let (c2, users2) = customer(&app, &r, "Company B", &["Mary"]).await;
    let (foreign, _) = customer(&app, &other, "Foreign", &["Zed"]).await;
    let post = |body: Value| {
        let app = &app;
        let key = r.api_key.clone();
        async move { app.post(&format!("{AR}/subscriptions"), &key, body).await }
    };

    let (s, first) = post(buy(&plans.monthly, &c, &users[0], 2)).await;
    assert_eq!(s, 200, "{first}");
    let (s, e) = post(buy(&plans.yearly, &c, &users[0], 2)).await;
    assert_eq!(s, 409, "a second live subscription of the edition: {e}");
    assert_error(&e, 409, "ALREADY_SUBSCRIBED");

    for (body, field) in [
        (buy(&plans.monthly, &foreign, &users[0], 1), "targetCompanyId"),
        (buy(&plans.monthly, "company_nope", &users[0], 1), "targetCompanyId"),
        (buy(&plans.monthly, &c2, &users[0], 1), "targetUserId"),
        (buy("plan_nope", &c2, &users2[0], 1), "paymentPlanId"),
        (buy(&plans.monthly, &c2, &users2[0], 0), "orderLines[0].quantity"),
        (buy(&plans.monthly, &c2, &users2[0], 51), "orderLines[0].quantity"),
        (
            json!({ "paymentPlanId": plans.monthly, "targetCompanyId": c2, "targetUserId": users2[0],
            "orderLines": [{ "quantity": "1", "unit": "DEVICE" }] }),
            "orderLines[0].unit",
        ),
        (
            json!({ "paymentPlanId": plans.monthly, "targetCompanyId": c2, "targetUserId": users2[0],
            "orderLines": [{ "quantity": "lots", "unit": "USER" }] }),
            "orderLines[0].quantity",
        ),
        (
            json!({ "paymentPlanId": plans.monthly, "targetCompanyId": c2, "targetUserId": users2[0],
            "orderLines": [{ "quantity": "1", "unit": "SEAT" }] }),
            "orderLines[0].unit",
        ),
        (json!({ "targetCompanyId": c2, "targetUserId": users2[0] }), "paymentPlanId"),
        (json!({ "paymentPlanId": plans.monthly, "targetUserId": users2[0] }), "targetCompanyId"),
        (json!({ "paymentPlanId": plans.monthly, "targetCompanyId": c2 }), "targetUserId"),
        (
            json!({ "paymentPlanId": plans.monthly, "targetCompanyId": c2, "targetUserId": users2[0],
            "parentSubscriptionId": "sub_nope" }),
            "parentSubscriptionId",
        ),
    ] {
        let (s, e) = post(body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_names(&e, field);
    }
    // Nothing was half-written by any of them.
    let (_, page) = app.read(&format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c2}"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 0, "{page}");
    let (_, inv) = app.read(&format!("/api/v1/partners/invoices?customer_id={c2}"), &r.api_key).await;
    assert_eq!(inv["data"], json!([]));

    // Malformed JSON and wrong types are 400 in the family's shape.
    let resp = app
        .http
        .post(app.url(&format!("{AR}/subscriptions")))
        .bearer_auth(&r.api_key)
        .header("content-type", "application/json")
        .body("{\"paymentPlanId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_error(&json(resp).await, 400, "BAD_REQUEST");
    let (s, e) = post(json!({ "paymentPlanId": 7 })).await;
    assert_eq!(s, 400, "{e}");

    // An update needs both fields, a plan of the same product, and lines within the limits.
    let id = first["id"].as_str().unwrap();
    let put = |body: Value| {
        let app = &app;
        let key = r.api_key.clone();
        let path = format!("{AR}/subscriptions/{id}");
        async move { app.put(&path, &key, body).await }
    };
    for (body, field) in [
        (json!({ "paymentPlanId": plans.monthly }), "orderLines"),
        (json!({ "orderLines": [{ "quantity": 2, "unit": "USER" }] }), "paymentPlanId"),
        (
            json!({ "paymentPlanId": plans.other_product, "orderLines": [{ "quantity": 2, "unit": "USER" }] }),
            "paymentPlanId",
        ),
        (
            json!({ "paymentPlanId": plans.monthly, "orderLines": [{ "quantity": 99, "unit": "USER" }] }),
            "orderLines[0].quantity",
        ),
    ] {
        let (s, e) = put(body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_names(&e, field);
    }
    let (s, e) = app
        .put(
            &format!("{AR}/subscriptions/sub_nope"),
            &r.api_key,
            json!({ "paymentPlanId": plans.monthly, "orderLines": [] }),
        )
        .await;
    assert_eq!(s, 404, "{e}");
    assert_error(&e, 404, "NOT_FOUND");
    // A free plan and a one-time plan are bought too (no invoice for a free order).
    let (s, free) = post(buy(&plans.free, &c2, &users2[0], 2)).await;
    assert_eq!((s, free["activeOrder"]["totalFee"].clone()), (200, json!("USD0.00")));
    let session = json!({ "paymentPlanId": plans.session, "targetCompanyId": c2, "targetUserId": users2[0],
        "orderLines": [{ "quantity": "2", "unit": "SESSION" }] });
    let (s, once) = post(session).await;
    assert_eq!(s, 200, "{once}");
    assert_eq!(
        (
            once["activeOrder"]["status"].clone(),
            once["activeOrder"]["frequency"].clone(),
            once["activeOrder"]["totalFee"].clone()
        ),
        (json!("ONE_TIME"), json!("ONE_TIME"), json!("USD120.00"))
    );
    let (_, inv) = app.read(&format!("/api/v1/partners/invoices?customer_id={c2}"), &r.api_key).await;
    assert_eq!(inv["data"].as_array().unwrap().len(), 1, "only the paid order is invoiced: {inv}");
});

on_both_backends!(scopes_contexts_and_isolation_between_resellers, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let other = enrol(&app, "Other", "o@o.com", &["reseller"]).await;
    let manager = enrol(&app, "Manager", "m@m.com", &["reseller_manager"]).await;
    let referral = enrol(&app, "Referrer", "f@f.com", &["referral"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Michael", "Mary"]).await;
    let (oc, ousers) = customer(&app, &other, "Other Co", &["Zed"]).await;
    let (_, sub) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 2)).await;
    let id = sub["id"].as_str().unwrap().to_owned();
    let (s, seat) = app
        .post(&format!("{AR}/subscriptionAssignments"), &r.api_key, json!({ "subscriptionId": id, "userId": users[0] }))
        .await;
    assert_eq!(s, 200, "{seat}");
    let seat_id = seat["id"].as_str().unwrap().to_owned();
    let (s, _) =
        app.post(&format!("{AR}/subscriptions"), &other.api_key, buy(&plans.monthly, &oc, &ousers[0], 1)).await;
    assert_eq!(s, 200);

    // Scope tables: ROLE_RESELLER for writes and reads by id.
    let (s, e) =
        app.post(&format!("{AR}/subscriptions"), &referral.api_key, buy(&plans.monthly, &c, &users[0], 1)).await;
    assert_eq!(s, 403, "{e}");
    assert_error(&e, 403, "FORBIDDEN");
    let (s, _) = app.read(&format!("{AR}/subscriptions/{id}"), &manager.api_key).await;
    assert_eq!(s, 403);

    // Contexts: required, held, with their required parameters.
    let list = format!("{AR}/subscriptions");
    let (s, e) = app.read(&list, &r.api_key).await;
    assert_eq!(s, 400);
    assert_names(&e, "context");
    let (s, e) = app.read(&format!("{list}?context=RESELLER"), &r.api_key).await;
    assert_eq!(s, 400);
    assert_names(&e, "customerCompanyId");
    let (s, e) = app.read(&format!("{AR}/orders?context=RESELLER_MANAGER"), &manager.api_key).await;
    assert_eq!(s, 400);
    assert_names(&e, "resellerCompanyId");
    let (s, e) = app.read(&format!("{list}?context=REFERRAL&customerCompanyId={c}"), &r.api_key).await;
    assert_eq!(s, 400, "not a context of this endpoint: {e}");
    let (s, _) =
        app.read(&format!("{list}?context=RESELLER_MANAGER&resellerCompanyId={}", r.company_id), &r.api_key).await;
    assert_eq!(s, 403, "a context the key does not hold");
    let (s, _) = app.read(&format!("{list}?context=RESELLER&customerCompanyId={oc}"), &r.api_key).await;
    assert_eq!(s, 403, "another reseller's customer");
    // A manager sees a reseller's purchases, and may narrow them to that reseller's user.
    let (s, page) = app
        .read(&format!("{list}?context=RESELLER_MANAGER&resellerCompanyId={}", r.company_id), &manager.api_key)
        .await;
    assert_eq!((s, page["page"]["totalElements"].clone()), (200, json!(1)), "{page}");
    let (_, page) = app
        .read(
            &format!("{AR}/orders?context=RESELLER_MANAGER&resellerCompanyId={}&userId={}", r.company_id, r.user_id),
            &manager.api_key,
        )
        .await;
    assert_eq!(page["page"]["totalElements"], 1, "{page}");
    let (_, page) = app
        .read(
            &format!(
                "{AR}/orders?context=RESELLER_MANAGER&resellerCompanyId={}&userId={}",
                r.company_id, other.user_id
            ),
            &manager.api_key,
        )
        .await;
    assert_eq!(page["page"]["totalElements"], 0);
    let (s, _) = app.read(&format!("{list}?context=RESELLER_MANAGER&resellerCompanyId={c}"), &manager.api_key).await;
    assert_eq!(s, 403, "not a reseller company");

    // Isolation: the other reseller sees and changes none of it (404), and its seat DELETE is
    // accepted as documented but changes nothing.
    let (s, e) = app.read(&format!("{AR}/subscriptions/{id}"), &other.api_key).await;
    assert_eq!(s, 404);
    assert_error(&e, 404, "NOT_FOUND");
    let (s, _) = app
        .put(
            &format!("{AR}/subscriptions/{id}"),
            &other.api_key,
            json!({ "paymentPlanId": plans.monthly, "orderLines": [{ "quantity": 1, "unit": "USER" }] }),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{AR}/subscriptions/{id}"), &other.api_key, None).await;
    assert_eq!(s, 404);
    let (s, _) = app.read(&format!("{AR}/subscriptionAssignments?subscriptionId={id}"), &other.api_key).await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post(
            &format!("{AR}/subscriptionAssignments"),
            &other.api_key,
            json!({ "subscriptionId": id, "userId": users[1] }),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .send(reqwest::Method::DELETE, &format!("{AR}/subscriptionAssignments/{seat_id}"), &other.api_key, None)
        .await;
    assert_eq!(s, 204);
    let (_, seats) = app.read(&format!("{AR}/subscriptionAssignments?subscriptionId={id}"), &r.api_key).await;
    assert_eq!(seats["content"][0]["status"], "ACTIVE", "untouched: {seats}");
    let (_, mine) = app.read(&format!("{AR}/orders?context=RESELLER&customerCompanyId={oc}"), &other.api_key).await;
    assert_eq!(mine["page"]["totalElements"], 1, "its own only: {mine}");
    let (_, sub_after) = app.read(&format!("{AR}/subscriptions/{id}"), &r.api_key).await;
    assert_eq!(sub_after["status"], "ACTIVE");
});

on_both_backends!(orders_filter_by_dates_status_payment_and_text, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Michael"]).await;
    let t0 = ms(&app);
    let (_, pro) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 1)).await;
    app.clock.advance(chrono::Duration::hours(1));
    let t1 = ms(&app);
    let (_, free) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.free, &c, &users[0], 1)).await;
    app.clock.advance(chrono::Duration::hours(1));
    let t2 = ms(&app);
    let (s, _) = app
        .put(
            &format!("{AR}/subscriptions/{}", pro["id"].as_str().unwrap()),
            &r.api_key,
            json!({ "paymentPlanId": plans.monthly, "orderLines": [{ "quantity": 4, "unit": "USER" }] }),
        )
        .await;
    assert_eq!(s, 200);
    let base = format!("{AR}/orders?context=RESELLER&customerCompanyId={c}");
    let count = |q: String| {
        let app = &app;
        let key = r.api_key.clone();
        let base = base.clone();
        async move {
            let (s, page) = app.read(&format!("{base}&{q}"), &key).await;
            assert_eq!(s, 200, "{q}: {page}");
            page["page"]["totalElements"].as_u64().unwrap()
        }
    };
    assert_eq!(count(String::new()).await, 3);
    assert_eq!(count(format!("createdOn=gte({t1})")).await, 2);
    assert_eq!(count(format!("createdOn=gt({t1})")).await, 1);
    assert_eq!(count(format!("createdOn=lte({t1})")).await, 2);
    assert_eq!(count(format!("createdOn=lt({t1})")).await, 1);
    assert_eq!(count(format!("createdOn=gt({t0}),lt({t2})")).await, 1);
    assert_eq!(count(format!("createdOn=gte({t0}),%20lte({t2})")).await, 3);
    assert_eq!(count("status=FINISHED".into()).await, 1);
    assert_eq!(count("status=in(ACTIVE,FINISHED)".into()).await, 3);
    assert_eq!(count("paidStatus=FREE".into()).await, 1);
    assert_eq!(count("paidStatus=PAID".into()).await, 2);
    assert_eq!(count("pending=true".into()).await, 0);
    assert_eq!(count("pending=false".into()).await, 3);
    assert_eq!(count("searchText=trial".into()).await, 1);
    assert_eq!(count(format!("searchText={}", free["activeOrder"]["id"].as_str().unwrap())).await, 1);
    assert_eq!(count(format!("userId={}", users[0])).await, 3);
    assert_eq!(count("userId=user_nope".into()).await, 0);
    let (_, page) = app.read(&format!("{base}&sort=-totalFee&number=1&size=2"), &r.api_key).await;
    let fees: Vec<&str> = page["content"].as_array().unwrap().iter().map(|o| o["totalFee"].as_str().unwrap()).collect();
    assert_eq!(fees, ["USD53.00", "USD17.00"]);
    assert_eq!(
        cursor_masked(&page["page"]),
        json!({ "number": 1, "size": 2, "totalElements": 3, "totalPages": 2, "nextCursor": "CURSOR" })
    );
    let (_, page) = app.read(&format!("{base}&sort=-totalFee&number=2&size=2"), &r.api_key).await;
    assert_eq!(page["content"][0]["totalFee"], "USD0.00");
    let (_, page) = app.read(&format!("{base}&sort=%2BcreatedOn"), &r.api_key).await;
    assert_eq!(page["content"][0]["createdOn"], json!(t0));
    assert_eq!(page["content"][0]["company"], json!({ "id": c, "name": "Company A" }));
    assert_eq!(page["content"][0]["orderCardId"], page["content"][0]["id"]);
    // Subscriptions take the same syntax through the same parser.
    let subs = format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c}");
    let (_, page) = app.read(&format!("{subs}&createdOn=gt({t0})&status=in(ACTIVE)"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 1, "{page}");
    let (_, page) = app.read(&format!("{subs}&paidStatus=PAID&sort=-applicationName"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 1, "{page}");

    for (q, field) in [
        ("createdOn=after(5)", "createdOn"),
        ("createdOn=gte(5),gte(6)", "createdOn"),
        ("status=in(ACTIVE,DONE)", "status"),
        ("status=in(ACTIVE", "status"),
        ("paidStatus=SOME", "paidStatus"),
        ("sort=-price", "sort"),
        ("pending=yes", "pending"),
        ("number=0", "number"),
        ("size=500", "size"),
    ] {
        let (s, e) = app.read(&format!("{base}&{q}"), &r.api_key).await;
        assert_eq!(s, 400, "{q}: {e}");
        assert_names(&e, field);
    }
});

on_both_backends!(seats_are_limited_to_the_quantity_and_unassigning_is_idempotent, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Ann", "Bob", "Cid"]).await;
    let (_, outsiders) = customer(&app, &r, "Company B", &["Dee"]).await;
    let (_, sub) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 2)).await;
    let id = sub["id"].as_str().unwrap().to_owned();
    let assign = |user: String| {
        let app = &app;
        let key = r.api_key.clone();
        let id = id.clone();
        async move {
            app.post(&format!("{AR}/subscriptionAssignments"), &key, json!({ "subscriptionId": id, "userId": user }))
                .await
        }
    };
    let (s, a) = assign(users[0].clone()).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "ACTIVE");
    assert_eq!(a["subscriptionId"], json!(id));
    assert_eq!(a["user"], json!({ "firstName": "Ann", "id": users[0], "lastName": "Jordan" }));
    assert_eq!(a["createdOn"], json!(ms(&app)));
    let (s, e) = assign(users[0].clone()).await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "ALREADY_ASSIGNED");
    let (s, e) = assign(outsiders[0].clone()).await;
    assert_eq!(s, 400);
    assert_names(&e, "userId");
    app.clock.advance(chrono::Duration::minutes(1));
    let (s, b) = assign(users[1].clone()).await;
    assert_eq!(s, 200, "{b}");
    let (s, e) = assign(users[2].clone()).await;
    assert_eq!(s, 409, "two seats: {e}");
    assert_error(&e, 409, "NO_SEAT_AVAILABLE");
    // Fewer seats than are assigned is refused; more is fine.
    let shrink = json!({ "paymentPlanId": plans.monthly, "orderLines": [{ "quantity": 1, "unit": "USER" }] });
    let (s, e) = app.put(&format!("{AR}/subscriptions/{id}"), &r.api_key, shrink).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "SEATS_IN_USE");

    let seats = format!("{AR}/subscriptionAssignments?subscriptionId={id}");
    let (_, page) = app.read(&seats, &r.api_key).await;
    assert_eq!(
        page["page"],
        json!({ "number": 1, "size": 50, "totalElements": 2, "totalPages": 1, "nextCursor": null })
    );
    assert_eq!(page["content"][0]["id"], b["id"], "newest first by default");
    let (_, page) = app.read(&format!("{seats}&sort=%2BcreatedOn"), &r.api_key).await;
    assert_eq!(page["content"][0]["id"], a["id"]);
    let (_, page) = app.read(&format!("{seats}&userId=in({},{})", users[1], users[2]), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 1);
    let (_, page) = app.read(&format!("{seats}&userId={}", users[0]), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 1);

    // Unassign: 204, 204 again, 204 for an unknown id; the freed seat can be given.
    let a_id = a["id"].as_str().unwrap();
    for path in [a_id, a_id, "seat_unknown"] {
        let (s, _) =
            app.send(reqwest::Method::DELETE, &format!("{AR}/subscriptionAssignments/{path}"), &r.api_key, None).await;
        assert_eq!(s, 204);
    }
    let kinds: Vec<String> = app.events(a_id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(kinds, ["seat.assigned", "seat.unassigned"], "one unassignment");
    let (_, page) = app.read(&format!("{seats}&status=in(CANCELLED)"), &r.api_key).await;
    assert_eq!(page["content"][0]["id"], json!(a_id));
    let (s, _) = assign(users[2].clone()).await;
    assert_eq!(s, 200);
    let (_, page) = app.read(&format!("{seats}&status=in(ACTIVE)"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 2);
    let (s, e) = app.read(&format!("{seats}&status=in(ACTIVE,NOPE)"), &r.api_key).await;
    assert_eq!(s, 400);
    assert_names(&e, "status");
    let (s, e) = app.read(&format!("{seats}&createdOn=gt(1)"), &r.api_key).await;
    assert_eq!(s, 400, "only gte and lte are documented here");
    assert_names(&e, "createdOn");
    let (s, e) = app.read(&format!("{AR}/subscriptionAssignments"), &r.api_key).await;
    assert_eq!(s, 400);
    assert_names(&e, "subscriptionId");

    // Cancelling the subscription ends its seats; a cancelled subscription takes none.
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{AR}/subscriptions/{id}"), &r.api_key, None).await;
    assert_eq!(s, 204);
    let (_, page) = app.read(&format!("{seats}&status=in(ACTIVE)"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 0);
    let (s, e) = assign(users[0].clone()).await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "NOT_CHANGEABLE");
});

on_both_backends!(concurrent_assignments_never_exceed_the_quantity, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let names: Vec<String> = (0..12).map(|i| format!("U{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (c, users) = customer(&app, &r, "Company A", &refs).await;
    let (_, sub) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 3)).await;
    let id = sub["id"].as_str().unwrap().to_owned();
    let base = app.url(&format!("{AR}/subscriptionAssignments"));
    let tasks: Vec<_> = users
        .iter()
        .map(|u| {
            let (http, base, key) = (app.http.clone(), base.clone(), r.api_key.clone());
            let body = json!({ "subscriptionId": id, "userId": u });
            tokio::spawn(
                async move { http.post(base).bearer_auth(key).json(&body).send().await.unwrap().status().as_u16() },
            )
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let (_, page) =
        app.read(&format!("{AR}/subscriptionAssignments?subscriptionId={id}&status=in(ACTIVE)"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 3);
});

on_both_backends!(recurring_subscriptions_are_invoiced_each_period_once, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Michael"]).await;
    let post = |body: Value| {
        let app = &app;
        let key = r.api_key.clone();
        async move { app.post(&format!("{AR}/subscriptions"), &key, body).await }
    };
    let (s, monthly) = post(buy(&plans.monthly, &c, &users[0], 3)).await;
    assert_eq!(s, 200, "{monthly}");
    let session = json!({ "paymentPlanId": plans.session, "targetCompanyId": c, "targetUserId": users[0],
        "orderLines": [{ "quantity": "1", "unit": "SESSION" }] });
    assert_eq!(post(session).await.0, 200, "a one-time purchase has no next period");
    let (s, other) = post(buy(&plans.other_product, &c, &users[0], 2)).await;
    assert_eq!(s, 200, "{other}");
    let other_id = other["id"].as_str().unwrap();
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{AR}/subscriptions/{other_id}"), &r.api_key, None).await;
    assert_eq!(s, 204, "a cancelled one is not renewed");
    let renewals = || async { app.server.services.subscriptions().run_renewals().await };
    let cycles = || async {
        let (_, inv) = app.read(&format!("/api/v1/partners/invoices?customer_id={c}"), &r.api_key).await;
        let mut out: Vec<(String, f64)> = inv["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["billing_reason"] == "subscription_cycle")
            .map(|i| (i["period"]["start"].as_str().unwrap().to_owned(), i["total"].as_f64().unwrap()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };
    assert_eq!(renewals().await.unwrap(), 0, "nothing is due in the first period");

    // The first period (2025-01-15 → 2025-02-15) is over: the next is invoiced, once.
    app.clock.advance(chrono::Duration::days(31));
    assert_eq!(renewals().await.unwrap(), 1);
    assert_eq!(renewals().await.unwrap(), 0, "each period once");
    assert_eq!(cycles().await, [("2025-02-15T10:30:00Z".to_owned(), 41.0)]);
    // Two more periods overdue (the server was down): each is invoiced, in order.
    app.clock.advance(chrono::Duration::days(60));
    assert_eq!(renewals().await.unwrap(), 2);
    let starts: Vec<String> = cycles().await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(starts, ["2025-02-15T10:30:00Z", "2025-03-15T10:30:00Z", "2025-04-15T10:30:00Z"]);

    let id = monthly["id"].as_str().unwrap();
    let (_, now) = app.read(&format!("{AR}/subscriptions/{id}"), &r.api_key).await;
    assert_eq!(now["activeOrder"]["id"], monthly["activeOrder"]["id"], "renewing bills the active order again");
    let kinds: Vec<String> = app.events(id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "subscription.renewed").count(), 3, "{kinds:?}");
    let (_, commissions) =
        app.read("/api/v1/partners/commissions?start_date=2025-01-01&end_date=2025-12-31", &r.api_key).await;
    assert!(commissions["data"]["commissions"].as_array().unwrap().len() >= 6, "each invoice earns: {commissions}");
});
