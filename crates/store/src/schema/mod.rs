//! Each aggregate's record declarations and the SQL both dialects accept, written once. SQL
//! that only one dialect can say (PostgreSQL's `FOR UPDATE SKIP LOCKED` claim, SQLite's
//! `INDEXED BY`, id generation in fan-out) stays in that backend.

pub mod accounts;
pub mod analytics;
pub mod billing;
pub mod cosell;
pub mod customers;
pub mod idempotency;
pub mod leads;
pub mod listings;
pub mod partners;
pub mod payment_methods;
pub mod quotes;
pub mod sandbox;
pub mod subscriptions;
pub mod tickets;
pub mod usage;
pub mod users;
pub mod webhooks;
pub mod whitelabel;
