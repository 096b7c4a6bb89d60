//! The dashboard: server-rendered HTML for partners and the operator, served under
//! `/dashboard` by the same process and port as the APIs, over the same services (every page
//! acts as the signed-in user's [`partnerd_services::Principal`], so the APIs' policy applies
//! unchanged). Pages work without JavaScript; `app.js` only adds a copy button. Every asset is
//! compiled into the binary.
//!
//! - `session`: the guard every request passes (session cookie, CSRF, same-origin, security
//!   headers), the `Signed` / `PartnerUser` / `OperatorUser` extractors and page errors.
//! - `html`: escaping, layout, forms with per-field errors, tables, pagers; `charts`: SVG.
//! - `list`: paging, query parameters and filter values of the lists; `forms`: form values.
//! - `auth`: sign-in, sign-out, invitation and reset links; `keys`: Settings > API keys.
//! - one module per partner capability, and `operator` for the operator's pages.

mod auth;
mod charts;
mod cosell;
mod customers;
mod forms;
mod html;
mod keys;
mod leads;
mod list;
mod listings;
mod operator;
mod overview;
mod quotes;
mod session;
mod tickets;
mod webhooks;

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use partnerd_services::Services;

/// Where the dashboard is served.
pub const PREFIX: &str = "/dashboard";

/// What the dashboard needs besides the services.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The address users reach partnerd at (`https://partners.example.com`): links in
    /// invitations start with it, and cookies are `Secure` when it is https.
    pub public_url: String,
}

impl WebSettings {
    /// The invitation (or reset) page of a link's token.
    pub fn link_url(&self, token: &str) -> String {
        format!("{}{PREFIX}/invitation/{token}", self.public_url.trim_end_matches('/'))
    }
}

#[derive(Clone)]
pub(crate) struct Web {
    pub services: Services,
    /// The marketplace users sign in to (the default one).
    pub marketplace_id: String,
    pub settings: std::sync::Arc<WebSettings>,
    pub secure_cookies: bool,
}

/// The dashboard under [`PREFIX`], and `/` sending a browser there.
pub fn routes<S: Clone + Send + Sync + 'static>(
    services: Services,
    marketplace_id: String,
    settings: WebSettings,
) -> Router<S> {
    Router::new()
        .route("/", get(|| async { session::see_other("/dashboard/") }))
        .route(PREFIX, get(|| async { session::see_other("/dashboard/") }))
        // Nested under `/dashboard/` (with the slash) so the overview, the inner `/`, answers
        // at `/dashboard/`, and `/dashboard/listings` reaches the inner `/listings`.
        .nest("/dashboard/", router(services, marketplace_id, settings))
}

/// The dashboard's routes, relative to [`PREFIX`].
fn router<S>(services: Services, marketplace_id: String, settings: WebSettings) -> Router<S> {
    let secure_cookies = settings.public_url.starts_with("https://");
    let web = Web { services, marketplace_id, settings: std::sync::Arc::new(settings), secure_cookies };
    Router::new()
        .merge(auth::routes())
        .merge(keys::routes())
        .merge(overview::routes())
        .merge(listings::routes())
        .merge(cosell::routes())
        .merge(webhooks::routes())
        .merge(customers::routes())
        .merge(tickets::routes())
        .merge(leads::routes())
        .merge(quotes::routes())
        .merge(operator::routes())
        .fallback(|| async { session::PageError::not_found() })
        // A form's address opened with a GET (Enter in the address bar after a 422 page).
        .method_not_allowed_fallback(|| async {
            session::PageError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "This address takes a form, not a visit: open the page again from the dashboard.",
            )
        })
        .layer(axum::middleware::from_fn_with_state(web.clone(), session::guard))
        // Added after the guard's layer, so outside it: a stylesheet needs no session (and no
        // database read per asset of every page).
        .route("/assets/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("../assets/app.js")) }),
        )
        .with_state(web)
}

/// One stylesheet: the shared rules, then each page group's own.
const STYLE: &str = concat!(
    include_str!("../assets/style.css"),
    include_str!("../assets/overview.css"),
    include_str!("../assets/listings.css"),
    include_str!("../assets/cosell.css"),
    include_str!("../assets/webhooks.css"),
    include_str!("../assets/customers.css"),
    include_str!("../assets/tickets.css"),
    include_str!("../assets/leads.css"),
    include_str!("../assets/quotes.css"),
    include_str!("../assets/operator.css"),
);

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}
