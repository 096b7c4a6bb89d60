//! Seeding for the reseller scenarios: S7 (the customers list) and S8 (usage ingestion).
//! Customer accounts are created through `Customers::create`, as `POST /customers` does (each
//! with its first invoice and commission), many in flight so SQLite commits them in groups.

use partnerd_services::customers::NewCustomer;
use partnerd_services::{Principal, Services};
use std::sync::{Arc, Mutex};

const PLANS: [&str; 3] = ["starter", "professional", "enterprise"];

/// Creates `n` customer accounts for `who`'s partner; returns up to 1,000 of their ids,
/// spread over the whole set (the customers S8's records report on).
pub(crate) async fn seed_customers(services: &Services, who: &Principal, n: usize) -> Result<Vec<String>, String> {
    let every = n.div_ceil(1000).max(1);
    let ids = Arc::new(Mutex::new(Vec::new()));
    let jobs: Vec<_> = (0..n)
        .map(|i| {
            let (services, who, ids) = (services.clone(), who.clone(), ids.clone());
            async move {
                let input = NewCustomer {
                    company_name: Some(format!("Bench Customer {i}")),
                    contact_email: Some(format!("ops{i}@customer{i}.bench.test")),
                    contact_name: Some(format!("Contact {i}")),
                    phone: None,
                    plan: Some(PLANS[i % PLANS.len()].into()),
                    billing_cycle: Some(if i % 4 == 3 { "annual" } else { "monthly" }.into()),
                };
                let w = services.customers().create(&who, input).await.map_err(|e| e.to_string())?;
                if i % every == 0 {
                    ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(w.account.customer_id);
                }
                Ok(())
            }
        })
        .collect();
    crate::in_parallel(jobs, 64).await?;
    let ids = ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    Ok(ids)
}
