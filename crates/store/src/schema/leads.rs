//! Leads: the record declaration and the list query, written once for both dialects.

use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Dialect, Filter, Order, Query, Table, Value};
use crate::{LeadFilter, LeadRecord, LeadSort, SortOrder, record, sql, versioned};
use partnerd_domain::lead::{BEFORE_MANAGERS, LeadType};
use std::borrow::Cow;

record! {
    LeadRecord in "leads" as "l" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        lead_type: fixed "lead_type",
        status: set "status",
        partner: fixed "partner",
        customer: set "customer",
        customer_company_name: set "customer_company_name",
        search_text: set "search_text",
        notes: set "notes",
        custom_attributes: fixed "custom_attributes",
        owner_company_id: fixed "owner_company_id",
        creator_user_id: fixed "creator_user_id",
        creator_company_id: fixed "creator_company_id",
        creator_company_name: fixed "creator_company_name",
        creator_role: fixed "creator_role",
        reseller_user_id: fixed "reseller_user_id",
        reseller_company_id: fixed "reseller_company_id",
        profile_company_id: fixed "profile_company_id",
        profile_company_name: fixed "profile_company_name",
        profile_product: fixed "profile_product",
        profile_edition: fixed "profile_edition",
        referrer: fixed "referrer",
        recipient_company_id: set "recipient_company_id",
        recipient_company_name: set "recipient_company_name",
        converted_company_id: set "converted_company_id",
        converted_company_name: set "converted_company_name",
        converted_user_id: set "converted_user_id",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
        version: set "version",
    }
}

// What a write needs of the old row: the counter key's columns that can change.
versioned!(LeadRecord, "lead", (String, Option<String>), "status, recipient_company_id");

/// A row of `lead_counts`: the columns the visibility rule and the status filter read, a
/// missing company as `''`. Without a date or text filter a viewer's total is a sum over these
/// rows (a few per company and status), not a scan of the leads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LeadCountKey {
    pub lead_type: String,
    pub status: String,
    pub owner_company_id: String,
    pub recipient_company_id: String,
}

impl LeadCountKey {
    pub fn of(l: &LeadRecord) -> Self {
        LeadCountKey {
            lead_type: l.lead_type.as_str().to_owned(),
            status: l.status.as_str().to_owned(),
            owner_company_id: l.owner_company_id.clone().unwrap_or_default(),
            recipient_company_id: l.recipient_company_id.clone().unwrap_or_default(),
        }
    }

    /// The key `l` had before a write that read `(status, recipient)` of the stored row.
    pub fn before(l: &LeadRecord, (status, recipient): (String, Option<String>)) -> Self {
        LeadCountKey { status, recipient_company_id: recipient.unwrap_or_default(), ..Self::of(l) }
    }
}

/// The counter changes of a lead write: +1 for the new key, −1 for the old one (none when the
/// key is unchanged), in key order so two writers never lock the same rows in opposite orders.
pub fn count_moves(before: Option<LeadCountKey>, after: LeadCountKey) -> Vec<(LeadCountKey, i64)> {
    let mut moves = match before {
        None => vec![(after, 1)],
        Some(b) if b == after => vec![],
        Some(b) => vec![(b, -1), (after, 1)],
    };
    moves.sort();
    moves
}

/// `$1` marketplace, `$2` type, `$3` status, `$4` owner, `$5` recipient, `$6` change.
pub static BUMP_COUNT: Query = sql!(
    "INSERT INTO lead_counts (marketplace_id, lead_type, status, owner_company_id, recipient_company_id, n)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (marketplace_id, lead_type, status, owner_company_id, recipient_company_id)
     DO UPDATE SET n = lead_counts.n + excluded.n"
);

/// `$1` marketplace, `$2` id.
pub static GET_LEAD: Query =
    sql!("SELECT {} FROM leads l WHERE l.marketplace_id = $1 AND l.id = $2", LeadRecord::select_list());

fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

/// The count and the page of the leads a viewer sees (`domain::lead::visible` as SQL), and the filter binding both. The count
/// has the same visibility condition as the page, so a total never reveals a hidden lead.
pub fn list_leads(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &LeadFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("l.marketplace_id", text(marketplace_id));
    let viewer = text(&filter.viewer_company_id);
    if filter.manager {
        let [a, b, c] = BEFORE_MANAGERS.map(|s| text(s.as_str()));
        f.and(
            "(l.owner_company_id = ? OR l.recipient_company_id = ? OR l.lead_type <> ? OR l.status IN (?, ?, ?))",
            [viewer.clone(), viewer, text(LeadType::Manual.as_str()), a, b, c],
        );
    } else {
        f.and("(l.owner_company_id = ? OR l.recipient_company_id = ?)", [viewer.clone(), viewer]);
    }
    if !filter.statuses.is_empty() {
        f.is_in("l.status", filter.statuses.iter().map(|s| text(s.as_str())));
    }
    if let Some(from) = filter.from {
        f.gte("l.created_at", Value::Time(from));
    }
    if let Some(to) = filter.to {
        f.lte("l.created_at", Value::Time(to));
    }
    if let Some(s) = &filter.search {
        f.and("l.search_text LIKE ? ESCAPE '\\'", [super::accounts::like(s)]);
    }
    let count = if filter.from.is_none() && filter.to.is_none() && filter.search.is_none() {
        // Only the visibility and status conditions: both read columns `lead_counts` keys on.
        format!("SELECT CAST(COALESCE(SUM(l.n), 0) AS BIGINT) FROM lead_counts l{}", f.conditions())
    } else {
        format!("SELECT COUNT(*) FROM leads l{}", f.conditions())
    };
    let order = match filter.order {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    let tie = match filter.order {
        SortOrder::Asc => "l.id ASC",
        SortOrder::Desc => "l.id DESC",
    };
    match filter.sort {
        LeadSort::Date => f.order_by(&[("l.created_at", order)], tie),
        LeadSort::CompanyName => f.order_by(&[("LOWER(l.customer_company_name)", order), ("l.created_at", order)], tie),
    };
    f.window(limit, window)?;
    // Ids first over `leads_newest` (index-only), then the page's rows.
    let page = f.deferred_page(LeadRecord::select_list(), "leads l", "leads l", "l.id");
    Ok((count, page, f))
}
