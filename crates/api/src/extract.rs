//! Extractors whose rejections speak the surface's error shape instead of axum's plain text.

use crate::MAX_BODY_BYTES;
use crate::partners_v1::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

/// JSON body for the partners surface: wrong content type 415, unreadable or oversized body
/// 400/413, malformed JSON 400, a field of the wrong type 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !json_type {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = read_limited(req).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(value) => Ok(ApiJson(value)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    Err(ApiError::bad_request(format!("Malformed JSON: {inner}")))
                } else if path == "." {
                    Err(ApiError::validation_single("body", &clean_serde_message(&inner.to_string())))
                } else {
                    Err(ApiError::validation_single(&path, &clean_serde_message(&inner.to_string())))
                }
            }
        }
    }
}

/// A JSON body that may also be absent (no body at all means `T::default()`), for actions
/// whose parameters are all optional.
pub struct JsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for JsonOrEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req.headers().get(CONTENT_TYPE).is_none()
            && req
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v == "0");
        if empty {
            return Ok(JsonOrEmpty(T::default()));
        }
        ApiJson::from_request(req, state).await.map(|ApiJson(v)| JsonOrEmpty(v))
    }
}

/// Bodies up to this size are read (and thrown away) after the limit is passed, so the client,
/// still sending, receives the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 8 * MAX_BODY_BYTES;

async fn read_limited(req: Request) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(ApiError::payload_too_large());
    }
    let mut body = req.into_body();
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(MAX_BODY_BYTES));
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("Could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen > DRAIN_LIMIT {
                return Err(ApiError::payload_too_large());
            }
            if seen <= MAX_BODY_BYTES {
                buf.extend_from_slice(&data);
            }
        }
    }
    if seen > MAX_BODY_BYTES { Err(ApiError::payload_too_large()) } else { Ok(Bytes::from(buf)) }
}

/// serde's messages end with " at line 1 column 17"; the field name says more to a client.
fn clean_serde_message(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}
