//! Webhooks: the partner's endpoints and a create form (events chosen from the catalog, the
//! signing secret shown once), and one endpoint's page: its facts, edit / disable / delete /
//! rotate, a test send, and the delivery log (newest first, each delivery expandable, with a
//! redeliver button). Every action is the same `webhooks()` service call as the API's
//! `/partners/webhooks…` endpoints.

use crate::Web;
use crate::forms::given;
use crate::html::{
    Field, Nav, action_button, alert, badge, copy_row, csrf_field, done_notice, esc, field_errors, notice,
    other_errors, page, pager, select, table, time, urlenc,
};
use crate::list::{PER_PAGE, offset_of, page_number, pair};
use crate::session::{PageError, PageResult, PartnerUser, html, keep_nav, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_domain::webhooks::{CATALOG, catalog_entry, test_payload};
use partnerd_services::ErrorKind;
use partnerd_services::users::WebSession;
use partnerd_services::webhooks::{NewWebhook, WebhookChange};
use partnerd_store::{DeliveryRecord, WebhookRecord};
use partnerd_store::{Paged, Window};
use std::fmt::Write;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/webhooks", get(list_page).post(create))
        .route("/webhooks/{id}", get(detail).post(update))
        .route("/webhooks/{id}/test", post(send_test))
        .route("/webhooks/{id}/active", post(set_active))
        .route("/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/webhooks/{id}/delete", post(delete))
        .route("/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(redeliver))
}

fn hook_path(id: &str) -> String {
    format!("/dashboard/webhooks/{}", urlenc(id))
}

/// The create / edit form as typed: `events` is every checked box.
#[derive(Default)]
struct HookForm {
    url: String,
    events: Vec<String>,
    secret: String,
}

impl HookForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        HookForm {
            url: pair(pairs, "url").trim().to_owned(),
            events: pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect(),
            secret: pair(pairs, "secret").to_owned(),
        }
    }

    fn of(w: &WebhookRecord) -> Self {
        HookForm { url: w.url.clone(), events: w.events.clone(), secret: String::new() }
    }
}

/// The catalog as checkboxes, in a fieldset carrying the `events` errors.
fn event_boxes(prefix: &str, checked: &[String], errors: Option<&ValidationErrors>) -> String {
    let messages = field_errors(errors, "events");
    let invalid = if messages.is_empty() { "" } else { " aria-invalid=\"true\" aria-describedby=\"events-error\"" };
    let mut out = format!(
        "<fieldset class=\"webhook-events\" id=\"{prefix}-events\"{invalid}><legend>Events</legend>\
         <p class=\"muted\">Deliveries are sent for the events you choose.</p>"
    );
    if !messages.is_empty() {
        let _ = write!(out, "<p class=\"error\" id=\"events-error\">{}</p>", esc(&messages.join("; ")));
    }
    out.push_str("<ul>");
    for e in CATALOG {
        let id = format!("{prefix}-ev-{}", e.name.replace(['.', '_'], "-"));
        let on = if checked.iter().any(|c| c == e.name) { " checked" } else { "" };
        let _ = write!(
            out,
            "<li><input type=\"checkbox\" name=\"events\" value=\"{name}\" id=\"{id}\"{on}>\
             <label for=\"{id}\"><code>{name}</code> <small>{desc}</small></label></li>",
            name = esc(e.name),
            desc = esc(e.description),
        );
    }
    // Names that are not in the catalog (typed by hand) stay visible with their error.
    for c in checked.iter().filter(|c| catalog_entry(c).is_none()) {
        let _ = write!(
            out,
            "<li><input type=\"checkbox\" name=\"events\" value=\"{0}\" id=\"{prefix}-ev-unknown\" checked>\
             <label for=\"{prefix}-ev-unknown\"><code>{0}</code> <small>(not in the catalog)</small></label></li>",
            esc(c)
        );
    }
    out.push_str("</ul></fieldset>");
    out
}

fn active_badge(w: &WebhookRecord) -> String {
    badge(if w.active { "active" } else { "disabled" })
}

fn secret_card(secret: &str, what: &str) -> String {
    format!(
        "<section class=\"card secret\" aria-labelledby=\"secret-h\"><h2 id=\"secret-h\">{}</h2>\
         <p>Copy it now and store it where your receiver can read it: it is shown only this once.</p>\
         {}\
         <p class=\"muted\">Deliveries are signed with it (<code>X-Vellocity-Signature</code> and the Standard Webhooks headers).</p></section>",
        esc(what),
        copy_row("new-secret", secret)
    )
}

