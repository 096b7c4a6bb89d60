//! Billing in advance for customer accounts: the price list and commission settings, issuing
//! invoices (first, renewal, plan change), the renewal scheduler, invoice status moves and the
//! commission report.
//!
//! Decisions (Stripe Billing's semantics, written into the OpenAPI too):
//! - An invoice is issued `open` with its number (`prefix` + 6 digits, sequential per
//!   marketplace, taken from a counter row in the issuing transaction: no gaps on rollback or
//!   across processes) and is due `due_days` after issue (Stripe's `send_invoice`).
//! - Every invoice earns the partner a commission on its total at the partner's rate: the
//!   operator's per-partner override, else the default of the partner's plan. Voiding the
//!   invoice reverses it; `uncollectible` keeps it (it may still be paid).
//! - A credit balance (from a downgrade) is applied to the next invoices, never below zero.

use crate::error::codes;
use crate::{ServiceError, Services};
use chrono::{DateTime, Duration, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::billing::{LineItem, Period, PriceList, Rate, credit_applied, subtotal};
use partnerd_domain::events::{
    CommissionEarned, InvoiceGenerated, InvoiceMarkedUncollectible, InvoicePaid, InvoiceVoided, NewEvent,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::invoice::InvoiceStatus;
use partnerd_domain::money::Amount;
use partnerd_store::{
    CommissionFilter, CommissionRecord, CustomerAccountRecord, InvoiceFilter, InvoiceRecord, NewInvoice, StoreError,
};
use partnerd_store::{Paged, Window};
use std::collections::BTreeMap;

/// The price list customers buy from and what partners earn on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingSettings {
    pub prices: PriceList,
    /// Default commission rate per partner plan; a plan not listed earns 0.
    pub commission_rates: BTreeMap<String, Rate>,
    pub invoice_prefix: String,
    /// Days from issue to due date.
    pub due_days: u32,
}

impl Default for BillingSettings {
    /// The default price list; starter 10 %, business 15 %, enterprise 20 %; `INV-`; 30 days.
    fn default() -> Self {
        let bps = Rate::clamped;
        BillingSettings {
            prices: PriceList::default(),
            commission_rates: BTreeMap::from([
                ("starter".to_owned(), bps(1000)),
                ("business".to_owned(), bps(1500)),
                ("enterprise".to_owned(), bps(2000)),
            ]),
            invoice_prefix: "INV-".into(),
            due_days: 30,
        }
    }
}

/// How many accounts one scheduler pass renews at most (it loops until none is due).
const RENEWAL_BATCH: u32 = 100;

/// Applies the account's credit (negative balance) to `lines`, never taking the total below
/// zero; returns the new balance.
pub fn apply_balance(lines: &mut Vec<LineItem>, balance: i64, at: DateTime<Utc>, period: Period) -> i64 {
    let due = subtotal(lines);
    if balance >= 0 || due <= 0 {
        return balance;
    }
    let applied = balance.max(-due);
    lines.push(LineItem::new("Credit balance applied".into(), applied, at, period.end, false));
    balance - applied
}

/// The strict day ranges of every reseller route (`domain::dates`).
pub use partnerd_domain::dates::DateRange;

/// The event a move of `invoice` to `to` appends, and the credit (cents) it returns to the
/// customer's balance: the credit the invoice applied, when it is voided.
fn status_event(invoice: &InvoiceRecord, to: InvoiceStatus) -> Result<(NewEvent, i64), ServiceError> {
    let lines: Vec<LineItem> = serde_json::from_value(invoice.line_items.clone())
        .map_err(|e| ServiceError::unavailable(format!("stored line items of {}: {e}", invoice.id)))?;
    let (id, number, customer_id) = (invoice.id.clone(), invoice.number.clone(), invoice.customer_id.clone());
    let (total, currency) = (Amount::from_cents(invoice.total_cents), invoice.currency.clone());
    let previous_status = invoice.status.as_str().to_owned();
    Ok(match to {
        InvoiceStatus::Paid => {
            (NewEvent::of(&InvoicePaid { invoice_id: id, number, customer_id, total, currency, previous_status }), 0)
        }
        InvoiceStatus::Void => {
            let credit = credit_applied(&lines);
            let event = InvoiceVoided {
                invoice_id: id,
                number,
                customer_id,
                total,
                currency,
                previous_status,
                commission_reversed: Amount::from_cents(invoice.commission_cents),
                credit_returned: Amount::from_cents(credit),
            };
            (NewEvent::of(&event), credit)
        }
        InvoiceStatus::Uncollectible => {
            (NewEvent::of(&InvoiceMarkedUncollectible { invoice_id: id, number, customer_id, total, currency }), 0)
        }
        InvoiceStatus::Open => {
            return Err(ServiceError::invalid(ValidationErrors::single("status", "an invoice cannot be reopened")));
        }
    })
}

/// The commission report's sums, in the price list's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionTotals {
    pub count: u64,
    /// Of commissions still earned.
    pub base_cents: i64,
    pub earned_cents: i64,
    pub reversed_cents: i64,
}

