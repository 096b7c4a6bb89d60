//! Payment methods (migration 0017): the declaration and the SQL both dialects accept. The
//! partial unique index `payment_methods_one_default` holds one default per owner and seller.

use super::customers::named;
use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Column, Dialect, Filter, Query, RowRead, Table, ToValue, Value};
use crate::{PaymentMethodRecord, record, sql};
use partnerd_domain::payment_method::{CardBrand, PaymentMethodType};
use std::borrow::Cow;

named!(PaymentMethodType, CardBrand);

record! {
    PaymentMethodRecord in "payment_methods" as "pm" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        seller_company_id: fixed "seller_company_id",
        company_id: fixed "company_id",
        owner_user_id: fixed "owner_user_id",
        owner_first_name: read "(SELECT u.first_name FROM users u WHERE u.id = pm.owner_user_id)",
        owner_last_name: read "(SELECT u.last_name FROM users u WHERE u.id = pm.owner_user_id)",
        method_type: fixed "method_type",
        account_display: fixed "account_display",
        brand: fixed "brand",
        card_holder_name: fixed "card_holder_name",
        expiration_month: fixed "expiration_month",
        expiration_year: fixed "expiration_year",
        billing_address: fixed "billing_address",
        is_default: set "is_default",
        created_at: fixed "created_at",
    }
}

/// `$1` marketplace, `$2` seller, `$3` owner: how many methods the owner has.
pub static COUNT_OWNER: Query = sql!(
    "SELECT COUNT(*) FROM payment_methods WHERE marketplace_id = $1 AND seller_company_id = $2 AND owner_user_id = $3"
);

/// `$1` marketplace, `$2` seller, `$3` owner: the owner's default is no longer one.
pub static CLEAR_DEFAULT: Query = sql!(
    "UPDATE payment_methods SET is_default = FALSE
     WHERE marketplace_id = $1 AND seller_company_id = $2 AND owner_user_id = $3 AND is_default"
);

/// `$1` marketplace, `$2` seller, `$3` owner: the owner's newest method becomes the default.
pub static PROMOTE_NEWEST: Query = sql!(
    "UPDATE payment_methods SET is_default = TRUE
     WHERE marketplace_id = $1 AND id = (
         SELECT id FROM payment_methods
         WHERE marketplace_id = $1 AND seller_company_id = $2 AND owner_user_id = $3
         ORDER BY created_at DESC, id DESC LIMIT 1)"
);

/// `$1` marketplace, `$2` seller, `$3` id.
pub static GET: Query = sql!(
    "SELECT {} FROM payment_methods pm WHERE pm.marketplace_id = $1 AND pm.seller_company_id = $2 AND pm.id = $3",
    PaymentMethodRecord::select_list()
);

/// `$1` marketplace, `$2` seller, `$3` id: answers whether it was the default.
pub static DELETE: Query = sql!(
    "DELETE FROM payment_methods WHERE marketplace_id = $1 AND seller_company_id = $2 AND id = $3 RETURNING is_default"
);

fn text(s: &str) -> Value<'static> {
    Value::Text(Cow::Owned(s.to_owned()))
}

/// `(count SQL, page SQL, filter)`: the owner's methods stored by the seller, newest first.
pub fn list(
    dialect: Dialect,
    marketplace_id: &str,
    seller_company_id: &str,
    owner_user_id: &str,
    method_type: Option<PaymentMethodType>,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let mut f = Filter::new(dialect);
    f.eq("pm.marketplace_id", text(marketplace_id))
        .eq("pm.seller_company_id", text(seller_company_id))
        .eq("pm.owner_user_id", text(owner_user_id));
    if let Some(t) = method_type {
        f.eq("pm.method_type", text(t.as_str()));
    }
    let count = format!("SELECT COUNT(*) FROM payment_methods pm{}", f.conditions());
    f.order_by(&[], "pm.created_at DESC, pm.id DESC").window(limit, window)?;
    let page = format!(
        "SELECT {}{} FROM payment_methods pm{}",
        PaymentMethodRecord::select_list(),
        f.key_select(),
        f.clause()
    );
    Ok((count, page, f))
}
