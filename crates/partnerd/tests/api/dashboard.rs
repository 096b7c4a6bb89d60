//! The dashboard over HTTP: sign-in through an invitation, sessions, CSRF, the sign-in limit,
//! API keys, and what a partner may not see. (`browser.rs` drives the same pages in Chromium.)
//! `Browserless` is the client the page modules' tests use.

use crate::common::*;
use partnerd_services::users::{LinkPurpose, NewUserIn};
use serde_json::json;
use std::collections::BTreeMap;

/// A browser without a browser: keeps cookies, follows nothing, and fills each form's CSRF
/// token from the last page it read.
pub struct Browserless {
    pub base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// Panics unless the body contains `text` (HTML-escaped text is compared as it is sent).
    pub fn has(&self, text: &str) -> &Self {
        assert!(self.body.contains(text), "expected {text:?} in the page ({}):\n{}", self.status, self.body);
        self
    }

    pub fn lacks(&self, text: &str) -> &Self {
        assert!(!self.body.contains(text), "did not expect {text:?} in the page:\n{}", self.body);
        self
    }
}

/// The first `name="csrf" value="…"` of a page.
pub fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[at..].split('"').next()?.to_owned())
}

impl Browserless {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browserless { base: app.base.clone(), client, cookies: BTreeMap::new(), csrf: None }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let body = r.text().await.unwrap();
        if let Some(t) = csrf_of(&body) {
            self.csrf = Some(t);
        }
        Page { status, location, body }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Posts a form with the CSRF token of the last page read.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form, &[]).await
    }

    /// Posts exactly these fields and headers (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req =
            self.client.post(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        self.finish(r).await
    }

    /// Follows a redirect's `Location` with a GET.
    pub async fn follow(&mut self, page: &Page) -> Page {
        let to = page.location.clone().unwrap_or_else(|| panic!("no redirect ({}): {}", page.status, page.body));
        self.get(&to).await
    }
}

pub const PASSWORD: &str = "a long enough passphrase";

/// An invitation link's path for `email` (an existing user).
pub async fn invitation_path(app: &TestApp, email: &str, place: Option<NewUserIn>) -> String {
    let link = app
        .server
        .services
        .users()
        .issue_link(&app.marketplace_id(), email, LinkPurpose::Invitation, place)
        .await
        .unwrap();
    format!("/dashboard/invitation/{}", link.token)
}

