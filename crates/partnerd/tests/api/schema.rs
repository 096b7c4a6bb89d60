//! Every real response the tests receive is checked against the generated OpenAPI document:
//! the operation is looked up by method and path template, its status must be documented, and
//! a JSON body must match the schema documented for that status. A renamed, missing or retyped
//! field fails the test that saw it.
//!
//! The validator is written here rather than taken from a crate: the `jsonschema` crate pulls
//! in regex engines, an HTTP client for remote `$ref`s and more (minutes of build on two cores)
//! to check a subset this small. It covers what utoipa emits for these DTOs: `$ref`, `type`
//! (also `[T, "null"]`), `properties`, `required`, `additionalProperties`, `items`, `enum`,
//! `const`, `oneOf`/`anyOf`/`allOf`, `minimum`/`maximum`. One rule is stricter than JSON
//! Schema on purpose: an object schema that lists `properties` and says nothing about
//! `additionalProperties` is closed, so an undocumented (or renamed) field is a violation.

use serde_json::Value;
use std::sync::OnceLock;

/// The merged document the server serves at `/openapi.json`.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(partnerd_api::openapi::document_json()).expect("the document is JSON"))
}

/// The documented path template `path` falls under: literal segments beat `{param}`s.
pub fn template_for(doc: &Value, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, &String)> = None;
    for template in doc["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') && t.ends_with('}') {
                !s.is_empty()
            } else {
                literal += 1;
                t == s
            }
        });
        if fits && best.is_none_or(|(n, _)| literal > n) {
            best = Some((literal, template));
        }
    }
    best.map(|(_, t)| t.clone())
}

/// Panics, naming the request, when the response is not what the document says.
pub fn check_response(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &[u8]) {
    let doc = document();
    let what = format!("{method} {path} → {status}");
    let media = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let operation = template_for(doc, path).and_then(|t| {
        let op = &doc["paths"][&t][method.to_ascii_lowercase()];
        op.is_object().then(|| (t, op.clone()))
    });
    let Some((template, op)) = operation else {
        // No operation: an unknown path or method. Under a surface it answers in that surface's
        // error shape; outside every surface there is no document to hold it to.
        use partnerd_api::app_reseller_v1 as ar;
        let shape = if path.starts_with(partnerd_api::PARTNERS_PREFIX) {
            Some("Error")
        } else if [ar::PREFIX, ar::LEAD_PREFIX, ar::OPPORTUNITIES_PREFIX].iter().any(|p| path.starts_with(p)) {
            Some("OpportunityError")
        } else {
            None
        };
        if let Some(shape) = shape {
            assert!(
                matches!(status, 401 | 403 | 404 | 405 | 429 | 500),
                "{what}: undocumented route answered {status}"
            );
            let body: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
            let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{shape}") });
            let errors = violations(doc, &schema, &body);
            assert!(errors.is_empty(), "{what}: the error shape is violated:\n{}\n{body}", errors.join("\n"));
        }
        return;
    };
    let what = format!("{method} {template} ({path}) → {status}");
    let response = resolve(doc, &op["responses"][status.to_string()]);
    assert!(response.is_object(), "{what}: status {status} is not documented for this operation");
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(body.is_empty(), "{what}: a body where none is documented");
        return;
    };
    let media = media.unwrap_or_else(|| panic!("{what}: no Content-Type"));
    let documented = content.get(&media).unwrap_or_else(|| panic!("{what}: {media} is not documented"));
    if media != "application/json" {
        return;
    }
    let body: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    let errors = violations(doc, &documented["schema"], &body);
    assert!(errors.is_empty(), "{what}: the body violates the documented schema:\n{}\n{body}", errors.join("\n"));
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = r.strip_prefix('#').and_then(|p| doc.pointer(p)).unwrap_or_else(|| panic!("dangling {r}"));
            resolve(doc, target)
        }
        None => v,
    }
}

/// Every way `v` breaks `schema`, as `path: problem` lines.
pub fn violations(doc: &Value, schema: &Value, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(doc, schema, v, "$", &mut out);
    out
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let Some(s) = schema.as_object() else { return };
    let passes = |sub: &Value| violations(doc, sub, v).is_empty();
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(doc, sub, v, at, out);
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        out.push(format!("{at}: matches none of anyOf"));
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let n = one.iter().filter(|sub| passes(sub)).count();
        if n != 1 {
            out.push(format!("{at}: matches {n} of oneOf, not exactly one"));
        }
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        out.push(format!("{at}: {v} is not one of {allowed:?}"));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        out.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| has_type(v, t)) {
            out.push(format!("{at}: {v} is not of type {types:?}"));
            return;
        }
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum").and_then(Value::as_f64).is_some_and(|m| n < m) {
            out.push(format!("{at}: {n} is below the minimum"));
        }
        if s.get("maximum").and_then(Value::as_f64).is_some_and(|m| n > m) {
            out.push(format!("{at}: {n} is above the maximum"));
        }
    }
    if let Value::Object(fields) = v {
        let properties = s.get("properties").and_then(Value::as_object);
        for name in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !fields.contains_key(name) {
                out.push(format!("{at}: the required field `{name}` is missing"));
            }
        }
        for (name, value) in fields {
            let here = format!("{at}.{name}");
            match (properties.and_then(|p| p.get(name)), s.get("additionalProperties")) {
                (Some(sub), _) => check(doc, sub, value, &here, out),
                (None, Some(Value::Bool(false))) => out.push(format!("{here}: not a documented field")),
                (None, Some(Value::Bool(true))) => {}
                (None, Some(sub)) => check(doc, sub, value, &here, out),
                // Closed unless said otherwise (see the module's comment); a schema with no
                // `properties` at all (`{}`, `type: object`) is free-form.
                (None, None) if properties.is_some() => out.push(format!("{here}: not a documented field")),
                (None, None) => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, s.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{at}[{i}]"), out);
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_validator_catches_what_a_rename_breaks() {
        let doc = document();
        let profile = json!({ "$ref": "#/components/schemas/Envelope_Profile" });
        let good = json!({ "success": true, "data": {
            "id": "partner_1", "company_name": "Acme", "email": "a@b.c", "plan": "business",
            "aws_account_connected": false, "created_at": "2025-01-15T10:30:00Z" } });
        assert_eq!(violations(doc, &profile, &good), Vec::<String>::new());
        let mut renamed = good.clone();
        let data = renamed["data"].as_object_mut().unwrap();
        let v = data.remove("email").unwrap();
        data.insert("e_mail".into(), v);
        let found = violations(doc, &profile, &renamed);
        assert!(found.iter().any(|e| e.contains("`email` is missing")), "{found:?}");
        assert!(found.iter().any(|e| e.contains("e_mail: not a documented field")), "{found:?}");
        let mut retyped = good;
        retyped["data"]["aws_account_connected"] = json!("yes");
        assert!(!violations(doc, &profile, &retyped).is_empty());
    }

    #[test]
    fn templates_prefer_literal_segments() {
        let doc = document();
        assert_eq!(
            template_for(doc, "/api/v1/partners/webhooks/events").as_deref(),
            Some("/api/v1/partners/webhooks/events")
        );
        assert_eq!(
            template_for(doc, "/api/v1/partners/webhooks/webhook_1").as_deref(),
            Some("/api/v1/partners/webhooks/{id}")
        );
        assert_eq!(template_for(doc, "/api/v1/partners/nothing/here"), None);
    }
}
