//! Per-process read caches and the one task that keeps them honest.
//!
//! Three caches: the key cache (`auth`), the listing cache below (`GET /listings/{id}` is the
//! hottest read of the partners surface) and the heads of listing lists (the ids of the first
//! pages of `GET /listings`, which OFFSET would otherwise walk on every request). All follow
//! the same rules:
//! - a write made by this process evicts what it changed before the write is acknowledged, so
//!   no later read in this process sees the old value;
//! - a fill that raced with an eviction is dropped (an eviction bumps a generation the fill
//!   read before going to the store);
//! - writes made elsewhere (the CLI, another server on the same PostgreSQL) are noticed from the
//!   shared event log within one poll interval (`spawn_invalidation`).

use crate::auth::Authenticator;
use chrono::Utc;
use partnerd_domain::events::{AUTH_RELEVANT, types};
use partnerd_domain::listing::ListingStatus;
use partnerd_store::{EventRecord, ListingHead, ListingRecord, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How far back the invalidation poll re-reads, so an event whose transaction committed late
/// (after a newer one was already seen) is still noticed.
const INVALIDATION_LOOKBACK: chrono::Duration = chrono::Duration::seconds(10);

/// Listings kept at most (about 1–2 KiB each): the working set of the integrations that read
/// listings one by one, within the server's memory budget.
const MAX_CACHED_LISTINGS: usize = 16_384;

/// Event types after which a cached listing may be stale: every write that changes a stored
/// listing appends one of them (its subject is the listing), and a removed sandbox takes its
/// marketplace's listings with it.
pub const LISTING_RELEVANT: &[&str] = &[
    types::LISTING_CREATED,
    types::LISTING_UPDATED,
    types::CONTENT_PUBLISHED,
    types::SEO_SCORE_CHANGED,
    types::SANDBOX_DELETED,
];

/// Listings by id, as last read or written by this process.
#[derive(Default)]
pub struct ListingCache {
    entries: RwLock<HashMap<String, Arc<ListingRecord>>>,
    generation: AtomicU64,
    heads: ListHeads,
}

/// Rows a list head holds: the newest 100 pages of 20 (or 20 of 100), where integrations and
/// dashboards page.
pub const HEAD_ROWS: u32 = 2_048;
/// Lists whose heads are kept (one per partner and status filter; ~60 KiB each).
const MAX_HEADS: usize = 256;

/// A partner's list, optionally of one status.
pub type HeadKey = (String, String, Option<ListingStatus>);

/// The first [`HEAD_ROWS`] ids of listing lists. A listing created, or one whose status
/// changed, moves positions: every head of that partner goes.
#[derive(Default)]
pub struct ListHeads {
    entries: RwLock<HashMap<HeadKey, Arc<ListingHead>>>,
    generation: AtomicU64,
}

impl ListHeads {
    pub fn get(&self, key: &HeadKey) -> Option<Arc<ListingHead>> {
        self.entries.read().expect("list head lock").get(key).cloned()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn fill(&self, generation: u64, key: HeadKey, head: Arc<ListingHead>) {
        let mut entries = self.entries.write().expect("list head lock");
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_HEADS {
            entries.clear();
        }
        entries.insert(key, head);
    }

    /// After a partner's listing was created or changed status (by this process or another).
    pub fn evict_partner(&self, marketplace_id: &str, partner_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().expect("list head lock").retain(|(m, p, _), _| !(m == marketplace_id && p == partner_id));
    }

    pub fn evict_marketplace(&self, marketplace_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().expect("list head lock").retain(|(m, _, _), _| m != marketplace_id);
    }
}

impl ListingCache {
    /// The cached listing, if it is this partner's (ids are global; isolation is checked here
    /// as the store's query would).
    pub fn get(&self, marketplace_id: &str, partner_id: &str, id: &str) -> Option<Arc<ListingRecord>> {
        let entries = self.entries.read().expect("listing cache lock");
        let hit = entries.get(id)?;
        (hit.marketplace_id == marketplace_id && hit.partner_id == partner_id).then(|| hit.clone())
    }

    /// What a fill must present to [`ListingCache::fill`]: read it before going to the store.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `listing` unless an eviction happened since `generation` was read.
    pub fn fill(&self, generation: u64, listing: Arc<ListingRecord>) {
        let mut entries = self.entries.write().expect("listing cache lock");
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_CACHED_LISTINGS {
            // Drops an arbitrary eighth (the map's order is random); always correct.
            let drop: Vec<String> = entries.keys().take(MAX_CACHED_LISTINGS / 8).cloned().collect();
            for k in drop {
                entries.remove(&k);
            }
        }
        entries.insert(listing.id.clone(), listing);
    }

    /// Forgets a listing: after this process wrote it (or lost a race to another writer).
    pub fn evict(&self, id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().expect("listing cache lock").remove(id);
    }

    /// Forgets a marketplace's listings (a sandbox that was removed).
    pub fn evict_marketplace(&self, marketplace_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().expect("listing cache lock").retain(|_, l| l.marketplace_id != marketplace_id);
    }

    fn apply(&self, e: &EventRecord) {
        if e.event_type == types::SANDBOX_DELETED {
            self.evict_marketplace(&e.subject_id);
        } else if LISTING_RELEVANT.contains(&e.event_type.as_str()) {
            self.evict(&e.subject_id);
        }
        if e.event_type == types::SANDBOX_DELETED {
            self.heads.evict_marketplace(&e.subject_id);
        } else if (e.event_type == types::LISTING_CREATED || e.event_type == types::LISTING_UPDATED)
            && let Some(partner) = &e.partner_id
        {
            self.heads.evict_partner(&e.marketplace_id, partner);
        }
    }

    /// The heads of this process's listing lists.
    pub fn heads(&self) -> &ListHeads {
        &self.heads
    }

    pub fn len(&self) -> usize {
        self.entries.read().expect("listing cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads the events that can make a cached entry stale from the shared log every `interval`
/// and evicts what they name, in both caches. Runs until the returned task is aborted.
pub fn spawn_invalidation(
    store: Arc<dyn Store>,
    auth: Arc<Authenticator>,
    listings: Arc<ListingCache>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    let relevant: Vec<&str> = AUTH_RELEVANT.iter().chain(LISTING_RELEVANT).copied().fold(Vec::new(), |mut all, t| {
        if !all.contains(&t) {
            all.push(t);
        }
        all
    });
    tokio::spawn(async move {
        // Wall-clock time: `recorded_at` is written by the database host's clock.
        let mut since = Utc::now() - INVALIDATION_LOOKBACK;
        loop {
            tokio::time::sleep(interval).await;
            let started = Utc::now();
            match store.events_recorded_since(since, &relevant).await {
                Ok(events) => {
                    for e in &events {
                        if AUTH_RELEVANT.contains(&e.event_type.as_str()) {
                            auth.apply(e);
                        }
                        listings.apply(e);
                    }
                    since = started - INVALIDATION_LOOKBACK;
                }
                Err(e) => tracing::warn!(error = %e, "cache invalidation poll failed; retrying"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use partnerd_domain::listing::{ListingContent, ListingStatus};

    fn listing(id: &str, m: &str, p: &str) -> Arc<ListingRecord> {
        let now = Utc::now();
        Arc::new(ListingRecord {
            id: id.into(),
            marketplace_id: m.into(),
            partner_id: p.into(),
            content: ListingContent::default(),
            status: ListingStatus::Draft,
            seo_score: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[test]
    fn hits_are_only_the_owners_and_evictions_win_races() {
        let c = ListingCache::default();
        let g = c.generation();
        c.fill(g, listing("l1", "m", "p"));
        assert!(c.get("m", "p", "l1").is_some());
        assert!(c.get("m", "other", "l1").is_none(), "another partner's listing is not served");
        assert!(c.get("m2", "p", "l1").is_none(), "nor another marketplace's");

        // A fill that read before an eviction is dropped.
        let stale = c.generation();
        c.evict("l1");
        c.fill(stale, listing("l1", "m", "p"));
        assert!(c.get("m", "p", "l1").is_none());

        c.fill(c.generation(), listing("l2", "m", "p"));
        c.fill(c.generation(), listing("l3", "m9", "p"));
        c.evict_marketplace("m");
        assert!(c.get("m", "p", "l2").is_none());
        assert!(c.get("m9", "p", "l3").is_some());
    }

    #[test]
    fn heads_go_with_their_partners_changes() {
        let c = ListingCache::default();
        let head = Arc::new(ListingHead { ids: vec!["l1".into()], complete: true, total: 1 });
        let (mine, theirs) = (("m".to_owned(), "p".to_owned(), None), ("m".to_owned(), "q".to_owned(), None));
        c.heads().fill(c.heads().generation(), mine.clone(), head.clone());
        c.heads().fill(c.heads().generation(), theirs.clone(), head.clone());
        let stale = c.heads().generation();
        c.heads().evict_partner("m", "p");
        assert!(c.heads().get(&mine).is_none());
        assert!(c.heads().get(&theirs).is_some(), "another partner's head stays");
        c.heads().fill(stale, mine.clone(), head);
        assert!(c.heads().get(&mine).is_none(), "a fill that raced with an eviction is dropped");
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let c = ListingCache::default();
        for i in 0..MAX_CACHED_LISTINGS + 10 {
            c.fill(c.generation(), listing(&format!("l{i}"), "m", "p"));
        }
        assert!(c.len() <= MAX_CACHED_LISTINGS);
    }
}
