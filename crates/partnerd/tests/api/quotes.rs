//! AppReseller opportunities (quotes) over HTTP on both backends: priced items, review and
//! finalize into a real purchase (subscriptions, orders, invoices, commissions, company stats),
//! all-or-nothing finalizing, every list filter, the scope rules, the lead link, and bad input
//! answered as `OpportunityError`.

use crate::common::*;
use crate::subscriptions::{AR, assert_error, assert_names, buy, catalog, catalog_file, customer, ms, stat};
use partnerd_domain::Clock;
use serde_json::{Value, json};

const OPP: &str = "/api/appReseller/v1/opportunities";

fn item(plan: &str, unit: &str, quantity: u32) -> Value {
    json!({ "pricingPlanId": plan, "units": [{ "quantity": quantity.to_string(), "unit": unit }] })
}

async fn create(app: &TestApp, who: &TestPartner, body: Value) -> Value {
    let (s, q) = app.post(OPP, &who.api_key, body).await;
    assert_eq!(s, 200, "{q}");
    q
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["content"].as_array().unwrap().iter().map(id_of).collect()
}

async fn count(app: &TestApp, who: &TestPartner, path: &str) -> u64 {
    let (s, page) = app.read(path, &who.api_key).await;
    assert_eq!(s, 200, "{page}");
    page["page"]["totalElements"].as_u64().unwrap()
}

async fn invoices(app: &TestApp, who: &TestPartner, company: &str) -> Vec<Value> {
    let (s, inv) = app.read(&format!("/api/v1/partners/invoices?customer_id={company}"), &who.api_key).await;
    assert_eq!(s, 200, "{inv}");
    inv["data"].as_array().unwrap().clone()
}

/// A user of `company` holding only `roles`: its id and an API key.
async fn member(
    app: &TestApp,
    company_id: &str,
    email: &str,
    roles: &[partnerd_domain::partner::Role],
) -> (String, String) {
    use partnerd_store::{NewAccountUser, UserRecord};
    let user = UserRecord {
        id: partnerd_domain::ids::new_id("user"),
        marketplace_id: app.marketplace_id(),
        email: email.into(),
        first_name: Some("Sam".into()),
        last_name: Some("Support".into()),
        external_id: None,
        activated: true,
        enabled: true,
        created_at: app.clock.now(),
    };
    let id = user.id.clone();
    let new = NewAccountUser { user, company_id: company_id.into(), roles: roles.to_vec() };
    // The admin path (as the CLI opens it): no endpoint adds a member to a reseller's own company.
    let store = partnerd::open_store(&app.database_url).await.expect("open the store");
    store.create_account_user(new, vec![]).await.expect("member");
    let key = app.key(&id, &[], None).await;
    (id, key)
}

/// Who the scope cases need: a reseller, another reseller, the marketplace manager, a sales
/// support user of the reseller's company (its key), and the test catalog.
struct Cast {
    r: TestPartner,
    other: TestPartner,
    manager: TestPartner,
    support: String,
    support_id: String,
    plans: crate::subscriptions::Plans,
}

async fn cast(app: &TestApp) -> Cast {
    let r = enrol(app, "Reseller", "r@r.com", &["reseller"]).await;
    let other = enrol(app, "Other Reseller", "o@o.com", &["reseller"]).await;
    let manager = enrol(app, "Marketplace Team", "m@m.com", &["channel_admin"]).await;
    let (support_id, support) =
        member(app, &r.company_id, "sam@r.com", &[partnerd_domain::partner::Role::SalesSupport]).await;
    Cast { r, other, manager, support, support_id, plans: catalog(app).await }
}

