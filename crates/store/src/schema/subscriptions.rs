//! Subscriptions, orders and seat assignments (migration 0016): the declarations and the SQL
//! both dialects accept, written once.

use super::customers::named;
use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Column, Dialect, Filter, Order, Query, RowRead, Table, ToValue, Value};
use crate::{
    OrderFilter, OrderRecord, OrderSort, ProductRecord, PurchaseFilter, SeatFilter, SeatRecord, SortOrder,
    SubscriptionFilter, SubscriptionRecord, SubscriptionSort, TimeRange, record, sql, versioned,
};
use partnerd_domain::catalog::Frequency;
use partnerd_domain::subscription::{OrderStatus, SeatStatus, SubscriptionStatus};
use std::borrow::Cow;

named!(Frequency, OrderStatus, SeatStatus, SubscriptionStatus);

record! {
    SubscriptionRecord in "subscriptions" as "s" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        reseller_company_id: fixed "reseller_company_id",
        reseller_user_id: fixed "reseller_user_id",
        partner_id: fixed "partner_id",
        company_id: fixed "company_id",
        company_name: fixed "company_name",
        user_id: fixed "user_id",
        user_first_name: fixed "user_first_name",
        user_last_name: fixed "user_last_name",
        product_id: fixed "product_id",
        application_name: fixed "application_name",
        edition_id: set "edition_id",
        edition_name: set "edition_name",
        payment_plan_id: set "payment_plan_id",
        frequency: set "frequency",
        parent_subscription_id: fixed "parent_subscription_id",
        status: set "status",
        active_order_id: set "active_order_id",
        order_lines: set "order_lines",
        seats: set "seats",
        currency: set "currency",
        total_cents: set "total_cents",
        period_start: set "period_start",
        period_end: set "period_end",
        search_text: set "search_text",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
        cancelled_at: set "cancelled_at",
        version: set "version",
    }
}

versioned!(SubscriptionRecord, "subscription", (), "");

/// A payment plan of the catalog with what an order copies of its product and edition
/// (`catalog_plans`, kept by every import of the product in its transaction).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPlanRecord {
    /// The plan's id.
    pub id: String,
    pub marketplace_id: String,
    pub product_id: String,
    pub product_name: String,
    pub edition_id: String,
    pub edition_name: String,
    /// `domain::catalog::PaymentPlan`.
    pub plan: serde_json::Value,
}

record! {
    CatalogPlanRecord in "catalog_plans" as "cp" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        product_id: fixed "product_id",
        product_name: fixed "product_name",
        edition_id: fixed "edition_id",
        edition_name: fixed "edition_name",
        plan: fixed "plan",
    }
}

record! {
    OrderRecord in "orders" as "o" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        subscription_id: fixed "subscription_id",
        reseller_company_id: fixed "reseller_company_id",
        reseller_user_id: fixed "reseller_user_id",
        company_id: fixed "company_id",
        company_name: fixed "company_name",
        user_id: fixed "user_id",
        application_name: fixed "application_name",
        edition_name: fixed "edition_name",
        frequency: fixed "frequency",
        payment_plan_id: fixed "payment_plan_id",
        order_lines: fixed "order_lines",
        priced_lines: fixed "priced_lines",
        status: set "status",
        currency: fixed "currency",
        total_cents: fixed "total_cents",
        invoice_id: fixed "invoice_id",
        search_text: fixed "search_text",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

record! {
    SeatRecord in "subscription_assignments" as "a" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        subscription_id: fixed "subscription_id",
        reseller_company_id: fixed "reseller_company_id",
        user_id: fixed "user_id",
        user_first_name: fixed "user_first_name",
        user_last_name: fixed "user_last_name",
        status: set "status",
        created_at: fixed "created_at",
        cancelled_at: set "cancelled_at",
    }
}

/// A subscription with its active order (`SubscriptionEntry`).
fn entry_select() -> String {
    format!(
        "SELECT {}, {} FROM subscriptions s JOIN orders o ON o.id = s.active_order_id",
        SubscriptionRecord::select_list(),
        OrderRecord::select_list()
    )
}

/// `$1` marketplace, `$2` id.
pub static GET_SUBSCRIPTION: Query = sql!("{} WHERE s.marketplace_id = $1 AND s.id = $2", entry_select());

/// `$1` now, `$2` limit: active subscriptions whose billing period is over (every
/// marketplace), the longest overdue first.
pub static SUBSCRIPTIONS_DUE: Query =
    sql!("{} WHERE s.status = 'ACTIVE' AND s.period_end <= $1 ORDER BY s.period_end, s.id LIMIT $2", entry_select());

