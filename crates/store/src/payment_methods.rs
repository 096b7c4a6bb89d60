//! AppReseller payment methods: the record and the trait both backends implement. A method
//! belongs to the company that stored it (the seller) and is kept per owner (a user of a
//! customer company). No card number or security code is ever part of it.

use crate::StoreResult;
use crate::{Paged, Window};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use partnerd_domain::events::NewEvent;
use partnerd_domain::payment_method::{CardBrand, PaymentMethodType};

/// A stored payment method: what may be shown of a card, never its number or security code.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentMethodRecord {
    pub id: String,
    pub marketplace_id: String,
    /// The company that stored it (the caller's): only it lists and deletes it.
    pub seller_company_id: String,
    /// The owner's company it was stored for.
    pub company_id: String,
    pub owner_user_id: String,
    /// Read only: the owner's names.
    pub owner_first_name: Option<String>,
    pub owner_last_name: Option<String>,
    pub method_type: PaymentMethodType,
    /// The last four digits of the card.
    pub account_display: String,
    pub brand: CardBrand,
    pub card_holder_name: String,
    pub expiration_month: u32,
    pub expiration_year: u32,
    /// `domain::payment_method::BillingAddress` as JSON.
    pub billing_address: serde_json::Value,
    /// The owner's default method (at most one per owner and seller).
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait PaymentMethodStore: Send + Sync {
    /// Stores the method with the events, in one transaction, and answers it as stored. It is
    /// the owner's default (with this seller) when `is_default` asks for it, which clears the
    /// previous default, or when the owner has no other method: the first method is always
    /// the default. Concurrent writes for one owner are serialised.
    async fn create_payment_method(
        &self,
        method: PaymentMethodRecord,
        events: Vec<NewEvent>,
    ) -> StoreResult<PaymentMethodRecord>;

    /// The owner's methods stored by `seller_company_id`, newest first, with their total.
    async fn list_payment_methods(
        &self,
        marketplace_id: &str,
        seller_company_id: &str,
        owner_user_id: &str,
        method_type: Option<PaymentMethodType>,
        window: &Window,
        limit: u32,
    ) -> StoreResult<Paged<PaymentMethodRecord>>;

    /// Deletes the seller's method and answers it; when it was the default, the owner's newest
    /// remaining method (with this seller) becomes the default in the same transaction.
    /// `NotFound("payment_method")` when the seller has no such method (another seller's is
    /// not found either).
    async fn delete_payment_method(
        &self,
        marketplace_id: &str,
        seller_company_id: &str,
        id: &str,
        at: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> StoreResult<PaymentMethodRecord>;
}
