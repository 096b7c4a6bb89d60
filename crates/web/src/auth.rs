//! Signing in and out, and the one-time invitation / password-reset pages.

use crate::Web;
use crate::html::{Field, Nav, alert, esc, notice, other_errors, page};
use crate::session::{
    ClientIp, Current, FORM_COOKIE, PageResult, SESSION_COOKIE, Signed, html, safe_next, see_other, set_cookie,
};
use axum::extract::{Path, Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use partnerd_domain::ValidationErrors;
use partnerd_services::users::{LinkPurpose, PASSWORD_MIN, SignIn, StartedSession};
use serde::Deserialize;

pub(crate) fn routes() -> Router<Web> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sign-out-everywhere", post(sign_out_everywhere))
        .route("/invitation/{token}", get(link_page).post(redeem_link))
}

#[derive(Deserialize, Default)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

fn sign_in_form(current: &Current, email: &str, next: &str, message: &str) -> String {
    format!(
        "{message}<form method=\"post\" action=\"/dashboard/sign-in\" class=\"card narrow\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"next\" value=\"{}\">{}{}\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"muted\">No password yet, or forgot it? Ask the marketplace operator for an invitation or reset link.</p>",
        esc(&current.form_token),
        esc(next),
        Field::text("email", "E-mail", email)
            .kind("email")
            .required()
            .extra("autocomplete=\"username\" autofocus")
            .render(None),
        Field::text("password", "Password", "")
            .kind("password")
            .required()
            .extra("autocomplete=\"current-password\"")
            .render(None),
    )
}

async fn sign_in_page(current: Current, Query(q): Query<SignInQuery>) -> Response {
    if current.session.is_some() {
        return see_other(safe_next(&q.next));
    }
    let message = if q.signed_out.is_some() { notice("You are signed out.") } else { String::new() };
    html(StatusCode::OK, page(None, "Sign in", Nav::None, &sign_in_form(&current, "", &q.next, &message)))
}

fn start_session(current: &Current, started: &StartedSession, to: &str) -> Response {
    let mut r = see_other(to);
    // The cookie lives as long as a session can; the server decides when the session ends
    // (by its own clock, which tests hold still), so the cookie's age is not read from it.
    let max_age = partnerd_services::users::SESSION_LIFETIME.num_seconds();
    r.headers_mut().append(SET_COOKIE, set_cookie(SESSION_COOKIE, &started.token, max_age, "Lax", current.secure));
    r.headers_mut().append(SET_COOKIE, set_cookie(FORM_COOKIE, "", 0, "Strict", current.secure));
    r
}

async fn sign_in(
    State(web): State<Web>,
    current: Current,
    ClientIp(ip): ClientIp,
    Form(form): Form<SignInForm>,
) -> PageResult {
    let outcome = web.services.users().sign_in(&web.marketplace_id, &form.email, &form.password, ip).await?;
    let next = safe_next(&form.next).to_owned();
    Ok(match outcome {
        SignIn::Started(started) => start_session(&current, &started, &next),
        SignIn::Refused => html(
            StatusCode::UNAUTHORIZED,
            page(
                None,
                "Sign in",
                Nav::None,
                &sign_in_form(&current, &form.email, &next, &alert("The e-mail or the password is wrong.")),
            ),
        ),
        SignIn::Suspended => html(
            StatusCode::FORBIDDEN,
            page(
                None,
                "Sign in",
                Nav::None,
                &sign_in_form(
                    &current,
                    &form.email,
                    &next,
                    &alert("Your partner account is suspended. Ask the marketplace operator to resume it."),
                ),
            ),
        ),
        SignIn::Throttled { retry_after } => {
            let minutes = (retry_after + 59) / 60;
            let message = alert(&format!(
                "Too many failed sign-ins for this account or from this address. Try again in {minutes} minutes."
            ));
            let mut r = html(
                StatusCode::TOO_MANY_REQUESTS,
                page(None, "Sign in", Nav::None, &sign_in_form(&current, &form.email, &next, &message)),
            );
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
            r
        }
    })
}

fn signed_out(current: &Current) -> Response {
    let mut r = see_other("/dashboard/sign-in?signed_out=1");
    r.headers_mut().append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, "Lax", current.secure));
    r
}

async fn sign_out(State(web): State<Web>, current: Current) -> PageResult {
    if let Some(token) = &current.session_token {
        web.services.users().sign_out(token).await?;
    }
    Ok(signed_out(&current))
}

async fn sign_out_everywhere(State(web): State<Web>, current: Current, Signed(s): Signed) -> PageResult {
    web.services.users().sign_out_everywhere(&s.principal).await?;
    Ok(signed_out(&current))
}

#[derive(Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

fn gone() -> Response {
    html(
        StatusCode::GONE,
        page(
            None,
            "Link expired",
            Nav::None,
            &alert("This link has expired or was used already. Ask the marketplace operator for a new one."),
        ),
    )
}

fn link_form(
    current: &Current,
    token: &str,
    email: &str,
    purpose: LinkPurpose,
    errors: Option<&ValidationErrors>,
) -> String {
    let intro = match purpose {
        LinkPurpose::Invitation => "You were invited to the partner dashboard. Choose a password to finish.",
        LinkPurpose::Reset => "Choose a new password. Every browser signed in with the old one is signed out.",
    };
    let hint = format!("At least {PASSWORD_MIN} characters.");
    format!(
        "<p>{}</p>{}<form method=\"post\" action=\"/dashboard/invitation/{}\" class=\"card narrow\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <p>E-mail: <strong id=\"invited-email\">{}</strong></p>{}{}<button type=\"submit\">Set password and sign in</button></form>",
        esc(intro),
        other_errors(errors, &["password", "password_confirmation"]),
        esc(token),
        esc(&current.form_token),
        esc(email),
        Field::text("password", "New password", "")
            .kind("password")
            .required()
            .hint(&hint)
            .extra("autocomplete=\"new-password\"")
            .render(errors),
        Field::text("password_confirmation", "Repeat the password", "")
            .kind("password")
            .required()
            .extra("autocomplete=\"new-password\"")
            .render(errors),
    )
}

async fn link_page(State(web): State<Web>, current: Current, Path(token): Path<String>) -> PageResult {
    let Some(link) = web.services.users().link(&token).await? else { return Ok(gone()) };
    let title = match link.purpose {
        LinkPurpose::Invitation => "Accept your invitation",
        LinkPurpose::Reset => "Reset your password",
    };
    Ok(html(
        StatusCode::OK,
        page(None, title, Nav::None, &link_form(&current, &token, &link.email, link.purpose, None)),
    ))
}

async fn redeem_link(
    State(web): State<Web>,
    current: Current,
    Path(token): Path<String>,
    Form(form): Form<LinkForm>,
) -> PageResult {
    let users = web.services.users();
    let Some(link) = users.link(&token).await? else { return Ok(gone()) };
    match users.redeem_link(&token, &form.password, &form.password_confirmation).await {
        Ok(started) => Ok(start_session(&current, &started, "/dashboard/")),
        Err(e) if e.fields.fields().contains_key("token") => Ok(gone()),
        Err(e) if e.kind == partnerd_services::ErrorKind::Invalid => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                None,
                "Choose a password",
                Nav::None,
                &link_form(&current, &token, &link.email, link.purpose, Some(&e.fields)),
            ),
        )),
        Err(e) => Err(e.into()),
    }
}
