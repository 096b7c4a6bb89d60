//! AppReseller accounts: companies, users, memberships, company associations and the
//! sellable catalog.

use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Dialect, Filter, Order, Query, Table, Value};
use crate::{
    AssociationFilter, AssociationRecord, AssociationSort, CompanyFilter, CompanyRecord, CompanyScope, CompanySort,
    ProductRecord, SortOrder, UserActivity, UserFilter, UserMembership, UserRecord, UserSort, VendorFilter, record,
    sql,
};
use std::borrow::Cow;

record! {
    CompanyRecord in "companies" as "c" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        name: set "name",
        kind: fixed "kind",
        external_id: fixed "external_id",
        phone: set "phone",
        website: set "website",
        company_size: set "company_size",
        is_reseller: set "is_reseller",
        is_referral: set "is_referral",
        is_developer: set "is_developer",
        is_channel_admin: set "is_channel_admin",
        is_customer: set "is_customer",
        enabled: set "enabled",
        active: set "active",
        created_by_company_id: fixed "created_by_company_id",
        settings: set "settings",
        tax_exemptions: set "tax_exemptions",
        created_at: fixed "created_at",
        num_users: read "(SELECT COUNT(*) FROM memberships mm WHERE mm.company_id = c.id)",
    }
}

record! {
    AssociationRecord in "company_associations" as "a" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        customer_company_id: fixed "customer_company_id",
        customer_company_name: read "cc.name",
        reseller_company_id: fixed "reseller_company_id",
        reseller_company_name: read "rc.name",
        created_at: fixed "created_at",
    }
}

record! {
    UserRecord in "users" as "u" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        email: fixed "email",
        first_name: set "first_name",
        last_name: set "last_name",
        external_id: fixed "external_id",
        activated: set "activated",
        enabled: set "enabled",
        created_at: fixed "created_at",
    }
}

record! {
    UserMembership {
        user_id: read "m.user_id",
        company_id: read "m.company_id",
        company_name: read "c.name",
        company_external_id: read "c.external_id",
        company_phone: read "c.phone",
        company_created_at: read "c.created_at",
        company_is_reseller: read "c.is_reseller",
        company_is_referral: read "c.is_referral",
        roles: read "m.roles",
        enabled: read "m.enabled",
        created_at: read "m.created_at",
    }
}

record! {
    ProductRecord in "catalog_products" as "p" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        name: set "name",
        blurb: set "blurb",
        image_url: set "image_url",
        provider: set "provider",
        visible: set "visible",
        editions: set "editions",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

/// `$1` marketplace, `$2` id.
pub static GET_COMPANY: Query =
    sql!("SELECT {} FROM companies c WHERE c.marketplace_id = $1 AND c.id = $2", CompanyRecord::select_list());

/// `$1` marketplace, `$2` reseller company, `$3` customer company.
pub static IS_LINKED: Query = sql!(
    "SELECT COUNT(*) FROM company_associations
     WHERE marketplace_id = $1 AND reseller_company_id = $2 AND customer_company_id = $3"
);

/// `$1` marketplace, `$2` company: the partner enrolled with it.
pub static PARTNER_OF_COMPANY: Query = sql!("SELECT id FROM partners WHERE marketplace_id = $1 AND company_id = $2");

const ASSOCIATION_FROM: &str = "FROM company_associations a
     JOIN companies cc ON cc.id = a.customer_company_id JOIN companies rc ON rc.id = a.reseller_company_id";

/// `$1` marketplace, `$2` id.
pub static GET_ASSOCIATION: Query =
    sql!("SELECT {} {ASSOCIATION_FROM} WHERE a.marketplace_id = $1 AND a.id = $2", AssociationRecord::select_list());

/// `$1` marketplace, `$2` id: PostgreSQL's row lock before a delete.
pub static LOCK_ASSOCIATION: Query =
    sql!("SELECT id FROM company_associations WHERE marketplace_id = $1 AND id = $2 FOR UPDATE");

/// `$1` marketplace, `$2` id.
pub static DELETE_ASSOCIATION: Query = sql!("DELETE FROM company_associations WHERE marketplace_id = $1 AND id = $2");

/// `$1` id, `$2` reseller, `$3` referral, `$4` developer, `$5` channel admin: the flags of an
/// enrolled partner's company, from its roles.
pub static SET_COMPANY_FLAGS: Query = sql!(
    "UPDATE companies SET is_reseller = $2, is_referral = $3, is_developer = $4, is_channel_admin = $5 WHERE id = $1"
);

/// `$1` marketplace, `$2` user, `$3` company, `$4` roles, `$5` created.
pub static INSERT_MEMBERSHIP: Query = sql!(
    "INSERT INTO memberships (marketplace_id, user_id, company_id, roles, created_at) VALUES ($1, $2, $3, $4, $5)"
);

/// `$1` marketplace, `$2` id.
pub static GET_USER: Query =
    sql!("SELECT {} FROM users u WHERE u.marketplace_id = $1 AND u.id = $2", UserRecord::select_list());

/// `$1` marketplace, `$2` id.
pub static GET_PRODUCT: Query =
    sql!("SELECT {} FROM catalog_products p WHERE p.marketplace_id = $1 AND p.id = $2", ProductRecord::select_list());

/// `$1` marketplace, `$2` product: its image alone (a quote item's logo), not its editions.
pub static PRODUCT_IMAGE: Query =
    sql!("SELECT p.image_url FROM catalog_products p WHERE p.marketplace_id = $1 AND p.id = $2");

fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

/// `%term%`, lower-cased, with LIKE's wildcards escaped (`ESCAPE '\'`).
pub(crate) fn like(term: &str) -> Value<'static> {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for ch in term.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    Value::Text(Cow::Owned(out))
}

