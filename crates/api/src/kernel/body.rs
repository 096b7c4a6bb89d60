//! JSON bodies: content type, size limit, exactly one JSON value, typed with the failing path.

use super::Rejection;
use crate::MAX_BODY_BYTES;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

/// The body as `T`: wrong content type, oversized, unreadable, not one JSON value, or of the
/// wrong shape are each their own [`Rejection`].
pub async fn json_body<T: DeserializeOwned>(req: Request) -> Result<T, Rejection> {
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
        return Err(Rejection::UnsupportedMediaType);
    }
    let bytes = read_limited(req).await?;
    parse(&bytes)
}

/// As [`json_body`], but no body at all (no content type, no length) means `T::default()`.
pub async fn json_body_or_empty<T: DeserializeOwned + Default>(req: Request) -> Result<T, Rejection> {
    let empty = req.headers().get(CONTENT_TYPE).is_none()
        && req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_none_or(|v| v == "0");
    if empty { Ok(T::default()) } else { json_body(req).await }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Rejection> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            malformed(&inner)
        } else {
            let path = (path != ".").then_some(path);
            Rejection::InvalidBody { path, message: without_position(&inner.to_string()) }
        }
    })?;
    // One value and nothing after it: `{"a":1} garbage` is not a body we understood.
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

fn malformed(e: &serde_json::Error) -> Rejection {
    Rejection::MalformedJson { message: e.to_string(), line: e.line(), column: e.column() }
}

/// serde's messages end with " at line 1 column 17"; for a typed field its name says more.
fn without_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

/// Bodies up to this size are read (and thrown away) after the limit is passed, so the client,
/// still sending, receives the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 8 * MAX_BODY_BYTES;

async fn read_limited(req: Request) -> Result<Bytes, Rejection> {
    let (parts, body) = req.into_parts();
    read_body(&parts.headers, body).await
}

/// The body, up to [`MAX_BODY_BYTES`], with the same refusals as [`json_body`]'s.
pub(super) async fn read_body(headers: &HeaderMap, mut body: Body) -> Result<Bytes, Rejection> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(Rejection::PayloadTooLarge);
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(MAX_BODY_BYTES));
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Rejection::UnreadableBody(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen > DRAIN_LIMIT {
                return Err(Rejection::PayloadTooLarge);
            }
            if seen <= MAX_BODY_BYTES {
                buf.extend_from_slice(&data);
            }
        }
    }
    if seen > MAX_BODY_BYTES { Err(Rejection::PayloadTooLarge) } else { Ok(Bytes::from(buf)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Probe {
        #[allow(dead_code)]
        title: String,
    }

    #[test]
    fn trailing_garbage_is_malformed_with_its_position() {
        let r = parse::<Probe>(br#"{"title":"x"} trailing-garbage"#).unwrap_err();
        assert!(matches!(r, Rejection::MalformedJson { line: 1, column: 15, .. }), "{r:?}");
        assert!(parse::<Probe>(b"{\"title\":\"x\"}  \n").is_ok(), "trailing whitespace is fine");
    }

    #[test]
    fn the_failing_path_is_named() {
        let r = parse::<Probe>(br#"{"title":5}"#).unwrap_err();
        assert_eq!(
            r,
            Rejection::InvalidBody {
                path: Some("title".into()),
                message: "invalid type: integer `5`, expected a string".into()
            }
        );
        assert!(matches!(parse::<Probe>(b"{}").unwrap_err(), Rejection::InvalidBody { path: None, .. }));
    }
}
