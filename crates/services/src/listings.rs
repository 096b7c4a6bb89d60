//! Listings: the partner's marketplace listings, their SEO score (recomputed in the same
//! transaction as every content change), recommendations, and generated content drafts.

use crate::caches::{HEAD_ROWS, ListingMarks, MARK_EVERY, MarksTurn};
use crate::contention::{EDIT_LOCKS, WRITE_ATTEMPTS, pause_before};
use crate::error::{ErrorKind, codes};
use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{
    ContentGenerated, ContentPublished, EventPayload, ListingCreated, ListingUpdated, NewEvent, SeoScoreChanged,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::listing::{ListingContent, ListingPatch, ListingStatus, changes};
use partnerd_domain::seo::{self, Recommendations, SeoScore};
use partnerd_store::{DraftRecord, ListingRecord, Paged, StoreError, Window};
use std::sync::Arc;

/// A page of listings as the service answers it: rows shared with the listing cache, not
/// copied out of it (twenty copies of full listings were the largest cost of a cached page).
pub type ListingRows = Paged<Arc<ListingRecord>>;

pub struct Listings<'a> {
    pub(crate) services: &'a Services,
}

/// How long a deep page waits for another request's build of its list's marks.
const MARKS_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// A score move of at least this many points is announced as `seo.score_changed`.
pub const SIGNIFICANT_SCORE_CHANGE: u32 = 5;

/// Whose turn it is to write a listing in this process (`contention::EditLocks`).
fn edit_key(who: &Principal, id: &str) -> String {
    format!("listing:{}:{id}", who.marketplace_id)
}

fn event<P: EventPayload>(payload: &P, listing: &ListingRecord, actor: &Principal) -> NewEvent {
    NewEvent::of(payload).partner(Some(listing.partner_id.clone())).actor(Some(actor.user_id.clone()))
}

/// `listing.updated` with `changes: {field: {old, new}}`, and `seo.score_changed` when the score
/// moved significantly.
fn update_events(before: &ListingRecord, after: &ListingRecord, actor: &Principal) -> Vec<NewEvent> {
    let changed = changes(&before.content, &after.content, before.status, after.status);
    let mut events = Vec::new();
    if !changed.is_empty() {
        events.push(event(&ListingUpdated { listing_id: after.id.clone(), changes: changed }, after, actor));
    }
    if before.seo_score.abs_diff(after.seo_score) >= SIGNIFICANT_SCORE_CHANGE {
        let moved = SeoScoreChanged {
            listing_id: after.id.clone(),
            old_score: before.seo_score,
            new_score: after.seo_score,
            grade: seo::grade(after.seo_score).to_owned(),
        };
        events.push(event(&moved, after, actor));
    }
    events
}

