//! AppReseller payment methods: the card rules (Luhn, brand by IIN, lengths, expiry, security
//! code), the holder's name and the billing address fields. Plain functions, no I/O.
//!
//! A card number and a security code are **never** kept: [`CardNumber`] holds the digits only
//! long enough to check them and derive what is kept (the last four digits and the brand), and
//! [`Sensitive`] wraps raw client text whose `Debug` prints nothing of it. No message produced
//! here repeats either value.

use crate::account::optional_text;
use crate::validation::ValidationErrors;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};

crate::str_enum! {
    /// `paymentMethodType`: the payment method types partnerd supports (cards only).
    pub enum PaymentMethodType { Card = "CARD" }
}

crate::str_enum! {
    /// A card's brand, as derived from its issuer identification number (IIN).
    pub enum CardBrand {
        Visa = "VISA",
        Mastercard = "MASTERCARD",
        Amex = "AMEX",
        Discover = "DISCOVER",
        Diners = "DINERS",
        Jcb = "JCB",
        UnionPay = "UNIONPAY",
        Maestro = "MAESTRO",
    }
}

/// Raw client text that must not reach a log: its `Debug` is `[redacted]`, and it has no
/// `Display` and no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(raw: impl Into<String>) -> Self {
        Sensitive(raw.into())
    }

    /// The text, for the one check that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Fewest and most digits of a card number.
pub const MIN_DIGITS: usize = 12;
pub const MAX_DIGITS: usize = 19;

/// A checked card number: 12–19 digits, Luhn-valid, of a known brand whose lengths it has.
/// Its `Debug` shows only the brand and the last four digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber({} ending {})", self.brand, self.last_four())
    }
}

impl CardNumber {
    /// Digits with optional single spaces or dashes between them. Messages never repeat the
    /// number.
    pub fn parse(raw: &str) -> Result<CardNumber, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        let mut digits = String::with_capacity(MAX_DIGITS);
        let mut previous_separator = true;
        for c in raw.chars() {
            match c {
                '0'..='9' => {
                    digits.push(c);
                    previous_separator = false;
                }
                ' ' | '-' if !previous_separator => previous_separator = true,
                _ => return Err("must be digits, optionally grouped by single spaces or dashes".into()),
            }
        }
        if previous_separator {
            return Err("must be digits, optionally grouped by single spaces or dashes".into());
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
            return Err(format!("must have {MIN_DIGITS} to {MAX_DIGITS} digits"));
        }
        if !luhn_valid(&digits) {
            return Err("is not a valid card number (check digit)".into());
        }
        let Some(brand) = brand_of(&digits) else {
            return Err(format!("is not a card of a supported brand ({})", CardBrand::NAMES.join(", ")));
        };
        if !brand_lengths(brand).contains(&digits.len()) {
            return Err(format!("has {} digits, which {} cards do not have", digits.len(), brand));
        }
        Ok(CardNumber { digits, brand })
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    /// What is kept and shown: the last four digits.
    pub fn last_four(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }
}

/// The Luhn (mod 10) check over a string of ASCII digits; `false` for anything else.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The leading `n` digits as a number (0 when there are fewer).
fn prefix(digits: &str, n: usize) -> u32 {
    digits.get(..n).and_then(|p| p.parse().ok()).unwrap_or(0)
}

/// The brand of a number by its IIN ranges, most specific first (Discover's 622126–622925
/// before UnionPay's 62).
pub fn brand_of(digits: &str) -> Option<CardBrand> {
    let (p1, p2, p3, p4, p6) =
        (prefix(digits, 1), prefix(digits, 2), prefix(digits, 3), prefix(digits, 4), prefix(digits, 6));
    Some(match () {
        _ if p2 == 34 || p2 == 37 => CardBrand::Amex,
        _ if p1 == 4 => CardBrand::Visa,
        _ if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => CardBrand::Mastercard,
        _ if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6) => {
            CardBrand::Discover
        }
        _ if (3528..=3589).contains(&p4) => CardBrand::Jcb,
        _ if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 => CardBrand::Diners,
        _ if p2 == 62 => CardBrand::UnionPay,
        _ if p2 == 50 || (56..=58).contains(&p2) || p4 == 6304 || p4 == 6759 || p2 == 67 => CardBrand::Maestro,
        _ => return None,
    })
}