on_both_backends!(a_quote_is_priced_reviewed_and_finalized_into_a_purchase, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let manager = enrol(&app, "Marketplace Team", "m@m.com", &["channel_admin"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Stark Industries", &["Ulysses"]).await;
    let made_at = ms(&app);

    let q = create(
        &app,
        &r,
        json!({ "currency": "USD", "customerCompanyId": c, "customerId": users[0], "name": "Jarvis Initiative",
            "items": [{ "pricingPlanId": plans.monthly, "units": [{ "quantity": 3, "unit": "USER" }],
                "subscriptionCustomAttributes": { "intended_os": ["ios", "macos"] } }] }),
    )
    .await;
    let id = id_of(&q);
    assert_eq!(q["status"], "OPEN");
    assert_eq!(q["availableActions"], json!(["EDIT", "FINALIZE", "REQUEST_REVIEW"]));
    assert_eq!(q["createdOn"], json!(made_at.to_string()), "epoch milliseconds as a string");
    assert_eq!(q["currency"], "USD");
    assert_eq!(q["name"], "Jarvis Initiative");
    assert_eq!(q["purchaseEffectiveDate"], Value::Null);
    assert_eq!(
        q["customerUser"],
        json!({ "company": { "id": c, "name": "Stark Industries" }, "email": "ulysses@stark-industries.example",
            "firstName": "Ulysses", "id": users[0], "lastName": "Jordan" })
    );
    assert_eq!(q["ownerUser"]["id"], json!(r.user_id));
    assert_eq!(q["ownerUser"]["company"]["id"], json!(r.company_id));
    assert_eq!(q["ownerUser"]["email"], "r@r.com");
    let first = &q["items"][0];
    assert_eq!(first["pricingPlanId"], json!(plans.monthly));
    assert_eq!(first["units"], json!([{ "quantity": "3", "unit": "USER" }]));
    assert_eq!(first["subscriptionCustomAttributes"], json!({ "intended_os": ["ios", "macos"] }));
    assert!(first.get("vendorRequiredFields").is_none(), "empty attributes are left out: {first}");
    // (10.00 + 1.50 + 0.50) × 3 users + the flat 5.00, as POST /subscriptions prices it.
    assert_eq!((first["totalFee"].clone(), q["totalFee"].clone()), (json!("USD41.00"), json!("USD41.00")));
    let first_id = id_of(first);

    // Items: add, refuse the same edition twice, edit (re-priced), custom prices.
    let (s, session) = app
        .post(
            &format!("{OPP}/{id}/items"),
            &r.api_key,
            json!({ "id": "my-session-item",
            "pricingPlanId": plans.session, "units": [{ "quantity": "2", "unit": "SESSION" }],
            "vendorRequiredFields": { "email": ["john.doe@acme.com"] } }),
        )
        .await;
    assert_eq!(s, 200, "{session}");
    assert_eq!(session["id"], "my-session-item", "the client's id is kept");
    assert_eq!(session["totalFee"], "USD120.00");
    assert_eq!(session["vendorRequiredFields"], json!({ "email": ["john.doe@acme.com"] }));
    let (s, e) = app.post(&format!("{OPP}/{id}/items"), &r.api_key, item(&plans.yearly, "USER", 1)).await;
    assert_eq!(s, 409, "a second item of the Pro edition: {e}");
    assert_error(&e, 409, "EDITION_IN_OPPORTUNITY");
    let (s, e) = app
        .post(
            &format!("{OPP}/{id}/items"),
            &r.api_key,
            json!({ "id": "my-session-item",
        "pricingPlanId": plans.free, "units": [] }),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "ITEM_ID_TAKEN");
    let (s, edited) = app
        .put(
            &format!("{OPP}/{id}/items/{first_id}"),
            &r.api_key,
            json!({ "units": [{ "quantity": "5", "unit": "USER" }] }),
        )
        .await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!((edited["totalFee"].clone(), edited["id"].clone()), (json!("USD65.00"), json!(first_id)));
    assert_eq!(edited["subscriptionCustomAttributes"], json!({ "intended_os": ["ios", "macos"] }), "kept");
    let (_, got) = app.read(&format!("{OPP}/{id}"), &r.api_key).await;
    assert_eq!(got["totalFee"], "USD185.00", "65.00 + 120.00: {got}");

    let (s, detail) = app.read(&format!("{OPP}/{id}/items"), &r.api_key).await;
    assert_eq!(s, 200, "{detail}");
    let pro = &detail[0];
    assert_eq!(detail.as_array().unwrap().len(), 2);
    assert_eq!(pro["pricingPlan"], json!({ "id": plans.monthly, "name": "Pro" }));
    assert_eq!((pro["product"]["name"].clone(), pro["product"]["type"].clone()), (json!("Suite"), json!("WEB_APP")));
    let user_cost = &pro["pricing"][0];
    assert_eq!(
        (user_cost["unit"].clone(), user_cost["quantity"].clone(), user_cost["salePrice"].clone()),
        (json!("USER"), json!("5.0000000000"), json!("12.0000000000"))
    );
    assert_eq!(user_cost["totalSalePrice"], "60.0000000000");
    assert_eq!(
        (user_cost["costTypeCategory"].clone(), user_cost["pricingStrategy"].clone()),
        (json!("RECURRING"), json!("UNIT"))
    );
    assert_eq!(pro["pricing"][1]["totalSalePrice"], "5.0000000000", "the flat fee");
    let cost_id = user_cost["costId"].as_str().unwrap().to_owned();
    let (s, custom) = app
        .put(
            &format!("{OPP}/{id}/items/{first_id}"),
            &r.api_key,
            json!({ "customPrices": [{ "costId": cost_id, "price": 8 }] }),
        )
        .await;
    assert_eq!(s, 200, "{custom}");
    assert_eq!(custom["totalFee"], "USD45.00", "8.00 × 5 without markups, plus the flat 5.00");
    // Below the catalog's 12.00: the seller may no longer finalize it alone.
    let (_, discounted) = app.read(&format!("{OPP}/{id}"), &r.api_key).await;
    assert_eq!(discounted["availableActions"], json!(["EDIT", "REQUEST_REVIEW"]));
    let (s, e) = app.send(reqwest::Method::POST, &format!("{OPP}/{id}/finalize"), &r.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "STATUS_CONFLICT");
    assert!(e["message"].as_str().unwrap().contains("below the catalog"), "{e}");
    let (s, e) = app
        .post(
            &format!("{OPP}/{id}/items"),
            &r.api_key,
            json!({ "id": "not an id!",
        "pricingPlanId": plans.free }),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_names(&e, "id");
    let (s, e) = app
        .put(
            &format!("{OPP}/{id}/items/{first_id}"),
            &r.api_key,
            json!({ "customPrices": [{ "costId": "cost_nope", "price": "1" }] }),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_names(&e, "customPrices[0].costId");
    let (s, e) = app.read(&format!("{OPP}/{id}/items/item_nope"), &r.api_key).await;
    assert_eq!(s, 405, "no GET of one item: {e}");
    let (s, e) = app.send(reqwest::Method::DELETE, &format!("{OPP}/{id}/items/item_nope"), &r.api_key, None).await;
    assert_eq!(s, 404, "{e}");
    assert_error(&e, 404, "NOT_FOUND");

    // Review: the seller waits, the marketplace manager sees it and finalizes.
    let (s, body) =
        app.send(reqwest::Method::POST, &format!("/api/opportunities/{id}/requestReview"), &r.api_key, None).await;
    assert_eq!((s, body), (204, Value::Null));
    let (_, waiting) = app.read(&format!("{OPP}/{id}"), &r.api_key).await;
    assert_eq!((waiting["status"].clone(), waiting["availableActions"].clone()), (json!("PENDING_REVIEW"), json!([])));
    let (s, e) =
        app.send(reqwest::Method::POST, &format!("/api/opportunities/{id}/requestReview"), &r.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "STATUS_CONFLICT");
    let (s, e) = app.send(reqwest::Method::POST, &format!("{OPP}/{id}/finalize"), &r.api_key, None).await;
    assert_eq!(s, 409, "a seller cannot finalize under review: {e}");
    assert_error(&e, 409, "STATUS_CONFLICT");
    let (s, e) = app.patch(&format!("{OPP}/{id}"), &r.api_key, json!({ "name": "Renamed" })).await;
    assert_eq!(s, 409, "{e}");
    let (s, seen) = app.read(&format!("{OPP}/{id}"), &manager.api_key).await;
    assert_eq!(s, 200, "{seen}");
    assert_eq!(seen["availableActions"], json!(["EDIT", "FINALIZE"]));
    let (_, reviews) = app.read(&format!("{OPP}?status=PENDING_REVIEW"), &manager.api_key).await;
    assert_eq!(ids(&reviews), [id.as_str()]);

    app.clock.advance(chrono::Duration::minutes(5));
    let (s, closed) = app.send(reqwest::Method::POST, &format!("{OPP}/{id}/finalize"), &manager.api_key, None).await;
    assert_eq!(s, 200, "{closed}");
    assert_eq!((closed["status"].clone(), closed["availableActions"].clone()), (json!("CLOSED"), json!([])));
    assert_eq!(closed["purchaseEffectiveDate"], json!(ms(&app).to_string()), "now, as none was set");
    assert_eq!(closed["partner"], "PARTNERD");
    let purchase = closed["purchaseId"].as_str().unwrap().to_owned();
    assert_eq!(closed["totalFee"], "USD165.00", "what was bought");
    let (_, found) = app
        .read(&format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c}&searchText={purchase}"), &r.api_key)
        .await;
    assert_eq!(found["page"]["totalElements"], 2, "the purchase's subscriptions by its id: {found}");
    let orders_of = format!("{AR}/orders?context=RESELLER&customerCompanyId={c}&searchText={purchase}");
    assert_eq!(count(&app, &r, &orders_of).await, 2, "and their orders");

    // The purchase exists as POST /subscriptions would have made it, for the reseller company.
    let subs = format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c}");
    let (_, page) = app.read(&subs, &r.api_key).await;
    let mut fees: Vec<(String, String)> = page["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["activeOrder"]["editionName"].as_str().unwrap().into(),
                s["activeOrder"]["totalFee"].as_str().unwrap().into(),
            )
        })
        .collect();
    fees.sort();
    assert_eq!(fees, [("Pro".into(), "USD45.00".into()), ("Session".into(), "USD120.00".into())], "{page}");
    assert_eq!(page["content"][0]["user"]["id"], json!(users[0]));
    assert_eq!(count(&app, &r, &format!("{AR}/orders?context=RESELLER&customerCompanyId={c}")).await, 2);
    let bills = invoices(&app, &r, &c).await;
    let mut totals: Vec<f64> = bills.iter().map(|i| i["total"].as_f64().unwrap()).collect();
    totals.sort_by(f64::total_cmp);
    assert_eq!(totals, [45.0, 120.0], "{bills:?}");
    let (_, commissions) = app.read("/api/v1/partners/commissions", &r.api_key).await;
    assert_eq!(commissions["data"]["commissions"].as_array().map(Vec::len), Some(2), "{commissions}");
    let (_, company) = app.read(&format!("{AR}/companies/{c}?context=RESELLER"), &r.api_key).await;
    assert_eq!(stat(&company, "Purchased Products"), json!("2"));

    // Finalizing again buys nothing more and answers the same closed opportunity.
    for who in [&manager, &r] {
        let (s, again) = app.send(reqwest::Method::POST, &format!("{OPP}/{id}/finalize"), &who.api_key, None).await;
        assert_eq!((s, again["purchaseId"].clone()), (200, json!(purchase)), "{again}");
    }
    assert_eq!(count(&app, &r, &subs).await, 2);
    // A closed opportunity's items do not change.
    let (s, e) = app.post(&format!("{OPP}/{id}/items"), &r.api_key, item(&plans.free, "USER", 1)).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "STATUS_CONFLICT");
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{OPP}/{id}/items/{first_id}"), &r.api_key, None).await;
    assert_eq!(s, 409);
    let (s, e) = app.put(&format!("{OPP}/{id}/items/item_nope"), &r.api_key, json!({ "units": [] })).await;
    assert_eq!(s, 409, "closed comes first: {e}");

    let kinds: Vec<String> = app.events(&id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("quote.created"));
    assert!(kinds.contains(&"quote.review_requested".to_owned()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("quote.finalized"), "once: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "quote.finalized").count(), 1);
});

on_both_backends!(an_item_that_cannot_be_bought_finalizes_nothing, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Michael"]).await;
    // The company holds a Pro subscription already.
    let (s, sub) = app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.monthly, &c, &users[0], 2)).await;
    assert_eq!(s, 200, "{sub}");
    let q = create(
        &app,
        &r,
        json!({ "customerCompanyId": c, "customerId": users[0],
            "items": [item(&plans.session, "SESSION", 1), item(&plans.yearly, "USER", 2)] }),
    )
    .await;
    let id = id_of(&q);
    let (s, e) = app.send(reqwest::Method::POST, &format!("{OPP}/{id}/finalize"), &r.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "NOT_FINALIZABLE");
    assert!(e["message"].as_str().unwrap().contains("'items[1]'"), "names the item: {e}");
    // Nothing of it was written: not the session's subscription, order or invoice, nor the status.
    let subs = format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c}");
    assert_eq!(count(&app, &r, &subs).await, 1);
    assert_eq!(count(&app, &r, &format!("{AR}/orders?context=RESELLER&customerCompanyId={c}")).await, 1);
    assert_eq!(invoices(&app, &r, &c).await.len(), 1);
    let (_, still) = app.read(&format!("{OPP}/{id}"), &r.api_key).await;
    assert_eq!((still["status"].clone(), still.get("purchaseId").cloned()), (json!("OPEN"), None));
    assert!(!app.events(&id).await.iter().any(|e| e.event_type == "quote.finalized"));

    // Remove the item in the way: it finalizes.
    let blocked = id_of(&still["items"][1]);
    let (s, _) = app.send(reqwest::Method::DELETE, &format!("{OPP}/{id}/items/{blocked}"), &r.api_key, None).await;
    assert_eq!(s, 204);
    let (s, closed) = app.send(reqwest::Method::POST, &format!("{OPP}/{id}/finalize"), &r.api_key, None).await;
    assert_eq!((s, closed["status"].clone()), (200, json!("CLOSED")), "{closed}");
    assert_eq!(count(&app, &r, &subs).await, 2);

    // Two finalizes at once buy once, and both answer the same purchase.
    let twice = create(
        &app,
        &r,
        json!({ "customerCompanyId": c, "customerId": users[0],
        "items": [item(&plans.free, "USER", 1)] }),
    )
    .await;
    let path = format!("{OPP}/{}/finalize", id_of(&twice));
    let ((s1, a), (s2, b)) = tokio::join!(
        app.send(reqwest::Method::POST, &path, &r.api_key, None),
        app.send(reqwest::Method::POST, &path, &r.api_key, None)
    );
    assert_eq!((s1, s2), (200, 200), "{a} {b}");
    assert_eq!(a["purchaseId"], b["purchaseId"]);
    assert_eq!(count(&app, &r, &subs).await, 3, "one Trial subscription");

    // Finalizing prices from the catalog as it is then: the closed quote shows what was bought.
    let (c2, users2) = customer(&app, &r, "Company B", &["Ann"]).await;
    let q2 = create(
        &app,
        &r,
        json!({ "customerCompanyId": c2, "customerId": users2[0],
        "items": [item(&plans.session, "SESSION", 2)] }),
    )
    .await;
    assert_eq!(q2["totalFee"], "USD120.00");
    app.server.services.catalog().import(&app.marketplace_id(), &catalog_file(75)).await.expect("re-price");
    let (s, bought) =
        app.send(reqwest::Method::POST, &format!("{OPP}/{}/finalize", id_of(&q2)), &r.api_key, None).await;
    assert_eq!(s, 200, "{bought}");
    assert_eq!(
        (bought["totalFee"].clone(), bought["items"][0]["totalFee"].clone()),
        (json!("USD150.00"), json!("USD150.00"))
    );
    let (_, sub) = app.read(&format!("{AR}/subscriptions?context=RESELLER&customerCompanyId={c2}"), &r.api_key).await;
    assert_eq!(sub["content"][0]["activeOrder"]["totalFee"], "USD150.00", "{sub}");

    // A quote without items cannot be finalized.
    let empty = create(&app, &r, json!({ "customerCompanyId": c, "customerId": users[0] })).await;
    let (s, e) = app.send(reqwest::Method::POST, &format!("{OPP}/{}/finalize", id_of(&empty)), &r.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "NOT_FINALIZABLE");
});

