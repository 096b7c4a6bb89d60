//! AppReseller accounts: the document's enumerations for companies and users. Where the
//! document names an enumeration without listing it (company sizes), the values are partnerd's
//! and the OpenAPI description says so.

crate::str_enum! {
    /// `AppResellerAccountCompanySize` (not listed by the document: partnerd's values).
    pub enum CompanySize { Small = "SMALL", Medium = "MEDIUM", Large = "LARGE", Enterprise = "ENTERPRISE" }
}

crate::str_enum! {
    /// `AppResellerAccountCompanyAccessCode`: what a company is to the marketplace.
    pub enum AccessCode {
        Reseller = "RESELLER",
        Referral = "REFERRAL",
        Customer = "CUSTOMER",
        Developer = "DEVELOPER",
        Marketplace = "MARKETPLACE",
        SalesSupportRepresentative = "SALES_SUPPORT_REPRESENTATIVE",
        EnterpriseCustomer = "ENTERPRISE_CUSTOMER",
    }
}

crate::str_enum! {
    /// `AppResellerAccountTaxExemptionCode`.
    pub enum TaxExemption {
        FederalGovernmentUs = "FEDERAL_GOVERNMENT_US",
        StateGovernmentUs = "STATE_GOVERNMENT_US",
        TribeIndian = "TRIBE_INDIAN",
        ForeignDiplomat = "FOREIGN_DIPLOMAT",
        CharitableOrg = "CHARITABLE_ORG",
        ReligiousOrg = "RELIGIOUS_ORG",
        Resale = "RESALE",
        CommercialAgricultural = "COMMERCIAL_AGRICULTURAL",
        IndustrialProduction = "INDUSTRIAL_PRODUCTION",
        DirectMailUs = "DIRECT_MAIL_US",
        DirectPayPermitUs = "DIRECT_PAY_PERMIT_US",
        Other = "OTHER",
        LocalGovernmentUs = "LOCAL_GOVERNMENT_US",
        CommercialAquaculture = "COMMERCIAL_AQUACULTURE",
        CommercialFishery = "COMMERCIAL_FISHERY",
        NonResidentCan = "NON_RESIDENT_CAN",
        MedicalDeviceWithExemptSalesTaxUs = "MEDICAL_DEVICE_WITH_EXEMPT_SALES_TAX_US",
        MedicalDeviceWithTaxableSalesTaxUs = "MEDICAL_DEVICE_WITH_TAXABLE_SALES_TAX_US",
    }
}

crate::str_enum! {
    /// `AppResellerAccountCompanyAction`: what the caller may do on a company.
    pub enum CompanyAction {
        EnableOnDevicesSalesAutomation = "ENABLE_ON_DEVICES_SALES_AUTOMATION",
        DisableOnDevicesSalesAutomation = "DISABLE_ON_DEVICES_SALES_AUTOMATION",
        VerifyEmailDomain = "VERIFY_EMAIL_DOMAIN",
        UnverifyEmailDomain = "UNVERIFY_EMAIL_DOMAIN",
        EnableCompany = "ENABLE_COMPANY",
        DisableCompany = "DISABLE_COMPANY",
        LinkResellerToCustomer = "LINK_RESELLER_TO_CUSTOMER",
        LinkCustomerToReseller = "LINK_CUSTOMER_TO_RESELLER",
        InviteUsers = "INVITE_USERS",
        ManageProductCatalog = "MANAGE_PRODUCT_CATALOG",
        LeaveCompany = "LEAVE_COMPANY",
        JoinCompany = "JOIN_COMPANY",
        ManageCustomAttributes = "MANAGE_CUSTOM_ATTRIBUTES",
        MosiDomainsManagement = "MOSI_DOMAINS_MANAGEMENT",
    }
}

/// A company or user field that is free text: trimmed, at most `max` characters, no control
/// characters; empty means absent.
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(t) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(Some(t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_spellings_parse() {
        assert_eq!(CompanySize::parse("SMALL"), Ok(CompanySize::Small));
        assert!(CompanySize::parse("small").is_err());
        assert_eq!(TaxExemption::ALL.len(), 18);
        assert_eq!(AccessCode::parse("ENTERPRISE_CUSTOMER"), Ok(AccessCode::EnterpriseCustomer));
    }

    #[test]
    fn optional_text_is_trimmed_and_bounded() {
        assert_eq!(optional_text(Some("  a b "), 10), Ok(Some("a b".into())));
        assert_eq!(optional_text(Some("   "), 10), Ok(None));
        assert_eq!(optional_text(None, 10), Ok(None));
        assert!(optional_text(Some("abcdef"), 5).is_err());
        assert!(optional_text(Some("a\u{7}"), 5).is_err());
    }
}
