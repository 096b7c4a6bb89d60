//! The overview (`/dashboard/`): for a partner, the analytics summary of
//! `GET /partners/analytics/summary` for a chosen period (the same service call, so the same
//! figures), and server-drawn charts: the co-sell pipeline by status (count and value), the SEO
//! score of each listing (each bar links to its SEO page), and revenue and commissions over the
//! period from the commission report's rows. The operator is sent to the marketplace overview.

use crate::Web;
use crate::charts::{Bar, Point, Series, bar_chart, hbar_chart, line_chart};
use crate::cosell::status_label;
use crate::forms::form_status;
use crate::html::{Nav, esc, money_cents, money_sum, page, select};
use crate::session::{PageResult, Signed, html, keep_nav, see_other};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use chrono::{Datelike, Duration, NaiveDate};
use partnerd_domain::ValidationErrors;
use partnerd_domain::analytics::Period;
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::dates::DateRange;
use partnerd_domain::money::Total;
use partnerd_services::analytics::Summary;
use partnerd_store::{CommissionRecord, ListingRecord, StatusFigure, Window};
use serde::Deserialize;
use std::fmt::Write;

pub(crate) fn routes() -> Router<Web> {
    Router::new().route("/", get(overview))
}

/// How many listings the SEO chart reads, and how many bars it draws (the lowest scores).
const SEO_READ: u32 = 100;
const SEO_BARS: usize = 20;

#[derive(Deserialize, Default)]
pub(crate) struct OverviewQuery {
    #[serde(default)]
    period: String,
}

fn period_label(p: Period) -> &'static str {
    match p {
        Period::Days7 => "Last 7 days",
        Period::Days30 => "Last 30 days",
        Period::Days90 => "Last 90 days",
        Period::Year => "Last 12 months",
    }
}

/// Cents of a sum as money.
fn total_money(t: Total, currency: &str) -> String {
    money_sum(t.cents(), currency)
}

fn stat(id: &str, value: &str, label: &str) -> String {
    format!("<div class=\"stat\" id=\"stat-{id}\"><b>{}</b><span>{}</span></div>", esc(value), esc(label))
}

async fn overview(State(web): State<Web>, Signed(s): Signed, Query(q): Query<OverviewQuery>) -> PageResult {
    if s.principal.partner.is_none() {
        return Ok(see_other("/dashboard/operator"));
    }
    let mut errors = ValidationErrors::new();
    let period = match q.period.trim() {
        "" => Period::Days30,
        raw => errors.check("period", Period::parse(raw)).unwrap_or(Period::Days30),
    };
    let status = form_status(!errors.is_empty());
    let err = keep_nav(&s);
    let summary = web.services.analytics().summary(&s.principal, period).await.map_err(err)?;
    let pipeline = web.services.cosell().pipeline_by_status(&s.principal).await.map_err(err)?;
    let listings = web.services.listings().list(&s.principal, None, &Window::Offset(0), SEO_READ).await.map_err(err)?;
    let today = web.services.now().date_naive();
    let buckets = Buckets::of(period, today);
    let range = DateRange { start: buckets.start, end: today };
    let commissions = web.services.billing().commissions(&s.principal, range, None).await.map_err(err)?;
    let currency = web.services.billing().settings().prices.currency.clone();

    let options: Vec<(&str, &str)> = Period::ALL.iter().map(|p| (p.as_str(), period_label(*p))).collect();
    let selected = if errors.is_empty() { period.as_str() } else { q.period.trim() };
    let mut body = format!(
        "<form method=\"get\" action=\"/dashboard/\" class=\"filters\" aria-label=\"Period\">{}\
         <button type=\"submit\" class=\"secondary\">Show</button></form>",
        select("period", "Period", &options, selected, Some(&errors))
    );
    body.push_str(&summary_html(&summary, period));
    let (by_count, by_value) = pipeline_charts(&pipeline);
    let _ = write!(
        body,
        "<section aria-labelledby=\"charts-h\"><h2 id=\"charts-h\">Charts</h2><div class=\"charts\">{by_count}{by_value}{}{}</div></section>",
        seo_chart(&listings.items, listings.total),
        revenue_chart(&commissions, &buckets, &currency, period),
    );
    Ok(html(status, page(Some(&s), "Overview", Nav::Overview, &body)))
}

/// The summary's figures as cards, named as the API's fields are.
fn summary_html(sm: &Summary, period: Period) -> String {
    let usd = |t: Total| total_money(t, "USD");
    let cards = [
        stat("listings-total", &sm.listings.total.to_string(), "Listings (every status)"),
        stat("avg-seo-score", &sm.listings.avg_seo_score.to_string(), "Average SEO score"),
        stat("opportunities", &sm.cosell.opportunities.to_string(), "Co-sell opportunities created"),
        stat("pipeline-value", &usd(sm.cosell.pipeline_value), "Pipeline value (open and in progress now)"),
        stat("won-value", &usd(sm.cosell.won_value), "Won"),
        stat("content-generated", &sm.content.generated.to_string(), "Content drafts generated"),
        stat("content-published", &sm.content.published.to_string(), "Content drafts published"),
    ];
    format!(
        "<section aria-labelledby=\"summary-h\" class=\"summary\" data-period=\"{}\"><h2 id=\"summary-h\">{}</h2>\
         <div class=\"grid\">{}</div>\
         <p class=\"muted\">Created, won, generated and published count within the period; listings and the pipeline \
         are as they stand now.</p></section>",
        esc(&sm.period),
        esc(period_label(period)),
        cards.concat()
    )
}

