//! Reporting periods: the windows the analytics summary and reports cover.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

crate::str_enum! {
    pub enum Period {
        Days7 = "7d",
        Days30 = "30d",
        Days90 = "90d",
        Year = "1y",
    }
}

impl Period {
    pub fn duration(self) -> Duration {
        match self {
            Period::Days7 => Duration::days(7),
            Period::Days30 => Duration::days(30),
            Period::Days90 => Duration::days(90),
            Period::Year => Duration::days(365),
        }
    }

    /// The window `[end − period, end)`.
    pub fn window(self, end: DateTime<Utc>) -> Window {
        Window { start: end - self.duration(), end }
    }
}

crate::str_enum! {
    /// The kinds of report partnerd makes.
    pub enum ReportType: unknown = unknown_report_type {
        PartnerPerformance = "partner_performance",
    }
}

fn unknown_report_type(_: &str, names: &[&str]) -> String {
    format!("must be one of: {}", names.join(", "))
}

/// A half-open time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The calendar month before the one `now` falls in: what the report made on the first covers.
pub fn previous_month(now: DateTime<Utc>) -> Window {
    let this_month = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().expect("first of month exists");
    let (y, m) = if now.month() == 1 { (now.year() - 1, 12) } else { (now.year(), now.month() - 1) };
    let last_month = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().expect("first of month exists");
    Window { start: last_month, end: this_month }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_span() {
        assert_eq!(Period::parse("30d"), Ok(Period::Days30));
        assert!(Period::parse("2w").unwrap_err().contains("7d, 30d, 90d, 1y"));
        let end = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::Days7.window(end).start, Utc.with_ymd_and_hms(2025, 2, 22, 0, 0, 0).unwrap());
        assert_eq!(
            Period::Year.window(end).start,
            Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
            "365 days back over a leap day"
        );
    }

    #[test]
    fn report_types_name_the_known_ones() {
        assert_eq!(ReportType::parse("partner_performance"), Ok(ReportType::PartnerPerformance));
        assert_eq!(ReportType::parse("weekly").unwrap_err(), "must be one of: partner_performance");
    }

    #[test]
    fn the_previous_month_wraps_the_year() {
        let w = previous_month(Utc.with_ymd_and_hms(2025, 1, 1, 0, 5, 0).unwrap());
        assert_eq!(w.start, Utc.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(w.end, Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap());
        let w = previous_month(Utc.with_ymd_and_hms(2025, 3, 17, 12, 0, 0).unwrap());
        assert_eq!((w.start.month(), w.end.month()), (2, 3));
    }
}
