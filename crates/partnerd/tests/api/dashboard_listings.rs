//! The dashboard's overview and listings pages over HTTP: the analytics summary and the charts
//! (and the operator sent to its own home), the listings list (filter, pages), creating a
//! listing with the API's validation, the SEO page against the API's `/seo` and
//! `/recommendations`, editing (re-scored), applying a recommendation, and what another partner
//! or the operator may not see.

use crate::common::*;
use crate::dashboard::{Page, signed_in};
use serde_json::{Value, json};

const LISTINGS: &str = "/api/v1/partners/listings";

/// As the pages escape text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

async fn listing(app: &TestApp, key: &str, body: Value) -> String {
    let (status, b) = app.post(LISTINGS, key, body).await;
    assert_eq!(status, 201, "{b}");
    b["data"]["id"].as_str().unwrap().to_owned()
}

async fn seo(app: &TestApp, key: &str, id: &str) -> Value {
    let (status, b) = app.read(&format!("{LISTINGS}/{id}/seo"), key).await;
    assert_eq!(status, 200, "{b}");
    b["data"].clone()
}

async fn recommendations(app: &TestApp, key: &str, id: &str) -> Value {
    let (status, b) = app.read(&format!("{LISTINGS}/{id}/recommendations"), key).await;
    assert_eq!(status, 200, "{b}");
    b["data"].clone()
}

/// The text of the element with `id` (up to the next tag).
fn text_of(page: &Page, id: &str) -> String {
    let needle = format!("id=\"{id}\"");
    let at = page.body.find(&needle).unwrap_or_else(|| panic!("no #{id} in:\n{}", page.body));
    let rest = &page.body[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..].split('<').next().unwrap().to_owned()
}

/// The version the edit form was read at.
fn form_version(page: &Page) -> String {
    let needle = "name=\"version\" value=\"";
    let at = page.body.find(needle).expect("a version field") + needle.len();
    page.body[at..].split('"').next().unwrap().to_owned()
}

