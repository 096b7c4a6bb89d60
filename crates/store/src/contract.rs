//! The contract every backend must pass. Backends instantiate it with [`crate::store_contract_tests!`],
//! giving an expression that yields `Option<Arc<dyn Store>>` for a fresh, empty, migrated store
//! (`None` skips, for a backend that is not configured on this machine).

// Test code compiled into the crate so both backends can run it: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use crate::*;
use chrono::{Duration, TimeZone};
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::{NewEvent, types};
use partnerd_domain::ids::new_id;
use partnerd_domain::listing::{ListingContent, ListingStatus};
use partnerd_domain::partner::Role;
use serde_json::json;

/// A page as `(items, total)`, for the cases that check only those.
trait Pair<T> {
    fn pair(self) -> (Vec<T>, u64);
}

impl<T> Pair<T> for Paged<T> {
    fn pair(self) -> (Vec<T>, u64) {
        (self.items, self.total)
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 15, 10, 30, 0).unwrap()
}

fn key(marketplace_id: &str, user_id: &str, company_id: &str, at: DateTime<Utc>) -> NewApiKey {
    let k = partnerd_domain::api_key::generate();
    NewApiKey {
        id: k.key_id,
        marketplace_id: marketplace_id.into(),
        user_id: user_id.into(),
        company_id: company_id.into(),
        name: "default".into(),
        display_prefix: k.display_prefix,
        secret_hash: k.secret_hash.to_vec(),
        allowed_ips: vec![],
        expires_at: None,
        created_at: at,
    }
}

fn event(event_type: &'static str, subject_type: &'static str, subject_id: &str, partner_id: Option<&str>) -> NewEvent {
    NewEvent {
        event_type,
        subject_type,
        subject_id: subject_id.into(),
        partner_id: partner_id.map(Into::into),
        related_partner_id: None,
        actor_user_id: None,
        payload: json!({ "subject": subject_id }),
    }
}

pub async fn marketplace(store: &dyn Store) -> Marketplace {
    let id = new_id("mkt");
    let company = new_id("company");
    let user = new_id("user");
    let new = NewMarketplace {
        operator_key: key(&id, &user, &company, t0()),
        id: id.clone(),
        name: "Test marketplace".into(),
        operator_company_id: company,
        operator_user_id: user,
        operator_email: "operator@example.com".into(),
        created_at: t0(),
        events: vec![event(types::MARKETPLACE_CREATED, "marketplace", &id, None)],
    };
    store.create_default_marketplace(new).await.expect("create marketplace")
}

pub fn new_partner(marketplace_id: &str, email: &str) -> NewPartner {
    let partner_id = new_id("partner");
    let company_id = new_id("company");
    let user_id = new_id("user");
    NewPartner {
        key: key(marketplace_id, &user_id, &company_id, t0()),
        marketplace_id: marketplace_id.into(),
        events: vec![event(types::PARTNER_CREATED, "partner", &partner_id, Some(&partner_id))],
        partner_id,
        company_id,
        company_name: "Acme Corp".into(),
        contact_email: email.into(),
        plan: "business".into(),
        user_id,
        roles: vec![Role::Reseller, Role::Referral],
        created_at: t0(),
    }
}

pub async fn default_marketplace_is_created_once(store: &dyn Store) {
    assert_eq!(store.default_marketplace().await.unwrap(), None);
    let m = marketplace(store).await;
    assert_eq!(store.default_marketplace().await.unwrap(), Some(m.clone()));
    assert_eq!(m.created_at, t0());
    let second = NewMarketplace {
        id: new_id("mkt"),
        name: "Another".into(),
        operator_company_id: new_id("company"),
        operator_user_id: new_id("user"),
        operator_email: "other@example.com".into(),
        operator_key: key("x", "y", "z", t0()),
        created_at: t0(),
        events: vec![],
    };
    assert!(matches!(store.create_default_marketplace(second).await, Err(StoreError::Conflict(_))));
    let events = store.events_for_subject(&m.id, &m.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, types::MARKETPLACE_CREATED);
}

pub async fn partner_enrolment_is_readable_everywhere(store: &dyn Store) {
    let m = marketplace(store).await;
    let p = new_partner(&m.id, "admin@acme.com");
    store.create_partner(p.clone()).await.unwrap();

    let got = store.get_partner(&m.id, &p.partner_id).await.unwrap().expect("partner");
    assert_eq!(got.company_name, "Acme Corp");
    assert_eq!(got.contact_email, "admin@acme.com");
    assert_eq!(got.plan, "business");
    assert_eq!(got.company_id, p.company_id);
    assert!(!got.aws_account_connected);
    assert_eq!(got.created_at, t0());
    assert_eq!(store.list_partners(&m.id).await.unwrap(), vec![got.clone()]);

    let auth = store.find_key_for_auth(&p.key.id).await.unwrap().expect("key");
    assert_eq!(auth.marketplace_id, m.id);
    assert_eq!(auth.user_id, p.user_id);
    assert_eq!(auth.user_email, "admin@acme.com");
    assert_eq!(auth.company_id, p.company_id);
    assert_eq!(auth.roles, vec![Role::Reseller, Role::Referral]);
    assert_eq!(auth.secret_hash, p.key.secret_hash);
    assert_eq!(auth.partner, Some(got));
    assert_eq!(auth.revoked_at, None);

    let events = store.events_for_subject(&m.id, &p.partner_id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, types::PARTNER_CREATED);
    assert_eq!(events[0].partner_id.as_deref(), Some(p.partner_id.as_str()));
    assert_eq!(events[0].payload, json!({ "subject": p.partner_id }));
    assert!(events[0].id.starts_with("evt_"));
}

pub async fn reads_are_scoped_by_marketplace(store: &dyn Store) {
    let m = marketplace(store).await;
    let p = new_partner(&m.id, "admin@acme.com");
    store.create_partner(p.clone()).await.unwrap();
    assert_eq!(store.get_partner("mkt_elsewhere", &p.partner_id).await.unwrap(), None);
    assert!(store.list_partners("mkt_elsewhere").await.unwrap().is_empty());
    assert!(store.list_keys("mkt_elsewhere", &p.user_id).await.unwrap().is_empty());
    assert!(store.list_company_keys("mkt_elsewhere", &p.company_id).await.unwrap().is_empty());
    assert!(store.events_for_subject("mkt_elsewhere", &p.partner_id).await.unwrap().is_empty());
    let revoke = store
        .revoke_key("mkt_elsewhere", &p.key.id, t0(), event(types::API_KEY_REVOKED, "api_key", &p.key.id, None))
        .await;
    assert!(matches!(revoke, Err(StoreError::NotFound(_))));
    assert_eq!(store.find_key_for_auth(&p.key.id).await.unwrap().unwrap().revoked_at, None);
}

