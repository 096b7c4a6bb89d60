//! The generated OpenAPI document: served, valid JSON, and in step with the router.

use crate::common::*;
use serde_json::{Value, json};

on_both_backends!(openapi_json_is_served_and_is_the_generated_document, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let r = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/json");
    let doc: Value = r.json().await.expect("JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(&doc, crate::schema::document(), "what is served is what the code generates");
    for path in ["/healthz", "/openapi.json", "/api/v1/partners/profile", "/api/v1/partners/webhooks/{id}"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
});

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

// Every documented path and method reaches a handler, and every other method on a documented
// path is refused as unrouted (405): the router and the document agree both ways. (Paths the
// document lacks cannot be routed: the partners router is built only from `routes!`
// registrations, which document what they route; `routes_are_registered_only_with_their_documentation`
// keeps it so.)
on_both_backends!(the_router_and_the_document_agree, |backend| async move {
    let Some(app) = spawn_app(backend).await else { return };
    let p = app.partner("Probe Corp", "probe@example.com", "enterprise").await;
    let doc = crate::schema::document();
    let mut probed = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        // Ids that cannot exist: a handler answers 404 naming its resource, not "Resource".
        let path =
            template.split('/').map(|s| if s.starts_with('{') { "nope" } else { s }).collect::<Vec<_>>().join("/");
        for method in METHODS {
            let documented = item.get(method).is_some();
            let m = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let mut req = app.http.request(m, app.url(&path)).bearer_auth(&p.api_key);
            if method != "get" && method != "delete" {
                req = req.json(&json!({}));
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if documented {
                assert_ne!(status, 405, "{method} {template} is documented but not routed");
                let fallback = status == 404 && body["error"]["message"] == "Resource not found";
                assert!(!fallback, "{method} {template} is documented but answered by the fallback");
                probed += 1;
            } else {
                assert_eq!(status, 405, "{method} {template} is routed but not documented: {body}");
            }
        }
    }
    assert!(probed >= 30, "only {probed} operations probed");
});

#[test]
fn routes_are_registered_only_with_their_documentation() {
    // A plain `.route(…)` anywhere in the HTTP crate would serve a path the document does not
    // know; every surface registers through `routes!` instead.
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src")];
    let mut seen = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                // Test-only sources (`*tests.rs`) build their own routers; they serve nothing.
                && !path.file_stem().is_some_and(|s| s.to_string_lossy().ends_with("tests"))
            {
                let source = std::fs::read_to_string(&path).unwrap();
                for call in [".route(", ".route_service("] {
                    assert!(!source.contains(call), "{} routes with `{call}…)` outside `routes!`", path.display());
                }
                seen += 1;
            }
        }
    }
    assert!(seen >= 10, "only {seen} source files found");
}

/// Every `$ref` of the generated document resolves (a query-parameter enum that utoipa does not
/// collect would otherwise dangle, which OpenAPI validators and client generators refuse).
#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, doc: &Value, missing: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let target = r.strip_prefix("#/").map(|p| p.split('/').fold(doc, |at, part| &at[part]));
                    if target.is_none_or(Value::is_null) {
                        missing.push(r.clone());
                    }
                }
                m.values().for_each(|x| walk(x, doc, missing));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, doc, missing)),
            _ => {}
        }
    }
    let doc = crate::schema::document();
    let mut missing = Vec::new();
    walk(doc, doc, &mut missing);
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "dangling references: {missing:?}");
}
