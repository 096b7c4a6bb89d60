//! The AppReseller surface over HTTP on both backends: companies, users and company
//! associations, each endpoint's scope rules and filters, isolation between resellers, the
//! family's conventions (epoch-millisecond times, pages, `{code, message, status}` errors).

use crate::common::*;
use partnerd_domain::Clock;
use serde_json::{Value, json};

const AR: &str = "/api/appReseller/v1";

async fn create_company(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    app.post(&format!("{AR}/companies"), key, body).await
}

async fn customer(app: &TestApp, reseller: &TestPartner, name: &str) -> String {
    let (s, c) = create_company(app, &reseller.api_key, json!({ "name": name })).await;
    assert_eq!(s, 200, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    let items = list.as_array().or_else(|| list["content"].as_array()).expect("a list");
    items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

fn assert_error(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], json!(status), "{body}");
    assert_eq!(body["code"], json!(code), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "exactly code, message, status: {body}");
}

on_both_backends!(a_reseller_creates_lists_and_reads_its_customers, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = enrol(&app, "Acme Reseller", "admin@acme.com", &["reseller"]).await;
    let body = json!({ "companyAccess": "RESELLER", "companySize": "SMALL", "createdByCompanyId": acme.company_id,
        "externalId": "externalRandom", "name": "Test Name", "phone": "50505055", "website": "www.new_company.com" });
    let (s, c) = create_company(&app, &acme.api_key, body).await;
    assert_eq!(s, 200, "{c}");
    let now_ms = app.clock.now().timestamp_millis();
    assert_eq!(c["createdOn"], json!(now_ms), "epoch milliseconds");
    assert_eq!(
        (c["externalId"].clone(), c["name"].clone(), c["phone"].clone()),
        (json!("externalRandom"), json!("Test Name"), json!("50505055"))
    );
    let id = c["id"].as_str().unwrap().to_owned();

    let (s, list) = app.read(&format!("{AR}/companies?context=RESELLER"), &acme.api_key).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(ids(&list), vec![id.clone()]);
    let item = &list[0];
    assert_eq!(item["activated"], json!(true));
    assert_eq!(item["numOfUsers"], json!(0));
    assert_eq!(item["grantedAccesses"], json!(["CUSTOMER"]));
    assert_eq!(item["createdOn"], json!(now_ms));

    let (s, d) = app.read(&format!("{AR}/companies/{id}?context=RESELLER"), &acme.api_key).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["id"], json!(id));
    assert_eq!(d["actions"], json!(["INVITE_USERS"]));
    assert_eq!(d["defaultRole"], json!("USER"));
    assert_eq!(d["availableTaxExemptions"].as_array().unwrap().len(), 18);
    assert_eq!(d["stats"].as_array().unwrap().len(), 6);
    assert_eq!(d["stats"][5], json!({ "children": "$0.00", "unit": "Total Spent" }));
    assert_eq!(d["createdOn"], json!(now_ms));
    // Its own company is readable too.
    let (s, own) = app.read(&format!("{AR}/companies/{}?context=RESELLER", acme.company_id), &acme.api_key).await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(own["grantedAccesses"], json!(["RESELLER"]));

    // The company and its association are in the event log.
    let events = app.events(&id).await;
    assert_eq!(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["company.created"]);
    assert_eq!(events[0].partner_id.as_deref(), Some(acme.partner_id.as_str()));

    // A duplicate externalId is 409; nothing is written.
    let (s, e) = create_company(&app, &acme.api_key, json!({ "name": "Other", "externalId": "externalRandom" })).await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "EXTERNAL_ID_TAKEN");
    let (_, list) = app.read(&format!("{AR}/companies?context=RESELLER"), &acme.api_key).await;
    assert_eq!(ids(&list).len(), 1);
});

on_both_backends!(two_resellers_see_only_their_own_companies_and_users, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@a.com", &["reseller"]).await;
    let b = enrol(&app, "Reseller B", "b@b.com", &["reseller"]).await;
    let ca = customer(&app, &a, "Customer of A").await;
    let cb = customer(&app, &b, "Customer of B").await;
    let (_, la) = app.read(&format!("{AR}/companies?context=RESELLER"), &a.api_key).await;
    let (_, lb) = app.read(&format!("{AR}/companies?context=RESELLER"), &b.api_key).await;
    assert_eq!((ids(&la), ids(&lb)), (vec![ca.clone()], vec![cb.clone()]));
    // Another reseller's customer is not found, not forbidden.
    let (s, e) = app.read(&format!("{AR}/companies/{cb}?context=RESELLER"), &a.api_key).await;
    assert_eq!(s, 404);
    assert_error(&e, 404, "NOT_FOUND");

    let (s, u) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &a.api_key,
            json!({ "companyId": ca, "email": "jane@customer-a.com" }),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let (s, _) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &b.api_key,
            json!({ "companyId": cb, "email": "joe@customer-b.com" }),
        )
        .await;
    assert_eq!(s, 200);
    let (_, ua) = app.read(&format!("{AR}/users?context=RESELLER"), &a.api_key).await;
    assert_eq!(ua["content"].as_array().unwrap().len(), 1, "{ua}");
    assert_eq!(ua["content"][0]["email"], json!("jane@customer-a.com"));
    // B may not create users in, list or read A's customer: companyId spoofing is refused.
    let (s, e) = app
        .post(&format!("{AR}/users?context=RESELLER"), &b.api_key, json!({ "companyId": ca, "email": "x@x.com" }))
        .await;
    assert_eq!(s, 403);
    assert_error(&e, 403, "FORBIDDEN");
    let (s, _) = app.read(&format!("{AR}/users?context=RESELLER&companyId={ca}"), &b.api_key).await;
    assert_eq!(s, 403);
    let uid = u["id"].as_str().unwrap();
    let (s, _) = app.read(&format!("{AR}/users/{uid}?context=RESELLER&companyId={ca}"), &b.api_key).await;
    assert_eq!(s, 403);
    let (s, _) = app.read(&format!("{AR}/users/{uid}?context=RESELLER&companyId={cb}"), &b.api_key).await;
    assert_eq!(s, 404, "B manages cb, but the user is not a member there");
    // createdByCompanyId must be the caller's own company.
    let (s, e) = create_company(&app, &b.api_key, json!({ "name": "Spoof", "createdByCompanyId": a.company_id })).await;
    assert_eq!(s, 403);
    assert_error(&e, 403, "FORBIDDEN");
    let (s, _) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &b.api_key,
            json!({ "companyId": cb, "email": "y@y.com", "createdByCompanyId": a.company_id }),
        )
        .await;
    assert_eq!(s, 403);
});