pub async fn a_refused_enrolment_writes_nothing(store: &dyn Store) {
    let m = marketplace(store).await;
    store.create_partner(new_partner(&m.id, "admin@acme.com")).await.unwrap();
    let dup = new_partner(&m.id, "admin@acme.com");
    assert!(matches!(store.create_partner(dup.clone()).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.list_partners(&m.id).await.unwrap().len(), 1);
    assert_eq!(store.get_partner(&m.id, &dup.partner_id).await.unwrap(), None);
    assert_eq!(store.find_key_for_auth(&dup.key.id).await.unwrap(), None);
    assert!(store.events_for_subject(&m.id, &dup.partner_id).await.unwrap().is_empty());
}

pub async fn keys_are_created_listed_and_revoked(store: &dyn Store) {
    let m = marketplace(store).await;
    let p = new_partner(&m.id, "admin@acme.com");
    store.create_partner(p.clone()).await.unwrap();

    let mut extra = key(&m.id, &p.user_id, &p.company_id, t0() + Duration::minutes(1));
    extra.name = "ci".into();
    extra.allowed_ips = vec!["10.0.0.0/8".into(), "127.0.0.1".into()];
    extra.expires_at = Some(t0() + Duration::days(30));
    store
        .create_key(extra.clone(), vec![event(types::API_KEY_CREATED, "api_key", &extra.id, Some(&p.partner_id))])
        .await
        .unwrap();

    let keys = store.list_keys(&m.id, &p.user_id).await.unwrap();
    assert_eq!(keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), vec![p.key.id.as_str(), extra.id.as_str()]);
    assert_eq!(keys[1].name, "ci");
    assert_eq!(keys[1].allowed_ips, extra.allowed_ips);
    assert_eq!(keys[1].expires_at, extra.expires_at);
    assert_eq!(keys[1].display_prefix, extra.display_prefix);
    let of_company = store.list_company_keys(&m.id, &p.company_id).await.unwrap();
    assert_eq!(of_company, keys, "the company's keys are its users' keys made for it");
    assert!(store.list_company_keys(&m.id, "company_nobody").await.unwrap().is_empty());

    let at = t0() + Duration::hours(1);
    let revoked = store
        .revoke_key(&m.id, &extra.id, at, event(types::API_KEY_REVOKED, "api_key", &extra.id, Some(&p.partner_id)))
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    let again = store
        .revoke_key(
            &m.id,
            &extra.id,
            at + Duration::hours(1),
            event(types::API_KEY_REVOKED, "api_key", &extra.id, None),
        )
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(at), "revoking twice keeps the first time");
    assert_eq!(store.find_key_for_auth(&extra.id).await.unwrap().unwrap().revoked_at, Some(at));
    let kinds: Vec<String> =
        store.events_for_subject(&m.id, &extra.id).await.unwrap().into_iter().map(|e| e.event_type).collect();
    assert_eq!(kinds, vec![types::API_KEY_CREATED, types::API_KEY_REVOKED]);
    assert!(matches!(
        store.revoke_key(&m.id, "key_missing", at, event(types::API_KEY_REVOKED, "api_key", "key_missing", None)).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn keys_need_a_membership(store: &dyn Store) {
    let m = marketplace(store).await;
    let p = new_partner(&m.id, "admin@acme.com");
    store.create_partner(p.clone()).await.unwrap();
    let stray = key(&m.id, &p.user_id, "company_not_a_member", t0());
    assert!(matches!(store.create_key(stray.clone(), vec![]).await, Err(StoreError::NotFound("membership"))));
    assert_eq!(store.find_key_for_auth(&stray.id).await.unwrap(), None);
    let memberships = store.memberships(&m.id, &p.user_id).await.unwrap();
    assert_eq!(
        memberships,
        vec![Membership {
            company_id: p.company_id.clone(),
            roles: p.roles.clone(),
            partner_id: Some(p.partner_id.clone()),
        }]
    );
}

pub async fn events_are_found_by_type_and_time(store: &dyn Store) {
    let m = marketplace(store).await;
    let p = new_partner(&m.id, "admin@acme.com");
    store.create_partner(p.clone()).await.unwrap();
    let at = Utc::now();
    let k = &p.key.id;
    store.revoke_key(&m.id, k, at, event(types::API_KEY_REVOKED, "api_key", k, None)).await.unwrap();
    let found = store.events_recorded_since(at - Duration::seconds(5), &[types::API_KEY_REVOKED]).await.unwrap();
    assert!(found.iter().any(|e| &e.subject_id == k));
    assert!(found.iter().all(|e| e.event_type == types::API_KEY_REVOKED));
    let later = store.events_recorded_since(at + Duration::hours(1), &[types::API_KEY_REVOKED]).await.unwrap();
    assert!(later.is_empty());
    // The notes the caches read are the same events, without their payloads.
    let notes = store.event_notes_since(at - Duration::seconds(5), &[types::API_KEY_REVOKED]).await.unwrap();
    let projected: Vec<EventNote> = found
        .iter()
        .map(|e| EventNote {
            seq: e.seq,
            marketplace_id: e.marketplace_id.clone(),
            event_type: e.event_type.clone(),
            subject_id: e.subject_id.clone(),
            partner_id: e.partner_id.clone(),
        })
        .collect();
    assert_eq!(notes, projected);
    assert!(store.event_notes_since(at + Duration::hours(1), &[types::API_KEY_REVOKED]).await.unwrap().is_empty());
}

pub fn listing(m: &str, partner_id: &str, title: &str, status: ListingStatus, at: DateTime<Utc>) -> ListingRecord {
    ListingRecord {
        id: new_id("listing"),
        marketplace_id: m.into(),
        partner_id: partner_id.into(),
        content: ListingContent {
            title: title.into(),
            short_description: "Short".into(),
            long_description: "Long\n\ntext".into(),
            highlights: vec!["One".into(), "Two".into()],
            categories: vec!["Security".into()],
            keywords: vec!["siem".into()],
            images: vec!["https://x.io/1.png".into()],
            logo_url: None,
            pricing_model: "subscription".into(),
            marketplace: "aws".into(),
            product_id: Some("prod_1".into()),
        },
        status,
        seo_score: 42,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

async fn two_partners(store: &dyn Store) -> (Marketplace, NewPartner, NewPartner) {
    let m = marketplace(store).await;
    let a = new_partner(&m.id, "a@acme.com");
    let b = new_partner(&m.id, "b@beta.com");
    store.create_partner(a.clone()).await.unwrap();
    store.create_partner(b.clone()).await.unwrap();
    (m, a, b)
}

pub async fn listings_are_private_to_their_partner(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let l = listing(&m.id, &a.partner_id, "Suite", ListingStatus::Draft, t0());
    store
        .create_listings(vec![l.clone()], vec![event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    assert_eq!(store.get_listing(&m.id, &a.partner_id, &l.id).await.unwrap(), Some(l.clone()));
    assert_eq!(store.get_listing(&m.id, &b.partner_id, &l.id).await.unwrap(), None);
    assert_eq!(store.get_listing("mkt_elsewhere", &a.partner_id, &l.id).await.unwrap(), None);
    assert_eq!(store.list_listings(&m.id, &b.partner_id, None, &Window::Offset(0), 20).await.unwrap().total, 0);
    let events = store.events_for_subject(&m.id, &l.id).await.unwrap();
    assert_eq!(events.len(), 1);
}

pub async fn listings_page_newest_first_with_totals(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let status = if i % 2 == 0 { ListingStatus::Active } else { ListingStatus::Draft };
        let l = listing(&m.id, &a.partner_id, &format!("L{i}"), status, t0() + Duration::minutes(i));
        store.create_listings(vec![l.clone()], vec![]).await.unwrap();
        ids.push(l.id);
    }
    store.create_listings(vec![listing(&m.id, &b.partner_id, "B", ListingStatus::Active, t0())], vec![]).await.unwrap();
    let all = store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 20).await.unwrap();
    assert_eq!(all.total, 5);
    let titles: Vec<&str> = all.items.iter().map(|l| l.content.title.as_str()).collect();
    assert_eq!(titles, vec!["L4", "L3", "L2", "L1", "L0"]);
    let page = store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(2), 2).await.unwrap();
    assert_eq!((page.total, page.items.len()), (5, 2));
    assert_eq!(page.items[0].content.title, "L2");
    let active =
        store.list_listings(&m.id, &a.partner_id, Some(ListingStatus::Active), &Window::Offset(0), 20).await.unwrap();
    assert_eq!(active.total, 3);
    assert!(active.items.iter().all(|l| l.status == ListingStatus::Active));
    let past_end =
        store.list_listings(&m.id, &a.partner_id, Some(ListingStatus::Draft), &Window::Offset(40), 20).await.unwrap();
    assert_eq!((past_end.total, past_end.items.len()), (2, 0));
    assert_eq!(
        store
            .list_listings(&m.id, &a.partner_id, Some(ListingStatus::Archived), &Window::Offset(0), 20)
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn listing_updates_are_versioned_and_counted(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let l = listing(&m.id, &a.partner_id, "Suite", ListingStatus::Draft, t0());
    store.create_listings(vec![l.clone()], vec![]).await.unwrap();
    let mut next = l.clone();
    next.content.title = "Suite 2".into();
    next.status = ListingStatus::Active;
    next.version = 2;
    next.updated_at = t0() + Duration::hours(1);
    store
        .update_listing(next.clone(), 1, vec![event(types::LISTING_UPDATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    assert_eq!(store.get_listing(&m.id, &a.partner_id, &l.id).await.unwrap(), Some(next.clone()));
    let active =
        store.list_listings(&m.id, &a.partner_id, Some(ListingStatus::Active), &Window::Offset(0), 20).await.unwrap();
    let drafts =
        store.list_listings(&m.id, &a.partner_id, Some(ListingStatus::Draft), &Window::Offset(0), 20).await.unwrap();
    assert_eq!((active.total, drafts.total), (1, 0), "counts follow the status change");
    // A writer that read version 1 loses: nothing it wrote lands.
    let mut stale = l.clone();
    stale.content.title = "Lost".into();
    stale.version = 2;
    let r = store.update_listing(stale, 1, vec![event(types::LISTING_UPDATED, "listing", &l.id, None)]).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(store.get_listing(&m.id, &a.partner_id, &l.id).await.unwrap().unwrap().content.title, "Suite 2");
    assert_eq!(store.events_for_subject(&m.id, &l.id).await.unwrap().len(), 1);
    let mut gone = listing(&m.id, &a.partner_id, "Ghost", ListingStatus::Draft, t0());
    gone.version = 2;
    assert!(matches!(store.update_listing(gone, 1, vec![]).await, Err(StoreError::NotFound(_))));
}

pub async fn drafts_publish_once_and_atomically(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let l = listing(&m.id, &a.partner_id, "Suite", ListingStatus::Active, t0());
    store.create_listings(vec![l.clone()], vec![]).await.unwrap();
    let draft = DraftRecord {
        id: new_id("draft"),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        listing_id: l.id.clone(),
        title: "Better Suite".into(),
        short_description: "Better".into(),
        long_description: "Much better".into(),
        highlights: vec!["A".into()],
        keywords: vec!["siem".into(), "soc".into()],
        seo_score: 77,
        published_at: None,
        created_at: t0() + Duration::minutes(1),
    };
    store
        .create_draft(draft.clone(), vec![event(types::CONTENT_GENERATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    assert_eq!(store.list_drafts(&m.id, &a.partner_id, &l.id).await.unwrap(), vec![draft.clone()]);
    assert_eq!(store.get_draft(&m.id, &b.partner_id, &draft.id).await.unwrap(), None);

    let mut published = l.clone();
    published.content.title = draft.title.clone();
    published.version = 2;
    let at = t0() + Duration::minutes(2);
    // Publishing against a stale listing version changes nothing.
    let r = store.publish_draft(&draft.id, at, published.clone(), 0, vec![]).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_draft(&m.id, &a.partner_id, &draft.id).await.unwrap().unwrap().published_at, None);

    store
        .publish_draft(
            &draft.id,
            at,
            published.clone(),
            1,
            vec![event(types::CONTENT_PUBLISHED, "listing", &l.id, None)],
        )
        .await
        .unwrap();
    assert_eq!(store.get_draft(&m.id, &a.partner_id, &draft.id).await.unwrap().unwrap().published_at, Some(at));
    assert_eq!(store.get_listing(&m.id, &a.partner_id, &l.id).await.unwrap().unwrap().content.title, "Better Suite");
    let mut again = published.clone();
    again.version = 3;
    assert!(matches!(store.publish_draft(&draft.id, at, again, 2, vec![]).await, Err(StoreError::Conflict(_))));
}

pub async fn a_batch_of_listings_is_all_or_nothing(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let first = listing(&m.id, &a.partner_id, "One", ListingStatus::Active, t0());
    let second = listing(&m.id, &a.partner_id, "Two", ListingStatus::Draft, t0());
    store.create_listings(vec![first.clone(), second], vec![]).await.unwrap();
    assert_eq!(store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 20).await.unwrap().total, 2);
    // The second row reuses an id: the whole batch, its first row included, is refused.
    let fresh = listing(&m.id, &a.partner_id, "Three", ListingStatus::Active, t0());
    let dup = ListingRecord { content: fresh.content.clone(), ..first.clone() };
    let r = store
        .create_listings(vec![fresh.clone(), dup], vec![event(types::LISTING_CREATED, "listing", &fresh.id, None)])
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(store.get_listing(&m.id, &a.partner_id, &fresh.id).await.unwrap(), None);
    assert_eq!(
        store
            .list_listings(&m.id, &a.partner_id, Some(ListingStatus::Active), &Window::Offset(0), 20)
            .await
            .unwrap()
            .total,
        1
    );
    assert!(store.events_for_subject(&m.id, &fresh.id).await.unwrap().is_empty());
}

/// Concurrent writes that touch several counter rows must not deadlock each other.
pub async fn concurrent_listing_writes_do_not_deadlock(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let batch = |k: usize| -> Vec<ListingRecord> {
        (0..50)
            .map(|i| {
                let status = [ListingStatus::Active, ListingStatus::Draft, ListingStatus::Archived][(i + k) % 3];
                listing(&m.id, &a.partner_id, &format!("B{k}-{i}"), status, t0())
            })
            .collect()
    };
    let (b0, b1, b2, b3) = (batch(0), batch(1), batch(2), batch(3));
    let (r0, r1, r2, r3) = tokio::join!(
        store.create_listings(b0.clone(), vec![]),
        store.create_listings(b1.clone(), vec![]),
        store.create_listings(b2, vec![]),
        store.create_listings(b3, vec![]),
    );
    for r in [r0, r1, r2, r3] {
        r.expect("concurrent imports succeed");
    }
    assert_eq!(store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 1).await.unwrap().total, 200);
    // Opposite transitions at once: active → draft on one, draft → active on another.
    let flip = |l: &ListingRecord, to: ListingStatus| ListingRecord { status: to, version: 2, ..l.clone() };
    let active = b0.iter().find(|l| l.status == ListingStatus::Active).unwrap();
    let draft = b1.iter().find(|l| l.status == ListingStatus::Draft).unwrap();
    let (x, y) = tokio::join!(
        store.update_listing(flip(active, ListingStatus::Draft), 1, vec![]),
        store.update_listing(flip(draft, ListingStatus::Active), 1, vec![]),
    );
    x.unwrap();
    y.unwrap();
    let mut totals = Vec::new();
    for s in [ListingStatus::Active, ListingStatus::Draft, ListingStatus::Archived] {
        totals.push(store.list_listings(&m.id, &a.partner_id, Some(s), &Window::Offset(0), 1).await.unwrap().total);
    }
    let (act, dr, ar) = (totals[0], totals[1], totals[2]);
    assert_eq!(act + dr + ar, 200);
    let real_active = store
        .list_listings(&m.id, &a.partner_id, Some(ListingStatus::Active), &Window::Offset(0), 200)
        .await
        .unwrap()
        .items
        .len() as u64;
    assert_eq!(act, real_active, "counters match the rows");
    // Many single-listing writes at once (on PostgreSQL each moves a counter shard of its own):
    // rescore 40 listings of the first two imports and move every fourth to archived.
    let moved: Vec<ListingRecord> = b0
        .iter()
        .chain(&b1)
        .filter(|l| l.id != active.id && l.id != draft.id)
        .take(40)
        .enumerate()
        .map(|(i, l)| ListingRecord {
            seo_score: 10 + u32::try_from(i).expect("forty"),
            status: if i % 4 == 0 { ListingStatus::Archived } else { l.status },
            version: 2,
            ..l.clone()
        })
        .collect();
    let written = join_all(moved.iter().map(|l| store.update_listing(l.clone(), 1, vec![])).collect()).await;
    for r in written {
        r.expect("concurrent single-listing writes succeed");
    }
    let all = store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 200).await.unwrap();
    let score_sum: u64 = all.items.iter().map(|l| u64::from(l.seo_score)).sum();
    assert_eq!(store.listing_totals(&m.id, &a.partner_id).await.unwrap(), ListingTotals { count: 200, score_sum });
    for s in [ListingStatus::Active, ListingStatus::Draft, ListingStatus::Archived] {
        let page = store.list_listings(&m.id, &a.partner_id, Some(s), &Window::Offset(0), 200).await.unwrap();
        assert_eq!(page.total, page.items.len() as u64, "the {s:?} counter matches its rows");
    }
}

/// Runs `futures` concurrently on this task (the store is borrowed, so they cannot be spawned)
/// and returns their outputs in order.
async fn join_all<T>(mut futures: Vec<std::pin::Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|o| o.expect("every future finished")).collect()
}

pub fn opportunity(m: &str, owner: &str, cosell: &str, cents: i64, at: DateTime<Utc>) -> OpportunityRecord {
    OpportunityRecord {
        id: new_id("opp"),
        marketplace_id: m.into(),
        owner_partner_id: owner.into(),
        owner_company_name: String::new(),
        cosell_partner_id: cosell.into(),
        cosell_company_name: String::new(),
        customer_name: "Global Corp".into(),
        deal_value_cents: cents,
        currency: "USD".into(),
        description: "Joint implementation project".into(),
        expected_close_date: chrono::NaiveDate::from_ymd_opt(2025, 3, 15),
        status: OpportunityStatus::Open,
        notes: String::new(),
        created_by: "user_x".into(),
        created_at: at,
        updated_at: at,
        closed_at: None,
        version: 1,
    }
}

async fn three_partners(store: &dyn Store) -> (Marketplace, NewPartner, NewPartner, NewPartner) {
    let (m, a, b) = two_partners(store).await;
    let mut c = new_partner(&m.id, "c@gamma.com");
    c.company_name = "Gamma".into();
    store.create_partner(c.clone()).await.unwrap();
    (m, a, b, c)
}

pub async fn opportunities_are_seen_by_both_parties_only(store: &dyn Store) {
    let (m, a, b, c) = three_partners(store).await;
    let o = opportunity(&m.id, &a.partner_id, &b.partner_id, 5_000_000, t0());
    let mut ev = event(types::OPPORTUNITY_CREATED, "opportunity", &o.id, Some(&a.partner_id));
    ev.related_partner_id = Some(b.partner_id.clone());
    store.create_opportunity(o.clone(), vec![ev]).await.unwrap();
    let seen_by_a = store.get_opportunity(&m.id, &a.partner_id, &o.id).await.unwrap().expect("owner sees it");
    let seen_by_b = store.get_opportunity(&m.id, &b.partner_id, &o.id).await.unwrap().expect("co-sell partner sees it");
    assert_eq!(seen_by_a, seen_by_b);
    assert_eq!(
        (seen_by_a.owner_company_name.as_str(), seen_by_a.cosell_company_name.as_str()),
        ("Acme Corp", "Acme Corp")
    );
    assert_eq!(seen_by_a.deal_value_cents, 5_000_000);
    assert_eq!(seen_by_a.expected_close_date, o.expected_close_date);
    assert_eq!(store.get_opportunity(&m.id, &c.partner_id, &o.id).await.unwrap(), None);
    assert_eq!(
        store
            .list_opportunities(&m.id, &c.partner_id, &OpportunityFilter::default(), &Window::Offset(0), 20)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        store
            .list_opportunities(&m.id, &b.partner_id, &OpportunityFilter::default(), &Window::Offset(0), 20)
            .await
            .unwrap()
            .total,
        1
    );
    let events = store.events_for_subject(&m.id, &o.id).await.unwrap();
    assert_eq!(events[0].related_partner_id.as_deref(), Some(b.partner_id.as_str()));
}

pub async fn opportunities_filter_and_page(store: &dyn Store) {
    let (m, a, b, c) = three_partners(store).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        // a↔b three times, a↔c three times; a owns the even ones.
        let other = if i < 3 { &b.partner_id } else { &c.partner_id };
        let (owner, cosell) = if i % 2 == 0 { (&a.partner_id, other) } else { (other, &a.partner_id) };
        let mut o = opportunity(&m.id, owner, cosell, 100 * (i + 1), t0() + Duration::hours(i));
        if i == 5 {
            o.status = OpportunityStatus::InProgress;
        }
        store.create_opportunity(o.clone(), vec![]).await.unwrap();
        ids.push(o.id);
    }
    let all = store
        .list_opportunities(&m.id, &a.partner_id, &OpportunityFilter::default(), &Window::Offset(0), 20)
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    assert_eq!(
        all.items.iter().map(|o| o.id.clone()).collect::<Vec<_>>(),
        ids.iter().rev().cloned().collect::<Vec<_>>()
    );
    let page = store
        .list_opportunities(&m.id, &a.partner_id, &OpportunityFilter::default(), &Window::Offset(4), 4)
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (6, 2));
    let with_c = OpportunityFilter { other_partner_id: Some(c.partner_id.clone()), ..Default::default() };
    assert_eq!(store.list_opportunities(&m.id, &a.partner_id, &with_c, &Window::Offset(0), 20).await.unwrap().total, 3);
    let with_c_for_b = store.list_opportunities(&m.id, &b.partner_id, &with_c, &Window::Offset(0), 20).await.unwrap();
    assert_eq!(with_c_for_b.total, 0, "b has no deal with c");
    let in_progress = OpportunityFilter { status: Some(OpportunityStatus::InProgress), ..Default::default() };
    let found = store.list_opportunities(&m.id, &a.partner_id, &in_progress, &Window::Offset(0), 20).await.unwrap();
    assert_eq!((found.total, found.items[0].id.clone()), (1, ids[5].clone()));
    let recent = OpportunityFilter { created_after: Some(t0() + Duration::minutes(150)), ..Default::default() };
    assert_eq!(store.list_opportunities(&m.id, &a.partner_id, &recent, &Window::Offset(0), 20).await.unwrap().total, 3);
}

pub async fn opportunity_updates_are_versioned(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let o = opportunity(&m.id, &a.partner_id, &b.partner_id, 100, t0());
    store.create_opportunity(o.clone(), vec![]).await.unwrap();
    let mut next = o.clone();
    next.status = OpportunityStatus::InProgress;
    next.notes = "Kick-off booked".into();
    next.version = 2;
    store.update_opportunity(next.clone(), 1, vec![]).await.unwrap();
    let got = store.get_opportunity(&m.id, &b.partner_id, &o.id).await.unwrap().unwrap();
    assert_eq!((got.status, got.notes.as_str(), got.version), (OpportunityStatus::InProgress, "Kick-off booked", 2));
    let mut stale = o.clone();
    stale.version = 2;
    assert!(matches!(store.update_opportunity(stale, 1, vec![]).await, Err(StoreError::Conflict(_))));
}

pub async fn analytics_figures_come_from_the_database(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let mut scores = Vec::new();
    for (i, score) in [40u32, 80, 60, 95].into_iter().enumerate() {
        let mut l = listing(&m.id, &a.partner_id, &format!("L{i}"), ListingStatus::Active, t0());
        l.seo_score = score;
        store.create_listings(vec![l.clone()], vec![]).await.unwrap();
        scores.push(l);
    }
    // Archive the 95: it stays in the totals (every status counts) but leaves the top list.
    // Rescore the 40 to 50.
    let mut archived = scores[3].clone();
    archived.status = ListingStatus::Archived;
    archived.version = 2;
    store.update_listing(archived, 1, vec![]).await.unwrap();
    let mut rescored = scores[0].clone();
    rescored.seo_score = 50;
    rescored.version = 2;
    store.update_listing(rescored, 1, vec![]).await.unwrap();
    assert_eq!(store.listing_totals(&m.id, &a.partner_id).await.unwrap(), ListingTotals { count: 4, score_sum: 285 });
    let top: Vec<u32> =
        store.top_listings(&m.id, &a.partner_id, 2).await.unwrap().iter().map(|l| l.seo_score).collect();
    assert_eq!(top, vec![80, 60]);

    // Co-sell: window is [t0 + 1d, t0 + 8d).
    let (start, end) = (t0() + Duration::days(1), t0() + Duration::days(8));
    let mk = |owner: &str, other: &str, cents, created: DateTime<Utc>, status, closed: Option<DateTime<Utc>>| {
        let mut o = opportunity(&m.id, owner, other, cents, created);
        o.status = status;
        o.closed_at = closed;
        o
    };
    let opps = [
        mk(&a.partner_id, &b.partner_id, 1_000, t0(), OpportunityStatus::Open, None),
        mk(&b.partner_id, &a.partner_id, 2_000, start, OpportunityStatus::InProgress, None),
        mk(
            &a.partner_id,
            &b.partner_id,
            4_000,
            start + Duration::days(1),
            OpportunityStatus::Won,
            Some(start + Duration::days(2)),
        ),
        mk(&a.partner_id, &b.partner_id, 8_000, t0(), OpportunityStatus::Won, Some(t0())),
        mk(&a.partner_id, &b.partner_id, 16_000, end, OpportunityStatus::Lost, Some(end)),
    ];
    for o in opps {
        store.create_opportunity(o, vec![]).await.unwrap();
    }
    let f = store.cosell_figures(&m.id, &a.partner_id, start, end).await.unwrap();
    assert_eq!(f.created, 2, "created at start counts, at end does not");
    assert_eq!(f.pipeline_cents, 3_000);
    assert_eq!(f.won_cents, 4_000, "won before the window does not count");
    let by: Vec<(OpportunityStatus, u64, i128)> =
        f.by_status.iter().map(|s| (s.status, s.count, s.value_cents)).collect();
    assert_eq!(
        by,
        vec![
            (OpportunityStatus::Open, 1, 1_000),
            (OpportunityStatus::InProgress, 1, 2_000),
            (OpportunityStatus::Won, 2, 12_000),
            (OpportunityStatus::Lost, 1, 16_000)
        ]
    );

    // Content: two drafts in the window, one published in it.
    for (i, created) in [t0(), start, start + Duration::hours(1)].into_iter().enumerate() {
        let d = DraftRecord {
            id: new_id("draft"),
            marketplace_id: m.id.clone(),
            partner_id: a.partner_id.clone(),
            listing_id: scores[1].id.clone(),
            title: format!("D{i}"),
            short_description: String::new(),
            long_description: String::new(),
            highlights: vec![],
            keywords: vec![],
            seo_score: 1,
            published_at: None,
            created_at: created,
        };
        store.create_draft(d.clone(), vec![]).await.unwrap();
        if i == 2 {
            let current = store.get_listing(&m.id, &a.partner_id, &scores[1].id).await.unwrap().unwrap();
            let mut next = current.clone();
            next.version += 1;
            store.publish_draft(&d.id, start + Duration::hours(2), next, current.version, vec![]).await.unwrap();
        }
    }
    let c = store.content_figures(&m.id, &a.partner_id, start, end).await.unwrap();
    assert_eq!(c, ContentFigures { generated: 2, published: 1 });
    assert_eq!(store.content_figures(&m.id, &b.partner_id, start, end).await.unwrap(), ContentFigures::default());
}

/// Sums of amounts beyond i64 cents are exact on both backends, for both parties: the SQL
/// sums in parts (`split_sum`), never one BIGINT. Amounts here are larger than the API accepts
/// (i64::MAX cents) so that three of them are enough.
pub async fn money_sums_past_i64_are_exact(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let (start, end) = (t0(), t0() + Duration::days(1));
    let mut expected_won = 0i128;
    for (i, cents) in [i64::MAX, i64::MAX, i64::MAX - 1, 1, 16_777_215].into_iter().enumerate() {
        let mut o = opportunity(&m.id, &a.partner_id, &b.partner_id, cents, start);
        if i % 2 == 0 {
            o.status = OpportunityStatus::Won;
            o.closed_at = Some(start + Duration::hours(1));
            expected_won += i128::from(cents);
        }
        store.create_opportunity(o, vec![]).await.unwrap();
    }
    let expected_open = i128::from(i64::MAX) + 1;
    for partner in [&a.partner_id, &b.partner_id] {
        let f = store.cosell_figures(&m.id, partner, start, end).await.unwrap();
        assert_eq!(f.won_cents, expected_won, "{partner}");
        assert!(f.won_cents > i128::from(i64::MAX));
        assert_eq!(f.pipeline_cents, expected_open);
        let by: Vec<(OpportunityStatus, u64, i128)> =
            f.by_status.iter().map(|s| (s.status, s.count, s.value_cents)).collect();
        assert_eq!(by[0], (OpportunityStatus::Open, 2, expected_open));
        assert_eq!(by[2], (OpportunityStatus::Won, 3, expected_won));
    }
}

pub async fn reports_are_stored_listed_and_scheduled_once(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let report = |trigger: &str, created: DateTime<Utc>| ReportRecord {
        id: new_id("report"),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        report_type: "partner_performance".into(),
        period: "30d".into(),
        period_start: t0(),
        period_end: t0() + Duration::days(30),
        trigger: trigger.into(),
        data: serde_json::json!({ "summary": { "listings": { "total": 3 } } }),
        created_at: created,
    };
    let first = report("on_demand", t0());
    assert!(store.create_report(first.clone(), vec![]).await.unwrap());
    let scheduled = report("scheduled", t0() + Duration::minutes(1));
    assert!(store.create_report(scheduled.clone(), vec![]).await.unwrap());
    assert!(
        !store.create_report(report("scheduled", t0() + Duration::minutes(2)), vec![]).await.unwrap(),
        "once per period"
    );
    assert!(
        store.create_report(report("on_demand", t0() + Duration::minutes(3)), vec![]).await.unwrap(),
        "on demand: any number"
    );
    let (items, total) = store.list_reports(&m.id, &a.partner_id, &Window::Offset(0), 2).await.unwrap().pair();
    assert_eq!(total, 3);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1], scheduled, "newest first");
    assert_eq!(store.get_report(&m.id, &a.partner_id, &first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.get_report(&m.id, &b.partner_id, &first.id).await.unwrap(), None);
    assert_eq!(store.list_reports(&m.id, &b.partner_id, &Window::Offset(0), 20).await.unwrap().pair().1, 0);
}

pub async fn user_emails_are_found_by_id(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let mut found =
        store.user_emails(&m.id, &[a.user_id.clone(), b.user_id.clone(), "user_nobody".into()]).await.unwrap();
    found.sort();
    let mut expected = vec![(a.user_id.clone(), "a@acme.com".to_owned()), (b.user_id.clone(), "b@beta.com".to_owned())];
    expected.sort();
    assert_eq!(found, expected);
    assert!(store.user_emails("mkt_elsewhere", std::slice::from_ref(&a.user_id)).await.unwrap().is_empty());
}

pub fn webhook(m: &str, partner_id: &str, events: &[&str], active: bool) -> WebhookRecord {
    WebhookRecord {
        id: new_id("webhook"),
        marketplace_id: m.into(),
        partner_id: partner_id.into(),
        url: format!("https://hooks.example.com/{}", new_id("path")),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmU=".into(),
        active,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn claim(now: DateTime<Utc>, claimer: &str) -> Claim {
    Claim {
        now,
        lease_until: now + Duration::seconds(60),
        claimer: claimer.into(),
        limit: 100,
        per_webhook: 100,
        exclude_webhooks: vec![],
    }
}

pub async fn webhooks_are_registered_per_partner(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let w = webhook(&m.id, &a.partner_id, &["listing.updated", "opportunity.created"], true);
    store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    assert_eq!(store.list_webhooks(&m.id, &a.partner_id).await.unwrap(), vec![w.clone()]);
    assert_eq!(store.get_webhook(&m.id, &a.partner_id, &w.id).await.unwrap(), Some(w.clone()));
    assert_eq!(store.get_webhook(&m.id, &b.partner_id, &w.id).await.unwrap(), None);
    // Deactivated: events create no deliveries for it; reactivated: they do again.
    let mut off = w.clone();
    off.active = false;
    store.update_webhook(off.clone(), vec![]).await.unwrap();
    let l = listing(&m.id, &a.partner_id, "Quiet", ListingStatus::Draft, t0());
    let mut ev = event(types::LISTING_UPDATED, "listing", &l.id, Some(&a.partner_id));
    store.create_listings(vec![l.clone()], vec![ev.clone()]).await.unwrap();
    assert_eq!(store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 20).await.unwrap().pair().1, 0);
    store.update_webhook(w.clone(), vec![]).await.unwrap();
    let l2 = listing(&m.id, &a.partner_id, "Loud", ListingStatus::Draft, t0());
    ev.subject_id = l2.id.clone();
    store.create_listings(vec![l2], vec![ev]).await.unwrap();
    assert_eq!(store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 20).await.unwrap().pair().1, 1);
    let mut changed = w.clone();
    changed.events = vec!["seo.score_changed".into()];
    changed.url = "https://hooks.example.com/new".into();
    changed.updated_at = t0() + Duration::hours(1);
    store.update_webhook(changed.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_webhook(&m.id, &a.partner_id, &w.id).await.unwrap(), Some(changed));
    store.delete_webhook(&m.id, &a.partner_id, &w.id, t0()).await.unwrap();
    assert_eq!(store.get_webhook(&m.id, &a.partner_id, &w.id).await.unwrap(), None);
    assert!(store.list_webhooks(&m.id, &a.partner_id).await.unwrap().is_empty());
    assert!(matches!(store.delete_webhook(&m.id, &a.partner_id, &w.id, t0()).await, Err(StoreError::NotFound(_))));
}

pub async fn events_fan_out_to_subscribed_active_webhooks_of_their_audience(store: &dyn Store) {
    let (m, a, b, c) = three_partners(store).await;
    let a_hook = webhook(&m.id, &a.partner_id, &["listing.updated", "opportunity.created"], true);
    let a_inactive = webhook(&m.id, &a.partner_id, &["listing.updated", "opportunity.created"], false);
    let b_hook = webhook(&m.id, &b.partner_id, &["opportunity.created"], true);
    let c_hook = webhook(&m.id, &c.partner_id, &["listing.updated", "opportunity.created"], true);
    for w in [&a_hook, &a_inactive, &b_hook, &c_hook] {
        store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    }
    let l = listing(&m.id, &a.partner_id, "Suite", ListingStatus::Draft, t0());
    store
        .create_listings(vec![l.clone()], vec![event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    let mut next = l.clone();
    next.version = 2;
    store
        .update_listing(next, 1, vec![event(types::LISTING_UPDATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    let o = opportunity(&m.id, &a.partner_id, &b.partner_id, 100, t0());
    let mut created = event(types::OPPORTUNITY_CREATED, "opportunity", &o.id, Some(&a.partner_id));
    created.related_partner_id = Some(b.partner_id.clone());
    store.create_opportunity(o.clone(), vec![created]).await.unwrap();
    // Not in the catalog: never delivered.
    store
        .revoke_key(&m.id, &a.key.id, t0(), event(types::API_KEY_REVOKED, "api_key", &a.key.id, Some(&a.partner_id)))
        .await
        .unwrap();

    assert!(store.deliveries_due(t0()).await.unwrap());
    let claimed = store.claim_deliveries(&claim(t0(), "w1")).await.unwrap();
    let mut got: Vec<(String, String)> = claimed.iter().map(|d| (d.webhook_id.clone(), d.event_type.clone())).collect();
    got.sort();
    let mut want = vec![
        (a_hook.id.clone(), "listing.updated".to_owned()),
        (a_hook.id.clone(), "opportunity.created".to_owned()),
        (b_hook.id.clone(), "opportunity.created".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want);
    let d = claimed.iter().find(|d| d.event_type == "listing.updated").unwrap();
    assert_eq!((d.url.as_str(), d.secret.as_str(), d.attempt), (a_hook.url.as_str(), a_hook.secret.as_str(), 1));
    assert_eq!(d.data, serde_json::json!({ "subject": l.id }));
    assert!(d.event_id.starts_with("evt_"));
    assert_eq!(d.occurred_at, t0());
    assert!(store.claim_deliveries(&claim(t0(), "w2")).await.unwrap().is_empty(), "claimed rows are not claimed twice");
    assert!(!store.deliveries_due(t0() - Duration::seconds(1)).await.unwrap(), "nothing is due before its time");
}

pub async fn webhook_limits_rotations_and_secrets_are_transactional(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let first = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    assert!(store.create_webhook(first.clone(), 2, vec![]).await.unwrap());
    assert!(store.create_webhook(webhook(&m.id, &a.partner_id, &["listing.created"], true), 2, vec![]).await.unwrap());
    let refused = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    assert!(!store.create_webhook(refused.clone(), 2, vec![]).await.unwrap(), "the limit is reached");
    assert_eq!(store.get_webhook(&m.id, &a.partner_id, &refused.id).await.unwrap(), None);
    assert!(store.create_webhook(webhook(&m.id, &b.partner_id, &["listing.created"], true), 2, vec![]).await.unwrap());
    store.delete_webhook(&m.id, &a.partner_id, &first.id, t0()).await.unwrap();
    assert!(store.create_webhook(refused.clone(), 2, vec![]).await.unwrap(), "deleted webhooks do not count");

    // A rotation that read a secret replaced since writes nothing and answers the one in force.
    let rotation = |expected: &str, secret: &str| SecretRotation {
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        webhook_id: refused.id.clone(),
        expected: expected.into(),
        secret: secret.into(),
        at: t0() + Duration::seconds(1),
    };
    let won = store.rotate_webhook_secret(rotation(&refused.secret, "whsec_winner"), vec![]).await.unwrap();
    assert_eq!(won.secret, "whsec_winner");
    let lost = store.rotate_webhook_secret(rotation(&refused.secret, "whsec_loser"), vec![]).await.unwrap();
    assert_eq!(lost.secret, "whsec_winner");
    let gone = SecretRotation { webhook_id: "webhook_missing".into(), ..rotation("x", "y") };
    assert!(matches!(store.rotate_webhook_secret(gone, vec![]).await, Err(StoreError::NotFound(_))));

    // Secrets written through the store are not listed as unencrypted; replacing is compare-and-set.
    let stored = store.stored_secrets().await.unwrap();
    let mine = stored.iter().find(|s| s.webhook_id == refused.id).unwrap().clone();
    assert_eq!((mine.secret.as_str(), mine.encrypted), ("whsec_winner", true));
    assert_eq!(stored.len(), 4, "deleted webhooks' secrets are listed too");
    let change =
        |from: &str, to: &str| SecretChange { webhook_id: refused.id.clone(), from: from.into(), to: to.into() };
    assert_eq!(
        store.replace_secrets(vec![change("whsec_stale", "x"), change("whsec_winner", "enc")]).await.unwrap(),
        1
    );
    assert_eq!(store.get_webhook(&m.id, &a.partner_id, &refused.id).await.unwrap().unwrap().secret, "enc");
}

pub async fn leases_are_renewed_only_by_their_holder(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let w = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    let l = listing(&m.id, &a.partner_id, "Leased", ListingStatus::Draft, t0());
    let ev = event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id));
    store.create_listings(vec![l], vec![ev]).await.unwrap();
    let d = store.claim_deliveries(&claim(t0(), "w1")).await.unwrap().remove(0);
    let held = vec![(d.id.clone(), d.attempt)];
    // Renewed before it ran out: still held past the first lease's end.
    let until = t0() + Duration::seconds(120);
    assert_eq!(store.renew_claims("w1", &held, until).await.unwrap(), vec![d.id.clone()]);
    assert!(store.claim_deliveries(&claim(t0() + Duration::seconds(90), "w2")).await.unwrap().is_empty());
    assert!(store.renew_claims("w2", &held, until).await.unwrap().is_empty(), "only the holder renews");
    assert!(store.renew_claims("w1", &[(d.id.clone(), d.attempt + 1)], until).await.unwrap().is_empty());
    // Once it ran out and was claimed again, the old holder can neither renew nor finish.
    let stolen = store.claim_deliveries(&claim(until + Duration::seconds(1), "w2")).await.unwrap();
    assert_eq!((stolen.len(), stolen[0].attempt), (1, d.attempt));
    assert!(store.renew_claims("w1", &held, until + Duration::seconds(300)).await.unwrap().is_empty());
    let finished = AttemptResult {
        delivery_id: d.id.clone(),
        claimer: "w1".into(),
        attempt: d.attempt,
        attempted_at: t0(),
        status_code: Some(200),
        latency_ms: 1,
        error: None,
        next: AttemptNext::Delivered,
    };
    assert!(!store.finish_attempt(finished.clone()).await.unwrap());
    assert!(store.finish_attempt(AttemptResult { claimer: "w2".into(), ..finished }).await.unwrap());
    assert!(store.renew_claims("w2", &held, until).await.unwrap().is_empty(), "a finished attempt is not renewed");
}

pub async fn attempts_are_fenced_retried_and_logged(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let w = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    let l = listing(&m.id, &a.partner_id, "Suite", ListingStatus::Draft, t0());
    store
        .create_listings(vec![l.clone()], vec![event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    let d = store.claim_deliveries(&claim(t0(), "w1")).await.unwrap().remove(0);
    let result = |claimer: &str, attempt, next| AttemptResult {
        delivery_id: d.id.clone(),
        claimer: claimer.into(),
        attempt,
        attempted_at: t0(),
        status_code: Some(500),
        latency_ms: 12,
        error: Some("HTTP 500".into()),
        next,
    };
    let retry_at = t0() + Duration::seconds(5);
    assert!(!store.finish_attempt(result("w2", 1, AttemptNext::RetryAt(retry_at))).await.unwrap(), "not the claimer");
    assert!(store.finish_attempt(result("w1", 1, AttemptNext::RetryAt(retry_at))).await.unwrap());
    assert!(
        !store.finish_attempt(result("w1", 1, AttemptNext::RetryAt(retry_at))).await.unwrap(),
        "an attempt is recorded once"
    );
    assert!(store.claim_deliveries(&claim(t0() + Duration::seconds(4), "w1")).await.unwrap().is_empty(), "not yet due");
    let again = store.claim_deliveries(&claim(retry_at, "w2")).await.unwrap();
    assert_eq!((again.len(), again[0].attempt), (1, 2));
    // A lease that runs out makes the delivery claimable by someone else, at the same attempt.
    let later = retry_at + Duration::seconds(61);
    let stolen = store.claim_deliveries(&claim(later, "w3")).await.unwrap();
    assert_eq!((stolen.len(), stolen[0].attempt), (1, 2));
    assert!(
        !store.finish_attempt(result("w2", 2, AttemptNext::Delivered)).await.unwrap(),
        "the old claim is fenced off"
    );
    let mut ok = result("w3", 2, AttemptNext::Delivered);
    ok.status_code = Some(200);
    ok.error = None;
    assert!(store.finish_attempt(ok).await.unwrap());
    assert!(store.claim_deliveries(&claim(later + Duration::days(1), "w1")).await.unwrap().is_empty());

    let (log, total) = store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 20).await.unwrap().pair();
    assert_eq!(total, 1);
    assert_eq!((log[0].status.as_str(), log[0].attempts, log[0].last_status_code), ("delivered", 2, Some(200)));
    assert_eq!(log[0].log.len(), 2);
    assert_eq!((log[0].log[0].status_code, log[0].log[0].next_retry_at), (Some(500), Some(retry_at)));
    assert_eq!(log[0].log[1].error, None);

    // Redelivery: a fresh delivery of the same event.
    let again = store.redeliver(&m.id, &a.partner_id, &w.id, &d.id, "dlv_redo", later).await.unwrap();
    assert_eq!(
        (again.status.as_str(), again.redelivery_of.as_deref(), again.event_id.clone()),
        ("pending", Some(d.id.as_str()), d.event_id.clone())
    );
    let claimed = store.claim_deliveries(&claim(later, "w1")).await.unwrap();
    assert_eq!((claimed[0].id.as_str(), claimed[0].attempt), ("dlv_redo", 1));
    assert!(matches!(
        store.redeliver(&m.id, "partner_other", &w.id, &d.id, "dlv_x", later).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.redeliver(&m.id, &a.partner_id, "webhook_other", &d.id, "dlv_y", later).await,
        Err(StoreError::NotFound(_))
    ));
}

/// A claim takes the oldest due deliveries of every endpoint it may send to, at most
/// `per_webhook` of each; an endpoint left out, however long its backlog, hides no other's.
pub async fn claims_take_each_endpoints_oldest_and_skip_those_left_out(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let busy = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    let quiet = webhook(&m.id, &b.partner_id, &["listing.created"], true);
    store.create_webhook(busy.clone(), 20, vec![]).await.unwrap();
    store.create_webhook(quiet.clone(), 20, vec![]).await.unwrap();
    let created = |partner: &str, name: String, secs: i64| {
        // The event and its deliveries are due at the listing's creation.
        let l = listing(&m.id, partner, &name, ListingStatus::Draft, t0() + Duration::seconds(secs));
        let e = event(types::LISTING_CREATED, "listing", &l.id, Some(partner));
        (l, e)
    };
    for i in 0..12 {
        let (l, e) = created(&a.partner_id, format!("Busy {i}"), i);
        store.create_listings(vec![l], vec![e]).await.unwrap();
    }
    for i in 0..2 {
        let (l, e) = created(&b.partner_id, format!("Quiet {i}"), 20 + i);
        store.create_listings(vec![l], vec![e]).await.unwrap();
    }
    let now = t0() + Duration::hours(1);
    let of = |claimed: &[ClaimedDelivery]| claimed.iter().map(|d| d.webhook_id.clone()).collect::<Vec<_>>();

    let mut left_out = claim(now, "w1");
    (left_out.limit, left_out.exclude_webhooks) = (5, vec![busy.id.clone()]);
    let first = store.claim_deliveries(&left_out).await.unwrap();
    assert_eq!(of(&first), [quiet.id.clone(), quiet.id.clone()], "the busy backlog hides nothing");

    let mut capped = claim(now, "w2");
    (capped.limit, capped.per_webhook) = (4, 3);
    let second = store.claim_deliveries(&capped).await.unwrap();
    assert_eq!(of(&second), [busy.id.clone(), busy.id.clone(), busy.id.clone()], "per_webhook; held rows skipped");
    let times: Vec<_> = second.iter().map(|d| d.occurred_at).collect();
    assert_eq!(times, (0..3).map(|i| t0() + Duration::seconds(i)).collect::<Vec<_>>(), "oldest first");

    let rest = store.claim_deliveries(&claim(now, "w3")).await.unwrap();
    assert_eq!(rest.len(), 9);
    assert!(rest.iter().all(|d| d.webhook_id == busy.id));
    assert!(rest.windows(2).all(|w| w[0].occurred_at < w[1].occurred_at), "oldest first");
    assert!(store.claim_deliveries(&claim(now, "w4")).await.unwrap().is_empty(), "every due row is held");
}

pub async fn gone_disables_the_webhook_and_cancels_its_deliveries(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let w = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    for i in 0..3 {
        let l = listing(&m.id, &a.partner_id, &format!("L{i}"), ListingStatus::Draft, t0());
        store
            .create_listings(
                vec![l.clone()],
                vec![event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id))],
            )
            .await
            .unwrap();
    }
    let mut c = claim(t0(), "w1");
    c.per_webhook = 1;
    let first = store.claim_deliveries(&c).await.unwrap();
    assert_eq!(first.len(), 1, "at most per_webhook of one webhook");
    let mut excluded = claim(t0(), "w1");
    excluded.exclude_webhooks = vec![w.id.clone()];
    assert!(store.claim_deliveries(&excluded).await.unwrap().is_empty());
    let gone = AttemptResult {
        delivery_id: first[0].id.clone(),
        claimer: "w1".into(),
        attempt: 1,
        attempted_at: t0(),
        status_code: Some(410),
        latency_ms: 3,
        error: Some("HTTP 410".into()),
        next: AttemptNext::DisableWebhook,
    };
    assert!(store.finish_attempt(gone).await.unwrap());
    assert!(!store.get_webhook(&m.id, &a.partner_id, &w.id).await.unwrap().unwrap().active);
    assert!(store.claim_deliveries(&claim(t0() + Duration::hours(1), "w1")).await.unwrap().is_empty());
    let (log, _) = store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 20).await.unwrap().pair();
    let mut statuses: Vec<&str> = log.iter().map(|d| d.status.as_str()).collect();
    statuses.sort();
    assert_eq!(statuses, vec!["cancelled", "cancelled", "failed"]);
    // A disabled webhook gets no new deliveries at all.
    let l = listing(&m.id, &a.partner_id, "After", ListingStatus::Draft, t0());
    store
        .create_listings(vec![l.clone()], vec![event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    assert_eq!(store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 20).await.unwrap().pair().1, 3);
    // Released claims come back at once.
    let w2 = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    store.create_webhook(w2.clone(), 20, vec![]).await.unwrap();
    let l = listing(&m.id, &a.partner_id, "L", ListingStatus::Draft, t0());
    store
        .create_listings(vec![l.clone()], vec![event(types::LISTING_CREATED, "listing", &l.id, Some(&a.partner_id))])
        .await
        .unwrap();
    let got = store.claim_deliveries(&claim(t0(), "w1")).await.unwrap();
    store.release_deliveries(&[got[0].id.clone()], "w1").await.unwrap();
    assert_eq!(store.claim_deliveries(&claim(t0(), "w2")).await.unwrap().len(), 1);
}

pub async fn test_deliveries_are_logged(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let w = webhook(&m.id, &a.partner_id, &["listing.created"], true);
    store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    let d = DeliveryRecord {
        id: "dlv_test1".into(),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        webhook_id: w.id.clone(),
        event_id: "evt_test_1".into(),
        event_type: "listing.updated".into(),
        is_test: true,
        status: "delivered".into(),
        attempts: 1,
        next_attempt_at: None,
        last_status_code: Some(204),
        last_error: None,
        redelivery_of: None,
        created_at: t0(),
        completed_at: Some(t0()),
        log: vec![AttemptRecord {
            attempt: 1,
            attempted_at: t0(),
            status_code: Some(204),
            latency_ms: 7,
            error: None,
            next_retry_at: None,
        }],
    };
    store.record_test_delivery(d.clone()).await.unwrap();
    let (log, total) = store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 20).await.unwrap().pair();
    assert_eq!((total, log[0].clone()), (1, d));
    assert!(
        store.claim_deliveries(&claim(t0() + Duration::days(1), "w1")).await.unwrap().is_empty(),
        "tests are not retried"
    );
}

// Round trips: every field of every record written with a value other than its default and
// read back equal, so a column missing from a declaration, or an encoding one backend gets
// wrong, fails here.

/// An instant with milliseconds (SQLite's precision) that are not zero.
fn odd_time(days: i64) -> DateTime<Utc> {
    t0() + Duration::days(days) + Duration::milliseconds(123)
}

pub async fn every_opportunity_field_round_trips(store: &dyn Store) {
    let m = marketplace(store).await;
    let a = new_partner(&m.id, "a@acme.com");
    let b = NewPartner { company_name: "Beta GmbH".into(), ..new_partner(&m.id, "b@beta.com") };
    store.create_partner(a.clone()).await.unwrap();
    store.create_partner(b.clone()).await.unwrap();
    let o = OpportunityRecord {
        id: new_id("opp"),
        marketplace_id: m.id.clone(),
        owner_partner_id: a.partner_id.clone(),
        owner_company_name: a.company_name.clone(),
        cosell_partner_id: b.partner_id.clone(),
        cosell_company_name: b.company_name.clone(),
        customer_name: "Ünïcode \"Customer\" 'Ltd'".into(),
        deal_value_cents: 9_007_199_254_740_993,
        currency: "EUR".into(),
        description: "Line one\nline two; DROP TABLE x; $1 ?1".into(),
        expected_close_date: chrono::NaiveDate::from_ymd_opt(2031, 12, 31),
        status: OpportunityStatus::Won,
        notes: "Closed after the second call".into(),
        created_by: "user_creator".into(),
        created_at: odd_time(1),
        updated_at: odd_time(2),
        closed_at: Some(odd_time(3)),
        version: 7,
    };
    store.create_opportunity(o.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_opportunity(&m.id, &b.partner_id, &o.id).await.unwrap(), Some(o.clone()));
    let next = OpportunityRecord {
        customer_name: "Renamed".into(),
        deal_value_cents: 1,
        currency: "GBP".into(),
        description: String::new(),
        expected_close_date: None,
        status: OpportunityStatus::Lost,
        notes: "Lost on price".into(),
        updated_at: odd_time(4),
        closed_at: Some(odd_time(4)),
        version: 8,
        ..o.clone()
    };
    store.update_opportunity(next.clone(), 7, vec![]).await.unwrap();
    let page = store
        .list_opportunities(&m.id, &a.partner_id, &OpportunityFilter::default(), &Window::Offset(0), 10)
        .await
        .unwrap();
    assert_eq!(page.items, vec![next.clone()]);
    let moved = OpportunityRecord { owner_partner_id: b.partner_id.clone(), version: 9, ..next };
    assert!(
        matches!(store.update_opportunity(moved, 8, vec![]).await, Err(StoreError::Conflict(_))),
        "the parties are guarded"
    );
}

pub async fn every_listing_and_draft_field_round_trips(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let l = ListingRecord {
        id: new_id("listing"),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        content: ListingContent {
            title: "Tïtle with \"quotes\"".into(),
            short_description: "Short, with a comma".into(),
            long_description: "Long\n\ntext".into(),
            highlights: vec!["One, two".into(), "\"Three\"".into(), String::new()],
            categories: vec!["Security".into(), "Observability".into()],
            keywords: vec!["siem".into(), "soc".into()],
            images: vec!["https://x.io/1.png".into(), "https://x.io/2.png".into()],
            logo_url: Some("https://x.io/logo.svg".into()),
            pricing_model: "usage_based".into(),
            marketplace: "gcp".into(),
            product_id: Some("prod_42".into()),
        },
        status: ListingStatus::Active,
        seo_score: 87,
        version: 4,
        created_at: odd_time(1),
        updated_at: odd_time(2),
    };
    store.create_listings(vec![l.clone()], vec![]).await.unwrap();
    assert_eq!(store.get_listing(&m.id, &a.partner_id, &l.id).await.unwrap(), Some(l.clone()));
    let next = ListingRecord {
        content: ListingContent {
            title: "New".into(),
            highlights: vec![],
            logo_url: None,
            product_id: None,
            ..l.content.clone()
        },
        status: ListingStatus::Archived,
        seo_score: 3,
        version: 5,
        updated_at: odd_time(3),
        ..l.clone()
    };
    store.update_listing(next.clone(), 4, vec![]).await.unwrap();
    let page =
        store.list_listings(&m.id, &a.partner_id, Some(ListingStatus::Archived), &Window::Offset(0), 10).await.unwrap();
    assert_eq!((page.total, page.items), (1, vec![next.clone()]));
    let d = DraftRecord {
        id: new_id("draft"),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        listing_id: l.id.clone(),
        title: "Draft title".into(),
        short_description: "Draft short".into(),
        long_description: "Draft long".into(),
        highlights: vec!["H1".into(), "H2".into()],
        keywords: vec!["k1".into()],
        seo_score: 91,
        published_at: Some(odd_time(5)),
        created_at: odd_time(4),
    };
    store.create_draft(d.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_draft(&m.id, &a.partner_id, &d.id).await.unwrap(), Some(d.clone()));
    assert_eq!(store.list_drafts(&m.id, &a.partner_id, &l.id).await.unwrap(), vec![d]);
    let top = store.top_listings(&m.id, &a.partner_id, 5).await.unwrap();
    assert!(top.is_empty(), "archived listings are not among the best");
}

pub async fn every_report_field_round_trips(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let r = ReportRecord {
        id: new_id("report"),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        report_type: "performance".into(),
        period: "2025-01".into(),
        period_start: odd_time(-14),
        period_end: odd_time(17),
        trigger: "scheduled".into(),
        data: json!({ "nested": { "list": [1, 2.5, "three", null, true] }, "unicode": "é" }),
        created_at: odd_time(18),
    };
    assert!(store.create_report(r.clone(), vec![]).await.unwrap());
    assert_eq!(store.get_report(&m.id, &a.partner_id, &r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(store.list_reports(&m.id, &a.partner_id, &Window::Offset(0), 10).await.unwrap().pair(), (vec![r], 1));
}

pub async fn every_webhook_and_delivery_field_round_trips(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let w = WebhookRecord {
        created_at: odd_time(1),
        updated_at: odd_time(2),
        ..webhook(&m.id, &a.partner_id, &["listing.updated", "opportunity.created"], false)
    };
    store.create_webhook(w.clone(), 20, vec![]).await.unwrap();
    assert_eq!(store.get_webhook(&m.id, &a.partner_id, &w.id).await.unwrap(), Some(w.clone()));
    let updated = WebhookRecord {
        url: "https://hooks.example.com/renamed".into(),
        events: vec!["listing.created".into()],
        active: true,
        updated_at: odd_time(3),
        ..w.clone()
    };
    // An update never writes the secret: only a rotation does.
    store.update_webhook(WebhookRecord { secret: "whsec_ignored".into(), ..updated.clone() }, vec![]).await.unwrap();
    assert_eq!(store.list_webhooks(&m.id, &a.partner_id).await.unwrap(), vec![updated.clone()]);
    let rotation = SecretRotation {
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        webhook_id: w.id.clone(),
        expected: w.secret.clone(),
        secret: "whsec_rotated".into(),
        at: odd_time(4),
    };
    let rotated = WebhookRecord { secret: "whsec_rotated".into(), updated_at: odd_time(4), ..updated };
    assert_eq!(store.rotate_webhook_secret(rotation, vec![]).await.unwrap(), rotated);
    assert_eq!(store.list_webhooks(&m.id, &a.partner_id).await.unwrap(), vec![rotated]);
    let d = DeliveryRecord {
        id: new_id("dlv"),
        marketplace_id: m.id.clone(),
        partner_id: a.partner_id.clone(),
        webhook_id: w.id.clone(),
        event_id: "evt_round_trip".into(),
        event_type: "listing.updated".into(),
        is_test: true,
        status: "failed".into(),
        attempts: 2,
        next_attempt_at: Some(odd_time(4)),
        last_status_code: Some(503),
        last_error: Some("upstream \"busy\"".into()),
        redelivery_of: Some("dlv_original".into()),
        created_at: odd_time(3),
        completed_at: Some(odd_time(5)),
        log: vec![
            AttemptRecord {
                attempt: 1,
                attempted_at: odd_time(3),
                status_code: None,
                latency_ms: 15_000,
                error: Some("timed out".into()),
                next_retry_at: Some(odd_time(4)),
            },
            AttemptRecord {
                attempt: 2,
                attempted_at: odd_time(4),
                status_code: Some(503),
                latency_ms: 42,
                error: Some("upstream \"busy\"".into()),
                next_retry_at: None,
            },
        ],
    };
    store.record_test_delivery(d.clone()).await.unwrap();
    assert_eq!(
        store.list_deliveries(&m.id, &a.partner_id, &w.id, &Window::Offset(0), 10).await.unwrap().pair(),
        (vec![d], 1)
    );
}

pub async fn every_key_partner_and_event_field_round_trips(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let k = NewApiKey {
        allowed_ips: vec!["10.0.0.0/8".into(), "2001:db8::1".into()],
        expires_at: Some(odd_time(30)),
        name: "ci, \"deploy\"".into(),
        created_at: odd_time(1),
        ..key(&m.id, &a.user_id, &a.company_id, t0())
    };
    let mut ev = event(types::API_KEY_CREATED, "api_key", &k.id, Some(&a.partner_id));
    ev.related_partner_id = Some(b.partner_id.clone());
    ev.actor_user_id = Some(a.user_id.clone());
    ev.payload = json!({ "ips": k.allowed_ips, "n": 1.5 });
    store.create_key(k.clone(), vec![ev.clone()]).await.unwrap();
    let listed = store.list_keys(&m.id, &a.user_id).await.unwrap();
    let expected = ApiKeyRecord {
        id: k.id.clone(),
        user_id: k.user_id.clone(),
        company_id: k.company_id.clone(),
        name: k.name.clone(),
        display_prefix: k.display_prefix.clone(),
        allowed_ips: k.allowed_ips.clone(),
        expires_at: k.expires_at,
        revoked_at: None,
        created_at: k.created_at,
    };
    assert_eq!(listed.iter().find(|x| x.id == k.id), Some(&expected));
    let partner = PartnerRecord {
        id: a.partner_id.clone(),
        marketplace_id: m.id.clone(),
        company_id: a.company_id.clone(),
        company_name: a.company_name.clone(),
        contact_email: a.contact_email.clone(),
        plan: a.plan.clone(),
        aws_account_connected: false,
        suspended_at: None,
        created_at: a.created_at,
    };
    assert_eq!(store.get_partner(&m.id, &a.partner_id).await.unwrap(), Some(partner.clone()));
    let auth = KeyAuth {
        key_id: k.id.clone(),
        marketplace_id: m.id.clone(),
        user_id: a.user_id.clone(),
        user_email: a.contact_email.clone(),
        company_id: a.company_id.clone(),
        roles: a.roles.clone(),
        secret_hash: k.secret_hash.clone(),
        allowed_ips: k.allowed_ips.clone(),
        expires_at: k.expires_at,
        revoked_at: None,
        sandbox_expires_at: None,
        partner: Some(partner),
    };
    assert_eq!(store.find_key_for_auth(&k.id).await.unwrap(), Some(auth));
    let membership =
        Membership { company_id: a.company_id.clone(), roles: a.roles.clone(), partner_id: Some(a.partner_id.clone()) };
    assert_eq!(store.memberships(&m.id, &a.user_id).await.unwrap(), vec![membership]);
    let revoked = store.revoke_key(&m.id, &k.id, odd_time(2), event(types::API_KEY_REVOKED, "api_key", &k.id, None));
    assert_eq!(revoked.await.unwrap(), ApiKeyRecord { revoked_at: Some(odd_time(2)), ..expected });
    let logged = store.events_for_subject(&m.id, &k.id).await.unwrap();
    let first = &logged[0];
    assert_eq!(
        (
            first.marketplace_id.as_str(),
            first.event_type.as_str(),
            first.subject_type.as_str(),
            first.subject_id.as_str(),
            first.partner_id.as_ref(),
            first.related_partner_id.as_ref(),
            first.actor_user_id.as_ref(),
            &first.payload,
            first.occurred_at,
        ),
        (
            m.id.as_str(),
            ev.event_type,
            ev.subject_type,
            ev.subject_id.as_str(),
            ev.partner_id.as_ref(),
            ev.related_partner_id.as_ref(),
            ev.actor_user_id.as_ref(),
            &ev.payload,
            k.created_at,
        )
    );
    assert!(first.id.starts_with("evt_") && first.seq > 0 && logged[1].seq > first.seq);
    assert_eq!(
        store.events_recorded_since(first.recorded_at, &[types::API_KEY_CREATED]).await.unwrap().first(),
        Some(first)
    );
}

fn idempotency_claim(scope: &str, key: &str, fingerprint: &str, at: DateTime<Utc>) -> IdempotencyRecord {
    IdempotencyRecord {
        scope: scope.into(),
        key: key.into(),
        fingerprint: fingerprint.into(),
        claim_token: new_id("claim"),
        created_at: at,
        locked_until: at + Duration::seconds(60),
        expires_at: at + Duration::hours(24),
        response: None,
    }
}

fn idempotent_response() -> IdempotentResponse {
    IdempotentResponse {
        status: 201,
        headers: vec!["content-type".into(), "application/json".into(), "location".into(), "/x/1".into()],
        body: b"{\"id\":\"x\x00\xff\"}".to_vec(),
    }
}

pub async fn idempotency_keys_are_claimed_once_then_replayed(store: &dyn Store) {
    let t = t0();
    // Six claimants at once: exactly one holds the key.
    let claims: Vec<IdempotencyRecord> = (0..6).map(|_| idempotency_claim("m/partner:a", "k1", "f1", t)).collect();
    let claim = |i: usize| store.claim_idempotency_key(&claims[i], t);
    let (r0, r1, r2, r3, r4, r5) = tokio::join!(claim(0), claim(1), claim(2), claim(3), claim(4), claim(5));
    let outcomes: Vec<Option<IdempotencyRecord>> = [r0, r1, r2, r3, r4, r5].into_iter().map(Result::unwrap).collect();
    let winners: Vec<usize> = outcomes.iter().enumerate().filter(|(_, o)| o.is_none()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let first = &claims[winners[0]];
    for held in outcomes.iter().flatten() {
        assert_eq!(held, first, "the others see the holder's claim, every field");
    }
    // Another scope's same key is another key.
    assert_eq!(store.claim_idempotency_key(&idempotency_claim("m/partner:b", "k1", "f1", t), t).await.unwrap(), None);

    let response = idempotent_response();
    let other = &claims[(winners[0] + 1) % claims.len()];
    assert!(!store.complete_idempotency_key(&first.scope, &first.key, &other.claim_token, &response).await.unwrap());
    assert!(store.complete_idempotency_key(&first.scope, &first.key, &first.claim_token, &response).await.unwrap());
    assert!(
        !store.complete_idempotency_key(&first.scope, &first.key, &first.claim_token, &response).await.unwrap(),
        "completed once"
    );
    // A completed key is not released, and later claims (even after the lock would have
    // lapsed) find the stored response.
    store.release_idempotency_key(&first.scope, &first.key, &first.claim_token).await.unwrap();
    let later = t + Duration::hours(2);
    let held = store.claim_idempotency_key(&idempotency_claim("m/partner:a", "k1", "f2", later), later).await.unwrap();
    assert_eq!(held, Some(IdempotencyRecord { response: Some(response), ..first.clone() }));
}

pub async fn idempotency_claims_lapse_are_released_and_expire(store: &dyn Store) {
    let t = t0();
    let first = idempotency_claim("m/operator:c", "k", "f1", t);
    assert_eq!(store.claim_idempotency_key(&first, t).await.unwrap(), None);
    let soon = t + Duration::seconds(59);
    let held = store.claim_idempotency_key(&idempotency_claim("m/operator:c", "k", "f1", soon), soon).await.unwrap();
    assert_eq!(held.map(|h| h.claim_token), Some(first.claim_token.clone()), "still locked");
    // The first claimant never finished: after its lock the key is usable again.
    let lapsed = t + Duration::seconds(60);
    let second = idempotency_claim("m/operator:c", "k", "f2", lapsed);
    assert_eq!(store.claim_idempotency_key(&second, lapsed).await.unwrap(), None);
    assert!(
        !store.complete_idempotency_key("m/operator:c", "k", &first.claim_token, &idempotent_response()).await.unwrap(),
        "the lapsed claimant cannot complete the key it lost"
    );
    // A released claim frees the key at once; releasing someone else's claim does nothing.
    store.release_idempotency_key("m/operator:c", "k", &first.claim_token).await.unwrap();
    let third = idempotency_claim("m/operator:c", "k", "f3", lapsed);
    assert!(store.claim_idempotency_key(&third, lapsed).await.unwrap().is_some());
    store.release_idempotency_key("m/operator:c", "k", &second.claim_token).await.unwrap();
    assert_eq!(store.claim_idempotency_key(&third, lapsed).await.unwrap(), None);
    assert!(
        store.complete_idempotency_key("m/operator:c", "k", &third.claim_token, &idempotent_response()).await.unwrap()
    );

    // Completed keys expire 24 hours after their claim: purged, then claimable anew.
    let other = idempotency_claim("m/operator:c", "other", "f", t + Duration::hours(1));
    assert_eq!(store.claim_idempotency_key(&other, other.created_at).await.unwrap(), None);
    assert_eq!(store.purge_idempotency_keys(third.expires_at - Duration::seconds(1)).await.unwrap(), 0);
    let fresh = idempotency_claim("m/operator:c", "k", "f4", third.expires_at);
    assert!(store.claim_idempotency_key(&fresh, third.expires_at).await.unwrap().is_none(), "expired: taken over");
    assert_eq!(store.purge_idempotency_keys(other.expires_at).await.unwrap(), 1, "only the expired one");
    assert_eq!(store.purge_idempotency_keys(fresh.expires_at).await.unwrap(), 1);
}

/// A lead with every field set.
pub fn lead(marketplace_id: &str, lead_type: partnerd_domain::lead::LeadType, owner: Option<&str>) -> LeadRecord {
    use partnerd_domain::lead::LeadStatus;
    let id = new_id("lead");
    LeadRecord {
        id,
        marketplace_id: marketplace_id.into(),
        lead_type,
        status: LeadStatus::Submitted,
        partner: "PARTNERD".into(),
        customer: json!({ "company": { "name": "Acme" }, "contact": { "email": "john@acme.example" } }),
        customer_company_name: "Acme".into(),
        search_text: "acme john@acme.example".into(),
        notes: Some("call soon".into()),
        custom_attributes: json!({ "tier": ["gold"] }),
        owner_company_id: owner.map(Into::into),
        creator_user_id: Some("user_creator".into()),
        creator_company_id: owner.map(Into::into),
        creator_company_name: Some("Creator Co".into()),
        creator_role: Some("RESELLER".into()),
        reseller_user_id: Some("user_reseller".into()),
        reseller_company_id: owner.map(Into::into),
        profile_company_id: Some("company_profile".into()),
        profile_company_name: Some("Profile Co".into()),
        profile_product: Some(json!({ "id": "p1", "name": "App", "provider": "ACME" })),
        profile_edition: Some(json!({ "id": "e1", "name": "Pro" })),
        referrer: json!({ "participantType": "CHANNEL", "partner": "PARTNERD" }),
        recipient_company_id: None,
        recipient_company_name: None,
        converted_company_id: Some("company_x".into()),
        converted_company_name: Some("X".into()),
        converted_user_id: Some("user_x".into()),
        created_at: t0(),
        updated_at: t0() + Duration::seconds(1),
        version: 1,
    }
}

pub async fn every_lead_field_round_trips(store: &dyn Store) {
    let m = marketplace(store).await;
    let l = lead(&m.id, partnerd_domain::lead::LeadType::Manual, Some("company_a"));
    store.create_lead(l.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_lead(&m.id, &l.id).await.unwrap(), Some(l.clone()));
    let mut bare = lead(&m.id, partnerd_domain::lead::LeadType::Product, None);
    (bare.notes, bare.creator_user_id, bare.creator_company_name, bare.creator_role) = (None, None, None, None);
    (bare.profile_product, bare.profile_edition, bare.converted_company_id) = (None, None, None);
    store.create_lead(bare.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_lead(&m.id, &bare.id).await.unwrap(), Some(bare));
    assert_eq!(store.get_lead("mkt_other", &l.id).await.unwrap(), None, "scoped by marketplace");
}

pub async fn leads_are_listed_as_their_viewer_sees_them(store: &dyn Store) {
    use partnerd_domain::lead::{LeadStatus, LeadType};
    let m = marketplace(store).await;
    let mut own = lead(&m.id, LeadType::Manual, Some("company_a"));
    own.customer_company_name = "beta".into();
    own.search_text = "beta jane".into();
    let mut assigned = lead(&m.id, LeadType::Manual, Some("company_b"));
    assigned.recipient_company_id = Some("company_a".into());
    assigned.status = LeadStatus::Assigned;
    assigned.created_at = t0() + Duration::seconds(5);
    let mut profile = lead(&m.id, LeadType::Company, Some("company_c"));
    profile.customer_company_name = "aaron".into();
    profile.created_at = t0() + Duration::seconds(10);
    let product = lead(&m.id, LeadType::Product, None);
    for l in [&own, &assigned, &profile, &product] {
        store.create_lead(l.clone(), vec![event(types::LEAD_CREATED, "lead", &l.id, None)]).await.unwrap();
    }
    let filter = |viewer: &str, manager: bool| LeadFilter {
        viewer_company_id: viewer.into(),
        manager,
        statuses: vec![],
        from: None,
        to: None,
        search: None,
        sort: LeadSort::Date,
        order: SortOrder::Desc,
    };
    let ids = |rows: &[LeadRecord]| rows.iter().map(|l| l.id.clone()).collect::<Vec<_>>();
    let (rows, total) =
        store.list_leads(&m.id, &filter("company_a", false), &Window::Offset(0), 10).await.unwrap().pair();
    assert_eq!((ids(&rows), total), (vec![assigned.id.clone(), own.id.clone()], 2));
    let (rows, total) =
        store.list_leads(&m.id, &filter("company_m", true), &Window::Offset(0), 10).await.unwrap().pair();
    assert_eq!(total, 2, "a manager sees the profile leads, not others' manual ones");
    assert!(ids(&rows).contains(&profile.id) && ids(&rows).contains(&product.id));
    let (rows, total) =
        store.list_leads(&m.id, &filter("company_a", false), &Window::Offset(1), 1).await.unwrap().pair();
    assert_eq!((ids(&rows), total), (vec![own.id.clone()], 2), "the total counts every page");

    let f = LeadFilter { statuses: vec![LeadStatus::Assigned, LeadStatus::Converted], ..filter("company_a", false) };
    assert_eq!(
        ids(&store.list_leads(&m.id, &f, &Window::Offset(0), 10).await.unwrap().pair().0),
        vec![assigned.id.clone()]
    );
    let f = LeadFilter { search: Some("JANE".into()), ..filter("company_a", false) };
    assert_eq!(ids(&store.list_leads(&m.id, &f, &Window::Offset(0), 10).await.unwrap().pair().0), vec![own.id.clone()]);
    let f = LeadFilter { search: Some("%".into()), ..filter("company_a", false) };
    assert_eq!(
        store.list_leads(&m.id, &f, &Window::Offset(0), 10).await.unwrap().pair().1,
        0,
        "LIKE wildcards are literal"
    );
    let f = LeadFilter { from: Some(t0() + Duration::seconds(1)), ..filter("company_a", false) };
    assert_eq!(
        ids(&store.list_leads(&m.id, &f, &Window::Offset(0), 10).await.unwrap().pair().0),
        vec![assigned.id.clone()]
    );
    let f = LeadFilter { to: Some(t0()), ..filter("company_a", false) };
    assert_eq!(ids(&store.list_leads(&m.id, &f, &Window::Offset(0), 10).await.unwrap().pair().0), vec![own.id.clone()]);
    let f = LeadFilter { sort: LeadSort::CompanyName, order: SortOrder::Asc, ..filter("company_m", true) };
    let (rows, _) = store.list_leads(&m.id, &f, &Window::Offset(0), 10).await.unwrap().pair();
    assert_eq!(ids(&rows), vec![profile.id.clone(), product.id.clone()], "by company name, case-insensitively");
    assert_eq!(
        store.list_leads("mkt_other", &filter("company_a", false), &Window::Offset(0), 10).await.unwrap().pair().1,
        0
    );

    // Updates name the version they read.
    let mut next = own.clone();
    next.status = LeadStatus::Deleted;
    next.version = 2;
    store.update_lead(next.clone(), 1, vec![]).await.unwrap();
    assert_eq!(store.get_lead(&m.id, &own.id).await.unwrap(), Some(next.clone()));
    let mut stale = own.clone();
    stale.version = 2;
    assert!(matches!(store.update_lead(stale, 1, vec![]).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_lead(&m.id, &own.id).await.unwrap(), Some(next));
}

/// The Leads list's totals without a date or text filter come from `lead_counts`; with one,
/// from a scan of the leads. After every kind of write (create, status move, reassignment,
/// a refused stale write) both agree, for an owner, an assignee, a manager and status filters.
pub async fn lead_totals_follow_every_write(store: &dyn Store) {
    use partnerd_domain::lead::{LeadStatus, LeadType};
    let m = marketplace(store).await;
    let agree = |expected: &'static [u64]| lead_totals_agree(store, m.id.clone(), expected);
    agree(&[0, 0, 0, 0, 0, 0, 0, 0, 0]).await;
    let mut manual = lead(&m.id, LeadType::Manual, Some("company_a"));
    manual.status = LeadStatus::Submitted;
    let mut profile = lead(&m.id, LeadType::Company, Some("company_c"));
    profile.status = LeadStatus::Assigned;
    profile.recipient_company_id = Some("company_c".into());
    for l in [&manual, &profile] {
        store.create_lead(l.clone(), vec![]).await.unwrap();
    }
    // a: its manual lead; b: nothing; manager: the profile lead.
    agree(&[1, 0, 1, 0, 0, 0, 1, 1, 0]).await;
    // The manual lead is assigned to b: a still owns it, b sees it now.
    let mut next = manual.clone();
    (next.status, next.recipient_company_id, next.version) = (LeadStatus::Assigned, Some("company_b".into()), 2);
    store.update_lead(next.clone(), 1, vec![]).await.unwrap();
    agree(&[1, 1, 0, 1, 1, 0, 1, 1, 0]).await;
    // A stale write changes nothing, counters included.
    let mut stale = next.clone();
    (stale.status, stale.version) = (LeadStatus::Converted, 2);
    assert!(matches!(store.update_lead(stale, 1, vec![]).await, Err(StoreError::Conflict(_))));
    agree(&[1, 1, 0, 1, 1, 0, 1, 1, 0]).await;
    // Converted: the manager sees a converted manual lead too.
    let mut done = next.clone();
    (done.status, done.version) = (LeadStatus::Converted, 3);
    store.update_lead(done, 2, vec![]).await.unwrap();
    agree(&[1, 0, 1, 1, 0, 1, 2, 1, 1]).await;
    assert_eq!(
        store
            .list_leads("mkt_other", &lead_view("company_a", false, vec![]), &Window::Offset(0), 1)
            .await
            .unwrap()
            .pair()
            .1,
        0
    );
}

fn lead_view(viewer: &str, manager: bool, statuses: Vec<partnerd_domain::lead::LeadStatus>) -> LeadFilter {
    LeadFilter {
        viewer_company_id: viewer.into(),
        manager,
        statuses,
        from: None,
        to: None,
        search: None,
        sort: LeadSort::Date,
        order: SortOrder::Desc,
    }
}

/// Each view's total, counted (no date filter) and scanned (a date filter that keeps all) alike.
async fn lead_totals_agree(store: &dyn Store, m: String, expected: &[u64]) {
    use partnerd_domain::lead::LeadStatus;
    let mut got = Vec::new();
    for (viewer, manager) in [("company_a", false), ("company_b", false), ("company_m", true)] {
        for statuses in [vec![], vec![LeadStatus::Assigned], vec![LeadStatus::Submitted, LeadStatus::Converted]] {
            let f = lead_view(viewer, manager, statuses);
            let counted = store.list_leads(&m, &f, &Window::Offset(0), 1).await.unwrap().pair().1;
            let scanned = LeadFilter { from: Some(t0() - Duration::days(1)), ..f };
            assert_eq!(
                counted,
                store.list_leads(&m, &scanned, &Window::Offset(0), 1).await.unwrap().pair().1,
                "{viewer} {:?}",
                scanned.statuses
            );
            got.push(counted);
        }
    }
    assert_eq!(got, expected, "totals per view");
}

pub async fn a_refused_conversion_writes_nothing(store: &dyn Store) {
    use partnerd_domain::lead::{LeadStatus, LeadType};
    let m = marketplace(store).await;
    let existing = account_company(&m.id, "Existing");
    store.create_company(existing.clone(), None, vec![]).await.unwrap();
    let taken = account_user(&m.id, "john@acme.example");
    store
        .create_account_user(NewAccountUser { user: taken, company_id: existing.id.clone(), roles: vec![] }, vec![])
        .await
        .unwrap();
    let l = lead(&m.id, LeadType::Manual, Some("company_a"));
    store.create_lead(l.clone(), vec![]).await.unwrap();
    let convert = |email: &str| {
        let company = account_company(&m.id, "Acme");
        let user = account_user(&m.id, email);
        let mut next = l.clone();
        (next.status, next.version) = (LeadStatus::Converted, 2);
        (next.converted_company_id, next.converted_user_id) = (Some(company.id.clone()), Some(user.id.clone()));
        let conversion = LeadConversion {
            user: Some(NewAccountUser { user, company_id: company.id.clone(), roles: vec![] }),
            company: Some(company),
            association: None,
        };
        (next, conversion)
    };
    let (next, conversion) = convert("john@acme.example");
    let company_id = conversion.company.as_ref().unwrap().id.clone();
    let e = store.convert_lead(next, 1, conversion, vec![event(types::LEAD_CONVERTED, "lead", &l.id, None)]).await;
    assert!(matches!(e, Err(StoreError::Conflict(ref m)) if m == EMAIL_TAKEN), "{e:?}");
    assert_eq!(store.get_lead(&m.id, &l.id).await.unwrap(), Some(l.clone()));
    assert_eq!(store.get_company(&m.id, &company_id).await.unwrap(), None, "nothing half-written");
    assert!(store.events_for_subject(&m.id, &l.id).await.unwrap().is_empty());

    let (next, conversion) = convert("new@acme.example");
    let (company_id, user_id) = (next.converted_company_id.clone().unwrap(), next.converted_user_id.clone().unwrap());
    store.convert_lead(next.clone(), 1, conversion, vec![]).await.unwrap();
    assert_eq!(store.get_lead(&m.id, &l.id).await.unwrap(), Some(next));
    assert!(store.get_company(&m.id, &company_id).await.unwrap().is_some());
    let members = store.user_memberships(&m.id, &[user_id]).await.unwrap();
    assert_eq!(members.iter().map(|x| x.company_id.as_str()).collect::<Vec<_>>(), [company_id.as_str()]);
    // A second conversion from the same version is refused.
    let (again, conversion) = convert("other@acme.example");
    assert!(matches!(store.convert_lead(again, 1, conversion, vec![]).await, Err(StoreError::Conflict(_))));
}

fn account_company(marketplace_id: &str, name: &str) -> CompanyRecord {
    CompanyRecord {
        id: new_id("company"),
        marketplace_id: marketplace_id.into(),
        name: name.into(),
        kind: "customer".into(),
        external_id: None,
        phone: None,
        website: None,
        company_size: None,
        is_reseller: false,
        is_referral: false,
        is_developer: false,
        is_channel_admin: false,
        is_customer: true,
        enabled: true,
        active: true,
        created_by_company_id: None,
        settings: json!([]),
        tax_exemptions: json!([]),
        created_at: t0(),
        num_users: 0,
    }
}

fn ticket(marketplace_id: &str, partner: &NewPartner, created_at: DateTime<Utc>) -> TicketRecord {
    use partnerd_domain::ticket::{TicketCategory, TicketPriority, TicketStatus};
    TicketRecord {
        id: new_id("ticket"),
        marketplace_id: marketplace_id.into(),
        partner_id: partner.partner_id.clone(),
        // Any company of the marketplace satisfies the store; services check it is a customer.
        customer_id: partner.company_id.clone(),
        customer_name: partner.company_name.clone(),
        subject: "Webhooks fail".into(),
        description: "Ünïcode \"quoted\" 'text'\nover lines".into(),
        priority: TicketPriority::High,
        category: TicketCategory::Technical,
        status: TicketStatus::Open,
        created_by: partner.user_id.clone(),
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        rating: None,
        rating_comment: None,
        rated_at: None,
        comment_count: 0,
        version: 1,
        created_at,
        updated_at: created_at,
    }
}

pub async fn every_ticket_field_round_trips(store: &dyn Store) {
    use partnerd_domain::ticket::{TicketPriority, TicketStatus};
    let (m, a, b) = two_partners(store).await;
    let t = ticket(&m.id, &a, t0());
    store
        .create_ticket(t.clone(), vec![event(types::TICKET_CREATED, "ticket", &t.id, Some(&a.partner_id))])
        .await
        .unwrap();
    assert_eq!(store.get_ticket(&m.id, &a.partner_id, &t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(store.get_ticket(&m.id, &b.partner_id, &t.id).await.unwrap(), None, "another partner's");
    assert_eq!(store.get_ticket("mkt_other", &a.partner_id, &t.id).await.unwrap(), None, "scoped by marketplace");
    // Every settable field changed at once.
    let next = TicketRecord {
        priority: TicketPriority::Urgent,
        status: TicketStatus::Closed,
        first_response_at: Some(t0() + Duration::seconds(60)),
        resolved_at: Some(t0() + Duration::hours(2)),
        closed_at: Some(t0() + Duration::hours(3)),
        rating: Some(4),
        rating_comment: Some("Quick «fix»".into()),
        rated_at: Some(t0() + Duration::hours(4)),
        comment_count: 7,
        version: 2,
        updated_at: t0() + Duration::hours(4),
        ..t.clone()
    };
    store
        .update_ticket(next.clone(), 1, vec![event(types::TICKET_UPDATED, "ticket", &t.id, Some(&a.partner_id))])
        .await
        .unwrap();
    assert_eq!(store.get_ticket(&m.id, &a.partner_id, &t.id).await.unwrap(), Some(next.clone()));
    let stale = TicketRecord { version: 2, ..t.clone() };
    assert!(matches!(store.update_ticket(stale, 1, vec![]).await, Err(StoreError::Conflict(_))));
    let types: Vec<String> =
        store.events_for_subject(&m.id, &t.id).await.unwrap().into_iter().map(|e| e.event_type).collect();
    assert_eq!(types, ["ticket.created", "ticket.updated"], "events with the writes");
}

pub async fn tickets_filter_and_page(store: &dyn Store) {
    use partnerd_domain::ticket::{TicketCategory, TicketPriority, TicketStatus};
    let (m, a, b) = two_partners(store).await;
    let mut ids = Vec::new();
    for i in 0..5i64 {
        let mut t = ticket(&m.id, &a, t0() + Duration::minutes(i));
        t.priority = if i % 2 == 0 { TicketPriority::Low } else { TicketPriority::Urgent };
        t.category = if i < 2 { TicketCategory::Billing } else { TicketCategory::Other };
        t.status = if i == 4 { TicketStatus::Resolved } else { TicketStatus::Open };
        ids.push(t.id.clone());
        store.create_ticket(t, vec![]).await.unwrap();
    }
    store.create_ticket(ticket(&m.id, &b, t0()), vec![]).await.unwrap();
    let list = |f: TicketFilter, offset: u64, limit: u32| {
        let (m, p) = (m.id.clone(), a.partner_id.clone());
        async move {
            let (rows, total) = store.list_tickets(&m, &p, &f, &Window::Offset(offset), limit).await.unwrap().pair();
            (rows.into_iter().map(|t| t.id).collect::<Vec<_>>(), total)
        }
    };
    let (page, total) = list(TicketFilter::default(), 1, 2).await;
    assert_eq!(
        (page, total),
        (vec![ids[3].clone(), ids[2].clone()], 5),
        "newest first, the other partner's not counted"
    );
    let (rows, total) =
        list(TicketFilter { priority: Some(TicketPriority::Urgent), ..Default::default() }, 0, 10).await;
    assert_eq!((rows, total), (vec![ids[3].clone(), ids[1].clone()], 2));
    let f =
        TicketFilter { category: Some(TicketCategory::Other), status: Some(TicketStatus::Open), ..Default::default() };
    assert_eq!(list(f, 0, 10).await, (vec![ids[3].clone(), ids[2].clone()], 2));
    let f = TicketFilter { customer_id: Some("company_none".into()), ..Default::default() };
    assert_eq!(list(f, 0, 10).await, (vec![], 0));
    let f = TicketFilter {
        customer_id: Some(a.company_id.clone()),
        status: Some(TicketStatus::Resolved),
        ..Default::default()
    };
    assert_eq!(list(f, 0, 10).await, (vec![ids[4].clone()], 1));
}

pub async fn ticket_metrics_come_from_the_rows(store: &dyn Store) {
    use partnerd_domain::ticket::TicketStatus;
    let (m, a, b) = two_partners(store).await;
    let start = t0();
    let windows = MetricsWindows { previous_start: start - Duration::days(7), start, end: start + Duration::days(7) };
    // Three tickets in the window: answered after 60 s, 120 s and 600 s; two resolved (1 h,
    // 3 h) and rated 5 and 2; one left open. One before the window, resolved before it.
    let mut answered = Vec::new();
    for (i, (response, resolved, rating)) in
        [(60, Some(3600), Some(5)), (120, Some(10_800), Some(2)), (600, None, None)].into_iter().enumerate()
    {
        let created = start + Duration::hours(i as i64);
        let mut t = ticket(&m.id, &a, created);
        t.first_response_at = Some(created + Duration::seconds(response));
        t.resolved_at = resolved.map(|s| created + Duration::seconds(s));
        t.status = if resolved.is_some() { TicketStatus::Resolved } else { TicketStatus::InProgress };
        t.rating = rating;
        t.rated_at = rating.map(|_| created + Duration::days(1));
        answered.push(t.id.clone());
        store.create_ticket(t, vec![]).await.unwrap();
    }
    let mut old = ticket(&m.id, &a, start - Duration::days(3));
    old.first_response_at = Some(old.created_at + Duration::seconds(5));
    old.resolved_at = Some(old.created_at + Duration::seconds(50));
    old.status = TicketStatus::Closed;
    old.rating = Some(1);
    old.rated_at = Some(old.created_at + Duration::seconds(60));
    store.create_ticket(old, vec![]).await.unwrap();
    store.create_ticket(ticket(&m.id, &b, start), vec![]).await.unwrap();

    let f = store.partner_metrics(&m.id, &a.partner_id, windows).await.unwrap();
    assert_eq!(
        f.tickets_by_status,
        vec![
            (TicketStatus::Open, 0),
            (TicketStatus::InProgress, 1),
            (TicketStatus::WaitingOnCustomer, 0),
            (TicketStatus::Resolved, 2),
            (TicketStatus::Closed, 1)
        ]
    );
    assert_eq!((f.tickets_created, f.tickets_resolved), (3, 2));
    let mut responses = f.first_response_seconds.clone();
    responses.sort_unstable();
    assert_eq!(responses, [60, 120, 600]);
    let mut resolutions = f.resolution_seconds.clone();
    resolutions.sort_unstable();
    assert_eq!(resolutions, [3600, 10_800]);
    assert_eq!(f.ratings, vec![(1, 0), (2, 1), (3, 0), (4, 0), (5, 1)], "the old rating is outside the window");
    // No customers or invoices: zeros, never missing.
    assert_eq!(f.customers_by_status.iter().map(|(_, n)| n).sum::<u64>(), 0);
    assert_eq!(f.customers_by_status.len(), 3);
    assert_eq!((f.invoiced_cents, f.collected_cents, f.outstanding_cents), (0, 0, 0));
    assert!(f.mrr_basis.is_empty());
    // The other partner sees only its own.
    let other = store.partner_metrics(&m.id, &b.partner_id, windows).await.unwrap();
    assert_eq!((other.tickets_created, other.first_response_seconds.len()), (1, 0));
}

fn account_user(marketplace_id: &str, email: &str) -> UserRecord {
    UserRecord {
        id: new_id("user"),
        marketplace_id: marketplace_id.into(),
        email: email.into(),
        first_name: Some("John".into()),
        last_name: None,
        external_id: None,
        activated: false,
        enabled: true,
        created_at: t0(),
    }
}

/// A customer account of a new partner, for usage cases: its customer id.
async fn usage_customer(store: &dyn Store, m: &Marketplace, email: &str) -> String {
    use partnerd_domain::billing::BillingCycle;
    use partnerd_domain::customer::CustomerStatus;
    let p = new_partner(&m.id, email);
    store.create_partner(p.clone()).await.unwrap();
    let company = account_company(&m.id, "Usage Customer");
    let association = AssociationRecord {
        id: new_id("assoc"),
        marketplace_id: m.id.clone(),
        customer_company_id: company.id.clone(),
        customer_company_name: company.name.clone(),
        reseller_company_id: p.company_id.clone(),
        reseller_company_name: "Acme Corp".into(),
        created_at: t0(),
    };
    let account = CustomerAccountRecord {
        customer_id: company.id.clone(),
        marketplace_id: m.id.clone(),
        partner_id: p.partner_id.clone(),
        association_id: association.id.clone(),
        company_name: company.name.clone(),
        contact_email: "ops@customer.example".into(),
        contact_name: "Ops".into(),
        phone: None,
        plan: "starter".into(),
        billing_cycle: BillingCycle::Monthly,
        status: CustomerStatus::Active,
        currency: "USD".into(),
        billing_anchor: t0(),
        period_number: 1,
        current_period_start: t0(),
        current_period_end: t0() + Duration::days(31),
        balance_cents: 0,
        cancelled_at: None,
        version: 1,
        created_at: t0(),
        updated_at: t0(),
    };
    let first = new_invoice(&m.id, &p.partner_id, &company.id, 0);
    let id = company.id.clone();
    store.create_customer(company, association, account, first, vec![]).await.unwrap();
    id
}

fn usage_row(
    m: &str,
    id: &str,
    customer: &str,
    metric: partnerd_domain::usage::Metric,
    channel: &str,
    quantity: i64,
    at: DateTime<Utc>,
) -> UsageRecordRow {
    UsageRecordRow {
        marketplace_id: m.into(),
        id: id.into(),
        customer_id: customer.into(),
        metric,
        channel: channel.into(),
        quantity,
        errors: 0,
        occurred_at: at,
        day: at.date_naive(),
        ingested_at: t0(),
    }
}

fn usage_event() -> NewEvent {
    NewEvent::of(&partnerd_domain::events::UsageIngested { batch_id: new_id("usagebatch"), records: 1, customers: 1 })
}

/// Every column of a daily aggregate round-trips, and the fold matches the records: counters
/// summed per channel, storage keeping the day's last and peak samples.
pub async fn usage_days_round_trip_and_fold_the_records(store: &dyn Store) {
    use partnerd_domain::usage::Metric;
    let m = marketplace(store).await;
    let cu = usage_customer(store, &m, "usage@acme.com").await;
    let day = t0().date_naive();
    let rows = vec![
        usage_row(&m.id, "r1", &cu, Metric::Messages, "sms", 2, t0()),
        usage_row(&m.id, "r2", &cu, Metric::Messages, "sms", 3, t0() + Duration::hours(1)),
        usage_row(&m.id, "r3", &cu, Metric::Messages, "email", 7, t0()),
        UsageRecordRow { errors: 4, ..usage_row(&m.id, "r4", &cu, Metric::ApiRequests, "", 50, t0()) },
        usage_row(&m.id, "r5", &cu, Metric::StorageBytes, "", 900, t0() - Duration::hours(2)),
        usage_row(&m.id, "r6", &cu, Metric::StorageBytes, "", 600, t0()),
        usage_row(&m.id, "r7", &cu, Metric::WorkflowExecutions, "", 1, t0() + Duration::days(1)),
    ];
    let done = store.ingest_usage(&m.id, rows, t0(), vec![usage_event()]).await.unwrap();
    assert_eq!(done, UsageIngest { inserted: 7, duplicates: 0 });
    let days = store.usage_days(&m.id, &cu, day, day).await.unwrap();
    let find =
        |metric: Metric, channel: &str| days.iter().find(|d| d.metric == metric && d.channel == channel).unwrap();
    assert_eq!(days.len(), 4, "the next day's row is outside the range: {days:?}");
    assert_eq!(find(Metric::Messages, "sms").quantity, 5);
    assert_eq!(find(Metric::Messages, "sms").records, 2);
    assert_eq!(find(Metric::Messages, "sms").last_at, t0() + Duration::hours(1));
    assert_eq!(find(Metric::Messages, "email").quantity, 7);
    assert_eq!((find(Metric::ApiRequests, "").quantity, find(Metric::ApiRequests, "").errors), (50, 4));
    let storage = find(Metric::StorageBytes, "");
    assert_eq!(
        storage,
        &UsageDayRecord {
            marketplace_id: m.id.clone(),
            customer_id: cu.clone(),
            day,
            metric: Metric::StorageBytes,
            channel: String::new(),
            quantity: 600,
            errors: 0,
            peak: 900,
            last_at: t0(),
            records: 2,
            updated_at: t0(),
        }
    );
    // A later batch with an earlier sample keeps the last one; a larger one raises the peak.
    let later = vec![
        usage_row(&m.id, "r8", &cu, Metric::StorageBytes, "", 2000, t0() - Duration::hours(1)),
        usage_row(&m.id, "r9", &cu, Metric::Messages, "sms", 10, t0()),
    ];
    store.ingest_usage(&m.id, later, t0() + Duration::minutes(1), vec![usage_event()]).await.unwrap();
    let days = store.usage_days(&m.id, &cu, day, day + Duration::days(1)).await.unwrap();
    let s = days.iter().find(|d| d.metric == Metric::StorageBytes).unwrap();
    assert_eq!((s.quantity, s.peak, s.records, s.updated_at), (600, 2000, 3, t0() + Duration::minutes(1)));
    assert_eq!(days.iter().find(|d| d.channel == "sms").unwrap().quantity, 15);
    assert_eq!(days.len(), 5);
    assert!(days.windows(2).all(|w| (w[0].day, w[0].metric.as_str()) <= (w[1].day, w[1].metric.as_str())));
    assert_eq!(store.known_usage_customers(&m.id, vec![cu.clone(), "company_nope".into()]).await.unwrap(), [cu]);
}

/// A retried or overlapping batch counts each record once; an id reused with other content
/// refuses its whole batch and writes nothing.
pub async fn usage_reingest_counts_each_record_once(store: &dyn Store) {
    use partnerd_domain::usage::Metric;
    let m = marketplace(store).await;
    let cu = usage_customer(store, &m, "retry@acme.com").await;
    let day = t0().date_naive();
    let batch: Vec<UsageRecordRow> =
        (0..250).map(|i| usage_row(&m.id, &format!("b-{i:03}"), &cu, Metric::Messages, "email", 1, t0())).collect();
    let first = store.ingest_usage(&m.id, batch.clone(), t0(), vec![usage_event()]).await.unwrap();
    assert_eq!(first, UsageIngest { inserted: 250, duplicates: 0 });
    let again = store.ingest_usage(&m.id, batch.clone(), t0(), vec![usage_event()]).await.unwrap();
    assert_eq!(again, UsageIngest { inserted: 0, duplicates: 250 });
    let overlap: Vec<UsageRecordRow> =
        (200..300).map(|i| usage_row(&m.id, &format!("b-{i:03}"), &cu, Metric::Messages, "email", 1, t0())).collect();
    let third = store.ingest_usage(&m.id, overlap, t0(), vec![usage_event()]).await.unwrap();
    assert_eq!(third, UsageIngest { inserted: 50, duplicates: 50 });
    let total = |days: Vec<UsageDayRecord>| days.iter().map(|d| d.quantity).sum::<i64>();
    assert_eq!(total(store.usage_days(&m.id, &cu, day, day).await.unwrap()), 300);
    let events = store.events_recorded_since(t0() - Duration::days(1), &[types::USAGE_INGESTED]).await.unwrap();
    assert_eq!(events.len(), 2, "a batch that added nothing records nothing");

    let mut changed = vec![usage_row(&m.id, "new-1", &cu, Metric::Messages, "email", 5, t0())];
    changed.push(UsageRecordRow { quantity: 9, ..batch[10].clone() });
    match store.ingest_usage(&m.id, changed, t0(), vec![usage_event()]).await {
        Err(StoreError::Conflict(msg)) => {
            assert_eq!(msg, format!("{}b-010", schema::usage::USAGE_ID_REUSED));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(total(store.usage_days(&m.id, &cu, day, day).await.unwrap()), 300, "nothing half-written");
    let retry = store
        .ingest_usage(&m.id, vec![usage_row(&m.id, "new-1", &cu, Metric::Messages, "email", 5, t0())], t0(), vec![])
        .await
        .unwrap();
    assert_eq!(retry.inserted, 1, "the refused batch's new record was not kept");
}

/// Concurrent batches over the same records and days, written in opposite orders, neither
/// deadlock nor count a record twice.
pub async fn concurrent_usage_batches_count_once_without_deadlock(store: &dyn Store) {
    use partnerd_domain::usage::Metric;
    let m = marketplace(store).await;
    let (c1, c2) = (usage_customer(store, &m, "one@acme.com").await, usage_customer(store, &m, "two@acme.com").await);
    let batch = |from: usize, to: usize, reverse: bool| {
        let mut rows: Vec<UsageRecordRow> = (from..to)
            .map(|i| {
                let cu = if i % 2 == 0 { &c1 } else { &c2 };
                let at = t0() - Duration::days((i % 5) as i64);
                usage_row(&m.id, &format!("k-{i:04}"), cu, Metric::Messages, "sms", 1, at)
            })
            .collect();
        if reverse {
            rows.reverse();
        }
        rows
    };
    let (a, b, c) = tokio::join!(
        store.ingest_usage(&m.id, batch(0, 300, false), t0(), vec![usage_event()]),
        store.ingest_usage(&m.id, batch(100, 400, true), t0(), vec![usage_event()]),
        store.ingest_usage(&m.id, batch(0, 400, true), t0(), vec![usage_event()]),
    );
    let inserted = a.unwrap().inserted + b.unwrap().inserted + c.unwrap().inserted;
    assert_eq!(inserted, 400);
    let first = t0().date_naive() - Duration::days(4);
    let mut total = 0;
    for cu in [&c1, &c2] {
        let days = store.usage_days(&m.id, cu, first, t0().date_naive()).await.unwrap();
        assert_eq!(days.len(), 5);
        total += days.iter().map(|d| d.quantity).sum::<i64>();
        assert_eq!(days.iter().map(|d| d.records).sum::<i64>(), 200);
    }
    assert_eq!(total, 400);
}

async fn customer_company(store: &dyn Store, marketplace_id: &str, name: &str) -> String {
    let c = account_company(marketplace_id, name);
    store.create_company(c.clone(), None, vec![]).await.unwrap();
    c.id
}

fn branding(marketplace_id: &str, customer_id: &str, domain: Option<&str>) -> BrandingRecord {
    BrandingRecord {
        customer_id: customer_id.into(),
        marketplace_id: marketplace_id.into(),
        logo_url: Some("https://partner.example/logo.png".into()),
        primary_color: "#007bff".into(),
        secondary_color: "#6c757d".into(),
        custom_domain: domain.map(Into::into),
        created_at: t0(),
        updated_at: t0(),
    }
}

pub async fn every_white_label_field_round_trips(store: &dyn Store) {
    use partnerd_domain::email_template::TemplateName;
    let m = marketplace(store).await;
    let cu = customer_company(store, &m.id, "Acme").await;
    assert_eq!(store.get_branding(&m.id, &cu).await.unwrap(), None);
    let b = branding(&m.id, &cu, Some("app.acme.example"));
    store.save_branding(b.clone(), vec![event(types::BRANDING_UPDATED, "customer", &cu, None)]).await.unwrap();
    assert_eq!(store.get_branding(&m.id, &cu).await.unwrap(), Some(b.clone()));
    // A second save replaces every settable field and keeps the first creation time.
    let later = BrandingRecord {
        logo_url: None,
        primary_color: "#fff".into(),
        secondary_color: "#000".into(),
        custom_domain: None,
        created_at: t0() + Duration::days(1),
        updated_at: t0() + Duration::days(1),
        ..b.clone()
    };
    store.save_branding(later.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_branding(&m.id, &cu).await.unwrap(), Some(BrandingRecord { created_at: t0(), ..later }));
    assert_eq!(store.get_branding("mkt_other", &cu).await.unwrap(), None, "scoped by marketplace");

    let template = |name, subject: &str| EmailTemplateRecord {
        customer_id: cu.clone(),
        marketplace_id: m.id.clone(),
        name,
        subject: subject.into(),
        html_body: "<p>Ünïcode \"{{customer.company_name}}\" & 'co'</p>".into(),
        text_body: "Line 1\nLine 2".into(),
        updated_at: t0(),
    };
    let set =
        vec![template(TemplateName::Welcome, "Hi"), template(TemplateName::Invoice, "Invoice {{invoice.number}}")];
    store.replace_email_templates(&m.id, &cu, set.clone(), vec![]).await.unwrap();
    let mut got = store.email_templates(&m.id, &cu).await.unwrap();
    got.sort_by_key(|t| t.name.as_str());
    let mut want = set.clone();
    want.sort_by_key(|t| t.name.as_str());
    assert_eq!(got, want);
    // Replacing drops what is not given.
    store.replace_email_templates(&m.id, &cu, vec![template(TemplateName::PaymentFailed, "x")], vec![]).await.unwrap();
    assert_eq!(store.email_templates(&m.id, &cu).await.unwrap(), [template(TemplateName::PaymentFailed, "x")]);
    store.replace_email_templates(&m.id, &cu, vec![], vec![]).await.unwrap();
    assert!(store.email_templates(&m.id, &cu).await.unwrap().is_empty());
    assert!(
        store.events_for_subject(&m.id, &cu).await.unwrap().iter().any(|e| e.event_type == types::BRANDING_UPDATED)
    );
}

pub async fn custom_domains_are_unique_in_a_marketplace(store: &dyn Store) {
    let m = marketplace(store).await;
    let (a, b) = (customer_company(store, &m.id, "A").await, customer_company(store, &m.id, "B").await);
    store.save_branding(branding(&m.id, &a, Some("app.a.example")), vec![]).await.unwrap();
    // Customers without a custom domain never collide.
    store.save_branding(branding(&m.id, &b, None), vec![]).await.unwrap();
    let taken = store
        .save_branding(
            branding(&m.id, &b, Some("app.a.example")),
            vec![event(types::BRANDING_UPDATED, "customer", &b, None)],
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(ref c)) if c == CUSTOM_DOMAIN_TAKEN), "{taken:?}");
    assert_eq!(store.get_branding(&m.id, &b).await.unwrap().unwrap().custom_domain, None, "nothing written");
    assert!(store.events_for_subject(&m.id, &b).await.unwrap().is_empty(), "no event either");
    // The owner may save it again, and once it lets it go another customer may take it.
    store.save_branding(branding(&m.id, &a, Some("app.a.example")), vec![]).await.unwrap();
    store.save_branding(branding(&m.id, &a, Some("new.a.example")), vec![]).await.unwrap();
    store.save_branding(branding(&m.id, &b, Some("app.a.example")), vec![]).await.unwrap();
}

fn deployment(m: &str, customer_id: &str, version: i64, hash: &str) -> DeploymentRecord {
    DeploymentRecord {
        id: new_id("deploy"),
        marketplace_id: m.into(),
        customer_id: customer_id.into(),
        version,
        status: partnerd_domain::deploy::DeploymentStatus::Deployed,
        config_hash: hash.into(),
        configuration: json!({ "workflows": [], "templates": [], "settings": { "locale": "en-US", "seats": 5 } }),
        changes: json!({ "settings": { "added": ["locale", "seats"], "removed": [], "changed": [] } }),
        deployed_by: Some("user_1".into()),
        deployed_at: t0() + Duration::minutes(version),
        superseded_at: None,
    }
}

pub async fn deployments_are_numbered_once_per_customer(store: &dyn Store) {
    use partnerd_domain::deploy::DeploymentStatus;
    let m = marketplace(store).await;
    let (a, b) = (customer_company(store, &m.id, "A").await, customer_company(store, &m.id, "B").await);
    assert_eq!(store.current_deployment(&m.id, &a).await.unwrap(), None);
    let v1 = deployment(&m.id, &a, 1, "sha256:1");
    store
        .record_deployment(v1.clone(), None, vec![event(types::CONFIGURATION_DEPLOYED, "customer", &a, None)])
        .await
        .unwrap();
    assert_eq!(store.current_deployment(&m.id, &a).await.unwrap(), Some(v1.clone()), "every field round trips");
    // A second first version (a deploy that read no current one) is refused.
    let again = store.record_deployment(deployment(&m.id, &a, 1, "sha256:x"), None, vec![]).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let v2 = deployment(&m.id, &a, 2, "sha256:2");
    store.record_deployment(v2.clone(), Some(1), vec![]).await.unwrap();
    // A deploy from a stale current version is refused and writes nothing.
    let stale = store
        .record_deployment(
            deployment(&m.id, &a, 2, "sha256:y"),
            Some(1),
            vec![event(types::CONFIGURATION_DEPLOYED, "customer", &a, None)],
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.events_for_subject(&m.id, &a).await.unwrap().len(), 1);
    let old = store.get_deployment(&m.id, &a, 1).await.unwrap().unwrap();
    assert_eq!((old.status, old.superseded_at), (DeploymentStatus::Superseded, Some(v2.deployed_at)));
    assert_eq!(store.current_deployment(&m.id, &a).await.unwrap(), Some(v2.clone()));
    // Another customer numbers from 1.
    store.record_deployment(deployment(&m.id, &b, 1, "sha256:1"), None, vec![]).await.unwrap();

    // Concurrent deploys from the same current version: exactly one wins.
    let racer = |i: usize| store.record_deployment(deployment(&m.id, &a, 3, &format!("sha256:r{i}")), Some(2), vec![]);
    let (r0, r1, r2, r3) = tokio::join!(racer(0), racer(1), racer(2), racer(3));
    let results = [r0, r1, r2, r3];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_)))), "{results:?}");

    let (page, total) = store.list_deployments(&m.id, &a, &Window::Offset(0), 2).await.unwrap().pair();
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|d| d.version).collect::<Vec<_>>(), [3, 2], "newest first");
    let (page, _) = store.list_deployments(&m.id, &a, &Window::Offset(2), 2).await.unwrap().pair();
    assert_eq!(page.iter().map(|d| d.version).collect::<Vec<_>>(), [1]);
    assert_eq!(
        store.list_deployments("mkt_other", &a, &Window::Offset(0), 10).await.unwrap().pair().1,
        0,
        "scoped by marketplace"
    );
    assert_eq!(store.get_deployment(&m.id, &a, 9).await.unwrap(), None);
}

/// A partner's customers are its company's associations, with or without an account; another
/// partner sees none of them; events about them find the partner through its company.
pub async fn customers_are_the_partner_companys_associations(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let company = account_company(&m.id, "Plan-less");
    let link = AssociationRecord {
        id: new_id("assoc"),
        marketplace_id: m.id.clone(),
        customer_company_id: company.id.clone(),
        customer_company_name: company.name.clone(),
        reseller_company_id: a.company_id.clone(),
        reseller_company_name: String::new(),
        created_at: t0(),
    };
    store.create_company(company.clone(), Some(link.clone()), vec![]).await.unwrap();
    let (page, total) = store
        .list_customers(&m.id, &a.company_id, &CustomerFilter::default(), &Window::Offset(0), 20)
        .await
        .unwrap()
        .pair();
    assert_eq!(total, 1);
    assert_eq!(page[0].link.customer_id, company.id);
    assert_eq!(page[0].link.association_id, link.id);
    assert_eq!(page[0].link.company_name, "Plan-less");
    assert_eq!(page[0].account, None);
    let active = CustomerFilter { status: Some(partnerd_domain::customer::CustomerStatus::Active), plan: None };
    assert_eq!(store.list_customers(&m.id, &a.company_id, &active, &Window::Offset(0), 20).await.unwrap().pair().1, 1);
    let on_plan = CustomerFilter { status: None, plan: Some("starter".into()) };
    assert_eq!(store.list_customers(&m.id, &a.company_id, &on_plan, &Window::Offset(0), 20).await.unwrap().pair().1, 0);
    let entry = store.get_customer_entry(&m.id, &a.company_id, &company.id).await.unwrap().expect("a's customer");
    assert_eq!(entry, page[0]);
    assert_eq!(store.get_customer_entry(&m.id, &b.company_id, &company.id).await.unwrap(), None);
    assert_eq!(
        store
            .list_customers(&m.id, &b.company_id, &CustomerFilter::default(), &Window::Offset(0), 20)
            .await
            .unwrap()
            .pair()
            .1,
        0
    );
    assert_eq!(store.partner_of_company(&m.id, &a.company_id).await.unwrap(), Some(a.partner_id.clone()));
    assert_eq!(store.partner_of_company(&m.id, &company.id).await.unwrap(), None);
    assert!(store.company_billing(&m.id, &company.id).await.unwrap().is_empty());
    store.delete_association(&m.id, &link.id, t0(), vec![]).await.unwrap();
    assert_eq!(store.get_customer_entry(&m.id, &a.company_id, &company.id).await.unwrap(), None);
    // The unfiltered total is a counter row: it follows the delete, as the filtered count does.
    let all = CustomerFilter::default();
    let after = store.list_customers(&m.id, &a.company_id, &all, &Window::Offset(0), 20).await.unwrap();
    assert_eq!(after.pair(), (vec![], 0));
    assert_eq!(store.list_customers(&m.id, &a.company_id, &active, &Window::Offset(0), 20).await.unwrap().pair().1, 0);
}

/// A payment method for `owner` of `company`, stored by `seller`.
fn payment_method(m: &str, seller: &str, company: &str, owner: &str, at: DateTime<Utc>) -> PaymentMethodRecord {
    use partnerd_domain::payment_method::{CardBrand, PaymentMethodType};
    PaymentMethodRecord {
        id: new_id("pm"),
        marketplace_id: m.into(),
        seller_company_id: seller.into(),
        company_id: company.into(),
        owner_user_id: owner.into(),
        owner_first_name: None,
        owner_last_name: None,
        method_type: PaymentMethodType::Card,
        account_display: "1111".into(),
        brand: CardBrand::Visa,
        card_holder_name: "John Jordan".into(),
        expiration_month: 10,
        expiration_year: 2100,
        billing_address: json!({ "city": "Beverly Hills", "country": "US", "zip": "94203" }),
        is_default: false,
        created_at: at,
    }
}

/// A customer company and one of its users: `(company id, user id)`.
async fn payment_owner(store: &dyn Store, m: &str, email: &str) -> (String, String) {
    let company = account_company(m, "Payer");
    store.create_company(company.clone(), None, vec![]).await.unwrap();
    let user = account_user(m, email);
    store
        .create_account_user(
            NewAccountUser { user: user.clone(), company_id: company.id.clone(), roles: vec![] },
            vec![],
        )
        .await
        .unwrap();
    (company.id, user.id)
}

pub async fn every_payment_method_field_round_trips(store: &dyn Store) {
    let (m, a, _) = two_partners(store).await;
    let (company, owner) = payment_owner(store, &m.id, "payer@example.com").await;
    let p = payment_method(&m.id, &a.company_id, &company, &owner, t0());
    let stored = store.create_payment_method(p.clone(), vec![]).await.unwrap();
    let expected = PaymentMethodRecord { owner_first_name: Some("John".into()), is_default: true, ..p };
    assert_eq!(stored, expected, "the first method is the default; the owner's names are read");
    let (page, total) =
        store.list_payment_methods(&m.id, &a.company_id, &owner, None, &Window::Offset(0), 10).await.unwrap().pair();
    assert_eq!((page, total), (vec![expected.clone()], 1));
    let card = Some(partnerd_domain::payment_method::PaymentMethodType::Card);
    assert_eq!(
        store.list_payment_methods(&m.id, &a.company_id, &owner, card, &Window::Offset(0), 10).await.unwrap().pair().1,
        1
    );
    assert_eq!(
        store
            .list_payment_methods("mkt_other", &a.company_id, &owner, None, &Window::Offset(0), 10)
            .await
            .unwrap()
            .pair()
            .1,
        0
    );
    let deleted = store.delete_payment_method(&m.id, &a.company_id, &expected.id, t0(), vec![]).await.unwrap();
    assert_eq!(deleted, expected);
    assert_eq!(
        store.list_payment_methods(&m.id, &a.company_id, &owner, None, &Window::Offset(0), 10).await.unwrap().pair().1,
        0
    );
}

/// One default per owner and seller: the first method is it, a new default takes it over,
/// deleting it promotes the newest remaining one; another seller sees and deletes nothing;
/// concurrent first methods make exactly one default.
pub async fn payment_methods_keep_one_default_per_owner_and_seller(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    let (company, owner) = payment_owner(store, &m.id, "payer@example.com").await;
    let at = |minutes: i64| t0() + Duration::minutes(minutes);
    let new = |minutes: i64, default: bool| PaymentMethodRecord {
        is_default: default,
        ..payment_method(&m.id, &a.company_id, &company, &owner, at(minutes))
    };
    let defaults = || async {
        let (page, _) = store
            .list_payment_methods(&m.id, &a.company_id, &owner, None, &Window::Offset(0), 50)
            .await
            .unwrap()
            .pair();
        page.into_iter().filter(|p| p.is_default).map(|p| p.id).collect::<Vec<_>>()
    };
    let first = store.create_payment_method(new(0, false), vec![]).await.unwrap();
    assert!(first.is_default);
    let second = store.create_payment_method(new(1, false), vec![]).await.unwrap();
    assert!(!second.is_default);
    assert_eq!(defaults().await, vec![first.id.clone()]);
    let third = store.create_payment_method(new(2, true), vec![]).await.unwrap();
    assert!(third.is_default);
    assert_eq!(defaults().await, vec![third.id.clone()], "the new default clears the old one");
    let fourth = store.create_payment_method(new(3, false), vec![]).await.unwrap();
    let (page, total) =
        store.list_payment_methods(&m.id, &a.company_id, &owner, None, &Window::Offset(0), 2).await.unwrap().pair();
    assert_eq!(total, 4);
    assert_eq!(page.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [fourth.id.as_str(), third.id.as_str()]);

    // Another seller sees none of them and deletes none of them.
    assert_eq!(
        store.list_payment_methods(&m.id, &b.company_id, &owner, None, &Window::Offset(0), 50).await.unwrap().pair().1,
        0
    );
    let e = store.delete_payment_method(&m.id, &b.company_id, &third.id, at(4), vec![]).await;
    assert!(matches!(e, Err(StoreError::NotFound("payment_method"))), "{e:?}");
    let e = store.delete_payment_method("mkt_other", &a.company_id, &third.id, at(4), vec![]).await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");

    // Deleting the default promotes the newest remaining one; deleting another does not move it.
    store.delete_payment_method(&m.id, &a.company_id, &third.id, at(4), vec![]).await.unwrap();
    assert_eq!(defaults().await, vec![fourth.id.clone()]);
    store.delete_payment_method(&m.id, &a.company_id, &first.id, at(5), vec![]).await.unwrap();
    assert_eq!(defaults().await, vec![fourth.id.clone()]);
    let e = store.delete_payment_method(&m.id, &a.company_id, &first.id, at(5), vec![]).await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "deleted once: {e:?}");
    store.delete_payment_method(&m.id, &a.company_id, &fourth.id, at(6), vec![]).await.unwrap();
    assert_eq!(defaults().await, vec![second.id.clone()]);

    // Another seller's methods for the same owner have a default of their own.
    let other = PaymentMethodRecord { ..payment_method(&m.id, &b.company_id, &company, &owner, at(7)) };
    assert!(store.create_payment_method(other, vec![]).await.unwrap().is_default);
    assert_eq!(defaults().await, vec![second.id.clone()]);

    // Concurrent first methods of a new owner: exactly one is the default.
    let (company2, owner2) = payment_owner(store, &m.id, "racer@example.com").await;
    let racer = |i: i64| {
        store.create_payment_method(payment_method(&m.id, &a.company_id, &company2, &owner2, at(10 + i)), vec![])
    };
    let (r0, r1, r2, r3) = tokio::join!(racer(0), racer(1), racer(2), racer(3));
    let results: Vec<PaymentMethodRecord> = [r0, r1, r2, r3].into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|p| p.is_default).count(), 1, "{results:?}");
    let (page, _) =
        store.list_payment_methods(&m.id, &a.company_id, &owner2, None, &Window::Offset(0), 50).await.unwrap().pair();
    assert_eq!(page.iter().filter(|p| p.is_default).count(), 1);
}

/// What a subscription case needs: a reseller partner, its customer company with a user, and a
/// product with one payment plan.
struct Purchase {
    m: Marketplace,
    reseller: NewPartner,
    company: CompanyRecord,
    user: UserRecord,
    product: ProductRecord,
}

async fn purchase_setup(store: &dyn Store) -> Purchase {
    let m = marketplace(store).await;
    let reseller = new_partner(&m.id, "reseller@example.com");
    store.create_partner(reseller.clone()).await.unwrap();
    let company = account_company(&m.id, "Company A");
    let link = AssociationRecord {
        id: new_id("assoc"),
        marketplace_id: m.id.clone(),
        customer_company_id: company.id.clone(),
        customer_company_name: company.name.clone(),
        reseller_company_id: reseller.company_id.clone(),
        reseller_company_name: String::new(),
        created_at: t0(),
    };
    store.create_company(company.clone(), Some(link), vec![]).await.unwrap();
    let user = account_user(&m.id, "michael@company-a.example");
    store
        .create_account_user(
            NewAccountUser { user: user.clone(), company_id: company.id.clone(), roles: vec![] },
            vec![],
        )
        .await
        .unwrap();
    let product = ProductRecord {
        id: new_id("product"),
        marketplace_id: m.id.clone(),
        name: "Suite".into(),
        blurb: String::new(),
        image_url: None,
        provider: "Acme".into(),
        visible: true,
        editions: json!([{ "id": "edition_pro", "name": "Pro", "revenueType": "RECURRING", "paymentPlans": [
            { "id": "plan_pro_monthly", "frequency": "MONTHLY", "costs": [] }] }]),
        created_at: t0(),
        updated_at: t0(),
    };
    store.save_products(vec![product.clone()], vec![]).await.unwrap();
    Purchase { m, reseller, company, user, product }
}

pub async fn a_product_image_is_read_alone(store: &dyn Store) {
    let p = purchase_setup(store).await;
    let m = &p.m.id;
    assert_eq!(store.product_image(m, &p.product.id).await.unwrap(), None, "a product without an image");
    // The same product, saved again with an image.
    let pictured = ProductRecord { image_url: Some("https://cdn.example/suite.png".into()), ..p.product.clone() };
    store.save_products(vec![pictured.clone()], vec![]).await.unwrap();
    assert_eq!(store.product_image(m, &pictured.id).await.unwrap().as_deref(), Some("https://cdn.example/suite.png"));
    assert_eq!(store.product_image(m, "product_unknown").await.unwrap(), None);
    assert_eq!(store.product_image("mkt_other", &pictured.id).await.unwrap(), None, "another marketplace's");
}

fn subscription_of(p: &Purchase, seats: u32) -> (SubscriptionRecord, OrderRecord) {
    use partnerd_domain::catalog::Frequency;
    use partnerd_domain::subscription::{OrderStatus, SubscriptionStatus};
    let (id, order_id) = (new_id("sub"), new_id("order"));
    let lines = json!([{ "unit": "USER", "quantity": seats }]);
    let s = SubscriptionRecord {
        id: id.clone(),
        marketplace_id: p.m.id.clone(),
        reseller_company_id: p.reseller.company_id.clone(),
        reseller_user_id: p.reseller.user_id.clone(),
        partner_id: Some(p.reseller.partner_id.clone()),
        company_id: p.company.id.clone(),
        company_name: p.company.name.clone(),
        user_id: p.user.id.clone(),
        user_first_name: "John".into(),
        user_last_name: "Jordan".into(),
        product_id: p.product.id.clone(),
        application_name: "Suite".into(),
        edition_id: "edition_pro".into(),
        edition_name: "Pro".into(),
        payment_plan_id: "plan_pro_monthly".into(),
        frequency: Frequency::Monthly,
        parent_subscription_id: None,
        status: SubscriptionStatus::Active,
        active_order_id: order_id.clone(),
        order_lines: lines.clone(),
        seats,
        currency: "USD".into(),
        total_cents: 1200 * i64::from(seats),
        period_start: Some(t0()),
        period_end: Some(t0() + Duration::days(31)),
        search_text: format!("{id} suite pro company a"),
        created_at: t0(),
        updated_at: t0(),
        cancelled_at: None,
        version: 1,
    };
    let o = OrderRecord {
        id: order_id,
        marketplace_id: p.m.id.clone(),
        subscription_id: id,
        reseller_company_id: s.reseller_company_id.clone(),
        reseller_user_id: s.reseller_user_id.clone(),
        company_id: s.company_id.clone(),
        company_name: s.company_name.clone(),
        user_id: s.user_id.clone(),
        application_name: s.application_name.clone(),
        edition_name: s.edition_name.clone(),
        frequency: s.frequency,
        payment_plan_id: s.payment_plan_id.clone(),
        order_lines: lines,
        priced_lines: json!([{ "cost_id": "cost_1", "unit": "USER", "quantity": seats, "unit_price_cents": 1200 }]),
        status: OrderStatus::Active,
        currency: "USD".into(),
        total_cents: s.total_cents,
        invoice_id: None,
        search_text: s.search_text.clone(),
        created_at: t0(),
        updated_at: t0(),
    };
    (s, o)
}

fn seat_for(p: &Purchase, s: &SubscriptionRecord, user_id: &str) -> SeatRecord {
    SeatRecord {
        id: new_id("seat"),
        marketplace_id: p.m.id.clone(),
        subscription_id: s.id.clone(),
        reseller_company_id: s.reseller_company_id.clone(),
        user_id: user_id.into(),
        user_first_name: "John".into(),
        user_last_name: String::new(),
        status: partnerd_domain::subscription::SeatStatus::Active,
        created_at: t0(),
        cancelled_at: None,
    }
}

/// An open invoice of `total` cents with its 15 % commission, numbered by the store.
fn new_invoice(m: &str, partner: &str, customer: &str, total: i64) -> NewInvoice {
    use partnerd_domain::invoice::InvoiceStatus;
    let invoice = InvoiceRecord {
        id: new_id("inv"),
        marketplace_id: m.into(),
        partner_id: partner.into(),
        customer_id: customer.into(),
        number: String::new(),
        billing_reason: "subscription_create".into(),
        period_start: t0(),
        period_end: t0() + Duration::days(31),
        issued_at: t0(),
        due_at: t0() + Duration::days(30),
        currency: "USD".into(),
        line_items: json!([]),
        subtotal_cents: total,
        total_cents: total,
        status: InvoiceStatus::Open,
        commission_rate_bps: 1500,
        commission_base_cents: total,
        commission_cents: total * 15 / 100,
        status_changed_at: None,
    };
    let commission = CommissionRecord {
        id: new_id("comm"),
        marketplace_id: m.into(),
        partner_id: partner.into(),
        customer_id: customer.into(),
        invoice_id: invoice.id.clone(),
        invoice_number: String::new(),
        base_cents: total,
        rate_bps: 1500,
        amount_cents: total * 15 / 100,
        currency: "USD".into(),
        status: "earned".into(),
        earned_at: t0(),
        reversed_at: None,
    };
    NewInvoice { invoice, commission, number_prefix: "INV-".into() }
}

fn order_invoice(p: &Purchase, total: i64) -> NewInvoice {
    new_invoice(&p.m.id, &p.reseller.partner_id, &p.company.id, total)
}

pub async fn every_subscription_order_and_seat_field_round_trips(store: &dyn Store) {
    use partnerd_domain::subscription::SubscriptionStatus;
    let p = purchase_setup(store).await;
    let (s, mut o) = subscription_of(&p, 2);
    let invoice = order_invoice(&p, 2400);
    o.invoice_id = Some(invoice.invoice.id.clone());
    let created = event(types::SUBSCRIPTION_CREATED, "subscription", &s.id, Some(&p.reseller.partner_id));
    store.create_subscription(s.clone(), o.clone(), Some(invoice), vec![created]).await.unwrap();
    let entry = store.get_subscription(&p.m.id, &s.id).await.unwrap().expect("stored");
    assert_eq!(entry, SubscriptionEntry { subscription: s.clone(), order: o.clone() });
    assert_eq!(store.get_order(&p.m.id, &o.id).await.unwrap(), Some(o.clone()));
    let mine = SubscriptionFilter {
        common: PurchaseFilter { reseller_company_id: p.reseller.company_id.clone(), ..Default::default() },
        ..Default::default()
    };
    let (page, total) = store.list_subscriptions(&p.m.id, &mine, &Window::Offset(0), 10).await.unwrap().pair();
    assert_eq!((page, total), (vec![entry], 1));
    let orders = OrderFilter { common: mine.common.clone(), ..Default::default() };
    assert_eq!(store.list_orders(&p.m.id, &orders, &Window::Offset(0), 10).await.unwrap().pair(), (vec![o.clone()], 1));
    let theirs = SubscriptionFilter {
        common: PurchaseFilter { reseller_company_id: "company_other".into(), ..Default::default() },
        ..Default::default()
    };
    assert_eq!(store.list_subscriptions(&p.m.id, &theirs, &Window::Offset(0), 10).await.unwrap().pair().1, 0);
    let seat = seat_for(&p, &s, &p.user.id);
    store.assign_seat(seat.clone(), vec![]).await.unwrap();
    assert_eq!(store.get_seat(&p.m.id, &seat.id).await.unwrap(), Some(seat.clone()));
    let seats = SeatFilter { subscription_id: s.id.clone(), ..Default::default() };
    assert_eq!(store.list_seats(&p.m.id, &seats, &Window::Offset(0), 10).await.unwrap().pair(), (vec![seat], 1));
    assert_eq!(
        store.company_subscription_counts(&p.m.id, &p.company.id).await.unwrap(),
        [(SubscriptionStatus::Active, 1)]
    );
    let (found, _) = store
        .list_invoices(&p.m.id, &p.reseller.partner_id, &InvoiceFilter::default(), &Window::Offset(0), 10)
        .await
        .unwrap()
        .pair();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].number.as_str(), found[0].total_cents), ("INV-000001", 2400));
    assert_eq!(store.events_for_subject(&p.m.id, &s.id).await.unwrap().len(), 1);
    // The import kept the plan's row; a re-import without the plan drops it.
    let plan = store.catalog_plan(&p.m.id, "plan_pro_monthly").await.unwrap().expect("the plan's row");
    assert_eq!(
        (plan.product_id.as_str(), plan.product_name.as_str(), plan.edition_id.as_str(), plan.edition_name.as_str()),
        (p.product.id.as_str(), "Suite", "edition_pro", "Pro")
    );
    assert_eq!(plan.plan["frequency"], "MONTHLY");
    assert_eq!(store.catalog_plan(&p.m.id, "plan_pro").await.unwrap(), None);
    assert_eq!(store.catalog_plan("mkt_other", "plan_pro_monthly").await.unwrap(), None, "scoped by marketplace");
    let mut again = p.product.clone();
    again.editions = json!([{ "id": "edition_pro", "name": "Pro", "revenueType": "RECURRING", "paymentPlans": [
        { "id": "plan_pro_yearly", "frequency": "YEARLY", "costs": [] }] }]);
    store.save_products(vec![again], vec![]).await.unwrap();
    assert_eq!(store.catalog_plan(&p.m.id, "plan_pro_monthly").await.unwrap(), None);
    assert!(store.catalog_plan(&p.m.id, "plan_pro_yearly").await.unwrap().is_some());
}

