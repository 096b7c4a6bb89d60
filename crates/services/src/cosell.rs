//! Co-sell opportunities shared by two partners, and their timeline read from the event log.

use crate::error::codes;
use crate::listings::{partner_id, require_write};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::cosell::{OpportunityStatus, transition};
use partnerd_domain::events::{NewEvent, types};
use partnerd_domain::ids::new_id;
use partnerd_domain::{ValidationErrors, money};
use partnerd_store::{EventRecord, OpportunityFilter, OpportunityPage, OpportunityRecord, StoreError};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

pub struct Cosell<'a> {
    pub(crate) services: &'a Services,
}

/// A create request as received: values are checked here so every problem is reported at once.
#[derive(Debug, Default)]
pub struct NewOpportunity {
    pub customer_name: Option<String>,
    pub deal_value: Option<Value>,
    pub partner_id: Option<String>,
    pub description: Option<String>,
    pub expected_close_date: Option<String>,
    pub notes: Option<String>,
}

/// A partial update; `expected_close_date: Some(None)` clears the date.
#[derive(Debug, Default)]
pub struct OpportunityChange {
    pub status: Option<String>,
    pub deal_value: Option<Value>,
    pub notes: Option<String>,
    pub customer_name: Option<String>,
    pub description: Option<String>,
    pub expected_close_date: Option<Option<String>>,
}

/// One entry of an opportunity's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub kind: &'static str,
    pub timestamp: DateTime<Utc>,
    pub actor: Option<String>,
    pub from: Option<Value>,
    pub to: Option<Value>,
    pub field: Option<String>,
    pub note: Option<String>,
}

const WRITE_ATTEMPTS: usize = 5;

fn text(errors: &mut ValidationErrors, field: &str, v: &str, max: usize, required: bool) -> String {
    let t = v.trim();
    if required && t.is_empty() {
        errors.add(field, "is required");
    } else if t.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
    t.to_owned()
}

fn date(errors: &mut ValidationErrors, field: &str, v: &str) -> Option<NaiveDate> {
    errors.check(field, NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| "must be a date (YYYY-MM-DD)"))
}

fn event(event_type: &'static str, o: &OpportunityRecord, actor: &Principal, payload: Value) -> NewEvent {
    NewEvent {
        event_type,
        subject_type: "opportunity",
        subject_id: o.id.clone(),
        partner_id: Some(o.owner_partner_id.clone()),
        related_partner_id: Some(o.cosell_partner_id.clone()),
        actor_user_id: Some(actor.user_id.clone()),
        payload,
    }
}

