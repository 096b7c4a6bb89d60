//! `catch_panic` on test-only routes that panic (before and after their first poll).

use super::*;
use crate::kernel::surface_tests::ResellerError;
use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::get;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn boom() -> &'static str {
    panic!("the handler's bug")
}

async fn later() -> &'static str {
    tokio::task::yield_now().await;
    panic!("a panic after the first poll")
}

async fn fine() -> &'static str {
    "fine"
}

async fn call<E: SurfaceError>(path: &str) -> (StatusCode, Value) {
    let app: Router = Router::new()
        .route("/boom", get(boom))
        .route("/later", get(later))
        .route("/fine", get(fine))
        .layer(axum::middleware::from_fn(catch_panic::<E>));
    let req = axum::http::Request::builder().uri(path).body(Body::empty()).expect("request");
    let res = app.oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_panic_is_the_partners_envelope() {
    for path in ["/boom", "/later"] {
        let (status, body) = call::<crate::partners_v1::ApiError>(path).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(body["success"], json!(false), "{body}");
        assert_eq!(body["error"]["code"], "SERVER_ERROR", "{body}");
        assert!(!body.to_string().contains("bug") && !body.to_string().contains("first poll"), "{body}");
    }
    assert_eq!(call::<crate::partners_v1::ApiError>("/fine").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_panic_is_the_app_reseller_shape() {
    let (status, body) = call::<crate::app_reseller_v1::ResellerError>("/boom").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["status"], 500, "{body}");
    assert!(body["code"].is_string() && body["message"].is_string(), "{body}");
    assert!(body.get("success").is_none(), "{body}");
    // Any surface built on the kernel gets it.
    let (status, body) = call::<ResellerError>("/later").await;
    assert_eq!((status, body["status"].clone()), (StatusCode::INTERNAL_SERVER_ERROR, json!(500)));
}
