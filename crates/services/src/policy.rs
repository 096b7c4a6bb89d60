//! Authorization: who may read or write which record. Pure functions over the caller and the
//! row, so every rule is unit-tested without I/O; every use case asks here instead of checking
//! roles or partner ids itself.
//!
//! - A caller acts for its key's partner ([`acting`]); a key of a company that is not an
//!   enrolled partner (the operator's) may not use partner use cases.
//! - It acts with all its membership's roles, or, when a surface passes an AppReseller
//!   `context`, with that one role only, which it must hold ([`Context`], [`in_context`]: the
//!   surface narrows the principal and calls the same use cases).
//! - Roles decide the action ([`role_allows`]): every role may read; every role but
//!   `partner_read` may write; generating a report (a snapshot that changes nothing) is open to
//!   every role.
//! - Rows decide visibility ([`Parties`]): a partner sees what it owns; a co-sell opportunity is
//!   seen, and may be changed, by both of its parties. A row the caller is no party to is "not
//!   found", never "forbidden", so ids of others' records reveal nothing.
//! - Operator actions (enrolment, keys, imports, scheduled reports) take a marketplace instead
//!   of a caller: only trusted code (the CLI, the server's own tasks) reaches them. A surface
//!   that ever exposes them checks [`require_operator`] first.

use crate::error::codes;
use crate::{Principal, ServiceError};
use partnerd_domain::partner::Role;
use partnerd_store::{
    CompanyScope, DeliveryRecord, DraftRecord, ListingRecord, OpportunityRecord, ReportRecord, WebhookRecord,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

partnerd_domain::str_enum! {
    /// The kinds of record a partner acts on; also the entity names of errors about them.
    pub enum Resource {
        Profile = "partner",
        Listing = "listing",
        Draft = "draft",
        Opportunity = "opportunity",
        Analytics = "analytics",
        Report = "report",
        Webhook = "webhook",
        Delivery = "delivery",
        Customer = "customer",
        Invoice = "invoice",
        Ticket = "ticket",
        Sandbox = "sandbox",
    }
}

partnerd_domain::str_enum! {
    /// The AppReseller `context` parameter: the one role a caller acts in for a request.
    pub enum Context {
        Reseller = "RESELLER",
        ResellerManager = "RESELLER_MANAGER",
        Referral = "REFERRAL",
        Developer = "DEVELOPER",
        ChannelAdmin = "CHANNEL_ADMIN",
        SalesSupport = "SALES_SUPPORT",
    }
}

impl Context {
    /// The membership role a context stands for.
    pub fn role(self) -> Role {
        match self {
            Context::Reseller => Role::Reseller,
            Context::ResellerManager => Role::ResellerManager,
            Context::Referral => Role::Referral,
            Context::Developer => Role::Developer,
            Context::ChannelAdmin => Role::ChannelAdmin,
            Context::SalesSupport => Role::SalesSupport,
        }
    }

    /// The context a membership role can be acted in, if any (`partner`, `partner_read` are
    /// partners-API roles with no AppReseller context).
    pub fn of_role(role: Role) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.role() == role)
    }

    /// The contexts a caller with these roles may choose from.
    pub fn available(roles: &[Role]) -> Vec<Context> {
        Context::ALL.into_iter().filter(|c| roles.contains(&c.role())).collect()
    }
}

/// Whether `role` permits `access` to `resource`.
pub fn role_allows(role: Role, resource: Resource, access: Access) -> bool {
    match (access, resource) {
        (Access::Read, _) => true,
        // A report is a snapshot of figures the caller may read anyway.
        (Access::Write, Resource::Report) => true,
        (Access::Write, _) => role.can_write(),
    }
}

/// Whether a caller with `roles` may. Reading needs only membership of the partner, even with
/// no role at all (roles stored by a newer version read as none).
pub fn allows(roles: &[Role], resource: Resource, access: Access) -> bool {
    access == Access::Read || roles.iter().any(|r| role_allows(*r, resource, access))
}