pub async fn subscription_writes_are_whole_and_seats_never_exceed_the_quantity(store: &dyn Store) {
    use partnerd_domain::subscription::{OrderStatus, SeatStatus, SubscriptionStatus};
    let p = purchase_setup(store).await;
    let (s, o) = subscription_of(&p, 1);
    store.create_subscription(s.clone(), o.clone(), None, vec![]).await.unwrap();
    // Due for renewal once its period is over, not before.
    assert!(store.subscriptions_due(t0() + Duration::days(30), 10).await.unwrap().is_empty());
    let due = store.subscriptions_due(t0() + Duration::days(31), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|e| (e.subscription.id.as_str(), e.order.id.as_str())).collect::<Vec<_>>(),
        [(s.id.as_str(), o.id.as_str())]
    );

    // A second live subscription of the edition writes nothing: no order, invoice or event.
    let (twin, twin_order) = subscription_of(&p, 1);
    let e = store
        .create_subscription(
            twin.clone(),
            twin_order.clone(),
            Some(order_invoice(&p, 1200)),
            vec![event(types::SUBSCRIPTION_CREATED, "subscription", &twin.id, None)],
        )
        .await;
    assert!(matches!(e, Err(StoreError::Conflict(ref m)) if m == SUBSCRIPTION_EXISTS), "{e:?}");
    assert_eq!(store.get_order(&p.m.id, &twin_order.id).await.unwrap(), None);
    assert_eq!(
        store
            .list_invoices(&p.m.id, &p.reseller.partner_id, &InvoiceFilter::default(), &Window::Offset(0), 10)
            .await
            .unwrap()
            .pair()
            .1,
        0
    );
    assert!(store.events_for_subject(&p.m.id, &twin.id).await.unwrap().is_empty());

    // One seat: the second assignment is refused, and so is the same user twice.
    let other = account_user(&p.m.id, "mary@company-a.example");
    store
        .create_account_user(
            NewAccountUser { user: other.clone(), company_id: p.company.id.clone(), roles: vec![] },
            vec![],
        )
        .await
        .unwrap();
    let first = seat_for(&p, &s, &p.user.id);
    store.assign_seat(first.clone(), vec![]).await.unwrap();
    let e = store.assign_seat(seat_for(&p, &s, &other.id), vec![]).await;
    assert!(matches!(e, Err(StoreError::Conflict(ref m)) if m == NO_SEAT_AVAILABLE), "{e:?}");
    // Each assignment took the subscription's row: its version moved.
    let now = store.get_subscription(&p.m.id, &s.id).await.unwrap().unwrap().subscription;
    assert_eq!(now.version, 2);

    // A change to zero seats while one is assigned writes nothing; a stale version neither.
    let mut next = now.clone();
    (next.seats, next.version, next.active_order_id) = (0, 3, new_id("order"));
    let mut new_order = o.clone();
    (new_order.id, new_order.subscription_id) = (next.active_order_id.clone(), s.id.clone());
    let change = |sub: SubscriptionRecord, expected: i64| SubscriptionChange {
        subscription: sub,
        expected_version: expected,
        closed_order_id: o.id.clone(),
        closed_order_status: OrderStatus::Finished,
        new_order: Some(new_order.clone()),
        invoice: None,
    };
    let e = store.change_subscription(change(next.clone(), 2), vec![]).await;
    assert!(matches!(e, Err(StoreError::Conflict(ref m)) if m == SEATS_IN_USE), "{e:?}");
    assert_eq!(store.get_order(&p.m.id, &new_order.id).await.unwrap(), None, "nothing half-written");
    assert_eq!(store.get_order(&p.m.id, &o.id).await.unwrap().unwrap().status, OrderStatus::Active);
    next.seats = 3;
    let e = store.change_subscription(change(next.clone(), 1), vec![]).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "stale: {e:?}");
    store.change_subscription(change(next.clone(), 2), vec![]).await.unwrap();
    let entry = store.get_subscription(&p.m.id, &s.id).await.unwrap().unwrap();
    assert_eq!((entry.subscription.seats, entry.order.id.clone()), (3, new_order.id.clone()));
    assert_eq!(store.get_order(&p.m.id, &o.id).await.unwrap().unwrap().status, OrderStatus::Finished);

    // Cancelling ends every seat; an ended seat is not ended twice.
    let mut cancelled = entry.subscription.clone();
    (cancelled.status, cancelled.version) = (SubscriptionStatus::Cancelled, 4);
    let cancel = SubscriptionChange {
        subscription: cancelled,
        expected_version: 3,
        closed_order_id: new_order.id.clone(),
        closed_order_status: OrderStatus::Cancelled,
        new_order: None,
        invoice: None,
    };
    store.change_subscription(cancel, vec![]).await.unwrap();
    assert_eq!(store.get_seat(&p.m.id, &first.id).await.unwrap().unwrap().status, SeatStatus::Cancelled);
    assert!(!store.unassign_seat(&p.m.id, &first.id, t0(), vec![]).await.unwrap());
    let e = store.assign_seat(seat_for(&p, &s, &other.id), vec![]).await;
    assert!(matches!(e, Err(StoreError::Conflict(ref m)) if m == SUBSCRIPTION_NOT_ACTIVE), "{e:?}");
    // The edition is free again for the company.
    let (again, again_order) = subscription_of(&p, 1);
    store.create_subscription(again, again_order, None, vec![]).await.unwrap();
}