fn order(o: SortOrder) -> Order {
    match o {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    }
}

/// The companies of a scope, as a condition on `alias` (`?` for each value).
fn company_scope(alias: &str, scope: &CompanyScope) -> (String, Vec<Value<'static>>) {
    match scope {
        CompanyScope::LinkedTo(reseller) => (
            format!(
                "{alias}.id IN (SELECT sa.customer_company_id FROM company_associations sa WHERE sa.reseller_company_id = ?)"
            ),
            vec![text(reseller)],
        ),
        CompanyScope::ResellersAndReferrals => (
            format!("({alias}.is_reseller = ? OR {alias}.is_referral = ?)"),
            vec![Value::Bool(true), Value::Bool(true)],
        ),
    }
}

/// The count and the page of a company listing, and the filter binding both.
pub fn list_companies(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &CompanyFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("c.marketplace_id", text(marketplace_id));
    let (scope, values) = company_scope("c", &filter.scope);
    f.and(&scope, values);
    if let Some(active) = filter.active {
        f.eq("c.active", Value::Bool(active));
    }
    if let Some(enabled) = filter.enabled {
        f.eq("c.enabled", Value::Bool(enabled));
    }
    if let Some(admin) = filter.channel_admin {
        f.eq("c.is_channel_admin", Value::Bool(admin));
    }
    match filter.vendor {
        Some(VendorFilter::OnlyVendors) => f.eq("c.is_developer", Value::Bool(true)),
        Some(VendorFilter::OnlyNonVendors) => f.eq("c.is_developer", Value::Bool(false)),
        Some(VendorFilter::OnlyResellers) => f.eq("c.is_reseller", Value::Bool(true)),
        None => &mut f,
    };
    if let Some(from) = filter.from {
        f.gte("c.created_at", Value::Time(from));
    }
    if let Some(to) = filter.to {
        f.lte("c.created_at", Value::Time(to));
    }
    if let Some(s) = &filter.search {
        let p = like(s);
        f.and(
            "(LOWER(c.name) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(c.external_id, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(c.phone, '')) LIKE ? ESCAPE '\\')",
            [p.clone(), p.clone(), p],
        );
    }
    let count = format!("SELECT COUNT(*) FROM companies c{}", f.conditions());
    let column = match filter.sort {
        CompanySort::Id => "c.id",
        CompanySort::CreatedOn => "c.created_at",
    };
    f.order_by(&[(column, order(filter.order))], "c.id").window(limit, window)?;
    let page = format!("SELECT {}{} FROM companies c{}", CompanyRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

pub fn list_associations(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &AssociationFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("a.marketplace_id", text(marketplace_id));
    if let Some(r) = &filter.reseller_company_id {
        f.eq("a.reseller_company_id", text(r));
    }
    if let Some(c) = &filter.customer_company_id {
        f.eq("a.customer_company_id", text(c));
    }
    if let Some(from) = filter.created_from {
        f.gte("a.created_at", Value::Time(from));
    }
    if let Some(to) = filter.created_to {
        f.lte("a.created_at", Value::Time(to));
    }
    if let Some(s) = &filter.search {
        let p = like(s);
        f.and("(LOWER(cc.name) LIKE ? ESCAPE '\\' OR LOWER(rc.name) LIKE ? ESCAPE '\\')", [p.clone(), p]);
    }
    let count = format!("SELECT COUNT(*) {ASSOCIATION_FROM}{}", f.conditions());
    let parts: Vec<(&str, Order)> = filter
        .sort
        .iter()
        .map(|(s, o)| {
            let column = match s {
                AssociationSort::CreatedOn => "a.created_at",
                AssociationSort::CustomerName => "cc.name",
                AssociationSort::ResellerName => "rc.name",
            };
            (column, order(*o))
        })
        .collect();
    let tie = if parts.is_empty() { "a.created_at DESC, a.id DESC" } else { "a.id" };
    f.order_by(&parts, tie).window(limit, window)?;
    let page =
        format!("SELECT {}{} {ASSOCIATION_FROM}{}", AssociationRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

pub fn list_users(
    dialect: Dialect,
    marketplace_id: &str,
    filter: &UserFilter,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("u.marketplace_id", text(marketplace_id));
    // Users with a membership in one of the scope's companies.
    let (scope, values) = company_scope("sc", &filter.scope);
    f.and(
        &format!(
            "u.id IN (SELECT sm.user_id FROM memberships sm JOIN companies sc ON sc.id = sm.company_id WHERE {scope})"
        ),
        values,
    );
    if let Some(c) = &filter.company_id {
        f.and("u.id IN (SELECT cm.user_id FROM memberships cm WHERE cm.company_id = ?)", [text(c)]);
    }
    match filter.activity {
        Some(UserActivity::Active) => {
            f.and("u.activated = ? AND u.enabled = ?", [Value::Bool(true), Value::Bool(true)])
        }
        Some(UserActivity::Inactive) => f.eq("u.enabled", Value::Bool(false)),
        Some(UserActivity::PendingInvite) => {
            f.and("u.activated = ? AND u.enabled = ?", [Value::Bool(false), Value::Bool(true)])
        }
        None => &mut f,
    };
    if let Some(from) = filter.from {
        f.gte("u.created_at", Value::Time(from));
    }
    if let Some(to) = filter.to {
        f.lte("u.created_at", Value::Time(to));
    }
    if let Some(s) = &filter.search {
        let p = like(s);
        f.and(
            "(LOWER(u.email) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(u.first_name, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(u.last_name, '')) LIKE ? ESCAPE '\\')",
            [p.clone(), p.clone(), p],
        );
    }
    let count = format!("SELECT COUNT(*) FROM users u{}", f.conditions());
    let column = match filter.sort {
        UserSort::Id => "u.id",
        UserSort::Email => "u.email",
        UserSort::FirstName => "u.first_name",
        UserSort::CreatedOn => "u.created_at",
    };
    f.order_by(&[(column, order(filter.order))], "u.id").window(limit, window)?;
    let page = format!("SELECT {}{} FROM users u{}", UserRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

/// The memberships of `user_ids` with their companies.
pub fn user_memberships(dialect: Dialect, marketplace_id: &str, user_ids: &[String]) -> (String, Filter) {
    let mut f = Filter::new(dialect);
    f.eq("m.marketplace_id", text(marketplace_id));
    f.is_in("m.user_id", user_ids.iter().map(|u| text(u)));
    f.order_by(&[], "m.user_id, m.created_at, m.company_id");
    let sql = format!(
        "SELECT {} FROM memberships m JOIN companies c ON c.id = m.company_id{}",
        crate::kit::column_list::<UserMembership>(),
        f.clause()
    );
    (sql, f)
}

pub fn products_named(dialect: Dialect, marketplace_id: &str, names: &[String]) -> (String, Filter) {
    let mut f = Filter::new(dialect);
    f.eq("p.marketplace_id", text(marketplace_id));
    f.is_in("p.name", names.iter().map(|n| text(n)));
    f.order_by(&[], "p.name");
    (format!("SELECT {} FROM catalog_products p{}", ProductRecord::select_list(), f.clause()), f)
}

pub fn list_products(
    dialect: Dialect,
    marketplace_id: &str,
    search: Option<&str>,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("p.marketplace_id", text(marketplace_id));
    f.eq("p.visible", Value::Bool(true));
    if let Some(s) = search {
        let p = like(s);
        f.and(
            "(LOWER(p.name) LIKE ? ESCAPE '\\' OR LOWER(p.blurb) LIKE ? ESCAPE '\\' OR LOWER(p.provider) LIKE ? ESCAPE '\\')",
            [p.clone(), p.clone(), p],
        );
    }
    let count = format!("SELECT COUNT(*) FROM catalog_products p{}", f.conditions());
    f.order_by(&[], "p.name, p.id").window(limit, window)?;
    let page =
        format!("SELECT {}{} FROM catalog_products p{}", ProductRecord::select_list(), f.key_select(), f.clause());
    Ok((count, page, f))
}

/// `$1` marketplace, `$2` e-mail.
pub static EMAIL_USED: Query = sql!("SELECT COUNT(*) FROM users WHERE marketplace_id = $1 AND email = $2");

/// `$1` marketplace, `$2` external id.
pub static USER_EXTERNAL_ID_USED: Query =
    sql!("SELECT COUNT(*) FROM users WHERE marketplace_id = $1 AND external_id = $2");