// ---------------------------------------------------------------------------------------------
// The list and the create form

async fn render_list(
    web: &Web,
    s: &Arc<WebSession>,
    status: StatusCode,
    top: &str,
    form: &HookForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let hooks = web.services.webhooks().list(&s.principal).await.map_err(keep_nav(s))?;
    let rows: Vec<Vec<String>> = hooks
        .iter()
        .map(|w| {
            let shown: Vec<String> = w.events.iter().take(3).map(|e| format!("<code>{}</code>", esc(e))).collect();
            let more = w.events.len().saturating_sub(3);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            vec![
                format!("<a href=\"{}\">{}</a>", hook_path(&w.id), esc(&w.url)),
                format!("{}{more}", shown.join(", ")),
                active_badge(w),
                time(w.created_at),
            ]
        })
        .collect();
    let mut body = String::from(top);
    let _ = write!(
        body,
        "<section aria-labelledby=\"hooks-h\"><h2 id=\"hooks-h\">Your endpoints</h2>{}</section>",
        table("Webhook endpoints, oldest first", &["URL", "Events", "Status", "Created"], &rows, "No webhooks yet.")
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"new-hook-h\"><h2 id=\"new-hook-h\">Add an endpoint</h2>{}\
         <form method=\"post\" action=\"/dashboard/webhooks\" class=\"card\" novalidate>{}{}{}{}\
         <button type=\"submit\" id=\"create-webhook\">Add endpoint</button></form></section>",
        other_errors(errors, &["url", "events", "secret"]),
        csrf_field(&s.csrf_token),
        Field::text("url", "Endpoint URL", &form.url)
            .kind("url")
            .required()
            .hint("Where deliveries are POSTed; must be https.")
            .render(errors),
        event_boxes("new", &form.events, errors),
        Field::text("secret", "Signing secret (optional)", "")
            .hint("16–200 characters. Leave it empty to have a strong whsec_… secret generated.")
            .extra("autocomplete=\"off\"")
            .render(errors),
    );
    Ok(html(status, page(Some(s), "Webhooks", Nav::Webhooks, &body)))
}

async fn list_page(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let top = done_notice(
        pair(&q, "done"),
        &[("deleted", "The webhook was deleted: nothing more is sent to it. Its delivery log is kept.")],
    );
    render_list(&web, &s, StatusCode::OK, &top, &HookForm::default(), None).await
}

