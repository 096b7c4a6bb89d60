//! Bad input, generated from the served OpenAPI document rather than listed by hand: every
//! operation of every surface, its path and query parameters and its JSON request body, get
//! malformed and truncated JSON, wrong types, huge and negative numbers, control characters,
//! deep nesting and oversized values. Every answer must be below 500, in the surface's error
//! shape when it is an error (the harness also checks every response against the document:
//! an undocumented status or shape fails). New operations are covered as they are documented.
//!
//! Cases are drawn from a small seeded generator (no proptest: its defaults pull in a lot and
//! shrinking buys little here, where a failing case prints itself), so a run is reproducible
//! and bounded: a few thousand requests per backend.

use crate::common::*;
use chrono::Duration;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// xorshift64*: deterministic, seeded per test.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A documented operation, as the document describes it.
struct Operation {
    method: reqwest::Method,
    template: String,
    /// `(name, in)`: `path` or `query`.
    params: Vec<(String, String)>,
    /// The JSON request body's schema, `$ref`s resolved at the top.
    body: Option<Value>,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else { continue };
            if !op.is_object() || !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| resolve(doc, p))
                .filter(|p| matches!(p["in"].as_str(), Some("path" | "query")))
                .map(|p| (p["name"].as_str().unwrap().to_owned(), p["in"].as_str().unwrap().to_owned()))
                .collect();
            let body = op["requestBody"]["content"]["application/json"]["schema"]
                .is_object()
                .then(|| resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"]).clone());
            out.push(Operation { method: m, template: template.clone(), params, body });
        }
    }
    out
}

/// The documented properties of an object schema, each with its resolved schema.
fn properties(doc: &Value, schema: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(props) = schema["properties"].as_object() {
        out.extend(props.iter().map(|(k, v)| (k.clone(), resolve(doc, v).clone())));
    }
    for part in ["allOf", "oneOf", "anyOf"] {
        for s in schema[part].as_array().into_iter().flatten() {
            out.extend(properties(doc, resolve(doc, s)));
        }
    }
    out
}

/// Ids of real records, so bodies reach the use cases behind the extractors.
struct Fixture {
    app: TestApp,
    key: String,
    /// By the collection a path parameter follows (`listings`, `opportunities`, …).
    ids: BTreeMap<&'static str, String>,
    /// Plausible values for body fields whose name says what they need.
    values: BTreeMap<&'static str, Value>,
    receiver: Receiver,
    sent: std::sync::atomic::AtomicUsize,
}

async fn fixture(backend: Backend) -> Option<Fixture> {
    let app = spawn_app(backend).await?;
    let p = app.partner("Fuzz Corp", "fuzz@example.com", "enterprise").await;
    let other = app.partner("Other Inc", "other@example.com", "enterprise").await;
    let receiver = Receiver::start().await;
    let key = p.api_key.clone();
    let (_, l) = app.post("/api/v1/partners/listings", &key, json!({ "title": "Fuzzed listing" })).await;
    let listing = l["data"]["id"].as_str().unwrap().to_owned();
    let (_, d) = app.post(&format!("/api/v1/partners/listings/{listing}/content"), &key, json!({})).await;
    let body = json!({ "customer_name": "Customer", "deal_value": 10, "partner_id": other.partner_id });
    let (_, o) = app.post("/api/v1/partners/cosell/opportunities", &key, body).await;
    let hook = json!({ "url": receiver.url, "events": ["listing.updated"] });
    let (_, w) = app.post("/api/v1/partners/webhooks", &key, hook).await;
    let webhook = w["data"]["id"].as_str().unwrap().to_owned();
    let (_, r) = app.post("/api/v1/partners/analytics/reports", &key, json!({})).await;
    let test = json!({ "webhook_id": webhook, "event": "listing.updated" });
    assert_eq!(app.post("/api/v1/partners/webhooks/test", &key, test).await.0, 200);
    let (_, log) = app.read(&format!("/api/v1/partners/webhooks/{webhook}/deliveries"), &key).await;
    let mut ids = BTreeMap::from([
        ("listings", listing),
        ("content", d["data"]["id"].as_str().unwrap().to_owned()),
        ("opportunities", o["data"]["id"].as_str().unwrap().to_owned()),
        ("webhooks", webhook.clone()),
        ("reports", r["data"]["id"].as_str().unwrap().to_owned()),
    ]);
    if let Some(delivery) = log["data"][0]["id"].as_str() {
        ids.insert("deliveries", delivery.to_owned());
    }
    let values = BTreeMap::from([
        ("partner_id", json!(other.partner_id)),
        ("webhook_id", json!(webhook)),
        ("url", json!(receiver.url)),
        ("events", json!(["listing.updated"])),
        ("event", json!("listing.updated")),
        ("deal_value", json!(100)),
        ("customer_name", json!("Customer")),
        ("title", json!("A title")),
        ("period", json!("30d")),
        ("type", json!("partner_performance")),
    ]);
    Some(Fixture { app, key, ids, values, receiver, sent: Default::default() })
}

