//! SQLite's side of the store kit: binding [`Value`]s, reading rows, and the few generic
//! helpers every aggregate uses (all through `prepare_cached`).

use crate::conn::backend;
use crate::{db, write_error};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use partnerd_store::kit::{
    Decode, Dialect, Query, RowRead, Stored, Table, Value, Versioned, check_version, guard_refused,
};
use partnerd_store::{StoreError, StoreResult};
use rusqlite::types::{ToSqlOutput, Value as Sql, ValueRef};
use rusqlite::{Connection, params_from_iter};

pub(crate) const DIALECT: Dialect = Dialect::Sqlite;

struct Bind<'a>(&'a Value<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(Sql::Null),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Int(n) => ToSqlOutput::Owned(Sql::Integer(*n)),
            Value::Bool(b) => ToSqlOutput::Owned(Sql::Integer(i64::from(*b))),
            Value::Time(t) => ToSqlOutput::Owned(Sql::Integer(t.timestamp_millis())),
            Value::Date(d) => ToSqlOutput::Owned(Sql::Text(d.format("%Y-%m-%d").to_string())),
            Value::Json(j) => ToSqlOutput::Owned(Sql::Text(j.to_string())),
            Value::TextList(l) => ToSqlOutput::Owned(Sql::Text(
                serde_json::to_string(l.as_ref()).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            )),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn binds<'a>(args: &'a [Value<'a>]) -> impl rusqlite::Params + 'a {
    params_from_iter(args.iter().map(Bind))
}

/// A row as the kit reads it.
pub(crate) struct SqliteRow<'a, 'b>(pub(crate) &'a rusqlite::Row<'b>);

impl RowRead for SqliteRow<'_, '_> {
    fn width(&self) -> usize {
        self.0.as_ref().column_count()
    }
    fn any(&self, idx: usize) -> Result<Value<'static>, String> {
        Ok(match self.0.get_ref(idx).map_err(|e| e.to_string())? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Int(n),
            ValueRef::Text(t) => Value::Text(std::borrow::Cow::Owned(String::from_utf8_lossy(t).into_owned())),
            ValueRef::Blob(b) => Value::Bytes(std::borrow::Cow::Owned(b.to_vec())),
            ValueRef::Real(_) => return Err("a REAL sort key".into()),
        })
    }
    fn is_null(&self, idx: usize) -> Result<bool, String> {
        self.0.get_ref(idx).map(|v| v == ValueRef::Null).map_err(|e| e.to_string())
    }
    fn text(&self, idx: usize) -> Result<String, String> {
        self.0.get(idx).map_err(|e| e.to_string())
    }
    fn int(&self, idx: usize) -> Result<i64, String> {
        self.0.get(idx).map_err(|e| e.to_string())
    }
    fn boolean(&self, idx: usize) -> Result<bool, String> {
        self.0.get(idx).map_err(|e| e.to_string())
    }
    fn time(&self, idx: usize) -> Result<DateTime<Utc>, String> {
        let ms = self.int(idx)?;
        Utc.timestamp_millis_opt(ms).single().ok_or_else(|| format!("{ms} ms is not a time"))
    }
    fn date(&self, idx: usize) -> Result<NaiveDate, String> {
        let s = self.text(idx)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| format!("'{s}' is not a date: {e}"))
    }
    fn json(&self, idx: usize) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.text(idx)?).map_err(|e| format!("not JSON: {e}"))
    }
    fn text_list(&self, idx: usize) -> Result<Vec<String>, String> {
        serde_json::from_str(&self.text(idx)?).map_err(|e| format!("not a JSON list of strings: {e}"))
    }
    fn bytes(&self, idx: usize) -> Result<Vec<u8>, String> {
        self.0.get(idx).map_err(|e| e.to_string())
    }
}

/// Runs a statement; unique violations become `Conflict(conflict)`.
pub(crate) fn execute(c: &Connection, sql: &str, args: &[Value<'_>], conflict: &str) -> StoreResult<usize> {
    c.prepare_cached(sql).and_then(|mut s| s.execute(binds(args))).map_err(|e| write_error(e, conflict))
}

/// Runs a shared statement.
pub(crate) fn run(c: &Connection, q: &Query, args: &[Value<'_>]) -> StoreResult<usize> {
    c.prepare_cached(q.sqlite()).and_then(|mut s| s.execute(binds(args))).map_err(db)
}

/// A cached statement to run many times in a loop (one cache lookup, not one per row).
pub(crate) fn prepare<'c>(c: &'c Connection, q: &Query) -> StoreResult<rusqlite::CachedStatement<'c>> {
    c.prepare_cached(q.sqlite()).map_err(backend)
}

/// Runs a statement from [`prepare`].
pub(crate) fn run_prepared(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Value<'_>]) -> StoreResult<usize> {
    stmt.execute(binds(args)).map_err(db)
}

/// The first row of a statement from [`prepare`].
pub(crate) fn query_prepared<T: Decode>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    args: &[Value<'_>],
) -> StoreResult<Option<T>> {
    let mut rows = stmt.query(binds(args)).map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => T::decode(&SqliteRow(row), &mut 0).map(Some),
        None => Ok(None),
    }
}