fn quote_of(p: &Purchase) -> QuoteRecord {
    let id = new_id("quote");
    QuoteRecord {
        id: id.clone(),
        marketplace_id: p.m.id.clone(),
        friendly_id: "I4HNJM".into(),
        owner_company_id: p.reseller.company_id.clone(),
        owner_company_name: "Reseller".into(),
        owner_partner_id: Some(p.reseller.partner_id.clone()),
        owner_user_id: p.reseller.user_id.clone(),
        owner_first_name: "Rita".into(),
        owner_last_name: "Seller".into(),
        owner_email: "reseller@example.com".into(),
        customer_company_id: p.company.id.clone(),
        customer_company_name: p.company.name.clone(),
        customer_user_id: p.user.id.clone(),
        customer_first_name: "Michael".into(),
        customer_last_name: "Jordan".into(),
        customer_email: p.user.email.clone(),
        name: Some("Jarvis Initiative".into()),
        currency: "USD".into(),
        status: partnerd_domain::quote::QuoteStatus::Open,
        items: json!([{ "id": "item_1", "pricing_plan_id": "plan_pro_monthly" }]),
        total_cents: 4100,
        purchase_effective_at: Some(t0() + Duration::days(10)),
        purchase_custom_attributes: json!({ "po": ["123"] }),
        purchase_id: None,
        search_text: format!("{id} jarvis initiative"),
        created_at: t0(),
        updated_at: t0(),
        closed_at: None,
        version: 1,
    }
}

