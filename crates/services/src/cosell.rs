//! Co-sell opportunities shared by two partners, and their timeline read from the event log.

use crate::contention::{EDIT_LOCKS, WRITE_ATTEMPTS, pause_before};
use crate::error::codes;
use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, NaiveDate, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::cosell::{MAX_CUSTOMER_NAME, MAX_TEXT, OpportunityStatus, check_date, check_text, transition};
use partnerd_domain::events::{
    Change, EventPayload, NewEvent, OpportunityChanges, OpportunityCreated, OpportunityStatusChanged,
    OpportunityUpdated, from_stored, types,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::money::{Amount, AmountInput};
use partnerd_store::{
    EventRecord, OpportunityFilter, OpportunityPage, OpportunityRecord, StatusFigure, StoreError, Window,
};
use serde::Serialize;
use std::collections::BTreeSet;

pub struct Cosell<'a> {
    pub(crate) services: &'a Services,
}

/// A create request as received: values are checked here so every problem is reported at once.
#[derive(Debug, Default)]
pub struct NewOpportunity {
    pub customer_name: Option<String>,
    pub deal_value: Option<AmountInput>,
    pub partner_id: Option<String>,
    pub description: Option<String>,
    pub expected_close_date: Option<String>,
    pub notes: Option<String>,
}

/// A partial update; `expected_close_date: Some(None)` clears the date.
#[derive(Debug, Default)]
pub struct OpportunityChange {
    pub status: Option<String>,
    pub deal_value: Option<AmountInput>,
    pub notes: Option<String>,
    pub customer_name: Option<String>,
    pub description: Option<String>,
    pub expected_close_date: Option<Option<String>>,
}

partnerd_domain::str_enum! {
    /// What a timeline entry records.
    pub enum TimelineKind {
        Created = "created",
        StatusChanged = "status_changed",
        ValueChanged = "value_changed",
        NoteAdded = "note_added",
        Updated = "updated",
    }
}

/// A value a timeline entry moved from or to; serialises as the bare value (`"open"`,
/// `50000.5`, `"Acme"`, `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TimelineValue {
    Status(OpportunityStatus),
    Amount(Amount),
    /// A text field; `None` when it was empty (a cleared date).
    Text(Option<String>),
}

/// One entry of an opportunity's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub kind: TimelineKind,
    pub timestamp: DateTime<Utc>,
    /// The e-mail of the user who made the change.
    pub actor: Option<String>,
    pub from: Option<TimelineValue>,
    pub to: Option<TimelineValue>,
    /// For `updated`: the field that changed.
    pub field: Option<&'static str>,
    /// For `note_added`: the note.
    pub note: Option<String>,
}

/// Opportunity events are visible to both parties.
fn event<P: EventPayload>(payload: &P, o: &OpportunityRecord, actor: &Principal) -> NewEvent {
    NewEvent::of(payload)
        .partner(Some(o.owner_partner_id.clone()))
        .related(Some(o.cosell_partner_id.clone()))
        .actor(Some(actor.user_id.clone()))
}

