//! The analytics summary and stored reports.
//!
//! Definitions (window = the period ending now, `[now − period, now)`):
//! - `listings.total`: the partner's listings that are not archived, now;
//!   `listings.avg_seo_score`: their average score, rounded half up (0 without listings).
//! - `cosell.opportunities`: opportunities the partner is party to (either side) created within
//!   the window; `pipeline_value`: value of those open or in progress at the end of the window
//!   (now); `won_value`: value of those that became won within the window.
//! - `content.generated` / `content.published`: listing content drafts generated / published
//!   within the window.

use crate::listings::partner_id;
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::analytics::{Period, Window, previous_month};
use partnerd_domain::events::{NewEvent, types};
use partnerd_domain::ids::new_id;
use partnerd_domain::money;
use partnerd_store::{CosellFigures, ReportRecord, StoreError};
use serde_json::{Value, json};

pub struct Analytics<'a> {
    pub(crate) services: &'a Services,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub period: String,
    pub listings_total: u64,
    pub avg_seo_score: u64,
    pub opportunities: u64,
    pub pipeline_cents: i64,
    pub won_cents: i64,
    pub generated: u64,
    pub published: u64,
}

impl Summary {
    /// The documented `data` of `GET /analytics/summary`.
    pub fn to_json(&self) -> Value {
        json!({
            "period": self.period,
            "listings": { "total": self.listings_total, "avg_seo_score": self.avg_seo_score },
            "cosell": {
                "opportunities": self.opportunities,
                "pipeline_value": money::to_json(self.pipeline_cents),
                "won_value": money::to_json(self.won_cents),
            },
            "content": { "generated": self.generated, "published": self.published },
        })
    }
}

pub const REPORT_TYPES: &[&str] = &["partner_performance"];
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
            listings_total: listings.count,
            avg_seo_score: rounded_average(listings.score_sum, listings.count),
            opportunities: cosell.created,
            pipeline_cents: cosell.pipeline_cents,
            won_cents: cosell.won_cents,
            generated: content.generated,
            published: content.published,
        };
        Ok((summary, cosell))
    }

    pub async fn summary(&self, who: &Principal, period: Period) -> Result<Summary, ServiceError> {
        let partner = partner_id(who)?;
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
    ) -> Result<Value, ServiceError> {
        let (summary, cosell) = self.figures(marketplace_id, partner, label, w).await?;
        let top = self.services.store.top_listings(marketplace_id, partner, TOP_LISTINGS).await?;
        let by_status: serde_json::Map<String, Value> = cosell
            .by_status
            .iter()
            .map(|s| {
                (s.status.as_str().to_owned(), json!({ "count": s.count, "value": money::to_json(s.value_cents) }))
            })
            .collect();
        Ok(json!({
            "summary": summary.to_json(),
            "pipeline_by_status": by_status,
            "top_listings": top.iter().map(|l| json!({ "id": l.id, "title": l.content.title, "seo_score": l.seo_score })).collect::<Vec<_>>(),
        }))
    }

    fn report_event(r: &ReportRecord) -> NewEvent {
        NewEvent {
            event_type: types::REPORT_GENERATED,
            subject_type: "report",
            subject_id: r.id.clone(),
            partner_id: Some(r.partner_id.clone()),
            related_partner_id: None,
            actor_user_id: None,
            payload: json!({ "report_id": r.id, "type": r.report_type, "period": r.period, "trigger": r.trigger }),
        }
    }

    /// A report on demand for the calling partner.
    pub async fn create_report(
        &self,
        who: &Principal,
        report_type: &str,
        period: Period,
    ) -> Result<ReportRecord, ServiceError> {
        let partner = partner_id(who)?.to_owned();
        if !REPORT_TYPES.contains(&report_type) {
            return Err(partnerd_domain::ValidationErrors::single(
                "type",
                format!("must be one of: {}", REPORT_TYPES.join(", ")),
            )
            .into());
        }
        let now = self.services.clock.now();
        let w = period.window(now);
        let report = ReportRecord {
            id: new_id("report"),
            marketplace_id: who.marketplace_id.clone(),
            data: self.snapshot(&who.marketplace_id, &partner, period.as_str(), w).await?,
            partner_id: partner,
            report_type: report_type.to_owned(),
            period: period.as_str().to_owned(),
            period_start: w.start,
            period_end: w.end,
            trigger: "on_demand".into(),
            created_at: now,
        };
        self.services.store.create_report(report.clone(), vec![Self::report_event(&report)]).await?;
        Ok(report)
    }

    pub async fn list_reports(
        &self,
        who: &Principal,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<ReportRecord>, u64), ServiceError> {
        let partner = partner_id(who)?;
        Ok(self.services.store.list_reports(&who.marketplace_id, partner, offset, limit).await?)
    }

    pub async fn get_report(&self, who: &Principal, id: &str) -> Result<ReportRecord, ServiceError> {
        let partner = partner_id(who)?;
        self.services.store.get_report(&who.marketplace_id, partner, id).await?.ok_or(ServiceError::not_found("report"))
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
                data: self.snapshot(marketplace_id, &partner.id, &label, w).await?,
                partner_id: partner.id.clone(),
                report_type: "partner_performance".into(),
                period: label.clone(),
                period_start: w.start,
                period_end: w.end,
                trigger: "scheduled".into(),
                created_at: now,
            };
            match self.services.store.create_report(report.clone(), vec![Self::report_event(&report)]).await {
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
    use super::rounded_average;

    #[test]
    fn averages_round_half_up() {
        assert_eq!(rounded_average(0, 0), 0);
        assert_eq!(rounded_average(165, 2), 83, "82.5 → 83");
        assert_eq!(rounded_average(164, 2), 82);
        assert_eq!(rounded_average(190, 3), 63, "63.33 → 63");
    }
}