async fn create(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = HookForm::from_pairs(&pairs);
    let input =
        NewWebhook { url: Some(form.url.clone()), events: Some(form.events.clone()), secret: given(&form.secret) };
    match web.services.webhooks().create(&s.principal, input).await {
        Ok((w, secret)) => {
            let top = format!(
                "{}{}<p><a href=\"{}\" id=\"created-webhook\">Open the new webhook</a></p>",
                notice("The webhook was added."),
                secret_card(&secret, "Its signing secret"),
                hook_path(&w.id)
            );
            render_list(&web, &s, StatusCode::CREATED, &top, &HookForm::default(), None).await
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            render_list(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &form, Some(&e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

// ---------------------------------------------------------------------------------------------
// One endpoint

/// What the page shows besides the endpoint: a notice on top, forms as typed with their errors.
struct Shown<'a> {
    status: StatusCode,
    top: String,
    page: u64,
    edit: Option<(&'a HookForm, &'a ValidationErrors)>,
    test: Option<(&'a str, &'a ValidationErrors)>,
}

impl Shown<'_> {
    fn ok(top: String, page: u64) -> Self {
        Shown { status: StatusCode::OK, top, page, edit: None, test: None }
    }
}

/// The body sent, when it can be rebuilt exactly: a test send's is the event's catalog sample
/// with the delivery's own id and time. Other deliveries carry their event's stored data, which
/// the delivery log does not keep.
fn payload_of(d: &DeliveryRecord) -> Option<String> {
    if !d.is_test {
        return None;
    }
    let entry = catalog_entry(&d.event_type)?;
    let body = test_payload(&d.event_id, entry, d.created_at);
    let pretty = serde_json::from_str::<serde_json::Value>(&body).and_then(|v| serde_json::to_string_pretty(&v));
    Some(pretty.unwrap_or(body))
}

fn delivery_details(d: &DeliveryRecord) -> String {
    let mut out = format!(
        "<details class=\"delivery\" id=\"delivery-{id}\"><summary>Payload and attempts</summary>\
         <dl class=\"facts\"><dt>Delivery</dt><dd><code>{id}</code></dd><dt>Event ID</dt><dd><code>{}</code></dd>",
        esc(&d.event_id),
        id = esc(&d.id),
    );
    if let Some(of) = &d.redelivery_of {
        let _ = write!(out, "<dt>Sends again</dt><dd><code>{}</code></dd>", esc(of));
    }
    if let Some(t) = d.completed_at {
        let _ = write!(out, "<dt>Completed</dt><dd>{}</dd>", time(t));
    }
    if let (Some(t), "pending") = (d.next_attempt_at, d.status.as_str()) {
        let _ = write!(out, "<dt>Next attempt</dt><dd>{}</dd>", time(t));
    }
    let _ = write!(
        out,
        "<dt>Last response</dt><dd>{}</dd></dl>",
        match (d.last_status_code, &d.last_error) {
            (Some(c), Some(e)) => format!("HTTP {c} · {}", esc(e)),
            (Some(c), None) => format!("HTTP {c}"),
            (None, Some(e)) => esc(e).to_string(),
            (None, None) => "none yet".to_owned(),
        }
    );
    match payload_of(d) {
        Some(p) => {
            let _ = write!(out, "<h3>Payload</h3><pre class=\"payload\"><code>{}</code></pre>", esc(&p));
        }
        None => {
            let _ = write!(
                out,
                "<p class=\"muted\">Payload: <code>{{\"id\", \"type\", \"timestamp\", \"data\"}}</code> with the <code>{}</code> event's data \
                 (see the event catalog for its fields); the log keeps the outcome, not the data.</p>",
                esc(&d.event_type)
            );
        }
    }
    if d.log.is_empty() {
        out.push_str("<p class=\"empty\">No attempt yet.</p>");
    } else {
        out.push_str("<h3>Attempts</h3><ol class=\"attempts\">");
        for a in &d.log {
            let code = a.status_code.map_or_else(|| "no response".to_owned(), |c| format!("HTTP {c}"));
            let error = a.error.as_deref().map(|e| format!(" · {}", esc(e))).unwrap_or_default();
            let retry = a.next_retry_at.map(|t| format!(" · next retry {}", time(t))).unwrap_or_default();
            let _ = write!(out, "<li>{} · {code} · {} ms{error}{retry}</li>", time(a.attempted_at), a.latency_ms);
        }
        out.push_str("</ol>");
    }
    out.push_str("</details>");
    out
}

fn delivery_row(w: &WebhookRecord, d: &DeliveryRecord, csrf: &str) -> Vec<String> {
    let mut event = format!("<code>{}</code>", esc(&d.event_type));
    if d.is_test {
        event.push_str(" <span class=\"badge\">test</span>");
    }
    if d.redelivery_of.is_some() {
        event.push_str(" <span class=\"badge\">redelivery</span>");
    }
    let response = d.last_status_code.map_or_else(|| "—".to_owned(), |c| c.to_string());
    // Test sends are not sent again (the API refuses them); a disabled endpoint receives nothing.
    let action = if d.is_test || !w.active {
        String::new()
    } else {
        action_button(
            &format!("{}/deliveries/{}/redeliver", hook_path(&w.id), urlenc(&d.id)),
            csrf,
            "Redeliver",
            "secondary redeliver",
            &[],
        )
    };
    vec![event, badge(&d.status), d.attempts.to_string(), response, time(d.created_at), delivery_details(d), action]
}

async fn render_detail(web: &Web, s: &Arc<WebSession>, id: &str, shown: Shown<'_>) -> PageResult {
    let hooks = web.services.webhooks();
    let w = hooks.get(&s.principal, id).await.map_err(keep_nav(s))?;
    let offset = offset_of(shown.page, PER_PAGE);
    let Paged { items: deliveries, total, .. } =
        hooks.deliveries(&s.principal, &w.id, &Window::Offset(offset), PER_PAGE).await.map_err(keep_nav(s))?;
    let path = hook_path(&w.id);
    let csrf = &s.csrf_token;
    let mut body = format!("<p><a href=\"/dashboard/webhooks\">← All webhooks</a></p>{}", shown.top);

    let events: Vec<String> = w.events.iter().map(|e| format!("<li><code>{}</code></li>", esc(e))).collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"facts-h\"><h2 id=\"facts-h\">Endpoint</h2><dl class=\"facts\">\
         <dt>URL</dt><dd><code>{}</code></dd><dt>Status</dt><dd id=\"webhook-status\">{}</dd>\
         <dt>Events</dt><dd><ul class=\"webhook-event-list\">{}</ul></dd>\
         <dt>Created</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd><dt>ID</dt><dd><code>{}</code></dd></dl>",
        esc(&w.url),
        active_badge(&w),
        events.concat(),
        time(w.created_at),
        time(w.updated_at),
        esc(&w.id),
    );
    let (toggle_label, toggle_value) = if w.active { ("Disable", "false") } else { ("Enable", "true") };
    let _ = write!(
        body,
        "<div class=\"webhook-actions\">{}{}{}</div>{}</section>",
        action_button(&format!("{path}/active"), csrf, toggle_label, "secondary", &[("active", toggle_value)]),
        action_button(&format!("{path}/rotate-secret"), csrf, "Rotate secret", "secondary", &[]),
        action_button(&format!("{path}/delete"), csrf, "Delete", "danger", &[]),
        if w.active {
            ""
        } else {
            "<p class=\"muted\">Disabled: no delivery is sent to it, and pending ones were cancelled.</p>"
        },
    );

    // The test send: any catalog event, the subscribed ones first.
    let (test_event, test_errors) = match shown.test {
        Some((e, errs)) => (e, Some(errs)),
        None => (w.events.first().map_or("", String::as_str), None),
    };
    let mut options: Vec<(&str, &str)> = w.events.iter().map(|e| (e.as_str(), e.as_str())).collect();
    options.extend(CATALOG.iter().filter(|c| !w.events.iter().any(|e| e == c.name)).map(|c| (c.name, c.name)));
    let _ = write!(
        body,
        "<section aria-labelledby=\"test-h\"><h2 id=\"test-h\">Send a test event</h2>\
         <p class=\"muted\">A sample of the event, marked <code>\"test\": true</code> and signed like any delivery, sent now and logged below. Tests are not retried.</p>\
         <form method=\"post\" action=\"{path}/test\" class=\"filters\">{}{}\
         <div class=\"field\"><button type=\"submit\" id=\"send-test\">Send test event</button></div></form></section>",
        csrf_field(csrf),
        select("event", "Event", &options, test_event, test_errors),
    );

    let _ = write!(body, "<section aria-labelledby=\"log-h\"><h2 id=\"log-h\">Delivery log</h2>");
    let rows: Vec<Vec<String>> = deliveries.iter().map(|d| delivery_row(&w, d, csrf)).collect();
    let log = table(
        "Deliveries, newest first",
        &["Event", "Status", "Attempts", "Response", "Time", "Details", ""],
        &rows,
        "No deliveries yet.",
    );
    let _ = write!(
        body,
        "<div id=\"deliveries\">{log}</div>{}</section>",
        pager(&path, "", shown.page, u64::from(PER_PAGE), total)
    );

    let current = HookForm::of(&w);
    let (form, errors) = match shown.edit {
        Some((f, e)) => (f, Some(e)),
        None => (&current, None),
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"edit-h\"><h2 id=\"edit-h\">Change the endpoint</h2>{}\
         <form method=\"post\" action=\"{path}\" class=\"card\" novalidate>{}{}{}\
         <button type=\"submit\" id=\"update-webhook\">Save changes</button></form></section>",
        other_errors(errors, &["url", "events"]),
        csrf_field(csrf),
        Field::text("url", "Endpoint URL", &form.url).kind("url").required().render(errors),
        event_boxes("edit", &form.events, errors),
    );
    Ok(html(shown.status, page(Some(s), "Webhook", Nav::Webhooks, &body)))
}

async fn detail(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let code = pair(&q, "code").parse::<u16>().ok();
    let top = match (pair(&q, "done"), code) {
        ("test-delivered", Some(c)) => notice(&format!("The test event was delivered (HTTP {c}).")),
        ("test-delivered", None) => notice("The test event was delivered."),
        ("test-failed", Some(c)) => {
            alert(&format!("The test event was not accepted (HTTP {c}). The log below has the details."))
        }
        ("test-failed", None) => alert("The test event could not be delivered. The log below has the details."),
        ("redelivered", _) => notice("The event will be sent again as a new delivery."),
        ("updated", _) => notice("The webhook was saved."),
        ("disabled", _) => notice("The webhook was disabled: pending deliveries were cancelled."),
        ("enabled", _) => notice("The webhook was enabled."),
        _ => String::new(),
    };
    render_detail(&web, &s, &id, Shown::ok(top, page_number(pair(&q, "page")))).await
}

async fn update(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = HookForm::from_pairs(&pairs);
    let change = WebhookChange { url: Some(form.url.clone()), events: Some(form.events.clone()), active: None };
    match web.services.webhooks().update(&s.principal, &id, change).await {
        Ok(w) => Ok(see_other(&format!("{}?done=updated", hook_path(&w.id)))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                edit: Some((&form, &e.fields)),
                ..Shown::ok(alert("The changes were not saved: correct the fields marked below."), 1)
            };
            render_detail(&web, &s, &id, shown).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn send_test(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let event = pair(&pairs, "event").trim().to_owned();
    match web.services.webhooks().test(&s.principal, &id, &event).await {
        Ok(out) => {
            let done = if out.delivered { "test-delivered" } else { "test-failed" };
            let code = out.status_code.map(|c| format!("&code={c}")).unwrap_or_default();
            Ok(see_other(&format!("{}?done={done}{code}", hook_path(&id))))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                test: Some((&event, &e.fields)),
                ..Shown::ok(String::new(), 1)
            };
            render_detail(&web, &s, &id, shown).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn set_active(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let active = pair(&pairs, "active") == "true";
    let change = WebhookChange { url: None, events: None, active: Some(active) };
    match web.services.webhooks().update(&s.principal, &id, change).await {
        Ok(w) => {
            let done = if active { "enabled" } else { "disabled" };
            Ok(see_other(&format!("{}?done={done}", hook_path(&w.id))))
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn rotate_secret(State(web): State<Web>, PartnerUser(s): PartnerUser, Path(id): Path<String>) -> PageResult {
    match web.services.webhooks().rotate_secret(&s.principal, &id, None).await {
        Ok((w, secret)) => {
            let top = format!(
                "{}{}",
                notice("The secret was replaced: the old one no longer signs deliveries."),
                secret_card(&secret, "The new signing secret")
            );
            render_detail(&web, &s, &w.id, Shown::ok(top, 1)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn delete(State(web): State<Web>, PartnerUser(s): PartnerUser, Path(id): Path<String>) -> PageResult {
    match web.services.webhooks().delete(&s.principal, &id).await {
        Ok(()) => Ok(see_other("/dashboard/webhooks?done=deleted")),
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn redeliver(
    State(web): State<Web>,
    PartnerUser(s): PartnerUser,
    Path((id, delivery_id)): Path<(String, String)>,
) -> PageResult {
    match web.services.webhooks().redeliver(&s.principal, &id, &delivery_id).await {
        Ok(_) => Ok(see_other(&format!("{}?done=redelivered", hook_path(&id)))),
        Err(e) if e.kind == ErrorKind::Conflict => {
            let top = alert("Nothing was sent: the webhook is disabled. Enable it first.");
            render_detail(&web, &s, &id, Shown { status: StatusCode::CONFLICT, ..Shown::ok(top, 1) }).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_checked_box_is_an_event() {
        let pairs: Vec<(String, String)> = [("url", " https://x.example/h "), ("events", "a"), ("events", "b")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let f = HookForm::from_pairs(&pairs);
        assert_eq!((f.url.as_str(), f.events.clone()), ("https://x.example/h", vec!["a".to_owned(), "b".to_owned()]));
        let boxes = event_boxes("new", &["listing.created".to_owned(), "<x>".to_owned()], None);
        assert!(boxes.contains("value=\"listing.created\" id=\"new-ev-listing-created\" checked"));
        assert!(boxes.contains("&lt;x&gt;") && !boxes.contains("<x>"));
    }

    #[test]
    fn a_test_payload_is_rebuilt_as_sent() {
        let at = chrono::DateTime::parse_from_rfc3339("2025-01-15T10:30:00Z").unwrap().with_timezone(&chrono::Utc);
        let d = DeliveryRecord {
            id: "dlv_1".into(),
            marketplace_id: "m".into(),
            partner_id: "p".into(),
            webhook_id: "w".into(),
            event_id: "evt_test_1".into(),
            event_type: "listing.updated".into(),
            is_test: true,
            status: "delivered".into(),
            attempts: 1,
            next_attempt_at: None,
            last_status_code: Some(200),
            last_error: None,
            redelivery_of: None,
            created_at: at,
            completed_at: Some(at),
            log: vec![],
        };
        let p: serde_json::Value = serde_json::from_str(&payload_of(&d).unwrap()).unwrap();
        assert_eq!((p["id"].as_str(), p["test"].as_bool()), (Some("evt_test_1"), Some(true)));
        assert_eq!(p["timestamp"], "2025-01-15T10:30:00Z");
        assert!(payload_of(&DeliveryRecord { is_test: false, ..d }).is_none());
    }
}
