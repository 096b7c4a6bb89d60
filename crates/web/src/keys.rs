//! Settings > API keys: generate (shown exactly once), list by prefix, revoke. The same use
//! cases as the CLI's `keys create` / `keys revoke`, so a revoked key stops working on the API
//! at once in this process and within the poll interval elsewhere.

use crate::Web;
use crate::forms::comma_list;
use crate::html::{
    Field, Nav, action_button, badge, copy_row, csrf_field, esc, notice, other_errors, page, table, time,
};
use crate::session::{PageError, PageResult, Signed, html, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_services::users::WebSession;
use partnerd_store::ApiKeyRecord;
use serde::Deserialize;
use std::fmt::Write;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/settings/api-keys", get(keys_page).post(create_key))
        .route("/settings/api-keys/{id}/revoke", post(revoke_key))
}

#[derive(Deserialize, Default)]
pub(crate) struct KeysQuery {
    #[serde(default)]
    revoked: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    allowed_ips: String,
    #[serde(default)]
    expires_at: String,
}

/// `YYYY-MM-DD` (end of that day, UTC) or `YYYY-MM-DDTHH:MM` (a `datetime-local`, UTC), or
/// RFC 3339.
fn parse_expiry(raw: &str) -> Result<Option<DateTime<Utc>>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(d.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M") {
        return Ok(Some(d.and_utc()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(23, 59, 59).map(|x| x.and_utc()));
    }
    Err("must be a date (YYYY-MM-DD) or a date and time".to_owned())
}

/// A key's prefix, name, creation and expiry cells (here and on the operator's partner page).
pub(crate) fn key_cells(k: &ApiKeyRecord) -> Vec<String> {
    vec![
        format!("<code>{}…</code>", esc(&k.display_prefix)),
        esc(&k.name).to_string(),
        time(k.created_at),
        k.expires_at.map_or_else(|| "never".to_owned(), time),
    ]
}

/// A key's state as a badge: revoked, expired (at `now`) or active.
pub(crate) fn key_state(k: &ApiKeyRecord, now: DateTime<Utc>) -> String {
    match (k.revoked_at, k.expires_at) {
        (Some(_), _) => badge("revoked"),
        (None, Some(e)) if e <= now => badge("expired"),
        _ => badge("active"),
    }
}

async fn render(
    web: &Web,
    s: &WebSession,
    status: StatusCode,
    top: &str,
    form: &KeyForm,
    errors: Option<&ValidationErrors>,
) -> PageResult {
    let keys = web.services.partners().own_keys(&s.principal).await?;
    let now = web.services.now();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .rev()
        .map(|k| {
            let action = if k.revoked_at.is_none() {
                action_button(
                    &format!("/dashboard/settings/api-keys/{}/revoke", k.id),
                    &s.csrf_token,
                    "Revoke",
                    "danger",
                    &[],
                )
            } else {
                String::new()
            };
            let mut cells = key_cells(k);
            cells.push(if k.allowed_ips.is_empty() {
                "any".to_owned()
            } else {
                esc(&k.allowed_ips.join(", ")).to_string()
            });
            cells.extend([key_state(k, now), action]);
            cells
        })
        .collect();
    let mut body = String::from(top);
    let _ = write!(
        body,
        "<section aria-labelledby=\"new-key-h\"><h2 id=\"new-key-h\">Generate a new key</h2>{}\
         <form method=\"post\" action=\"/dashboard/settings/api-keys\" class=\"card\">{}{}{}{}\
         <button type=\"submit\" id=\"generate-key\">Generate new key</button></form></section>",
        other_errors(errors, &["name", "allowed_ips", "expires_at"]),
        csrf_field(&s.csrf_token),
        Field::text("name", "Name", &form.name)
            .required()
            .hint("What the key is for, e.g. \"CRM sync\".")
            .render(errors),
        Field::text("allowed_ips", "Allowed IP addresses (optional)", &form.allowed_ips)
            .kind("textarea")
            .hint("One address or CIDR range per line (e.g. 203.0.113.0/24). Empty: any address.")
            .extra("rows=\"2\"")
            .render(errors),
        Field::text("expires_at", "Expires (optional)", &form.expires_at)
            .kind("date")
            .hint("The key stops working at the end of this day (UTC).")
            .render(errors),
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"keys-h\"><h2 id=\"keys-h\">Your keys</h2>{}</section>",
        table("API keys", &["Key", "Name", "Created", "Expires", "Allowed IPs", "Status", ""], &rows, "No keys yet.")
    );
    let _ = write!(
        body,
        "<section><h2>Everywhere</h2><p>Signed in on another computer you no longer use?</p>\
         <form method=\"post\" action=\"/dashboard/sign-out-everywhere\">{}<button type=\"submit\" class=\"secondary\">Sign out everywhere</button></form></section>",
        csrf_field(&s.csrf_token)
    );
    Ok(html(status, page(Some(s), "API keys", Nav::Keys, &body)))
}

async fn keys_page(State(web): State<Web>, Signed(s): Signed, Query(q): Query<KeysQuery>) -> PageResult {
    let top = if q.revoked.is_some() {
        notice("The key was revoked. Requests with it are refused from now on.")
    } else {
        String::new()
    };
    render(&web, &s, StatusCode::OK, &top, &KeyForm::default(), None).await
}

async fn create_key(State(web): State<Web>, Signed(s): Signed, Form(form): Form<KeyForm>) -> PageResult {
    let ips: Vec<String> = comma_list(&form.allowed_ips);
    let expires = match parse_expiry(&form.expires_at) {
        Ok(e) => e,
        Err(m) => {
            let errors = ValidationErrors::single("expires_at", m);
            return render(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &form, Some(&errors)).await;
        }
    };
    match web.services.partners().create_own_key(&s.principal, &form.name, ips, expires).await {
        Ok(created) => {
            let top = format!(
                "<section class=\"card secret\" aria-labelledby=\"created-h\"><h2 id=\"created-h\">Your new key</h2>\
                 <p>Copy it now and store it securely: it is shown only this once.</p>\
                 {}<p class=\"muted\">Send it as <code>Authorization: Bearer …</code>.</p></section>",
                copy_row("new-key", &created.api_key)
            );
            render(&web, &s, StatusCode::CREATED, &top, &KeyForm::default(), None).await
        }
        Err(e) if e.kind == partnerd_services::ErrorKind::Invalid => {
            render(&web, &s, StatusCode::UNPROCESSABLE_ENTITY, "", &form, Some(&e.fields)).await
        }
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

async fn revoke_key(State(web): State<Web>, Signed(s): Signed, Path(id): Path<String>) -> PageResult {
    match web.services.partners().revoke_own_key(&s.principal, &id).await {
        Ok(_) => Ok(see_other("/dashboard/settings/api-keys?revoked=1")),
        Err(e) => Err(PageError::from(e).with_session(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_accepts_the_date_input_and_refuses_garbage() {
        assert_eq!(parse_expiry("").unwrap(), None);
        assert_eq!(parse_expiry("2027-01-31").unwrap().unwrap().to_rfc3339(), "2027-01-31T23:59:59+00:00");
        assert_eq!(parse_expiry("2027-01-31T08:30").unwrap().unwrap().to_rfc3339(), "2027-01-31T08:30:00+00:00");
        assert!(parse_expiry("tomorrow").is_err());
    }
}