/// 403 unless `roles` permit the action.
pub fn require(roles: &[Role], resource: Resource, access: Access) -> Result<(), ServiceError> {
    if allows(roles, resource, access) { Ok(()) } else { Err(ServiceError::forbidden("api_key", codes::ROLE_REQUIRED)) }
}

/// A partner acting through its key: the partner, and the roles it acts with.
#[derive(Debug, Clone)]
pub struct Acting<'a> {
    pub principal: &'a Principal,
    pub partner_id: &'a str,
    /// The membership's roles, or only the context's.
    pub roles: Vec<Role>,
}

/// The partner `principal` acts for, in `context` when given. 403 when the key's company is
/// not a partner, or does not hold the context's role.
pub fn acting(principal: &Principal, context: Option<Context>) -> Result<Acting<'_>, ServiceError> {
    let partner_id = principal
        .partner
        .as_ref()
        .map(|p| p.id.as_str())
        .ok_or_else(|| ServiceError::forbidden("partner", codes::PARTNER_REQUIRED))?;
    let roles = match context {
        None => principal.roles.clone(),
        Some(c) if principal.has_role(c.role()) => vec![c.role()],
        Some(_) => return Err(ServiceError::forbidden("context", codes::CONTEXT_NOT_HELD)),
    };
    Ok(Acting { principal, partner_id, roles })
}

impl Acting<'_> {
    pub fn marketplace_id(&self) -> &str {
        &self.principal.marketplace_id
    }

    pub fn require(&self, resource: Resource, access: Access) -> Result<(), ServiceError> {
        require(&self.roles, resource, access)
    }

    /// Whether the caller is a party to `row`.
    pub fn is_party<R: Parties>(&self, row: &R) -> bool {
        row.owner() == self.partner_id || row.shared_with() == Some(self.partner_id)
    }

    /// The row if the caller may see it; "not found" if it is missing or the caller is no
    /// party to it.
    pub fn visible<R: Parties>(&self, row: Option<R>, resource: Resource) -> Result<R, ServiceError> {
        row.filter(|r| self.is_party(r)).ok_or_else(|| ServiceError::not_found(resource.as_str()))
    }
}

/// The caller acting in `context` only: the same principal with just the context's role, so
/// every use case applies the narrower rights unchanged. What a surface with a `context`
/// parameter calls before the use case. 403 when the caller does not hold that role.
pub fn in_context(principal: &Principal, context: Context) -> Result<Principal, ServiceError> {
    let narrowed = acting(principal, Some(context))?.roles;
    Ok(Principal { roles: narrowed, ..principal.clone() })
}

/// 403 unless the caller is a partner: the first check of every partner use case.
pub fn partner_id(principal: &Principal) -> Result<&str, ServiceError> {
    acting(principal, None).map(|a| a.partner_id)
}

/// 403 unless the caller acts for the marketplace's operator: a member of no partner's
/// company holding `channel_admin` (the operator company's role; the users of AppReseller
/// customer companies are no partner's either, but hold no membership role).
pub fn require_operator(principal: &Principal) -> Result<(), ServiceError> {
    if principal.partner.is_none() && principal.has_role(Role::ChannelAdmin) {
        Ok(())
    } else {
        Err(ServiceError::forbidden("operator", codes::OPERATOR_REQUIRED))
    }
}

/// The AppReseller caller acting in `context`: 403 unless it holds the context's role. Unlike
/// [`acting`], no partner is needed: the operator's channel admins act on this surface too.
pub fn holds(principal: &Principal, context: Context) -> Result<(), ServiceError> {
    if principal.has_role(context.role()) {
        Ok(())
    } else {
        Err(ServiceError::forbidden("context", codes::CONTEXT_NOT_HELD))
    }
}

/// 403 unless the caller holds one of `roles` (an endpoint's scope table without a `context`).
pub fn require_scope(principal: &Principal, roles: &[Role]) -> Result<(), ServiceError> {
    if roles.iter().any(|r| principal.has_role(*r)) {
        Ok(())
    } else {
        Err(ServiceError::forbidden("api_key", codes::SCOPE_REQUIRED))
    }
}

