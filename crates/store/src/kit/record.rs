//! One declaration per record: its columns, what each write binds, and how a row decodes.

use super::sql::Dialect;
use super::value::{Column, RowRead, Value};
use crate::{StoreError, StoreResult};

/// How a column takes part in writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Identifies the row: inserted, and the `WHERE` of updates and versioned reads.
    Key,
    /// Inserted; an update only applies while it still holds (e.g. a deal's parties).
    Guard,
    /// Inserted, never updated (creation time, creator).
    Fixed,
    /// Inserted and updated.
    Set,
    /// Read only: an expression of the query's joins (a company's name).
    Read,
}

impl Use {
    pub fn inserted(self) -> bool {
        !matches!(self, Use::Read)
    }
    pub fn updated(self) -> bool {
        matches!(self, Use::Set)
    }
    pub fn matched(self) -> bool {
        matches!(self, Use::Key | Use::Guard)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: &'static str,
    pub role: Use,
}

/// Anything decoded from consecutive columns of a row.
pub trait Decode: Sized {
    /// Reads from column `*at` on and moves `*at` past what it read.
    fn decode<R: RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Self>;
}

/// A struct stored as columns (a record, or a group of a record's fields such as a listing's
/// content). Implemented by [`crate::record!`].
pub trait Columns: Decode {
    fn columns(out: &mut Vec<ColumnDef>);
    /// The values of the columns `pick` selects, in declaration order.
    fn values<'a>(&'a self, pick: fn(Use) -> bool, out: &mut Vec<Value<'a>>);
}

/// A record with a table of its own.
pub trait Table: Columns {
    const TABLE: &'static str;
    /// The alias selects qualify columns with (`""` for none).
    const ALIAS: &'static str;
    /// The select list, qualified by [`Table::ALIAS`]; built once.
    fn select_list() -> &'static str;
    /// INSERT, UPDATE and versioned-read statements in `dialect`; built once each.
    fn statements(dialect: Dialect) -> &'static Statements;

    /// What an INSERT binds.
    fn insert_values(&self) -> Vec<Value<'_>> {
        let mut v = Vec::with_capacity(24);
        self.values(Use::inserted, &mut v);
        v
    }

    /// What an UPDATE binds: the set columns, then the matched ones.
    fn update_values(&self) -> Vec<Value<'_>> {
        let mut v = Vec::with_capacity(24);
        self.values(Use::updated, &mut v);
        self.values(Use::matched, &mut v);
        v
    }

    /// What a versioned read binds: the key columns.
    fn key_values(&self) -> Vec<Value<'_>> {
        let mut v = Vec::with_capacity(4);
        self.values(|u| u == Use::Key, &mut v);
        v
    }
}

/// The statements derived from a declaration, in one dialect.
#[derive(Debug)]
pub struct Statements {
    pub insert: String,
    /// `UPDATE … SET <set columns> WHERE <key and guard columns>`; empty for a record with no
    /// `set` column (written once, never updated).
    pub update: String,
}

impl Statements {
    pub fn build<T: Table>(dialect: Dialect) -> Self {
        let mut cols = Vec::new();
        T::columns(&mut cols);
        let inserted: Vec<&str> = cols.iter().filter(|c| c.role.inserted()).map(|c| c.name).collect();
        let values: Vec<String> = (1..=inserted.len()).map(|n| dialect.placeholder(n)).collect();
        let insert = format!("INSERT INTO {} ({}) VALUES ({})", T::TABLE, inserted.join(", "), values.join(", "));
        let mut n = 0;
        let mut next = || {
            n += 1;
            dialect.placeholder(n)
        };
        let set: Vec<String> =
            cols.iter().filter(|c| c.role.updated()).map(|c| format!("{} = {}", c.name, next())).collect();
        let matched: Vec<String> =
            cols.iter().filter(|c| c.role.matched()).map(|c| format!("{} = {}", c.name, next())).collect();
        let update = if set.is_empty() {
            String::new()
        } else {
            format!("UPDATE {} SET {} WHERE {}", T::TABLE, set.join(", "), matched.join(" AND "))
        };
        Self { insert, update }
    }
}

/// An INSERT's column list and its `$1…$n`, for statements that add literal columns.
pub fn insert_lists<T: Columns>() -> (String, String) {
    let mut cols = Vec::new();
    T::columns(&mut cols);
    let names: Vec<&str> = cols.iter().filter(|c| c.role.inserted()).map(|c| c.name).collect();
    let values: Vec<String> = (1..=names.len()).map(|n| Dialect::Postgres.placeholder(n)).collect();
    (names.join(", "), values.join(", "))
}

