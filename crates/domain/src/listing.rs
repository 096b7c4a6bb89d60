//! Marketplace listings: their content, the values each field accepts, and partial updates.

use crate::ValidationErrors;
use crate::events::{Change, ListingChanges};

crate::str_enum! {
    pub enum ListingStatus {
        Active = "active",
        Draft = "draft",
        Archived = "archived",
    }
}

pub const PRICING_MODELS: &[&str] = &["free", "subscription", "usage_based", "contract", "byol", "one_time"];
pub const MARKETPLACES: &[&str] = &["aws", "azure", "gcp"];

use crate::str_enum::one_of;

/// Everything about a listing that partners write and scoring reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListingContent {
    pub title: String,
    pub short_description: String,
    pub long_description: String,
    pub highlights: Vec<String>,
    pub categories: Vec<String>,
    pub keywords: Vec<String>,
    pub images: Vec<String>,
    pub logo_url: Option<String>,
    pub pricing_model: String,
    pub marketplace: String,
    pub product_id: Option<String>,
}

/// A partial change: `None` leaves a field as it is; for the nullable fields `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListingPatch {
    pub title: Option<String>,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub highlights: Option<Vec<String>>,
    pub categories: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub images: Option<Vec<String>>,
    pub logo_url: Option<Option<String>>,
    pub pricing_model: Option<String>,
    pub marketplace: Option<String>,
    pub product_id: Option<Option<String>>,
    pub status: Option<ListingStatus>,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_SHORT: usize = 500;
pub const MAX_LONG: usize = 20_000;
const MAX_ITEMS: usize = 20;
const MAX_ITEM_LEN: usize = 300;
const MAX_URL: usize = 2_000;

fn text(errors: &mut ValidationErrors, field: &str, value: &str, max: usize, required: bool) -> String {
    let t = value.trim();
    if required && t.is_empty() {
        errors.add(field, "is required");
    } else if t.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.add(field, "must not contain control characters");
    }
    t.to_owned()
}

fn list(errors: &mut ValidationErrors, field: &str, values: &[String], max_len: usize) -> Vec<String> {
    if values.len() > MAX_ITEMS {
        errors.add(field, format!("must have at most {MAX_ITEMS} items"));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let t = v.trim();
        if t.is_empty() {
            errors.add(&format!("{field}[{i}]"), "must not be empty");
        } else if t.chars().count() > max_len {
            errors.add(&format!("{field}[{i}]"), format!("must be at most {max_len} characters"));
        } else if t.chars().any(char::is_control) {
            errors.add(&format!("{field}[{i}]"), "must not contain control characters");
        }
        out.push(t.to_owned());
    }
    out
}

fn url(errors: &mut ValidationErrors, field: &str, value: &str) -> String {
    let t = value.trim();
    let scheme_ok = t.starts_with("https://") || t.starts_with("http://");
    let host_ok = t.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok || !host_ok || t.len() > MAX_URL || t.chars().any(char::is_whitespace) {
        errors.add(field, "must be an http(s) URL");
    }
    t.to_owned()
}

impl ListingPatch {
    /// Applies the patch to `base`, validating every field it sets; all problems are reported.
    pub fn apply(&self, base: &ListingContent) -> Result<ListingContent, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut c = base.clone();
        if let Some(v) = &self.title {
            c.title = text(&mut e, "title", v, MAX_TITLE, true);
        }
        if let Some(v) = &self.short_description {
            c.short_description = text(&mut e, "short_description", v, MAX_SHORT, false);
        }
        if let Some(v) = &self.long_description {
            // Keep the author's line breaks; trim only the ends.
            c.long_description = text(&mut e, "long_description", v, MAX_LONG, false);
        }
        if let Some(v) = &self.highlights {
            c.highlights = list(&mut e, "highlights", v, MAX_ITEM_LEN);
        }
        if let Some(v) = &self.categories {
            c.categories = list(&mut e, "categories", v, 100);
        }
        if let Some(v) = &self.keywords {
            let mut seen = Vec::new();
            for k in list(&mut e, "keywords", v, 50) {
                if !seen.iter().any(|s: &String| s.eq_ignore_ascii_case(&k)) {
                    seen.push(k);
                }
            }
            c.keywords = seen;
        }
        if let Some(v) = &self.images {
            if v.len() > MAX_ITEMS {
                e.add("images", format!("must have at most {MAX_ITEMS} items"));
            }
            c.images = v.iter().enumerate().map(|(i, u)| url(&mut e, &format!("images[{i}]"), u)).collect();
        }
        if let Some(v) = &self.logo_url {
            c.logo_url = v.as_deref().map(|u| url(&mut e, "logo_url", u));
        }
        if let Some(v) = &self.pricing_model {
            if !PRICING_MODELS.contains(&v.as_str()) {
                e.add("pricing_model", one_of(v, PRICING_MODELS));
            }
            c.pricing_model = v.clone();
        }
        if let Some(v) = &self.marketplace {
            if !MARKETPLACES.contains(&v.as_str()) {
                e.add("marketplace", one_of(v, MARKETPLACES));
            }
            c.marketplace = v.clone();
        }
        if let Some(v) = &self.product_id {
            c.product_id = v.as_deref().map(|p| text(&mut e, "product_id", p, 100, true));
        }
        e.into_result().map(|()| c)
    }
}

