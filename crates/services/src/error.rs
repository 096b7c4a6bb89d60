//! What a use case can answer besides success, in no surface's words.
//!
//! An error is a kind, the record concerned and a stable machine code; each surface (the partners
//! API, the CLI, the coming AppReseller API) writes its own status, code and message for it.
//! Field messages of `Invalid` errors come from validation and are shown as they are.
//!
//! [`ServiceError::CATALOG`] lists every `(kind, entity, code)` the services produce, so a
//! surface can map them all (and test that it does).

use partnerd_domain::ValidationErrors;
use partnerd_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is refused; `fields` says why, field by field.
    Invalid,
    /// The record does not exist, or the caller may not know that it does.
    NotFound,
    /// The caller is known but may not do this.
    Forbidden,
    /// The record's state refuses the change (concurrent writers, a limit, a finished step).
    Conflict,
    /// A dependency failed (the store, an unconfigured sender); `detail` is for logs only.
    Unavailable,
}

/// Stable machine codes. Together with the kind and the entity they identify an error.
pub mod codes {
    /// `Invalid`: see the field messages.
    pub const INVALID: &str = "invalid";
    /// `NotFound`.
    pub const NOT_FOUND: &str = "not_found";
    /// `Forbidden`: the key's company is not an enrolled partner.
    pub const PARTNER_REQUIRED: &str = "partner_required";
    /// `Forbidden`: none of the caller's roles allows the action (a read-only key writing).
    pub const ROLE_REQUIRED: &str = "role_required";
    /// `Forbidden`: the caller does not hold the role its AppReseller `context` names.
    pub const CONTEXT_NOT_HELD: &str = "context_not_held";
    /// `Forbidden`: only the marketplace operator may do this.
    pub const OPERATOR_REQUIRED: &str = "operator_required";
    /// `Conflict`: other writers kept changing the record; the client may retry.
    pub const CONCURRENT_CHANGE: &str = "concurrent_change";
    /// `Conflict`: the draft was published already.
    pub const ALREADY_PUBLISHED: &str = "already_published";
    /// `Conflict`: the partner has as many webhooks as it may (`webhooks::MAX_WEBHOOKS`).
    pub const LIMIT_REACHED: &str = "limit_reached";
    /// `Conflict`: the webhook is inactive, so it cannot deliver.
    pub const INACTIVE: &str = "inactive";
    /// `Conflict`: a user with this e-mail exists already.
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// `Conflict`: the user belongs to no partner and is not the operator's (an AppReseller
    /// customer's user), or is disabled: it has no dashboard, so no link is issued.
    pub const NO_DASHBOARD: &str = "no_dashboard";
    /// `Forbidden`: the endpoint's scope table names none of the caller's roles.
    pub const SCOPE_REQUIRED: &str = "scope_required";
    /// `Forbidden`: a `companyId` (or `createdByCompanyId`) the caller may not act for.
    pub const COMPANY_NOT_MANAGED: &str = "company_not_managed";
    /// `Conflict`: another company of the marketplace has this external id.
    pub const EXTERNAL_ID_TAKEN: &str = "external_id_taken";
    /// `Conflict`: an association's reseller company is not a reseller.
    pub const RESELLER_REQUIRED: &str = "reseller_required";
    /// `Conflict`: the two companies are associated already.
    pub const ALREADY_ASSOCIATED: &str = "already_associated";
    /// `Conflict`: a company cannot be associated with itself.
    pub const SAME_COMPANY: &str = "same_company";
    /// `Forbidden`: a lead's reseller step (conversion request, conversion) by a company it is
    /// not assigned to.
    pub const NOT_ASSIGNEE: &str = "not_assignee";
    /// `Conflict`: the association carries a customer account that is still billed.
    pub const CUSTOMER_ACCOUNT_ACTIVE: &str = "customer_account_active";
    /// `Conflict`: a foreign key refused the write (another record still refers to this one).
    pub const REFERENCE_CONFLICT: &str = "reference_conflict";
    /// `Forbidden`: a sandbox's key may not create sandboxes.
    pub const SANDBOX_KEY: &str = "sandbox_key";
    /// `Conflict`: the store refused a write for a uniqueness rule it did not name.
    pub const CONFLICT: &str = "conflict";
    /// The company has a live subscription of the edition already.
    pub const ALREADY_SUBSCRIBED: &str = "already_subscribed";
    /// A change would leave fewer seats than are assigned.
    pub const SEATS_IN_USE: &str = "seats_in_use";
    /// The subscription's status allows no such move (a cancelled one cannot change).
    pub const NOT_CHANGEABLE: &str = "not_changeable";
    /// Every seat of the subscription is assigned.
    pub const NO_SEAT_AVAILABLE: &str = "no_seat_available";
    /// The user holds a seat of the subscription already.
    pub const ALREADY_ASSIGNED: &str = "already_assigned";
    /// An opportunity (quote) cannot be finalized: an item cannot be bought (the fields name it).
    pub const NOT_FINALIZABLE: &str = "not_finalizable";
    /// The opportunity's status (or the caller's role in it) allows no such move.
    pub const QUOTE_STATUS: &str = "quote_status";
    /// The opportunity has an item of this edition already.
    pub const EDITION_IN_QUOTE: &str = "edition_in_quote";
    /// The opportunity has an item with this id already.
    pub const ITEM_ID_TAKEN: &str = "item_id_taken";
    /// `Unavailable`: the store failed.
    pub const STORAGE: &str = "storage";
    /// `Unavailable`: webhook sending is not configured in this process.
    pub const SENDER_MISSING: &str = "sender_missing";
    /// `Unavailable`: a webhook's stored secret opens with none of the configured keys.
    pub const SECRET_UNREADABLE: &str = "secret_unreadable";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub kind: ErrorKind,
    /// The record concerned, snake_case (`"listing"`, `"api_key"`; `"request"` for the input).
    pub entity: &'static str,
    /// A stable machine code, snake_case (see [`codes`]).
    pub code: &'static str,
    /// For `Invalid`: field → messages.
    pub fields: ValidationErrors,
    /// Internal, for logs only (`Unavailable`, store conflicts); never shown to clients.
    pub detail: Option<String>,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entity = self.entity.replace('_', " ");
        match self.kind {
            ErrorKind::Invalid => write!(f, "{}", self.fields),
            ErrorKind::NotFound => write!(f, "{entity} not found"),
            ErrorKind::Forbidden => write!(f, "forbidden: {entity} {}", self.code),
            ErrorKind::Conflict => write!(f, "conflict: {entity} {}", self.code),
            ErrorKind::Unavailable => {
                write!(f, "unavailable ({}): {}", self.code, self.detail.as_deref().unwrap_or("no detail"))
            }
        }?;
        if let (ErrorKind::Conflict, Some(d)) = (self.kind, &self.detail) {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// Every error the services produce: `(kind, entity, code)`. `NotFound` is produced for each
/// entity listed with it.
pub const CATALOG: &[(ErrorKind, &str, &str)] = {
    use ErrorKind::*;
    use codes::*;
    &[
        (Invalid, "request", INVALID),
        (NotFound, "listing", NOT_FOUND),
        (NotFound, "recommendation", NOT_FOUND),
        (NotFound, "draft", NOT_FOUND),
        (NotFound, "opportunity", NOT_FOUND),
        (NotFound, "report", NOT_FOUND),
        (NotFound, "webhook", NOT_FOUND),
        (NotFound, "delivery", NOT_FOUND),
        (NotFound, "partner", NOT_FOUND),
        (NotFound, "marketplace", NOT_FOUND),
        (NotFound, "user", NOT_FOUND),
        (NotFound, "membership", NOT_FOUND),
        (NotFound, "api_key", NOT_FOUND),
        (NotFound, "company", NOT_FOUND),
        (NotFound, "company_association", NOT_FOUND),
        (NotFound, "product", NOT_FOUND),
        (NotFound, "lead", NOT_FOUND),
        (NotFound, "customer", NOT_FOUND),
        (NotFound, "invoice", NOT_FOUND),
        (NotFound, "ticket", NOT_FOUND),
        (NotFound, "email_template", NOT_FOUND),
        (NotFound, "deployment", NOT_FOUND),
        (NotFound, "sandbox", NOT_FOUND),
        (NotFound, "subscription", NOT_FOUND),
        (NotFound, "payment_method", NOT_FOUND),
        (NotFound, "opportunity_item", NOT_FOUND),
        (Forbidden, "partner", PARTNER_REQUIRED),
        (Forbidden, "api_key", ROLE_REQUIRED),
        (Forbidden, "context", CONTEXT_NOT_HELD),
        (Forbidden, "operator", OPERATOR_REQUIRED),
        (Forbidden, "api_key", SCOPE_REQUIRED),
        (Forbidden, "company", COMPANY_NOT_MANAGED),
        (Forbidden, "lead", NOT_ASSIGNEE),
        (Forbidden, "sandbox", SANDBOX_KEY),
        (Conflict, "listing", CONCURRENT_CHANGE),
        (Conflict, "partner", CONCURRENT_CHANGE),
        (Conflict, "opportunity", CONCURRENT_CHANGE),
        (Conflict, "customer", CONCURRENT_CHANGE),
        (Conflict, "invoice", CONCURRENT_CHANGE),
        (Conflict, "ticket", CONCURRENT_CHANGE),
        (Conflict, "deployment", CONCURRENT_CHANGE),
        (Conflict, "draft", ALREADY_PUBLISHED),
        (Conflict, "webhook", LIMIT_REACHED),
        (Conflict, "webhook", INACTIVE),
        (Conflict, "sandbox", LIMIT_REACHED),
        (Conflict, "user", EMAIL_TAKEN),
        (Conflict, "user", NO_DASHBOARD),
        (Conflict, "user", EXTERNAL_ID_TAKEN),
        (Conflict, "company", EXTERNAL_ID_TAKEN),
        (Conflict, "company_association", RESELLER_REQUIRED),
        (Conflict, "company_association", ALREADY_ASSOCIATED),
        (Conflict, "company_association", SAME_COMPANY),
        (Conflict, "company_association", CUSTOMER_ACCOUNT_ACTIVE),
        (Conflict, "request", REFERENCE_CONFLICT),
        (Conflict, "request", CONFLICT),
        (Conflict, "subscription", ALREADY_SUBSCRIBED),
        (Conflict, "subscription", SEATS_IN_USE),
        (Conflict, "subscription", NOT_CHANGEABLE),
        (Conflict, "subscription", CONCURRENT_CHANGE),
        (Conflict, "subscription_assignment", NO_SEAT_AVAILABLE),
        (Conflict, "subscription_assignment", ALREADY_ASSIGNED),
        (Conflict, "opportunity", NOT_FINALIZABLE),
        (Conflict, "opportunity", QUOTE_STATUS),
        (Conflict, "opportunity", EDITION_IN_QUOTE),
        (Conflict, "opportunity", ITEM_ID_TAKEN),
        (Unavailable, "store", STORAGE),
        (Unavailable, "webhook", SENDER_MISSING),
        (Unavailable, "webhook", SECRET_UNREADABLE),
    ]
};

impl ServiceError {
    /// Every `(kind, entity, code)` the services produce.
    pub const CATALOG: &'static [(ErrorKind, &'static str, &'static str)] = CATALOG;

    pub fn new(kind: ErrorKind, entity: &'static str, code: &'static str) -> Self {
        Self { kind, entity, code, fields: ValidationErrors::new(), detail: None }
    }

    /// The input is refused for these field problems.
    pub fn invalid(errors: ValidationErrors) -> Self {
        Self { fields: errors, ..Self::new(ErrorKind::Invalid, "request", codes::INVALID) }
    }

    pub fn not_found(entity: &'static str) -> Self {
        Self::new(ErrorKind::NotFound, entity, codes::NOT_FOUND)
    }

    pub fn forbidden(entity: &'static str, code: &'static str) -> Self {
        Self::new(ErrorKind::Forbidden, entity, code)
    }

    pub fn conflict(entity: &'static str, code: &'static str) -> Self {
        Self::new(ErrorKind::Conflict, entity, code)
    }

    /// The store failed; `detail` goes to the logs.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), ..Self::new(ErrorKind::Unavailable, "store", codes::STORAGE) }
    }

    /// The same error with an internal detail for the logs.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `Some(fields)` when the input was refused.
    pub fn validation(&self) -> Option<&ValidationErrors> {
        (self.kind == ErrorKind::Invalid).then_some(&self.fields)
    }

    pub fn is(&self, kind: ErrorKind, entity: &str, code: &str) -> bool {
        self.kind == kind && self.entity == entity && self.code == code
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(e: ValidationErrors) -> Self {
        ServiceError::invalid(e)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::not_found(entity_of(what)),
            StoreError::Conflict(msg) if msg == partnerd_store::REFERENCE_CONFLICT => {
                ServiceError::conflict("request", codes::REFERENCE_CONFLICT).with_detail(msg)
            }
            StoreError::Conflict(msg) => ServiceError::conflict("request", codes::CONFLICT).with_detail(msg),
            StoreError::InvalidCursor => ServiceError::invalid(partnerd_domain::validation::ValidationErrors::single(
                "cursor",
                "belongs to another sort of this list: start again without it",
            )),
            // Any other store failure (the backend, data it cannot decode) is a 5xx.
            other => ServiceError::unavailable(other.to_string()),
        }
    }
}

/// The store names records in prose in places ("api key"); entities are snake_case.
fn entity_of(what: &'static str) -> &'static str {
    match what {
        "api key" | "api_key" | "key" => "api_key",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_become_kinds() {
        let e = ServiceError::from(StoreError::NotFound("api key"));
        assert!(e.is(ErrorKind::NotFound, "api_key", codes::NOT_FOUND));
        assert_eq!(e.to_string(), "api key not found");
        let e = ServiceError::from(StoreError::Conflict("listing id taken".into()));
        assert!(e.is(ErrorKind::Conflict, "request", codes::CONFLICT));
        assert_eq!(e.detail.as_deref(), Some("listing id taken"));
        let e = ServiceError::from(StoreError::Backend("connection refused".into()));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.detail.as_deref().is_some_and(|d| d.contains("connection refused")));
    }

    #[test]
    fn the_catalog_holds_what_the_constructors_make() {
        let made = [
            ServiceError::invalid(ValidationErrors::single("title", "is required")),
            ServiceError::not_found("listing"),
            ServiceError::forbidden("api_key", codes::ROLE_REQUIRED),
            ServiceError::conflict("draft", codes::ALREADY_PUBLISHED),
            ServiceError::unavailable("down"),
        ];
        for e in made {
            assert!(CATALOG.contains(&(e.kind, e.entity, e.code)), "{e:?}");
        }
        let mut seen = std::collections::HashSet::new();
        assert!(CATALOG.iter().all(|c| seen.insert(*c)), "no duplicates");
    }

    /// Every error a use case constructs (`ServiceError::not_found("x")`,
    /// `forbidden("x", codes::Y)`, `conflict(…)`, `new(ErrorKind::K, …)`) is in the catalog:
    /// found by reading the services' own source, so a new error cannot be left out of it.
    #[test]
    fn the_catalog_lists_every_error_the_use_cases_construct() {
        let sources = [
            include_str!("accounts.rs"),
            include_str!("analytics.rs"),
            include_str!("auth.rs"),
            include_str!("billing.rs"),
            include_str!("customers.rs"),
            include_str!("deploys.rs"),
            include_str!("whitelabel.rs"),
            include_str!("catalog.rs"),
            include_str!("cosell.rs"),
            include_str!("leads.rs"),
            include_str!("listings.rs"),
            include_str!("metrics.rs"),
            include_str!("tickets.rs"),
            include_str!("partners.rs"),
            include_str!("payment_methods.rs"),
            include_str!("sandboxes.rs"),
            include_str!("policy.rs"),
            include_str!("webhooks.rs"),
        ];
        let literal = |s: &str| s.trim().trim_matches('"').to_owned();
        let code = |s: &str| s.trim().trim_start_matches("codes::").to_lowercase();
        let mut found = 0;
        for src in sources {
            for (i, _) in src.match_indices("ServiceError::") {
                let rest = &src[i + "ServiceError::".len()..];
                let Some((name, args)) = rest.split_once('(') else { continue };
                let Some(args) = args.split_once(')').map(|(a, _)| a) else { continue };
                let args: Vec<&str> = args.split(',').collect();
                let entry = match (name, args.as_slice()) {
                    ("not_found", [e]) if e.contains('"') => (ErrorKind::NotFound, literal(e), codes::NOT_FOUND.into()),
                    ("forbidden", [e, c]) => (ErrorKind::Forbidden, literal(e), code(c)),
                    ("conflict", [e, c]) => (ErrorKind::Conflict, literal(e), code(c)),
                    ("new", [k, e, c]) => {
                        let kind = match k.trim().trim_start_matches("ErrorKind::") {
                            "Unavailable" => ErrorKind::Unavailable,
                            "Conflict" => ErrorKind::Conflict,
                            "Forbidden" => ErrorKind::Forbidden,
                            "NotFound" => ErrorKind::NotFound,
                            _ => ErrorKind::Invalid,
                        };
                        (kind, literal(e), code(c))
                    }
                    _ => continue,
                };
                if entry.1.contains(|c: char| !(c.is_ascii_lowercase() || c == '_')) {
                    continue; // a variable (`resource.as_str()`), not a literal entity
                }
                found += 1;
                assert!(
                    CATALOG.iter().any(|(k, e, c)| (*k, *e, *c) == (entry.0, entry.1.as_str(), entry.2.as_str())),
                    "{entry:?} is constructed but not in CATALOG"
                );
            }
        }
        assert!(found >= 15, "the scan found the constructors ({found})");
        // Code constants are their value in upper case, which the scan relies on.
        for c in [codes::LIMIT_REACHED, codes::CONTEXT_NOT_HELD, codes::SENDER_MISSING, codes::PARTNER_REQUIRED] {
            assert!(c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{c}");
        }
    }

    #[test]
    fn validation_is_shown_field_by_field() {
        let e = ServiceError::from(ValidationErrors::single("title", "is required"));
        assert_eq!(e.validation().map(ToString::to_string).as_deref(), Some("title: is required"));
        assert_eq!(e.to_string(), "title: is required");
        assert!(ServiceError::not_found("x").validation().is_none());
    }
}