impl Fixture {
    /// The template with every path parameter a real id (or `unknown`), `overrides` aside.
    fn path(&self, template: &str, overrides: &BTreeMap<String, String>) -> String {
        let segments: Vec<&str> = template.split('/').collect();
        let mut out = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let after = if i > 0 { segments[i - 1] } else { "" };
                let id = overrides.get(name).cloned().or_else(|| self.ids.get(after).cloned());
                out.push(id.unwrap_or_else(|| "unknown".into()));
            } else {
                out.push((*s).to_owned());
            }
        }
        out.join("/")
    }

    /// A plausible value for a property (valid in type, usually in content).
    fn sample(&self, doc: &Value, name: &str, schema: &Value, depth: usize) -> Value {
        if let Some(v) = self.values.get(name) {
            return v.clone();
        }
        if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
            return first.clone();
        }
        // `Option<T>` and untagged alternatives: the first that is not null.
        for part in ["oneOf", "anyOf"] {
            if let Some(alt) =
                schema[part].as_array().and_then(|a| a.iter().map(|s| resolve(doc, s)).find(|s| s["type"] != "null"))
            {
                return self.sample(doc, name, alt, depth);
            }
        }
        let ty = match &schema["type"] {
            Value::String(t) => t.clone(),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null").to_owned(),
            _ => "string".to_owned(),
        };
        match ty.as_str() {
            "integer" => json!(1),
            "number" => json!(1.5),
            "boolean" => json!(true),
            "array" if depth < 3 => {
                json!([self.sample(doc, "", resolve(doc, &schema["items"]), depth + 1)])
            }
            "object" if depth < 3 => Value::Object(
                properties(doc, schema)
                    .into_iter()
                    .map(|(k, s)| {
                        let v = self.sample(doc, &k, &s, depth + 1);
                        (k, v)
                    })
                    .collect(),
            ),
            "null" => Value::Null,
            _ if schema["format"] == "date" => json!("2025-03-15"),
            _ if schema["format"] == "uri" => json!("https://example.com/x"),
            _ => json!("text"),
        }
    }

    /// `body` less the fields the operation refused in it, so that each case below differs
    /// from an accepted body in one thing (the sampler cannot know every field's rules).
    async fn accepted(&self, method: &reqwest::Method, path: &str, mut body: Map<String, Value>) -> Map<String, Value> {
        for _ in 0..10 {
            let r = self
                .app
                .http
                .request(method.clone(), self.app.url(path))
                .bearer_auth(&self.key)
                .json(&Value::Object(body.clone()))
                .send()
                .await
                .unwrap();
            if r.status() != 422 {
                break;
            }
            let e: Value = r.json().await.unwrap();
            let refused: Vec<String> = e["error"]["details"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.split(['.', '[']).next().unwrap_or("").to_owned())
                .collect();
            if !refused.iter().any(|k| body.remove(k).is_some()) {
                break;
            }
        }
        body
    }

    /// Sends one request: it must answer below 500 and, as an error, in the surface's shape.
    async fn send(&self, method: &reqwest::Method, path: &str, body: Option<(&str, Vec<u8>)>, case: &str) -> u16 {
        // Keep the enterprise plan's per-minute window from refusing the suite: move time on.
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 500 == 499 {
            self.app.clock.advance(Duration::minutes(1));
        }
        let mut req = self.app.http.request(method.clone(), self.app.url(path)).bearer_auth(&self.key);
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        // The harness checks the status and body against the document here.
        let r = req.send().await.unwrap_or_else(|e| panic!("{method} {path} [{case}]: {e}"));
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let what = || format!("{method} {path} [{case}] → {status}: {}", text.chars().take(300).collect::<String>());
        assert!(status < 500, "{}", what());
        assert_ne!(status, 429, "the suite outran its rate limit: {}", what());
        if status >= 400 && path.starts_with(partnerd_api::PARTNERS_PREFIX) {
            let e: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {}", what()));
            assert_eq!(e["success"], false, "{}", what());
            assert!(e["error"]["code"].as_str().is_some_and(|c| !c.is_empty()), "{}", what());
            assert!(e["error"]["details"].is_object(), "{}", what());
            // A refusal names the problem; it does not send a huge value back.
            assert!(text.len() <= 4_096, "an error of {} bytes: {}", text.len(), what());
        }
        if status >= 400 && path.starts_with(partnerd_api::app_reseller_v1::PREFIX) {
            let e: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {}", what()));
            assert_eq!(e["status"], status, "{}", what());
            assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "{}", what());
            assert!(text.len() <= 4_096, "an error of {} bytes: {}", text.len(), what());
        }
        status
    }
}