/// What changed between two versions, as the `listing.updated` payload's `changes`.
pub fn changes(
    old: &ListingContent,
    new: &ListingContent,
    old_status: ListingStatus,
    new_status: ListingStatus,
) -> ListingChanges {
    let c = |a: &String, b: &String| Change::between(a.clone(), b.clone());
    let l = |a: &Vec<String>, b: &Vec<String>| Change::between(a.clone(), b.clone());
    let o = |a: &Option<String>, b: &Option<String>| Change::between(a.clone(), b.clone());
    ListingChanges {
        title: c(&old.title, &new.title),
        short_description: c(&old.short_description, &new.short_description),
        long_description: c(&old.long_description, &new.long_description),
        highlights: l(&old.highlights, &new.highlights),
        categories: l(&old.categories, &new.categories),
        keywords: l(&old.keywords, &new.keywords),
        images: l(&old.images, &new.images),
        logo_url: o(&old.logo_url, &new.logo_url),
        pricing_model: c(&old.pricing_model, &new.pricing_model),
        marketplace: c(&old.marketplace, &new.marketplace),
        product_id: o(&old.product_id, &new.product_id),
        status: Change::between(old_status, new_status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ListingContent {
        ListingContent {
            title: "Old".into(),
            pricing_model: "subscription".into(),
            marketplace: "aws".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_trims() {
        let p = ListingPatch {
            title: Some("  New title ".into()),
            keywords: Some(vec!["SIEM".into(), "siem".into(), "soc".into()]),
            ..Default::default()
        };
        let c = p.apply(&base()).unwrap();
        assert_eq!(c.title, "New title");
        assert_eq!(c.keywords, vec!["SIEM", "soc"], "keywords are de-duplicated case-insensitively");
        assert_eq!(c.pricing_model, "subscription");
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let p = ListingPatch {
            title: Some("   ".into()),
            highlights: Some(vec!["ok".into(), "".into()]),
            images: Some(vec!["ftp://x".into()]),
            logo_url: Some(Some("https://".into())),
            pricing_model: Some("barter".into()),
            marketplace: Some("ebay".into()),
            short_description: Some("x".repeat(MAX_SHORT + 1)),
            ..Default::default()
        };
        let e = p.apply(&base()).unwrap_err();
        let fields: Vec<&str> = e.fields().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            vec![
                "highlights[1]",
                "images[0]",
                "logo_url",
                "marketplace",
                "pricing_model",
                "short_description",
                "title"
            ]
        );
        assert!(e.fields()["pricing_model"][0].contains("subscription"));
    }

    #[test]
    fn nullable_fields_can_be_cleared() {
        let mut b = base();
        b.logo_url = Some("https://x.io/l.png".into());
        let c = ListingPatch { logo_url: Some(None), ..Default::default() }.apply(&b).unwrap();
        assert_eq!(c.logo_url, None);
    }

    #[test]
    fn changes_name_old_and_new_values() {
        let mut new = base();
        new.title = "New".into();
        let ch = changes(&base(), &new, ListingStatus::Draft, ListingStatus::Active);
        assert_eq!(
            crate::events::to_stored(&ch),
            serde_json::json!({
                "title": { "old": "Old", "new": "New" },
                "status": { "old": "draft", "new": "active" },
            })
        );
        assert!(changes(&base(), &base(), ListingStatus::Draft, ListingStatus::Draft).is_empty());
    }
}