/// Every row of a statement from [`prepare`].
pub(crate) fn query_all_prepared<T: Decode>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    args: &[Value<'_>],
) -> StoreResult<Vec<T>> {
    let mut rows = stmt.query(binds(args)).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(T::decode(&SqliteRow(row), &mut 0)?);
    }
    Ok(out)
}

pub(crate) fn query_all<T: Decode>(c: &Connection, sql: &str, args: &[Value<'_>]) -> StoreResult<Vec<T>> {
    query_all_prepared(&mut c.prepare_cached(sql).map_err(backend)?, args)
}

pub(crate) fn query_opt<T: Decode>(c: &Connection, sql: &str, args: &[Value<'_>]) -> StoreResult<Option<T>> {
    query_prepared(&mut c.prepare_cached(sql).map_err(backend)?, args)
}

/// For aggregates, which always return a row.
pub(crate) fn query_one<T: Decode>(c: &Connection, sql: &str, args: &[Value<'_>]) -> StoreResult<T> {
    query_opt(c, sql, args)?.ok_or_else(|| StoreError::Backend("an aggregate returned no row".into()))
}

pub(crate) fn insert<T: Table>(c: &Connection, record: &T, conflict: &str) -> StoreResult<()> {
    execute(c, &T::statements(DIALECT).insert, &record.insert_values(), conflict)?;
    Ok(())
}

/// The versioned write: reads the stored version (and what `T::Prior` names), compares, writes.
/// The single writer serialises this against every other write.
pub(crate) fn versioned_update<T: Versioned>(c: &Connection, record: &T, expected: i64) -> StoreResult<T::Prior> {
    let stored: Option<Stored<T::Prior>> = query_opt(c, T::version_read(DIALECT), &record.key_values())?;
    let (version, prior) = stored.map(|s| (s.version, s.prior)).unzip();
    check_version(T::ENTITY, version, expected)?;
    if execute(c, &T::statements(DIALECT).update, &record.update_values(), "")? != 1 {
        return Err(guard_refused(T::ENTITY));
    }
    prior.ok_or(StoreError::NotFound(T::ENTITY))
}

/// For plan tests: a migrated database of its own, without statistics (as a deployment's
/// database is until someone runs ANALYZE), and the plan SQLite picks for a statement.
#[cfg(test)]
pub(crate) mod plans {
    pub(crate) fn migrated() -> rusqlite::Connection {
        let dir = std::env::temp_dir().join(format!("partnerd-test-plan-{}", partnerd_domain::ids::random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let mut conn = crate::conn::open_connection(&dir.join("plan.db"), false).unwrap();
        crate::migrate::run(&mut conn).unwrap();
        conn
    }

    /// `EXPLAIN QUERY PLAN`'s lines joined by ` | `, every parameter bound to a text.
    pub(crate) fn plan(conn: &rusqlite::Connection, sql: &str) -> String {
        let params = sql.matches('?').count();
        let lines: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params_from_iter(std::iter::repeat_n("x", params)), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        lines.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use partnerd_store::contract::{marketplace, new_partner, opportunity};
    use partnerd_store::*;

    fn backend_error<T: std::fmt::Debug>(r: StoreResult<T>) -> String {
        match r {
            Err(StoreError::Backend(e)) => e,
            other => panic!("expected a backend error, got {other:?}"),
        }
    }

    /// Bad data is an error naming the column, never a silent default.
    #[tokio::test]
    async fn corrupt_rows_are_refused_naming_the_column() {
        let dir = std::env::temp_dir().join(format!("partnerd-corrupt-{}", partnerd_domain::ids::random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let store = crate::SqliteStore::open(&path).unwrap();
        let m = marketplace(&*store).await;
        let (a, b) = (new_partner(&m.id, "a@a.com"), new_partner(&m.id, "b@b.com"));
        store.create_partner(a.clone()).await.unwrap();
        store.create_partner(b.clone()).await.unwrap();
        let o = opportunity(&m.id, &a.partner_id, &b.partner_id, 100, chrono::Utc::now());
        store.create_opportunity(o.clone(), vec![]).await.unwrap();
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(&format!(
            "UPDATE opportunities SET expected_close_date = 'soon' WHERE id = '{}';
             UPDATE memberships SET roles = 'reseller,wizard' WHERE user_id = '{}';
             UPDATE listing_counts SET n = -1;",
            o.id, a.user_id
        ))
        .unwrap();
        let e = backend_error(store.get_opportunity(&m.id, &a.partner_id, &o.id).await);
        assert!(e.contains("expected_close_date") && e.contains("soon"), "{e}");
        let e = backend_error(store.find_key_for_auth(&a.key.id).await);
        assert!(e.contains("m.roles") && e.contains("wizard"), "{e}");
        let l = partnerd_store::contract::listing(
            &m.id,
            &a.partner_id,
            "T",
            partnerd_domain::listing::ListingStatus::Draft,
            chrono::Utc::now(),
        );
        store.create_listings(vec![l], vec![]).await.unwrap();
        raw.execute_batch("UPDATE listing_counts SET n = -5").unwrap();
        let e = backend_error(store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 10).await);
        assert!(e.contains("negative count -5"), "{e}");
        store.close();
    }
}
