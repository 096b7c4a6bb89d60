//! The dashboard's co-sell and webhook pages over HTTP on both backends: the pipeline and its
//! totals and filters, registering with the API's validation, status moves through the state
//! machine and the timeline, webhooks created from the page, test sends a receiver gets and the
//! log shows, redelivery, isolation between partners, and the operator refused.

use crate::common::*;
use crate::dashboard::{Page, operator, signed_in};
use serde_json::{Value, json};

const OPPS: &str = "/api/v1/partners/cosell/opportunities";
const HOOKS: &str = "/api/v1/partners/webhooks";

async fn opportunity(app: &TestApp, key: &str, partner_id: &str, customer: &str, value: Value) -> String {
    let body = json!({ "customer_name": customer, "deal_value": value, "partner_id": partner_id });
    let (status, created) = app.post(OPPS, key, body).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_owned()
}

async fn set_status(app: &TestApp, key: &str, id: &str, status: &str) {
    let (code, body) = app.patch(&format!("{OPPS}/{id}"), key, json!({ "status": status })).await;
    assert_eq!(code, 200, "{body}");
}

/// The stat card of one status on the pipeline page.
fn stat(page: &Page, status: &str) -> String {
    let start = format!("<li class=\"stat\" id=\"stat-{status}\">");
    let at = page.body.find(&start).unwrap_or_else(|| panic!("no card for {status}:\n{}", page.body));
    let rest = &page.body[at..];
    rest[..rest.find("</li>").unwrap()].to_owned()
}

/// The part of the page from `from` on to the next `to`.
fn section<'a>(page: &'a Page, from: &str, to: &str) -> &'a str {
    let at = page.body.find(from).unwrap_or_else(|| panic!("no {from:?} in:\n{}", page.body));
    let rest = &page.body[at..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

on_both_backends!(the_pipeline_totals_each_status_and_filters_like_the_api, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let partner = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let globex = app.partner("Globex", "admin@globex.com", "business").await;
    opportunity(&app, &acme.api_key, &partner.partner_id, "Open Alpha", json!(75000)).await;
    opportunity(&app, &acme.api_key, &partner.partner_id, "Open Beta", json!("1234.50")).await;
    let working = opportunity(&app, &acme.api_key, &partner.partner_id, "Working Gamma", json!(50000)).await;
    set_status(&app, &acme.api_key, &working, "in_progress").await;
    let won = opportunity(&app, &acme.api_key, &globex.partner_id, "Won Delta", json!(10000)).await;
    set_status(&app, &acme.api_key, &won, "won").await;
    // Shared with Acme by another partner: on Acme's pipeline too.
    opportunity(&app, &partner.api_key, &acme.partner_id, "Shared Epsilon", json!(2000)).await;
    // Not Acme's.
    opportunity(&app, &globex.api_key, &partner.partner_id, "Hidden Zeta", json!(999)).await;

    let mut b = signed_in(&app, "admin@acme.com").await;
    let p = b.get("/dashboard/cosell").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let open = stat(&p, "open");
    assert!(open.contains("3 opportunities") && open.contains("$78,234.50"), "{open}");
    let in_progress = stat(&p, "in_progress");
    assert!(in_progress.contains("1 opportunity") && in_progress.contains("$50,000.00"), "{in_progress}");
    let won_card = stat(&p, "won");
    assert!(won_card.contains("1 opportunity") && won_card.contains("$10,000.00"), "{won_card}");
    let lost = stat(&p, "lost");
    assert!(lost.contains("0 opportunities") && lost.contains("$0.00"), "{lost}");
    p.has("<svg").has("Open Alpha").has("Shared Epsilon").has("shared with you").lacks("Hidden Zeta");
    // The API counts the same set.
    let (_, all) = app.read(OPPS, &acme.api_key).await;
    assert_eq!(all["meta"]["total"], 5);
    let (_, open_api) = app.read(&format!("{OPPS}?status=open"), &acme.api_key).await;
    assert_eq!(open_api["meta"]["total"], 3);

    // Filters use the API's names and meaning.
    let f = b.get("/dashboard/cosell?status=in_progress").await;
    assert_eq!(f.status, 200);
    f.has("Working Gamma").lacks("Open Alpha").lacks("Won Delta").has("<option value=\"in_progress\" selected>");
    let by_partner = b.get(&format!("/dashboard/cosell?partner_id={}", globex.partner_id)).await;
    by_partner.has("Won Delta").lacks("Open Alpha").lacks("Shared Epsilon");
    b.get("/dashboard/cosell?created_after=2025-01-16").await.has("No opportunity matches these filters.");
    b.get("/dashboard/cosell?created_after=2025-01-15").await.has("Open Alpha");
    let bad = b.get("/dashboard/cosell?status=closed&created_after=soon").await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"q-status-error\"").has("id=\"q-created_after-error\"").has("aria-invalid=\"true\"");

    // Paged: 20 a page, the filters kept in the pager's links.
    for i in 0..20 {
        opportunity(&app, &acme.api_key, &partner.partner_id, &format!("Bulk {i:02}"), json!(1)).await;
    }
    let first = b.get("/dashboard/cosell?status=open").await;
    first.has("Page 1 of 2 · 23 in all").has("href=\"/dashboard/cosell?status=open&page=2\"");
    let second = b.get("/dashboard/cosell?status=open&page=2").await;
    second.has("Page 2 of 2").has("href=\"/dashboard/cosell?status=open&page=1\"");
});

