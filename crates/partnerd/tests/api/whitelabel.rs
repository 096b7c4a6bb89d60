//! White-label branding, e-mail templates with their preview, and configuration deploys over
//! real HTTP on both backends: every validation rule, HTML escaping in previews, versioning,
//! idempotency and history, concurrent deploys, 404 across partners and the 422 shapes.

use crate::common::*;
use crate::customers::{CUSTOMERS, acme, customer};
use serde_json::{Value, json};

fn path(id: &str, rest: &str) -> String {
    format!("{CUSTOMERS}/{id}/{rest}")
}

fn details(body: &Value) -> Vec<String> {
    body["error"]["details"].as_object().map(|d| d.keys().cloned().collect()).unwrap_or_default()
}

async fn count_events(app: &TestApp, id: &str, event_type: &str) -> usize {
    app.events(id).await.iter().filter(|e| e.event_type == event_type).count()
}

on_both_backends!(branding_is_validated_normalised_and_unique, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (id, _) = customer(&app, &a.api_key, "professional").await;
    let (other, _) = customer(&app, &a.api_key, "starter").await;

    // Never set: the defaults.
    let (status, body) = app.read(&path(&id, "branding"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({ "customer_id": id, "logo_url": null, "primary_color": "#2563eb", "secondary_color": "#64748b",
                "custom_domain": null, "customized": false, "updated_at": null })
    );

    let set = json!({ "logo_url": "https://partner.com/logo.png", "primary_color": "#007BFF",
                      "secondary_color": "#ABC", "custom_domain": "App.Partner.com" });
    let (status, body) = app.post(&path(&id, "branding"), &a.api_key, set.clone()).await;
    assert_eq!(status, 200, "{body}");
    let want = json!({ "customer_id": id, "logo_url": "https://partner.com/logo.png", "primary_color": "#007bff",
                       "secondary_color": "#abc", "custom_domain": "app.partner.com", "customized": true,
                       "updated_at": "2025-01-15T10:30:00Z" });
    assert_eq!(body["data"], want);
    assert_eq!(app.read(&path(&id, "branding"), &a.api_key).await.1["data"], want);
    assert_eq!(count_events(&app, &id, "branding.updated").await, 1);
    // The same branding again writes nothing.
    assert_eq!(app.post(&path(&id, "branding"), &a.api_key, set).await.0, 200);
    assert_eq!(count_events(&app, &id, "branding.updated").await, 1);

    // Every rule, each named.
    for (field, bad) in [
        ("logo_url", json!("http://partner.com/logo.png")),
        ("logo_url", json!("partner.com/logo.png")),
        ("logo_url", json!("https://user:pw@partner.com/logo.png")),
        ("primary_color", json!("007bff")),
        ("primary_color", json!("#12345")),
        ("secondary_color", json!("#ggg")),
        ("secondary_color", json!("blue")),
        ("custom_domain", json!("192.168.1.10")),
        ("custom_domain", json!("app.partner.com:8443")),
        ("custom_domain", json!("app.partner.com/portal")),
        ("custom_domain", json!("https://app.partner.com")),
        ("custom_domain", json!("localhost")),
        ("custom_domain", json!("-bad.partner.com")),
        ("custom_domain", json!("[::1]")),
    ] {
        let (status, body) = app.post(&path(&other, "branding"), &a.api_key, json!({ field: bad })).await;
        assert_eq!((status, body["error"]["code"].clone()), (422, json!("VALIDATION_ERROR")), "{field} {bad}: {body}");
        assert_eq!(details(&body), [field], "{bad}: {body}");
    }
    let (status, body) = app.post(&path(&other, "branding"), &a.api_key, json!({ "colour": "#fff" })).await;
    assert_eq!((status, details(&body)), (422, vec!["colour".to_owned()]), "{body}");
    // Several problems at once are all named.
    let (_, body) = app
        .post(
            &path(&other, "branding"),
            &a.api_key,
            json!({ "logo_url": "ftp://x", "primary_color": "x", "custom_domain": "1.2.3.4" }),
        )
        .await;
    assert_eq!(details(&body), ["custom_domain", "logo_url", "primary_color"]);

    // A custom domain serves one customer of the marketplace.
    let (status, body) =
        app.post(&path(&other, "branding"), &a.api_key, json!({ "custom_domain": "APP.partner.com" })).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["custom_domain"][0], "is already used by another customer of this marketplace");
    let b = app.partner("Other Reseller", "admin@other.com", "business").await;
    let (b_customer, _) = customer(&app, &b.api_key, "starter").await;
    let (status, _) =
        app.post(&path(&b_customer, "branding"), &b.api_key, json!({ "custom_domain": "app.partner.com" })).await;
    assert_eq!(status, 422, "unique across partners of the marketplace too");
    assert_eq!(count_events(&app, &other, "branding.updated").await, 0, "refusals write nothing");

    // Fields left out take their defaults: the domain is free again.
    let (status, body) = app.post(&path(&id, "branding"), &a.api_key, json!({ "primary_color": "#000" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["data"]["logo_url"].clone(), body["data"]["custom_domain"].clone()), (json!(null), json!(null)));
    assert_eq!(body["data"]["secondary_color"], "#64748b");
    let (status, _) =
        app.post(&path(&other, "branding"), &a.api_key, json!({ "custom_domain": "app.partner.com" })).await;
    assert_eq!(status, 200);
    let last = app.events(&id).await.into_iter().rev().find(|e| e.event_type == "branding.updated").unwrap();
    assert_eq!(last.payload["changed"], json!(["logo_url", "primary_color", "secondary_color", "custom_domain"]));
});

