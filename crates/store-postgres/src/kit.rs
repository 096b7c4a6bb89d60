//! PostgreSQL's side of the store kit: binding [`Value`]s by the statement's parameter types,
//! reading rows, and the generic helpers every aggregate uses (all through prepared,
//! cached statements).

use crate::{pg, write_error};
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use partnerd_store::kit::{Decode, Dialect, RowRead, Stored, Table, Value, Versioned, check_version, guard_refused};
use partnerd_store::{StoreError, StoreResult};
use std::error::Error;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, Json, ToSql, Type, to_sql_checked};

pub(crate) const DIALECT: Dialect = Dialect::Postgres;

#[derive(Debug)]
struct Bind<'a>(&'a Value<'a>);

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Bind<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Text(t) => t.as_ref().to_sql_checked(ty, out),
            Value::Int(n) => match *ty {
                Type::INT2 => i16::try_from(*n)?.to_sql_checked(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql_checked(ty, out),
                _ => n.to_sql_checked(ty, out),
            },
            Value::Bool(b) => b.to_sql_checked(ty, out),
            Value::Time(t) => t.to_sql_checked(ty, out),
            Value::Date(d) => d.to_sql_checked(ty, out),
            Value::Json(j) => Json(j.as_ref()).to_sql_checked(ty, out),
            Value::TextList(l) if *ty == Type::JSONB || *ty == Type::JSON => Json(l.as_ref()).to_sql_checked(ty, out),
            Value::TextList(l) => l.as_ref().to_sql_checked(ty, out),
            Value::Bytes(b) => b.as_ref().to_sql_checked(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each variant checks its own type above.
        true
    }

    to_sql_checked!();
}

/// Whether a column is NULL, whatever its type.
struct Present;

impl<'a> FromSql<'a> for Present {
    fn from_sql(_: &Type, _: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Present)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A row as the kit reads it.
pub(crate) struct PgRow<'a>(pub(crate) &'a Row);

impl PgRow<'_> {
    fn get<'b, T: FromSql<'b>>(&'b self, idx: usize) -> Result<T, String> {
        self.0.try_get(idx).map_err(|e| match e.source() {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        })
    }

    fn column_type(&self, idx: usize) -> Result<&Type, String> {
        self.0.columns().get(idx).map(|c| c.type_()).ok_or_else(|| format!("no column {idx}"))
    }
}

impl RowRead for PgRow<'_> {
    fn width(&self) -> usize {
        self.0.len()
    }
    fn any(&self, idx: usize) -> Result<Value<'static>, String> {
        use std::borrow::Cow::Owned;
        if self.is_null(idx)? {
            return Ok(Value::Null);
        }
        Ok(match *self.column_type(idx)? {
            Type::INT2 | Type::INT4 | Type::INT8 => Value::Int(self.int(idx)?),
            Type::BOOL => Value::Bool(self.boolean(idx)?),
            Type::TIMESTAMPTZ => Value::Time(self.time(idx)?),
            Type::DATE => Value::Date(self.date(idx)?),
            Type::BYTEA => Value::Bytes(Owned(self.bytes(idx)?)),
            Type::JSON | Type::JSONB => Value::Json(Owned(self.json(idx)?)),
            _ => Value::Text(Owned(self.text(idx)?)),
        })
    }
    fn is_null(&self, idx: usize) -> Result<bool, String> {
        self.get::<Option<Present>>(idx).map(|p| p.is_none())
    }
    fn text(&self, idx: usize) -> Result<String, String> {
        self.get(idx)
    }
    fn int(&self, idx: usize) -> Result<i64, String> {
        match *self.column_type(idx)? {
            Type::INT2 => self.get::<i16>(idx).map(i64::from),
            Type::INT4 => self.get::<i32>(idx).map(i64::from),
            _ => self.get(idx),
        }
    }
    fn boolean(&self, idx: usize) -> Result<bool, String> {
        self.get(idx)
    }
    fn time(&self, idx: usize) -> Result<DateTime<Utc>, String> {
        self.get(idx)
    }
    fn date(&self, idx: usize) -> Result<NaiveDate, String> {
        self.get(idx)
    }
    fn json(&self, idx: usize) -> Result<serde_json::Value, String> {
        self.get(idx)
    }
    fn text_list(&self, idx: usize) -> Result<Vec<String>, String> {
        match *self.column_type(idx)? {
            Type::JSON | Type::JSONB => {
                self.get::<Json<Vec<String>>>(idx).map(|j| j.0).map_err(|e| format!("not a JSON list of strings: {e}"))
            }
            _ => self.get(idx),
        }
    }
    fn bytes(&self, idx: usize) -> Result<Vec<u8>, String> {
        self.get(idx)
    }
}

