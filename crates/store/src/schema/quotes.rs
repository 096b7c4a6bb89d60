//! AppReseller opportunities ("quotes", migration 0019): the declarations and the SQL both
//! dialects accept, written once.

use super::customers::named;
use super::subscriptions::{sorted, text, time_range};
use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Column, Dialect, Filter, Query, RowRead, Table, ToValue, Value};
use crate::{LeadRecord, QuoteFilter, QuoteRecord, QuoteSort, record, sql, versioned};
use partnerd_domain::quote::QuoteStatus;
use std::borrow::Cow;

named!(QuoteStatus);

record! {
    QuoteRecord in "quotes" as "q" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        friendly_id: fixed "friendly_id",
        owner_company_id: fixed "owner_company_id",
        owner_company_name: fixed "owner_company_name",
        owner_partner_id: fixed "owner_partner_id",
        owner_user_id: set "owner_user_id",
        owner_first_name: set "owner_first_name",
        owner_last_name: set "owner_last_name",
        owner_email: set "owner_email",
        customer_company_id: fixed "customer_company_id",
        customer_company_name: fixed "customer_company_name",
        customer_user_id: fixed "customer_user_id",
        customer_first_name: fixed "customer_first_name",
        customer_last_name: fixed "customer_last_name",
        customer_email: fixed "customer_email",
        name: set "name",
        currency: fixed "currency",
        status: set "status",
        items: set "items",
        total_cents: set "total_cents",
        purchase_effective_at: set "purchase_effective_at",
        purchase_custom_attributes: set "purchase_custom_attributes",
        purchase_id: set "purchase_id",
        search_text: set "search_text",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
        closed_at: set "closed_at",
        version: set "version",
    }
}

versioned!(QuoteRecord, "quote", (), "");

/// `$1` marketplace, `$2` id.
pub static GET_QUOTE: Query =
    sql!("SELECT {} FROM quotes q WHERE q.marketplace_id = $1 AND q.id = $2", QuoteRecord::select_list());

/// `$1` marketplace, `$2` company: the leads it became (or was linked to), oldest first.
pub static LEADS_OF_COMPANY: Query = sql!(
    "SELECT {} FROM leads l WHERE l.marketplace_id = $1 AND l.converted_company_id = $2 ORDER BY l.created_at, l.id",
    LeadRecord::select_list()
);

/// `(count SQL, page SQL, filter)`: by the sort asked, else newest first.
pub fn list_quotes(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &QuoteFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("q.marketplace_id", text(marketplace_id));
    if let Some(c) = &filter.owner_company_id {
        f.eq("q.owner_company_id", text(c));
    }
    if let Some(u) = &filter.customer_user_id {
        f.eq("q.customer_user_id", text(u));
    }
    if let Some(u) = &filter.owner_user_id {
        f.eq("q.owner_user_id", text(u));
    }
    if let Some(s) = filter.status {
        f.eq("q.status", text(s.as_str()));
    }
    time_range(&mut f, "q.created_at", &filter.created);
    time_range(&mut f, "q.purchase_effective_at", &filter.effective);
    if let Some(s) = &filter.search {
        f.and("q.search_text LIKE ? ESCAPE '\\'", [super::accounts::like(s)]);
    }
    // Filtered by company alone (a seller's list, or the manager's whole marketplace), the total
    // is a sum of counter rows (migration 0026), whose columns and alias match the quotes'.
    let by_company_only = filter.customer_user_id.is_none()
        && filter.owner_user_id.is_none()
        && filter.status.is_none()
        && filter.search.is_none()
        && [&filter.created, &filter.effective].iter().all(|r| r.from.is_none() && r.to.is_none());
    let count = if by_company_only {
        format!("SELECT CAST(COALESCE(SUM(q.n), 0) AS BIGINT) FROM quote_counts q{}", f.conditions())
    } else {
        format!("SELECT COUNT(*) FROM quotes q{}", f.conditions())
    };
    let parts = sorted(&filter.sort, "q.created_at", |s| match s {
        QuoteSort::CreatedOn => "q.created_at",
        // Quotes without one last, either way, on both dialects (false sorts before true).
        QuoteSort::Name => "q.name IS NULL, q.name",
        QuoteSort::Status => "q.status",
        QuoteSort::PurchaseEffectiveDate => "q.purchase_effective_at IS NULL, q.purchase_effective_at",
    });
    f.order_by(&parts, "q.id DESC").window(limit, window)?;
    // Ids first over `quotes_owner` or `quotes_marketplace` (index-only for the default order),
    // then the page's rows: a quote's items and attributes are read for the page alone.
    let page = f.deferred_page(QuoteRecord::select_list(), "quotes q", "quotes q", "q.id");
    Ok((count, page, f))
}
