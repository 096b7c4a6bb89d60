//! Support tickets a partner works for its customer accounts, and their history read from the
//! event log (as the co-sell timeline is).
//!
//! Decisions (the OpenAPI says the same):
//! - `customer_id` must be one of the partner's customer accounts; another partner's (or no)
//!   customer is refused as invalid input naming `customer_id` (422), with the same words for
//!   both, so ids of others' customers reveal nothing.
//! - `priority` defaults to `medium`, `category` to `other`.
//! - The status machine is `domain::ticket` (`resolved → open` reopens; `closed` is final). A
//!   refused move is invalid input on `status` naming the current status.
//! - `first_response_at`: the first partner response, i.e. the first comment written by the
//!   partner (`author` `partner`, the default) or the first move to `in_progress`, whichever
//!   comes first; never changed afterwards. `resolved_at`: the latest move to `resolved`,
//!   cleared on reopen. `closed_at`: the move to `closed`.
//! - Comments are the ticket's `ticket.commented` events (no second table); a closed ticket
//!   takes no more comments.
//! - A satisfaction rating (1–5, optional comment) may be given while the ticket is resolved
//!   or closed; giving it again replaces it (the latest counts, at its time).

use crate::contention::{EDIT_LOCKS, WRITE_ATTEMPTS, pause_before};
use crate::error::codes;
use crate::policy::{self, Access, Resource};
use crate::{Principal, ServiceError, Services};
use chrono::{DateTime, Utc};
use partnerd_domain::ValidationErrors;
use partnerd_domain::events::{
    Change, NewEvent, TicketChanges, TicketCommented, TicketCreated, TicketRated, TicketUpdated, from_stored, types,
};
use partnerd_domain::ids::new_id;
use partnerd_domain::ticket::{
    CommentAuthor, MAX_BODY, MAX_RATING_COMMENT, MAX_SUBJECT, TicketCategory, TicketPriority, TicketStatus, rating,
    required_text, transition,
};
use partnerd_store::{EventRecord, StoreError, TicketFilter, TicketRecord};
use partnerd_store::{Paged, Window};
use std::collections::BTreeSet;

/// `POST /support/tickets` as given.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub customer_id: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
}

/// `PATCH /support/tickets/{id}`: what is given changes.
#[derive(Debug, Clone, Default)]
pub struct TicketChange {
    pub status: Option<String>,
    pub priority: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewComment {
    pub body: Option<String>,
    /// `partner` by default.
    pub author: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewRating {
    pub rating: Option<i64>,
    pub comment: Option<String>,
}

partnerd_domain::str_enum! {
    /// What a history entry records.
    pub enum HistoryKind {
        Created = "created",
        StatusChanged = "status_changed",
        PriorityChanged = "priority_changed",
        Commented = "comment_added",
        Rated = "rated",
    }
}

/// One entry of a ticket's history, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub kind: HistoryKind,
    pub timestamp: DateTime<Utc>,
    /// The e-mail of the user whose key made the change.
    pub actor: Option<String>,
    /// For status and priority changes: the values as names.
    pub from: Option<&'static str>,
    pub to: Option<&'static str>,
    /// For comments.
    pub comment_id: Option<String>,
    pub author: Option<CommentAuthor>,
    pub body: Option<String>,
    /// For ratings.
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
}

impl HistoryEntry {
    fn new(kind: HistoryKind, e: &EventRecord, actor: Option<String>) -> Self {
        HistoryEntry {
            kind,
            timestamp: e.occurred_at,
            actor,
            from: None,
            to: None,
            comment_id: None,
            author: None,
            body: None,
            rating: None,
            rating_comment: None,
        }
    }
}

pub struct Tickets<'a> {
    pub(crate) services: &'a Services,
}

fn event<P: partnerd_domain::events::EventPayload>(payload: &P, t: &TicketRecord, who: &Principal) -> NewEvent {
    NewEvent::of(payload).partner(Some(t.partner_id.clone())).actor(Some(who.user_id.clone()))
}

fn parse_or<T>(
    e: &mut ValidationErrors,
    field: &str,
    v: Option<&str>,
    default: T,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    match v {
        None => Some(default),
        Some(s) => e.check(field, parse(s.trim())),
    }
}

