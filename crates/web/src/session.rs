//! Sessions, CSRF and the page errors: the one layer every dashboard request passes.
//!
//! [`guard`] reads the session cookie (one store read, the same for every process since
//! sessions are rows), refuses every unsafe request whose form does not carry the session's CSRF
//! token (or, before sign-in, the double-submit token of the `pd_form` cookie) or that comes
//! from another origin, and adds the security headers. Handlers then take [`Signed`],
//! [`PartnerUser`] or [`OperatorUser`], which redirect to sign-in or refuse with 403.

use crate::Web;
use crate::html::{Nav, esc, page};
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use partnerd_domain::ids::random_token;
use partnerd_services::error::codes;
use partnerd_services::users::WebSession;
use partnerd_services::{ErrorKind, ServiceError};
use std::sync::Arc;
use subtle::ConstantTimeEq;

pub(crate) const SESSION_COOKIE: &str = "pd_session";
pub(crate) const FORM_COOKIE: &str = "pd_form";
/// Largest form body the dashboard reads.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// What [`guard`] learnt about the request, for the handlers.
#[derive(Clone)]
pub(crate) struct Current {
    pub session: Option<Arc<WebSession>>,
    /// The raw session cookie value (to sign out).
    pub session_token: Option<String>,
    /// The pre-session CSRF token forms before sign-in carry.
    pub form_token: String,
    /// Whether cookies must be `Secure` (served over https).
    pub secure: bool,
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value scoped to the dashboard, never readable by scripts.
pub(crate) fn set_cookie(name: &str, value: &str, max_age_secs: i64, same_site: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/dashboard; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("pd_invalid=; Max-Age=0"))
}

