//! Dynamic filters: a where-clause builder that appends conditions and binds their values with
//! the dialect's placeholders, plus `+field`/`-field` sorts checked against an allowlist.

use super::page::{Cursor, Window, fnv};
use super::record::Decode;
use super::sql::Dialect;
use super::value::{RowRead, Value};
use crate::{StoreError, StoreResult};
use std::fmt::Write;

#[derive(Debug, Clone)]
pub struct Filter {
    dialect: Dialect,
    conditions: String,
    args: Vec<Value<'static>>,
    /// How many of `args` belong to the conditions (the rest page).
    condition_args: usize,
    /// The keyset condition of a cursor page (not part of the count).
    seek: String,
    /// The order's columns, tie-break last: a cursor's key.
    keys: Vec<(String, Order)>,
    /// How many of `keys` come from the tie-break (NOT NULL columns); the others may be NULL.
    tie_keys: usize,
    /// The page size asked for (one more row is read, to know whether a next page exists).
    limit: usize,
    tail: String,
    /// How much of `tail` is the `ORDER BY` (the rest pages).
    order_len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Filter {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            conditions: String::with_capacity(192),
            args: Vec::with_capacity(8),
            condition_args: 0,
            seek: String::new(),
            keys: Vec::new(),
            tie_keys: 0,
            limit: usize::MAX,
            tail: String::new(),
            order_len: 0,
        }
    }

    fn bind(&mut self, v: Value<'static>) -> String {
        self.args.push(v);
        self.dialect.placeholder(self.args.len())
    }

    /// `AND`s `condition`, in which each `?` stands for the next of `values` (write no `?`
    /// anywhere else in it).
    pub fn and(&mut self, condition: &str, values: impl IntoIterator<Item = Value<'static>>) -> &mut Self {
        debug_assert_eq!(self.condition_args, self.args.len(), "conditions come before paging");
        self.conditions.push_str(if self.conditions.is_empty() { " WHERE " } else { " AND " });
        let mut values = values.into_iter();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                let v = values.next();
                debug_assert!(v.is_some(), "fewer values than `?` in {condition}");
                let p = self.bind(v.unwrap_or(Value::Null));
                self.conditions.push_str(&p);
            }
            self.conditions.push_str(part);
        }
        debug_assert!(values.next().is_none(), "more values than `?` in {condition}");
        self.condition_args = self.args.len();
        self
    }

    fn compare(&mut self, column: &str, op: &str, v: Value<'static>) -> &mut Self {
        self.and(&format!("{column} {op} ?"), [v])
    }

    pub fn eq(&mut self, column: &str, v: Value<'static>) -> &mut Self {
        self.compare(column, "=", v)
    }
    pub fn gt(&mut self, column: &str, v: Value<'static>) -> &mut Self {
        self.compare(column, ">", v)
    }
    pub fn gte(&mut self, column: &str, v: Value<'static>) -> &mut Self {
        self.compare(column, ">=", v)
    }
    pub fn lt(&mut self, column: &str, v: Value<'static>) -> &mut Self {
        self.compare(column, "<", v)
    }
    pub fn lte(&mut self, column: &str, v: Value<'static>) -> &mut Self {
        self.compare(column, "<=", v)
    }

    /// `column IN (…)`; an empty set matches nothing.
    pub fn is_in(&mut self, column: &str, values: impl IntoIterator<Item = Value<'static>>) -> &mut Self {
        let values: Vec<_> = values.into_iter().collect();
        if values.is_empty() {
            return self.and("1 = 0", []);
        }
        let marks = vec!["?"; values.len()].join(", ");
        self.and(&format!("{column} IN ({marks})"), values)
    }

    /// `ORDER BY` from a spec such as `-created_at,+name` (a bare name sorts ascending); each
    /// field must be one of `allowed` (`(field, column)`). `tie_break` ends every order, so
    /// pages are stable. Refuses naming the unknown field.
    pub fn sort(&mut self, spec: &str, allowed: &[(&str, &str)], tie_break: &str) -> Result<&mut Self, String> {
        let mut parts = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (order, field) = match item.as_bytes()[0] {
                b'-' => (Order::Desc, &item[1..]),
                b'+' => (Order::Asc, &item[1..]),
                _ => (Order::Asc, item),
            };
            let Some((_, column)) = allowed.iter().find(|(f, _)| *f == field) else {
                return Err(format!("cannot sort by '{field}'"));
            };
            parts.push((*column, order));
        }
        Ok(self.order_by(&parts, tie_break))
    }

    /// `ORDER BY parts, tie_break`; `tie_break` is a comma-separated list of NOT NULL columns,
    /// each with an optional `ASC`/`DESC`, ending in a unique one (so pages are stable and a
    /// cursor's key names one row). A part's column may be NULL; a part may also be several
    /// comma-separated expressions (`q.name IS NULL, q.name`): all but the last ascend, the last
    /// runs the part's way.
    pub fn order_by(&mut self, parts: &[(&str, Order)], tie_break: &str) -> &mut Self {
        self.tail.push_str(" ORDER BY ");
        for (column, order) in parts {
            let pieces: Vec<&str> = column.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
            for (i, piece) in pieces.iter().enumerate() {
                let order = if i + 1 == pieces.len() { *order } else { Order::Asc };
                let _ = write!(self.tail, "{piece} {}, ", if order == Order::Desc { "DESC" } else { "ASC" });
                self.keys.push(((*piece).to_owned(), order));
            }
        }
        self.tail.push_str(tie_break);
        let before = self.keys.len();
        for part in tie_break.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (column, order) = match part.rsplit_once(' ') {
                Some((c, o)) if o.eq_ignore_ascii_case("DESC") => (c.trim(), Order::Desc),
                Some((c, o)) if o.eq_ignore_ascii_case("ASC") => (c.trim(), Order::Asc),
                _ => (part, Order::Asc),
            };
            self.keys.push((column.to_owned(), order));
        }
        self.tie_keys = self.keys.len() - before;
        self.order_len = self.tail.len();
        self
    }

    /// A page of `limit` rows of the order (call after `order_by`): from an offset, or after a
    /// cursor's row (a keyset seek). Reads one row more than `limit`, so [`Filter::finish`] knows
    /// whether a next page exists. Refuses a cursor made for another order.
    pub fn window(&mut self, limit: u32, window: &Window) -> StoreResult<&mut Self> {
        self.limit = limit as usize;
        let (after, offset) = match window {
            Window::Offset(offset) => (None, *offset),
            Window::After(cursor) => (Some(cursor), 0),
            Window::Beyond { after, skip } => (Some(after), *skip),
        };
        if let Some(cursor) = after {
            if cursor.order != self.order_print() || cursor.key.len() != self.keys.len() {
                return Err(StoreError::InvalidCursor);
            }
            self.seek_after(&cursor.key);
        }
        let l = self.bind(Value::Int(i64::from(limit) + 1));
        let _ = write!(self.tail, " LIMIT {l}");
        if offset > 0 {
            let o = self.bind(Value::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
            let _ = write!(self.tail, " OFFSET {o}");
        }
        Ok(self)
    }

    /// What ties a cursor to its order.
    fn order_print(&self) -> u64 {
        let spec: Vec<String> = self.keys.iter().map(|(c, o)| format!("{c} {o:?}")).collect();
        fnv(0, spec.join(",").as_bytes())
    }

    /// Rows strictly after `key` in the order. One row comparison when every key runs the same
    /// way, none of the key's values is NULL and no row after it can hold a NULL in a key column
    /// (a tie-break column, or one whose NULLs sort before the key in this dialect: a row
    /// comparison with a NULL is not true, and would drop those rows) — an index range both
    /// databases seek; otherwise the expansion `k1 after v1 OR (k1 = v1 AND k2 after v2) …`,
    /// with NULLs placed as the dialect sorts them (SQLite: first when ascending; PostgreSQL:
    /// last).
    fn seek_after(&mut self, key: &[Value<'static>]) {
        // An expression key (`q.name IS NULL`) is compared as one operand.
        let keys: Vec<(String, Order)> =
            self.keys.iter().map(|(c, o)| (if c.contains(' ') { format!("({c})") } else { c.clone() }, *o)).collect();
        let nulls_first = self.dialect == Dialect::Sqlite;
        let nullable = keys.len() - self.tie_keys;
        let same_way = keys.iter().all(|(_, o)| *o == keys[0].1);
        let nulls_before = keys.iter().take(nullable).all(|(_, o)| (*o == Order::Asc) == nulls_first);
        if same_way && nulls_before && !key.contains(&Value::Null) {
            let columns: Vec<&str> = keys.iter().map(|(c, _)| c.as_str()).collect();
            let marks: Vec<String> = key.iter().map(|v| self.bind(v.clone())).collect();
            let op = if keys[0].1 == Order::Desc { "<" } else { ">" };
            self.seek = if keys.len() == 1 {
                format!("{} {op} {}", columns[0], marks[0])
            } else {
                format!("({}) {op} ({})", columns.join(", "), marks.join(", "))
            };
            return;
        }
        let mut terms = Vec::new();
        for i in 0..keys.len() {
            let mut parts = Vec::new();
            for (j, (column, _)) in keys.iter().enumerate().take(i) {
                parts.push(match &key[j] {
                    Value::Null => format!("{column} IS NULL"),
                    v => format!("{column} = {}", self.bind(v.clone())),
                });
            }
            let (column, order) = &keys[i];
            let ascending = *order == Order::Asc;
            let after = match &key[i] {
                // Non-NULL rows come after a NULL only where NULLs sort first.
                Value::Null if ascending == nulls_first => format!("{column} IS NOT NULL"),
                Value::Null => continue,
                v => {
                    let (op, nulls_after) = if ascending { (">", !nulls_first) } else { ("<", nulls_first) };
                    let p = self.bind(v.clone());
                    if nulls_after && i < nullable {
                        format!("({column} {op} {p} OR {column} IS NULL)")
                    } else {
                        format!("{column} {op} {p}")
                    }
                }
            };
            parts.push(after);
            terms.push(format!("({})", parts.join(" AND ")));
        }
        self.seek = if terms.is_empty() { "1 = 0".into() } else { format!("({})", terms.join(" OR ")) };
    }

    /// The cursor after a row whose sort key is `key` (the order's columns, tie-break last), for
    /// pages served without this filter's query.
    pub fn cursor(&self, key: Vec<Value<'static>>) -> Cursor {
        Cursor { order: self.order_print(), key }
    }

    /// `, k1, k2 …`: the order's columns, for the end of a page's select list (read back by
    /// [`Keyed`]).
    pub fn key_select(&self) -> String {
        self.keys.iter().map(|(c, _)| format!(", {c}")).collect()
    }

    /// The page of a [`Filter::window`] query: at most `limit` rows, and the cursor after the
    /// last when more rows follow.
    pub fn finish<T>(&self, mut rows: Vec<Keyed<T>>) -> (Vec<T>, Option<Cursor>) {
        let next = if rows.len() > self.limit {
            rows.truncate(self.limit);
            rows.last().map(|r| Cursor { order: self.order_print(), key: r.key.clone() })
        } else {
            None
        };
        (rows.into_iter().map(|r| r.row).collect(), next)
    }

    /// ` WHERE …` (empty without conditions).
    pub fn conditions(&self) -> &str {
        &self.conditions
    }

    /// What the conditions bind: for a count over the same filter.
    pub fn condition_args(&self) -> &[Value<'static>] {
        &self.args[..self.condition_args]
    }

    /// ` WHERE … ORDER BY … LIMIT … OFFSET …`.
    pub fn clause(&self) -> String {
        if self.seek.is_empty() {
            return format!("{}{}", self.conditions, self.tail);
        }
        let joiner = if self.conditions.is_empty() { " WHERE " } else { " AND " };
        format!("{}{joiner}{}{}", self.conditions, self.seek, self.tail)
    }

    pub fn args(&self) -> &[Value<'static>] {
        &self.args
    }

    /// A page as a deferred join: the page's ids first (`id`, a unique column), read from
    /// `ids_from` (the tables the conditions need) and walked in the order over an index holding
    /// the conditions' and the order's columns, so a row skipped by `OFFSET` costs an index step
    /// and not a row read; then the rows of those ids alone from `rows_from`, in the order, with
    /// `select_list` and the sort key. Both are table lists with their aliases, without `FROM`.
    pub fn deferred_page(&self, select_list: &str, rows_from: &str, ids_from: &str, id: &str) -> String {
        format!(
            "SELECT {select_list}{} FROM {rows_from} WHERE {id} IN (SELECT {id} FROM {ids_from}{}){}",
            self.key_select(),
            self.clause(),
            &self.tail[..self.order_len]
        )
    }
}

/// A row of a page read with [`Filter::key_select`]: the record, then its sort key.
#[derive(Debug)]
pub struct Keyed<T> {
    pub row: T,
    pub key: Vec<Value<'static>>,
}

impl<T: Decode> Decode for Keyed<T> {
    fn decode<R: RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Self> {
        let record = T::decode(row, at)?;
        let mut key = Vec::new();
        while *at < row.width() {
            key.push(row.any(*at).map_err(|e| StoreError::Backend(format!("sort key {}: {e}", *at)))?);
            *at += 1;
        }
        Ok(Keyed { row: record, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn text(s: &str) -> Value<'static> {
        Value::Text(Cow::Owned(s.to_owned()))
    }

    #[test]
    fn conditions_bind_in_order_with_the_dialects_placeholders() {
        for (dialect, p) in [(Dialect::Postgres, '$'), (Dialect::Sqlite, '?')] {
            let mut f = Filter::new(dialect);
            f.eq("m", text("mkt"))
                .and("(a = ? OR b = ?)", [text("x"), text("x")])
                .is_in("status", [text("open"), text("won")])
                .gte("t", Value::Int(5));
            f.sort("-t,+name", &[("t", "t"), ("name", "n")], "id DESC")
                .unwrap()
                .window(10, &Window::Offset(20))
                .unwrap();
            assert_eq!(
                f.clause(),
                format!(
                    " WHERE m = {p}1 AND (a = {p}2 OR b = {p}3) AND status IN ({p}4, {p}5) AND t >= {p}6 \
                     ORDER BY t DESC, n ASC, id DESC LIMIT {p}7 OFFSET {p}8"
                )
            );
            assert_eq!((f.condition_args().len(), f.args().len()), (6, 8));
        }
    }

    #[test]
    fn a_deferred_page_pages_the_ids_and_orders_the_rows_the_same_way() {
        let mut f = Filter::new(Dialect::Postgres);
        f.eq("l.m", text("mkt")).order_by(&[("l.t", Order::Desc)], "l.id DESC");
        f.window(50, &Window::Offset(100)).unwrap();
        assert_eq!(
            f.deferred_page("l.a, l.b", "leads l", "leads l", "l.id"),
            "SELECT l.a, l.b, l.t, l.id FROM leads l WHERE l.id IN (SELECT l.id FROM leads l WHERE l.m = $1 \
             ORDER BY l.t DESC, l.id DESC LIMIT $2 OFFSET $3) ORDER BY l.t DESC, l.id DESC"
        );
    }

    #[test]
    fn unknown_sort_fields_and_empty_sets_are_handled() {
        let mut f = Filter::new(Dialect::Postgres);
        assert_eq!(f.sort("-secret", &[("t", "t")], "id").unwrap_err(), "cannot sort by 'secret'");
        f.is_in("status", []);
        assert_eq!(f.conditions(), " WHERE 1 = 0");
    }
}