on_both_backends!(lists_filter_by_every_documented_parameter, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let Cast { r, other, manager, support, plans, .. } = cast(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Ann", "Bob"]).await;
    let (oc, ousers) = customer(&app, &other, "Company O", &["Olga"]).await;

    let t0 = ms(&app);
    let a = create(
        &app,
        &r,
        json!({ "customerCompanyId": c, "customerId": users[0], "name": "Alpha deal",
        "purchaseEffectiveDate": 1_800_000_000_000_i64, "items": [item(&plans.monthly, "USER", 1)] }),
    )
    .await;
    app.clock.advance(chrono::Duration::hours(1));
    let t1 = ms(&app);
    let b = create(
        &app,
        &r,
        json!({ "customerCompanyId": c, "customerId": users[1], "name": "Beta deal",
        "purchaseEffectiveDate": "1900000000000" }),
    )
    .await;
    app.clock.advance(chrono::Duration::hours(1));
    // Sales support in the SSR context, for its company's reseller user.
    let (s, sq) = app
        .post(
            &format!("{OPP}?context=SSR"),
            &support,
            json!({ "customerCompanyId": c, "customerId": users[0],
            "ownerId": r.user_id, "name": "Gamma" }),
        )
        .await;
    assert_eq!(s, 200, "{sq}");
    assert_eq!(sq["ownerUser"]["id"], json!(r.user_id));
    let foreign = create(&app, &other, json!({ "customerCompanyId": oc, "customerId": ousers[0] })).await;
    let (a, b, g) = (id_of(&a), id_of(&b), id_of(&sq));
    app.post(&format!("/api/opportunities/{b}/requestReview"), &r.api_key, json!({})).await;

    let list = |query: &str| format!("{OPP}?{query}");
    let seen = |query: String, key: String| {
        let app = &app;
        async move {
            let (s, page) = app.read(&list(&query), &key).await;
            assert_eq!(s, 200, "{query}: {page}");
            ids(&page)
        }
    };
    assert_eq!(seen(String::new(), r.api_key.clone()).await, [g.clone(), b.clone(), a.clone()], "newest first");
    assert_eq!(seen("context=RESELLER".into(), r.api_key.clone()).await.len(), 3);
    assert_eq!(seen("context=SSR".into(), support.clone()).await.len(), 3, "sales support sees its company's");
    assert_eq!(seen(String::new(), other.api_key.clone()).await, [id_of(&foreign).as_str()]);
    assert_eq!(seen(String::new(), manager.api_key.clone()).await.len(), 4, "the marketplace manager sees all");
    let (_, page) = app.read(&list(""), &r.api_key).await;
    assert_eq!(
        page["page"],
        json!({ "number": 1, "size": 10, "totalElements": 3, "totalPages": 1, "nextCursor": null })
    );
    let summary = page["content"].as_array().unwrap().iter().find(|x| x["id"] == json!(a)).unwrap().clone();
    assert_eq!(summary["createdOn"], json!(t0), "a number in the list");
    assert_eq!(summary["purchaseEffectiveDate"], json!(1_800_000_000_000_i64));
    assert!(summary.get("availableActions").is_none() && summary.get("items").is_none(), "{summary}");

    let key = r.api_key.clone();
    assert_eq!(seen(format!("createdOn=gte({t1})"), key.clone()).await, [g.clone(), b.clone()]);
    assert_eq!(seen(format!("createdOn=gte({t0})&createdOn=lte({t1})"), key.clone()).await, [b.clone(), a.clone()]);
    assert_eq!(seen(format!("createdOn=gt({t0}),lt({t1})"), key.clone()).await, Vec::<String>::new());
    assert_eq!(seen("purchaseEffectiveDate=gte(1850000000000)".into(), key.clone()).await, [b.as_str()]);
    assert_eq!(seen("purchaseEffectiveDate=lte(1850000000000)".into(), key.clone()).await, [a.as_str()]);
    assert_eq!(seen(format!("customerId={}", users[1]), key.clone()).await, [b.as_str()]);
    assert_eq!(seen(format!("ownerId={}", r.user_id), key.clone()).await.len(), 3);
    assert_eq!(seen("searchText=alpha".into(), key.clone()).await, [a.as_str()]);
    assert_eq!(seen(format!("searchText={}", &b[b.len() - 8..]), key.clone()).await, [b.as_str()]);
    assert_eq!(seen(format!("searchText={c}"), key.clone()).await.len(), 3, "the customer company's id");
    assert_eq!(seen("status=PENDING_REVIEW".into(), key.clone()).await, [b.as_str()]);
    assert_eq!(seen("status=OPEN".into(), key.clone()).await, [g.clone(), a.clone()]);
    assert_eq!(seen("sort=%2Bname".into(), key.clone()).await, [a.clone(), b.clone(), g.clone()]);
    assert_eq!(seen("sort=-name".into(), key.clone()).await, [g.clone(), b.clone(), a.clone()]);
    assert_eq!(seen("sort=createdOn".into(), key.clone()).await, [a.clone(), b.clone(), g.clone()]);
    let (_, p2) = app.read(&list("number=2&size=2"), &key).await;
    assert_eq!(ids(&p2), [a.as_str()]);
    assert_eq!(p2["page"], json!({ "number": 2, "size": 2, "totalElements": 3, "totalPages": 2, "nextCursor": null }));

    for (query, parameter) in [
        ("createdOn=yesterday", "createdOn"),
        ("createdOn=gte(1)&createdOn=gte(2)", "createdOn"),
        ("purchaseEffectiveDate=soon", "purchaseEffectiveDate"),
        ("status=WON", "status"),
        ("sort=-price", "sort"),
        ("context=SALES_SUPPORT", "context"),
        ("number=0", "number"),
        ("size=0", "size"),
    ] {
        let (s, e) = app.read(&list(query), &key).await;
        assert_eq!(s, 400, "{query}: {e}");
        assert_error(&e, 400, "BAD_REQUEST");
        assert!(e["message"].as_str().unwrap().contains(&format!("'{parameter}'")), "{query}: {e}");
    }
    let (s, e) = app.read(&list("context=SSR"), &key).await;
    assert_eq!(s, 403, "the reseller holds no sales-support role: {e}");
    assert_error(&e, 403, "FORBIDDEN");
});