/// The marketplace operator acting as its own reseller manager: the operator's staff approve
/// lead conversions (the product brief), and the dashboard's approvals page acts in the
/// `RESELLER_MANAGER` context for the operator through the same lead use cases. Only the
/// operator (no partner, `channel_admin`) may; anyone else is refused.
pub fn operator_as_reseller_manager(principal: &Principal) -> Result<Principal, ServiceError> {
    require_operator(principal)?;
    let mut manager = principal.clone();
    if !manager.has_role(Role::ResellerManager) {
        manager.roles.push(Role::ResellerManager);
    }
    Ok(manager)
}

/// The companies a caller acting in `context` manages: a reseller its associated customers, a
/// reseller manager the marketplace's reseller and referral companies. 403 for a context the
/// caller does not hold; other contexts manage no companies (`None`).
pub fn account_scope(principal: &Principal, context: Context) -> Result<Option<CompanyScope>, ServiceError> {
    holds(principal, context)?;
    Ok(match context {
        Context::Reseller => Some(CompanyScope::LinkedTo(principal.company_id.clone())),
        Context::ResellerManager => Some(CompanyScope::ResellersAndReferrals),
        _ => None,
    })
}

/// Whether a company is in the scope: `linked` says whether it is associated with the
/// scope's reseller (only read for [`CompanyScope::LinkedTo`]).
pub fn in_scope(scope: &CompanyScope, is_reseller: bool, is_referral: bool, linked: bool) -> bool {
    match scope {
        CompanyScope::LinkedTo(_) => linked,
        CompanyScope::ResellersAndReferrals => is_reseller || is_referral,
    }
}

/// The partners a row belongs to.
pub trait Parties {
    fn owner(&self) -> &str;
    /// The other party of a shared record.
    fn shared_with(&self) -> Option<&str> {
        None
    }
}

impl<T: Parties> Parties for &T {
    fn owner(&self) -> &str {
        (*self).owner()
    }
    fn shared_with(&self) -> Option<&str> {
        (*self).shared_with()
    }
}

macro_rules! owned_by_partner {
    ($($record:ty),+) => {
        $(impl Parties for $record {
            fn owner(&self) -> &str {
                &self.partner_id
            }
        })+
    };
}
owned_by_partner!(ListingRecord, DraftRecord, ReportRecord, WebhookRecord, DeliveryRecord);