/// One company's quotes and customers written at once (on PostgreSQL each transaction moves a
/// counter shard of its own backend): the totals are exact, and a removal from any session
/// brings them down again.
pub async fn concurrent_quotes_and_customers_are_counted_exactly(store: &dyn Store) {
    let p = purchase_setup(store).await;
    let quotes: Vec<QuoteRecord> = (0..24).map(|_| quote_of(&p)).collect();
    let written = join_all(quotes.iter().map(|q| store.create_quote(q.clone(), vec![])).collect()).await;
    for r in written {
        r.expect("concurrent quote creates succeed");
    }
    let m = p.m.id.as_str();
    let mine = QuoteFilter { owner_company_id: Some(p.reseller.company_id.clone()), ..Default::default() };
    assert_eq!(store.list_quotes(m, &mine, &Window::Offset(0), 1).await.unwrap().total, 24);
    assert_eq!(store.list_quotes(m, &QuoteFilter::default(), &Window::Offset(0), 1).await.unwrap().total, 24);

    let reseller = p.reseller.company_id.clone();
    let customers: Vec<(CompanyRecord, AssociationRecord)> = (0..24)
        .map(|i| {
            let company = account_company(m, &format!("Customer {i}"));
            let link = AssociationRecord {
                id: new_id("assoc"),
                marketplace_id: m.into(),
                customer_company_id: company.id.clone(),
                customer_company_name: company.name.clone(),
                reseller_company_id: reseller.clone(),
                reseller_company_name: String::new(),
                created_at: t0(),
            };
            (company, link)
        })
        .collect();
    let before = store.list_customers(m, &reseller, &CustomerFilter::default(), &Window::Offset(0), 1).await.unwrap();
    let written =
        join_all(customers.iter().map(|(c, l)| store.create_company(c.clone(), Some(l.clone()), vec![])).collect())
            .await;
    for r in written {
        r.expect("concurrent customer creates succeed");
    }
    let total = || async {
        store.list_customers(m, &reseller, &CustomerFilter::default(), &Window::Offset(0), 1).await.unwrap().total
    };
    assert_eq!(total().await, before.total + 24);
    let removed =
        join_all(customers[..10].iter().map(|(_, l)| store.delete_association(m, &l.id, t0(), vec![])).collect()).await;
    for r in removed {
        r.expect("concurrent removals succeed");
    }
    assert_eq!(total().await, before.total + 14);
}