/// A group's columns as listed, for statements written around them.
pub fn column_list<T: Columns>() -> String {
    let mut cols = Vec::new();
    T::columns(&mut cols);
    cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// The select list of `T`'s columns, qualified by its alias.
pub fn select_list<T: Table>() -> String {
    let mut cols = Vec::new();
    T::columns(&mut cols);
    cols.iter()
        .map(|c| match (c.role, T::ALIAS) {
            (Use::Read, _) | (_, "") => c.name.to_owned(),
            (_, alias) => format!("{alias}.{}", c.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A record updated with optimistic concurrency: the write names the version it read.
/// Implemented by [`crate::versioned!`].
pub trait Versioned: Table {
    /// For `NotFound` and the conflict message.
    const ENTITY: &'static str;
    /// What the write needs of the stored row besides its version (e.g. the old status).
    type Prior: Decode;
    /// `SELECT version, <prior> FROM … WHERE <keys>`, locking the row where the dialect needs
    /// it; built once.
    fn version_read(dialect: Dialect) -> &'static str;
}

/// The text of [`Versioned::version_read`].
pub fn build_version_read<T: Table>(dialect: Dialect, prior_columns: &str) -> String {
    let mut cols = Vec::new();
    T::columns(&mut cols);
    let keys: Vec<String> = cols
        .iter()
        .filter(|c| c.role == Use::Key)
        .enumerate()
        .map(|(i, c)| format!("{} = {}", c.name, dialect.placeholder(i + 1)))
        .collect();
    let prior = if prior_columns.is_empty() { String::new() } else { format!(", {prior_columns}") };
    format!("SELECT version{prior} FROM {} WHERE {}{}", T::TABLE, keys.join(" AND "), dialect.lock_suffix())
}

/// `versioned!(Record, "entity", Prior, "prior columns")`: see [`Versioned`].
#[macro_export]
macro_rules! versioned {
    ($ty:ident, $entity:literal, $prior:ty, $prior_columns:literal) => {
        impl $crate::kit::Versioned for $ty {
            const ENTITY: &'static str = $entity;
            type Prior = $prior;
            fn version_read(dialect: $crate::kit::Dialect) -> &'static str {
                static PG: ::std::sync::LazyLock<String> = ::std::sync::LazyLock::new(|| {
                    $crate::kit::build_version_read::<$ty>($crate::kit::Dialect::Postgres, $prior_columns)
                });
                static SQLITE: ::std::sync::LazyLock<String> = ::std::sync::LazyLock::new(|| {
                    $crate::kit::build_version_read::<$ty>($crate::kit::Dialect::Sqlite, $prior_columns)
                });
                match dialect {
                    $crate::kit::Dialect::Postgres => &PG,
                    $crate::kit::Dialect::Sqlite => &SQLITE,
                }
            }
        }
    };
}

/// A versioned read's row: the stored version, then what the write needs of the old row.
#[derive(Debug)]
pub struct Stored<P> {
    pub version: i64,
    pub prior: P,
}

impl<P: Decode> Decode for Stored<P> {
    fn decode<R: RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Self> {
        let version = super::value::read_column(row, *at, "version")?;
        *at += 1;
        Ok(Self { version, prior: P::decode(row, at)? })
    }
}

/// A group read from an outer join: `None` when its first column is NULL.
pub fn decode_optional<T: Columns, R: RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Option<T>> {
    if row.is_null(*at).map_err(StoreError::Backend)? {
        let mut cols = Vec::new();
        T::columns(&mut cols);
        *at += cols.len();
        return Ok(None);
    }
    T::decode(row, at).map(Some)
}

/// The version check both backends run between their read and their write.
pub fn check_version(entity: &'static str, stored: Option<i64>, expected: i64) -> StoreResult<()> {
    match stored {
        None => Err(StoreError::NotFound(entity)),
        Some(v) if v != expected => Err(StoreError::Conflict(format!("the {entity} changed since it was read"))),
        Some(_) => Ok(()),
    }
}

/// An update that matched no row although the version matched: a guard column differs.
pub fn guard_refused(entity: &'static str) -> StoreError {
    StoreError::Conflict(format!("the {entity}'s parties cannot change"))
}

macro_rules! tuple_decode {
    ($($t:ident),+) => {
        impl<$($t: Column),+> Decode for ($($t,)+) {
            fn decode<R: RowRead + ?Sized>(row: &R, at: &mut usize) -> StoreResult<Self> {
                Ok(($({
                    let v = <$t as Column>::read(row, *at)
                        .map_err(|e| StoreError::Backend(format!("result column {}: {e}", *at + 1)))?;
                    *at += 1;
                    v
                },)+))
            }
        }
    };
}

tuple_decode!(A);
tuple_decode!(A, B);
tuple_decode!(A, B, C);
tuple_decode!(A, B, C, D);
tuple_decode!(A, B, C, D, E);
tuple_decode!(A, B, C, D, E, F);

impl Decode for () {
    fn decode<R: RowRead + ?Sized>(_: &R, _: &mut usize) -> StoreResult<Self> {
        Ok(())
    }
}

/// Declares how a record is stored, once for both backends:
///
/// ```ignore
/// record! {
///     OpportunityRecord in "opportunities" as "o" {
///         id: key "id",
///         owner_partner_id: guard "owner_partner_id",
///         owner_company_name: read "oc.name",
///         created_at: fixed "created_at",
///         customer_name: set "customer_name",
///     }
/// }
/// ```
///
/// Each field is `name: <use> <column>` with use `key`, `guard`, `fixed`, `set`, `read` (see
/// [`Use`]), `flat <Type>` for a group of fields declared with `record!` without a table,
/// `optional <Type>` for such a group read from an outer join (`None` when its first column is
/// NULL; never written), or `skip _` for a field no column holds (it decodes as
/// `Default::default()`).
#[macro_export]
macro_rules! record {
    ($ty:ident in $table:literal as $alias:literal { $($field:ident : $use:ident $arg:tt),* $(,)? }) => {
        $crate::record!($ty { $($field : $use $arg),* });
        impl $crate::kit::Table for $ty {
            const TABLE: &'static str = $table;
            const ALIAS: &'static str = $alias;
            fn select_list() -> &'static str {
                static LIST: ::std::sync::LazyLock<String> =
                    ::std::sync::LazyLock::new($crate::kit::select_list::<$ty>);
                &LIST
            }
            fn statements(dialect: $crate::kit::Dialect) -> &'static $crate::kit::Statements {
                static PG: ::std::sync::LazyLock<$crate::kit::Statements> = ::std::sync::LazyLock::new(|| {
                    $crate::kit::Statements::build::<$ty>($crate::kit::Dialect::Postgres)
                });
                static SQLITE: ::std::sync::LazyLock<$crate::kit::Statements> = ::std::sync::LazyLock::new(|| {
                    $crate::kit::Statements::build::<$ty>($crate::kit::Dialect::Sqlite)
                });
                match dialect {
                    $crate::kit::Dialect::Postgres => &PG,
                    $crate::kit::Dialect::Sqlite => &SQLITE,
                }
            }
        }
    };
    ($ty:ident { $($field:ident : $use:ident $arg:tt),* $(,)? }) => {
        impl $crate::kit::Decode for $ty {
            fn decode<R: $crate::kit::RowRead + ?Sized>(row: &R, at: &mut usize) -> $crate::StoreResult<Self> {
                Ok($ty { $($field: $crate::record!(@decode row, at, $use $arg),)* })
            }
        }
        impl $crate::kit::Columns for $ty {
            fn columns(out: &mut Vec<$crate::kit::ColumnDef>) {
                $($crate::record!(@column out, $use $arg);)*
            }
            fn values<'a>(&'a self, pick: fn($crate::kit::Use) -> bool, out: &mut Vec<$crate::kit::Value<'a>>) {
                $($crate::record!(@value self.$field, pick, out, $use $arg);)*
            }
        }
    };
    (@use key) => { $crate::kit::Use::Key };
    (@use guard) => { $crate::kit::Use::Guard };
    (@use fixed) => { $crate::kit::Use::Fixed };
    (@use set) => { $crate::kit::Use::Set };
    (@use read) => { $crate::kit::Use::Read };
    (@decode $row:ident, $at:ident, flat $t:ident) => { <$t as $crate::kit::Decode>::decode($row, $at)? };
    (@decode $row:ident, $at:ident, optional $t:ident) => { $crate::kit::decode_optional::<$t, _>($row, $at)? };
    (@decode $row:ident, $at:ident, skip $x:tt) => { ::std::default::Default::default() };
    (@decode $row:ident, $at:ident, $use:ident $name:literal) => {{
        let v = $crate::kit::read_column($row, *$at, $name)?;
        *$at += 1;
        v
    }};
    (@column $out:ident, flat $t:ident) => { <$t as $crate::kit::Columns>::columns($out) };
    (@column $out:ident, optional $t:ident) => { <$t as $crate::kit::Columns>::columns($out) };
    (@column $out:ident, skip $x:tt) => {};
    (@column $out:ident, $use:ident $name:literal) => {
        $out.push($crate::kit::ColumnDef { name: $name, role: $crate::record!(@use $use) })
    };
    (@value $v:expr, $pick:ident, $out:ident, flat $t:ident) => { $crate::kit::Columns::values(&$v, $pick, $out) };
    (@value $v:expr, $pick:ident, $out:ident, optional $t:ident) => {};
    (@value $v:expr, $pick:ident, $out:ident, skip $x:tt) => {};
    (@value $v:expr, $pick:ident, $out:ident, $use:ident $name:literal) => {
        if $pick($crate::record!(@use $use)) {
            $out.push($crate::kit::ToValue::to_value(&$v));
        }
    };
}
