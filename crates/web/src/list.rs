//! What the dashboard's lists share: the page size and page numbers, parameters read from the
//! query string (and kept in the pager's links), and the filters' search text and date bounds.

use crate::html::{alert, pager, urlenc};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use partnerd_domain::ValidationErrors;
use std::collections::BTreeMap;

/// Rows per page of the dashboard's lists.
pub(crate) const PER_PAGE: u32 = 20;
/// The APIs' bound on a list's search text (`searchText`).
pub(crate) const SEARCH_MAX: usize = 200;
/// Above a list whose filter fields show refusals.
pub(crate) const FILTER_REFUSED: &str = "The filter was refused: see the messages beside its fields.";

/// The query string's parameters (a repeated one: its last value). Never refuses anything.
pub(crate) fn params(raw: Option<&str>) -> BTreeMap<String, String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or("")).unwrap_or_default().into_iter().collect()
}

/// A parameter, trimmed; empty when absent.
pub(crate) fn param<'a>(p: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    p.get(name).map_or("", |v| v.trim())
}

/// The first value of a parameter among decoded pairs (a query's or a form's), as sent; empty
/// when absent.
pub(crate) fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// A 1-based page number; anything else is the first page.
pub(crate) fn page_number(raw: &str) -> u64 {
    raw.trim().parse::<u64>().ok().filter(|p| (1..=1_000_000).contains(p)).unwrap_or(1)
}

/// The rows before a 1-based page.
pub(crate) fn offset_of(page_no: u64, per_page: u32) -> u64 {
    page_no.saturating_sub(1).saturating_mul(u64::from(per_page))
}

/// `k=v&…` of the non-empty pairs, trimmed and encoded (links that keep a list's filters).
pub(crate) fn query_of(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", urlenc(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a filtered list shows under its filter form: why the filter was refused (if it was),
/// the table, and the pager of `path` keeping the filters (`keep`, as [`query_of`] takes them).
pub(crate) fn results(
    refused: bool,
    table: &str,
    path: &str,
    keep: &[(&str, &str)],
    page_no: u64,
    total: u64,
) -> String {
    let mut out = if refused { alert(FILTER_REFUSED) } else { String::new() };
    out.push_str(table);
    out.push_str(&pager(path, &query_of(keep), page_no, u64::from(PER_PAGE), total));
    out
}

/// An optional filter: `None` when empty, else `parse`d (a refusal recorded under `name`).
pub(crate) fn optional<T, E: std::fmt::Display>(
    errors: &mut ValidationErrors,
    name: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    match raw.trim() {
        "" => None,
        t => errors.check(name, parse(t)),
    }
}

/// A search text trimmed (`None` when empty), or why it is refused (longer than the APIs take).
pub(crate) fn search_of(raw: &str) -> Result<Option<String>, String> {
    match raw.trim() {
        "" => Ok(None),
        t if t.chars().count() > SEARCH_MAX => Err(format!("must be at most {SEARCH_MAX} characters")),
        t => Ok(Some(t.to_owned())),
    }
}

/// `searchText` as the APIs read it, its refusal recorded under that name.
pub(crate) fn search_text(raw: &str, errors: &mut ValidationErrors) -> Option<String> {
    errors.check("searchText", search_of(raw)).flatten()
}

/// A day (`YYYY-MM-DD`, from a date input: its first or last millisecond) or Unix epoch
/// milliseconds (the APIs' `fromDate` / `toDate`, `createdFrom` / `createdTo`).
pub(crate) fn parse_day(raw: &str, end_of_day: bool) -> Result<Option<DateTime<Utc>>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || "must be a date (YYYY-MM-DD) or Unix epoch milliseconds".to_owned();
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = t.parse().map_err(|_| bad())?;
        return Utc.timestamp_millis_opt(ms).single().map(Some).ok_or_else(bad);
    }
    let day = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad())?;
    let at = if end_of_day { day.and_hms_milli_opt(23, 59, 59, 999) } else { day.and_hms_opt(0, 0, 0) };
    at.map(|x| Some(x.and_utc())).ok_or_else(bad)
}

/// A date input's value for a [`parse_day`] bound: the parsed day, else what was typed (shown
/// with its error).
pub(crate) fn date_value(raw: &str, end_of_day: bool) -> String {
    parse_day(raw, end_of_day)
        .ok()
        .flatten()
        .map_or_else(|| raw.trim().to_owned(), |t| t.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_helpers_never_refuse() {
        let p = params(Some("status=active&status=suspended&plan=&x=%ZZ"));
        assert_eq!(param(&p, "status"), "suspended");
        assert_eq!(param(&p, "plan"), "");
        assert!(params(Some("%%%&&==")).len() <= 3);
        assert_eq!(page_number("0"), 1);
        assert_eq!(page_number("-3"), 1);
        assert_eq!(page_number("abc"), 1);
        assert_eq!(page_number("4"), 4);
        assert_eq!(offset_of(3, PER_PAGE), 40);
        assert_eq!(query_of(&[("status", "a b"), ("plan", ""), ("b", " ")]), "status=a%20b");
    }

    #[test]
    fn days_and_epochs_parse_as_the_api_bounds() {
        assert_eq!(parse_day("", false).unwrap(), None);
        assert_eq!(parse_day("1523007202000", false).unwrap().unwrap().timestamp_millis(), 1_523_007_202_000);
        assert_eq!(parse_day("2025-01-15", false).unwrap().unwrap().to_rfc3339(), "2025-01-15T00:00:00+00:00");
        assert_eq!(parse_day("2025-01-15", true).unwrap().unwrap().timestamp_millis() % 1000, 999);
        assert!(parse_day("yesterday", false).is_err());
        assert_eq!(date_value("1523007202000", false), "2018-04-06");
        assert_eq!(date_value(" soon ", true), "soon");
    }

    #[test]
    fn searches_are_bounded() {
        let mut e = ValidationErrors::new();
        assert_eq!(search_text("  acme ", &mut e).as_deref(), Some("acme"));
        assert_eq!(search_text(&"x".repeat(SEARCH_MAX + 1), &mut e), None);
        assert!(e.fields().contains_key("searchText"));
    }
}