on_both_backends!(registering_from_the_page_validates_like_the_api, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let partner = app.partner("Partner Inc", "admin@partner.com", "business").await;
    let mut b = signed_in(&app, "admin@acme.com").await;
    let form = b.get("/dashboard/cosell/new").await;
    assert_eq!(form.status, 200);
    form.has("name=\"customer_name\"").has("name=\"deal_value\"").has("name=\"partner_id\"");

    let bad = b
        .post(
            "/dashboard/cosell",
            &[
                ("customer_name", "  "),
                ("deal_value", "-5"),
                ("partner_id", acme.partner_id.as_str()),
                ("expected_close_date", "15/03/2025"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-customer_name-error\">is required")
        .has("id=\"f-partner_id-error\">must be another partner, not yourself")
        .has("id=\"f-expected_close_date-error\">must be a date (YYYY-MM-DD)")
        .has("id=\"f-deal_value-error\"")
        .has("value=\"15/03/2025\"");
    let missing = b.post("/dashboard/cosell", &[("customer_name", "X"), ("partner_id", "partner_nope")]).await;
    assert_eq!(missing.status, 422);
    missing.has("id=\"f-deal_value-error\">is required").has("no partner");
    let (_, none) = app.read(OPPS, &acme.api_key).await;
    assert_eq!(none["meta"]["total"], 0, "nothing was created");

    let ok = b
        .post(
            "/dashboard/cosell",
            &[
                ("customer_name", "New Customer Inc"),
                ("deal_value", "1234.50"),
                ("partner_id", partner.partner_id.as_str()),
                ("description", "Joint implementation project"),
                ("expected_close_date", "2025-03-15"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let to = ok.location.clone().unwrap();
    assert!(to.starts_with("/dashboard/cosell/opp_") && to.ends_with("?done=created"), "{to}");
    b.follow(&ok).await.has("The opportunity was registered").has("New Customer Inc").has("$1,234.50");
    let (_, list) = app.read(OPPS, &acme.api_key).await;
    let o = &list["data"][0];
    assert_eq!(
        (o["customer_name"].clone(), o["deal_value"].clone(), o["expected_close_date"].clone()),
        (json!("New Customer Inc"), json!(1234.5), json!("2025-03-15"))
    );
    assert_eq!(o["partner"]["id"], json!(partner.partner_id));
    // The new form suggests the partners already co-sold with.
    b.get("/dashboard/cosell/new").await.has(&format!("<option value=\"{}\">Partner Inc</option>", partner.partner_id));
});

on_both_backends!(status_moves_follow_the_machine_and_show_in_the_timeline, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let partner = app.partner("Partner Inc", "admin@partner.com", "business").await;
    app.partner("Globex", "admin@globex.com", "business").await;
    let id = opportunity(&app, &acme.api_key, &partner.partner_id, "Global Corp", json!(50000)).await;
    let path = format!("/dashboard/cosell/{id}");

    let mut b = signed_in(&app, "admin@acme.com").await;
    let d = b.get(&path).await;
    assert_eq!(d.status, 200, "{}", d.body);
    d.has("Mark in progress").has("Mark won").has("Mark lost").has(&format!("action=\"{path}/status\""));
    assert!(section(&d, "<ol class=\"timeline\"", "</ol>").contains("Opportunity registered (open)"));

    let moved = b.post(&format!("{path}/status"), &[("status", "in_progress")]).await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let after = b.follow(&moved).await;
    after.has("The status was changed.").lacks("Mark in progress").has("Mark won");
    let timeline = section(&after, "<ol class=\"timeline\"", "</ol>");
    assert!(timeline.contains("Status changed from") && timeline.contains("badge-in-progress"), "{timeline}");
    assert!(timeline.contains("admin@acme.com"), "{timeline}");
    let (_, api) = app.read(&format!("{OPPS}/{id}"), &acme.api_key).await;
    assert_eq!(api["data"]["status"], "in_progress");
    let (_, events) = app.read(&format!("{OPPS}/{id}/timeline"), &acme.api_key).await;
    assert_eq!(
        events["data"]["events"][1],
        json!({
            "type": "status_changed", "from": "open", "to": "in_progress",
            "timestamp": "2025-01-15T10:30:00Z", "actor": "admin@acme.com"
        })
    );

    // A move the machine forbids is refused, with the reason, and changes nothing.
    let back = b.post(&format!("{path}/status"), &[("status", "open")]).await;
    assert_eq!(back.status, 422, "{}", back.body);
    back.has("The status was not changed").has("allowed: won, lost");
    let junk = b.post(&format!("{path}/status"), &[("status", "closed")]).await;
    assert_eq!(junk.status, 422);
    let (_, api) = app.read(&format!("{OPPS}/{id}"), &acme.api_key).await;
    assert_eq!(api["data"]["status"], "in_progress");

    // Edits go through the same update: bad input beside its field, good input in the timeline.
    let bad = b
        .post(&path, &[("customer_name", "Global Corp"), ("deal_value", "abc"), ("notes", ""), ("description", "")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-deal_value-error\"").has("value=\"abc\"");
    let edited = b
        .post(
            &path,
            &[
                ("customer_name", "Global Corp"),
                ("deal_value", "80000"),
                ("description", ""),
                ("expected_close_date", ""),
                ("notes", "Deal closed successfully"),
            ],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let page = b.follow(&edited).await;
    page.has("The changes were saved.");
    let timeline = section(&page, "<ol class=\"timeline\"", "</ol>");
    assert!(timeline.contains("Deal value changed from $50,000.00 to $80,000.00"), "{timeline}");
    assert!(timeline.contains("Deal closed successfully"), "{timeline}");
    let (_, api) = app.read(&format!("{OPPS}/{id}"), &acme.api_key).await;
    assert_eq!(
        (api["data"]["deal_value"].clone(), api["data"]["notes"].clone()),
        (json!(80000), json!("Deal closed successfully"))
    );

    // A form read before a change made elsewhere does not overwrite it; saving the re-shown
    // form, after review, does.
    let version_of = |body: &str| {
        let at = body.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
        body[at..].split('"').next().unwrap().to_owned()
    };
    let read = version_of(&b.get(&path).await.body);
    let (code, body) = app.patch(&format!("{OPPS}/{id}"), &acme.api_key, json!({ "notes": "From the API" })).await;
    assert_eq!(code, 200, "{body}");
    let mine = |version: &str| {
        vec![
            ("customer_name", "Global Corp".to_owned()),
            ("deal_value", "80000".to_owned()),
            ("description", String::new()),
            ("expected_close_date", String::new()),
            ("notes", "Mine".to_owned()),
            ("version", version.to_owned()),
        ]
    };
    let fields = mine(&read);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stale = b.post(&path, &pairs).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.has("was changed").has(">Mine</textarea>");
    let (_, api) = app.read(&format!("{OPPS}/{id}"), &acme.api_key).await;
    assert_eq!(api["data"]["notes"], "From the API");
    let fields = mine(&version_of(&stale.body));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post(&path, &pairs).await.status, 303);
    let (_, api) = app.read(&format!("{OPPS}/{id}"), &acme.api_key).await;
    assert_eq!(api["data"]["notes"], "Mine");

    // Won is final: no more buttons, and a forged move says why.
    assert_eq!(b.post(&format!("{path}/status"), &[("status", "won")]).await.status, 303);
    b.get(&path).await.has("its status is final").lacks("Mark lost");
    let late = b.post(&format!("{path}/status"), &[("status", "lost")]).await;
    assert_eq!(late.status, 422);
    late.has("is final");
    let (_, api) = app.read(&format!("{OPPS}/{id}"), &acme.api_key).await;
    assert_eq!(api["data"]["status"], "won");

    // The co-sell partner sees the deal; a third partner does not, nor may move it.
    let mut other_side = signed_in(&app, "admin@partner.com").await;
    other_side.get(&path).await.has("Shared by").has("Acme Corp");
    let mut stranger = signed_in(&app, "admin@globex.com").await;
    assert_eq!(stranger.get(&path).await.status, 404);
    assert_eq!(stranger.post(&format!("{path}/status"), &[("status", "lost")]).await.status, 404);
    assert_eq!(stranger.post(&path, &[("customer_name", "Mine")]).await.status, 404);
    assert_eq!(stranger.get("/dashboard/cosell/opp_nope").await.status, 404);

    // The operator has no pipeline.
    let mut op = operator(&app).await;
    assert_eq!(op.get("/dashboard/cosell").await.status, 403);
    assert_eq!(op.get(&path).await.status, 403);
    assert_eq!(op.get("/dashboard/cosell/new").await.status, 403);
    assert_eq!(op.get("/dashboard/webhooks").await.status, 403);
});

/// Waits until the webhook's log has a delivered delivery that is not a test; answers its id.
async fn delivered_event(app: &TestApp, key: &str, hook: &str) -> String {
    for _ in 0..500 {
        let (_, log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), key).await;
        if let Some(d) =
            log["data"].as_array().unwrap().iter().find(|d| d["test"] == false && d["status"] == "delivered")
        {
            return d["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no event was delivered");
}

on_both_backends!(webhooks_are_created_tested_and_redelivered_from_the_page, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = Receiver::start().await;
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let partner = app.partner("Partner Inc", "admin@partner.com", "business").await;
    app.partner("Globex", "admin@globex.com", "business").await;

    let mut b = signed_in(&app, "admin@acme.com").await;
    let list = b.get("/dashboard/webhooks").await;
    assert_eq!(list.status, 200);
    list.has("No webhooks yet.").has("value=\"opportunity.created\"").has("value=\"listing.updated\"");

    // Bad input: the API's messages beside the fields.
    let bad = b.post("/dashboard/webhooks", &[("url", "ftp://example.com/x"), ("secret", "short")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-url-error\"").has("id=\"events-error\">must name at least one event").has("id=\"f-secret-error\"");
    let unknown = b.post("/dashboard/webhooks", &[("url", r.url.as_str()), ("events", "listing.deleted")]).await;
    assert_eq!(unknown.status, 422);
    unknown.has("unknown event");
    let (_, none) = app.read(HOOKS, &acme.api_key).await;
    assert_eq!(none["data"], json!([]));

    let created = b
        .post(
            "/dashboard/webhooks",
            &[("url", r.url.as_str()), ("events", "opportunity.created"), ("events", "listing.created")],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret =
        section(&created, "<code id=\"new-secret\">", "</code>")["<code id=\"new-secret\">".len()..].to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    created.has(&r.url);
    let (_, hooks) = app.read(HOOKS, &acme.api_key).await;
    let hook = hooks["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(hooks["data"][0]["events"], json!(["opportunity.created", "listing.created"]));
    assert_eq!(hooks["data"][0]["url"], json!(r.url));
    // Shown once: the list no longer has it.
    b.get("/dashboard/webhooks").await.lacks(&secret).has(&format!("/dashboard/webhooks/{hook}"));

    let path = format!("/dashboard/webhooks/{hook}");
    let d = b.get(&path).await;
    assert_eq!(d.status, 200, "{}", d.body);
    d.has("id=\"send-test\"").has("id=\"deliveries\"").has("No deliveries yet.").lacks(&secret);

    // A test send reaches the receiver, signed with the shown secret, and is logged.
    let sent = b.post(&format!("{path}/test"), &[("event", "listing.updated")]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.location.as_deref(), Some(format!("{path}?done=test-delivered&code=200").as_str()));
    let got = r.wait_for(1).await;
    let body = got[0].json();
    assert_eq!((body["type"].clone(), body["test"].clone()), (json!("listing.updated"), json!(true)));
    assert!(crate::webhooks::signed_with(&got[0], &secret));
    let page = b.follow(&sent).await;
    page.has("The test event was delivered (HTTP 200).");
    let log = section(&page, "<div id=\"deliveries\">", "</table>");
    assert!(log.contains("listing.updated") && log.contains(">test<") && log.contains("badge-delivered"), "{log}");
    assert!(log.contains("<details") && log.contains(body["id"].as_str().unwrap()), "the payload is shown: {log}");
    assert!(!log.contains("/redeliver"), "test sends are not sent again: {log}");
    let (_, api_log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), &acme.api_key).await;
    assert_eq!((api_log["meta"]["total"].clone(), api_log["data"][0]["test"].clone()), (json!(1), json!(true)));

    // A failing receiver: logged as failed, with its status.
    r.answer(&[500]);
    let failed = b.post(&format!("{path}/test"), &[("event", "listing.updated")]).await;
    assert_eq!(failed.location.as_deref(), Some(format!("{path}?done=test-failed&code=500").as_str()));
    b.follow(&failed).await.has("not accepted (HTTP 500)").has("HTTP 500");
    let wrong = b.post(&format!("{path}/test"), &[("event", "listing.deleted")]).await;
    assert_eq!(wrong.status, 422);
    wrong.has("id=\"f-event-error\">unknown event");

    // A real event is delivered, then sent again from the page.
    opportunity(&app, &acme.api_key, &partner.partner_id, "Global Corp", json!(50000)).await;
    r.wait_for(3).await;
    let delivery = delivered_event(&app, &acme.api_key, &hook).await;
    let page = b.get(&path).await;
    let action = format!("{path}/deliveries/{delivery}/redeliver");
    page.has(&format!("action=\"{action}\""));
    let again = b.post(&action, &[]).await;
    assert_eq!(again.status, 303, "{}", again.body);
    let got = r.wait_for(4).await;
    assert_eq!(got[3].body, got[2].body, "the same event, byte for byte");
    assert_eq!(got[3].json()["type"], "opportunity.created");
    b.follow(&again).await.has("sent again").has(">redelivery<");
    let (_, api_log) = app.read(&format!("{HOOKS}/{hook}/deliveries"), &acme.api_key).await;
    assert_eq!(api_log["meta"]["total"], 4);
    assert!(api_log["data"].as_array().unwrap().iter().any(|d| d["redelivery_of"] == json!(delivery)), "{api_log}");

    // Another partner sees none of it.
    let mut stranger = signed_in(&app, "admin@globex.com").await;
    assert_eq!(stranger.get(&path).await.status, 404);
    assert_eq!(stranger.post(&format!("{path}/test"), &[("event", "listing.updated")]).await.status, 404);
    assert_eq!(stranger.post(&action, &[]).await.status, 404);
    assert_eq!(stranger.post(&format!("{path}/active"), &[("active", "false")]).await.status, 404);
    assert_eq!(stranger.post(&format!("{path}/delete"), &[]).await.status, 404);
    stranger.get("/dashboard/webhooks").await.has("No webhooks yet.").lacks(&r.url);
    assert_eq!(r.received().len(), 4, "nothing was sent by the stranger");

    // Edit, disable, enable, rotate, delete: each visible through the API.
    let edited = b.post(&path, &[("url", r.url.as_str()), ("events", "listing.created")]).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let (_, w) = app.read(&format!("{HOOKS}/{hook}"), &acme.api_key).await;
    assert_eq!(w["data"]["events"], json!(["listing.created"]));
    let emptied = b.post(&path, &[("url", r.url.as_str())]).await;
    assert_eq!(emptied.status, 422);
    emptied.has("id=\"events-error\"");
    let off = b.post(&format!("{path}/active"), &[("active", "false")]).await;
    assert_eq!(off.status, 303);
    let disabled = b.follow(&off).await;
    disabled.has("badge-disabled").has(">Enable<").lacks("/redeliver\"");
    let (_, w) = app.read(&format!("{HOOKS}/{hook}"), &acme.api_key).await;
    assert_eq!(w["data"]["active"], false);
    let refused = b.post(&action, &[]).await;
    assert_eq!(refused.status, 409);
    refused.has("the webhook is disabled");
    assert_eq!(b.post(&format!("{path}/active"), &[("active", "true")]).await.status, 303);
    let (_, w) = app.read(&format!("{HOOKS}/{hook}"), &acme.api_key).await;
    assert_eq!(w["data"]["active"], true);
    let rotated = b.post(&format!("{path}/rotate-secret"), &[]).await;
    assert_eq!(rotated.status, 200);
    let new_secret =
        section(&rotated, "<code id=\"new-secret\">", "</code>")["<code id=\"new-secret\">".len()..].to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    let gone = b.post(&format!("{path}/delete"), &[]).await;
    assert_eq!((gone.status, gone.location.as_deref()), (303, Some("/dashboard/webhooks?done=deleted")));
    b.follow(&gone).await.has("The webhook was deleted").has("No webhooks yet.");
    assert_eq!(app.read(&format!("{HOOKS}/{hook}"), &acme.api_key).await.0, 404);
    assert_eq!(b.get(&path).await.status, 404);

    // The operator is refused on every webhook page and action.
    let mut op = operator(&app).await;
    assert_eq!(op.get(&path).await.status, 403);
    assert_eq!(op.post("/dashboard/webhooks", &[("url", r.url.as_str())]).await.status, 403);
});