/// The number lengths a brand issues.
pub fn brand_lengths(brand: CardBrand) -> std::ops::RangeInclusive<usize> {
    match brand {
        CardBrand::Amex => 15..=15,
        CardBrand::Mastercard => 16..=16,
        CardBrand::Visa => 13..=19,
        CardBrand::Diners => 14..=19,
        CardBrand::Discover | CardBrand::Jcb | CardBrand::UnionPay => 16..=19,
        CardBrand::Maestro => 12..=19,
    }
}

/// A brand the client sent must be the number's (case-insensitively); an absent or blank one
/// is the number's.
pub fn check_brand(given: Option<&str>, derived: CardBrand) -> Result<CardBrand, String> {
    match given.map(str::trim).filter(|g| !g.is_empty()) {
        None => Ok(derived),
        Some(g) if g.eq_ignore_ascii_case(derived.as_str()) => Ok(derived),
        Some(_) => Err(format!("does not match the card number, which is a {derived} card")),
    }
}

/// 3 or 4 digits. Checked, never kept. Messages never repeat it.
pub fn check_security_code(raw: &str) -> Result<(), String> {
    let t = raw.trim();
    if (3..=4).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be 3 or 4 digits".into())
    }
}

/// `expirationMonth`: 1–12, with or without a leading zero.
pub fn parse_month(raw: &str) -> Result<u32, String> {
    let t = raw.trim();
    match t.parse::<u32>() {
        Ok(m) if (1..=12).contains(&m) && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit()) => Ok(m),
        _ => Err("must be a month from 1 to 12".into()),
    }
}

/// `expirationYear`: four digits.
pub fn parse_year(raw: &str) -> Result<u32, String> {
    let t = raw.trim();
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().map_err(|_| "must be a four-digit year".into())
    } else {
        Err("must be a four-digit year".into())
    }
}

/// The first instant after the card's last valid day (the end of its expiry month, UTC).
pub fn expires_at(month: u32, year: u32) -> Option<DateTime<Utc>> {
    let year = i32::try_from(year).ok()?;
    let (y, m) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()
}

/// A card is usable through the end of its expiry month.
pub fn is_expired(month: u32, year: u32, now: DateTime<Utc>) -> bool {
    expires_at(month, year).is_none_or(|end| now >= end)
}

/// Longest holder name and address field, in characters.
pub const MAX_TEXT: usize = 200;

/// `BillingAddress` (all fields optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax_extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_box: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salutation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// Longest of the short address fields (zip, phone, fax, extensions, PO box, salutation).
pub const MAX_SHORT: usize = 40;

impl BillingAddress {
    /// Trims every field (empty means absent), bounds its length (200 characters, 40 for the
    /// short ones), refuses control characters; `country` is two capital letters (ISO 3166-1
    /// alpha-2). Problems are named `<prefix><field>`.
    pub fn validated(mut self, prefix: &str, errors: &mut ValidationErrors) -> BillingAddress {
        for (name, max, v) in [
            ("city", MAX_TEXT, &mut self.city),
            ("companyName", MAX_TEXT, &mut self.company_name),
            ("country", MAX_TEXT, &mut self.country),
            ("fax", MAX_SHORT, &mut self.fax),
            ("faxExtension", MAX_SHORT, &mut self.fax_extension),
            ("phone", MAX_SHORT, &mut self.phone),
            ("poBox", MAX_SHORT, &mut self.po_box),
            ("salutation", MAX_SHORT, &mut self.salutation),
            ("state", MAX_TEXT, &mut self.state),
            ("street1", MAX_TEXT, &mut self.street1),
            ("street2", MAX_TEXT, &mut self.street2),
            ("zip", MAX_SHORT, &mut self.zip),
        ] {
            match optional_text(v.as_deref(), max) {
                Ok(t) => *v = t,
                Err(m) => {
                    errors.add(&format!("{prefix}{name}"), m);
                    *v = None;
                }
            }
        }
        if let Some(c) = &self.country
            && !is_country_code(c)
        {
            errors.add(&format!("{prefix}country"), "must be a two-letter ISO 3166 country code in capitals");
        }
        self
    }
}

/// Two capital ASCII letters.
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// The card's holder: required, trimmed, at most 200 characters, no control characters.
pub fn holder_name(raw: Option<&str>) -> Result<String, String> {
    optional_text(raw, MAX_TEXT)?.ok_or_else(|| "is required".to_owned())
}