on_both_backends!(each_scope_rule_holds_and_errors_are_opportunity_errors, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let Cast { r, other, manager, support, support_id, plans } = cast(&app).await;
    let (c, users) = customer(&app, &r, "Company A", &["Ann"]).await;
    let (c2, users2) = customer(&app, &r, "Company B", &["Ben"]).await;
    let (oc, _) = customer(&app, &other, "Company O", &["Olga"]).await;
    let q = create(
        &app,
        &r,
        json!({ "customerCompanyId": c, "customerId": users[0],
        "items": [item(&plans.monthly, "USER", 2)] }),
    )
    .await;
    let id = id_of(&q);

    // Another reseller: 404 on every operation, in the document's words.
    let none = json!({ "code": "NOT_FOUND", "message": "No opportunity found with the given ID", "status": 404 });
    let item_id = id_of(&q["items"][0]);
    for (method, path, body) in [
        (reqwest::Method::GET, format!("{OPP}/{id}"), None),
        (reqwest::Method::PATCH, format!("{OPP}/{id}"), Some(json!({ "name": "x" }))),
        (reqwest::Method::GET, format!("{OPP}/{id}/items"), None),
        (reqwest::Method::POST, format!("{OPP}/{id}/items"), Some(item(&plans.free, "USER", 1))),
        (reqwest::Method::PUT, format!("{OPP}/{id}/items/{item_id}"), Some(json!({ "units": [] }))),
        (reqwest::Method::DELETE, format!("{OPP}/{id}/items/{item_id}"), None),
        (reqwest::Method::POST, format!("{OPP}/{id}/finalize"), None),
        (reqwest::Method::POST, format!("/api/opportunities/{id}/requestReview"), None),
        (reqwest::Method::POST, format!("/api/opportunities/{id}/completeReview"), None),
    ] {
        let (s, e) = app.send(method.clone(), &path, &other.api_key, body.clone()).await;
        assert_eq!((s, &e), (404, &none), "{method} {path}");
        let (s, e) = app.send(method.clone(), &path.replace(&id, "quote_nope"), &r.api_key, body).await;
        assert_eq!((s, &e), (404, &none), "unknown id: {method} {path}");
        // No key: 401 in the same shape.
        let resp = app.http.request(method.clone(), app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{method} {path}");
        assert_error(&json(resp).await, 401, "UNAUTHORIZED");
    }

    // Sales support of the company acts on it (not a PENDING_REVIEW one); the marketplace
    // manager may not create or PATCH (not in those scope tables) but edits items.
    let (s, seen) = app.read(&format!("{OPP}/{id}"), &support).await;
    assert_eq!((s, seen["availableActions"].clone()), (200, json!(["EDIT", "FINALIZE", "REQUEST_REVIEW"])));
    let (s, renamed) = app
        .patch(
            &format!("{OPP}/{id}"),
            &support,
            json!({ "name": "By support",
        "purchaseEffectiveDate": 1_577_750_400_000_i64, "purchaseCustomAttributes": { "po": ["123"] } }),
        )
        .await;
    assert_eq!(s, 200, "{renamed}");
    assert_eq!(
        (
            renamed["name"].clone(),
            renamed["purchaseEffectiveDate"].clone(),
            renamed["purchaseCustomAttributes"].clone()
        ),
        (json!("By support"), json!("1577750400000"), json!({ "po": ["123"] }))
    );
    // The sales agent changes to another user of the company; a user of another company is 400.
    let (s, moved) = app.patch(&format!("{OPP}/{id}"), &r.api_key, json!({ "ownerId": support_id })).await;
    assert_eq!((s, moved["ownerUser"]["id"].clone()), (200, json!(support_id)), "{moved}");
    assert_eq!(moved["ownerUser"]["email"], "sam@r.com");
    let (_, by_owner) = app.read(&format!("{OPP}?ownerId={support_id}"), &r.api_key).await;
    assert_eq!(ids(&by_owner), [id.as_str()]);
    let (s, e) = app.patch(&format!("{OPP}/{id}"), &r.api_key, json!({ "ownerId": other.user_id })).await;
    assert_eq!(s, 400, "{e}");
    assert_names(&e, "ownerId");
    // A review goes back to the sellers only by the marketplace manager (a partnerd addition).
    let review = |what: &str| format!("/api/opportunities/{id}/{what}");
    assert_eq!(app.send(reqwest::Method::POST, &review("requestReview"), &support, None).await.0, 204);
    let (s, e) = app.send(reqwest::Method::POST, &review("completeReview"), &r.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "STATUS_CONFLICT");
    assert_eq!(app.send(reqwest::Method::POST, &review("completeReview"), &manager.api_key, None).await.0, 204);
    let (_, back) = app.read(&format!("{OPP}/{id}"), &r.api_key).await;
    assert_eq!(back["status"], "OPEN");
    let (s, _) = app.send(reqwest::Method::POST, &review("completeReview"), &manager.api_key, None).await;
    assert_eq!(s, 409, "not under review");
    let (s, e) = app.patch(&format!("{OPP}/{id}"), &manager.api_key, json!({ "name": "x" })).await;
    assert_eq!(s, 403, "{e}");
    assert_error(&e, 403, "FORBIDDEN");
    let (s, e) = app.post(OPP, &manager.api_key, json!({ "customerCompanyId": c, "customerId": users[0] })).await;
    assert_eq!(s, 403, "{e}");
    let (s, added) = app.post(&format!("{OPP}/{id}/items"), &manager.api_key, item(&plans.free, "USER", 1)).await;
    assert_eq!((s, added["totalFee"].clone()), (200, json!("USD0.00")), "{added}");
    let (s, e) = app
        .post(&format!("{OPP}?context=SSR"), &r.api_key, json!({ "customerCompanyId": c, "customerId": users[0] }))
        .await;
    assert_eq!(s, 403, "{e}");

    // Creation names each bad field; nothing is written.
    for (body, field) in [
        (json!({ "customerId": users[0] }), "customerCompanyId"),
        (json!({ "customerCompanyId": c }), "customerId"),
        (json!({ "customerCompanyId": oc, "customerId": users[0] }), "customerCompanyId"),
        (json!({ "customerCompanyId": c, "customerId": users2[0] }), "customerId"),
        (json!({ "customerCompanyId": c, "customerId": users[0], "ownerId": other.user_id }), "ownerId"),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "ownerCompanyId": other.company_id }),
            "ownerCompanyId",
        ),
        (json!({ "customerCompanyId": c, "customerId": users[0], "currency": "dollars" }), "currency"),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "purchaseEffectiveDate": "soon" }),
            "purchaseEffectiveDate",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "items": [item("plan_nope", "USER", 1)] }),
            "items[0].pricingPlanId",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "items": [{ "units": [] }] }),
            "items[0].pricingPlanId",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "items": [item(&plans.monthly, "USER", 99)] }),
            "items[0].units[0].quantity",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "items": [item(&plans.monthly, "DEVICE", 1)] }),
            "items[0].units[0].unit",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "items": [item(&plans.session, "SESSION", 1),
            { "pricingPlanId": plans.monthly, "units": [{ "quantity": "lots", "unit": "USER" }] }] }),
            "items[1].units[0].quantity",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "currency": "EUR", "items": [item(&plans.yearly, "USER", 1)] }),
            "items[0].pricingPlanId",
        ),
        (
            json!({ "customerCompanyId": c, "customerId": users[0], "items": [{ "pricingPlanId": plans.monthly, "productId": "product_nope" }] }),
            "items[0].productId",
        ),
    ] {
        let (s, e) = app.post(OPP, &r.api_key, body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_names(&e, field);
    }
    let (s, e) = app
        .post(
            OPP,
            &r.api_key,
            json!({ "customerCompanyId": c, "customerId": users[0],
        "items": [item(&plans.monthly, "USER", 1), item(&plans.yearly, "USER", 1)] }),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "EDITION_IN_OPPORTUNITY");
    let (_, page) = app.read(OPP, &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], 1, "nothing half-written: {page}");
    // EUR is every cost's currency of the monthly plan: it prices in EUR (9.00 × 2 + 5.00).
    let eur = create(
        &app,
        &r,
        json!({ "customerCompanyId": c2, "customerId": users2[0], "currency": "EUR",
        "items": [item(&plans.monthly, "USER", 2)] }),
    )
    .await;
    assert_eq!(eur["totalFee"], "EUR23.00");

    // Malformed JSON and wrong types: 400, never a 5xx.
    for raw in ["{\"customerCompanyId\": ", "[]", "{\"items\": {}}", "{\"items\": [{\"units\": 3}]}", "{\"name\": 5}"] {
        let resp = app
            .http
            .post(app.url(OPP))
            .bearer_auth(&r.api_key)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{raw}");
        assert_error(&json(resp).await, 400, "BAD_REQUEST");
    }
    let resp = app
        .http
        .request(reqwest::Method::PATCH, app.url(&format!("{OPP}/{id}")))
        .bearer_auth(&r.api_key)
        .header("content-type", "application/json")
        .body("{\"purchaseCustomAttributes\": {\"k\": \"not a list\"}}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_error(&json(resp).await, 400, "BAD_REQUEST");
});

