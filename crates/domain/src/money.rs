//! Money as integer minor units (cents): exact sums in SQL on both backends, no floating point.

use serde_json::Value;

/// Largest amount accepted: ten trillion in major units (fits comfortably in i64 cents).
const MAX_CENTS: i64 = 1_000_000_000_000_000;

/// Parses a JSON amount (number or numeric string) with at most two decimals. A JSON number is
/// read through its shortest decimal form, which is the text the client sent for any amount with
/// up to 15 significant digits.
pub fn parse_amount(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Err("must be a number".into()),
    };
    parse_decimal(&text)
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

/// A positive amount, as co-sell deal values must be.
pub fn parse_positive(v: &Value) -> Result<i64, String> {
    match parse_amount(v)? {
        c if c > 0 => Ok(c),
        _ => Err("must be greater than zero".into()),
    }
}

/// The amount as a JSON number: an integer when whole (`50000`), else with its cents (`50000.5`).
pub fn to_json(cents: i64) -> Value {
    if cents % 100 == 0 {
        Value::from(cents / 100)
    } else {
        // Two decimals of an integer amount below 2^53 cents print exactly in shortest form.
        Value::from(cents as f64 / 100.0)
    }
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

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_amount(&json!(75000)), Ok(7_500_000));
        assert_eq!(parse_amount(&json!(50000.1)), Ok(5_000_010));
        assert_eq!(parse_amount(&json!(0.29)), Ok(29), "0.29 is not 28.999… cents");
        assert_eq!(parse_amount(&json!("1234.50")), Ok(123_450));
        assert_eq!(parse_amount(&json!("12.500")), Ok(1_250), "trailing zeros are fine");
        assert!(parse_amount(&json!(1.234)).unwrap_err().contains("two decimals"));
        assert!(parse_amount(&json!("1e5")).is_err());
        assert!(parse_amount(&json!("abc")).is_err());
        assert!(parse_amount(&json!(true)).is_err());
        assert!(parse_amount(&json!("99999999999999999999")).unwrap_err().contains("too large"));
    }

    #[test]
    fn deal_values_must_be_positive() {
        assert!(parse_positive(&json!(0)).is_err());
        assert!(parse_positive(&json!(-5)).is_err());
        assert_eq!(parse_positive(&json!(1)), Ok(100));
    }

    #[test]
    fn amounts_render_as_the_client_wrote_them() {
        assert_eq!(to_json(5_000_000), json!(50000));
        assert_eq!(to_json(5_000_010), json!(50000.1));
        assert_eq!(to_json(29), json!(0.29));
        assert_eq!(to_text(5_000_010), "50000.10");
        assert_eq!(to_text(-150), "-1.50");
        assert_eq!(to_text(100), "1");
    }
}
