//! Dynamic filters: a where-clause builder that appends conditions and binds their values with
//! the dialect's placeholders, plus `+field`/`-field` sorts checked against an allowlist.

use super::sql::Dialect;
use super::value::Value;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub struct Filter {
    dialect: Dialect,
    conditions: String,
    args: Vec<Value<'static>>,
    /// How many of `args` belong to the conditions (the rest page).
    condition_args: usize,
    tail: String,
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
            tail: String::new(),
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

    pub fn order_by(&mut self, parts: &[(&str, Order)], tie_break: &str) -> &mut Self {
        self.tail.push_str(" ORDER BY ");
        for (column, order) in parts {
            let _ = write!(self.tail, "{column} {}, ", if *order == Order::Desc { "DESC" } else { "ASC" });
        }
        self.tail.push_str(tie_break);
        self
    }

    /// `LIMIT … OFFSET …`, bound after the conditions' values.
    pub fn page(&mut self, limit: u32, offset: u64) -> &mut Self {
        let l = self.bind(Value::Int(i64::from(limit)));
        let o = self.bind(Value::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        let _ = write!(self.tail, " LIMIT {l} OFFSET {o}");
        self
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
        format!("{}{}", self.conditions, self.tail)
    }

    pub fn args(&self) -> &[Value<'static>] {
        &self.args
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
            f.sort("-t,+name", &[("t", "t"), ("name", "n")], "id DESC").unwrap().page(10, 20);
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
    fn unknown_sort_fields_and_empty_sets_are_handled() {
        let mut f = Filter::new(Dialect::Postgres);
        assert_eq!(f.sort("-secret", &[("t", "t")], "id").unwrap_err(), "cannot sort by 'secret'");
        f.is_in("status", []);
        assert_eq!(f.conditions(), " WHERE 1 = 0");
    }
}
