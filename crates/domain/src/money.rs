//! Money as integer minor units (cents), no floating point: one amount is an `Amount` (i64
//! cents, bounded by `MAX_CENTS` on input), a sum of amounts a `Total` (i128 cents, which no
//! reachable number of bounded amounts can overflow).

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Largest amount a client may send, in cents: 1,000,000,000,000.00 (one trillion) in major
/// units. Below 2^53 cents, so every accepted amount with cents also prints exactly as a JSON
/// number; and i64 cents hold 92,233 of them, so sums are `Total`s, never i64.
pub const MAX_CENTS: i64 = 100_000_000_000_000;
const MAX_MAJOR: f64 = 1e12;

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
        AmountInput::deserialize(d)?.any_cents().map(Amount).map_err(de::Error::custom)
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

    /// The amount in cents, with at most two decimals, at most `MAX_CENTS` either side of zero.
    pub fn cents(&self) -> Result<i64, String> {
        if let Raw::Number(n) = &self.0
            && n.parse::<f64>().is_ok_and(|f| f.abs() > MAX_MAJOR)
        {
            // Also a number too large for decimal notation (`1e+300`): refused for its size.
            return Err(too_large());
        }
        match self.any_cents()? {
            c if c.unsigned_abs() > MAX_CENTS.unsigned_abs() => Err(too_large()),
            c => Ok(c),
        }
    }

    /// The amount in cents within i64, whatever the input maximum: stored amounts read back
    /// even if they were written under a larger one.
    fn any_cents(&self) -> Result<i64, String> {
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

/// The refusal of an amount beyond the maximum, naming it.
fn too_large() -> String {
    format!("must be at most {} (the largest amount accepted)", to_text(MAX_CENTS))
}

/// Decimal text with at most two decimals as cents, within i64 (stored amounts read back
/// whatever maximum applied when they were written; input is bounded by `AmountInput::cents`).
pub fn parse_decimal(text: &str) -> Result<i64, String> {
    let invalid =
        || format!("must be a decimal amount with at most two decimals (got '{}')", crate::validation::echo(text));
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
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(format!("{frac:0<2}").parse::<i64>().unwrap_or(0)))
        .ok_or_else(too_large)?;
    Ok(if negative { -cents } else { cents })
}

/// A sum of amounts in cents. i128: even u64::MAX amounts of i64::MAX cents fit, so adding
/// stored amounts cannot overflow. Rendered like an `Amount`: whole values as exact JSON
/// integers (up to u64::MAX in major units), values with cents as the nearest double (exact
/// below 2^53 cents, about 90 trillion in major units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Total(i128);

impl Total {
    pub const fn from_cents(cents: i128) -> Self {
        Self(cents)
    }

    pub const fn cents(self) -> i128 {
        self.0
    }

    /// The sum; `None` only past i128, which sums of stored amounts cannot reach.
    pub fn checked_add(self, other: Total) -> Option<Total> {
        self.0.checked_add(other.0).map(Total)
    }
}

impl From<Amount> for Total {
    fn from(a: Amount) -> Self {
        Total(i128::from(a.0))
    }
}

impl std::iter::Sum for Total {
    /// Saturates rather than wraps: unreachable for sums of i64 amounts (see the type).
    fn sum<I: Iterator<Item = Total>>(iter: I) -> Total {
        Total(iter.fold(0i128, |acc, t| acc.saturating_add(t.0)))
    }
}

impl Serialize for Total {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            let whole = self.0 / 100;
            if let Ok(n) = i64::try_from(whole) {
                return s.serialize_i64(n);
            }
            if let Ok(n) = u64::try_from(whole) {
                return s.serialize_u64(n);
            }
        }
        s.serialize_f64(self.0 as f64 / 100.0)
    }
}

impl<'de> Deserialize<'de> for Total {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Stored report data: a whole number of any size, or an amount with cents.
        let n = serde_json::Number::deserialize(d)?;
        if let Some(whole) = n.as_i64() {
            return Ok(Total(i128::from(whole) * 100));
        }
        if let Some(whole) = n.as_u64() {
            return Ok(Total(i128::from(whole) * 100));
        }
        match parse_decimal(&n.to_string()) {
            Ok(cents) => Ok(Total(i128::from(cents))),
            // Beyond what a double holds exactly: the nearest number of cents (a finite double
            // times 100 is far inside i128; `as` saturates anyway).
            #[allow(clippy::cast_possible_truncation)]
            Err(_) => {
                n.as_f64().map(|f| Total((f * 100.0).round() as i128)).ok_or_else(|| de::Error::custom("not an amount"))
            }
        }
    }
}

