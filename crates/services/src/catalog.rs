//! The sellable catalog: the operator's import (all or nothing, ids kept across re-imports)
//! and what resellers read of it.

use crate::error::codes;
use crate::policy;
use crate::{Principal, ServiceError, Services};
use partnerd_domain::catalog::{Edition, assign_ids, parse_import};
use partnerd_domain::events::{NewEvent, ProductImported};
use partnerd_domain::ids::new_id;
use partnerd_domain::partner::Role;
use partnerd_store::ProductRecord;
use partnerd_store::{Paged, Window};

pub struct Catalog<'a> {
    pub(crate) services: &'a Services,
}

/// A product as stored, with its editions decoded.
#[derive(Debug, Clone)]
pub struct Product {
    pub record: ProductRecord,
    pub editions: Vec<Edition>,
}

fn decode(record: ProductRecord) -> Result<Product, ServiceError> {
    let editions: Vec<Edition> = serde_json::from_value(record.editions.clone())
        .map_err(|e| ServiceError::unavailable(format!("product {}: stored editions unreadable: {e}", record.id)))?;
    Ok(Product { record, editions })
}

impl Catalog<'_> {
    /// Imports a file of products (operator action: a marketplace, no caller). Nothing is
    /// written unless every product is valid; a product whose name is stored already is
    /// updated in place, keeping its ids (and those of the editions, plans and costs that
    /// still match).
    pub async fn import(&self, marketplace_id: &str, file: &serde_json::Value) -> Result<Vec<Product>, ServiceError> {
        let inputs = parse_import(file)?;
        let store = &self.services.store;
        let names: Vec<String> = inputs.iter().map(|p| p.name.clone()).collect();
        let stored = store.products_named(marketplace_id, &names).await?;
        let now = self.services.clock.now();
        let mut products = Vec::with_capacity(inputs.len());
        let mut events = Vec::with_capacity(inputs.len());
        for input in inputs {
            let previous = stored.iter().find(|s| s.name == input.name).cloned().map(decode).transpose()?;
            let mut editions = input.editions;
            let old: &[Edition] = previous.as_ref().map_or(&[], |p| p.editions.as_slice());
            assign_ids(&mut editions, old, &mut |prefix| new_id(prefix));
            let record = ProductRecord {
                id: previous.as_ref().map_or_else(|| new_id("product"), |p| p.record.id.clone()),
                marketplace_id: marketplace_id.to_owned(),
                name: input.name,
                blurb: input.blurb,
                image_url: input.image_url,
                provider: input.provider,
                visible: input.visible,
                editions: serde_json::to_value(&editions)
                    .map_err(|e| ServiceError::unavailable(format!("editions do not serialise: {e}")))?,
                created_at: previous.as_ref().map_or(now, |p| p.record.created_at),
                updated_at: now,
            };
            events.push(NewEvent::of(&ProductImported {
                product_id: record.id.clone(),
                name: record.name.clone(),
                created: previous.is_none(),
            }));
            products.push(Product { record, editions });
        }
        store.save_products(products.iter().map(|p| p.record.clone()).collect(), events).await?;
        Ok(products)
    }

    /// [`Self::import`] for the signed-in operator (the dashboard's catalog form); a partner's
    /// user is refused.
    pub async fn import_as(
        &self,
        operator: &Principal,
        file: &serde_json::Value,
    ) -> Result<Vec<Product>, ServiceError> {
        policy::require_operator(operator)?;
        self.import(&operator.marketplace_id, file).await
    }

    /// The operator's view of the catalog: the visible products as resellers list them (by
    /// name, `search` as the API's `searchText`), with their editions.
    pub async fn operator_products(
        &self,
        operator: &Principal,
        search: Option<&str>,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<Product>, ServiceError> {
        policy::require_operator(operator)?;
        let Paged { items, total, next } =
            self.services.store.list_products(&operator.marketplace_id, search, window, limit).await?;
        Ok(Paged { items: items.into_iter().map(decode).collect::<Result<_, _>>()?, total, next })
    }

    /// One product for the operator, hidden ones included.
    pub async fn operator_product(&self, operator: &Principal, product_id: &str) -> Result<Product, ServiceError> {
        policy::require_operator(operator)?;
        let record = self.services.store.get_product(&operator.marketplace_id, product_id).await?;
        decode(record.ok_or(ServiceError::not_found("product"))?)
    }

    /// 403 unless the caller is a reseller (the catalog's scope table), and a `targetUserId`
    /// is the caller or a user of a company it manages.
    async fn reseller(&self, p: &Principal, target_user_id: Option<&str>) -> Result<(), ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        let Some(target) = target_user_id.filter(|t| *t != p.user_id) else { return Ok(()) };
        let store = &self.services.store;
        for m in store.user_memberships(&p.marketplace_id, &[target.to_owned()]).await? {
            if store.is_linked(&p.marketplace_id, &p.company_id, &m.company_id).await? {
                return Ok(());
            }
        }
        Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED))
    }

    /// `GET /catalog/sellableProducts`: visible products by name.
    pub async fn sellable_products(
        &self,
        p: &Principal,
        target_user_id: Option<&str>,
        search: Option<&str>,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<ProductRecord>, ServiceError> {
        self.reseller(p, target_user_id).await?;
        Ok(self.services.store.list_products(&p.marketplace_id, search, window, limit).await?)
    }

    /// `GET /catalog/sellableProducts/{id}/editions`: 404 for a missing or hidden product.
    pub async fn editions(
        &self,
        p: &Principal,
        target_user_id: Option<&str>,
        product_id: &str,
    ) -> Result<Vec<Edition>, ServiceError> {
        self.reseller(p, target_user_id).await?;
        let record = self.services.store.get_product(&p.marketplace_id, product_id).await?;
        let record = record.filter(|r| r.visible).ok_or(ServiceError::not_found("product"))?;
        Ok(decode(record)?.editions)
    }
}