/// Count and value per status, every status shown (those without deals at 0).
fn pipeline_charts(figures: &[StatusFigure]) -> (String, String) {
    let of = |st: OpportunityStatus| figures.iter().find(|f| f.status == st);
    let mut counts = Vec::new();
    let mut values = Vec::new();
    for st in OpportunityStatus::ALL {
        let (count, cents) = of(st).map_or((0, 0), |f| (f.count, f.value_cents));
        let label = status_label(st).to_owned();
        counts.push(Bar { label: label.clone(), value: count as f64, display: count.to_string() });
        values.push(Bar { label, value: cents as f64 / 100.0, display: total_money(Total::from_cents(cents), "USD") });
    }
    let card = |id: &str, title: &str, svg: String, note: &str| {
        format!(
            "<section class=\"card chart-card\" aria-labelledby=\"{id}-h\"><h3 id=\"{id}-h\">{}</h3>{svg}\
             <p class=\"muted\">{} <a href=\"/dashboard/cosell\">Co-sell pipeline</a></p></section>",
            esc(title),
            esc(note)
        )
    };
    (
        card(
            "pipeline-count",
            "Co-sell pipeline by status",
            bar_chart("pipeline-count-chart", "Opportunities by status", &counts),
            "Every opportunity you are party to, either side.",
        ),
        card(
            "pipeline-value",
            "Co-sell pipeline by value",
            bar_chart("pipeline-value-chart", "Deal value by status", &values),
            "Total deal value per status.",
        ),
    )
}

/// Wraps each bar's `<g>` of an [`hbar_chart`] in a link (for pointers; keyboards and screen
/// readers get the list under the chart, since an `img` has no interactive parts).
fn link_bars(svg: &str, hrefs: &[String]) -> String {
    let parts: Vec<&str> = svg.split("<g>").collect();
    if parts.len() != hrefs.len() + 1 {
        return svg.to_owned();
    }
    let mut out = parts[0].to_owned();
    for (part, href) in parts[1..].iter().zip(hrefs) {
        let _ = write!(out, "<a href=\"{}\" tabindex=\"-1\"><g>", esc(href));
        out.push_str(&part.replacen("</g>", "</g></a>", 1));
    }
    out
}

fn seo_chart(listings: &[std::sync::Arc<ListingRecord>], total: u64) -> String {
    let mut sorted: Vec<&ListingRecord> = listings.iter().map(|l| &**l).collect();
    sorted.sort_by(|a, b| a.seo_score.cmp(&b.seo_score).then_with(|| a.content.title.cmp(&b.content.title)));
    sorted.truncate(SEO_BARS);
    let bars: Vec<Bar> = sorted
        .iter()
        .map(|l| Bar {
            label: l.content.title.clone(),
            value: f64::from(l.seo_score),
            display: l.seo_score.to_string(),
        })
        .collect();
    let hrefs: Vec<String> =
        sorted.iter().map(|l| format!("/dashboard/listings/{}#seo", crate::html::urlenc(&l.id))).collect();
    let svg = link_bars(&hbar_chart("seo-chart", "SEO score per listing (of 100)", &bars, Some(100.0)), &hrefs);
    let read = listings.len() as u64;
    let note = if total > sorted.len() as u64 {
        if total > read {
            format!("The {} lowest scores among your {read} newest listings ({total} in all).", sorted.len())
        } else {
            format!("The {} lowest of your {total} listings.", sorted.len())
        }
    } else {
        "Lowest first.".to_owned()
    };
    let mut links = String::new();
    if !sorted.is_empty() {
        links.push_str("<details class=\"chart-links\"><summary>Open a listing's SEO page</summary><ul>");
        for (l, href) in sorted.iter().zip(&hrefs) {
            let _ = write!(links, "<li><a href=\"{}\">{}</a> ({})</li>", esc(href), esc(&l.content.title), l.seo_score);
        }
        links.push_str("</ul></details>");
    }
    format!(
        "<section class=\"card chart-card chart-tall\" aria-labelledby=\"seo-chart-h\"><h3 id=\"seo-chart-h\">SEO scores</h3>\
         {svg}<p class=\"muted\">{} <a href=\"/dashboard/listings\">All listings</a></p>{links}</section>",
        esc(&note)
    )
}

