//! Configuration: flags, then environment variables, then the config file, then defaults.
//!
//! ```toml
//! listen = "0.0.0.0:8080"
//! database_url = "postgres://partnerd@db/partnerd"
//! redis_url = "redis://127.0.0.1:6379/"
//! operator_plan = "enterprise"
//!
//! [hourly_tiers]          # the reseller document's hourly limits
//! standard = 5000
//!
//! [plans.starter]         # redefine a plan, or add one
//! requests_per_minute = 60
//! requests_per_day = 1000
//! hourly_tier = "standard"   # or requests_per_hour = N
//!
//! header_timeout = "10s"      # slow clients (top-level keys, before any [table])
//! body_timeout = "30s"
//! idle_timeout = "60s"
//! max_connections = 10000
//! log_format = "json"         # or "text" (the default)
//! sandbox_expiry_days = 7     # a sandbox's expiry when its request names none (1–30)
//!
//! secret_key_file = "/etc/partnerd/secret.key"   # or: secret_keys = ["base64…", "base64…"]
//! [billing]               # customer accounts' price list and partners' commissions
//! currency = "USD"
//! invoice_prefix = "INV-"
//! invoice_due_days = 30
//! [billing.plans.starter] # redefine a customer plan, or add one (prices: "49.00" or 49)
//! monthly = "49.00"
//! annual = "490.00"
//! [billing.commission_rates]  # default rate per partner plan
//! business = "0.15"
//! ```

use crate::http::HttpLimits;
use partnerd_domain::rate_limit::Limits;
use partnerd_services::PlanCatalog;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://partnerd.db";
/// The longest `billing.invoice_due_days`: a year.
pub const MAX_DUE_DAYS: u32 = 365;
/// The highest customer plan price in cents (one million in the price list's currency), far
/// below the store's 10^14-cent bound on one amount.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    /// The URL users reach the dashboard at, e.g. `https://partners.example.com`.
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub operator_plan: Option<String>,
    pub allow_private_webhooks: Option<bool>,
    /// Delays before each delivery attempt, e.g. `["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"]`.
    pub webhook_retry_schedule: Option<Vec<String>>,
    /// How long a client may take over a request's headers, e.g. `"10s"`.
    pub header_timeout: Option<String>,
    /// How long a client may take over a request's body once its headers arrived.
    pub body_timeout: Option<String>,
    /// How long a kept-alive connection may sit between requests.
    pub idle_timeout: Option<String>,
    /// Client connections served at once.
    pub max_connections: Option<usize>,
    /// `text` (the default) or `json`.
    pub log_format: Option<String>,
    /// Keys encrypting webhook secrets at rest, base64 of 32 bytes each; the first encrypts.
    pub secret_keys: Option<Vec<String>>,
    /// A file of such keys, one per line (`#` comments), the first encrypting.
    pub secret_key_file: Option<String>,
    /// Days until a sandbox expires when `POST /sandbox` names none: 1–30, 7 by default.
    pub sandbox_expiry_days: Option<u32>,
    #[serde(default)]
    pub hourly_tiers: BTreeMap<String, u64>,
    #[serde(default)]
    pub plans: BTreeMap<String, PlanConfig>,
    pub billing: Option<BillingConfig>,
}

/// `[billing]`: what `FileConfig::billing_settings` merges over the defaults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    pub currency: Option<String>,
    pub invoice_prefix: Option<String>,
    pub invoice_due_days: Option<u32>,
    #[serde(default)]
    pub plans: BTreeMap<String, CustomerPlanConfig>,
    #[serde(default)]
    pub commission_rates: BTreeMap<String, Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPlanConfig {
    pub monthly: Decimal,
    pub annual: Decimal,
}

/// A price or rate as written in the file: a string (`"49.90"`, exact), an integer, or a
/// float (read through its shortest decimal form, so `0.15` is exactly 0.15).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Decimal {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Decimal {
    fn text(&self) -> String {
        match self {
            Decimal::Int(n) => n.to_string(),
            Decimal::Float(f) => f.to_string(),
            Decimal::Text(t) => t.clone(),
        }
    }
}

/// Connection limits given as flags or environment variables.
#[derive(Debug, Default, Clone)]
pub struct HttpSettings {
    pub header_timeout: Option<String>,
    pub body_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub max_connections: Option<usize>,
}

