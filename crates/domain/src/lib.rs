//! partnerd's domain: plain types, validation newtypes and rules, free of I/O.
//!
//! Everything here is a function over values, so each rule is unit-tested without a database or
//! HTTP. Services call these rules; stores persist their results.

pub mod account;
pub mod analytics;
pub mod api_key;
pub mod billing;
pub mod branding;
pub mod catalog;
pub mod clock;
pub mod cosell;
pub mod customer;
pub mod dates;
pub mod deploy;
pub mod email_template;
pub mod events;
pub mod ids;
pub mod invoice;
pub mod ip;
pub mod lead;
pub mod listing;
pub mod metrics;
pub mod money;
pub mod partner;
pub mod payment_method;
pub mod quote;
pub mod rate_limit;
pub mod sandbox;
pub mod seo;
pub mod str_enum;
pub mod subscription;
pub mod ticket;
pub mod usage;
pub mod validation;
pub mod webhooks;

pub use clock::{Clock, ManualClock, SystemClock};
pub use validation::ValidationErrors;