fn is_token(v: &str) -> bool {
    (20..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether a form comes from this site: the `Origin` names the host the request was sent to,
/// or the configured `public_url` (a proxy in front may rewrite `Host`).
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site") {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    if origin.eq_ignore_ascii_case(public_url.trim_end_matches('/')) {
        return true;
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    // `null` (a sandboxed or privacy-restricted origin) is not ours either.
    origin.split_once("://").is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub(crate) async fn guard(State(web): State<Web>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let secure = web.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let session_token = cookie(headers, SESSION_COOKIE).filter(|v| is_token(v)).map(str::to_owned);
    let existing_form = cookie(headers, FORM_COOKIE).filter(|v| is_token(v)).map(str::to_owned);
    let session = match &session_token {
        Some(t) => match web.services.users().session(t).await {
            Ok(s) => s.map(Arc::new),
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    let new_form = existing_form.is_none();
    let form_token = existing_form.unwrap_or_else(|| random_token(32));
    let mut current = Current { session, session_token, form_token, secure };

    let (parts, body) = req.into_parts();
    let req = if parts.method == Method::GET || parts.method == Method::HEAD {
        Request::from_parts(parts, body)
    } else {
        if !same_origin(&parts.headers, &web.settings.public_url) {
            return PageError::new(StatusCode::FORBIDDEN, "This form was sent from another site and was refused.")
                .into_response();
        }
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
        };
        let expected = match &current.session {
            Some(s) => Some(s.csrf_token.as_str()),
            None if !new_form => Some(current.form_token.as_str()),
            None => None,
        };
        let sent = form_field(&bytes, "csrf");
        let ok = match (expected, sent.as_deref()) {
            (Some(e), Some(s)) => bool::from(e.as_bytes().ct_eq(s.as_bytes())),
            _ => false,
        };
        if !ok && current.session.is_none() && current.session_token.is_some() {
            // The session ended (idle, expired, signed out elsewhere) while the form was open:
            // nothing ran; sign in again and come back.
            let back = parts.headers.get(axum::http::header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("");
            let back =
                back.split_once("/dashboard").map_or("/dashboard/".to_owned(), |(_, p)| format!("/dashboard{p}"));
            let mut r = see_other(&format!("/dashboard/sign-in?next={}", crate::html::urlenc(safe_next(&back))));
            r.headers_mut().append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, "Lax", secure));
            return r;
        }
        if !ok {
            // A form from before a sign-in or sign-out carries the wrong token: say what to do.
            return PageError::new(
                StatusCode::FORBIDDEN,
                "The form's security token is missing or out of date. Reload the page and try again.",
            )
            .into_response();
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    if let Some(s) = &current.session {
        // Signed in, every form (an invitation page's too) carries the session's token.
        current.form_token = s.csrf_token.clone();
    }
    let set_form = new_form && current.session.is_none();
    let form_token = current.form_token.clone();
    let mut req = req;
    let session = current.session.clone();
    req.extensions_mut().insert(current);
    let mut response = next.run(req).await;
    if response.status().is_client_error() && is_plain_text(&response) {
        // An extractor's rejection (a repeated field, a body that is not a form): the same
        // page as every other refusal, with the reason.
        response = rejection_page(response, session).await;
    }
    let html_page =
        response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    let h = response.headers_mut();
    // Only on pages: a cacheable asset must never hand one browser's token to another.
    if set_form && html_page {
        h.append(SET_COOKIE, set_cookie(FORM_COOKIE, &form_token, 60 * 60 * 24, "Strict", secure));
    }
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    if secure {
        h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
    }
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn is_plain_text(response: &Response) -> bool {
    response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"))
}

async fn rejection_page(response: Response, session: Option<Arc<WebSession>>) -> Response {
    let status = response.status();
    let reason = match to_bytes(response.into_body(), 2048).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => status.canonical_reason().unwrap_or("refused").to_owned(),
    };
    let mut e = PageError::new(status, format!("The request was refused: {reason}"));
    if let Some(s) = session {
        e = e.with_session(s);
    }
    e.into_response()
}

/// Any signed-in user.
pub(crate) struct Signed(pub Arc<WebSession>);

/// A signed-in partner user (the operator is refused).
pub(crate) struct PartnerUser(pub Arc<WebSession>);

/// The signed-in operator (partner users are refused).
pub(crate) struct OperatorUser(pub Arc<WebSession>);

/// Where the sign-in page sends the browser afterwards: only a dashboard path.
pub(crate) fn safe_next(next: &str) -> &str {
    if next.starts_with("/dashboard") && !next.starts_with("//") && !next.contains("://") && !next.contains('\\') {
        next
    } else {
        "/dashboard/"
    }
}

fn current(parts: &Parts) -> Option<Current> {
    parts.extensions.get::<Current>().cloned()
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match current(parts).and_then(|c| c.session) {
            Some(s) => Ok(Signed(s)),
            None => {
                // The nested router sees the path without `/dashboard`; the browser's is the original.
                let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
                let target = uri.path_and_query().map_or("/dashboard/", |p| p.as_str());
                let to = format!("/dashboard/sign-in?next={}", crate::html::urlenc(safe_next(target)));
                Err(see_other(&to))
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PartnerUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Signed(s) = Signed::from_request_parts(parts, state).await?;
        if s.principal.partner.is_none() {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This page belongs to a partner's dashboard; the operator's pages are under Marketplace.",
            )
            .with_session(s)
            .into_response());
        }
        Ok(PartnerUser(s))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for OperatorUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Signed(s) = Signed::from_request_parts(parts, state).await?;
        if s.principal.partner.is_some() {
            return Err(PageError::new(StatusCode::FORBIDDEN, "Only the marketplace operator may open this page.")
                .with_session(s)
                .into_response());
        }
        Ok(OperatorUser(s))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Current {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        current(parts)
            .ok_or_else(|| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "no request state").into_response())
    }
}

/// The peer address of the connection (the sign-in limit counts per address).
pub(crate) struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(ip))
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// An HTML page answering `status`.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

/// A page that could not be served: its status and a sentence for the user.
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
    session: Option<Arc<WebSession>>,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), session: None }
    }

    pub(crate) fn with_session(mut self, s: Arc<WebSession>) -> Self {
        self.session = Some(s);
        self
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is nothing here, or it is not yours to see.")
    }
}

