//! Query strings parsed by hand, so every bad parameter is a `VALIDATION_ERROR` naming it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use partnerd_domain::ValidationErrors;
use std::collections::HashMap;

/// The query string's parameters (the last value wins for a repeated name).
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            parts.uri.query().map(|q| serde_urlencoded::from_str(q).unwrap_or_default()).unwrap_or_default();
        Ok(QueryParams(pairs.into_iter().collect()))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An integer parameter within `min..=max`, `default` when absent.
    pub fn int(&self, errors: &mut ValidationErrors, name: &str, default: u32, min: u32, max: u32) -> u32 {
        match self.get(name) {
            None => default,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(v) if (min..=max).contains(&v) => v,
                _ => {
                    errors.add(name, format!("must be an integer from {min} to {max}"));
                    default
                }
            },
        }
    }
}

/// `page`/`per_page` as the partners documents define them: page from 1, per_page 1–100, 20
/// by default.
pub fn paging(q: &QueryParams, errors: &mut ValidationErrors) -> (u32, u32) {
    let page = q.int(errors, "page", 1, 1, 1_000_000);
    let per_page = q.int(errors, "per_page", 20, 1, 100);
    (page, per_page)
}
