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
use partnerd_store::{Cursor, EventNote, ListingHead, ListingRecord, Store, Window};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How far back the invalidation poll re-reads, so an event whose transaction committed late
/// (after a newer one was already seen) is still noticed.
const INVALIDATION_LOOKBACK: chrono::Duration = chrono::Duration::seconds(10);

/// The memory the cached listings may take (see [`footprint`]): the working set of the
/// integrations that read listings one by one (about 10k listings of 2 KiB), within the
/// server's memory budget. A count would not do: a listing's copy can be a few hundred bytes
/// or tens of KiB.
const LISTING_CACHE_BYTES: usize = 24 << 20;

/// About what a cached listing costs: the record, its strings' heap bytes, the map's entry.
fn footprint(l: &ListingRecord) -> usize {
    fn strings(v: &[String]) -> usize {
        v.iter().map(|s| size_of::<String>() + s.capacity()).sum()
    }
    let c = &l.content;
    let text = [&l.id, &l.marketplace_id, &l.partner_id, &c.title, &c.short_description, &c.long_description]
        .into_iter()
        .chain([&c.pricing_model, &c.marketplace])
        .chain(c.logo_url.iter().chain(c.product_id.iter()))
        .map(String::capacity)
        .sum::<usize>();
    let lists = [&c.highlights, &c.categories, &c.keywords, &c.images].into_iter().map(|v| strings(v)).sum::<usize>();
    // The key is a copy of the id; an Arc and a map slot beside it.
    size_of::<ListingRecord>() + text + lists + size_of::<String>() + l.id.len() + 64
}

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

/// Listings by id, as last read or written by this process, and what is kept per list.
pub struct ListingCache {
    entries: RwLock<Listings>,
    generation: AtomicU64,
    heads: ListHeads,
    marks: Lists<ListingMarks>,
}

/// The one build of a list's marks under way; over when dropped (a request cancelled mid-build
/// included), so the next asks may build again. Dropping it also wakes the asks waiting for it
/// (its sender goes with it).
pub struct MarksBuild<'a> {
    lists: &'a Lists<ListingMarks>,
    key: &'a HeadKey,
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for MarksBuild<'_> {
    fn drop(&mut self) {
        // Before `_done` drops: a woken waiter finds the marks kept and the count reset.
        self.lists.built(self.key);
    }
}

/// What a deep page of a list without marks does.
pub enum MarksTurn<'a> {
    /// Answer by OFFSET (the list has not been asked for deeply enough yet).
    Offset,
    /// Build them now, holding the build until dropped.
    Build(MarksBuild<'a>),
    /// Another ask is building them: wait for it ([`MarksWait::done`]), then look again.
    Wait(MarksWait),
}

/// A wait for the build under way.
pub struct MarksWait(tokio::sync::watch::Receiver<()>);

impl MarksWait {
    /// Returns when the build is over, kept, failed or cancelled alike (its sender is dropped
    /// then, and nothing is ever sent).
    pub async fn done(mut self) {
        while self.0.changed().await.is_ok() {}
    }
}

impl Default for ListingCache {
    fn default() -> Self {
        Self {
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            heads: Lists::new(HEAD_CACHE_BYTES),
            marks: Lists::new(MARK_CACHE_BYTES),
        }
    }
}

/// The cached listings and their [`footprint`]s' sum.
#[derive(Default)]
struct Listings {
    map: HashMap<String, Arc<ListingRecord>>,
    bytes: usize,
}

impl Listings {
    /// The cached listing, if it is this partner's: ids are global, so isolation is checked
    /// here as the store's query would.
    fn owned(&self, marketplace_id: &str, partner_id: &str, id: &str) -> Option<Arc<ListingRecord>> {
        let hit = self.map.get(id)?;
        (hit.marketplace_id == marketplace_id && hit.partner_id == partner_id).then(|| hit.clone())
    }

    fn remove(&mut self, id: &str) {
        if let Some(gone) = self.map.remove(id) {
            self.bytes -= footprint(&gone);
        }
    }

    fn retain(&mut self, keep: impl Fn(&ListingRecord) -> bool) {
        let mut freed = 0;
        self.map.retain(|_, l| {
            let kept = keep(l);
            if !kept {
                freed += footprint(l);
            }
            kept
        });
        self.bytes -= freed;
    }
}

/// Rows a list head holds: the newest 100 pages of 20 (or 20 of 100), where integrations and
/// dashboards page.
pub const HEAD_ROWS: u32 = 2_048;
/// The memory list heads may take (a full head of [`HEAD_ROWS`] ids is ~110 KiB: about 70 of
/// them, one per partner and status filter).
const HEAD_CACHE_BYTES: usize = 8 << 20;

