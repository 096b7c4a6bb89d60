//! Seeding for S9, a reseller manager's view of the Leads API (`GET /lead/v2/leads`).
//!
//! Leads are created through `Leads::create`, as `POST /lead/v2/leads` does, many in flight so
//! SQLite commits them in groups. The mix exercises the visibility rule rather than a table
//! that is all the manager's: half are company-profile leads on ten resellers' profiles (a
//! manager sees every profile lead), a third are the manager's own manual leads waiting for
//! assignment, and the rest are the resellers' own manual leads, which the manager must not see
//! (so the list's filter and its `totalElements` do real work).

use partnerd_domain::lead::{Customer, CustomerCompany, CustomerContact, LeadType};
use partnerd_services::leads::CreateLead;
use partnerd_services::partners::CreatePartner;
use partnerd_services::policy::Context;
use partnerd_services::{Principal, Services};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// What the S9 script needs: the manager's key and company, and how many leads it sees.
pub(crate) struct LeadSeed {
    pub api_key: String,
    pub company_id: String,
    pub visible: usize,
}

const RESELLERS: usize = 10;

async fn principal(services: &Services, key: &str) -> Result<Arc<Principal>, String> {
    services.auth().authenticate(Some(key), IpAddr::V4(Ipv4Addr::LOCALHOST), None).await.map_err(|e| e.to_string())
}

/// Creates `n` leads in `marketplace`: returns the reseller manager's view of them.
pub(crate) async fn seed_leads(services: &Services, marketplace: &str, n: usize) -> Result<LeadSeed, String> {
    let enrol = |name: String, email: String, role: &str| CreatePartner {
        name,
        email,
        plan: "bench".into(),
        roles: vec![role.to_owned()],
    };
    let manager = services
        .partners()
        .create(marketplace, enrol("Bench Channel".into(), "channel@bench.test".into(), "reseller_manager"))
        .await
        .map_err(|e| e.to_string())?;
    let manager_who = principal(services, &manager.api_key).await?;
    let mut resellers = Vec::new();
    for r in 0..RESELLERS {
        let c = services
            .partners()
            .create(marketplace, enrol(format!("Bench Reseller {r}"), format!("reseller{r}@bench.test"), "reseller"))
            .await
            .map_err(|e| e.to_string())?;
        resellers.push((c.company_id.clone(), principal(services, &c.api_key).await?));
    }
    let countries = ["US", "DE", "FR", "GB", "BR", "JP", "CA", "AU"];
    let jobs: Vec<_> = (0..n)
        .map(|i| {
            let services = services.clone();
            let (who, context, lead_type, profile) = match i % 6 {
                // Company-profile leads: Contact Us on a reseller's profile.
                0..=2 => {
                    let (company, _) = &resellers[i % RESELLERS];
                    (manager_who.clone(), Context::ResellerManager, LeadType::Company, Some(company.clone()))
                }
                // The manager's own leads, waiting for assignment.
                3 | 4 => (manager_who.clone(), Context::ResellerManager, LeadType::Manual, None),
                // A reseller's own leads: hidden from the manager.
                _ => (resellers[i % RESELLERS].1.clone(), Context::Reseller, LeadType::Manual, None),
            };
            let company_id = who.company_id.clone();
            let country = countries[i % countries.len()];
            async move {
                let input = CreateLead {
                    lead_type,
                    customer: Customer {
                        company: CustomerCompany {
                            name: Some(format!("Prospect {i} Holdings")),
                            country: Some(country.into()),
                            city: Some(format!("City {}", i % 97)),
                            ..Default::default()
                        },
                        contact: CustomerContact {
                            email: Some(format!("buyer{i}@prospect{i}.bench.test")),
                            first_name: Some("Jordan".into()),
                            last_name: Some(format!("Buyer {i}")),
                            ..Default::default()
                        },
                    },
                    notes: Some(format!("Asked about pricing for {} seats.", 5 + i % 200)),
                    partner: None,
                    custom_attributes: BTreeMap::new(),
                    creator: None,
                    reseller: None,
                    profile_company_id: profile,
                    profile_product_id: None,
                    profile_edition_id: None,
                };
                services.leads().create(&who, context, &company_id, input).await.map(|_| ()).map_err(|e| e.to_string())
            }
        })
        .collect();
    crate::in_parallel(jobs, 64).await?;
    Ok(LeadSeed {
        api_key: manager.api_key,
        company_id: manager.company_id,
        visible: (0..n).filter(|i| i % 6 != 5).count(),
    })
}