pub async fn quote_fields_round_trip_and_finalizing_is_whole(store: &dyn Store) {
    use partnerd_domain::quote::QuoteStatus;
    let p = purchase_setup(store).await;
    let q = quote_of(&p);
    store.create_quote(q.clone(), vec![event(types::QUOTE_CREATED, "quote", &q.id, None)]).await.unwrap();
    assert_eq!(store.get_quote(&p.m.id, &q.id).await.unwrap(), Some(q.clone()));
    assert_eq!(store.get_quote("mkt_other", &q.id).await.unwrap(), None);
    let other = quote_of(&p);
    let search_text = format!("{} unnamed", other.id);
    let other = QuoteRecord {
        name: None,
        purchase_effective_at: None,
        search_text,
        created_at: t0() + Duration::hours(1),
        ..other
    };
    store.create_quote(other.clone(), vec![]).await.unwrap();

    // The filters, each alone.
    let at = |d: i64, inclusive: bool| Some(TimeBound { at: t0() + Duration::days(d), inclusive });
    let m = p.m.id.as_str();
    let found = |f: QuoteFilter| async move {
        let (rows, total) = store.list_quotes(m, &f, &Window::Offset(0), 10).await.unwrap().pair();
        assert_eq!(total, u64::try_from(rows.len()).unwrap());
        rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    let mine = || QuoteFilter { owner_company_id: Some(p.reseller.company_id.clone()), ..Default::default() };
    assert_eq!(found(mine()).await, [other.id.clone(), q.id.clone()], "newest first");
    // The manager's view: every quote of the marketplace, its total summed from the counters.
    assert_eq!(found(QuoteFilter::default()).await.len(), 2);
    assert_eq!(found(QuoteFilter { owner_company_id: Some("company_x".into()), ..Default::default() }).await.len(), 0);
    assert_eq!(
        found(QuoteFilter { effective: TimeRange { from: at(5, true), to: None }, ..mine() }).await,
        [q.id.as_str()]
    );
    assert_eq!(found(QuoteFilter { effective: TimeRange { from: None, to: at(10, false) }, ..mine() }).await.len(), 0);
    let created = TimeRange { from: Some(TimeBound { at: t0(), inclusive: false }), to: None };
    assert_eq!(found(QuoteFilter { created, ..mine() }).await, [other.id.as_str()]);
    assert_eq!(found(QuoteFilter { search: Some("JARVIS".into()), ..mine() }).await, [q.id.as_str()]);
    assert_eq!(found(QuoteFilter { status: Some(QuoteStatus::Closed), ..mine() }).await.len(), 0);
    // A quote without a name or a date comes last whichever way those are sorted.
    for (field, order) in [
        (QuoteSort::Name, SortOrder::Asc),
        (QuoteSort::Name, SortOrder::Desc),
        (QuoteSort::PurchaseEffectiveDate, SortOrder::Asc),
        (QuoteSort::PurchaseEffectiveDate, SortOrder::Desc),
    ] {
        let sorted = QuoteFilter { sort: vec![(field, order)], ..mine() };
        assert_eq!(found(sorted).await, [q.id.as_str(), other.id.as_str()], "{field:?} {order:?}");
    }
    let oldest_first = QuoteFilter { sort: vec![(QuoteSort::CreatedOn, SortOrder::Asc)], ..mine() };
    assert_eq!(found(oldest_first).await, [q.id.clone(), other.id.clone()]);

    // A versioned change; a stale one writes nothing.
    let mut renamed = q.clone();
    (renamed.name, renamed.version) = (Some("Renamed".into()), 2);
    store.update_quote(renamed.clone(), 1, vec![]).await.unwrap();
    let e = store.update_quote(QuoteRecord { version: 3, ..renamed.clone() }, 1, vec![]).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "stale: {e:?}");

    // Finalizing with a purchase that meets a live subscription of its edition writes nothing.
    let (taken, taken_order) = subscription_of(&p, 1);
    store.create_subscription(taken, taken_order, None, vec![]).await.unwrap();
    let mut closed = renamed.clone();
    (closed.status, closed.purchase_id, closed.closed_at, closed.version) =
        (QuoteStatus::Closed, Some(new_id("purchase")), Some(t0()), 3);
    let (first, first_order) = subscription_of(&p, 2);
    let first = SubscriptionRecord { edition_id: "edition_other".into(), ..first };
    let (twin, twin_order) = subscription_of(&p, 1);
    let purchases = vec![
        purchase_of(first.clone(), first_order.clone(), Some(order_invoice(&p, 2400))),
        purchase_of(twin, twin_order, None),
    ];
    let finalized = vec![event(types::QUOTE_FINALIZED, "quote", &q.id, None)];
    let e = store.finalize_quote(closed.clone(), 2, purchases, finalized.clone()).await;
    assert!(matches!(e, Err(StoreError::Conflict(ref m)) if *m == purchase_conflict(1)), "{e:?}");
    assert_eq!(store.get_quote(&p.m.id, &q.id).await.unwrap(), Some(renamed.clone()), "the quote unchanged");
    assert!(store.get_subscription(&p.m.id, &first.id).await.unwrap().is_none(), "item 0 not bought");
    assert_eq!(
        store
            .list_invoices(&p.m.id, &p.reseller.partner_id, &InvoiceFilter::default(), &Window::Offset(0), 10)
            .await
            .unwrap()
            .pair()
            .1,
        0
    );
    assert_eq!(store.events_for_subject(&p.m.id, &q.id).await.unwrap().len(), 1, "only quote.created");

    // Whole: the quote closed, its purchase and invoice written; a second finalize is stale.
    let ok = vec![purchase_of(first.clone(), first_order.clone(), Some(order_invoice(&p, 2400)))];
    store.finalize_quote(closed.clone(), 2, ok.clone(), finalized.clone()).await.unwrap();
    assert_eq!(store.get_quote(&p.m.id, &q.id).await.unwrap(), Some(closed.clone()));
    assert_eq!(store.get_subscription(&p.m.id, &first.id).await.unwrap().unwrap().order, first_order);
    assert_eq!(
        store
            .list_invoices(&p.m.id, &p.reseller.partner_id, &InvoiceFilter::default(), &Window::Offset(0), 10)
            .await
            .unwrap()
            .pair()
            .1,
        1
    );
    let e = store.finalize_quote(QuoteRecord { version: 4, ..closed }, 2, ok, finalized).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "stale: {e:?}");
    assert!(store.leads_of_company(&p.m.id, &p.company.id).await.unwrap().is_empty());
}

