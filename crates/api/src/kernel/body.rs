//! JSON bodies: content type, size limit, exactly one JSON value, no control characters in any
//! string, typed with the failing path.

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
    if may_hold_control_characters(bytes)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some((path, c)) = first_control_character(&value, &mut Vec::new())
    {
        let path = (!path.is_empty()).then_some(path);
        return Err(Rejection::InvalidBody { path, message: super::control_character_message(c) });
    }
    // serde_json's recursion limit (128 levels) stays on: deep nesting is a syntax error here.
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

/// Whether the body could hold a refused control character (see `kernel::is_refused_control`):
/// a `\u` escape of one, DEL, or a C1 control in UTF-8. Unescaped C0 controls inside JSON
/// strings are already syntax errors. A cheap scan, so well-formed bodies are parsed once.
fn may_hold_control_characters(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().any(|(i, &b)| match b {
        0x7f => true,
        0xc2 => bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)),
        b'\\' => {
            bytes.get(i + 1) == Some(&b'u')
                && bytes
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                    .is_some_and(super::is_refused_control)
        }
        _ => false,
    })
}

/// The first string (key or value) holding a refused control character: its path as
/// `serde_path_to_error` writes it (`a.b`, `tags[0]`; for a key, the path of its object with
/// the key escaped) and the character.
fn first_control_character(v: &serde_json::Value, path: &mut Vec<String>) -> Option<(String, char)> {
    use serde_json::Value;
    let joined = |path: &[String]| {
        let mut out = String::new();
        for segment in path {
            if !out.is_empty() && !segment.starts_with('[') {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    };
    match v {
        Value::String(s) => s.chars().find(|c| super::is_refused_control(*c)).map(|c| (joined(path), c)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(format!("[{i}]"));
            let found = first_control_character(item, path);
            path.pop();
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            if let Some(c) = k.chars().find(|c| super::is_refused_control(*c)) {
                path.push(k.escape_debug().to_string());
                let found = (joined(path), c);
                path.pop();
                return Some(found);
            }
            path.push(k.clone());
            let found = first_control_character(item, path);
            path.pop();
            found
        }),
        _ => None,
    }
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

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Nested {
        title: Option<String>,
        tags: Option<Vec<String>>,
        meta: Option<serde_json::Value>,
    }

    fn refused(body: &str) -> (Option<String>, String) {
        match parse::<Nested>(body.as_bytes()) {
            Err(Rejection::InvalidBody { path, message }) => (path, message),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        let (path, message) = refused(r#"{"title":"nul\u0000byte"}"#);
        assert_eq!(path.as_deref(), Some("title"));
        assert_eq!(
            message,
            "must not contain control characters (found U+0000; only tab, line feed and carriage return are allowed)"
        );
        assert_eq!(refused(r#"{"tags":["ok","b\u001bad"]}"#).0.as_deref(), Some("tags[1]"));
        assert_eq!(refused(r#"{"meta":{"a":[{"b":"\u007f"}]}}"#).0.as_deref(), Some("meta.a[0].b"));
        assert_eq!(refused("{\"title\":\"c1 \u{85}\"}").0.as_deref(), Some("title"), "a raw C1 control (NEL)");
        assert_eq!(refused("{\"title\":\"del \u{7f}\"}").0.as_deref(), Some("title"), "a raw DEL");
        assert_eq!(refused(r#"{"meta":{"k\u0001":1}}"#).0.as_deref(), Some("meta.k\\u{1}"), "a key");
        assert_eq!(refused(r#""\u0002""#).0, None, "the body itself");
        // Allowed: tab, line feed, carriage return; an escaped backslash before "u0000"; other
        // characters outside ASCII.
        let fine = parse::<Nested>(br#"{"title":"a\tb\nc\r\\u0000 \u00e9 \ud83d\ude00","tags":["\u0009"]}"#).unwrap();
        assert_eq!(fine.title.as_deref(), Some("a\tb\nc\r\\u0000 \u{e9} \u{1f600}"));
        // An unescaped control character inside a string is malformed JSON, as before.
        assert!(matches!(parse::<Nested>(b"{\"title\":\"a\x01\"}"), Err(Rejection::MalformedJson { .. })));
    }

    #[test]
    fn deep_nesting_is_malformed_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let r = parse::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert!(matches!(&r, Rejection::MalformedJson { message, .. } if message.contains("recursion limit")), "{r:?}");
        let deep = format!("{{\"meta\":{}\"\\u0000\"{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse::<Nested>(deep.as_bytes()), Err(Rejection::MalformedJson { .. })));
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
