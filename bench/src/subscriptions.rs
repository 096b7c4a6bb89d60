//! Seeding for S10, a reseller buying subscriptions (`POST /appReseller/v1/subscriptions`).
//!
//! A reseller partner, `COMPANIES` customer companies associated with it (each with a user),
//! and a catalog product with `EDITIONS` editions of one monthly plan (a per-user cost with both
//! markups and a flat fee, so every purchase is priced, invoiced and earns a commission). A
//! company holds one live subscription per edition, so (company, edition) pairs are what a
//! purchase uses up: the seed buys the first `n` pairs through `Subscriptions::create`, as the
//! endpoint does, and S10's script buys the following ones, each thread its own.

use partnerd_domain::catalog::PricingUnit;
use partnerd_domain::subscription::OrderLine;
use partnerd_services::accounts::{CreateCompany, CreateUser};
use partnerd_services::partners::CreatePartner;
use partnerd_services::policy::Context;
use partnerd_services::subscriptions::NewSubscription;
use partnerd_services::{Principal, Services};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

/// Customer companies of the bench reseller.
pub(crate) const COMPANIES: usize = 2_000;
/// Editions of the bench product: `COMPANIES × EDITIONS` purchases are possible in all.
pub(crate) const EDITIONS: usize = 100;

/// What the S10 script needs.
pub(crate) struct StoreSeed {
    pub api_key: String,
    /// `company_id user_id` per line.
    pub targets: Vec<String>,
    pub plan_ids: Vec<String>,
    /// Pairs bought by the seed: the script starts after them.
    pub bought: usize,
}

/// The pair a purchase number uses: `(company, edition)`.
pub(crate) fn pair(index: usize) -> (usize, usize) {
    (index % COMPANIES, index / COMPANIES)
}

pub(crate) async fn seed_subscriptions(services: &Services, marketplace: &str, n: usize) -> Result<StoreSeed, String> {
    let n = n.min(COMPANIES * EDITIONS / 2);
    let reseller = services
        .partners()
        .create(
            marketplace,
            CreatePartner {
                name: "Bench Store".into(),
                email: "store@bench.test".into(),
                plan: "bench".into(),
                roles: vec!["reseller".into()],
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let who: Arc<Principal> = services
        .auth()
        .authenticate(Some(&reseller.api_key), IpAddr::V4(Ipv4Addr::LOCALHOST), None)
        .await
        .map_err(|e| e.to_string())?;
    let editions: Vec<_> = (0..EDITIONS)
        .map(|e| {
            json!({ "name": format!("Edition {e}"), "revenueType": "RECURRING", "paymentPlans": [{ "frequency": "MONTHLY",
                "costs": [
                    { "unit": "USER", "pricingStrategy": "UNIT", "itemPrices": { "USD": 10 + e }, "minUnits": 1, "maxUnits": 500,
                      "markupPrices": [
                        { "markupType": "CHANNEL_RESELLER_COMPANY", "markupPrices": { "USD": 1.5 } },
                        { "markupType": "RESELLER_COMPANY", "markupPrices": { "USD": 0.5 } }] },
                    { "unit": "NOT_APPLICABLE", "pricingStrategy": "FLAT_RATE", "itemPrices": { "USD": 5 } }] }] })
        })
        .collect();
    let file = json!([{ "name": "Bench Suite", "provider": "Bench", "editions": editions }]);
    let products = services.catalog().import(marketplace, &file).await.map_err(|e| e.to_string())?;
    let plan_ids: Vec<String> = products[0].editions.iter().map(|e| e.payment_plans[0].id.clone()).collect();

    // Each company and its user, in order (the script addresses them by index).
    let slots = Arc::new(Mutex::new(vec![String::new(); COMPANIES]));
    let jobs: Vec<_> = (0..COMPANIES)
        .map(|c| {
            let (services, who, slots) = (services.clone(), who.clone(), slots.clone());
            async move {
                let company = CreateCompany { name: format!("Bench Customer {c}"), ..Default::default() };
                let company = services.accounts().create_company(&who, company).await.map_err(|e| e.to_string())?;
                let user = CreateUser {
                    company_id: company.id.clone(),
                    email: format!("buyer{c}@customer{c}.bench.test"),
                    first_name: Some("Jordan".into()),
                    last_name: Some(format!("Buyer {c}")),
                    ..Default::default()
                };
                let user =
                    services.accounts().create_user(&who, Context::Reseller, user).await.map_err(|e| e.to_string())?;
                slots.lock().map_err(|e| e.to_string())?[c] = format!("{} {}", company.id, user.user.id);
                Ok(())
            }
        })
        .collect();
    crate::in_parallel(jobs, 64).await?;
    let targets = slots.lock().map_err(|e| e.to_string())?.clone();

    let buys: Vec<_> = (0..n)
        .map(|i| {
            let (services, who) = (services.clone(), who.clone());
            let (company, edition) = pair(i);
            let (company_id, user_id) =
                targets[company].split_once(' ').map(|(c, u)| (c.to_owned(), u.to_owned())).unwrap_or_default();
            let plan = plan_ids[edition].clone();
            async move {
                let input = NewSubscription {
                    payment_plan_id: plan,
                    target_company_id: company_id,
                    target_user_id: user_id,
                    order_lines: vec![OrderLine {
                        unit: PricingUnit::User,
                        quantity: 1 + u32::try_from(i % 20).unwrap_or(0),
                    }],
                    parent_subscription_id: None,
                };
                services.subscriptions().create(&who, input).await.map(|_| ()).map_err(|e| e.to_string())
            }
        })
        .collect();
    crate::in_parallel(buys, 64).await?;
    Ok(StoreSeed { api_key: reseller.api_key, targets, plan_ids, bought: n })
}