fn purchase_of(subscription: SubscriptionRecord, order: OrderRecord, invoice: Option<NewInvoice>) -> crate::Purchase {
    crate::Purchase { subscription, order, invoice }
}

/// A whole-millisecond instant (SQLite's precision) `minutes` after [`t0`], with odd milliseconds.
fn dash_at(minutes: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t0().timestamp_millis() + minutes * 60_000 + 7).unwrap()
}

pub async fn dashboard_links_sessions_and_sign_in_failures_behave(store: &dyn Store) {
    // A marketplace whose operator ids are known, a partner, and a sandbox: a second marketplace.
    let (mid, op_company, op_user) = (new_id("mkt"), new_id("company"), new_id("user"));
    let new_marketplace = NewMarketplace {
        operator_key: key(&mid, &op_user, &op_company, t0()),
        id: mid.clone(),
        name: "Dash marketplace".into(),
        operator_company_id: op_company.clone(),
        operator_user_id: op_user.clone(),
        operator_email: "operator@example.com".into(),
        created_at: t0(),
        events: vec![],
    };
    store.create_default_marketplace(new_marketplace).await.unwrap();
    let p = NewPartner { created_at: dash_at(1), ..new_partner(&mid, "admin@acme.com") };
    store.create_partner(p.clone()).await.unwrap();
    let partner = PartnerRecord {
        id: p.partner_id.clone(),
        marketplace_id: mid.clone(),
        company_id: p.company_id.clone(),
        company_name: "Acme Corp".into(),
        contact_email: "admin@acme.com".into(),
        plan: "business".into(),
        aws_account_connected: false,
        suspended_at: None,
        created_at: dash_at(1),
    };
    let sandbox = SandboxRecord {
        id: new_id("mkt"),
        marketplace_id: mid.clone(),
        owner_partner_id: p.partner_id.clone(),
        name: "Sandbox".into(),
        status: partnerd_domain::sandbox::StoredStatus::Provisioning,
        sandbox_partner_id: None,
        created_at: t0(),
        expires_at: t0() + Duration::days(7),
    };
    assert!(store.create_sandbox(sandbox.clone(), 5).await.unwrap());
    let hash = |c: char| c.to_string().repeat(64);

    // 1. An invitation creates its user and membership; a taken e-mail writes nothing.
    let invited = NewInvitedUser {
        user_id: new_id("user"),
        email: "new@acme.com".into(),
        company_id: p.company_id.clone(),
        roles: vec![Role::Reseller],
    };
    let invitation = UserTokenRecord {
        token_hash: hash('a'),
        marketplace_id: mid.clone(),
        user_id: invited.user_id.clone(),
        purpose: "invitation".into(),
        created_at: dash_at(10),
        expires_at: dash_at(1000),
        used_at: None,
    };
    let invited_event = event(types::USER_INVITED, "user", &invited.user_id, Some(&p.partner_id));
    store.create_user_token(invitation.clone(), Some(invited.clone()), vec![invited_event]).await.unwrap();
    assert_eq!(store.get_user_token(&invitation.token_hash).await.unwrap(), Some(invitation.clone()));
    let sign_in = SignInUser {
        user_id: invited.user_id.clone(),
        marketplace_id: mid.clone(),
        email: "new@acme.com".into(),
        password_hash: None,
        enabled: true,
    };
    assert_eq!(store.user_by_email(&mid, "new@acme.com").await.unwrap(), Some(sign_in.clone()));
    assert_eq!(store.user_by_email(&mid, "New@Acme.com").await.unwrap(), Some(sign_in.clone()), "any case");
    assert_eq!(store.user_by_email(&sandbox.id, "new@acme.com").await.unwrap(), None);
    assert_eq!(
        store.memberships(&mid, &invited.user_id).await.unwrap(),
        vec![Membership {
            company_id: p.company_id.clone(),
            roles: vec![Role::Reseller],
            partner_id: Some(p.partner_id.clone())
        }]
    );
    let dup_user = NewInvitedUser { user_id: new_id("user"), ..invited.clone() };
    let dup_token = UserTokenRecord { token_hash: hash('b'), user_id: dup_user.user_id.clone(), ..invitation.clone() };
    let dup_event = event(types::USER_INVITED, "user", &dup_user.user_id, Some(&p.partner_id));
    let dup = store.create_user_token(dup_token.clone(), Some(dup_user.clone()), vec![dup_event]).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(store.get_user_token(&dup_token.token_hash).await.unwrap(), None);
    assert!(store.memberships(&mid, &dup_user.user_id).await.unwrap().is_empty());
    assert!(store.user_emails(&mid, std::slice::from_ref(&dup_user.user_id)).await.unwrap().is_empty());
    assert!(store.events_for_subject(&mid, &dup_user.user_id).await.unwrap().is_empty());
    // Links for existing users: a reset for the partner's user, one used already for the operator.
    let reset = UserTokenRecord {
        token_hash: hash('c'),
        marketplace_id: mid.clone(),
        user_id: p.user_id.clone(),
        purpose: "reset".into(),
        created_at: dash_at(12),
        expires_at: dash_at(20),
        used_at: None,
    };
    store.create_user_token(reset.clone(), None, vec![]).await.unwrap();
    assert_eq!(store.get_user_token(&reset.token_hash).await.unwrap(), Some(reset.clone()));
    let used = UserTokenRecord {
        token_hash: hash('d'),
        user_id: op_user.clone(),
        created_at: dash_at(13),
        expires_at: dash_at(1000),
        used_at: Some(dash_at(14)),
        ..reset.clone()
    };
    store.create_user_token(used.clone(), None, vec![]).await.unwrap();
    assert_eq!(store.get_user_token(&used.token_hash).await.unwrap(), Some(used.clone()));
    assert_eq!(store.get_user_token(&hash('e')).await.unwrap(), None);

    // 2. Sessions: every field but `created_at` (which nothing reads) comes back in `SessionAuth`.
    let session = |id: char, user: &str, company: &str, created: i64, expires: i64| SessionRecord {
        id_hash: hash(id),
        marketplace_id: mid.clone(),
        user_id: user.into(),
        company_id: company.into(),
        csrf_token: format!("csrf-{id}"),
        created_at: dash_at(created),
        last_seen_at: dash_at(created + 1),
        expires_at: dash_at(expires),
    };
    let auth_of = |s: &SessionRecord, email: &str, roles: Vec<Role>, partner: Option<PartnerRecord>| SessionAuth {
        id_hash: s.id_hash.clone(),
        marketplace_id: s.marketplace_id.clone(),
        user_id: s.user_id.clone(),
        user_email: email.into(),
        company_id: s.company_id.clone(),
        roles,
        csrf_token: s.csrf_token.clone(),
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        partner,
    };
    let s_invited = session('1', &invited.user_id, &p.company_id, 15, 500);
    let s_partner = session('2', &p.user_id, &p.company_id, 15, 500);
    store.create_session(s_invited.clone()).await.unwrap();
    store.create_session(s_partner.clone()).await.unwrap();
    assert!(matches!(store.create_session(s_partner.clone()).await, Err(StoreError::Conflict(_))));
    let invited_auth = auth_of(&s_invited, "new@acme.com", vec![Role::Reseller], Some(partner.clone()));
    let partner_auth = auth_of(&s_partner, "admin@acme.com", p.roles.clone(), Some(partner.clone()));
    assert_eq!(store.session_for_auth(&s_invited.id_hash, dash_at(30)).await.unwrap(), Some(invited_auth));
    assert_eq!(store.session_for_auth(&s_partner.id_hash, dash_at(30)).await.unwrap(), Some(partner_auth.clone()));
    assert_eq!(store.session_for_auth(&hash('9'), dash_at(30)).await.unwrap(), None);

    // 6. (before any redeem) every user once, with their first membership, none with a password.
    let operator_entry = UserEntry {
        user_id: op_user.clone(),
        email: "operator@example.com".into(),
        company_id: op_company.clone(),
        company_name: "Dash marketplace".into(),
        partner_id: None,
        roles: vec![Role::ChannelAdmin],
        has_password: false,
        created_at: t0(),
    };
    let partner_entry = UserEntry {
        user_id: p.user_id.clone(),
        email: "admin@acme.com".into(),
        company_id: p.company_id.clone(),
        company_name: "Acme Corp".into(),
        partner_id: Some(p.partner_id.clone()),
        roles: p.roles.clone(),
        has_password: false,
        created_at: dash_at(1),
    };
    let invited_entry = UserEntry {
        user_id: invited.user_id.clone(),
        email: "new@acme.com".into(),
        roles: vec![Role::Reseller],
        created_at: dash_at(10),
        ..partner_entry.clone()
    };
    assert_eq!(
        store.dashboard_users(&mid).await.unwrap(),
        vec![operator_entry.clone(), partner_entry.clone(), invited_entry.clone()]
    );
    assert!(store.dashboard_users(&sandbox.id).await.unwrap().is_empty());

    // 3. Redeeming: once, sets the password, ends the user's other sessions, starts the new one.
    let first_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$Zmlyc3Q".to_owned();
    // Another unused link of the same user is retired when one is used.
    let spare = UserTokenRecord { token_hash: "f".repeat(64), created_at: dash_at(15), ..invitation.clone() };
    store.create_user_token(spare.clone(), None, vec![]).await.unwrap();
    let s_redeemed = session('3', &invited.user_id, &p.company_id, 40, 400);
    let set = event(types::USER_PASSWORD_SET, "user", &invited.user_id, Some(&p.partner_id));
    let redeemed =
        store.redeem_user_token(&invitation.token_hash, dash_at(40), first_hash.clone(), s_redeemed.clone(), vec![set]);
    assert!(redeemed.await.unwrap());
    let spare_after = store.get_user_token(&spare.token_hash).await.unwrap().unwrap();
    assert_eq!(spare_after.used_at, Some(dash_at(40)), "the user's other links are retired");
    let with_password = SignInUser { password_hash: Some(first_hash.clone()), ..sign_in.clone() };
    assert_eq!(store.user_by_email(&mid, "new@acme.com").await.unwrap(), Some(with_password.clone()));
    assert_eq!(store.session_for_auth(&s_invited.id_hash, dash_at(41)).await.unwrap(), None, "other sessions end");
    let redeemed_auth = auth_of(&s_redeemed, "new@acme.com", vec![Role::Reseller], Some(partner.clone()));
    assert_eq!(store.session_for_auth(&s_redeemed.id_hash, dash_at(41)).await.unwrap(), Some(redeemed_auth.clone()));
    assert_eq!(
        store.session_for_auth(&s_partner.id_hash, dash_at(41)).await.unwrap(),
        Some(partner_auth.clone()),
        "another user's sessions stay"
    );
    let used_invitation = UserTokenRecord { used_at: Some(dash_at(40)), ..invitation.clone() };
    assert_eq!(store.get_user_token(&invitation.token_hash).await.unwrap(), Some(used_invitation.clone()));
    // A second redeem writes nothing: not the password, the session, the events or the use time.
    let s_again = session('4', &invited.user_id, &p.company_id, 41, 400);
    let set_again = event(types::USER_PASSWORD_SET, "user", &invited.user_id, Some(&p.partner_id));
    let again = store.redeem_user_token(
        &invitation.token_hash,
        dash_at(41),
        "$argon2id$other".into(),
        s_again.clone(),
        vec![set_again],
    );
    assert!(!again.await.unwrap());
    assert_eq!(store.user_by_email(&mid, "new@acme.com").await.unwrap(), Some(with_password.clone()));
    assert_eq!(store.session_for_auth(&s_again.id_hash, dash_at(42)).await.unwrap(), None);
    assert_eq!(store.session_for_auth(&s_redeemed.id_hash, dash_at(42)).await.unwrap(), Some(redeemed_auth.clone()));
    assert_eq!(store.get_user_token(&invitation.token_hash).await.unwrap(), Some(used_invitation));
    let logged = store.events_for_subject(&mid, &invited.user_id).await.unwrap();
    assert_eq!(
        logged.iter().map(|e| (e.event_type.as_str(), e.occurred_at)).collect::<Vec<_>>(),
        vec![(types::USER_INVITED, dash_at(10)), (types::USER_PASSWORD_SET, dash_at(40))]
    );
    // An expired link (expires_at <= now) and a used one are refused and write nothing.
    let s_expired = session('5', &p.user_id, &p.company_id, 20, 400);
    let expired = store.redeem_user_token(
        &reset.token_hash,
        reset.expires_at,
        "$argon2id$late".into(),
        s_expired.clone(),
        vec![],
    );
    assert!(!expired.await.unwrap());
    assert_eq!(store.get_user_token(&reset.token_hash).await.unwrap(), Some(reset.clone()));
    assert_eq!(store.user_by_email(&mid, "admin@acme.com").await.unwrap().unwrap().password_hash, None);
    assert_eq!(store.session_for_auth(&s_expired.id_hash, dash_at(42)).await.unwrap(), None);
    assert_eq!(store.session_for_auth(&s_partner.id_hash, dash_at(42)).await.unwrap(), Some(partner_auth.clone()));
    let s_used = session('6', &op_user, &op_company, 41, 400);
    assert!(
        !store
            .redeem_user_token(&used.token_hash, dash_at(41), "$argon2id$x".into(), s_used.clone(), vec![])
            .await
            .unwrap()
    );
    assert_eq!(store.user_by_email(&mid, "operator@example.com").await.unwrap().unwrap().password_hash, None);
    assert_eq!(store.session_for_auth(&s_used.id_hash, dash_at(42)).await.unwrap(), None);
    assert_eq!(store.get_user_token(&used.token_hash).await.unwrap(), Some(used));
    // 6. (after) only the redeemer has a password.
    assert_eq!(
        store.dashboard_users(&mid).await.unwrap(),
        vec![operator_entry, partner_entry, UserEntry { has_password: true, ..invited_entry }]
    );

    // 4. Expiry, touching, ending one session or all of a user's, and purging.
    let before_expiry = s_redeemed.expires_at - Duration::milliseconds(1);
    assert!(store.session_for_auth(&s_redeemed.id_hash, before_expiry).await.unwrap().is_some());
    assert_eq!(store.session_for_auth(&s_redeemed.id_hash, s_redeemed.expires_at).await.unwrap(), None);
    assert_eq!(store.session_for_auth(&s_redeemed.id_hash, dash_at(450)).await.unwrap(), None);
    store.touch_session(&s_redeemed.id_hash, dash_at(50)).await.unwrap();
    assert_eq!(
        store.session_for_auth(&s_redeemed.id_hash, dash_at(51)).await.unwrap(),
        Some(SessionAuth { last_seen_at: dash_at(50), ..redeemed_auth })
    );
    assert!(store.delete_session(&s_redeemed.id_hash).await.unwrap());
    assert!(!store.delete_session(&s_redeemed.id_hash).await.unwrap());
    assert_eq!(store.session_for_auth(&s_redeemed.id_hash, dash_at(51)).await.unwrap(), None);
    let s_op1 = session('7', &op_user, &op_company, 50, 600);
    let s_op2 = session('8', &op_user, &op_company, 50, 100);
    store.create_session(s_op1.clone()).await.unwrap();
    store.create_session(s_op2.clone()).await.unwrap();
    assert_eq!(
        store.session_for_auth(&s_op1.id_hash, dash_at(52)).await.unwrap(),
        Some(auth_of(&s_op1, "operator@example.com", vec![Role::ChannelAdmin], None))
    );
    assert_eq!(store.delete_user_sessions(&sandbox.id, &op_user).await.unwrap(), 0, "scoped by marketplace");
    assert_eq!(store.delete_user_sessions(&mid, &op_user).await.unwrap(), 2);
    assert_eq!(store.delete_user_sessions(&mid, &op_user).await.unwrap(), 0);
    assert_eq!(store.session_for_auth(&s_op1.id_hash, dash_at(52)).await.unwrap(), None);
    assert_eq!(store.session_for_auth(&s_partner.id_hash, dash_at(52)).await.unwrap(), Some(partner_auth.clone()));
    // Live now: the partner's (expires at 500). Two more that expire at 100 and 200.
    let s_old1 = session('a', &p.user_id, &p.company_id, 55, 100);
    let s_old2 = session('b', &invited.user_id, &p.company_id, 55, 200);
    store.create_session(s_old1.clone()).await.unwrap();
    store.create_session(s_old2.clone()).await.unwrap();
    assert!(store.session_for_auth(&s_old1.id_hash, dash_at(60)).await.unwrap().is_some());

    // 5. Sign-in failures, per subject and marketplace, from `since` on.
    let (email, ip) = ("email:new@acme.com".to_owned(), "ip:10.0.0.1".to_owned());
    store.record_sign_in_failure(&mid, &[email.clone(), ip.clone()], dash_at(60)).await.unwrap();
    store.record_sign_in_failure(&mid, &[email.clone(), ip.clone()], dash_at(61)).await.unwrap();
    store.record_sign_in_failure(&mid, std::slice::from_ref(&ip), dash_at(62)).await.unwrap();
    store.record_sign_in_failure(&sandbox.id, std::slice::from_ref(&email), dash_at(61)).await.unwrap();
    let count = |m: String, s: String, since: DateTime<Utc>| async move {
        store.sign_in_failures(&m, &s, since).await.unwrap()
    };
    assert_eq!(count(mid.clone(), email.clone(), dash_at(60)).await, 2);
    assert_eq!(count(mid.clone(), email.clone(), dash_at(61)).await, 1, "at `since` counts");
    assert_eq!(count(mid.clone(), email.clone(), dash_at(61) + Duration::milliseconds(1)).await, 0);
    assert_eq!(count(mid.clone(), ip.clone(), t0()).await, 3);
    assert_eq!(count(mid.clone(), ip.clone(), dash_at(62)).await, 1);
    assert_eq!(count(mid.clone(), "email:other@acme.com".into(), t0()).await, 0);
    assert_eq!(count(sandbox.id.clone(), email.clone(), t0()).await, 1);
    assert_eq!(count(sandbox.id.clone(), ip.clone(), t0()).await, 0);
    store.clear_sign_in_failures(&mid, &email).await.unwrap();
    assert_eq!(count(mid.clone(), email.clone(), t0()).await, 0);
    assert_eq!(count(mid.clone(), ip.clone(), t0()).await, 3, "another subject is kept");
    assert_eq!(count(sandbox.id.clone(), email.clone(), t0()).await, 1, "another marketplace is kept");

    // 4. Purging: sessions expired at `now` (the boundary included), failures before `failures_before`.
    assert_eq!(store.purge_sessions(dash_at(200), dash_at(61)).await.unwrap(), 2);
    assert_eq!(store.session_for_auth(&s_old1.id_hash, dash_at(60)).await.unwrap(), None);
    assert_eq!(store.session_for_auth(&s_old2.id_hash, dash_at(60)).await.unwrap(), None);
    assert_eq!(store.session_for_auth(&s_partner.id_hash, dash_at(60)).await.unwrap(), Some(partner_auth.clone()));
    assert_eq!(count(mid.clone(), ip.clone(), t0()).await, 2, "the failure at 60 is gone, at 61 stays");
    assert_eq!(count(sandbox.id.clone(), email.clone(), t0()).await, 1);
    assert_eq!(store.purge_sessions(dash_at(200), dash_at(63)).await.unwrap(), 0);
    assert_eq!(count(mid.clone(), ip.clone(), t0()).await, 0);
    assert_eq!(count(sandbox.id.clone(), email.clone(), t0()).await, 0);

    // 7. The operator's partner changes: plan and suspension, seen by keys and sessions.
    let updated = |id: &str| event(types::PARTNER_UPDATED, "partner", id, Some(id));
    let state = |plan: &str, at: Option<i64>| PartnerState { plan: plan.into(), suspended_at: at.map(dash_at) };
    let (active, suspending) = (state("business", None), state("enterprise", Some(70)));
    let suspend =
        store.update_partner(&mid, &p.partner_id, &active, &suspending, dash_at(70), vec![updated(&p.partner_id)]);
    suspend.await.unwrap();
    let suspended = PartnerRecord { plan: "enterprise".into(), suspended_at: Some(dash_at(70)), ..partner.clone() };
    assert_eq!(store.get_partner(&mid, &p.partner_id).await.unwrap(), Some(suspended.clone()));
    let key_auth = store.find_key_for_auth(&p.key.id).await.unwrap().unwrap();
    assert_eq!(key_auth.partner.as_ref().and_then(|x| x.suspended_at), Some(dash_at(70)));
    assert_eq!(key_auth.partner, Some(suspended.clone()));
    assert_eq!(
        store.session_for_auth(&s_partner.id_hash, dash_at(71)).await.unwrap(),
        Some(SessionAuth { partner: Some(suspended.clone()), ..partner_auth.clone() })
    );
    // A change from a state the partner is no longer in writes nothing (a compare-and-set).
    let stale = store
        .update_partner(&mid, &p.partner_id, &active, &state("tiny", None), dash_at(71), vec![updated(&p.partner_id)])
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.get_partner(&mid, &p.partner_id).await.unwrap(), Some(suspended.clone()));
    let lift =
        store.update_partner(&mid, &p.partner_id, &suspending, &active, dash_at(71), vec![updated(&p.partner_id)]);
    lift.await.unwrap();
    assert_eq!(store.get_partner(&mid, &p.partner_id).await.unwrap(), Some(partner.clone()));
    assert_eq!(store.find_key_for_auth(&p.key.id).await.unwrap().unwrap().partner.unwrap().suspended_at, None);
    let unknown = store
        .update_partner(&mid, "partner_nobody", &active, &active, dash_at(72), vec![updated("partner_nobody")])
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound("partner"))), "{unknown:?}");
    assert!(store.events_for_subject(&mid, "partner_nobody").await.unwrap().is_empty());
    let elsewhere = store
        .update_partner(&sandbox.id, &p.partner_id, &active, &suspending, dash_at(73), vec![updated(&p.partner_id)])
        .await;
    assert!(matches!(elsewhere, Err(StoreError::NotFound("partner"))), "{elsewhere:?}");
    assert_eq!(store.get_partner(&mid, &p.partner_id).await.unwrap(), Some(partner));
    assert!(store.events_for_subject(&sandbox.id, &p.partner_id).await.unwrap().is_empty());
    let partner_events = store.events_for_subject(&mid, &p.partner_id).await.unwrap();
    assert_eq!(
        partner_events.iter().map(|e| (e.event_type.as_str(), e.occurred_at)).collect::<Vec<_>>(),
        vec![
            (types::PARTNER_CREATED, dash_at(1)),
            (types::PARTNER_UPDATED, dash_at(70)),
            (types::PARTNER_UPDATED, dash_at(71))
        ]
    );
}

