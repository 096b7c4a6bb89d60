//! Payment methods (`/paymentMethods…`): cards a reseller stores on behalf of its customers'
//! users, on the family's conventions (`super`), with the document's schema names.
//!
//! The body of `POST /paymentMethods` is read field by field from the JSON value (not through
//! a derived `Deserialize`), so that no error message (which an `Idempotency-Key` would keep)
//! and no `Debug` output ever repeats the card's number or security code; they travel as
//! `domain::payment_method::Sensitive` and end in the services, which keep neither. Nothing
//! here logs a body.

use super::{ApiJson, Caller, PageMetadata, PageSize, Query, ResellerError, one_of, plausible_id, required};
use crate::kernel::{Bounded, FromParam, Param};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use partnerd_domain::payment_method::{BillingAddress, CardInput, PaymentMethodType, Sensitive};
use partnerd_services::Services;
use partnerd_services::payment_methods::NewPaymentMethod;
use partnerd_store::PaymentMethodRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The documented page size of the list.
const DEFAULT_SIZE: u32 = 50;

/// `number`: this endpoint's pages count from 1 (the document's).
pub(super) type PageFromOne = Bounded<1, 1_000_000>;

/// Payment method types supported by AppReseller (partnerd supports cards).
#[derive(ToSchema)]
#[schema(as = AppResellerPaymentMethodType)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub(super) enum PaymentMethodTypeName {
    CARD,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct TypeParam(PaymentMethodType);
impl FromParam for TypeParam {
    fn from_param(raw: &str) -> Result<Self, String> {
        PaymentMethodType::parse(raw.trim()).map(TypeParam).map_err(|_| one_of(raw, &PaymentMethodType::NAMES))
    }
}

/// Billing address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingAddress)]
pub(super) struct BillingAddressDto {
    /// City or town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    /// Company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    company_name: Option<String>,
    /// Country code in ISO-3166 format: two capital letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    /// Fax number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fax: Option<String>,
    /// Fax number extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fax_extension: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    /// Post office box number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    po_box: Option<String>,
    /// Personal salutation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salutation: Option<String>,
    /// State, province, or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    /// First line of a street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    street1: Option<String>,
    /// Second line of a street address, such as apartment or unit number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    street2: Option<String>,
    /// ZIP or postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zip: Option<String>,
}

/// A minimum version of a user: includes only the user ID, first name, and last name.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerUserAssociation)]
pub(super) struct UserAssociationDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
}

/// Payment method information. No card number or security code is ever part of it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerPaymentMethod)]
pub(super) struct PaymentMethodDto {
    /// Account display text: the last 4 digits of the card number.
    account_display: String,
    /// Billing address.
    billing_address: BillingAddressDto,
    /// Indicates whether this is the user's default payment method.
    default: bool,
    /// Payment method ID.
    id: String,
    /// User associated with the billing address.
    owner: UserAssociationDto,
    #[schema(value_type = PaymentMethodTypeName)]
    payment_method_type: &'static str,
    /// For CARD: `brand`, `cardHolderName`, `expirationMonth` (two digits), `expirationYear`.
    properties: BTreeMap<String, String>,
}

impl From<&PaymentMethodRecord> for PaymentMethodDto {
    fn from(p: &PaymentMethodRecord) -> Self {
        let properties = BTreeMap::from([
            ("brand".to_owned(), p.brand.as_str().to_owned()),
            ("cardHolderName".to_owned(), p.card_holder_name.clone()),
            ("expirationMonth".to_owned(), format!("{:02}", p.expiration_month)),
            ("expirationYear".to_owned(), p.expiration_year.to_string()),
        ]);
        PaymentMethodDto {
            account_display: p.account_display.clone(),
            billing_address: BillingAddressDto::deserialize(&p.billing_address).unwrap_or_default(),
            default: p.is_default,
            id: p.id.clone(),
            owner: UserAssociationDto {
                first_name: p.owner_first_name.clone(),
                id: p.owner_user_id.clone(),
                last_name: p.owner_last_name.clone(),
            },
            payment_method_type: p.method_type.as_str(),
            properties,
        }
    }
}

