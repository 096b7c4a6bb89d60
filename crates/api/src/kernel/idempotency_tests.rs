//! The `Idempotency-Key` layer on a test surface with the AppReseller error shape
//! (`{"code", "message", "status"}`), over a real SQLite store.

use super::idempotency::fingerprint;
use super::surface_tests::ResellerError;
use super::{IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER, idempotency};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::post;
use http_body_util::BodyExt;
use partnerd_domain::ManualClock;
use partnerd_services::idempotency::Begin;
use partnerd_services::{InMemoryCounter, PlanCatalog};
use partnerd_services::{Principal, Services};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tower::ServiceExt;

#[test]
fn the_fingerprint_separates_method_target_and_body() {
    let a = fingerprint("POST", "/a", b"{}");
    assert_eq!(a, fingerprint("POST", "/a", b"{}"));
    assert_eq!(a.len(), 64);
    assert_ne!(a, fingerprint("POST", "/a", b"{ }"));
    assert_ne!(a, fingerprint("POST", "/b", b"{}"));
    assert_ne!(fingerprint("POST", "/ab", b""), fingerprint("POST", "/a", b"b"));
}

struct Fixture {
    app: Router,
    clock: Arc<ManualClock>,
    services: Services,
    runs: Arc<AtomicUsize>,
    gate: Arc<tokio::sync::Semaphore>,
    entered: Arc<tokio::sync::Semaphore>,
}

/// The layer on a surface with the AppReseller error shape, over a real SQLite store:
/// `/things` counts its runs and answers 201 with a `Location`; `/flaky` fails with a 500
/// on its first run; `/slow` waits for the test's permit.
fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("partnerd-idem-{}", partnerd_domain::ids::random_token(10)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = partnerd_store_sqlite::SqliteStore::open(&dir.join("t.db")).expect("store");
    let clock = Arc::new(ManualClock::at(chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000)));
    let services = Services::new(store, clock.clone(), PlanCatalog::default(), Arc::new(InMemoryCounter::default()));
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let entered = Arc::new(tokio::sync::Semaphore::new(0));
    let principal = Arc::new(Principal {
        key_id: "key_1".into(),
        marketplace_id: "mkt_1".into(),
        user_id: "usr_1".into(),
        user_email: "op@example.com".into(),
        company_id: "cmp_1".into(),
        roles: vec![],
        partner: None,
    });
    let (r1, r2, r3, g, e) = (runs.clone(), runs.clone(), runs.clone(), gate.clone(), entered.clone());
    let app = Router::new()
        .route(
            "/things",
            post(move |body: String| async move {
                let n = r1.fetch_add(1, Ordering::SeqCst) + 1;
                (StatusCode::CREATED, [(LOCATION, format!("/things/{n}"))], axum::Json(json!({ "n": n, "body": body })))
            }),
        )
        .route(
            "/flaky",
            post(move || async move {
                if r2.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response()
                } else {
                    (StatusCode::CREATED, "made").into_response()
                }
            }),
        )
        .route(
            "/slow",
            post(move || async move {
                e.add_permits(1);
                let _permit = g.acquire().await.expect("gate open");
                r3.fetch_add(1, Ordering::SeqCst);
                StatusCode::ACCEPTED
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            (services.clone(), "/reseller"),
            idempotency::<ResellerError>,
        ))
        .layer(axum::middleware::from_fn(move |mut req: Request, next: Next| {
            let principal = principal.clone();
            async move {
                req.extensions_mut().insert(principal);
                next.run(req).await
            }
        }));
    Fixture { app, clock, services, runs, gate, entered }
}

async fn call(app: &Router, path: &str, key: Option<&[u8]>, body: &str) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder().method("POST").uri(path).header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_bytes(k).expect("header bytes"));
    }
    let res = app.clone().oneshot(req.body(Body::from(body.to_owned())).expect("request")).await.expect("infallible");
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (parts.status, parts.headers, value)
}

