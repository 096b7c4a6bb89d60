//! Money as integer minor units (cents): exact sums in SQL on both backends, no floating point.

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Largest amount accepted: ten trillion in major units (fits comfortably in i64 cents).
const MAX_CENTS: i64 = 1_000_000_000_000_000;

/// An amount of money as it is shown and stored in payloads: a JSON number, an integer when
/// whole (`50000`), else with its cents (`50000.5`). Reads back exactly (no binary rounding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_i64(self.0 / 100)
        } else {
            // Two decimals of an integer amount below 2^53 cents print exactly in shortest form.
            s.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        AmountInput::deserialize(d)?.cents().map(Amount).map_err(de::Error::custom)
    }
}

/// An amount as a client sent it: a JSON number, a numeric string, or anything else (refused
/// when it is checked, so the refusal is a field error reported with the others, not a body
/// that fails to parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountInput(Raw);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw {
    /// A JSON number, in its shortest decimal form: the text the client sent for any amount
    /// with up to 15 significant digits.
    Number(String),
    Text(String),
    /// `true`, `null`, an array, an object.
    NotANumber,
}

impl AmountInput {
    /// A JSON number (as a client would send it).
    pub fn number(n: impl Into<serde_json::Number>) -> Self {
        Self(Raw::Number(n.into().to_string()))
    }

    /// A numeric string (as a client would send it).
    pub fn text(s: impl Into<String>) -> Self {
        Self(Raw::Text(s.into()))
    }

    /// The amount in cents, with at most two decimals.
    pub fn cents(&self) -> Result<i64, String> {
        match &self.0 {
            Raw::Number(n) => parse_decimal(n),
            Raw::Text(s) => parse_decimal(s.trim()),
            Raw::NotANumber => Err("must be a number".into()),
        }
    }

    /// A positive amount, as co-sell deal values must be.
    pub fn positive_cents(&self) -> Result<i64, String> {
        match self.cents()? {
            c if c > 0 => Ok(c),
            _ => Err("must be greater than zero".into()),
        }
    }
}

impl<'de> Deserialize<'de> for AmountInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = AmountInput;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E>(self, n: u64) -> Result<AmountInput, E> {
                Ok(AmountInput::number(n))
            }
            fn visit_i64<E>(self, n: i64) -> Result<AmountInput, E> {
                Ok(AmountInput::number(n))
            }
            fn visit_f64<E>(self, f: f64) -> Result<AmountInput, E> {
                // Formatted exactly as serde_json prints the number it parsed.
                Ok(serde_json::Number::from_f64(f).map_or(AmountInput(Raw::NotANumber), AmountInput::number))
            }
            fn visit_str<E>(self, s: &str) -> Result<AmountInput, E> {
                Ok(AmountInput::text(s))
            }
            fn visit_string<E>(self, s: String) -> Result<AmountInput, E> {
                Ok(AmountInput::text(s))
            }
            fn visit_bool<E>(self, _: bool) -> Result<AmountInput, E> {
                Ok(AmountInput(Raw::NotANumber))
            }
            fn visit_unit<E>(self) -> Result<AmountInput, E> {
                Ok(AmountInput(Raw::NotANumber))
            }
            fn visit_none<E>(self) -> Result<AmountInput, E> {
                Ok(AmountInput(Raw::NotANumber))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AmountInput, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AmountInput, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AmountInput(Raw::NotANumber))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AmountInput, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AmountInput(Raw::NotANumber))
            }
        }
        d.deserialize_any(Any)
    }
}

pub fn parse_decimal(text: &str) -> Result<i64, String> {
    let invalid = || format!("must be a decimal amount with at most two decimals (got '{text}')");
    if text.contains(['e', 'E']) {
        return Err(invalid());
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return Err("must have at most two decimals".into());
    }
    let whole: i64 = whole.parse().map_err(|_| "is too large".to_string())?;
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(format!("{frac:0<2}").parse::<i64>().unwrap_or(0)))
        .filter(|c| *c <= MAX_CENTS)
        .ok_or_else(|| "is too large".to_string())?;
    Ok(if negative { -cents } else { cents })
}

/// The amount as decimal text, for CSV.
pub fn to_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    if c.is_multiple_of(100) { format!("{sign}{}", c / 100) } else { format!("{sign}{}.{:02}", c / 100, c % 100) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> AmountInput {
        serde_json::from_value(v).unwrap()
    }

    fn from_text(body: &str) -> AmountInput {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(input(json!(75000)).cents(), Ok(7_500_000));
        assert_eq!(from_text("50000.1").cents(), Ok(5_000_010));
        assert_eq!(from_text("0.29").cents(), Ok(29), "0.29 is not 28.999… cents");
        assert_eq!(input(json!("1234.50")).cents(), Ok(123_450));
        assert_eq!(input(json!("12.500")).cents(), Ok(1_250), "trailing zeros are fine");
        assert!(from_text("1.234").cents().unwrap_err().contains("two decimals"));
        assert!(input(json!("1e5")).cents().is_err());
        assert_eq!(
            from_text("1e300").cents().unwrap_err(),
            "must be a decimal amount with at most two decimals (got '1e+300')",
            "as serde_json prints it"
        );
        assert!(input(json!("abc")).cents().is_err());
        assert_eq!(input(json!(true)).cents().unwrap_err(), "must be a number");
        assert_eq!(from_text("[1, {\"a\": 2}]").cents().unwrap_err(), "must be a number");
        assert_eq!(from_text("{\"a\": [2]}").cents().unwrap_err(), "must be a number");
        assert!(input(json!("99999999999999999999")).cents().unwrap_err().contains("too large"));
        assert_eq!(AmountInput::number(12).cents(), Ok(1_200));
        assert_eq!(AmountInput::text(" 3.5 ").cents(), Ok(350));
    }

    #[test]
    fn a_null_amount_is_absent_when_optional() {
        let v: Option<AmountInput> = serde_json::from_str("null").unwrap();
        assert_eq!(v, None);
    }

    #[test]
    fn deal_values_must_be_positive() {
        assert!(input(json!(0)).positive_cents().is_err());
        assert!(input(json!(-5)).positive_cents().is_err());
        assert_eq!(input(json!(1)).positive_cents(), Ok(100));
    }

    #[test]
    fn amounts_render_as_the_client_wrote_them() {
        let v = |c| serde_json::to_value(Amount::from_cents(c)).unwrap();
        assert_eq!(v(5_000_000), json!(50000));
        assert_eq!(v(5_000_010), json!(50000.1));
        assert_eq!(v(29), json!(0.29));
        assert_eq!(serde_json::to_string(&Amount::from_cents(5_000_010)).unwrap(), "50000.1");
        assert_eq!(to_text(5_000_010), "50000.10");
        assert_eq!(to_text(-150), "-1.50");
        assert_eq!(to_text(100), "1");
    }

    #[test]
    fn stored_amounts_read_back_exactly() {
        for cents in [0, 29, 5_000_010, 7_500_000, -150] {
            let text = serde_json::to_string(&Amount::from_cents(cents)).unwrap();
            assert_eq!(serde_json::from_str::<Amount>(&text).unwrap(), Amount::from_cents(cents), "{text}");
        }
        assert!(serde_json::from_str::<Amount>("\"x\"").is_err());
    }
}