/// Values of every kind but the right one, numbers at and past every bound, and strings that
/// are empty, huge, controlled or numeric-looking.
fn hostile_values(rng: &mut Rng) -> Vec<Value> {
    let control = *rng.pick(&['\u{0}', '\u{1}', '\u{8}', '\u{b}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}']);
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!([deep]);
    }
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(-0.0),
        json!(1e308),
        json!(-1e308),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e-300),
        json!(""),
        json!("   "),
        json!(format!("with a control {control} character")),
        json!(format!("{control}")),
        json!("x".repeat(200_000)),
        json!("-5"),
        json!("1e5"),
        json!("NaN"),
        json!("99999999999999999999999999999999"),
        json!("é😀\u{200b}\u{feff}"),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({ "nested": { "deeper": [1] } }),
        deep,
        json!(vec!["x"; 10_000]),
    ]
}

/// Bodies that are not one JSON value, or not the JSON they seem.
const MALFORMED: &[&str] = &[
    "",
    " ",
    "{",
    "}",
    "[",
    "{\"a\":",
    "{\"a\" 1}",
    "{'a': 1}",
    "{a: 1}",
    "nul",
    "tru",
    "{\"a\":1,}",
    "[1,]",
    "\u{feff}{}",
    "{\"a\":\"\\x\"}",
    "{\"a\":\"\\ud800\"}",
    "{\"a\":\"\\u00\"}",
    "1e999",
    "-",
    "01",
    "{\"a\":NaN}",
    "{\"a\":Infinity}",
    "{} {}",
    "{\"a\":1} trailing",
    "{\"a\":\"unterminated}",
    "{\"a\":\"raw\u{1}control\"}",
    "{\"\u{0}\":1}",
    "{\"a\":1}\u{0}",
];

