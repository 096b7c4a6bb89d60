//! The dashboard's reseller pages over HTTP on both backends: customers (with their invoices,
//! commissions and usage), the commission report, an invoice's lines, and support tickets.
//! Data made through the reseller API shows on the pages; the pages' actions are visible
//! through the API; bad input is 422 beside its field; another partner's records are 404 and
//! the operator is refused.

use crate::common::*;
use crate::customers::{CUSTOMERS, acme, customer};
use crate::dashboard::{Browserless, operator, signed_in};
use serde_json::{Value, json};

const TICKETS: &str = "/api/v1/partners/support/tickets";

async fn api_customer(app: &TestApp, key: &str, id: &str) -> Value {
    let (status, body) = app.read(&format!("{CUSTOMERS}/{id}"), key).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

async fn api_ticket(app: &TestApp, key: &str, id: &str) -> Value {
    let (status, body) = app.read(&format!("{TICKETS}/{id}"), key).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

/// A customer named `name`, a minute after the one before (lists are newest first).
async fn named_customer(app: &TestApp, key: &str, name: &str, plan: &str) -> String {
    app.clock.advance(chrono::Duration::minutes(1));
    let mut body = acme(plan);
    body["company_name"] = name.into();
    let (status, body) = app.post(CUSTOMERS, key, body).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

/// A ticket, a minute after the one before (lists are newest first).
async fn api_new_ticket(app: &TestApp, key: &str, customer_id: &str, subject: &str, priority: &str) -> String {
    app.clock.advance(chrono::Duration::minutes(1));
    let body = json!({
        "customer_id": customer_id,
        "subject": subject,
        "description": "Customer experiencing webhook failures",
        "priority": priority,
        "category": "technical",
    });
    let (status, body) = app.post(TICKETS, key, body).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

on_both_backends!(customer_pages_show_what_the_api_made_and_act_like_it, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let (cust, invoice) = customer(&app, &a.api_key, "professional").await;
    let op_key = app.server.bootstrap.operator_key.clone().expect("operator key");
    let at = "2025-01-15T09:00:00Z";
    let records = json!({ "records": [
        { "id": "m-1", "customer_id": cust, "metric": "messages", "channel": "sms", "quantity": 5, "occurred_at": at },
        { "id": "w-1", "customer_id": cust, "metric": "workflow_executions", "quantity": 7, "occurred_at": at },
        { "id": "a-1", "customer_id": cust, "metric": "api_requests", "quantity": 40, "errors": 2, "occurred_at": at },
    ]});
    let (status, body) = app.post("/api/v1/partners/usage/records", &op_key, records).await;
    assert_eq!(status, 200, "{body}");

    let mut b = signed_in(&app, "admin@reseller.com").await;
    let list = b.get("/dashboard/customers").await;
    assert_eq!(list.status, 200);
    list.has("Acme Corporation").has("professional").has(&format!("href=\"/dashboard/customers/{cust}\""));

    let page = b.get(&format!("/dashboard/customers/{cust}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.has("John Smith")
        .has("admin@acme.com")
        .has("+1234567890")
        .has("INV-000001")
        .has(&format!("href=\"/dashboard/customers/{cust}/invoices/{invoice}\""))
        .has("badge-open")
        .has("$149.00")
        .has("2025-02-14") // due
        .has("$22.35") // the commission
        .has("15%")
        .has("<td>sms</td><td>5</td>")
        .has("<dt>Workflow executions</dt><dd>7</dd>")
        .has("40 (2 errors, 5.00% error rate)")
        .has(">Suspend</button>");

    let inv = b.get(&format!("/dashboard/customers/{cust}/invoices/{invoice}")).await;
    assert_eq!(inv.status, 200, "{}", inv.body);
    inv.has("Invoice INV-000001").has("professional plan (monthly)").has("$149.00").has("$22.35").has("badge-earned");

    let report = b.get("/dashboard/customers/commissions").await;
    assert_eq!(report.status, 200, "{}", report.body);
    report.has("INV-000001").has("Acme Corporation").has("$22.35").has("2025-01-01");
    b.get("/dashboard/customers").await.has("href=\"/dashboard/customers/commissions\"");

    // Suspend, reactivate: the API sees each.
    let r = b.post(&format!("/dashboard/customers/{cust}/status"), &[("status", "suspended")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(api_customer(&app, &a.api_key, &cust).await["status"], "suspended");
    b.follow(&r).await.has("The account is suspended").has(">Reactivate</button>");
    let r = b.post(&format!("/dashboard/customers/{cust}/status"), &[("status", "active")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(api_customer(&app, &a.api_key, &cust).await["status"], "active");
    // Cancelling is final, so it needs the box ticked.
    let r = b.post(&format!("/dashboard/customers/{cust}/status"), &[("status", "cancelled")]).await;
    assert_eq!(r.status, 422);
    r.has("id=\"f-confirm-error\">tick this box");
    assert_eq!(api_customer(&app, &a.api_key, &cust).await["status"], "active");

    // An upgrade from the edit form is invoiced at once, as through the API.
    let edit = b.get(&format!("/dashboard/customers/{cust}/edit")).await;
    assert_eq!(edit.status, 200);
    edit.has("value=\"John Smith\"");
    let bad = b
        .post(
            &format!("/dashboard/customers/{cust}/edit"),
            &[("contact_name", "John Smith"), ("contact_email", "not-an-email"), ("plan", "enterprise")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-contact_email-error\">must be a valid e-mail address");
    assert_eq!(api_customer(&app, &a.api_key, &cust).await["plan"], "professional", "nothing applied");
    let ok = b
        .post(
            &format!("/dashboard/customers/{cust}/edit"),
            &[
                ("contact_name", "Jane Roe"),
                ("contact_email", "jane@acme.com"),
                ("phone", ""),
                ("plan", "enterprise"),
                ("billing_cycle", "monthly"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.location.as_deref().unwrap().contains("done=invoiced"), "{:?}", ok.location);
    let c = api_customer(&app, &a.api_key, &cust).await;
    assert_eq!(
        (c["plan"].clone(), c["contact_name"].clone(), c["phone"].clone()),
        (json!("enterprise"), json!("Jane Roe"), Value::Null)
    );
    assert_eq!(c["billing"]["latest_invoice_ids"].as_array().unwrap().len(), 2);
    b.follow(&ok).await.has("The change was invoiced at once").has("INV-000002").has("Plan or cycle change");

    // Creating: errors beside their fields, then a customer the API lists.
    let form = b.get("/dashboard/customers/new").await;
    assert_eq!(form.status, 200);
    form.has("name=\"company_name\"").has("professional — $149.00/month");
    let bad = b
        .post(
            "/dashboard/customers",
            &[("company_name", ""), ("contact_email", "nope"), ("contact_name", "X"), ("phone", "12"), ("plan", "")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-company_name-error\">is required")
        .has("id=\"f-contact_email-error\">must be a valid e-mail address")
        .has("id=\"f-phone-error\">must be an E.164 number")
        .has("id=\"f-plan-error\">is required")
        .has("value=\"nope\"");
    let made = b
        .post(
            "/dashboard/customers",
            &[
                ("company_name", "Globex <Inc>"),
                ("contact_email", "ops@globex.com"),
                ("contact_name", "Hank Scorpio"),
                ("phone", "+14155550123"),
                ("plan", "starter"),
                ("billing_cycle", "annual"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let shown = b.follow(&made).await;
    shown.has("Globex &lt;Inc&gt;").has("The customer account was created").has("annual").has("INV-000003");
    let (_, listed) = app.read(&format!("{CUSTOMERS}?status=active"), &a.api_key).await;
    assert_eq!(listed["meta"]["total"], 2);
    assert!(listed["data"].as_array().unwrap().iter().any(|c| c["company_name"] == "Globex <Inc>"));

    // Cancelling, box ticked.
    let r =
        b.post(&format!("/dashboard/customers/{cust}/status"), &[("status", "cancelled"), ("confirm", "yes")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(api_customer(&app, &a.api_key, &cust).await["status"], "cancelled");
    b.follow(&r).await.has("A cancelled account is final").lacks(">Suspend</button>");
});

on_both_backends!(customer_lists_filter_and_page_like_the_api, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    for i in 1..=21 {
        named_customer(&app, &a.api_key, &format!("Starter {i:02}"), "starter").await;
    }
    let pro1 = named_customer(&app, &a.api_key, "Pro One", "professional").await;
    named_customer(&app, &a.api_key, "Pro Two", "professional").await;
    let (status, body) = app.put(&format!("{CUSTOMERS}/{pro1}"), &a.api_key, json!({ "status": "suspended" })).await;
    assert_eq!(status, 200, "{body}");

    let mut b = signed_in(&app, "admin@reseller.com").await;
    let first = b.get("/dashboard/customers").await;
    first.has("Page 1 of 2 · 23 in all").has("href=\"/dashboard/customers?page=2\"").has("Pro Two").has("Starter 04<");
    first.lacks("Starter 03<");
    let second = b.get("/dashboard/customers?page=2").await;
    second.has("Page 2 of 2").has("Starter 01<").has("Starter 03<").lacks("Starter 04<").lacks("Pro Two");
    b.get("/dashboard/customers?plan=professional")
        .await
        .has("Pro One")
        .has("Pro Two")
        .lacks("Starter")
        .has("2 in all");
    b.get("/dashboard/customers?status=suspended").await.has("Pro One").lacks("Pro Two").has("1 in all");
    let both = b.get("/dashboard/customers?status=active&plan=starter&page=2").await;
    both.has("Page 2 of 2 · 21 in all").has("href=\"/dashboard/customers?status=active&plan=starter&page=1\"");

    let bad = b.get("/dashboard/customers?status=bogus&plan=gold").await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-status-error\"").has("id=\"f-plan-error\"").has("aria-invalid=\"true\"");

    // The commission report and the usage range refuse bad dates beside the field.
    let bad = b.get("/dashboard/customers/commissions?start_date=2025-13-01").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-start_date-error\"");
    let bad = b.get("/dashboard/customers/commissions?start_date=2025-01-10&end_date=2025-01-01").await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-end_date-error\"");
    let one = b.get(&format!("/dashboard/customers/commissions?customer_id={pro1}")).await;
    assert_eq!(one.status, 200);
    // Starters are INV-000001 to 21; Pro One's is 22, Pro Two's 23.
    one.has("INV-000022").lacks("INV-000023").lacks("INV-000001<");
    let bad = b.get(&format!("/dashboard/customers/{pro1}?start_date=yesterday")).await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-start_date-error\"").has("Pro One").has("INV-");
    let bad = b.get(&format!("/dashboard/customers/{pro1}?period=2w")).await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-period-error\"");
    let week = b.get(&format!("/dashboard/customers/{pro1}?period=7d")).await;
    assert_eq!(week.status, 200);
    week.has("2025-01-09").has("2025-01-15");
});

on_both_backends!(ticket_pages_follow_the_api_rules_and_the_api_sees_their_actions, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    let other = app.partner("Other Co", "admin@other.com", "business").await;
    let (cust, _) = customer(&app, &a.api_key, "professional").await;
    let (foreign, _) = customer(&app, &other.api_key, "starter").await;
    let id = api_new_ticket(&app, &a.api_key, &cust, "Webhook failures", "high").await;
    let (status, body) = app
        .post(
            &format!("{TICKETS}/{id}/comments"),
            &a.api_key,
            json!({ "body": "It broke <again>", "author": "customer" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for i in 1..=20 {
        api_new_ticket(&app, &a.api_key, &cust, &format!("Question {i:02}"), "low").await;
    }

    let mut b = signed_in(&app, "admin@reseller.com").await;
    let list = b.get("/dashboard/tickets").await;
    assert_eq!(list.status, 200);
    list.has("Page 1 of 2 · 21 in all").has("Question 20").lacks("Webhook failures");
    b.get("/dashboard/tickets?page=2").await.has("Webhook failures").has("Acme Corporation");
    b.get("/dashboard/tickets?priority=high").await.has("Webhook failures").lacks("Question").has("1 in all");
    b.get("/dashboard/tickets?status=resolved").await.has("No ticket matches the filter.");
    b.get(&format!("/dashboard/tickets?customer_id={cust}&category=technical")).await.has("21 in all");
    let bad = b.get("/dashboard/tickets?priority=critical").await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-priority-error\"");

    // The ticket, its conversation, and its status moves.
    let path = format!("/dashboard/tickets/{id}");
    let t = b.get(&path).await;
    assert_eq!(t.status, 200, "{}", t.body);
    t.has("<h1>Webhook failures</h1>")
        .has("Customer experiencing webhook failures")
        .has("It broke &lt;again&gt;")
        .has("Customer (relayed)")
        .has(">Start work</button>")
        .lacks(">Resolve</button>")
        .has("name=\"body\"");

    let empty = b.post(&format!("{path}/comments"), &[("body", "  "), ("author", "partner")]).await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    empty.has("id=\"f-body-error\">is required");
    let reply = b.post(&format!("{path}/comments"), &[("body", "We are on it."), ("author", "partner")]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    b.follow(&reply).await.has("The reply was added.").has("We are on it.");
    let api = api_ticket(&app, &a.api_key, &id).await;
    assert_eq!(api["comment_count"], 2);
    let last = api["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["type"].clone(), last["author"].clone(), last["body"].clone()),
        (json!("comment_added"), json!("partner"), json!("We are on it."))
    );
    assert_eq!(last["actor"], "admin@reseller.com");
    assert!(api["first_response_at"].is_string());

    let r = b.post(&format!("{path}/status"), &[("status", "in_progress")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(api_ticket(&app, &a.api_key, &id).await["status"], "in_progress");
    let refused = b.post(&format!("{path}/status"), &[("status", "closed")]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.has("cannot change from &#39;in_progress&#39; to &#39;closed&#39;");
    assert_eq!(api_ticket(&app, &a.api_key, &id).await["status"], "in_progress");
    let r = b.post(&format!("{path}/priority"), &[("priority", "urgent")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(api_ticket(&app, &a.api_key, &id).await["priority"], "urgent");
    let r = b.post(&format!("{path}/status"), &[("status", "resolved")]).await;
    assert_eq!(r.status, 303);
    let resolved = b.follow(&r).await;
    resolved.has(">Reopen</button>").has(">Close</button>").has("name=\"rating\"");
    let bad = b.post(&format!("{path}/rating"), &[("rating", "9")]).await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-rating-error\">must be a whole number from 1 to 5");
    let r = b.post(&format!("{path}/rating"), &[("rating", "4"), ("comment", "Quick fix")]).await;
    assert_eq!(r.status, 303);
    let api = api_ticket(&app, &a.api_key, &id).await;
    assert_eq!(api["satisfaction"]["rating"], 4);
    assert_eq!(api["satisfaction"]["comment"], "Quick fix");
    let r = b.post(&format!("{path}/status"), &[("status", "closed")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(api_ticket(&app, &a.api_key, &id).await["status"], "closed");
    b.follow(&r).await.has("A closed ticket is final").lacks("name=\"body\"");
    let late = b.post(&format!("{path}/comments"), &[("body", "One more thing")]).await;
    assert_eq!(late.status, 422);
    late.has("a closed ticket takes no comments");

    // Opening a ticket from the form, with the API's validation.
    let form = b.get(&format!("/dashboard/tickets/new?customer_id={cust}")).await;
    assert_eq!(form.status, 200);
    form.has(&format!("<option value=\"{cust}\" selected>Acme Corporation</option>"));
    let bad = b
        .post("/dashboard/tickets", &[("customer_id", ""), ("subject", ""), ("description", "x"), ("priority", "asap")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("id=\"f-customer_id-error\">is required")
        .has("id=\"f-subject-error\">is required")
        .has("id=\"f-priority-error\"");
    let bad = b
        .post("/dashboard/tickets", &[("customer_id", foreign.as_str()), ("subject", "Hi"), ("description", "x")])
        .await;
    assert_eq!(bad.status, 422);
    bad.has("id=\"f-customer_id-error\">no customer account");
    let made = b
        .post(
            "/dashboard/tickets",
            &[
                ("customer_id", cust.as_str()),
                ("subject", "Billing question"),
                ("description", "Line one\nLine two"),
                ("priority", "medium"),
                ("category", "billing"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    b.follow(&made).await.has("The ticket was opened.").has("Line one\nLine two");
    let (_, listed) = app.read(&format!("{TICKETS}?category=billing"), &a.api_key).await;
    assert_eq!(listed["meta"]["total"], 1);
    assert_eq!(listed["data"][0]["subject"], "Billing question");
});

on_both_backends!(another_partners_records_are_404_and_the_operator_is_refused, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = app.partner("Reseller Co", "admin@reseller.com", "business").await;
    app.partner("Other Co", "admin@other.com", "business").await;
    let (cust, invoice) = customer(&app, &a.api_key, "professional").await;
    let (second, second_invoice) = customer(&app, &a.api_key, "starter").await;
    let ticket = api_new_ticket(&app, &a.api_key, &cust, "Webhook failures", "high").await;

    let mut mine = signed_in(&app, "admin@reseller.com").await;
    // An invoice is shown only under its own customer.
    assert_eq!(mine.get(&format!("/dashboard/customers/{cust}/invoices/{second_invoice}")).await.status, 404);
    assert_eq!(mine.get(&format!("/dashboard/customers/{second}/invoices/{second_invoice}")).await.status, 200);
    assert_eq!(mine.get("/dashboard/customers/company_nope").await.status, 404);
    assert_eq!(mine.get("/dashboard/tickets/ticket_nope").await.status, 404);

    let mut b = signed_in(&app, "admin@other.com").await;
    b.get("/dashboard/customers").await.lacks("Acme Corporation").has("No customers yet.");
    b.get("/dashboard/tickets").await.lacks("Webhook failures");
    b.get("/dashboard/customers/commissions").await.lacks("INV-000001");
    for path in [
        format!("/dashboard/customers/{cust}"),
        format!("/dashboard/customers/{cust}/edit"),
        format!("/dashboard/customers/{cust}/invoices/{invoice}"),
        format!("/dashboard/tickets/{ticket}"),
    ] {
        let r = b.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        r.has("Sign out");
    }
    assert_eq!(b.post(&format!("/dashboard/customers/{cust}/status"), &[("status", "suspended")]).await.status, 404);
    assert_eq!(b.post(&format!("/dashboard/tickets/{ticket}/comments"), &[("body", "hi")]).await.status, 404);
    assert_eq!(b.post(&format!("/dashboard/tickets/{ticket}/status"), &[("status", "in_progress")]).await.status, 404);
    assert_eq!(api_customer(&app, &a.api_key, &cust).await["status"], "active");
    let t = api_ticket(&app, &a.api_key, &ticket).await;
    assert_eq!((t["status"].clone(), t["comment_count"].clone()), (json!("open"), json!(0)));

    let mut op = operator(&app).await;
    for path in [
        "/dashboard/customers".to_owned(),
        "/dashboard/customers/new".to_owned(),
        "/dashboard/customers/commissions".to_owned(),
        format!("/dashboard/customers/{cust}"),
        "/dashboard/tickets".to_owned(),
        format!("/dashboard/tickets/{ticket}"),
    ] {
        assert_eq!(op.get(&path).await.status, 403, "{path}");
    }
    assert_eq!(op.post(&format!("/dashboard/tickets/{ticket}/comments"), &[("body", "hi")]).await.status, 403);
    // Without a session: to sign in.
    let r = Browserless::new(&app).get("/dashboard/tickets").await;
    assert_eq!(r.status, 303);
});
