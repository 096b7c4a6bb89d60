//! Per-field validation errors, collected so a client sees every problem at once.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    fields: BTreeMap<String, Vec<String>>,
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(field, message);
        e
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.entry(field.to_owned()).or_default().push(message.into());
    }

    /// Records the error of `result` under `field` and returns its value, if any.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// Adds `other`'s errors with `prefix` before each field name (`[3].` + `title`).
    pub fn merge_prefixed(&mut self, prefix: &str, other: ValidationErrors) {
        for (field, messages) in other.fields {
            self.fields.entry(format!("{prefix}{field}")).or_default().extend(messages);
        }
    }

    /// The same errors without those of `field`.
    pub fn without_field(mut self, field: &str) -> ValidationErrors {
        self.fields.remove(field);
        self
    }

    /// The same errors with `prefix` removed from field names that start with it.
    pub fn without_prefix(self, prefix: &str) -> ValidationErrors {
        let fields =
            self.fields.into_iter().map(|(f, m)| (f.strip_prefix(prefix).map(str::to_owned).unwrap_or(f), m)).collect();
        ValidationErrors { fields }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.fields
    }

    /// The first message, for a one-line summary.
    pub fn first_message(&self) -> Option<&str> {
        self.fields.values().flatten().next().map(String::as_str)
    }

    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (field, messages) in &self.fields {
            for m in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {m}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Longest piece of a client's value repeated in a message about it, in characters.
pub const ECHO_MAX: usize = 60;

/// A client's value as an error message repeats it: cut after [`ECHO_MAX`] characters (with
/// `…`), so a 200,000-character field is not sent back whole.
pub fn echo(value: &str) -> String {
    match value.char_indices().nth(ECHO_MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod echo_tests {
    #[test]
    fn long_values_are_cut_short() {
        assert_eq!(super::echo("short"), "short");
        let long = "é".repeat(200_000);
        assert_eq!(super::echo(&long), format!("{}…", "é".repeat(super::ECHO_MAX)));
    }
}
