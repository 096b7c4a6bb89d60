//! The dashboard in a real headless Chromium, as a partner and the operator use it: an
//! invitation to a password, sign-in, a key generated and used on the API, revoked and refused,
//! a listing's SEO page and a recommendation applied, a webhook's delivery log, the operator's
//! pages refused, forms without the session's token refused, another partner's data refused,
//! sign-out. Screenshots of the main pages land in `target/browser-screenshots/<test>/`.

use crate::browser::Browser;
use crate::common::*;
use crate::dashboard::PASSWORD;
use partnerd_services::users::LinkPurpose;
use serde_json::json;
use std::path::Path;

/// Opens a dashboard page, checks it is not an error page, and saves its screenshot.
async fn visit(browser: &Browser, app: &TestApp, path: &str, shots: &Path, name: &str) -> String {
    browser.goto(&app.url(path)).await;
    let title = browser.text("main h1").await;
    let source = browser.page_source().await;
    assert!(!source.contains("class=\"page-error\""), "{path} is an error page: {title}\n{source}");
    browser.screenshot(shots.join(format!("{name}.png"))).await;
    title
}

/// Waits until the browser is on exactly `path` (the query aside), e.g. after a form's redirect.
async fn arrive(browser: &Browser, app: &TestApp, path: &str) {
    let want = app.url(path);
    for _ in 0..100 {
        let url = browser.current_url().await;
        if url.split('?').next() == Some(want.as_str()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the browser never reached {want}: it is at {}", browser.current_url().await);
}

/// Fills a form field (found by its `name`) with `text`.
async fn fill(browser: &Browser, name: &str, text: &str) {
    let field = browser.find(&format!("[name=\"{name}\"]")).await;
    field.clear().await;
    field.send_keys(text).await;
}

/// A POST from the signed-in page's own script, without the form's token: its status.
async fn post_without_token(browser: &Browser, path: &str) -> u64 {
    let script = "return fetch(arguments[0], {method: 'POST', body: new URLSearchParams({name: 'sneaky'})})\
                  .then(r => r.status)";
    browser.execute(script, &[json!(path)]).await.as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_works_the_dashboard_in_a_real_browser() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let Some(browser) = Browser::start().await else { return };
    let shots = Browser::screenshots_dir("a_partner_works_the_dashboard_in_a_real_browser");
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let globex = app.partner("Globex", "admin@globex.com", "business").await;
    let m = app.marketplace_id();

    // Data the pages show, made through the API.
    let (status, body) = app.post("/api/v1/partners/listings", &acme.api_key, json!({ "title": "Acme" })).await;
    assert_eq!(status, 201, "{body}");
    let listing = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = app.post("/api/v1/partners/listings", &globex.api_key, json!({ "title": "Globex" })).await;
    assert_eq!(status, 201, "{body}");
    let globex_listing = body["data"]["id"].as_str().unwrap().to_owned();
    let receiver = Receiver::start().await;
    let (status, body) = app
        .post(
            "/api/v1/partners/webhooks",
            &acme.api_key,
            json!({ "url": receiver.url, "events": ["opportunity.created"] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let hook = body["data"]["id"].as_str().unwrap().to_owned();

    // 1. The invitation link sets a password and signs in.
    let link =
        app.server.services.users().issue_link(&m, "admin@acme.com", LinkPurpose::Invitation, None).await.unwrap();
    browser.goto(&app.url(&format!("/dashboard/invitation/{}", link.token))).await;
    assert_eq!(browser.text("#invited-email").await, "admin@acme.com");
    browser.screenshot(shots.join("invitation.png")).await;
    fill(&browser, "password", PASSWORD).await;
    fill(&browser, "password_confirmation", PASSWORD).await;
    browser.find("main form button[type=submit]").await.click().await;
    arrive(&browser, &app, "/dashboard/").await;
    assert!(browser.text("header.top .who").await.contains("admin@acme.com"));
    browser.screenshot(shots.join("overview.png")).await;
    // The session cookie is out of the page's scripts' reach.
    let cookies = browser.cookies().await;
    let session = cookies.iter().find(|c| c["name"] == "pd_session").expect("a session cookie");
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Lax");

    // 2. Sign out, and sign in again with the password.
    browser.find("header.top .who button").await.click().await;
    arrive(&browser, &app, "/dashboard/sign-in").await;
    browser.goto(&app.url("/dashboard/settings/api-keys")).await;
    browser.wait_for_url("/dashboard/sign-in?next=").await;
    browser.screenshot(shots.join("sign-in.png")).await;
    fill(&browser, "email", "admin@acme.com").await;
    fill(&browser, "password", PASSWORD).await;
    browser.find("main form button[type=submit]").await.click().await;
    arrive(&browser, &app, "/dashboard/settings/api-keys").await;

    // 3. Generate a key, shown once, and call the API with it.
    fill(&browser, "name", "Browser key").await;
    browser.find("#generate-key").await.click().await;
    let key = browser.text("#new-key").await;
    assert!(key.starts_with("pdk_"), "{key}");
    assert!(browser.try_find("button.copy[data-copy=\"new-key\"]").await.is_some());
    browser.screenshot(shots.join("api-keys.png")).await;
    assert_eq!(app.read("/api/v1/partners/profile", &key).await.0, 200);
    // Shown only once: the list has its prefix, never the key again.
    browser.goto(&app.url("/dashboard/settings/api-keys")).await;
    assert!(!browser.page_source().await.contains(&key));

    // 4. Revoke it: the API refuses it at once.
    let id = key.trim_start_matches("pdk_").split('_').next().unwrap();
    browser.find(&format!("form[action=\"/dashboard/settings/api-keys/key_{id}/revoke\"] button")).await.click().await;
    browser.wait_for_url("revoked=1").await;
    assert!(browser.text("main").await.contains("The key was revoked"));
    assert_eq!(app.read("/api/v1/partners/profile", &key).await.0, 401);

    // 5. The listing's SEO page, and a recommendation applied.
    let seo_before = app.read(&format!("/api/v1/partners/listings/{listing}/seo"), &acme.api_key).await.1;
    visit(&browser, &app, &format!("/dashboard/listings/{listing}"), &shots, "listing-seo").await;
    let shown = browser.text("#seo-score").await;
    assert_eq!(shown.trim(), seo_before["data"]["overall_score"].to_string(), "the page's score is the API's");
    assert!(!browser.text("#seo-grade").await.trim().is_empty());
    let recommendations = browser.find_all("li.recommendation").await.len();
    assert!(recommendations > 0, "a bare listing has recommendations");
    apply_first_recommendation(&browser).await;
    let seo_after = app.read(&format!("/api/v1/partners/listings/{listing}/seo"), &acme.api_key).await.1;
    assert!(
        seo_after["data"]["overall_score"].as_f64() > seo_before["data"]["overall_score"].as_f64(),
        "applying a recommendation raises the score: {seo_before} → {seo_after}"
    );
    assert_eq!(browser.text("#seo-score").await.trim(), seo_after["data"]["overall_score"].to_string());
    browser.screenshot(shots.join("listing-seo-applied.png")).await;

    // 6. The webhook's delivery log after a test send from the page.
    visit(&browser, &app, &format!("/dashboard/webhooks/{hook}"), &shots, "webhook").await;
    browser.find("#send-test").await.click().await;
    receiver.wait_for(1).await;
    for _ in 0..50 {
        browser.goto(&app.url(&format!("/dashboard/webhooks/{hook}"))).await;
        if browser.find_all("#deliveries tbody tr").await.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(browser.find_all("#deliveries tbody tr").await.len(), 1, "the test delivery is in the log");
    browser.screenshot(shots.join("webhook-deliveries.png")).await;

    // 7. What a partner may not do: the operator's pages, another partner's data, a form
    // posted without the session's token.
    browser.goto(&app.url("/dashboard/operator/partners")).await;
    assert!(browser.text("main").await.contains("Only the marketplace operator"));
    browser.goto(&app.url(&format!("/dashboard/listings/{globex_listing}"))).await;
    assert!(browser.text("main").await.contains("not yours to see"));
    assert!(!browser.page_source().await.contains("Globex"));
    browser.goto(&app.url("/dashboard/settings/api-keys")).await;
    assert_eq!(post_without_token(&browser, "/dashboard/settings/api-keys").await, 403);
    browser.goto(&app.url("/dashboard/settings/api-keys")).await;
    assert!(!browser.page_source().await.contains("sneaky"), "the refused form created nothing");

    // The main pages, each rendered without an error, for the screenshots.
    for (path, name) in [
        ("/dashboard/", "overview-data"),
        ("/dashboard/listings", "listings"),
        ("/dashboard/cosell", "cosell"),
        ("/dashboard/customers", "customers"),
        ("/dashboard/tickets", "tickets"),
        ("/dashboard/leads", "leads"),
        ("/dashboard/quotes", "quotes"),
        ("/dashboard/subscriptions", "subscriptions"),
        ("/dashboard/webhooks", "webhooks"),
    ] {
        visit(&browser, &app, path, &shots, name).await;
    }
    // The overview's charts are drawn in the page.
    browser.goto(&app.url("/dashboard/")).await;
    assert!(!browser.find_all("main svg").await.is_empty(), "the overview draws its charts");

    // 8. Sign out: the session is over, and its cookie no longer opens a page.
    let cookie = browser.cookies().await.into_iter().find(|c| c["name"] == "pd_session").unwrap();
    browser.find("header.top .who button").await.click().await;
    browser.wait_for_url("signed_out").await;
    browser.add_cookie("pd_session", cookie["value"].as_str().unwrap()).await;
    browser.goto(&app.url("/dashboard/listings")).await;
    arrive(&browser, &app, "/dashboard/sign-in").await;
}

/// Applies the first recommendation from the SEO page (the page submits the change through the
/// listing's normal update) and waits for the page to show the result.
async fn apply_first_recommendation(browser: &Browser) {
    browser.find("li.recommendation button").await.click().await;
    // Applying either saves at once or pre-fills the edit form; save that form if it is shown.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    if !browser.current_url().await.contains("done=") {
        browser.find("#listing-form button[type=submit]").await.click().await;
    }
    browser.wait_for_url("done=").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_works_its_pages_in_a_real_browser() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let Some(browser) = Browser::start().await else { return };
    let shots = Browser::screenshots_dir("the_operator_works_its_pages_in_a_real_browser");
    app.partner("Acme Corp", "admin@acme.com", "business").await;
    let m = app.marketplace_id();
    let email = partnerd_services::partners::OPERATOR_EMAIL;
    let link = app.server.services.users().issue_link(&m, email, LinkPurpose::Invitation, None).await.unwrap();
    browser.goto(&app.url(&format!("/dashboard/invitation/{}", link.token))).await;
    fill(&browser, "password", PASSWORD).await;
    fill(&browser, "password_confirmation", PASSWORD).await;
    browser.find("main form button[type=submit]").await.click().await;
    // The operator's home is the marketplace's figures.
    arrive(&browser, &app, "/dashboard/operator").await;
    for (path, name) in [
        ("/dashboard/operator", "marketplace"),
        ("/dashboard/operator/partners", "partners"),
        ("/dashboard/operator/users", "users"),
        ("/dashboard/operator/catalog", "catalog"),
        ("/dashboard/operator/leads", "lead-approvals"),
    ] {
        visit(&browser, &app, path, &shots, name).await;
    }
    assert!(browser.page_source().await.contains("Lead"));
    browser.goto(&app.url("/dashboard/operator/partners")).await;
    assert!(browser.text("main").await.contains("Acme Corp"));
    // A partner's page is not the operator's.
    browser.goto(&app.url("/dashboard/listings")).await;
    assert!(browser.text("main").await.contains("partner's dashboard"));
}
