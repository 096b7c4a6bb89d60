//! SQL text written once: PostgreSQL's `$1…$n` placeholders, rewritten for SQLite (`?1…?n`)
//! the first time a statement is used there and kept, so hot paths never rewrite again.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// The `n`-th (1-based) placeholder.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite => format!("?{n}"),
        }
    }

    /// What a versioned read appends to lock the row it checks. SQLite's single writer
    /// serialises the check and the write already.
    pub fn lock_suffix(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }
}

/// A statement both dialects accept, in PostgreSQL's placeholder syntax. Define one as a
/// `static` with [`crate::sql!`]; its text is built on first use and cached per dialect.
pub struct Query {
    build: fn() -> String,
    postgres: OnceLock<String>,
    sqlite: OnceLock<String>,
}

impl Query {
    pub const fn new(build: fn() -> String) -> Self {
        Self { build, postgres: OnceLock::new(), sqlite: OnceLock::new() }
    }

    pub fn postgres(&self) -> &str {
        self.postgres.get_or_init(self.build)
    }

    pub fn sqlite(&self) -> &str {
        self.sqlite.get_or_init(|| to_sqlite(self.postgres()))
    }

    pub fn text(&self, dialect: Dialect) -> &str {
        match dialect {
            Dialect::Postgres => self.postgres(),
            Dialect::Sqlite => self.sqlite(),
        }
    }
}

/// `static NAME: Query = sql!("SELECT {COLUMNS} … $1");`: `format!` syntax, evaluated once.
#[macro_export]
macro_rules! sql {
    ($($fmt:tt)+) => {
        $crate::kit::Query::new(|| ::std::format!($($fmt)+))
    };
}

/// Rewrites `$n` to `?n` outside quoted literals and identifiers.
pub fn to_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                // A doubled quote inside a literal is an escaped quote: toggling twice keeps us in.
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '$' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
                _ => out.push(c),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_literals_only() {
        assert_eq!(
            to_sqlite("SELECT '$1', \"a$2\" FROM t WHERE a = $1 AND b = $12 AND c = 'it''s $3' AND d = $3"),
            "SELECT '$1', \"a$2\" FROM t WHERE a = ?1 AND b = ?12 AND c = 'it''s $3' AND d = ?3"
        );
        assert_eq!(to_sqlite("SELECT $ FROM t"), "SELECT $ FROM t");
    }

    #[test]
    fn a_query_is_built_once_per_dialect() {
        static Q: Query = crate::sql!("SELECT {} FROM t WHERE id = $1", "x");
        assert_eq!(Q.postgres(), "SELECT x FROM t WHERE id = $1");
        assert_eq!(Q.sqlite(), "SELECT x FROM t WHERE id = ?1");
        assert!(std::ptr::eq(Q.sqlite(), Q.text(Dialect::Sqlite)), "cached, not rebuilt");
    }
}
