//! Calendar-day ranges as query parameters give them (`start_date`, `end_date`): the one strict
//! parser every reseller route uses (commissions, invoices, usage).
//!
//! - A day is exactly `YYYY-MM-DD`: four-digit year, two-digit month and day, nothing around
//!   it (no spaces, signs, times or offsets), a real calendar day, the year from
//!   [`MIN_YEAR`] to [`MAX_YEAR`]. Anything else is refused naming the parameter.
//! - Both bounds are inclusive UTC days; an `end_date` before `start_date` is refused naming
//!   `end_date`.
//! - When one bound is given, each route's default for the other is chosen so the range is
//!   never inverted by the default itself (the routes' OpenAPI descriptions say which).

use crate::ValidationErrors;
use crate::validation::echo;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 9999;

/// `text` as a day: exactly `YYYY-MM-DD`, a real date, year [`MIN_YEAR`]–[`MAX_YEAR`].
pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    let bad = || format!("must be a date as YYYY-MM-DD (got '{}')", echo(text));
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(bad());
    }
    // Only ASCII digits remain in each piece: these parses cannot fail or overflow.
    let (y, m, d) = (text[0..4].parse::<i32>(), text[5..7].parse::<u32>(), text[8..10].parse::<u32>());
    let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else { return Err(bad()) };
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err(format!("must be a date from {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31 (got '{text}')"));
    }
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("is not a calendar date (got '{text}')"))
}

/// The bounds as given, each parsed strictly (every bad one named at once); when both are
/// given, `end_date` must not be before `start_date`.
pub fn bounds(
    start: Option<&str>,
    end: Option<&str>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ValidationErrors> {
    let mut e = ValidationErrors::new();
    let start = start.and_then(|s| e.check("start_date", parse_day(s)));
    let end = end.and_then(|s| e.check("end_date", parse_day(s)));
    e.into_result()?;
    if let (Some(s), Some(t)) = (start, end)
        && t < s
    {
        return Err(ValidationErrors::single("end_date", format!("must not be before start_date ({s})")));
    }
    Ok((start, end))
}

/// An inclusive range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    /// The commission report's range: neither bound → this month so far (the first of
    /// `today`'s month through `today`); `start_date` alone → through `today` (or through
    /// `start_date` itself when it is after today); `end_date` alone → from the first of
    /// `end_date`'s month.
    pub fn month_to_date(start: Option<&str>, end: Option<&str>, today: NaiveDate) -> Result<Self, ValidationErrors> {
        let (start, end) = bounds(start, end)?;
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, today.max(s)),
            (None, Some(e)) => (first_of_month(e), e),
            (None, None) => (first_of_month(today), today),
        };
        Ok(DateRange { start, end })
    }

    /// Midnight UTC starting the first day.
    pub fn start_time(self) -> DateTime<Utc> {
        day_start(self.start)
    }

    /// The instant after the last day (midnight UTC ending it).
    pub fn end_exclusive(self) -> DateTime<Utc> {
        day_end(self.end)
    }

    /// Days in the range, both ends included.
    pub fn days(self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

/// Midnight UTC starting `day`.
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// Midnight UTC ending `day` (the next day's start). Saturates at chrono's last day, which
/// [`parse_day`]'s years never reach.
pub fn day_end(day: NaiveDate) -> DateTime<Utc> {
    day_start(day).checked_add_signed(Duration::days(1)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The first day of `day`'s month.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn days_are_exactly_yyyy_mm_dd() {
        assert_eq!(parse_day("2025-01-31"), Ok(d(2025, 1, 31)));
        assert_eq!(parse_day("1970-01-01"), Ok(d(1970, 1, 1)));
        assert_eq!(parse_day("9999-12-31"), Ok(d(9999, 12, 31)));
        assert_eq!(parse_day("2024-02-29"), Ok(d(2024, 2, 29)), "a leap day");
        for bad in [
            "",
            "2025-1-31",
            "2025-01-1",
            " 2025-01-31",
            "2025-01-31 ",
            "2025/01/31",
            "+2025-01-31",
            "-025-01-31",
            "02025-01-31",
            "+10000-01-01",
            "2025-01-31T00:00:00Z",
            "20250131",
            "yesterday",
            "２０２５-01-31",
            "2025-0a-31",
            "2025--1-31",
        ] {
            let e = parse_day(bad).unwrap_err();
            assert!(e.starts_with("must be a date as YYYY-MM-DD"), "{bad:?}: {e}");
        }
        for (bad, why) in [
            ("2025-13-01", "calendar"),
            ("2025-00-10", "calendar"),
            ("2025-02-30", "calendar"),
            ("2023-02-29", "calendar"),
            ("2025-01-00", "calendar"),
            ("1969-12-31", "from 1970-01-01 to 9999-12-31"),
            ("0000-01-01", "from 1970-01-01"),
        ] {
            assert!(parse_day(bad).unwrap_err().contains(why), "{bad}");
        }
        // A huge value is echoed cut short.
        let long = "9".repeat(10_000);
        assert!(parse_day(&long).unwrap_err().len() < 200);
    }

    #[test]
    fn bounds_name_every_bad_one_and_refuse_an_inverted_range() {
        let e = bounds(Some("x"), Some("2025-02-30")).unwrap_err();
        assert_eq!(e.fields().keys().collect::<Vec<_>>(), ["end_date", "start_date"]);
        let e = bounds(Some("2025-02-01"), Some("2025-01-31")).unwrap_err();
        assert!(e.fields()["end_date"][0].contains("before start_date (2025-02-01)"));
        assert_eq!(bounds(Some("2025-02-01"), Some("2025-02-01")), Ok((Some(d(2025, 2, 1)), Some(d(2025, 2, 1)))));
        assert_eq!(bounds(None, None), Ok((None, None)));
    }

    #[test]
    fn the_month_to_date_defaults() {
        let today = d(2025, 2, 10);
        let r = |s, e| DateRange::month_to_date(s, e, today).unwrap();
        assert_eq!(r(None, None), DateRange { start: d(2025, 2, 1), end: today });
        assert_eq!(r(Some("2025-01-15"), None), DateRange { start: d(2025, 1, 15), end: today });
        assert_eq!(r(Some("2025-03-01"), None), DateRange { start: d(2025, 3, 1), end: d(2025, 3, 1) }, "future start");
        assert_eq!(r(None, Some("2024-12-20")), DateRange { start: d(2024, 12, 1), end: d(2024, 12, 20) });
        assert_eq!(r(None, Some("9999-12-31")), DateRange { start: d(9999, 12, 1), end: d(9999, 12, 31) });
        let all = r(Some("1970-01-01"), Some("9999-12-31"));
        assert_eq!(all.days(), 2_932_897);
        assert_eq!(all.start_time().timestamp(), 0);
        assert_eq!(all.end_exclusive().to_rfc3339(), "+10000-01-01T00:00:00+00:00");
        assert!(DateRange::month_to_date(Some("2025-02-01"), Some("2025-01-01"), today).is_err());
    }

    #[test]
    fn day_boundaries() {
        assert_eq!(day_end(d(2025, 1, 31)), day_start(d(2025, 2, 1)));
        assert_eq!(day_end(NaiveDate::MAX), DateTime::<Utc>::MAX_UTC, "saturates instead of panicking");
        assert_eq!(first_of_month(d(2025, 2, 28)), d(2025, 2, 1));
    }
}
