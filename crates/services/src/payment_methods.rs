//! AppReseller payment methods (`/paymentMethods`): a reseller (or a sales support
//! representative) stores cards on behalf of the users of its customer companies.
//!
//! - Scope: ROLE_RESELLER or ROLE_SALES_SUPPORT (403 otherwise). `companyId` is the caller's
//!   own company or a customer company associated with it (else 403 `company_not_managed`);
//!   `ownerId` must be a member of that company (else 400 naming `ownerId`).
//! - A method belongs to the caller's company (its seller): only that company lists and
//!   deletes it; another's id is not found.
//! - The card rules are `domain::payment_method`'s; the number and the security code are
//!   checked and dropped here: only the last four digits, the brand, the holder, the expiry
//!   and the billing address reach the store. Nothing here logs the input.
//! - `payment_method.created` / `payment_method.deleted` (internal events, for the seller
//!   company's partner) are appended in the write's transaction; they carry no card data.
//! - One default per owner and seller (the store decides it inside the write): the first
//!   method is the default, `make_default` moves it, deleting it promotes the newest remaining.

use crate::error::codes;
use crate::{Principal, ServiceError, Services, policy};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{NewEvent, PaymentMethodCreated, PaymentMethodDeleted};
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::Role;
use partnerd_domain::payment_method::{BillingAddress, CardInput, PaymentMethodType};
use partnerd_store::PaymentMethodRecord;
use partnerd_store::{Paged, Window};

/// The endpoints' scope table.
pub const SCOPE: [Role; 2] = [Role::Reseller, Role::SalesSupport];

pub struct PaymentMethods<'a> {
    pub(crate) services: &'a Services,
}

/// A new payment method as the surface read it. Its `Debug` shows nothing of the card's number
/// or security code (`CardInput` holds them as `Sensitive`).
#[derive(Debug, Clone)]
pub struct NewPaymentMethod {
    pub company_id: String,
    pub owner_id: String,
    pub method_type: PaymentMethodType,
    pub card: CardInput,
    pub billing_address: BillingAddress,
    /// Make it the owner's default (the first method is the default anyway).
    pub make_default: bool,
}

impl PaymentMethods<'_> {
    /// 403 unless the caller holds the scope and may act for `company_id`; 400 naming
    /// `ownerId` unless the owner is a member of it.
    async fn authorize(&self, p: &Principal, company_id: &str, owner_id: &str) -> Result<(), ServiceError> {
        policy::require_scope(p, &SCOPE)?;
        let store = &self.services.store;
        if company_id != p.company_id && !store.is_linked(&p.marketplace_id, &p.company_id, company_id).await? {
            return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
        }
        let memberships = store.user_memberships(&p.marketplace_id, &[owner_id.to_owned()]).await?;
        if !memberships.iter().any(|m| m.company_id == company_id) {
            return Err(ValidationErrors::single("ownerId", "is not a user of the company").into());
        }
        Ok(())
    }

    /// `POST /paymentMethods`.
    pub async fn create(&self, p: &Principal, input: NewPaymentMethod) -> Result<PaymentMethodRecord, ServiceError> {
        self.authorize(p, &input.company_id, &input.owner_id).await?;
        let now = self.services.clock.now();
        let mut errors = ValidationErrors::new();
        // The number and the security code end here: `checked` keeps neither.
        let card = input.card.checked("properties.", now, &mut errors);
        let address = input.billing_address.validated("billingAddress.", &mut errors);
        let (Some(card), true) = (card, errors.is_empty()) else { return Err(errors.into()) };
        let billing_address = serde_json::to_value(&address)
            .map_err(|e| ServiceError::unavailable(format!("billing address does not serialise: {e}")))?;
        let record = PaymentMethodRecord {
            id: new_id("pm"),
            marketplace_id: p.marketplace_id.clone(),
            seller_company_id: p.company_id.clone(),
            company_id: input.company_id,
            owner_user_id: input.owner_id,
            owner_first_name: None,
            owner_last_name: None,
            method_type: input.method_type,
            account_display: card.last_four,
            brand: card.brand,
            card_holder_name: card.holder_name,
            expiration_month: card.expiration_month,
            expiration_year: card.expiration_year,
            billing_address,
            is_default: input.make_default,
            created_at: now,
        };
        let event = NewEvent::of(&PaymentMethodCreated {
            payment_method_id: record.id.clone(),
            company_id: record.company_id.clone(),
            owner_user_id: record.owner_user_id.clone(),
            brand: record.brand.as_str().to_owned(),
        });
        let events = vec![self.attributed(p, event).await?];
        Ok(self.services.store.create_payment_method(record, events).await?)
    }

    /// `GET /paymentMethods`: the owner's methods stored by the caller's company, newest first.
    pub async fn list(
        &self,
        p: &Principal,
        company_id: &str,
        owner_id: &str,
        method_type: Option<PaymentMethodType>,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<PaymentMethodRecord>, ServiceError> {
        self.authorize(p, company_id, owner_id).await?;
        let store = &self.services.store;
        Ok(store.list_payment_methods(&p.marketplace_id, &p.company_id, owner_id, method_type, window, limit).await?)
    }

    /// `DELETE /paymentMethods/{id}`: the caller's company's method (another's is not found).
    pub async fn delete(&self, p: &Principal, id: &str) -> Result<PaymentMethodRecord, ServiceError> {
        policy::require_scope(p, &SCOPE)?;
        let now = self.services.clock.now();
        let event = NewEvent::of(&PaymentMethodDeleted { payment_method_id: id.to_owned() });
        let events = vec![self.attributed(p, event).await?];
        Ok(self.services.store.delete_payment_method(&p.marketplace_id, &p.company_id, id, now, events).await?)
    }

    /// The event for the seller company's partner (if it is one), by the caller.
    async fn attributed(&self, p: &Principal, event: NewEvent) -> Result<NewEvent, ServiceError> {
        let partner = self.services.store.partner_of_company(&p.marketplace_id, &p.company_id).await?;
        Ok(event.partner(partner).actor(Some(p.user_id.clone())))
    }
}