pub fn totals(rows: &[CommissionRecord]) -> CommissionTotals {
    let earned: Vec<&CommissionRecord> = rows.iter().filter(|r| r.status == "earned").collect();
    CommissionTotals {
        count: rows.len() as u64,
        base_cents: earned.iter().map(|r| r.base_cents).sum(),
        earned_cents: earned.iter().map(|r| r.amount_cents).sum(),
        reversed_cents: rows.iter().filter(|r| r.status == "reversed").map(|r| r.amount_cents).sum(),
    }
}

/// Who an invoice bills, for whom, in what currency.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payer<'a> {
    pub marketplace_id: &'a str,
    /// The partner that earns the commission.
    pub partner_id: &'a str,
    /// The customer company.
    pub customer_id: &'a str,
    pub currency: &'a str,
}

pub struct Billing<'a> {
    pub(crate) services: &'a Services,
}

impl Billing<'_> {
    pub fn settings(&self) -> &BillingSettings {
        &self.services.billing
    }

    /// The partner's commission rate: its override, else its plan's default.
    pub(crate) async fn rate_for(&self, marketplace_id: &str, partner_id: &str) -> Result<Rate, ServiceError> {
        if let Some(bps) = self.services.store.commission_rate(partner_id).await? {
            return Rate::from_bps(bps).map_err(|e| ServiceError::unavailable(format!("stored rate {bps}: {e}")));
        }
        let partner = self
            .services
            .store
            .get_partner(marketplace_id, partner_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("partner"))?;
        Ok(self.settings().commission_rates.get(&partner.plan).copied().unwrap_or(Rate::ZERO))
    }

    /// An invoice for `account` with `lines` and its commission, and their two events.
    pub(crate) fn invoice(
        &self,
        account: &CustomerAccountRecord,
        reason: &str,
        period: Period,
        lines: Vec<LineItem>,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> (NewInvoice, Vec<NewEvent>) {
        let payer = Payer {
            marketplace_id: &account.marketplace_id,
            partner_id: &account.partner_id,
            customer_id: &account.customer_id,
            currency: &account.currency,
        };
        self.invoice_for(payer, reason, period, lines, rate, now)
    }

    /// An invoice of `payer` with `lines` and its commission, and their two events: the one
    /// way every purchase (a customer account's period, an AppReseller order) is billed.
    pub(crate) fn invoice_for(
        &self,
        payer: Payer<'_>,
        reason: &str,
        period: Period,
        lines: Vec<LineItem>,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> (NewInvoice, Vec<NewEvent>) {
        let total = subtotal(&lines);
        let base = total.max(0);
        let commission_cents = rate.of(base);
        let invoice = InvoiceRecord {
            id: new_id("inv"),
            marketplace_id: payer.marketplace_id.to_owned(),
            partner_id: payer.partner_id.to_owned(),
            customer_id: payer.customer_id.to_owned(),
            number: String::new(),
            billing_reason: reason.to_owned(),
            period_start: period.start,
            period_end: period.end,
            issued_at: now,
            due_at: now + Duration::days(i64::from(self.settings().due_days)),
            currency: payer.currency.to_owned(),
            line_items: partnerd_domain::events::to_stored(&lines),
            subtotal_cents: total,
            total_cents: total,
            status: InvoiceStatus::Open,
            commission_rate_bps: rate.bps(),
            commission_base_cents: base,
            commission_cents,
            status_changed_at: None,
        };
        let commission = CommissionRecord {
            id: new_id("comm"),
            marketplace_id: payer.marketplace_id.to_owned(),
            partner_id: payer.partner_id.to_owned(),
            customer_id: payer.customer_id.to_owned(),
            invoice_id: invoice.id.clone(),
            invoice_number: String::new(),
            base_cents: base,
            rate_bps: rate.bps(),
            amount_cents: commission_cents,
            currency: payer.currency.to_owned(),
            status: "earned".into(),
            earned_at: now,
            reversed_at: None,
        };
        let partner = Some(payer.partner_id.to_owned());
        let events = vec![
            NewEvent::of(&InvoiceGenerated {
                invoice_id: invoice.id.clone(),
                customer_id: payer.customer_id.to_owned(),
                total: Amount::from_cents(total),
                currency: payer.currency.to_owned(),
            })
            .partner(partner.clone()),
            NewEvent::of(&CommissionEarned {
                commission_id: commission.id.clone(),
                customer_id: payer.customer_id.to_owned(),
                amount: Amount::from_cents(commission_cents),
                currency: payer.currency.to_owned(),
            })
            .partner(partner),
        ];
        (NewInvoice { invoice, commission, number_prefix: self.settings().invoice_prefix.clone() }, events)
    }

    /// `GET /invoices/{id}`: the partner's invoice; another partner's is "not found".
    pub async fn get_invoice(&self, who: &crate::Principal, id: &str) -> Result<InvoiceRecord, ServiceError> {
        let me = crate::policy::acting(who, None)?;
        self.services
            .store
            .get_invoice(me.marketplace_id(), Some(me.partner_id), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("invoice"))
    }

    pub async fn list_invoices(
        &self,
        who: &crate::Principal,
        filter: &InvoiceFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<InvoiceRecord>, ServiceError> {
        let me = crate::policy::acting(who, None)?;
        Ok(self.services.store.list_invoices(me.marketplace_id(), me.partner_id, filter, window, limit).await?)
    }

    /// `GET /commissions`: the partner's commissions earned within the range, oldest first.
    pub async fn commissions(
        &self,
        who: &crate::Principal,
        range: DateRange,
        customer_id: Option<String>,
    ) -> Result<Vec<CommissionRecord>, ServiceError> {
        let me = crate::policy::acting(who, None)?;
        let filter = CommissionFilter {
            customer_id,
            earned_from: Some(range.start_time()),
            earned_before: Some(range.end_exclusive()),
        };
        Ok(self.services.store.list_commissions(me.marketplace_id(), me.partner_id, &filter).await?)
    }

    /// Operator: marks an invoice paid, void or uncollectible (Stripe's moves), appending
    /// `invoice.paid`, `invoice.voided` or `invoice.marked_uncollectible` for the partner's
    /// webhooks. Voiding reverses its commission and gives the credit balance it applied back
    /// to the customer's balance, in the same transaction. A refused move is `Invalid` on
    /// `status`.
    pub async fn mark_invoice(
        &self,
        marketplace_id: &str,
        id: &str,
        to: InvoiceStatus,
    ) -> Result<InvoiceRecord, ServiceError> {
        let store = &self.services.store;
        let invoice =
            store.get_invoice(marketplace_id, None, id).await?.ok_or_else(|| ServiceError::not_found("invoice"))?;
        invoice.status.check_move(to).map_err(|m| ServiceError::invalid(ValidationErrors::single("status", m)))?;
        let now = self.services.clock.now();
        let (event, credit_back) = status_event(&invoice, to)?;
        let events = vec![event.partner(Some(invoice.partner_id.clone()))];
        store.move_invoice(marketplace_id, id, invoice.status, to, now, credit_back, events).await.map_err(
            |e| match e {
                StoreError::Conflict(_) => ServiceError::conflict("invoice", codes::CONCURRENT_CHANGE),
                other => other.into(),
            },
        )
    }

    /// Operator: the partner's commission rate override (`None` returns it to its plan's).
    pub async fn set_commission_rate(
        &self,
        marketplace_id: &str,
        partner_id: &str,
        rate: Option<Rate>,
    ) -> Result<Rate, ServiceError> {
        let store = &self.services.store;
        store.get_partner(marketplace_id, partner_id).await?.ok_or_else(|| ServiceError::not_found("partner"))?;
        store.set_commission_rate(marketplace_id, partner_id, rate.map(Rate::bps), self.services.clock.now()).await?;
        self.rate_for(marketplace_id, partner_id).await
    }

    /// Issues the renewal invoice of every billed account whose period is over (one period per
    /// pass of the loop, so an account behind by several periods gets each of them). Safe to
    /// run often and from several processes: each renewal is a versioned write of the account,
    /// so one writer wins a period and the others skip it (and a unique index backs it).
    /// Returns how many invoices this call issued.
    pub async fn run_renewals(&self) -> Result<usize, ServiceError> {
        let mut issued = 0;
        // Bounded: a pass that renews nothing (all lost to other processes) ends the run.
        for _ in 0..1000 {
            let now = self.services.clock.now();
            let due = self.services.store.customers_due(now, RENEWAL_BATCH).await?;
            if due.is_empty() {
                break;
            }
            let mut progressed = false;
            for account in due {
                if self.renew(account, now).await? {
                    issued += 1;
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(issued)
    }

    async fn renew(&self, account: CustomerAccountRecord, now: DateTime<Utc>) -> Result<bool, ServiceError> {
        let Some(price) = self.settings().prices.price(&account.plan) else {
            tracing::warn!(customer = %account.customer_id, plan = %account.plan, "plan not in the price list; not renewed");
            return Ok(false);
        };
        let number = account.period_number.saturating_add(1);
        let period = partnerd_domain::billing::period(account.billing_anchor, account.billing_cycle, number);
        let mut lines = vec![LineItem::new(
            format!("{} plan ({})", account.plan, account.billing_cycle.as_str()),
            price.for_cycle(account.billing_cycle),
            period.start,
            period.end,
            false,
        )];
        let balance = apply_balance(&mut lines, account.balance_cents, now, period);
        let rate = self.rate_for(&account.marketplace_id, &account.partner_id).await?;
        let (invoice, events) =
            self.invoice(&account, partnerd_store::schema::billing::reasons::CYCLE, period, lines, rate, now);
        let expected = account.version;
        let next = CustomerAccountRecord {
            period_number: number,
            current_period_start: period.start,
            current_period_end: period.end,
            balance_cents: balance,
            version: expected + 1,
            updated_at: now,
            ..account
        };
        match self.services.store.update_customer(next, expected, Some(invoice), events).await {
            Ok(_) => Ok(true),
            // Another process renewed (or a request changed) it first: its turn, not ours.
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