impl Tickets<'_> {
    fn store(&self) -> &dyn partnerd_store::Store {
        &*self.services.store
    }

    pub async fn create(&self, who: &Principal, input: NewTicket) -> Result<TicketRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Ticket, Access::Write)?;
        let mut e = ValidationErrors::new();
        let customer = match input.customer_id.as_deref().map(str::trim) {
            None | Some("") => {
                e.add("customer_id", "is required");
                None
            }
            Some(id) => match self.store().get_customer(me.marketplace_id(), me.partner_id, id).await? {
                Some(c) => Some(c),
                None => {
                    let shown = partnerd_domain::validation::echo(id);
                    e.add("customer_id", format!("no customer account '{shown}' of yours (see GET /customers)"));
                    None
                }
            },
        };
        let subject = required_text(&mut e, "subject", input.subject.as_deref(), MAX_SUBJECT);
        let description = required_text(&mut e, "description", input.description.as_deref(), MAX_BODY);
        let priority =
            parse_or(&mut e, "priority", input.priority.as_deref(), TicketPriority::Medium, TicketPriority::parse);
        let category =
            parse_or(&mut e, "category", input.category.as_deref(), TicketCategory::Other, TicketCategory::parse);
        e.into_result()?;
        let (Some(customer), Some(subject), Some(description), Some(priority), Some(category)) =
            (customer, subject, description, priority, category)
        else {
            return Err(ServiceError::invalid(ValidationErrors::single("request", "is invalid")));
        };
        let now = self.services.clock.now();
        let t = TicketRecord {
            id: new_id("ticket"),
            marketplace_id: me.marketplace_id().to_owned(),
            partner_id: me.partner_id.to_owned(),
            customer_id: customer.customer_id,
            customer_name: customer.company_name,
            subject,
            description,
            priority,
            category,
            status: TicketStatus::Open,
            created_by: who.user_id.clone(),
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            rating: None,
            rating_comment: None,
            rated_at: None,
            comment_count: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let created = TicketCreated {
            ticket_id: t.id.clone(),
            customer_id: t.customer_id.clone(),
            subject: t.subject.clone(),
            priority: t.priority,
            category: t.category,
            status: t.status,
        };
        self.store().create_ticket(t.clone(), vec![event(&created, &t, who)]).await?;
        Ok(t)
    }

    /// The partner's ticket; another partner's is "not found".
    pub async fn get(&self, who: &Principal, id: &str) -> Result<TicketRecord, ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Ticket, Access::Read)?;
        self.store()
            .get_ticket(me.marketplace_id(), me.partner_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("ticket"))
    }

    pub async fn list(
        &self,
        who: &Principal,
        filter: &TicketFilter,
        window: &Window,
        limit: u32,
    ) -> Result<Paged<TicketRecord>, ServiceError> {
        let me = policy::acting(who, None)?;
        me.require(Resource::Ticket, Access::Read)?;
        Ok(self.store().list_tickets(me.marketplace_id(), me.partner_id, filter, window, limit).await?)
    }

    /// Reads the ticket, lets `apply` check and change it (returning its events), and writes
    /// it with the version read; other processes' concurrent writes are retried.
    async fn write(
        &self,
        who: &Principal,
        id: &str,
        apply: impl Fn(&TicketRecord, &mut TicketRecord, DateTime<Utc>) -> Result<Vec<NewEvent>, ServiceError>,
    ) -> Result<TicketRecord, ServiceError> {
        policy::acting(who, None)?.require(Resource::Ticket, Access::Write)?;
        let _turn = EDIT_LOCKS.turn(format!("ticket:{}:{id}", who.marketplace_id)).await;
        for attempt in 1..=WRITE_ATTEMPTS {
            pause_before(attempt).await;
            let current = self.get(who, id).await?;
            let now = self.services.clock.now();
            let mut next = current.clone();
            let events = apply(&current, &mut next, now)?;
            if next == current {
                return Ok(current);
            }
            next.version = current.version + 1;
            next.updated_at = now;
            match self.store().update_ticket(next.clone(), current.version, events).await {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict(_)) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(ServiceError::conflict("ticket", codes::CONCURRENT_CHANGE))
    }

    /// `PATCH`: `status` along the machine, `priority`.
    pub async fn update(&self, who: &Principal, id: &str, change: &TicketChange) -> Result<TicketRecord, ServiceError> {
        self.write(who, id, |current, next, now| {
            let mut e = ValidationErrors::new();
            if let Some(s) = &change.status
                && let Some(to) = e.check("status", TicketStatus::parse(s.trim()))
                && e.check("status", transition(current.status, to)).is_some()
            {
                next.status = to;
            }
            if let Some(p) = &change.priority
                && let Some(p) = e.check("priority", TicketPriority::parse(p.trim()))
            {
                next.priority = p;
            }
            e.into_result()?;
            if next.status != current.status {
                match next.status {
                    TicketStatus::InProgress => {
                        next.first_response_at = next.first_response_at.or(Some(now));
                    }
                    TicketStatus::Resolved => next.resolved_at = Some(now),
                    TicketStatus::Closed => next.closed_at = Some(now),
                    TicketStatus::Open => {
                        // Reopened: the next resolution is timed afresh.
                        next.resolved_at = None;
                        next.closed_at = None;
                    }
                    TicketStatus::WaitingOnCustomer => {}
                }
            }
            let changes = TicketChanges {
                status: Change::between(current.status, next.status),
                priority: Change::between(current.priority, next.priority),
            };
            if changes.is_empty() {
                return Ok(vec![]);
            }
            let updated =
                TicketUpdated { ticket_id: current.id.clone(), customer_id: current.customer_id.clone(), changes };
            Ok(vec![event(&updated, current, who)])
        })
        .await
    }

    /// `POST …/comments`: a comment by the partner (default) or relayed from the customer.
    /// Answers the ticket and the comment's id.
    pub async fn comment(
        &self,
        who: &Principal,
        id: &str,
        input: &NewComment,
    ) -> Result<(TicketRecord, String), ServiceError> {
        let comment_id = new_id("comment");
        let t = self
            .write(who, id, |current, next, now| {
                let mut e = ValidationErrors::new();
                let body = required_text(&mut e, "body", input.body.as_deref(), MAX_BODY);
                let author =
                    parse_or(&mut e, "author", input.author.as_deref(), CommentAuthor::Partner, CommentAuthor::parse);
                if current.status == TicketStatus::Closed {
                    e.add("body", "the ticket is 'closed': a closed ticket takes no comments (open a new ticket)");
                }
                e.into_result()?;
                let (Some(body), Some(author)) = (body, author) else {
                    return Err(ServiceError::invalid(ValidationErrors::single("body", "is invalid")));
                };
                next.comment_count = current.comment_count.saturating_add(1);
                if author == CommentAuthor::Partner {
                    next.first_response_at = next.first_response_at.or(Some(now));
                }
                let commented =
                    TicketCommented { ticket_id: current.id.clone(), comment_id: comment_id.clone(), author, body };
                Ok(vec![event(&commented, current, who)])
            })
            .await?;
        Ok((t, comment_id))
    }

    /// `PUT …/rating`: only while resolved or closed; replaces an earlier rating.
    pub async fn rate(&self, who: &Principal, id: &str, input: &NewRating) -> Result<TicketRecord, ServiceError> {
        self.write(who, id, |current, next, now| {
            let mut e = ValidationErrors::new();
            let value = match input.rating {
                None => {
                    e.add("rating", "is required");
                    None
                }
                Some(v) => e.check("rating", rating(v)),
            };
            let comment = match input.comment.as_deref().map(str::trim) {
                Some(c) if c.chars().count() > MAX_RATING_COMMENT => {
                    e.add("comment", format!("must be at most {MAX_RATING_COMMENT} characters"));
                    None
                }
                Some("") | None => None,
                Some(c) => Some(c.to_owned()),
            };
            if !current.status.may_be_rated() {
                e.add(
                    "rating",
                    format!(
                        "the ticket is '{}': a rating may be given once it is resolved or closed",
                        current.status.as_str()
                    ),
                );
            }
            e.into_result()?;
            let Some(value) = value else {
                return Err(ServiceError::invalid(ValidationErrors::single("rating", "is invalid")));
            };
            next.rating = Some(u16::from(value));
            next.rating_comment = comment.clone();
            next.rated_at = Some(now);
            let rated = TicketRated { ticket_id: current.id.clone(), rating: value, comment };
            Ok(vec![event(&rated, current, who)])
        })
        .await
    }

    /// The ticket's history, oldest first, from its events.
    pub async fn history(&self, who: &Principal, t: &TicketRecord) -> Result<Vec<HistoryEntry>, ServiceError> {
        let events = self.store().events_for_subject(&who.marketplace_id, &t.id).await?;
        let actors: Vec<String> =
            events.iter().filter_map(|e| e.actor_user_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let emails = self.store().user_emails(&who.marketplace_id, &actors).await?;
        let email_of = |e: &EventRecord| {
            e.actor_user_id.as_ref().and_then(|u| emails.iter().find(|(id, _)| id == u).map(|(_, m)| m.clone()))
        };
        let mut out = Vec::new();
        for e in &events {
            let entry = |kind| HistoryEntry::new(kind, e, email_of(e));
            match e.event_type.as_str() {
                types::TICKET_CREATED => {
                    let Some(p) = from_stored::<TicketCreated>(&e.payload) else { continue };
                    out.push(HistoryEntry { to: Some(p.status.as_str()), ..entry(HistoryKind::Created) });
                }
                types::TICKET_UPDATED => {
                    let Some(p) = from_stored::<TicketUpdated>(&e.payload) else { continue };
                    out.extend(p.changes.status.map(|c| HistoryEntry {
                        from: Some(c.old.as_str()),
                        to: Some(c.new.as_str()),
                        ..entry(HistoryKind::StatusChanged)
                    }));
                    out.extend(p.changes.priority.map(|c| HistoryEntry {
                        from: Some(c.old.as_str()),
                        to: Some(c.new.as_str()),
                        ..entry(HistoryKind::PriorityChanged)
                    }));
                }
                types::TICKET_COMMENTED => {
                    let Some(p) = from_stored::<TicketCommented>(&e.payload) else { continue };
                    out.push(HistoryEntry {
                        comment_id: Some(p.comment_id),
                        author: Some(p.author),
                        body: Some(p.body),
                        ..entry(HistoryKind::Commented)
                    });
                }
                types::TICKET_RATED => {
                    let Some(p) = from_stored::<TicketRated>(&e.payload) else { continue };
                    out.push(HistoryEntry {
                        rating: Some(p.rating),
                        rating_comment: p.comment,
                        ..entry(HistoryKind::Rated)
                    });
                }
                _ => {}
            }
        }
        Ok(out)
    }
}