impl Listings<'_> {
    pub async fn list(
        &self,
        who: &Principal,
        status: Option<ListingStatus>,
        window: &Window,
        limit: u32,
    ) -> Result<ListingRows, ServiceError> {
        let partner = policy::partner_id(who)?;
        let m = &who.marketplace_id;
        if let Window::Offset(offset) = window {
            if offset + u64::from(limit) <= u64::from(HEAD_ROWS)
                && let Some(page) = self.page_from_head(m, partner, status, *offset, limit).await?
            {
                return Ok(page);
            }
            if let Some(from_mark) = self.beyond_mark(m, partner, status, *offset).await? {
                return Ok(self
                    .services
                    .store
                    .list_listings(m, partner, status, &from_mark, limit)
                    .await?
                    .map(Arc::new));
            }
        }
        Ok(self.services.store.list_listings(m, partner, status, window, limit).await?.map(Arc::new))
    }

    /// A deep page's window from the list's marks (`caches::ListingMarks`): a seek past the
    /// last mark before `offset`, then fewer than `MARK_EVERY` index steps, instead of
    /// `offset` of them. Marks are built by one walk of the list on the few-th deep page asked
    /// since the partner's lists last changed (`None` before: OFFSET); the deep pages asked
    /// while that walk runs wait for it rather than add their OFFSETs to its load.
    async fn beyond_mark(
        &self,
        marketplace_id: &str,
        partner: &str,
        status: Option<ListingStatus>,
        offset: u64,
    ) -> Result<Option<Window>, ServiceError> {
        if offset < u64::from(MARK_EVERY) {
            return Ok(None);
        }
        let cache = &self.services.listing_cache;
        let key = (marketplace_id.to_owned(), partner.to_owned(), status);
        if let Some(marks) = cache.marks().get(&key) {
            return Ok(marks.window(offset));
        }
        let marks = match cache.build_marks(&key) {
            MarksTurn::Offset => return Ok(None),
            MarksTurn::Build(_building) => {
                let generation = cache.marks().generation();
                let marks = self.services.store.listing_marks(marketplace_id, partner, status, MARK_EVERY).await?;
                let marks = Arc::new(ListingMarks(marks));
                cache.marks().fill(generation, key.clone(), marks.clone());
                marks
            }
            MarksTurn::Wait(build) => {
                // A build costs about two deep pages; one that has not ended by now is stuck
                // behind something else, and this page goes by OFFSET after all.
                let _ = tokio::time::timeout(MARKS_WAIT, build.done()).await;
                match cache.marks().get(&key) {
                    Some(marks) => marks,
                    None => return Ok(None), // it failed, or a write took its marks away
                }
            }
        };
        Ok(marks.window(offset))
    }

    /// A page within the list's head (`caches::ListHeads`): its ids from the cached head, its
    /// rows from the listing cache and one read for those it lacks. `None` when a row went
    /// missing meanwhile (the store's own page answers then).
    async fn page_from_head(
        &self,
        marketplace_id: &str,
        partner: &str,
        status: Option<ListingStatus>,
        offset: u64,
        limit: u32,
    ) -> Result<Option<ListingRows>, ServiceError> {
        let cache = &self.services.listing_cache;
        let key = (marketplace_id.to_owned(), partner.to_owned(), status);
        let head = match cache.heads().get(&key) {
            Some(head) => head,
            None => {
                let generation = cache.heads().generation();
                let head =
                    Arc::new(self.services.store.listing_head(marketplace_id, partner, status, HEAD_ROWS).await?);
                cache.heads().fill(generation, key, head.clone());
                head
            }
        };
        let len = head.ids.len();
        // Within the head (the caller checked offset + limit <= HEAD_ROWS), so these fit.
        let from = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        let to = from.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(len);
        let ids = &head.ids[from..to];
        let mut rows = cache.get_many(marketplace_id, partner, ids);
        let missing: Vec<String> =
            ids.iter().zip(&rows).filter(|(_, r)| r.is_none()).map(|(id, _)| id.clone()).collect();
        if !missing.is_empty() {
            let generation = cache.generation();
            let found = self.services.store.get_listings(marketplace_id, partner, &missing).await?;
            for l in found {
                if let Some(slot) = ids.iter().position(|id| *id == l.id) {
                    let l = Arc::new(l);
                    cache.fill(generation, l.clone());
                    rows[slot] = Some(l);
                }
            }
        }
        let Some(items) = rows.into_iter().collect::<Option<Vec<_>>>() else { return Ok(None) };
        let more = to < len || !head.complete;
        let next = match items.last() {
            Some(last) if more => {
                Some(partnerd_store::schema::listings::cursor_after(self.services.store.dialect(), last, status))
            }
            _ => None,
        };
        Ok(Some(Paged { items, total: head.total, next }))
    }

    /// The partner's listing, from this process's cache when it holds it (see `caches`: every
    /// write here evicts what it changed before it is acknowledged).
    pub async fn get(&self, who: &Principal, id: &str) -> Result<ListingRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        let cache = &self.services.listing_cache;
        if let Some(hit) = cache.get(me.marketplace_id(), me.partner_id, id) {
            return me.visible(Some(ListingRecord::clone(&hit)), Resource::Listing);
        }
        let generation = cache.generation();
        let found = self.services.store.get_listing(me.marketplace_id(), me.partner_id, id).await?;
        if let Some(l) = &found {
            cache.fill(generation, Arc::new(l.clone()));
        }
        me.visible(found, Resource::Listing)
    }

    /// The stored listing, never the cache: what a write starts from.
    async fn get_fresh(&self, who: &Principal, id: &str) -> Result<ListingRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        me.visible(self.services.store.get_listing(me.marketplace_id(), me.partner_id, id).await?, Resource::Listing)
    }

    pub async fn create(&self, who: &Principal, patch: ListingPatch) -> Result<ListingRecord, ServiceError> {
        let partner = policy::partner_id(who)?.to_owned();
        policy::require(&who.roles, Resource::Listing, Access::Write)?;
        let mut created = self
            .create_many(&who.marketplace_id, &partner, Some(&who.user_id), vec![patch])
            .await
            .map_err(|e| match e.kind {
                // One listing: its fields are the body's own, not `[0].field`.
                ErrorKind::Invalid => ServiceError::invalid(e.fields.without_prefix("[0].")),
                _ => e,
            })?;
        Ok(created.remove(0))
    }

    /// The operator's import: every listing is validated first (errors name `[index].field`),
    /// then all are written in one transaction.
    pub async fn import(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        patches: Vec<ListingPatch>,
    ) -> Result<Vec<ListingRecord>, ServiceError> {
        if self.services.store.get_partner(marketplace_id, partner_id).await?.is_none() {
            return Err(ServiceError::not_found("partner"));
        }
        self.create_many(marketplace_id, partner_id, None, patches).await
    }

    async fn create_many(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        actor_user_id: Option<&str>,
        patches: Vec<ListingPatch>,
    ) -> Result<Vec<ListingRecord>, ServiceError> {
        let base =
            ListingContent { pricing_model: "subscription".into(), marketplace: "aws".into(), ..Default::default() };
        let now = self.services.clock.now();
        let mut errors = ValidationErrors::new();
        let mut listings = Vec::with_capacity(patches.len());
        for (i, patch) in patches.into_iter().enumerate() {
            if patch.title.is_none() {
                errors.add(&format!("[{i}].title"), "is required");
                continue;
            }
            match patch.apply(&base) {
                Err(e) => errors.merge_prefixed(&format!("[{i}]."), e),
                Ok(content) => listings.push(ListingRecord {
                    id: new_id("listing"),
                    marketplace_id: marketplace_id.to_owned(),
                    partner_id: partner_id.to_owned(),
                    seo_score: seo::score(&content).overall,
                    content,
                    status: patch.status.unwrap_or(ListingStatus::Draft),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                }),
            }
        }
        errors.into_result()?;
        let events = listings
            .iter()
            .map(|l| {
                let created = ListingCreated {
                    listing_id: l.id.clone(),
                    title: l.content.title.clone(),
                    status: l.status,
                    marketplace: l.content.marketplace.clone(),
                    seo_score: l.seo_score,
                };
                NewEvent::of(&created).partner(Some(l.partner_id.clone())).actor(actor_user_id.map(str::to_owned))
            })
            .collect();
        let created = self.services.store.create_listings(listings.clone(), events).await;
        // New listings come first in every list of the partner, committed or not.
        self.services.listing_cache.evict_lists(marketplace_id, partner_id);
        created?;
        Ok(listings)
    }

    /// Applies a partial update. Reads, changes and writes with a version check, retrying when
    /// another writer got there first, so concurrent updates never lose each other's fields
    /// (see `contention`: writers in this process take turns, other processes' are retried).
    pub async fn update(&self, who: &Principal, id: &str, patch: &ListingPatch) -> Result<ListingRecord, ServiceError> {
        self.update_from(who, id, patch, None).await
    }

    /// [`Self::update`] of the listing as the caller last read it: when `read_version` is
    /// given and the listing has changed since, nothing is written (409 `concurrent_change`),
    /// so an edit form cannot overwrite a change it never showed.
    pub async fn update_from(
        &self,
        who: &Principal,
        id: &str,
        patch: &ListingPatch,
        read_version: Option<i64>,
    ) -> Result<ListingRecord, ServiceError> {
        policy::require(&who.roles, Resource::Listing, Access::Write)?;
        let _turn = EDIT_LOCKS.turn(edit_key(who, id)).await;
        for attempt in 1..=WRITE_ATTEMPTS {
            pause_before(attempt).await;
            let current = self.get_fresh(who, id).await?;
            if read_version.is_some_and(|v| v != current.version) {
                return Err(ServiceError::conflict("listing", codes::CONCURRENT_CHANGE));
            }
            let content = patch.apply(&current.content)?;
            let status = patch.status.unwrap_or(current.status);
            if content == current.content && status == current.status {
                return Ok(current);
            }
            let next = ListingRecord {
                seo_score: seo::score(&content).overall,
                content,
                status,
                version: current.version + 1,
                updated_at: self.services.clock.now(),
                ..current.clone()
            };
            let events = update_events(&current, &next, who);
            let written = self.services.store.update_listing(next.clone(), current.version, events).await;
            // Whatever the outcome, the row may differ from what was cached; a status change
            // moves it between lists.
            self.services.listing_cache.evict(id);
            if next.status != current.status {
                self.services.listing_cache.evict_lists(&next.marketplace_id, &next.partner_id);
            }
            match written {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::conflict("listing", codes::CONCURRENT_CHANGE))
    }

    /// Archives the listing; archived listings stay readable.
    pub async fn archive(&self, who: &Principal, id: &str) -> Result<ListingRecord, ServiceError> {
        self.update(who, id, &ListingPatch { status: Some(ListingStatus::Archived), ..Default::default() }).await
    }

    /// The listing's score. It is recomputed with every content change, so it was analysed
    /// when the listing was last updated.
    pub async fn seo(&self, who: &Principal, id: &str) -> Result<(ListingRecord, SeoScore), ServiceError> {
        let listing = self.get(who, id).await?;
        let score = seo::score(&listing.content);
        Ok((listing, score))
    }

    pub async fn recommendations(&self, who: &Principal, id: &str) -> Result<Recommendations, ServiceError> {
        Ok(seo::recommend(&self.get(who, id).await?.content))
    }

    /// Applies the recommendation for `field`: writes its proposed value through the normal
    /// update (the document defines a recommendation's impact as exactly that change), from
    /// the listing at `read_version`. 404 `recommendation` when the listing has none for the
    /// field any more or its proposal is an asset only the partner can supply (images, logo);
    /// 409 when the listing changed since it was read.
    pub async fn apply_recommendation(
        &self,
        who: &Principal,
        id: &str,
        field: &str,
        read_version: Option<i64>,
    ) -> Result<ListingRecord, ServiceError> {
        let current = self.get_fresh(who, id).await?;
        if read_version.is_some_and(|v| v != current.version) {
            return Err(ServiceError::conflict("listing", codes::CONCURRENT_CHANGE));
        }
        let patch = seo::recommend(&current.content)
            .items
            .iter()
            .find(|r| r.field == field)
            .and_then(|r| seo::proposal_patch(r.field, &r.proposal))
            .ok_or(ServiceError::not_found("recommendation"))?;
        self.update_from(who, id, &patch, Some(current.version)).await
    }

    /// Generates an improved draft of the listing's copy from its recommendations.
    pub async fn generate_content(&self, who: &Principal, id: &str) -> Result<DraftRecord, ServiceError> {
        policy::require(&who.roles, Resource::Draft, Access::Write)?;
        let listing = self.get(who, id).await?;
        let draft_content = seo::generate_draft(&listing.content);
        let draft = DraftRecord {
            id: new_id("draft"),
            marketplace_id: listing.marketplace_id.clone(),
            partner_id: listing.partner_id.clone(),
            listing_id: listing.id.clone(),
            seo_score: seo::score(&draft_content).overall,
            title: draft_content.title,
            short_description: draft_content.short_description,
            long_description: draft_content.long_description,
            highlights: draft_content.highlights,
            keywords: draft_content.keywords,
            published_at: None,
            created_at: self.services.clock.now(),
        };
        let payload = ContentGenerated {
            listing_id: listing.id.clone(),
            draft_id: draft.id.clone(),
            seo_score: listing.seo_score,
            projected_seo_score: draft.seo_score,
        };
        let generated = event(&payload, &listing, who);
        self.services.store.create_draft(draft.clone(), vec![generated]).await?;
        Ok(draft)
    }

    pub async fn drafts(&self, who: &Principal, listing_id: &str) -> Result<Vec<DraftRecord>, ServiceError> {
        let listing = self.get(who, listing_id).await?;
        Ok(self.services.store.list_drafts(&who.marketplace_id, &listing.partner_id, &listing.id).await?)
    }

    async fn draft(&self, who: &Principal, listing_id: &str, draft_id: &str) -> Result<DraftRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        let draft = self.services.store.get_draft(me.marketplace_id(), me.partner_id, draft_id).await?;
        me.visible(draft.filter(|d| d.listing_id == listing_id), Resource::Draft)
    }

    /// Puts a draft's copy onto its listing (re-scored, with the usual update events).
    pub async fn publish(
        &self,
        who: &Principal,
        listing_id: &str,
        draft_id: &str,
    ) -> Result<ListingRecord, ServiceError> {
        policy::require(&who.roles, Resource::Listing, Access::Write)?;
        let _turn = EDIT_LOCKS.turn(edit_key(who, listing_id)).await;
        for attempt in 1..=WRITE_ATTEMPTS {
            pause_before(attempt).await;
            let draft = self.draft(who, listing_id, draft_id).await?;
            if draft.published_at.is_some() {
                return Err(ServiceError::conflict("draft", codes::ALREADY_PUBLISHED));
            }
            let current = self.get_fresh(who, listing_id).await?;
            let patch = ListingPatch {
                title: Some(draft.title.clone()),
                short_description: Some(draft.short_description.clone()),
                long_description: Some(draft.long_description.clone()),
                highlights: Some(draft.highlights.clone()),
                keywords: Some(draft.keywords.clone()),
                ..Default::default()
            };
            let content = patch.apply(&current.content)?;
            let now = self.services.clock.now();
            let next = ListingRecord {
                seo_score: seo::score(&content).overall,
                content,
                version: current.version + 1,
                updated_at: now,
                ..current.clone()
            };
            let published =
                ContentPublished { listing_id: next.id.clone(), draft_id: draft.id.clone(), seo_score: next.seo_score };
            let mut events = vec![event(&published, &next, who)];
            events.extend(update_events(&current, &next, who));
            let written =
                self.services.store.publish_draft(&draft.id, now, next.clone(), current.version, events).await;
            self.services.listing_cache.evict(&next.id);
            match written {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::conflict("listing", codes::CONCURRENT_CHANGE))
    }
}