on_both_backends!(contexts_and_scopes_are_enforced, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let reseller = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let referral = enrol(&app, "Referrer", "f@f.com", &["referral"]).await;
    let manager = enrol(&app, "Manager", "m@m.com", &["reseller_manager"]).await;
    let dev = enrol(&app, "Vendor", "d@d.com", &["developer", "reseller"]).await;
    let cust = customer(&app, &reseller, "Customer").await;

    // The context is required, must be a supported value, and must be held.
    let (s, e) = app.read(&format!("{AR}/companies"), &reseller.api_key).await;
    assert_eq!(s, 400);
    assert_error(&e, 400, "BAD_REQUEST");
    assert!(e["message"].as_str().unwrap().contains("context"), "{e}");
    let (s, e) = app.read(&format!("{AR}/companies?context=REFERRAL"), &referral.api_key).await;
    assert_eq!(s, 400, "not a context of this endpoint");
    assert!(e["message"].as_str().unwrap().contains("RESELLER, RESELLER_MANAGER"), "{e}");
    let (s, e) = app.read(&format!("{AR}/companies?context=RESELLER_MANAGER"), &reseller.api_key).await;
    assert_eq!(s, 403);
    assert_error(&e, 403, "FORBIDDEN");
    let (s, _) = app.read(&format!("{AR}/companies?context=RESELLER"), &manager.api_key).await;
    assert_eq!(s, 403);
    let (s, _) = app.read(&format!("{AR}/companies/{cust}?context=RESELLER_MANAGER"), &reseller.api_key).await;
    assert_eq!(s, 403);
    // Creating companies is ROLE_RESELLER's.
    let (s, _) = create_company(&app, &manager.api_key, json!({ "name": "No" })).await;
    assert_eq!(s, 403);
    let (s, _) =
        create_company(&app, &reseller.api_key, json!({ "name": "No", "companyAccess": "RESELLER_MANAGER" })).await;
    assert_eq!(s, 403);
    // Creating users too, whatever the context says.
    let (s, _) = app
        .post(
            &format!("{AR}/users?context=RESELLER_MANAGER"),
            &manager.api_key,
            json!({ "companyId": cust, "email": "z@z.com" }),
        )
        .await;
    assert_eq!(s, 403);

    // A reseller manager sees the marketplace's reseller and referral companies, not customers.
    let (s, list) = app.read(&format!("{AR}/companies?context=RESELLER_MANAGER&size=50"), &manager.api_key).await;
    assert_eq!(s, 200, "{list}");
    let mut seen = ids(&list);
    seen.sort();
    let mut expected = vec![reseller.company_id.clone(), referral.company_id.clone(), dev.company_id.clone()];
    expected.sort();
    assert_eq!(seen, expected);
    let (s, _) = app.read(&format!("{AR}/companies/{cust}?context=RESELLER_MANAGER"), &manager.api_key).await;
    assert_eq!(s, 404);
    let (s, d) =
        app.read(&format!("{AR}/companies/{}?context=RESELLER_MANAGER", reseller.company_id), &manager.api_key).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["actions"], json!(["LINK_RESELLER_TO_CUSTOMER"]));
    // vendor / channelAdmin filters.
    let (_, v) =
        app.read(&format!("{AR}/companies?context=RESELLER_MANAGER&vendor=ONLY_VENDORS"), &manager.api_key).await;
    assert_eq!(ids(&v), vec![dev.company_id.clone()]);
    let (_, v) = app
        .read(
            &format!(
                "{AR}/companies?context=RESELLER_MANAGER&vendor=ONLY_RESELLERS&sortField=COMPANY_ID&sortOrder=ASC"
            ),
            &manager.api_key,
        )
        .await;
    let mut resellers = vec![reseller.company_id.clone(), dev.company_id.clone()];
    resellers.sort();
    assert_eq!(ids(&v), resellers, "sorted by id ascending");
    let (_, v) =
        app.read(&format!("{AR}/companies?context=RESELLER_MANAGER&vendor=ONLY_NON_VENDORS"), &manager.api_key).await;
    assert_eq!(ids(&v).len(), 2);
    let (_, v) = app
        .read(&format!("{AR}/companies?context=RESELLER_MANAGER&channelAdmin=ONLY_CHANNEL_ADMINS"), &manager.api_key)
        .await;
    assert_eq!(ids(&v).len(), 0);
    let (_, v) = app
        .read(
            &format!("{AR}/companies?context=RESELLER_MANAGER&channelAdmin=ONLY_NON_CHANNEL_ADMINS"),
            &manager.api_key,
        )
        .await;
    assert_eq!(ids(&v).len(), 3);
    // Bad enum values and types are 400 naming the parameter.
    for (query, parameter) in [
        ("vendor=SOME", "vendor"),
        ("channelAdmin=x", "channelAdmin"),
        ("sortField=NAME", "sortField"),
        ("sortOrder=down", "sortOrder"),
        ("page=-1", "page"),
        ("size=abc", "size"),
        ("size=0", "size"),
        ("fromDate=yesterday", "fromDate"),
        ("active=maybe", "active"),
    ] {
        let (s, e) = app.read(&format!("{AR}/companies?context=RESELLER_MANAGER&{query}"), &manager.api_key).await;
        assert_eq!(s, 400, "{query}: {e}");
        assert_error(&e, 400, "BAD_REQUEST");
        assert!(e["message"].as_str().unwrap().contains(&format!("'{parameter}'")), "{query}: {e}");
    }
});

