//! The sellable catalog: products → editions → payment plans (frequency) → costs (unit,
//! pricing strategy, prices per currency, min/max units, reseller markups), and the operator's
//! import file, validated item by item with each problem's path
//! (`[0].editions[1].paymentPlans[0].frequency`). Enumerations the document uses without
//! listing them take the values its examples and order frequencies show.

use crate::ValidationErrors;
use crate::money::{Amount, AmountInput};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

crate::str_enum! {
    /// `PricingDuration`: how often a plan is billed.
    pub enum Frequency {
        OneTime = "ONE_TIME",
        Daily = "DAILY",
        Monthly = "MONTHLY",
        Quarterly = "QUARTERLY",
        SixMonths = "SIX_MONTHS",
        Yearly = "YEARLY",
        TwoYears = "TWO_YEARS",
        ThreeYears = "THREE_YEARS",
    }
}

crate::str_enum! {
    /// `RevenueModelType`.
    pub enum RevenueType { OneTime = "ONE_TIME", Recurring = "RECURRING" }
}

crate::str_enum! {
    /// `PricingStrategy`: per unit, or one price whatever the units.
    pub enum PricingStrategy { Unit = "UNIT", FlatRate = "FLAT_RATE" }
}

crate::str_enum! {
    /// `PricingUnit`: what a cost counts.
    pub enum PricingUnit {
        User = "USER",
        Session = "SESSION",
        Unit = "UNIT",
        Device = "DEVICE",
        Gigabyte = "GIGABYTE",
        Hour = "HOUR",
        NotApplicable = "NOT_APPLICABLE",
    }
}

crate::str_enum! {
    /// `MarkupPricingType`: who adds a markup.
    pub enum MarkupType { ChannelResellerCompany = "CHANNEL_RESELLER_COMPANY", ResellerCompany = "RESELLER_COMPANY" }
}

/// Prices by ISO-4217 currency code.
pub type Prices = BTreeMap<String, Amount>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Markup {
    pub markup_type: MarkupType,
    pub markup_prices: Prices,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub id: String,
    pub unit: PricingUnit,
    pub unit_dependency: Option<PricingUnit>,
    pub pricing_strategy: PricingStrategy,
    pub item_prices: Prices,
    pub markup_prices: Vec<Markup>,
    pub min_units: Option<u32>,
    pub max_units: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPlan {
    pub id: String,
    pub frequency: Frequency,
    pub cancellation_period_limit: Option<u32>,
    pub end_of_contract_grace_period: Option<u32>,
    pub minimum_service_length: Option<u32>,
    pub costs: Vec<Cost>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Edition {
    pub id: String,
    pub name: String,
    pub revenue_type: RevenueType,
    pub payment_plans: Vec<PaymentPlan>,
}

/// A product of the import file, validated; ids are assigned by [`assign_ids`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProductInput {
    pub name: String,
    pub blurb: String,
    pub image_url: Option<String>,
    pub provider: String,
    pub visible: bool,
    /// With empty ids.
    pub editions: Vec<Edition>,
}

struct Walker<'a> {
    errors: &'a mut ValidationErrors,
}