/// List of payment methods.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AppResellerPaymentMethodPagedReadResponse)]
pub(super) struct PaymentMethodPage {
    content: Vec<PaymentMethodDto>,
    /// Page information; `number` is the request's, from 1.
    page: PageMetadata,
}

// Documentation only: the body is read field by field (`read_request`), see the module's
// description.
/// Creates a payment method for the specified user.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppResellerPaymentMethodRequest)]
#[allow(dead_code)]
pub(super) struct PaymentMethodRequest {
    /// User's billing address.
    billing_address: Option<BillingAddressDto>,
    /// ID of the user's company: the caller's company or a customer company associated with it.
    #[schema(required = true)]
    company_id: Option<String>,
    /// partnerd's addition: make this the user's default payment method (the first one is the
    /// default anyway).
    default: Option<bool>,
    /// ID of the user for whom to create the payment method: a user of `companyId`.
    #[schema(required = true)]
    owner_id: Option<String>,
    #[schema(value_type = PaymentMethodTypeName, required = true)]
    payment_method_type: Option<String>,
    /// For CARD: `number` (12–19 digits, optionally grouped by spaces or dashes, Luhn-valid),
    /// `securityCode` (3 or 4 digits, optional; checked, never stored), `expirationMonth` (1–12),
    /// `expirationYear` (four digits), `cardHolderName` (required), `brand` (optional: derived
    /// from the number; a contradicting one is 400).
    #[schema(required = true)]
    properties: Option<BTreeMap<String, String>>,
}

/// 400 naming a body field.
fn field_error(field: &str, problem: &str) -> ResellerError {
    ResellerError::bad_request(format!("Invalid value for field '{field}': {problem}"))
}

fn missing_field(field: &str) -> ResellerError {
    ResellerError::bad_request(format!("Required field '{field}' is missing"))
}

/// A client's key as a message may repeat it: a short identifier, else not at all (a key is
/// client text too, and could be anything).
fn key_name(prefix: &str, key: &str) -> String {
    if !key.is_empty() && key.len() <= 40 && key.bytes().all(|b| b.is_ascii_alphabetic()) {
        format!("{prefix}{key}")
    } else {
        prefix.trim_end_matches('.').to_owned()
    }
}

/// A string or absent (`null` too); another type is 400. Messages never repeat the value.
fn text(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, ResellerError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(field_error(field, "must be a string")),
    }
}

/// A required id: a non-blank string.
fn id(map: &Map<String, Value>, key: &str) -> Result<String, ResellerError> {
    text(map, key, key)?.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).ok_or_else(|| missing_field(key))
}

/// `expirationMonth` / `expirationYear`: a string as documented, or a JSON integer.
fn text_or_integer(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, ResellerError> {
    match map.get(key) {
        Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
        _ => text(map, key, field),
    }
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, ResellerError> {
    v.as_object().ok_or_else(|| field_error(field, "must be a JSON object"))
}

fn only_keys(map: &Map<String, Value>, known: &[&str], prefix: &str) -> Result<(), ResellerError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(field_error(&key_name(prefix, k), &format!("unknown field (known: {})", known.join(", ")))),
        None => Ok(()),
    }
}

const REQUEST_FIELDS: [&str; 6] =
    ["billingAddress", "companyId", "default", "ownerId", "paymentMethodType", "properties"];
const CARD_FIELDS: [&str; 6] =
    ["brand", "cardHolderName", "expirationMonth", "expirationYear", "number", "securityCode"];
const ADDRESS_FIELDS: [&str; 12] = [
    "city",
    "companyName",
    "country",
    "fax",
    "faxExtension",
    "phone",
    "poBox",
    "salutation",
    "state",
    "street1",
    "street2",
    "zip",
];

