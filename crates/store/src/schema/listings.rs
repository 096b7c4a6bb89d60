//! Listings, their per-status counters and content drafts.

use crate::kit::{Cursor, Dialect, Filter, Query, Table, Value, Window, insert_lists};
use crate::{DraftRecord, ListingRecord, StoreResult, record, sql, versioned};
use partnerd_domain::listing::{ListingContent, ListingStatus};
use std::borrow::Cow;

record! {
    ListingContent {
        title: set "title",
        short_description: set "short_description",
        long_description: set "long_description",
        highlights: set "highlights",
        categories: set "categories",
        keywords: set "keywords",
        images: set "images",
        logo_url: set "logo_url",
        pricing_model: set "pricing_model",
        marketplace: set "marketplace",
        product_id: set "product_id",
    }
}

record! {
    ListingRecord in "listings" as "" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: key "partner_id",
        content: flat ListingContent,
        status: set "status",
        seo_score: set "seo_score",
        version: set "version",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

// The old status and score move the counters.
versioned!(ListingRecord, "listing", (ListingStatus, u32), "status, seo_score");

record! {
    DraftRecord in "listing_drafts" as "" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        partner_id: key "partner_id",
        listing_id: fixed "listing_id",
        title: fixed "title",
        short_description: fixed "short_description",
        long_description: fixed "long_description",
        highlights: fixed "highlights",
        keywords: fixed "keywords",
        seo_score: fixed "seo_score",
        published_at: set "published_at",
        created_at: fixed "created_at",
    }
}

/// `$1` marketplace, `$2` partner, `$3` id. The hottest read: its text is built once.
pub static GET: Query = sql!(
    "SELECT {} FROM listings WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3",
    ListingRecord::select_list()
);

/// A page of a partner's listings, newest first, optionally of one status; and its filter
/// (read the rows as `Keyed<ListingRecord>` and hand them to `Filter::finish`).
///
/// A deferred join: the inner select walks only the covering index (`listings_by_partner` or
/// `listings_by_partner_status`: every column it reads is in the index) to the page's ids, and
/// only those rows are read. OFFSET still steps over index entries, not rows; a cursor seeks.
pub fn list(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    status: Option<ListingStatus>,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, Filter)> {
    let mut f = filter(dialect, marketplace_id, partner_id, status);
    f.window(limit, window)?;
    let sql = format!(
        "SELECT {}{} FROM listings WHERE id IN (SELECT id FROM listings{}) ORDER BY {ORDER}",
        ListingRecord::select_list(),
        f.key_select(),
        f.clause()
    );
    Ok((sql, f))
}

const ORDER: &str = "created_at DESC, id DESC";

/// A partner's listings (of one status) in the lists' order.
fn filter(dialect: Dialect, marketplace_id: &str, partner_id: &str, status: Option<ListingStatus>) -> Filter {
    let mut f = Filter::new(dialect);
    f.eq("marketplace_id", Value::Text(Cow::Owned(marketplace_id.to_owned())))
        .eq("partner_id", Value::Text(Cow::Owned(partner_id.to_owned())));
    if let Some(status) = status {
        f.eq("status", Value::Text(Cow::Borrowed(status.as_str())));
    }
    f.order_by(&[], ORDER);
    f
}

/// The ids of the first `rows` listings of the list's order (an index-only walk), read as
/// `Keyed<(String,)>` and finished by the filter: what the services' page cache holds.
pub fn head(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    status: Option<ListingStatus>,
    rows: u32,
) -> StoreResult<(String, Filter)> {
    let mut f = filter(dialect, marketplace_id, partner_id, status);
    f.window(rows, &Window::Offset(0))?;
    Ok((format!("SELECT id{} FROM listings{}", f.key_select(), f.clause()), f))
}