fn welcome() -> Value {
    json!({ "subject": "Welcome to {{ partner.company_name }}",
            "html": "<h1 style=\"color:{{branding.primary_color}}\">Hi {{customer.contact_name}}</h1>",
            "text": "Hi {{customer.contact_name}} of {{customer.company_name}}" })
}

on_both_backends!(email_templates_are_validated_replaced_and_listed, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (id, _) = customer(&app, &a.api_key, "professional").await;
    let names = ["welcome", "password_reset", "invoice", "payment_failed", "plan_changed", "subscription_cancelled"];

    let (status, body) = app.read(&path(&id, "email-templates"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    let list = body["data"].as_array().unwrap();
    assert_eq!(list.iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), names);
    assert!(list.iter().all(|t| t["customized"] == false && t["updated_at"].is_null()));
    let invoice = &list[2];
    assert!(invoice["placeholders"].as_array().unwrap().contains(&json!("invoice.number")));
    assert!(!list[0]["placeholders"].as_array().unwrap().contains(&json!("invoice.number")));

    let (status, body) =
        app.put(&path(&id, "email-templates"), &a.api_key, json!({ "templates": { "welcome": welcome() } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["data"][0]["customized"].clone(), body["data"][1]["customized"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(body["data"][0]["subject"], welcome()["subject"]);
    assert_eq!(body["data"][0]["updated_at"], "2025-01-15T10:30:00Z");
    assert_eq!(count_events(&app, &id, "email_templates.updated").await, 1);

    // Each rule, named by template and part; nothing is written.
    let with = |name: &str, part: &str, v: Value| {
        let mut t = welcome();
        t[part] = v;
        json!({ "templates": { name: t } })
    };
    for (body, field, message) in [
        (json!({ "templates": { "newsletter": welcome() } }), "templates.newsletter", "unknown template 'newsletter'"),
        (
            with("welcome", "html", json!("<p>{{foo}}</p>")),
            "templates.welcome.html",
            "unknown placeholder {{foo}} for the welcome template",
        ),
        (
            with("invoice", "text", json!("Total {{invoice.total")),
            "templates.invoice.text",
            "unclosed {{ at character 7",
        ),
        (
            with("welcome", "subject", json!("Invoice {{invoice.number}}")),
            "templates.welcome.subject",
            "unknown placeholder {{invoice.number}}",
        ),
        (with("welcome", "subject", json!("two\nlines")), "templates.welcome.subject", "must be one line"),
        (with("welcome", "text", json!("  ")), "templates.welcome.text", "is required"),
        (with("welcome", "html", json!("{{ Bad-Name }}")), "templates.welcome.html", "invalid placeholder"),
        (
            json!({ "templates": { "welcome": { "subject": "x", "html": "y" } } }),
            "templates.welcome.text",
            "is required",
        ),
        (with("welcome", "body", json!("x")), "templates.welcome.body", "is not an email template field"),
        (json!({}), "templates", "is required"),
    ] {
        let (status, got) = app.put(&path(&id, "email-templates"), &a.api_key, body.clone()).await;
        assert_eq!((status, got["error"]["code"].clone()), (422, json!("VALIDATION_ERROR")), "{body}: {got}");
        assert_eq!(details(&got), [field], "{got}");
        let m = got["error"]["details"][field][0].as_str().unwrap();
        assert!(m.contains(message), "{field}: {m}");
    }
    // The invoice template may use invoice figures.
    let invoice_tpl = json!({ "subject": "Invoice {{invoice.number}}", "html": "<p>{{invoice.total}} {{invoice.currency}}</p>",
                              "text": "Due {{invoice.due_date}}" });
    let (status, body) = app
        .put(
            &path(&id, "email-templates"),
            &a.api_key,
            json!({ "templates": { "welcome": welcome(), "invoice": invoice_tpl } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][2]["customized"], true);
    let events = app.events(&id).await;
    let last = events.iter().rev().find(|e| e.event_type == "email_templates.updated").unwrap();
    assert_eq!(last.payload["customized"], json!(["welcome", "invoice"]));
    assert_eq!(last.payload["changed"], json!(["invoice"]), "welcome did not change");
    // The same set again changes nothing.
    app.put(
        &path(&id, "email-templates"),
        &a.api_key,
        json!({ "templates": { "welcome": welcome(), "invoice": invoice_tpl } }),
    )
    .await;
    assert_eq!(count_events(&app, &id, "email_templates.updated").await, 2);

    // Left out is the default again; {} resets all.
    let (_, body) =
        app.put(&path(&id, "email-templates"), &a.api_key, json!({ "templates": { "invoice": invoice_tpl } })).await;
    assert_eq!(
        (body["data"][0]["customized"].clone(), body["data"][2]["customized"].clone()),
        (json!(false), json!(true))
    );
    let (_, body) = app.put(&path(&id, "email-templates"), &a.api_key, json!({ "templates": {} })).await;
    assert!(body["data"].as_array().unwrap().iter().all(|t| t["customized"] == false));
    assert_eq!(app.read(&path(&id, "email-templates"), &a.api_key).await.1, body);
});

on_both_backends!(previews_render_branding_and_data_html_escaped, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller <b>Co</b>", "admin@reseller.com", "business").await;
    let mut c = acme("professional");
    c["company_name"] = json!("<script>alert('x')</script> & Sons");
    let (status, body) = app.post(CUSTOMERS, &a.api_key, c).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let number = body["data"]["latest_invoice"]["number"].as_str().unwrap().to_owned();
    app.post(
        &path(&id, "branding"),
        &a.api_key,
        json!({ "primary_color": "#FF0000", "custom_domain": "app.sons.example" }),
    )
    .await;

    // The default welcome template, no body.
    let preview = format!("{}/welcome/preview", path(&id, "email-templates"));
    let r = app.http.post(app.url(&preview)).bearer_auth(&a.api_key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = json(r).await;
    let p = &body["data"];
    assert_eq!((p["name"].clone(), p["customized"].clone()), (json!("welcome"), json!(false)));
    let html = p["html"].as_str().unwrap();
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Sons"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("<b>Co</b>"), "{html}");
    assert!(html.contains("Reseller &lt;b&gt;Co&lt;/b&gt;"), "{html}");
    assert!(html.contains("#ff0000") && html.contains("https://app.sons.example"), "{html}");
    assert_eq!(p["subject"], "Welcome to Reseller <b>Co</b>, <script>alert('x')</script> & Sons");
    assert!(p["text"].as_str().unwrap().contains("<script>alert('x')</script> & Sons"), "plain text is not escaped");

    // A draft, rendered with the customer's latest invoice.
    let draft = json!({ "subject": "Invoice {{invoice.number}}", "html": "<p>{{customer.company_name}}: {{invoice.total}} {{invoice.currency}}</p>",
                        "text": "{{invoice.due_date}}" });
    let (status, body) =
        app.post(&format!("{}/invoice/preview", path(&id, "email-templates")), &a.api_key, draft).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["subject"], format!("Invoice {number}"));
    assert_eq!(body["data"]["html"], "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Sons: 149.00 USD</p>");
    assert_eq!(body["data"]["text"], "2025-02-14");
    // A saved template is what a body-less preview renders.
    app.put(&path(&id, "email-templates"), &a.api_key, json!({ "templates": { "welcome": welcome() } })).await;
    let (_, body) = app.post(&preview, &a.api_key, json!({})).await;
    assert_eq!(body["data"]["customized"], true);
    assert_eq!(body["data"]["html"], "<h1 style=\"color:#ff0000\">Hi John Smith</h1>");

    // A broken draft is 422 naming its part; an unknown template is 404.
    let (status, body) =
        app.post(&preview, &a.api_key, json!({ "subject": "x", "html": "{{customer.company_name", "text": "y" })).await;
    assert_eq!((status, details(&body)), (422, vec!["html".to_owned()]), "{body}");
    let (status, body) = app.post(&preview, &a.api_key, json!({ "html": "x" })).await;
    assert_eq!((status, details(&body)), (422, vec!["subject".to_owned(), "text".to_owned()]), "{body}");
    let (status, body) =
        app.post(&format!("{}/newsletter/preview", path(&id, "email-templates")), &a.api_key, json!({})).await;
    assert_eq!((status, body["error"]["code"].clone()), (404, json!("NOT_FOUND")));
    assert_eq!(count_events(&app, &id, "email_templates.updated").await, 1, "previews write nothing");
});

fn config(locale: &str) -> Value {
    json!({
        "workflows": [
            { "key": "onboarding", "name": "Onboarding", "trigger": "contact.created",
              "steps": [ { "type": "send_email", "template": "welcome" }, { "type": "wait", "duration_seconds": 86400 },
                         { "type": "send_sms", "template": "nudge" } ] },
            { "key": "alerts", "name": "Alerts", "trigger": "webhook", "enabled": false,
              "steps": [ { "type": "webhook", "url": "https://hooks.partner.com/alerts" } ] }
        ],
        "templates": [
            { "key": "welcome", "channel": "email", "subject": "Welcome {{contact.first_name}}", "body": "<p>Hello</p>" },
            { "key": "nudge", "channel": "sms", "body": "Still there, {{contact.first_name}}?" }
        ],
        "settings": { "locale": locale, "max_seats": 25, "sso.enabled": true }
    })
}

on_both_backends!(deploys_are_versioned_idempotent_and_listed, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (id, _) = customer(&app, &a.api_key, "professional").await;
    let deploy = path(&id, "deploy");

    let (status, body) = app.read(&path(&id, "deployments"), &a.api_key).await;
    assert_eq!(
        (status, body["meta"].clone()),
        (200, json!({ "limit": 20, "offset": 0, "total": 0, "next_cursor": null })),
        "{body}"
    );

    let (status, body) = app.post(&deploy, &a.api_key, config("en-US")).await;
    assert_eq!(status, 201, "{body}");
    let v1 = body["data"].clone();
    assert_eq!((v1["version"].clone(), v1["status"].clone()), (json!(1), json!("deployed")));
    assert_eq!(v1["customer_id"], id.as_str());
    assert_eq!(v1["deployed_by"], a.user_id.as_str());
    assert!(v1["config_hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v1["changes"]["workflows"], json!({ "added": ["alerts", "onboarding"], "removed": [], "changed": [] }));
    assert_eq!(v1["changes"]["templates"]["added"], json!(["nudge", "welcome"]));
    assert_eq!(v1["changes"]["settings"]["added"], json!(["locale", "max_seats", "sso.enabled"]));
    let cfg = &v1["configuration"];
    assert_eq!(cfg["workflows"][0]["key"], "alerts", "sorted by key");
    assert_eq!(cfg["workflows"][0]["enabled"], false);
    assert_eq!(cfg["workflows"][1]["enabled"], true, "enabled by default");
    assert_eq!(cfg["workflows"][1]["steps"][1], json!({ "type": "wait", "duration_seconds": 86400 }));
    assert_eq!(cfg["settings"], json!({ "locale": "en-US", "max_seats": 25, "sso.enabled": true }));

    // The same configuration, items in another order: a no-op answering version 1.
    let mut same = config("en-US");
    same["workflows"].as_array_mut().unwrap().reverse();
    same["templates"].as_array_mut().unwrap().reverse();
    let (status, body) = app.post(&deploy, &a.api_key, same).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], v1);

    // A change: version 2 with what changed.
    app.clock.advance(chrono::Duration::hours(1));
    let mut next = config("fr-FR");
    next["workflows"].as_array_mut().unwrap().remove(1);
    next["workflows"][0]["name"] = json!("Onboarding v2");
    next["workflows"].as_array_mut().unwrap().push(
        json!({ "key": "winback", "name": "Win back", "trigger": "manual", "steps": [ { "type": "send_email", "template": "welcome" } ] }),
    );
    next["settings"].as_object_mut().unwrap().remove("max_seats");
    next["settings"]["theme"] = json!("dark");
    let (status, body) = app.post(&deploy, &a.api_key, next.clone()).await;
    assert_eq!(status, 201, "{body}");
    let v2 = body["data"].clone();
    assert_eq!(v2["version"], 2);
    assert_eq!(
        v2["changes"]["workflows"],
        json!({ "added": ["winback"], "removed": ["alerts"], "changed": ["onboarding"] })
    );
    assert_eq!(v2["changes"]["templates"], json!({ "added": [], "removed": [], "changed": [] }));
    assert_eq!(
        v2["changes"]["settings"],
        json!({ "added": ["theme"], "removed": ["max_seats"], "changed": ["locale"] })
    );
    assert_ne!(v2["config_hash"], v1["config_hash"]);
    // Back to the first configuration: a new version 3, not version 1 again.
    let (status, body) = app.post(&deploy, &a.api_key, config("en-US")).await;
    assert_eq!((status, body["data"]["version"].clone()), (201, json!(3)));
    assert_eq!(body["data"]["config_hash"], v1["config_hash"]);

    let (status, body) = app.read(&format!("{}?limit=2", path(&id, "deployments")), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cursor_masked(&body["meta"]), json!({ "limit": 2, "offset": 0, "total": 3, "next_cursor": "CURSOR" }));
    let page = body["data"].as_array().unwrap();
    assert_eq!(page.iter().map(|d| d["version"].clone()).collect::<Vec<_>>(), [json!(3), json!(2)]);
    assert_eq!((page[0]["status"].clone(), page[1]["status"].clone()), (json!("deployed"), json!("superseded")));
    assert!(page[0].get("configuration").is_none(), "lists leave configurations out");
    let (_, body) = app.read(&format!("{}?limit=2&offset=2", path(&id, "deployments")), &a.api_key).await;
    assert_eq!(body["data"][0]["version"], 1);

    let (status, body) = app.read(&path(&id, "deployments/1"), &a.api_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["data"]["status"].clone(), body["data"]["superseded_at"].clone()),
        (json!("superseded"), json!("2025-01-15T11:30:00Z"))
    );
    assert_eq!(body["data"]["configuration"], v1["configuration"]);
    let (_, body) = app.read(&path(&id, "deployments/2"), &a.api_key).await;
    assert_eq!(body["data"]["configuration"]["workflows"][0]["name"], "Onboarding v2");
    for missing in ["deployments/4", "deployments/0", "deployments/abc", "deployments/-1"] {
        let (status, body) = app.read(&path(&id, missing), &a.api_key).await;
        assert_eq!((status, body["error"]["code"].clone()), (404, json!("NOT_FOUND")), "{missing}");
    }
    let (status, body) = app.read(&format!("{}?limit=101", path(&id, "deployments")), &a.api_key).await;
    assert_eq!((status, details(&body)), (422, vec!["limit".to_owned()]));
    assert_eq!(count_events(&app, &id, "configuration.deployed").await, 3);

    // Concurrent deploys of distinct configurations take consecutive versions.
    let send = |i: usize| app.post(&deploy, &a.api_key, config(&format!("xx-{i}")));
    let (r0, r1, r2, r3, r4) = tokio::join!(send(0), send(1), send(2), send(3), send(4));
    let results = [r0, r1, r2, r3, r4];
    let mut versions: Vec<i64> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 201, "{b}");
            b["data"]["version"].as_i64().unwrap()
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [4, 5, 6, 7, 8]);
    let (_, body) = app.read(&format!("{}?limit=100", path(&id, "deployments")), &a.api_key).await;
    let current: Vec<&Value> = body["data"].as_array().unwrap().iter().filter(|d| d["status"] == "deployed").collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["version"], 8);
    // Each version's changes are against the one just before it.
    for d in body["data"].as_array().unwrap().iter().filter(|d| d["version"].as_i64().unwrap() > 4) {
        assert_eq!(d["changes"]["settings"]["changed"], json!(["locale"]), "{d}");
    }
});