/// What a checked card keeps: never the number or the security code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCard {
    pub brand: CardBrand,
    pub last_four: String,
    pub holder_name: String,
    pub expiration_month: u32,
    pub expiration_year: u32,
}

/// A card as the client sent it (`properties`).
#[derive(Debug, Clone, Default)]
pub struct CardInput {
    pub number: Option<Sensitive>,
    pub security_code: Option<Sensitive>,
    pub expiration_month: Option<String>,
    pub expiration_year: Option<String>,
    pub card_holder_name: Option<String>,
    pub brand: Option<String>,
}

impl CardInput {
    /// Every rule, each problem named `<prefix><field>` (`properties.number`, …). The
    /// security code is checked and dropped. An expiry in the past names the year when the
    /// year is past, else the month.
    pub fn checked(self, prefix: &str, now: DateTime<Utc>, all: &mut ValidationErrors) -> Option<CheckedCard> {
        let mut local = ValidationErrors::new();
        let errors = &mut local;
        let field = |name: &str| format!("{prefix}{name}");
        let number = match self.number.as_ref().map(Sensitive::expose) {
            None => {
                errors.add(&field("number"), "is required");
                None
            }
            Some(n) => errors.check(&field("number"), CardNumber::parse(n)),
        };
        if let Some(code) = &self.security_code {
            errors.check(&field("securityCode"), check_security_code(code.expose()));
        }
        let required = |v: &Option<String>| v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let month = match required(&self.expiration_month) {
            None => {
                errors.add(&field("expirationMonth"), "is required");
                None
            }
            Some(m) => errors.check(&field("expirationMonth"), parse_month(&m)),
        };
        let year = match required(&self.expiration_year) {
            None => {
                errors.add(&field("expirationYear"), "is required");
                None
            }
            Some(y) => errors.check(&field("expirationYear"), parse_year(&y)),
        };
        if let (Some(m), Some(y)) = (month, year)
            && is_expired(m, y, now)
        {
            let name = if i64::from(y) < i64::from(now.year()) { "expirationYear" } else { "expirationMonth" };
            errors.add(&field(name), "the card has expired");
        }
        let holder = errors.check(&field("cardHolderName"), holder_name(self.card_holder_name.as_deref()));
        let brand =
            number.as_ref().and_then(|n| errors.check(&field("brand"), check_brand(self.brand.as_deref(), n.brand())));
        let ok = local.is_empty();
        all.merge_prefixed("", local);
        if !ok {
            return None;
        }
        Some(CheckedCard {
            brand: brand?,
            last_four: number?.last_four().to_owned(),
            holder_name: holder?,
            expiration_month: month?,
            expiration_year: year?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 15, 10, 30, 0).unwrap()
    }

    #[test]
    fn luhn_accepts_valid_numbers_only() {
        for ok in ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "0"] {
            assert!(luhn_valid(ok), "{ok}");
        }
        for bad in ["4111111111111112", "1234567812345678", "", "41111111a1111111", "4111 1111"] {
            assert!(!luhn_valid(bad), "{bad}");
        }
    }

    #[test]
    fn brands_come_from_the_iin() {
        let cases = [
            ("4111111111111111", CardBrand::Visa),
            ("5555555555554444", CardBrand::Mastercard),
            ("2223003122003222", CardBrand::Mastercard),
            ("378282246310005", CardBrand::Amex),
            ("341111111111111", CardBrand::Amex),
            ("6011111111111117", CardBrand::Discover),
            ("6445644564456445", CardBrand::Discover),
            ("6221260000000000", CardBrand::Discover),
            ("6200000000000005", CardBrand::UnionPay),
            ("3530111333300000", CardBrand::Jcb),
            ("30569309025904", CardBrand::Diners),
            ("36227206271667", CardBrand::Diners),
            ("6759649826438453", CardBrand::Maestro),
            ("5018000000000009", CardBrand::Maestro),
        ];
        for (n, b) in cases {
            assert_eq!(brand_of(n), Some(b), "{n}");
        }
        assert_eq!(brand_of("1111111111111111"), None);
        assert_eq!(brand_of("0000000000000000"), None);
        assert_eq!(brand_of("2721000000000000"), None, "past Mastercard's 2-series");
    }