fn decode<T: Decode>(row: &Row) -> StoreResult<T> {
    T::decode(&PgRow(row), &mut 0)
}

fn binds<'a>(args: &'a [Value<'a>]) -> Vec<Bind<'a>> {
    args.iter().map(Bind).collect()
}

fn refs<'a>(binds: &'a [Bind<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}

/// Runs a statement; unique violations become `Conflict(conflict)`.
pub(crate) async fn execute(c: &impl GenericClient, sql: &str, args: &[Value<'_>], conflict: &str) -> StoreResult<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let b = binds(args);
    c.execute(&stmt, &refs(&b)).await.map_err(|e| write_error(e, conflict))
}

pub(crate) async fn query_all<T: Decode>(c: &impl GenericClient, sql: &str, args: &[Value<'_>]) -> StoreResult<Vec<T>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let b = binds(args);
    c.query(&stmt, &refs(&b)).await.map_err(pg)?.iter().map(decode).collect()
}

pub(crate) async fn query_opt<T: Decode>(
    c: &impl GenericClient,
    sql: &str,
    args: &[Value<'_>],
) -> StoreResult<Option<T>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg)?;
    let b = binds(args);
    c.query_opt(&stmt, &refs(&b)).await.map_err(pg)?.as_ref().map(decode).transpose()
}

/// For aggregates, which always return a row.
pub(crate) async fn query_one<T: Decode>(c: &impl GenericClient, sql: &str, args: &[Value<'_>]) -> StoreResult<T> {
    query_opt(c, sql, args).await?.ok_or_else(|| StoreError::Backend("an aggregate returned no row".into()))
}

pub(crate) async fn insert<T: Table + Sync>(c: &impl GenericClient, record: &T, conflict: &str) -> StoreResult<()> {
    execute(c, &T::statements(DIALECT).insert, &record.insert_values(), conflict).await?;
    Ok(())
}

/// The versioned write, inside the caller's transaction: locks the row (`FOR UPDATE`) while
/// checking its version, so two processes cannot both pass the check.
pub(crate) async fn versioned_update<T: Versioned + Sync>(
    c: &impl GenericClient,
    record: &T,
    expected: i64,
) -> StoreResult<T::Prior> {
    let stored: Option<Stored<T::Prior>> = query_opt(c, T::version_read(DIALECT), &record.key_values()).await?;
    let (version, prior) = stored.map(|s| (s.version, s.prior)).unzip();
    check_version(T::ENTITY, version, expected)?;
    if execute(c, &T::statements(DIALECT).update, &record.update_values(), "").await? != 1 {
        return Err(guard_refused(T::ENTITY));
    }
    prior.ok_or(StoreError::NotFound(T::ENTITY))
}

#[cfg(test)]
mod tests {
    use partnerd_store::contract::{listing, marketplace, new_partner};
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
        let Ok(url) = std::env::var("PARTNERD_TEST_POSTGRES_URL") else { return };
        let url = crate::fresh_schema_url(&url).await.unwrap();
        let store = crate::PostgresStore::connect(&url).await.unwrap();
        let m = marketplace(&*store).await;
        let a = new_partner(&m.id, "a@a.com");
        store.create_partner(a.clone()).await.unwrap();
        let l = listing(&m.id, &a.partner_id, "T", partnerd_domain::listing::ListingStatus::Draft, chrono::Utc::now());
        store.create_listings(vec![l], vec![]).await.unwrap();
        let c = store.client().await.unwrap();
        c.batch_execute(&format!(
            "UPDATE memberships SET roles = 'reseller,wizard' WHERE user_id = '{}'; UPDATE listing_counts SET n = -5;",
            a.user_id
        ))
        .await
        .unwrap();
        let e = backend_error(store.find_key_for_auth(&a.key.id).await);
        assert!(e.contains("m.roles") && e.contains("wizard"), "{e}");
        let e = backend_error(store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 10).await);
        assert!(e.contains("negative count -5"), "{e}");
    }
}