/// `PARTNERD_SECRET_KEYS` (comma-separated, the first encrypting) and `PARTNERD_SECRET_KEY`.
#[derive(Debug, Default, Clone)]
pub struct SecretKeyEnv {
    pub keys: Option<String>,
    pub key: Option<String>,
}

impl SecretKeyEnv {
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self { keys: var("PARTNERD_SECRET_KEYS"), key: var("PARTNERD_SECRET_KEY") }
    }
}

/// Where an SQLite database's generated key lives: beside the database file.
pub fn generated_key_path(database_url: &str) -> Option<std::path::PathBuf> {
    let db = partnerd_store_sqlite::path_from_url(database_url)?;
    if db.as_os_str() == ":memory:" {
        return None;
    }
    let mut name = db.file_name()?.to_os_string();
    name.push(".secret-key");
    Some(db.with_file_name(name))
}

/// Reads a key file: one base64 key per line; blank lines and `#` comments are skipped.
fn read_key_file(path: &Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read secret key file {}: {e}", path.display()))?;
    let keys: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    if keys.is_empty() {
        return Err(format!("secret key file {} holds no key", path.display()));
    }
    Ok(keys)
}

/// Creates the key file with a new key, readable by its owner only; `false` if it exists.
fn create_key_file(path: &Path) -> Result<bool, String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(format!("cannot create secret key file {}: {e}", path.display())),
    };
    let text = format!(
        "# partnerd: the key encrypting webhook secrets in the database beside this file. Back it\n\
         # up with the database: without it the stored secrets cannot be read.\n{}\n",
        partnerd_services::secrets::generate_key()
    );
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write secret key file {}: {e}", path.display()))?;
    Ok(true)
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub requests_per_minute: Option<u64>,
    pub requests_per_day: Option<u64>,
    pub requests_per_hour: Option<u64>,
    pub hourly_tier: Option<String>,
}

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For people: one line per event, `key=value` fields.
    #[default]
    Text,
    /// For log pipelines: one JSON object per line (`timestamp`, `level`, `fields` with
    /// `message` and the event's fields, e.g. `request_id`).
    Json,
}

