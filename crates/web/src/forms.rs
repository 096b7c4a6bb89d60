//! Reading what a form (or a redirect's query) sent: values as the APIs take them, and the
//! status of a page shown again with refused input.

use axum::http::StatusCode;
use serde::Deserialize;

/// A value trimmed, `None` when empty (the API's "absent").
pub(crate) fn given(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The non-empty lines, trimmed.
pub(crate) fn lines(v: &str) -> Vec<String> {
    v.lines().filter_map(given).collect()
}

/// The non-empty items separated by commas or lines, trimmed.
pub(crate) fn comma_list(v: &str) -> Vec<String> {
    v.split([',', '\n']).filter_map(given).collect()
}

/// 422 for a page shown again with refused input, else 200.
pub(crate) fn form_status(refused: bool) -> StatusCode {
    if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }
}

/// `?done=` of the redirect after an action (its notice is [`crate::html::done_notice`]).
#[derive(Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_and_empty_ones_dropped() {
        assert_eq!(given("  a "), Some("a".to_owned()));
        assert_eq!(given(" \n"), None);
        assert_eq!(lines("a\n\n b \n"), ["a", "b"]);
        assert_eq!(comma_list("a, b\nc,,"), ["a", "b", "c"]);
        assert_eq!(form_status(true), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
