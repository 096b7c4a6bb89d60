//! Partner Performance Metrics: `/partners/metrics`.

use super::analytics::PeriodName;
use super::dto::{Envelope, Money};
use super::{ApiError, Caller, Query, iso, ok};
use crate::kernel::Param;
use axum::extract::State;
use axum::response::Response;
use partnerd_domain::analytics::Period;
use partnerd_domain::money::Total;
use partnerd_services::Services;
use partnerd_services::metrics::{Growth, PartnerMetrics};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{IntoParams, ToSchema};

/// A ratio or percentage in hundredths, written with at most two decimals (`4.67`, `-33.33`,
/// `25`): computed in integers, rounded halves away from zero.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hundredths(i128);

impl Serialize for Hundredths {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Total::from_cents(self.0).serialize(s)
    }
}

impl utoipa::PartialSchema for Hundredths {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some("At most two decimals, computed exactly and rounded halves away from zero"))
            .into()
    }
}

impl ToSchema for Hundredths {}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct MetricsQuery {
    /// 7d, 30d, 90d or 1y (365 days), as `GET /analytics/summary`; anything else: 422.
    #[param(inline, value_type = Option<PeriodName>, default = "30d")]
    period: Option<Param<Period>>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Window {
    #[schema(format = DateTime)]
    start: String,
    /// Exclusive: now.
    #[schema(format = DateTime)]
    end: String,
    /// The previous window, of the same length, runs from here to `start`.
    #[schema(format = DateTime)]
    previous_start: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CustomerTotals {
    /// Every customer account now, of every status.
    total: u64,
    /// `active`, `suspended`, `cancelled`: each present, zero included.
    by_status: BTreeMap<&'static str, u64>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Revenue {
    /// ISO-4217, the price list's.
    currency: String,
    /// Totals of invoices issued within the window, void ones excepted.
    invoiced: Money,
    /// Totals of invoices marked paid within the window.
    collected: Money,
    /// Totals of invoices open or uncollectible now.
    outstanding: Money,
    /// Monthly recurring revenue now: `active` accounts at their plan's monthly price, annual
    /// plans at their annual price / 12 (divided once, rounded to the cent).
    mrr: Money,
}

/// A count in the window against the previous window.
#[derive(Serialize, ToSchema)]
pub(super) struct CountGrowth {
    current: i64,
    previous: i64,
    /// `current − previous`.
    change: i64,
    /// `change / previous × 100`; `null` when `previous` is 0.
    #[schema(required = true)]
    change_percent: Option<Hundredths>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct MoneyGrowth {
    /// MRR now.
    current: Money,
    /// MRR at the window's start.
    previous: Money,
    change: Money,
    /// `change / previous × 100`; `null` when `previous` is 0.
    #[schema(required = true)]
    change_percent: Option<Hundredths>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct GrowthFigures {
    /// Accounts created within the window, against the previous window.
    new_customers: CountGrowth,
    /// Accounts cancelled within the window, against the previous window.
    churned_customers: CountGrowth,
    /// Accounts cancelled within the window / accounts at its start (created before it, not
    /// cancelled before it) × 100; `null` without accounts at the start.
    #[schema(required = true)]
    churn_rate_percent: Option<Hundredths>,
    /// MRR now against MRR at the window's start.
    mrr: MoneyGrowth,
}

#[derive(Serialize, ToSchema)]
pub(super) struct SatisfactionFigures {
    /// Ratings given within the window.
    ratings: u64,
    /// Their average, 1–5 with two decimals; `null` without ratings.
    #[schema(required = true)]
    average_rating: Option<Hundredths>,
    /// Ratings per value `"1"`–`"5"`, zeros included.
    distribution: BTreeMap<String, u64>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct SupportFigures {
    /// Tickets open, in progress or waiting on the customer now.
    open: u64,
    /// Tickets whose latest resolution falls within the window.
    resolved: u64,
    /// Tickets created within the window.
    created: u64,
    /// Every status now, zero included.
    by_status: BTreeMap<&'static str, u64>,
    /// Median seconds from creation to first response, over tickets first responded to within
    /// the window; `null` without any.
    #[schema(required = true)]
    median_first_response_seconds: Option<i64>,
    /// Median seconds from creation to resolution, over tickets resolved within the window;
    /// `null` without any.
    #[schema(required = true)]
    median_resolution_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = PartnerMetrics)]
pub(super) struct MetricsBody {
    /// The period asked for.
    #[schema(value_type = PeriodName)]
    period: &'static str,
    window: Window,
    customers: CustomerTotals,
    revenue: Revenue,
    growth: GrowthFigures,
    customer_satisfaction: SatisfactionFigures,
    support_tickets: SupportFigures,
}

/// Counts are far below i64 (they are row counts).
fn count_growth(g: Growth) -> CountGrowth {
    let n = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    CountGrowth {
        current: n(g.current),
        previous: n(g.previous),
        change: n(g.change),
        change_percent: g.change_percent.map(Hundredths),
    }
}

fn body(m: &PartnerMetrics) -> MetricsBody {
    MetricsBody {
        period: m.period.as_str(),
        window: Window { start: iso(m.window.start), end: iso(m.window.end), previous_start: iso(m.previous_start) },
        customers: CustomerTotals {
            total: m.customers_total,
            by_status: m.customers_by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
        },
        revenue: Revenue {
            currency: m.currency.clone(),
            invoiced: Money(m.invoiced_cents),
            collected: Money(m.collected_cents),
            outstanding: Money(m.outstanding_cents),
            mrr: Money(m.mrr_cents),
        },
        growth: GrowthFigures {
            new_customers: count_growth(m.new_customers),
            churned_customers: count_growth(m.churned_customers),
            churn_rate_percent: m.churn_rate.map(Hundredths),
            mrr: MoneyGrowth {
                current: Money(m.mrr.current),
                previous: Money(m.mrr.previous),
                change: Money(m.mrr.change),
                change_percent: m.mrr.change_percent.map(Hundredths),
            },
        },
        customer_satisfaction: SatisfactionFigures {
            ratings: m.ratings_count,
            average_rating: m.average_rating.map(Hundredths),
            distribution: m.ratings.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
        },
        support_tickets: SupportFigures {
            open: m.tickets_open,
            resolved: m.tickets_resolved,
            created: m.tickets_created,
            by_status: m.tickets_by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
            median_first_response_seconds: m.median_first_response_seconds,
            median_resolution_seconds: m.median_resolution_seconds,
        },
    }
}

/// Partner Performance Metrics
///
/// Your dashboard figures for `period` (the window ending now; `30d` by default; the same
/// periods and parser as `GET /analytics/summary`). Every figure is counted or summed by the
/// database over your rows when asked (nothing is kept by hand); money is exact.
///
/// - `customers`: your customer accounts now, in all and by status.
/// - `revenue`: `invoiced` = totals of invoices issued within the window, void ones excepted;
///   `collected` = totals of invoices marked paid within the window; `outstanding` = open or
///   uncollectible invoices now; `mrr` = monthly recurring revenue of `active` accounts at
///   their plan's price, annual plans at their annual price / 12 (divided once, rounded to the
///   cent, halves away from zero). **Decision:** suspended accounts (service paused) are not
///   in MRR, as Stripe leaves paused subscriptions out.
/// - `growth`: `new_customers` = accounts created within the window, against the previous
///   window of the same length; `churned_customers` = accounts cancelled within the window,
///   against the previous window; `churn_rate_percent` = churned / accounts at the window's
///   start × 100; `mrr` = MRR now against MRR at the window's start (**decision:** the
///   accounts that existed then and were not cancelled by then, at their current plan and
///   cycle, without those suspended now: accounts keep no plan history, so a plan change
///   within the window counts at its new price at both ends). `change` = current − previous;
///   `change_percent` = change / previous × 100, two decimals, halves away from zero.
///   **Decision:** a percentage of a zero base is `null`, never 0 or infinity.
/// - `customer_satisfaction`: ticket ratings given within the window: count, average (two
///   decimals; `null` without ratings) and count per rating.
/// - `support_tickets`: `open` = open, in progress or waiting on the customer now;
///   `resolved` = tickets whose latest resolution falls within the window; `created` within
///   the window; `by_status` now; `median_first_response_seconds` = median of creation → first
///   response (first partner comment or first move to `in_progress`) over tickets first
///   responded to within the window; `median_resolution_seconds` = median of creation →
///   resolution over tickets resolved within the window. Medians are whole seconds (an even
///   count averages the two middle values, rounded down) and `null` without tickets.
#[utoipa::path(get, path = "/metrics", tag = "Metrics", params(MetricsQuery),
    responses((status = 200, description = "The metrics", body = Envelope<MetricsBody>)))]
pub(super) async fn get(
    State(s): State<Services>,
    Caller(who): Caller,
    Query(q): Query<MetricsQuery>,
) -> Result<Response, ApiError> {
    let p = q.period.map_or(Period::Days30, |p| p.0);
    Ok(ok(body(&s.metrics().partner(&who, p).await?)))
}