/// The amount as decimal text, for CSV.
pub fn to_text(cents: impl Into<i128>) -> String {
    let cents: i128 = cents.into();
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
            from_text("1.5e-7").cents().unwrap_err(),
            "must be a decimal amount with at most two decimals (got '1.5e-7')",
            "as serde_json prints it"
        );
        assert!(from_text("1e300").cents().unwrap_err().contains("at most 1000000000000"));
        assert!(input(json!("abc")).cents().is_err());
        assert_eq!(input(json!(true)).cents().unwrap_err(), "must be a number");
        assert_eq!(from_text("[1, {\"a\": 2}]").cents().unwrap_err(), "must be a number");
        assert_eq!(from_text("{\"a\": [2]}").cents().unwrap_err(), "must be a number");
        assert!(input(json!("99999999999999999999")).cents().unwrap_err().contains("at most 1000000000000"));
        assert_eq!(AmountInput::number(12).cents(), Ok(1_200));
        assert_eq!(AmountInput::text(" 3.5 ").cents(), Ok(350));
    }

    #[test]
    fn amounts_are_bounded_by_the_documented_maximum() {
        assert_eq!(input(json!(1_000_000_000_000u64)).cents(), Ok(MAX_CENTS));
        assert_eq!(input(json!("1000000000000.00")).cents(), Ok(MAX_CENTS));
        assert_eq!(input(json!(-1_000_000_000_000i64)).cents(), Ok(-MAX_CENTS));
        let refused = "must be at most 1000000000000 (the largest amount accepted)";
        for v in [json!("10000000000000"), json!("1000000000000.01"), json!(1e13), json!(-1e13), json!(u64::MAX)] {
            assert_eq!(input(v.clone()).cents().unwrap_err(), refused, "{v}");
        }
        assert_eq!(from_text("1000000000000.01").cents().unwrap_err(), refused);
        assert_eq!(from_text("123456789012345678901234567890").cents().unwrap_err(), refused);
        // Stored amounts read back whatever the maximum was when they were written.
        assert_eq!(serde_json::from_str::<Amount>("10000000000000").unwrap(), Amount::from_cents(10 * MAX_CENTS));
    }

    #[test]
    fn totals_hold_any_sum_of_amounts_and_render_exactly() {
        let max = Total::from(Amount::from_cents(i64::MAX));
        let many = std::iter::repeat_n(max, 1_000).sum::<Total>();
        assert_eq!(many.cents(), i128::from(i64::MAX) * 1_000);
        // 92,234 deals of the maximum: more cents than an i64 holds, printed exactly.
        let deals = Total::from_cents(i128::from(MAX_CENTS) * 92_234);
        assert!(deals.cents() > i128::from(i64::MAX));
        assert_eq!(serde_json::to_string(&deals).unwrap(), "92234000000000000");
        assert_eq!(serde_json::to_value(deals).unwrap(), json!(92_234_000_000_000_000u64));
        let beyond_u64 = Total::from_cents(i128::from(u64::MAX) * 1_000);
        assert!(serde_json::to_value(beyond_u64).unwrap().is_f64(), "never an error, even past u64");
        assert_eq!(serde_json::to_value(Total::from_cents(5_000_050)).unwrap(), json!(50000.5));
        assert_eq!(serde_json::to_value(Total::from_cents(-150)).unwrap(), json!(-1.5));
        for cents in [0i128, 29, 5_000_050, i128::from(MAX_CENTS) * 92_234, -150] {
            let text = serde_json::to_string(&Total::from_cents(cents)).unwrap();
            assert_eq!(serde_json::from_str::<Total>(&text).unwrap().cents(), cents, "{text}");
        }
        assert_eq!(Total::from_cents(i128::MAX).checked_add(Total::from_cents(1)), None);
        assert_eq!(to_text(i128::from(MAX_CENTS) * 92_234 + 5), "92234000000000000.05");
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