impl Parties for OpportunityRecord {
    fn owner(&self) -> &str {
        &self.owner_partner_id
    }
    fn shared_with(&self) -> Option<&str> {
        Some(&self.cosell_partner_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use partnerd_store::PartnerRecord;

    fn principal(partner: Option<&str>, roles: &[Role]) -> Principal {
        Principal {
            key_id: "key_1".into(),
            marketplace_id: "mkt_1".into(),
            user_id: "user_1".into(),
            user_email: "a@acme.example".into(),
            company_id: "company_1".into(),
            roles: roles.to_vec(),
            partner: partner.map(|id| PartnerRecord {
                id: id.into(),
                marketplace_id: "mkt_1".into(),
                company_id: "company_1".into(),
                company_name: "Acme".into(),
                contact_email: "a@acme.example".into(),
                plan: "starter".into(),
                aws_account_connected: false,
                suspended_at: None,
                created_at: chrono::DateTime::UNIX_EPOCH,
            }),
        }
    }

    #[test]
    fn only_the_operator_acts_as_its_own_reseller_manager() {
        let operator = principal(None, &[Role::ChannelAdmin]);
        let manager = operator_as_reseller_manager(&operator).unwrap();
        assert!(manager.has_role(Role::ResellerManager) && manager.has_role(Role::ChannelAdmin));
        assert_eq!(operator_as_reseller_manager(&manager).unwrap().roles.len(), 2, "the role is added once");
        let partner = principal(Some("partner_1"), &[Role::ChannelAdmin, Role::Reseller]);
        assert_eq!(operator_as_reseller_manager(&partner).unwrap_err().kind, ErrorKind::Forbidden);
        let staff = principal(None, &[Role::SalesSupport]);
        assert_eq!(operator_as_reseller_manager(&staff).unwrap_err().kind, ErrorKind::Forbidden);
    }

    #[derive(Debug)]
    struct Row(&'static str, Option<&'static str>);
    impl Parties for Row {
        fn owner(&self) -> &str {
            self.0
        }
        fn shared_with(&self) -> Option<&str> {
            self.1
        }
    }

    #[test]
    fn contexts_map_to_their_roles_and_back() {
        let pairs = [
            ("RESELLER", Role::Reseller, "reseller"),
            ("RESELLER_MANAGER", Role::ResellerManager, "reseller_manager"),
            ("REFERRAL", Role::Referral, "referral"),
            ("DEVELOPER", Role::Developer, "developer"),
            ("CHANNEL_ADMIN", Role::ChannelAdmin, "channel_admin"),
            ("SALES_SUPPORT", Role::SalesSupport, "sales_support"),
        ];
        assert_eq!(pairs.len(), Context::ALL.len());
        for (name, role, role_name) in pairs {
            let c = Context::parse(name).unwrap();
            assert_eq!(c.role(), role);
            assert_eq!(role.as_str(), role_name);
            assert_eq!(Context::of_role(role), Some(c));
        }
        assert_eq!(Context::of_role(Role::Partner), None);
        assert_eq!(Context::of_role(Role::PartnerRead), None);
        assert!(Context::parse("reseller").is_err(), "contexts are upper case");
        assert_eq!(
            Context::available(&[Role::Partner, Role::Referral, Role::Reseller]),
            [Context::Reseller, Context::Referral]
        );
    }

    #[test]
    fn every_role_reads_and_all_but_partner_read_write() {
        for role in Role::ALL {
            for resource in Resource::ALL {
                assert!(role_allows(role, resource, Access::Read), "{role} reads {resource}");
                let writes = role_allows(role, resource, Access::Write);
                assert_eq!(
                    writes,
                    role != Role::PartnerRead || resource == Resource::Report,
                    "{role} writes {resource}"
                );
            }
        }
        let e = require(&[Role::PartnerRead], Resource::Listing, Access::Write).unwrap_err();
        assert!(e.is(ErrorKind::Forbidden, "api_key", codes::ROLE_REQUIRED));
        assert!(
            require(&[Role::PartnerRead, Role::Partner], Resource::Listing, Access::Write).is_ok(),
            "any role will do"
        );
        assert!(require(&[], Resource::Listing, Access::Read).is_ok(), "membership suffices to read");
        assert!(require(&[], Resource::Listing, Access::Write).is_err(), "but not to write");
    }

    #[test]
    fn only_partners_act_and_only_in_contexts_they_hold() {
        let operator = principal(None, &[Role::ChannelAdmin]);
        let e = acting(&operator, None).unwrap_err();
        assert!(e.is(ErrorKind::Forbidden, "partner", codes::PARTNER_REQUIRED));
        assert!(require_operator(&operator).is_ok());
        // A customer company's user is no partner's, and still not the operator.
        let customer = principal(None, &[]);
        assert!(require_operator(&customer).unwrap_err().is(
            ErrorKind::Forbidden,
            "operator",
            codes::OPERATOR_REQUIRED
        ));

        let p = principal(Some("partner_a"), &[Role::Reseller, Role::PartnerRead]);
        assert!(require_operator(&p).unwrap_err().is(ErrorKind::Forbidden, "operator", codes::OPERATOR_REQUIRED));
        let all = acting(&p, None).unwrap();
        assert_eq!(all.partner_id, "partner_a");
        assert_eq!(all.marketplace_id(), "mkt_1");
        assert!(all.require(Resource::Listing, Access::Write).is_ok(), "reseller writes");
        let as_reseller = acting(&p, Some(Context::Reseller)).unwrap();
        assert_eq!(as_reseller.roles, [Role::Reseller]);
        let e = acting(&p, Some(Context::ChannelAdmin)).unwrap_err();
        assert!(e.is(ErrorKind::Forbidden, "context", codes::CONTEXT_NOT_HELD));

        let narrowed = in_context(&p, Context::Reseller).unwrap();
        assert_eq!(narrowed.roles, [Role::Reseller]);
        assert_eq!(
            (narrowed.key_id.as_str(), narrowed.partner.as_ref().map(|p| p.id.as_str())),
            ("key_1", Some("partner_a"))
        );
        assert!(in_context(&p, Context::Developer).is_err());
        let read_only = principal(Some("partner_a"), &[Role::PartnerRead, Role::Referral]);
        let as_reader = in_context(&read_only, Context::Referral).unwrap();
        assert!(require(&as_reader.roles, Resource::Listing, Access::Write).is_ok(), "the context's role decides");

        let reader = principal(Some("partner_a"), &[Role::PartnerRead]);
        let r = acting(&reader, None).unwrap();
        assert!(r.require(Resource::Opportunity, Access::Read).is_ok());
        assert!(r.require(Resource::Opportunity, Access::Write).is_err());
        assert!(r.require(Resource::Report, Access::Write).is_ok());
        assert_eq!(partner_id(&reader).unwrap(), "partner_a");
    }

    #[test]
    fn rows_are_seen_by_their_parties_only() {
        let p = principal(Some("partner_a"), &[Role::Partner]);
        let a = acting(&p, None).unwrap();
        assert!(a.is_party(&Row("partner_a", None)));
        assert!(!a.is_party(&Row("partner_b", None)));
        assert!(a.is_party(&Row("partner_b", Some("partner_a"))), "the co-sell partner sees a shared row");
        assert!(!a.is_party(&Row("partner_b", Some("partner_c"))));
        assert!(a.visible(Some(Row("partner_a", None)), Resource::Listing).is_ok());
        let e = a.visible(Some(Row("partner_b", None)), Resource::Listing).unwrap_err();
        assert!(e.is(ErrorKind::NotFound, "listing", codes::NOT_FOUND), "not forbidden: reveals nothing");
        let e = a.visible(None::<Row>, Resource::Opportunity).unwrap_err();
        assert!(e.is(ErrorKind::NotFound, "opportunity", codes::NOT_FOUND));
    }

    #[test]
    fn app_reseller_scopes_follow_the_context() {
        let p = principal(Some("partner_a"), &[Role::Reseller]);
        assert_eq!(account_scope(&p, Context::Reseller).unwrap(), Some(CompanyScope::LinkedTo("company_1".into())));
        let e = account_scope(&p, Context::ResellerManager).unwrap_err();
        assert!(e.is(ErrorKind::Forbidden, "context", codes::CONTEXT_NOT_HELD));
        let operator = principal(None, &[Role::ChannelAdmin, Role::ResellerManager]);
        assert_eq!(
            account_scope(&operator, Context::ResellerManager).unwrap(),
            Some(CompanyScope::ResellersAndReferrals)
        );
        assert_eq!(account_scope(&operator, Context::ChannelAdmin).unwrap(), None);
        assert!(require_scope(&operator, &[Role::ChannelAdmin]).is_ok());
        let e = require_scope(&p, &[Role::ChannelAdmin, Role::ResellerManager]).unwrap_err();
        assert!(e.is(ErrorKind::Forbidden, "api_key", codes::SCOPE_REQUIRED));

        let linked = CompanyScope::LinkedTo("company_1".into());
        assert!(in_scope(&linked, false, false, true));
        assert!(!in_scope(&linked, true, true, false), "a reseller sees only its own customers");
        let all = CompanyScope::ResellersAndReferrals;
        assert!(in_scope(&all, true, false, false) && in_scope(&all, false, true, false));
        assert!(!in_scope(&all, false, false, true), "customers are not a reseller manager's");
    }
}
