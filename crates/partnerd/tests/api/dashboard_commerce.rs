//! The dashboard's leads, quotes and subscriptions pages over HTTP: leads made through the
//! Leads API listed and filtered with the API's filters, a bad lead refused beside its field,
//! lifecycle moves from the page seen through the API and a forbidden move refused with its
//! reason; quotes and subscriptions made through the AppReseller API shown with their totals,
//! their moves (items, review, finalize; change, cancel) seen through the API; and what another
//! partner, or the wrong kind of user, may not see.

use crate::common::*;
use crate::dashboard::{Page, operator, signed_in};
use crate::subscriptions::{AR, buy, catalog, customer};
use serde_json::{Value, json};

const LEADS: &str = "/api/lead/v2";
const OPP: &str = "/api/appReseller/v1/opportunities";

fn scope(who: &TestPartner) -> String {
    format!("context=RESELLER&companyId={}", who.company_id)
}

async fn lead(app: &TestApp, who: &TestPartner, company: &str, email: &str) -> String {
    let body = json!({ "leadType": "MANUAL", "customer": {
        "company": { "name": company, "country": "US", "city": "Miami" },
        "contact": { "email": email, "firstName": "John", "lastName": "Doe" } } });
    let (s, l) = app.post(&format!("{LEADS}/leads?{}", scope(who)), &who.api_key, body).await;
    assert_eq!(s, 201, "{l}");
    l["id"].as_str().unwrap().to_owned()
}

async fn lead_via_api(app: &TestApp, who: &TestPartner, id: &str) -> Value {
    let (s, l) = app.read(&format!("{LEADS}/leads/{id}?{}", scope(who)), &who.api_key).await;
    assert_eq!(s, 200, "{l}");
    l
}

/// The id in a redirect to `/dashboard/{area}/{id}?…`.
fn id_in(page: &Page, area: &str) -> String {
    let to = page.location.as_deref().unwrap_or_else(|| panic!("no redirect ({}): {}", page.status, page.body));
    let rest = to.strip_prefix(&format!("/dashboard/{area}/")).unwrap_or_else(|| panic!("{to}"));
    rest.split('?').next().unwrap().to_owned()
}