on_both_backends!(the_overview_shows_the_summary_and_charts_and_sends_the_operator_on, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let globex = app.partner("Globex", "admin@globex.com", "business").await;
    let first = listing(&app, &acme.api_key, json!({ "title": "Enterprise Security Suite for Compliance" })).await;
    listing(&app, &acme.api_key, json!({ "title": "Short", "status": "active" })).await;
    listing(&app, &globex.api_key, json!({ "title": "Globex Secret Product" })).await;
    let deal = json!({ "customer_name": "Initech", "deal_value": 50000, "partner_id": globex.partner_id });
    let (status, o) = app.post("/api/v1/partners/cosell/opportunities", &acme.api_key, deal).await;
    assert_eq!(status, 201, "{o}");
    let deal = json!({ "customer_name": "Hooli", "deal_value": 1250.5, "partner_id": globex.partner_id });
    let (status, o) = app.post("/api/v1/partners/cosell/opportunities", &acme.api_key, deal).await;
    assert_eq!(status, 201, "{o}");
    let opp = o["data"]["id"].as_str().unwrap();
    let (status, o) = app
        .patch(
            &format!("/api/v1/partners/cosell/opportunities/{opp}"),
            &acme.api_key,
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(status, 200, "{o}");
    // A customer on "professional" (149) earns the business plan's 15 %: 22.35.
    crate::customers::customer(&app, &acme.api_key, "professional").await;
    // The window ends now, exclusive: look a minute later.
    app.clock.advance(chrono::Duration::minutes(1));

    let mut b = signed_in(&app, "admin@acme.com").await;
    // `/dashboard/` (where sign-in and the nav lead) is the overview.
    let page = b.get("/dashboard/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (status, summary) = app.read("/api/v1/partners/analytics/summary?period=30d", &acme.api_key).await;
    assert_eq!(status, 200, "{summary}");
    let s = &summary["data"];
    assert_eq!(s["listings"]["total"], 2);
    let figure = |id: &str| {
        let at = page.body.find(&format!("id=\"stat-{id}\"><b>")).unwrap_or_else(|| panic!("no {id}")) + id.len() + 14;
        page.body[at..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(figure("listings-total"), s["listings"]["total"].to_string());
    assert_eq!(figure("avg-seo-score"), s["listings"]["avg_seo_score"].to_string());
    assert_eq!(figure("opportunities"), "2");
    assert_eq!(s["cosell"]["opportunities"], 2);
    assert_eq!(figure("pipeline-value"), "$51,250.50", "{s}");
    assert_eq!(s["cosell"]["pipeline_value"], 51250.5);
    assert_eq!(figure("won-value"), "$0.00");
    assert_eq!(figure("content-generated"), s["content"]["generated"].to_string());
    assert_eq!(figure("content-published"), s["content"]["published"].to_string());
    page.has("data-period=\"30d\"").has("<option value=\"30d\" selected>");

    // The charts are SVG drawn in the page: pipeline by status and value, SEO per listing (each
    // bar linking to the listing's SEO page), revenue and commissions.
    assert!(page.body.matches("<svg class=\"chart\"").count() >= 4, "{}", page.body);
    page.has("Opportunities by status").has("Deal value by status").has("<title>In progress: 1</title>");
    page.has("<title>Open: $50,000.00</title>").has("<title>In progress: $1,250.50</title>");
    page.has("SEO score per listing").has(&format!("href=\"/dashboard/listings/{first}#seo\""));
    page.has("Revenue and commissions per day");
    assert_eq!(text_of(&page, "revenue-total"), "$149.00");
    assert_eq!(text_of(&page, "commissions-total"), "$22.35");
    page.lacks("Globex Secret Product");

    // Another period: the API's figures for it; an unknown period is refused beside the selector.
    let year = b.get("/dashboard/?period=1y").await;
    assert_eq!(year.status, 200);
    year.has("data-period=\"1y\"").has("<option value=\"1y\" selected>").has("Revenue and commissions per month");
    let bad = b.get("/dashboard/?period=2w").await;
    assert_eq!(bad.status, 422);
    bad.has("must be one of: 7d, 30d, 90d, 1y").has("aria-invalid=\"true\"");

    // The operator has no partner figures: its home is the marketplace's.
    let mut op = crate::dashboard::operator(&app).await;
    let r = op.get("/dashboard/").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/dashboard/operator"));
});

on_both_backends!(listings_are_listed_filtered_and_paged, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let globex = app.partner("Globex", "admin@globex.com", "business").await;
    for (i, status) in ["draft", "active", "draft"].iter().enumerate() {
        app.clock.advance(chrono::Duration::minutes(1));
        listing(&app, &acme.api_key, json!({ "title": format!("Acme product {i} <b>"), "status": status })).await;
    }
    listing(&app, &globex.api_key, json!({ "title": "Globex product" })).await;
    let mut b = signed_in(&app, "admin@acme.com").await;

    let all = b.get("/dashboard/listings").await;
    assert_eq!(all.status, 200, "{}", all.body);
    all.has("Acme product 0 &lt;b&gt;").has("Acme product 2 &lt;b&gt;").lacks("Globex product").lacks("product 0 <b>");
    all.has("<th scope=\"col\">SEO score</th>").has("<th scope=\"col\">Grade</th>").has("class=\"grade grade-");
    all.has("Page 1 of 1 · 3 in all").has("href=\"/dashboard/listings/new\"");
    // Newest first, as the API lists them.
    let (_, api) = app.read(LISTINGS, &acme.api_key).await;
    let ids: Vec<&str> = api["data"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    let at = |id: &str| all.body.find(&format!("/dashboard/listings/{id}\"")).unwrap();
    assert!(at(ids[0]) < at(ids[1]) && at(ids[1]) < at(ids[2]));
    for l in api["data"].as_array().unwrap() {
        let row =
            format!("/dashboard/listings/{}\">{}</a>", l["id"].as_str().unwrap(), esc(l["title"].as_str().unwrap()));
        all.has(&row).has(&format!("<span class=\"score\">{}</span>", l["seo_score"]));
    }

    let active = b.get("/dashboard/listings?status=active").await;
    active.has("Acme product 1").lacks("Acme product 0").lacks("Acme product 2").has("1 in all");
    active.has("<option value=\"active\" selected>");
    let (_, api) = app.read(&format!("{LISTINGS}?status=draft"), &acme.api_key).await;
    let drafts = b.get("/dashboard/listings?status=draft").await;
    drafts.has(&format!("{} in all", api["meta"]["total"])).lacks("Acme product 1");
    b.get("/dashboard/listings?status=archived").await.has("No listings match this filter.");

    let first = b.get("/dashboard/listings?per_page=2").await;
    first.has("Page 1 of 2 · 3 in all").has("href=\"/dashboard/listings?per_page=2&page=2\"");
    first.has("Acme product 2").has("Acme product 1").lacks("Acme product 0");
    let second = b.get("/dashboard/listings?per_page=2&page=2").await;
    second.has("Acme product 0").lacks("Acme product 1").has("rel=\"prev\"");
    let filtered = b.get("/dashboard/listings?status=draft&per_page=1").await;
    filtered.has("href=\"/dashboard/listings?status=draft&per_page=1&page=2\"");

    let bad = b.get("/dashboard/listings?status=deleted").await;
    assert_eq!(bad.status, 422);
    bad.has("must be one of: active, draft, archived").has("aria-invalid=\"true\"");
});

on_both_backends!(creating_a_listing_validates_as_the_api_does, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut b = signed_in(&app, "admin@acme.com").await;
    let form = b.get("/dashboard/listings/new").await;
    assert_eq!(form.status, 200);
    form.has("id=\"listing-form\"").has("name=\"title\"").has("<option value=\"draft\" selected>");

    let bad = b.post("/dashboard/listings", &[("title", "  "), ("logo_url", "ftp://x"), ("images", "not a url")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("<p class=\"error\" id=\"f-title-error\">is required</p>");
    bad.has("<p class=\"error\" id=\"f-logo_url-error\">must be an http(s) URL</p>");
    bad.has("images[0]: must be an http(s) URL").has("value=\"ftp://x\"");
    // The API refuses the same input naming the same fields.
    let (status, api) = app
        .post(LISTINGS, &acme.api_key, json!({ "title": "  ", "logo_url": "ftp://x", "images": ["not a url"] }))
        .await;
    assert_eq!(status, 422);
    for field in ["title", "logo_url", "images[0]"] {
        assert!(api["error"]["details"].get(field).is_some(), "{field}: {api}");
    }
    let bad = b.post("/dashboard/listings", &[("title", "Fine"), ("pricing_model", "barter")]).await;
    assert_eq!(bad.status, 422);
    bad.has("must be one of: free, subscription").has("id=\"f-pricing_model-error\"");
    assert_eq!(app.read(LISTINGS, &acme.api_key).await.1["meta"]["total"], 0, "nothing was created");

    let ok = b
        .post(
            "/dashboard/listings",
            &[
                ("title", "Acme Data Platform for Analytics Teams"),
                ("short_description", ""),
                ("highlights", "Fast queries on large data sets\n\nSOC 2 compliant by default"),
                ("keywords", "analytics, data"),
                ("categories", "Data"),
                ("logo_url", ""),
                ("pricing_model", "usage_based"),
                ("marketplace", "aws"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let to = ok.location.clone().unwrap();
    assert!(to.starts_with("/dashboard/listings/listing_") && to.ends_with("?done=created"), "{to}");
    let id = to.trim_start_matches("/dashboard/listings/").split('?').next().unwrap().to_owned();
    let (status, api) = app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await;
    assert_eq!(status, 200, "{api}");
    let d = &api["data"];
    assert_eq!(d["title"], "Acme Data Platform for Analytics Teams");
    assert_eq!(d["highlights"], json!(["Fast queries on large data sets", "SOC 2 compliant by default"]));
    assert_eq!(d["keywords"], json!(["analytics", "data"]));
    assert_eq!((d["status"].as_str(), d["pricing_model"].as_str()), (Some("active"), Some("usage_based")));
    assert_eq!(d["logo_url"], Value::Null);
    let shown = b.follow(&ok).await;
    shown.has("The listing was created.").has(&format!("SEO score: {}", d["seo_score"]));
    assert_eq!(text_of(&shown, "seo-score"), d["seo_score"].to_string());
});

on_both_backends!(the_seo_page_is_what_the_api_says, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let id = listing(
        &app,
        &acme.api_key,
        json!({
            "title": "SECURITY Suite!!",
            "short_description": "Keeps your cloud safe.",
            "highlights": ["Fast"],
            "keywords": ["compliance", "security"],
            "images": ["https://cdn.acme.com/1.png"],
        }),
    )
    .await;
    let mut b = signed_in(&app, "admin@acme.com").await;
    let page = b.get(&format!("/dashboard/listings/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let score = seo(&app, &acme.api_key, &id).await;
    assert_eq!(text_of(&page, "seo-score"), score["overall_score"].to_string());
    assert_eq!(text_of(&page, "seo-grade"), score["grade"].as_str().unwrap());
    for (criterion, pct) in score["breakdown"].as_object().unwrap() {
        assert_eq!(text_of(&page, &format!("seo-{criterion}")), pct.to_string(), "{criterion}");
    }
    let recs = recommendations(&app, &acme.api_key, &id).await;
    assert_eq!(text_of(&page, "seo-potential"), recs["total_potential_improvement"].to_string());
    let items = recs["recommendations"].as_array().unwrap();
    assert!(!items.is_empty());
    assert_eq!(page.body.matches("<li class=\"recommendation\"").count(), items.len());
    let mut last = 0;
    for r in items {
        let field = r["field"].as_str().unwrap();
        let at = page.body.find(&format!("data-field=\"{field}\"")).unwrap_or_else(|| panic!("no {field}"));
        assert!(at > last, "in the API's order");
        last = at;
        page.has(&esc(r["suggestion"].as_str().unwrap())).has(&format!(
            "<span class=\"badge badge-{}\">{}</span>",
            r["priority"].as_str().unwrap(),
            r["priority"].as_str().unwrap()
        ));
        page.has(&esc(r["impact"].as_str().unwrap()));
        match &r["proposed_value"] {
            Value::String(t) => {
                page.has(&format!("<blockquote>{}</blockquote>", esc(t)));
            }
            Value::Array(list) => {
                for v in list {
                    page.has(&format!("<li>{}</li>", esc(v.as_str().unwrap())));
                }
            }
            _ => assert!(r["add_count"].as_u64().unwrap() > 0),
        }
    }
    // Every recommendation with a proposed value has its Apply button, inside its item.
    let with_value = items.iter().filter(|r| !r["proposed_value"].is_null()).count();
    assert_eq!(page.body.matches("<button type=\"submit\" class=\"apply\">Apply</button>").count(), with_value);
    page.has("id=\"listing-form\"").has("value=\"SECURITY Suite!!\"");
});

on_both_backends!(editing_rescores_and_applying_a_recommendation_changes_the_listing, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let id = listing(&app, &acme.api_key, json!({ "title": "Short", "keywords": ["compliance"] })).await;
    let path = format!("/dashboard/listings/{id}");
    let mut b = signed_in(&app, "admin@acme.com").await;
    let page = b.get(&path).await;
    let before = seo(&app, &acme.api_key, &id).await["overall_score"].as_u64().unwrap();
    assert_eq!(text_of(&page, "seo-score"), before.to_string());
    let version = form_version(&page);

    // A refused edit keeps the values and says why, beside the field; nothing is written.
    let bad = b.post(&path, &[("version", &version), ("title", ""), ("short_description", "Kept <here>")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-title-error\">is required").has("Kept &lt;here&gt;");
    assert_eq!(app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await.1["data"]["title"], "Short");

    let title = "Enterprise Compliance Suite for Security Teams";
    let short =
        "Automates evidence collection for SOC 2, ISO 27001 and HIPAA audits, so compliance teams finish in weeks.";
    let saved = b
        .post(
            &path,
            &[
                ("version", &version),
                ("title", title),
                ("short_description", short),
                ("highlights", "Continuous control monitoring across clouds\nAudit-ready reports in one click\nIntegrates with your ticketing tools"),
                ("keywords", "compliance, security, audit"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = seo(&app, &acme.api_key, &id).await;
    let now = after["overall_score"].as_u64().unwrap();
    assert!(now > before, "{before} → {now}");
    assert_eq!(saved.location.as_deref(), Some(format!("{path}?done=saved&was={before}#seo").as_str()));
    let shown = b.follow(&saved).await;
    shown.has(&format!("SEO score: {before} → {now}"));
    assert_eq!(text_of(&shown, "seo-score"), now.to_string(), "the page and the API agree");
    assert_eq!(text_of(&shown, "seo-grade"), after["grade"].as_str().unwrap());
    let api = app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await.1;
    assert_eq!((api["data"]["title"].as_str(), api["data"]["seo_score"].as_u64()), (Some(title), Some(now)));
    assert_eq!(api["data"]["keywords"], json!(["compliance", "security", "audit"]));

    // A form read before that change is not applied over it.
    let stale = b.post(&path, &[("version", &version), ("title", "Old tab's title")]).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.has("changed elsewhere").has("value=\"Old tab&#39;s title\"");
    assert_eq!(app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await.1["data"]["title"], title);

    // "Edit first" puts a recommendation's proposed value into the form.
    let recs = recommendations(&app, &acme.api_key, &id).await;
    let rec = recs["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["proposed_value"].is_string())
        .expect("a text recommendation")
        .clone();
    let field = rec["field"].as_str().unwrap();
    let proposed = rec["proposed_value"].as_str().unwrap();
    let prefilled = b.get(&format!("{path}?apply={field}")).await;
    prefilled.has("is filled in below").has(&esc(proposed));

    // "Apply" writes the proposed value through the update: the API shows it and the stated
    // impact.
    let page = b.get(&path).await;
    let version = form_version(&page);
    let impact: u64 =
        rec["impact"].as_str().unwrap().trim_start_matches('+').split(' ').next().unwrap().parse().unwrap();
    let applied = b.post(&format!("{path}/apply"), &[("field", field), ("version", &version)]).await;
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert!(applied.location.as_deref().unwrap().contains("done=applied"));
    let api = app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await.1;
    assert_eq!(api["data"][field], proposed);
    assert_eq!(api["data"]["seo_score"].as_u64(), Some(now + impact));
    let shown = b.follow(&applied).await;
    shown.has("recommendation was applied").has(&format!("SEO score: {now} → {}", now + impact));
    assert_eq!(text_of(&shown, "seo-score"), (now + impact).to_string());
    // Applying with the old version changes nothing and says why.
    let again = b.post(&format!("{path}/apply"), &[("field", "keywords"), ("version", &version)]).await;
    assert_eq!(again.status, 303);
    assert!(again.location.as_deref().unwrap().contains("done=stale"));
    assert_eq!(
        app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await.1["data"]["seo_score"].as_u64(),
        Some(now + impact)
    );
    let gone = b.post(&format!("{path}/apply"), &[("field", "images")]).await;
    assert!(gone.location.as_deref().unwrap().contains("done=gone"), "images cannot be applied for the partner");

    // Archiving, as the API's DELETE does.
    let archived = b.post(&format!("{path}/archive"), &[]).await;
    assert_eq!(archived.status, 303);
    assert_eq!(app.read(&format!("{LISTINGS}/{id}"), &acme.api_key).await.1["data"]["status"], "archived");
    b.follow(&archived).await.has("The listing was archived");
});

on_both_backends!(another_partners_listing_is_not_found_and_the_operator_is_refused, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    app.partner("Acme Corp", "admin@acme.com", "business").await;
    let globex = app.partner("Globex", "admin@globex.com", "business").await;
    let theirs = listing(&app, &globex.api_key, json!({ "title": "Globex Secret Product" })).await;
    let path = format!("/dashboard/listings/{theirs}");
    let mut b = signed_in(&app, "admin@acme.com").await;
    let r = b.get(&path).await;
    assert_eq!(r.status, 404);
    r.has("not yours to see").lacks("Globex Secret Product");
    assert_eq!(b.get(&format!("{path}?apply=title")).await.status, 404);
    assert_eq!(b.get("/dashboard/listings/listing_doesnotexist").await.status, 404);
    b.get("/dashboard/listings").await;
    assert_eq!(b.post(&path, &[("title", "Taken over")]).await.status, 404);
    assert_eq!(b.post(&format!("{path}/apply"), &[("field", "title")]).await.status, 404);
    assert_eq!(b.post(&format!("{path}/archive"), &[]).await.status, 404);
    let api = app.read(&format!("{LISTINGS}/{theirs}"), &globex.api_key).await.1;
    assert_eq!(
        (api["data"]["title"].as_str(), api["data"]["status"].as_str()),
        (Some("Globex Secret Product"), Some("draft"))
    );

    let mut op = crate::dashboard::operator(&app).await;
    for p in ["/dashboard/listings", "/dashboard/listings/new", path.as_str()] {
        let r = op.get(p).await;
        assert_eq!(r.status, 403, "{p}");
        r.has("partner&#39;s dashboard");
    }
    assert_eq!(op.post("/dashboard/listings", &[("title", "Operator's")]).await.status, 403);
    assert_eq!(op.post(&path, &[("title", "Operator's")]).await.status, 403);
    assert_eq!(app.read(LISTINGS, &globex.api_key).await.1["meta"]["total"], 1);
});
