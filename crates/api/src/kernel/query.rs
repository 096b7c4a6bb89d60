//! Query strings as typed structs. Unknown parameters are ignored; a value that does not decode
//! or parse, or holds a control character (`kernel::is_refused_control`), is an error naming its
//! parameter (all of them at once), never a dropped query. Paths follow the same rule.

use super::Rejection;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// The query string (`None`: there is none) as `T`. `T`'s fields should be optional (or have
/// defaults): a missing required one is reported under `query`. A repeated parameter: the last
/// value wins.
pub fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, Rejection> {
    let pairs = decode(raw.unwrap_or(""))?;
    let mut problems = Vec::new();
    let mut usable = Vec::with_capacity(pairs.len());
    // Each pair alone first, so every bad value is reported, not only the first serde meets.
    for (name, value) in pairs {
        match value {
            Err(problem) => problems.push((name, problem)),
            Ok(value) => match typed::<T>(&[(name.as_str(), value.as_str())]) {
                Err((Some(path), problem)) if path == name => problems.push((name, problem)),
                _ => usable.push((name, value)),
            },
        }
    }
    if !problems.is_empty() {
        return Err(Rejection::InvalidQuery(problems));
    }
    let usable: Vec<(&str, &str)> = usable.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    typed::<T>(&usable)
        .map_err(|(path, problem)| Rejection::InvalidQuery(vec![(path.unwrap_or_else(|| "query".into()), problem)]))
}

fn typed<T: DeserializeOwned>(pairs: &[(&str, &str)]) -> Result<T, (Option<String>, String)> {
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ((path != ".").then_some(path), e.into_inner().to_string())
    })
}

type Pair = (String, Result<String, String>);

/// `name=value` pairs, `+` as space, percent-decoded strictly (a `%` not followed by two hex
/// digits, or bytes that are not UTF-8, are errors); the last of a repeated name wins.
fn decode(raw: &str) -> Result<Vec<Pair>, Rejection> {
    let mut pairs: Vec<Pair> = Vec::new();
    for segment in raw.split('&').filter(|s| !s.is_empty()) {
        let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
        let name = percent_decode(name)
            .ok()
            .filter(|n| !n.chars().any(super::is_refused_control))
            .ok_or_else(|| Rejection::MalformedQuery { pair: segment.to_owned() })?;
        let value = percent_decode(value).map_err(|_| "is not valid percent-encoded UTF-8".to_owned()).and_then(|v| {
            match v.chars().find(|c| super::is_refused_control(*c)) {
                Some(c) => Err(super::control_character_message(c)),
                None => Ok(v),
            }
        });
        pairs.retain(|(n, _)| *n != name);
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(())?;
                let hex = std::str::from_utf8(hex).map_err(|_| ())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ())
}

/// Every value of the parameter `name` in the query string, in order (the typed [`query`] keeps
/// the last): for the documented "array of string" parameters that repeat
/// (`createdOn=gte(1)&createdOn=lte(2)`). Decoded as [`query`] decodes; a pair that does not
/// decode is left out (the typed query refuses it first).
pub fn repeated(raw: Option<&str>, name: &str) -> Vec<String> {
    raw.unwrap_or("")
        .split('&')
        .filter_map(|segment| {
            let (k, v) = segment.split_once('=').unwrap_or((segment, ""));
            (percent_decode(k).ok()? == name).then(|| percent_decode(v).ok()).flatten()
        })
        .collect()
}

/// Whether a request path cannot name anything: a segment that does not percent-decode to
/// UTF-8 (`%FF`, `%zz`), or decodes to a refused control character (`a%00b`). Ids never hold
/// either (every text input refuses control characters), and such a segment must not reach a
/// store, nor a framework extractor that would answer outside the surface's shape.
pub fn path_is_unusable(path: &str) -> bool {
    // `+` is literal in paths; percent_decode would read it as a space, which is harmless here.
    path.contains('%')
        && path
            .split('/')
            .any(|segment| percent_decode(segment).map_or(true, |s| s.chars().any(super::is_refused_control)))
}

/// A value type parsed from the parameter's text, with the surface's own message on failure.
pub trait FromParam: Sized {
    fn from_param(raw: &str) -> Result<Self, String>;
}

/// A query field of a [`FromParam`] type: `Option<Param<ListingStatus>>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<T>(pub T);

impl<'de, T: FromParam> Deserialize<'de> for Param<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        T::from_param(&raw).map(Param).map_err(D::Error::custom)
    }
}

/// `cursor`, on every list of every surface: the opaque keyset position a page hands out as
/// the start of the next (`meta.next_cursor`, `page.nextCursor`). Only cursors this server made
/// are accepted.
impl FromParam for partnerd_store::Cursor {
    fn from_param(raw: &str) -> Result<Self, String> {
        partnerd_store::Cursor::parse(raw)
    }
}

