//! Plans and their limits. The defaults are the two documents' tables combined: per minute and
//! per day from the partners API, per hour from the reseller API's tiers (starter→standard,
//! business→premium, enterprise→enterprise). Operators may redefine or add plans in config.

use partnerd_domain::rate_limit::Limits;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct PlanCatalog {
    plans: BTreeMap<String, Limits>,
    /// Plan whose limits apply to keys of companies that are not partners (the operator).
    operator_plan: String,
}

impl Default for PlanCatalog {
    fn default() -> Self {
        let plan = |m, h, d| Limits { per_minute: Some(m), per_hour: Some(h), per_day: Some(d) };
        let plans = BTreeMap::from([
            ("starter".to_owned(), plan(60, 5_000, 1_000)),
            ("business".to_owned(), plan(300, 10_000, 10_000)),
            ("enterprise".to_owned(), plan(1_000, 25_000, 100_000)),
        ]);
        Self { plans, operator_plan: "enterprise".into() }
    }
}

impl PlanCatalog {
    pub fn new(plans: BTreeMap<String, Limits>, operator_plan: String) -> Result<Self, String> {
        if !plans.contains_key(&operator_plan) {
            return Err(format!("operator plan '{operator_plan}' is not defined"));
        }
        Ok(Self { plans, operator_plan })
    }

    pub fn limits(&self, plan: &str) -> Option<Limits> {
        self.plans.get(plan).copied()
    }

    pub fn operator_limits(&self) -> Limits {
        self.plans[&self.operator_plan]
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.plans.keys().map(String::as_str)
    }

    /// Limits for requests that carry no valid key, counted per client address: the smallest
    /// plan's, so failed authentication cannot be used to probe keys at a higher rate.
    pub fn anonymous_limits(&self) -> Limits {
        self.limits("starter").unwrap_or_else(|| {
            self.plans.values().min_by_key(|l| l.per_minute).copied().unwrap_or(self.operator_limits())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_combine_both_documents() {
        let c = PlanCatalog::default();
        assert_eq!(
            c.limits("starter"),
            Some(Limits { per_minute: Some(60), per_hour: Some(5_000), per_day: Some(1_000) })
        );
        assert_eq!(c.limits("business").unwrap().per_hour, Some(10_000));
        assert_eq!(c.limits("enterprise").unwrap().per_day, Some(100_000));
        assert_eq!(c.limits("gold"), None);
        assert_eq!(c.names().collect::<Vec<_>>(), vec!["business", "enterprise", "starter"]);
    }

    #[test]
    fn operator_plan_must_exist() {
        assert!(PlanCatalog::new(BTreeMap::new(), "enterprise".into()).is_err());
    }
}
