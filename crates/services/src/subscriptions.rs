//! AppReseller subscriptions: buying a payment plan of the catalog for a user of a customer
//! company, changing its quantity or plan, cancelling it, its orders, and assigning its seats.
//!
//! Every purchase and change is priced by `domain::subscription` and written in one
//! transaction with its order, its invoice and commission (the reseller's partner is billed
//! and earns, through the same invoice and commission records as customer accounts: `Billing`)
//! and its events. A subscription belongs to the reseller company that bought it: another
//! company's is "not found".
//!
//! Decisions (also in the OpenAPI descriptions):
//! - A reseller company that is no partner buys without invoices (there is no partner to bill).
//! - A change within a recurring period is prorated (a credit for the unused time of the old
//!   order, a charge for the rest at the new price, one invoice); a one-time purchase's change
//!   is charged or credited the difference. A change that moves no money issues no invoice.
//! - A cancellation ends the subscription at once, without a refund, and unassigns its seats.

use crate::billing::Payer;
use crate::error::codes;
use crate::policy::{self, Context};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::billing::{LineItem, Period, Rate};
use partnerd_domain::catalog::PaymentPlan;
use partnerd_domain::events::{
    Change, EventPayload, NewEvent, OrderCreated, SeatAssigned, SeatUnassigned, SubscriptionCancelled,
    SubscriptionChanged, SubscriptionCreated, SubscriptionRenewed,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::money::Amount;
use partnerd_domain::partner::Role;
use partnerd_domain::subscription::{
    self as rules, OrderLine, PricedOrder, SeatStatus, SubscriptionAction, SubscriptionStatus,
};
use partnerd_store::schema::billing::reasons;
use partnerd_store::{
    CompanyRecord, NO_SEAT_AVAILABLE, NewInvoice, OrderFilter, OrderRecord, PurchaseFilter, SEAT_TAKEN, SEATS_IN_USE,
    SUBSCRIPTION_EXISTS, SUBSCRIPTION_NOT_ACTIVE, SeatFilter, SeatRecord, StoreError, SubscriptionChange,
    SubscriptionEntry, SubscriptionFilter, SubscriptionRecord, UserRecord,
};
use partnerd_store::{Paged, Window};

pub struct Subscriptions<'a> {
    pub(crate) services: &'a Services,
}

/// `POST /subscriptions`.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub payment_plan_id: String,
    pub target_company_id: String,
    pub target_user_id: String,
    pub order_lines: Vec<OrderLine>,
    pub parent_subscription_id: Option<String>,
}

/// `PUT /subscriptions/{id}`: both are required (the document: "you must provide both").
#[derive(Debug, Clone)]
pub struct SubscriptionUpdate {
    pub payment_plan_id: String,
    pub order_lines: Vec<OrderLine>,
}

/// Who may list purchases, and whose: the documented contexts.
#[derive(Debug, Clone)]
pub struct PurchaseQuery {
    pub context: Context,
    /// `customerCompanyId` (required for `RESELLER`).
    pub customer_company_id: Option<String>,
    /// `resellerCompanyId` (required for `RESELLER_MANAGER`).
    pub reseller_company_id: Option<String>,
    /// `userId`: the customer's user for a reseller, the reseller's user for a manager.
    pub user_id: Option<String>,
}

/// The contexts of the subscription and order lists.
pub const PURCHASE_CONTEXTS: [Context; 2] = [Context::Reseller, Context::ResellerManager];

/// Subscriptions read per renewal pass.
const RENEWAL_BATCH: u32 = 200;

/// How many times a change re-reads a subscription that moved under it before giving up (409).
const CHANGE_ATTEMPTS: usize = 5;

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(ValidationErrors::single(field, message))
}

/// The client's filters (`created`, `paid`, `pending`, `search`) on whose rows the context
/// rules allow (the companies and users).
fn scoped(asked: PurchaseFilter, whose: PurchaseFilter) -> PurchaseFilter {
    PurchaseFilter { created: asked.created, paid: asked.paid, pending: asked.pending, search: asked.search, ..whose }
}

fn name(part: &Option<String>) -> String {
    part.clone().unwrap_or_default()
}

/// The invoice lines of a first purchase: one per cost of the plan.
fn purchase_lines(title: &str, priced: &PricedOrder, period: Period) -> Vec<LineItem> {
    priced
        .priced
        .iter()
        .map(|l| {
            let mut line = LineItem::new(
                format!("{title}: {} × {}", l.quantity, l.unit.as_str()),
                l.total_cents,
                period.start,
                period.end,
                false,
            );
            if l.pricing_strategy == partnerd_domain::catalog::PricingStrategy::Unit {
                line.quantity = i64::from(l.quantity);
                line.unit_amount = l.unit_price_cents;
            }
            line
        })
        .collect()
}