/// The request, read without ever repeating the number or the security code.
fn read_request(body: &Value) -> Result<NewPaymentMethod, ResellerError> {
    let Some(map) = body.as_object() else {
        return Err(ResellerError::bad_request("Invalid body: must be a JSON object"));
    };
    only_keys(map, &REQUEST_FIELDS, "")?;
    let company_id = id(map, "companyId")?;
    let owner_id = id(map, "ownerId")?;
    let raw_type =
        text(map, "paymentMethodType", "paymentMethodType")?.ok_or_else(|| missing_field("paymentMethodType"))?;
    let method_type = PaymentMethodType::parse(raw_type.trim())
        .map_err(|_| field_error("paymentMethodType", &one_of(&raw_type, &PaymentMethodType::NAMES)))?;
    let make_default = match map.get("default") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(field_error("default", "must be true or false")),
    };
    let properties = match map.get("properties") {
        None | Some(Value::Null) => return Err(missing_field("properties")),
        Some(v) => object(v, "properties")?,
    };
    only_keys(properties, &CARD_FIELDS, "properties.")?;
    let card = CardInput {
        number: text(properties, "number", "properties.number")?.map(Sensitive::new),
        security_code: text(properties, "securityCode", "properties.securityCode")?.map(Sensitive::new),
        expiration_month: text_or_integer(properties, "expirationMonth", "properties.expirationMonth")?,
        expiration_year: text_or_integer(properties, "expirationYear", "properties.expirationYear")?,
        card_holder_name: text(properties, "cardHolderName", "properties.cardHolderName")?,
        brand: text(properties, "brand", "properties.brand")?,
    };
    let billing_address = match map.get("billingAddress") {
        None | Some(Value::Null) => BillingAddress::default(),
        Some(v) => {
            let a = object(v, "billingAddress")?;
            only_keys(a, &ADDRESS_FIELDS, "billingAddress.")?;
            let f = |k: &str| text(a, k, &format!("billingAddress.{k}"));
            BillingAddress {
                city: f("city")?,
                company_name: f("companyName")?,
                country: f("country")?,
                fax: f("fax")?,
                fax_extension: f("faxExtension")?,
                phone: f("phone")?,
                po_box: f("poBox")?,
                salutation: f("salutation")?,
                state: f("state")?,
                street1: f("street1")?,
                street2: f("street2")?,
                zip: f("zip")?,
            }
        }
    };
    Ok(NewPaymentMethod { company_id, owner_id, method_type, card, billing_address, make_default })
}

/// Create payment method
///
/// ROLE_RESELLER, ROLE_SALES_SUPPORT (else 403). partnerd's rules where the document is
/// silent:
/// - `companyId`, `ownerId`, `paymentMethodType` and `properties` are required (400 naming the
///   missing one). `companyId` is the caller's company or a customer company associated with
///   it (else 403); `ownerId` must be a user of that company (else 400 naming `ownerId`).
/// - `paymentMethodType`: CARD only. `properties.number`: 12–19 digits, optionally grouped by
///   single spaces or dashes, Luhn-valid, of a known brand (VISA, MASTERCARD, AMEX, DISCOVER,
///   DINERS, JCB, UNIONPAY, MAESTRO, by its IIN) and of a length that brand issues;
///   `securityCode` optional, 3 or 4 digits; `expirationMonth` 1–12 and `expirationYear` four
///   digits (strings, or integers), the card valid through the end of that month (UTC), so a
///   past expiry is 400 (naming the year when it is past, else the month); `cardHolderName`
///   required (at most 200 characters); `brand` optional, derived from the number, and one
///   that contradicts it (compared case-insensitively) is 400 naming `properties.brand`.
///   Unknown fields, in the body or in `properties` or `billingAddress`, are 400. `billingAddress` fields
///   are optional text (at most 200 characters, 40 for zip, phone, fax, extensions, PO box and
///   salutation); `country` is two capital letters. Each problem is 400 naming the field.
/// - **The card number and the security code are never stored, returned or logged**: only
///   `accountDisplay` (the last four digits), the brand, the holder, the expiry and the
///   billing address are kept. Error messages never repeat them either.
/// - The method belongs to the caller's company: only that company lists and deletes it.
/// - One default per user (per owner, among the methods the caller's company stored): the
///   user's first method is the default; `"default": true` (partnerd's addition) makes the new
///   one the default and the previous one no longer, in one transaction.
#[utoipa::path(post, path = "/paymentMethods", tag = "Payment Methods", request_body = PaymentMethodRequest,
    responses((status = 200, description = "Success", body = PaymentMethodDto)))]