/// A signed-in browserless client for the user with `email`, after accepting an invitation.
pub async fn signed_in(app: &TestApp, email: &str) -> Browserless {
    let path = invitation_path(app, email, None).await;
    let mut b = Browserless::new(app);
    b.get(&path).await.has(email);
    let done = b.post(&path, &[("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(b.cookies.contains_key("pd_session"));
    b.get("/dashboard/settings/api-keys").await;
    b
}

/// The operator, signed in.
pub async fn operator(app: &TestApp) -> Browserless {
    signed_in(app, partnerd_services::partners::OPERATOR_EMAIL).await
}

on_both_backends!(an_invitation_sets_a_password_once_and_signs_in, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let path = invitation_path(&app, "admin@acme.com", None).await;

    let mut b = Browserless::new(&app);
    // Without a session the dashboard sends the browser to sign in, keeping where it was going.
    let r = b.get("/dashboard/listings").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/dashboard/sign-in?next=%2Fdashboard%2Flistings"));

    let form = b.get(&path).await;
    form.has("admin@acme.com").has("name=\"password_confirmation\"");
    // Field errors come back beside their fields, and the link stays usable.
    let bad = b.post(&path, &[("password", "short"), ("password_confirmation", "other")]).await;
    assert_eq!(bad.status, 422);
    bad.has("must be at least 12 characters").has("does not match the password").has("aria-invalid=\"true\"");
    let ok = b.post(&path, &[("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/dashboard/"));
    let keys = b.get("/dashboard/settings/api-keys").await;
    assert_eq!(keys.status, 200);
    keys.has("Acme Corp").has("admin@acme.com");

    // The link is spent: a second browser cannot use it.
    let mut other = Browserless::new(&app);
    let again = other.get(&path).await;
    assert_eq!(again.status, 410);
    let reuse = other.post(&path, &[("password", PASSWORD), ("password_confirmation", PASSWORD)]).await;
    assert!(reuse.status == 410 || reuse.status == 403, "{}", reuse.status);

    // Sign out, then sign in with the password.
    let out = b.post("/dashboard/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert!(!b.cookies.contains_key("pd_session"));
    assert_eq!(b.get("/dashboard/settings/api-keys").await.status, 303);
    b.get("/dashboard/sign-in").await.has("name=\"csrf\"");
    let wrong = b.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", "not the password")]).await;
    assert_eq!(wrong.status, 401);
    wrong.has("The e-mail or the password is wrong.");
    let signed = b
        .post(
            "/dashboard/sign-in",
            &[("email", "ADMIN@acme.com"), ("password", PASSWORD), ("next", "/dashboard/settings/api-keys")],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.location.as_deref(), Some("/dashboard/settings/api-keys"));
    let cookie = app.server.services.users().all(&app.marketplace_id()).await.unwrap();
    assert!(cookie.iter().any(|u| u.user_id == acme.user_id && u.has_password));
    // An expired invitation is refused.
    let late = invitation_path(&app, "admin@acme.com", None).await;
    app.clock.advance(chrono::Duration::days(8));
    assert_eq!(Browserless::new(&app).get(&late).await.status, 410);
});

on_both_backends!(sessions_end_on_sign_out_reset_and_idle_and_are_shared_by_processes, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut first = signed_in(&app, "admin@acme.com").await;
    let mut second = Browserless::new(&app);
    second.get("/dashboard/sign-in").await;
    let r = second.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(second.get("/dashboard/settings/api-keys").await.status, 200);

    // A second server on the same database knows the session (sessions are rows).
    let other = spawn_on(&app.database_url, app.clock.clone(), None).await;
    let mut elsewhere = Browserless::new(&other);
    elsewhere.cookies = first.cookies.clone();
    assert_eq!(elsewhere.get("/dashboard/settings/api-keys").await.status, 200);

    // Signing out ends that browser's session in every process, and only that one.
    first.post("/dashboard/sign-out", &[]).await;
    assert_eq!(elsewhere.get("/dashboard/settings/api-keys").await.status, 303);
    assert_eq!(second.get("/dashboard/settings/api-keys").await.status, 200);

    // "Sign out everywhere" ends every session of the user.
    let mut third = signed_in(&app, "admin@acme.com").await;
    assert_eq!(second.get("/dashboard/settings/api-keys").await.status, 303, "a new password ends old sessions");
    second = Browserless::new(&app);
    second.get("/dashboard/sign-in").await;
    second.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", PASSWORD)]).await;
    assert_eq!(second.get("/dashboard/settings/api-keys").await.status, 200);
    let r = third.post("/dashboard/sign-out-everywhere", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(second.get("/dashboard/settings/api-keys").await.status, 303);
    assert_eq!(third.get("/dashboard/settings/api-keys").await.status, 303);

    // A session unused for longer than the idle limit ends.
    let mut idle = signed_in(&app, "admin@acme.com").await;
    app.clock.advance(partnerd_services::users::SESSION_IDLE + chrono::Duration::minutes(1));
    assert_eq!(idle.get("/dashboard/settings/api-keys").await.status, 303);
    // A form sent after its session ended runs nothing and asks to sign in again.
    let (token, referer) = (idle.csrf.clone().unwrap(), format!("{}/dashboard/settings/api-keys", app.base));
    let form = [("csrf", token.as_str()), ("name", "late")];
    let stale = idle.post_raw("/dashboard/settings/api-keys", &form, &[("referer", referer.as_str())]).await;
    assert_eq!(stale.status, 303, "{}", stale.body);
    assert_eq!(stale.location.as_deref(), Some("/dashboard/sign-in?next=%2Fdashboard%2Fsettings%2Fapi-keys"));
    assert!(!idle.cookies.contains_key("pd_session"), "the dead session's cookie is cleared");
    other.server.stop().await.unwrap();
});

on_both_backends!(forms_without_the_session_token_or_from_another_site_are_refused, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut b = signed_in(&app, "admin@acme.com").await;
    let token = b.csrf.clone().unwrap();
    let before = app.server.services.partners().list_keys(&app.marketplace_id(), &acme.user_id).await.unwrap().len();

    let none = b.post_raw("/dashboard/settings/api-keys", &[("name", "forged")], &[]).await;
    assert_eq!(none.status, 403);
    none.has("security token");
    let wrong =
        b.post_raw("/dashboard/settings/api-keys", &[("csrf", "x".repeat(32).as_str()), ("name", "forged")], &[]).await;
    assert_eq!(wrong.status, 403);
    let cross = b
        .post_raw(
            "/dashboard/settings/api-keys",
            &[("csrf", token.as_str()), ("name", "forged")],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(cross.status, 403);
    cross.has("another site");
    // The sign-in form too: without the double-submit cookie's token it is refused.
    let mut fresh = Browserless::new(&app);
    let r = fresh.post_raw("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", PASSWORD)], &[]).await;
    assert_eq!(r.status, 403);
    assert!(!fresh.cookies.contains_key("pd_session"));
    // Nothing was written.
    assert_eq!(
        app.server.services.partners().list_keys(&app.marketplace_id(), &acme.user_id).await.unwrap().len(),
        before
    );
    // With the token, the same form works.
    let ok = b.post("/dashboard/settings/api-keys", &[("name", "real")]).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // Pages carry the protections browsers enforce.
    let r = reqwest::Client::new().get(format!("{}/dashboard/sign-in", app.base)).send().await.unwrap();
    assert_eq!(header(&r, "x-frame-options"), "DENY");
    assert!(header(&r, "content-security-policy").contains("frame-ancestors 'none'"));
    let cookie = header(&r, "set-cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
});

on_both_backends!(sign_in_attempts_are_limited_per_account_and_per_address, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    app.partner("Acme Corp", "admin@acme.com", "business").await;
    app.partner("Globex", "admin@globex.com", "business").await;
    signed_in(&app, "admin@acme.com").await;
    signed_in(&app, "admin@globex.com").await;
    let mut b = Browserless::new(&app);
    b.get("/dashboard/sign-in").await;
    for _ in 0..partnerd_services::users::MAX_FAILURES_PER_ACCOUNT {
        let r = b.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", "wrong password!")]).await;
        assert_eq!(r.status, 401);
    }
    // Now even the right password is refused for that account, with Retry-After.
    let r = b.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 429);
    r.has("Too many failed sign-ins");
    // Another account from the same address is not locked yet.
    let g = b.post("/dashboard/sign-in", &[("email", "admin@globex.com"), ("password", PASSWORD)]).await;
    assert_eq!(g.status, 303);
    // The window passes.
    app.clock.advance(partnerd_services::users::FAILURE_WINDOW + chrono::Duration::seconds(1));
    let mut later = Browserless::new(&app);
    later.get("/dashboard/sign-in").await;
    let ok = later.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", PASSWORD)]).await;
    assert_eq!(ok.status, 303);

    // Per address: many accounts guessed from one address lock the address.
    let mut guesser = Browserless::new(&app);
    guesser.get("/dashboard/sign-in").await;
    for i in 0..partnerd_services::users::MAX_FAILURES_PER_ADDRESS {
        let email = format!("nobody{i}@example.com");
        let r = guesser.post("/dashboard/sign-in", &[("email", email.as_str()), ("password", "wrong password!")]).await;
        assert_eq!(r.status, 401);
    }
    let r = guesser.post("/dashboard/sign-in", &[("email", "admin@globex.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 429);
});

on_both_backends!(a_partner_manages_its_keys_and_a_revoked_key_stops_at_once, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    app.partner("Acme Corp", "admin@acme.com", "business").await;
    let globex = app.partner("Globex", "admin@globex.com", "business").await;
    let mut b = signed_in(&app, "admin@acme.com").await;

    let bad = b.post("/dashboard/settings/api-keys", &[("name", ""), ("allowed_ips", "not an ip")]).await;
    assert_eq!(bad.status, 422);
    bad.has("must be 1 to 100 characters").has("aria-invalid");
    let created = b
        .post(
            "/dashboard/settings/api-keys",
            &[("name", "CRM sync"), ("allowed_ips", "127.0.0.1\n10.0.0.0/8"), ("expires_at", "2099-01-31")],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let at = created.body.find("id=\"new-key\">").unwrap() + "id=\"new-key\">".len();
    let key = created.body[at..].split('<').next().unwrap().to_owned();
    assert!(key.starts_with("pdk_"), "{key}");
    created.has("CRM sync").has("10.0.0.0/8").has("2099-01-31");
    // Shown once: the list shows only its prefix afterwards.
    b.get("/dashboard/settings/api-keys").await.lacks(&key).has(&key[..12]);

    let (status, profile) = app.read("/api/v1/partners/profile", &key).await;
    assert_eq!(status, 200);
    assert_eq!(profile["data"]["company_name"], "Acme Corp");

    // Another partner's key cannot be revoked from here (not found), and keeps working.
    let r = b.post(&format!("/dashboard/settings/api-keys/{}/revoke", globex.key_id), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.read("/api/v1/partners/profile", &globex.api_key).await.0, 200);

    let id = key.trim_start_matches("pdk_").split('_').next().unwrap();
    let r = b.post(&format!("/dashboard/settings/api-keys/key_{id}/revoke"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    b.follow(&r).await.has("The key was revoked").has("badge-revoked");
    assert_eq!(app.read("/api/v1/partners/profile", &key).await.0, 401);
});

on_both_backends!(partners_are_refused_the_operator_pages_and_suspension_locks_them_out, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let acme = app.partner("Acme Corp", "admin@acme.com", "business").await;
    let mut partner = signed_in(&app, "admin@acme.com").await;
    let r = partner.get("/dashboard/operator/partners").await;
    assert_eq!(r.status, 403, "{}", r.body);
    r.has("Only the marketplace operator");

    // The operator signs in through its own invitation; a new operator user can be invited.
    let mut op = operator(&app).await;
    assert_eq!(op.get("/dashboard/settings/api-keys").await.status, 200);
    let path = invitation_path(&app, "ops@example.com", Some(NewUserIn::Operator)).await;
    assert_eq!(Browserless::new(&app).get(&path).await.status, 200);

    // Suspending the partner refuses its key and its session at once; resuming restores both.
    use partnerd_services::partners::PartnerChange;
    let partners = app.server.services.partners();
    partners
        .update(&app.marketplace_id(), &acme.partner_id, PartnerChange { suspended: Some(true), plan: None })
        .await
        .unwrap();
    assert_eq!(app.read("/api/v1/partners/profile", &acme.api_key).await.0, 403);
    assert_eq!(partner.get("/dashboard/settings/api-keys").await.status, 303);
    // The right password of a suspended partner's user says why there is no session.
    let mut fresh = Browserless::new(&app);
    fresh.get("/dashboard/sign-in").await;
    let r = fresh.post("/dashboard/sign-in", &[("email", "admin@acme.com"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    r.has("suspended");
    assert!(!fresh.cookies.contains_key("pd_session"));
    partners
        .update(&app.marketplace_id(), &acme.partner_id, PartnerChange { suspended: Some(false), plan: None })
        .await
        .unwrap();
    assert_eq!(app.read("/api/v1/partners/profile", &acme.api_key).await.0, 200);
    assert_eq!(partner.get("/dashboard/settings/api-keys").await.status, 200);
    // A plan change applies to the cached key at once.
    let p = partners
        .update(&app.marketplace_id(), &acme.partner_id, PartnerChange { plan: Some("tiny".into()), suspended: None })
        .await
        .unwrap();
    assert_eq!(p.plan, "tiny");
    let (_, profile) = app.read("/api/v1/partners/profile", &acme.api_key).await;
    assert_eq!(profile["data"]["plan"], "tiny");
});

on_both_backends!(
    only_partners_and_the_operator_have_a_dashboard_and_guesses_are_counted_first,
    |backend| async move {
        use partnerd_services::ErrorKind;
        use partnerd_services::users::SignIn;
        let Some(app) = spawn_app(backend).await else { return };
        let m = app.marketplace_id();
        let reseller = enrol(&app, "Reseller A", "a@a.com", &["reseller"]).await;
        const AR: &str = "/api/appReseller/v1";
        let (s, c) =
            app.post(&format!("{AR}/companies?context=RESELLER"), &reseller.api_key, json!({ "name": "Cust" })).await;
        assert_eq!(s, 200, "{c}");
        let body = json!({ "companyId": c["id"], "email": "jane@customer.com" });
        let (s, u) = app.post(&format!("{AR}/users?context=RESELLER"), &reseller.api_key, body).await;
        assert_eq!(s, 200, "{u}");

        // A customer company's user is no partner's and not the operator's: no link, no dashboard.
        let users = app.server.services.users();
        let e = users.issue_link(&m, "jane@customer.com", LinkPurpose::Invitation, None).await.unwrap_err();
        assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "no_dashboard"));
        let e = users.issue_link(&m, "jane@customer.com", LinkPurpose::Reset, None).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        // An existing e-mail is not invited into another company (not even the operator's).
        let e = users.issue_link(&m, "a@a.com", LinkPurpose::Invitation, Some(NewUserIn::Operator)).await.unwrap_err();
        assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "email_taken"));
        let other = app.partner("Globex", "admin@globex.com", "business").await;
        let place = NewUserIn::Partner { partner_id: other.partner_id.clone(), roles: vec![] };
        let e = users.issue_link(&m, "a@a.com", LinkPurpose::Invitation, Some(place)).await.unwrap_err();
        assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "email_taken"));

        // Twelve wrong guesses at once: the password is checked for at most five of them.
        let _ = signed_in(&app, "a@a.com").await;
        let ip: std::net::IpAddr = "203.0.113.9".parse().unwrap();
        let guesses = (0..12).map(|i| {
            let (services, m) = (app.server.services.clone(), m.clone());
            tokio::spawn(async move { services.users().sign_in(&m, "a@a.com", &format!("wrong guess {i}"), ip).await })
        });
        let outcomes: Vec<SignIn> =
            futures_util::future::join_all(guesses).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
        let refused = outcomes.iter().filter(|o| matches!(o, SignIn::Refused)).count();
        let throttled = outcomes.iter().filter(|o| matches!(o, SignIn::Throttled { .. })).count();
        assert!(refused <= 5, "{refused} guesses were checked");
        assert_eq!(refused + throttled, 12);
        // And the right password is throttled too until the window moves.
        let right = users.sign_in(&m, "a@a.com", PASSWORD, ip).await.unwrap();
        assert!(matches!(right, SignIn::Throttled { .. }));
    }
);

on_both_backends!(a_signed_in_user_can_use_a_link_and_assets_carry_no_form_token, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    app.partner("Acme Corp", "admin@acme.com", "business").await;
    // The stylesheet is cacheable, so it must not set anyone's pre-sign-in form token.
    let mut fresh = Browserless::new(&app);
    assert_eq!(fresh.get("/dashboard/assets/style.css").await.status, 200);
    assert!(!fresh.cookies.contains_key("pd_form"), "{:?}", fresh.cookies);
    assert_eq!(fresh.get("/dashboard/sign-in").await.status, 200);
    assert!(fresh.cookies.contains_key("pd_form"), "a page sets it");

    // Signed in, a reset link's form carries the session's token and works.
    let mut b = signed_in(&app, "admin@acme.com").await;
    let m = app.marketplace_id();
    let link = app.server.services.users().issue_link(&m, "admin@acme.com", LinkPurpose::Reset, None).await.unwrap();
    let path = format!("/dashboard/invitation/{}", link.token);
    b.get(&path).await.has("name=\"password_confirmation\"");
    let password = "a brand new passphrase";
    let done = b.post(&path, &[("password", password), ("password_confirmation", password)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(b.get("/dashboard/settings/api-keys").await.status, 200, "signed in with the new session");

    // A malformed form (a field twice) is refused with a dashboard page, not a bare text error.
    let twice = b.post("/dashboard/settings/api-keys", &[("name", "one"), ("name", "two")]).await;
    assert!((400..500).contains(&twice.status), "{}", twice.status);
    twice.has("<!doctype html>").has("The request was refused").has("duplicate field");
    // A form's address visited with a GET is a page too.
    let visit = b.get("/dashboard/sign-out").await;
    assert_eq!(visit.status, 405);
    visit.has("<!doctype html>").has("takes a form");
});

on_both_backends!(a_plan_change_racing_a_suspension_keeps_both, |backend| async move {
    use partnerd_services::partners::PartnerChange;
    let Some(app) = spawn_app(backend).await else { return };
    let m = app.marketplace_id();
    for round in 0..8 {
        let p = app.partner(&format!("Racer {round}"), &format!("admin{round}@racer.com"), "business").await;
        let change = |plan: Option<&str>, suspended: Option<bool>| {
            let (services, m, id) = (app.server.services.clone(), m.clone(), p.partner_id.clone());
            let change = PartnerChange { plan: plan.map(str::to_owned), suspended };
            tokio::spawn(async move { services.partners().update(&m, &id, change).await })
        };
        let (plan, suspend) = (change(Some("enterprise"), None), change(None, Some(true)));
        plan.await.unwrap().unwrap();
        suspend.await.unwrap().unwrap();
        let after = app.server.services.partners().list(&m).await.unwrap();
        let after = after.iter().find(|x| x.id == p.partner_id).unwrap();
        assert_eq!(after.plan, "enterprise", "round {round}: the plan change was lost");
        assert!(after.suspended_at.is_some(), "round {round}: the suspension was lost");
        assert_eq!(app.read("/api/v1/partners/profile", &p.api_key).await.0, 403);
    }
});
