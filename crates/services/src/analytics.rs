//! The analytics summary and stored reports.
//!
//! Definitions (window = the period ending now, `[now − period, now)`):
//! - `listings.total`: the partner's listings now, whatever their status (active, draft,
//!   archived): the same set as the unfiltered `GET /listings` `meta.total`;
//!   `listings.avg_seo_score`: the average score of that same set, rounded half up (0 without
//!   listings).
//! - `cosell.opportunities`: opportunities the partner is party to (either side) created within
//!   the window; `pipeline_value`: value of those open or in progress at the end of the window
//!   (now); `won_value`: value of those that became won within the window.
//! - Money sums are `Total`s (i128 cents), so no number of deals of any accepted value
//!   overflows them, in SQL (`split_sum`) or here.
//! - `content.generated` / `content.published`: listing content drafts generated / published
//!   within the window.

use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::analytics::{Period, ReportType, Window, previous_month};
use partnerd_domain::events::{NewEvent, ReportGenerated, ReportTrigger, to_stored};
use partnerd_domain::ids::new_id;
use partnerd_domain::money::Total;
use partnerd_store::Paged;
use partnerd_store::{CosellFigures, ReportRecord, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct Analytics<'a> {
    pub(crate) services: &'a Services,
}

/// The figures of `GET /analytics/summary` (and a report's `summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The period's name (`30d`) or, in monthly reports, the month (`2025-01`).
    pub period: String,
    pub listings: ListingFigures,
    pub cosell: CosellSummary,
    pub content: ContentSummary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingFigures {
    pub total: u64,
    pub avg_seo_score: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosellSummary {
    pub opportunities: u64,
    pub pipeline_value: Total,
    pub won_value: Total,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSummary {
    pub generated: u64,
    pub published: u64,
}

/// The data of a `partner_performance` report. Stored as JSON: reports made before a field
/// was added still read (surfaces render the stored data as it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerPerformance {
    pub summary: Summary,
    /// Every opportunity the partner is party to now, by status name.
    pub pipeline_by_status: BTreeMap<String, StatusTotal>,
    pub top_listings: Vec<TopListing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusTotal {
    pub count: u64,
    pub value: Total,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopListing {
    pub id: String,
    pub title: String,
    pub seo_score: u32,
}

const TOP_LISTINGS: u32 = 5;

fn rounded_average(sum: u64, count: u64) -> u64 {
    if count == 0 { 0 } else { (2 * sum + count) / (2 * count) }
}

impl Analytics<'_> {
    /// The summary, and the co-sell figures it was made from (reports use them too).
    async fn figures(
        &self,
        marketplace_id: &str,
        partner: &str,
        label: &str,
        w: Window,
    ) -> Result<(Summary, CosellFigures), ServiceError> {
        let store = &self.services.store;
        let listings = store.listing_totals(marketplace_id, partner).await?;
        let cosell = store.cosell_figures(marketplace_id, partner, w.start, w.end).await?;
        let content = store.content_figures(marketplace_id, partner, w.start, w.end).await?;
        let summary = Summary {
            period: label.to_owned(),
            listings: ListingFigures {
                total: listings.count,
                avg_seo_score: rounded_average(listings.score_sum, listings.count),
            },
            cosell: CosellSummary {
                opportunities: cosell.created,
                pipeline_value: Total::from_cents(cosell.pipeline_cents),
                won_value: Total::from_cents(cosell.won_cents),
            },
            content: ContentSummary { generated: content.generated, published: content.published },
        };
        Ok((summary, cosell))
    }

    pub async fn summary(&self, who: &Principal, period: Period) -> Result<Summary, ServiceError> {
        let partner = policy::partner_id(who)?;
        policy::require(&who.roles, Resource::Analytics, Access::Read)?;
        let w = period.window(self.services.clock.now());
        Ok(self.figures(&who.marketplace_id, partner, period.as_str(), w).await?.0)
    }

    /// A `partner_performance` snapshot: the summary figures, the pipeline by status and the
    /// top listings by SEO score.
    async fn snapshot(
        &self,
        marketplace_id: &str,
        partner: &str,
        label: &str,
        w: Window,
    ) -> Result<PartnerPerformance, ServiceError> {
        let (summary, cosell) = self.figures(marketplace_id, partner, label, w).await?;
        let top = self.services.store.top_listings(marketplace_id, partner, TOP_LISTINGS).await?;
        let pipeline_by_status = cosell
            .by_status
            .iter()
            .map(|s| {
                (s.status.as_str().to_owned(), StatusTotal { count: s.count, value: Total::from_cents(s.value_cents) })
            })
            .collect();
        let top_listings =
            top.into_iter().map(|l| TopListing { id: l.id, title: l.content.title, seo_score: l.seo_score }).collect();
        Ok(PartnerPerformance { summary, pipeline_by_status, top_listings })
    }

    fn report_event(r: &ReportRecord, trigger: ReportTrigger) -> NewEvent {
        let generated = ReportGenerated {
            report_id: r.id.clone(),
            report_type: r.report_type.clone(),
            period: r.period.clone(),
            trigger,
        };
        NewEvent::of(&generated).partner(Some(r.partner_id.clone()))
    }

    /// A report on demand for the calling partner.
    pub async fn create_report(
        &self,
        who: &Principal,
        report_type: &str,
        period: Period,
    ) -> Result<ReportRecord, ServiceError> {
        let partner = policy::partner_id(who)?.to_owned();
        policy::require(&who.roles, Resource::Report, Access::Write)?;
        let report_type =
            ReportType::parse(report_type).map_err(|m| partnerd_domain::ValidationErrors::single("type", m))?;
        let now = self.services.clock.now();
        let w = period.window(now);
        let report = ReportRecord {
            id: new_id("report"),
            marketplace_id: who.marketplace_id.clone(),
            data: to_stored(&self.snapshot(&who.marketplace_id, &partner, period.as_str(), w).await?),
            partner_id: partner,
            report_type: report_type.as_str().to_owned(),
            period: period.as_str().to_owned(),
            period_start: w.start,
            period_end: w.end,
            trigger: ReportTrigger::OnDemand.as_str().into(),
            created_at: now,
        };
        let generated = Self::report_event(&report, ReportTrigger::OnDemand);
        self.services.store.create_report(report.clone(), vec![generated]).await?;
        Ok(report)
    }

    pub async fn list_reports(
        &self,
        who: &Principal,
        window: &partnerd_store::Window,
        limit: u32,
    ) -> Result<Paged<ReportRecord>, ServiceError> {
        let partner = policy::partner_id(who)?;
        Ok(self.services.store.list_reports(&who.marketplace_id, partner, window, limit).await?)
    }

    pub async fn get_report(&self, who: &Principal, id: &str) -> Result<ReportRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        me.visible(self.services.store.get_report(me.marketplace_id(), me.partner_id, id).await?, Resource::Report)
    }

    /// Makes sure every partner enrolled before this month began has its report for last month.
    /// Safe to run often and from several processes: a period's scheduled report is stored once.
    /// Returns how many reports this call created.
    pub async fn run_monthly(&self, marketplace_id: &str) -> Result<usize, ServiceError> {
        let now: DateTime<Utc> = self.services.clock.now();
        let w = previous_month(now);
        let label = w.start.format("%Y-%m").to_string();
        let mut created = 0;
        for partner in self.services.store.list_partners(marketplace_id).await? {
            if partner.created_at >= w.end {
                continue;
            }
            let report = ReportRecord {
                id: new_id("report"),
                marketplace_id: marketplace_id.to_owned(),
                data: to_stored(&self.snapshot(marketplace_id, &partner.id, &label, w).await?),
                partner_id: partner.id.clone(),
                report_type: ReportType::PartnerPerformance.as_str().into(),
                period: label.clone(),
                period_start: w.start,
                period_end: w.end,
                trigger: ReportTrigger::Scheduled.as_str().into(),
                created_at: now,
            };
            let generated = Self::report_event(&report, ReportTrigger::Scheduled);
            match self.services.store.create_report(report.clone(), vec![generated]).await {
                Ok(true) => created += 1,
                Ok(false) => {}
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_data_keeps_the_stored_shape() {
        let summary = Summary {
            period: "2025-01".into(),
            listings: ListingFigures { total: 3, avg_seo_score: 83 },
            cosell: CosellSummary {
                opportunities: 2,
                pipeline_value: Total::from_cents(5_000_050),
                won_value: Total::from_cents(0),
            },
            content: ContentSummary { generated: 1, published: 0 },
        };
        let data = PartnerPerformance {
            summary,
            pipeline_by_status: BTreeMap::from([(
                "open".to_owned(),
                StatusTotal { count: 2, value: Total::from_cents(5_000_050) },
            )]),
            top_listings: vec![TopListing { id: "listing_1".into(), title: "Suite".into(), seo_score: 90 }],
        };
        // As reports were stored before the data was typed.
        let stored = json!({
            "summary": {
                "period": "2025-01",
                "listings": { "total": 3, "avg_seo_score": 83 },
                "cosell": { "opportunities": 2, "pipeline_value": 50000.5, "won_value": 0 },
                "content": { "generated": 1, "published": 0 },
            },
            "pipeline_by_status": { "open": { "count": 2, "value": 50000.5 } },
            "top_listings": [{ "id": "listing_1", "title": "Suite", "seo_score": 90 }],
        });
        assert_eq!(to_stored(&data), stored);
        assert_eq!(serde_json::from_value::<PartnerPerformance>(stored).unwrap(), data, "old rows read back");
    }

    #[test]
    fn averages_round_half_up() {
        assert_eq!(rounded_average(0, 0), 0);
        assert_eq!(rounded_average(165, 2), 83, "82.5 → 83");
        assert_eq!(rounded_average(164, 2), 82);
        assert_eq!(rounded_average(190, 3), 63, "63.33 → 63");
    }
}