    #[test]
    fn numbers_are_parsed_with_separators_and_checked() {
        let n = CardNumber::parse("4111 1111 1111 1111").unwrap();
        assert_eq!((n.brand(), n.last_four()), (CardBrand::Visa, "1111"));
        assert_eq!(CardNumber::parse("4111-1111-1111-1111").unwrap(), n);
        assert_eq!(CardNumber::parse(" 4111111111111111 ").unwrap(), n);
        assert_eq!(CardNumber::parse("3782-822463-10005").unwrap().last_four(), "0005");
        for bad in ["", "4111--1111111111111111", "-4111111111111111", "4111111111111111-", "4111_1111_1111_1111"] {
            assert!(CardNumber::parse(bad).is_err(), "{bad:?}");
        }
        assert!(CardNumber::parse("4111111111111112").unwrap_err().contains("check digit"));
        assert!(CardNumber::parse("41111111116").unwrap_err().contains("12 to 19"), "11 digits");
        assert!(CardNumber::parse("41111111111111111111").unwrap_err().contains("12 to 19"), "20 digits");
        assert!(CardNumber::parse("0000-0000-0000-0000").unwrap_err().contains("supported brand"));
        // Luhn-valid 16-digit number with an Amex prefix: Amex cards have 15 digits.
        assert!(CardNumber::parse("3400000000000000").unwrap_err().contains("AMEX"));
    }

    #[test]
    fn nothing_shows_the_number() {
        let raw = "4111111111111111";
        let n = CardNumber::parse(raw).unwrap();
        let shown = format!("{n:?}");
        assert!(!shown.contains(raw) && shown.contains("1111") && shown.contains("VISA"), "{shown}");
        assert_eq!(format!("{:?}", Sensitive::new(raw)), "[redacted]");
        let input = CardInput {
            number: Some(Sensitive::new(raw)),
            security_code: Some(Sensitive::new("987")),
            ..Default::default()
        };
        let shown = format!("{input:?}");
        assert!(!shown.contains(raw) && !shown.contains("987"), "{shown}");
        for bad in ["4111111111111112", "411111111111111111111", "41x1111111111111"] {
            let e = CardNumber::parse(bad).unwrap_err();
            assert!(!e.contains(bad) && !e.contains("411111"), "{e}");
        }
        assert!(!check_security_code("98765").unwrap_err().contains("98765"));
    }

    #[test]
    fn brands_sent_must_match_the_number() {
        assert_eq!(check_brand(None, CardBrand::Visa), Ok(CardBrand::Visa));
        assert_eq!(check_brand(Some(" "), CardBrand::Visa), Ok(CardBrand::Visa));
        assert_eq!(check_brand(Some("visa"), CardBrand::Visa), Ok(CardBrand::Visa));
        assert!(check_brand(Some("MASTERCARD"), CardBrand::Visa).unwrap_err().contains("VISA"));
        assert!(check_brand(Some("DINERS CLUB"), CardBrand::Diners).is_err());
    }