async fn bodies_of(fx: &Fixture, doc: &Value, op: &Operation, schema: &Value, rng: &mut Rng) -> usize {
    let path = fx.path(&op.template, &BTreeMap::new());
    let props = properties(doc, schema);
    let sampled: Map<String, Value> =
        props.iter().map(|(k, s)| (k.clone(), fx.sample(doc, k, s, 0))).collect::<Map<String, Value>>();
    let base = fx.accepted(&op.method, &path, sampled).await;
    let base_text = serde_json::to_string(&base).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for m in MALFORMED {
        cases.push((format!("malformed {m:?}"), m.as_bytes().to_vec()));
    }
    cases.push(("invalid UTF-8".into(), vec![b'{', b'"', b'a', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}']));
    // Truncated at random points.
    for _ in 0..6 {
        let cut = rng.below(base_text.len().max(1));
        if base_text.is_char_boundary(cut) {
            cases.push((format!("truncated at {cut}"), base_text.as_bytes()[..cut].to_vec()));
        }
    }
    // The wrong JSON type for the whole body.
    for whole in [json!(null), json!(1), json!("s"), json!([]), json!(true), json!([base.clone()])] {
        cases.push((format!("body {whole:.40}"), whole.to_string().into_bytes()));
    }
    // Deep nesting, whole and in a field: a 4xx from serde_json's recursion limit.
    let deep = |open: &str, close: &str, n: usize| format!("{}{}", open.repeat(n), close.repeat(n));
    cases.push(("10,000 nested arrays".into(), deep("[", "]", 10_000).into_bytes()));
    cases.push((
        "10,000 nested objects".into(),
        format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
    ));
    if let Some((k, _)) = props.first() {
        cases.push((
            format!("{k}: 10,000 nested arrays"),
            format!("{{\"{k}\":{}}}", deep("[", "]", 10_000)).into_bytes(),
        ));
    }
    // Each field, a few hostile values (a different few each field, from the seeded generator).
    let hostile = hostile_values(rng);
    for (k, _) in &props {
        for _ in 0..6 {
            let mut body = base.clone();
            let v = rng.pick(&hostile).clone();
            let label = format!("{k}: {:.40}", v.to_string());
            body.insert(k.clone(), v);
            cases.push((label, serde_json::to_vec(&body).unwrap()));
        }
    }
    // Unknown fields: a control character in the key, a huge key, a duplicate key.
    let mut unknown = base.clone();
    unknown.insert("sneaky\u{0}key".into(), json!(1));
    cases.push(("a NUL in a key".into(), serde_json::to_vec(&unknown).unwrap()));
    let mut unknown = base.clone();
    unknown.insert("k".repeat(100_000), json!(1));
    cases.push(("a huge key".into(), serde_json::to_vec(&unknown).unwrap()));
    if let Some((k, _)) = props.first() {
        let dup = format!("{{\"{k}\":1,{}", base_text.trim_start_matches('{'));
        cases.push(("a duplicate key".into(), dup.into_bytes()));
    }
    // Oversized: past the 1 MiB limit (413), and just under it in one field.
    cases.push(("1.5 MiB".into(), format!("{{\"a\":\"{}\"}}", "x".repeat(1_500_000)).into_bytes()));
    if let Some((k, _)) = props.first() {
        let mut body = base.clone();
        body.insert(k.clone(), json!("y".repeat(1_000_000)));
        cases.push((format!("{k}: 1,000,000 characters"), serde_json::to_vec(&body).unwrap()));
    }
    let n = cases.len();
    let mut accepted = 0;
    for (label, bytes) in cases {
        accepted += usize::from(fx.send(&op.method, &path, Some(("application/json", bytes)), &label).await < 300);
    }
    eprintln!("{} {}: {n} bad bodies, {accepted} accepted as harmless", op.method, op.template);
    // The right JSON under the wrong media types.
    for media in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data"] {
        let status = fx.send(&op.method, &path, Some((media, base_text.clone().into_bytes())), media).await;
        assert_eq!(status, 415, "{} {path} as {media}", op.method);
    }
    n + 4
}

/// Query values that are refused or harmless, never a 5xx.
const QUERY_VALUES: &[&str] = &[
    "%00",
    "a%00b",
    "%01",
    "%7F",
    "%C2%85",
    "%FF",
    "%E0%A4",
    "%",
    "%zz",
    "-1",
    "0",
    "99999999999999999999",
    "1e10",
    "1.5",
    "",
    "true",
    "%5B%5D",
    "+",
    "%E2%80%8B",
    "2025-13-45",
    "9999-12-31T23:59:59Z",
    "-999999-01-01",
];

async fn parameters_of(fx: &Fixture, op: &Operation) -> usize {
    let mut n = 0;
    let long = "q".repeat(8_000);
    for (name, place) in &op.params {
        let mut values: Vec<String> = QUERY_VALUES.iter().map(|v| (*v).to_owned()).collect();
        values.push(long.clone());
        for value in values {
            // An empty segment is another path (`/reports/` is not `/reports/{id}`), not a value.
            if place == "path" && value.is_empty() {
                continue;
            }
            let (path, label) = if place == "path" {
                let overrides = BTreeMap::from([(name.clone(), value.clone())]);
                (fx.path(&op.template, &overrides), format!("path {name}={value:.40}"))
            } else {
                (format!("{}?{name}={value}", fx.path(&op.template, &BTreeMap::new())), format!("{name}={value:.40}"))
            };
            let body = op.body.as_ref().map(|_| ("application/json", b"{}".to_vec()));
            let status = fx.send(&op.method, &path, body, &label).await;
            if place == "query" && value.contains("%00") {
                // The AppReseller family refuses bad parameters with 400 (its document lists no 422).
                let refused = if path.starts_with(partnerd_api::PARTNERS_PREFIX) { 422 } else { 400 };
                assert_eq!(status, refused, "{} {path}: a NUL in a query value is refused", op.method);
            }
            n += 1;
        }
    }
    // Whatever the operation documents: repeated, unknown and undecodable names too.
    let base = fx.path(&op.template, &BTreeMap::new());
    let noise = ["a=%00", "%00=1", "%FF=1", "x&&&y=&=", "page=1&page=%00", "a[]=1&a[]=2", &"k=v&".repeat(500)];
    for q in noise {
        let body = op.body.as_ref().map(|_| ("application/json", b"{}".to_vec()));
        fx.send(&op.method, &format!("{base}?{q}"), body, q).await;
        n += 1;
    }
    n
}

on_both_backends!(every_body_of_every_operation_refuses_bad_input, |backend| async move {
    let Some(fx) = fixture(backend).await else { return };
    let r = fx.app.http.get(fx.app.url("/openapi.json")).send().await.unwrap();
    let doc: Value = r.json().await.unwrap();
    let mut rng = Rng::new(0x5eed_0001);
    let (mut operations_with_bodies, mut cases) = (0, 0);
    for op in operations(&doc) {
        if let Some(schema) = &op.body {
            cases += bodies_of(&fx, &doc, &op, schema, &mut rng).await;
            operations_with_bodies += 1;
        }
    }
    assert!(operations_with_bodies >= 10, "only {operations_with_bodies} operations with a body");
    eprintln!("{cases} bad bodies over {operations_with_bodies} operations");
    drop(fx.receiver);
});

on_both_backends!(every_parameter_of_every_operation_refuses_bad_input, |backend| async move {
    let Some(fx) = fixture(backend).await else { return };
    let r = fx.app.http.get(fx.app.url("/openapi.json")).send().await.unwrap();
    let doc: Value = r.json().await.unwrap();
    let (mut probed, mut cases) = (0, 0);
    for op in operations(&doc) {
        cases += parameters_of(&fx, &op).await;
        probed += 1;
    }
    assert!(probed >= 30, "only {probed} operations");
    eprintln!("{cases} bad parameters over {probed} operations");
});