#[tokio::test]
async fn a_retry_replays_the_kept_response_and_runs_nothing() {
    let f = fixture();
    let (status, headers, body) = call(&f.app, "/things", Some(b"k-1"), r#"{"a":1}"#).await;
    assert_eq!((status, headers.get(LOCATION).map(|v| v.to_str().unwrap())), (StatusCode::CREATED, Some("/things/1")));
    assert!(headers.get(REPLAYED_HEADER).is_none());
    let (s2, h2, b2) = call(&f.app, "/things", Some(b"k-1"), r#"{"a":1}"#).await;
    assert_eq!((s2, &b2), (status, &body));
    assert_eq!(h2.get(REPLAYED_HEADER).unwrap(), "true");
    assert_eq!(h2.get(LOCATION), headers.get(LOCATION));
    assert_eq!(h2.get(CONTENT_TYPE), headers.get(CONTENT_TYPE));
    assert_eq!(f.runs.load(Ordering::SeqCst), 1);
    // Without a key, or with another, it runs.
    assert_eq!(call(&f.app, "/things", None, r#"{"a":1}"#).await.2["n"], 2);
    assert_eq!(call(&f.app, "/things", Some(b"k-2"), r#"{"a":1}"#).await.2["n"], 3);
}

#[tokio::test]
async fn another_request_with_the_key_is_refused_in_the_surfaces_shape() {
    let f = fixture();
    call(&f.app, "/things", Some(b"k"), r#"{"a":1}"#).await;
    for (path, body) in [("/things", r#"{"a":2}"#), ("/things", r#"{"a":1} "#), ("/flaky", r#"{"a":1}"#)] {
        let (status, _, body) = call(&f.app, path, Some(b"k"), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({ "code": "error", "message": "IdempotencyKeyReused", "status": 400 }));
    }
    assert_eq!(f.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn malformed_keys_are_refused_before_anything_runs() {
    let f = fixture();
    let long = vec![b'a'; 256];
    for key in [&b""[..], &long, b"caf\xc3\xa9", b"tab\there"] {
        let (status, _, body) = call(&f.app, "/things", Some(key), "{}").await;
        assert_eq!((status, body["status"].clone()), (StatusCode::BAD_REQUEST, json!(400)), "{key:?}");
    }
    assert_eq!(call(&f.app, "/things", Some(&long[..255]), "{}").await.0, StatusCode::CREATED);
    let req = Request::builder()
        .method("POST")
        .uri("/things")
        .header(IDEMPOTENCY_KEY_HEADER, "a")
        .header(IDEMPOTENCY_KEY_HEADER, "a")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(f.app.clone().oneshot(req).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(f.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_server_error_is_not_kept_so_the_retry_runs_again() {
    let f = fixture();
    assert_eq!(call(&f.app, "/flaky", Some(b"k"), "").await.0, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, headers, _) = call(&f.app, "/flaky", Some(b"k"), "").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(headers.get(REPLAYED_HEADER).is_none(), "ran again");
    let (status, headers, body) = call(&f.app, "/flaky", Some(b"k"), "").await;
    let replayed = headers.get(REPLAYED_HEADER).unwrap().to_str().unwrap();
    assert_eq!((status, body, replayed), (StatusCode::CREATED, json!("made"), "true"));
    assert_eq!(f.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_retry_while_the_first_runs_is_a_conflict_and_the_first_still_finishes() {
    let f = fixture();
    let first = tokio::spawn({
        let app = f.app.clone();
        async move { call(&app, "/slow", Some(b"k"), "").await.0 }
    });
    // The first request is inside the handler, so its claim is committed.
    f.entered.acquire().await.expect("entered").forget();
    let (status, _, body) = call(&f.app, "/slow", Some(b"k"), "").await;
    assert_eq!((status, body["status"].clone()), (StatusCode::CONFLICT, json!(409)));
    f.gate.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::ACCEPTED);
    let (status, headers, _) = call(&f.app, "/slow", Some(b"k"), "").await;
    assert_eq!((status, headers.get(REPLAYED_HEADER).unwrap().to_str().unwrap()), (StatusCode::ACCEPTED, "true"));
    assert_eq!(f.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_claim_left_by_a_dead_request_lapses_and_kept_responses_expire() {
    let f = fixture();
    let principal = Principal {
        key_id: "key_1".into(),
        marketplace_id: "mkt_1".into(),
        user_id: "usr_1".into(),
        user_email: "op@example.com".into(),
        company_id: "cmp_1".into(),
        roles: vec![],
        partner: None,
    };
    // A claim nobody completes, as a process that died mid-request leaves it.
    let print = fingerprint("POST", "/reseller/things", b"{}");
    assert!(matches!(f.services.idempotency().begin(&principal, "dead", print).await, Ok(Begin::Run(_))));
    assert_eq!(call(&f.app, "/things", Some(b"dead"), "{}").await.0, StatusCode::CONFLICT);
    f.clock.advance(partnerd_services::idempotency::LOCK_TIMEOUT);
    assert_eq!(call(&f.app, "/things", Some(b"dead"), "{}").await.0, StatusCode::CREATED);
    assert_eq!(call(&f.app, "/things", Some(b"dead"), "{}").await.1.get(REPLAYED_HEADER).unwrap(), "true");
    f.clock.advance(partnerd_services::idempotency::RETENTION);
    assert_eq!(f.services.idempotency().purge_expired().await.unwrap(), 1);
    let (status, headers, body) = call(&f.app, "/things", Some(b"dead"), "{}").await;
    assert_eq!((status, headers.get(REPLAYED_HEADER), body["n"].clone()), (StatusCode::CREATED, None, json!(2)));
}
