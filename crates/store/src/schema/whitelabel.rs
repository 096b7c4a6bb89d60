//! White-label branding, customised e-mail templates and configuration deployments of
//! customer accounts (migration 0014). Each row belongs to a customer company; the services
//! check the account is the caller's before reading or writing them.

use super::customers::named;
use crate::StoreResult;
use crate::kit::Window;
use crate::kit::{Column, Dialect, Filter, Query, RowRead, Table, ToValue, Value};
use crate::{record, sql};
use chrono::{DateTime, Utc};
use partnerd_domain::deploy::DeploymentStatus;
use partnerd_domain::email_template::TemplateName;
use std::borrow::Cow;

named!(TemplateName, DeploymentStatus);

/// What `save_branding` answers when another customer of the marketplace has the custom domain.
pub const CUSTOM_DOMAIN_TAKEN: &str = "custom domain taken";

/// A customer's branding (one row per customer, once set).
#[derive(Debug, Clone, PartialEq)]
pub struct BrandingRecord {
    pub customer_id: String,
    pub marketplace_id: String,
    pub logo_url: Option<String>,
    pub primary_color: String,
    pub secondary_color: String,
    /// Unique in the marketplace.
    pub custom_domain: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

record! {
    BrandingRecord in "customer_branding" as "cb" {
        customer_id: key "customer_id",
        marketplace_id: key "marketplace_id",
        logo_url: set "logo_url",
        primary_color: set "primary_color",
        secondary_color: set "secondary_color",
        custom_domain: set "custom_domain",
        created_at: fixed "created_at",
        updated_at: set "updated_at",
    }
}

/// `$1` marketplace, `$2` customer.
pub static GET_BRANDING: Query = sql!(
    "SELECT {} FROM customer_branding cb WHERE cb.marketplace_id = $1 AND cb.customer_id = $2",
    BrandingRecord::select_list()
);

/// The record's insert values; an existing row keeps its `created_at`.
pub static UPSERT_BRANDING: Query = sql!(
    "INSERT INTO customer_branding (customer_id, marketplace_id, logo_url, primary_color, secondary_color,
                                    custom_domain, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (customer_id) DO UPDATE SET logo_url = excluded.logo_url, primary_color = excluded.primary_color,
         secondary_color = excluded.secondary_color, custom_domain = excluded.custom_domain,
         updated_at = excluded.updated_at"
);

/// A customised system e-mail of a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailTemplateRecord {
    pub customer_id: String,
    pub marketplace_id: String,
    pub name: TemplateName,
    pub subject: String,
    pub html_body: String,
    pub text_body: String,
    pub updated_at: DateTime<Utc>,
}

record! {
    EmailTemplateRecord in "customer_email_templates" as "et" {
        customer_id: key "customer_id",
        marketplace_id: key "marketplace_id",
        name: key "name",
        subject: set "subject",
        html_body: set "html_body",
        text_body: set "text_body",
        updated_at: set "updated_at",
    }
}

/// `$1` marketplace, `$2` customer: by name.
pub static LIST_TEMPLATES: Query = sql!(
    "SELECT {} FROM customer_email_templates et WHERE et.marketplace_id = $1 AND et.customer_id = $2 ORDER BY et.name",
    EmailTemplateRecord::select_list()
);

/// `$1` marketplace, `$2` customer.
pub static DELETE_TEMPLATES: Query =
    sql!("DELETE FROM customer_email_templates WHERE marketplace_id = $1 AND customer_id = $2");

/// One version of a customer's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRecord {
    pub id: String,
    pub marketplace_id: String,
    pub customer_id: String,
    /// 1, 2, 3… per customer; unique.
    pub version: i64,
    pub status: DeploymentStatus,
    /// `domain::deploy::Configuration::hash` of `configuration`.
    pub config_hash: String,
    /// `domain::deploy::Configuration`, canonical.
    pub configuration: serde_json::Value,
    /// `domain::deploy::ConfigChanges` against the previous version.
    pub changes: serde_json::Value,
    pub deployed_by: Option<String>,
    pub deployed_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
}

record! {
    DeploymentRecord in "customer_deployments" as "cd" {
        id: key "id",
        marketplace_id: key "marketplace_id",
        customer_id: fixed "customer_id",
        version: fixed "version",
        status: set "status",
        config_hash: fixed "config_hash",
        configuration: fixed "configuration",
        changes: fixed "changes",
        deployed_by: fixed "deployed_by",
        deployed_at: fixed "deployed_at",
        superseded_at: set "superseded_at",
    }
}

/// `$1` marketplace, `$2` customer.
pub static CURRENT_DEPLOYMENT: Query = sql!(
    "SELECT {} FROM customer_deployments cd
     WHERE cd.marketplace_id = $1 AND cd.customer_id = $2 AND cd.status = 'deployed'",
    DeploymentRecord::select_list()
);

/// `$1` marketplace, `$2` customer, `$3` version.
pub static GET_DEPLOYMENT: Query = sql!(
    "SELECT {} FROM customer_deployments cd WHERE cd.marketplace_id = $1 AND cd.customer_id = $2 AND cd.version = $3",
    DeploymentRecord::select_list()
);

/// `$1` marketplace, `$2` customer, `$3` the current version, `$4` now: 1 row, or 0 when
/// that version is no longer current.
pub static SUPERSEDE: Query = sql!(
    "UPDATE customer_deployments SET status = 'superseded', superseded_at = $4
     WHERE marketplace_id = $1 AND customer_id = $2 AND version = $3 AND status = 'deployed'"
);

/// `(count SQL, page SQL, filter)`: newest version first.
pub fn list_deployments(
    dialect: Dialect,
    marketplace_id: &str,
    customer_id: &str,
    window: &Window,
    limit: u32,
) -> StoreResult<(String, String, Filter)> {
    let text = |s: &str| Value::Text(Cow::Owned(s.to_owned()));
    let mut f = Filter::new(dialect);
    f.eq("cd.marketplace_id", text(marketplace_id)).eq("cd.customer_id", text(customer_id));
    let count = format!("SELECT COUNT(*) FROM customer_deployments cd{}", f.conditions());
    f.order_by(&[], "cd.version DESC, cd.id DESC").window(limit, window)?;
    let page = format!(
        "SELECT {}{} FROM customer_deployments cd{}",
        DeploymentRecord::select_list(),
        f.key_select(),
        f.clause()
    );
    Ok((count, page, f))
}
