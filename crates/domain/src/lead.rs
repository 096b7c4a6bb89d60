//! Leads (Leads API v2): types, the customer's field rules, who sees a lead, and the status
//! machine as data.
//!
//! SUBMITTED → ASSIGNED → PENDING_CONVERSION_APPROVAL → CONVERSION_APPROVED → CONVERTED, plus
//! DISQUALIFIED and DELETED (final, like CONVERTED). PENDING_SUBMISSION and LEGACY are values
//! the document lists for leads partnerd never produces; they are accepted as filters.

use crate::ValidationErrors;
use crate::account::optional_text;
use serde::{Deserialize, Serialize};

crate::str_enum! {
    pub enum LeadType {
        Manual = "MANUAL",
        Company = "COMPANY",
        Product = "PRODUCT",
    }
}

crate::str_enum! {
    pub enum LeadStatus {
        Converted = "CONVERTED",
        Disqualified = "DISQUALIFIED",
        Deleted = "DELETED",
        PendingConversionApproval = "PENDING_CONVERSION_APPROVAL",
        ConversionApproved = "CONVERSION_APPROVED",
        PendingSubmission = "PENDING_SUBMISSION",
        Submitted = "SUBMITTED",
        Assigned = "ASSIGNED",
        Legacy = "LEGACY",
    }
}

crate::str_enum! {
    /// The `status` filter: one status, or one of the document's two aggregates.
    pub enum LeadStatusFilter {
        Converted = "CONVERTED",
        Disqualified = "DISQUALIFIED",
        Deleted = "DELETED",
        PendingConversionApproval = "PENDING_CONVERSION_APPROVAL",
        ConversionApproved = "CONVERSION_APPROVED",
        PendingSubmission = "PENDING_SUBMISSION",
        Submitted = "SUBMITTED",
        Assigned = "ASSIGNED",
        Legacy = "LEGACY",
        PendingForManagers = "PENDING_FOR_MANAGERS",
        AcceptedForManagers = "ACCEPTED_FOR_MANAGERS",
    }
}

impl LeadStatusFilter {
    /// The statuses the filter stands for, as the document defines the aggregates.
    pub fn statuses(self) -> Vec<LeadStatus> {
        use LeadStatus as S;
        match self {
            LeadStatusFilter::PendingForManagers => vec![S::Submitted, S::PendingConversionApproval],
            LeadStatusFilter::AcceptedForManagers => {
                vec![S::Assigned, S::ConversionApproved, S::Converted, S::Deleted, S::Disqualified, S::Legacy]
            }
            single => vec![S::parse(single.as_str()).unwrap_or(S::Legacy)],
        }
    }
}

/// What is done to a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadAction {
    /// A reseller manager assigns it (or reassigns it) to a reseller company.
    Assign,
    /// The assigned reseller asks to convert it.
    RequestConversion,
    /// A reseller manager approves the request.
    ApproveConversion,
    /// The assigned reseller converts it into a marketplace company.
    Convert,
    /// Discarded by its creator while nobody else holds it.
    Delete,
    /// Discarded otherwise.
    Disqualify,
    /// Contact information or notes changed, or linked to an existing company.
    Edit,
}

impl LeadAction {
    /// The statuses the action starts from, and where it leads (`None`: the status stays).
    pub fn rule(self) -> (&'static [LeadStatus], Option<LeadStatus>) {
        use LeadStatus as S;
        const OPEN: &[LeadStatus] = &[
            S::PendingSubmission,
            S::Submitted,
            S::Assigned,
            S::PendingConversionApproval,
            S::ConversionApproved,
            S::Legacy,
        ];
        match self {
            LeadAction::Assign => (&[S::Submitted, S::Assigned], Some(S::Assigned)),
            LeadAction::RequestConversion => (&[S::Assigned], Some(S::PendingConversionApproval)),
            LeadAction::ApproveConversion => (&[S::PendingConversionApproval], Some(S::ConversionApproved)),
            LeadAction::Convert => (&[S::ConversionApproved], Some(S::Converted)),
            LeadAction::Delete => (OPEN, Some(S::Deleted)),
            LeadAction::Disqualify => (OPEN, Some(S::Disqualified)),
            LeadAction::Edit => (OPEN, None),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            LeadAction::Assign => "assigned",
            LeadAction::RequestConversion => "sent for conversion approval",
            LeadAction::ApproveConversion => "approved for conversion",
            LeadAction::Convert => "converted",
            LeadAction::Delete => "deleted",
            LeadAction::Disqualify => "disqualified",
            LeadAction::Edit => "changed",
        }
    }
}