impl Cosell<'_> {
    pub async fn create(&self, who: &Principal, input: NewOpportunity) -> Result<OpportunityRecord, ServiceError> {
        let owner = partner_id(who)?.to_owned();
        require_write(who)?;
        let mut e = ValidationErrors::new();
        let customer_name = text(&mut e, "customer_name", input.customer_name.as_deref().unwrap_or(""), 200, true);
        let deal_value = match &input.deal_value {
            None | Some(Value::Null) => {
                e.add("deal_value", "is required");
                None
            }
            Some(v) => e.check("deal_value", money::parse_positive(v)),
        };
        let description = text(&mut e, "description", input.description.as_deref().unwrap_or(""), 5_000, false);
        let notes = text(&mut e, "notes", input.notes.as_deref().unwrap_or(""), 5_000, false);
        let expected_close_date =
            input.expected_close_date.as_deref().and_then(|d| date(&mut e, "expected_close_date", d));
        let cosell = match input.partner_id.as_deref().map(str::trim) {
            None | Some("") => {
                e.add("partner_id", "is required");
                None
            }
            Some(p) if p == owner => {
                e.add("partner_id", "must be another partner, not yourself");
                None
            }
            Some(p) => match self.services.store.get_partner(&who.marketplace_id, p).await? {
                Some(found) => Some(found),
                None => {
                    e.add("partner_id", format!("no partner '{p}' in this marketplace"));
                    None
                }
            },
        };
        e.into_result()?;
        let now = self.services.clock.now();
        let cosell = cosell.expect("validated");
        let owner_company_name = who.partner.as_ref().map(|p| p.company_name.clone()).unwrap_or_default();
        let o = OpportunityRecord {
            id: new_id("opp"),
            marketplace_id: who.marketplace_id.clone(),
            owner_partner_id: owner,
            owner_company_name,
            cosell_partner_id: cosell.id,
            cosell_company_name: cosell.company_name,
            customer_name,
            deal_value_cents: deal_value.expect("validated"),
            currency: "USD".into(),
            description,
            expected_close_date,
            status: OpportunityStatus::Open,
            notes,
            created_by: who.user_id.clone(),
            created_at: now,
            updated_at: now,
            closed_at: None,
            version: 1,
        };
        let payload = json!({
            "opportunity_id": o.id,
            "customer_name": o.customer_name,
            "deal_value": money::to_json(o.deal_value_cents),
            "status": o.status.as_str(),
            "owner_partner_id": o.owner_partner_id,
            "partner_id": o.cosell_partner_id,
            "expected_close_date": o.expected_close_date.map(|d| d.to_string()),
        });
        let created = event(types::OPPORTUNITY_CREATED, &o, who, payload);
        self.services.store.create_opportunity(o.clone(), vec![created]).await?;
        // Everything a read would return is known: no read back.
        Ok(o)
    }

    pub async fn get(&self, who: &Principal, id: &str) -> Result<OpportunityRecord, ServiceError> {
        let viewer = partner_id(who)?;
        self.services
            .store
            .get_opportunity(&who.marketplace_id, viewer, id)
            .await?
            .ok_or(ServiceError::not_found("opportunity"))
    }

    pub async fn list(
        &self,
        who: &Principal,
        filter: &OpportunityFilter,
        offset: u64,
        limit: u32,
    ) -> Result<OpportunityPage, ServiceError> {
        let viewer = partner_id(who)?;
        Ok(self.services.store.list_opportunities(&who.marketplace_id, viewer, filter, offset, limit).await?)
    }

    /// Either party may update. Status follows the domain's state machine; a refused change is
    /// a validation error naming the allowed ones.
    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        change: &OpportunityChange,
    ) -> Result<OpportunityRecord, ServiceError> {
        require_write(who)?;
        for _ in 0..WRITE_ATTEMPTS {
            let current = self.get(who, id).await?;
            let mut e = ValidationErrors::new();
            let mut next = current.clone();
            if let Some(s) = &change.status
                && let Some(to) = e.check("status", OpportunityStatus::parse(s))
                && e.check("status", transition(current.status, to)).is_some()
            {
                next.status = to;
            }
            if let Some(v) = &change.deal_value
                && let Some(cents) = e.check("deal_value", money::parse_positive(v))
            {
                next.deal_value_cents = cents;
            }
            if let Some(n) = &change.notes {
                next.notes = text(&mut e, "notes", n, 5_000, false);
            }
            if let Some(c) = &change.customer_name {
                next.customer_name = text(&mut e, "customer_name", c, 200, true);
            }
            if let Some(d) = &change.description {
                next.description = text(&mut e, "description", d, 5_000, false);
            }
            if let Some(d) = &change.expected_close_date {
                next.expected_close_date = d.as_deref().and_then(|d| date(&mut e, "expected_close_date", d));
            }
            e.into_result()?;
            if next == current {
                return Ok(current);
            }
            let now = self.services.clock.now();
            next.updated_at = now;
            next.version = current.version + 1;
            if next.status != current.status && next.status.is_final() {
                next.closed_at = Some(now);
            }
            let events = self.update_events(&current, &next, who);
            match self.services.store.update_opportunity(next.clone(), current.version, events).await {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict(_)) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(ServiceError::conflict("opportunity", codes::CONCURRENT_CHANGE))
    }

    fn update_events(&self, before: &OpportunityRecord, after: &OpportunityRecord, who: &Principal) -> Vec<NewEvent> {
        let mut events = Vec::new();
        if before.status != after.status {
            events.push(event(
                types::OPPORTUNITY_STATUS_CHANGED,
                after,
                who,
                json!({ "opportunity_id": after.id, "from": before.status.as_str(), "to": after.status.as_str() }),
            ));
        }
        let mut changes = Map::new();
        let mut diff = |field: &str, old: Value, new: Value| {
            if old != new {
                changes.insert(field.to_owned(), json!({ "old": old, "new": new }));
            }
        };
        diff("deal_value", money::to_json(before.deal_value_cents), money::to_json(after.deal_value_cents));
        diff("notes", before.notes.clone().into(), after.notes.clone().into());
        diff("customer_name", before.customer_name.clone().into(), after.customer_name.clone().into());
        diff("description", before.description.clone().into(), after.description.clone().into());
        diff(
            "expected_close_date",
            before.expected_close_date.map(|d| d.to_string()).into(),
            after.expected_close_date.map(|d| d.to_string()).into(),
        );
        if !changes.is_empty() {
            events.push(event(
                types::OPPORTUNITY_UPDATED,
                after,
                who,
                json!({ "opportunity_id": after.id, "changes": changes }),
            ));
        }
        events
    }

    /// The opportunity's history, oldest first, from its events.
    pub async fn timeline(&self, who: &Principal, id: &str) -> Result<Vec<TimelineEntry>, ServiceError> {
        let o = self.get(who, id).await?;
        let events = self.services.store.events_for_subject(&who.marketplace_id, &o.id).await?;
        let actors: Vec<String> =
            events.iter().filter_map(|e| e.actor_user_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let emails = self.services.store.user_emails(&who.marketplace_id, &actors).await?;
        let email_of = |e: &EventRecord| {
            e.actor_user_id.as_ref().and_then(|u| emails.iter().find(|(id, _)| id == u).map(|(_, m)| m.clone()))
        };
        let mut out = Vec::new();
        for e in &events {
            let entry = |kind| TimelineEntry {
                kind,
                timestamp: e.occurred_at,
                actor: email_of(e),
                from: None,
                to: None,
                field: None,
                note: None,
            };
            match e.event_type.as_str() {
                types::OPPORTUNITY_CREATED => out.push(entry("created")),
                types::OPPORTUNITY_STATUS_CHANGED => out.push(TimelineEntry {
                    from: e.payload.get("from").cloned(),
                    to: e.payload.get("to").cloned(),
                    ..entry("status_changed")
                }),
                types::OPPORTUNITY_UPDATED => {
                    let Some(changes) = e.payload.get("changes").and_then(Value::as_object) else { continue };
                    for (field, change) in changes {
                        let (old, new) = (change.get("old").cloned(), change.get("new").cloned());
                        out.push(match field.as_str() {
                            "deal_value" => TimelineEntry { from: old, to: new, ..entry("value_changed") },
                            "notes" => TimelineEntry {
                                note: new.and_then(|v| v.as_str().map(str::to_owned)),
                                ..entry("note_added")
                            },
                            _ => TimelineEntry { field: Some(field.clone()), from: old, to: new, ..entry("updated") },
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }
}