pub(super) async fn create(
    State(services): State<Services>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<PaymentMethodDto>, ResellerError> {
    let input = read_request(&body)?;
    drop(body);
    let m = services.payment_methods().create(&p, input).await?;
    Ok(Json(PaymentMethodDto::from(&m)))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(super) struct ListQuery {
    /// Beyond the document: `page.nextCursor` of the previous page, for keyset paging (each page
    /// costs the same at any depth, and rows written meanwhile neither repeat nor vanish); the
    /// page number is then not used.
    #[param(value_type = Option<String>)]
    cursor: super::CursorParam,
    /// Company ID: the caller's company or a customer company associated with it (else 403).
    #[param(required = true)]
    company_id: Option<String>,
    /// Page number starting at 1. The default value is 1.
    #[param(value_type = Option<u32>, minimum = 1, default = 1)]
    number: Option<PageFromOne>,
    /// User ID: a user of `companyId` (else 400).
    #[param(required = true)]
    owner_id: Option<String>,
    /// Payment method type.
    #[param(value_type = Option<PaymentMethodTypeName>)]
    payment_method_type: Option<Param<TypeParam>>,
    /// Number of results per page. The default value is 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, default = 50)]
    size: Option<PageSize>,
}

/// List payment methods
///
/// ROLE_RESELLER, ROLE_SALES_SUPPORT. The user's payment methods stored by the caller's
/// company (another reseller's are never listed), newest first. `companyId` and `ownerId` are
/// required and checked as on creation (403 for a company the caller may not act for, 400
/// for a user not of it); `companyId` authorises, it does not filter: the list is the user's
/// methods with the caller's company, as the default is. `paymentMethodType` other than CARD
/// is 400. Pages count from 1 here, as the document says: `page.number` echoes
/// the request's `number` (1 by default).
///
/// Beyond the document: `cursor` (the previous page's `page.nextCursor`) pages by keyset instead
/// of the page number; `page.nextCursor` is `null` on the last page and `page.number` is 0 on a
/// page read by cursor. A cursor holds only the position in the order (keep the filters and the
/// sort the same while following it); one that is not this server's, or is of another sort, is
/// 400 naming `cursor`.
#[utoipa::path(get, path = "/paymentMethods", tag = "Payment Methods", params(ListQuery),
    responses((status = 200, description = "Success", body = PaymentMethodPage)))]
pub(super) async fn list(
    State(services): State<Services>,
    Caller(p): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<PaymentMethodPage>, ResellerError> {
    let company = required(q.company_id.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()), "companyId")?;
    let owner = required(q.owner_id.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()), "ownerId")?;
    let (number, size) = (q.number.map_or(1, |n| n.0), q.size.map_or(DEFAULT_SIZE, |s| s.0));
    let offset = u64::from(number - 1) * u64::from(size);
    let method_type = q.payment_method_type.map(|t| t.0.0);
    let window = super::window(q.cursor, offset);
    let found = services.payment_methods().list(&p, &company, &owner, method_type, &window, size).await?;
    Ok(Json(PaymentMethodPage {
        content: found.items.iter().map(PaymentMethodDto::from).collect(),
        page: PageMetadata::paged(number, size, &window, found.total, found.next.as_ref()),
    }))
}