fn lines_text(lines: &[OrderLine]) -> String {
    lines.iter().map(|l| format!("{} × {}", l.quantity, l.unit.as_str())).collect::<Vec<_>>().join(", ")
}

fn stored_lines(record_lines: &serde_json::Value, id: &str) -> Result<Vec<OrderLine>, ServiceError> {
    serde_json::from_value(record_lines.clone())
        .map_err(|e| ServiceError::unavailable(format!("stored order lines of {id}: {e}")))
}

/// A plan found in the catalog, with what the order copies of it.
pub(crate) struct CatalogPlan {
    pub(crate) product_id: String,
    pub(crate) application_name: String,
    pub(crate) edition_id: String,
    pub(crate) edition_name: String,
    pub(crate) plan: PaymentPlan,
}

impl CatalogPlan {
    pub(crate) fn of(row: partnerd_store::CatalogPlanRecord) -> Result<Self, ServiceError> {
        let plan: PaymentPlan = serde_json::from_value(row.plan)
            .map_err(|e| ServiceError::unavailable(format!("catalog plan {}: stored plan unreadable: {e}", row.id)))?;
        Ok(CatalogPlan {
            product_id: row.product_id,
            application_name: row.product_name,
            edition_id: row.edition_id,
            edition_name: row.edition_name,
            plan,
        })
    }
}

/// Who buys: the reseller company, its user who orders, and the company's partner (billed and
/// earning; none for a company that is no partner).
pub(crate) struct Buyer {
    pub(crate) company_id: String,
    pub(crate) user_id: String,
    pub(crate) partner_id: Option<String>,
    /// The partner's commission rate when already known (a quote's items share one lookup);
    /// `None`: looked up when an invoice is made.
    pub(crate) rate: Option<Rate>,
}

impl Buyer {
    fn caller(p: &Principal) -> Self {
        Buyer {
            company_id: p.company_id.clone(),
            user_id: p.user_id.clone(),
            partner_id: p.partner.as_ref().map(|x| x.id.clone()),
            rate: None,
        }
    }
}

/// A purchase ready to be written ([`Subscriptions::prepare`]).
pub(crate) struct Prepared {
    pub(crate) entry: SubscriptionEntry,
    pub(crate) invoice: Option<NewInvoice>,
    pub(crate) events: Vec<NewEvent>,
}