on_both_backends!(deploy_problems_are_named_by_path, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (id, _) = customer(&app, &a.api_key, "professional").await;
    let deploy = path(&id, "deploy");

    let mut bad = config("en-US");
    bad["workflows"].as_array_mut().unwrap().push(json!({ "key": "third", "name": "Third", "trigger": "sometimes",
        "steps": [ { "type": "wait" } ] }));
    bad["workflows"][0]["steps"][0]["template"] = json!("missing");
    bad["workflows"][0]["steps"][2]["template"] = json!("welcome");
    bad["workflows"][1]["steps"][0]["url"] = json!("http://hooks.partner.com/alerts");
    bad["templates"][1]["body"] = json!("Hi {{contact.first_name");
    bad["templates"][1]["subject"] = json!("sms has none");
    bad["settings"]["nested"] = json!({ "a": 1 });
    bad["settings"]["ratio"] = json!(0.5);
    let (status, body) = app.post(&deploy, &a.api_key, bad).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("VALIDATION_ERROR")), "{body}");
    assert_eq!(
        details(&body),
        [
            "settings.nested",
            "settings.ratio",
            "templates[1].body",
            "templates[1].subject",
            "workflows[0].steps[0].template",
            "workflows[0].steps[2].template",
            "workflows[1].steps[0].url",
            "workflows[2].steps[0].duration_seconds",
            "workflows[2].trigger",
        ]
    );
    assert!(body["error"]["details"]["workflows[2].trigger"][0].as_str().unwrap().starts_with("must be one of"));

    for (body, field) in [
        (
            json!({ "workflows": [ { "key": "a", "name": "A", "trigger": "manual", "steps": "none" } ] }),
            "workflows[0].steps",
        ),
        (
            json!({ "workflows": [ { "key": "a", "name": "A", "trigger": "manual", "steps": [], "colour": 1 } ] }),
            "workflows[0].colour",
        ),
        (
            json!({ "workflows": [ { "key": "a", "name": "A", "trigger": "manual", "steps": [] } ] }),
            "workflows[0].steps",
        ),
        (json!({ "workflows": [ { "key": "a", "name": "A", "trigger": 7, "steps": [] } ] }), "workflows[0].trigger"),
        (
            json!({ "workflows": [ { "key": "A B", "name": "A", "trigger": "manual", "steps": [ { "type": "wait", "duration_seconds": 5 } ] } ] }),
            "workflows[0].key",
        ),
        (json!({ "templates": [ { "key": "t", "channel": "email", "body": "b" } ] }), "templates[0].subject"),
        (json!({ "templates": [ { "key": "t", "channel": "fax", "body": "b" } ] }), "templates[0].channel"),
        (json!({ "settings": { "Bad Key": 1 } }), "settings.Bad Key"),
        (json!({ "settings": { "list": [1] } }), "settings.list"),
        (json!({ "workflow": [] }), "workflow"),
    ] {
        let (status, got) = app.post(&deploy, &a.api_key, body.clone()).await;
        assert_eq!(status, 422, "{body}: {got}");
        assert!(details(&got).contains(&field.to_owned()), "{field}: {got}");
    }
    let dup = json!({ "workflows": [
        { "key": "a", "name": "A", "trigger": "manual", "steps": [ { "type": "wait", "duration_seconds": 5 } ] },
        { "key": "a", "name": "B", "trigger": "manual", "steps": [ { "type": "wait", "duration_seconds": 5 } ] } ] });
    let (_, got) = app.post(&deploy, &a.api_key, dup).await;
    assert_eq!(got["error"]["details"]["workflows[1].key"][0], "duplicate key 'a' (also workflows[0])");
    assert_eq!(count_events(&app, &id, "configuration.deployed").await, 0, "refusals write nothing");
    // An empty configuration is a valid version.
    let (status, body) = app.post(&deploy, &a.api_key, json!({})).await;
    assert_eq!((status, body["data"]["version"].clone()), (201, json!(1)), "{body}");
});