/// Where a page starts: after the `cursor` when one is given (the page number or offset is
/// then not used), else at `offset`.
pub fn window(cursor: Option<Param<partnerd_store::Cursor>>, offset: u64) -> partnerd_store::Window {
    match cursor {
        Some(Param(c)) => partnerd_store::Window::After(c),
        None => partnerd_store::Window::Offset(offset),
    }
}

/// An integer within `MIN..=MAX` (surrounding spaces allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u32, const MAX: u32>(pub u32);

impl<const MIN: u32, const MAX: u32> FromParam for Bounded<MIN, MAX> {
    fn from_param(raw: &str) -> Result<Self, String> {
        match raw.trim().parse::<u32>() {
            Ok(v) if (MIN..=MAX).contains(&v) => Ok(Bounded(v)),
            _ => Err(format!("must be an integer from {MIN} to {MAX}")),
        }
    }
}

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Param::<Self>::deserialize(d).map(|p| p.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, Default)]
    struct Probe {
        page: Option<Bounded<1, 10>>,
        per_page: Option<Bounded<1, 100>>,
        name: Option<String>,
    }

    fn problems(raw: &str) -> Vec<(String, String)> {
        match query::<Probe>(Some(raw)) {
            Err(Rejection::InvalidQuery(p)) => p,
            other => panic!("{raw}: {other:?}"),
        }
    }

    #[test]
    fn good_values_parse_and_unknown_parameters_are_ignored() {
        let p: Probe = query(Some("page=2&per_page=+30+&name=a+b%21&other=x&&")).unwrap();
        assert_eq!((p.page, p.per_page, p.name.as_deref()), (Some(Bounded(2)), Some(Bounded(30)), Some("a b!")));
        let p: Probe = query(None).unwrap();
        assert!(p.page.is_none() && p.name.is_none());
        let p: Probe = query(Some("page=1&page=3")).unwrap();
        assert_eq!(p.page, Some(Bounded(3)), "the last value wins");
    }

    #[test]
    fn every_bad_value_is_named() {
        assert_eq!(
            problems("page=0&per_page=x&name=ok"),
            vec![
                ("page".to_owned(), "must be an integer from 1 to 10".to_owned()),
                ("per_page".to_owned(), "must be an integer from 1 to 100".to_owned()),
            ]
        );
        assert_eq!(problems("name=%FF"), vec![("name".to_owned(), "is not valid percent-encoded UTF-8".to_owned())]);
        assert_eq!(problems("name=%zz")[0].0, "name");
    }

    #[test]
    fn control_characters_are_refused_naming_the_parameter() {
        let refused = |c: &str| {
            format!(
                "must not contain control characters (found U+{c}; only tab, line feed and carriage return are allowed)"
            )
        };
        assert_eq!(
            problems("name=a%00b&page=0"),
            vec![
                ("name".to_owned(), refused("0000")),
                ("page".to_owned(), "must be an integer from 1 to 10".to_owned()),
            ]
        );
        assert_eq!(problems("name=%7F")[0].1, refused("007F"));
        assert_eq!(problems("name=%C2%85")[0].1, refused("0085"), "C1 controls too");
        let p: Probe = query(Some("name=a%09b%0Ac%0D")).unwrap();
        assert_eq!(p.name.as_deref(), Some("a\tb\nc\r"), "tab, line feed and carriage return are text");
        assert_eq!(
            query::<Probe>(Some("na%00me=1")).unwrap_err(),
            Rejection::MalformedQuery { pair: "na%00me=1".into() }
        );
        // Also an unknown parameter: nothing with a control character is let through silently.
        assert_eq!(problems("other=%01")[0].0, "other");
    }

    #[test]
    fn paths_that_name_nothing_are_recognised() {
        assert!(path_is_unusable("/listings/a%00b"));
        assert!(path_is_unusable("/cosell/opportunities/%1B/timeline"));
        assert!(path_is_unusable("/listings/%FF"), "not UTF-8");
        assert!(path_is_unusable("/listings/a%zz"), "not percent-encoding");
        assert!(path_is_unusable("/listings/%"));
        assert!(!path_is_unusable("/listings/listing_abc"));
        assert!(!path_is_unusable("/listings/a%20b+c/%C3%A9"));
    }

    #[test]
    fn an_undecodable_name_is_a_malformed_pair() {
        assert_eq!(
            query::<Probe>(Some("page=1&%E0%A4=2")).unwrap_err(),
            Rejection::MalformedQuery { pair: "%E0%A4=2".into() }
        );
    }
}
