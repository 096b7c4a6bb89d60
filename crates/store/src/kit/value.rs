//! Backend-neutral values: what a field is written as, and how a row is read back.

use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::lead::{LeadStatus, LeadType};
use partnerd_domain::listing::ListingStatus;
use partnerd_domain::partner::Role;
use partnerd_domain::ticket::{TicketCategory, TicketPriority, TicketStatus};
use partnerd_domain::usage::Metric;
use std::borrow::Cow;

/// One SQL parameter, before a backend turns it into its own. SQLite stores times as epoch
/// milliseconds, dates as `YYYY-MM-DD` text and lists/JSON as JSON text; PostgreSQL binds
/// TIMESTAMPTZ, DATE, JSONB or TEXT[] (chosen by the parameter's type in the statement) and
/// INTEGER or BIGINT for `Int`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Json(Cow<'a, serde_json::Value>),
    TextList(Cow<'a, [String]>),
    Bytes(Cow<'a, [u8]>),
}

impl Value<'_> {
    /// The same value, owning what it borrowed (for queries run on another thread).
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
            Value::Int(n) => Value::Int(n),
            Value::Bool(b) => Value::Bool(b),
            Value::Time(t) => Value::Time(t),
            Value::Date(d) => Value::Date(d),
            Value::Json(j) => Value::Json(Cow::Owned(j.into_owned())),
            Value::TextList(l) => Value::TextList(Cow::Owned(l.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
        }
    }
}

/// What each backend's row offers, column by column. Each method fails on NULL; [`RowRead::is_null`]
/// comes first for nullable columns. Errors are plain text; the caller adds the column's name.
pub trait RowRead {
    fn is_null(&self, idx: usize) -> Result<bool, String>;
    fn text(&self, idx: usize) -> Result<String, String>;
    fn int(&self, idx: usize) -> Result<i64, String>;
    fn boolean(&self, idx: usize) -> Result<bool, String>;
    fn time(&self, idx: usize) -> Result<DateTime<Utc>, String>;
    fn date(&self, idx: usize) -> Result<NaiveDate, String>;
    fn json(&self, idx: usize) -> Result<serde_json::Value, String>;
    fn text_list(&self, idx: usize) -> Result<Vec<String>, String>;
    fn bytes(&self, idx: usize) -> Result<Vec<u8>, String>;
    /// How many columns the row has.
    fn width(&self) -> usize;
    /// A column as whatever value it holds (a page's sort key, carried in its cursor).
    fn any(&self, idx: usize) -> Result<Value<'static>, String>;
}

/// Anything bound as one parameter.
pub trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

/// A field type stored in one column: how it is written and read. Reading checks what writing
/// guarantees (a known enum name, a count that is not negative) and refuses anything else.
pub trait Column: ToValue + Sized {
    fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String>;
}

impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl ToValue for [String] {
    fn to_value(&self) -> Value<'_> {
        Value::TextList(Cow::Borrowed(self))
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

impl ToValue for Value<'_> {
    fn to_value(&self) -> Value<'_> {
        self.clone()
    }
}

/// The values of a statement's parameters: `args![a, b]` for `&[a.to_value(), b.to_value()]`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { [$($crate::kit::ToValue::to_value(&$v)),*] };
}

macro_rules! plain_column {
    ($($ty:ty => $variant:ident, $read:ident, |$v:ident| $write:expr;)*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value<'_> {
                let $v = self;
                Value::$variant($write)
            }
        }
        impl Column for $ty {
            fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String> {
                row.$read(idx)
            }
        }
    )*};
}

plain_column! {
    String => Text, text, |v| Cow::Borrowed(v.as_str());
    i64 => Int, int, |v| *v;
    bool => Bool, boolean, |v| *v;
    DateTime<Utc> => Time, time, |v| *v;
    NaiveDate => Date, date, |v| *v;
    serde_json::Value => Json, json, |v| Cow::Borrowed(v);
    Vec<String> => TextList, text_list, |v| Cow::Borrowed(v.as_slice());
    Vec<u8> => Bytes, bytes, |v| Cow::Borrowed(v.as_slice());
}

/// Unsigned integers are stored as signed 64-bit; a negative or oversized value is corruption.
macro_rules! unsigned_column {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value<'_> {
                // Saturates only beyond i64::MAX, which no count or duration reaches.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl Column for $ty {
            fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String> {
                let n = row.int(idx)?;
                <$ty>::try_from(n).map_err(|_| format!("{n} is out of range for {}", stringify!($ty)))
            }
        }
    )*};
}

unsigned_column!(u16, u32, u64);

/// Status enums are stored by name.
macro_rules! named_column {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value<'_> {
                Value::Text(Cow::Borrowed(self.as_str()))
            }
        }
        impl Column for $ty {
            fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String> {
                let s = row.text(idx)?;
                <$ty>::parse(&s).map_err(|e| format!("unknown value: {e}"))
            }
        }
    )*};
}

named_column!(
    OpportunityStatus,
    ListingStatus,
    LeadStatus,
    LeadType,
    TicketStatus,
    TicketPriority,
    TicketCategory,
    Metric
);

/// Roles as one comma-separated column; an unknown role is an error, not a dropped role.
impl ToValue for Vec<Role> {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Owned(partnerd_domain::partner::roles_to_column(self)))
    }
}

impl Column for Vec<Role> {
    fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String> {
        let s = row.text(idx)?;
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| Role::parse(p).map_err(|_| format!("unknown role '{p}'")))
            .collect()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: Column> Column for Option<T> {
    fn read<R: RowRead + ?Sized>(row: &R, idx: usize) -> Result<Self, String> {
        if row.is_null(idx)? { Ok(None) } else { T::read(row, idx).map(Some) }
    }
}

/// Reads column `idx` as `T`, naming the column in the error.
pub fn read_column<T: Column, R: RowRead + ?Sized>(row: &R, idx: usize, name: &str) -> crate::StoreResult<T> {
    T::read(row, idx).map_err(|e| crate::StoreError::Backend(format!("column {name}: {e}")))
}