impl Subscriptions<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        self.services.store.as_ref()
    }

    fn now(&self) -> DateTime<Utc> {
        self.services.clock.now()
    }

    /// The payment plan `plan_id` of the marketplace's catalog, or 400 naming `paymentPlanId`.
    async fn plan(&self, marketplace_id: &str, plan_id: &str) -> Result<CatalogPlan, ServiceError> {
        let unknown = || invalid("paymentPlanId", "is not a payment plan of the catalog");
        if plan_id.is_empty() || plan_id.len() > 100 {
            return Err(unknown());
        }
        let row = self.store().catalog_plan(marketplace_id, plan_id).await?.ok_or_else(unknown)?;
        CatalogPlan::of(row)
    }

    /// The customer company and its user a reseller buys for: the company must be associated
    /// with the caller's company and the user a member of it (400 naming the field otherwise).
    async fn target(
        &self,
        p: &Principal,
        company_id: &str,
        user_id: &str,
    ) -> Result<(CompanyRecord, UserRecord), ServiceError> {
        let m = &p.marketplace_id;
        let company = self.store().get_company(m, company_id).await?;
        let linked = match &company {
            Some(c) => self.store().is_linked(m, &p.company_id, &c.id).await?,
            None => false,
        };
        let Some(company) = company.filter(|_| linked) else {
            return Err(invalid("targetCompanyId", "is not a company associated with your reseller company"));
        };
        let user = self
            .user_of(m, &company.id, user_id)
            .await?
            .ok_or_else(|| invalid("targetUserId", "is not a user of the target company"))?;
        Ok((company, user))
    }

    /// The user `user_id` when it is a member of `company_id`.
    pub(crate) async fn user_of(
        &self,
        m: &str,
        company_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, ServiceError> {
        let member = self
            .store()
            .user_memberships(m, &[user_id.to_owned()])
            .await?
            .iter()
            .any(|ms| ms.company_id == company_id && ms.enabled);
        if !member {
            return Ok(None);
        }
        Ok(self.store().get_user(m, user_id).await?)
    }

    /// The caller's subscription `id` (another company's is "not found").
    async fn own(&self, p: &Principal, id: &str) -> Result<SubscriptionEntry, ServiceError> {
        let entry = self.store().get_subscription(&p.marketplace_id, id).await?;
        entry
            .filter(|e| e.subscription.reseller_company_id == p.company_id)
            .ok_or_else(|| ServiceError::not_found("subscription"))
    }

    /// The invoice of `lines` for the reseller's partner, when there is one and money moves, at
    /// the `known` commission rate or the partner's as stored.
    async fn invoice(
        &self,
        s: &SubscriptionRecord,
        reason: &str,
        period: Period,
        lines: Vec<LineItem>,
        known: Option<Rate>,
    ) -> Result<Option<(NewInvoice, Vec<NewEvent>)>, ServiceError> {
        let Some(partner_id) = &s.partner_id else { return Ok(None) };
        if lines.is_empty() || lines.iter().all(|l| l.amount == 0) {
            return Ok(None);
        }
        let billing = self.services.billing();
        let rate = match known {
            Some(r) => r,
            None => billing.rate_for(&s.marketplace_id, partner_id).await?,
        };
        let payer =
            Payer { marketplace_id: &s.marketplace_id, partner_id, customer_id: &s.company_id, currency: &s.currency };
        Ok(Some(billing.invoice_for(payer, reason, period, lines, rate, self.now())))
    }

    fn event<P: EventPayload>(&self, p: &Principal, s: &SubscriptionRecord, payload: &P) -> NewEvent {
        NewEvent::of(payload).partner(s.partner_id.clone()).actor(Some(p.user_id.clone()))
    }

    /// `POST /subscriptions` (ROLE_RESELLER).
    pub async fn create(&self, p: &Principal, input: NewSubscription) -> Result<SubscriptionEntry, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        let m = &p.marketplace_id;
        let (company, user) = self.target(p, &input.target_company_id, &input.target_user_id).await?;
        let found = self.plan(m, &input.payment_plan_id).await?;
        if let Some(parent) = &input.parent_subscription_id {
            let ok = match self.own(p, parent).await {
                Ok(e) => e.subscription.company_id == company.id && e.subscription.status == SubscriptionStatus::Active,
                Err(e) if e.kind == crate::ErrorKind::NotFound => false,
                Err(e) => return Err(e),
            };
            if !ok {
                return Err(invalid(
                    "parentSubscriptionId",
                    "is not an active subscription of yours for the target company",
                ));
            }
        }
        let currency = rules::order_currency(&found.plan, None).map_err(|e| invalid("paymentPlanId", e))?;
        let priced = rules::price_order(&found.plan, &input.order_lines, &currency)?;
        let buyer = Buyer::caller(p);
        let Prepared { entry, invoice, events } =
            self.prepare(p, &buyer, &company, &user, &found, priced, input.parent_subscription_id.clone()).await?;
        let (s, order) = (entry.subscription, entry.order);
        self.store().create_subscription(s.clone(), order.clone(), invoice, events).await.map_err(|e| match e {
            StoreError::Conflict(msg) if msg == SUBSCRIPTION_EXISTS => {
                ServiceError::conflict("subscription", codes::ALREADY_SUBSCRIBED)
            }
            other => other.into(),
        })?;
        Ok(SubscriptionEntry { subscription: s, order })
    }

    /// A purchase of `found` for `user` of `company` by `buyer`, priced: the subscription, its
    /// first order, the order's invoice and commission, and the events, ready for one
    /// transaction. What `POST /subscriptions` and finalizing a quote both write.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn prepare(
        &self,
        p: &Principal,
        buyer: &Buyer,
        company: &CompanyRecord,
        user: &UserRecord,
        found: &CatalogPlan,
        priced: PricedOrder,
        parent: Option<String>,
    ) -> Result<Prepared, ServiceError> {
        let m = &p.marketplace_id;
        let currency = priced.currency.clone();
        let now = self.now();
        let period = rules::billing_period(found.plan.frequency, now);
        let (id, order_id) = (new_id("sub"), new_id("order"));
        let search = [
            &id,
            &order_id,
            &found.application_name,
            &found.edition_name,
            &company.name,
            &company.id,
            &name(&user.first_name),
            &name(&user.last_name),
            &user.id,
        ]
        .map(|s| s.to_lowercase())
        .join(" ");
        let order_lines = partnerd_domain::events::to_stored(&priced.lines);
        let s = SubscriptionRecord {
            id: id.clone(),
            marketplace_id: m.clone(),
            reseller_company_id: buyer.company_id.clone(),
            reseller_user_id: buyer.user_id.clone(),
            partner_id: buyer.partner_id.clone(),
            company_id: company.id.clone(),
            company_name: company.name.clone(),
            user_id: user.id.clone(),
            user_first_name: name(&user.first_name),
            user_last_name: name(&user.last_name),
            product_id: found.product_id.clone(),
            application_name: found.application_name.clone(),
            edition_id: found.edition_id.clone(),
            edition_name: found.edition_name.clone(),
            payment_plan_id: found.plan.id.clone(),
            frequency: found.plan.frequency,
            parent_subscription_id: parent,
            status: SubscriptionStatus::Active,
            active_order_id: order_id.clone(),
            order_lines: order_lines.clone(),
            seats: priced.seats(),
            currency: currency.clone(),
            total_cents: priced.total_cents,
            period_start: period.map(|x| x.start),
            period_end: period.map(|x| x.end),
            search_text: search.clone(),
            created_at: now,
            updated_at: now,
            cancelled_at: None,
            version: 1,
        };
        let title = format!("{} {}", s.application_name, s.edition_name);
        let billed = period.unwrap_or(Period { start: now, end: now });
        let lines = purchase_lines(&title, &priced, billed);
        let invoice = self.invoice(&s, reasons::CREATE, billed, lines, buyer.rate).await?;
        let order = self.order_of(&s, &order_id, &priced, invoice.as_ref().map(|(i, _)| i.invoice.id.clone()), now);
        let mut events = vec![
            self.event(
                p,
                &s,
                &SubscriptionCreated {
                    subscription_id: id.clone(),
                    company_id: s.company_id.clone(),
                    user_id: s.user_id.clone(),
                    product_id: s.product_id.clone(),
                    edition_id: s.edition_id.clone(),
                    payment_plan_id: s.payment_plan_id.clone(),
                    order_id: order_id.clone(),
                    order_lines: priced.lines.clone(),
                    total: Amount::from_cents(priced.total_cents),
                    currency: currency.clone(),
                },
            ),
            self.order_event(p, &s, &order),
        ];
        let invoice = invoice.map(|(i, e)| {
            events.extend(e.into_iter().map(|x| x.actor(Some(p.user_id.clone()))));
            i
        });
        Ok(Prepared { entry: SubscriptionEntry { subscription: s, order }, invoice, events })
    }

    fn order_of(
        &self,
        s: &SubscriptionRecord,
        id: &str,
        priced: &PricedOrder,
        invoice_id: Option<String>,
        now: DateTime<Utc>,
    ) -> OrderRecord {
        OrderRecord {
            id: id.to_owned(),
            marketplace_id: s.marketplace_id.clone(),
            subscription_id: s.id.clone(),
            reseller_company_id: s.reseller_company_id.clone(),
            reseller_user_id: s.reseller_user_id.clone(),
            company_id: s.company_id.clone(),
            company_name: s.company_name.clone(),
            user_id: s.user_id.clone(),
            application_name: s.application_name.clone(),
            edition_name: s.edition_name.clone(),
            frequency: s.frequency,
            payment_plan_id: s.payment_plan_id.clone(),
            order_lines: partnerd_domain::events::to_stored(&priced.lines),
            priced_lines: partnerd_domain::events::to_stored(&priced.priced),
            status: rules::new_order_status(s.frequency),
            currency: priced.currency.clone(),
            total_cents: priced.total_cents,
            invoice_id,
            search_text: format!("{} {}", id.to_lowercase(), s.search_text),
            created_at: now,
            updated_at: now,
        }
    }

    fn order_event(&self, p: &Principal, s: &SubscriptionRecord, o: &OrderRecord) -> NewEvent {
        self.event(
            p,
            s,
            &OrderCreated {
                order_id: o.id.clone(),
                subscription_id: s.id.clone(),
                company_id: s.company_id.clone(),
                status: o.status,
                total: Amount::from_cents(o.total_cents),
                currency: o.currency.clone(),
                invoice_id: o.invoice_id.clone(),
            },
        )
    }

    /// `GET /subscriptions/{id}` (ROLE_RESELLER): the caller's own.
    pub async fn get(&self, p: &Principal, id: &str) -> Result<SubscriptionEntry, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        self.own(p, id).await
    }

    /// `PUT /subscriptions/{id}` (ROLE_RESELLER): a new active order at the new quantity or plan
    /// (another plan of the same product), prorated onto one invoice. Nothing changes (and no
    /// order is made) when both are what the active order has.
    pub async fn update(
        &self,
        p: &Principal,
        id: &str,
        input: SubscriptionUpdate,
    ) -> Result<SubscriptionEntry, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        for _ in 0..CHANGE_ATTEMPTS {
            let current = self.own(p, id).await?;
            match self.try_update(p, current, &input).await {
                Err(StoreError::Conflict(msg)) if msg.contains("changed since it was read") => continue,
                Err(StoreError::Conflict(msg)) if msg == SEATS_IN_USE => {
                    return Err(ServiceError::conflict("subscription", codes::SEATS_IN_USE));
                }
                Err(StoreError::Conflict(msg)) if msg.is_empty() || msg == SUBSCRIPTION_EXISTS => {
                    return Err(ServiceError::conflict("subscription", codes::ALREADY_SUBSCRIBED));
                }
                Err(e) => return Err(e.into()),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(entry)) => return Ok(entry),
            }
        }
        Err(ServiceError::conflict("subscription", codes::CONCURRENT_CHANGE))
    }

    /// One attempt: a store conflict is the caller's to retry; anything else is final.
    async fn try_update(
        &self,
        p: &Principal,
        current: SubscriptionEntry,
        input: &SubscriptionUpdate,
    ) -> Result<Result<SubscriptionEntry, ServiceError>, StoreError> {
        let unchanged = current.clone();
        let step = async {
            let SubscriptionEntry { subscription: old, order: old_order } = current;
            let status = rules::transition(old.status, SubscriptionAction::Change)
                .map_err(|m| ServiceError::conflict("subscription", codes::NOT_CHANGEABLE).with_detail(m))?;
            let found = self.plan(&p.marketplace_id, &input.payment_plan_id).await?;
            if found.product_id != old.product_id {
                return Err(invalid("paymentPlanId", "is not a payment plan of the subscription's product"));
            }
            let currency = if found.plan.costs.iter().all(|c| c.item_prices.contains_key(&old.currency)) {
                old.currency.clone()
            } else {
                return Err(invalid(
                    "paymentPlanId",
                    format!("is not priced in the subscription's currency {}", old.currency),
                ));
            };
            let priced = rules::price_order(&found.plan, &input.order_lines, &currency)?;
            let old_lines = stored_lines(&old.order_lines, &old.id)?;
            if found.plan.id == old.payment_plan_id && priced.lines == old_lines {
                return Ok(None);
            }
            let now = self.now();
            // A new plan of another frequency starts a new period; the same one keeps it.
            let period = if found.plan.frequency == old.frequency {
                old.period_start.zip(old.period_end).map(|(start, end)| Period { start, end })
            } else {
                rules::billing_period(found.plan.frequency, now)
            };
            let order_id = new_id("order");
            let old_name = format!("{} {} ({})", old.application_name, old.edition_name, lines_text(&old_lines));
            let new_name = format!("{} {} ({})", old.application_name, found.edition_name, lines_text(&priced.lines));
            let lines = if found.plan.frequency == old.frequency {
                rules::change_lines(period, now, (&old_name, old.total_cents), (&new_name, priced.total_cents))
            } else {
                // A new period: the old one's unused time is credited, the new one bought whole.
                let mut l = old.period_start.zip(old.period_end).map_or_else(Vec::new, |(start, end)| {
                    rules::change_lines(Some(Period { start, end }), now, (&old_name, old.total_cents), (&new_name, 0))
                });
                let fresh = period.unwrap_or(Period { start: now, end: now });
                l.extend(purchase_lines(&new_name, &priced, fresh));
                l
            };
            let next = SubscriptionRecord {
                edition_id: found.edition_id.clone(),
                edition_name: found.edition_name.clone(),
                payment_plan_id: found.plan.id.clone(),
                frequency: found.plan.frequency,
                status,
                active_order_id: order_id.clone(),
                order_lines: partnerd_domain::events::to_stored(&priced.lines),
                seats: priced.seats(),
                total_cents: priced.total_cents,
                period_start: period.map(|x| x.start),
                period_end: period.map(|x| x.end),
                updated_at: now,
                version: old.version + 1,
                ..old.clone()
            };
            let billed = period.unwrap_or(Period { start: now, end: now });
            let invoice = self.invoice(&next, reasons::UPDATE, billed, lines, None).await?;
            let order =
                self.order_of(&next, &order_id, &priced, invoice.as_ref().map(|(i, _)| i.invoice.id.clone()), now);
            let mut events = vec![
                self.event(
                    p,
                    &next,
                    &SubscriptionChanged {
                        subscription_id: old.id.clone(),
                        previous_order_id: old.active_order_id.clone(),
                        order_id: order_id.clone(),
                        payment_plan_id: Change { old: old.payment_plan_id.clone(), new: next.payment_plan_id.clone() },
                        order_lines: Change { old: old_lines, new: priced.lines.clone() },
                        total: Change {
                            old: Amount::from_cents(old.total_cents),
                            new: Amount::from_cents(priced.total_cents),
                        },
                        currency: currency.clone(),
                    },
                ),
                self.order_event(p, &next, &order),
            ];
            let invoice = invoice.map(|(i, e)| {
                events.extend(e.into_iter().map(|x| x.actor(Some(p.user_id.clone()))));
                i
            });
            let change = SubscriptionChange {
                subscription: next.clone(),
                expected_version: old.version,
                closed_order_id: old_order.id.clone(),
                closed_order_status: rules::closed_order_status(old_order.status, false),
                new_order: Some(order.clone()),
                invoice,
            };
            Ok(Some((change, events, SubscriptionEntry { subscription: next, order })))
        };
        let planned: Result<Option<_>, ServiceError> = step.await;
        let (change, events, entry) = match planned {
            Ok(Some(x)) => x,
            // Nothing to change: the subscription as it is.
            Ok(None) => return Ok(Ok(unchanged)),
            Err(e) => return Ok(Err(e)),
        };
        self.store().change_subscription(change, events).await?;
        Ok(Ok(entry))
    }

    /// `DELETE /subscriptions/{id}` (ROLE_RESELLER): cancels it (its active order `CANCELLED`,
    /// its seats unassigned). Cancelling a cancelled subscription changes nothing.
    pub async fn cancel(&self, p: &Principal, id: &str) -> Result<(), ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        for _ in 0..CHANGE_ATTEMPTS {
            let SubscriptionEntry { subscription: old, order } = self.own(p, id).await?;
            if old.status == SubscriptionStatus::Cancelled {
                return Ok(());
            }
            let status = rules::transition(old.status, SubscriptionAction::Cancel)
                .map_err(|m| ServiceError::conflict("subscription", codes::NOT_CHANGEABLE).with_detail(m))?;
            let now = self.now();
            let next = SubscriptionRecord {
                status,
                cancelled_at: Some(now),
                updated_at: now,
                version: old.version + 1,
                ..old.clone()
            };
            let events = vec![self.event(
                p,
                &next,
                &SubscriptionCancelled {
                    subscription_id: old.id.clone(),
                    company_id: old.company_id.clone(),
                    order_id: order.id.clone(),
                },
            )];
            let change = SubscriptionChange {
                subscription: next,
                expected_version: old.version,
                closed_order_id: order.id.clone(),
                closed_order_status: rules::closed_order_status(order.status, true),
                new_order: None,
                invoice: None,
            };
            match self.store().change_subscription(change, events).await {
                Err(StoreError::Conflict(msg)) if msg.contains("changed since it was read") => continue,
                other => return Ok(other?),
            }
        }
        Err(ServiceError::conflict("subscription", codes::CONCURRENT_CHANGE))
    }

    /// Renews every active recurring subscription whose period is over: the next period begins
    /// where the last ended and the active order is invoiced for it (with its commission), one
    /// versioned write each, so each period is invoiced once across processes. A subscription
    /// overdue by several periods is renewed once per pass until it is current. How many
    /// periods were renewed.
    pub async fn run_renewals(&self) -> Result<usize, ServiceError> {
        let mut renewed = 0;
        // Bounded: a pass that renews nothing (all lost to other processes) ends the run.
        for _ in 0..1000 {
            let now = self.now();
            let due = self.store().subscriptions_due(now, RENEWAL_BATCH).await?;
            if due.is_empty() {
                break;
            }
            let mut progressed = false;
            for entry in due {
                if self.renew(entry).await? {
                    renewed += 1;
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(renewed)
    }

    async fn renew(&self, entry: SubscriptionEntry) -> Result<bool, ServiceError> {
        let SubscriptionEntry { subscription: old, order } = entry;
        let Some(end) = old.period_end else { return Ok(false) };
        let Some(period) = rules::billing_period(old.frequency, end) else { return Ok(false) };
        let priced = PricedOrder {
            currency: order.currency.clone(),
            lines: stored_lines(&order.order_lines, &order.id)?,
            priced: serde_json::from_value(order.priced_lines.clone())
                .map_err(|e| ServiceError::unavailable(format!("stored priced lines of {}: {e}", order.id)))?,
            total_cents: order.total_cents,
        };
        let title = format!("{} {}", old.application_name, old.edition_name);
        let invoice = self.invoice(&old, reasons::CYCLE, period, purchase_lines(&title, &priced, period), None).await?;
        let now = self.now();
        let next = SubscriptionRecord {
            period_start: Some(period.start),
            period_end: Some(period.end),
            updated_at: now,
            version: old.version + 1,
            ..old.clone()
        };
        let mut events = vec![
            NewEvent::of(&SubscriptionRenewed {
                subscription_id: old.id.clone(),
                company_id: old.company_id.clone(),
                order_id: order.id.clone(),
                period_start: period.start,
                period_end: period.end,
                invoice_id: invoice.as_ref().map(|(i, _)| i.invoice.id.clone()),
                total: Amount::from_cents(order.total_cents),
                currency: order.currency.clone(),
            })
            .partner(old.partner_id.clone()),
        ];
        let invoice = invoice.map(|(i, e)| {
            events.extend(e);
            i
        });
        let change = SubscriptionChange {
            subscription: next,
            expected_version: old.version,
            // The order stays the active one: renewing bills it again, it does not replace it.
            closed_order_id: order.id.clone(),
            closed_order_status: order.status,
            new_order: None,
            invoice,
        };
        match self.store().change_subscription(change, events).await {
            Ok(()) => Ok(true),
            // Another process renewed it (or a request changed it) first.
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whose purchases a list shows, by the documented context rules: a reseller its own for
    /// the customer company it names (which must be associated with it: 403), a reseller
    /// manager those of the reseller company it names (which must be a reseller: 403).
    async fn purchases(&self, p: &Principal, q: &PurchaseQuery) -> Result<PurchaseFilter, ServiceError> {
        policy::holds(p, q.context)?;
        let m = &p.marketplace_id;
        match q.context {
            Context::Reseller => {
                let customer = q.customer_company_id.clone().unwrap_or_default();
                if !self.store().is_linked(m, &p.company_id, &customer).await? {
                    return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
                }
                Ok(PurchaseFilter {
                    reseller_company_id: p.company_id.clone(),
                    company_id: Some(customer),
                    user_id: q.user_id.clone(),
                    ..Default::default()
                })
            }
            Context::ResellerManager => {
                let reseller = q.reseller_company_id.clone().unwrap_or_default();
                let company = self.store().get_company(m, &reseller).await?;
                if !company.is_some_and(|c| c.is_reseller) {
                    return Err(ServiceError::forbidden("company", codes::COMPANY_NOT_MANAGED));
                }
                Ok(PurchaseFilter {
                    reseller_company_id: reseller,
                    company_id: q.customer_company_id.clone(),
                    reseller_user_id: q.user_id.clone(),
                    ..Default::default()
                })
            }
            _ => Err(ServiceError::forbidden("context", codes::CONTEXT_NOT_HELD)),
        }
    }

    /// `GET /subscriptions`. `filter.common` carries the filters; who sees what comes from `q`.
    pub async fn list(
        &self,
        p: &Principal,
        q: &PurchaseQuery,
        mut filter: SubscriptionFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<SubscriptionEntry>, ServiceError> {
        let whose = self.purchases(p, q).await?;
        filter.common = scoped(filter.common, whose);
        Ok(self.store().list_subscriptions(&p.marketplace_id, &filter, window, limit).await?)
    }

    /// `GET /orders`.
    pub async fn orders(
        &self,
        p: &Principal,
        q: &PurchaseQuery,
        mut filter: OrderFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<OrderRecord>, ServiceError> {
        let whose = self.purchases(p, q).await?;
        filter.common = scoped(filter.common, whose);
        Ok(self.store().list_orders(&p.marketplace_id, &filter, window, limit).await?)
    }

    /// `POST /subscriptionAssignments` (ROLE_RESELLER): a seat of the caller's subscription for
    /// a user of the subscription's company (400 naming `userId` otherwise); 409 when every
    /// seat is taken, the user holds one, or the subscription is not active.
    pub async fn assign(
        &self,
        p: &Principal,
        subscription_id: &str,
        user_id: &str,
    ) -> Result<SeatRecord, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        let s = self.own(p, subscription_id).await?.subscription;
        let user = self
            .user_of(&p.marketplace_id, &s.company_id, user_id)
            .await?
            .ok_or_else(|| invalid("userId", "is not a user of the subscription's company"))?;
        let now = self.now();
        let seat = SeatRecord {
            id: new_id("seat"),
            marketplace_id: p.marketplace_id.clone(),
            subscription_id: s.id.clone(),
            reseller_company_id: s.reseller_company_id.clone(),
            user_id: user.id.clone(),
            user_first_name: name(&user.first_name),
            user_last_name: name(&user.last_name),
            status: SeatStatus::Active,
            created_at: now,
            cancelled_at: None,
        };
        let event = self.event(
            p,
            &s,
            &SeatAssigned { assignment_id: seat.id.clone(), subscription_id: s.id.clone(), user_id: user.id.clone() },
        );
        self.store().assign_seat(seat.clone(), vec![event]).await.map_err(|e| match e {
            StoreError::Conflict(msg) if msg == NO_SEAT_AVAILABLE => {
                ServiceError::conflict("subscription_assignment", codes::NO_SEAT_AVAILABLE)
            }
            StoreError::Conflict(msg) if msg == SEAT_TAKEN => {
                ServiceError::conflict("subscription_assignment", codes::ALREADY_ASSIGNED)
            }
            StoreError::Conflict(msg) if msg == SUBSCRIPTION_NOT_ACTIVE => {
                ServiceError::conflict("subscription", codes::NOT_CHANGEABLE)
            }
            other => other.into(),
        })?;
        Ok(seat)
    }

    /// `DELETE /subscriptionAssignments/{id}` (ROLE_RESELLER): ends the seat. As documented, an
    /// id that is not found (or not the caller's, or ended already) is accepted too and changes
    /// nothing.
    pub async fn unassign(&self, p: &Principal, id: &str) -> Result<(), ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        let m = &p.marketplace_id;
        let Some(seat) = self.store().get_seat(m, id).await?.filter(|s| s.reseller_company_id == p.company_id) else {
            return Ok(());
        };
        if seat.status != SeatStatus::Active {
            return Ok(());
        }
        let partner = p.partner.as_ref().map(|x| x.id.clone());
        let event = NewEvent::of(&SeatUnassigned {
            assignment_id: seat.id.clone(),
            subscription_id: seat.subscription_id.clone(),
            user_id: seat.user_id.clone(),
        })
        .partner(partner)
        .actor(Some(p.user_id.clone()));
        self.store().unassign_seat(m, id, self.now(), vec![event]).await?;
        Ok(())
    }

    /// `GET /subscriptionAssignments` (ROLE_RESELLER): the seats of the caller's subscription.
    pub async fn seats(
        &self,
        p: &Principal,
        filter: SeatFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<SeatRecord>, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        self.own(p, &filter.subscription_id).await?;
        Ok(self.store().list_seats(&p.marketplace_id, &filter, window, limit).await?)
    }

    /// Every subscription the caller's reseller company bought, across its customers (the
    /// dashboard's list; `filter.common.company_id` narrows it to one customer), ROLE_RESELLER.
    /// `filter.common.reseller_company_id` is replaced by the caller's company.
    pub async fn list_own(
        &self,
        p: &Principal,
        mut filter: SubscriptionFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<SubscriptionEntry>, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        filter.common.reseller_company_id = p.company_id.clone();
        Ok(self.store().list_subscriptions(&p.marketplace_id, &filter, window, limit).await?)
    }

    /// Every order of the caller's subscription `id` (its purchase, changes and
    /// cancellation), newest first, at most `limit`; another company's is "not found".
    pub async fn orders_of(&self, p: &Principal, id: &str, limit: u32) -> Result<Vec<OrderRecord>, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        let s = self.own(p, id).await?.subscription;
        let filter = OrderFilter {
            common: PurchaseFilter {
                reseller_company_id: p.company_id.clone(),
                company_id: Some(s.company_id.clone()),
                search: Some(s.id.to_lowercase()),
                ..Default::default()
            },
            ..Default::default()
        };
        let rows = self.store().list_orders(&p.marketplace_id, &filter, &Window::Offset(0), limit).await?.items;
        Ok(rows.into_iter().filter(|o| o.subscription_id == s.id).collect())
    }

    /// The events of the caller's subscription `id`, oldest first (created, changed, renewed,
    /// cancelled); another company's is "not found".
    pub async fn history(&self, p: &Principal, id: &str) -> Result<Vec<partnerd_store::EventRecord>, ServiceError> {
        policy::require_scope(p, &[Role::Reseller])?;
        let s = self.own(p, id).await?.subscription;
        Ok(self.store().events_for_subject(&p.marketplace_id, &s.id).await?)
    }

    /// The counts the company's `stats` show: `(free trials, expired trials, purchased,
    /// suspended)`.
    pub(crate) async fn company_counts(&self, m: &str, company_id: &str) -> Result<[u64; 4], ServiceError> {
        let mut out = [0; 4];
        for (status, n) in self.store().company_subscription_counts(m, company_id).await? {
            let slot = match status {
                SubscriptionStatus::FreeTrial => 0,
                SubscriptionStatus::FreeTrialExpired => 1,
                SubscriptionStatus::Active => 2,
                SubscriptionStatus::Suspended => 3,
                _ => continue,
            };
            out[slot] += n;
        }
        Ok(out)
    }
}
