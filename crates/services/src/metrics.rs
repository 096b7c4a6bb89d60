//! Partner performance metrics (`GET /metrics` of the reseller document) for a `period` (the
//! analytics summary's periods, parsed by the same `domain::analytics::Period`).
//!
//! Definitions (window = `[now − period, now)`, previous window = the same length before it):
//! - `customers`: the partner's customer accounts now, by status, and their total.
//! - `revenue.invoiced`: totals of invoices issued within the window, void ones excepted;
//!   `collected`: totals of invoices marked paid within the window; `outstanding`: totals of
//!   invoices open or uncollectible now; `mrr`: monthly recurring revenue of `active` accounts
//!   now at their plan's price (annual prices / 12, divided once, rounded to the cent, halves
//!   away from zero). Suspended accounts (service paused) are not in MRR, as Stripe leaves
//!   paused subscriptions out.
//! - `growth.new_customers`: accounts created within the window against the previous window;
//!   `churned_customers`: accounts cancelled within the window against the previous window;
//!   `churn_rate`: churned within the window / accounts at its start (created before it and not
//!   cancelled before it), as a percentage; `mrr`: MRR now against MRR at the window's start,
//!   counting the accounts that existed then and were not cancelled by then, at their current
//!   plan and cycle, without those suspended now (the account row keeps no plan history, so a
//!   plan change within the window is counted at its new price at both ends).
//!   Changes are `current − previous`; percentages are of the previous value, in hundredths,
//!   rounded halves away from zero, and `None` (null) when the previous value is zero.
//! - `satisfaction`: ratings given within the window: their count, average (hundredths,
//!   rounded halves away from zero; `None` without ratings) and count per rating 1–5.
//! - `support`: tickets by status now and `open` (open, in progress or waiting on the
//!   customer) now; `created` and `resolved` within the window; the median seconds from
//!   creation to first response over tickets first responded to within the window, and from
//!   creation to resolution over tickets resolved within it (`None` without any).

use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use partnerd_domain::analytics::{Period, Window};
use partnerd_domain::customer::CustomerStatus;
use partnerd_domain::metrics::{hundredths, median, monthly_recurring, percent_change};
use partnerd_domain::ticket::TicketStatus;
use partnerd_store::MetricsWindows;

/// A figure now (or in the window) against its previous value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growth {
    pub current: i128,
    pub previous: i128,
    pub change: i128,
    /// Hundredths of a percent of `previous`; `None` when `previous` is zero.
    pub change_percent: Option<i128>,
}

impl Growth {
    pub fn of(current: i128, previous: i128) -> Self {
        Growth { current, previous, change: current - previous, change_percent: percent_change(previous, current) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerMetrics {
    pub period: Period,
    pub window: Window,
    pub previous_start: chrono::DateTime<chrono::Utc>,
    pub currency: String,
    pub customers_total: u64,
    pub customers_by_status: Vec<(CustomerStatus, u64)>,
    pub invoiced_cents: i128,
    pub collected_cents: i128,
    pub outstanding_cents: i128,
    pub mrr_cents: i128,
    pub new_customers: Growth,
    pub churned_customers: Growth,
    /// Hundredths of a percent; `None` with no accounts at the window's start.
    pub churn_rate: Option<i128>,
    pub mrr: Growth,
    pub ratings_count: u64,
    /// Hundredths; `None` without ratings.
    pub average_rating: Option<i128>,
    pub ratings: Vec<(u16, u64)>,
    pub tickets_by_status: Vec<(TicketStatus, u64)>,
    pub tickets_open: u64,
    pub tickets_created: u64,
    pub tickets_resolved: u64,
    pub median_first_response_seconds: Option<i64>,
    pub median_resolution_seconds: Option<i64>,
}

pub struct Metrics<'a> {
    pub(crate) services: &'a Services,
}

impl Metrics<'_> {
    pub async fn partner(&self, who: &Principal, period: Period) -> Result<PartnerMetrics, ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Analytics, Access::Read)?;
        let window = period.window(self.services.clock.now());
        let previous_start = window.start - period.duration();
        let windows = MetricsWindows { previous_start, start: window.start, end: window.end };
        let f = self.services.store.partner_metrics(me.marketplace_id(), me.partner_id, windows).await?;
        let prices = &self.services.billing.prices;
        let priced = |at_start: bool| {
            monthly_recurring(f.mrr_basis.iter().filter_map(|b| {
                let Some(price) = prices.price(&b.plan) else {
                    tracing::warn!(plan = %b.plan, "plan not in the price list: left out of MRR");
                    return None;
                };
                Some((price, b.billing_cycle, if at_start { b.at_start } else { b.now }))
            }))
        };
        let (mrr_now, mrr_start) = (priced(false), priced(true));
        let ratings_count: u64 = f.ratings.iter().map(|(_, n)| n).sum();
        let rating_sum: i128 = f.ratings.iter().map(|(r, n)| i128::from(*r) * i128::from(*n)).sum();
        let (new, churned) = (f.new_customers, f.churned_customers);
        Ok(PartnerMetrics {
            period,
            window,
            previous_start,
            currency: prices.currency.clone(),
            customers_total: f.customers_by_status.iter().map(|(_, n)| n).sum(),
            customers_by_status: f.customers_by_status,
            invoiced_cents: f.invoiced_cents,
            collected_cents: f.collected_cents,
            outstanding_cents: f.outstanding_cents,
            mrr_cents: mrr_now,
            new_customers: Growth::of(i128::from(new.0), i128::from(new.1)),
            churned_customers: Growth::of(i128::from(churned.0), i128::from(churned.1)),
            churn_rate: hundredths(i128::from(churned.0) * 100, i128::from(f.customers_at_start)),
            mrr: Growth::of(mrr_now, mrr_start),
            ratings_count,
            average_rating: hundredths(rating_sum, i128::from(ratings_count)),
            ratings: f.ratings,
            tickets_open: f.tickets_by_status.iter().filter(|(s, _)| s.is_open()).map(|(_, n)| n).sum(),
            tickets_by_status: f.tickets_by_status,
            tickets_created: f.tickets_created,
            tickets_resolved: f.tickets_resolved,
            median_first_response_seconds: median(f.first_response_seconds),
            median_resolution_seconds: median(f.resolution_seconds),
        })
    }
}