    #[test]
    fn security_codes_are_three_or_four_digits() {
        assert!(check_security_code("123").is_ok());
        assert!(check_security_code("1234").is_ok());
        for bad in ["12", "12345", "12a", "", "1 23"] {
            assert!(check_security_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn months_years_and_expiry() {
        assert_eq!(parse_month("1"), Ok(1));
        assert_eq!(parse_month("01"), Ok(1));
        assert_eq!(parse_month("12"), Ok(12));
        for bad in ["0", "13", "001", "-1", "+1", "Jan", ""] {
            assert!(parse_month(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_year("2100"), Ok(2100));
        for bad in ["25", "02025", "20x5", "+202", ""] {
            assert!(parse_year(bad).is_err(), "{bad:?}");
        }
        // Valid through the last instant of its month.
        assert!(!is_expired(1, 2025, now()));
        let last = Utc.with_ymd_and_hms(2025, 1, 31, 23, 59, 59).unwrap();
        assert!(!is_expired(1, 2025, last));
        assert!(is_expired(1, 2025, Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap()));
        assert!(is_expired(12, 2024, now()));
        assert!(!is_expired(12, 2025, now()));
        assert_eq!(expires_at(12, 2025), Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
    }

    fn card() -> CardInput {
        CardInput {
            number: Some(Sensitive::new("4111 1111 1111 1111")),
            security_code: Some(Sensitive::new("123")),
            expiration_month: Some("10".into()),
            expiration_year: Some("2100".into()),
            card_holder_name: Some(" John Jordan ".into()),
            brand: None,
        }
    }

    #[test]
    fn a_card_is_checked_field_by_field() {
        let mut e = ValidationErrors::new();
        let c = card().checked("properties.", now(), &mut e).unwrap();
        assert!(e.is_empty(), "{e}");
        assert_eq!(
            c,
            CheckedCard {
                brand: CardBrand::Visa,
                last_four: "1111".into(),
                holder_name: "John Jordan".into(),
                expiration_month: 10,
                expiration_year: 2100,
            }
        );
        let named = |input: CardInput| {
            let mut e = ValidationErrors::new();
            assert!(input.checked("properties.", now(), &mut e).is_none());
            e.fields().keys().cloned().collect::<Vec<_>>()
        };
        assert_eq!(
            named(CardInput { number: Some(Sensitive::new("4111111111111112")), ..card() }),
            ["properties.number"]
        );
        assert_eq!(named(CardInput { number: None, ..card() }), ["properties.number"]);
        assert_eq!(
            named(CardInput { security_code: Some(Sensitive::new("12")), ..card() }),
            ["properties.securityCode"]
        );
        assert_eq!(named(CardInput { expiration_month: Some("13".into()), ..card() }), ["properties.expirationMonth"]);
        assert_eq!(named(CardInput { expiration_year: Some("2024".into()), ..card() }), ["properties.expirationYear"]);
        assert_eq!(
            named(CardInput { expiration_month: Some("12".into()), expiration_year: Some("2024".into()), ..card() }),
            ["properties.expirationYear"]
        );
        assert_eq!(named(CardInput { card_holder_name: Some("  ".into()), ..card() }), ["properties.cardHolderName"]);
        assert_eq!(named(CardInput { brand: Some("AMEX".into()), ..card() }), ["properties.brand"]);
        // Without a security code the card is fine.
        let mut e = ValidationErrors::new();
        assert!(CardInput { security_code: None, ..card() }.checked("properties.", now(), &mut e).is_some());
        // The current month is not past.
        let mut e = ValidationErrors::new();
        let this_month =
            CardInput { expiration_month: Some("1".into()), expiration_year: Some("2025".into()), ..card() };
        assert!(this_month.checked("properties.", now(), &mut e).is_some(), "{e}");
        // Every message is free of the number.
        let mut e = ValidationErrors::new();
        CardInput { number: Some(Sensitive::new("4111111111111112")), ..card() }.checked("p.", now(), &mut e);
        assert!(!e.to_string().contains("4111111111111112"));
    }

    #[test]
    fn billing_addresses_are_trimmed_bounded_and_coded() {
        let mut e = ValidationErrors::new();
        let a = BillingAddress {
            city: Some(" Beverly Hills ".into()),
            country: Some("US".into()),
            zip: Some(" ".into()),
            ..Default::default()
        }
        .validated("billingAddress.", &mut e);
        assert!(e.is_empty(), "{e}");
        assert_eq!((a.city.as_deref(), a.country.as_deref(), a.zip), (Some("Beverly Hills"), Some("US"), None));
        for bad in ["us", "USA", "U", "U1"] {
            let mut e = ValidationErrors::new();
            BillingAddress { country: Some(bad.into()), ..Default::default() }.validated("billingAddress.", &mut e);
            assert_eq!(e.fields().keys().collect::<Vec<_>>(), ["billingAddress.country"], "{bad}");
        }
        let mut e = ValidationErrors::new();
        BillingAddress {
            street1: Some("x".repeat(201)),
            zip: Some("1".repeat(41)),
            city: Some("a\u{7}".into()),
            ..Default::default()
        }
        .validated("billingAddress.", &mut e);
        assert_eq!(
            e.fields().keys().collect::<Vec<_>>(),
            ["billingAddress.city", "billingAddress.street1", "billingAddress.zip"]
        );
        assert!(is_country_code("DE") && !is_country_code("de"));
    }

    #[test]
    fn holder_names_are_required_and_bounded() {
        assert_eq!(holder_name(Some(" Jane ")), Ok("Jane".into()));
        assert!(holder_name(None).is_err());
        assert!(holder_name(Some("")).is_err());
        assert!(holder_name(Some(&"x".repeat(201))).is_err());
    }

    #[test]
    fn the_type_is_card_only() {
        assert_eq!(PaymentMethodType::parse("CARD"), Ok(PaymentMethodType::Card));
        assert!(PaymentMethodType::parse("BANK").unwrap_err().contains("CARD"));
    }
}