on_both_backends!(company_filters_page_search_and_dates, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let mut created = Vec::new();
    for (i, name) in ["Alpha Ltd", "Beta GmbH", "Gamma Inc"].iter().enumerate() {
        app.clock.advance(chrono::Duration::seconds(10));
        let (s, c) = create_company(
            &app,
            &r.api_key,
            json!({ "name": name, "externalId": format!("ext-{i}"), "phone": format!("555-{i}") }),
        )
        .await;
        assert_eq!(s, 200, "{c}");
        created.push((c["id"].as_str().unwrap().to_owned(), c["createdOn"].as_i64().unwrap()));
    }
    let list = |q: String| {
        let app = &app;
        let key = r.api_key.clone();
        async move {
            let (s, v) = app.read(&format!("{AR}/companies?context=RESELLER&{q}"), &key).await;
            assert_eq!(s, 200, "{q}: {v}");
            ids(&v)
        }
    };
    let newest_first: Vec<String> = created.iter().rev().map(|c| c.0.clone()).collect();
    assert_eq!(list(String::new()).await, newest_first, "default: newest first");
    assert_eq!(
        list("sortField=CREATED_ON&sortOrder=ASC".into()).await,
        created.iter().map(|c| c.0.clone()).collect::<Vec<_>>()
    );
    assert_eq!(list("size=2".into()).await, newest_first[..2].to_vec());
    assert_eq!(list("size=2&page=1".into()).await, newest_first[2..].to_vec());
    assert_eq!(list("searchText=beta".into()).await, [created[1].0.clone()]);
    assert_eq!(list("searchText=ext-2".into()).await, [created[2].0.clone()]);
    assert_eq!(list("searchText=555-0".into()).await, [created[0].0.clone()]);
    assert_eq!(list("searchText=%25".into()).await, Vec::<String>::new(), "LIKE wildcards are literal");
    assert_eq!(list(format!("fromDate={}", created[1].1)).await, newest_first[..2].to_vec());
    assert_eq!(list(format!("toDate={}", created[1].1)).await, newest_first[1..].to_vec());
    assert_eq!(list(format!("fromDate={0}&toDate={0}", created[1].1)).await, [created[1].0.clone()]);
    assert_eq!(list("active=true&enabled=true".into()).await.len(), 3);
    assert_eq!(list("active=false".into()).await.len(), 0);
    assert_eq!(list("enabled=false".into()).await.len(), 0);
});

on_both_backends!(users_are_created_listed_and_read_in_the_documented_shapes, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let manager = enrol(&app, "Manager", "m@m.com", &["reseller_manager"]).await;
    let (_, c) = create_company(&app, &r.api_key, json!({ "name": "Company3", "externalId": "external11" })).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let body = json!({ "companyId": cid, "createdByCompanyId": r.company_id, "email": "Test4@Yopmail.com",
        "externalId": "u-ext-4", "firstName": "user4", "lastName": "user4" });
    let (s, u) = app.post(&format!("{AR}/users?context=RESELLER"), &r.api_key, body.clone()).await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["companyId"], json!(cid));
    assert_eq!(u["email"], json!("test4@yopmail.com"));
    assert_eq!((u["firstName"].clone(), u["lastName"].clone()), (json!("user4"), json!("user4")));
    let m = &u["memberships"][0]["company"];
    assert_eq!(
        (m["id"].clone(), m["name"].clone(), m["externalId"].clone()),
        (json!(cid), json!("Company3"), json!("external11"))
    );
    assert_eq!(m["phone"], Value::Null);
    let uid = u["id"].as_str().unwrap().to_owned();
    assert_eq!(app.events(&uid).await.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["user.created"]);

    // The e-mail (case-insensitively) and the external id are unique in the marketplace.
    let (s, e) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &r.api_key,
            json!({ "companyId": cid, "email": "test4@yopmail.com" }),
        )
        .await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "EMAIL_TAKEN");
    let (s, e) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &r.api_key,
            json!({ "companyId": cid, "email": "admin@m.com".replace("admin", "m") }),
        )
        .await;
    assert_eq!(s, 409, "a partner's admin has this e-mail: {e}");
    let (s, e) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &r.api_key,
            json!({ "companyId": cid, "email": "new@x.com", "externalId": "u-ext-4" }),
        )
        .await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "EXTERNAL_ID_TAKEN");
    // Roles are validated; missing fields are named.
    let (s, e) = app
        .post(
            &format!("{AR}/users?context=RESELLER"),
            &r.api_key,
            json!({ "companyId": cid, "email": "r2@x.com", "roles": ["USER", "CHANNEL_ADMIN"] }),
        )
        .await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("roles[1]"), "{e}");
    let (s, e) = app.post(&format!("{AR}/users?context=RESELLER"), &r.api_key, json!({ "companyId": cid })).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("'email'"), "{e}");
    let (s, e) = app
        .post(&format!("{AR}/users?context=RESELLER"), &r.api_key, json!({ "companyId": cid, "email": "not-an-email" }))
        .await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("'email'"), "{e}");
    let (s, _) = app.post(&format!("{AR}/users"), &r.api_key, json!({ "companyId": cid, "email": "q@x.com" })).await;
    assert_eq!(s, 400, "context is required");

    let (s, page) = app.read(&format!("{AR}/users?context=RESELLER"), &r.api_key).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        page["page"],
        json!({ "number": 0, "size": 10, "totalElements": 1, "totalPages": 1, "nextCursor": null })
    );
    let item = &page["content"][0];
    assert_eq!(item["activated"], json!(false));
    assert_eq!(item["invitationRequired"], json!(true));
    assert_eq!(item["companyId"], json!(cid));
    assert_eq!(item["createdOn"], json!(app.clock.now().timestamp_millis()));
    assert_eq!(item["memberships"][0]["enabled"], json!(true));
    for (q, n) in [
        ("active=ONLY_PENDING_INVITE", 1),
        ("active=ONLY_ACTIVE", 0),
        ("active=ONLY_INACTIVE", 0),
        ("searchText=YOPMAIL", 1),
        ("searchText=nobody", 0),
        ("sortField=EMAIL&sortOrder=DESC", 1),
        ("page=1", 0),
    ] {
        let (s, p) = app.read(&format!("{AR}/users?context=RESELLER&{q}"), &r.api_key).await;
        assert_eq!(s, 200, "{q}: {p}");
        assert_eq!(p["content"].as_array().unwrap().len(), n, "{q}: {p}");
        assert_eq!(p["page"]["totalElements"], json!(if q == "page=1" { 1 } else { n }), "{q}");
    }
    let (_, p) = app
        .read(&format!("{AR}/users?context=RESELLER&companyId={cid}&partner={}", app.marketplace_id()), &r.api_key)
        .await;
    assert_eq!(p["content"].as_array().unwrap().len(), 1);
    let (_, p) = app.read(&format!("{AR}/users?context=RESELLER&partner=OTHER"), &r.api_key).await;
    assert_eq!(p["page"]["totalElements"], json!(0));
    let (s, e) = app.read(&format!("{AR}/users?context=RESELLER&active=YES"), &r.api_key).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("'active'"), "{e}");

    let (s, d) = app.read(&format!("{AR}/users/{uid}?context=RESELLER&companyId={cid}"), &r.api_key).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["actions"], json!(["SEND_RESET_PASSWORD_EMAIL"]));
    assert_eq!(d["partner"], json!(app.marketplace_id()));
    assert_eq!(d["memberships"][0]["roles"], json!(["USER"]));
    assert_eq!(d["enabled"], json!(true));
    let (s, e) = app.read(&format!("{AR}/users/{uid}?context=RESELLER"), &r.api_key).await;
    assert_eq!(s, 400, "companyId is required");
    assert!(e["message"].as_str().unwrap().contains("companyId"), "{e}");
    let (s, _) = app.read(&format!("{AR}/users/user_missing?context=RESELLER&companyId={cid}"), &r.api_key).await;
    assert_eq!(s, 404);

    // A reseller manager lists the users of reseller and referral companies.
    let (s, p) = app.read(&format!("{AR}/users?context=RESELLER_MANAGER&size=50"), &manager.api_key).await;
    assert_eq!(s, 200, "{p}");
    let emails: Vec<&str> = p["content"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["r@r.com"], "the reseller's admin, not the customer's user nor the manager");
    let (s, d) = app
        .read(
            &format!("{AR}/users/{}?context=RESELLER_MANAGER&companyId={}", r.user_id, r.company_id),
            &manager.api_key,
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["memberships"][0]["roles"], json!(["USER", "RESELLER"]));
    assert_eq!(d["availableRoles"], json!([{ "name": "RESELLER", "permission": "READ" }]));
    let (s, _) =
        app.read(&format!("{AR}/users/{uid}?context=RESELLER_MANAGER&companyId={cid}"), &manager.api_key).await;
    assert_eq!(s, 403, "a customer company is not the manager's");
});