impl LeadStatus {
    /// Nothing happens to a lead in these any more.
    pub fn is_final(self) -> bool {
        matches!(self, LeadStatus::Converted | LeadStatus::Deleted | LeadStatus::Disqualified)
    }
}

/// The status after `action` on a lead in `from`, or why not (naming the current status).
pub fn transition(from: LeadStatus, action: LeadAction) -> Result<LeadStatus, String> {
    let (starts, to) = action.rule();
    if starts.contains(&from) {
        return Ok(to.unwrap_or(from));
    }
    let names: Vec<&str> = starts.iter().map(|s| s.as_str()).collect();
    let why = match (from, action) {
        (LeadStatus::PendingConversionApproval, LeadAction::RequestConversion) => {
            " (conversion approval has already been requested)".to_owned()
        }
        (LeadStatus::ConversionApproved, LeadAction::ApproveConversion) => {
            " (conversion is already approved)".to_owned()
        }
        (s, _) if s.is_final() => format!(" ({} is final)", s.as_str()),
        _ => String::new(),
    };
    Err(format!(
        "the lead is {}{why}; it can be {} only when it is {}",
        from.as_str(),
        action.describe(),
        names.join(" or ")
    ))
}

/// How a lead is discarded: deleted when its creator discards it while no other company holds
/// it (a manual lead, unassigned or assigned to the creator itself); disqualified otherwise
/// (a profile lead, or a lead discarded by its assignee or a manager, or by its creator while
/// another company holds it).
pub fn discard_action(lead_type: LeadType, by_creator: bool, held_by_other: bool) -> LeadAction {
    if lead_type == LeadType::Manual && by_creator && !held_by_other {
        LeadAction::Delete
    } else {
        LeadAction::Disqualify
    }
}

/// Who looks at a lead: the caller's company and whether it acts as a reseller manager.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub company_id: &'a str,
    pub manager: bool,
}

/// The parts of a lead visibility depends on.
#[derive(Debug, Clone, Copy)]
pub struct LeadParties<'a> {
    pub lead_type: LeadType,
    /// The creator's company (manual leads) or the profile company (company-profile leads).
    pub owner_company_id: Option<&'a str>,
    /// The company it is assigned to now.
    pub assignee_company_id: Option<&'a str>,
    pub status: LeadStatus,
}

/// The statuses in which a manual lead is before reseller managers too: its conversion was
/// requested of them (approving it is theirs), and what follows.
pub const BEFORE_MANAGERS: [LeadStatus; 3] =
    [LeadStatus::PendingConversionApproval, LeadStatus::ConversionApproved, LeadStatus::Converted];

/// The document's rules: manual leads only to their creator; company-profile leads to the
/// profile owners and reseller managers; product-profile leads to reseller managers (partnerd
/// has no setting that opens them to the product's developers, so they do not see them); an
/// assignee while the lead is assigned to it; the owner always. One addition the lifecycle
/// needs: a manual lead whose conversion was requested is before the managers who approve it
/// ([`BEFORE_MANAGERS`]).
pub fn visible(lead: LeadParties<'_>, viewer: Viewer<'_>) -> bool {
    lead.owner_company_id == Some(viewer.company_id)
        || lead.assignee_company_id == Some(viewer.company_id)
        || (viewer.manager && (lead.lead_type != LeadType::Manual || BEFORE_MANAGERS.contains(&lead.status)))
}

/// The customer's company (`LeadCustomerCompany`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCompany {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// The customer's contact (`LeadCustomerContact`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_extension: Option<String>,
}

/// `LeadCustomer`: the company and its contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default)]
    pub company: CustomerCompany,
    #[serde(default)]
    pub contact: CustomerContact,
}

/// Longest customer text field, in characters.
pub const MAX_FIELD: usize = 200;
/// Longest notes, in characters.
pub const MAX_NOTES: usize = 5_000;