/// Rows between two marks of a long list ([`ListingMarks`]): a deep page steps over at most
/// this many index entries after seeking its mark.
pub const MARK_EVERY: u32 = 1_024;
/// The memory marks may take (a million-row list's ~1,000 marks are ~130 KiB).
const MARK_CACHE_BYTES: usize = 4 << 20;
/// Deep pages a list answers by OFFSET before its marks are built (again): a build walks the
/// whole list, about two deep pages' work, so under a stream of writes (each takes the
/// partner's marks away) rebuilding on every deep page would cost more than OFFSET. With this,
/// a list changed between every few deep pages costs at most a quarter more than OFFSET, and a
/// list being synced page by page pays OFFSET for three pages only.
const MARK_AFTER_DEEP_PAGES: u32 = 4;

/// A partner's list, optionally of one status.
pub type HeadKey = (String, String, Option<ListingStatus>);

/// The cursors after every [`MARK_EVERY`]th row of a listing list (after rows 1,024, 2,048 …).
#[derive(Debug, Clone, PartialEq)]
pub struct ListingMarks(pub Vec<Cursor>);

impl ListingMarks {
    /// Where the page at `offset` starts: after the last mark before it, skipping the rest.
    /// `None` before the first mark, or with none.
    pub fn window(&self, offset: u64) -> Option<Window> {
        let every = u64::from(MARK_EVERY);
        let passed = usize::try_from(offset / every).unwrap_or(usize::MAX).min(self.0.len());
        let mark = self.0.get(passed.checked_sub(1)?)?;
        Some(Window::Beyond { after: mark.clone(), skip: offset - passed as u64 * every })
    }
}

/// What a kept list costs in memory, roughly.
pub trait Footprint {
    fn footprint(&self) -> usize;
}

impl Footprint for ListingHead {
    fn footprint(&self) -> usize {
        self.ids.iter().map(|id| size_of::<String>() + id.capacity()).sum::<usize>() + size_of::<Self>() + 128
    }
}

impl Footprint for ListingMarks {
    fn footprint(&self) -> usize {
        self.0.iter().map(Cursor::footprint).sum::<usize>() + size_of::<Self>() + 128
    }
}

/// Asks for a list not kept, or the build under way.
enum Asked {
    Count(u32),
    Building(tokio::sync::watch::Receiver<()>),
}

/// What [`Lists::asked_for`] tells an ask.
enum Ask {
    Not,
    Build(tokio::sync::watch::Sender<()>),
    Wait(tokio::sync::watch::Receiver<()>),
}

/// What is kept per listing list (its head, its marks), within a byte budget. A listing
/// created, or one whose status changed, moves positions: every list of that partner goes.
pub struct Lists<T> {
    entries: RwLock<Kept<T>>,
    generation: AtomicU64,
    budget: usize,
    /// Asks for lists not kept, since their partner's last change (bounded: forgotten
    /// wholesale past 4,096 lists).
    asked: Mutex<HashMap<HeadKey, Asked>>,
}

/// The first [`HEAD_ROWS`] ids of listing lists.
pub type ListHeads = Lists<ListingHead>;

struct Kept<T> {
    map: HashMap<HeadKey, Arc<T>>,
    bytes: usize,
}

