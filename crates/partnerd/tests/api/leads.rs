//! Leads API v2 over HTTP on both backends: the lifecycle through conversion, visibility per
//! type and assignment, the scope tables, filters, PATCH limits, delete-or-disqualify, and bad
//! input answered in `{code, message, status}`.

use crate::common::*;
use partnerd_domain::Clock;
use serde_json::{Value, json};

const LEADS: &str = "/api/lead/v2";

fn q(who: &TestPartner, context: &str) -> String {
    format!("context={context}&companyId={}", who.company_id)
}

fn customer(name: &str, email: &str) -> Value {
    json!({ "company": { "name": name, "country": "US", "city": "Miami" },
            "contact": { "email": email, "firstName": "John", "lastName": "Doe" } })
}

async fn create(app: &TestApp, who: &TestPartner, context: &str, body: Value) -> Value {
    let (s, l) = app.post(&format!("{LEADS}/leads?{}", q(who, context)), &who.api_key, body).await;
    assert_eq!(s, 201, "{l}");
    l
}

fn assert_error(body: &Value, status: u16) {
    assert_eq!(body["status"], json!(status), "{body}");
    assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

fn ids(page: &Value) -> Vec<String> {
    page["content"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

on_both_backends!(a_lead_walks_its_lifecycle_through_conversion, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@resellers.example", &["reseller"]).await;
    let b = enrol(&app, "Reseller B", "b@resellers.example", &["reseller"]).await;
    let m = enrol(&app, "Channel Managers", "m@channel.example", &["reseller_manager"]).await;

    let l = create(
        &app,
        &m,
        "RESELLER_MANAGER",
        json!({ "leadType": "MANUAL", "customer": customer("Acme", "john@acme.example"), "notes": "hot" }),
    )
    .await;
    assert_eq!(
        (l["status"].clone(), l["recipient"]["participantType"].clone()),
        (json!("SUBMITTED"), json!("CHANNEL"))
    );
    assert_eq!(l["creator"]["role"], json!("RESELLER_MANAGER"));
    assert_eq!(l["createdOn"], json!(app.clock.now().timestamp_millis()));
    let id = l["id"].as_str().unwrap().to_owned();
    let get = |who: &TestPartner| format!("{LEADS}/leads/{id}?{}", q(who, "RESELLER"));
    assert_eq!(app.read(&get(&a), &a.api_key).await.0, 404, "not assigned yet");

    // Only reseller managers assign.
    let assign = |to: &TestPartner| json!({ "leadId": id, "recipient": { "companyId": to.company_id, "participantType": "COMPANY" } });
    let (s, e) = app.post(&format!("{LEADS}/assignment?{}", q(&a, "RESELLER")), &a.api_key, assign(&a)).await;
    assert_eq!(s, 403);
    assert_error(&e, 403);
    let by_manager = format!("{LEADS}/assignment?{}", q(&m, "RESELLER_MANAGER"));
    let (s, r) = app.post(&by_manager, &m.api_key, assign(&a)).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["lead"]["status"], json!("ASSIGNED"));
    assert_eq!(r["lead"]["recipient"]["companyId"], json!(a.company_id));
    assert_eq!(app.read(&get(&a), &a.api_key).await.0, 200);
    assert_eq!(app.read(&get(&b), &b.api_key).await.0, 404, "isolation between resellers");
    // Moving the assignment moves the visibility.
    assert_eq!(app.post(&by_manager, &m.api_key, assign(&b)).await.0, 201);
    assert_eq!(app.read(&get(&a), &a.api_key).await.0, 404);
    assert_eq!(app.read(&get(&b), &b.api_key).await.0, 200);
    assert_eq!(app.post(&by_manager, &m.api_key, assign(&a)).await.0, 201);

    let step = |path: &str, who: &TestPartner, context: &str| format!("{LEADS}/{path}?{}&leadId={id}", q(who, context));
    let (s, e) = app.post(&step("conversion", &a, "RESELLER"), &a.api_key, json!({})).await;
    assert_eq!(s, 400, "not approved yet: {e}");
    assert!(e["message"].as_str().unwrap().contains("ASSIGNED"), "{e}");
    let (s, r) = app.post(&step("conversionRequest", &a, "RESELLER"), &a.api_key, json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["lead"]["status"], json!("PENDING_CONVERSION_APPROVAL"));
    // Pending approval, the lead sits with the marketplace, referred by the reseller.
    assert_eq!(r["lead"]["recipient"]["participantType"], json!("CHANNEL"), "{r}");
    assert_eq!(r["lead"]["referrer"]["participantType"], json!("COMPANY"), "{r}");
    assert_eq!(r["lead"]["referrer"]["companyId"], json!(a.company_id), "{r}");
    assert_eq!(app.read(&get(&a), &a.api_key).await.0, 200, "the requesting reseller still sees it");
    let (s, e) = app.post(&step("conversionRequest", &a, "RESELLER"), &a.api_key, json!({})).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("PENDING_CONVERSION_APPROVAL"), "{e}");
    let approval = format!("{LEADS}/conversionApproval?context=RESELLER_MANAGER&leadId={id}");
    assert_eq!(app.post(&approval.replace("RESELLER_MANAGER", "RESELLER"), &a.api_key, json!({})).await.0, 403);
    let (s, r) = app.post(&approval, &m.api_key, json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["lead"]["status"], json!("CONVERSION_APPROVED"));
    // Approved, it is handed back to the reseller.
    assert_eq!(r["lead"]["recipient"]["companyId"], json!(a.company_id), "{r}");
    assert_eq!(r["lead"]["referrer"]["participantType"], json!("CHANNEL"), "{r}");
    assert_eq!(app.post(&approval, &m.api_key, json!({})).await.0, 400, "already approved");
    assert_eq!(app.post(&step("conversion", &b, "RESELLER"), &b.api_key, json!({})).await.0, 404);

    let (s, r) = app.post(&step("conversion", &a, "RESELLER"), &a.api_key, json!({})).await;
    assert_eq!(s, 200, "{r}");
    let lead = &r["lead"];
    assert_eq!((lead["status"].clone(), lead["result"].clone()), (json!("CONVERTED"), json!("WON")));
    assert_eq!(lead["customer"]["company"]["linked"], json!(true));
    let company = lead["convertedCompany"]["id"].as_str().unwrap().to_owned();
    assert_eq!(lead["convertedCompany"]["name"], json!("Acme"));
    // The accounts endpoints show the new customer of the converting reseller, and its user.
    let (s, list) = app.read("/api/appReseller/v1/companies?context=RESELLER", &a.api_key).await;
    assert_eq!(s, 200, "{list}");
    assert!(ids(&json!({ "content": list })).contains(&company) || list.to_string().contains(&company), "{list}");
    let (s, users) =
        app.read(&format!("/api/appReseller/v1/users?context=RESELLER&companyId={company}"), &a.api_key).await;
    assert_eq!(s, 200, "{users}");
    assert!(users.to_string().contains("john@acme.example"), "{users}");
    let (s, e) = app.send(reqwest::Method::DELETE, &get(&a), &a.api_key, None).await;
    assert_eq!(s, 400, "a converted lead is final: {e}");

    let (s, acts) = app
        .read(&format!("{LEADS}/leads/{id}/activities?{}&creationDateOrder=ASC", q(&a, "RESELLER")), &a.api_key)
        .await;
    assert_eq!(s, 200, "{acts}");
    let verbs: Vec<&str> = acts["content"].as_array().unwrap().iter().map(|x| x["verb"].as_str().unwrap()).collect();
    assert_eq!(
        verbs,
        [
            "LEAD_CREATED",
            "LEAD_ASSIGNED",
            "LEAD_ASSIGNED",
            "LEAD_ASSIGNED",
            "LEAD_CONVERSION_REQUESTED",
            "LEAD_CONVERSION_APPROVED",
            "LEAD_CONVERTED"
        ]
    );
    let c = &acts["content"];
    assert_eq!(
        (c[0]["verbContext"].clone(), c[0]["actorCompany"]["name"].clone()),
        (json!("MARKETPLACE"), json!("Channel Managers"))
    );
    assert_eq!(
        (c[4]["verbContext"].clone(), c[4]["actorCompany"]["id"].clone()),
        (json!("COMPANY"), json!(a.company_id))
    );
    assert_eq!(acts["page"]["totalElements"], json!(7));
    let (_, newest) =
        app.read(&format!("{LEADS}/leads/{id}/activities?{}&size=2", q(&a, "RESELLER")), &a.api_key).await;
    assert_eq!(newest["content"][0]["verb"], json!("LEAD_CONVERTED"));
    assert_eq!(
        newest["page"],
        json!({ "number": 0, "size": 2, "totalElements": 7, "totalPages": 4, "nextCursor": null })
    );
    let types: Vec<String> = app.events(&id).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(types.first().map(String::as_str), Some("lead.created"));
    assert_eq!(types.last().map(String::as_str), Some("lead.converted"));
});