on_both_backends!(another_partners_customer_is_not_found_and_cancelled_ones_are_read_only, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let b = app.partner("Other Reseller", "admin@other.com", "business").await;
    let (id, _) = customer(&app, &a.api_key, "professional").await;
    app.post(&path(&id, "deploy"), &a.api_key, config("en-US")).await;
    let templates = json!({ "templates": { "welcome": welcome() } });
    for target in [id.clone(), "company_nope".to_owned(), "garbage".to_owned()] {
        let requests = [
            (reqwest::Method::GET, path(&target, "branding"), None),
            (reqwest::Method::POST, path(&target, "branding"), Some(json!({ "primary_color": "#000" }))),
            (reqwest::Method::GET, path(&target, "email-templates"), None),
            (reqwest::Method::PUT, path(&target, "email-templates"), Some(templates.clone())),
            (reqwest::Method::POST, path(&target, "email-templates/welcome/preview"), Some(json!({}))),
            (reqwest::Method::POST, path(&target, "deploy"), Some(config("de-DE"))),
            (reqwest::Method::GET, path(&target, "deployments"), None),
            (reqwest::Method::GET, path(&target, "deployments/1"), None),
        ];
        for (method, p, body) in requests {
            let (status, got) = app.send(method.clone(), &p, &b.api_key, body).await;
            assert_eq!((status, got["error"]["code"].clone()), (404, json!("NOT_FOUND")), "{method} {p}: {got}");
        }
    }
    assert_eq!(app.read(&path(&id, "deployments"), &a.api_key).await.1["meta"]["total"], 1, "nothing written");
    assert_eq!(count_events(&app, &id, "branding.updated").await, 0);

    // A cancelled account keeps its settings readable, not writable.
    let (status, _) = app.put(&format!("{CUSTOMERS}/{id}"), &a.api_key, json!({ "status": "cancelled" })).await;
    assert_eq!(status, 200);
    for (method, p, body) in [
        (reqwest::Method::POST, path(&id, "branding"), json!({ "primary_color": "#000" })),
        (reqwest::Method::PUT, path(&id, "email-templates"), templates.clone()),
        (reqwest::Method::POST, path(&id, "deploy"), config("de-DE")),
    ] {
        let (status, got) = app.send(method, &p, &a.api_key, Some(body)).await;
        assert_eq!((status, details(&got)), (422, vec!["customer_id".to_owned()]), "{p}: {got}");
    }
    assert_eq!(app.read(&path(&id, "branding"), &a.api_key).await.0, 200);
    assert_eq!(app.read(&path(&id, "deployments/1"), &a.api_key).await.0, 200);
    assert_eq!(app.post(&path(&id, "email-templates/welcome/preview"), &a.api_key, json!({})).await.0, 200);
});