impl<T: Footprint> Lists<T> {
    fn new(budget: usize) -> Self {
        Self {
            entries: RwLock::new(Kept { map: HashMap::new(), bytes: 0 }),
            generation: AtomicU64::new(0),
            budget,
            asked: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &HeadKey) -> Option<Arc<T>> {
        self.entries.read().expect("list cache lock").map.get(key).cloned()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn fill(&self, generation: u64, key: HeadKey, list: Arc<T>) {
        let mut entries = self.entries.write().expect("list cache lock");
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        let size = list.footprint();
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= old.footprint();
        }
        if entries.bytes + size > self.budget {
            // Each is refilled by one indexed read: starting over is cheap and simple.
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += size;
        entries.map.insert(key, list);
    }

    /// What the kept lists take, by [`Footprint`].
    pub fn bytes(&self) -> usize {
        self.entries.read().expect("list cache lock").bytes
    }

    /// Counts an ask for a list not kept: whether this is the `times`th since its partner's
    /// lists last changed, and so the asker's to build. One asker builds at a time, and the
    /// others wait for it until [`Self::built`]: 64 requests building the same marks at once
    /// took PostgreSQL's deep pages at 1M rows from seconds to timeouts, and 63 answering by
    /// OFFSET meanwhile kept the one build from finishing.
    fn asked_for(&self, key: &HeadKey, times: u32) -> Ask {
        let mut asked = self.asked.lock().expect("list asks lock");
        if asked.len() >= 4_096 && !asked.contains_key(key) {
            asked.clear();
        }
        let entry = asked.entry(key.clone()).or_insert(Asked::Count(0));
        match entry {
            Asked::Building(done) => Ask::Wait(done.clone()),
            Asked::Count(n) if *n + 1 >= times => {
                let (tx, rx) = tokio::sync::watch::channel(());
                *entry = Asked::Building(rx);
                Ask::Build(tx)
            }
            Asked::Count(n) => {
                *n += 1;
                Ask::Not
            }
        }
    }

    /// The build [`Self::asked_for`] allowed is over (kept, dropped by a race, or failed): the
    /// count starts again.
    pub fn built(&self, key: &HeadKey) {
        self.asked.lock().expect("list asks lock").remove(key);
    }

    /// After a partner's listing was created or changed status (by this process or another).
    pub fn evict_partner(&self, marketplace_id: &str, partner_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.retain(|(m, p, _)| !(m == marketplace_id && p == partner_id));
    }

    pub fn evict_marketplace(&self, marketplace_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.retain(|(m, _, _)| m != marketplace_id);
    }

    fn retain(&self, keep: impl Fn(&HeadKey) -> bool) {
        let mut entries = self.entries.write().expect("list cache lock");
        entries.map.retain(|k, _| keep(k));
        entries.bytes = entries.map.values().map(|l| l.footprint()).sum();
        self.asked.lock().expect("list asks lock").retain(|k, _| keep(k));
    }
}

impl ListingCache {
    /// The cached listing, if it is this partner's (ids are global; isolation is checked here
    /// as the store's query would).
    pub fn get(&self, marketplace_id: &str, partner_id: &str, id: &str) -> Option<Arc<ListingRecord>> {
        self.entries.read().expect("listing cache lock").owned(marketplace_id, partner_id, id)
    }

    /// [`Self::get`] for each of `ids`, under one read of the lock (a list page asks for 20:
    /// taking the lock per id was most of the cost of a cached page's rows).
    pub fn get_many(&self, marketplace_id: &str, partner_id: &str, ids: &[String]) -> Vec<Option<Arc<ListingRecord>>> {
        let entries = self.entries.read().expect("listing cache lock");
        ids.iter().map(|id| entries.owned(marketplace_id, partner_id, id)).collect()
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
        let size = footprint(&listing);
        if size > LISTING_CACHE_BYTES / 64 {
            return; // one listing may not push out dozens
        }
        entries.remove(&listing.id);
        if entries.bytes + size > LISTING_CACHE_BYTES {
            // Drops arbitrary entries (the map's order is random) down to seven eighths of the
            // budget, so that fills at the limit do not evict one by one; always correct.
            let target = LISTING_CACHE_BYTES / 8 * 7 - size;
            let mut over = entries.bytes.saturating_sub(target);
            let drop: Vec<String> = entries
                .map
                .values()
                .take_while(|l| {
                    let more = over > 0;
                    over = over.saturating_sub(footprint(l));
                    more
                })
                .map(|l| l.id.clone())
                .collect();
            for k in drop {
                entries.remove(&k);
            }
        }
        entries.bytes += size;
        entries.map.insert(listing.id.clone(), listing);
    }

    /// What the cached listings take, by [`footprint`].
    pub fn bytes(&self) -> usize {
        self.entries.read().expect("listing cache lock").bytes
    }

    /// Forgets a listing: after this process wrote it (or lost a race to another writer).
    pub fn evict(&self, id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().expect("listing cache lock").remove(id);
    }

    /// Forgets a marketplace's listings (a sandbox that was removed).
    pub fn evict_marketplace(&self, marketplace_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().expect("listing cache lock").retain(|l| l.marketplace_id != marketplace_id);
    }

    fn apply(&self, e: &EventNote) {
        if e.event_type == types::SANDBOX_DELETED {
            self.evict_marketplace(&e.subject_id);
        } else if LISTING_RELEVANT.contains(&e.event_type.as_str()) {
            self.evict(&e.subject_id);
        }
        if e.event_type == types::SANDBOX_DELETED {
            self.heads.evict_marketplace(&e.subject_id);
            self.marks.evict_marketplace(&e.subject_id);
        } else if (e.event_type == types::LISTING_CREATED || e.event_type == types::LISTING_UPDATED)
            && let Some(partner) = &e.partner_id
        {
            self.evict_lists(&e.marketplace_id, partner);
        }
    }

    /// After a partner's listing was created or changed status: its lists' heads and marks go.
    pub fn evict_lists(&self, marketplace_id: &str, partner_id: &str) {
        self.heads.evict_partner(marketplace_id, partner_id);
        self.marks.evict_partner(marketplace_id, partner_id);
    }

    /// The heads of this process's listing lists.
    pub fn heads(&self) -> &ListHeads {
        &self.heads
    }

    /// The marks along this process's long listing lists.
    pub fn marks(&self) -> &Lists<ListingMarks> {
        &self.marks
    }

    /// Counts a deep page of a list without marks: whether the caller answers it by OFFSET,
    /// builds the marks now (see [`MARK_AFTER_DEEP_PAGES`]) or waits for the build under way.
    pub fn build_marks<'a>(&'a self, key: &'a HeadKey) -> MarksTurn<'a> {
        // A guard is made only when allowed: one made and dropped would end a build not started.
        match self.marks.asked_for(key, MARK_AFTER_DEEP_PAGES) {
            Ask::Not => MarksTurn::Offset,
            Ask::Build(done) => MarksTurn::Build(MarksBuild { lists: &self.marks, key, _done: done }),
            Ask::Wait(done) => MarksTurn::Wait(MarksWait(done)),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.read().expect("listing cache lock").map.len()
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
        // The events the last poll saw: its window overlaps the next one's, and evicting again
        // would only drop fills racing with the eviction. An event not among them is new.
        let mut seen = std::collections::HashSet::new();
        loop {
            tokio::time::sleep(interval).await;
            let started = Utc::now();
            match store.event_notes_since(since, &relevant).await {
                Ok(events) => {
                    for e in events.iter().filter(|e| !seen.contains(&e.seq)) {
                        if AUTH_RELEVANT.contains(&e.event_type.as_str()) {
                            auth.apply(e);
                        }
                        listings.apply(e);
                    }
                    seen = events.iter().map(|e| e.seq).collect();
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
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let hits = |m, p| c.get_many(m, p, &ids(&["l1", "nope", "l1"])).iter().map(Option::is_some).collect::<Vec<_>>();
        assert_eq!(hits("m", "p"), [true, false, true]);
        assert_eq!(hits("m", "other"), [false, false, false], "nor by the many");
        assert_eq!(hits("m2", "p"), [false, false, false]);

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

    fn sized(id: &str, description_bytes: usize) -> Arc<ListingRecord> {
        let mut l = Arc::unwrap_or_clone(listing(id, "m", "p"));
        l.content.long_description = "x".repeat(description_bytes);
        Arc::new(l)
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let c = ListingCache::default();
        // 4 KiB listings: the budget holds about 6,000 of them.
        let n = LISTING_CACHE_BYTES / 4096 * 2;
        for i in 0..n {
            c.fill(c.generation(), sized(&format!("l{i}"), 4096));
            assert!(c.bytes() <= LISTING_CACHE_BYTES, "over budget after {i} fills: {}", c.bytes());
        }
        assert!(c.get("m", "p", &format!("l{}", n - 1)).is_some(), "the newest fill is kept");
        assert!(c.len() > LISTING_CACHE_BYTES / 4096 / 2, "evictions free what is needed, not everything");
        // Refilling the same id replaces it and does not count it twice.
        let before = c.bytes();
        c.fill(c.generation(), sized(&format!("l{}", n - 1), 4096));
        assert_eq!(c.bytes(), before);
        // Evictions give the bytes back.
        c.evict_marketplace("m");
        assert_eq!((c.len(), c.bytes()), (0, 0));
    }

    #[test]
    fn a_listing_too_large_for_its_share_is_not_kept() {
        let c = ListingCache::default();
        c.fill(c.generation(), sized("small", 100));
        c.fill(c.generation(), sized("huge", LISTING_CACHE_BYTES / 32));
        assert!(c.get("m", "p", "huge").is_none());
        assert!(c.get("m", "p", "small").is_some(), "and pushes nothing out");
    }

    #[test]
    fn heads_stay_within_their_byte_budget() {
        let c = ListingCache::default();
        let ids: Vec<String> = (0..HEAD_ROWS).map(|i| format!("lst_{i:028}")).collect();
        let head = Arc::new(ListingHead { ids, complete: false, total: 1_000_000 });
        for p in 0..200 {
            let key = ("m".to_owned(), format!("p{p}"), None);
            c.heads().fill(c.heads().generation(), key.clone(), head.clone());
            assert!(c.heads().bytes() <= HEAD_CACHE_BYTES);
            assert!(c.heads().get(&key).is_some());
        }
        c.heads().evict_marketplace("m");
        assert_eq!(c.heads().bytes(), 0);
    }

    #[test]
    fn a_deep_offset_starts_after_the_last_mark_before_it() {
        let mark = |id: &str| {
            partnerd_store::schema::listings::cursor_after(
                partnerd_store::kit::Dialect::Sqlite,
                &listing(id, "m", "p"),
                None,
            )
        };
        // (`listing` stamps the time it is called: make each mark once.)
        let (first, second) = (mark("after-1024"), mark("after-2048"));
        let marks = ListingMarks(vec![first.clone(), second.clone()]);
        let every = u64::from(MARK_EVERY);
        let at = |offset: u64| match marks.window(offset) {
            Some(Window::Beyond { after, skip }) => Some((after, skip)),
            None => None,
            Some(other) => panic!("{other:?}"),
        };
        assert_eq!(at(0), None);
        assert_eq!(at(every - 1), None, "before the first mark: OFFSET");
        assert_eq!(at(every), Some((first.clone(), 0)));
        assert_eq!(at(2 * every - 1), Some((first.clone(), every - 1)));
        assert_eq!(at(2 * every), Some((second.clone(), 0)));
        assert_eq!(at(5 * every + 7), Some((second, 3 * every + 7)), "past the last mark");
        assert_eq!(ListingMarks(vec![]).window(10 * every), None);
    }

    #[test]
    fn marks_are_built_on_the_few_th_ask_since_a_change() {
        let c = ListingCache::default();
        let key: HeadKey = ("m".into(), "p".into(), None);
        let other: HeadKey = ("m".into(), "q".into(), None);
        let builds = |t: &MarksTurn<'_>| matches!(t, MarksTurn::Build(_));
        // Each ask builds and ends its build at once, as a request would.
        let asks = |k: &HeadKey| (0..MARK_AFTER_DEEP_PAGES).map(|_| builds(&c.build_marks(k))).collect::<Vec<_>>();
        let mut expected = vec![false; MARK_AFTER_DEEP_PAGES as usize - 1];
        expected.push(true);
        assert_eq!(asks(&key), expected);
        assert_eq!(asks(&key), expected, "a finished build that kept nothing lets the count start again");
        assert!(matches!(c.build_marks(&other), MarksTurn::Offset));
        // A change to the partner's lists starts the count again; another partner's stays.
        c.evict_lists("m", "p");
        assert_eq!(asks(&key), expected);
        let rest = asks(&other);
        assert_eq!(rest.iter().filter(|b| **b).count(), 1, "{rest:?}");
        assert!(rest[MARK_AFTER_DEEP_PAGES as usize - 2], "the other list's count went on: {rest:?}");
        // Before the few-th ask: OFFSET.
        for _ in 1..MARK_AFTER_DEEP_PAGES {
            assert!(matches!(c.build_marks(&key), MarksTurn::Offset));
        }
        let building = c.build_marks(&key);
        assert!(builds(&building), "the fourth ask builds");
        // While it is under way every other ask waits, and no other builds.
        let waits: Vec<_> = (0..10)
            .map(|_| match c.build_marks(&key) {
                MarksTurn::Wait(w) => w,
                _ => panic!("one build at a time, and the others wait for it"),
            })
            .collect();
        // And takes its marks.
        c.marks().fill(c.marks().generation(), key.clone(), Arc::new(ListingMarks(vec![])));
        drop(building);
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            for w in waits {
                tokio::time::timeout(Duration::from_secs(5), w.done())
                    .await
                    .expect("the build's end wakes its waiters");
            }
        });
        assert!(c.marks().get(&key).is_some());
        // When a build ends (even unfinished) the count starts again.
        assert_eq!(asks(&key), expected);
        c.evict_lists("m", "p");
        assert!(c.marks().get(&key).is_none());
    }

    #[test]
    fn a_cancelled_build_wakes_its_waiters() {
        let c = ListingCache::default();
        let key: HeadKey = ("m".into(), "p".into(), None);
        let building = loop {
            if let MarksTurn::Build(b) = c.build_marks(&key) {
                break b;
            }
        };
        let MarksTurn::Wait(waiting) = c.build_marks(&key) else { panic!("a build is under way") };
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let woken = tokio::spawn(waiting.done());
            tokio::task::yield_now().await;
            assert!(!woken.is_finished(), "it waits while the build runs");
            drop(building); // the request that built was cancelled: nothing was kept
            tokio::time::timeout(Duration::from_secs(5), woken).await.expect("woken").unwrap();
        });
        assert!(c.marks().get(&key).is_none());
        assert!(matches!(c.build_marks(&key), MarksTurn::Offset), "the count started again");
    }
}