/// `$1` marketplace, `$2` plan.
pub static GET_PLAN: Query = sql!(
    "SELECT {} FROM catalog_plans cp WHERE cp.marketplace_id = $1 AND cp.id = $2",
    CatalogPlanRecord::select_list()
);

/// `$1` product: its plans, replaced by each import of it.
pub static CLEAR_PLANS: Query = sql!("DELETE FROM catalog_plans WHERE product_id = $1");

/// The plan rows of a product as stored (its editions document: `[Edition]` with ids).
pub fn plan_rows(p: &ProductRecord) -> Vec<CatalogPlanRecord> {
    let mut out = Vec::new();
    for e in p.editions.as_array().map(Vec::as_slice).unwrap_or_default() {
        for plan in e["paymentPlans"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(id) = plan["id"].as_str() else { continue };
            out.push(CatalogPlanRecord {
                id: id.to_owned(),
                marketplace_id: p.marketplace_id.clone(),
                product_id: p.id.clone(),
                product_name: p.name.clone(),
                edition_id: e["id"].as_str().unwrap_or_default().to_owned(),
                edition_name: e["name"].as_str().unwrap_or_default().to_owned(),
                plan: plan.clone(),
            });
        }
    }
    out
}

/// `$1` marketplace, `$2` id.
pub static GET_ORDER: Query =
    sql!("SELECT {} FROM orders o WHERE o.marketplace_id = $1 AND o.id = $2", OrderRecord::select_list());

/// `$1` marketplace, `$2` id.
pub static GET_SEAT: Query = sql!(
    "SELECT {} FROM subscription_assignments a WHERE a.marketplace_id = $1 AND a.id = $2",
    SeatRecord::select_list()
);

/// `$1` marketplace, `$2` order, `$3` status, `$4` at: the replaced or cancelled active order.
pub static CLOSE_ORDER: Query =
    sql!("UPDATE orders SET status = $3, updated_at = $4 WHERE marketplace_id = $1 AND id = $2");

/// `$1` marketplace, `$2` subscription: its active seats.
pub static COUNT_ACTIVE_SEATS: Query = sql!(
    "SELECT COUNT(*) FROM subscription_assignments
     WHERE marketplace_id = $1 AND subscription_id = $2 AND status = 'ACTIVE'"
);

/// `$1` marketplace, `$2` subscription: takes the subscription's row for a seat assignment
/// (the row lock queues concurrent assigners and changes on PostgreSQL; the version moves so a
/// change that read the subscription before re-reads) and answers its seats, if it is active.
pub static TAKE_FOR_SEAT: Query = sql!(
    "UPDATE subscriptions SET version = version + 1
     WHERE marketplace_id = $1 AND id = $2 AND status = 'ACTIVE' RETURNING seats"
);

/// `$1` marketplace, `$2` seat, `$3` at: ends an active seat.
pub static END_SEAT: Query = sql!(
    "UPDATE subscription_assignments SET status = 'CANCELLED', cancelled_at = $3
     WHERE marketplace_id = $1 AND id = $2 AND status = 'ACTIVE'"
);

/// `$1` marketplace, `$2` subscription, `$3` at: every active seat of a cancelled subscription.
pub static END_SEATS_OF: Query = sql!(
    "UPDATE subscription_assignments SET status = 'CANCELLED', cancelled_at = $3
     WHERE marketplace_id = $1 AND subscription_id = $2 AND status = 'ACTIVE'"
);

/// `$1` marketplace, `$2` company.
pub static COMPANY_COUNTS: Query = sql!(
    "SELECT status, COUNT(*) FROM subscriptions WHERE marketplace_id = $1 AND company_id = $2 GROUP BY status ORDER BY status"
);

pub(crate) fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

fn order(o: SortOrder) -> Order {
    match o {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    }
}

/// The `ORDER BY` parts of a sort asked for (`column` names each field), newest first
/// (`created`) when none is.
pub(crate) fn sorted<S: Copy>(
    sort: &[(S, SortOrder)],
    created: &'static str,
    column: fn(S) -> &'static str,
) -> Vec<(&'static str, Order)> {
    if sort.is_empty() {
        return vec![(created, Order::Desc)];
    }
    sort.iter().map(|(s, o)| (column(*s), order(*o))).collect()
}

/// `column` within `range`.
pub fn time_range(f: &mut Filter, column: &str, range: &TimeRange) {
    if let Some(b) = range.from {
        if b.inclusive {
            f.gte(column, Value::Time(b.at))
        } else {
            f.gt(column, Value::Time(b.at))
        };
    }
    if let Some(b) = range.to {
        if b.inclusive {
            f.lte(column, Value::Time(b.at))
        } else {
            f.lt(column, Value::Time(b.at))
        };
    }
}

