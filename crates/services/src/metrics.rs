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

/// One partner's line of [`MarketplaceFigures`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerLine {
    pub partner_id: String,
    pub company_name: String,
    pub plan: String,
    pub suspended: bool,
    pub listings: u64,
    pub customers: u64,
    pub mrr_cents: i128,
    /// Invoiced within the window, as [`PartnerMetrics::invoiced_cents`].
    pub invoiced_cents: i128,
    /// Commissions earned within the window and not reversed.
    pub commissions_cents: i128,
}

/// The marketplace at a glance, for the operator (`GET /dashboard/operator`): every partner's
/// figures summed with the definitions of [`PartnerMetrics`] and the analytics summary. A
/// co-sell deal has two partners, each of whom counts it, so the co-sell sums are halved (each
/// deal once). Leads are those before the marketplace: what a reseller manager sees
/// (company- and product-profile leads, and manual leads once their conversion is requested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketplaceFigures {
    pub period: Period,
    pub window: Window,
    pub currency: String,
    pub partners_total: u64,
    /// Every plan of the catalog (zero included), then any other plan a partner has.
    pub partners_by_plan: Vec<(String, u64)>,
    pub partners_suspended: u64,
    pub listings_total: u64,
    /// Hundredths; `None` without listings.
    pub average_listing_score: Option<i128>,
    /// Every status, each deal once: `(status, count, value in cents)`.
    pub cosell_by_status: Vec<(partnerd_domain::cosell::OpportunityStatus, u64, i128)>,
    pub cosell_created: u64,
    /// Open and in-progress deals now.
    pub cosell_pipeline_cents: i128,
    /// Won within the window.
    pub cosell_won_cents: i128,
    pub leads_by_status: Vec<(partnerd_domain::lead::LeadStatus, u64)>,
    pub customers_total: u64,
    pub invoiced_cents: i128,
    pub collected_cents: i128,
    pub outstanding_cents: i128,
    pub mrr_cents: i128,
    pub commissions_cents: i128,
    /// In the store's partner order.
    pub partners: Vec<PartnerLine>,
}

impl Metrics<'_> {
    /// Marketplace-wide figures for the operator (a partner's user is refused). Reads each
    /// partner's figures in turn (a few indexed aggregates per partner).
    pub async fn marketplace(&self, operator: &Principal, period: Period) -> Result<MarketplaceFigures, ServiceError> {
        use partnerd_domain::cosell::OpportunityStatus;
        use partnerd_domain::lead::LeadStatus;
        use partnerd_store::{CommissionFilter, LeadFilter, LeadSort, SortOrder};
        policy::require_operator(operator)?;
        let store = &self.services.store;
        let m = operator.marketplace_id.as_str();
        let window = period.window(self.services.clock.now());
        let windows =
            MetricsWindows { previous_start: window.start - period.duration(), start: window.start, end: window.end };
        let prices = &self.services.billing.prices;
        let partners = store.list_partners(m).await?;

        let mut by_plan: Vec<(String, u64)> = self.services.plans.names().map(|n| (n.to_owned(), 0)).collect();
        let mut cosell: Vec<(OpportunityStatus, u64, i128)> =
            OpportunityStatus::ALL.iter().map(|s| (*s, 0, 0)).collect();
        let (mut cosell_created, mut pipeline, mut won) = (0u64, 0i128, 0i128);
        let (mut listings, mut score_sum) = (0u64, 0u64);
        let mut basis = Vec::new();
        let mut lines = Vec::with_capacity(partners.len());
        let mut totals = (0u64, 0i128, 0i128, 0i128, 0i128);
        for p in &partners {
            match by_plan.iter_mut().find(|(n, _)| *n == p.plan) {
                Some((_, n)) => *n += 1,
                None => by_plan.push((p.plan.clone(), 1)),
            }
            let l = store.listing_totals(m, &p.id).await?;
            listings += l.count;
            score_sum += l.score_sum;
            let c = store.cosell_figures(m, &p.id, window.start, window.end).await?;
            cosell_created += c.created;
            pipeline += c.pipeline_cents;
            won += c.won_cents;
            for f in &c.by_status {
                if let Some(row) = cosell.iter_mut().find(|(s, _, _)| *s == f.status) {
                    row.1 += f.count;
                    row.2 += f.value_cents;
                }
            }
            let f = store.partner_metrics(m, &p.id, windows).await?;
            let customers: u64 = f.customers_by_status.iter().map(|(_, n)| n).sum();
            let priced: Vec<_> = f
                .mrr_basis
                .iter()
                .filter_map(|b| prices.price(&b.plan).map(|price| (price, b.billing_cycle, b.now)))
                .collect();
            let mrr = monthly_recurring(priced.iter().copied());
            basis.extend(priced);
            let filter = CommissionFilter {
                customer_id: None,
                earned_from: Some(window.start),
                earned_before: Some(window.end),
            };
            // The commission report's own sum (earned, not reversed).
            let rows = store.list_commissions(m, &p.id, &filter).await?;
            let commissions = i128::from(crate::billing::totals(&rows).earned_cents);
            totals.0 += customers;
            totals.1 += f.invoiced_cents;
            totals.2 += f.collected_cents;
            totals.3 += f.outstanding_cents;
            totals.4 += commissions;
            lines.push(PartnerLine {
                partner_id: p.id.clone(),
                company_name: p.company_name.clone(),
                plan: p.plan.clone(),
                suspended: p.suspended_at.is_some(),
                listings: l.count,
                customers,
                mrr_cents: mrr,
                invoiced_cents: f.invoiced_cents,
                commissions_cents: commissions,
            });
        }
        let mut leads = Vec::with_capacity(LeadStatus::ALL.len());
        for status in LeadStatus::ALL {
            let filter = LeadFilter {
                viewer_company_id: operator.company_id.clone(),
                manager: true,
                statuses: vec![status],
                from: None,
                to: None,
                search: None,
                sort: LeadSort::Date,
                order: SortOrder::Desc,
            };
            let n = store.list_leads(m, &filter, &partnerd_store::Window::Offset(0), 1).await?.total;
            leads.push((status, n));
        }
        for row in &mut cosell {
            row.1 /= 2;
            row.2 /= 2;
        }
        Ok(MarketplaceFigures {
            period,
            window,
            currency: prices.currency.clone(),
            partners_total: partners.len() as u64,
            partners_by_plan: by_plan,
            partners_suspended: partners.iter().filter(|p| p.suspended_at.is_some()).count() as u64,
            listings_total: listings,
            average_listing_score: hundredths(i128::from(score_sum), i128::from(listings)),
            cosell_by_status: cosell,
            cosell_created: cosell_created / 2,
            cosell_pipeline_cents: pipeline / 2,
            cosell_won_cents: won / 2,
            leads_by_status: leads,
            customers_total: totals.0,
            invoiced_cents: totals.1,
            collected_cents: totals.2,
            outstanding_cents: totals.3,
            mrr_cents: monthly_recurring(basis),
            commissions_cents: totals.4,
            partners: lines,
        })
    }
}