/// The cursors after every `every`th listing of the list's order (after rows `every`,
/// `2 × every` …), read as `Keyed<(String,)>` and made cursors by the filter: one walk of the
/// covering index, numbering its entries. A deep offset is then a seek past the mark before it
/// and at most `every - 1` index steps (`Window::Beyond`).
pub fn marks(
    dialect: Dialect,
    marketplace_id: &str,
    partner_id: &str,
    status: Option<ListingStatus>,
    every: u32,
) -> (String, Filter) {
    let f = filter(dialect, marketplace_id, partner_id, status);
    let sql = format!(
        "SELECT id{} FROM (SELECT id, created_at, ROW_NUMBER() OVER (ORDER BY {ORDER}) AS rn FROM listings{}) listings
         WHERE rn % {every} = 0 ORDER BY rn",
        f.key_select(),
        f.conditions()
    );
    (sql, f)
}

/// The cursor a list page ending at `last` hands out (the same as the SQL path makes).
pub fn cursor_after(dialect: Dialect, last: &ListingRecord, status: Option<ListingStatus>) -> Cursor {
    filter(dialect, &last.marketplace_id, &last.partner_id, status)
        .cursor(vec![Value::Time(last.created_at), Value::Text(Cow::Owned(last.id.clone()))])
}

/// The listings among `ids` (in no particular order), by primary key only: with the partner's
/// columns in the condition too, SQLite walks the partner's index (a million rows at the bench's
/// size) and tests each against the list. Callers keep only the partner's rows.
pub fn by_ids(dialect: Dialect, ids: &[String]) -> (String, Filter) {
    let mut f = Filter::new(dialect);
    f.is_in("id", ids.iter().map(|id| Value::Text(Cow::Owned(id.clone()))));
    (format!("SELECT {} FROM listings{}", ListingRecord::select_list(), f.clause()), f)
}

/// `$1` marketplace, `$2` partner, `$3` status: the sum of the status's counter rows (one per
/// shard; see `BUMP_COUNT`).
pub static COUNT_OF_STATUS: Query = sql!(
    "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM listing_counts
     WHERE marketplace_id = $1 AND partner_id = $2 AND status = $3"
);

pub static COUNT_ALL: Query = sql!(
    "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM listing_counts WHERE marketplace_id = $1 AND partner_id = $2"
);

/// `$1` marketplace, `$2` partner, `$3` status, `$4` listings, `$5` score points, `$6` shard:
/// moves one of the status's counter rows. A partner's count is spread over shards so that
/// concurrent writers (PostgreSQL's pool) each lock a row of their own until COMMIT instead of
/// all queueing on one; the backend picks the shard.
pub static BUMP_COUNT: Query = sql!(
    "INSERT INTO listing_counts (marketplace_id, partner_id, status, n, score_sum, shard) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (marketplace_id, partner_id, status, shard)
     DO UPDATE SET n = listing_counts.n + excluded.n, score_sum = listing_counts.score_sum + excluded.score_sum"
);

/// A draft is stored unpublished whatever it says.
pub static INSERT_DRAFT: Query = Query::new(|| {
    let (columns, values) = insert_lists::<DraftRecord>();
    format!("INSERT INTO listing_drafts ({columns}, status) VALUES ({values}, 'draft')")
});

/// `$1` marketplace, `$2` partner, `$3` listing.
pub static DRAFTS_OF_LISTING: Query = sql!(
    "SELECT {} FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2 AND listing_id = $3
     ORDER BY created_at DESC, id DESC",
    DraftRecord::select_list()
);

/// `$1` marketplace, `$2` partner, `$3` id.
pub static GET_DRAFT: Query = sql!(
    "SELECT {} FROM listing_drafts WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3",
    DraftRecord::select_list()
);

/// `$1` marketplace, `$2` partner, `$3` id, `$4` when: marks a draft published, once.
pub static PUBLISH_DRAFT: Query = sql!(
    "UPDATE listing_drafts SET status = 'published', published_at = $4
     WHERE marketplace_id = $1 AND partner_id = $2 AND id = $3 AND published_at IS NULL"
);
