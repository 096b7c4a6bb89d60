//! The kernel's JSON extractor, as the partners surface uses it: every way a body can be wrong
//! answers in the partners error envelope.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use http_body_util::BodyExt;
use partnerd_api::MAX_BODY_BYTES;
use partnerd_api::partners_v1::ApiJson;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Probe {
    title: String,
    per_page: u32,
    tags: Option<Vec<String>>,
}

async fn probe(ApiJson(p): ApiJson<Probe>) -> String {
    p.title
}

async fn send(content_type: Option<&str>, body: impl Into<Body>) -> (StatusCode, Value) {
    let app = Router::new().route("/probe", post(probe)).layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let mut req = Request::post("/probe");
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = app.oneshot(req.body(body.into()).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())))
}

#[tokio::test]
async fn a_good_body_passes() {
    let (status, body) = send(Some("application/json; charset=utf-8"), r#"{"title":"x","per_page":5}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, Value::String("x".into()));
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_415() {
    for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let (status, body) = send(ct, r#"{"title":"x","per_page":5}"#).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    }
}

#[tokio::test]
async fn malformed_json_is_400_validation_error_with_the_position() {
    for (raw, position) in [
        (r#"{"title":"x","#, "at line 1 column 13"),
        ("not json", "at line 1 column 2"),
        ("", "at line 1 column 0"),
        ("{\n\"title\":\"x\",\"per_page\":1} trailing-garbage", "at line 2 column 27"),
    ] {
        let (status, body) = send(Some("application/json"), raw).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw:?}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{raw:?}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("Malformed JSON"));
        let detail = body["error"]["details"]["body"][0].as_str().unwrap();
        assert!(detail.ends_with(position), "{raw:?}: {detail}");
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_422_naming_the_field() {
    let (status, body) = send(Some("application/json"), r#"{"title":"x","per_page":"five"}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert!(body["error"]["details"]["per_page"][0].as_str().unwrap().contains("invalid type"));
    assert!(body["error"]["message"].as_str().unwrap().starts_with("The per_page field"));

    let (status, body) = send(Some("application/json"), r#"{"title":"x","per_page":1,"tags":[1]}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["details"].get("tags[0]").is_some(), "{body}");

    let (status, body) = send(Some("application/json"), r#"{"per_page":1}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["details"]["body"][0].as_str().unwrap().contains("missing field `title`"));

    let (status, _) = send(Some("application/json"), "[1,2]").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let big = json!({ "title": "x".repeat(MAX_BODY_BYTES), "per_page": 1 }).to_string();
    let (status, body) = send(Some("application/json"), big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
}