on_both_backends!(leads_from_the_api_are_listed_filtered_and_moved, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let a = enrol(&app, "Reseller A", "a@resellers.example", &["reseller"]).await;
    let b = enrol(&app, "Reseller B", "b@resellers.example", &["reseller"]).await;
    let acme = lead(&app, &a, "Acme Rockets", "john@acme.example").await;
    let globex = lead(&app, &a, "Globex", "hank@globex.example").await;
    let initech = lead(&app, &b, "Initech", "bill@initech.example").await;

    let mut br = signed_in(&app, "a@resellers.example").await;
    let list = br.get("/dashboard/leads").await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.has("Acme Rockets").has("Globex").has("john@acme.example").has(&format!("/dashboard/leads/{acme}"));
    list.lacks("Initech");
    // The API's filters, with the document's status aggregates.
    br.get("/dashboard/leads?searchText=globex").await.has("Globex").lacks("Acme Rockets");
    br.get("/dashboard/leads?status=ASSIGNED").await.has("Globex").has("Acme Rockets");
    br.get("/dashboard/leads?status=ACCEPTED_FOR_MANAGERS").await.has("Acme Rockets");
    br.get("/dashboard/leads?status=PENDING_FOR_MANAGERS").await.lacks("Acme Rockets").has("No leads match.");
    br.get("/dashboard/leads?fromDate=2025-01-16").await.lacks("Globex");
    br.get("/dashboard/leads?toDate=2025-01-15&sortField=COMPANY_NAME&sortOrder=ASC").await.has("Globex");
    let bad = br.get("/dashboard/leads?status=OPEN&fromDate=soon").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("must be one of").has("q-fromDate-error").has("aria-invalid=\"true\"");

    // A new lead: the API's validation, each message beside its field.
    br.get("/dashboard/leads/new").await.has("name=\"customer.company.name\"");
    let refused = br
        .post("/dashboard/leads", &[("customer.company.name", " "), ("customer.contact.email", "not-an-email")])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.has("id=\"f-customer-company-name-error\"").has("is required");
    refused.has("id=\"f-customer-contact-email-error\"").has("must be an e-mail address");
    refused.has("value=\"not-an-email\"");
    let made = br
        .post(
            "/dashboard/leads",
            &[
                ("context", "RESELLER"),
                ("customer.company.name", "Umbrella Corp"),
                ("customer.company.country", "GB"),
                ("customer.contact.email", "alice@umbrella.example"),
                ("customer.contact.firstName", "Alice"),
                ("notes", "Met at the fair"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let umbrella = id_in(&made, "leads");
    br.follow(&made).await.has("The lead was created.").has("Umbrella Corp").has("Met at the fair");
    let l = lead_via_api(&app, &a, &umbrella).await;
    assert_eq!(l["customer"]["company"]["name"], "Umbrella Corp");
    assert_eq!(l["status"], "ASSIGNED");

    // The detail page: facts, history and only the moves the status machine allows.
    let detail = br.get(&format!("/dashboard/leads/{acme}")).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    detail.has("Acme Rockets").has("Miami").has("badge-assigned").has("Request conversion approval");
    detail.has("Created").lacks("Convert into a customer");
    // A move the status machine refuses: the reason, not a server error.
    let no = br.post(&format!("/dashboard/leads/{acme}/convert"), &[("context", "RESELLER")]).await;
    assert_eq!(no.status, 409, "{}", no.body);
    no.has("role=\"alert\"").has("it can be converted only when it is CONVERSION_APPROVED");
    assert_eq!(lead_via_api(&app, &a, &acme).await["status"], "ASSIGNED");
    // Moves from the page, seen through the API.
    let asked = br.post(&format!("/dashboard/leads/{acme}/request-conversion"), &[("context", "RESELLER")]).await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    assert_eq!(lead_via_api(&app, &a, &acme).await["status"], "PENDING_CONVERSION_APPROVAL");
    let after = br.follow(&asked).await;
    after.has("Conversion approval was requested").has("Conversion approval requested");
    after.lacks("Request conversion approval");
    let again = br.post(&format!("/dashboard/leads/{acme}/request-conversion"), &[]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    again.has("conversion approval has already been requested");
    let notes = br.post(&format!("/dashboard/leads/{globex}/notes"), &[("notes", "Call back in March")]).await;
    assert_eq!(notes.status, 303, "{}", notes.body);
    assert_eq!(lead_via_api(&app, &a, &globex).await["notes"], "Call back in March");
    let gone = br.post(&format!("/dashboard/leads/{globex}/discard"), &[("context", "RESELLER")]).await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    assert!(gone.location.as_deref().unwrap().contains("done=deleted"), "{:?}", gone.location);
    assert_eq!(lead_via_api(&app, &a, &globex).await["status"], "DELETED");

    // Another partner's lead is not found, and stays as it was.
    assert_eq!(br.get(&format!("/dashboard/leads/{initech}")).await.status, 404);
    assert_eq!(br.post(&format!("/dashboard/leads/{initech}/discard"), &[]).await.status, 404);
    assert_eq!(lead_via_api(&app, &b, &initech).await["status"], "ASSIGNED");
    // A lead role the user does not hold is refused; the operator has no lead pages here.
    assert_eq!(br.get("/dashboard/leads?context=RESELLER_MANAGER").await.status, 403);
    let mut op = operator(&app).await;
    assert_eq!(op.get("/dashboard/leads").await.status, 403);
});

on_both_backends!(quotes_and_subscriptions_show_their_totals_and_act, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = enrol(&app, "Reseller", "r@r.com", &["reseller"]).await;
    let other = enrol(&app, "Other Reseller", "o@o.com", &["reseller"]).await;
    let plans = catalog(&app).await;
    let (stark, users) = customer(&app, &r, "Stark Industries", &["Ulysses"]).await;
    let (wayne, bruce) = customer(&app, &other, "Wayne Enterprises", &["Bruce"]).await;

    let item =
        |plan: &str, unit: &str, n: u32| json!({ "pricingPlanId": plan, "units": [{ "quantity": n, "unit": unit }] });
    let (s, q) = app
        .post(
            OPP,
            &r.api_key,
            json!({ "customerCompanyId": stark, "customerId": users[0], "name": "Jarvis Initiative",
                "items": [item(&plans.monthly, "USER", 3)] }),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["totalFee"], "USD41.00");
    let quote = q["id"].as_str().unwrap().to_owned();
    let (s, oq) = app
        .post(
            OPP,
            &other.api_key,
            json!({ "customerCompanyId": wayne, "customerId": bruce[0], "name": "Batcave Refit",
                "items": [item(&plans.monthly, "USER", 1)] }),
        )
        .await;
    assert_eq!(s, 200, "{oq}");
    let other_quote = oq["id"].as_str().unwrap().to_owned();
    let (s, sub) =
        app.post(&format!("{AR}/subscriptions"), &r.api_key, buy(&plans.other_product, &stark, &users[0], 2)).await;
    assert_eq!(s, 200, "{sub}");
    assert_eq!(sub["activeOrder"]["totalFee"], "USD6.00");
    let sub = sub["id"].as_str().unwrap().to_owned();
    let (s, osub) =
        app.post(&format!("{AR}/subscriptions"), &other.api_key, buy(&plans.other_product, &wayne, &bruce[0], 1)).await;
    assert_eq!(s, 200, "{osub}");
    let other_sub = osub["id"].as_str().unwrap().to_owned();

    let mut br = signed_in(&app, "r@r.com").await;
    // Quotes: the list and its filters.
    let list = br.get("/dashboard/quotes").await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.has("Jarvis Initiative").has("$41.00").has("Stark Industries").has("badge-open").lacks("Batcave Refit");
    br.get("/dashboard/quotes?status=CLOSED").await.lacks("Jarvis Initiative").has("No quotes match.");
    br.get("/dashboard/quotes?searchText=jarvis&sort=-createdOn").await.has("Jarvis Initiative");
    let bad = br.get("/dashboard/quotes?status=WON&sort=-size").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.has("must be one of").has("q-sort-error");

    // One quote: items, totals, moves.
    let page = br.get(&format!("/dashboard/quotes/{quote}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.has("Suite").has("Pro").has("3 × User").has("$41.00").has("Finalize: buy every item").has("Request review");
    let refused = br
        .post(
            &format!("/dashboard/quotes/{quote}/items"),
            &[("pricingPlanId", &plans.session), ("units[0].quantity", "many"), ("units[0].unit", "SESSION")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.has("id=\"f-units-0--quantity-error\"").has("must be a whole number");
    let added = br
        .post(
            &format!("/dashboard/quotes/{quote}/items"),
            &[("pricingPlanId", &plans.session), ("units[0].quantity", "2"), ("units[0].unit", "SESSION")],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let (_, got) = app.read(&format!("{OPP}/{quote}"), &r.api_key).await;
    assert_eq!(got["totalFee"], "USD161.00", "41.00 + 2 sessions at 60.00: {got}");
    br.follow(&added).await.has("$161.00").has("2 × Session");
    let review = br.post(&format!("/dashboard/quotes/{quote}/request-review"), &[]).await;
    assert_eq!(review.status, 303, "{}", review.body);
    assert_eq!(app.read(&format!("{OPP}/{quote}"), &r.api_key).await.1["status"], "PENDING_REVIEW");
    br.follow(&review).await.has("under review").lacks("Finalize: buy every item");
    // Under review the quote is the marketplace manager's: the seller's finalize is refused.
    let no = br.post(&format!("/dashboard/quotes/{quote}/finalize"), &[]).await;
    assert_eq!(no.status, 409, "{}", no.body);
    no.has("role=\"alert\"").has("with the marketplace manager");
    // The operator sees every quote and hands this one back.
    let mut op = operator(&app).await;
    op.get("/dashboard/quotes").await.has("Jarvis Initiative").has("Batcave Refit");
    let back = op.post(&format!("/dashboard/quotes/{quote}/complete-review"), &[]).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(app.read(&format!("{OPP}/{quote}"), &r.api_key).await.1["status"], "OPEN");
    let bought = br.post(&format!("/dashboard/quotes/{quote}/finalize"), &[]).await;
    assert_eq!(bought.status, 303, "{}", bought.body);
    let (_, closed) = app.read(&format!("{OPP}/{quote}"), &r.api_key).await;
    assert_eq!(closed["status"], "CLOSED", "{closed}");
    let purchase = closed["purchaseId"].as_str().unwrap().to_owned();
    br.follow(&bought).await.has("every item was bought").has(&purchase);
    br.get(&format!("/dashboard/subscriptions?searchText={purchase}")).await.has("Suite").lacks("Basic");

    // A new quote from the page, with a catalog item.
    br.get("/dashboard/quotes/new").await.has("Stark Industries").has("Ulysses Jordan");
    let missing = br.post("/dashboard/quotes", &[("name", "No customer")]).await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    missing.has("id=\"f-customerCompanyId-error\"").has("is required");
    let made = br
        .post(
            "/dashboard/quotes",
            &[
                ("name", "Yearly Upgrade"),
                ("customerCompanyId", &stark),
                ("customerId", &users[0]),
                ("currency", "USD"),
                ("items[0].pricingPlanId", &plans.yearly),
                ("items[0].units[0].quantity", "2"),
                ("items[0].units[0].unit", "USER"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let new_quote = id_in(&made, "quotes");
    let (_, nq) = app.read(&format!("{OPP}/{new_quote}"), &r.api_key).await;
    assert_eq!((nq["name"].clone(), nq["totalFee"].clone()), (json!("Yearly Upgrade"), json!("USD200.00")), "{nq}");

    // Subscriptions: the list, one subscription, its moves.
    let subs = br.get("/dashboard/subscriptions").await;
    assert_eq!(subs.status, 200, "{}", subs.body);
    subs.has("Other").has("Basic").has("$6.00 a month").has("Stark Industries").lacks("Wayne Enterprises");
    br.get(&format!("/dashboard/subscriptions?customerCompanyId={stark}&status=ACTIVE&paidStatus=PAID"))
        .await
        .has("Basic");
    br.get("/dashboard/subscriptions?status=CANCELLED").await.lacks("Basic");
    assert_eq!(br.get("/dashboard/subscriptions?paidStatus=CHEAP").await.status, 422);
    let one = br.get(&format!("/dashboard/subscriptions/{sub}")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    one.has("2 × User").has("$6.00").has("Orders and invoices").has("Bought").has("Cancel subscription");
    let bad_change = br
        .post(
            &format!("/dashboard/subscriptions/{sub}/change"),
            &[("paymentPlanId", &plans.other_product), ("orderLines[0].quantity", "x"), ("orderLines[0].unit", "USER")],
        )
        .await;
    assert_eq!(bad_change.status, 422, "{}", bad_change.body);
    bad_change.has("id=\"f-orderLines-0--quantity-error\"");
    let changed = br
        .post(
            &format!("/dashboard/subscriptions/{sub}/change"),
            &[("paymentPlanId", &plans.other_product), ("orderLines[0].quantity", "4"), ("orderLines[0].unit", "USER")],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    let (_, got) = app.read(&format!("{AR}/subscriptions/{sub}"), &r.api_key).await;
    assert_eq!(got["activeOrder"]["totalFee"], "USD12.00", "{got}");
    br.follow(&changed).await.has("4 × User").has("$12.00").has("Changed");
    let cancelled = br.post(&format!("/dashboard/subscriptions/{sub}/cancel"), &[]).await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    assert_eq!(app.read(&format!("{AR}/subscriptions/{sub}"), &r.api_key).await.1["status"], "CANCELLED");
    br.follow(&cancelled).await.has("badge-cancelled").lacks("Cancel subscription");

    // Another partner's quote and subscription are not found, and stay as they were.
    assert_eq!(br.get(&format!("/dashboard/quotes/{other_quote}")).await.status, 404);
    assert_eq!(br.post(&format!("/dashboard/quotes/{other_quote}/finalize"), &[]).await.status, 404);
    assert_eq!(br.get(&format!("/dashboard/subscriptions/{other_sub}")).await.status, 404);
    assert_eq!(br.post(&format!("/dashboard/subscriptions/{other_sub}/cancel"), &[]).await.status, 404);
    assert_eq!(app.read(&format!("{AR}/subscriptions/{other_sub}"), &other.api_key).await.1["status"], "ACTIVE");
    assert_eq!(app.read(&format!("{OPP}/{other_quote}"), &other.api_key).await.1["status"], "OPEN");
    // Subscriptions and new quotes are the partners' pages.
    assert_eq!(op.get("/dashboard/subscriptions").await.status, 403);
    assert_eq!(op.get("/dashboard/quotes/new").await.status, 403);
});