on_both_backends!(a_quote_for_a_leads_customer_is_linked_to_the_lead, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let m = enrol(&app, "Channel Managers", "m@channel.example", &["reseller_manager"]).await;
    let plans = catalog(&app).await;
    const LEADS: &str = "/api/lead/v2";
    let q = |who: &TestPartner, context: &str| format!("context={context}&companyId={}", who.company_id);
    let body = json!({ "leadType": "MANUAL", "customer": {
        "company": { "name": "Acme", "country": "US", "city": "Miami" },
        "contact": { "email": "john@acme.example", "firstName": "John", "lastName": "Doe" } } });
    let (s, lead) = app.post(&format!("{LEADS}/leads?{}", q(&m, "RESELLER_MANAGER")), &m.api_key, body).await;
    assert_eq!(s, 201, "{lead}");
    let lead_id = id_of(&lead);
    let assign = json!({ "leadId": lead_id, "recipient": { "companyId": r.company_id, "participantType": "COMPANY" } });
    assert_eq!(app.post(&format!("{LEADS}/assignment?{}", q(&m, "RESELLER_MANAGER")), &m.api_key, assign).await.0, 201);
    let step =
        |path: &str, who: &TestPartner, context: &str| format!("{LEADS}/{path}?{}&leadId={lead_id}", q(who, context));
    assert_eq!(app.post(&step("conversionRequest", &r, "RESELLER"), &r.api_key, json!({})).await.0, 200);
    assert_eq!(
        app.post(
            &format!("{LEADS}/conversionApproval?context=RESELLER_MANAGER&leadId={lead_id}"),
            &m.api_key,
            json!({})
        )
        .await
        .0,
        200
    );
    let (s, converted) = app.post(&step("conversion", &r, "RESELLER"), &r.api_key, json!({})).await;
    assert_eq!(s, 200, "{converted}");
    let company = converted["lead"]["convertedCompany"]["id"].as_str().unwrap().to_owned();
    let user = converted["lead"]["convertedUser"]["id"].as_str().unwrap().to_owned();

    let quote = create(
        &app,
        &r,
        json!({ "customerCompanyId": company, "customerId": user,
        "items": [item(&plans.monthly, "USER", 1)] }),
    )
    .await;
    let (s, page) = app.read(&format!("{LEADS}/leads/{lead_id}/activities?{}", q(&r, "RESELLER")), &r.api_key).await;
    assert_eq!(s, 200, "{page}");
    let linked = page["content"].as_array().unwrap().iter().find(|a| a["verb"] == "LEAD_QUOTE_LINKED").cloned();
    let linked = linked.unwrap_or_else(|| panic!("no LEAD_QUOTE_LINKED: {page}"));
    assert_eq!(linked["contextQuote"]["id"], quote["id"]);
    assert_eq!(linked["contextQuote"]["applicationName"], "Suite");
    assert_eq!(linked["contextQuote"]["friendlyId"].as_str().map(str::len), Some(6));
    assert_eq!(linked["allowedResourcesAccess"], json!(["CONTEXT_QUOTE", "ACTOR_COMPANY"]));
    assert_eq!(linked["actorCompany"]["id"], json!(r.company_id));
    assert_eq!(linked["verbContext"], "COMPANY");
    // A quote for a company no lead became links nothing.
    let (c, users) = customer(&app, &r, "Plain Co", &["Pat"]).await;
    let plain = create(&app, &r, json!({ "customerCompanyId": c, "customerId": users[0] })).await;
    let kinds: Vec<String> = app.events(&id_of(&plain)).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(kinds, ["quote.created"]);
});