/// Every page of one list by offset, then every page by cursor (`|w| expr` reads the page at
/// `w: &Window`): `(by offset, by cursor, total)`. Checks on the way that a page's `next` is
/// there exactly when rows follow, that a cursor page is full unless it is the last, and that
/// the walk ends.
macro_rules! both_walks {
    (|$w:ident| $list:expr, $size:expr) => {{
        let size: usize = $size;
        let (mut by_offset, mut offset) = (Vec::new(), 0u64);
        let total = loop {
            let $w = &Window::Offset(offset);
            let page = $list.await.unwrap();
            let n = page.items.len() as u64;
            assert_eq!(page.next.is_some(), offset + n < page.total, "next at offset {offset}");
            by_offset.extend(page.items);
            offset += n;
            if page.next.is_none() {
                break page.total;
            }
        };
        let (mut by_cursor, mut at, mut pages) = (Vec::new(), Window::Offset(0), 0);
        loop {
            let $w = &at;
            let page = $list.await.unwrap();
            assert_eq!(page.total, total, "the total does not depend on the window");
            pages += 1;
            assert!(pages <= by_offset.len() + 1, "the cursor walk does not end");
            let n = page.items.len();
            by_cursor.extend(page.items);
            match page.next {
                Some(c) => {
                    assert_eq!(n, size, "a page with a next one is full");
                    at = Window::After(c);
                }
                None => break,
            }
        }
        (by_offset, by_cursor, total)
    }};
}

fn no_repeats(ids: &[String]) {
    let mut seen = std::collections::BTreeSet::new();
    assert!(ids.iter().all(|i| seen.insert(i.clone())), "repeated rows: {ids:?}");
}

pub async fn listing_pages_walk_by_cursor(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    // Equal creation times, so the order leans on its tie-break.
    for i in 0..11 {
        let status = if i % 3 == 0 { ListingStatus::Draft } else { ListingStatus::Active };
        let l = listing(&m.id, &a.partner_id, &format!("L{i}"), status, t0() + Duration::minutes(i / 2));
        store.create_listings(vec![l], vec![]).await.unwrap();
    }
    store.create_listings(vec![listing(&m.id, &b.partner_id, "B", ListingStatus::Active, t0())], vec![]).await.unwrap();
    for status in [None, Some(ListingStatus::Active), Some(ListingStatus::Draft), Some(ListingStatus::Archived)] {
        for size in [1u32, 2, 3, 20] {
            let (by_offset, by_cursor, total) =
                both_walks!(|w| store.list_listings(&m.id, &a.partner_id, status, w, size), size as usize);
            let ids = |v: &[ListingRecord]| v.iter().map(|l| l.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&by_cursor), ids(&by_offset), "{status:?} by {size}");
            assert_eq!(by_cursor.len() as u64, total);
            no_repeats(&ids(&by_cursor));
            assert!(by_cursor.iter().all(|l| l.partner_id == a.partner_id && status.is_none_or(|s| l.status == s)));
        }
    }
    // A listing written during the walk before the cursor's position (newer: earlier in the
    // order) neither shifts nor repeats the rest; one written after it is reached.
    let all = store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 100).await.unwrap().items;
    let first = store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(0), 4).await.unwrap();
    let newer = listing(&m.id, &a.partner_id, "Newer", ListingStatus::Active, t0() + Duration::days(1));
    store.create_listings(vec![newer.clone()], vec![]).await.unwrap();
    let (mut rest, mut next) = (Vec::new(), first.next.clone());
    while let Some(c) = next {
        let page = store.list_listings(&m.id, &a.partner_id, None, &Window::After(c), 4).await.unwrap();
        rest.extend(page.items.into_iter().map(|l| l.id));
        next = page.next;
    }
    let expected: Vec<String> = all[4..].iter().map(|l| l.id.clone()).collect();
    assert_eq!(rest, expected, "rows before the cursor do not shift the walk");
    let offset_page = store.list_listings(&m.id, &a.partner_id, None, &Window::Offset(4), 4).await.unwrap();
    assert_eq!(offset_page.items[0].id, all[3].id, "(an offset page does shift)");
}

/// Marks along a list (the cursor after every `every`th row) let a deep offset be served as a
/// seek past a mark plus a few steps: that must be the same page as the offset's.
pub async fn listing_marks_seek_what_offsets_walk(store: &dyn Store) {
    let (m, a, b) = two_partners(store).await;
    // Equal creation times in pairs, so marks fall on tie-broken rows too.
    for i in 0..23 {
        let status = if i % 4 == 0 { ListingStatus::Draft } else { ListingStatus::Active };
        let l = listing(&m.id, &a.partner_id, &format!("L{i}"), status, t0() + Duration::minutes(i / 2));
        store.create_listings(vec![l], vec![]).await.unwrap();
    }
    store.create_listings(vec![listing(&m.id, &b.partner_id, "B", ListingStatus::Active, t0())], vec![]).await.unwrap();
    let every = 4u32;
    for status in [None, Some(ListingStatus::Active), Some(ListingStatus::Draft), Some(ListingStatus::Archived)] {
        let marks = store.listing_marks(&m.id, &a.partner_id, status, every).await.unwrap();
        let total = store.list_listings(&m.id, &a.partner_id, status, &Window::Offset(0), 1).await.unwrap().total;
        assert_eq!(marks.len() as u64, total / u64::from(every), "{status:?}");
        for offset in u64::from(every)..=total {
            let k = usize::try_from(offset / u64::from(every)).unwrap().min(marks.len());
            let window = Window::Beyond { after: marks[k - 1].clone(), skip: offset - k as u64 * u64::from(every) };
            for size in [1u32, 3] {
                let sought = store.list_listings(&m.id, &a.partner_id, status, &window, size).await.unwrap();
                let walked = store.list_listings(&m.id, &a.partner_id, status, &Window::Offset(offset), size).await;
                let walked = walked.unwrap();
                let ids = |p: &ListingPage| p.items.iter().map(|l| l.id.clone()).collect::<Vec<_>>();
                assert_eq!(ids(&sought), ids(&walked), "{status:?} at {offset} by {size}");
                assert_eq!((sought.total, sought.next.is_some()), (walked.total, walked.next.is_some()));
            }
        }
    }
}

pub async fn sorted_pages_walk_by_cursor_over_equal_and_null_keys(store: &dyn Store) {
    let m = marketplace(store).await;
    let mut reseller = account_company(&m.id, "Reseller");
    reseller.is_reseller = true;
    store.create_company(reseller.clone(), None, vec![]).await.unwrap();
    let names = [None, Some("Ann"), Some("bob"), Some("Ann"), None, Some("Cy"), Some("Ann"), None, Some("Bob")];
    for (i, name) in names.iter().enumerate() {
        let mut u = account_user(&m.id, &format!("u{}@x.example", 9 - i));
        u.first_name = name.map(Into::into);
        u.created_at = t0() + Duration::seconds((i / 3) as i64);
        let new = NewAccountUser { user: u, company_id: reseller.id.clone(), roles: vec![] };
        store.create_account_user(new, vec![]).await.unwrap();
    }
    let filter = |sort: UserSort, order: SortOrder| UserFilter {
        scope: CompanyScope::ResellersAndReferrals,
        company_id: None,
        activity: None,
        from: None,
        to: None,
        search: None,
        sort,
        order,
    };
    let ids = |v: &[UserRecord]| v.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    for sort in [UserSort::FirstName, UserSort::CreatedOn, UserSort::Email, UserSort::Id] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for size in [1u32, 2, 4] {
                let f = filter(sort, order);
                let (by_offset, by_cursor, total) =
                    both_walks!(|w| store.list_users(&m.id, &f, w, size), size as usize);
                assert_eq!(ids(&by_cursor), ids(&by_offset), "{sort:?} {order:?} by {size}");
                assert_eq!(by_cursor.len() as u64, total);
                assert_eq!(total, names.len() as u64);
                no_repeats(&ids(&by_cursor));
            }
        }
    }
    // Leads by company name: a key expression (`LOWER(…)`) with equal values in several cases.
    use partnerd_domain::lead::LeadType;
    for (i, name) in ["beta", "Alpha", "BETA", "alpha", "gamma", "Beta", "alpha"].iter().enumerate() {
        let mut l = lead(&m.id, LeadType::Manual, Some("company_a"));
        l.customer_company_name = (*name).into();
        l.created_at = t0() + Duration::seconds((i / 2) as i64);
        store.create_lead(l, vec![]).await.unwrap();
    }
    let lead_filter = |sort: LeadSort, order: SortOrder| LeadFilter {
        viewer_company_id: "company_a".into(),
        manager: false,
        statuses: vec![],
        from: None,
        to: None,
        search: None,
        sort,
        order,
    };
    let lead_ids = |v: &[LeadRecord]| v.iter().map(|l| l.id.clone()).collect::<Vec<_>>();
    for sort in [LeadSort::CompanyName, LeadSort::Date] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for size in [1u32, 2, 3] {
                let f = lead_filter(sort, order);
                let (by_offset, by_cursor, total) =
                    both_walks!(|w| store.list_leads(&m.id, &f, w, size), size as usize);
                assert_eq!(lead_ids(&by_cursor), lead_ids(&by_offset), "leads {sort:?} {order:?} by {size}");
                assert_eq!(total, 7);
                no_repeats(&lead_ids(&by_cursor));
            }
        }
    }
    // A row written before the cursor's position during the walk does not shift it.
    let f = filter(UserSort::FirstName, SortOrder::Asc);
    let all = store.list_users(&m.id, &f, &Window::Offset(0), 100).await.unwrap().items;
    let first = store.list_users(&m.id, &f, &Window::Offset(0), 4).await.unwrap();
    let mut early = account_user(&m.id, "early@x.example");
    early.first_name = Some("Aaron".into());
    let new = NewAccountUser { user: early, company_id: reseller.id.clone(), roles: vec![] };
    store.create_account_user(new, vec![]).await.unwrap();
    let (mut rest, mut next) = (Vec::new(), first.next.clone());
    while let Some(c) = next {
        let page = store.list_users(&m.id, &f, &Window::After(c), 4).await.unwrap();
        rest.extend(page.items.into_iter().map(|u| u.id));
        next = page.next;
    }
    assert_eq!(rest, ids(&all[4..]), "rows before the cursor do not shift the walk");
    // A cursor belongs to its sort: another sort, or the other direction, refuses it.
    let cursor = first.next.clone().expect("a next page");
    for (sort, order) in [
        (UserSort::FirstName, SortOrder::Desc),
        (UserSort::Email, SortOrder::Asc),
        (UserSort::CreatedOn, SortOrder::Asc),
    ] {
        let refused = store.list_users(&m.id, &filter(sort, order), &Window::After(cursor.clone()), 4).await;
        assert!(matches!(refused, Err(StoreError::InvalidCursor)), "{sort:?} {order:?}: {refused:?}");
    }
    let refused =
        store.list_leads(&m.id, &lead_filter(LeadSort::Date, SortOrder::Asc), &Window::After(cursor), 4).await;
    assert!(matches!(refused, Err(StoreError::InvalidCursor)), "another list: {refused:?}");
    // The same sort takes it.
    assert!(store.list_users(&m.id, &f, &Window::After(first.next.unwrap()), 4).await.is_ok());
}

/// The contract's cases: every `pub async fn <name>(store: &dyn Store)` in this file, read from
/// its own source so that a case cannot be defined without [`crate::store_contract_tests!`]
/// noticing it is not instantiated.
pub fn defined_cases() -> Vec<&'static str> {
    let mut cases: Vec<&str> = include_str!("contract.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub async fn "))
        .filter_map(|l| l.strip_suffix("(store: &dyn Store) {"))
        .collect();
    cases.sort_unstable();
    cases
}

/// Instantiates the contract as `#[tokio::test]`s. `$make` is an async expression yielding
/// `Option<Arc<dyn Store>>`.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@cases $make;
            default_marketplace_is_created_once,
            partner_enrolment_is_readable_everywhere,
            reads_are_scoped_by_marketplace,
            a_refused_enrolment_writes_nothing,
            keys_are_created_listed_and_revoked,
            keys_need_a_membership,
            events_are_found_by_type_and_time,
            listings_are_private_to_their_partner,
            listings_page_newest_first_with_totals,
            listing_pages_walk_by_cursor,
            listing_marks_seek_what_offsets_walk,
            a_product_image_is_read_alone,
            sorted_pages_walk_by_cursor_over_equal_and_null_keys,
            listing_updates_are_versioned_and_counted,
            drafts_publish_once_and_atomically,
            a_batch_of_listings_is_all_or_nothing,
            concurrent_listing_writes_do_not_deadlock,
            opportunities_are_seen_by_both_parties_only,
            opportunities_filter_and_page,
            opportunity_updates_are_versioned,
            analytics_figures_come_from_the_database,
            money_sums_past_i64_are_exact,
            reports_are_stored_listed_and_scheduled_once,
            user_emails_are_found_by_id,
            webhooks_are_registered_per_partner,
            events_fan_out_to_subscribed_active_webhooks_of_their_audience,
            attempts_are_fenced_retried_and_logged,
            webhook_limits_rotations_and_secrets_are_transactional,
            leases_are_renewed_only_by_their_holder,
            claims_take_each_endpoints_oldest_and_skip_those_left_out,
            gone_disables_the_webhook_and_cancels_its_deliveries,
            test_deliveries_are_logged,
            every_opportunity_field_round_trips,
            every_listing_and_draft_field_round_trips,
            every_report_field_round_trips,
            every_webhook_and_delivery_field_round_trips,
            every_key_partner_and_event_field_round_trips,
            idempotency_keys_are_claimed_once_then_replayed,
            idempotency_claims_lapse_are_released_and_expire,
            every_lead_field_round_trips,
            leads_are_listed_as_their_viewer_sees_them,
            lead_totals_follow_every_write,
            a_refused_conversion_writes_nothing,
            every_ticket_field_round_trips,
            tickets_filter_and_page,
            ticket_metrics_come_from_the_rows,
            usage_days_round_trip_and_fold_the_records,
            usage_reingest_counts_each_record_once,
            concurrent_usage_batches_count_once_without_deadlock,
            every_white_label_field_round_trips,
            custom_domains_are_unique_in_a_marketplace,
            deployments_are_numbered_once_per_customer,
            customers_are_the_partner_companys_associations,
            every_subscription_order_and_seat_field_round_trips,
            subscription_writes_are_whole_and_seats_never_exceed_the_quantity,
            every_payment_method_field_round_trips,
            payment_methods_keep_one_default_per_owner_and_seller,
            quote_fields_round_trip_and_finalizing_is_whole,
            concurrent_quotes_and_customers_are_counted_exactly,
            dashboard_links_sessions_and_sign_in_failures_behave,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        /// A case defined in the contract but missing from the list above fails here.
        #[test]
        fn every_contract_case_is_instantiated() {
            let mut instantiated = vec![$(stringify!($case)),*];
            instantiated.sort_unstable();
            assert_eq!(instantiated, $crate::contract::defined_cases());
        }

        $(
            #[tokio::test]
            async fn $case() {
                let Some(store) = $make else { return };
                $crate::contract::$case(&*store).await;
            }
        )*
    };
}