/// A service refusal as a page that keeps the navigation (the signed-in user's session).
pub(crate) fn keep_nav(s: &Arc<WebSession>) -> impl Fn(ServiceError) -> PageError + Copy + '_ {
    move |e| PageError::from(e).with_session(s.clone())
}

/// A service refusal in the dashboard's words: what happened, never internal detail.
pub(crate) fn service_message(e: &ServiceError) -> String {
    match e.kind {
        ErrorKind::Invalid => {
            let mut parts: Vec<String> = Vec::new();
            for (field, msgs) in e.fields.fields() {
                for m in msgs {
                    parts.push(format!("{field}: {m}"));
                }
            }
            if parts.is_empty() { "The input was refused.".to_owned() } else { parts.join("; ") }
        }
        ErrorKind::NotFound => format!("No such {} (or it is not yours to see).", e.entity.replace('_', " ")),
        ErrorKind::Forbidden => "You may not do this with your account's roles.".to_owned(),
        ErrorKind::Conflict if e.entity == "user" && e.code == codes::EMAIL_TAKEN => {
            "A user with this e-mail exists already, in another company.".to_owned()
        }
        ErrorKind::Conflict if e.entity == "user" && e.code == codes::NO_DASHBOARD => {
            "This user belongs to no partner and is not the operator's (or is disabled): it has no dashboard."
                .to_owned()
        }
        ErrorKind::Conflict => format!(
            "The {} could not be changed ({}). Reload the page and try again.",
            e.entity.replace('_', " "),
            e.code.replace('_', " ")
        ),
        ErrorKind::Unavailable => "The service is unavailable right now; try again in a moment.".to_owned(),
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        let status = match e.kind {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Unavailable => {
                tracing::error!(detail = ?e.detail, entity = e.entity, "dashboard request failed");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        Self::new(status, service_message(&e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = format!(
            "<p class=\"alert page-error\" role=\"alert\">{}</p><p><a href=\"/dashboard/\">Back to the dashboard</a></p>",
            esc(&self.message)
        );
        html(self.status, page(self.session.as_deref(), title, Nav::None, &body))
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; pd_session=abc; pd_session_x=no"));
        assert_eq!(cookie(&h, "pd_session"), Some("abc"));
        assert_eq!(cookie(&h, "pd_form"), None);
    }

    #[test]
    fn cookies_are_http_only_and_secure_when_asked() {
        let c = set_cookie("pd_session", "x", 60, "Lax", true);
        let c = c.to_str().unwrap();
        assert!(
            c.contains("HttpOnly")
                && c.contains("SameSite=Lax")
                && c.contains("Secure")
                && c.contains("Path=/dashboard")
        );
        assert!(!set_cookie("a", "b", 1, "Strict", false).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let public = "https://partners.example.com";
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h, public), "no Origin: a form post from an older browser");
        h.insert(ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&h, public));
        // Behind a proxy that rewrites Host, the public URL is the site's origin.
        h.insert(ORIGIN, HeaderValue::from_static("https://partners.example.com"));
        assert!(same_origin(&h, public));
        assert!(same_origin(&h, "https://partners.example.com/"));
        h.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h, public));
        h.insert(ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h, public));
        h.remove(ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, public));
    }

    #[test]
    fn next_stays_on_the_dashboard() {
        assert_eq!(safe_next("/dashboard/listings?page=2"), "/dashboard/listings?page=2");
        assert_eq!(safe_next("https://evil.example/dashboard"), "/dashboard/");
        assert_eq!(safe_next("//evil.example"), "/dashboard/");
        assert_eq!(safe_next("/api/v1/partners/profile"), "/dashboard/");
    }

    #[test]
    fn the_csrf_field_is_read_from_the_form() {
        assert_eq!(form_field(b"name=a&csrf=tok%20en", "csrf").as_deref(), Some("tok en"));
        assert_eq!(form_field(b"name=a", "csrf"), None);
    }
}