impl LogFormat {
    /// `overrides` (flag, environment) first, then the file's `log_format`.
    pub fn choose(overrides: Option<&str>, file: Option<&str>) -> Result<LogFormat, String> {
        match overrides.or(file) {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("log format must be 'text' or 'json', not '{other}'")),
        }
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))
    }

    pub fn webhook_schedule(&self) -> Result<Vec<chrono::Duration>, String> {
        match &self.webhook_retry_schedule {
            None => Ok(partnerd_domain::webhooks::default_schedule()),
            Some(list) if list.is_empty() => Err("webhook_retry_schedule must have at least one entry".into()),
            Some(list) => list.iter().map(|s| partnerd_domain::webhooks::parse_duration(s)).collect(),
        }
    }

    /// The connection limits: `overrides` (flags, environment) first, then this file, then the
    /// defaults.
    pub fn http_limits(&self, overrides: &HttpSettings) -> Result<HttpLimits, String> {
        let defaults = HttpLimits::default();
        let timeout =
            |name: &str, over: &Option<String>, file: &Option<String>, default| match over.as_ref().or(file.as_ref()) {
                None => Ok(default),
                Some(text) => partnerd_domain::webhooks::parse_duration(text)
                    .ok()
                    .filter(|d| *d > chrono::Duration::zero())
                    .and_then(|d| d.to_std().ok())
                    .ok_or_else(|| format!("{name} must be a positive duration such as 10s or 500ms, not '{text}'")),
            };
        let max_connections = overrides.max_connections.or(self.max_connections).unwrap_or(defaults.max_connections);
        if max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        Ok(HttpLimits {
            header_timeout: timeout(
                "header_timeout",
                &overrides.header_timeout,
                &self.header_timeout,
                defaults.header_timeout,
            )?,
            body_timeout: timeout("body_timeout", &overrides.body_timeout, &self.body_timeout, defaults.body_timeout)?,
            idle_timeout: timeout("idle_timeout", &overrides.idle_timeout, &self.idle_timeout, defaults.idle_timeout)?,
            max_connections,
        })
    }

    /// The keys encrypting webhook secrets: `PARTNERD_SECRET_KEYS`, else `PARTNERD_SECRET_KEY`,
    /// else this file's `secret_keys`, else its `secret_key_file`. With none, an SQLite
    /// database gets a key generated beside it on first start (`<database>.secret-key`, mode
    /// 0600); PostgreSQL refuses to start: its processes must share keys given to them.
    pub fn secret_keys(
        &self,
        database_url: &str,
        env: &SecretKeyEnv,
    ) -> Result<partnerd_services::secrets::SecretKeys, String> {
        let split = |text: &str| text.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect();
        let (keys, source): (Vec<String>, String) = if let Some(list) = &env.keys {
            (split(list), "PARTNERD_SECRET_KEYS".into())
        } else if let Some(key) = &env.key {
            (vec![key.trim().to_owned()], "PARTNERD_SECRET_KEY".into())
        } else if let Some(list) = &self.secret_keys {
            (list.clone(), "secret_keys in the config".into())
        } else if let Some(path) = &self.secret_key_file {
            (read_key_file(Path::new(path))?, format!("secret key file {path}"))
        } else if let Some(path) = generated_key_path(database_url) {
            if create_key_file(&path)? {
                tracing::info!(path = %path.display(), "generated the key encrypting webhook secrets; back it up with the database");
            }
            (read_key_file(&path)?, format!("secret key file {}", path.display()))
        } else if database_url.starts_with("sqlite:") {
            // An in-memory database lives as long as the process: so may its key.
            return Ok(partnerd_services::secrets::SecretKeys::for_this_process());
        } else {
            return Err("PostgreSQL deployments need a key to encrypt webhook secrets: set PARTNERD_SECRET_KEY \
                 (base64 of 32 random bytes, e.g. from `openssl rand -base64 32`) or secret_key_file in the config, \
                 the same for every process sharing the database"
                .into());
        };
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        partnerd_services::secrets::SecretKeys::from_base64(&refs).map_err(|e| format!("{source}: {e}"))
    }

    /// The sandbox settings: `sandbox_expiry_days` over the default.
    pub fn sandbox_settings(&self) -> Result<partnerd_services::sandboxes::SandboxSettings, String> {
        match self.sandbox_expiry_days {
            None => Ok(Default::default()),
            Some(days) => {
                partnerd_services::sandboxes::SandboxSettings::new(days).map_err(|e| format!("sandbox_expiry_days {e}"))
            }
        }
    }

    /// The default price list, commission rates and invoice numbering, with `[billing]`'s
    /// changes and additions, checked at startup so a mistake names its key:
    /// `invoice_due_days` 0–[`MAX_DUE_DAYS`]; prices from 0 to [`MAX_PRICE_CENTS`] cents with at
    /// most two decimals; `commission_rates` keys must be partner plans of `partner_plans`
    /// (the `[plans]` catalog) and rates decimals from 0 to 1 (0–100 %).
    pub fn billing_settings(
        &self,
        partner_plans: &PlanCatalog,
    ) -> Result<partnerd_services::billing::BillingSettings, String> {
        use partnerd_domain::billing::{PlanPrice, Rate};
        let mut settings = partnerd_services::billing::BillingSettings::default();
        let Some(b) = &self.billing else { return Ok(settings) };
        if let Some(c) = &b.currency {
            if c.len() != 3 || !c.bytes().all(|x| x.is_ascii_uppercase()) {
                return Err(format!("billing.currency must be an ISO-4217 code such as USD, not '{c}'"));
            }
            settings.prices.currency = c.clone();
        }
        if let Some(p) = &b.invoice_prefix {
            if p.chars().count() > 20 || p.chars().any(char::is_control) {
                return Err("billing.invoice_prefix must be at most 20 printable characters".into());
            }
            settings.invoice_prefix = p.clone();
        }
        if let Some(d) = b.invoice_due_days {
            if d > MAX_DUE_DAYS {
                return Err(format!("billing.invoice_due_days must be from 0 to {MAX_DUE_DAYS}, not {d}"));
            }
            settings.due_days = d;
        }
        let cents = |what: String, d: &Decimal| {
            partnerd_domain::money::AmountInput::text(d.text())
                .cents()
                .ok()
                .filter(|c| (0..=MAX_PRICE_CENTS).contains(c))
                .ok_or_else(|| {
                    format!(
                        "{what} must be an amount from 0 to {} with at most two decimals, such as \"49.00\", not '{}'",
                        MAX_PRICE_CENTS / 100,
                        d.text()
                    )
                })
        };
        for (name, plan) in &b.plans {
            partnerd_domain::partner::PlanName::parse(name).map_err(|e| format!("billing.plans.{name}: name {e}"))?;
            let monthly = cents(format!("billing.plans.{name}.monthly"), &plan.monthly)?;
            let annual = cents(format!("billing.plans.{name}.annual"), &plan.annual)?;
            settings.prices.plans.insert(name.clone(), PlanPrice { monthly, annual });
        }
        for (plan, rate) in &b.commission_rates {
            if partner_plans.limits(plan).is_none() {
                let names: Vec<&str> = partner_plans.names().collect();
                return Err(format!(
                    "billing.commission_rates.{plan}: '{plan}' is not a partner plan (the partner plans are {})",
                    names.join(", ")
                ));
            }
            let r = Rate::parse(&rate.text()).map_err(|e| format!("billing.commission_rates.{plan} {e}"))?;
            settings.commission_rates.insert(plan.clone(), r);
        }
        Ok(settings)
    }

    /// The documents' plans, with this file's changes and additions.
    pub fn plan_catalog(&self) -> Result<PlanCatalog, String> {
        let mut tiers = BTreeMap::from([
            ("standard".to_owned(), 5_000u64),
            ("premium".to_owned(), 10_000),
            ("enterprise".to_owned(), 25_000),
        ]);
        tiers.extend(self.hourly_tiers.clone());
        let default_plan = |m, d, tier: &str| PlanConfig {
            requests_per_minute: Some(m),
            requests_per_day: Some(d),
            requests_per_hour: None,
            hourly_tier: Some(tier.into()),
        };
        let mut plans = BTreeMap::from([
            ("starter".to_owned(), default_plan(60, 1_000, "standard")),
            ("business".to_owned(), default_plan(300, 10_000, "premium")),
            ("enterprise".to_owned(), default_plan(1_000, 100_000, "enterprise")),
        ]);
        for (name, overrides) in &self.plans {
            partnerd_domain::partner::PlanName::parse(name).map_err(|e| format!("plan '{name}': name {e}"))?;
            let merged = match plans.get(name) {
                Some(base) => PlanConfig {
                    requests_per_minute: overrides.requests_per_minute.or(base.requests_per_minute),
                    requests_per_day: overrides.requests_per_day.or(base.requests_per_day),
                    requests_per_hour: overrides.requests_per_hour,
                    hourly_tier: if overrides.requests_per_hour.is_some() {
                        None
                    } else {
                        overrides.hourly_tier.clone().or(base.hourly_tier.clone())
                    },
                },
                None => overrides.clone(),
            };
            plans.insert(name.clone(), merged);
        }
        let mut limits = BTreeMap::new();
        for (name, p) in plans {
            let per_hour = match (p.requests_per_hour, &p.hourly_tier) {
                (Some(n), _) => Some(n),
                (None, Some(tier)) => {
                    Some(*tiers.get(tier).ok_or_else(|| format!("plan '{name}': unknown hourly tier '{tier}'"))?)
                }
                (None, None) => None,
            };
            limits.insert(name, Limits { per_minute: p.requests_per_minute, per_hour, per_day: p.requests_per_day });
        }
        PlanCatalog::new(limits, self.operator_plan.clone().unwrap_or_else(|| "enterprise".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_format_comes_from_the_flag_then_the_file() {
        assert_eq!(LogFormat::choose(None, None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::choose(None, Some("json")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::choose(Some("text"), Some("json")), Ok(LogFormat::Text));
        assert!(LogFormat::choose(Some("xml"), None).unwrap_err().contains("xml"));
        let c: FileConfig = toml::from_str("log_format = 'json'").unwrap();
        assert_eq!(c.log_format.as_deref(), Some("json"));
    }

    #[test]
    fn no_file_means_the_documents_plans() {
        assert_eq!(FileConfig::default().plan_catalog().unwrap(), PlanCatalog::default());
    }

    #[test]
    fn a_file_can_change_tiers_redefine_and_add_plans() {
        let c: FileConfig = toml::from_str(
            r#"
            [hourly_tiers]
            standard = 4000
            [plans.business]
            requests_per_minute = 500
            hourly_tier = "standard"
            [plans.bench]
            requests_per_minute = 100000000
            "#,
        )
        .unwrap();
        let cat = c.plan_catalog().unwrap();
        assert_eq!(cat.limits("starter").unwrap().per_hour, Some(4_000));
        assert_eq!(
            cat.limits("business").unwrap(),
            Limits { per_minute: Some(500), per_hour: Some(4_000), per_day: Some(10_000) }
        );
        assert_eq!(
            cat.limits("bench").unwrap(),
            Limits { per_minute: Some(100_000_000), per_hour: None, per_day: None }
        );
    }

    #[test]
    fn mistakes_in_the_file_are_reported() {
        assert!(toml::from_str::<FileConfig>("lisen = 'x'").is_err());
        let c: FileConfig = toml::from_str("[plans.gold]\nhourly_tier = 'platinum'").unwrap();
        assert!(c.plan_catalog().unwrap_err().contains("platinum"));
        let c: FileConfig = toml::from_str("[plans.Gold]\nrequests_per_minute = 1").unwrap();
        assert!(c.plan_catalog().is_err());
    }

    #[test]
    fn secret_keys_come_from_the_environment_then_the_file_then_a_generated_key() {
        let (a, b) = (partnerd_services::secrets::generate_key(), partnerd_services::secrets::generate_key());
        let none = SecretKeyEnv::default();
        let pg = "postgres://db/partnerd";
        assert!(FileConfig::default().secret_keys(pg, &none).unwrap_err().contains("PARTNERD_SECRET_KEY"));
        let one = SecretKeyEnv { key: Some(a.clone()), keys: None };
        let k = FileConfig::default().secret_keys(pg, &one).unwrap();
        let both = SecretKeyEnv { keys: Some(format!("{b}, {a}")), key: Some(a.clone()) };
        let k2 = FileConfig::default().secret_keys(pg, &both).unwrap();
        assert_eq!(k2.ids(), vec![k2.current_id(), k.current_id()], "the list wins; its first key encrypts");
        let bad = SecretKeyEnv { key: Some("c2hvcnQ=".into()), keys: None };
        assert!(FileConfig::default().secret_keys(pg, &bad).unwrap_err().contains("PARTNERD_SECRET_KEY"));

        let dir = std::env::temp_dir().join(format!("partnerd-keys-{}", partnerd_domain::ids::random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("p.db").display());
        let generated = FileConfig::default().secret_keys(&url, &none).unwrap();
        let path = generated_key_path(&url).unwrap();
        assert_eq!(path, dir.join("p.db.secret-key"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(FileConfig::default().secret_keys(&url, &none).unwrap().ids(), generated.ids(), "kept");
        let file = FileConfig { secret_key_file: Some(path.display().to_string()), ..Default::default() };
        assert_eq!(file.secret_keys(pg, &none).unwrap().ids(), generated.ids());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_sandbox_expiry_comes_from_the_file_within_bounds() {
        assert_eq!(FileConfig::default().sandbox_settings().unwrap().default_expiry_days, 7);
        let c: FileConfig = toml::from_str("sandbox_expiry_days = 14").unwrap();
        assert_eq!(c.sandbox_settings().unwrap().default_expiry_days, 14);
        for bad in ["sandbox_expiry_days = 0", "sandbox_expiry_days = 31"] {
            let c: FileConfig = toml::from_str(bad).unwrap();
            assert!(c.sandbox_settings().unwrap_err().starts_with("sandbox_expiry_days must be"), "{bad}");
        }
    }

    #[test]
    fn billing_comes_from_the_file_over_the_defaults() {
        use partnerd_domain::billing::PlanPrice;
        let partner_plans = PlanCatalog::default();
        let defaults = FileConfig::default().billing_settings(&partner_plans).unwrap();
        assert_eq!(defaults, partnerd_services::billing::BillingSettings::default());
        let c: FileConfig = toml::from_str(
            r#"
            [billing]
            currency = "EUR"
            invoice_prefix = "ACME-"
            [billing.plans.professional]
            monthly = "99.90"
            annual = 999
            [billing.plans.team]
            monthly = 10
            annual = 100
            [billing.commission_rates]
            starter = 0.125
            business = "0.3"
            "#,
        )
        .unwrap();
        let b = c.billing_settings(&partner_plans).unwrap();
        assert_eq!(b.prices.currency, "EUR");
        assert_eq!(b.invoice_prefix, "ACME-");
        assert_eq!(b.prices.price("professional"), Some(PlanPrice { monthly: 9_990, annual: 99_900 }));
        assert_eq!(b.prices.price("team"), Some(PlanPrice { monthly: 1_000, annual: 10_000 }));
        assert_eq!(b.prices.price("starter"), defaults.prices.price("starter"));
        assert_eq!(b.commission_rates["starter"].bps(), 1250);
        assert_eq!(b.commission_rates["business"].bps(), 3000);
        assert_eq!(b.commission_rates["enterprise"].bps(), 2000);
        for bad in [
            "[billing]\ncurrency = 'usd'",
            "[billing.plans.x]\nmonthly = '1.234'\nannual = 1",
            "[billing.plans.x]\nmonthly = -1\nannual = 1",
            "[billing.commission_rates]\nstarter = 1.5",
        ] {
            let c: FileConfig = toml::from_str(bad).unwrap();
            assert!(c.billing_settings(&partner_plans).is_err(), "{bad}");
        }
    }

    #[test]
    fn billing_bounds_are_checked_naming_the_key() {
        let partner_plans = PlanCatalog::default();
        let err = |text: &str| {
            let c: FileConfig = toml::from_str(text).unwrap();
            c.billing_settings(&partner_plans).unwrap_err()
        };
        let ok = |text: &str| {
            let c: FileConfig = toml::from_str(text).unwrap();
            c.billing_settings(&partner_plans).unwrap()
        };
        assert_eq!(ok("[billing]\ninvoice_due_days = 0").due_days, 0);
        assert_eq!(ok("[billing]\ninvoice_due_days = 365").due_days, 365);
        assert!(err("[billing]\ninvoice_due_days = 366").contains("billing.invoice_due_days must be from 0 to 365"));
        assert!(toml::from_str::<FileConfig>("[billing]\ninvoice_due_days = -1").is_err(), "not a u32");
        let e = err("[billing.commission_rates]\nprofessional = 0.1");
        assert!(
            e.contains("billing.commission_rates.professional") && e.contains("business, enterprise, starter"),
            "{e}"
        );
        assert_eq!(
            ok("[billing.commission_rates]\nstarter = 0\nenterprise = 1").commission_rates["enterprise"].bps(),
            10_000
        );
        for (rate, why) in [("1.01", "from 0 to 1"), ("-0.1", "from 0 to 1"), ("'15%'", "from 0 to 1")] {
            let e = err(&format!("[billing.commission_rates]\nbusiness = {rate}"));
            assert!(e.contains("billing.commission_rates.business") && e.contains(why), "{rate}: {e}");
        }
        // A plan catalog from the file: its plans may have rates.
        let custom: FileConfig = toml::from_str("[plans.gold]\nrequests_per_minute = 5").unwrap();
        let with_gold = custom.plan_catalog().unwrap();
        let c: FileConfig = toml::from_str("[billing.commission_rates]\ngold = 0.3").unwrap();
        assert_eq!(c.billing_settings(&with_gold).unwrap().commission_rates["gold"].bps(), 3000);
        for (price, key) in [
            ("monthly = -0.01\nannual = 1", "billing.plans.team.monthly"),
            ("monthly = 1\nannual = '1000000.01'", "billing.plans.team.annual"),
            ("monthly = 1e300\nannual = 1", "billing.plans.team.monthly"),
            ("monthly = 'NaN'\nannual = 1", "billing.plans.team.monthly"),
        ] {
            let e = err(&format!("[billing.plans.team]\n{price}"));
            assert!(e.starts_with(key), "{price}: {e}");
        }
        assert_eq!(
            ok("[billing.plans.team]\nmonthly = 0\nannual = 1000000").prices.price("team").unwrap().annual,
            MAX_PRICE_CENTS
        );
    }

    #[test]
    fn connection_limits_come_from_flags_then_the_file_then_defaults() {
        assert_eq!(FileConfig::default().http_limits(&HttpSettings::default()).unwrap(), HttpLimits::default());
        let c: FileConfig = toml::from_str("header_timeout = '5s'\nidle_timeout = '2m'\nmax_connections = 50").unwrap();
        let flags = HttpSettings { header_timeout: Some("500ms".into()), ..Default::default() };
        let limits = c.http_limits(&flags).unwrap();
        assert_eq!(limits.header_timeout, std::time::Duration::from_millis(500));
        assert_eq!(limits.idle_timeout, std::time::Duration::from_secs(120));
        assert_eq!(limits.body_timeout, HttpLimits::default().body_timeout);
        assert_eq!(limits.max_connections, 50);
        for bad in [
            HttpSettings { body_timeout: Some("0s".into()), ..Default::default() },
            HttpSettings { idle_timeout: Some("soon".into()), ..Default::default() },
            HttpSettings { max_connections: Some(0), ..Default::default() },
        ] {
            assert!(FileConfig::default().http_limits(&bad).is_err(), "{bad:?}");
        }
    }
}
