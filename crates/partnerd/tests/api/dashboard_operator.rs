//! The operator's dashboard pages over HTTP on both backends: partners get 403 everywhere;
//! enrolment, plan changes and suspension take effect on the partner's API key at once;
//! invitation and reset links work; the catalog form validates beside its fields and feeds
//! the AppReseller catalog; lead conversions approved or rejected on the page are what the
//! Leads API shows; the figures page counts what was created.

use crate::common::*;
use crate::dashboard::{Browserless, PASSWORD, operator, signed_in};
use serde_json::{Value, json};

const AR: &str = "/api/appReseller/v1";
const LEADS: &str = "/api/lead/v2";

/// The text of `<code id="{id}">…</code>` (a value shown once), unescaped.
fn code_of(body: &str, id: &str) -> String {
    let start = format!("<code id=\"{id}\">");
    let at = body.find(&start).unwrap_or_else(|| panic!("no {start} in:\n{body}")) + start.len();
    body[at..].split("</code>").next().unwrap().replace("&amp;", "&")
}

/// The dashboard path of a link URL.
fn path_of(url: &str) -> String {
    url[url.find("/dashboard/").unwrap_or_else(|| panic!("not a dashboard URL: {url}"))..].to_owned()
}

on_both_backends!(partner_users_are_refused_every_operator_page, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut partner = signed_in(&app, "admin@acme.com").await;
    let pages = [
        "/dashboard/operator".to_owned(),
        "/dashboard/operator/partners".to_owned(),
        format!("/dashboard/operator/partners/{}", acme.partner_id),
        "/dashboard/operator/users".to_owned(),
        "/dashboard/operator/catalog".to_owned(),
        "/dashboard/operator/catalog/product_x".to_owned(),
        "/dashboard/operator/leads".to_owned(),
    ];
    for path in &pages {
        let r = partner.get(path).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        r.has("Only the marketplace operator");
    }
    partner.get("/dashboard/settings/api-keys").await;
    for path in [
        "/dashboard/operator/partners".to_owned(),
        format!("/dashboard/operator/partners/{}/suspend", acme.partner_id),
        format!("/dashboard/operator/partners/{}/plan", acme.partner_id),
        "/dashboard/operator/users".to_owned(),
        format!("/dashboard/operator/users/{}/reset", acme.user_id),
        "/dashboard/operator/catalog".to_owned(),
        "/dashboard/operator/leads/lead_x/approve".to_owned(),
    ] {
        let r = partner.post(&path, &[("plan", "enterprise"), ("name", "X"), ("email", "x@x.com")]).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    // Nothing changed, and the operator sees every page.
    let (_, profile) = app.read("/api/v1/partners/profile", &acme.api_key).await;
    assert_eq!(profile["data"]["plan"], json!("business"));
    let mut op = operator(&app).await;
    for path in pages.iter().filter(|p| !p.ends_with("product_x")) {
        let r = op.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    assert_eq!(op.get("/dashboard/operator/catalog/product_x").await.status, 404);
    assert_eq!(op.get("/dashboard/operator/partners/partner_nope").await.status, 404);
});

on_both_backends!(enrolling_a_partner_on_the_page_gives_a_working_invitation_and_key, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let mut op = operator(&app).await;
    op.get("/dashboard/operator/partners").await.has("Enrol a partner").has("No partner matches.");

    // Bad input: 422, each message beside its field, nothing created.
    let bad =
        op.post("/dashboard/operator/partners", &[("name", ""), ("email", "not-an-email"), ("plan", "gold")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-name-error\"").has("id=\"f-email-error\"").has("id=\"f-plan-error\"").has("unknown plan");
    assert!(app.server.services.partners().list(&app.marketplace_id()).await.unwrap().is_empty());

    let ok = op
        .post(
            "/dashboard/operator/partners",
            &[("name", "Globex Inc"), ("email", "admin@globex.example"), ("plan", "starter"), ("role", "reseller")],
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    ok.has("Globex Inc is enrolled").has("data-copy=\"invitation-url\"").has("sends no e-mail");
    let url = code_of(&ok.body, "invitation-url");
    let key = code_of(&ok.body, "new-api-key");

    // Visible through the services and the API (the key shown works).
    let list = app.server.services.partners().list(&app.marketplace_id()).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].company_name.as_str(), list[0].plan.as_str()), ("Globex Inc", "starter"));
    let (s, profile) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(s, 200, "{profile}");
    assert_eq!(profile["data"]["company_name"], json!("Globex Inc"));
    assert_eq!(profile["data"]["id"], json!(list[0].id));

    // The invitation works: the admin sets a password and lands in the partner's dashboard.
    let mut admin = Browserless::new(&app);
    let path = path_of(&url);
    admin.get(&path).await.has("admin@globex.example");
    let done = admin.post(&path, &[("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    admin.get("/dashboard/settings/api-keys").await.has("Globex Inc");

    // The list shows it, and its filters narrow it.
    op.get("/dashboard/operator/partners").await.has("Globex Inc").has(&list[0].id);
    op.get("/dashboard/operator/partners?plan=starter&status=active").await.has("Globex Inc");
    op.get("/dashboard/operator/partners?plan=enterprise").await.lacks("Globex Inc").has("No partner matches.");
    op.get("/dashboard/operator/partners?search=GLOBEX").await.has("Globex Inc");
    op.get("/dashboard/operator/partners?status=suspended").await.lacks("Globex Inc");

    // The same e-mail twice is refused beside the field.
    let again = op
        .post(
            "/dashboard/operator/partners",
            &[("name", "Other"), ("email", "admin@globex.example"), ("plan", "starter")],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    again.has("id=\"f-email-error\"").has("exists already");
});

on_both_backends!(plan_and_suspension_from_the_page_apply_to_the_key_at_once, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut op = operator(&app).await;
    let page = format!("/dashboard/operator/partners/{}", acme.partner_id);
    op.get(&page).await.has("Acme Corp").has("admin@acme.com").has("1 active (1 in all)").has("Suspend partner");

    let changed = op.post(&format!("{page}/plan"), &[("plan", "enterprise")]).await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    op.follow(&changed).await.has("The plan was changed").has("id=\"partner-plan\">enterprise<");
    let (_, profile) = app.read("/api/v1/partners/profile", &acme.api_key).await;
    assert_eq!(profile["data"]["plan"], json!("enterprise"));

    let bad = op.post(&format!("{page}/plan"), &[("plan", "gold")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-plan-error\"").has("unknown plan");

    let suspended = op.post(&format!("{page}/suspend"), &[]).await;
    assert_eq!(suspended.status, 303, "{}", suspended.body);
    op.follow(&suspended).await.has("The partner is suspended").has("Resume partner");
    assert_eq!(app.read("/api/v1/partners/profile", &acme.api_key).await.0, 403);
    op.get("/dashboard/operator/partners?status=suspended").await.has("Acme Corp");

    let resumed = op.post(&format!("{page}/resume"), &[]).await;
    assert_eq!(resumed.status, 303);
    op.follow(&resumed).await.has("active again");
    let (s, profile) = app.read("/api/v1/partners/profile", &acme.api_key).await;
    assert_eq!((s, profile["data"]["plan"].clone()), (200, json!("enterprise")));
    assert_eq!(op.post("/dashboard/operator/partners/partner_nope/suspend", &[]).await.status, 404);
});

on_both_backends!(invitation_and_reset_links_from_the_users_page_work, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut op = operator(&app).await;
    op.get("/dashboard/operator/users").await.has("sends no e-mail").has("admin@acme.com").has("Acme Corp");

    // Bad input beside its field.
    let bad = op.post("/dashboard/operator/users", &[("email", "nope"), ("place", &acme.partner_id)]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-email-error\"");
    let nowhere = op.post("/dashboard/operator/users", &[("email", "x@acme.com"), ("place", "")]).await;
    assert_eq!(nowhere.status, 422);
    nowhere.has("id=\"f-place-error\"");
    let bad_role = op
        .post("/dashboard/operator/users", &[("email", "x@acme.com"), ("place", &acme.partner_id), ("role", "boss")])
        .await;
    assert_eq!(bad_role.status, 422, "{}", bad_role.body);
    bad_role.has("id=\"f-role-error\"");

    // A partner's new user: the link signs them into the partner's dashboard.
    let invited = op
        .post(
            "/dashboard/operator/users",
            &[("email", "sam@acme.com"), ("place", &acme.partner_id), ("role", "reseller")],
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    invited.has("Invitation link for sam@acme.com").has("data-copy=\"link-url\"");
    let path = path_of(&code_of(&invited.body, "link-url"));
    let mut sam = Browserless::new(&app);
    assert_eq!(sam.get(&path).await.status, 200);
    let done = sam.post(&path, &[("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    sam.get("/dashboard/settings/api-keys").await.has("Acme Corp").has("sam@acme.com");

    // An operator user.
    let staff = op.post("/dashboard/operator/users", &[("email", "ops@example.com"), ("place", "operator")]).await;
    assert_eq!(staff.status, 201, "{}", staff.body);
    let staff_path = path_of(&code_of(&staff.body, "link-url"));
    assert_eq!(Browserless::new(&app).get(&staff_path).await.status, 200);

    // A reset link for sam: it works, and the old password no longer does.
    let users = app.server.services.users().all(&app.marketplace_id()).await.unwrap();
    let sam_id = users.iter().find(|u| u.email == "sam@acme.com").unwrap().user_id.clone();
    op.get("/dashboard/operator/users?search=sam").await.has("sam@acme.com").lacks("admin@acme.com").has("Reset link");
    let reset = op.post(&format!("/dashboard/operator/users/{sam_id}/reset"), &[]).await;
    assert_eq!(reset.status, 201, "{}", reset.body);
    reset.has("Password-reset link for sam@acme.com");
    let reset_path = path_of(&code_of(&reset.body, "link-url"));
    let mut again = Browserless::new(&app);
    again.get(&reset_path).await.has("sam@acme.com");
    let new_password = "another long passphrase";
    let done = again.post(&reset_path, &[("password", new_password), ("password_confirmation", new_password)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(sam.get("/dashboard/settings/api-keys").await.status, 303, "a reset ends the other sessions");
    assert_eq!(op.post("/dashboard/operator/users/user_nope/reset", &[]).await.status, 404);
});

on_both_backends!(the_catalog_form_validates_and_feeds_the_app_reseller_catalog, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let reseller = enrol(&app, "Reseller", "r@r.example", &["reseller"]).await;
    let mut op = operator(&app).await;
    op.get("/dashboard/operator/catalog").await.has("Add a product").has("No product matches.");

    let product = |name: &'static str, price: &'static str| {
        vec![
            ("name", name),
            ("provider", "Acme"),
            ("blurb", "Support desk"),
            ("visible", "on"),
            ("edition", "Standard"),
            ("revenue_type", "RECURRING"),
            ("frequency", "MONTHLY"),
            ("unit", "USER"),
            ("pricing_strategy", "UNIT"),
            ("currency", "USD"),
            ("price", price),
        ]
    };
    let bad = op.post("/dashboard/operator/catalog", &product("", "sixty")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-name-error\"").has("id=\"f-price-error\"").has("aria-invalid=\"true\"");
    let bad_json = op
        .post(
            "/dashboard/operator/catalog",
            &[("name", "X"), ("provider", "Acme"), ("editions_json", "[{\"name\": \"E\"}]")],
        )
        .await;
    assert_eq!(bad_json.status, 422, "{}", bad_json.body);
    bad_json.has("id=\"f-editions_json-error\"").has("revenueType");
    let (_, none) = app.read(&format!("{AR}/catalog/sellableProducts"), &reseller.api_key).await;
    assert_eq!(none["page"]["totalElements"], json!(0), "nothing half-written");

    let created = op.post("/dashboard/operator/catalog", &product("HelpDesk", "60.50")).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.location.clone().unwrap();
    assert!(location.ends_with("?done=created"), "{location}");
    let id = location.trim_start_matches("/dashboard/operator/catalog/").split('?').next().unwrap().to_owned();
    op.follow(&created).await.has("added to the catalog").has("HelpDesk").has("$60.50");
    op.get("/dashboard/operator/catalog?searchText=help").await.has("HelpDesk").has("$60.50 per USER, MONTHLY");
    op.get("/dashboard/operator/catalog?searchText=zzz").await.lacks("HelpDesk");

    let (s, page) = app.read(&format!("{AR}/catalog/sellableProducts"), &reseller.api_key).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["content"][0]["id"], json!(id));
    assert_eq!(page["content"][0]["name"], json!("HelpDesk"));
    let (s, editions) = app.read(&format!("{AR}/catalog/sellableProducts/{id}/editions"), &reseller.api_key).await;
    assert_eq!(s, 200, "{editions}");
    assert_eq!(editions[0]["paymentPlans"][0]["costs"][0]["itemPrices"], json!({ "USD": 60.5 }));
    let plan_id = editions[0]["paymentPlans"][0]["id"].clone();

    // Edit: new price and provider through the editions JSON; ids kept; then hide it.
    let new_editions: Value = serde_json::from_str(
        r#"[{"name": "Standard", "revenueType": "RECURRING", "paymentPlans": [{"frequency": "MONTHLY",
            "costs": [{"unit": "USER", "pricingStrategy": "UNIT", "itemPrices": {"USD": 75}}]}]}]"#,
    )
    .unwrap();
    let text = new_editions.to_string();
    let page_path = format!("/dashboard/operator/catalog/{id}");
    let bad_edit = op.post(&page_path, &[("provider", "Acme 2"), ("visible", "on"), ("editions_json", "[]")]).await;
    assert_eq!(bad_edit.status, 422, "{}", bad_edit.body);
    bad_edit.has("id=\"f-editions_json-error\"");
    let saved = op.post(&page_path, &[("provider", "Acme 2"), ("visible", "on"), ("editions_json", &text)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    op.follow(&saved).await.has("The product was saved").has("Acme 2").has("$75.00");
    let (_, editions) = app.read(&format!("{AR}/catalog/sellableProducts/{id}/editions"), &reseller.api_key).await;
    assert_eq!(editions[0]["paymentPlans"][0]["costs"][0]["itemPrices"], json!({ "USD": 75 }));
    assert_eq!(editions[0]["paymentPlans"][0]["id"], plan_id, "ids kept across the edit");
    let hidden = op.post(&page_path, &[("provider", "Acme 2"), ("editions_json", &new_editions.to_string())]).await;
    assert_eq!(hidden.status, 303, "{}", hidden.body);
    let (_, page) = app.read(&format!("{AR}/catalog/sellableProducts"), &reseller.api_key).await;
    assert_eq!(page["page"]["totalElements"], json!(0), "hidden: {page}");
    assert_eq!(app.read(&format!("{AR}/catalog/sellableProducts/{id}/editions"), &reseller.api_key).await.0, 404);
    // The operator still opens it, by its page or its ID in the search.
    op.get(&page_path).await.has("no (hidden)");
    op.get(&format!("/dashboard/operator/catalog?searchText={id}")).await.has("HelpDesk");
});

fn customer(name: &str, email: &str) -> Value {
    json!({ "company": { "name": name, "country": "US", "city": "Miami" },
            "contact": { "email": email, "firstName": "John", "lastName": "Doe" } })
}

/// A manual lead assigned to `a`, whose conversion `a` has requested.
async fn pending_lead(app: &TestApp, m: &TestPartner, a: &TestPartner, company: &str) -> String {
    let (s, l) = app
        .post(
            &format!("{LEADS}/leads?context=RESELLER_MANAGER&companyId={}", m.company_id),
            &m.api_key,
            json!({ "leadType": "MANUAL", "customer": customer(company, "john@customer.example") }),
        )
        .await;
    assert_eq!(s, 201, "{l}");
    let id = l["id"].as_str().unwrap().to_owned();
    let assign = json!({ "leadId": id, "recipient": { "companyId": a.company_id, "participantType": "COMPANY" } });
    let (s, r) = app
        .post(&format!("{LEADS}/assignment?context=RESELLER_MANAGER&companyId={}", m.company_id), &m.api_key, assign)
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, r) = app
        .post(
            &format!("{LEADS}/conversionRequest?context=RESELLER&companyId={}&leadId={id}", a.company_id),
            &a.api_key,
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    id
}

async fn lead_status(app: &TestApp, a: &TestPartner, id: &str) -> Value {
    let (s, l) = app.read(&format!("{LEADS}/leads/{id}?context=RESELLER&companyId={}", a.company_id), &a.api_key).await;
    assert_eq!(s, 200, "{l}");
    l["status"].clone()
}

on_both_backends!(conversions_approved_or_rejected_on_the_page_show_in_the_leads_api, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@resellers.example", &["reseller"]).await;
    let m = enrol(&app, "Channel Managers", "m@channel.example", &["reseller_manager"]).await;
    let first = pending_lead(&app, &m, &a, "Initech").await;
    let second = pending_lead(&app, &m, &a, "Umbrella").await;

    let mut op = operator(&app).await;
    let page = op.get("/dashboard/operator/leads").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.has("Initech").has("Umbrella").has("Reseller A").has(&format!("/dashboard/operator/leads/{first}/approve"));
    op.get("/dashboard/operator/leads?searchText=umbrella").await.has("Umbrella").lacks("Initech");

    let approved = op.post(&format!("/dashboard/operator/leads/{first}/approve"), &[]).await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    let after = op.follow(&approved).await;
    after.has("The conversion was approved").has("Recent decisions");
    assert_eq!(lead_status(&app, &a, &first).await, json!("CONVERSION_APPROVED"));
    // The reseller converts it through the API, as after an API approval.
    let (s, r) = app
        .post(
            &format!("{LEADS}/conversion?context=RESELLER&companyId={}&leadId={first}", a.company_id),
            &a.api_key,
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // Approving a lead decided meanwhile changes nothing and says so on the list.
    let twice = op.post(&format!("/dashboard/operator/leads/{first}/approve"), &[]).await;
    assert_eq!(twice.status, 303, "{}", twice.body);
    op.follow(&twice).await.has("no longer awaiting approval");

    let rejected = op.post(&format!("/dashboard/operator/leads/{second}/reject"), &[]).await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    let after = op.follow(&rejected).await;
    after.has("rejected").has("No conversion request is waiting.");
    let (s, l) = app
        .read(&format!("{LEADS}/leads/{second}?context=RESELLER_MANAGER&companyId={}", m.company_id), &m.api_key)
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["status"], json!("DISQUALIFIED"));
    // A disqualified manual lead is no longer before the marketplace (the Leads API's visibility).
    assert_eq!(op.post(&format!("/dashboard/operator/leads/{second}/reject"), &[]).await.status, 404);
    assert_eq!(op.post("/dashboard/operator/leads/lead_nope/approve", &[]).await.status, 404);
});

on_both_backends!(the_figures_page_counts_what_was_created, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let b = app.partner("Globex Inc", "admin@globex.example", "starter").await;
    for (key, title) in [(&a.api_key, "First listing"), (&a.api_key, "Second listing"), (&b.api_key, "Theirs")] {
        let (s, l) = app.post("/api/v1/partners/listings", key, json!({ "title": title })).await;
        assert_eq!(s, 201, "{l}");
    }
    let (s, o) = app
        .post(
            "/api/v1/partners/cosell/opportunities",
            &a.api_key,
            json!({ "customer_name": "Customer", "deal_value": 1000, "partner_id": b.partner_id }),
        )
        .await;
    assert_eq!(s, 201, "{o}");
    let mut op = operator(&app).await;
    op.post(&format!("/dashboard/operator/partners/{}/suspend", b.partner_id), &[]).await;

    let page = op.get("/dashboard/operator").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.has("id=\"stat-partners\">2<")
        .has("id=\"stat-suspended\">1<")
        .has("id=\"stat-listings\">3<")
        .has("id=\"stat-deals-open\">1<")
        .has("id=\"stat-pipeline\">$1,000.00<")
        .has("id=\"stat-pending-approvals\">0<")
        .has(">business</a></td><td>1</td><td>0</td><td>1</td>")
        .has(">starter</a></td><td>0</td><td>1</td><td>1</td>")
        .has("<svg class=\"chart\"")
        .has("Acme Corp");
    let week = op.get("/dashboard/operator?period=7d").await;
    assert_eq!(week.status, 200);
    week.has("id=\"stat-partners\">2<");
    let bad = op.get("/dashboard/operator?period=2w").await;
    assert_eq!(bad.status, 200, "an unknown period falls back to 30 days");
    bad.has("role=\"alert\"");
});