impl Walker<'_> {
    fn object<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.errors.add(path, "must be an object");
        }
        o
    }

    fn text(&mut self, o: &Map<String, Value>, path: &str, key: &str, required: bool, max: usize) -> Option<String> {
        let at = join(path, key);
        match o.get(key) {
            None | Some(Value::Null) if !required => None,
            None | Some(Value::Null) => {
                self.errors.add(&at, "is required");
                None
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if required && t.is_empty() {
                    self.errors.add(&at, "must not be empty");
                } else if t.chars().count() > max {
                    self.errors.add(&at, format!("must be at most {max} characters"));
                } else if t.chars().any(char::is_control) {
                    self.errors.add(&at, "must not contain control characters");
                } else {
                    return Some(t.to_owned());
                }
                None
            }
            Some(_) => {
                self.errors.add(&at, "must be a string");
                None
            }
        }
    }

    fn named<T>(
        &mut self,
        o: &Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let at = join(path, key);
        match o.get(key) {
            None | Some(Value::Null) if !required => None,
            None | Some(Value::Null) => {
                self.errors.add(&at, "is required");
                None
            }
            Some(Value::String(s)) => self.errors.check(&at, parse(s)),
            Some(_) => {
                self.errors.add(&at, "must be a string");
                None
            }
        }
    }

    fn count(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<u32> {
        let at = join(path, key);
        match o.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => {
                let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
                if n.is_none() {
                    self.errors.add(&at, "must be a non-negative integer");
                }
                n
            }
        }
    }

    fn list<'v>(&mut self, o: &'v Map<String, Value>, path: &str, key: &str, required: bool) -> &'v [Value] {
        let at = join(path, key);
        match o.get(key) {
            None | Some(Value::Null) if !required => &[],
            Some(Value::Array(items)) if !required || !items.is_empty() => items,
            Some(Value::Array(_)) => {
                self.errors.add(&at, "must not be empty");
                &[]
            }
            None | Some(Value::Null) => {
                self.errors.add(&at, "is required");
                &[]
            }
            Some(_) => {
                self.errors.add(&at, "must be an array");
                &[]
            }
        }
    }

    fn prices(&mut self, v: Option<&Value>, at: &str) -> Prices {
        let mut out = Prices::new();
        let Some(v) = v.filter(|v| !v.is_null()) else {
            self.errors.add(at, "is required");
            return out;
        };
        let Some(o) = v.as_object() else {
            self.errors.add(at, "must be an object of prices by currency, such as {\"USD\": 60}");
            return out;
        };
        if o.is_empty() {
            self.errors.add(at, "must hold at least one currency");
        }
        for (currency, price) in o {
            let here = format!("{at}.{currency}");
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                self.errors.add(&here, "is not an ISO-4217 currency code (three capital letters)");
                continue;
            }
            let input: Result<AmountInput, _> = serde_json::from_value(price.clone());
            match input.map_err(|e| e.to_string()).and_then(|i| i.cents()) {
                Ok(c) if c >= 0 => {
                    out.insert(currency.clone(), Amount::from_cents(c));
                }
                Ok(_) => self.errors.add(&here, "must not be negative"),
                Err(e) => self.errors.add(&here, e),
            }
        }
        out
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// The import file (a JSON array of products in the document's shapes), validated whole:
/// every problem with its path, or every product.
pub fn parse_import(file: &Value) -> Result<Vec<ProductInput>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let Some(items) = file.as_array() else {
        return Err(ValidationErrors::single("file", "must be a JSON array of products"));
    };
    if items.is_empty() {
        return Err(ValidationErrors::single("file", "must hold at least one product"));
    }
    let mut w = Walker { errors: &mut errors };
    let mut products = Vec::new();
    let mut names = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("[{i}]");
        let Some(o) = w.object(item, &path) else { continue };
        let name = w.text(o, &path, "name", true, 200);
        if let Some(n) = &name
            && !names.insert(n.to_lowercase())
        {
            w.errors.add(&join(&path, "name"), "appears twice in the file");
        }
        let blurb = w.text(o, &path, "blurb", false, 1000).unwrap_or_default();
        let image_url = w.text(o, &path, "imageUrl", false, 2000);
        if let Some(u) = &image_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            w.errors.add(&join(&path, "imageUrl"), "must be an http(s) URL");
        }
        let provider = w.text(o, &path, "provider", true, 200);
        let visible = match o.get("visible") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                w.errors.add(&join(&path, "visible"), "must be true or false");
                true
            }
        };
        let editions = editions(&mut w, o, &path);
        if let (Some(name), Some(provider)) = (name, provider) {
            products.push(ProductInput { name, blurb, image_url, provider, visible, editions });
        }
    }
    errors.into_result().map(|()| products)
}