/// The revenue chart's time buckets: days for 7 and 30 days, weeks for 90, months for a year.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Buckets {
    start: NaiveDate,
    /// Each bucket's first day, in order.
    starts: Vec<NaiveDate>,
    unit: &'static str,
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn months_before(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(chrono::Months::new(n)).map_or(d, first_of_month)
}

impl Buckets {
    fn of(period: Period, today: NaiveDate) -> Self {
        let days = |n: i64| (0..n).map(|i| today - Duration::days(n - 1 - i)).collect::<Vec<_>>();
        let (starts, unit) = match period {
            Period::Days7 => (days(7), "day"),
            Period::Days30 => (days(30), "day"),
            Period::Days90 => ((0..13).map(|i| today - Duration::days(7 * (12 - i) + 6)).collect(), "week"),
            Period::Year => ((0..12).map(|i| months_before(first_of_month(today), 11 - i)).collect(), "month"),
        };
        let start = starts.first().copied().unwrap_or(today);
        Buckets { start, starts, unit }
    }

    /// The bucket a day falls in.
    fn index(&self, day: NaiveDate) -> Option<usize> {
        if day < self.start {
            return None;
        }
        self.starts.iter().rposition(|s| *s <= day)
    }

    fn label(&self, i: usize) -> String {
        let Some(d) = self.starts.get(i) else { return String::new() };
        match self.unit {
            "month" => d.format("%b %Y").to_string(),
            _ => d.format("%b %-d").to_string(),
        }
    }
}

/// Monthly (weekly, daily) totals of the commissions still earned: revenue is their base (the
/// invoice totals), commissions their amount.
fn revenue_series(rows: &[CommissionRecord], b: &Buckets) -> (Vec<i64>, Vec<i64>) {
    let mut revenue = vec![0i64; b.starts.len()];
    let mut earned = vec![0i64; b.starts.len()];
    for r in rows.iter().filter(|r| r.status == "earned") {
        if let Some(i) = b.index(r.earned_at.date_naive()) {
            revenue[i] = revenue[i].saturating_add(r.base_cents);
            earned[i] = earned[i].saturating_add(r.amount_cents);
        }
    }
    (revenue, earned)
}

fn revenue_chart(rows: &[CommissionRecord], b: &Buckets, currency: &str, period: Period) -> String {
    let (revenue, earned) = revenue_series(rows, b);
    let series = |name: &str, cents: &[i64]| Series {
        name: name.to_owned(),
        points: cents
            .iter()
            .enumerate()
            .map(|(i, c)| Point { label: b.label(i), value: *c as f64 / 100.0, display: money_cents(*c, currency) })
            .collect(),
    };
    let svg = line_chart(
        "revenue-chart",
        &format!("Revenue and commissions per {} ({})", b.unit, currency),
        &[series("Revenue", &revenue), series("Commissions", &earned)],
    );
    let sum = |v: &[i64]| v.iter().fold(0i64, |a, c| a.saturating_add(*c));
    format!(
        "<section class=\"card chart-card\" aria-labelledby=\"revenue-h\"><h3 id=\"revenue-h\">Revenue and commissions</h3>{svg}\
         <p class=\"muted\">{}: revenue <b id=\"revenue-total\">{}</b>, commissions <b id=\"commissions-total\">{}</b> \
         (invoices issued to your customers, voided ones left out; UTC days).</p></section>",
        esc(period_label(period)),
        esc(&money_cents(sum(&revenue), currency)),
        esc(&money_cents(sum(&earned), currency)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn buckets_cover_the_period_ending_today() {
        let today = day(2025, 3, 10);
        let w = Buckets::of(Period::Days7, today);
        assert_eq!((w.start, w.starts.len(), w.starts[6]), (day(2025, 3, 4), 7, today));
        let q = Buckets::of(Period::Days90, today);
        assert_eq!(q.starts.len(), 13);
        assert_eq!(q.starts[12], day(2025, 3, 4));
        assert_eq!(q.index(today), Some(12));
        assert_eq!(q.index(day(2025, 3, 3)), Some(11));
        assert_eq!(q.index(q.start - Duration::days(1)), None);
        let y = Buckets::of(Period::Year, today);
        assert_eq!((y.start, y.starts.len()), (day(2024, 4, 1), 12));
        assert_eq!(y.index(day(2025, 2, 28)), Some(10));
        assert_eq!(y.label(11), "Mar 2025");
        assert_eq!(w.label(0), "Mar 4");
    }

    #[test]
    fn bars_become_links_only_when_they_match() {
        let svg = "<svg><g><rect/></g><g><rect/></g></svg>";
        let linked = link_bars(svg, &["/a".into(), "/b".into()]);
        assert_eq!(
            linked,
            "<svg><a href=\"/a\" tabindex=\"-1\"><g><rect/></g></a><a href=\"/b\" tabindex=\"-1\"><g><rect/></g></a></svg>"
        );
        assert_eq!(link_bars(svg, &["/a".into()]), svg);
    }
}