/// Remove payment methods
///
/// ROLE_RESELLER, ROLE_SALES_SUPPORT. Deletes a payment method the caller's company stored;
/// any other id (another reseller's method included) is 404. When it was its user's default,
/// the user's newest remaining method becomes the default, in the same transaction.
#[utoipa::path(delete, path = "/paymentMethods/{paymentMethodId}", tag = "Payment Methods",
    params(("paymentMethodId" = String, Path, description = "Payment method ID")),
    responses((status = 204, description = "No Content")))]
pub(super) async fn delete(
    State(services): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ResellerError> {
    if !plausible_id(&id) {
        return Err(ResellerError::not_found("payment method"));
    }
    services.payment_methods().delete(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> Value {
        json!({ "companyId": "c1", "ownerId": "u1", "paymentMethodType": "CARD",
            "properties": { "number": "4111 1111 1111 1111", "securityCode": "987", "expirationMonth": "10",
                "expirationYear": "2100", "cardHolderName": "John Jordan" },
            "billingAddress": { "country": "US" } })
    }

    fn message(e: ResellerError) -> String {
        let r = axum::response::IntoResponse::into_response(e);
        let bytes = futures_executor(r);
        String::from_utf8(bytes).unwrap()
    }

    fn futures_executor(r: axum::response::Response) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async { axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap().to_vec() })
    }

    #[test]
    fn the_request_is_read_without_showing_the_card() {
        let input = read_request(&body()).unwrap();
        assert_eq!((input.company_id.as_str(), input.owner_id.as_str()), ("c1", "u1"));
        assert!(!input.make_default);
        let shown = format!("{input:?}");
        assert!(!shown.contains("4111") && !shown.contains("987"), "{shown}");
        assert_eq!(input.billing_address.country.as_deref(), Some("US"));
    }

    #[test]
    fn bad_bodies_are_400_naming_the_field_and_never_the_number() {
        let with = |f: &dyn Fn(&mut Value)| {
            let mut b = body();
            f(&mut b);
            message(read_request(&b).unwrap_err())
        };
        let m = with(&|b| b["properties"]["number"] = json!(4111111111111111u64));
        assert!(m.contains("'properties.number'") && !m.contains("4111"), "{m}");
        let m = with(&|b| b["properties"] = json!("4111111111111111"));
        assert!(m.contains("'properties'") && !m.contains("4111"), "{m}");
        let m = with(&|b| b["properties"]["4111111111111111"] = json!("x"));
        assert!(m.contains("'properties'") && !m.contains("4111"), "{m}");
        let m = with(&|b| b["properties"]["securityCode"] = json!(987));
        assert!(m.contains("'properties.securityCode'") && !m.contains("987"), "{m}");
        let m = with(&|b| {
            b.as_object_mut().unwrap().remove("ownerId");
        });
        assert!(m.contains("'ownerId'") && m.contains("missing"), "{m}");
        let m = with(&|b| b["paymentMethodType"] = json!("BANK"));
        assert!(m.contains("'paymentMethodType'") && m.contains("CARD"), "{m}");
        let m = with(&|b| b["default"] = json!("yes"));
        assert!(m.contains("'default'"), "{m}");
        let m = with(&|b| b["billingAddress"]["planet"] = json!("Mars"));
        assert!(m.contains("'billingAddress.planet'"), "{m}");
        let m = message(read_request(&json!("4111111111111111")).unwrap_err());
        assert!(!m.contains("4111"), "{m}");
        // Integers are accepted for the expiry.
        let mut b = body();
        b["properties"]["expirationMonth"] = json!(3);
        assert_eq!(read_request(&b).unwrap().card.expiration_month.as_deref(), Some("3"));
    }
}
