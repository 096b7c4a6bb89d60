//! White-label branding of a customer account: the rules of each field.
//!
//! - `logo_url`: an absolute `https` URL with a host, no user or password, at most
//!   [`MAX_URL_CHARS`] characters.
//! - `primary_color` / `secondary_color`: `#rgb` or `#rrggbb` hexadecimal, stored in lower case
//!   (the short form stays short).
//! - `custom_domain`: an ASCII host name of at least two labels (`app.partner.com`), each label
//!   1–63 letters, digits or hyphens, not starting or ending with a hyphen, at most 253
//!   characters, a top-level label that is not all digits (so no IPv4 address), no port, path,
//!   scheme or trailing dot; stored in lower case. Internationalised names are given in their
//!   `xn--` form (no IDNA conversion is made).

use crate::validation::echo;

/// Colours a branding has until the partner sets its own.
pub const DEFAULT_PRIMARY_COLOR: &str = "#2563eb";
pub const DEFAULT_SECONDARY_COLOR: &str = "#64748b";

pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_DOMAIN_CHARS: usize = 253;

/// A customer's branding, every field valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub logo_url: Option<String>,
    pub primary_color: String,
    pub secondary_color: String,
    pub custom_domain: Option<String>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            logo_url: None,
            primary_color: DEFAULT_PRIMARY_COLOR.into(),
            secondary_color: DEFAULT_SECONDARY_COLOR.into(),
            custom_domain: None,
        }
    }
}

impl Branding {
    /// The names of the fields that differ from `other`, in declaration order.
    pub fn changed_fields(&self, other: &Branding) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.logo_url != other.logo_url {
            out.push("logo_url");
        }
        if self.primary_color != other.primary_color {
            out.push("primary_color");
        }
        if self.secondary_color != other.secondary_color {
            out.push("secondary_color");
        }
        if self.custom_domain != other.custom_domain {
            out.push("custom_domain");
        }
        out
    }
}

/// A logo's address: `https`, a host, no credentials.
pub fn logo_url(raw: &str) -> Result<String, String> {
    https_url(raw)
}

/// An absolute `https` URL with a host and no credentials, at most [`MAX_URL_CHARS`].
pub fn https_url(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let url = url::Url::parse(t).map_err(|_| format!("must be an absolute https URL (got '{}')", echo(t)))?;
    if url.scheme() != "https" {
        return Err(format!("must use https (got '{}')", echo(url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must have a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    Ok(t.to_owned())
}

/// `#rgb` or `#rrggbb`, in lower case.
pub fn color(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let hex = t.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(format!("must be a hex colour #rgb or #rrggbb (got '{}')", echo(t)))
    }
}

/// A host name a customer's app is served at, in lower case.
pub fn custom_domain(raw: &str) -> Result<String, String> {
    let t = raw.trim().to_ascii_lowercase();
    let refuse = |why: &str| Err(format!("must be a host name such as app.partner.com: {why} (got '{}')", echo(&t)));
    if t.is_empty() {
        return refuse("it is empty");
    }
    if t.contains("://") || t.contains('/') {
        return refuse("give the host alone, without scheme or path");
    }
    if t.contains(':') || t.starts_with('[') {
        return refuse("no port or IPv6 address");
    }
    if !t.is_ascii() {
        return refuse("use the xn-- (punycode) form of an internationalised name");
    }
    if t.len() > MAX_DOMAIN_CHARS {
        return refuse("at most 253 characters");
    }
    if t.ends_with('.') {
        return refuse("no trailing dot");
    }
    let labels: Vec<&str> = t.split('.').collect();
    if labels.len() < 2 {
        return refuse("it needs at least two labels");
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return refuse("each label is 1–63 characters");
        }
        if !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return refuse("labels hold only letters, digits and hyphens");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return refuse("a label cannot start or end with a hyphen");
        }
    }
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return refuse("an IP address is not a host name");
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logo_urls_are_https_with_a_host() {
        assert_eq!(logo_url(" https://partner.com/logo.png ").unwrap(), "https://partner.com/logo.png");
        assert!(logo_url("https://cdn.partner.com:8443/a/b.svg?v=2").is_ok());
        for bad in [
            "http://partner.com/logo.png",
            "ftp://x.com/l",
            "partner.com/logo.png",
            "https://",
            "",
            "https://u:p@x.com/l",
        ] {
            assert!(logo_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://x.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(logo_url(&long).unwrap_err().contains("at most"));
    }

    #[test]
    fn colors_are_short_or_long_hex_in_lower_case() {
        assert_eq!(color("#007BFF").unwrap(), "#007bff");
        assert_eq!(color("#FfF").unwrap(), "#fff");
        for bad in ["007bff", "#007bf", "#007bffa", "#ggg", "#", "", "red", "#12345", "##123"] {
            assert!(color(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn custom_domains_are_host_names() {
        assert_eq!(custom_domain("App.Partner.COM").unwrap(), "app.partner.com");
        assert_eq!(custom_domain("xn--bcher-kva.example").unwrap(), "xn--bcher-kva.example");
        assert!(custom_domain("a-b.c1.io").is_ok());
        for bad in [
            "localhost",
            "192.168.1.10",
            "10.0.0.1",
            "[::1]",
            "app.partner.com:8080",
            "app.partner.com/path",
            "https://app.partner.com",
            "app..partner.com",
            ".partner.com",
            "app.partner.com.",
            "-app.partner.com",
            "app-.partner.com",
            "app_x.partner.com",
            "bücher.example",
            "",
            "a b.com",
        ] {
            assert!(custom_domain(bad).is_err(), "{bad}");
        }
        let label = "a".repeat(64);
        assert!(custom_domain(&format!("{label}.com")).is_err());
        let long = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        assert!(long.len() > MAX_DOMAIN_CHARS && custom_domain(&long).is_err());
    }

    #[test]
    fn changed_fields_are_named() {
        let a = Branding::default();
        let b = Branding { primary_color: "#000".into(), custom_domain: Some("a.b.c".into()), ..a.clone() };
        assert_eq!(b.changed_fields(&a), ["primary_color", "custom_domain"]);
        assert!(a.changed_fields(&a).is_empty());
    }
}