fn field(errors: &mut ValidationErrors, path: &str, v: &mut Option<String>) {
    match optional_text(v.as_deref(), MAX_FIELD) {
        Ok(t) => *v = t,
        Err(m) => errors.add(path, m),
    }
}

impl Customer {
    /// Trims every field; the company name and the contact's e-mail are required (a lead with
    /// no one to contact or no company to convert into is not a lead); the e-mail must look
    /// like one and a country is two letters.
    pub fn validated(mut self, errors: &mut ValidationErrors) -> Customer {
        let c = &mut self.company;
        for (name, v) in [
            ("customer.company.city", &mut c.city),
            ("customer.company.country", &mut c.country),
            ("customer.company.name", &mut c.name),
            ("customer.company.size", &mut c.size),
            ("customer.company.state", &mut c.state),
            ("customer.company.street1", &mut c.street1),
            ("customer.company.street2", &mut c.street2),
            ("customer.company.zip", &mut c.zip),
        ] {
            field(errors, name, v);
        }
        let k = &mut self.contact;
        for (name, v) in [
            ("customer.contact.email", &mut k.email),
            ("customer.contact.firstName", &mut k.first_name),
            ("customer.contact.lastName", &mut k.last_name),
            ("customer.contact.phone", &mut k.phone),
            ("customer.contact.phoneExtension", &mut k.phone_extension),
        ] {
            field(errors, name, v);
        }
        if self.company.name.is_none() {
            errors.add("customer.company.name", "is required");
        }
        match &self.contact.email {
            None => errors.add("customer.contact.email", "is required"),
            Some(e) => {
                if crate::partner::Email::parse(e).is_err() {
                    errors.add("customer.contact.email", "must be an e-mail address");
                }
            }
        }
        if self.company.country.as_ref().is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic())) {
            errors.add("customer.company.country", "must be a two-letter ISO 3166 country code");
        }
        self
    }

    /// This partial customer laid over `stored`, as a PATCH is: a field left out keeps its
    /// stored value, a given one replaces it (an empty string clears it, through [`validated`]).
    ///
    /// [`validated`]: Customer::validated
    pub fn patched_over(self, stored: &Customer) -> Customer {
        fn keep(given: Option<String>, stored: &Option<String>) -> Option<String> {
            given.or_else(|| stored.clone())
        }
        let (c, s) = (self.company, &stored.company);
        let (k, t) = (self.contact, &stored.contact);
        Customer {
            company: CustomerCompany {
                city: keep(c.city, &s.city),
                country: keep(c.country, &s.country),
                name: keep(c.name, &s.name),
                size: keep(c.size, &s.size),
                state: keep(c.state, &s.state),
                street1: keep(c.street1, &s.street1),
                street2: keep(c.street2, &s.street2),
                zip: keep(c.zip, &s.zip),
            },
            contact: CustomerContact {
                email: keep(k.email, &t.email),
                first_name: keep(k.first_name, &t.first_name),
                last_name: keep(k.last_name, &t.last_name),
                phone: keep(k.phone, &t.phone),
                phone_extension: keep(k.phone_extension, &t.phone_extension),
            },
        }
    }

    /// Lower-cased text the `searchText` filter matches: company name, contact name, e-mail.
    pub fn search_text(&self) -> String {
        let parts = [
            self.company.name.as_deref(),
            self.contact.first_name.as_deref(),
            self.contact.last_name.as_deref(),
            self.contact.email.as_deref(),
        ];
        parts.iter().flatten().copied().collect::<Vec<_>>().join(" ").to_lowercase()
    }
}

/// Notes trimmed (blank is none), at most [`MAX_NOTES`] characters.
pub fn notes(errors: &mut ValidationErrors, raw: Option<&str>) -> Option<String> {
    errors.check("notes", optional_text(raw, MAX_NOTES)).flatten()
}

crate::str_enum! {
    /// The activity verbs (`LeadActivityVerb`; the document lists its examples' verbs only, the
    /// others name the remaining lifecycle steps the same way).
    pub enum ActivityVerb {
        Created = "LEAD_CREATED",
        Updated = "LEAD_UPDATED",
        Assigned = "LEAD_ASSIGNED",
        CompanyAssociated = "LEAD_COMPANY_ASSOCIATED",
        ConversionRequested = "LEAD_CONVERSION_REQUESTED",
        ConversionApproved = "LEAD_CONVERSION_APPROVED",
        Converted = "LEAD_CONVERTED",
        Disqualified = "LEAD_DISQUALIFIED",
        Deleted = "LEAD_DELETED",
        QuoteLinked = "LEAD_QUOTE_LINKED",
    }
}