fn editions(w: &mut Walker<'_>, product: &Map<String, Value>, path: &str) -> Vec<Edition> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (e, item) in w.list(product, path, "editions", true).iter().enumerate() {
        let path = format!("{}[{e}]", join(path, "editions"));
        let Some(o) = w.object(item, &path) else { continue };
        let name = w.text(o, &path, "name", true, 200);
        if let Some(n) = &name
            && !names.insert(n.to_lowercase())
        {
            w.errors.add(&join(&path, "name"), "appears twice in this product");
        }
        let revenue_type = w.named(o, &path, "revenueType", true, RevenueType::parse);
        let mut plans = Vec::new();
        let mut frequencies = HashSet::new();
        for (p, item) in w.list(o, &path, "paymentPlans", true).iter().enumerate() {
            let path = format!("{}[{p}]", join(&path, "paymentPlans"));
            let Some(po) = w.object(item, &path) else { continue };
            let frequency = w.named(po, &path, "frequency", true, Frequency::parse);
            if let Some(f) = frequency
                && !frequencies.insert(f)
            {
                w.errors.add(&join(&path, "frequency"), "appears twice in this edition");
            }
            let plan = PaymentPlan {
                id: String::new(),
                frequency: frequency.unwrap_or(Frequency::OneTime),
                cancellation_period_limit: w.count(po, &path, "cancellationPeriodLimit"),
                end_of_contract_grace_period: w.count(po, &path, "endOfContractGracePeriod"),
                minimum_service_length: w.count(po, &path, "minimumServiceLength"),
                costs: costs(w, po, &path),
            };
            plans.push(plan);
        }
        if let (Some(name), Some(revenue_type)) = (name, revenue_type) {
            out.push(Edition { id: String::new(), name, revenue_type, payment_plans: plans });
        }
    }
    out
}

fn costs(w: &mut Walker<'_>, plan: &Map<String, Value>, path: &str) -> Vec<Cost> {
    let mut out = Vec::new();
    let mut units = HashSet::new();
    for (c, item) in w.list(plan, path, "costs", true).iter().enumerate() {
        let path = format!("{}[{c}]", join(path, "costs"));
        let Some(o) = w.object(item, &path) else { continue };
        let unit = w.named(o, &path, "unit", true, PricingUnit::parse);
        if let Some(u) = unit
            && !units.insert(u)
        {
            w.errors.add(&join(&path, "unit"), "appears twice in this payment plan");
        }
        let pricing_strategy = w.named(o, &path, "pricingStrategy", true, PricingStrategy::parse);
        let unit_dependency = w.named(o, &path, "unitDependency", false, PricingUnit::parse);
        let item_prices = w.prices(o.get("itemPrices"), &join(&path, "itemPrices"));
        let (min_units, max_units) = (w.count(o, &path, "minUnits"), w.count(o, &path, "maxUnits"));
        if let (Some(lo), Some(hi)) = (min_units, max_units)
            && lo > hi
        {
            w.errors.add(&join(&path, "maxUnits"), "must not be below minUnits");
        }
        let mut markups = Vec::new();
        for (m, item) in w.list(o, &path, "markupPrices", false).iter().enumerate() {
            let path = format!("{}[{m}]", join(&path, "markupPrices"));
            let Some(mo) = w.object(item, &path) else { continue };
            let markup_type = w.named(mo, &path, "markupType", true, MarkupType::parse);
            let prices = w.prices(mo.get("markupPrices"), &join(&path, "markupPrices"));
            if let Some(markup_type) = markup_type {
                markups.push(Markup { markup_type, markup_prices: prices });
            }
        }
        if let (Some(unit), Some(pricing_strategy)) = (unit, pricing_strategy) {
            out.push(Cost {
                id: String::new(),
                unit,
                unit_dependency,
                pricing_strategy,
                item_prices,
                markup_prices: markups,
                min_units,
                max_units,
            });
        }
    }
    out
}