impl Cosell<'_> {
    pub async fn create(&self, who: &Principal, input: NewOpportunity) -> Result<OpportunityRecord, ServiceError> {
        let owner = policy::partner_id(who)?.to_owned();
        policy::require(&who.roles, Resource::Opportunity, Access::Write)?;
        let mut e = ValidationErrors::new();
        let customer_name =
            check_text(&mut e, "customer_name", input.customer_name.as_deref().unwrap_or(""), MAX_CUSTOMER_NAME, true);
        let deal_value = match &input.deal_value {
            None => {
                e.add("deal_value", "is required");
                None
            }
            Some(v) => e.check("deal_value", v.positive_cents()),
        };
        let description =
            check_text(&mut e, "description", input.description.as_deref().unwrap_or(""), MAX_TEXT, false);
        let notes = check_text(&mut e, "notes", input.notes.as_deref().unwrap_or(""), MAX_TEXT, false);
        let expected_close_date =
            input.expected_close_date.as_deref().and_then(|d| check_date(&mut e, "expected_close_date", d));
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
                    e.add(
                        "partner_id",
                        format!("no partner '{}' in this marketplace", partnerd_domain::validation::echo(p)),
                    );
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
        let payload = OpportunityCreated {
            opportunity_id: o.id.clone(),
            customer_name: o.customer_name.clone(),
            deal_value: Amount::from_cents(o.deal_value_cents),
            status: o.status,
            owner_partner_id: o.owner_partner_id.clone(),
            partner_id: o.cosell_partner_id.clone(),
            expected_close_date: o.expected_close_date,
        };
        let created = event(&payload, &o, who);
        self.services.store.create_opportunity(o.clone(), vec![created]).await?;
        // Everything a read would return is known: no read back.
        Ok(o)
    }

    pub async fn get(&self, who: &Principal, id: &str) -> Result<OpportunityRecord, ServiceError> {
        // Either party sees it.
        let me = policy::acting(who, None)?;
        let found = self.services.store.get_opportunity(me.marketplace_id(), me.partner_id, id).await?;
        me.visible(found, Resource::Opportunity)
    }

    pub async fn list(
        &self,
        who: &Principal,
        filter: &OpportunityFilter,
        window: &Window,
        limit: u32,
    ) -> Result<OpportunityPage, ServiceError> {
        let viewer = policy::partner_id(who)?;
        Ok(self.services.store.list_opportunities(&who.marketplace_id, viewer, filter, window, limit).await?)
    }

    /// Every opportunity the partner is party to (either side, the same set as an unfiltered
    /// `list`), by status: one figure per status, with its count and total value.
    pub async fn pipeline_by_status(&self, who: &Principal) -> Result<Vec<StatusFigure>, ServiceError> {
        let viewer = policy::partner_id(who)?;
        let now = self.services.clock.now();
        Ok(self.services.store.cosell_figures(&who.marketplace_id, viewer, now, now).await?.by_status)
    }

    /// Either party may update. Status follows the domain's state machine; a refused change is
    /// a validation error naming the allowed ones.
    pub async fn update(
        &self,
        who: &Principal,
        id: &str,
        change: &OpportunityChange,
    ) -> Result<OpportunityRecord, ServiceError> {
        self.update_from(who, id, change, None).await
    }

    /// [`Self::update`] of the deal as the caller last read it: when `read_version` is given
    /// and either party has changed the deal since, nothing is written (409
    /// `concurrent_change`), so an edit form cannot overwrite what it never showed.
    pub async fn update_from(
        &self,
        who: &Principal,
        id: &str,
        change: &OpportunityChange,
        read_version: Option<i64>,
    ) -> Result<OpportunityRecord, ServiceError> {
        policy::require(&who.roles, Resource::Opportunity, Access::Write)?;
        // Writers of one opportunity in this process take turns; other processes' are retried
        // (see `contention`).
        let _turn = EDIT_LOCKS.turn(format!("opportunity:{}:{id}", who.marketplace_id)).await;
        for attempt in 1..=WRITE_ATTEMPTS {
            pause_before(attempt).await;
            let current = self.get(who, id).await?;
            if read_version.is_some_and(|v| v != current.version) {
                return Err(ServiceError::conflict("opportunity", codes::CONCURRENT_CHANGE));
            }
            let mut e = ValidationErrors::new();
            let mut next = current.clone();
            if let Some(s) = &change.status
                && let Some(to) = e.check("status", OpportunityStatus::parse(s))
                && e.check("status", transition(current.status, to)).is_some()
            {
                next.status = to;
            }
            if let Some(v) = &change.deal_value
                && let Some(cents) = e.check("deal_value", v.positive_cents())
            {
                next.deal_value_cents = cents;
            }
            if let Some(n) = &change.notes {
                next.notes = check_text(&mut e, "notes", n, MAX_TEXT, false);
            }
            if let Some(c) = &change.customer_name {
                next.customer_name = check_text(&mut e, "customer_name", c, MAX_CUSTOMER_NAME, true);
            }
            if let Some(d) = &change.description {
                next.description = check_text(&mut e, "description", d, MAX_TEXT, false);
            }
            if let Some(d) = &change.expected_close_date {
                next.expected_close_date = d.as_deref().and_then(|d| check_date(&mut e, "expected_close_date", d));
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
            let moved =
                OpportunityStatusChanged { opportunity_id: after.id.clone(), from: before.status, to: after.status };
            events.push(event(&moved, after, who));
        }
        let text = |a: &String, b: &String| Change::between(a.clone(), b.clone());
        let changes = OpportunityChanges {
            customer_name: text(&before.customer_name, &after.customer_name),
            deal_value: Change::between(
                Amount::from_cents(before.deal_value_cents),
                Amount::from_cents(after.deal_value_cents),
            ),
            description: text(&before.description, &after.description),
            expected_close_date: Change::between(before.expected_close_date, after.expected_close_date),
            notes: text(&before.notes, &after.notes),
        };
        if !changes.is_empty() {
            events.push(event(&OpportunityUpdated { opportunity_id: after.id.clone(), changes }, after, who));
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
                types::OPPORTUNITY_CREATED => out.push(entry(TimelineKind::Created)),
                types::OPPORTUNITY_STATUS_CHANGED => {
                    let Some(p) = from_stored::<OpportunityStatusChanged>(&e.payload) else { continue };
                    out.push(TimelineEntry {
                        from: Some(TimelineValue::Status(p.from)),
                        to: Some(TimelineValue::Status(p.to)),
                        ..entry(TimelineKind::StatusChanged)
                    });
                }
                types::OPPORTUNITY_UPDATED => {
                    let Some(p) = from_stored::<OpportunityUpdated>(&e.payload) else { continue };
                    let c = p.changes;
                    let updated = |field, change: Change<Option<String>>| TimelineEntry {
                        field: Some(field),
                        from: Some(TimelineValue::Text(change.old)),
                        to: Some(TimelineValue::Text(change.new)),
                        ..entry(TimelineKind::Updated)
                    };
                    let some = |c: Change<String>| Change { old: Some(c.old), new: Some(c.new) };
                    let date = |c: Change<Option<NaiveDate>>| Change {
                        old: c.old.map(|d| d.to_string()),
                        new: c.new.map(|d| d.to_string()),
                    };
                    // In field-name order, as the changes have always been listed.
                    out.extend(c.customer_name.map(|ch| updated("customer_name", some(ch))));
                    out.extend(c.deal_value.map(|ch| TimelineEntry {
                        from: Some(TimelineValue::Amount(ch.old)),
                        to: Some(TimelineValue::Amount(ch.new)),
                        ..entry(TimelineKind::ValueChanged)
                    }));
                    out.extend(c.description.map(|ch| updated("description", some(ch))));
                    out.extend(c.expected_close_date.map(|ch| updated("expected_close_date", date(ch))));
                    out.extend(
                        c.notes.map(|ch| TimelineEntry { note: Some(ch.new), ..entry(TimelineKind::NoteAdded) }),
                    );
                }
                _ => {}
            }
        }
        Ok(out)
    }
}