on_both_backends!(company_associations_link_and_unlink_what_resellers_see, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@a.com", &["reseller"]).await;
    let b = enrol(&app, "Reseller B", "b@b.com", &["reseller"]).await;
    let referral = enrol(&app, "Referrer", "f@f.com", &["referral"]).await;
    let manager = enrol(&app, "Manager", "m@m.com", &["reseller_manager"]).await;
    let operator = app.server.bootstrap.operator_key.clone().expect("operator key");
    let cust = customer(&app, &a, "Shared Customer").await;
    let url = format!("{AR}/companyAssociations");

    // Only channel admins and reseller managers.
    let (s, e) = app.read(&url, &a.api_key).await;
    assert_eq!(s, 403);
    assert_error(&e, 403, "FORBIDDEN");
    let (s, _) =
        app.post(&url, &a.api_key, json!({ "customerCompanyId": cust, "resellerCompanyId": b.company_id })).await;
    assert_eq!(s, 403);

    // B cannot see the customer until linked.
    let (s, _) = app.read(&format!("{AR}/companies/{cust}?context=RESELLER"), &b.api_key).await;
    assert_eq!(s, 404);
    app.clock.advance(chrono::Duration::seconds(5));
    let (s, link) =
        app.post(&url, &manager.api_key, json!({ "customerCompanyId": cust, "resellerCompanyId": b.company_id })).await;
    assert_eq!(s, 200, "{link}");
    assert_eq!(link["customerCompany"], json!({ "id": cust, "name": "Shared Customer" }));
    assert_eq!(link["resellerCompany"], json!({ "id": b.company_id, "name": "Reseller B" }));
    assert_eq!(link["createdOn"], json!(app.clock.now().timestamp_millis()));
    let link_id = link["id"].as_str().unwrap().to_owned();
    let (s, _) = app.read(&format!("{AR}/companies/{cust}?context=RESELLER"), &b.api_key).await;
    assert_eq!(s, 200);
    let (_, lb) = app.read(&format!("{AR}/companies?context=RESELLER"), &b.api_key).await;
    assert_eq!(ids(&lb), vec![cust.clone()]);

    // The 409s and 404s.
    let (s, e) =
        app.post(&url, &operator, json!({ "customerCompanyId": cust, "resellerCompanyId": b.company_id })).await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "ALREADY_ASSOCIATED");
    let (s, e) =
        app.post(&url, &operator, json!({ "customerCompanyId": cust, "resellerCompanyId": referral.company_id })).await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "RESELLER_REQUIRED");
    let (s, e) = app
        .post(&url, &operator, json!({ "customerCompanyId": a.company_id, "resellerCompanyId": a.company_id }))
        .await;
    assert_eq!(s, 409);
    assert_error(&e, 409, "SAME_COMPANY");
    let (s, e) = app
        .post(&url, &operator, json!({ "customerCompanyId": "company_nope", "resellerCompanyId": b.company_id }))
        .await;
    assert_eq!(s, 404);
    assert_error(&e, 404, "NOT_FOUND");
    let (s, e) = app.post(&url, &operator, json!({ "customerCompanyId": cust })).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("resellerCompanyId"), "{e}");

    // Listing, by the operator (channel admin) and the manager, with filters.
    let (s, page) = app.read(&url, &operator).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        page["page"],
        json!({ "number": 0, "size": 10, "totalElements": 2, "totalPages": 1, "nextCursor": null })
    );
    assert_eq!(ids(&page)[0], link_id, "newest first");
    for (q, n) in [
        (format!("resellerCompanyId={}", b.company_id), 1),
        (format!("resellerCompanyId={}", a.company_id), 1),
        (format!("customerCompanyId={cust}"), 2),
        ("searchText=reseller%20b".to_owned(), 1),
        ("searchText=shared".to_owned(), 2),
        (format!("createdOn=gte({})", app.clock.now().timestamp_millis()), 1),
        (format!("createdOn=lte({})", app.clock.now().timestamp_millis() - 1), 1),
        (format!("createdOn=gte({0}),lte({0})", app.clock.now().timestamp_millis()), 1),
        ("sort=-resellerCompany.name".to_owned(), 2),
        ("size=1&number=1".to_owned(), 1),
    ] {
        let (s, p) = app.read(&format!("{url}?{q}"), &manager.api_key).await;
        assert_eq!(s, 200, "{q}: {p}");
        assert_eq!(p["content"].as_array().unwrap().len(), n, "{q}: {p}");
    }
    let (_, p) = app.read(&format!("{url}?sort=-resellerCompany.name"), &manager.api_key).await;
    assert_eq!(p["content"][0]["resellerCompany"]["name"], json!("Reseller B"));
    for q in ["createdOn=after(1)", "sort=name", "number=x"] {
        let (s, e) = app.read(&format!("{url}?{q}"), &manager.api_key).await;
        assert_eq!(s, 400, "{q}: {e}");
        assert_error(&e, 400, "BAD_REQUEST");
    }

    // Unlinking: B no longer sees the customer anywhere.
    let r = app.http.delete(app.url(&format!("{url}/{link_id}"))).bearer_auth(&manager.api_key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (s, _) = app.read(&format!("{AR}/companies/{cust}?context=RESELLER"), &b.api_key).await;
    assert_eq!(s, 404);
    let (_, lb) = app.read(&format!("{AR}/companies?context=RESELLER"), &b.api_key).await;
    assert_eq!(ids(&lb), Vec::<String>::new());
    let r = app.http.delete(app.url(&format!("{url}/{link_id}"))).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = app.http.delete(app.url(&format!("{url}/{link_id}"))).bearer_auth(&a.api_key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let types: Vec<String> = app.events(&link_id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(types, ["company_association.created", "company_association.deleted"]);
});

on_both_backends!(bad_requests_answer_in_the_family_shape, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let url = app.url(&format!("{AR}/companies"));
    let send = |body: &'static str| {
        app.http.post(url.clone()).bearer_auth(&r.api_key).header("content-type", "application/json").body(body).send()
    };
    for (body, word) in [
        (r#"{"name": "x""#, "Malformed JSON"),
        (r#"{"name": 12}"#, "'name'"),
        (r#"{"name": "x", "companySize": "HUGE"}"#, "'companySize'"),
        (r#"{"name": "x", "companyAccess": "BOSS"}"#, "'companyAccess'"),
        (r#""just a string""#, "body"),
        (r#"{}"#, "'name'"),
    ] {
        let res = send(body).await.unwrap();
        assert_eq!(res.status().as_u16(), 400, "{body}");
        let e: Value = res.json().await.unwrap();
        assert_error(&e, 400, "BAD_REQUEST");
        assert!(e["message"].as_str().unwrap().contains(word), "{body}: {e}");
    }
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let res = app
        .http
        .post(url.clone())
        .bearer_auth(&r.api_key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert_error(&res.json().await.unwrap(), 413, "PAYLOAD_TOO_LARGE");
    let res = app
        .http
        .post(url.clone())
        .bearer_auth(&r.api_key)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);

    // No key or a bad one is 401; rate-limit headers come on every answer.
    let res = app.http.get(app.url(&format!("{AR}/companies?context=RESELLER"))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert!(res.headers().contains_key("x-ratelimit-limit"));
    assert_error(&res.json().await.unwrap(), 401, "UNAUTHORIZED");
    let res = app.get(&format!("{AR}/companies?context=RESELLER"), "pdk_bogus").await;
    assert_eq!(res.status().as_u16(), 401);
    let res = app.get(&format!("{AR}/companies?context=RESELLER"), &r.api_key).await;
    assert!(res.headers().contains_key("x-ratelimit-remaining"));

    // Unknown paths and methods under every prefix of the family.
    for path in [format!("{AR}/nowhere"), "/api/lead/v2/nowhere".to_owned(), "/api/opportunities/o1/nowhere".to_owned()]
    {
        let (s, e) = app.read(&path, &r.api_key).await;
        assert_eq!(s, 404, "{path}");
        assert_error(&e, 404, "NOT_FOUND");
    }
    let (s, e) = app.read("/api/opportunities/o1/requestReview", &r.api_key).await;
    assert_eq!(s, 405, "requestReview is a POST");
    assert_error(&e, 405, "METHOD_NOT_ALLOWED");
    let (s, e) = app.send(reqwest::Method::PUT, &format!("{AR}/companies"), &r.api_key, Some(json!({}))).await;
    assert_eq!(s, 405);
    assert_error(&e, 405, "METHOD_NOT_ALLOWED");
    let (s, _) = app.read(&format!("{AR}/companies/{}?context=RESELLER", "x".repeat(300)), &r.api_key).await;
    assert_eq!(s, 404);
});

on_both_backends!(customers_of_partners_are_the_same_companies, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    // A partner enrolled with the CLI's defaults is a reseller company a manager sees.
    let p = app.partner("Default Partner", "p@p.com", "starter").await;
    let manager = enrol(&app, "Manager", "m@m.com", &["reseller_manager"]).await;
    let (_, list) =
        app.read(&format!("{AR}/companies?context=RESELLER_MANAGER&vendor=ONLY_RESELLERS"), &manager.api_key).await;
    assert_eq!(ids(&list), vec![p.company_id.clone()]);
    // The partner's own key acts in the RESELLER context on this surface.
    let c = customer(&app, &p, "Customer Co").await;
    let (_, mine) = app.read(&format!("{AR}/companies?context=RESELLER"), &p.api_key).await;
    assert_eq!(ids(&mine), [c]);
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

fn catalog_file(products: &Value) -> tempfile_path::TempPath {
    tempfile_path::write(&serde_json::to_string(products).unwrap())
}

/// A file in the system's temporary directory, removed when dropped.
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    pub fn write(text: &str) -> TempPath {
        let path = std::env::temp_dir().join(format!("partnerd-catalog-{}.json", partnerd_domain::ids::new_id("f")));
        std::fs::write(&path, text).unwrap();
        TempPath(path)
    }
}

fn helpdesk(blurb: &str, session_price: u32) -> Value {
    json!({ "name": "IT HelpDesk", "blurb": blurb, "imageUrl": "https://appdirect.com/resource1", "provider": "Appdirect",
        "editions": [
            { "name": "IT HelpDesk Session", "revenueType": "ONE_TIME", "paymentPlans": [{ "frequency": "ONE_TIME",
                "costs": [{ "itemPrices": { "USD": session_price, "CAD": 60, "GBP": "60.50" }, "unit": "SESSION",
                    "pricingStrategy": "UNIT", "minUnits": 0, "maxUnits": 111,
                    "markupPrices": [{ "markupType": "CHANNEL_RESELLER_COMPANY", "markupPrices": { "USD": 5 } }] }] }] },
            { "name": "Monthly", "revenueType": "RECURRING", "paymentPlans": [
                { "frequency": "MONTHLY", "costs": [{ "itemPrices": { "USD": 10 }, "unit": "USER", "pricingStrategy": "UNIT" }] },
                { "frequency": "YEARLY", "costs": [{ "itemPrices": { "USD": 100 }, "unit": "USER", "pricingStrategy": "UNIT" }] }
            ] }
        ] })
}

on_both_backends!(the_catalog_is_imported_all_or_nothing_and_sold_by_resellers, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let referral = enrol(&app, "Referrer", "f@f.com", &["referral"]).await;
    let other = enrol(&app, "Other Reseller", "o@o.com", &["reseller"]).await;
    let hidden = json!({ "name": "Hidden", "provider": "Acme", "visible": false, "editions": [{ "name": "E", "revenueType": "ONE_TIME",
        "paymentPlans": [{ "frequency": "ONE_TIME", "costs": [{ "itemPrices": { "USD": 1 }, "unit": "UNIT", "pricingStrategy": "FLAT_RATE" }] }] }] });
    let file = catalog_file(&json!([helpdesk("Product 1 short description", 60), hidden]));
    let out = partnerd_cli(&app.database_url, &["catalog", "import", "--file", file.0.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ids: Value = serde_json::from_slice(&out.stdout).unwrap();
    let product_id = ids["products"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(ids["products"][0]["editions"].as_array().unwrap().len(), 2);
    assert_eq!(ids["products"][0]["editions"][1]["paymentPlans"].as_array().unwrap().len(), 2);
    let hidden_id = ids["products"][1]["id"].as_str().unwrap().to_owned();

    let (s, page) = app.read(&format!("{AR}/catalog/sellableProducts"), &r.api_key).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        page["page"],
        json!({ "number": 0, "size": 50, "totalElements": 1, "totalPages": 1, "nextCursor": null })
    );
    assert_eq!(page["links"], json!([]));
    assert_eq!(
        page["content"][0],
        json!({ "blurb": "Product 1 short description", "id": product_id, "imageUrl": "https://appdirect.com/resource1",
            "name": "IT HelpDesk", "provider": "Appdirect", "visible": true })
    );
    let (_, found) = app.read(&format!("{AR}/catalog/sellableProducts?searchText=appdirect"), &r.api_key).await;
    assert_eq!(found["page"]["totalElements"], json!(1));
    let (_, none) = app.read(&format!("{AR}/catalog/sellableProducts?searchText=zzz&size=5&page=0"), &r.api_key).await;
    assert_eq!(
        none["page"],
        json!({ "number": 0, "size": 5, "totalElements": 0, "totalPages": 0, "nextCursor": null })
    );

    let (s, editions) = app.read(&format!("{AR}/catalog/sellableProducts/{product_id}/editions"), &r.api_key).await;
    assert_eq!(s, 200, "{editions}");
    let e = &editions[0];
    assert_eq!((e["name"].clone(), e["revenueType"].clone()), (json!("IT HelpDesk Session"), json!("ONE_TIME")));
    let plan = &e["paymentPlans"][0];
    assert_eq!(plan["frequency"], json!("ONE_TIME"));
    assert_eq!(plan["cancellationPeriodLimit"], Value::Null);
    let cost = &plan["costs"][0];
    assert_eq!(cost["itemPrices"], json!({ "CAD": 60, "GBP": 60.5, "USD": 60 }));
    assert_eq!(
        cost["markupPrices"],
        json!([{ "markupPrices": { "USD": 5 }, "markupType": "CHANNEL_RESELLER_COMPANY" }])
    );
    assert_eq!((cost["minUnits"].clone(), cost["maxUnits"].clone()), (json!(0), json!(111)));
    assert_eq!(
        (cost["pricingStrategy"].clone(), cost["unit"].clone(), cost["unitDependency"].clone()),
        (json!("UNIT"), json!("SESSION"), Value::Null)
    );
    assert_eq!(plan["id"], ids["products"][0]["editions"][0]["paymentPlans"][0]["id"]);
    let cost_id = cost["id"].clone();
    assert!(cost_id.as_str().is_some_and(|c| c.starts_with("cost_")), "{cost_id}");
    let (s, _) = app.read(&format!("{AR}/catalog/sellableProducts/{hidden_id}/editions"), &r.api_key).await;
    assert_eq!(s, 404, "a hidden product is not sellable");
    let (s, e) = app.read(&format!("{AR}/catalog/sellableProducts/product_nope/editions"), &r.api_key).await;
    assert_eq!(s, 404);
    assert_error(&e, 404, "NOT_FOUND");

    // The scope is ROLE_RESELLER; targetUserId must be the caller or one of its customers' users.
    let (s, _) = app.read(&format!("{AR}/catalog/sellableProducts"), &referral.api_key).await;
    assert_eq!(s, 403);
    let cust = customer(&app, &r, "Buyer").await;
    let (_, u) = app
        .post(&format!("{AR}/users?context=RESELLER"), &r.api_key, json!({ "companyId": cust, "email": "buyer@b.com" }))
        .await;
    let buyer = u["id"].as_str().unwrap();
    let (s, _) = app.read(&format!("{AR}/catalog/sellableProducts?targetUserId={buyer}"), &r.api_key).await;
    assert_eq!(s, 200);
    let (s, _) = app.read(&format!("{AR}/catalog/sellableProducts?targetUserId={}", r.user_id), &r.api_key).await;
    assert_eq!(s, 200);
    let (s, _) = app.read(&format!("{AR}/catalog/sellableProducts?targetUserId={buyer}"), &other.api_key).await;
    assert_eq!(s, 403, "another reseller's customer");
    let (s, _) = app
        .read(&format!("{AR}/catalog/sellableProducts/{product_id}/editions?targetUserId={buyer}"), &other.api_key)
        .await;
    assert_eq!(s, 403);

    // An invalid file writes nothing and names every problem's path.
    let mut bad = helpdesk("changed", 70);
    bad["editions"][1]["paymentPlans"][0]["frequency"] = json!("WEEKLY");
    let new_product = json!({ "name": "Brand New", "provider": "Acme", "editions": [{ "name": "E", "revenueType": "ONE_TIME",
        "paymentPlans": [{ "frequency": "ONE_TIME", "costs": [{ "itemPrices": { "USD": 1 }, "unit": "UNIT", "pricingStrategy": "UNIT" }] }] }] });
    let file = catalog_file(&json!([new_product, bad]));
    let out = partnerd_cli(&app.database_url, &["catalog", "import", "--file", file.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[1].editions[1].paymentPlans[0].frequency"), "{stderr}");
    let (_, page) = app.read(&format!("{AR}/catalog/sellableProducts"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(1), "the valid product was not written either");
    let out = partnerd_cli(&app.database_url, &["catalog", "import", "--file", "/nonexistent/catalog.json"]);
    assert_eq!(out.status.code(), Some(2));

    // Re-importing a product of the same name updates it in place, keeping its ids.
    let mut changed = helpdesk("Now better", 75);
    changed["editions"][1]["paymentPlans"].as_array_mut().unwrap().pop();
    let file = catalog_file(&json!([changed]));
    let out = partnerd_cli(&app.database_url, &["catalog", "import", "--file", file.0.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["products"][0]["id"], json!(product_id));
    assert_eq!(again["products"][0]["editions"][0], ids["products"][0]["editions"][0]);
    assert_eq!(
        again["products"][0]["editions"][1]["paymentPlans"],
        json!([ids["products"][0]["editions"][1]["paymentPlans"][0]])
    );
    let (_, page) = app.read(&format!("{AR}/catalog/sellableProducts"), &r.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(1));
    assert_eq!(page["content"][0]["blurb"], json!("Now better"));
    let (_, editions) = app.read(&format!("{AR}/catalog/sellableProducts/{product_id}/editions"), &r.api_key).await;
    assert_eq!(editions[0]["paymentPlans"][0]["costs"][0]["itemPrices"]["USD"], json!(75));
    assert_eq!(editions[0]["paymentPlans"][0]["costs"][0]["id"], cost_id, "the cost keeps its id");
    let types: Vec<String> = app.events(&product_id).await.iter().map(|e| e.event_type.clone()).collect();
    assert_eq!(types, ["product.imported", "product.imported"]);
});

const CUSTOMERS: &str = "/api/v1/partners/customers";

on_both_backends!(reseller_companies_and_partner_customers_are_the_same_both_ways, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@a.com", &["reseller"]).await;
    let b = enrol(&app, "Reseller B", "b@b.com", &["reseller"]).await;
    let (ra, rb) = (Receiver::start().await, Receiver::start().await);
    for (p, r) in [(&a, &ra), (&b, &rb)] {
        let (s, w) = app
            .post("/api/v1/partners/webhooks", &p.api_key, json!({ "url": r.url, "events": ["company.created"] }))
            .await;
        assert_eq!(s, 201, "{w}");
    }

    // AppReseller → partners: a plan-less customer, counted, filtered, readable; not B's.
    let plain = customer(&app, &a, "Plan-less Customer").await;
    let (s, list) = app.read(CUSTOMERS, &a.api_key).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["meta"]["total"], json!(1), "{list}");
    let c = &list["data"][0];
    assert_eq!(c["id"], json!(plain));
    assert_eq!(c["company_name"], json!("Plan-less Customer"));
    assert_eq!((c["plan"].clone(), c["billing_cycle"].clone()), (Value::Null, Value::Null), "{c}");
    assert_eq!(c["status"], json!("active"));
    let (s, d) = app.read(&format!("{CUSTOMERS}/{plain}"), &a.api_key).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["data"]["billing"], Value::Null, "{d}");
    assert_eq!(d["data"]["plan"], Value::Null);
    let (_, active) = app.read(&format!("{CUSTOMERS}?status=active"), &a.api_key).await;
    assert_eq!(active["meta"]["total"], json!(1), "{active}");
    let (_, on_plan) = app.read(&format!("{CUSTOMERS}?plan=professional"), &a.api_key).await;
    assert_eq!(on_plan["meta"]["total"], json!(0), "{on_plan}");
    let (s, _) = app.read(&format!("{CUSTOMERS}/{plain}"), &b.api_key).await;
    assert_eq!(s, 404, "another partner's customer is not found");
    let (_, lb) = app.read(CUSTOMERS, &b.api_key).await;
    assert_eq!(lb["meta"]["total"], json!(0), "{lb}");

    // Partners → AppReseller: a POST /customers account is one of A's companies.
    let (s, made) = app.post(CUSTOMERS, &a.api_key, crate::customers::acme("professional")).await;
    assert_eq!(s, 201, "{made}");
    let billed = made["data"]["id"].as_str().unwrap().to_owned();
    let (_, companies) = app.read(&format!("{AR}/companies?context=RESELLER"), &a.api_key).await;
    let mut seen = ids(&companies);
    seen.sort();
    let mut want = vec![plain.clone(), billed.clone()];
    want.sort();
    assert_eq!(seen, want);
    let (s, _) = app.read(&format!("{AR}/companies/{billed}?context=RESELLER"), &b.api_key).await;
    assert_eq!(s, 404);
    let (_, list) = app.read(&format!("{CUSTOMERS}?limit=1"), &a.api_key).await;
    assert_eq!(list["meta"]["total"], json!(2));
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "paged");

    // Setting a plan starts billing: contact fields are required, then the first invoice.
    let (s, e) = app.put(&format!("{CUSTOMERS}/{plain}"), &a.api_key, json!({ "plan": "professional" })).await;
    assert_eq!(s, 422, "{e}");
    let body = json!({ "plan": "professional", "contact_email": "ops@plain.com", "contact_name": "Pat Plain" });
    let (s, w) = app.put(&format!("{CUSTOMERS}/{plain}"), &a.api_key, body).await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(w["data"]["plan"], json!("professional"));
    assert_eq!(w["data"]["billing_cycle"], json!("monthly"));
    assert!(w["data"]["latest_invoice"]["id"].is_string(), "{w}");
    let (_, on_plan) = app.read(&format!("{CUSTOMERS}?plan=professional"), &a.api_key).await;
    assert_eq!(on_plan["meta"]["total"], json!(2), "{on_plan}");
    let (s, _) = app.put(&format!("{CUSTOMERS}/{plain}"), &b.api_key, json!({ "plan": "professional" })).await;
    assert_eq!(s, 404);

    // company.created reached A's webhook (twice: both companies), never B's.
    let got = ra.wait_for(2).await;
    let created: Vec<String> = got
        .iter()
        .map(|r| r.json())
        .filter(|j| j["event"] == "company.created" || j["type"] == "company.created")
        .map(|j| j.to_string())
        .collect();
    assert_eq!(created.len(), 2, "{got:?}");
    assert!(created.iter().any(|j| j.contains(&plain)), "{created:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(rb.received().is_empty(), "B got {:?}", rb.received());
});

on_both_backends!(an_association_carrying_a_billed_account_cannot_be_deleted, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@a.com", &["reseller"]).await;
    let manager = enrol(&app, "Manager", "m@m.com", &["reseller_manager"]).await;
    let (s, made) = app.post(CUSTOMERS, &a.api_key, crate::customers::acme("professional")).await;
    assert_eq!(s, 201, "{made}");
    let id = made["data"]["id"].as_str().unwrap().to_owned();
    let url = format!("{AR}/companyAssociations");
    let (_, page) = app.read(&format!("{url}?customerCompanyId={id}"), &manager.api_key).await;
    let link = ids(&page).pop().expect("the association");
    let (s, e) = app.send(reqwest::Method::DELETE, &format!("{url}/{link}"), &manager.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "CUSTOMER_ACCOUNT_ACTIVE");
    // Cancelled, the account still refers to the association: a 409, never a 500.
    let (s, _) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "cancelled" })).await;
    assert_eq!(s, 200);
    let (s, e) = app.send(reqwest::Method::DELETE, &format!("{url}/{link}"), &manager.api_key, None).await;
    assert_eq!(s, 409, "{e}");
    assert_error(&e, 409, "REFERENCE_CONFLICT");
    let (s, _) = app.read(&format!("{CUSTOMERS}/{id}"), &a.api_key).await;
    assert_eq!(s, 200, "nothing was deleted");
    // A plan-less association deletes.
    let plain = customer(&app, &a, "Plain").await;
    let (_, page) = app.read(&format!("{url}?customerCompanyId={plain}"), &manager.api_key).await;
    let link = ids(&page).pop().expect("the association");
    let (s, e) = app.send(reqwest::Method::DELETE, &format!("{url}/{link}"), &manager.api_key, None).await;
    assert!(s == 200 || s == 204, "{s} {e}");
    let (s, _) = app.read(&format!("{CUSTOMERS}/{plain}"), &a.api_key).await;
    assert_eq!(s, 404, "no longer a customer");
});

on_both_backends!(company_stats_count_unpaid_invoices_and_total_spent, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@a.com", &["reseller"]).await;
    let (s, made) = app.post(CUSTOMERS, &a.api_key, crate::customers::acme("professional")).await;
    assert_eq!(s, 201, "{made}");
    let id = made["data"]["id"].as_str().unwrap().to_owned();
    let invoice = made["data"]["latest_invoice"]["id"].as_str().unwrap().to_owned();
    let stat = |d: &Value, unit: &str| {
        d["stats"].as_array().unwrap().iter().find(|s| s["unit"] == unit).unwrap()["children"].clone()
    };
    let (s, d) = app.read(&format!("{AR}/companies/{id}?context=RESELLER"), &a.api_key).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(stat(&d, "Unpaid Invoices"), json!("1"));
    assert_eq!(stat(&d, "Total Spent"), json!("$0.00"));
    assert_eq!(stat(&d, "Free Trials"), json!("0"));
    app.server
        .services
        .billing()
        .mark_invoice(&app.marketplace_id(), &invoice, partnerd_domain::invoice::InvoiceStatus::Paid)
        .await
        .expect("paid");
    let (_, d) = app.read(&format!("{AR}/companies/{id}?context=RESELLER"), &a.api_key).await;
    assert_eq!(stat(&d, "Unpaid Invoices"), json!("0"));
    assert_eq!(stat(&d, "Total Spent"), json!("$149.00"));
});
