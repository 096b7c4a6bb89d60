//! A second surface with another error shape (`{"code", "message", "status"}`, as the
//! AppReseller documents have it) built from the kernel alone: its extractors and fallbacks
//! answer in its shape without any partners code.

// The macro defines all four extractors; this test surface uses two of them.
#![allow(dead_code, unreachable_pub)]

use super::{Bounded, Rejection, method_not_allowed, unknown_route};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Debug)]
pub struct ResellerError(Rejection);

impl From<Rejection> for ResellerError {
    fn from(r: Rejection) -> Self {
        ResellerError(r)
    }
}

impl IntoResponse for ResellerError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let (code, message) = match &self.0 {
            Rejection::MalformedJson { line, column, .. } => ("invalid_json", format!("line {line}, column {column}")),
            Rejection::InvalidQuery(problems) => ("invalid_parameter", problems[0].0.clone()),
            Rejection::UnknownRoute => ("not_found", String::new()),
            other => ("error", format!("{other:?}")),
        };
        (status, axum::Json(json!({ "code": code, "message": message, "status": status.as_u16() }))).into_response()
    }
}

mod reseller {
    use super::ResellerError;
    crate::kernel::extractors!(ResellerError);
}

#[derive(serde::Deserialize)]
struct Body_ {
    #[allow(dead_code)]
    name: String,
}

#[derive(serde::Deserialize)]
struct Paging {
    #[allow(dead_code)]
    limit: Option<Bounded<1, 50>>,
}

async fn create(_: reseller::Query<Paging>, _: reseller::ApiJson<Body_>) -> StatusCode {
    StatusCode::CREATED
}

async fn call(method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
    let app: Router = Router::new()
        .route("/resellers", post(create))
        .fallback(unknown_route::<ResellerError>)
        .method_not_allowed_fallback(method_not_allowed::<ResellerError>);
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let res = app.oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn another_surface_gets_its_own_shape_from_the_kernel() {
    assert_eq!(call("POST", "/resellers?limit=5", r#"{"name":"x"}"#).await.0, StatusCode::CREATED);
    let (status, body) = call("POST", "/resellers", r#"{"name":"x"} tail"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({ "code": "invalid_json", "message": "line 1, column 14", "status": 400 }));
    let (status, body) = call("POST", "/resellers?limit=500", r#"{"name":"x"}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, json!({ "code": "invalid_parameter", "message": "limit", "status": 422 }));
    let (status, body) = call("GET", "/nowhere", "").await;
    assert_eq!((status, body["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
    assert_eq!(call("GET", "/resellers", "").await.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn another_surface_inherits_the_control_character_rule() {
    let (status, body) = call("POST", "/resellers", r#"{"name":"nul\u0000byte"}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("InvalidBody { path: Some(\"name\")"), "{body}");
    let (status, body) = call("POST", "/resellers?limit=%00", r#"{"name":"x"}"#).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_parameter")));
}