impl ActivityVerb {
    /// The verb of a status change to `to`.
    pub fn of_status(to: LeadStatus) -> Option<ActivityVerb> {
        match to {
            LeadStatus::PendingConversionApproval => Some(ActivityVerb::ConversionRequested),
            LeadStatus::ConversionApproved => Some(ActivityVerb::ConversionApproved),
            LeadStatus::Converted => Some(ActivityVerb::Converted),
            LeadStatus::Disqualified => Some(ActivityVerb::Disqualified),
            LeadStatus::Deleted => Some(ActivityVerb::Deleted),
            LeadStatus::Assigned => Some(ActivityVerb::Assigned),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LeadAction::*;
    use super::LeadStatus::*;
    use super::*;

    #[test]
    fn a_patch_keeps_what_it_leaves_out_and_clears_with_an_empty_string() {
        let stored = Customer {
            company: CustomerCompany { name: Some("Acme".into()), city: Some("Lyon".into()), ..Default::default() },
            contact: CustomerContact {
                email: Some("jo@acme.test".into()),
                phone: Some("+33 1".into()),
                ..Default::default()
            },
        };
        let patch = Customer {
            company: CustomerCompany { city: Some(String::new()), ..Default::default() },
            contact: CustomerContact { first_name: Some(" Jo ".into()), ..Default::default() },
        };
        let mut errors = ValidationErrors::new();
        let c = patch.patched_over(&stored).validated(&mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.company.name.as_deref(), Some("Acme"), "kept");
        assert_eq!(c.company.city, None, "cleared");
        assert_eq!(c.contact.email.as_deref(), Some("jo@acme.test"), "kept");
        assert_eq!(c.contact.phone.as_deref(), Some("+33 1"), "kept");
        assert_eq!(c.contact.first_name.as_deref(), Some("Jo"), "replaced, trimmed");

        let clear_name = Customer {
            company: CustomerCompany { name: Some(" ".into()), ..Default::default() },
            ..Default::default()
        };
        let mut errors = ValidationErrors::new();
        clear_name.patched_over(&stored).validated(&mut errors);
        assert!(!errors.is_empty(), "the company name stays required");
    }

    #[test]
    fn every_allowed_move() {
        let allowed = [
            (Submitted, Assign, Assigned),
            (Assigned, Assign, Assigned),
            (Assigned, RequestConversion, PendingConversionApproval),
            (PendingConversionApproval, ApproveConversion, ConversionApproved),
            (ConversionApproved, Convert, Converted),
        ];
        for (from, action, to) in allowed {
            assert_eq!(transition(from, action), Ok(to), "{from:?} {action:?}");
        }
        for from in [PendingSubmission, Submitted, Assigned, PendingConversionApproval, ConversionApproved, Legacy] {
            assert_eq!(transition(from, Delete), Ok(Deleted));
            assert_eq!(transition(from, Disqualify), Ok(Disqualified));
            assert_eq!(transition(from, Edit), Ok(from), "an edit keeps the status");
        }
    }

    #[test]
    fn every_refused_move_names_the_current_status() {
        let actions = [Assign, RequestConversion, ApproveConversion, Convert, Delete, Disqualify, Edit];
        let mut refused = 0;
        for from in LeadStatus::ALL {
            for action in actions {
                let (starts, _) = action.rule();
                let r = transition(from, action);
                if starts.contains(&from) {
                    assert!(r.is_ok());
                } else {
                    refused += 1;
                    let m = r.unwrap_err();
                    assert!(m.contains(&format!("the lead is {}", from.as_str())), "{m}");
                }
            }
        }
        // 9 statuses × 7 actions, less the 5 + 3 × 6 allowed moves above.
        assert_eq!(refused, 9 * 7 - 5 - 18);
        assert!(
            transition(PendingConversionApproval, RequestConversion).unwrap_err().contains("already been requested")
        );
        assert!(transition(ConversionApproved, ApproveConversion).unwrap_err().contains("already approved"));
        assert!(transition(Converted, Delete).unwrap_err().contains("CONVERTED is final"));
        assert!(transition(Submitted, Convert).unwrap_err().contains("only when it is CONVERSION_APPROVED"));
        for s in [Converted, Deleted, Disqualified] {
            assert!(s.is_final());
            for a in actions {
                assert!(transition(s, a).is_err(), "{s:?} {a:?}");
            }
        }
    }

    #[test]
    fn aggregate_filters_are_the_documented_sets() {
        assert_eq!(LeadStatusFilter::PendingForManagers.statuses(), [Submitted, PendingConversionApproval]);
        assert_eq!(
            LeadStatusFilter::AcceptedForManagers.statuses(),
            [Assigned, ConversionApproved, Converted, Deleted, Disqualified, Legacy]
        );
        for s in LeadStatus::ALL {
            assert_eq!(LeadStatusFilter::parse(s.as_str()).unwrap().statuses(), [s]);
        }
    }

    #[test]
    fn discarding_deletes_or_disqualifies() {
        assert_eq!(discard_action(LeadType::Manual, true, false), Delete);
        assert_eq!(discard_action(LeadType::Manual, true, true), Disqualify);
        assert_eq!(discard_action(LeadType::Manual, false, false), Disqualify);
        assert_eq!(discard_action(LeadType::Company, true, false), Disqualify);
        assert_eq!(discard_action(LeadType::Product, false, false), Disqualify);
    }

    #[test]
    fn visibility_follows_the_document() {
        let lead = |t, owner, assignee| LeadParties {
            lead_type: t,
            owner_company_id: owner,
            assignee_company_id: assignee,
            status: Assigned,
        };
        let reseller = Viewer { company_id: "r1", manager: false };
        let manager = Viewer { company_id: "m", manager: true };
        // Manual: the creator, and an assignee while assigned.
        assert!(visible(lead(LeadType::Manual, Some("r1"), None), reseller));
        assert!(!visible(lead(LeadType::Manual, Some("x"), None), reseller));
        assert!(!visible(lead(LeadType::Manual, Some("x"), None), manager));
        for s in BEFORE_MANAGERS {
            let requested = LeadParties { status: s, ..lead(LeadType::Manual, Some("x"), Some("y")) };
            assert!(visible(requested, manager), "{s:?}: the managers approve it");
            assert!(!visible(requested, reseller));
        }
        assert!(visible(lead(LeadType::Manual, Some("x"), Some("r1")), reseller));
        assert!(visible(lead(LeadType::Manual, Some("r1"), Some("r2")), reseller), "the owner always");
        // Company profile: its owner and managers.
        assert!(visible(lead(LeadType::Company, Some("r1"), None), reseller));
        assert!(visible(lead(LeadType::Company, Some("x"), None), manager));
        assert!(!visible(lead(LeadType::Company, Some("x"), None), reseller));
        // Product profile: managers.
        assert!(visible(lead(LeadType::Product, None, None), manager));
        assert!(!visible(lead(LeadType::Product, None, None), reseller));
    }

    #[test]
    fn customers_are_checked_and_trimmed() {
        let mut e = ValidationErrors::new();
        let c = Customer {
            company: CustomerCompany {
                name: Some("  Acme ".into()),
                country: Some("USA".into()),
                ..Default::default()
            },
            contact: CustomerContact { email: Some("nope".into()), ..Default::default() },
        }
        .validated(&mut e);
        assert_eq!(c.company.name.as_deref(), Some("Acme"));
        assert!(e.fields().contains_key("customer.company.country"));
        assert!(e.fields().contains_key("customer.contact.email"));
        let mut e = ValidationErrors::new();
        Customer::default().validated(&mut e);
        assert!(e.fields().contains_key("customer.company.name"));
        let ok = Customer {
            company: CustomerCompany { name: Some("Acme".into()), ..Default::default() },
            contact: CustomerContact {
                email: Some("John@Acme.com".into()),
                first_name: Some("John".into()),
                ..Default::default()
            },
        };
        assert_eq!(ok.search_text(), "acme john john@acme.com");
        assert_eq!(ActivityVerb::of_status(Converted), Some(ActivityVerb::Converted));
    }
}