/// Gives every edition, plan and cost an id: the one it had in `previous` (the stored version
/// of the same product) when it matches there — an edition by name, a plan by frequency within
/// it, a cost by unit within that — else a new one from `new_id`.
pub fn assign_ids(editions: &mut [Edition], previous: &[Edition], new_id: &mut dyn FnMut(&str) -> String) {
    for e in editions {
        let old_e = previous.iter().find(|o| o.name.eq_ignore_ascii_case(&e.name));
        e.id = old_e.map_or_else(|| new_id("edition"), |o| o.id.clone());
        for p in &mut e.payment_plans {
            let old_p = old_e.and_then(|o| o.payment_plans.iter().find(|op| op.frequency == p.frequency));
            p.id = old_p.map_or_else(|| new_id("plan"), |o| o.id.clone());
            for c in &mut p.costs {
                let old_c = old_p.and_then(|o| o.costs.iter().find(|oc| oc.unit == c.unit));
                c.id = old_c.map_or_else(|| new_id("cost"), |o| o.id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product() -> Value {
        json!({ "name": "HelpDesk", "blurb": "Support", "imageUrl": "https://x.io/i.png", "provider": "Acme",
            "editions": [{ "name": "Session", "revenueType": "ONE_TIME", "paymentPlans": [{ "frequency": "ONE_TIME",
                "costs": [{ "itemPrices": { "USD": 60, "CAD": "60.50" }, "unit": "SESSION", "pricingStrategy": "UNIT",
                    "minUnits": 0, "maxUnits": 111,
                    "markupPrices": [{ "markupType": "CHANNEL_RESELLER_COMPANY", "markupPrices": { "USD": 5 } }] }] }] }] })
    }

    #[test]
    fn a_valid_file_parses_with_its_prices_exact() {
        let p = parse_import(&json!([product()])).unwrap();
        let cost = &p[0].editions[0].payment_plans[0].costs[0];
        assert_eq!(cost.item_prices["CAD"], Amount::from_cents(6050));
        assert_eq!(cost.markup_prices[0].markup_prices["USD"], Amount::from_cents(500));
        assert_eq!((cost.min_units, cost.max_units), (Some(0), Some(111)));
        assert!(p[0].visible);
    }

    #[test]
    fn every_problem_is_named_by_its_path() {
        let mut bad = product();
        bad["editions"][0]["paymentPlans"][0]["frequency"] = json!("WEEKLY");
        bad["editions"][0]["paymentPlans"][0]["costs"][0]["itemPrices"] = json!({ "usd": 1, "EUR": -2 });
        bad["editions"][0]["paymentPlans"][0]["costs"][0]["minUnits"] = json!(200);
        let second = json!({ "name": "HelpDesk", "provider": 3, "editions": [] });
        let e = parse_import(&json!([bad, second])).unwrap_err();
        let fields: Vec<&String> = e.fields().keys().collect();
        assert_eq!(
            fields,
            [
                "[0].editions[0].paymentPlans[0].costs[0].itemPrices.EUR",
                "[0].editions[0].paymentPlans[0].costs[0].itemPrices.usd",
                "[0].editions[0].paymentPlans[0].costs[0].maxUnits",
                "[0].editions[0].paymentPlans[0].frequency",
                "[1].editions",
                "[1].name",
                "[1].provider",
            ]
        );
        assert!(parse_import(&json!({})).is_err());
        assert!(parse_import(&json!([])).is_err());
    }

    #[test]
    fn ids_are_kept_where_the_tree_matches() {
        let mut n = 0;
        let mut fresh = |p: &str| {
            n += 1;
            format!("{p}_{n}")
        };
        let mut first = parse_import(&json!([product()])).unwrap().remove(0).editions;
        assign_ids(&mut first, &[], &mut fresh);
        assert_eq!(first[0].id, "edition_1");
        let mut again = parse_import(&json!([product()])).unwrap().remove(0).editions;
        again[0].payment_plans[0].costs[0].unit = PricingUnit::User;
        assign_ids(&mut again, &first, &mut fresh);
        assert_eq!(again[0].id, first[0].id);
        assert_eq!(again[0].payment_plans[0].id, first[0].payment_plans[0].id);
        assert_ne!(again[0].payment_plans[0].costs[0].id, first[0].payment_plans[0].costs[0].id, "another unit");
    }
}