/// The conditions subscriptions and orders share, on the table aliased `alias`.
fn purchases(f: &mut Filter, alias: &str, marketplace_id: &str, p: &PurchaseFilter) {
    f.eq(&format!("{alias}.marketplace_id"), text(marketplace_id))
        .eq(&format!("{alias}.reseller_company_id"), text(&p.reseller_company_id));
    if let Some(c) = &p.company_id {
        f.eq(&format!("{alias}.company_id"), text(c));
    }
    if let Some(u) = &p.user_id {
        f.eq(&format!("{alias}.user_id"), text(u));
    }
    if let Some(u) = &p.reseller_user_id {
        f.eq(&format!("{alias}.reseller_user_id"), text(u));
    }
    time_range(f, &format!("{alias}.created_at"), &p.created);
    match p.paid {
        Some(true) => {
            f.and(&format!("{alias}.total_cents > 0"), []);
        }
        Some(false) => {
            f.and(&format!("{alias}.total_cents = 0"), []);
        }
        None => {}
    }
    if p.pending == Some(true) {
        f.and("1 = 0", []);
    }
    if let Some(s) = &p.search {
        f.and(&format!("{alias}.search_text LIKE ? ESCAPE '\\'"), [super::accounts::like(s)]);
    }
}

/// `(count SQL, page SQL, filter)`: by the sort asked, else newest first.
pub fn list_subscriptions(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &SubscriptionFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    purchases(&mut f, "s", marketplace_id, &filter.common);
    if !filter.statuses.is_empty() {
        f.is_in("s.status", filter.statuses.iter().map(|s| text(s.as_str())));
    }
    let count = format!("SELECT COUNT(*) FROM subscriptions s{}", f.conditions());
    let parts = sorted(&filter.sort, "s.created_at", |s| match s {
        SubscriptionSort::CreatedOn => "s.created_at",
        SubscriptionSort::CompanyName => "s.company_name",
        SubscriptionSort::ApplicationName => "s.application_name",
        SubscriptionSort::Status => "s.status",
    });
    f.order_by(&parts, "s.id DESC").window(limit, window)?;
    let page = format!(
        "SELECT {}, {}{} FROM subscriptions s JOIN orders o ON o.id = s.active_order_id{}",
        SubscriptionRecord::select_list(),
        OrderRecord::select_list(),
        f.key_select(),
        f.clause()
    );
    Ok((count, page, f))
}

/// `(count SQL, page SQL, filter)`: by the sort asked, else newest first.
pub fn list_orders(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &OrderFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    purchases(&mut f, "o", marketplace_id, &filter.common);
    if !filter.statuses.is_empty() {
        f.is_in("o.status", filter.statuses.iter().map(|s| text(s.as_str())));
    }
    let count = format!("SELECT COUNT(*) FROM orders o{}", f.conditions());
    let parts = sorted(&filter.sort, "o.created_at", |s| match s {
        OrderSort::CreatedOn => "o.created_at",
        OrderSort::CompanyName => "o.company_name",
        OrderSort::ApplicationName => "o.application_name",
        OrderSort::Status => "o.status",
        OrderSort::TotalFee => "o.total_cents",
    });
    f.order_by(&parts, "o.id DESC").window(limit, window)?;
    let page = format!("SELECT {}{} FROM orders o{}", OrderRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

/// `(count SQL, page SQL, filter)`: by creation, newest first unless asked otherwise.
pub fn list_seats(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &SeatFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("a.marketplace_id", text(marketplace_id)).eq("a.subscription_id", text(&filter.subscription_id));
    if !filter.user_ids.is_empty() {
        f.is_in("a.user_id", filter.user_ids.iter().map(|u| text(u)));
    }
    if !filter.statuses.is_empty() {
        f.is_in("a.status", filter.statuses.iter().map(|s| text(s.as_str())));
    }
    time_range(&mut f, "a.created_at", &filter.created);
    let count = format!("SELECT COUNT(*) FROM subscription_assignments a{}", f.conditions());
    let o = order(filter.order.unwrap_or(SortOrder::Desc));
    let tie = if o == Order::Desc { "a.created_at DESC, a.id DESC" } else { "a.created_at ASC, a.id ASC" };
    f.order_by(&[], tie).window(limit, window)?;
    let page =
        format!("SELECT {}{} FROM subscription_assignments a{}", SeatRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}