on_both_backends!(visibility_filters_patch_delete_and_bad_input, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@resellers.example", &["reseller"]).await;
    let b = enrol(&app, "Reseller B", "b@resellers.example", &["reseller"]).await;
    let m = enrol(&app, "Channel Managers", "m@channel.example", &["reseller_manager"]).await;
    let r = enrol(&app, "Referrer", "r@ref.example", &["referral"]).await;
    let d = enrol(&app, "Vendor", "d@vendor.example", &["developer"]).await;

    let mine =
        create(&app, &a, "RESELLER", json!({ "leadType": "MANUAL", "customer": customer("Zeta", "z@zeta.example") }))
            .await;
    assert_eq!(
        (mine["status"].clone(), mine["reseller"]["companyId"].clone()),
        (json!("ASSIGNED"), json!(a.company_id))
    );
    app.clock.advance(chrono::Duration::seconds(5));
    let second =
        create(&app, &a, "RESELLER", json!({ "leadType": "MANUAL", "customer": customer("alpha", "x@alpha.example") }))
            .await;
    let referral =
        create(&app, &r, "REFERRAL", json!({ "leadType": "MANUAL", "customer": customer("Acme", "j@acme.example") }))
            .await;
    assert_eq!(referral["creator"]["role"], json!("REFERRAL"));
    create(&app, &d, "DEVELOPER", json!({ "leadType": "MANUAL", "customer": customer("Dev", "d@dev.example") })).await;
    app.clock.advance(chrono::Duration::seconds(5));
    let profile = create(&app, &r, "REFERRAL", json!({ "leadType": "COMPANY", "customer": customer("Prof", "p@prof.example"), "profileCompany": { "id": a.company_id } })).await;
    assert!(profile.get("creator").is_none(), "profile leads show no creator");

    let list = |who: &TestPartner, context: &str, extra: &str| format!("{LEADS}/leads?{}{extra}", q(who, context));
    let (s, page) = app.read(&list(&a, "RESELLER", ""), &a.api_key).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["page"]["totalElements"], json!(3), "its two and the profile lead it owns");
    assert_eq!(ids(&page)[0], profile["id"].as_str().unwrap(), "newest first");
    assert_eq!(page["page"]["size"], json!(50));
    let (_, page) = app.read(&list(&m, "RESELLER_MANAGER", ""), &m.api_key).await;
    assert_eq!(ids(&page), vec![profile["id"].as_str().unwrap().to_owned()], "managers: profile leads, no manual ones");
    let (_, page) = app.read(&list(&b, "RESELLER", ""), &b.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(0));
    let (_, page) = app.read(&list(&d, "DEVELOPER", ""), &d.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(1));

    // Filters, sorting and paging.
    let (_, page) = app.read(&list(&a, "RESELLER", "&sortField=COMPANY_NAME&sortOrder=ASC"), &a.api_key).await;
    let names: Vec<&str> = page["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["customer"]["company"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "Prof", "Zeta"]);
    let (_, page) = app.read(&list(&a, "RESELLER", "&searchText=ZETA"), &a.api_key).await;
    assert_eq!(ids(&page), vec![mine["id"].as_str().unwrap().to_owned()]);
    let (_, page) = app.read(&list(&a, "RESELLER", "&status=ACCEPTED_FOR_MANAGERS"), &a.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(3));
    let (_, page) = app.read(&list(&a, "RESELLER", "&status=PENDING_FOR_MANAGERS"), &a.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(0));
    let created = mine["createdOn"].as_i64().unwrap();
    let (_, page) = app.read(&list(&a, "RESELLER", &format!("&toDate={created}")), &a.api_key).await;
    assert_eq!(ids(&page), vec![mine["id"].as_str().unwrap().to_owned()]);
    let (_, page) = app.read(&list(&a, "RESELLER", &format!("&fromDate={}", created + 1)), &a.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(2));
    let (_, page) = app.read(&list(&a, "RESELLER", "&size=1&page=2"), &a.api_key).await;
    assert_eq!(
        page["page"],
        json!({ "number": 2, "size": 1, "totalElements": 3, "totalPages": 3, "nextCursor": null })
    );

    // Scope rules and bad parameters.
    for (path, key, status) in [
        (format!("{LEADS}/leads?context=RESELLER&companyId={}", b.company_id), &a.api_key, 403),
        (format!("{LEADS}/leads?context=REFERRAL&companyId={}", a.company_id), &a.api_key, 403),
        (format!("{LEADS}/leads?companyId={}", a.company_id), &a.api_key, 400),
        (format!("{LEADS}/leads?context=RESELLER"), &a.api_key, 400),
        (list(&a, "CHANNEL_ADMIN", ""), &a.api_key, 400),
        (list(&a, "RESELLER", "&status=OPEN"), &a.api_key, 400),
        (list(&a, "RESELLER", "&sortField=NAME"), &a.api_key, 400),
        (list(&a, "RESELLER", "&size=abc"), &a.api_key, 400),
        (format!("{LEADS}/leads/{}?{}", referral["id"].as_str().unwrap(), q(&a, "RESELLER")), &a.api_key, 404),
        (format!("{LEADS}/leads/{}?{}", mine["id"].as_str().unwrap(), q(&b, "RESELLER")), &b.api_key, 404),
    ] {
        let (s, e) = app.read(&path, key).await;
        assert_eq!(s, status, "{path}: {e}");
        assert_error(&e, status);
    }
    assert_eq!(app.read(&list(&a, "RESELLER", ""), "pdk_bad").await.0, 401);

    // PATCH: contact information and notes only.
    let one = format!("{LEADS}/leads/{}?{}", mine["id"].as_str().unwrap(), q(&a, "RESELLER"));
    let (s, l) = app
        .patch(&one, &a.api_key, json!({ "notes": "call Monday", "customer": customer("Zeta Inc", "z@zeta.example") }))
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(
        (l["notes"].clone(), l["customer"]["company"]["name"].clone()),
        (json!("call Monday"), json!("Zeta Inc"))
    );
    // A partial customer is a patch: what it leaves out is kept.
    let (s, l) = app.patch(&one, &a.api_key, json!({ "customer": { "contact": { "firstName": "Zoe" } } })).await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["customer"]["contact"]["firstName"], json!("Zoe"));
    assert_eq!(l["customer"]["contact"]["email"], json!("z@zeta.example"), "kept: {l}");
    assert_eq!(l["customer"]["company"]["name"], json!("Zeta Inc"), "kept: {l}");
    assert_eq!(l["notes"], json!("call Monday"), "kept: {l}");
    for body in [
        json!({ "leadType": "COMPANY" }),
        json!({ "status": "CONVERTED" }),
        json!({ "notes": 5 }),
        json!({ "customer": { "company": { "nam": "x" } } }),
    ] {
        let (s, e) = app.patch(&one, &a.api_key, body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_error(&e, 400);
    }
    let raw = app
        .http
        .request(reqwest::Method::PATCH, app.url(&one))
        .bearer_auth(&a.api_key)
        .header("content-type", "application/json")
        .body("{\"notes\":")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert_error(&json(raw).await, 400);
    let (s, e) = app
        .post(
            &format!("{LEADS}/leads?{}", q(&a, "RESELLER")),
            &a.api_key,
            json!({ "leadType": "MANUAL", "customer": { "company": {} } }),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, _) = app.post(&format!("{LEADS}/leads?{}", q(&a, "RESELLER")), &a.api_key, json!({ "leadType": "MANUAL", "customer": customer("S", "s@s.example"), "creator": { "id": b.user_id, "companyId": b.company_id } })).await;
    assert_eq!(s, 403, "a creator other than the caller is refused");

    // DELETE: the creator's own unassigned-to-others manual lead is deleted; a profile lead
    // discarded by its owner is disqualified.
    let (s, _) = app.send(reqwest::Method::DELETE, &one, &a.api_key, None).await;
    assert_eq!(s, 204);
    assert_eq!(app.read(&one, &a.api_key).await.1["status"], json!("DELETED"));
    let (s, e) = app.send(reqwest::Method::DELETE, &one, &a.api_key, None).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("DELETED"), "{e}");
    let p = format!("{LEADS}/leads/{}?{}", profile["id"].as_str().unwrap(), q(&a, "RESELLER"));
    assert_eq!(app.send(reqwest::Method::DELETE, &p, &a.api_key, None).await.0, 204);
    assert_eq!(app.read(&p, &a.api_key).await.1["status"], json!("DISQUALIFIED"));
    let _ = second;
});

on_both_backends!(a_retried_lead_post_creates_one_lead, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@a.example", &["reseller"]).await;
    let path = format!("{LEADS}/leads?{}", q(&a, "RESELLER"));
    let body = json!({ "leadType": "MANUAL", "customer": customer("Retry Co", "retry@retry.example") });
    let send = |body: Value| {
        let req = app.http.post(app.url(&path)).bearer_auth(&a.api_key).header("Idempotency-Key", "lead-retry-1");
        async move { req.json(&body).send().await.unwrap() }
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone()).await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let (_, page) = app.read(&path, &a.api_key).await;
    assert_eq!(ids(&page).len(), 1, "{page}");
    let other = send(json!({ "leadType": "MANUAL", "customer": customer("Other Co", "o@o.example") })).await;
    assert_eq!(other.status().as_u16(), 400);
    assert_error(&other.json().await.unwrap(), 400);
});
