//! The OpenAPI documents, generated from the routers' own registrations: one per surface, and
//! their merge (served at `GET /openapi.json`). The partners document is also served as YAML at
//! `GET /api/v1/openapi.yaml`.

use crate::{PARTNERS_PREFIX, app_reseller_v1, partners_v1};
use axum::Json;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use partnerd_services::Services;
use serde::Serialize;
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::ToSchema;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes outside every surface, documented like the others.
pub(crate) fn root_routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(openapi_json))
        .routes(routes!(openapi_yaml))
        .merge(crate::ops::routes())
}

/// The merged document: every surface under its prefix, plus the routes outside them.
pub fn document() -> OpenApi {
    let (_, mut doc) = root_routes().split_for_parts();
    doc.info.title = "partnerd".into();
    doc.info.version = "1.0".into();
    doc.info.license = None;
    doc.info.contact = None;
    doc.info.description = Some(format!(
        "Every HTTP surface of partnerd, one document each, merged.\n\n\
         ## Partners surface (`{PARTNERS_PREFIX}`)\n\n{}\n\n## AppReseller surface (`{}`)\n\n{}",
        partners_v1::dto::DESCRIPTION,
        app_reseller_v1::PREFIX,
        app_reseller_v1::dto::DESCRIPTION
    ));
    doc.nest(PARTNERS_PREFIX, partners_document_relative())
        .nest(app_reseller_v1::PREFIX, app_reseller_v1::openapi())
        .nest(app_reseller_v1::LEAD_PREFIX, app_reseller_v1::lead_openapi())
        .nest(app_reseller_v1::OPPORTUNITIES_PREFIX, app_reseller_v1::opportunity_openapi())
}

fn partners_document_relative() -> OpenApi {
    partners_v1::openapi()
}

/// The partners surface alone, with its full paths (the YAML document).
pub fn partners_document() -> OpenApi {
    let (_, mut root) = OpenApiRouter::<Services>::new().split_for_parts();
    let partners = partners_document_relative();
    root.info = partners.info.clone();
    root.nest(PARTNERS_PREFIX, partners)
}

/// The merged document as JSON text, generated once.
pub fn document_json() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| serde_json::to_string_pretty(&document()).unwrap_or_default())
}

/// The partners document as YAML text, generated once.
pub fn partners_yaml() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let Ok(Value::Object(mut doc)) = serde_json::to_value(partners_document()) else { return String::new() };
        // The usual reading order rather than the alphabetical one: `openapi:` first.
        let mut ordered = Vec::new();
        for key in ["openapi", "info", "paths", "components"] {
            if let Some(v) = doc.remove(key) {
                ordered.push((key.to_owned(), v));
            }
        }
        let mut out = String::new();
        for (key, v) in ordered.into_iter().chain(doc) {
            out.push_str(&scalar(&Value::String(key), true));
            out.push(':');
            nested(&v, 0, &mut out);
        }
        out
    })
}

/// Block-style YAML of a JSON value. Scalars are written as JSON (strings double-quoted with
/// JSON escapes, which YAML reads the same) unless they are plainly words, so no YAML library is
/// needed.
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, item) in map {
                out.push_str(&pad);
                out.push_str(&scalar(&Value::String(k.clone()), true));
                out.push(':');
                nested(item, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                nested(item, indent, out);
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other, false));
            out.push('\n');
        }
    }
}

/// A string YAML reads back as that same string when written plain: a word or path (keys may
/// start with `/` or `$`, values may be a version like `3.1.0`), never `true`, `null`, a number…
fn plain(s: &str, key: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || (key && matches!(c, '/' | '$')));
    let word = first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '{' | '}'));
    let version = !key
        && s.split('.').count() == 3
        && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let reserved =
        ["true", "false", "null", "yes", "no", "on", "off", "y", "n"].iter().any(|w| s.eq_ignore_ascii_case(w));
    (word || version) && !reserved
}

fn scalar(v: &Value, key: bool) -> String {
    match v {
        Value::String(s) if plain(s, key) => s.clone(),
        other => other.to_string(),
    }
}

fn nested(item: &Value, indent: usize, out: &mut String) {
    let non_empty = match item {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    if non_empty {
        out.push('\n');
        yaml(item, indent + 2, out);
    } else {
        // Scalars and empty collections (`{}`, `[]`) stay on the key's line, in JSON syntax.
        out.push(' ');
        out.push_str(&scalar(item, false));
        out.push('\n');
    }
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Liveness (no authentication, no database)
///
/// The benchmark's reference route.
#[utoipa::path(get, path = "/healthz", tag = "Service", security(()),
    responses((status = 200, description = "Alive", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The OpenAPI 3.1 document of every surface
#[utoipa::path(get, path = "/openapi.json", tag = "Service", security(()),
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], document_json())
}

/// The partners surface's OpenAPI 3.1 document, as YAML
#[utoipa::path(get, path = "/api/v1/openapi.yaml", tag = "Service", security(()),
    responses((status = 200, description = "The partners document", content_type = "application/yaml", body = Object)))]
async fn openapi_yaml() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/yaml")], partners_yaml())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_nests_and_keeps_scalars_exact() {
        let mut out = String::new();
        let v = serde_json::json!({"a": {"200": [1, "x: y", "3.1.0", "true", "/p"], "/p/{id}": {}}, "$ref": null});
        yaml(&v, 0, &mut out);
        let expected = "$ref: null\na:\n  /p/{id}: {}\n  \"200\":\n    - 1\n    - \"x: y\"\n    - 3.1.0\n    - \"true\"\n    - \"/p\"\n";
        assert_eq!(out, expected);
    }
}
