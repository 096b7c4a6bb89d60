//! Where a page starts, and the opaque keyset cursor every list hands out.
//!
//! A [`Window`] is either the documents' offset (`page`/`per_page`, `page`/`size`) or
//! [`Window::After`] a [`Cursor`]: the sort key of the last row of the previous page. A cursor
//! page seeks straight to that key through the list's index, so page 50,000 costs what page 1
//! costs, and rows written or deleted between two calls neither repeat nor vanish from the walk.
//!
//! A cursor is `base64url(JSON [order, [key values]]) + checksum`: opaque to clients, checked
//! on the way in (a changed or truncated cursor is refused as bad input, never sent to the
//! database), and tied to the order it was made in (a cursor from another sort is refused).

use super::value::Value;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value as Json, json};
use std::borrow::Cow;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// After this many rows of the order.
    Offset(u64),
    /// After the row the cursor was made from.
    After(Cursor),
    /// `skip` rows after the row the cursor was made from: how a service that keeps marks
    /// along a long list (the key of every few thousandth row) serves a deep offset, seeking the
    /// mark before it and stepping over the rest. Not a client's window.
    Beyond { after: Cursor, skip: u64 },
}

impl Default for Window {
    fn default() -> Self {
        Window::Offset(0)
    }
}

/// A page of rows, the filter's total, and the cursor of the page after it (`None` on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub next: Option<Cursor>,
}

impl<T> Paged<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged { items: self.items.into_iter().map(f).collect(), total: self.total, next: self.next }
    }
}

/// The sort key of a page's last row, and the order it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub(super) order: u64,
    pub(super) key: Vec<Value<'static>>,
}

/// Keeps forged or damaged cursors from reaching SQL (a value of the wrong type would be a
/// database error): not a secret, a checksum over the payload.
const SALT: u64 = 0x7061_7274_6e65_7264;

pub(super) fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Cursor {
    /// About the memory the cursor takes, for caches that keep many (text keys' bytes counted).
    pub fn footprint(&self) -> usize {
        let heap = |v: &Value<'_>| match v {
            Value::Text(t) => t.len(),
            _ => 0,
        };
        size_of::<Self>() + self.key.iter().map(|v| size_of_val(v) + heap(v)).sum::<usize>()
    }

    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let key: Vec<Json> = self.key.iter().map(tagged).collect();
        let mut bytes = serde_json::to_vec(&json!([format!("{:x}", self.order), key])).unwrap_or_default();
        let check = fnv(SALT, &bytes);
        bytes.extend_from_slice(&check.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a cursor a client sent back; anything this process did not make is refused.
    pub fn parse(text: &str) -> Result<Cursor, String> {
        const BAD: &str = "is not a cursor this server gave out";
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| BAD.to_owned())?;
        if bytes.len() < 9 {
            return Err(BAD.into());
        }
        let (payload, check) = bytes.split_at(bytes.len() - 8);
        if fnv(SALT, payload).to_be_bytes() != check {
            return Err(BAD.into());
        }
        let parsed: Json = serde_json::from_slice(payload).map_err(|_| BAD.to_owned())?;
        let (Some(order), Some(key)) = (parsed.get(0).and_then(Json::as_str), parsed.get(1).and_then(Json::as_array))
        else {
            return Err(BAD.into());
        };
        let order = u64::from_str_radix(order, 16).map_err(|_| BAD.to_owned())?;
        let key = key.iter().map(untagged).collect::<Option<Vec<_>>>().ok_or_else(|| BAD.to_owned())?;
        Ok(Cursor { order, key })
    }
}

fn tagged(v: &Value<'static>) -> Json {
    match v {
        Value::Null => json!(["n"]),
        Value::Text(t) => json!(["s", t]),
        Value::Int(n) => json!(["i", n]),
        Value::Bool(b) => json!(["b", b]),
        Value::Time(t) => json!(["t", t.timestamp_micros()]),
        Value::Date(d) => json!(["d", d.format("%Y-%m-%d").to_string()]),
        Value::Json(j) => json!(["j", j]),
        Value::TextList(l) => json!(["l", l]),
        Value::Bytes(b) => json!(["y", URL_SAFE_NO_PAD.encode(b)]),
    }
}

fn untagged(v: &Json) -> Option<Value<'static>> {
    let tag = v.get(0)?.as_str()?;
    let x = v.get(1);
    Some(match tag {
        "n" => Value::Null,
        "s" => Value::Text(Cow::Owned(x?.as_str()?.to_owned())),
        "i" => Value::Int(x?.as_i64()?),
        "b" => Value::Bool(x?.as_bool()?),
        "t" => Value::Time(DateTime::<Utc>::from_timestamp_micros(x?.as_i64()?)?),
        "d" => Value::Date(NaiveDate::parse_from_str(x?.as_str()?, "%Y-%m-%d").ok()?),
        "j" => Value::Json(Cow::Owned(x?.clone())),
        "l" => Value::TextList(Cow::Owned(serde_json::from_value(x?.clone()).ok()?)),
        "y" => Value::Bytes(Cow::Owned(URL_SAFE_NO_PAD.decode(x?.as_str()?).ok()?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cursors_round_trip_every_value_kind() {
        let c = Cursor {
            order: 0xdead_beef,
            key: vec![
                Value::Null,
                Value::Text(Cow::Owned("ab\"c".into())),
                Value::Int(-5),
                Value::Bool(true),
                Value::Time(Utc.timestamp_micros(1_700_000_000_123_456).unwrap()),
                Value::Date(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
                Value::Bytes(Cow::Owned(vec![0, 255])),
            ],
        };
        assert_eq!(Cursor::parse(&c.encode()), Ok(c));
    }

    #[test]
    fn damaged_or_foreign_cursors_are_refused() {
        let good = Cursor { order: 1, key: vec![Value::Int(3)] }.encode();
        let mut chars: Vec<char> = good.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        let damaged: String = chars.into_iter().collect();
        for bad in ["", "abc", "!!!", &damaged, &good[..good.len() - 2], &URL_SAFE_NO_PAD.encode(b"[\"1\",[]]")] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
